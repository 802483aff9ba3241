//! Permissions: onboarding, role administration, per-asset controls (authorization, freezes, clawback) and
//! tier payment limits, plus the checks every balance movement passes (docs/governance.md, ADR 0013).
//!
//! Every check lives here, in the runtime: native transfers, mints and burns, confidential deposits, transfers
//! and withdrawals, and contract transfers (through `ContractView::check_transfer`, which the VM consults for
//! attached funds and every `transfer` host call) all call the same functions, so no contract can bypass them.

use crate::error::{ExecError, RuntimeError, TxError};
use crate::native;
use crate::schema::{self, AccountRecord, AssetRecord, DailySpend, HoldingRecord};
use crate::state::{BlockState, StateRead};
use borsh::{BorshDeserialize, BorshSerialize};
use purse_types::{Address, AdminOp, AssetFlags, AssetId, Coin, Event, Role, TierLimits};

/// Length of a limit day in ms: daily limits reset at each UTC midnight of block time.
pub const DAY_MS: u64 = 86_400_000;

/// Topic of [`AdminOp::Onboard`] events.
pub const ONBOARDED_TOPIC: &str = "account.onboarded";
/// Topic of [`AdminOp::SetTier`] events.
pub const TIER_SET_TOPIC: &str = "account.tier_set";
/// Topic of role grants (by a role administrator or by governance).
pub const ROLE_GRANTED_TOPIC: &str = "role.granted";
/// Topic of role revocations (by a role administrator or by governance).
pub const ROLE_REVOKED_TOPIC: &str = "role.revoked";
/// Topic of [`AdminOp::AuthorizeHolder`] events.
pub const HOLDER_AUTHORIZED_TOPIC: &str = "asset.holder_authorized";
/// Topic of [`AdminOp::FreezeHolding`] events.
pub const HOLDING_FROZEN_TOPIC: &str = "asset.holding_frozen";
/// Topic of [`AdminOp::FreezeAsset`] events.
pub const ASSET_FROZEN_TOPIC: &str = "asset.frozen";
/// Topic of [`AdminOp::Clawback`] events.
pub const CLAWBACK_TOPIC: &str = "asset.clawback";

/// Data of every privileged-action event of this module: who did what.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AdminEvent {
    /// The account that acted, or `governance::governance_address()` for an action applied by a passed
    /// proposal (whose `governance.passed` event names the approving keys).
    pub actor: Address,
    /// What it did.
    pub op: AdminOp,
}

/// Module address that emits this module's events.
pub fn permissions_address() -> Address {
    Address::system("permissions")
}

/// Typed record reads, shared by block execution ([`BlockState`]) and the contract VM's view of it, so both
/// apply exactly the same checks.
pub trait Records {
    /// The record at `key`, if any.
    fn record<T: BorshDeserialize>(&self, key: &[u8]) -> Result<Option<T>, RuntimeError>;
}

impl<R: StateRead + ?Sized> Records for BlockState<'_, R> {
    fn record<T: BorshDeserialize>(&self, key: &[u8]) -> Result<Option<T>, RuntimeError> {
        self.get_record(key)
    }
}

/// The issuer's controls on `addr`'s holding of `asset`.
pub fn holding<S: Records + ?Sized>(
    s: &S,
    asset: &AssetId,
    addr: &Address,
) -> Result<HoldingRecord, RuntimeError> {
    Ok(s.record(&schema::holding_key(asset, addr))?.unwrap_or_default())
}

/// The limits of `tier` in `asset`, if governance set any.
pub fn limits_of<S: Records + ?Sized>(
    s: &S,
    tier: u8,
    asset: &AssetId,
) -> Result<Option<TierLimits>, RuntimeError> {
    s.record(&schema::tier_limits_key(tier, asset))
}

/// `from` may send `asset`: the asset is not globally frozen and `from`'s holding is not frozen.
pub fn check_send<S: Records + ?Sized>(
    s: &S,
    rec: &AssetRecord,
    asset: &AssetId,
    from: &Address,
) -> Result<(), ExecError> {
    if rec.frozen {
        return Err(TxError::Frozen(format!("asset {} is frozen", rec.info.symbol)).into());
    }
    if holding(s, asset, from)?.frozen {
        return Err(TxError::Frozen(format!("{from}'s holding of {} is frozen", rec.info.symbol)).into());
    }
    Ok(())
}

