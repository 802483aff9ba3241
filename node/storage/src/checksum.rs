//! Per-record checksums: every value RocksDB holds ends in an 8-byte XXH3-64 over its column, key and value.
//!
//! The checksum detects a damaged record (and names it) and a record written to, or moved to, the wrong place:
//! it is seeded by the column and the key. It is not a security measure — anyone who can write the store can
//! recompute it — so a fast non-cryptographic hash is the right tool: a block commit seals tens of thousands of
//! records (megabytes), which cost more with blake3 (formats 1–3) than the rest of preparing the write.

use purse_state::{Column, StoreError};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Bytes of checksum appended to each record.
pub const CHECKSUM_LEN: usize = 8;

/// Seed of the per-column seeds (ASCII "purse/ck").
const DOMAIN_SEED: u64 = 0x7075_7273_652f_636b;

/// The checksum of `value` stored at `key` in `column`: XXH3-64 of the value, seeded with XXH3-64 of the key,
/// seeded with XXH3-64 of the column name (seeded with [`DOMAIN_SEED`]); little-endian.
fn checksum(column: Column, key: &[u8], value: &[u8]) -> [u8; CHECKSUM_LEN] {
    let column_seed = xxh3_64_with_seed(column.name().as_bytes(), DOMAIN_SEED);
    let key_seed = xxh3_64_with_seed(key, column_seed);
    xxh3_64_with_seed(value, key_seed).to_le_bytes()
}

/// Writes the stored form of `value` (the value, then its checksum) into `out`, which must be exactly `value.len() + CHECKSUM_LEN` bytes long.
pub fn seal_to_slice(column: Column, key: &[u8], value: &[u8], out: &mut [u8]) {
    let (body, sum) = out.split_at_mut(value.len());
    body.copy_from_slice(value);
    sum.copy_from_slice(&checksum(column, key, value));
}

/// The stored form of `value`: the value followed by its checksum.
#[cfg(test)]
pub fn seal(column: Column, key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; value.len() + CHECKSUM_LEN];
    seal_to_slice(column, key, value, &mut out);
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

/// The checksum of storage formats 1 to 3, kept only to recognise a store of such a format and report it as an
/// older format rather than as damaged.
pub mod legacy {
    use super::CHECKSUM_LEN;
    use purse_state::Column;

    /// blake3 `derive_key` context of the record checksums of formats 1 to 3.
    const CONTEXT: &str = "purse v1 storage record checksum";

    fn checksum(column: Column, key: &[u8], value: &[u8]) -> [u8; CHECKSUM_LEN] {
        let mut h = blake3::Hasher::new_derive_key(CONTEXT);
        h.update(column.name().as_bytes());
        h.update(&(key.len() as u64).to_le_bytes());
        h.update(key);
        h.update(value);
        let mut out = [0u8; CHECKSUM_LEN];
        out.copy_from_slice(&h.finalize().as_bytes()[..CHECKSUM_LEN]);
        out
    }

    /// The value of a record sealed by formats 1 to 3, if its checksum is right.
    pub fn unseal(column: Column, key: &[u8], stored: &[u8]) -> Option<Vec<u8>> {
        let at = stored.len().checked_sub(CHECKSUM_LEN)?;
        let (value, sum) = stored.split_at(at);
        (sum == checksum(column, key, value)).then(|| value.to_vec())
    }

    /// A record sealed as formats 1 to 3 did (for tests of the upgrade path).
    #[cfg(test)]
    pub fn seal(column: Column, key: &[u8], value: &[u8]) -> Vec<u8> {
        let mut out = value.to_vec();
        out.extend_from_slice(&checksum(column, key, value));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_flip_detected() {
        let sealed = seal(Column::Blocks, b"k", b"value");
        assert_eq!(unseal(Column::Blocks, b"k", &sealed).unwrap(), b"value");
        for i in 0..sealed.len() {
            for bit in 0..8 {
                let mut bad = sealed.clone();
                bad[i] ^= 1 << bit;
                assert!(unseal(Column::Blocks, b"k", &bad).is_err(), "flip of bit {bit} at {i}");
            }
        }
        assert!(unseal(Column::Blocks, b"other", &sealed).is_err());
        assert!(unseal(Column::Meta, b"k", &sealed).is_err());
        assert!(unseal(Column::Blocks, b"k", &[1, 2]).is_err());
        assert!(unseal(Column::Blocks, b"k", &sealed[..sealed.len() - 1]).is_err());
    }

    #[test]
    fn checksum_is_the_documented_xxh3() {
        let column_seed = xxh3_64_with_seed(b"meta", 0x7075_7273_652f_636b);
        let expected = xxh3_64_with_seed(b"value", xxh3_64_with_seed(b"key", column_seed)).to_le_bytes();
        assert_eq!(checksum(Column::Meta, b"key", b"value"), expected);
    }

    #[test]
    fn legacy_records_are_recognised_only_by_the_legacy_check() {
        let old = legacy::seal(Column::Meta, b"format", b"record");
        assert_eq!(legacy::unseal(Column::Meta, b"format", &old).as_deref(), Some(&b"record"[..]));
        assert!(unseal(Column::Meta, b"format", &old).is_err());
        let new = seal(Column::Meta, b"format", b"record");
        assert_eq!(legacy::unseal(Column::Meta, b"format", &new), None);
        assert_eq!(legacy::unseal(Column::Meta, b"format", &[1]), None);
    }
}
