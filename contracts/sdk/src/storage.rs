//! Contract storage: raw byte access, and typed helpers — [`Item`] (one value under a fixed key) and [`Map`]
//! (values under `prefix ++ key`, iterable in key order). Keys sort by their [`StorageKey`] bytes, which for
//! integers are big-endian so numeric order is key order.

use crate::codec::{Decode, Encode};
use crate::env::{abort, Address, AssetId};
use crate::sys;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::marker::PhantomData;

/// Most entries one scan returns (the VM's `max_scan_limit`).
pub const MAX_SCAN: u32 = 100;

/// The raw value under `key`.
pub fn get(key: &[u8]) -> Option<Vec<u8>> {
    let n = unsafe { sys::storage_get(key.as_ptr(), key.len() as u32) };
    if n < 0 {
        return None;
    }
    let mut buf = vec![0u8; n as usize];
    unsafe { sys::result_read(buf.as_mut_ptr()) };
    Some(buf)
}

/// Whether `key` has a value.
pub fn has(key: &[u8]) -> bool {
    unsafe { sys::storage_has(key.as_ptr(), key.len() as u32) == 1 }
}

/// Writes `value` under `key`.
pub fn set(key: &[u8], value: &[u8]) {
    unsafe { sys::storage_set(key.as_ptr(), key.len() as u32, value.as_ptr(), value.len() as u32) }
}

/// Removes `key`; returns whether it had a value.
pub fn remove(key: &[u8]) -> bool {
    unsafe { sys::storage_remove(key.as_ptr(), key.len() as u32) == 1 }
}

/// Up to `limit` (≤ [`MAX_SCAN`]) entries whose key starts with `prefix` and is `>= from`, in key order.
pub fn scan(prefix: &[u8], from: &[u8], limit: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
    let n = unsafe { sys::storage_scan(prefix.as_ptr(), prefix.len() as u32, from.as_ptr(), from.len() as u32, limit) };
    let mut buf = vec![0u8; n.max(0) as usize];
    unsafe { sys::result_read(buf.as_mut_ptr()) };
    match Vec::<(Vec<u8>, Vec<u8>)>::decode(&buf) {
        Ok(v) => v,
        Err(_) => abort("storage_scan: malformed host result"),
    }
}

fn decode_or_abort<T: Decode>(bytes: &[u8]) -> T {
    match T::decode(bytes) {
        Ok(v) => v,
        Err(_) => abort("storage: stored value does not decode as the expected type"),
    }
}

/// One typed value under a fixed key.
pub struct Item<T> {
    key: &'static [u8],
    _t: PhantomData<fn() -> T>,
}

impl<T: Encode + Decode> Item<T> {
    /// An item stored under `key`.
    pub const fn new(key: &'static [u8]) -> Item<T> {
        Item { key, _t: PhantomData }
    }

    /// The value, if set.
    pub fn get(&self) -> Option<T> {
        get(self.key).map(|b| decode_or_abort(&b))
    }

    /// The value, or `default` if unset.
    pub fn get_or(&self, default: T) -> T {
        self.get().unwrap_or(default)
    }

    /// Sets the value.
    pub fn set(&self, value: &T) {
        set(self.key, &value.encode())
    }

    /// Removes the value.
    pub fn remove(&self) -> bool {
        remove(self.key)
    }

    /// Whether it is set.
    pub fn exists(&self) -> bool {
        has(self.key)
    }
}

/// A key type of a [`Map`]: its bytes sort in the key's natural order.
pub trait StorageKey: Sized {
    /// Appends the key bytes.
    fn key_to(&self, out: &mut Vec<u8>);
    /// Reads a key from exactly `bytes`.
    fn key_from(bytes: &[u8]) -> Option<Self>;
    /// The fixed width of the key bytes, if fixed (needed for the first element of a tuple key).
    const WIDTH: Option<usize>;
}

