//! The plain data the RPC exchanges with a node and with clients.
//!
//! JSON conventions: hashes, keys and byte strings are lowercase hex; addresses are `purse1…` bech32m strings;
//! amounts are decimal strings (a `u128` does not fit a JSON number); heights and counters are JSON numbers.
//! The `from_*` constructors build these views from `purse-types` values so a node fills them in one call.

use crate::hex_serde;
use purse_types::state_proof::{ProofTerminal, StateProof};
use purse_types::vote::VoteKind;
use purse_types::{
    encode, Address, Amount, AssetId, Block, BlockId, ChainId, CommitCertificate, Evidence, GovernanceAction,
    Hash, Header, PublicKey, Receipt, Role, TierLimits, TxId, TxStatus, ValidatorSet,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

// ---------------------------------------------------------------------------------------------------------
// Node status

/// `GET /health`: the process is up and serving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

/// `GET /ready`: whether the node can serve traffic (e.g. not still syncing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// True when ready.
    pub ready: bool,
    /// Why not, when not ready (e.g. `syncing`).
    pub reasons: Vec<String>,
}

/// `GET /status`: the node's view of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeStatus {
    /// The chain id.
    #[schema(value_type = String, example = "purse-testnet-1")]
    pub chain_id: ChainId,
    /// Software version of the node.
    #[schema(example = "0.1.0")]
    pub node_version: String,
    /// Last committed height (0: only genesis state).
    pub height: u64,
    /// Id of the last committed block (zero hash at height 0).
    #[schema(value_type = String)]
    pub latest_block_hash: BlockId,
    /// Timestamp of the last committed block, ms since the Unix epoch (0 at height 0).
    pub latest_block_time_ms: u64,
    /// State root after the last committed block.
    #[schema(value_type = String)]
    pub latest_state_root: Hash,
    /// Current consensus round at `height + 1`.
    pub round: u32,
    /// Connected peers.
    pub peers: u32,
    /// Transactions in the mempool.
    pub mempool_size: u64,
    /// True while catching up by block sync or snapshot.
    pub syncing: bool,
    /// This node's consensus key, when it is a validator.
    #[schema(value_type = Option<String>)]
    pub validator_key: Option<PublicKey>,
}

// ---------------------------------------------------------------------------------------------------------
// Transactions

/// `POST /tx` and `POST /tx/validate` JSON body. (`application/octet-stream` bodies carry the raw bytes.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxRequest {
    /// Hex of the borsh-encoded `SignedTransaction`.
    #[schema(example = "0f000000707572736521…")]
    pub tx: String,
}

/// `POST /tx` and `POST /tx/validate` raw body: the borsh bytes of a `SignedTransaction`
/// (`Content-Type: application/octet-stream`). Documentation type only.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct RawSignedTransaction(pub Vec<u8>);

/// What the node did with a submitted transaction ([`crate::NodeApi::submit_tx`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Admitted: executable now, waiting in the mempool for a block.
    Pending,
    /// Admitted to the sender's future queue: its nonce leaves a gap until `expected_nonce` arrives.
    Queued {
        /// The nonce the pool needs first.
        expected_nonce: u64,
    },
}

/// Status of an admitted transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdmissionStatus {
    /// In the mempool, executable.
    Pending,
    /// In the sender's future queue.
    Queued,
}

/// `POST /tx` success body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxResponse {
    /// The transaction id.
    #[schema(value_type = String)]
    pub tx_id: TxId,
    /// `pending` or `queued`.
    pub status: AdmissionStatus,
    /// For `queued`: the nonce the pool waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_nonce: Option<u64>,
}

impl SubmitTxResponse {
    /// The response for `tx_id` admitted as `admission`.
    pub fn new(tx_id: TxId, admission: Admission) -> SubmitTxResponse {
        match admission {
            Admission::Pending => {
                SubmitTxResponse { tx_id, status: AdmissionStatus::Pending, expected_nonce: None }
            }
            Admission::Queued { expected_nonce } => SubmitTxResponse {
                tx_id,
                status: AdmissionStatus::Queued,
                expected_nonce: Some(expected_nonce),
            },
        }
    }
}

