//! Behaviour of the authenticated state: roots against a reference, proofs, versions, pruning, faults.

// Test helpers outside #[test] functions may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{acct, mixed_block, model_root, Mix, Model};
use proptest::prelude::*;
use purse_state::{
    Column, Fault, FaultyStore, KvStore, MemoryStore, Overlay, StateConfig, StateDb, StateError,
};
use purse_types::Hash;
use std::sync::Arc;

fn key(i: u8) -> Vec<u8> {
    format!("account/{i}").into_bytes()
}

/// Checkpoint interval of most tests: short, so that a few versions cover checkpoints, versions rebuilt from
/// one and pruning up to one.
const INTERVAL: u64 = 4;

fn config(retained: u64) -> StateConfig {
    StateConfig {
        retained_versions: retained,
        node_cache_nodes: 64,
        checkpoint_interval: INTERVAL,
        ..Default::default()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Put(u8, Vec<u8>),
    Delete(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..48, proptest::collection::vec(any::<u8>(), 0..12)).prop_map(|(k, v)| Op::Put(k, v)),
        1 => (0u8..48).prop_map(Op::Delete),
    ]
}

fn apply(db: &mut StateDb<Arc<MemoryStore>>, model: &mut Model, version: u64, ops: &[Op]) -> Hash {
    let mut overlay = Overlay::new();
    for op in ops {
        match op {
            Op::Put(k, v) => {
                overlay.put(&key(*k), v).unwrap();
                model.insert(key(*k), v.clone());
            }
            Op::Delete(k) => {
                overlay.delete(&key(*k)).unwrap();
                model.remove(&key(*k));
            }
        }
    }
    db.commit(version, &overlay).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn roots_reads_and_proofs_match_the_reference(
        blocks in proptest::collection::vec(proptest::collection::vec(op(), 0..40), 1..8),
        linked_depth in 0usize..4,
        checkpoint_interval in 1u64..6,
    ) {
        // Linked depth 0 sends every node through the cache; the trees here are 2-3 levels deep. Versions
        // between checkpoints keep their nodes in memory; a proof at one of them rebuilds its tree.
        let store = Arc::new(MemoryStore::new());
        let cfg = StateConfig { linked_depth, checkpoint_interval, ..config(1_000) };
        let mut db = StateDb::open(store.clone(), cfg).unwrap();
        let mut model = Model::new();
        let mut history = Vec::new();
        for (v, ops) in blocks.iter().enumerate() {
            let root = apply(&mut db, &mut model, v as u64, ops);
            prop_assert_eq!(root, model_root(&model), "root of version {}", v);
            history.push((root, model.clone()));
        }
        // A reopened state (which rebuilds the versions after the latest checkpoint) agrees.
        let reopened = StateDb::open(store, cfg).unwrap();
        prop_assert_eq!(reopened.root(), db.root());
        let latest = blocks.len() as u64 - 1;
        prop_assert_eq!(reopened.latest_version(), Some(latest));
        for i in 0..48u8 {
            prop_assert_eq!(reopened.get_with_proof(&key(i), latest).unwrap(), db.get_with_proof(&key(i), latest).unwrap());
        }

        for (v, (root, m)) in history.iter().enumerate() {
            let v = v as u64;
            prop_assert_eq!(db.root_at(v).unwrap(), *root);
            for i in 0..48u8 {
                let k = key(i);
                let expected = m.get(&k);
                let (value, proof) = db.get_with_proof(&k, v).unwrap();
                prop_assert_eq!(value.as_ref(), expected, "value of {:?} at {}", i, v);
                let at = db.get_at(&k, v).unwrap();
                prop_assert_eq!(at.as_ref(), expected);
                prop_assert!(proof.verify(root, &k, expected.map(Vec::as_slice)).is_ok());
                // Altered root.
                let mut bad_root = *root;
                bad_root.0[0] ^= 1;
                prop_assert!(proof.verify(&bad_root, &k, expected.map(Vec::as_slice)).is_err());
                match expected {
                    Some(val) => {
                        let mut other = val.clone();
                        other.push(0);
                        prop_assert!(proof.verify(root, &k, Some(&other)).is_err(), "altered value");
                        prop_assert!(proof.verify(root, &k, None).is_err(), "present key proven absent");
                        prop_assert!(proof.verify(root, &key(i.wrapping_add(100)), Some(val)).is_err(), "altered key");
                    }
                    None => {
                        prop_assert!(proof.verify(root, &k, Some(b"x")).is_err(), "absent key proven present");
                    }
                }
            }
        }
    }
}

