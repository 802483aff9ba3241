//! Checkpoints: only every few versions write the tree's nodes; the others are rebuilt from their changes.

// Test helpers outside #[test] functions may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{acct as key, mixed_block, model_root, Mix, Model};
use purse_state::{
    Column, Fault, FaultyStore, KvStore, MemoryStore, NodeKey, NodeRecord, Overlay, StateConfig, StateDb,
};
use purse_types::Hash;
use std::collections::BTreeSet;
use std::sync::Arc;

const INTERVAL: u64 = 4;

fn config(retained: u64) -> StateConfig {
    StateConfig { retained_versions: retained, checkpoint_interval: INTERVAL, ..Default::default() }
}

/// Version `v`'s changes: updates and creations across the key space, and some deletions.
fn block(v: u64, model: &mut Model) -> Overlay {
    mixed_block(v, &Mix { changes: 300, stride: 11, shift: 97, keys: 700, delete_every: 7 }, model)
}

/// The versions of the node records in the store.
fn node_versions(store: &MemoryStore) -> Vec<u64> {
    let nodes = store.scan(Column::StateNodes, &[], None, 100_000).unwrap();
    let mut versions: Vec<u64> =
        nodes.iter().map(|(k, _)| u64::from_be_bytes(k[..8].try_into().unwrap())).collect();
    versions.dedup();
    versions
}

fn prove_all(db: &StateDb<Arc<MemoryStore>>, version: u64, root: &Hash, model: &Model) {
    for i in (0..700u32).step_by(3) {
        let (value, proof) = db.get_with_proof(&key(i), version).unwrap();
        assert_eq!(value.as_ref(), model.get(&key(i)), "key {i} at {version}");
        proof.verify(root, &key(i), value.as_deref()).unwrap();
    }
}

#[test]
fn only_checkpoints_write_nodes_and_a_reopened_state_rebuilds_the_rest() {
    let store = Arc::new(MemoryStore::new());
    let mut db = StateDb::open(store.clone(), config(100)).unwrap();
    let mut model = Model::new();
    let mut history = Vec::new();
    for v in 0..4u64 {
        let o = block(v, &mut model);
        history.push((db.commit(v, &o).unwrap(), model.clone()));
    }
    // Versions 1-3 are not checkpoints: only version 0 wrote nodes so far.
    assert_eq!(node_versions(&store), vec![0]);
    let o = block(4, &mut model);
    history.push((db.commit(4, &o).unwrap(), model.clone()));
    // Checkpoint 4 wrote its nodes and the live nodes versions 1-3 had kept in memory.
    let versions = node_versions(&store);
    assert!(versions.contains(&4), "{versions:?}");
    assert!(versions.iter().any(|v| (1..4).contains(v)), "{versions:?}");
    for v in 5..7u64 {
        let o = block(v, &mut model);
        history.push((db.commit(v, &o).unwrap(), model.clone()));
    }
    for (v, (root, m)) in history.iter().enumerate() {
        assert_eq!(*root, model_root(m));
        prove_all(&db, v as u64, root, m);
    }
    // A state opened on the store rebuilds versions 5 and 6 from checkpoint 4 and goes on identically.
    let mut reopened = StateDb::open(store.clone(), config(100)).unwrap();
    assert_eq!(reopened.latest_version(), Some(6));
    assert_eq!(reopened.root(), db.root());
    for (v, (root, m)) in history.iter().enumerate() {
        prove_all(&reopened, v as u64, root, m);
    }
    // Checkpoint 8 writes what versions 5-7 built, including what the reopened state rebuilt.
    for v in 7..10u64 {
        let o = block(v, &mut model);
        let root = reopened.commit(v, &o).unwrap();
        assert_eq!(root, model_root(&model));
        assert_eq!(db.commit(v, &o).unwrap(), root);
    }
    // A state opened with another interval rebuilds version 9 from checkpoint 8, whose tree is all in the store.
    let fresh = StateDb::open(store, StateConfig { checkpoint_interval: 1_000, ..config(100) }).unwrap();
    assert_eq!(fresh.root(), model_root(&model));
    let at_8 = entries_of(&fresh, 8);
    prove_all(&fresh, 8, &model_root(&at_8), &at_8);
}

