//! Public-key validity (proof of possession): knowledge of `s` with `s·P = H`. Registration requires it,
//! so nobody registers a key it cannot decrypt with (rogue or copied keys), and it is bound to the
//! registering account, chain, nonce and asset.

use super::Msm;
use crate::encoding::{Pt, Sc};
use crate::error::CryptoError;
use crate::keys::{ElGamalKeypair, ElGamalPubkey};
use crate::transcript::{account_transcript, AccountContext, TranscriptExt};
use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

/// `Y = y·P`, `z = c·s + y`; verifier: `z·P = c·H + Y`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct PubkeyValidityProof {
    y: Pt,
    z: Sc,
}

fn registration_transcript(ctx: &AccountContext, pubkey: &ElGamalPubkey) -> Transcript {
    let mut t = account_transcript(b"register-elgamal-pubkey", ctx);
    t.append_pt(b"pubkey", &pubkey.0);
    t
}

impl PubkeyValidityProof {
    /// Proves possession of `keypair`'s secret for registration under `ctx`.
    pub fn new<R: RngCore + CryptoRng>(keypair: &ElGamalKeypair, ctx: &AccountContext, rng: &mut R) -> Self {
        let mut t = registration_transcript(ctx, keypair.pubkey());
        Self::prove(keypair, &mut t, rng)
    }

    /// Verifies it for `pubkey` under `ctx`.
    pub fn verify(&self, pubkey: &ElGamalPubkey, ctx: &AccountContext) -> Result<(), CryptoError> {
        let mut t = registration_transcript(ctx, pubkey);
        let mut msm = Msm::default();
        self.verify_into(pubkey, &mut t, Scalar::ONE, &mut msm);
        if msm.check() {
            Ok(())
        } else {
            Err(CryptoError::PubkeyValidity)
        }
    }

    pub(crate) fn prove<R: RngCore + CryptoRng>(
        keypair: &ElGamalKeypair,
        t: &mut Transcript,
        rng: &mut R,
    ) -> Self {
        t.append_message(b"dom-sep", b"pubkey-validity-proof");
        let y_nonce = Zeroizing::new(Scalar::random(rng));
        let y = Pt::from_point(*y_nonce * keypair.pubkey().point());
        t.append_pt(b"Y", &y);
        let c = t.challenge_scalar(b"c");
        let z = c * keypair.secret().0 + *y_nonce;
        t.append_scalar(b"z", &z);
        PubkeyValidityProof { y, z: Sc(z) }
    }

    pub(crate) fn verify_into(
        &self,
        pubkey: &ElGamalPubkey,
        t: &mut Transcript,
        weight: Scalar,
        msm: &mut Msm,
    ) {
        t.append_message(b"dom-sep", b"pubkey-validity-proof");
        t.append_pt(b"Y", &self.y);
        let c = t.challenge_scalar(b"c");
        t.append_scalar(b"z", &self.z.0);
        // z·P − c·H − Y = 0
        msm.add(weight * self.z.0, &pubkey.0);
        msm.add_h(-(weight * c));
        msm.add(-weight, &self.y);
    }
}
