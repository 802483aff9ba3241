//! `GET /metrics` parses as Prometheus text format and carries the node's metrics.

use crate::common::*;
use std::time::Duration;

/// A strict line check of the text exposition format: comments are HELP/TYPE/UNIT/EOF, samples are
/// `name{labels} value` with a valid metric name and a float value, and every sample belongs to a TYPE'd family.
fn check_exposition(text: &str) {
    let mut families: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let kind = parts.next().unwrap();
            match kind {
                "EOF" => continue,
                "HELP" | "UNIT" => {}
                "TYPE" => {
                    let name = parts.next().unwrap().to_string();
                    let t = parts.next().unwrap().to_string();
                    assert!(
                        ["counter", "gauge", "histogram", "info", "summary"].contains(&t.as_str()),
                        "{line}"
                    );
                    families.push((name, t));
                }
                _ => panic!("unexpected comment {line}"),
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                && !name.starts_with(|c: char| c.is_ascii_digit()),
            "bad metric name in {line}"
        );
        if series.contains('{') {
            assert!(series.ends_with('}'), "{line}");
        }
        assert!(
            value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
            "bad value in {line}"
        );
        assert!(
            families.iter().any(|(f, _)| name == f
                || name
                    .strip_prefix(f.as_str())
                    .is_some_and(
                        |s| ["_total", "_bucket", "_sum", "_count", "_created", "_info"].contains(&s)
                    )),
            "sample {name} has no TYPE line"
        );
    }
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text() {
    let s = start_default().await;
    let m = purse_rpc::NodeApi::metrics(s.node.as_ref()).clone();
    m.set_peers(3);
    m.set_round(2);
    m.set_mempool_size(17);
    m.record_commit(5, 40, Duration::from_millis(800), Duration::from_millis(30));
    m.set_sync_progress(5, 10);
    // Make the RPC count a request first.
    reqwest::get(s.url("/health")).await.unwrap();

    let resp = reqwest::get(s.url("/metrics")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    let text = resp.text().await.unwrap();
    check_exposition(&text);

    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let value = |name: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name)
            .map(|s| s.value.clone())
            .unwrap_or_else(|| panic!("no sample {name}"))
    };
    use prometheus_parse::Value as V;
    assert!(matches!(value("purse_height"), V::Gauge(v) | V::Untyped(v) if v == 5.0));
    assert!(matches!(value("purse_peers"), V::Gauge(v) | V::Untyped(v) if v == 3.0));
    assert!(matches!(value("purse_consensus_round"), V::Gauge(v) | V::Untyped(v) if v == 2.0));
    assert!(matches!(value("purse_mempool_size"), V::Gauge(v) | V::Untyped(v) if v == 17.0));
    assert!(matches!(value("purse_txs_committed_total"), V::Counter(v) | V::Untyped(v) if v == 40.0));
    assert!(matches!(value("purse_blocks_committed_total"), V::Counter(v) | V::Untyped(v) if v == 1.0));
    assert!(matches!(value("purse_sync_progress_ratio"), V::Gauge(v) | V::Untyped(v) if v == 0.5));
    assert!(matches!(value("purse_commit_latency_seconds"), V::Histogram(_)));
    assert!(matches!(value("purse_block_execution_seconds"), V::Histogram(_)));
    let health = scrape
        .samples
        .iter()
        .find(|s| s.metric == "purse_rpc_requests_total" && s.labels.get("route") == Some("/health"))
        .expect("the RPC counts its requests");
    assert_eq!(health.labels.get("status"), Some("200"));
}
