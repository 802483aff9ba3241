//! An in-memory [`KvStore`] for tests and tools.

use crate::kv::{check_scan_limit, BatchOp, KvEntry, KvStore, StoreError, WriteBatch};
use crate::Column;
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::ops::Bound;

type Table = BTreeMap<Vec<u8>, Vec<u8>>;

/// A [`KvStore`] held in memory: one ordered map per column, batches applied under one lock.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: RwLock<Vec<Table>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore { tables: RwLock::new(vec![Table::new(); Column::ALL.len()]) }
    }

    /// Number of keys in `column`.
    pub fn len(&self, column: Column) -> usize {
        self.tables.read().get(column.index()).map_or(0, BTreeMap::len)
    }

    /// True when every column is empty.
    pub fn is_empty(&self) -> bool {
        self.tables.read().iter().all(BTreeMap::is_empty)
    }
}

impl KvStore for MemoryStore {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tables.read().get(column.index()).and_then(|t| t.get(key).cloned()))
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut tables = self.tables.write();
        if tables.len() < Column::ALL.len() {
            tables.resize(Column::ALL.len(), Table::new());
        }
        for op in batch.into_ops() {
            match op {
                BatchOp::Put { column, key, value } => {
                    tables[column.index()].insert(key, value);
                }
                BatchOp::Delete { column, key } => {
                    tables[column.index()].remove(&key);
                }
            }
        }
        Ok(())
    }

    fn scan(
        &self,
        column: Column,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KvEntry>, StoreError> {
        check_scan_limit(limit)?;
        let tables = self.tables.read();
        let Some(table) = tables.get(column.index()) else { return Ok(Vec::new()) };
        let upper = match end {
            Some(e) if e <= start => return Ok(Vec::new()),
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        Ok(table
            .range::<[u8], _>((Bound::Included(start), upper))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_put_delete_scan() {
        let s = MemoryStore::new();
        let mut b = WriteBatch::new();
        b.put(Column::Meta, b"a", b"1");
        b.put(Column::Meta, b"b", b"2");
        b.put(Column::Blocks, b"a", b"x");
        b.delete(Column::Meta, b"b");
        b.put(Column::Meta, b"c", b"3");
        s.write(b).unwrap();
        assert_eq!(s.get(Column::Meta, b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(s.get(Column::Meta, b"b").unwrap(), None);
        assert_eq!(s.get(Column::Blocks, b"a").unwrap(), Some(b"x".to_vec()));
        let all = s.scan(Column::Meta, b"", None, 10).unwrap();
        assert_eq!(all, vec![(b"a".to_vec(), b"1".to_vec()), (b"c".to_vec(), b"3".to_vec())]);
        assert_eq!(s.scan(Column::Meta, b"b", Some(b"c"), 10).unwrap(), vec![]);
        assert_eq!(s.scan(Column::Meta, b"", None, 1).unwrap().len(), 1);
        assert!(matches!(s.scan(Column::Meta, b"", None, usize::MAX), Err(StoreError::ScanLimit(_))));
        assert_eq!(s.scan_prefix(Column::Meta, b"c", b"", 10).unwrap().len(), 1);
    }
}
