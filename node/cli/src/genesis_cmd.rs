//! `purse genesis`: writing and editing the genesis document (the JSON form of `purse_runtime::Genesis`).

use anyhow::{bail, Context, Result};
use purse_runtime::{Genesis, GenesisAccount, GenesisAsset, Params};
use purse_types::{Address, Amount, AssetFlags, ChainId, PublicKey, Role, Validator};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Voting power of a validator given without `:POWER`.
pub const DEFAULT_VALIDATOR_POWER: u64 = 10;
/// Largest genesis file read.
pub const MAX_GENESIS_BYTES: u64 = 64 * 1024 * 1024;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(0))
        .unwrap_or(0)
}

/// Parses `PUBKEY[:POWER]`.
pub fn parse_validator(s: &str) -> Result<Validator> {
    let (key, power) = match s.split_once(':') {
        Some((k, p)) => (k, p.parse::<u64>().with_context(|| format!("validator power in {s:?}"))?),
        None => (s, DEFAULT_VALIDATOR_POWER),
    };
    let public_key = PublicKey::from_hex(key).with_context(|| format!("validator public key in {s:?}"))?;
    if power == 0 {
        bail!("validator {key}: power must be positive");
    }
    Ok(Validator { public_key, power })
}

/// Parses `PUBKEY:BALANCE[:TIER]` (balance in the native asset's smallest unit).
pub fn parse_account(s: &str) -> Result<GenesisAccount> {
    let mut parts = s.split(':');
    let key = parts.next().unwrap_or_default();
    let balance = parts.next().with_context(|| format!("account {s:?}: expected PUBKEY:BALANCE[:TIER]"))?;
    let tier = match parts.next() {
        Some(t) => t.parse::<u8>().with_context(|| format!("account tier in {s:?}"))?,
        None => 0,
    };
    if parts.next().is_some() {
        bail!("account {s:?}: expected PUBKEY:BALANCE[:TIER]");
    }
    let public_key = PublicKey::from_hex(key).with_context(|| format!("account public key in {s:?}"))?;
    let balance = balance.parse::<u128>().with_context(|| format!("account balance in {s:?}"))?;
    Ok(GenesisAccount { public_key, tier, roles: Vec::new(), native_balance: Amount(balance) })
}

/// Parses a role name as written in genesis JSON (`Merchant`, `AssetIssuer`, …).
pub fn parse_role(s: &str) -> Result<Role> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .with_context(|| format!("unknown role {s:?} (e.g. AssetIssuer, Merchant, Auditor)"))
}

/// A new genesis document (validated).
pub fn new_genesis(
    chain_id: &str,
    validators: Vec<Validator>,
    accounts: Vec<GenesisAccount>,
    genesis_time_ms: Option<u64>,
) -> Result<Genesis> {
    let genesis = Genesis {
        chain_id: ChainId::new(chain_id).with_context(|| format!("chain id {chain_id:?}"))?,
        genesis_time_ms: genesis_time_ms.unwrap_or_else(now_ms),
        validators,
        accounts,
        assets: Vec::new(),
        params: Params::default(),
        governance: Default::default(),
    };
    check(&genesis)?;
    Ok(genesis)
}

/// Checks a genesis document completely: by building its state over an empty store.
pub fn check(genesis: &Genesis) -> Result<()> {
    if genesis.validators.is_empty() {
        bail!("genesis needs at least one validator");
    }
    let empty: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    genesis.build_state(&empty).context("invalid genesis")?;
    Ok(())
}

/// Reads and checks a genesis file.
pub fn read(path: &Path) -> Result<Genesis> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading genesis {}", path.display()))?;
    if meta.len() > MAX_GENESIS_BYTES {
        bail!("{} is larger than {MAX_GENESIS_BYTES} bytes", path.display());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading genesis {}", path.display()))?;
    let genesis: Genesis =
        serde_json::from_str(&text).with_context(|| format!("parsing genesis {}", path.display()))?;
    check(&genesis).with_context(|| format!("checking genesis {}", path.display()))?;
    Ok(genesis)
}

