//! Helpers shared by the state's integration tests: a plain map as the reference model, and blocks of mixed
//! updates, creations and deletions.

use purse_state::reference::reference_root;
use purse_state::Overlay;
use purse_types::Hash;
use std::collections::BTreeMap;

/// The state as a plain map, against which the tree is checked.
pub type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// The root the reference recomputation gives for `m`.
pub fn model_root(m: &Model) -> Hash {
    reference_root(m.iter().map(|(k, v)| (k.as_slice(), v.as_slice())))
}

/// The key of account `i` in the mixed blocks.
pub fn acct(i: u32) -> Vec<u8> {
    format!("acct/{i}").into_bytes()
}

/// How [`mixed_block`] spreads its changes.
pub struct Mix {
    /// Changes per block.
    pub changes: u32,
    /// Change `i` of version `v` touches key `(i * stride + v * shift) % keys`.
    pub stride: u32,
    /// See `stride`.
    pub shift: u32,
    /// See `stride`.
    pub keys: u32,
    /// After version 0, every `delete_every`-th change is a deletion.
    pub delete_every: u32,
}

/// Version `v`'s changes as `mix` spreads them (updates and creations across the key space, and some
/// deletions after the first version), applied to `model` too.
pub fn mixed_block(v: u64, mix: &Mix, model: &mut Model) -> Overlay {
    let mut o = Overlay::new();
    for i in 0..mix.changes {
        let id = (i * mix.stride + v as u32 * mix.shift) % mix.keys;
        if v > 0 && i % mix.delete_every == 0 {
            o.delete(&acct(id)).unwrap();
            model.remove(&acct(id));
        } else {
            let val = format!("{v}/{i}").into_bytes();
            o.put(&acct(id), &val).unwrap();
            model.insert(acct(id), val);
        }
    }
    o
}

/// Inside `impl KvStore for` a test store that wraps a store in its `inner` field: the listed methods
/// (`get`, `write`, `scan`), forwarded unchanged, so that the impl spells out only what the store alters.
#[allow(unused_macros)] // not every test binary defines a store
macro_rules! forward_to_inner {
    ($($method:ident),+) => { $(crate::common::forward_to_inner!(@ $method);)+ };
    (@ get) => {
        fn get(
            &self,
            column: purse_state::Column,
            key: &[u8],
        ) -> Result<Option<Vec<u8>>, purse_state::StoreError> {
            self.inner.get(column, key)
        }
    };
    (@ write) => {
        fn write(&self, batch: purse_state::WriteBatch) -> Result<(), purse_state::StoreError> {
            self.inner.write(batch)
        }
    };
    (@ scan) => {
        fn scan(
            &self,
            column: purse_state::Column,
            start: &[u8],
            end: Option<&[u8]>,
            limit: usize,
        ) -> Result<Vec<purse_state::KvEntry>, purse_state::StoreError> {
            self.inner.scan(column, start, end, limit)
        }
    };
}
#[allow(unused_imports)] // not every test binary defines a store
pub(crate) use forward_to_inner;
