//! Owned read handles on committed state, and the ordered key index that gives prefix scans.
//!
//! The tree orders keys by their hash, so it cannot list "every key starting with `b/alice`". The
//! [`Column::StateIndex`] column holds the live keys of the *latest* version in raw-key order (written in the
//! same atomic batch as the version itself, see [`index_ops`]); a [`StateView`] scans it and reads each value.
//! Point reads work at any retained version; scans only at the latest one.

use crate::kv::{check_scan_limit, key_successor, prefix_end, KvEntry, KvStore, StoreError, WriteBatch};
use crate::pipeline::PendingSet;
use crate::records::{decode_u64, value_key, ValueRecord, META_LATEST, META_OLDEST};
use crate::state_proof::state_key_hash;
use crate::{Column, StateError};
use std::sync::Arc;

/// Value of `key` at `version`, read from the versioned value table (no version-window check).
pub(crate) fn read_value<S: KvStore + ?Sized>(
    store: &S,
    key: &[u8],
    version: u64,
) -> Result<Option<Vec<u8>>, StateError> {
    let kh = state_key_hash(key);
    let start = value_key(&kh, version);
    let end = prefix_end(&kh.0);
    let found = store.scan(Column::StateValues, &start, end.as_deref(), 1)?;
    let Some((k, bytes)) = found.into_iter().next() else { return Ok(None) };
    let record = ValueRecord::decode(&k, &bytes)?;
    if record.key != key {
        return Err(StoreError::corrupt(Column::StateValues, &k, "record holds another key").into());
    }
    Ok(record.value)
}

/// Appends to `batch` the key-index updates of a commit: `(key, true)` for each key the commit creates (a
/// put), `(key, false)` for each existing key it deletes (a delete). Keys whose value only changes are already
/// indexed and need no write; the tree update (which sees every key's previous leaf) reports which are which.
/// They are added in key order (each key appears once), which is the order a store inserts fastest.
pub(crate) fn index_ops(mut changes: Vec<(Vec<u8>, bool)>, batch: &mut WriteBatch) {
    changes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (key, created) in changes {
        if created {
            batch.put(Column::StateIndex, key, Vec::new());
        } else {
            batch.delete(Column::StateIndex, key);
        }
    }
}

/// The u64 meta record at `key`, if any.
pub(crate) fn meta_u64<S: KvStore + ?Sized>(store: &S, key: &[u8]) -> Result<Option<u64>, StateError> {
    match store.get(Column::Meta, key)? {
        Some(b) => Ok(Some(decode_u64(Column::Meta, key, &b)?)),
        None => Ok(None),
    }
}

/// A cheap, cloneable, `'static` read handle on one committed version of the state: what contract
/// execution, the mempool and RPC queries hold while the node keeps committing.
///
/// Reads check the version is still inside the retention window, so a view kept past pruning fails with
/// [`StateError::VersionPruned`] instead of reading a half-pruned version.
#[derive(Debug, Clone)]
pub struct StateView<S> {
    store: S,
    version: Option<u64>,
    /// The state's submitted versions whose writes may not have landed (module `pipeline`): a view reads
    /// their changes before the store, and waits for their writes before a scan.
    pending: Option<Arc<PendingSet>>,
}

impl<S: KvStore> StateView<S> {
    /// A view of `version` (`None`: the empty state before the first commit).
    pub fn new(store: S, version: Option<u64>) -> StateView<S> {
        StateView { store, version, pending: None }
    }

    /// A view of `version` of a state whose submitted version `pending` may not be in the store yet.
    pub(crate) fn with_pending(
        store: S,
        version: Option<u64>,
        pending: Option<Arc<PendingSet>>,
    ) -> StateView<S> {
        StateView { store, version, pending }
    }

    /// A view of the latest committed version of the state held in `store`.
    pub fn latest(store: S) -> Result<StateView<S>, StateError> {
        let version = meta_u64(&store, META_LATEST)?;
        Ok(StateView { store, version, pending: None })
    }

    /// The version this view reads.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    fn check_window(&self, version: u64) -> Result<(), StateError> {
        let oldest = meta_u64(&self.store, META_OLDEST)?.unwrap_or(0);
        if version < oldest {
            return Err(StateError::VersionPruned { version, oldest });
        }
        Ok(())
    }

    /// Value of `key` in this version.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        let Some(version) = self.version else { return Ok(None) };
        let pending = match &self.pending {
            Some(p) => p.change(version, key)?,
            None => None,
        };
        let value = match pending {
            Some(change) => change,
            None => read_value(&self.store, key, version)?,
        };
        // Checked after the read: if pruning began before the read finished, the read may be wrong.
        self.check_window(version)?;
        Ok(value)
    }

    /// Up to `limit` entries whose key starts with `prefix` and is `>= from`, in raw-key order. Only the
    /// latest version can be scanned ([`StateError::ScanNotLatest`] otherwise).
    pub fn scan(&self, prefix: &[u8], from: &[u8], limit: usize) -> Result<Vec<KvEntry>, StateError> {
        match self.version {
            Some(version) => {
                // The key index of a submitted version is in its batch: the scan waits for it to land.
                if let Some(p) = &self.pending {
                    p.wait()?;
                }
                scan_index(&self.store, version, prefix, from, limit)
            }
            None => check_scan_limit(limit).map(|()| Vec::new()).map_err(Into::into),
        }
    }
}

