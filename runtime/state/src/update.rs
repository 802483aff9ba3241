//! One batched update of the tree: all of a version's changes, sorted by key hash, applied in one recursive
//! pass. Each touched internal node is loaded once (through the node cache), rebuilt once and hashed once;
//! untouched subtrees are kept by reference. Leaves are not records of their own: a leaf is its parent's child
//! entry (key hash, leaf hash, value version), so updating a key loads no leaf and writes no leaf record. The
//! pass allocates little per node: positions are [`NodeId`]s (no heap path), a rebuilt node's children go
//! straight into its one vector (kept children copied once, changed ones as they are computed), and records
//! are encoded straight into the write batch.
//!
//! The writes come out in key order per column (values and tombstones by key hash, nodes by depth then path,
//! stale lists by kind), which is the order RocksDB's memtable inserts fastest.
//!
//! A large update runs on two threads of rayon's pool (ADR 0017): the root's child subtrees are disjoint, so
//! the changes are split at a root nibble into two halves of about equal size, each half is applied by its
//! own pass, and the second pass's outputs are appended to the first's — which keeps every output in the
//! order one pass would have produced (the second half's key hashes and paths all sort after the first's).

use crate::db::NodeRef;
use crate::hashing::leaf_hash;
use crate::kv::{KvStore, WriteBatch};
use crate::node::{Child, Node, NodeId};
use crate::records::{
    push_stale_record, push_stale_value, stale_key, value_key_bytes, StaleKind, ValueRecord, STALE_CHUNK,
};
use crate::state_proof::{nibble, MAX_PROOF_DEPTH, RADIX};
use crate::{Column, StateDb, StateError, StoreError};
use purse_types::Hash;

/// One change to apply: a key hash with the new value, or `None` to delete.
pub(crate) struct Change<'a> {
    pub key_hash: Hash,
    pub key: &'a [u8],
    pub value: Option<(&'a [u8], Hash)>,
}

/// A leaf: the key hash, the version of its value record, and the leaf hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Leaf {
    pub key_hash: Hash,
    pub value_version: u64,
    pub hash: Hash,
}

/// The root of a version, as the update pass sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    /// The empty tree.
    Empty,
    /// The tree is one leaf.
    Leaf(Leaf),
    /// An internal root node stored at this id, with this hash.
    Node(NodeId, Hash),
}

impl Root {
    /// The state root hash.
    pub fn hash(&self) -> Hash {
        match self {
            Root::Empty => Hash::ZERO,
            Root::Leaf(l) => l.hash,
            Root::Node(_, h) => *h,
        }
    }
}

/// What a position holds before the update.
enum Existing<'d> {
    Empty,
    Leaf(Leaf),
    Node(NodeId, NodeRef<'d>),
}

/// A subtree after the update, before its parent decides where it lives.
enum Sub {
    /// The subtree is what it was: its changes changed nothing (deletions of keys that do not exist). Its
    /// nodes are kept as they are, not rebuilt at this version, so a version's nodes follow from its change
    /// list alone (which lists only written values) — rebuilding a version from it gives the same tree.
    Kept,
    Empty,
    /// A single leaf.
    Leaf(Leaf),
    /// An internal node built by this update, with its hash. Its parent writes it (at this version), so that
    /// the nodes of each depth are written in path order.
    Internal(Hash, Node),
}

/// The output of an update pass.
pub(crate) struct UpdateOutput {
    /// Every write but the node records.
    pub batch: WriteBatch,
    /// The records of the nodes this version built, at a checkpoint (else empty), in storage-key order. Kept
    /// apart so that the older unwritten nodes a checkpoint also writes can go before them, keeping the node
    /// column in key order (see `checkpoint::write_unwritten`).
    pub node_records: WriteBatch,
    pub root: Root,
    /// Nodes built above the linked depth, for the upper tree (module `upper`).
    pub upper: Vec<(NodeId, Node)>,
    /// Nodes of the previous version above the linked depth replaced by this one, to leave the upper tree.
    pub upper_replaced: Vec<NodeId>,
    /// Nodes written at or below the linked depth, for the node cache.
    pub new_nodes: Vec<(NodeId, Node)>,
    /// Nodes of the previous version at or below the linked depth replaced by this one (no longer in the
    /// latest tree), to evict from the node cache.
    pub replaced: Vec<NodeId>,
    /// Keys created (`true`) or deleted (`false`) by this version, for the key index.
    pub index: Vec<(Vec<u8>, bool)>,
}

