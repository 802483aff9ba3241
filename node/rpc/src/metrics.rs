//! The node's Prometheus metrics: one registry the node updates and `GET /metrics` renders.
//!
//! The node creates one [`Metrics`] (cheap to clone: every clone shares the same registry), hands it to its
//! [`crate::NodeApi`] implementation, and updates it as it runs. Rates (blocks/s, tx/s) are derived by
//! Prometheus from the counters (`rate(purse_blocks_committed_total[1m])`). The RPC adds its own request and
//! WebSocket counters to the same registry.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// Prefix of every metric name.
pub const METRICS_PREFIX: &str = "purse";

/// Content type of `GET /metrics` (OpenMetrics text, which Prometheus scrapes natively).
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Labels of the RPC request counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    /// Route template, e.g. `/tx/{id}` (`unmatched` for unknown paths).
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// HTTP status code.
    pub status: u16,
}

struct Inner {
    registry: Registry,
    height: Gauge,
    round: Gauge,
    peers: Gauge,
    mempool_size: Gauge,
    blocks_committed: Counter,
    txs_committed: Counter,
    commit_latency: Histogram,
    execution_time: Histogram,
    sync_target_height: Gauge,
    sync_progress: Gauge<f64, AtomicU64>,
    rpc_requests: Family<RequestLabels, Counter>,
    ws_connections: Gauge,
    ws_lagged: Counter,
}

/// The node's metrics. See the module docs.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Metrics {
    /// A registry with every metric of issue 6 registered under the `purse_` prefix.
    pub fn new() -> Metrics {
        Metrics::with_extra(|_| {})
    }

    /// As [`Metrics::new`], letting the node register further metrics (e.g. libp2p's) in the same registry.
    /// Names registered by `extra` also get the `purse_` prefix.
    pub fn with_extra(extra: impl FnOnce(&mut Registry)) -> Metrics {
        let mut registry = Registry::with_prefix(METRICS_PREFIX);
        let height = Gauge::default();
        let round = Gauge::default();
        let peers = Gauge::default();
        let mempool_size = Gauge::default();
        let blocks_committed = Counter::default();
        let txs_committed = Counter::default();
        // 1 ms … ~16 s.
        let commit_latency = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        // 0.1 ms … ~1.6 s.
        let execution_time = Histogram::new(exponential_buckets(0.0001, 2.0, 15));
        let sync_target_height = Gauge::default();
        let sync_progress = Gauge::<f64, AtomicU64>::default();
        let rpc_requests = Family::<RequestLabels, Counter>::default();
        let ws_connections = Gauge::default();
        let ws_lagged = Counter::default();

        registry.register("height", "Last committed block height", height.clone());
        registry.register("consensus_round", "Current consensus round", round.clone());
        registry.register("peers", "Connected peers", peers.clone());
        registry.register("mempool_size", "Transactions in the mempool", mempool_size.clone());
        registry.register("blocks_committed", "Blocks committed", blocks_committed.clone());
        registry.register("txs_committed", "Transactions committed", txs_committed.clone());
        registry.register(
            "commit_latency_seconds",
            "Time from a height's first proposal to its commit",
            commit_latency.clone(),
        );
        registry.register(
            "block_execution_seconds",
            "Time to execute a block's transactions",
            execution_time.clone(),
        );
        registry.register(
            "sync_target_height",
            "Height block sync is catching up to (0 when not syncing)",
            sync_target_height.clone(),
        );
        registry.register(
            "sync_progress_ratio",
            "Block sync progress, 0 to 1 (1 when not syncing)",
            sync_progress.clone(),
        );
        registry.register("rpc_requests", "RPC requests by route, method and status", rpc_requests.clone());
        registry.register("rpc_ws_connections", "Open WebSocket connections", ws_connections.clone());
        registry.register(
            "rpc_ws_lagged_disconnects",
            "WebSocket clients disconnected for lagging",
            ws_lagged.clone(),
        );
        extra(&mut registry);
        sync_progress.set(1.0);
        Metrics {
            inner: Arc::new(Inner {
                registry,
                height,
                round,
                peers,
                mempool_size,
                blocks_committed,
                txs_committed,
                commit_latency,
                execution_time,
                sync_target_height,
                sync_progress,
                rpc_requests,
                ws_connections,
                ws_lagged,
            }),
        }
    }

    /// Sets the last committed height.
    pub fn set_height(&self, height: u64) {
        self.inner.height.set(to_i64(height));
    }

    /// Sets the current consensus round.
    pub fn set_round(&self, round: u32) {
        self.inner.round.set(i64::from(round));
    }

    /// Sets the number of connected peers.
    pub fn set_peers(&self, peers: usize) {
        self.inner.peers.set(to_i64(peers as u64));
    }

    /// Sets the number of transactions in the mempool.
    pub fn set_mempool_size(&self, size: usize) {
        self.inner.mempool_size.set(to_i64(size as u64));
    }

    /// Records one committed block: sets the height, counts the block and its transactions, and observes the
    /// commit latency and execution time.
    pub fn record_commit(
        &self,
        height: u64,
        tx_count: u64,
        commit_latency: Duration,
        execution_time: Duration,
    ) {
        self.set_height(height);
        self.inner.blocks_committed.inc();
        self.inner.txs_committed.inc_by(tx_count);
        self.inner.commit_latency.observe(commit_latency.as_secs_f64());
        self.inner.execution_time.observe(execution_time.as_secs_f64());
    }

    /// Records block-sync progress: `current` committed height towards `target`. A `target` at or below
    /// `current` means caught up (target 0, progress 1).
    pub fn set_sync_progress(&self, current: u64, target: u64) {
        if target <= current {
            self.inner.sync_target_height.set(0);
            self.inner.sync_progress.set(1.0);
        } else {
            self.inner.sync_target_height.set(to_i64(target));
            self.inner.sync_progress.set(current as f64 / target as f64);
        }
    }

    /// Counts one RPC request (called by the server).
    pub fn record_request(&self, route: &str, method: &str, status: u16) {
        self.inner
            .rpc_requests
            .get_or_create(&RequestLabels { route: route.to_string(), method: method.to_string(), status })
            .inc();
    }

    /// A WebSocket connection opened (+1) or closed (−1) (called by the server).
    pub fn ws_connection_delta(&self, delta: i64) {
        self.inner.ws_connections.inc_by(delta);
    }

    /// Counts a WebSocket client disconnected for lagging (called by the server).
    pub fn record_ws_lagged(&self) {
        self.inner.ws_lagged.inc();
    }

    /// The registry rendered in OpenMetrics text format (ends with `# EOF`).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.inner.registry)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_every_metric() {
        let m = Metrics::new();
        m.set_height(7);
        m.record_commit(8, 3, Duration::from_millis(400), Duration::from_millis(20));
        m.set_sync_progress(50, 100);
        m.record_request("/status", "GET", 200);
        let text = m.encode().unwrap();
        for needle in [
            "purse_height 8",
            "purse_blocks_committed_total 1",
            "purse_txs_committed_total 3",
            "purse_commit_latency_seconds_count 1",
            "purse_block_execution_seconds_bucket",
            "purse_sync_target_height 100",
            "purse_sync_progress_ratio 0.5",
            "purse_rpc_requests_total{route=\"/status\",method=\"GET\",status=\"200\"} 1",
            "purse_peers 0",
            "purse_mempool_size 0",
            "purse_consensus_round 0",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
