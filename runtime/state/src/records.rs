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
/// Meta key of the latest checkpoint: the latest version whose whole tree is in the store (u64 big-endian).
pub const META_CHECKPOINT: &[u8] = b"state/checkpoint";
/// Meta key of the pruning horizon: a checkpoint at or below the oldest readable version, from which on every
/// record is kept — the tree of that checkpoint and the changes of every later version (u64 big-endian).
pub const META_HORIZON: &[u8] = b"state/horizon";

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

/// [`value_key`] in a stack buffer.
pub fn value_key_bytes(key_hash: &Hash, version: u64) -> [u8; VALUE_KEY_LEN] {
    let mut k = [0u8; VALUE_KEY_LEN];
    k[..32].copy_from_slice(&key_hash.0);
    k[32..].copy_from_slice(&(u64::MAX - version).to_be_bytes());
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
    /// The borsh encoding of a record of `key` and `value`, built without copying them into a record first.
    pub fn encode_parts(key: &[u8], value: Option<&[u8]>) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + key.len() + value.map_or(0, <[u8]>::len));
        Self::encode_parts_into(key, value, &mut out);
        out
    }

    /// Appends [`encode_parts`](Self::encode_parts) of `key` and `value` to `out`.
    pub fn encode_parts_into(key: &[u8], value: Option<&[u8]>, out: &mut Vec<u8>) {
        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        out.extend_from_slice(key);
        match value {
            Some(v) => {
                out.push(1);
                out.extend_from_slice(&(v.len() as u32).to_le_bytes());
                out.extend_from_slice(v);
            }
            None => out.push(0),
        }
    }

    /// Decodes a record read at `key`.
    pub fn decode(key: &[u8], bytes: &[u8]) -> Result<ValueRecord, StoreError> {
        purse_types::decode(bytes).map_err(|e| StoreError::corrupt(Column::StateValues, key, e.to_string()))
    }
}

/// What a stale-index entry lists. The tag orders entries of one version: value records before the tombstones
/// that hid them, so a pruning pass cut between entries never exposes an old value.
///
/// A version's [`Value`](Self::Value) and [`Created`](Self::Created) lists together name every key the
/// version wrote (updated or deleted, and created): they are also its change list, from which the tree of a
/// version after a checkpoint is rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StaleKind {
    /// Nodes in [`Column::StateNodes`].
    Node = 0,
    /// Value records in [`Column::StateValues`].
    Value = 1,
    /// Tombstones in [`Column::StateValues`].
    Tombstone = 2,
    /// Not stale records: the key hashes (32 bytes each) of the keys the version created. Pruning drops the
    /// list and nothing else.
    Created = 3,
}

impl StaleKind {
    /// The column holding the records of this kind (`None` for [`Created`](Self::Created), which lists
    /// no records to delete).
    pub fn column(self) -> Option<Column> {
        match self {
            StaleKind::Node => Some(Column::StateNodes),
            StaleKind::Value | StaleKind::Tombstone => Some(Column::StateValues),
            StaleKind::Created => None,
        }
    }
}

/// Most record keys listed in one stale-index entry.
pub const STALE_CHUNK: usize = 4_096;

/// Length of a stale-index key.
pub const STALE_KEY_LEN: usize = 13;

/// Stale-index key: the version since which the listed records are unused (u64 big-endian), the kind, the
/// chunk number (u32 big-endian). The value lists the record keys (see [`encode_stale_list`]): one entry per
/// [`STALE_CHUNK`] records instead of one per record keeps a block commit's write batch small.
pub fn stale_key(since: u64, kind: StaleKind, chunk: u32) -> [u8; STALE_KEY_LEN] {
    let mut k = [0u8; STALE_KEY_LEN];
    k[..8].copy_from_slice(&since.to_be_bytes());
    k[8] = kind as u8;
    k[9..].copy_from_slice(&chunk.to_be_bytes());
    k
}

/// Splits a stale-index key into the version and the kind of list.
pub fn parse_stale_key(key: &[u8]) -> Result<(u64, StaleKind), StoreError> {
    let bad = || StoreError::corrupt(Column::StateStale, key, "malformed stale-index key");
    if key.len() != STALE_KEY_LEN {
        return Err(bad());
    }
    let kind = match key[8] {
        0 => StaleKind::Node,
        1 => StaleKind::Value,
        2 => StaleKind::Tombstone,
        3 => StaleKind::Created,
        _ => return Err(bad()),
    };
    let mut v = [0u8; 8];
    v.copy_from_slice(&key[..8]);
    Ok((u64::from_be_bytes(v), kind))
}