/// `to` may receive `asset`: the asset is not globally frozen, `to`'s holding is not frozen, and if the asset
/// requires authorization, the issuer authorized `to` (the issuer itself always may).
pub fn check_receive<S: Records + ?Sized>(
    s: &S,
    rec: &AssetRecord,
    asset: &AssetId,
    to: &Address,
) -> Result<(), ExecError> {
    if rec.frozen {
        return Err(TxError::Frozen(format!("asset {} is frozen", rec.info.symbol)).into());
    }
    let h = holding(s, asset, to)?;
    if h.frozen {
        return Err(TxError::Frozen(format!("{to}'s holding of {} is frozen", rec.info.symbol)).into());
    }
    if rec.flags.authorization_required && &rec.info.issuer != to && !h.authorized {
        return Err(TxError::HolderNotAuthorized(to.to_string()).into());
    }
    Ok(())
}

/// Checks a debit of `amount` of `asset` that `account` initiates on day `day` against its tier's limits.
/// Returns the day's new total to record, or `None` when no limit applies (not a registered account, or no
/// limits for its tier and the asset).
pub fn check_limits<S: Records + ?Sized>(
    s: &S,
    account: &Address,
    asset: &AssetId,
    amount: u128,
    day: u64,
) -> Result<Option<DailySpend>, ExecError> {
    let Some(acct) = s.record::<AccountRecord>(&schema::account_key(account))? else { return Ok(None) };
    let Some(limits) = limits_of(s, acct.tier, asset)? else { return Ok(None) };
    if amount > limits.per_tx.0 {
        return Err(TxError::TxLimitExceeded { limit: limits.per_tx.0, amount }.into());
    }
    let spent = match s.record::<DailySpend>(&schema::daily_spend_key(account, asset))? {
        Some(d) if d.day == day => d.spent,
        _ => 0,
    };
    match spent.checked_add(amount) {
        Some(total) if total <= limits.daily.0 => Ok(Some(DailySpend { day, spent: total })),
        _ => Err(TxError::DailyLimitExceeded { limit: limits.daily.0, spent, amount }.into()),
    }
}

/// The limit day of a block time.
pub fn day_of(time_ms: u64) -> u64 {
    time_ms / DAY_MS
}

/// [`check_limits`] and, when a limit applies, records the day's new total.
pub fn charge_limits<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    account: &Address,
    asset: &AssetId,
    amount: u128,
    time_ms: u64,
) -> Result<(), ExecError> {
    if let Some(spend) = check_limits(st, account, asset, amount, day_of(time_ms))? {
        st.put_record(schema::daily_spend_key(account, asset), &spend);
    }
    Ok(())
}

/// Checks the funds a contract call attaches against the sender's tier limits (per asset, summed over the
/// coins). Returns the day totals to record once the call succeeded ([`record_spends`]).
pub fn check_attached<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    sender: &Address,
    funds: &[Coin],
    time_ms: u64,
) -> Result<Vec<(AssetId, DailySpend)>, ExecError> {
    let mut sums: Vec<(AssetId, u128)> = Vec::new();
    for c in funds {
        match sums.iter_mut().find(|(a, _)| *a == c.asset) {
            Some((_, n)) => *n = n.checked_add(c.amount.0).ok_or(TxError::Overflow)?,
            None => sums.push((c.asset, c.amount.0)),
        }
    }
    let mut out = Vec::new();
    for (asset, amount) in sums {
        if let Some(spend) = check_limits(st, sender, &asset, amount, day_of(time_ms))? {
            out.push((asset, spend));
        }
    }
    Ok(out)
}

/// Records the day totals [`check_attached`] returned.
pub fn record_spends<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    account: &Address,
    spends: &[(AssetId, DailySpend)],
) {
    for (asset, spend) in spends {
        st.put_record(schema::daily_spend_key(account, asset), spend);
    }
}

/// The asset's record if `sender` may exercise its issuer powers: it is the issuer and still holds the
/// asset-issuer role (revoking the role suspends the powers over the assets it issued).
pub fn issuer_asset<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    sender: &Address,
    asset: &AssetId,
    what: &str,
) -> Result<AssetRecord, ExecError> {
    let rec = native::asset(st, asset)?;
    if &rec.info.issuer != sender {
        return Err(TxError::Unauthorized(format!("only the asset's issuer may {what}")).into());
    }
    if !native::has_role(st, Role::AssetIssuer, sender)? {
        return Err(TxError::Unauthorized(format!(
            "{what}: the issuer no longer holds the asset-issuer role"
        ))
        .into());
    }
    Ok(rec)
}

