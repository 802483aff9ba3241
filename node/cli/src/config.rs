//! The node's configuration file (`<home>/config.toml`): every option has a default and a doc comment, and
//! `purse init` writes the file with those comments so operators read the documentation where they edit.
//!
//! Relative paths are relative to the home directory.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Name of the configuration file in the home directory.
pub const CONFIG_FILE: &str = "config.toml";
/// Default genesis file (relative to the home directory).
pub const DEFAULT_GENESIS_FILE: &str = "genesis.json";
/// Default validator key file (relative to the home directory).
pub const DEFAULT_KEY_FILE: &str = "keys/validator.key";
/// Default data directory (relative to the home directory).
pub const DEFAULT_DATA_DIR: &str = "data";
/// Sub-directory of the data directory holding the RocksDB database.
pub const DB_DIR: &str = "db";
/// Default directory of the contract VM's precompiled-module cache (relative to the home directory).
pub const DEFAULT_MODULE_CACHE_DIR: &str = "data/module-cache";
/// Default RPC listen address.
pub const DEFAULT_RPC_ADDR: &str = "127.0.0.1:26657";
/// Default libp2p listen address.
pub const DEFAULT_P2P_ADDR: &str = "/ip4/0.0.0.0/tcp/26656";
/// Default capacity of the broadcast channel feeding WebSocket subscribers (a slower client lags and is
/// disconnected).
pub const DEFAULT_EVENT_BUFFER: usize = 4096;
/// Default interval between block-sync status polls, ms.
pub const DEFAULT_SYNC_INTERVAL_MS: u64 = 500;
/// Default blocks asked for per block-sync request.
pub const DEFAULT_SYNC_BATCH: u64 = 64;
/// Most blocks per block-sync request this node asks for (purse-network allows 128 per request).
pub const MAX_SYNC_BATCH: u64 = 128;
/// Default time limit of one block-sync request, ms.
pub const DEFAULT_SYNC_REQUEST_TIMEOUT_MS: u64 = 5_000;
/// Default interval between state snapshots this node writes and serves, in blocks.
pub const DEFAULT_SNAPSHOT_INTERVAL: u64 = 1_000;
/// Default number of state snapshots kept on disk.
pub const DEFAULT_SNAPSHOTS_KEPT: usize = 2;
/// Most state snapshots kept on disk.
pub const MAX_SNAPSHOTS_KEPT: usize = 16;
/// Default lowest snapshot height worth a state sync (below it, block sync from genesis is as quick).
pub const DEFAULT_STATE_SYNC_MIN_HEIGHT: u64 = 1_000;
/// Default time an empty node looks for a peer's snapshot before falling back to block sync, ms.
pub const DEFAULT_STATE_SYNC_WAIT_MS: u64 = 10_000;
/// Largest configuration file read.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Log output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for log shippers).
    Json,
}

/// The whole configuration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// A human-readable name for this node (logs only).
    pub moniker: String,
    /// The genesis document.
    pub genesis_file: PathBuf,
    /// The validator key file.
    pub key_file: PathBuf,
    /// Where the database lives.
    pub data_dir: PathBuf,
    /// Logging.
    pub log: LogSection,
    /// Peer-to-peer networking.
    pub p2p: P2pSection,
    /// The HTTP/WebSocket RPC server.
    pub rpc: RpcSection,
    /// The pending-transaction validator.
    pub mempool: MempoolSection,
    /// Consensus timing and block building.
    pub consensus: ConsensusSection,
    /// The contract VM.
    pub vm: VmSection,
    /// Block sync.
    pub sync: SyncSection,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            moniker: "purse-node".into(),
            genesis_file: DEFAULT_GENESIS_FILE.into(),
            key_file: DEFAULT_KEY_FILE.into(),
            data_dir: DEFAULT_DATA_DIR.into(),
            log: LogSection::default(),
            p2p: P2pSection::default(),
            rpc: RpcSection::default(),
            mempool: MempoolSection::default(),
            consensus: ConsensusSection::default(),
            vm: VmSection::default(),
            sync: SyncSection::default(),
        }
    }
}

