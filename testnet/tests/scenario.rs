//! End to end: four validators in one process run a small wallet scenario; every invariant must hold.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use purse_engine::EngineConfig;
use purse_testnet::{scenario, LocalNet, LocalNetConfig};
use std::time::Duration;

#[test]
fn four_validators_run_the_wallet_scenario_with_identical_chains() {
    let dir = tempfile::tempdir().unwrap();
    let engine = EngineConfig { commit_delay: Duration::from_millis(20), ..EngineConfig::default() };
    let cfg = LocalNetConfig {
        validators: 4,
        wallets: 12,
        merchants: 3,
        standby: 0,
        dir: dir.path().to_path_buf(),
        engine,
    };
    let mut net = LocalNet::start(&cfg).unwrap();
    let s = scenario::run(&mut net, 3, false).unwrap();
    assert!(s.divergent_heights.is_empty(), "validators diverged at {:?}", s.divergent_heights);
    assert_eq!(s.committed, s.submitted, "transactions lost");
    assert_eq!(s.succeeded, s.submitted, "transactions failed");
    assert_eq!(s.supply, s.reloaded - s.redeemed, "e-money audit");
    assert_eq!(s.balances, s.supply, "supply is not the sum of balances");
    assert!(s.height >= 5);
    assert_eq!(s.dropped, 0, "messages dropped while running");
    assert!(s.points_earned > 0, "the loyalty contract awarded no points");
    assert_eq!(s.points_outstanding, s.points_earned - s.points_redeemed, "loyalty books");
}
