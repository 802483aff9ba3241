//! Committing a block of 10,000 key updates through the authenticated state (root included) on RocksDB,
//! against a raw RocksDB write batch of the same keys and values, measured in the same run.
//!
//! `cargo bench -p purse-storage --bench commit` prints criterion's figures and then
//! `ratio state/raw throughput = X %` (target: at least 25 %): the median of five trials, each committing 32
//! blocks (two checkpoint intervals) on a fresh raw database, then on a fresh state one after the other (each
//! durable before the next is prepared: reported beside it), then on a fresh state pipelined as the node
//! commits (ADR 0020: a block is prepared while the one before it is written; the clock stops when the last
//! is durable) — the ratio's state side.

#![allow(clippy::expect_used)] // a benchmark aborts on any setup failure

use criterion::Criterion;
use purse_state::{Overlay, StateConfig, StateDb};
use purse_storage::{RocksConfig, RocksStore};
use std::sync::Arc;
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
/// Trials of the direct ratio measurement, each a fresh raw side then fresh state sides: single runs on a
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
    db: StateDb<Arc<RocksStore>>,
    version: u64,
}

impl StateSide {
    fn new() -> StateSide {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(RocksStore::open(dir.path(), RocksConfig::default()).expect("open"));
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
        let store = Arc::new(RocksStore::open(_dir.path(), RocksConfig::default()).expect("reopen"));
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

    /// Commits pipelined (ADR 0020): prepares on top of the previous block, whose write may still be in
    /// flight, and submits; the block is durable once the next submit or [`StateDb::settle`] returns.
    fn submit(&mut self, o: Overlay) {
        self.version += 1;
        let mut p = self.db.prepare_commit(self.version, &o).expect("prepare");
        let batch = p.take_batch();
        std::hint::black_box(p.root);
        self.db.submit_commit(p, batch, o).expect("submit");
    }

    /// The overlays of the next `n` blocks, built before a timed run (so that no pending write goes on while
    /// the clock is stopped between blocks).
    fn overlays(&mut self, n: u64) -> Vec<Overlay> {
        let at = self.version;
        let out = (0..n)
            .map(|i| {
                self.version = at + i;
                self.overlay()
            })
            .collect();
        self.version = at;
        out
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
    g.bench_function("state_commit_with_root_pipelined", |b| {
        b.iter_custom(|iters| {
            let overlays = state.overlays(iters);
            let t = Instant::now();
            for o in overlays {
                state.submit(o);
            }
            state.db.settle().expect("settle");
            t.elapsed()
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

/// One trial's times for [`RATIO_ROUNDS`] blocks per side.
#[derive(Clone, Copy)]
struct Trial {
    /// Raw RocksDB write batches.
    raw: Duration,
    /// State commits pipelined, as the node commits (ADR 0020): from the first block's preparation until the
    /// last block is durable.
    state: Duration,
    /// State commits one after the other, each durable before the next is prepared.
    serial: Duration,
}

/// The raw side's and the state sides' times for [`RATIO_ROUNDS`] blocks each, from fresh databases, and the
/// pipelined state side (for the phases and the reopen that follow). Building the inputs is excluded on every
/// side. Each side runs alone, its database closed before the next starts: interleaving them would let one
/// side's background flushes and compactions slow the other's writes.
fn trial() -> (Trial, StateSide) {
    let mut raw = RawSide::new();
    let mut t_raw = Duration::ZERO;
    for _ in 0..RATIO_ROUNDS {
        let b = raw.batch();
        let t = Instant::now();
        raw.write(b);
        t_raw += t.elapsed();
    }
    drop(raw);

    let mut serial = StateSide::new();
    let mut t_serial = Duration::ZERO;
    for _ in 0..RATIO_ROUNDS {
        let o = serial.overlay();
        let t = Instant::now();
        serial.commit(&o);
        t_serial += t.elapsed();
    }
    drop(serial);

    let mut state = StateSide::new();
    let overlays = state.overlays(RATIO_ROUNDS);
    let t = Instant::now();
    for o in overlays {
        state.submit(o);
    }
    state.db.settle().expect("settle");
    let t_state = t.elapsed();
    (Trial { raw: t_raw, state: t_state, serial: t_serial }, state)
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
        let (t, state) = trial();
        trials.push(t);
        last = Some(state);
    }
    let Some(mut state) = last else { return };
    for (i, t) in trials.iter().enumerate() {
        println!(
            "trial {}: state commit {:.1} ms/block pipelined ({:.1} serial), raw RocksDB batch {:.1} ms/block, \
             ratio {:.1} % ({:.1} % serial)",
            i + 1,
            per(t.state),
            per(t.serial),
            per(t.raw),
            pct(t.raw, t.state),
            pct(t.raw, t.serial)
        );
    }
    let mut serial: Vec<f64> = trials.iter().map(|t| pct(t.raw, t.serial)).collect();
    serial.sort_by(f64::total_cmp);
    trials.sort_by(|a, b| pct(a.raw, a.state).total_cmp(&pct(b.raw, b.state)));
    let Trial { raw: t_raw, state: t_state, .. } = trials[trials.len() / 2];

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
        "median trial: state commit {:.1} ms/block pipelined ({:.0} keys/s); raw RocksDB batch: {:.1} ms/block ({:.0} keys/s)",
        per(t_state),
        keys_per_s(t_state),
        per(t_raw),
        keys_per_s(t_raw)
    );
    println!(
        "ratio state/raw throughput = {:.1} % (pipelined commits, median of {RATIO_TRIALS} trials; target >= 25 %); \
         committing each block durably before preparing the next: {:.1} % (median)",
        pct(t_raw, t_state),
        serial[serial.len() / 2]
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
