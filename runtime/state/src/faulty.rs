//! A fault-injecting [`KvStore`] wrapper for tests: fails or tears a chosen write.

use crate::kv::{KvEntry, KvStore, StoreError, WriteBatch};
use crate::Column;
use parking_lot::Mutex;

/// What to do to a chosen write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Reject the write with an error; nothing of the batch is applied.
    FailWrite,
    /// Apply only the first `applied_ops` operations of the batch, then return an error — a torn write, which a
    /// correct backend never produces but a broken disk or backend might.
    TearWrite {
        /// Operations applied before the tear.
        applied_ops: usize,
    },
    /// Fail every read (`get` and `scan`) from the chosen write on.
    FailReads,
}

#[derive(Debug, Default)]
struct Plan {
    /// Number of writes seen so far.
    writes_seen: u64,
    /// Fault to inject at write number `at` (0-based), if any.
    armed: Option<(u64, Fault)>,
    /// True once reads should fail.
    reads_fail: bool,
}

/// Wraps a store and injects one planned fault.
#[derive(Debug)]
pub struct FaultyStore<S> {
    inner: S,
    plan: Mutex<Plan>,
}

impl<S: KvStore> FaultyStore<S> {
    /// Wraps `inner` with no fault planned.
    pub fn new(inner: S) -> FaultyStore<S> {
        FaultyStore { inner, plan: Mutex::new(Plan::default()) }
    }

    /// Plans `fault` for the `after`-th write from now (0 = the next write).
    pub fn inject(&self, after: u64, fault: Fault) {
        let mut p = self.plan.lock();
        p.armed = Some((p.writes_seen + after, fault));
    }

    /// Removes any planned or active fault.
    pub fn heal(&self) {
        let mut p = self.plan.lock();
        p.armed = None;
        p.reads_fail = false;
    }

    /// Number of writes attempted so far.
    pub fn writes_seen(&self) -> u64 {
        self.plan.lock().writes_seen
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Unwraps the store.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Counts a write and returns the fault planned for it, if any (disarming it).
    fn planned_fault(&self) -> Option<Fault> {
        let mut p = self.plan.lock();
        let n = p.writes_seen;
        p.writes_seen += 1;
        match p.armed {
            Some((at, fault)) if at == n => {
                p.armed = None;
                Some(fault)
            }
            _ => None,
        }
    }

    /// Applies `fault` to a write of `batch`: always an error, after applying a torn write's first operations.
    fn apply(&self, fault: Fault, batch: WriteBatch) -> Result<(), StoreError> {
        match fault {
            Fault::FailWrite => Err(StoreError::Injected(format!("write of {} ops failed", batch.len()))),
            Fault::TearWrite { applied_ops } => {
                let total = batch.len();
                let mut torn = WriteBatch::with_capacity(applied_ops.min(total));
                for op in batch.into_ops().into_iter().take(applied_ops) {
                    match op {
                        crate::BatchOp::Put { column, key, value } => torn.put(column, key, value),
                        crate::BatchOp::Delete { column, key } => torn.delete(column, key),
                    }
                }
                self.inner.write(torn)?;
                Err(StoreError::Injected(format!(
                    "write torn after {} of {total} ops",
                    applied_ops.min(total)
                )))
            }
            Fault::FailReads => {
                self.plan.lock().reads_fail = true;
                Err(StoreError::Injected("device failed".into()))
            }
        }
    }

    fn check_reads(&self) -> Result<(), StoreError> {
        if self.plan.lock().reads_fail {
            Err(StoreError::Injected("read failure".into()))
        } else {
            Ok(())
        }
    }
}

impl<S: KvStore> KvStore for FaultyStore<S> {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.check_reads()?;
        self.inner.get(column, key)
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        match self.planned_fault() {
            None => self.inner.write(batch),
            Some(fault) => self.apply(fault, batch),
        }
    }

    /// Counted among the writes (a fault planned for it applies to it), else the inner store's.
    fn write_ahead(&self, records: WriteBatch) -> Result<(), StoreError> {
        match self.planned_fault() {
            None => self.inner.write_ahead(records),
            Some(fault) => self.apply(fault, records),
        }
    }

    fn scan(
        &self,
        column: Column,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KvEntry>, StoreError> {
        self.check_reads()?;
        self.inner.scan(column, start, end, limit)
    }
}

/// A borrowed store is a store (readers over a store owned elsewhere).
impl<S: KvStore + ?Sized> KvStore for &S {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(column, key)
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        (**self).write(batch)
    }

    fn write_ahead(&self, records: WriteBatch) -> Result<(), StoreError> {
        (**self).write_ahead(records)
    }

    fn scan(
        &self,
        column: Column,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KvEntry>, StoreError> {
        (**self).scan(column, start, end, limit)
    }
}

impl<S: KvStore> KvStore for std::sync::Arc<S> {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(column, key)
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        (**self).write(batch)
    }

    fn write_ahead(&self, records: WriteBatch) -> Result<(), StoreError> {
        (**self).write_ahead(records)
    }

    fn scan(
        &self,
        column: Column,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KvEntry>, StoreError> {
        (**self).scan(column, start, end, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    fn batch(n: u8) -> WriteBatch {
        let mut b = WriteBatch::new();
        for i in 0..n {
            b.put(Column::Meta, vec![i], vec![i]);
        }
        b
    }

    #[test]
    fn fail_write_applies_nothing_and_only_once() {
        let s = FaultyStore::new(MemoryStore::new());
        s.inject(1, Fault::FailWrite);
        s.write(batch(1)).unwrap();
        assert!(matches!(s.write(batch(3)), Err(StoreError::Injected(_))));
        assert_eq!(s.inner().len(Column::Meta), 1);
        s.write(batch(3)).unwrap();
        assert_eq!(s.inner().len(Column::Meta), 3);
    }

    #[test]
    fn tear_applies_a_prefix() {
        let s = FaultyStore::new(MemoryStore::new());
        s.inject(0, Fault::TearWrite { applied_ops: 2 });
        assert!(s.write(batch(5)).is_err());
        assert_eq!(s.inner().len(Column::Meta), 2);
    }

    #[test]
    fn failed_device_fails_reads_until_healed() {
        let s = FaultyStore::new(MemoryStore::new());
        s.inject(0, Fault::FailReads);
        assert!(s.write(batch(1)).is_err());
        assert!(s.get(Column::Meta, &[0]).is_err());
        s.heal();
        assert_eq!(s.get(Column::Meta, &[0]).unwrap(), None);
    }
}