/// A checkpoint writes exactly the nodes of its tree that are not in the store yet — every node it reaches
/// that a version since the previous checkpoint built — and nothing else: a node replaced before the
/// checkpoint is never written (nothing would ever prune it). With the whole tree below the linked depth, the
/// whole of it above, and split between the two.
#[test]
fn a_checkpoint_writes_exactly_the_nodes_of_its_tree_not_yet_in_the_store() {
    let previous = INTERVAL;
    let checkpoint = 2 * INTERVAL;
    for linked_depth in [0, 1, 2, 5] {
        let store = Arc::new(MemoryStore::new());
        let mut db = StateDb::open(store.clone(), StateConfig { linked_depth, ..config(100) }).unwrap();
        let mut model = Model::new();
        for v in 0..=checkpoint {
            db.commit(v, &block(v, &mut model)).unwrap();
        }
        let stored: BTreeSet<Vec<u8>> = store
            .scan(Column::StateNodes, &[], None, 100_000)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| version_of(k) > previous)
            .collect();
        // Walked from the checkpoint's root through the records, as a reader that has only the store would.
        let mut reached = BTreeSet::new();
        let mut stack = vec![NodeKey { version: checkpoint, path: Vec::new() }];
        while let Some(at) = stack.pop() {
            let key = at.encode();
            let bytes = store.get(Column::StateNodes, &key).unwrap();
            let bytes = bytes.unwrap_or_else(|| panic!("linked depth {linked_depth}: {at:?} not written"));
            let record = NodeRecord::decode(&key, &bytes).unwrap();
            for c in record.children.iter().filter(|c| c.leaf.is_none() && c.version > previous) {
                stack.push(at.child(c.nibble, c.version));
            }
            reached.insert(key);
        }
        assert_eq!(stored, reached, "linked depth {linked_depth}");
        let older = stored.iter().filter(|k| version_of(k) < checkpoint).count();
        assert!(older > 0, "linked depth {linked_depth}: the checkpoint wrote no older node");
    }
}

/// The live entries of `version`, read back through `db`.
fn entries_of(db: &StateDb<Arc<MemoryStore>>, version: u64) -> Model {
    db.entries_at(version, None, usize::MAX).unwrap().into_iter().map(|e| (e.key, e.value)).collect()
}

#[test]
fn proofs_at_every_retained_version_survive_pruning() {
    let retained = 3;
    let store = Arc::new(MemoryStore::new());
    let mut db = StateDb::open(store.clone(), config(retained)).unwrap();
    let mut model = Model::new();
    let mut history = Vec::new();
    for v in 0..14u64 {
        let o = block(v, &mut model);
        history.push((db.commit(v, &o).unwrap(), model.clone()));
        let oldest = db.oldest_version();
        assert_eq!(oldest, (v + 1).saturating_sub(retained));
        // Every retained version proves, including those rebuilt from a checkpoint below the oldest one.
        for u in oldest..=v {
            let (root, m) = &history[u as usize];
            prove_all(&db, u, root, m);
        }
    }
    // Pruned up to the horizon: checkpoint 8, the newest at or below the oldest readable version 11.
    assert_eq!(store.len(Column::StateRoots), (14 - 8) as usize);
    let reopened = StateDb::open(store, config(retained)).unwrap();
    for u in 11..14u64 {
        let (root, m) = &history[u as usize];
        prove_all(&reopened, u, root, m);
    }
}

