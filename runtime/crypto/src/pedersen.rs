//! Pedersen commitments `C = a·G + r·H` over bulletproofs' generators, created once per process.

use crate::encoding::Pt;
use borsh::{BorshDeserialize, BorshSerialize};
use bulletproofs::{BulletproofGens, PedersenGens};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::{CryptoRng, RngCore};
use std::sync::OnceLock;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Bit size of one range-proof limb in transfers (all aggregated values share it).
pub const LIMB_BITS: usize = 16;
/// Values aggregated in one transfer range proof (a power of two).
pub const TRANSFER_RANGE_PARTIES: usize = 8;
/// Bit size of the single withdraw range proof.
pub const WITHDRAW_RANGE_BITS: usize = 64;

/// bulletproofs' Pedersen generators: `G` = `B` (the Ristretto basepoint, carries the amount) and
/// `H` = `B_blinding` (carries the opening). Created once.
pub fn pedersen_gens() -> &'static PedersenGens {
    static GENS: OnceLock<PedersenGens> = OnceLock::new();
    GENS.get_or_init(PedersenGens::default)
}

/// bulletproofs' vector generators, sized for 64 bits × 8 parties (covers 8 × 16 and 1 × 64). Created once.
pub fn bulletproof_gens() -> &'static BulletproofGens {
    static GENS: OnceLock<BulletproofGens> = OnceLock::new();
    GENS.get_or_init(|| BulletproofGens::new(64, TRANSFER_RANGE_PARTIES))
}

/// The amount generator `G`.
pub fn g() -> RistrettoPoint {
    pedersen_gens().B
}

/// The opening generator `H`.
pub fn h() -> RistrettoPoint {
    pedersen_gens().B_blinding
}

/// The random opening `r` of a commitment. Secret; zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PedersenOpening(pub(crate) Scalar);

impl PedersenOpening {
    /// A fresh uniformly random opening.
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        PedersenOpening(Scalar::random(rng))
    }
    /// The zero opening (public deposits and withdrawals).
    pub fn zero() -> Self {
        PedersenOpening(Scalar::ZERO)
    }
    /// Wraps a scalar.
    pub fn from_scalar(s: Scalar) -> Self {
        PedersenOpening(s)
    }
    /// The scalar.
    pub fn as_scalar(&self) -> &Scalar {
        &self.0
    }
}

impl std::fmt::Debug for PedersenOpening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PedersenOpening(..)")
    }
}

/// A Pedersen commitment `a·G + r·H` (32 bytes on the wire, canonical Ristretto).
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct PedersenCommitment(pub(crate) Pt);

impl PedersenCommitment {
    /// Commits to `amount` with `opening` (constant time in both).
    pub fn new(amount: Scalar, opening: &PedersenOpening) -> Self {
        PedersenCommitment(Pt::from_point(pedersen_gens().commit(amount, opening.0)))
    }
    /// Commits to a `u64` amount.
    pub fn from_u64(amount: u64, opening: &PedersenOpening) -> Self {
        Self::new(Scalar::from(amount), opening)
    }
    /// The point.
    pub fn point(&self) -> RistrettoPoint {
        self.0.point
    }
    /// The canonical 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.compressed.to_bytes()
    }
    pub(crate) fn from_point(p: RistrettoPoint) -> Self {
        PedersenCommitment(Pt::from_point(p))
    }
}

/// `2^k · P` by doubling (public points only: variable time is fine, and it is far cheaper than a full
/// scalar multiplication).
pub(crate) fn mul_pow2(p: RistrettoPoint, k: u32) -> RistrettoPoint {
    let mut q = p;
    for _ in 0..k {
        q = q + q;
    }
    q
}

/// `2^k` as a scalar (k < 252).
pub(crate) fn pow2(k: u32) -> Scalar {
    let mut b = [0u8; 32];
    b[(k / 8) as usize] = 1u8 << (k % 8);
    Scalar::from_bytes_mod_order(b)
}
