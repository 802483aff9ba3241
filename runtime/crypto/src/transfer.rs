//! Confidential transfer: the bundle a remitter submits, its prover, and the chain-side verifier
//! (single and batched) returning the ciphertexts to apply.

use crate::elgamal::{DecryptHandle, ElGamalCiphertext, GroupedCiphertext, TransferHandles};
use crate::encoding::Pt;
use crate::error::CryptoError;
use crate::keys::{ElGamalKeypair, ElGamalPubkey};
use crate::pedersen::{
    mul_pow2, pow2, PedersenCommitment, PedersenOpening, LIMB_BITS, TRANSFER_RANGE_PARTIES,
};
use crate::range::{self, limbs16, RangeProofBytes};
use crate::sigma::equality::{CiphertextCommitmentEqualityProof, EqualityStatement};
use crate::sigma::validity::{GroupedCiphertextValidityProof, HandleStatement, ValidityStatement};
use crate::sigma::{Lin, Msm};
use crate::transcript::{transfer_transcript, TranscriptExt, TransferContext};
use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};
use zeroize::Zeroizing;

/// Largest amount one transfer can carry: `lo` (16 bits) + `2^16 · hi` (32 bits) = 48 bits.
pub const MAX_TRANSFER_AMOUNT: u64 = (1u64 << 48) - 1;

/// What a remitter submits: the amount as two grouped ciphertexts (lo 16 bits, hi 32 bits) readable by
/// source, destination and optional auditor; the remaining balance re-committed in four 16-bit limbs;
/// the sigma proofs and one aggregated range proof (8 × 16 bits). About 1.5 KB.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct TransferBundle {
    /// `lo·G + r_lo·H` with its handles.
    pub amount_lo: GroupedCiphertext,
    /// Commitments to the two 16-bit limbs of `hi`; `C_hi = h0 + 2^16·h1`.
    pub amount_hi_limbs: [PedersenCommitment; 2],
    /// Handles `r_hi·P` on `C_hi`.
    pub amount_hi_handles: TransferHandles,
    /// Commitments to the four 16-bit limbs of the remitter's remaining balance; `C' = Σ 2^(16i)·b_i`.
    pub new_balance_limbs: [PedersenCommitment; 4],
    /// Remaining-balance ciphertext and `C'` hold the same value.
    pub equality_proof: CiphertextCommitmentEqualityProof,
    /// Every handle opens its commitment (lo and hi, batched).
    pub validity_proof: GroupedCiphertextValidityProof,
    /// `lo, h0, h1, b0..b3 ∈ [0, 2^16)` (and a zero pad), aggregated.
    pub range_proof: RangeProofBytes,
}

/// The state changes a verified transfer implies.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TransferEffects {
    /// The remitter's new available balance: old available − amount (replace the stored one with this).
    pub source_new_available: ElGamalCiphertext,
    /// The amount under the remittee's key (`lo + 2^16·hi`): add to its pending balance.
    pub destination_credit: ElGamalCiphertext,
    /// The `lo` half under the remittee's key (16-bit discrete log).
    pub destination_credit_lo: ElGamalCiphertext,
    /// The `hi` half under the remittee's key (32-bit discrete log).
    pub destination_credit_hi: ElGamalCiphertext,
    /// The `lo` and `hi` halves under the auditor's key, when the asset has one.
    pub auditor_credit: Option<(ElGamalCiphertext, ElGamalCiphertext)>,
}

/// One transfer to verify, with the chain state it is checked against.
#[derive(Clone, Copy, Debug)]
pub struct TransferVerifyItem<'a> {
    /// The submitted bundle.
    pub bundle: &'a TransferBundle,
    /// Its binding context (from the enclosing transaction).
    pub ctx: &'a TransferContext,
    /// The sender's registered ElGamal key.
    pub source_pubkey: &'a ElGamalPubkey,
    /// The recipient's registered ElGamal key.
    pub destination_pubkey: &'a ElGamalPubkey,
    /// The asset's auditor key, if it has one.
    pub auditor_pubkey: Option<&'a ElGamalPubkey>,
    /// The sender's available-balance ciphertext the proof must be against.
    pub source_available: &'a ElGamalCiphertext,
}

