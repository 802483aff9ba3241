//! Writes of one block, buffered until the block commits.

use crate::{StateError, MAX_KEY_LEN, MAX_OVERLAY_ENTRIES, MAX_VALUE_LEN};
use std::collections::BTreeMap;

/// Pending changes of one version: key → new value, or `None` for a deletion. Reads through
/// [`StateDb::read`](crate::StateDb::read) see them before the committed state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overlay {
    changes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl Overlay {
    /// An empty overlay.
    pub fn new() -> Overlay {
        Overlay::default()
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        check_key(key)?;
        if value.len() > MAX_VALUE_LEN {
            return Err(StateError::ValueTooLarge { len: value.len(), max: MAX_VALUE_LEN });
        }
        self.set(key, Some(value.to_vec()))
    }

    /// Deletes `key`.
    pub fn delete(&mut self, key: &[u8]) -> Result<(), StateError> {
        check_key(key)?;
        self.set(key, None)
    }

    /// The pending change of `key`: `None` if untouched, `Some(None)` if deleted.
    pub fn get(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        self.changes.get(key).map(|v| v.as_deref())
    }

    /// Number of changed keys.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        self.changes.iter().map(|(k, v)| (k.as_slice(), v.as_deref()))
    }

    /// The changes of keys `>= from`, in key order.
    pub fn range_from<'a>(&'a self, from: &[u8]) -> impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)> + 'a {
        self.changes
            .range::<[u8], _>((std::ops::Bound::Included(from), std::ops::Bound::Unbounded))
            .map(|(k, v)| (k.as_slice(), v.as_deref()))
    }

    /// Drops every change.
    pub fn clear(&mut self) {
        self.changes.clear();
    }

    fn set(&mut self, key: &[u8], value: Option<Vec<u8>>) -> Result<(), StateError> {
        if let Some(slot) = self.changes.get_mut(key) {
            *slot = value;
            return Ok(());
        }
        if self.changes.len() >= MAX_OVERLAY_ENTRIES {
            return Err(StateError::OverlayFull(MAX_OVERLAY_ENTRIES));
        }
        self.changes.insert(key.to_vec(), value);
        Ok(())
    }
}

fn check_key(key: &[u8]) -> Result<(), StateError> {
    if key.len() > MAX_KEY_LEN {
        Err(StateError::KeyTooLarge { len: key.len(), max: MAX_KEY_LEN })
    } else {
        Ok(())
    }
}
