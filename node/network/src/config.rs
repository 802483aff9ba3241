//! Configuration and every limit of the networking layer, each a documented constant or config field.

use std::collections::BTreeSet;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use purse_types::ChainId;

use crate::error::NetworkError;
use crate::scoring::ScoringConfig;

/// Capacity of the command queue from [`crate::NetworkHandle`]s to the network task. `publish` and the other
/// non-async calls use `try_send` and fail with [`NetworkError::Busy`] when it is full.
pub const COMMAND_CHANNEL_CAPACITY: usize = 1024;

/// Default capacity of the event queue from the network task to the application. When it is full the network
/// task drops the event (counted in [`crate::NetworkStats`]) instead of waiting: the swarm loop never blocks.
pub const EVENT_CHANNEL_CAPACITY: usize = 4096;

/// Largest payload on the transactions topic: one transaction plus the engine's message envelope.
pub const MAX_TX_GOSSIP_BYTES: usize = purse_types::tx::MAX_TX_BYTES + 4 * 1024;

/// Largest payload on the consensus topic: a proposal carrying a maximal block (the engine's
/// `MAX_MESSAGE_BYTES`).
pub const MAX_CONSENSUS_GOSSIP_BYTES: usize = purse_types::block::MAX_BLOCK_BYTES + 64 * 1024;

/// Room for gossipsub's protobuf envelope (topic, author key, sequence number, signature) on top of a payload;
/// gossipsub's `max_transmit_size` is the payload limit plus this.
pub const GOSSIP_ENVELOPE_BYTES: usize = 16 * 1024;

/// Hard upper bound for [`NetworkConfig::max_sync_request_bytes`] and its default: a sync request is a few
/// integers.
pub const MAX_SYNC_REQUEST_BYTES: usize = 64 * 1024;

/// Default for [`NetworkConfig::max_sync_response_bytes`]: one maximal block plus its commit certificate.
pub const MAX_SYNC_RESPONSE_BYTES: usize = purse_types::block::MAX_BLOCK_BYTES + 1024 * 1024;

/// Hard upper bound for [`NetworkConfig::max_sync_response_bytes`].
pub const MAX_SYNC_RESPONSE_BYTES_CAP: usize = 64 * 1024 * 1024;

/// Most blocks one `Blocks` request may ask for (and a response may carry).
pub const MAX_BLOCKS_PER_REQUEST: u64 = 128;

/// Largest snapshot chunk payload a response may carry.
pub const MAX_SNAPSHOT_CHUNK_BYTES: usize = 4 * 1024 * 1024;

/// Default time a sync request may take, from sending to the full response.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Most outbound sync requests in flight at once (over all peers).
pub const MAX_PENDING_OUTBOUND_REQUESTS: usize = 256;

/// Most inbound sync requests waiting for the application's answer at once; more are dropped.
pub const MAX_PENDING_INBOUND_REQUESTS: usize = 256;

/// Most concurrent request-response streams per connection.
pub const MAX_CONCURRENT_SYNC_STREAMS: usize = 32;

/// Most established connections to one peer (two allow simultaneous dials from both sides).
pub const MAX_CONNECTIONS_PER_PEER: u32 = 2;

/// Default for [`NetworkConfig::max_peers`]: every validator of a maximal set plus headroom.
pub const DEFAULT_MAX_PEERS: u32 = purse_types::validator::MAX_VALIDATORS as u32 + 64;

/// Default for [`NetworkConfig::max_pending_connections`] (each direction): connections still in the handshake.
pub const DEFAULT_MAX_PENDING_CONNECTIONS: u32 = 64;

/// Most addresses remembered per peer for redialling.
pub const MAX_ADDRESSES_PER_PEER: usize = 8;

/// Largest allow-list accepted.
pub const MAX_ALLOWED_PEERS: usize = 4 * purse_types::validator::MAX_VALIDATORS;

/// Default delay before the first redial of a lost peer; doubled on each failure up to the maximum.
pub const DEFAULT_REDIAL_BACKOFF_INITIAL: Duration = Duration::from_millis(250);

/// Default upper bound of the redial backoff.
pub const DEFAULT_REDIAL_BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Default gossipsub heartbeat.
pub const DEFAULT_GOSSIP_HEARTBEAT: Duration = Duration::from_millis(700);

/// How often each connection is pinged. Connections to allow-listed peers are kept open while idle; a
/// connection whose ping fails is closed (and the peer redialled), which detects dead links.
pub const PING_INTERVAL: Duration = Duration::from_secs(10);

/// How long a ping may take before the connection is considered dead.
pub const PING_TIMEOUT: Duration = Duration::from_secs(20);

/// How long after start [`crate::Network::start`] waits for the listener to be bound.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(5);

