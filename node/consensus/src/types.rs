//! Consensus messages and the records derived from them (commit certificates, evidence).

use crate::context::{Context, Height, NilOrVal, Round};

/// The two vote types of the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VoteType {
    /// `PREVOTE` in the paper.
    Prevote,
    /// `PRECOMMIT` in the paper.
    Precommit,
}

/// The step of a round (`step_p` in the paper), plus `Commit` once the height is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Waiting for the round's proposal.
    Propose,
    /// Prevoted; waiting for a polka.
    Prevote,
    /// Precommitted; waiting for a commit.
    Precommit,
    /// The height is decided; waiting for the host to start the next height.
    Commit,
}

/// Which timeout fired (`OnTimeoutPropose`, `OnTimeoutPrevote`, `OnTimeoutPrecommit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeoutStep {
    /// `timeoutPropose` — L57.
    Propose,
    /// `timeoutPrevote` — L61.
    Prevote,
    /// `timeoutPrecommit` — L65.
    Precommit,
}

/// An unsigned proposal: `⟨PROPOSAL, h, r, v, validRound⟩`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal<C: Context> {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The proposed value (a full block).
    pub value: C::Value,
    /// The proposer's `validRound` (`None` is the paper's `-1`).
    pub pol_round: Option<Round>,
    /// The proposer (must be `proposer(h, r)`).
    pub proposer: C::Address,
}

/// A proposal with the proposer's signature (checked by the host before it becomes an input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedProposal<C: Context> {
    /// The proposal.
    pub proposal: Proposal<C>,
    /// The proposer's signature over the proposal's canonical encoding.
    pub signature: C::Signature,
}

/// An unsigned vote: `⟨PREVOTE, h, r, id(v) | nil⟩` or `⟨PRECOMMIT, h, r, id(v) | nil⟩`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote<C: Context> {
    /// Prevote or precommit.
    pub vote_type: VoteType,
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The value id voted for, or nil.
    pub value: NilOrVal<C::ValueId>,
    /// The voter.
    pub validator: C::Address,
}

/// A vote with the voter's signature (checked by the host before it becomes an input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedVote<C: Context> {
    /// The vote.
    pub vote: Vote<C>,
    /// The voter's signature over the vote's canonical encoding.
    pub signature: C::Signature,
}

/// The `+2/3` precommits that decided a value: the proof of finality stored with the block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitCertificate<C: Context> {
    /// Height of the decided value.
    pub height: Height,
    /// Round in which it was decided.
    pub round: Round,
    /// Id of the decided value.
    pub value_id: C::ValueId,
    /// Signed precommits for `value_id` at `(height, round)` from distinct validators whose power is `> 2/3`.
    pub precommits: Vec<SignedVote<C>>,
}

/// Proof that a validator signed two conflicting messages for the same height, round and step.
///
/// Evidence is emitted once per `(validator, height, round, kind)` and kept by the core
/// ([`crate::Consensus::evidence`]); the host is expected to include it in a later block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evidence<C: Context> {
    /// Two votes of the same type, height and round for different targets.
    ConflictingVotes {
        /// The first vote seen.
        first: SignedVote<C>,
        /// The conflicting vote.
        second: SignedVote<C>,
    },
    /// Two different proposals from the proposer of the same height and round.
    ConflictingProposals {
        /// The first proposal seen.
        first: SignedProposal<C>,
        /// The conflicting proposal.
        second: SignedProposal<C>,
    },
}

impl<C: Context> Evidence<C> {
    /// The validator that equivocated.
    pub fn offender(&self) -> &C::Address {
        match self {
            Evidence::ConflictingVotes { first, .. } => &first.vote.validator,
            Evidence::ConflictingProposals { first, .. } => &first.proposal.proposer,
        }
    }

    /// Height of the equivocation.
    pub fn height(&self) -> Height {
        match self {
            Evidence::ConflictingVotes { first, .. } => first.vote.height,
            Evidence::ConflictingProposals { first, .. } => first.proposal.height,
        }
    }

    /// Round of the equivocation.
    pub fn round(&self) -> Round {
        match self {
            Evidence::ConflictingVotes { first, .. } => first.vote.round,
            Evidence::ConflictingProposals { first, .. } => first.proposal.round,
        }
    }

    /// The step of the equivocation: `None` for proposals, the vote type otherwise.
    pub fn vote_type(&self) -> Option<VoteType> {
        match self {
            Evidence::ConflictingVotes { first, .. } => Some(first.vote.vote_type),
            Evidence::ConflictingProposals { .. } => None,
        }
    }
}
