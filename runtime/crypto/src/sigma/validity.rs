//! Grouped-ciphertext validity, batched over the two halves of a transfer amount: each of
//! `(C_lo, D_lo,i)` and `(C_hi, D_hi,i)` is `(x·G + r·H, r·P_i)` with one `(x, r)` for all handles `i`
//! (source, destination, optional auditor). This is the proof that every reader can open what it gets.
//!
//! With `t` a challenge drawn after both ciphertexts are absorbed, the prover shows validity of
//! `C = C_lo + t·C_hi`, `D_i = D_lo,i + t·D_hi,i` (if either half were invalid, at most one `t` makes the
//! sum valid). `Y0 = y_r·H + y_x·G`, `Y_i = y_r·P_i`; `z_r = c·r + y_r`, `z_x = c·x + y_x`.
//! Verifier: `z_r·H + z_x·G = c·C + Y0` and `z_r·P_i = c·D_i + Y_i`, weighted by powers of `w`.

use super::{Lin, Msm};
use crate::encoding::{Pt, Sc};
use crate::error::CryptoError;
use crate::pedersen::{g, h};
use crate::transcript::TranscriptExt;
use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

/// The proof: 3 or 4 points and two scalars.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct GroupedCiphertextValidityProof {
    y0: Pt,
    y_source: Pt,
    y_destination: Pt,
    y_auditor: Option<Pt>,
    z_r: Sc,
    z_x: Sc,
}

/// One reader: its key and its handles on the lo and hi commitments.
pub(crate) struct HandleStatement<'a> {
    pub pubkey: &'a Pt,
    pub lo: Lin,
    pub hi: Lin,
}

pub(crate) struct ValidityStatement<'a> {
    pub c_lo: Lin,
    pub c_hi: Lin,
    /// source, destination, then optionally auditor.
    pub handles: Vec<HandleStatement<'a>>,
}

const DOM: &[u8] = b"batched-grouped-ciphertext-validity-proof";

impl GroupedCiphertextValidityProof {
    /// `pubkeys`: source, destination, optionally auditor.
    pub(crate) fn prove<R: RngCore + CryptoRng>(
        pubkeys: &[RistrettoPoint],
        (x_lo, r_lo): (&Scalar, &Scalar),
        (x_hi, r_hi): (&Scalar, &Scalar),
        t: &mut Transcript,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        if !(2..=3).contains(&pubkeys.len()) {
            return Err(CryptoError::Prover("validity proof needs 2 or 3 keys"));
        }
        t.append_message(b"dom-sep", DOM);
        let tt = t.challenge_scalar(b"t");
        let x = Zeroizing::new(x_lo + tt * x_hi);
        let r = Zeroizing::new(r_lo + tt * r_hi);
        let y_r = Zeroizing::new(Scalar::random(rng));
        let y_x = Zeroizing::new(Scalar::random(rng));
        let y0 = Pt::from_point(*y_r * h() + *y_x * g());
        let ys: Vec<Pt> = pubkeys.iter().map(|p| Pt::from_point(*y_r * p)).collect();
        t.append_pt(b"Y0", &y0);
        for y in &ys {
            t.append_pt(b"Yi", y);
        }
        let c = t.challenge_scalar(b"c");
        let z_r = c * *r + *y_r;
        let z_x = c * *x + *y_x;
        t.append_scalar(b"z_r", &z_r);
        t.append_scalar(b"z_x", &z_x);
        let _w = t.challenge_scalar(b"w");
        let mut it = ys.into_iter();
        let (Some(y_source), Some(y_destination)) = (it.next(), it.next()) else {
            return Err(CryptoError::Prover("validity proof needs 2 or 3 keys"));
        };
        Ok(GroupedCiphertextValidityProof {
            y0,
            y_source,
            y_destination,
            y_auditor: it.next(),
            z_r: Sc(z_r),
            z_x: Sc(z_x),
        })
    }

    pub(crate) fn verify_into(
        &self,
        st: &ValidityStatement<'_>,
        t: &mut Transcript,
        msm: &mut Msm,
    ) -> Result<(), CryptoError> {
        let mut ys = vec![&self.y_source, &self.y_destination];
        if let Some(a) = &self.y_auditor {
            ys.push(a);
        }
        if ys.len() != st.handles.len() {
            return Err(CryptoError::AuditorMismatch);
        }
        t.append_message(b"dom-sep", DOM);
        let tt = t.challenge_scalar(b"t");
        t.append_pt(b"Y0", &self.y0);
        for y in &ys {
            t.append_pt(b"Yi", y);
        }
        let c = t.challenge_scalar(b"c");
        let (z_r, z_x) = (self.z_r.0, self.z_x.0);
        t.append_scalar(b"z_r", &z_r);
        t.append_scalar(b"z_x", &z_x);
        let w = t.challenge_scalar(b"w");
        // z_r·H + z_x·G − c·(C_lo + t·C_hi) − Y0 = 0
        msm.add_h(z_r);
        msm.add_g(z_x);
        msm.add_lin(-c, &st.c_lo);
        msm.add_lin(-(c * tt), &st.c_hi);
        msm.add(-Scalar::ONE, &self.y0);
        // w^i·(z_r·P_i − c·(D_lo,i + t·D_hi,i) − Y_i) = 0
        let mut wi = w;
        for (hs, y) in st.handles.iter().zip(ys) {
            msm.add(wi * z_r, hs.pubkey);
            msm.add_lin(-(wi * c), &hs.lo);
            msm.add_lin(-(wi * c * tt), &hs.hi);
            msm.add(-wi, y);
            wi *= w;
        }
        Ok(())
    }
}
