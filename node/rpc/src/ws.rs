//! WebSocket subscriptions at `GET /ws`: new blocks, one transaction's receipt, contract events filtered by
//! contract and topic.
//!
//! Protocol (JSON text frames; see docs/rpc.md):
//! - client → server: `{"subscribe":"blocks"}`, `{"subscribe":"tx","id":"<hex>"}`,
//!   `{"subscribe":"events","contract":"purse1…","topic":"points.expiring"}` (both filters optional; a topic
//!   starting with `0x` is compared as hex bytes), `{"unsubscribe":<subscription>}`.
//! - server → client: `{"type":"subscribed","subscription":n,"kind":…}`, `{"type":"unsubscribed",…}`,
//!   notifications `new_block`, `tx_receipt`, `tx_dropped`, `event` (each with its `subscription`), and
//!   `{"type":"error","error":{"code","message"}}`.
//!
//! Each connection has a bounded queue towards its socket. The node's broadcast never waits for a client; a
//! client that falls behind (its queue fills or it lags the broadcast) is sent a `lagged` error and closed.
//! The server pings every `ws_ping_interval` and closes connections silent for `ws_idle_timeout`.

use crate::errors::{codes, ApiError, ErrorDetail};
use crate::handlers::{call, parse_address, parse_hash};
use crate::model::{BlockSummary, ContractEvent, NodeEvent, TxDroppedEvent, TxReceiptEvent, TxState};
use crate::state::AppState;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use purse_types::{Address, TxId};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, oneshot, OwnedSemaphorePermit};
use tokio::time::Instant;

/// Upgrades to a WebSocket (see the module docs for the protocol).
#[utoipa::path(get, path = "/ws", tag = "subscriptions",
    responses(
        (status = 101, description = "Switching to the WebSocket protocol described in docs/rpc.md"),
        (status = 400, description = "Not a WebSocket upgrade request", body = crate::errors::ErrorBody),
        (status = 503, description = "Too many WebSocket connections (`too_many_connections`)", body = crate::errors::ErrorBody),
    ))]
pub(crate) async fn ws_upgrade(
    State(state): State<AppState>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(r) => return ApiError::bad_request(codes::BAD_REQUEST, r.body_text()).into_response(),
    };
    let Ok(permit) = state.ws_permits.clone().try_acquire_owned() else {
        return ApiError::unavailable(codes::TOO_MANY_CONNECTIONS, "too many WebSocket connections")
            .into_response();
    };
    // Subscribe before the upgrade completes so no event published after the 101 is missed.
    let events = state.api.subscribe();
    let max = state.config.ws_max_message_bytes;
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| connection(socket, state, events, permit))
}

/// A client message. All fields are optional so a malformed message gets a precise error code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientMessage {
    subscribe: Option<String>,
    unsubscribe: Option<u64>,
    id: Option<String>,
    contract: Option<String>,
    topic: Option<String>,
}

/// What a subscription matches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Filter {
    Blocks,
    Tx(TxId),
    Events { contract: Option<Address>, topic: Option<Vec<u8>> },
}

impl Filter {
    fn kind(&self) -> &'static str {
        match self {
            Filter::Blocks => "blocks",
            Filter::Tx(_) => "tx",
            Filter::Events { .. } => "events",
        }
    }
}

/// Messages the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMessage<'a> {
    Subscribed {
        subscription: u64,
        kind: &'static str,
    },
    Unsubscribed {
        subscription: u64,
    },
    NewBlock {
        subscription: u64,
        block: &'a BlockSummary,
    },
    TxReceipt {
        subscription: u64,
        #[serde(flatten)]
        receipt: &'a TxReceiptEvent,
    },
    TxDropped {
        subscription: u64,
        #[serde(flatten)]
        dropped: &'a TxDroppedEvent,
    },
    Event {
        subscription: u64,
        #[serde(flatten)]
        event: &'a ContractEvent,
    },
    Error {
        error: ErrorDetail,
    },
}

fn text(msg: &ServerMessage<'_>) -> Message {
    // Serializing these plain structs cannot fail; an empty object is sent if it ever did.
    Message::Text(serde_json::to_string(msg).unwrap_or_else(|_| "{}".into()).into())
}

fn error_message(code: &str, message: impl Into<String>) -> Message {
    text(&ServerMessage::Error { error: ErrorDetail { code: code.into(), message: message.into() } })
}

/// Why the server ends a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    Lagged,
    Idle,
    ShuttingDown,
}

