//! Block sync at the engine: a node that missed a chain catches up by committing certified blocks one by one,
//! reaching the same head and state root; blocks with a forged certificate, a wrong parent or out of order
//! are refused without harm. A node can also start from a state snapshot verified against a certified root
//! and continue from its height.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use purse_engine::{Engine, EngineConfig, Hub, Inbound, SyncedBlock};
use purse_state::StateConfig;
use purse_storage::{import_snapshot_with_blocks, CommitBundle};
use purse_testnet::localnet::open_storage;
use purse_testnet::{scenario, LocalNet, LocalNetConfig};
use purse_types::{decode, Block, CommitCertificate, Keypair};
use std::time::Duration;

/// Runs a 4-validator net for a few blocks, stops it, and returns the chain of validator 0.
fn produce_chain(dir: &std::path::Path) -> (purse_runtime::Genesis, Vec<SyncedBlock>, purse_types::Hash) {
    let engine = EngineConfig { commit_delay: Duration::from_millis(20), ..EngineConfig::default() };
    let cfg = LocalNetConfig {
        validators: 4,
        wallets: 6,
        merchants: 2,
        standby: 0,
        dir: dir.to_path_buf(),
        engine,
    };
    let mut net = LocalNet::start(&cfg).unwrap();
    scenario::run(&mut net, 1, false).unwrap();
    net.stop().unwrap();
    let genesis = net.genesis.clone();
    let storage = open_storage(&net.nodes[0].dir, genesis.chain_id.as_str()).unwrap();
    let head = storage.head().unwrap();
    let blocks = (1..=head.height)
        .map(|h| {
            let block: Block = decode(&storage.block(h).unwrap().unwrap()).unwrap();
            let certificate: CommitCertificate = decode(&storage.certificate(h).unwrap().unwrap()).unwrap();
            SyncedBlock { block, certificate }
        })
        .collect();
    (genesis, blocks, head.state_root)
}

#[test]
fn a_fresh_node_catches_up_through_certified_blocks_and_refuses_forgeries() {
    let dir = tempfile::tempdir().unwrap();
    let (genesis, chain, root) = produce_chain(dir.path());
    assert!(chain.len() >= 3, "need a few blocks, got {}", chain.len());

    // A node with its own key (not a validator) and an empty store.
    let hub = Hub::new();
    let (endpoint, _inbox, _rx) = hub.join();
    let storage = open_storage(&dir.path().join("late"), genesis.chain_id.as_str()).unwrap();
    let mut late = Engine::open(
        storage,
        &genesis,
        Keypair::from_seed(&[77; 32]),
        endpoint,
        EngineConfig::default(),
        None,
    )
    .unwrap();

    // Out of order: block 2 before block 1 is ignored.
    late.on_inbound(Inbound::SyncedBlock(Box::new(chain[1].clone()))).unwrap();
    assert_eq!(late.storage().head().unwrap().height, 0);

    // A forged certificate (signatures of another block) is refused and counted.
    let mut forged = chain[0].clone();
    forged.certificate = chain[1].certificate.clone();
    late.on_inbound(Inbound::SyncedBlock(Box::new(forged))).unwrap();
    assert_eq!(late.storage().head().unwrap().height, 0);
    assert_eq!(late.stats().invalid_synced_blocks, 1);

    // A block whose body was altered no longer matches its certificate.
    let mut altered = chain[0].clone();
    altered.block.header.timestamp_ms += 1;
    late.on_inbound(Inbound::SyncedBlock(Box::new(altered))).unwrap();
    assert_eq!(late.storage().head().unwrap().height, 0);
    assert_eq!(late.stats().invalid_synced_blocks, 2);

    // The real chain, in order: the node reaches the same head and state root, and re-sending is harmless.
    for b in &chain {
        late.on_inbound(Inbound::SyncedBlock(Box::new(b.clone()))).unwrap();
    }
    late.on_inbound(Inbound::SyncedBlock(Box::new(chain[0].clone()))).unwrap();
    let head = late.storage().head().unwrap();
    assert_eq!(head.height, chain.len() as u64);
    assert_eq!(head.state_root, root);
    assert_eq!(head.block_hash, chain.last().unwrap().block.id());
    assert_eq!(late.stats().synced_blocks, chain.len() as u64);
    // Consensus moved on to the next height.
    assert_eq!(late.height(), chain.len() as u64 + 1);
}

