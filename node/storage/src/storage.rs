//! The node's store: format checks on open, atomic block commits, block and transaction lookups.

use crate::blocks::{
    account_tx_key, block_key, index_key, receipt_key, BlockInfo, BlockPart, CommitBundle, TxLocation,
    INDEX_BLOCK_HASH, INDEX_TX, MAX_TXS_PER_BLOCK,
};
use crate::meta::{
    decode_meta, FormatRecord, Head, FORMAT_VERSION, MAX_CHAIN_ID_LEN, META_COMMIT_MARKER, META_FORMAT,
    META_HEAD,
};
use crate::reader::BlockReader;
use crate::StorageError;
use purse_state::{Column, KvStore, Overlay, PreparedCommit, StateConfig, StateDb, StateError, WriteBatch};
use purse_types::Hash;

/// A node's store over any [`KvStore`] (RocksDB in a node, a memory or fault-injecting store in tests).
#[derive(Debug)]
pub struct Storage<S> {
    state: StateDb<S>,
    chain_id: String,
    head: Option<Head>,
}

impl<S: KvStore> Storage<S> {
    /// Opens the store of chain `chain_id`, initialising an empty store.
    ///
    /// Fails if the store belongs to another chain, has another format, holds a torn commit, or its head and
    /// state disagree.
    pub fn open(store: S, chain_id: &str, state_config: StateConfig) -> Result<Storage<S>, StorageError> {
        if chain_id.is_empty() || chain_id.len() > MAX_CHAIN_ID_LEN {
            return Err(StorageError::BadChainId { len: chain_id.len(), max: MAX_CHAIN_ID_LEN });
        }
        match store.get(Column::Meta, META_FORMAT)? {
            Some(bytes) => {
                let f: FormatRecord = decode_meta(META_FORMAT, &bytes)?;
                if f.format_version > FORMAT_VERSION {
                    return Err(StorageError::NewerFormat {
                        found: f.format_version,
                        supported: FORMAT_VERSION,
                    });
                }
                if f.format_version < FORMAT_VERSION {
                    return Err(StorageError::OlderFormat {
                        found: f.format_version,
                        supported: FORMAT_VERSION,
                    });
                }
                if f.chain_id != chain_id {
                    return Err(StorageError::WrongChain { expected: chain_id.into(), found: f.chain_id });
                }
            }
            None => {
                for c in Column::ALL {
                    if !store.scan(c, &[], None, 1)?.is_empty() {
                        return Err(StorageError::MissingFormatRecord);
                    }
                }
                let f = FormatRecord { format_version: FORMAT_VERSION, chain_id: chain_id.into() };
                store.put(Column::Meta, META_FORMAT, &purse_types::encode(&f))?;
            }
        }
        if let Some(bytes) = store.get(Column::Meta, META_COMMIT_MARKER)? {
            let height = purse_state::records::decode_u64(Column::Meta, META_COMMIT_MARKER, &bytes)?;
            return Err(StorageError::TornCommit { height });
        }
        let head: Option<Head> = match store.get(Column::Meta, META_HEAD)? {
            Some(b) => Some(decode_meta(META_HEAD, &b)?),
            None => None,
        };
        let state = StateDb::open(store, state_config)?;
        match (&head, state.latest_version()) {
            (None, None) => {}
            (Some(h), Some(v)) if h.height == v && h.state_root == state.root() => {}
            (h, v) => {
                return Err(StorageError::Inconsistent(format!(
                    "head {h:?} but state version {v:?} with root {}",
                    state.root()
                )));
            }
        }
        Ok(Storage { state, chain_id: chain_id.into(), head })
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The last committed block, if any: with [`submit_block`](Self::submit_block), the last submitted one,
    /// durable once [`settle`](Self::settle) returns.
    pub fn head(&self) -> Option<Head> {
        self.head
    }

    /// The authenticated state (read it, and prepare commits with
    /// [`StateDb::prepare_commit`](purse_state::StateDb::prepare_commit)).
    pub fn state(&self) -> &StateDb<S> {
        &self.state
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        self.state.store()
    }

    /// Commits a block with its state changes: block records, receipts, indexes, state and the new head are
    /// written in one atomic, synced batch. On error nothing is committed and this store is unchanged. The
    /// block is durable when this returns (blocks submitted before it are settled first).
    pub fn commit_block(
        &mut self,
        bundle: CommitBundle,
        mut state: PreparedCommit,
    ) -> Result<Head, StorageError> {
        self.settle()?;
        let (head, batch) = self.block_batch(&bundle, &mut state)?;
        self.state.write_commit(state, batch).map_err(store_or_state)?;
        self.head = Some(head);
        Ok(head)
    }

    /// Commits a block as [`commit_block`](Self::commit_block) does, pipelined (ADR 0020): the block is the
    /// head and its state the latest when this returns — reads see it, and the next block can be executed and
    /// prepared on top of it — while a writer thread writes its batch. It is durable once
    /// [`settle`](Self::settle) returns; this store's other writes (the consensus WAL, the signer state, a
    /// certificate) and its block reads wait for it first. `changes` are the overlay the state commit was
    /// prepared from.
    ///
    /// If the write fails, settling returns the error and the head goes back to the last block in the store.
    pub fn submit_block(
        &mut self,
        bundle: CommitBundle,
        mut state: PreparedCommit,
        changes: Overlay,
    ) -> Result<Head, StorageError>
    where
        S: Clone + 'static,
    {
        let (head, batch) = self.block_batch(&bundle, &mut state)?;
        self.state.submit_commit(state, batch, changes).map_err(|e| self.after_failed_write(e))?;
        self.head = Some(head);
        Ok(head)
    }

    /// Waits until every submitted block is durable. If a write failed, returns its error, and the head and
    /// the state go back to the last block in the store.
    pub fn settle(&mut self) -> Result<(), StorageError> {
        self.state.settle().map_err(|e| self.after_failed_write(e))
    }

    /// The head after `e` failed a pending write (the state was put back to the store's latest version): the
    /// store's head record, which the failed writes did not reach.
    fn after_failed_write(&mut self, e: StateError) -> StorageError {
        if matches!(e, StateError::PendingWriteFailed { .. }) {
            match self.store().get(Column::Meta, META_HEAD) {
                Ok(Some(b)) => match decode_meta(META_HEAD, &b) {
                    Ok(head) => self.head = Some(head),
                    Err(read) => return read.into(),
                },
                Ok(None) => self.head = None,
                Err(read) => return read.into(),
            }
        }
        store_or_state(e)
    }

    /// Waits for the submitted blocks' writes before a read of the block store or a write of other records
    /// (which must land after them).
    pub(crate) fn wait_written(&self) -> Result<(), StorageError> {
        self.state.wait_written().map_err(store_or_state)
    }

    /// [`reader`](Self::reader), once the submitted blocks' writes have landed: what the block reads of this
    /// store go through, so that they see every block it has taken.
    fn written_reader(&self) -> Result<BlockReader<&S>, StorageError> {
        self.wait_written()?;
        Ok(self.reader())
    }

    /// Checks `bundle` against this store and its state commit, and builds the block's batch: the state's
    /// batch (taken from `state`) wrapped with the block records, the new head and the commit marker.
    fn block_batch(
        &self,
        bundle: &CommitBundle,
        state: &mut PreparedCommit,
    ) -> Result<(Head, WriteBatch), StorageError> {
        if let Some(h) = self.head {
            let expected = h.height.saturating_add(1);
            if bundle.height != expected {
                return Err(StorageError::NonSequentialHeight { expected, got: bundle.height });
            }
        }
        if state.version != bundle.height {
            return Err(StorageError::Inconsistent(format!(
                "state changes are for version {} but the block is at height {}",
                state.version, bundle.height
            )));
        }
        if state.root != bundle.state_root {
            return Err(StorageError::StateRootMismatch { claimed: bundle.state_root, computed: state.root });
        }
        if bundle.receipts.len() > MAX_TXS_PER_BLOCK {
            return Err(StorageError::TooManyTransactions(bundle.receipts.len()));
        }
        let head = Head { height: bundle.height, block_hash: bundle.block_hash, state_root: state.root };
        let mut batch = WriteBatch::with_capacity(state.batch.len() + bundle.receipts.len() * 2 + 8);
        batch.put(Column::Meta, META_COMMIT_MARKER, bundle.height.to_be_bytes());
        self.block_records(bundle, &mut batch);
        batch.append(state.take_batch());
        batch.put(Column::Meta, META_HEAD, purse_types::encode(&head));
        batch.delete(Column::Meta, META_COMMIT_MARKER);
        Ok((head, batch))
    }

    pub(crate) fn block_records(&self, b: &CommitBundle, batch: &mut WriteBatch) {
        let h = b.height;
        batch.put(Column::Blocks, block_key(h, BlockPart::Header), b.header.clone());
        batch.put(Column::Blocks, block_key(h, BlockPart::Block), b.block.clone());
        if let Some(c) = &b.certificate {
            batch.put(Column::Blocks, block_key(h, BlockPart::Certificate), c.clone());
        }
        let info = BlockInfo {
            block_hash: b.block_hash,
            state_root: b.state_root,
            tx_ids: b.receipts.iter().map(|(id, _)| *id).collect(),
        };
        batch.put(Column::Blocks, block_key(h, BlockPart::Info), purse_types::encode(&info));
        batch.put(Column::BlockIndex, index_key(INDEX_BLOCK_HASH, &b.block_hash), h.to_be_bytes());
        for (i, (tx_id, receipt)) in b.receipts.iter().enumerate() {
            let index = i as u32;
            batch.put(Column::Blocks, receipt_key(h, index), receipt.clone());
            let loc = TxLocation { height: h, index };
            batch.put(Column::BlockIndex, index_key(INDEX_TX, tx_id), purse_types::encode(&loc));
        }
        for (index, account) in &b.parties {
            if let Some((tx_id, _)) = b.receipts.get(*index as usize) {
                batch.put(Column::BlockIndex, account_tx_key(account, h, *index), tx_id.0);
            }
        }
    }

    /// Stores the commit certificate of an already committed block (certificates may arrive with the next
    /// block).
    pub fn put_certificate(&self, height: u64, certificate: &[u8]) -> Result<(), StorageError> {
        if self.block_info(height)?.is_none() {
            return Err(StorageError::Inconsistent(format!("no block at height {height} to certify")));
        }
        // (`block_info` waited for the submitted blocks: this write lands after them.)
        Ok(self.store().put(Column::Blocks, &block_key(height, BlockPart::Certificate), certificate)?)
    }

    /// Read access to committed blocks through this store.
    pub fn reader(&self) -> BlockReader<&S> {
        BlockReader::new(self.store())
    }

    /// A reader that owns a handle on the store: it reads committed blocks from other threads (RPC, block-sync
    /// serving) while this storage keeps committing.
    pub fn shared_reader(&self) -> BlockReader<S>
    where
        S: Clone,
    {
        BlockReader::new(self.store().clone())
    }

    /// Encoded header at `height`.
    pub fn header(&self, height: u64) -> Result<Option<Vec<u8>>, StorageError> {
        self.written_reader()?.header(height)
    }

    /// Encoded block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Vec<u8>>, StorageError> {
        self.written_reader()?.block(height)
    }

