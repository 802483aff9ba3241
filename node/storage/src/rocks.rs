//! [`KvStore`] on RocksDB: one column family per [`Column`], a checksum on every record, synced writes.

use crate::checksum::{legacy, seal_to_slice, unseal, CHECKSUM_LEN};
use crate::meta::META_FORMAT;
use crate::rocks_batch::CfIds;
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
    /// Run RocksDB's flushes and compactions at the lowest CPU priority (on by default), so that they take
    /// the cores a block commit leaves idle rather than the commit's (ADR 0020). The setting belongs to
    /// RocksDB's process-wide default environment: it applies to every database the process opens.
    pub low_priority_background: bool,
}

impl Default for RocksConfig {
    fn default() -> Self {
        RocksConfig {
            sync_writes: true,
            block_cache_bytes: 64 * 1024 * 1024,
            max_open_files: 512,
            low_priority_background: true,
        }
    }
}

/// A RocksDB database with a column family per [`Column`].
pub struct RocksStore {
    db: DB,
    path: PathBuf,
    sync_writes: bool,
    cf_ids: CfIds,
    /// Where [`KvStore::write_ahead`] builds its table files, inside the database's directory (emptied when
    /// the store opens: a file there is one a crash interrupted).
    ingest_dir: PathBuf,
    /// Number of the next table file built for ingestion.
    ingest_seq: std::sync::atomic::AtomicU64,
    /// The buffer the last write encoded its batch in, kept for the next (at most [`SCRATCH_KEEP_BYTES`]): a
    /// block's batch is megabytes, and a fresh buffer each time would fault its pages in each time.
    scratch: parking_lot::Mutex<Vec<u8>>,
}

/// Largest encoding buffer a store keeps between writes (a checkpoint's batch is about 12 MB; a larger one,
/// such as a snapshot import's, is freed after its write).
pub const SCRATCH_KEEP_BYTES: usize = 32 << 20;

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

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("{}: {e}", path.display()))
}

/// Subdirectory of the database where [`KvStore::write_ahead`] builds table files before ingesting them.
pub const INGEST_DIR: &str = "ingest";

impl RocksStore {
    /// Opens (creating if missing) the database at `path`.
    pub fn open(path: impl AsRef<Path>, config: RocksConfig) -> Result<RocksStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let cache = rocksdb::Cache::new_lru_cache(config.block_cache_bytes);
        let mut plain = rocksdb::BlockBasedOptions::default();
        plain.set_block_cache(&cache);
        let mut filtered = rocksdb::BlockBasedOptions::default();
        filtered.set_block_cache(&cache);
        filtered.set_bloom_filter(10.0, false);
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_open_files(config.max_open_files);
        opts.set_paranoid_checks(true);
        if config.low_priority_background {
            let mut env = rocksdb::Env::new().map_err(|e| StoreError::Backend(e.to_string()))?;
            env.lower_thread_pool_cpu_priority();
            env.lower_high_priority_thread_pool_cpu_priority();
            opts.set_env(&env);
        }
        let cfs = Column::ALL
            .iter()
            .map(|&c| ColumnFamilyDescriptor::new(c.name(), column_options(c, &plain, &filtered)));
        let db = DB::open_cf_descriptors(&opts, &path, cfs).map_err(backend)?;
        let cf_ids = CfIds::discover(&families(&db)?)?;
        let ingest_dir = path.join(INGEST_DIR);
        match std::fs::remove_dir_all(&ingest_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_error(&ingest_dir, e)),
            _ => {}
        }
        std::fs::create_dir(&ingest_dir).map_err(|e| io_error(&ingest_dir, e))?;
        Ok(RocksStore {
            db,
            ingest_dir,
            ingest_seq: std::sync::atomic::AtomicU64::new(0),
            path,
            sync_writes: config.sync_writes,
            cf_ids,
            scratch: parking_lot::Mutex::new(Vec::new()),
        })
    }

    /// Directory of the database.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn cf(&self, column: Column) -> Result<&rocksdb::ColumnFamily, StoreError> {
        family(&self.db, column)
    }

    /// The column family of each column, in [`Column::ALL`] order.
    #[cfg(test)]
    pub(crate) fn column_families(&self) -> Result<Vec<&rocksdb::ColumnFamily>, StoreError> {
        families(&self.db)
    }
}

