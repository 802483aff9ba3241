//! State snapshots: the state of one height streamed to a file, and imported into an empty store.
//!
//! File layout: a borsh [`SnapshotHeader`]; `count` entries, each `key_len: u32 LE, key, value_len: u32 LE,
//! value`, in key-hash order; then a 32-byte checksum: blake3 (`derive_key` context
//! "purse v1 state snapshot") over the final header bytes followed by the blake3 of all entry bytes.

use crate::blocks::CommitBundle;
use crate::meta::{Head, META_HEAD};
use crate::{Storage, StorageError};
use borsh::{BorshDeserialize, BorshSerialize};
use purse_state::{
    Column, KvStore, Overlay, StateConfig, StateDb, MAX_KEY_LEN, MAX_OVERLAY_ENTRIES, MAX_VALUE_LEN,
};
use purse_types::Hash;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// First bytes of a snapshot file.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"PURSESNP";
/// Snapshot format version.
pub const SNAPSHOT_FORMAT: u32 = 1;
/// Most entries one snapshot may hold (the import builds the state in one version).
pub const MAX_SNAPSHOT_ENTRIES: u64 = MAX_OVERLAY_ENTRIES as u64;
/// Most bytes of keys and values one snapshot may hold. An import holds the whole state in memory about
/// three times over (its overlay, the write batch, the batch's encoding for the store) before it can compare
/// the root with the expected one, so the bound is on what the file makes the importer allocate, whoever
/// sent it; an export of a larger state fails rather than writing a file no importer accepts.
pub const MAX_SNAPSHOT_BYTES: u64 = 1 << 30;
/// Largest snapshot file: [`MAX_SNAPSHOT_BYTES`] of entries, their length prefixes, and room for the header
/// and checksum. An import refuses a larger file before reading it; state sync downloads no more.
pub const MAX_SNAPSHOT_FILE_BYTES: u64 = MAX_SNAPSHOT_BYTES + 8 * MAX_SNAPSHOT_ENTRIES + 64 * 1024;
/// Extension of a snapshot file while its export is in progress (renamed when complete and synced).
pub const PARTIAL_EXTENSION: &str = "partial";
/// Entries read from the state per page while exporting.
const EXPORT_PAGE: usize = 4_096;
const CHECKSUM_CONTEXT: &str = "purse v1 state snapshot";

/// The header of a snapshot file.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SnapshotHeader {
    /// [`SNAPSHOT_MAGIC`].
    pub magic: [u8; 8],
    /// [`SNAPSHOT_FORMAT`].
    pub format: u32,
    /// Chain id.
    pub chain_id: String,
    /// Height whose state this is.
    pub height: u64,
    /// Hash of the block at that height (zero if the store does not hold it).
    pub block_hash: Hash,
    /// State root at that height.
    pub state_root: Hash,
    /// Number of entries.
    pub count: u64,
}

fn checksum(header: &[u8], entries_digest: &blake3::Hash) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key(CHECKSUM_CONTEXT);
    h.update(header);
    h.update(entries_digest.as_bytes());
    *h.finalize().as_bytes()
}

fn invalid(msg: impl Into<String>) -> StorageError {
    StorageError::SnapshotInvalid(msg.into())
}

impl<S: KvStore> Storage<S> {
    /// Writes the state at `height` to `path` (through a temporary file renamed when complete and synced).
    pub fn export_snapshot(&self, height: u64, path: &Path) -> Result<SnapshotHeader, StorageError> {
        let block_hash = self
            .block_info(height)?
            .map(|i| i.block_hash)
            .or_else(|| self.head().filter(|h| h.height == height).map(|h| h.block_hash));
        export_state(self.state(), self.chain_id(), height, block_hash.unwrap_or(Hash::ZERO), path)
    }
}

/// Writes the state at `height` of a store a running node is committing to (state sync serves these). Only
/// immutable, versioned state records and the block index are read, so this is safe beside the node's own
/// [`Storage`]; it fails cleanly if `height` is pruned while it runs.
pub fn export_snapshot_of_store<S: KvStore + Clone>(
    store: S,
    chain_id: &str,
    height: u64,
    path: &Path,
) -> Result<SnapshotHeader, StorageError> {
    let block_hash = crate::BlockReader::new(store.clone())
        .block_info(height)?
        .map(|i| i.block_hash)
        .ok_or_else(|| invalid(format!("no block at height {height}")))?;
    let state = StateDb::open(store, StateConfig::default())?;
    export_state(&state, chain_id, height, block_hash, path)
}

