//! Committing a block of 10,000 key updates through the authenticated state (root included) on RocksDB,
//! against a raw RocksDB write batch of the same keys and values, measured in the same run.
//!
//! `cargo bench -p purse-storage --bench commit` prints criterion's figures and then
//! `ratio state/raw throughput = X %` (target: at least 25 %): the median of five trials, each committing 32
//! blocks (two checkpoint intervals) on a fresh raw database and then 32 on a fresh state.

#![allow(clippy::expect_used)] // a benchmark aborts on any setup failure

use criterion::Criterion;
use purse_state::{Overlay, StateConfig, StateDb};
use purse_storage::{RocksConfig, RocksStore};
use std::time::{Duration, Instant};

/// The node binary's allocator (ADR 0017), so the state side allocates as it does in the node (set up as the
/// node sets it up, first thing in `main`).
#[global_allocator]
static ALLOCATOR: purse_alloc::Allocator = purse_alloc::Allocator;

/// Keys updated per block.
const BLOCK_KEYS: usize = 10_000;
/// Keys in the state before measuring.
const INITIAL_KEYS: usize = 100_000;
/// Bytes per value.
const VALUE_LEN: usize = 64;
/// Blocks committed by the direct ratio measurement, per side and trial: two checkpoint intervals
/// ([`purse_state::DEFAULT_CHECKPOINT_INTERVAL`]), so checkpoints weigh in at their steady rate.
const RATIO_ROUNDS: u64 = 2 * purse_state::DEFAULT_CHECKPOINT_INTERVAL;
/// Trials of the direct ratio measurement, each a fresh raw side then a fresh state side: single runs on a
/// 2-core machine vary by a third, so the ratio reported is the median trial's.
const RATIO_TRIALS: usize = 5;

fn key(i: usize) -> Vec<u8> {
    format!("account/{i:08}/balance").into_bytes()
}

fn value(round: u64, i: usize) -> Vec<u8> {
    let mut v = format!("{round}:{i}:").into_bytes();
    v.resize(VALUE_LEN, b'x');
    v
}

/// Keys of block `round`: a spread of existing keys (updates) and new ones.
fn block_keys(round: u64) -> Vec<usize> {
    (0..BLOCK_KEYS).map(|i| (i * 7 + round as usize * 7_919) % (INITIAL_KEYS * 2)).collect()
}

struct StateSide {
    _dir: tempfile::TempDir,
    db: StateDb<RocksStore>,
    version: u64,
}

impl StateSide {
    fn new() -> StateSide {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = RocksStore::open(dir.path(), RocksConfig::default()).expect("open");
        let mut db = StateDb::open(store, StateConfig::default()).expect("state");
        let mut o = Overlay::new();
        for i in 0..INITIAL_KEYS {
            o.put(&key(i), &value(0, i)).expect("put");
        }
        db.commit(0, &o).expect("initial commit");
        StateSide { _dir: dir, db, version: 0 }
    }

    /// Closes the database and opens it again: the node cache starts empty, and the versions after the
    /// latest checkpoint are rebuilt. Returns the time the state took to open.
    fn reopen(self) -> (StateSide, Duration) {
        let StateSide { _dir, db, version } = self;
        drop(db);
        let store = RocksStore::open(_dir.path(), RocksConfig::default()).expect("reopen");
        let t = Instant::now();
        let db = StateDb::open(store, StateConfig::default()).expect("state");
        let opened = t.elapsed();
        (StateSide { _dir, db, version }, opened)
    }

    fn overlay(&self) -> Overlay {
        let round = self.version + 1;
        let mut o = Overlay::new();
        for i in block_keys(round) {
            o.put(&key(i), &value(round, i)).expect("put");
        }
        o
    }

    fn commit(&mut self, o: &Overlay) {
        self.version += 1;
        std::hint::black_box(self.db.commit(self.version, o).expect("commit"));
    }