fn family(db: &DB, column: Column) -> Result<&rocksdb::ColumnFamily, StoreError> {
    db.cf_handle(column.name())
        .ok_or_else(|| StoreError::Backend(format!("column family {column} is missing")))
}

fn families(db: &DB) -> Result<Vec<&rocksdb::ColumnFamily>, StoreError> {
    Column::ALL.iter().map(|&c| family(db, c)).collect()
}

/// Memtable size of the columns written at random positions (values by key hash, the key index by key): small
/// enough that the skip list a block's inserts walk stays mostly in the CPU caches. In a 64 MiB memtable each
/// random insert was a chain of cache misses: 10,000 value inserts took 13–18 ms, against 2–3 ms at 4 MiB
/// (measured alone, without the write-ahead log). Smaller memtables mean more flushes and compactions; in
/// sustained commits 4 to 32 MiB measured the same within noise.
pub const RANDOM_WRITE_BUFFER_BYTES: usize = 16 << 20;
/// Memtable size of the other columns, whose writes append (nodes and stale lists are keyed by version first,
/// blocks by height): larger memtables mean fewer, larger flushes.
pub const APPEND_WRITE_BUFFER_BYTES: usize = 64 << 20;

/// Options of the column family of `column`: tables with a bloom filter (`filtered`) only where point lookups
/// can miss. Filters cost CPU at every flush and compaction and help no seek or scan: state values are read by
/// seeking, the key index and stale lists by scanning, and tree nodes are looked up only when referenced, by
/// keys that begin with their version, so the table files of a version range do not overlap.
fn column_options(
    column: Column,
    plain: &rocksdb::BlockBasedOptions,
    filtered: &rocksdb::BlockBasedOptions,
) -> Options {
    let mut o = Options::default();
    let point_misses =
        !matches!(column, Column::StateNodes | Column::StateValues | Column::StateIndex | Column::StateStale);
    o.set_block_based_table_factory(if point_misses { filtered } else { plain });
    match column {
        // Tree nodes are hashes: compression would cost CPU at every flush and compaction and save nothing.
        Column::StateNodes => o.set_compression_type(rocksdb::DBCompressionType::None),
        _ => o.set_compression_type(rocksdb::DBCompressionType::Lz4),
    }
    let random = matches!(column, Column::StateValues | Column::StateIndex);
    o.set_write_buffer_size(if random { RANDOM_WRITE_BUFFER_BYTES } else { APPEND_WRITE_BUFFER_BYTES });
    o
}