/// `[log]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSection {
    /// `text` or `json`.
    pub format: LogFormat,
    /// tracing env-filter directives, e.g. `info,purse_network=debug` (`PURSE_LOG` overrides it).
    pub filter: String,
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection { format: LogFormat::Text, filter: "info".into() }
    }
}

/// `[p2p]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct P2pSection {
    /// libp2p listen multiaddr.
    pub listen_addr: String,
    /// Bootstrap peers, `/ip4/…/tcp/…/p2p/<peer id>`.
    pub peers: Vec<String>,
    /// Peer ids allowed besides the genesis validators.
    pub allowed_peers: Vec<String>,
    /// Most established peer connections.
    pub max_peers: u32,
    /// Time limit of one outbound sync request, ms.
    pub request_timeout_ms: u64,
    /// Gossipsub heartbeat, ms.
    pub gossip_heartbeat_ms: u64,
    /// Capacity of the network → node event queue.
    pub event_channel_capacity: usize,
}

impl Default for P2pSection {
    fn default() -> Self {
        P2pSection {
            listen_addr: DEFAULT_P2P_ADDR.into(),
            peers: Vec::new(),
            allowed_peers: Vec::new(),
            max_peers: purse_network::config::DEFAULT_MAX_PEERS,
            request_timeout_ms: ms(purse_network::config::DEFAULT_REQUEST_TIMEOUT),
            gossip_heartbeat_ms: ms(purse_network::config::DEFAULT_GOSSIP_HEARTBEAT),
            event_channel_capacity: purse_network::config::EVENT_CHANNEL_CAPACITY,
        }
    }
}

/// `[rpc]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpcSection {
    /// Listen address, `host:port`.
    pub addr: String,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Requests handled at once.
    pub max_concurrent_requests: usize,
    /// Open TCP connections.
    pub max_connections: usize,
    /// Per-request deadline, ms.
    pub request_timeout_ms: u64,
    /// Open WebSocket connections.
    pub ws_max_connections: usize,
    /// Subscriptions per WebSocket connection.
    pub ws_max_subscriptions: usize,
    /// Events buffered for subscribers.
    pub event_buffer: usize,
    /// Grace period for open connections at shutdown, ms.
    pub shutdown_grace_ms: u64,
}

impl Default for RpcSection {
    fn default() -> Self {
        let d = purse_rpc::RpcConfig::default();
        RpcSection {
            addr: DEFAULT_RPC_ADDR.into(),
            max_body_bytes: d.max_body_bytes,
            max_concurrent_requests: d.max_concurrent_requests,
            max_connections: d.max_connections,
            request_timeout_ms: ms(d.request_timeout),
            ws_max_connections: d.ws_max_connections,
            ws_max_subscriptions: d.ws_max_subscriptions,
            event_buffer: DEFAULT_EVENT_BUFFER,
            shutdown_grace_ms: ms(d.shutdown_grace),
        }
    }
}

/// `[mempool]`: the fields of `purse_mempool::PoolConfig`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolSection {
    /// Most transactions held.
    pub max_txs: usize,
    /// Most encoded bytes held.
    pub max_bytes: usize,
    /// Most transactions per sender.
    pub max_per_sender: usize,
    /// Most queued (nonce-gap) transactions per sender.
    pub max_future_per_sender: usize,
    /// Most queued transactions overall.
    pub max_future_total: usize,
    /// Largest nonce gap queued.
    pub max_nonce_gap: u64,
    /// TTL in blocks (0 disables).
    pub ttl_blocks: u64,
    /// TTL in block time, ms (0 disables).
    pub ttl_ms: u64,
    /// Minimum `max_fee` bump of a replacement, percent.
    pub replacement_bump_percent: u64,
}

