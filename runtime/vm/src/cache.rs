//! Compiled-module cache keyed by code hash: an in-memory LRU of ready-to-instantiate [`InstancePre`]s,
//! backed by an optional on-disk store of precompiled modules so a restarted node does not recompile.
//!
//! A memory hit costs a hash-map lookup and an `Arc` clone; a disk hit costs a file read, a checksum and a
//! deserialize (no compilation); a miss compiles with cranelift. [`CacheStats`] counts each, so tests can
//! assert that a cache hit never recompiles.

use crate::host::Ctx;
use parking_lot::Mutex;
use purse_types::Hash;
use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::{Engine, InstancePre, Linker, Module};

/// Counters of the module cache since the VM was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Modules compiled by cranelift (cache misses, and deploys of new code).
    pub compiles: u64,
    /// Lookups answered from memory.
    pub memory_hits: u64,
    /// Lookups answered from the on-disk cache (deserialized, not compiled).
    pub disk_hits: u64,
    /// Precompiled modules written to disk.
    pub disk_writes: u64,
    /// On-disk entries ignored because their header or checksum did not match.
    pub disk_rejects: u64,
    /// Entries evicted from memory.
    pub evictions: u64,
}

#[derive(Default)]
struct Counters {
    compiles: AtomicU64,
    memory_hits: AtomicU64,
    disk_hits: AtomicU64,
    disk_writes: AtomicU64,
    disk_rejects: AtomicU64,
    evictions: AtomicU64,
}

/// One cached module.
struct Entry {
    pre: InstancePre<Ctx>,
    /// When it was last used (the LRU clock).
    used: u64,
    /// Bytes of its compiled code image.
    bytes: usize,
    /// Bytes of its wasm code (what a frame's load is charged by).
    code_len: usize,
}

struct Lru {
    map: HashMap<Hash, Entry>,
    tick: u64,
    /// Sum of the entries' `bytes`.
    bytes: usize,
}

/// The cache. Shared by all executions of one [`crate::Vm`].
pub(crate) struct ModuleCache {
    lru: Mutex<Lru>,
    capacity: usize,
    max_bytes: usize,
    disk_dir: Option<PathBuf>,
    fingerprint: [u8; 32],
    counters: Counters,
}

const MAGIC: &[u8; 8] = b"PURSEVM1";
const HEADER_LEN: usize = 8 + 32 + 32 + 32;

/// Why a module could not be made ready.
pub(crate) enum LoadError {
    /// Compilation (or linking) failed: the code is unusable.
    Compile(String),
}

impl ModuleCache {
    pub(crate) fn new(
        engine: &Engine,
        capacity: usize,
        max_bytes: usize,
        disk_dir: Option<PathBuf>,
    ) -> std::io::Result<ModuleCache> {
        if let Some(dir) = &disk_dir {
            std::fs::create_dir_all(dir)?;
        }
        // Binds disk entries to this wasmtime build and engine configuration (wasmtime checks it as well).
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let mut fp = blake3::Hasher::new();
        fp.update(b"purse-vm module cache v1 wasmtime 48");
        fp.update(&h.finish().to_le_bytes());
        Ok(ModuleCache {
            lru: Mutex::new(Lru { map: HashMap::new(), tick: 0, bytes: 0 }),
            capacity: capacity.max(1),
            max_bytes,
            disk_dir,
            fingerprint: *fp.finalize().as_bytes(),
            counters: Counters::default(),
        })
    }

    pub(crate) fn stats(&self) -> CacheStats {
        let c = &self.counters;
        CacheStats {
            compiles: c.compiles.load(Ordering::Relaxed),
            memory_hits: c.memory_hits.load(Ordering::Relaxed),
            disk_hits: c.disk_hits.load(Ordering::Relaxed),
            disk_writes: c.disk_writes.load(Ordering::Relaxed),
            disk_rejects: c.disk_rejects.load(Ordering::Relaxed),
            evictions: c.evictions.load(Ordering::Relaxed),
        }
    }

    /// Drops every in-memory entry (the disk cache stays).
    pub(crate) fn clear_memory(&self) {
        let mut lru = self.lru.lock();
        lru.map.clear();
        lru.bytes = 0;
    }

    /// Whether `hash` is ready in memory.
    pub(crate) fn contains(&self, hash: &Hash) -> bool {
        self.lru.lock().map.contains_key(hash)
    }

    /// The in-memory entry, if any (counts a memory hit), with the length of its wasm code.
    pub(crate) fn lookup(&self, hash: &Hash) -> Option<(InstancePre<Ctx>, usize)> {
        let mut lru = self.lru.lock();
        lru.tick += 1;
        let tick = lru.tick;
        let entry = lru.map.get_mut(hash)?;
        entry.used = tick;
        self.counters.memory_hits.fetch_add(1, Ordering::Relaxed);
        Some((entry.pre.clone(), entry.code_len))
    }

    /// Makes `code` (whose hash is `hash`) ready: from disk if present and intact, else by compiling it.
    pub(crate) fn load(
        &self,
        engine: &Engine,
        linker: &Linker<Ctx>,
        hash: &Hash,
        code: &[u8],
    ) -> Result<InstancePre<Ctx>, LoadError> {
        let module = match self.read_disk(engine, hash) {
            Some(m) => {
                self.counters.disk_hits.fetch_add(1, Ordering::Relaxed);
                m
            }
            None => {
                self.counters.compiles.fetch_add(1, Ordering::Relaxed);
                let module = Module::new(engine, code).map_err(|e| LoadError::Compile(format!("{e:#}")))?;
                self.write_disk(hash, &module);
                module
            }
        };
        let image = module.image_range();
        let bytes = (image.end as usize).saturating_sub(image.start as usize);
        let pre = linker.instantiate_pre(&module).map_err(|e| LoadError::Compile(format!("link: {e:#}")))?;
        self.insert(*hash, pre.clone(), bytes, code.len());
        Ok(pre)
    }

