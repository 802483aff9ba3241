#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! Acceptance tests of the `purse` binary (issue 6): real processes on 127.0.0.1, talking libp2p and HTTP.
//!
//! - `four_validators_agree_survive_a_crash_and_resync`: 4 validator processes from a CLI-made genesis commit
//!   transfers with identical blocks; one is SIGKILLed, the rest keep committing; restarted, it catches up by
//!   block sync.
//! - `dev_node_serves_rpc_and_refuses_outsiders`: `purse node run --dev` commits blocks and serves /status,
//!   /openapi.json and /metrics, shuts down cleanly on SIGTERM and resumes; a node whose peer id is not on the
//!   allow-list cannot connect to it. (The network layer's own test of that is
//!   `node/network/tests/network.rs::outsider_cannot_connect_or_inject`.)
//!
//! Every process is killed by a Drop guard, so a failing assertion leaks nothing.

use purse_node::config::Config;
use purse_node::http;
use purse_types::{ChainId, Keypair};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod common;

use common::*;

#[test]
fn four_validators_agree_survive_a_crash_and_resync() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let n = 4;
    // Homes and keys, made by the CLI.
    let mut nodes: Vec<Node> = Vec::new();
    let mut pubkeys = Vec::new();
    let mut peer_ids = Vec::new();
    for i in 0..n {
        let home = dir.path().join(format!("v{i}"));
        purse(&["init", "--home", home.to_str().unwrap(), "--moniker", &format!("v{i}")]);
        let info: Value =
            serde_json::from_str(&purse(&["keys", "show", "--home", home.to_str().unwrap(), "--json"]))
                .unwrap();
        pubkeys.push(info["public_key"].as_str().unwrap().to_string());
        peer_ids.push(info["peer_id"].as_str().unwrap().to_string());
        nodes.push(Node::new(&format!("v{i}"), &home, false));
    }
    // Funded accounts: one sender per node.
    let senders: Vec<Keypair> = (0..n).map(|i| Keypair::from_seed(&[100 + i as u8; 32])).collect();
    let genesis = dir.path().join("genesis.json");
    let mut args: Vec<String> =
        vec!["genesis".into(), "new".into(), "--chain-id".into(), "purse-it".into(), "--out".into()];
    args.push(genesis.display().to_string());
    for pk in &pubkeys {
        args.push("--validator".into());
        args.push(format!("{pk}:10"));
    }
    for s in &senders {
        args.push("--account".into());
        args.push(format!("{}:1000000000000", s.public().to_hex()));
    }
    // The recipient of the transfers: a registered account (the pool refuses unregistered recipients).
    let sink_key = Keypair::from_seed(&[7; 32]);
    args.push("--account".into());
    args.push(format!("{}:1", sink_key.public().to_hex()));
    purse(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let chain = ChainId::new("purse-it").unwrap();
    // Configs: shared genesis, everyone bootstraps from everyone else, fast timeouts.
    for (i, node) in nodes.iter().enumerate() {
        let mut c = Config::load(&node.home).unwrap();
        c.genesis_file = genesis.clone();
        c.p2p.peers = (0..n)
            .filter(|j| *j != i)
            .map(|j| format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", nodes[j].p2p_port, peer_ids[j]))
            .collect();
        tune(&mut c);
        c.save(&node.home).unwrap();
    }
    for node in nodes.iter_mut() {
        node.start();
    }
    for node in &nodes {
        node.wait_ready(Duration::from_secs(20));
    }
    let all: Vec<&Node> = nodes.iter().collect();
    wait_until(
        "the chain to reach height 2",
        Duration::from_secs(30),
        || all.iter().all(|n| n.height() >= 2),
        &all,
    );
    eprintln!("[{:?}] 4 validators committing", t0.elapsed());

    // Transfers through POST /tx, each sender on its own node.
    let sink = sink_key.public().address();
    let mut ids = Vec::new();
    for nonce in 0..3u64 {
        for (i, s) in senders.iter().enumerate() {
            let r = nodes[i].submit(&transfer(&chain, s, nonce, sink, 10 + nonce as u128));
            assert!(matches!(r["status"].as_str(), Some("pending" | "queued")), "{r}");
            ids.push(r["tx_id"].as_str().unwrap().to_string());
        }
    }
    wait_until(
        "every transfer to commit",
        Duration::from_secs(30),
        || ids.iter().all(|id| committed(&nodes[0], id)),
        &all,
    );
    let h = all.iter().map(|n| n.height()).max().unwrap();
    wait_until(
        "all 4 at the same height",
        Duration::from_secs(20),
        || all.iter().all(|n| n.height() >= h),
        &all,
    );
    same_blocks(&all, h).unwrap();
    let tx_count: usize = (1..=h)
        .map(|k| {
            nodes[1].get(&format!("/block/{k}")).unwrap().json().unwrap()["tx_ids"].as_array().unwrap().len()
        })
        .sum();
    assert_eq!(tx_count, ids.len());
    eprintln!("[{:?}] {} transfers committed, identical blocks 1..={h} on all 4", t0.elapsed(), ids.len());

    // SIGKILL one validator: the other three (30 of 40 power) keep committing.
    nodes[3].kill();
    let h_kill = nodes[0].height();
    let live: Vec<&Node> = nodes[..3].iter().collect();
    let more = nodes[0].submit(&transfer(&chain, &senders[0], 3, sink, 99));
    wait_until(
        "3 validators to commit 15 more blocks",
        Duration::from_secs(40),
        || live.iter().all(|n| n.height() >= h_kill + 15),
        &live,
    );
    let id = more["tx_id"].as_str().unwrap().to_string();
    wait_until(
        "a transfer to commit without v3",
        Duration::from_secs(20),
        || committed(&nodes[0], &id),
        &live,
    );
    eprintln!("[{:?}] 3 validators committed past {} with v3 down", t0.elapsed(), h_kill + 15);

    // Restart it: it replays its WAL, then catches up by block sync.
    nodes[3].start();
    nodes[3].wait_ready(Duration::from_secs(20));
    let target = nodes[0].height();
    let all: Vec<&Node> = nodes.iter().collect();
    wait_until("v3 to catch up", Duration::from_secs(40), || nodes[3].height() >= target, &all);
    let common = all.iter().map(|n| n.height()).min().unwrap();
    same_blocks(&all, common).unwrap();
    assert!(nodes[3].get(&format!("/tx/{id}")).unwrap().text().contains("\"committed\""));
    // The missed heights came by block sync (consensus only decides the current height).
    let log = std::fs::read_to_string(nodes[3].home.join("node.log")).unwrap();
    assert!(log.contains("syncing blocks"), "no block sync in v3's log:\n{}", nodes[3].log_tail());
    // And it takes part again: all four keep advancing together.
    wait_until(
        "all 4 to advance",
        Duration::from_secs(30),
        || all.iter().all(|n| n.height() >= common + 3),
        &all,
    );
    eprintln!("[{:?}] v3 caught up to {target} and follows the chain", t0.elapsed());
    let m = nodes[3].get("/metrics").unwrap().text();
    assert!(m.contains("purse_height"), "{m}");
}

#[test]
fn dev_node_serves_rpc_and_refuses_outsiders() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("dev");
    let mut dev = Node::new("dev", &home, true);
    dev.start();
    dev.wait_ready(Duration::from_secs(20));
    wait_until("the dev chain to commit 3 blocks", Duration::from_secs(20), || dev.height() >= 3, &[&dev]);
    let status = dev.status().unwrap();
    assert_eq!(status["chain_id"], "purse-dev");
    assert!(status["validator_key"].is_string(), "{status}");
    eprintln!("[{:?}] dev node at height {}", t0.elapsed(), dev.height());

    // The CLI's status command.
    let out = purse(&["status", "--rpc", &dev.rpc]);
    let printed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(printed["chain_id"], "purse-dev");

    // OpenAPI document and Prometheus metrics.
    let doc = dev.get("/openapi.json").unwrap();
    assert_eq!(doc.status, 200);
    let doc = doc.json().unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/status"].is_object());
    let metrics = dev.get("/metrics").unwrap();
    assert_eq!(metrics.status, 200);
    let text = metrics.text();
    for m in ["purse_height", "purse_blocks_committed_total", "purse_peers", "purse_mempool_size"] {
        assert!(text.contains(m), "{m} missing:\n{text}");
    }
    assert!(text.trim_end().ends_with("# EOF"));

    // A transfer from the funded dev account.
    let key = purse_node::keys::read_key_file(&home.join(purse_node::dev::DEV_ACCOUNT_KEY_FILE)).unwrap();
    let chain = ChainId::new("purse-dev").unwrap();
    // To the validator's own account (registered in the dev genesis).
    let to = purse_node::keys::read_key_file(&home.join("keys/validator.key")).unwrap().public().address();
    let r = dev.submit(&transfer(&chain, &key, 0, to, 5));
    let id = r["tx_id"].as_str().unwrap().to_string();
    wait_until(
        "the dev transfer to commit",
        Duration::from_secs(10),
        || dev.get(&format!("/tx/{id}")).map(|r| r.text().contains("\"committed\"")).unwrap_or(false),
        &[&dev],
    );
    let acct = dev.get(&format!("/account/{}", key.public().address())).unwrap().json().unwrap();
    assert_eq!(acct["nonce"], 1, "{acct}");

    // History: the sender reads its own (signed request), and so does the recipient; the validator key is
    // neither the sender's account nor an auditor, so it may not read the sender's.
    let dev_key_file = home.join(purse_node::dev::DEV_ACCOUNT_KEY_FILE);
    let own: Value = serde_json::from_str(&purse(&[
        "history",
        "--key",
        dev_key_file.to_str().unwrap(),
        "--rpc",
        &dev.rpc,
    ]))
    .unwrap();
    assert_eq!(own["txs"][0]["tx_id"], id.as_str(), "{own}");
    let validator_key = home.join("keys/validator.key");
    let theirs: Value = serde_json::from_str(&purse(&[
        "history",
        "--key",
        validator_key.to_str().unwrap(),
        "--rpc",
        &dev.rpc,
    ]))
    .unwrap();
    assert_eq!(theirs["txs"][0]["tx_id"], id.as_str(), "{theirs}");
    let refused = std::process::Command::new(BIN)
        .args(["history", "--key", validator_key.to_str().unwrap(), "--rpc", &dev.rpc])
        .args(["--address", &key.public().address().to_string()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("forbidden"), "{refused:?}");

    // Governance on the dev chain: the dev account is the only key (threshold 1), so its proposal to
    // allow-list a code hash passes at once; the rules endpoints read it back from committed state.
    let code_hash = purse_types::Hash([7; 32]);
    let propose = purse_types::Transaction {
        chain_id: chain.clone(),
        sender: key.public().address(),
        nonce: 1,
        expiry_height: u64::MAX,
        max_fee: purse_types::Amount(1_000_000),
        payload: purse_types::Payload::Governance(purse_types::GovernanceOp::Propose {
            action: purse_types::GovernanceAction::AllowCode { code_hash, allowed: true },
        }),
    }
    .sign(&key);
    let r = dev.submit(&propose);
    let pid = r["tx_id"].as_str().unwrap().to_string();
    wait_until("the proposal to commit", Duration::from_secs(10), || committed(&dev, &pid), &[&dev]);
    let json_of = |path: &str| -> Value {
        let r = dev.get(path).unwrap();
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        r.json().unwrap()
    };
    let allowed = json_of(&format!("/code/{code_hash}/allowed"));
    assert_eq!(allowed["allowed"], true, "{allowed}");
    let proposal = json_of(&format!("/proposal/{}", purse_types::proposal_id(&propose.id())));
    assert_eq!(proposal["status"], "passed", "{proposal}");
    assert_eq!(proposal["action"]["type"], "allow_code", "{proposal}");
    let rules = json_of("/governance");
    assert_eq!(rules["governance"]["threshold"], 1, "{rules}");
    assert_eq!(rules["governance"]["keys"][0], key.public().to_hex(), "{rules}");
    assert_eq!(rules["open_deployment"], true, "{rules}");
    let roles = json_of(&format!("/roles/{}", key.public().address()));
    assert_eq!(roles["roles"], json!(["AssetIssuer"]), "{roles}");
    // Bad input is a 4xx with a JSON error.
    let bad = http::post_json(&dev.rpc, "/tx", &json!({ "tx": "zz" })).unwrap();
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json().unwrap()["error"]["code"], "bad_hex");

    // An outsider (its peer id is not in the dev genesis) dials the dev node: refused, no peers either side.
    let out_home = dir.path().join("outsider");
    purse(&["init", "--home", out_home.to_str().unwrap()]);
    let dev_peer: Value =
        serde_json::from_str(&purse(&["keys", "show", "--home", home.to_str().unwrap(), "--json"])).unwrap();
    let dev_peer = dev_peer["peer_id"].as_str().unwrap().to_string();
    let mut c = Config::load(&out_home).unwrap();
    c.p2p.allowed_peers = vec![dev_peer.clone()];
    c.p2p.peers = vec![format!("/ip4/127.0.0.1/tcp/{}/p2p/{dev_peer}", dev.p2p_port)];
    c.vm.module_cache_dir = PathBuf::new();
    c.save(&out_home).unwrap();
    let mut outsider = Node::new("outsider", &out_home, true);
    outsider.start();
    outsider.wait_ready(Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(dev.status().unwrap()["peers"], 0);
    assert_eq!(outsider.status().unwrap()["peers"], 0);
    let log = std::fs::read_to_string(home.join("node.log")).unwrap();
    assert!(log.contains("refused"), "no refusal logged:\n{}", dev.log_tail());
    outsider.kill();

    // Graceful shutdown on SIGTERM, then the node resumes at its height.
    let before = dev.height();
    dev.terminate(Duration::from_secs(20));
    dev.start();
    dev.wait_ready(Duration::from_secs(20));
    assert!(dev.height() >= before);
    wait_until("the dev chain to continue", Duration::from_secs(20), || dev.height() > before + 1, &[&dev]);
    eprintln!("[{:?}] dev node restarted and continues", t0.elapsed());
}