/// Record keys that became stale at this version, in chunks of at most [`STALE_CHUNK`].
#[derive(Default)]
struct StaleList {
    chunks: Vec<Vec<u8>>,
    in_last: usize,
}

impl StaleList {
    /// The chunk to append the next record key to.
    fn next(&mut self) -> &mut Vec<u8> {
        if self.chunks.is_empty() || self.in_last == STALE_CHUNK {
            self.chunks.push(Vec::with_capacity(STALE_CHUNK * 16));
            self.in_last = 0;
        }
        self.in_last += 1;
        let last = self.chunks.len() - 1;
        &mut self.chunks[last]
    }

    fn push_node(&mut self, id: &NodeId) {
        let list = self.next();
        list.push(id.encoded_len() as u8);
        id.encode_into(list);
    }

    fn push_value(&mut self, key_hash: &Hash, version: u64) {
        push_stale_value(self.next(), key_hash, version);
    }

    fn push_key_hash(&mut self, key_hash: &Hash) {
        push_stale_record(self.next(), &key_hash.0);
    }

    /// Appends `other`'s records after this list's (chunks need not be full).
    fn append(&mut self, other: StaleList) {
        if other.chunks.is_empty() {
            return;
        }
        self.chunks.extend(other.chunks);
        self.in_last = other.in_last;
    }

    fn write(self, version: u64, kind: StaleKind, batch: &mut WriteBatch) {
        for (i, chunk) in self.chunks.into_iter().enumerate() {
            batch.put(Column::StateStale, stale_key(version, kind, i as u32), chunk);
        }
    }
}

/// Fewest changes for which an update splits its root across two threads (below it, handing half to another
/// thread costs more than it saves).
pub(crate) const PARALLEL_MIN_CHANGES: usize = 1_024;

/// Initial buffer of each depth's node records; a batch adds buffers as it fills rather than copying into a
/// larger one (see [`WriteBatch`]).
const NODE_SEGMENT_BYTES: usize = 64 * 1024;

pub(crate) struct TreeUpdate<'d, S> {
    db: &'d StateDb<S>,
    version: u64,
    /// Nodes above this depth are linked to their internal children
    /// ([`StateConfig::linked_depth`](crate::StateConfig::linked_depth)).
    linked_depth: usize,
    /// Whether the version is a checkpoint: its new nodes' records are written (otherwise they stay in memory
    /// until the next checkpoint writes the live ones).
    persist: bool,
    /// Value records and tombstones, in key-hash order.
    batch: WriteBatch,
    /// Nodes built by this version above the linked depth.
    upper: Vec<(NodeId, Node)>,
    /// Nodes of the base version above the linked depth that this version replaces.
    upper_replaced: Vec<NodeId>,
    /// Nodes written by this version at or below the linked depth, in the order they were built.
    new_nodes: Vec<(NodeId, Node)>,
    /// Nodes of the base version at or below the linked depth that this version replaces.
    replaced: Vec<NodeId>,
    /// The node records, encoded as they are built, one batch per depth (each in path order).
    node_records: Vec<WriteBatch>,
    stale_nodes: StaleList,
    stale_values: StaleList,
    stale_tombstones: StaleList,
    /// Key hashes of the keys this version creates (the rest of its change list is `stale_values`).
    created: StaleList,
    index: Vec<(Vec<u8>, bool)>,
}

impl<'d, S: KvStore + Sync> TreeUpdate<'d, S> {
    /// An update of `db` to `version` with `expected_changes` changes, whose batch will hold about
    /// `expected_bytes`; `persist` if the version is a checkpoint (its new nodes' records are written).
    pub(crate) fn new(
        db: &'d StateDb<S>,
        version: u64,
        expected_changes: usize,
        expected_bytes: usize,
        persist: bool,
    ) -> Self {
        TreeUpdate {
            db,
            version,
            linked_depth: db.config().linked_depth,
            persist,
            batch: WriteBatch::with_capacity_bytes(expected_changes * 3 + 16, expected_bytes),
            upper: Vec::new(),
            upper_replaced: Vec::new(),
            new_nodes: Vec::new(),
            replaced: Vec::new(),
            node_records: Vec::new(),
            stale_nodes: StaleList::default(),
            stale_values: StaleList::default(),
            stale_tombstones: StaleList::default(),
            created: StaleList::default(),
            index: Vec::new(),
        }
    }

