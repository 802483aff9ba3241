//! Host functions (the `purse` import module) and the per-frame store data they work on.
//!
//! Rules every function follows:
//! - charge `host_call_base` first, then the function's own price, then per byte, *before* doing the work;
//! - bounds-check every guest pointer/length against the memory and against the relevant [`Limits`] before
//!   allocating or copying anything;
//! - never panic: a misuse records an [`ExecError`] in the frame and traps, which rolls the frame back.

use crate::abi::{self, HOST_MODULE};
use crate::config::{FuelSchedule, Limits};
use crate::error::ExecError;
use crate::state::{ContractState, Journal};
use crate::vm::{run_frame, Frame, VmInner};
use purse_types::{Address, Amount, AssetId, Event, PublicKey, Role, Signature};
use std::sync::Arc;
use wasmtime::{Caller, Linker, Memory, ResourceLimiter};

/// Block and transaction context of one execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    /// Height of the block being executed.
    pub block_height: u64,
    /// Block timestamp, milliseconds since the Unix epoch (from the block header, never the local clock).
    pub block_time_ms: u64,
    /// The transaction's signer: `origin` for every frame, and the caller of the top-level frame.
    pub origin: Address,
}

/// State shared by every frame of one execution; moved into whichever frame is running.
pub(crate) struct Shared {
    pub(crate) state: Arc<dyn ContractState>,
    pub(crate) journal: Journal,
    pub(crate) env: Env,
    /// Contracts currently executing, outermost first.
    pub(crate) stack: Vec<Address>,
}

