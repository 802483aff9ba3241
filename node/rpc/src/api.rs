//! [`NodeApi`]: everything the RPC needs from a node. The node implements it; the RPC never sees the engine,
//! storage, mempool or network directly.

use crate::errors::{ApiError, SubmitError};
use crate::metrics::Metrics;
use crate::model::{
    AccountInfo, AccountTxsInfo, Admission, AssetControlsInfo, BlockInfo, CodeAllowedInfo, EvidenceInfo,
    GovernanceInfo, NodeEvent, NodeStatus, ProposalInfo, QueryResult, Readiness, RolesInfo, StateProofInfo,
    TierLimitsQueryInfo, TxInfo, ValidatorsInfo, Verdict,
};
use purse_types::{Address, AssetId, BlockId, ChainId, Hash, PublicKey, SignedTransaction, TxId};
use tokio::sync::broadcast;

/// What a node offers to its RPC server.
///
/// Every method except [`subscribe`](NodeApi::subscribe) and [`metrics`](NodeApi::metrics) is called on
/// tokio's blocking thread pool (`spawn_blocking`), so an implementation may take locks, read storage or run
/// the VM synchronously. A panic inside a method becomes a `500 internal` answer, never a crash of the
/// server, but implementations should return [`ApiError`]s instead.
///
/// Errors: return `Ok(None)` for "does not exist" (the RPC answers 404 with its own code) and an [`ApiError`]
/// for anything else — [`ApiError::internal`] for storage failures, [`ApiError::unavailable`] while the node
/// cannot answer (e.g. still replaying its WAL).
pub trait NodeApi: Send + Sync + 'static {
    /// The node's view of the chain (`GET /status`).
    fn status(&self) -> Result<NodeStatus, ApiError>;

    /// The chain id (cheap, no I/O: what signed requests are bound to).
    fn chain_id(&self) -> ChainId;

    /// Whether the node should receive traffic (`GET /ready`). The default says not ready while
    /// [`NodeStatus::syncing`] is set or the status cannot be read.
    fn readiness(&self) -> Readiness {
        match self.status() {
            Ok(s) if s.syncing => Readiness { ready: false, reasons: vec!["syncing".into()] },
            Ok(_) => Readiness { ready: true, reasons: Vec::new() },
            Err(e) => Readiness { ready: false, reasons: vec![e.code] },
        }
    }

    /// Submits a decoded, size-checked transaction to the mempool (`POST /tx`). Map the mempool's
    /// `Verdict::Invalid(reason)` to [`ApiError::rejected`]`(reason.code(), reason.to_string())`, and
    /// `pool_full`, `sender_full` and `future_queue_full` to [`ApiError::mempool_full`] (HTTP 429).
    fn submit_tx(&self, tx: SignedTransaction) -> Result<Admission, SubmitError>;

    /// Judges a transaction against committed state plus pending transactions without admitting it
    /// (`POST /tx/validate`, issue 8's "output result"). A rejection is `Ok(Verdict::Invalid { .. })`; `Err`
    /// only when the node could not judge.
    fn validate_tx(&self, tx: SignedTransaction) -> Result<Verdict, ApiError>;

    /// A pending or committed transaction (`GET /tx/{id}`).
    fn tx(&self, id: &TxId) -> Result<Option<TxInfo>, ApiError>;

    /// A committed block by height (`GET /block/{height}`).
    fn block_by_height(&self, height: u64) -> Result<Option<BlockInfo>, ApiError>;

    /// A committed block by id (`GET /block/hash/{hash}`).
    fn block_by_hash(&self, hash: &BlockId) -> Result<Option<BlockInfo>, ApiError>;

    /// An account's committed nonce, tier, roles and balances (`GET /account/{address}`).
    fn account(&self, address: &Address) -> Result<Option<AccountInfo>, ApiError>;

    /// A read-only contract call against committed state (`POST /query`). An unknown contract is
    /// [`ApiError::not_found`]`("contract_not_found", …)`; a trap, write attempt or fuel exhaustion is
    /// [`ApiError::rejected`] with the VM's code.
    fn query(&self, contract: &Address, method: &str, args: &[u8]) -> Result<QueryResult, ApiError>;

    /// A raw state value (or its absence) with a Merkle proof against the last committed state root
    /// (`GET /proof/{key}`); build it with [`StateProofInfo::new`].
    fn proof(&self, key: &[u8]) -> Result<StateProofInfo, ApiError>;

    /// The validator set deciding the next block (`GET /validators`).
    fn validators(&self) -> Result<ValidatorsInfo, ApiError>;

    /// Pending and recently committed misbehaviour evidence (`GET /evidence`).
    fn evidence(&self) -> Result<Vec<EvidenceInfo>, ApiError>;

    /// The chain's current rules from committed state (`GET /governance`): governance keys, threshold and
    /// voting period (`None` without governance), deployment policy, chain parameters, the validator schedule,
    /// every role's administrator, and the proposals that accept votes in the next block.
    fn governance(&self) -> Result<GovernanceInfo, ApiError>;

    /// A governance proposal by id, whatever its status (`GET /proposal/{id}`). `status` is `expired` for an
    /// open proposal that can no longer take votes in the next block.
    fn proposal(&self, id: &Hash) -> Result<Option<ProposalInfo>, ApiError>;

    /// Up to `limit` committed transactions naming `address`, oldest first, after `after` (`(height, index)`,
    /// exclusive) — if `reader` (a request signer, already verified) may read them: the account itself (its
    /// registered key) or an account holding the auditor role; otherwise a 403.
    fn account_txs(
        &self,
        reader: &PublicKey,
        address: &Address,
        after: Option<(u64, u32)>,
        limit: usize,
    ) -> Result<AccountTxsInfo, ApiError>;

    /// The roles `address` holds and those it administers (`GET /roles/{address}`); empty lists for an
    /// address without any.
    fn roles(&self, address: &Address) -> Result<RolesInfo, ApiError>;

    /// An asset's flags and global freeze, with the controls on `holder`'s holding when given
    /// (`GET /asset/{id}/controls`). `None` when the asset does not exist.
    fn asset_controls(
        &self,
        asset: &AssetId,
        holder: Option<&Address>,
    ) -> Result<Option<AssetControlsInfo>, ApiError>;

    /// The limits of `tier` in `asset` (`GET /tier/{tier}/limits/{asset}`); `limits: None` when the tier is
    /// unlimited in it. `None` when the asset does not exist.
    fn tier_limits(&self, tier: u8, asset: &AssetId) -> Result<Option<TierLimitsQueryInfo>, ApiError>;

    /// Whether `code_hash` is on the deployment allow-list, and whether deployment is open
    /// (`GET /code/{hash}/allowed`).
    fn code_allowed(&self, code_hash: &Hash) -> Result<CodeAllowedInfo, ApiError>;

    /// The node's metrics registry (`GET /metrics`); the RPC records its own request counters in it too.
    fn metrics(&self) -> &Metrics;

    /// A new receiver of the node's event stream (one per WebSocket connection). The node publishes with
    /// `broadcast::Sender::send`, which never waits: a receiver that falls behind the channel's capacity sees
    /// `Lagged`, and the RPC then disconnects that client. [`NodeEvent::from_committed_block`] builds the
    /// events of a committed block.
    fn subscribe(&self) -> broadcast::Receiver<NodeEvent>;
}
