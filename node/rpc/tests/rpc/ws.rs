//! WebSocket subscriptions.

use crate::common::*;
use futures::{SinkExt, StreamExt};
use purse_rpc::model::{BlockSummary, NodeEvent};
use purse_rpc::RpcConfig;
use purse_types::Hash;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);

async fn connect(s: &TestServer) -> Ws {
    connect_async(s.ws_url()).await.unwrap().0
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next JSON text message (pings and pongs skipped); `None` when the server closed.
async fn next_json(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next()).await.expect("a message within the wait")?;
        match msg {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(other) => panic!("unexpected {other:?}"),
        }
    }
}

async fn subscribe(ws: &mut Ws, v: Value) -> u64 {
    send(ws, v).await;
    let reply = next_json(ws).await.unwrap();
    assert_eq!(reply["type"], "subscribed", "{reply}");
    reply["subscription"].as_u64().unwrap()
}

#[tokio::test]
async fn new_blocks_are_pushed() {
    let s = start_default().await;
    let mut ws = connect(&s).await;
    let sub = subscribe(&mut ws, json!({"subscribe": "blocks"})).await;
    let block = s.node.commit();
    let n = next_json(&mut ws).await.unwrap();
    assert_eq!(n["type"], "new_block");
    assert_eq!(n["subscription"], sub);
    assert_eq!(n["block"]["height"], 1);
    assert_eq!(n["block"]["block_hash"], block.id().to_hex());
    assert_eq!(n["block"]["tx_count"], 0);

    // Unsubscribe: no more blocks (checked with a second subscription as a sentinel).
    send(&mut ws, json!({"unsubscribe": sub})).await;
    assert_eq!(next_json(&mut ws).await.unwrap()["type"], "unsubscribed");
    let sentinel = subscribe(&mut ws, json!({"subscribe": "blocks"})).await;
    s.node.commit();
    let n = next_json(&mut ws).await.unwrap();
    assert_eq!(n["subscription"], sentinel);
    assert_eq!(n["block"]["height"], 2);
}

#[tokio::test]
async fn tx_receipts_and_drops() {
    let s = start_default().await;
    let c = reqwest::Client::new();
    let tx = transfer(0);
    c.post(s.url("/tx")).json(&json!({"tx": tx_hex(&tx)})).send().await.unwrap();
    let mut ws = connect(&s).await;
    let sub = subscribe(&mut ws, json!({"subscribe": "tx", "id": tx.id().to_hex()})).await;
    s.node.commit();
    let n = next_json(&mut ws).await.unwrap();
    assert_eq!(n["type"], "tx_receipt");
    assert_eq!(n["subscription"], sub);
    assert_eq!(n["tx_id"], tx.id().to_hex());
    assert_eq!(n["height"], 1);
    assert_eq!(n["receipt"]["success"], true);

    // Subscribing to an already committed transaction answers at once.
    let sub2 = subscribe(&mut ws, json!({"subscribe": "tx", "id": tx.id().to_hex()})).await;
    let n = next_json(&mut ws).await.unwrap();
    assert_eq!(n["type"], "tx_receipt");
    assert_eq!(n["subscription"], sub2);
    // …and that subscription is over.
    send(&mut ws, json!({"unsubscribe": sub2})).await;
    assert_eq!(next_json(&mut ws).await.unwrap()["error"]["code"], "unknown_subscription");

    // A dropped pending transaction.
    let tx1 = transfer(1);
    c.post(s.url("/tx")).json(&json!({"tx": tx_hex(&tx1)})).send().await.unwrap();
    let sub3 = subscribe(&mut ws, json!({"subscribe": "tx", "id": tx1.id().to_hex()})).await;
    s.node.drop_pending(tx1.id());
    let n = next_json(&mut ws).await.unwrap();
    assert_eq!(n["type"], "tx_dropped");
    assert_eq!(n["subscription"], sub3);
    assert_eq!(n["code"], "evicted_ttl");
}

