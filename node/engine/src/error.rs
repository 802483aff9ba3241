//! Engine errors: only failures of this node (storage, corrupted records, bad genesis). Bad input from peers
//! is dropped and counted, never an error that stops the engine.

/// Why the engine cannot continue.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed.
    #[error("storage: {0}")]
    Storage(#[from] purse_storage::StorageError),
    /// State access failed.
    #[error("state: {0}")]
    State(#[from] purse_state::StateError),
    /// Block execution hit a broken store.
    #[error("runtime: {0}")]
    Runtime(#[from] purse_runtime::RuntimeError),
    /// The pending-transaction validator could not read committed state.
    #[error("mempool: {0}")]
    Mempool(#[from] purse_mempool::MempoolError),
    /// The contract VM could not be built.
    #[error("contract VM: {0}")]
    Vm(String),
    /// A stored record does not decode.
    #[error("corrupted record: {0}")]
    Corrupt(String),
    /// The genesis document is invalid or does not match the store.
    #[error("genesis: {0}")]
    Genesis(String),
}