    /// Applies `changes` (sorted by key hash, unique) to the tree whose root is `root`.
    pub(crate) fn run(mut self, root: Root, changes: &[Change<'_>]) -> Result<UpdateOutput, StateError> {
        if changes.is_empty() {
            return Ok(self.finish(root));
        }
        let at = NodeId::root(self.version);
        let sub = match root {
            Root::Empty => self.update(at, Existing::Empty, changes)?,
            Root::Leaf(l) => self.update(at, Existing::Leaf(l), changes)?,
            Root::Node(id, _) => {
                let node = self.db.node_ref(&id)?;
                if changes.len() >= PARALLEL_MIN_CHANGES {
                    self.update_root_in_parallel(at, id, &node, changes)?
                } else {
                    self.update(at, Existing::Node(id, node), changes)?
                }
            }
        };
        let root = match sub {
            Sub::Kept => root,
            Sub::Empty => Root::Empty,
            Sub::Leaf(l) => Root::Leaf(l),
            Sub::Internal(h, node) => {
                let id = NodeId::root(self.version);
                self.write_node(id, &h, node);
                Root::Node(id, h)
            }
        };
        Ok(self.finish(root))
    }

    /// The pass's output, with `root` the new root.
    fn finish(self, root: Root) -> UpdateOutput {
        let mut batch = self.batch;
        // Node records in storage-key order (depth, then path). Each node is written by its parent
        // (`push_sub`), children in nibble order, and parents are rebuilt in path order: every depth is already
        // in path order, so concatenating the depths sorts them.
        let mut node_records = WriteBatch::new();
        for records in self.node_records {
            node_records.append(records);
        }
        self.stale_nodes.write(self.version, StaleKind::Node, &mut batch);
        self.stale_values.write(self.version, StaleKind::Value, &mut batch);
        self.stale_tombstones.write(self.version, StaleKind::Tombstone, &mut batch);
        self.created.write(self.version, StaleKind::Created, &mut batch);
        UpdateOutput {
            batch,
            node_records,
            root,
            upper: self.upper,
            upper_replaced: self.upper_replaced,
            new_nodes: self.new_nodes,
            replaced: self.replaced,
            index: self.index,
        }
    }

    /// Updates the subtree at position `at` (version ignored), which holds `existing`.
    fn update(
        &mut self,
        at: NodeId,
        existing: Existing<'d>,
        changes: &[Change<'_>],
    ) -> Result<Sub, StateError> {
        match existing {
            Existing::Empty => {
                let items: Vec<Leaf> = changes.iter().filter_map(|c| self.new_leaf(c, None)).collect();
                self.build(at, &items)
            }
            Existing::Leaf(old) => {
                // Fast path: the key of this leaf changes and nothing else lands here.
                if let [c] = changes {
                    if c.key_hash == old.key_hash {
                        return Ok(match self.new_leaf(c, Some(&old)) {
                            Some(l) => Sub::Leaf(l),
                            None => Sub::Empty,
                        });
                    }
                }
                let mut items = Vec::with_capacity(changes.len() + 1);
                let mut old_pending = Some(old);
                for c in changes {
                    if let Some(o) = old_pending {
                        if o.key_hash < c.key_hash {
                            items.push(o);
                            old_pending = None;
                        } else if o.key_hash == c.key_hash {
                            old_pending = None;
                            if let Some(l) = self.new_leaf(c, Some(&o)) {
                                items.push(l);
                            }
                            continue;
                        }
                    }
                    if let Some(l) = self.new_leaf(c, None) {
                        items.push(l);
                    }
                }
                if let Some(o) = old_pending {
                    items.push(o);
                }
                self.build(at, &items)
            }
            Existing::Node(id, node) => {
                let groups = groups(changes, at.depth());
                let sub = self.rebuild(at, &node.children, groups, |me, old, n, group| {
                    me.update_child(at, old, n, group)
                })?;
                if !matches!(sub, Sub::Kept) {
                    self.replace_node(&id);
                }
                Ok(sub)
            }
        }
    }

    /// Updates child `n` of the node at `at`, which is `old` (`None` if the slot is empty), with `group` (the
    /// changes under that nibble).
    fn update_child(
        &mut self,
        at: NodeId,
        old: Option<&Child>,
        n: u8,
        group: &[Change<'_>],
    ) -> Result<Sub, StateError> {
        let child_at = at.child(n, self.version);
        let existing_child = match old {
            None => Existing::Empty,
            Some(c) => match c.leaf {
                Some(key_hash) => Existing::Leaf(Leaf { key_hash, value_version: c.version, hash: c.hash }),
                None => {
                    let cid = child_at.at(c.version);
                    Existing::Node(cid, self.db.node_ref(&cid)?)
                }
            },
        };
        self.update(child_at, existing_child, group)
    }

    /// The root update of a large block on two threads: the root's children groups are split into two halves
    /// of about equal size at a nibble boundary; this pass applies the first, a second pass (on another
    /// thread of the pool, when one is free) the second, whose outputs are then appended to this one's
    /// (module docs).
    fn update_root_in_parallel(
        &mut self,
        at: NodeId,
        id: NodeId,
        node: &Node,
        changes: &[Change<'_>],
    ) -> Result<Sub, StateError> {
        let all: Vec<(u8, &[Change<'_>])> = groups(changes, at.depth()).collect();
        let mut cut = all.len();
        let mut first_half = 0;
        for (i, (_, g)) in all.iter().enumerate() {
            if first_half >= changes.len() / 2 {
                cut = i;
                break;
            }
            first_half += g.len();
        }
        let (mine, theirs) = all.split_at(cut);
        let (db, version, persist) = (self.db, self.version, self.persist);
        let their_changes = changes.len() - first_half;
        let (my_subs, their_result) = rayon::join(
            || -> Result<Vec<(u8, Sub)>, StateError> {
                mine.iter()
                    .map(|(n, g)| self.update_child(at, node.child(*n), *n, g).map(|sub| (*n, sub)))
                    .collect()
            },
            move || {
                let mut other = TreeUpdate::new(db, version, their_changes, 0, persist);
                let subs: Result<Vec<(u8, Sub)>, StateError> = theirs
                    .iter()
                    .map(|(n, g)| other.update_child(at, node.child(*n), *n, g).map(|sub| (*n, sub)))
                    .collect();
                (subs, other)
            },
        );
        let (their_subs, other) = their_result;
        let (my_subs, their_subs) = (my_subs?, their_subs?);
        // The second pass's records follow this one's; then the root's new children are written, in nibble
        // order, after every deeper node of both halves.
        self.absorb(other);
        let sub =
            self.rebuild(at, &node.children, my_subs.into_iter().chain(their_subs), |_, _, _, sub| Ok(sub))?;
        if !matches!(sub, Sub::Kept) {
            self.replace_node(&id);
        }
        Ok(sub)
    }

    /// Appends the outputs of a pass over a later part of the key space.
    fn absorb(&mut self, other: TreeUpdate<'d, S>) {
        self.batch.append(other.batch);
        self.upper.extend(other.upper);
        self.upper_replaced.extend(other.upper_replaced);
        self.new_nodes.extend(other.new_nodes);
        self.replaced.extend(other.replaced);
        // Per depth, the other pass's nodes follow this pass's in path order.
        for (depth, records) in other.node_records.into_iter().enumerate() {
            self.records_at(depth).append(records);
        }
        self.stale_nodes.append(other.stale_nodes);
        self.stale_values.append(other.stale_values);
        self.stale_tombstones.append(other.stale_tombstones);
        self.created.append(other.created);
        self.index.extend(other.index);
    }

    /// Builds the subtree at `at` holding exactly `items` (sorted by key hash).
    fn build(&mut self, at: NodeId, items: &[Leaf]) -> Result<Sub, StateError> {
        if items.len() <= 1 {
            return Ok(match items.first() {
                Some(l) => Sub::Leaf(*l),
                None => Sub::Empty,
            });
        }
        let depth = at.depth();
        if depth >= MAX_PROOF_DEPTH {
            // Two distinct key hashes always differ before the last nibble.
            return Err(corrupt(&at, "duplicate key hash"));
        }
        let mut children = Vec::with_capacity(items.len().min(RADIX));
        let mut rest = items;
        while let Some(first) = rest.first() {
            let n = nibble(&first.key_hash, depth);
            let split = rest.iter().position(|l| nibble(&l.key_hash, depth) != n).unwrap_or(rest.len());
            let (group, tail) = rest.split_at(split);
            rest = tail;
            let sub = self.build(at.child(n, self.version), group)?;
            self.push_sub(at, n, sub, &mut children);
        }
        Ok(seal(&children))
    }

    /// Rebuilds the node at `at`, whose children were `old` (in nibble order): `changed` gives, in nibble
    /// order, each nibble that changes with what `sub_of` turns into its new subtree (given its old child);
    /// the other children are kept as they were. [`Sub::Kept`] if no child changed after all.
    fn rebuild<T>(
        &mut self,
        at: NodeId,
        old: &[Child],
        changed: impl IntoIterator<Item = (u8, T)>,
        mut sub_of: impl FnMut(&mut Self, Option<&Child>, u8, T) -> Result<Sub, StateError>,
    ) -> Result<Sub, StateError> {
        let mut children = Vec::with_capacity(RADIX.min(old.len() + 2));
        let mut rest = old;
        let mut any_changed = false;
        for (n, what) in changed {
            while let Some((c, tail)) = rest.split_first().filter(|(c, _)| c.nibble < n) {
                children.push(*c);
                rest = tail;
            }
            let current = match rest.split_first() {
                Some((c, tail)) if c.nibble == n => {
                    rest = tail;
                    Some(c)
                }
                _ => None,
            };
            let sub = sub_of(self, current, n, what)?;
            if is_unchanged(&sub, current) {
                if let Some(c) = current {
                    children.push(*c);
                }
                continue;
            }
            any_changed = true;
            self.push_sub(at, n, sub, &mut children);
        }
        if !any_changed {
            return Ok(Sub::Kept);
        }
        children.extend_from_slice(rest);
        Ok(seal(&children))
    }

    /// Appends to `children` the entry of `sub`, the new subtree at nibble `n` of the node at `at`: nothing if
    /// it is empty, a leaf entry, or an internal child, whose node is written here (the nodes of a depth are
    /// written in path order: a parent adds its children in nibble order, and parents are rebuilt in path
    /// order).
    fn push_sub(&mut self, at: NodeId, n: u8, sub: Sub, children: &mut Vec<Child>) {
        let child = match sub {
            // Only `rebuild` sees a kept subtree, and keeps the old child itself.
            Sub::Kept | Sub::Empty => return,
            Sub::Leaf(l) => {
                Child { nibble: n, hash: l.hash, version: l.value_version, leaf: Some(l.key_hash) }
            }
            Sub::Internal(hash, node) => {
                self.write_node(at.child(n, self.version), &hash, node);
                Child { nibble: n, hash, version: self.version, leaf: None }
            }
        };
        children.push(child);
    }

    /// Records the value change of `c` and returns its new leaf (none for a deletion). `old` is the key's
    /// current leaf, if the key exists.
    fn new_leaf(&mut self, c: &Change<'_>, old: Option<&Leaf>) -> Option<Leaf> {
        if let Some(o) = old {
            self.stale_values.push_value(&o.key_hash, o.value_version);
        }
        match c.value {
            Some((value, value_hash)) => {
                if old.is_none() {
                    self.index.push((c.key.to_vec(), true));
                    self.created.push_key_hash(&c.key_hash);
                }
                self.batch.put_with(
                    Column::StateValues,
                    &value_key_bytes(&c.key_hash, self.version),
                    |out| ValueRecord::encode_parts_into(c.key, Some(value), out),
                );
                let hash = leaf_hash(&c.key_hash, &value_hash);
                Some(Leaf { key_hash: c.key_hash, value_version: self.version, hash })
            }
            None => {
                if old.is_some() {
                    self.index.push((c.key.to_vec(), false));
                    self.stale_tombstones.push_value(&c.key_hash, self.version);
                    let k = value_key_bytes(&c.key_hash, self.version);
                    self.batch.put_with(Column::StateValues, &k, |out| {
                        ValueRecord::encode_parts_into(c.key, None, out)
                    });
                }
                None
            }
        }
    }

    /// Records that the node `id` of the base version is replaced: its record, if it was written, becomes
    /// stale at this version, and it leaves the upper tree or (below the linked depth) the node cache or the
    /// unwritten nodes.
    fn replace_node(&mut self, id: &NodeId) {
        // Nodes written by the latest checkpoint or before it are in the store.
        if id.version <= self.db.checkpoint() {
            self.stale_nodes.push_node(id);
        }
        if self.is_linked(id) {
            self.upper_replaced.push(*id);
        } else {
            self.replaced.push(*id);
        }
    }

    /// Whether the node at `id` belongs to the upper tree rather than the node cache.
    fn is_linked(&self, id: &NodeId) -> bool {
        id.depth() < self.linked_depth
    }

    /// Records the node built at `id`, whose hash is `hash`: at a checkpoint, encodes its record (on the
    /// thread that built it); keeps it for the upper tree, or below the linked depth for the node cache (or,
    /// until the next checkpoint, the unwritten nodes).
    fn write_node(&mut self, id: NodeId, hash: &Hash, node: Node) {
        if self.persist {
            let key = id.key_bytes();
            self.records_at(id.depth())
                .put_with(Column::StateNodes, &key[..id.encoded_len()], |out| node.encode_into(hash, out));
        }
        if self.is_linked(&id) {
            self.upper.push((id, node));
        } else {
            self.new_nodes.push((id, node));
        }
    }

    /// The batch of node records at `depth`.
    fn records_at(&mut self, depth: usize) -> &mut WriteBatch {
        let depth = depth.min(MAX_PROOF_DEPTH);
        if self.node_records.len() <= depth {
            self.node_records
                .resize_with(depth + 1, || WriteBatch::with_capacity_bytes(0, NODE_SEGMENT_BYTES));
        }
        &mut self.node_records[depth]
    }
}

/// The runs of `changes` (sorted by key hash) that share their nibble at `depth`, with that nibble.
fn groups<'c, 'k>(changes: &'c [Change<'k>], depth: usize) -> impl Iterator<Item = (u8, &'c [Change<'k>])> {
    let mut rest = changes;
    std::iter::from_fn(move || {
        let first = rest.first()?;
        let n = nibble(&first.key_hash, depth);
        let split = rest.iter().position(|c| nibble(&c.key_hash, depth) != n).unwrap_or(rest.len());
        let (group, tail) = rest.split_at(split);
        rest = tail;
        Some((n, group))
    })
}

fn corrupt(id: &NodeId, reason: &str) -> StateError {
    StoreError::corrupt(Column::StateNodes, &id.encode(), reason).into()
}

/// Whether `sub`, the new subtree at a position whose child was `current`, is that child unchanged.
fn is_unchanged(sub: &Sub, current: Option<&Child>) -> bool {
    match (sub, current) {
        (Sub::Kept, _) | (Sub::Empty, None) => true,
        (Sub::Leaf(l), Some(c)) => {
            c.leaf == Some(l.key_hash) && c.version == l.value_version && c.hash == l.hash
        }
        _ => false,
    }
}

/// The subtree of a rebuilt node whose children are `children` (in nibble order): empty, the only child if it
/// is a leaf (a node needs two children or one internal child), or a new node with its hash (the children
/// copied into the node's own allocation).
fn seal(children: &[Child]) -> Sub {
    match children {
        [] => Sub::Empty,
        [Child { hash, version, leaf: Some(key_hash), .. }] => {
            Sub::Leaf(Leaf { key_hash: *key_hash, value_version: *version, hash: *hash })
        }
        _ => {
            let node = Node { children: children.into() };
            Sub::Internal(node.hash(), node)
        }
    }
}