impl Closing {
    fn frame(self) -> (Option<Message>, CloseFrame) {
        match self {
            Closing::Lagged => (
                Some(error_message(
                    codes::LAGGED,
                    "the client fell behind the event stream and is disconnected",
                )),
                CloseFrame { code: close_code::POLICY, reason: "lagged".into() },
            ),
            Closing::Idle => (None, CloseFrame { code: close_code::POLICY, reason: "idle".into() }),
            Closing::ShuttingDown => (
                Some(error_message(codes::SHUTTING_DOWN, "the server is shutting down")),
                CloseFrame { code: close_code::AWAY, reason: "shutting down".into() },
            ),
        }
    }
}

/// The subscriptions of one connection.
struct Subscriptions {
    next_id: u64,
    subs: Vec<(u64, Filter)>,
    max: usize,
}

impl Subscriptions {
    fn new(max: usize) -> Self {
        Subscriptions { next_id: 1, subs: Vec::new(), max }
    }

    fn add(&mut self, filter: Filter) -> Result<u64, ApiError> {
        if self.subs.len() >= self.max {
            return Err(ApiError::bad_request(
                codes::TOO_MANY_SUBSCRIPTIONS,
                format!("a connection may hold at most {} subscriptions", self.max),
            ));
        }
        let id = self.next_id;
        self.next_id += 1;
        self.subs.push((id, filter));
        Ok(id)
    }

    fn remove(&mut self, id: u64) -> bool {
        let before = self.subs.len();
        self.subs.retain(|(i, _)| *i != id);
        self.subs.len() != before
    }

    /// Notifications for `event`; one-shot transaction subscriptions it completes are removed.
    fn notify(&mut self, event: &NodeEvent) -> Vec<Message> {
        let mut out = Vec::new();
        let mut done = Vec::new();
        for (id, filter) in &self.subs {
            let subscription = *id;
            match (filter, event) {
                (Filter::Blocks, NodeEvent::NewBlock(block)) => {
                    out.push(text(&ServerMessage::NewBlock { subscription, block }));
                }
                (Filter::Tx(tx), NodeEvent::TxReceipt(receipt)) if receipt.tx_id == *tx => {
                    out.push(text(&ServerMessage::TxReceipt { subscription, receipt }));
                    done.push(subscription);
                }
                (Filter::Tx(tx), NodeEvent::TxDropped(dropped)) if dropped.tx_id == *tx => {
                    out.push(text(&ServerMessage::TxDropped { subscription, dropped }));
                    done.push(subscription);
                }
                (Filter::Events { contract, topic }, NodeEvent::ContractEvent(event))
                    if contract.is_none_or(|c| c == event.contract)
                        && topic.as_ref().is_none_or(|t| t.as_slice() == event.topic.as_bytes()) =>
                {
                    out.push(text(&ServerMessage::Event { subscription, event }));
                }
                _ => {}
            }
        }
        self.subs.retain(|(id, _)| !done.contains(id));
        out
    }
}

/// Parses a client message into a filter (subscribe) or a subscription id (unsubscribe).
enum Request {
    Subscribe(Filter),
    Unsubscribe(u64),
}

fn parse_request(text: &str) -> Result<Request, ApiError> {
    let bad = |m: String| ApiError::bad_request(codes::BAD_MESSAGE, m);
    let msg: ClientMessage = serde_json::from_str(text).map_err(|e| bad(format!("invalid message: {e}")))?;
    match (msg.subscribe.as_deref(), msg.unsubscribe) {
        (None, Some(id)) => Ok(Request::Unsubscribe(id)),
        (Some("blocks"), None) => Ok(Request::Subscribe(Filter::Blocks)),
        (Some("tx"), None) => {
            let id = msg.id.ok_or_else(|| bad("a tx subscription needs \"id\"".into()))?;
            Ok(Request::Subscribe(Filter::Tx(parse_hash(&id, "transaction id")?)))
        }
        (Some("events"), None) => {
            let contract = msg.contract.as_deref().map(parse_address).transpose()?;
            let topic = match msg.topic {
                None => None,
                Some(t) => match t.strip_prefix("0x") {
                    Some(h) => Some(hex::decode(h).map_err(|e| {
                        ApiError::bad_request(codes::BAD_HEX, format!("topic is not valid hex: {e}"))
                    })?),
                    None => Some(t.into_bytes()),
                },
            };
            Ok(Request::Subscribe(Filter::Events { contract, topic }))
        }
        (Some(other), None) => {
            Err(bad(format!("unknown subscription kind {other:?}: use blocks, tx or events")))
        }
        _ => Err(bad("send either \"subscribe\" or \"unsubscribe\"".into())),
    }
}

