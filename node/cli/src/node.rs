//! `purse node run`: opens the store, starts libp2p, the engine thread, the gossip bridge, block sync and the
//! RPC server, and stops them in order on SIGINT/SIGTERM.
//!
//! Threads: the engine runs on its own std thread (it owns consensus, the store's writer, the mempool and the
//! VM) and is fed through its bounded inbox; a second std thread turns the engine's commit events into RPC
//! events and metrics; a 2-worker tokio runtime runs the network, the bridge, sync and RPC.

use crate::api::NodeService;
use crate::bridge::{BridgeStats, EventLoop, GossipJudge, Libp2pNetwork};
use crate::config::{Config, LogFormat, DB_DIR};
use crate::snapshots::{state_sync, SnapshotDir, Snapshotter, StateSyncSettings, SNAPSHOTS_DIR};
use crate::sync::{SyncClient, SyncProgress, SyncSettings};
use anyhow::{anyhow, Context, Result};
use purse_engine::{Engine, EngineEvent, EngineGauges, Inbound, ValidatorWatch};
use purse_network::{Multiaddr, Network, NetworkConfig, NetworkHandle, PeerId};
use purse_rpc::NodeApi;
use purse_runtime::Genesis;
use purse_state::StateConfig;
use purse_storage::{RocksConfig, RocksStore, Storage};
use purse_types::{Keypair, PublicKey};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot, watch};

/// Worker threads of the node's tokio runtime (network, bridge, sync, RPC).
pub const RUNTIME_WORKERS: usize = 2;
/// Capacity of the engine → node commit-event channel (the engine drops events when it is full).
pub const ENGINE_EVENT_CAPACITY: usize = 4096;
/// Interval between refreshes of the metrics gauges.
pub const METRICS_INTERVAL: Duration = Duration::from_secs(1);
/// Longest wait for the engine thread to stop at shutdown.
pub const ENGINE_STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for the network to close at shutdown.
pub const NETWORK_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Extra time given to the RPC server beyond its own shutdown grace.
pub const RPC_STOP_SLACK: Duration = Duration::from_secs(2);
/// How often the peer allow-list is compared with the committed validator schedule.
pub const PEER_LIST_INTERVAL: Duration = Duration::from_secs(1);

/// Options of `purse node run`.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Home directory.
    pub home: PathBuf,
    /// Single-validator development mode.
    pub dev: bool,
    /// Overrides `rpc.addr`.
    pub rpc_addr: Option<String>,
    /// Overrides `p2p.listen_addr`.
    pub p2p_addr: Option<String>,
    /// Overrides `log.format`.
    pub log_format: Option<LogFormat>,
}

/// Runs a node until SIGINT/SIGTERM (or until its engine fails).
pub fn run(opts: RunOptions) -> Result<()> {
    if opts.dev {
        crate::dev::prepare(&opts.home)?;
    }
    let config = Config::load(&opts.home)?;
    crate::logging::init(opts.log_format.unwrap_or(config.log.format), &config.log.filter);
    let genesis = crate::genesis_cmd::read(&Config::resolve(&opts.home, &config.genesis_file))?;
    let key = crate::keys::read_key_file(&Config::resolve(&opts.home, &config.key_file))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(RUNTIME_WORKERS)
        .thread_name("purse-rt")
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let result = rt.block_on(run_async(opts, config, genesis, key));
    rt.shutdown_timeout(Duration::from_secs(2));
    result
}

fn allowed_peers(genesis: &Genesis, config: &Config) -> Result<BTreeSet<PeerId>> {
    let keys: Vec<PublicKey> = genesis.validators.iter().map(|v| v.public_key).collect();
    peer_allow_list(&keys, config)
}

/// The peers of `validators` plus the configured `p2p.allowed_peers`.
fn peer_allow_list(validators: &[PublicKey], config: &Config) -> Result<BTreeSet<PeerId>> {
    let mut allowed = BTreeSet::new();
    for k in validators {
        allowed.insert(purse_network::identity::peer_id_from_public(k)?);
    }
    for p in &config.p2p.allowed_peers {
        allowed.insert(p.parse::<PeerId>().with_context(|| format!("p2p.allowed_peers: bad peer id {p:?}"))?);
    }
    Ok(allowed)
}

