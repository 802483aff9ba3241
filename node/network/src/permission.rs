//! Permissioning at the connection level: only allow-listed peers may connect or be dialled, and banned peers
//! neither, until their ban ends. A `NetworkBehaviour` with no protocol of its own, placed first in the
//! composed behaviour so a denied connection never reaches gossipsub or sync.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::convert::Infallible;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use libp2p::core::transport::PortUse;
use libp2p::core::upgrade::DeniedUpgrade;
use libp2p::core::Endpoint;
use libp2p::swarm::handler::{ConnectionEvent, ConnectionHandler, ConnectionHandlerEvent, SubstreamProtocol};
use libp2p::swarm::{
    CloseConnection, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

/// Why a connection was denied: the peer is not on the allow-list.
#[derive(Debug, thiserror::Error)]
#[error("peer {0} is not on the allow-list")]
pub struct NotAllowed(pub PeerId);

/// Why a connection was denied: the peer is banned.
#[derive(Debug, thiserror::Error)]
#[error("peer {0} is banned")]
pub struct Banned(pub PeerId);

/// Why a dial was refused: it named no peer id, so the remote cannot be checked against the allow-list.
#[derive(Debug, thiserror::Error)]
#[error("dials must name the peer id")]
pub struct UnknownPeer;

/// The gate: an allow-list and a set of timed bans.
pub(crate) struct PeerGate {
    allowed: BTreeSet<PeerId>,
    banned: HashMap<PeerId, Instant>,
    to_close: VecDeque<PeerId>,
    waker: Option<Waker>,
}

impl PeerGate {
    pub(crate) fn new(allowed: BTreeSet<PeerId>) -> PeerGate {
        PeerGate { allowed, banned: HashMap::new(), to_close: VecDeque::new(), waker: None }
    }

    /// Replaces the allow-list (e.g. after a validator-set change); connections to removed peers are closed.
    pub(crate) fn set_allowed(&mut self, allowed: BTreeSet<PeerId>) -> Vec<PeerId> {
        let removed: Vec<PeerId> = self.allowed.difference(&allowed).copied().collect();
        self.to_close.extend(removed.iter().copied());
        self.banned.retain(|p, _| allowed.contains(p));
        self.allowed = allowed;
        if let Some(w) = self.waker.take() {
            w.wake();
        }
        removed
    }

    pub(crate) fn is_allowed(&self, peer: &PeerId) -> bool {
        self.allowed.contains(peer)
    }

    /// The end of the peer's ban, if it is banned now (expired bans are forgotten).
    pub(crate) fn banned_until(&mut self, peer: &PeerId, now: Instant) -> Option<Instant> {
        match self.banned.get(peer) {
            Some(until) if *until > now => Some(*until),
            Some(_) => {
                self.banned.remove(peer);
                None
            }
            None => None,
        }
    }

    /// Bans `peer` until `until` and closes its connections.
    pub(crate) fn ban(&mut self, peer: PeerId, until: Instant) {
        self.banned.insert(peer, until);
        self.to_close.push_back(peer);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    fn enforce(&mut self, peer: &PeerId) -> Result<(), ConnectionDenied> {
        if !self.allowed.contains(peer) {
            return Err(ConnectionDenied::new(NotAllowed(*peer)));
        }
        if self.banned_until(peer, Instant::now()).is_some() {
            return Err(ConnectionDenied::new(Banned(*peer)));
        }
        Ok(())
    }
}

impl NetworkBehaviour for PeerGate {
    type ConnectionHandler = KeepAlive;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        // Logged and counted by the service on `SwarmEvent::IncomingConnectionError`.
        self.enforce(&peer)?;
        Ok(KeepAlive)
    }

    fn handle_pending_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: Option<PeerId>,
        _: &[Multiaddr],
        _: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        // Dials without a peer id are refused too: we only ever dial known validators.
        match peer {
            Some(peer) => self.enforce(&peer)?,
            None => return Err(ConnectionDenied::new(UnknownPeer)),
        }
        Ok(vec![])
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        // The remote's key is only proven here (after the noise handshake).
        self.enforce(&peer)?;
        Ok(KeepAlive)
    }

    fn on_swarm_event(&mut self, _: FromSwarm) {}

    fn on_connection_handler_event(&mut self, _: PeerId, _: ConnectionId, event: THandlerOutEvent<Self>) {
        libp2p::core::util::unreachable(event)
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        if let Some(peer) = self.to_close.pop_front() {
            return Poll::Ready(ToSwarm::CloseConnection { peer_id: peer, connection: CloseConnection::All });
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The gate's connection handler: no protocol, but it keeps connections to allow-listed peers open while idle
/// (gossipsub alone keeps only mesh connections alive, and every validator should stay directly reachable).
/// Dead links are found by ping and closed by the service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeepAlive;

impl ConnectionHandler for KeepAlive {
    type FromBehaviour = Infallible;
    type ToBehaviour = Infallible;
    type InboundProtocol = DeniedUpgrade;
    type OutboundProtocol = DeniedUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol> {
        SubstreamProtocol::new(DeniedUpgrade, ())
    }

    fn connection_keep_alive(&self) -> bool {
        true
    }

    fn on_behaviour_event(&mut self, event: Self::FromBehaviour) {
        libp2p::core::util::unreachable(event)
    }

    fn poll(
        &mut self,
        _: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Self::OutboundProtocol, (), Self::ToBehaviour>> {
        Poll::Pending
    }

    fn on_connection_event(&mut self, _: ConnectionEvent<Self::InboundProtocol, Self::OutboundProtocol>) {}
}