#[test]
fn empty_state_has_zero_root_and_proves_absence() {
    let mut db = StateDb::open(MemoryStore::new(), config(10)).unwrap();
    assert_eq!(db.root(), Hash::ZERO);
    assert_eq!(db.commit(0, &Overlay::new()).unwrap(), Hash::ZERO);
    let (v, proof) = db.get_with_proof(b"nobody", 0).unwrap();
    assert_eq!(v, None);
    proof.verify(&Hash::ZERO, b"nobody", None).unwrap();
    // Insert then delete everything: back to zero.
    let mut o = Overlay::new();
    o.put(b"a", b"1").unwrap();
    assert_ne!(db.commit(1, &o).unwrap(), Hash::ZERO);
    let mut o = Overlay::new();
    o.delete(b"a").unwrap();
    assert_eq!(db.commit(2, &o).unwrap(), Hash::ZERO);
    assert_eq!(db.get_at(b"a", 1).unwrap(), Some(b"1".to_vec()));
    assert_eq!(db.get_at(b"a", 2).unwrap(), None);
}

#[test]
fn overlay_reads_see_pending_writes() {
    let mut db = StateDb::open(MemoryStore::new(), config(10)).unwrap();
    let mut o = Overlay::new();
    o.put(b"a", b"1").unwrap();
    o.put(b"b", b"2").unwrap();
    db.commit(0, &o).unwrap();
    let mut o = Overlay::new();
    o.put(b"a", b"changed").unwrap();
    o.delete(b"b").unwrap();
    assert_eq!(db.read(&o, b"a").unwrap(), Some(b"changed".to_vec()));
    assert_eq!(db.read(&o, b"b").unwrap(), None);
    assert_eq!(db.get(b"b").unwrap(), Some(b"2".to_vec()), "committed state untouched until commit");
    db.commit(1, &o).unwrap();
    assert_eq!(db.get(b"a").unwrap(), Some(b"changed".to_vec()));
}

#[test]
fn versions_must_be_sequential() {
    let mut db = StateDb::open(MemoryStore::new(), config(10)).unwrap();
    db.commit(5, &Overlay::new()).unwrap();
    assert_eq!(db.commit(7, &Overlay::new()), Err(StateError::NonSequentialVersion { expected: 6, got: 7 }));
    assert!(matches!(db.get_at(b"a", 9), Err(StateError::VersionUnknown { version: 9, .. })));
}

/// A reader opened beside the writer (as the snapshot exporter opens a running node's store) keeps the
/// window it read when it opened; once the writer prunes a version, paging through that version's entries
/// fails rather than returning pages with pruned records missing.
#[test]
fn entries_of_a_version_pruned_since_a_reader_opened_are_refused() {
    let retained = 3;
    let store = Arc::new(MemoryStore::new());
    let mut writer = StateDb::open(store.clone(), config(retained)).unwrap();
    let commit = |db: &mut StateDb<Arc<MemoryStore>>, v: u64| {
        let mut o = Overlay::new();
        for i in 0..30u8 {
            o.put(&key(i), format!("{v}-{i}").as_bytes()).unwrap();
        }
        db.commit(v, &o).unwrap();
    };
    for v in 0..4 {
        commit(&mut writer, v);
    }
    let reader = StateDb::open(store.clone(), config(retained)).unwrap();
    assert_eq!(reader.entries_at(1, None, 100).unwrap().len(), 30);
    for v in 4..12 {
        commit(&mut writer, v);
    }
    assert!(writer.oldest_version() > 1);
    assert_eq!(
        reader.entries_at(1, None, 100),
        Err(StateError::VersionPruned { version: 1, oldest: writer.oldest_version() })
    );
    // So is the reader's own latest version, once the writer has pruned it too.
    assert!(matches!(reader.entries_at(3, None, 100), Err(StateError::VersionPruned { version: 3, .. })));
}

