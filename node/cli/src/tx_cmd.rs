//! `purse tx …`: builds, signs and submits governance and permission transactions over the RPC
//! (docs/governance.md, "CLI").
//!
//! Every command reads the signer's key file (`--key`), fills in what it is not told from the node — the chain
//! id (`GET /status`), the next nonce (`GET /account/{sender}`: `pending_nonce`, else `nonce`) and the expiry
//! height (the node's height plus `--expiry-blocks`) — signs, `POST`s `/tx` and prints a JSON object with the
//! transaction id (and, for a proposal, the proposal id). With `--wait` it polls `GET /tx/{id}` until the
//! transaction is committed and adds the receipt's outcome; a failed receipt makes the command fail.

use crate::cli::DEFAULT_RPC_URL;
use crate::genesis_cmd;
use anyhow::{anyhow, bail, Context, Result};
use clap::{ArgAction, Args, Subcommand};
use purse_types::{
    Address, AdminOp, Amount, AssetId, GovernanceAction, GovernanceOp, Hash, Payload, PublicKey, Role,
    TierLimits, ValidatorUpdate,
};
use std::path::PathBuf;

/// Default `--max-fee`, smallest native units.
pub const DEFAULT_MAX_FEE: u128 = 1_000_000;
/// Default `--expiry-blocks`.
pub const DEFAULT_EXPIRY_BLOCKS: u64 = 1000;
/// Default `--wait-timeout`, seconds.
pub const DEFAULT_WAIT_SECS: u64 = 60;
/// Default `--fuel-limit` of `propose upgrade-contract`.
pub const DEFAULT_FUEL_LIMIT: u64 = 50_000_000;

/// Options every `purse tx` command takes.
#[derive(Debug, Clone, Args)]
pub struct TxOpts {
    /// The signer's key file (64 hex characters, an ed25519 seed; e.g. a node home's keys/dev-account.key).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The node's RPC URL.
    #[arg(long, default_value = DEFAULT_RPC_URL)]
    pub rpc: String,
    /// Chain id (default: the node's, from GET /status).
    #[arg(long)]
    pub chain_id: Option<String>,
    /// Nonce (default: the sender's next one, from GET /account/{sender}).
    #[arg(long)]
    pub nonce: Option<u64>,
    /// Most the sender will pay in fees, smallest native units.
    #[arg(long, default_value_t = DEFAULT_MAX_FEE)]
    pub max_fee: u128,
    /// The transaction expires this many blocks after the node's current height.
    #[arg(long, default_value_t = DEFAULT_EXPIRY_BLOCKS)]
    pub expiry_blocks: u64,
    /// Wait until the transaction is committed and print its receipt's outcome (fails if the receipt does).
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, seconds.
    #[arg(long, default_value_t = DEFAULT_WAIT_SECS)]
    pub wait_timeout: u64,
}

/// `purse tx …`.
#[derive(Debug, Subcommand)]
pub enum TxCmd {
    /// Propose a governance action (governance keys only; proposing counts as the proposer's approval).
    Propose {
        /// The action.
        #[command(subcommand)]
        action: ProposeCmd,
    },
    /// Vote on an open proposal (governance keys only).
    Vote {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// The proposal id (hex), as `purse tx propose` printed it.
        #[arg(long)]
        proposal: String,
        /// Vote against (default: for).
        #[arg(long)]
        reject: bool,
    },
    /// A permissioned operation of a role holder, role administrator or asset issuer.
    Admin {
        /// The operation.
        #[command(subcommand)]
        op: AdminCmd,
    },
}

/// `--account ADDR --role ROLE`.
#[derive(Debug, Clone, Args)]
pub struct AccountRole {
    /// The account (`purse1…`).
    #[arg(long)]
    pub account: String,
    /// The role: OnboardingAuthority, AssetIssuer, Merchant, TokenServiceProvider, ExchangeOperator, RateFeed,
    /// Auditor.
    #[arg(long)]
    pub role: String,
}

