//! Read access to committed blocks, receipts and indexes over any store handle. [`crate::Storage`] reads
//! through it; RPC and block-sync serving hold a [`BlockReader`] over a clone of the shared store
//! (`Arc<RocksStore>`) and read while the engine commits. Every record it returns was written by one atomic
//! commit, so a reader never sees half a block.

use crate::blocks::{
    account_tx_key, block_key, decode_record, index_key, receipt_key, AccountTx, BlockInfo, BlockPart,
    TxLocation, INDEX_BLOCK_HASH, INDEX_TX,
};
use crate::meta::{decode_meta, Head, META_HEAD};
use crate::StorageError;
use purse_state::{Column, KvStore, StoreError};
use purse_types::{Address, Hash};

/// Most entries one [`BlockReader::account_txs`] call returns.
pub const MAX_ACCOUNT_TXS: usize = 1_000;

/// Reads committed blocks from a store handle.
#[derive(Debug, Clone)]
pub struct BlockReader<S> {
    store: S,
}

impl<S: KvStore> BlockReader<S> {
    /// A reader over `store`.
    pub fn new(store: S) -> BlockReader<S> {
        BlockReader { store }
    }

    /// The last fully committed block, as recorded in the store.
    pub fn head(&self) -> Result<Option<Head>, StorageError> {
        match self.store.get(Column::Meta, META_HEAD)? {
            Some(b) => Ok(Some(decode_meta(META_HEAD, &b)?)),
            None => Ok(None),
        }
    }

    /// Encoded header at `height`.
    pub fn header(&self, height: u64) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.store.get(Column::Blocks, &block_key(height, BlockPart::Header))?)
    }

    /// Encoded block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.store.get(Column::Blocks, &block_key(height, BlockPart::Block))?)
    }

    /// Encoded commit certificate of the block at `height`.
    pub fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.store.get(Column::Blocks, &block_key(height, BlockPart::Certificate))?)
    }

    /// Hash, state root and transaction ids of the block at `height`.
    pub fn block_info(&self, height: u64) -> Result<Option<BlockInfo>, StorageError> {
        let k = block_key(height, BlockPart::Info);
        match self.store.get(Column::Blocks, &k)? {
            Some(b) => Ok(Some(decode_record(Column::Blocks, &k, &b)?)),
            None => Ok(None),
        }
    }

    /// Height of the block with hash `block_hash`.
    pub fn height_of(&self, block_hash: &Hash) -> Result<Option<u64>, StorageError> {
        let k = index_key(INDEX_BLOCK_HASH, block_hash);
        match self.store.get(Column::BlockIndex, &k)? {
            Some(b) => Ok(Some(purse_state::records::decode_u64(Column::BlockIndex, &k, &b)?)),
            None => Ok(None),
        }
    }

    /// Encoded header of the block with hash `block_hash`.
    pub fn header_by_hash(&self, block_hash: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        match self.height_of(block_hash)? {
            Some(h) => self.header(h),
            None => Ok(None),
        }
    }

    /// Encoded block with hash `block_hash`.
    pub fn block_by_hash(&self, block_hash: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        match self.height_of(block_hash)? {
            Some(h) => self.block(h),
            None => Ok(None),
        }
    }

    /// Encoded commit certificate of the block with hash `block_hash`.
    pub fn certificate_by_hash(&self, block_hash: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        match self.height_of(block_hash)? {
            Some(h) => self.certificate(h),
            None => Ok(None),
        }
    }

    /// Up to `limit` (at most [`MAX_ACCOUNT_TXS`]) committed transactions that name `account`, oldest first,
    /// after the position `after` (`(height, index)`, exclusive) when given.
    pub fn account_txs(
        &self,
        account: &Address,
        after: Option<(u64, u32)>,
        limit: usize,
    ) -> Result<Vec<AccountTx>, StorageError> {
        let prefix = account_tx_key(account, 0, 0)[..33].to_vec();
        let start = match after {
            Some((h, i)) => purse_state::key_successor(&account_tx_key(account, h, i)),
            None => prefix.clone(),
        };
        let end = purse_state::prefix_end(&prefix);
        let entries =
            self.store.scan(Column::BlockIndex, &start, end.as_deref(), limit.min(MAX_ACCOUNT_TXS))?;
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let bad =
                || StorageError::from(StoreError::corrupt(Column::BlockIndex, &k, "bad account index entry"));
            let (Some(h), Some(i), Ok(id)) =
                (k.get(33..41), k.get(41..45), <[u8; 32]>::try_from(v.as_slice()))
            else {
                return Err(bad());
            };
            let height = u64::from_be_bytes(h.try_into().map_err(|_| bad())?);
            let index = u32::from_be_bytes(i.try_into().map_err(|_| bad())?);
            out.push(AccountTx { height, index, tx_id: Hash(id) });
        }
        Ok(out)
    }

    /// Where the transaction `tx_id` was committed.
    pub fn tx_location(&self, tx_id: &Hash) -> Result<Option<TxLocation>, StorageError> {
        let k = index_key(INDEX_TX, tx_id);
        match self.store.get(Column::BlockIndex, &k)? {
            Some(b) => Ok(Some(decode_record(Column::BlockIndex, &k, &b)?)),
            None => Ok(None),
        }
    }

    /// Location and encoded receipt of transaction `tx_id`.
    pub fn receipt(&self, tx_id: &Hash) -> Result<Option<(TxLocation, Vec<u8>)>, StorageError> {
        let Some(loc) = self.tx_location(tx_id)? else { return Ok(None) };
        let k = receipt_key(loc.height, loc.index);
        match self.store.get(Column::Blocks, &k)? {
            Some(r) => Ok(Some((loc, r))),
            None => Err(StoreError::corrupt(Column::Blocks, &k, "indexed receipt missing").into()),
        }
    }

    /// Encoded receipts of the block at `height`, in block order (at most `limit`, from index `from`).
    pub fn receipts(&self, height: u64, from: u32, limit: usize) -> Result<Vec<Vec<u8>>, StorageError> {
        let start = receipt_key(height, from);
        let end = block_key(height, BlockPart::Receipt);
        let end = purse_state::prefix_end(&end);
        let limit = limit.min(purse_state::MAX_SCAN_LIMIT);
        Ok(self
            .store
            .scan(Column::Blocks, &start, end.as_deref(), limit)?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }
}