/// The configuration of one node's network.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// The chain id; it is part of every topic and protocol name, so nodes of different chains never talk.
    pub chain_id: ChainId,
    /// This node's identity (derive it from the validator key with [`crate::identity::libp2p_keypair`]).
    pub keypair: Keypair,
    /// Where to listen, e.g. `/ip4/0.0.0.0/tcp/26656` (`/tcp/0` picks a free port).
    pub listen_addr: Multiaddr,
    /// The only peers that may connect or be dialled (normally every validator's peer id).
    pub allowed_peers: BTreeSet<PeerId>,
    /// Peers to dial and keep dialling, as `/ip4/…/tcp/…/p2p/<peer id>`; each must be allow-listed.
    pub bootstrap: Vec<Multiaddr>,
    /// Most established connections overall.
    pub max_peers: u32,
    /// Most connections still in the handshake, per direction.
    pub max_pending_connections: u32,
    /// Capacity of the event queue to the application.
    pub event_channel_capacity: usize,
    /// Time limit for one outbound sync request.
    pub request_timeout: Duration,
    /// Largest sync request read from a peer (at most [`MAX_SYNC_REQUEST_BYTES`]).
    pub max_sync_request_bytes: usize,
    /// Largest sync response read from or written to a peer (at most [`MAX_SYNC_RESPONSE_BYTES_CAP`]).
    pub max_sync_response_bytes: usize,
    /// Gossipsub heartbeat interval (mesh maintenance and gossip emission).
    pub gossip_heartbeat: Duration,
    /// First redial delay after a connection to a known peer is lost.
    pub redial_backoff_initial: Duration,
    /// Largest redial delay; a connection that lasted longer than this resets the backoff.
    pub redial_backoff_max: Duration,
    /// Peer scoring and banning.
    pub scoring: ScoringConfig,
}

impl NetworkConfig {
    /// A configuration with every limit at its default, no allowed peers and no bootstrap peers.
    pub fn new(chain_id: ChainId, keypair: Keypair, listen_addr: Multiaddr) -> NetworkConfig {
        NetworkConfig {
            chain_id,
            keypair,
            listen_addr,
            allowed_peers: BTreeSet::new(),
            bootstrap: Vec::new(),
            max_peers: DEFAULT_MAX_PEERS,
            max_pending_connections: DEFAULT_MAX_PENDING_CONNECTIONS,
            event_channel_capacity: EVENT_CHANNEL_CAPACITY,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_sync_request_bytes: MAX_SYNC_REQUEST_BYTES,
            max_sync_response_bytes: MAX_SYNC_RESPONSE_BYTES,
            gossip_heartbeat: DEFAULT_GOSSIP_HEARTBEAT,
            redial_backoff_initial: DEFAULT_REDIAL_BACKOFF_INITIAL,
            redial_backoff_max: DEFAULT_REDIAL_BACKOFF_MAX,
            scoring: ScoringConfig::default(),
        }
    }

    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.keypair.public().to_peer_id()
    }

    /// Checks the configuration and returns the bootstrap peers with their addresses (the `/p2p/` suffix
    /// stripped).
    pub fn validate(&self) -> Result<Vec<(PeerId, Multiaddr)>, NetworkError> {
        let err = |m: String| Err(NetworkError::Config(m));
        if self.allowed_peers.len() > MAX_ALLOWED_PEERS {
            return err(format!(
                "allowed_peers has {} entries, at most {MAX_ALLOWED_PEERS}",
                self.allowed_peers.len()
            ));
        }
        if self.max_peers == 0 {
            return err("max_peers must be positive".into());
        }
        if self.max_pending_connections == 0 {
            return err("max_pending_connections must be positive".into());
        }
        if self.event_channel_capacity == 0 {
            return err("event_channel_capacity must be positive".into());
        }
        if self.request_timeout.is_zero() {
            return err("request_timeout must be positive".into());
        }
        if self.max_sync_request_bytes == 0 || self.max_sync_request_bytes > MAX_SYNC_REQUEST_BYTES {
            return err(format!("max_sync_request_bytes must be in 1..={MAX_SYNC_REQUEST_BYTES}"));
        }
        if self.max_sync_response_bytes == 0 || self.max_sync_response_bytes > MAX_SYNC_RESPONSE_BYTES_CAP {
            return err(format!("max_sync_response_bytes must be in 1..={MAX_SYNC_RESPONSE_BYTES_CAP}"));
        }
        if self.gossip_heartbeat.is_zero() {
            return err("gossip_heartbeat must be positive".into());
        }
        if self.redial_backoff_initial.is_zero() || self.redial_backoff_max < self.redial_backoff_initial {
            return err("redial backoff must satisfy 0 < initial <= max".into());
        }
        self.scoring.validate()?;
        let local = self.local_peer_id();
        let mut out = Vec::with_capacity(self.bootstrap.len());
        for addr in &self.bootstrap {
            let (peer, bare) = split_p2p(addr).ok_or_else(|| {
                NetworkError::Config(format!("bootstrap address {addr} must end in /p2p/<peer id>"))
            })?;
            if peer == local {
                continue;
            }
            if !self.allowed_peers.contains(&peer) {
                return err(format!("bootstrap peer {peer} is not in allowed_peers"));
            }
            out.push((peer, bare));
        }
        Ok(out)
    }
}

/// Splits `/ip4/…/tcp/…/p2p/<id>` into the peer id and the address without the `/p2p/` part.
pub fn split_p2p(addr: &Multiaddr) -> Option<(PeerId, Multiaddr)> {
    let mut bare = addr.clone();
    match bare.pop() {
        Some(Protocol::P2p(peer)) => Some((peer, bare)),
        _ => None,
    }
}
