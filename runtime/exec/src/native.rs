//! Native multi-asset accounts: transfers, asset creation, minting and burning.

use crate::error::{ExecError, TxError};
use crate::permissions;
use crate::schema::{self, AccountRecord, AssetRecord};
use crate::state::{BlockState, StateRead};
use purse_types::{Address, AssetFlags, AssetId, AssetInfo, Coin, Event, Role};

/// Topic of the event every balance movement emits.
pub const TRANSFER_TOPIC: &str = "transfer";
/// Topic of the event asset creation emits.
pub const ASSET_CREATED_TOPIC: &str = "asset.created";

/// Data of a [`TRANSFER_TOPIC`] event (`from`/`to` is `None` for mint/burn).
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct TransferEvent {
    /// Debited account.
    pub from: Option<Address>,
    /// Credited account.
    pub to: Option<Address>,
    /// What moved.
    pub coin: Coin,
}

/// Module address that emits native events.
pub fn bank_address() -> Address {
    Address::system("bank")
}

/// Balance of `addr` in `asset`.
pub fn balance<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    addr: &Address,
    asset: &AssetId,
) -> Result<u128, ExecError> {
    Ok(st.get_record::<u128>(&schema::balance_key(addr, asset))?.unwrap_or(0))
}

/// Sets a balance (a zero balance is deleted, so state holds no empty entries).
pub fn set_balance<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    addr: &Address,
    asset: &AssetId,
    v: u128,
) {
    let key = schema::balance_key(addr, asset);
    if v == 0 {
        st.delete(key);
    } else {
        st.put_record(key, &v);
    }
}

/// Debits `amount` from `addr`, failing on insufficient funds.
pub fn debit<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    addr: &Address,
    asset: &AssetId,
    amount: u128,
) -> Result<(), ExecError> {
    let b = balance(st, addr, asset)?;
    let nb = b.checked_sub(amount).ok_or(TxError::InsufficientFunds { balance: b, needed: amount })?;
    set_balance(st, addr, asset, nb);
    Ok(())
}

/// Credits `amount` to `addr`.
pub fn credit<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    addr: &Address,
    asset: &AssetId,
    amount: u128,
) -> Result<(), ExecError> {
    let b = balance(st, addr, asset)?;
    set_balance(st, addr, asset, b.checked_add(amount).ok_or(TxError::Overflow)?);
    Ok(())
}

/// The account record of `addr`.
pub fn account<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    addr: &Address,
) -> Result<Option<AccountRecord>, ExecError> {
    Ok(st.get_record(&schema::account_key(addr))?)
}

/// The asset record, or `UnknownAsset`.
pub fn asset<R: StateRead + ?Sized>(st: &BlockState<'_, R>, id: &AssetId) -> Result<AssetRecord, ExecError> {
    st.get_record::<AssetRecord>(&schema::asset_key(id))?
        .ok_or_else(|| TxError::UnknownAsset(id.to_hex()).into())
}

/// Whether `addr` can hold balances: an onboarded account or a contract.
pub fn is_holder<R: StateRead + ?Sized>(st: &BlockState<'_, R>, addr: &Address) -> Result<bool, ExecError> {
    Ok(st.get(&schema::account_key(addr))?.is_some() || st.get(&schema::contract_key(addr))?.is_some())
}

/// Whether `addr` holds `role`.
pub fn has_role<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    role: Role,
    addr: &Address,
) -> Result<bool, ExecError> {
    Ok(st.get(&schema::role_key(role, addr))?.is_some())
}

fn nonzero(coin: &Coin) -> Result<(), ExecError> {
    if coin.amount.0 == 0 {
        return Err(TxError::Invalid("amount must be positive".into()).into());
    }
    Ok(())
}

