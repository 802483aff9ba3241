//! Execution errors. Every contract-level failure is deterministic — the same inputs give the same error on
//! every validator — and has a stable [`ExecError::code`]. Two kinds are *fatal* ([`ExecError::is_fatal`]):
//! they come from the node, not the contract, and the runtime must not record a receipt for them.

use crate::check::CheckError;
use crate::state::StateError;
use purse_types::{Address, Hash};

/// Why an execution failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// Deploy-time checks refused the code (or it failed to compile).
    #[error("invalid code: {0}")]
    InvalidCode(CheckError),
    /// No code with this hash is stored.
    #[error("no code stored with hash {0}")]
    CodeNotFound(Hash),
    /// No contract at this address.
    #[error("no contract at {0}")]
    ContractNotFound(Address),
    /// Instantiate would overwrite an existing contract.
    #[error("a contract already exists at {0}")]
    ContractExists(Address),
    /// The contract does not export this method, or it is reserved (`init`, `migrate`).
    #[error("method not callable: {0}")]
    MethodNotFound(String),
    /// The sender may not do this (e.g. upgrade without being the admin).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Funds attached to a call exceed the sender's balance.
    #[error("insufficient funds: {0}")]
    InsufficientFunds(String),
    /// The fuel limit was reached.
    #[error("out of fuel")]
    OutOfFuel,
    /// The wasm code trapped (unreachable, out-of-bounds access, division by zero, stack exhausted, …).
    #[error("trap: {0}")]
    Trap(String),
    /// The contract called `abort` with this message.
    #[error("contract aborted: {0}")]
    Aborted(String),
    /// The contract misused a host function (bad pointer or length, over a size limit, invalid UTF-8).
    #[error("host error: {0}")]
    Host(String),
    /// A write (storage, event, transfer) was attempted during a read-only query.
    #[error("read-only: {0}")]
    ReadOnly(String),
    /// A run-time resource limit was hit (memory pages, events).
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// Fatal: the node's state access failed.
    #[error("{0}")]
    State(StateError),
    /// Fatal: a node-local failure (instance pool exhausted, engine error); retrying may succeed.
    #[error("internal: {0}")]
    Internal(String),
}

impl ExecError {
    /// Stable machine-readable code, for receipts.
    pub fn code(&self) -> &'static str {
        match self {
            ExecError::InvalidCode(_) => "invalid_code",
            ExecError::CodeNotFound(_) => "code_not_found",
            ExecError::ContractNotFound(_) => "contract_not_found",
            ExecError::ContractExists(_) => "contract_exists",
            ExecError::MethodNotFound(_) => "method_not_found",
            ExecError::Unauthorized(_) => "unauthorized",
            ExecError::InsufficientFunds(_) => "insufficient_funds",
            ExecError::OutOfFuel => "out_of_fuel",
            ExecError::Trap(_) => "trap",
            ExecError::Aborted(_) => "aborted",
            ExecError::Host(_) => "host_error",
            ExecError::ReadOnly(_) => "read_only",
            ExecError::Limit(_) => "limit_exceeded",
            ExecError::State(_) => "state_error",
            ExecError::Internal(_) => "internal_error",
        }
    }

    /// Whether the failure is the node's, not the contract's: the block must not be applied with a receipt
    /// for it (retry, or halt if persistent).
    pub fn is_fatal(&self) -> bool {
        matches!(self, ExecError::State(_) | ExecError::Internal(_))
    }
}

impl From<StateError> for ExecError {
    fn from(e: StateError) -> Self {
        ExecError::State(e)
    }
}