#[test]
fn a_damaged_change_is_reported_when_the_state_opens() {
    let store = Arc::new(MemoryStore::new());
    let mut db = StateDb::open(store.clone(), config(100)).unwrap();
    let mut model = Model::new();
    for v in 0..3u64 {
        let o = block(v, &mut model);
        db.commit(v, &o).unwrap();
    }
    drop(db);
    // Version 2's value of a key it updated: the rebuilt tree would differ.
    let (k, _) = model.iter().find(|(_, val)| val.starts_with(b"2/")).unwrap();
    let kh = purse_state::state_proof::state_key_hash(k);
    let mut vk = kh.0.to_vec();
    vk.extend_from_slice(&(u64::MAX - 2).to_be_bytes());
    let record = store.get(Column::StateValues, &vk).unwrap().unwrap();
    let mut damaged = record.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    store.put(Column::StateValues, &vk, &damaged).unwrap();
    let err = StateDb::open(store.clone(), config(100)).unwrap_err().to_string();
    assert!(err.contains("state_roots") && err.contains("changes do not give its root"), "{err}");
    // A missing change-list value is named too.
    store.delete(Column::StateValues, &vk).unwrap();
    let err = StateDb::open(store, config(100)).unwrap_err().to_string();
    assert!(err.contains("state_values") && err.contains("value record of a change missing"), "{err}");
}

/// A state on `store` that committed the versions before the first checkpoint after version 0, with its
/// model.
fn up_to_a_checkpoint<S: KvStore>(store: S) -> (StateDb<S>, Model) {
    let mut db = StateDb::open(store, config(100)).unwrap();
    let mut model = Model::new();
    for v in 0..INTERVAL {
        let o = block(v, &mut model);
        db.commit(v, &o).unwrap();
    }
    (db, model)
}

#[test]
fn a_failed_checkpoint_leaves_the_state_intact_and_its_retry_writes_the_tree() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let (mut db, model) = up_to_a_checkpoint(store.clone());
    let before = db.root();
    let mut next = model.clone();
    let o = block(4, &mut next);
    store.inject(0, Fault::FailWrite);
    assert!(db.commit(4, &o).is_err());
    assert_eq!((db.latest_version(), db.root()), (Some(3), before));
    let reopened = StateDb::open(store.clone(), config(100)).unwrap();
    assert_eq!(reopened.root(), before);
    drop(reopened);
    assert_eq!(db.commit(4, &o).unwrap(), model_root(&next));
    // The checkpoint holds the whole tree: a state opened on it reads every node from the store.
    let cold =
        StateDb::open(store, StateConfig { node_cache_nodes: 0, linked_depth: 0, ..config(100) }).unwrap();
    assert_eq!(cold.root(), model_root(&next));
    for i in (0..700u32).step_by(5) {
        let (value, proof) = cold.get_with_proof(&key(i), 4).unwrap();
        assert_eq!(value.as_ref(), next.get(&key(i)));
        proof.verify(&model_root(&next), &key(i), value.as_deref()).unwrap();
    }
}

/// A commit installs its nodes in memory (the upper tree, the unwritten nodes) while the store writes. A
/// failed write between checkpoints must put back exactly the tree before it: the state still proves its
/// latest version from memory, a different block at that version gives the reference root, and so do the
/// next checkpoint and a reopened state.
#[test]
fn a_failed_write_between_checkpoints_puts_the_tree_in_memory_back() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let mut db = StateDb::open(store.clone(), config(100)).unwrap();
    // Blocks large enough for the in-memory work to run beside the write.
    let mix = Mix { changes: 4_000, stride: 7, shift: 131, keys: 12_000, delete_every: 9 };
    let mut model = Model::new();
    for v in 0..2u64 {
        let o = mixed_block(v, &mix, &mut model);
        db.commit(v, &o).unwrap();
    }
    let before = db.root();
    let mut failed_model = model.clone();
    let failed = mixed_block(2, &mix, &mut failed_model);
    store.inject(0, Fault::FailWrite);
    assert!(db.commit(2, &failed).is_err());
    assert_eq!((db.latest_version(), db.root()), (Some(1), before));
    for i in (0..12_000u32).step_by(97) {
        let (value, proof) = db.get_with_proof(&key(i), 1).unwrap();
        assert_eq!(value.as_ref(), model.get(&key(i)), "key {i}");
        proof.verify(&before, &key(i), value.as_deref()).unwrap();
    }
    let other = Mix { shift: 517, ..mix };
    for v in 2..=INTERVAL + 1 {
        let o = mixed_block(v, &other, &mut model);
        assert_eq!(db.commit(v, &o).unwrap(), model_root(&model), "version {v}");
    }
    let reopened = StateDb::open(store, config(100)).unwrap();
    assert_eq!(reopened.root(), model_root(&model));
    for i in (0..12_000u32).step_by(89) {
        let (value, proof) = reopened.get_with_proof(&key(i), INTERVAL + 1).unwrap();
        assert_eq!(value.as_ref(), model.get(&key(i)), "key {i}");
        proof.verify(&model_root(&model), &key(i), value.as_deref()).unwrap();
    }
}

