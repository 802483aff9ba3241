//! `purse node run --dev`: a single-validator chain for development. On first use it initialises the home
//! (config, validator key) and writes a genesis with this node as the only validator and a funded dev account
//! (key in `keys/dev-account.key`) that holds the asset-issuer role.

use crate::config::{Config, CONFIG_FILE};
use crate::genesis_cmd;
use crate::keys;
use anyhow::Result;
use purse_runtime::{GenesisAccount, GovernanceGenesis};
use purse_types::{Amount, Role, Validator};
use std::path::Path;

/// Chain id of a dev chain.
pub const DEV_CHAIN_ID: &str = "purse-dev";
/// Key file of the funded dev account (relative to the home directory).
pub const DEV_ACCOUNT_KEY_FILE: &str = "keys/dev-account.key";
/// Native balance of the dev account (and of the validator's own account).
pub const DEV_BALANCE: u128 = 1_000_000_000_000_000;
/// KYC tier of the dev account.
pub const DEV_TIER: u8 = 3;
/// Voting power of the dev validator.
pub const DEV_POWER: u64 = 10;

/// Makes `home` runnable as a one-validator dev chain (no-op for what already exists).
pub fn prepare(home: &Path) -> Result<()> {
    if !home.join(CONFIG_FILE).exists() {
        crate::cli::init_home(home, "purse-dev", false)?;
    }
    let config = Config::load(home)?;
    let genesis_path = Config::resolve(home, &config.genesis_file);
    if genesis_path.exists() {
        return Ok(());
    }
    let validator = keys::read_key_file(&Config::resolve(home, &config.key_file))?;
    let dev_path = home.join(DEV_ACCOUNT_KEY_FILE);
    let dev = if dev_path.exists() {
        keys::read_key_file(&dev_path)?
    } else {
        let k = keys::generate();
        keys::write_key_file(&dev_path, &k, false)?;
        k
    };
    let mut accounts = vec![GenesisAccount {
        public_key: dev.public(),
        tier: DEV_TIER,
        roles: vec![Role::AssetIssuer],
        native_balance: Amount(DEV_BALANCE),
    }];
    if validator.public() != dev.public() {
        accounts.push(GenesisAccount {
            public_key: validator.public(),
            tier: 0,
            roles: Vec::new(),
            native_balance: Amount(DEV_BALANCE),
        });
    }
    let mut genesis = genesis_cmd::new_genesis(
        DEV_CHAIN_ID,
        vec![Validator { public_key: validator.public(), power: DEV_POWER }],
        accounts,
        None,
    )?;
    // A development chain: open deployment, and the dev account alone is governance (threshold 1), so every
    // rule can be exercised from one key. Production genesis keeps the closed default (docs/governance.md).
    genesis.governance =
        GovernanceGenesis { keys: vec![dev.public()], threshold: 1, ..GovernanceGenesis::open() };
    genesis_cmd::check(&genesis)?;
    genesis_cmd::write(&genesis_path, &genesis)?;
    eprintln!(
        "dev chain {DEV_CHAIN_ID}: genesis {} written; dev account {} (key {})",
        genesis_path.display(),
        dev.public().address(),
        dev_path.display()
    );
    Ok(())
}
