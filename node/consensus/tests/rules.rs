//! One test per rule of Algorithm 1 (arXiv:1807.04938), plus proposer selection, evidence, the signer guard,
//! the WAL and validator-set changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use purse_consensus::{
    authorize_validator_set_change, CommitCertificate, Consensus, Effect, Evidence, Input, InputError,
    NilOrVal, Proposal, SignDecision, SignerError, SignerGuard, Step, TimeoutConfig, TimeoutStep, Validator,
    ValidatorSet, ValidatorSetError, ValidatorSetSchedule, Vote, VoteType, VALSET_CHANGE_DELAY,
};

type Fx = Vec<Effect<TestCtx>>;

const H: u64 = 1;

/// A core for validator `me` of 4 equal validators, started at height 1.
struct Node {
    core: Consensus<TestCtx>,
    me: u32,
}

impl Node {
    fn new(me: u32) -> (Self, Fx) {
        let mut core = Consensus::new(params(Some(me)));
        let fx = core.handle(Input::StartHeight { height: H, validator_set: equal_set(4) }).unwrap();
        check_wal_first(&fx);
        (Self { core, me }, fx)
    }

    /// A node that is not the proposer of rounds 0, 1 and 2.
    fn non_proposer() -> (Self, Fx) {
        let mut probe = Consensus::new(params(None));
        probe.handle(Input::StartHeight { height: H, validator_set: equal_set(4) }).unwrap();
        let busy: Vec<u32> = (0..3).map(|r| probe.proposer(r).unwrap()).collect();
        let me = (0..4).find(|a| !busy.contains(a)).unwrap();
        Self::new(me)
    }

    /// Apply an input the way a host does: own signed messages are fed back as inputs.
    fn feed(&mut self, input: Input<TestCtx>) -> Fx {
        let fx = self.core.handle(input).unwrap();
        check_wal_first(&fx);
        let mut all = fx.clone();
        for e in fx {
            match e {
                Effect::SignAndBroadcastVote(v) => all.extend(self.feed(Input::Vote(sign_vote(v)))),
                Effect::SignAndBroadcastProposal(p) => {
                    all.extend(self.feed(Input::Proposal(sign_proposal(p))))
                }
                _ => {}
            }
        }
        all
    }

    fn proposer(&mut self, r: u32) -> u32 {
        self.core.proposer(r).unwrap()
    }

    /// Deliver the round's proposal of `v` (from the right proposer) and the app's verdict.
    fn proposal(&mut self, r: u32, v: TestValue, pol: Option<u32>, valid: bool) -> Fx {
        let proposer = self.proposer(r);
        let p = Proposal { height: H, round: r, value: v, pol_round: pol, proposer };
        let mut fx = self.feed(Input::Proposal(sign_proposal(p)));
        if fx.iter().any(|e| matches!(e, Effect::ValidateProposal { .. })) {
            fx.extend(self.feed(Input::ProposalValidated { height: H, value_id: v, valid }));
        }
        fx
    }

    /// Votes of type `t` in round `r` for `val` from the first `n` validators other than us.
    fn votes_from_others(&mut self, t: VoteType, r: u32, val: Option<TestValue>, n: usize) -> Fx {
        let others: Vec<u32> = (0..4).filter(|a| *a != self.me).take(n).collect();
        others.into_iter().flat_map(|a| self.feed(Input::Vote(vote(t, H, r, val, a)))).collect()
    }

    fn timeout(&mut self, r: u32, step: TimeoutStep) -> Fx {
        self.feed(Input::TimeoutElapsed { height: H, round: r, step })
    }

    /// Lock on `v` in round `r` (as a non-proposer): proposal, prevote, polka, precommit.
    fn lock_on(&mut self, r: u32, v: TestValue) {
        let fx = self.proposal(r, v, None, true);
        assert_eq!(cast(&fx), vec![(VoteType::Prevote, NilOrVal::Val(v))]);
        let fx = self.votes_from_others(VoteType::Prevote, r, Some(v), 2);
        assert_eq!(cast(&fx), vec![(VoteType::Precommit, NilOrVal::Val(v))]);
        assert_eq!(self.core.locked(), Some((r, &v)));
    }

    /// Leave round `r` (in precommit step) for round `r + 1` via nil precommits and the precommit timeout.
    fn next_round(&mut self, r: u32) {
        self.votes_from_others(VoteType::Precommit, r, None, 3);
        self.timeout(r, TimeoutStep::Precommit);
        assert_eq!(self.core.round(), Some(r + 1));
    }
}

/// The WAL rule: in every effect list, the first PersistWal precedes every sign-and-broadcast.
fn check_wal_first(fx: &Fx) {
    let first_sign = fx
        .iter()
        .position(|e| matches!(e, Effect::SignAndBroadcastVote(_) | Effect::SignAndBroadcastProposal(_)));
    if let Some(i) = first_sign {
        assert!(fx[..i].iter().any(|e| matches!(e, Effect::PersistWal(_))), "broadcast before WAL: {fx:?}");
    }
}

fn cast(fx: &Fx) -> Vec<(VoteType, NilOrVal<TestValue>)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::SignAndBroadcastVote(v) => Some((v.vote_type, v.value)),
            _ => None,
        })
        .collect()
}

