//! The command line (clap derive) and the small commands: init, keys, genesis, status, snapshot; `purse tx`
//! is in [`crate::tx_cmd`].

use crate::config::{Config, LogFormat, CONFIG_FILE, DB_DIR};
use crate::{genesis_cmd, keys};
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Default RPC URL of `purse status`.
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:26657";

/// Purse: a permissioned BFT ledger for digital wallets.
#[derive(Debug, Parser)]
#[command(name = "purse", version, about, propagate_version = true)]
pub struct Cli {
    /// Log format (overrides the config file's `log.format`).
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--home DIR`.
#[derive(Debug, Args)]
pub struct Home {
    /// The node's home directory (config.toml, keys/, data/).
    #[arg(long)]
    pub home: PathBuf,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a home directory: config.toml (every option documented), keys/validator.key, data/.
    Init {
        /// Home directory.
        #[command(flatten)]
        home: Home,
        /// A name for the node (logs).
        #[arg(long)]
        moniker: Option<String>,
        /// Overwrite an existing config.toml (the key is never replaced; see `purse keys generate --force`).
        #[arg(long)]
        force: bool,
    },
    /// Show or create the validator key.
    Keys {
        /// Subcommand.
        #[command(subcommand)]
        cmd: KeysCmd,
    },
    /// Write and edit genesis documents.
    Genesis {
        /// Subcommand.
        #[command(subcommand)]
        cmd: GenesisCmd,
    },
    /// Run a node.
    Node {
        /// Subcommand.
        #[command(subcommand)]
        cmd: NodeCmd,
    },
    /// Print a running node's status (GET /status).
    Status {
        /// The node's RPC URL.
        #[arg(long, default_value = DEFAULT_RPC_URL)]
        rpc: String,
    },
    /// An account's committed transactions, read with a signed request: your own, or anyone's as an auditor.
    History(crate::history_cmd::HistoryOpts),
    /// State snapshots (backups).
    Snapshot {
        /// Subcommand.
        #[command(subcommand)]
        cmd: SnapshotCmd,
    },
    /// Build, sign and submit governance and permission transactions (docs/governance.md, "CLI").
    Tx {
        /// Subcommand.
        #[command(subcommand)]
        cmd: crate::tx_cmd::TxCmd,
    },
}

/// `purse keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Print the public key, address and libp2p peer id of the validator key.
    Show {
        /// Home directory.
        #[command(flatten)]
        home: Home,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create the validator key (refuses to replace one unless --force).
    Generate {
        /// Home directory.
        #[command(flatten)]
        home: Home,
        /// Replace an existing key (the old one is lost).
        #[arg(long)]
        force: bool,
    },
}

/// `purse genesis …`.
#[derive(Debug, Subcommand)]
pub enum GenesisCmd {
    /// Write a new genesis document.
    New {
        /// Chain id (letters, digits, `-`, `.`, `_`).
        #[arg(long)]
        chain_id: String,
        /// A validator, `PUBKEY[:POWER]` (hex key; power 10 by default). Repeat for each.
        #[arg(long = "validator", required = true)]
        validators: Vec<String>,
        /// An account, `PUBKEY:BALANCE[:TIER]` (native balance in smallest units). Repeat for each.
        #[arg(long = "account")]
        accounts: Vec<String>,
        /// Genesis time in ms since the Unix epoch (default: now).
        #[arg(long)]
        genesis_time_ms: Option<u64>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Add a validator to a genesis file.
    AddValidator {
        /// The genesis file.
        #[arg(long)]
        file: PathBuf,
        /// `PUBKEY[:POWER]`.
        validator: String,
    },
    /// Add an account to a genesis file.
    AddAccount {
        /// The genesis file.
        #[arg(long)]
        file: PathBuf,
        /// `PUBKEY:BALANCE[:TIER]`.
        account: String,
        /// A role to grant (AssetIssuer, Merchant, Auditor, …). Repeat for several.
        #[arg(long = "role")]
        roles: Vec<String>,
    },
    /// Add an asset (issued by a genesis account) to a genesis file.
    AddAsset {
        /// The genesis file.
        #[arg(long)]
        file: PathBuf,
        /// Ticker.
        #[arg(long)]
        symbol: String,
        /// Decimals of the smallest unit.
        #[arg(long)]
        decimals: u8,
        /// Issuer address (`purse1…`), a genesis account.
        #[arg(long)]
        issuer: String,
        /// Issuer may freeze holdings.
        #[arg(long)]
        freezable: bool,
        /// Holders need the issuer's authorisation.
        #[arg(long)]
        authorization_required: bool,
        /// Issuer may claw back.
        #[arg(long)]
        clawback: bool,
    },
    /// Add a contract deployed at genesis (trusted: no deployment allow-list) to a genesis file; prints its
    /// address.
    AddContract {
        /// The genesis file.
        #[arg(long)]
        file: PathBuf,
        /// The contract's wasm module.
        #[arg(long)]
        wasm: PathBuf,
        /// The deploying account (`purse1…`), a genesis account. Its k-th genesis contract (from 0) is at the
        /// address its Deploy transaction with nonce k would get.
        #[arg(long)]
        deployer: String,
        /// Who may upgrade the contract (`purse1…`), or `governance` for a system contract that only passed
        /// governance proposals upgrade; without it the contract is immutable.
        #[arg(long)]
        admin: Option<String>,
        /// Arguments of `init`, hex (borsh by convention); empty by default.
        #[arg(long, default_value = "")]
        init_args: String,
        /// Fuel the deploy may use (at most the genesis `params.max_tx_fuel`).
        #[arg(long, default_value_t = purse_runtime::DEFAULT_GENESIS_CONTRACT_FUEL)]
        fuel_limit: u64,
    },
    /// Check a genesis file and print a summary (with the genesis hash every validator must agree on).
    Show {
        /// The genesis file.
        #[arg(long)]
        file: PathBuf,
    },
}

/// `purse node …`.
#[derive(Debug, Subcommand)]
pub enum NodeCmd {
    /// Run the node until SIGINT/SIGTERM.
    Run {
        /// Home directory.
        #[command(flatten)]
        home: Home,
        /// Single-validator development chain (initialises the home and a genesis if missing).
        #[arg(long)]
        dev: bool,
        /// RPC listen address `HOST:PORT` (overrides rpc.addr).
        #[arg(long)]
        rpc_addr: Option<String>,
        /// libp2p listen multiaddr (overrides p2p.listen_addr).
        #[arg(long)]
        p2p_addr: Option<String>,
    },
}

/// `purse snapshot …`.
#[derive(Debug, Subcommand)]
pub enum SnapshotCmd {
    /// Write the committed state at a height to a file (stop the node first: the database is locked).
    Export {
        /// Home directory.
        #[command(flatten)]
        home: Home,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Height (default: the last committed one).
        #[arg(long)]
        height: Option<u64>,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init { home, moniker, force } => {
            let info = init_home(&home.home, moniker.as_deref().unwrap_or("purse-node"), force)?;
            println!("initialised {}\n{info}", home.home.display());
            println!(
                "next: write a genesis (`purse genesis new …`) to {}, then `purse node run --home {}`",
                home.home.join(crate::config::DEFAULT_GENESIS_FILE).display(),
                home.home.display()
            );
            Ok(())
        }
        Command::Keys { cmd } => keys_cmd(cmd),
        Command::Genesis { cmd } => genesis(cmd),
        Command::Node { cmd: NodeCmd::Run { home, dev, rpc_addr, p2p_addr } } => {
            crate::node::run(crate::node::RunOptions {
                home: home.home,
                dev,
                rpc_addr,
                p2p_addr,
                log_format: cli.log_format,
            })
        }
        Command::Status { rpc } => status(&rpc),
        Command::History(o) => crate::history_cmd::run(&o),
        Command::Snapshot { cmd } => snapshot(cmd),
        Command::Tx { cmd } => crate::tx_cmd::run(cmd),
    }
}

fn key_path(home: &Path) -> PathBuf {
    match Config::load(home) {
        Ok(c) => Config::resolve(home, &c.key_file),
        Err(_) => home.join(crate::config::DEFAULT_KEY_FILE),
    }
}

/// Creates a home: config.toml, keys/validator.key (kept if present), data/. Returns the key's identifiers.
pub fn init_home(home: &Path, moniker: &str, force: bool) -> Result<keys::KeyInfo> {
    let config_path = home.join(CONFIG_FILE);
    if config_path.exists() && !force {
        bail!("{} already exists (pass --force to overwrite it)", config_path.display());
    }
    std::fs::create_dir_all(home).with_context(|| format!("creating {}", home.display()))?;
    let config = Config { moniker: moniker.to_string(), ..Config::default() };
    std::fs::create_dir_all(Config::resolve(home, &config.data_dir))?;
    let key_path = Config::resolve(home, &config.key_file);
    let key = if key_path.exists() {
        keys::read_key_file(&key_path)?
    } else {
        let k = keys::generate();
        keys::write_key_file(&key_path, &k, false)?;
        k
    };
    config.save(home)?;
    keys::KeyInfo::of(&key.public())
}

fn keys_cmd(cmd: KeysCmd) -> Result<()> {
    match cmd {
        KeysCmd::Show { home, json } => {
            let key = keys::read_key_file(&key_path(&home.home))?;
            let info = keys::KeyInfo::of(&key.public())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&info)?);
            } else {
                println!("{info}");
            }
            Ok(())
        }
        KeysCmd::Generate { home, force } => {
            let path = key_path(&home.home);
            let key = keys::generate();
            keys::write_key_file(&path, &key, force)?;
            println!("wrote {}\n{}", path.display(), keys::KeyInfo::of(&key.public())?);
            Ok(())
        }
    }
}

