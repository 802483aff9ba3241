//! purse-types — the vocabulary of the Purse chain: hashes, keys, addresses, amounts, transactions, blocks,
//! commit certificates and the canonical borsh codec. No IO.

pub mod codec;
pub mod hash;

pub use codec::{decode, encode, CodecError};
pub use hash::{Domain, Hash, Hasher};
