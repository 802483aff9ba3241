//! purse-crypto — confidential transfers: Pedersen commitments, twisted-ElGamal encryption of openings for
//! remitter, remittee and auditor, sigma and aggregated range proofs bound to merlin transcripts, and the
//! wallet-side helpers.
//!
//! Scheme (docs/confidential.md, ADR 0010): an amount is a Pedersen commitment `C = a·G + r·H` over
//! bulletproofs' generators with one decryption handle `D = r·P` per reader (`P = s⁻¹·H`), so
//! `C − s·D = a·G`. A transfer carries the amount in a 16-bit and a 32-bit half, proves every handle opens
//! its commitment ([`sigma::validity`]), that the remitter's remaining balance re-committed in 16-bit limbs
//! equals its balance ciphertext minus the amount ([`sigma::equality`]), and that every limb is in
//! `[0, 2^16)` (one aggregated bulletproof, [`range`]). Every proof is bound by its transcript to chain id,
//! parties, nonce, asset, keys, commitments and handles ([`transcript`]).
//!
//! The runtime calls [`TransferBundle::verify`] / [`verify_batch`], [`WithdrawBundle::verify`],
//! [`PubkeyValidityProof::verify`] (registration), [`ZeroBalanceProof::verify`] (closing) and the
//! ciphertext arithmetic of [`ElGamalCiphertext`] (deposits, pending → available). Wallets use [`wallet`].

pub mod ae;
pub mod discrete_log;
pub mod elgamal;
pub mod encoding;
pub mod error;
pub mod keys;
pub mod payload;
pub mod pedersen;
pub mod range;
pub mod sigma;
pub mod transcript;
pub mod transfer;
pub mod wallet;
pub mod withdraw;

pub use ae::{AeCiphertext, AeKey};
pub use elgamal::{DecryptHandle, ElGamalCiphertext, GroupedCiphertext, TransferHandles};
pub use encoding::{from_bytes, to_bytes};
pub use error::CryptoError;
pub use keys::{ElGamalKeypair, ElGamalPubkey, ElGamalSecretKey};
pub use payload::{decryptable_balance_aad, TransferData, WithdrawData};
pub use pedersen::{PedersenCommitment, PedersenOpening};
pub use range::RangeProofBytes;
pub use sigma::equality::CiphertextCommitmentEqualityProof;
pub use sigma::pubkey_validity::PubkeyValidityProof;
pub use sigma::validity::GroupedCiphertextValidityProof;
pub use sigma::zero_balance::ZeroBalanceProof;
pub use transcript::{AccountContext, TransferContext};
pub use transfer::{
    combine_amount, split_amount, verify_batch, TransferBundle, TransferEffects, TransferVerifyItem,
    TransferWitness, MAX_TRANSFER_AMOUNT,
};
pub use wallet::Wallet;
pub use withdraw::{deposit, WithdrawBundle, WithdrawEffects};

/// Reexported so callers name the same curve types.
pub use curve25519_dalek::scalar::Scalar;