/// The prover's witness. Honest wallets use [`TransferWitness::honest`]; tests of the verifier use the raw
/// fields to build proofs for false statements (negative amounts, wrapped limbs, overdrafts).
#[derive(Clone, Debug)]
pub struct TransferWitness {
    /// The `lo` half (16 bits when honest).
    pub lo: Scalar,
    /// The two 16-bit limbs of `hi`.
    pub hi_limbs: [Scalar; 2],
    /// The four 16-bit limbs of the remaining balance.
    pub new_balance_limbs: [Scalar; 4],
    /// The remaining balance as a scalar (`Σ 2^(16i)·limb_i` when honest).
    pub new_balance: Scalar,
    /// What the range prover is told (in order `b0..b3, lo, h0, h1, 0`); equal to the limbs when honest.
    pub range_values: [u64; 8],
    /// Added to the opening when making the source, destination and auditor handles; zero when honest
    /// (non-zero: a handle that does not open the commitment).
    pub handle_tweaks: [Scalar; 3],
}

impl TransferWitness {
    /// The witness for moving `amount` out of `balance`.
    pub fn honest(balance: u64, amount: u64) -> Result<Self, CryptoError> {
        if amount > MAX_TRANSFER_AMOUNT {
            return Err(CryptoError::AmountOutOfRange("transfer amount ≥ 2^48"));
        }
        let remaining =
            balance.checked_sub(amount).ok_or(CryptoError::AmountOutOfRange("insufficient balance"))?;
        let lo = amount & 0xffff;
        let hi = limbs16(amount >> 16, 2);
        let b = limbs16(remaining, 4);
        Ok(TransferWitness {
            lo: Scalar::from(lo),
            hi_limbs: [Scalar::from(hi[0]), Scalar::from(hi[1])],
            new_balance_limbs: [
                Scalar::from(b[0]),
                Scalar::from(b[1]),
                Scalar::from(b[2]),
                Scalar::from(b[3]),
            ],
            new_balance: Scalar::from(remaining),
            range_values: [b[0], b[1], b[2], b[3], lo, hi[0], hi[1], 0],
            handle_tweaks: [Scalar::ZERO; 3],
        })
    }
}

/// Absorbs the whole statement (keys, balance, every commitment and handle) before any proof.
fn absorb_statement(
    t: &mut Transcript,
    source: &ElGamalPubkey,
    destination: &ElGamalPubkey,
    auditor: Option<&ElGamalPubkey>,
    available: &ElGamalCiphertext,
    b: &BundlePublic<'_>,
) {
    t.append_pt(b"source-pubkey", &source.0);
    t.append_pt(b"destination-pubkey", &destination.0);
    match auditor {
        Some(a) => {
            t.append_u64(b"auditor", 1);
            t.append_pt(b"auditor-pubkey", &a.0);
        }
        None => t.append_u64(b"auditor", 0),
    }
    t.append_pt(b"available-C", &available.commitment.0);
    t.append_pt(b"available-D", &available.handle.0);
    t.append_pt(b"lo-C", &b.lo.commitment.0);
    absorb_handles(t, b"lo-D", &b.lo.handles);
    for c in b.hi_limbs {
        t.append_pt(b"hi-limb", &c.0);
    }
    absorb_handles(t, b"hi-D", b.hi_handles);
    for c in b.balance_limbs {
        t.append_pt(b"balance-limb", &c.0);
    }
}

fn absorb_handles(t: &mut Transcript, label: &'static [u8], h: &TransferHandles) {
    t.append_pt(label, &h.source.0);
    t.append_pt(label, &h.destination.0);
    match &h.auditor {
        Some(a) => {
            t.append_u64(b"auditor-handle", 1);
            t.append_pt(label, &a.0);
        }
        None => t.append_u64(b"auditor-handle", 0),
    }
}

struct BundlePublic<'a> {
    lo: &'a GroupedCiphertext,
    hi_limbs: &'a [PedersenCommitment; 2],
    hi_handles: &'a TransferHandles,
    balance_limbs: &'a [PedersenCommitment; 4],
}

