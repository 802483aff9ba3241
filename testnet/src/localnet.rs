//! N validators in one process, each on its own thread and RocksDB store, joined by an in-process hub.

use crate::catchup::{CatchUp, Follower};
use crate::TestnetError;
use purse_engine::{
    Engine, EngineConfig, EngineEvent, Hub, HubEndpoint, Inbound, InboxReceiver, InboxSender,
};
use purse_runtime::{Genesis, GenesisAccount, GenesisAsset, GovernanceGenesis, Params};
use purse_state::StateConfig;
use purse_storage::{BlockReader, RocksConfig, RocksStore, Storage};
use purse_types::{Amount, AssetFlags, ChainId, Keypair, Role, SignedTransaction, Validator};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Capacity of the channel carrying commit events from all validators to the driver.
pub const EVENT_CAPACITY: usize = 65_536;

/// How to start a local net.
#[derive(Clone, Debug)]
pub struct LocalNetConfig {
    /// Number of validators.
    pub validators: usize,
    /// Number of wallet accounts created at genesis.
    pub wallets: usize,
    /// Number of merchant accounts created at genesis.
    pub merchants: usize,
    /// Nodes started with keys outside the genesis validator set ([`Keys::standby`]): they follow the chain
    /// and take part in consensus from the height a governance proposal adds them.
    pub standby: usize,
    /// Data directory (one sub-folder per validator).
    pub dir: PathBuf,
    /// Engine tuning.
    pub engine: EngineConfig,
}

/// The deterministic keys of the local net (seeded so runs are reproducible).
#[derive(Clone, Debug)]
pub struct Keys {
    /// Validator keys.
    pub validators: Vec<Keypair>,
    /// The e-money issuer.
    pub issuer: Keypair,
    /// Wallets.
    pub wallets: Vec<Keypair>,
    /// Merchants.
    pub merchants: Vec<Keypair>,
    /// The governance keys ([`GOVERNORS`] of them, threshold [`GOVERNANCE_THRESHOLD`]), genesis accounts.
    pub governors: Vec<Keypair>,
    /// Keys of the standby nodes.
    pub standby: Vec<Keypair>,
}

/// Number of governance keys of a local net.
pub const GOVERNORS: usize = 3;
/// Approvals a local-net proposal needs.
pub const GOVERNANCE_THRESHOLD: u16 = 2;
/// Voting period of a local-net proposal, in blocks.
pub const VOTING_PERIOD: u64 = 1_000;

fn seeded(tag: u8, i: usize) -> Keypair {
    let mut seed = [0u8; 32];
    seed[0] = tag;
    seed[1..9].copy_from_slice(&(i as u64).to_le_bytes());
    Keypair::from_seed(&seed)
}

impl Keys {
    /// Keys for a configuration.
    pub fn new(cfg: &LocalNetConfig) -> Keys {
        Keys {
            validators: (0..cfg.validators).map(|i| seeded(1, i)).collect(),
            issuer: seeded(2, 0),
            wallets: (0..cfg.wallets).map(|i| seeded(3, i)).collect(),
            merchants: (0..cfg.merchants).map(|i| seeded(4, i)).collect(),
            governors: (0..GOVERNORS).map(|i| seeded(5, i)).collect(),
            standby: (0..cfg.standby).map(|i| seeded(6, i)).collect(),
        }
    }
}

/// Native balance every genesis account gets (pays fees).
pub const GENESIS_NATIVE: u128 = 1_000_000_000;

