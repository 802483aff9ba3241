//! Purse's instantiation of the consensus core's [`Context`], and conversions between the core's generic
//! messages and the signed wire types of purse-types.

use purse_consensus as pc;
use purse_types::{Block, ChainId, CommitSig, Hash, Keypair, PublicKey, Signature, ValidatorSet, VoteKind};

/// The chain's consensus context: validators are public keys, values are blocks identified by their id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurseCtx;

impl pc::Context for PurseCtx {
    type Address = PublicKey;
    type Value = Block;
    type ValueId = Hash;
    type Signature = Signature;

    fn value_id(value: &Block) -> Hash {
        value.id()
    }
}

/// Core vote → wire vote.
pub fn to_wire_vote(v: &pc::Vote<PurseCtx>) -> purse_types::Vote {
    purse_types::Vote {
        height: v.height,
        round: v.round,
        kind: match v.vote_type {
            pc::VoteType::Prevote => VoteKind::Prevote,
            pc::VoteType::Precommit => VoteKind::Precommit,
        },
        block_id: v.value.value(),
        validator: v.validator,
    }
}

/// Wire vote → core vote.
pub fn from_wire_vote(v: &purse_types::SignedVote) -> pc::SignedVote<PurseCtx> {
    let w = &v.vote;
    pc::SignedVote {
        vote: pc::Vote {
            vote_type: match w.kind {
                VoteKind::Prevote => pc::VoteType::Prevote,
                VoteKind::Precommit => pc::VoteType::Precommit,
            },
            height: w.height,
            round: w.round,
            value: match w.block_id {
                Some(id) => pc::NilOrVal::Val(id),
                None => pc::NilOrVal::Nil,
            },
            validator: w.validator,
        },
        signature: v.signature,
    }
}

/// Core proposal → wire proposal (the block travels beside it).
pub fn to_wire_proposal(p: &pc::Proposal<PurseCtx>) -> purse_types::Proposal {
    purse_types::Proposal {
        height: p.height,
        round: p.round,
        pol_round: p.pol_round,
        block_id: p.value.id(),
        proposer: p.proposer,
    }
}

/// Wire proposal + block → core proposal, if the block is the one the proposal names.
pub fn from_wire_proposal(
    p: &purse_types::SignedProposal,
    block: Block,
) -> Option<pc::SignedProposal<PurseCtx>> {
    if block.id() != p.proposal.block_id {
        return None;
    }
    Some(pc::SignedProposal {
        proposal: pc::Proposal {
            height: p.proposal.height,
            round: p.proposal.round,
            value: block,
            pol_round: p.proposal.pol_round,
            proposer: p.proposal.proposer,
        },
        signature: p.signature,
    })
}

/// Signs a core vote with the wire format's sign bytes.
pub fn sign_vote(chain: &ChainId, key: &Keypair, v: &pc::Vote<PurseCtx>) -> purse_types::SignedVote {
    to_wire_vote(v).sign(chain, key)
}

/// The core's certificate as a wire certificate (signatures ordered by validator index in `set`).
pub fn to_wire_certificate(
    cert: &pc::CommitCertificate<PurseCtx>,
    set: &ValidatorSet,
) -> purse_types::CommitCertificate {
    let mut signatures: Vec<CommitSig> = cert
        .precommits
        .iter()
        .filter_map(|sv| {
            let (idx, _) = set.find(&sv.vote.validator)?;
            Some(CommitSig { validator_index: u16::try_from(idx).ok()?, signature: sv.signature })
        })
        .collect();
    signatures.sort_by_key(|s| s.validator_index);
    signatures.dedup_by_key(|s| s.validator_index);
    purse_types::CommitCertificate {
        height: cert.height,
        round: cert.round,
        block_id: cert.value_id,
        signatures,
    }
}

/// A validator set for the core (with fresh proposer priorities).
pub fn core_validator_set(set: &ValidatorSet) -> Result<pc::ValidatorSet<PurseCtx>, pc::ValidatorSetError> {
    pc::ValidatorSet::new(
        set.validators().iter().map(|v| pc::Validator::new(v.public_key, v.power)).collect(),
    )
}
