//! Building the router and serving it with graceful shutdown.

use crate::api::NodeApi;
use crate::config::RpcConfig;
use crate::errors::RpcError;
use crate::listener::LimitedListener;
use crate::middleware;
use crate::openapi::openapi_json;
use crate::routes::{method_router, ROUTES};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::serve::Listener;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;

fn build(
    api: Arc<dyn NodeApi>,
    config: RpcConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<Router, RpcError> {
    let state = AppState {
        api,
        ws_permits: Arc::new(Semaphore::new(config.ws_max_connections)),
        upload_permits: Arc::new(Semaphore::new(config.max_concurrent_requests.max(1))),
        config: Arc::new(config),
        shutdown,
        openapi_json: Arc::new(openapi_json()?),
    };
    let mut router: Router<AppState> = Router::new();
    for r in ROUTES {
        router = router.route(r.path, method_router(r.verb, r.endpoint));
    }
    // Layers run outermost-last: JSON errors → metrics → deadline → body buffering → concurrency limit →
    // panic catcher → body limit → handler. The body is read before a concurrency slot is taken.
    let router = router
        .fallback(middleware::not_found)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(GlobalConcurrencyLimitLayer::new(state.config.max_concurrent_requests.max(1)))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::buffer_body))
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
///
/// Each connection is served by hyper's HTTP/1.1 server with a timer, so that its header-read timeout applies
/// (`config.header_read_timeout`): a client must send a request's headers within it, and a keep-alive
/// connection waiting for its next request is closed after it. Without it, a client sending a byte now and
/// then holds a connection slot for good.
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
    let header_timeout = config.header_read_timeout;
    let app = build(api, config, shutdown_rx.clone())?;
    let mut listener = LimitedListener::new(listener, max_connections, idle);
    // Connection tasks hold a receiver each: once the sender sees none left, every connection has ended.
    let (open_tx, open_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            (io, _addr) = listener.accept() => {
                serve_connection(io, app.clone(), header_timeout, shutdown_rx.clone(), open_rx.clone());
            }
            () = &mut shutdown => {
                tracing::info!("rpc server shutting down");
                let _ = shutdown_tx.send(true);
                break;
            }
        }
    }
    drop(listener);
    drop(open_rx);
    tokio::select! {
        () = open_tx.closed() => Ok(()),
        () = tokio::time::sleep(grace) => {
            tracing::warn!("rpc connections still open after the shutdown grace period; closing them");
            Ok(())
        }
    }
}

/// Serves one connection on its own task until it ends, shutting it down gracefully (in-flight requests
/// finish, no new ones are read) once `stop` turns true. `open` is dropped when the connection ends.
fn serve_connection(
    io: crate::listener::LimitedStream,
    app: Router,
    header_timeout: std::time::Duration,
    mut stop: watch::Receiver<bool>,
    open: watch::Receiver<()>,
) {
    let service = TowerToHyperService::new(app.map_request(|req: Request<Incoming>| req.map(Body::new)));
    tokio::spawn(async move {
        // HTTP/1.1 only (as before): the header-read timeout is HTTP/1's, and an HTTP/2 connection kept alive
        // by pings would escape it.
        let mut builder = http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
        let conn = builder.serve_connection(TokioIo::new(io), service).with_upgrades();
        let mut conn = std::pin::pin!(conn);
        let mut stopping = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::trace!("rpc connection ended: {e}");
                    }
                    break;
                }
                _ = stop.wait_for(|s| *s), if !stopping => {
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
        drop(open);
    });
}
