//! Proofs of inclusion and non-inclusion against an authenticated state root, and the hashing rules of the
//! state tree they are checked with.
//!
//! The state tree is a radix-16 Merkle tree over key hashes (a Jellyfish-style tree, ADR 0005): a key's path is
//! the 64 nibbles of `Hash::digest(Domain::StateKey, key)`, high nibble first. A leaf sits at the shallowest
//! position where it is the only key of its subtree; an internal node has at least two children or a single
//! internal child. The root of the empty tree is [`Hash::ZERO`]. Everything here is pure: a wallet verifies a
//! proof with nothing but the root from a block header.

use super::{Domain, Hash, Hasher};
use borsh::{BorshDeserialize, BorshSerialize};

/// Number of children of an internal node.
pub const RADIX: usize = 16;

/// Depth of the deepest possible internal node: one level per nibble of a 32-byte key hash.
pub const MAX_PROOF_DEPTH: usize = 64;

/// Tag hashed before a value, so a value hash can never equal a leaf hash.
const VALUE_TAG: u8 = 0;
/// Tag hashed before a leaf's key hash and value hash.
const LEAF_TAG: u8 = 1;

/// The hash of a key: its path in the tree.
pub fn state_key_hash(key: &[u8]) -> Hash {
    Hash::digest(Domain::StateKey, key)
}

/// The hash of a stored value, as committed to by its leaf.
pub fn state_value_hash(value: &[u8]) -> Hash {
    let mut h = Hasher::new(Domain::StateLeaf);
    h.update(&[VALUE_TAG]).update(value);
    h.finalize()
}

/// The hash of a leaf binding `key_hash` to `value_hash`.
pub fn state_leaf_hash(key_hash: &Hash, value_hash: &Hash) -> Hash {
    let mut h = Hasher::new(Domain::StateLeaf);
    h.update(&[LEAF_TAG]).update(&key_hash.0).update(&value_hash.0);
    h.finalize()
}

/// The hash of an internal node: its child bitmap (bit `i` set when child `i` exists, little-endian) followed
/// by the hashes of the present children in nibble order.
pub fn state_internal_hash<'a>(bitmap: u16, children: impl IntoIterator<Item = &'a Hash>) -> Hash {
    let mut h = Hasher::new(Domain::StateNode);
    h.update(&bitmap.to_le_bytes());
    for c in children {
        h.update(&c.0);
    }
    h.finalize()
}

/// Nibble `index` (0..64) of a key hash, high nibble of each byte first.
pub fn nibble(key_hash: &Hash, index: usize) -> u8 {
    let byte = key_hash.0[(index / 2) % key_hash.0.len()];
    if index.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 0x0f
    }
}

/// One internal node on the path from the root to the key's position.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProofLevel {
    /// Which children the node has (bit `i` for nibble `i`), including the one on the path if it exists.
    pub bitmap: u16,
    /// Hashes of the present children other than the one on the path, in nibble order.
    pub siblings: Vec<Hash>,
}

/// What the path ends in.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ProofTerminal {
    /// The path ends in an empty slot (or the whole tree is empty): the key is absent.
    Empty,
    /// The path ends in a leaf. If its key hash is the queried key's, the proof shows the key's value; if not,
    /// it shows that the key is absent (the leaf occupies the only place the key could be).
    Leaf {
        /// Key hash of the leaf.
        key_hash: Hash,
        /// Hash of the leaf's value ([`state_value_hash`]).
        value_hash: Hash,
    },
}

/// A proof that a key has a given value, or no value, under a state root.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct StateProof {
    /// Internal nodes from the root down.
    pub levels: Vec<ProofLevel>,
    /// Where the path ends.
    pub terminal: ProofTerminal,
}

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// More levels than a key hash has nibbles.
    #[error("proof has {0} levels, more than the maximum of {MAX_PROOF_DEPTH}")]
    TooDeep(usize),
    /// A level lists a number of siblings that its bitmap does not allow.
    #[error("proof level {level}: bitmap {bitmap:#06x} does not match {siblings} sibling hashes")]
    MalformedLevel {
        /// Depth of the level.
        level: usize,
        /// Its bitmap.
        bitmap: u16,
        /// Number of siblings given.
        siblings: usize,
    },
    /// The proof ends in a leaf or slot that does not match the claimed value.
    #[error("proof does not show the claimed value: {0}")]
    WrongTerminal(&'static str),
    /// The recomputed root differs from the trusted root.
    #[error("proof leads to root {computed}, expected {expected}")]
    RootMismatch {
        /// Root recomputed from the proof.
        computed: Hash,
        /// Root the proof was checked against.
        expected: Hash,
    },
}

impl StateProof {
    /// Checks that under `root`, `key` has `value` (`Some`) or is absent (`None`).
    pub fn verify(&self, root: &Hash, key: &[u8], value: Option<&[u8]>) -> Result<(), ProofError> {
        self.verify_hashed(root, &state_key_hash(key), value.map(state_value_hash).as_ref())
    }

