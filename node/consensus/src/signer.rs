//! The signer's double-sign guard: the last signed height/round/step, checked before every signature.

use crate::context::{Context, Height, NilOrVal, Round};
use crate::error::SignerError;
use crate::types::{Proposal, Vote, VoteType};

/// What was signed last: enough to tell "exactly the same message" from a conflicting one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastSigned<C: Context> {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// 0 = proposal, 1 = prevote, 2 = precommit.
    pub step: u8,
    /// The value id (proposal) or vote target.
    pub value: NilOrVal<C::ValueId>,
    /// The proposal's valid round (`None` for votes and for proposals without one).
    pub pol_round: Option<Round>,
}

/// The result of a successful check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignDecision {
    /// A new, higher step: the host must persist [`SignerGuard::last_signed`] (and fsync) before it releases
    /// the signature.
    Fresh,
    /// Exactly the message signed last (e.g. re-emitted during WAL replay): signing again is harmless.
    Repeat,
}

/// The double-sign guard (like CometBFT's `priv_validator_state.json`).
///
/// The host owns one guard per validator key, stores its [`LastSigned`] durably, restores it on restart with
/// [`SignerGuard::restore`], and asks [`SignerGuard::check_vote`] / [`SignerGuard::check_proposal`] before every
/// signature. The guard refuses anything at or below the last signed `(height, round, step)` unless it is exactly
/// the last signed message, so a restarted node (even one that lost its WAL) never signs two different messages
/// for the same step. The guard is pure; persistence is the host's job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerGuard<C: Context> {
    last: Option<LastSigned<C>>,
}

impl<C: Context> Default for SignerGuard<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Context> SignerGuard<C> {
    /// A guard that has signed nothing.
    pub fn new() -> Self {
        Self { last: None }
    }

    /// A guard restored from the persisted last-signed record.
    pub fn restore(last: Option<LastSigned<C>>) -> Self {
        Self { last }
    }

    /// The record to persist.
    pub fn last_signed(&self) -> Option<&LastSigned<C>> {
        self.last.as_ref()
    }

    /// Check (and on success record) a vote about to be signed.
    pub fn check_vote(&mut self, vote: &Vote<C>) -> Result<SignDecision, SignerError> {
        let step = match vote.vote_type {
            VoteType::Prevote => 1,
            VoteType::Precommit => 2,
        };
        self.check(LastSigned {
            height: vote.height,
            round: vote.round,
            step,
            value: vote.value,
            pol_round: None,
        })
    }

    /// Check (and on success record) a proposal about to be signed.
    pub fn check_proposal(&mut self, proposal: &Proposal<C>) -> Result<SignDecision, SignerError> {
        self.check(LastSigned {
            height: proposal.height,
            round: proposal.round,
            step: 0,
            value: NilOrVal::Val(C::value_id(&proposal.value)),
            pol_round: proposal.pol_round,
        })
    }

    fn check(&mut self, next: LastSigned<C>) -> Result<SignDecision, SignerError> {
        if let Some(last) = &self.last {
            let key_last = (last.height, last.round, last.step);
            let key_next = (next.height, next.round, next.step);
            if key_next == key_last {
                return if *last == next {
                    Ok(SignDecision::Repeat)
                } else {
                    Err(SignerError::Conflicting { height: next.height, round: next.round, step: next.step })
                };
            }
            if key_next < key_last {
                return Err(SignerError::Regression {
                    height: next.height,
                    round: next.round,
                    step: next.step,
                });
            }
        }
        self.last = Some(next);
        Ok(SignDecision::Fresh)
    }
}