/// The pending-transaction validator's answer without submitting ([`crate::NodeApi::validate_tx`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Would be admitted as executable.
    Valid,
    /// Would wait in the future queue for `expected_nonce`.
    Queued {
        /// The nonce the pool needs first.
        expected_nonce: u64,
    },
    /// Would be rejected.
    Invalid {
        /// Stable reason code (the mempool's `Reason::code`).
        code: String,
        /// Human-readable reason.
        message: String,
    },
}

/// Outcome class of a validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictResult {
    /// Would be admitted as executable.
    Valid,
    /// Would be queued behind a nonce gap.
    Queued,
    /// Would be rejected; see `code`.
    Invalid,
}

/// `POST /tx/validate` body: the verdict, always with HTTP 200 when the node could judge the transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ValidateTxResponse {
    /// The transaction id.
    #[schema(value_type = String)]
    pub tx_id: TxId,
    /// `valid`, `queued` or `invalid`.
    pub result: VerdictResult,
    /// `valid`, `queued`, or the stable rejection reason (e.g. `insufficient_available`).
    #[schema(example = "insufficient_available")]
    pub code: String,
    /// Human-readable detail.
    pub message: String,
    /// For `queued`: the nonce the pool waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_nonce: Option<u64>,
}

impl ValidateTxResponse {
    /// The response for `tx_id` judged `verdict`.
    pub fn new(tx_id: TxId, verdict: Verdict) -> ValidateTxResponse {
        match verdict {
            Verdict::Valid => ValidateTxResponse {
                tx_id,
                result: VerdictResult::Valid,
                code: "valid".into(),
                message: "the transaction would be admitted".into(),
                expected_nonce: None,
            },
            Verdict::Queued { expected_nonce } => ValidateTxResponse {
                tx_id,
                result: VerdictResult::Queued,
                code: "queued".into(),
                message: format!("the transaction would wait for nonce {expected_nonce}"),
                expected_nonce: Some(expected_nonce),
            },
            Verdict::Invalid { code, message } => ValidateTxResponse {
                tx_id,
                result: VerdictResult::Invalid,
                code,
                message,
                expected_nonce: None,
            },
        }
    }
}

/// Where a known transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TxState {
    /// In the mempool, executable.
    Pending,
    /// In the sender's future queue.
    Queued,
    /// Included in a committed block; `receipt` says whether it succeeded.
    Committed,
}

/// `GET /tx/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxInfo {
    /// The transaction id.
    #[schema(value_type = String)]
    pub tx_id: TxId,
    /// `pending`, `queued` or `committed`.
    pub status: TxState,
    /// Sender.
    #[schema(value_type = String)]
    pub sender: Address,
    /// Nonce.
    pub nonce: u64,
    /// Height of the including block (committed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Position in the block (committed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Id of the including block (committed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub block_hash: Option<BlockId>,
    /// The receipt (committed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<ReceiptInfo>,
}

impl TxInfo {
    /// A transaction still in the mempool (`queued`: in the future queue).
    pub fn pending(tx_id: TxId, sender: Address, nonce: u64, queued: bool) -> TxInfo {
        TxInfo {
            tx_id,
            status: if queued { TxState::Queued } else { TxState::Pending },
            sender,
            nonce,
            height: None,
            index: None,
            block_hash: None,
            receipt: None,
        }
    }

    /// A committed transaction.
    pub fn committed(
        sender: Address,
        nonce: u64,
        height: u64,
        index: u32,
        block_hash: BlockId,
        receipt: &Receipt,
    ) -> TxInfo {
        TxInfo {
            tx_id: receipt.tx_id,
            status: TxState::Committed,
            sender,
            nonce,
            height: Some(height),
            index: Some(index),
            block_hash: Some(block_hash),
            receipt: Some(ReceiptInfo::from(receipt)),
        }
    }
}

