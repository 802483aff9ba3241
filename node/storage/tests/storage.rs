//! Block store, format checks, corruption detection, fault injection and snapshots on RocksDB.

// Test helpers outside #[test] functions may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use purse_state::{Column, Fault, FaultyStore, KvStore};
use purse_storage::{import_snapshot, RocksConfig, RocksStore, Storage, StorageError};
use purse_types::Hash;
use std::sync::Arc;

fn rocks(dir: &std::path::Path) -> RocksStore {
    RocksStore::open(dir, RocksConfig::default()).unwrap()
}

#[test]
fn blocks_receipts_and_indexes_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
        for h in 0..5 {
            let head = commit(&mut s, h).unwrap();
            assert_eq!(head.height, h);
        }
        assert!(matches!(
            commit(&mut s, 7),
            Err(StorageError::State(purse_state::StateError::NonSequentialVersion { expected: 5, got: 7 }))
        ));
    }
    let s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
    let head = s.head().unwrap();
    assert_eq!(head.height, 4);
    assert_eq!(head.state_root, expected_root(4));
    assert_eq!(s.state().root(), head.state_root);
    for h in 0..5 {
        assert_eq!(s.block(h).unwrap(), Some(block_bytes(h)));
        assert_eq!(s.block_by_hash(&block_hash(h)).unwrap(), Some(block_bytes(h)));
        assert_eq!(s.header_by_hash(&block_hash(h)).unwrap(), Some(format!("header {h}").into_bytes()));
        assert_eq!(s.certificate_by_hash(&block_hash(h)).unwrap(), Some(format!("cert {h}").into_bytes()));
        assert_eq!(s.height_of(&block_hash(h)).unwrap(), Some(h));
        let info = s.block_info(h).unwrap().unwrap();
        assert_eq!(info.tx_ids, (0..3).map(|i| tx_id(h, i)).collect::<Vec<_>>());
        assert_eq!(info.state_root, expected_root(h));
        let (loc, receipt) = s.receipt(&tx_id(h, 2)).unwrap().unwrap();
        assert_eq!((loc.height, loc.index), (h, 2));
        assert_eq!(receipt, format!("receipt {h}/2").into_bytes());
        assert_eq!(s.receipts(h, 1, 10).unwrap().len(), 2);
        assert_eq!(s.state().root_at(h).unwrap(), expected_root(h));
    }
    assert_eq!(s.block(5).unwrap(), None);
    assert_eq!(s.receipt(&tx_id(9, 0)).unwrap(), None);
    assert_eq!(s.block_by_hash(&Hash([3; 32])).unwrap(), None);
}

#[test]
fn state_root_must_match_the_block() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
    let prepared = s.state().prepare_commit(0, &block_overlay(0)).unwrap();
    let bundle = purse_storage::CommitBundle {
        height: 0,
        block_hash: block_hash(0),
        state_root: Hash([1; 32]),
        header: vec![],
        block: vec![],
        certificate: None,
        receipts: vec![],
        parties: Vec::new(),
    };
    assert!(matches!(s.commit_block(bundle, prepared), Err(StorageError::StateRootMismatch { .. })));
    assert_eq!(s.head(), None);
}

#[test]
fn another_chain_or_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
        commit(&mut s, 0).unwrap();
    }
    let err = Storage::open(rocks(dir.path()), "other-chain", state_config()).unwrap_err();
    assert!(matches!(&err, StorageError::WrongChain { found, .. } if found == CHAIN), "{err}");
    {
        let store = rocks(dir.path());
        let newer = purse_storage::FormatRecord { format_version: 99, chain_id: CHAIN.into() };
        store.put(Column::Meta, b"format", &purse_types::encode(&newer)).unwrap();
    }
    let err = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap_err();
    assert!(matches!(err, StorageError::NewerFormat { found: 99, .. }), "{err}");
}

#[test]
fn data_without_format_record_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = rocks(dir.path());
    store.put(Column::Blocks, b"stray", b"x").unwrap();
    assert!(matches!(Storage::open(store, CHAIN, state_config()), Err(StorageError::MissingFormatRecord)));
}

