//! The contract ABI: the host functions a contract may import (module [`HOST_MODULE`]) with their exact
//! signatures, and the export names the VM calls. Documented for authors in `docs/contracts.md` and
//! ADR 0008; the guest side is `contracts/sdk/src/sys.rs`, which must stay in step with this table.

/// Module name of every host import.
pub const HOST_MODULE: &str = "purse";

/// The linear memory export every contract must have.
pub const MEMORY_EXPORT: &str = "memory";

/// Export run once when a contract is instantiated (optional).
pub const INIT_EXPORT: &str = "init";

/// Export run by an upgrade, from the new code (required for an upgrade to succeed).
pub const MIGRATE_EXPORT: &str = "migrate";

/// A wasm value type as it may appear in a host function signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiType {
    /// `i32`: pointers, lengths, flags.
    I32,
    /// `i64`: heights, times, fuel, lengths that may be `-1`.
    I64,
}

impl AbiType {
    /// The wasm text name.
    pub fn name(self) -> &'static str {
        match self {
            AbiType::I32 => "i32",
            AbiType::I64 => "i64",
        }
    }
}

use AbiType::{I32, I64};

/// One importable host function: name, parameter types, result types.
#[derive(Clone, Copy, Debug)]
pub struct HostFunction {
    /// Import name inside [`HOST_MODULE`].
    pub name: &'static str,
    /// Parameter types, in order.
    pub params: &'static [AbiType],
    /// Result types (zero or one).
    pub results: &'static [AbiType],
}

const fn f(name: &'static str, params: &'static [AbiType], results: &'static [AbiType]) -> HostFunction {
    HostFunction { name, params, results }
}

/// The allow-list: a module importing anything else, or any of these with another signature, is rejected
/// at deploy.
pub const HOST_FUNCTIONS: &[HostFunction] = &[
    // call data
    f("input_len", &[], &[I32]),
    f("input_read", &[I32], &[]),
    f("set_return", &[I32, I32], &[]),
    f("result_read", &[I32], &[]),
    f("abort", &[I32, I32], &[]),
    // storage of the running contract
    f("storage_get", &[I32, I32], &[I64]),
    f("storage_has", &[I32, I32], &[I32]),
    f("storage_set", &[I32, I32, I32, I32], &[]),
    f("storage_remove", &[I32, I32], &[I32]),
    f("storage_scan", &[I32, I32, I32, I32, I32], &[I64]),
    // context
    f("caller", &[I32], &[]),
    f("origin", &[I32], &[]),
    f("self_address", &[I32], &[]),
    f("block_height", &[], &[I64]),
    f("block_time", &[], &[I64]),
    f("fuel_left", &[], &[I64]),
    f("attached_funds", &[], &[I64]),
    // events
    f("emit_event", &[I32, I32, I32, I32], &[]),
    // native assets
    f("balance", &[I32, I32, I32], &[]),
    f("transfer", &[I32, I32, I32], &[I32]),
    // permissions (docs/governance.md)
    f("has_role", &[I32, I32], &[I32]),
    // cross-contract call
    f("call", &[I32, I32, I32, I32, I32, I64], &[I64]),
    // crypto
    f("blake3", &[I32, I32, I32], &[]),
    f("ed25519_verify", &[I32, I32, I32, I32], &[I32]),
];

/// Looks up an allowed host function by import name.
pub fn host_function(name: &str) -> Option<&'static HostFunction> {
    HOST_FUNCTIONS.iter().find(|h| h.name == name)
}

/// `transfer` result: done.
pub const TRANSFER_OK: i32 = 0;
/// `transfer` result: the contract's balance is too low.
pub const TRANSFER_INSUFFICIENT_FUNDS: i32 = 1;
/// `transfer` result: refused by the chain's asset policy (e.g. frozen or non-transferable asset).
pub const TRANSFER_REFUSED: i32 = 2;
/// `transfer` result: the recipient's balance would overflow.
pub const TRANSFER_OVERFLOW: i32 = 3;

/// `storage_get` result when the key has no value. (`call` returns `-1 - message length` on failure, the
/// message in the pending result.)
pub const NONE: i64 = -1;