/// A transaction's receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptInfo {
    /// The transaction.
    #[schema(value_type = String)]
    pub tx_id: TxId,
    /// True when applied; false when rejected or rolled back (the fee was still charged).
    pub success: bool,
    /// Failure code (failed only), stable and machine-readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Failure detail (failed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Fuel (contracts) or charged units (native).
    pub fuel_used: u64,
    /// Fee paid in the native asset, smallest units, decimal string.
    #[schema(value_type = String, example = "1000")]
    pub fee_paid: Amount,
    /// Events emitted (empty when failed).
    pub events: Vec<EventInfo>,
}

impl From<&Receipt> for ReceiptInfo {
    fn from(r: &Receipt) -> ReceiptInfo {
        let (success, code, message) = match &r.status {
            TxStatus::Success => (true, None, None),
            TxStatus::Failed { code, message } => (false, Some(code.clone()), Some(message.clone())),
        };
        ReceiptInfo {
            tx_id: r.tx_id,
            success,
            code,
            message,
            fuel_used: r.fuel_used,
            fee_paid: Amount(r.fee_paid),
            events: r
                .events
                .iter()
                .map(|e| EventInfo { emitter: e.emitter, topic: e.topic.clone(), data: e.data.clone() })
                .collect(),
        }
    }
}

/// An event in a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventInfo {
    /// The contract or system module that emitted it.
    #[schema(value_type = String)]
    pub emitter: Address,
    /// Topic, e.g. `points.expiring`.
    pub topic: String,
    /// Borsh-encoded data, hex.
    #[serde(with = "hex_serde::bytes")]
    #[schema(value_type = String)]
    pub data: Vec<u8>,
}

// ---------------------------------------------------------------------------------------------------------
// Blocks

/// A block header, field for field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HeaderInfo {
    /// Chain.
    #[schema(value_type = String)]
    pub chain_id: ChainId,
    /// Height.
    pub height: u64,
    /// Round in which it was proposed.
    pub round: u32,
    /// Parent block id.
    #[schema(value_type = String)]
    pub parent: BlockId,
    /// Proposer's time, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Proposer's consensus key.
    #[schema(value_type = String)]
    pub proposer: PublicKey,
    /// Merkle root of transaction ids.
    #[schema(value_type = String)]
    pub tx_root: Hash,
    /// State root after this block.
    #[schema(value_type = String)]
    pub state_root: Hash,
    /// Merkle root of receipt hashes.
    #[schema(value_type = String)]
    pub receipt_root: Hash,
    /// Hash of the validator set deciding this block.
    #[schema(value_type = String)]
    pub validator_set_hash: Hash,
    /// Hash of the validator set deciding the next block.
    #[schema(value_type = String)]
    pub next_validator_set_hash: Hash,
    /// Hash of the parent's commit certificate.
    #[schema(value_type = String)]
    pub last_commit_hash: Hash,
    /// Merkle root of evidence ids.
    #[schema(value_type = String)]
    pub evidence_root: Hash,
}

impl From<&Header> for HeaderInfo {
    fn from(h: &Header) -> HeaderInfo {
        HeaderInfo {
            chain_id: h.chain_id.clone(),
            height: h.height,
            round: h.round,
            parent: h.parent,
            timestamp_ms: h.timestamp_ms,
            proposer: h.proposer,
            tx_root: h.tx_root,
            state_root: h.state_root,
            receipt_root: h.receipt_root,
            validator_set_hash: h.validator_set_hash,
            next_validator_set_hash: h.next_validator_set_hash,
            last_commit_hash: h.last_commit_hash,
            evidence_root: h.evidence_root,
        }
    }
}

/// One signature of a commit certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommitSigInfo {
    /// Index in the validator set.
    pub validator_index: u16,
    /// Precommit signature, hex.
    pub signature: String,
}

/// A commit certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommitInfo {
    /// Height of the committed block.
    pub height: u64,
    /// Round of the commit.
    pub round: u32,
    /// The committed block.
    #[schema(value_type = String)]
    pub block_id: BlockId,
    /// Precommit signatures.
    pub signatures: Vec<CommitSigInfo>,
}