fn network_config(
    config: &Config,
    opts: &RunOptions,
    genesis: &Genesis,
    key: &Keypair,
) -> Result<NetworkConfig> {
    let listen = opts.p2p_addr.clone().unwrap_or_else(|| config.p2p.listen_addr.clone());
    let listen: Multiaddr = listen.parse().with_context(|| format!("bad p2p listen address {listen:?}"))?;
    let mut n =
        NetworkConfig::new(genesis.chain_id.clone(), purse_network::identity::libp2p_keypair(key)?, listen);
    n.allowed_peers = allowed_peers(genesis, config)?;
    n.bootstrap = config
        .p2p
        .peers
        .iter()
        .map(|p| p.parse::<Multiaddr>().with_context(|| format!("p2p.peers: bad address {p:?}")))
        .collect::<Result<_>>()?;
    n.max_peers = config.p2p.max_peers;
    n.request_timeout = Duration::from_millis(config.p2p.request_timeout_ms);
    n.gossip_heartbeat = Duration::from_millis(config.p2p.gossip_heartbeat_ms);
    n.event_channel_capacity = config.p2p.event_channel_capacity;
    Ok(n)
}

/// Keeps the p2p allow-list equal to the validators of the committed schedule (in force and scheduled) plus
/// the configured `p2p.allowed_peers`: a validator that governance adds is let in before its first height, one
/// it removes is disconnected once no set of the schedule holds it (unless configured).
async fn follow_validator_peers(
    net: NetworkHandle,
    validators: Arc<ValidatorWatch>,
    config: Config,
    mut stop: watch::Receiver<bool>,
) {
    let mut seen = validators.generation();
    let mut tick = tokio::time::interval(PEER_LIST_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        let generation = validators.generation();
        if generation == seen {
            continue;
        }
        seen = generation;
        match peer_allow_list(&validators.all_keys(), &config) {
            Ok(allowed) => {
                tracing::info!(peers = allowed.len(), "validator set changed; updating the peer allow-list");
                if let Err(e) = net.set_allowed_peers(allowed) {
                    tracing::warn!(error = %e, "could not update the peer allow-list");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not build the peer allow-list"),
        }
    }
}

async fn shutdown_signal() -> Result<&'static str> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => { r.context("waiting for SIGINT")?; Ok("SIGINT") }
        _ = term.recv() => Ok("SIGTERM"),
    }
}

