//! Contract transactions through the state-transition function: deploy, call, upgrade, fuel fees and refunds,
//! rollback of failed calls, queries, and determinism of receipts and roots on two independent states; contracts
//! deployed at genesis (addresses, nonces, the allow-list bypass, refusals and bounds). Uses the `counter` example contract built by `scripts/build-contracts`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use purse_runtime::*;
use purse_state::{MemoryStore, StateConfig, StateDb, StateView};
use purse_types::*;
use std::sync::Arc;

fn key(i: u8) -> Keypair {
    Keypair::from_seed(&[i; 32])
}

fn chain() -> ChainId {
    ChainId::new("purse-test").unwrap()
}

fn runtime() -> &'static Runtime {
    static RUNTIME: std::sync::OnceLock<Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::with_default_vm().unwrap())
}

fn counter_code() -> Vec<u8> {
    purse_contract_test::artifact("counter").expect("build the contracts first: bash scripts/build-contracts")
}

/// A chain state on the authenticated store, committed block by block.
struct Chain {
    db: StateDb<Arc<MemoryStore>>,
    height: u64,
}

/// Accounts 1..=3 with native balances, one validator, the given governance.
fn base_genesis(governance: GovernanceGenesis) -> Genesis {
    Genesis {
        chain_id: chain(),
        genesis_time_ms: 0,
        validators: vec![Validator { public_key: key(100).public(), power: 1 }],
        accounts: (1..=3)
            .map(|i| GenesisAccount {
                public_key: key(i).public(),
                tier: 1,
                roles: vec![],
                native_balance: Amount(100_000_000),
            })
            .collect(),
        assets: vec![],
        params: Params::default(),
        contracts: Vec::new(),
        governance,
    }
}

impl Chain {
    fn new() -> Chain {
        let g = base_genesis(GovernanceGenesis::open());
        let mut db = StateDb::open(Arc::new(MemoryStore::new()), StateConfig::default()).unwrap();
        let overlay = g.build_state(&std::collections::BTreeMap::new()).unwrap();
        db.commit(0, &overlay).unwrap();
        Chain { db, height: 0 }
    }

    /// A chain whose genesis (contracts included) is built on the test runtime's VM.
    fn from_genesis(g: &Genesis) -> Chain {
        let mut db = StateDb::open(Arc::new(MemoryStore::new()), StateConfig::default()).unwrap();
        let overlay = runtime().genesis_state(g, &db.view()).unwrap();
        db.commit(0, &overlay).unwrap();
        Chain { db, height: 0 }
    }

    fn account(&self, who: &Address) -> schema::AccountRecord {
        decode(&self.get(&schema::account_key(who)).unwrap()).unwrap()
    }

    fn view(&self) -> StateView<Arc<MemoryStore>> {
        self.db.view()
    }

    fn ctx(&self) -> BlockContext {
        BlockContext { chain_id: chain(), height: self.height + 1, time_ms: (self.height + 1) * 1000 }
    }

    fn block(&mut self, txs: &[SignedTransaction]) -> Vec<Receipt> {
        let out = runtime().execute_block(&self.view(), &self.ctx(), txs).unwrap();
        self.height += 1;
        self.db.commit(self.height, &out.overlay).unwrap();
        out.receipts
    }

    fn get(&self, k: &[u8]) -> Option<Vec<u8>> {
        self.db.get(k).unwrap()
    }

    fn native(&self, who: &Address) -> u128 {
        self.get(&schema::balance_key(who, &AssetId::native()))
            .map(|v| decode::<u128>(&v).unwrap())
            .unwrap_or(0)
    }

    fn query(&self, contract: Address, method: &str, args: Vec<u8>) -> purse_vm::Outcome {
        runtime().query(self.view(), &self.ctx(), contract, method, args, 10_000_000)
    }
}

fn tx(from: u8, nonce: u64, payload: Payload) -> SignedTransaction {
    Transaction {
        chain_id: chain(),
        sender: key(from).public().address(),
        nonce,
        expiry_height: 1_000,
        max_fee: Amount(10_000_000),
        payload,
    }
    .sign(&key(from))
}

fn deploy(from: u8, nonce: u64, start: u64) -> SignedTransaction {
    tx(
        from,
        nonce,
        Payload::Deploy {
            code: counter_code(),
            init_args: borsh::to_vec(&start).unwrap(),
            admin: Some(key(from).public().address()),
            fuel_limit: 5_000_000,
        },
    )
}

