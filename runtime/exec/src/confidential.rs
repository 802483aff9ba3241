//! The native confidential-transfer module (issue 9, ADR 0010): registration with proof of key possession,
//! deposit (public → pending), transfer (available → recipient's pending), apply-pending (pending → available),
//! withdraw (available → public) and the per-asset auditor key.
//!
//! State (`schema`): per (account, asset) a [`ConfidentialAccount`] at `z/<address><asset>`; per asset a
//! [`ConfidentialAssetRecord`] at `y/<asset>`. Public units deposited into confidential balances are held by the
//! module's escrow account [`escrow_address`], so an asset's `supply` still counts every unit and
//! `escrow balance = Σ confidential balances (available + pending)` of the asset.
//!
//! Proofs are verified against the sender's *current* available ciphertext (in-block sequential state). During a
//! block, transfer proofs can be deferred ([`Proofs::Defer`]) and verified together at the end with
//! [`purse_crypto::verify_batch`]; the executor falls back to re-executing the block with immediate verification
//! when the batch fails, so the result is always that of sequential verification.

use crate::error::{ConfidentialError, ExecError, TxError};
use crate::native;
use crate::permissions;
use crate::schema::{self, ConfidentialAccount, ConfidentialAssetRecord};
use crate::state::{BlockState, StateRead};
use purse_crypto::{
    from_bytes, verify_batch, AccountContext, AeCiphertext, ElGamalCiphertext, ElGamalPubkey,
    PubkeyValidityProof, TransferBundle, TransferContext, TransferData, TransferVerifyItem, WithdrawData,
    MAX_TRANSFER_AMOUNT,
};
use purse_types::{Address, AssetId, ChainId, Coin, ConfidentialOp, Event, Transaction};

/// Most credits (deposits and incoming transfers) an account's pending balance holds before its owner must
/// apply it. With `lo < 2^16` and `hi < 2^32` per credit, the pending sums stay below `2^24` and `2^40`: the
/// owner can always decrypt them with `decrypt_bounded` (at most 40 bits) without its history.
pub const MAX_PENDING_CREDITS: u64 = 256;
/// Largest single deposit (the same 48-bit bound as a transfer, so a deposit is one pending credit).
pub const MAX_DEPOSIT_AMOUNT: u64 = MAX_TRANSFER_AMOUNT;
/// Fuel charged for a confidential transfer: one 8 × 16-bit bulletproof plus the sigma MSM, ≈ 3 ms on one core
/// (1 fuel ≈ 1 ns, the scale of the VM's schedule, where `ed25519_verify` costs 50 000).
pub const TRANSFER_FUEL: u64 = 3_000_000;
/// Fuel charged for a withdrawal: one 64-bit bulletproof and an equality proof, ≈ 1.5 ms.
pub const WITHDRAW_FUEL: u64 = 1_500_000;
/// Fuel charged for a registration: one proof-of-possession check (a 3-point MSM), ≈ 0.1 ms.
pub const REGISTER_FUEL: u64 = 100_000;
/// Fuel charged for the operations without a proof (deposit, apply-pending, set-auditor).
pub const PLAIN_OP_FUEL: u64 = crate::executor::NATIVE_OP_FUEL;

/// Topic of the event a confidential transfer emits (data: borsh of [`ConfidentialTransferEvent`]).
pub const CONFIDENTIAL_TRANSFER_TOPIC: &str = "confidential.transfer";

/// Data of a [`CONFIDENTIAL_TRANSFER_TOPIC`] event: the parties and asset (public), never the amount.
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct ConfidentialTransferEvent {
    /// Sender.
    pub from: Address,
    /// Recipient.
    pub to: Address,
    /// Asset.
    pub asset: AssetId,
}

/// Topic of the event setting or clearing an asset's auditor key emits (data: borsh of [`AuditorSetEvent`]).
pub const AUDITOR_SET_TOPIC: &str = "confidential.auditor_set";

/// Data of an [`AUDITOR_SET_TOPIC`] event.
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct AuditorSetEvent {
    /// The issuer that set it.
    pub actor: Address,
    /// Asset.
    pub asset: AssetId,
    /// The new auditor key (`None`: removed).
    pub auditor_key: Option<[u8; 32]>,
}

