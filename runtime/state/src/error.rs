//! Errors of the authenticated state.

use crate::kv::StoreError;

/// Why a state operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The underlying store failed or holds a damaged record.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The write of a submitted version failed (`StateDb::submit_commit`): the version is not committed, and
    /// the state goes back to the version before it.
    #[error("the write of state version {version} failed: {source}")]
    PendingWriteFailed {
        /// The submitted version.
        version: u64,
        /// Why its write failed.
        source: StoreError,
    },
    /// The version was pruned.
    #[error("state version {version} was pruned; the oldest readable version is {oldest}")]
    VersionPruned {
        /// Version asked for.
        version: u64,
        /// Oldest version still readable.
        oldest: u64,
    },
    /// The version is newer than the latest committed one, or nothing is committed yet.
    #[error("state version {version} is not committed (latest: {latest:?})")]
    VersionUnknown {
        /// Version asked for.
        version: u64,
        /// Latest committed version, if any.
        latest: Option<u64>,
    },
    /// A commit for a version other than the next one.
    #[error("cannot commit state version {got}: the next version is {expected}")]
    NonSequentialVersion {
        /// The version that must come next.
        expected: u64,
        /// The version given.
        got: u64,
    },
    /// A prepared commit was finished against a state that has moved on since it was prepared.
    #[error("prepared commit of version {0} no longer applies to this state")]
    StalePreparedCommit(u64),
    /// A key longer than [`MAX_KEY_LEN`](crate::MAX_KEY_LEN).
    #[error("state key of {len} bytes exceeds the maximum of {max}")]
    KeyTooLarge {
        /// Key length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A value longer than [`MAX_VALUE_LEN`](crate::MAX_VALUE_LEN).
    #[error("state value of {len} bytes exceeds the maximum of {max}")]
    ValueTooLarge {
        /// Value length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A prefix scan of a version other than the latest (the key index covers the latest version only).
    #[error("prefix scans read the latest state version {latest:?}, not version {version}")]
    ScanNotLatest {
        /// Version asked for.
        version: u64,
        /// Latest committed version.
        latest: Option<u64>,
    },
    /// More distinct keys changed in one version than [`MAX_OVERLAY_ENTRIES`](crate::MAX_OVERLAY_ENTRIES).
    #[error("a version may change at most {0} keys")]
    OverlayFull(usize),
}
