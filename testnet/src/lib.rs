//! purse-testnet — local multi-validator testnet: launcher, wallet scenario, load generation and invariant checks.
//!
//! [`LocalNet`] starts N validator engines in this process, each with its own RocksDB store, connected by the
//! in-process [`purse_engine::Hub`]. [`scenario`] drives the wallet scenario against it and checks the
//! invariants (identical block hashes and state roots on every validator, no lost transaction, conserved
//! supply).

pub mod catchup;
pub mod localnet;
pub mod scenario;

pub use localnet::{LocalNet, LocalNetConfig, NodeHandle};

/// What can stop a local net or its scenario.
#[derive(Debug, thiserror::Error)]
pub enum TestnetError {
    /// A validator's engine failed.
    #[error("engine: {0}")]
    Engine(#[from] purse_engine::EngineError),
    /// A store failed.
    #[error("storage: {0}")]
    Storage(#[from] purse_storage::StorageError),
    /// RocksDB failed.
    #[error("store: {0}")]
    Store(#[from] purse_state::StoreError),
    /// State access failed.
    #[error("state: {0}")]
    State(#[from] purse_state::StateError),
    /// The runtime (contract queries) failed.
    #[error("runtime: {0}")]
    Runtime(#[from] purse_runtime::RuntimeError),
    /// File system.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Bad configuration.
    #[error("setup: {0}")]
    Setup(String),
    /// The scenario observed a failure.
    #[error("scenario: {0}")]
    Scenario(String),
}
