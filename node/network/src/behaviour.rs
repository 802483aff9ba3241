//! The composed libp2p behaviour and the swarm: TCP + noise + yamux; permission gate, connection limits,
//! identify, ping, gossipsub and the sync request-response protocol.

use std::collections::HashSet;
use std::time::Duration;

use libp2p::gossipsub::{self, MessageAuthenticity, ValidationMode, WhitelistSubscriptionFilter};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{connection_limits, identify, noise, ping, tcp, yamux, StreamProtocol, Swarm};

use crate::codec::{sync_protocol_name, SyncCodec};
use crate::config::{
    NetworkConfig, GOSSIP_ENVELOPE_BYTES, MAX_CONCURRENT_SYNC_STREAMS, MAX_CONNECTIONS_PER_PEER,
    PING_INTERVAL, PING_TIMEOUT,
};
use crate::error::NetworkError;
use crate::permission::PeerGate;
use crate::topic::{MessageId, Topic};

/// Most messages queued per connection in gossipsub's send queue.
pub const GOSSIP_QUEUE_LEN: usize = 1024;

/// How long gossipsub remembers a message id to drop duplicates.
pub const GOSSIP_DUPLICATE_CACHE: Duration = Duration::from_secs(120);

/// The node's behaviour. The gate comes first: a denied connection is refused before any other behaviour
/// sees it.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub(crate) gate: PeerGate,
    pub(crate) limits: connection_limits::Behaviour,
    pub(crate) identify: identify::Behaviour,
    pub(crate) ping: ping::Behaviour,
    pub(crate) gossipsub: gossipsub::Behaviour<gossipsub::IdentityTransform, WhitelistSubscriptionFilter>,
    pub(crate) sync: request_response::Behaviour<SyncCodec>,
}

fn gossipsub_config(config: &NetworkConfig) -> Result<gossipsub::Config, NetworkError> {
    let mut b = gossipsub::ConfigBuilder::default();
    b.validation_mode(ValidationMode::Strict)
        .validate_messages()
        .message_id_fn(|m: &gossipsub::Message| MessageId::compute(m.topic.as_str(), &m.data).to_gossipsub())
        .heartbeat_interval(config.gossip_heartbeat)
        .heartbeat_initial_delay(config.gossip_heartbeat.min(Duration::from_millis(100)))
        .duplicate_cache_time(GOSSIP_DUPLICATE_CACHE)
        .max_transmit_size(Topic::Consensus.max_message_bytes() + GOSSIP_ENVELOPE_BYTES)
        .max_transmit_size_for_topic(
            Topic::Transactions.max_message_bytes() + GOSSIP_ENVELOPE_BYTES,
            Topic::Transactions.ident(&config.chain_id).hash(),
        )
        .max_transmit_size_for_topic(
            Topic::Consensus.max_message_bytes() + GOSSIP_ENVELOPE_BYTES,
            Topic::Consensus.ident(&config.chain_id).hash(),
        )
        .connection_handler_queue_len(GOSSIP_QUEUE_LEN)
        .flood_publish(true);
    b.build().map_err(|e| NetworkError::Config(format!("gossipsub: {e}")))
}

fn behaviour(config: &NetworkConfig) -> Result<Behaviour, NetworkError> {
    let filter = WhitelistSubscriptionFilter(
        Topic::ALL.iter().map(|t| t.ident(&config.chain_id).hash()).collect::<HashSet<_>>(),
    );
    let gossipsub = gossipsub::Behaviour::new_with_subscription_filter(
        MessageAuthenticity::Signed(config.keypair.clone()),
        gossipsub_config(config)?,
        filter,
    )
    .map_err(|e| NetworkError::Config(format!("gossipsub: {e}")))?;

    let limits = connection_limits::ConnectionLimits::default()
        .with_max_pending_incoming(Some(config.max_pending_connections))
        .with_max_pending_outgoing(Some(config.max_pending_connections))
        .with_max_established(Some(config.max_peers.saturating_mul(MAX_CONNECTIONS_PER_PEER)))
        .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER));

    let identify = identify::Behaviour::new(
        identify::Config::new(format!("/purse/{}/1", config.chain_id.as_str()), config.keypair.public())
            .with_agent_version(format!("purse/{}", env!("CARGO_PKG_VERSION"))),
    );

    let protocol = StreamProtocol::try_from_owned(sync_protocol_name(&config.chain_id))
        .map_err(|e| NetworkError::Config(format!("sync protocol name: {e}")))?;
    let sync = request_response::Behaviour::with_codec(
        SyncCodec::new(config.max_sync_request_bytes, config.max_sync_response_bytes),
        [(protocol, ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(MAX_CONCURRENT_SYNC_STREAMS),
    );

    Ok(Behaviour {
        gate: PeerGate::new(config.allowed_peers.clone()),
        limits: connection_limits::Behaviour::new(limits),
        identify,
        ping: ping::Behaviour::new(
            ping::Config::new().with_interval(PING_INTERVAL).with_timeout(PING_TIMEOUT),
        ),
        gossipsub,
        sync,
    })
}

/// Builds the swarm (not yet listening) on the current tokio runtime.
pub(crate) fn build_swarm(config: &NetworkConfig) -> Result<Swarm<Behaviour>, NetworkError> {
    let behaviour = behaviour(config)?;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(config.keypair.clone())
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| NetworkError::Transport(e.to_string()))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| NetworkError::Transport(e.to_string()))?
        .build();
    Ok(swarm)
}
