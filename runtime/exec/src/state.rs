//! The runtime's view of state: committed state below, the block's writes above it, and the current
//! transaction's writes on top, which commit into the block or roll back as a unit.

use crate::error::{ExecError, RuntimeError};
use borsh::{BorshDeserialize, BorshSerialize};
use purse_state::{KvStore, Overlay, StateDb, StateError, StateView};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

/// Read access to committed state.
pub trait StateRead {
    /// The value at `key`, if any.
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;

    /// Up to `limit` entries whose key starts with `prefix` and is `>= from`, in key order.
    fn scan(&self, prefix: &[u8], from: &[u8], limit: usize) -> Result<Entries, StateError>;
}

/// Key-value entries in ascending key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

impl<S: KvStore> StateRead for StateDb<S> {
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.get(key)
    }

    fn scan(&self, prefix: &[u8], from: &[u8], limit: usize) -> Result<Entries, StateError> {
        StateDb::scan(self, prefix, from, limit)
    }
}

impl<S: KvStore> StateRead for StateView<S> {
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.get(key)
    }

    fn scan(&self, prefix: &[u8], from: &[u8], limit: usize) -> Result<Entries, StateError> {
        StateView::scan(self, prefix, from, limit)
    }
}

impl<T: StateRead + ?Sized> StateRead for Arc<T> {
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        (**self).read(key)
    }

    fn scan(&self, prefix: &[u8], from: &[u8], limit: usize) -> Result<Entries, StateError> {
        (**self).scan(prefix, from, limit)
    }
}

/// A plain map as committed state (tests, genesis tooling).
impl StateRead for BTreeMap<Vec<u8>, Vec<u8>> {
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.get(key).cloned())
    }

    fn scan(&self, prefix: &[u8], from: &[u8], limit: usize) -> Result<Entries, StateError> {
        let start = if from > prefix { from } else { prefix };
        Ok(self
            .range::<[u8], _>((Bound::Included(start), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

/// The uncommitted writes of a block: the block's committed-transaction writes and the current
/// transaction's writes on top.
#[derive(Debug, Default)]
pub struct Layers {
    block: Overlay,
    tx: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl Layers {
    /// The pending change of `key`: `None` if untouched, `Some(None)` if deleted.
    pub fn get(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        if let Some(v) = self.tx.get(key) {
            return Some(v.as_deref());
        }
        self.block.get(key)
    }

    /// Pending changes of keys in `[from, to]` (or `[from, ..)`) that start with `prefix`, newest layer
    /// winning, in key order.
    fn changes_in(
        &self,
        prefix: &[u8],
        from: &[u8],
        to: Option<&[u8]>,
    ) -> BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        let in_window = |k: &[u8]| k.starts_with(prefix) && to.is_none_or(|t| k <= t);
        let mut out = BTreeMap::new();
        for (k, v) in self.block.range_from(from).take_while(|(k, _)| in_window(k)) {
            out.insert(k.to_vec(), v.map(<[u8]>::to_vec));
        }
        let tx = self.tx.range::<[u8], _>((Bound::Included(from), Bound::Unbounded));
        for (k, v) in tx.take_while(|(k, _)| in_window(k)) {
            out.insert(k.clone(), v.clone());
        }
        out
    }

    /// Up to `limit` entries with `prefix`, keys `>= from`, of these layers over `base`.
    pub fn scan<R: StateRead + ?Sized>(
        &self,
        base: &R,
        prefix: &[u8],
        from: &[u8],
        limit: usize,
    ) -> Result<Entries, StateError> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let mut cursor = if from > prefix { from.to_vec() } else { prefix.to_vec() };
        loop {
            let page = base.scan(prefix, &cursor, limit)?;
            // With a full page, committed keys past its last one are not known yet: merge only up to it.
            let upper = if page.len() >= limit { page.last().map(|(k, _)| k.clone()) } else { None };
            let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = page.into_iter().collect();
            for (k, v) in self.changes_in(prefix, &cursor, upper.as_deref()) {
                match v {
                    Some(v) => merged.insert(k, v),
                    None => merged.remove(&k),
                };
            }
            for (k, v) in merged {
                out.push((k, v));
                if out.len() == limit {
                    return Ok(out);
                }
            }
            match upper {
                Some(u) => cursor = purse_state::key_successor(&u),
                None => return Ok(out),
            }
        }
    }
}

/// Committed state plus the block's and the current transaction's writes.
pub struct BlockState<'a, R: ?Sized> {
    base: &'a R,
    layers: Layers,
}

impl<'a, R: StateRead + ?Sized> BlockState<'a, R> {
    /// A view over `base` with no writes.
    pub fn new(base: &'a R) -> Self {
        BlockState { base, layers: Layers::default() }
    }

    /// The committed state below the writes.
    pub fn base(&self) -> &'a R {
        self.base
    }

    /// Raw read through both write layers.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.layers.get(key) {
            Some(v) => Ok(v.map(<[u8]>::to_vec)),
            None => self.base.read(key),
        }
    }

    /// Up to `limit` entries with `prefix` and keys `>= from`, through both write layers.
    pub fn scan(&self, prefix: &[u8], from: &[u8], limit: usize) -> Result<Entries, StateError> {
        self.layers.scan(self.base, prefix, from, limit)
    }

    /// Raw write into the current transaction.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.layers.tx.insert(key, Some(value));
    }

    /// Raw delete in the current transaction.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.layers.tx.insert(key, None);
    }

    /// Typed read; a record that does not decode is a runtime error naming the key.
    pub fn get_record<T: BorshDeserialize>(&self, key: &[u8]) -> Result<Option<T>, RuntimeError> {
        match self.get(key)? {
            None => Ok(None),
            Some(bytes) => purse_types::decode::<T>(&bytes)
                .map(Some)
                .map_err(|e| RuntimeError::Corrupt { key: purse_state::hex_key(key), reason: e.to_string() }),
        }
    }

    /// Typed write.
    pub fn put_record<T: BorshSerialize>(&mut self, key: Vec<u8>, value: &T) {
        self.put(key, purse_types::encode(value));
    }

    /// Makes the current transaction's writes part of the block.
    pub fn commit_tx(&mut self) -> Result<(), ExecError> {
        for (k, v) in std::mem::take(&mut self.layers.tx) {
            match v {
                Some(v) => self.layers.block.put(&k, &v)?,
                None => self.layers.block.delete(&k)?,
            }
        }
        Ok(())
    }

    /// Discards the current transaction's writes.
    pub fn rollback_tx(&mut self) {
        self.layers.tx.clear();
    }

    /// Number of writes pending in the current transaction.
    pub fn tx_writes(&self) -> usize {
        self.layers.tx.len()
    }

    /// Lends the write layers, shared, to `f` (contract execution reads them from another owner for the
    /// duration of one call), then takes them back. `f` must drop every clone of the `Arc` before returning.
    pub fn with_shared_layers<T>(&mut self, f: impl FnOnce(Arc<Layers>) -> T) -> Result<T, RuntimeError> {
        let shared = Arc::new(std::mem::take(&mut self.layers));
        let out = f(Arc::clone(&shared));
        self.layers = Arc::try_unwrap(shared)
            .map_err(|_| RuntimeError::Invariant("a contract call kept the block's write layers".into()))?;
        Ok(out)
    }

    /// The block's writes (the current transaction must have been committed or rolled back).
    pub fn into_overlay(self) -> Overlay {
        self.layers.block
    }
}
