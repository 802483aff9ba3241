//! The key-value store interface the state and the node's storage are written against.

use crate::Column;

/// Largest number of entries one [`KvStore::scan`] call may return.
pub const MAX_SCAN_LIMIT: usize = 100_000;

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backend reported an I/O or internal error.
    #[error("storage backend error: {0}")]
    Backend(String),
    /// A stored record is damaged or does not decode.
    #[error("corrupt record in column {column}, key {key}: {reason}")]
    Corrupt {
        /// Column of the record.
        column: Column,
        /// Key of the record, hex-encoded.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A fault injected by [`FaultyStore`](crate::FaultyStore).
    #[error("injected fault: {0}")]
    Injected(String),
    /// A scan asked for more entries than [`MAX_SCAN_LIMIT`].
    #[error("scan limit {0} exceeds the maximum of {MAX_SCAN_LIMIT}")]
    ScanLimit(usize),
}

impl StoreError {
    /// A [`StoreError::Corrupt`] for `key` in `column`.
    pub fn corrupt(column: Column, key: &[u8], reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt { column, key: hex_key(key), reason: reason.into() }
    }
}

/// Lower-case hex of a key, for error messages.
pub fn hex_key(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// One operation of a [`WriteBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOp {
    /// Set `key` to `value` in `column`.
    Put {
        /// Target column.
        column: Column,
        /// Key.
        key: Vec<u8>,
        /// Value.
        value: Vec<u8>,
    },
    /// Remove `key` from `column` (no error if absent).
    Delete {
        /// Target column.
        column: Column,
        /// Key.
        key: Vec<u8>,
    },
}

/// Operations applied all together or not at all by [`KvStore::write`], in order (a later operation on the
/// same key wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<BatchOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }

    /// An empty batch with room for `n` operations.
    pub fn with_capacity(n: usize) -> WriteBatch {
        WriteBatch { ops: Vec::with_capacity(n) }
    }

    /// Adds a put.
    pub fn put(&mut self, column: Column, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::Put { column, key: key.into(), value: value.into() });
    }

    /// Adds a delete.
    pub fn delete(&mut self, column: Column, key: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::Delete { column, key: key.into() });
    }

    /// Appends every operation of `other`, after those already here.
    pub fn append(&mut self, other: WriteBatch) {
        self.ops.extend(other.ops);
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when there is no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The operations in order.
    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    /// Consumes the batch into its operations.
    pub fn into_ops(self) -> Vec<BatchOp> {
        self.ops
    }
}

/// A key-value entry returned by a scan.
pub type KvEntry = (Vec<u8>, Vec<u8>);

/// An ordered key-value store with columns and atomic batches.
///
/// Keys within a column are ordered bytewise. Implementations must apply a [`WriteBatch`] atomically: after a
/// crash either every operation of the batch is visible or none is.
pub trait KvStore: Send + Sync {
    /// The value of `key` in `column`.
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Applies `batch` atomically and durably.
    fn write(&self, batch: WriteBatch) -> Result<(), StoreError>;

    /// Up to `limit` entries of `column` with `start <= key` and, if `end` is given, `key < end`, in key order.
    /// `limit` must not exceed [`MAX_SCAN_LIMIT`]; page by restarting after the last key returned.
    fn scan(
        &self,
        column: Column,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KvEntry>, StoreError>;

    /// Sets one key (a one-operation batch).
    fn put(&self, column: Column, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let mut b = WriteBatch::with_capacity(1);
        b.put(column, key, value);
        self.write(b)
    }

    /// Removes one key (a one-operation batch).
    fn delete(&self, column: Column, key: &[u8]) -> Result<(), StoreError> {
        let mut b = WriteBatch::with_capacity(1);
        b.delete(column, key);
        self.write(b)
    }

    /// Up to `limit` entries whose key starts with `prefix`, in key order, starting at `start` (which must
    /// itself start with `prefix`, or be empty to begin at the prefix).
    fn scan_prefix(
        &self,
        column: Column,
        prefix: &[u8],
        start: &[u8],
        limit: usize,
    ) -> Result<Vec<KvEntry>, StoreError> {
        let from = if start.is_empty() { prefix } else { start };
        let end = prefix_end(prefix);
        self.scan(column, from, end.as_deref(), limit)
    }
}

/// The smallest key greater than every key starting with `prefix`, or `None` if there is none (the prefix is
/// empty or all `0xff`).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// The smallest key strictly greater than `key`: resume a scan after `key` by starting here.
pub fn key_successor(key: &[u8]) -> Vec<u8> {
    let mut next = Vec::with_capacity(key.len() + 1);
    next.extend_from_slice(key);
    next.push(0);
    next
}

/// Checks a scan limit against [`MAX_SCAN_LIMIT`].
pub fn check_scan_limit(limit: usize) -> Result<(), StoreError> {
    if limit > MAX_SCAN_LIMIT {
        Err(StoreError::ScanLimit(limit))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_carries() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(&[]), None);
    }

    #[test]
    fn successor_is_next_key() {
        assert_eq!(key_successor(b"a"), b"a\0".to_vec());
        assert!(key_successor(b"a").as_slice() > b"a".as_slice());
    }
}
