//! 32-byte blake3 hashes with one domain-separation context per use.

use borsh::{BorshDeserialize, BorshSerialize};
use std::fmt;
use std::str::FromStr;

/// Length of a [`Hash`] in bytes.
pub const HASH_LEN: usize = 32;

/// A 32-byte blake3 digest.
///
/// Every hash in Purse is computed under a [`Domain`], so a transaction id can never equal a block id or a
/// state node hash computed over the same bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, BorshSerialize, BorshDeserialize)]
pub struct Hash(pub [u8; HASH_LEN]);

impl Hash {
    /// The all-zero hash, used as the parent of the genesis block and the root of an empty tree.
    pub const ZERO: Hash = Hash([0u8; HASH_LEN]);

    /// Hashes `data` under `domain`.
    pub fn digest(domain: Domain, data: &[u8]) -> Hash {
        let mut h = Hasher::new(domain);
        h.update(data);
        h.finalize()
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Result<Hash, HashParseError> {
        if s.len() != HASH_LEN * 2 {
            return Err(HashParseError::Length(s.len()));
        }
        let mut out = [0u8; HASH_LEN];
        hex::decode_to_slice(s, &mut out).map_err(|_| HashParseError::NotHex)?;
        Ok(Hash(out))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", &self.to_hex()[..16])
    }
}

impl FromStr for Hash {
    type Err = HashParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hash::from_hex(s)
    }
}

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        Hash::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// Why a string is not a hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    /// Wrong number of characters.
    #[error("a hash is 64 hex characters, got {0}")]
    Length(usize),
    /// A character outside `[0-9a-fA-F]`.
    #[error("a hash must be hexadecimal")]
    NotHex,
}

/// The use a hash is computed for. Each maps to a distinct blake3 `derive_key` context, so hashes of
/// different kinds never collide even over identical bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// Transaction id: hash of the canonical bytes of a signed transaction's body.
    TxId,
    /// Block id: hash of the canonical bytes of a block header.
    BlockId,
    /// Merkle root over a block's transaction ids.
    TxRoot,
    /// Merkle root over a block's receipts.
    ReceiptRoot,
    /// Account address derived from a public key.
    AccountAddress,
    /// Contract address derived from deployer and nonce.
    ContractAddress,
    /// Contract code hash.
    CodeHash,
    /// Leaf of the authenticated state tree.
    StateLeaf,
    /// Internal node of the authenticated state tree.
    StateNode,
    /// Key path inside the authenticated state tree.
    StateKey,
    /// Hash of a validator set.
    ValidatorSet,
    /// Asset id derived from issuer and symbol.
    AssetId,
    /// Leaf of a binary Merkle list (tx root, receipt root).
    ListLeaf,
    /// Internal node of a binary Merkle list.
    ListNode,
    /// Evidence of misbehaviour.
    Evidence,
    /// Governance proposal id.
    Proposal,
}

impl Domain {
    /// The blake3 `derive_key` context string. Changing one is a hard fork: pinned by test vectors.
    pub const fn context(self) -> &'static str {
        match self {
            Domain::TxId => "purse v1 transaction id",
            Domain::BlockId => "purse v1 block id",
            Domain::TxRoot => "purse v1 transaction root",
            Domain::ReceiptRoot => "purse v1 receipt root",
            Domain::AccountAddress => "purse v1 account address",
            Domain::ContractAddress => "purse v1 contract address",
            Domain::CodeHash => "purse v1 contract code hash",
            Domain::StateLeaf => "purse v1 state leaf",
            Domain::StateNode => "purse v1 state node",
            Domain::StateKey => "purse v1 state key",
            Domain::ValidatorSet => "purse v1 validator set",
            Domain::AssetId => "purse v1 asset id",
            Domain::ListLeaf => "purse v1 merkle list leaf",
            Domain::ListNode => "purse v1 merkle list node",
            Domain::Evidence => "purse v1 evidence",
            Domain::Proposal => "purse v1 governance proposal",
        }
    }

    /// Every domain, for tests that check the contexts are distinct.
    pub const ALL: [Domain; 16] = [
        Domain::TxId,
        Domain::BlockId,
        Domain::TxRoot,
        Domain::ReceiptRoot,
        Domain::AccountAddress,
        Domain::ContractAddress,
        Domain::CodeHash,
        Domain::StateLeaf,
        Domain::StateNode,
        Domain::StateKey,
        Domain::ValidatorSet,
        Domain::AssetId,
        Domain::ListLeaf,
        Domain::ListNode,
        Domain::Evidence,
        Domain::Proposal,
    ];
}

