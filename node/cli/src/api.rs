//! [`purse_rpc::NodeApi`] for a running node: committed data straight from storage (a [`BlockReader`] and
//! [`StateView`]s over the shared store), pool and consensus state through the engine's inbox
//! ([`Inbound::Submit`], [`Inbound::Check`], [`Inbound::Read`]), peers from the network handle.

use purse_engine::{EngineGauges, EngineRead, Inbound, InboxSender, ReadFn, ValidatorWatch};
use purse_network::NetworkHandle;
use purse_rpc::model::{
    role_name, AccountInfo, AccountTxInfo, AccountTxsInfo, Admission, AssetControlsInfo, BalanceInfo,
    BlockInfo, CodeAllowedInfo, EvidenceInfo, GovernanceActionInfo, GovernanceConfigInfo, GovernanceInfo,
    HoldingControlsInfo, NodeStatus, ParamsInfo, ProposalInfo, ProposalState, QueryResult, RolesInfo,
    ScheduledValidatorSet, StateProofInfo, TierLimitsInfo, TierLimitsQueryInfo, TxInfo, ValidatorsInfo,
    Verdict,
};
use purse_rpc::{codes, ApiError, Metrics, NodeApi, NodeEvent, SubmitError};
use purse_runtime::schema::{self, AccountRecord, AssetRecord, ProposalRecord, ProposalStatus};
use purse_runtime::{governance, permissions, BlockContext, BlockState, Params, Runtime, RuntimeError};
use purse_state::{KvStore, StateError, StateView};
use purse_storage::BlockReader;
use purse_types::{
    decode, Address, Amount, AssetId, Block, BlockId, ChainId, CommitCertificate, Hash, Header, PublicKey,
    Receipt, Role, SignedTransaction, TxId,
};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, TrySendError};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::broadcast;

use crate::sync::SyncProgress;

/// How long an RPC call waits for the engine thread to answer.
pub const ENGINE_REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// Most balances listed for one account.
pub const MAX_BALANCES: usize = 256;
/// Fuel limit of one read-only contract query.
pub const QUERY_FUEL_LIMIT: u64 = 100_000_000;
/// Receipts read per page when publishing a committed block's events.
pub const RECEIPT_PAGE: usize = 1024;

/// Most times an account query scans its balances: each attempt fails only if a block commits during it.
const ACCOUNT_SCAN_ATTEMPTS: usize = 8;

fn internal(what: &str, e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "{what}");
    ApiError::internal(format!("{what} failed; see the node log"))
}

fn rules_error(e: RuntimeError) -> ApiError {
    internal("reading the rules", e)
}

/// The RPC view of `rec`, judged for a vote in the block at `next_height`.
fn proposal_info(rec: &ProposalRecord, next_height: u64) -> ProposalInfo {
    let (status, closed_height) = match rec.status {
        ProposalStatus::Open if governance::is_expired(rec, next_height) => (ProposalState::Expired, None),
        ProposalStatus::Open => (ProposalState::Open, None),
        ProposalStatus::Passed { height } => (ProposalState::Passed, Some(height)),
        ProposalStatus::Rejected { height } => (ProposalState::Rejected, Some(height)),
    };
    ProposalInfo {
        id: rec.id,
        proposer: rec.proposer,
        action: GovernanceActionInfo::from(&rec.action),
        created_height: rec.created_height,
        deadline_height: rec.deadline_height,
        status,
        closed_height,
        approvals: u32::try_from(rec.approvals.len()).unwrap_or(u32::MAX),
        rejections: u32::try_from(rec.rejections.len()).unwrap_or(u32::MAX),
        approvers: rec.approvals.clone(),
        rejecters: rec.rejections.clone(),
    }
}

fn params_info(p: &Params) -> ParamsInfo {
    ParamsInfo {
        fee_base: Amount(p.fee_base),
        fee_per_byte: Amount(p.fee_per_byte),
        max_block_bytes: p.max_block_bytes,
        max_block_txs: p.max_block_txs,
        fee_per_kfuel: Amount(p.fee_per_kfuel),
        max_tx_fuel: p.max_tx_fuel,
        max_block_fuel: p.max_block_fuel,
    }
}

