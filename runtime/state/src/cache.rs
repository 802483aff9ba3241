//! A bounded in-memory cache of tree nodes.

use crate::node::{Node, NodeKey};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// Young and old generation.
type Generations = (HashMap<NodeKey, Arc<Node>>, HashMap<NodeKey, Arc<Node>>);

/// Two-generation cache: new entries go to the young map; when it holds half the capacity it becomes the old
/// map (dropping the previous old one). A hit in the old map is promoted. This approximates LRU with O(1)
/// work and bounds memory to `capacity` nodes.
#[derive(Debug)]
pub struct NodeCache {
    capacity: usize,
    maps: Mutex<Generations>,
}

impl NodeCache {
    /// A cache holding at most `capacity` nodes (0 disables it).
    pub fn new(capacity: usize) -> NodeCache {
        NodeCache { capacity, maps: Mutex::new((HashMap::new(), HashMap::new())) }
    }

    /// The cached node at `key`.
    pub fn get(&self, key: &NodeKey) -> Option<Arc<Node>> {
        let mut m = self.maps.lock();
        if let Some(n) = m.0.get(key) {
            return Some(n.clone());
        }
        let n = m.1.remove(key)?;
        Self::insert_locked(&mut m, self.capacity, key.clone(), n.clone());
        Some(n)
    }

    /// Caches `node` at `key`.
    pub fn insert(&self, key: NodeKey, node: Arc<Node>) {
        let mut m = self.maps.lock();
        Self::insert_locked(&mut m, self.capacity, key, node);
    }

    /// Drops every entry.
    pub fn clear(&self) {
        let mut m = self.maps.lock();
        m.0.clear();
        m.1.clear();
    }

    fn insert_locked(m: &mut Generations, capacity: usize, key: NodeKey, node: Arc<Node>) {
        let half = capacity / 2;
        if half == 0 {
            return;
        }
        if m.0.len() >= half {
            m.1 = std::mem::take(&mut m.0);
        }
        m.0.insert(key, node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::LeafNode;
    use purse_types::Hash;

    fn leaf(i: u8) -> Arc<Node> {
        Arc::new(Node::Leaf(LeafNode { key_hash: Hash([i; 32]), value_hash: Hash::ZERO, value_version: 0 }))
    }

    #[test]
    fn bounded_and_promotes() {
        let c = NodeCache::new(4);
        let key = |i: u64| NodeKey { version: i, path: vec![] };
        for i in 0..10u8 {
            c.insert(key(i.into()), leaf(i));
        }
        let held = (0..10u64).filter(|i| c.get(&key(*i)).is_some()).count();
        assert!((2..=4).contains(&held), "held {held}");
        assert!(c.get(&key(9)).is_some());
        let disabled = NodeCache::new(0);
        disabled.insert(key(1), leaf(1));
        assert!(disabled.get(&key(1)).is_none());
    }
}
