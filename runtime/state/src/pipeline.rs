//! Pipelined commits (ADR 0020): a version's batch is written by a writer thread while the caller goes on —
//! reading the version, preparing the next — and the store's writes stay in order.
//!
//! [`StateDb::submit_commit`](crate::StateDb::submit_commit) installs a version in memory, hands its batch to
//! a writer thread and returns. Until the write lands, the version's changes are kept here
//! ([`Pending`]) so that reads of it see them: a point read looks at them before the store, a read that would
//! miss a record of the version (a node or value record, a root record) waits for the write and reads again,
//! and a read the changes cannot answer (a prefix scan, a snapshot page) waits first.

use crate::kv::StoreError;
use crate::overlay::Overlay;
use crate::StateError;
use parking_lot::{Condvar, Mutex};
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

    /// Whether the write has landed (successfully or not).
    pub(crate) fn is_landed(&self) -> bool {
        self.outcome.lock().is_some()
    }
}

/// A submitted version whose write may not have landed: its changes, for the reads of it, and its landing.
#[derive(Debug)]
pub(crate) struct Pending {
    /// The version.
    pub(crate) version: u64,
    /// Its changes (`None`: deleted).
    pub(crate) changes: Overlay,
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

    /// Number of versions.
    pub(crate) fn len(&self) -> usize {
        self.versions.len()
    }

    /// `key`'s value at `version` if a pending version at or below it changed it (the newest such change).
    pub(crate) fn change(&self, version: u64, key: &[u8]) -> Option<Option<Vec<u8>>> {
        self.versions
            .iter()
            .rev()
            .filter(|p| p.version <= version)
            .find_map(|p| p.changes.get(key))
            .map(|v| v.map(<[u8]>::to_vec))
    }

    /// Whether every write has landed (the newest lands last).
    pub(crate) fn all_landed(&self) -> bool {
        self.newest().is_none_or(|p| p.landing.is_landed())
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
/// the time the committing thread leaves. Best effort: where it cannot, the writer keeps its priority.
pub(crate) fn lower_thread_priority() {
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
