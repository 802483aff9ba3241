//! Server configuration.

use crate::limits;
use std::time::Duration;

/// Limits and timeouts of one RPC server. `Default` takes every value from [`crate::limits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcConfig {
    /// Largest request body in bytes (`413 body_too_large` above it).
    pub max_body_bytes: usize,
    /// Most requests in flight at once; more wait.
    pub max_concurrent_requests: usize,
    /// Most open TCP connections; the listener pauses at the limit.
    pub max_connections: usize,
    /// Per-request deadline (`408 timeout`).
    pub request_timeout: Duration,
    /// Silence after which a TCP connection is closed (nothing received from the client).
    pub connection_idle_timeout: Duration,
    /// Longest a client may take to send a request's headers, and longest a keep-alive connection waits for
    /// its next request (then it is closed).
    pub header_read_timeout: Duration,
    /// Most open WebSocket connections.
    pub ws_max_connections: usize,
    /// Most subscriptions per WebSocket connection.
    pub ws_max_subscriptions: usize,
    /// Notifications buffered per WebSocket connection before it counts as lagging.
    pub ws_queue_capacity: usize,
    /// Largest client WebSocket message.
    pub ws_max_message_bytes: usize,
    /// Server ping interval.
    pub ws_ping_interval: Duration,
    /// Silence after which a WebSocket connection is closed.
    pub ws_idle_timeout: Duration,
    /// Longest a single WebSocket write may block.
    pub ws_send_timeout: Duration,
    /// Time given to open connections after the shutdown signal.
    pub shutdown_grace: Duration,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            max_body_bytes: limits::MAX_BODY_BYTES,
            max_concurrent_requests: limits::MAX_CONCURRENT_REQUESTS,
            max_connections: limits::MAX_CONNECTIONS,
            request_timeout: limits::REQUEST_TIMEOUT,
            connection_idle_timeout: limits::CONNECTION_IDLE_TIMEOUT,
            header_read_timeout: limits::HEADER_READ_TIMEOUT,
            ws_max_connections: limits::WS_MAX_CONNECTIONS,
            ws_max_subscriptions: limits::WS_MAX_SUBSCRIPTIONS,
            ws_queue_capacity: limits::WS_QUEUE_CAPACITY,
            ws_max_message_bytes: limits::WS_MAX_MESSAGE_BYTES,
            ws_ping_interval: limits::WS_PING_INTERVAL,
            ws_idle_timeout: limits::WS_IDLE_TIMEOUT,
            ws_send_timeout: limits::WS_SEND_TIMEOUT,
            shutdown_grace: limits::SHUTDOWN_GRACE,
        }
    }
}
