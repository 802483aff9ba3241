//! Blocks, headers and commit certificates.

use crate::chain::ChainId;
use crate::codec::{decode_with_limit, encode, CodecError};
use crate::hash::{merkle_list_root, Domain, Hash};
use crate::keys::{verify_batch, BatchItem, PublicKey, Signature};
use crate::tx::SignedTransaction;
use crate::validator::ValidatorSet;
use crate::vote::{Evidence, Vote, VoteKind};
use borsh::{BorshDeserialize, BorshSerialize};

/// Largest encoded block accepted from the network: 8 MiB. Chain parameters set a smaller target.
pub const MAX_BLOCK_BYTES: usize = 8 * 1024 * 1024;
/// Most evidence items in one block.
pub const MAX_EVIDENCE_PER_BLOCK: usize = 64;

/// A block id: `H_BlockId(canonical bytes of the header)`.
pub type BlockId = Hash;

/// The block header; its hash is the block id.
#[derive(
    Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct Header {
    /// Chain.
    pub chain_id: ChainId,
    /// Height (genesis state is height 0; the first block is height 1).
    pub height: u64,
    /// Consensus round in which the block was proposed.
    pub round: u32,
    /// Id of the previous block (`Hash::ZERO` for height 1).
    pub parent: BlockId,
    /// Proposer's time in milliseconds since the Unix epoch; strictly greater than the parent's.
    pub timestamp_ms: u64,
    /// Proposer.
    pub proposer: PublicKey,
    /// Merkle root of the transaction ids, in block order.
    pub tx_root: Hash,
    /// State root after applying this block's transactions.
    pub state_root: Hash,
    /// Merkle root of the receipts' hashes, in block order.
    pub receipt_root: Hash,
    /// Hash of the validator set that decides this block.
    pub validator_set_hash: Hash,
    /// Hash of the validator set that decides the next block.
    pub next_validator_set_hash: Hash,
    /// Hash of the parent's commit certificate carried in this block (`Hash::ZERO` at height 1).
    pub last_commit_hash: Hash,
    /// Merkle root of the evidence ids carried in this block.
    pub evidence_root: Hash,
}

impl Header {
    /// The block id.
    pub fn id(&self) -> BlockId {
        Hash::digest(Domain::BlockId, &encode(self))
    }
}

/// A block: header, transactions, the certificate that committed the parent, and evidence.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Block {
    /// Header.
    pub header: Header,
    /// Transactions in execution order.
    pub txs: Vec<SignedTransaction>,
    /// The commit certificate of the parent block (`None` at height 1).
    pub last_commit: Option<CommitCertificate>,
    /// Equivocation evidence being committed.
    pub evidence: Vec<Evidence>,
}

/// Why a block's body does not match its header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// Transactions do not hash to `tx_root`.
    #[error("transaction root mismatch")]
    TxRoot,
    /// Carried certificate does not hash to `last_commit_hash`.
    #[error("last commit hash mismatch")]
    LastCommit,
    /// Evidence does not hash to `evidence_root`.
    #[error("evidence root mismatch")]
    EvidenceRoot,
    /// Too much evidence.
    #[error("block carries more than 64 evidence items")]
    TooMuchEvidence,
}

impl Block {
    /// The block id.
    pub fn id(&self) -> BlockId {
        self.header.id()
    }

    /// Merkle root of transaction ids.
    pub fn compute_tx_root(txs: &[SignedTransaction]) -> Hash {
        let ids: Vec<Hash> = txs.iter().map(|t| t.id()).collect();
        merkle_list_root(Domain::TxRoot, &ids)
    }

    /// Merkle root of evidence ids.
    pub fn compute_evidence_root(evidence: &[Evidence]) -> Hash {
        let ids: Vec<Hash> = evidence.iter().map(|e| e.id()).collect();
        merkle_list_root(Domain::TxRoot, &ids)
    }

    /// Hash of an optional certificate.
    pub fn commit_hash(cert: Option<&CommitCertificate>) -> Hash {
        cert.map(|c| c.hash()).unwrap_or(Hash::ZERO)
    }

    /// Checks that the body matches the header's roots.
    pub fn check_body(&self) -> Result<(), BlockError> {
        if self.evidence.len() > MAX_EVIDENCE_PER_BLOCK {
            return Err(BlockError::TooMuchEvidence);
        }
        if Block::compute_tx_root(&self.txs) != self.header.tx_root {
            return Err(BlockError::TxRoot);
        }
        if Block::commit_hash(self.last_commit.as_ref()) != self.header.last_commit_hash {
            return Err(BlockError::LastCommit);
        }
        if Block::compute_evidence_root(&self.evidence) != self.header.evidence_root {
            return Err(BlockError::EvidenceRoot);
        }
        Ok(())
    }

    /// Decodes a block from untrusted bytes, bounded by [`MAX_BLOCK_BYTES`].
    pub fn decode(bytes: &[u8]) -> Result<Block, CodecError> {
        decode_with_limit(bytes, MAX_BLOCK_BYTES)
    }
}

/// One precommit signature in a certificate.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct CommitSig {
    /// Index of the validator in the (canonically ordered) validator set.
    pub validator_index: u16,
    /// Its precommit signature for the block.
    pub signature: Signature,
}

/// Precommits from more than two thirds of the voting power for one block: proof the block is final.
#[derive(
    Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct CommitCertificate {
    /// Height of the committed block.
    pub height: u64,
    /// Round in which it was committed.
    pub round: u32,
    /// The committed block.
    pub block_id: BlockId,
    /// Signatures, strictly increasing by validator index.
    pub signatures: Vec<CommitSig>,
}