    /// Commits in timed phases: compute (tree update and hashing), then write (split by RocksDB's perf
    /// context into its write-ahead log and memtable parts) with the commit's in-memory work beside it.
    fn commit_phased(&mut self, o: &Overlay) -> Phases {
        use rocksdb::perf::{PerfContext, PerfMetric};
        self.version += 1;
        let t = Instant::now();
        let mut p = self.db.prepare_commit(self.version, o).expect("prepare");
        let compute = t.elapsed();
        let batch = p.take_batch();
        let ops = batch.len();
        let bytes = batch.byte_len();
        let mut perf = PerfContext::default();
        perf.reset();
        let t = Instant::now();
        self.db.write_commit(p, batch).expect("write");
        let write = t.elapsed();
        let ns = |m| Duration::from_nanos(perf.metric(m));
        Phases {
            compute,
            write,
            wal: ns(PerfMetric::WriteWalTime),
            memtable: ns(PerfMetric::WriteMemtableTime),
            delay: ns(PerfMetric::WriteDelayTime),
            ops,
            bytes,
        }
    }
}

/// Time spent in each part of a commit, summed over blocks.
#[derive(Default)]
struct Phases {
    compute: Duration,
    /// The store's write, with the commit's in-memory work (node cache, upper tree, unwritten nodes) beside it.
    write: Duration,
    /// Of `write`: RocksDB writing (and syncing) its write-ahead log.
    wal: Duration,
    /// Of `write`: RocksDB inserting into its memtables.
    memtable: Duration,
    /// Of `write`: RocksDB delaying the write (stalls while flushes and compactions catch up).
    delay: Duration,
    ops: usize,
    bytes: usize,
}

impl std::ops::AddAssign for Phases {
    fn add_assign(&mut self, o: Phases) {
        self.compute += o.compute;
        self.write += o.write;
        self.wal += o.wal;
        self.memtable += o.memtable;
        self.delay += o.delay;
        self.ops += o.ops;
        self.bytes += o.bytes;
    }
}

struct RawSide {
    _dir: tempfile::TempDir,
    db: rocksdb::DB,
    round: u64,
}

impl RawSide {
    fn new() -> RawSide {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        let db = rocksdb::DB::open(&opts, dir.path()).expect("open");
        let mut b = rocksdb::WriteBatch::default();
        for i in 0..INITIAL_KEYS {
            b.put(key(i), value(0, i));
        }
        db.write(b).expect("initial write");
        RawSide { _dir: dir, db, round: 0 }
    }

    fn batch(&self) -> rocksdb::WriteBatch {
        let round = self.round + 1;
        let mut b = rocksdb::WriteBatch::default();
        for i in block_keys(round) {
            b.put(key(i), value(round, i));
        }
        b
    }

    fn write(&mut self, b: rocksdb::WriteBatch) {
        self.round += 1;
        let mut wo = rocksdb::WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(b, &wo).expect("write");
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("commit_10k_keys");
    g.sample_size(10);
    let mut state = StateSide::new();
    g.bench_function("state_commit_with_root", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let o = state.overlay();
                let t = Instant::now();
                state.commit(&o);
                total += t.elapsed();
            }
            total
        })
    });
    let mut raw = RawSide::new();
    g.bench_function("raw_rocksdb_batch", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch = raw.batch();
                let t = Instant::now();
                raw.write(batch);
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
}

/// The raw side's and the state side's time for [`RATIO_ROUNDS`] blocks each, from fresh databases. Building
/// the inputs is excluded on both sides. Each side runs alone, its database closed before the other starts:
/// interleaving them would let one side's background flushes and compactions slow the other's writes.
fn trial() -> (Duration, Duration, StateSide) {
    let mut raw = RawSide::new();
    let mut t_raw = Duration::ZERO;
    for _ in 0..RATIO_ROUNDS {
        let b = raw.batch();
        let t = Instant::now();
        raw.write(b);
        t_raw += t.elapsed();
    }
    drop(raw);

    let mut state = StateSide::new();
    let mut t_state = Duration::ZERO;
    for _ in 0..RATIO_ROUNDS {
        let o = state.overlay();
        let t = Instant::now();
        state.commit(&o);
        t_state += t.elapsed();
    }
    (t_raw, t_state, state)
}