/// `Payload::Transfer`: the asset's controls ([`permissions::check_send`], [`permissions::check_receive`]) and
/// the sender's tier limits apply; `time_ms` is the block time (the limit day).
pub fn transfer<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    from: &Address,
    to: &Address,
    coin: &Coin,
    time_ms: u64,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    nonzero(coin)?;
    let a = asset(st, &coin.asset)?;
    if !is_holder(st, to)? {
        return Err(TxError::UnknownRecipient(to.to_string()).into());
    }
    permissions::check_send(st, &a, &coin.asset, from)?;
    permissions::check_receive(st, &a, &coin.asset, to)?;
    permissions::charge_limits(st, from, &coin.asset, coin.amount.0, time_ms)?;
    debit(st, from, &coin.asset, coin.amount.0)?;
    credit(st, to, &coin.asset, coin.amount.0)?;
    emit_transfer(events, Some(*from), Some(*to), *coin);
    Ok(())
}

/// `Payload::CreateAsset`: requires the asset-issuer role.
pub fn create_asset<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    issuer: &Address,
    symbol: &str,
    decimals: u8,
    flags: AssetFlags,
    events: &mut Vec<Event>,
) -> Result<AssetId, ExecError> {
    if !has_role(st, Role::AssetIssuer, issuer)? {
        return Err(TxError::Unauthorized("creating an asset needs the asset-issuer role".into()).into());
    }
    let info = AssetInfo { symbol: symbol.to_string(), decimals, issuer: *issuer };
    info.validate().map_err(|e| TxError::Invalid(e.into()))?;
    let id = AssetId::new(issuer, symbol);
    if st.get(&schema::asset_key(&id))?.is_some() {
        return Err(TxError::AssetExists.into());
    }
    st.put_record(schema::asset_key(&id), &AssetRecord { info, flags, supply: 0, frozen: false });
    events.push(Event { emitter: bank_address(), topic: ASSET_CREATED_TOPIC.into(), data: id.0.to_vec() });
    Ok(id)
}

/// `Payload::Mint`: the asset's issuer only (holding the asset-issuer role); the recipient must be able to
/// receive the asset ([`permissions::check_receive`]).
pub fn mint<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    sender: &Address,
    to: &Address,
    coin: &Coin,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    nonzero(coin)?;
    let mut a = permissions::issuer_asset(st, sender, &coin.asset, "mint")?;
    if !is_holder(st, to)? {
        return Err(TxError::UnknownRecipient(to.to_string()).into());
    }
    permissions::check_receive(st, &a, &coin.asset, to)?;
    a.supply = a.supply.checked_add(coin.amount.0).ok_or(TxError::Overflow)?;
    st.put_record(schema::asset_key(&coin.asset), &a);
    credit(st, to, &coin.asset, coin.amount.0)?;
    emit_transfer(events, None, Some(*to), *coin);
    Ok(())
}

/// `Payload::Burn`: destroys the sender's own units (a debit the holder initiates: controls and tier limits
/// apply).
pub fn burn<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    sender: &Address,
    coin: &Coin,
    time_ms: u64,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    nonzero(coin)?;
    let mut a = asset(st, &coin.asset)?;
    permissions::check_send(st, &a, &coin.asset, sender)?;
    permissions::charge_limits(st, sender, &coin.asset, coin.amount.0, time_ms)?;
    debit(st, sender, &coin.asset, coin.amount.0)?;
    // Supply covers every public balance, so it cannot underflow unless state is corrupt.
    a.supply = a.supply.checked_sub(coin.amount.0).ok_or(TxError::Overflow)?;
    st.put_record(schema::asset_key(&coin.asset), &a);
    emit_transfer(events, Some(*sender), None, *coin);
    Ok(())
}

/// Emits a [`TRANSFER_TOPIC`] event.
pub(crate) fn emit_transfer(events: &mut Vec<Event>, from: Option<Address>, to: Option<Address>, coin: Coin) {
    events.push(Event {
        emitter: bank_address(),
        topic: TRANSFER_TOPIC.into(),
        data: purse_types::encode(&TransferEvent { from, to, coin }),
    });
}
