//! The crate's error type.

use std::time::Duration;

use libp2p::PeerId;

/// Everything that can go wrong in the networking layer. Bad input from the network or from the caller is an
/// error value, never a panic.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The configuration is inconsistent (message names the field).
    #[error("invalid network configuration: {0}")]
    Config(String),
    /// A key could not be turned into a libp2p identity.
    #[error("invalid key: {0}")]
    Key(String),
    /// The transport could not be built or could not listen on the configured address.
    #[error("transport error: {0}")]
    Transport(String),
    /// The network task has stopped (after [`crate::NetworkHandle::shutdown`] or a fatal error).
    #[error("the network service has stopped")]
    Closed,
    /// The bounded command queue is full; the caller may retry later or drop the message.
    #[error("the network command queue is full")]
    Busy,
    /// A gossip payload exceeds its topic's limit.
    #[error("message of {size} bytes exceeds the {limit}-byte limit")]
    MessageTooLarge {
        /// Size of the rejected payload.
        size: usize,
        /// The limit it exceeds.
        limit: usize,
    },
    /// A sync response exceeds the response size limit.
    #[error("sync response of {size} bytes exceeds the {limit}-byte limit")]
    ResponseTooLarge {
        /// Encoded size of the rejected response.
        size: usize,
        /// The limit it exceeds.
        limit: usize,
    },
    /// A sync request is malformed (for example a block range that is empty or too long).
    #[error("invalid sync request: {0}")]
    InvalidRequest(String),
    /// The peer answered with a response that does not match the request.
    #[error("invalid sync response from {peer}: {reason}")]
    InvalidResponse {
        /// The peer that answered.
        peer: PeerId,
        /// What was wrong.
        reason: String,
    },
    /// The peer is not connected (requests are only sent over existing connections).
    #[error("peer {0} is not connected")]
    NotConnected(PeerId),
    /// Too many requests are in flight.
    #[error("too many sync requests in flight")]
    TooManyRequests,
    /// No response arrived in time.
    #[error("sync request timed out after {0:?}")]
    Timeout(Duration),
    /// The request failed on the wire (connection closed, stream reset, size limit, protocol mismatch...).
    #[error("sync request failed: {0}")]
    RequestFailed(String),
}
