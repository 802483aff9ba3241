//! Ciphertext–commitment equality: the ciphertext `(C_e, D_e)` under `P` and the fresh commitment
//! `C' = x·G + r'·H` hold the same `x`. Used for the sender's remaining balance (the balance ciphertext
//! minus the transfer, re-committed with fresh randomness so it can be range-proved) and for withdrawals.
//!
//! Witness `(s, x, r')` with `s·P = H`, `C_e − s·D_e = x·G`, `C' = x·G + r'·H`.
//! `Y0 = y_s·P`, `Y1 = y_x·G + y_s·D_e`, `Y2 = y_x·G + y_r·H`; `z_s = c·s + y_s`, `z_x = c·x + y_x`,
//! `z_r = c·r' + y_r`. Verifier: `z_s·P = c·H + Y0`, `z_x·G + z_s·D_e = c·C_e + Y1`,
//! `z_x·G + z_r·H = c·C' + Y2`, combined with weights `1, w, w²`.

use super::{Lin, Msm};
use crate::encoding::{Pt, Sc};
use crate::keys::ElGamalKeypair;
use crate::pedersen::{g, h};
use crate::transcript::TranscriptExt;
use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

/// The proof: three points, three scalars (192 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct CiphertextCommitmentEqualityProof {
    y0: Pt,
    y1: Pt,
    y2: Pt,
    z_s: Sc,
    z_x: Sc,
    z_r: Sc,
}

/// The statement, with derived points as linear combinations of wire points.
pub(crate) struct EqualityStatement<'a> {
    pub pubkey: &'a Pt,
    pub ct_commitment: Lin,
    pub ct_handle: Lin,
    pub commitment: Lin,
}

const DOM: &[u8] = b"ciphertext-commitment-equality-proof";

impl CiphertextCommitmentEqualityProof {
    /// `x` and `r'` are the value and opening of the commitment; `ct_handle` is the evaluated `D_e`.
    pub(crate) fn prove<R: RngCore + CryptoRng>(
        keypair: &ElGamalKeypair,
        ct_handle: &RistrettoPoint,
        x: &Scalar,
        r: &Scalar,
        t: &mut Transcript,
        rng: &mut R,
    ) -> Self {
        t.append_message(b"dom-sep", DOM);
        let y_s = Zeroizing::new(Scalar::random(rng));
        let y_x = Zeroizing::new(Scalar::random(rng));
        let y_r = Zeroizing::new(Scalar::random(rng));
        let y0 = Pt::from_point(*y_s * keypair.pubkey().point());
        let y1 = Pt::from_point(*y_x * g() + *y_s * ct_handle);
        let y2 = Pt::from_point(*y_x * g() + *y_r * h());
        t.append_pt(b"Y0", &y0);
        t.append_pt(b"Y1", &y1);
        t.append_pt(b"Y2", &y2);
        let c = t.challenge_scalar(b"c");
        let z_s = c * keypair.secret().0 + *y_s;
        let z_x = c * x + *y_x;
        let z_r = c * r + *y_r;
        t.append_scalar(b"z_s", &z_s);
        t.append_scalar(b"z_x", &z_x);
        t.append_scalar(b"z_r", &z_r);
        let _w = t.challenge_scalar(b"w");
        CiphertextCommitmentEqualityProof { y0, y1, y2, z_s: Sc(z_s), z_x: Sc(z_x), z_r: Sc(z_r) }
    }

    pub(crate) fn verify_into(&self, st: &EqualityStatement<'_>, t: &mut Transcript, msm: &mut Msm) {
        t.append_message(b"dom-sep", DOM);
        t.append_pt(b"Y0", &self.y0);
        t.append_pt(b"Y1", &self.y1);
        t.append_pt(b"Y2", &self.y2);
        let c = t.challenge_scalar(b"c");
        let (z_s, z_x, z_r) = (self.z_s.0, self.z_x.0, self.z_r.0);
        t.append_scalar(b"z_s", &z_s);
        t.append_scalar(b"z_x", &z_x);
        t.append_scalar(b"z_r", &z_r);
        let w = t.challenge_scalar(b"w");
        let ww = w * w;
        // z_s·P − c·H − Y0 = 0
        msm.add(z_s, st.pubkey);
        msm.add_h(-c);
        msm.add(-Scalar::ONE, &self.y0);
        // w·(z_x·G + z_s·D_e − c·C_e − Y1) = 0
        msm.add_g(w * z_x);
        msm.add_lin(w * z_s, &st.ct_handle);
        msm.add_lin(-(w * c), &st.ct_commitment);
        msm.add(-w, &self.y1);
        // w²·(z_x·G + z_r·H − c·C' − Y2) = 0
        msm.add_g(ww * z_x);
        msm.add_h(ww * z_r);
        msm.add_lin(-(ww * c), &st.commitment);
        msm.add(-ww, &self.y2);
    }
}
