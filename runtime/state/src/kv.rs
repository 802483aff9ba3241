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

/// One operation of a [`WriteBatch`], borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchEntry<'a> {
    /// Target column.
    pub column: Column,
    /// Key.
    pub key: &'a [u8],
    /// The value to set, or `None` to remove the key.
    pub value: Option<&'a [u8]>,
}

// A batch's per-column order flags are the bits of a u16.
const _: () = assert!(Column::ALL.len() <= 16);

/// Spare bytes below which a [`WriteBatch`] starts a new buffer for the next operation.
const MIN_SPARE_BYTES: usize = 2 * 1024;
/// Largest buffer a [`WriteBatch`] starts by itself (one sized up front may be larger).
const MAX_SEGMENT_BYTES: usize = 1 << 20;

/// Where one operation's bytes are in a [`WriteBatch`]'s buffers: the key at `start` of buffer `segment`,
/// then the value.
#[derive(Debug, Clone, Copy)]
struct Slot {
    column: Column,
    segment: usize,
    start: usize,
    key_len: usize,
    /// Length of the value; `None` for a delete.
    value_len: Option<usize>,
}

/// Operations applied all together or not at all by [`KvStore::write`], in order (a later operation on the
/// same key wins).
///
/// Keys and values are copied into contiguous buffers rather than held as a `Vec` each: a block commit
/// builds tens of thousands of operations, and one allocation per key and per value (and freeing them all
/// after the write) cost more than the hashing. [`append`](Self::append) moves the other batch's buffers
/// over without copying them.
///
/// The batch also tracks, per column, whether its keys were added in ascending order
/// ([`column_is_sorted`](Self::column_is_sorted)): a store that inserts faster in key order (RocksDB's
/// memtable) then sorts only the columns that need it, without comparing every key again.
#[derive(Debug, Clone, Default)]
pub struct WriteBatch {
    /// Byte buffers; operations are added to the last one.
    segments: Vec<Vec<u8>>,
    slots: Vec<Slot>,
    /// Per column (by [`Column::index`]), the first and the last operation on it.
    ends: [Option<(usize, usize)>; Column::ALL.len()],
    /// Bit `i` set when column `i`'s keys were not added in ascending order.
    unsorted: u16,
}

