//! The example contracts (built by scripts/build-contracts) through the harness: the contract author's view.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use borsh::{BorshDeserialize, BorshSerialize};
use purse_contract_test::{artifact, TestEnv};
use purse_types::{Address, Amount, AssetId};
use purse_vm::{Action, ExecError};

fn counter_env() -> (TestEnv, Address, Address) {
    let mut env = TestEnv::new();
    let alice = TestEnv::account("alice");
    let code = env.deploy_artifact(alice, "counter").unwrap();
    let counter = env.instantiate(alice, code, &5u64).unwrap();
    (env, alice, counter)
}

#[test]
fn counter_increments_emits_and_queries() {
    let (mut env, alice, counter) = counter_env();
    let n: u64 = env.call(alice, counter, "increment", &2u64).unwrap();
    assert_eq!(n, 7);
    let ev = env.last_events();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].topic, "counter.incremented");
    assert_eq!(ev[0].emitter, counter);
    assert_eq!(ev[0].data, borsh::to_vec(&7u64).unwrap());
    assert!(env.last_fuel() > 0);
    let q: u64 = env.query(counter, "get", &()).unwrap();
    assert_eq!(q, 7);
    assert_eq!(env.storage(counter, b"count"), Some(7u64.to_le_bytes().to_vec()));
}

#[test]
fn counter_failure_rolls_back_and_reports_the_message() {
    let (mut env, alice, counter) = counter_env();
    let root = env.state_root();
    let err = env.call::<(), ()>(alice, counter, "fail_after_write", &()).unwrap_err();
    assert!(err.to_string().contains("deliberate failure"), "{err}");
    assert_eq!(env.state_root(), root);
    assert!(env.last_events().is_empty());
    let q: u64 = env.query(counter, "get", &()).unwrap();
    assert_eq!(q, 5);
}

#[test]
fn bad_arguments_are_a_clean_error() {
    let (mut env, alice, counter) = counter_env();
    let err = env.call_raw(alice, counter, "increment", vec![1, 2, 3], Vec::new()).unwrap_err();
    match err {
        ExecError::Aborted(m) => assert!(m.contains("invalid arguments"), "{m}"),
        other => panic!("{other}"),
    }
}

#[test]
fn query_cannot_write() {
    let (env, _alice, counter) = counter_env();
    let err = env.query::<u64, u64>(counter, "increment", &1).unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
}

#[test]
fn cross_contract_call_and_reentry() {
    let (mut env, alice, a) = counter_env();
    let code = env.contract_info(a).unwrap().code_hash;
    let b = env.instantiate(alice, code, &100u64).unwrap();
    // a.forward(b, "increment", 1) → b becomes 101.
    let (ok, out): (bool, Vec<u8>) =
        env.call(alice, a, "forward", &(b, "increment".to_string(), borsh::to_vec(&1u64).unwrap())).unwrap();
    assert!(ok);
    assert_eq!(u64::try_from_slice(&out).unwrap(), 101);
    // a.forward(a, "get") → re-entry into a is denied by default; a keeps going.
    let (ok, msg): (bool, Vec<u8>) =
        env.call(alice, a, "forward", &(a, "get".to_string(), Vec::<u8>::new())).unwrap();
    assert!(!ok);
    assert!(String::from_utf8_lossy(&msg).contains("re-entry"), "{}", String::from_utf8_lossy(&msg));
    // A failing callee's writes are rolled back while the caller succeeds.
    let (ok, _): (bool, Vec<u8>) =
        env.call(alice, a, "forward", &(b, "fail_after_write".to_string(), Vec::<u8>::new())).unwrap();
    assert!(!ok);
    assert_eq!(env.query::<(), u64>(b, "get", &()).unwrap(), 101);
}

#[test]
fn upgrade_runs_migrate_and_only_the_admin_may() {
    let (mut env, alice, counter) = counter_env();
    let code = env.contract_info(counter).unwrap().code_hash;
    assert_eq!(env.query::<(), u32>(counter, "version", &()).unwrap(), 1);
    let bob = TestEnv::account("bob");
    assert!(matches!(env.upgrade(bob, counter, code, &()), Err(ExecError::Unauthorized(_))));
    env.upgrade(alice, counter, code, &()).unwrap();
    assert_eq!(env.query::<(), u32>(counter, "version", &()).unwrap(), 2);
}

#[test]
fn cache_hit_does_not_recompile() {
    let (mut env, alice, counter) = counter_env();
    let compiles = env.vm().cache_stats().compiles;
    for _ in 0..5 {
        let _: u64 = env.call(alice, counter, "increment", &1u64).unwrap();
    }
    let stats = env.vm().cache_stats();
    assert_eq!(stats.compiles, compiles, "cached calls must not recompile");
    assert!(stats.memory_hits >= 5);
}

