//! Sigma protocols (Fiat–Shamir through merlin). Every verifier turns its equations `… = 0` into weighted
//! terms of one multiscalar multiplication, so a transfer — or a whole block of transfers — is checked by a
//! single variable-time MSM. Equation weights are transcript challenges drawn after the responses are
//! absorbed; batch weights are hashes of every item's complete transcript (deterministic, as ADR 0002).

pub mod equality;
pub mod pubkey_validity;
pub mod validity;
pub mod zero_balance;

use crate::encoding::Pt;
use crate::pedersen::{g, h};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};

/// A point given as a public linear combination of wire points (e.g. `B − C_lo − 2^16·(h0 + 2^16·h1)`),
/// so verifiers fold it into the MSM instead of computing it.
#[derive(Clone, Default)]
pub(crate) struct Lin(pub(crate) Vec<(Scalar, Pt)>);

impl Lin {
    pub(crate) fn one(p: &Pt) -> Self {
        Lin(vec![(Scalar::ONE, *p)])
    }
    pub(crate) fn plus(mut self, s: Scalar, p: &Pt) -> Self {
        self.0.push((s, *p));
        self
    }
    /// The point itself (prover side; public data, variable time is fine).
    pub(crate) fn eval(&self) -> RistrettoPoint {
        RistrettoPoint::vartime_multiscalar_mul(
            self.0.iter().map(|(s, _)| *s),
            self.0.iter().map(|(_, p)| p.point),
        )
    }
}

/// Terms of a multiscalar multiplication that must equal the identity. Terms on the same point are merged.
#[derive(Default)]
pub(crate) struct Msm {
    g: Scalar,
    h: Scalar,
    terms: Vec<(Scalar, Pt)>,
}

impl Msm {
    pub(crate) fn add_g(&mut self, s: Scalar) {
        self.g += s;
    }
    pub(crate) fn add_h(&mut self, s: Scalar) {
        self.h += s;
    }
    pub(crate) fn add(&mut self, s: Scalar, p: &Pt) {
        if let Some(t) = self.terms.iter_mut().find(|t| t.1 == *p) {
            t.0 += s;
        } else {
            self.terms.push((s, *p));
        }
    }
    pub(crate) fn add_lin(&mut self, s: Scalar, l: &Lin) {
        for (c, p) in &l.0 {
            self.add(s * c, p);
        }
    }
    /// Appends `weight · other` (batching across items; no merging across items).
    pub(crate) fn absorb_scaled(&mut self, weight: Scalar, other: &Msm) {
        self.g += weight * other.g;
        self.h += weight * other.h;
        self.terms.extend(other.terms.iter().map(|(s, p)| (weight * s, *p)));
    }
    /// True iff the combination is the identity.
    pub(crate) fn check(&self) -> bool {
        let scalars = self.terms.iter().map(|t| t.0).chain([self.g, self.h]);
        let points = self.terms.iter().map(|t| t.1.point).chain([g(), h()]);
        RistrettoPoint::vartime_multiscalar_mul(scalars, points).is_identity()
    }
}
