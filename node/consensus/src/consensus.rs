//! The Tendermint state machine (Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus",
//! arXiv:1807.04938, Algorithm 1). Line references `Lnn` are to Algorithm 1.

use std::collections::{BTreeMap, BTreeSet};

use core::time::Duration;

use crate::context::{Context, Height, NilOrVal, Round, VotingPower};
use crate::error::InputError;
use crate::timeouts::TimeoutConfig;
use crate::types::{
    CommitCertificate, Evidence, Proposal, SignedProposal, SignedVote, Step, TimeoutStep, Vote, VoteType,
};
use crate::validators::ValidatorSet;
use crate::votes::{AddVote, RoundState};
use crate::{
    MAX_BUFFERED_FUTURE_MESSAGES, MAX_EVIDENCE_PER_HEIGHT, MAX_FUTURE_ROUNDS, MAX_PROPOSALS_PER_ROUND,
};

/// Static configuration of a core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params<C: Context> {
    /// This node's validator address; `None` for a non-validating observer (it follows and decides, never signs).
    pub address: Option<C::Address>,
    /// Timeout durations.
    pub timeouts: TimeoutConfig,
}

/// Everything that can happen to the core. Proposals and votes must already have had their signatures verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input<C: Context> {
    /// Start `height` with its validator set (from the host's [`crate::ValidatorSetSchedule`]). Heights must
    /// increase. Starts round 0.
    StartHeight {
        /// The height.
        height: Height,
        /// Its validator set (with proposer priorities).
        validator_set: ValidatorSet<C>,
    },
    /// A proposal (from the network, or our own looped back after signing).
    Proposal(SignedProposal<C>),
    /// A vote (from the network, or our own looped back after signing).
    Vote(SignedVote<C>),
    /// A timeout scheduled by [`Effect::ScheduleTimeout`] fired.
    TimeoutElapsed {
        /// Height it was scheduled for.
        height: Height,
        /// Round it was scheduled for.
        round: Round,
        /// Which timeout.
        step: TimeoutStep,
    },
    /// The application's value for our proposal, answering [`Effect::RequestValue`].
    ProposeValue {
        /// Height of the request.
        height: Height,
        /// Round of the request.
        round: Round,
        /// The value (a block built by the app).
        value: C::Value,
    },
    /// The application's verdict on a proposed value, answering [`Effect::ValidateProposal`] (`valid(v)`).
    ProposalValidated {
        /// Height of the proposal.
        height: Height,
        /// Id of the validated value.
        value_id: C::ValueId,
        /// Whether the value is valid.
        valid: bool,
    },
    /// A value and its commit certificate obtained by block sync, for the current height (signatures verified
    /// by the host). Lets a node that missed the round catch up.
    SyncedDecision {
        /// The decided value.
        value: C::Value,
        /// Its certificate.
        certificate: CommitCertificate<C>,
    },
}

/// A WAL entry is an accepted input, recorded verbatim.
pub type WalEntry<C> = Input<C>;

/// What the host must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect<C: Context> {
    /// Append this entry to the WAL. It always comes before any sign-and-broadcast caused by the same input, and
    /// the host must fsync the WAL before executing a broadcast that follows it.
    PersistWal(WalEntry<C>),
    /// Sign this proposal (after the [`crate::SignerGuard`] check and persisting its state), broadcast it, and
    /// feed it back to the core as [`Input::Proposal`].
    SignAndBroadcastProposal(Proposal<C>),
    /// Sign this vote (after the [`crate::SignerGuard`] check and persisting its state), broadcast it, and feed it
    /// back to the core as [`Input::Vote`].
    SignAndBroadcastVote(Vote<C>),
    /// Deliver [`Input::TimeoutElapsed`] with these fields after `duration`.
    ScheduleTimeout {
        /// Height.
        height: Height,
        /// Round.
        round: Round,
        /// Which timeout.
        step: TimeoutStep,
        /// How long to wait.
        duration: Duration,
    },
    /// Ask the application for a value to propose (`getValue()`, L18); answer with [`Input::ProposeValue`].
    RequestValue {
        /// Height.
        height: Height,
        /// Round.
        round: Round,
    },
    /// Ask the application whether a proposed value is valid (`valid(v)`); answer with
    /// [`Input::ProposalValidated`].
    ValidateProposal {
        /// Height.
        height: Height,
        /// Round it was proposed in.
        round: Round,
        /// The value.
        value: C::Value,
    },
    /// The height is decided (L49): commit `value` with its certificate, then send [`Input::StartHeight`] for the
    /// next height.
    Decide {
        /// Height.
        height: Height,
        /// Round of the decision.
        round: Round,
        /// The decided value.
        value: C::Value,
        /// The `+2/3` precommits.
        certificate: CommitCertificate<C>,
    },
    /// A validator equivocated; keep this and include it in a later block.
    Evidence(Evidence<C>),
}

