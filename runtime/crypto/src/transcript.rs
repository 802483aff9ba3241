//! Merlin transcripts: one domain-separated transcript per statement, absorbing the chain id, the parties,
//! the nonce, the asset, every public key and every commitment/handle before any challenge is drawn.

use crate::encoding::Pt;
use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use purse_types::{Address, AssetId, ChainId};

/// Protocol label of every transcript of this crate (version 1).
pub const PROTOCOL_LABEL: &[u8] = b"purse-crypto v1";

/// What a confidential transfer is bound to: a proof replayed with any field changed fails.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TransferContext {
    /// The chain (no cross-chain replay).
    pub chain_id: ChainId,
    /// The remitter's account address.
    pub sender: Address,
    /// The remittee's account address.
    pub recipient: Address,
    /// The sender's transaction nonce (no replay on the same chain).
    pub nonce: u64,
    /// The asset moved.
    pub asset: AssetId,
}

/// What a single-account proof (registration, withdraw, close) is bound to.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AccountContext {
    /// The chain.
    pub chain_id: ChainId,
    /// The account owner's address.
    pub owner: Address,
    /// The owner's transaction nonce.
    pub nonce: u64,
    /// The asset of the confidential account.
    pub asset: AssetId,
}

/// Transcript helpers.
pub(crate) trait TranscriptExt {
    fn append_pt(&mut self, label: &'static [u8], p: &Pt);
    fn append_scalar(&mut self, label: &'static [u8], s: &Scalar);
    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar;
}

impl TranscriptExt for Transcript {
    fn append_pt(&mut self, label: &'static [u8], p: &Pt) {
        self.append_message(label, p.as_bytes());
    }
    fn append_scalar(&mut self, label: &'static [u8], s: &Scalar) {
        self.append_message(label, s.as_bytes());
    }
    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar {
        let mut wide = [0u8; 64];
        self.challenge_bytes(label, &mut wide);
        Scalar::from_bytes_mod_order_wide(&wide)
    }
}

fn absorb_chain(t: &mut Transcript, chain_id: &ChainId) {
    t.append_message(b"chain-id", chain_id.as_str().as_bytes());
}

/// A fresh transcript for a confidential transfer, with its context absorbed.
pub(crate) fn transfer_transcript(ctx: &TransferContext) -> Transcript {
    let mut t = Transcript::new(PROTOCOL_LABEL);
    t.append_message(b"dom-sep", b"confidential-transfer");
    absorb_chain(&mut t, &ctx.chain_id);
    t.append_message(b"sender", &ctx.sender.0);
    t.append_message(b"recipient", &ctx.recipient.0);
    t.append_u64(b"nonce", ctx.nonce);
    t.append_message(b"asset", &ctx.asset.0);
    t
}

/// A fresh transcript for a single-account statement of `kind` (registration, withdraw, close).
pub(crate) fn account_transcript(kind: &'static [u8], ctx: &AccountContext) -> Transcript {
    let mut t = Transcript::new(PROTOCOL_LABEL);
    t.append_message(b"dom-sep", kind);
    absorb_chain(&mut t, &ctx.chain_id);
    t.append_message(b"owner", &ctx.owner.0);
    t.append_u64(b"nonce", ctx.nonce);
    t.append_message(b"asset", &ctx.asset.0);
    t
}