/// A change that changes nothing (deleting a missing key) keeps the nodes above it, as its change list (which
/// lists only written values) is empty: a reopened state rebuilds the same tree and proves with it.
#[test]
fn a_version_that_changed_nothing_is_rebuilt_and_proves() {
    let store = Arc::new(MemoryStore::new());
    let cfg = StateConfig { linked_depth: 0, ..config(100) };
    let mut db = StateDb::open(store.clone(), cfg).unwrap();
    let mut o = Overlay::new();
    o.put(&key(0), b"a").unwrap();
    o.put(&key(1), b"b").unwrap();
    let root = db.commit(0, &o).unwrap();
    let mut o = Overlay::new();
    o.delete(&key(2)).unwrap();
    assert_eq!(db.commit(1, &o).unwrap(), root);
    let reopened = StateDb::open(store, cfg).unwrap();
    for db in [&db, &reopened] {
        let (value, proof) = db.get_with_proof(&key(0), 1).unwrap();
        assert_eq!(value.as_deref(), Some(&b"a"[..]));
        proof.verify(&root, &key(0), Some(b"a")).unwrap();
    }
}

/// A store that keeps the keys of the records each [`KvStore::write_ahead`] was given, and every write (those
/// ahead included), for replaying them elsewhere.
#[derive(Debug, Default)]
struct Recording<S> {
    inner: S,
    ahead: std::sync::Mutex<Vec<Vec<Vec<u8>>>>,
    writes: std::sync::Mutex<Vec<purse_state::WriteBatch>>,
}

impl<S> Recording<S> {
    fn take_ahead(&self) -> Vec<Vec<Vec<u8>>> {
        std::mem::take(&mut *self.ahead.lock().unwrap())
    }

    fn take_writes(&self) -> Vec<purse_state::WriteBatch> {
        std::mem::take(&mut *self.writes.lock().unwrap())
    }
}

impl<S: KvStore> KvStore for Recording<S> {
    common::forward_to_inner!(get, scan);

    fn write(&self, batch: purse_state::WriteBatch) -> Result<(), purse_state::StoreError> {
        self.writes.lock().unwrap().push(batch.clone());
        self.inner.write(batch)
    }

    fn write_ahead(&self, records: purse_state::WriteBatch) -> Result<(), purse_state::StoreError> {
        self.ahead.lock().unwrap().push(records.iter().map(|e| e.key.to_vec()).collect());
        self.writes.lock().unwrap().push(records.clone());
        self.inner.write_ahead(records)
    }
}

/// A store on which the writes of a commit land at a chosen moment: right after the first read of a `Meta`
/// record, as when a node commits while a reader beside it (the snapshot exporter) is opening the state.
#[derive(Debug, Default)]
struct LandsMidOpen {
    inner: MemoryStore,
    /// The commit's writes (those ahead of its batch, then the batch), applied at the first `Meta` read.
    pending: std::sync::Mutex<Vec<purse_state::WriteBatch>>,
}

impl KvStore for LandsMidOpen {
    common::forward_to_inner!(write, scan);

    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, purse_state::StoreError> {
        let value = self.inner.get(column, key)?;
        if column == Column::Meta {
            for batch in std::mem::take(&mut *self.pending.lock().unwrap()) {
                self.inner.write(batch)?;
            }
        }
        Ok(value)
    }
}