/// `purse tx propose …`: one subcommand per `GovernanceAction`.
#[derive(Debug, Subcommand)]
pub enum ProposeCmd {
    /// Grant a role to an account.
    GrantRole {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// Account and role.
        #[command(flatten)]
        target: AccountRole,
    },
    /// Revoke a role from an account.
    RevokeRole {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// Account and role.
        #[command(flatten)]
        target: AccountRole,
    },
    /// Name (or, without --admin, remove) the account that may grant and revoke a role without a proposal.
    SetRoleAdmin {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// The role.
        #[arg(long)]
        role: String,
        /// Its administrator (`purse1…`); omit to remove it.
        #[arg(long)]
        admin: Option<String>,
    },
    /// Allow (or with --disallow remove) a contract code hash on the deployment allow-list.
    AllowCode {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// The code hash (hex, `purse_vm::code_hash`, as in contracts/artifacts/hashes.txt).
        #[arg(long)]
        code_hash: String,
        /// Remove it from the allow-list.
        #[arg(long)]
        disallow: bool,
    },
    /// Open deployment on or off.
    SetOpenDeployment {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// `true` or `false`.
        #[arg(long, action = ArgAction::Set)]
        open: bool,
    },
    /// Set a chain parameter (fee_base, fee_per_byte, max_block_bytes, max_block_txs, fee_per_kfuel,
    /// max_tx_fuel, max_block_fuel).
    SetParameter {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// Parameter name.
        #[arg(long)]
        name: String,
        /// New value.
        #[arg(long)]
        value: u128,
    },
    /// Set a tier's payment limits for an asset; without --per-tx and --daily, remove them (unlimited).
    SetTierLimits {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// The tier.
        #[arg(long)]
        tier: u8,
        /// The asset id (hex).
        #[arg(long)]
        asset: String,
        /// Most one transaction may debit (smallest units; omitted with --daily: unbounded).
        #[arg(long)]
        per_tx: Option<u128>,
        /// Most one UTC day's debits may add up to (smallest units; omitted with --per-tx: unbounded).
        #[arg(long)]
        daily: Option<u128>,
    },
    /// Change validators' voting power (takes effect 2 blocks after the proposal passes).
    ValidatorSetChange {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// `PUBKEY:POWER` (hex consensus key; power 0 removes the validator). Repeat for each.
        #[arg(long = "update", required = true, value_name = "PUBKEY:POWER")]
        updates: Vec<String>,
    },
    /// Replace the governance keys, the threshold and the voting period.
    SetGovernance {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// A governance public key (hex; a registered account's key). Repeat for each.
        #[arg(long = "governance-key", required = true, value_name = "PUBKEY")]
        keys: Vec<String>,
        /// Approvals a proposal needs (1..=number of keys).
        #[arg(long)]
        threshold: u16,
        /// Blocks a proposal stays open for votes.
        #[arg(long)]
        voting_period: u64,
    },
    /// Upgrade a system contract (one whose administrator is governance), running the new code's `migrate`.
    UpgradeContract {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// The contract (`purse1…`).
        #[arg(long)]
        contract: String,
        /// The new wasm module.
        #[arg(long)]
        wasm: PathBuf,
        /// Arguments of `migrate`, hex (borsh by convention); empty by default.
        #[arg(long, default_value = "")]
        migrate_args: String,
        /// Fuel `migrate` may use (at most the chain's `max_tx_fuel`).
        #[arg(long, default_value_t = DEFAULT_FUEL_LIMIT)]
        fuel_limit: u64,
    },
}