/// Why a certificate does not prove a commit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Signatures not strictly increasing by index (duplicates or disorder).
    #[error("certificate signatures are not strictly ordered by validator index")]
    Order,
    /// An index beyond the set.
    #[error("certificate names validator index {0}, beyond the set")]
    UnknownValidator(u16),
    /// Not more than 2/3 of the power.
    #[error("certificate carries {got} of {needed} needed voting power")]
    InsufficientPower {
        /// Power present.
        got: u64,
        /// Power needed.
        needed: u64,
    },
    /// Some signature is invalid.
    #[error("certificate contains an invalid signature")]
    BadSignature,
    /// Certificate is for another block or height.
    #[error("certificate is for another block")]
    WrongBlock,
}

impl CommitCertificate {
    /// Hash of the certificate (committed in the next header).
    pub fn hash(&self) -> Hash {
        Hash::digest(Domain::BlockId, &encode(self))
    }

    /// The precommit vote validator `key` signed for this certificate.
    pub fn vote_for(&self, key: PublicKey) -> Vote {
        Vote {
            height: self.height,
            round: self.round,
            kind: VoteKind::Precommit,
            block_id: Some(self.block_id),
            validator: key,
        }
    }

    /// Verifies every signature (in one batch) and the 2/3 power rule against `set`.
    pub fn verify(&self, chain_id: &ChainId, set: &ValidatorSet) -> Result<(), CertificateError> {
        let mut power: u64 = 0;
        let mut last: Option<u16> = None;
        let mut messages = Vec::with_capacity(self.signatures.len());
        for cs in &self.signatures {
            if last.is_some_and(|l| cs.validator_index <= l) {
                return Err(CertificateError::Order);
            }
            last = Some(cs.validator_index);
            let v = set
                .validators()
                .get(usize::from(cs.validator_index))
                .ok_or(CertificateError::UnknownValidator(cs.validator_index))?;
            power = power.saturating_add(v.power);
            messages.push((v.public_key, self.vote_for(v.public_key).sign_bytes(chain_id)));
        }
        if power < set.quorum_power() {
            return Err(CertificateError::InsufficientPower { got: power, needed: set.quorum_power() });
        }
        let items: Vec<BatchItem<'_>> = messages
            .iter()
            .zip(&self.signatures)
            .map(|((k, m), cs)| (k, m.as_slice(), &cs.signature))
            .collect();
        verify_batch(&items).map_err(|_| CertificateError::BadSignature)
    }

    /// Verifies and also checks the certificate is for `height` and `block_id`.
    pub fn verify_for(
        &self,
        chain_id: &ChainId,
        set: &ValidatorSet,
        height: u64,
        block_id: &BlockId,
    ) -> Result<(), CertificateError> {
        if self.height != height || &self.block_id != block_id {
            return Err(CertificateError::WrongBlock);
        }
        self.verify(chain_id, set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keypair;
    use crate::validator::Validator;

    fn setup(n: u8) -> (ChainId, Vec<Keypair>, ValidatorSet) {
        let keys: Vec<Keypair> = (0..n).map(|i| Keypair::from_seed(&[i + 1; 32])).collect();
        let set =
            ValidatorSet::new(keys.iter().map(|k| Validator { public_key: k.public(), power: 1 }).collect())
                .unwrap();
        (ChainId::new("c").unwrap(), keys, set)
    }

    fn cert(chain: &ChainId, keys: &[Keypair], set: &ValidatorSet, signers: &[usize]) -> CommitCertificate {
        let block_id = Hash::digest(Domain::BlockId, b"b");
        let mut c = CommitCertificate { height: 5, round: 1, block_id, signatures: vec![] };
        let mut sigs: Vec<CommitSig> = signers
            .iter()
            .map(|&i| {
                let key = &keys[i];
                let idx = set.find(&key.public()).unwrap().0 as u16;
                let sv = c.vote_for(key.public()).sign(chain, key);
                CommitSig { validator_index: idx, signature: sv.signature }
            })
            .collect();
        sigs.sort_by_key(|s| s.validator_index);
        c.signatures = sigs;
        c
    }

    #[test]
    fn quorum_certificate_verifies() {
        let (chain, keys, set) = setup(4);
        let c = cert(&chain, &keys, &set, &[0, 1, 2]);
        assert_eq!(c.verify(&chain, &set), Ok(()));
        assert_eq!(c.verify_for(&chain, &set, 5, &c.block_id), Ok(()));
        assert_eq!(c.verify_for(&chain, &set, 6, &c.block_id), Err(CertificateError::WrongBlock));
        assert!(c.verify(&ChainId::new("other").unwrap(), &set).is_err());
    }

    #[test]
    fn insufficient_power_duplicates_and_bad_sigs_rejected() {
        let (chain, keys, set) = setup(4);
        let c = cert(&chain, &keys, &set, &[0, 1]);
        assert_eq!(c.verify(&chain, &set), Err(CertificateError::InsufficientPower { got: 2, needed: 3 }));
        let mut dup = cert(&chain, &keys, &set, &[0, 1, 2]);
        dup.signatures[2] = dup.signatures[1];
        assert_eq!(dup.verify(&chain, &set), Err(CertificateError::Order));
        let mut bad = cert(&chain, &keys, &set, &[0, 1, 2]);
        bad.signatures[0].signature.0[5] ^= 1;
        assert_eq!(bad.verify(&chain, &set), Err(CertificateError::BadSignature));
        let mut unknown = cert(&chain, &keys, &set, &[0, 1, 2]);
        unknown.signatures.push(CommitSig { validator_index: 9, signature: Signature([0; 64]) });
        assert_eq!(unknown.verify(&chain, &set), Err(CertificateError::UnknownValidator(9)));
    }
}