/// A reader opening the state while the writer commits a checkpoint (the snapshot exporter opens a running
/// node's store) opens a consistent version whichever of the state's records it reads before the commit
/// lands and whichever after: here the whole checkpoint lands between its first read and the rest.
#[test]
fn a_checkpoint_landing_while_a_reader_opens_gives_a_consistent_state() {
    let writer_store = Arc::new(Recording::<MemoryStore>::default());
    let mut writer = StateDb::open(writer_store.clone(), config(100)).unwrap();
    let mut model = Model::new();
    for v in 0..2 * INTERVAL - 1 {
        let o = block(v, &mut model);
        writer.commit(v, &o).unwrap();
    }
    // The reader's store holds everything committed so far; the checkpoint's writes are held back.
    let reader_store = Arc::new(LandsMidOpen::default());
    for column in Column::ALL {
        for (k, v) in writer_store.inner.scan(column, &[], None, 100_000).unwrap() {
            reader_store.inner.put(column, &k, &v).unwrap();
        }
    }
    writer_store.take_writes();
    // The writer commits the last version before a checkpoint and the checkpoint itself.
    for v in 2 * INTERVAL - 1..=2 * INTERVAL {
        let o = block(v, &mut model);
        writer.commit(v, &o).unwrap();
    }
    *reader_store.pending.lock().unwrap() = writer_store.take_writes();

    let reader = StateDb::open(reader_store.clone(), config(100)).unwrap();
    assert!(reader_store.pending.lock().unwrap().is_empty(), "the commits landed during the opening");
    // It opened at a version the writer committed, with that version's root.
    let latest = reader.latest_version().unwrap();
    assert!(latest >= 2 * INTERVAL - 2, "opened at {latest}");
    assert_eq!(reader.root(), writer.root_at(latest).unwrap());
    assert_eq!(StateDb::open(reader_store, config(100)).unwrap().root(), model_root(&model));
}

fn version_of(node_key: &[u8]) -> u64 {
    u64::from_be_bytes(node_key[..8].try_into().unwrap())
}

/// A checkpoint writes its own nodes in its batch, in key order after the deletes of pruned nodes, and the
/// live nodes built in memory by the versions since the previous checkpoint ahead of it, in key order too.
#[test]
fn a_checkpoint_writes_its_node_records_in_key_order() {
    // Retaining 3 versions prunes as the checkpoints come: the batch also deletes older versions' nodes.
    let store = Arc::new(Recording::<MemoryStore>::default());
    let mut db = StateDb::open(store.clone(), config(3)).unwrap();
    let mut model = Model::new();
    for v in 0..3 * INTERVAL {
        let overlay = block(v, &mut model);
        let mut prepared = db.prepare_commit(v, &overlay).unwrap();
        let batch = prepared.take_batch();
        let nodes: Vec<&[u8]> =
            batch.iter().filter(|e| e.column == Column::StateNodes).map(|e| e.key).collect();
        assert!(nodes.windows(2).all(|w| w[0] <= w[1]), "version {v}: node records out of key order");
        assert!(batch.column_is_sorted(Column::StateNodes), "version {v}");
        let puts: Vec<u64> = batch
            .iter()
            .filter(|e| e.column == Column::StateNodes && e.value.is_some())
            .map(|e| version_of(e.key))
            .collect();
        assert!(puts.iter().all(|&p| p == v), "version {v}: the batch puts only its own nodes");
        db.write_commit(prepared, batch).unwrap();
        assert_eq!(db.root(), model_root(&model), "version {v}");
        let ahead = store.take_ahead();
        if v > 0 && v % INTERVAL == 0 {
            // The older nodes went ahead of the batch, in one write, in key order.
            let [keys] = ahead.as_slice() else { panic!("version {v}: {} writes ahead", ahead.len()) };
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "version {v}: nodes ahead out of key order");
            let versions: std::collections::BTreeSet<u64> = keys.iter().map(|k| version_of(k)).collect();
            assert!(
                versions.len() > 1 && versions.iter().all(|&o| o > v - INTERVAL && o < v),
                "version {v}: {versions:?}"
            );
        } else {
            assert!(ahead.is_empty(), "version {v}: only a checkpoint writes ahead");
        }
    }
}

