//! Transactions: the signed envelope and its payloads.

use crate::address::Address;
use crate::amount::{Amount, AssetId};
use crate::chain::{sign_bytes, ChainId, SignKind};
use crate::codec::{decode_with_limit, encode, CodecError};
use crate::hash::{Domain, Hash};
use crate::keys::{verify, Keypair, PublicKey, Signature, SignatureError};
use crate::permission::{AdminOp, TierLimits};
use crate::validator::ValidatorUpdate;
use borsh::{BorshDeserialize, BorshSerialize};

/// Largest encoded signed transaction accepted anywhere (RPC, gossip, blocks): 512 KiB, enough for a
/// contract deployment of the largest allowed code size plus arguments.
pub const MAX_TX_BYTES: usize = 512 * 1024;
/// Longest contract method name, in bytes.
pub const MAX_METHOD_LEN: usize = 64;

/// A transaction id: `H_TxId(canonical bytes of the unsigned transaction)`.
pub type TxId = Hash;

/// An amount of one asset.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct Coin {
    /// Which asset.
    pub asset: AssetId,
    /// How much, in smallest units.
    pub amount: Amount,
}

/// Controls fixed when an asset is created (see the governance docs).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct AssetFlags {
    /// Holders must be authorized by the issuer before they can receive the asset.
    pub authorization_required: bool,
    /// The issuer may freeze an account's holding (and the whole asset).
    pub freezable: bool,
    /// The issuer may claw back holdings. Only settable at creation, never later.
    pub clawback_enabled: bool,
}

/// The unsigned transaction: who, which chain, replay protection, fee ceiling and what to do.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Transaction {
    /// The chain this transaction is for.
    pub chain_id: ChainId,
    /// The account sending it (pays the fee, is the caller of contracts).
    pub sender: Address,
    /// Per-sender sequence number; the next expected nonce is the count of the sender's committed transactions.
    pub nonce: u64,
    /// Last block height at which this transaction may be included.
    pub expiry_height: u64,
    /// Most the sender will pay in the native asset; the actual fee is charged by the runtime.
    pub max_fee: Amount,
    /// What the transaction does.
    pub payload: Payload,
}

/// What a transaction does. Variants are only ever appended, never reordered: the tag is on the wire.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Payload {
    /// Move a public amount of a native asset.
    Transfer {
        /// Recipient.
        to: Address,
        /// Asset and amount.
        coin: Coin,
    },
    /// Create an asset issued by the sender (requires the asset-issuer role).
    CreateAsset {
        /// Ticker.
        symbol: String,
        /// Decimals of the smallest unit.
        decimals: u8,
        /// Controls.
        flags: AssetFlags,
    },
    /// Issue new units (the asset's issuer only).
    Mint {
        /// Recipient.
        to: Address,
        /// Asset and amount.
        coin: Coin,
    },
    /// Destroy units held by the sender.
    Burn {
        /// Asset and amount.
        coin: Coin,
    },
    /// Deploy a WASM contract; its address is `Address::contract(sender, nonce)`.
    Deploy {
        /// The module's bytes.
        code: Vec<u8>,
        /// Arguments for the `init` export.
        init_args: Vec<u8>,
        /// Who may upgrade it (`None`: immutable).
        admin: Option<Address>,
        /// Fuel ceiling for `init`.
        fuel_limit: u64,
    },
    /// Call a contract method.
    Call {
        /// The contract.
        contract: Address,
        /// Exported method name.
        method: String,
        /// Borsh-encoded arguments.
        args: Vec<u8>,
        /// Assets moved from sender to contract before the call.
        funds: Vec<Coin>,
        /// Fuel ceiling.
        fuel_limit: u64,
    },
    /// Replace a contract's code (its admin only), running the new code's `migrate` export.
    Upgrade {
        /// The contract.
        contract: Address,
        /// New module bytes.
        code: Vec<u8>,
        /// Arguments for `migrate`.
        migrate_args: Vec<u8>,
        /// Fuel ceiling.
        fuel_limit: u64,
    },
    /// A confidential-balance operation.
    Confidential(ConfidentialOp),
    /// A governance action.
    Governance(GovernanceOp),
    /// A permissioned operation of a role holder, role administrator or asset issuer (onboarding, roles,
    /// asset controls).
    Admin(AdminOp),
}

