#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! Acceptance test of `purse tx` (issue 7, docs/governance.md "CLI"): on a dev node, whose dev account is the
//! only governance key (threshold 1) and holds only the AssetIssuer role,
//!
//! 1. `purse tx admin onboard` by the dev account is committed but fails with `unauthorized`;
//! 2. `purse tx propose grant-role … --role OnboardingAuthority --wait` passes at once, GET /roles shows it;
//! 3. the same onboard now succeeds and GET /account/{new address} answers 200;
//! 4. a bad role name fails before anything is sent, with a clear message and a non-zero exit.

use purse_types::Keypair;
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::*;

/// Runs `purse` and returns (success, stdout, stderr) without asserting.
fn purse_try(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn governance_and_admin_transactions_from_the_cli() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("dev");
    let mut dev = Node::new("dev", &home, true);
    dev.start();
    dev.wait_ready(Duration::from_secs(20));
    wait_until("the dev chain to commit a block", Duration::from_secs(20), || dev.height() >= 1, &[&dev]);
    let key_file = home.join(purse_node::dev::DEV_ACCOUNT_KEY_FILE);
    let key_path = key_file.to_str().unwrap().to_string();
    let dev_account = purse_node::keys::read_key_file(&key_file).unwrap().public().address().to_string();
    let newcomer = Keypair::from_seed(&[42; 32]).public();
    let newcomer_hex = newcomer.to_hex();
    let onboard = [
        "tx",
        "admin",
        "onboard",
        "--key",
        &key_path,
        "--rpc",
        &dev.rpc,
        "--public-key",
        &newcomer_hex,
        "--tier",
        "2",
        "--wait",
        "--wait-timeout",
        "20",
    ];

    // 1. Without the OnboardingAuthority role the onboarding is committed and fails: `unauthorized`.
    let (ok, out, err) = purse_try(&onboard);
    assert!(!ok, "onboarding without the role succeeded:\n{out}");
    let printed: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert_eq!(printed["status"], "committed", "{printed}");
    assert_eq!(printed["success"], false, "{printed}");
    assert_eq!(printed["code"], "unauthorized", "{printed}");
    assert!(err.contains("unauthorized"), "{err}");
    let id = printed["tx_id"].as_str().unwrap();
    let info = dev.get(&format!("/tx/{id}")).unwrap().json().unwrap();
    assert_eq!(info["receipt"]["code"], "unauthorized", "{info}");
    eprintln!("[{:?}] onboarding refused", t0.elapsed());

    // 2. Governance (the dev account alone, threshold 1) grants the role: the proposal passes at once.
    let out = purse(&[
        "tx",
        "propose",
        "grant-role",
        "--key",
        &key_path,
        "--rpc",
        &dev.rpc,
        "--account",
        &dev_account,
        "--role",
        "OnboardingAuthority",
        "--wait",
    ]);
    let printed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(printed["success"], true, "{printed}");
    let proposal = printed["proposal_id"].as_str().unwrap();
    let roles = dev.get(&format!("/roles/{dev_account}")).unwrap().json().unwrap();
    let held: Vec<&str> = roles["roles"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(held.contains(&"OnboardingAuthority"), "{roles}");
    let p = dev.get(&format!("/proposal/{proposal}")).unwrap();
    assert_eq!(p.status, 200, "{}", p.text());
    assert_eq!(p.json().unwrap()["status"], "passed", "{}", p.text());
    eprintln!("[{:?}] role granted by proposal {proposal}", t0.elapsed());

    // 3. Now the onboarding succeeds and the new account exists.
    let out = purse(&onboard);
    let printed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(printed["success"], true, "{printed}");
    let account = dev.get(&format!("/account/{}", newcomer.address())).unwrap();
    assert_eq!(account.status, 200, "{}", account.text());
    assert_eq!(account.json().unwrap()["tier"], 2);

    // 4. Malformed input: a clear message, a non-zero exit, nothing submitted.
    let (ok, out, err) = purse_try(&[
        "tx",
        "propose",
        "grant-role",
        "--key",
        &key_path,
        "--rpc",
        &dev.rpc,
        "--account",
        &dev_account,
        "--role",
        "Emperor",
    ]);
    assert!(!ok, "{out}");
    assert!(err.contains("unknown role \"Emperor\""), "{err}");
    assert!(out.is_empty(), "{out}");
    eprintln!("[{:?}] done", t0.elapsed());
}
