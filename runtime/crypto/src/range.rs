//! Aggregated range proofs (bulletproofs 5) and the limb decomposition that makes 16-bit and 32-bit bounds
//! sound with one aggregation size.
//!
//! bulletproofs proves every aggregated value in `[0, 2^n)` for one `n` and a power-of-two count. A
//! transfer needs `lo < 2^16`, `hi < 2^32` and the remaining balance `< 2^64`. Proving `2^48·lo < 2^64`
//! alone would be unsound: the relation holds mod ℓ, so `lo = 2^-48·v mod ℓ` passes for any small `v`.
//! Instead every value is written in 16-bit limbs, each committed separately and proved in `[0, 2^16)`:
//! `lo` (1 limb), `hi = h0 + 2^16·h1` (2), balance `= Σ 2^(16i)·b_i` (4), plus one zero pad = 8 × 16 bits.
//! The verifier derives `C_hi` and `C'` from the limb commitments, so the sums are integers below
//! `2^32` and `2^64` — far below ℓ ≈ 2^252, no wrap-around — and `lo + 2^16·hi < 2^48`.

use crate::error::CryptoError;
use crate::pedersen::{bulletproof_gens, pedersen_gens};
use borsh::io::{Error, ErrorKind, Read, Result as IoResult, Write};
use borsh::{BorshDeserialize, BorshSerialize};
use bulletproofs::RangeProof;
use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};

/// Largest range proof accepted on the wire (8 × 64 bits: 2·9 + 9 elements of 32 bytes).
pub const MAX_RANGE_PROOF_LEN: usize = 32 * (2 * 9 + 9);

/// A bulletproofs range proof with a borsh wire form (`u32` length + bytes, scalars canonical).
#[derive(Clone, Debug)]
pub struct RangeProofBytes {
    pub(crate) proof: RangeProof,
    bytes: Vec<u8>,
}

impl RangeProofBytes {
    fn from_proof(proof: RangeProof) -> Self {
        let bytes = proof.to_bytes();
        RangeProofBytes { proof, bytes }
    }
    /// The serialized proof.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// Parses a proof (scalars must be canonical; points are checked during verification).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() > MAX_RANGE_PROOF_LEN {
            return Err(CryptoError::Decode("range proof too long"));
        }
        let proof =
            RangeProof::from_bytes(bytes).map_err(|_| CryptoError::Decode("malformed range proof"))?;
        Ok(RangeProofBytes { proof, bytes: bytes.to_vec() })
    }
}

impl PartialEq for RangeProofBytes {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for RangeProofBytes {}

impl BorshSerialize for RangeProofBytes {
    fn serialize<W: Write>(&self, writer: &mut W) -> IoResult<()> {
        (self.bytes.len() as u32).serialize(writer)?;
        writer.write_all(&self.bytes)
    }
}

impl BorshDeserialize for RangeProofBytes {
    fn deserialize_reader<R: Read>(reader: &mut R) -> IoResult<Self> {
        let len = u32::deserialize_reader(reader)? as usize;
        if len > MAX_RANGE_PROOF_LEN {
            return Err(Error::new(ErrorKind::InvalidData, "range proof too long"));
        }
        let mut bytes = vec![0u8; len];
        reader.read_exact(&mut bytes)?;
        RangeProofBytes::from_slice(&bytes)
            .map_err(|_| Error::new(ErrorKind::InvalidData, "malformed range proof"))
    }
}

/// Proves `values[i] ∈ [0, 2^bits)` for commitments `values[i]·G + openings[i]·H`, continuing `t`.
pub(crate) fn prove<R: RngCore + CryptoRng>(
    t: &mut Transcript,
    values: &[u64],
    openings: &[Scalar],
    bits: usize,
    rng: &mut R,
) -> Result<(RangeProofBytes, Vec<CompressedRistretto>), CryptoError> {
    let (proof, commitments) = RangeProof::prove_multiple_with_rng(
        bulletproof_gens(),
        pedersen_gens(),
        t,
        values,
        openings,
        bits,
        rng,
    )
    .map_err(|_| CryptoError::Prover("range proof"))?;
    Ok((RangeProofBytes::from_proof(proof), commitments))
}

/// Verifies, continuing `t`. `rng` only draws bulletproofs' internal combination weight.
pub(crate) fn verify<R: RngCore + CryptoRng>(
    proof: &RangeProofBytes,
    t: &mut Transcript,
    commitments: &[CompressedRistretto],
    bits: usize,
    rng: &mut R,
) -> Result<(), CryptoError> {
    proof
        .proof
        .verify_multiple_with_rng(bulletproof_gens(), pedersen_gens(), t, commitments, bits, rng)
        .map_err(|_| CryptoError::RangeProof)
}

/// Splits `v` into `count` little-endian 16-bit limbs.
pub(crate) fn limbs16(v: u64, count: usize) -> Vec<u64> {
    (0..count).map(|i| (v >> (16 * i)) & 0xffff).collect()
}
