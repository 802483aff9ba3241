//! Block execution: envelope checks, fees, payload dispatch and receipts.

use crate::error::{ExecError, RuntimeError, TxError};
use crate::native;
use crate::params::Params;
use crate::schema::{self, AccountRecord, ChainRecord};
use crate::state::{BlockState, StateRead};
use purse_state::Overlay;
use purse_types::{
    encode, merkle_list_root, verify_batch, BatchItem, ChainId, Domain, Event, Hash, Payload, Receipt,
    SignedTransaction, TxStatus,
};

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

/// Executes `txs` in order on top of `base`. Transaction failures become receipts; only a broken store is an
/// error. Deterministic: the same base state and inputs give the same writes and receipts everywhere.
pub fn execute_block<R: StateRead + ?Sized>(
    base: &R,
    ctx: &BlockContext,
    txs: &[SignedTransaction],
) -> Result<BlockOutput, RuntimeError> {
    let sig_ok = verify_signatures(txs);
    let mut st = BlockState::new(base);
    let params = Params::read(&st)?;
    let chain: ChainRecord = st
        .get_record(&schema::chain_key())?
        .ok_or_else(|| RuntimeError::Genesis("state has no chain record: genesis was not applied".into()))?;
    let mut receipts = Vec::with_capacity(txs.len());
    for (tx, ok) in txs.iter().zip(sig_ok) {
        let receipt = execute_tx(&mut st, ctx, &chain, &params, tx, ok)?;
        receipts.push(receipt);
    }
    Ok(BlockOutput { overlay: st.into_overlay(), receipts })
}

fn failed(tx_id: Hash, e: &TxError, fee_paid: u128) -> Receipt {
    Receipt {
        tx_id,
        status: TxStatus::Failed { code: e.code().to_string(), message: e.to_string() },
        fuel_used: 0,
        fee_paid,
        events: vec![],
    }
}

/// Checks a transaction's envelope against state without changing it: chain, expiry, sender, key, nonce
/// and fee. Returns the sender's account and the fee to charge. Used by block execution and the mempool.
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
    let fee = params.fee_for(encode(tx).len());
    if t.max_fee.0 < fee {
        return Err(TxError::FeeTooLow { required: fee, max_fee: t.max_fee.0 }.into());
    }
    Ok((acct, fee))
}

fn execute_tx<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    ctx: &BlockContext,
    chain: &ChainRecord,
    params: &Params,
    tx: &SignedTransaction,
    signature_ok: bool,
) -> Result<Receipt, RuntimeError> {
    let tx_id = tx.id();
    if !signature_ok {
        return Ok(failed(tx_id, &TxError::BadSignature, 0));
    }
    // Envelope: nothing is written unless it passes.
    let (mut acct, fee) = match check_envelope(st, ctx, params, tx) {
        Ok(v) => v,
        Err(ExecError::Tx(e)) => return Ok(failed(tx_id, &e, 0)),
        Err(ExecError::Runtime(e)) => return Err(e),
    };
    let sender = tx.tx.sender;
    match native::debit(st, &sender, &chain.fee_asset, fee) {
        Ok(()) => {}
        Err(ExecError::Tx(_)) => {
            st.rollback_tx();
            return Ok(failed(tx_id, &TxError::CannotPayFee(fee), 0));
        }
        Err(ExecError::Runtime(e)) => return Err(e),
    }
    lift(native::credit(st, &chain.fee_collector, &chain.fee_asset, fee))?;
    acct.nonce = acct.nonce.saturating_add(1);
    st.put_record(schema::account_key(&sender), &acct);
    // Fee and nonce stick even if the payload fails.
    lift(st.commit_tx())?;

    let mut events = Vec::new();
    match apply_payload(st, ctx, tx, &mut events) {
        Ok(fuel) => {
            lift(st.commit_tx())?;
            Ok(Receipt { tx_id, status: TxStatus::Success, fuel_used: fuel, fee_paid: fee, events })
        }
        Err(ExecError::Tx(e)) => {
            st.rollback_tx();
            Ok(failed(tx_id, &e, fee))
        }
        Err(ExecError::Runtime(e)) => Err(e),
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

fn apply_payload<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    _ctx: &BlockContext,
    tx: &SignedTransaction,
    events: &mut Vec<Event>,
) -> Result<u64, ExecError> {
    let sender = tx.tx.sender;
    match &tx.tx.payload {
        Payload::Transfer { to, coin } => native::transfer(st, &sender, to, coin, events)?,
        Payload::CreateAsset { symbol, decimals, flags } => {
            native::create_asset(st, &sender, symbol, *decimals, *flags, events)?;
        }
        Payload::Mint { to, coin } => native::mint(st, &sender, to, coin, events)?,
        Payload::Burn { coin } => native::burn(st, &sender, coin, events)?,
        Payload::Deploy { .. } | Payload::Call { .. } | Payload::Upgrade { .. } => {
            return Err(TxError::NotEnabled("contract").into());
        }
        Payload::Confidential(_) => return Err(TxError::NotEnabled("confidential").into()),
        Payload::Governance(_) => return Err(TxError::NotEnabled("governance").into()),
    }
    Ok(NATIVE_OP_FUEL)
}
