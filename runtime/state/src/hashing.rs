//! The tree's hash functions (ADR 0005), computed exactly as `purse_types::state_proof` defines them but with
//! the blake3 `derive_key` context keys hashed once per process instead of once per call: a block commit
//! hashes tens of thousands of keys, values, leaves and nodes, and re-deriving the context key doubled the
//! cost of the small ones. A test checks every function against its `purse_types` definition.

use blake3::hazmat::{hash_derive_key_context, ContextKey, HasherExt};
use purse_types::{Domain, Hash};
use std::sync::OnceLock;

/// Tag byte of a value hash (`purse_types::state_proof`).
const VALUE_TAG: u8 = 0x00;
/// Tag byte of a leaf hash (`purse_types::state_proof`).
const LEAF_TAG: u8 = 0x01;

/// Context keys of the three state domains.
struct Keys {
    key: ContextKey,
    leaf: ContextKey,
    node: ContextKey,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        key: hash_derive_key_context(Domain::StateKey.context()),
        leaf: hash_derive_key_context(Domain::StateLeaf.context()),
        node: hash_derive_key_context(Domain::StateNode.context()),
    })
}

fn finish(h: &blake3::Hasher) -> Hash {
    Hash(*h.finalize().as_bytes())
}

/// `state_proof::state_key_hash`: where `key` sits in the tree.
pub(crate) fn key_hash(key: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new_from_context_key(&keys().key);
    h.update(key);
    finish(&h)
}

/// `state_proof::state_value_hash`.
pub(crate) fn value_hash(value: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new_from_context_key(&keys().leaf);
    h.update(&[VALUE_TAG]);
    h.update(value);
    finish(&h)
}

/// `state_proof::state_leaf_hash`.
pub(crate) fn leaf_hash(key_hash: &Hash, value_hash: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = LEAF_TAG;
    buf[1..33].copy_from_slice(&key_hash.0);
    buf[33..].copy_from_slice(&value_hash.0);
    let mut h = blake3::Hasher::new_from_context_key(&keys().leaf);
    h.update(&buf);
    finish(&h)
}

/// `state_proof::state_internal_hash`: the bitmap (u16 LE) then the present children's hashes in nibble
/// order, absorbed as one contiguous buffer.
pub(crate) fn internal_hash<'a>(bitmap: u16, children: impl IntoIterator<Item = &'a Hash>) -> Hash {
    let mut buf = [0u8; 2 + 16 * 32];
    buf[..2].copy_from_slice(&bitmap.to_le_bytes());
    let mut len = 2;
    let mut h = blake3::Hasher::new_from_context_key(&keys().node);
    for c in children {
        if len + 32 > buf.len() {
            // More than 16 children never happens in a valid node; still hash exactly what was given.
            h.update(&buf[..len]);
            len = 0;
        }
        buf[len..len + 32].copy_from_slice(&c.0);
        len += 32;
    }
    h.update(&buf[..len]);
    finish(&h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use purse_types::state_proof::{state_internal_hash, state_key_hash, state_leaf_hash, state_value_hash};

    #[test]
    fn same_as_the_definitions() {
        for len in [0usize, 1, 31, 32, 63, 64, 65, 100, 1023, 1024, 1025, 5000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            assert_eq!(key_hash(&data), state_key_hash(&data), "key {len}");
            assert_eq!(value_hash(&data), state_value_hash(&data), "value {len}");
        }
        let a = state_key_hash(b"a");
        let b = state_value_hash(b"b");
        assert_eq!(leaf_hash(&a, &b), state_leaf_hash(&a, &b));
        let hashes: Vec<Hash> = (0..20u8).map(|i| state_key_hash(&[i])).collect();
        for n in [0usize, 1, 2, 15, 16, 17, 20] {
            let bitmap = (n as u16).wrapping_mul(0x9e37);
            assert_eq!(
                internal_hash(bitmap, hashes[..n].iter()),
                state_internal_hash(bitmap, hashes[..n].iter()),
                "{n} children"
            );
        }
    }
}
