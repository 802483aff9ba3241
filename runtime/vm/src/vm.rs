//! The VM: engine configuration (ADR 0007), the entry points (deploy, instantiate, call, query, upgrade,
//! dry-run) and the frame runner shared by top-level and nested calls.

use crate::abi;
use crate::cache::{CacheStats, LoadError, ModuleCache};
use crate::check::{check_module, CheckError, ModuleInfo};
use crate::config::VmConfig;
use crate::error::ExecError;
use crate::host::{self, Ctx, Env, Shared};
use crate::state::{ContractInfo, ContractState, Journal, StateDiff};
use purse_types::{Address, Amount, AssetId, Event, Hash};
use std::sync::Arc;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, Linker, OptLevel, PoolingAllocationConfig, Store, Trap,
    WasmFeatures,
};

/// One contract frame to run.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub(crate) contract: Address,
    pub(crate) caller: Address,
    pub(crate) code_hash: Hash,
    pub(crate) method: String,
    pub(crate) input: Vec<u8>,
    pub(crate) funds: Vec<(AssetId, Amount)>,
    pub(crate) read_only: bool,
}

/// What one frame produced.
pub(crate) struct FrameOutcome {
    pub(crate) result: Result<Vec<u8>, ExecError>,
    pub(crate) fuel_used: u64,
}

/// Engine, linker, cache and configuration; shared by every frame.
pub struct VmInner {
    pub(crate) config: VmConfig,
    engine: Engine,
    linker: Linker<Ctx>,
    cache: ModuleCache,
}

/// Why a VM could not be built.
#[derive(Debug, thiserror::Error)]
pub enum VmInitError {
    /// wasmtime refused the configuration.
    #[error("engine configuration rejected: {0}")]
    Engine(String),
    /// The on-disk cache directory could not be created.
    #[error("module cache directory: {0}")]
    CacheDir(#[from] std::io::Error),
}

/// The contract virtual machine. Cheap to clone (shared engine and cache); `Send + Sync`.
#[derive(Clone)]
pub struct Vm {
    inner: Arc<VmInner>,
}

/// A state-changing contract action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Store code (once per hash) after the deploy-time checks; the result is the 32-byte code hash.
    Deploy {
        /// The wasm module.
        code: Vec<u8>,
    },
    /// Create a contract from stored code at `Address::contract(origin, nonce)`, then run its `init` export
    /// (if it has one) with `args`. The result is `init`'s return data.
    Instantiate {
        /// Stored code to run.
        code_hash: Hash,
        /// The origin's transaction nonce (makes the address unique).
        nonce: u64,
        /// Who may upgrade; `None` makes the contract immutable.
        admin: Option<Address>,
        /// Whether the contract accepts re-entrant calls.
        allow_reentry: bool,
        /// `init` arguments.
        args: Vec<u8>,
        /// Native funds moved from the origin to the new contract before `init`.
        funds: Vec<(AssetId, Amount)>,
    },
    /// Call a method; the result is its return data.
    Call {
        /// The contract.
        contract: Address,
        /// Exported method name.
        method: String,
        /// Arguments (borsh by convention).
        args: Vec<u8>,
        /// Native funds moved from the origin to the contract before the call.
        funds: Vec<(AssetId, Amount)>,
    },
    /// Switch a contract to new stored code (origin must be the admin), then run the new code's `migrate`.
    Upgrade {
        /// The contract.
        contract: Address,
        /// New stored code.
        code_hash: Hash,
        /// `migrate` arguments.
        args: Vec<u8>,
    },
}

/// The result of an execution. On failure `events` and `diff` are empty (every write rolled back);
/// `fuel_used` is always the fuel actually consumed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Return data, or why it failed.
    pub result: Result<Vec<u8>, ExecError>,
    /// Fuel consumed (wasm instructions plus host-call charges), never more than the limit.
    pub fuel_used: u64,
    /// Events emitted, in order.
    pub events: Vec<Event>,
    /// Writes for the runtime to apply.
    pub diff: StateDiff,
    /// The contract created by an instantiate.
    pub contract: Option<Address>,
    /// The code hash of a deploy.
    pub code_hash: Option<Hash>,
}

