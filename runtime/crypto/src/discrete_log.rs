//! Bounded discrete log `a·G → a` by baby-step giant-step over a table of `2^16` baby steps built once
//! per process (≈ 0.1 s, ≈ 1.5 MB). A 16-bit value costs one lookup, a 32-bit value at most `2^16` giant
//! steps (compressed in batches). Variable time: run it on the reader's own machine only.

use crate::error::CryptoError;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Bits covered by the baby-step table.
pub const BABY_STEP_BITS: u32 = 16;
/// Largest bound accepted by [`decode_bounded`] (`2^24` giant steps, seconds of work).
pub const MAX_DLOG_BITS: u32 = 40;
const BATCH: usize = 256;

struct Table {
    /// First 8 bytes of `compress(2·j·G)` → `j`. Doubling is injective in the prime-order Ristretto group,
    /// and it lets every lookup use dalek's batched `double_and_compress` (one inversion per batch).
    map: HashMap<u64, u32>,
}

fn key(bytes: &[u8; 32]) -> u64 {
    let mut k = [0u8; 8];
    k.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(k)
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let g = crate::pedersen::g();
        let n = 1usize << BABY_STEP_BITS;
        let mut map = HashMap::with_capacity(n);
        let mut cur = RistrettoPoint::default();
        let mut chunk = Vec::with_capacity(BATCH);
        let mut j: u32 = 0;
        while (j as usize) < n {
            chunk.clear();
            for _ in 0..BATCH.min(n - j as usize) {
                chunk.push(cur);
                cur += g;
            }
            for (i, c) in RistrettoPoint::double_and_compress_batch(&chunk).iter().enumerate() {
                map.insert(key(c.as_bytes()), j + i as u32);
            }
            j += chunk.len() as u32;
        }
        Table { map }
    })
}

/// Builds the table now (otherwise built on first use).
pub fn warm_up() {
    let _ = table();
}

/// Finds `a < 2^bits` with `a·G = point`.
pub fn decode_bounded(point: &RistrettoPoint, bits: u32) -> Result<u64, CryptoError> {
    if bits > MAX_DLOG_BITS {
        return Err(CryptoError::DiscreteLog(bits));
    }
    let t = table();
    let giant = RistrettoPoint::mul_base(&Scalar::from(1u64 << BABY_STEP_BITS));
    let steps: u64 = 1u64 << bits.saturating_sub(BABY_STEP_BITS);
    let bound: u64 = 1u64 << bits;
    let mut cur = *point;
    let mut k: u64 = 0;
    let mut batch = Vec::with_capacity(BATCH);
    while k < steps {
        batch.clear();
        let take = (steps - k).min(BATCH as u64);
        for _ in 0..take {
            batch.push(cur);
            cur -= giant;
        }
        for (i, c) in RistrettoPoint::double_and_compress_batch(&batch).iter().enumerate() {
            if let Some(&j) = t.map.get(&key(c.as_bytes())) {
                let v = ((k + i as u64) << BABY_STEP_BITS) + j as u64;
                // 8-byte keys can collide: confirm exactly.
                if v < bound && RistrettoPoint::mul_base(&Scalar::from(v)) == *point {
                    return Ok(v);
                }
            }
        }
        k += take;
    }
    Err(CryptoError::DiscreteLog(bits))
}
