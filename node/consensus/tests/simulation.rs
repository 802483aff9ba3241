//! Deterministic simulation: agreement, validity, no honest double-sign, liveness after GST and evidence for
//! every equivocation that reached an honest node, over many seeded scenarios with up to f byzantine nodes.
//!
//! * CI: `cargo test -p purse-consensus --test simulation` (1,000 seeds across N ∈ {4, 7, 10}).
//! * Long run: `PURSE_SIM_SEEDS=100000 cargo test -p purse-consensus --release --test simulation -- simulation_seeds`.
//! * Reproduce a failure: `PURSE_SIM_SEED=<n> cargo test -p purse-consensus --test simulation -- simulation_seeds`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod sim;

use sim::{par_map, seeds, Behaviour, Config, Sim, Violation};

#[test]
fn simulation_seeds() {
    let seeds = seeds(1_000);
    let started = std::time::Instant::now();
    let results = par_map(&seeds, |seed| {
        std::panic::catch_unwind(|| Sim::new(Config::random(seed)).run())
            .unwrap_or_else(|_| (vec![Violation::Panic], Default::default()))
    });
    let mut failures = Vec::new();
    let (mut max_round, mut worst_liveness, mut events, mut evidence) = (0, 0, 0, 0);
    let (mut replays, mut refusals, mut synced) = (0, 0, 0);
    for (seed, (violations, stats)) in &results {
        replays += stats.wal_replays;
        refusals += stats.guard_refusals;
        synced += stats.synced;
        max_round = max_round.max(stats.max_round);
        worst_liveness = worst_liveness.max(stats.worst_liveness);
        events += stats.events;
        evidence += stats.evidence;
        if !violations.is_empty() {
            eprintln!("seed {seed} failed: {:?}\n  config: {:?}", violations, Config::random(*seed));
            eprintln!("  reproduce: PURSE_SIM_SEED={seed} cargo test -p purse-consensus --test simulation -- simulation_seeds");
            failures.push(*seed);
        }
    }
    eprintln!(
        "{} seeds in {:.1?}: {events} events, {evidence} evidence records, {replays} WAL replays, \
         {refusals} signer-guard refusals, {synced} sync messages, max round {max_round}, \
         worst post-GST decision {worst_liveness} ms",
        seeds.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "failing seeds (rerun each with PURSE_SIM_SEED=<n>): {failures:?}");
    if seeds.len() >= 1_000 {
        // The scenarios really exercise crash recovery, the guard, block sync and equivocation detection.
        assert!(replays > 0 && refusals > 0 && synced > 0 && evidence > 0);
    }
}

#[test]
fn the_same_seed_replays_the_same_run() {
    for seed in [1u64, 2, 3, 1234] {
        let a = Sim::new(Config::random(seed)).run();
        let b = Sim::new(Config::random(seed)).run();
        assert_eq!(a, b, "seed {seed}");
    }
}

#[test]
fn scenarios_cover_every_behaviour() {
    let mut seen = std::collections::BTreeSet::new();
    let (mut crashes, mut partitions) = (0, 0);
    for seed in 0..200 {
        let cfg = Config::random(seed);
        for b in cfg.byzantine.values() {
            seen.insert(format!("{b:?}"));
        }
        crashes += usize::from(!cfg.crashes.is_empty());
        partitions += usize::from(cfg.partition.is_some());
    }
    for b in [Behaviour::EquivocatingProposer, Behaviour::DoubleVoter, Behaviour::Twin, Behaviour::Amnesia] {
        assert!(seen.contains(&format!("{b:?}")));
    }
    assert!(crashes > 50 && partitions > 50);
}

#[test]
fn more_than_f_byzantine_breaks_safety_and_the_checker_sees_it() {
    let seeds: Vec<u64> = (0..100).collect();
    let results = par_map(&seeds, |seed| Sim::new(Config::twins_overload(seed, 4)).run());
    let broken: Vec<u64> = results
        .iter()
        .filter(|(_, (v, _))| v.iter().any(|v| matches!(v, Violation::Agreement { .. })))
        .map(|(s, _)| *s)
        .collect();
    eprintln!("agreement violated on {} of {} seeds with f + 1 twins", broken.len(), seeds.len());
    assert!(!broken.is_empty(), "with f + 1 twins some seed must violate agreement");
}