/// A checkpoint whose older nodes were written ahead but whose batch then failed leaves those records with
/// nothing referring to them. They must not outlive the failure: the next commit of the state that saw the
/// failure deletes them, and so does the first commit of a state opened on the store — whichever block it
/// commits, the store then holds exactly the older nodes that commit's checkpoint wrote. Opening deletes
/// nothing: on a running node's store (the snapshot exporter opens one) such records may belong to a
/// checkpoint whose batch has not landed yet.
#[test]
fn nodes_written_ahead_of_a_failed_checkpoint_are_deleted_by_the_next_commit_not_by_opening() {
    let store = Arc::new(Recording {
        inner: FaultyStore::new(MemoryStore::new()),
        ahead: Default::default(),
        writes: Default::default(),
    });
    let (mut db, mut model) = up_to_a_checkpoint(store.clone());
    let before = db.root();
    let mut failed_model = model.clone();
    let failed = block(INTERVAL, &mut failed_model);
    // Write 0 is the one ahead of the batch; write 1, the batch, fails.
    store.inner.inject(1, Fault::FailWrite);
    assert!(db.commit(INTERVAL, &failed).is_err());
    assert_eq!((db.latest_version(), db.root()), (Some(INTERVAL - 1), before));
    assert_eq!(store.take_ahead().len(), 1);
    let older = |s: &MemoryStore| -> Vec<Vec<u8>> {
        let nodes = s.scan(Column::StateNodes, &1u64.to_be_bytes(), None, 100_000).unwrap();
        nodes.into_iter().map(|(k, _)| k).filter(|k| version_of(k) < INTERVAL).collect()
    };
    let left = older(store.inner.inner());
    assert!(!left.is_empty(), "the records written ahead are in the store");

    // A reader opening the store beside the writer writes nothing: every write from now on would fail.
    store.inner.inject(0, Fault::FailWrite);
    let reader = StateDb::open(store.clone(), config(100)).unwrap();
    assert_eq!(reader.root(), before);
    assert_eq!(older(store.inner.inner()), left, "opening deleted records");
    drop(reader);
    store.inner.heal();

    // A state opened on a copy deletes them with its first commit, before it writes.
    let copy = Arc::new(Recording {
        inner: FaultyStore::new(MemoryStore::new()),
        ahead: Default::default(),
        writes: Default::default(),
    });
    for column in Column::ALL {
        for (k, v) in store.inner.inner().scan(column, &[], None, 100_000).unwrap() {
            copy.put(column, &k, &v).unwrap();
        }
    }
    let mut reopened = StateDb::open(copy.clone(), config(100)).unwrap();
    assert_eq!(reopened.root(), before);
    let mut copy_model = model.clone();
    let o = block(INTERVAL + 50, &mut copy_model);
    assert_eq!(reopened.commit(INTERVAL, &o).unwrap(), model_root(&copy_model));
    let ahead = copy.take_ahead();
    let [written] = ahead.as_slice() else { panic!("{} writes ahead", ahead.len()) };
    assert_eq!(&older(copy.inner.inner()), written);

    // So does the next commit of the state that saw the failure: a different block at the checkpoint leaves
    // only its own.
    let o = block(INTERVAL + 60, &mut model);
    assert_eq!(db.commit(INTERVAL, &o).unwrap(), model_root(&model));
    let ahead = store.take_ahead();
    let [written] = ahead.as_slice() else { panic!("{} writes ahead", ahead.len()) };
    assert_eq!(&older(store.inner.inner()), written);
    let reopened = StateDb::open(store, config(100)).unwrap();
    assert_eq!(reopened.root(), model_root(&model));
}
