//! [`KvStore`] on RocksDB: one column family per [`Column`], a checksum on every record, synced writes.

use crate::checksum::{seal, unseal};
use purse_state::{check_scan_limit, BatchOp, Column, KvEntry, KvStore, StoreError, WriteBatch};
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
        let mut wb = rocksdb::WriteBatch::default();
        for op in batch.into_ops() {
            match op {
                BatchOp::Put { column, key, value } => {
                    let sealed = seal(column, &key, &value);
                    wb.put_cf(self.cf(column)?, key, sealed);
                }
                BatchOp::Delete { column, key } => wb.delete_cf(self.cf(column)?, key),
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
