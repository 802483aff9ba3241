//! Every limit the RPC enforces, named. [`crate::RpcConfig::default`] uses these; operators may lower or raise
//! them per node.

use purse_types::tx::MAX_TX_BYTES;
use std::time::Duration;

/// Largest request body: a hex-encoded maximal transaction (two characters per byte) plus room for the JSON
/// envelope `{"tx":"…"}`. A raw `application/octet-stream` body is bounded by the same figure and then by
/// [`MAX_TX_BYTES`] when decoded.
pub const MAX_BODY_BYTES: usize = 2 * MAX_TX_BYTES + 4 * 1024;

/// Most requests handled at once across all routes; further requests wait for a slot (back-pressure).
pub const MAX_CONCURRENT_REQUESTS: usize = 256;

/// Most open TCP connections (HTTP and WebSocket together); the listener stops accepting while at the limit.
pub const MAX_CONNECTIONS: usize = 1024;

/// Longest a request may take, body upload and node call included; then `408 timeout`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Most state-proof key bytes accepted by `GET /proof/{key}`.
pub const MAX_PROOF_KEY_BYTES: usize = 1024;

/// Most open WebSocket connections; further upgrades get `503 too_many_connections`.
pub const WS_MAX_CONNECTIONS: usize = 256;

/// Most subscriptions one WebSocket connection may hold.
pub const WS_MAX_SUBSCRIPTIONS: usize = 32;

/// Notifications buffered for one WebSocket connection; a client that lets more pile up is told it lagged
/// and is disconnected. The node never waits for a client.
pub const WS_QUEUE_CAPACITY: usize = 256;

/// Largest message a WebSocket client may send (subscribe messages are tiny).
pub const WS_MAX_MESSAGE_BYTES: usize = 4 * 1024;

/// Interval between server pings.
pub const WS_PING_INTERVAL: Duration = Duration::from_secs(20);

/// A connection from which nothing (not even a pong) arrives for this long is closed.
pub const WS_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// A TCP connection from which no byte arrives for this long is closed, whatever it is doing: an idle
/// keep-alive connection, or one that never sends its request, would otherwise hold one of the
/// [`MAX_CONNECTIONS`] slots for good. Longer than [`WS_IDLE_TIMEOUT`], so a WebSocket client answering the
/// server's pings is never cut by it.
pub const CONNECTION_IDLE_TIMEOUT: Duration = Duration::from_secs(75);

/// Longest a client may take to send a request's headers, counted from when the server starts waiting for
/// them — also between requests on a keep-alive connection, which is closed when it passes. Unlike
/// [`CONNECTION_IDLE_TIMEOUT`], a client trickling a byte now and then does not reset it, so it cannot hold a
/// connection slot for good. (hyper's default, which applies only to a server with a timer.)
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest one write to a WebSocket may block before the connection is dropped.
pub const WS_SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`crate::serve`] waits for open connections to finish after the shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