impl KvStore for RocksStore {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(raw) = self.db.get_pinned_cf(self.cf(column)?, key).map_err(backend)? else {
            return Ok(None);
        };
        match unseal(column, key, &raw) {
            Err(e) if column == Column::Meta && key == META_FORMAT => {
                // A store of format 1 to 3 sealed its records with another checksum: read its format record
                // anyway, so that opening it fails as an older format rather than as a damaged store.
                legacy::unseal(column, key, &raw).ok_or(e).map(Some)
            }
            other => other.map(Some),
        }
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut rep = std::mem::take(&mut *self.scratch.lock());
        crate::rocks_batch::encode_into(&self.cf_ids, &batch, &memtable_order(&batch), &mut rep)?;
        drop(batch);
        let wb = rocksdb::WriteBatch::from_data(&rep);
        if rep.capacity() <= SCRATCH_KEEP_BYTES {
            *self.scratch.lock() = rep;
        }
        let mut wo = WriteOptions::default();
        wo.set_sync(self.sync_writes);
        self.db.write_opt(wb, &wo).map_err(backend)
    }

    /// Builds a table file of the records (sealed like any record) and ingests it into their column family
    /// (ADR 0019): no write-ahead log, no memtable, and so no flush or compaction of them later — the records
    /// are a key range no other file holds (a checkpoint's nodes of versions after the previous one), so
    /// RocksDB places the file in the lowest level. The file is synced before it is ingested, and the
    /// ingestion is recorded in the synced manifest: durable when this returns, like a synced write.
    fn write_ahead(&self, records: WriteBatch) -> Result<(), StoreError> {
        let Some(first) = records.get(0) else { return Ok(()) };
        let column = first.column;
        let file = self
            .ingest_dir
            .join(format!("{}.sst", self.ingest_seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
        let written = self.write_table(column, &records, &file).and_then(|()| {
            let mut io = rocksdb::IngestExternalFileOptions::default();
            io.set_move_files(true);
            self.db.ingest_external_file_cf_opts(self.cf(column)?, &io, vec![&file]).map_err(backend)
        });
        if written.is_err() {
            // Best effort: the directory is emptied when the store next opens anyway.
            let _ = std::fs::remove_file(&file);
        }
        written
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

impl RocksStore {
    /// Writes `records` (puts in `column`, keys strictly ascending) to a synced table file at `file`, made
    /// with the column family's options.
    fn write_table(&self, column: Column, records: &WriteBatch, file: &Path) -> Result<(), StoreError> {
        let opts = column_options(
            column,
            &rocksdb::BlockBasedOptions::default(),
            &rocksdb::BlockBasedOptions::default(),
        );
        let mut writer = rocksdb::SstFileWriter::create(&opts);
        writer.open(file).map_err(backend)?;
        let mut sealed = Vec::new();
        for e in records.iter() {
            let Some(value) = e.value.filter(|_| e.column == column) else {
                return Err(StoreError::Backend(format!(
                    "write ahead takes puts into one column; got {} {}",
                    if e.value.is_some() { "a put into" } else { "a delete from" },
                    e.column
                )));
            };
            sealed.resize(value.len() + CHECKSUM_LEN, 0);
            seal_to_slice(column, e.key, value, &mut sealed);
            // The writer refuses a key not after the previous one.
            writer.put(e.key, &sealed).map_err(backend)?;
        }
        writer.finish().map_err(backend)
    }
}

/// The order in which to hand a batch's operations to RocksDB: within each column, by key (stable, so a later
/// operation on the same key still wins). The batch is applied atomically either way; the order only matters
/// for speed: RocksDB's memtable skip list inserts a run of ascending keys much faster than the same keys in
/// random order. The batch knows which columns were filled in key order (a block commit's usually all are):
/// those keep their order, and only the others are sorted.
fn memtable_order(batch: &WriteBatch) -> Vec<usize> {
    if batch.is_sorted_within_columns() {
        return (0..batch.len()).collect();
    }
    let key = |i: usize| batch.get(i).map(|e| e.key);
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); Column::ALL.len()];
    for (i, op) in batch.iter().enumerate() {
        groups[op.column.index()].push(i);
    }
    let mut order = Vec::with_capacity(batch.len());
    for (column, mut g) in Column::ALL.iter().zip(groups) {
        if !batch.column_is_sorted(*column) {
            g.sort_by(|a, b| key(*a).cmp(&key(*b)));
        }
        order.extend(g);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(column: Column, keys: &[&[u8]]) -> WriteBatch {
        let mut b = WriteBatch::new();
        for k in keys {
            b.put(column, k, [*k, &b"-value"[..]].concat());
        }
        b
    }

    #[test]
    fn records_written_ahead_are_read_back_sealed_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = RocksStore::open(dir.path(), RocksConfig::default()).unwrap();
        store.put(Column::StateNodes, b"a", b"in the log").unwrap();
        store.write_ahead(records(Column::StateNodes, &[b"b1", b"b2", b"b3"])).unwrap();
        store.write_ahead(WriteBatch::new()).unwrap();
        let read = |s: &RocksStore| s.scan(Column::StateNodes, b"", None, 10).unwrap();
        let expected: Vec<KvEntry> = [(b"a".to_vec(), b"in the log".to_vec())]
            .into_iter()
            .chain([b"b1", b"b2", b"b3"].map(|k| (k.to_vec(), [k.as_ref(), b"-value"].concat())))
            .collect();
        assert_eq!(read(&store), expected);
        assert_eq!(store.get(Column::StateNodes, b"b2").unwrap(), Some(b"b2-value".to_vec()));
        // The table file was moved into the database, not left in the ingest directory.
        assert_eq!(std::fs::read_dir(dir.path().join(INGEST_DIR)).unwrap().count(), 0);
        drop(store);
        // A file a crash left behind is removed when the store opens.
        std::fs::write(dir.path().join(INGEST_DIR).join("7.sst"), b"half a table").unwrap();
        let store = RocksStore::open(dir.path(), RocksConfig::default()).unwrap();
        assert_eq!(read(&store), expected);
        assert_eq!(std::fs::read_dir(dir.path().join(INGEST_DIR)).unwrap().count(), 0);
    }

    #[test]
    fn a_write_ahead_that_is_not_sorted_puts_into_one_column_is_refused_and_adds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = RocksStore::open(dir.path(), RocksConfig::default()).unwrap();
        let unsorted = records(Column::StateNodes, &[b"b", b"a"]);
        let mut with_delete = records(Column::StateNodes, &[b"a"]);
        with_delete.delete(Column::StateNodes, b"b");
        let mut two_columns = records(Column::StateNodes, &[b"a"]);
        two_columns.put(Column::StateValues, b"b", b"v");
        for bad in [unsorted, with_delete, two_columns] {
            assert!(matches!(store.write_ahead(bad), Err(StoreError::Backend(_))));
        }
        for column in [Column::StateNodes, Column::StateValues] {
            assert!(store.scan(column, b"", None, 10).unwrap().is_empty(), "{column}");
        }
        assert_eq!(std::fs::read_dir(dir.path().join(INGEST_DIR)).unwrap().count(), 0);
    }

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
        let mut sorted = WriteBatch::new();
        sorted.put(Column::Meta, b"a", b"1");
        sorted.put(Column::Blocks, b"z", b"2");
        sorted.put(Column::Meta, b"b", b"3");
        assert_eq!(
            memtable_order(&sorted),
            vec![0, 1, 2],
            "columns already in key order keep the batch order"
        );

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

    #[test]
    fn a_store_of_an_older_checksum_format_is_reported_as_older_not_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let store = RocksStore::open(dir.path(), RocksConfig::default()).unwrap();
        let record = crate::FormatRecord { format_version: 3, chain_id: "purse-test".into() };
        let bytes = purse_types::encode(&record);
        let sealed = legacy::seal(Column::Meta, META_FORMAT, &bytes);
        store.db.put_cf(store.cf(Column::Meta).unwrap(), META_FORMAT, sealed).unwrap();
        assert_eq!(store.get(Column::Meta, META_FORMAT).unwrap(), Some(bytes));
        let err = crate::Storage::open(store, "purse-test", purse_state::StateConfig::default()).unwrap_err();
        assert!(
            matches!(err, crate::StorageError::OlderFormat { found: 3, supported: crate::FORMAT_VERSION }),
            "{err}"
        );

        // Any other record sealed the old way is damaged, and says so.
        let dir = tempfile::tempdir().unwrap();
        let store = RocksStore::open(dir.path(), RocksConfig::default()).unwrap();
        let sealed = legacy::seal(Column::Blocks, b"k", b"v");
        store.db.put_cf(store.cf(Column::Blocks).unwrap(), b"k", sealed).unwrap();
        let err = store.get(Column::Blocks, b"k").unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
    }
}
