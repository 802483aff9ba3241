//! A small test [`Context`]: validators are `u32`s, values are small `Copy` structs that are their own id,
//! signatures are a deterministic digest of the message and the signer.
#![allow(dead_code, clippy::unwrap_used)]

use std::hash::{DefaultHasher, Hash, Hasher};

use purse_consensus::{
    Context, NilOrVal, Params, Proposal, SignedProposal, SignedVote, TimeoutConfig, Validator, ValidatorSet,
    Vote, VoteType,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCtx;

/// A value: `valid` is what an honest app's validation returns (together with the height matching).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TestValue {
    pub height: u64,
    pub proposer: u32,
    pub nonce: u64,
    pub valid: bool,
}

impl Context for TestCtx {
    type Address = u32;
    type Value = TestValue;
    type ValueId = TestValue;
    type Signature = u64;

    fn value_id(value: &TestValue) -> TestValue {
        *value
    }
}

pub fn value(height: u64, nonce: u64) -> TestValue {
    TestValue { height, proposer: 0, nonce, valid: true }
}

fn digest(parts: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

pub fn vote_digest(v: &Vote<TestCtx>) -> u64 {
    digest((v.vote_type == VoteType::Prevote, v.height, v.round, v.value, v.validator))
}

pub fn proposal_digest(p: &Proposal<TestCtx>) -> u64 {
    digest((p.height, p.round, p.value, p.pol_round, p.proposer))
}

pub fn sign_vote(v: Vote<TestCtx>) -> SignedVote<TestCtx> {
    let signature = vote_digest(&v);
    SignedVote { vote: v, signature }
}

pub fn sign_proposal(p: Proposal<TestCtx>) -> SignedProposal<TestCtx> {
    let signature = proposal_digest(&p);
    SignedProposal { proposal: p, signature }
}

pub fn vote(t: VoteType, h: u64, r: u32, val: Option<TestValue>, from: u32) -> SignedVote<TestCtx> {
    let value = match val {
        Some(v) => NilOrVal::Val(v),
        None => NilOrVal::Nil,
    };
    sign_vote(Vote { vote_type: t, height: h, round: r, value, validator: from })
}

pub fn equal_set(n: u32) -> ValidatorSet<TestCtx> {
    ValidatorSet::new((0..n).map(|a| Validator::new(a, 1)).collect()).unwrap()
}

pub fn params(me: Option<u32>) -> Params<TestCtx> {
    Params { address: me, timeouts: TimeoutConfig::default() }
}
