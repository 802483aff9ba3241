//! A genesis that deploys a contract, through the engine: `Engine::open` builds the genesis state (contract
//! included) on its VM, the genesis root matches `genesis_record` (the anchor state sync uses), a call on the
//! genesis contract commits at height 1 and later, and the store reopens under the same genesis.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use purse_engine::{genesis_record, Engine, EngineConfig, EngineEvent, Hub, Inbound};
use purse_runtime::{
    schema, BlockContext, Genesis, GenesisAccount, GenesisContract, GovernanceGenesis, Params, Runtime,
    DEFAULT_GENESIS_CONTRACT_FUEL,
};
use purse_testnet::localnet::open_storage;
use purse_types::{Address, Amount, ChainId, Keypair, Payload, Transaction, Validator};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

fn key(i: u8) -> Keypair {
    Keypair::from_seed(&[i; 32])
}

fn chain() -> ChainId {
    ChainId::new("purse-genesis-contracts").unwrap()
}

/// One validator, one account (alice, key 2) deploying the counter at genesis with start value 41; closed
/// deployment with an empty allow-list (genesis contracts bypass it).
fn genesis() -> Genesis {
    let alice = key(2).public().address();
    Genesis {
        chain_id: chain(),
        genesis_time_ms: 0,
        validators: vec![Validator { public_key: key(1).public(), power: 10 }],
        accounts: vec![GenesisAccount {
            public_key: key(2).public(),
            tier: 1,
            roles: vec![],
            native_balance: Amount(1_000_000_000),
        }],
        assets: vec![],
        params: Params::default(),
        contracts: vec![GenesisContract {
            code: purse_contract_test::artifact("counter")
                .expect("build the contracts first: bash scripts/build-contracts"),
            init_args: borsh::to_vec(&41u64).unwrap(),
            admin: None,
            deployer: alice,
            fuel_limit: DEFAULT_GENESIS_CONTRACT_FUEL,
        }],
        governance: GovernanceGenesis::default(),
    }
}

fn counter(engine_state: impl purse_runtime::StateRead + Send + Sync + 'static, contract: Address) -> u64 {
    let runtime = Runtime::with_default_vm().unwrap();
    let ctx = BlockContext { chain_id: chain(), height: 1_000, time_ms: 0 };
    let out = runtime.query(engine_state, &ctx, contract, "get", borsh::to_vec(&()).unwrap(), 10_000_000);
    borsh::from_slice(&out.result.unwrap()).unwrap()
}

#[test]
fn an_engine_opens_a_genesis_with_a_contract_and_commits_calls_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis();
    let alice = key(2).public().address();
    let contract = g.contract_addresses()[0];
    assert_eq!(contract, Address::contract(&alice, 0));

    let hub = Hub::new();
    let (endpoint, inbox, rx) = hub.join();
    let storage = open_storage(&dir.path().join("v0"), chain().as_str()).unwrap();
    let (ev_tx, ev_rx) = sync_channel::<EngineEvent>(256);
    let config = EngineConfig { commit_delay: Duration::from_millis(20), ..EngineConfig::default() };
    let engine = Engine::open(storage, &g, key(1), endpoint, config, Some(ev_tx)).unwrap();

    // Height 0 holds the contract, and its root is the genesis anchor state sync computes on its own VM.
    // (A single validator may already have committed height 1 while opening.)
    let block0 = engine.storage().block_info(0).unwrap().unwrap();
    let anchor = genesis_record(&g).unwrap();
    assert_eq!((block0.block_hash, block0.state_root), (anchor.block_hash, anchor.state_root));
    assert!(engine.storage().state().get(&schema::contract_key(&contract)).unwrap().is_some());
    assert_eq!(counter(engine.storage().state().view(), contract), 41);

    // A call from alice (nonce 1: the genesis deploy used 0) commits.
    let call = Transaction {
        chain_id: chain(),
        sender: alice,
        nonce: 1,
        expiry_height: 1_000,
        max_fee: Amount(10_000_000),
        payload: Payload::Call {
            contract,
            method: "increment".into(),
            args: borsh::to_vec(&1u64).unwrap(),
            funds: vec![],
            fuel_limit: 1_000_000,
        },
    }
    .sign(&key(2));
    let id = call.id();
    let node = std::thread::spawn(move || engine.run(rx).unwrap());
    inbox.send(Inbound::Submit { tx: call, reply: None }).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match ev_rx.recv_timeout(left) {
            Ok(EngineEvent::Committed { height, tx_ids, succeeded, .. }) if tx_ids.contains(&id) => {
                assert!(height >= 1);
                assert_eq!(succeeded, 1, "the call succeeded");
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("the call was not committed: {e}"),
        }
    }
    inbox.send(Inbound::Stop).unwrap();
    let engine = node.join().unwrap();
    assert_eq!(counter(engine.storage().state().view(), contract), 42);
    let committed = engine.storage().head().unwrap().height;
    drop(engine);

    // The store reopens under the same genesis (its hash is checked) without rebuilding it (a single validator
    // may commit another block while opening).
    let storage = open_storage(&dir.path().join("v0"), chain().as_str()).unwrap();
    let (endpoint, _inbox, _rx) = hub.join();
    let again = Engine::open(storage, &g, key(1), endpoint, EngineConfig::default(), None).unwrap();
    assert!(again.storage().head().unwrap().height >= committed);
    assert_eq!(again.storage().block_info(0).unwrap().unwrap().block_hash, block0.block_hash);
    assert_eq!(counter(again.storage().state().view(), contract), 42);
}
