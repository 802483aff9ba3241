//! Messages between validators and the WAL record format, both borsh.

use crate::context::{from_wire_proposal, from_wire_vote, to_wire_proposal, to_wire_vote, PurseCtx};
use borsh::{BorshDeserialize, BorshSerialize};
use purse_consensus as pc;
use purse_types::{
    decode_with_limit, encode, Block, CodecError, CommitCertificate, Hash, SignedProposal, SignedTransaction,
    SignedVote,
};

/// Largest network message: a proposal carrying a maximal block.
pub const MAX_MESSAGE_BYTES: usize = purse_types::block::MAX_BLOCK_BYTES + 64 * 1024;

/// What validators send each other.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum NetMessage {
    /// A signed proposal and the block it names.
    Proposal {
        /// The signed proposal.
        proposal: SignedProposal,
        /// The block.
        block: Box<Block>,
    },
    /// A signed prevote or precommit.
    Vote(SignedVote),
    /// A transaction being gossiped to every mempool.
    Tx(Box<SignedTransaction>),
}

impl NetMessage {
    /// Encodes for the wire.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<NetMessage, CodecError> {
        decode_with_limit(bytes, MAX_MESSAGE_BYTES)
    }
}

/// A committed block with the certificate that decided it: what block sync moves between nodes.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SyncedBlock {
    /// The block.
    pub block: Block,
    /// Precommits of more than two thirds of the voting power for it.
    pub certificate: CommitCertificate,
}

impl SyncedBlock {
    /// Encodes for the wire.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<SyncedBlock, CodecError> {
        decode_with_limit(bytes, MAX_MESSAGE_BYTES)
    }
}

/// One WAL record: an input the core accepted, in a self-contained encoding.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum WalRecord {
    /// `Input::StartHeight` (the validator set is recomputed by the engine for the height).
    StartHeight {
        /// Height.
        height: u64,
    },
    /// `Input::Proposal`.
    Proposal {
        /// Signed proposal.
        proposal: SignedProposal,
        /// Its block.
        block: Box<Block>,
    },
    /// `Input::Vote`.
    Vote(SignedVote),
    /// `Input::TimeoutElapsed`.
    Timeout {
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// 0 propose, 1 prevote, 2 precommit.
        step: u8,
    },
    /// `Input::ProposeValue`.
    ProposeValue {
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// Block.
        block: Box<Block>,
    },
    /// `Input::ProposalValidated`.
    Validated {
        /// Height.
        height: u64,
        /// Block id.
        block_id: Hash,
        /// Verdict.
        valid: bool,
    },
}

fn step_code(s: pc::TimeoutStep) -> u8 {
    match s {
        pc::TimeoutStep::Propose => 0,
        pc::TimeoutStep::Prevote => 1,
        pc::TimeoutStep::Precommit => 2,
    }
}

fn step_from(c: u8) -> Option<pc::TimeoutStep> {
    match c {
        0 => Some(pc::TimeoutStep::Propose),
        1 => Some(pc::TimeoutStep::Prevote),
        2 => Some(pc::TimeoutStep::Precommit),
        _ => None,
    }
}

impl WalRecord {
    /// The record for an input, if it is one the WAL keeps (synced decisions are re-obtained by sync).
    pub fn from_input(input: &pc::Input<PurseCtx>) -> Option<WalRecord> {
        Some(match input {
            pc::Input::StartHeight { height, .. } => WalRecord::StartHeight { height: *height },
            pc::Input::Proposal(p) => WalRecord::Proposal {
                proposal: SignedProposal { proposal: to_wire_proposal(&p.proposal), signature: p.signature },
                block: Box::new(p.proposal.value.clone()),
            },
            pc::Input::Vote(v) => {
                WalRecord::Vote(SignedVote { vote: to_wire_vote(&v.vote), signature: v.signature })
            }
            pc::Input::TimeoutElapsed { height, round, step } => {
                WalRecord::Timeout { height: *height, round: *round, step: step_code(*step) }
            }
            pc::Input::ProposeValue { height, round, value } => {
                WalRecord::ProposeValue { height: *height, round: *round, block: Box::new(value.clone()) }
            }
            pc::Input::ProposalValidated { height, value_id, valid } => {
                WalRecord::Validated { height: *height, block_id: *value_id, valid: *valid }
            }
            pc::Input::SyncedDecision { .. } => return None,
        })
    }

    /// The input this record replays, given the validator set of its height.
    pub fn into_input(
        self,
        validator_set: impl FnOnce(u64) -> Option<pc::ValidatorSet<PurseCtx>>,
    ) -> Option<pc::Input<PurseCtx>> {
        Some(match self {
            WalRecord::StartHeight { height } => {
                pc::Input::StartHeight { height, validator_set: validator_set(height)? }
            }
            WalRecord::Proposal { proposal, block } => {
                pc::Input::Proposal(from_wire_proposal(&proposal, *block)?)
            }
            WalRecord::Vote(v) => pc::Input::Vote(from_wire_vote(&v)),
            WalRecord::Timeout { height, round, step } => {
                pc::Input::TimeoutElapsed { height, round, step: step_from(step)? }
            }
            WalRecord::ProposeValue { height, round, block } => {
                pc::Input::ProposeValue { height, round, value: *block }
            }
            WalRecord::Validated { height, block_id, valid } => {
                pc::Input::ProposalValidated { height, value_id: block_id, valid }
            }
        })
    }
}

/// Borsh-encodable form of the signer guard's last signed step.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignerRecord {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// 0 proposal, 1 prevote, 2 precommit.
    pub step: u8,
    /// Target (None = nil).
    pub value: Option<Hash>,
    /// Proposal's pol round.
    pub pol_round: Option<u32>,
}

impl SignerRecord {
    /// From the guard's state.
    pub fn from_last(l: &pc::LastSigned<PurseCtx>) -> SignerRecord {
        SignerRecord {
            height: l.height,
            round: l.round,
            step: l.step,
            value: l.value.value(),
            pol_round: l.pol_round,
        }
    }

    /// To the guard's state.
    pub fn into_last(self) -> pc::LastSigned<PurseCtx> {
        pc::LastSigned {
            height: self.height,
            round: self.round,
            step: self.step,
            value: match self.value {
                Some(h) => pc::NilOrVal::Val(h),
                None => pc::NilOrVal::Nil,
            },
            pol_round: self.pol_round,
        }
    }
}
