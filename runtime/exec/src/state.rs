//! The runtime's view of state: committed state below, the block's writes above it, and the current
//! transaction's writes on top, which commit into the block or roll back as a unit.

use crate::error::{ExecError, RuntimeError};
use borsh::{BorshDeserialize, BorshSerialize};
use purse_state::{KvStore, Overlay, StateDb, StateError};
use std::collections::BTreeMap;

/// Read access to committed state.
pub trait StateRead {
    /// The value at `key`, if any.
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
}

impl<S: KvStore> StateRead for StateDb<S> {
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.get(key)
    }
}

/// A plain map as committed state (tests, genesis tooling).
impl StateRead for BTreeMap<Vec<u8>, Vec<u8>> {
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.get(key).cloned())
    }
}

/// Committed state plus the block's and the current transaction's writes.
pub struct BlockState<'a, R: ?Sized> {
    base: &'a R,
    block: Overlay,
    tx: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'a, R: StateRead + ?Sized> BlockState<'a, R> {
    /// A view over `base` with no writes.
    pub fn new(base: &'a R) -> Self {
        BlockState { base, block: Overlay::new(), tx: BTreeMap::new() }
    }

    /// Raw read through both write layers.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(v) = self.tx.get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.block.get(key) {
            return Ok(v.map(<[u8]>::to_vec));
        }
        self.base.read(key)
    }

    /// Raw write into the current transaction.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.tx.insert(key, Some(value));
    }

    /// Raw delete in the current transaction.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.tx.insert(key, None);
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
        for (k, v) in std::mem::take(&mut self.tx) {
            match v {
                Some(v) => self.block.put(&k, &v)?,
                None => self.block.delete(&k)?,
            }
        }
        Ok(())
    }

    /// Discards the current transaction's writes.
    pub fn rollback_tx(&mut self) {
        self.tx.clear();
    }

    /// Number of writes pending in the current transaction.
    pub fn tx_writes(&self) -> usize {
        self.tx.len()
    }

    /// The block's writes (the current transaction must have been committed or rolled back).
    pub fn into_overlay(self) -> Overlay {
        self.block
    }
}
