//! Deterministic simulation of a network of consensus cores.
//!
//! One seeded ChaCha RNG drives everything: the scenario (validator count, byzantine behaviours, GST, partition,
//! drop rate, delays, crashes, clock skew) and every random choice during the run. Events are kept in a
//! `BTreeMap<(time, seq), Event>`, so a seed always replays the same run.
//!
//! The host of each simulated node does what a real node must: it verifies nothing (messages are never forged
//! here), appends `PersistWal` entries to its WAL before executing later effects, checks its `SignerGuard`
//! before signing, feeds its own messages back, answers value/validation requests after a random delay,
//! retransmits its messages of the current height periodically and relays the messages its core accepted to a
//! random peer (the gossip layer that gives the paper's "eventual delivery after GST"), and answers a peer that is behind with the decision and its certificate
//! (block sync).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use purse_consensus::{
    CommitCertificate, Consensus, Effect, Evidence, Input, LastSigned, NilOrVal, Params, Proposal,
    SignDecision, SignedProposal, SignedVote, SignerGuard, TimeoutConfig, ValidatorSet, ValidatorSetSchedule,
    Vote, VoteType, MAX_FUTURE_ROUNDS,
};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::common::{equal_set, proposal_digest, sign_proposal, sign_vote, vote_digest, TestCtx, TestValue};

/// Simulated milliseconds.
pub type Time = u64;

/// Byzantine behaviours (each counts as one faulty identity).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Sends two different proposals (one possibly invalid) to two halves of the network.
    EquivocatingProposer,
    /// Sends conflicting prevotes/precommits to two halves of the network.
    DoubleVoter,
    /// Two honest-looking copies of one identity (two slots, same key, separate WAL and signer state).
    Twin,
    /// Loses its WAL and signer state at every restart (forgets its lock).
    Amnesia,
}

/// A scenario.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    /// Number of validator identities (equal power).
    pub n: u32,
    /// Byzantine identities and what they do.
    pub byzantine: BTreeMap<u32, Behaviour>,
    /// Global stabilisation time: before it, drops, partitions and long delays; after it, delays ≤ `delay_post`.
    pub gst: Time,
    pub drop_prob: f64,
    pub delay_pre: Time,
    pub delay_post: Time,
    /// Side of each slot in a partition active before GST (`None`: no partition).
    pub partition: Option<Vec<bool>>,
    /// `(slot, crash at, down for)`.
    pub crashes: Vec<(usize, Time, Time)>,
    /// Run until every honest node has decided this height (at least one height after GST).
    pub min_height: u64,
    /// Every honest node must decide the first height after GST within this time after GST.
    pub liveness_bound: Time,
    pub timeouts: TimeoutConfig,
    pub gossip_interval: Time,
}

pub fn sim_timeouts() -> TimeoutConfig {
    use std::time::Duration;
    TimeoutConfig {
        propose: Duration::from_millis(200),
        propose_delta: Duration::from_millis(50),
        prevote: Duration::from_millis(100),
        prevote_delta: Duration::from_millis(50),
        precommit: Duration::from_millis(100),
        precommit_delta: Duration::from_millis(50),
    }
}