impl From<&CommitCertificate> for CommitInfo {
    fn from(c: &CommitCertificate) -> CommitInfo {
        CommitInfo {
            height: c.height,
            round: c.round,
            block_id: c.block_id,
            signatures: c
                .signatures
                .iter()
                .map(|s| CommitSigInfo {
                    validator_index: s.validator_index,
                    signature: s.signature.to_hex(),
                })
                .collect(),
        }
    }
}

/// `GET /block/{height}` and `GET /block/hash/{hash}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockInfo {
    /// The block id (hash of the header).
    #[schema(value_type = String)]
    pub block_hash: BlockId,
    /// The header.
    pub header: HeaderInfo,
    /// Transaction ids in execution order.
    #[schema(value_type = Vec<String>)]
    pub tx_ids: Vec<TxId>,
    /// Ids of the evidence carried.
    #[schema(value_type = Vec<String>)]
    pub evidence_ids: Vec<Hash>,
    /// The parent's commit certificate carried in this block (none at height 1).
    pub last_commit: Option<CommitInfo>,
    /// The certificate that committed this block, when the node has it.
    pub commit: Option<CommitInfo>,
}

impl BlockInfo {
    /// The view of `block`, with the certificate that committed it if known.
    pub fn from_block(block: &Block, commit: Option<&CommitCertificate>) -> BlockInfo {
        BlockInfo {
            block_hash: block.id(),
            header: HeaderInfo::from(&block.header),
            tx_ids: block.txs.iter().map(|t| t.id()).collect(),
            evidence_ids: block.evidence.iter().map(|e| e.id()).collect(),
            last_commit: block.last_commit.as_ref().map(CommitInfo::from),
            commit: commit.map(CommitInfo::from),
        }
    }
}

/// A committed block in brief (WebSocket `new_block`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockSummary {
    /// Height.
    pub height: u64,
    /// Block id.
    #[schema(value_type = String)]
    pub block_hash: BlockId,
    /// Parent id.
    #[schema(value_type = String)]
    pub parent: BlockId,
    /// Proposer's time, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Number of transactions.
    pub tx_count: u32,
    /// State root after the block.
    #[schema(value_type = String)]
    pub state_root: Hash,
    /// Proposer.
    #[schema(value_type = String)]
    pub proposer: PublicKey,
}

impl From<&Block> for BlockSummary {
    fn from(b: &Block) -> BlockSummary {
        BlockSummary {
            height: b.header.height,
            block_hash: b.id(),
            parent: b.header.parent,
            timestamp_ms: b.header.timestamp_ms,
            tx_count: u32::try_from(b.txs.len()).unwrap_or(u32::MAX),
            state_root: b.header.state_root,
            proposer: b.header.proposer,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Accounts, queries, proofs

/// One asset balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BalanceInfo {
    /// Asset id, hex.
    #[schema(value_type = String)]
    pub asset: AssetId,
    /// Ticker, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Decimals, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    /// Committed balance in smallest units, decimal string.
    #[schema(value_type = String, example = "125000")]
    pub amount: Amount,
}

/// `GET /account/{address}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountInfo {
    /// The address.
    #[schema(value_type = String)]
    pub address: Address,
    /// The account's registered signing key.
    #[schema(value_type = String)]
    pub public_key: PublicKey,
    /// Next nonce expected by committed state.
    pub nonce: u64,
    /// Next nonce counting the sender's pending transactions, when the node knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_nonce: Option<u64>,
    /// KYC tier.
    pub tier: u8,
    /// Non-zero committed balances.
    pub balances: Vec<BalanceInfo>,
    /// Roles held (e.g. `Merchant`).
    pub roles: Vec<String>,
}

/// `POST /query` body: a read-only contract call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueryRequest {
    /// Contract address (`purse1…`).
    pub contract: String,
    /// Exported method name.
    #[schema(example = "balance_of")]
    pub method: String,
    /// Borsh-encoded arguments, hex (empty when omitted).
    #[serde(default)]
    pub args: String,
}

/// `POST /query` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueryResult {
    /// Bytes the method returned, hex.
    #[serde(with = "hex_serde::bytes")]
    #[schema(value_type = String)]
    pub data: Vec<u8>,
    /// Fuel used.
    pub fuel_used: u64,
    /// Committed height the query ran against.
    pub height: u64,
}