/// The module's escrow account: holds the public units of every confidential balance.
pub fn escrow_address() -> Address {
    Address::system("confidential")
}

/// The fixed fuel an operation is charged (its declared fuel: reserved up front and charged in full).
pub fn op_fuel(op: &ConfidentialOp) -> u64 {
    match op {
        ConfidentialOp::Transfer { .. } => TRANSFER_FUEL,
        ConfidentialOp::Withdraw { .. } => WITHDRAW_FUEL,
        ConfidentialOp::Register { .. } => REGISTER_FUEL,
        ConfidentialOp::Deposit { .. }
        | ConfidentialOp::ApplyPending { .. }
        | ConfidentialOp::SetAuditor { .. } => PLAIN_OP_FUEL,
    }
}

/// The transcript context of a transfer in transaction `tx`: chain id, sender, recipient, the sender's nonce and
/// the asset.
pub fn transfer_context(tx: &Transaction, to: &Address, asset: &AssetId) -> TransferContext {
    TransferContext {
        chain_id: tx.chain_id.clone(),
        sender: tx.sender,
        recipient: *to,
        nonce: tx.nonce,
        asset: *asset,
    }
}

/// The transcript context of a single-account proof (registration, withdrawal) in transaction `tx`.
pub fn account_context(tx: &Transaction, asset: &AssetId) -> AccountContext {
    account_context_of(&tx.chain_id, &tx.sender, tx.nonce, asset)
}

/// [`account_context`] from its parts.
pub fn account_context_of(
    chain_id: &ChainId,
    owner: &Address,
    nonce: u64,
    asset: &AssetId,
) -> AccountContext {
    AccountContext { chain_id: chain_id.clone(), owner: *owner, nonce, asset: *asset }
}

/// The confidential account of `owner` in `asset`, if registered.
pub fn account<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    owner: &Address,
    asset: &AssetId,
) -> Result<Option<ConfidentialAccount>, ExecError> {
    Ok(st.get_record(&schema::confidential_account_key(owner, asset))?)
}

/// The asset's auditor key, if it has one.
pub fn auditor<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    asset: &AssetId,
) -> Result<Option<ElGamalPubkey>, ExecError> {
    let rec: Option<ConfidentialAssetRecord> = st.get_record(&schema::confidential_asset_key(asset))?;
    Ok(rec.and_then(|r| r.auditor))
}

/// The whole pending balance `pending_lo + 2^16 · pending_hi`.
pub fn pending_total(acct: &ConfidentialAccount) -> ElGamalCiphertext {
    ElGamalCiphertext::combine_lo_hi(&acct.pending_lo, &acct.pending_hi)
}

/// Decodes the `bundle` of a `Transfer` operation.
pub fn decode_transfer(bytes: &[u8]) -> Result<TransferData, ConfidentialError> {
    from_bytes(bytes).map_err(|e| ConfidentialError::ProofInvalid(format!("transfer bundle: {e}")))
}

/// Decodes the `bundle` of a `Withdraw` operation.
pub fn decode_withdraw(bytes: &[u8]) -> Result<WithdrawData, ConfidentialError> {
    from_bytes(bytes).map_err(|e| ConfidentialError::ProofInvalid(format!("withdraw bundle: {e}")))
}

/// A transfer whose proof verification was deferred to the end of the block.
#[derive(Clone, Debug)]
pub struct DeferredTransfer {
    bundle: TransferBundle,
    ctx: TransferContext,
    source: ElGamalPubkey,
    destination: ElGamalPubkey,
    auditor: Option<ElGamalPubkey>,
    available: ElGamalCiphertext,
}

/// How transfer proofs are checked while a block executes.
#[derive(Debug)]
pub enum Proofs {
    /// Verify each proof when its transaction executes (failures become receipts).
    Verify,
    /// Assume each transfer proof valid, record it against the exact state it was applied to, and verify all of
    /// them at the end in one batch ([`Proofs::verify_deferred`]). Only sound if the caller discards the block's
    /// result when the batch fails.
    Defer(Vec<DeferredTransfer>),
}