    /// As [`verify`](Self::verify), with the key and value already hashed.
    pub fn verify_hashed(
        &self,
        root: &Hash,
        key_hash: &Hash,
        value_hash: Option<&Hash>,
    ) -> Result<(), ProofError> {
        let depth = self.levels.len();
        if depth > MAX_PROOF_DEPTH {
            return Err(ProofError::TooDeep(depth));
        }
        // The hash at the bottom of the path, or None for an empty slot.
        let mut current: Option<Hash> = match (&self.terminal, value_hash) {
            (ProofTerminal::Empty, Some(_)) => {
                return Err(ProofError::WrongTerminal("an empty slot cannot prove a value"));
            }
            (ProofTerminal::Empty, None) => None,
            (ProofTerminal::Leaf { key_hash: lk, value_hash: lv }, Some(v)) => {
                if lk != key_hash {
                    return Err(ProofError::WrongTerminal("the leaf belongs to another key"));
                }
                if lv != v {
                    return Err(ProofError::WrongTerminal("the leaf holds another value"));
                }
                Some(state_leaf_hash(lk, lv))
            }
            (ProofTerminal::Leaf { key_hash: lk, value_hash: lv }, None) => {
                if lk == key_hash {
                    return Err(ProofError::WrongTerminal("the key is present"));
                }
                if (0..depth).any(|i| nibble(lk, i) != nibble(key_hash, i)) {
                    return Err(ProofError::WrongTerminal("the leaf is not on the key's path"));
                }
                Some(state_leaf_hash(lk, lv))
            }
        };
        for (level_index, level) in self.levels.iter().enumerate().rev() {
            let path_nibble = nibble(key_hash, level_index);
            let path_bit = 1u16 << path_nibble;
            let on_path_present = level.bitmap & path_bit != 0;
            let expected_siblings = level.bitmap.count_ones() as usize - usize::from(on_path_present);
            let malformed = ProofError::MalformedLevel {
                level: level_index,
                bitmap: level.bitmap,
                siblings: level.siblings.len(),
            };
            if level.siblings.len() != expected_siblings || on_path_present != current.is_some() {
                return Err(malformed);
            }
            // A canonical internal node has at least two children, or a single internal child: a node with
            // no child, or whose only child is the leaf the path ends in, cannot occur.
            let is_bottom = level_index + 1 == depth;
            let children_count = level.bitmap.count_ones();
            if children_count == 0 || (children_count == 1 && is_bottom && current.is_some()) {
                return Err(malformed);
            }
            let mut children: Vec<&Hash> = Vec::with_capacity(RADIX);
            let mut siblings = level.siblings.iter();
            for n in 0..RADIX as u8 {
                if level.bitmap & (1u16 << n) == 0 {
                    continue;
                }
                if n == path_nibble {
                    if let Some(c) = current.as_ref() {
                        children.push(c);
                    }
                } else if let Some(s) = siblings.next() {
                    children.push(s);
                }
            }
            current = Some(state_internal_hash(level.bitmap, children));
        }
        let computed = current.unwrap_or(Hash::ZERO);
        if computed == *root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch { computed, expected: *root })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tree_proves_absence_only() {
        let p = StateProof { levels: vec![], terminal: ProofTerminal::Empty };
        assert_eq!(p.verify(&Hash::ZERO, b"k", None), Ok(()));
        assert!(p.verify(&Hash::ZERO, b"k", Some(b"v")).is_err());
        assert!(matches!(p.verify(&Hash([1; 32]), b"k", None), Err(ProofError::RootMismatch { .. })));
    }

    #[test]
    fn single_leaf_root() {
        let kh = state_key_hash(b"k");
        let vh = state_value_hash(b"v");
        let root = state_leaf_hash(&kh, &vh);
        let p = StateProof { levels: vec![], terminal: ProofTerminal::Leaf { key_hash: kh, value_hash: vh } };
        assert_eq!(p.verify(&root, b"k", Some(b"v")), Ok(()));
        assert!(p.verify(&root, b"k", Some(b"w")).is_err());
        assert!(p.verify(&root, b"k", None).is_err());
        assert_eq!(p.verify(&root, b"other", None), Ok(()));
    }

    #[test]
    fn value_and_leaf_hashes_are_distinct() {
        let kh = state_key_hash(b"k");
        let vh = state_value_hash(b"v");
        let mut joined = vec![];
        joined.extend_from_slice(&kh.0);
        joined.extend_from_slice(&vh.0);
        assert_ne!(state_leaf_hash(&kh, &vh), state_value_hash(&joined));
    }

    #[test]
    fn nibbles_high_first() {
        let mut h = Hash::ZERO;
        h.0[0] = 0xab;
        assert_eq!(nibble(&h, 0), 0xa);
        assert_eq!(nibble(&h, 1), 0xb);
        assert_eq!(nibble(&h, 2), 0);
    }

    #[test]
    fn oversized_proof_rejected() {
        let level = ProofLevel { bitmap: 0, siblings: vec![] };
        let p = StateProof { levels: vec![level; MAX_PROOF_DEPTH + 1], terminal: ProofTerminal::Empty };
        assert_eq!(p.verify(&Hash::ZERO, b"k", None), Err(ProofError::TooDeep(MAX_PROOF_DEPTH + 1)));
    }
}
