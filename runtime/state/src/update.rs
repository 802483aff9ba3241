//! One batched update of the tree: all of a version's changes, sorted by key hash, applied in one pass.

use crate::kv::{KvStore, WriteBatch};
use crate::node::{Child, InternalNode, LeafNode, Node, NodeKey};
use crate::records::{stale_key, value_key, StaleKind, ValueRecord};
use crate::state_proof::{nibble, RADIX};
use crate::{Column, StateDb, StateError};
use purse_types::Hash;
use std::sync::Arc;

/// One change to apply: a key hash with the new value, or `None` to delete.
pub(crate) struct Change<'a> {
    pub key_hash: Hash,
    pub key: &'a [u8],
    pub value: Option<(&'a [u8], Hash)>,
}

/// A subtree after the update, before its parent decides where it lives.
enum Sub {
    Empty,
    /// A single leaf. `origin` is where it is stored now, if it already exists.
    Leaf {
        leaf: LeafNode,
        origin: Option<NodeKey>,
    },
    /// An internal node written by this update at (version, path).
    Internal(Hash),
}

/// A child slot of a node being rebuilt.
enum Slot {
    Kept(Child),
    New(Sub),
}

/// A leaf to place while building a subtree from scratch.
struct LeafItem {
    leaf: LeafNode,
    origin: Option<NodeKey>,
}

/// The output of an update pass.
pub(crate) struct UpdateOutput {
    pub batch: WriteBatch,
    pub root_node: Option<NodeKey>,
    pub root_hash: Hash,
    pub new_nodes: Vec<(NodeKey, Arc<Node>)>,
}

pub(crate) struct TreeUpdate<'d, S> {
    db: &'d StateDb<S>,
    version: u64,
    batch: WriteBatch,
    new_nodes: Vec<(NodeKey, Arc<Node>)>,
}

impl<'d, S: KvStore> TreeUpdate<'d, S> {
    pub(crate) fn new(db: &'d StateDb<S>, version: u64, expected_ops: usize) -> Self {
        TreeUpdate { db, version, batch: WriteBatch::with_capacity(expected_ops), new_nodes: Vec::new() }
    }