impl Proofs {
    /// Transfers recorded for the batch.
    pub fn deferred(&self) -> usize {
        match self {
            Proofs::Verify => 0,
            Proofs::Defer(v) => v.len(),
        }
    }

    /// Verifies every deferred transfer in one [`verify_batch`] pass: true iff all are valid.
    pub fn verify_deferred(&self) -> bool {
        let Proofs::Defer(items) = self else { return true };
        let refs: Vec<TransferVerifyItem<'_>> = items
            .iter()
            .map(|d| TransferVerifyItem {
                bundle: &d.bundle,
                ctx: &d.ctx,
                source_pubkey: &d.source,
                destination_pubkey: &d.destination,
                auditor_pubkey: d.auditor.as_ref(),
                source_available: &d.available,
            })
            .collect();
        verify_batch(&refs).is_ok()
    }
}

/// Applies `op` of transaction `tx` into the current transaction of `st`; `time_ms` is the block time (the day
/// of tier limits).
pub fn apply<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    tx: &Transaction,
    op: &ConfidentialOp,
    time_ms: u64,
    proofs: &mut Proofs,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    match op {
        ConfidentialOp::Register { asset, encryption_key, proof } => {
            register(st, tx, asset, encryption_key, proof)
        }
        ConfidentialOp::Deposit { coin } => deposit(st, &tx.sender, coin, time_ms, events),
        ConfidentialOp::Transfer { asset, to, bundle } => transfer(st, tx, asset, to, bundle, proofs, events),
        ConfidentialOp::Withdraw { coin, bundle } => withdraw(st, tx, coin, bundle, time_ms, events),
        ConfidentialOp::ApplyPending { asset, expected_pending_credits, new_decryptable_balance } => {
            apply_pending(st, &tx.sender, asset, *expected_pending_credits, new_decryptable_balance)
        }
        ConfidentialOp::SetAuditor { asset, auditor_key } => {
            set_auditor(st, &tx.sender, asset, auditor_key, events)
        }
    }
}

fn registered<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    owner: &Address,
    asset: &AssetId,
) -> Result<ConfidentialAccount, ExecError> {
    account(st, owner, asset)?.ok_or_else(|| ConfidentialError::NotRegistered(owner.to_string()).into())
}

fn put_account<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    owner: &Address,
    asset: &AssetId,
    acct: &ConfidentialAccount,
) {
    st.put_record(schema::confidential_account_key(owner, asset), acct);
}

/// The asset must exist, not be frozen, and `owner`'s holding of it must not be frozen.
fn live_holding<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    asset: &AssetId,
    owner: &Address,
) -> Result<(), ExecError> {
    let rec = native::asset(st, asset)?;
    permissions::check_send(st, &rec, asset, owner)
}

fn positive_u64(coin: &Coin, max: u64) -> Result<u64, ExecError> {
    match u64::try_from(coin.amount.0) {
        Ok(a) if a > 0 && a <= max => Ok(a),
        _ => Err(TxError::Invalid(format!("confidential amount must be in 1..={max}")).into()),
    }
}

fn register<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    tx: &Transaction,
    asset: &AssetId,
    encryption_key: &[u8; 32],
    proof: &[u8],
) -> Result<(), ExecError> {
    native::asset(st, asset)?;
    if account(st, &tx.sender, asset)?.is_some() {
        return Err(ConfidentialError::AlreadyRegistered.into());
    }
    let pubkey = ElGamalPubkey::from_bytes(*encryption_key)
        .map_err(|e| ConfidentialError::ProofInvalid(format!("encryption key: {e}")))?;
    let proof: PubkeyValidityProof =
        from_bytes(proof).map_err(|e| ConfidentialError::ProofInvalid(format!("key proof: {e}")))?;
    proof
        .verify(&pubkey, &account_context(tx, asset))
        .map_err(|e| ConfidentialError::ProofInvalid(e.to_string()))?;
    let zero = ElGamalCiphertext::zero();
    let acct = ConfidentialAccount {
        pubkey,
        available: zero,
        pending_lo: zero,
        pending_hi: zero,
        pending_credits: 0,
        decryptable_available: None,
    };
    put_account(st, &tx.sender, asset, &acct);
    Ok(())
}