fn timeouts(fx: &Fx) -> Vec<(u32, TimeoutStep, Duration)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::ScheduleTimeout { round, step, duration, .. } => Some((*round, *step, *duration)),
            _ => None,
        })
        .collect()
}

fn decided(fx: &Fx) -> Option<(u32, TestValue, CommitCertificate<TestCtx>)> {
    fx.iter().find_map(|e| match e {
        Effect::Decide { round, value, certificate, .. } => Some((*round, *value, certificate.clone())),
        _ => None,
    })
}

fn persisted(fx: &Fx) -> usize {
    fx.iter().filter(|e| matches!(e, Effect::PersistWal(_))).count()
}

// ---------------------------------------------------------------------------------------------------------------
// StartRound and proposing

#[test]
fn l11_l16_proposer_starts_round_and_requests_value() {
    let mut probe = Consensus::new(params(None));
    probe.handle(Input::StartHeight { height: H, validator_set: equal_set(4) }).unwrap();
    let me = probe.proposer(0).unwrap();
    let (mut n, fx) = Node::new(me);
    assert!(matches!(fx[0], Effect::PersistWal(Input::StartHeight { .. })));
    assert!(fx.contains(&Effect::RequestValue { height: H, round: 0 }));
    assert_eq!(n.core.step(), Some(Step::Propose));
    // L18-L19: the app's value is proposed with validRound = -1.
    let v = value(H, 7);
    let fx = n.feed(Input::ProposeValue { height: H, round: 0, value: v });
    assert!(matches!(fx[0], Effect::PersistWal(Input::ProposeValue { .. })));
    assert!(fx.iter().any(|e| matches!(e,
        Effect::SignAndBroadcastProposal(p) if p.value == v && p.pol_round.is_none() && p.proposer == me && p.round == 0)));
    // A second value for the same round is unexpected.
    let err = n.core.handle(Input::ProposeValue { height: H, round: 0, value: value(H, 8) }).unwrap_err();
    assert!(matches!(err, InputError::Unexpected { .. }));
}

#[test]
fn l21_non_proposer_schedules_propose_timeout() {
    let (_, fx) = Node::non_proposer();
    assert!(!fx.iter().any(|e| matches!(e, Effect::RequestValue { .. })));
    assert_eq!(timeouts(&fx), vec![(0, TimeoutStep::Propose, TimeoutConfig::default().propose)]);
}

#[test]
fn l14_proposer_reproposes_valid_value_with_valid_round() {
    let mut probe = Consensus::new(params(None));
    probe.handle(Input::StartHeight { height: H, validator_set: equal_set(4) }).unwrap();
    let me = probe.proposer(1).unwrap();
    assert_ne!(me, probe.proposer(0).unwrap());
    let (mut n, _) = Node::new(me);
    let v = value(H, 1);
    n.lock_on(0, v);
    assert_eq!(n.core.valid(), Some((0, &v)));
    n.votes_from_others(VoteType::Precommit, 0, None, 3);
    let fx = n.timeout(0, TimeoutStep::Precommit);
    assert!(!fx.iter().any(|e| matches!(e, Effect::RequestValue { .. })));
    assert!(fx.iter().any(|e| matches!(e,
        Effect::SignAndBroadcastProposal(p) if p.value == v && p.pol_round == Some(0) && p.round == 1)));
}

// ---------------------------------------------------------------------------------------------------------------
// Prevote rules

#[test]
fn l22_prevote_for_valid_proposal() {
    let (mut n, _) = Node::non_proposer();
    let v = value(H, 1);
    let proposer = n.proposer(0);
    let p = Proposal { height: H, round: 0, value: v, pol_round: None, proposer };
    let fx = n.feed(Input::Proposal(sign_proposal(p)));
    // Validation is asked for; no vote until the app answers.
    assert!(fx.contains(&Effect::ValidateProposal { height: H, round: 0, value: v }));
    assert!(cast(&fx).is_empty());
    let fx = n.feed(Input::ProposalValidated { height: H, value_id: v, valid: true });
    assert_eq!(cast(&fx), vec![(VoteType::Prevote, NilOrVal::Val(v))]);
    assert_eq!(n.core.step(), Some(Step::Prevote));
}

#[test]
fn l22_prevote_nil_for_invalid_proposal() {
    let (mut n, _) = Node::non_proposer();
    let fx = n.proposal(0, value(H, 1), None, false);
    assert_eq!(cast(&fx), vec![(VoteType::Prevote, NilOrVal::Nil)]);
}

#[test]
fn l22_prevote_nil_when_locked_on_another_value() {
    let (mut n, _) = Node::non_proposer();
    n.lock_on(0, value(H, 1));
    n.next_round(0);
    let fx = n.proposal(1, value(H, 2), None, true);
    assert_eq!(cast(&fx), vec![(VoteType::Prevote, NilOrVal::Nil)]);
    // ... but prevotes for its locked value.
    let (mut n, _) = Node::non_proposer();
    n.lock_on(0, value(H, 1));
    n.next_round(0);
    let fx = n.proposal(1, value(H, 1), None, true);
    assert_eq!(cast(&fx), vec![(VoteType::Prevote, NilOrVal::Val(value(H, 1)))]);
}

