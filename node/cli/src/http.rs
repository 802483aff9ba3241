//! A tiny blocking HTTP/1.1 client for `purse status` and the acceptance tests: one request per connection,
//! plain `http://` only, bounded response size.

use anyhow::{anyhow, bail, Context, Result};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Largest response read.
pub const MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;
/// Default connect/read/write timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Header lines (`name: value`), names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body (de-chunked).
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).with_context(|| format!("response is not JSON: {}", self.text()))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// `host:port` of a base URL such as `http://127.0.0.1:26657` (a bare `host:port` is accepted too).
pub fn authority(base: &str) -> Result<String> {
    let rest = match base.strip_prefix("http://") {
        Some(r) => r,
        None if base.contains("://") => bail!("only http:// URLs are supported: {base}"),
        None => base,
    };
    let auth = rest.split('/').next().unwrap_or_default();
    if auth.is_empty() {
        bail!("no host in {base:?}");
    }
    Ok(if auth.contains(':') { auth.to_string() } else { format!("{auth}:80") })
}

/// Sends one request and reads the whole response.
pub fn request(
    base: &str,
    method: &str,
    path: &str,
    body: Option<(&str, &[u8])>,
    timeout: Duration,
) -> Result<Response> {
    request_with_headers(base, method, path, body, &[], timeout)
}

/// [`request`] with extra headers (names and values without line breaks).
pub fn request_with_headers(
    base: &str,
    method: &str,
    path: &str,
    body: Option<(&str, &[u8])>,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Result<Response> {
    if headers.iter().any(|(n, v)| [n, v].iter().any(|s| s.contains(['\r', '\n']))) {
        return Err(anyhow!("a header name or value contains a line break"));
    }
    let auth = authority(base)?;
    let addr = auth
        .to_socket_addrs()
        .with_context(|| format!("resolving {auth}"))?
        .next()
        .ok_or_else(|| anyhow!("{auth} resolves to no address"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).with_context(|| format!("connecting to {auth}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {auth}\r\nConnection: close\r\nAccept: */*\r\n");
    if let Some((ct, b)) = body {
        req.push_str(&format!("Content-Type: {ct}\r\nContent-Length: {}\r\n", b.len()));
    }
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    if let Some((_, b)) = body {
        stream.write_all(b)?;
    }
    let mut raw = Vec::new();
    stream.take(MAX_RESPONSE_BYTES).read_to_end(&mut raw).with_context(|| format!("reading from {auth}"))?;
    parse(&raw)
}

/// `GET` with the default timeout.
pub fn get(base: &str, path: &str) -> Result<Response> {
    request(base, "GET", path, None, DEFAULT_TIMEOUT)
}

/// `POST` of a JSON body with the default timeout.
pub fn post_json(base: &str, path: &str, body: &serde_json::Value) -> Result<Response> {
    let bytes = serde_json::to_vec(body)?;
    request(base, "POST", path, Some(("application/json", &bytes)), DEFAULT_TIMEOUT)
}

fn parse(raw: &[u8]) -> Result<Response> {
    let split =
        raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| anyhow!("truncated HTTP response"))?;
    let head = std::str::from_utf8(&raw[..split]).context("HTTP header is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| anyhow!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(Response { status, headers, body })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = data.windows(2).position(|w| w == b"\r\n").ok_or_else(|| anyhow!("bad chunk"))?;
        let size_text =
            std::str::from_utf8(&data[..end])?.split(';').next().unwrap_or_default().trim().to_string();
        let size =
            usize::from_str_radix(&size_text, 16).with_context(|| format!("bad chunk size {size_text:?}"))?;
        data = &data[end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            bail!("truncated chunk");
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked() {
        let r = parse(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert_eq!(r.body, b"{}");
        let r = parse(
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.body, b"abcde");
        assert!(parse(b"garbage").is_err());
    }

    #[test]
    fn authorities() {
        assert_eq!(authority("http://127.0.0.1:26657").unwrap(), "127.0.0.1:26657");
        assert_eq!(authority("http://localhost/x").unwrap(), "localhost:80");
        assert_eq!(authority("127.0.0.1:1").unwrap(), "127.0.0.1:1");
        assert!(authority("https://x").is_err());
    }
}