#[test]
fn pruning_drops_old_versions_and_their_records() {
    let retained = 3;
    let store = Arc::new(MemoryStore::new());
    let mut db = StateDb::open(store.clone(), config(retained)).unwrap();
    let unpruned_store = Arc::new(MemoryStore::new());
    let mut unpruned = StateDb::open(unpruned_store.clone(), config(1_000)).unwrap();
    let mut model = Model::new();
    let mut roots = Vec::new();
    for v in 0..20u64 {
        let mut o = Overlay::new();
        for i in 0..30u8 {
            let val = format!("{v}-{i}").into_bytes();
            o.put(&key(i), &val).unwrap();
            model.insert(key(i), val);
        }
        if v % 4 == 3 {
            o.delete(&key(v as u8)).unwrap();
            model.remove(&key(v as u8));
        }
        let root = db.commit(v, &o).unwrap();
        assert_eq!(unpruned.commit(v, &o).unwrap(), root);
        assert_eq!(root, model_root(&model));
        roots.push(root);
    }
    assert_eq!(db.oldest_version(), 20 - retained);
    for v in 0..(20 - retained) {
        assert_eq!(
            db.get_at(&key(1), v),
            Err(StateError::VersionPruned { version: v, oldest: 20 - retained })
        );
        assert!(matches!(db.root_at(v), Err(StateError::VersionPruned { .. })));
        assert!(db.get_with_proof(&key(1), v).is_err());
    }
    for v in (20 - retained)..20 {
        assert_eq!(db.root_at(v).unwrap(), roots[v as usize]);
        for i in 0..30u8 {
            let (value, proof) = db.get_with_proof(&key(i), v).unwrap();
            assert_eq!(value, unpruned.get_at(&key(i), v).unwrap());
            proof.verify(&roots[v as usize], &key(i), value.as_deref()).unwrap();
        }
    }
    // Old nodes and values are gone: the pruned store is much smaller than the unpruned one.
    let pruned_nodes = store.len(Column::StateNodes);
    let all_nodes = unpruned_store.len(Column::StateNodes);
    assert!(pruned_nodes * 3 < all_nodes, "pruned {pruned_nodes} vs {all_nodes}");
    assert!(store.len(Column::StateValues) * 3 < unpruned_store.len(Column::StateValues));
    // Records are kept from the horizon: the checkpoint at or below the oldest readable version.
    let horizon = (20 - retained) / INTERVAL * INTERVAL;
    assert_eq!(store.len(Column::StateRoots), (20 - horizon) as usize);
}

#[test]
fn failed_write_leaves_state_intact_and_retry_succeeds() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let mut db = StateDb::open(store.clone(), config(10)).unwrap();
    let mut o = Overlay::new();
    o.put(b"a", b"1").unwrap();
    let r0 = db.commit(0, &o).unwrap();
    let mut o = Overlay::new();
    o.put(b"a", b"2").unwrap();
    o.put(b"b", b"3").unwrap();
    store.inject(0, Fault::FailWrite);
    assert!(matches!(db.commit(1, &o), Err(StateError::Store(_))));
    assert_eq!(db.latest_version(), Some(0));
    assert_eq!(db.root(), r0);
    assert_eq!(db.get(b"a").unwrap(), Some(b"1".to_vec()));
    let reopened = StateDb::open(store.clone(), config(10)).unwrap();
    assert_eq!(reopened.root(), r0);
    let r1 = db.commit(1, &o).unwrap();
    let mut expected = Model::new();
    expected.insert(b"a".to_vec(), b"2".to_vec());
    expected.insert(b"b".to_vec(), b"3".to_vec());
    assert_eq!(r1, model_root(&expected));
}

