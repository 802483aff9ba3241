//! The network task: owns the swarm, executes handle commands, turns swarm events into application events.
//! It never blocks: every send to the application is a `try_send`, and a full queue drops (and counts).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use libp2p::core::ConnectedPoint;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{DialError, ListenError, SwarmEvent};
use libp2p::{identify, Multiaddr, PeerId, Swarm};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::behaviour::{build_swarm, Behaviour, BehaviourEvent};
use crate::codec::{SyncRequest, SyncResponse};
use crate::config::{
    NetworkConfig, LISTEN_TIMEOUT, MAX_PENDING_INBOUND_REQUESTS, MAX_PENDING_OUTBOUND_REQUESTS,
};
use crate::dialer::Redialer;
use crate::error::NetworkError;
use crate::handle::{lock, Command, GossipMessage, NetworkEvent, Shared, SyncResponder, Validation};
use crate::scoring::{Misbehaviour, PeerScores, Verdict};
use crate::stats::NetworkStats;
use crate::topic::{MessageId, Topics};

/// Period of the housekeeping tick (redials, score pruning).
pub const TICK: Duration = Duration::from_millis(100);

type Reply = oneshot::Sender<Result<SyncResponse, NetworkError>>;
type InboundAnswer = (PeerId, ResponseChannel<SyncResponse>, Option<SyncResponse>);

struct PendingOutbound {
    request: SyncRequest,
    reply: Reply,
}

pub(crate) struct Service {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<NetworkEvent>,
    shared: Arc<Mutex<Shared>>,
    stats: Arc<NetworkStats>,
    topics: Topics,
    scores: PeerScores,
    redialer: Redialer,
    ban_duration: Duration,
    request_timeout: Duration,
    max_response_bytes: usize,
    outbound: HashMap<OutboundRequestId, PendingOutbound>,
    inbound: FuturesUnordered<BoxFuture<'static, InboundAnswer>>,
}

impl Service {
    /// Builds the swarm, subscribes, binds the listener and waits for its address.
    pub(crate) async fn new(
        config: NetworkConfig,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<NetworkEvent>,
        shared: Arc<Mutex<Shared>>,
        stats: Arc<NetworkStats>,
    ) -> Result<Service, NetworkError> {
        let bootstrap = config.validate()?;
        let mut swarm = build_swarm(&config)?;
        let topics = Topics::new(&config.chain_id);
        for topic in crate::Topic::ALL {
            swarm
                .behaviour_mut()
                .gossipsub
                .subscribe(&topic.ident(&config.chain_id))
                .map_err(|e| NetworkError::Config(format!("subscribe: {e}")))?;
        }
        ensure_port_free(&config.listen_addr)?;
        swarm.listen_on(config.listen_addr.clone()).map_err(|e| NetworkError::Transport(e.to_string()))?;
        let deadline = tokio::time::Instant::now() + LISTEN_TIMEOUT;
        loop {
            let event = tokio::time::timeout_at(deadline, swarm.select_next_some()).await.map_err(|_| {
                NetworkError::Transport(format!("no listen address within {LISTEN_TIMEOUT:?}"))
            })?;
            match event {
                SwarmEvent::NewListenAddr { address, .. } => {
                    info!(%address, peer = %config.local_peer_id(), "p2p listening");
                    lock(&shared).listen_addrs.push(address);
                    break;
                }
                SwarmEvent::ListenerClosed { reason: Err(e), .. }
                | SwarmEvent::ListenerError { error: e, .. } => {
                    return Err(NetworkError::Transport(e.to_string()));
                }
                other => debug!(?other, "event before listening"),
            }
        }
        let now = Instant::now();
        let mut redialer = Redialer::new(config.redial_backoff_initial, config.redial_backoff_max);
        for (peer, addr) in bootstrap {
            redialer.add_addresses(peer, [addr], now, false);
        }
        Ok(Service {
            swarm,
            commands,
            events,
            shared,
            stats,
            topics,
            scores: PeerScores::new(config.scoring.clone()),
            redialer,
            ban_duration: config.scoring.ban_duration,
            request_timeout: config.request_timeout,
            max_response_bytes: config.max_sync_response_bytes,
            outbound: HashMap::new(),
            inbound: FuturesUnordered::new(),
        })
    }

