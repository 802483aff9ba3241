//! Twisted ElGamal over Ristretto: a ciphertext is a Pedersen commitment `C = a·G + r·H` plus one
//! decryption handle `D = r·P` per reader. `C − s·D = a·G`; the amount is then a bounded discrete log.

use crate::discrete_log;
use crate::encoding::Pt;
use crate::error::CryptoError;
use crate::keys::{ElGamalPubkey, ElGamalSecretKey};
use crate::pedersen::{g, mul_pow2, PedersenCommitment, PedersenOpening};
use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;

/// A decryption handle `r·P` (any canonical point; the identity for zero-randomness ciphertexts).
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct DecryptHandle(pub(crate) Pt);

impl DecryptHandle {
    /// `r·P`.
    pub fn new(pubkey: &ElGamalPubkey, opening: &PedersenOpening) -> Self {
        DecryptHandle(Pt::from_point(opening.0 * pubkey.point()))
    }
    /// The point.
    pub fn point(&self) -> RistrettoPoint {
        self.0.point
    }
    pub(crate) fn from_point(p: RistrettoPoint) -> Self {
        DecryptHandle(Pt::from_point(p))
    }
}

/// A single-reader ciphertext: commitment and one handle (an account's balance, a credit, a debit).
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct ElGamalCiphertext {
    /// `a·G + r·H`.
    pub commitment: PedersenCommitment,
    /// `r·P`.
    pub handle: DecryptHandle,
}

impl ElGamalCiphertext {
    /// Encrypts `amount` to `pubkey` with `opening`.
    pub fn encrypt_with(amount: u64, pubkey: &ElGamalPubkey, opening: &PedersenOpening) -> Self {
        ElGamalCiphertext {
            commitment: PedersenCommitment::from_u64(amount, opening),
            handle: DecryptHandle::new(pubkey, opening),
        }
    }

    /// The ciphertext of a public amount with zero randomness (`a·G`, identity handle): what a deposit adds
    /// and a withdrawal subtracts. Anyone can compute it; every reader decrypts it.
    pub fn from_public_amount(amount: u64) -> Self {
        ElGamalCiphertext {
            commitment: PedersenCommitment::from_point(Scalar::from(amount) * g()),
            handle: DecryptHandle(Pt::identity()),
        }
    }

    /// The encryption of zero (a fresh account's balance).
    pub fn zero() -> Self {
        Self::from_public_amount(0)
    }

    /// Homomorphic sum.
    pub fn add(&self, other: &Self) -> Self {
        Self::from_points(
            self.commitment.point() + other.commitment.point(),
            self.handle.point() + other.handle.point(),
        )
    }

    /// Homomorphic difference.
    pub fn sub(&self, other: &Self) -> Self {
        Self::from_points(
            self.commitment.point() - other.commitment.point(),
            self.handle.point() - other.handle.point(),
        )
    }

    /// Adds a public amount (deposit).
    pub fn add_amount(&self, amount: u64) -> Self {
        self.add(&Self::from_public_amount(amount))
    }

    /// Subtracts a public amount (withdrawal).
    pub fn sub_amount(&self, amount: u64) -> Self {
        self.sub(&Self::from_public_amount(amount))
    }

    /// `lo + 2^16·hi`: recombines the two halves of a transfer amount.
    pub fn combine_lo_hi(lo: &Self, hi: &Self) -> Self {
        Self::from_points(
            lo.commitment.point() + mul_pow2(hi.commitment.point(), 16),
            lo.handle.point() + mul_pow2(hi.handle.point(), 16),
        )
    }

    /// `C − s·D = a·G` (constant time in the secret).
    pub fn decrypt_to_point(&self, secret: &ElGamalSecretKey) -> RistrettoPoint {
        self.commitment.point() - secret.0 * self.handle.point()
    }

    /// Decrypts an amount known to be below `2^bits` (`bits ≤ 40`; see [`discrete_log`]).
    pub fn decrypt_bounded(&self, secret: &ElGamalSecretKey, bits: u32) -> Result<u64, CryptoError> {
        discrete_log::decode_bounded(&self.decrypt_to_point(secret), bits)
    }

    /// Checks (constant time in the amount) that this ciphertext encrypts `amount` for `secret`.
    pub fn decrypts_to(&self, secret: &ElGamalSecretKey, amount: u64) -> bool {
        self.decrypt_to_point(secret) == Scalar::from(amount) * g()
    }

    pub(crate) fn from_points(c: RistrettoPoint, d: RistrettoPoint) -> Self {
        ElGamalCiphertext {
            commitment: PedersenCommitment::from_point(c),
            handle: DecryptHandle::from_point(d),
        }
    }
}

/// The handles of one transfer-amount commitment: source, destination and optionally the asset's auditor.
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct TransferHandles {
    /// For the remitter.
    pub source: DecryptHandle,
    /// For the remittee.
    pub destination: DecryptHandle,
    /// For the asset's auditor, when the asset has one.
    pub auditor: Option<DecryptHandle>,
}

impl TransferHandles {
    /// Handles for `opening` under each key.
    pub fn new(
        opening: &PedersenOpening,
        source: &ElGamalPubkey,
        destination: &ElGamalPubkey,
        auditor: Option<&ElGamalPubkey>,
    ) -> Self {
        TransferHandles {
            source: DecryptHandle::new(source, opening),
            destination: DecryptHandle::new(destination, opening),
            auditor: auditor.map(|a| DecryptHandle::new(a, opening)),
        }
    }
}

/// A commitment with several handles (one per reader).
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct GroupedCiphertext {
    /// `a·G + r·H`.
    pub commitment: PedersenCommitment,
    /// `r·P_source`, `r·P_destination`, `r·P_auditor`.
    pub handles: TransferHandles,
}

impl GroupedCiphertext {
    /// The source's view.
    pub fn source(&self) -> ElGamalCiphertext {
        ElGamalCiphertext { commitment: self.commitment, handle: self.handles.source }
    }
    /// The destination's view.
    pub fn destination(&self) -> ElGamalCiphertext {
        ElGamalCiphertext { commitment: self.commitment, handle: self.handles.destination }
    }
    /// The auditor's view, if any.
    pub fn auditor(&self) -> Option<ElGamalCiphertext> {
        self.handles.auditor.map(|handle| ElGamalCiphertext { commitment: self.commitment, handle })
    }
}
