//! A naive reference computation of the state root, for tests and cross-checks.

use crate::state_proof::{
    nibble, state_internal_hash, state_key_hash, state_leaf_hash, state_value_hash, RADIX,
};
use purse_types::Hash;
use std::collections::BTreeMap;

/// The state root of exactly the pairs in `state`, computed from scratch by the tree's definition (ADR 0005)
/// without any storage: a leaf where a key is alone in its subtree, otherwise an internal node.
pub fn reference_root<'a>(state: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Hash {
    let leaves: BTreeMap<Hash, Hash> =
        state.into_iter().map(|(k, v)| (state_key_hash(k), state_value_hash(v))).collect();
    let items: Vec<(Hash, Hash)> = leaves.into_iter().collect();
    subtree(&items, 0).unwrap_or(Hash::ZERO)
}

fn subtree(items: &[(Hash, Hash)], depth: usize) -> Option<Hash> {
    match items {
        [] => None,
        [(k, v)] => Some(state_leaf_hash(k, v)),
        _ => {
            let mut bitmap = 0u16;
            let mut children = Vec::with_capacity(RADIX);
            for n in 0..RADIX as u8 {
                let group: Vec<(Hash, Hash)> =
                    items.iter().filter(|(k, _)| nibble(k, depth) == n).copied().collect();
                if let Some(h) = subtree(&group, depth + 1) {
                    bitmap |= 1 << n;
                    children.push(h);
                }
            }
            Some(state_internal_hash(bitmap, children.iter()))
        }
    }
}
