//! The chain's current rules from committed state: governance (keys, threshold, voting period, parameters,
//! validator schedule, role administrators, open proposals), one proposal, an account's roles, an asset's
//! controls, a tier's limits, and the deployment allow-list (docs/governance.md, "Queries").

use super::{call, parse_address, parse_hash};
use crate::errors::{codes, ApiError, ErrorBody};
use crate::model::{
    AssetControlsInfo, CodeAllowedInfo, GovernanceInfo, ProposalInfo, RolesInfo, TierLimitsQueryInfo,
};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use purse_types::{Address, AssetId};

/// Parses an asset id (64 hex characters).
fn parse_asset(s: &str) -> Result<AssetId, ApiError> {
    parse_hash(s, "asset id").map(|h| AssetId(h.0))
}

/// Parses a KYC tier (a decimal `u8`).
fn parse_tier(s: &str) -> Result<u8, ApiError> {
    s.parse::<u8>()
        .map_err(|_| ApiError::bad_request(codes::BAD_TIER, format!("tier {s:?} is not a decimal 0 to 255")))
}

/// The `holder` parameter of `GET /asset/{id}/controls`; any other parameter is refused.
fn parse_holder(query: Option<&str>) -> Result<Option<Address>, ApiError> {
    let mut holder = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name != "holder" {
            return Err(ApiError::bad_request(
                codes::BAD_REQUEST,
                format!("unknown query parameter {name:?} (only `holder` is accepted)"),
            ));
        }
        if holder.is_some() {
            return Err(ApiError::bad_request(codes::BAD_REQUEST, "`holder` is given more than once"));
        }
        holder = Some(parse_address(value)?);
    }
    Ok(holder)
}

/// The current rules: governance keys, threshold and voting period (`null` without governance), deployment
/// policy, chain parameters, validator schedule, role administrators and the open proposals.
#[utoipa::path(get, path = "/governance", tag = "rules",
    responses(
        (status = 200, description = "The rules in committed state", body = GovernanceInfo),
        (status = 500, description = "Internal failure", body = ErrorBody),
    ))]
pub(crate) async fn governance(State(state): State<AppState>) -> Result<Json<GovernanceInfo>, ApiError> {
    call(&state, |api| api.governance()).await.map(Json)
}

/// A governance proposal (open, expired, passed or rejected) with its action and votes.
#[utoipa::path(get, path = "/proposal/{id}", tag = "rules",
    params(("id" = String, Path, description = "Proposal id, 64 hex characters")),
    responses(
        (status = 200, description = "The proposal", body = ProposalInfo),
        (status = 400, description = "Malformed id (`bad_hash`)", body = ErrorBody),
        (status = 404, description = "No such proposal (`proposal_not_found`)", body = ErrorBody),
    ))]
pub(crate) async fn proposal(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ProposalInfo>, ApiError> {
    let id = parse_hash(&id, "proposal id")?;
    call(&state, move |api| api.proposal(&id))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(codes::PROPOSAL_NOT_FOUND, format!("no proposal {id}")))
}

/// The roles an address holds and the roles it administers (empty lists when none).
#[utoipa::path(get, path = "/roles/{address}", tag = "rules",
    params(("address" = String, Path, description = "Account or contract address, `purse1…` bech32m")),
    responses(
        (status = 200, description = "The roles", body = RolesInfo),
        (status = 400, description = "Malformed address (`bad_address`)", body = ErrorBody),
    ))]
pub(crate) async fn roles(
    State(state): State<AppState>,
    Path(address): Path<String>,
) -> Result<Json<RolesInfo>, ApiError> {
    let address = parse_address(&address)?;
    call(&state, move |api| api.roles(&address)).await.map(Json)
}

/// An asset's controls: the flags fixed at creation, the global freeze and, with `?holder=`, the controls
/// on that account's holding.
#[utoipa::path(get, path = "/asset/{id}/controls", tag = "rules",
    params(
        ("id" = String, Path, description = "Asset id, 64 hex characters"),
        ("holder" = Option<String>, Query, description = "An account (`purse1…`) whose holding to report"),
    ),
    responses(
        (status = 200, description = "The controls", body = AssetControlsInfo),
        (status = 400, description = "Malformed id, holder or query (`bad_hash`, `bad_address`, `bad_request`)", body = ErrorBody),
        (status = 404, description = "No such asset (`asset_not_found`)", body = ErrorBody),
    ))]