/// The node's RPC backend.
pub struct NodeService<S> {
    /// Chain id.
    pub chain_id: ChainId,
    /// The committed validator schedule.
    pub validators: Arc<ValidatorWatch>,
    /// Genesis time (block time of height 0).
    pub genesis_time_ms: u64,
    /// This node's key (reported as the validator key while it is in the validator set).
    pub node_key: PublicKey,
    /// The shared store.
    pub store: S,
    /// The engine's inbox.
    pub inbox: InboxSender,
    /// The network (peers).
    pub net: Option<NetworkHandle>,
    /// Engine gauges (round, pool size).
    pub gauges: Arc<EngineGauges>,
    /// Block sync progress.
    pub sync: Arc<SyncProgress>,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Node events for WebSocket subscribers.
    pub events: broadcast::Sender<NodeEvent>,
    /// The runtime for read-only queries (built on first use, separate from the engine's).
    pub query_runtime: OnceLock<Result<Runtime, String>>,
}

impl<S: KvStore + Clone + Send + Sync + 'static> NodeService<S> {
    fn reader(&self) -> BlockReader<S> {
        BlockReader::new(self.store.clone())
    }

    fn head(&self) -> Result<(u64, Hash, Hash), ApiError> {
        match self.reader().head() {
            Ok(Some(h)) => Ok((h.height, h.block_hash, h.state_root)),
            Ok(None) => Ok((0, Hash::ZERO, Hash::ZERO)),
            Err(e) => Err(internal("reading the head", e)),
        }
    }

    fn header_time(&self, height: u64) -> Result<u64, ApiError> {
        if height == 0 {
            return Ok(self.genesis_time_ms);
        }
        match self.reader().header(height) {
            Ok(Some(b)) => {
                decode::<Header>(&b).map(|h| h.timestamp_ms).map_err(|e| internal("decoding a header", e))
            }
            Ok(None) => Err(internal("reading a header", format!("header {height} missing"))),
            Err(e) => Err(internal("reading a header", e)),
        }
    }

    fn send(&self, inbound: Inbound) -> Result<(), ApiError> {
        match self.inbox.try_send(inbound) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                Err(ApiError::mempool_full(codes::MEMPOOL_FULL, "the node's inbox is full; retry shortly"))
            }
            Err(TrySendError::Disconnected(_)) => {
                Err(ApiError::unavailable(codes::UNAVAILABLE, "the engine is not running"))
            }
        }
    }

    /// Runs `f` on the engine thread and waits for its answer.
    fn engine_read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn EngineRead) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = sync_channel(1);
        let read: ReadFn = Box::new(move |e: &dyn EngineRead| {
            let _ = tx.send(f(e));
        });
        self.send(Inbound::Read(read)).map_err(|e| {
            if e.code == codes::MEMPOOL_FULL {
                ApiError::unavailable(codes::UNAVAILABLE, "the engine is busy; retry shortly")
            } else {
                e
            }
        })?;
        rx.recv_timeout(ENGINE_REPLY_TIMEOUT)
            .map_err(|_| ApiError::unavailable(codes::UNAVAILABLE, "the engine did not answer in time"))
    }

    fn verdict(
        &self,
        inbound: impl FnOnce(purse_engine::Reply) -> Inbound,
    ) -> Result<purse_mempool::Verdict, ApiError> {
        let (tx, rx) = sync_channel(1);
        let reply: purse_engine::Reply = Box::new(move |v: purse_mempool::Verdict| {
            let _ = tx.send(v);
        });
        self.send(inbound(reply))?;
        rx.recv_timeout(ENGINE_REPLY_TIMEOUT)
            .map_err(|_| ApiError::unavailable(codes::UNAVAILABLE, "the engine did not answer in time"))
    }

    fn block_at(&self, height: u64) -> Result<Option<Block>, ApiError> {
        if height == 0 {
            return Ok(None);
        }
        match self.reader().block(height) {
            Ok(Some(b)) => decode::<Block>(&b).map(Some).map_err(|e| internal("decoding a block", e)),
            Ok(None) => Ok(None),
            Err(e) => Err(internal("reading a block", e)),
        }
    }

    fn certificate_at(&self, height: u64) -> Result<Option<CommitCertificate>, ApiError> {
        match self.reader().certificate(height) {
            Ok(Some(b)) => decode(&b).map(Some).map_err(|e| internal("decoding a certificate", e)),
            Ok(None) => Ok(None),
            Err(e) => Err(internal("reading a certificate", e)),
        }
    }

    /// The last committed state and its height (the view's version, so both always agree).
    fn committed_state(&self) -> Result<(StateView<S>, u64), ApiError> {
        let view = StateView::latest(self.store.clone()).map_err(|e| internal("opening the state", e))?;
        let height = view.version().unwrap_or(0);
        Ok((view, height))
    }

    fn runtime(&self) -> Result<&Runtime, ApiError> {
        let r = self.query_runtime.get_or_init(|| {
            let mut config = purse_vm::VmConfig::default();
            // Queries are rare and run one at a time per request: no instance pool to reserve.
            config.cache.pooling = false;
            purse_vm::Vm::new(config).map(Runtime::new).map_err(|e| e.to_string())
        });
        r.as_ref().map_err(|e| internal("building the query VM", e))
    }

    /// Publishes the events of committed block `height` to subscribers and records it in the metrics.
    pub fn on_committed(&self, height: u64, tx_count: usize) {
        let block = match self.block_at(height) {
            Ok(Some(b)) => b,
            _ => return,
        };
        let reader = self.reader();
        let mut receipts = Vec::with_capacity(tx_count);
        while receipts.len() < tx_count {
            let from = u32::try_from(receipts.len()).unwrap_or(u32::MAX);
            let page = match reader.receipts(height, from, RECEIPT_PAGE) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, height, "reading receipts");
                    break;
                }
            };
            if page.is_empty() {
                break;
            }
            for r in page {
                match decode::<Receipt>(&r) {
                    Ok(r) => receipts.push(r),
                    Err(e) => {
                        tracing::warn!(error = %e, height, "decoding a receipt");
                        return;
                    }
                }
            }
        }
        for event in NodeEvent::from_committed_block(&block, &receipts) {
            // No subscriber is not an error; a lagging one is disconnected by the RPC.
            let _ = self.events.send(event);
        }
        let now = crate::genesis_cmd::now_ms();
        let latency = Duration::from_millis(now.saturating_sub(block.header.timestamp_ms));
        // The engine does not report execution time yet: recorded as zero.
        self.metrics.record_commit(height, tx_count as u64, latency, Duration::ZERO);
    }

    /// Refreshes the gauges of the metrics registry.
    pub fn refresh_metrics(&self) {
        if let Ok((height, _, _)) = self.head() {
            self.metrics.set_height(height);
            self.metrics.set_sync_progress(height, self.sync.target());
        }
        self.metrics.set_round(u32::try_from(self.gauges.round.load(Ordering::Relaxed)).unwrap_or(u32::MAX));
        self.metrics
            .set_mempool_size(usize::try_from(self.gauges.pool_len.load(Ordering::Relaxed)).unwrap_or(0));
        self.metrics.set_peers(self.net.as_ref().map(|n| n.peers().len()).unwrap_or(0));
    }
}