/// `Σ 2^(16i)·limb_i` as a linear combination.
fn limb_lin(limbs: &[PedersenCommitment]) -> Lin {
    Lin(limbs.iter().enumerate().map(|(i, c)| (pow2(16 * i as u32), c.0)).collect())
}

fn range_commitments(b: &BundlePublic<'_>) -> Vec<CompressedRistretto> {
    let mut v: Vec<CompressedRistretto> = b.balance_limbs.iter().map(|c| c.0.compressed).collect();
    v.push(b.lo.commitment.0.compressed);
    v.extend(b.hi_limbs.iter().map(|c| c.0.compressed));
    v.push(Pt::identity().compressed);
    v
}

impl TransferBundle {
    /// Proves a transfer of `amount` from `keypair`'s account whose available balance is `balance`,
    /// encrypted on chain as `available`. Prefer [`crate::wallet::build_transfer`], which checks the balance.
    #[allow(clippy::too_many_arguments)]
    pub fn prove<R: RngCore + CryptoRng>(
        keypair: &ElGamalKeypair,
        available: &ElGamalCiphertext,
        balance: u64,
        amount: u64,
        destination: &ElGamalPubkey,
        auditor: Option<&ElGamalPubkey>,
        ctx: &TransferContext,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let w = TransferWitness::honest(balance, amount)?;
        Self::prove_with_witness(keypair, available, &w, destination, auditor, ctx, rng)
    }

    /// Proves with an explicit witness (no check that it is true: a false witness yields a bundle that
    /// fails verification — which is what the attack tests rely on).
    #[allow(clippy::too_many_arguments)]
    pub fn prove_with_witness<R: RngCore + CryptoRng>(
        keypair: &ElGamalKeypair,
        available: &ElGamalCiphertext,
        w: &TransferWitness,
        destination: &ElGamalPubkey,
        auditor: Option<&ElGamalPubkey>,
        ctx: &TransferContext,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let source = keypair.pubkey();
        let r_lo = PedersenOpening::random(rng);
        let r_h = [PedersenOpening::random(rng), PedersenOpening::random(rng)];
        let r_b = [
            PedersenOpening::random(rng),
            PedersenOpening::random(rng),
            PedersenOpening::random(rng),
            PedersenOpening::random(rng),
        ];
        let p16 = pow2(16);
        let r_hi = PedersenOpening::from_scalar(r_h[0].0 + p16 * r_h[1].0);
        let hi = Zeroizing::new(w.hi_limbs[0] + p16 * w.hi_limbs[1]);
        let r_new = Zeroizing::new((0..4).fold(Scalar::ZERO, |acc, i| acc + pow2(16 * i as u32) * r_b[i].0));

        let handles = |r: &PedersenOpening| {
            let tweak = |i: usize| PedersenOpening::from_scalar(r.0 + w.handle_tweaks[i]);
            TransferHandles {
                source: DecryptHandle::new(source, &tweak(0)),
                destination: DecryptHandle::new(destination, &tweak(1)),
                auditor: auditor.map(|a| DecryptHandle::new(a, &tweak(2))),
            }
        };
        let amount_lo =
            GroupedCiphertext { commitment: PedersenCommitment::new(w.lo, &r_lo), handles: handles(&r_lo) };
        let amount_hi_limbs = [
            PedersenCommitment::new(w.hi_limbs[0], &r_h[0]),
            PedersenCommitment::new(w.hi_limbs[1], &r_h[1]),
        ];
        let amount_hi_handles = handles(&r_hi);
        let new_balance_limbs =
            [0, 1, 2, 3].map(|i| PedersenCommitment::new(w.new_balance_limbs[i], &r_b[i]));
        let public = BundlePublic {
            lo: &amount_lo,
            hi_limbs: &amount_hi_limbs,
            hi_handles: &amount_hi_handles,
            balance_limbs: &new_balance_limbs,
        };

        let mut t = transfer_transcript(ctx);
        absorb_statement(&mut t, source, destination, auditor, available, &public);

        // Remaining-balance ciphertext handle: D_avail − D_lo,src − 2^16·D_hi,src.
        let d_e = available.handle.point()
            - amount_lo.handles.source.point()
            - mul_pow2(amount_hi_handles.source.point(), 16);
        let equality_proof =
            CiphertextCommitmentEqualityProof::prove(keypair, &d_e, &w.new_balance, &r_new, &mut t, rng);

        let mut keys = vec![source.point(), destination.point()];
        if let Some(a) = auditor {
            keys.push(a.point());
        }
        let validity_proof =
            GroupedCiphertextValidityProof::prove(&keys, (&w.lo, &r_lo.0), (&hi, &r_hi.0), &mut t, rng)?;

        let openings = [r_b[0].0, r_b[1].0, r_b[2].0, r_b[3].0, r_lo.0, r_h[0].0, r_h[1].0, Scalar::ZERO];
        let (range_proof, _) = range::prove(&mut t, &w.range_values, &openings, LIMB_BITS, rng)?;

        Ok(TransferBundle {
            amount_lo,
            amount_hi_limbs,
            amount_hi_handles,
            new_balance_limbs,
            equality_proof,
            validity_proof,
            range_proof,
        })
    }