/// Flips one byte of a value inside RocksDB's files, by rewriting the record raw through a second handle with
/// the checksum left stale: simulates on-disk damage that RocksDB's own block checksums would not see (a
/// bad write by the application layer or a bit flip before the block was checksummed).
#[test]
fn damaged_record_is_reported_with_column_and_key() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
        commit(&mut s, 0).unwrap();
    }
    let key = {
        let mut k = 0u64.to_be_bytes().to_vec();
        k.push(1); // BlockPart::Block
        k
    };
    {
        let opts = {
            let mut o = rocksdb::Options::default();
            o.create_if_missing(false);
            o
        };
        let cfs: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
        let db = rocksdb::DB::open_cf(&opts, dir.path(), cfs).unwrap();
        let cf = db.cf_handle("blocks").unwrap();
        let mut raw = db.get_cf(cf, &key).unwrap().unwrap();
        raw[3] ^= 0x10;
        db.put_cf(cf, &key, raw).unwrap();
    }
    let s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
    let err = s.block(0).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("blocks") && msg.contains(&purse_state::hex_key(&key)) && msg.contains("checksum"),
        "{msg}"
    );
    // Other records are still readable.
    assert!(s.header(0).unwrap().is_some());
}

#[test]
fn io_error_during_commit_leaves_previous_state_intact() {
    let dir = tempfile::tempdir().unwrap();
    let store = FaultyStore::new(rocks(dir.path()));
    let mut s = Storage::open(store, CHAIN, state_config()).unwrap();
    for h in 0..3 {
        commit(&mut s, h).unwrap();
    }
    let before = s.head().unwrap();
    s.store().inject(0, Fault::FailWrite);
    assert!(matches!(commit(&mut s, 3), Err(StorageError::Store(_))));
    assert_eq!(s.head(), Some(before));
    assert_eq!(s.state().root(), before.state_root);
    assert_eq!(s.block(3).unwrap(), None);
    assert_eq!(s.receipt(&tx_id(3, 0)).unwrap(), None);
    // Retrying works and gives the reference root; a reopen sees the same.
    let head = commit(&mut s, 3).unwrap();
    assert_eq!(head.state_root, expected_root(3));
    drop(s);
    let s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
    assert_eq!(s.head(), Some(head));
}

/// Pipelined blocks (ADR 0020): a failed write of a submitted block fails the block submitted after it too;
/// settling reports it and puts the head and the state back to the last block in the store, and the store's
/// other writes (the consensus WAL here) refuse to land after a failed block. Retrying commits both.
#[test]
fn a_failed_pipelined_block_puts_the_head_back_and_holds_later_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FaultyStore::new(rocks(dir.path())));
    let mut s = Storage::open(store.clone(), CHAIN, state_config()).unwrap();
    for h in 0..3 {
        submit(&mut s, h).unwrap();
    }
    s.settle().unwrap();
    let before = s.head().unwrap();
    assert_eq!(before.state_root, expected_root(2));
    store.inject(0, Fault::FailWrite);
    assert_eq!(submit(&mut s, 3).unwrap().height, 3);
    assert_eq!(submit(&mut s, 4).unwrap().height, 4);
    assert!(s.wal_append(0, b"after the failed block").is_err());
    assert!(s.block(3).is_err(), "a block read waits for the writes and reports the failure");
    assert!(matches!(s.settle(), Err(StorageError::State(_))));
    assert_eq!(s.head(), Some(before));
    assert_eq!(s.state().root(), before.state_root);
    assert_eq!(s.block(3).unwrap(), None);
    assert_eq!(s.block(4).unwrap(), None);
    assert_eq!(s.wal_entries(0, 10).unwrap(), Vec::new());
    for h in 3..5 {
        submit(&mut s, h).unwrap();
    }
    s.wal_append(0, b"entry").unwrap();
    assert_eq!(s.head().unwrap().state_root, expected_root(4));
    drop((s, store));
    let s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
    assert_eq!(s.head().unwrap().state_root, expected_root(4));
    assert!(s.block(4).unwrap().is_some());
}

