//! Contract transactions through purse-vm: the VM's view of the block's state ([`ContractView`]), applying a
//! successful execution's [`StateDiff`], and the deploy / call / upgrade payloads.
//!
//! The VM never writes: it reads committed state plus the block's pending writes through [`ContractView`]
//! and returns every write in a diff, which this module applies to the current transaction's layer. A
//! failed execution returns an empty diff, so a trap, out-of-fuel or host error leaves nothing behind.

use crate::error::{ExecError, RuntimeError, TxError};
use crate::native;
use crate::permissions::{self, Records};
use crate::schema::{self, AssetRecord};
use crate::state::{BlockState, Layers, StateRead};
use purse_types::{Address, Amount, AssetId, Coin, Event, Hash};
use purse_vm::{Action, ContractInfo, ContractState, Entries, Env, Outcome, StateDiff, Vm};
use std::sync::Arc;

/// Committed state plus the block's pending writes, as the VM reads it. `'static` and shareable: it owns a
/// handle on committed state and shares the write layers for the duration of one call.
pub struct ContractView<R> {
    base: R,
    layers: Arc<Layers>,
    time_ms: u64,
}

impl<R: StateRead + Send + Sync> ContractView<R> {
    /// A view of `base` under `layers`, for a block at `time_ms` (the day of tier limits).
    pub fn new(base: R, layers: Arc<Layers>, time_ms: u64) -> ContractView<R> {
        ContractView { base, layers, time_ms }
    }

    /// A view of committed state alone (read-only queries).
    pub fn committed(base: R, time_ms: u64) -> ContractView<R> {
        ContractView { base, layers: Arc::new(Layers::default()), time_ms }
    }

    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, purse_vm::StateError> {
        match self.layers.get(key) {
            Some(v) => Ok(v.map(<[u8]>::to_vec)),
            None => self.base.read(key).map_err(vm_state_error),
        }
    }

    fn record<T: borsh::BorshDeserialize>(&self, key: &[u8]) -> Result<Option<T>, purse_vm::StateError> {
        match self.read(key)? {
            None => Ok(None),
            Some(bytes) => purse_types::decode(&bytes).map(Some).map_err(|e| {
                purse_vm::StateError(format!("corrupted record at {}: {e}", purse_state::hex_key(key)))
            }),
        }
    }

    fn is_holder(&self, addr: &Address) -> Result<bool, purse_vm::StateError> {
        Ok(self.read(&schema::account_key(addr))?.is_some()
            || self.read(&schema::contract_key(addr))?.is_some())
    }
}

fn vm_state_error(e: purse_state::StateError) -> purse_vm::StateError {
    purse_vm::StateError(e.to_string())
}

impl<R: StateRead + Send + Sync> ContractState for ContractView<R> {
    fn storage_get(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, purse_vm::StateError> {
        self.read(&schema::contract_storage_key(contract, key))
    }

    fn storage_scan(
        &self,
        contract: &Address,
        prefix: &[u8],
        from: &[u8],
        limit: usize,
    ) -> Result<Entries, purse_vm::StateError> {
        let base = schema::contract_storage_prefix(contract);
        let full_prefix = schema::contract_storage_key(contract, prefix);
        let full_from = schema::contract_storage_key(contract, from);
        let entries =
            self.layers.scan(&self.base, &full_prefix, &full_from, limit).map_err(vm_state_error)?;
        Ok(entries.into_iter().map(|(k, v)| (k[base.len()..].to_vec(), v)).collect())
    }

    fn balance(&self, account: &Address, asset: &AssetId) -> Result<Amount, purse_vm::StateError> {
        Ok(Amount(self.record::<u128>(&schema::balance_key(account, asset))?.unwrap_or(0)))
    }

    fn code(&self, hash: &Hash) -> Result<Option<Arc<[u8]>>, purse_vm::StateError> {
        Ok(self.read(&schema::code_key(hash))?.map(Arc::from))
    }

    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, purse_vm::StateError> {
        self.record(&schema::contract_key(address))
    }

    fn has_role(&self, account: &Address, role: purse_types::Role) -> Result<bool, purse_vm::StateError> {
        Ok(self.read(&schema::role_key(role, account))?.is_some())
    }

    /// Every transfer a contract makes and every attachment of funds to a call passes the same checks as a
    /// native transfer: the asset's global freeze, the sender's and the recipient's holding freezes, the
    /// recipient's authorization, and the tier limits of a registered account that is debited.
    fn check_transfer(
        &self,
        from: &Address,
        to: &Address,
        asset: &AssetId,
        amount: Amount,
    ) -> Result<(), String> {
        let fail = |e: ExecError| e.to_string();
        let record: Option<AssetRecord> =
            self.record(&schema::asset_key(asset)).map_err(|e| e.to_string())?;
        let Some(record) = record else { return Err(format!("unknown asset {}", asset.to_hex())) };
        if !self.is_holder(to).map_err(|e| e.to_string())? {
            return Err(format!("recipient {to} is not a registered account or contract"));
        }
        permissions::check_send(self, &record, asset, from).map_err(fail)?;
        permissions::check_receive(self, &record, asset, to).map_err(fail)?;
        permissions::check_limits(self, from, asset, amount.0, permissions::day_of(self.time_ms))
            .map_err(fail)?;
        Ok(())
    }
}

impl<R: StateRead + Send + Sync> Records for ContractView<R> {
    fn record<T: borsh::BorshDeserialize>(&self, key: &[u8]) -> Result<Option<T>, RuntimeError> {
        ContractView::record(self, key).map_err(|e| RuntimeError::Vm(e.to_string()))
    }
}

/// Applies a successful execution's writes to the current transaction.
fn apply_diff<R: StateRead + ?Sized>(st: &mut BlockState<'_, R>, diff: StateDiff) {
    for (hash, code) in diff.codes {
        st.put(schema::code_key(&hash), code);
    }
    for (address, info) in diff.contracts {
        st.put_record(schema::contract_key(&address), &info);
    }
    for change in diff.storage {
        let key = schema::contract_storage_key(&change.contract, &change.key);
        match change.value {
            Some(v) => st.put(key, v),
            None => st.delete(key),
        }
    }
    for b in diff.balances {
        native::set_balance(st, &b.account, &b.asset, b.balance.0);
    }
}

/// What a contract payload did: fuel consumed (charged even on failure) and the result.
pub struct ContractRun {
    /// Fuel consumed by every VM execution of the transaction.
    pub fuel_used: u64,
    /// Events on success; the error otherwise.
    pub result: Result<Vec<Event>, ExecError>,
}

/// Runs one VM action over the block's state and applies its diff on success.
fn execute<R: StateRead + Clone + Send + Sync + 'static>(
    vm: &Vm,
    st: &mut BlockState<'_, R>,
    env: &Env,
    action: Action,
    fuel_limit: u64,
) -> Result<Outcome, RuntimeError> {
    let base = st.base().clone();
    let time_ms = env.block_time_ms;
    let outcome = st.with_shared_layers(|layers| {
        let view = Arc::new(ContractView::new(base, layers, time_ms));
        vm.execute(view, env, action, fuel_limit)
    })?;
    if let Err(e) = &outcome.result {
        if e.is_fatal() {
            return Err(RuntimeError::Vm(e.to_string()));
        }
    }
    Ok(outcome)
}

