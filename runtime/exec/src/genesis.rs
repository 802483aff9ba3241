//! The genesis document and its application to an empty state.

use crate::error::RuntimeError;
use crate::governance::{self, DEFAULT_VOTING_PERIOD, MAX_GENESIS_ALLOWED_CODES};
use crate::params::Params;
use crate::schema::{
    self, AccountRecord, AssetRecord, ChainRecord, DeploymentRecord, GovernanceConfig, ValidatorSchedule,
};
use crate::state::{BlockState, StateRead};
use purse_state::Overlay;
use purse_types::{
    Address, AssetFlags, AssetId, AssetInfo, ChainId, Hash, PublicKey, Role, TierLimits, Validator,
    ValidatorSet,
};

/// Symbol of the native fee asset.
pub const NATIVE_SYMBOL: &str = "PRS";
/// Decimals of the native fee asset.
pub const NATIVE_DECIMALS: u8 = 6;

/// An account that exists from the start.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GenesisAccount {
    /// Its signing key (the address is derived from it).
    pub public_key: PublicKey,
    /// KYC tier.
    #[serde(default)]
    pub tier: u8,
    /// Roles held from the start.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Native-asset balance.
    #[serde(default)]
    pub native_balance: purse_types::Amount,
}

/// An asset created at genesis.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GenesisAsset {
    /// Ticker.
    pub symbol: String,
    /// Decimals.
    pub decimals: u8,
    /// Issuer (must be a genesis account).
    pub issuer: Address,
    /// Controls.
    #[serde(default)]
    pub flags: AssetFlags,
}

/// A role's administrator at genesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GenesisRoleAdmin {
    /// The role.
    pub role: Role,
    /// Its administrator (a genesis account).
    pub admin: Address,
}

/// Tier limits at genesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GenesisTierLimits {
    /// The tier.
    pub tier: u8,
    /// The asset (the native one or a genesis asset).
    pub asset: AssetId,
    /// The limits.
    pub limits: TierLimits,
}

fn default_voting_period() -> u64 {
    DEFAULT_VOTING_PERIOD
}

/// The rules a chain starts with: governance keys, threshold and voting period, the deployment policy, role
/// administrators and tier limits. The default is a production posture: no governance (the rules are fixed
/// until a genesis names keys), closed deployment with an empty allow-list, no role administrators, no limits.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GovernanceGenesis {
    /// Governance keys (each a genesis account's key); empty: the chain has no governance.
    #[serde(default)]
    pub keys: Vec<PublicKey>,
    /// Approvals a proposal needs (`1..=keys.len()` when there are keys).
    #[serde(default)]
    pub threshold: u16,
    /// Blocks a proposal accepts votes.
    #[serde(default = "default_voting_period")]
    pub voting_period: u64,
    /// Open deployment: any registered account may deploy any code (development and test chains).
    #[serde(default)]
    pub open_deployment: bool,
    /// Code hashes deployable from the start (at most `MAX_GENESIS_ALLOWED_CODES`).
    #[serde(default)]
    pub allowed_code: Vec<Hash>,
    /// Role administrators.
    #[serde(default)]
    pub role_admins: Vec<GenesisRoleAdmin>,
    /// Tier limits.
    #[serde(default)]
    pub tier_limits: Vec<GenesisTierLimits>,
}

impl Default for GovernanceGenesis {
    fn default() -> Self {
        GovernanceGenesis {
            keys: Vec::new(),
            threshold: 0,
            voting_period: DEFAULT_VOTING_PERIOD,
            open_deployment: false,
            allowed_code: Vec::new(),
            role_admins: Vec::new(),
            tier_limits: Vec::new(),
        }
    }
}

impl GovernanceGenesis {
    /// Open deployment and nothing else (development and test chains).
    pub fn open() -> GovernanceGenesis {
        GovernanceGenesis { open_deployment: true, ..GovernanceGenesis::default() }
    }
}

/// Everything the chain starts with.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Genesis {
    /// Chain id.
    pub chain_id: ChainId,
    /// Genesis time, milliseconds since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Validators and their power.
    pub validators: Vec<Validator>,
    /// Accounts.
    pub accounts: Vec<GenesisAccount>,
    /// Assets besides the native one.
    #[serde(default)]
    pub assets: Vec<GenesisAsset>,
    /// Chain parameters (fees, limits).
    #[serde(default)]
    pub params: Params,
    /// Governance, deployment policy, role administrators and tier limits.
    #[serde(default)]
    pub governance: GovernanceGenesis,
}

impl Genesis {
    /// The validator set it defines.
    pub fn validator_set(&self) -> Result<ValidatorSet, RuntimeError> {
        ValidatorSet::new(self.validators.clone()).map_err(|e| RuntimeError::Genesis(e.to_string()))
    }

