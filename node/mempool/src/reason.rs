//! Verdicts, rejection reasons and drop reasons, each with a stable machine-readable code.
//!
//! The codes are part of the node's public interface (RPC responses, WebSocket notifications, logs): they are
//! only ever added, never renamed or reused. `tests/codes.rs` pins every string.

use purse_runtime::RuntimeError;
use purse_types::{AssetId, TxId};

/// Why a transaction is not admitted. Every variant has a distinct, stable [`Reason::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    /// The signature does not verify for the attached key.
    #[error("signature does not verify")]
    BadSignature,
    /// The encoded transaction is larger than [`purse_types::tx::MAX_TX_BYTES`].
    #[error("transaction is {len} bytes, the limit is {max}")]
    TooLarge {
        /// Encoded size.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// The transaction names another chain.
    #[error("transaction is for chain {0}")]
    WrongChain(String),
    /// The expiry height is below the height of the next block.
    #[error("transaction expired at height {expiry}, the next block is {next_height}")]
    Expired {
        /// The transaction's expiry height.
        expiry: u64,
        /// Height of the next block.
        next_height: u64,
    },
    /// The sender is not a registered account in committed state.
    #[error("sender is not a registered account")]
    UnknownSender,
    /// The attached key is not the sender's registered key.
    #[error("the signing key is not the sender's registered key")]
    WrongKey,
    /// The nonce was already used by a committed transaction.
    #[error("nonce {got} is below the committed nonce {committed}")]
    NonceTooLow {
        /// The sender's committed (next expected) nonce.
        committed: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The nonce is further ahead of the next expected one than the future queue accepts.
    #[error("nonce {got} is more than {max_gap} ahead of the next expected nonce {expected}")]
    NonceTooHigh {
        /// Next nonce the pool expects from the sender.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
        /// Largest accepted gap.
        max_gap: u64,
    },
    /// The identical transaction (same id) is already in the pool.
    #[error("transaction is already in the pool")]
    AlreadyKnown,
    /// Another transaction with the same sender and nonce is pooled and this one does not bid enough more.
    #[error("replacement max fee {offered} is below the required {required}")]
    ReplacementUnderpriced {
        /// `max_fee` the replacement must at least offer.
        required: u128,
        /// `max_fee` it offers.
        offered: u128,
    },
    /// `max_fee` is below the fee the chain charges for this transaction.
    #[error("max fee {max_fee} is below the required fee {required}")]
    FeeTooLow {
        /// Fee the chain charges.
        required: u128,
        /// Max fee offered.
        max_fee: u128,
    },
    /// The fuel the transaction declares (a contract payload's `fuel_limit`) is above the chain's
    /// `max_tx_fuel`: block execution refuses it, and block building would stop at it.
    #[error("declared fuel {fuel} is above the chain's max_tx_fuel {max}")]
    FuelTooHigh {
        /// Fuel declared.
        fuel: u64,
        /// The chain's `max_tx_fuel`.
        max: u64,
    },
    /// The sender's available native balance does not cover the fee.
    #[error("available balance {available} cannot pay the fee of {fee}")]
    CannotPayFee {
        /// The fee.
        fee: u128,
        /// Committed balance minus pending debits.
        available: u128,
    },
    /// Committed balance − Σ pending debits − this transaction's debit would go below zero for an asset.
    #[error("insufficient available balance of asset {asset}: available {available}, needed {needed}")]
    InsufficientAvailable {
        /// The asset.
        asset: AssetId,
        /// Committed balance minus pending debits (pending credits never count).
        available: u128,
        /// This transaction's total debit of the asset (fee included for the fee asset).
        needed: u128,
    },
    /// A transfer, mint or burn of zero.
    #[error("amount must be positive")]
    InvalidAmount,
    /// The transaction debits more distinct assets than the pool tracks per transaction.
    #[error("transaction debits {count} assets, the limit is {max}")]
    TooManyDebitAssets {
        /// Distinct assets debited.
        count: usize,
        /// Limit.
        max: usize,
    },
    /// The debits of one transaction or one sender overflow `u128`.
    #[error("debit amounts overflow")]
    Overflow,
    /// The pool cannot judge this payload kind (kept for compatibility: no payload uses it today).
    #[error("{0} transactions are not accepted by the pool yet")]
    UnsupportedPayload(&'static str),
    /// The sender already has the most transactions the pool keeps per sender.
    #[error("sender has {max} pooled transactions, the per-sender limit")]
    SenderFull {
        /// Per-sender limit.
        max: usize,
    },
    /// The future (nonce-gap) queue is full.
    #[error("the future queue is full")]
    FutureQueueFull,
    /// The pool is full and no sender holds more transactions than this one would.
    #[error("the pool is full")]
    PoolFull,
    /// The sender (after its own pending transactions) or the recipient has no confidential account for the asset.
    #[error("no confidential account for this asset")]
    ConfidentialNotRegistered,
    /// The sender already has (or has a pending registration of) a confidential account for the asset.
    #[error("the sender already registered a confidential account for this asset")]
    ConfidentialAlreadyRegistered,
    /// A confidential proof or bundle does not decode or does not verify against the sender's available balance
    /// after its own pending transactions.
    #[error("confidential proof rejected: {0}")]
    ConfidentialProofInvalid(String),
    /// Double spend: the proof is against the sender's committed available balance, which one of its pending
    /// transactions already spends; it must be re-proved against the balance after its pending debits.
    #[error("the proof is against an available balance a pending transaction of the sender already spends")]
    ConfidentialStaleBalance,
    /// Apply-pending expects another pending-credit count than committed state plus the sender's own pending
    /// deposits give.
    #[error("apply-pending expects {expected} pending credits, the pool sees {actual}")]
    ConfidentialPendingChanged {
        /// Count in the transaction.
        expected: u64,
        /// Count the pool projects.
        actual: u64,
    },
    /// Replacing this pending transaction would change the confidential balance later pending transactions of the
    /// same sender proved against.
    #[error("replacement would invalidate later pending confidential transactions of the sender")]
    ConfidentialReplacementConflict,
    /// The asset, or the sender's or recipient's holding of it, is frozen by its issuer.
    #[error("{0}")]
    Frozen(String),
    /// The asset requires authorization and its issuer has not authorized the recipient.
    #[error("{0} is not authorized to hold the asset")]
    HolderNotAuthorized(String),
    /// The recipient is neither a registered account nor a contract.
    #[error("recipient {0} is not a registered account")]
    UnknownRecipient(String),
    /// The amount is above the sender's tier limit per transaction for the asset.
    #[error("amount {amount} of asset {asset} is above the tier's per-transaction limit {limit}")]
    TxLimitExceeded {
        /// The asset.
        asset: AssetId,
        /// The per-transaction limit.
        limit: u128,
        /// This transaction's limited amount of the asset.
        amount: u128,
    },
    /// The amount would take the sender's day total of the asset (committed, plus its pending transactions)
    /// above its tier's daily limit.
    #[error(
        "asset {asset}: {spent} spent today (pending included) + {amount} is above the daily limit {limit}"
    )]
    DailyLimitExceeded {
        /// The asset.
        asset: AssetId,
        /// The daily limit.
        limit: u128,
        /// Spent today: committed plus the sender's other pending transactions.
        spent: u128,
        /// This transaction's limited amount of the asset.
        amount: u128,
    },
}

