//! Pipelined commits (ADR 0020): a submitted version is the latest at once, its batch is written by a writer
//! thread, and the store ends up exactly as serial commits leave it.

// Test helpers outside #[test] functions may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{acct as key, mixed_block, model_root, Mix, Model};
use parking_lot::{Condvar, Mutex};
use purse_state::{
    key_successor, Column, Fault, FaultyStore, KvEntry, KvStore, MemoryStore, Overlay, StateConfig, StateDb,
    StateError, StoreError, WriteBatch, MAX_SCAN_LIMIT,
};
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::Duration;

const INTERVAL: u64 = 4;
const MIX: Mix = Mix { changes: 300, stride: 11, shift: 97, keys: 700, delete_every: 7 };

fn config(retained: u64) -> StateConfig {
    StateConfig { retained_versions: retained, checkpoint_interval: INTERVAL, ..Default::default() }
}

/// Prepares `o` as `version` and submits it.
fn submit<S: KvStore + Clone + 'static>(
    db: &mut StateDb<S>,
    version: u64,
    o: Overlay,
) -> Result<(), StateError> {
    let mut p = db.prepare_commit(version, &o)?;
    let batch = p.take_batch();
    db.submit_commit(p, batch, o)
}

/// Every record of the store, column by column.
fn dump(store: &MemoryStore) -> Vec<(Column, KvEntry)> {
    let mut out = Vec::new();
    for column in Column::ALL {
        let mut start = Vec::new();
        loop {
            let page = store.scan(column, &start, None, MAX_SCAN_LIMIT).unwrap();
            let Some((last, _)) = page.last() else { break };
            start = key_successor(last);
            out.extend(page.into_iter().map(|e| (column, e)));
        }
    }
    out
}

/// Whatever the retention window, the node cache and where the settles fall, pipelined commits give every
/// version the reference root, read each pending version's values, and leave the store record for record as
/// serial commits do — pruning, checkpoints and change lists included.
#[test]
fn pipelined_commits_leave_the_store_as_serial_commits_do() {
    let seed: u64 = std::env::var("PURSE_PIPELINE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(7);
    eprintln!("pipeline seed {seed} (set PURSE_PIPELINE_SEED to reproduce)");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // A window of 1-3 versions makes pruning read the pending versions' records; a cache of no nodes makes
    // every node below the linked depth come from the store; blocks of the large mix are prepared on rayon's
    // pool (two threads), which must find a pending checkpoint's nodes in memory.
    let large = Mix { changes: 1_500, stride: 7, shift: 389, keys: 5_000, delete_every: 9 };
    let configs = [
        (1, 0, 0, &MIX, 5),
        (2, 1 << 12, 2, &MIX, 5),
        (3, 0, 3, &MIX, 5),
        (100, 1 << 20, 5, &MIX, 5),
        (100, 0, 2, &large, 40),
    ];
    for (retained, cache, linked, mix, write_ms) in configs {
        let cfg = StateConfig { node_cache_nodes: cache, linked_depth: linked, ..config(retained) };
        let serial_store = Arc::new(MemoryStore::new());
        // Writes slower than committing the next version serially and preparing it: every read that
        // preparation makes happens while the version before it is pending.
        let piped_store = Arc::new(Gated::slow(Duration::from_millis(write_ms)));
        let mut serial = StateDb::open(serial_store.clone(), cfg).unwrap();
        let mut piped = StateDb::open(piped_store.clone(), cfg).unwrap();
        let mut model = Model::new();
        for v in 0..4 * INTERVAL + 3 {
            let o = mixed_block(v, mix, &mut model);
            serial.commit(v, &o).unwrap();
            submit(&mut piped, v, o.clone()).unwrap();
            assert_eq!(piped.root(), model_root(&model), "retained {retained}, version {v}");
            assert_eq!(piped.latest_version(), Some(v));
            // The pending version reads as committed, through the state and through a view.
            let view = piped.view();
            for i in (0..mix.keys).step_by(13) {
                let want = model.get(&key(i));
                assert_eq!(piped.get(&key(i)).unwrap().as_ref(), want, "key {i} at {v}");
                assert_eq!(view.get(&key(i)).unwrap().as_ref(), want, "view, key {i} at {v}");
            }
            if rng.gen_bool(0.3) {
                piped.settle().unwrap();
                assert_eq!(piped.pending_version(), None);
                let same = dump(&piped_store.inner) == dump(&serial_store);
                assert!(same, "retained {retained}: the store differs after version {v}");
            }
        }
        piped.settle().unwrap();
        assert_eq!(dump(&piped_store.inner), dump(&serial_store), "retained {retained}");
        drop(piped);
        let reopened = StateDb::open(piped_store, cfg).unwrap();
        assert_eq!(reopened.root(), model_root(&model));
    }
}

/// A store whose writes wait until the test opens its gate, then take `delay` more.
#[derive(Debug, Default)]
struct Gated {
    inner: MemoryStore,
    open: Mutex<bool>,
    opened: Condvar,
    delay: Duration,
}

impl Gated {
    /// An open store whose writes take `delay`.
    fn slow(delay: Duration) -> Gated {
        Gated { open: Mutex::new(true), delay, ..Default::default() }
    }
}

impl Gated {
    fn set(&self, open: bool) {
        *self.open.lock() = open;
        self.opened.notify_all();
    }
}

impl KvStore for Gated {
    common::forward_to_inner!(get, scan);

    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut open = self.open.lock();
        while !*open {
            self.opened.wait(&mut open);
        }
        drop(open);
        std::thread::sleep(self.delay);
        self.inner.write(batch)
    }
}

