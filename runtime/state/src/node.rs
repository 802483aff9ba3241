//! Tree nodes and their storage keys.

use crate::hashing::internal_hash;
use crate::kv::StoreError;
use crate::state_proof::{MAX_PROOF_DEPTH, RADIX};
use crate::Column;
use purse_types::Hash;
use std::sync::Arc;

/// Where a node is stored: the version that wrote it and its nibble path from the root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeKey {
    /// Version (block height) that wrote the node.
    pub version: u64,
    /// Nibbles from the root, one per byte (each < 16), at most 64.
    pub path: Vec<u8>,
}

impl NodeKey {
    /// Storage key: version (u64 big-endian), path length (u8), path nibbles packed two per byte, high
    /// first. Sorting by version first lets a version's nodes be found with one range scan.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + self.path.len().div_ceil(2));
        out.extend_from_slice(&self.version.to_be_bytes());
        out.push(self.path.len() as u8);
        for pair in self.path.chunks(2) {
            let hi = pair[0] << 4;
            let lo = pair.get(1).copied().unwrap_or(0);
            out.push(hi | lo);
        }
        out
    }

    /// Parses a storage key written by [`encode`](Self::encode).
    pub fn decode(bytes: &[u8]) -> Result<NodeKey, StoreError> {
        let bad = |reason: &str| StoreError::corrupt(Column::StateNodes, bytes, reason);
        if bytes.len() < 9 {
            return Err(bad("node key shorter than 9 bytes"));
        }
        let mut v = [0u8; 8];
        v.copy_from_slice(&bytes[..8]);
        let len = bytes[8] as usize;
        if len > MAX_PROOF_DEPTH || bytes.len() != 9 + len.div_ceil(2) {
            return Err(bad("node key path length does not match"));
        }
        let mut path = Vec::with_capacity(len);
        for i in 0..len {
            let b = bytes[9 + i / 2];
            path.push(if i % 2 == 0 { b >> 4 } else { b & 0x0f });
        }
        if len % 2 == 1 && bytes[8 + len.div_ceil(2)] & 0x0f != 0 {
            return Err(bad("node key padding nibble is not zero"));
        }
        Ok(NodeKey { version: u64::from_be_bytes(v), path })
    }

    /// The key of child `nibble` of the node at this path, written at `version`.
    pub fn child(&self, nibble: u8, version: u64) -> NodeKey {
        let mut path = Vec::with_capacity(self.path.len() + 1);
        path.extend_from_slice(&self.path);
        path.push(nibble);
        NodeKey { version, path }
    }
}

/// A [`NodeKey`] without a heap allocation: the path is kept packed two nibbles per byte, exactly as in the
/// storage key. Used by the update pass and the node cache, which handle tens of thousands of keys per block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct NodeId {
    /// Version that wrote the node.
    pub version: u64,
    /// Number of nibbles in the path.
    len: u8,
    /// Path nibbles, high nibble first; unused nibbles are zero.
    packed: [u8; 32],
}

/// Orders ids as their storage keys ([`NodeId::encode`]) order: by version, then depth, then path.
impl Ord for NodeId {
    fn cmp(&self, other: &NodeId) -> std::cmp::Ordering {
        (self.version, self.len, self.packed).cmp(&(other.version, other.len, other.packed))
    }
}

impl PartialOrd for NodeId {
    fn partial_cmp(&self, other: &NodeId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl NodeId {
    /// The root position, written at `version`.
    pub fn root(version: u64) -> NodeId {
        NodeId { version, len: 0, packed: [0; 32] }
    }

    /// Number of nibbles in the path.
    pub fn depth(&self) -> usize {
        self.len as usize
    }

    /// The same position, written at `version`.
    pub fn at(mut self, version: u64) -> NodeId {
        self.version = version;
        self
    }

    /// The position of child `nibble` (< 16), written at `version`. The path must be shorter than 64.
    pub fn child(&self, nibble: u8, version: u64) -> NodeId {
        let mut c = *self;
        c.version = version;
        let i = self.len as usize;
        if i < 64 {
            let shift = if i.is_multiple_of(2) { 4 } else { 0 };
            c.packed[i / 2] |= (nibble & 0x0f) << shift;
            c.len += 1;
        }
        c
    }

    /// The index of the position among those of its depth: its nibbles read as a base-16 number (depth at
    /// most 16).
    pub fn position(&self) -> usize {
        let len = (self.len as usize).min(16);
        if len == 0 {
            return 0;
        }
        let mut w = [0u8; 8];
        w.copy_from_slice(&self.packed[..8]);
        (u64::from_be_bytes(w) >> (64 - 4 * len)) as usize
    }

    /// The storage key, identical to [`NodeKey::encode`].
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + (self.len as usize).div_ceil(2));
        self.encode_into(&mut out);
        out
    }

