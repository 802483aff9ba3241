//! The application's side: start the network, send through a [`NetworkHandle`], receive [`NetworkEvent`]s.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::codec::{SyncRequest, SyncResponse};
use crate::config::{NetworkConfig, COMMAND_CHANNEL_CAPACITY};
use crate::error::NetworkError;
use crate::scoring::Misbehaviour;
use crate::stats::NetworkStats;
use crate::topic::{MessageId, Topic};

/// Extra time [`NetworkHandle::request`] waits beyond the protocol's own request timeout.
pub const REQUEST_TIMEOUT_GRACE: Duration = Duration::from_secs(2);

/// The application's verdict on a gossip message (strict validation: nothing is forwarded before it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validation {
    /// Valid: deliver and forward to the mesh.
    Accept,
    /// Provably invalid: do not forward, and penalise the peer that sent it.
    Reject,
    /// Not useful (stale, duplicate, not yet decidable): do not forward, no penalty.
    Ignore,
}

/// A gossip message waiting for the application's [`Validation`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GossipMessage {
    /// Its topic.
    pub topic: Topic,
    /// The peer that forwarded it to us (who is penalised on [`Validation::Reject`]).
    pub from: PeerId,
    /// The author (the signer of the gossipsub envelope).
    pub source: Option<PeerId>,
    /// Content-hash id; pass it back to [`NetworkHandle::validate`].
    pub id: MessageId,
    /// The payload (at most [`Topic::max_message_bytes`]).
    pub data: Vec<u8>,
}

/// Answers one inbound sync request. Dropping it unanswered (or not answering within the request timeout)
/// answers [`SyncResponse::Unavailable`].
#[derive(Debug)]
pub struct SyncResponder {
    pub(crate) tx: oneshot::Sender<SyncResponse>,
    pub(crate) max_bytes: usize,
    pub(crate) stats: Arc<NetworkStats>,
}

impl SyncResponder {
    /// The largest encoded response accepted (see [`SyncResponse::encoded_len`]); build `Blocks` responses
    /// within it.
    pub fn max_response_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Sends the response. One that breaks a limit is not sent: the peer gets [`SyncResponse::Unavailable`]
    /// and the caller an error.
    pub fn respond(self, response: SyncResponse) -> Result<(), NetworkError> {
        let size = response.encoded_len();
        if size > self.max_bytes {
            NetworkStats::inc(&self.stats.oversized_responses);
            let _ = self.tx.send(SyncResponse::Unavailable);
            return Err(NetworkError::ResponseTooLarge { size, limit: self.max_bytes });
        }
        if let Err(reason) = response.check_bounds() {
            let _ = self.tx.send(SyncResponse::Unavailable);
            return Err(NetworkError::InvalidRequest(format!("response breaks a limit: {reason}")));
        }
        self.tx.send(response).map_err(|_| NetworkError::Closed)
    }
}

/// What the network delivers to the application, on a bounded queue.
#[derive(Debug)]
pub enum NetworkEvent {
    /// A gossip message; answer it with [`NetworkHandle::validate`].
    Gossip(GossipMessage),
    /// A peer asks for sync data; answer through `responder`.
    SyncRequest {
        /// The asking peer.
        peer: PeerId,
        /// What it asks for.
        request: SyncRequest,
        /// Where the answer goes.
        responder: SyncResponder,
    },
    /// The first connection to a peer was established.
    PeerConnected(PeerId),
    /// The last connection to a peer closed.
    PeerDisconnected(PeerId),
    /// A peer was banned for misbehaviour and disconnected.
    PeerBanned {
        /// The peer.
        peer: PeerId,
        /// For how long.
        duration: Duration,
    },
}

/// Requests from handles to the network task.
#[derive(Debug)]
pub(crate) enum Command {
    Publish { topic: Topic, data: Vec<u8> },
    Validate { id: MessageId, from: PeerId, validation: Validation },
    Report { peer: PeerId, misbehaviour: Misbehaviour },
    SetAllowedPeers(BTreeSet<PeerId>),
    Dial { peer: PeerId, addr: Multiaddr },
    Request { peer: PeerId, request: SyncRequest, reply: oneshot::Sender<Result<SyncResponse, NetworkError>> },
    Shutdown,
}

/// State the network task publishes for synchronous reads by handles.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) peers: BTreeSet<PeerId>,
    pub(crate) listen_addrs: Vec<Multiaddr>,
    pub(crate) topic_peers: BTreeMap<Topic, BTreeSet<PeerId>>,
}

pub(crate) fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct Inner {
    commands: mpsc::Sender<Command>,
    shared: Arc<Mutex<Shared>>,
    stats: Arc<NetworkStats>,
    local_peer_id: PeerId,
    request_timeout: Duration,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// A cheap, cloneable handle on a running network (Send + Sync). The network task stops on
/// [`NetworkHandle::shutdown`] or when the last handle is dropped.
#[derive(Clone)]
pub struct NetworkHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for NetworkHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkHandle").field("local_peer_id", &self.inner.local_peer_id).finish()
    }
}

/// Entry point: starts a node's network.
#[derive(Debug)]
pub struct Network;

