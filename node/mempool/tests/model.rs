//! Property test against a reference model: any sequence of submissions, block commits of reaped transactions
//! and blocks built elsewhere (a) never has a transaction the pool admitted fail in its block for funds, nonce,
//! fee or expiry reasons, and (b) the pool accepts exactly what a from-scratch model of the rules accepts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use proptest::prelude::*;
use purse_mempool::{Mempool, PoolConfig};
use purse_runtime::{schema::account_key, schema::AccountRecord, Params};
use purse_types::*;
use std::collections::{BTreeMap, BTreeSet};

const ACCOUNTS: u8 = 4;
const NATIVE: u128 = 40_000;
const USD_EACH: u128 = 1_000;
/// Receipt codes that must never appear for a transaction the pool admitted.
const FORBIDDEN: [&str; 14] = [
    "unknown_recipient",
    "frozen",
    "holder_not_authorized",
    "tx_limit_exceeded",
    "daily_limit_exceeded",
    "insufficient_funds",
    "cannot_pay_fee",
    "bad_nonce",
    "expired",
    "fee_too_low",
    "wrong_key",
    "unknown_sender",
    "bad_signature",
    "wrong_chain",
];

#[derive(Clone, Debug)]
enum Op {
    Submit { from: u8, off: i8, kind: u8, amount: u128, fee: u128, expiry: u64, to: u8 },
    Commit { max: usize },
    External { from: u8, amount: u128 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1..=ACCOUNTS, -1i8..=3, 0u8..5, 0u128..30_000, 1_000u128..3_000, 0u64..8, 1u8..=5).prop_map(
            |(from, off, kind, amount, fee, expiry, to)| Op::Submit { from, off, kind, amount, fee, expiry, to }
        ),
        2 => (0usize..6).prop_map(|max| Op::Commit { max }),
        1 => (1..=ACCOUNTS, 0u128..30_000).prop_map(|(from, amount)| Op::External { from, amount }),
    ]
}

/// The rules, written from scratch: no caches, sums recomputed from the lists every time.
struct Model {
    map: Map,
    height: u64,
    pending: BTreeMap<Address, Vec<SignedTransaction>>,
    future: BTreeMap<Address, BTreeMap<u64, SignedTransaction>>,
}

fn fee(tx: &SignedTransaction) -> u128 {
    Params::default().fee_for(encode(tx).len())
}

/// (asset, amount) debits, fee first, merged per asset in order of appearance.
fn debits(tx: &SignedTransaction) -> Result<Vec<(AssetId, u128)>, &'static str> {
    let mut v = vec![(native(), fee(tx))];
    let mut add = |a: AssetId, n: u128| match v.iter_mut().find(|(x, _)| *x == a) {
        Some(e) => e.1 += n,
        None => v.push((a, n)),
    };
    match &tx.tx.payload {
        Payload::Transfer { coin, .. } | Payload::Burn { coin } => {
            if coin.amount.0 == 0 {
                return Err("invalid_amount");
            }
            add(coin.asset, coin.amount.0);
        }
        Payload::Mint { coin, .. } => {
            if coin.amount.0 == 0 {
                return Err("invalid_amount");
            }
        }
        _ => unreachable!(),
    }
    Ok(v)
}

fn debit_of(tx: &SignedTransaction, asset: &AssetId) -> u128 {
    debits(tx).unwrap().iter().filter(|(a, _)| a == asset).map(|(_, n)| *n).sum()
}

impl Model {
    fn account(&self, a: &Address) -> Option<AccountRecord> {
        self.map.get(&account_key(a)).map(|v| decode(v).unwrap())
    }

    fn known(&self, id: &TxId) -> bool {
        self.pending
            .values()
            .flatten()
            .chain(self.future.values().flat_map(|f| f.values()))
            .any(|t| t.id() == *id)
    }

    fn next_nonce(&self, a: &Address) -> u64 {
        self.account(a).unwrap().nonce + self.pending.get(a).map_or(0, Vec::len) as u64
    }