/// The genesis of a local net: validators with equal power, an e-money issuer holding the asset-issuer role
/// and a EUR asset, wallets and merchants.
pub fn genesis(keys: &Keys) -> Result<Genesis, TestnetError> {
    let mut accounts = vec![GenesisAccount {
        public_key: keys.issuer.public(),
        tier: 3,
        roles: vec![Role::AssetIssuer],
        native_balance: Amount(GENESIS_NATIVE),
    }];
    for w in &keys.wallets {
        accounts.push(GenesisAccount {
            public_key: w.public(),
            tier: 1,
            roles: vec![],
            native_balance: Amount(GENESIS_NATIVE),
        });
    }
    for g in &keys.governors {
        accounts.push(GenesisAccount {
            public_key: g.public(),
            tier: 3,
            roles: vec![],
            native_balance: Amount(GENESIS_NATIVE),
        });
    }
    for m in &keys.merchants {
        accounts.push(GenesisAccount {
            public_key: m.public(),
            tier: 2,
            roles: vec![Role::Merchant],
            native_balance: Amount(GENESIS_NATIVE),
        });
    }
    Ok(Genesis {
        chain_id: ChainId::new("purse-localnet").map_err(|e| TestnetError::Setup(e.to_string()))?,
        genesis_time_ms: 0,
        validators: keys.validators.iter().map(|k| Validator { public_key: k.public(), power: 10 }).collect(),
        accounts,
        assets: vec![GenesisAsset {
            symbol: "EUR".into(),
            decimals: 2,
            issuer: keys.issuer.public().address(),
            flags: AssetFlags { authorization_required: false, freezable: true, clawback_enabled: false },
        }],
        params: Params::default(),
        contracts: Vec::new(),
        // A research net: governance by the governors, and open deployment (the scenario deploys the loyalty
        // contract). Production chains keep the default, an allow-list of code hashes (docs/governance.md).
        governance: GovernanceGenesis {
            keys: keys.governors.iter().map(|k| k.public()).collect(),
            threshold: GOVERNANCE_THRESHOLD,
            voting_period: VOTING_PERIOD,
            ..GovernanceGenesis::open()
        },
    })
}

/// A running validator.
pub struct NodeHandle {
    /// Its inbox (submit transactions, stop).
    pub inbox: InboxSender,
    /// Its data directory.
    pub dir: PathBuf,
    thread: Option<JoinHandle<Result<(), TestnetError>>>,
}

impl NodeHandle {
    /// Stops the node and waits for it (a no-op when it already stopped).
    pub fn stop(&mut self) -> Result<(), TestnetError> {
        let _ = self.inbox.send(Inbound::Stop);
        match self.thread.take() {
            Some(t) => match t.join() {
                Ok(r) => r,
                Err(_) => Err(TestnetError::Scenario(format!("node {} panicked", self.dir.display()))),
            },
            None => Ok(()),
        }
    }
}

/// A running local net.
pub struct LocalNet {
    /// Keys.
    pub keys: Keys,
    /// Genesis.
    pub genesis: Genesis,
    /// Validators.
    pub nodes: Vec<NodeHandle>,
    /// Commit events from every validator, tagged with its index.
    pub events: Receiver<(usize, EngineEvent)>,
    /// Standby nodes (see [`LocalNetConfig::standby`]).
    pub standby: Vec<NodeHandle>,
    /// Commit events from the standby nodes, tagged with their index in `standby`.
    pub standby_events: Receiver<(usize, EngineEvent)>,
    /// Block sync between the nodes (crate::catchup).
    catch_up: CatchUp,
    /// The hub (to read drop counters).
    pub hub: Hub,
}

/// Opens a validator's store.
pub fn open_storage(dir: &Path, chain_id: &str) -> Result<Storage<Arc<RocksStore>>, TestnetError> {
    let store = Arc::new(RocksStore::open(dir, RocksConfig::default())?);
    Ok(Storage::open(store, chain_id, StateConfig::default())?)
}