    /// Appends the storage key to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let n = (self.len as usize).div_ceil(2);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.push(self.len);
        out.extend_from_slice(&self.packed[..n]);
    }

    /// Length of the storage key.
    pub fn encoded_len(&self) -> usize {
        9 + (self.len as usize).div_ceil(2)
    }

    /// The storage key in a stack buffer: the first [`encoded_len`](Self::encoded_len) bytes.
    pub fn key_bytes(&self) -> [u8; 41] {
        let mut out = [0u8; 41];
        out[..8].copy_from_slice(&self.version.to_be_bytes());
        out[8] = self.len;
        let n = (self.len as usize).div_ceil(2);
        out[9..9 + n].copy_from_slice(&self.packed[..n]);
        out
    }

    /// The id of `key` (whose path is at most 64 nibbles, each < 16).
    pub fn from_key(key: &NodeKey) -> NodeId {
        let mut id = NodeId::root(key.version);
        for &n in key.path.iter().take(64) {
            id = id.child(n, key.version);
        }
        id
    }
}

/// A reference from a node to one child. Plain data: a node holds no pointer to its children (the latest
/// tree's upper nodes are found by position, module `upper`; the others through the node cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Child {
    /// Nibble (0..16) of the child.
    pub nibble: u8,
    /// Hash of the child: a node's hash, or a leaf's hash.
    pub hash: Hash,
    /// For an internal child, the version that wrote it (its node key is this version and the parent's path
    /// plus `nibble`); for a leaf, the version of its value record.
    pub version: u64,
    /// The key hash, if the child is a leaf. Leaves are not stored as records of their own: a leaf is this
    /// entry (key hash, leaf hash, value version), and its value hash is the hash of that value record.
    pub leaf: Option<Hash>,
}

/// Default of [`StateConfig::linked_depth`](crate::StateConfig::linked_depth): nodes of the latest version
/// above this depth are held in memory by position (module `upper`), so a commit finds the upper tree's nodes
/// by array index rather than through the node cache. At most 1 + 16 + 16² + 16³ + 16⁴ = 69,905 nodes are
/// held, whatever the cache's size (about 90 MB if every one has 16 children); deeper nodes go through the node
/// cache.
pub const LINKED_DEPTH: usize = 5;
/// Largest [`StateConfig::linked_depth`](crate::StateConfig::linked_depth) used (a larger setting is lowered
/// to it): at most 1,118,481 held nodes, about 1.4 GB if every one had 16 children.
pub const MAX_LINKED_DEPTH: usize = 6;

/// An internal node of the tree: 1 to 16 children, ordered by nibble. (Leaves are child entries, see
/// [`Child::leaf`].)
///
/// The children are immutable and reference-counted, in one allocation with their count: cloning a node is a
/// reference count increment, and reading one follows a single pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Children ordered by strictly increasing nibble.
    pub children: Arc<[Child]>,
}

impl Node {
    /// Bit `i` set for each child nibble `i`.
    pub fn bitmap(&self) -> u16 {
        self.children.iter().fold(0u16, |m, c| m | (1u16 << c.nibble))
    }

    /// Bit `i` set for each child nibble `i` that is a leaf.
    pub fn leaf_bitmap(&self) -> u16 {
        self.children.iter().fold(0u16, |m, c| if c.leaf.is_some() { m | (1u16 << c.nibble) } else { m })
    }

    /// The child at `nibble`, if any.
    pub fn child(&self, nibble: u8) -> Option<&Child> {
        self.children.iter().find(|c| c.nibble == nibble)
    }

    /// The node's hash.
    pub fn hash(&self) -> Hash {
        internal_hash(self.bitmap(), self.children.iter().map(|c| &c.hash))
    }

    /// Length of the stored form of the node.
    pub fn encoded_len(&self) -> usize {
        let leaves = self.children.iter().filter(|c| c.leaf.is_some()).count();
        let versions: usize = self.children.iter().map(|c| varint_len(c.version)).sum();
        RECORD_HEAD_LEN + leaves * 32 + versions
    }

    /// Appends the stored form of the node to `out`, given the node's `hash` (which the caller has just
    /// computed): child bitmap (u16 LE), leaf bitmap (u16 LE, which children are leaves), the node's own hash
    /// (32 bytes), then for each child in nibble order its key hash if it is a leaf (32 bytes) and its
    /// version (LEB128).
    ///
    /// The children's hashes are not stored: an internal child's hash is the own hash in its record, and a
    /// leaf's hash follows from its value record. A node loaded from the store gets them back from there (see
    /// [`NodeRecord::hydrate`]), which also checks them against the stored own hash.
    pub fn encode_into(&self, hash: &Hash, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bitmap().to_le_bytes());
        out.extend_from_slice(&self.leaf_bitmap().to_le_bytes());
        out.extend_from_slice(&hash.0);
        for c in self.children.iter() {
            if let Some(kh) = &c.leaf {
                out.extend_from_slice(&kh.0);
            }
            put_varint(out, c.version);
        }
    }

    /// The stored form of the node (see [`encode_into`](Self::encode_into)).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&self.hash(), &mut out);
        out
    }
}

