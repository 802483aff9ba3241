//! The upper tree: the latest version's nodes above the linked depth, held in memory by position.
//!
//! A commit rebuilds nearly every node of the tree's top few levels, so those are not looked up in the node
//! cache but in a table indexed by position (depth, then path): one array access, no hashing. Nodes hold no
//! pointers to their children, so building a node copies its kept children as plain data, and dropping a
//! replaced node frees it without touching any child (with child pointers, each kept child cost a reference
//! count increment when its parent was rebuilt and a decrement when the old parent was dropped: two cache
//! misses per kept child).
//!
//! Each slot holds the version of its node, so a lookup only finds the node its parent names; a position
//! whose node was never built in memory (after the state opens, they are read from the store as needed) is
//! empty, and the node comes from the node cache or the store instead.

use crate::node::{Node, NodeId};

/// One position: the version that wrote its node, and the node.
type Slot = Option<(u64, Node)>;

/// What an [`UpperTree::install`] displaced: each changed slot (depth, position) with its previous content.
#[derive(Debug, Default)]
pub(crate) struct Displaced {
    slots: Vec<(usize, usize, Slot)>,
}

/// Nodes of the latest tree at depths below `depth`, by position. A depth's table is allocated when its first
/// node arrives (16^d slots of 24 bytes: 1.5 MB at depth 4, 24 MB at depth 5), so a small state stays small.
#[derive(Debug, Clone, Default)]
pub(crate) struct UpperTree {
    /// One table per depth, `levels[d]` empty until a node at depth `d` is held.
    levels: Vec<Vec<Slot>>,
}

impl UpperTree {
    /// A table for the depths below `depth` (at most [`MAX_LINKED_DEPTH`](crate::MAX_LINKED_DEPTH)).
    pub fn new(depth: usize) -> UpperTree {
        UpperTree { levels: vec![Vec::new(); depth] }
    }

    /// The node at `id`, if it is the one held at its position (same version).
    pub fn get(&self, id: &NodeId) -> Option<&Node> {
        let slot = self.levels.get(id.depth())?.get(id.position())?;
        match slot {
            Some((version, node)) if *version == id.version => Some(node),
            _ => None,
        }
    }

    /// Applies a commit: the nodes at `removed` leave (if still held at that version), then `added` are held.
    /// Returns what they displaced: [`restore`](Self::restore) undoes the install, and dropping the result
    /// frees the replaced nodes (which the caller may do later, off its critical path).
    pub fn install(&mut self, removed: &[NodeId], added: Vec<(NodeId, Node)>) -> Displaced {
        let mut displaced = Displaced { slots: Vec::with_capacity(removed.len() + added.len()) };
        for id in removed {
            let depth = id.depth();
            if let Some(slot) = self.levels.get_mut(depth).and_then(|l| l.get_mut(id.position())) {
                if matches!(slot, Some((v, _)) if *v == id.version) {
                    displaced.slots.push((depth, id.position(), slot.take()));
                }
            }
        }
        for (id, node) in added {
            let depth = id.depth();
            let Some(level) = self.levels.get_mut(depth) else { continue };
            if level.is_empty() {
                level.resize(1 << (4 * depth), None);
            }
            if let Some(slot) = level.get_mut(id.position()) {
                let old = slot.replace((id.version, node));
                displaced.slots.push((depth, id.position(), old));
            }
        }
        displaced
    }

    /// Undoes the [`install`](Self::install) that returned `displaced` (the last one: installs are undone in
    /// the reverse order they were made).
    pub fn restore(&mut self, displaced: Displaced) {
        for (depth, position, old) in displaced.slots.into_iter().rev() {
            if let Some(slot) = self.levels.get_mut(depth).and_then(|l| l.get_mut(position)) {
                *slot = old;
            }
        }
    }

    /// Drops every node (the state restarts from a checkpoint read from the store).
    pub fn clear(&mut self) {
        for level in &mut self.levels {
            *level = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Child;
    use purse_types::Hash;

    fn node(tag: u8) -> Node {
        Node { children: vec![Child { nibble: 0, hash: Hash([tag; 32]), version: 1, leaf: None }].into() }
    }

    #[test]
    fn finds_only_the_version_held_at_a_position() {
        let mut t = UpperTree::new(3);
        let a = NodeId::root(0).child(3, 5).child(9, 5);
        drop(t.install(&[], vec![(a, node(1)), (NodeId::root(5), node(2))]));
        assert_eq!(t.get(&a).map(|n| n.children[0].hash), Some(Hash([1; 32])));
        assert!(t.get(&a.at(4)).is_none(), "another version of the position");
        assert!(t.get(&NodeId::root(0).child(3, 5).child(8, 5)).is_none(), "another position");
        // Removing an older version leaves the newer node; removing its own version empties the slot.
        drop(t.install(&[a.at(2)], Vec::new()));
        assert!(t.get(&a).is_some());
        drop(t.install(&[a], vec![(a.at(6), node(3))]));
        assert!(t.get(&a).is_none());
        assert_eq!(t.get(&a.at(6)).map(|n| n.children[0].hash), Some(Hash([3; 32])));
        // Too deep for the table: ignored.
        let deep = a.child(1, 7);
        drop(t.install(&[], vec![(deep, node(4))]));
        assert!(t.get(&deep).is_none());
        t.clear();
        assert!(t.get(&NodeId::root(5)).is_none());
    }

    #[test]
    fn restoring_an_install_gives_back_the_tree_before_it() {
        let mut t = UpperTree::new(3);
        let root = NodeId::root(1);
        let a = root.child(3, 1);
        let b = root.child(4, 1);
        drop(t.install(&[], vec![(root, node(1)), (a, node(2)), (b, node(3))]));
        // Version 2 replaces the root and `a`, drops `b` and adds a new child at a fresh depth-2 table.
        let c = a.child(7, 2);
        let displaced =
            t.install(&[root, a, b], vec![(root.at(2), node(4)), (a.at(2), node(5)), (c, node(6))]);
        assert_eq!(t.get(&root.at(2)).map(|n| n.children[0].hash), Some(Hash([4; 32])));
        assert!(t.get(&b).is_none() && t.get(&root).is_none());
        t.restore(displaced);
        for (id, tag) in [(root, 1), (a, 2), (b, 3)] {
            assert_eq!(t.get(&id).map(|n| n.children[0].hash), Some(Hash([tag; 32])), "{id:?}");
        }
        for id in [root.at(2), a.at(2), c] {
            assert!(t.get(&id).is_none(), "{id:?} was installed, then restored away");
        }
    }
}