/// `purse tx admin …`: one subcommand per `AdminOp`.
#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Register a new account (onboarding authority).
    Onboard {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// The new account's public key (hex); its address is derived from it.
        #[arg(long)]
        public_key: String,
        /// KYC tier.
        #[arg(long)]
        tier: u8,
    },
    /// Change an account's tier (onboarding authority).
    SetTier {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// The account (`purse1…`).
        #[arg(long)]
        account: String,
        /// New tier.
        #[arg(long)]
        tier: u8,
    },
    /// Grant a role (the role's administrator).
    GrantRole {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// Account and role.
        #[command(flatten)]
        target: AccountRole,
    },
    /// Revoke a role (the role's administrator).
    RevokeRole {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// Account and role.
        #[command(flatten)]
        target: AccountRole,
    },
    /// Authorize (or with --revoke de-authorize) a holder of an authorization-required asset (its issuer).
    AuthorizeHolder {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// The asset id (hex).
        #[arg(long)]
        asset: String,
        /// The holder (`purse1…`).
        #[arg(long)]
        account: String,
        /// De-authorize.
        #[arg(long)]
        revoke: bool,
    },
    /// Freeze (or with --unfreeze unfreeze) one account's holding of a freezable asset (its issuer).
    FreezeHolding {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// The asset id (hex).
        #[arg(long)]
        asset: String,
        /// The holder (`purse1…`).
        #[arg(long)]
        account: String,
        /// Unfreeze.
        #[arg(long)]
        unfreeze: bool,
    },
    /// Freeze (or with --unfreeze unfreeze) a freezable asset as a whole (its issuer).
    FreezeAsset {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// The asset id (hex).
        #[arg(long)]
        asset: String,
        /// Unfreeze.
        #[arg(long)]
        unfreeze: bool,
    },
    /// Take public units of a clawback-enabled asset back from a holder (its issuer).
    Clawback {
        /// Common options.
        #[command(flatten)]
        opts: TxOpts,
        /// The asset id (hex).
        #[arg(long)]
        asset: String,
        /// The holder (`purse1…`).
        #[arg(long)]
        from: String,
        /// How much, smallest units.
        #[arg(long)]
        amount: u128,
    },
}

/// Runs `purse tx …`: prints the result JSON on stdout.
pub fn run(cmd: TxCmd) -> Result<()> {
    let (opts, payload) = build(cmd)?;
    crate::tx_submit::submit(&opts, payload)
}

/// The options and payload a command stands for: parses every argument (and reads `--wasm`), without network.
pub fn build(cmd: TxCmd) -> Result<(TxOpts, Payload)> {
    Ok(match cmd {
        TxCmd::Propose { action } => {
            let (opts, action) = propose_action(action)?;
            (opts, Payload::Governance(GovernanceOp::Propose { action }))
        }
        TxCmd::Vote { opts, proposal, reject } => {
            let proposal = parse_hash("proposal id", &proposal)?;
            (opts, Payload::Governance(GovernanceOp::Vote { proposal, approve: !reject }))
        }
        TxCmd::Admin { op } => {
            let (opts, op) = admin_op(op)?;
            (opts, Payload::Admin(op))
        }
    })
}