    /// Funds check of `tx` as the pending transaction at its nonce, given the sender's other pending ones.
    fn funds(&self, tx: &SignedTransaction, others: &[SignedTransaction]) -> Result<(), &'static str> {
        let f = fee(tx);
        for (asset, amount) in debits(tx)? {
            let pending: u128 =
                others.iter().filter(|o| o.tx.nonce != tx.tx.nonce).map(|o| debit_of(o, &asset)).sum();
            let available = bal(&self.map, &tx.tx.sender, &asset).saturating_sub(pending);
            if asset == native() && f > available {
                return Err("cannot_pay_fee");
            }
            if amount > available {
                return Err("insufficient_available");
            }
        }
        Ok(())
    }

    /// The chain's rules that apply here (no freezes or limits in this model's genesis): a transfer or mint
    /// needs a registered recipient.
    fn rules(&self, tx: &SignedTransaction) -> Result<(), &'static str> {
        match &tx.tx.payload {
            Payload::Transfer { to, .. } | Payload::Mint { to, .. } if self.account(to).is_none() => {
                Err("unknown_recipient")
            }
            _ => Ok(()),
        }
    }

    fn recheck(&self, tx: &SignedTransaction, others: &[SignedTransaction]) -> Result<(), &'static str> {
        if tx.tx.expiry_height < self.height + 1 {
            return Err("expired");
        }
        if tx.tx.max_fee.0 < fee(tx) {
            return Err("fee_too_low");
        }
        self.funds(tx, others)?;
        self.rules(tx)
    }

    fn admit(&mut self, tx: SignedTransaction) -> &'static str {
        let t = &tx.tx;
        if t.expiry_height < self.height + 1 {
            return "expired";
        }
        if self.known(&tx.id()) {
            return "already_known";
        }
        let Some(acct) = self.account(&t.sender) else { return "unknown_sender" };
        if acct.public_key != tx.public_key {
            return "wrong_key";
        }
        if t.nonce < acct.nonce {
            return "nonce_too_low";
        }
        let pend = self.pending.get(&t.sender).cloned().unwrap_or_default();
        let next = acct.nonce + pend.len() as u64;
        let old = if t.nonce < next {
            Some(pend[(t.nonce - acct.nonce) as usize].clone())
        } else if t.nonce == next {
            None
        } else {
            if t.nonce - next > PoolConfig::default().max_nonce_gap {
                return "nonce_too_high";
            }
            self.future.get(&t.sender).and_then(|f| f.get(&t.nonce)).cloned()
        };
        if t.max_fee.0 < fee(&tx) {
            return "fee_too_low";
        }
        if let Some(old) = &old {
            let o = old.tx.max_fee.0;
            let required = ((o * 110).div_ceil(100)).max(o + 1);
            if t.max_fee.0 < required {
                return "replacement_underpriced";
            }
        }
        if let Err(c) = debits(&tx) {
            return c;
        }
        if t.nonce > next {
            self.future.entry(t.sender).or_default().insert(t.nonce, tx);
            return "queued";
        }
        if let Err(c) = self.funds(&tx, &pend).and_then(|()| self.rules(&tx)) {
            return c;
        }
        let sender = t.sender;
        let nonce = t.nonce;
        let list = self.pending.entry(sender).or_default();
        if nonce < next {
            list[(nonce - acct.nonce) as usize] = tx;
        } else {
            list.push(tx);
            self.promote(&sender);
        }
        "valid"
    }

    fn promote(&mut self, sender: &Address) {
        loop {
            let next = self.next_nonce(sender);
            let Some(tx) = self.future.get_mut(sender).and_then(|f| f.remove(&next)) else { return };
            let pend = self.pending.get(sender).cloned().unwrap_or_default();
            if self.recheck(&tx, &pend).is_ok() {
                self.pending.entry(*sender).or_default().push(tx);
            } else {
                self.future.remove(sender);
                return;
            }
        }
    }

    fn commit(&mut self, included: &BTreeSet<TxId>) {
        let senders: BTreeSet<Address> = self.pending.keys().chain(self.future.keys()).copied().collect();
        for s in senders {
            let nonce = self.account(&s).unwrap().nonce;
            let mut all = self.pending.remove(&s).unwrap_or_default();
            all.extend(self.future.remove(&s).unwrap_or_default().into_values());
            let mut pend: Vec<SignedTransaction> = Vec::new();
            let mut fut = BTreeMap::new();
            let mut broken = false;
            for tx in all {
                let n = tx.tx.nonce;
                if included.contains(&tx.id()) {
                    broken |= n >= nonce;
                    continue;
                }
                if n < nonce || broken {
                    continue;
                }
                if n == nonce + pend.len() as u64 {
                    if self.recheck(&tx, &pend).is_ok() {
                        pend.push(tx);
                    } else {
                        broken = true;
                    }
                } else if tx.tx.expiry_height < self.height + 1 {
                    broken = true;
                } else {
                    fut.insert(n, tx);
                }
            }
            if !pend.is_empty() {
                self.pending.insert(s, pend);
            }
            if !fut.is_empty() {
                self.future.insert(s, fut);
            }
        }
    }

    fn ids(&self) -> BTreeSet<TxId> {
        self.pending
            .values()
            .flatten()
            .chain(self.future.values().flat_map(|f| f.values()))
            .map(|t| t.id())
            .collect()
    }
}