#[test]
fn l28_prevote_for_proposal_with_valid_round_and_polka() {
    let (mut n, _) = Node::non_proposer();
    let w = value(H, 2);
    // Round 0: we prevote nil (timeout) and precommit nil; others had a polka for w that we see later.
    n.timeout(0, TimeoutStep::Propose);
    n.votes_from_others(VoteType::Precommit, 0, None, 3);
    n.timeout(0, TimeoutStep::Precommit);
    // Round 1 proposal with validRound 0: no prevote without the polka of round 0 ...
    let fx = n.proposal(1, w, Some(0), true);
    assert!(cast(&fx).is_empty());
    // ... and a prevote for w once 2f+1 prevotes for w in round 0 arrive.
    let fx = n.votes_from_others(VoteType::Prevote, 0, Some(w), 3);
    assert_eq!(cast(&fx), vec![(VoteType::Prevote, NilOrVal::Val(w))]);
}

#[test]
fn l28_locked_round_above_valid_round_prevotes_nil() {
    let (mut n, _) = Node::non_proposer();
    let (v, w) = (value(H, 1), value(H, 2));
    // A polka for w in round 0 that we miss until later; we lock on v in round 1.
    n.timeout(0, TimeoutStep::Propose);
    n.votes_from_others(VoteType::Precommit, 0, None, 3);
    n.timeout(0, TimeoutStep::Precommit);
    n.lock_on(1, v);
    n.next_round(1);
    n.votes_from_others(VoteType::Prevote, 0, Some(w), 3);
    // lockedRound (1) > vr (0) and w ≠ lockedValue: prevote nil.
    let fx = n.proposal(2, w, Some(0), true);
    assert_eq!(cast(&fx), vec![(VoteType::Prevote, NilOrVal::Nil)]);
}

#[test]
fn l28_valid_round_at_or_above_locked_round_unlocks() {
    let (mut n, _) = Node::non_proposer();
    let (v, w) = (value(H, 1), value(H, 2));
    n.lock_on(0, v);
    n.next_round(0);
    // Round 1: a polka for w happens without us (we prevote nil on timeout).
    n.timeout(1, TimeoutStep::Propose);
    n.proposal(1, w, None, true);
    n.votes_from_others(VoteType::Prevote, 1, Some(w), 3);
    n.votes_from_others(VoteType::Precommit, 1, None, 3);
    n.timeout(1, TimeoutStep::Precommit);
    // Round 2 reproposes w with vr = 1 ≥ lockedRound (0): prevote w.
    let fx = n.proposal(2, w, Some(1), true);
    assert_eq!(cast(&fx), vec![(VoteType::Prevote, NilOrVal::Val(w))]);
}

#[test]
fn l34_prevote_timeout_on_any_two_thirds_prevotes_once() {
    let (mut n, _) = Node::non_proposer();
    // Our own nil prevote (fed back) is the first of the round.
    let fx = n.timeout(0, TimeoutStep::Propose);
    assert!(timeouts(&fx).is_empty());
    let others: Vec<u32> = (0..4).filter(|a| *a != n.me).collect();
    let fx = n.feed(Input::Vote(vote(VoteType::Prevote, H, 0, Some(value(H, 1)), others[0])));
    assert!(timeouts(&fx).is_empty());
    // Three prevotes for three different targets: 2f+1 of "anything".
    let fx = n.feed(Input::Vote(vote(VoteType::Prevote, H, 0, Some(value(H, 2)), others[1])));
    let expected = TimeoutConfig::default().prevote;
    assert_eq!(timeouts(&fx), vec![(0, TimeoutStep::Prevote, expected)]);
    let fx = n.feed(Input::Vote(vote(VoteType::Prevote, H, 0, Some(value(H, 3)), others[2])));
    assert!(timeouts(&fx).is_empty(), "scheduled only the first time");
}

// ---------------------------------------------------------------------------------------------------------------
// Precommit rules

#[test]
fn l36_lock_and_precommit_on_polka() {
    let (mut n, _) = Node::non_proposer();
    let v = value(H, 1);
    n.proposal(0, v, None, true);
    let fx = n.votes_from_others(VoteType::Prevote, 0, Some(v), 1);
    assert!(cast(&fx).is_empty());
    let fx = n.votes_from_others(VoteType::Prevote, 0, Some(v), 2);
    assert_eq!(cast(&fx), vec![(VoteType::Precommit, NilOrVal::Val(v))]);
    assert_eq!(n.core.locked(), Some((0, &v)));
    assert_eq!(n.core.valid(), Some((0, &v)));
    assert_eq!(n.core.step(), Some(Step::Precommit));
}

