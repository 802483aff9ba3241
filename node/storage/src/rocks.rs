//! [`KvStore`] on RocksDB: one column family per [`Column`], a checksum on every record, synced writes.

use crate::checksum::{seal_into, unseal, CHECKSUM_LEN};
use purse_state::{check_scan_limit, Column, KvEntry, KvStore, StoreError, WriteBatch};
use rocksdb::{ColumnFamilyDescriptor, Direction, IteratorMode, Options, ReadOptions, WriteOptions, DB};
use std::path::{Path, PathBuf};

/// Tuning of a [`RocksStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RocksConfig {
    /// Sync the write-ahead log on every write batch (on for nodes: a commit is durable when it returns).
    pub sync_writes: bool,
    /// Size of the shared block cache, in bytes.
    pub block_cache_bytes: usize,
    /// Maximum number of open files (RocksDB's `max_open_files`).
    pub max_open_files: i32,
}

impl Default for RocksConfig {
    fn default() -> Self {
        RocksConfig { sync_writes: true, block_cache_bytes: 64 * 1024 * 1024, max_open_files: 512 }
    }
}

/// A RocksDB database with a column family per [`Column`].
pub struct RocksStore {
    db: DB,
    path: PathBuf,
    sync_writes: bool,
}

impl std::fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksStore")
            .field("path", &self.path)
            .field("sync_writes", &self.sync_writes)
            .finish()
    }
}

fn backend(e: rocksdb::Error) -> StoreError {
    StoreError::Backend(e.into_string())
}

impl RocksStore {
    /// Opens (creating if missing) the database at `path`.
    pub fn open(path: impl AsRef<Path>, config: RocksConfig) -> Result<RocksStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let cache = rocksdb::Cache::new_lru_cache(config.block_cache_bytes);
        let mut table = rocksdb::BlockBasedOptions::default();
        table.set_block_cache(&cache);
        table.set_bloom_filter(10.0, false);
        let mut cf_opts = Options::default();
        cf_opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        cf_opts.set_block_based_table_factory(&table);
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_open_files(config.max_open_files);
        opts.set_paranoid_checks(true);
        let cfs = Column::ALL.iter().map(|c| ColumnFamilyDescriptor::new(c.name(), cf_opts.clone()));
        let db = DB::open_cf_descriptors(&opts, &path, cfs).map_err(backend)?;
        Ok(RocksStore { db, path, sync_writes: config.sync_writes })
    }

    /// Directory of the database.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn cf(&self, column: Column) -> Result<&rocksdb::ColumnFamily, StoreError> {
        self.db
            .cf_handle(column.name())
            .ok_or_else(|| StoreError::Backend(format!("column family {column} is missing")))
    }
}

impl KvStore for RocksStore {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let raw = self.db.get_pinned_cf(self.cf(column)?, key).map_err(backend)?;
        raw.map(|r| unseal(column, key, &r)).transpose()
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        // Resolve each column family once, not once per operation.
        let mut cfs: Vec<&rocksdb::ColumnFamily> = Vec::with_capacity(Column::ALL.len());
        for c in Column::ALL {
            cfs.push(self.cf(c)?);
        }
        let bytes = 12 + batch.byte_len() + batch.len() * (CHECKSUM_LEN + 16);
        let mut wb = rocksdb::WriteBatch::with_capacity_bytes(bytes);
        let mut sealed = Vec::new();
        for i in memtable_order(&batch) {
            let Some(op) = batch.get(i) else { continue };
            let cf = cfs[op.column.index()];
            match op.value {
                Some(value) => {
                    seal_into(op.column, op.key, value, &mut sealed);
                    wb.put_cf(cf, op.key, &sealed);
                }
                None => wb.delete_cf(cf, op.key),
            }
        }
        let mut wo = WriteOptions::default();
        wo.set_sync(self.sync_writes);
        self.db.write_opt(wb, &wo).map_err(backend)
    }

    fn scan(
        &self,
        column: Column,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KvEntry>, StoreError> {
        check_scan_limit(limit)?;
        let mut ro = ReadOptions::default();
        if let Some(e) = end {
            if e <= start {
                return Ok(Vec::new());
            }
            ro.set_iterate_upper_bound(e.to_vec());
        }
        let iter =
            self.db.iterator_cf_opt(self.cf(column)?, ro, IteratorMode::From(start, Direction::Forward));
        let mut out = Vec::with_capacity(limit.min(1024));
        for item in iter.take(limit) {
            let (k, v) = item.map_err(backend)?;
            let value = unseal(column, &k, &v)?;
            out.push((k.into_vec(), value));
        }
        Ok(out)
    }
}

/// The order in which to hand a batch's operations to RocksDB: grouped by column and, within a column, by key
/// (stable, so a later operation on the same key still wins). The batch is applied atomically either way; the
/// order only matters for speed: RocksDB's memtable skip list inserts a run of ascending keys much faster than
/// the same keys in random order. Runs that are already sorted (the usual case) are only checked, not sorted.
fn memtable_order(batch: &WriteBatch) -> Vec<usize> {
    let key = |i: usize| batch.get(i).map(|e| e.key);
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); Column::ALL.len()];
    for (i, op) in batch.iter().enumerate() {
        groups[op.column.index()].push(i);
    }
    let mut order = Vec::with_capacity(batch.len());
    for mut g in groups {
        let sorted = g.windows(2).all(|w| key(w[0]) <= key(w[1]));
        if !sorted {
            g.sort_by(|a, b| key(*a).cmp(&key(*b)));
        }
        order.extend(g);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memtable_order_groups_sorts_and_keeps_last_write_last() {
        let mut b = WriteBatch::new();
        b.put(Column::Meta, b"b", b"1");
        b.put(Column::Blocks, b"z", b"2");
        b.put(Column::Meta, b"a", b"3");
        b.delete(Column::Meta, b"b");
        b.put(Column::Meta, b"b", b"4");
        let order = memtable_order(&b);
        let blocks = Column::Blocks.index() < Column::Meta.index();
        let expected = if blocks { vec![1, 2, 0, 3, 4] } else { vec![2, 0, 3, 4, 1] };
        assert_eq!(order, expected);

        let dir = tempfile::tempdir().unwrap();
        let store = RocksStore::open(dir.path(), RocksConfig::default()).unwrap();
        let mut b = WriteBatch::new();
        b.put(Column::Meta, b"k", b"first");
        b.put(Column::Meta, b"a", b"x");
        b.delete(Column::Meta, b"k");
        b.put(Column::Meta, b"k", b"last");
        b.put(Column::Meta, b"gone", b"y");
        b.delete(Column::Meta, b"gone");
        store.write(b).unwrap();
        assert_eq!(store.get(Column::Meta, b"k").unwrap().as_deref(), Some(&b"last"[..]));
        assert_eq!(store.get(Column::Meta, b"gone").unwrap(), None);
        assert_eq!(store.get(Column::Meta, b"a").unwrap().as_deref(), Some(&b"x"[..]));
    }
}
