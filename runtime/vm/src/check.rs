//! Deploy-time static checks, run on the raw bytes before anything is compiled (CosmWasm's `check_wasm`).
//!
//! Order: size cap → structural validation with exactly the accepted wasm feature set (ADR 0007) → counts and
//! limits → imports against the host allow-list → required exports. Every rejection is a [`CheckError`] with a
//! stable code and a message naming what is wrong.

use crate::abi::{self, AbiType, MEMORY_EXPORT};
use crate::config::Limits;
use purse_types::{Domain, Hash};
use wasmparser::{
    CompositeInnerType, ExternalKind, Parser, Payload, TypeRef, ValType, Validator, WasmFeatures,
};

/// The wasm features a contract may use: WebAssembly 1.0 (MVP) with mutable globals, minus floating point.
/// (MVP `funcref` tables need no extra flag; `GC_TYPES`/externref stay off.) See ADR 0007.
pub const ACCEPTED_FEATURES: WasmFeatures = WasmFeatures::MUTABLE_GLOBAL;

/// Why a module was refused at deploy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// Larger than [`Limits::max_code_size`].
    #[error("module is {size} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// Module size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not a valid wasm module under the accepted feature set.
    #[error("invalid module: {0}")]
    Invalid(String),
    /// Uses a wasm feature the chain does not accept (floats, SIMD, bulk memory, …).
    #[error("module uses a wasm feature Purse does not accept: {feature} ({detail}); see ADR 0007")]
    Feature {
        /// The feature, e.g. `floating point`, `bulk-memory`.
        feature: String,
        /// Validator detail with offset.
        detail: String,
    },
    /// A count or size limit is exceeded.
    #[error("limit exceeded: {what} is {value}, more than {max}")]
    Limit {
        /// What was counted.
        what: &'static str,
        /// The count.
        value: u64,
        /// The limit.
        max: u64,
    },
    /// An import outside the host allow-list, or with a wrong signature, or not a function.
    #[error("import rejected: {0}")]
    Import(String),
    /// A required export is missing or an export is of a kind/type not allowed.
    #[error("export rejected: {0}")]
    Export(String),
    /// A start function (code that would run on instantiation, before any entry point).
    #[error("start function is not allowed: contracts run only through their exports")]
    StartFunction,
    /// Memory declaration rejected (missing, imported, shared, 64-bit or too large).
    #[error("memory rejected: {0}")]
    Memory(String),
}

impl CheckError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            CheckError::TooLarge { .. } => "code_too_large",
            CheckError::Invalid(_) => "invalid_wasm",
            CheckError::Feature { .. } => "wasm_feature_rejected",
            CheckError::Limit { .. } => "wasm_limit_exceeded",
            CheckError::Import(_) => "import_rejected",
            CheckError::Export(_) => "export_rejected",
            CheckError::StartFunction => "start_function",
            CheckError::Memory(_) => "memory_rejected",
        }
    }
}

/// What the checks learned about an accepted module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleInfo {
    /// `Hash::digest(Domain::CodeHash, code)`.
    pub code_hash: Hash,
    /// Size in bytes.
    pub size: usize,
    /// Exported entry points (functions of type `() -> ()`), sorted.
    pub methods: Vec<String>,
    /// Host functions imported, sorted.
    pub imports: Vec<String>,
    /// Declared initial memory, pages.
    pub initial_pages: u64,
}

/// The code hash of a module.
pub fn code_hash(code: &[u8]) -> Hash {
    Hash::digest(Domain::CodeHash, code)
}

/// Names the proposal behind a validator error, when the error is a disabled feature.
fn feature_of(message: &str) -> Option<&'static str> {
    let m = message.to_ascii_lowercase();
    let table: &[(&str, &str)] = &[
        ("floating-point", "floating point (f32/f64)"),
        ("float", "floating point (f32/f64)"),
        ("simd", "SIMD (v128)"),
        ("sign extension", "sign-extension operators"),
        ("sign-extension", "sign-extension operators"),
        ("saturating", "non-trapping float-to-int"),
        ("bulk memory", "bulk-memory (memory.fill/copy/init)"),
        ("bulk-memory", "bulk-memory (memory.fill/copy/init)"),
        ("reference types", "reference-types"),
        ("reference-types", "reference-types"),
        ("multi-value", "multi-value"),
        ("multiple return", "multi-value"),
        ("threads", "threads (shared memory, atomics)"),
        ("shared", "threads (shared memory, atomics)"),
        ("atomic", "threads (shared memory, atomics)"),
        ("tail call", "tail-call"),
        ("exceptions", "exception-handling"),
        ("memory64", "memory64"),
        ("multi-memory", "multi-memory"),
        ("multiple memories", "multi-memory"),
        ("extended const", "extended-const"),
        ("gc ", "gc"),
        ("function references", "function-references"),
        ("not enabled", "a post-MVP proposal"),
        ("support is not enabled", "a post-MVP proposal"),
    ];
    table.iter().find(|(needle, _)| m.contains(needle)).map(|(_, f)| *f)
}

