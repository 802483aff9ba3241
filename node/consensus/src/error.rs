//! Error types.

use crate::context::{Height, Round, VotingPower};
use crate::types::Step;

/// Why a validator set or a validator-set change was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// The set has no validators.
    #[error("validator set is empty")]
    Empty,
    /// More than [`crate::MAX_VALIDATORS`] validators.
    #[error("{count} validators exceed the maximum of {max}")]
    TooManyValidators {
        /// Number given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A validator with zero voting power.
    #[error("validator with zero voting power")]
    ZeroPower,
    /// The same address twice.
    #[error("duplicate validator address")]
    DuplicateValidator,
    /// Total power above [`crate::MAX_TOTAL_VOTING_POWER`].
    #[error("total voting power too large")]
    TotalPowerTooLarge,
    /// A governance signer that is not a current validator.
    #[error("signer is not a member of the current validator set")]
    UnknownSigner,
    /// The signers hold less than 2/3 of the current power.
    #[error("signers hold {signed} of {total} voting power; at least 2/3 is required")]
    InsufficientPower {
        /// Power of the distinct signers.
        signed: VotingPower,
        /// Total power of the current set.
        total: VotingPower,
    },
    /// A change decided below the schedule's current height.
    #[error("change decided at height {decided_at} is below the current height {current}")]
    ChangeInThePast {
        /// Height the change was decided at.
        decided_at: Height,
        /// The schedule's height.
        current: Height,
    },
}

/// Why an input was not applied. Rejections never change the state (and are not written to the WAL); the host
/// may use them to score peers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// No `StartHeight` has been processed yet.
    #[error("consensus has not started a height")]
    NotStarted,
    /// A message or event for a height below the current one.
    #[error("height {got} is below the current height {current}")]
    PastHeight {
        /// The input's height.
        got: Height,
        /// The current height.
        current: Height,
    },
    /// A message for a height more than one above the current one, or the future-height buffer is full.
    #[error("height {got} is too far ahead of the current height {current} (or the buffer is full)")]
    FutureHeight {
        /// The input's height.
        got: Height,
        /// The current height.
        current: Height,
    },
    /// A round beyond `current round + MAX_FUTURE_ROUNDS`.
    #[error("round {got} is too far ahead of the current round {current}")]
    RoundTooFarAhead {
        /// The input's round.
        got: Round,
        /// The current round.
        current: Round,
    },
    /// `StartHeight` not above the current height.
    #[error("cannot start height {got}: current height is {current}")]
    HeightNotIncreasing {
        /// Requested height.
        got: Height,
        /// Current height.
        current: Height,
    },
    /// The sender is not in the validator set of the height.
    #[error("sender is not a validator at this height")]
    UnknownValidator,
    /// A proposal from someone other than `proposer(h, r)`.
    #[error("proposal is not from the proposer of the round")]
    WrongProposer,
    /// A proposal whose `validRound` is not below its round.
    #[error("proposal valid round must be below its round")]
    InvalidPolRound,
    /// Too many distinct proposals in one round ([`crate::MAX_PROPOSALS_PER_ROUND`]).
    #[error("too many proposals in this round")]
    TooManyProposals,
    /// The evidence store for the height is full ([`crate::MAX_EVIDENCE_PER_HEIGHT`]).
    #[error("evidence store is full")]
    EvidenceFull,
    /// A value or validation result that does not match an outstanding request.
    #[error("unexpected input in step {step:?}")]
    Unexpected {
        /// The current step.
        step: Step,
    },
    /// A synced commit certificate that does not prove the value.
    #[error("invalid commit certificate: {0}")]
    InvalidCertificate(&'static str),
}

/// Why the signer guard refused to sign.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignerError {
    /// A different message at the last signed height/round/step.
    #[error("refusing to sign a conflicting message at height {height}, round {round}, step {step}")]
    Conflicting {
        /// Height.
        height: Height,
        /// Round.
        round: Round,
        /// Step number (0 propose, 1 prevote, 2 precommit).
        step: u8,
    },
    /// A message below the last signed height/round/step.
    #[error("refusing to sign height {height}, round {round}, step {step}: below the last signed step")]
    Regression {
        /// Height.
        height: Height,
        /// Round.
        round: Round,
        /// Step number (0 propose, 1 prevote, 2 precommit).
        step: u8,
    },
}
