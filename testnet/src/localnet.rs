//! N validators in one process, each on its own thread and RocksDB store, joined by an in-process hub.

use crate::TestnetError;
use purse_engine::{Engine, EngineConfig, EngineEvent, Hub, Inbound};
use purse_runtime::{Genesis, GenesisAccount, GenesisAsset, GovernanceGenesis, Params};
use purse_state::StateConfig;
use purse_storage::{RocksConfig, RocksStore, Storage};
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
}

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
        // A research net: open deployment (the scenario deploys the loyalty contract). Production chains keep the
        // default, an allow-list of code hashes (docs/governance.md).
        governance: GovernanceGenesis::open(),
    })
}

/// A running validator.
pub struct NodeHandle {
    /// Its inbox (submit transactions, stop).
    pub inbox: SyncSender<Inbound>,
    /// Its data directory.
    pub dir: PathBuf,
    thread: Option<JoinHandle<Result<(), TestnetError>>>,
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
    /// The hub (to read drop counters).
    pub hub: Hub,
}

/// Opens a validator's store.
pub fn open_storage(dir: &Path, chain_id: &str) -> Result<Storage<Arc<RocksStore>>, TestnetError> {
    let store = Arc::new(RocksStore::open(dir, RocksConfig::default())?);
    Ok(Storage::open(store, chain_id, StateConfig::default())?)
}

impl LocalNet {
    /// Starts every validator.
    pub fn start(cfg: &LocalNetConfig) -> Result<LocalNet, TestnetError> {
        let keys = Keys::new(cfg);
        let genesis = genesis(&keys)?;
        let hub = Hub::new();
        let (ev_tx, ev_rx) = sync_channel::<(usize, EngineEvent)>(EVENT_CAPACITY);
        // Every validator joins the hub before any starts, so no early proposal or vote is lost.
        let endpoints: Vec<_> = keys.validators.iter().map(|_| hub.join()).collect();
        let mut nodes = Vec::new();
        for ((i, key), (endpoint, inbox, rx)) in keys.validators.iter().enumerate().zip(endpoints) {
            let dir = cfg.dir.join(format!("validator-{i}"));
            std::fs::create_dir_all(&dir)?;
            let storage = open_storage(&dir, genesis.chain_id.as_str())?;
            let (node_ev_tx, node_ev_rx) = sync_channel::<EngineEvent>(EVENT_CAPACITY);
            let engine =
                Engine::open(storage, &genesis, key.clone(), endpoint, cfg.engine.clone(), Some(node_ev_tx))?;
            let fwd = ev_tx.clone();
            std::thread::Builder::new().name(format!("events-{i}")).spawn(move || {
                while let Ok(e) = node_ev_rx.recv() {
                    if fwd.send((i, e)).is_err() {
                        break;
                    }
                }
            })?;
            let thread = std::thread::Builder::new().name(format!("validator-{i}")).spawn(
                move || -> Result<(), TestnetError> {
                    engine.run(rx)?;
                    Ok(())
                },
            )?;
            nodes.push(NodeHandle { inbox, dir, thread: Some(thread) });
        }
        Ok(LocalNet { keys, genesis, nodes, events: ev_rx, hub })
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

    /// Stops every validator and waits for them.
    pub fn stop(&mut self) -> Result<(), TestnetError> {
        for n in &self.nodes {
            let _ = n.inbox.send(Inbound::Stop);
        }
        for (i, n) in self.nodes.iter_mut().enumerate() {
            if let Some(t) = n.thread.take() {
                match t.join() {
                    Ok(r) => r?,
                    Err(_) => return Err(TestnetError::Scenario(format!("validator {i} panicked"))),
                }
            }
        }
        Ok(())
    }
}

impl Drop for LocalNet {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
