//! Permissioned operations of role holders: onboarding, role administration and per-asset controls (issue 7).

use crate::address::Address;
use crate::amount::{Amount, AssetId};
use crate::keys::PublicKey;
use crate::tx::Role;
use borsh::{BorshDeserialize, BorshSerialize};

/// An operation only a role holder (or a role's administrator, or an asset's issuer) may perform. Variants are
/// only ever appended, never reordered: the tag is on the wire.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum AdminOp {
    /// Register a new account: its address is `public_key.address()` (onboarding authority only). The tier is
    /// a number (a KYC level), never personal data.
    Onboard {
        /// The account's signing key.
        public_key: PublicKey,
        /// KYC tier.
        tier: u8,
    },
    /// Change a registered account's tier (onboarding authority only).
    SetTier {
        /// The account.
        account: Address,
        /// New tier.
        tier: u8,
    },
    /// Grant a role (the role's administrator only; governance grants with a proposal).
    GrantRole {
        /// The account.
        account: Address,
        /// The role.
        role: Role,
    },
    /// Revoke a role (the role's administrator only; governance revokes with a proposal).
    RevokeRole {
        /// The account.
        account: Address,
        /// The role.
        role: Role,
    },
    /// Authorize (or de-authorize) an account to receive an authorization-required asset (its issuer only).
    AuthorizeHolder {
        /// The asset.
        asset: AssetId,
        /// The holder.
        account: Address,
        /// Authorized or not.
        authorized: bool,
    },
    /// Freeze (or unfreeze) one account's holding of a freezable asset: it can neither send nor receive it,
    /// publicly or confidentially (its issuer only).
    FreezeHolding {
        /// The asset.
        asset: AssetId,
        /// The holder.
        account: Address,
        /// Frozen or not.
        frozen: bool,
    },
    /// Freeze (or unfreeze) a freezable asset as a whole (its issuer only).
    FreezeAsset {
        /// The asset.
        asset: AssetId,
        /// Frozen or not.
        frozen: bool,
    },
    /// Take public units of a clawback-enabled asset from a holder back to the issuer (its issuer only).
    Clawback {
        /// The asset.
        asset: AssetId,
        /// The holder.
        from: Address,
        /// How much.
        amount: Amount,
    },
}

/// Payment limits of one KYC tier for one asset, set by governance. Debits a holder initiates count against
/// them (see docs/governance.md); `Amount(u128::MAX)` leaves a bound open.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct TierLimits {
    /// Most one transaction may debit.
    pub per_tx: Amount,
    /// Most the debits of one UTC day (of block time) may add up to.
    pub daily: Amount,
}
