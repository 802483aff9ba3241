//! The genesis document and its application to an empty state.

use crate::error::RuntimeError;
use crate::params::Params;
use crate::schema::{self, AccountRecord, AssetRecord, ChainRecord};
use crate::state::{BlockState, StateRead};
use purse_state::Overlay;
use purse_types::{
    Address, AssetFlags, AssetId, AssetInfo, ChainId, PublicKey, Role, Validator, ValidatorSet,
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
        st.commit_tx().map_err(|e| RuntimeError::Genesis(e.to_string()))?;
        Ok(st.into_overlay())
    }
}
