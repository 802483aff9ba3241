//! The authenticated state over a [`KvStore`]: versioned reads, proofs and batched commits.

use crate::cache::{IdMap, NodeCache};
use crate::checkpoint::{changes_at, write_unwritten};
use crate::hashing;
use crate::kv::{key_successor, prefix_end, KvEntry, KvStore, StoreError, WriteBatch};
use crate::node::{ChildRef, Node, NodeId, NodeKey, NodeRecord, LINKED_DEPTH, MAX_LINKED_DEPTH};
use crate::overlay::Overlay;
use crate::pipeline::{Landing, Pending, PendingSet, MAX_PENDING_WRITES};
use crate::records::{
    decode_stale_list, parse_stale_key, parse_value_key, root_key, value_key, RootRecord, ValueRecord,
    META_CHECKPOINT, META_HORIZON, META_LATEST, META_OLDEST, VALUE_KEY_LEN,
};
use crate::state_proof::{nibble, state_key_hash, ProofLevel, ProofTerminal, StateProof};
use crate::update::{Change, Leaf, Root, TreeUpdate};
use crate::upper::UpperTree;
use crate::view::meta_u64;
use crate::{Column, StateError};
use parking_lot::{Mutex, RwLock};
use purse_types::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Default of [`StateConfig::checkpoint_interval`].
pub const DEFAULT_CHECKPOINT_INTERVAL: u64 = 16;
/// Node cache of the temporary state that rebuilds an older version's tree for a proof, in nodes.
const REBUILD_CACHE_NODES: usize = 1 << 14;
/// Default number of versions kept readable.
pub const DEFAULT_RETAINED_VERSIONS: u64 = 1_000;
/// Default node cache size, in nodes.
pub const DEFAULT_NODE_CACHE_NODES: usize = 1 << 20;
/// Most stale records deleted by one commit; the rest are deleted by the following commits.
pub const MAX_PRUNE_PER_COMMIT: usize = 50_000;
/// Most versions whose root records one commit drops.
pub const MAX_PRUNED_VERSIONS_PER_COMMIT: u64 = 1_000;
/// Fewest nodes (new plus replaced) for which a commit does its work in memory on a second thread while the
/// store writes (below it, handing the work to another thread costs more than it saves).
const CONCURRENT_MIN_NODES: usize = 2_048;
/// Stale-index entries read per page when pruning.
const STALE_PAGE: usize = 8;
/// Entries read per page when scanning values.
const SCAN_PAGE: usize = 1_024;

/// Tuning of a [`StateDb`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateConfig {
    /// Number of most recent versions that stay readable (at least 1); older ones are pruned.
    pub retained_versions: u64,
    /// Capacity of the node cache, in nodes.
    pub node_cache_nodes: usize,
    /// Nodes of the latest version above this depth are held in memory by position, outside the node cache
    /// ([`LINKED_DEPTH`] by default, at most [`MAX_LINKED_DEPTH`]; 0 sends every node through the cache).
    pub linked_depth: usize,
    /// Versions that are a multiple of this (and the first version) are checkpoints, which write the tree's
    /// nodes; the others write only values, their change list and their root, and keep their new nodes in
    /// memory until the next checkpoint writes the live ones (module `checkpoint`). 1 writes every version's
    /// nodes. At most this many versions are rebuilt from their changes when the state opens, and for a proof
    /// at an older version that is not a checkpoint.
    pub checkpoint_interval: u64,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            retained_versions: DEFAULT_RETAINED_VERSIONS,
            node_cache_nodes: DEFAULT_NODE_CACHE_NODES,
            linked_depth: LINKED_DEPTH,
            checkpoint_interval: DEFAULT_CHECKPOINT_INTERVAL,
        }
    }
}

/// A commit computed but not yet written: take its [`batch`](Self::batch) (with
/// [`take_batch`](Self::take_batch)), extend it with anything else that must be atomic with it, and hand both
/// back to [`StateDb::write_commit`], which writes them.
#[derive(Debug)]
pub struct PreparedCommit {
    /// The version being committed.
    pub version: u64,
    /// The state root of that version.
    pub root: Hash,
    /// Every state write of the version (including pruning of versions that fall out of the window) but a
    /// checkpoint's older nodes, which [`StateDb::write_commit`] writes ahead of it.
    pub batch: WriteBatch,
    /// At a checkpoint, the records of the older nodes it writes (the live ones built in memory since the
    /// previous checkpoint), in key order: written ahead of the batch ([`KvStore::write_ahead`], ADR 0019).
    ahead: WriteBatch,
    base: Option<u64>,
    oldest: u64,
    /// The pruning horizon after this version (see `META_HORIZON`).
    horizon: u64,
    /// The stale-index key up to which this version's batch deletes the stale index (`prune_into`).
    prune_cursor: Vec<u8>,
    /// Whether this version is a checkpoint (the batch and `ahead` hold every node of its tree not yet in the
    /// store).
    checkpoint: bool,
    /// Whether [`StateDb::write_commit`] already did the commit's work in memory beside its write (the node
    /// cache's evictions and a checkpoint's nodes, and `install`).
    done_beside_write: bool,
    /// New nodes above the linked depth, for the upper tree.
    upper: Vec<(NodeId, Node)>,
    /// Nodes of the base version above the linked depth that this version replaces.
    upper_replaced: Vec<NodeId>,
    /// The new version's root record (also in the batch).
    root_record: RootRecord,
    /// New nodes below the linked depth, for the node cache.
    new_nodes: Vec<(NodeId, Node)>,
    /// Nodes of the base version that are not in this version's tree, to evict from the node cache.
    replaced: Vec<NodeId>,
    /// Batch bytes per changed key, for sizing the next batch.
    bytes_per_change: usize,
}

impl PreparedCommit {
    /// Takes the write batch out (leaving an empty one), for the caller to extend and write.
    pub fn take_batch(&mut self) -> WriteBatch {
        std::mem::take(&mut self.batch)
    }
}

/// The in-memory parts of a tree rebuilt for a proof at an older version (see `StateDb::rebuilt_at`).
#[derive(Debug)]
struct RebuiltTree {
    version: u64,
    checkpoint: u64,
    root: RootRecord,
    upper: Arc<UpperTree>,
    unwritten: IdMap<Node>,
}

/// A live key-value pair of a version, as exported to snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateEntry {
    /// Hash of the key (entries are ordered by it).
    pub key_hash: Hash,
    /// The key.
    pub key: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
}

