//! An account's history: the committed transactions that name it, for the account itself or an auditor
//! (signed requests, [`crate::auth`]; docs/rpc.md and docs/governance.md, "Audit").

use super::{call, parse_address};
use crate::auth::{verify_request, AUTH_HEADER};
use crate::errors::{codes, ApiError, ErrorBody};
use crate::model::AccountTxsInfo;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::Json;
use std::time::{SystemTime, UNIX_EPOCH};

/// Most transactions one page holds (`limit`'s ceiling and default).
pub const MAX_HISTORY_PAGE: usize = 100;

/// `after=<height>.<index>` and `limit=<n>`; any other parameter is refused.
fn parse_query(query: Option<&str>) -> Result<(Option<(u64, u32)>, usize), ApiError> {
    let bad = |m: String| ApiError::bad_request(codes::BAD_REQUEST, m);
    let (mut after, mut limit) = (None, MAX_HISTORY_PAGE);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "after" => {
                let parsed =
                    value.split_once('.').and_then(|(h, i)| Some((h.parse().ok()?, i.parse().ok()?)));
                after =
                    Some(parsed.ok_or_else(|| bad(format!("after={value:?}: expected <height>.<index>")))?);
            }
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_HISTORY_PAGE).contains(n))
                    .ok_or_else(|| bad(format!("limit={value:?}: expected 1 to {MAX_HISTORY_PAGE}")))?;
            }
            other => return Err(bad(format!("unknown query parameter {other:?} (`after`, `limit`)"))),
        }
    }
    Ok((after, limit))
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The committed transactions naming an account (sent by it, sent to it, acting on it), oldest first, in pages.
/// Only for the account itself or an auditor: the request is signed (`x-purse-auth`, docs/rpc.md).
#[utoipa::path(get, path = "/account/{address}/txs", tag = "state",
    params(
        ("address" = String, Path, description = "Account address, `purse1…` bech32m"),
        ("after" = Option<String>, Query, description = "Page after this position, `<height>.<index>` (the previous page's `next`)"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 100 (default 100)"),
        ("x-purse-auth" = String, Header, description = "`<public key hex>.<timestamp ms>.<signature hex>` over the chain id, path and query, and time"),
    ),
    responses(
        (status = 200, description = "A page of the history", body = AccountTxsInfo),
        (status = 400, description = "Malformed address or query (`bad_address`, `bad_request`)", body = ErrorBody),
        (status = 401, description = "No or an invalid signature (`auth_required`, `bad_auth`)", body = ErrorBody),
        (status = 403, description = "The signer is neither the account nor an auditor (`forbidden`)", body = ErrorBody),
    ))]
pub(crate) async fn account_txs(
    State(state): State<AppState>,
    Path(address): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<AccountTxsInfo>, ApiError> {
    let address = parse_address(&address)?;
    let (after, limit) = parse_query(uri.query())?;
    let path = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| uri.path().to_string());
    let header = headers.get(AUTH_HEADER).map(|v| v.to_str().unwrap_or(""));
    let reader = verify_request(header, state.api.chain_id().as_str(), &path, now_ms())?;
    call(&state, move |api| api.account_txs(&reader, &address, after, limit)).await.map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        assert_eq!(parse_query(None).unwrap(), (None, MAX_HISTORY_PAGE));
        assert_eq!(parse_query(Some("after=12.3&limit=7")).unwrap(), (Some((12, 3)), 7));
        for bad in ["after=12", "after=x.1", "limit=0", "limit=101", "limit=x", "page=2"] {
            assert_eq!(parse_query(Some(bad)).unwrap_err().code, codes::BAD_REQUEST, "{bad}");
        }
    }
}