fn setup() -> (Map, u64) {
    let mut map = genesis(ACCOUNTS, NATIVE);
    let mints: Vec<_> = (1..=ACCOUNTS)
        .map(|i| tx(ISSUER, u64::from(i) - 1, Payload::Mint { to: addr(i), coin: coin(usd(), USD_EACH) }))
        .collect();
    let out = execute_block(&map, &ctx(1), &mints).unwrap();
    assert!(out.receipts.iter().all(|r| r.status == TxStatus::Success));
    apply(&mut map, &out.overlay);
    (map, 1)
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let (map, height) = setup();
    let cfg = PoolConfig { ttl_blocks: 0, ttl_ms: 0, ..PoolConfig::default() };
    let mut pool = Mempool::new(map.clone(), height, height * 1000, cfg).unwrap();
    let mut model = Model { map, height, pending: BTreeMap::new(), future: BTreeMap::new() };
    for op in ops {
        match op {
            Op::Submit { from, off, kind, amount, fee, expiry, to } => {
                let next = model.next_nonce(&addr(from));
                let nonce = (next as i64 + i64::from(off)).max(0) as u64;
                let payload = match kind {
                    0 => Payload::Transfer { to: addr(to), coin: coin(native(), amount) },
                    1 => Payload::Transfer { to: addr(to), coin: coin(usd(), amount % 800) },
                    2 => Payload::Burn { coin: coin(usd(), amount % 800) },
                    3 => Payload::Mint { to: addr(to), coin: coin(usd(), amount % 800) },
                    _ => Payload::Transfer { to: addr(to), coin: coin(native(), amount * 3) },
                };
                let t = tx_with(from, nonce, fee, model.height + expiry, payload);
                let want = model.admit(t.clone());
                let got = pool.admit(t).unwrap();
                prop_assert_eq!(got.code(), want);
            }
            Op::Commit { max } => {
                let block = pool.reap(usize::MAX, max);
                // Per sender, the block holds a prefix of the model's pending sequence.
                let mut per: BTreeMap<Address, Vec<TxId>> = BTreeMap::new();
                for t in &block {
                    per.entry(t.tx.sender).or_default().push(t.id());
                }
                for (s, ids) in &per {
                    let want: Vec<TxId> = model.pending[s].iter().take(ids.len()).map(|t| t.id()).collect();
                    prop_assert_eq!(ids, &want);
                }
                let h = model.height + 1;
                let out = execute_block(&model.map, &ctx(h), &block).unwrap();
                for r in &out.receipts {
                    if let TxStatus::Failed { code, .. } = &r.status {
                        prop_assert!(!FORBIDDEN.contains(&code.as_str()), "admitted tx failed: {}", code);
                    }
                }
                apply(&mut model.map, &out.overlay);
                model.height = h;
                let ids: Vec<TxId> = block.iter().map(|t| t.id()).collect();
                pool.on_commit(model.map.clone(), h, h * 1000, &ids).unwrap();
                model.commit(&ids.into_iter().collect());
            }
            Op::External { from, amount } => {
                let nonce = model.account(&addr(from)).unwrap().nonce;
                let t = tx_with(
                    from,
                    nonce,
                    9_999,
                    model.height + 5,
                    Payload::Transfer { to: addr(1 + from % ACCOUNTS), coin: coin(native(), amount) },
                );
                let h = model.height + 1;
                let out = execute_block(&model.map, &ctx(h), std::slice::from_ref(&t)).unwrap();
                apply(&mut model.map, &out.overlay);
                model.height = h;
                pool.on_commit(model.map.clone(), h, h * 1000, &[t.id()]).unwrap();
                model.commit(&[t.id()].into_iter().collect());
            }
        }
        let got: BTreeSet<TxId> = (model.ids().into_iter()).filter(|id| pool.contains(id)).collect();
        prop_assert_eq!(&got, &model.ids());
        prop_assert_eq!(pool.len(), model.ids().len());
        prop_assert_eq!(pool.stats().pending, model.pending.values().map(Vec::len).sum::<usize>());
        for i in 1..=ACCOUNTS {
            for a in [native(), usd()] {
                let pend: u128 =
                    model.pending.get(&addr(i)).map_or(0, |l| l.iter().map(|t| debit_of(t, &a)).sum());
                prop_assert_eq!(pool.pending_debit(&addr(i), &a), pend);
                prop_assert!(
                    pend <= bal(&model.map, &addr(i), &a),
                    "pending debits exceed the committed balance"
                );
            }
        }
    }
    // Drain: every admitted transaction executes without a funds or envelope failure.
    let block = pool.reap(usize::MAX, usize::MAX);
    let out = execute_block(&model.map, &ctx(model.height + 1), &block).unwrap();
    for r in &out.receipts {
        if let TxStatus::Failed { code, .. } = &r.status {
            prop_assert!(!FORBIDDEN.contains(&code.as_str()), "admitted tx failed: {}", code);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    #[test]
    fn pool_matches_model_and_never_overdraws(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops)?;
    }
}