/// Authenticated, versioned key-value state.
#[derive(Debug)]
pub struct StateDb<S> {
    store: S,
    config: StateConfig,
    latest: Option<u64>,
    oldest: u64,
    /// Records of versions before this checkpoint may be pruned (`META_HORIZON`).
    horizon: u64,
    /// The latest checkpoint: nodes written by it or an earlier version are in the store.
    checkpoint: u64,
    root: RootRecord,
    /// The latest version's nodes above the linked depth, by position (module `upper`): those built since the
    /// state opened; the others are read through the cache. Shared with the rebuilt tree kept for proofs (a
    /// commit copies it only if it is shared, which the latest state's never is).
    upper: Arc<UpperTree>,
    cache: NodeCache,
    /// The latest tree's nodes below the linked depth written since the latest checkpoint: not in the store
    /// (nor in the cache, which may drop a node) until the next checkpoint writes them.
    unwritten: RwLock<IdMap<Node>>,
    /// The tree of the last older version rebuilt for a proof, for the next proof at that version.
    rebuilt: Mutex<Option<Arc<RebuiltTree>>>,
    /// Bytes of the last commit's batch per changed key: sizes the next batch's buffer up front, so building
    /// it never copies megabytes to grow.
    batch_bytes_per_change: usize,
    /// The nodes the last [`write_commit`](Self::write_commit) took out of memory, freed beside the next
    /// commit's write (at most one commit's replaced nodes: the upper tree's 69,905 and the unwritten ones).
    retired: Displaced,
    /// Whether node records after the latest checkpoint may be in the store with nothing referring to them
    /// — written ahead of a checkpoint batch that then failed, or, after opening, that a crash interrupted:
    /// the next commit first deletes them (`checkpoint::delete_unreferenced_nodes`).
    unreferenced_nodes: bool,
    /// The versions [`submit_commit`](Self::submit_commit) installed whose writes may not have landed (module
    /// `pipeline`): reads see their changes, and wait for the writes where they cannot.
    pending: Arc<PendingSet>,
    /// What undoes each pending version (same order) if its write fails.
    in_flight: std::collections::VecDeque<InFlight>,
}

/// What [`StateDb::settle`] needs to undo a submitted commit whose write failed.
#[derive(Debug)]
struct InFlight {
    /// What installing its nodes displaced.
    displaced: Displaced,
    /// The version, if it is a checkpoint: once it lands, the unwritten nodes up to it are in the store.
    checkpoint: Option<u64>,
    /// The state before it.
    before: Before,
    /// Set by the writer once some of a checkpoint's nodes written ahead may be in the store.
    ahead_tried: Arc<AtomicBool>,
}

/// The fields of a [`StateDb`] that a commit changes, as they were before it.
#[derive(Debug)]
struct Before {
    latest: Option<u64>,
    oldest: u64,
    horizon: u64,
    checkpoint: u64,
    root: RootRecord,
    batch_bytes_per_change: usize,
}

impl<S> Drop for StateDb<S> {
    /// Waits for a submitted version's write, so that a state dropped and opened again (or a process that
    /// exits after dropping it) finds the version in the store if its write succeeds.
    fn drop(&mut self) {
        if let Some(p) = self.pending.newest() {
            let _ = p.landing.wait();
        }
    }
}

/// A node as the update pass reads it (`StateDb::node_ref`).
pub(crate) enum NodeRef<'a> {
    /// Held by the upper tree.
    Upper(&'a Node),
    /// From the unwritten nodes, the node cache or the store.
    Shared(Node),
}

impl std::ops::Deref for NodeRef<'_> {
    type Target = Node;

    fn deref(&self) -> &Node {
        match self {
            NodeRef::Upper(n) => n,
            NodeRef::Shared(n) => n,
        }
    }
}

/// What installing a commit's nodes in memory displaced (`install`): put back if the commit's write fails,
/// else freed later (see `StateDb::retired`).
#[derive(Debug, Default)]
struct Displaced {
    upper: crate::upper::Displaced,
    /// Unwritten nodes the commit replaced.
    unwritten: Vec<(NodeId, Node)>,
    /// Ids the commit added to the unwritten nodes.
    added: Vec<NodeId>,
    /// At a checkpoint, the unwritten nodes before it (all of which it writes).
    before_checkpoint: Option<IdMap<Node>>,
}

/// Installs the in-memory part of `prepared` that a failed write can undo ([`restore`]): its nodes above the
/// linked depth go into the upper tree; those below it join the unwritten nodes, or at a checkpoint (which
/// writes every unwritten node) the unwritten nodes that are still live go to the node cache, which may
/// drop them once they are in the store. Returns what was displaced.
///
/// With `pending` (a pipelined commit, ADR 0020) a checkpoint is installed as any other version: its nodes
/// join the unwritten nodes, which keep every node it writes until its write has landed
/// (`StateDb::settle_oldest` then hands them to the cache). So a node is never looked for in the store
/// before it is there: a read that misses the store waits for the pending writes, and the preparation of the
/// next block, which runs on rayon's pool, must never wait (the writer may need the pool).
fn install(
    upper: &mut Arc<UpperTree>,
    unwritten: &RwLock<IdMap<Node>>,
    cache: &NodeCache,
    prepared: &mut PreparedCommit,
    pending: bool,
) -> Displaced {
    let upper_new = std::mem::take(&mut prepared.upper);
    let mut displaced = Displaced {
        upper: Arc::make_mut(upper).install(&prepared.upper_replaced, upper_new),
        ..Displaced::default()
    };
    let mut unwritten = unwritten.write();
    if prepared.checkpoint && !pending {
        let before = std::mem::take(&mut *unwritten);
        cache.insert_all(before.iter().map(|(id, node)| (*id, node.clone())));
        cache.remove_all(&prepared.replaced);
        displaced.before_checkpoint = Some(before);
    } else {
        displaced.unwritten = prepared.replaced.iter().filter_map(|id| unwritten.remove_entry(id)).collect();
        let new_nodes = std::mem::take(&mut prepared.new_nodes);
        displaced.added = new_nodes.iter().map(|(id, _)| *id).collect();
        unwritten.extend(new_nodes);
    }
    displaced
}

/// Undoes the [`install`] that returned `displaced` (the nodes it put in the cache may stay there: they are
/// the same nodes, and the unwritten ones are found among the unwritten nodes first).
fn restore(upper: &mut Arc<UpperTree>, unwritten: &RwLock<IdMap<Node>>, displaced: Displaced) {
    Arc::make_mut(upper).restore(displaced.upper);
    let mut unwritten = unwritten.write();
    if let Some(before) = displaced.before_checkpoint {
        *unwritten = before;
        return;
    }
    for id in &displaced.added {
        unwritten.remove(id);
    }
    unwritten.extend(displaced.unwritten);
}

