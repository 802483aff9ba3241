//! counter — the smallest useful Purse contract: a counter with events, a no-op (for benchmarks), a method
//! that fails after writing (rollback demo), cross-contract forwarding and a migration.
//!
//! Contract crates link `std` only because Rust 1.63 has no stable `#[alloc_error_handler]` for `no_std`
//! binaries; the SDK is `no_std`, and LTO drops everything from std that the contract does not use.

use purse_contract_sdk::storage::Item;
use purse_contract_sdk::{call_raw, emit, entry, Address, Error};

static COUNT: Item<u64> = Item::new(b"count");
static VERSION: Item<u32> = Item::new(b"version");

/// Sets the starting value.
pub fn init(start: u64) -> Result<(), Error> {
    COUNT.set(&start);
    VERSION.set(&1);
    Ok(())
}

/// Adds `by`, emits `counter.incremented` with the new value, returns it.
pub fn increment(by: u64) -> Result<u64, Error> {
    let n = COUNT.get_or(0).checked_add(by).ok_or_else(|| Error::new("counter overflow"))?;
    COUNT.set(&n);
    emit("counter.incremented", &n);
    Ok(n)
}

/// The current value.
pub fn get(_: ()) -> Result<u64, Error> {
    Ok(COUNT.get_or(0))
}

/// Does nothing (benchmarks the call overhead).
pub fn noop(_: ()) -> Result<(), Error> {
    Ok(())
}

/// Writes, then fails: the write must be rolled back.
pub fn fail_after_write(_: ()) -> Result<(), Error> {
    COUNT.set(&999);
    emit("counter.never", &());
    Err(Error::new("deliberate failure after a write"))
}

/// Calls `method` on `target` with raw `args`; returns (succeeded, result or error message).
pub fn forward(args: (Address, String, Vec<u8>)) -> Result<(bool, Vec<u8>), Error> {
    let (target, method, inner) = args;
    match call_raw(&target, &method, &inner, 0) {
        Ok(out) => Ok((true, out)),
        Err(msg) => Ok((false, msg.into_bytes())),
    }
}

/// The code version recorded by `init` / `migrate`.
pub fn version(_: ()) -> Result<u32, Error> {
    Ok(VERSION.get_or(0))
}

/// Runs on upgrade to this code.
pub fn migrate(_: ()) -> Result<(), Error> {
    VERSION.set(&(VERSION.get_or(0) + 1));
    Ok(())
}

entry!(init, increment, get, noop, fail_after_write, forward, version, migrate);