fn propose_action(cmd: ProposeCmd) -> Result<(TxOpts, GovernanceAction)> {
    Ok(match cmd {
        ProposeCmd::GrantRole { opts, target } => {
            let (account, role) = account_role(&target)?;
            (opts, GovernanceAction::GrantRole { account, role })
        }
        ProposeCmd::RevokeRole { opts, target } => {
            let (account, role) = account_role(&target)?;
            (opts, GovernanceAction::RevokeRole { account, role })
        }
        ProposeCmd::SetRoleAdmin { opts, role, admin } => {
            let role = genesis_cmd::parse_role(&role)?;
            let admin = admin.as_deref().map(|a| parse_address("--admin", a)).transpose()?;
            (opts, GovernanceAction::SetRoleAdmin { role, admin })
        }
        ProposeCmd::AllowCode { opts, code_hash, disallow } => {
            let code_hash = parse_hash("--code-hash", &code_hash)?;
            (opts, GovernanceAction::AllowCode { code_hash, allowed: !disallow })
        }
        ProposeCmd::SetOpenDeployment { opts, open } => (opts, GovernanceAction::SetOpenDeployment { open }),
        ProposeCmd::SetParameter { opts, name, value } => {
            if name.trim().is_empty() {
                bail!("--name: the parameter name is empty");
            }
            (opts, GovernanceAction::SetParameter { name, value })
        }
        ProposeCmd::SetTierLimits { opts, tier, asset, per_tx, daily } => {
            let asset = parse_asset("--asset", &asset)?;
            let limits = match (per_tx, daily) {
                (None, None) => None,
                (p, d) => Some(TierLimits {
                    per_tx: Amount(p.unwrap_or(u128::MAX)),
                    daily: Amount(d.unwrap_or(u128::MAX)),
                }),
            };
            (opts, GovernanceAction::SetTierLimits { tier, asset, limits })
        }
        ProposeCmd::ValidatorSetChange { opts, updates } => {
            let updates = updates.iter().map(|u| parse_update(u)).collect::<Result<Vec<_>>>()?;
            (opts, GovernanceAction::ValidatorSetChange { updates })
        }
        ProposeCmd::SetGovernance { opts, keys, threshold, voting_period } => {
            let keys =
                keys.iter().map(|k| parse_public_key("--governance-key", k)).collect::<Result<Vec<_>>>()?;
            if threshold == 0 || usize::from(threshold) > keys.len() {
                bail!("--threshold {threshold}: must be between 1 and the number of keys ({})", keys.len());
            }
            (opts, GovernanceAction::SetGovernance { keys, threshold, voting_period })
        }
        ProposeCmd::UpgradeContract { opts, contract, wasm, migrate_args, fuel_limit } => {
            let action = GovernanceAction::UpgradeContract {
                contract: parse_address("--contract", &contract)?,
                code: genesis_cmd::read_wasm(&wasm)?,
                migrate_args: genesis_cmd::parse_hex(&migrate_args).context("--migrate-args")?,
                fuel_limit,
            };
            (opts, action)
        }
    })
}

fn admin_op(cmd: AdminCmd) -> Result<(TxOpts, AdminOp)> {
    Ok(match cmd {
        AdminCmd::Onboard { opts, public_key, tier } => {
            let public_key = parse_public_key("--public-key", &public_key)?;
            (opts, AdminOp::Onboard { public_key, tier })
        }
        AdminCmd::SetTier { opts, account, tier } => {
            (opts, AdminOp::SetTier { account: parse_address("--account", &account)?, tier })
        }
        AdminCmd::GrantRole { opts, target } => {
            let (account, role) = account_role(&target)?;
            (opts, AdminOp::GrantRole { account, role })
        }
        AdminCmd::RevokeRole { opts, target } => {
            let (account, role) = account_role(&target)?;
            (opts, AdminOp::RevokeRole { account, role })
        }
        AdminCmd::AuthorizeHolder { opts, asset, account, revoke } => {
            let op = AdminOp::AuthorizeHolder {
                asset: parse_asset("--asset", &asset)?,
                account: parse_address("--account", &account)?,
                authorized: !revoke,
            };
            (opts, op)
        }
        AdminCmd::FreezeHolding { opts, asset, account, unfreeze } => {
            let op = AdminOp::FreezeHolding {
                asset: parse_asset("--asset", &asset)?,
                account: parse_address("--account", &account)?,
                frozen: !unfreeze,
            };
            (opts, op)
        }
        AdminCmd::FreezeAsset { opts, asset, unfreeze } => {
            (opts, AdminOp::FreezeAsset { asset: parse_asset("--asset", &asset)?, frozen: !unfreeze })
        }
        AdminCmd::Clawback { opts, asset, from, amount } => {
            let op = AdminOp::Clawback {
                asset: parse_asset("--asset", &asset)?,
                from: parse_address("--from", &from)?,
                amount: Amount(amount),
            };
            (opts, op)
        }
    })
}

fn account_role(t: &AccountRole) -> Result<(Address, Role)> {
    Ok((parse_address("--account", &t.account)?, genesis_cmd::parse_role(&t.role)?))
}

fn strip_0x(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix("0x").unwrap_or(s)
}

