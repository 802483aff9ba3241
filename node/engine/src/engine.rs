//! One validator's engine: a single thread that feeds inputs to the consensus core and carries out its
//! effects — WAL first, signer guard before any signature, block building and validation by execution,
//! atomic commit — then starts the next height.

use crate::context::{
    from_wire_proposal, from_wire_vote, sign_vote, to_wire_certificate, to_wire_proposal, PurseCtx,
};
use crate::error::EngineError;
use crate::inbox::InboxReceiver;
use crate::network::{EngineRead, Inbound, Network, PendingTx, ProofAnswer};
use crate::validators::{CoreSets, ValidatorWatch};
use crate::wire::{NetMessage, SignerRecord, SyncedBlock, WalRecord};
use purse_consensus as pc;
use purse_mempool::{Mempool, PoolConfig, Verdict};
use purse_runtime::{BlockContext, Genesis, Runtime};
use purse_state::{KvStore, Overlay, PreparedCommit, StateView};
use purse_storage::{CommitBundle, Storage};
use purse_types::{
    decode, encode, Block, ChainId, CommitCertificate, Domain, Hash, Header, Keypair, Receipt,
    SignedProposal, SignedVote, ValidatorSet,
};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How far ahead of the local clock a proposed block's timestamp may be.
pub const MAX_CLOCK_DRIFT_MS: u64 = 10_000;
/// Most WAL records read back on restart.
pub const MAX_WAL_REPLAY: usize = 100_000;
/// Most executed-but-undecided blocks cached per height (one per proposal seen).
pub const MAX_EXECUTED_CACHE: usize = 16;

/// Engine tuning.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Consensus timeouts.
    pub timeouts: pc::TimeoutConfig,
    /// Pause after a commit before starting the next height (lets transactions accumulate).
    pub commit_delay: Duration,
    /// Most transactions per proposed block.
    pub max_block_txs: usize,
    /// Most transaction bytes per proposed block.
    pub max_block_bytes: usize,
    /// Bounds and policy of the pending-transaction validator (purse-mempool).
    pub pool: PoolConfig,
    /// Contract VM configuration (limits and fuel schedule are consensus-critical: keep the defaults).
    pub vm: purse_vm::VmConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            timeouts: pc::TimeoutConfig::default(),
            commit_delay: Duration::from_millis(200),
            max_block_txs: 10_000,
            max_block_bytes: 4 * 1024 * 1024,
            pool: PoolConfig::default(),
            vm: purse_vm::VmConfig::default(),
        }
    }
}

/// Something the engine reports to whoever started it (progress displays, tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineEvent {
    /// A block was committed.
    Committed {
        /// Height.
        height: u64,
        /// Block id.
        block_id: Hash,
        /// State root after it.
        state_root: Hash,
        /// Round it was decided in.
        round: u32,
        /// Its transaction ids.
        tx_ids: Vec<Hash>,
        /// How many of them succeeded.
        succeeded: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKind {
    Consensus { height: u64, round: u32, step: u8 },
    NextHeight(u64),
}

struct Executed {
    receipts: Vec<Receipt>,
    receipt_root: Hash,
    prepared: PreparedCommit,
    /// The state changes `prepared` was prepared from (reads of the block's state use them until its write
    /// lands, see `Storage::submit_block`).
    overlay: Overlay,
}

/// Counters of what the engine dropped or rejected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Messages with a bad signature.
    pub bad_signatures: u64,
    /// Inputs the core rejected (stale, future, unknown validator, …).
    pub rejected_inputs: u64,
    /// Proposed blocks judged invalid.
    pub invalid_blocks: u64,
    /// Signatures the signer guard refused.
    pub refused_signatures: u64,
    /// Gossiped transactions the pending-transaction validator rejected.
    pub rejected_txs: u64,
    /// Pooled transactions dropped on commit (made invalid by the block, expired, evicted).
    pub pool_dropped: u64,
    /// Blocks committed through block sync.
    pub synced_blocks: u64,
    /// Synced blocks refused (bad certificate, wrong parent, or execution disagreeing with the header).
    pub invalid_synced_blocks: u64,
}

/// Live figures of an engine, readable from other threads (status, metrics).
#[derive(Debug, Default)]
pub struct EngineGauges {
    /// Height of the last committed block.
    pub height: AtomicU64,
    /// Round of the height being decided.
    pub round: AtomicU64,
    /// Transactions in the pending-transaction validator.
    pub pool_len: AtomicU64,
}

