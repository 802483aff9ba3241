//! Pipelined commits (ADR 0020): a version's batch is written by a writer thread while the caller goes on —
//! reading the version, preparing the next — and the store's writes stay in order.
//!
//! [`StateDb::submit_commit`](crate::StateDb::submit_commit) installs a version in memory, hands its batch to
//! a writer thread and returns. Until the write lands, the version's changes are kept here
//! ([`Pending`]) so that reads of it see them: a point read looks at them before the store, a read that would
//! miss a record of the version (a value record, a root record) waits for the write and reads again, and a
//! read the changes cannot answer (a prefix scan, a snapshot page) waits first. The version's nodes stay in
//! memory until it is settled, so the next block's preparation, on rayon's pool, never waits: the writer may
//! need the pool.

use crate::kv::{KvStore, StoreError, WriteBatch};
use crate::overlay::Overlay;
use crate::StateError;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Most versions submitted whose writes may not have landed: submitting one more first waits for the
/// oldest. Two let a slow write (a checkpoint's) overlap the next two blocks' preparation instead of one.
pub const MAX_PENDING_WRITES: usize = 2;

/// The outcome of one write, set once by the writer thread and waited for by anyone.
#[derive(Debug, Default)]
pub(crate) struct Landing {
    outcome: Mutex<Option<Result<(), StoreError>>>,
    landed: Condvar,
}

impl Landing {
    /// Records the write's outcome and wakes every waiter.
    pub(crate) fn set(&self, outcome: Result<(), StoreError>) {
        *self.outcome.lock() = Some(outcome);
        self.landed.notify_all();
    }

    /// Blocks until the write has landed; its error if it failed.
    pub(crate) fn wait(&self) -> Result<(), StoreError> {
        let mut outcome = self.outcome.lock();
        loop {
            if let Some(o) = outcome.as_ref() {
                return o.clone();
            }
            self.landed.wait(&mut outcome);
        }
    }

    /// The write's error, if it has landed and failed (without waiting).
    pub(crate) fn failure(&self) -> Option<StoreError> {
        match self.outcome.lock().as_ref() {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        }
    }
}

/// A submitted version whose write may not have landed: its changes, for the reads of it, and its landing.
#[derive(Debug)]
pub(crate) struct Pending {
    /// The version.
    pub(crate) version: u64,
    /// Its changes (`None`: deleted).
    pub(crate) changes: Overlay,
    /// The stale-index key up to which its batch deletes the stale index: the next version's pruning reads
    /// on from there (`StateDb::prune_into`).
    pub(crate) prune_cursor: Vec<u8>,
    /// Its write.
    pub(crate) landing: Landing,
}

impl Pending {
    /// Waits for the write; a failed one is reported as the error of this read.
    pub(crate) fn wait(&self) -> Result<(), StateError> {
        self.landing.wait().map_err(|e| StateError::PendingWriteFailed { version: self.version, source: e })
    }
}

/// The submitted versions not yet settled, oldest first (at most [`MAX_PENDING_WRITES`]): consecutive
/// versions whose writes land in order, each after the one before it. A read handle keeps the set it was
/// made with (so it holds at most that many versions' changes in memory).
#[derive(Debug, Default)]
pub(crate) struct PendingSet {
    versions: Vec<Arc<Pending>>,
}

impl PendingSet {
    /// The set with `next` added after the others.
    pub(crate) fn with(&self, next: Arc<Pending>) -> PendingSet {
        let mut versions = self.versions.clone();
        versions.push(next);
        PendingSet { versions }
    }

    /// The set without its oldest version.
    pub(crate) fn without_oldest(&self) -> PendingSet {
        PendingSet { versions: self.versions.iter().skip(1).cloned().collect() }
    }

    /// The oldest version, if any.
    pub(crate) fn oldest(&self) -> Option<&Arc<Pending>> {
        self.versions.first()
    }

