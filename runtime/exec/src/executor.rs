//! Block execution: envelope checks, fees, payload dispatch and receipts.

use crate::confidential::{self, Proofs};
use crate::contracts::{self, ContractPayload, ContractView};
use crate::error::{ExecError, RuntimeError, TxError};
use crate::genesis::Genesis;
use crate::native;
use crate::params::Params;
use crate::schema::{self, AccountRecord, ChainRecord};
use crate::state::{BlockState, StateRead};
use crate::{governance, permissions};
use purse_state::Overlay;
use purse_types::{
    encode, merkle_list_root, verify_batch, Address, BatchItem, ChainId, Domain, Event, Hash, Payload,
    Receipt, SignedTransaction, TxStatus,
};
use purse_vm::{Outcome, Vm, VmConfig};
use std::sync::Arc;

/// Fuel units charged for a native operation (receipts report them so clients can compare costs).
pub const NATIVE_OP_FUEL: u64 = 1_000;

/// Where and when a block executes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockContext {
    /// The chain.
    pub chain_id: ChainId,
    /// Height of the block being executed.
    pub height: u64,
    /// Block time, ms since the Unix epoch.
    pub time_ms: u64,
}

/// What executing a block produced.
#[derive(Debug)]
pub struct BlockOutput {
    /// Every state write of the block.
    pub overlay: Overlay,
    /// One receipt per transaction, in block order.
    pub receipts: Vec<Receipt>,
}

impl BlockOutput {
    /// Merkle root of the receipts (for the header).
    pub fn receipt_root(&self) -> Hash {
        receipt_root(&self.receipts)
    }
}

/// Merkle root over the receipts' hashes.
pub fn receipt_root(receipts: &[Receipt]) -> Hash {
    let leaves: Vec<Hash> = receipts.iter().map(|r| Hash::digest(Domain::ReceiptRoot, &encode(r))).collect();
    merkle_list_root(Domain::ReceiptRoot, &leaves)
}

/// Verifies all signatures of a block in one batch, falling back to one-by-one to find the bad ones.
/// Returns one flag per transaction.
pub fn verify_signatures(txs: &[SignedTransaction]) -> Vec<bool> {
    let messages: Vec<Vec<u8>> = txs.iter().map(|t| t.signed_message()).collect();
    let items: Vec<BatchItem<'_>> =
        txs.iter().zip(&messages).map(|(t, m)| (&t.public_key, m.as_slice(), &t.signature)).collect();
    if verify_batch(&items).is_ok() {
        return vec![true; txs.len()];
    }
    items.iter().map(|(k, m, s)| purse_types::verify(k, m, s).is_ok()).collect()
}

/// The state-transition function: the native modules plus the contract VM.
#[derive(Clone)]
pub struct Runtime {
    vm: Vm,
    batch_proofs: bool,
}

impl Runtime {
    /// A runtime executing contracts on `vm` (one per node; it holds the compiled-module cache).
    pub fn new(vm: Vm) -> Runtime {
        Runtime { vm, batch_proofs: true }
    }

    /// Turns block-level batch verification of confidential transfer proofs on (the default) or off. Either way
    /// a block's result is the same; off verifies each proof as its transaction executes.
    pub fn with_proof_batching(mut self, on: bool) -> Runtime {
        self.batch_proofs = on;
        self
    }

    /// A runtime with the chain's default VM configuration and no on-disk module cache.
    pub fn with_default_vm() -> Result<Runtime, RuntimeError> {
        let vm = Vm::new(VmConfig::default()).map_err(|e| RuntimeError::Vm(e.to_string()))?;
        Ok(Runtime { vm, batch_proofs: true })
    }