fn genesis(cmd: GenesisCmd) -> Result<()> {
    match cmd {
        GenesisCmd::New { chain_id, validators, accounts, genesis_time_ms, out, force } => {
            if out.exists() && !force {
                bail!("{} already exists (pass --force to overwrite it)", out.display());
            }
            let validators =
                validators.iter().map(|v| genesis_cmd::parse_validator(v)).collect::<Result<Vec<_>>>()?;
            let accounts =
                accounts.iter().map(|a| genesis_cmd::parse_account(a)).collect::<Result<Vec<_>>>()?;
            let g = genesis_cmd::new_genesis(&chain_id, validators, accounts, genesis_time_ms)?;
            genesis_cmd::write(&out, &g)?;
            print!("wrote {}\n{}", out.display(), genesis_cmd::summary(&g));
            Ok(())
        }
        GenesisCmd::AddValidator { file, validator } => {
            let g = genesis_cmd::add_validator(&file, genesis_cmd::parse_validator(&validator)?)?;
            print!("{}", genesis_cmd::summary(&g));
            Ok(())
        }
        GenesisCmd::AddAccount { file, account, roles } => {
            let mut a = genesis_cmd::parse_account(&account)?;
            for r in &roles {
                a.roles.push(genesis_cmd::parse_role(r)?);
            }
            let g = genesis_cmd::add_account(&file, a)?;
            print!("{}", genesis_cmd::summary(&g));
            Ok(())
        }
        GenesisCmd::AddAsset {
            file,
            symbol,
            decimals,
            issuer,
            freezable,
            authorization_required,
            clawback,
        } => {
            let issuer =
                purse_types::Address::parse(&issuer).with_context(|| format!("issuer {issuer:?}"))?;
            let flags =
                purse_types::AssetFlags { authorization_required, freezable, clawback_enabled: clawback };
            let g = genesis_cmd::add_asset(&file, &symbol, decimals, issuer, flags)?;
            print!("{}", genesis_cmd::summary(&g));
            Ok(())
        }
        GenesisCmd::AddContract { file, wasm, deployer, admin, init_args, fuel_limit } => {
            let parse =
                |what: &str, s: &str| purse_types::Address::parse(s).with_context(|| format!("{what} {s:?}"));
            let contract = purse_runtime::GenesisContract {
                code: genesis_cmd::read_wasm(&wasm)?,
                init_args: genesis_cmd::parse_hex(&init_args)?,
                admin: match admin.as_deref() {
                    Some("governance") => Some(purse_runtime::governance::governance_address()),
                    Some(a) => Some(parse("admin", a)?),
                    None => None,
                },
                deployer: parse("deployer", &deployer)?,
                fuel_limit,
            };
            let (g, address) = genesis_cmd::add_contract(&file, contract)?;
            print!("{}", genesis_cmd::summary(&g));
            println!("contract address: {address}");
            Ok(())
        }
        GenesisCmd::Show { file } => {
            print!("{}", genesis_cmd::summary(&genesis_cmd::read(&file)?));
            Ok(())
        }
    }
}

