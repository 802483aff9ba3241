//! Errors: failures of a transaction (deterministic, recorded in its receipt) and failures of the runtime
//! itself (storage or corrupted state: the block cannot be applied on this node).

use purse_state::StateError;

/// Why a transaction failed. Each has a stable machine-readable code used in receipts and the RPC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// Signature does not verify for the attached key.
    #[error("signature does not verify")]
    BadSignature,
    /// The transaction names another chain.
    #[error("transaction is for chain {0}")]
    WrongChain(String),
    /// The expiry height has passed.
    #[error("transaction expired at height {expiry}, block height is {height}")]
    Expired {
        /// Expiry height.
        expiry: u64,
        /// Current height.
        height: u64,
    },
    /// The sender is not an onboarded account.
    #[error("sender {0} is not a registered account")]
    UnknownSender(String),
    /// The attached key is not the sender's registered key.
    #[error("the signing key is not the sender's registered key")]
    WrongKey,
    /// Nonce is not the next expected one.
    #[error("nonce {got} does not match the expected {expected}")]
    BadNonce {
        /// Expected nonce.
        expected: u64,
        /// Nonce in the transaction.
        got: u64,
    },
    /// `max_fee` is below the fee the chain charges.
    #[error("max fee {max_fee} is below the required fee {required}")]
    FeeTooLow {
        /// Fee required.
        required: u128,
        /// Max fee offered.
        max_fee: u128,
    },
    /// The sender cannot pay the fee.
    #[error("insufficient balance to pay the fee of {0}")]
    CannotPayFee(u128),
    /// A debit exceeds the balance.
    #[error("insufficient funds: balance {balance}, needed {needed}")]
    InsufficientFunds {
        /// Balance.
        balance: u128,
        /// Amount needed.
        needed: u128,
    },
    /// The recipient is not an onboarded account.
    #[error("recipient {0} is not a registered account")]
    UnknownRecipient(String),
    /// The asset does not exist.
    #[error("unknown asset {0}")]
    UnknownAsset(String),
    /// The asset already exists.
    #[error("asset already exists")]
    AssetExists,
    /// The sender lacks a role or is not the asset's issuer.
    #[error("not authorized: {0}")]
    Unauthorized(String),
    /// Invalid parameters (zero amount, bad symbol, …).
    #[error("invalid transaction: {0}")]
    Invalid(String),
    /// Arithmetic overflow (e.g. supply above u128).
    #[error("amount overflow")]
    Overflow,
    /// A contract execution failed (trap, out of fuel, abort, host error, …); every write was rolled back.
    #[error("contract: {0}")]
    Contract(purse_vm::ExecError),
    /// The payload kind is not enabled on this chain yet.
    #[error("{0} transactions are not enabled on this chain")]
    NotEnabled(&'static str),
    /// A confidential operation failed (its own stable codes).
    #[error("confidential: {0}")]
    Confidential(ConfidentialError),
    /// Onboarding an address that already is an account.
    #[error("account {0} already exists")]
    AccountExists(String),
    /// The asset, or the named account's holding of it, is frozen.
    #[error("frozen: {0}")]
    Frozen(String),
    /// The asset requires authorization and the named recipient is not authorized by the issuer.
    #[error("{0} is not authorized to hold this asset")]
    HolderNotAuthorized(String),
    /// A debit above the per-transaction limit of the sender's tier.
    #[error("amount {amount} is above the tier's per-transaction limit {limit}")]
    TxLimitExceeded {
        /// The limit.
        limit: u128,
        /// The amount debited.
        amount: u128,
    },
    /// A debit that would take the day's total above the daily limit of the sender's tier.
    #[error(
        "amount {amount} would take today's debits ({spent} so far) above the tier's daily limit {limit}"
    )]
    DailyLimitExceeded {
        /// The limit.
        limit: u128,
        /// Already debited today.
        spent: u128,
        /// The amount debited.
        amount: u128,
    },
    /// Deployment is not open and the code hash is not on the allow-list.
    #[error("code {0} is not on the deployment allow-list")]
    CodeNotAllowed(String),
    /// A governance proposal or vote failed (its own stable codes).
    #[error("governance: {0}")]
    Governance(GovernanceError),
}

/// Why a governance transaction failed. Codes are stable receipt codes (docs/governance.md).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GovernanceError {
    /// The signing key is not a governance key.
    #[error("the sender's key is not a governance key")]
    NotGovernor,
    /// No proposal has this id.
    #[error("unknown proposal {0}")]
    UnknownProposal(String),
    /// The proposal already passed or was rejected.
    #[error("proposal already closed")]
    ProposalClosed,
    /// The voting period is over: the vote does nothing.
    #[error("voting period ended at height {deadline} (block height {height})")]
    ProposalExpired {
        /// First height at which votes fail.
        deadline: u64,
        /// Current height.
        height: u64,
    },
    /// This key already voted on the proposal.
    #[error("this key already voted on the proposal")]
    AlreadyVoted,
    /// The open-proposal list is full.
    #[error("{max} proposals are open, the limit")]
    TooManyProposals {
        /// The limit.
        max: usize,
    },
}

