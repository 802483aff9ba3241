//! Multi-node tests on 127.0.0.1: mesh gossip, application validation, permissioning, block sync, redial after
//! restart, bans.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use purse_network::identity::{libp2p_keypair, peer_id_from_public};
use purse_network::{
    GossipMessage, Misbehaviour, Multiaddr, Network, NetworkConfig, NetworkError, NetworkEvent,
    NetworkHandle, PeerId, ScoringConfig, SyncRequest, SyncResponder, SyncResponse, Topic, Validation,
};
use purse_types::{ChainId, Hash};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{timeout, Instant};

const WAIT: Duration = Duration::from_secs(15);

fn key(i: u8) -> purse_types::Keypair {
    purse_types::Keypair::from_seed(&[i; 32])
}

fn peer(i: u8) -> PeerId {
    peer_id_from_public(&key(i).public()).unwrap()
}

fn localhost() -> Multiaddr {
    "/ip4/127.0.0.1/tcp/0".parse().unwrap()
}

fn config(i: u8, allowed: &[u8], bootstrap: &[&Node]) -> NetworkConfig {
    let mut c = NetworkConfig::new(
        ChainId::new("purse-net-test").unwrap(),
        libp2p_keypair(&key(i)).unwrap(),
        localhost(),
    );
    c.allowed_peers = allowed.iter().map(|j| peer(*j)).collect();
    c.bootstrap = bootstrap.iter().map(|n| n.handle.dial_addrs()[0].clone()).collect();
    c.gossip_heartbeat = Duration::from_millis(100);
    c.redial_backoff_initial = Duration::from_millis(100);
    c.redial_backoff_max = Duration::from_millis(400);
    c.request_timeout = Duration::from_secs(5);
    c
}

type Policy = Arc<dyn Fn(&GossipMessage) -> Validation + Send + Sync>;
type SyncHandler = Arc<dyn Fn(SyncRequest, SyncResponder) + Send + Sync>;

/// A node plus a stand-in application: validates gossip with `policy`, answers sync requests with `sync`, and
/// forwards what it saw to the test.
struct Node {
    handle: NetworkHandle,
    gossip: mpsc::UnboundedReceiver<(GossipMessage, Validation)>,
    peer_events: mpsc::UnboundedReceiver<NetworkEvent>,
    app: JoinHandle<()>,
}

fn accept_all() -> Policy {
    Arc::new(|_| Validation::Accept)
}

fn no_sync() -> SyncHandler {
    Arc::new(|_, r| drop(r))
}

async fn start(cfg: NetworkConfig, policy: Policy, sync: SyncHandler) -> Node {
    let (handle, mut events) = Network::start(cfg).await.unwrap();
    let (gossip_tx, gossip) = mpsc::unbounded_channel();
    let (peer_tx, peer_events) = mpsc::unbounded_channel();
    let h = handle.clone();
    let app = tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            match ev {
                NetworkEvent::Gossip(m) => {
                    let v = policy(&m);
                    h.validate(m.id, m.from, v).unwrap();
                    let _ = gossip_tx.send((m, v));
                }
                NetworkEvent::SyncRequest { request, responder, .. } => sync(request, responder),
                other => {
                    let _ = peer_tx.send(other);
                }
            }
        }
    });
    Node { handle, gossip, peer_events, app }
}

impl Node {
    async fn stop(self) {
        self.handle.shutdown().await;
        self.app.abort();
        let _ = self.app.await;
    }

    /// Waits for a gossip message with the given payload; panics on timeout.
    async fn expect_gossip(&mut self, data: &[u8]) -> GossipMessage {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, self.gossip.recv()).await {
                Ok(Some((m, _))) if m.data == data => return m,
                Ok(Some(_)) => continue,
                _ => panic!(
                    "{} never received {:?}",
                    self.handle.local_peer_id(),
                    String::from_utf8_lossy(data)
                ),
            }
        }
    }
}

