//! Block store records and keys: headers, blocks, certificates and receipts by height; hash and transaction
//! indexes. Block contents are opaque canonical (borsh) bytes: storage never interprets them.

use borsh::{BorshDeserialize, BorshSerialize};
use purse_state::{Column, StoreError};
use purse_types::{Address, Hash};

/// Most transactions (and receipts) one block may carry.
pub const MAX_TXS_PER_BLOCK: usize = 1_000_000;

/// Record kinds under a height in [`Column::Blocks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum BlockPart {
    /// Encoded header.
    Header = 0,
    /// Encoded block.
    Block = 1,
    /// Encoded commit certificate.
    Certificate = 2,
    /// [`BlockInfo`]: hash and transaction ids.
    Info = 3,
    /// Encoded receipt; followed by the transaction's index (u32 big-endian) in the key.
    Receipt = 4,
}

/// Key in [`Column::Blocks`]: height (u64 big-endian) then the part tag.
pub fn block_key(height: u64, part: BlockPart) -> Vec<u8> {
    let mut k = Vec::with_capacity(13);
    k.extend_from_slice(&height.to_be_bytes());
    k.push(part as u8);
    k
}

/// Key of the receipt of transaction `index` of the block at `height`.
pub fn receipt_key(height: u64, index: u32) -> Vec<u8> {
    let mut k = block_key(height, BlockPart::Receipt);
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// Index tag: block hash → height.
pub const INDEX_BLOCK_HASH: u8 = b'b';
/// Index tag: transaction id → [`TxLocation`].
pub const INDEX_TX: u8 = b't';
/// Index tag: account → the transactions that name it, `a ‖ address ‖ height (BE) ‖ index (BE)` → tx id.
pub const INDEX_ACCOUNT_TX: u8 = b'a';

/// Key of the account-history entry of transaction `index` of block `height` for `account` (in key order:
/// by account, then chronological).
pub fn account_tx_key(account: &Address, height: u64, index: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + 32 + 8 + 4);
    k.push(INDEX_ACCOUNT_TX);
    k.extend_from_slice(&account.0);
    k.extend_from_slice(&height.to_be_bytes());
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// One entry of an account's history: a committed transaction that names the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountTx {
    /// Height of its block.
    pub height: u64,
    /// Its index in the block.
    pub index: u32,
    /// Its id.
    pub tx_id: Hash,
}

/// Key in [`Column::BlockIndex`]: tag then the 32-byte hash.
pub fn index_key(tag: u8, hash: &Hash) -> Vec<u8> {
    let mut k = Vec::with_capacity(33);
    k.push(tag);
    k.extend_from_slice(&hash.0);
    k
}

/// What storage knows about a block besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BlockInfo {
    /// The block hash.
    pub block_hash: Hash,
    /// State root after the block.
    pub state_root: Hash,
    /// Transaction ids in block order.
    pub tx_ids: Vec<Hash>,
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TxLocation {
    /// Height of its block.
    pub height: u64,
    /// Its index in the block.
    pub index: u32,
}

/// Decodes a block-store record read at `key` in `column`.
pub fn decode_record<T: BorshDeserialize>(column: Column, key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    purse_types::decode(bytes).map_err(|e| StoreError::corrupt(column, key, e.to_string()))
}

/// Everything committed with one block, as opaque encoded bytes. Written in one atomic batch with the block's
/// state changes and the new head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitBundle {
    /// Height of the block.
    pub height: u64,
    /// Hash of the block (of its header).
    pub block_hash: Hash,
    /// State root the block's header claims; must equal the root of the state changes.
    pub state_root: Hash,
    /// Encoded header.
    pub header: Vec<u8>,
    /// Encoded block.
    pub block: Vec<u8>,
    /// Encoded commit certificate, if known at commit time (else see
    /// [`Storage::put_certificate`](crate::Storage::put_certificate)).
    pub certificate: Option<Vec<u8>>,
    /// Transaction ids and encoded receipts, in block order.
    pub receipts: Vec<(Hash, Vec<u8>)>,
    /// The accounts each transaction names (`purse_types::Transaction::parties`), by transaction index: the
    /// account-history index (empty for anchor blocks of a state sync).
    pub parties: Vec<(u32, Address)>,
}