fn to_rpc_verdict(v: purse_mempool::Verdict) -> Verdict {
    match v {
        purse_mempool::Verdict::Valid => Verdict::Valid,
        purse_mempool::Verdict::Queued { expected } => Verdict::Queued { expected_nonce: expected },
        purse_mempool::Verdict::Invalid(r) => {
            Verdict::Invalid { code: r.code().to_string(), message: r.to_string() }
        }
    }
}

/// Mempool codes that mean "no room" (429) rather than "refused" (422).
const FULL_CODES: [&str; 3] = ["pool_full", "sender_full", "future_queue_full"];

impl<S: KvStore + Clone + Send + Sync + 'static> NodeApi for NodeService<S> {
    fn chain_id(&self) -> ChainId {
        self.chain_id.clone()
    }

    fn status(&self) -> Result<NodeStatus, ApiError> {
        let (height, hash, root) = self.head()?;
        Ok(NodeStatus {
            chain_id: self.chain_id.clone(),
            node_version: env!("CARGO_PKG_VERSION").to_string(),
            height,
            latest_block_hash: if height == 0 { Hash::ZERO } else { hash },
            latest_block_time_ms: self.header_time(height)?,
            latest_state_root: root,
            round: u32::try_from(self.gauges.round.load(Ordering::Relaxed)).unwrap_or(u32::MAX),
            peers: self.net.as_ref().map(|n| u32::try_from(n.peers().len()).unwrap_or(u32::MAX)).unwrap_or(0),
            mempool_size: self.gauges.pool_len.load(Ordering::Relaxed),
            syncing: self.sync.syncing(),
            validator_key: self
                .validators
                .set_at(height.saturating_add(1))
                .and_then(|s| s.find(&self.node_key).map(|_| self.node_key)),
        })
    }

    fn submit_tx(&self, tx: SignedTransaction) -> Result<Admission, SubmitError> {
        let verdict = self.verdict(|reply| Inbound::Submit { tx, reply: Some(reply) })?;
        match verdict {
            purse_mempool::Verdict::Valid => Ok(Admission::Pending),
            purse_mempool::Verdict::Queued { expected } => Ok(Admission::Queued { expected_nonce: expected }),
            purse_mempool::Verdict::Invalid(r) if FULL_CODES.contains(&r.code()) => {
                Err(ApiError::mempool_full(r.code(), r.to_string()))
            }
            purse_mempool::Verdict::Invalid(r) => Err(ApiError::rejected(r.code(), r.to_string())),
        }
    }

    fn validate_tx(&self, tx: SignedTransaction) -> Result<Verdict, ApiError> {
        self.verdict(|reply| Inbound::Check { tx, reply }).map(to_rpc_verdict)
    }

    fn tx(&self, id: &TxId) -> Result<Option<TxInfo>, ApiError> {
        match self.reader().receipt(id) {
            Ok(Some((loc, bytes))) => {
                let receipt: Receipt = decode(&bytes).map_err(|e| internal("decoding a receipt", e))?;
                let Some(block) = self.block_at(loc.height)? else {
                    return Err(internal("reading a block", format!("block {} missing", loc.height)));
                };
                let Some(tx) = block.txs.get(loc.index as usize) else {
                    return Err(internal("reading a transaction", "index outside its block"));
                };
                return Ok(Some(TxInfo::committed(
                    tx.tx.sender,
                    tx.tx.nonce,
                    loc.height,
                    loc.index,
                    block.id(),
                    &receipt,
                )));
            }
            Ok(None) => {}
            Err(e) => return Err(internal("reading a receipt", e)),
        }
        let id = *id;
        let pending = self.engine_read(move |e| e.pool_tx(&id))?;
        Ok(pending.map(|p| TxInfo::pending(id, p.sender, p.nonce, p.queued)))
    }

    fn block_by_height(&self, height: u64) -> Result<Option<BlockInfo>, ApiError> {
        let Some(block) = self.block_at(height)? else { return Ok(None) };
        let cert = self.certificate_at(height)?;
        Ok(Some(BlockInfo::from_block(&block, cert.as_ref())))
    }

    fn block_by_hash(&self, hash: &BlockId) -> Result<Option<BlockInfo>, ApiError> {
        match self.reader().height_of(hash) {
            Ok(Some(h)) => self.block_by_height(h),
            Ok(None) => Ok(None),
            Err(e) => Err(internal("reading the block index", e)),
        }
    }

    fn account(&self, address: &Address) -> Result<Option<AccountInfo>, ApiError> {
        let prefix = schema::balances_prefix(address);
        // A scan reads the latest version only: a block committed during it fails it, and the read starts
        // again on the new latest version. Everything else is read from the version the scan saw.
        let mut attempts = 0;
        let (view, entries) = loop {
            attempts += 1;
            let view = StateView::latest(self.store.clone()).map_err(|e| internal("opening the state", e))?;
            match view.scan(&prefix, &[], MAX_BALANCES) {
                Ok(entries) => break (view, entries),
                Err(StateError::ScanNotLatest { .. }) if attempts < ACCOUNT_SCAN_ATTEMPTS => continue,
                Err(e) => return Err(internal("listing balances", e)),
            }
        };
        let get = |k: &[u8]| view.get(k).map_err(|e| internal("reading the state", e));
        let Some(bytes) = get(&schema::account_key(address))? else { return Ok(None) };
        let record: AccountRecord = decode(&bytes).map_err(|e| internal("decoding an account", e))?;
        let mut balances = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let Ok(asset) = <[u8; 32]>::try_from(&k[prefix.len().min(k.len())..]) else { continue };
            let asset = AssetId(asset);
            let amount: u128 = decode(&v).map_err(|e| internal("decoding a balance", e))?;
            let info = match get(&schema::asset_key(&asset))? {
                Some(b) => decode::<AssetRecord>(&b).ok().map(|r| r.info),
                None => None,
            };
            balances.push(BalanceInfo {
                asset,
                symbol: info.as_ref().map(|i| i.symbol.clone()),
                decimals: info.as_ref().map(|i| i.decimals),
                amount: purse_types::Amount(amount),
            });
        }
        let mut roles = Vec::new();
        for r in Role::ALL {
            if get(&schema::role_key(r, address))?.is_some() {
                roles.push(format!("{r:?}"));
            }
        }
        let addr = *address;
        let pending_nonce = self.engine_read(move |e| e.next_nonce(&addr)).ok().flatten();
        Ok(Some(AccountInfo {
            address: *address,
            public_key: record.public_key,
            nonce: record.nonce,
            pending_nonce,
            tier: record.tier,
            balances,
            roles,
        }))
    }

    fn query(&self, contract: &Address, method: &str, args: &[u8]) -> Result<QueryResult, ApiError> {
        let (height, _, _) = self.head()?;
        let time_ms = self.header_time(height)?;
        let view = StateView::latest(self.store.clone()).map_err(|e| internal("opening the state", e))?;
        let ctx = BlockContext { chain_id: self.chain_id.clone(), height, time_ms };
        let out = self.runtime()?.query(view, &ctx, *contract, method, args.to_vec(), QUERY_FUEL_LIMIT);
        match out.result {
            Ok(data) => Ok(QueryResult { data, fuel_used: out.fuel_used, height }),
            Err(purse_vm::ExecError::ContractNotFound(a)) => {
                Err(ApiError::not_found("contract_not_found", format!("no contract at {a}")))
            }
            Err(e) if e.is_fatal() => Err(internal("running a query", e)),
            Err(e) => Err(ApiError::rejected(e.code(), e.to_string())),
        }
    }

    fn proof(&self, key: &[u8]) -> Result<StateProofInfo, ApiError> {
        let k = key.to_vec();
        let answer = self.engine_read(move |e| e.proof(&k))?.map_err(|e| internal("building a proof", e))?;
        Ok(StateProofInfo::new(key.to_vec(), answer.value, answer.height, answer.root, &answer.proof))
    }

    fn validators(&self) -> Result<ValidatorsInfo, ApiError> {
        let (height, _, _) = self.head()?;
        let set = self.validators.set_at(height + 1).ok_or_else(|| {
            internal("reading the validator set", format!("none for height {}", height + 1))
        })?;
        Ok(ValidatorsInfo::from_set(height + 1, &set))
    }

    fn evidence(&self) -> Result<Vec<EvidenceInfo>, ApiError> {
        let pending = self.engine_read(|e| e.evidence())?;
        Ok(pending.iter().map(|e| EvidenceInfo::from_evidence(e, None)).collect())
    }

    fn governance(&self) -> Result<GovernanceInfo, ApiError> {
        let (view, height) = self.committed_state()?;
        let config = governance::governance_config(&view).map_err(rules_error)?;
        let params = Params::read(&BlockState::new(&view)).map_err(rules_error)?;
        let schedule = governance::validator_schedule(&view).map_err(rules_error)?;
        let mut role_admins = BTreeMap::new();
        for role in Role::ALL {
            role_admins.insert(role_name(role), permissions::role_admin(&view, role).map_err(rules_error)?);
        }
        let next = height.saturating_add(1);
        let open = governance::open_proposals(&view, next).map_err(rules_error)?;
        Ok(GovernanceInfo {
            height,
            governance: config.map(|c| GovernanceConfigInfo {
                keys: c.keys,
                threshold: c.threshold,
                voting_period: c.voting_period,
            }),
            open_deployment: governance::deployment_open(&view).map_err(rules_error)?,
            params: params_info(&params),
            validator_schedule: schedule
                .map(|s| s.entries.iter().map(|(h, set)| ScheduledValidatorSet::from_set(*h, set)).collect())
                .unwrap_or_default(),
            role_admins,
            open_proposals: open.iter().map(|p| proposal_info(p, next)).collect(),
        })
    }

    fn proposal(&self, id: &Hash) -> Result<Option<ProposalInfo>, ApiError> {
        let (view, height) = self.committed_state()?;
        let rec = governance::proposal(&view, id).map_err(rules_error)?;
        Ok(rec.map(|r| proposal_info(&r, height.saturating_add(1))))
    }

    fn account_txs(
        &self,
        reader: &PublicKey,
        address: &Address,
        after: Option<(u64, u32)>,
        limit: usize,
    ) -> Result<AccountTxsInfo, ApiError> {
        let (view, _) = self.committed_state()?;
        let st = purse_runtime::BlockState::new(&view);
        let own = native_account(&st, address)?.is_some_and(|a| a.public_key == *reader);
        let auditor = native_account(&st, &reader.address())?.is_some_and(|a| a.public_key == *reader)
            && purse_runtime::native::has_role(&st, Role::Auditor, &reader.address())
                .map_err(|e| internal("reading roles", e))?;
        if !own && !auditor {
            return Err(ApiError::forbidden(format!(
                "{} may not read {address}'s history: only the account itself or an auditor may",
                reader.address()
            )));
        }
        let txs =
            self.reader().account_txs(address, after, limit).map_err(|e| internal("reading history", e))?;
        let next =
            (txs.len() == limit).then(|| txs.last().map(|t| format!("{}.{}", t.height, t.index))).flatten();
        Ok(AccountTxsInfo {
            address: *address,
            txs: txs
                .iter()
                .map(|t| AccountTxInfo { height: t.height, index: t.index, tx_id: t.tx_id })
                .collect(),
            next,
        })
    }

    fn roles(&self, address: &Address) -> Result<RolesInfo, ApiError> {
        let (view, height) = self.committed_state()?;
        let roles = permissions::roles_of(&view, address).map_err(rules_error)?;
        let mut administers = Vec::new();
        for role in Role::ALL {
            if permissions::role_admin(&view, role).map_err(rules_error)? == Some(*address) {
                administers.push(role_name(role));
            }
        }
        Ok(RolesInfo {
            address: *address,
            height,
            roles: roles.into_iter().map(role_name).collect(),
            administers,
        })
    }

    fn asset_controls(
        &self,
        asset: &AssetId,
        holder: Option<&Address>,
    ) -> Result<Option<AssetControlsInfo>, ApiError> {
        let (view, height) = self.committed_state()?;
        let Some(c) = permissions::asset_controls(&view, asset).map_err(rules_error)? else {
            return Ok(None);
        };
        let holding = match holder {
            Some(h) => {
                let rec = permissions::holding_controls(&view, asset, h).map_err(rules_error)?;
                Some(HoldingControlsInfo { holder: *h, authorized: rec.authorized, frozen: rec.frozen })
            }
            None => None,
        };
        Ok(Some(AssetControlsInfo {
            asset: *asset,
            height,
            issuer: c.issuer,
            authorization_required: c.flags.authorization_required,
            freezable: c.flags.freezable,
            clawback_enabled: c.flags.clawback_enabled,
            frozen: c.frozen,
            holding,
        }))
    }

    fn tier_limits(&self, tier: u8, asset: &AssetId) -> Result<Option<TierLimitsQueryInfo>, ApiError> {
        let (view, height) = self.committed_state()?;
        if permissions::asset_controls(&view, asset).map_err(rules_error)?.is_none() {
            return Ok(None);
        }
        let limits = permissions::tier_limits(&view, tier, asset).map_err(rules_error)?;
        Ok(Some(TierLimitsQueryInfo {
            tier,
            asset: *asset,
            height,
            limits: limits.as_ref().map(TierLimitsInfo::from),
        }))
    }

    fn code_allowed(&self, code_hash: &Hash) -> Result<CodeAllowedInfo, ApiError> {
        let (view, height) = self.committed_state()?;
        Ok(CodeAllowedInfo {
            code_hash: *code_hash,
            height,
            allowed: governance::code_allowed(&view, code_hash).map_err(rules_error)?,
            open_deployment: governance::deployment_open(&view).map_err(rules_error)?,
        })
    }

    fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }
}

fn native_account<R: purse_runtime::StateRead + ?Sized>(
    st: &purse_runtime::BlockState<'_, R>,
    address: &Address,
) -> Result<Option<AccountRecord>, ApiError> {
    purse_runtime::native::account(st, address).map_err(|e| internal("reading an account", e))
}