/// Adds a credit of halves `(lo, hi)` to `acct`'s pending balance, refusing beyond [`MAX_PENDING_CREDITS`].
fn credit_pending(
    acct: &mut ConfidentialAccount,
    lo: &ElGamalCiphertext,
    hi: &ElGamalCiphertext,
) -> Result<(), ExecError> {
    if acct.pending_credits >= MAX_PENDING_CREDITS {
        return Err(ConfidentialError::TooManyPending { max: MAX_PENDING_CREDITS }.into());
    }
    acct.pending_lo = acct.pending_lo.add(lo);
    acct.pending_hi = acct.pending_hi.add(hi);
    acct.pending_credits += 1;
    Ok(())
}

fn deposit<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    sender: &Address,
    coin: &Coin,
    time_ms: u64,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    let amount = positive_u64(coin, MAX_DEPOSIT_AMOUNT)?;
    live_holding(st, &coin.asset, sender)?;
    let mut acct = registered(st, sender, &coin.asset)?;
    permissions::charge_limits(st, sender, &coin.asset, coin.amount.0, time_ms)?;
    // Honest balances are proved below 2^64: keep the confidential supply of the asset there.
    let escrow = escrow_address();
    let held = native::balance(st, &escrow, &coin.asset)?;
    if held.saturating_add(coin.amount.0) > u128::from(u64::MAX) {
        return Err(TxError::Invalid("confidential supply of the asset would exceed 2^64 − 1".into()).into());
    }
    let lo = ElGamalCiphertext::from_public_amount(amount & 0xffff);
    let hi = ElGamalCiphertext::from_public_amount(amount >> 16);
    credit_pending(&mut acct, &lo, &hi)?;
    native::debit(st, sender, &coin.asset, coin.amount.0)?;
    native::credit(st, &escrow, &coin.asset, coin.amount.0)?;
    put_account(st, sender, &coin.asset, &acct);
    native::emit_transfer(events, Some(*sender), Some(escrow), *coin);
    Ok(())
}

/// Verification failed against the current available balance: tells a double spend of the block-start balance
/// (the proof verifies against it, but an earlier transaction of this block changed it) from a bad proof.
fn classify_failure<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    owner: &Address,
    asset: &AssetId,
    current: &ElGamalCiphertext,
    error: String,
    verifies_against: impl Fn(&ElGamalCiphertext) -> bool,
) -> ExecError {
    let committed = BlockState::new(st.base());
    if let Ok(Some(before)) = account(&committed, owner, asset) {
        if &before.available != current && verifies_against(&before.available) {
            return ConfidentialError::StaleBalance.into();
        }
    }
    ConfidentialError::ProofInvalid(error).into()
}

fn transfer<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    tx: &Transaction,
    asset: &AssetId,
    to: &Address,
    bundle: &[u8],
    proofs: &mut Proofs,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    let sender = &tx.sender;
    if to == sender {
        return Err(TxError::Invalid("a confidential transfer to oneself: use apply-pending".into()).into());
    }
    let rec = native::asset(st, asset)?;
    permissions::check_send(st, &rec, asset, sender)?;
    permissions::check_receive(st, &rec, asset, to)?;
    let data = decode_transfer(bundle)?;
    let mut src = registered(st, sender, asset)?;
    let mut dst = registered(st, to, asset)?;
    if dst.pending_credits >= MAX_PENDING_CREDITS {
        return Err(ConfidentialError::TooManyPending { max: MAX_PENDING_CREDITS }.into());
    }
    let auditor = auditor(st, asset)?;
    let ctx = transfer_context(tx, to, asset);
    let effects = match proofs {
        Proofs::Verify => {
            match data.bundle.verify(&ctx, &src.pubkey, &dst.pubkey, auditor.as_ref(), &src.available) {
                Ok(effects) => effects,
                Err(e) => {
                    return Err(classify_failure(st, sender, asset, &src.available, e.to_string(), |old| {
                        data.bundle.verify(&ctx, &src.pubkey, &dst.pubkey, auditor.as_ref(), old).is_ok()
                    }))
                }
            }
        }
        Proofs::Defer(items) => {
            let effects = data.bundle.effects(&src.available);
            items.push(DeferredTransfer {
                bundle: data.bundle,
                ctx,
                source: src.pubkey,
                destination: dst.pubkey,
                auditor,
                available: src.available,
            });
            effects
        }
    };
    src.available = effects.source_new_available;
    src.decryptable_available = Some(data.new_decryptable_balance);
    credit_pending(&mut dst, &effects.destination_credit_lo, &effects.destination_credit_hi)?;
    put_account(st, sender, asset, &src);
    put_account(st, to, asset, &dst);
    events.push(Event {
        emitter: escrow_address(),
        topic: CONFIDENTIAL_TRANSFER_TOPIC.into(),
        data: purse_types::encode(&ConfidentialTransferEvent { from: *sender, to: *to, asset: *asset }),
    });
    Ok(())
}