async fn run_async(opts: RunOptions, config: Config, genesis: Genesis, key: Keypair) -> Result<()> {
    let home = opts.home.clone();
    let chain_id = genesis.chain_id.clone();
    let node_key = key.public();

    // Fail fast on ports in use, before anything is started.
    let rpc_addr = opts.rpc_addr.clone().unwrap_or_else(|| config.rpc.addr.clone());
    let listener =
        tokio::net::TcpListener::bind(&rpc_addr).await.with_context(|| format!("binding RPC {rpc_addr}"))?;
    let rpc_local = listener.local_addr()?;

    let db_dir = Config::resolve(&home, &config.data_dir).join(DB_DIR);
    std::fs::create_dir_all(&db_dir).with_context(|| format!("creating {}", db_dir.display()))?;
    let store = Arc::new(
        RocksStore::open(&db_dir, RocksConfig::default())
            .with_context(|| format!("opening {}", db_dir.display()))?,
    );
    let fresh = purse_storage::BlockReader::new(store.clone()).head()?.is_none();

    let (net, net_events) = Network::start(network_config(&config, &opts, &genesis, &key)?)
        .await
        .context("starting the p2p network")?;

    // An empty store starts from a peer's snapshot when one is offered; otherwise (and after it) block sync.
    let data_dir = Config::resolve(&home, &config.data_dir);
    let synced = if fresh && config.sync.state_sync {
        let settings = StateSyncSettings {
            min_height: config.sync.state_sync_min_height,
            wait: Duration::from_millis(config.sync.state_sync_wait_ms),
            request_timeout: Duration::from_millis(config.sync.request_timeout_ms),
        };
        match state_sync(&net, store.clone(), &genesis, &data_dir, &settings).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "state sync failed; syncing blocks from genesis");
                None
            }
        }
    } else {
        None
    };
    let storage = match synced {
        Some(s) => s,
        None => Storage::open(store.clone(), chain_id.as_str(), StateConfig::default())
            .with_context(|| format!("opening the store in {}", db_dir.display()))?,
    };
    let snapshot_dir = SnapshotDir::new(data_dir.join(SNAPSHOTS_DIR));
    let mut snapshotter = if config.sync.snapshot_interval > 0 {
        Some(Snapshotter::start(
            store.clone(),
            chain_id.to_string(),
            snapshot_dir.clone(),
            config.sync.snapshot_interval,
            config.sync.snapshots_kept,
        )?)
    } else {
        None
    };
    tracing::info!(
        moniker = %config.moniker,
        chain_id = %chain_id,
        peer_id = %net.local_peer_id(),
        p2p = ?net.dial_addrs().iter().map(ToString::to_string).collect::<Vec<_>>(),
        rpc = %rpc_local,
        "node starting"
    );

    // The engine, on its own thread; it opens (and possibly replays its WAL) there.
    let (inbox, inbox_rx) = purse_engine::inbox();
    let (engine_events, engine_events_rx) = sync_channel::<EngineEvent>(ENGINE_EVENT_CAPACITY);
    let bridge_stats = Arc::new(BridgeStats::default());
    let engine_net = Libp2pNetwork::new(net.clone(), bridge_stats.clone());
    let engine_config = config.engine_config(&home);
    let (ready_tx, ready_rx) = oneshot::channel::<Result<(Arc<EngineGauges>, Arc<ValidatorWatch>), String>>();
    let (done_tx, mut done_rx) = oneshot::channel::<Result<(), String>>();
    let engine_genesis = genesis.clone();
    let engine_thread = std::thread::Builder::new().name("engine".into()).spawn(move || {
        let result =
            match Engine::open(storage, &engine_genesis, key, engine_net, engine_config, Some(engine_events))
            {
                Ok(engine) => {
                    let _ = ready_tx.send(Ok((engine.gauges(), engine.validators())));
                    engine.run(inbox_rx).map(|_| ()).map_err(|e| e.to_string())
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    Err(e.to_string())
                }
            };
        let _ = done_tx.send(result);
    })?;
    let (gauges, validators) = match ready_rx.await {
        Ok(Ok(g)) => g,
        other => {
            net.shutdown().await;
            let _ = engine_thread.join();
            return Err(match other {
                Ok(Err(e)) => anyhow!("the engine could not start: {e}"),
                _ => anyhow!("the engine thread died while starting"),
            });
        }
    };

    let (events_tx, _) = broadcast::channel(config.rpc.event_buffer);
    let progress = Arc::new(SyncProgress::default());
    let service = Arc::new(NodeService {
        chain_id: chain_id.clone(),
        validators: validators.clone(),
        genesis_time_ms: genesis.genesis_time_ms,
        node_key,
        store: store.clone(),
        inbox: inbox.clone(),
        net: Some(net.clone()),
        gauges: gauges.clone(),
        sync: progress.clone(),
        metrics: purse_rpc::Metrics::new(),
        events: events_tx,
        query_runtime: OnceLock::new(),
    });

    // Commit events → subscribers and metrics (ends when the engine drops its sender).
    let committed = service.clone();
    let events_thread = std::thread::Builder::new().name("engine-events".into()).spawn(move || {
        while let Ok(event) = engine_events_rx.recv() {
            match event {
                EngineEvent::Committed { height, tx_ids, round, .. } => {
                    tracing::debug!(height, round, txs = tx_ids.len(), "committed");
                    committed.on_committed(height, tx_ids.len());
                }
            }
        }
    })?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let events_loop = EventLoop {
        handle: net.clone(),
        judge: GossipJudge::new(chain_id.clone(), validators.clone(), gauges.clone()),
        inbox: inbox.clone(),
        reader: purse_storage::BlockReader::new(store.clone()),
        snapshots: (config.sync.snapshot_interval > 0).then_some(snapshot_dir),
        stats: bridge_stats.clone(),
        answer_slots: Arc::new(tokio::sync::Semaphore::new(crate::bridge::MAX_CONCURRENT_SYNC_ANSWERS)),
    };
    let events_task = tokio::spawn(events_loop.run(net_events));
    let sync = SyncClient {
        handle: net.clone(),
        inbox: inbox.clone(),
        reader: purse_storage::BlockReader::new(store.clone()),
        chain_id: chain_id.clone(),
        validators: validators.clone(),
        progress,
        settings: SyncSettings {
            interval: Duration::from_millis(config.sync.interval_ms),
            batch: config.sync.batch_blocks,
            request_timeout: Duration::from_millis(config.sync.request_timeout_ms),
        },
    };
    let sync_task = tokio::spawn(sync.run(stop_rx.clone()));
    let peers_task = tokio::spawn(follow_validator_peers(
        net.clone(),
        validators.clone(),
        config.clone(),
        stop_rx.clone(),
    ));
    let metrics_service = service.clone();
    let mut metrics_stop = stop_rx.clone();
    let metrics_task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(METRICS_INTERVAL);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = metrics_stop.changed() => break,
            }
            let s = metrics_service.clone();
            let _ = tokio::task::spawn_blocking(move || s.refresh_metrics()).await;
        }
    });
    let mut rpc_stop = stop_rx.clone();
    let api: Arc<dyn NodeApi> = service.clone();
    let rpc_config = config.rpc_config();
    let rpc_grace = rpc_config.shutdown_grace;
    let rpc_task = tokio::spawn(purse_rpc::serve(listener, api, rpc_config, async move {
        let _ = rpc_stop.wait_for(|s| *s).await;
    }));
    tracing::info!(rpc = %rpc_local, "node running");

    // Run until a signal or until the engine stops by itself (an error).
    let mut failure: Option<anyhow::Error> = None;
    let mut engine_done = false;
    tokio::select! {
        s = shutdown_signal() => match s {
            Ok(name) => tracing::info!(signal = name, "shutting down"),
            Err(e) => failure = Some(e),
        },
        r = &mut done_rx => {
            engine_done = true;
            let msg = match r {
                Ok(Ok(())) => "the engine stopped".to_string(),
                Ok(Err(e)) => e,
                Err(_) => "the engine thread died".into(),
            };
            tracing::error!(error = %msg, "engine failed; shutting down");
            failure = Some(anyhow!("engine failed: {msg}"));
        }
    }

    // Stop in order: RPC (no new requests), background tasks, the engine (joined), the network.
    let _ = stop_tx.send(true);
    match tokio::time::timeout(rpc_grace + RPC_STOP_SLACK, rpc_task).await {
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "rpc server error"),
        Err(_) => tracing::warn!("rpc server did not stop in time"),
        _ => {}
    }
    let _ = tokio::join!(sync_task, metrics_task, peers_task);
    if let Some(mut s) = snapshotter.take() {
        let _ = tokio::task::spawn_blocking(move || s.stop()).await;
    }
    let stop_inbox = inbox.clone();
    let _ = tokio::task::spawn_blocking(move || stop_inbox.send(Inbound::Stop).is_ok()).await;
    match tokio::time::timeout(ENGINE_STOP_TIMEOUT, tokio::task::spawn_blocking(move || engine_thread.join()))
        .await
    {
        Ok(Ok(Ok(()))) => tracing::info!("engine stopped"),
        Ok(_) => tracing::error!("the engine thread panicked"),
        Err(_) => tracing::error!("the engine did not stop in time"),
    }
    if !engine_done {
        if let Ok(Err(e)) = done_rx.try_recv() {
            failure.get_or_insert_with(|| anyhow!("engine failed: {e}"));
        }
    }
    if tokio::time::timeout(NETWORK_STOP_TIMEOUT, net.shutdown()).await.is_err() {
        tracing::warn!("network did not stop in time");
    }
    events_task.abort();
    drop(service);
    let _ = tokio::task::spawn_blocking(move || events_thread.join()).await;
    let stats = crate::bridge::snapshot(&bridge_stats);
    tracing::info!(?stats, "node stopped");
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
