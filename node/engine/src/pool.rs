//! A bounded FIFO transaction pool with de-duplication: the engine's source of block transactions.
//!
//! Admission against pending state (the pending-transaction validator) lives in purse-mempool; this pool
//! only orders, bounds and de-duplicates what reaches block building.

use purse_types::{encode, Hash, SignedTransaction};
use std::collections::{HashSet, VecDeque};

/// Default capacity, in transactions.
pub const DEFAULT_POOL_CAPACITY: usize = 100_000;

/// Why a transaction was not pooled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// Already pooled.
    #[error("transaction already pending")]
    Duplicate,
    /// The pool is full.
    #[error("pool is full ({0} transactions)")]
    Full(usize),
}

/// Pending transactions in arrival order.
#[derive(Debug)]
pub struct TxPool {
    queue: VecDeque<(Hash, SignedTransaction, usize)>,
    ids: HashSet<Hash>,
    capacity: usize,
}

impl TxPool {
    /// An empty pool holding at most `capacity` transactions.
    pub fn new(capacity: usize) -> TxPool {
        TxPool { queue: VecDeque::new(), ids: HashSet::new(), capacity }
    }

    /// Adds a transaction.
    pub fn add(&mut self, tx: SignedTransaction) -> Result<Hash, PoolError> {
        let id = tx.id();
        if self.ids.contains(&id) {
            return Err(PoolError::Duplicate);
        }
        if self.queue.len() >= self.capacity {
            return Err(PoolError::Full(self.capacity));
        }
        let len = encode(&tx).len();
        self.ids.insert(id);
        self.queue.push_back((id, tx, len));
        Ok(id)
    }

    /// The oldest transactions, up to `max_txs` and `max_bytes` in total (without removing them).
    pub fn reap(&self, max_txs: usize, max_bytes: usize) -> Vec<SignedTransaction> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for (_, tx, len) in &self.queue {
            if out.len() >= max_txs || bytes + len > max_bytes {
                break;
            }
            bytes += len;
            out.push(tx.clone());
        }
        out
    }

    /// Removes committed transactions.
    pub fn remove(&mut self, committed: &[Hash]) {
        let gone: HashSet<&Hash> = committed.iter().filter(|id| self.ids.contains(*id)).collect();
        if gone.is_empty() {
            return;
        }
        self.queue.retain(|(id, _, _)| !gone.contains(id));
        for id in gone {
            self.ids.remove(id);
        }
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}