/// Runs `read` while a thread opens `store`'s gate after 200 ms; whether `read` took that long (waited).
fn opened_after(store: &Arc<Gated>, read: impl FnOnce()) -> bool {
    let opener = {
        let store = store.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            store.set(true);
        })
    };
    let started = std::time::Instant::now();
    read();
    let waited = started.elapsed() >= Duration::from_millis(150);
    opener.join().unwrap();
    waited
}

/// Opens the gate when dropped.
struct OpenOnDrop(Arc<Gated>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// While a version's write has not landed, point reads of it answer from its changes; a scan, a proof or a
/// snapshot page (which need its records) waits for the write and then answers as after it.
#[test]
fn reads_of_a_pending_version_answer_before_its_write_or_wait_for_it() {
    let store = Arc::new(Gated { open: Mutex::new(true), ..Default::default() });
    let mut db = StateDb::open(store.clone(), config(100)).unwrap();
    let mut model = Model::new();
    for v in 0..2 {
        let o = mixed_block(v, &MIX, &mut model);
        db.commit(v, &o).unwrap();
    }
    let old_root = db.root();
    let old = model.clone();
    store.set(false);
    // Opened again however the test ends, before the state (dropped after it) waits for its write.
    let _gate = OpenOnDrop(store.clone());
    let o = mixed_block(2, &MIX, &mut model);
    let deleted: Vec<Vec<u8>> =
        o.iter().filter(|(k, v)| v.is_none() && old.contains_key(*k)).map(|(k, _)| k.to_vec()).collect();
    assert!(!deleted.is_empty());
    let o_keys: Vec<Vec<u8>> = o.iter().map(|(k, _)| k.to_vec()).collect();
    submit(&mut db, 2, o).unwrap();
    assert_eq!(db.pending_version(), Some(2));
    assert_eq!(store.inner.get(Column::Meta, b"state/latest").unwrap(), Some(1u64.to_be_bytes().to_vec()));
    for k in &deleted {
        assert_eq!(db.get(k).unwrap(), None, "deleted in the pending version");
        assert!(db.get_at(k, 1).unwrap().is_some(), "still there in the version before");
    }
    for i in (0..700u32).step_by(7) {
        assert_eq!(db.get(&key(i)).unwrap().as_ref(), model.get(&key(i)), "key {i}");
    }
    assert_eq!(db.root_at(1).unwrap(), old_root);

    // A proof of a key the pending version wrote needs its value record: it waits for the write.
    let written = o_keys.iter().find(|k| model.contains_key(*k)).unwrap().clone();
    let waited = opened_after(&store, || {
        let (value, proof) = db.get_with_proof(&written, 2).unwrap();
        assert_eq!(value.as_ref(), model.get(&written));
        proof.verify(&model_root(&model), &written, value.as_deref()).unwrap();
    });
    assert!(waited, "the proof did not wait for the write");
    db.settle().unwrap();

    // A scan needs the key index, which the pending batch holds: it waits for the write.
    store.set(false);
    let o = mixed_block(3, &MIX, &mut model);
    submit(&mut db, 3, o).unwrap();
    let view = db.view();
    let mut scanned = Vec::new();
    let waited = opened_after(&store, || scanned = view.scan(b"acct/", b"", 1_000).unwrap());
    assert!(waited, "the scan did not wait for the write");
    let want: Vec<(Vec<u8>, Vec<u8>)> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(scanned, want);
    db.settle().unwrap();
    assert_eq!(db.pending_version(), None);
}

/// A failed write fails the pending versions after it too (none of their writes is made), and settling puts
/// the state back to the version before the failed one — also when that one is a checkpoint whose nodes
/// were written ahead. A different block at that version then commits with the reference root, and a state
/// opened on the store agrees.
#[test]
fn a_failed_pipelined_write_puts_the_state_back_and_fails_the_versions_after_it() {
    // Version 5 is between checkpoints (one write); version 4 is a checkpoint (write 0 ahead, write 1 its batch).
    for (failed, fault_at) in [(5u64, 0u64), (INTERVAL, 1)] {
        let store = Arc::new(FaultyStore::new(MemoryStore::new()));
        let mut db = StateDb::open(store.clone(), config(100)).unwrap();
        let mut model = Model::new();
        for v in 0..failed {
            let o = mixed_block(v, &MIX, &mut model);
            db.commit(v, &o).unwrap();
        }
        let before = db.root();
        let mut lost = model.clone();
        store.inject(fault_at, Fault::FailWrite);
        submit(&mut db, failed, mixed_block(failed, &MIX, &mut lost)).unwrap();
        submit(&mut db, failed + 1, mixed_block(failed + 1, &MIX, &mut lost)).unwrap();
        assert_eq!(db.latest_version(), Some(failed + 1));
        // A view of the pending version, kept past the failure.
        let view = db.view();
        let err = db.settle().unwrap_err();
        assert!(matches!(err, StateError::PendingWriteFailed { version, .. } if version == failed), "{err}");
        assert_eq!((db.latest_version(), db.root()), (Some(failed - 1), before));
        assert_eq!(db.pending_version(), None);
        // The failed versions are never read as committed: the view reports the failure for every key, and
        // the state reads the version before.
        for i in (0..700u32).step_by(7) {
            let err = view.get(&key(i)).unwrap_err();
            assert!(
                matches!(err, StateError::PendingWriteFailed { version, .. } if version == failed),
                "{err}"
            );
            assert_eq!(db.get(&key(i)).unwrap().as_ref(), model.get(&key(i)), "key {i}");
        }
        let reopened = StateDb::open(store.clone(), config(100)).unwrap();
        assert_eq!((reopened.latest_version(), reopened.root()), (Some(failed - 1), before));
        drop(reopened);
        // Another block at the failed version, pipelined again, and one after it.
        let other = Mix { shift: 331, ..MIX };
        for v in failed..failed + 2 {
            let o = mixed_block(v, &other, &mut model);
            submit(&mut db, v, o).unwrap();
            assert_eq!(db.root(), model_root(&model), "failed {failed}, version {v}");
        }
        db.settle().unwrap();
        drop(db);
        let reopened = StateDb::open(store, config(100)).unwrap();
        assert_eq!(reopened.root(), model_root(&model));
    }
}