fn limit(what: &'static str, value: u64, max: u64) -> Result<(), CheckError> {
    if value > max {
        Err(CheckError::Limit { what, value, max })
    } else {
        Ok(())
    }
}

fn invalid(e: wasmparser::BinaryReaderError) -> CheckError {
    CheckError::Invalid(format!("{} (at offset {})", e.message(), e.offset()))
}

fn abi_type(t: ValType) -> Option<AbiType> {
    match t {
        ValType::I32 => Some(AbiType::I32),
        ValType::I64 => Some(AbiType::I64),
        _ => None,
    }
}

fn sig_string(params: &[AbiType], results: &[AbiType]) -> String {
    let p: Vec<&str> = params.iter().map(|t| t.name()).collect();
    let r: Vec<&str> = results.iter().map(|t| t.name()).collect();
    format!("({}) -> ({})", p.join(", "), r.join(", "))
}

/// Runs every deploy-time check on `code`.
pub fn check_module(code: &[u8], limits: &Limits) -> Result<ModuleInfo, CheckError> {
    if code.len() > limits.max_code_size {
        return Err(CheckError::TooLarge { size: code.len(), max: limits.max_code_size });
    }

    // 1. Structural validation with exactly the accepted features.
    let mut validator = Validator::new_with_features(ACCEPTED_FEATURES);
    if let Err(e) = validator.validate_all(code) {
        let detail = format!("{} (at offset {})", e.message(), e.offset());
        return Err(match feature_of(e.message()) {
            Some(feature) => CheckError::Feature { feature: feature.to_string(), detail },
            None => CheckError::Invalid(detail),
        });
    }

    // 2. Counts, imports, exports.
    // Function types by index: None for non-function types (rejected by validation under these features).
    let mut types: Vec<Option<(Vec<ValType>, Vec<ValType>)>> = Vec::new();
    let mut imported_funcs = 0u32;
    let mut defined_func_types: Vec<u32> = Vec::new();
    let mut imports: Vec<String> = Vec::new();
    let mut exports: Vec<(String, ExternalKind, u32)> = Vec::new();
    let mut memories = 0u32;
    let mut initial_pages = 0u64;
    let mut total_locals = 0u64;
    let mut data_bytes = 0u64;

    for payload in Parser::new(0).parse_all(code) {
        match payload.map_err(invalid)? {
            Payload::TypeSection(reader) => {
                limit("type count", u64::from(reader.count()), u64::from(limits.max_types))?;
                for rec in reader {
                    for sub in rec.map_err(invalid)?.into_types() {
                        match &sub.composite_type.inner {
                            CompositeInnerType::Func(ft) => {
                                limit(
                                    "function parameters",
                                    ft.params().len() as u64,
                                    u64::from(limits.max_params),
                                )?;
                                limit(
                                    "function results",
                                    ft.results().len() as u64,
                                    u64::from(limits.max_results),
                                )?;
                                types.push(Some((ft.params().to_vec(), ft.results().to_vec())));
                            }
                            _ => types.push(None),
                        }
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(invalid)?;
                    limit("import count", imports.len() as u64 + 1, u64::from(limits.max_imports))?;
                    if import.module != abi::HOST_MODULE {
                        return Err(CheckError::Import(format!(
                            "`{}::{}`: only module `{}` may be imported",
                            import.module,
                            import.name,
                            abi::HOST_MODULE
                        )));
                    }
                    let Some(host) = abi::host_function(import.name) else {
                        return Err(CheckError::Import(format!(
                            "`{}::{}` is not a host function",
                            import.module, import.name
                        )));
                    };
                    let type_index = match import.ty {
                        TypeRef::Func(i) | TypeRef::FuncExact(i) => i,
                        other => {
                            return Err(CheckError::Import(format!(
                                "`{}::{}` must be a function, found {:?}",
                                import.module, import.name, other
                            )))
                        }
                    };
                    let Some(Some((params, results))) = types.get(type_index as usize) else {
                        return Err(CheckError::Import(format!("`{}`: bad type index", import.name)));
                    };
                    let p: Option<Vec<AbiType>> = params.iter().map(|t| abi_type(*t)).collect();
                    let r: Option<Vec<AbiType>> = results.iter().map(|t| abi_type(*t)).collect();
                    let ok = matches!((&p, &r), (Some(p), Some(r)) if p == host.params && r == host.results);
                    if !ok {
                        return Err(CheckError::Import(format!(
                            "`{}::{}` has signature {:?} -> {:?}, expected {}",
                            import.module,
                            import.name,
                            params,
                            results,
                            sig_string(host.params, host.results)
                        )));
                    }
                    if imports.iter().any(|n| n == import.name) {
                        return Err(CheckError::Import(format!("`{}` imported twice", import.name)));
                    }
                    imports.push(import.name.to_string());
                    imported_funcs += 1;
                }
            }
            Payload::FunctionSection(reader) => {
                limit("function count", u64::from(reader.count()), u64::from(limits.max_functions))?;
                for t in reader {
                    defined_func_types.push(t.map_err(invalid)?);
                }
            }
            Payload::TableSection(reader) => {
                limit("table count", u64::from(reader.count()), u64::from(limits.max_tables))?;
                for table in reader {
                    let table = table.map_err(invalid)?;
                    let max_el = u64::from(limits.max_table_elements);
                    limit("table initial size", table.ty.initial, max_el)?;
                    limit("table maximum size", table.ty.maximum.unwrap_or(table.ty.initial), max_el)?;
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let memory = memory.map_err(invalid)?;
                    memories += 1;
                    if memory.memory64 || memory.shared {
                        return Err(CheckError::Memory("64-bit and shared memories are not allowed".into()));
                    }
                    let max = u64::from(limits.max_memory_pages);
                    if memory.initial > max {
                        return Err(CheckError::Memory(format!(
                            "initial size {} pages exceeds the {max}-page cap",
                            memory.initial
                        )));
                    }
                    if let Some(m) = memory.maximum {
                        if m > max {
                            return Err(CheckError::Memory(format!(
                                "declared maximum {m} pages exceeds the {max}-page cap"
                            )));
                        }
                    }
                    initial_pages = memory.initial;
                }
            }
            Payload::GlobalSection(reader) => {
                limit("global count", u64::from(reader.count()), u64::from(limits.max_globals))?;
            }
            Payload::ExportSection(reader) => {
                limit("export count", u64::from(reader.count()), u64::from(limits.max_exports))?;
                for export in reader {
                    let export = export.map_err(invalid)?;
                    exports.push((export.name.to_string(), export.kind, export.index));
                }
            }
            Payload::StartSection { .. } => return Err(CheckError::StartFunction),
            Payload::ElementSection(reader) => {
                limit(
                    "element segment count",
                    u64::from(reader.count()),
                    u64::from(limits.max_element_segments),
                )?;
            }
            Payload::DataSection(reader) => {
                limit("data segment count", u64::from(reader.count()), u64::from(limits.max_data_segments))?;
                for data in reader {
                    let data = data.map_err(invalid)?;
                    data_bytes = data_bytes.saturating_add(data.data.len() as u64);
                    limit("data segment bytes", data_bytes, limits.max_data_bytes as u64)?;
                }
            }
            Payload::CodeSectionEntry(body) => {
                let size = body.range().len() as u64;
                limit("function body size", size, limits.max_function_body_size as u64)?;
                let mut locals = 0u64;
                for entry in body.get_locals_reader().map_err(invalid)? {
                    let (count, _ty) = entry.map_err(invalid)?;
                    locals = locals.saturating_add(u64::from(count));
                    limit("locals in one function", locals, u64::from(limits.max_locals_per_function))?;
                }
                total_locals = total_locals.saturating_add(locals);
                limit("locals in all functions", total_locals, limits.max_total_locals)?;
            }
            _ => {}
        }
    }

    if memories != 1 {
        return Err(CheckError::Memory(format!(
            "a contract must define exactly one memory (imported memories are not allowed), found {memories}"
        )));
    }

    // 3. Exports: `memory`, at least one method, every function export of type () -> ().
    let func_type = |index: u32| -> Option<&(Vec<ValType>, Vec<ValType>)> {
        if index < imported_funcs {
            return None;
        }
        let ty = *defined_func_types.get((index - imported_funcs) as usize)?;
        types.get(ty as usize)?.as_ref()
    };
    let mut has_memory = false;
    let mut methods = Vec::new();
    for (name, kind, index) in &exports {
        match kind {
            ExternalKind::Memory if name == MEMORY_EXPORT => has_memory = true,
            ExternalKind::Func => {
                limit("method name length", name.len() as u64, limits.max_method_name_len as u64)?;
                match func_type(*index) {
                    Some((p, r)) if p.is_empty() && r.is_empty() => methods.push(name.clone()),
                    Some((p, r)) => {
                        return Err(CheckError::Export(format!(
                            "method `{name}` has type {p:?} -> {r:?}; entry points take and return nothing \
                             (arguments come from `input_read`, results go to `set_return`)"
                        )))
                    }
                    None => {
                        return Err(CheckError::Export(format!(
                            "export `{name}` re-exports a host import; only defined functions may be exported"
                        )))
                    }
                }
            }
            // Rust exports `__data_end` / `__heap_base`; globals are inert to callers, so any are allowed.
            ExternalKind::Global => {}
            other => {
                return Err(CheckError::Export(format!("export `{name}` of kind {other:?} is not allowed")))
            }
        }
    }
    if !has_memory {
        return Err(CheckError::Export(format!(
            "required export `{MEMORY_EXPORT}` (the linear memory) is missing"
        )));
    }
    if methods.is_empty() {
        return Err(CheckError::Export("the module exports no method (a function of type () -> ())".into()));
    }
    methods.sort();
    imports.sort();
    Ok(ModuleInfo { code_hash: code_hash(code), size: code.len(), methods, imports, initial_pages })
}