fn call(
    from: u8,
    nonce: u64,
    contract: Address,
    method: &str,
    args: Vec<u8>,
    fuel: u64,
) -> SignedTransaction {
    tx(from, nonce, Payload::Call { contract, method: method.into(), args, funds: vec![], fuel_limit: fuel })
}

fn ok(r: &Receipt) {
    assert_eq!(r.status, TxStatus::Success, "receipt {r:?}");
}

fn failed_code(r: &Receipt) -> &str {
    match &r.status {
        TxStatus::Failed { code, .. } => code,
        TxStatus::Success => panic!("expected a failure, got {r:?}"),
    }
}

fn counter_value(c: &Chain, contract: Address) -> u64 {
    let out = c.query(contract, "get", borsh::to_vec(&()).unwrap());
    borsh::from_slice(&out.result.unwrap()).unwrap()
}

#[test]
fn deploy_then_call_changes_state_emits_events_and_charges_fuel() {
    let mut c = Chain::new();
    let alice = key(1).public().address();
    let contract = Address::contract(&alice, 0);
    let before = c.native(&alice);

    let r = c.block(&[deploy(1, 0, 5)]);
    ok(&r[0]);
    assert!(r[0].fuel_used > 0);
    assert!(c.get(&schema::contract_key(&contract)).is_some(), "contract record stored");
    assert_eq!(counter_value(&c, contract), 5);

    let r = c.block(&[call(1, 1, contract, "increment", borsh::to_vec(&3u64).unwrap(), 1_000_000)]);
    ok(&r[0]);
    assert_eq!(counter_value(&c, contract), 8);
    let ev = r[0].events.iter().find(|e| e.topic == "counter.incremented").expect("event");
    assert_eq!(ev.emitter, contract);
    assert_eq!(borsh::from_slice::<u64>(&ev.data).unwrap(), 8);

    // Fees: the receipt's fee is exactly size fee + fee of the fuel used (the unused reservation refunded),
    // and the sender paid exactly the receipts' fees.
    let params = Params::default();
    let t = call(1, 1, contract, "increment", borsh::to_vec(&3u64).unwrap(), 1_000_000);
    let expected = params.fee_for(encode(&t).len()) + params.fuel_fee(r[0].fuel_used);
    assert_eq!(r[0].fee_paid, expected);
    assert!(r[0].fee_paid < params.fee_for(encode(&t).len()) + params.fuel_fee(1_000_000));
    // Conservation: whatever the sender lost, the fee collector gained.
    assert_eq!(before - c.native(&alice), c.native(&Address::system("fees")));
}

#[test]
fn failed_call_rolls_back_writes_and_events_but_charges_fee_and_nonce() {
    let mut c = Chain::new();
    let alice = key(1).public().address();
    let contract = Address::contract(&alice, 0);
    ok(&c.block(&[deploy(1, 0, 7)])[0]);
    let before = c.native(&alice);

    let r = c.block(&[call(1, 1, contract, "fail_after_write", borsh::to_vec(&()).unwrap(), 1_000_000)]);
    assert_eq!(failed_code(&r[0]), "aborted");
    assert!(r[0].events.is_empty());
    assert!(r[0].fee_paid > 0);
    assert_eq!(c.native(&alice), before - r[0].fee_paid);
    assert_eq!(counter_value(&c, contract), 7, "the write before the failure was rolled back");

    // Out of fuel: charged the whole limit, nothing written.
    let r = c.block(&[call(1, 2, contract, "increment", borsh::to_vec(&1u64).unwrap(), 10)]);
    assert_eq!(failed_code(&r[0]), "out_of_fuel");
    assert_eq!(counter_value(&c, contract), 7);

    // Unknown method and unknown contract are receipts, not node errors.
    let r = c.block(&[
        call(1, 3, contract, "no_such_method", vec![], 1_000_000),
        call(1, 4, Address::contract(&alice, 99), "get", vec![], 1_000_000),
    ]);
    assert_eq!(failed_code(&r[0]), "method_not_found");
    assert_eq!(failed_code(&r[1]), "contract_not_found");
    // And the next call still works.
    ok(&c.block(&[call(1, 5, contract, "increment", borsh::to_vec(&1u64).unwrap(), 1_000_000)])[0]);
    assert_eq!(counter_value(&c, contract), 8);
}

