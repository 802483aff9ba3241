//! The route table: the single source of truth for the paths the server serves. The router is built from
//! [`ROUTES`] and nothing else, and a test checks the OpenAPI document lists exactly these operations.

use crate::handlers;
use crate::state::AppState;
use crate::ws;
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};

/// HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// GET.
    Get,
    /// POST.
    Post,
}

impl Verb {
    /// The `http` method.
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
        }
    }

    /// Lower-case name, as OpenAPI spells operations.
    pub fn as_lower(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
        }
    }
}

/// What a route does (one handler each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Liveness.
    Health,
    /// Readiness.
    Ready,
    /// Chain status.
    Status,
    /// Submit a transaction.
    SubmitTx,
    /// Validate a transaction without submitting.
    ValidateTx,
    /// Transaction status and receipt.
    GetTx,
    /// Block by height.
    BlockByHeight,
    /// Block by hash.
    BlockByHash,
    /// Account.
    Account,
    /// An account's history (signed requests).
    AccountTxs,
    /// Read-only contract query.
    Query,
    /// State value with Merkle proof.
    Proof,
    /// Validator set.
    Validators,
    /// Evidence.
    Evidence,
    /// The current rules (governance, parameters, validator schedule, role administrators, open proposals).
    Governance,
    /// One governance proposal.
    Proposal,
    /// An address's roles.
    Roles,
    /// An asset's controls.
    AssetControls,
    /// A tier's limits for an asset.
    TierLimits,
    /// Whether a code hash may be deployed.
    CodeAllowed,
    /// The OpenAPI document.
    OpenApi,
    /// Prometheus metrics.
    Metrics,
    /// WebSocket subscriptions.
    Ws,
}

/// One served operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Method.
    pub verb: Verb,
    /// Path template, with `{param}` segments (the same syntax in axum and OpenAPI).
    pub path: &'static str,
    /// Handler.
    pub endpoint: Endpoint,
}

const fn route(verb: Verb, path: &'static str, endpoint: Endpoint) -> Route {
    Route { verb, path, endpoint }
}

/// Every operation the server serves.
pub const ROUTES: &[Route] = &[
    route(Verb::Get, "/health", Endpoint::Health),
    route(Verb::Get, "/ready", Endpoint::Ready),
    route(Verb::Get, "/status", Endpoint::Status),
    route(Verb::Post, "/tx", Endpoint::SubmitTx),
    route(Verb::Post, "/tx/validate", Endpoint::ValidateTx),
    route(Verb::Get, "/tx/{id}", Endpoint::GetTx),
    route(Verb::Get, "/block/{height}", Endpoint::BlockByHeight),
    route(Verb::Get, "/block/hash/{hash}", Endpoint::BlockByHash),
    route(Verb::Get, "/account/{address}", Endpoint::Account),
    route(Verb::Get, "/account/{address}/txs", Endpoint::AccountTxs),
    route(Verb::Post, "/query", Endpoint::Query),
    route(Verb::Get, "/proof/{key}", Endpoint::Proof),
    route(Verb::Get, "/validators", Endpoint::Validators),
    route(Verb::Get, "/evidence", Endpoint::Evidence),
    route(Verb::Get, "/governance", Endpoint::Governance),
    route(Verb::Get, "/proposal/{id}", Endpoint::Proposal),
    route(Verb::Get, "/roles/{address}", Endpoint::Roles),
    route(Verb::Get, "/asset/{id}/controls", Endpoint::AssetControls),
    route(Verb::Get, "/tier/{tier}/limits/{asset}", Endpoint::TierLimits),
    route(Verb::Get, "/code/{hash}/allowed", Endpoint::CodeAllowed),
    route(Verb::Get, "/openapi.json", Endpoint::OpenApi),
    route(Verb::Get, "/metrics", Endpoint::Metrics),
    route(Verb::Get, "/ws", Endpoint::Ws),
];

/// The handler of `endpoint`, mounted for `verb` only (other methods get 405).
pub(crate) fn method_router(verb: Verb, endpoint: Endpoint) -> MethodRouter<AppState> {
    let f = verb.filter();
    match endpoint {
        Endpoint::Health => on(f, handlers::node::health),
        Endpoint::Ready => on(f, handlers::node::ready),
        Endpoint::Status => on(f, handlers::node::status),
        Endpoint::SubmitTx => on(f, handlers::tx::submit_tx),
        Endpoint::ValidateTx => on(f, handlers::tx::validate_tx),
        Endpoint::GetTx => on(f, handlers::tx::get_tx),
        Endpoint::BlockByHeight => on(f, handlers::blocks::block_by_height),
        Endpoint::BlockByHash => on(f, handlers::blocks::block_by_hash),
        Endpoint::Account => on(f, handlers::ledger::account),
        Endpoint::AccountTxs => on(f, handlers::history::account_txs),
        Endpoint::Query => on(f, handlers::ledger::query),
        Endpoint::Proof => on(f, handlers::ledger::proof),
        Endpoint::Validators => on(f, handlers::node::validators),
        Endpoint::Evidence => on(f, handlers::node::evidence),
        Endpoint::Governance => on(f, handlers::rules::governance),
        Endpoint::Proposal => on(f, handlers::rules::proposal),
        Endpoint::Roles => on(f, handlers::rules::roles),
        Endpoint::AssetControls => on(f, handlers::rules::asset_controls),
        Endpoint::TierLimits => on(f, handlers::rules::tier_limits),
        Endpoint::CodeAllowed => on(f, handlers::rules::code_allowed),
        Endpoint::OpenApi => on(f, handlers::meta::openapi),
        Endpoint::Metrics => on(f, handlers::meta::metrics),
        Endpoint::Ws => on(f, ws::ws_upgrade),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn paths_and_endpoints_are_unique() {
        let paths: HashSet<_> = ROUTES.iter().map(|r| r.path).collect();
        assert_eq!(paths.len(), ROUTES.len(), "one path per route (a second method would need merging)");
        let endpoints: HashSet<_> = ROUTES.iter().map(|r| r.endpoint).collect();
        assert_eq!(endpoints.len(), ROUTES.len());
    }

    #[test]
    fn issue_six_paths_are_kept() {
        for (verb, path) in [
            (Verb::Get, "/health"),
            (Verb::Get, "/status"),
            (Verb::Post, "/tx"),
            (Verb::Get, "/tx/{id}"),
            (Verb::Get, "/block/{height}"),
            (Verb::Get, "/account/{address}"),
            (Verb::Post, "/query"),
            (Verb::Get, "/proof/{key}"),
            (Verb::Get, "/validators"),
            (Verb::Get, "/evidence"),
            (Verb::Get, "/openapi.json"),
            (Verb::Get, "/metrics"),
            (Verb::Get, "/ws"),
        ] {
            assert!(ROUTES.iter().any(|r| r.verb == verb && r.path == path), "{verb:?} {path}");
        }
    }
}
