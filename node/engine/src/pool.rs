//! A bounded transaction pool: de-duplicated, grouped per sender in nonce order, reaped fairly (round-robin
//! across senders in arrival order) and contiguously from each sender's committed nonce.
//!
//! Balance-aware admission against pending state (the pending-transaction validator) is purse-mempool's job;
//! the engine will delegate to it (see docs/mempool.md). This pool keeps block building correct meanwhile:
//! a transaction whose predecessor has not arrived yet waits instead of failing with a bad nonce.

use purse_types::{encode, Address, Hash, SignedTransaction};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Default capacity, in transactions.
pub const DEFAULT_POOL_CAPACITY: usize = 100_000;

/// Why a transaction was not pooled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// Already pooled (or another transaction with the same sender and nonce is).
    #[error("transaction already pending")]
    Duplicate,
    /// The pool is full.
    #[error("pool is full ({0} transactions)")]
    Full(usize),
}

/// Pending transactions per sender.
#[derive(Debug)]
pub struct TxPool {
    by_sender: HashMap<Address, BTreeMap<u64, (Hash, SignedTransaction, usize)>>,
    /// Senders in order of first arrival (for fair reaping).
    order: VecDeque<Address>,
    ids: HashMap<Hash, (Address, u64)>,
    capacity: usize,
}

impl TxPool {
    /// An empty pool holding at most `capacity` transactions.
    pub fn new(capacity: usize) -> TxPool {
        TxPool { by_sender: HashMap::new(), order: VecDeque::new(), ids: HashMap::new(), capacity }
    }

    /// Adds a transaction.
    pub fn add(&mut self, tx: SignedTransaction) -> Result<Hash, PoolError> {
        let id = tx.id();
        if self.ids.contains_key(&id) {
            return Err(PoolError::Duplicate);
        }
        if self.ids.len() >= self.capacity {
            return Err(PoolError::Full(self.capacity));
        }
        let (sender, nonce) = (tx.tx.sender, tx.tx.nonce);
        let queue = self.by_sender.entry(sender).or_default();
        if queue.contains_key(&nonce) {
            return Err(PoolError::Duplicate);
        }
        if queue.is_empty() {
            self.order.push_back(sender);
        }
        let len = encode(&tx).len();
        queue.insert(nonce, (id, tx, len));
        self.ids.insert(id, (sender, nonce));
        Ok(id)
    }

    /// Up to `max_txs` transactions and `max_bytes` bytes: senders take turns one transaction at a time, each
    /// sender's transactions contiguous from `next_nonce(sender)` (its committed nonce).
    pub fn reap(
        &self,
        max_txs: usize,
        max_bytes: usize,
        next_nonce: impl Fn(&Address) -> Option<u64>,
    ) -> Vec<SignedTransaction> {
        let mut cursors: Vec<(Address, u64)> =
            self.order.iter().filter_map(|a| next_nonce(a).map(|n| (*a, n))).collect();
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while !cursors.is_empty() && out.len() < max_txs {
            let mut progressed = false;
            cursors.retain_mut(|(addr, nonce)| {
                if out.len() >= max_txs {
                    return false;
                }
                let Some((_, tx, len)) = self.by_sender.get(addr).and_then(|q| q.get(nonce)) else {
                    return false;
                };
                if bytes + len > max_bytes {
                    return false;
                }
                bytes += len;
                out.push(tx.clone());
                *nonce += 1;
                progressed = true;
                true
            });
            if !progressed {
                break;
            }
        }
        out
    }

    /// Removes committed transactions and every transaction whose nonce is now below its sender's next nonce.
    pub fn prune(&mut self, committed: &[Hash], next_nonce: impl Fn(&Address) -> Option<u64>) {
        for id in committed {
            if let Some((sender, nonce)) = self.ids.remove(id) {
                if let Some(q) = self.by_sender.get_mut(&sender) {
                    q.remove(&nonce);
                }
            }
        }
        let senders: Vec<Address> = self.by_sender.keys().copied().collect();
        for sender in senders {
            let floor = next_nonce(&sender).unwrap_or(u64::MAX);
            if let Some(q) = self.by_sender.get_mut(&sender) {
                let stale: Vec<u64> = q.range(..floor).map(|(n, _)| *n).collect();
                for n in stale {
                    if let Some((id, _, _)) = q.remove(&n) {
                        self.ids.remove(&id);
                    }
                }
            }
        }
        self.by_sender.retain(|_, q| !q.is_empty());
        let live = &self.by_sender;
        self.order.retain(|a| live.contains_key(a));
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use purse_types::{Amount, AssetId, ChainId, Coin, Keypair, Payload, Transaction};

    fn tx(k: &Keypair, nonce: u64) -> SignedTransaction {
        Transaction {
            chain_id: ChainId::new("t").unwrap(),
            sender: k.public().address(),
            nonce,
            expiry_height: 10,
            max_fee: Amount(1),
            payload: Payload::Burn { coin: Coin { asset: AssetId::native(), amount: Amount(1) } },
        }
        .sign(k)
    }

    #[test]
    fn reaps_in_nonce_order_round_robin_and_waits_for_gaps() {
        let (a, b) = (Keypair::from_seed(&[1; 32]), Keypair::from_seed(&[2; 32]));
        let mut p = TxPool::new(100);
        for n in [2, 0, 1, 4] {
            p.add(tx(&a, n)).unwrap();
        }
        p.add(tx(&b, 0)).unwrap();
        assert_eq!(p.add(tx(&b, 0)), Err(PoolError::Duplicate));
        let got: Vec<(u8, u64)> = p
            .reap(100, usize::MAX, |_| Some(0))
            .iter()
            .map(|t| (if t.tx.sender == a.public().address() { 0 } else { 1 }, t.tx.nonce))
            .collect();
        // a's nonce 4 waits for 3; senders alternate.
        assert_eq!(got, vec![(0, 0), (1, 0), (0, 1), (0, 2)]);
        p.prune(&[], |addr| Some(if *addr == a.public().address() { 3 } else { 1 }));
        assert_eq!(p.len(), 1);
        assert!(p.reap(100, usize::MAX, |_| Some(3)).is_empty());
    }
}
