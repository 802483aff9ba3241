//! The pool: per-sender pending sequences and future queues, the speculative debit ledger, admission,
//! re-check on commit, eviction and fair reaping.

use crate::confidential::{self, Effect};
use crate::config::{PoolConfig, DROP_LOG_CAPACITY, MAX_EVICTION_SENDERS};
use crate::debits::{Debit, DebitPolicy, Debits, StandardDebits};
use crate::permits;
use crate::reason::{DropReason, MempoolError, Reason, Verdict};
use purse_runtime::schema::{self, ChainRecord};
use purse_runtime::{native, BlockState, ExecError, Params, RuntimeError, StateRead};
use purse_types::tx::MAX_TX_BYTES;
use purse_types::{Address, AssetId, ChainId, PublicKey, SignedTransaction, Transaction, TxId};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// One pooled transaction.
struct Entry {
    tx: Arc<SignedTransaction>,
    id: TxId,
    /// Encoded size in bytes (≤ `MAX_TX_BYTES`).
    len: u32,
    /// Declared debits of the sender, fee included, merged per asset.
    debits: Box<[Debit]>,
    /// Committed height when it entered the pool (TTL anchor).
    since_height: u64,
    /// Committed block time when it entered the pool (TTL anchor).
    since_ms: u64,
    /// Its effect on the sender's confidential account and the inputs its proof verified against (confidential
    /// payloads only; boxed: ciphertexts are large and most entries have none).
    conf: Option<Box<Effect>>,
}

impl Entry {
    fn nonce(&self) -> u64 {
        self.tx.tx.nonce
    }
    fn debit_of(&self, asset: &AssetId) -> u128 {
        self.debits.iter().find(|d| &d.asset == asset).map_or(0, |d| d.amount)
    }
}

/// The speculative overlay of one (account, asset): committed spendable amount and Σ pending debits.
struct Ledger {
    asset: AssetId,
    /// Committed balance minus committed reservations.
    committed: u128,
    /// Σ debits of the sender's pending (executable) transactions. Pending credits are never counted.
    pending: u128,
}

/// One sender's pool state.
struct Sender {
    addr: Address,
    key: PublicKey,
    /// Committed next nonce.
    nonce: u64,
    /// Executable transactions, nonces `nonce, nonce+1, …` without gaps.
    pending: VecDeque<Entry>,
    /// Transactions waiting for a nonce gap to fill (all nonces > the last pending one).
    future: BTreeMap<u64, Entry>,
    ledger: Vec<Ledger>,
    /// Position in the round-robin order of block building (lower goes first).
    turn: u64,
}

impl Sender {
    fn count(&self) -> usize {
        self.pending.len() + self.future.len()
    }
    fn next_nonce(&self) -> u64 {
        self.nonce.saturating_add(self.pending.len() as u64)
    }
    fn ledger(&self, asset: &AssetId) -> Option<&Ledger> {
        self.ledger.iter().find(|l| &l.asset == asset)
    }
    fn ledger_mut(&mut self, asset: &AssetId) -> Option<&mut Ledger> {
        self.ledger.iter_mut().find(|l| &l.asset == asset)
    }
    fn add_debits(&mut self, debits: &[Debit]) {
        for d in debits {
            if let Some(l) = self.ledger_mut(&d.asset) {
                l.pending = l.pending.saturating_add(d.amount);
            }
        }
    }
    fn sub_debits(&mut self, debits: &[Debit]) {
        for d in debits {
            if let Some(l) = self.ledger_mut(&d.asset) {
                l.pending = l.pending.saturating_sub(d.amount);
            }
        }
    }
}

/// Where an admitted transaction goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// Next executable nonce.
    Append,
    /// Replaces the pending transaction with the same nonce.
    Replace,
    /// Into the future queue, replacing a queued transaction with the same nonce if `replace`.
    Queue { replace: bool, expected: u64 },
}

/// What admission will do, computed without changing the pool.
struct Plan {
    id: TxId,
    len: u32,
    debits: Debits,
    slot: Slot,
    /// Confidential effect (executable confidential payloads).
    conf: Option<Effect>,
    /// Tail transactions of other senders to evict first.
    victims: Vec<(Address, u64)>,
}

impl Plan {
    fn verdict(&self) -> Verdict {
        match self.slot {
            Slot::Append | Slot::Replace => Verdict::Valid,
            Slot::Queue { expected, .. } => Verdict::Queued { expected },
        }
    }
}

/// What a commit did to the pool.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitReport {
    /// Pooled transactions that were included in the block and left the pool.
    pub included: usize,
    /// Transactions dropped by the re-check, TTL or cascade (also reported by [`Mempool::take_dropped`]).
    pub dropped: Vec<(TxId, DropReason)>,
    /// Queued transactions promoted to pending.
    pub promoted: usize,
}

/// Sizes of the pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Executable transactions.
    pub pending: usize,
    /// Transactions waiting for a nonce gap.
    pub queued: usize,
    /// Encoded bytes held.
    pub bytes: usize,
    /// Senders with at least one pooled transaction.
    pub senders: usize,
}

