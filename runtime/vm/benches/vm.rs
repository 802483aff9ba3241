//! Contract-call benchmarks: a cached no-op call and a storage-write call, each also reported as a ratio to a
//! native Rust function doing the same state write; instantiation with and without the module cache.
//! Target: cached no-op call ≤ 20 µs. Run: `cargo bench -p purse-vm`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{black_box, criterion_group, Criterion};
use purse_types::{Address, Amount, AssetId, Hash};
use purse_vm::{Action, ContractInfo, ContractState, Env, StateError, Vm, VmConfig};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    storage: BTreeMap<(Address, Vec<u8>), Vec<u8>>,
    codes: BTreeMap<Hash, Arc<[u8]>>,
    contracts: BTreeMap<Address, ContractInfo>,
}

impl ContractState for State {
    fn storage_get(&self, c: &Address, k: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.storage.get(&(*c, k.to_vec())).cloned())
    }
    fn storage_scan(
        &self,
        _: &Address,
        _: &[u8],
        _: &[u8],
        _: usize,
    ) -> Result<purse_vm::Entries, StateError> {
        Ok(Vec::new())
    }
    fn balance(&self, _: &Address, _: &AssetId) -> Result<Amount, StateError> {
        Ok(Amount(0))
    }
    fn code(&self, h: &Hash) -> Result<Option<Arc<[u8]>>, StateError> {
        Ok(self.codes.get(h).cloned())
    }
    fn contract(&self, a: &Address) -> Result<Option<ContractInfo>, StateError> {
        Ok(self.contracts.get(a).cloned())
    }
    fn has_role(&self, _: &Address, _: purse_types::Role) -> Result<bool, StateError> {
        Ok(false)
    }
}

const WAT: &str = r#"(module
  (import "purse" "storage_set" (func $set (param i32 i32 i32 i32)))
  (memory (export "memory") 1 16)
  (data (i32.const 0) "count\07\00\00\00\00\00\00\00")
  (func (export "init"))
  (func (export "noop"))
  (func (export "write") (call $set (i32.const 0) (i32.const 5) (i32.const 5) (i32.const 8))))"#;

struct Setup {
    vm: Vm,
    state: Arc<State>,
    env: Env,
    contract: Address,
    code_hash: Hash,
}

fn setup() -> Setup {
    let vm = Vm::new(VmConfig::default()).unwrap();
    let code = wat::parse_str(WAT).unwrap();
    let origin = Address::system("bench");
    let env = Env { block_height: 1, block_time_ms: 0, origin };
    let mut state = State::default();
    let out =
        vm.execute(Arc::new(State::default()), &env, Action::Deploy { code: code.clone() }, 100_000_000);
    let code_hash = out.code_hash.unwrap();
    state.codes.insert(code_hash, Arc::from(code.as_slice()));
    let contract = Address::contract(&origin, 1);
    state
        .contracts
        .insert(contract, ContractInfo { code_hash, admin: None, creator: origin, allow_reentry: false });
    Setup { vm, state: Arc::new(state), env, contract, code_hash }
}

fn call(s: &Setup, method: &str) -> purse_vm::Outcome {
    let action =
        Action::Call { contract: s.contract, method: method.into(), args: Vec::new(), funds: Vec::new() };
    let out = s.vm.execute(Arc::clone(&s.state), &s.env, action, 1_000_000);
    assert!(out.result.is_ok());
    out
}

/// The native equivalent of the `write` method: the same key/value written into a state map.
fn native_write(map: &mut BTreeMap<(Address, Vec<u8>), Option<Vec<u8>>>, contract: Address) {
    map.insert((contract, b"count".to_vec()), Some(7u64.to_le_bytes().to_vec()));
}

fn instantiate(s: &Setup) {
    let action = Action::Instantiate {
        code_hash: s.code_hash,
        nonce: 2,
        admin: None,
        allow_reentry: false,
        args: Vec::new(),
        funds: Vec::new(),
    };
    let out = s.vm.execute(Arc::clone(&s.state), &s.env, action, 1_000_000);
    assert!(out.result.is_ok());
}

fn benches(c: &mut Criterion) {
    let s = setup();
    let mut g = c.benchmark_group("contract");
    g.bench_function("call_noop_cached", |b| b.iter(|| black_box(call(&s, "noop"))));
    g.bench_function("call_storage_write_cached", |b| b.iter(|| black_box(call(&s, "write"))));
    g.bench_function("native_storage_write", |b| {
        b.iter(|| {
            let mut m = BTreeMap::new();
            native_write(&mut m, s.contract);
            black_box(m)
        })
    });
    g.bench_function("instantiate_cached", |b| b.iter(|| instantiate(&s)));
    g.sample_size(10);
    g.bench_function("instantiate_uncached_compile", |b| {
        b.iter(|| {
            s.vm.clear_memory_cache();
            call(&s, "noop")
        })
    });
    g.finish();
}

fn per_iter(n: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..n / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed() / n
}

/// Prints the ratios the issue asks for (same run as the criterion numbers above).
fn ratios() {
    let s = setup();
    let native = per_iter(200_000, || {
        let mut m = BTreeMap::new();
        native_write(&mut m, s.contract);
        black_box(m);
    });
    let noop = per_iter(20_000, || {
        black_box(call(&s, "noop"));
    });
    let write = per_iter(20_000, || {
        black_box(call(&s, "write"));
    });
    let inst = per_iter(5_000, || instantiate(&s));
    let compile = per_iter(10, || {
        s.vm.clear_memory_cache();
        black_box(call(&s, "noop"));
    });
    let r = |d: Duration| d.as_secs_f64() / native.as_secs_f64().max(1e-12);
    println!("\n== purse-vm summary ==");
    println!("native state write          {native:>12.2?}");
    println!(
        "cached no-op call           {noop:>12.2?}  ratio to native write {:>8.1}x  (target <= 20 µs: {})",
        r(noop),
        if noop <= Duration::from_micros(20) { "met" } else { "MISSED" }
    );
    println!("cached storage-write call   {write:>12.2?}  ratio to native write {:>8.1}x", r(write));
    println!("instantiate (cache hit)     {inst:>12.2?}");
    println!("call with compile (no cache){compile:>12.2?}");
}

criterion_group!(group, benches);

fn main() {
    group();
    criterion::Criterion::default().configure_from_args().final_summary();
    ratios();
}