/// Confidential-transfer operations. Proof bundles are opaque here and decoded by purse-crypto.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ConfidentialOp {
    /// Open a confidential account for an asset with an encryption key and a proof of its possession.
    Register {
        /// Asset.
        asset: AssetId,
        /// The account's encryption public key.
        encryption_key: [u8; 32],
        /// Proof of possession of the key.
        proof: Vec<u8>,
    },
    /// Move a public amount into the confidential balance.
    Deposit {
        /// Asset and amount (public).
        coin: Coin,
    },
    /// Send a hidden amount.
    Transfer {
        /// Asset.
        asset: AssetId,
        /// Recipient (public).
        to: Address,
        /// Commitment, ciphertexts and proofs.
        bundle: Vec<u8>,
    },
    /// Move a public amount out of the confidential balance.
    Withdraw {
        /// Asset and amount (public).
        coin: Coin,
        /// Proof that the remaining balance is non-negative.
        bundle: Vec<u8>,
    },
    /// Merge the sender's pending confidential balance into its available balance (owner only).
    ApplyPending {
        /// Asset.
        asset: AssetId,
        /// The pending-credit count the owner saw; the operation fails if more credits landed since, so the
        /// new decryptable balance is always exact.
        expected_pending_credits: u64,
        /// The owner's new decryptable available balance (AEAD note, opaque here).
        new_decryptable_balance: Vec<u8>,
    },
    /// Set or clear the asset's auditor encryption key (the asset's issuer only).
    SetAuditor {
        /// Asset.
        asset: AssetId,
        /// The auditor's encryption public key; `None` removes the auditor.
        auditor_key: Option<[u8; 32]>,
    },
}

/// A permissioned role (see docs/governance.md).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum Role {
    /// Registers accounts.
    OnboardingAuthority,
    /// Creates assets.
    AssetIssuer,
    /// Receives payments and runs loyalty programs.
    Merchant,
    /// Issues payment and reward tokens.
    TokenServiceProvider,
    /// Operates exchange books.
    ExchangeOperator,
    /// Publishes FX rates.
    RateFeed,
    /// Reads histories and decrypts audited assets.
    Auditor,
}

impl Role {
    /// Every role, in tag order.
    pub const ALL: [Role; 7] = [
        Role::OnboardingAuthority,
        Role::AssetIssuer,
        Role::Merchant,
        Role::TokenServiceProvider,
        Role::ExchangeOperator,
        Role::RateFeed,
        Role::Auditor,
    ];
}

/// Governance: proposals voted by the governance keys.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum GovernanceOp {
    /// Open a proposal (sender must hold a governance key).
    Propose {
        /// What passes if the proposal does.
        action: GovernanceAction,
    },
    /// Vote on an open proposal.
    Vote {
        /// The proposal.
        proposal: Hash,
        /// For or against.
        approve: bool,
    },
}

