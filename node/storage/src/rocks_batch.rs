//! A [`WriteBatch`] encoded straight into RocksDB's write-batch representation, every value sealed with its
//! checksum, on two threads of rayon's pool for a large batch.
//!
//! A block commit hands RocksDB tens of thousands of operations (megabytes). Adding them one by one through the
//! C API copies each value twice (sealed, then into the batch) and crosses the FFI boundary per operation;
//! encoding the representation ourselves writes each byte once, into a buffer sized exactly up front, and lets
//! two threads fill the two halves. RocksDB then takes the buffer as is (`WriteBatch::from_data`).
//!
//! The representation (RocksDB `db/write_batch.cc`, which is also the write-ahead-log record format and so
//! stable): a 12-byte header — sequence number (fixed64, zero: RocksDB assigns it) and operation count
//! (fixed32) — then per operation a type byte, the column family id (varint32, only for a non-default
//! family), the key (varint32 length, bytes) and, for a put, the value (varint32 length, bytes). The column
//! family ids are not guessed: [`CfIds::discover`] reads them from batches RocksDB encodes itself, and a test
//! checks that this encoder and RocksDB's produce identical bytes.

use crate::checksum::{seal_to_slice, CHECKSUM_LEN};
use purse_state::{BatchEntry, Column, StoreError, WriteBatch};

/// Put in the default column family.
const TYPE_VALUE: u8 = 0x1;
/// Delete in the default column family.
const TYPE_DELETION: u8 = 0x0;
/// Put in another column family (followed by its id).
const TYPE_CF_VALUE: u8 = 0x5;
/// Delete in another column family (followed by its id).
const TYPE_CF_DELETION: u8 = 0x4;
/// Bytes of the header: sequence number and count.
const HEADER_LEN: usize = 12;

/// Fewest operations for which the encoding is split across two threads (below it a thread costs more than
/// it saves).
pub const PARALLEL_MIN_OPS: usize = 4_096;

/// The RocksDB column family id of each [`Column`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfIds([u32; Column::ALL.len()]);

impl CfIds {
    /// Reads each column's family id from a one-put batch encoded by RocksDB (`cfs` in [`Column::ALL`] order).
    pub fn discover(cfs: &[&rocksdb::ColumnFamily]) -> Result<CfIds, StoreError> {
        let mut ids = [0u32; Column::ALL.len()];
        for (c, cf) in Column::ALL.iter().zip(cfs) {
            let mut probe = rocksdb::WriteBatch::default();
            probe.put_cf(*cf, b"k", b"v");
            ids[c.index()] = parse_probe(probe.data()).ok_or_else(|| {
                StoreError::Backend(format!("unexpected RocksDB write-batch encoding for column family {c}"))
            })?;
        }
        Ok(CfIds(ids))
    }

    fn of(&self, column: Column) -> u32 {
        self.0[column.index()]
    }
}

/// The column family id in the representation of a batch holding one put of `k` → `v`.
fn parse_probe(data: &[u8]) -> Option<u32> {
    let body = data.get(HEADER_LEN..)?;
    let count = u32::from_le_bytes(data.get(8..12)?.try_into().ok()?);
    if count != 1 {
        return None;
    }
    let (&tag, rest) = body.split_first()?;
    let (id, rest) = match tag {
        TYPE_VALUE => (0, rest),
        TYPE_CF_VALUE => read_varint32(rest)?,
        _ => return None,
    };
    (rest == [1, b'k', 1, b'v']).then_some(id)
}

fn read_varint32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let mut v = 0u32;
    for (i, &b) in bytes.iter().enumerate().take(5) {
        v |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, &bytes[i + 1..]));
        }
    }
    None
}

fn varint_len(v: u32) -> usize {
    match v {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        0x4000..=0x1f_ffff => 3,
        0x20_0000..=0xfff_ffff => 4,
        _ => 5,
    }
}