impl Reason {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::BadSignature => "bad_signature",
            Reason::TooLarge { .. } => "too_large",
            Reason::WrongChain(_) => "wrong_chain",
            Reason::Expired { .. } => "expired",
            Reason::UnknownSender => "unknown_sender",
            Reason::WrongKey => "wrong_key",
            Reason::NonceTooLow { .. } => "nonce_too_low",
            Reason::NonceTooHigh { .. } => "nonce_too_high",
            Reason::AlreadyKnown => "already_known",
            Reason::ReplacementUnderpriced { .. } => "replacement_underpriced",
            Reason::FeeTooLow { .. } => "fee_too_low",
            Reason::FuelTooHigh { .. } => "fuel_too_high",
            Reason::CannotPayFee { .. } => "cannot_pay_fee",
            Reason::InsufficientAvailable { .. } => "insufficient_available",
            Reason::InvalidAmount => "invalid_amount",
            Reason::TooManyDebitAssets { .. } => "too_many_debit_assets",
            Reason::Overflow => "overflow",
            Reason::UnsupportedPayload(_) => "unsupported_payload",
            Reason::SenderFull { .. } => "sender_full",
            Reason::FutureQueueFull => "future_queue_full",
            Reason::PoolFull => "pool_full",
            Reason::ConfidentialNotRegistered => "confidential_not_registered",
            Reason::ConfidentialAlreadyRegistered => "confidential_already_registered",
            Reason::ConfidentialProofInvalid(_) => "confidential_proof_invalid",
            Reason::ConfidentialStaleBalance => "confidential_stale_balance",
            Reason::ConfidentialPendingChanged { .. } => "confidential_pending_changed",
            Reason::ConfidentialReplacementConflict => "confidential_replacement_conflict",
            Reason::Frozen(_) => "frozen",
            Reason::HolderNotAuthorized(_) => "holder_not_authorized",
            Reason::UnknownRecipient(_) => "unknown_recipient",
            Reason::TxLimitExceeded { .. } => "tx_limit_exceeded",
            Reason::DailyLimitExceeded { .. } => "daily_limit_exceeded",
        }
    }

    /// Every code, in declaration order (for documentation and tests).
    pub const ALL_CODES: [&'static str; 32] = [
        "bad_signature",
        "too_large",
        "wrong_chain",
        "expired",
        "unknown_sender",
        "wrong_key",
        "nonce_too_low",
        "nonce_too_high",
        "already_known",
        "replacement_underpriced",
        "fee_too_low",
        "fuel_too_high",
        "cannot_pay_fee",
        "insufficient_available",
        "invalid_amount",
        "too_many_debit_assets",
        "overflow",
        "unsupported_payload",
        "sender_full",
        "future_queue_full",
        "pool_full",
        "confidential_not_registered",
        "confidential_already_registered",
        "confidential_proof_invalid",
        "confidential_stale_balance",
        "confidential_pending_changed",
        "confidential_replacement_conflict",
        "frozen",
        "holder_not_authorized",
        "unknown_recipient",
        "tx_limit_exceeded",
        "daily_limit_exceeded",
    ];
}