/// The effect of a passed proposal.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum GovernanceAction {
    /// Change validators' voting power (0 removes); takes effect at a fixed height offset.
    ValidatorSetChange {
        /// Changes.
        updates: Vec<ValidatorUpdate>,
    },
    /// Set a named chain parameter.
    SetParameter {
        /// Parameter name.
        name: String,
        /// New value.
        value: u128,
    },
    /// Allow or disallow a contract code hash for deployment.
    AllowCode {
        /// Code hash.
        code_hash: Hash,
        /// Allowed or not.
        allowed: bool,
    },
    /// Grant a role to an account.
    GrantRole {
        /// Account.
        account: Address,
        /// Role.
        role: Role,
    },
    /// Revoke a role from an account.
    RevokeRole {
        /// Account.
        account: Address,
        /// Role.
        role: Role,
    },
    /// Set (or clear) the account that may grant and revoke `role` without a proposal.
    SetRoleAdmin {
        /// Role.
        role: Role,
        /// Its administrator; `None`: only governance grants it.
        admin: Option<Address>,
    },
    /// Set (or remove) the payment limits of a KYC tier for an asset.
    SetTierLimits {
        /// Tier.
        tier: u8,
        /// Asset.
        asset: AssetId,
        /// Limits; `None` removes them (unlimited).
        limits: Option<TierLimits>,
    },
    /// Open deployment on or off: when on, any registered account may deploy or upgrade to any code; when off,
    /// only allow-listed code hashes may be deployed, by holders of a deploying role.
    SetOpenDeployment {
        /// On or off.
        open: bool,
    },
    /// Replace the governance keys, the approval threshold and the voting period.
    SetGovernance {
        /// The new governance keys (each a registered account's key).
        keys: Vec<PublicKey>,
        /// Approvals a proposal needs, `1..=keys.len()`.
        threshold: u16,
        /// Blocks a proposal stays open for votes.
        voting_period: u64,
    },
    /// Upgrade a system contract: one whose administrator is governance itself (the governance module
    /// address), typically deployed at genesis. Runs the new code's `migrate` as an `Upgrade` would.
    UpgradeContract {
        /// The contract.
        contract: Address,
        /// The new wasm module.
        code: Vec<u8>,
        /// Arguments of `migrate`.
        migrate_args: Vec<u8>,
        /// Fuel `migrate` may use (at most the chain's `max_tx_fuel`).
        fuel_limit: u64,
    },
}

/// The id of the proposal opened by the transaction `propose_tx`: `H_Proposal(tx id)`.
pub fn proposal_id(propose_tx: &TxId) -> Hash {
    Hash::digest(Domain::Proposal, &propose_tx.0)
}

impl Transaction {
    /// The accounts this transaction names, sender first, without repeats: the sender, and the recipient,
    /// contract (a deployed one included) or account a payload targets (what an account's history lists;
    /// funds a contract moves on, and the accounts a governance proposal's action names, are not followed).
    pub fn parties(&self) -> Vec<Address> {
        let mut out = vec![self.sender];
        let mut add = |a: Address| {
            if !out.contains(&a) {
                out.push(a);
            }
        };
        // Exhaustive on purpose: a new payload must decide whom it names.
        match &self.payload {
            Payload::Transfer { to, .. } | Payload::Mint { to, .. } => add(*to),
            Payload::Call { contract, .. } | Payload::Upgrade { contract, .. } => add(*contract),
            Payload::Deploy { .. } => add(Address::contract(&self.sender, self.nonce)),
            Payload::Confidential(op) => match op {
                ConfidentialOp::Transfer { to, .. } => add(*to),
                ConfidentialOp::Register { .. }
                | ConfidentialOp::Deposit { .. }
                | ConfidentialOp::Withdraw { .. }
                | ConfidentialOp::ApplyPending { .. }
                | ConfidentialOp::SetAuditor { .. } => {}
            },
            Payload::CreateAsset { .. } | Payload::Burn { .. } | Payload::Governance(_) => {}
            Payload::Admin(op) => match op {
                AdminOp::Onboard { public_key, .. } => add(public_key.address()),
                AdminOp::SetTier { account, .. }
                | AdminOp::GrantRole { account, .. }
                | AdminOp::RevokeRole { account, .. }
                | AdminOp::AuthorizeHolder { account, .. }
                | AdminOp::FreezeHolding { account, .. } => add(*account),
                AdminOp::Clawback { from, .. } => add(*from),
                AdminOp::FreezeAsset { .. } => {}
            },
        }
        out
    }

    /// The transaction id.
    pub fn id(&self) -> TxId {
        Hash::digest(Domain::TxId, &encode(self))
    }

    /// Signs the transaction with `key`.
    pub fn sign(self, key: &Keypair) -> SignedTransaction {
        let signature = key.sign(&sign_bytes(SignKind::Transaction, &self.chain_id, &self.id().0));
        SignedTransaction { tx: self, public_key: key.public(), signature }
    }
}