    fn public(&self) -> BundlePublic<'_> {
        BundlePublic {
            lo: &self.amount_lo,
            hi_limbs: &self.amount_hi_limbs,
            hi_handles: &self.amount_hi_handles,
            balance_limbs: &self.new_balance_limbs,
        }
    }

    /// `C_hi = h0 + 2^16·h1`.
    pub fn amount_hi_commitment(&self) -> PedersenCommitment {
        PedersenCommitment::from_point(
            self.amount_hi_limbs[0].point() + mul_pow2(self.amount_hi_limbs[1].point(), 16),
        )
    }

    /// `C' = Σ 2^(16i)·b_i`, the commitment to the remitter's remaining balance.
    pub fn new_source_commitment(&self) -> PedersenCommitment {
        PedersenCommitment::from_point(limb_lin(&self.new_balance_limbs).eval())
    }

    /// The amount halves `(lo, hi)` as the remittee reads them.
    pub fn destination_ciphertexts(&self) -> (ElGamalCiphertext, ElGamalCiphertext) {
        let c_hi = self.amount_hi_commitment();
        (
            self.amount_lo.destination(),
            ElGamalCiphertext { commitment: c_hi, handle: self.amount_hi_handles.destination },
        )
    }

    /// The amount halves `(lo, hi)` as the remitter reads them.
    pub fn source_ciphertexts(&self) -> (ElGamalCiphertext, ElGamalCiphertext) {
        let c_hi = self.amount_hi_commitment();
        (
            self.amount_lo.source(),
            ElGamalCiphertext { commitment: c_hi, handle: self.amount_hi_handles.source },
        )
    }

    /// The amount halves `(lo, hi)` as the auditor reads them, if there is an auditor handle.
    pub fn auditor_ciphertexts(&self) -> Option<(ElGamalCiphertext, ElGamalCiphertext)> {
        let lo = self.amount_lo.auditor()?;
        let handle = self.amount_hi_handles.auditor?;
        Some((lo, ElGamalCiphertext { commitment: self.amount_hi_commitment(), handle }))
    }

    /// The homomorphic effects against `source_available`, without verifying anything. A runtime applying
    /// several transfers of one sender in a block chains these to know each one's `source_available`
    /// before verifying them together with [`verify_batch`].
    pub fn effects(&self, source_available: &ElGamalCiphertext) -> TransferEffects {
        let c_hi = self.amount_hi_commitment().point();
        let c_hi_pt = PedersenCommitment::from_point(c_hi);
        let total_c = self.amount_lo.commitment.point() + mul_pow2(c_hi, 16);
        let h = &self.amount_hi_handles;
        let l = &self.amount_lo.handles;
        let src_d = l.source.point() + mul_pow2(h.source.point(), 16);
        let dst_d = l.destination.point() + mul_pow2(h.destination.point(), 16);
        let auditor_credit = match (l.auditor, h.auditor) {
            (Some(al), Some(ah)) => Some((
                ElGamalCiphertext { commitment: self.amount_lo.commitment, handle: al },
                ElGamalCiphertext { commitment: c_hi_pt, handle: ah },
            )),
            _ => None,
        };
        TransferEffects {
            source_new_available: ElGamalCiphertext::from_points(
                source_available.commitment.point() - total_c,
                source_available.handle.point() - src_d,
            ),
            destination_credit: ElGamalCiphertext::from_points(total_c, dst_d),
            destination_credit_lo: self.amount_lo.destination(),
            destination_credit_hi: ElGamalCiphertext { commitment: c_hi_pt, handle: h.destination },
            auditor_credit,
        }
    }

    /// Verifies the transfer against the chain state and returns what to apply.
    pub fn verify(
        &self,
        ctx: &TransferContext,
        source_pubkey: &ElGamalPubkey,
        destination_pubkey: &ElGamalPubkey,
        auditor_pubkey: Option<&ElGamalPubkey>,
        source_available: &ElGamalCiphertext,
    ) -> Result<TransferEffects, CryptoError> {
        let item = TransferVerifyItem {
            bundle: self,
            ctx,
            source_pubkey,
            destination_pubkey,
            auditor_pubkey,
            source_available,
        };
        let mut out = verify_batch(&[item]).map_err(|e| match e {
            CryptoError::Batch { error, .. } => *error,
            other => other,
        })?;
        out.pop().ok_or(CryptoError::SigmaProof)
    }
}

