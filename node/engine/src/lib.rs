//! purse-engine — drives one validator: runs the consensus core's effects against the runtime, storage, WAL, signer and a network trait.
//!
//! The engine is a single thread ([`Engine::run`]) that owns the consensus core, the store, the contract runtime and
//! the pending-transaction validator (purse-mempool), which admits transactions against committed + pending state. Inbound messages arrive on a bounded inbox; outbound ones go through the [`Network`] trait, which the
//! in-process [`Hub`] (local testnet, tests) and the libp2p node implement. The rules it keeps:
//! - every input the core accepts is appended to the WAL (synced) before any vote or proposal it causes leaves;
//! - the [`purse_consensus::SignerGuard`] approves, and its state is persisted, before anything is signed;
//! - a proposed block is valid only if executing it reproduces the state and receipt roots in its header;
//! - a decided block, its state changes, receipts and certificate are committed in one atomic write;
//! - the validator set of every height is the one committed state records ([`ValidatorWatch`]).

mod context;
mod engine;
mod error;
mod inbox;
mod network;
mod validators;
mod wire;

pub use context::{core_validator_set, PurseCtx};
pub use engine::{
    genesis_hash, genesis_record, Engine, EngineConfig, EngineEvent, EngineGauges, EngineStats,
    MAX_CLOCK_DRIFT_MS,
};
pub use error::EngineError;
pub use inbox::{
    inbox, inbox_with_bounds, Bound, InboxReceiver, InboxSender, INBOX_BYTES, INBOX_CAPACITY,
    INBOX_RESERVED_BYTES, INBOX_RESERVED_MESSAGES,
};
pub use network::{EngineRead, Hub, HubEndpoint, Inbound, Network, PendingTx, ProofAnswer, ReadFn, Reply};
pub use validators::ValidatorWatch;
pub use wire::{NetMessage, SignerRecord, SyncedBlock, WalRecord, MAX_MESSAGE_BYTES};
