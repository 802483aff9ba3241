//! Safe wrappers of the host functions: call data, context, events, native assets, cross-contract calls,
//! crypto.

use crate::codec::{Decode, Encode};
use crate::sys;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// A 32-byte account or contract address (borsh: 32 raw bytes, like `purse_types::Address`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 32]);

/// A 32-byte native asset id (like `purse_types::AssetId`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct AssetId(pub [u8; 32]);

macro_rules! bytes32_codec {
    ($t:ident) => {
        impl Encode for $t {
            fn encode_to(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
        }
        impl Decode for $t {
            fn decode_from(input: &mut &[u8]) -> Result<Self, crate::DecodeError> {
                Ok($t(<[u8; 32]>::decode_from(input)?))
            }
        }
    };
}
bytes32_codec!(Address);
bytes32_codec!(AssetId);

/// Reads the pending variable-size host result of `len` bytes.
fn read_result(len: i64) -> Vec<u8> {
    let mut buf = vec![0u8; len as usize];
    unsafe { sys::result_read(buf.as_mut_ptr()) };
    buf
}

/// The raw call input (arguments).
pub fn input() -> Vec<u8> {
    let n = unsafe { sys::input_len() } as usize;
    let mut buf = vec![0u8; n];
    if n > 0 {
        unsafe { sys::input_read(buf.as_mut_ptr()) };
    }
    buf
}

/// Sets the call's return data.
pub fn set_return(data: &[u8]) {
    unsafe { sys::set_return(data.as_ptr(), data.len() as u32) }
}

/// Fails the call with `message`; every write of the call (and of calls it made) is rolled back.
pub fn abort(message: &str) -> ! {
    unsafe { sys::abort(message.as_ptr(), message.len() as u32) };
    // `abort` never returns; satisfy the type checker without a panic path.
    #[allow(clippy::empty_loop)]
    loop {}
}

fn address_from(f: impl FnOnce(*mut u8)) -> Address {
    let mut a = [0u8; 32];
    f(a.as_mut_ptr());
    Address(a)
}

/// Who called this contract: the transaction signer for a top-level call, the calling contract otherwise.
pub fn caller() -> Address {
    address_from(|p| unsafe { sys::caller(p) })
}

/// The transaction signer.
pub fn origin() -> Address {
    address_from(|p| unsafe { sys::origin(p) })
}

/// This contract's address.
pub fn self_address() -> Address {
    address_from(|p| unsafe { sys::self_address(p) })
}

/// Height of the block being executed.
pub fn block_height() -> u64 {
    unsafe { sys::block_height() as u64 }
}

/// Block timestamp, milliseconds since the Unix epoch.
pub fn block_time() -> u64 {
    unsafe { sys::block_time() as u64 }
}

/// Fuel left for this call.
pub fn fuel_left() -> u64 {
    unsafe { sys::fuel_left() as u64 }
}

/// Native funds attached to this call (already credited to this contract).
pub fn attached_funds() -> Vec<(AssetId, u128)> {
    let n = unsafe { sys::attached_funds() };
    Vec::decode(&read_result(n)).unwrap_or_default()
}

/// Emits an event with a topic (≤ 64 bytes) and codec-encoded data.
pub fn emit<T: Encode + ?Sized>(topic: &str, data: &T) {
    let d = data.encode();
    unsafe { sys::emit_event(topic.as_ptr(), topic.len() as u32, d.as_ptr(), d.len() as u32) }
}

/// Balance of `account` in `asset`.
pub fn balance(account: &Address, asset: &AssetId) -> u128 {
    let mut out = [0u8; 16];
    unsafe { sys::balance(account.0.as_ptr(), asset.0.as_ptr(), out.as_mut_ptr()) };
    u128::from_le_bytes(out)
}

/// A chain role (docs/governance.md), numbered as the chain numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Role {
    /// Registers accounts and sets their KYC tier.
    OnboardingAuthority = 0,
    /// Creates and controls assets.
    AssetIssuer = 1,
    /// A merchant.
    Merchant = 2,
    /// A token service provider.
    TokenServiceProvider = 3,
    /// An exchange operator.
    ExchangeOperator = 4,
    /// Publishes exchange rates.
    RateFeed = 5,
    /// Reads any account's history.
    Auditor = 6,
}

/// Whether `account` holds `role` on chain (granted by governance or the role's administrator).
pub fn has_role(account: &Address, role: Role) -> bool {
    unsafe { sys::has_role(account.0.as_ptr(), role as u32) == 1 }
}

/// Why a transfer failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferError {
    /// This contract's balance is too low.
    InsufficientFunds,
    /// The chain's asset policy refused it.
    Refused,
    /// The recipient's balance would overflow.
    Overflow,
}

/// Sends `amount` of `asset` from this contract to `to`.
pub fn transfer(to: &Address, asset: &AssetId, amount: u128) -> Result<(), TransferError> {
    let a = amount.to_le_bytes();
    match unsafe { sys::transfer(to.0.as_ptr(), asset.0.as_ptr(), a.as_ptr()) } {
        0 => Ok(()),
        1 => Err(TransferError::InsufficientFunds),
        2 => Err(TransferError::Refused),
        _ => Err(TransferError::Overflow),
    }
}

/// Calls `method` of `contract` with raw `args`, giving it at most `fuel` (0: all that is left).
/// `Err(message)` when the callee failed (its writes are rolled back, this call continues) or the call was
/// refused (depth limit, re-entry, no such contract).
pub fn call_raw(contract: &Address, method: &str, args: &[u8], fuel: u64) -> Result<Vec<u8>, String> {
    let n = unsafe {
        sys::call(contract.0.as_ptr(), method.as_ptr(), method.len() as u32, args.as_ptr(), args.len() as u32, fuel as i64)
    };
    if n < 0 {
        // Failure: `-1 - message length`, the message in the pending result.
        let msg = read_result(-1 - n);
        Err(String::from_utf8_lossy(&msg).into_owned())
    } else {
        Ok(read_result(n))
    }
}

/// Typed cross-contract call: encodes `args`, decodes the result as `R`.
pub fn call<A: Encode, R: Decode>(contract: &Address, method: &str, args: &A, fuel: u64) -> Result<R, String> {
    let out = call_raw(contract, method, &args.encode(), fuel)?;
    R::decode(&out).map_err(|e| alloc::format!("decoding the result of {}: {}", method, e))
}

/// blake3 hash of `data` (plain, no domain).
pub fn blake3(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    unsafe { sys::blake3(data.as_ptr(), data.len() as u32, out.as_mut_ptr()) };
    out
}

/// Verifies an ed25519 signature (Purse's rule: `purse_types::verify`).
pub fn ed25519_verify(public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    unsafe { sys::ed25519_verify(public_key.as_ptr(), message.as_ptr(), message.len() as u32, signature.as_ptr()) == 1 }
}