    /// Encoded commit certificate of the block at `height`.
    pub fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>, StorageError> {
        self.written_reader()?.certificate(height)
    }

    /// Hash, state root and transaction ids of the block at `height`.
    pub fn block_info(&self, height: u64) -> Result<Option<BlockInfo>, StorageError> {
        self.written_reader()?.block_info(height)
    }

    /// Height of the block with hash `block_hash`.
    pub fn height_of(&self, block_hash: &Hash) -> Result<Option<u64>, StorageError> {
        self.written_reader()?.height_of(block_hash)
    }

    /// Encoded header of the block with hash `block_hash`.
    pub fn header_by_hash(&self, block_hash: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        self.written_reader()?.header_by_hash(block_hash)
    }

    /// Encoded block with hash `block_hash`.
    pub fn block_by_hash(&self, block_hash: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        self.written_reader()?.block_by_hash(block_hash)
    }

    /// Encoded commit certificate of the block with hash `block_hash`.
    pub fn certificate_by_hash(&self, block_hash: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        self.written_reader()?.certificate_by_hash(block_hash)
    }

    /// Where the transaction `tx_id` was committed.
    pub fn tx_location(&self, tx_id: &Hash) -> Result<Option<TxLocation>, StorageError> {
        self.written_reader()?.tx_location(tx_id)
    }

