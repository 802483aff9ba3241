//! purse-network — libp2p networking for validators: gossip, block sync, permissioned peers (allow-list, scoring, bans), every queue bounded.
//!
//! One node's network is started with [`Network::start`], which returns a cloneable [`NetworkHandle`] (publish,
//! validate, report, request, shutdown) and a bounded receiver of [`NetworkEvent`]s (gossip to validate, sync
//! requests to answer, peer changes). Payloads are opaque bytes: this crate bounds and moves them, the
//! application decodes and judges them. See `docs/network.md` and ADR 0011.

pub mod behaviour;
pub mod codec;
pub mod config;
mod dialer;
pub mod error;
mod handle;
pub mod identity;
pub mod permission;
pub mod scoring;
mod service;
pub mod stats;
pub mod topic;

pub use codec::{SyncCodec, SyncRequest, SyncResponse, MAX_SNAPSHOTS_LISTED};
pub use config::NetworkConfig;
pub use error::NetworkError;
pub use handle::{
    GossipMessage, Network, NetworkEvent, NetworkHandle, SyncResponder, Validation, REQUEST_TIMEOUT_GRACE,
};
pub use scoring::{Misbehaviour, ScoringConfig};
pub use stats::{NetworkStats, NetworkStatsSnapshot};
pub use topic::{MessageId, Topic};

/// Re-exported libp2p types that appear in this crate's API.
pub use libp2p::{identity::Keypair as Libp2pKeypair, Multiaddr, PeerId};
