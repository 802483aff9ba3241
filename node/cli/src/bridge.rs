//! Engine ↔ libp2p: the engine's [`purse_engine::Network`] trait implemented over a [`NetworkHandle`], and the
//! task that turns [`NetworkEvent`]s into engine inputs (gossip, after cheap stateless checks) and sync
//! answers (served from a [`BlockReader`] on the blocking pool).

use crate::snapshots::{SnapshotDir, CHUNK_RESPONSE_OVERHEAD};
use purse_engine::{EngineGauges, Inbound, InboxSender, NetMessage, ValidatorWatch};
use purse_network::{
    GossipMessage, NetworkEvent, NetworkHandle, SyncRequest, SyncResponder, SyncResponse, Topic, Validation,
};
use purse_state::KvStore;
use purse_storage::BlockReader;
use purse_types::{ChainId, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::TrySendError;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A gossiped consensus message this many heights below our committed height is ignored (not forwarded).
pub const STALE_HEIGHTS: u64 = 2;
/// Most sync requests answered at once (each reads blocks on a blocking thread). A request arriving while all
/// slots are busy is dropped unanswered; the asking peer's request times out and it asks another peer.
pub const MAX_CONCURRENT_SYNC_ANSWERS: usize = 4;

/// Counters of the bridge (they feed logs and `/metrics`).
#[derive(Debug, Default)]
pub struct BridgeStats {
    /// Engine messages the network refused to queue (command queue full, message too large).
    pub publish_failures: AtomicU64,
    /// Gossip accepted and delivered to the engine.
    pub delivered: AtomicU64,
    /// Gossip accepted but dropped because the engine inbox was full.
    pub inbox_drops: AtomicU64,
    /// Gossip rejected as provably invalid (the sender is penalised).
    pub rejected: AtomicU64,
    /// Gossip ignored (stale).
    pub ignored: AtomicU64,
    /// Sync requests answered.
    pub sync_served: AtomicU64,
    /// Sync requests dropped because every answer slot was busy.
    pub sync_dropped: AtomicU64,
}

/// A point-in-time copy of [`BridgeStats`]: (publish failures, delivered, inbox drops, rejected, ignored, sync
/// answers, sync requests dropped).
pub fn snapshot(s: &BridgeStats) -> [(&'static str, u64); 7] {
    let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
    [
        ("publish_failures", l(&s.publish_failures)),
        ("delivered", l(&s.delivered)),
        ("inbox_drops", l(&s.inbox_drops)),
        ("rejected", l(&s.rejected)),
        ("ignored", l(&s.ignored)),
        ("sync_served", l(&s.sync_served)),
        ("sync_dropped", l(&s.sync_dropped)),
    ]
}

fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// The engine's network: publishes on the libp2p gossip topics without ever blocking the engine thread.
pub struct Libp2pNetwork {
    handle: NetworkHandle,
    stats: Arc<BridgeStats>,
}

impl Libp2pNetwork {
    /// Publishes through `handle`, counting failures in `stats`.
    pub fn new(handle: NetworkHandle, stats: Arc<BridgeStats>) -> Libp2pNetwork {
        Libp2pNetwork { handle, stats }
    }
}

/// The gossip topic of an engine message.
pub fn topic_of(msg: &NetMessage) -> Topic {
    match msg {
        NetMessage::Tx(_) => Topic::Transactions,
        NetMessage::Proposal { .. } | NetMessage::Vote(_) => Topic::Consensus,
    }
}

impl purse_engine::Network for Libp2pNetwork {
    fn broadcast(&self, msg: &NetMessage) {
        // `publish` only queues (try_send): the engine thread never waits for the network.
        if let Err(e) = self.handle.publish(topic_of(msg), msg.encode()) {
            inc(&self.stats.publish_failures);
            tracing::debug!(error = %e, "publish failed");
        }
    }
}

/// Stateless checks of gossip before it reaches the engine.
pub struct GossipJudge {
    chain_id: ChainId,
    validators: Arc<ValidatorWatch>,
    gauges: Arc<EngineGauges>,
}

impl GossipJudge {
    /// Judges for `chain_id` with the committed validator schedule; `gauges` give the committed height
    /// (staleness).
    pub fn new(chain_id: ChainId, validators: Arc<ValidatorWatch>, gauges: Arc<EngineGauges>) -> GossipJudge {
        GossipJudge { chain_id, validators, gauges }
    }

    fn stale(&self, height: u64) -> bool {
        height.saturating_add(STALE_HEIGHTS) <= self.gauges.height.load(Ordering::Relaxed)
    }

    /// The verdict on a gossip payload, and the decoded message when it is accepted. Reject: undecodable,
    /// wrong chain, bad signature, not from a validator, or a proposal whose block is not the one it names;
    /// Ignore: consensus messages of long-decided heights; everything state-dependent is left to the engine.
    pub fn judge(&self, data: &[u8]) -> (Validation, Option<NetMessage>) {
        let Ok(msg) = NetMessage::decode(data) else { return (Validation::Reject, None) };
        let verdict = match &msg {
            NetMessage::Tx(tx) => {
                if tx.tx.chain_id != self.chain_id || tx.verify_signature().is_err() {
                    Validation::Reject
                } else {
                    Validation::Accept
                }
            }
            NetMessage::Vote(v) => {
                if !self.validators.is_known_validator(&v.vote.validator) || v.verify(&self.chain_id).is_err()
                {
                    Validation::Reject
                } else if self.stale(v.vote.height) {
                    Validation::Ignore
                } else {
                    Validation::Accept
                }
            }
            NetMessage::Proposal { proposal, block } => {
                let p = &proposal.proposal;
                if !self.validators.is_known_validator(&p.proposer)
                    || proposal.verify(&self.chain_id).is_err()
                    || block.id() != p.block_id
                    || block.header.height != p.height
                    || block.header.chain_id != self.chain_id
                {
                    Validation::Reject
                } else if self.stale(p.height) {
                    Validation::Ignore
                } else {
                    Validation::Accept
                }
            }
        };
        match verdict {
            Validation::Accept => (verdict, Some(msg)),
            other => (other, None),
        }
    }
}

/// Hands a gossip message to the engine: validation verdict to the network, the message to the inbox.
fn on_gossip(
    msg: GossipMessage,
    handle: &NetworkHandle,
    judge: &GossipJudge,
    inbox: &InboxSender,
    stats: &BridgeStats,
) {
    let (validation, decoded) = judge.judge(&msg.data);
    match validation {
        Validation::Reject => {
            inc(&stats.rejected);
            tracing::debug!(peer = %msg.from, topic = ?msg.topic, "rejected gossip");
        }
        Validation::Ignore => inc(&stats.ignored),
        Validation::Accept => {}
    }
    if let Err(e) = handle.validate(msg.id, msg.from, validation) {
        tracing::debug!(error = %e, "could not report gossip validation");
    }
    if let Some(m) = decoded {
        match inbox.try_send(Inbound::Net(m)) {
            Ok(()) => inc(&stats.delivered),
            Err(TrySendError::Full(_)) => inc(&stats.inbox_drops),
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// Bytes a `Blocks` response adds per block besides the block itself (borsh length prefix).
const BLOCK_ENTRY_OVERHEAD: usize = 4;
/// Bytes of a `Blocks` response besides its entries (enum tag + vector length).
const BLOCKS_RESPONSE_OVERHEAD: usize = 1 + 4;

/// The encoded `SyncedBlock { block, certificate }` at `height`: borsh of a struct is its fields' encodings
/// in order, so the stored block and certificate bytes are concatenated without decoding.
pub fn synced_block_bytes<S: KvStore>(reader: &BlockReader<S>, height: u64) -> Option<Vec<u8>> {
    if height == 0 {
        return None;
    }
    let block = reader.block(height).ok()??;
    let cert = reader.certificate(height).ok()??;
    let mut out = Vec::with_capacity(block.len() + cert.len());
    out.extend_from_slice(&block);
    out.extend_from_slice(&cert);
    Some(out)
}

/// The answer to a sync request, built within `max_bytes` (the responder's limit); snapshots come from
/// `snapshots` when this node serves them.
pub fn answer<S: KvStore>(
    reader: &BlockReader<S>,
    snapshots: Option<&SnapshotDir>,
    request: &SyncRequest,
    max_bytes: usize,
) -> SyncResponse {
    match *request {
        SyncRequest::Status => match reader.head() {
            Ok(Some(h)) => SyncResponse::Status { height: h.height, hash: h.block_hash },
            Ok(None) => SyncResponse::Status { height: 0, hash: Hash::ZERO },
            Err(e) => {
                tracing::warn!(error = %e, "sync: cannot read the head");
                SyncResponse::Unavailable
            }
        },
        SyncRequest::Blocks { from, to } => {
            let head = match reader.head() {
                Ok(Some(h)) => h.height,
                _ => return SyncResponse::Unavailable,
            };
            let mut size = BLOCKS_RESPONSE_OVERHEAD;
            let mut blocks = Vec::new();
            for h in from.max(1)..=to.min(head) {
                let Some(bytes) = synced_block_bytes(reader, h) else { break };
                if size + BLOCK_ENTRY_OVERHEAD + bytes.len() > max_bytes {
                    break;
                }
                size += BLOCK_ENTRY_OVERHEAD + bytes.len();
                blocks.push(bytes);
            }
            if blocks.is_empty() && from <= head {
                SyncResponse::Unavailable
            } else {
                SyncResponse::Blocks(blocks)
            }
        }
        SyncRequest::Snapshots => {
            SyncResponse::Snapshots(snapshots.map(SnapshotDir::heights).unwrap_or_default())
        }
        SyncRequest::Snapshot { height, chunk } => {
            let chunk_bytes = purse_network::config::MAX_SNAPSHOT_CHUNK_BYTES
                .min(max_bytes.saturating_sub(CHUNK_RESPONSE_OVERHEAD));
            match snapshots.and_then(|d| d.chunk(height, chunk, chunk_bytes)) {
                Some((total_chunks, data)) => {
                    SyncResponse::SnapshotChunk { height, chunk, total_chunks, data }
                }
                None => SyncResponse::Unavailable,
            }
        }
    }
}

fn serve<S: KvStore>(
    reader: &BlockReader<S>,
    snapshots: Option<&SnapshotDir>,
    request: SyncRequest,
    responder: SyncResponder,
    stats: &BridgeStats,
) {
    let response = answer(reader, snapshots, &request, responder.max_response_bytes());
    match responder.respond(response) {
        Ok(()) => inc(&stats.sync_served),
        Err(e) => tracing::debug!(error = %e, ?request, "sync answer not sent"),
    }
}

/// Everything the network-event task needs.
pub struct EventLoop<S> {
    /// The network.
    pub handle: NetworkHandle,
    /// Gossip checks.
    pub judge: GossipJudge,
    /// The engine's inbox.
    pub inbox: InboxSender,
    /// Committed blocks, for serving sync.
    pub reader: BlockReader<S>,
    /// State snapshots served for state sync (`None`: this node serves none).
    pub snapshots: Option<SnapshotDir>,
    /// Counters.
    pub stats: Arc<BridgeStats>,
    /// Slots for sync answers in flight ([`MAX_CONCURRENT_SYNC_ANSWERS`]).
    pub answer_slots: Arc<tokio::sync::Semaphore>,
}

impl<S: KvStore + Clone + Send + Sync + 'static> EventLoop<S> {
    /// Runs until the network's event channel closes (network shut down).
    pub async fn run(self, mut events: mpsc::Receiver<NetworkEvent>) {
        while let Some(event) = events.recv().await {
            match event {
                NetworkEvent::Gossip(msg) => {
                    on_gossip(msg, &self.handle, &self.judge, &self.inbox, &self.stats)
                }
                NetworkEvent::SyncRequest { peer, request, responder } => {
                    tracing::trace!(%peer, ?request, "sync request");
                    let Ok(slot) = self.answer_slots.clone().try_acquire_owned() else {
                        inc(&self.stats.sync_dropped);
                        tracing::debug!(%peer, ?request, "sync request dropped: every answer slot is busy");
                        continue;
                    };
                    let reader = self.reader.clone();
                    let snapshots = self.snapshots.clone();
                    let stats = self.stats.clone();
                    // Detached on purpose: the task owns its slot and the responder, and ends on its own.
                    drop(tokio::task::spawn_blocking(move || {
                        serve(&reader, snapshots.as_ref(), request, responder, &stats);
                        drop(slot);
                    }));
                }
                NetworkEvent::PeerConnected(peer) => tracing::info!(%peer, "peer connected"),
                NetworkEvent::PeerDisconnected(peer) => tracing::info!(%peer, "peer disconnected"),
                NetworkEvent::PeerBanned { peer, duration } => {
                    tracing::warn!(%peer, ?duration, "peer banned for misbehaviour")
                }
            }
        }
        tracing::debug!("network event stream ended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use purse_runtime::schema::ValidatorSchedule;
    use purse_types::{
        Amount, Keypair, Payload, SignedVote, Transaction, Validator, ValidatorSet, Vote, VoteKind,
    };

    fn set(keys: &[&Keypair]) -> ValidatorSet {
        ValidatorSet::new(keys.iter().map(|k| Validator { public_key: k.public(), power: 10 }).collect())
            .unwrap()
    }

    fn vote(key: &Keypair, chain: &ChainId, height: u64) -> SignedVote {
        Vote { height, round: 0, kind: VoteKind::Prevote, block_id: None, validator: key.public() }
            .sign(chain, key)
    }

    #[test]
    fn judge_votes_and_txs() {
        let chain = ChainId::new("purse-test").unwrap();
        let other = ChainId::new("other").unwrap();
        let v = Keypair::from_seed(&[1; 32]);
        let outsider = Keypair::from_seed(&[2; 32]);
        let gauges = Arc::new(EngineGauges::default());
        let watch = Arc::new(ValidatorWatch::new(0, ValidatorSchedule { entries: vec![(0, set(&[&v]))] }));
        let judge = GossipJudge::new(chain.clone(), watch, gauges.clone());
        let ok = NetMessage::Vote(vote(&v, &chain, 5)).encode();
        assert_eq!(judge.judge(&ok).0, Validation::Accept);
        assert!(judge.judge(&ok).1.is_some());
        assert_eq!(judge.judge(&NetMessage::Vote(vote(&v, &other, 5)).encode()).0, Validation::Reject);
        assert_eq!(judge.judge(&NetMessage::Vote(vote(&outsider, &chain, 5)).encode()).0, Validation::Reject);
        assert_eq!(judge.judge(b"garbage").0, Validation::Reject);
        gauges.height.store(10, Ordering::Relaxed);
        assert_eq!(judge.judge(&ok).0, Validation::Ignore);

        let tx = Transaction {
            chain_id: chain.clone(),
            sender: outsider.public().address(),
            nonce: 0,
            expiry_height: u64::MAX,
            max_fee: Amount(10),
            payload: Payload::Transfer {
                to: v.public().address(),
                coin: purse_types::Coin { asset: purse_types::AssetId::native(), amount: Amount(1) },
            },
        };
        let signed = tx.clone().sign(&outsider);
        assert_eq!(judge.judge(&NetMessage::Tx(Box::new(signed.clone())).encode()).0, Validation::Accept);
        let mut forged = signed;
        forged.public_key = v.public();
        assert_eq!(judge.judge(&NetMessage::Tx(Box::new(forged)).encode()).0, Validation::Reject);
        let mut wrong = tx;
        wrong.chain_id = other;
        assert_eq!(
            judge.judge(&NetMessage::Tx(Box::new(wrong.sign(&outsider))).encode()).0,
            Validation::Reject
        );
    }

    #[test]
    fn empty_store_answers_status_zero_and_no_blocks() {
        let reader = BlockReader::new(Arc::new(purse_state::MemoryStore::default()));
        assert_eq!(
            answer(&reader, None, &SyncRequest::Status, 1 << 20),
            SyncResponse::Status { height: 0, hash: Hash::ZERO }
        );
        assert_eq!(
            answer(&reader, None, &SyncRequest::Blocks { from: 1, to: 3 }, 1 << 20),
            SyncResponse::Unavailable
        );
        assert_eq!(
            answer(&reader, None, &SyncRequest::Snapshot { height: 1, chunk: 0 }, 1 << 20),
            SyncResponse::Unavailable
        );
        assert_eq!(answer(&reader, None, &SyncRequest::Snapshots, 1 << 20), SyncResponse::Snapshots(vec![]));
    }

    #[test]
    fn snapshots_are_listed_and_served_in_chunks_that_reassemble() {
        let reader = BlockReader::new(Arc::new(purse_state::MemoryStore::default()));
        let tmp = tempfile::tempdir().unwrap();
        let dir = SnapshotDir::new(tmp.path().to_path_buf());
        let content: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        for h in [100u64, 200, 300] {
            std::fs::write(dir.path(h), &content).unwrap();
        }
        std::fs::write(tmp.path().join("00000000000000000400.partial"), b"incomplete").unwrap();
        assert_eq!(
            answer(&reader, Some(&dir), &SyncRequest::Snapshots, 1 << 20),
            SyncResponse::Snapshots(vec![100, 200, 300])
        );
        // A responder limit of 64 + 300 bytes gives 300-byte chunks: 4 of them.
        let limit = CHUNK_RESPONSE_OVERHEAD + 300;
        let mut joined = Vec::new();
        for chunk in 0..4 {
            match answer(&reader, Some(&dir), &SyncRequest::Snapshot { height: 200, chunk }, limit) {
                SyncResponse::SnapshotChunk { total_chunks: 4, data, .. } => joined.extend(data),
                other => panic!("chunk {chunk}: {other:?}"),
            }
        }
        assert_eq!(joined, content);
        assert_eq!(
            answer(&reader, Some(&dir), &SyncRequest::Snapshot { height: 200, chunk: 4 }, limit),
            SyncResponse::Unavailable
        );
        assert_eq!(
            answer(&reader, Some(&dir), &SyncRequest::Snapshot { height: 250, chunk: 0 }, limit),
            SyncResponse::Unavailable
        );
        dir.prune(1);
        assert_eq!(dir.heights(), vec![300]);
    }
}