/// One internal node on a proof path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProofLevelInfo {
    /// Child bitmap (bit `i` for nibble `i`).
    pub bitmap: u16,
    /// Hashes of the present children other than the one on the path.
    #[schema(value_type = Vec<String>)]
    pub siblings: Vec<Hash>,
}

/// Where a proof path ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProofTerminalInfo {
    /// An empty slot: the key is absent.
    Empty,
    /// A leaf (the key's own, or another key's proving absence).
    Leaf {
        /// Key hash of the leaf.
        #[schema(value_type = String)]
        key_hash: Hash,
        /// Value hash of the leaf.
        #[schema(value_type = String)]
        value_hash: Hash,
    },
}

/// A state proof decoded for reading; the authoritative form is the borsh hex in [`StateProofInfo::proof`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProofView {
    /// Internal nodes from the root down.
    pub levels: Vec<ProofLevelInfo>,
    /// Where the path ends.
    pub terminal: ProofTerminalInfo,
}

impl From<&StateProof> for ProofView {
    fn from(p: &StateProof) -> ProofView {
        ProofView {
            levels: p
                .levels
                .iter()
                .map(|l| ProofLevelInfo { bitmap: l.bitmap, siblings: l.siblings.clone() })
                .collect(),
            terminal: match &p.terminal {
                ProofTerminal::Empty => ProofTerminalInfo::Empty,
                ProofTerminal::Leaf { key_hash, value_hash } => {
                    ProofTerminalInfo::Leaf { key_hash: *key_hash, value_hash: *value_hash }
                }
            },
        }
    }
}

/// `GET /proof/{key}`: a state value (or its absence) with a Merkle proof against a committed state root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StateProofInfo {
    /// The key, hex.
    #[serde(with = "hex_serde::bytes")]
    #[schema(value_type = String)]
    pub key: Vec<u8>,
    /// The value, hex, or `null` when absent.
    #[serde(with = "hex_serde::opt_bytes")]
    #[schema(value_type = Option<String>)]
    pub value: Option<Vec<u8>>,
    /// Committed height of the state.
    pub height: u64,
    /// The state root the proof verifies against (the header's `state_root` at `height`).
    #[schema(value_type = String)]
    pub state_root: Hash,
    /// Hex of the borsh-encoded `StateProof` (verify with `StateProof::verify`).
    pub proof: String,
    /// The same proof, decoded.
    pub proof_view: ProofView,
}

impl StateProofInfo {
    /// The response for `key` holding `value` at `height` under `state_root`, proven by `proof`.
    pub fn new(
        key: Vec<u8>,
        value: Option<Vec<u8>>,
        height: u64,
        state_root: Hash,
        proof: &StateProof,
    ) -> StateProofInfo {
        StateProofInfo {
            key,
            value,
            height,
            state_root,
            proof: hex::encode(encode(proof)),
            proof_view: ProofView::from(proof),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Validators and evidence

/// One validator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ValidatorInfo {
    /// Index in the canonical order (as in commit certificates).
    pub index: u16,
    /// Consensus key.
    #[schema(value_type = String)]
    pub public_key: PublicKey,
    /// Address derived from the key.
    #[schema(value_type = String)]
    pub address: Address,
    /// Voting power.
    pub power: u64,
}

/// `GET /validators`: the set deciding the next block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ValidatorsInfo {
    /// The height whose block this set decides.
    pub height: u64,
    /// Sum of voting power.
    pub total_power: u64,
    /// Power needed for a quorum (more than two thirds).
    pub quorum_power: u64,
    /// Validators in canonical order.
    pub validators: Vec<ValidatorInfo>,
}

impl ValidatorsInfo {
    /// The view of `set`, deciding the block at `height`.
    pub fn from_set(height: u64, set: &ValidatorSet) -> ValidatorsInfo {
        ValidatorsInfo {
            height,
            total_power: set.total_power(),
            quorum_power: set.quorum_power(),
            validators: set
                .validators()
                .iter()
                .enumerate()
                .map(|(i, v)| ValidatorInfo {
                    index: u16::try_from(i).unwrap_or(u16::MAX),
                    public_key: v.public_key,
                    address: v.public_key.address(),
                    power: v.power,
                })
                .collect(),
        }
    }
}

/// One piece of misbehaviour evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EvidenceInfo {
    /// Evidence id.
    #[schema(value_type = String)]
    pub id: Hash,
    /// Kind, e.g. `duplicate_vote`.
    #[schema(example = "duplicate_vote")]
    pub kind: String,
    /// The offending validator.
    #[schema(value_type = String)]
    pub validator: PublicKey,
    /// Height of the offence.
    pub height: u64,
    /// Round of the offence.
    pub round: u32,
    /// Step: `prevote` or `precommit`.
    pub step: String,
    /// Height of the block that committed it; `null` while pending.
    pub committed_height: Option<u64>,
    /// Hex of the borsh-encoded `Evidence`.
    pub raw: String,
}