/// The answer to a submission or a validate-only check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Executable now: its nonce continues the sender's pending sequence and every check passed, including
    /// available funds. (From `check`: would be admitted.)
    Valid,
    /// Its nonce leaves a gap: it waits in the sender's bounded future queue until `expected` arrives; funds are
    /// checked when it is promoted. (From `check`: would be queued.)
    Queued {
        /// The nonce the pool needs before this one can be promoted.
        expected: u64,
    },
    /// Rejected, with the reason.
    Invalid(Reason),
}

impl Verdict {
    /// Stable machine-readable code: `valid`, `queued`, or the reason's code.
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Queued { .. } => "queued",
            Verdict::Invalid(r) => r.code(),
        }
    }

    /// True for [`Verdict::Valid`].
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid)
    }
}

/// Why a pooled transaction left the pool without being included in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// A re-check after a commit (or at promotion from the future queue) found it invalid.
    Invalid(Reason),
    /// It stayed in the pool longer than the configured TTL (blocks or block time).
    Ttl,
    /// Evicted to make room for another sender's transaction.
    Capacity,
    /// An earlier nonce of the same sender left the pool, so this one can never execute.
    Cascade {
        /// The earlier transaction whose removal caused this one's.
        cause: TxId,
    },
    /// Replaced by a transaction with the same sender and nonce bidding a higher fee.
    Replaced {
        /// The replacement.
        by: TxId,
    },
}

impl DropReason {
    /// Stable machine-readable code: `evicted_ttl`, `evicted_capacity`, `evicted_cascade`, `replaced`, or the
    /// re-check's reason code.
    pub fn code(&self) -> &'static str {
        match self {
            DropReason::Invalid(r) => r.code(),
            DropReason::Ttl => "evicted_ttl",
            DropReason::Capacity => "evicted_capacity",
            DropReason::Cascade { .. } => "evicted_cascade",
            DropReason::Replaced { .. } => "replaced",
        }
    }
}

/// The node failed (state unreadable or corrupt), not the transaction.
#[derive(Debug, thiserror::Error)]
pub enum MempoolError {
    /// Committed state could not be read or decoded.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// Committed state has no chain record (genesis not applied).
    #[error("committed state has no chain record: genesis was not applied")]
    NoChainRecord,
}
