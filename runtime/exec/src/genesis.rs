//! The genesis document and its application to an empty state.
//!
//! [`Genesis::build_state`] writes the genesis records (chain, parameters, accounts, assets, governance). A
//! genesis that deploys contracts ([`Genesis::contracts`]) needs the contract VM:
//! [`Genesis::build_state_with`] (or [`crate::Runtime::genesis_state`]) writes the same records, then runs each
//! contract's deploy through the path a `Deploy` transaction takes, at height 0 and `genesis_time_ms`.

use crate::contracts::{self, ContractPayload};
use crate::error::{ExecError, RuntimeError};
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
use purse_vm::Vm;
use std::collections::{BTreeMap, BTreeSet};

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

/// Most contracts a genesis may deploy.
pub const MAX_GENESIS_CONTRACTS: usize = 32;
/// Most code bytes the genesis contracts may carry together (each is also bounded by the VM's `max_code_size`).
pub const MAX_GENESIS_CODE_BYTES: usize = 4 * 1024 * 1024;
/// Fuel a genesis contract's deploy (checking and storing its code, then `init`) may use when its entry names
/// none. Like a `Deploy` transaction's, a genesis contract's fuel limit may not exceed the genesis
/// `params.max_tx_fuel`.
pub const DEFAULT_GENESIS_CONTRACT_FUEL: u64 = 50_000_000;

fn default_voting_period() -> u64 {
    DEFAULT_VOTING_PERIOD
}

fn default_genesis_contract_fuel() -> u64 {
    DEFAULT_GENESIS_CONTRACT_FUEL
}

/// A contract deployed at genesis (height 0), as its deployer's `Deploy` transaction would deploy it, without
/// fee and without the deployment policy (genesis is trusted). Its address is the one that transaction would
/// get: the `k`-th contract (counting from 0) a deployer has in the genesis list is at
/// `Address::contract(deployer, k)`, and the deployer's account starts with nonce = the number of its genesis
/// contracts, so its own later deploys (nonce `k` and up) can never collide ([`Genesis::contract_addresses`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GenesisContract {
    /// The wasm module (hex in JSON).
    #[serde(with = "hex_bytes")]
    pub code: Vec<u8>,
    /// Arguments of its `init` export (hex in JSON; borsh by convention); empty by default.
    #[serde(default, with = "hex_bytes")]
    pub init_args: Vec<u8>,
    /// Who may upgrade it; `None` (the default) makes it immutable.
    #[serde(default)]
    pub admin: Option<Address>,
    /// The deploying account (a genesis account): the origin of `init`, and the address's derivation base.
    pub deployer: Address,
    /// Fuel the deploy may use ([`DEFAULT_GENESIS_CONTRACT_FUEL`] by default; at most `params.max_tx_fuel`).
    #[serde(default = "default_genesis_contract_fuel")]
    pub fuel_limit: u64,
}

impl GenesisContract {
    /// Its code hash (`purse_vm::code_hash`, what the deployment allow-list names).
    pub fn code_hash(&self) -> Hash {
        purse_vm::code_hash(&self.code)
    }
}

/// `Vec<u8>` as a hex string in JSON (either case read, lowercase written).
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    const DIGITS: &[u8; 16] = b"0123456789abcdef";

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut out = String::with_capacity(v.len().saturating_mul(2));
        for b in v {
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        }
        s.serialize_str(&out)
    }

    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        let s = s.strip_prefix("0x").unwrap_or(&s);
        if s.len() % 2 != 0 {
            return Err(serde::de::Error::custom("hex string has an odd number of digits"));
        }
        s.as_bytes()
            .chunks(2)
            .map(|p| match (nibble(p[0]), nibble(p[1])) {
                (Some(h), Some(l)) => Ok((h << 4) | l),
                _ => Err(serde::de::Error::custom("invalid hex digit")),
            })
            .collect()
    }
}

/// The rules a chain starts with: governance keys, threshold and voting period, the deployment policy, role
/// administrators and tier limits. The default is a production posture: no governance (the rules are fixed until
/// a genesis names keys), closed deployment with an empty allow-list, no role administrators, no limits.
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
    /// Contracts deployed at genesis, in order (at most [`MAX_GENESIS_CONTRACTS`], together at most
    /// [`MAX_GENESIS_CODE_BYTES`] of code). Trusted: they bypass the deployment policy (their code hashes need
    /// not be allow-listed, their deployers need no deploying role); later upgrades of them go through the
    /// policy like any other.
    #[serde(default)]
    pub contracts: Vec<GenesisContract>,
}

impl Genesis {
    /// The validator set it defines.
    pub fn validator_set(&self) -> Result<ValidatorSet, RuntimeError> {
        ValidatorSet::new(self.validators.clone()).map_err(|e| RuntimeError::Genesis(e.to_string()))
    }

    /// The contracts it deploys.
    pub fn contracts(&self) -> &[GenesisContract] {
        &self.contracts
    }

    /// The address of each genesis contract, in list order: the `k`-th contract (from 0) of a deployer is at
    /// `Address::contract(deployer, k)` — the address its `Deploy` transaction with nonce `k` would get.
    pub fn contract_addresses(&self) -> Vec<Address> {
        let mut next: BTreeMap<Address, u64> = BTreeMap::new();
        self.contracts()
            .iter()
            .map(|c| {
                let nonce = next.entry(c.deployer).or_insert(0);
                let address = Address::contract(&c.deployer, *nonce);
                *nonce = nonce.saturating_add(1);
                address
            })
            .collect()
    }

