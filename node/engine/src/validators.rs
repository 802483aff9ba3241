//! The validator sets of the chain as committed state records them (the runtime's validator schedule,
//! docs/governance.md), shared read-only with the network layer, and the consensus core's set of a height.
//!
//! Membership is chain state: a governance proposal that passes in block `h` records the set of height
//! `h + VALIDATOR_SET_CHANGE_DELAY`, so once block `h` is committed every node knows the sets of the next
//! heights. Proposer priorities are a pure function of the set in force and the height: they start at zero
//! at the first height of a set (height 1 for the genesis set) and advance one step per height. A node that
//! restarted or started from a snapshot therefore computes exactly the priorities of every other node.

use crate::context::{core_validator_set, PurseCtx};
use crate::error::EngineError;
use purse_consensus as pc;
use purse_runtime::schema::ValidatorSchedule;
use purse_types::{Hash, PublicKey, ValidatorSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

/// The committed validator schedule, published by the engine after every commit and read by other threads
/// (gossip checks, block sync, RPC, the network's peer allow-list).
#[derive(Debug)]
pub struct ValidatorWatch {
    inner: RwLock<Known>,
    generation: AtomicU64,
}

#[derive(Debug)]
struct Known {
    /// Height of the committed state the schedule was read from.
    committed: u64,
    schedule: ValidatorSchedule,
}

impl ValidatorWatch {
    /// A watch over `schedule`, read from the state committed at `committed`.
    pub fn new(committed: u64, schedule: ValidatorSchedule) -> ValidatorWatch {
        ValidatorWatch { inner: RwLock::new(Known { committed, schedule }), generation: AtomicU64::new(0) }
    }

    fn read<T>(&self, f: impl FnOnce(&Known) -> T) -> T {
        // A poisoned lock only means a reader panicked; the data is a plain value and stays consistent.
        match self.inner.read() {
            Ok(g) => f(&g),
            Err(p) => f(&p.into_inner()),
        }
    }

    /// Replaces the schedule after the block at `committed` was committed; bumps the generation when the
    /// membership changed.
    pub fn update(&self, committed: u64, schedule: ValidatorSchedule) {
        let mut g = match self.inner.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let changed = g.schedule != schedule;
        g.committed = committed;
        g.schedule = schedule;
        if changed {
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// Increases whenever the schedule changes (readers compare it to refresh derived data).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Height of the committed state the schedule comes from.
    pub fn committed(&self) -> u64 {
        self.read(|k| k.committed)
    }

    /// The last height whose set is certain: sets of later heights may still change by blocks not yet
    /// committed here.
    pub fn horizon(&self) -> u64 {
        self.committed().saturating_add(purse_runtime::governance::VALIDATOR_SET_CHANGE_DELAY)
    }

    /// The schedule entry in force at `height`: `(first height, set)`; `None` before the oldest retained one.
    pub fn entry_at(&self, height: u64) -> Option<(u64, ValidatorSet)> {
        self.read(|k| k.schedule.entries.iter().rev().find(|(h, _)| *h <= height).cloned())
    }

    /// The validator set of `height` (see [`ValidatorWatch::entry_at`]).
    pub fn set_at(&self, height: u64) -> Option<ValidatorSet> {
        self.entry_at(height).map(|(_, s)| s)
    }

    /// Whether `key` is a validator of any set in the schedule (in force or scheduled).
    pub fn is_known_validator(&self, key: &PublicKey) -> bool {
        self.read(|k| k.schedule.entries.iter().any(|(_, s)| s.find(key).is_some()))
    }

    /// Every validator key of the schedule (in force or scheduled), deduplicated.
    pub fn all_keys(&self) -> Vec<PublicKey> {
        let mut keys: Vec<PublicKey> = self.read(|k| {
            k.schedule.entries.iter().flat_map(|(_, s)| s.validators().iter().map(|v| v.public_key)).collect()
        });
        keys.sort();
        keys.dedup();
        keys
    }
}

/// The consensus core's set of consecutive heights of one schedule entry, advanced one proposer step per
/// height (a cache: rebuilding it from the entry gives the same value).
#[derive(Clone, Debug)]
pub(crate) struct CoreSets {
    start: u64,
    set_hash: Hash,
    height: u64,
    set: pc::ValidatorSet<PurseCtx>,
}

impl CoreSets {
    /// The core set of `height`, whose schedule entry is `(effective, set)`; reuses `cache` when it is the
    /// same entry at an earlier height.
    pub(crate) fn at(
        cache: &mut Option<CoreSets>,
        height: u64,
        effective: u64,
        set: &ValidatorSet,
    ) -> Result<pc::ValidatorSet<PurseCtx>, EngineError> {
        let start = effective.max(1);
        let set_hash = set.hash();
        let reusable =
            matches!(cache, Some(c) if c.start == start && c.set_hash == set_hash && c.height <= height);
        if !reusable {
            let base = core_validator_set(set)
                .map_err(|e| EngineError::Corrupt(format!("validator set of height {height}: {e}")))?;
            *cache = Some(CoreSets { start, set_hash, height: start, set: base });
        }
        let c = cache.as_mut().ok_or_else(|| EngineError::Corrupt("validator cache".into()))?;
        while c.height < height {
            c.set = c.set.advanced();
            c.height += 1;
        }
        Ok(c.set.clone())
    }
}