#[test]
fn failed_write_then_reopen_gives_previous_block() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = FaultyStore::new(rocks(dir.path()));
        let mut s = Storage::open(store, CHAIN, state_config()).unwrap();
        commit(&mut s, 0).unwrap();
        commit(&mut s, 1).unwrap();
        s.store().inject(0, Fault::FailReads);
        assert!(commit(&mut s, 2).is_err());
    }
    let s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
    assert_eq!(s.head().unwrap().height, 1);
    assert_eq!(s.state().root(), expected_root(1));
}

#[test]
fn torn_commit_is_detected_on_open() {
    for applied in [1usize, 5, 40] {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = FaultyStore::new(rocks(dir.path()));
            let mut s = Storage::open(store, CHAIN, state_config()).unwrap();
            commit(&mut s, 0).unwrap();
            s.store().inject(0, Fault::TearWrite { applied_ops: applied });
            assert!(commit(&mut s, 1).is_err());
        }
        let err = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap_err();
        assert!(matches!(err, StorageError::TornCommit { height: 1 }), "{err}");
    }
}

#[test]
fn snapshot_round_trip_and_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
    for h in 0..6 {
        commit(&mut s, h).unwrap();
    }
    let snap = dir.path().join("state-4.snap");
    let header = s.export_snapshot(4, &snap).unwrap();
    assert_eq!(header.state_root, expected_root(4));
    assert_eq!(header.block_hash, block_hash(4));
    let expected_count = s.state().entries_at(4, None, 100_000).unwrap().len() as u64;
    assert_eq!(header.count, expected_count);
    assert!(expected_count > 50);

    // Import into an empty store: same root, same values, proofs verify.
    let dir2 = tempfile::tempdir().unwrap();
    let imported =
        import_snapshot(rocks(dir2.path()), CHAIN, state_config(), &snap, &header.state_root).unwrap();
    assert_eq!(imported.head().unwrap().height, 4);
    assert_eq!(imported.state().root(), header.state_root);
    for i in 0..200 {
        let k = format!("acct/{i}").into_bytes();
        let v = s.state().get_at(&k, 4).unwrap();
        assert_eq!(imported.state().get(&k).unwrap(), v);
        let (pv, proof) = imported.state().get_with_proof(&k, 4).unwrap();
        proof.verify(&header.state_root, &k, pv.as_deref()).unwrap();
    }
    drop(imported);
    let reopened = Storage::open(rocks(dir2.path()), CHAIN, state_config()).unwrap();
    assert_eq!(reopened.state().root(), header.state_root);
    drop(reopened);
    // Not into a non-empty store.
    assert!(matches!(
        import_snapshot(rocks(dir2.path()), CHAIN, state_config(), &snap, &header.state_root),
        Err(StorageError::NotEmpty)
    ));

    // Wrong expected root.
    let d = tempfile::tempdir().unwrap();
    let err = import_snapshot(rocks(d.path()), CHAIN, state_config(), &snap, &expected_root(3)).unwrap_err();
    assert!(matches!(err, StorageError::SnapshotRootMismatch { .. }), "{err}");

    // Any flipped byte is rejected.
    let bytes = std::fs::read(&snap).unwrap();
    for pos in [0, 20, bytes.len() / 2, bytes.len() - 40, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[pos] ^= 0x01;
        let bad_path = d.path().join(format!("bad-{pos}.snap"));
        std::fs::write(&bad_path, &bad).unwrap();
        let d2 = tempfile::tempdir().unwrap();
        let r = import_snapshot(rocks(d2.path()), CHAIN, state_config(), &bad_path, &header.state_root);
        assert!(r.is_err(), "flip at {pos} accepted");
    }
    // Truncated.
    let cut = d.path().join("cut.snap");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let d3 = tempfile::tempdir().unwrap();
    assert!(import_snapshot(rocks(d3.path()), CHAIN, state_config(), &cut, &header.state_root).is_err());
}

