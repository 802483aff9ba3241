//! Errors of the node's storage.

use purse_state::{StateError, StoreError};
use purse_types::Hash;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The key-value store failed or holds a damaged record.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The authenticated state failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The store belongs to another chain.
    #[error("store belongs to chain {found:?}, not {expected:?}")]
    WrongChain {
        /// Chain id this node runs.
        expected: String,
        /// Chain id recorded in the store.
        found: String,
    },
    /// The store was written by a newer version of the software.
    #[error("store format version {found} is newer than the supported version {supported}")]
    NewerFormat {
        /// Format version recorded in the store.
        found: u32,
        /// Newest format this build reads.
        supported: u32,
    },
    /// The store was written in an older format this build cannot read.
    #[error(
        "store format version {found} is older than the supported version {supported} and has no migration"
    )]
    OlderFormat {
        /// Format version recorded in the store.
        found: u32,
        /// Format this build reads.
        supported: u32,
    },
    /// The store holds data but no format record.
    #[error("store holds data but no format record: not a Purse store, or its metadata was lost")]
    MissingFormatRecord,
    /// A chain id that is empty or too long.
    #[error("chain id must be 1 to {max} bytes, got {len}")]
    BadChainId {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A commit was found half-applied: the backend tore an atomic batch.
    #[error("the commit of height {height} was torn (only part of its atomic batch is on disk); restore from a snapshot")]
    TornCommit {
        /// Height of the torn commit.
        height: u64,
    },
    /// The head record and the state disagree.
    #[error("store is inconsistent: {0}")]
    Inconsistent(String),
    /// A block for a height other than the next one.
    #[error("cannot commit height {got}: the next height is {expected}")]
    NonSequentialHeight {
        /// The height that must come next.
        expected: u64,
        /// The height given.
        got: u64,
    },
    /// The block's claimed state root differs from the root of its state changes.
    #[error("block claims state root {claimed} but its state changes give {computed}")]
    StateRootMismatch {
        /// Root claimed by the bundle.
        claimed: Hash,
        /// Root computed from the state changes.
        computed: Hash,
    },
    /// A block carries more transactions than [`MAX_TXS_PER_BLOCK`](crate::MAX_TXS_PER_BLOCK).
    #[error("block has {0} transactions, more than the maximum of {max}", max = crate::MAX_TXS_PER_BLOCK)]
    TooManyTransactions(usize),
    /// A snapshot file could not be read or written.
    #[error("snapshot I/O error: {0}")]
    SnapshotIo(#[from] std::io::Error),
    /// A snapshot file is malformed or damaged.
    #[error("invalid snapshot: {0}")]
    SnapshotInvalid(String),
    /// A snapshot's state does not have the expected root.
    #[error("snapshot state root {found} does not match the expected root {expected}")]
    SnapshotRootMismatch {
        /// Root the caller trusts (from a block header).
        expected: Hash,
        /// Root of the snapshot's state.
        found: Hash,
    },
    /// A snapshot can only be imported into an empty store.
    #[error("snapshots are imported into an empty store only")]
    NotEmpty,
}
