//! Checkpoints: the tree's nodes are written every few versions, not every version.
//!
//! Every version writes its values, change list and root record; only a checkpoint (every
//! [`StateConfig::checkpoint_interval`](crate::StateConfig::checkpoint_interval)-th version, and the first)
//! writes nodes — its own new ones and the live ones written in memory since the previous checkpoint
//! ([`write_unwritten`]). A node that a later version replaces before the next checkpoint is never written.
//! The tree of any other version is rebuilt, in memory, from the checkpoint before it by applying the change
//! lists of the versions between ([`changes_at`]): at open, for the versions after the latest checkpoint, and
//! for a proof at an older version that is not a checkpoint.

use crate::cache::IdMap;
use crate::hashing;
use crate::kv::{prefix_end, KvStore, WriteBatch};
use crate::node::{Node, NodeId};
use crate::overlay::Overlay;
use crate::records::{decode_stale_list, stale_key, value_key, StaleKind, ValueRecord};
use crate::update::Root;
use crate::{Column, StateDb, StateError, StoreError};
use purse_types::Hash;
use std::collections::BTreeMap;

/// Stale-index entries read per page when reading a change list.
const CHANGE_PAGE: usize = 16;

/// The records of the nodes to write by (version, depth), each group in path order.
type Groups = BTreeMap<(u64, usize), WriteBatch>;

/// Appends the record of `node` (whose id and hash are given) to its (version, depth) group.
fn encode_into_group(groups: &mut Groups, id: &NodeId, hash: &Hash, node: &Node) {
    let key = id.key_bytes();
    groups.entry((id.version, id.depth())).or_default().put_with(
        Column::StateNodes,
        &key[..id.encoded_len()],
        |out| node.encode_into(hash, out),
    );
}

/// Appends to `batch` the records of the nodes of `root`'s tree — the tree of checkpoint `version` — that are
/// not in the store: those written in memory since the previous checkpoint by earlier versions, in storage-key
/// order (the checkpoint's own, `upper` and `new_nodes`, are in its batch: these go ahead of it, see
/// [`KvStore::write_ahead`]). Returns how many.
///
/// Only subtrees whose root is newer than the previous checkpoint are visited: a node written at or before it
/// is in the store, and so is everything below it (a node is never newer than its parent).
pub(crate) fn write_unwritten<S: KvStore>(
    db: &StateDb<S>,
    version: u64,
    root: &Root,
    upper: &[(NodeId, Node)],
    new_nodes: &[(NodeId, Node)],
    batch: &mut WriteBatch,
) -> Result<usize, StateError> {
    let Root::Node(id, hash) = *root else { return Ok(0) };
    let through = db.checkpoint();
    if id.version <= through {
        return Ok(0);
    }
    let new: IdMap<&Node> = upper.iter().chain(new_nodes).map(|(id, n)| (*id, n)).collect();
    let unwritten = db.unwritten_nodes();
    // The checkpoint's own nodes are among `new`; older ones in the upper tree or the unwritten nodes.
    let find = |id: &NodeId| -> Result<&Node, StateError> {
        let found = if id.version == version {
            new.get(id).copied()
        } else {
            db.upper_node(id).or_else(|| unwritten.get(id))
        };
        match found {
            Some(n) => Ok(n),
            None => Err(StoreError::corrupt(
                Column::StateNodes,
                &id.encode(),
                "unwritten node missing from memory",
            )
            .into()),
        }
    };
    // Storage keys order by version, then depth, then path. A depth-first walk that visits children in nibble
    // order meets the nodes of any one depth in path order, so grouping its nodes by (version, depth) sorts
    // them without comparing paths. The root's subtrees are walked in two halves on two threads, each encoding
    // the records it meets into its groups; the second half's records follow the first's in every group.
    let walk = |starts: &[(NodeId, Hash)]| -> Result<Groups, StateError> {
        let mut groups = Groups::new();
        let mut stack = Vec::new();
        for &(child_id, child_hash) in starts.iter().rev() {
            stack.push((child_id, child_hash, find(&child_id)?));
        }
        while let Some((id, hash, node)) = stack.pop() {
            if id.version != version {
                encode_into_group(&mut groups, &id, &hash, node);
            }
            // Pushed in reverse, so popped in nibble order.
            for c in node.children.iter().rev().filter(|c| c.leaf.is_none() && c.version > through) {
                let child_id = id.child(c.nibble, c.version);
                stack.push((child_id, c.hash, find(&child_id)?));
            }
        }
        Ok(groups)
    };
    let root_node = find(&id)?;
    let children: Vec<(NodeId, Hash)> = root_node
        .children
        .iter()
        .filter(|c| c.leaf.is_none() && c.version > through)
        .map(|c| (id.child(c.nibble, c.version), c.hash))
        .collect();
    let (first, second) = children.split_at(children.len() / 2);
    let (mine, theirs) = rayon::join(|| walk(first), || walk(second));
    let mut groups = Groups::new();
    if id.version != version {
        encode_into_group(&mut groups, &id, &hash, root_node);
    }
    for half in [mine?, theirs?] {
        for (k, records) in half {
            groups.entry(k).or_default().append(records);
        }
    }
    let mut written = 0;
    for records in groups.into_values() {
        written += records.len();
        batch.append(records);
    }
    Ok(written)
}

