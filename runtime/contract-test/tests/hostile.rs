//! The hostile-module suite: every case runs through the real VM and must end in a deterministic error with a
//! reason — no panic, no partial write — after which the next call works (checked by the fixture).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{contract, raw, Fixture};
use purse_vm::{Action, CheckError, ExecError};

fn deploy_err(code: &[u8]) -> CheckError {
    let mut f = Fixture::new();
    match f.expect_deploy_rejected(code) {
        ExecError::InvalidCode(e) => e,
        other => panic!("expected a deploy rejection, got {other}"),
    }
}

fn run_err(body: &str) -> ExecError {
    let mut f = Fixture::new();
    let c = f.install(&contract(body));
    f.expect_failure(c, "run")
}

fn assert_feature(e: CheckError, feature: &str) {
    match &e {
        CheckError::Feature { feature: f, .. } => {
            assert!(f.contains(feature), "expected feature {feature}, got {e}")
        }
        _ => panic!("expected a feature rejection naming {feature}, got {e}"),
    }
}

// ---------- execution limits ----------

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let e = run_err(r#"(func (export "run") (loop $l (br $l)))"#);
    assert_eq!(e, ExecError::OutOfFuel);
}

#[test]
fn deep_recursion_exhausts_the_stack() {
    let e = run_err(r#"(func $f (export "run") (call $f))"#);
    match e {
        ExecError::Trap(m) => assert!(m.contains("call stack exhausted"), "{m}"),
        other => panic!("{other}"),
    }
}

#[test]
fn deep_recursion_with_locals_exhausts_the_stack() {
    let e = run_err(
        r#"(func $f (param i64 i64 i64 i64) (result i64)
             (local i64 i64 i64 i64 i64 i64 i64 i64)
             (i64.add (call $f (local.get 0) (local.get 1) (local.get 2) (local.get 3)) (local.get 4)))
           (func (export "run") (drop (call $f (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4))))"#,
    );
    assert!(matches!(e, ExecError::Trap(_)), "{e}");
}

/// Calls itself through the host until the depth limit refuses, then traps: guest→host→guest recursion.
const SELF_CALL: &str = r#"
    (data (i32.const 200) "run")
    (func (export "run")
      (call $self_address (i32.const 100))
      (if (i64.lt_s (call $call (i32.const 100) (i32.const 200) (i32.const 3) (i32.const 0) (i32.const 0) (i64.const 0))
                    (i64.const 0))
        (then unreachable)))"#;

#[test]
fn guest_host_guest_recursion_hits_the_depth_limit() {
    let mut f = Fixture::new();
    let c = f.install_reentrant(&contract(SELF_CALL));
    let e = f.expect_failure(c, "run");
    assert!(matches!(e, ExecError::Trap(_)), "{e}");
}

#[test]
fn reentry_is_denied_by_default() {
    let mut f = Fixture::new();
    // Re-entry denied: the self-call fails with a message, so `run` traps on the `unreachable`.
    let c = f.install(&contract(SELF_CALL));
    let e = f.expect_failure(c, "run");
    assert!(matches!(e, ExecError::Trap(_)), "{e}");
    // The failure message says why.
    let probe = f.install(&contract(
        r#"(data (i32.const 200) "run")
           (func (export "run")
             (local $n i64)
             (call $self_address (i32.const 100))
             (local.set $n (call $call (i32.const 100) (i32.const 200) (i32.const 3) (i32.const 0) (i32.const 0) (i64.const 0)))
             (if (i64.ge_s (local.get $n) (i64.const 0)) (then unreachable))
             (call $result_read (i32.const 300))
             (call $abort (i32.const 300) (i32.wrap_i64 (i64.sub (i64.const -1) (local.get $n)))))"#,
    ));
    match f.expect_failure(probe, "run") {
        ExecError::Aborted(m) => assert!(m.contains("re-entry") && m.contains("denied"), "{m}"),
        other => panic!("{other}"),
    }
}

