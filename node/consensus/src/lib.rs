//! purse-consensus — Tendermint BFT consensus as a pure state machine: inputs in, effects out, no IO.
//!
//! The core ([`Consensus`]) implements Algorithm 1 of Buchman, Kwon and Milosevic, "The latest gossip on BFT
//! consensus" (arXiv:1807.04938): propose / prevote / precommit with locking (`lockedValue`/`lockedRound`) and
//! the valid-value rules (`validValue`/`validRound`), deciding a block with one round of `+2/3` precommits.
//! It is generic over a [`Context`] that supplies the chain's address, value, value-id and signature types.
//!
//! A host drives it:
//!
//! 1. verify the signature of every inbound proposal and vote, then call [`Consensus::handle`] with an [`Input`];
//! 2. execute the returned [`Effect`]s **in order**: append [`Effect::PersistWal`] entries to the WAL and fsync
//!    before executing any later broadcast; sign only after the [`SignerGuard`] agrees and its state is
//!    persisted; feed its own signed messages back as inputs; deliver timeouts, values and validation results
//!    as inputs; on [`Effect::Decide`] commit the block and send [`Input::StartHeight`] for the next height.
//! 3. after a crash, rebuild with [`Consensus::replay`] from the WAL entries since the last `StartHeight`.
//!
//! See `docs/consensus.md` for the protocol, formats, timeouts, WAL/restart rules and the simulation.

mod consensus;
mod context;
mod error;
mod signer;
mod timeouts;
mod types;
mod validators;
mod votes;

pub use consensus::{Consensus, Effect, Input, Params, WalEntry};
pub use context::{Context, Height, NilOrVal, Round, VotingPower};
pub use error::{InputError, SignerError, ValidatorSetError};
pub use signer::{LastSigned, SignDecision, SignerGuard};
pub use timeouts::TimeoutConfig;
pub use types::{
    CommitCertificate, Evidence, Proposal, SignedProposal, SignedVote, Step, TimeoutStep, Vote, VoteType,
};
pub use validators::{authorize_validator_set_change, Validator, ValidatorSet, ValidatorSetSchedule};

/// Maximum number of validators in a set.
pub const MAX_VALIDATORS: usize = 512;

/// Maximum total voting power (as in CometBFT, `i64::MAX / 8`, so proposer priorities cannot overflow).
pub const MAX_TOTAL_VOTING_POWER: VotingPower = (i64::MAX / 8) as VotingPower;

/// A validator-set change decided (committed) at height `h` takes effect at `h + VALSET_CHANGE_DELAY`.
pub const VALSET_CHANGE_DELAY: Height = 2;

/// Votes and proposals for rounds above `current round + MAX_FUTURE_ROUNDS` are rejected. A node that lags by
/// more rounds catches up anyway: its lower rounds have shorter timeouts, so the gap shrinks until L55 applies.
pub const MAX_FUTURE_ROUNDS: Round = 32;

/// Distinct proposals kept per round (more than one only if the proposer equivocates); beyond this, a proposal
/// is kept only if `> 1/3` of the power voted for its value in that round, up to twice this number.
pub const MAX_PROPOSALS_PER_ROUND: usize = 4;

/// Distinct votes of one validator kept per round and vote type, unconditionally: its first vote and one
/// conflicting vote (which also becomes evidence). Both count for their targets, as in the paper.
pub const VOTES_PER_VALIDATOR_KEPT: usize = 2;

/// Hard cap of distinct votes kept per validator, round and vote type; votes beyond
/// [`VOTES_PER_VALIDATOR_KEPT`] are kept only if their target already has `> 1/3` of the power.
pub const VOTES_PER_VALIDATOR_MAX: usize = 4;

/// Upper bound of votes stored per round (two vote types).
pub const MAX_VOTES_PER_ROUND: usize = 2 * VOTES_PER_VALIDATOR_MAX * MAX_VALIDATORS;

/// Messages for the next height buffered while the current height runs.
pub const MAX_BUFFERED_FUTURE_MESSAGES: usize = 4 * MAX_VALIDATORS;

/// Evidence records kept per height.
pub const MAX_EVIDENCE_PER_HEIGHT: usize = 4 * MAX_VALIDATORS;