#[derive(Clone, Debug)]
struct HeightState<C: Context> {
    height: Height,
    validator_set: ValidatorSet<C>,
    proposers: Vec<C::Address>,
    round: Round,
    step: Step,
    locked: Option<(Round, C::Value)>,
    valid: Option<(Round, C::Value)>,
    decision: Option<(Round, C::Value)>,
    rounds: BTreeMap<Round, RoundState<C>>,
    validity: BTreeMap<C::ValueId, bool>,
    validation_requested: BTreeSet<C::ValueId>,
    value_requested: Option<Round>,
    proposed_in: Option<Round>,
    evidence: Vec<Evidence<C>>,
    evidence_keys: BTreeSet<(C::Address, Round, u8)>,
}

/// The consensus core: a deterministic state machine driven by [`Consensus::handle`].
///
/// Holds the state of the current height only (plus at most [`MAX_BUFFERED_FUTURE_MESSAGES`] messages for the
/// next height); rounds more than [`MAX_FUTURE_ROUNDS`] ahead of the current round are rejected.
#[derive(Clone, Debug)]
pub struct Consensus<C: Context> {
    params: Params<C>,
    state: Option<HeightState<C>>,
    buffer: Vec<Input<C>>,
}

impl<C: Context> Consensus<C> {
    /// A core that has not started a height yet.
    pub fn new(params: Params<C>) -> Self {
        Self { params, state: None, buffer: Vec::new() }
    }

    /// Rebuild a core from its WAL (the entries since the last `StartHeight` suffice). Returns the core and the
    /// effects the replay produced, without the `PersistWal` ones. The host re-executes them: re-signing is
    /// allowed by the [`crate::SignerGuard`] only for exactly the same message, rebroadcasting is harmless,
    /// timeouts that no longer match the current round/step are ignored by the core, and a `Decide` for a height
    /// already in the block store is skipped.
    pub fn replay(
        params: Params<C>,
        entries: impl IntoIterator<Item = WalEntry<C>>,
    ) -> (Self, Vec<Effect<C>>) {
        let mut core = Self::new(params);
        let mut effects = Vec::new();
        for entry in entries {
            if let Ok(out) = core.handle(entry) {
                effects.extend(out.into_iter().filter(|e| !matches!(e, Effect::PersistWal(_))));
            }
        }
        (core, effects)
    }

    /// The static parameters.
    pub fn params(&self) -> &Params<C> {
        &self.params
    }

    /// The current height (`None` before the first `StartHeight`).
    pub fn height(&self) -> Option<Height> {
        self.state.as_ref().map(|s| s.height)
    }

    /// The current round (`round_p`).
    pub fn round(&self) -> Option<Round> {
        self.state.as_ref().map(|s| s.round)
    }

    /// The current step (`step_p`).
    pub fn step(&self) -> Option<Step> {
        self.state.as_ref().map(|s| s.step)
    }

    /// `(lockedRound, lockedValue)`.
    pub fn locked(&self) -> Option<(Round, &C::Value)> {
        self.state.as_ref().and_then(|s| s.locked.as_ref().map(|(r, v)| (*r, v)))
    }

    /// `(validRound, validValue)`.
    pub fn valid(&self) -> Option<(Round, &C::Value)> {
        self.state.as_ref().and_then(|s| s.valid.as_ref().map(|(r, v)| (*r, v)))
    }

    /// `(round, value)` decided at the current height, if any.
    pub fn decision(&self) -> Option<(Round, &C::Value)> {
        self.state.as_ref().and_then(|s| s.decision.as_ref().map(|(r, v)| (*r, v)))
    }

    /// Evidence collected at the current height.
    pub fn evidence(&self) -> &[Evidence<C>] {
        self.state.as_ref().map_or(&[], |s| &s.evidence)
    }

