//! Canonical wire forms of points and scalars: a non-canonical encoding is a decode error, never a panic.

use crate::error::CryptoError;
use borsh::io::{Error, ErrorKind, Read, Result as IoResult, Write};
use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use std::fmt;

fn invalid(msg: &'static str) -> Error {
    Error::new(ErrorKind::InvalidData, msg)
}

/// A Ristretto point kept with its canonical compressed form (decompressed once, at decode).
#[derive(Clone, Copy)]
pub struct Pt {
    pub(crate) compressed: CompressedRistretto,
    pub(crate) point: RistrettoPoint,
}

impl Pt {
    pub(crate) fn from_point(point: RistrettoPoint) -> Self {
        Pt { compressed: point.compress(), point }
    }

    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Result<Self, CryptoError> {
        let compressed = CompressedRistretto(bytes);
        // Ristretto decompression rejects every non-canonical encoding.
        let point = compressed.decompress().ok_or(CryptoError::Decode("non-canonical point"))?;
        Ok(Pt { compressed, point })
    }

    pub(crate) fn identity() -> Self {
        Pt::from_point(RistrettoPoint::default())
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        self.compressed.as_bytes()
    }
}

impl PartialEq for Pt {
    fn eq(&self, other: &Self) -> bool {
        self.compressed == other.compressed
    }
}
impl Eq for Pt {}

impl fmt::Debug for Pt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.compressed.as_bytes()[..6] {
            write!(f, "{b:02x}")?;
        }
        f.write_str("…")
    }
}

impl BorshSerialize for Pt {
    fn serialize<W: Write>(&self, writer: &mut W) -> IoResult<()> {
        writer.write_all(self.compressed.as_bytes())
    }
}

impl BorshDeserialize for Pt {
    fn deserialize_reader<R: Read>(reader: &mut R) -> IoResult<Self> {
        let mut b = [0u8; 32];
        reader.read_exact(&mut b)?;
        Pt::from_bytes(b).map_err(|_| invalid("non-canonical Ristretto point"))
    }
}

/// A scalar whose wire form must be canonical (`< ℓ`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sc(pub(crate) Scalar);

impl fmt::Debug for Sc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0.as_bytes()[..6] {
            write!(f, "{b:02x}")?;
        }
        f.write_str("…")
    }
}

impl BorshSerialize for Sc {
    fn serialize<W: Write>(&self, writer: &mut W) -> IoResult<()> {
        writer.write_all(self.0.as_bytes())
    }
}

impl BorshDeserialize for Sc {
    fn deserialize_reader<R: Read>(reader: &mut R) -> IoResult<Self> {
        let mut b = [0u8; 32];
        reader.read_exact(&mut b)?;
        Option::<Scalar>::from(Scalar::from_canonical_bytes(b))
            .map(Sc)
            .ok_or_else(|| invalid("non-canonical scalar"))
    }
}

/// Encodes a wire value (borsh).
pub fn to_bytes<T: BorshSerialize>(value: &T) -> Vec<u8> {
    // Writing into a Vec cannot fail; an empty vector would fail every later decode rather than panic.
    borsh::to_vec(value).unwrap_or_default()
}

/// Decodes a wire value (borsh): rejects trailing bytes and every non-canonical point or scalar.
pub fn from_bytes<T: BorshDeserialize>(bytes: &[u8]) -> Result<T, CryptoError> {
    borsh::from_slice(bytes).map_err(|_| CryptoError::Decode("invalid or non-canonical encoding"))
}