    /// The newest version, if any: its write lands last.
    pub(crate) fn newest(&self) -> Option<&Arc<Pending>> {
        self.versions.last()
    }

    /// Whether no version is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// `key`'s value at `version` if a pending version at or below it changed it (the newest such change).
    /// An error if the write of one of those versions failed: `version` was then never committed, and its
    /// changes must not be read as if it were.
    pub(crate) fn change(&self, version: u64, key: &[u8]) -> Result<Option<Option<Vec<u8>>>, StateError> {
        let mut found = None;
        for p in self.versions.iter().filter(|p| p.version <= version) {
            if let Some(e) = p.landing.failure() {
                return Err(StateError::PendingWriteFailed { version: p.version, source: e });
            }
            if let Some(v) = p.changes.get(key) {
                found = Some(v.map(<[u8]>::to_vec));
            }
        }
        Ok(found)
    }

    /// Waits until the newest write has landed, whatever its outcome.
    pub(crate) fn wait_newest(&self) -> Result<(), StoreError> {
        self.newest().map_or(Ok(()), |p| p.landing.wait())
    }

    /// Waits until every write has landed; the first failure if one failed (the writes after a failed one
    /// are not made, and report it).
    pub(crate) fn wait(&self) -> Result<(), StateError> {
        for p in &self.versions {
            p.wait()?;
        }
        Ok(())
    }
}

/// Lowers the calling thread's CPU priority (nice 10 above the process's): a pending commit's writer runs in
/// the time the committing thread leaves, rather than taking cores from the next block's preparation. Best
/// effort: where it cannot, the writer keeps its priority.
fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: `setpriority` reads no memory of ours; on Linux, `who` = 0 with PRIO_PROCESS is the calling
    // thread, whose nice value is all it changes. Its result is ignored (best effort).
    #[allow(unsafe_code)]
    unsafe {
        let now = libc::getpriority(libc::PRIO_PROCESS, 0);
        libc::setpriority(libc::PRIO_PROCESS, 0, now.saturating_add(WRITER_NICE));
    }
}

/// How much lower than the committing thread a pending commit's writer runs (nice increment).
const WRITER_NICE: i32 = 10;

/// What a writer thread writes for one submitted version.
pub(crate) struct WriteJob {
    /// The version submitted before it, whose write must land first.
    pub(crate) after: Option<Arc<Pending>>,
    /// A checkpoint's older nodes, written ahead of the batch (ADR 0019).
    pub(crate) ahead: WriteBatch,
    /// The version's batch.
    pub(crate) batch: WriteBatch,
    /// The version: its landing is set with the outcome.
    pub(crate) own: Arc<Pending>,
    /// Set once some of `ahead` may be in the store.
    pub(crate) ahead_tried: Arc<AtomicBool>,
}

/// Starts the writer thread of `job` on `store`; it frees `retired` (memory the state no longer uses) once
/// the write is done. The outcome is always set, a panic in the store included (as an error), so that no
/// waiter waits forever.
pub(crate) fn spawn_writer<S: KvStore + 'static>(
    store: S,
    job: WriteJob,
    retired: impl Send + 'static,
) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name("purse-state-write".into())
        .spawn(move || {
            lower_thread_priority();
            let WriteJob { after, ahead, batch, own, ahead_tried } = job;
            let write = || {
                if let Some(before) = after {
                    if let Err(e) = before.landing.wait() {
                        return Err(StoreError::Backend(format!(
                            "not written: the write of version {} before it failed ({e})",
                            before.version
                        )));
                    }
                }
                if !ahead.is_empty() {
                    ahead_tried.store(true, Ordering::SeqCst);
                    store.write_ahead(ahead)?;
                }
                store.write(batch)
            };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(write))
                .unwrap_or_else(|_| Err(StoreError::Backend("the state writer panicked".into())));
            own.landing.set(outcome);
            drop(retired);
        })
        .map(drop)
        .map_err(|e| StoreError::Backend(format!("cannot start the state writer thread: {e}")))
}