    /// The validator set of the current height.
    pub fn validator_set(&self) -> Option<&ValidatorSet<C>> {
        self.state.as_ref().map(|s| &s.validator_set)
    }

    /// Number of buffered next-height messages.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The proposer of `round` at the current height.
    pub fn proposer(&mut self, round: Round) -> Option<C::Address> {
        self.state.as_mut().map(|s| s.proposer(round))
    }

    /// Apply one input. On success returns the effects to execute in order (empty when the input changed
    /// nothing, e.g. a duplicate vote or a stale timeout). A rejected input changes nothing.
    pub fn handle(&mut self, input: Input<C>) -> Result<Vec<Effect<C>>, InputError> {
        let mut effects = Vec::new();
        self.apply(input, &mut effects)?;
        Ok(effects)
    }

    fn apply(&mut self, input: Input<C>, fx: &mut Vec<Effect<C>>) -> Result<(), InputError> {
        if let Input::StartHeight { height, validator_set } = input {
            return self.start_height(height, validator_set, fx);
        }
        let current = self.state.as_ref().map(|s| s.height).ok_or(InputError::NotStarted)?;
        let height = match &input {
            Input::Proposal(p) => p.proposal.height,
            Input::Vote(v) => v.vote.height,
            Input::TimeoutElapsed { height, .. }
            | Input::ProposeValue { height, .. }
            | Input::ProposalValidated { height, .. } => *height,
            Input::SyncedDecision { certificate, .. } => certificate.height,
            Input::StartHeight { .. } => return Err(InputError::Unexpected { step: Step::Propose }),
        };
        if height < current {
            return Err(InputError::PastHeight { got: height, current });
        }
        if height > current {
            let bufferable = matches!(input, Input::Proposal(_) | Input::Vote(_));
            if bufferable && height == current + 1 && self.buffer.len() < MAX_BUFFERED_FUTURE_MESSAGES {
                if !self.buffer.contains(&input) {
                    self.buffer.push(input);
                }
                return Ok(());
            }
            return Err(InputError::FutureHeight { got: height, current });
        }
        let me = self.params.address.clone();
        let timeouts = self.params.timeouts;
        let Some(s) = self.state.as_mut() else { return Err(InputError::NotStarted) };
        let start = fx.len();
        let accepted = match input.clone() {
            Input::Proposal(p) => s.on_proposal(p, fx)?,
            Input::Vote(v) => s.on_vote(v, fx)?,
            Input::TimeoutElapsed { round, step, .. } => s.on_timeout(round, step),
            Input::ProposeValue { round, .. } => s.on_propose_value(round, me.as_ref())?,
            Input::ProposalValidated { value_id, valid, .. } => s.on_validated(value_id, valid)?,
            Input::SyncedDecision { value, certificate } => s.on_synced(value, certificate)?,
            Input::StartHeight { .. } => false,
        };
        if !accepted {
            return Ok(());
        }
        // The WAL entry goes first: nothing this input causes may leave the node before it is durable.
        fx.insert(start, Effect::PersistWal(input.clone()));
        s.after_accept(input, me.as_ref(), &timeouts, fx);
        s.run_rules(me.as_ref(), &timeouts, fx);
        Ok(())
    }

    fn start_height(
        &mut self,
        height: Height,
        validator_set: ValidatorSet<C>,
        fx: &mut Vec<Effect<C>>,
    ) -> Result<(), InputError> {
        if let Some(s) = &self.state {
            if height <= s.height {
                return Err(InputError::HeightNotIncreasing { got: height, current: s.height });
            }
        }
        fx.push(Effect::PersistWal(Input::StartHeight { height, validator_set: validator_set.clone() }));
        let me = self.params.address.clone();
        let timeouts = self.params.timeouts;
        let mut s = HeightState {
            height,
            validator_set,
            proposers: Vec::new(),
            round: 0,
            step: Step::Propose,
            locked: None,
            valid: None,
            decision: None,
            rounds: BTreeMap::new(),
            validity: BTreeMap::new(),
            validation_requested: BTreeSet::new(),
            value_requested: None,
            proposed_in: None,
            evidence: Vec::new(),
            evidence_keys: BTreeSet::new(),
        };
        // L10: upon start do StartRound(0)
        s.start_round(0, me.as_ref(), &timeouts, fx);
        self.state = Some(s);
        // Replay the next-height messages buffered while the previous height ran; each is written to the WAL
        // on its own so that a replay from this StartHeight reproduces the same state.
        let buffered = std::mem::take(&mut self.buffer);
        for msg in buffered {
            let same_height = match &msg {
                Input::Proposal(p) => p.proposal.height == height,
                Input::Vote(v) => v.vote.height == height,
                _ => false,
            };
            if same_height {
                let _ = self.apply(msg, fx);
            }
        }
        Ok(())
    }
}

