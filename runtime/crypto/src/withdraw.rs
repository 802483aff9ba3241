//! Withdraw (confidential → public, amount public) and deposit (public → confidential) helpers.

use crate::elgamal::ElGamalCiphertext;
use crate::error::CryptoError;
use crate::keys::{ElGamalKeypair, ElGamalPubkey};
use crate::pedersen::{PedersenCommitment, PedersenOpening, WITHDRAW_RANGE_BITS};
use crate::range::{self, RangeProofBytes};
use crate::sigma::equality::{CiphertextCommitmentEqualityProof, EqualityStatement};
use crate::sigma::{Lin, Msm};
use crate::transcript::{account_transcript, AccountContext, TranscriptExt};
use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};

/// A withdrawal of a public `amount`: the remaining balance `available − amount·G` re-committed with
/// fresh randomness, proved equal to it and in `[0, 2^64)`.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct WithdrawBundle {
    /// The public amount leaving the confidential balance.
    pub amount: u64,
    /// Commitment to the remaining balance.
    pub new_balance_commitment: PedersenCommitment,
    /// Remaining-balance ciphertext and commitment hold the same value.
    pub equality_proof: CiphertextCommitmentEqualityProof,
    /// Remaining balance in `[0, 2^64)` (one 64-bit bulletproof).
    pub range_proof: RangeProofBytes,
}

/// The state change of a verified withdrawal.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct WithdrawEffects {
    /// Replace the account's available balance with this.
    pub new_available: ElGamalCiphertext,
    /// Credit this much to the public balance.
    pub amount: u64,
}

fn transcript(
    ctx: &AccountContext,
    pubkey: &ElGamalPubkey,
    available: &ElGamalCiphertext,
    amount: u64,
    commitment: &PedersenCommitment,
) -> Transcript {
    let mut t = account_transcript(b"confidential-withdraw", ctx);
    t.append_pt(b"pubkey", &pubkey.0);
    t.append_pt(b"available-C", &available.commitment.0);
    t.append_pt(b"available-D", &available.handle.0);
    t.append_u64(b"amount", amount);
    t.append_pt(b"new-balance-C", &commitment.0);
    t
}

impl WithdrawBundle {
    /// Proves a withdrawal of `amount` from a balance of `balance` encrypted as `available`.
    pub fn prove<R: RngCore + CryptoRng>(
        keypair: &ElGamalKeypair,
        available: &ElGamalCiphertext,
        balance: u64,
        amount: u64,
        ctx: &AccountContext,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let remaining =
            balance.checked_sub(amount).ok_or(CryptoError::AmountOutOfRange("insufficient balance"))?;
        Self::prove_with_witness(keypair, available, amount, &Scalar::from(remaining), remaining, ctx, rng)
    }

    /// Proves with an explicit remaining balance (scalar, for the equality proof) and the value given to the
    /// range prover. No check that they are true: a false witness yields a bundle that fails verification.
    pub fn prove_with_witness<R: RngCore + CryptoRng>(
        keypair: &ElGamalKeypair,
        available: &ElGamalCiphertext,
        amount: u64,
        remaining: &Scalar,
        range_value: u64,
        ctx: &AccountContext,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let opening = PedersenOpening::random(rng);
        let new_balance_commitment = PedersenCommitment::new(*remaining, &opening);
        let mut t = transcript(ctx, keypair.pubkey(), available, amount, &new_balance_commitment);
        let new_ct = available.sub_amount(amount);
        let equality_proof = CiphertextCommitmentEqualityProof::prove(
            keypair,
            &new_ct.handle.point(),
            remaining,
            opening.as_scalar(),
            &mut t,
            rng,
        );
        let (range_proof, _) =
            range::prove(&mut t, &[range_value], &[*opening.as_scalar()], WITHDRAW_RANGE_BITS, rng)?;
        Ok(WithdrawBundle { amount, new_balance_commitment, equality_proof, range_proof })
    }

    /// Verifies against the account's key and available-balance ciphertext.
    pub fn verify(
        &self,
        ctx: &AccountContext,
        pubkey: &ElGamalPubkey,
        available: &ElGamalCiphertext,
    ) -> Result<WithdrawEffects, CryptoError> {
        let mut t = transcript(ctx, pubkey, available, self.amount, &self.new_balance_commitment);
        let new_available = available.sub_amount(self.amount);
        // The withdrawn amount is public: the remaining ciphertext is (C_avail − amount·G, D_avail).
        let mut msm = Msm::default();
        let st = EqualityStatement {
            pubkey: &pubkey.0,
            ct_commitment: Lin::one(&new_available.commitment.0),
            ct_handle: Lin::one(&available.handle.0),
            commitment: Lin::one(&self.new_balance_commitment.0),
        };
        self.equality_proof.verify_into(&st, &mut t, &mut msm);
        if !msm.check() {
            return Err(CryptoError::SigmaProof);
        }
        let mut fork = t.clone();
        let mut tseed = [0u8; 32];
        fork.challenge_bytes(b"verifier-seed", &mut tseed);
        let mut hasher = blake3::Hasher::new_derive_key("purse-crypto v1 withdraw verifier seed");
        hasher.update(&tseed).update(self.range_proof.as_bytes());
        let mut rng = ChaCha20Rng::from_seed(*hasher.finalize().as_bytes());
        range::verify(
            &self.range_proof,
            &mut t,
            &[self.new_balance_commitment.0.compressed],
            WITHDRAW_RANGE_BITS,
            &mut rng,
        )?;
        Ok(WithdrawEffects { new_available, amount: self.amount })
    }
}

/// A deposit of a public `amount` into a confidential balance ciphertext (zero randomness; no proof —
/// the amount is public and debited from the public balance by the runtime).
pub fn deposit(balance: &ElGamalCiphertext, amount: u64) -> ElGamalCiphertext {
    balance.add_amount(amount)
}
