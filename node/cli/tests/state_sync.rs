//! State sync between `purse` processes (issue 6): a node that joins a chain more than 1,000 blocks late, with
//! an empty store, fetches a peer's state snapshot (checked against the state root of a block the genesis
//! validators certified), imports it, and block-syncs from its height to the head — without replaying the
//! history below it. Then, down for another 1,000 blocks with its store kept, it catches up by block sync.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use purse_node::config::Config;
use serde_json::Value;
use std::time::{Duration, Instant};

const SNAPSHOT_INTERVAL: u64 = 250;
const LATE_BY: u64 = 1_000;

fn peer_id(home: &std::path::Path) -> String {
    let info: Value =
        serde_json::from_str(&purse(&["keys", "show", "--home", home.to_str().unwrap(), "--json"])).unwrap();
    info["peer_id"].as_str().unwrap().to_string()
}

#[test]
fn a_node_joining_a_thousand_blocks_late_starts_from_a_peer_snapshot() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let dev_home = dir.path().join("dev");
    let joiner_home = dir.path().join("joiner");
    purse(&["init", "--home", dev_home.to_str().unwrap()]);
    purse(&["init", "--home", joiner_home.to_str().unwrap()]);
    let (dev_peer, joiner_peer) = (peer_id(&dev_home), peer_id(&joiner_home));

    // A one-validator chain that writes a snapshot every SNAPSHOT_INTERVAL blocks and lets the joiner in.
    let mut c = Config::load(&dev_home).unwrap();
    tune(&mut c);
    c.consensus.commit_delay_ms = 0;
    c.sync.snapshot_interval = SNAPSHOT_INTERVAL;
    c.p2p.allowed_peers = vec![joiner_peer];
    c.save(&dev_home).unwrap();
    let mut dev = Node::new("dev", &dev_home, true);
    dev.start();
    dev.wait_ready(Duration::from_secs(30));
    wait_until(
        "the chain to pass 1,000 blocks",
        Duration::from_secs(300),
        || dev.height() > LATE_BY,
        &[&dev],
    );
    // The snapshotter writes the newest multiple of the interval at each poll, so a fast chain may pass 1,000
    // without a snapshot there: any snapshot at or above it will do.
    let snapshots = purse_node::snapshots::SnapshotDir::new(dev_home.join("data/snapshots"));
    wait_until(
        "a snapshot at 1,000 or above",
        Duration::from_secs(60),
        || snapshots.heights().last().is_some_and(|h| *h >= LATE_BY),
        &[&dev],
    );
    eprintln!("[{:?}] dev chain at {}, snapshot written", t0.elapsed(), dev.height());

    // The joiner: same genesis, dev as its only peer, an empty store.
    std::fs::copy(dev_home.join("genesis.json"), joiner_home.join("genesis.json")).unwrap();
    let mut j = Config::load(&joiner_home).unwrap();
    tune(&mut j);
    j.p2p.peers = vec![format!("/ip4/127.0.0.1/tcp/{}/p2p/{dev_peer}", dev.p2p_port)];
    j.p2p.allowed_peers = vec![dev_peer];
    j.sync.state_sync_min_height = SNAPSHOT_INTERVAL;
    j.save(&joiner_home).unwrap();
    let mut joiner = Node::new("joiner", &joiner_home, false);
    joiner.start();
    joiner.wait_ready(Duration::from_secs(120));
    let target = dev.height();
    wait_until(
        "the joiner to reach the head",
        Duration::from_secs(120),
        || joiner.height() >= target,
        &[&joiner],
    );
    eprintln!("[{:?}] joiner at {}", t0.elapsed(), joiner.height());

    // It started from a snapshot at a multiple of the interval (the lowest block it holds): nothing below it
    // was replayed or stored.
    let log = std::fs::read_to_string(joiner_home.join("node.log")).unwrap();
    assert!(log.contains("snapshot imported"), "no state sync in the log:\n{}", joiner.log_tail());
    assert_eq!(joiner.get("/block/1").unwrap().status, 404);
    let from: u64 = (1..=target / SNAPSHOT_INTERVAL)
        .map(|k| k * SNAPSHOT_INTERVAL)
        .find(|h| joiner.get(&format!("/block/{h}")).is_some_and(|r| r.status == 200))
        .expect("the snapshot's anchor block");
    assert!(from >= LATE_BY, "state-synced at {from}");
    assert_eq!(joiner.get(&format!("/block/{}", from - 1)).unwrap().status, 404);
    // And it holds the same chain as the validator from there on.
    same_blocks_from(&[&dev, &joiner], from, target).unwrap();
    // The imported state answers queries: the dev account as the validator sees it.
    let dev_account = purse_node::keys::read_key_file(&dev_home.join(purse_node::dev::DEV_ACCOUNT_KEY_FILE))
        .unwrap()
        .public()
        .address();
    let account = |n: &Node| -> Value { n.get(&format!("/account/{dev_account}")).unwrap().json().unwrap() };
    let (a, b) = (account(&dev), account(&joiner));
    assert_eq!(a["nonce"], b["nonce"], "{a} vs {b}");
    assert_eq!(a["balances"], b["balances"], "{a} vs {b}");
    assert!(b["balances"].as_array().is_some_and(|v| !v.is_empty()), "{b}");

    // Down for another 1,000 blocks with its store kept: it catches up by block sync (every block's
    // certificate checked and the block re-executed) and resumes at the head.
    joiner.kill();
    let down_at = dev.height();
    wait_until(
        "the chain to move 1,000 blocks on",
        Duration::from_secs(300),
        || dev.height() > down_at + LATE_BY,
        &[&dev],
    );
    joiner.start();
    joiner.wait_ready(Duration::from_secs(60));
    let target = dev.height();
    wait_until(
        "the restarted joiner to catch up",
        Duration::from_secs(180),
        || joiner.height() >= target,
        &[&joiner],
    );
    eprintln!(
        "[{:?}] joiner back at {} after missing {} blocks",
        t0.elapsed(),
        joiner.height(),
        target - down_at
    );
    same_blocks_from(&[&dev, &joiner], target - 10, target).unwrap();
}

fn same_blocks_from(nodes: &[&Node], from: u64, upto: u64) -> Result<(), String> {
    for h in from..=upto {
        let hashes: Vec<Option<String>> = nodes.iter().map(|n| n.block_hash(h)).collect();
        if hashes.iter().any(Option::is_none) || hashes.windows(2).any(|w| w[0] != w[1]) {
            return Err(format!("block {h}: {hashes:?}"));
        }
    }
    Ok(())
}