impl<S: KvStore> StateDb<S> {
    /// Opens the state held in `store` (empty if nothing was committed). If the latest version is not a
    /// checkpoint, its tree is rebuilt in memory from the latest checkpoint and the change lists of the
    /// versions after it, each of which must give the root its root record holds.
    ///
    /// Opening writes nothing, so a reader may open a store that a running node commits to (the snapshot
    /// exporter does): node records after the latest checkpoint, which a checkpoint interrupted between its
    /// nodes written ahead and its batch leaves behind, are deleted by this state's first commit, not here —
    /// on a live store they may be the nodes of a checkpoint whose batch is about to land.
    pub fn open(store: S, config: StateConfig) -> Result<StateDb<S>, StateError> {
        // The checkpoint is read before the latest version: on a running node's store, a commit landing
        // between the two reads then makes the latest version newer, never the checkpoint newer than it.
        let checkpoint = meta_u64(&store, META_CHECKPOINT)?;
        let latest = meta_u64(&store, META_LATEST)?;
        let oldest = meta_u64(&store, META_OLDEST)?.unwrap_or(0);
        let mut db = StateDb::empty(store, config);
        db.oldest = oldest;
        let Some(latest) = latest else { return Ok(db) };
        let required = |key: &[u8], value: Option<u64>| {
            value.ok_or_else(|| {
                StateError::from(StoreError::corrupt(Column::Meta, key, "state record missing"))
            })
        };
        // None here and a latest version there: the store's first commit landed between the two reads.
        let checkpoint = match checkpoint {
            Some(c) => c,
            None => required(META_CHECKPOINT, meta_u64(&db.store, META_CHECKPOINT)?)?,
        };
        db.horizon = required(META_HORIZON, meta_u64(&db.store, META_HORIZON)?)?;
        if checkpoint > latest {
            return Err(StoreError::corrupt(
                Column::Meta,
                META_CHECKPOINT,
                "checkpoint after the latest version",
            )
            .into());
        }
        db.start_at_checkpoint(checkpoint)?;
        db.rebuild_to(latest)?;
        db.unreferenced_nodes = true;
        Ok(db)
    }

    /// A state over `store` with nothing committed.
    fn empty(store: S, config: StateConfig) -> StateDb<S> {
        let config = StateConfig {
            linked_depth: config.linked_depth.min(MAX_LINKED_DEPTH),
            checkpoint_interval: config.checkpoint_interval.max(1),
            ..config
        };
        StateDb {
            store,
            config,
            latest: None,
            oldest: 0,
            horizon: 0,
            checkpoint: 0,
            root: RootRecord { node: None, hash: Hash::ZERO, checkpoint: false },
            upper: Arc::new(UpperTree::new(config.linked_depth)),
            cache: NodeCache::new(config.node_cache_nodes),
            unwritten: RwLock::new(IdMap::default()),
            rebuilt: Mutex::new(None),
            batch_bytes_per_change: 0,
            retired: Displaced::default(),
            unreferenced_nodes: false,
            pending: Arc::default(),
            in_flight: std::collections::VecDeque::new(),
        }
    }

    /// Makes checkpoint `version` the latest version (its tree is read from the store as needed).
    fn start_at_checkpoint(&mut self, version: u64) -> Result<(), StateError> {
        let record = self.root_record(version)?;
        if !record.checkpoint {
            let k = root_key(version);
            return Err(
                StoreError::corrupt(Column::StateRoots, &k, "checkpoint root record not marked").into()
            );
        }
        self.latest = Some(version);
        self.checkpoint = version;
        self.root = record;
        Arc::make_mut(&mut self.upper).clear();
        Ok(())
    }

    /// Applies the change lists of the versions after the latest one up to `target` (whose records are in
    /// the store), checking each version's root (hash and root node) against its root record.
    fn rebuild_to(&mut self, target: u64) -> Result<(), StateError> {
        while let Some(latest) = self.latest.filter(|&l| l < target) {
            let version = latest + 1;
            let overlay = changes_at(&self.store, version)?;
            let record = self.root_record(version)?;
            let prepared = self.prepare(version, &overlay, true)?;
            if prepared.root != record.hash || prepared.root_record.node != record.node {
                let k = root_key(version);
                return Err(StoreError::corrupt(
                    Column::StateRoots,
                    &k,
                    "the version's changes do not give its root",
                )
                .into());
            }
            self.finish_commit(prepared)?;
        }
        Ok(())
    }

    /// A temporary state holding the tree of `version` (retained, not the latest, not a checkpoint), rebuilt
    /// from the checkpoint before it — or taken from the last one rebuilt, if it was of this version (a
    /// committed version never changes).
    fn rebuilt_at(&self, version: u64) -> Result<StateDb<&S>, StateError> {
        let config = StateConfig { node_cache_nodes: REBUILD_CACHE_NODES, ..self.config };
        let mut temp = StateDb::empty(&self.store, config);
        temp.oldest = self.oldest;
        temp.horizon = self.horizon;
        let last = self.rebuilt.lock().clone();
        if let Some(tree) = last.filter(|t| t.version == version) {
            temp.latest = Some(version);
            temp.checkpoint = tree.checkpoint;
            temp.root = tree.root.clone();
            temp.upper = tree.upper.clone();
            *temp.unwritten.get_mut() = tree.unwritten.clone();
            return Ok(temp);
        }
        // The horizon is a checkpoint, and no retained version is older.
        temp.start_at_checkpoint(self.newest_checkpoint(version, self.horizon)?.unwrap_or(self.horizon))?;
        temp.rebuild_to(version)?;
        *self.rebuilt.lock() = Some(Arc::new(RebuiltTree {
            version,
            checkpoint: temp.checkpoint,
            root: temp.root.clone(),
            upper: temp.upper.clone(),
            unwritten: temp.unwritten.read().clone(),
        }));
        Ok(temp)
    }

    /// The latest checkpoint.
    pub(crate) fn checkpoint(&self) -> u64 {
        self.checkpoint
    }

    /// The node `id` of the latest tree, if the upper tree holds it.
    pub(crate) fn upper_node(&self, id: &NodeId) -> Option<&Node> {
        self.upper.get(id)
    }

    /// The latest tree's nodes below the linked depth written since the latest checkpoint, read-locked.
    pub(crate) fn unwritten_nodes(&self) -> parking_lot::RwLockReadGuard<'_, IdMap<Node>> {
        self.unwritten.read()
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &StateConfig {
        &self.config
    }

    /// Latest committed version, if any.
    pub fn latest_version(&self) -> Option<u64> {
        self.latest
    }

    /// Oldest readable version (meaningful once a version is committed).
    pub fn oldest_version(&self) -> u64 {
        self.oldest
    }

    /// State root of the latest version ([`Hash::ZERO`] when nothing is committed or the state is empty).
    pub fn root(&self) -> Hash {
        self.root.hash
    }

    /// State root of `version`.
    pub fn root_at(&self, version: u64) -> Result<Hash, StateError> {
        self.check_version(version)?;
        Ok(self.root_record(version)?.hash)
    }