macro_rules! int_key {
    ($($t:ty),*) => {$(
        impl StorageKey for $t {
            fn key_to(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
            fn key_from(bytes: &[u8]) -> Option<Self> {
                let mut a = [0u8; core::mem::size_of::<$t>()];
                if bytes.len() != a.len() {
                    return None;
                }
                a.copy_from_slice(bytes);
                Some(<$t>::from_be_bytes(a))
            }
            const WIDTH: Option<usize> = Some(core::mem::size_of::<$t>());
        }
    )*};
}
int_key!(u8, u16, u32, u64, u128);

impl<const N: usize> StorageKey for [u8; N] {
    fn key_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn key_from(bytes: &[u8]) -> Option<Self> {
        let mut a = [0u8; N];
        if bytes.len() != N {
            return None;
        }
        a.copy_from_slice(bytes);
        Some(a)
    }
    const WIDTH: Option<usize> = Some(N);
}

impl StorageKey for Address {
    fn key_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn key_from(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::key_from(bytes).map(Address)
    }
    const WIDTH: Option<usize> = Some(32);
}

impl StorageKey for AssetId {
    fn key_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn key_from(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::key_from(bytes).map(AssetId)
    }
    const WIDTH: Option<usize> = Some(32);
}

impl StorageKey for String {
    fn key_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    fn key_from(bytes: &[u8]) -> Option<Self> {
        core::str::from_utf8(bytes).ok().map(String::from)
    }
    const WIDTH: Option<usize> = None;
}

impl StorageKey for Vec<u8> {
    fn key_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn key_from(bytes: &[u8]) -> Option<Self> {
        Some(bytes.to_vec())
    }
    const WIDTH: Option<usize> = None;
}

/// A composite key: the first part must be fixed-width (so the parts can be split again).
impl<A: StorageKey, B: StorageKey> StorageKey for (A, B) {
    fn key_to(&self, out: &mut Vec<u8>) {
        self.0.key_to(out);
        self.1.key_to(out);
    }
    fn key_from(bytes: &[u8]) -> Option<Self> {
        let w = A::WIDTH?;
        if bytes.len() < w {
            return None;
        }
        Some((A::key_from(&bytes[..w])?, B::key_from(&bytes[w..])?))
    }
    const WIDTH: Option<usize> = match (A::WIDTH, B::WIDTH) {
        (Some(a), Some(b)) => Some(a + b),
        _ => None,
    };
}

/// Typed values under `prefix ++ key`.
pub struct Map<K, V> {
    prefix: &'static [u8],
    _t: PhantomData<fn() -> (K, V)>,
}

impl<K: StorageKey, V: Encode + Decode> Map<K, V> {
    /// A map whose keys live under `prefix` (distinct maps need prefixes that are not prefixes of each
    /// other, e.g. `b"bal/"` and `b"lot/"`).
    pub const fn new(prefix: &'static [u8]) -> Map<K, V> {
        Map { prefix, _t: PhantomData }
    }

    fn full_key(&self, key: &K) -> Vec<u8> {
        let mut k = self.prefix.to_vec();
        key.key_to(&mut k);
        k
    }

    /// The value under `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        get(&self.full_key(key)).map(|b| decode_or_abort(&b))
    }

    /// Sets the value under `key`.
    pub fn set(&self, key: &K, value: &V) {
        set(&self.full_key(key), &value.encode())
    }

    /// Removes `key`.
    pub fn remove(&self, key: &K) -> bool {
        remove(&self.full_key(key))
    }

    /// Whether `key` has a value.
    pub fn has(&self, key: &K) -> bool {
        has(&self.full_key(key))
    }

    /// Up to `limit` entries in key order, starting at `from` (inclusive; `None`: the first), plus the
    /// cursor for the next page (`None` when done).
    pub fn page(&self, from: Option<&K>, limit: u32) -> (Vec<(K, V)>, Option<Vec<u8>>) {
        let start = match from {
            Some(k) => self.full_key(k),
            None => self.prefix.to_vec(),
        };
        self.page_raw(&start, limit)
    }

    /// Like [`Map::page`] with a raw cursor returned by a previous page.
    pub fn page_raw(&self, from: &[u8], limit: u32) -> (Vec<(K, V)>, Option<Vec<u8>>) {
        let limit = limit.min(MAX_SCAN);
        let entries = scan(self.prefix, from, limit);
        let next = if entries.len() as u32 == limit && limit > 0 {
            entries.last().map(|(k, _)| {
                let mut n = k.clone();
                n.push(0);
                n
            })
        } else {
            None
        };
        let items = entries
            .into_iter()
            .filter_map(|(k, v)| Some((K::key_from(&k[self.prefix.len()..])?, decode_or_abort(&v))))
            .collect();
        (items, next)
    }

    /// Every entry whose key starts with `sub` (bytes after the map prefix), up to `limit` entries.
    pub fn prefixed(&self, sub: &[u8], limit: u32) -> Vec<(K, V)> {
        let mut p = self.prefix.to_vec();
        p.extend_from_slice(sub);
        let entries = scan(&p, &p, limit.min(MAX_SCAN));
        entries
            .into_iter()
            .filter_map(|(k, v)| Some((K::key_from(&k[self.prefix.len()..])?, decode_or_abort(&v))))
            .collect()
    }
}
