//! Node-level endpoints: health, readiness, status, validators, evidence.

use super::call;
use crate::errors::{codes, ApiError, ErrorBody};
use crate::model::{EvidenceList, Health, NodeStatus, Readiness, ValidatorsInfo};
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Liveness: the server answers. Does not touch the node.
#[utoipa::path(get, path = "/health", tag = "node",
    responses((status = 200, description = "The RPC server is up", body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Readiness: 200 when the node can serve traffic, 503 `not_ready` with reasons otherwise.
#[utoipa::path(get, path = "/ready", tag = "node",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready (`not_ready`)", body = ErrorBody),
    ))]
pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    match call(&state, |api| Ok(api.readiness())).await {
        Ok(r) if r.ready => Json(r).into_response(),
        Ok(r) => ApiError::unavailable(codes::NOT_READY, r.reasons.join(", ")).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The node's view of the chain: chain id, height, latest block, peers, mempool size, sync state.
#[utoipa::path(get, path = "/status", tag = "node",
    responses(
        (status = 200, description = "Status", body = NodeStatus),
        (status = 500, description = "Internal failure", body = ErrorBody),
        (status = 503, description = "Node unavailable", body = ErrorBody),
    ))]
pub(crate) async fn status(State(state): State<AppState>) -> Result<Json<NodeStatus>, ApiError> {
    call(&state, |api| api.status()).await.map(Json)
}

/// The validator set deciding the next block.
#[utoipa::path(get, path = "/validators", tag = "node",
    responses(
        (status = 200, description = "Validator set", body = ValidatorsInfo),
        (status = 500, description = "Internal failure", body = ErrorBody),
    ))]
pub(crate) async fn validators(State(state): State<AppState>) -> Result<Json<ValidatorsInfo>, ApiError> {
    call(&state, |api| api.validators()).await.map(Json)
}

/// Pending and recently committed misbehaviour evidence.
#[utoipa::path(get, path = "/evidence", tag = "node",
    responses(
        (status = 200, description = "Evidence", body = EvidenceList),
        (status = 500, description = "Internal failure", body = ErrorBody),
    ))]
pub(crate) async fn evidence(State(state): State<AppState>) -> Result<Json<EvidenceList>, ApiError> {
    call(&state, |api| api.evidence()).await.map(|evidence| Json(EvidenceList { evidence }))
}