#[test]
fn hostile_deploy_is_a_receipt_and_stores_nothing() {
    let mut c = Chain::new();
    let alice = key(1).public().address();
    let bad = wat::parse_str(r#"(module (func (export "f") (local f32)))"#).unwrap();
    let r = c.block(&[tx(
        1,
        0,
        Payload::Deploy { code: bad.clone(), init_args: vec![], admin: None, fuel_limit: 5_000_000 },
    )]);
    assert_eq!(failed_code(&r[0]), "invalid_code");
    assert!(c.get(&schema::code_key(&purse_vm::code_hash(&bad))).is_none());
    assert!(c.get(&schema::contract_key(&Address::contract(&alice, 0))).is_none());
}

#[test]
fn fuel_limit_above_the_chain_maximum_or_fee_is_refused_before_execution() {
    let mut c = Chain::new();
    let alice = key(1).public().address();
    let contract = Address::contract(&alice, 0);
    ok(&c.block(&[deploy(1, 0, 0)])[0]);
    let too_much =
        call(1, 1, contract, "noop", borsh::to_vec(&()).unwrap(), Params::default().max_tx_fuel + 1);
    assert_eq!(failed_code(&c.block(&[too_much])[0]), "invalid");
    // A max fee that cannot cover the declared fuel.
    let mut t = call(1, 1, contract, "noop", borsh::to_vec(&()).unwrap(), 50_000_000).tx;
    t.max_fee = Amount(2_000);
    assert_eq!(failed_code(&c.block(&[t.sign(&key(1))])[0]), "fee_too_low");
}

#[test]
fn upgrade_runs_migrate_and_only_the_admin_may_upgrade() {
    let mut c = Chain::new();
    let alice = key(1).public().address();
    let contract = Address::contract(&alice, 0);
    ok(&c.block(&[deploy(1, 0, 1)])[0]);
    let version = |c: &Chain| -> u32 {
        borsh::from_slice(&c.query(contract, "version", borsh::to_vec(&()).unwrap()).result.unwrap()).unwrap()
    };
    assert_eq!(version(&c), 1);
    let upgrade = |from: u8, nonce: u64| {
        tx(
            from,
            nonce,
            Payload::Upgrade {
                contract,
                code: counter_code(),
                migrate_args: borsh::to_vec(&()).unwrap(),
                fuel_limit: 5_000_000,
            },
        )
    };
    assert_eq!(failed_code(&c.block(&[upgrade(2, 0)])[0]), "unauthorized");
    assert_eq!(version(&c), 1);
    ok(&c.block(&[upgrade(1, 1)])[0]);
    assert_eq!(version(&c), 2);
}

#[test]
fn queries_cannot_write() {
    let mut c = Chain::new();
    let contract = Address::contract(&key(1).public().address(), 0);
    ok(&c.block(&[deploy(1, 0, 4)])[0]);
    let out = c.query(contract, "increment", borsh::to_vec(&1u64).unwrap());
    assert_eq!(out.result.unwrap_err().code(), "read_only");
    assert_eq!(counter_value(&c, contract), 4);
}

#[test]
fn calls_within_one_block_see_each_others_writes_and_roots_are_deterministic() {
    let run = || {
        let mut c = Chain::new();
        let alice = key(1).public().address();
        let contract = Address::contract(&alice, 0);
        let mut receipts = c.block(&[deploy(1, 0, 0)]);
        let block: Vec<_> = (1..=5)
            .map(|n| call(1, n, contract, "increment", borsh::to_vec(&n).unwrap(), 1_000_000))
            .chain([call(2, 0, contract, "fail_after_write", vec![], 1_000_000)])
            .collect();
        receipts.extend(c.block(&block));
        (receipts, c.db.root(), counter_value(&c, contract))
    };
    let (r1, root1, v1) = run();
    let (r2, root2, v2) = run();
    assert_eq!(v1, 15, "1+2+3+4+5 within one block");
    assert_eq!(r1, r2, "identical receipts, fuel and fees");
    assert_eq!(root1, root2, "identical state roots");
    assert_eq!(v1, v2);
}

#[test]
fn contract_storage_is_visible_to_prefix_scans_through_the_state() {
    let mut c = Chain::new();
    let contract = Address::contract(&key(1).public().address(), 0);
    ok(&c.block(&[deploy(1, 0, 9)])[0]);
    let entries = c.view().scan(&schema::contract_storage_prefix(&contract), b"", 100).unwrap();
    let keys: Vec<Vec<u8>> =
        entries.iter().map(|(k, _)| k[schema::contract_storage_prefix(&contract).len()..].to_vec()).collect();
    assert!(keys.contains(&b"count".to_vec()), "keys {keys:?}");
}

// ---- contracts deployed at genesis ----

fn genesis_counter(deployer: u8, start: u64) -> GenesisContract {
    GenesisContract {
        code: counter_code(),
        init_args: borsh::to_vec(&start).unwrap(),
        admin: Some(key(deployer).public().address()),
        deployer: key(deployer).public().address(),
        fuel_limit: DEFAULT_GENESIS_CONTRACT_FUEL,
    }
}

/// A closed-deployment genesis (empty allow-list, no deploying roles) with `contracts`.
fn closed_genesis_with(contracts: Vec<GenesisContract>) -> Genesis {
    Genesis { contracts, ..base_genesis(GovernanceGenesis::default()) }
}

fn genesis_error(g: &Genesis) -> String {
    let empty = std::collections::BTreeMap::<Vec<u8>, Vec<u8>>::new();
    match g.build_state_with(&empty, runtime().vm()) {
        Err(e @ RuntimeError::Genesis(_)) => e.to_string(),
        Err(e) => panic!("expected a genesis error, got {e}"),
        Ok(_) => panic!("expected the genesis to be refused"),
    }
}

#[test]
fn genesis_deploys_contracts_at_the_documented_addresses_bypassing_the_allow_list() {
    let alice = key(1).public().address();
    let bob = key(2).public().address();
    let g = closed_genesis_with(vec![genesis_counter(1, 7), genesis_counter(2, 100), genesis_counter(1, 9)]);
    // The k-th contract of a deployer is where its Deploy with nonce k would land.
    let expected =
        vec![Address::contract(&alice, 0), Address::contract(&bob, 0), Address::contract(&alice, 1)];
    assert_eq!(g.contract_addresses(), expected);

    // The JSON form: code and init args in hex; the document round-trips.
    let json = serde_json::to_value(&g).unwrap();
    let entry = &json["contracts"][0];
    assert_eq!(entry["init_args"], serde_json::json!("0700000000000000"));
    assert!(entry["code"].as_str().unwrap().starts_with("0061736d"), "wasm magic in hex");
    assert_eq!(serde_json::from_value::<Genesis>(json).unwrap(), g);
    // Optional fields take their defaults.
    let minimal: GenesisContract = serde_json::from_value(serde_json::json!({
        "code": "0061736d01000000",
        "deployer": alice.to_string(),
    }))
    .unwrap();
    assert_eq!(minimal.fuel_limit, DEFAULT_GENESIS_CONTRACT_FUEL);
    assert!(minimal.init_args.is_empty() && minimal.admin.is_none());

    // Without the VM, building refuses clearly.
    let err = g.build_state(&std::collections::BTreeMap::new()).unwrap_err().to_string();
    assert!(err.contains("build_state_with"), "{err}");

    let mut c = Chain::from_genesis(&g);
    for (addr, start) in expected.iter().zip([7u64, 100, 9]) {
        let info: purse_vm::ContractInfo = decode(&c.get(&schema::contract_key(addr)).unwrap()).unwrap();
        assert_eq!(info.code_hash, purse_vm::code_hash(&counter_code()));
        assert_eq!(counter_value(&c, *addr), start, "init ran at genesis");
    }
    assert!(c.get(&schema::code_key(&purse_vm::code_hash(&counter_code()))).is_some());
    // Genesis deploys consumed the deployers' nonces; nobody paid a fee.
    assert_eq!(c.account(&alice).nonce, 2);
    assert_eq!(c.account(&bob).nonce, 1);
    assert_eq!(c.account(&key(3).public().address()).nonce, 0);
    assert_eq!(c.native(&alice), 100_000_000);
    assert_eq!(c.native(&Address::system("fees")), 0);

    // Height 1: calls work on the genesis contract.
    let r = c.block(&[call(1, 2, expected[0], "increment", borsh::to_vec(&3u64).unwrap(), 1_000_000)]);
    ok(&r[0]);
    assert_eq!(c.height, 1);
    assert_eq!(counter_value(&c, expected[0]), 10);
    let ev = r[0].events.iter().find(|e| e.topic == "counter.incremented").expect("event");
    assert_eq!(ev.emitter, expected[0]);

    // The chain's deployment policy still holds for transactions: the same code is not allow-listed.
    let r = c.block(&[deploy(1, 3, 0)]);
    assert_eq!(failed_code(&r[0]), "code_not_allowed");

    // Determinism: a fresh VM builds the same genesis writes.
    let fresh = Runtime::with_default_vm().unwrap();
    let empty = std::collections::BTreeMap::<Vec<u8>, Vec<u8>>::new();
    let a = fresh.genesis_state(&g, &empty).unwrap();
    let b = g.build_state_with(&empty, runtime().vm()).unwrap();
    assert_eq!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
}

#[test]
fn later_deploys_of_a_genesis_deployer_never_collide_with_its_genesis_contracts() {
    let alice = key(1).public().address();
    let g = Genesis { contracts: vec![genesis_counter(1, 1)], ..base_genesis(GovernanceGenesis::open()) };
    let mut c = Chain::from_genesis(&g);
    // Alice's next transaction has nonce 1 (0 went to the genesis deploy); nonce 0 is refused.
    let r = c.block(&[deploy(1, 0, 5)]);
    assert_eq!(failed_code(&r[0]), "bad_nonce");
    ok(&c.block(&[deploy(1, 1, 5)])[0]);
    assert_eq!(counter_value(&c, Address::contract(&alice, 0)), 1);
    assert_eq!(counter_value(&c, Address::contract(&alice, 1)), 5);
}

#[test]
fn a_genesis_whose_contract_does_not_deploy_is_refused_with_a_clear_error() {
    // Not wasm.
    let mut bad = genesis_counter(1, 0);
    bad.code = b"not wasm at all".to_vec();
    let err = genesis_error(&closed_genesis_with(vec![genesis_counter(2, 0), bad]));
    assert!(err.contains("contract 1") && err.contains("invalid_code"), "{err}");

    // `init` traps.
    let mut trapping = genesis_counter(1, 0);
    trapping.code =
        wat::parse_str(r#"(module (memory (export "memory") 1 1) (func (export "init") unreachable))"#)
            .unwrap();
    let err = genesis_error(&closed_genesis_with(vec![trapping]));
    assert!(err.contains("contract 0") && err.contains("deploy failed (trap)"), "{err}");

    // `init` fails on its arguments (the counter needs a u64).
    let mut no_args = genesis_counter(1, 0);
    no_args.init_args.clear();
    let err = genesis_error(&closed_genesis_with(vec![no_args]));
    assert!(err.contains("deploy failed"), "{err}");

    // Out of fuel.
    let mut starved = genesis_counter(1, 0);
    starved.fuel_limit = 200_000;
    let err = genesis_error(&closed_genesis_with(vec![starved]));
    assert!(err.contains("out_of_fuel"), "{err}");

    // A fuel limit above the chain's per-transaction maximum.
    let mut greedy = genesis_counter(1, 0);
    greedy.fuel_limit = Params::default().max_tx_fuel + 1;
    let err = genesis_error(&closed_genesis_with(vec![greedy]));
    assert!(err.contains("max_tx_fuel"), "{err}");

    // A deployer that is not a genesis account.
    let mut stranger = genesis_counter(1, 0);
    stranger.deployer = key(50).public().address();
    let err = genesis_error(&closed_genesis_with(vec![stranger]));
    assert!(err.contains("not a genesis account"), "{err}");
}

#[test]
fn genesis_contract_lists_above_the_bounds_are_refused() {
    let many = vec![genesis_counter(1, 0); MAX_GENESIS_CONTRACTS + 1];
    let err = genesis_error(&closed_genesis_with(many));
    assert!(err.contains(&format!("at most {MAX_GENESIS_CONTRACTS}")), "{err}");

    // Total code size: refused before anything is compiled (the modules need not even be valid).
    let chunk = 512 * 1024;
    let n = MAX_GENESIS_CODE_BYTES / chunk + 1;
    assert!(n <= MAX_GENESIS_CONTRACTS);
    let big: Vec<GenesisContract> =
        (0..n).map(|_| GenesisContract { code: vec![0; chunk], ..genesis_counter(1, 0) }).collect();
    let err = genesis_error(&closed_genesis_with(big));
    assert!(err.contains(&format!("at most {MAX_GENESIS_CODE_BYTES}")), "{err}");

    // Exactly at the count bound is fine.
    let at_bound = vec![genesis_counter(1, 0); MAX_GENESIS_CONTRACTS];
    let g = closed_genesis_with(at_bound);
    let c = Chain::from_genesis(&g);
    assert_eq!(c.account(&key(1).public().address()).nonce, MAX_GENESIS_CONTRACTS as u64);
}