impl<C: Context> HeightState<C> {
    fn proposer(&mut self, round: Round) -> C::Address {
        let wanted = usize::try_from(round).unwrap_or(usize::MAX).saturating_add(1);
        if self.proposers.len() < wanted {
            // Recompute in one walk; rounds are bounded by the caller (current round + MAX_FUTURE_ROUNDS).
            self.proposers = self.validator_set.proposers(wanted.max(self.proposers.len() * 2).max(4));
        }
        self.proposers[usize::try_from(round).unwrap_or(0)].clone()
    }

    fn round_state(&mut self, round: Round) -> &mut RoundState<C> {
        self.rounds.entry(round).or_default()
    }

    fn check_round(&self, round: Round) -> Result<(), InputError> {
        if round > self.round.saturating_add(MAX_FUTURE_ROUNDS) {
            return Err(InputError::RoundTooFarAhead { got: round, current: self.round });
        }
        Ok(())
    }

    fn record_evidence(
        &mut self,
        key: (C::Address, Round, u8),
        ev: Evidence<C>,
        fx: &mut Vec<Effect<C>>,
    ) -> bool {
        if self.evidence_keys.contains(&key) || self.evidence.len() >= MAX_EVIDENCE_PER_HEIGHT {
            return false;
        }
        self.evidence_keys.insert(key);
        self.evidence.push(ev.clone());
        fx.push(Effect::Evidence(ev));
        true
    }

    fn on_proposal(&mut self, p: SignedProposal<C>, fx: &mut Vec<Effect<C>>) -> Result<bool, InputError> {
        let round = p.proposal.round;
        self.check_round(round)?;
        if p.proposal.pol_round.is_some_and(|vr| vr >= round) {
            return Err(InputError::InvalidPolRound);
        }
        if self.validator_set.power_of(&p.proposal.proposer) == 0 {
            return Err(InputError::UnknownValidator);
        }
        if self.proposer(round) != p.proposal.proposer {
            return Err(InputError::WrongProposer);
        }
        let one_third = {
            let id = NilOrVal::Val(C::value_id(&p.proposal.value));
            let rs = self.round_state(round);
            rs.prevotes.power_for(&id).max(rs.precommits.power_for(&id))
        };
        let supported = self.validator_set.is_one_third_plus(one_third);
        let rs = self.round_state(round);
        if rs.proposals.iter().any(|q| q.proposal == p.proposal) {
            return Ok(false);
        }
        let first = rs.proposals.first().cloned();
        let store = rs.proposals.len() < MAX_PROPOSALS_PER_ROUND
            || (supported && rs.proposals.len() < 2 * MAX_PROPOSALS_PER_ROUND);
        if store {
            rs.proposals.push(p.clone());
        }
        let mut accepted = store;
        if let Some(first) = first {
            let key = (p.proposal.proposer.clone(), round, 0);
            accepted |= self.record_evidence(key, Evidence::ConflictingProposals { first, second: p }, fx);
        }
        if accepted {
            Ok(true)
        } else {
            Err(InputError::TooManyProposals)
        }
    }

