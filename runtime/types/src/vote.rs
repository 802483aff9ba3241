//! Consensus messages as signed on the wire: votes, proposals and equivocation evidence.

use crate::chain::{sign_bytes, ChainId, SignKind};
use crate::codec::encode;
use crate::hash::Hash;
use crate::keys::{verify, Keypair, PublicKey, Signature, SignatureError};
use borsh::{BorshDeserialize, BorshSerialize};

/// Prevote or precommit.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum VoteKind {
    /// First voting step.
    Prevote,
    /// Second voting step; 2/3+ precommits for a block commit it.
    Precommit,
}

/// A vote for a block id, or for nil (`block_id: None`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct Vote {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// Step.
    pub kind: VoteKind,
    /// The block voted for, or nil.
    pub block_id: Option<Hash>,
    /// The voter.
    pub validator: PublicKey,
}

impl Vote {
    /// Bytes the validator signs.
    pub fn sign_bytes(&self, chain_id: &ChainId) -> Vec<u8> {
        sign_bytes(SignKind::Vote, chain_id, &encode(self))
    }

    /// Signs the vote.
    pub fn sign(self, chain_id: &ChainId, key: &Keypair) -> SignedVote {
        let signature = key.sign(&self.sign_bytes(chain_id));
        SignedVote { vote: self, signature }
    }
}

/// A vote with its signature.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// Signature by `vote.validator`.
    pub signature: Signature,
}

impl SignedVote {
    /// Checks the signature.
    pub fn verify(&self, chain_id: &ChainId) -> Result<(), SignatureError> {
        verify(&self.vote.validator, &self.vote.sign_bytes(chain_id), &self.signature)
    }
}

/// A proposer's message announcing the block for a round.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct Proposal {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// The round in which the proposer saw a polka for this block (Tendermint's `validRound`), if any.
    pub pol_round: Option<u32>,
    /// The proposed block.
    pub block_id: Hash,
    /// The proposer.
    pub proposer: PublicKey,
}

impl Proposal {
    /// Bytes the proposer signs.
    pub fn sign_bytes(&self, chain_id: &ChainId) -> Vec<u8> {
        sign_bytes(SignKind::Proposal, chain_id, &encode(self))
    }

    /// Signs the proposal.
    pub fn sign(self, chain_id: &ChainId, key: &Keypair) -> SignedProposal {
        let signature = key.sign(&self.sign_bytes(chain_id));
        SignedProposal { proposal: self, signature }
    }
}

/// A proposal with its signature.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct SignedProposal {
    /// The proposal.
    pub proposal: Proposal,
    /// Signature by `proposal.proposer`.
    pub signature: Signature,
}

impl SignedProposal {
    /// Checks the signature.
    pub fn verify(&self, chain_id: &ChainId) -> Result<(), SignatureError> {
        verify(&self.proposal.proposer, &self.proposal.sign_bytes(chain_id), &self.signature)
    }
}

/// Proof that a validator misbehaved.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub enum Evidence {
    /// Two different signed votes from one validator for the same height, round and step.
    DuplicateVote {
        /// First vote.
        a: SignedVote,
        /// Second vote.
        b: SignedVote,
    },
}

/// Why evidence is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The two votes are not from the same validator/height/round/step.
    #[error("the two votes are not for the same validator, height, round and step")]
    NotConflicting,
    /// The two votes are for the same block: no equivocation.
    #[error("the two votes are identical in what they vote for")]
    SameValue,
    /// A signature is bad.
    #[error("evidence signature invalid: {0}")]
    Signature(#[from] SignatureError),
}

impl Evidence {
    /// Checks the evidence is a real, signed equivocation.
    pub fn verify(&self, chain_id: &ChainId) -> Result<(), EvidenceError> {
        match self {
            Evidence::DuplicateVote { a, b } => {
                let (x, y) = (&a.vote, &b.vote);
                if x.validator != y.validator
                    || x.height != y.height
                    || x.round != y.round
                    || x.kind != y.kind
                {
                    return Err(EvidenceError::NotConflicting);
                }
                if x.block_id == y.block_id {
                    return Err(EvidenceError::SameValue);
                }
                a.verify(chain_id)?;
                b.verify(chain_id)?;
                Ok(())
            }
        }
    }

    /// The offending validator.
    pub fn validator(&self) -> PublicKey {
        match self {
            Evidence::DuplicateVote { a, .. } => a.vote.validator,
        }
    }

    /// The height of the offence.
    pub fn height(&self) -> u64 {
        match self {
            Evidence::DuplicateVote { a, .. } => a.vote.height,
        }
    }

    /// Evidence id (order-independent in the two votes).
    pub fn id(&self) -> Hash {
        match self {
            Evidence::DuplicateVote { a, b } => {
                let (ea, eb) = (encode(a), encode(b));
                let (lo, hi) = if ea <= eb { (ea, eb) } else { (eb, ea) };
                let mut h = crate::hash::Hasher::new(crate::hash::Domain::Evidence);
                h.update_field(&lo).update_field(&hi);
                h.finalize()
            }
        }
    }
}