impl Config {
    /// The scenario of `seed`: N ∈ {4, 7, 10} by `seed % 3`, up to f byzantine identities, the rest random.
    pub fn random(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_c0de);
        let n = [4u32, 7, 10][(seed % 3) as usize];
        let f = (n - 1) / 3;
        let faulty = if rng.gen_bool(0.8) { f } else { rng.gen_range(0..=f) };
        let mut ids: Vec<u32> = (0..n).collect();
        ids.shuffle(&mut rng);
        let all =
            [Behaviour::EquivocatingProposer, Behaviour::DoubleVoter, Behaviour::Twin, Behaviour::Amnesia];
        let byzantine: BTreeMap<u32, Behaviour> =
            ids[..faulty as usize].iter().map(|id| (*id, *all.choose(&mut rng).unwrap())).collect();
        let slots = n as usize + byzantine.values().filter(|b| **b == Behaviour::Twin).count();
        let gst: Time = rng.gen_range(300..6000);
        let partition = rng.gen_bool(0.5).then(|| (0..slots).map(|_| rng.gen_bool(0.5)).collect());
        let mut crashes = Vec::new();
        for _ in 0..rng.gen_range(0..=3) {
            let slot = rng.gen_range(0..slots);
            let at = rng.gen_range(0..gst);
            crashes.push((slot, at, rng.gen_range(0..=gst.saturating_sub(at))));
        }
        Config {
            seed,
            n,
            byzantine,
            gst,
            drop_prob: [0.0, 0.1, 0.3][rng.gen_range(0..3)],
            delay_pre: rng.gen_range(20..600),
            delay_post: rng.gen_range(5..40),
            partition,
            crashes,
            min_height: 4,
            liveness_bound: 30_000,
            timeouts: sim_timeouts(),
            gossip_interval: 300,
        }
    }

    /// More than f faulty identities: `f + 1` identities run as twins, and the pre-GST partition puts the two
    /// copies of each twin on different sides. Safety is expected to break on some seeds.
    pub fn twins_overload(seed: u64, n: u32) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0b4d_5eed);
        let f = (n - 1) / 3;
        let mut ids: Vec<u32> = (0..n).collect();
        ids.shuffle(&mut rng);
        let byzantine: BTreeMap<u32, Behaviour> =
            ids[..=f as usize].iter().map(|id| (*id, Behaviour::Twin)).collect();
        let mut cfg = Config::random(seed);
        cfg.n = n;
        cfg.byzantine = byzantine;
        cfg.crashes.clear();
        cfg.drop_prob = 0.0;
        cfg.gst = rng.gen_range(2000..5000);
        // Slot layout (see `Sim::new`): identities 0..n first, then the second copy of each twin in id order.
        let twins: Vec<u32> = cfg.byzantine.keys().copied().collect();
        let mut sides: Vec<bool> = (0..n)
            .map(|id| if cfg.byzantine.contains_key(&id) { false } else { rng.gen_bool(0.5) })
            .collect();
        sides.extend(twins.iter().map(|_| true));
        cfg.partition = Some(sides);
        cfg
    }
}

/// A safety or liveness violation found by the checker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    Agreement {
        height: u64,
        a: TestValue,
        b: TestValue,
    },
    Validity {
        height: u64,
        value: TestValue,
    },
    DoubleSign {
        identity: u32,
        height: u64,
        round: u32,
        step: u8,
    },
    Liveness {
        slot: usize,
        height: u64,
        deadline: Time,
    },
    MissingEvidence {
        slot: usize,
        offender: u32,
        height: u64,
        round: u32,
        step: u8,
    },
    WalOrder {
        slot: usize,
    },
    /// The harness or the core panicked.
    Panic,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Msg {
    Proposal(SignedProposal<TestCtx>),
    Vote(SignedVote<TestCtx>),
    Sync(TestValue, CommitCertificate<TestCtx>),
}

#[derive(Clone, Debug)]
enum Event {
    Deliver {
        to: usize,
        from: usize,
        msg: Msg,
    },
    /// A local input (timeout, app answer, own message fed back, next height) for the slot's current epoch.
    Local {
        slot: usize,
        epoch: u64,
        input: Input<TestCtx>,
    },
    Gossip {
        slot: usize,
        epoch: u64,
    },
    Crash {
        slot: usize,
        down_for: Time,
    },
    Restart {
        slot: usize,
    },
    Gst,
}

struct Slot {
    identity: u32,
    behaviour: Option<Behaviour>,
    core: Consensus<TestCtx>,
    wal: Vec<Input<TestCtx>>,
    guard: SignerGuard<TestCtx>,
    /// The signer state as last persisted.
    persisted_guard: Option<LastSigned<TestCtx>>,
    up: bool,
    epoch: u64,
    /// Timer rate (clock skew).
    skew: f64,
    /// Own signed messages of the current height, retransmitted by gossip.
    sent: Vec<Msg>,
    /// Block store: decided value and certificate per height.
    decided: BTreeMap<u64, (TestValue, CommitCertificate<TestCtx>)>,
    /// Evidence store: `(offender, height, round, step)`.
    evidence: BTreeSet<(u32, u64, u32, u8)>,
    /// Conflicting-message detection oracle: digests of messages the core received at its current height.
    received: BTreeMap<(u32, u64, u32, u8), BTreeSet<u64>>,
    /// Crash in the middle of the next effect list, after `down_for`.
    crash_armed: Option<Time>,
    last_sync: BTreeMap<(usize, u64), Time>,
}

