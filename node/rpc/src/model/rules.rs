//! The current rules as the RPC shows them: governance, parameters, the validator schedule, roles, asset
//! controls, tier limits and the deployment policy (docs/governance.md, docs/rpc.md).

use super::*;

/// The governance keys, their approval threshold and the voting period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GovernanceConfigInfo {
    /// Keys that may propose and vote, hex.
    #[schema(value_type = Vec<String>)]
    pub keys: Vec<PublicKey>,
    /// Approvals by current keys a proposal needs to pass.
    pub threshold: u16,
    /// Blocks a proposal accepts votes: made at height `c`, it takes votes in blocks `c .. c + voting_period`.
    pub voting_period: u64,
}

/// The chain parameters (fees and block limits) in force from the next block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParamsInfo {
    /// Fee per transaction, native smallest units, decimal string.
    #[schema(value_type = String, example = "1000")]
    pub fee_base: Amount,
    /// Fee per encoded byte of a transaction, decimal string.
    #[schema(value_type = String, example = "1")]
    pub fee_per_byte: Amount,
    /// Largest encoded block body, bytes.
    pub max_block_bytes: u64,
    /// Most transactions per block.
    pub max_block_txs: u64,
    /// Fee per 1,000 units of contract fuel (rounded up), decimal string.
    #[schema(value_type = String, example = "1")]
    pub fee_per_kfuel: Amount,
    /// Highest fuel limit one transaction may declare.
    pub max_tx_fuel: u64,
    /// Most fuel the transactions of one block may declare together.
    pub max_block_fuel: u64,
}

/// One entry of the validator schedule: the set deciding blocks from `effective_height` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScheduledValidatorSet {
    /// First height this set decides.
    pub effective_height: u64,
    /// Hash of the set (as named in headers and in `validators.scheduled` events).
    #[schema(value_type = String)]
    pub set_hash: Hash,
    /// Sum of voting power.
    pub total_power: u64,
    /// Power needed for a quorum (more than two thirds).
    pub quorum_power: u64,
    /// Validators in canonical order.
    pub validators: Vec<ValidatorInfo>,
}

impl ScheduledValidatorSet {
    /// The view of `set`, in force from `effective_height`.
    pub fn from_set(effective_height: u64, set: &ValidatorSet) -> ScheduledValidatorSet {
        let info = ValidatorsInfo::from_set(effective_height, set);
        ScheduledValidatorSet {
            effective_height,
            set_hash: set.hash(),
            total_power: info.total_power,
            quorum_power: info.quorum_power,
            validators: info.validators,
        }
    }
}

/// A validator power change in a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ValidatorUpdateInfo {
    /// Consensus key, hex.
    #[schema(value_type = String)]
    pub public_key: PublicKey,
    /// New voting power; 0 removes the validator.
    pub power: u64,
}

/// Payment limits of a tier for an asset, decimal strings; `340282366920938463463374607431768211455`
/// (`u128::MAX`) leaves a bound open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TierLimitsInfo {
    /// Most one transaction may debit.
    #[schema(value_type = String, example = "100000")]
    pub per_tx: Amount,
    /// Most the debits of one UTC day (of block time) may add up to.
    #[schema(value_type = String, example = "500000")]
    pub daily: Amount,
}

impl From<&TierLimits> for TierLimitsInfo {
    fn from(l: &TierLimits) -> TierLimitsInfo {
        TierLimitsInfo { per_tx: l.per_tx, daily: l.daily }
    }
}