impl Network {
    /// Validates `config`, binds the listener, spawns the network task on the current tokio runtime and
    /// starts dialling the bootstrap peers. Returns once the listen address is known.
    pub async fn start(
        config: NetworkConfig,
    ) -> Result<(NetworkHandle, mpsc::Receiver<NetworkEvent>), NetworkError> {
        let (commands_tx, commands_rx) = mpsc::channel(COMMAND_CHANNEL_CAPACITY);
        let (events_tx, events_rx) = mpsc::channel(config.event_channel_capacity.max(1));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stats = Arc::new(NetworkStats::default());
        let local_peer_id = config.local_peer_id();
        let request_timeout = config.request_timeout;
        let service =
            crate::service::Service::new(config, commands_rx, events_tx, shared.clone(), stats.clone())
                .await?;
        let task = tokio::spawn(service.run());
        let handle = NetworkHandle {
            inner: Arc::new(Inner {
                commands: commands_tx,
                shared,
                stats,
                local_peer_id,
                request_timeout,
                task: Mutex::new(Some(task)),
            }),
        };
        Ok((handle, events_rx))
    }
}

impl NetworkHandle {
    fn send(&self, cmd: Command) -> Result<(), NetworkError> {
        self.inner.commands.try_send(cmd).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => NetworkError::Busy,
            mpsc::error::TrySendError::Closed(_) => NetworkError::Closed,
        })
    }

    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.inner.local_peer_id
    }

    /// The addresses the node listens on (the actual port when configured with port 0).
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        crate::handle::lock(&self.inner.shared).listen_addrs.clone()
    }

    /// The listen addresses with `/p2p/<local peer id>` appended: what other nodes put in `bootstrap`.
    pub fn dial_addrs(&self) -> Vec<Multiaddr> {
        self.listen_addrs().into_iter().map(|a| a.with(Protocol::P2p(self.inner.local_peer_id))).collect()
    }

    /// Peers with an established connection.
    pub fn peers(&self) -> Vec<PeerId> {
        lock(&self.inner.shared).peers.iter().copied().collect()
    }

    /// Connected peers subscribed to `topic` (a published message reaches them directly).
    pub fn topic_peers(&self, topic: Topic) -> Vec<PeerId> {
        lock(&self.inner.shared)
            .topic_peers
            .get(&topic)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The node's counters.
    pub fn stats(&self) -> Arc<NetworkStats> {
        self.inner.stats.clone()
    }

    /// Queues `data` for publication on `topic` without waiting. Fails at once if the payload is above the
    /// topic's limit or the command queue is full; later failures (no subscribed peer yet) are counted in
    /// [`NetworkStats`] as `publish_failures` — consensus tolerates loss through its timeouts.
    pub fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError> {
        let limit = topic.max_message_bytes();
        if data.len() > limit {
            return Err(NetworkError::MessageTooLarge { size: data.len(), limit });
        }
        self.send(Command::Publish { topic, data })
    }

    /// Reports the application's verdict on a gossip message received from `from`.
    pub fn validate(&self, id: MessageId, from: PeerId, validation: Validation) -> Result<(), NetworkError> {
        self.send(Command::Validate { id, from, validation })
    }

    /// Reports misbehaviour of `peer` (e.g. an invalid block in a sync response); enough of it bans the
    /// peer.
    pub fn report_peer(&self, peer: PeerId, misbehaviour: Misbehaviour) -> Result<(), NetworkError> {
        self.send(Command::Report { peer, misbehaviour })
    }

    /// Replaces the allow-list (after a validator-set change): connections to peers no longer on it are
    /// closed, and they are no longer dialled. At most [`crate::config::MAX_ALLOWED_PEERS`] entries.
    pub fn set_allowed_peers(&self, allowed: BTreeSet<PeerId>) -> Result<(), NetworkError> {
        if allowed.len() > crate::config::MAX_ALLOWED_PEERS {
            return Err(NetworkError::Config(format!(
                "allow-list of {} peers exceeds {}",
                allowed.len(),
                crate::config::MAX_ALLOWED_PEERS
            )));
        }
        self.send(Command::SetAllowedPeers(allowed))
    }

    /// Adds `/ip4/…/tcp/…/p2p/<peer id>` to the peers kept connected (dialled now, redialled when lost). The
    /// peer must be allow-listed; otherwise the address is ignored (and logged).
    pub fn dial(&self, addr: Multiaddr) -> Result<(), NetworkError> {
        let (peer, addr) = crate::config::split_p2p(&addr)
            .ok_or_else(|| NetworkError::Config(format!("address {addr} must end in /p2p/<peer id>")))?;
        self.send(Command::Dial { peer, addr })
    }

    /// Sends a sync request to a connected peer and waits for its response (bounded by the configured
    /// request timeout).
    pub async fn request(&self, peer: PeerId, request: SyncRequest) -> Result<SyncResponse, NetworkError> {
        request.validate()?;
        let (reply, rx) = oneshot::channel();
        self.send(Command::Request { peer, request, reply })?;
        let limit = self.inner.request_timeout + REQUEST_TIMEOUT_GRACE;
        match tokio::time::timeout(limit, rx).await {
            Err(_) => Err(NetworkError::Timeout(limit)),
            Ok(Err(_)) => Err(NetworkError::Closed),
            Ok(Ok(result)) => result,
        }
    }

    /// Stops the network task and waits until it has closed its listener and connections.
    pub async fn shutdown(&self) {
        let _ = self.inner.commands.send(Command::Shutdown).await;
        let task = self.inner.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