    /// Applies `changes` (sorted by key hash, unique) to the tree rooted at `root`.
    pub(crate) fn run(
        mut self,
        root: Option<NodeKey>,
        root_hash: Hash,
        changes: &[Change<'_>],
    ) -> Result<UpdateOutput, StateError> {
        if changes.is_empty() {
            return Ok(UpdateOutput {
                batch: self.batch,
                root_node: root,
                root_hash,
                new_nodes: self.new_nodes,
            });
        }
        let existing = match root {
            Some(k) => {
                let node = self.db.load_node(&k)?;
                Some((k, node))
            }
            None => None,
        };
        let sub = self.update(Vec::new(), existing, changes)?;
        let (root_node, root_hash) = match sub {
            Sub::Empty => (None, Hash::ZERO),
            Sub::Leaf { leaf, origin } => {
                let child = self.place_leaf(&[], 0, leaf, origin, true);
                (Some(NodeKey { version: child.version, path: Vec::new() }), child.hash)
            }
            Sub::Internal(h) => (Some(NodeKey { version: self.version, path: Vec::new() }), h),
        };
        Ok(UpdateOutput { batch: self.batch, root_node, root_hash, new_nodes: self.new_nodes })
    }

    fn update(
        &mut self,
        path: Vec<u8>,
        existing: Option<(NodeKey, Arc<Node>)>,
        changes: &[Change<'_>],
    ) -> Result<Sub, StateError> {
        match existing {
            None => {
                let items = changes.iter().filter_map(|c| self.new_leaf(c, None)).collect();
                self.build(path, items)
            }
            Some((key, node)) => match node.as_ref() {
                Node::Leaf(old) => {
                    let mut items = Vec::with_capacity(changes.len() + 1);
                    let mut old_pending = Some(old);
                    for c in changes {
                        if let Some(o) = old_pending {
                            if o.key_hash < c.key_hash {
                                items.push(LeafItem { leaf: o.clone(), origin: Some(key.clone()) });
                                old_pending = None;
                            } else if o.key_hash == c.key_hash {
                                self.stale(StaleKind::Node, key.encode());
                                old_pending = None;
                                if let Some(item) = self.new_leaf(c, Some(o)) {
                                    items.push(item);
                                }
                                continue;
                            }
                        }
                        if let Some(item) = self.new_leaf(c, None) {
                            items.push(item);
                        }
                    }
                    if let Some(o) = old_pending {
                        items.push(LeafItem { leaf: o.clone(), origin: Some(key.clone()) });
                    }
                    self.build(path, items)
                }
                Node::Internal(internal) => {
                    self.stale(StaleKind::Node, key.encode());
                    let depth = path.len();
                    let mut slots: Vec<Option<Slot>> = (0..RADIX).map(|_| None).collect();
                    for c in &internal.children {
                        slots[c.nibble as usize] = Some(Slot::Kept(c.clone()));
                    }
                    for (n, group) in group_by_nibble(changes, depth, |c| &c.key_hash) {
                        let child_key = NodeKey { version: 0, path: child_path(&path, n) };
                        let existing_child = match internal.child(n) {
                            Some(c) => {
                                let k = NodeKey { version: c.version, path: child_key.path.clone() };
                                let node = self.db.load_node(&k)?;
                                Some((k, node))
                            }
                            None => None,
                        };
                        let sub = self.update(child_key.path, existing_child, group)?;
                        slots[n as usize] = Some(Slot::New(sub));
                    }
                    self.finish(path, slots)
                }
            },
        }
    }

    /// Builds the subtree at `path` holding exactly `items` (sorted by key hash).
    fn build(&mut self, path: Vec<u8>, mut items: Vec<LeafItem>) -> Result<Sub, StateError> {
        match items.len() {
            0 => Ok(Sub::Empty),
            1 => {
                let LeafItem { leaf, origin } = items.remove(0);
                Ok(Sub::Leaf { leaf, origin })
            }
            _ => {
                let depth = path.len();
                let mut slots: Vec<Option<Slot>> = (0..RADIX).map(|_| None).collect();
                let mut rest = items;
                while !rest.is_empty() {
                    let n = nibble(&rest[0].leaf.key_hash, depth);
                    let split =
                        rest.iter().position(|i| nibble(&i.leaf.key_hash, depth) != n).unwrap_or(rest.len());
                    let tail = rest.split_off(split);
                    let sub = self.build(child_path(&path, n), rest)?;
                    slots[n as usize] = Some(Slot::New(sub));
                    rest = tail;
                }
                self.finish(path, slots)
            }
        }
    }

    /// Turns the child slots of the node at `path` into a subtree: empty, a hoisted leaf, or a written node.
    fn finish(&mut self, path: Vec<u8>, slots: Vec<Option<Slot>>) -> Result<Sub, StateError> {
        let present: Vec<(u8, Slot)> = slots
            .into_iter()
            .enumerate()
            .filter_map(|(n, s)| match s {
                None | Some(Slot::New(Sub::Empty)) => None,
                Some(s) => Some((n as u8, s)),
            })
            .collect();
        if present.is_empty() {
            return Ok(Sub::Empty);
        }
        if present.len() == 1 {
            match &present[0].1 {
                Slot::New(Sub::Leaf { leaf, origin }) => {
                    return Ok(Sub::Leaf { leaf: leaf.clone(), origin: origin.clone() });
                }
                Slot::Kept(c) if c.leaf => {
                    let k = NodeKey { version: c.version, path: child_path(&path, present[0].0) };
                    return match self.db.load_node(&k)?.as_ref() {
                        Node::Leaf(leaf) => Ok(Sub::Leaf { leaf: leaf.clone(), origin: Some(k) }),
                        Node::Internal(_) => Err(StateError::Store(crate::StoreError::corrupt(
                            Column::StateNodes,
                            &k.encode(),
                            "child marked as leaf is an internal node",
                        ))),
                    };
                }
                _ => {}
            }
        }
        let mut children = Vec::with_capacity(present.len());
        for (n, slot) in present {
            let child = match slot {
                Slot::Kept(c) => c,
                Slot::New(Sub::Leaf { leaf, origin }) => self.place_leaf(&path, n, leaf, origin, false),
                Slot::New(Sub::Internal(hash)) => {
                    Child { nibble: n, hash, version: self.version, leaf: false }
                }
                Slot::New(Sub::Empty) => continue,
            };
            children.push(child);
        }
        let node = InternalNode { children };
        let hash = node.hash();
        self.write_node(NodeKey { version: self.version, path }, Node::Internal(node));
        Ok(Sub::Internal(hash))
    }

    /// Places a leaf as child `n` of `parent` (or as the root): reuses it where it already is, else writes it
    /// anew and marks the old copy stale.
    fn place_leaf(
        &mut self,
        parent: &[u8],
        n: u8,
        leaf: LeafNode,
        origin: Option<NodeKey>,
        root: bool,
    ) -> Child {
        let path = if root { Vec::new() } else { child_path(parent, n) };
        let hash = leaf.hash();
        if let Some(o) = &origin {
            if o.path == path {
                return Child { nibble: n, hash, version: o.version, leaf: true };
            }
            self.stale(StaleKind::Node, o.encode());
        }
        self.write_node(NodeKey { version: self.version, path }, Node::Leaf(leaf));
        Child { nibble: n, hash, version: self.version, leaf: true }
    }

    /// Records the value change of `c` and returns its new leaf (none for a deletion). `old` is the key's
    /// current leaf, if the key exists.
    fn new_leaf(&mut self, c: &Change<'_>, old: Option<&LeafNode>) -> Option<LeafItem> {
        if let Some(o) = old {
            self.stale(StaleKind::Value, value_key(&o.key_hash, o.value_version));
        }
        match c.value {
            Some((value, value_hash)) => {
                let record = ValueRecord { key: c.key.to_vec(), value: Some(value.to_vec()) };
                self.batch.put(
                    Column::StateValues,
                    value_key(&c.key_hash, self.version),
                    purse_types::encode(&record),
                );
                let leaf = LeafNode { key_hash: c.key_hash, value_hash, value_version: self.version };
                Some(LeafItem { leaf, origin: None })
            }
            None => {
                if old.is_some() {
                    let tomb = ValueRecord { key: c.key.to_vec(), value: None };
                    let k = value_key(&c.key_hash, self.version);
                    self.stale(StaleKind::Tombstone, k.clone());
                    self.batch.put(Column::StateValues, k, purse_types::encode(&tomb));
                }
                None
            }
        }
    }

    fn stale(&mut self, kind: StaleKind, record_key: Vec<u8>) {
        self.batch.put(Column::StateStale, stale_key(self.version, kind, &record_key), Vec::new());
    }

    fn write_node(&mut self, key: NodeKey, node: Node) {
        self.batch.put(Column::StateNodes, key.encode(), purse_types::encode(&node));
        self.new_nodes.push((key, Arc::new(node)));
    }
}

fn child_path(parent: &[u8], n: u8) -> Vec<u8> {
    let mut p = Vec::with_capacity(parent.len() + 1);
    p.extend_from_slice(parent);
    p.push(n);
    p
}

/// Splits a slice sorted by key hash into runs sharing the nibble at `depth`.
fn group_by_nibble<T>(
    items: &[T],
    depth: usize,
    key: impl Fn(&T) -> &Hash,
) -> impl Iterator<Item = (u8, &[T])> {
    let mut rest = items;
    std::iter::from_fn(move || {
        let first = rest.first()?;
        let n = nibble(key(first), depth);
        let split = rest.iter().position(|i| nibble(key(i), depth) != n).unwrap_or(rest.len());
        let (group, tail) = rest.split_at(split);
        rest = tail;
        Some((n, group))
    })
}
