//! Committed blocks by height or hash.

use super::{call, parse_hash};
use crate::errors::{codes, ApiError, ErrorBody};
use crate::model::BlockInfo;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;

/// A committed block by height: header, transaction ids, evidence ids, certificates.
#[utoipa::path(get, path = "/block/{height}", tag = "blocks",
    params(("height" = u64, Path, description = "Block height (decimal)")),
    responses(
        (status = 200, description = "The block", body = BlockInfo),
        (status = 400, description = "Malformed height (`bad_height`)", body = ErrorBody),
        (status = 404, description = "No block at that height (`block_not_found`)", body = ErrorBody),
    ))]
pub(crate) async fn block_by_height(
    State(state): State<AppState>,
    Path(height): Path<String>,
) -> Result<Json<BlockInfo>, ApiError> {
    let height: u64 = height.parse().map_err(|_| {
        ApiError::bad_request(codes::BAD_HEIGHT, format!("height {height:?} is not a decimal u64"))
    })?;
    call(&state, move |api| api.block_by_height(height)).await?.map(Json).ok_or_else(|| {
        ApiError::not_found(codes::BLOCK_NOT_FOUND, format!("no committed block at height {height}"))
    })
}

/// A committed block by id.
#[utoipa::path(get, path = "/block/hash/{hash}", tag = "blocks",
    params(("hash" = String, Path, description = "Block id, 64 hex characters")),
    responses(
        (status = 200, description = "The block", body = BlockInfo),
        (status = 400, description = "Malformed hash (`bad_hash`)", body = ErrorBody),
        (status = 404, description = "No such block (`block_not_found`)", body = ErrorBody),
    ))]
pub(crate) async fn block_by_hash(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Json<BlockInfo>, ApiError> {
    let hash = parse_hash(&hash, "block hash")?;
    call(&state, move |api| api.block_by_hash(&hash))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(codes::BLOCK_NOT_FOUND, format!("no committed block {hash}")))
}
