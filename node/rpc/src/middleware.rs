//! Cross-cutting layers: request deadline, body buffering, request metrics, JSON error bodies for errors produced outside the
//! handlers (unknown path, wrong method, body limit, panics), and the panic handler.

use crate::errors::{codes, ApiError, ErrorBody, ErrorDetail, ErrorKind};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Fails requests that take longer than the configured deadline with `408 timeout`.
pub(crate) async fn deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.config.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::new(
            ErrorKind::Timeout,
            codes::TIMEOUT,
            format!("the request did not finish within {} ms", limit.as_millis()),
        )
        .into_response(),
    }
}

/// Reads the whole request body (at most `max_body_bytes`: `413 body_too_large` above it) before the request
/// takes one of the `max_concurrent_requests` slots. A client uploading slowly then waits outside them, for
/// at most the request deadline (which runs outside this layer), instead of holding a slot the whole time:
/// requests without a body (reads) are served meanwhile.
///
/// A request with a body holds an upload permit from the start of its upload until it is answered, and there
/// are `max_concurrent_requests` of them: as before, at most that many bodies are held in memory at once.
pub(crate) async fn buffer_body(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if axum::body::HttpBody::size_hint(req.body()).exact() == Some(0) {
        return next.run(req).await;
    }
    let Ok(_permit) = state.upload_permits.clone().acquire_owned().await else {
        return ApiError::new(ErrorKind::Unavailable, codes::UNAVAILABLE, "the server is shutting down")
            .into_response();
    };
    let limit = state.config.max_body_bytes;
    let (parts, body) = req.into_parts();
    match http_body_util::BodyExt::collect(http_body_util::Limited::new(body, limit)).await {
        Ok(collected) => next.run(Request::from_parts(parts, Body::from(collected.to_bytes()))).await,
        Err(e) if e.is::<http_body_util::LengthLimitError>() => ApiError::new(
            ErrorKind::PayloadTooLarge,
            codes::BODY_TOO_LARGE,
            format!("request body exceeds the limit of {limit} bytes"),
        )
        .into_response(),
        Err(e) => ApiError::bad_request(codes::BAD_REQUEST, format!("cannot read the request body: {e}"))
            .into_response(),
    }
}

/// Counts the request in `purse_rpc_requests_total{route,method,status}`.
pub(crate) async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let method = method_label(req.method());
    let resp = next.run(req).await;
    state.api.metrics().record_request(
        route.as_deref().unwrap_or("unmatched"),
        method,
        resp.status().as_u16(),
    );
    resp
}

/// The `method` label of a request: one of the standard methods, else `other`. A client chooses the method
/// token freely (any length), and every distinct label set stays in the registry for the process's life.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    const KNOWN: [(Method, &str); 7] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::PATCH, "PATCH"),
    ];
    KNOWN.iter().find(|(m, _)| m == method).map_or("other", |(_, label)| label)
}

fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => codes::NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED => codes::METHOD_NOT_ALLOWED,
        StatusCode::REQUEST_TIMEOUT => codes::TIMEOUT,
        StatusCode::PAYLOAD_TOO_LARGE => codes::BODY_TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => codes::UNSUPPORTED_MEDIA_TYPE,
        StatusCode::TOO_MANY_REQUESTS => codes::TOO_MANY_REQUESTS,
        StatusCode::SERVICE_UNAVAILABLE => codes::UNAVAILABLE,
        s if s.is_server_error() => codes::INTERNAL,
        _ => codes::BAD_REQUEST,
    }
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Gives every 4xx/5xx response the JSON error body, keeping status and headers (e.g. `Allow` on 405).
pub(crate) async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&resp) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 1024)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && !status.is_server_error());
    let message = text.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_ascii_lowercase());
    let body = ErrorBody { error: ErrorDetail { code: code_for(status).into(), message } };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(bytes))
}

/// The router's fallback: `404 not_found` for unknown paths.
pub(crate) async fn not_found(req: Request) -> Response {
    ApiError::not_found(codes::NOT_FOUND, format!("no route for {} {}", req.method(), req.uri().path()))
        .into_response()
}

/// Turns a panic in a handler into `500 internal` without leaking the panic message.
pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("an RPC handler panicked");
    ApiError::internal("internal error").into_response()
}

#[cfg(test)]
mod tests {
    use super::method_label;
    use axum::http::Method;

    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::POST), "POST");
        let odd = Method::from_bytes("A".repeat(10_000).as_bytes()).unwrap();
        assert_eq!(method_label(&odd), "other");
        assert_eq!(method_label(&Method::from_bytes(b"PURGE").unwrap()), "other");
    }
}
