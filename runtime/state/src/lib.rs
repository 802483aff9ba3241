//! purse-state — Authenticated key-value state (Jellyfish-style Merkle tree) over a KvStore trait, with proofs, overlays, versions and an in-memory store.
//!
//! The tree and its storage layout are described in `docs/adr/0005-authenticated-state-tree.md` and
//! `docs/storage.md`. Proof types and verification live in purse-types (`state_proof`), so a wallet can check
//! a proof with nothing but a state root.

mod cache;
mod checkpoint;
mod column;
mod db;
mod error;
mod faulty;
mod hashing;
mod kv;
mod memory;
mod node;
mod overlay;
mod pipeline;
pub mod records;
pub mod reference;
mod update;
mod upper;
mod view;

pub use purse_types::state_proof;

pub use cache::NodeCache;
pub use column::Column;
pub use db::{
    PreparedCommit, StateConfig, StateDb, StateEntry, DEFAULT_CHECKPOINT_INTERVAL, DEFAULT_NODE_CACHE_NODES,
    DEFAULT_RETAINED_VERSIONS, MAX_PRUNED_VERSIONS_PER_COMMIT, MAX_PRUNE_PER_COMMIT,
};
pub use error::StateError;
pub use faulty::{Fault, FaultyStore};
pub use kv::{
    check_scan_limit, hex_key, key_successor, prefix_end, BatchEntry, BatchOp, KvEntry, KvStore, StoreError,
    WriteBatch, MAX_SCAN_LIMIT,
};
pub use memory::MemoryStore;
pub use node::{Child, ChildRef, Node, NodeKey, NodeRecord, LINKED_DEPTH, MAX_LINKED_DEPTH};
pub use overlay::Overlay;
pub use state_proof::{ProofError, StateProof};
pub use view::StateView;

/// Longest state key, in bytes.
pub const MAX_KEY_LEN: usize = 1024;
/// Longest state value, in bytes.
pub const MAX_VALUE_LEN: usize = 4 * 1024 * 1024;
/// Most keys one version may change.
pub const MAX_OVERLAY_ENTRIES: usize = 1_000_000;