    fn on_vote(&mut self, v: SignedVote<C>, fx: &mut Vec<Effect<C>>) -> Result<bool, InputError> {
        let round = v.vote.round;
        self.check_round(round)?;
        let power = self.validator_set.power_of(&v.vote.validator);
        if power == 0 {
            return Err(InputError::UnknownValidator);
        }
        let vote_type = v.vote.vote_type;
        let target = v.vote.value;
        let support = self.rounds.get(&round).map_or(0, |rs| match vote_type {
            VoteType::Prevote => rs.prevotes.power_for(&target),
            VoteType::Precommit => rs.precommits.power_for(&target),
        });
        let supported = self.validator_set.is_one_third_plus(support);
        let rs = self.round_state(round);
        let counter = match vote_type {
            VoteType::Prevote => &mut rs.prevotes,
            VoteType::Precommit => &mut rs.precommits,
        };
        match counter.add(v.clone(), power, supported) {
            AddVote::Counted => Ok(true),
            AddVote::Duplicate => Ok(false),
            AddVote::Conflict { first, counted } => {
                let step = match vote_type {
                    VoteType::Prevote => 1,
                    VoteType::Precommit => 2,
                };
                let key = (v.vote.validator.clone(), round, step);
                let new_evidence =
                    self.record_evidence(key, Evidence::ConflictingVotes { first, second: v }, fx);
                Ok(counted || new_evidence)
            }
        }
    }

    fn on_timeout(&mut self, round: Round, step: TimeoutStep) -> bool {
        if round != self.round || self.step == Step::Commit {
            return false;
        }
        match step {
            TimeoutStep::Propose => self.step == Step::Propose,
            TimeoutStep::Prevote => self.step == Step::Prevote,
            TimeoutStep::Precommit => true,
        }
    }

    fn on_propose_value(&self, round: Round, me: Option<&C::Address>) -> Result<bool, InputError> {
        let expected = round == self.round
            && self.step == Step::Propose
            && self.value_requested == Some(round)
            && self.proposed_in != Some(round)
            && me.is_some();
        if !expected {
            return Err(InputError::Unexpected { step: self.step });
        }
        Ok(true)
    }

    fn on_validated(&mut self, id: C::ValueId, _valid: bool) -> Result<bool, InputError> {
        if self.validity.contains_key(&id) {
            return Ok(false);
        }
        if !self.rounds.values().any(|rs| rs.proposal_for(&id).is_some()) {
            return Err(InputError::Unexpected { step: self.step });
        }
        Ok(true)
    }

    fn on_synced(&mut self, value: C::Value, cert: CommitCertificate<C>) -> Result<bool, InputError> {
        if self.decision.is_some() {
            return Ok(false);
        }
        if C::value_id(&value) != cert.value_id {
            return Err(InputError::InvalidCertificate("value id does not match"));
        }
        let mut seen = BTreeSet::new();
        let mut power: VotingPower = 0;
        for pc in &cert.precommits {
            let v = &pc.vote;
            if v.vote_type != VoteType::Precommit
                || v.height != cert.height
                || v.round != cert.round
                || v.value != NilOrVal::Val(cert.value_id)
            {
                return Err(InputError::InvalidCertificate("precommit does not match the certificate"));
            }
            if !seen.insert(v.validator.clone()) {
                return Err(InputError::InvalidCertificate("duplicate signer"));
            }
            let p = self.validator_set.power_of(&v.validator);
            if p == 0 {
                return Err(InputError::InvalidCertificate("signer is not a validator"));
            }
            power = power.saturating_add(p);
        }
        if !self.validator_set.is_quorum(power) {
            return Err(InputError::InvalidCertificate("precommits do not reach 2/3 of the power"));
        }
        Ok(true)
    }

    /// State changes of an accepted input that do not depend on the upon-rules.
    fn after_accept(
        &mut self,
        input: Input<C>,
        me: Option<&C::Address>,
        t: &TimeoutConfig,
        fx: &mut Vec<Effect<C>>,
    ) {
        match input {
            Input::Proposal(p) => {
                let id = C::value_id(&p.proposal.value);
                if !self.validity.contains_key(&id) && self.validation_requested.insert(id) {
                    fx.push(Effect::ValidateProposal {
                        height: self.height,
                        round: p.proposal.round,
                        value: p.proposal.value,
                    });
                }
            }
            Input::ProposalValidated { value_id, valid, .. } => {
                self.validity.insert(value_id, valid);
            }
            Input::TimeoutElapsed { round, step, .. } => match step {
                // L57-L60: upon OnTimeoutPropose(h, r) with step = propose: prevote nil.
                TimeoutStep::Propose => self.cast(VoteType::Prevote, NilOrVal::Nil, me, fx),
                // L61-L64: upon OnTimeoutPrevote(h, r) with step = prevote: precommit nil.
                TimeoutStep::Prevote => self.cast(VoteType::Precommit, NilOrVal::Nil, me, fx),
                // L65-L67: upon OnTimeoutPrecommit(h, r): StartRound(r + 1).
                TimeoutStep::Precommit => self.start_round(round.saturating_add(1), me, t, fx),
            },
            Input::ProposeValue { round, value, .. } => {
                // L16-L19 (continued): the app's getValue() arrived; broadcast PROPOSAL(h, r, v, -1).
                if let Some(me) = me {
                    self.validity.insert(C::value_id(&value), true);
                    self.proposed_in = Some(round);
                    fx.push(Effect::SignAndBroadcastProposal(Proposal {
                        height: self.height,
                        round,
                        value,
                        pol_round: None,
                        proposer: me.clone(),
                    }));
                }
            }
            Input::SyncedDecision { value, certificate } => {
                // L49 via block sync: +2/3 precommits for id(v) prove the decision.
                self.step = Step::Commit;
                self.decision = Some((certificate.round, value.clone()));
                fx.push(Effect::Decide { height: self.height, round: certificate.round, value, certificate });
            }
            Input::Vote(_) | Input::StartHeight { .. } => {}
        }
    }