/// One validator.
pub struct Engine<S: KvStore + Clone + 'static, N: Network> {
    chain_id: ChainId,
    key: Keypair,
    validators: Arc<ValidatorWatch>,
    storage: Storage<S>,
    runtime: Runtime,
    core: pc::Consensus<PurseCtx>,
    signer: pc::SignerGuard<PurseCtx>,
    net: N,
    pool: Mempool<StateView<S>>,
    config: EngineConfig,
    executed: HashMap<Hash, Executed>,
    timers: BinaryHeap<Reverse<(Instant, TimerKind)>>,
    wal_seq: u64,
    core_sets: Option<CoreSets>,
    evidence: Vec<purse_types::Evidence>,
    events: Option<SyncSender<EngineEvent>>,
    stats: EngineStats,
    gauges: Arc<EngineGauges>,
    /// Trace every effect to stderr (`PURSE_DEBUG=1`).
    debug: bool,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Hash identifying a genesis document (recorded as the block id of height 0).
pub fn genesis_hash(genesis: &Genesis) -> Hash {
    let mut h = purse_types::Hasher::new(Domain::BlockId);
    h.update(b"genesis").update_field(genesis.chain_id.as_str().as_bytes());
    h.update(&genesis.genesis_time_ms.to_le_bytes());
    for v in &genesis.validators {
        h.update(v.public_key.as_bytes()).update(&v.power.to_le_bytes());
    }
    for a in &genesis.accounts {
        h.update(a.public_key.as_bytes()).update(&a.native_balance.0.to_le_bytes()).update(&[a.tier]);
    }
    h.finalize()
}

/// The block record of height 0 a store initialised from `genesis` holds (its id is [`genesis_hash`], its root
/// the genesis state's): the anchor a state-synced store needs besides the snapshot's own block. A genesis
/// that deploys contracts is built on a VM with the chain's default configuration.
pub fn genesis_record(genesis: &Genesis) -> Result<CommitBundle, EngineError> {
    let store = Arc::new(purse_state::MemoryStore::new());
    let state = purse_state::StateDb::open(store, purse_state::StateConfig::default())?;
    let overlay = if genesis.contracts().is_empty() {
        genesis.build_state(&state)?
    } else {
        let vm =
            purse_vm::Vm::new(purse_vm::VmConfig::default()).map_err(|e| EngineError::Vm(e.to_string()))?;
        genesis.build_state_with(&state.view(), &vm)?
    };
    let prepared = state.prepare_commit(0, &overlay)?;
    Ok(genesis_bundle(genesis, prepared.root))
}

fn genesis_bundle(genesis: &Genesis, state_root: Hash) -> CommitBundle {
    let gh = genesis_hash(genesis);
    CommitBundle {
        height: 0,
        block_hash: gh,
        state_root,
        header: gh.0.to_vec(),
        block: Vec::new(),
        certificate: None,
        receipts: Vec::new(),
        parties: Vec::new(),
    }
}