/// Writes `v` as a varint32 at the start of `out`; returns the rest of `out`.
fn put_varint(out: &mut [u8], mut v: u32) -> &mut [u8] {
    let mut i = 0;
    while v >= 0x80 {
        out[i] = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
    out[i] = v as u8;
    &mut out[i + 1..]
}

/// A length as a varint32 value, or an error naming the record if it does not fit.
fn len32(op: &BatchEntry<'_>, len: usize) -> Result<u32, StoreError> {
    u32::try_from(len).map_err(|_| StoreError::corrupt(op.column, op.key, "record longer than 4 GiB"))
}

/// Bytes `op` takes in the representation.
fn encoded_len(ids: &CfIds, op: &BatchEntry<'_>) -> Result<usize, StoreError> {
    let id = ids.of(op.column);
    let mut n = 1 + if id == 0 { 0 } else { varint_len(id) };
    n += varint_len(len32(op, op.key.len())?) + op.key.len();
    if let Some(v) = op.value {
        let sealed = v.len() + CHECKSUM_LEN;
        n += varint_len(len32(op, sealed)?) + sealed;
    }
    Ok(n)
}

/// Encodes `ops` into `out`, which is exactly as long as their encodings.
fn encode_ops(ids: &CfIds, ops: &[BatchEntry<'_>], out: &mut [u8]) {
    let mut rest = out;
    for op in ops {
        let id = ids.of(op.column);
        let tag = match (op.value.is_some(), id == 0) {
            (true, true) => TYPE_VALUE,
            (true, false) => TYPE_CF_VALUE,
            (false, true) => TYPE_DELETION,
            (false, false) => TYPE_CF_DELETION,
        };
        rest[0] = tag;
        rest = &mut rest[1..];
        if id != 0 {
            rest = put_varint(rest, id);
        }
        // Lengths were checked to fit in 32 bits when the buffer was sized.
        rest = put_varint(rest, op.key.len() as u32);
        let (key, tail) = rest.split_at_mut(op.key.len());
        key.copy_from_slice(op.key);
        rest = tail;
        if let Some(v) = op.value {
            let sealed = v.len() + CHECKSUM_LEN;
            rest = put_varint(rest, sealed as u32);
            let (record, tail) = rest.split_at_mut(sealed);
            seal_to_slice(op.column, op.key, v, record);
            rest = tail;
        }
    }
}

/// The representation of `batch`'s operations in the order `order` gives, values sealed, in `rep` (replacing
/// its contents: a buffer kept from an earlier write is reused, so its pages need not be faulted in again).
pub fn encode_into(
    ids: &CfIds,
    batch: &WriteBatch,
    order: &[usize],
    rep: &mut Vec<u8>,
) -> Result<(), StoreError> {
    let ops: Vec<BatchEntry<'_>> = order.iter().filter_map(|&i| batch.get(i)).collect();
    let count = u32::try_from(ops.len()).map_err(|_| {
        StoreError::Backend(format!("a write batch of {} operations is too large", ops.len()))
    })?;
    let mut lens = Vec::with_capacity(ops.len());
    for op in &ops {
        lens.push(encoded_len(ids, op)?);
    }
    let total: usize = lens.iter().sum();
    rep.clear();
    rep.resize(HEADER_LEN + total, 0);
    rep[8..HEADER_LEN].copy_from_slice(&count.to_le_bytes());
    let body = &mut rep[HEADER_LEN..];
    if ops.len() < PARALLEL_MIN_OPS {
        encode_ops(ids, &ops, body);
        return Ok(());
    }
    // Split at the operation where the first half's bytes reach half the total.
    let (mut cut, mut bytes) = (0, 0);
    while cut < ops.len() && bytes < total / 2 {
        bytes += lens[cut];
        cut += 1;
    }
    let (first_ops, second_ops) = ops.split_at(cut);
    let (first, second) = body.split_at_mut(bytes);
    // One half on the pool, the other on this thread: a writer outside the pool (a pipelined commit's,
    // ADR 0020) keeps encoding while the pool is busy preparing the next block, instead of waiting for it.
    rayon::in_place_scope(|s| {
        s.spawn(|_| encode_ops(ids, first_ops, first));
        encode_ops(ids, second_ops, second);
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::seal;
    use rand::{Rng, SeedableRng};

    #[test]
    fn varints_match_their_lengths() {
        for v in
            [0u32, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1f_ffff, 0x20_0000, 0xfff_ffff, 0x1000_0000, u32::MAX]
        {
            let mut buf = [0u8; 5];
            let rest = put_varint(&mut buf, v).len();
            assert_eq!(5 - rest, varint_len(v), "{v}");
            assert_eq!(read_varint32(&buf), Some((v, &buf[varint_len(v)..])));
        }
    }

    #[test]
    fn probe_parsing_rejects_other_shapes() {
        let mut good = vec![0u8; 8];
        good.extend_from_slice(&1u32.to_le_bytes());
        good.extend_from_slice(&[TYPE_CF_VALUE, 0x85, 0x01, 1, b'k', 1, b'v']);
        assert_eq!(parse_probe(&good), Some(133));
        let mut two = good.clone();
        two[8] = 2;
        assert_eq!(parse_probe(&two), None);
        let mut other_value = good.clone();
        *other_value.last_mut().unwrap() = b'w';
        assert_eq!(parse_probe(&other_value), None);
        assert_eq!(parse_probe(&good[..10]), None);
    }

    /// The encoder and RocksDB's own `put_cf`/`delete_cf` produce the same bytes, for every column, small and
    /// large (two-thread) batches, and long keys and values (multi-byte varints), in one buffer reused from a
    /// larger batch for smaller ones.
    #[test]
    fn encoding_is_byte_identical_to_rocksdb() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::RocksStore::open(dir.path(), crate::RocksConfig::default()).unwrap();
        let cfs = store.column_families().unwrap();
        let ids = CfIds::discover(&cfs).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut ours = Vec::new();
        for n in [0usize, 1, PARALLEL_MIN_OPS + 333, 17, 0] {
            let mut batch = WriteBatch::new();
            for i in 0..n {
                let column = Column::ALL[rng.gen_range(0..Column::ALL.len())];
                let klen = if i % 97 == 0 { 300 } else { rng.gen_range(1..48) };
                let key: Vec<u8> = (0..klen).map(|_| rng.gen()).collect();
                if rng.gen_bool(0.2) {
                    batch.delete(column, &key);
                } else {
                    let vlen = if i % 89 == 0 { 20_000 } else { rng.gen_range(0..200) };
                    let value: Vec<u8> = (0..vlen).map(|_| rng.gen()).collect();
                    batch.put(column, &key, &value);
                }
            }
            let order: Vec<usize> = (0..n).rev().collect();
            encode_into(&ids, &batch, &order, &mut ours).unwrap();
            let mut theirs = rocksdb::WriteBatch::default();
            for &i in &order {
                let op = batch.get(i).unwrap();
                let cf = cfs[op.column.index()];
                match op.value {
                    Some(v) => theirs.put_cf(cf, op.key, seal(op.column, op.key, v)),
                    None => theirs.delete_cf(cf, op.key),
                }
            }
            assert_eq!(ours, theirs.data(), "batch of {n}");
        }
    }
}
