//! VM configuration: static limits checked at deploy, execution limits, and the fuel schedule.
//!
//! Every number here is consensus-critical: validators must run with identical values (the defaults are the
//! chain's values; tests lower some of them). `docs/contracts.md` lists them for contract authors.

use std::path::PathBuf;

/// Deploy-time static limits (checked on the raw bytes before anything is compiled) and run-time limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted module, bytes.
    pub max_code_size: usize,
    /// Most functions defined in the module (imports excluded).
    pub max_functions: u32,
    /// Most function types in the type section.
    pub max_types: u32,
    /// Most parameters of any function type.
    pub max_params: u32,
    /// Most results of any function type (1: no multi-value).
    pub max_results: u32,
    /// Most locals declared by one function (parameters excluded).
    pub max_locals_per_function: u32,
    /// Most locals declared by all functions together.
    pub max_total_locals: u64,
    /// Largest function body, bytes.
    pub max_function_body_size: usize,
    /// Most globals defined in the module.
    pub max_globals: u32,
    /// Most tables (MVP allows one).
    pub max_tables: u32,
    /// Largest initial or maximum table size, elements.
    pub max_table_elements: u32,
    /// Most element segments.
    pub max_element_segments: u32,
    /// Most data segments.
    pub max_data_segments: u32,
    /// Most bytes in all data segments together.
    pub max_data_bytes: usize,
    /// Most exports.
    pub max_exports: u32,
    /// Most imports.
    pub max_imports: u32,
    /// Linear memory cap in 64 KiB wasm pages (declared initial and maximum, and growth at run time).
    pub max_memory_pages: u32,
    /// Native stack budget for one frame's wasm code, bytes (wasmtime `max_wasm_stack`).
    pub max_wasm_stack: usize,
    /// Most contract frames on the stack at once (the top-level call counts as 1).
    pub max_call_depth: u32,
    /// Longest storage key, bytes.
    pub max_key_len: usize,
    /// Longest storage value, bytes.
    pub max_value_len: usize,
    /// Most entries one `storage_scan` may return.
    pub max_scan_limit: u32,
    /// Longest event topic, bytes (UTF-8).
    pub max_topic_len: usize,
    /// Longest event payload, bytes.
    pub max_event_data_len: usize,
    /// Most events one execution may emit (all frames together).
    pub max_events: usize,
    /// Longest call input (arguments), bytes.
    pub max_input_len: usize,
    /// Longest return value, bytes.
    pub max_return_len: usize,
    /// Longest abort message kept, bytes (longer ones are rejected as a host error).
    pub max_abort_message_len: usize,
    /// Longest method name, bytes.
    pub max_method_name_len: usize,
    /// Longest message hashed by `blake3` or verified by `ed25519_verify`, bytes.
    pub max_crypto_input_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_code_size: 512 * 1024,
            max_functions: 10_000,
            max_types: 1_000,
            max_params: 32,
            max_results: 1,
            max_locals_per_function: 4_096,
            max_total_locals: 200_000,
            max_function_body_size: 128 * 1024,
            max_globals: 256,
            max_tables: 1,
            max_table_elements: 4_096,
            max_element_segments: 64,
            max_data_segments: 1_024,
            max_data_bytes: 256 * 1024,
            max_exports: 256,
            max_imports: 64,
            max_memory_pages: 128,
            max_wasm_stack: 128 * 1024,
            max_call_depth: 8,
            max_key_len: 256,
            max_value_len: 64 * 1024,
            max_scan_limit: 100,
            max_topic_len: 64,
            max_event_data_len: 8 * 1024,
            max_events: purse_types::receipt::MAX_EVENTS_PER_TX,
            max_input_len: 64 * 1024,
            max_return_len: 64 * 1024,
            max_abort_message_len: 1024,
            max_method_name_len: 64,
            max_crypto_input_len: 64 * 1024,
        }
    }
}

