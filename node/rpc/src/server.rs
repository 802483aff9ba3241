//! Building the router and serving it with graceful shutdown.

use crate::api::NodeApi;
use crate::config::RpcConfig;
use crate::errors::RpcError;
use crate::listener::LimitedListener;
use crate::middleware;
use crate::openapi::openapi_json;
use crate::routes::{method_router, ROUTES};
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use std::future::{Future, IntoFuture};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::catch_panic::CatchPanicLayer;

fn build(
    api: Arc<dyn NodeApi>,
    config: RpcConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<Router, RpcError> {
    let state = AppState {
        api,
        ws_permits: Arc::new(Semaphore::new(config.ws_max_connections)),
        config: Arc::new(config),
        shutdown,
        openapi_json: Arc::new(openapi_json()?),
    };
    let mut router: Router<AppState> = Router::new();
    for r in ROUTES {
        router = router.route(r.path, method_router(r.verb, r.endpoint));
    }
    // Layers run outermost-last: JSON errors → metrics → deadline → concurrency limit → panic catcher → body
    // limit → handler.
    let router = router
        .fallback(middleware::not_found)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(GlobalConcurrencyLimitLayer::new(state.config.max_concurrent_requests.max(1)))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::deadline))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::record))
        .layer(axum::middleware::from_fn(middleware::json_errors))
        .with_state(state);
    Ok(router)
}

/// The RPC as an axum [`Router`], for embedding in another server or for in-process tests. WebSocket
/// connections opened through it are closed only when their client leaves (use [`serve`] for shutdown).
pub fn router(api: Arc<dyn NodeApi>, config: RpcConfig) -> Result<Router, RpcError> {
    let (_tx, rx) = watch::channel(false);
    build(api, config, rx)
}

/// Serves the RPC on `listener` until `shutdown` completes, then stops accepting, tells WebSocket clients it
/// is going away, lets in-flight requests finish for up to `config.shutdown_grace`, and returns.
pub async fn serve(
    listener: TcpListener,
    api: Arc<dyn NodeApi>,
    config: RpcConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RpcError> {
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let grace = config.shutdown_grace;
    let max_connections = config.max_connections;
    let idle = config.connection_idle_timeout;
    let app = build(api, config, shutdown_rx.clone())?;
    let listener = LimitedListener::new(listener, max_connections, idle);
    let signal = async move {
        shutdown.await;
        tracing::info!("rpc server shutting down");
        let _ = shutdown_tx.send(true);
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(signal).into_future();
    let mut rx = shutdown_rx;
    let grace_expired = async move {
        if rx.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => result.map_err(RpcError::Io),
        () = grace_expired => {
            tracing::warn!("rpc connections still open after the shutdown grace period; closing them");
            Ok(())
        }
    }
}