impl Outcome {
    fn failed(e: ExecError, fuel_used: u64) -> Outcome {
        Outcome {
            result: Err(e),
            fuel_used,
            events: Vec::new(),
            diff: StateDiff::default(),
            contract: None,
            code_hash: None,
        }
    }
}

fn engine_config(config: &VmConfig) -> Config {
    let limits = &config.limits;
    let mut c = Config::new();
    // ADR 0007: exactly WebAssembly 1.0 + mutable-global, every proposal flag stated. Floats stay enabled in
    // the *engine* only because the deploy check (which runs first) already rejects every float type and
    // instruction. `GC_TYPES` (externref and GC types) stays off: MVP `funcref` tables do not need it.
    c.wasm_features(WasmFeatures::all(), false);
    c.wasm_features(WasmFeatures::MUTABLE_GLOBAL | WasmFeatures::FLOATS, true);
    c.wasm_features(WasmFeatures::SIGN_EXTENSION, false);
    c.wasm_features(WasmFeatures::SATURATING_FLOAT_TO_INT, false);
    c.wasm_multi_value(false);
    c.wasm_bulk_memory(false);
    c.wasm_features(WasmFeatures::REFERENCE_TYPES, false);
    c.wasm_simd(false);
    c.wasm_relaxed_simd(false);
    c.wasm_features(WasmFeatures::THREADS, false);
    c.wasm_shared_everything_threads(false);
    c.wasm_tail_call(false);
    c.wasm_multi_memory(false);
    c.wasm_memory64(false);
    c.wasm_extended_const(false);
    c.wasm_features(WasmFeatures::FUNCTION_REFERENCES, false);
    c.wasm_gc(false);
    c.wasm_features(WasmFeatures::EXCEPTIONS | WasmFeatures::LEGACY_EXCEPTIONS, false);
    c.wasm_custom_page_sizes(false);
    c.wasm_wide_arithmetic(false);
    c.wasm_branch_hinting(false);
    c.wasm_stack_switching(false);
    c.wasm_features(WasmFeatures::COMPONENT_MODEL, false);
    // Determinism and metering.
    c.cranelift_nan_canonicalization(true);
    c.consume_fuel(true);
    c.epoch_interruption(false);
    c.max_wasm_stack(limits.max_wasm_stack);
    c.wasm_backtrace_max_frames(None);
    c.cranelift_opt_level(OptLevel::Speed);
    if config.cache.pooling {
        let mut pool = PoolingAllocationConfig::new();
        let n = config.cache.pool_instances.max(limits.max_call_depth);
        pool.total_core_instances(n);
        pool.total_memories(n);
        pool.total_tables(n);
        pool.total_component_instances(0);
        pool.max_memories_per_module(1);
        pool.max_tables_per_module(1);
        pool.max_memory_size(limits.max_memory_pages as usize * 65536);
        pool.table_elements(limits.max_table_elements as usize);
        pool.max_unused_warm_slots(n.min(16));
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    } else {
        c.allocation_strategy(InstanceAllocationStrategy::OnDemand);
    }
    c
}

impl Vm {
    /// Builds the engine, links the host functions and opens the module cache.
    pub fn new(config: VmConfig) -> Result<Vm, VmInitError> {
        let engine =
            Engine::new(&engine_config(&config)).map_err(|e| VmInitError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        host::link(&mut linker).map_err(|e| VmInitError::Engine(format!("{e:#}")))?;
        let cache = ModuleCache::new(
            &engine,
            config.cache.memory_entries,
            config.cache.memory_bytes,
            config.cache.disk_dir.clone(),
        )?;
        Ok(Vm { inner: Arc::new(VmInner { config, engine, linker, cache }) })
    }

    /// The configuration.
    pub fn config(&self) -> &VmConfig {
        &self.inner.config
    }

    /// Module cache counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.stats()
    }

    /// Empties the in-memory module cache (the on-disk cache stays); for tests and benchmarks.
    pub fn clear_memory_cache(&self) {
        self.inner.cache.clear_memory();
    }

    /// Runs the deploy-time checks only.
    pub fn check(&self, code: &[u8]) -> Result<ModuleInfo, CheckError> {
        check_module(code, &self.inner.config.limits)
    }

