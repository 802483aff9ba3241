//! Zero balance: the ciphertext `(C, D)` under `P` encrypts 0 — knowledge of `s` with `s·P = H` and
//! `C = s·D`. Lets an owner close a confidential account. `Y_P = y·P`, `Y_D = y·D`, `z = c·s + y`;
//! verifier: `z·P = c·H + Y_P`, `z·D = c·C + Y_D`.

use super::Msm;
use crate::elgamal::ElGamalCiphertext;
use crate::encoding::{Pt, Sc};
use crate::error::CryptoError;
use crate::keys::{ElGamalKeypair, ElGamalPubkey};
use crate::transcript::{account_transcript, AccountContext, TranscriptExt};
use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

/// The proof: two points and a scalar.
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct ZeroBalanceProof {
    y_p: Pt,
    y_d: Pt,
    z: Sc,
}

fn transcript(ctx: &AccountContext, pubkey: &ElGamalPubkey, ct: &ElGamalCiphertext) -> Transcript {
    let mut t = account_transcript(b"zero-balance", ctx);
    t.append_pt(b"pubkey", &pubkey.0);
    t.append_pt(b"C", &ct.commitment.0);
    t.append_pt(b"D", &ct.handle.0);
    t.append_message(b"dom-sep", b"zero-balance-proof");
    t
}

impl ZeroBalanceProof {
    /// Proves that `ct` (the account's available balance) encrypts zero under `keypair`.
    pub fn new<R: RngCore + CryptoRng>(
        keypair: &ElGamalKeypair,
        ct: &ElGamalCiphertext,
        ctx: &AccountContext,
        rng: &mut R,
    ) -> Self {
        let mut t = transcript(ctx, keypair.pubkey(), ct);
        let y = Zeroizing::new(Scalar::random(rng));
        let y_p = Pt::from_point(*y * keypair.pubkey().point());
        let y_d = Pt::from_point(*y * ct.handle.point());
        t.append_pt(b"Y_P", &y_p);
        t.append_pt(b"Y_D", &y_d);
        let c = t.challenge_scalar(b"c");
        let z = c * keypair.secret().0 + *y;
        ZeroBalanceProof { y_p, y_d, z: Sc(z) }
    }

    /// Verifies against the account's key and stored balance ciphertext.
    pub fn verify(
        &self,
        pubkey: &ElGamalPubkey,
        ct: &ElGamalCiphertext,
        ctx: &AccountContext,
    ) -> Result<(), CryptoError> {
        let mut t = transcript(ctx, pubkey, ct);
        t.append_pt(b"Y_P", &self.y_p);
        t.append_pt(b"Y_D", &self.y_d);
        let c = t.challenge_scalar(b"c");
        t.append_scalar(b"z", &self.z.0);
        let w = t.challenge_scalar(b"w");
        let mut msm = Msm::default();
        msm.add(self.z.0, &pubkey.0);
        msm.add_h(-c);
        msm.add(-Scalar::ONE, &self.y_p);
        msm.add(w * self.z.0, &ct.handle.0);
        msm.add(-(w * c), &ct.commitment.0);
        msm.add(-w, &self.y_d);
        if msm.check() {
            Ok(())
        } else {
            Err(CryptoError::SigmaProof)
        }
    }
}