/// Run-time memory/table limiter of one frame.
pub(crate) struct Limiter {
    max_memory_bytes: usize,
    max_table_elements: usize,
    pub(crate) hit: Option<String>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory_bytes {
            let msg = format!(
                "memory would grow from {} to {} pages, over the {}-page cap",
                current / 65536,
                desired / 65536,
                self.max_memory_bytes / 65536
            );
            self.hit = Some(msg.clone());
            return Err(wasmtime::Error::msg(msg));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_table_elements {
            let msg =
                format!("table would grow to {desired} elements, over the {} cap", self.max_table_elements);
            self.hit = Some(msg.clone());
            return Err(wasmtime::Error::msg(msg));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        1
    }
    fn tables(&self) -> usize {
        1
    }
    fn memories(&self) -> usize {
        1
    }
}

/// The data of one frame's wasmtime store.
pub struct Ctx {
    pub(crate) vm: Arc<VmInner>,
    pub(crate) shared: Option<Box<Shared>>,
    pub(crate) frame: Frame,
    pub(crate) memory: Option<Memory>,
    /// Pending variable-size result, copied out by `result_read`.
    pub(crate) result: Vec<u8>,
    /// Return data set by `set_return`.
    pub(crate) ret: Vec<u8>,
    /// Why the frame trapped, when a host function made it trap.
    pub(crate) error: Option<ExecError>,
    pub(crate) limiter: Limiter,
}

impl Ctx {
    pub(crate) fn new(vm: Arc<VmInner>, shared: Box<Shared>, frame: Frame) -> Ctx {
        let limits = &vm.config.limits;
        let limiter = Limiter {
            max_memory_bytes: limits.max_memory_pages as usize * 65536,
            max_table_elements: limits.max_table_elements as usize,
            hit: None,
        };
        Ctx {
            vm,
            shared: Some(shared),
            frame,
            memory: None,
            result: Vec::new(),
            ret: Vec::new(),
            error: None,
            limiter,
        }
    }
}

type C<'a> = Caller<'a, Ctx>;
type R<T> = wasmtime::Result<T>;

/// Records `e` as the frame's failure and returns the trap that unwinds the guest.
fn fail<T>(caller: &mut C<'_>, e: ExecError) -> R<T> {
    let msg = e.to_string();
    caller.data_mut().error = Some(e);
    Err(wasmtime::Error::msg(msg))
}

fn host_err<T>(caller: &mut C<'_>, msg: impl Into<String>) -> R<T> {
    fail(caller, ExecError::Host(msg.into()))
}

fn schedule<'a>(caller: &'a C<'_>) -> &'a FuelSchedule {
    &caller.data().vm.config.fuel
}

fn limits<'a>(caller: &'a C<'_>) -> &'a Limits {
    &caller.data().vm.config.limits
}

/// Takes `amount` fuel; out of fuel ends the frame.
fn charge(caller: &mut C<'_>, amount: u64) -> R<()> {
    let left = caller.get_fuel()?;
    if left < amount {
        caller.set_fuel(0)?;
        return fail(caller, ExecError::OutOfFuel);
    }
    caller.set_fuel(left - amount)?;
    Ok(())
}

fn bytes_fuel(per_byte: u64, len: usize) -> u64 {
    per_byte.saturating_mul(len as u64)
}

fn shared<'a>(caller: &'a mut C<'_>) -> R<&'a mut Shared> {
    if caller.data().shared.is_none() {
        return fail(caller, ExecError::Internal("execution journal missing".into()));
    }
    match caller.data_mut().shared.as_deref_mut() {
        Some(s) => Ok(s),
        None => Err(wasmtime::Error::msg("execution journal missing")),
    }
}

fn memory(caller: &mut C<'_>) -> R<Memory> {
    match caller.data().memory {
        Some(m) => Ok(m),
        None => host_err(caller, "contract has no memory"),
    }
}

/// Validates a guest (ptr, len) pair against the memory and `max`, returning the range.
fn range(caller: &mut C<'_>, ptr: i32, len: i32, max: usize, what: &str) -> R<(usize, usize)> {
    let (p, l) = (ptr as u32 as usize, len as u32 as usize);
    if len < 0 || l > max {
        return host_err(caller, format!("{what}: length {len} exceeds the limit of {max} bytes"));
    }
    let mem = memory(caller)?;
    let size = mem.data_size(&*caller);
    match p.checked_add(l) {
        Some(end) if end <= size => Ok((p, l)),
        _ => {
            host_err(caller, format!("{what}: range {p}+{l} is outside the contract's memory ({size} bytes)"))
        }
    }
}

/// Reads guest bytes, charging per byte.
fn read(caller: &mut C<'_>, ptr: i32, len: i32, max: usize, what: &str) -> R<Vec<u8>> {
    let (p, l) = range(caller, ptr, len, max, what)?;
    charge(caller, bytes_fuel(schedule(caller).per_byte_copied, l))?;
    let mem = memory(caller)?;
    Ok(mem.data(&*caller)[p..p + l].to_vec())
}

fn read_array<const N: usize>(caller: &mut C<'_>, ptr: i32, what: &str) -> R<[u8; N]> {
    let v = read(caller, ptr, N as i32, N, what)?;
    let mut out = [0u8; N];
    out.copy_from_slice(&v);
    Ok(out)
}

/// Writes bytes into guest memory, charging per byte.
fn write(caller: &mut C<'_>, ptr: i32, data: &[u8], what: &str) -> R<()> {
    let (p, l) = range(caller, ptr, data.len() as i32, usize::MAX, what)?;
    charge(caller, bytes_fuel(schedule(caller).per_byte_copied, l))?;
    let mem = memory(caller)?;
    mem.data_mut(&mut *caller)[p..p + l].copy_from_slice(data);
    Ok(())
}

fn check_writable(caller: &mut C<'_>, what: &str) -> R<()> {
    if caller.data().frame.read_only {
        return fail(caller, ExecError::ReadOnly(format!("{what} is not allowed in a query")));
    }
    Ok(())
}

fn state_failed<T>(caller: &mut C<'_>, e: crate::state::StateError) -> R<T> {
    fail(caller, ExecError::State(e))
}

/// Sets the pending result and returns its length.
fn set_result(caller: &mut C<'_>, data: Vec<u8>) -> i64 {
    let len = data.len() as i64;
    caller.data_mut().result = data;
    len
}

/// A failed `call`: the message goes to the pending result, the return value is `-1 - message length`.
fn call_failed(caller: &mut C<'_>, message: Vec<u8>) -> i64 {
    -1 - set_result(caller, message)
}

fn base(caller: &mut C<'_>, extra: u64) -> R<()> {
    let b = schedule(caller).host_call_base;
    charge(caller, b.saturating_add(extra))
}

/// Adds every host function to the linker.
pub(crate) fn link(linker: &mut Linker<Ctx>) -> wasmtime::Result<()> {
    let m = HOST_MODULE;

    // ---- call data ----
    linker.func_wrap(m, "input_len", |mut c: C<'_>| -> R<i32> {
        base(&mut c, 0)?;
        Ok(c.data().frame.input.len() as i32)
    })?;
    linker.func_wrap(m, "input_read", |mut c: C<'_>, ptr: i32| -> R<()> {
        base(&mut c, 0)?;
        let input = std::mem::take(&mut c.data_mut().frame.input);
        let r = write(&mut c, ptr, &input, "input_read");
        c.data_mut().frame.input = input;
        r
    })?;
    linker.func_wrap(m, "set_return", |mut c: C<'_>, ptr: i32, len: i32| -> R<()> {
        base(&mut c, 0)?;
        let max = limits(&c).max_return_len;
        let data = read(&mut c, ptr, len, max, "set_return")?;
        c.data_mut().ret = data;
        Ok(())
    })?;
    linker.func_wrap(m, "result_read", |mut c: C<'_>, ptr: i32| -> R<()> {
        base(&mut c, 0)?;
        let result = std::mem::take(&mut c.data_mut().result);
        let r = write(&mut c, ptr, &result, "result_read");
        c.data_mut().result = result;
        r
    })?;
    linker.func_wrap(m, "abort", |mut c: C<'_>, ptr: i32, len: i32| -> R<()> {
        base(&mut c, 0)?;
        let max = limits(&c).max_abort_message_len;
        let msg = read(&mut c, ptr, len, max, "abort message")?;
        let msg = String::from_utf8_lossy(&msg).into_owned();
        fail(&mut c, ExecError::Aborted(msg))
    })?;

    // ---- storage ----
    linker.func_wrap(m, "storage_get", |mut c: C<'_>, kp: i32, kl: i32| -> R<i64> {
        let price = schedule(&c).storage_read;
        base(&mut c, price)?;
        let max = limits(&c).max_key_len;
        let key = read(&mut c, kp, kl, max, "storage key")?;
        let contract = c.data().frame.contract;
        let s = shared(&mut c)?;
        let value = match s.journal.storage_get(&*s.state, &contract, &key) {
            Ok(v) => v,
            Err(e) => return state_failed(&mut c, e),
        };
        match value {
            None => Ok(abi::NONE),
            Some(v) => {
                let per = schedule(&c).storage_read_per_byte;
                charge(&mut c, bytes_fuel(per, v.len()))?;
                Ok(set_result(&mut c, v))
            }
        }
    })?;
    linker.func_wrap(m, "storage_has", |mut c: C<'_>, kp: i32, kl: i32| -> R<i32> {
        let price = schedule(&c).storage_read;
        base(&mut c, price)?;
        let max = limits(&c).max_key_len;
        let key = read(&mut c, kp, kl, max, "storage key")?;
        let contract = c.data().frame.contract;
        let s = shared(&mut c)?;
        match s.journal.storage_get(&*s.state, &contract, &key) {
            Ok(v) => Ok(i32::from(v.is_some())),
            Err(e) => state_failed(&mut c, e),
        }
    })?;
    linker.func_wrap(m, "storage_set", |mut c: C<'_>, kp: i32, kl: i32, vp: i32, vl: i32| -> R<()> {
        let price = schedule(&c).storage_write;
        base(&mut c, price)?;
        check_writable(&mut c, "storage_set")?;
        let (max_k, max_v) = (limits(&c).max_key_len, limits(&c).max_value_len);
        let key = read(&mut c, kp, kl, max_k, "storage key")?;
        let value = read(&mut c, vp, vl, max_v, "storage value")?;
        let per = schedule(&c).storage_write_per_byte;
        charge(&mut c, bytes_fuel(per, key.len() + value.len()))?;
        let contract = c.data().frame.contract;
        shared(&mut c)?.journal.storage_put(contract, key, Some(value));
        Ok(())
    })?;
    linker.func_wrap(m, "storage_remove", |mut c: C<'_>, kp: i32, kl: i32| -> R<i32> {
        let price = schedule(&c).storage_remove;
        base(&mut c, price)?;
        check_writable(&mut c, "storage_remove")?;
        let max = limits(&c).max_key_len;
        let key = read(&mut c, kp, kl, max, "storage key")?;
        let contract = c.data().frame.contract;
        let s = shared(&mut c)?;
        let existed = match s.journal.storage_get(&*s.state, &contract, &key) {
            Ok(v) => v.is_some(),
            Err(e) => return state_failed(&mut c, e),
        };
        if existed {
            shared(&mut c)?.journal.storage_put(contract, key, None);
        }
        Ok(i32::from(existed))
    })?;
    linker.func_wrap(
        m,
        "storage_scan",
        |mut c: C<'_>, pp: i32, pl: i32, fp: i32, fl: i32, limit: i32| -> R<i64> {
            let price = schedule(&c).storage_scan;
            base(&mut c, price)?;
            let (max_k, max_n) = (limits(&c).max_key_len, limits(&c).max_scan_limit);
            if limit < 0 || limit as u32 > max_n {
                return host_err(&mut c, format!("storage_scan: limit {limit} is outside 0..={max_n}"));
            }
            let prefix = read(&mut c, pp, pl, max_k, "scan prefix")?;
            let from = read(&mut c, fp, fl, max_k, "scan start")?;
            let contract = c.data().frame.contract;
            // Every entry the scan visits is paid for, not only those it returns (entries the transaction
            // deleted are fetched from the state and skipped): it may visit no more than the fuel left pays.
            let per_entry = schedule(&c).storage_scan_per_entry.max(1);
            let budget = usize::try_from(c.get_fuel()? / per_entry).unwrap_or(usize::MAX);
            let s = shared(&mut c)?;
            let scan =
                match s.journal.storage_scan(&*s.state, &contract, &prefix, &from, limit as usize, budget) {
                    Ok(scan) => scan,
                    Err(e) => return state_failed(&mut c, e),
                };
            let bytes: usize = scan.entries.iter().map(|(k, v)| k.len() + v.len()).sum();
            let sch = schedule(&c);
            let cost = if scan.over_budget {
                u64::MAX
            } else {
                sch.storage_scan_per_entry
                    .saturating_mul(scan.visited as u64)
                    .saturating_add(bytes_fuel(sch.storage_read_per_byte, bytes))
            };
            charge(&mut c, cost)?;
            Ok(set_result(&mut c, borsh::to_vec(&scan.entries).unwrap_or_default()))
        },
    )?;

    // ---- context ----
    linker.func_wrap(m, "caller", |mut c: C<'_>, out: i32| -> R<()> {
        base(&mut c, 0)?;
        let a = c.data().frame.caller;
        write(&mut c, out, a.as_bytes(), "caller")
    })?;
    linker.func_wrap(m, "origin", |mut c: C<'_>, out: i32| -> R<()> {
        base(&mut c, 0)?;
        let a = shared(&mut c)?.env.origin;
        write(&mut c, out, a.as_bytes(), "origin")
    })?;
    linker.func_wrap(m, "self_address", |mut c: C<'_>, out: i32| -> R<()> {
        base(&mut c, 0)?;
        let a = c.data().frame.contract;
        write(&mut c, out, a.as_bytes(), "self_address")
    })?;
    linker.func_wrap(m, "block_height", |mut c: C<'_>| -> R<i64> {
        base(&mut c, 0)?;
        Ok(shared(&mut c)?.env.block_height as i64)
    })?;
    linker.func_wrap(m, "block_time", |mut c: C<'_>| -> R<i64> {
        base(&mut c, 0)?;
        Ok(shared(&mut c)?.env.block_time_ms as i64)
    })?;
    linker.func_wrap(m, "fuel_left", |mut c: C<'_>| -> R<i64> {
        base(&mut c, 0)?;
        Ok(c.get_fuel()? as i64)
    })?;
    linker.func_wrap(m, "attached_funds", |mut c: C<'_>| -> R<i64> {
        base(&mut c, 0)?;
        let funds: Vec<(AssetId, Amount)> = c.data().frame.funds.clone();
        Ok(set_result(&mut c, borsh::to_vec(&funds).unwrap_or_default()))
    })?;

    // ---- events ----
    linker.func_wrap(m, "emit_event", |mut c: C<'_>, tp: i32, tl: i32, dp: i32, dl: i32| -> R<()> {
        let price = schedule(&c).event;
        base(&mut c, price)?;
        check_writable(&mut c, "emit_event")?;
        let (max_t, max_d, max_n) =
            (limits(&c).max_topic_len, limits(&c).max_event_data_len, limits(&c).max_events);
        let topic = read(&mut c, tp, tl, max_t, "event topic")?;
        let data = read(&mut c, dp, dl, max_d, "event data")?;
        let per = schedule(&c).event_per_byte;
        charge(&mut c, bytes_fuel(per, topic.len() + data.len()))?;
        let Ok(topic) = String::from_utf8(topic) else {
            return host_err(&mut c, "event topic is not UTF-8");
        };
        if shared(&mut c)?.journal.events.len() >= max_n {
            return fail(&mut c, ExecError::Limit(format!("more than {max_n} events")));
        }
        let emitter = c.data().frame.contract;
        shared(&mut c)?.journal.events.push(Event { emitter, topic, data });
        Ok(())
    })?;

    // ---- native assets ----
    linker.func_wrap(m, "balance", |mut c: C<'_>, ap: i32, sp: i32, out: i32| -> R<()> {
        let price = schedule(&c).balance;
        base(&mut c, price)?;
        let account = Address(read_array::<32>(&mut c, ap, "balance account")?);
        let asset = AssetId(read_array::<32>(&mut c, sp, "balance asset")?);
        let s = shared(&mut c)?;
        let amount = match s.journal.balance(&*s.state, &account, &asset) {
            Ok(a) => a,
            Err(e) => return state_failed(&mut c, e),
        };
        write(&mut c, out, &amount.0.to_le_bytes(), "balance out")
    })?;
    linker.func_wrap(m, "transfer", |mut c: C<'_>, tp: i32, sp: i32, ap: i32| -> R<i32> {
        let price = schedule(&c).transfer;
        base(&mut c, price)?;
        check_writable(&mut c, "transfer")?;
        let to = Address(read_array::<32>(&mut c, tp, "transfer recipient")?);
        let asset = AssetId(read_array::<32>(&mut c, sp, "transfer asset")?);
        let amount = Amount(u128::from_le_bytes(read_array::<16>(&mut c, ap, "transfer amount")?));
        let from = c.data().frame.contract;
        let s = shared(&mut c)?;
        match move_funds(s, &from, &to, &asset, amount) {
            Ok(code) => Ok(code),
            Err(e) => fail(&mut c, e),
        }
    })?;

    // ---- permissions ----
    linker.func_wrap(m, "has_role", |mut c: C<'_>, ap: i32, role: i32| -> R<i32> {
        let price = schedule(&c).has_role;
        base(&mut c, price)?;
        let account = Address(read_array::<32>(&mut c, ap, "has_role account")?);
        let Some(role) = usize::try_from(role).ok().and_then(|i| Role::ALL.get(i).copied()) else {
            return host_err(&mut c, format!("has_role: unknown role {role}"));
        };
        let s = shared(&mut c)?;
        match s.state.has_role(&account, role) {
            Ok(held) => Ok(i32::from(held)),
            Err(e) => state_failed(&mut c, e),
        }
    })?;

    // ---- cross-contract call ----
    linker.func_wrap(
        m,
        "call",
        |mut c: C<'_>, ap: i32, mp: i32, ml: i32, argp: i32, argl: i32, fuel: i64| -> R<i64> {
            let price = schedule(&c).call;
            base(&mut c, price)?;
            let (max_m, max_in, max_depth) =
                (limits(&c).max_method_name_len, limits(&c).max_input_len, limits(&c).max_call_depth);
            let callee = Address(read_array::<32>(&mut c, ap, "call address")?);
            let method = read(&mut c, mp, ml, max_m, "call method")?;
            let args = read(&mut c, argp, argl, max_in, "call arguments")?;
            let Ok(method) = String::from_utf8(method) else {
                return host_err(&mut c, "call: method name is not UTF-8");
            };
            let s = shared(&mut c)?;
            if s.stack.len() >= max_depth as usize {
                return Ok(call_failed(
                    &mut c,
                    format!("call depth limit ({max_depth}) exceeded").into_bytes(),
                ));
            }
            let info = match s.journal.contract(&*s.state, &callee) {
                Ok(Some(i)) => i,
                Ok(None) => {
                    return Ok(call_failed(&mut c, format!("no contract at {callee}").into_bytes()));
                }
                Err(e) => return state_failed(&mut c, e),
            };
            if s.stack.contains(&callee) && !info.allow_reentry {
                return Ok(call_failed(&mut c, format!("re-entry into {callee} denied").into_bytes()));
            }
            if method == abi::INIT_EXPORT || method == abi::MIGRATE_EXPORT {
                return Ok(call_failed(&mut c, format!("method `{method}` cannot be called").into_bytes()));
            }
            let remaining = c.get_fuel()?;
            let limit = if fuel > 0 { (fuel as u64).min(remaining) } else { remaining };
            let Some(shared_box) = c.data_mut().shared.take() else {
                return fail(&mut c, ExecError::Internal("execution journal missing".into()));
            };
            let frame = Frame {
                contract: callee,
                caller: c.data().frame.contract,
                code_hash: info.code_hash,
                method,
                input: args,
                funds: Vec::new(),
                read_only: c.data().frame.read_only,
            };
            let vm = Arc::clone(&c.data().vm);
            let (shared_back, outcome) = run_frame(&vm, shared_box, frame, limit);
            c.data_mut().shared = Some(shared_back);
            c.set_fuel(remaining.saturating_sub(outcome.fuel_used))?;
            match outcome.result {
                Ok(data) => Ok(set_result(&mut c, data)),
                Err(e) if e.is_fatal() => fail(&mut c, e),
                Err(e) => Ok(call_failed(&mut c, format!("{}: {e}", e.code()).into_bytes())),
            }
        },
    )?;

    // ---- crypto ----
    linker.func_wrap(m, "blake3", |mut c: C<'_>, p: i32, l: i32, out: i32| -> R<()> {
        let price = schedule(&c).blake3;
        base(&mut c, price)?;
        let max = limits(&c).max_crypto_input_len;
        let data = read(&mut c, p, l, max, "blake3 input")?;
        let per = schedule(&c).blake3_per_byte;
        charge(&mut c, bytes_fuel(per, data.len()))?;
        let h = blake3::hash(&data);
        write(&mut c, out, h.as_bytes(), "blake3 out")
    })?;
    linker.func_wrap(m, "ed25519_verify", |mut c: C<'_>, kp: i32, mp: i32, ml: i32, sp: i32| -> R<i32> {
        let price = schedule(&c).ed25519_verify;
        base(&mut c, price)?;
        let max = limits(&c).max_crypto_input_len;
        let key = read_array::<32>(&mut c, kp, "ed25519 public key")?;
        let msg = read(&mut c, mp, ml, max, "ed25519 message")?;
        let sig = read_array::<64>(&mut c, sp, "ed25519 signature")?;
        let per = schedule(&c).ed25519_per_byte;
        charge(&mut c, bytes_fuel(per, msg.len()))?;
        let ok = match PublicKey::from_bytes(key) {
            Ok(pk) => purse_types::verify(&pk, &msg, &Signature(sig)).is_ok(),
            Err(_) => false,
        };
        Ok(i32::from(ok))
    })?;
    Ok(())
}

/// Moves `amount` of `asset` in the journal. `Ok(code)` is the `transfer` result code.
pub(crate) fn move_funds(
    s: &mut Shared,
    from: &Address,
    to: &Address,
    asset: &AssetId,
    amount: Amount,
) -> Result<i32, ExecError> {
    if amount.0 == 0 || from == to {
        return Ok(abi::TRANSFER_OK);
    }
    let from_balance = s.journal.balance(&*s.state, from, asset)?;
    if from_balance < amount {
        return Ok(abi::TRANSFER_INSUFFICIENT_FUNDS);
    }
    if s.state.check_transfer(from, to, asset, amount).is_err() {
        return Ok(abi::TRANSFER_REFUSED);
    }
    let to_balance = s.journal.balance(&*s.state, to, asset)?;
    let Ok(new_to) = to_balance.checked_add(amount) else {
        return Ok(abi::TRANSFER_OVERFLOW);
    };
    let Ok(new_from) = from_balance.checked_sub(amount) else {
        return Ok(abi::TRANSFER_INSUFFICIENT_FUNDS);
    };
    s.journal.set_balance(*from, *asset, new_from);
    s.journal.set_balance(*to, *asset, new_to);
    Ok(abi::TRANSFER_OK)
}