/// Writes a genesis file (pretty JSON), after checking it.
pub fn write(path: &Path, genesis: &Genesis) -> Result<()> {
    check(genesis)?;
    let mut text = serde_json::to_string_pretty(genesis).context("serialising genesis")?;
    text.push('\n');
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Adds a validator to the genesis file at `path`.
pub fn add_validator(path: &Path, validator: Validator) -> Result<Genesis> {
    let mut g = read(path)?;
    if g.validators.iter().any(|v| v.public_key == validator.public_key) {
        bail!("validator {} is already in the genesis", validator.public_key);
    }
    g.validators.push(validator);
    write(path, &g)?;
    Ok(g)
}

/// Adds an account to the genesis file at `path`.
pub fn add_account(path: &Path, account: GenesisAccount) -> Result<Genesis> {
    let mut g = read(path)?;
    if g.accounts.iter().any(|a| a.public_key == account.public_key) {
        bail!("account {} is already in the genesis", account.public_key.address());
    }
    g.accounts.push(account);
    write(path, &g)?;
    Ok(g)
}

/// Adds an asset (issued by a genesis account) to the genesis file at `path`.
pub fn add_asset(
    path: &Path,
    symbol: &str,
    decimals: u8,
    issuer: Address,
    flags: AssetFlags,
) -> Result<Genesis> {
    let mut g = read(path)?;
    g.assets.push(GenesisAsset { symbol: symbol.to_string(), decimals, issuer, flags });
    write(path, &g)?;
    Ok(g)
}

/// A short human-readable summary.
pub fn summary(g: &Genesis) -> String {
    let mut s = format!(
        "chain id:   {}\ngenesis:    {} (time {} ms)\nvalidators: {}\n",
        g.chain_id,
        purse_engine::genesis_hash(g),
        g.genesis_time_ms,
        g.validators.len()
    );
    for v in &g.validators {
        s.push_str(&format!("  {} power {}\n", v.public_key, v.power));
    }
    s.push_str(&format!("accounts:   {}\n", g.accounts.len()));
    for a in &g.accounts {
        s.push_str(&format!("  {} balance {} tier {}\n", a.public_key.address(), a.native_balance.0, a.tier));
    }
    s.push_str(&format!("assets:     {}\n", g.assets.len()));
    for a in &g.assets {
        s.push_str(&format!("  {} ({} decimals) issuer {}\n", a.symbol, a.decimals, a.issuer));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use purse_types::Keypair;

    #[test]
    fn new_edit_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("genesis.json");
        let v1 = Keypair::from_seed(&[1; 32]).public();
        let v2 = Keypair::from_seed(&[2; 32]).public();
        let a = Keypair::from_seed(&[3; 32]).public();
        let g = new_genesis(
            "purse-test",
            vec![parse_validator(&v1.to_hex()).unwrap()],
            vec![parse_account(&format!("{}:1000:2", a.to_hex())).unwrap()],
            Some(5),
        )
        .unwrap();
        assert_eq!(g.validators[0].power, DEFAULT_VALIDATOR_POWER);
        assert_eq!(g.accounts[0].tier, 2);
        write(&path, &g).unwrap();
        assert_eq!(read(&path).unwrap(), g);
        let g = add_validator(&path, parse_validator(&format!("{}:7", v2.to_hex())).unwrap()).unwrap();
        assert_eq!(g.validators[1].power, 7);
        assert!(add_validator(&path, parse_validator(&v2.to_hex()).unwrap()).is_err());
        let b = Keypair::from_seed(&[4; 32]).public();
        let mut acc = parse_account(&format!("{}:5", b.to_hex())).unwrap();
        acc.roles.push(parse_role("AssetIssuer").unwrap());
        add_account(&path, acc).unwrap();
        let g = add_asset(&path, "EUR", 2, b.address(), AssetFlags::default()).unwrap();
        assert_eq!(read(&path).unwrap(), g);
        assert!(summary(&g).contains("EUR"));
        // An asset whose issuer is no genesis account is refused.
        assert!(add_asset(
            &path,
            "USD",
            2,
            Keypair::from_seed(&[9; 32]).public().address(),
            AssetFlags::default()
        )
        .is_err());
    }

    #[test]
    fn bad_inputs() {
        assert!(parse_validator("zz").is_err());
        let k = Keypair::from_seed(&[1; 32]).public().to_hex();
        assert!(parse_validator(&format!("{k}:0")).is_err());
        assert!(parse_account(&k).is_err());
        assert!(parse_account(&format!("{k}:x")).is_err());
        assert!(parse_role("Nope").is_err());
        assert!(new_genesis("purse-test", vec![], vec![], None).is_err());
    }
}
