//! Block sync at the engine: a node that missed a chain catches up by committing certified blocks one by one,
//! reaching the same head and state root; blocks with a forged certificate, a wrong parent or out of order
//! are refused without harm.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use purse_engine::{Engine, EngineConfig, Hub, Inbound, SyncedBlock};
use purse_testnet::localnet::open_storage;
use purse_testnet::{scenario, LocalNet, LocalNetConfig};
use purse_types::{decode, Block, CommitCertificate, Keypair};
use std::time::Duration;

/// Runs a 4-validator net for a few blocks, stops it, and returns the chain of validator 0.
fn produce_chain(dir: &std::path::Path) -> (purse_runtime::Genesis, Vec<SyncedBlock>, purse_types::Hash) {
    let engine = EngineConfig { commit_delay: Duration::from_millis(20), ..EngineConfig::default() };
    let cfg = LocalNetConfig { validators: 4, wallets: 6, merchants: 2, dir: dir.to_path_buf(), engine };
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