/// Sigma part of one item, ready to be combined.
struct Prepared {
    msm: Msm,
    transcript: Transcript,
    range_commitments: Vec<CompressedRistretto>,
    seed: [u8; 32],
}

fn prepare(item: &TransferVerifyItem<'_>) -> Result<Prepared, CryptoError> {
    let b = item.bundle;
    let has_auditor = item.auditor_pubkey.is_some();
    if b.amount_lo.handles.auditor.is_some() != has_auditor
        || b.amount_hi_handles.auditor.is_some() != has_auditor
    {
        return Err(CryptoError::AuditorMismatch);
    }
    let public = b.public();
    let mut t = transfer_transcript(item.ctx);
    absorb_statement(
        &mut t,
        item.source_pubkey,
        item.destination_pubkey,
        item.auditor_pubkey,
        item.source_available,
        &public,
    );
    let p16 = pow2(16);
    let p32 = pow2(32);
    let mut msm = Msm::default();

    // Equality: (B − C_lo − 2^16·h0 − 2^32·h1, D_avail − D_lo,src − 2^16·D_hi,src) vs C' = Σ 2^(16i)·b_i.
    let eq = EqualityStatement {
        pubkey: &item.source_pubkey.0,
        ct_commitment: Lin::one(&item.source_available.commitment.0)
            .plus(-Scalar::ONE, &b.amount_lo.commitment.0)
            .plus(-p16, &b.amount_hi_limbs[0].0)
            .plus(-p32, &b.amount_hi_limbs[1].0),
        ct_handle: Lin::one(&item.source_available.handle.0)
            .plus(-Scalar::ONE, &b.amount_lo.handles.source.0)
            .plus(-p16, &b.amount_hi_handles.source.0),
        commitment: limb_lin(&b.new_balance_limbs),
    };
    b.equality_proof.verify_into(&eq, &mut t, &mut msm);

    // Validity of lo and hi = h0 + 2^16·h1 for every handle.
    let lo_h = &b.amount_lo.handles;
    let hi_h = &b.amount_hi_handles;
    let mut handles = vec![
        HandleStatement {
            pubkey: &item.source_pubkey.0,
            lo: Lin::one(&lo_h.source.0),
            hi: Lin::one(&hi_h.source.0),
        },
        HandleStatement {
            pubkey: &item.destination_pubkey.0,
            lo: Lin::one(&lo_h.destination.0),
            hi: Lin::one(&hi_h.destination.0),
        },
    ];
    if let (Some(a), Some(al), Some(ah)) = (item.auditor_pubkey, &lo_h.auditor, &hi_h.auditor) {
        handles.push(HandleStatement { pubkey: &a.0, lo: Lin::one(&al.0), hi: Lin::one(&ah.0) });
    }
    let vs = ValidityStatement {
        c_lo: Lin::one(&b.amount_lo.commitment.0),
        c_hi: Lin::one(&b.amount_hi_limbs[0].0).plus(p16, &b.amount_hi_limbs[1].0),
        handles,
    };
    b.validity_proof.verify_into(&vs, &mut t, &mut msm)?;

    // A seed covering the entire statement and proof: batch weight and bulletproofs' internal weight.
    let mut fork = t.clone();
    let mut tseed = [0u8; 32];
    fork.challenge_bytes(b"verifier-seed", &mut tseed);
    let mut hasher = blake3::Hasher::new_derive_key("purse-crypto v1 transfer verifier seed");
    hasher.update(&tseed).update(b.range_proof.as_bytes());
    let seed = *hasher.finalize().as_bytes();

    Ok(Prepared { msm, transcript: t, range_commitments: range_commitments(&public), seed })
}