/// Node records deleted per write by [`delete_unreferenced_nodes`].
const SWEEP_PAGE: usize = 4_096;

/// Deletes the node records of versions after `checkpoint`, the latest checkpoint, and returns how many there
/// were. Only a checkpoint writes nodes, so a healthy store has none; they are left by a checkpoint whose older
/// nodes were written ahead of its batch ([`KvStore::write_ahead`]) when the batch then failed or the process
/// died before it landed. Nothing refers to them, and if left they would never be pruned (a record is pruned
/// through the stale list of the version that replaces it, which lists only nodes of the latest checkpoint
/// or before), so a state deletes them before its first commit after opening and before its next commit
/// after such a failure — never when it opens, which may be beside a running node (see
/// [`StateDb::open`]). Normally one empty seek.
pub(crate) fn delete_unreferenced_nodes<S: KvStore>(store: &S, checkpoint: u64) -> Result<usize, StateError> {
    let Some(first) = checkpoint.checked_add(1) else { return Ok(0) };
    // Node keys begin with their version (big-endian): every key of a later version sorts at or after this.
    let start = first.to_be_bytes();
    let mut deleted = 0;
    loop {
        let page = store.scan(Column::StateNodes, &start, None, SWEEP_PAGE)?;
        if page.is_empty() {
            return Ok(deleted);
        }
        let mut batch = WriteBatch::with_capacity(page.len());
        for (k, _) in &page {
            batch.delete(Column::StateNodes, k);
        }
        deleted += page.len();
        store.write(batch)?;
    }
}

/// The changes `version` made, read back from its change list (the keys it updated or deleted, listed as
/// stale values, and the keys it created) and the value records it wrote.
pub(crate) fn changes_at<S: KvStore + ?Sized>(store: &S, version: u64) -> Result<Overlay, StateError> {
    let mut overlay = Overlay::new();
    for kind in [StaleKind::Value, StaleKind::Created] {
        let prefix = &stale_key(version, kind, 0)[..9];
        let end = prefix_end(prefix);
        let mut start = prefix.to_vec();
        loop {
            let page = store.scan(Column::StateStale, &start, end.as_deref(), CHANGE_PAGE)?;
            let full = page.len() == CHANGE_PAGE;
            for (k, list) in &page {
                for entry in decode_stale_list(k, list)? {
                    apply_change(store, version, k, entry, &mut overlay)?;
                }
            }
            match page.last() {
                Some((k, _)) if full => start = crate::kv::key_successor(k),
                _ => break,
            }
        }
    }
    Ok(overlay)
}

/// Adds to `overlay` the change of the key whose hash starts `entry` (an entry of the change list at
/// `list_key`), as `version`'s value record of it holds it.
fn apply_change<S: KvStore + ?Sized>(
    store: &S,
    version: u64,
    list_key: &[u8],
    entry: &[u8],
    overlay: &mut Overlay,
) -> Result<(), StateError> {
    let Some(prefix) = entry.get(..32) else {
        return Err(StoreError::corrupt(Column::StateStale, list_key, "change list entry too short").into());
    };
    let mut kh = [0u8; 32];
    kh.copy_from_slice(prefix);
    let kh = Hash(kh);
    let vk = value_key(&kh, version);
    let bytes = store
        .get(Column::StateValues, &vk)?
        .ok_or_else(|| StoreError::corrupt(Column::StateValues, &vk, "value record of a change missing"))?;
    let record = ValueRecord::decode(&vk, &bytes)?;
    if hashing::key_hash(&record.key) != kh {
        return Err(StoreError::corrupt(Column::StateValues, &vk, "key does not match its hash").into());
    }
    match record.value {
        Some(value) => overlay.put(&record.key, &value),
        None => overlay.delete(&record.key),
    }
}
