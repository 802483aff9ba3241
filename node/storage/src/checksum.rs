//! Per-record checksums: every value RocksDB holds ends in 8 bytes of blake3 over its column, key and value.

use purse_state::{Column, StoreError};

/// Bytes of checksum appended to each record.
pub const CHECKSUM_LEN: usize = 8;

/// blake3 `derive_key` context of record checksums.
const CHECKSUM_CONTEXT: &str = "purse v1 storage record checksum";

/// The `derive_key` context key of [`CHECKSUM_CONTEXT`], hashed once: every record of every batch is sealed,
/// and re-hashing the context string per record was a measurable part of a block commit.
fn context_key() -> &'static blake3::hazmat::ContextKey {
    static KEY: std::sync::OnceLock<blake3::hazmat::ContextKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| blake3::hazmat::hash_derive_key_context(CHECKSUM_CONTEXT))
}

fn checksum(column: Column, key: &[u8], value: &[u8]) -> [u8; CHECKSUM_LEN] {
    use blake3::hazmat::HasherExt;
    let mut h = blake3::Hasher::new_from_context_key(context_key());
    h.update(column.name().as_bytes());
    h.update(&(key.len() as u64).to_le_bytes());
    h.update(key);
    h.update(value);
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&h.finalize().as_bytes()[..CHECKSUM_LEN]);
    out
}

/// Writes the stored form of `value` (see [`seal`]) into `out`, replacing its contents.
pub fn seal_into(column: Column, key: &[u8], value: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(value.len() + CHECKSUM_LEN);
    out.extend_from_slice(value);
    out.extend_from_slice(&checksum(column, key, value));
}

#[cfg(test)]
/// The stored form of `value`: the value followed by its checksum. Binding the column and key detects a record
/// written to, or moved to, the wrong place.
pub fn seal(column: Column, key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + CHECKSUM_LEN);
    out.extend_from_slice(value);
    out.extend_from_slice(&checksum(column, key, value));
    out
}

/// Checks and strips the checksum of a stored record; a mismatch is a [`StoreError::Corrupt`] naming the
/// column and key.
pub fn unseal(column: Column, key: &[u8], stored: &[u8]) -> Result<Vec<u8>, StoreError> {
    if stored.len() < CHECKSUM_LEN {
        return Err(StoreError::corrupt(column, key, "record shorter than its checksum"));
    }
    let (value, sum) = stored.split_at(stored.len() - CHECKSUM_LEN);
    if sum != checksum(column, key, value) {
        return Err(StoreError::corrupt(column, key, "checksum mismatch"));
    }
    Ok(value.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_flip_detected() {
        let sealed = seal(Column::Blocks, b"k", b"value");
        assert_eq!(unseal(Column::Blocks, b"k", &sealed).unwrap(), b"value");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x40;
            assert!(unseal(Column::Blocks, b"k", &bad).is_err(), "flip at {i}");
        }
        assert!(unseal(Column::Blocks, b"other", &sealed).is_err());
        assert!(unseal(Column::Meta, b"k", &sealed).is_err());
        assert!(unseal(Column::Blocks, b"k", &[1, 2]).is_err());
        let mut buf = vec![1, 2, 3];
        seal_into(Column::Blocks, b"k", b"value", &mut buf);
        assert_eq!(buf, sealed);
    }

    #[test]
    fn checksum_is_the_documented_derive_key() {
        let mut h = blake3::Hasher::new_derive_key(CHECKSUM_CONTEXT);
        h.update(b"meta").update(&3u64.to_le_bytes()).update(b"key").update(b"value");
        assert_eq!(checksum(Column::Meta, b"key", b"value"), h.finalize().as_bytes()[..CHECKSUM_LEN]);
    }
}
