//! Per-record checksums: every value RocksDB holds ends in 8 bytes of blake3 over its column, key and value.

use purse_state::{Column, StoreError};

/// Bytes of checksum appended to each record.
pub const CHECKSUM_LEN: usize = 8;

/// blake3 `derive_key` context of record checksums.
const CHECKSUM_CONTEXT: &str = "purse v1 storage record checksum";

fn checksum(column: Column, key: &[u8], value: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut h = blake3::Hasher::new_derive_key(CHECKSUM_CONTEXT);
    h.update(column.name().as_bytes());
    h.update(&(key.len() as u64).to_le_bytes());
    h.update(key);
    h.update(value);
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&h.finalize().as_bytes()[..CHECKSUM_LEN]);
    out
}

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
    }
}