#[test]
fn l36_polka_in_precommit_step_updates_valid_value_only() {
    // An observer (no votes of its own) that precommitted nil on the prevote timeout.
    let v = value(H, 1);
    let mut c = Consensus::new(params(None));
    c.handle(Input::StartHeight { height: H, validator_set: equal_set(4) }).unwrap();
    let proposer = c.proposer(0).unwrap();
    c.handle(Input::TimeoutElapsed { height: H, round: 0, step: TimeoutStep::Propose }).unwrap();
    c.handle(Input::Vote(vote(VoteType::Prevote, H, 0, None, 0))).unwrap();
    c.handle(Input::Vote(vote(VoteType::Prevote, H, 0, Some(v), 1))).unwrap();
    c.handle(Input::Vote(vote(VoteType::Prevote, H, 0, Some(v), 2))).unwrap();
    c.handle(Input::TimeoutElapsed { height: H, round: 0, step: TimeoutStep::Prevote }).unwrap();
    assert_eq!(c.step(), Some(Step::Precommit));
    c.handle(Input::Proposal(sign_proposal(Proposal {
        height: H,
        round: 0,
        value: v,
        pol_round: None,
        proposer,
    })))
    .unwrap();
    c.handle(Input::ProposalValidated { height: H, value_id: v, valid: true }).unwrap();
    assert_eq!(c.valid(), None, "power 2 of 4 is no polka");
    c.handle(Input::Vote(vote(VoteType::Prevote, H, 0, Some(v), 3))).unwrap();
    // L42-L43 only: validValue ← v, no lock.
    assert_eq!(c.locked(), None);
    assert_eq!(c.valid(), Some((0, &v)));
    assert_eq!(c.step(), Some(Step::Precommit));
}

#[test]
fn l44_precommit_nil_on_nil_polka() {
    let (mut n, _) = Node::non_proposer();
    n.timeout(0, TimeoutStep::Propose);
    let fx = n.votes_from_others(VoteType::Prevote, 0, None, 3);
    assert_eq!(cast(&fx), vec![(VoteType::Precommit, NilOrVal::Nil)]);
    assert_eq!(n.core.locked(), None);
}

#[test]
fn l47_precommit_timeout_on_any_two_thirds_precommits() {
    let (mut n, _) = Node::non_proposer();
    let others: Vec<u32> = (0..4).filter(|a| *a != n.me).collect();
    let mut fx = n.feed(Input::Vote(vote(VoteType::Precommit, H, 0, Some(value(H, 1)), others[0])));
    fx.extend(n.feed(Input::Vote(vote(VoteType::Precommit, H, 0, None, others[1]))));
    assert!(timeouts(&fx).is_empty());
    let fx = n.feed(Input::Vote(vote(VoteType::Precommit, H, 0, Some(value(H, 2)), others[2])));
    assert_eq!(timeouts(&fx), vec![(0, TimeoutStep::Precommit, TimeoutConfig::default().precommit)]);
}

// ---------------------------------------------------------------------------------------------------------------
// Decision

#[test]
fn l49_decide_on_proposal_and_two_thirds_precommits() {
    let (mut n, _) = Node::non_proposer();
    let v = value(H, 1);
    n.proposal(0, v, None, true);
    let fx = n.votes_from_others(VoteType::Precommit, 0, Some(v), 2);
    assert!(decided(&fx).is_none());
    let fx = n.votes_from_others(VoteType::Precommit, 0, Some(v), 3);
    let (round, value, cert) = decided(&fx).unwrap();
    assert_eq!((round, value), (0, v));
    assert_eq!(cert.precommits.len(), 3);
    assert!(cert.precommits.iter().all(|p| p.vote.value == NilOrVal::Val(v) && p.vote.round == 0));
    assert_eq!(n.core.step(), Some(Step::Commit));
    // Nothing happens after the decision.
    assert!(cast(&n.timeout(0, TimeoutStep::Propose)).is_empty());
}

#[test]
fn l49_decide_in_an_earlier_round() {
    let v = value(H, 1);
    let mut c = Consensus::new(params(None));
    c.handle(Input::StartHeight { height: H, validator_set: equal_set(4) }).unwrap();
    let proposer = c.proposer(0).unwrap();
    c.handle(Input::TimeoutElapsed { height: H, round: 0, step: TimeoutStep::Propose }).unwrap();
    c.handle(Input::TimeoutElapsed { height: H, round: 0, step: TimeoutStep::Prevote }).unwrap();
    c.handle(Input::TimeoutElapsed { height: H, round: 0, step: TimeoutStep::Precommit }).unwrap();
    assert_eq!(c.round(), Some(1));
    // Round-0 proposal and precommits arrive late: still decide (L49 holds for any round r).
    c.handle(Input::Proposal(sign_proposal(Proposal {
        height: H,
        round: 0,
        value: v,
        pol_round: None,
        proposer,
    })))
    .unwrap();
    c.handle(Input::ProposalValidated { height: H, value_id: v, valid: true }).unwrap();
    let mut fx = Vec::new();
    for a in 0..3 {
        fx.extend(c.handle(Input::Vote(vote(VoteType::Precommit, H, 0, Some(v), a))).unwrap());
    }
    assert_eq!(decided(&fx).map(|d| (d.0, d.1)), Some((0, v)));
}

#[test]
fn l49_no_decision_without_proposal_or_validity() {
    let (mut n, _) = Node::non_proposer();
    let v = value(H, 1);
    let fx = n.votes_from_others(VoteType::Precommit, 0, Some(v), 3);
    assert!(decided(&fx).is_none(), "no proposal");
    let proposer = n.proposer(0);
    let p = Proposal { height: H, round: 0, value: v, pol_round: None, proposer };
    let fx = n.feed(Input::Proposal(sign_proposal(p)));
    assert!(decided(&fx).is_none(), "validity unknown");
    let fx = n.feed(Input::ProposalValidated { height: H, value_id: v, valid: true });
    assert!(decided(&fx).is_some());
}