    /// The state writes of genesis (height 0), over an empty `base`.
    pub fn build_state<R: StateRead + ?Sized>(&self, base: &R) -> Result<Overlay, RuntimeError> {
        self.validator_set()?;
        self.params.validate().map_err(RuntimeError::Genesis)?;
        let mut st = BlockState::new(base);
        let native = AssetId::native();
        let native_issuer = Address::system("native");
        let fee_collector = Address::system("fees");
        st.put_record(
            schema::chain_key(),
            &ChainRecord { chain_id: self.chain_id.clone(), fee_asset: native, fee_collector },
        );
        self.params.write(&mut st);
        let mut native_supply: u128 = 0;
        let mut seen = std::collections::BTreeSet::new();
        for a in &self.accounts {
            let addr = a.public_key.address();
            if !seen.insert(addr) {
                return Err(RuntimeError::Genesis(format!("account {addr} listed twice")));
            }
            st.put_record(
                schema::account_key(&addr),
                &AccountRecord { public_key: a.public_key, nonce: 0, tier: a.tier },
            );
            for r in &a.roles {
                st.put_record(schema::role_key(*r, &addr), &());
            }
            if a.native_balance.0 > 0 {
                st.put_record(schema::balance_key(&addr, &native), &a.native_balance.0);
                native_supply = native_supply
                    .checked_add(a.native_balance.0)
                    .ok_or_else(|| RuntimeError::Genesis("native supply overflows".into()))?;
            }
        }
        st.put_record(
            schema::asset_key(&native),
            &AssetRecord {
                info: AssetInfo {
                    symbol: NATIVE_SYMBOL.into(),
                    decimals: NATIVE_DECIMALS,
                    issuer: native_issuer,
                },
                flags: AssetFlags::default(),
                supply: native_supply,
                frozen: false,
            },
        );
        for asset in &self.assets {
            let info =
                AssetInfo { symbol: asset.symbol.clone(), decimals: asset.decimals, issuer: asset.issuer };
            info.validate().map_err(|e| RuntimeError::Genesis(e.into()))?;
            if !seen.contains(&asset.issuer) {
                return Err(RuntimeError::Genesis(format!(
                    "asset {} issuer is not a genesis account",
                    asset.symbol
                )));
            }
            let id = AssetId::new(&asset.issuer, &asset.symbol);
            if st.get(&schema::asset_key(&id))?.is_some() {
                return Err(RuntimeError::Genesis(format!("asset {} listed twice", asset.symbol)));
            }
            st.put_record(
                schema::asset_key(&id),
                &AssetRecord { info, flags: asset.flags, supply: 0, frozen: false },
            );
        }
        self.write_governance(&mut st, &seen)?;
        st.commit_tx().map_err(|e| RuntimeError::Genesis(e.to_string()))?;
        Ok(st.into_overlay())
    }

    fn write_governance<R: StateRead + ?Sized>(
        &self,
        st: &mut BlockState<'_, R>,
        accounts: &std::collections::BTreeSet<Address>,
    ) -> Result<(), RuntimeError> {
        let g = &self.governance;
        let bad = |m: String| RuntimeError::Genesis(m);
        st.put_record(
            schema::validator_schedule_key(),
            &ValidatorSchedule { entries: vec![(0, self.validator_set()?)] },
        );
        if !g.keys.is_empty() {
            let cfg = GovernanceConfig {
                keys: g.keys.clone(),
                threshold: g.threshold,
                voting_period: g.voting_period,
            };
            governance::validate_config(&cfg).map_err(|e| bad(format!("governance: {e}")))?;
            for k in &g.keys {
                if !accounts.contains(&k.address()) {
                    return Err(bad(format!("governance key {k} is not a genesis account's key")));
                }
            }
            st.put_record(schema::governance_key(), &cfg);
        }
        st.put_record(schema::deployment_key(), &DeploymentRecord { open: g.open_deployment });
        if g.allowed_code.len() > MAX_GENESIS_ALLOWED_CODES {
            return Err(bad(format!("at most {MAX_GENESIS_ALLOWED_CODES} allowed code hashes")));
        }
        for h in &g.allowed_code {
            st.put_record(schema::allowed_code_key(h), &());
        }
        for ra in &g.role_admins {
            if !accounts.contains(&ra.admin) {
                return Err(bad(format!(
                    "{:?} administrator {} is not a genesis account",
                    ra.role, ra.admin
                )));
            }
            if st.get(&schema::role_admin_key(ra.role))?.is_some() {
                return Err(bad(format!("{:?} has two administrators", ra.role)));
            }
            st.put_record(schema::role_admin_key(ra.role), &ra.admin);
        }
        for tl in &g.tier_limits {
            if st.get(&schema::asset_key(&tl.asset))?.is_none() {
                return Err(bad(format!("tier limits for unknown asset {}", tl.asset)));
            }
            let key = schema::tier_limits_key(tl.tier, &tl.asset);
            if st.get(&key)?.is_some() {
                return Err(bad(format!("tier {} has two limits for asset {}", tl.tier, tl.asset)));
            }
            st.put_record(key, &tl.limits);
        }
        Ok(())
    }
}
