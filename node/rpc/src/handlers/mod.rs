//! Request handlers, one module per resource, and the helpers they share.

pub(crate) mod blocks;
pub(crate) mod history;
pub(crate) mod ledger;
pub(crate) mod meta;
pub(crate) mod node;
pub(crate) mod rules;
pub(crate) mod tx;

use crate::api::NodeApi;
use crate::errors::{codes, ApiError};
use crate::state::AppState;
use purse_types::{Address, Hash};

/// Runs `f` against the node on the blocking pool. A panic in the node becomes `500 internal`.
pub(crate) async fn call<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn NodeApi) -> Result<T, ApiError> + Send + 'static,
{
    let api = state.api.clone();
    match tokio::task::spawn_blocking(move || f(api.as_ref())).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => {
            tracing::error!("a NodeApi method panicked");
            Err(ApiError::internal("the node failed to answer"))
        }
        Err(_) => Err(ApiError::unavailable(codes::SHUTTING_DOWN, "the server is shutting down")),
    }
}

/// Parses a 64-hex-character hash.
pub(crate) fn parse_hash(s: &str, what: &str) -> Result<Hash, ApiError> {
    Hash::from_hex(s).map_err(|e| ApiError::bad_request(codes::BAD_HASH, format!("{what}: {e}")))
}

/// Parses a `purse1…` address.
pub(crate) fn parse_address(s: &str) -> Result<Address, ApiError> {
    s.parse::<Address>().map_err(|e| ApiError::bad_request(codes::BAD_ADDRESS, e.to_string()))
}

/// Decodes hex (either case), saying which field was wrong.
pub(crate) fn decode_hex(s: &str, what: &str) -> Result<Vec<u8>, ApiError> {
    hex::decode(s).map_err(|e| ApiError::bad_request(codes::BAD_HEX, format!("{what} is not valid hex: {e}")))
}
