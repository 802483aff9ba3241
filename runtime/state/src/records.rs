//! Keys and records of the state columns other than nodes: values, stale index, roots, metadata.

use crate::kv::StoreError;
use crate::node::NodeKey;
use crate::Column;
use borsh::{BorshDeserialize, BorshSerialize};
use purse_types::Hash;

/// Meta key of the latest committed state version (u64 big-endian).
pub const META_LATEST: &[u8] = b"state/latest";
/// Meta key of the oldest readable state version (u64 big-endian).
pub const META_OLDEST: &[u8] = b"state/oldest";

/// Length of a value key: key hash and inverted version.
pub const VALUE_KEY_LEN: usize = 40;

/// Value key: key hash (32 bytes) then `u64::MAX - version` big-endian, so a key's records sort newest first
/// and the record visible at version `v` is the first at or after `value_key(kh, v)`.
pub fn value_key(key_hash: &Hash, version: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(VALUE_KEY_LEN);
    k.extend_from_slice(&key_hash.0);
    k.extend_from_slice(&(u64::MAX - version).to_be_bytes());
    k
}

/// Splits a value key into key hash and version.
pub fn parse_value_key(key: &[u8]) -> Result<(Hash, u64), StoreError> {
    if key.len() != VALUE_KEY_LEN {
        return Err(StoreError::corrupt(Column::StateValues, key, "value key is not 40 bytes"));
    }
    let mut kh = [0u8; 32];
    kh.copy_from_slice(&key[..32]);
    let mut inv = [0u8; 8];
    inv.copy_from_slice(&key[32..]);
    Ok((Hash(kh), u64::MAX - u64::from_be_bytes(inv)))
}

/// A value record: the key itself (for snapshots) and the value, or `None` for a deletion (tombstone).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValueRecord {
    /// The key.
    pub key: Vec<u8>,
    /// The value, or `None` if the key was deleted at this version.
    pub value: Option<Vec<u8>>,
}

impl ValueRecord {
    /// Decodes a record read at `key`.
    pub fn decode(key: &[u8], bytes: &[u8]) -> Result<ValueRecord, StoreError> {
        purse_types::decode(bytes).map_err(|e| StoreError::corrupt(Column::StateValues, key, e.to_string()))
    }
}

/// What a stale-index entry points at. The tag orders entries of one version: value records before the
/// tombstones that hid them, so a pruning pass cut in pages never exposes an old value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StaleKind {
    /// A node in [`Column::StateNodes`].
    Node = 0,
    /// A value record in [`Column::StateValues`].
    Value = 1,
    /// A tombstone in [`Column::StateValues`].
    Tombstone = 2,
}

/// Stale-index key: the version since which the record is unused (u64 big-endian), the kind, the record key.
pub fn stale_key(since: u64, kind: StaleKind, record_key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + record_key.len());
    k.extend_from_slice(&since.to_be_bytes());
    k.push(kind as u8);
    k.extend_from_slice(record_key);
    k
}

/// Splits a stale-index key into the column and key of the record it points at.
pub fn parse_stale_key(key: &[u8]) -> Result<(Column, &[u8]), StoreError> {
    let bad = || StoreError::corrupt(Column::StateStale, key, "malformed stale-index key");
    if key.len() < 9 {
        return Err(bad());
    }
    let column = match key[8] {
        0 => Column::StateNodes,
        1 | 2 => Column::StateValues,
        _ => return Err(bad()),
    };
    Ok((column, &key[9..]))
}

/// Root record of one version: the root node's key (none for the empty tree) and the root hash.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct RootRecord {
    /// Encoded [`NodeKey`] of the root node, if the tree is not empty.
    pub node: Option<Vec<u8>>,
    /// The state root.
    pub hash: Hash,
}

impl RootRecord {
    /// Decodes a record read at `key`.
    pub fn decode(key: &[u8], bytes: &[u8]) -> Result<RootRecord, StoreError> {
        purse_types::decode(bytes).map_err(|e| StoreError::corrupt(Column::StateRoots, key, e.to_string()))
    }

    /// The root node key, if any.
    pub fn node_key(&self) -> Result<Option<NodeKey>, StoreError> {
        self.node.as_deref().map(NodeKey::decode).transpose()
    }
}

/// Root key of a version: u64 big-endian.
pub fn root_key(version: u64) -> [u8; 8] {
    version.to_be_bytes()
}

/// Decodes a u64 big-endian meta value.
pub fn decode_u64(column: Column, key: &[u8], bytes: &[u8]) -> Result<u64, StoreError> {
    let arr: [u8; 8] =
        bytes.try_into().map_err(|_| StoreError::corrupt(column, key, "expected an 8-byte integer"))?;
    Ok(u64::from_be_bytes(arr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_keys_sort_newest_first_and_round_trip() {
        let kh = Hash([7; 32]);
        assert!(value_key(&kh, 10) < value_key(&kh, 9));
        assert_eq!(parse_value_key(&value_key(&kh, 42)).unwrap(), (kh, 42));
        assert!(parse_value_key(&[0; 39]).is_err());
    }

    #[test]
    fn stale_keys_order_by_version_then_kind() {
        let a = stale_key(5, StaleKind::Tombstone, &[0]);
        let b = stale_key(5, StaleKind::Value, &[9]);
        let c = stale_key(6, StaleKind::Node, &[0]);
        assert!(b < a && a < c);
        assert_eq!(parse_stale_key(&b).unwrap(), (Column::StateValues, &[9u8][..]));
        assert!(parse_stale_key(&[0; 8]).is_err());
    }
}