/// Handles one client text message; returns the replies.
async fn handle_client_text(text_msg: &str, subs: &mut Subscriptions, state: &AppState) -> Vec<Message> {
    match parse_request(text_msg) {
        Err(e) => vec![error_message(&e.code, e.message)],
        Ok(Request::Unsubscribe(id)) => {
            if subs.remove(id) {
                vec![text(&ServerMessage::Unsubscribed { subscription: id })]
            } else {
                vec![error_message(codes::UNKNOWN_SUBSCRIPTION, format!("no subscription {id}"))]
            }
        }
        Ok(Request::Subscribe(filter)) => {
            let kind = filter.kind();
            let tx = match &filter {
                Filter::Tx(id) => Some(*id),
                _ => None,
            };
            let subscription = match subs.add(filter) {
                Ok(id) => id,
                Err(e) => return vec![error_message(&e.code, e.message)],
            };
            let mut out = vec![text(&ServerMessage::Subscribed { subscription, kind })];
            // A receipt published before this subscription existed would be missed: look the transaction up
            // after subscribing, and answer at once if it is already committed.
            if let Some(id) = tx {
                if let Ok(Some(info)) = call(state, move |api| api.tx(&id)).await {
                    if let (TxState::Committed, Some(receipt), Some(height), Some(index), Some(block_hash)) =
                        (info.status, info.receipt, info.height, info.index, info.block_hash)
                    {
                        let ev = TxReceiptEvent { tx_id: id, height, index, block_hash, receipt };
                        out.push(text(&ServerMessage::TxReceipt { subscription, receipt: &ev }));
                        subs.remove(subscription);
                    }
                }
            }
            out
        }
    }
}

/// Decrements the connection gauge when the connection task ends, however it ends.
struct ConnectionGauge(crate::metrics::Metrics);

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        self.0.ws_connection_delta(-1);
    }
}

async fn connection(
    socket: WebSocket,
    state: AppState,
    mut events: broadcast::Receiver<NodeEvent>,
    _permit: OwnedSemaphorePermit,
) {
    let metrics = state.api.metrics().clone();
    metrics.ws_connection_delta(1);
    let _gauge = ConnectionGauge(metrics.clone());
    let cfg = state.config.clone();
    let (sink, mut stream) = socket.split();
    let (out_tx, out_rx) = mpsc::channel::<Message>(cfg.ws_queue_capacity.max(1));
    let (close_tx, close_rx) = oneshot::channel::<Closing>();
    let writer = tokio::spawn(writer(sink, out_rx, close_rx, cfg.ws_send_timeout));

    let mut subs = Subscriptions::new(cfg.ws_max_subscriptions);
    let mut ping = tokio::time::interval_at(Instant::now() + cfg.ws_ping_interval, cfg.ws_ping_interval);
    let mut last_seen = Instant::now();
    let mut shutdown = state.shutdown.clone();
    let shutting_down = async move {
        if shutdown.wait_for(|s| *s).await.is_err() {
            // No shutdown signal can come any more (the router runs outside `serve`): never fire.
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(shutting_down);

    // Enqueues without waiting; a full queue means the client is lagging.
    let enqueue = |out: &mpsc::Sender<Message>, msgs: Vec<Message>| -> Result<(), Closing> {
        for m in msgs {
            out.try_send(m).map_err(|_| Closing::Lagged)?;
        }
        Ok(())
    };

    let closing: Option<Closing> = loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(t))) => {
                    last_seen = Instant::now();
                    let replies = handle_client_text(t.as_str(), &mut subs, &state).await;
                    if let Err(c) = enqueue(&out_tx, replies) {
                        break Some(c);
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    last_seen = Instant::now();
                    let reply = vec![error_message(codes::BAD_MESSAGE, "send JSON text frames")];
                    if let Err(c) = enqueue(&out_tx, reply) {
                        break Some(c);
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => last_seen = Instant::now(),
                Some(Ok(Message::Close(_)) | Err(_)) | None => break None,
            },
            event = events.recv() => match event {
                Ok(event) => {
                    if let Err(c) = enqueue(&out_tx, subs.notify(&event)) {
                        break Some(c);
                    }
                }
                Err(RecvError::Lagged(_)) => break Some(Closing::Lagged),
                Err(RecvError::Closed) => break Some(Closing::ShuttingDown),
            },
            _ = ping.tick() => {
                if last_seen.elapsed() > cfg.ws_idle_timeout {
                    break Some(Closing::Idle);
                }
                if let Err(c) = enqueue(&out_tx, vec![Message::Ping(Default::default())]) {
                    break Some(c);
                }
            }
            () = &mut shutting_down => break Some(Closing::ShuttingDown),
        }
    };
    if let Some(c) = closing {
        if c == Closing::Lagged {
            metrics.record_ws_lagged();
        }
        let _ = close_tx.send(c);
    } else {
        drop(close_tx);
    }
    drop(out_tx);
    let _ = writer.await;
}

