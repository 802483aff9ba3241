//! Errors: the [`ApiError`] a node or a handler returns, its JSON body `{"error":{"code","message"}}` and HTTP
//! status, the stable RPC error codes, and the [`RpcError`] of the server itself.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Stable machine-readable error codes produced by the RPC layer itself. Node-side codes (mempool admission
/// reasons such as `insufficient_available`, contract query failures) pass through unchanged. Codes are only
/// ever added, never renamed or reused.
pub mod codes {
    /// The body is not JSON, or lacks a required field.
    pub const BAD_JSON: &str = "bad_json";
    /// A hex field or path segment is not hexadecimal.
    pub const BAD_HEX: &str = "bad_hex";
    /// Bytes that do not decode (borsh) as the expected type.
    pub const BAD_ENCODING: &str = "bad_encoding";
    /// An address that is not a valid `purse1…` bech32m string.
    pub const BAD_ADDRESS: &str = "bad_address";
    /// A hash that is not 64 hex characters.
    pub const BAD_HASH: &str = "bad_hash";
    /// A block height that is not a decimal `u64`.
    pub const BAD_HEIGHT: &str = "bad_height";
    /// A state key that is empty or too long.
    pub const BAD_KEY: &str = "bad_key";
    /// A contract method name that is empty or too long.
    pub const BAD_METHOD: &str = "bad_method";
    /// A KYC tier that is not a decimal `u8`.
    pub const BAD_TIER: &str = "bad_tier";
    /// Any other malformed request (e.g. an undecodable path).
    pub const BAD_REQUEST: &str = "bad_request";
    /// A signed `x-purse-auth` header is required.
    pub const AUTH_REQUIRED: &str = "auth_required";
    /// The `x-purse-auth` header is malformed, stale, or its signature does not verify.
    pub const BAD_AUTH: &str = "bad_auth";
    /// The signer may not read this (not the account, not an auditor).
    pub const FORBIDDEN: &str = "forbidden";
    /// The request body exceeds the limit.
    pub const BODY_TOO_LARGE: &str = "body_too_large";
    /// The decoded transaction exceeds `MAX_TX_BYTES`.
    pub const TX_TOO_LARGE: &str = "tx_too_large";
    /// A content type other than JSON or `application/octet-stream`.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    /// No such route.
    pub const NOT_FOUND: &str = "not_found";
    /// The transaction is neither pending nor committed.
    pub const TX_NOT_FOUND: &str = "tx_not_found";
    /// No block at that height or with that hash.
    pub const BLOCK_NOT_FOUND: &str = "block_not_found";
    /// No account at that address.
    pub const ACCOUNT_NOT_FOUND: &str = "account_not_found";
    /// No governance proposal with that id.
    pub const PROPOSAL_NOT_FOUND: &str = "proposal_not_found";
    /// No asset with that id.
    pub const ASSET_NOT_FOUND: &str = "asset_not_found";
    /// The route exists but not for this HTTP method.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The request did not finish within the deadline.
    pub const TIMEOUT: &str = "timeout";
    /// The mempool has no room (the node may give a finer code such as `pool_full`).
    pub const MEMPOOL_FULL: &str = "mempool_full";
    /// Too many requests.
    pub const TOO_MANY_REQUESTS: &str = "too_many_requests";
    /// Too many WebSocket connections.
    pub const TOO_MANY_CONNECTIONS: &str = "too_many_connections";
    /// The node is not ready (starting, syncing).
    pub const NOT_READY: &str = "not_ready";
    /// The node cannot serve the request right now.
    pub const UNAVAILABLE: &str = "unavailable";
    /// An internal failure; details are in the node's log, never in the response.
    pub const INTERNAL: &str = "internal";
    /// A WebSocket client message that is not a valid subscribe/unsubscribe message.
    pub const BAD_MESSAGE: &str = "bad_message";
    /// A WebSocket connection already holds the most subscriptions allowed.
    pub const TOO_MANY_SUBSCRIPTIONS: &str = "too_many_subscriptions";
    /// An unsubscribe for a subscription the connection does not hold.
    pub const UNKNOWN_SUBSCRIPTION: &str = "unknown_subscription";
    /// The WebSocket client fell behind the event stream and is disconnected.
    pub const LAGGED: &str = "lagged";
    /// The server is shutting down.
    pub const SHUTTING_DOWN: &str = "shutting_down";
}