pub(crate) async fn asset_controls(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<AssetControlsInfo>, ApiError> {
    let asset = parse_asset(&id)?;
    let holder = parse_holder(query.as_deref())?;
    call(&state, move |api| api.asset_controls(&asset, holder.as_ref()))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(codes::ASSET_NOT_FOUND, format!("no asset {asset}")))
}

/// A tier's per-transaction and daily limits for an asset (`limits: null`: unlimited).
#[utoipa::path(get, path = "/tier/{tier}/limits/{asset}", tag = "rules",
    params(
        ("tier" = u8, Path, description = "KYC tier, decimal 0 to 255"),
        ("asset" = String, Path, description = "Asset id, 64 hex characters"),
    ),
    responses(
        (status = 200, description = "The limits", body = TierLimitsQueryInfo),
        (status = 400, description = "Malformed tier or asset id (`bad_tier`, `bad_hash`)", body = ErrorBody),
        (status = 404, description = "No such asset (`asset_not_found`)", body = ErrorBody),
    ))]
pub(crate) async fn tier_limits(
    State(state): State<AppState>,
    Path((tier, asset)): Path<(String, String)>,
) -> Result<Json<TierLimitsQueryInfo>, ApiError> {
    let tier = parse_tier(&tier)?;
    let asset = parse_asset(&asset)?;
    call(&state, move |api| api.tier_limits(tier, &asset))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(codes::ASSET_NOT_FOUND, format!("no asset {asset}")))
}

/// Whether a contract code hash is on the deployment allow-list, and whether deployment is open.
#[utoipa::path(get, path = "/code/{hash}/allowed", tag = "rules",
    params(("hash" = String, Path, description = "Code hash (`purse_vm::code_hash`), 64 hex characters")),
    responses(
        (status = 200, description = "The deployment policy for this code", body = CodeAllowedInfo),
        (status = 400, description = "Malformed hash (`bad_hash`)", body = ErrorBody),
    ))]
pub(crate) async fn code_allowed(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Json<CodeAllowedInfo>, ApiError> {
    let hash = parse_hash(&hash, "code hash")?;
    call(&state, move |api| api.code_allowed(&hash)).await.map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_parameter() {
        assert_eq!(parse_holder(None).map_err(|e| e.code), Ok(None));
        assert_eq!(parse_holder(Some("")).map_err(|e| e.code), Ok(None));
        let a = Address([3; 32]);
        assert_eq!(parse_holder(Some(&format!("holder={a}"))).map_err(|e| e.code), Ok(Some(a)));
        assert_eq!(parse_holder(Some("holder=nope")).map_err(|e| e.code), Err(codes::BAD_ADDRESS.into()));
        assert_eq!(parse_holder(Some("holder")).map_err(|e| e.code), Err(codes::BAD_ADDRESS.into()));
        assert_eq!(parse_holder(Some("owner=x")).map_err(|e| e.code), Err(codes::BAD_REQUEST.into()));
        let twice = format!("holder={a}&holder={a}");
        assert_eq!(parse_holder(Some(&twice)).map_err(|e| e.code), Err(codes::BAD_REQUEST.into()));
    }

    #[test]
    fn tiers_and_assets() {
        assert_eq!(parse_tier("0").map_err(|e| e.code), Ok(0));
        assert_eq!(parse_tier("255").map_err(|e| e.code), Ok(255));
        for bad in ["256", "-1", "x", ""] {
            assert_eq!(parse_tier(bad).map_err(|e| e.code), Err(codes::BAD_TIER.into()), "{bad}");
        }
        assert_eq!(parse_asset(&"ab".repeat(32)).map_err(|e| e.code), Ok(AssetId([0xab; 32])));
        assert_eq!(parse_asset("ab").map_err(|e| e.code), Err(codes::BAD_HASH.into()));
    }
}
