//! Ledger state: accounts, read-only contract queries, state values with Merkle proofs.

use super::tx::body_rejection;
use super::{call, decode_hex, parse_address};
use crate::errors::{codes, ApiError, ErrorBody};
use crate::limits::MAX_PROOF_KEY_BYTES;
use crate::model::{AccountInfo, QueryRequest, QueryResult, StateProofInfo};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::Json;
use purse_types::tx::MAX_METHOD_LEN;

/// An account's committed nonce, tier, roles and balances.
#[utoipa::path(get, path = "/account/{address}", tag = "state",
    params(("address" = String, Path, description = "Account address, `purse1…` bech32m")),
    responses(
        (status = 200, description = "The account", body = AccountInfo),
        (status = 400, description = "Malformed address (`bad_address`)", body = ErrorBody),
        (status = 404, description = "No such account (`account_not_found`)", body = ErrorBody),
    ))]
pub(crate) async fn account(
    State(state): State<AppState>,
    Path(address): Path<String>,
) -> Result<Json<AccountInfo>, ApiError> {
    let address = parse_address(&address)?;
    call(&state, move |api| api.account(&address))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(codes::ACCOUNT_NOT_FOUND, format!("no account {address}")))
}

/// A read-only contract call against committed state. Any write by the contract fails the query.
#[utoipa::path(post, path = "/query", tag = "state",
    request_body = QueryRequest,
    responses(
        (status = 200, description = "What the method returned", body = QueryResult),
        (status = 400, description = "Malformed JSON, address, method or hex (`bad_json`, `bad_address`, `bad_method`, `bad_hex`)", body = ErrorBody),
        (status = 404, description = "No contract at that address (`contract_not_found`)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "The call trapped, tried to write, or ran out of fuel", body = ErrorBody),
    ))]
pub(crate) async fn query(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<QueryResult>, ApiError> {
    let body = body.map_err(body_rejection)?;
    let req: QueryRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(codes::BAD_JSON, format!("invalid JSON body: {e}")))?;
    let contract = parse_address(&req.contract)?;
    if req.method.is_empty() || req.method.len() > MAX_METHOD_LEN {
        return Err(ApiError::bad_request(
            codes::BAD_METHOD,
            format!("method name must be 1 to {MAX_METHOD_LEN} bytes"),
        ));
    }
    let args = decode_hex(&req.args, "args")?;
    let method = req.method;
    call(&state, move |api| api.query(&contract, &method, &args)).await.map(Json)
}

/// A raw state value, or its absence, with a Merkle proof against the last committed state root.
#[utoipa::path(get, path = "/proof/{key}", tag = "state",
    params(("key" = String, Path, description = "State key, hex (1 to 1024 bytes)")),
    responses(
        (status = 200, description = "Value (or null) and proof", body = StateProofInfo),
        (status = 400, description = "Malformed key (`bad_hex`, `bad_key`)", body = ErrorBody),
    ))]
pub(crate) async fn proof(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<StateProofInfo>, ApiError> {
    let key = decode_hex(&key, "key")?;
    if key.is_empty() || key.len() > MAX_PROOF_KEY_BYTES {
        return Err(ApiError::bad_request(
            codes::BAD_KEY,
            format!("key must be 1 to {MAX_PROOF_KEY_BYTES} bytes, got {}", key.len()),
        ));
    }
    call(&state, move |api| api.proof(&key)).await.map(Json)
}
