//! The state schema of the native modules: every key the runtime reads or writes, and its record type.
//!
//! Keys are a one-byte module tag, a `/`, then fixed-width fields, so no key of one kind can be a prefix-collision
//! of another. Values are borsh records.

use borsh::{BorshDeserialize, BorshSerialize};
use purse_crypto::{AeCiphertext, ElGamalCiphertext, ElGamalPubkey};
use purse_types::{Address, AssetFlags, AssetId, AssetInfo, Hash, PublicKey, Role};

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