    /// Location and encoded receipt of transaction `tx_id`.
    pub fn receipt(&self, tx_id: &Hash) -> Result<Option<(TxLocation, Vec<u8>)>, StorageError> {
        self.written_reader()?.receipt(tx_id)
    }

    /// Encoded receipts of the block at `height`, in block order (at most `limit`, from index `from`).
    pub fn receipts(&self, height: u64, from: u32, limit: usize) -> Result<Vec<Vec<u8>>, StorageError> {
        self.written_reader()?.receipts(height, from, limit)
    }
}

impl<S: KvStore> Storage<S> {
    /// Writes a snapshot import's batch (state and head; see
    /// [`StateDb::write_commit`](purse_state::StateDb::write_commit)) and makes `head` the head.
    pub(crate) fn write_import(
        &mut self,
        prepared: PreparedCommit,
        batch: WriteBatch,
        head: Head,
    ) -> Result<(), StorageError> {
        self.settle()?;
        self.state.write_commit(prepared, batch).map_err(store_or_state)?;
        self.head = Some(head);
        Ok(())
    }
}

/// A state error, with the store's own errors reported as such.
fn store_or_state(e: StateError) -> StorageError {
    match e {
        StateError::Store(e) => StorageError::Store(e),
        e => StorageError::State(e),
    }
}