#[test]
fn prepared_commit_is_rejected_after_the_state_moved_on() {
    let mut db = StateDb::open(MemoryStore::new(), config(10)).unwrap();
    let mut p = db.prepare_commit(0, &Overlay::new()).unwrap();
    db.commit(0, &Overlay::new()).unwrap();
    let batch = p.take_batch();
    assert_eq!(db.write_commit(p, batch), Err(StateError::StalePreparedCommit(0)));
}

/// Ten retained versions and no node cache.
fn no_cache() -> StateConfig {
    StateConfig { retained_versions: 10, node_cache_nodes: 0, ..Default::default() }
}

/// A store holding version 0 of forty keys, committed by a state without a node cache (and then closed: an
/// open state holds its latest tree in memory, so a state opened afterwards reads what the store holds).
fn forty_keys_without_a_node_cache() -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    let mut db = StateDb::open(store.clone(), no_cache()).unwrap();
    let mut o = Overlay::new();
    for i in 0..40u8 {
        o.put(&key(i), b"v").unwrap();
    }
    db.commit(0, &o).unwrap();
    store
}

#[test]
fn damaged_node_is_reported_with_its_column() {
    let store = forty_keys_without_a_node_cache();
    let nodes = store.scan(Column::StateNodes, &[], None, 1_000).unwrap();
    for (k, _) in &nodes {
        store.put(Column::StateNodes, k, &[9, 9, 9]).unwrap();
    }
    let db = StateDb::open(store, no_cache()).unwrap();
    let err = db.get_with_proof(&key(1), 0).unwrap_err();
    assert!(err.to_string().contains("state_nodes"), "{err}");
}

#[test]
fn large_block_root_matches_reference() {
    let mut db = StateDb::open(MemoryStore::new(), config(10)).unwrap();
    let mut model = Model::new();
    for v in 0..3u64 {
        let mut o = Overlay::new();
        for i in 0..3_000u32 {
            let k = format!("k{}", i * 7 + v as u32 * 1_000).into_bytes();
            let val = format!("{v}:{i}").into_bytes();
            o.put(&k, &val).unwrap();
            model.insert(k, val);
        }
        assert_eq!(db.commit(v, &o).unwrap(), model_root(&model));
    }
    let entries = db.entries_at(2, None, usize::MAX).unwrap();
    assert_eq!(entries.len(), model.len());
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = db.entries_at(2, after.as_ref(), 777).unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.key_hash);
        paged.extend(page);
    }
    assert_eq!(paged, entries);
    let old = db.entries_at(0, None, usize::MAX).unwrap();
    assert_eq!(old.len(), 3_000);
}

/// Blocks large enough to be applied on two threads (updates, inserts and deletes across the whole key
/// space): roots match the reference, every key reads and proves at every retained version, the key index
/// (entries) matches, and pruning through the stale lists both threads wrote removes every old record.
#[test]
fn large_parallel_blocks_with_deletes_prove_and_prune() {
    let retained = 2;
    let store = Arc::new(MemoryStore::new());
    let mut db = StateDb::open(store.clone(), config(retained)).unwrap();
    let mut model = Model::new();
    let mut states = Vec::new();
    let k = acct;
    let mix = Mix { changes: 4_000, stride: 13, shift: 997, keys: 9_000, delete_every: 5 };
    for v in 0..6u64 {
        let o = mixed_block(v, &mix, &mut model);
        let root = db.commit(v, &o).unwrap();
        assert_eq!(root, model_root(&model), "version {v}");
        states.push((root, model.clone()));
    }
    for v in (6 - retained)..6 {
        let (root, m) = &states[v as usize];
        for i in (0..9_000u32).step_by(7) {
            let (value, proof) = db.get_with_proof(&k(i), v).unwrap();
            assert_eq!(value.as_deref(), m.get(&k(i)).map(Vec::as_slice), "key {i} at {v}");
            proof.verify(root, &k(i), value.as_deref()).unwrap();
        }
        assert_eq!(db.entries_at(v, None, usize::MAX).unwrap().len(), m.len());
    }
    // Only the retained versions' records remain: each value record is live at a retained version.
    let live: usize = states[(6 - retained) as usize..].iter().map(|(_, m)| m.len()).sum();
    assert!(
        store.len(Column::StateValues) <= live + 4_000,
        "{} value records",
        store.len(Column::StateValues)
    );
    assert_eq!(store.len(Column::StateRoots), retained as usize);
}