impl Default for MempoolSection {
    fn default() -> Self {
        let d = purse_mempool::PoolConfig::default();
        MempoolSection {
            max_txs: d.max_txs,
            max_bytes: d.max_bytes,
            max_per_sender: d.max_per_sender,
            max_future_per_sender: d.max_future_per_sender,
            max_future_total: d.max_future_total,
            max_nonce_gap: d.max_nonce_gap,
            ttl_blocks: d.ttl_blocks,
            ttl_ms: d.ttl_ms,
            replacement_bump_percent: u64::try_from(d.replacement_bump_percent).unwrap_or(u64::MAX),
        }
    }
}

/// `[consensus]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsensusSection {
    /// Propose timeout of round 0, ms.
    pub timeout_propose_ms: u64,
    /// Added to the propose timeout per round, ms.
    pub timeout_propose_delta_ms: u64,
    /// Prevote timeout of round 0, ms.
    pub timeout_prevote_ms: u64,
    /// Added to the prevote timeout per round, ms.
    pub timeout_prevote_delta_ms: u64,
    /// Precommit timeout of round 0, ms.
    pub timeout_precommit_ms: u64,
    /// Added to the precommit timeout per round, ms.
    pub timeout_precommit_delta_ms: u64,
    /// Pause after a commit before the next height, ms.
    pub commit_delay_ms: u64,
    /// Most transactions per proposed block.
    pub max_block_txs: usize,
    /// Most transaction bytes per proposed block.
    pub max_block_bytes: usize,
}

impl Default for ConsensusSection {
    fn default() -> Self {
        let e = purse_engine::EngineConfig::default();
        ConsensusSection {
            timeout_propose_ms: ms(e.timeouts.propose),
            timeout_propose_delta_ms: ms(e.timeouts.propose_delta),
            timeout_prevote_ms: ms(e.timeouts.prevote),
            timeout_prevote_delta_ms: ms(e.timeouts.prevote_delta),
            timeout_precommit_ms: ms(e.timeouts.precommit),
            timeout_precommit_delta_ms: ms(e.timeouts.precommit_delta),
            commit_delay_ms: ms(e.commit_delay),
            max_block_txs: e.max_block_txs,
            max_block_bytes: e.max_block_bytes,
        }
    }
}

/// `[vm]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VmSection {
    /// Precompiled-module cache directory ("" keeps modules in memory only).
    pub module_cache_dir: PathBuf,
    /// Compiled modules kept in memory.
    pub cache_memory_entries: usize,
    /// Most bytes of compiled contract code kept in memory.
    pub cache_memory_bytes: usize,
}

impl Default for VmSection {
    fn default() -> Self {
        VmSection {
            module_cache_dir: DEFAULT_MODULE_CACHE_DIR.into(),
            cache_memory_entries: purse_vm::CacheConfig::default().memory_entries,
            cache_memory_bytes: purse_vm::CacheConfig::default().memory_bytes,
        }
    }
}

/// `[sync]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncSection {
    /// Interval between status polls of peers, ms.
    pub interval_ms: u64,
    /// Blocks per request.
    pub batch_blocks: u64,
    /// Time limit of one sync request, ms.
    pub request_timeout_ms: u64,
    /// Write a state snapshot every this many blocks and serve it to peers (0: none).
    pub snapshot_interval: u64,
    /// Snapshots kept on disk (the newest).
    pub snapshots_kept: usize,
    /// A node starting with an empty store fetches a peer's snapshot instead of replaying every block.
    pub state_sync: bool,
    /// Lowest snapshot height worth a state sync.
    pub state_sync_min_height: u64,
    /// How long an empty node looks for a snapshot before falling back to block sync, ms.
    pub state_sync_wait_ms: u64,
}