/// Appends one record key to a stale list: its length (u8, keys are at most 41 bytes) then the key.
pub fn push_stale_record(list: &mut Vec<u8>, record_key: &[u8]) {
    list.push(record_key.len() as u8);
    list.extend_from_slice(record_key);
}

/// Appends a value key (see [`value_key`]) to a stale list, without building the key separately.
pub fn push_stale_value(list: &mut Vec<u8>, key_hash: &Hash, version: u64) {
    list.push(VALUE_KEY_LEN as u8);
    list.extend_from_slice(&key_hash.0);
    list.extend_from_slice(&(u64::MAX - version).to_be_bytes());
}

/// The record keys of a stale list read at `key`.
pub fn decode_stale_list<'a>(key: &[u8], list: &'a [u8]) -> Result<Vec<&'a [u8]>, StoreError> {
    let mut out = Vec::new();
    let mut rest = list;
    while let Some((&len, tail)) = rest.split_first() {
        let len = len as usize;
        if len == 0 || tail.len() < len {
            return Err(StoreError::corrupt(Column::StateStale, key, "malformed stale list"));
        }
        out.push(&tail[..len]);
        rest = &tail[len..];
    }
    Ok(out)
}

/// Root record of one version: where the root is (none for the empty tree), the root hash, and whether the
/// version is a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct RootRecord {
    /// The encoded [`NodeKey`] of the root node (9 bytes: version, path length 0) or, when the whole tree is
    /// a single leaf (which has no node record), the 40-byte value key of that leaf's value record.
    pub node: Option<Vec<u8>>,
    /// The state root.
    pub hash: Hash,
    /// Whether the version's whole tree was in the store when it was committed (a checkpoint; its nodes stay
    /// until pruned). The tree of any other version is rebuilt from the checkpoint before it and the change
    /// lists of the versions between.
    pub checkpoint: bool,
}

impl RootRecord {
    /// Decodes a record read at `key`.
    pub fn decode(key: &[u8], bytes: &[u8]) -> Result<RootRecord, StoreError> {
        purse_types::decode(bytes).map_err(|e| StoreError::corrupt(Column::StateRoots, key, e.to_string()))
    }

    /// The root node key, if the root is an internal node.
    pub fn node_key(&self) -> Result<Option<NodeKey>, StoreError> {
        match self.node.as_deref() {
            Some(k) if k.len() != VALUE_KEY_LEN => NodeKey::decode(k).map(Some),
            _ => Ok(None),
        }
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
    fn value_record_parts_are_borsh() {
        for value in [None, Some(&b""[..]), Some(&b"some value"[..])] {
            let r = ValueRecord { key: b"key".to_vec(), value: value.map(<[u8]>::to_vec) };
            assert_eq!(ValueRecord::encode_parts(b"key", value), purse_types::encode(&r));
        }
    }

    #[test]
    fn value_keys_sort_newest_first_and_round_trip() {
        let kh = Hash([7; 32]);
        assert!(value_key(&kh, 10) < value_key(&kh, 9));
        assert_eq!(value_key_bytes(&kh, 10).to_vec(), value_key(&kh, 10));
        assert_eq!(parse_value_key(&value_key(&kh, 42)).unwrap(), (kh, 42));
        assert!(parse_value_key(&[0; 39]).is_err());
    }

    #[test]
    fn stale_keys_order_by_version_then_kind() {
        let a = stale_key(5, StaleKind::Tombstone, 0);
        let b = stale_key(5, StaleKind::Value, 9);
        let c = stale_key(6, StaleKind::Node, 0);
        assert!(b < a && a < c);
        assert_eq!(parse_stale_key(&b).unwrap(), (5, StaleKind::Value));
        assert_eq!(parse_stale_key(&c).unwrap(), (6, StaleKind::Node));
        assert_eq!(parse_stale_key(&stale_key(7, StaleKind::Created, 1)).unwrap(), (7, StaleKind::Created));
        assert!(parse_stale_key(&[0; 8]).is_err());
        let mut bad = stale_key(1, StaleKind::Node, 0);
        bad[8] = 4;
        assert!(parse_stale_key(&bad).is_err());
    }

    #[test]
    fn stale_lists_round_trip() {
        let mut list = Vec::new();
        push_stale_record(&mut list, b"abc");
        push_stale_record(&mut list, &[7; 41]);
        let keys = decode_stale_list(b"k", &list).unwrap();
        assert_eq!(keys, vec![&b"abc"[..], &[7; 41][..]]);
        assert!(decode_stale_list(b"k", &list[..list.len() - 1]).is_err());
        assert!(decode_stale_list(b"k", &[0]).is_err());
        assert!(decode_stale_list(b"k", &[]).unwrap().is_empty());
    }
}