impl<S: KvStore + Clone + 'static, N: Network> Engine<S, N> {
    /// Opens (or initialises from `genesis`) a validator over `storage`.
    pub fn open(
        mut storage: Storage<S>,
        genesis: &Genesis,
        key: Keypair,
        net: N,
        config: EngineConfig,
        events: Option<SyncSender<EngineEvent>>,
    ) -> Result<Self, EngineError> {
        // One VM for the node: it deploys the genesis contracts (a fresh store) and then runs every block.
        let vm = purse_vm::Vm::new(config.vm.clone()).map_err(|e| EngineError::Vm(e.to_string()))?;
        if storage.head().is_none() {
            let overlay = genesis.build_state_with(&storage.state().view(), &vm)?;
            let prepared = storage.state().prepare_commit(0, &overlay)?;
            storage.commit_block(genesis_bundle(genesis, prepared.root), prepared)?;
        } else if storage.block_info(0)?.map(|b| b.block_hash) != Some(genesis_hash(genesis)) {
            return Err(EngineError::Genesis("the store was initialised from another genesis".into()));
        }
        let signer = match storage.signer_state()? {
            Some(bytes) => {
                let rec: SignerRecord =
                    decode(&bytes).map_err(|e| EngineError::Corrupt(format!("signer state: {e}")))?;
                pc::SignerGuard::restore(Some(rec.into_last()))
            }
            None => pc::SignerGuard::new(),
        };
        let validators = Arc::new(Self::read_schedule(&storage)?);
        let params = pc::Params { address: Some(key.public()), timeouts: config.timeouts };
        let (head_height, head_time) = match storage.head() {
            Some(h) if h.height > 0 => (h.height, Self::header_time(&storage, h.height)?),
            _ => (0, genesis.genesis_time_ms),
        };
        let pool = Mempool::new(storage.state().view(), head_height, head_time, config.pool)?;
        let mut engine = Engine {
            chain_id: genesis.chain_id.clone(),
            key,
            validators,
            storage,
            runtime: Runtime::new(vm),
            core: pc::Consensus::new(params),
            signer,
            net,
            pool,
            config,
            executed: HashMap::new(),
            timers: BinaryHeap::new(),
            wal_seq: 0,
            core_sets: None,
            evidence: Vec::new(),
            events,
            stats: EngineStats::default(),
            gauges: Arc::new(EngineGauges::default()),
            debug: std::env::var_os("PURSE_DEBUG").is_some(),
        };
        engine.resume()?;
        Ok(engine)
    }

    /// The validator schedule of the committed state.
    fn read_schedule(storage: &Storage<S>) -> Result<ValidatorWatch, EngineError> {
        let committed = storage.head().map(|h| h.height).unwrap_or(0);
        let schedule = purse_runtime::governance::validator_schedule(&storage.state().view())?
            .ok_or_else(|| EngineError::Corrupt("the state has no validator schedule".into()))?;
        Ok(ValidatorWatch::new(committed, schedule))
    }

    /// Re-reads the validator schedule after a commit.
    fn refresh_validators(&self, committed: u64) -> Result<(), EngineError> {
        let schedule = purse_runtime::governance::validator_schedule(&self.storage.state().view())?
            .ok_or_else(|| EngineError::Corrupt("the state has no validator schedule".into()))?;
        self.validators.update(committed, schedule);
        Ok(())
    }

    /// The validator set of `height` as the committed state records it (known up to the committed height plus
    /// the change delay).
    fn set_at(&self, height: u64) -> Result<ValidatorSet, EngineError> {
        self.validators
            .set_at(height)
            .ok_or_else(|| EngineError::Corrupt(format!("no validator set recorded for height {height}")))
    }

    /// The committed validator schedule, shared with other threads (gossip checks, sync, RPC, peer list).
    pub fn validators(&self) -> Arc<ValidatorWatch> {
        Arc::clone(&self.validators)
    }

    /// Block time of the committed block at `height`.
    fn header_time(storage: &Storage<S>, height: u64) -> Result<u64, EngineError> {
        let bytes = storage
            .header(height)?
            .ok_or_else(|| EngineError::Corrupt(format!("header {height} missing below the head")))?;
        let header: Header =
            decode(&bytes).map_err(|e| EngineError::Corrupt(format!("header {height}: {e}")))?;
        Ok(header.timestamp_ms)
    }

    /// The pending-transaction validator (read-only).
    pub fn pool(&self) -> &Mempool<StateView<S>> {
        &self.pool
    }

    /// The store (read-only).
    pub fn storage(&self) -> &Storage<S> {
        &self.storage
    }

    /// Live figures shared with other threads.
    pub fn gauges(&self) -> Arc<EngineGauges> {
        Arc::clone(&self.gauges)
    }

    /// Counters.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// The height being decided.
    pub fn height(&self) -> u64 {
        self.core.height().unwrap_or(0)
    }

    fn committed_height(&self) -> u64 {
        self.storage.head().map(|h| h.height).unwrap_or(0)
    }

    /// The core's validator set for `height`: the set the committed state records for it, with proposer
    /// priorities advanced once per height from the set's first height (crate::validators).
    fn core_set_for(&mut self, height: u64) -> Result<pc::ValidatorSet<PurseCtx>, EngineError> {
        let (effective, set) = self
            .validators
            .entry_at(height)
            .ok_or_else(|| EngineError::Corrupt(format!("no validator set recorded for height {height}")))?;
        CoreSets::at(&mut self.core_sets, height, effective, &set)
    }

    /// Rebuilds the core from the WAL of the current height, or starts the next height.
    fn resume(&mut self) -> Result<(), EngineError> {
        let next = self.committed_height() + 1;
        let entries = self.storage.wal_entries(0, MAX_WAL_REPLAY)?;
        self.wal_seq = entries.last().map(|(s, _)| s + 1).unwrap_or(0);
        let mut records = Vec::new();
        for (_, bytes) in entries {
            let rec: WalRecord =
                decode(&bytes).map_err(|e| EngineError::Corrupt(format!("WAL record: {e}")))?;
            if let WalRecord::StartHeight { height } = rec {
                records.clear();
                if height != next {
                    continue;
                }
            }
            records.push(rec);
        }
        let starts_here =
            matches!(records.first(), Some(WalRecord::StartHeight { height }) if *height == next);
        if !starts_here {
            return self.start_height(next);
        }
        let set = self.core_set_for(next)?;
        let mut inputs = Vec::with_capacity(records.len());
        for rec in records {
            let s = set.clone();
            if let Some(input) = rec.into_input(|_| Some(s)) {
                inputs.push(input);
            }
        }
        let (core, effects) = pc::Consensus::replay(self.core.params().clone(), inputs);
        self.core = core;
        self.run_effects(effects)
    }

    fn start_height(&mut self, height: u64) -> Result<(), EngineError> {
        let set = self.core_set_for(height)?;
        self.executed.clear();
        // Entries of earlier heights are no longer needed once this height starts.
        self.storage.wal_truncate(self.wal_seq)?;
        self.feed(pc::Input::StartHeight { height, validator_set: set })
    }

    /// Feeds one input to the core and carries out everything that follows from it.
    fn feed(&mut self, input: pc::Input<PurseCtx>) -> Result<(), EngineError> {
        match self.core.handle(input) {
            Ok(effects) => {
                self.gauges.round.store(u64::from(self.core.round().unwrap_or(0)), Ordering::Relaxed);
                self.run_effects(effects)
            }
            Err(e) => {
                if self.debug {
                    eprintln!("[{}] rejected input: {e:?}", &self.key.public().to_hex()[..6]);
                }
                self.stats.rejected_inputs += 1;
                Ok(())
            }
        }
    }

    fn run_effects(&mut self, effects: Vec<pc::Effect<PurseCtx>>) -> Result<(), EngineError> {
        let mut queue: std::collections::VecDeque<pc::Effect<PurseCtx>> = effects.into();
        while let Some(effect) = queue.pop_front() {
            let follow_up = self.run_effect(effect)?;
            for input in follow_up {
                match self.core.handle(input) {
                    Ok(more) => queue.extend(more),
                    Err(_) => self.stats.rejected_inputs += 1,
                }
            }
        }
        Ok(())
    }

    /// Carries out one effect; returns inputs to feed back.
    fn run_effect(&mut self, effect: pc::Effect<PurseCtx>) -> Result<Vec<pc::Input<PurseCtx>>, EngineError> {
        if self.debug {
            let name = format!("{effect:?}");
            eprintln!("[{}] effect {}", &self.key.public().to_hex()[..6], &name[..name.len().min(90)]);
        }
        match effect {
            pc::Effect::PersistWal(entry) => {
                if let Some(rec) = WalRecord::from_input(&entry) {
                    // Synced before this returns: nothing after it leaves the node first.
                    self.storage.wal_append(self.wal_seq, &encode(&rec))?;
                    self.wal_seq += 1;
                }
                Ok(vec![])
            }
            pc::Effect::SignAndBroadcastProposal(p) => {
                match self.signer.check_proposal(&p) {
                    Ok(decision) => self.persist_signer(decision)?,
                    Err(_) => {
                        self.stats.refused_signatures += 1;
                        return Ok(vec![]);
                    }
                }
                let wire = to_wire_proposal(&p).sign(&self.chain_id, &self.key);
                self.net
                    .broadcast(&NetMessage::Proposal { proposal: wire, block: Box::new(p.value.clone()) });
                Ok(vec![pc::Input::Proposal(pc::SignedProposal { proposal: p, signature: wire.signature })])
            }
            pc::Effect::SignAndBroadcastVote(v) => {
                match self.signer.check_vote(&v) {
                    Ok(decision) => self.persist_signer(decision)?,
                    Err(_) => {
                        self.stats.refused_signatures += 1;
                        return Ok(vec![]);
                    }
                }
                let signed = sign_vote(&self.chain_id, &self.key, &v);
                self.net.broadcast(&NetMessage::Vote(signed));
                Ok(vec![pc::Input::Vote(pc::SignedVote { vote: v, signature: signed.signature })])
            }
            pc::Effect::ScheduleTimeout { height, round, step, duration } => {
                let code = match step {
                    pc::TimeoutStep::Propose => 0,
                    pc::TimeoutStep::Prevote => 1,
                    pc::TimeoutStep::Precommit => 2,
                };
                self.timers.push(Reverse((
                    Instant::now() + duration,
                    TimerKind::Consensus { height, round, step: code },
                )));
                Ok(vec![])
            }
            pc::Effect::RequestValue { height, round } => {
                let block = self.build_block(height, round)?;
                Ok(vec![pc::Input::ProposeValue { height, round, value: block }])
            }
            pc::Effect::ValidateProposal { height, value, .. } => {
                let value_id = value.id();
                let valid = self.validate_block(height, &value)?;
                if !valid {
                    if self.debug {
                        eprintln!("[{}] invalid block at {height}", &self.key.public().to_hex()[..6]);
                    }
                    self.stats.invalid_blocks += 1;
                }
                Ok(vec![pc::Input::ProposalValidated { height, value_id, valid }])
            }
            pc::Effect::Decide { height, round, value, certificate } => {
                self.commit(height, round, value, &certificate)?;
                let at = Instant::now() + self.config.commit_delay;
                self.timers.push(Reverse((at, TimerKind::NextHeight(height + 1))));
                Ok(vec![])
            }
            pc::Effect::Evidence(ev) => {
                if let pc::Evidence::ConflictingVotes { first, second } = ev {
                    let a = SignedVote {
                        vote: crate::context::to_wire_vote(&first.vote),
                        signature: first.signature,
                    };
                    let b = SignedVote {
                        vote: crate::context::to_wire_vote(&second.vote),
                        signature: second.signature,
                    };
                    let e = purse_types::Evidence::DuplicateVote { a, b };
                    if self.evidence.len() < purse_types::block::MAX_EVIDENCE_PER_BLOCK
                        && !self.evidence.contains(&e)
                    {
                        self.evidence.push(e);
                    }
                }
                Ok(vec![])
            }
        }
    }

    fn persist_signer(&mut self, decision: pc::SignDecision) -> Result<(), EngineError> {
        if decision == pc::SignDecision::Fresh {
            if let Some(last) = self.signer.last_signed() {
                self.storage.save_signer_state(&encode(&SignerRecord::from_last(last)))?;
            }
        }
        Ok(())
    }

    fn parent(&self, height: u64) -> Result<(Hash, u64, Option<CommitCertificate>), EngineError> {
        if height <= 1 {
            return Ok((Hash::ZERO, 0, None));
        }
        let h = height - 1;
        let header_bytes =
            self.storage.header(h)?.ok_or_else(|| EngineError::Corrupt(format!("missing header {h}")))?;
        let header: Header =
            decode(&header_bytes).map_err(|e| EngineError::Corrupt(format!("header {h}: {e}")))?;
        let cert = match self.storage.certificate(h)? {
            Some(b) => Some(decode(&b).map_err(|e| EngineError::Corrupt(format!("certificate {h}: {e}")))?),
            None => None,
        };
        Ok((header.id(), header.timestamp_ms, cert))
    }

    /// Executes `txs` as block `height` on the committed state and prepares (does not write) its state commit.
    fn execute(
        &self,
        height: u64,
        time_ms: u64,
        txs: &[purse_types::SignedTransaction],
    ) -> Result<Executed, EngineError> {
        let ctx = BlockContext { chain_id: self.chain_id.clone(), height, time_ms };
        let out = self.runtime.execute_block(&self.storage.state().view(), &ctx, txs)?;
        let receipt_root = out.receipt_root();
        let prepared = self.storage.state().prepare_commit(height, &out.overlay)?;
        Ok(Executed { receipts: out.receipts, receipt_root, prepared, overlay: out.overlay })
    }

    fn build_block(&mut self, height: u64, round: u32) -> Result<Block, EngineError> {
        if height <= self.committed_height() {
            // The height is decided and committed, and the next one has not started yet (the commit delay):
            // the committed block is the only value to propose; it is not executed again.
            let bytes = self
                .storage
                .block(height)?
                .ok_or_else(|| EngineError::Corrupt(format!("missing block {height}")))?;
            return decode(&bytes).map_err(|e| EngineError::Corrupt(format!("block {height}: {e}")));
        }
        let (parent, parent_time, last_commit) = self.parent(height)?;
        let mut txs = self.pool.reap(self.config.max_block_bytes, self.config.max_block_txs);
        let params = purse_runtime::Params::read(&purse_runtime::BlockState::new(self.storage.state()))?;
        txs.truncate(params.fitting_prefix(&txs));
        let timestamp_ms = now_ms().max(parent_time + 1);
        let executed = self.execute(height, timestamp_ms, &txs)?;
        let evidence: Vec<purse_types::Evidence> =
            self.evidence.iter().filter(|e| e.height() < height).copied().collect();
        let header = Header {
            chain_id: self.chain_id.clone(),
            height,
            round,
            parent,
            timestamp_ms,
            proposer: self.key.public(),
            tx_root: Block::compute_tx_root(&txs),
            state_root: executed.prepared.root,
            receipt_root: executed.receipt_root,
            validator_set_hash: self.set_at(height)?.hash(),
            next_validator_set_hash: self.set_at(height + 1)?.hash(),
            last_commit_hash: Block::commit_hash(last_commit.as_ref()),
            evidence_root: Block::compute_evidence_root(&evidence),
        };
        let block = Block { header, txs, last_commit, evidence };
        self.cache_executed(block.id(), executed);
        Ok(block)
    }

    fn cache_executed(&mut self, id: Hash, ex: Executed) {
        if self.executed.len() >= MAX_EXECUTED_CACHE {
            self.executed.clear();
        }
        self.executed.insert(id, ex);
    }

    /// `valid(v)`: the block extends our head, its body matches its header, its certificate and evidence
    /// verify, and executing it gives the state and receipt roots it claims.
    fn validate_block(&mut self, height: u64, block: &Block) -> Result<bool, EngineError> {
        let id = block.id();
        if self.executed.contains_key(&id) {
            return Ok(true);
        }
        if height <= self.committed_height() {
            // A proposal for a height already decided and committed, arriving before the next height starts
            // (the commit delay; e.g. from a validator that rejoined at that height): only the committed
            // block is valid, and nothing is executed on a state that has moved past it.
            return Ok(self.storage.block_info(height)?.map(|b| b.block_hash) == Some(id));
        }
        let h = &block.header;
        let (parent, parent_time, _) = self.parent(height)?;
        let set = self.set_at(height)?;
        let next_set_hash = self.set_at(height + 1)?.hash();
        let structural = h.chain_id == self.chain_id
            && h.height == height
            && h.parent == parent
            && h.timestamp_ms > parent_time
            && h.timestamp_ms <= now_ms() + MAX_CLOCK_DRIFT_MS
            && set.find(&h.proposer).is_some()
            && h.validator_set_hash == set.hash()
            && h.next_validator_set_hash == next_set_hash
            && block.check_body().is_ok()
            && block.evidence.iter().all(|e| e.verify(&self.chain_id).is_ok() && e.height() < height);
        if !structural {
            return Ok(false);
        }
        let cert_ok = match (&block.last_commit, height) {
            (None, 1) => true,
            (Some(c), h) if h > 1 => {
                c.verify_for(&self.chain_id, &self.set_at(h - 1)?, h - 1, &parent).is_ok()
            }
            _ => false,
        };
        if !cert_ok {
            return Ok(false);
        }
        let params = purse_runtime::Params::read(&purse_runtime::BlockState::new(self.storage.state()))?;
        if params.fitting_prefix(&block.txs) != block.txs.len() {
            return Ok(false);
        }
        let executed = self.execute(height, h.timestamp_ms, &block.txs)?;
        if executed.prepared.root != h.state_root || executed.receipt_root != h.receipt_root {
            return Ok(false);
        }
        self.cache_executed(id, executed);
        Ok(true)
    }

    fn commit(
        &mut self,
        height: u64,
        round: u32,
        block: Block,
        certificate: &pc::CommitCertificate<PurseCtx>,
    ) -> Result<(), EngineError> {
        if height <= self.committed_height() {
            return Ok(()); // replayed decision of a height already in the store
        }
        let id = block.id();
        let ex = match self.executed.remove(&id) {
            Some(ex) => ex,
            None => self.execute(height, block.header.timestamp_ms, &block.txs)?,
        };
        let cert = to_wire_certificate(certificate, &self.set_at(height)?);
        self.commit_executed(height, round, block, cert, ex)
    }

    /// Writes an executed block with its certificate, then updates the pool, evidence, gauges and listeners.
    fn commit_executed(
        &mut self,
        height: u64,
        round: u32,
        block: Block,
        cert: CommitCertificate,
        ex: Executed,
    ) -> Result<(), EngineError> {
        let id = block.id();
        let tx_ids: Vec<Hash> = block.txs.iter().map(|t| t.id()).collect();
        let succeeded =
            ex.receipts.iter().filter(|r| matches!(r.status, purse_types::TxStatus::Success)).count();
        let bundle = CommitBundle {
            height,
            block_hash: id,
            state_root: block.header.state_root,
            header: encode(&block.header),
            block: encode(&block),
            certificate: Some(encode(&cert)),
            receipts: tx_ids.iter().zip(&ex.receipts).map(|(id, r)| (*id, encode(r))).collect(),
            parties: block
                .txs
                .iter()
                .enumerate()
                .flat_map(|(i, t)| t.tx.parties().into_iter().map(move |a| (i as u32, a)))
                .collect(),
        };
        // Pipelined (ADR 0020): the pool's recheck reads the block's state while its batch is written; the
        // block is made durable before anything outside the engine sees it (validator set, gauges, listeners)
        // and before any other write (the store orders its WAL and signer writes after it).
        self.storage.submit_block(bundle, ex.prepared, ex.overlay)?;
        let report =
            self.pool.on_commit(self.storage.state().view(), height, block.header.timestamp_ms, &tx_ids)?;
        self.stats.pool_dropped += report.dropped.len() as u64;
        self.pool.take_dropped();
        let included: Vec<Hash> = block.evidence.iter().map(|e| e.id()).collect();
        self.evidence.retain(|e| !included.contains(&e.id()));
        self.executed.clear();
        self.storage.settle()?;
        // Other threads read the validator set (gossip, sync, RPC): only once the block is durable.
        self.refresh_validators(height)?;
        self.gauges.height.store(height, Ordering::Relaxed);
        self.gauges.pool_len.store(self.pool.len() as u64, Ordering::Relaxed);
        if let Some(tx) = &self.events {
            let _ = tx.try_send(EngineEvent::Committed {
                height,
                block_id: id,
                state_root: block.header.state_root,
                round,
                tx_ids,
                succeeded,
            });
        }
        Ok(())
    }

    /// Handles one inbound item.
    pub fn on_inbound(&mut self, inbound: Inbound) -> Result<bool, EngineError> {
        match inbound {
            Inbound::Stop => return Ok(false),
            Inbound::Submit { tx, reply } => {
                let verdict = self.pool.admit(tx.clone())?;
                self.gauges.pool_len.store(self.pool.len() as u64, Ordering::Relaxed);
                if !matches!(verdict, Verdict::Invalid(_)) {
                    self.net.broadcast(&NetMessage::Tx(Box::new(tx)));
                }
                if let Some(reply) = reply {
                    reply(verdict);
                }
            }
            Inbound::Check { tx, reply } => reply(self.pool.check(&tx)?),
            Inbound::Net(NetMessage::Tx(tx)) => {
                if let Verdict::Invalid(_) = self.pool.admit(*tx)? {
                    self.stats.rejected_txs += 1;
                }
            }
            Inbound::SyncedBlock(synced) => self.on_synced_block(*synced)?,
            Inbound::Read(read) => read(&*self),
            Inbound::Net(NetMessage::Vote(v)) => {
                if v.verify(&self.chain_id).is_err() {
                    self.stats.bad_signatures += 1;
                } else {
                    self.feed(pc::Input::Vote(from_wire_vote(&v)))?;
                }
            }
            Inbound::Net(NetMessage::Proposal { proposal, block }) => {
                self.on_proposal(proposal, *block)?;
            }
        }
        Ok(true)
    }

    /// Block sync: commits `synced` if it is the next height, its certificate holds more than two thirds of
    /// the validator set's power for exactly this block, it extends our head, and executing it reproduces the
    /// roots in its header. Then starts the following height.
    fn on_synced_block(&mut self, synced: SyncedBlock) -> Result<(), EngineError> {
        let SyncedBlock { block, certificate } = synced;
        let height = block.header.height;
        if height != self.committed_height() + 1 {
            return Ok(()); // already have it, or not the next one: the sync client sends in order
        }
        let id = block.id();
        let (parent, _, _) = self.parent(height)?;
        let certified = certificate.verify_for(&self.chain_id, &self.set_at(height)?, height, &id).is_ok();
        if !certified || block.header.parent != parent || block.header.chain_id != self.chain_id {
            self.stats.invalid_synced_blocks += 1;
            return Ok(());
        }
        if block.check_body().is_err() {
            self.stats.invalid_synced_blocks += 1;
            return Ok(());
        }
        let ex = self.execute(height, block.header.timestamp_ms, &block.txs)?;
        if ex.prepared.root != block.header.state_root || ex.receipt_root != block.header.receipt_root {
            // A certified block we execute differently: this node's state or software disagrees with the
            // network. Refuse to commit it rather than diverge; an operator must look.
            self.stats.invalid_synced_blocks += 1;
            return Ok(());
        }
        let round = block.header.round;
        self.commit_executed(height, round, block, certificate, ex)?;
        self.stats.synced_blocks += 1;
        if self.height() <= height {
            self.start_height(height + 1)?;
        }
        Ok(())
    }

    fn on_proposal(&mut self, proposal: SignedProposal, block: Block) -> Result<(), EngineError> {
        if proposal.verify(&self.chain_id).is_err() {
            self.stats.bad_signatures += 1;
            return Ok(());
        }
        match from_wire_proposal(&proposal, block) {
            Some(p) => self.feed(pc::Input::Proposal(p)),
            None => {
                self.stats.bad_signatures += 1;
                Ok(())
            }
        }
    }

    fn fire_due_timers(&mut self) -> Result<(), EngineError> {
        let now = Instant::now();
        while let Some(Reverse((at, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, kind))) = self.timers.pop() else { break };
            match kind {
                TimerKind::Consensus { height, round, step } => {
                    let step = match step {
                        0 => pc::TimeoutStep::Propose,
                        1 => pc::TimeoutStep::Prevote,
                        _ => pc::TimeoutStep::Precommit,
                    };
                    self.feed(pc::Input::TimeoutElapsed { height, round, step })?;
                }
                TimerKind::NextHeight(h) => {
                    if self.committed_height() + 1 == h && self.height() < h {
                        self.start_height(h)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs until [`Inbound::Stop`] arrives or the inbox closes.
    pub fn run(mut self, inbox: InboxReceiver) -> Result<Self, EngineError> {
        loop {
            self.fire_due_timers()?;
            let wait = self
                .timers
                .peek()
                .map(|Reverse((at, _))| at.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_millis(100));
            match inbox.recv_timeout(wait) {
                Ok(msg) => {
                    if !self.on_inbound(msg)? {
                        return Ok(self);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(self),
            }
        }
    }

    /// Pending transactions.
    pub fn pool_len(&self) -> usize {
        self.pool.len()
    }

    /// The chain id.
    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    /// The block at `height`, decoded.
    pub fn block(&self, height: u64) -> Result<Option<Block>, EngineError> {
        match self.storage.block(height)? {
            Some(b) if height > 0 => {
                decode(&b).map(Some).map_err(|e| EngineError::Corrupt(format!("block {height}: {e}")))
            }
            _ => Ok(None),
        }
    }
}

impl<S: KvStore + Clone + 'static, N: Network> EngineRead for Engine<S, N> {
    fn committed_height(&self) -> u64 {
        Engine::committed_height(self)
    }

    fn round(&self) -> u32 {
        self.core.round().unwrap_or(0)
    }

    fn pool_len(&self) -> usize {
        self.pool.len()
    }

    fn pool_tx(&self, id: &purse_types::TxId) -> Option<PendingTx> {
        let tx = self.pool.get(id)?;
        // Pending transactions are below the sender's next pool nonce; queued ones wait above a gap.
        let queued = self.pool.next_nonce(&tx.tx.sender).ok().flatten().is_some_and(|n| tx.tx.nonce >= n);
        Some(PendingTx { sender: tx.tx.sender, nonce: tx.tx.nonce, queued })
    }

    fn next_nonce(&self, address: &purse_types::Address) -> Option<u64> {
        self.pool.next_nonce(address).ok().flatten()
    }

    fn proof(&self, key: &[u8]) -> Result<ProofAnswer, String> {
        let head = self.storage.head().ok_or("nothing committed yet")?;
        let (value, proof) =
            self.storage.state().get_with_proof(key, head.height).map_err(|e| e.to_string())?;
        Ok(ProofAnswer { value, proof, height: head.height, root: head.state_root })
    }

    fn evidence(&self) -> Vec<purse_types::Evidence> {
        self.evidence.clone()
    }
}