    /// Value of `key` in the latest version.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.latest {
            Some(v) => self.get_at(key, v),
            None => Ok(None),
        }
    }

    /// Value of `key` as seen through `overlay`: the overlay's pending change, else the latest version.
    pub fn read(&self, overlay: &Overlay, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match overlay.get(key) {
            Some(pending) => Ok(pending.map(<[u8]>::to_vec)),
            None => self.get(key),
        }
    }

    /// Value of `key` at `version`.
    pub fn get_at(&self, key: &[u8], version: u64) -> Result<Option<Vec<u8>>, StateError> {
        self.check_version(version)?;
        if let Some(change) = self.pending.change(version, key)? {
            return Ok(change);
        }
        crate::view::read_value(&self.store, key, version)
    }

    /// Up to `limit` entries of the latest version whose key starts with `prefix` and is `>= from`, in raw-key
    /// order (through the key index; see [`StateView::scan`](crate::StateView::scan)).
    pub fn scan(&self, prefix: &[u8], from: &[u8], limit: usize) -> Result<Vec<KvEntry>, StateError> {
        match self.latest {
            Some(v) => {
                self.wait_written()?;
                crate::view::scan_index(&self.store, v, prefix, from, limit)
            }
            None => Ok(Vec::new()),
        }
    }

    /// An owned read handle on the latest version (see [`StateView`](crate::StateView)).
    pub fn view(&self) -> crate::StateView<S>
    where
        S: Clone,
    {
        let pending = (!self.pending.is_empty()).then(|| self.pending.clone());
        crate::StateView::with_pending(self.store.clone(), self.latest, pending)
    }

    /// Value of `key` at `version` with a proof against that version's root.
    pub fn get_with_proof(
        &self,
        key: &[u8],
        version: u64,
    ) -> Result<(Option<Vec<u8>>, StateProof), StateError> {
        self.check_version(version)?;
        if Some(version) == self.latest {
            return self.proof_from_tree(key, &self.root);
        }
        let record = self.root_record(version)?;
        if !record.checkpoint {
            // Not in the store as a whole: rebuilt from the checkpoint before it.
            let rebuilt = self.rebuilt_at(version)?;
            return rebuilt.proof_from_tree(key, &rebuilt.root);
        }
        self.proof_from_tree(key, &record)
    }

    /// [`get_with_proof`](Self::get_with_proof) of a version whose tree is the latest (held in memory) or in
    /// the store, whose root is `record`.
    fn proof_from_tree(
        &self,
        key: &[u8],
        record: &RootRecord,
    ) -> Result<(Option<Vec<u8>>, StateProof), StateError> {
        let kh = state_key_hash(key);
        let mut levels = Vec::new();
        let mut next = root_of(record)?;
        let leaf = loop {
            match next {
                Root::Empty => break None,
                Root::Leaf(leaf) => break Some(leaf),
                Root::Node(id, _) => {
                    let internal = self.load_id(&id)?;
                    let n = nibble(&kh, levels.len());
                    let siblings =
                        internal.children.iter().filter(|c| c.nibble != n).map(|c| c.hash).collect();
                    levels.push(ProofLevel { bitmap: internal.bitmap(), siblings });
                    next = match internal.child(n) {
                        None => Root::Empty,
                        Some(c) => match c.leaf {
                            Some(key_hash) => {
                                Root::Leaf(Leaf { key_hash, value_version: c.version, hash: c.hash })
                            }
                            None => Root::Node(id.child(n, c.version), c.hash),
                        },
                    };
                }
            }
        };
        let Some(leaf) = leaf else {
            return Ok((None, StateProof { levels, terminal: ProofTerminal::Empty }));
        };
        let (value, value_hash) = self.leaf_value(&leaf.key_hash, leaf.value_version)?;
        if hashing::leaf_hash(&leaf.key_hash, &value_hash) != leaf.hash {
            let vk = value_key(&leaf.key_hash, leaf.value_version);
            return Err(StoreError::corrupt(Column::StateValues, &vk, "value does not match its leaf").into());
        }
        let terminal = ProofTerminal::Leaf { key_hash: leaf.key_hash, value_hash };
        let value = if leaf.key_hash == kh { Some(value) } else { None };
        Ok((value, StateProof { levels, terminal }))
    }

    /// Computes the commit of `overlay` as `version`: the new root and the write batch. Nothing is written
    /// and this state does not change until [`finish_commit`](Self::finish_commit).
    ///
    /// The first commit of an empty state may use any version; later ones must use the next version.
    pub fn prepare_commit(&self, version: u64, overlay: &Overlay) -> Result<PreparedCommit, StateError> {
        self.prepare(version, overlay, false)
    }

    /// [`prepare_commit`](Self::prepare_commit), or with `rebuild` the same update of the in-memory tree for
    /// a version already in the store (its batch is not written: no checkpoint, root record or pruning).
    fn prepare(&self, version: u64, overlay: &Overlay, rebuild: bool) -> Result<PreparedCommit, StateError> {
        if let Some(latest) = self.latest {
            let expected = latest.saturating_add(1);
            if version != expected {
                return Err(StateError::NonSequentialVersion { expected, got: version });
            }
        }
        if let Some(p) = self.pending.oldest().filter(|_| !rebuild) {
            // Pruning reads the stale lists and root records of versions up to the new oldest readable one:
            // with a short retention window, those of a pending version.
            if (version + 1).saturating_sub(self.config.retained_versions.max(1)) >= p.version {
                self.wait_written()?;
            }
        }
        let checkpoint =
            !rebuild && (self.latest.is_none() || version.is_multiple_of(self.config.checkpoint_interval));
        let changes = hash_changes(overlay);
        let hint = changes.len().saturating_mul(self.batch_bytes_per_change.clamp(64, 4096));
        let update = TreeUpdate::new(self, version, changes.len(), hint, checkpoint);
        let out = update.run(root_of(&self.root)?, &changes)?;
        let mut batch = out.batch;
        let mut ahead = WriteBatch::new();
        let node_records = out.node_records;
        let root_record = RootRecord { checkpoint, ..root_record_of(&out.root) };
        let mut prune_cursor = Vec::new();
        let (oldest, horizon) = if rebuild {
            (self.oldest, self.horizon)
        } else {
            // The node column in key order, so that the store need not sort it: the deletes of pruned
            // versions' nodes, then this version's own nodes. A checkpoint's older unwritten nodes go ahead.
            let pruned = self.prune_into(version, checkpoint, &mut batch, &mut prune_cursor)?;
            if checkpoint {
                write_unwritten(self, version, &out.root, &out.upper, &out.new_nodes, &mut ahead)?;
                batch.put(Column::Meta, META_CHECKPOINT, version.to_be_bytes());
            }
            batch.put(Column::StateRoots, root_key(version), purse_types::encode(&root_record));
            batch.put(Column::Meta, META_LATEST, version.to_be_bytes());
            crate::view::index_ops(out.index, &mut batch);
            pruned
        };
        batch.append(node_records);
        let bytes_per_change = batch.byte_len() / changes.len().max(1) + 1;
        Ok(PreparedCommit {
            version,
            root: out.root.hash(),
            batch,
            ahead,
            base: self.latest,
            oldest,
            horizon,
            prune_cursor,
            checkpoint,
            done_beside_write: false,
            upper: out.upper,
            upper_replaced: out.upper_replaced,
            root_record,
            new_nodes: out.new_nodes,
            replaced: out.replaced,
            bytes_per_change: if changes.is_empty() || rebuild { 0 } else { bytes_per_change },
        })
    }

    /// Records that `prepared`'s writes were made: the version becomes the latest.
    fn finish_commit(&mut self, mut prepared: PreparedCommit) -> Result<(), StateError> {
        if prepared.base != self.latest {
            return Err(StateError::StalePreparedCommit(prepared.version));
        }
        if !prepared.done_beside_write {
            // Replaced nodes leave the cache: only a read of an older version could use them, and it can go to
            // the store. The cache then holds the live tree rather than a history of it, and the memory of
            // replaced nodes is reused by the next commit's nodes instead of each commit touching fresh pages.
            self.cache.remove_all(&prepared.replaced);
            drop(install(&mut self.upper, &self.unwritten, &self.cache, &mut prepared, false));
            if prepared.checkpoint {
                self.cache.insert_all(std::mem::take(&mut prepared.new_nodes));
            }
        }
        if prepared.checkpoint {
            self.checkpoint = prepared.version;
        }
        if prepared.bytes_per_change > 0 {
            self.batch_bytes_per_change = prepared.bytes_per_change;
        }
        self.latest = Some(prepared.version);
        self.oldest = prepared.oldest;
        self.horizon = prepared.horizon;
        self.root = prepared.root_record;
        Ok(())
    }

    /// Writes `batch` — `prepared`'s batch, taken with [`take_batch`](PreparedCommit::take_batch) and
    /// extended with anything that must be atomic with it — and finishes the commit. On a write error nothing
    /// is committed and the state is unchanged. At a checkpoint the older nodes it writes go to the store
    /// first ([`KvStore::write_ahead`], ADR 0019); if the batch then fails they stay there unreferenced until
    /// the next commit (of this state, or the first of a state opened on the store later) deletes them.
    ///
    /// While the store writes (its log, then its memtables) on this thread, a thread of rayon's pool does the
    /// commit's work in memory, off a block's critical path (ADRs 0017, 0018): it frees the nodes the previous
    /// commit replaced, evicts this commit's replaced nodes from the node cache, and installs its new nodes —
    /// in the upper tree, among the unwritten nodes, or at a checkpoint in the cache (with the unwritten nodes
    /// it writes). Doing this before the write is known to succeed is safe: `&mut self` keeps every read out
    /// until the write returns, and if it fails the install is undone (the upper tree's slots and the
    /// unwritten nodes are put back) and the new nodes leave the cache again (the cache holds an id once, so a
    /// later commit at this version replaces rather than shadows them); evicting the replaced nodes early only
    /// costs a store read if they are needed after all. The nodes this commit replaces are freed beside the
    /// next commit's write.
    pub fn write_commit(
        &mut self,
        mut prepared: PreparedCommit,
        batch: WriteBatch,
    ) -> Result<(), StateError> {
        self.settle()?;
        if prepared.base != self.latest {
            return Err(StateError::StalePreparedCommit(prepared.version));
        }
        if self.unreferenced_nodes {
            crate::checkpoint::delete_unreferenced_nodes(&self.store, self.checkpoint)?;
            self.unreferenced_nodes = false;
        }
        let nodes = if prepared.checkpoint { std::mem::take(&mut prepared.new_nodes) } else { Vec::new() };
        let written: Vec<NodeId> = nodes.iter().map(|(id, _)| *id).collect();
        let work = nodes.len()
            + if prepared.checkpoint { self.unwritten.read().len() } else { prepared.new_nodes.len() }
            + prepared.replaced.len()
            + prepared.upper.len()
            + prepared.upper_replaced.len();
        let ahead = std::mem::take(&mut prepared.ahead);
        let retired = std::mem::take(&mut self.retired);
        let (store, cache, upper, unwritten) = (&self.store, &self.cache, &mut self.upper, &self.unwritten);
        let in_memory = &mut prepared;
        let mut displaced = Displaced::default();
        let beside = |displaced: &mut Displaced| {
            drop(retired);
            cache.remove_all(&in_memory.replaced);
            cache.insert_all(nodes);
            *displaced = install(upper, unwritten, cache, in_memory, false);
        };
        // The store writes on this thread (where the caller's thread-local settings, such as RocksDB's perf
        // context, apply), the rest runs on the pool. A checkpoint's older nodes go first, ahead of the batch
        // whose checkpoint record refers to them. `ahead_tried` is set once some of them may be in the store
        // (even a failed write may have left some).
        let mut ahead_tried = false;
        let write = || {
            if !ahead.is_empty() {
                ahead_tried = true;
                store.write_ahead(ahead)?;
            }
            store.write(batch)
        };
        let written_ok = if work < CONCURRENT_MIN_NODES {
            beside(&mut displaced);
            write()
        } else {
            rayon::in_place_scope(|s| {
                s.spawn(|_| beside(&mut displaced));
                write()
            })
        };
        if let Err(e) = written_ok {
            self.unreferenced_nodes = ahead_tried;
            restore(&mut self.upper, &self.unwritten, displaced);
            // The failed commit's nodes leave the cache: a different commit at this version may follow.
            self.cache.remove_all(&written);
            return Err(e.into());
        }
        self.retired = displaced;
        prepared.done_beside_write = true;
        self.finish_commit(prepared)
    }

    /// Commits `prepared` in memory and writes `batch` on a writer thread (ADR 0020): when this returns, the
    /// version is the latest — reads see it, and the next version can be prepared on top of it — but it is
    /// durable only once its write lands, which [`settle`](Self::settle) waits for. `changes` are the
    /// version's changes (the overlay `prepared` was prepared from), which reads of the version use until its
    /// write lands.
    ///
    /// At most [`MAX_PENDING_WRITES`] versions are pending: submitting one more first settles the oldest.
    /// Their writes land in order, each after the one before it, and after a failed one none is made. The
    /// store's writes stay in order with this state's other writes too ([`write_commit`](Self::write_commit)
    /// settles first); a caller that writes the store by other means must settle first. If a write fails,
    /// settling reports it and puts the state back to the version before the failed one (that version and the
    /// ones after it were never committed; anything prepared on top of them is stale).
    ///
    /// The work in memory that [`write_commit`](Self::write_commit) does beside its write is done here, on the
    /// calling thread, while the writer writes; the writer frees the nodes earlier commits replaced.
    pub fn submit_commit(
        &mut self,
        mut prepared: PreparedCommit,
        batch: WriteBatch,
        changes: Overlay,
    ) -> Result<(), StateError>
    where
        S: Clone + 'static,
    {
        while self.in_flight.len() >= MAX_PENDING_WRITES {
            self.settle_oldest()?;
        }
        if prepared.base != self.latest {
            return Err(StateError::StalePreparedCommit(prepared.version));
        }
        if self.unreferenced_nodes {
            self.settle()?;
            crate::checkpoint::delete_unreferenced_nodes(&self.store, self.checkpoint)?;
            self.unreferenced_nodes = false;
        }
        let pending = Arc::new(Pending {
            version: prepared.version,
            changes,
            prune_cursor: std::mem::take(&mut prepared.prune_cursor),
            landing: Landing::default(),
        });
        let ahead_tried = Arc::new(AtomicBool::new(false));
        let ahead = std::mem::take(&mut prepared.ahead);
        let retired = std::mem::take(&mut self.retired);
        crate::pipeline::spawn_writer(
            self.store.clone(),
            crate::pipeline::WriteJob {
                after: self.pending.newest().cloned(),
                ahead,
                batch,
                own: pending.clone(),
                ahead_tried: ahead_tried.clone(),
            },
            retired,
        )?;
        let before = Before {
            latest: self.latest,
            oldest: self.oldest,
            horizon: self.horizon,
            checkpoint: self.checkpoint,
            root: self.root.clone(),
            batch_bytes_per_change: self.batch_bytes_per_change,
        };
        self.cache.remove_all(&prepared.replaced);
        let checkpoint = prepared.checkpoint.then_some(prepared.version);
        let displaced = install(&mut self.upper, &self.unwritten, &self.cache, &mut prepared, true);
        prepared.done_beside_write = true;
        self.in_flight.push_back(InFlight { displaced, checkpoint, before, ahead_tried });
        self.pending = Arc::new(self.pending.with(pending));
        self.finish_commit(prepared)
    }

    /// Waits until every version [`submit_commit`](Self::submit_commit) submitted is durable. If a write
    /// failed, returns its error ([`StateError::PendingWriteFailed`]) and puts the state back to the version
    /// before the failed one: the nodes of it and of the versions after it leave memory as a failed
    /// [`write_commit`](Self::write_commit)'s do.
    pub fn settle(&mut self) -> Result<(), StateError> {
        while !self.in_flight.is_empty() {
            self.settle_oldest()?;
        }
        Ok(())
    }

    /// Settles the oldest pending version (see [`settle`](Self::settle)).
    fn settle_oldest(&mut self) -> Result<(), StateError> {
        let Some(oldest) = self.pending.oldest().cloned() else { return Ok(()) };
        let outcome = oldest.wait();
        if outcome.is_ok() {
            self.pending = Arc::new(self.pending.without_oldest());
            if let Some(f) = self.in_flight.pop_front() {
                if let Some(c) = f.checkpoint {
                    // In the store now: the cache may drop them.
                    let written: Vec<(NodeId, Node)> =
                        self.unwritten.write().extract_if(|id, _| id.version <= c).collect();
                    self.cache.insert_all(written);
                }
                // Freed by the next write's writer (or beside it).
                drop(std::mem::replace(&mut self.retired, f.displaced));
            }
            return Ok(());
        }
        // No writer may still run when the state is put back: the later ones fail once they see this one did.
        let _ = self.pending.wait_newest();
        let mut oldest_before = None;
        let mut tried = false;
        while let Some(f) = self.in_flight.pop_back() {
            restore(&mut self.upper, &self.unwritten, f.displaced);
            tried |= f.ahead_tried.load(Ordering::SeqCst);
            oldest_before = Some(f.before);
        }
        self.pending = Arc::default();
        if let Some(b) = oldest_before {
            self.latest = b.latest;
            self.oldest = b.oldest;
            self.horizon = b.horizon;
            self.checkpoint = b.checkpoint;
            self.root = b.root;
            self.batch_bytes_per_change = b.batch_bytes_per_change;
        }
        self.unreferenced_nodes |= tried;
        outcome
    }

    /// Waits until every submitted version's write has landed, without settling: for a reader, or a writer of
    /// other records of the store that must land after them. A failed write's error is returned (the state
    /// is put back only by [`settle`](Self::settle)).
    pub fn wait_written(&self) -> Result<(), StateError> {
        self.pending.wait()
    }

    /// The newest submitted version not settled yet, if any.
    pub fn pending_version(&self) -> Option<u64> {
        self.pending.newest().map(|p| p.version)
    }

    /// Prepares, writes and finishes a commit of `overlay` as `version`; returns the new root.
    pub fn commit(&mut self, version: u64, overlay: &Overlay) -> Result<Hash, StateError> {
        let mut prepared = self.prepare_commit(version, overlay)?;
        let batch = prepared.take_batch();
        let root = prepared.root;
        self.write_commit(prepared, batch)?;
        Ok(root)
    }

    /// Up to `limit` live entries of `version` with key hash greater than `after` (from the start if `None`),
    /// ordered by key hash: page through the whole state for a snapshot.
    ///
    /// The version is checked again after the reads against the store's oldest readable version, not only
    /// this state's: a reader beside a running node (the snapshot exporter) keeps the window it read when it
    /// opened, and if the node pruned `version` since, a record the page needed may be gone — the page is
    /// then refused with [`StateError::VersionPruned`] instead of returned without it.
    pub fn entries_at(
        &self,
        version: u64,
        after: Option<&Hash>,
        limit: usize,
    ) -> Result<Vec<StateEntry>, StateError> {
        self.check_version(version)?;
        self.wait_written()?;
        let mut out = Vec::new();
        let mut start = match after {
            Some(kh) => match prefix_end(&kh.0) {
                Some(s) => s,
                None => return Ok(out),
            },
            None => Vec::new(),
        };
        let mut done_with: Option<Hash> = None;
        while out.len() < limit {
            let page = self.store.scan(Column::StateValues, &start, None, SCAN_PAGE)?;
            let Some((last, _)) = page.last() else { break };
            start = key_successor(last);
            let full = page.len() == SCAN_PAGE;
            for (k, bytes) in page {
                let (kh, v) = parse_value_key(&k)?;
                if done_with == Some(kh) || v > version {
                    continue;
                }
                done_with = Some(kh);
                let record = ValueRecord::decode(&k, &bytes)?;
                if let Some(value) = record.value {
                    if state_key_hash(&record.key) != kh {
                        return Err(StoreError::corrupt(
                            Column::StateValues,
                            &k,
                            "key does not match its hash",
                        )
                        .into());
                    }
                    out.push(StateEntry { key_hash: kh, key: record.key, value });
                    if out.len() == limit {
                        break;
                    }
                }
            }
            if !full {
                break;
            }
        }
        let oldest = meta_u64(&self.store, META_OLDEST)?.unwrap_or(0);
        if version < oldest {
            return Err(StateError::VersionPruned { version, oldest });
        }
        Ok(out)
    }

    /// The node `id`: borrowed from the upper tree, which no commit changes while `self` is borrowed (so the
    /// update pass takes and releases no reference count on it), or else loaded.
    pub(crate) fn node_ref(&self, id: &NodeId) -> Result<NodeRef<'_>, StateError> {
        match self.upper.get(id) {
            Some(n) => Ok(NodeRef::Upper(n)),
            None => self.load_below_upper(id).map(NodeRef::Shared),
        }
    }

    /// Loads the node `id`: from the upper tree, the nodes written since the latest checkpoint (not in the
    /// store yet), the node cache or the store.
    pub(crate) fn load_id(&self, id: &NodeId) -> Result<Node, StateError> {
        match self.upper.get(id) {
            Some(n) => Ok(n.clone()),
            None => self.load_below_upper(id),
        }
    }

    /// [`load_id`](Self::load_id) of a node the upper tree does not hold.
    ///
    /// A record does not hold its children's hashes (see [`Node::encode_into`]): a node read from the store
    /// gets each internal child's hash from the cache or from the child's record, and each leaf's from its
    /// value record; the result must hash to the record's own hash.
    fn load_below_upper(&self, id: &NodeId) -> Result<Node, StateError> {
        if let Some(n) = self.unwritten.read().get(id) {
            return Ok(n.clone());
        }
        if let Some(n) = self.cache.get_id(id) {
            return Ok(n);
        }
        let k = id.encode();
        let record = self.node_record(&k)?;
        let node = record.hydrate(&k, |c: &ChildRef| match c.leaf {
            Some(key_hash) => {
                let (_, value_hash) = self.leaf_value(&key_hash, c.version)?;
                Ok::<_, StateError>(hashing::leaf_hash(&key_hash, &value_hash))
            }
            None => {
                let child = id.child(c.nibble, c.version);
                match self.cache.get_id(&child) {
                    Some(n) => Ok(n.hash()),
                    None => Ok(self.node_record(&child.encode())?.hash),
                }
            }
        })?;
        self.cache.insert_id(*id, node.clone());
        Ok(node)
    }

    /// The record of the node stored at `key`.
    fn node_record(&self, key: &[u8]) -> Result<NodeRecord, StateError> {
        let bytes = self
            .record(Column::StateNodes, key)?
            .ok_or_else(|| StoreError::corrupt(Column::StateNodes, key, "tree node missing"))?;
        Ok(NodeRecord::decode(key, &bytes)?)
    }

    /// The value of the leaf of `key_hash` whose value record was written at `version`, and its value hash.
    fn leaf_value(&self, key_hash: &Hash, version: u64) -> Result<(Vec<u8>, Hash), StateError> {
        let vk = value_key(key_hash, version);
        let bytes = self
            .record(Column::StateValues, &vk)?
            .ok_or_else(|| StoreError::corrupt(Column::StateValues, &vk, "value of a leaf missing"))?;
        let record = ValueRecord::decode(&vk, &bytes)?;
        let Some(value) = record.value else {
            return Err(StoreError::corrupt(Column::StateValues, &vk, "leaf names a tombstone").into());
        };
        if hashing::key_hash(&record.key) != *key_hash {
            return Err(StoreError::corrupt(Column::StateValues, &vk, "key does not match its hash").into());
        }
        let value_hash = hashing::value_hash(&value);
        Ok((value, value_hash))
    }

    /// The record at `key` that a version of this state refers to: one the pending version wrote (a node
    /// record, a value record, a root record) may not have landed yet, so a miss waits for its write and reads
    /// again.
    fn record(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        let found = self.store.get(column, key)?;
        if found.is_none() && !self.pending.is_empty() {
            // Never on rayon's pool: the writer may need it (see `install`). The preparation that runs there
            // finds every node of a pending version in memory, so this is a missing record.
            if rayon::current_thread_index().is_none() {
                self.pending.wait()?;
                return Ok(self.store.get(column, key)?);
            }
        }
        Ok(found)
    }

    fn check_version(&self, version: u64) -> Result<(), StateError> {
        match self.latest {
            Some(latest) if version <= latest => {
                if version < self.oldest {
                    Err(StateError::VersionPruned { version, oldest: self.oldest })
                } else {
                    Ok(())
                }
            }
            latest => Err(StateError::VersionUnknown { version, latest }),
        }
    }

    fn root_record(&self, version: u64) -> Result<RootRecord, StateError> {
        let k = root_key(version);
        let bytes = self
            .record(Column::StateRoots, &k)?
            .ok_or_else(|| StoreError::corrupt(Column::StateRoots, &k, "root record missing"))?;
        Ok(RootRecord::decode(&k, &bytes)?)
    }

    /// Adds the pruning due when `version` (a checkpoint if `checkpoint`) commits to `batch`; returns the new
    /// oldest readable version and the new pruning horizon.
    ///
    /// Versions before the oldest readable one are refused at once, but their records are deleted only up to
    /// the horizon, the newest checkpoint at or below the oldest readable version: every retained version's
    /// tree is rebuilt from a checkpoint at or after the horizon, using the change lists and values of the
    /// versions after that checkpoint.
    ///
    /// The stale index is read from the key up to which the newest pending version's batch deletes it
    /// (ADR 0020): the entries before it are still in the store until that batch lands, but already deleted.
    /// `cursor` is set to the key up to which this version's batch deletes it.
    fn prune_into(
        &self,
        version: u64,
        checkpoint: bool,
        batch: &mut WriteBatch,
        cursor: &mut Vec<u8>,
    ) -> Result<(u64, u64), StateError> {
        let retained = self.config.retained_versions.max(1);
        let Some(_) = self.latest else {
            // First commit: the oldest version, and a checkpoint.
            batch.put(Column::Meta, META_OLDEST, version.to_be_bytes());
            batch.put(Column::Meta, META_HORIZON, version.to_be_bytes());
            return Ok((version, version));
        };
        let target = (version + 1).saturating_sub(retained).max(self.oldest);
        let oldest = target.min(self.oldest.saturating_add(MAX_PRUNED_VERSIONS_PER_COMMIT));
        if oldest != self.oldest {
            batch.put(Column::Meta, META_OLDEST, oldest.to_be_bytes());
        }
        let horizon = if checkpoint && oldest == version {
            version
        } else {
            // The horizon is the newest checkpoint at or below the previous oldest version: only the versions
            // that just became the oldest can hold a newer one (one root record read per commit, usually).
            // `oldest` is at most the latest version (this one's root record is not written yet).
            self.newest_checkpoint(oldest.min(version - 1), self.oldest)?.unwrap_or(self.horizon)
        };
        for v in self.horizon..horizon {
            batch.delete(Column::StateRoots, root_key(v));
        }
        if horizon != self.horizon {
            batch.put(Column::Meta, META_HORIZON, horizon.to_be_bytes());
        }
        // Records stale since a version <= horizon are used by no retained version.
        let end = horizon.saturating_add(1).to_be_bytes();
        // Each stale-index entry lists up to `STALE_CHUNK` records; whole entries are pruned, at most
        // `MAX_PRUNE_PER_COMMIT` records per commit (but always at least one entry, so pruning progresses).
        let mut start = self.pending.newest().map(|p| p.prune_cursor.clone()).unwrap_or_default();
        let mut pruned = 0usize;
        // Node records are deleted in key order (the stale lists hold them in the order each update replaced
        // them), so that the node column stays sorted and the store need not sort it (see `prepare`).
        let mut node_deletes = Vec::new();
        'pages: loop {
            let page = self.store.scan(Column::StateStale, &start, Some(&end), STALE_PAGE)?;
            let full = page.len() == STALE_PAGE;
            for (k, list) in page {
                let (_, kind) = parse_stale_key(&k)?;
                if let Some(column) = kind.column() {
                    let records = decode_stale_list(&k, &list)?;
                    if pruned > 0 && pruned + records.len() > MAX_PRUNE_PER_COMMIT {
                        break 'pages;
                    }
                    pruned += records.len();
                    if column == Column::StateNodes {
                        node_deletes.extend(records.into_iter().map(<[u8]>::to_vec));
                    } else {
                        for r in records {
                            batch.delete(column, r);
                        }
                    }
                }
                start = key_successor(&k);
                batch.delete(Column::StateStale, k);
            }
            if !full {
                break;
            }
        }
        node_deletes.sort_unstable();
        for r in node_deletes {
            batch.delete(Column::StateNodes, r);
        }
        *cursor = start;
        Ok((oldest, horizon))
    }

    /// The newest checkpoint among the committed versions `above < v <= version`, if any.
    fn newest_checkpoint(&self, version: u64, above: u64) -> Result<Option<u64>, StateError> {
        let mut at = version;
        while at > above {
            if self.root_record(at)?.checkpoint {
                return Ok(Some(at));
            }
            at -= 1;
        }
        Ok(None)
    }
}

