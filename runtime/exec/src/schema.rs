//! The state schema of the native modules: every key the runtime reads or writes, and its record type.
//!
//! Keys are a one-byte module tag, a `/`, then fixed-width fields, so no key of one kind can be a prefix-collision
//! of another. Values are borsh records.

use borsh::{BorshDeserialize, BorshSerialize};
use purse_crypto::{AeCiphertext, ElGamalCiphertext, ElGamalPubkey};
use purse_types::{
    Address, AssetFlags, AssetId, AssetInfo, GovernanceAction, Hash, PublicKey, Role, ValidatorSet,
};

/// `a/<address>` → [`AccountRecord`].
pub fn account_key(addr: &Address) -> Vec<u8> {
    key(b'a', &[&addr.0])
}

/// `b/<address><asset>` → `u128` balance (absent = 0).
pub fn balance_key(addr: &Address, asset: &AssetId) -> Vec<u8> {
    key(b'b', &[&addr.0, &asset.0])
}

/// `s/<asset>` → [`AssetRecord`].
pub fn asset_key(asset: &AssetId) -> Vec<u8> {
    key(b's', &[&asset.0])
}

/// `r/<role><address>` → `()` when the account holds the role.
pub fn role_key(role: Role, addr: &Address) -> Vec<u8> {
    key(b'r', &[&[role as u8], &addr.0])
}

/// `p/<name>` → `u128` chain parameter.
pub fn param_key(name: &str) -> Vec<u8> {
    key(b'p', &[name.as_bytes()])
}

/// `g/chain` → [`ChainRecord`].
pub fn chain_key() -> Vec<u8> {
    key(b'g', &[b"chain"])
}

/// `c/<contract>` — prefix of a contract's storage.
pub fn contract_storage_prefix(contract: &Address) -> Vec<u8> {
    key(b'c', &[&contract.0])
}

/// `c/<contract><key>` → a contract storage value (raw bytes, the contract's own encoding).
pub fn contract_storage_key(contract: &Address, storage_key: &[u8]) -> Vec<u8> {
    key(b'c', &[&contract.0, storage_key])
}

/// `k/<contract>` → the contract's record (`purse_vm::ContractInfo`).
pub fn contract_key(contract: &Address) -> Vec<u8> {
    key(b'k', &[&contract.0])
}

/// `x/<code hash>` → stored wasm code (raw bytes).
pub fn code_key(hash: &Hash) -> Vec<u8> {
    key(b'x', &[&hash.0])
}

/// `z/<address><asset>` → [`ConfidentialAccount`]: the account's confidential balance of the asset (absent: not
/// registered).
pub fn confidential_account_key(addr: &Address, asset: &AssetId) -> Vec<u8> {
    key(b'z', &[&addr.0, &asset.0])
}

/// `y/<asset>` → [`ConfidentialAssetRecord`]: the asset's confidential-transfer settings (absent: no auditor).
pub fn confidential_asset_key(asset: &AssetId) -> Vec<u8> {
    key(b'y', &[&asset.0])
}

/// `b/<address>` — prefix of every balance of one account.
pub fn balances_prefix(addr: &Address) -> Vec<u8> {
    key(b'b', &[&addr.0])
}

/// `r/` — prefix of every role entry (the role table).
pub fn roles_prefix() -> Vec<u8> {
    key(b'r', &[])
}

/// `m/<role>` → [`Address`]: the account that may grant and revoke the role without a proposal.
pub fn role_admin_key(role: Role) -> Vec<u8> {
    key(b'm', &[&[role as u8]])
}

/// `h/<asset><address>` → [`HoldingRecord`]: the issuer's controls on one account's holding (absent: not
/// authorized, not frozen).
pub fn holding_key(asset: &AssetId, addr: &Address) -> Vec<u8> {
    key(b'h', &[&asset.0, &addr.0])
}

/// `t/<tier><asset>` → [`purse_types::TierLimits`] (absent: the tier is unlimited in the asset).
pub fn tier_limits_key(tier: u8, asset: &AssetId) -> Vec<u8> {
    key(b't', &[&[tier], &asset.0])
}

/// `d/<address><asset>` → [`DailySpend`]: what the account debited today (UTC day of block time).
pub fn daily_spend_key(addr: &Address, asset: &AssetId) -> Vec<u8> {
    key(b'd', &[&addr.0, &asset.0])
}

/// `w/<code hash>` → `()` when the code hash is on the deployment allow-list.
pub fn allowed_code_key(hash: &Hash) -> Vec<u8> {
    key(b'w', &[&hash.0])
}

/// `g/deployment` → [`DeploymentRecord`].
pub fn deployment_key() -> Vec<u8> {
    key(b'g', &[b"deployment"])
}

/// `g/governance` → [`GovernanceConfig`] (absent: the chain has no governance).
pub fn governance_key() -> Vec<u8> {
    key(b'g', &[b"governance"])
}

/// `g/open_proposals` → `Vec<`[`OpenProposal`]`>`: the proposals that may still be voted on (bounded by
/// `governance::MAX_OPEN_PROPOSALS`).
pub fn open_proposals_key() -> Vec<u8> {
    key(b'g', &[b"open_proposals"])
}

/// `q/<proposal id>` → [`ProposalRecord`] (kept after the proposal closes, for audit).
pub fn proposal_key(id: &Hash) -> Vec<u8> {
    key(b'q', &[&id.0])
}

