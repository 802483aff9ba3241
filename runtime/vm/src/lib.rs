//! purse-vm — the deterministic wasmtime host for Purse contracts: deploy-time checks, fuel metering, host
//! functions, journaled state access and the compiled-module cache.
//!
//! The runtime (purse-runtime) uses it like this:
//! 1. build one [`Vm`] per node with [`VmConfig::default`] (the chain's limits and fuel schedule);
//! 2. implement [`ContractState`] — read access to committed + pending state (contract storage, balances,
//!    code by hash, contract records);
//! 3. for each contract transaction call [`Vm::execute`] with an [`Action`], the block [`Env`] and the fuel
//!    limit, then apply `outcome.diff` ([`StateDiff`]) if `outcome.result` is `Ok`, and record
//!    `outcome.fuel_used`, `outcome.events` and the error code in the receipt. An error with
//!    [`ExecError::is_fatal`] is the node's fault (state I/O, instance pool): do not make a receipt of it.
//!
//! Reads from RPC use [`Vm::query`] (writes are impossible); fee estimation uses [`Vm::dry_run`].
//! Determinism and the accepted wasm features are recorded in `docs/adr/0007-vm-determinism.md`; the ABI in
//! `docs/adr/0008-contract-abi.md` and `docs/contracts.md`.

pub mod abi;
mod cache;
pub mod check;
pub mod config;
mod error;
mod host;
mod state;
mod vm;

pub use cache::CacheStats;
pub use check::{check_module, code_hash, CheckError, ModuleInfo, ACCEPTED_FEATURES};
pub use config::{CacheConfig, FuelSchedule, Limits, VmConfig, DEFAULT_CACHE_MEMORY_BYTES};
pub use error::ExecError;
pub use host::{Ctx, Env};
pub use state::{BalanceChange, ContractInfo, ContractState, Entries, StateDiff, StateError, StorageChange};
pub use vm::{Action, Outcome, Vm, VmInitError, VmInner};