fn status(rpc: &str) -> Result<()> {
    let resp = crate::http::get(rpc, "/status")?;
    let text = match resp.json() {
        Ok(v) => serde_json::to_string_pretty(&v)?,
        Err(_) => resp.text(),
    };
    if resp.status != 200 {
        bail!("GET {rpc}/status: HTTP {}: {text}", resp.status);
    }
    println!("{text}");
    Ok(())
}

fn snapshot(cmd: SnapshotCmd) -> Result<()> {
    match cmd {
        SnapshotCmd::Export { home, out, height } => {
            let home = home.home;
            let config = Config::load(&home)?;
            let genesis = genesis_cmd::read(&Config::resolve(&home, &config.genesis_file))?;
            let db = Config::resolve(&home, &config.data_dir).join(DB_DIR);
            let store = std::sync::Arc::new(
                purse_storage::RocksStore::open(&db, purse_storage::RocksConfig::default())
                    .with_context(|| format!("opening {} (is the node still running?)", db.display()))?,
            );
            let storage = purse_storage::Storage::open(
                store,
                genesis.chain_id.as_str(),
                purse_state::StateConfig::default(),
            )?;
            let head = storage.head().map(|h| h.height).unwrap_or(0);
            let height = height.unwrap_or(head);
            let header = storage.export_snapshot(height, &out)?;
            println!(
                "wrote {}: chain {} height {} block {} state root {} ({} entries)",
                out.display(),
                header.chain_id,
                header.height,
                header.block_hash,
                header.state_root,
                header.count
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn genesis_add_contract_command_appends_a_contract() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("genesis.json");
        let v = purse_types::Keypair::from_seed(&[1; 32]).public();
        let a = purse_types::Keypair::from_seed(&[3; 32]).public();
        let g = genesis_cmd::new_genesis(
            "purse-test",
            vec![genesis_cmd::parse_validator(&v.to_hex()).unwrap()],
            vec![genesis_cmd::parse_account(&format!("{}:1000", a.to_hex())).unwrap()],
            Some(5),
        )
        .unwrap();
        genesis_cmd::write(&file, &g).unwrap();
        let wasm = dir.path().join("counter.wasm");
        std::fs::write(&wasm, genesis_cmd::tests::counter_wasm()).unwrap();
        let deployer = a.address().to_string();
        let args = |init_args: &str| {
            Cli::try_parse_from([
                "purse",
                "genesis",
                "add-contract",
                "--file",
                file.to_str().unwrap(),
                "--wasm",
                wasm.to_str().unwrap(),
                "--deployer",
                &deployer,
                "--admin",
                &deployer,
                "--init-args",
                init_args,
                "--fuel-limit",
                "20000000",
            ])
            .unwrap()
        };
        run(args("0700000000000000")).unwrap();
        let g = genesis_cmd::read(&file).unwrap();
        assert_eq!(g.contracts().len(), 1);
        let c = &g.contracts()[0];
        assert_eq!(c.init_args, 7u64.to_le_bytes().to_vec());
        assert_eq!((c.admin, c.deployer, c.fuel_limit), (Some(a.address()), a.address(), 20_000_000));
        assert_eq!(g.contract_addresses(), vec![purse_types::Address::contract(&a.address(), 0)]);
        // A failing `init` (the counter needs its start value) is refused and the file keeps one contract.
        assert!(run(args("")).is_err());
        assert_eq!(genesis_cmd::read(&file).unwrap().contracts().len(), 1);
    }

    #[test]
    fn init_creates_home_and_refuses_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("h");
        let info = init_home(&home, "n1", false).unwrap();
        let c = Config::load(&home).unwrap();
        assert_eq!(c.moniker, "n1");
        assert!(home.join("data").is_dir());
        let key = keys::read_key_file(&home.join("keys/validator.key")).unwrap();
        assert_eq!(key.public(), info.public_key);
        assert!(init_home(&home, "n1", false).is_err());
        // --force rewrites the config but keeps the key.
        let again = init_home(&home, "n2", true).unwrap();
        assert_eq!(again.public_key, info.public_key);
    }
}