/// Sorts changes by key hash: by the first 8 bytes (one integer comparison), then, within the rare runs
/// sharing them, by the whole hash.
fn sort_by_key_hash(changes: &mut [Change<'_>]) {
    let prefix = |h: &Hash| {
        let mut p = [0u8; 8];
        p.copy_from_slice(&h.0[..8]);
        u64::from_be_bytes(p)
    };
    changes.sort_unstable_by_key(|c| prefix(&c.key_hash));
    let mut i = 0;
    while i < changes.len() {
        let p = prefix(&changes[i].key_hash);
        let run = changes[i..].iter().take_while(|c| prefix(&c.key_hash) == p).count();
        if run > 1 {
            changes[i..i + run].sort_unstable_by_key(|c| c.key_hash);
        }
        i += run;
    }
}

/// The root of a version from its record: no node (empty tree), a 9-byte node key (an internal root node), or
/// a 40-byte value key (the tree is a single leaf, which has no node record).
fn root_of(record: &RootRecord) -> Result<Root, StoreError> {
    let Some(k) = record.node.as_deref() else { return Ok(Root::Empty) };
    if k.len() == VALUE_KEY_LEN {
        let (key_hash, value_version) = parse_value_key(k)?;
        return Ok(Root::Leaf(Leaf { key_hash, value_version, hash: record.hash }));
    }
    let key = NodeKey::decode(k)?;
    if !key.path.is_empty() {
        return Err(StoreError::corrupt(Column::StateRoots, k, "root record names a non-root node"));
    }
    Ok(Root::Node(NodeId::from_key(&key), record.hash))
}

/// The record of a root (see [`root_of`]), not marked as a checkpoint.
fn root_record_of(root: &Root) -> RootRecord {
    let node = match root {
        Root::Empty => None,
        Root::Leaf(l) => Some(value_key(&l.key_hash, l.value_version)),
        Root::Node(id, _) => Some(id.encode()),
    };
    RootRecord { node, hash: root.hash(), checkpoint: false }
}

/// The overlay's changes with their key and value hashes, sorted by key hash; for a large overlay, computed
/// on two threads of rayon's pool.
fn hash_changes(overlay: &Overlay) -> Vec<Change<'_>> {
    let entries: Vec<(&[u8], Option<&[u8]>)> = overlay.iter().collect();
    if entries.len() < crate::update::PARALLEL_MIN_CHANGES {
        let mut changes = hash_entries(&entries);
        sort_by_key_hash(&mut changes);
        return changes;
    }
    // Each half is hashed and sorted on its own thread, then the two sorted halves are merged.
    let (first, second) = entries.split_at(entries.len() / 2);
    let sorted = |half| {
        let mut changes = hash_entries(half);
        sort_by_key_hash(&mut changes);
        changes
    };
    let (a, b) = rayon::join(|| sorted(first), || sorted(second));
    merge_by_key_hash(a, b)
}