    /// The contract VM.
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// The state writes of `genesis` (height 0) over an empty `base`, its contracts deployed on this runtime's
    /// VM ([`Genesis::build_state_with`]).
    pub fn genesis_state<R: StateRead + Clone + Send + Sync + 'static>(
        &self,
        genesis: &Genesis,
        base: &R,
    ) -> Result<Overlay, RuntimeError> {
        genesis.build_state_with(base, &self.vm)
    }

    /// Executes `txs` in order on top of `base`. Transaction failures become receipts; only a broken store
    /// (or a node-local VM failure) is an error. Deterministic: the same base state and inputs give the same
    /// writes and receipts everywhere.
    pub fn execute_block<R: StateRead + Clone + Send + Sync + 'static>(
        &self,
        base: &R,
        ctx: &BlockContext,
        txs: &[SignedTransaction],
    ) -> Result<BlockOutput, RuntimeError> {
        let sig_ok = verify_signatures(txs);
        // Optimistic batch: execute with transfer proofs deferred, each recorded against the exact state it was
        // applied to, then verify them all in one pass. If every proof holds, that execution is the sequential
        // one; otherwise re-execute verifying each proof in place (failures become receipts).
        if self.batch_proofs && batchable_transfers(txs, &sig_ok) >= 2 {
            let mut proofs = Proofs::Defer(Vec::new());
            let out = self.run_block(base, ctx, txs, &sig_ok, &mut proofs)?;
            if proofs.verify_deferred() {
                return Ok(out);
            }
        }
        self.run_block(base, ctx, txs, &sig_ok, &mut Proofs::Verify)
    }

    fn run_block<R: StateRead + Clone + Send + Sync + 'static>(
        &self,
        base: &R,
        ctx: &BlockContext,
        txs: &[SignedTransaction],
        sig_ok: &[bool],
        proofs: &mut Proofs,
    ) -> Result<BlockOutput, RuntimeError> {
        let mut st = BlockState::new(base);
        let params = Params::read(&st)?;
        let chain: ChainRecord = st.get_record(&schema::chain_key())?.ok_or_else(|| {
            RuntimeError::Genesis("state has no chain record: genesis was not applied".into())
        })?;
        let mut receipts = Vec::with_capacity(txs.len());
        for (tx, ok) in txs.iter().zip(sig_ok) {
            let receipt = self.execute_tx(&mut st, ctx, &chain, &params, tx, *ok, proofs)?;
            receipts.push(receipt);
        }
        Ok(BlockOutput { overlay: st.into_overlay(), receipts })
    }

    /// Read-only contract call on committed state: any write fails the query with `read_only`.
    pub fn query<R: StateRead + Send + Sync + 'static>(
        &self,
        base: R,
        ctx: &BlockContext,
        contract: Address,
        method: &str,
        args: Vec<u8>,
        fuel_limit: u64,
    ) -> Outcome {
        let view = Arc::new(ContractView::committed(base, ctx.time_ms));
        let env = contracts::env(ctx.height, ctx.time_ms, Address::system("query"));
        self.vm.query(view, &env, contract, method, args, fuel_limit)
    }

    #[allow(clippy::too_many_arguments)]
    fn execute_tx<R: StateRead + Clone + Send + Sync + 'static>(
        &self,
        st: &mut BlockState<'_, R>,
        ctx: &BlockContext,
        chain: &ChainRecord,
        params: &Params,
        tx: &SignedTransaction,
        signature_ok: bool,
        proofs: &mut Proofs,
    ) -> Result<Receipt, RuntimeError> {
        let tx_id = tx.id();
        if !signature_ok {
            return Ok(failed(tx_id, &TxError::BadSignature, 0, 0));
        }
        // Envelope: nothing is written unless it passes.
        let (mut acct, reserved) = match check_envelope(st, ctx, params, tx) {
            Ok(v) => v,
            Err(ExecError::Tx(e)) => return Ok(failed(tx_id, &e, 0, 0)),
            Err(ExecError::Runtime(e)) => return Err(e),
        };
        let sender = tx.tx.sender;
        // Reserve the most the transaction can cost; the unused part is refunded after execution.
        match native::debit(st, &sender, &chain.fee_asset, reserved) {
            Ok(()) => {}
            Err(ExecError::Tx(_)) => {
                st.rollback_tx();
                return Ok(failed(tx_id, &TxError::CannotPayFee(reserved), 0, 0));
            }
            Err(ExecError::Runtime(e)) => return Err(e),
        }
        acct.nonce = acct.nonce.saturating_add(1);
        st.put_record(schema::account_key(&sender), &acct);
        // The reservation and the nonce stick even if the payload fails.
        lift(st.commit_tx())?;

        let mut events = Vec::new();
        let (result, fuel_used) = self.apply_payload(st, ctx, tx, proofs, &mut events)?;
        let charged =
            params.fee_for(encode(tx).len()).saturating_add(params.fuel_fee(contract_fuel(tx, fuel_used)));
        let charged = charged.min(reserved);
        let status = match result {
            Ok(()) => TxStatus::Success,
            Err(ExecError::Tx(e)) => {
                st.rollback_tx();
                events.clear();
                TxStatus::Failed { code: e.code().to_string(), message: e.to_string() }
            }
            Err(ExecError::Runtime(e)) => return Err(e),
        };
        lift(native::credit(st, &sender, &chain.fee_asset, reserved - charged))?;
        lift(native::credit(st, &chain.fee_collector, &chain.fee_asset, charged))?;
        lift(st.commit_tx())?;
        Ok(Receipt { tx_id, status, fuel_used, fee_paid: charged, events })
    }

    /// Applies the payload into the current transaction; returns its result and the fuel it used.
    fn apply_payload<R: StateRead + Clone + Send + Sync + 'static>(
        &self,
        st: &mut BlockState<'_, R>,
        ctx: &BlockContext,
        tx: &SignedTransaction,
        proofs: &mut Proofs,
        events: &mut Vec<Event>,
    ) -> Result<(Result<(), ExecError>, u64), RuntimeError> {
        let sender = tx.tx.sender;
        let native_result = match &tx.tx.payload {
            Payload::Transfer { to, coin } => native::transfer(st, &sender, to, coin, ctx.time_ms, events),
            Payload::CreateAsset { symbol, decimals, flags } => {
                native::create_asset(st, &sender, symbol, *decimals, *flags, events).map(|_| ())
            }
            Payload::Mint { to, coin } => native::mint(st, &sender, to, coin, events),
            Payload::Burn { coin } => native::burn(st, &sender, coin, ctx.time_ms, events),
            Payload::Deploy { code, init_args, admin, fuel_limit } => {
                if let Some(refused) =
                    refuse(governance::check_deploy(st, &sender, &purse_vm::code_hash(code)))?
                {
                    return Ok((refused, 0));
                }
                let p = ContractPayload::Deploy {
                    code,
                    init_args,
                    admin: *admin,
                    nonce: tx.tx.nonce,
                    fuel_limit: *fuel_limit,
                };
                return self.contract(st, ctx, sender, p, events);
            }
            Payload::Call { contract, method, args, funds, fuel_limit } => {
                // Attached funds are the holder's debit: checked against its tier limits here (summed per
                // asset), each coin again by the contract view's transfer policy, and recorded on success.
                let spends = match permissions::check_attached(st, &sender, funds, ctx.time_ms) {
                    Ok(spends) => spends,
                    Err(ExecError::Runtime(e)) => return Err(e),
                    Err(e) => return Ok((Err(e), 0)),
                };
                let p = ContractPayload::Call {
                    contract: *contract,
                    method,
                    args,
                    funds,
                    fuel_limit: *fuel_limit,
                };
                let (result, fuel) = self.contract(st, ctx, sender, p, events)?;
                if result.is_ok() {
                    permissions::record_spends(st, &sender, &spends);
                }
                return Ok((result, fuel));
            }
            Payload::Upgrade { contract, code, migrate_args, fuel_limit } => {
                if let Some(refused) =
                    refuse(governance::check_deploy(st, &sender, &purse_vm::code_hash(code)))?
                {
                    return Ok((refused, 0));
                }
                let p = ContractPayload::Upgrade {
                    contract: *contract,
                    code,
                    migrate_args,
                    fuel_limit: *fuel_limit,
                };
                return self.contract(st, ctx, sender, p, events);
            }
            Payload::Confidential(op) => {
                let r = confidential::apply(st, &tx.tx, op, ctx.time_ms, proofs, events);
                return match r {
                    Err(ExecError::Runtime(e)) => Err(e),
                    r => Ok((r, confidential::op_fuel(op))),
                };
            }
            Payload::Governance(op) => governance::apply(&self.vm, st, ctx, tx, op, events),
            Payload::Admin(op) => permissions::apply(st, &sender, op, events),
        };
        match native_result {
            Err(ExecError::Runtime(e)) => Err(e),
            r => Ok((r, NATIVE_OP_FUEL)),
        }
    }

    fn contract<R: StateRead + Clone + Send + Sync + 'static>(
        &self,
        st: &mut BlockState<'_, R>,
        ctx: &BlockContext,
        sender: Address,
        payload: ContractPayload<'_>,
        events: &mut Vec<Event>,
    ) -> Result<(Result<(), ExecError>, u64), RuntimeError> {
        let env = contracts::env(ctx.height, ctx.time_ms, sender);
        let run = contracts::run_payload(&self.vm, st, &env, payload)?;
        let result = run.result.map(|evs| events.extend(evs));
        Ok((result, run.fuel_used))
    }
}