#[test]
fn memory_grow_bomb_hits_the_page_cap() {
    // No declared maximum: growth is stopped by the VM's page cap, which traps.
    let mut f = Fixture::new();
    let c = f.install(&raw(&format!(
        r#"(module {} (memory (export "memory") 1)
             (func (export "run") (loop $l (drop (memory.grow (i32.const 1))) (br $l))))"#,
        common::imports()
    )));
    match f.expect_failure(c, "run") {
        ExecError::Limit(m) => assert!(m.contains("page"), "{m}"),
        other => panic!("{other}"),
    }
}

#[test]
fn memory_grow_past_the_declared_maximum_returns_minus_one() {
    // Declared maximum 16 pages: `memory.grow` returns -1 there (as the spec says); looping on it runs out of fuel.
    let e = run_err(r#"(func (export "run") (loop $l (drop (memory.grow (i32.const 1))) (br $l)))"#);
    assert_eq!(e, ExecError::OutOfFuel);
    let e = run_err(
        r#"(func (export "run") (if (i32.ne (memory.grow (i32.const 100)) (i32.const -1)) (then unreachable))
             (call $abort (i32.const 0) (i32.const 0)))"#,
    );
    assert_eq!(e, ExecError::Aborted(String::new()));
}

#[test]
fn memory_grow_by_huge_delta_hits_the_page_cap() {
    let mut f = Fixture::new();
    let c = f.install(&raw(&format!(
        r#"(module {} (memory (export "memory") 1) (func (export "run") (drop (memory.grow (i32.const 65535)))))"#,
        common::imports()
    )));
    assert!(matches!(f.expect_failure(c, "run"), ExecError::Limit(_)));
}