/// The pending-transaction validator over committed state `S`, with debit rules `P`.
///
/// `S` is the committed state as of the last [`Mempool::on_commit`] (e.g. a snapshot handle of the node's
/// state database). The pool caches, per sender with pooled transactions, its account and committed balances,
/// and refreshes them on every commit.
pub struct Mempool<S, P = StandardDebits> {
    state: S,
    policy: P,
    config: PoolConfig,
    chain_id: ChainId,
    fee_asset: AssetId,
    params: Params,
    height: u64,
    time_ms: u64,
    senders: HashMap<Address, Sender>,
    index: HashMap<TxId, (Address, u64)>,
    /// Round-robin order of senders: turn → sender.
    turns: BTreeMap<u64, Address>,
    next_turn: u64,
    /// (pooled count, sender): picks capacity-eviction victims.
    by_count: BTreeSet<(usize, Address)>,
    pending_txs: usize,
    future_txs: usize,
    bytes: usize,
    dropped: VecDeque<(TxId, DropReason)>,
}

/// Σ of the tier-limited amounts of `asset` in `entries`.
fn limited_sum(entries: &[&Entry], asset: &AssetId) -> u128 {
    entries
        .iter()
        .flat_map(|e| permits::limited(&e.tx.tx))
        .filter(|(a, _)| a == asset)
        .fold(0u128, |acc, (_, n)| acc.saturating_add(n))
}

pub(crate) fn exec_err(e: ExecError) -> MempoolError {
    match e {
        ExecError::Runtime(e) => MempoolError::Runtime(e),
        // Reads never fail with a transaction error; treat one as corrupt state rather than panic.
        ExecError::Tx(e) => {
            MempoolError::Runtime(RuntimeError::Corrupt { key: "-".into(), reason: e.to_string() })
        }
    }
}

fn replacement_price(old_max_fee: u128, bump_percent: u128) -> u128 {
    let scaled = old_max_fee.saturating_mul(100u128.saturating_add(bump_percent)).saturating_add(99) / 100;
    scaled.max(old_max_fee.saturating_add(1))
}

fn encoded_len(tx: &SignedTransaction) -> usize {
    borsh::object_length(tx).unwrap_or(usize::MAX)
}

impl<S: StateRead> Mempool<S, StandardDebits> {
    /// A pool over committed state `state` at `height` (block time `time_ms`) with the standard debit rules.
    pub fn new(state: S, height: u64, time_ms: u64, config: PoolConfig) -> Result<Self, MempoolError> {
        Mempool::with_policy(state, height, time_ms, config, StandardDebits)
    }
}

impl<S: StateRead, P: DebitPolicy> Mempool<S, P> {
    /// A pool with a custom [`DebitPolicy`] (exchange reservations, contract declarations).
    pub fn with_policy(
        state: S,
        height: u64,
        time_ms: u64,
        config: PoolConfig,
        policy: P,
    ) -> Result<Self, MempoolError> {
        let (chain, params) = read_chain(&state)?;
        Ok(Mempool {
            state,
            policy,
            config,
            chain_id: chain.chain_id,
            fee_asset: chain.fee_asset,
            params,
            height,
            time_ms,
            senders: HashMap::new(),
            index: HashMap::new(),
            turns: BTreeMap::new(),
            next_turn: 0,
            by_count: BTreeSet::new(),
            pending_txs: 0,
            future_txs: 0,
            bytes: 0,
            dropped: VecDeque::new(),
        })
    }

    // ----- queries ---------------------------------------------------------------------------------------------