/// A snapshot file larger than an import may hold in memory is refused before any of it is read: a peer
/// serving state sync chooses the file and its checksum, so its size is checked before the checksum can be.
#[test]
fn a_snapshot_file_over_the_size_limit_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
    for h in 0..3 {
        commit(&mut s, h).unwrap();
    }
    let snap = dir.path().join("state-2.snap");
    let header = s.export_snapshot(2, &snap).unwrap();
    // The same valid file, grown (sparsely: no disk is used) one byte past the limit.
    let big = dir.path().join("big.snap");
    std::fs::copy(&snap, &big).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(purse_storage::MAX_SNAPSHOT_FILE_BYTES + 1)
        .unwrap();
    let d = tempfile::tempdir().unwrap();
    let err = import_snapshot(rocks(d.path()), CHAIN, state_config(), &big, &header.state_root).unwrap_err();
    assert!(matches!(&err, StorageError::SnapshotInvalid(m) if m.contains("a snapshot may have")), "{err}");
    // At the limit the size passes and the file's own damage is found: bytes after the checksum.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(purse_storage::MAX_SNAPSHOT_FILE_BYTES)
        .unwrap();
    let d = tempfile::tempdir().unwrap();
    let err = import_snapshot(rocks(d.path()), CHAIN, state_config(), &big, &header.state_root).unwrap_err();
    assert!(matches!(&err, StorageError::SnapshotInvalid(m) if m.contains("after the checksum")), "{err}");
}

#[test]
fn wal_and_signer_state_persist() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
        for seq in 0..10u64 {
            s.wal_append(seq, format!("entry {seq}").as_bytes()).unwrap();
        }
        assert_eq!(s.wal_truncate(4).unwrap(), 4);
        s.save_signer_state(b"h=7 r=0 step=precommit").unwrap();
    }
    let s = Storage::open(rocks(dir.path()), CHAIN, state_config()).unwrap();
    let entries = s.wal_entries(0, 100).unwrap();
    assert_eq!(entries.first().map(|e| e.0), Some(4));
    assert_eq!(entries.len(), 6);
    assert_eq!(entries[1], (5, b"entry 5".to_vec()));
    assert_eq!(s.signer_state().unwrap(), Some(b"h=7 r=0 step=precommit".to_vec()));
    // A record holding a block of the largest size fits; one beyond the limit is refused.
    let big = vec![7u8; purse_types::block::MAX_BLOCK_BYTES + 4096];
    s.wal_append(10, &big).unwrap();
    assert_eq!(s.wal_entries(10, 1).unwrap(), vec![(10, big)]);
    assert!(s.wal_append(11, &vec![0u8; purse_storage::MAX_WAL_ENTRY_LEN + 1]).is_err());
}

#[test]
fn pruned_height_cannot_be_exported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = purse_state::StateConfig { retained_versions: 2, node_cache_nodes: 100, ..Default::default() };
    let mut s = Storage::open(rocks(dir.path()), CHAIN, cfg).unwrap();
    for h in 0..5 {
        commit(&mut s, h).unwrap();
    }
    let err = s.export_snapshot(1, &dir.path().join("x.snap")).unwrap_err();
    assert!(
        matches!(err, StorageError::State(purse_state::StateError::VersionPruned { version: 1, oldest: 3 })),
        "{err}"
    );
}

#[test]
fn account_history_lists_the_transactions_naming_an_account_in_order_with_paging() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Storage::open(Arc::new(rocks(dir.path())), CHAIN, state_config()).unwrap();
    for h in 0..=3 {
        commit(&mut s, h).unwrap();
    }
    let reader = s.reader();
    let all = reader.account_txs(&account(0), None, 100).unwrap();
    let expected: Vec<(u64, u32, Hash)> =
        (0..=3u64).flat_map(|h| [(h, 0u32, tx_id(h, 0)), (h, 2, tx_id(h, 2))]).collect();
    assert_eq!(all.iter().map(|t| (t.height, t.index, t.tx_id)).collect::<Vec<_>>(), expected);
    // Paging: three at a time, each page after the last entry of the previous one.
    let page = reader.account_txs(&account(0), None, 3).unwrap();
    let next = reader.account_txs(&account(0), Some((page[2].height, page[2].index)), 3).unwrap();
    assert_eq!(page.iter().chain(&next).copied().collect::<Vec<_>>(), all[..6].to_vec());
    assert_eq!(reader.account_txs(&account(1), None, 100).unwrap().len(), 4);
    assert!(reader.account_txs(&account(2), None, 100).unwrap().is_empty());
}