/// The changes of `a` and `b` (each sorted by key hash, their keys distinct) in one list sorted by key hash.
fn merge_by_key_hash<'a>(a: Vec<Change<'a>>, b: Vec<Change<'a>>) -> Vec<Change<'a>> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if y.key_hash < x.key_hash => b.next(),
            (Some(_), _) => a.next(),
            (None, _) => b.next(),
        };
        match next {
            Some(c) => out.push(c),
            None => return out,
        }
    }
}

fn hash_entries<'a>(entries: &[(&'a [u8], Option<&'a [u8]>)]) -> Vec<Change<'a>> {
    entries
        .iter()
        .map(|&(key, value)| Change {
            key_hash: hashing::key_hash(key),
            key,
            value: value.map(|v| (v, hashing::value_hash(v))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_changes_come_sorted_by_key_hash_whatever_their_number() {
        for n in [0usize, 1, 2, 1_023, 1_024, 1_025, 4_099] {
            let mut overlay = Overlay::new();
            for i in 0..n {
                let key = format!("k{i}");
                if i % 5 == 0 {
                    overlay.delete(key.as_bytes()).unwrap();
                } else {
                    overlay.put(key.as_bytes(), b"v").unwrap();
                }
            }
            let changes = hash_changes(&overlay);
            assert_eq!(changes.len(), n);
            assert!(changes.windows(2).all(|w| w[0].key_hash < w[1].key_hash), "{n} changes");
            for c in &changes {
                assert_eq!(c.key_hash, state_key_hash(c.key));
                assert_eq!(c.value.is_none(), overlay.get(c.key) == Some(None));
            }
        }
    }
}