fn require_role<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    role: Role,
    who: &Address,
    what: &str,
) -> Result<(), ExecError> {
    if !native::has_role(st, role, who)? {
        return Err(TxError::Unauthorized(format!("{what} needs the {role:?} role")).into());
    }
    Ok(())
}

fn registered<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    who: &Address,
) -> Result<AccountRecord, ExecError> {
    native::account(st, who)?
        .ok_or_else(|| TxError::Invalid(format!("{who} is not a registered account")).into())
}

fn put_holding<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    asset: &AssetId,
    who: &Address,
    h: HoldingRecord,
) {
    let key = schema::holding_key(asset, who);
    if h == HoldingRecord::default() {
        st.delete(key);
    } else {
        st.put_record(key, &h);
    }
}

/// Emits an [`AdminEvent`].
pub(crate) fn emit(events: &mut Vec<Event>, topic: &str, actor: Address, op: AdminOp) {
    events.push(Event {
        emitter: permissions_address(),
        topic: topic.into(),
        data: purse_types::encode(&AdminEvent { actor, op }),
    });
}

/// Grants (`on`) or revokes `role` for `account` and emits the event naming `actor`. Granting needs a holder
/// (an account or a contract); both are idempotent.
pub(crate) fn set_role<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    actor: Address,
    account: &Address,
    role: Role,
    on: bool,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    let key = schema::role_key(role, account);
    if on {
        if !native::is_holder(st, account)? {
            return Err(TxError::Invalid(format!("{account} is not a registered account or contract")).into());
        }
        st.put_record(key, &());
        emit(events, ROLE_GRANTED_TOPIC, actor, AdminOp::GrantRole { account: *account, role });
    } else {
        st.delete(key);
        emit(events, ROLE_REVOKED_TOPIC, actor, AdminOp::RevokeRole { account: *account, role });
    }
    Ok(())
}

/// Applies `Payload::Admin(op)` sent by `sender`.
pub fn apply<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    sender: &Address,
    op: &AdminOp,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    match op {
        AdminOp::Onboard { public_key, tier } => {
            require_role(st, Role::OnboardingAuthority, sender, "onboarding")?;
            let addr = public_key.address();
            if native::is_holder(st, &addr)? {
                return Err(TxError::AccountExists(addr.to_string()).into());
            }
            st.put_record(
                schema::account_key(&addr),
                &AccountRecord { public_key: *public_key, nonce: 0, tier: *tier },
            );
            emit(events, ONBOARDED_TOPIC, *sender, op.clone());
        }
        AdminOp::SetTier { account, tier } => {
            require_role(st, Role::OnboardingAuthority, sender, "setting a tier")?;
            let mut acct = registered(st, account)?;
            acct.tier = *tier;
            st.put_record(schema::account_key(account), &acct);
            emit(events, TIER_SET_TOPIC, *sender, op.clone());
        }
        AdminOp::GrantRole { account, role } | AdminOp::RevokeRole { account, role } => {
            let admin: Option<Address> = st.get_record(&schema::role_admin_key(*role))?;
            if admin.as_ref() != Some(sender) {
                return Err(TxError::Unauthorized(format!(
                    "only the {role:?} role's administrator (or governance) may grant or revoke it"
                ))
                .into());
            }
            let on = matches!(op, AdminOp::GrantRole { .. });
            set_role(st, *sender, account, *role, on, events)?;
        }
        AdminOp::AuthorizeHolder { asset, account, authorized } => {
            let rec = issuer_asset(st, sender, asset, "authorize holders")?;
            if !rec.flags.authorization_required {
                return Err(TxError::Invalid("the asset does not require authorization".into()).into());
            }
            if !native::is_holder(st, account)? {
                return Err(TxError::UnknownRecipient(account.to_string()).into());
            }
            let mut h = holding(st, asset, account)?;
            h.authorized = *authorized;
            put_holding(st, asset, account, h);
            emit(events, HOLDER_AUTHORIZED_TOPIC, *sender, op.clone());
        }
        AdminOp::FreezeHolding { asset, account, frozen } => {
            let rec = issuer_asset(st, sender, asset, "freeze holdings")?;
            freezable(&rec.flags)?;
            if account == sender {
                return Err(TxError::Invalid("the issuer cannot freeze its own holding".into()).into());
            }
            let mut h = holding(st, asset, account)?;
            h.frozen = *frozen;
            put_holding(st, asset, account, h);
            emit(events, HOLDING_FROZEN_TOPIC, *sender, op.clone());
        }
        AdminOp::FreezeAsset { asset, frozen } => {
            let mut rec = issuer_asset(st, sender, asset, "freeze the asset")?;
            freezable(&rec.flags)?;
            rec.frozen = *frozen;
            st.put_record(schema::asset_key(asset), &rec);
            emit(events, ASSET_FROZEN_TOPIC, *sender, op.clone());
        }
        AdminOp::Clawback { asset, from, amount } => {
            let rec = issuer_asset(st, sender, asset, "claw back")?;
            if !rec.flags.clawback_enabled {
                return Err(TxError::Unauthorized("the asset was not created clawback-enabled".into()).into());
            }
            if amount.0 == 0 || from == sender {
                return Err(
                    TxError::Invalid("clawback needs a positive amount from another holder".into()).into()
                );
            }
            // Deliberately no freeze, authorization or limit check: clawback is the issuer's enforcement tool.
            native::debit(st, from, asset, amount.0)?;
            native::credit(st, sender, asset, amount.0)?;
            native::emit_transfer(
                events,
                Some(*from),
                Some(*sender),
                Coin { asset: *asset, amount: *amount },
            );
            emit(events, CLAWBACK_TOPIC, *sender, op.clone());
        }
    }
    Ok(())
}