impl EvidenceInfo {
    /// The view of `evidence`, committed at `committed_height` (None: pending).
    pub fn from_evidence(evidence: &Evidence, committed_height: Option<u64>) -> EvidenceInfo {
        let Evidence::DuplicateVote { a, .. } = evidence;
        EvidenceInfo {
            id: evidence.id(),
            kind: "duplicate_vote".into(),
            validator: evidence.validator(),
            height: evidence.height(),
            round: a.vote.round,
            step: match a.vote.kind {
                VoteKind::Prevote => "prevote".into(),
                VoteKind::Precommit => "precommit".into(),
            },
            committed_height,
            raw: hex::encode(encode(evidence)),
        }
    }
}

/// `GET /evidence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EvidenceList {
    /// Pending and recently committed evidence.
    pub evidence: Vec<EvidenceInfo>,
}

// ---------------------------------------------------------------------------------------------------------
// Events pushed to subscribers

/// A contract event as pushed to WebSocket subscribers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ContractEvent {
    /// Emitting contract (or system module).
    #[schema(value_type = String)]
    pub contract: Address,
    /// Topic.
    pub topic: String,
    /// Borsh-encoded data, hex.
    #[serde(with = "hex_serde::bytes")]
    #[schema(value_type = String)]
    pub data: Vec<u8>,
    /// Height of the block.
    pub height: u64,
    /// The transaction that emitted it.
    #[schema(value_type = String)]
    pub tx_id: TxId,
    /// Position of the event within the transaction's events.
    pub index: u32,
}

/// A committed transaction's receipt as pushed to WebSocket subscribers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxReceiptEvent {
    /// The transaction.
    #[schema(value_type = String)]
    pub tx_id: TxId,
    /// Height of the including block.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    /// Id of the including block.
    #[schema(value_type = String)]
    pub block_hash: BlockId,
    /// The receipt.
    pub receipt: ReceiptInfo,
}

/// A pooled transaction that left the mempool without being included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxDroppedEvent {
    /// The transaction.
    #[schema(value_type = String)]
    pub tx_id: TxId,
    /// Stable drop code (`evicted_ttl`, `replaced`, a re-check reason, …).
    pub code: String,
    /// Human-readable detail.
    pub message: String,
}

/// What the node publishes on [`crate::NodeApi::subscribe`]. The RPC filters it per WebSocket subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEvent {
    /// A block was committed.
    NewBlock(BlockSummary),
    /// A transaction was committed with this receipt.
    TxReceipt(TxReceiptEvent),
    /// A pending transaction was dropped from the mempool.
    TxDropped(TxDroppedEvent),
    /// A committed transaction emitted an event.
    ContractEvent(ContractEvent),
}