impl Slot {
    fn honest(&self) -> bool {
        self.behaviour.is_none()
    }
    fn height(&self) -> u64 {
        self.decided.keys().next_back().copied().unwrap_or(0)
    }
}

/// Statistics of a finished run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub events: u64,
    pub end_time: Time,
    pub max_round: u32,
    pub evidence: usize,
    /// Longest time after GST until an honest node decided the first post-GST height.
    pub worst_liveness: Time,
    /// A digest of every decision (for determinism checks).
    pub trace: u64,
    /// Restarts that rebuilt the core from the WAL.
    pub wal_replays: u64,
    /// Signatures the signer guard refused.
    pub guard_refusals: u64,
    /// Heights decided through block sync.
    pub synced: u64,
}

pub struct Sim {
    cfg: Config,
    rng: ChaCha8Rng,
    now: Time,
    seq: u64,
    events: BTreeMap<(Time, u64), Event>,
    slots: Vec<Slot>,
    sets: Vec<ValidatorSet<TestCtx>>,
    schedule: ValidatorSetSchedule<TestCtx>,
    proposed: BTreeSet<TestValue>,
    honest_signed: BTreeMap<(u32, u64, u32, u8), u64>,
    decisions: BTreeMap<u64, TestValue>,
    violations: Vec<Violation>,
    height_at_gst: Option<u64>,
    stats: Stats,
}

fn app_valid(value: &TestValue, height: u64) -> bool {
    value.valid && value.height == height
}

fn step_of(t: VoteType) -> u8 {
    match t {
        VoteType::Prevote => 1,
        VoteType::Precommit => 2,
    }
}