fn freezable(flags: &AssetFlags) -> Result<(), ExecError> {
    if !flags.freezable {
        return Err(TxError::Unauthorized("the asset was not created freezable".into()).into());
    }
    Ok(())
}

// ---- read-only queries (for the RPC) ----

/// The roles `addr` holds, in tag order.
pub fn roles_of<R: StateRead + ?Sized>(state: &R, addr: &Address) -> Result<Vec<Role>, RuntimeError> {
    let st = BlockState::new(state);
    let mut out = Vec::new();
    for role in Role::ALL {
        if st.get(&schema::role_key(role, addr))?.is_some() {
            out.push(role);
        }
    }
    Ok(out)
}

/// The administrator of `role`, if governance set one.
pub fn role_admin<R: StateRead + ?Sized>(state: &R, role: Role) -> Result<Option<Address>, RuntimeError> {
    BlockState::new(state).get_record(&schema::role_admin_key(role))
}

/// An asset's controls as a query returns them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AssetControls {
    /// The issuer.
    pub issuer: Address,
    /// Flags fixed at creation.
    pub flags: AssetFlags,
    /// Globally frozen.
    pub frozen: bool,
}

/// The controls of `asset`, or `None` if it does not exist.
pub fn asset_controls<R: StateRead + ?Sized>(
    state: &R,
    asset: &AssetId,
) -> Result<Option<AssetControls>, RuntimeError> {
    let rec: Option<AssetRecord> = BlockState::new(state).get_record(&schema::asset_key(asset))?;
    Ok(rec.map(|r| AssetControls { issuer: r.info.issuer, flags: r.flags, frozen: r.frozen }))
}

/// The issuer's controls on `addr`'s holding of `asset`.
pub fn holding_controls<R: StateRead + ?Sized>(
    state: &R,
    asset: &AssetId,
    addr: &Address,
) -> Result<HoldingRecord, RuntimeError> {
    holding(&BlockState::new(state), asset, addr)
}

/// The limits of `tier` in `asset`, if governance set any.
pub fn tier_limits<R: StateRead + ?Sized>(
    state: &R,
    tier: u8,
    asset: &AssetId,
) -> Result<Option<TierLimits>, RuntimeError> {
    limits_of(&BlockState::new(state), tier, asset)
}

/// What `addr` has debited of `asset` on the limit day of `time_ms` (0 on another day).
pub fn daily_spent<R: StateRead + ?Sized>(
    state: &R,
    addr: &Address,
    asset: &AssetId,
    time_ms: u64,
) -> Result<u128, RuntimeError> {
    let d: Option<DailySpend> = BlockState::new(state).get_record(&schema::daily_spend_key(addr, asset))?;
    Ok(d.filter(|d| d.day == day_of(time_ms)).map_or(0, |d| d.spent))
}

/// The registered account at `addr` (key, nonce, tier), if any.
pub fn account_of<R: StateRead + ?Sized>(
    state: &R,
    addr: &Address,
) -> Result<Option<AccountRecord>, RuntimeError> {
    BlockState::new(state).get_record(&schema::account_key(addr))
}
