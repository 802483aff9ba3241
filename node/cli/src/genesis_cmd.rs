//! `purse genesis`: writing and editing the genesis document (the JSON form of `purse_runtime::Genesis`).

use anyhow::{bail, Context, Result};
use purse_runtime::{Genesis, GenesisAccount, GenesisAsset, GenesisContract, Params};
use purse_types::{Address, Amount, AssetFlags, ChainId, PublicKey, Role, Validator};
use purse_vm::{Vm, VmConfig};
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
        contracts: Vec::new(),
        governance: Default::default(),
    };
    check(&genesis)?;
    Ok(genesis)
}

/// Checks a genesis document completely: by building its state over an empty store (deploying its contracts,
/// if any, on a VM with the chain's default configuration).
pub fn check(genesis: &Genesis) -> Result<()> {
    if genesis.validators.is_empty() {
        bail!("genesis needs at least one validator");
    }
    let empty: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    if genesis.contracts().is_empty() {
        genesis.build_state(&empty).context("invalid genesis")?;
    } else {
        let vm = Vm::new(VmConfig::default()).context("starting the contract VM")?;
        genesis.build_state_with(&empty, &vm).context("invalid genesis")?;
    }
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

/// Adds a contract deployed at genesis to the genesis file at `path` (the whole genesis is built, so code that
/// does not deploy or an `init` that fails is refused here). Returns the genesis and the contract's address.
pub fn add_contract(path: &Path, contract: GenesisContract) -> Result<(Genesis, Address)> {
    let mut g = read(path)?;
    g.contracts.push(contract);
    let address = g
        .contract_addresses()
        .last()
        .copied()
        .context("the contract list is empty after adding a contract")?;
    write(path, &g)?;
    Ok((g, address))
}

/// Reads a wasm module for `add-contract` (refusing files above the VM's code size limit before reading them).
pub fn read_wasm(path: &Path) -> Result<Vec<u8>> {
    let max = purse_vm::Limits::default().max_code_size;
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.len() > max as u64 {
        bail!("{} is larger than the contract code limit of {max} bytes", path.display());
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Parses hex bytes (`--init-args`; an optional `0x` prefix, empty for none).
pub fn parse_hex(s: &str) -> Result<Vec<u8>> {
    let s = s.trim();
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).with_context(|| format!("hex bytes {s:?}"))
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
    s.push_str(&format!("contracts:  {}\n", g.contracts().len()));
    for (c, address) in g.contracts().iter().zip(g.contract_addresses()) {
        s.push_str(&format!(
            "  {address} code {} ({} bytes) deployer {} admin {}\n",
            c.code_hash(),
            c.code.len(),
            c.deployer,
            c.admin.map_or_else(|| "none".to_string(), |a| a.to_string())
        ));
    }
    s
}

#[cfg(test)]
pub(crate) mod tests {
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

    /// The built `counter` example contract (`bash scripts/build-contracts`).
    pub(crate) fn counter_wasm() -> Vec<u8> {
        let dir = std::env::var_os("PURSE_CONTRACT_ARTIFACTS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts/artifacts"));
        std::fs::read(dir.join("counter.wasm"))
            .expect("build the contracts first: bash scripts/build-contracts")
    }

    #[test]
    fn add_contract_deploys_at_genesis_and_refuses_contracts_that_do_not_deploy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("genesis.json");
        let v = Keypair::from_seed(&[1; 32]).public();
        let a = Keypair::from_seed(&[3; 32]).public();
        let g = new_genesis(
            "purse-test",
            vec![parse_validator(&v.to_hex()).unwrap()],
            vec![parse_account(&format!("{}:1000", a.to_hex())).unwrap()],
            Some(5),
        )
        .unwrap();
        write(&path, &g).unwrap();
        let wasm = dir.path().join("counter.wasm");
        std::fs::write(&wasm, counter_wasm()).unwrap();
        let contract = GenesisContract {
            code: read_wasm(&wasm).unwrap(),
            init_args: parse_hex("0x0500000000000000").unwrap(),
            admin: Some(a.address()),
            deployer: a.address(),
            fuel_limit: purse_runtime::DEFAULT_GENESIS_CONTRACT_FUEL,
        };

        // The k-th contract of a deployer is at Address::contract(deployer, k).
        let (g, first) = add_contract(&path, contract.clone()).unwrap();
        assert_eq!(first, Address::contract(&a.address(), 0));
        let (g2, second) = add_contract(&path, contract.clone()).unwrap();
        assert_eq!(second, Address::contract(&a.address(), 1));
        assert_eq!(g2.contracts().len(), 2);
        assert_eq!(&g2.contracts()[0], &g.contracts()[0]);
        assert_eq!(read(&path).unwrap(), g2);
        let s = summary(&g2);
        assert!(s.contains("contracts:  2"), "{s}");
        assert!(s.contains(&first.to_string()) && s.contains(&second.to_string()), "{s}");
        assert!(s.contains(&contract.code_hash().to_string()), "{s}");

        // Refused at once, the file untouched: code that is not wasm, an `init` that fails, an unknown deployer.
        let before = std::fs::read(&path).unwrap();
        let not_wasm = GenesisContract { code: b"not wasm".to_vec(), ..contract.clone() };
        let err = format!("{:#}", add_contract(&path, not_wasm).unwrap_err());
        assert!(err.contains("invalid_code"), "{err}");
        let no_init_args = GenesisContract { init_args: Vec::new(), ..contract.clone() };
        let err = format!("{:#}", add_contract(&path, no_init_args).unwrap_err());
        assert!(err.contains("deploy failed"), "{err}");
        let stranger = Keypair::from_seed(&[9; 32]).public().address();
        let err = format!(
            "{:#}",
            add_contract(&path, GenesisContract { deployer: stranger, ..contract }).unwrap_err()
        );
        assert!(err.contains("not a genesis account"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);

        assert!(parse_hex("").unwrap().is_empty());
        assert!(parse_hex("0xzz").is_err());
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