/// Prefix scan of the latest version `version` through the key index (see [`StateView::scan`]).
pub(crate) fn scan_index<S: KvStore + ?Sized>(
    store: &S,
    version: u64,
    prefix: &[u8],
    from: &[u8],
    limit: usize,
) -> Result<Vec<KvEntry>, StateError> {
    check_scan_limit(limit)?;
    let latest = meta_u64(store, META_LATEST)?;
    if latest != Some(version) {
        return Err(StateError::ScanNotLatest { version, latest });
    }
    let end = prefix_end(prefix);
    let mut out = Vec::new();
    let mut cursor = if from > prefix { from.to_vec() } else { prefix.to_vec() };
    while out.len() < limit {
        let want = limit - out.len();
        let page = store.scan(Column::StateIndex, &cursor, end.as_deref(), want)?;
        let Some((last, _)) = page.last() else { break };
        cursor = key_successor(last);
        let full = page.len() == want;
        for (key, _) in page {
            match read_value(store, &key, version)? {
                Some(value) => out.push((key, value)),
                None => {
                    return Err(
                        StoreError::corrupt(Column::StateIndex, &key, "indexed key has no value").into()
                    )
                }
            }
        }
        if !full {
            break;
        }
    }
    // A commit racing the scan would make the index newer than `version`.
    let after = meta_u64(store, META_LATEST)?;
    if after != Some(version) {
        return Err(StateError::ScanNotLatest { version, latest: after });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryStore, Overlay, StateConfig, StateDb};
    use std::sync::Arc;

    fn db() -> StateDb<Arc<MemoryStore>> {
        StateDb::open(Arc::new(MemoryStore::new()), StateConfig::default()).unwrap()
    }

    fn commit(db: &mut StateDb<Arc<MemoryStore>>, version: u64, puts: &[(&str, &str)], dels: &[&str]) {
        let mut o = Overlay::new();
        for (k, v) in puts {
            o.put(k.as_bytes(), v.as_bytes()).unwrap();
        }
        for k in dels {
            o.delete(k.as_bytes()).unwrap();
        }
        db.commit(version, &o).unwrap();
    }

    #[test]
    fn view_reads_its_version_and_scans_latest_in_key_order() {
        let mut db = db();
        commit(
            &mut db,
            0,
            &[("b/alice/x", "1"), ("b/alice/y", "2"), ("b/bob/x", "3"), ("a/alice", "k")],
            &[],
        );
        let v0 = db.view();
        commit(&mut db, 1, &[("b/alice/z", "4"), ("b/alice/x", "9")], &["b/alice/y"]);
        let v1 = db.view();

        assert_eq!(v0.get(b"b/alice/x").unwrap().as_deref(), Some(&b"1"[..]));
        assert_eq!(v1.get(b"b/alice/x").unwrap().as_deref(), Some(&b"9"[..]));
        assert_eq!(v0.get(b"b/alice/y").unwrap().as_deref(), Some(&b"2"[..]));
        assert_eq!(v1.get(b"b/alice/y").unwrap(), None);

        let all = v1.scan(b"b/alice/", b"", 100).unwrap();
        let keys: Vec<&[u8]> = all.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(keys, vec![&b"b/alice/x"[..], b"b/alice/z"]);
        assert_eq!(all[0].1, b"9");
        // Paging: limit and resume.
        let first = v1.scan(b"b/", b"", 1).unwrap();
        assert_eq!(first.len(), 1);
        let rest = v1.scan(b"b/", &key_successor(&first[0].0), 100).unwrap();
        assert_eq!(rest.len(), 2);
        // An old version cannot be scanned.
        assert!(matches!(v0.scan(b"b/", b"", 10), Err(StateError::ScanNotLatest { .. })));
    }

    #[test]
    fn view_of_a_pruned_version_fails() {
        let mut db = StateDb::open(
            Arc::new(MemoryStore::new()),
            StateConfig { retained_versions: 2, ..Default::default() },
        )
        .unwrap();
        commit(&mut db, 0, &[("k", "0")], &[]);
        let v0 = db.view();
        for v in 1..5 {
            commit(&mut db, v, &[("k", "x")], &[]);
        }
        assert!(matches!(v0.get(b"k"), Err(StateError::VersionPruned { .. })));
    }

    #[test]
    fn empty_state_view_reads_nothing() {
        let v = StateView::latest(Arc::new(MemoryStore::new())).unwrap();
        assert_eq!(v.version(), None);
        assert_eq!(v.get(b"k").unwrap(), None);
        assert!(v.scan(b"", b"", 10).unwrap().is_empty());
    }
}