/// A frame pays to load its code, by the code's size, whatever the node's cache holds: fuel is consensus,
/// the cache is not. A frame that cannot pay fails out of fuel without loading anything.
#[test]
fn a_call_pays_to_load_its_code_the_same_from_memory_or_from_disk() {
    let dir = std::env::temp_dir().join(format!("purse-vm-load-fuel-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = purse_vm::VmConfig::default();
    config.cache.disk_dir = Some(dir.clone());
    let per_byte = config.fuel.code_load_per_byte;
    let free_loads = {
        let mut c = purse_vm::VmConfig::default();
        c.fuel.code_load_per_byte = 0;
        c
    };
    let alice = TestEnv::account("alice");
    let code = artifact("counter").unwrap();
    let load = per_byte * code.len() as u64;
    assert!(load > 0);
    let increment = |counter| Action::Call {
        contract: counter,
        method: "increment".into(),
        args: borsh::to_vec(&1u64).unwrap(),
        funds: Vec::new(),
    };
    let counter_in = |env: &mut TestEnv| {
        let hash = env.deploy(alice, &code).unwrap();
        env.instantiate(alice, hash, &5u64).unwrap()
    };
    // The same call with loads free: exactly the load less.
    let mut free = TestEnv::with_config(free_loads);
    let c = counter_in(&mut free);
    let unloaded = free.execute(alice, increment(c)).fuel_used;
    let mut env = TestEnv::with_config(config);
    let counter = counter_in(&mut env);
    let warm = env.execute(alice, increment(counter));
    assert!(warm.result.is_ok(), "{:?}", warm.result);
    assert_eq!(warm.fuel_used, unloaded + load, "from memory");
    env.vm().clear_memory_cache();
    let before = env.vm().cache_stats();
    let cold = env.execute(alice, increment(counter));
    assert!(cold.result.is_ok(), "{:?}", cold.result);
    assert_eq!(env.vm().cache_stats().disk_hits, before.disk_hits + 1, "loaded from disk");
    assert_eq!(cold.fuel_used, unloaded + load, "from disk");
    // Fuel for less than the load: out of fuel, all of it used — from memory, and from disk without loading.
    env.set_fuel_limit(load - 1);
    let short = env.execute(alice, increment(counter));
    assert_eq!((short.result, short.fuel_used), (Err(ExecError::OutOfFuel), load - 1), "from memory");
    env.vm().clear_memory_cache();
    let before = env.vm().cache_stats();
    let short = env.execute(alice, increment(counter));
    assert_eq!((short.result, short.fuel_used), (Err(ExecError::OutOfFuel), load - 1), "from disk");
    let after = env.vm().cache_stats();
    assert_eq!((after.disk_hits, after.compiles), (before.disk_hits, before.compiles), "nothing loaded");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn disk_cache_survives_a_restart_without_recompiling() {
    let dir = std::env::temp_dir().join(format!("purse-vm-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = purse_vm::VmConfig::default();
    config.cache.disk_dir = Some(dir.clone());
    let alice = TestEnv::account("alice");
    let code = artifact("counter").unwrap();
    let mut env = TestEnv::with_config(config.clone());
    let hash = env.deploy(alice, &code).unwrap();
    assert_eq!(env.vm().cache_stats().compiles, 1);
    assert_eq!(env.vm().cache_stats().disk_writes, 1);
    // A "restarted node": new VM, same disk cache, same state.
    let state = env.state().clone();
    let vm2 = purse_vm::Vm::new(config).unwrap();
    let env2_state = std::sync::Arc::new(state);
    let out = vm2.execute(
        env2_state,
        &purse_vm::Env { block_height: 1, block_time_ms: 0, origin: alice },
        Action::Instantiate {
            code_hash: hash,
            nonce: 9,
            admin: None,
            allow_reentry: false,
            args: borsh::to_vec(&1u64).unwrap(),
            funds: Vec::new(),
        },
        10_000_000,
    );
    assert!(out.result.is_ok(), "{:?}", out.result);
    let s = vm2.cache_stats();
    assert_eq!((s.compiles, s.disk_hits), (0, 1), "{s:?}");
    // A corrupted entry is rejected and recompiled, never loaded.
    let file = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    let vm3 = purse_vm::Vm::new({
        let mut c = purse_vm::VmConfig::default();
        c.cache.disk_dir = Some(dir.clone());
        c
    })
    .unwrap();
    vm3.prepare(env.state(), &hash).unwrap();
    let s = vm3.cache_stats();
    assert_eq!((s.compiles, s.disk_hits, s.disk_rejects), (1, 0, 1), "{s:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn attached_funds_move_and_roll_back() {
    let (mut env, alice, counter) = counter_env();
    let asset = AssetId::native();
    env.mint(alice, asset, 1_000);
    env.call_raw(alice, counter, "noop", borsh::to_vec(&()).unwrap(), vec![(asset, Amount(300))]).unwrap();
    assert_eq!(env.balance(alice, asset), 700);
    assert_eq!(env.balance(counter, asset), 300);
    // A failing call with funds attached moves nothing.
    let _ =
        env.call_raw(alice, counter, "fail_after_write", Vec::new(), vec![(asset, Amount(100))]).unwrap_err();
    assert_eq!(env.balance(alice, asset), 700);
    // More than the balance.
    let e = env.call_raw(alice, counter, "noop", Vec::new(), vec![(asset, Amount(10_000))]).unwrap_err();
    assert!(matches!(e, ExecError::InsufficientFunds(_)), "{e}");
}

#[test]
fn dry_run_reports_fuel_events_and_diff_without_applying() {
    let (env, alice, counter) = counter_env();
    let root = env.state_root();
    let out = env.dry_run(
        alice,
        Action::Call {
            contract: counter,
            method: "increment".into(),
            args: borsh::to_vec(&3u64).unwrap(),
            funds: Vec::new(),
        },
    );
    assert!(out.result.is_ok());
    assert!(out.fuel_used > 0);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.diff.storage.len(), 1);
    assert_eq!(out.diff.storage[0].value, Some(8u64.to_le_bytes().to_vec()));
    assert_eq!(env.state_root(), root);
}

#[test]
fn the_same_calls_on_two_fresh_states_are_identical() {
    fn run() -> (Vec<purse_vm::Outcome>, purse_types::Hash) {
        let mut env = TestEnv::new();
        let alice = TestEnv::account("alice");
        let code = env.deploy_artifact(alice, "loyalty").unwrap();
        let c = env
            .instantiate(
                alice,
                code,
                &LoyaltyInit { name: "cafe".into(), earn_rate_bps: 100, lot_ttl_ms: 10_000 },
            )
            .unwrap();
        let wallet = TestEnv::account("w");
        let mut outs = Vec::new();
        for i in 0..5u128 {
            let _ = env.call::<_, u128>(
                alice,
                c,
                "earn",
                &Earn { wallet, spent: 10_000 * (i + 1), category: "food".into() },
            );
            outs.push(env.last_outcome().unwrap().clone());
            env.advance_blocks(1);
        }
        let _ = env.call::<_, u128>(wallet, c, "redeem", &7u128);
        outs.push(env.last_outcome().unwrap().clone());
        let _ = env.call::<_, u128>(wallet, c, "redeem", &1_000_000u128);
        outs.push(env.last_outcome().unwrap().clone());
        (outs, env.state_root())
    }
    let (a, ra) = run();
    let (b, rb) = run();
    assert_eq!(a, b, "outcomes (results, fuel, events, diffs) must be identical");
    assert_eq!(ra, rb, "state roots must be identical");
    assert!(a.iter().all(|o| o.fuel_used > 0));
}

#[derive(BorshSerialize, BorshDeserialize, Debug, PartialEq)]
struct LoyaltyInit {
    name: String,
    earn_rate_bps: u32,
    lot_ttl_ms: u64,
}

#[derive(BorshSerialize)]
struct Earn {
    wallet: Address,
    spent: u128,
    category: String,
}

#[derive(BorshDeserialize, Debug)]
struct LoyaltyConfig {
    merchant: Address,
    name: String,
    earn_rate_bps: u32,
    lot_ttl_ms: u64,
}

#[test]
fn loyalty_points_fifo_redeem_and_expiry() {
    let mut env = TestEnv::new();
    let merchant = TestEnv::account("merchant");
    let wallet = TestEnv::account("wallet");
    let code = env.deploy_artifact(merchant, "loyalty").unwrap();
    let c = env
        .instantiate(
            merchant,
            code,
            &LoyaltyInit { name: "cafe".into(), earn_rate_bps: 100, lot_ttl_ms: 5_000 },
        )
        .unwrap();
    let cfg: LoyaltyConfig = env.query(c, "config_of", &()).unwrap();
    assert_eq!(
        (cfg.merchant, cfg.name.as_str(), cfg.earn_rate_bps, cfg.lot_ttl_ms),
        (merchant, "cafe", 100, 5_000)
    );

    // 1% of spend, 2x on "food".
    env.call::<_, ()>(merchant, c, "set_multiplier", &("food".to_string(), 20_000u32)).unwrap();
    let p1: u128 =
        env.call(merchant, c, "earn", &Earn { wallet, spent: 10_000, category: "food".into() }).unwrap();
    assert_eq!(p1, 200);
    assert_eq!(env.last_events()[0].topic, "points.earned");
    env.advance_blocks(2);
    let p2: u128 =
        env.call(merchant, c, "earn", &Earn { wallet, spent: 5_000, category: "books".into() }).unwrap();
    assert_eq!(p2, 50);
    assert_eq!(env.query::<_, u128>(c, "balance", &wallet).unwrap(), 250);

    // Only the merchant awards points.
    let e =
        env.call::<_, u128>(wallet, c, "earn", &Earn { wallet, spent: 1, category: "x".into() }).unwrap_err();
    assert!(e.to_string().contains("only the merchant"), "{e}");

    // FIFO: redeeming 230 empties the first lot (200) and takes 30 from the second.
    let left: u128 = env.call(wallet, c, "redeem", &230u128).unwrap();
    assert_eq!(left, 20);
    assert_eq!(env.last_events()[0].topic, "points.redeemed");
    let e = env.call::<_, u128>(wallet, c, "redeem", &21u128).unwrap_err();
    assert!(e.to_string().contains("insufficient points"), "{e}");

    // The second lot expires 5 s after it was earned.
    env.advance_time(5_001);
    assert_eq!(env.query::<_, u128>(c, "balance", &wallet).unwrap(), 0);
}
