//! purse-types — the vocabulary of the Purse chain: hashes, keys, addresses, amounts, transactions, blocks,
//! commit certificates and the canonical borsh codec. No IO.
//!
//! Everything hashed or signed is encoded with [`encode`] (borsh) and decoded with [`decode`], which rejects
//! trailing bytes, non-canonical encodings and oversized input. Wire formats are pinned by the test vectors
//! in `tests/vectors/`.

pub mod address;
pub mod amount;
pub mod block;
pub mod chain;
pub mod codec;
pub mod hash;
pub mod keys;
pub mod permission;
pub mod receipt;
pub mod state_proof;
pub mod tx;
pub mod validator;
pub mod vote;

pub use address::{Address, AddressError};
pub use amount::{Amount, AmountError, AssetId, AssetInfo};
pub use block::{Block, BlockError, BlockId, CertificateError, CommitCertificate, CommitSig, Header};
pub use chain::{sign_bytes, ChainId, ChainIdError, SignKind};
pub use codec::{decode, decode_with_limit, encode, CodecError};
pub use hash::{merkle_list_root, Domain, Hash, Hasher};
pub use keys::{verify, verify_batch, BatchItem, KeyError, Keypair, PublicKey, Signature, SignatureError};
pub use permission::{AdminOp, TierLimits};
pub use receipt::{Event, Receipt, TxStatus};
pub use state_proof::{ProofError, StateProof};
pub use tx::{
    proposal_id, AssetFlags, Coin, ConfidentialOp, GovernanceAction, GovernanceOp, Payload, Role,
    SignedTransaction, Transaction, TxId,
};
pub use validator::{Validator, ValidatorSet, ValidatorSetError, ValidatorUpdate};
pub use vote::{Evidence, EvidenceError, Proposal, SignedProposal, SignedVote, Vote, VoteKind};
