//! The one error type of the crate: bad input is an error value, never a panic.

/// Why a confidential-transfer operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Bytes that are not the canonical encoding of the expected type (non-canonical point or scalar,
    /// identity public key, wrong length, trailing bytes, bad tag).
    #[error("decode error: {0}")]
    Decode(&'static str),
    /// A public key is unusable (identity, or wrong for this statement).
    #[error("invalid public key")]
    InvalidPubkey,
    /// The proof of possession of an ElGamal secret key does not verify.
    #[error("public-key validity (proof of possession) failed")]
    PubkeyValidity,
    /// The sigma proofs (ciphertext validity, ciphertext-commitment equality, zero balance) do not verify.
    #[error("sigma proof verification failed")]
    SigmaProof,
    /// The aggregated range proof does not verify.
    #[error("range proof verification failed")]
    RangeProof,
    /// The handle set does not match the statement (an auditor handle without an auditor key or the reverse).
    #[error("auditor handle and auditor key disagree")]
    AuditorMismatch,
    /// An amount outside what this scheme can carry (transfer ≥ 2^48, balance underflow, overflow).
    #[error("amount out of range: {0}")]
    AmountOutOfRange(&'static str),
    /// The wallet's claimed balance does not decrypt from the balance ciphertext.
    #[error("balance does not match its ciphertext")]
    BalanceMismatch,
    /// A bounded discrete logarithm found no solution in range.
    #[error("discrete log not found within {0} bits")]
    DiscreteLog(u32),
    /// Authenticated decryption of a decryptable balance failed.
    #[error("authenticated decryption failed")]
    Aead,
    /// Proof generation failed (only on invalid prover input).
    #[error("proof generation failed: {0}")]
    Prover(&'static str),
    /// One transfer of a batch failed; `index` is its position in the batch.
    #[error("batch item {index}: {error}")]
    Batch {
        /// Position of the first failing item.
        index: usize,
        /// Its error.
        error: Box<CryptoError>,
    },
}