/// Fuel a transaction declares: contract payloads their `fuel_limit`, confidential operations their fixed proof
/// verification fuel ([`confidential::op_fuel`]); other native payloads none (priced by size alone).
pub fn declared_fuel(tx: &SignedTransaction) -> u64 {
    match &tx.tx.payload {
        Payload::Deploy { fuel_limit, .. }
        | Payload::Call { fuel_limit, .. }
        | Payload::Upgrade { fuel_limit, .. } => *fuel_limit,
        Payload::Confidential(op) => confidential::op_fuel(op),
        _ => 0,
    }
}

/// Confidential transfers with a valid signature: what block-level batch verification would cover.
fn batchable_transfers(txs: &[SignedTransaction], sig_ok: &[bool]) -> usize {
    txs.iter()
        .zip(sig_ok)
        .filter(|(t, ok)| {
            **ok && matches!(
                &t.tx.payload,
                Payload::Confidential(purse_types::ConfidentialOp::Transfer { .. })
            )
        })
        .count()
}

/// Fuel that is charged: what contract payloads used, the fixed fuel of confidential operations (other native
/// operations are priced by size alone).
fn contract_fuel(tx: &SignedTransaction, used: u64) -> u64 {
    if declared_fuel(tx) == 0 {
        0
    } else {
        used
    }
}

