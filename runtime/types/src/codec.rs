//! The canonical codec: borsh, with strict decoding (no trailing bytes, bounded size).
//!
//! Everything that is hashed or signed is encoded with [`encode`]; every byte string from outside is decoded
//! with [`decode`], which returns an error value for any malformed, non-canonical or oversized input.

use borsh::{BorshDeserialize, BorshSerialize};

/// Largest byte string [`decode`] accepts: 16 MiB. Blocks are bounded well below this by chain parameters.
pub const MAX_DECODE_LEN: usize = 16 * 1024 * 1024;

/// Why bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// Input longer than [`MAX_DECODE_LEN`] (or a caller-chosen limit).
    #[error("input of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit applied.
        limit: usize,
    },
    /// Malformed or non-canonical bytes, or bytes left over after the value.
    #[error("invalid encoding of {what}: {reason}")]
    Invalid {
        /// The type being decoded.
        what: &'static str,
        /// borsh's description of the problem.
        reason: String,
    },
}

/// Encodes a value canonically.
pub fn encode<T: BorshSerialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail; borsh's only other error is for types we never define (e.g. sets of
    // zero-sized types), so an error here is a programming bug and still yields no panic: empty output.
    if value.serialize(&mut out).is_err() {
        out.clear();
    }
    out
}

/// Decodes a value, rejecting trailing bytes and input over [`MAX_DECODE_LEN`].
pub fn decode<T: BorshDeserialize>(bytes: &[u8]) -> Result<T, CodecError> {
    decode_with_limit(bytes, MAX_DECODE_LEN)
}

/// Decodes a value, rejecting trailing bytes and input over `limit` bytes.
pub fn decode_with_limit<T: BorshDeserialize>(bytes: &[u8], limit: usize) -> Result<T, CodecError> {
    if bytes.len() > limit {
        return Err(CodecError::TooLarge { len: bytes.len(), limit });
    }
    borsh::from_slice::<T>(bytes)
        .map_err(|e| CodecError::Invalid { what: std::any::type_name::<T>(), reason: e.to_string() })
}

/// Reads exactly `N` bytes for fixed-size fields in hand-written `BorshDeserialize` impls.
pub(crate) fn read_array<R: borsh::io::Read, const N: usize>(reader: &mut R) -> borsh::io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    reader.read_exact(&mut buf)?;
    Ok(buf)
}

/// A `borsh::io::Error` of kind `InvalidData` with a message.
pub(crate) fn invalid_data(msg: impl Into<String>) -> borsh::io::Error {
    borsh::io::Error::new(borsh::io::ErrorKind::InvalidData, msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_bytes_rejected() {
        let mut b = encode(&7u32);
        b.push(0);
        assert!(matches!(decode::<u32>(&b), Err(CodecError::Invalid { .. })));
    }

    #[test]
    fn non_canonical_bool_and_option_rejected() {
        assert!(decode::<bool>(&[2]).is_err());
        assert!(decode::<Option<u8>>(&[2, 0]).is_err());
    }

    #[test]
    fn huge_length_prefix_does_not_allocate_or_panic() {
        let bytes = [0xff, 0xff, 0xff, 0xff];
        assert!(decode::<Vec<u8>>(&bytes).is_err());
        assert!(decode::<String>(&bytes).is_err());
    }

    #[test]
    fn limit_enforced() {
        let bytes = encode(&vec![0u8; 100]);
        assert!(matches!(decode_with_limit::<Vec<u8>>(&bytes, 10), Err(CodecError::TooLarge { .. })));
        assert_eq!(decode_with_limit::<Vec<u8>>(&bytes, 1000), Ok(vec![0u8; 100]));
    }
}