/// Bytes of a node record before its children: the two bitmaps and the own hash.
const RECORD_HEAD_LEN: usize = 36;

/// A child as its parent's record holds it: without its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildRef {
    /// Nibble (0..16) of the child.
    pub nibble: u8,
    /// See [`Child::version`].
    pub version: u64,
    /// See [`Child::leaf`].
    pub leaf: Option<Hash>,
}

/// A node as stored (see [`Node::encode_into`]): its own hash and its children without their hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// The node's hash.
    pub hash: Hash,
    /// Children ordered by strictly increasing nibble.
    pub children: Vec<ChildRef>,
}

impl NodeRecord {
    /// Decodes and validates a record read at `key`.
    pub fn decode(key: &[u8], bytes: &[u8]) -> Result<NodeRecord, StoreError> {
        let bad = |reason: &str| StoreError::corrupt(Column::StateNodes, key, reason);
        let mut r = Reader { bytes, pos: 0 };
        let head = r.take(4).ok_or_else(|| bad("truncated node"))?;
        let bitmap = u16::from_le_bytes([head[0], head[1]]);
        let leaves = u16::from_le_bytes([head[2], head[3]]);
        if bitmap == 0 || leaves & !bitmap != 0 {
            return Err(bad("malformed node bitmaps"));
        }
        if bitmap.count_ones() == 1 && leaves != 0 {
            return Err(bad("node with a single leaf child"));
        }
        let hash = r.hash().ok_or_else(|| bad("truncated node"))?;
        let mut children = Vec::with_capacity(bitmap.count_ones() as usize);
        for nibble in 0..RADIX as u8 {
            if bitmap & (1 << nibble) == 0 {
                continue;
            }
            let leaf = if leaves & (1 << nibble) != 0 {
                Some(r.hash().ok_or_else(|| bad("truncated node"))?)
            } else {
                None
            };
            let version = r.varint().ok_or_else(|| bad("bad child version"))?;
            children.push(ChildRef { nibble, version, leaf });
        }
        if r.pos != bytes.len() {
            return Err(bad("trailing bytes after node"));
        }
        Ok(NodeRecord { hash, children })
    }

    /// The node, with each child's hash from `child_hash`; fails, naming `key`, unless the children's hashes
    /// give the stored own hash — so a damaged record, or a damaged child or value record below it, is
    /// reported rather than used.
    pub fn hydrate<E: From<StoreError>>(
        self,
        key: &[u8],
        mut child_hash: impl FnMut(&ChildRef) -> Result<Hash, E>,
    ) -> Result<Node, E> {
        let mut children = Vec::with_capacity(self.children.len());
        for c in self.children.iter() {
            let hash = child_hash(c)?;
            children.push(Child { nibble: c.nibble, hash, version: c.version, leaf: c.leaf });
        }
        let node = Node { children: children.into() };
        if node.hash() != self.hash {
            return Err(StoreError::corrupt(
                Column::StateNodes,
                key,
                "node hash does not match its children",
            )
            .into());
        }
        Ok(node)
    }
}