/// The block records of `height` in validator 0's store, for anchoring a snapshot import.
fn bundle_at(
    storage: &purse_storage::Storage<std::sync::Arc<purse_storage::RocksStore>>,
    height: u64,
) -> CommitBundle {
    let info = storage.block_info(height).unwrap().unwrap();
    CommitBundle {
        height,
        block_hash: info.block_hash,
        state_root: info.state_root,
        header: storage.header(height).unwrap().unwrap(),
        block: storage.block(height).unwrap().unwrap(),
        certificate: storage.certificate(height).unwrap(),
        receipts: Vec::new(),
        parties: Vec::new(),
    }
}

#[test]
fn a_node_started_from_a_verified_snapshot_runs_on_from_its_height() {
    let dir = tempfile::tempdir().unwrap();
    let (genesis, chain, root) = produce_chain(dir.path());
    assert!(chain.len() >= 3, "need a few blocks, got {}", chain.len());
    let at = 2u64;
    let snap = dir.path().join("state.snap");
    let (anchors, expected_root) = {
        let src = open_storage(&dir.path().join("validator-0"), genesis.chain_id.as_str()).unwrap();
        let header = src.export_snapshot(at, &snap).unwrap();
        assert_eq!(header.block_hash, chain[at as usize - 1].block.id());
        // The trusted root is the certified header's, not the file's.
        let certified_root = chain[at as usize - 1].block.header.state_root;
        assert_eq!(header.state_root, certified_root);
        (vec![bundle_at(&src, 0), bundle_at(&src, at)], certified_root)
    };
    let chain_id = genesis.chain_id.as_str();
    let store = |name: &str| {
        std::sync::Arc::new(
            purse_storage::RocksStore::open(dir.path().join(name), purse_storage::RocksConfig::default())
                .unwrap(),
        )
    };

    // A snapshot checked against another root is refused, as is an anchor that is not the snapshot's block.
    let wrong = import_snapshot_with_blocks(
        store("wrong-root"),
        chain_id,
        StateConfig::default(),
        &snap,
        &chain[0].block.header.state_root,
        &anchors,
    );
    assert!(wrong.is_err());
    let bad_anchor = vec![anchors[0].clone()];
    assert!(import_snapshot_with_blocks(
        store("no-anchor"),
        chain_id,
        StateConfig::default(),
        &snap,
        &expected_root,
        &bad_anchor
    )
    .is_err());

    // Imported with its anchors, the store opens as a node at height `at` and syncs on from there.
    let storage = import_snapshot_with_blocks(
        store("late"),
        chain_id,
        StateConfig::default(),
        &snap,
        &expected_root,
        &anchors,
    )
    .unwrap();
    assert_eq!(storage.head().unwrap().height, at);
    assert!(storage.block(1).unwrap().is_none(), "history below the snapshot is not there");
    let hub = Hub::new();
    let (endpoint, _inbox, _rx) = hub.join();
    let mut late = Engine::open(
        storage,
        &genesis,
        Keypair::from_seed(&[78; 32]),
        endpoint,
        EngineConfig::default(),
        None,
    )
    .unwrap();
    assert_eq!(late.height(), at + 1);
    for b in &chain[at as usize..] {
        late.on_inbound(Inbound::SyncedBlock(Box::new(b.clone()))).unwrap();
    }
    let head = late.storage().head().unwrap();
    assert_eq!(head.height, chain.len() as u64);
    assert_eq!(head.state_root, root);
    assert_eq!(late.stats().invalid_synced_blocks, 0);
}