/// Verifies many transfers at once: every sigma equation of every transfer is combined (weights derived
/// from all items' transcripts) into one multiscalar multiplication; range proofs are then verified one by
/// one (bulletproofs 5 exposes no batch verification). Same accept/reject as verifying each alone, except
/// with negligible probability. On failure the error names the first failing item.
pub fn verify_batch(items: &[TransferVerifyItem<'_>]) -> Result<Vec<TransferEffects>, CryptoError> {
    let batch_err = |index: usize, error: CryptoError| CryptoError::Batch { index, error: Box::new(error) };
    let mut prepared = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        prepared.push(prepare(item).map_err(|e| batch_err(i, e))?);
    }
    let sigma_ok = match prepared.len() {
        0 => true,
        1 if !prepared[0].msm.check() => return Err(batch_err(0, CryptoError::SigmaProof)),
        1 => true,
        _ => {
            let mut hasher = blake3::Hasher::new_derive_key("purse-crypto v1 transfer batch weights");
            for p in &prepared {
                hasher.update(&p.seed);
            }
            let mut xof = hasher.finalize_xof();
            let mut all = Msm::default();
            for p in &prepared {
                let mut wide = [0u8; 64];
                xof.fill(&mut wide);
                all.absorb_scaled(Scalar::from_bytes_mod_order_wide(&wide), &p.msm);
            }
            all.check()
        }
    };
    if !sigma_ok {
        // Find the culprit.
        for (i, p) in prepared.iter().enumerate() {
            if !p.msm.check() {
                return Err(batch_err(i, CryptoError::SigmaProof));
            }
        }
        return Err(batch_err(0, CryptoError::SigmaProof));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, (item, mut p)) in items.iter().zip(prepared).enumerate() {
        let mut rng = ChaCha20Rng::from_seed(p.seed);
        range::verify(&item.bundle.range_proof, &mut p.transcript, &p.range_commitments, LIMB_BITS, &mut rng)
            .map_err(|e| batch_err(i, e))?;
        debug_assert_eq!(p.range_commitments.len(), TRANSFER_RANGE_PARTIES);
        out.push(item.bundle.effects(item.source_available));
    }
    Ok(out)
}

/// The `(lo, hi)` halves of a transfer amount.
pub fn split_amount(amount: u64) -> Result<(u64, u64), CryptoError> {
    if amount > MAX_TRANSFER_AMOUNT {
        return Err(CryptoError::AmountOutOfRange("transfer amount ≥ 2^48"));
    }
    Ok((amount & 0xffff, amount >> 16))
}

/// Recombines halves decrypted by a reader.
pub fn combine_amount(lo: u64, hi: u64) -> Result<u64, CryptoError> {
    if lo >= 1 << 16 || hi >= 1 << 32 {
        return Err(CryptoError::AmountOutOfRange("lo ≥ 2^16 or hi ≥ 2^32"));
    }
    Ok(lo + (hi << 16))
}