/// Polls `f` until it holds; panics with `what` after `WAIT`.
async fn wait_until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_subscribed(n: &Node, peers: &[PeerId]) {
    for t in Topic::ALL {
        wait_until("topic subscriptions", || peers.iter().all(|p| n.handle.topic_peers(t).contains(p))).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_nodes_form_a_mesh_and_gossip_reaches_everyone() {
    let all = [1, 2, 3, 4];
    let mut nodes: Vec<Node> = Vec::new();
    for i in all {
        let cfg = config(i, &all, &nodes.iter().collect::<Vec<_>>());
        nodes.push(start(cfg, accept_all(), no_sync()).await);
    }
    for (i, n) in nodes.iter().enumerate() {
        let others: Vec<PeerId> = all.iter().filter(|j| **j as usize != i + 1).map(|j| peer(*j)).collect();
        wait_subscribed(n, &others).await;
        assert_eq!(n.handle.peers().len(), 3);
    }

    nodes[0].handle.publish(Topic::Consensus, b"proposal-1".to_vec()).unwrap();
    for n in nodes.iter_mut().skip(1) {
        let m = n.expect_gossip(b"proposal-1").await;
        assert_eq!(m.topic, Topic::Consensus);
        assert_eq!(m.source, Some(peer(1)));
    }
    nodes[2].handle.publish(Topic::Transactions, b"tx-1".to_vec()).unwrap();
    for (i, n) in nodes.iter_mut().enumerate() {
        if i != 2 {
            assert_eq!(n.expect_gossip(b"tx-1").await.topic, Topic::Transactions);
        }
    }

    // Large payloads: a maximal transaction message, and a 2 MiB proposal (gossipsub's default frame limit is
    // 64 KiB; ours follow the topic limits).
    let max_tx = vec![7u8; Topic::Transactions.max_message_bytes()];
    nodes[1].handle.publish(Topic::Transactions, max_tx.clone()).unwrap();
    let big_proposal: Vec<u8> = (0..2 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    nodes[1].handle.publish(Topic::Consensus, big_proposal.clone()).unwrap();
    for (i, n) in nodes.iter_mut().enumerate() {
        if i != 1 {
            n.expect_gossip(&max_tx).await;
            n.expect_gossip(&big_proposal).await;
        }
    }

    // Message ids are content hashes: republishing content a node has already seen is a duplicate, dropped.
    let before = nodes[1].handle.stats().snapshot().publish_failures;
    nodes[1].handle.publish(Topic::Consensus, b"proposal-1".to_vec()).unwrap();
    wait_until("duplicate refused", || nodes[1].handle.stats().snapshot().publish_failures > before).await;

    // Over the topic limit: refused at once.
    let big = vec![0u8; Topic::Transactions.max_message_bytes() + 1];
    assert!(matches!(
        nodes[0].handle.publish(Topic::Transactions, big),
        Err(NetworkError::MessageTooLarge { .. })
    ));

    // Nothing was delivered twice.
    nodes[3].handle.publish(Topic::Consensus, b"marker".to_vec()).unwrap();
    let m = nodes[0].expect_gossip(b"marker").await;
    assert_eq!(m.topic, Topic::Consensus);
    assert!(nodes[0].gossip.try_recv().is_err());
    for n in &nodes {
        assert_eq!(n.handle.stats().snapshot().dropped_inbound_gossip, 0);
    }
    for n in nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_gossip_is_not_forwarded() {
    // A line: A — B — C. B's application rejects messages starting with "bad".
    let all = [11, 12, 13];
    let reject_bad: Policy =
        Arc::new(|m| if m.data.starts_with(b"bad") { Validation::Reject } else { Validation::Accept });
    let b = start(config(12, &all, &[]), reject_bad, no_sync()).await;
    let a = start(config(11, &all, &[&b]), accept_all(), no_sync()).await;
    // C joins through `dial` rather than its bootstrap list.
    let mut c = start(config(13, &all, &[]), accept_all(), no_sync()).await;
    c.handle.dial(b.handle.dial_addrs()[0].clone()).unwrap();
    wait_subscribed(&b, &[peer(11), peer(13)]).await;
    wait_subscribed(&a, &[peer(12)]).await;
    wait_subscribed(&c, &[peer(12)]).await;
    assert!(!a.handle.peers().contains(&peer(13)), "A and C are not directly connected");

    // Wait for B's mesh to include C: retry distinct good messages until one arrives through B.
    let mut k = 0;
    loop {
        a.handle.publish(Topic::Transactions, format!("good-{k}").into_bytes()).unwrap();
        match timeout(Duration::from_millis(500), c.gossip.recv()).await {
            Ok(Some((m, _))) => {
                assert!(m.data.starts_with(b"good-"));
                assert_eq!(m.from, peer(12), "forwarded by B");
                assert_eq!(m.source, Some(peer(11)), "authored by A");
                break;
            }
            _ => {
                k += 1;
                assert!(k < 30, "B never forwarded to C");
            }
        }
    }
    while c.gossip.try_recv().is_ok() {}

    a.handle.publish(Topic::Transactions, b"bad-1".to_vec()).unwrap();
    a.handle.publish(Topic::Transactions, b"good-final".to_vec()).unwrap();
    let m = c.expect_gossip(b"good-final").await;
    assert_eq!(m.from, peer(12));
    // B validated "bad-1" before "good-final"; it was never forwarded.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok((m, _)) = c.gossip.try_recv() {
        assert!(!m.data.starts_with(b"bad"), "rejected message was forwarded");
    }
    let s = b.handle.stats().snapshot();
    assert_eq!(s.rejected_messages, 1);
    assert_eq!(s.penalties, 1);
    assert_eq!(s.bans, 0, "one invalid message does not ban");
    for n in [a, b, c] {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outsider_cannot_connect_or_inject() {
    let members = [21, 22];
    let mut a = start(config(21, &members, &[]), accept_all(), no_sync()).await;
    let mut b = start(config(22, &members, &[&a]), accept_all(), no_sync()).await;
    wait_subscribed(&a, &[peer(22)]).await;

    // A valid node with a key not on the allow-list, which itself allows and dials A and B.
    let outsider = start(config(99, &[21, 22, 99], &[&a, &b]), accept_all(), no_sync()).await;
    wait_until("A refuses the outsider", || a.handle.stats().snapshot().rejected_connections >= 1).await;
    wait_until("B refuses the outsider", || b.handle.stats().snapshot().rejected_connections >= 1).await;

    for k in 0..10 {
        let _ = outsider.handle.publish(Topic::Consensus, format!("inject-{k}").into_bytes());
        assert!(!a.handle.peers().contains(&peer(99)));
        assert!(!b.handle.peers().contains(&peer(99)));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Members still talk; the outsider's messages never arrived.
    a.handle.publish(Topic::Consensus, b"member".to_vec()).unwrap();
    let m = b.expect_gossip(b"member").await;
    assert_eq!(m.source, Some(peer(21)));
    b.handle.publish(Topic::Consensus, b"member-2".to_vec()).unwrap();
    a.expect_gossip(b"member-2").await;
    for n in [&mut a, &mut b] {
        while let Ok((m, _)) = n.gossip.try_recv() {
            assert!(!m.data.starts_with(b"inject"), "outsider injected a message");
            assert_ne!(m.source, Some(peer(99)));
        }
        assert!(n.handle.topic_peers(Topic::Consensus).iter().all(|p| *p != peer(99)));
    }
    assert!(outsider.handle.topic_peers(Topic::Consensus).is_empty());

    // Admitting the outsider at run time (validator-set change) lets it in; removing it again drops it.
    let with_outsider: std::collections::BTreeSet<PeerId> = [peer(21), peer(22), peer(99)].into();
    a.handle.set_allowed_peers(with_outsider.clone()).unwrap();
    b.handle.set_allowed_peers(with_outsider).unwrap();
    wait_until("outsider admitted", || a.handle.peers().contains(&peer(99))).await;
    a.handle.set_allowed_peers([peer(21), peer(22)].into()).unwrap();
    wait_until("outsider dropped", || !a.handle.peers().contains(&peer(99))).await;
    assert!(a.handle.dial("/ip4/127.0.0.1/tcp/1".parse().unwrap()).is_err(), "dial needs a peer id");

    // Members never dial a peer that is not allow-listed: such a bootstrap entry is a configuration error.
    let bad = config(21, &members, &[&outsider]);
    assert!(matches!(Network::start(bad).await, Err(NetworkError::Config(_))));
    let mut no_id = config(21, &members, &[]);
    no_id.bootstrap = vec!["/ip4/127.0.0.1/tcp/1".parse().unwrap()];
    assert!(matches!(Network::start(no_id).await, Err(NetworkError::Config(_))));

    for n in [a, b, outsider] {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_sync_round_trip_and_limits() {
    let members = [31, 32];
    // B serves; A asks and accepts responses of at most 64 KiB; B may send at most 1 MiB.
    let (too_large_tx, mut too_large) = mpsc::unbounded_channel();
    let serve: SyncHandler = Arc::new(move |req, responder: SyncResponder| {
        let resp = match req {
            SyncRequest::Status => SyncResponse::Status { height: 42, hash: Hash([7; 32]) },
            SyncRequest::Blocks { from: 1000, .. } => SyncResponse::Blocks(vec![vec![1; 100 * 1024]]),
            SyncRequest::Blocks { from: 2000, .. } => SyncResponse::Blocks(vec![vec![2; 2 * 1024 * 1024]]),
            SyncRequest::Blocks { from: 3000, .. } => SyncResponse::Status { height: 1, hash: Hash::ZERO },
            SyncRequest::Blocks { from, to } => {
                SyncResponse::Blocks((from..=to).map(|h| h.to_le_bytes().to_vec()).collect())
            }
            SyncRequest::Snapshot { height: 7, .. } => return drop(responder),
            SyncRequest::Snapshots => SyncResponse::Snapshots(vec![100, 200]),
            SyncRequest::Snapshot { height, chunk } => {
                SyncResponse::SnapshotChunk { height, chunk, total_chunks: 4, data: vec![chunk as u8; 1000] }
            }
        };
        if let Err(e) = responder.respond(resp) {
            let _ = too_large_tx.send(e);
        }
    });
    let mut b_cfg = config(32, &members, &[]);
    b_cfg.max_sync_response_bytes = 1024 * 1024;
    let b = start(b_cfg, accept_all(), serve).await;
    let mut a_cfg = config(31, &members, &[&b]);
    a_cfg.max_sync_response_bytes = 64 * 1024;
    let a = start(a_cfg, accept_all(), no_sync()).await;
    wait_until("connected", || a.handle.peers().contains(&peer(32))).await;
    let pb = peer(32);

    assert_eq!(
        a.handle.request(pb, SyncRequest::Status).await.unwrap(),
        SyncResponse::Status { height: 42, hash: Hash([7; 32]) }
    );
    assert_eq!(
        a.handle.request(pb, SyncRequest::Blocks { from: 5, to: 9 }).await.unwrap(),
        SyncResponse::Blocks((5u64..=9).map(|h| h.to_le_bytes().to_vec()).collect())
    );
    assert_eq!(
        a.handle.request(pb, SyncRequest::Snapshot { height: 100, chunk: 2 }).await.unwrap(),
        SyncResponse::SnapshotChunk { height: 100, chunk: 2, total_chunks: 4, data: vec![2; 1000] }
    );
    assert_eq!(
        a.handle.request(pb, SyncRequest::Snapshots).await.unwrap(),
        SyncResponse::Snapshots(vec![100, 200])
    );
    // B's answer is within B's limit but above A's: A's read fails with an error.
    let e = a.handle.request(pb, SyncRequest::Blocks { from: 1000, to: 1000 }).await.unwrap_err();
    assert!(matches!(e, NetworkError::RequestFailed(_)), "{e:?}");
    // B's application builds a response above B's limit: B refuses to send it, A gets Unavailable.
    assert_eq!(
        a.handle.request(pb, SyncRequest::Blocks { from: 2000, to: 2000 }).await.unwrap(),
        SyncResponse::Unavailable
    );
    assert!(matches!(too_large.recv().await, Some(NetworkError::ResponseTooLarge { .. })));
    assert_eq!(b.handle.stats().snapshot().oversized_responses, 1);
    // An unanswered request is Unavailable, not a hang.
    assert_eq!(
        a.handle.request(pb, SyncRequest::Snapshot { height: 7, chunk: 0 }).await.unwrap(),
        SyncResponse::Unavailable
    );
    // A response that does not answer the request is an error, and the responder is penalised.
    let e = a.handle.request(pb, SyncRequest::Blocks { from: 3000, to: 3000 }).await.unwrap_err();
    assert!(matches!(e, NetworkError::InvalidResponse { .. }), "{e:?}");
    assert_eq!(a.handle.stats().snapshot().penalties, 1);
    // Malformed requests never leave the node.
    let e = a.handle.request(pb, SyncRequest::Blocks { from: 10, to: 5 }).await.unwrap_err();
    assert!(matches!(e, NetworkError::InvalidRequest(_)));
    let e = a.handle.request(pb, SyncRequest::Blocks { from: 0, to: 1_000_000 }).await.unwrap_err();
    assert!(matches!(e, NetworkError::InvalidRequest(_)));
    // Unknown peer.
    let e = a.handle.request(peer(77), SyncRequest::Status).await.unwrap_err();
    assert!(matches!(e, NetworkError::NotConnected(_)));
    // Both still connected, and still serving.
    assert!(a.handle.peers().contains(&pb));
    assert!(matches!(a.handle.request(pb, SyncRequest::Status).await, Ok(SyncResponse::Status { .. })));
    assert!(b.handle.stats().snapshot().sync_requests_served >= 6);

    // Disconnected peer.
    b.stop().await;
    wait_until("A sees B gone", || a.handle.peers().is_empty()).await;
    let e = a.handle.request(pb, SyncRequest::Status).await.unwrap_err();
    assert!(matches!(e, NetworkError::NotConnected(_)));
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_node_is_redialled_and_gets_gossip_again() {
    let members = [41, 42];
    let b = start(config(42, &members, &[]), accept_all(), no_sync()).await;
    let b_addr = b.handle.listen_addrs()[0].clone();
    let mut a = start(config(41, &members, &[&b]), accept_all(), no_sync()).await;
    wait_subscribed(&a, &[peer(42)]).await;
    wait_subscribed(&b, &[peer(41)]).await;
    let mut b = b;
    a.handle.publish(Topic::Consensus, b"before".to_vec()).unwrap();
    b.expect_gossip(b"before").await;

    // A second node cannot take the port of a running one.
    let mut clash = config(43, &members, &[]);
    clash.listen_addr = b_addr.clone();
    assert!(matches!(Network::start(clash).await, Err(NetworkError::Transport(_))));

    b.stop().await;
    wait_until("A sees B gone", || a.handle.peers().is_empty()).await;
    assert!(a.handle.topic_peers(Topic::Consensus).is_empty());

    // Same key, same port.
    let mut cfg = config(42, &members, &[]);
    cfg.listen_addr = b_addr.clone();
    let mut b2 = start(cfg, accept_all(), no_sync()).await;
    assert_eq!(b2.handle.listen_addrs()[0], b_addr);
    // B2 has no bootstrap entry: A must redial it.
    wait_subscribed(&a, &[peer(42)]).await;
    wait_subscribed(&b2, &[peer(41)]).await;
    a.handle.publish(Topic::Consensus, b"after".to_vec()).unwrap();
    b2.expect_gossip(b"after").await;
    b2.handle.publish(Topic::Transactions, b"from-b2".to_vec()).unwrap();
    a.expect_gossip(b"from-b2").await;
    for n in [a, b2] {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaviour_disconnects_and_bans() {
    let members = [51, 52];
    let reject_bad: Policy =
        Arc::new(|m| if m.data.starts_with(b"bad") { Validation::Reject } else { Validation::Accept });
    let mut b_cfg = config(52, &members, &[]);
    b_cfg.scoring = ScoringConfig {
        invalid_message_penalty: 60.0,
        invalid_response_penalty: 60.0,
        ban_threshold: -100.0,
        ban_duration: Duration::from_millis(1500),
        recovery_per_second: 0.0,
    };
    let mut b = start(b_cfg, reject_bad, no_sync()).await;
    let a = start(config(51, &members, &[&b]), accept_all(), no_sync()).await;
    wait_subscribed(&a, &[peer(52)]).await;
    wait_subscribed(&b, &[peer(51)]).await;

    a.handle.publish(Topic::Transactions, b"bad-1".to_vec()).unwrap();
    a.handle.publish(Topic::Transactions, b"bad-2".to_vec()).unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, b.peer_events.recv()).await {
            Ok(Some(NetworkEvent::PeerBanned { peer: p, duration })) => {
                assert_eq!(p, peer(51));
                assert_eq!(duration, Duration::from_millis(1500));
                break;
            }
            Ok(Some(_)) => continue,
            _ => panic!("A was never banned"),
        }
    }
    let banned_at = Instant::now();
    assert_eq!(b.handle.stats().snapshot().bans, 1);
    wait_until("B drops A", || !b.handle.peers().contains(&peer(51))).await;
    // A keeps redialling; B refuses while the ban lasts.
    wait_until("B refuses A's redial", || b.handle.stats().snapshot().rejected_connections >= 1).await;
    while banned_at.elapsed() < Duration::from_millis(1000) {
        assert!(!b.handle.peers().contains(&peer(51)), "banned peer connected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // After the ban, A is back and its valid messages flow.
    wait_until("A reconnects after the ban", || {
        b.handle.topic_peers(Topic::Transactions).contains(&peer(51))
    })
    .await;
    assert!(banned_at.elapsed() >= Duration::from_millis(1400));
    wait_subscribed(&a, &[peer(52)]).await;
    a.handle.publish(Topic::Transactions, b"good".to_vec()).unwrap();
    b.expect_gossip(b"good").await;
    // A severe report bans at once.
    b.handle.report_peer(peer(51), Misbehaviour::Severe).unwrap();
    wait_until("second ban", || b.handle.stats().snapshot().bans == 2).await;
    wait_until("B drops A again", || !b.handle.peers().contains(&peer(51))).await;
    for n in [a, b] {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_event_queue_drops_and_counts_without_blocking() {
    let members = [61, 62];
    let mut a = start(config(61, &members, &[]), accept_all(), no_sync()).await;
    // B's application never reads its (tiny) event queue.
    let mut b_cfg = config(62, &members, &[&a]);
    b_cfg.event_channel_capacity = 2;
    let (b, b_events) = Network::start(b_cfg).await.unwrap();
    wait_until("B subscribed on A", || a.handle.topic_peers(Topic::Transactions).contains(&peer(62))).await;
    wait_until("A subscribed on B", || b.topic_peers(Topic::Transactions).contains(&peer(61))).await;

    for k in 0..20 {
        a.handle.publish(Topic::Transactions, format!("flood-{k}").into_bytes()).unwrap();
    }
    wait_until("drops counted", || b.stats().snapshot().dropped_inbound_gossip >= 18).await;
    let s = b.stats().snapshot();
    assert_eq!(s.gossip_received, 20);
    assert!(s.dropped_inbound_gossip <= 20);
    // B's network task is still running: it publishes, and A receives.
    b.publish(Topic::Transactions, b"still-alive".to_vec()).unwrap();
    a.expect_gossip(b"still-alive").await;
    assert_eq!(b_events.len(), 2, "the queue stayed bounded");
    b.shutdown().await;
    drop(b_events);
    a.stop().await;
}
