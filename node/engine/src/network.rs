//! The engine's view of the network: a trait to send, a bounded inbox to receive. The libp2p node and the
//! in-process hub below both implement it.

use crate::inbox::{inbox, InboxReceiver, InboxSender};
use crate::wire::{NetMessage, SyncedBlock};
use purse_types::{Address, Evidence, Hash, SignedTransaction, StateProof, TxId};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::TrySendError;
use std::sync::{Arc, Mutex};

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
    /// A committed block fetched by block sync: committed if it is the next height and its certificate and
    /// re-execution check out; ignored otherwise.
    SyncedBlock(Box<SyncedBlock>),
    /// Run a read on the engine thread (RPC reads of the pool, proofs, evidence).
    Read(ReadFn),
    /// Stop the engine.
    Stop,
}

/// A read run on the engine thread between inputs.
pub type ReadFn = Box<dyn FnOnce(&dyn EngineRead) + Send>;

/// A pooled transaction, as the pool sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingTx {
    /// Sender.
    pub sender: Address,
    /// Nonce.
    pub nonce: u64,
    /// Waiting for a nonce gap to fill (not yet executable).
    pub queued: bool,
}

/// A state value with its proof against the root of the last committed block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofAnswer {
    /// The value, or `None` (the proof then proves absence).
    pub value: Option<Vec<u8>>,
    /// Merkle proof.
    pub proof: StateProof,
    /// Height of the state proven.
    pub height: u64,
    /// State root at that height.
    pub root: Hash,
}

/// What an engine answers about itself (see [`Inbound::Read`]).
pub trait EngineRead {
    /// Height of the last committed block.
    fn committed_height(&self) -> u64;
    /// Consensus round of the height being decided.
    fn round(&self) -> u32;
    /// Transactions in the pending-transaction validator.
    fn pool_len(&self) -> usize;
    /// A pooled transaction.
    fn pool_tx(&self, id: &TxId) -> Option<PendingTx>;
    /// The sender's next nonce counting pooled transactions (`None`: no such account).
    fn next_nonce(&self, address: &Address) -> Option<u64>;
    /// A state value with a proof against the last committed state root.
    fn proof(&self, key: &[u8]) -> Result<ProofAnswer, String>;
    /// Misbehaviour evidence seen and not yet included in a block.
    fn evidence(&self) -> Vec<Evidence>;
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inbound::Net(m) => f.debug_tuple("Net").field(m).finish(),
            Inbound::Submit { tx, reply } => {
                f.debug_struct("Submit").field("tx", &tx.id()).field("reply", &reply.is_some()).finish()
            }
            Inbound::Check { tx, .. } => f.debug_struct("Check").field("tx", &tx.id()).finish(),
            Inbound::SyncedBlock(b) => f.debug_tuple("SyncedBlock").field(&b.block.header.height).finish(),
            Inbound::Read(_) => f.write_str("Read"),
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
    peers: Mutex<Vec<InboxSender>>,
    dropped: AtomicU64,
}

impl Hub {
    /// An empty hub.
    pub fn new() -> Hub {
        Hub::default()
    }

    /// Adds a node; returns its endpoint (to give the engine) and its inbox receiver.
    pub fn join(&self) -> (HubEndpoint, InboxSender, InboxReceiver) {
        let (tx, rx) = inbox();
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
