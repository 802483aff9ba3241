//! Raw host imports (module `purse`). Must match `runtime/vm/src/abi.rs` exactly: the VM rejects a module
//! whose imports differ in name or signature. Pointers and lengths are `u32` offsets into linear memory.
//! Off wasm32 (native unit tests) every function aborts: host calls exist only inside the VM.

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "purse")]
extern "C" {
    pub fn input_len() -> u32;
    pub fn input_read(ptr: *mut u8);
    pub fn set_return(ptr: *const u8, len: u32);
    pub fn result_read(ptr: *mut u8);
    pub fn abort(ptr: *const u8, len: u32);

    pub fn storage_get(key_ptr: *const u8, key_len: u32) -> i64;
    pub fn storage_has(key_ptr: *const u8, key_len: u32) -> u32;
    pub fn storage_set(key_ptr: *const u8, key_len: u32, val_ptr: *const u8, val_len: u32);
    pub fn storage_remove(key_ptr: *const u8, key_len: u32) -> u32;
    pub fn storage_scan(prefix_ptr: *const u8, prefix_len: u32, from_ptr: *const u8, from_len: u32, limit: u32)
        -> i64;

    pub fn caller(out: *mut u8);
    pub fn origin(out: *mut u8);
    pub fn self_address(out: *mut u8);
    pub fn block_height() -> i64;
    pub fn block_time() -> i64;
    pub fn fuel_left() -> i64;
    pub fn attached_funds() -> i64;

    pub fn emit_event(topic_ptr: *const u8, topic_len: u32, data_ptr: *const u8, data_len: u32);

    pub fn balance(account_ptr: *const u8, asset_ptr: *const u8, out: *mut u8);
    pub fn transfer(to_ptr: *const u8, asset_ptr: *const u8, amount_ptr: *const u8) -> u32;

    pub fn has_role(account_ptr: *const u8, role: u32) -> u32;

    pub fn call(addr_ptr: *const u8, method_ptr: *const u8, method_len: u32, args_ptr: *const u8, args_len: u32, fuel: i64)
        -> i64;

    pub fn blake3(ptr: *const u8, len: u32, out: *mut u8);
    pub fn ed25519_verify(key_ptr: *const u8, msg_ptr: *const u8, msg_len: u32, sig_ptr: *const u8) -> u32;
}

#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::missing_safety_doc, unused_variables)]
mod native {
    fn unavailable() -> ! {
        panic!("purse host functions are only available inside the VM (build for wasm32 and use purse-contract-test)")
    }
    pub unsafe fn input_len() -> u32 { unavailable() }
    pub unsafe fn input_read(ptr: *mut u8) { unavailable() }
    pub unsafe fn set_return(ptr: *const u8, len: u32) { unavailable() }
    pub unsafe fn result_read(ptr: *mut u8) { unavailable() }
    pub unsafe fn abort(ptr: *const u8, len: u32) { unavailable() }
    pub unsafe fn storage_get(key_ptr: *const u8, key_len: u32) -> i64 { unavailable() }
    pub unsafe fn storage_has(key_ptr: *const u8, key_len: u32) -> u32 { unavailable() }
    pub unsafe fn storage_set(key_ptr: *const u8, key_len: u32, val_ptr: *const u8, val_len: u32) { unavailable() }
    pub unsafe fn storage_remove(key_ptr: *const u8, key_len: u32) -> u32 { unavailable() }
    pub unsafe fn storage_scan(p: *const u8, pl: u32, f: *const u8, fl: u32, limit: u32) -> i64 { unavailable() }
    pub unsafe fn caller(out: *mut u8) { unavailable() }
    pub unsafe fn origin(out: *mut u8) { unavailable() }
    pub unsafe fn self_address(out: *mut u8) { unavailable() }
    pub unsafe fn block_height() -> i64 { unavailable() }
    pub unsafe fn block_time() -> i64 { unavailable() }
    pub unsafe fn fuel_left() -> i64 { unavailable() }
    pub unsafe fn attached_funds() -> i64 { unavailable() }
    pub unsafe fn emit_event(tp: *const u8, tl: u32, dp: *const u8, dl: u32) { unavailable() }
    pub unsafe fn balance(a: *const u8, s: *const u8, out: *mut u8) { unavailable() }
    pub unsafe fn transfer(to: *const u8, s: *const u8, amount: *const u8) -> u32 { unavailable() }
    pub unsafe fn has_role(a: *const u8, role: u32) -> u32 { unavailable() }
    pub unsafe fn call(a: *const u8, m: *const u8, ml: u32, ap: *const u8, al: u32, fuel: i64) -> i64 { unavailable() }
    pub unsafe fn blake3(p: *const u8, l: u32, out: *mut u8) { unavailable() }
    pub unsafe fn ed25519_verify(k: *const u8, m: *const u8, ml: u32, s: *const u8) -> u32 { unavailable() }
}
#[cfg(not(target_arch = "wasm32"))]
pub use native::*;