/// What kind of failure an [`ApiError`] is; decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Malformed input: 400.
    BadRequest,
    /// The thing asked for does not exist: 404.
    NotFound,
    /// HTTP method not served on this path: 405.
    MethodNotAllowed,
    /// The request needs a signed `x-purse-auth` header, or its header does not verify: 401.
    Unauthorized,
    /// The signer may not read this: 403.
    Forbidden,
    /// Deadline exceeded: 408.
    Timeout,
    /// Body too large: 413.
    PayloadTooLarge,
    /// Unsupported content type: 415.
    UnsupportedMediaType,
    /// Well-formed but refused by the node (admission reason, failed contract query): 422.
    Rejected,
    /// The mempool (or a per-sender quota of it) is full; retry later: 429.
    MempoolFull,
    /// Internal failure: 500.
    Internal,
    /// Temporarily unable (not ready, syncing, too many connections, shutting down): 503.
    Unavailable,
}

impl ErrorKind {
    /// The HTTP status for this kind.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Timeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::MempoolFull => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A failure to answer a request, as returned by [`crate::NodeApi`] methods and by the handlers.
///
/// `code` is stable and machine-readable (see [`codes`] and the mempool's reason codes); `message` is for
/// humans. The node should never put secrets or internal paths in `message`: it is sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// Decides the HTTP status.
    pub kind: ErrorKind,
    /// Stable machine-readable code.
    pub code: String,
    /// Human-readable detail.
    pub message: String,
}

/// The error of [`crate::NodeApi::submit_tx`]: the same type as [`ApiError`]. Use [`ApiError::rejected`] for an
/// admission reason (422), [`ApiError::mempool_full`] for a full pool or sender quota (429, with `Retry-After`),
/// [`ApiError::unavailable`] when the node cannot take transactions now (503).
pub type SubmitError = ApiError;

impl ApiError {
    /// An error of `kind` with `code` and `message`.
    pub fn new(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError { kind, code: code.into(), message: message.into() }
    }

    /// Malformed input (400).
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::BadRequest, code, message)
    }

    /// Missing or invalid request signature (401).
    pub fn unauthorized(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Unauthorized, code, message)
    }

    /// The signer may not read this (403).
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Forbidden, codes::FORBIDDEN, message)
    }

    /// Not found (404).
    pub fn not_found(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::NotFound, code, message)
    }

    /// Refused by the node with a reason (422), e.g. `ApiError::rejected(reason.code(), reason.to_string())`.
    pub fn rejected(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Rejected, code, message)
    }

    /// The mempool is full (429).
    pub fn mempool_full(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::MempoolFull, code, message)
    }

    /// Temporarily unavailable (503).
    pub fn unavailable(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Unavailable, code, message)
    }

    /// Internal failure (500). Log the detail on the node; the message is sent to the client.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Internal, codes::INTERNAL, message)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: self.code.clone(), message: self.message.clone() } }
    }
}

/// The JSON body of every error response: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message of an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `bad_hex`, `tx_not_found`, `insufficient_available`.
    #[schema(example = "bad_hex")]
    pub code: String,
    /// Human-readable detail.
    #[schema(example = "transaction hex is not hexadecimal")]
    pub message: String,
}

/// Seconds a client should wait before retrying after a `429`.
pub const RETRY_AFTER_SECS: u64 = 1;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut resp = (status, axum::Json(self.body())).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, RETRY_AFTER_SECS.into());
        }
        resp
    }
}

/// A failure of the server itself (not of a request).
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The listener failed.
    #[error("rpc server i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The OpenAPI document could not be rendered.
    #[error("cannot render the OpenAPI document: {0}")]
    OpenApi(String),
}
