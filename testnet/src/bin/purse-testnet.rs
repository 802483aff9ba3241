//! `purse-testnet`: starts a local multi-validator chain and runs the wallet scenario on it.
//!
//! Usage: `purse-testnet [--validators N] [--wallets N] [--merchants N] [--rounds N] [--dir PATH] [--quiet]`

use anyhow::Context as _;
use purse_engine::EngineConfig;
use purse_testnet::{scenario, LocalNet, LocalNetConfig};
use std::time::Duration;

/// The node binary's allocator, set up as the node sets it up (ADR 0017): the validators run in this process.
#[global_allocator]
static ALLOCATOR: purse_alloc::Allocator = purse_alloc::Allocator;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> anyhow::Result<T> {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .with_context(|| format!("{name} needs a value"))?
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}: not a valid value")),
        None => Ok(default),
    }
}

fn main() -> anyhow::Result<()> {
    purse_alloc::configure();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("usage: purse-testnet [--validators N] [--wallets N] [--merchants N] [--rounds N] [--dir PATH] [--quiet]");
        return Ok(());
    }
    let validators: usize = arg(&args, "--validators", 4)?;
    let wallets: usize = arg(&args, "--wallets", 200)?;
    let merchants: usize = arg(&args, "--merchants", 10)?;
    let rounds: usize = arg(&args, "--rounds", 10)?;
    let quiet = args.iter().any(|a| a == "--quiet");
    anyhow::ensure!(validators >= 1, "--validators must be at least 1");
    anyhow::ensure!(wallets >= 2 && merchants >= 1, "need at least 2 wallets and 1 merchant");
    let tmp = tempfile::tempdir()?;
    let dir = match args.iter().position(|a| a == "--dir") {
        Some(i) => std::path::PathBuf::from(args.get(i + 1).context("--dir needs a path")?),
        None => tmp.path().to_path_buf(),
    };
    let engine = EngineConfig { commit_delay: Duration::from_millis(100), ..EngineConfig::default() };
    let cfg = LocalNetConfig { validators, wallets, merchants, standby: 0, dir: dir.clone(), engine };
    println!(
        "purse local testnet: {validators} validators, {wallets} wallets, {merchants} merchants, data in {}",
        dir.display()
    );
    let mut net = LocalNet::start(&cfg)?;
    let s = scenario::run(&mut net, rounds, !quiet)?;
    println!();
    println!("summary");
    println!("  validators            {}", s.validators);
    println!("  blocks committed      {}", s.height);
    println!(
        "  transactions          {} submitted, {} committed, {} succeeded",
        s.submitted, s.committed, s.succeeded
    );
    println!(
        "  throughput            {:.0} tx/s over {:.1} s",
        s.committed as f64 / s.elapsed.as_secs_f64(),
        s.elapsed.as_secs_f64()
    );
    println!("  finality latency      p50 {:?}, p99 {:?}", s.latency_p50, s.latency_p99);
    println!(
        "  identical chains      {}",
        if s.divergent_heights.is_empty() {
            "yes, every height on every validator".to_string()
        } else {
            format!("NO, diverged at {:?}", s.divergent_heights)
        }
    );
    println!(
        "  e-money audit         reloaded {} − redeemed {} = supply {} (Σ balances {})",
        s.reloaded, s.redeemed, s.supply, s.balances
    );
    println!(
        "  loyalty contract      earned {} − redeemed {} = outstanding {} (queried from the contract)",
        s.points_earned, s.points_redeemed, s.points_outstanding
    );
    println!("  dropped messages      {}", s.dropped);
    if s.ok() {
        println!("result: OK");
        Ok(())
    } else {
        anyhow::bail!("result: FAILED — an invariant did not hold (see summary)")
    }
}