/// Writes queued messages to the socket, each write bounded by `send_timeout`; on a closing signal it drops
/// whatever is still queued, sends the reason and a close frame, and ends.
async fn writer(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    mut out: mpsc::Receiver<Message>,
    mut close: oneshot::Receiver<Closing>,
    send_timeout: Duration,
) {
    let mut close_open = true;
    loop {
        tokio::select! {
            biased;
            closing = &mut close, if close_open => {
                close_open = false;
                match closing {
                    Ok(c) => {
                        let (msg, frame) = c.frame();
                        if let Some(m) = msg {
                            let _ = tokio::time::timeout(send_timeout, sink.send(m)).await;
                        }
                        let _ = tokio::time::timeout(send_timeout, sink.send(Message::Close(Some(frame)))).await;
                        return;
                    }
                    // The reader ended without a reason (the client left): flush what is queued, then stop.
                    Err(_) => continue,
                }
            }
            msg = out.recv() => match msg {
                Some(m) => match tokio::time::timeout(send_timeout, sink.send(m)).await {
                    Ok(Ok(())) => {}
                    _ => return,
                },
                None => {
                    if close_open {
                        // The reader is gone; a closing reason may still arrive.
                        if let Ok(c) = (&mut close).await {
                            let (msg, frame) = c.frame();
                            if let Some(m) = msg {
                                let _ = tokio::time::timeout(send_timeout, sink.send(m)).await;
                            }
                            let _ = tokio::time::timeout(send_timeout, sink.send(Message::Close(Some(frame)))).await;
                        }
                    }
                    let _ = tokio::time::timeout(send_timeout, sink.close()).await;
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use purse_types::Hash;

    #[test]
    fn parses_subscriptions_with_precise_errors() {
        assert!(matches!(parse_request(r#"{"subscribe":"blocks"}"#), Ok(Request::Subscribe(Filter::Blocks))));
        assert!(matches!(parse_request(r#"{"unsubscribe":3}"#), Ok(Request::Unsubscribe(3))));
        let id = Hash([5; 32]).to_hex();
        assert!(matches!(
            parse_request(&format!(r#"{{"subscribe":"tx","id":"{id}"}}"#)),
            Ok(Request::Subscribe(Filter::Tx(h))) if h == Hash([5; 32])
        ));
        let code = |s: &str| parse_request(s).err().map(|e| e.code);
        assert_eq!(code(r#"{"subscribe":"tx","id":"zz"}"#).as_deref(), Some(codes::BAD_HASH));
        assert_eq!(code(r#"{"subscribe":"events","contract":"nope"}"#).as_deref(), Some(codes::BAD_ADDRESS));
        assert_eq!(code(r#"{"subscribe":"events","topic":"0xzz"}"#).as_deref(), Some(codes::BAD_HEX));
        assert_eq!(code(r#"{"subscribe":"moon"}"#).as_deref(), Some(codes::BAD_MESSAGE));
        assert_eq!(code(r#"{"subscribe":"blocks","extra":1}"#).as_deref(), Some(codes::BAD_MESSAGE));
        assert_eq!(code("not json").as_deref(), Some(codes::BAD_MESSAGE));
        let Ok(Request::Subscribe(Filter::Events { topic, .. })) =
            parse_request(r#"{"subscribe":"events","topic":"0x6162"}"#)
        else {
            panic!("events subscription");
        };
        assert_eq!(topic.as_deref(), Some(&b"ab"[..]));
    }

    #[test]
    fn subscription_limit_and_one_shot_tx() {
        let mut subs = Subscriptions::new(2);
        let a = subs.add(Filter::Tx(Hash([1; 32]))).unwrap();
        subs.add(Filter::Blocks).unwrap();
        assert_eq!(subs.add(Filter::Blocks).unwrap_err().code, codes::TOO_MANY_SUBSCRIPTIONS);
        let dropped = NodeEvent::TxDropped(TxDroppedEvent {
            tx_id: Hash([1; 32]),
            code: "evicted_ttl".into(),
            message: "m".into(),
        });
        assert_eq!(subs.notify(&dropped).len(), 1);
        assert!(!subs.remove(a), "the tx subscription ended with its notification");
        assert_eq!(subs.notify(&dropped).len(), 0);
    }
}