/// A state without a node cache or upper tree loads every node from its record, getting the children's
/// hashes from their records and the leaves' from their value records: it must commit the same roots and
/// prove the same values as a state that keeps its nodes in memory.
#[test]
fn a_state_without_node_cache_matches_one_with() {
    let cold_store = Arc::new(MemoryStore::new());
    let mut cold = StateDb::open(
        cold_store.clone(),
        StateConfig { retained_versions: 4, node_cache_nodes: 0, linked_depth: 0, checkpoint_interval: 1 },
    )
    .unwrap();
    let mut warm = StateDb::open(MemoryStore::new(), config(4)).unwrap();
    let k = |i: u32| format!("k/{i}").into_bytes();
    for v in 0..6u64 {
        let mut o = Overlay::new();
        for i in 0..600u32 {
            let i = (i * 7 + v as u32 * 131) % 2_000;
            if i % 11 == 3 && v > 0 {
                o.delete(&k(i)).unwrap();
            } else {
                o.put(&k(i), &[v as u8; 9]).unwrap();
            }
        }
        assert_eq!(cold.commit(v, &o).unwrap(), warm.commit(v, &o).unwrap(), "version {v}");
    }
    for v in 2..6u64 {
        let root = warm.root_at(v).unwrap();
        for i in (0..2_000u32).step_by(97) {
            let (value, proof) = cold.get_with_proof(&k(i), v).unwrap();
            assert_eq!((value.clone(), proof.clone()), warm.get_with_proof(&k(i), v).unwrap());
            proof.verify(&root, &k(i), value.as_deref()).unwrap();
        }
    }
    let reopened = StateDb::open(cold_store, config(4)).unwrap();
    assert_eq!(reopened.root(), warm.root());
    assert_eq!(reopened.get_with_proof(&k(5), 5).unwrap(), warm.get_with_proof(&k(5), 5).unwrap());
}

/// After a reopen the latest tree's upper nodes are held in memory only where commits rebuilt them; the rest
/// is read from the store. Such a mixed tree must commit the roots and prove the values that a state which
/// never closed does, and a state opened again afterwards (reading only the store) must agree with both.
#[test]
fn a_partly_linked_tree_after_a_reopen_matches_one_never_closed() {
    let store = Arc::new(MemoryStore::new());
    let mut never_closed = StateDb::open(MemoryStore::new(), config(8)).unwrap();
    let mut reopened = StateDb::open(store.clone(), config(8)).unwrap();
    let k = acct;
    // 3,000 keys: every node of depths 0-2 has all 16 children, so later blocks leave most upper nodes as
    // they were loaded.
    let mut o = Overlay::new();
    for i in 0..3_000u32 {
        o.put(&k(i), &i.to_le_bytes()).unwrap();
    }
    assert_eq!(reopened.commit(0, &o).unwrap(), never_closed.commit(0, &o).unwrap());
    drop(reopened);
    let mut reopened = StateDb::open(store.clone(), config(8)).unwrap();
    for v in 1..6u64 {
        // A few keys per block: each rebuilds a handful of paths and leaves the rest out of the upper tree.
        let mut o = Overlay::new();
        for j in 0..5u32 {
            let i = (j * 613 + v as u32 * 97) % 3_200;
            if j == 4 {
                o.delete(&k(i)).unwrap();
            } else {
                o.put(&k(i), &[v as u8; 5]).unwrap();
            }
        }
        assert_eq!(reopened.commit(v, &o).unwrap(), never_closed.commit(v, &o).unwrap(), "version {v}");
    }
    let root = never_closed.root();
    let fresh = StateDb::open(store, config(8)).unwrap();
    assert_eq!(fresh.root(), root);
    for i in (0..3_200u32).step_by(37) {
        let expected = never_closed.get_with_proof(&k(i), 5).unwrap();
        expected.1.verify(&root, &k(i), expected.0.as_deref()).unwrap();
        assert_eq!(reopened.get_with_proof(&k(i), 5).unwrap(), expected, "key {i}");
        assert_eq!(fresh.get_with_proof(&k(i), 5).unwrap(), expected, "key {i}");
    }
}

