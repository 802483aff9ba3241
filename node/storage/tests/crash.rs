//! Crash safety with a real process: a child commits blocks and acknowledges each on stdout once it is durable
//! (after `commit_block` returns, or after `settle` for blocks submitted pipelined); the parent kills it with SIGKILL at random moments, reopens the store and checks that the head and
//! state root are consistent and every acknowledged block is there.

// Test helpers outside #[test] functions may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use purse_storage::{RocksConfig, RocksStore, Storage};
use rand::{Rng, SeedableRng};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Environment variable that turns the `child_writer` test into the writer process.
const WRITER_DIR_ENV: &str = "PURSE_CRASH_WRITER_DIR";
/// Kills performed by the parent.
const KILLS: usize = 24;
/// The whole test must finish well within a minute.
const TIME_BUDGET: Duration = Duration::from_secs(55);
/// Highest height a writer commits before exiting on its own (a bound, never reached in practice).
const MAX_HEIGHT: u64 = 100_000;

fn open(dir: &std::path::Path) -> Storage<Arc<RocksStore>> {
    let store = Arc::new(RocksStore::open(dir, RocksConfig::default()).unwrap());
    Storage::open(store, CHAIN, state_config()).unwrap()
}

/// Not a test on its own: the writer process, run by `kill_nine_never_loses_an_acknowledged_block`.
#[test]
fn child_writer() {
    let Ok(dir) = std::env::var(WRITER_DIR_ENV) else { return };
    let mut s = open(std::path::Path::new(&dir));
    let mut next = s.head().map_or(0, |h| h.height + 1);
    let stdout = std::io::stdout();
    while next < MAX_HEIGHT {
        // In rounds of three: a block committed (durable on return), then two submitted pipelined, which are
        // acknowledged only once settled — so kills also land while pipelined writes are in flight.
        let heads = if next.is_multiple_of(3) {
            vec![commit(&mut s, next).unwrap()]
        } else {
            let heads = vec![submit(&mut s, next).unwrap(), submit(&mut s, next + 1).unwrap()];
            s.settle().unwrap();
            heads
        };
        let mut out = stdout.lock();
        for head in heads {
            writeln!(out, "ACK {} {}", head.height, head.state_root.to_hex()).unwrap();
            next = head.height + 1;
        }
        out.flush().unwrap();
    }
}

#[test]
fn kill_nine_never_loses_an_acknowledged_block() {
    let seed: u64 =
        std::env::var("PURSE_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(7, |d| d.as_nanos() as u64)
        });
    eprintln!("crash test seed {seed} (set PURSE_CRASH_SEED to reproduce)");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let mut acked: Vec<(u64, String)> = Vec::new();
    let mut kills = 0;
    while kills < KILLS {
        assert!(started.elapsed() < TIME_BUDGET, "crash test over its time budget after {kills} kills");
        let mut child = Command::new(&exe)
            .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
            .env(WRITER_DIR_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // Kill after a random number of acknowledgements (0 = possibly during open or the first commit),
        // then a random sub-commit delay, so kills land before, inside and after commits.
        let wait_acks = rng.gen_range(0..6u32);
        let mut seen = 0;
        while seen < wait_acks {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(rest) = line.strip_prefix("ACK ") {
                let mut parts = rest.split(' ');
                let h: u64 = parts.next().unwrap().parse().unwrap();
                acked.push((h, parts.next().unwrap().to_string()));
                seen += 1;
            }
        }
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..8_000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        // Acknowledgements already in the pipe were committed before the kill.
        for line in lines.map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("ACK ") {
                let mut parts = rest.split(' ');
                let h: u64 = parts.next().unwrap().parse().unwrap();
                acked.push((h, parts.next().unwrap().to_string()));
            }
        }

        let s = open(dir.path());
        let Some(head) = s.head() else {
            assert!(acked.is_empty(), "acknowledged blocks but the store has no head");
            continue;
        };
        assert_eq!(s.state().latest_version(), Some(head.height));
        assert_eq!(s.state().root(), head.state_root);
        // The tree rebuilt from the latest checkpoint proves against the head's root.
        for k in (0..200u64).step_by(17) {
            let key = format!("acct/{k}").into_bytes();
            let (value, proof) = s.state().get_with_proof(&key, head.height).unwrap();
            proof.verify(&head.state_root, &key, value.as_deref()).unwrap();
        }
        if let Some((last, _)) = acked.last() {
            assert!(head.height >= *last, "head {} behind acknowledged {}", head.height, last);
        }
        for (h, root_hex) in &acked {
            let info = s.block_info(*h).unwrap().unwrap_or_else(|| panic!("acknowledged block {h} lost"));
            assert_eq!(info.state_root.to_hex(), *root_hex);
            assert_eq!(s.block(*h).unwrap(), Some(block_bytes(*h)));
        }
        assert!(s.block(head.height + 1).unwrap().is_none(), "block above the head");
    }
    let s = open(dir.path());
    let head = s.head().expect("at least one block committed over all runs");
    assert_eq!(head.state_root, expected_root(head.height), "state root differs from a replay");
    eprintln!("{kills} kills, head {} , {} acknowledged", head.height, acked.len());
}
