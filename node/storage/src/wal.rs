//! The consensus write-ahead log and the signer's persisted state.

use crate::{Storage, StorageError};
use purse_state::{Column, KvStore, WriteBatch, MAX_SCAN_LIMIT};

/// Largest WAL entry, in bytes: a proposal with a block of [`MAX_BLOCK_BYTES`](purse_types::block::MAX_BLOCK_BYTES)
/// (the largest a peer may send and the engine may build), with room for the rest of the record. Smaller, a
/// proposal near the block limit failed its WAL write and stopped the engine.
pub const MAX_WAL_ENTRY_LEN: usize = purse_types::block::MAX_BLOCK_BYTES + 256 * 1024;
/// Meta key of the signer state in [`Column::Signer`].
const SIGNER_KEY: &[u8] = b"last-signed";

impl<S: KvStore> Storage<S> {
    /// Appends consensus WAL entry `seq` durably (the write is synced before this returns on RocksDB), after
    /// the submitted blocks' writes (see [`Storage::submit_block`]).
    pub fn wal_append(&self, seq: u64, entry: &[u8]) -> Result<(), StorageError> {
        if entry.len() > MAX_WAL_ENTRY_LEN {
            return Err(StorageError::Inconsistent(format!(
                "WAL entry of {} bytes exceeds {MAX_WAL_ENTRY_LEN}",
                entry.len()
            )));
        }
        self.wait_written()?;
        Ok(self.store().put(Column::ConsensusWal, &seq.to_be_bytes(), entry)?)
    }

    /// Up to `limit` WAL entries with sequence number `>= from`, in order.
    pub fn wal_entries(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StorageError> {
        let page =
            self.store().scan(Column::ConsensusWal, &from.to_be_bytes(), None, limit.min(MAX_SCAN_LIMIT))?;
        page.into_iter()
            .map(|(k, v)| Ok((purse_state::records::decode_u64(Column::ConsensusWal, &k, &k)?, v)))
            .collect()
    }

    /// Deletes WAL entries with sequence number `< below` (up to [`MAX_SCAN_LIMIT`] per call), after the
    /// submitted blocks' writes; returns how many.
    pub fn wal_truncate(&self, below: u64) -> Result<usize, StorageError> {
        let page =
            self.store().scan(Column::ConsensusWal, &[], Some(&below.to_be_bytes()), MAX_SCAN_LIMIT)?;
        let mut batch = WriteBatch::with_capacity(page.len());
        for (k, _) in &page {
            batch.delete(Column::ConsensusWal, k.clone());
        }
        self.wait_written()?;
        self.store().write(batch)?;
        Ok(page.len())
    }

    /// Persists the signer's last signed (height, round, step), encoded by the caller, durably, after the
    /// submitted blocks' writes.
    pub fn save_signer_state(&self, state: &[u8]) -> Result<(), StorageError> {
        self.wait_written()?;
        Ok(self.store().put(Column::Signer, SIGNER_KEY, state)?)
    }

    /// The signer state last saved.
    pub fn signer_state(&self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.store().get(Column::Signer, SIGNER_KEY)?)
    }
}
