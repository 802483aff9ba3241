//! Tree nodes and their storage keys.

use crate::kv::StoreError;
use crate::state_proof::{state_internal_hash, state_leaf_hash, MAX_PROOF_DEPTH, RADIX};
use crate::Column;
use borsh::{BorshDeserialize, BorshSerialize};
use purse_types::Hash;

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

/// A reference from an internal node to one child.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Child {
    /// Nibble (0..16) of the child.
    pub nibble: u8,
    /// Hash of the child node.
    pub hash: Hash,
    /// Version that wrote the child (its node key is this version and the parent's path plus `nibble`).
    pub version: u64,
    /// True if the child is a leaf.
    pub leaf: bool,
}

/// An internal node: 1 to 16 children, ordered by nibble.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct InternalNode {
    /// Children ordered by strictly increasing nibble.
    pub children: Vec<Child>,
}

impl InternalNode {
    /// Bit `i` set for each child nibble `i`.
    pub fn bitmap(&self) -> u16 {
        self.children.iter().fold(0u16, |m, c| m | (1u16 << c.nibble))
    }

    /// The child at `nibble`, if any.
    pub fn child(&self, nibble: u8) -> Option<&Child> {
        self.children.iter().find(|c| c.nibble == nibble)
    }

    /// The node's hash.
    pub fn hash(&self) -> Hash {
        state_internal_hash(self.bitmap(), self.children.iter().map(|c| &c.hash))
    }
}

/// A leaf: one key hash and the hash of its value, plus the version of the value record it points to.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LeafNode {
    /// Hash of the key.
    pub key_hash: Hash,
    /// Hash of the value.
    pub value_hash: Hash,
    /// Version of the value record holding the value (not part of the hash).
    pub value_version: u64,
}

impl LeafNode {
    /// The leaf's hash.
    pub fn hash(&self) -> Hash {
        state_leaf_hash(&self.key_hash, &self.value_hash)
    }
}

/// A stored tree node.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Node {
    /// An internal node.
    Internal(InternalNode),
    /// A leaf.
    Leaf(LeafNode),
}

impl Node {
    /// The node's hash.
    pub fn hash(&self) -> Hash {
        match self {
            Node::Internal(n) => n.hash(),
            Node::Leaf(l) => l.hash(),
        }
    }

    /// Decodes and validates a node read at `key`.
    pub fn decode(key: &[u8], bytes: &[u8]) -> Result<Node, StoreError> {
        let node: Node = purse_types::decode(bytes)
            .map_err(|e| StoreError::corrupt(Column::StateNodes, key, e.to_string()))?;
        if let Node::Internal(n) = &node {
            let ordered = n.children.windows(2).all(|w| w[0].nibble < w[1].nibble);
            let in_range = n.children.iter().all(|c| (c.nibble as usize) < RADIX);
            if n.children.is_empty() || !ordered || !in_range {
                return Err(StoreError::corrupt(Column::StateNodes, key, "malformed internal node"));
            }
        }
        Ok(node)
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
    fn malformed_internal_node_rejected() {
        let bad = Node::Internal(InternalNode { children: vec![] });
        assert!(Node::decode(b"k", &purse_types::encode(&bad)).is_err());
        let c = |n| Child { nibble: n, hash: Hash::ZERO, version: 0, leaf: true };
        let unordered = Node::Internal(InternalNode { children: vec![c(3), c(1)] });
        assert!(Node::decode(b"k", &purse_types::encode(&unordered)).is_err());
        let ok = Node::Internal(InternalNode { children: vec![c(1), c(3)] });
        assert_eq!(Node::decode(b"k", &purse_types::encode(&ok)).unwrap(), ok);
    }
}