#[test]
fn data_segment_outside_memory_traps_at_instantiation() {
    // Passes the static checks (offsets are run-time values); every frame's instantiation then traps.
    let e = run_err(r#"(data (i32.const 65535) "xyz") (func (export "run"))"#);
    match e {
        ExecError::Trap(m) => assert!(m.contains("out of bounds"), "{m}"),
        other => panic!("{other}"),
    }
}

#[test]
fn unreachable_traps() {
    assert!(matches!(run_err(r#"(func (export "run") unreachable)"#), ExecError::Trap(_)));
}

#[test]
fn division_by_zero_traps() {
    let e = run_err(r#"(func (export "run") (drop (i32.div_u (i32.const 1) (i32.const 0))))"#);
    match e {
        ExecError::Trap(m) => assert!(m.contains("divide by zero"), "{m}"),
        other => panic!("{other}"),
    }
}

#[test]
fn out_of_bounds_load_traps() {
    let e = run_err(r#"(func (export "run") (drop (i32.load (i32.const 1048576))))"#);
    assert!(matches!(e, ExecError::Trap(_)), "{e}");
}

#[test]
fn indirect_call_type_mismatch_traps() {
    let e = run_err(
        r#"(type $t (func (param i32)))
           (table 1 funcref) (elem (i32.const 0) $g)
           (func $g)
           (func (export "run") (call_indirect (type $t) (i32.const 5) (i32.const 0)))"#,
    );
    assert!(matches!(e, ExecError::Trap(_)), "{e}");
}

#[test]
fn abort_carries_its_message() {
    let e = run_err(
        r#"(data (i32.const 0) "no way") (func (export "run") (call $abort (i32.const 0) (i32.const 6)))"#,
    );
    assert_eq!(e, ExecError::Aborted("no way".into()));
}

#[test]
fn trap_after_partial_writes_rolls_everything_back() {
    let e = run_err(
        r#"(data (i32.const 0) "abtopic")
           (func (export "run")
             (call $storage_set (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 1))
             (call $storage_set (i32.const 1) (i32.const 1) (i32.const 0) (i32.const 1))
             (call $emit_event (i32.const 2) (i32.const 5) (i32.const 0) (i32.const 2))
             unreachable)"#,
    );
    assert!(matches!(e, ExecError::Trap(_)));
}

#[test]
fn out_of_fuel_after_writes_rolls_back() {
    let e = run_err(
        r#"(data (i32.const 0) "ab")
           (func (export "run")
             (call $storage_set (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 1))
             (loop $l (br $l)))"#,
    );
    assert_eq!(e, ExecError::OutOfFuel);
}

#[test]
fn too_many_events_hit_the_limit() {
    let e = run_err(
        r#"(data (i32.const 0) "t")
           (func (export "run") (loop $l (call $emit_event (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0)) (br $l)))"#,
    );
    assert!(matches!(e, ExecError::Limit(_)), "{e}");
}

// ---------- host calls: bad pointers and lengths ----------

/// Every host function that takes a pointer, called with one outside memory.
const OOB_CALLS: &[(&str, &str)] = &[
    ("storage_get", "(drop (call $storage_get (i32.const -16) (i32.const 4)))"),
    ("storage_has", "(drop (call $storage_has (i32.const -16) (i32.const 4)))"),
    ("storage_set key", "(call $storage_set (i32.const -16) (i32.const 4) (i32.const 0) (i32.const 1))"),
    ("storage_set value", "(call $storage_set (i32.const 0) (i32.const 1) (i32.const 65535) (i32.const 4))"),
    ("storage_remove", "(drop (call $storage_remove (i32.const -16) (i32.const 4)))"),
    ("storage_scan prefix", "(drop (call $storage_scan (i32.const -16) (i32.const 4) (i32.const 0) (i32.const 0) (i32.const 1)))"),
    ("storage_scan from", "(drop (call $storage_scan (i32.const 0) (i32.const 0) (i32.const 65534) (i32.const 8) (i32.const 1)))"),
    ("input_read", "(call $input_read (i32.const -16))"),
    ("set_return", "(call $set_return (i32.const -16) (i32.const 4))"),
    ("result_read", "(call $result_read (i32.const 65537))"),
    ("abort", "(call $abort (i32.const -16) (i32.const 4))"),
    ("caller", "(call $caller (i32.const 65530))"),
    ("origin", "(call $origin (i32.const 65530))"),
    ("self_address", "(call $self_address (i32.const 65530))"),
    ("emit_event topic", "(call $emit_event (i32.const -16) (i32.const 4) (i32.const 0) (i32.const 0))"),
    ("emit_event data", "(call $emit_event (i32.const 0) (i32.const 1) (i32.const 65000) (i32.const 4096))"),
    ("balance account", "(call $balance (i32.const 65520) (i32.const 0) (i32.const 0))"),
    ("balance out", "(call $balance (i32.const 0) (i32.const 0) (i32.const 65530))"),
    ("transfer", "(drop (call $transfer (i32.const -16) (i32.const 0) (i32.const 0)))"),
    ("transfer amount", "(drop (call $transfer (i32.const 0) (i32.const 0) (i32.const 65530)))"),
    ("call address", "(drop (call $call (i32.const 65530) (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0) (i64.const 0)))"),
    ("call args", "(drop (call $call (i32.const 0) (i32.const 0) (i32.const 1) (i32.const -16) (i32.const 4) (i64.const 0)))"),
    ("blake3 input", "(call $blake3 (i32.const -16) (i32.const 4) (i32.const 0))"),
    ("blake3 out", "(call $blake3 (i32.const 0) (i32.const 4) (i32.const 65530))"),
    ("ed25519 key", "(drop (call $ed25519_verify (i32.const 65530) (i32.const 0) (i32.const 0) (i32.const 0)))"),
    ("ed25519 message", "(drop (call $ed25519_verify (i32.const 0) (i32.const -16) (i32.const 4) (i32.const 0)))"),
    ("ed25519 signature", "(drop (call $ed25519_verify (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 65500)))"),
];

#[test]
fn out_of_bounds_pointers_to_every_host_call_are_host_errors() {
    let mut f = Fixture::new();
    for (what, call) in OOB_CALLS {
        let c = f.install(&contract(&format!(r#"(func (export "run") {call})"#)));
        match f.expect_failure(c, "run") {
            ExecError::Host(m) => assert!(m.contains("outside the contract's memory"), "{what}: {m}"),
            other => panic!("{what}: expected a host error, got {other}"),
        }
    }
}

#[test]
fn negative_and_oversized_lengths_are_host_errors_without_allocation() {
    let mut f = Fixture::new();
    for call in [
        "(call $storage_set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 2147483647))",
        "(call $storage_set (i32.const 0) (i32.const -1) (i32.const 0) (i32.const 1))",
        "(drop (call $storage_get (i32.const 0) (i32.const 100000)))",
        "(call $set_return (i32.const 0) (i32.const -5))",
        "(call $emit_event (i32.const 0) (i32.const 65) (i32.const 0) (i32.const 0))",
        "(drop (call $storage_scan (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000)))",
        "(call $blake3 (i32.const 0) (i32.const 2147483647) (i32.const 0))",
    ] {
        let c = f.install(&contract(&format!(r#"(func (export "run") {call})"#)));
        match f.expect_failure(c, "run") {
            ExecError::Host(m) => assert!(m.contains("limit") || m.contains("outside"), "{call}: {m}"),
            other => panic!("{call}: expected a host error, got {other}"),
        }
    }
}

#[test]
fn huge_storage_value_is_rejected() {
    // 64 KiB + 1 from a memory grown to 2 pages.
    let e = run_err(
        r#"(func (export "run")
             (drop (memory.grow (i32.const 1)))
             (call $storage_set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 65537)))"#,
    );
    assert!(matches!(e, ExecError::Host(_)), "{e}");
}

// ---------- nested calls ----------

#[test]
fn failed_nested_call_rolls_back_only_the_callee() {
    let mut f = Fixture::new();
    // Callee writes then traps.
    let callee = f.install(&contract(
        r#"(data (i32.const 0) "cz") (func (export "run")
             (call $storage_set (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 1)) unreachable)"#,
    ));
    // Caller writes, calls the callee (address passed as input), keeps going.
    let caller = f.install(&contract(
        r#"(data (i32.const 0) "ay") (data (i32.const 200) "run")
           (func (export "run")
             (call $storage_set (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 1))
             (call $input_read (i32.const 100))
             (if (i64.ge_s (call $call (i32.const 100) (i32.const 200) (i32.const 3) (i32.const 0) (i32.const 0) (i64.const 0)) (i64.const 0))
               (then unreachable)))"#,
    ));
    let out = f.env.execute(
        f.alice,
        Action::Call { contract: caller, method: "run".into(), args: callee.0.to_vec(), funds: Vec::new() },
    );
    assert!(out.result.is_ok(), "{:?}", out.result);
    assert_eq!(f.env.storage(caller, b"a"), Some(b"y".to_vec()));
    assert_eq!(f.env.storage(callee, b"c"), None, "the failed callee's write must be rolled back");
}

#[test]
fn nested_call_out_of_fuel_is_contained() {
    let mut f = Fixture::new();
    let callee = f.install(&contract(r#"(func (export "run") (loop $l (br $l)))"#));
    let caller = f.install(&contract(
        r#"(data (i32.const 0) "ay") (data (i32.const 200) "run")
           (func (export "run")
             (call $input_read (i32.const 100))
             (drop (call $call (i32.const 100) (i32.const 200) (i32.const 3) (i32.const 0) (i32.const 0) (i64.const 100000)))
             (call $storage_set (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 1)))"#,
    ));
    let out = f.env.execute(
        f.alice,
        Action::Call { contract: caller, method: "run".into(), args: callee.0.to_vec(), funds: Vec::new() },
    );
    assert!(out.result.is_ok(), "{:?}", out.result);
    assert!(out.fuel_used > 100_000, "the callee's fuel is charged to the caller");
    assert_eq!(f.env.storage(caller, b"a"), Some(b"y".to_vec()));
}

// ---------- queries ----------

#[test]
fn writes_in_a_query_are_impossible() {
    let mut f = Fixture::new();
    for (what, body) in [
        ("storage_set", "(call $storage_set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))"),
        ("storage_remove", "(drop (call $storage_remove (i32.const 0) (i32.const 1)))"),
        ("emit_event", "(call $emit_event (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0))"),
        ("transfer", "(drop (call $transfer (i32.const 0) (i32.const 0) (i32.const 0)))"),
    ] {
        let c = f.install(&contract(&format!(r#"(func (export "q") {body})"#)));
        let e = f.env.query::<(), ()>(c, "q", &()).unwrap_err();
        assert!(e.to_string().contains("read-only"), "{what}: {e}");
    }
    // A query that calls a contract that writes fails too.
    let writer = f.good;
    let proxy = f.install(&contract(
        r#"(data (i32.const 200) "ok")
           (func (export "q")
             (call $input_read (i32.const 100))
             (if (i64.lt_s (call $call (i32.const 100) (i32.const 200) (i32.const 2) (i32.const 0) (i32.const 0) (i64.const 0)) (i64.const 0))
               (then unreachable)))"#,
    ));
    let env = &f.env;
    let out = env.vm().query(
        std::sync::Arc::new(env.state().clone()),
        &purse_vm::Env { block_height: 1, block_time_ms: 0, origin: f.alice },
        proxy,
        "q",
        writer.0.to_vec(),
        1_000_000,
    );
    assert!(out.result.is_err() && out.diff.is_empty());
}

// ---------- entry points ----------

#[test]
fn missing_method_is_an_error() {
    let mut f = Fixture::new();
    let good = f.good;
    assert!(matches!(f.expect_failure(good, "nope"), ExecError::MethodNotFound(_)));
    assert!(matches!(f.expect_failure(good, "memory"), ExecError::MethodNotFound(_)));
}

#[test]
fn reserved_methods_cannot_be_called() {
    let mut f = Fixture::new();
    let c = f.install(&contract(r#"(func (export "init")) (func (export "migrate")) (func (export "run"))"#));
    assert!(matches!(f.expect_failure(c, "init"), ExecError::MethodNotFound(_)));
    assert!(matches!(f.expect_failure(c, "migrate"), ExecError::MethodNotFound(_)));
}

#[test]
fn upgrade_by_a_non_admin_is_refused() {
    let mut f = Fixture::new();
    let mallory = purse_contract_test::TestEnv::account("mallory");
    let code = f.good_code;
    let root = f.env.state_root();
    let e = f.env.upgrade(mallory, f.good, code, &()).unwrap_err();
    assert!(matches!(e, ExecError::Unauthorized(_)), "{e}");
    assert_eq!(root, f.env.state_root());
}

// ---------- deploy-time rejections ----------

#[test]
fn float_instruction_is_rejected() {
    let e = deploy_err(&contract(r#"(func (export "run") (drop (f32.add (f32.const 1) (f32.const 2))))"#));
    assert_feature(e, "floating point");
}

#[test]
fn float_local_is_rejected() {
    let e = deploy_err(&contract(r#"(func (export "run") (local f64))"#));
    assert_feature(e, "floating point");
}

#[test]
fn simd_is_rejected() {
    let e = deploy_err(&contract(r#"(func (export "run") (drop (v128.const i32x4 1 2 3 4)))"#));
    assert_feature(e, "SIMD");
}

#[test]
fn sign_extension_is_rejected() {
    // What rustc >= 1.70 emits by default; ADR 0007 accepts only what the pinned 1.63 toolchain emits.
    let e = deploy_err(&contract(r#"(func (export "run") (drop (i32.extend8_s (i32.const 255))))"#));
    assert_feature(e, "sign-extension");
}

#[test]
fn bulk_memory_fill_is_rejected() {
    let e = deploy_err(&contract(
        r#"(func (export "run") (memory.fill (i32.const 0) (i32.const 0) (i32.const 1048576)))"#,
    ));
    assert_feature(e, "bulk-memory");
}

#[test]
fn bulk_memory_copy_is_rejected() {
    let e = deploy_err(&contract(
        r#"(func (export "run") (memory.copy (i32.const 0) (i32.const 1) (i32.const 1048576)))"#,
    ));
    assert_feature(e, "bulk-memory");
}

#[test]
fn reference_types_are_rejected() {
    let e = deploy_err(&contract(r#"(func (export "run") (drop (ref.null extern)))"#));
    assert!(matches!(e, CheckError::Feature { .. }), "{e}");
}

#[test]
fn multi_value_is_rejected() {
    let e = deploy_err(&contract(
        r#"(func $two (result i32 i32) (i32.const 1) (i32.const 2)) (func (export "run"))"#,
    ));
    assert!(matches!(e, CheckError::Feature { .. } | CheckError::Limit { .. }), "{e}");
}

#[test]
fn shared_memory_is_rejected() {
    let e = deploy_err(&raw(&format!(
        r#"(module {} (memory (export "memory") 1 16 shared) (func (export "run")))"#,
        common::imports()
    )));
    assert!(matches!(e, CheckError::Feature { .. }), "{e}");
}

#[test]
fn start_function_is_rejected() {
    let e = deploy_err(&contract(r#"(func $s) (start $s) (func (export "run"))"#));
    assert_eq!(e, CheckError::StartFunction);
}

#[test]
fn missing_memory_export_is_rejected() {
    let e = deploy_err(&raw(r#"(module (memory 1) (func (export "run")))"#));
    assert!(matches!(e, CheckError::Export(_)), "{e}");
}

#[test]
fn module_without_methods_is_rejected() {
    let e = deploy_err(&contract(""));
    assert!(matches!(e, CheckError::Export(_)), "{e}");
}

#[test]
fn method_with_parameters_is_rejected() {
    let e = deploy_err(&contract(r#"(func (export "run") (param i32))"#));
    assert!(matches!(e, CheckError::Export(_)), "{e}");
}

#[test]
fn wrong_import_signature_is_rejected() {
    let e = deploy_err(&raw(r#"(module (import "purse" "storage_set" (func (param i32 i32)))
                   (memory (export "memory") 1) (func (export "run")))"#));
    match e {
        CheckError::Import(m) => assert!(m.contains("storage_set") && m.contains("expected"), "{m}"),
        other => panic!("{other}"),
    }
}

#[test]
fn unknown_import_is_rejected() {
    let e = deploy_err(&raw(r#"(module (import "purse" "read_clock" (func (result i64)))
                   (memory (export "memory") 1) (func (export "run")))"#));
    assert!(matches!(e, CheckError::Import(_)), "{e}");
    let e = deploy_err(&raw(r#"(module (import "env" "storage_get" (func (param i32 i32) (result i64)))
                   (memory (export "memory") 1) (func (export "run")))"#));
    assert!(matches!(e, CheckError::Import(_)), "{e}");
}

#[test]
fn imported_memory_is_rejected() {
    let e = deploy_err(&raw(r#"(module (import "purse" "memory" (memory 1)) (func (export "run")))"#));
    assert!(matches!(e, CheckError::Import(_)), "{e}");
}

#[test]
fn memory_over_the_cap_is_rejected() {
    let e = deploy_err(&raw(r#"(module (memory (export "memory") 129) (func (export "run")))"#));
    assert!(matches!(e, CheckError::Memory(_)), "{e}");
    let e = deploy_err(&raw(r#"(module (memory (export "memory") 1 65536) (func (export "run")))"#));
    assert!(matches!(e, CheckError::Memory(_)), "{e}");
}

#[test]
fn huge_data_segments_are_rejected() {
    let blob = "\\00".repeat(300 * 1024);
    let e = deploy_err(&contract(&format!(r#"(data (i32.const 0) "{blob}") (func (export "run"))"#)));
    assert!(matches!(e, CheckError::Limit { what: "data segment bytes", .. }), "{e}");
}

#[test]
fn many_data_segments_are_rejected() {
    let segs: String = (0..1100).map(|i| format!(r#"(data (i32.const {i}) "x")"#)).collect();
    let e = deploy_err(&contract(&format!(r#"{segs} (func (export "run"))"#)));
    assert!(matches!(e, CheckError::Limit { what: "data segment count", .. }), "{e}");
}

#[test]
fn compile_bomb_many_functions_is_rejected() {
    let funcs: String = (0..10_001).map(|_| "(func)").collect();
    let e = deploy_err(&contract(&format!(r#"{funcs} (func (export "run"))"#)));
    assert!(matches!(e, CheckError::Limit { what: "function count", .. }), "{e}");
}

#[test]
fn compile_bomb_many_locals_is_rejected() {
    let e = deploy_err(&contract(
        r#"(func (export "run") (local i64 i64) (local i32) (local i64) (local i32 i32))
                                  (func (local i64) (local i32) (local i64))
                                  (func (local i32) (local i32) (local i32) (local i32) (local i32))"#
            .replace("(local i32 i32)", &format!("(local {})", "i32 ".repeat(5000)))
            .as_str(),
    ));
    assert!(matches!(e, CheckError::Limit { what: "locals in one function", .. }), "{e}");
}

#[test]
fn compile_bomb_many_params_is_rejected() {
    let params = "i32 ".repeat(40);
    let e = deploy_err(&contract(&format!(r#"(func (param {params})) (func (export "run"))"#)));
    assert!(matches!(e, CheckError::Limit { what: "function parameters", .. }), "{e}");
}

#[test]
fn too_many_globals_are_rejected() {
    let globals: String = (0..300).map(|_| "(global i32 (i32.const 0))").collect();
    let e = deploy_err(&contract(&format!(r#"{globals} (func (export "run"))"#)));
    assert!(matches!(e, CheckError::Limit { what: "global count", .. }), "{e}");
}

#[test]
fn huge_table_is_rejected() {
    let e = deploy_err(&contract(r#"(table 100000 funcref) (func (export "run"))"#));
    assert!(matches!(e, CheckError::Limit { .. }), "{e}");
}

#[test]
fn oversized_module_is_rejected() {
    let mut code = contract(r#"(func (export "run"))"#);
    // A custom section padding the module over the size cap.
    let pad = 600 * 1024;
    code.push(0); // custom section id
    let mut len = pad + 2;
    let mut leb = Vec::new();
    loop {
        let b = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            leb.push(b);
            break;
        }
        leb.push(b | 0x80);
    }
    code.extend_from_slice(&leb);
    code.extend_from_slice(&[1, b'x']);
    code.extend(std::iter::repeat_n(0u8, pad));
    assert!(matches!(deploy_err(&code), CheckError::TooLarge { .. }));
}

#[test]
fn garbage_bytes_are_rejected() {
    assert!(matches!(deploy_err(b"\0asm\x01\0\0\0garbage"), CheckError::Invalid(_)));
    assert!(matches!(deploy_err(b"not wasm at all"), CheckError::Invalid(_)));
}

#[test]
fn huge_function_body_is_rejected() {
    let body = "(drop (i32.const 1))".repeat(50_000);
    let e = deploy_err(&contract(&format!(r#"(func (export "run") {body})"#)));
    assert!(matches!(e, CheckError::Limit { what: "function body size", .. }), "{e}");
}