fn parse_address(what: &str, s: &str) -> Result<Address> {
    Address::parse(s.trim()).with_context(|| format!("{what}: bad address {s:?} (expected purse1…)"))
}

fn parse_hash(what: &str, s: &str) -> Result<Hash> {
    Hash::from_hex(strip_0x(s)).with_context(|| format!("{what}: expected 64 hex characters, got {s:?}"))
}

fn parse_public_key(what: &str, s: &str) -> Result<PublicKey> {
    PublicKey::from_hex(strip_0x(s))
        .with_context(|| format!("{what}: bad public key {s:?} (expected 64 hex characters)"))
}

fn parse_asset(what: &str, s: &str) -> Result<AssetId> {
    let mut id = [0u8; 32];
    hex::decode_to_slice(strip_0x(s), &mut id)
        .with_context(|| format!("{what}: bad asset id {s:?} (expected 64 hex characters)"))?;
    Ok(AssetId(id))
}

fn parse_update(s: &str) -> Result<ValidatorUpdate> {
    let (key, power) = s
        .rsplit_once(':')
        .ok_or_else(|| anyhow!("--update {s:?}: expected PUBKEY:POWER (power 0 removes)"))?;
    let public_key = parse_public_key("--update", key)?;
    let power =
        power.trim().parse::<u64>().with_context(|| format!("--update {s:?}: bad power {power:?}"))?;
    Ok(ValidatorUpdate { public_key, power })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use purse_types::Keypair;

    fn parse(args: &[&str]) -> Result<(TxOpts, Payload)> {
        let mut full = vec!["purse", "tx"];
        full.extend_from_slice(args);
        let cli = Cli::try_parse_from(full)?;
        match cli.command {
            Command::Tx { cmd } => build(cmd),
            other => bail!("not a tx command: {other:?}"),
        }
    }

    fn pk(seed: u8) -> PublicKey {
        Keypair::from_seed(&[seed; 32]).public()
    }

    #[test]
    fn builds_governance_payloads() {
        let a = pk(1).address().to_string();
        let (opts, p) =
            parse(&["propose", "grant-role", "--key", "k", "--account", &a, "--role", "Merchant"]).unwrap();
        assert_eq!(opts.rpc, DEFAULT_RPC_URL);
        assert_eq!(
            (opts.max_fee, opts.expiry_blocks, opts.wait),
            (DEFAULT_MAX_FEE, DEFAULT_EXPIRY_BLOCKS, false)
        );
        let action = GovernanceAction::GrantRole { account: pk(1).address(), role: Role::Merchant };
        assert_eq!(p, Payload::Governance(GovernanceOp::Propose { action }));

        let asset = AssetId::native().to_hex();
        let (_, p) =
            parse(&["propose", "set-tier-limits", "--key", "k", "--tier", "1", "--asset", &asset]).unwrap();
        let action = GovernanceAction::SetTierLimits { tier: 1, asset: AssetId::native(), limits: None };
        assert_eq!(p, Payload::Governance(GovernanceOp::Propose { action }));
        let (_, p) = parse(&[
            "propose",
            "set-tier-limits",
            "--key",
            "k",
            "--tier",
            "1",
            "--asset",
            &asset,
            "--daily",
            "5",
        ])
        .unwrap();
        let limits = Some(TierLimits { per_tx: Amount(u128::MAX), daily: Amount(5) });
        let action = GovernanceAction::SetTierLimits { tier: 1, asset: AssetId::native(), limits };
        assert_eq!(p, Payload::Governance(GovernanceOp::Propose { action }));

        let up = format!("{}:0", pk(2).to_hex());
        let (_, p) = parse(&["propose", "validator-set-change", "--key", "k", "--update", &up]).unwrap();
        let action = GovernanceAction::ValidatorSetChange {
            updates: vec![ValidatorUpdate { public_key: pk(2), power: 0 }],
        };
        assert_eq!(p, Payload::Governance(GovernanceOp::Propose { action }));

        let (_, p) = parse(&["propose", "set-open-deployment", "--key", "k", "--open", "false"]).unwrap();
        let action = GovernanceAction::SetOpenDeployment { open: false };
        assert_eq!(p, Payload::Governance(GovernanceOp::Propose { action }));

        let (g1, g2) = (pk(3).to_hex(), pk(4).to_hex());
        let args =
            ["propose", "set-governance", "--key", "k", "--governance-key", &g1, "--governance-key", &g2];
        let mut with = args.to_vec();
        with.extend_from_slice(&["--threshold", "2", "--voting-period", "100"]);
        let (_, p) = parse(&with).unwrap();
        let action =
            GovernanceAction::SetGovernance { keys: vec![pk(3), pk(4)], threshold: 2, voting_period: 100 };
        assert_eq!(p, Payload::Governance(GovernanceOp::Propose { action }));
        let mut bad = args.to_vec();
        bad.extend_from_slice(&["--threshold", "3", "--voting-period", "100"]);
        assert!(parse(&bad).is_err());

        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("c.wasm");
        std::fs::write(&wasm, b"\0asm").unwrap();
        let c = Address::contract(&pk(1).address(), 0);
        let (cs, ws) = (c.to_string(), wasm.display().to_string());
        let (_, p) = parse(&[
            "propose",
            "upgrade-contract",
            "--key",
            "k",
            "--contract",
            &cs,
            "--wasm",
            &ws,
            "--migrate-args",
            "0x0102",
        ])
        .unwrap();
        let action = GovernanceAction::UpgradeContract {
            contract: c,
            code: b"\0asm".to_vec(),
            migrate_args: vec![1, 2],
            fuel_limit: DEFAULT_FUEL_LIMIT,
        };
        assert_eq!(p, Payload::Governance(GovernanceOp::Propose { action }));

        let h = Hash([7; 32]).to_hex();
        let (_, p) = parse(&["vote", "--key", "k", "--proposal", &h, "--reject"]).unwrap();
        assert_eq!(p, Payload::Governance(GovernanceOp::Vote { proposal: Hash([7; 32]), approve: false }));
    }

    #[test]
    fn builds_admin_payloads_and_refuses_bad_input() {
        let (_, p) =
            parse(&["admin", "onboard", "--key", "k", "--public-key", &pk(5).to_hex(), "--tier", "2"])
                .unwrap();
        assert_eq!(p, Payload::Admin(AdminOp::Onboard { public_key: pk(5), tier: 2 }));
        let a = pk(6).address().to_string();
        let asset = AssetId::native().to_hex();
        let (_, p) =
            parse(&["admin", "clawback", "--key", "k", "--asset", &asset, "--from", &a, "--amount", "42"])
                .unwrap();
        assert_eq!(
            p,
            Payload::Admin(AdminOp::Clawback {
                asset: AssetId::native(),
                from: pk(6).address(),
                amount: Amount(42)
            })
        );
        let (_, p) = parse(&[
            "admin",
            "freeze-holding",
            "--key",
            "k",
            "--asset",
            &asset,
            "--account",
            &a,
            "--unfreeze",
        ])
        .unwrap();
        assert_eq!(
            p,
            Payload::Admin(AdminOp::FreezeHolding {
                asset: AssetId::native(),
                account: pk(6).address(),
                frozen: false
            })
        );

        let err =
            parse(&["admin", "grant-role", "--key", "k", "--account", &a, "--role", "King"]).unwrap_err();
        assert!(format!("{err:#}").contains("unknown role \"King\""), "{err:#}");
        let err = parse(&["admin", "set-tier", "--key", "k", "--account", "purse1nope", "--tier", "1"])
            .unwrap_err();
        assert!(format!("{err:#}").contains("--account"), "{err:#}");
        assert!(parse(&["admin", "freeze-asset", "--key", "k", "--asset", "abcd"]).is_err());
        assert!(parse(&["propose", "validator-set-change", "--key", "k", "--update", "nocolon"]).is_err());
    }
}