/// `g/validator_schedule` → [`ValidatorSchedule`]: the validator set by effective height.
pub fn validator_schedule_key() -> Vec<u8> {
    key(b'g', &[b"validator_schedule"])
}

fn key(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len = 2 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut k = Vec::with_capacity(len);
    k.push(tag);
    k.push(b'/');
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// An onboarded account.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AccountRecord {
    /// The key that signs for the account.
    pub public_key: PublicKey,
    /// Next expected transaction nonce.
    pub nonce: u64,
    /// KYC tier (data only; limits per tier are chain parameters).
    pub tier: u8,
}

/// An asset's static info, controls and supply.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AssetRecord {
    /// Symbol, decimals, issuer.
    pub info: AssetInfo,
    /// Controls fixed at creation.
    pub flags: AssetFlags,
    /// Units in circulation (public balances).
    pub supply: u128,
    /// Whole-asset freeze.
    pub frozen: bool,
}

/// Chain-wide facts fixed at genesis.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ChainRecord {
    /// The chain id.
    pub chain_id: purse_types::ChainId,
    /// The native fee asset.
    pub fee_asset: AssetId,
    /// Where fees go.
    pub fee_collector: Address,
}

/// One account's confidential balance of one asset (docs/confidential.md, "Runtime"). Only the owner's own
/// transactions (transfer out, withdraw, apply-pending) change `available`; deposits and incoming transfers add
/// to `pending_lo` / `pending_hi`, so a credit never invalidates a proof against `available`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ConfidentialAccount {
    /// The registered ElGamal key (proved possessed at registration).
    pub pubkey: ElGamalPubkey,
    /// The spendable balance, encrypted under `pubkey`.
    pub available: ElGamalCiphertext,
    /// Σ of the 16-bit `lo` halves of the pending credits (deposits split the same way).
    pub pending_lo: ElGamalCiphertext,
    /// Σ of the 32-bit `hi` halves of the pending credits; pending = `pending_lo + 2^16 · pending_hi`.
    pub pending_hi: ElGamalCiphertext,
    /// Credits in pending since the last apply-pending (bounded by `confidential::MAX_PENDING_CREDITS`).
    pub pending_credits: u64,
    /// The owner's AEAD note of its available balance (`None` until the first apply-pending).
    pub decryptable_available: Option<AeCiphertext>,
}

/// An asset's confidential-transfer settings, set by its issuer.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ConfidentialAssetRecord {
    /// The auditor's key: every transfer of the asset must carry handles for it.
    pub auditor: Option<ElGamalPubkey>,
}

/// The issuer's controls on one account's holding of one asset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize)]
pub struct HoldingRecord {
    /// The issuer authorized the account to receive the asset (matters for authorization-required assets).
    pub authorized: bool,
    /// The holding is frozen: the account can neither send nor receive the asset.
    pub frozen: bool,
}

/// What an account debited of an asset on one UTC day (for daily tier limits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DailySpend {
    /// Day number: block time in ms / `permissions::DAY_MS`.
    pub day: u64,
    /// Sum of the day's limited debits.
    pub spent: u128,
}

/// The contract deployment policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize)]
pub struct DeploymentRecord {
    /// Open deployment: any registered account may deploy or upgrade to any code.
    pub open: bool,
}

/// The governance keys, their approval threshold and the voting period.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize)]
pub struct GovernanceConfig {
    /// Keys that may propose and vote (each the signing key of a registered account).
    pub keys: Vec<PublicKey>,
    /// Approvals (by current keys) a proposal needs to pass.
    pub threshold: u16,
    /// Blocks a proposal accepts votes: from its creation height `c`, votes in blocks `c .. c + voting_period`.
    pub voting_period: u64,
}

/// Where a proposal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize)]
pub enum ProposalStatus {
    /// Accepting votes until `deadline_height` (exclusive).
    Open,
    /// Reached the threshold and was applied at this height.
    Passed {
        /// Height of the block that applied it.
        height: u64,
    },
    /// Enough keys voted against that it can no longer pass.
    Rejected {
        /// Height of the block of the deciding vote.
        height: u64,
    },
}

/// A governance proposal.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProposalRecord {
    /// `purse_types::proposal_id` of the proposing transaction's id.
    pub id: Hash,
    /// The proposing key's account.
    pub proposer: Address,
    /// What happens if it passes.
    pub action: GovernanceAction,
    /// Height of the block that opened it.
    pub created_height: u64,
    /// First height at which votes fail (`created_height + voting_period` at creation).
    pub deadline_height: u64,
    /// Keys that approved, in vote order (the proposer first).
    pub approvals: Vec<PublicKey>,
    /// Keys that voted against, in vote order.
    pub rejections: Vec<PublicKey>,
    /// Status. An `Open` proposal whose deadline has passed is expired: it can never pass.
    pub status: ProposalStatus,
}

/// An entry of the open-proposal list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct OpenProposal {
    /// Proposal id.
    pub id: Hash,
    /// Its deadline height.
    pub deadline_height: u64,
}

/// The validator set by effective height: the set in force now and the changes already scheduled. Entries
/// are in ascending effective height; the engine reads the set of a height with
/// `governance::validator_set_at`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValidatorSchedule {
    /// `(effective height, set from that height on)`, ascending; the first entry is in force.
    pub entries: Vec<(u64, ValidatorSet)>,
}