#[test]
fn synced_decision_requires_a_quorum_certificate() {
    let (mut n, _) = Node::non_proposer();
    let v = value(H, 1);
    let precommits: Vec<_> = (0..3).map(|a| vote(VoteType::Precommit, H, 2, Some(v), a)).collect();
    let short = CommitCertificate { height: H, round: 2, value_id: v, precommits: precommits[..2].to_vec() };
    let err = n.core.handle(Input::SyncedDecision { value: v, certificate: short }).unwrap_err();
    assert!(matches!(err, InputError::InvalidCertificate(_)));
    let dup = CommitCertificate {
        height: H,
        round: 2,
        value_id: v,
        precommits: vec![precommits[0].clone(), precommits[0].clone(), precommits[1].clone()],
    };
    assert!(n.core.handle(Input::SyncedDecision { value: v, certificate: dup }).is_err());
    let cert = CommitCertificate { height: H, round: 2, value_id: v, precommits };
    let fx = n.feed(Input::SyncedDecision { value: v, certificate: cert });
    assert_eq!(decided(&fx).map(|d| (d.0, d.1)), Some((2, v)));
}

// ---------------------------------------------------------------------------------------------------------------
// Round skip and timeouts

#[test]
fn l55_round_skip_on_f_plus_one_messages_of_a_higher_round() {
    let (mut n, _) = Node::non_proposer();
    let others: Vec<u32> = (0..4).filter(|a| *a != n.me).collect();
    let fx = n.feed(Input::Vote(vote(VoteType::Prevote, H, 3, None, others[0])));
    assert!(timeouts(&fx).is_empty(), "f = 1 validator is not enough");
    // The same validator's precommit in round 3 does not add power.
    n.feed(Input::Vote(vote(VoteType::Precommit, H, 3, None, others[0])));
    assert_eq!(n.core.round(), Some(0));
    let fx = n.feed(Input::Vote(vote(VoteType::Precommit, H, 3, None, others[1])));
    assert_eq!(n.core.round(), Some(3));
    let c = TimeoutConfig::default();
    assert_eq!(timeouts(&fx), vec![(3, TimeoutStep::Propose, c.propose + c.propose_delta * 3)]);
}

#[test]
fn l57_timeout_propose_prevotes_nil() {
    let (mut n, _) = Node::non_proposer();
    let fx = n.timeout(0, TimeoutStep::Propose);
    assert_eq!(cast(&fx), vec![(VoteType::Prevote, NilOrVal::Nil)]);
    assert_eq!(n.core.step(), Some(Step::Prevote));
}

#[test]
fn l61_timeout_prevote_precommits_nil() {
    let (mut n, _) = Node::non_proposer();
    n.timeout(0, TimeoutStep::Propose);
    let fx = n.timeout(0, TimeoutStep::Prevote);
    assert_eq!(cast(&fx), vec![(VoteType::Precommit, NilOrVal::Nil)]);
    assert_eq!(n.core.step(), Some(Step::Precommit));
}

#[test]
fn l65_timeout_precommit_starts_next_round() {
    let (mut n, _) = Node::non_proposer();
    let fx = n.timeout(0, TimeoutStep::Precommit);
    assert_eq!(n.core.round(), Some(1));
    assert_eq!(n.core.step(), Some(Step::Propose));
    let c = TimeoutConfig::default();
    assert_eq!(timeouts(&fx), vec![(1, TimeoutStep::Propose, c.propose + c.propose_delta)]);
}

#[test]
fn stale_timeouts_change_nothing() {
    let (mut n, _) = Node::non_proposer();
    n.timeout(0, TimeoutStep::Precommit);
    assert!(n.timeout(0, TimeoutStep::Propose).is_empty(), "old round");
    assert!(n.timeout(1, TimeoutStep::Prevote).is_empty(), "wrong step");
    assert!(n.timeout(5, TimeoutStep::Precommit).is_empty(), "future round");
}