impl LocalNet {
    /// Starts every validator and standby node.
    pub fn start(cfg: &LocalNetConfig) -> Result<LocalNet, TestnetError> {
        let keys = Keys::new(cfg);
        let genesis = genesis(&keys)?;
        let hub = Hub::new();
        let (ev_tx, ev_rx) = sync_channel::<(usize, EngineEvent)>(EVENT_CAPACITY);
        let (sb_tx, sb_rx) = sync_channel::<(usize, EngineEvent)>(EVENT_CAPACITY);
        // Every node joins the hub before any starts, so no early proposal or vote is lost.
        let endpoints: Vec<_> = keys.validators.iter().map(|_| hub.join()).collect();
        let standby_endpoints: Vec<_> = keys.standby.iter().map(|_| hub.join()).collect();
        let mut nodes = Vec::new();
        let mut followers = Vec::new();
        for ((i, key), endpoint) in keys.validators.iter().enumerate().zip(endpoints) {
            let dir = cfg.dir.join(format!("validator-{i}"));
            let (node, follower) = spawn_node(&genesis, key, &dir, endpoint, cfg, (i, ev_tx.clone()))?;
            nodes.push(node);
            followers.push(follower);
        }
        let mut standby = Vec::new();
        for ((i, key), endpoint) in keys.standby.iter().enumerate().zip(standby_endpoints) {
            let dir = cfg.dir.join(format!("standby-{i}"));
            let (node, follower) = spawn_node(&genesis, key, &dir, endpoint, cfg, (i, sb_tx.clone()))?;
            standby.push(node);
            followers.push(follower);
        }
        let catch_up = CatchUp::start(followers)?;
        Ok(LocalNet { keys, genesis, nodes, events: ev_rx, hub, standby, standby_events: sb_rx, catch_up })
    }

    /// Submits a transaction to validator `node` (it gossips it to the others).
    pub fn submit(&self, node: usize, tx: SignedTransaction) -> Result<(), TestnetError> {
        let n = self
            .nodes
            .get(node % self.nodes.len().max(1))
            .ok_or_else(|| TestnetError::Setup("no validators".into()))?;
        n.inbox
            .send(Inbound::Submit { tx, reply: None })
            .map_err(|_| TestnetError::Scenario(format!("validator {node} stopped")))
    }

    /// Stops every node and waits for them (and releases their stores).
    pub fn stop(&mut self) -> Result<(), TestnetError> {
        self.catch_up.stop();
        for n in self.nodes.iter().chain(&self.standby) {
            let _ = n.inbox.send(Inbound::Stop);
        }
        let mut first_error = None;
        for n in self.nodes.iter_mut().chain(self.standby.iter_mut()) {
            if let Err(e) = n.stop() {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Opens a node's store and engine over `endpoint` and runs it on its own thread; its commit events go to
/// `events.1` tagged with `events.0`. Returns the node and its view for the catch-up thread.
fn spawn_node(
    genesis: &Genesis,
    key: &Keypair,
    dir: &Path,
    endpoint: (HubEndpoint, InboxSender, InboxReceiver),
    cfg: &LocalNetConfig,
    events: (usize, SyncSender<(usize, EngineEvent)>),
) -> Result<(NodeHandle, Follower), TestnetError> {
    let (network, inbox, rx) = endpoint;
    let (tag, fwd) = events;
    std::fs::create_dir_all(dir)?;
    let store = Arc::new(RocksStore::open(dir, RocksConfig::default())?);
    let storage = Storage::open(Arc::clone(&store), genesis.chain_id.as_str(), StateConfig::default())?;
    let follower = Follower { reader: BlockReader::new(store), inbox: inbox.clone() };
    let (node_ev_tx, node_ev_rx) = sync_channel::<EngineEvent>(EVENT_CAPACITY);
    let engine = Engine::open(storage, genesis, key.clone(), network, cfg.engine.clone(), Some(node_ev_tx))?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    std::thread::Builder::new().name(format!("events-{name}")).spawn(move || {
        while let Ok(e) = node_ev_rx.recv() {
            if fwd.send((tag, e)).is_err() {
                break;
            }
        }
    })?;
    let thread = std::thread::Builder::new().name(name).spawn(move || -> Result<(), TestnetError> {
        engine.run(rx)?;
        Ok(())
    })?;
    Ok((NodeHandle { inbox, dir: dir.to_path_buf(), thread: Some(thread) }, follower))
}

impl Drop for LocalNet {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
