//! `purse history`: an account's committed transactions, read with a signed request (`GET
//! /account/{address}/txs`, docs/rpc.md "Signed requests"): an account reads its own, an auditor anyone's.

use crate::http;
use crate::keys;
use crate::tx_submit::rpc_error;
use anyhow::{bail, Context, Result};
use clap::Args;
use purse_types::Address;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `purse history` options.
#[derive(Debug, Clone, Args)]
pub struct HistoryOpts {
    /// Key file of the reader: the account itself, or an account holding the auditor role.
    #[arg(long)]
    pub key: PathBuf,
    /// The account to read (default: the reader's own).
    #[arg(long)]
    pub address: Option<String>,
    /// The node's RPC URL.
    #[arg(long, default_value = crate::cli::DEFAULT_RPC_URL)]
    pub rpc: String,
    /// Start after this position, `<height>.<index>` (the previous page's `next`).
    #[arg(long)]
    pub after: Option<String>,
    /// Page size, 1 to 100.
    #[arg(long)]
    pub limit: Option<u32>,
}

/// Prints one page of the history as JSON.
pub fn run(o: &HistoryOpts) -> Result<()> {
    let key = keys::read_key_file(&o.key)?;
    let address = match &o.address {
        Some(a) => Address::parse(a).with_context(|| format!("--address {a:?}"))?,
        None => key.public().address(),
    };
    let mut query = Vec::new();
    if let Some(a) = &o.after {
        query.push(format!("after={a}"));
    }
    if let Some(l) = o.limit {
        query.push(format!("limit={l}"));
    }
    let mut path = format!("/account/{address}/txs");
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    let status = http::get(&o.rpc, "/status").with_context(|| format!("GET {}/status", o.rpc))?.json()?;
    let chain_id = status["chain_id"].as_str().context("GET /status has no chain_id")?.to_string();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let auth = purse_rpc::auth::sign_request(&key, &chain_id, &path, now);
    let resp = http::request_with_headers(
        &o.rpc,
        "GET",
        &path,
        None,
        &[(purse_rpc::auth::AUTH_HEADER, &auth)],
        Duration::from_secs(10),
    )?;
    if resp.status != 200 {
        bail!("GET {}{path}: HTTP {}: {}", o.rpc, resp.status, rpc_error(&resp));
    }
    println!("{}", serde_json::to_string_pretty(&resp.json()?)?);
    Ok(())
}
