//! A bounded in-memory cache of tree nodes.

use crate::node::{Node, NodeId, NodeKey};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast non-cryptographic hasher for [`NodeId`]s (multiply-rotate, as in rustc's FxHash). The keys are not
/// attacker-chosen in a way that matters: a collision only costs a probe, never correctness.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Final avalanche (murmur3 fmix64): the multiply-rotate rounds leave the low bits, which pick the
        // bucket, poorly mixed when the last words written are zero (short paths).
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

/// A map keyed by [`NodeId`] with the fast hasher above.
pub(crate) type IdMap<V> = HashMap<NodeId, V, BuildHasherDefault<IdHasher>>;

type Map = IdMap<Node>;

/// Young and old generation.
type Generations = (Map, Map);

/// Two-generation cache: new entries go to the young map; when it holds half the capacity it becomes the old
/// map, and the previous old map is emptied and reused as the young one. A hit in the old map is promoted.
/// This approximates LRU with O(1) work and bounds memory to `capacity` nodes. Nodes are immutable once
/// written (a node key names one version of one position), so a cached node is never stale.
#[derive(Debug)]
pub struct NodeCache {
    capacity: usize,
    maps: Mutex<Generations>,
}

impl NodeCache {
    /// A cache holding at most `capacity` nodes (0 disables it).
    pub fn new(capacity: usize) -> NodeCache {
        // Both generations get their full table now and keep it (see `insert_locked`): grown on demand, a
        // table is rehashed at every doubling on its way to `capacity / 2` entries, each time into fresh
        // memory that the kernel zeroes page by page as it is first touched. Only the control bytes (one per
        // bucket) are written here; the kernel maps the rest as entries arrive.
        let half = capacity / 2;
        let map = || Map::with_capacity_and_hasher(half, Default::default());
        NodeCache { capacity, maps: Mutex::new((map(), map())) }
    }

    /// The cached node at `key`.
    pub fn get(&self, key: &NodeKey) -> Option<Node> {
        self.get_id(&NodeId::from_key(key))
    }

    /// Caches `node` at `key`.
    pub fn insert(&self, key: NodeKey, node: Node) {
        self.insert_id(NodeId::from_key(&key), node);
    }

    /// The cached node at `id`.
    pub(crate) fn get_id(&self, id: &NodeId) -> Option<Node> {
        let mut m = self.maps.lock();
        if let Some(n) = m.0.get(id) {
            return Some(n.clone());
        }
        let n = m.1.remove(id)?;
        Self::insert_locked(&mut m, self.capacity, *id, n.clone());
        Some(n)
    }

    /// Caches `node` at `id`.
    pub(crate) fn insert_id(&self, id: NodeId, node: Node) {
        let mut m = self.maps.lock();
        Self::insert_locked(&mut m, self.capacity, id, node);
    }

    /// Caches many nodes under one lock.
    pub(crate) fn insert_all(&self, nodes: impl IntoIterator<Item = (NodeId, Node)>) {
        let mut m = self.maps.lock();
        for (id, node) in nodes {
            Self::insert_locked(&mut m, self.capacity, id, node);
        }
    }

    /// Drops the entries at `ids` (from both generations), under one lock.
    pub(crate) fn remove_all(&self, ids: &[NodeId]) {
        let mut m = self.maps.lock();
        for id in ids {
            m.0.remove(id);
            m.1.remove(id);
        }
    }

    /// Drops every entry.
    pub fn clear(&self) {
        let mut m = self.maps.lock();
        m.0.clear();
        m.1.clear();
    }

    fn insert_locked(m: &mut Generations, capacity: usize, id: NodeId, node: Node) {
        let half = capacity / 2;
        if half == 0 {
            return;
        }
        if m.0.len() >= half {
            // The young map becomes the old one; the previous old map is emptied and reused as the young one,
            // keeping its table.
            std::mem::swap(&mut m.0, &mut m.1);
            m.0.clear();
        }
        // An id is held at most once: a node inserted again (a commit retried at the same version after a
        // failed write) must not leave the earlier node in the old generation, where a later removal of the
        // id would uncover it.
        m.1.remove(&id);
        m.0.insert(id, node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Child;
    use purse_types::Hash;

    fn leaf(i: u8) -> Node {
        let child = |nibble| Child { nibble, hash: Hash([i; 32]), version: 0, leaf: Some(Hash([i; 32])) };
        Node { children: vec![child(0), child(1)].into() }
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

    #[test]
    fn removes_from_both_generations() {
        let c = NodeCache::new(4);
        let id = |i: u64| NodeId::root(i);
        c.insert_id(id(1), leaf(1));
        c.insert_id(id(2), leaf(2));
        // The young generation is full: the next insert moves 1 and 2 to the old one.
        c.insert_id(id(3), leaf(3));
        c.remove_all(&[id(1), id(3), id(9)]);
        assert!(c.get_id(&id(1)).is_none());
        assert!(c.get_id(&id(3)).is_none());
        assert!(c.get_id(&id(2)).is_some());
    }

    /// A node inserted again at the same id replaces the earlier one in whichever generation holds it, and a
    /// removal leaves neither.
    #[test]
    fn reinserting_an_id_leaves_one_entry_that_removal_drops() {
        let c = NodeCache::new(4);
        let id = |i: u64| NodeId::root(i);
        c.insert_id(id(1), leaf(1));
        c.insert_id(id(2), leaf(2));
        // Moves 1 and 2 to the old generation.
        c.insert_id(id(3), leaf(3));
        c.insert_id(id(1), leaf(7));
        assert_eq!(c.get_id(&id(1)), Some(leaf(7)));
        c.remove_all(&[id(1)]);
        assert!(c.get_id(&id(1)).is_none());
    }

    #[test]
    fn paths_are_distinct_keys() {
        let c = NodeCache::new(64);
        let a = NodeKey { version: 1, path: vec![0] };
        let b = NodeKey { version: 1, path: vec![0, 0] };
        c.insert(a.clone(), leaf(1));
        assert!(c.get(&b).is_none());
        assert!(c.get(&a).is_some());
    }
}
