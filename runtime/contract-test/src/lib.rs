//! purse-contract-test — the contract author's test harness: loads a built `.wasm` into the real purse-vm over
//! an in-memory state, and lets a test deploy, instantiate, call, query, upgrade, advance blocks, and inspect
//! events, storage and balances (the Soroban `Env` experience).
//!
//! ```no_run
//! use purse_contract_test::TestEnv;
//! let mut env = TestEnv::new();
//! let alice = TestEnv::account("alice");
//! let code = env.deploy_artifact(alice, "counter").unwrap();
//! let counter = env.instantiate(alice, code, &5u64).unwrap();
//! let n: u64 = env.call(alice, counter, "increment", &2u64).unwrap();
//! assert_eq!(n, 7);
//! assert_eq!(env.last_events()[0].topic, "counter.incremented");
//! ```

use borsh::{BorshDeserialize, BorshSerialize};
use purse_types::{Address, Amount, AssetId, Domain, Event, Hash, Hasher, Role};
use purse_vm::{
    Action, ContractInfo, ContractState, Env, ExecError, Outcome, StateDiff, StateError, Vm, VmConfig,
};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::PathBuf;
use std::sync::Arc;

/// Fuel given to each harness call unless changed with [`TestEnv::set_fuel_limit`].
pub const DEFAULT_FUEL: u64 = 100_000_000;

/// Block interval used by [`TestEnv::advance_blocks`], milliseconds.
pub const BLOCK_MS: u64 = 1_000;

/// An in-memory [`ContractState`], also usable on its own (e.g. by runtime tests).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemState {
    /// Contract storage by (contract, key).
    pub storage: BTreeMap<(Address, Vec<u8>), Vec<u8>>,
    /// Native balances.
    pub balances: BTreeMap<(Address, AssetId), Amount>,
    /// Stored code.
    pub codes: BTreeMap<Hash, Arc<[u8]>>,
    /// Contract records.
    pub contracts: BTreeMap<Address, ContractInfo>,
    /// Roles held (granted with [`MemState::grant_role`]).
    pub roles: std::collections::BTreeSet<(Address, Role)>,
}

impl MemState {
    /// Gives `account` the role `role` (as governance or the role's administrator would).
    pub fn grant_role(&mut self, account: Address, role: Role) {
        self.roles.insert((account, role));
    }

    /// Applies a successful execution's writes.
    pub fn apply(&mut self, diff: &StateDiff) {
        for (hash, code) in &diff.codes {
            self.codes.insert(*hash, Arc::from(code.as_slice()));
        }
        for (address, info) in &diff.contracts {
            self.contracts.insert(*address, info.clone());
        }
        for change in &diff.storage {
            let k = (change.contract, change.key.clone());
            match &change.value {
                Some(v) => self.storage.insert(k, v.clone()),
                None => self.storage.remove(&k),
            };
        }
        for change in &diff.balances {
            self.balances.insert((change.account, change.asset), change.balance);
        }
    }

    /// A digest of the whole state (deterministic: sorted maps, canonical encoding).
    pub fn root(&self) -> Hash {
        let mut h = Hasher::new(Domain::StateLeaf);
        for ((c, k), v) in &self.storage {
            h.update_field(&c.0).update_field(k).update_field(v);
        }
        for ((a, s), amount) in &self.balances {
            h.update_field(&a.0).update_field(&s.0).update_field(&amount.0.to_le_bytes());
        }
        for hash in self.codes.keys() {
            h.update_field(&hash.0);
        }
        for (a, info) in &self.contracts {
            h.update_field(&a.0).update_field(&borsh::to_vec(info).unwrap_or_default());
        }
        h.finalize()
    }
}

impl ContractState for MemState {
    fn storage_get(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.storage.get(&(*contract, key.to_vec())).cloned())
    }

    fn storage_scan(
        &self,
        contract: &Address,
        prefix: &[u8],
        from: &[u8],
        limit: usize,
    ) -> Result<purse_vm::Entries, StateError> {
        let start = if from < prefix { prefix } else { from };
        let range = self.storage.range((Bound::Included((*contract, start.to_vec())), Bound::Unbounded));
        Ok(range
            .take_while(|((c, k), _)| c == contract && k.starts_with(prefix))
            .take(limit)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }

    fn balance(&self, account: &Address, asset: &AssetId) -> Result<Amount, StateError> {
        Ok(self.balances.get(&(*account, *asset)).copied().unwrap_or_default())
    }

    fn code(&self, hash: &Hash) -> Result<Option<Arc<[u8]>>, StateError> {
        Ok(self.codes.get(hash).cloned())
    }

    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
        Ok(self.contracts.get(address).cloned())
    }

    fn has_role(&self, account: &Address, role: Role) -> Result<bool, StateError> {
        Ok(self.roles.contains(&(*account, role)))
    }
}

/// Where built contracts are: `$PURSE_CONTRACT_ARTIFACTS`, else `contracts/artifacts` of this checkout.
pub fn artifacts_dir() -> PathBuf {
    match std::env::var_os("PURSE_CONTRACT_ARTIFACTS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../contracts/artifacts"),
    }
}