    /// Set the step and, if we are a validator, ask the host to sign and broadcast the vote.
    fn cast(
        &mut self,
        vote_type: VoteType,
        value: NilOrVal<C::ValueId>,
        me: Option<&C::Address>,
        fx: &mut Vec<Effect<C>>,
    ) {
        self.step = match vote_type {
            VoteType::Prevote => Step::Prevote,
            VoteType::Precommit => Step::Precommit,
        };
        if let Some(me) = me {
            if self.validator_set.power_of(me) > 0 {
                fx.push(Effect::SignAndBroadcastVote(Vote {
                    vote_type,
                    height: self.height,
                    round: self.round,
                    value,
                    validator: me.clone(),
                }));
            }
        }
    }

    /// L11-L21: StartRound(round).
    fn start_round(
        &mut self,
        round: Round,
        me: Option<&C::Address>,
        t: &TimeoutConfig,
        fx: &mut Vec<Effect<C>>,
    ) {
        // L12-L13: round_p ← round; step_p ← propose
        self.round = round;
        self.step = Step::Propose;
        let proposer = self.proposer(round);
        if let Some(me) = me.filter(|me| **me == proposer) {
            if let Some((vr, v)) = self.valid.clone() {
                // L14-L15: if validValue ≠ nil then proposal ← validValue (with validRound).
                self.proposed_in = Some(round);
                fx.push(Effect::SignAndBroadcastProposal(Proposal {
                    height: self.height,
                    round,
                    value: v,
                    pol_round: Some(vr),
                    proposer: me.clone(),
                }));
            } else {
                // L16: proposal ← getValue() — asynchronous: the app answers with Input::ProposeValue.
                self.value_requested = Some(round);
                fx.push(Effect::RequestValue { height: self.height, round });
            }
        }
        // L21: schedule OnTimeoutPropose(h_p, round_p) after timeoutPropose(round_p). Also scheduled when we are
        // the proposer (a deviation from the paper, always safe): if the app never answers we prevote nil.
        fx.push(Effect::ScheduleTimeout {
            height: self.height,
            round,
            step: TimeoutStep::Propose,
            duration: t.duration(TimeoutStep::Propose, round),
        });
    }

    /// Apply the upon-rules until none fires.
    fn run_rules(&mut self, me: Option<&C::Address>, t: &TimeoutConfig, fx: &mut Vec<Effect<C>>) {
        loop {
            if self.step == Step::Commit {
                return;
            }
            let fired = self.rule_decide(fx)
                || self.rule_round_skip(me, t, fx)
                || self.rule_prevote_on_proposal(me, fx)
                || self.rule_prevote_on_pol_proposal(me, fx)
                || self.rule_prevote_timeout(t, fx)
                || self.rule_lock_on_polka(me, fx)
                || self.rule_precommit_nil(me, fx)
                || self.rule_precommit_timeout(t, fx);
            if !fired {
                return;
            }
        }
    }

