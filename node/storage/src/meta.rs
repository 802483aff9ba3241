//! Store metadata: the format record, the head, the commit-in-progress marker.

use borsh::{BorshDeserialize, BorshSerialize};
use purse_state::{Column, StoreError};
use purse_types::Hash;

/// Format version this build writes and reads. Bump on any change of column families, keys or records.
pub const FORMAT_VERSION: u32 = 6;
/// Longest chain id, in bytes.
pub const MAX_CHAIN_ID_LEN: usize = 64;

/// Meta key of the [`FormatRecord`].
pub const META_FORMAT: &[u8] = b"format";
/// Meta key of the [`Head`].
pub const META_HEAD: &[u8] = b"head";
/// Meta key of the commit marker: put first and deleted last in every commit batch, so it is on disk only if
/// a backend tore a batch.
pub const META_COMMIT_MARKER: &[u8] = b"commit/in-progress";

/// Identifies the store: which chain, which format.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct FormatRecord {
    /// [`FORMAT_VERSION`] of the software that created the store.
    pub format_version: u32,
    /// Chain id.
    pub chain_id: String,
}

/// The last fully committed block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Head {
    /// Height of the block.
    pub height: u64,
    /// Hash of the block.
    pub block_hash: Hash,
    /// State root after the block.
    pub state_root: Hash,
}

/// Decodes a meta record read at `key`.
pub fn decode_meta<T: BorshDeserialize>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    purse_types::decode(bytes).map_err(|e| StoreError::corrupt(Column::Meta, key, e.to_string()))
}