/// Direct same-run measurement of the ratio: [`RATIO_TRIALS`] trials, reported by the median ratio; then, on
/// the last trial's state, the phases of further blocks and the blocks after a reopen.
fn ratio() {
    let per = |d: Duration| d.as_secs_f64() * 1e3 / RATIO_ROUNDS as f64;
    let keys_per_s = |d: Duration| (BLOCK_KEYS as f64 * RATIO_ROUNDS as f64) / d.as_secs_f64();
    let pct = |raw: Duration, state: Duration| 100.0 * raw.as_secs_f64() / state.as_secs_f64();

    let mut trials = Vec::with_capacity(RATIO_TRIALS);
    let mut last = None;
    for _ in 0..RATIO_TRIALS {
        // The previous trial's database closes before the next trial starts.
        drop(last.take());
        let (t_raw, t_state, state) = trial();
        trials.push((t_raw, t_state));
        last = Some(state);
    }
    let Some(mut state) = last else { return };
    for (i, (t_raw, t_state)) in trials.iter().enumerate() {
        println!(
            "trial {}: state commit {:.1} ms/block, raw RocksDB batch {:.1} ms/block, ratio {:.1} %",
            i + 1,
            per(*t_state),
            per(*t_raw),
            pct(*t_raw, *t_state)
        );
    }
    trials.sort_by(|a, b| pct(a.0, a.1).total_cmp(&pct(b.0, b.1)));
    let (t_raw, t_state) = trials[trials.len() / 2];

    rocksdb::perf::set_perf_stats(rocksdb::perf::PerfStatsLevel::EnableTime);
    let mut phases = Phases::default();
    for _ in 0..RATIO_ROUNDS {
        let o = state.overlay();
        phases += state.commit_phased(&o);
    }
    rocksdb::perf::set_perf_stats(rocksdb::perf::PerfStatsLevel::Disable);
    // After a restart the versions after the latest checkpoint are rebuilt, and every other node a block
    // touches is read from the store (with its children's records and its leaves' values, for their hashes);
    // the blocks after it find them cached.
    // Half an interval more, so that opening rebuilds the versions after the latest checkpoint.
    for _ in 0..purse_state::DEFAULT_CHECKPOINT_INTERVAL / 2 {
        let o = state.overlay();
        state.commit(&o);
    }
    let (mut state, opened) = state.reopen();
    let mut cold = Vec::new();
    for _ in 0..3 {
        let o = state.overlay();
        let t = Instant::now();
        state.commit(&o);
        cold.push(format!("{:.1}", t.elapsed().as_secs_f64() * 1e3));
    }

    println!(
        "state commit phases, ms/block: compute {:.1}; write {:.1} (RocksDB log {:.1}, memtables {:.1}, stalls {:.1}; \
         in-memory work beside it); {} write ops and {:.2} MB/block",
        per(phases.compute),
        per(phases.write),
        per(phases.wal),
        per(phases.memtable),
        per(phases.delay),
        phases.ops / RATIO_ROUNDS as usize,
        phases.bytes as f64 / 1e6 / RATIO_ROUNDS as f64
    );
    println!(
        "median trial: state commit {:.1} ms/block ({:.0} keys/s); raw RocksDB batch: {:.1} ms/block ({:.0} keys/s)",
        per(t_state),
        keys_per_s(t_state),
        per(t_raw),
        keys_per_s(t_raw)
    );
    println!(
        "ratio state/raw throughput = {:.1} % (median of {RATIO_TRIALS} trials; target >= 25 %)",
        pct(t_raw, t_state)
    );
    println!(
        "state opened in {:.0} ms (rebuilding {} versions after the latest checkpoint); commit after the \
         restart (empty node cache), ms for blocks 1-3: {}",
        opened.as_secs_f64() * 1e3,
        (state.version - 3) % purse_state::DEFAULT_CHECKPOINT_INTERVAL,
        cold.join(", ")
    );
}

fn main() {
    purse_alloc::configure();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    ratio();
}