impl PartialEq for WriteBatch {
    fn eq(&self, other: &WriteBatch) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for WriteBatch {}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }

    /// An empty batch with room for `n` operations.
    pub fn with_capacity(n: usize) -> WriteBatch {
        WriteBatch::with_capacity_bytes(n, n.saturating_mul(64))
    }

    /// An empty batch with room for `n` operations holding `bytes` bytes of keys and values.
    pub fn with_capacity_bytes(n: usize, bytes: usize) -> WriteBatch {
        WriteBatch {
            segments: vec![Vec::with_capacity(bytes)],
            slots: Vec::with_capacity(n),
            ..WriteBatch::default()
        }
    }

    /// The key of `slot` (empty if the slot does not point into the buffers, which never happens).
    fn key_of(&self, slot: &Slot) -> &[u8] {
        self.segments
            .get(slot.segment)
            .and_then(|d| d.get(slot.start..slot.start + slot.key_len))
            .unwrap_or(&[])
    }

    /// Adds an operation whose bytes are in the buffers, noting whether its column stays in key order.
    fn push_slot(&mut self, slot: Slot) {
        let c = slot.column.index();
        let i = self.slots.len();
        match self.ends[c] {
            Some((first, last)) => {
                if self.slots.get(last).is_some_and(|prev| self.key_of(prev) > self.key_of(&slot)) {
                    self.unsorted |= 1 << c;
                }
                self.ends[c] = Some((first, i));
            }
            None => self.ends[c] = Some((i, i)),
        }
        self.slots.push(slot);
    }

    /// True when the operations on `column` were added in ascending (non-decreasing) key order.
    pub fn column_is_sorted(&self, column: Column) -> bool {
        self.unsorted & (1 << column.index()) == 0
    }

    /// True when every column's operations were added in ascending key order.
    pub fn is_sorted_within_columns(&self) -> bool {
        self.unsorted == 0
    }

    /// The buffer operations are added to, and its index. When the last buffer is nearly full a new one is
    /// started (each twice as large, up to [`MAX_SEGMENT_BYTES`]) rather than the records copied into a larger
    /// one: a block commit's batch holds megabytes.
    fn tail(&mut self) -> (usize, &mut Vec<u8>) {
        let start_new = match self.segments.last() {
            None => true,
            Some(last) => !last.is_empty() && last.capacity() - last.len() < MIN_SPARE_BYTES,
        };
        if start_new {
            let capacity = self
                .segments
                .last()
                .map_or(0, |l| l.capacity().saturating_mul(2).clamp(2 * MIN_SPARE_BYTES, MAX_SEGMENT_BYTES));
            self.segments.push(Vec::with_capacity(capacity));
        }
        let i = self.segments.len() - 1;
        (i, &mut self.segments[i])
    }

    /// Adds a put.
    pub fn put(&mut self, column: Column, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.put_with(column, key, |out| out.extend_from_slice(value));
    }

    /// Adds a put whose value is written by `fill` (which appends it to the buffer it is given), so a record
    /// can be encoded straight into the batch.
    pub fn put_with(&mut self, column: Column, key: &[u8], fill: impl FnOnce(&mut Vec<u8>)) {
        let (segment, buf) = self.tail();
        let start = buf.len();
        buf.extend_from_slice(key);
        let value_start = buf.len();
        fill(buf);
        let value_len = buf.len() - value_start;
        self.push_slot(Slot { column, segment, start, key_len: key.len(), value_len: Some(value_len) });
    }

    /// Adds a delete.
    pub fn delete(&mut self, column: Column, key: impl AsRef<[u8]>) {
        let key = key.as_ref();
        let (segment, buf) = self.tail();
        let start = buf.len();
        buf.extend_from_slice(key);
        self.push_slot(Slot { column, segment, start, key_len: key.len(), value_len: None });
    }

    /// Appends every operation of `other`, after those already here.
    pub fn append(&mut self, other: WriteBatch) {
        let (base_segment, base_slot) = (self.segments.len(), self.slots.len());
        self.segments.extend(other.segments);
        self.slots.extend(other.slots.into_iter().map(|s| Slot { segment: s.segment + base_segment, ..s }));
        self.unsorted |= other.unsorted;
        for (c, theirs) in other.ends.iter().enumerate() {
            let Some((first, last)) = *theirs else { continue };
            let (first, last) = (first + base_slot, last + base_slot);
            self.ends[c] = match self.ends[c] {
                None => Some((first, last)),
                Some((mine, my_last)) => {
                    let (a, b) = (self.slots.get(my_last), self.slots.get(first));
                    if let (Some(a), Some(b)) = (a, b) {
                        if self.key_of(a) > self.key_of(b) {
                            self.unsorted |= 1 << c;
                        }
                    }
                    Some((mine, last))
                }
            };
        }
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when there is no operation.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Total bytes of keys and values.
    pub fn byte_len(&self) -> usize {
        self.segments.iter().map(Vec::len).sum()
    }

    /// Operation `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<BatchEntry<'_>> {
        let s = self.slots.get(i)?;
        let data = self.segments.get(s.segment)?;
        let key = data.get(s.start..s.start + s.key_len)?;
        let value = match s.value_len {
            Some(n) => Some(data.get(s.start + s.key_len..s.start + s.key_len + n)?),
            None => None,
        };
        Some(BatchEntry { column: s.column, key, value })
    }

    /// The operations in order, borrowed.
    pub fn iter(&self) -> impl Iterator<Item = BatchEntry<'_>> + '_ {
        (0..self.slots.len()).filter_map(|i| self.get(i))
    }

    /// The operations in order, as owned values.
    pub fn ops(&self) -> Vec<BatchOp> {
        self.iter()
            .map(|e| match e.value {
                Some(v) => BatchOp::Put { column: e.column, key: e.key.to_vec(), value: v.to_vec() },
                None => BatchOp::Delete { column: e.column, key: e.key.to_vec() },
            })
            .collect()
    }

    /// Consumes the batch into its operations.
    pub fn into_ops(self) -> Vec<BatchOp> {
        self.ops()
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

    /// Durably adds `records` ahead of the [`write`](Self::write) that will refer to them: puts only, all in
    /// one column and in strictly ascending key order, of keys nothing reads until that write lands (a state
    /// checkpoint's older tree nodes). Unlike a write it is atomic with nothing else: after a crash or a
    /// failed write between the two, the records are in the store with nothing referring to them (the state
    /// deletes such records before its first commit after opening, and before its next commit after a
    /// failed one).
    ///
    /// A store may take a faster path than its write-ahead log and memtable (RocksDB builds a table file and
    /// ingests it, ADR 0019); the default writes them as one batch.
    fn write_ahead(&self, records: WriteBatch) -> Result<(), StoreError> {
        self.write(records)
    }

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
    fn batch_keeps_operations_in_order() {
        let mut a = WriteBatch::with_capacity(2);
        a.put(Column::Meta, b"k1", vec![1, 2]);
        a.delete(Column::Blocks, b"k2");
        let mut b = WriteBatch::new();
        b.put_with(Column::Signer, b"k3", |out| out.extend_from_slice(b"v3"));
        b.put(Column::Meta, b"", b"");
        a.append(b);
        let mut empty = WriteBatch::new();
        empty.append(a.clone());
        assert_eq!(empty, a);
        assert_eq!(a.len(), 4);
        assert_eq!(a.byte_len(), 2 + 2 + 2 + 2 + 2);
        assert_eq!(
            a.into_ops(),
            vec![
                BatchOp::Put { column: Column::Meta, key: b"k1".to_vec(), value: vec![1, 2] },
                BatchOp::Delete { column: Column::Blocks, key: b"k2".to_vec() },
                BatchOp::Put { column: Column::Signer, key: b"k3".to_vec(), value: b"v3".to_vec() },
                BatchOp::Put { column: Column::Meta, key: vec![], value: vec![] },
            ]
        );
    }

    #[test]
    fn a_growing_batch_starts_new_buffers_and_keeps_every_operation() {
        let mut b = WriteBatch::new();
        let value = |i: usize| {
            vec![(i % 251) as u8; if i.is_multiple_of(100) { 3 * MIN_SPARE_BYTES } else { i % 300 }]
        };
        for i in 0..20_000usize {
            if i % 7 == 0 {
                b.delete(Column::StateValues, i.to_be_bytes());
            } else {
                b.put_with(Column::StateNodes, &i.to_be_bytes(), |out| out.extend_from_slice(&value(i)));
            }
        }
        assert!(b.segments.len() > 1, "a multi-megabyte batch spans several buffers");
        assert!(
            b.segments.iter().all(|s| s.capacity() <= 2 * MAX_SEGMENT_BYTES),
            "no buffer grows without bound"
        );
        assert_eq!(b.len(), 20_000);
        for (i, e) in b.iter().enumerate() {
            assert_eq!(e.key, i.to_be_bytes());
            if i % 7 == 0 {
                assert_eq!((e.column, e.value), (Column::StateValues, None));
            } else {
                assert_eq!((e.column, e.value), (Column::StateNodes, Some(&value(i)[..])));
            }
        }
    }

    #[test]
    fn batch_tracks_key_order_per_column() {
        let mut a = WriteBatch::new();
        a.put(Column::StateNodes, b"a", b"");
        a.put(Column::Meta, b"z", b"");
        a.delete(Column::StateNodes, b"b");
        a.put(Column::StateNodes, b"b", b"");
        assert!(a.is_sorted_within_columns(), "interleaved columns, each ascending, repeats allowed");
        a.put(Column::Meta, b"y", b"");
        assert!(!a.column_is_sorted(Column::Meta));
        assert!(a.column_is_sorted(Column::StateNodes));
        assert!(!a.is_sorted_within_columns());

        let mut first = WriteBatch::new();
        first.put(Column::StateValues, b"m", b"");
        let mut later = WriteBatch::new();
        later.put(Column::StateNodes, b"a", b"");
        later.put(Column::StateValues, b"n", b"");
        first.append(later);
        assert!(first.is_sorted_within_columns());
        let mut earlier = WriteBatch::new();
        earlier.put(Column::StateValues, b"a", b"");
        first.append(earlier);
        assert!(!first.column_is_sorted(Column::StateValues));
        assert!(first.column_is_sorted(Column::StateNodes));
        let mut empty = WriteBatch::new();
        empty.append(first.clone());
        assert!(!empty.column_is_sorted(Column::StateValues), "appending carries the flags over");
    }

    proptest::proptest! {
        /// The order flags of a batch built by puts, deletes and appends match a recomputation over its
        /// operations.
        #[test]
        fn order_flags_match_the_operations(
            parts in proptest::collection::vec(
                proptest::collection::vec((0..3usize, proptest::collection::vec(0u8..4, 0..3), proptest::bool::ANY), 0..12),
                1..4,
            )
        ) {
            let mut batch = WriteBatch::new();
            for part in parts {
                let mut b = WriteBatch::new();
                for (c, key, delete) in part {
                    if delete {
                        b.delete(Column::ALL[c], &key);
                    } else {
                        b.put(Column::ALL[c], &key, b"v");
                    }
                }
                batch.append(b);
            }
            for column in Column::ALL {
                let keys: Vec<&[u8]> = batch.iter().filter(|e| e.column == column).map(|e| e.key).collect();
                let sorted = keys.windows(2).all(|w| w[0] <= w[1]);
                proptest::prop_assert_eq!(batch.column_is_sorted(column), sorted, "{}", column);
            }
        }
    }

    #[test]
    fn successor_is_next_key() {
        assert_eq!(key_successor(b"a"), b"a\0".to_vec());
        assert!(key_successor(b"a").as_slice() > b"a".as_slice());
    }
}