impl Sim {
    pub fn new(cfg: Config) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let schedule = ValidatorSetSchedule::new(1, equal_set(cfg.n));
        let sets = vec![equal_set(cfg.n), schedule.current().clone()];
        let mut identities: Vec<u32> = (0..cfg.n).collect();
        identities.extend(cfg.byzantine.iter().filter(|(_, b)| **b == Behaviour::Twin).map(|(id, _)| *id));
        let slots = identities
            .into_iter()
            .map(|identity| Slot {
                identity,
                behaviour: cfg.byzantine.get(&identity).copied(),
                core: Consensus::new(Params { address: Some(identity), timeouts: cfg.timeouts }),
                wal: Vec::new(),
                guard: SignerGuard::new(),
                persisted_guard: None,
                up: true,
                epoch: 0,
                skew: rng.gen_range(0.8..1.25),
                sent: Vec::new(),
                decided: BTreeMap::new(),
                evidence: BTreeSet::new(),
                received: BTreeMap::new(),
                crash_armed: None,
                last_sync: BTreeMap::new(),
            })
            .collect();
        let mut sim = Sim {
            rng,
            now: 0,
            seq: 0,
            events: BTreeMap::new(),
            slots,
            sets,
            schedule,
            proposed: BTreeSet::new(),
            honest_signed: BTreeMap::new(),
            decisions: BTreeMap::new(),
            violations: Vec::new(),
            height_at_gst: None,
            stats: Stats::default(),
            cfg,
        };
        for s in 0..sim.slots.len() {
            sim.push(
                0,
                Event::Local {
                    slot: s,
                    epoch: 0,
                    input: Input::StartHeight { height: 1, validator_set: sim.sets[1].clone() },
                },
            );
            let g = sim.gossip_delay(s);
            sim.push(g, Event::Gossip { slot: s, epoch: 0 });
        }
        for (slot, at, down_for) in sim.cfg.crashes.clone() {
            sim.push(at, Event::Crash { slot, down_for });
        }
        sim.push(sim.cfg.gst, Event::Gst);
        sim
    }

    /// The validator set of `height` (static membership, priorities advanced per height).
    fn set_for(&mut self, height: u64) -> ValidatorSet<TestCtx> {
        while self.sets.len() <= height as usize {
            let next = self.schedule.advance().unwrap().clone();
            self.sets.push(next);
        }
        self.sets[height as usize].clone()
    }

    fn push(&mut self, at: Time, e: Event) {
        self.seq += 1;
        self.events.insert((at, self.seq), e);
    }

    fn gossip_delay(&self, s: usize) -> Time {
        (self.cfg.gossip_interval as f64 * self.slots[s].skew) as Time
    }

    fn honest_slots(&self) -> Vec<usize> {
        (0..self.slots.len()).filter(|s| self.slots[*s].honest()).collect()
    }

    fn target(&self) -> u64 {
        self.cfg.min_height.max(self.height_at_gst.unwrap_or(0) + 1)
    }

    fn done(&self) -> bool {
        self.height_at_gst.is_some()
            && self.honest_slots().iter().all(|s| self.slots[*s].height() >= self.target())
    }

    /// Run to completion and check every property.
    pub fn run(mut self) -> (Vec<Violation>, Stats) {
        let hard_stop = self.cfg.gst + self.cfg.liveness_bound * (self.cfg.min_height + 1);
        while let Some(((at, _), event)) = self.events.pop_first() {
            self.now = at;
            self.stats.events += 1;
            if self.now > hard_stop || self.done() {
                break;
            }
            self.event(event);
            // Liveness: the first height after GST, within the bound.
            if let Some(h0) = self.height_at_gst {
                if self.now > self.cfg.gst + self.cfg.liveness_bound {
                    for s in self.honest_slots() {
                        if self.slots[s].height() < h0 + 1 {
                            self.violations.push(Violation::Liveness {
                                slot: s,
                                height: h0 + 1,
                                deadline: self.cfg.gst + self.cfg.liveness_bound,
                            });
                        }
                    }
                    if !self.violations.is_empty() {
                        break;
                    }
                }
            }
        }
        if !self.done() && !self.violations.iter().any(|v| matches!(v, Violation::Liveness { .. })) {
            for s in self.honest_slots() {
                if self.slots[s].height() < self.target() {
                    self.violations.push(Violation::Liveness {
                        slot: s,
                        height: self.target(),
                        deadline: hard_stop,
                    });
                }
            }
        }
        self.check_evidence();
        if std::env::var("PURSE_SIM_TRACE").is_ok() {
            for (i, s) in self.slots.iter().enumerate() {
                eprintln!(
                    "slot {i} id {} {:?} up {} store {} core h {:?} r {:?} {:?} locked {:?} valid {:?} buffered {}",
                    s.identity, s.behaviour, s.up, s.height(), s.core.height(), s.core.round(), s.core.step(),
                    s.core.locked().map(|(r, v)| (r, v.nonce)), s.core.valid().map(|(r, v)| (r, v.nonce)), s.core.buffered()
                );
            }
        }
        self.stats.end_time = self.now;
        let mut trace = std::hash::DefaultHasher::new();
        use std::hash::{Hash, Hasher};
        for (h, v) in &self.decisions {
            (h, v).hash(&mut trace);
        }
        self.stats.events.hash(&mut trace);
        self.stats.trace = trace.finish();
        self.stats.evidence = self.slots.iter().map(|s| s.evidence.len()).sum();
        (self.violations, self.stats)
    }

    fn check_evidence(&mut self) {
        for s in self.honest_slots() {
            let slot = &self.slots[s];
            for (key, digests) in &slot.received {
                if digests.len() > 1 && !slot.evidence.contains(key) {
                    let (offender, height, round, step) = *key;
                    self.violations.push(Violation::MissingEvidence {
                        slot: s,
                        offender,
                        height,
                        round,
                        step,
                    });
                }
            }
        }
    }

    fn event(&mut self, e: Event) {
        match e {
            Event::Gst => {
                let h = self.honest_slots().iter().map(|s| self.slots[*s].height()).max().unwrap_or(0);
                self.height_at_gst = Some(h);
            }
            Event::Deliver { to, from, msg } => self.deliver(to, from, msg),
            Event::Local { slot, epoch, input } => {
                if self.slots[slot].up && self.slots[slot].epoch == epoch {
                    self.input(slot, input);
                }
            }
            Event::Gossip { slot, epoch } => {
                if self.slots[slot].up && self.slots[slot].epoch == epoch {
                    for msg in self.slots[slot].sent.clone() {
                        self.broadcast(slot, msg);
                    }
                    // Relay what the core accepted at this height to one random peer (the paper's gossip
                    // assumption: a message received by a correct process reaches all correct processes).
                    let relay: Vec<Msg> = self.slots[slot]
                        .wal
                        .iter()
                        .filter_map(|e| match e {
                            Input::Proposal(p) => Some(Msg::Proposal(p.clone())),
                            Input::Vote(v) => Some(Msg::Vote(v.clone())),
                            _ => None,
                        })
                        .collect();
                    let peer = self.rng.gen_range(0..self.slots.len());
                    if peer != slot {
                        for msg in relay {
                            self.send(slot, peer, msg);
                        }
                    }
                    let g = self.gossip_delay(slot);
                    self.push(self.now + g, Event::Gossip { slot, epoch });
                }
            }
            Event::Crash { slot, down_for } => {
                if !self.slots[slot].up {
                    return;
                }
                if self.rng.gen_bool(0.5) {
                    self.crash(slot, down_for);
                } else {
                    self.slots[slot].crash_armed = Some(down_for);
                }
            }
            Event::Restart { slot } => self.restart(slot),
        }
    }

    fn crash(&mut self, slot: usize, down_for: Time) {
        let s = &mut self.slots[slot];
        s.up = false;
        s.crash_armed = None;
        s.epoch += 1;
        self.push(self.now + down_for, Event::Restart { slot });
    }

    fn restart(&mut self, slot: usize) {
        let params = Params { address: Some(self.slots[slot].identity), timeouts: self.cfg.timeouts };
        let s = &mut self.slots[slot];
        s.up = true;
        if s.behaviour == Some(Behaviour::Amnesia) {
            s.wal.clear();
            s.persisted_guard = None;
        }
        s.guard = SignerGuard::restore(s.persisted_guard.clone());
        let store_height = s.height();
        let wal_height = match s.wal.first() {
            Some(Input::StartHeight { height, .. }) => *height,
            _ => 0,
        };
        let epoch = s.epoch;
        let g = self.gossip_delay(slot);
        self.push(self.now + g, Event::Gossip { slot, epoch });
        let s = &mut self.slots[slot];
        if wal_height > store_height {
            let identity = s.identity;
            s.sent = s
                .wal
                .iter()
                .filter_map(|e| match e {
                    Input::Vote(v) if v.vote.validator == identity => Some(Msg::Vote(v.clone())),
                    Input::Proposal(p) if p.proposal.proposer == identity => Some(Msg::Proposal(p.clone())),
                    _ => None,
                })
                .collect();
            self.stats.wal_replays += 1;
            let (core, fx) = Consensus::replay(params, s.wal.clone());
            s.core = core;
            self.execute(slot, fx);
        } else {
            s.core = Consensus::new(params);
            s.wal.clear();
            s.sent.clear();
            let validator_set = self.set_for(store_height + 1);
            let input = Input::StartHeight { height: store_height + 1, validator_set };
            self.input(slot, input);
        }
    }

    fn send(&mut self, from: usize, to: usize, msg: Msg) {
        let delay = if self.now < self.cfg.gst {
            if let Some(sides) = &self.cfg.partition {
                if sides[from] != sides[to] {
                    return;
                }
            }
            if self.rng.gen_bool(self.cfg.drop_prob) {
                return;
            }
            self.rng.gen_range(1..=self.cfg.delay_pre)
        } else {
            self.rng.gen_range(1..=self.cfg.delay_post)
        };
        self.push(self.now + delay, Event::Deliver { to, from, msg });
    }

    fn broadcast(&mut self, from: usize, msg: Msg) {
        for to in 0..self.slots.len() {
            if to != from {
                self.send(from, to, msg.clone());
            }
        }
    }

    fn deliver(&mut self, to: usize, from: usize, msg: Msg) {
        if !self.slots[to].up {
            return;
        }
        let current = self.slots[to].core.height().unwrap_or(0);
        let (height, input) = match msg {
            Msg::Proposal(p) => (p.proposal.height, Input::Proposal(p)),
            Msg::Vote(v) => (v.vote.height, Input::Vote(v)),
            Msg::Sync(value, certificate) => {
                self.stats.synced += 1;
                (certificate.height, Input::SyncedDecision { value, certificate })
            }
        };
        if height < current {
            // Block sync: answer a peer that is behind, at most once per gossip interval per height.
            let last = self.slots[to].last_sync.get(&(from, height)).copied();
            if !matches!(last, Some(t) if self.now < t + self.cfg.gossip_interval) {
                if let Some((value, cert)) = self.slots[to].decided.get(&height).cloned() {
                    self.slots[to].last_sync.insert((from, height), self.now);
                    self.send(to, from, Msg::Sync(value, cert));
                }
            }
        }
        // Oracle for the evidence check: conflicting messages the core saw at its current height and round window.
        let key = match &input {
            Input::Proposal(p) => Some((
                (p.proposal.proposer, p.proposal.height, p.proposal.round, 0),
                proposal_digest(&p.proposal),
            )),
            Input::Vote(v) => Some((
                (v.vote.validator, v.vote.height, v.vote.round, step_of(v.vote.vote_type)),
                vote_digest(&v.vote),
            )),
            _ => None,
        };
        let in_window =
            |round: u32, core: &Consensus<TestCtx>| round <= core.round().unwrap_or(0) + MAX_FUTURE_ROUNDS;
        let record = key.filter(|((_, h, r, _), _)| *h == current && in_window(*r, &self.slots[to].core));
        let persisted = self.input(to, input);
        if let (Some((k, d)), true) = (record, persisted) {
            self.slots[to].received.entry(k).or_default().insert(d);
        }
    }

    /// Apply an input; returns false if the node crashed before persisting anything.
    fn input(&mut self, slot: usize, input: Input<TestCtx>) -> bool {
        if let Input::StartHeight { .. } = input {
            self.slots[slot].sent.clear();
        }
        match self.slots[slot].core.handle(input) {
            Ok(fx) => {
                if let Some(r) = self.slots[slot].core.round() {
                    self.stats.max_round = self.stats.max_round.max(r);
                }
                self.execute(slot, fx)
            }
            Err(_) => true,
        }
    }

    /// Execute effects in order, as a host must. Returns false if it crashed before the first one.
    fn execute(&mut self, slot: usize, fx: Vec<Effect<TestCtx>>) -> bool {
        // The WAL rule: some PersistWal precedes the first sign-and-broadcast of the list.
        if let Some(i) = fx
            .iter()
            .position(|e| matches!(e, Effect::SignAndBroadcastVote(_) | Effect::SignAndBroadcastProposal(_)))
        {
            if !fx[..i].iter().any(|e| matches!(e, Effect::PersistWal(_))) && !self.slots[slot].wal.is_empty()
            {
                // Replayed effects carry no PersistWal (already durable); otherwise this is a bug.
                if fx.iter().any(|e| matches!(e, Effect::PersistWal(_))) {
                    self.violations.push(Violation::WalOrder { slot });
                }
            }
        }
        let crash_at = self.slots[slot].crash_armed.map(|down| (self.rng.gen_range(0..=fx.len()), down));
        for (i, e) in fx.into_iter().enumerate() {
            if let Some((at, down)) = crash_at {
                if i == at {
                    self.crash(slot, down);
                    return i > 0;
                }
            }
            self.effect(slot, e);
            if !self.slots[slot].up {
                return true;
            }
        }
        if let Some((_, down)) = crash_at {
            self.crash(slot, down);
        }
        true
    }

    fn local(&mut self, slot: usize, delay: Time, input: Input<TestCtx>) {
        let epoch = self.slots[slot].epoch;
        self.push(self.now + delay, Event::Local { slot, epoch, input });
    }

    fn effect(&mut self, slot: usize, e: Effect<TestCtx>) {
        match e {
            Effect::PersistWal(entry) => {
                let s = &mut self.slots[slot];
                if matches!(entry, Input::StartHeight { .. }) {
                    s.wal.clear();
                }
                s.wal.push(entry);
            }
            Effect::SignAndBroadcastVote(vote) => self.sign_vote(slot, vote),
            Effect::SignAndBroadcastProposal(p) => self.sign_proposal(slot, p),
            Effect::ScheduleTimeout { height, round, step, duration } => {
                let d = (duration.as_millis() as f64 * self.slots[slot].skew) as Time;
                self.local(slot, d, Input::TimeoutElapsed { height, round, step });
            }
            Effect::RequestValue { height, round } => {
                let value = TestValue {
                    height,
                    proposer: self.slots[slot].identity,
                    nonce: self.rng.gen(),
                    valid: true,
                };
                let d = self.rng.gen_range(0..30);
                self.local(slot, d, Input::ProposeValue { height, round, value });
            }
            Effect::ValidateProposal { height, value, .. } => {
                let d = self.rng.gen_range(0..20);
                let valid = app_valid(&value, height);
                self.local(slot, d, Input::ProposalValidated { height, value_id: value, valid });
            }
            Effect::Decide { height, value, certificate, .. } => {
                let honest = self.slots[slot].honest();
                if honest {
                    if !app_valid(&value, height) || !self.proposed.contains(&value) {
                        self.violations.push(Violation::Validity { height, value });
                    }
                    match self.decisions.get(&height) {
                        Some(other) if *other != value => {
                            self.violations.push(Violation::Agreement { height, a: *other, b: value });
                        }
                        Some(_) => {}
                        None => {
                            self.decisions.insert(height, value);
                        }
                    }
                    if let Some(gst_h) = self.height_at_gst {
                        if height == gst_h + 1 {
                            self.stats.worst_liveness =
                                self.stats.worst_liveness.max(self.now.saturating_sub(self.cfg.gst));
                        }
                    }
                }
                let s = &mut self.slots[slot];
                s.decided.entry(height).or_insert((value, certificate));
                let validator_set = self.set_for(height + 1);
                self.local(slot, 0, Input::StartHeight { height: height + 1, validator_set });
            }
            Effect::Evidence(ev) => {
                let key = match &ev {
                    Evidence::ConflictingVotes { first, .. } => (
                        first.vote.validator,
                        first.vote.height,
                        first.vote.round,
                        step_of(first.vote.vote_type),
                    ),
                    Evidence::ConflictingProposals { first, .. } => {
                        (first.proposal.proposer, first.proposal.height, first.proposal.round, 0)
                    }
                };
                self.slots[slot].evidence.insert(key);
            }
        }
    }

    fn record_signature(&mut self, slot: usize, key: (u32, u64, u32, u8), digest: u64) {
        if !self.slots[slot].honest() {
            return;
        }
        match self.honest_signed.get(&key) {
            Some(d) if *d != digest => {
                let (identity, height, round, step) = key;
                self.violations.push(Violation::DoubleSign { identity, height, round, step });
            }
            Some(_) => {}
            None => {
                self.honest_signed.insert(key, digest);
            }
        }
    }

    /// Sign after the guard agrees (persisting its state first), broadcast, and feed back.
    fn guarded(&mut self, slot: usize, decision: Result<SignDecision, purse_consensus::SignerError>) -> bool {
        match decision {
            Ok(SignDecision::Fresh) => {
                let s = &mut self.slots[slot];
                s.persisted_guard = s.guard.last_signed().cloned();
                true
            }
            Ok(SignDecision::Repeat) => true,
            Err(_) => {
                self.stats.guard_refusals += 1;
                false
            }
        }
    }

    fn split(&mut self, from: usize, a: Msg, b: Msg) {
        for to in 0..self.slots.len() {
            if to != from {
                let m = if self.rng.gen_bool(0.5) { a.clone() } else { b.clone() };
                self.send(from, to, m);
            }
        }
    }

    fn sign_vote(&mut self, slot: usize, vote: Vote<TestCtx>) {
        let d = self.slots[slot].guard.check_vote(&vote);
        if !self.guarded(slot, d) {
            return;
        }
        let key = (vote.validator, vote.height, vote.round, step_of(vote.vote_type));
        self.record_signature(slot, key, vote_digest(&vote));
        let signed = sign_vote(vote.clone());
        self.slots[slot].sent.push(Msg::Vote(signed.clone()));
        self.local(slot, 0, Input::Vote(signed.clone()));
        if self.slots[slot].behaviour == Some(Behaviour::DoubleVoter) && self.rng.gen_bool(0.7) {
            let other = match vote.value {
                NilOrVal::Nil => NilOrVal::Val(TestValue {
                    height: vote.height,
                    proposer: vote.validator,
                    nonce: self.rng.gen(),
                    valid: true,
                }),
                NilOrVal::Val(_) => NilOrVal::Nil,
            };
            let conflicting = sign_vote(Vote { value: other, ..vote });
            self.slots[slot].sent.push(Msg::Vote(conflicting.clone()));
            self.split(slot, Msg::Vote(signed), Msg::Vote(conflicting));
        } else {
            self.broadcast(slot, Msg::Vote(signed));
        }
    }

    fn sign_proposal(&mut self, slot: usize, p: Proposal<TestCtx>) {
        let d = self.slots[slot].guard.check_proposal(&p);
        if !self.guarded(slot, d) {
            return;
        }
        self.record_signature(slot, (p.proposer, p.height, p.round, 0), proposal_digest(&p));
        self.proposed.insert(p.value);
        let signed = sign_proposal(p.clone());
        self.slots[slot].sent.push(Msg::Proposal(signed.clone()));
        self.local(slot, 0, Input::Proposal(signed.clone()));
        if self.slots[slot].behaviour == Some(Behaviour::EquivocatingProposer) {
            let valid = self.rng.gen_bool(0.5);
            let value = TestValue { height: p.height, proposer: p.proposer, nonce: self.rng.gen(), valid };
            self.proposed.insert(value);
            let other = sign_proposal(Proposal { value, ..p });
            self.slots[slot].sent.push(Msg::Proposal(other.clone()));
            self.split(slot, Msg::Proposal(signed), Msg::Proposal(other));
        } else {
            self.broadcast(slot, Msg::Proposal(signed));
        }
    }
}

/// The seeds to run: `PURSE_SIM_SEED=<n>` runs exactly that seed; otherwise `PURSE_SIM_SEEDS` (default
/// `default_count`) seeds starting at `PURSE_SIM_SEED_START` (default 0).
pub fn seeds(default_count: u64) -> Vec<u64> {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    if let Some(seed) = env("PURSE_SIM_SEED") {
        return vec![seed];
    }
    let start = env("PURSE_SIM_SEED_START").unwrap_or(0);
    (start..start + env("PURSE_SIM_SEEDS").unwrap_or(default_count)).collect()
}

/// Run `f` over `seeds` on all cores; returns the per-seed results in seed order.
pub fn par_map<T: Send>(seeds: &[u64], f: impl Fn(u64) -> T + Sync) -> Vec<(u64, T)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(seeds.len().max(1));
    let chunks: Vec<Vec<u64>> =
        (0..threads).map(|t| seeds.iter().copied().skip(t).step_by(threads).collect()).collect();
    let mut out: Vec<(u64, T)> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|c| scope.spawn(|| c.iter().map(|s| (*s, f(*s))).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    out.sort_by_key(|(s, _)| *s);
    out
}