#[tokio::test]
async fn events_are_filtered_by_contract_and_topic() {
    let s = start_default().await;
    let c = reqwest::Client::new();
    let mut ws = connect(&s).await;
    let contract = contract().to_string();
    let all = subscribe(&mut ws, json!({"subscribe": "events"})).await;
    let by_contract = subscribe(&mut ws, json!({"subscribe": "events", "contract": contract})).await;
    let by_both =
        subscribe(&mut ws, json!({"subscribe": "events", "contract": contract, "topic": "transfer"})).await;
    let by_hex = subscribe(&mut ws, json!({"subscribe": "events", "topic": "0x7472616e73666572"})).await;
    let other_contract =
        subscribe(&mut ws, json!({"subscribe": "events", "contract": bob().public().address().to_string()}))
            .await;
    let other_topic = subscribe(&mut ws, json!({"subscribe": "events", "topic": "points.expiring"})).await;
    let blocks = subscribe(&mut ws, json!({"subscribe": "blocks"})).await;

    c.post(s.url("/tx")).json(&json!({"tx": tx_hex(&transfer(0))})).send().await.unwrap();
    s.node.commit();
    s.node.commit(); // the sentinel: its new_block comes after every event of block 1

    let mut got = Vec::new();
    loop {
        let n = next_json(&mut ws).await.unwrap();
        if n["type"] == "new_block" {
            assert_eq!(n["subscription"], blocks);
            if n["block"]["height"] == 2 {
                break;
            }
            continue;
        }
        assert_eq!(n["type"], "event", "{n}");
        assert_eq!(n["contract"], contract);
        assert_eq!(n["topic"], "transfer");
        assert_eq!(n["data"], "010203");
        assert_eq!(n["height"], 1);
        assert_eq!(n["tx_id"], transfer(0).id().to_hex());
        got.push(n["subscription"].as_u64().unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, vec![all, by_contract, by_both, by_hex]);
    assert!(!got.contains(&other_contract) && !got.contains(&other_topic));
}

#[tokio::test]
async fn bad_messages_and_subscription_limit() {
    let config = RpcConfig { ws_max_subscriptions: 2, ..RpcConfig::default() };
    let s = start(MockNode::new(), config).await;
    let mut ws = connect(&s).await;
    for (msg, code) in [
        (json!({"subscribe": "tx", "id": "zz"}), "bad_hash"),
        (json!({"subscribe": "tx"}), "bad_message"),
        (json!({"subscribe": "events", "contract": "nope"}), "bad_address"),
        (json!({"subscribe": "nothing"}), "bad_message"),
        (json!({"hello": 1}), "bad_message"),
        (json!({"unsubscribe": 99}), "unknown_subscription"),
    ] {
        send(&mut ws, msg).await;
        let e = next_json(&mut ws).await.unwrap();
        assert_eq!(e["type"], "error");
        assert_eq!(e["error"]["code"], code);
    }
    ws.send(Message::Text("{not json".into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await.unwrap()["error"]["code"], "bad_message");
    subscribe(&mut ws, json!({"subscribe": "blocks"})).await;
    subscribe(&mut ws, json!({"subscribe": "blocks"})).await;
    send(&mut ws, json!({"subscribe": "blocks"})).await;
    assert_eq!(next_json(&mut ws).await.unwrap()["error"]["code"], "too_many_subscriptions");
    // The connection is still usable.
    s.node.commit();
    assert_eq!(next_json(&mut ws).await.unwrap()["type"], "new_block");
}

#[tokio::test]
async fn a_lagging_client_is_told_and_disconnected() {
    let node = MockNode::with_event_capacity(64);
    let config = RpcConfig { ws_queue_capacity: 8, ..RpcConfig::default() };
    let s = start(node, config).await;
    let mut ws = connect(&s).await;
    subscribe(&mut ws, json!({"subscribe": "blocks"})).await;
    // The client stops reading while the node publishes far more than any buffer holds; publishing never
    // waits for it.
    let block = BlockSummary {
        height: 1,
        block_hash: Hash([1; 32]),
        parent: Hash::ZERO,
        timestamp_ms: 0,
        tx_count: 0,
        state_root: Hash::ZERO,
        proposer: alice().public(),
    };
    const PUBLISHED: u64 = 20_000;
    let started = std::time::Instant::now();
    for h in 0..PUBLISHED {
        s.node.publish(NodeEvent::NewBlock(BlockSummary { height: h, ..block.clone() }));
        if h % 1000 == 0 {
            tokio::task::yield_now().await;
        }
    }
    assert!(started.elapsed() < Duration::from_secs(5), "publishing never blocks on a slow client");

    let mut received = 0u64;
    let mut lagged = false;
    while let Some(n) = next_json(&mut ws).await {
        if n["type"] == "error" {
            assert_eq!(n["error"]["code"], "lagged");
            lagged = true;
        } else {
            assert!(!lagged, "nothing follows the lagged notice");
            received += 1;
        }
    }
    assert!(lagged, "the client was told it lagged");
    assert!(received < PUBLISHED);
    let metrics = reqwest::get(s.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("purse_rpc_ws_lagged_disconnects_total 1"), "{metrics}");
}

#[tokio::test]
async fn silent_clients_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = RpcConfig {
        ws_ping_interval: Duration::from_millis(50),
        ws_idle_timeout: Duration::from_millis(200),
        ..RpcConfig::default()
    };
    let s = start(MockNode::new(), config).await;
    // A raw client that completes the handshake and then never sends anything, not even a pong.
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        s.addr
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut received)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    let frames = &received[received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    // Server frames are unmasked: a ping is 0x89 0x00; the close frame is 0x88, length 6, code 1008, "idle".
    assert!(frames.starts_with(&[0x89, 0x00]), "the server pinged first: {frames:02x?}");
    assert!(
        frames.ends_with(&[0x88, 0x06, 0x03, 0xf0, b'i', b'd', b'l', b'e']),
        "closed as idle: {frames:02x?}"
    );
}

#[tokio::test]
async fn connection_limit() {
    let config = RpcConfig { ws_max_connections: 1, ..RpcConfig::default() };
    let s = start(MockNode::new(), config).await;
    let _first = connect(&s).await;
    match connect_async(s.ws_url()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 503),
        other => panic!("expected 503, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn shutdown_closes_websockets_and_ends_the_server() {
    let mut s = start_default().await;
    let mut ws = connect(&s).await;
    subscribe(&mut ws, json!({"subscribe": "blocks"})).await;
    s.shutdown();
    let n = next_json(&mut ws).await.unwrap();
    assert_eq!(n["error"]["code"], "shutting_down");
    assert!(next_json(&mut ws).await.is_none(), "then the server closes");
    let result = tokio::time::timeout(WAIT, &mut s.handle).await;
    assert!(matches!(result, Ok(Ok(Ok(())))), "serve returned after the signal");
}