    /// The state writes of genesis (height 0), over an empty `base`, for a genesis without contracts (one with
    /// contracts needs the VM: [`Genesis::build_state_with`]; this refuses it).
    pub fn build_state<R: StateRead + ?Sized>(&self, base: &R) -> Result<Overlay, RuntimeError> {
        if !self.contracts().is_empty() {
            return Err(RuntimeError::Genesis(format!(
                "it deploys {} contract(s): build its state with the contract VM (Genesis::build_state_with)",
                self.contracts().len()
            )));
        }
        let mut st = BlockState::new(base);
        self.write_records(&mut st)?;
        st.commit_tx().map_err(|e| RuntimeError::Genesis(e.to_string()))?;
        Ok(st.into_overlay())
    }

    /// The state writes of genesis (height 0), over an empty `base`: the records [`Genesis::build_state`]
    /// writes, then each contract deployed on `vm` in list order, through the path of a `Deploy` transaction
    /// (code checked, compiled and stored, contract instantiated, `init` run) with the block environment of
    /// height 0 at `genesis_time_ms` and the deployer as origin, without fee and without the deployment policy
    /// (genesis is trusted). Each deploy advances its deployer's nonce. A deploy that fails (invalid code, a
    /// trap or abort in `init`, out of fuel) fails the genesis, naming the contract; events of `init` are
    /// dropped (height 0 has no receipts).
    pub fn build_state_with<R: StateRead + Clone + Send + Sync + 'static>(
        &self,
        base: &R,
        vm: &Vm,
    ) -> Result<Overlay, RuntimeError> {
        let mut st = BlockState::new(base);
        let accounts = self.write_records(&mut st)?;
        st.commit_tx().map_err(|e| RuntimeError::Genesis(e.to_string()))?;
        self.deploy_contracts(&mut st, &accounts, vm)?;
        Ok(st.into_overlay())
    }

    /// Checks the contract list's bounds and deploys each contract in its own transaction layer.
    fn deploy_contracts<R: StateRead + Clone + Send + Sync + 'static>(
        &self,
        st: &mut BlockState<'_, R>,
        accounts: &BTreeSet<Address>,
        vm: &Vm,
    ) -> Result<(), RuntimeError> {
        let list = self.contracts();
        let bad = RuntimeError::Genesis;
        if list.len() > MAX_GENESIS_CONTRACTS {
            return Err(bad(format!("{} genesis contracts, at most {MAX_GENESIS_CONTRACTS}", list.len())));
        }
        let code_bytes = list.iter().fold(0usize, |n, c| n.saturating_add(c.code.len()));
        if code_bytes > MAX_GENESIS_CODE_BYTES {
            return Err(bad(format!(
                "the contracts carry {code_bytes} bytes of code, at most {MAX_GENESIS_CODE_BYTES}"
            )));
        }
        for (i, (c, address)) in list.iter().zip(self.contract_addresses()).enumerate() {
            let what = || format!("contract {i} (deployer {}, code {})", c.deployer, c.code_hash());
            if !accounts.contains(&c.deployer) {
                return Err(bad(format!("{}: the deployer is not a genesis account", what())));
            }
            if c.fuel_limit > self.params.max_tx_fuel {
                return Err(bad(format!(
                    "{}: fuel limit {} is above max_tx_fuel {}",
                    what(),
                    c.fuel_limit,
                    self.params.max_tx_fuel
                )));
            }
            let key = schema::account_key(&c.deployer);
            let mut deployer: AccountRecord = st
                .get_record(&key)?
                .ok_or_else(|| RuntimeError::Invariant(format!("{}: deployer record missing", what())))?;
            let env = contracts::env(0, self.genesis_time_ms, c.deployer);
            let payload = ContractPayload::Deploy {
                code: &c.code,
                init_args: &c.init_args,
                admin: c.admin,
                nonce: deployer.nonce,
                fuel_limit: c.fuel_limit,
            };
            let run = contracts::run_payload(vm, st, &env, payload)?;
            match run.result {
                Ok(_events) => {}
                Err(ExecError::Tx(e)) => {
                    st.rollback_tx();
                    return Err(bad(format!("{}: deploy failed ({}): {e}", what(), e.code())));
                }
                Err(ExecError::Runtime(e)) => return Err(e),
            }
            if st.get(&schema::contract_key(&address))?.is_none() {
                return Err(RuntimeError::Invariant(format!("{}: not instantiated at {address}", what())));
            }
            deployer.nonce = deployer.nonce.saturating_add(1);
            st.put_record(key, &deployer);
            st.commit_tx().map_err(|e| bad(format!("{}: {e}", what())))?;
        }
        Ok(())
    }

    /// Writes every record but the contracts into the current transaction; returns the genesis accounts.
    fn write_records<R: StateRead + ?Sized>(
        &self,
        st: &mut BlockState<'_, R>,
    ) -> Result<BTreeSet<Address>, RuntimeError> {
        self.validator_set()?;
        self.params.validate().map_err(RuntimeError::Genesis)?;
        let native = AssetId::native();
        let native_issuer = Address::system("native");
        let fee_collector = Address::system("fees");
        st.put_record(
            schema::chain_key(),
            &ChainRecord { chain_id: self.chain_id.clone(), fee_asset: native, fee_collector },
        );
        self.params.write(st);
        let mut native_supply: u128 = 0;
        let mut seen = BTreeSet::new();
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
        self.write_governance(st, &seen)?;
        Ok(seen)
    }

    fn write_governance<R: StateRead + ?Sized>(
        &self,
        st: &mut BlockState<'_, R>,
        accounts: &BTreeSet<Address>,
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