fn withdraw<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    tx: &Transaction,
    coin: &Coin,
    bundle: &[u8],
    time_ms: u64,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    let sender = &tx.sender;
    let amount = positive_u64(coin, u64::MAX)?;
    live_holding(st, &coin.asset, sender)?;
    let data = decode_withdraw(bundle)?;
    if data.bundle.amount != amount {
        return Err(ConfidentialError::ProofInvalid("the proof is for another amount".into()).into());
    }
    let mut acct = registered(st, sender, &coin.asset)?;
    let ctx = account_context(tx, &coin.asset);
    let effects = match data.bundle.verify(&ctx, &acct.pubkey, &acct.available) {
        Ok(effects) => effects,
        Err(e) => {
            return Err(classify_failure(st, sender, &coin.asset, &acct.available, e.to_string(), |old| {
                data.bundle.verify(&ctx, &acct.pubkey, old).is_ok()
            }))
        }
    };
    permissions::charge_limits(st, sender, &coin.asset, coin.amount.0, time_ms)?;
    acct.available = effects.new_available;
    acct.decryptable_available = Some(data.new_decryptable_balance);
    put_account(st, sender, &coin.asset, &acct);
    let escrow = escrow_address();
    native::debit(st, &escrow, &coin.asset, coin.amount.0)?;
    native::credit(st, sender, &coin.asset, coin.amount.0)?;
    native::emit_transfer(events, Some(escrow), Some(*sender), *coin);
    Ok(())
}

fn apply_pending<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    sender: &Address,
    asset: &AssetId,
    expected: u64,
    note: &[u8],
) -> Result<(), ExecError> {
    let mut acct = registered(st, sender, asset)?;
    let note: AeCiphertext = from_bytes(note)
        .map_err(|e| TxError::Invalid(format!("decryptable balance does not decode: {e}")))?;
    if acct.pending_credits != expected {
        return Err(ConfidentialError::PendingChanged { expected, actual: acct.pending_credits }.into());
    }
    let zero = ElGamalCiphertext::zero();
    acct.available = acct.available.add(&pending_total(&acct));
    acct.pending_lo = zero;
    acct.pending_hi = zero;
    acct.pending_credits = 0;
    acct.decryptable_available = Some(note);
    put_account(st, sender, asset, &acct);
    Ok(())
}

fn set_auditor<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    sender: &Address,
    asset: &AssetId,
    key: &Option<[u8; 32]>,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    permissions::issuer_asset(st, sender, asset, "set its auditor")?;
    events.push(Event {
        emitter: escrow_address(),
        topic: AUDITOR_SET_TOPIC.into(),
        data: purse_types::encode(&AuditorSetEvent { actor: *sender, asset: *asset, auditor_key: *key }),
    });
    let k = schema::confidential_asset_key(asset);
    match key {
        None => st.delete(k),
        Some(bytes) => {
            let auditor = ElGamalPubkey::from_bytes(*bytes)
                .map_err(|e| TxError::Invalid(format!("auditor key: {e}")))?;
            st.put_record(k, &ConfidentialAssetRecord { auditor: Some(auditor) });
        }
    }
    Ok(())
}