impl GovernanceError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            GovernanceError::NotGovernor => "not_governor",
            GovernanceError::UnknownProposal(_) => "unknown_proposal",
            GovernanceError::ProposalClosed => "proposal_closed",
            GovernanceError::ProposalExpired { .. } => "proposal_expired",
            GovernanceError::AlreadyVoted => "already_voted",
            GovernanceError::TooManyProposals { .. } => "too_many_proposals",
        }
    }
}

impl From<GovernanceError> for ExecError {
    fn from(e: GovernanceError) -> Self {
        ExecError::Tx(TxError::Governance(e))
    }
}

/// Why a confidential operation failed. Codes are stable receipt codes (docs/confidential.md).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfidentialError {
    /// The account (sender or recipient, named) has no confidential account for the asset.
    #[error("{0} has no confidential account for this asset")]
    NotRegistered(String),
    /// The sender already has a confidential account for the asset.
    #[error("the sender already has a confidential account for this asset")]
    AlreadyRegistered,
    /// The proof bytes do not decode or the proof does not verify against the current state.
    #[error("proof rejected: {0}")]
    ProofInvalid(String),
    /// The proof verifies against the sender's available balance at the start of the block, which an earlier
    /// transaction of the same sender in this block already changed (a double spend of one balance version).
    #[error("proof is against an available balance an earlier transaction of this block already spent")]
    StaleBalance,
    /// The recipient already holds the most pending credits; it must apply its pending balance first.
    #[error("recipient has {max} pending credits, the limit; it must apply its pending balance first")]
    TooManyPending {
        /// The limit.
        max: u64,
    },
    /// Apply-pending named another pending-credit count than the account holds (a credit landed since).
    #[error("expected {expected} pending credits, the account has {actual}")]
    PendingChanged {
        /// What the transaction expected.
        expected: u64,
        /// What the account holds.
        actual: u64,
    },
}

impl ConfidentialError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ConfidentialError::NotRegistered(_) => "not_registered",
            ConfidentialError::AlreadyRegistered => "already_registered",
            ConfidentialError::ProofInvalid(_) => "proof_invalid",
            ConfidentialError::StaleBalance => "stale_balance",
            ConfidentialError::TooManyPending { .. } => "too_many_pending",
            ConfidentialError::PendingChanged { .. } => "pending_changed",
        }
    }
}

impl From<ConfidentialError> for ExecError {
    fn from(e: ConfidentialError) -> Self {
        ExecError::Tx(TxError::Confidential(e))
    }
}

impl TxError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::BadSignature => "bad_signature",
            TxError::WrongChain(_) => "wrong_chain",
            TxError::Expired { .. } => "expired",
            TxError::UnknownSender(_) => "unknown_sender",
            TxError::WrongKey => "wrong_key",
            TxError::BadNonce { .. } => "bad_nonce",
            TxError::FeeTooLow { .. } => "fee_too_low",
            TxError::CannotPayFee(_) => "cannot_pay_fee",
            TxError::InsufficientFunds { .. } => "insufficient_funds",
            TxError::UnknownRecipient(_) => "unknown_recipient",
            TxError::UnknownAsset(_) => "unknown_asset",
            TxError::AssetExists => "asset_exists",
            TxError::Unauthorized(_) => "unauthorized",
            TxError::Invalid(_) => "invalid",
            TxError::Overflow => "overflow",
            TxError::Contract(e) => e.code(),
            TxError::NotEnabled(_) => "not_enabled",
            TxError::Confidential(e) => e.code(),
            TxError::AccountExists(_) => "account_exists",
            TxError::Frozen(_) => "frozen",
            TxError::HolderNotAuthorized(_) => "holder_not_authorized",
            TxError::TxLimitExceeded { .. } => "tx_limit_exceeded",
            TxError::DailyLimitExceeded { .. } => "daily_limit_exceeded",
            TxError::CodeNotAllowed(_) => "code_not_allowed",
            TxError::Governance(e) => e.code(),
        }
    }
}

/// The runtime could not read or decode state: the node's store is broken, not the transaction.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The state backend failed.
    #[error("state error: {0}")]
    State(#[from] StateError),
    /// A stored record does not decode.
    #[error("corrupted state record at key {key}: {reason}")]
    Corrupt {
        /// Hex of the key.
        key: String,
        /// Decoder's message.
        reason: String,
    },
    /// A chain-wide invariant broke while applying a block (e.g. the fee collector's balance overflowed).
    #[error("invariant violated while applying the block: {0}")]
    Invariant(String),
    /// The contract VM failed for a node-local reason (state access, instance pool): not the transaction's
    /// fault, so no receipt can be made and the block cannot be applied on this node now.
    #[error("contract VM failure: {0}")]
    Vm(String),
    /// The genesis document is invalid.
    #[error("invalid genesis: {0}")]
    Genesis(String),
}

/// Either a transaction failure or a runtime failure.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The transaction failed (recorded in its receipt).
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The node failed.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

impl From<StateError> for ExecError {
    fn from(e: StateError) -> Self {
        ExecError::Runtime(RuntimeError::State(e))
    }
}