/// What a proposal does if it passes (`GovernanceAction`), tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GovernanceActionInfo {
    /// Change validators' voting power, effective two blocks after passing.
    ValidatorSetChange {
        /// The changes.
        updates: Vec<ValidatorUpdateInfo>,
    },
    /// Set a chain parameter.
    SetParameter {
        /// Parameter name, e.g. `fee_base`.
        name: String,
        /// New value, decimal string.
        #[schema(value_type = String)]
        value: Amount,
    },
    /// Allow or disallow a contract code hash for deployment.
    AllowCode {
        /// Code hash, hex.
        #[schema(value_type = String)]
        code_hash: Hash,
        /// Allowed or not.
        allowed: bool,
    },
    /// Grant a role.
    GrantRole {
        /// The account.
        #[schema(value_type = String)]
        account: Address,
        /// The role, e.g. `Merchant`.
        role: String,
    },
    /// Revoke a role.
    RevokeRole {
        /// The account.
        #[schema(value_type = String)]
        account: Address,
        /// The role.
        role: String,
    },
    /// Set or clear a role's administrator.
    SetRoleAdmin {
        /// The role.
        role: String,
        /// Its administrator; `null`: only governance grants it.
        #[schema(value_type = Option<String>)]
        admin: Option<Address>,
    },
    /// Set or remove a tier's limits for an asset.
    SetTierLimits {
        /// KYC tier.
        tier: u8,
        /// Asset id, hex.
        #[schema(value_type = String)]
        asset: AssetId,
        /// The limits; `null` removes them (unlimited).
        limits: Option<TierLimitsInfo>,
    },
    /// Open deployment on or off.
    SetOpenDeployment {
        /// On or off.
        open: bool,
    },
    /// Replace the governance keys, threshold and voting period.
    SetGovernance {
        /// The new keys, hex.
        #[schema(value_type = Vec<String>)]
        keys: Vec<PublicKey>,
        /// Approvals needed.
        threshold: u16,
        /// Blocks a proposal stays open.
        voting_period: u64,
    },
    /// Upgrade a system contract (administrator: governance).
    UpgradeContract {
        /// The contract.
        #[schema(value_type = String)]
        contract: Address,
        /// Code hash of the new module, hex (the code itself is in the proposal transaction).
        #[schema(value_type = String)]
        code_hash: Hash,
        /// Size of the new module in bytes.
        code_len: u64,
        /// Arguments of `migrate`, hex.
        #[serde(with = "crate::hex_serde::bytes")]
        #[schema(value_type = String)]
        migrate_args: Vec<u8>,
        /// Fuel `migrate` may use.
        fuel_limit: u64,
    },
}

/// A role's name as the API spells it (`Merchant`, `AssetIssuer`, …).
pub fn role_name(role: Role) -> String {
    format!("{role:?}")
}

impl From<&GovernanceAction> for GovernanceActionInfo {
    fn from(a: &GovernanceAction) -> GovernanceActionInfo {
        match a {
            GovernanceAction::ValidatorSetChange { updates } => GovernanceActionInfo::ValidatorSetChange {
                updates: updates
                    .iter()
                    .map(|u| ValidatorUpdateInfo { public_key: u.public_key, power: u.power })
                    .collect(),
            },
            GovernanceAction::SetParameter { name, value } => {
                GovernanceActionInfo::SetParameter { name: name.clone(), value: Amount(*value) }
            }
            GovernanceAction::AllowCode { code_hash, allowed } => {
                GovernanceActionInfo::AllowCode { code_hash: *code_hash, allowed: *allowed }
            }
            GovernanceAction::GrantRole { account, role } => {
                GovernanceActionInfo::GrantRole { account: *account, role: role_name(*role) }
            }
            GovernanceAction::RevokeRole { account, role } => {
                GovernanceActionInfo::RevokeRole { account: *account, role: role_name(*role) }
            }
            GovernanceAction::SetRoleAdmin { role, admin } => {
                GovernanceActionInfo::SetRoleAdmin { role: role_name(*role), admin: *admin }
            }
            GovernanceAction::SetTierLimits { tier, asset, limits } => GovernanceActionInfo::SetTierLimits {
                tier: *tier,
                asset: *asset,
                limits: limits.as_ref().map(TierLimitsInfo::from),
            },
            GovernanceAction::SetOpenDeployment { open } => {
                GovernanceActionInfo::SetOpenDeployment { open: *open }
            }
            GovernanceAction::SetGovernance { keys, threshold, voting_period } => {
                GovernanceActionInfo::SetGovernance {
                    keys: keys.clone(),
                    threshold: *threshold,
                    voting_period: *voting_period,
                }
            }
            GovernanceAction::UpgradeContract { contract, code, migrate_args, fuel_limit } => {
                GovernanceActionInfo::UpgradeContract {
                    contract: *contract,
                    code_hash: purse_types::Hash::digest(purse_types::Domain::CodeHash, code),
                    code_len: code.len() as u64,
                    migrate_args: migrate_args.clone(),
                    fuel_limit: *fuel_limit,
                }
            }
        }
    }
}

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalState {
    /// Accepts votes in the next block.
    Open,
    /// Still open in state but past its voting period: it can never pass.
    Expired,
    /// Reached the threshold; its action was applied at `closed_height`.
    Passed,
    /// So many keys voted against that it could no longer pass (at `closed_height`).
    Rejected,
}

