//! Chain identity and the domain-separated bytes that get signed.

use crate::codec::invalid_data;
use borsh::{BorshDeserialize, BorshSerialize};
use std::fmt;

/// Longest chain id, in bytes.
pub const MAX_CHAIN_ID_LEN: usize = 32;

/// The chain's name, e.g. `purse-testnet-1`: 1–32 bytes of `[a-z0-9-]`, not starting or ending with `-`.
/// It is inside every signed transaction, vote and proposal, so a signature never replays across chains.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize)]
pub struct ChainId(String);

/// Why a string is not a chain id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid chain id {0:?}: use 1-32 characters of a-z, 0-9 and '-', not starting or ending with '-'")]
pub struct ChainIdError(pub String);

impl ChainId {
    /// Validates a chain id.
    pub fn new(s: impl Into<String>) -> Result<ChainId, ChainIdError> {
        let s = s.into();
        let ok = !s.is_empty()
            && s.len() <= MAX_CHAIN_ID_LEN
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(ChainId(s))
        } else {
            Err(ChainIdError(s))
        }
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl BorshDeserialize for ChainId {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let s = String::deserialize_reader(reader)?;
        ChainId::new(s).map_err(|e| invalid_data(e.to_string()))
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainId({})", self.0)
    }
}
impl serde::Serialize for ChainId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}
impl<'de> serde::Deserialize<'de> for ChainId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        ChainId::new(s).map_err(serde::de::Error::custom)
    }
}

/// What a signature is over. Each kind has its own prefix, so a signed vote can never be replayed as a
/// transaction or a proposal, whatever its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignKind {
    /// A transaction (message: its id).
    Transaction,
    /// A consensus vote.
    Vote,
    /// A consensus proposal.
    Proposal,
    /// A governance ballot.
    Ballot,
    /// An offline person-to-person voucher.
    Voucher,
    /// Proof of possession of a key at registration.
    KeyPossession,
}

impl SignKind {
    const fn tag(self) -> &'static [u8] {
        match self {
            SignKind::Transaction => b"purse/v1/transaction",
            SignKind::Vote => b"purse/v1/vote",
            SignKind::Proposal => b"purse/v1/proposal",
            SignKind::Ballot => b"purse/v1/ballot",
            SignKind::Voucher => b"purse/v1/voucher",
            SignKind::KeyPossession => b"purse/v1/key-possession",
        }
    }
}

/// The bytes a key signs: `tag ‖ 0x00 ‖ len(chain id) ‖ chain id ‖ body`.
pub fn sign_bytes(kind: SignKind, chain_id: &ChainId, body: &[u8]) -> Vec<u8> {
    let tag = kind.tag();
    let mut out = Vec::with_capacity(tag.len() + 2 + chain_id.0.len() + body.len());
    out.extend_from_slice(tag);
    out.push(0);
    out.push(chain_id.0.len() as u8);
    out.extend_from_slice(chain_id.0.as_bytes());
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_id_rules() {
        assert!(ChainId::new("purse-testnet-1").is_ok());
        for bad in ["", "-a", "a-", "UPPER", "has space", &"x".repeat(33)] {
            assert!(ChainId::new(bad).is_err(), "{bad:?}");
        }
        let bad = crate::encode(&"BAD".to_string());
        assert!(crate::decode::<ChainId>(&bad).is_err());
    }

    #[test]
    fn sign_bytes_separate_kinds_and_chains() {
        let a = ChainId::new("a").unwrap();
        let b = ChainId::new("b").unwrap();
        assert_ne!(sign_bytes(SignKind::Vote, &a, b"x"), sign_bytes(SignKind::Proposal, &a, b"x"));
        assert_ne!(sign_bytes(SignKind::Vote, &a, b"x"), sign_bytes(SignKind::Vote, &b, b"x"));
    }
}
