//! Permission checks at admission (docs/governance.md): what block execution would refuse because of the
//! chain's rules, judged with the runtime's own check functions against committed state — a frozen asset or
//! holding on either side, a recipient that is not registered or not authorized for the asset — and the
//! sender's tier limits, where the daily limit counts the limited amounts of the sender's other pending
//! transactions (as it counts their debits for funds).
//!
//! Rules change only by committed transactions (an issuer's freeze, governance's limits), so a pooled
//! transaction that a newly committed rule forbids is dropped by the re-check on commit. The limit day is the
//! day of the committed head's block time; a block in the next day would reset the total, so near midnight the
//! pool may refuse what the chain would take — never the reverse.

use crate::reason::{MempoolError, Reason};
use purse_runtime::schema::{self, AccountRecord, DailySpend};
use purse_runtime::{native, permissions, BlockState, ExecError, StateRead, TxError};
use purse_types::{Address, AssetId, Coin, ConfidentialOp, Payload, Transaction};

/// Most distinct assets whose limits one transaction is checked against (a call's attached funds; larger
/// payloads are refused earlier by the debit count limit).
const MAX_LIMITED_ASSETS: usize = 16;

/// The amounts of `t` subject to the sender's tier limits, summed per asset: what a registered account
/// initiates out of its public balance (transfers, burns, funds attached to calls, confidential deposits and
/// withdrawals). Fees, mints and clawbacks are not holder debits.
pub(crate) fn limited(t: &Transaction) -> Vec<(AssetId, u128)> {
    let coins: &[Coin] = match &t.payload {
        Payload::Transfer { coin, .. } | Payload::Burn { coin } => std::slice::from_ref(coin),
        Payload::Call { funds, .. } => funds,
        Payload::Confidential(ConfidentialOp::Deposit { coin } | ConfidentialOp::Withdraw { coin, .. }) => {
            std::slice::from_ref(coin)
        }
        _ => &[],
    };
    let mut sums: Vec<(AssetId, u128)> = Vec::new();
    for c in coins {
        if let Some((_, n)) = sums.iter_mut().find(|(a, _)| *a == c.asset) {
            *n = n.saturating_add(c.amount.0);
        } else if sums.len() < MAX_LIMITED_ASSETS {
            sums.push((c.asset, c.amount.0));
        }
    }
    sums
}

/// Who sends and who receives which assets in `t`, as block execution checks them.
struct Movements {
    /// Assets leaving the sender's holding.
    sent: Vec<AssetId>,
    /// `(recipient, asset)` credited, with whether the recipient must be a registered account or contract.
    received: Vec<(Address, AssetId, bool)>,
}

fn movements(t: &Transaction) -> Movements {
    let mut m = Movements { sent: Vec::new(), received: Vec::new() };
    match &t.payload {
        Payload::Transfer { to, coin } => {
            m.sent.push(coin.asset);
            m.received.push((*to, coin.asset, true));
        }
        Payload::Mint { to, coin } => m.received.push((*to, coin.asset, true)),
        Payload::Burn { coin } => m.sent.push(coin.asset),
        Payload::Call { contract, funds, .. } => {
            for c in funds {
                if !m.sent.contains(&c.asset) {
                    m.sent.push(c.asset);
                    m.received.push((*contract, c.asset, false));
                }
            }
        }
        Payload::Confidential(op) => match op {
            ConfidentialOp::Deposit { coin } | ConfidentialOp::Withdraw { coin, .. } => {
                m.sent.push(coin.asset)
            }
            ConfidentialOp::Transfer { asset, to, .. } => {
                m.sent.push(*asset);
                m.received.push((*to, *asset, false));
            }
            _ => {}
        },
        _ => {}
    }
    m.sent.truncate(MAX_LIMITED_ASSETS);
    m.received.truncate(MAX_LIMITED_ASSETS);
    m
}

/// A rule refusal as a pool reason; `None` for failures the pool leaves to execution (an unknown asset).
fn refusal(e: ExecError) -> Result<Option<Reason>, MempoolError> {
    match e {
        ExecError::Runtime(e) => Err(MempoolError::Runtime(e)),
        ExecError::Tx(TxError::Frozen(m)) => Ok(Some(Reason::Frozen(m))),
        ExecError::Tx(TxError::HolderNotAuthorized(a)) => Ok(Some(Reason::HolderNotAuthorized(a))),
        ExecError::Tx(TxError::UnknownRecipient(a)) => Ok(Some(Reason::UnknownRecipient(a))),
        _ => Ok(None),
    }
}

/// Checks `t`'s movements and limits. `pending_limited(asset)`: Σ limited amounts of the asset in the sender's
/// other pending transactions; `day`: the limit day the next block most likely falls in.
pub(crate) fn check<S: StateRead + ?Sized>(
    state: &S,
    t: &Transaction,
    pending_limited: impl Fn(&AssetId) -> u128,
    day: u64,
) -> Result<Result<(), Reason>, MempoolError> {
    let st = BlockState::new(state);
    let m = movements(t);
    for asset in &m.sent {
        let Some(rec) = asset_record(&st, asset)? else { continue };
        if let Err(e) = permissions::check_send(&st, &rec, asset, &t.sender) {
            if let Some(r) = refusal(e)? {
                return Ok(Err(r));
            }
        }
    }
    for (to, asset, must_exist) in &m.received {
        let Some(rec) = asset_record(&st, asset)? else { continue };
        if *must_exist && !native::is_holder(&st, to).map_err(crate::pool::exec_err)? {
            return Ok(Err(Reason::UnknownRecipient(to.to_string())));
        }
        if let Err(e) = permissions::check_receive(&st, &rec, asset, to) {
            if let Some(r) = refusal(e)? {
                return Ok(Err(r));
            }
        }
    }
    let amounts = limited(t);
    if amounts.is_empty() {
        return Ok(Ok(()));
    }
    let Some(acct) = st.get_record::<AccountRecord>(&schema::account_key(&t.sender))? else {
        return Ok(Ok(()));
    };
    for (asset, amount) in amounts {
        let Some(limits) = permissions::limits_of(&st, acct.tier, &asset)? else { continue };
        if amount > limits.per_tx.0 {
            return Ok(Err(Reason::TxLimitExceeded { asset, limit: limits.per_tx.0, amount }));
        }
        let committed = match st.get_record::<DailySpend>(&schema::daily_spend_key(&t.sender, &asset))? {
            Some(d) if d.day == day => d.spent,
            _ => 0,
        };
        let spent = committed.saturating_add(pending_limited(&asset));
        if spent.checked_add(amount).is_none_or(|total| total > limits.daily.0) {
            return Ok(Err(Reason::DailyLimitExceeded { asset, limit: limits.daily.0, spent, amount }));
        }
    }
    Ok(Ok(()))
}

fn asset_record<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    asset: &AssetId,
) -> Result<Option<schema::AssetRecord>, MempoolError> {
    Ok(st.get_record(&schema::asset_key(asset))?)
}