/// `GET /proposal/{id}`, and each entry of `open_proposals` in `GET /governance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProposalInfo {
    /// Proposal id (`proposal_id` of the proposing transaction's id), hex.
    #[schema(value_type = String)]
    pub id: Hash,
    /// The proposing key's account.
    #[schema(value_type = String)]
    pub proposer: Address,
    /// What passes if it does.
    pub action: GovernanceActionInfo,
    /// Height of the block that opened it.
    pub created_height: u64,
    /// First height at which votes fail.
    pub deadline_height: u64,
    /// `open`, `expired`, `passed` or `rejected`.
    pub status: ProposalState,
    /// Height at which it passed or was rejected; `null` otherwise.
    #[schema(required = true)]
    pub closed_height: Option<u64>,
    /// Number of keys that approved (the proposer included). Tallies count only current keys.
    pub approvals: u32,
    /// Number of keys that voted against.
    pub rejections: u32,
    /// Keys that approved, in vote order, hex.
    #[schema(value_type = Vec<String>)]
    pub approvers: Vec<PublicKey>,
    /// Keys that voted against, in vote order, hex.
    #[schema(value_type = Vec<String>)]
    pub rejecters: Vec<PublicKey>,
}

/// `GET /governance`: the chain's current rules, from committed state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GovernanceInfo {
    /// Committed height the rules were read at.
    pub height: u64,
    /// Keys, threshold and voting period; `null` when the chain has no governance (its rules are fixed).
    #[schema(required = true)]
    pub governance: Option<GovernanceConfigInfo>,
    /// Open deployment: any registered account may deploy any code. Otherwise allow-listed code only, by
    /// holders of a deploying role.
    pub open_deployment: bool,
    /// Chain parameters.
    pub params: ParamsInfo,
    /// The validator set in force and the scheduled changes, ascending by effective height.
    pub validator_schedule: Vec<ScheduledValidatorSet>,
    /// Every role mapped to its administrator (`null`: only governance grants it).
    #[schema(value_type = BTreeMap<String, Option<String>>)]
    pub role_admins: BTreeMap<String, Option<Address>>,
    /// Proposals that accept votes in the next block, oldest first.
    pub open_proposals: Vec<ProposalInfo>,
}

/// `GET /roles/{address}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RolesInfo {
    /// The address.
    #[schema(value_type = String)]
    pub address: Address,
    /// Committed height.
    pub height: u64,
    /// Roles held, in tag order (e.g. `Merchant`); empty for an address without roles.
    pub roles: Vec<String>,
    /// Roles this address administers (grants and revokes without a proposal).
    pub administers: Vec<String>,
}

/// The issuer's controls on one account's holding of an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HoldingControlsInfo {
    /// The holder.
    #[schema(value_type = String)]
    pub holder: Address,
    /// The issuer authorized it to receive the asset (matters when `authorization_required`).
    pub authorized: bool,
    /// The holding is frozen: it can neither send nor receive the asset.
    pub frozen: bool,
}

/// `GET /asset/{id}/controls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssetControlsInfo {
    /// Asset id, hex.
    #[schema(value_type = String)]
    pub asset: AssetId,
    /// Committed height.
    pub height: u64,
    /// The issuer.
    #[schema(value_type = String)]
    pub issuer: Address,
    /// Only accounts the issuer authorized may receive it (flag fixed at creation).
    pub authorization_required: bool,
    /// The issuer may freeze holdings and the whole asset (flag fixed at creation).
    pub freezable: bool,
    /// The issuer may claw back public units (flag fixed at creation).
    pub clawback_enabled: bool,
    /// The whole asset is frozen.
    pub frozen: bool,
    /// The controls on `?holder=`'s holding; absent without the parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holding: Option<HoldingControlsInfo>,
}

/// `GET /tier/{tier}/limits/{asset}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TierLimitsQueryInfo {
    /// KYC tier.
    pub tier: u8,
    /// Asset id, hex.
    #[schema(value_type = String)]
    pub asset: AssetId,
    /// Committed height.
    pub height: u64,
    /// The limits; `null`: the tier is unlimited in this asset.
    #[schema(required = true)]
    pub limits: Option<TierLimitsInfo>,
}

/// `GET /code/{hash}/allowed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CodeAllowedInfo {
    /// Code hash, hex (`purse_vm::code_hash` of the wasm).
    #[schema(value_type = String)]
    pub code_hash: Hash,
    /// Committed height.
    pub height: u64,
    /// On the deployment allow-list.
    pub allowed: bool,
    /// Deployment is open: any registered account may deploy any code, listed or not.
    pub open_deployment: bool,
}
