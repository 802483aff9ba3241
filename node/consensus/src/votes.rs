//! Vote keeping for one height: per round, the first prevote and precommit of every validator, the weighted tallies,
//! the proposals, and the "for the first time" flags of the round's upon-rules.

use std::collections::BTreeMap;

use crate::context::{Context, NilOrVal, VotingPower};
use crate::types::{SignedProposal, SignedVote};
use crate::validators::ValidatorSet;
use crate::{VOTES_PER_VALIDATOR_KEPT, VOTES_PER_VALIDATOR_MAX};

/// What happened when a vote was added.
#[derive(Debug)]
pub(crate) enum AddVote<C: Context> {
    /// New vote, counted.
    Counted,
    /// Exactly a vote already stored: ignored.
    Duplicate,
    /// A different vote from the same validator for the same type/height/round. `first` is the validator's first
    /// vote (for evidence); `counted` says whether the new vote was kept and counted for its target.
    Conflict {
        /// The first vote of the validator.
        first: SignedVote<C>,
        /// Whether the conflicting vote was kept.
        counted: bool,
    },
}

/// The votes of one type in one round.
///
/// As in the paper, a threshold "2f+1 PREVOTE for id(v)" counts distinct validators that sent a prevote for
/// `id(v)`; an equivocating validator may therefore count for two targets. That is safe (two quorums for
/// different targets would need more than f equivocators) and needed for liveness: an honest node that first
/// received an equivocator's other vote must still see a polka that exists. Memory stays bounded: per validator
/// the first [`VOTES_PER_VALIDATOR_KEPT`] distinct votes are kept, and up to [`VOTES_PER_VALIDATOR_MAX`] when the
/// extra vote's target already has `> 1/3` of the power (so honest validators voted for it too).
/// "Any target" thresholds count each validator once.
#[derive(Clone, Debug)]
pub(crate) struct VoteCounter<C: Context> {
    votes: BTreeMap<C::Address, Vec<SignedVote<C>>>,
    by_value: BTreeMap<NilOrVal<C::ValueId>, VotingPower>,
    total: VotingPower,
}

impl<C: Context> Default for VoteCounter<C> {
    fn default() -> Self {
        Self { votes: BTreeMap::new(), by_value: BTreeMap::new(), total: 0 }
    }
}

impl<C: Context> VoteCounter<C> {
    /// Add a vote of a validator with `power`; `supported` tells whether the vote's target has `> 1/3` power.
    pub(crate) fn add(&mut self, vote: SignedVote<C>, power: VotingPower, supported: bool) -> AddVote<C> {
        let target = vote.vote.value;
        if let Some(existing) = self.votes.get_mut(&vote.vote.validator) {
            if existing.iter().any(|v| v.vote == vote.vote) {
                return AddVote::Duplicate;
            }
            let first = existing[0].clone();
            let keep = existing.len() < VOTES_PER_VALIDATOR_KEPT
                || (supported && existing.len() < VOTES_PER_VALIDATOR_MAX);
            if keep {
                existing.push(vote);
                *self.by_value.entry(target).or_insert(0) += power;
            }
            return AddVote::Conflict { first, counted: keep };
        }
        *self.by_value.entry(target).or_insert(0) += power;
        self.total = self.total.saturating_add(power);
        self.votes.insert(vote.vote.validator.clone(), vec![vote]);
        AddVote::Counted
    }

    /// Power of the distinct validators that voted (any target).
    pub(crate) fn total(&self) -> VotingPower {
        self.total
    }

    /// Power of votes for `target`.
    pub(crate) fn power_for(&self, target: &NilOrVal<C::ValueId>) -> VotingPower {
        self.by_value.get(target).copied().unwrap_or(0)
    }

    /// Targets with their power.
    pub(crate) fn tallies(&self) -> impl Iterator<Item = (&NilOrVal<C::ValueId>, &VotingPower)> {
        self.by_value.iter()
    }

    pub(crate) fn has_voted(&self, validator: &C::Address) -> bool {
        self.votes.contains_key(validator)
    }

    pub(crate) fn voters(&self) -> impl Iterator<Item = &C::Address> {
        self.votes.keys()
    }

    /// The stored votes for `target`.
    pub(crate) fn votes_for(&self, target: &NilOrVal<C::ValueId>) -> Vec<SignedVote<C>> {
        self.votes.values().flatten().filter(|v| v.vote.value == *target).cloned().collect()
    }
}

/// Everything the core keeps about one round of the current height.
#[derive(Clone, Debug)]
pub(crate) struct RoundState<C: Context> {
    /// Proposals from the round's proposer, in arrival order (more than one only if the proposer equivocates).
    pub(crate) proposals: Vec<SignedProposal<C>>,
    pub(crate) prevotes: VoteCounter<C>,
    pub(crate) precommits: VoteCounter<C>,
    /// L34 fired.
    pub(crate) prevote_timeout_scheduled: bool,
    /// L36 fired.
    pub(crate) polka_handled: bool,
    /// L47 fired.
    pub(crate) precommit_timeout_scheduled: bool,
}

impl<C: Context> Default for RoundState<C> {
    fn default() -> Self {
        Self {
            proposals: Vec::new(),
            prevotes: VoteCounter::default(),
            precommits: VoteCounter::default(),
            prevote_timeout_scheduled: false,
            polka_handled: false,
            precommit_timeout_scheduled: false,
        }
    }
}

impl<C: Context> RoundState<C> {
    /// Power of the distinct validators that sent any vote in this round (for the L55 round skip).
    pub(crate) fn participating_power(&self, set: &ValidatorSet<C>) -> VotingPower {
        let mut power: VotingPower = self.precommits.voters().map(|a| set.power_of(a)).sum();
        for a in self.prevotes.voters() {
            if !self.precommits.has_voted(a) {
                power = power.saturating_add(set.power_of(a));
            }
        }
        power
    }

    /// The first stored proposal for value `id`.
    pub(crate) fn proposal_for(&self, id: &C::ValueId) -> Option<&SignedProposal<C>> {
        self.proposals.iter().find(|p| C::value_id(&p.proposal.value) == *id)
    }
}