/// Length of `v` as unsigned LEB128.
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends `v` as unsigned LEB128.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }

    fn hash(&mut self) -> Option<Hash> {
        let mut h = [0u8; 32];
        h.copy_from_slice(self.take(32)?);
        Some(Hash(h))
    }

    /// Unsigned LEB128, canonical (no redundant trailing zero byte), at most 64 bits.
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.take(1)?[0];
            let part = u64::from(b & 0x7f);
            if i == 9 && b > 1 {
                return None;
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    return None;
                }
                return Some(v);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_key_round_trip_and_order() {
        for len in 0..=64usize {
            let path: Vec<u8> = (0..len).map(|i| (i * 7 % 16) as u8).collect();
            let k = NodeKey { version: 0x0102_0304, path };
            assert_eq!(NodeKey::decode(&k.encode()).unwrap(), k);
        }
        let a = NodeKey { version: 1, path: vec![15; 64] }.encode();
        let b = NodeKey { version: 2, path: vec![] }.encode();
        assert!(a < b, "version orders first");
        assert!(NodeKey::decode(&[0; 5]).is_err());
        let mut odd = NodeKey { version: 1, path: vec![1] }.encode();
        odd[9] |= 1;
        assert!(NodeKey::decode(&odd).is_err());
    }

    #[test]
    fn node_id_matches_node_key() {
        for len in 0..=64usize {
            let path: Vec<u8> = (0..len).map(|i| (i * 7 % 16) as u8).collect();
            let k = NodeKey { version: 77, path: path.clone() };
            let id = NodeId::from_key(&k);
            assert_eq!(id.encode(), k.encode());
            assert_eq!(id.key_bytes()[..id.encoded_len()], k.encode());
            assert_eq!(id.depth(), len);
            if len <= 16 {
                let expected = path.iter().fold(0usize, |p, &n| p * 16 + usize::from(n));
                assert_eq!(id.position(), expected);
            }
            if len < 64 {
                assert_eq!(id.child(9, 3).encode(), k.child(9, 3).encode());
            }
        }
        let a = NodeId::from_key(&NodeKey { version: 1, path: vec![1, 2] });
        assert_eq!(a.at(9).encode()[8..], a.encode()[8..]);
        // Ids order as their storage keys.
        let ids: Vec<NodeId> =
            [(2, vec![]), (1, vec![15, 15]), (1, vec![0, 1, 2]), (1, vec![3]), (1, vec![0, 1])]
                .into_iter()
                .map(|(version, path)| NodeId::from_key(&NodeKey { version, path }))
                .collect();
        for x in &ids {
            for y in &ids {
                assert_eq!(x.cmp(y), x.encode().cmp(&y.encode()), "{x:?} {y:?}");
            }
        }
        assert_ne!(a.child(0, 1), a);
    }

    fn child(n: u8, v: u64, leaf: bool) -> Child {
        Child { nibble: n, hash: Hash([n; 32]), version: v, leaf: leaf.then_some(Hash([9; 32])) }
    }

    /// The node of a record, with child hashes as [`child`] makes them.
    fn hydrated(key: &[u8], record: NodeRecord) -> Result<Node, StoreError> {
        record.hydrate(key, |c| Ok::<_, StoreError>(Hash([c.nibble; 32])))
    }

    #[test]
    fn nodes_round_trip_compactly() {
        let node = Node {
            children: vec![child(0, 0, true), child(7, 300, false), child(15, u64::MAX, true)].into(),
        };
        let bytes = node.encode();
        assert_eq!(bytes.len(), 4 + 32 + 2 * 32 + 1 + 2 + 10);
        assert_eq!(bytes.len(), node.encoded_len());
        let record = NodeRecord::decode(b"k", &bytes).unwrap();
        assert_eq!(record.hash, node.hash());
        assert_eq!(hydrated(b"k", record).unwrap(), node);
        for cut in 0..bytes.len() {
            assert!(NodeRecord::decode(b"k", &bytes[..cut]).is_err(), "truncated at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(NodeRecord::decode(b"k", &long).is_err());
    }

    #[test]
    fn varint_len_matches_encoding() {
        for v in [0, 1, 127, 128, 16_383, 16_384, 1 << 35, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
        }
    }

    #[test]
    fn hydrating_with_wrong_child_hashes_is_an_error_naming_the_record() {
        let node = Node { children: vec![child(1, 4, false), child(2, 5, true)].into() };
        let mut record = NodeRecord::decode(b"key", &node.encode()).unwrap();
        record.hash.0[0] ^= 1;
        let err = hydrated(b"key", record).unwrap_err();
        assert!(err.to_string().contains("node hash does not match"), "{err}");
        let record = NodeRecord::decode(b"key", &node.encode()).unwrap();
        let err = record.hydrate(b"key", |_| Ok::<_, StoreError>(Hash::ZERO)).unwrap_err();
        assert!(err.to_string().contains("node hash does not match"), "{err}");
    }

    #[test]
    fn malformed_node_rejected() {
        let with_hash = |head: &[u8], tail: &[u8]| {
            let mut b = head.to_vec();
            b.extend_from_slice(&[0; 32]);
            b.extend_from_slice(tail);
            b
        };
        // No children.
        assert!(NodeRecord::decode(b"k", &with_hash(&[0, 0, 0, 0], &[])).is_err());
        // A leaf bit without its child.
        assert!(NodeRecord::decode(b"k", &with_hash(&[3, 0, 4, 0], &[0, 0])).is_err());
        // A single child that is a leaf (it belongs in the parent).
        assert!(NodeRecord::decode(b"k", &with_hash(&[1, 0, 1, 0], &[[0; 32].as_slice(), &[0]].concat()))
            .is_err());
        // Non-canonical varint.
        assert!(NodeRecord::decode(b"k", &with_hash(&[1, 0, 0, 0], &[0x80, 0x00])).is_err());
        // Well formed, for contrast.
        assert!(NodeRecord::decode(b"k", &with_hash(&[1, 0, 0, 0], &[0x00])).is_ok());
        assert!(NodeRecord::decode(b"k", &[7]).is_err());
    }
}