    /// Committed height the pool is validating against (transactions are judged for block `height + 1`).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The committed state.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The bounds in force.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Sizes.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            pending: self.pending_txs,
            queued: self.future_txs,
            bytes: self.bytes,
            senders: self.senders.len(),
        }
    }

    /// Transactions held (pending + queued).
    pub fn len(&self) -> usize {
        self.pending_txs + self.future_txs
    }

    /// True when nothing is pooled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `id` is pooled (pending or queued).
    pub fn contains(&self, id: &TxId) -> bool {
        self.index.contains_key(id)
    }

    /// A pooled transaction.
    pub fn get(&self, id: &TxId) -> Option<Arc<SignedTransaction>> {
        let (addr, nonce) = self.index.get(id)?;
        let s = self.senders.get(addr)?;
        let e = nonce
            .checked_sub(s.nonce)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| s.pending.get(i))
            .filter(|e| &e.id == id)
            .or_else(|| s.future.get(nonce).filter(|e| &e.id == id))?;
        Some(Arc::clone(&e.tx))
    }

    /// Σ debits of `addr`'s pending transactions in `asset` (never reduced by pending credits).
    pub fn pending_debit(&self, addr: &Address, asset: &AssetId) -> u128 {
        self.senders.get(addr).and_then(|s| s.ledger(asset)).map_or(0, |l| l.pending)
    }

    /// What `addr` can still spend of `asset` in a new transaction: committed balance − committed reservations −
    /// Σ pending debits.
    pub fn available(&self, addr: &Address, asset: &AssetId) -> Result<u128, MempoolError> {
        if let Some(l) = self.senders.get(addr).and_then(|s| s.ledger(asset)) {
            return Ok(l.committed.saturating_sub(l.pending));
        }
        self.committed_spendable(addr, asset)
    }

    /// The nonce `addr`'s next transaction should carry (committed nonce plus pending count), if the account
    /// exists.
    pub fn next_nonce(&self, addr: &Address) -> Result<Option<u64>, MempoolError> {
        if let Some(s) = self.senders.get(addr) {
            return Ok(Some(s.next_nonce()));
        }
        let st = BlockState::new(&self.state);
        Ok(native::account(&st, addr).map_err(exec_err)?.map(|a| a.nonce))
    }

    /// Drains the notifications of transactions that left the pool without inclusion (bounded by
    /// [`DROP_LOG_CAPACITY`]; older ones are discarded when nobody drains).
    pub fn take_dropped(&mut self) -> Vec<(TxId, DropReason)> {
        self.dropped.drain(..).collect()
    }

    /// Estimated heap and inline bytes used by the pooled transactions and their indexes.
    pub fn memory_estimate(&self) -> usize {
        let per_entry = std::mem::size_of::<Entry>()
            + 2 * std::mem::size_of::<usize>() // Arc counters
            + std::mem::size_of::<SignedTransaction>();
        let index_entry = std::mem::size_of::<(TxId, (Address, u64))>() + 1;
        let per_sender = std::mem::size_of::<(Address, Sender)>()
            + 1
            + std::mem::size_of::<(u64, Address)>()
            + std::mem::size_of::<(usize, Address)>();
        let mut total = self.senders.len() * per_sender + self.index.capacity() * index_entry;
        for s in self.senders.values() {
            total += s.pending.capacity() * std::mem::size_of::<Entry>();
            total += s.ledger.capacity() * std::mem::size_of::<Ledger>();
            for e in s.pending.iter().chain(s.future.values()) {
                // The encoded size bounds the payload's heap (chain id string, vectors).
                total += per_entry + e.len as usize + e.debits.len() * std::mem::size_of::<Debit>();
            }
        }
        total
    }

    // ----- admission -------------------------------------------------------------------------------------------

    /// Validates `tx` (signature included) without changing the pool: the RPC "validate only" answer. It is the
    /// verdict [`Mempool::admit`] would return now.
    pub fn check(&self, tx: &SignedTransaction) -> Result<Verdict, MempoolError> {
        Ok(match self.evaluate(tx, false)? {
            Ok(plan) => plan.verdict(),
            Err(r) => Verdict::Invalid(r),
        })
    }

    /// [`Mempool::check`] for a transaction whose signature the caller already verified (e.g. in a batch).
    pub fn check_verified(&self, tx: &SignedTransaction) -> Result<Verdict, MempoolError> {
        Ok(match self.evaluate(tx, true)? {
            Ok(plan) => plan.verdict(),
            Err(r) => Verdict::Invalid(r),
        })
    }

    /// Validates and inserts `tx`. `Valid`: pending (executable); `Queued`: waiting for a nonce gap;
    /// `Invalid(reason)`: rejected, the pool is unchanged.
    pub fn admit(&mut self, tx: SignedTransaction) -> Result<Verdict, MempoolError> {
        self.admit_inner(tx, false)
    }

    /// [`Mempool::admit`] for a transaction whose signature the caller already verified. Passing an unverified
    /// transaction here would let a forged transaction occupy its sender's nonce until the block rejects it.
    pub fn admit_verified(&mut self, tx: SignedTransaction) -> Result<Verdict, MempoolError> {
        self.admit_inner(tx, true)
    }

    /// Verifies the signatures of `txs` in one batch (falling back to one by one to find bad ones) and admits
    /// them in order.
    pub fn admit_batch(&mut self, txs: Vec<SignedTransaction>) -> Result<Vec<Verdict>, MempoolError> {
        let ok = purse_runtime::verify_signatures(&txs);
        let mut out = Vec::with_capacity(txs.len());
        for (tx, ok) in txs.into_iter().zip(ok) {
            out.push(if ok { self.admit_inner(tx, true)? } else { Verdict::Invalid(Reason::BadSignature) });
        }
        Ok(out)
    }

    fn admit_inner(&mut self, tx: SignedTransaction, sig_ok: bool) -> Result<Verdict, MempoolError> {
        let plan = match self.evaluate(&tx, sig_ok)? {
            Ok(p) => p,
            Err(r) => return Ok(Verdict::Invalid(r)),
        };
        let verdict = plan.verdict();
        for (victim, nonce) in &plan.victims {
            self.evict_tail(victim, *nonce);
        }
        let addr = tx.tx.sender;
        let mut s = match self.take_sender(&addr) {
            Some(s) => s,
            None => match self.load_sender(&addr)? {
                Some(s) => s,
                // The account vanished between evaluation and now: impossible without a commit in between.
                None => return Ok(Verdict::Invalid(Reason::UnknownSender)),
            },
        };
        let before = s.count();
        let entry = Entry {
            tx: Arc::new(tx),
            id: plan.id,
            len: plan.len,
            debits: plan.debits.into_boxed(),
            since_height: self.height,
            since_ms: self.time_ms,
            conf: plan.conf.map(Box::new),
        };
        let nonce = entry.nonce();
        let result = self.ensure_ledgers(&mut s, &entry.debits);
        if let Err(e) = result {
            self.put_sender(addr, s, before);
            return Err(e);
        }
        self.index.insert(entry.id, (addr, nonce));
        self.bytes = self.bytes.saturating_add(entry.len as usize);
        match plan.slot {
            Slot::Append => {
                s.add_debits(&entry.debits);
                s.pending.push_back(entry);
                self.pending_txs += 1;
                self.promote(&mut s, &mut Vec::new(), &mut 0)?;
            }
            Slot::Replace => {
                let i = usize::try_from(nonce.saturating_sub(s.nonce)).unwrap_or(usize::MAX);
                if let Some(slot) = s.pending.get_mut(i) {
                    let old = std::mem::replace(slot, entry);
                    s.sub_debits(&old.debits);
                    let new_debits = s.pending[i].debits.clone();
                    s.add_debits(&new_debits);
                    let by = s.pending[i].id;
                    self.forget(&old, false);
                    self.pending_txs += 1;
                    self.log_drop(old.id, DropReason::Replaced { by }, None);
                }
            }
            Slot::Queue { .. } => {
                let id = entry.id;
                if let Some(old) = s.future.insert(nonce, entry) {
                    self.forget(&old, true);
                    self.log_drop(old.id, DropReason::Replaced { by: id }, None);
                }
                self.future_txs += 1;
            }
        }
        self.put_sender(addr, s, before);
        Ok(verdict)
    }

    /// Runs every admission check and plans the insertion, without changing anything.
    fn evaluate(&self, tx: &SignedTransaction, sig_ok: bool) -> Result<Result<Plan, Reason>, MempoolError> {
        if !sig_ok && tx.verify_signature().is_err() {
            return Ok(Err(Reason::BadSignature));
        }
        let len = encoded_len(tx);
        if len > MAX_TX_BYTES {
            return Ok(Err(Reason::TooLarge { len, max: MAX_TX_BYTES }));
        }
        let len32 = u32::try_from(len).unwrap_or(u32::MAX);
        let t = &tx.tx;
        if t.chain_id != self.chain_id {
            return Ok(Err(Reason::WrongChain(t.chain_id.to_string())));
        }
        let next_height = self.height.saturating_add(1);
        if t.expiry_height < next_height {
            return Ok(Err(Reason::Expired { expiry: t.expiry_height, next_height }));
        }
        let id = tx.id();
        if self.index.contains_key(&id) {
            return Ok(Err(Reason::AlreadyKnown));
        }
        let cached = self.senders.get(&t.sender);
        let (key, committed_nonce, pool_next) = match cached {
            Some(s) => (s.key, s.nonce, s.next_nonce()),
            None => {
                let st = BlockState::new(&self.state);
                match native::account(&st, &t.sender).map_err(exec_err)? {
                    Some(a) => (a.public_key, a.nonce, a.nonce),
                    None => return Ok(Err(Reason::UnknownSender)),
                }
            }
        };
        if key != tx.public_key {
            return Ok(Err(Reason::WrongKey));
        }
        if t.nonce < committed_nonce {
            return Ok(Err(Reason::NonceTooLow { committed: committed_nonce, got: t.nonce }));
        }
        let (slot, old): (Slot, Option<&Entry>) = if t.nonce < pool_next {
            let i = usize::try_from(t.nonce - committed_nonce).unwrap_or(usize::MAX);
            (Slot::Replace, cached.and_then(|s| s.pending.get(i)))
        } else if t.nonce == pool_next {
            (Slot::Append, None)
        } else {
            let gap = t.nonce - pool_next;
            if gap > self.config.max_nonce_gap {
                return Ok(Err(Reason::NonceTooHigh {
                    expected: pool_next,
                    got: t.nonce,
                    max_gap: self.config.max_nonce_gap,
                }));
            }
            let old = cached.and_then(|s| s.future.get(&t.nonce));
            (Slot::Queue { replace: old.is_some(), expected: pool_next }, old)
        };
        if let Some(r) = self.fuel_too_high(tx) {
            return Ok(Err(r));
        }
        let fee = self.fee(tx, len);
        if t.max_fee.0 < fee {
            return Ok(Err(Reason::FeeTooLow { required: fee, max_fee: t.max_fee.0 }));
        }
        if let Some(old) = old {
            let required = replacement_price(old.tx.tx.max_fee.0, self.config.replacement_bump_percent);
            if t.max_fee.0 < required {
                return Ok(Err(Reason::ReplacementUnderpriced { required, offered: t.max_fee.0 }));
            }
        }
        let mut debits = Debits::new();
        if let Err(r) = debits.add(self.fee_asset, fee) {
            return Ok(Err(r));
        }
        if let Err(r) = self.policy.declared_debits(t, &mut debits) {
            return Ok(Err(r));
        }
        if !matches!(slot, Slot::Queue { .. }) {
            for d in debits.as_slice() {
                let (committed, pending) = match cached.and_then(|s| s.ledger(&d.asset)) {
                    Some(l) => (l.committed, l.pending),
                    None => (self.committed_spendable(&t.sender, &d.asset)?, 0),
                };
                let pending = pending.saturating_sub(old.map_or(0, |o| o.debit_of(&d.asset)));
                let available = committed.saturating_sub(pending);
                if d.asset == self.fee_asset && fee > available {
                    return Ok(Err(Reason::CannotPayFee { fee, available }));
                }
                if d.amount > available {
                    return Ok(Err(Reason::InsufficientAvailable {
                        asset: d.asset,
                        available,
                        needed: d.amount,
                    }));
                }
            }
        }
        // The chain's rules: freezes, authorization, registered recipients, tier limits (pending included).
        if !matches!(slot, Slot::Queue { .. }) {
            let others: Vec<&Entry> = cached
                .map(|s| s.pending.iter().filter(|e| old.is_none_or(|o| o.id != e.id)).collect())
                .unwrap_or_default();
            let day = purse_runtime::permissions::day_of(self.time_ms);
            if let Err(r) = permits::check(&self.state, t, |a| limited_sum(&others, a), day)? {
                return Ok(Err(r));
            }
        }
        // Confidential proofs, against the sender's confidential account after its earlier pending transactions.
        let mut conf = None;
        let is_conf = confidential::touched_asset(t).is_some() || old.is_some_and(|o| o.conf.is_some());
        if is_conf && !matches!(slot, Slot::Queue { .. }) {
            let at = usize::try_from(t.nonce - committed_nonce).unwrap_or(usize::MAX);
            let earlier: Vec<&Entry> =
                cached.map(|s| s.pending.iter().take(at).collect()).unwrap_or_default();
            conf = match self.check_confidential(t, &earlier, None)? {
                Ok(c) => c,
                Err(r) => return Ok(Err(r)),
            };
            if let (Some(old), Some(s)) = (old, cached) {
                if let Err(r) = self.replacement_conflict(s, at, old, conf.as_ref())? {
                    return Ok(Err(r));
                }
            }
        }
        // Capacity.
        let count = cached.map_or(0, Sender::count);
        let mut victims = Vec::new();
        if old.is_none() {
            if count >= self.config.max_per_sender {
                return Ok(Err(Reason::SenderFull { max: self.config.max_per_sender }));
            }
            if matches!(slot, Slot::Queue { .. }) {
                let queued = cached.map_or(0, |s| s.future.len());
                if queued >= self.config.max_future_per_sender
                    || self.future_txs >= self.config.max_future_total
                {
                    return Ok(Err(Reason::FutureQueueFull));
                }
            }
            let need_txs = (self.len() + 1).saturating_sub(self.config.max_txs);
            let need_bytes = (self.bytes.saturating_add(len)).saturating_sub(self.config.max_bytes);
            if need_txs > 0 || need_bytes > 0 {
                match self.plan_evictions(&t.sender, count + 1, need_txs, need_bytes) {
                    Some(v) => victims = v,
                    None => return Ok(Err(Reason::PoolFull)),
                }
            }
        } else {
            let old_len = old.map_or(0, |o| o.len as usize);
            if self.bytes.saturating_sub(old_len).saturating_add(len) > self.config.max_bytes {
                return Ok(Err(Reason::PoolFull));
            }
        }
        Ok(Ok(Plan { id, len: len32, debits, slot, conf, victims }))
    }

    /// Tail transactions of the largest senders, each left with more than `my_count` transactions, that free
    /// `need_txs` slots and `need_bytes` bytes; `None` if that is impossible.
    fn plan_evictions(
        &self,
        me: &Address,
        my_count: usize,
        need_txs: usize,
        need_bytes: usize,
    ) -> Option<Vec<(Address, u64)>> {
        let mut victims = Vec::new();
        let (mut freed_txs, mut freed_bytes) = (0usize, 0usize);
        for (count, addr) in self.by_count.iter().rev().take(MAX_EVICTION_SENDERS) {
            if *count <= my_count {
                break;
            }
            if addr == me {
                continue;
            }
            let s = self.senders.get(addr)?;
            let mut remaining = *count;
            for e in s.future.values().rev().chain(s.pending.iter().rev()) {
                if freed_txs >= need_txs && freed_bytes >= need_bytes {
                    return Some(victims);
                }
                if remaining <= my_count {
                    break;
                }
                victims.push((*addr, e.nonce()));
                freed_txs += 1;
                freed_bytes += e.len as usize;
                remaining -= 1;
            }
        }
        (freed_txs >= need_txs && freed_bytes >= need_bytes).then_some(victims)
    }

    /// Removes `addr`'s highest-nonce transaction (expected to carry `nonce`) to make room.
    fn evict_tail(&mut self, addr: &Address, nonce: u64) {
        let Some(mut s) = self.take_sender(addr) else { return };
        let before = s.count();
        if s.future.last_key_value().is_some_and(|(n, _)| *n == nonce) {
            if let Some((_, e)) = s.future.pop_last() {
                self.forget(&e, true);
                self.log_drop(e.id, DropReason::Capacity, None);
            }
        } else if s.pending.back().is_some_and(|e| e.nonce() == nonce) {
            if let Some(e) = s.pending.pop_back() {
                s.sub_debits(&e.debits);
                self.forget(&e, false);
                self.log_drop(e.id, DropReason::Capacity, None);
            }
        }
        self.put_sender(*addr, s, before);
    }

    /// Moves queued transactions whose nonce is next into pending, re-checking each; the first that fails is
    /// dropped with everything queued after it.
    fn promote(
        &mut self,
        s: &mut Sender,
        report: &mut Vec<(TxId, DropReason)>,
        promoted: &mut usize,
    ) -> Result<(), MempoolError> {
        loop {
            let next = s.next_nonce();
            let Some(entry) = s.future.remove(&next) else { return Ok(()) };
            self.future_txs = self.future_txs.saturating_sub(1);
            match self.recheck(s, entry)? {
                Ok(e) => {
                    s.add_debits(&e.debits);
                    s.pending.push_back(e);
                    self.pending_txs += 1;
                    *promoted += 1;
                }
                Err((e, reason)) => {
                    // Counted as pending by `forget`: undo the queue decrement above.
                    self.future_txs += 1;
                    self.forget(&e, true);
                    self.log_drop(e.id, DropReason::Invalid(reason), Some(report));
                    let later = std::mem::take(&mut s.future);
                    for (_, l) in later {
                        self.forget(&l, true);
                        self.log_drop(l.id, DropReason::Cascade { cause: e.id }, Some(report));
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Re-validates a pooled entry as `s`'s next pending transaction against the current committed state, params
    /// and pending debits. Returns the entry with refreshed debits, or the entry and the reason it fails.
    #[allow(clippy::type_complexity)]
    fn recheck(&self, s: &mut Sender, mut e: Entry) -> Result<Result<Entry, (Entry, Reason)>, MempoolError> {
        let t = &e.tx.tx;
        let next_height = self.height.saturating_add(1);
        if t.expiry_height < next_height {
            let r = Reason::Expired { expiry: t.expiry_height, next_height };
            return Ok(Err((e, r)));
        }
        if let Some(r) = self.fuel_too_high(&e.tx) {
            return Ok(Err((e, r)));
        }
        let fee = self.fee(&e.tx, e.len as usize);
        if t.max_fee.0 < fee {
            let r = Reason::FeeTooLow { required: fee, max_fee: t.max_fee.0 };
            return Ok(Err((e, r)));
        }
        let mut debits = Debits::new();
        let res = debits.add(self.fee_asset, fee).and_then(|()| self.policy.declared_debits(t, &mut debits));
        if let Err(r) = res {
            return Ok(Err((e, r)));
        }
        self.ensure_ledgers(s, debits.as_slice())?;
        for d in debits.as_slice() {
            let available = s.ledger(&d.asset).map_or(0, |l| l.committed.saturating_sub(l.pending));
            if d.asset == self.fee_asset && fee > available {
                return Ok(Err((e, Reason::CannotPayFee { fee, available })));
            }
            if d.amount > available {
                let r = Reason::InsufficientAvailable { asset: d.asset, available, needed: d.amount };
                return Ok(Err((e, r)));
            }
        }
        let earlier: Vec<&Entry> = s.pending.iter().collect();
        let day = purse_runtime::permissions::day_of(self.time_ms);
        if let Err(r) = permits::check(&self.state, t, |a| limited_sum(&earlier, a), day)? {
            return Ok(Err((e, r)));
        }
        if confidential::touched_asset(&e.tx.tx).is_some() {
            match self.check_confidential(&e.tx.tx, &earlier, e.conf.as_deref())? {
                Ok(conf) => e.conf = conf.map(Box::new),
                Err(r) => return Ok(Err((e, r))),
            }
        }
        e.debits = debits.into_boxed();
        Ok(Ok(e))
    }

    /// The fee the chain reserves for `tx`: size fee plus the fee of its declared fuel (contract fuel limit, or a
    /// confidential operation's fixed proof-verification fuel), as `check_envelope` does.
    /// [`Reason::FuelTooHigh`] if `tx` declares more fuel than the committed params' `max_tx_fuel`, as block
    /// execution's envelope check refuses (and block building, which stops at the first transaction that does
    /// not fit the block's fuel, would stop at one declaring more than a block's).
    fn fuel_too_high(&self, tx: &SignedTransaction) -> Option<Reason> {
        let fuel = purse_runtime::declared_fuel(tx);
        (fuel > self.params.max_tx_fuel).then_some(Reason::FuelTooHigh { fuel, max: self.params.max_tx_fuel })
    }

    fn fee(&self, tx: &SignedTransaction, len: usize) -> u128 {
        self.params.fee_for(len).saturating_add(self.params.fuel_fee(purse_runtime::declared_fuel(tx)))
    }

    /// Checks a confidential payload against its sender's confidential account projected over `earlier` (the
    /// sender's pending transactions before it, in nonce order). `previous`: its effect when last checked, reused
    /// if the proof's inputs did not change.
    fn check_confidential(
        &self,
        tx: &Transaction,
        earlier: &[&Entry],
        previous: Option<&Effect>,
    ) -> Result<Result<Option<Effect>, Reason>, MempoolError> {
        let Some(asset) = confidential::touched_asset(tx) else { return Ok(Ok(None)) };
        let st = BlockState::new(&self.state);
        let committed = confidential::committed(&st, &tx.sender, &asset).map_err(exec_err)?;
        let p = confidential::project(committed.as_ref(), &asset, earlier.iter().map(|e| e.conf.as_deref()));
        confidential::check(&st, tx, &p, committed.as_ref(), previous).map_err(exec_err)
    }

    /// A replacement at pending index `at` must leave the confidential account that later pending transactions of
    /// the sender proved against unchanged.
    fn replacement_conflict(
        &self,
        s: &Sender,
        at: usize,
        old: &Entry,
        new: Option<&Effect>,
    ) -> Result<Result<(), Reason>, MempoolError> {
        let assets = [old.conf.as_deref().map(|c| c.asset), new.map(|c| c.asset)];
        for asset in assets.into_iter().flatten() {
            let later =
                s.pending.iter().skip(at + 1).any(|e| e.conf.as_ref().is_some_and(|c| c.asset == asset));
            if !later {
                continue;
            }
            let st = BlockState::new(&self.state);
            let committed = confidential::committed(&st, &s.addr, &asset).map_err(exec_err)?;
            let before = confidential::project(
                committed.as_ref(),
                &asset,
                s.pending.iter().take(at).map(|e| e.conf.as_deref()),
            );
            let after = |c: Option<&Effect>| {
                let mut p = before.clone();
                if let Some(c) = c.filter(|c| c.asset == asset) {
                    p.apply(c);
                }
                p
            };
            if after(old.conf.as_deref()) != after(new) {
                return Ok(Err(Reason::ConfidentialReplacementConflict));
            }
        }
        Ok(Ok(()))
    }

    // ----- commit ----------------------------------------------------------------------------------------------

    /// A block was committed: `state` is the new committed state at `height` with block time `time_ms`, and
    /// `included` the ids of the block's transactions. Included transactions leave the pool; every other one is
    /// re-checked in nonce order against the new state (and the params it holds) and dropped, with its sender's
    /// later nonces, if it no longer passes; TTLs are enforced; queued transactions whose gap filled are
    /// promoted.
    pub fn on_commit(
        &mut self,
        state: S,
        height: u64,
        time_ms: u64,
        included: &[TxId],
    ) -> Result<CommitReport, MempoolError> {
        let (chain, params) = read_chain(&state)?;
        self.state = state;
        self.chain_id = chain.chain_id;
        self.fee_asset = chain.fee_asset;
        self.params = params;
        self.height = height;
        self.time_ms = time_ms;
        let included: HashSet<TxId> =
            included.iter().filter(|id| self.index.contains_key(id)).copied().collect();
        let mut report = CommitReport { included: included.len(), ..CommitReport::default() };
        let mut addrs: Vec<Address> = self.senders.keys().copied().collect();
        addrs.sort_unstable_by_key(|a| self.senders.get(a).map_or(0, |s| s.turn));
        for addr in addrs {
            self.recheck_sender(&addr, &included, &mut report)?;
        }
        Ok(report)
    }

    fn ttl_over(&self, e: &Entry) -> bool {
        (self.config.ttl_blocks > 0 && self.height.saturating_sub(e.since_height) >= self.config.ttl_blocks)
            || (self.config.ttl_ms > 0 && self.time_ms.saturating_sub(e.since_ms) >= self.config.ttl_ms)
    }

    fn recheck_sender(
        &mut self,
        addr: &Address,
        included: &HashSet<TxId>,
        report: &mut CommitReport,
    ) -> Result<(), MempoolError> {
        let Some(mut s) = self.take_sender(addr) else { return Ok(()) };
        let before = s.count();
        let old_nonce = s.nonce;
        let pending = std::mem::take(&mut s.pending);
        let future = std::mem::take(&mut s.future);
        self.pending_txs -= pending.len();
        self.future_txs -= future.len();
        // Re-counted as they are kept: un-forgotten entries are re-added below.
        let st = BlockState::new(&self.state);
        let account = native::account(&st, addr).map_err(exec_err)?;
        let gone = match &account {
            None => Some(Reason::UnknownSender),
            Some(a) if a.public_key != s.key => Some(Reason::WrongKey),
            Some(_) => None,
        };
        if let Some(a) = &account {
            s.nonce = a.nonce;
        }
        for l in &mut s.ledger {
            l.committed = spendable(&self.policy, &st, addr, &l.asset)?;
            l.pending = 0;
        }
        drop(st);
        let mut broken: Option<TxId> = None;
        let all = pending.into_iter().map(|e| (e, false)).chain(future.into_values().map(|e| (e, true)));
        for (e, was_future) in all {
            // `forget` below expects the entry counted as pending or queued.
            if was_future {
                self.future_txs += 1;
            } else {
                self.pending_txs += 1;
            }
            if included.contains(&e.id) {
                self.forget(&e, was_future);
                if e.nonce() >= s.nonce {
                    // Included but its nonce did not advance (it failed its envelope in the block).
                    broken = Some(e.id);
                }
                continue;
            }
            let drop_reason = if let Some(r) = &gone {
                Some(DropReason::Invalid(r.clone()))
            } else if e.nonce() < s.nonce {
                Some(DropReason::Invalid(Reason::NonceTooLow { committed: s.nonce, got: e.nonce() }))
            } else if let Some(cause) = broken {
                Some(DropReason::Cascade { cause })
            } else if self.ttl_over(&e) {
                Some(DropReason::Ttl)
            } else {
                None
            };
            if let Some(reason) = drop_reason {
                if !matches!(reason, DropReason::Invalid(Reason::NonceTooLow { .. })) {
                    broken = broken.or(Some(e.id));
                }
                self.forget(&e, was_future);
                self.log_drop(e.id, reason, Some(&mut report.dropped));
                continue;
            }
            if e.nonce() == s.next_nonce() {
                // Executable: re-check as pending. (A queued entry whose gap filled is promoted here too.)
                if was_future {
                    self.future_txs -= 1;
                    self.pending_txs += 1;
                    report.promoted += 1;
                }
                match self.recheck(&mut s, e)? {
                    Ok(e) => {
                        s.add_debits(&e.debits);
                        s.pending.push_back(e);
                    }
                    Err((e, r)) => {
                        broken = Some(e.id);
                        self.forget(&e, false);
                        self.log_drop(e.id, DropReason::Invalid(r), Some(&mut report.dropped));
                    }
                }
            } else {
                // A gap: stays (or becomes) queued, still bounded by its expiry.
                let next_height = self.height.saturating_add(1);
                if e.tx.tx.expiry_height < next_height {
                    let r = Reason::Expired { expiry: e.tx.tx.expiry_height, next_height };
                    broken = Some(e.id);
                    self.forget(&e, was_future);
                    self.log_drop(e.id, DropReason::Invalid(r), Some(&mut report.dropped));
                    continue;
                }
                if !was_future {
                    self.pending_txs -= 1;
                    self.future_txs += 1;
                }
                s.future.insert(e.nonce(), e);
            }
        }
        if s.nonce > old_nonce {
            // Served in this block: go to the back of the round-robin order.
            self.turns.remove(&s.turn);
            s.turn = self.next_turn;
            self.next_turn += 1;
            self.turns.insert(s.turn, *addr);
        }
        self.put_sender(*addr, s, before);
        Ok(())
    }

    // ----- block building --------------------------------------------------------------------------------------

    /// Transactions for the next block, at most `max_txs` and `max_bytes` of encoded transactions: one per
    /// sender per round, senders in round-robin order (those served least recently first), each sender's in
    /// nonce order. A sender whose next transaction does not fit stops for this block; others continue.
    pub fn reap(&self, max_bytes: usize, max_txs: usize) -> Vec<SignedTransaction> {
        let mut cursors: Vec<(&Sender, usize)> = self
            .turns
            .values()
            .filter_map(|a| self.senders.get(a))
            .filter(|s| !s.pending.is_empty())
            .map(|s| (s, 0))
            .collect();
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while !cursors.is_empty() && out.len() < max_txs {
            let mut next = Vec::with_capacity(cursors.len());
            for (s, i) in cursors {
                if out.len() >= max_txs {
                    break;
                }
                let Some(e) = s.pending.get(i) else { continue };
                let len = e.len as usize;
                if bytes.saturating_add(len) > max_bytes {
                    continue;
                }
                bytes += len;
                out.push(SignedTransaction::clone(&e.tx));
                if i + 1 < s.pending.len() {
                    next.push((s, i + 1));
                }
            }
            cursors = next;
        }
        out
    }

    // ----- bookkeeping -----------------------------------------------------------------------------------------

    fn committed_spendable(&self, addr: &Address, asset: &AssetId) -> Result<u128, MempoolError> {
        let st = BlockState::new(&self.state);
        spendable(&self.policy, &st, addr, asset)
    }

    fn load_sender(&mut self, addr: &Address) -> Result<Option<Sender>, MempoolError> {
        let st = BlockState::new(&self.state);
        let Some(a) = native::account(&st, addr).map_err(exec_err)? else { return Ok(None) };
        let turn = self.next_turn;
        self.next_turn += 1;
        self.turns.insert(turn, *addr);
        Ok(Some(Sender {
            addr: *addr,
            key: a.public_key,
            nonce: a.nonce,
            pending: VecDeque::new(),
            future: BTreeMap::new(),
            ledger: Vec::new(),
            turn,
        }))
    }

    fn ensure_ledgers(&self, s: &mut Sender, debits: &[Debit]) -> Result<(), MempoolError> {
        for d in debits {
            if s.ledger(&d.asset).is_none() {
                let committed = self.committed_spendable(&s.addr, &d.asset)?;
                s.ledger.push(Ledger { asset: d.asset, committed, pending: 0 });
            }
        }
        Ok(())
    }

    fn take_sender(&mut self, addr: &Address) -> Option<Sender> {
        self.senders.remove(addr)
    }

    /// Puts a sender back after changes, keeping the count index and round-robin order in step; a sender with
    /// nothing pooled is forgotten.
    fn put_sender(&mut self, addr: Address, s: Sender, count_before: usize) {
        let after = s.count();
        if count_before != after {
            self.by_count.remove(&(count_before, addr));
            if after > 0 {
                self.by_count.insert((after, addr));
            }
        }
        if after == 0 {
            self.by_count.remove(&(count_before, addr));
            self.turns.remove(&s.turn);
            return;
        }
        self.senders.insert(addr, s);
    }

    /// Removes an entry from the index and totals.
    fn forget(&mut self, e: &Entry, queued: bool) {
        self.index.remove(&e.id);
        self.bytes = self.bytes.saturating_sub(e.len as usize);
        if queued {
            self.future_txs = self.future_txs.saturating_sub(1);
        } else {
            self.pending_txs = self.pending_txs.saturating_sub(1);
        }
    }

    fn log_drop(&mut self, id: TxId, reason: DropReason, report: Option<&mut Vec<(TxId, DropReason)>>) {
        if let Some(r) = report {
            r.push((id, reason.clone()));
        }
        if self.dropped.len() >= DROP_LOG_CAPACITY {
            self.dropped.pop_front();
        }
        self.dropped.push_back((id, reason));
    }
}

fn spendable<R: StateRead + ?Sized, P: DebitPolicy>(
    policy: &P,
    st: &BlockState<'_, R>,
    addr: &Address,
    asset: &AssetId,
) -> Result<u128, MempoolError> {
    let balance = native::balance(st, addr, asset).map_err(exec_err)?;
    let reserved = policy.committed_reserved(st, addr, asset)?;
    Ok(balance.saturating_sub(reserved))
}

fn read_chain<S: StateRead>(state: &S) -> Result<(ChainRecord, Params), MempoolError> {
    let st = BlockState::new(state);
    let chain: ChainRecord = st.get_record(&schema::chain_key())?.ok_or(MempoolError::NoChainRecord)?;
    let params = Params::read(&st)?;
    Ok((chain, params))
}
