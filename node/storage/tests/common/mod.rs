//! Deterministic blocks for storage tests.

// Test helpers outside #[test] functions may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)]

use purse_state::{KvStore, Overlay, StateConfig};
use purse_storage::{CommitBundle, Head, Storage, StorageError};
use purse_types::{Domain, Hash};

pub const CHAIN: &str = "purse-test";

pub fn state_config() -> StateConfig {
    StateConfig { retained_versions: 100, node_cache_nodes: 10_000, ..Default::default() }
}

/// The state changes of block `height`: 20 puts over 200 keys, and a delete every third block.
pub fn block_overlay(height: u64) -> Overlay {
    let mut o = Overlay::new();
    for i in 0..20u64 {
        let k = (height * 37 + i * 11) % 200;
        o.put(format!("acct/{k}").as_bytes(), format!("{height}:{i}").as_bytes()).unwrap();
    }
    if height % 3 == 2 {
        o.delete(format!("acct/{}", (height * 13) % 200).as_bytes()).unwrap();
    }
    o
}

pub fn tx_id(height: u64, i: u64) -> Hash {
    Hash::digest(Domain::TxId, format!("{height}/{i}").as_bytes())
}

/// An account the blocks' transactions name.
pub fn account(i: u8) -> purse_types::Address {
    purse_types::Address([i; 32])
}

pub fn block_hash(height: u64) -> Hash {
    Hash::digest(Domain::BlockId, &height.to_le_bytes())
}

pub fn block_bytes(height: u64) -> Vec<u8> {
    format!("block {height}").into_bytes().repeat(4)
}

/// Executes and commits block `height`.
pub fn commit<S: KvStore>(s: &mut Storage<S>, height: u64) -> Result<Head, StorageError> {
    let prepared = s.state().prepare_commit(height, &block_overlay(height))?;
    s.commit_block(bundle(height, prepared.root), prepared)
}

/// Executes and submits block `height` (pipelined: durable once the storage settles).
#[allow(dead_code)] // not every test binary including this module submits
pub fn submit<S: KvStore + Clone + 'static>(s: &mut Storage<S>, height: u64) -> Result<Head, StorageError> {
    let overlay = block_overlay(height);
    let prepared = s.state().prepare_commit(height, &overlay)?;
    s.submit_block(bundle(height, prepared.root), prepared, overlay)
}

/// The block records of block `height`, whose state root is `state_root`.
fn bundle(height: u64, state_root: Hash) -> CommitBundle {
    CommitBundle {
        height,
        block_hash: block_hash(height),
        state_root,
        header: format!("header {height}").into_bytes(),
        block: block_bytes(height),
        certificate: Some(format!("cert {height}").into_bytes()),
        receipts: (0..3).map(|i| (tx_id(height, i), format!("receipt {height}/{i}").into_bytes())).collect(),
        // Transactions 0 and 2 name account 0, transaction 1 names account 1 (the account-history index).
        parties: vec![(0, account(0)), (1, account(1)), (2, account(0))],
    }
}

/// State root after blocks `0..=height`, recomputed in memory.
pub fn expected_root(height: u64) -> Hash {
    let mut db = purse_state::StateDb::open(purse_state::MemoryStore::new(), state_config()).unwrap();
    let mut root = Hash::ZERO;
    for h in 0..=height {
        root = db.commit(h, &block_overlay(h)).unwrap();
    }
    root
}