    /// Compiles (or loads from the disk cache) stored code ahead of its first call.
    pub fn prepare<S: ContractState + 'static>(&self, state: &S, code_hash: &Hash) -> Result<(), ExecError> {
        if self.inner.cache.contains(code_hash) {
            return Ok(());
        }
        let code = state.code(code_hash)?.ok_or(ExecError::CodeNotFound(*code_hash))?;
        self.inner
            .cache
            .load(&self.inner.engine, &self.inner.linker, code_hash, &code)
            .map(|_| ())
            .map_err(|LoadError::Compile(m)| ExecError::InvalidCode(CheckError::Invalid(m)))
    }

    /// Executes a state-changing action with at most `fuel_limit` fuel. The VM writes nothing: on success
    /// the runtime applies `outcome.diff`; a dry-run is this same call with the diff discarded.
    pub fn execute<S: ContractState + 'static>(
        &self,
        state: Arc<S>,
        env: &Env,
        action: Action,
        fuel_limit: u64,
    ) -> Outcome {
        let state: Arc<dyn ContractState> = state;
        self.run(state, env, action, fuel_limit, false)
    }

    /// Same as [`Vm::execute`]; named for callers estimating fuel, events and the state diff without applying.
    pub fn dry_run<S: ContractState + 'static>(
        &self,
        state: Arc<S>,
        env: &Env,
        action: Action,
        fuel_limit: u64,
    ) -> Outcome {
        self.execute(state, env, action, fuel_limit)
    }

    /// Read-only call: any write (storage, event, transfer), in this contract or any it calls, fails the
    /// query with [`ExecError::ReadOnly`]. The diff is always empty.
    pub fn query<S: ContractState + 'static>(
        &self,
        state: Arc<S>,
        env: &Env,
        contract: Address,
        method: &str,
        args: Vec<u8>,
        fuel_limit: u64,
    ) -> Outcome {
        let state: Arc<dyn ContractState> = state;
        let action = Action::Call { contract, method: method.to_string(), args, funds: Vec::new() };
        self.run(state, env, action, fuel_limit, true)
    }

    fn run(
        &self,
        state: Arc<dyn ContractState>,
        env: &Env,
        action: Action,
        fuel_limit: u64,
        read_only: bool,
    ) -> Outcome {
        let shared =
            Box::new(Shared { state, journal: Journal::default(), env: env.clone(), stack: Vec::new() });
        match action {
            Action::Deploy { code } => self.deploy(shared, code, fuel_limit),
            Action::Instantiate { code_hash, nonce, admin, allow_reentry, args, funds } => {
                let address = Address::contract(&env.origin, nonce);
                let mut out = self.instantiate(
                    shared,
                    address,
                    code_hash,
                    admin,
                    allow_reentry,
                    args,
                    funds,
                    fuel_limit,
                );
                if out.result.is_ok() {
                    out.contract = Some(address);
                }
                out
            }
            Action::Call { contract, method, args, funds } => {
                self.call(shared, contract, method, args, funds, fuel_limit, read_only)
            }
            Action::Upgrade { contract, code_hash, args } => {
                self.upgrade(shared, contract, code_hash, args, fuel_limit)
            }
        }
    }

    fn finish(shared: Box<Shared>, result: Result<Vec<u8>, ExecError>, fuel_used: u64) -> Outcome {
        match result {
            Ok(data) => {
                let (diff, events) = shared.journal.into_diff();
                Outcome { result: Ok(data), fuel_used, events, diff, contract: None, code_hash: None }
            }
            Err(e) => Outcome::failed(e, fuel_used),
        }
    }

    fn deploy(&self, mut shared: Box<Shared>, code: Vec<u8>, fuel_limit: u64) -> Outcome {
        let sch = &self.inner.config.fuel;
        let max = self.inner.config.limits.max_code_size;
        if code.len() > max {
            // Refused before any fuel is computed from an attacker-chosen size.
            let e = CheckError::TooLarge { size: code.len(), max };
            return Outcome::failed(ExecError::InvalidCode(e), sch.deploy);
        }
        let cost = sch.deploy.saturating_add(sch.deploy_per_byte.saturating_mul(code.len() as u64));
        if cost > fuel_limit {
            return Outcome::failed(ExecError::OutOfFuel, fuel_limit);
        }
        let info = match self.check(&code) {
            Ok(i) => i,
            Err(e) => return Outcome::failed(ExecError::InvalidCode(e), cost),
        };
        let hash = info.code_hash;
        let stored = match shared.journal.has_code(&*shared.state, &hash) {
            Ok(s) => s,
            Err(e) => return Outcome::failed(e.into(), cost),
        };
        // Compile now: code that does not compile is never stored, and the cache is warm for `init`.
        if !self.inner.cache.contains(&hash) {
            if let Err(LoadError::Compile(m)) =
                self.inner.cache.load(&self.inner.engine, &self.inner.linker, &hash, &code)
            {
                return Outcome::failed(ExecError::InvalidCode(CheckError::Invalid(m)), cost);
            }
        }
        if !stored {
            shared.journal.put_code(hash, code);
        }
        let mut out = Self::finish(shared, Ok(hash.as_bytes().to_vec()), cost);
        out.code_hash = Some(hash);
        out
    }

    /// Moves attached funds from `from` to `to` in the journal.
    fn attach(
        shared: &mut Shared,
        from: &Address,
        to: &Address,
        funds: &[(AssetId, Amount)],
    ) -> Result<(), ExecError> {
        for (asset, amount) in funds {
            match host::move_funds(shared, from, to, asset, *amount)? {
                abi::TRANSFER_OK => {}
                abi::TRANSFER_INSUFFICIENT_FUNDS => {
                    return Err(ExecError::InsufficientFunds(format!(
                        "{from} cannot attach {} of asset {}",
                        amount.0,
                        asset.to_hex()
                    )))
                }
                _ => {
                    return Err(ExecError::Unauthorized(format!(
                        "transfer of asset {} refused",
                        asset.to_hex()
                    )))
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn instantiate(
        &self,
        mut shared: Box<Shared>,
        address: Address,
        code_hash: Hash,
        admin: Option<Address>,
        allow_reentry: bool,
        args: Vec<u8>,
        funds: Vec<(AssetId, Amount)>,
        fuel_limit: u64,
    ) -> Outcome {
        let cost = self.inner.config.fuel.instantiate;
        if cost > fuel_limit {
            return Outcome::failed(ExecError::OutOfFuel, fuel_limit);
        }
        let origin = shared.env.origin;
        let prep = (|| -> Result<(), ExecError> {
            if shared.journal.contract(&*shared.state, &address)?.is_some() {
                return Err(ExecError::ContractExists(address));
            }
            if !shared.journal.has_code(&*shared.state, &code_hash)? {
                return Err(ExecError::CodeNotFound(code_hash));
            }
            let info = ContractInfo { code_hash, admin, creator: origin, allow_reentry };
            shared.journal.set_contract(address, info);
            Self::attach(&mut shared, &origin, &address, &funds)
        })();
        if let Err(e) = prep {
            return Outcome::failed(e, cost);
        }
        let (pre, load) = match self.inner.instance_pre(&shared, &code_hash, fuel_limit - cost) {
            Ok(p) => p,
            Err(ExecError::OutOfFuel) => return Outcome::failed(ExecError::OutOfFuel, fuel_limit),
            Err(e) => return Outcome::failed(e, cost),
        };
        if pre.module().get_export(abi::INIT_EXPORT).is_none() {
            // No `init` frame loads the code, so its load is charged here.
            return Self::finish(shared, Ok(Vec::new()), cost.saturating_add(load));
        }
        let frame = Frame {
            contract: address,
            caller: origin,
            code_hash,
            method: abi::INIT_EXPORT.to_string(),
            input: args,
            funds,
            read_only: false,
        };
        self.top_frame(shared, frame, fuel_limit - cost, cost)
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &self,
        mut shared: Box<Shared>,
        contract: Address,
        method: String,
        args: Vec<u8>,
        funds: Vec<(AssetId, Amount)>,
        fuel_limit: u64,
        read_only: bool,
    ) -> Outcome {
        let origin = shared.env.origin;
        if method == abi::INIT_EXPORT || method == abi::MIGRATE_EXPORT {
            return Outcome::failed(ExecError::MethodNotFound(format!("`{method}` is reserved")), 0);
        }
        if read_only && !funds.is_empty() {
            return Outcome::failed(ExecError::ReadOnly("a query cannot attach funds".into()), 0);
        }
        let info = match shared.journal.contract(&*shared.state, &contract) {
            Ok(Some(i)) => i,
            Ok(None) => return Outcome::failed(ExecError::ContractNotFound(contract), 0),
            Err(e) => return Outcome::failed(e.into(), 0),
        };
        if let Err(e) = Self::attach(&mut shared, &origin, &contract, &funds) {
            return Outcome::failed(e, 0);
        }
        let frame = Frame {
            contract,
            caller: origin,
            code_hash: info.code_hash,
            method,
            input: args,
            funds,
            read_only,
        };
        let mut out = self.top_frame(shared, frame, fuel_limit, 0);
        if read_only {
            out.diff = StateDiff::default();
        }
        out
    }

    fn upgrade(
        &self,
        mut shared: Box<Shared>,
        contract: Address,
        code_hash: Hash,
        args: Vec<u8>,
        fuel_limit: u64,
    ) -> Outcome {
        let cost = self.inner.config.fuel.instantiate;
        if cost > fuel_limit {
            return Outcome::failed(ExecError::OutOfFuel, fuel_limit);
        }
        let origin = shared.env.origin;
        let prep = (|| -> Result<(), ExecError> {
            let Some(mut info) = shared.journal.contract(&*shared.state, &contract)? else {
                return Err(ExecError::ContractNotFound(contract));
            };
            match info.admin {
                Some(admin) if admin == origin => {}
                Some(_) => {
                    return Err(ExecError::Unauthorized(format!(
                        "only the admin of {contract} may upgrade it"
                    )))
                }
                None => {
                    return Err(ExecError::Unauthorized(format!(
                        "{contract} has no admin and cannot be upgraded"
                    )))
                }
            }
            if !shared.journal.has_code(&*shared.state, &code_hash)? {
                return Err(ExecError::CodeNotFound(code_hash));
            }
            info.code_hash = code_hash;
            shared.journal.set_contract(contract, info);
            Ok(())
        })();
        if let Err(e) = prep {
            return Outcome::failed(e, cost);
        }
        let frame = Frame {
            contract,
            caller: origin,
            code_hash,
            method: abi::MIGRATE_EXPORT.to_string(),
            input: args,
            funds: Vec::new(),
            read_only: false,
        };
        self.top_frame(shared, frame, fuel_limit - cost, cost)
    }

    fn top_frame(&self, shared: Box<Shared>, frame: Frame, fuel: u64, already_used: u64) -> Outcome {
        let (shared, out) = run_frame(&self.inner, shared, frame, fuel);
        Self::finish(shared, out.result, already_used.saturating_add(out.fuel_used))
    }
}

impl VmInner {
    /// The code `code_hash` ready to instantiate, and the fuel its load costs
    /// ([`FuelSchedule::code_load_per_byte`](crate::FuelSchedule::code_load_per_byte) per byte of code, on a
    /// cache hit or not: fuel is the same on every node, whatever its cache holds). [`ExecError::OutOfFuel`]
    /// if that is more than `fuel`, in which case code not in memory is not compiled.
    fn instance_pre(
        &self,
        shared: &Shared,
        code_hash: &Hash,
        fuel: u64,
    ) -> Result<(wasmtime::InstancePre<Ctx>, u64), ExecError> {
        let load = |code_len: usize| {
            let cost = self.config.fuel.code_load_per_byte.saturating_mul(code_len as u64);
            if cost > fuel {
                Err(ExecError::OutOfFuel)
            } else {
                Ok(cost)
            }
        };
        if let Some((pre, code_len)) = self.cache.lookup(code_hash) {
            return Ok((pre, load(code_len)?));
        }
        let code =
            shared.journal.code(&*shared.state, code_hash)?.ok_or(ExecError::CodeNotFound(*code_hash))?;
        let cost = load(code.len())?;
        let pre = self
            .cache
            .load(&self.engine, &self.linker, code_hash, &code)
            .map_err(|LoadError::Compile(m)| ExecError::InvalidCode(CheckError::Invalid(m)))?;
        Ok((pre, cost))
    }
}

/// Maps a wasmtime error of a frame to an [`ExecError`].
fn map_error(ctx: &mut Ctx, e: wasmtime::Error) -> ExecError {
    if let Some(err) = ctx.error.take() {
        return err;
    }
    if let Some(hit) = ctx.limiter.hit.take() {
        return ExecError::Limit(hit);
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => ExecError::OutOfFuel,
        Some(t) => ExecError::Trap(t.to_string()),
        None => ExecError::Trap(format!("{e}")),
    }
}

/// Runs one frame: instantiate the contract's code in a fresh store with `fuel`, call `frame.method`, and
/// on any failure roll the journal back to where it was when the frame started.
pub(crate) fn run_frame(
    vm: &Arc<VmInner>,
    mut shared: Box<Shared>,
    frame: Frame,
    fuel: u64,
) -> (Box<Shared>, FrameOutcome) {
    let checkpoint = shared.journal.checkpoint();
    let (pre, load) = match vm.instance_pre(&shared, &frame.code_hash, fuel) {
        Ok(p) => p,
        Err(ExecError::OutOfFuel) => {
            return (shared, FrameOutcome { result: Err(ExecError::OutOfFuel), fuel_used: fuel })
        }
        Err(e) => return (shared, FrameOutcome { result: Err(e), fuel_used: 0 }),
    };
    let contract = frame.contract;
    shared.stack.push(contract);
    let method = frame.method.clone();
    let mut store = Store::new(&vm.engine, Ctx::new(Arc::clone(vm), shared, frame));
    store.limiter(|ctx| &mut ctx.limiter);
    let result = (|| -> Result<Vec<u8>, ExecError> {
        // The load is paid first: what is left runs the frame.
        store.set_fuel(fuel - load).map_err(|e| ExecError::Internal(format!("{e}")))?;
        let instance = match pre.instantiate(&mut store) {
            Ok(i) => i,
            Err(e) => {
                if e.downcast_ref::<Trap>().is_some() || store.data().limiter.hit.is_some() {
                    return Err(map_error(store.data_mut(), e));
                }
                return Err(ExecError::Internal(format!("instantiation failed: {e:#}")));
            }
        };
        let memory = instance.get_memory(&mut store, abi::MEMORY_EXPORT);
        store.data_mut().memory = memory;
        let func = instance
            .get_typed_func::<(), ()>(&mut store, &method)
            .map_err(|_| ExecError::MethodNotFound(format!("the contract exports no method `{method}`")))?;
        match func.call(&mut store, ()) {
            Ok(()) => Ok(std::mem::take(&mut store.data_mut().ret)),
            Err(e) => Err(map_error(store.data_mut(), e)),
        }
    })();
    let left = store.get_fuel().unwrap_or(0);
    let fuel_used = fuel.saturating_sub(left);
    let ctx = store.into_data();
    let Some(mut shared) = ctx.shared else {
        // Unreachable by construction (a nested call always puts the journal back); fail safe and fatal.
        let shared = Box::new(Shared {
            state: Arc::new(EmptyState),
            journal: Journal::default(),
            env: Env { block_height: 0, block_time_ms: 0, origin: contract },
            stack: Vec::new(),
        });
        let e = ExecError::Internal("execution journal lost".into());
        return (shared, FrameOutcome { result: Err(e), fuel_used });
    };
    shared.stack.pop();
    let result = match result {
        Ok(data) => Ok(data),
        Err(e) => {
            shared.journal.revert(checkpoint);
            Err(e)
        }
    };
    (shared, FrameOutcome { result, fuel_used })
}

struct EmptyState;

impl ContractState for EmptyState {
    fn storage_get(&self, _: &Address, _: &[u8]) -> Result<Option<Vec<u8>>, crate::StateError> {
        Ok(None)
    }
    fn storage_scan(
        &self,
        _: &Address,
        _: &[u8],
        _: &[u8],
        _: usize,
    ) -> Result<crate::state::Entries, crate::StateError> {
        Ok(Vec::new())
    }
    fn balance(&self, _: &Address, _: &AssetId) -> Result<Amount, crate::StateError> {
        Ok(Amount(0))
    }
    fn code(&self, _: &Hash) -> Result<Option<Arc<[u8]>>, crate::StateError> {
        Ok(None)
    }
    fn contract(&self, _: &Address) -> Result<Option<ContractInfo>, crate::StateError> {
        Ok(None)
    }
    fn has_role(&self, _: &Address, _: purse_types::Role) -> Result<bool, crate::StateError> {
        Ok(false)
    }
}
