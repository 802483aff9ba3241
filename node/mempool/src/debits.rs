//! What a transaction can take from its sender: the "declared maximum debits" hook.
//!
//! The pool never simulates payloads. Instead every transaction declares, per asset, the most it can debit from
//! its sender; the pool admits it only if committed balance − Σ pending debits − this debit ≥ 0 for every asset.
//! For that to be sound, execution must never debit a sender more than declared: native payloads debit exactly
//! their coin, and a contract call can move at most its attached `funds` out of the caller (the VM gives contracts
//! no way to pull from the caller's balance; see `docs/mempool.md`, "Contract calls").

use crate::config::MAX_DEBIT_ASSETS_PER_TX;
use crate::reason::Reason;
use purse_runtime::{BlockState, RuntimeError, StateRead};
use purse_types::{Address, AssetId, Coin, ConfidentialOp, Payload, Transaction};

/// One asset's debit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Debit {
    /// The asset.
    pub asset: AssetId,
    /// The most that can be debited.
    pub amount: u128,
}

/// The debits of one transaction, merged per asset, at most [`MAX_DEBIT_ASSETS_PER_TX`] assets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Debits(Vec<Debit>);

impl Debits {
    /// No debits.
    pub fn new() -> Debits {
        Debits(Vec::with_capacity(2))
    }

    /// Adds `amount` of `asset`, merging with an earlier debit of the same asset.
    pub fn add(&mut self, asset: AssetId, amount: u128) -> Result<(), Reason> {
        if let Some(d) = self.0.iter_mut().find(|d| d.asset == asset) {
            d.amount = d.amount.checked_add(amount).ok_or(Reason::Overflow)?;
            return Ok(());
        }
        if self.0.len() >= MAX_DEBIT_ASSETS_PER_TX {
            return Err(Reason::TooManyDebitAssets { count: self.0.len() + 1, max: MAX_DEBIT_ASSETS_PER_TX });
        }
        self.0.push(Debit { asset, amount });
        Ok(())
    }

    /// Adds a coin.
    pub fn add_coin(&mut self, coin: &Coin) -> Result<(), Reason> {
        self.add(coin.asset, coin.amount.0)
    }

    /// The debit of `asset` (0 if none).
    pub fn of(&self, asset: &AssetId) -> u128 {
        self.0.iter().find(|d| &d.asset == asset).map_or(0, |d| d.amount)
    }

    /// The debits.
    pub fn as_slice(&self) -> &[Debit] {
        &self.0
    }

    /// Into a boxed slice (compact storage in a pool entry).
    pub fn into_boxed(self) -> Box<[Debit]> {
        self.0.into_boxed_slice()
    }
}

/// Declares what a transaction can debit from its sender and what committed state already reserves.
///
/// This is the extension point for exchange orders and contract calls. Implementations must be deterministic
/// functions of their inputs and must never under-declare: a declared debit smaller than what execution can take
/// would let pending transactions overdraw.
pub trait DebitPolicy {
    /// Adds to `out` the most `tx` can debit from its sender, *excluding* the fee (the pool adds the fee as a
    /// debit of the fee asset). Returns a rejection reason for payloads that are statically invalid or that the
    /// pool cannot judge.
    fn declared_debits(&self, tx: &Transaction, out: &mut Debits) -> Result<(), Reason>;

    /// The part of `owner`'s committed balance of `asset` that is reserved and must not be spent, e.g. the
    /// remaining amounts of open exchange orders held in place. Subtracted from the committed balance before any
    /// pending debit. The default reserves nothing.
    fn committed_reserved<R: StateRead + ?Sized>(
        &self,
        _state: &BlockState<'_, R>,
        _owner: &Address,
        _asset: &AssetId,
    ) -> Result<u128, RuntimeError> {
        Ok(0)
    }
}

/// The debit rules of the payloads the runtime executes today.
///
/// | payload | debits from the sender (besides the fee) |
/// |---|---|
/// | `Transfer { coin }` | `coin` (must be positive) |
/// | `Burn { coin }` | `coin` (must be positive) |
/// | `Mint { coin }` | nothing: the issuer creates supply (must be positive) |
/// | `Call { funds }` | every coin of `funds`: the declared maximum debit of a contract call |
/// | `CreateAsset`, `Deploy`, `Upgrade`, `Governance`, `Admin` | nothing |
/// | `Confidential(Deposit { coin })` | `coin` (public → confidential; must be positive) |
/// | other `Confidential` operations | nothing public (their proofs are checked against the pool's projection of the sender's confidential account) |
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StandardDebits;

fn positive(coin: &Coin) -> Result<(), Reason> {
    if coin.amount.0 == 0 {
        return Err(Reason::InvalidAmount);
    }
    Ok(())
}

impl DebitPolicy for StandardDebits {
    fn declared_debits(&self, tx: &Transaction, out: &mut Debits) -> Result<(), Reason> {
        match &tx.payload {
            Payload::Transfer { coin, .. } | Payload::Burn { coin } => {
                positive(coin)?;
                out.add_coin(coin)
            }
            Payload::Mint { coin, .. } => positive(coin),
            Payload::Call { funds, .. } => {
                for coin in funds {
                    out.add_coin(coin)?;
                }
                Ok(())
            }
            Payload::CreateAsset { .. }
            | Payload::Deploy { .. }
            | Payload::Upgrade { .. }
            | Payload::Governance(_)
            | Payload::Admin(_) => Ok(()),
            // Public side only; the confidential side is checked by the pool's confidential projection.
            Payload::Confidential(ConfidentialOp::Deposit { coin }) => {
                positive(coin)?;
                out.add_coin(coin)
            }
            Payload::Confidential(_) => Ok(()),
        }
    }
}
