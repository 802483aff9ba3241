//! The state shared by every handler.

use crate::api::NodeApi;
use crate::config::RpcConfig;
use std::sync::Arc;
use tokio::sync::{watch, Semaphore};

/// Handed to every handler (cheap to clone).
#[derive(Clone)]
pub(crate) struct AppState {
    /// The node.
    pub api: Arc<dyn NodeApi>,
    /// Limits.
    pub config: Arc<RpcConfig>,
    /// One permit per open WebSocket connection.
    pub ws_permits: Arc<Semaphore>,
    /// One permit per request with a body, from the start of its upload until it is answered
    /// (`max_concurrent_requests` of them): bounds the bodies held in memory to that many.
    pub upload_permits: Arc<Semaphore>,
    /// Becomes `true` when the server shuts down; WebSocket connections then close.
    pub shutdown: watch::Receiver<bool>,
    /// The OpenAPI document, rendered once.
    pub openapi_json: Arc<String>,
}