/// Runs a `Deploy`, `Call` or `Upgrade` payload for `sender`. Writes land in the current transaction (the
/// caller rolls it back when the result is an error).
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_payload<R: StateRead + Clone + Send + Sync + 'static>(
    vm: &Vm,
    st: &mut BlockState<'_, R>,
    env: &Env,
    payload: ContractPayload<'_>,
) -> Result<ContractRun, RuntimeError> {
    match payload {
        ContractPayload::Deploy { code, init_args, admin, nonce, fuel_limit } => {
            let stored = store_code(vm, st, env, code, fuel_limit)?;
            let (hash, used) = match stored {
                Ok(v) => v,
                Err(run) => return Ok(run),
            };
            let action = Action::Instantiate {
                code_hash: hash,
                nonce,
                admin,
                allow_reentry: false,
                args: init_args.to_vec(),
                funds: Vec::new(),
            };
            let out = execute(vm, st, env, action, fuel_limit.saturating_sub(used))?;
            Ok(finish(st, out, used))
        }
        ContractPayload::Call { contract, method, args, funds, fuel_limit } => {
            let funds = funds.iter().map(|c| (c.asset, c.amount)).collect();
            let action = Action::Call { contract, method: method.to_string(), args: args.to_vec(), funds };
            let out = execute(vm, st, env, action, fuel_limit)?;
            Ok(finish(st, out, 0))
        }
        ContractPayload::Upgrade { contract, code, migrate_args, fuel_limit } => {
            let (hash, used) = match store_code(vm, st, env, code, fuel_limit)? {
                Ok(v) => v,
                Err(run) => return Ok(run),
            };
            let action = Action::Upgrade { contract, code_hash: hash, args: migrate_args.to_vec() };
            let out = execute(vm, st, env, action, fuel_limit.saturating_sub(used))?;
            Ok(finish(st, out, used))
        }
    }
}

/// Stores code (the VM checks and compiles it first); returns its hash and the fuel used, or the failed run.
fn store_code<R: StateRead + Clone + Send + Sync + 'static>(
    vm: &Vm,
    st: &mut BlockState<'_, R>,
    env: &Env,
    code: &[u8],
    fuel_limit: u64,
) -> Result<Result<(Hash, u64), ContractRun>, RuntimeError> {
    let out = execute(vm, st, env, Action::Deploy { code: code.to_vec() }, fuel_limit)?;
    let used = out.fuel_used;
    match (out.result, out.code_hash) {
        (Ok(_), Some(hash)) => {
            apply_diff(st, out.diff);
            Ok(Ok((hash, used)))
        }
        (Ok(_), None) => Err(RuntimeError::Vm("deploy succeeded without a code hash".into())),
        (Err(e), _) => Ok(Err(ContractRun { fuel_used: used, result: Err(TxError::Contract(e).into()) })),
    }
}

fn finish<R: StateRead + ?Sized>(st: &mut BlockState<'_, R>, out: Outcome, fuel_before: u64) -> ContractRun {
    let fuel_used = fuel_before.saturating_add(out.fuel_used);
    match out.result {
        Ok(_) => {
            apply_diff(st, out.diff);
            ContractRun { fuel_used, result: Ok(out.events) }
        }
        Err(e) => ContractRun { fuel_used, result: Err(TxError::Contract(e).into()) },
    }
}

/// A contract payload, borrowed from the transaction.
pub(crate) enum ContractPayload<'a> {
    /// Store code and instantiate it at `Address::contract(sender, nonce)`.
    Deploy { code: &'a [u8], init_args: &'a [u8], admin: Option<Address>, nonce: u64, fuel_limit: u64 },
    /// Call a method.
    Call { contract: Address, method: &'a str, args: &'a [u8], funds: &'a [Coin], fuel_limit: u64 },
    /// Store new code and switch the contract to it.
    Upgrade { contract: Address, code: &'a [u8], migrate_args: &'a [u8], fuel_limit: u64 },
}

/// The deterministic block environment of a transaction.
pub(crate) fn env(height: u64, time_ms: u64, origin: Address) -> Env {
    Env { block_height: height, block_time_ms: time_ms, origin }
}