/// Fuel charged for host calls, on top of the fuel wasmtime charges for wasm instructions (1 per
/// instruction; `nop`, `drop`, `block`, `loop`, `end` and `else` are free). "Per byte" charges apply to the
/// bytes copied between guest memory and the host in either direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuelSchedule {
    /// Every host call.
    pub host_call_base: u64,
    /// Per byte copied between guest memory and the host.
    pub per_byte_copied: u64,
    /// `storage_get`, `storage_has`.
    pub storage_read: u64,
    /// Per byte of a value read from storage.
    pub storage_read_per_byte: u64,
    /// `storage_set`.
    pub storage_write: u64,
    /// Per byte of key and value written.
    pub storage_write_per_byte: u64,
    /// `storage_remove`.
    pub storage_remove: u64,
    /// `storage_scan` call.
    pub storage_scan: u64,
    /// Per entry `storage_scan` visits — each returned, and each fetched from the state and skipped because the
    /// transaction deleted it or passed over among the transaction's own writes — plus `storage_read_per_byte`
    /// per key and value byte returned. A scan visits no more than the fuel left pays for.
    pub storage_scan_per_entry: u64,
    /// `emit_event`.
    pub event: u64,
    /// Per byte of event topic and data.
    pub event_per_byte: u64,
    /// `balance`.
    pub balance: u64,
    /// `transfer`.
    pub transfer: u64,
    /// `has_role`.
    pub has_role: u64,
    /// `call` (plus the callee's own fuel, taken from the caller's).
    pub call: u64,
    /// `blake3`.
    pub blake3: u64,
    /// Per byte hashed.
    pub blake3_per_byte: u64,
    /// `ed25519_verify`.
    pub ed25519_verify: u64,
    /// Per message byte verified.
    pub ed25519_per_byte: u64,
    /// Deploy: per byte of code stored (compilation included).
    pub deploy_per_byte: u64,
    /// Deploy: base.
    pub deploy: u64,
    /// Instantiate or upgrade: contract record written (the `init`/`migrate` frame is charged as a call).
    pub instantiate: u64,
    /// Every frame (a call, `init`, `migrate`, each nested `call`), before it runs: per byte of the code it
    /// loads. Charged whether or not the node has the code compiled in memory — fuel must be the same on
    /// every node, and the cache is not — so it prices the load of a module evicted from memory: reading the
    /// code and its precompiled image from the disk cache, checking and mapping it (measured 4.6 ns per code
    /// byte for a 24 KiB contract, at about 1 ns per fuel as the host calls are priced). A node compiles
    /// only code it has never compiled or whose disk entry is damaged; a VM without a disk cache compiles on
    /// every memory miss, at about ten times this price.
    pub code_load_per_byte: u64,
}

impl Default for FuelSchedule {
    fn default() -> Self {
        FuelSchedule {
            host_call_base: 50,
            per_byte_copied: 1,
            storage_read: 2_000,
            storage_read_per_byte: 2,
            storage_write: 5_000,
            storage_write_per_byte: 5,
            storage_remove: 3_000,
            storage_scan: 2_000,
            storage_scan_per_entry: 500,
            event: 1_000,
            event_per_byte: 2,
            balance: 1_000,
            transfer: 5_000,
            has_role: 1_000,
            call: 10_000,
            blake3: 200,
            blake3_per_byte: 1,
            ed25519_verify: 50_000,
            ed25519_per_byte: 1,
            deploy: 100_000,
            deploy_per_byte: 50,
            instantiate: 20_000,
            code_load_per_byte: 5,
        }
    }
}

/// Default of [`CacheConfig::memory_bytes`]: 256 MiB of compiled code. Without a byte bound, 256 modules of the
/// largest size (512 KiB of wasm, several times that compiled) could hold gigabytes.
pub const DEFAULT_CACHE_MEMORY_BYTES: usize = 256 << 20;

/// How the module cache and instance pool are sized. Not consensus-critical.
#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// Compiled modules kept in memory (least recently used evicted first).
    pub memory_entries: usize,
    /// Most bytes of compiled code (the modules' code images) kept in memory: least recently used modules are
    /// evicted to stay within it, and a module larger than all of it is not kept (each use loads it again).
    pub memory_bytes: usize,
    /// Where precompiled modules are kept across restarts; `None` keeps them in memory only.
    pub disk_dir: Option<PathBuf>,
    /// Instances the pooling allocator can hold at once (all threads, all frames). An execution needs up to
    /// `max_call_depth` slots; when the pool is exhausted the execution fails with a fatal (non-receipt) error.
    pub pool_instances: u32,
    /// Use the pooling instance allocator (faster instantiation); `false` uses on-demand allocation.
    pub pooling: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            memory_entries: 256,
            memory_bytes: DEFAULT_CACHE_MEMORY_BYTES,
            disk_dir: None,
            pool_instances: 128,
            pooling: true,
        }
    }
}

/// Everything a [`crate::Vm`] is built from.
#[derive(Clone, Debug, Default)]
pub struct VmConfig {
    /// Static and run-time limits (consensus-critical).
    pub limits: Limits,
    /// Fuel prices of host calls (consensus-critical).
    pub fuel: FuelSchedule,
    /// Module cache and instance pool sizing (local).
    pub cache: CacheConfig,
}