#[test]
fn timeouts_grow_linearly_with_round() {
    let c = TimeoutConfig {
        propose: Duration::from_millis(100),
        propose_delta: Duration::from_millis(10),
        prevote: Duration::from_millis(50),
        prevote_delta: Duration::from_millis(5),
        precommit: Duration::from_millis(60),
        precommit_delta: Duration::from_millis(6),
    };
    for r in [0u32, 1, 7, 100] {
        assert_eq!(c.duration(TimeoutStep::Propose, r), Duration::from_millis(100 + 10 * u64::from(r)));
        assert_eq!(c.duration(TimeoutStep::Prevote, r), Duration::from_millis(50 + 5 * u64::from(r)));
        assert_eq!(c.duration(TimeoutStep::Precommit, r), Duration::from_millis(60 + 6 * u64::from(r)));
    }
    assert_eq!(
        c.duration(TimeoutStep::Propose, u32::MAX),
        Duration::from_millis(100) + Duration::from_millis(10) * u32::MAX
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Vote keeping, evidence, input validation

#[test]
fn duplicate_votes_are_ignored_and_not_persisted() {
    let (mut n, _) = Node::non_proposer();
    let other = (0..4).find(|a| *a != n.me).unwrap();
    let v = vote(VoteType::Prevote, H, 0, None, other);
    assert_eq!(persisted(&n.feed(Input::Vote(v.clone()))), 1);
    assert!(n.feed(Input::Vote(v)).is_empty());
}

#[test]
fn conflicting_votes_produce_evidence_once_and_count_per_target() {
    let (mut n, _) = Node::non_proposer();
    let others: Vec<u32> = (0..4).filter(|a| *a != n.me).collect();
    let bad = others[0];
    let first = vote(VoteType::Prevote, H, 0, None, bad);
    let second = vote(VoteType::Prevote, H, 0, Some(value(H, 1)), bad);
    n.feed(Input::Vote(first.clone()));
    let fx = n.feed(Input::Vote(second.clone()));
    assert_eq!(persisted(&fx), 1);
    assert!(fx.contains(&Effect::Evidence(Evidence::ConflictingVotes { first: first.clone(), second })));
    assert_eq!(n.core.evidence().len(), 1);
    // A third conflicting vote for an unsupported target: not kept, no new evidence, nothing persisted.
    let fx = n.feed(Input::Vote(vote(VoteType::Prevote, H, 0, Some(value(H, 2)), bad)));
    assert!(fx.is_empty());
    // The equivocator counts once for "any" (L34 needs a third validator) ...
    let fx = n.feed(Input::Vote(vote(VoteType::Prevote, H, 0, Some(value(H, 3)), others[1])));
    assert!(timeouts(&fx).is_empty());
    // ... but for each target it voted for: its nil vote plus ours and others[2]'s make a nil polka (L44).
    n.timeout(0, TimeoutStep::Propose);
    let fx = n.feed(Input::Vote(vote(VoteType::Prevote, H, 0, None, others[2])));
    assert_eq!(cast(&fx), vec![(VoteType::Precommit, NilOrVal::Nil)]);
    // A precommit from the same validator is a different step: no evidence.
    n.feed(Input::Vote(vote(VoteType::Precommit, H, 0, None, bad)));
    assert_eq!(n.core.evidence().len(), 1);
    let ev = &n.core.evidence()[0];
    assert_eq!(
        (ev.offender(), ev.height(), ev.round(), ev.vote_type()),
        (&bad, H, 0, Some(VoteType::Prevote))
    );
}

#[test]
fn equivocator_vote_completes_a_polka_seen_second() {
    // An honest node that received an equivocator's nil prevote first still sees the polka for v (L36).
    let (mut n, _) = Node::non_proposer();
    let others: Vec<u32> = (0..4).filter(|a| *a != n.me).collect();
    let v = value(H, 1);
    n.proposal(0, v, None, true); // we prevote v
    n.feed(Input::Vote(vote(VoteType::Prevote, H, 0, None, others[0])));
    n.feed(Input::Vote(vote(VoteType::Prevote, H, 0, Some(v), others[1])));
    let fx = n.feed(Input::Vote(vote(VoteType::Prevote, H, 0, Some(v), others[0])));
    assert_eq!(cast(&fx), vec![(VoteType::Precommit, NilOrVal::Val(v))]);
    assert_eq!(n.core.locked(), Some((0, &v)));
}

#[test]
fn conflicting_proposals_produce_evidence() {
    let (mut n, _) = Node::non_proposer();
    n.proposal(0, value(H, 1), None, true);
    let proposer = n.proposer(0);
    let p2 = Proposal { height: H, round: 0, value: value(H, 2), pol_round: None, proposer };
    let fx = n.feed(Input::Proposal(sign_proposal(p2)));
    assert!(fx.iter().any(|e| matches!(e, Effect::Evidence(Evidence::ConflictingProposals { .. }))));
    assert_eq!(n.core.evidence().len(), 1);
}

#[test]
fn invalid_inputs_are_rejected_without_effects() {
    let (mut n, _) = Node::non_proposer();
    let not_proposer = (0..4).find(|a| *a != n.proposer(0)).unwrap();
    let p = Proposal { height: H, round: 0, value: value(H, 1), pol_round: None, proposer: not_proposer };
    assert_eq!(n.core.handle(Input::Proposal(sign_proposal(p))), Err(InputError::WrongProposer));
    let proposer = n.proposer(2);
    let p = Proposal { height: H, round: 2, value: value(H, 1), pol_round: Some(2), proposer };
    assert_eq!(n.core.handle(Input::Proposal(sign_proposal(p))), Err(InputError::InvalidPolRound));
    assert_eq!(
        n.core.handle(Input::Vote(vote(VoteType::Prevote, H, 0, None, 99))),
        Err(InputError::UnknownValidator)
    );
    let far = purse_consensus::MAX_FUTURE_ROUNDS + 1;
    assert!(matches!(
        n.core.handle(Input::Vote(vote(VoteType::Prevote, H, far, None, 0))),
        Err(InputError::RoundTooFarAhead { .. })
    ));
    assert!(matches!(
        n.core.handle(Input::Vote(vote(VoteType::Prevote, 0, 0, None, 0))),
        Err(InputError::PastHeight { .. })
    ));
    assert!(matches!(
        n.core.handle(Input::Vote(vote(VoteType::Prevote, 3, 0, None, 0))),
        Err(InputError::FutureHeight { .. })
    ));
    let mut fresh = Consensus::<TestCtx>::new(params(Some(0)));
    assert_eq!(
        fresh.handle(Input::Vote(vote(VoteType::Prevote, H, 0, None, 0))),
        Err(InputError::NotStarted)
    );
}

#[test]
fn next_height_messages_are_buffered_and_replayed_at_start_height() {
    let (mut n, _) = Node::non_proposer();
    let other = (0..4).find(|a| *a != n.me).unwrap();
    assert!(n.feed(Input::Vote(vote(VoteType::Prevote, H + 1, 0, None, other))).is_empty());
    assert_eq!(n.core.buffered(), 1);
    let fx = n.feed(Input::StartHeight { height: H + 1, validator_set: equal_set(4) });
    assert_eq!(n.core.buffered(), 0);
    assert_eq!(persisted(&fx), 2, "StartHeight and the buffered vote each get a WAL entry");
    // The buffered vote counts: it is a duplicate now.
    assert!(n.feed(Input::Vote(vote(VoteType::Prevote, H + 1, 0, None, other))).is_empty());
}

#[test]
fn observer_never_signs() {
    let mut c = Consensus::new(params(None));
    c.handle(Input::StartHeight { height: H, validator_set: equal_set(4) }).unwrap();
    let fx = c.handle(Input::TimeoutElapsed { height: H, round: 0, step: TimeoutStep::Propose }).unwrap();
    assert!(cast(&fx).is_empty());
    assert_eq!(c.step(), Some(Step::Prevote));
}

// ---------------------------------------------------------------------------------------------------------------
// WAL replay

#[test]
fn wal_replay_rebuilds_the_same_state() {
    let (mut n, _) = Node::non_proposer();
    let mut wal = Vec::new();
    let mut record = |fx: Fx| {
        for e in fx {
            if let Effect::PersistWal(entry) = e {
                wal.push(entry);
            }
        }
    };
    let start = Input::StartHeight { height: H, validator_set: equal_set(4) };
    record(vec![Effect::PersistWal(start)]);
    let v = value(H, 1);
    record(n.proposal(0, v, None, true));
    record(n.votes_from_others(VoteType::Prevote, 0, Some(v), 2));
    record(n.votes_from_others(VoteType::Precommit, 0, None, 3));
    record(n.timeout(0, TimeoutStep::Precommit));
    let (replayed, fx) = Consensus::replay(params(Some(n.me)), wal);
    assert_eq!(replayed.round(), n.core.round());
    assert_eq!(replayed.step(), n.core.step());
    assert_eq!(replayed.locked(), n.core.locked());
    assert_eq!(replayed.valid(), n.core.valid());
    assert!(!fx.iter().any(|e| matches!(e, Effect::PersistWal(_))));
    // Replay re-emits exactly the votes signed before the crash.
    assert_eq!(
        cast(&fx),
        vec![(VoteType::Prevote, NilOrVal::Val(v)), (VoteType::Precommit, NilOrVal::Val(v))]
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Signer guard

#[test]
fn signer_guard_refuses_double_signing() {
    let mut g = SignerGuard::<TestCtx>::new();
    let pv = |r, val: Option<TestValue>| Vote {
        vote_type: VoteType::Prevote,
        height: H,
        round: r,
        value: val.map_or(NilOrVal::Nil, NilOrVal::Val),
        validator: 0,
    };
    assert_eq!(g.check_vote(&pv(1, Some(value(H, 1)))), Ok(SignDecision::Fresh));
    assert_eq!(g.check_vote(&pv(1, Some(value(H, 1)))), Ok(SignDecision::Repeat));
    assert!(matches!(g.check_vote(&pv(1, None)), Err(SignerError::Conflicting { .. })));
    assert!(matches!(g.check_vote(&pv(0, None)), Err(SignerError::Regression { .. })));
    let p = Proposal { height: H, round: 1, value: value(H, 1), pol_round: None, proposer: 0 };
    assert!(
        matches!(g.check_proposal(&p), Err(SignerError::Regression { .. })),
        "propose step is below prevote"
    );
    let pc = Vote { vote_type: VoteType::Precommit, ..pv(1, None) };
    assert_eq!(g.check_vote(&pc), Ok(SignDecision::Fresh));
    // Restored from its persisted record, it still refuses.
    let mut restored = SignerGuard::<TestCtx>::restore(g.last_signed().cloned());
    assert!(restored.check_vote(&Vote { value: NilOrVal::Val(value(H, 3)), ..pc.clone() }).is_err());
    assert_eq!(restored.check_vote(&pc), Ok(SignDecision::Repeat));
    let next = Proposal { height: H + 1, round: 0, value: value(H + 1, 1), pol_round: None, proposer: 0 };
    assert_eq!(restored.check_proposal(&next), Ok(SignDecision::Fresh));
}

// ---------------------------------------------------------------------------------------------------------------
// Validator set

#[test]
fn proposer_selection_is_fair_by_power() {
    let powers = [1u64, 2, 3, 4, 10];
    let set = ValidatorSet::<TestCtx>::new(
        powers.iter().enumerate().map(|(a, p)| Validator::new(a as u32, *p)).collect(),
    )
    .unwrap();
    let total: u64 = powers.iter().sum();
    let windows = 50;
    let proposers = set.proposers((total * windows) as usize);
    for (a, p) in powers.iter().enumerate() {
        let count = proposers.iter().filter(|x| **x == a as u32).count() as u64;
        assert!(
            count.abs_diff(p * windows) <= 1,
            "validator {a} with power {p}: {count} of {}",
            total * windows
        );
    }
    // Deterministic, and consistent with the one-round query.
    assert_eq!(set.proposers(20), set.proposers(20));
    for r in 0..20 {
        assert_eq!(set.proposer(r), &proposers[r as usize]);
    }
    // Equal power: plain round robin over every window of n rounds.
    let eq = equal_set(7);
    for window in eq.proposers(70).chunks(7) {
        let mut w = window.to_vec();
        w.sort();
        assert_eq!(w, (0..7).collect::<Vec<_>>());
    }
}

#[test]
fn proposer_rotates_across_heights() {
    let set = equal_set(4);
    let mut seen = Vec::new();
    let mut s = set.clone();
    for _ in 0..8 {
        seen.push(*s.proposer(0));
        s = s.advanced();
    }
    let mut w = seen[..4].to_vec();
    w.sort();
    assert_eq!(w, vec![0, 1, 2, 3]);
    // Round 1 of a height is round 0 of the next.
    assert_eq!(set.proposer(1), set.advanced().proposer(0));
}

#[test]
fn validator_set_rejects_bad_memberships() {
    assert_eq!(ValidatorSet::<TestCtx>::new(vec![]), Err(ValidatorSetError::Empty));
    assert_eq!(ValidatorSet::<TestCtx>::new(vec![Validator::new(0, 0)]), Err(ValidatorSetError::ZeroPower));
    assert_eq!(
        ValidatorSet::<TestCtx>::new(vec![Validator::new(0, 1), Validator::new(0, 2)]),
        Err(ValidatorSetError::DuplicateValidator)
    );
    let too_many = (0..=purse_consensus::MAX_VALIDATORS as u32).map(|a| Validator::new(a, 1)).collect();
    assert!(matches!(
        ValidatorSet::<TestCtx>::new(too_many),
        Err(ValidatorSetError::TooManyValidators { .. })
    ));
    assert_eq!(
        ValidatorSet::<TestCtx>::new(vec![Validator::new(0, u64::MAX / 2), Validator::new(1, u64::MAX / 2)]),
        Err(ValidatorSetError::TotalPowerTooLarge)
    );
}

#[test]
fn quorum_thresholds_are_weighted() {
    let set = ValidatorSet::<TestCtx>::new(vec![
        Validator::new(0, 10),
        Validator::new(1, 5),
        Validator::new(2, 5),
        Validator::new(3, 10),
    ])
    .unwrap();
    assert_eq!(set.total_power(), 30);
    assert!(!set.is_quorum(20));
    assert!(set.is_quorum(21));
    assert!(!set.is_one_third_plus(10));
    assert!(set.is_one_third_plus(11));
}

#[test]
fn validator_set_change_authorisation_needs_two_thirds_of_current_power() {
    let set = ValidatorSet::<TestCtx>::new(vec![
        Validator::new(0, 10),
        Validator::new(1, 5),
        Validator::new(2, 5),
        Validator::new(3, 10),
    ])
    .unwrap();
    assert_eq!(authorize_validator_set_change(&set, &[0, 3]), Ok(20), "exactly 2/3 suffices");
    assert_eq!(authorize_validator_set_change(&set, &[0, 1, 1, 2]), Ok(20));
    assert!(matches!(
        authorize_validator_set_change(&set, &[0, 1, 1]),
        Err(ValidatorSetError::InsufficientPower { signed: 15, .. })
    ));
    assert_eq!(authorize_validator_set_change(&set, &[0, 9]), Err(ValidatorSetError::UnknownSigner));
    assert_eq!(authorize_validator_set_change(&set, &[3, 3, 3, 0]), Ok(20), "duplicates count once");
}

#[test]
fn validator_set_change_takes_effect_after_the_delay() {
    let mut sched = ValidatorSetSchedule::new(1, equal_set(4));
    let new_members =
        vec![Validator::new(0, 1), Validator::new(1, 1), Validator::new(2, 1), Validator::new(4, 3)];
    let effective = sched.schedule_change(1, new_members).unwrap();
    assert_eq!(effective, 1 + VALSET_CHANGE_DELAY);
    assert!(sched.schedule_change(0, vec![Validator::new(0, 1)]).is_err(), "in the past");
    assert!(sched.schedule_change(1, vec![]).is_err(), "invalid membership");
    let mut h = 1;
    while h < effective {
        assert!(sched.current().get(&4).is_none(), "not yet at height {h}");
        assert_eq!(sched.height(), h);
        sched.advance().unwrap();
        h += 1;
    }
    assert_eq!(sched.height(), effective);
    assert_eq!(sched.current().power_of(&4), 3);
    assert!(sched.current().get(&3).is_none());
    // The newcomer starts with a low priority and does not propose right away.
    assert_ne!(sched.current().proposer(0), &4);
}