impl NodeEvent {
    /// Every event of a committed block, in order: `NewBlock`, then per transaction its `TxReceipt` followed
    /// by its `ContractEvent`s. `receipts` are in block order (one per transaction).
    pub fn from_committed_block(block: &Block, receipts: &[Receipt]) -> Vec<NodeEvent> {
        let height = block.header.height;
        let block_hash = block.id();
        let mut out = Vec::with_capacity(1 + receipts.len());
        out.push(NodeEvent::NewBlock(BlockSummary::from(block)));
        for (i, r) in receipts.iter().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            out.push(NodeEvent::TxReceipt(TxReceiptEvent {
                tx_id: r.tx_id,
                height,
                index,
                block_hash,
                receipt: ReceiptInfo::from(r),
            }));
            for (j, e) in r.events.iter().enumerate() {
                out.push(NodeEvent::ContractEvent(ContractEvent {
                    contract: e.emitter,
                    topic: e.topic.clone(),
                    data: e.data.clone(),
                    height,
                    tx_id: r.tx_id,
                    index: u32::try_from(j).unwrap_or(u32::MAX),
                }));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use purse_types::state_proof::{state_key_hash, state_leaf_hash, state_value_hash};
    use purse_types::Event;

    #[test]
    fn amounts_are_strings_and_bytes_hex() {
        let r = Receipt {
            tx_id: Hash([7; 32]),
            status: TxStatus::Failed { code: "insufficient_funds".into(), message: "no".into() },
            fuel_used: 3,
            fee_paid: u128::MAX,
            events: vec![Event { emitter: Address([1; 32]), topic: "t".into(), data: vec![0xab, 0x01] }],
        };
        let j = serde_json::to_value(ReceiptInfo::from(&r)).unwrap();
        assert_eq!(j["fee_paid"], u128::MAX.to_string());
        assert_eq!(j["events"][0]["data"], "ab01");
        assert_eq!(j["code"], "insufficient_funds");
        assert_eq!(j["success"], false);
        assert!(j["events"][0]["emitter"].as_str().unwrap().starts_with("purse1"));
        let back: ReceiptInfo = serde_json::from_value(j).unwrap();
        assert_eq!(back, ReceiptInfo::from(&r));
    }

    #[test]
    fn proof_info_round_trips_and_verifies() {
        let kh = state_key_hash(b"k");
        let vh = state_value_hash(b"v");
        let root = state_leaf_hash(&kh, &vh);
        let proof =
            StateProof { levels: vec![], terminal: ProofTerminal::Leaf { key_hash: kh, value_hash: vh } };
        let info = StateProofInfo::new(b"k".to_vec(), Some(b"v".to_vec()), 4, root, &proof);
        let bytes = hex::decode(&info.proof).unwrap();
        let decoded: StateProof = purse_types::decode(&bytes).unwrap();
        assert_eq!(decoded.verify(&info.state_root, &info.key, info.value.as_deref()), Ok(()));
        let j = serde_json::to_value(&info).unwrap();
        assert_eq!(j["proof_view"]["terminal"]["kind"], "leaf");
        assert_eq!(j["value"], "76");
    }

    #[test]
    fn verdict_responses() {
        let r = ValidateTxResponse::new(
            Hash::ZERO,
            Verdict::Invalid { code: "insufficient_available".into(), message: "m".into() },
        );
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j["result"], "invalid");
        assert_eq!(j["code"], "insufficient_available");
        assert!(j.get("expected_nonce").is_none());
        let q =
            serde_json::to_value(ValidateTxResponse::new(Hash::ZERO, Verdict::Queued { expected_nonce: 4 }))
                .unwrap();
        assert_eq!(q["result"], "queued");
        assert_eq!(q["expected_nonce"], 4);
    }
}

/// One committed transaction of an account's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountTxInfo {
    /// Height of its block.
    pub height: u64,
    /// Its index in the block.
    pub index: u32,
    /// Its id, hex (`GET /tx/{id}` gives the receipt).
    #[schema(value_type = String)]
    pub tx_id: TxId,
}

/// A page of an account's history (`GET /account/{address}/txs`), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountTxsInfo {
    /// The account.
    #[schema(value_type = String)]
    pub address: Address,
    /// The transactions naming it (its own, and those sent to it or acting on it).
    pub txs: Vec<AccountTxInfo>,
    /// The `after` value of the next page (`height.index`), when this page is full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

mod rules;
pub use rules::*;