/// Incremental hasher bound to one [`Domain`].
#[derive(Clone)]
pub struct Hasher(blake3::Hasher);

impl Hasher {
    /// A hasher for `domain`.
    pub fn new(domain: Domain) -> Hasher {
        Hasher(blake3::Hasher::new_derive_key(domain.context()))
    }

    /// Absorbs bytes.
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        self.0.update(data);
        self
    }

    /// Absorbs a length-prefixed field, so `("ab","c")` and `("a","bc")` hash differently.
    pub fn update_field(&mut self, data: &[u8]) -> &mut Self {
        self.0.update(&(data.len() as u64).to_le_bytes());
        self.0.update(data);
        self
    }

    /// The digest.
    pub fn finalize(&self) -> Hash {
        Hash(*self.0.finalize().as_bytes())
    }
}

/// Binary Merkle root over an ordered list of leaves (used for tx and receipt roots).
///
/// Leaves and nodes are hashed under distinct domains; an odd node is promoted unchanged; the empty list has
/// root [`Hash::ZERO`]. `domain` is mixed into every node so a tx root never equals a receipt root.
pub fn merkle_list_root(domain: Domain, leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return Hash::ZERO;
    }
    let mut level: Vec<Hash> = leaves
        .iter()
        .map(|l| {
            let mut h = Hasher::new(Domain::ListLeaf);
            h.update(domain.context().as_bytes()).update(&l.0);
            h.finalize()
        })
        .collect();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            match pair {
                [a, b] => {
                    let mut h = Hasher::new(Domain::ListNode);
                    h.update(domain.context().as_bytes()).update(&a.0).update(&b.0);
                    next.push(h.finalize());
                }
                [a] => next.push(*a),
                _ => {}
            }
        }
        level = next;
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_contexts_are_distinct() {
        let mut seen = std::collections::BTreeSet::new();
        for d in Domain::ALL {
            assert!(seen.insert(d.context()), "duplicate context {}", d.context());
        }
    }

    #[test]
    fn same_bytes_different_domains_differ() {
        assert_ne!(Hash::digest(Domain::TxId, b"x"), Hash::digest(Domain::BlockId, b"x"));
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let h = Hash::digest(Domain::TxId, b"abc");
        assert_eq!(Hash::from_hex(&h.to_hex()), Ok(h));
        assert_eq!(Hash::from_hex("ab"), Err(HashParseError::Length(2)));
        assert_eq!(Hash::from_hex(&"g".repeat(64)), Err(HashParseError::NotHex));
    }

    #[test]
    fn field_framing_is_unambiguous() {
        let mut a = Hasher::new(Domain::TxId);
        a.update_field(b"ab").update_field(b"c");
        let mut b = Hasher::new(Domain::TxId);
        b.update_field(b"a").update_field(b"bc");
        assert_ne!(a.finalize(), b.finalize());
    }

    #[test]
    fn merkle_list_root_depends_on_order_and_domain() {
        let a = Hash::digest(Domain::TxId, b"a");
        let b = Hash::digest(Domain::TxId, b"b");
        let c = Hash::digest(Domain::TxId, b"c");
        assert_eq!(merkle_list_root(Domain::TxRoot, &[]), Hash::ZERO);
        assert_ne!(merkle_list_root(Domain::TxRoot, &[a, b]), merkle_list_root(Domain::TxRoot, &[b, a]));
        assert_ne!(
            merkle_list_root(Domain::TxRoot, &[a, b, c]),
            merkle_list_root(Domain::ReceiptRoot, &[a, b, c])
        );
        assert_ne!(merkle_list_root(Domain::TxRoot, &[a]), a);
        assert_ne!(merkle_list_root(Domain::TxRoot, &[a, b, c]), merkle_list_root(Domain::TxRoot, &[a, b]));
    }
}