    /// Runs until shutdown or until every handle is gone.
    pub(crate) async fn run(mut self) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                cmd = self.commands.recv() => match cmd {
                    None | Some(Command::Shutdown) => break,
                    Some(cmd) => self.on_command(cmd),
                },
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                Some((peer, channel, answer)) = self.inbound.next(), if !self.inbound.is_empty() => {
                    self.on_answer(peer, channel, answer);
                }
                _ = tick.tick() => self.on_tick(),
            }
        }
        info!(peer = %self.swarm.local_peer_id(), "p2p network stopped");
        let mut shared = lock(&self.shared);
        shared.peers.clear();
        shared.topic_peers.clear();
        shared.listen_addrs.clear();
        drop(shared);
        self.stats.set_connected_peers(0);
        // Dropping the swarm closes the listener and every connection; pending requests get `Closed`.
    }

    fn emit_peer_event(&self, event: NetworkEvent) {
        if self.events.try_send(event).is_err() {
            NetworkStats::inc(&self.stats.dropped_peer_events);
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        self.scores.prune(now);
        for (peer, addrs) in self.redialer.due(now) {
            if self.swarm.is_connected(&peer) {
                self.redialer.on_connected(&peer, now);
                continue;
            }
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            match self.swarm.dial(opts) {
                Ok(()) => debug!(%peer, "dialling"),
                Err(DialError::DialPeerConditionFalse(_)) => {}
                Err(e) => {
                    debug!(%peer, error = %e, "dial refused");
                    NetworkStats::inc(&self.stats.failed_dials);
                    self.redialer.on_dial_failed(&peer, now);
                }
            }
        }
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Publish { topic, data } => {
                let hash = self.topics.hash(topic);
                match self.swarm.behaviour_mut().gossipsub.publish(hash, data) {
                    Ok(_) => NetworkStats::inc(&self.stats.gossip_published),
                    Err(e) => {
                        NetworkStats::inc(&self.stats.publish_failures);
                        debug!(?topic, error = %e, "publish failed");
                    }
                }
            }
            Command::Validate { id, from, validation } => {
                let acceptance = match validation {
                    Validation::Accept => MessageAcceptance::Accept,
                    Validation::Reject => MessageAcceptance::Reject,
                    Validation::Ignore => MessageAcceptance::Ignore,
                };
                self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                    &id.to_gossipsub(),
                    &from,
                    acceptance,
                );
                if validation == Validation::Reject {
                    NetworkStats::inc(&self.stats.rejected_messages);
                    self.penalise(from, Misbehaviour::InvalidMessage);
                }
            }
            Command::Report { peer, misbehaviour } => self.penalise(peer, misbehaviour),
            Command::SetAllowedPeers(allowed) => {
                info!(peers = allowed.len(), "allow-list replaced");
                for peer in self.swarm.behaviour_mut().gate.set_allowed(allowed) {
                    self.redialer.remove(&peer);
                }
            }
            Command::Dial { peer, addr } => {
                if self.swarm.behaviour().gate.is_allowed(&peer) {
                    let connected = self.swarm.is_connected(&peer);
                    self.redialer.add_addresses(peer, [addr], Instant::now(), connected);
                } else {
                    warn!(%peer, %addr, "not dialling a peer that is not allow-listed");
                }
            }
            Command::Request { peer, request, reply } => self.send_request(peer, request, reply),
            Command::Shutdown => {}
        }
    }

    fn send_request(&mut self, peer: PeerId, request: SyncRequest, reply: Reply) {
        if !self.swarm.is_connected(&peer) {
            let _ = reply.send(Err(NetworkError::NotConnected(peer)));
            return;
        }
        if self.outbound.len() >= MAX_PENDING_OUTBOUND_REQUESTS {
            let _ = reply.send(Err(NetworkError::TooManyRequests));
            return;
        }
        NetworkStats::inc(&self.stats.sync_requests_sent);
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, request.clone());
        self.outbound.insert(id, PendingOutbound { request, reply });
    }

    fn penalise(&mut self, peer: PeerId, misbehaviour: Misbehaviour) {
        if !self.swarm.behaviour().gate.is_allowed(&peer) {
            return; // never connected; keeps the score map bounded by the allow-list
        }
        NetworkStats::inc(&self.stats.penalties);
        let now = Instant::now();
        let verdict = self.scores.penalise(peer, misbehaviour, now);
        debug!(%peer, ?misbehaviour, score = self.scores.score(&peer, now), "peer penalised");
        if let Verdict::Ban(until) = verdict {
            warn!(%peer, ?misbehaviour, duration = ?self.ban_duration, "banning peer");
            NetworkStats::inc(&self.stats.bans);
            self.swarm.behaviour_mut().gate.ban(peer, until);
            self.redialer.defer(&peer, until);
            self.emit_peer_event(NetworkEvent::PeerBanned { peer, duration: self.ban_duration });
        }
    }

    fn on_answer(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<SyncResponse>,
        answer: Option<SyncResponse>,
    ) {
        let response = answer.unwrap_or(SyncResponse::Unavailable);
        if self.swarm.behaviour_mut().sync.send_response(channel, response).is_ok() {
            NetworkStats::inc(&self.stats.sync_requests_served);
        } else {
            debug!(%peer, "sync response not sent: the request is gone");
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        let now = Instant::now();
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => self.on_gossip(e),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(e)) => self.on_sync(e),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => self.on_identified(peer_id, info, now),
            SwarmEvent::Behaviour(BehaviourEvent::Ping(e)) => match e.result {
                Ok(rtt) => tracing::trace!(peer = %e.peer, ?rtt, "ping"),
                Err(failure) => {
                    // Connections are kept alive while idle, so a dead link is found (and closed) here.
                    info!(peer = %e.peer, %failure, "ping failed; closing the connection");
                    self.swarm.close_connection(e.connection);
                }
            },
            SwarmEvent::Behaviour(_) => {}
            SwarmEvent::ConnectionEstablished { peer_id, num_established, endpoint, .. } => {
                self.on_connection(peer_id, num_established.get(), &endpoint, now);
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, cause, .. } => {
                self.on_peer_gone(peer_id, cause.map(|c| c.to_string()), now);
            }
            SwarmEvent::IncomingConnectionError { peer_id, send_back_addr, error, .. } => match error {
                ListenError::Denied { cause } => {
                    NetworkStats::inc(&self.stats.rejected_connections);
                    warn!(peer = ?peer_id, addr = %send_back_addr, reason = %cause, "inbound connection refused");
                }
                other => debug!(addr = %send_back_addr, error = %other, "inbound connection failed"),
            },
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                NetworkStats::inc(&self.stats.failed_dials);
                match &error {
                    DialError::Denied { cause } => info!(peer = ?peer_id, reason = %cause, "dial refused"),
                    other => debug!(peer = ?peer_id, error = %other, "dial failed"),
                }
                if let Some(peer) = peer_id {
                    self.redialer.on_dial_failed(&peer, now);
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                info!(%address, "p2p listening");
                let mut shared = lock(&self.shared);
                if !shared.listen_addrs.contains(&address) {
                    shared.listen_addrs.push(address);
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                lock(&self.shared).listen_addrs.retain(|a| a != &address);
            }
            SwarmEvent::ListenerError { error, .. } => warn!(%error, "listener error"),
            SwarmEvent::ListenerClosed { reason, addresses, .. } => {
                warn!(?reason, ?addresses, "listener closed");
                lock(&self.shared).listen_addrs.retain(|a| !addresses.contains(a));
            }
            _ => {}
        }
    }

    fn on_identified(&mut self, peer: PeerId, info: identify::Info, now: Instant) {
        if self.swarm.behaviour().gate.is_allowed(&peer) {
            let addrs = info.listen_addrs.into_iter().filter(is_dialable);
            let connected = self.swarm.is_connected(&peer);
            self.redialer.add_addresses(peer, addrs, now, connected);
        }
    }

    fn on_connection(&mut self, peer: PeerId, num_established: u32, endpoint: &ConnectedPoint, now: Instant) {
        self.redialer.on_connected(&peer, now);
        if let ConnectedPoint::Dialer { address, .. } = endpoint {
            let mut bare = address.clone();
            if matches!(bare.iter().last(), Some(Protocol::P2p(_))) {
                bare.pop();
            }
            self.redialer.add_addresses(peer, [bare], now, true);
        }
        if num_established == 1 {
            info!(%peer, addr = %endpoint.get_remote_address(), "peer connected");
            let mut shared = lock(&self.shared);
            shared.peers.insert(peer);
            self.stats.set_connected_peers(shared.peers.len());
            drop(shared);
            self.emit_peer_event(NetworkEvent::PeerConnected(peer));
        }
    }

    fn on_peer_gone(&mut self, peer: PeerId, cause: Option<String>, now: Instant) {
        info!(%peer, ?cause, "peer disconnected");
        let mut shared = lock(&self.shared);
        shared.peers.remove(&peer);
        for set in shared.topic_peers.values_mut() {
            set.remove(&peer);
        }
        self.stats.set_connected_peers(shared.peers.len());
        drop(shared);
        self.redialer.on_disconnected(&peer, now);
        if let Some(until) = self.swarm.behaviour_mut().gate.banned_until(&peer, now) {
            self.redialer.defer(&peer, until);
        }
        self.emit_peer_event(NetworkEvent::PeerDisconnected(peer));
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message { propagation_source, message_id, message } => {
                NetworkStats::inc(&self.stats.gossip_received);
                let topic = self.topics.topic(&message.topic);
                let id = MessageId::from_gossipsub(&message_id);
                let (Some(topic), Some(id)) = (topic, id) else {
                    self.reject_raw(&message_id, propagation_source);
                    return;
                };
                if message.data.len() > topic.max_message_bytes() {
                    self.reject_raw(&message_id, propagation_source);
                    return;
                }
                let msg = GossipMessage {
                    topic,
                    from: propagation_source,
                    source: message.source,
                    id,
                    data: message.data,
                };
                if self.events.try_send(NetworkEvent::Gossip(msg)).is_err() {
                    // Full (or the application is gone): drop it, and tell gossipsub not to forward it.
                    NetworkStats::inc(&self.stats.dropped_inbound_gossip);
                    self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                        &message_id,
                        &propagation_source,
                        MessageAcceptance::Ignore,
                    );
                }
            }
            gossipsub::Event::Subscribed { peer_id, topic } => {
                if let Some(t) = self.topics.topic(&topic) {
                    if self.swarm.is_connected(&peer_id) {
                        lock(&self.shared).topic_peers.entry(t).or_default().insert(peer_id);
                    }
                }
            }
            gossipsub::Event::Unsubscribed { peer_id, topic } => {
                if let Some(t) = self.topics.topic(&topic) {
                    if let Some(set) = lock(&self.shared).topic_peers.get_mut(&t) {
                        set.remove(&peer_id);
                    }
                }
            }
            gossipsub::Event::SlowPeer { peer_id, failed_messages } => {
                debug!(peer = %peer_id, ?failed_messages, "slow gossip peer");
            }
            gossipsub::Event::GossipsubNotSupported { peer_id } => {
                debug!(peer = %peer_id, "peer does not speak gossipsub");
            }
        }
    }

    /// Rejects a message that breaks this crate's own rules (unknown topic, oversized, foreign id).
    fn reject_raw(&mut self, message_id: &gossipsub::MessageId, from: PeerId) {
        self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
            message_id,
            &from,
            MessageAcceptance::Reject,
        );
        NetworkStats::inc(&self.stats.rejected_messages);
        self.penalise(from, Misbehaviour::InvalidMessage);
    }

    fn on_sync(&mut self, event: request_response::Event<SyncRequest, SyncResponse>) {
        use request_response::{Event, Message};
        match event {
            Event::Message { peer, message: Message::Request { request, channel, .. }, .. } => {
                if self.inbound.len() >= MAX_PENDING_INBOUND_REQUESTS {
                    NetworkStats::inc(&self.stats.dropped_inbound_requests);
                    debug!(%peer, "too many pending sync requests; dropping one");
                    return;
                }
                let (tx, rx) = oneshot::channel();
                let responder =
                    SyncResponder { tx, max_bytes: self.max_response_bytes, stats: self.stats.clone() };
                if self.events.try_send(NetworkEvent::SyncRequest { peer, request, responder }).is_err() {
                    NetworkStats::inc(&self.stats.dropped_inbound_requests);
                    // The channel is dropped: the peer sees the stream closed and fails fast.
                    return;
                }
                let timeout = self.request_timeout;
                self.inbound.push(
                    async move {
                        let answer = tokio::time::timeout(timeout, rx).await.ok().and_then(Result::ok);
                        (peer, channel, answer)
                    }
                    .boxed(),
                );
            }
            Event::Message { peer, message: Message::Response { request_id, response }, .. } => {
                let Some(p) = self.outbound.remove(&request_id) else { return };
                match response.check_answers(&p.request) {
                    Ok(()) => {
                        let _ = p.reply.send(Ok(response));
                    }
                    Err(reason) => {
                        NetworkStats::inc(&self.stats.sync_request_failures);
                        warn!(%peer, %reason, "invalid sync response");
                        self.penalise(peer, Misbehaviour::InvalidResponse);
                        let _ = p.reply.send(Err(NetworkError::InvalidResponse { peer, reason }));
                    }
                }
            }
            Event::OutboundFailure { peer, request_id, error, .. } => {
                let Some(p) = self.outbound.remove(&request_id) else { return };
                NetworkStats::inc(&self.stats.sync_request_failures);
                debug!(%peer, %error, "sync request failed");
                let err = match error {
                    request_response::OutboundFailure::Timeout => NetworkError::Timeout(self.request_timeout),
                    other => NetworkError::RequestFailed(other.to_string()),
                };
                let _ = p.reply.send(Err(err));
            }
            Event::InboundFailure { peer, error, .. } => debug!(%peer, %error, "inbound sync request failed"),
            Event::ResponseSent { .. } => {}
        }
    }
}

/// Addresses worth redialling: TCP ones, without relay hops.
fn is_dialable(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| matches!(p, Protocol::Tcp(_)))
        && !addr.iter().any(|p| matches!(p, Protocol::P2pCircuit))
}

/// libp2p's TCP listeners set `SO_REUSEPORT` (so outgoing connections can use the listen port), which lets a
/// second node bind the same port silently and share its inbound connections. Probe the port with a plain
/// listener first, so a port in use is an error as operators expect.
fn ensure_port_free(addr: &Multiaddr) -> Result<(), NetworkError> {
    let mut ip = None;
    let mut port = None;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(a) => ip = Some(std::net::IpAddr::V4(a)),
            Protocol::Ip6(a) => ip = Some(std::net::IpAddr::V6(a)),
            Protocol::Tcp(p) => port = Some(p),
            _ => {}
        }
    }
    match (ip, port) {
        (Some(ip), Some(port)) if port != 0 => std::net::TcpListener::bind((ip, port))
            .map(drop)
            .map_err(|e| NetworkError::Transport(format!("cannot listen on {addr}: {e}"))),
        _ => Ok(()),
    }
}