/// A transaction with the signer's key and signature.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// The key that signed it; the runtime checks it is the sender's registered key.
    pub public_key: PublicKey,
    /// Signature over `sign_bytes(Transaction, chain id, tx id)`.
    pub signature: Signature,
}

impl SignedTransaction {
    /// The transaction id (the signature is not part of it, so a re-signed transaction keeps its id).
    pub fn id(&self) -> TxId {
        self.tx.id()
    }

    /// The message the signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        sign_bytes(SignKind::Transaction, &self.tx.chain_id, &self.id().0)
    }

    /// Checks the signature.
    pub fn verify_signature(&self) -> Result<(), SignatureError> {
        verify(&self.public_key, &self.signed_message(), &self.signature)
    }

    /// Decodes a signed transaction from untrusted bytes, bounded by [`MAX_TX_BYTES`].
    pub fn decode(bytes: &[u8]) -> Result<SignedTransaction, CodecError> {
        decode_with_limit(bytes, MAX_TX_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Transaction {
        let k = Keypair::from_seed(&[1; 32]);
        Transaction {
            chain_id: ChainId::new("t").unwrap(),
            sender: k.public().address(),
            nonce: 3,
            expiry_height: 100,
            max_fee: Amount(10),
            payload: Payload::Transfer {
                to: Address([2; 32]),
                coin: Coin { asset: AssetId::native(), amount: Amount(5) },
            },
        }
    }

    #[test]
    fn sign_verify_and_tamper() {
        let k = Keypair::from_seed(&[1; 32]);
        let stx = sample().sign(&k);
        assert_eq!(stx.verify_signature(), Ok(()));
        let mut t = stx.clone();
        t.tx.nonce += 1;
        assert!(t.verify_signature().is_err());
        let mut t = stx.clone();
        t.tx.chain_id = ChainId::new("other").unwrap();
        assert!(t.verify_signature().is_err());
        let bytes = encode(&stx);
        assert_eq!(SignedTransaction::decode(&bytes), Ok(stx));
    }

    #[test]
    fn parties_are_the_sender_and_the_account_a_payload_targets_once_each() {
        let k = Keypair::from_seed(&[1; 32]);
        let other = Keypair::from_seed(&[2; 32]).public();
        let mut t = sample();
        t.sender = k.public().address();
        t.payload = Payload::Transfer {
            to: other.address(),
            coin: Coin { asset: AssetId::native(), amount: Amount(1) },
        };
        assert_eq!(t.parties(), vec![k.public().address(), other.address()]);
        t.payload =
            Payload::Transfer { to: t.sender, coin: Coin { asset: AssetId::native(), amount: Amount(1) } };
        assert_eq!(t.parties(), vec![t.sender]);
        t.payload = Payload::Admin(AdminOp::Onboard { public_key: other, tier: 1 });
        assert_eq!(t.parties(), vec![t.sender, other.address()]);
        t.payload = Payload::Burn { coin: Coin { asset: AssetId::native(), amount: Amount(1) } };
        assert_eq!(t.parties(), vec![t.sender]);
        t.payload = Payload::Deploy { code: vec![0], init_args: vec![], admin: None, fuel_limit: 1 };
        assert_eq!(t.parties(), vec![t.sender, Address::contract(&t.sender, t.nonce)]);
    }

    #[test]
    fn role_list_is_complete_and_in_tag_order() {
        for (i, r) in Role::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
            assert_eq!(crate::encode(r), vec![i as u8]);
        }
        assert!(
            crate::decode::<Role>(&[Role::ALL.len() as u8]).is_err(),
            "a role was added: extend Role::ALL"
        );
    }

    #[test]
    fn oversized_rejected() {
        let mut big = vec![0u8; MAX_TX_BYTES + 1];
        big[0] = 1;
        assert!(matches!(SignedTransaction::decode(&big), Err(CodecError::TooLarge { .. })));
    }
}