    /// L49-L54: upon PROPOSAL(h_p, r, v, ∗) from proposer(h_p, r) AND 2f+1 PRECOMMIT(h_p, r, id(v)) while
    /// decision_p[h_p] = nil: if valid(v) then decide v. (Any round r.)
    fn rule_decide(&mut self, fx: &mut Vec<Effect<C>>) -> bool {
        let mut found = None;
        'rounds: for (r, rs) in &self.rounds {
            for (target, power) in rs.precommits.tallies() {
                let NilOrVal::Val(id) = target else { continue };
                if !self.validator_set.is_quorum(*power) || self.validity.get(id) != Some(&true) {
                    continue;
                }
                if let Some(p) = rs.proposal_for(id) {
                    found = Some((*r, *id, p.proposal.value.clone(), rs.precommits.votes_for(target)));
                    break 'rounds;
                }
            }
        }
        let Some((round, value_id, value, precommits)) = found else { return false };
        // L51-L54: decision_p[h_p] = v; the host moves to h_p + 1 with Input::StartHeight.
        self.step = Step::Commit;
        self.decision = Some((round, value.clone()));
        let certificate = CommitCertificate { height: self.height, round, value_id, precommits };
        fx.push(Effect::Decide { height: self.height, round, value, certificate });
        true
    }

    /// L55-L56: upon f+1 ⟨∗, h_p, round, ∗, ∗⟩ with round > round_p: StartRound(round).
    fn rule_round_skip(
        &mut self,
        me: Option<&C::Address>,
        t: &TimeoutConfig,
        fx: &mut Vec<Effect<C>>,
    ) -> bool {
        let target = self
            .rounds
            .range(self.round.saturating_add(1)..)
            .rev()
            .find(|(_, rs)| self.validator_set.is_one_third_plus(rs.participating_power(&self.validator_set)))
            .map(|(r, _)| *r);
        match target {
            Some(r) => {
                self.start_round(r, me, t, fx);
                true
            }
            None => false,
        }
    }

    /// L22-L27: upon PROPOSAL(h_p, round_p, v, -1) from proposer(h_p, round_p) while step_p = propose:
    /// prevote id(v) if valid(v) ∧ (lockedRound = -1 ∨ lockedValue = v), else nil; step_p ← prevote.
    fn rule_prevote_on_proposal(&mut self, me: Option<&C::Address>, fx: &mut Vec<Effect<C>>) -> bool {
        if self.step != Step::Propose {
            return false;
        }
        let Some(rs) = self.rounds.get(&self.round) else { return false };
        let candidate = rs.proposals.iter().filter(|p| p.proposal.pol_round.is_none()).find_map(|p| {
            let id = C::value_id(&p.proposal.value);
            self.validity.get(&id).map(|valid| (id, *valid))
        });
        let Some((id, valid)) = candidate else { return false };
        let unlocked_or_same = match &self.locked {
            None => true,
            Some((_, lv)) => C::value_id(lv) == id,
        };
        let target = if valid && unlocked_or_same { NilOrVal::Val(id) } else { NilOrVal::Nil };
        self.cast(VoteType::Prevote, target, me, fx);
        true
    }

    /// L28-L33: upon PROPOSAL(h_p, round_p, v, vr) from proposer(h_p, round_p) AND 2f+1 PREVOTE(h_p, vr, id(v))
    /// while step_p = propose ∧ (vr ≥ 0 ∧ vr < round_p): prevote id(v) if valid(v) ∧ (lockedRound ≤ vr ∨
    /// lockedValue = v), else nil; step_p ← prevote.
    fn rule_prevote_on_pol_proposal(&mut self, me: Option<&C::Address>, fx: &mut Vec<Effect<C>>) -> bool {
        if self.step != Step::Propose {
            return false;
        }
        let Some(rs) = self.rounds.get(&self.round) else { return false };
        let candidate = rs.proposals.iter().find_map(|p| {
            let vr = p.proposal.pol_round?;
            let id = C::value_id(&p.proposal.value);
            let valid = *self.validity.get(&id)?;
            let polka = self
                .rounds
                .get(&vr)
                .is_some_and(|old| self.validator_set.is_quorum(old.prevotes.power_for(&NilOrVal::Val(id))));
            polka.then_some((vr, id, valid))
        });
        let Some((vr, id, valid)) = candidate else { return false };
        let lock_ok = match &self.locked {
            None => true,
            Some((lr, lv)) => *lr <= vr || C::value_id(lv) == id,
        };
        let target = if valid && lock_ok { NilOrVal::Val(id) } else { NilOrVal::Nil };
        self.cast(VoteType::Prevote, target, me, fx);
        true
    }

    /// L34-L35: upon 2f+1 PREVOTE(h_p, round_p, ∗) while step_p = prevote for the first time:
    /// schedule OnTimeoutPrevote(h_p, round_p) after timeoutPrevote(round_p).
    fn rule_prevote_timeout(&mut self, t: &TimeoutConfig, fx: &mut Vec<Effect<C>>) -> bool {
        if self.step != Step::Prevote {
            return false;
        }
        let (height, round) = (self.height, self.round);
        let quorum = self.rounds.get(&round).is_some_and(|rs| {
            !rs.prevote_timeout_scheduled && self.validator_set.is_quorum(rs.prevotes.total())
        });
        if !quorum {
            return false;
        }
        self.round_state(round).prevote_timeout_scheduled = true;
        fx.push(Effect::ScheduleTimeout {
            height,
            round,
            step: TimeoutStep::Prevote,
            duration: t.duration(TimeoutStep::Prevote, round),
        });
        true
    }

    /// L36-L43: upon PROPOSAL(h_p, round_p, v, ∗) from proposer(h_p, round_p) AND 2f+1 PREVOTE(h_p, round_p,
    /// id(v)) while valid(v) ∧ step_p ≥ prevote for the first time: if step_p = prevote then lock v and precommit
    /// id(v); in any case validValue ← v, validRound ← round_p.
    fn rule_lock_on_polka(&mut self, me: Option<&C::Address>, fx: &mut Vec<Effect<C>>) -> bool {
        if self.step != Step::Prevote && self.step != Step::Precommit {
            return false;
        }
        let round = self.round;
        let Some(rs) = self.rounds.get(&round) else { return false };
        if rs.polka_handled {
            return false;
        }
        let candidate = rs.proposals.iter().find_map(|p| {
            let id = C::value_id(&p.proposal.value);
            let polka = self.validator_set.is_quorum(rs.prevotes.power_for(&NilOrVal::Val(id)));
            (polka && self.validity.get(&id) == Some(&true)).then(|| (id, p.proposal.value.clone()))
        });
        let Some((id, value)) = candidate else { return false };
        self.round_state(round).polka_handled = true;
        if self.step == Step::Prevote {
            // L38-L41: lockedValue ← v; lockedRound ← round_p; broadcast PRECOMMIT id(v); step_p ← precommit.
            self.locked = Some((round, value.clone()));
            self.cast(VoteType::Precommit, NilOrVal::Val(id), me, fx);
        }
        // L42-L43: validValue ← v; validRound ← round_p.
        self.valid = Some((round, value));
        true
    }

    /// L44-L46: upon 2f+1 PREVOTE(h_p, round_p, nil) while step_p = prevote: precommit nil; step_p ← precommit.
    fn rule_precommit_nil(&mut self, me: Option<&C::Address>, fx: &mut Vec<Effect<C>>) -> bool {
        if self.step != Step::Prevote {
            return false;
        }
        let nil_quorum = self
            .rounds
            .get(&self.round)
            .is_some_and(|rs| self.validator_set.is_quorum(rs.prevotes.power_for(&NilOrVal::Nil)));
        if !nil_quorum {
            return false;
        }
        self.cast(VoteType::Precommit, NilOrVal::Nil, me, fx);
        true
    }

    /// L47-L48: upon 2f+1 PRECOMMIT(h_p, round_p, ∗) for the first time: schedule OnTimeoutPrecommit(h_p,
    /// round_p) after timeoutPrecommit(round_p).
    fn rule_precommit_timeout(&mut self, t: &TimeoutConfig, fx: &mut Vec<Effect<C>>) -> bool {
        let (height, round) = (self.height, self.round);
        let quorum = self.rounds.get(&round).is_some_and(|rs| {
            !rs.precommit_timeout_scheduled && self.validator_set.is_quorum(rs.precommits.total())
        });
        if !quorum {
            return false;
        }
        self.round_state(round).precommit_timeout_scheduled = true;
        fx.push(Effect::ScheduleTimeout {
            height,
            round,
            step: TimeoutStep::Precommit,
            duration: t.duration(TimeoutStep::Precommit, round),
        });
        true
    }
}