impl Default for SyncSection {
    fn default() -> Self {
        SyncSection {
            interval_ms: DEFAULT_SYNC_INTERVAL_MS,
            batch_blocks: DEFAULT_SYNC_BATCH,
            request_timeout_ms: DEFAULT_SYNC_REQUEST_TIMEOUT_MS,
            snapshot_interval: DEFAULT_SNAPSHOT_INTERVAL,
            snapshots_kept: DEFAULT_SNAPSHOTS_KEPT,
            state_sync: true,
            state_sync_min_height: DEFAULT_STATE_SYNC_MIN_HEIGHT,
            state_sync_wait_ms: DEFAULT_STATE_SYNC_WAIT_MS,
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The documentation of every option, written above it in `config.toml` (`section.key`, or `key` at the top
/// level, or `[section]` for a table). A test checks every serialised option has an entry.
pub const DOCS: &[(&str, &str)] = &[
    ("moniker", "A human-readable name for this node (shown in logs)."),
    ("genesis_file", "The genesis document (JSON, see `purse genesis`). Relative paths are relative to the home directory."),
    ("key_file", "The validator key: a hex ed25519 seed, mode 0600. It is also the node's libp2p identity."),
    ("data_dir", "Where the database (RocksDB, in `db/`) lives. Back it up with `purse snapshot export`."),
    ("[log]", "Logging. The environment variable PURSE_LOG overrides `filter`."),
    ("log.format", "`text` (human-readable) or `json` (one object per line). `--log-format` overrides it."),
    ("log.filter", "tracing env-filter directives, e.g. \"info\" or \"info,purse_network=debug\"."),
    ("[p2p]", "Peer-to-peer networking (libp2p: TCP, noise, yamux, gossipsub). Only allow-listed peers may connect."),
    ("p2p.listen_addr", "libp2p listen multiaddr, e.g. \"/ip4/0.0.0.0/tcp/26656\" (`--p2p-addr` overrides it)."),
    ("p2p.peers", "Bootstrap peers, each \"/ip4/<ip>/tcp/<port>/p2p/<peer id>\"; dialled at start and redialled when lost. Each must be allow-listed."),
    ("p2p.allowed_peers", "Peer ids allowed to connect besides the genesis validators (whose peer ids are always allowed)."),
    ("p2p.max_peers", "Most established peer connections."),
    ("p2p.request_timeout_ms", "Time limit of one outbound sync request at the network layer, in milliseconds."),
    ("p2p.gossip_heartbeat_ms", "Gossipsub heartbeat (mesh maintenance), in milliseconds."),
    ("p2p.event_channel_capacity", "Capacity of the queue from the network to the node; gossip arriving when it is full is dropped and counted."),
    ("[rpc]", "The HTTP JSON API, WebSocket subscriptions and /metrics (docs/rpc.md)."),
    ("rpc.addr", "Listen address \"host:port\" (`--rpc-addr` overrides it). Keep it on localhost or behind a proxy."),
    ("rpc.max_body_bytes", "Largest request body in bytes (413 above it)."),
    ("rpc.max_concurrent_requests", "Requests handled at once; more wait."),
    ("rpc.max_connections", "Open TCP connections; the listener pauses at the limit."),
    ("rpc.request_timeout_ms", "Per-request deadline in milliseconds (408 after it)."),
    ("rpc.ws_max_connections", "Open WebSocket connections (503 above it)."),
    ("rpc.ws_max_subscriptions", "Subscriptions per WebSocket connection."),
    ("rpc.event_buffer", "Node events buffered for WebSocket subscribers; a client further behind is disconnected as lagging."),
    ("rpc.shutdown_grace_ms", "At shutdown, how long open connections may finish, in milliseconds."),
    ("[mempool]", "The pending-transaction validator's bounds (docs/mempool.md)."),
    ("mempool.max_txs", "Most transactions held (pending + queued)."),
    ("mempool.max_bytes", "Most encoded transaction bytes held."),
    ("mempool.max_per_sender", "Most transactions held per sender."),
    ("mempool.max_future_per_sender", "Most queued (nonce-gap) transactions per sender."),
    ("mempool.max_future_total", "Most queued transactions over all senders."),
    ("mempool.max_nonce_gap", "Largest distance between a queued nonce and the sender's next nonce."),
    ("mempool.ttl_blocks", "Evict a transaction pooled for this many committed blocks (0 disables)."),
    ("mempool.ttl_ms", "Evict a transaction pooled for this long in block time, milliseconds (0 disables)."),
    ("mempool.replacement_bump_percent", "Minimum max_fee increase, in percent, for a transaction replacing a pooled one with the same nonce."),
    ("[consensus]", "Consensus timing and block building. Every validator should use the same values."),
    ("consensus.timeout_propose_ms", "How long to wait for a proposal in round 0, ms."),
    ("consensus.timeout_propose_delta_ms", "Added to the propose timeout per round, ms."),
    ("consensus.timeout_prevote_ms", "How long to wait for more prevotes after seeing two thirds of any, round 0, ms."),
    ("consensus.timeout_prevote_delta_ms", "Added to the prevote timeout per round, ms."),
    ("consensus.timeout_precommit_ms", "How long to wait for more precommits after seeing two thirds of any, round 0, ms."),
    ("consensus.timeout_precommit_delta_ms", "Added to the precommit timeout per round, ms."),
    ("consensus.commit_delay_ms", "Pause after a commit before starting the next height (lets transactions accumulate), ms."),
    ("consensus.max_block_txs", "Most transactions in a block this node proposes."),
    ("consensus.max_block_bytes", "Most transaction bytes in a block this node proposes (the chain parameter may be lower)."),
    ("[vm]", "The contract VM (limits and fuel prices are consensus-critical and not configurable)."),
    ("vm.module_cache_dir", "Directory of precompiled contract modules kept across restarts (\"\" keeps them in memory only)."),
    ("vm.cache_memory_entries", "Compiled modules kept in memory."),
    ("vm.cache_memory_bytes", "Most bytes of compiled contract code kept in memory (least recently used modules are evicted first)."),
    ("[sync]", "Block sync: how a node that is behind fetches committed blocks (with their commit certificates) from peers."),
    ("sync.interval_ms", "Interval between status polls of connected peers, ms."),
    ("sync.batch_blocks", "Blocks asked for per request (at most 128)."),
    ("sync.request_timeout_ms", "Time limit of one sync request, ms."),
    ("sync.snapshot_interval", "Write a state snapshot every this many blocks into `<data_dir>/snapshots/` and serve it to peers for state sync (0: never)."),
    ("sync.snapshots_kept", "How many of the newest snapshots stay on disk (at most 16)."),
    ("sync.state_sync", "When the store is empty, fetch a peer's newest snapshot (checked against a block certified by the genesis validators) instead of replaying the chain from genesis; block sync then continues from its height."),
    ("sync.state_sync_min_height", "Lowest snapshot height worth a state sync; below it the node replays blocks from genesis."),
    ("sync.state_sync_wait_ms", "How long an empty node looks for a peer's snapshot before falling back to block sync, ms."),
];

/// The doc of `key` (see [`DOCS`]).
pub fn doc_of(key: &str) -> Option<&'static str> {
    DOCS.iter().find(|(k, _)| *k == key).map(|(_, d)| *d)
}

/// Longest comment line written.
const COMMENT_WIDTH: usize = 100;

fn push_comment(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > COMMENT_WIDTH && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

impl Config {
    /// The configuration as TOML with every option preceded by its documentation.
    pub fn to_documented_toml(&self) -> Result<String> {
        let plain = toml::to_string(self).context("serialising the configuration")?;
        let mut out = String::from(
            "# Purse node configuration. Every option is shown with its default unless changed; delete a line\n\
             # to go back to the default. Relative paths are relative to this file's directory (the home).\n\n",
        );
        let mut section = String::new();
        for line in plain.lines() {
            let t = line.trim();
            if t.starts_with('[') && t.ends_with(']') {
                section = t.trim_matches(|c| c == '[' || c == ']').to_string();
                out.push('\n');
                if let Some(doc) = doc_of(&format!("[{section}]")) {
                    push_comment(&mut out, doc);
                }
            } else if let Some((key, _)) = t.split_once('=') {
                let key = key.trim();
                let full = if section.is_empty() { key.to_string() } else { format!("{section}.{key}") };
                if let Some(doc) = doc_of(&full) {
                    push_comment(&mut out, doc);
                }
            }
            out.push_str(line);
            out.push('\n');
        }
        Ok(out)
    }

    /// Reads `<home>/config.toml`.
    pub fn load(home: &Path) -> Result<Config> {
        let path = home.join(CONFIG_FILE);
        let meta = std::fs::metadata(&path).with_context(|| {
            format!("reading {} (run `purse init --home {}`)", path.display(), home.display())
        })?;
        if meta.len() > MAX_CONFIG_BYTES {
            bail!("{} is larger than {MAX_CONFIG_BYTES} bytes", path.display());
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let config: Config = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        config.validate()?;
        Ok(config)
    }

    /// Writes `<home>/config.toml` (with documentation).
    pub fn save(&self, home: &Path) -> Result<()> {
        let path = home.join(CONFIG_FILE);
        std::fs::write(&path, self.to_documented_toml()?)
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Checks values that would otherwise fail later and less clearly.
    pub fn validate(&self) -> Result<()> {
        if self.sync.batch_blocks == 0 || self.sync.batch_blocks > MAX_SYNC_BATCH {
            bail!("sync.batch_blocks must be in 1..={MAX_SYNC_BATCH}");
        }
        if self.sync.interval_ms == 0 || self.sync.request_timeout_ms == 0 {
            bail!("sync.interval_ms and sync.request_timeout_ms must be positive");
        }
        if self.sync.snapshots_kept == 0 || self.sync.snapshots_kept > MAX_SNAPSHOTS_KEPT {
            bail!("sync.snapshots_kept must be in 1..={MAX_SNAPSHOTS_KEPT}");
        }
        if self.rpc.event_buffer == 0 {
            bail!("rpc.event_buffer must be positive");
        }
        if self.vm.cache_memory_entries == 0 || self.vm.cache_memory_bytes == 0 {
            bail!("vm.cache_memory_entries and vm.cache_memory_bytes must be positive");
        }
        Ok(())
    }

    /// `path` resolved against `home` when relative.
    pub fn resolve(home: &Path, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            home.join(path)
        }
    }

    /// The engine configuration.
    pub fn engine_config(&self, home: &Path) -> purse_engine::EngineConfig {
        let c = &self.consensus;
        let mut vm = purse_vm::VmConfig::default();
        vm.cache.memory_entries = self.vm.cache_memory_entries;
        vm.cache.memory_bytes = self.vm.cache_memory_bytes;
        vm.cache.disk_dir = if self.vm.module_cache_dir.as_os_str().is_empty() {
            None
        } else {
            Some(Config::resolve(home, &self.vm.module_cache_dir))
        };
        purse_engine::EngineConfig {
            timeouts: purse_consensus::TimeoutConfig {
                propose: Duration::from_millis(c.timeout_propose_ms),
                propose_delta: Duration::from_millis(c.timeout_propose_delta_ms),
                prevote: Duration::from_millis(c.timeout_prevote_ms),
                prevote_delta: Duration::from_millis(c.timeout_prevote_delta_ms),
                precommit: Duration::from_millis(c.timeout_precommit_ms),
                precommit_delta: Duration::from_millis(c.timeout_precommit_delta_ms),
            },
            commit_delay: Duration::from_millis(c.commit_delay_ms),
            max_block_txs: c.max_block_txs,
            max_block_bytes: c.max_block_bytes,
            pool: self.pool_config(),
            vm,
        }
    }

    /// The pending-transaction validator's configuration.
    pub fn pool_config(&self) -> purse_mempool::PoolConfig {
        let m = &self.mempool;
        purse_mempool::PoolConfig {
            max_txs: m.max_txs,
            max_bytes: m.max_bytes,
            max_per_sender: m.max_per_sender,
            max_future_per_sender: m.max_future_per_sender,
            max_future_total: m.max_future_total,
            max_nonce_gap: m.max_nonce_gap,
            ttl_blocks: m.ttl_blocks,
            ttl_ms: m.ttl_ms,
            replacement_bump_percent: u128::from(m.replacement_bump_percent),
        }
    }

    /// The RPC server's configuration.
    pub fn rpc_config(&self) -> purse_rpc::RpcConfig {
        let r = &self.rpc;
        purse_rpc::RpcConfig {
            max_body_bytes: r.max_body_bytes,
            max_concurrent_requests: r.max_concurrent_requests,
            max_connections: r.max_connections,
            request_timeout: Duration::from_millis(r.request_timeout_ms),
            ws_max_connections: r.ws_max_connections,
            ws_max_subscriptions: r.ws_max_subscriptions,
            shutdown_grace: Duration::from_millis(r.shutdown_grace_ms),
            ..purse_rpc::RpcConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_toml_round_trips_and_documents_every_option() {
        let c = Config::default();
        let text = c.to_documented_toml().unwrap();
        let back: Config = toml::from_str(&text).unwrap();
        assert_eq!(back, c);
        // Every option line is preceded by a comment, every table header too.
        let lines: Vec<&str> = text.lines().collect();
        let mut options = 0;
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            options += 1;
            assert!(i > 0 && lines[i - 1].starts_with('#'), "undocumented line {t:?}\n{text}");
        }
        assert!(options > 40, "{options} options");
        // Every documented key exists (no stale docs).
        for (k, _) in DOCS {
            let key = k.trim_matches(|c| c == '[' || c == ']');
            let last = key.rsplit('.').next().unwrap();
            assert!(text.contains(&format!("{last} =")) || text.contains(&format!("[{key}]")), "{k}");
        }
    }

    #[test]
    fn partial_file_takes_defaults_and_unknown_keys_fail() {
        let c: Config = toml::from_str("moniker = \"x\"\n[rpc]\naddr = \"127.0.0.1:1\"\n").unwrap();
        assert_eq!(c.moniker, "x");
        assert_eq!(c.rpc.addr, "127.0.0.1:1");
        assert_eq!(c.mempool, MempoolSection::default());
        assert!(toml::from_str::<Config>("bogus = 1").is_err());
        assert!(toml::from_str::<Config>("[rpc]\nbogus = 1").is_err());
    }

    #[test]
    fn validation_refuses_each_value_that_would_fail_later() {
        assert!(Config::default().validate().is_ok());
        type Spoil = fn(&mut Config);
        let cases: [(&str, Spoil); 8] = [
            ("sync.batch_blocks", |c| c.sync.batch_blocks = 0),
            ("sync.batch_blocks", |c| c.sync.batch_blocks = MAX_SYNC_BATCH + 1),
            ("sync.interval_ms", |c| c.sync.interval_ms = 0),
            ("sync.request_timeout_ms", |c| c.sync.request_timeout_ms = 0),
            ("sync.snapshots_kept", |c| c.sync.snapshots_kept = 0),
            ("rpc.event_buffer", |c| c.rpc.event_buffer = 0),
            ("vm.cache_memory_entries", |c| c.vm.cache_memory_entries = 0),
            ("vm.cache_memory_bytes", |c| c.vm.cache_memory_bytes = 0),
        ];
        for (option, spoil) in cases {
            let mut c = Config::default();
            spoil(&mut c);
            let err = c.validate().expect_err(option).to_string();
            assert!(err.contains(option), "{option}: {err}");
        }
    }

    #[test]
    fn conversions_keep_values() {
        let mut c = Config::default();
        c.consensus.timeout_propose_ms = 123;
        c.mempool.max_txs = 7;
        c.vm.module_cache_dir = PathBuf::new();
        let e = c.engine_config(Path::new("/h"));
        assert_eq!(e.timeouts.propose, Duration::from_millis(123));
        assert_eq!(e.pool.max_txs, 7);
        assert!(e.vm.cache.disk_dir.is_none());
        let d = Config::default().engine_config(Path::new("/h"));
        assert_eq!(d.vm.cache.disk_dir, Some(PathBuf::from("/h/data/module-cache")));
        assert_eq!(Config::default().pool_config(), purse_mempool::PoolConfig::default());
    }
}