fn export_state<S: KvStore>(
    state: &StateDb<S>,
    chain_id: &str,
    height: u64,
    block_hash: Hash,
    path: &Path,
) -> Result<SnapshotHeader, StorageError> {
    let state_root = state.root_at(height)?;
    let mut header = SnapshotHeader {
        magic: SNAPSHOT_MAGIC,
        format: SNAPSHOT_FORMAT,
        chain_id: chain_id.to_string(),
        height,
        block_hash,
        state_root,
        count: 0,
    };
    let tmp = path.with_extension(PARTIAL_EXTENSION);
    let written = write_snapshot(state, height, &mut header, &tmp).and_then(|()| Ok(fs::rename(&tmp, path)?));
    if written.is_err() {
        // Best effort: a partial file would otherwise stay until an export of the same height replaced it.
        let _ = fs::remove_file(&tmp);
    }
    written.map(|()| header)
}

/// Writes the snapshot of `state` at `height` to `tmp`, completing `header` (its entry count), and syncs it.
fn write_snapshot<S: KvStore>(
    state: &StateDb<S>,
    height: u64,
    header: &mut SnapshotHeader,
    tmp: &Path,
) -> Result<(), StorageError> {
    let mut file = BufWriter::new(File::create(tmp)?);
    file.write_all(&purse_types::encode(&*header))?;
    let mut digest = blake3::Hasher::new();
    let mut after: Option<Hash> = None;
    let mut bytes = 0u64;
    loop {
        let page = state.entries_at(height, after.as_ref(), EXPORT_PAGE)?;
        let Some(last) = page.last() else { break };
        after = Some(last.key_hash);
        for e in &page {
            bytes += (e.key.len() + e.value.len()) as u64;
            if bytes > MAX_SNAPSHOT_BYTES {
                return Err(invalid(format!(
                    "the state at height {height} holds more than {MAX_SNAPSHOT_BYTES} bytes of keys and values, \
                     the most a snapshot may hold"
                )));
            }
            for part in [&e.key, &e.value] {
                let len = (part.len() as u32).to_le_bytes();
                file.write_all(&len)?;
                file.write_all(part)?;
                digest.update(&len);
                digest.update(part);
            }
        }
        header.count += page.len() as u64;
        if header.count > MAX_SNAPSHOT_ENTRIES {
            return Err(invalid(format!(
                "the state at height {height} holds more than {MAX_SNAPSHOT_ENTRIES} entries, the most a snapshot \
                 may hold"
            )));
        }
    }
    let header_bytes = purse_types::encode(&*header);
    file.write_all(&checksum(&header_bytes, &digest.finalize()))?;
    let mut file = file.into_inner().map_err(|e| e.into_error())?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header_bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Reads `path`, checks its checksum and that its state has root `expected_root`, and imports it into the
/// empty `store` as the state at the snapshot's height, with the head set to that height.
pub fn import_snapshot<S: KvStore>(
    store: S,
    chain_id: &str,
    state_config: StateConfig,
    path: &Path,
    expected_root: &Hash,
) -> Result<Storage<S>, StorageError> {
    import_snapshot_with_blocks(store, chain_id, state_config, path, expected_root, &[])
}

/// [`import_snapshot`] for a store a node will run on (state sync): also writes the records of `blocks` — the
/// chain's anchor points the node needs without their history, typically the genesis record (height 0) and
/// the certified block at the snapshot's height — in the same atomic batch. The block at the snapshot's height
/// must be among them, with the snapshot's block hash and state root; blocks above it are refused. Their
/// receipts are stored as given (a state-synced node usually has none for the anchor block).
pub fn import_snapshot_with_blocks<S: KvStore>(
    store: S,
    chain_id: &str,
    state_config: StateConfig,
    path: &Path,
    expected_root: &Hash,
    blocks: &[CommitBundle],
) -> Result<Storage<S>, StorageError> {
    let mut storage = Storage::open(store, chain_id, state_config)?;
    if storage.head().is_some() || storage.state().latest_version().is_some() {
        return Err(StorageError::NotEmpty);
    }
    let file = File::open(path)?;
    let file_len = file.metadata()?.len();
    if file_len > MAX_SNAPSHOT_FILE_BYTES {
        return Err(invalid(format!(
            "the file has {file_len} bytes, more than the {MAX_SNAPSHOT_FILE_BYTES} a snapshot may have"
        )));
    }
    let mut r = BufReader::new(file);
    let header = SnapshotHeader::deserialize_reader(&mut r).map_err(|e| invalid(format!("header: {e}")))?;
    if header.magic != SNAPSHOT_MAGIC {
        return Err(invalid("not a snapshot file"));
    }
    if header.format != SNAPSHOT_FORMAT {
        return Err(invalid(format!("unsupported snapshot format {}", header.format)));
    }
    if header.chain_id != chain_id {
        return Err(StorageError::WrongChain { expected: chain_id.into(), found: header.chain_id });
    }
    if header.count > MAX_SNAPSHOT_ENTRIES {
        return Err(invalid(format!(
            "{} entries exceed the maximum of {MAX_SNAPSHOT_ENTRIES}",
            header.count
        )));
    }
    if header.state_root != *expected_root {
        return Err(StorageError::SnapshotRootMismatch {
            expected: *expected_root,
            found: header.state_root,
        });
    }
    let mut digest = blake3::Hasher::new();
    let mut overlay = Overlay::new();
    let mut budget = MAX_SNAPSHOT_BYTES;
    for i in 0..header.count {
        let key = read_part(&mut r, MAX_KEY_LEN, &mut budget, &mut digest, i)?;
        let value = read_part(&mut r, MAX_VALUE_LEN, &mut budget, &mut digest, i)?;
        if overlay.get(&key).is_some() {
            return Err(invalid(format!("entry {i} repeats a key")));
        }
        overlay.put(&key, &value)?;
    }
    let mut sum = [0u8; 32];
    r.read_exact(&mut sum).map_err(|_| invalid("missing checksum"))?;
    let mut extra = [0u8; 1];
    if r.read(&mut extra)? != 0 {
        return Err(invalid("bytes after the checksum"));
    }
    if sum != checksum(&purse_types::encode(&header), &digest.finalize()) {
        return Err(invalid("checksum mismatch"));
    }
    let mut prepared = storage.state().prepare_commit(header.height, &overlay)?;
    if prepared.root != *expected_root {
        return Err(StorageError::SnapshotRootMismatch { expected: *expected_root, found: prepared.root });
    }
    let head = Head { height: header.height, block_hash: header.block_hash, state_root: prepared.root };
    if !blocks.is_empty() {
        let anchor = blocks.iter().find(|b| b.height == header.height).ok_or_else(|| {
            invalid(format!("no block record at the snapshot height {} was given", header.height))
        })?;
        if anchor.block_hash != header.block_hash || anchor.state_root != prepared.root {
            return Err(invalid(format!(
                "the block given for height {} does not match the snapshot's block hash and state root",
                header.height
            )));
        }
        if let Some(b) = blocks.iter().find(|b| b.height > header.height) {
            return Err(invalid(format!(
                "block {} is above the snapshot height {}",
                b.height, header.height
            )));
        }
    }
    let mut batch = prepared.take_batch();
    for b in blocks {
        storage.block_records(b, &mut batch);
    }
    batch.put(Column::Meta, META_HEAD, purse_types::encode(&head));
    storage.write_import(prepared, batch, head)?;
    Ok(storage)
}

/// Reads one length-prefixed field of entry `i`: at most `max` bytes, taken from `budget` (what is left of
/// [`MAX_SNAPSHOT_BYTES`]) before anything is allocated for it.
fn read_part<R: Read>(
    r: &mut R,
    max: usize,
    budget: &mut u64,
    digest: &mut blake3::Hasher,
    i: u64,
) -> Result<Vec<u8>, StorageError> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).map_err(|_| invalid(format!("truncated at entry {i}")))?;
    let n = u32::from_le_bytes(len) as usize;
    if n > max {
        return Err(invalid(format!("entry {i} has a field of {n} bytes, more than {max}")));
    }
    *budget = budget.checked_sub(n as u64).ok_or_else(|| {
        invalid(format!("at entry {i} the entries exceed the {MAX_SNAPSHOT_BYTES} bytes a snapshot may hold"))
    })?;
    let mut buf = vec![0u8; n];
    r.read_exact(&mut buf).map_err(|_| invalid(format!("truncated at entry {i}")))?;
    digest.update(&len);
    digest.update(&buf);
    Ok(buf)
}