/// A value record that no longer matches the leaf hash its parent node was written with is found when the
/// node is loaded, and reported with its column.
#[test]
fn damaged_value_below_a_node_is_reported_when_the_node_is_loaded() {
    let store = forty_keys_without_a_node_cache();
    let values = store.scan(Column::StateValues, &[], None, 1_000).unwrap();
    for (k, bytes) in &values {
        let mut record = purse_state::records::ValueRecord::decode(k, bytes).unwrap();
        record.value = Some(b"w".to_vec());
        store.put(Column::StateValues, k, &purse_types::encode(&record)).unwrap();
    }
    // The state loads the root node from its record, and its leaves' hashes from their values.
    let db = StateDb::open(store, no_cache()).unwrap();
    let err = db.get_with_proof(&key(1), 0).unwrap_err();
    assert!(err.to_string().contains("state_nodes"), "{err}");
    assert!(err.to_string().contains("node hash does not match its children"), "{err}");
}

/// A commit puts its nodes in the node cache while the store writes (`write_commit`). If the write fails and
/// a different block is committed at that version instead, nothing of the failed one may be read back.
#[test]
fn a_failed_commit_then_a_different_one_at_that_version_reads_only_the_second() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let cfg = StateConfig {
        retained_versions: 10,
        node_cache_nodes: 1 << 16,
        linked_depth: 0,
        checkpoint_interval: 1,
    };
    let mut db = StateDb::open(store.clone(), cfg).unwrap();
    let k = |i: u32| format!("k/{i}").into_bytes();
    let mut model = Model::new();
    let mut o = Overlay::new();
    for i in 0..6_000u32 {
        o.put(&k(i), b"base").unwrap();
        model.insert(k(i), b"base".to_vec());
    }
    db.commit(0, &o).unwrap();
    // Every node goes through the cache (no upper tree), and the block is large enough for the cache
    // update to run beside the write.
    let mut failed = Overlay::new();
    for i in 0..6_000u32 {
        failed.put(&k(i), b"failed").unwrap();
    }
    store.inject(0, Fault::FailWrite);
    assert!(db.commit(1, &failed).is_err());
    let mut second = Overlay::new();
    for i in (0..6_000u32).step_by(3) {
        second.put(&k(i), b"second").unwrap();
        model.insert(k(i), b"second".to_vec());
    }
    let root = db.commit(1, &second).unwrap();
    assert_eq!(root, model_root(&model));
    for i in (0..6_000u32).step_by(37) {
        let (value, proof) = db.get_with_proof(&k(i), 1).unwrap();
        assert_eq!(value.as_ref(), model.get(&k(i)));
        proof.verify(&root, &k(i), value.as_deref()).unwrap();
    }
    // The next block builds on the second one's nodes.
    let mut third = Overlay::new();
    third.put(&k(1), b"third").unwrap();
    model.insert(k(1), b"third".to_vec());
    assert_eq!(db.commit(2, &third).unwrap(), model_root(&model));
}