    /// Keeps `pre` (whose code image is `bytes` long), evicting the least recently used modules to stay within
    /// the entry and byte bounds; a module larger than the byte bound is not kept.
    fn insert(&self, hash: Hash, pre: InstancePre<Ctx>, bytes: usize, code_len: usize) {
        if bytes > self.max_bytes {
            return;
        }
        let mut lru = self.lru.lock();
        lru.tick += 1;
        let tick = lru.tick;
        if let Some(old) = lru.map.remove(&hash) {
            lru.bytes -= old.bytes;
        }
        while lru.map.len() >= self.capacity || lru.bytes + bytes > self.max_bytes {
            let Some(oldest) = lru.map.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| *k) else { break };
            if let Some(e) = lru.map.remove(&oldest) {
                lru.bytes -= e.bytes;
                self.counters.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
        lru.bytes += bytes;
        lru.map.insert(hash, Entry { pre, used: tick, bytes, code_len });
    }

    /// Bytes of compiled code held in memory.
    #[cfg(test)]
    fn memory_bytes(&self) -> usize {
        self.lru.lock().bytes
    }

    fn path(dir: &Path, hash: &Hash) -> PathBuf {
        dir.join(format!("{}.cwasm", hash.to_hex()))
    }

    fn write_disk(&self, hash: &Hash, module: &Module) {
        let Some(dir) = &self.disk_dir else { return };
        // The disk cache is an optimisation: any failure here only costs a recompile later.
        let Ok(payload) = module.serialize() else { return };
        let mut file = Vec::with_capacity(HEADER_LEN + payload.len());
        file.extend_from_slice(MAGIC);
        file.extend_from_slice(&self.fingerprint);
        file.extend_from_slice(hash.as_bytes());
        file.extend_from_slice(blake3::hash(&payload).as_bytes());
        file.extend_from_slice(&payload);
        let path = Self::path(dir, hash);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, &file).is_ok() && std::fs::rename(&tmp, &path).is_ok() {
            self.counters.disk_writes.fetch_add(1, Ordering::Relaxed);
        } else {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    fn read_disk(&self, engine: &Engine, hash: &Hash) -> Option<Module> {
        let dir = self.disk_dir.as_ref()?;
        let bytes = std::fs::read(Self::path(dir, hash)).ok()?;
        let intact = bytes.len() > HEADER_LEN
            && &bytes[..8] == MAGIC
            && bytes[8..40] == self.fingerprint
            && &bytes[40..72] == hash.as_bytes()
            && &bytes[72..HEADER_LEN] == blake3::hash(&bytes[HEADER_LEN..]).as_bytes();
        if !intact {
            self.counters.disk_rejects.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        match deserialize_own_artifact(engine, &bytes[HEADER_LEN..]) {
            Some(m) => Some(m),
            None => {
                self.counters.disk_rejects.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }
}

/// Loads a precompiled module this node wrote itself.
#[allow(unsafe_code)]
fn deserialize_own_artifact(engine: &Engine, payload: &[u8]) -> Option<Module> {
    // SAFETY: `Module::deserialize` trusts its input to be the output of `Module::serialize` from a
    // compatible engine; malicious bytes could run arbitrary code. The only bytes that reach here are files
    // this node wrote into its own cache directory (`write_disk`), whose header binds them to this engine's
    // compatibility fingerprint and to the code hash, and whose blake3 checksum of the payload was just
    // verified — so a torn write, a truncated file or a file from another wasmtime build is rejected before
    // this call (wasmtime additionally checks its own version and configuration header). Contract authors
    // never supply precompiled bytes: deploys always carry wasm, which is checked and compiled.
    unsafe { Module::deserialize(engine, payload).ok() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(module (func))`, hand-assembled (the engine has no text parser).
    const ONE_FUNCTION: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
        0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
        0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code section: an empty body
    ];

    fn hash(i: u8) -> Hash {
        Hash([i; 32])
    }

    /// The cache never holds more compiled code than its byte bound: loading a module past it evicts the
    /// least recently used ones, and a module larger than the whole bound is not kept.
    #[test]
    fn the_cache_stays_within_its_byte_bound() {
        let engine = Engine::default();
        let linker = Linker::<Ctx>::new(&engine);
        let probe = ModuleCache::new(&engine, 16, usize::MAX, None).unwrap_or_else(|e| panic!("{e}"));
        assert!(probe.load(&engine, &linker, &hash(0), ONE_FUNCTION).is_ok());
        let one = probe.memory_bytes();
        assert!(one > 0, "a compiled module has a code image");

        // Room for two modules (by bytes), though the entry bound would allow sixteen.
        let cache = ModuleCache::new(&engine, 16, 2 * one, None).unwrap_or_else(|e| panic!("{e}"));
        for i in 1..=3 {
            assert!(cache.load(&engine, &linker, &hash(i), ONE_FUNCTION).is_ok());
            assert!(cache.memory_bytes() <= 2 * one, "module {i}: {} bytes held", cache.memory_bytes());
        }
        assert_eq!(cache.stats().evictions, 1);
        assert!(!cache.contains(&hash(1)), "the least recently used module was evicted");
        assert!(cache.contains(&hash(2)) && cache.contains(&hash(3)));

        let small = ModuleCache::new(&engine, 16, one - 1, None).unwrap_or_else(|e| panic!("{e}"));
        assert!(small.load(&engine, &linker, &hash(4), ONE_FUNCTION).is_ok(), "usable, though not kept");
        assert!(!small.contains(&hash(4)));
        assert_eq!(small.memory_bytes(), 0);
    }
}