fn failed(tx_id: Hash, e: &TxError, fuel_used: u64, fee_paid: u128) -> Receipt {
    Receipt {
        tx_id,
        status: TxStatus::Failed { code: e.code().to_string(), message: e.to_string() },
        fuel_used,
        fee_paid,
        events: vec![],
    }
}

/// Checks a transaction's envelope against state without changing it: chain, expiry, sender, key, nonce
/// and fee. Returns the sender's account and the most the transaction can cost (size fee plus the fee of its
/// declared fuel), which execution reserves up front. Used by block execution and the mempool.
pub fn check_envelope<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    ctx: &BlockContext,
    params: &Params,
    tx: &SignedTransaction,
) -> Result<(AccountRecord, u128), ExecError> {
    let t = &tx.tx;
    if t.chain_id != ctx.chain_id {
        return Err(TxError::WrongChain(t.chain_id.to_string()).into());
    }
    if t.expiry_height < ctx.height {
        return Err(TxError::Expired { expiry: t.expiry_height, height: ctx.height }.into());
    }
    let acct = native::account(st, &t.sender)?.ok_or_else(|| TxError::UnknownSender(t.sender.to_string()))?;
    if acct.public_key != tx.public_key {
        return Err(TxError::WrongKey.into());
    }
    if acct.nonce != t.nonce {
        return Err(TxError::BadNonce { expected: acct.nonce, got: t.nonce }.into());
    }
    let fuel = declared_fuel(tx);
    if fuel > params.max_tx_fuel {
        return Err(TxError::Invalid(format!(
            "fuel limit {fuel} is above the chain's {}",
            params.max_tx_fuel
        ))
        .into());
    }
    let fee = params.fee_for(encode(tx).len()).saturating_add(params.fuel_fee(fuel));
    if t.max_fee.0 < fee {
        return Err(TxError::FeeTooLow { required: fee, max_fee: t.max_fee.0 }.into());
    }
    Ok((acct, fee))
}

/// A policy check's transaction failure as `Some(result)`, success as `None`; a runtime failure stays one.
fn refuse(r: Result<(), ExecError>) -> Result<Option<Result<(), ExecError>>, RuntimeError> {
    match r {
        Ok(()) => Ok(None),
        Err(ExecError::Runtime(e)) => Err(e),
        Err(e) => Ok(Some(Err(e))),
    }
}

fn lift(r: Result<(), ExecError>) -> Result<(), RuntimeError> {
    match r {
        Ok(()) => Ok(()),
        Err(ExecError::Runtime(e)) => Err(e),
        // Credits and overlay merges only fail on overflow or overlay capacity: treat as a node fault, the
        // block cannot be applied consistently.
        Err(ExecError::Tx(e)) => Err(RuntimeError::Invariant(e.to_string())),
    }
}
