//! Bounds and policy knobs of the pool. Every bound is a named constant used as the default.

/// Default most transactions held (pending + queued), over all senders.
pub const DEFAULT_MAX_TXS: usize = 200_000;
/// Default most encoded bytes held (pending + queued), over all senders: 256 MiB.
pub const DEFAULT_MAX_BYTES: usize = 256 * 1024 * 1024;
/// Default most transactions held per sender (pending + queued).
pub const DEFAULT_MAX_PER_SENDER: usize = 64;
/// Default most queued (nonce-gap) transactions per sender.
pub const DEFAULT_MAX_FUTURE_PER_SENDER: usize = 16;
/// Default most queued (nonce-gap) transactions over all senders.
pub const DEFAULT_MAX_FUTURE_TOTAL: usize = 20_000;
/// Default largest accepted distance between a queued nonce and the sender's next expected nonce.
pub const DEFAULT_MAX_NONCE_GAP: u64 = 64;
/// Default TTL in blocks: a transaction pooled for this many committed blocks is evicted.
pub const DEFAULT_TTL_BLOCKS: u64 = 600;
/// Default TTL in block time (ms): a transaction pooled for this long (by committed block time) is evicted.
pub const DEFAULT_TTL_MS: u64 = 10 * 60 * 1000;
/// Default minimum `max_fee` increase, in percent of the pooled transaction's `max_fee`, for a replacement.
pub const DEFAULT_REPLACEMENT_BUMP_PERCENT: u128 = 10;
/// Most distinct assets one transaction may debit (fee asset included); more is `too_many_debit_assets`.
pub const MAX_DEBIT_ASSETS_PER_TX: usize = 16;
/// Most senders whose tail transactions one admission may evict to make room.
pub const MAX_EVICTION_SENDERS: usize = 8;
/// Most drop notifications buffered until [`crate::Mempool::take_dropped`] drains them; older ones are discarded.
pub const DROP_LOG_CAPACITY: usize = 65_536;

/// Bounds and policy of a pool. [`PoolConfig::default`] uses the `DEFAULT_*` constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most transactions held (pending + queued).
    pub max_txs: usize,
    /// Most encoded bytes held (pending + queued).
    pub max_bytes: usize,
    /// Most transactions per sender (pending + queued).
    pub max_per_sender: usize,
    /// Most queued transactions per sender.
    pub max_future_per_sender: usize,
    /// Most queued transactions overall.
    pub max_future_total: usize,
    /// Largest nonce gap accepted into the future queue.
    pub max_nonce_gap: u64,
    /// TTL in committed blocks (0 disables).
    pub ttl_blocks: u64,
    /// TTL in committed block time, ms (0 disables).
    pub ttl_ms: u64,
    /// Minimum `max_fee` bump for a replacement, in percent.
    pub replacement_bump_percent: u128,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_txs: DEFAULT_MAX_TXS,
            max_bytes: DEFAULT_MAX_BYTES,
            max_per_sender: DEFAULT_MAX_PER_SENDER,
            max_future_per_sender: DEFAULT_MAX_FUTURE_PER_SENDER,
            max_future_total: DEFAULT_MAX_FUTURE_TOTAL,
            max_nonce_gap: DEFAULT_MAX_NONCE_GAP,
            ttl_blocks: DEFAULT_TTL_BLOCKS,
            ttl_ms: DEFAULT_TTL_MS,
            replacement_bump_percent: DEFAULT_REPLACEMENT_BUMP_PERCENT,
        }
    }
}