/// Errors of the harness itself (as opposed to contract failures).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A built contract is missing.
    #[error("contract artifact {path} is missing ({source}); build the contracts first: bash scripts/build-contracts")]
    MissingArtifact {
        /// The path looked for.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The contract failed.
    #[error("{0}")]
    Exec(#[from] ExecError),
    /// The contract's return data did not decode as the expected type.
    #[error("return data does not decode: {0}")]
    Decode(String),
}

/// Reads a built contract by name (`counter` → `contracts/artifacts/counter.wasm`).
pub fn artifact(name: &str) -> Result<Vec<u8>, HarnessError> {
    let path = artifacts_dir().join(format!("{name}.wasm"));
    std::fs::read(&path)
        .map_err(|source| HarnessError::MissingArtifact { path: path.display().to_string(), source })
}

/// A chain in a box: the real VM, an in-memory state, a block clock.
pub struct TestEnv {
    vm: Vm,
    state: Arc<MemState>,
    height: u64,
    time_ms: u64,
    nonces: BTreeMap<Address, u64>,
    fuel_limit: u64,
    last: Option<Outcome>,
    all_events: Vec<Event>,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    /// A fresh chain at height 1 with the chain's default VM configuration.
    pub fn new() -> TestEnv {
        Self::with_config(VmConfig::default())
    }

    /// A fresh chain with a custom VM configuration (e.g. lower limits). Panics if wasmtime refuses the
    /// configuration: a test cannot do anything useful without a VM.
    #[allow(clippy::panic)]
    pub fn with_config(config: VmConfig) -> TestEnv {
        let vm = match Vm::new(config) {
            Ok(vm) => vm,
            Err(e) => panic!("the VM could not be built: {e}"),
        };
        Self::with_vm(vm)
    }

    /// A fresh chain sharing an existing VM (and so its module cache).
    pub fn with_vm(vm: Vm) -> TestEnv {
        TestEnv {
            vm,
            state: Arc::new(MemState::default()),
            height: 1,
            time_ms: 1_700_000_000_000,
            nonces: BTreeMap::new(),
            fuel_limit: DEFAULT_FUEL,
            last: None,
            all_events: Vec::new(),
        }
    }

    /// A deterministic test account address for `name`.
    pub fn account(name: &str) -> Address {
        Address::system(&format!("test-account:{name}"))
    }

    /// The VM (for cache statistics and the like).
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// The current state.
    pub fn state(&self) -> &MemState {
        &self.state
    }

    /// Sets the fuel limit of later calls.
    pub fn set_fuel_limit(&mut self, fuel: u64) {
        self.fuel_limit = fuel;
    }

    /// Current block height.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// Current block time, ms.
    pub fn time_ms(&self) -> u64 {
        self.time_ms
    }

    /// Moves `n` blocks forward ([`BLOCK_MS`] each).
    pub fn advance_blocks(&mut self, n: u64) {
        self.height += n;
        self.time_ms += n * BLOCK_MS;
    }

    /// Moves the clock forward by `ms` (one block).
    pub fn advance_time(&mut self, ms: u64) {
        self.height += 1;
        self.time_ms += ms;
    }

    /// Gives `account` a balance (genesis-style, outside any transaction).
    pub fn mint(&mut self, account: Address, asset: AssetId, amount: u128) {
        Arc::make_mut(&mut self.state).balances.insert((account, asset), Amount(amount));
    }

    /// Gives `account` the role `role`, as governance or the role's administrator would on chain.
    pub fn grant_role(&mut self, account: Address, role: Role) {
        Arc::make_mut(&mut self.state).grant_role(account, role);
    }

    /// `account`'s balance.
    pub fn balance(&self, account: Address, asset: AssetId) -> u128 {
        self.state.balances.get(&(account, asset)).map(|a| a.0).unwrap_or(0)
    }

    /// A raw storage value of `contract`.
    pub fn storage(&self, contract: Address, key: &[u8]) -> Option<Vec<u8>> {
        self.state.storage.get(&(contract, key.to_vec())).cloned()
    }

    /// Every storage entry of `contract`, in key order.
    pub fn storage_entries(&self, contract: Address) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.state
            .storage
            .iter()
            .filter(|((c, _), _)| *c == contract)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The contract record.
    pub fn contract_info(&self, contract: Address) -> Option<ContractInfo> {
        self.state.contracts.get(&contract).cloned()
    }

    /// The outcome of the last execution (successful or not).
    pub fn last_outcome(&self) -> Option<&Outcome> {
        self.last.as_ref()
    }

    /// Events of the last execution.
    pub fn last_events(&self) -> &[Event] {
        self.last.as_ref().map(|o| o.events.as_slice()).unwrap_or(&[])
    }

    /// Every event of every successful execution so far.
    pub fn all_events(&self) -> &[Event] {
        &self.all_events
    }

    /// Fuel used by the last execution.
    pub fn last_fuel(&self) -> u64 {
        self.last.as_ref().map(|o| o.fuel_used).unwrap_or(0)
    }

    /// Digest of the whole state.
    pub fn state_root(&self) -> Hash {
        self.state.root()
    }

    fn env_for(&self, origin: Address) -> Env {
        Env { block_height: self.height, block_time_ms: self.time_ms, origin }
    }

    /// Executes `action` as `sender`, applying the diff on success. Returns the outcome.
    pub fn execute(&mut self, sender: Address, action: Action) -> Outcome {
        let env = self.env_for(sender);
        let out = self.vm.execute(Arc::clone(&self.state), &env, action, self.fuel_limit);
        if out.result.is_ok() {
            Arc::make_mut(&mut self.state).apply(&out.diff);
            self.all_events.extend(out.events.iter().cloned());
        }
        self.last = Some(out.clone());
        out
    }

    /// Like [`TestEnv::execute`] but applies nothing.
    pub fn dry_run(&self, sender: Address, action: Action) -> Outcome {
        let env = self.env_for(sender);
        self.vm.dry_run(Arc::clone(&self.state), &env, action, self.fuel_limit)
    }

    /// Stores code; returns its hash.
    pub fn deploy(&mut self, sender: Address, code: &[u8]) -> Result<Hash, ExecError> {
        let out = self.execute(sender, Action::Deploy { code: code.to_vec() });
        out.result?;
        out.code_hash.ok_or_else(|| ExecError::Internal("deploy returned no hash".into()))
    }

    /// Stores a built contract by name (see [`artifact`]).
    pub fn deploy_artifact(&mut self, sender: Address, name: &str) -> Result<Hash, HarnessError> {
        let code = artifact(name)?;
        Ok(self.deploy(sender, &code)?)
    }

    fn next_nonce(&mut self, sender: Address) -> u64 {
        let n = self.nonces.entry(sender).or_insert(0);
        *n += 1;
        *n
    }

    /// Instantiates stored code with `init` arguments; the sender becomes admin.
    pub fn instantiate<A: BorshSerialize>(
        &mut self,
        sender: Address,
        code_hash: Hash,
        args: &A,
    ) -> Result<Address, ExecError> {
        self.instantiate_with(
            sender,
            code_hash,
            borsh::to_vec(args).unwrap_or_default(),
            Some(sender),
            false,
            Vec::new(),
        )
    }

    /// Instantiates with every option.
    pub fn instantiate_with(
        &mut self,
        sender: Address,
        code_hash: Hash,
        args: Vec<u8>,
        admin: Option<Address>,
        allow_reentry: bool,
        funds: Vec<(AssetId, Amount)>,
    ) -> Result<Address, ExecError> {
        let nonce = self.next_nonce(sender);
        let out =
            self.execute(sender, Action::Instantiate { code_hash, nonce, admin, allow_reentry, args, funds });
        out.result?;
        out.contract.ok_or_else(|| ExecError::Internal("instantiate returned no address".into()))
    }

    /// Calls `method` with borsh `args`, decoding the result as `R`.
    pub fn call<A: BorshSerialize, R: BorshDeserialize>(
        &mut self,
        sender: Address,
        contract: Address,
        method: &str,
        args: &A,
    ) -> Result<R, HarnessError> {
        let raw =
            self.call_raw(sender, contract, method, borsh::to_vec(args).unwrap_or_default(), Vec::new())?;
        purse_types::decode(&raw).map_err(|e| HarnessError::Decode(e.to_string()))
    }

    /// Calls with raw arguments and attached funds; returns the raw result.
    pub fn call_raw(
        &mut self,
        sender: Address,
        contract: Address,
        method: &str,
        args: Vec<u8>,
        funds: Vec<(AssetId, Amount)>,
    ) -> Result<Vec<u8>, ExecError> {
        self.execute(sender, Action::Call { contract, method: method.to_string(), args, funds }).result
    }

    /// Read-only call (writes fail), decoding the result as `R`.
    pub fn query<A: BorshSerialize, R: BorshDeserialize>(
        &self,
        contract: Address,
        method: &str,
        args: &A,
    ) -> Result<R, HarnessError> {
        let env = self.env_for(Self::account("query"));
        let out = self.vm.query(
            Arc::clone(&self.state),
            &env,
            contract,
            method,
            borsh::to_vec(args).unwrap_or_default(),
            self.fuel_limit,
        );
        let raw = out.result?;
        purse_types::decode(&raw).map_err(|e| HarnessError::Decode(e.to_string()))
    }

    /// Upgrades `contract` to stored code `code_hash`, running its `migrate` with `args`.
    pub fn upgrade<A: BorshSerialize>(
        &mut self,
        sender: Address,
        contract: Address,
        code_hash: Hash,
        args: &A,
    ) -> Result<(), ExecError> {
        let args = borsh::to_vec(args).unwrap_or_default();
        self.execute(sender, Action::Upgrade { contract, code_hash, args }).result.map(|_| ())
    }
}
