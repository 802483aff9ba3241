//! The engine's view of the network: a trait to send, a bounded inbox to receive. The libp2p node and the
//! in-process hub below both implement it.

use crate::wire::NetMessage;
use purse_types::SignedTransaction;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

/// Capacity of each engine's inbox. Senders never block: a full inbox drops the message and counts it.
pub const INBOX_CAPACITY: usize = 65_536;

/// Something delivered to an engine.
pub enum Inbound {
    /// A message from a peer (already decoded; signatures not yet verified).
    Net(NetMessage),
    /// A transaction submitted locally (RPC, scenario driver): admitted by the pending-transaction validator
    /// and, unless invalid, gossiped. `reply` receives the verdict.
    Submit {
        /// The transaction.
        tx: SignedTransaction,
        /// Called once with the admission verdict.
        reply: Option<Reply>,
    },
    /// Judge a transaction against committed + pending state without admitting it (the RPC's validate).
    Check {
        /// The transaction.
        tx: SignedTransaction,
        /// Called once with the verdict.
        reply: Reply,
    },
    /// Stop the engine.
    Stop,
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inbound::Net(m) => f.debug_tuple("Net").field(m).finish(),
            Inbound::Submit { tx, reply } => {
                f.debug_struct("Submit").field("tx", &tx.id()).field("reply", &reply.is_some()).finish()
            }
            Inbound::Check { tx, .. } => f.debug_struct("Check").field("tx", &tx.id()).finish(),
            Inbound::Stop => f.write_str("Stop"),
        }
    }
}

/// Receives a verdict from the engine thread (e.g. completes an RPC request's oneshot channel).
pub type Reply = Box<dyn FnOnce(purse_mempool::Verdict) + Send>;

/// Sends messages to the other validators.
pub trait Network: Send {
    /// Sends `msg` to every peer (best effort; consensus tolerates loss through timeouts and round changes).
    fn broadcast(&self, msg: &NetMessage);
}

/// An in-process network of engines: each has a bounded inbox; broadcast delivers to all others.
#[derive(Clone, Default)]
pub struct Hub {
    inner: Arc<HubInner>,
}

#[derive(Default)]
struct HubInner {
    peers: Mutex<Vec<SyncSender<Inbound>>>,
    dropped: AtomicU64,
}

impl Hub {
    /// An empty hub.
    pub fn new() -> Hub {
        Hub::default()
    }

    /// Adds a node; returns its endpoint (to give the engine) and its inbox receiver.
    pub fn join(&self) -> (HubEndpoint, SyncSender<Inbound>, Receiver<Inbound>) {
        let (tx, rx) = sync_channel(INBOX_CAPACITY);
        let mut peers = self.inner.peers.lock().unwrap_or_else(|e| e.into_inner());
        let index = peers.len();
        peers.push(tx.clone());
        (HubEndpoint { hub: self.clone(), index }, tx, rx)
    }

    /// Messages dropped because an inbox was full (or its engine gone).
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }
}

/// One node's handle on the hub.
#[derive(Clone)]
pub struct HubEndpoint {
    hub: Hub,
    index: usize,
}

impl Network for HubEndpoint {
    fn broadcast(&self, msg: &NetMessage) {
        let peers = self.hub.inner.peers.lock().unwrap_or_else(|e| e.into_inner());
        for (i, p) in peers.iter().enumerate() {
            if i == self.index {
                continue;
            }
            // Each receiver gets its own copy, as over a real network.
            match p.try_send(Inbound::Net(msg.clone())) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                    self.hub.inner.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}
