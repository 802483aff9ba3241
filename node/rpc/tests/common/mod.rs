//! A `MockNode` implementing `NodeApi` over in-memory data, and helpers to run a server on 127.0.0.1:0.

#![allow(dead_code)]

use purse_rpc::model::{
    role_name, AccountInfo, AccountTxInfo, AccountTxsInfo, Admission, AssetControlsInfo, BalanceInfo,
    BlockInfo, CodeAllowedInfo, EvidenceInfo, GovernanceActionInfo, GovernanceConfigInfo, GovernanceInfo,
    HoldingControlsInfo, NodeStatus, ParamsInfo, ProposalInfo, ProposalState, QueryResult, RolesInfo,
    ScheduledValidatorSet, StateProofInfo, TierLimitsInfo, TierLimitsQueryInfo, TxDroppedEvent, TxInfo,
    ValidatorsInfo, Verdict,
};
use purse_rpc::{ApiError, Metrics, NodeApi, NodeEvent, RpcConfig, RpcError, SubmitError};
use purse_types::state_proof::{state_key_hash, state_leaf_hash, state_value_hash, ProofTerminal};
use purse_types::{
    encode, Address, Amount, AssetId, Block, BlockId, ChainId, Coin, Domain, Event, Evidence,
    GovernanceAction, Hash, Header, Keypair, Payload, PublicKey, Receipt, Role, SignedTransaction,
    StateProof, TierLimits, Transaction, TxId, TxStatus, Validator, ValidatorSet, ValidatorUpdate, Vote,
    VoteKind,
};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

pub const CHAIN: &str = "purse-test";
/// The one key in the mock's state tree.
pub const PROOF_KEY: &[u8] = b"a/known";
pub const PROOF_VALUE: &[u8] = b"value-1";

pub fn chain() -> ChainId {
    ChainId::new(CHAIN).unwrap()
}

pub fn alice() -> Keypair {
    Keypair::from_seed(&[1; 32])
}

pub fn bob() -> Keypair {
    Keypair::from_seed(&[2; 32])
}

/// The contract the mock answers queries for.
/// Holds the auditor role in the mock.
pub fn auditor() -> Keypair {
    Keypair::from_seed(&[0xAD; 32])
}

/// The id of alice's history entry at `height` in the mock.
pub fn history_tx(height: u64) -> TxId {
    Hash::digest(Domain::TxId, &height.to_le_bytes())
}

pub fn contract() -> Address {
    Address::contract(&alice().public().address(), 0)
}

/// A signed transfer from alice with `nonce`.
pub fn transfer(nonce: u64) -> SignedTransaction {
    Transaction {
        chain_id: chain(),
        sender: alice().public().address(),
        nonce,
        expiry_height: 1_000,
        max_fee: Amount(10),
        payload: Payload::Transfer {
            to: bob().public().address(),
            coin: Coin { asset: AssetId::native(), amount: Amount(5) },
        },
    }
    .sign(&alice())
}

/// A transaction whose debit exceeds alice's balance (the mock rejects amounts above 1,000).
pub fn overdraft(nonce: u64) -> SignedTransaction {
    Transaction {
        chain_id: chain(),
        sender: alice().public().address(),
        nonce,
        expiry_height: 1_000,
        max_fee: Amount(10),
        payload: Payload::Transfer {
            to: bob().public().address(),
            coin: Coin { asset: AssetId::native(), amount: Amount(1_000_000) },
        },
    }
    .sign(&alice())
}

pub fn tx_hex(tx: &SignedTransaction) -> String {
    hex::encode(encode(tx))
}

/// The mock's rules (`GET /governance` and friends). Governance keys: alice and bob, threshold 2, voting
/// period 100. `Merchant`'s administrator is bob. Alice holds `Merchant`.
pub const VOTING_PERIOD: u64 = 100;
/// The open proposal: alice proposes granting bob `Merchant`, created at 1, approved by alice only.
pub const OPEN_PROPOSAL: Hash = Hash([0x51; 32]);
/// A passed proposal (tier 1 limits for [`rules_asset`]), passed at height 5.
pub const PASSED_PROPOSAL: Hash = Hash([0x52; 32]);
/// The one allow-listed code hash.
pub const ALLOWED_CODE: Hash = Hash([0xc0; 32]);
/// Tier 1's limits in [`rules_asset`].
pub const TIER1_PER_TX: u128 = 100_000;
pub const TIER1_DAILY: u128 = 500_000;

/// An asset issued by alice: authorization required, freezable, not clawback-enabled. Bob is authorized.
pub fn rules_asset() -> AssetId {
    AssetId::new(&alice().public().address(), "EUR")
}

fn tier1_limits() -> TierLimits {
    TierLimits { per_tx: Amount(TIER1_PER_TX), daily: Amount(TIER1_DAILY) }
}

fn open_proposal() -> ProposalInfo {
    let action = GovernanceAction::GrantRole { account: bob().public().address(), role: Role::Merchant };
    ProposalInfo {
        id: OPEN_PROPOSAL,
        proposer: alice().public().address(),
        action: GovernanceActionInfo::from(&action),
        created_height: 1,
        deadline_height: 1 + VOTING_PERIOD,
        status: ProposalState::Open,
        closed_height: None,
        approvals: 1,
        rejections: 0,
        approvers: vec![alice().public()],
        rejecters: vec![],
    }
}

fn passed_proposal() -> ProposalInfo {
    let action =
        GovernanceAction::SetTierLimits { tier: 1, asset: rules_asset(), limits: Some(tier1_limits()) };
    ProposalInfo {
        id: PASSED_PROPOSAL,
        proposer: bob().public().address(),
        action: GovernanceActionInfo::from(&action),
        created_height: 4,
        deadline_height: 4 + VOTING_PERIOD,
        status: ProposalState::Passed,
        closed_height: Some(5),
        approvals: 2,
        rejections: 0,
        approvers: vec![bob().public(), alice().public()],
        rejecters: vec![],
    }
}

fn validator_keys() -> Vec<Keypair> {
    (10u8..14).map(|i| Keypair::from_seed(&[i; 32])).collect()
}

fn validator_set() -> ValidatorSet {
    ValidatorSet::new(
        validator_keys().iter().map(|k| Validator { public_key: k.public(), power: 10 }).collect(),
    )
    .unwrap()
}

fn evidence() -> Evidence {
    let key = &validator_keys()[0];
    let vote = |b: u8| Vote {
        height: 3,
        round: 0,
        kind: VoteKind::Prevote,
        block_id: Some(Hash([b; 32])),
        validator: key.public(),
    };
    Evidence::DuplicateVote { a: vote(1).sign(&chain(), key), b: vote(2).sign(&chain(), key) }
}

#[derive(Default)]
struct State {
    blocks: Vec<Block>,
    txs: HashMap<TxId, TxInfo>,
    /// Next nonce per sender, counting pending.
    pending_nonce: HashMap<Address, u64>,
    committed_nonce: HashMap<Address, u64>,
    pending: Vec<SignedTransaction>,
}

/// An in-memory node.
pub struct MockNode {
    state: Mutex<State>,
    events: broadcast::Sender<NodeEvent>,
    metrics: Metrics,
    pub mempool_full: AtomicBool,
    pub syncing: AtomicBool,
    pub panic_in_evidence: AtomicBool,
    pub fail_status: AtomicBool,
    /// The chain has no governance (`GET /governance` answers `"governance": null`).
    pub no_governance: AtomicBool,
    /// Milliseconds `status` sleeps (to test the request deadline).
    pub status_delay_ms: std::sync::atomic::AtomicU64,
}

impl MockNode {
    pub fn new() -> Arc<MockNode> {
        MockNode::with_event_capacity(1024)
    }

    pub fn with_event_capacity(capacity: usize) -> Arc<MockNode> {
        let (events, _) = broadcast::channel(capacity);
        Arc::new(MockNode {
            state: Mutex::new(State::default()),
            events,
            metrics: Metrics::new(),
            mempool_full: AtomicBool::new(false),
            syncing: AtomicBool::new(false),
            panic_in_evidence: AtomicBool::new(false),
            fail_status: AtomicBool::new(false),
            no_governance: AtomicBool::new(false),
            status_delay_ms: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub fn height(&self) -> u64 {
        self.state.lock().unwrap().blocks.len() as u64
    }

    pub fn block(&self, height: u64) -> Block {
        self.state.lock().unwrap().blocks[height as usize - 1].clone()
    }

    /// Publishes an arbitrary event (never waits).
    pub fn publish(&self, event: NodeEvent) -> usize {
        self.events.send(event).unwrap_or(0)
    }

    pub fn subscribers(&self) -> usize {
        self.events.receiver_count()
    }

    /// Commits the pending transactions (each emitting one `transfer` event from the contract) in a new block
    /// and publishes its events. Returns the block.
    pub fn commit(&self) -> Block {
        let mut st = self.state.lock().unwrap();
        let txs = std::mem::take(&mut st.pending);
        let height = st.blocks.len() as u64 + 1;
        let parent = st.blocks.last().map(|b| b.id()).unwrap_or(Hash::ZERO);
        let header = Header {
            chain_id: chain(),
            height,
            round: 0,
            parent,
            timestamp_ms: 1_700_000_000_000 + height,
            proposer: validator_keys()[0].public(),
            tx_root: Block::compute_tx_root(&txs),
            state_root: Hash([height as u8; 32]),
            receipt_root: Hash::ZERO,
            validator_set_hash: Hash::ZERO,
            next_validator_set_hash: Hash::ZERO,
            last_commit_hash: Hash::ZERO,
            evidence_root: Block::compute_evidence_root(&[]),
        };
        let block = Block { header, txs: txs.clone(), last_commit: None, evidence: vec![] };
        let receipts: Vec<Receipt> = txs
            .iter()
            .map(|t| Receipt {
                tx_id: t.id(),
                status: TxStatus::Success,
                fuel_used: 1,
                fee_paid: 10,
                events: vec![Event { emitter: contract(), topic: "transfer".into(), data: vec![1, 2, 3] }],
            })
            .collect();
        for (i, (t, r)) in txs.iter().zip(&receipts).enumerate() {
            let info = TxInfo::committed(t.tx.sender, t.tx.nonce, height, i as u32, block.id(), r);
            st.txs.insert(t.id(), info);
            let n = st.committed_nonce.entry(t.tx.sender).or_insert(0);
            *n = (*n).max(t.tx.nonce + 1);
        }
        st.blocks.push(block.clone());
        drop(st);
        self.metrics.record_commit(height, txs.len() as u64, Default::default(), Default::default());
        for ev in NodeEvent::from_committed_block(&block, &receipts) {
            let _ = self.events.send(ev);
        }
        block
    }

    /// Drops a pending transaction and publishes `TxDropped`.
    pub fn drop_pending(&self, id: TxId) {
        let mut st = self.state.lock().unwrap();
        st.pending.retain(|t| t.id() != id);
        st.txs.remove(&id);
        drop(st);
        let _ = self.events.send(NodeEvent::TxDropped(TxDroppedEvent {
            tx_id: id,
            code: "evicted_ttl".into(),
            message: "stayed too long".into(),
        }));
    }

    fn judge(&self, st: &State, tx: &SignedTransaction) -> Verdict {
        if tx.verify_signature().is_err() {
            return Verdict::Invalid {
                code: "bad_signature".into(),
                message: "signature does not verify".into(),
            };
        }
        if tx.tx.chain_id != chain() {
            return Verdict::Invalid { code: "wrong_chain".into(), message: "wrong chain".into() };
        }
        if let Payload::Transfer { coin, .. } = &tx.tx.payload {
            if coin.amount.0 > 1_000 {
                return Verdict::Invalid {
                    code: "insufficient_available".into(),
                    message: format!("available 1000, needed {}", coin.amount.0 + 10),
                };
            }
        }
        let expected = st.pending_nonce.get(&tx.tx.sender).copied().unwrap_or(0);
        if tx.tx.nonce < expected {
            return Verdict::Invalid {
                code: "nonce_too_low".into(),
                message: format!("nonce {} is below {expected}", tx.tx.nonce),
            };
        }
        if tx.tx.nonce > expected {
            return Verdict::Queued { expected_nonce: expected };
        }
        Verdict::Valid
    }
}

impl NodeApi for MockNode {
    fn chain_id(&self) -> ChainId {
        chain()
    }

    fn status(&self) -> Result<NodeStatus, ApiError> {
        let delay = self.status_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            std::thread::sleep(std::time::Duration::from_millis(delay));
        }
        if self.fail_status.load(Ordering::SeqCst) {
            return Err(ApiError::internal("storage unreadable"));
        }
        let st = self.state.lock().unwrap();
        let last = st.blocks.last();
        Ok(NodeStatus {
            chain_id: chain(),
            node_version: "test".into(),
            height: st.blocks.len() as u64,
            latest_block_hash: last.map(|b| b.id()).unwrap_or(Hash::ZERO),
            latest_block_time_ms: last.map(|b| b.header.timestamp_ms).unwrap_or(0),
            latest_state_root: last.map(|b| b.header.state_root).unwrap_or(Hash::ZERO),
            round: 0,
            peers: 3,
            mempool_size: st.pending.len() as u64,
            syncing: self.syncing.load(Ordering::SeqCst),
            validator_key: Some(validator_keys()[0].public()),
        })
    }

    fn submit_tx(&self, tx: SignedTransaction) -> Result<Admission, SubmitError> {
        if self.mempool_full.load(Ordering::SeqCst) {
            return Err(ApiError::mempool_full("pool_full", "the pool is full"));
        }
        let mut st = self.state.lock().unwrap();
        match self.judge(&st, &tx) {
            Verdict::Invalid { code, message } => Err(ApiError::rejected(code, message)),
            Verdict::Queued { expected_nonce } => {
                st.txs.insert(tx.id(), TxInfo::pending(tx.id(), tx.tx.sender, tx.tx.nonce, true));
                Ok(Admission::Queued { expected_nonce })
            }
            Verdict::Valid => {
                st.txs.insert(tx.id(), TxInfo::pending(tx.id(), tx.tx.sender, tx.tx.nonce, false));
                st.pending_nonce.insert(tx.tx.sender, tx.tx.nonce + 1);
                st.pending.push(tx);
                Ok(Admission::Pending)
            }
        }
    }

    fn validate_tx(&self, tx: SignedTransaction) -> Result<Verdict, ApiError> {
        let st = self.state.lock().unwrap();
        Ok(self.judge(&st, &tx))
    }

    fn tx(&self, id: &TxId) -> Result<Option<TxInfo>, ApiError> {
        Ok(self.state.lock().unwrap().txs.get(id).cloned())
    }

    fn block_by_height(&self, height: u64) -> Result<Option<BlockInfo>, ApiError> {
        let st = self.state.lock().unwrap();
        Ok(height
            .checked_sub(1)
            .and_then(|i| st.blocks.get(i as usize))
            .map(|b| BlockInfo::from_block(b, None)))
    }

    fn block_by_hash(&self, hash: &BlockId) -> Result<Option<BlockInfo>, ApiError> {
        let st = self.state.lock().unwrap();
        Ok(st.blocks.iter().find(|b| b.id() == *hash).map(|b| BlockInfo::from_block(b, None)))
    }

    fn account(&self, address: &Address) -> Result<Option<AccountInfo>, ApiError> {
        if *address != alice().public().address() {
            return Ok(None);
        }
        let st = self.state.lock().unwrap();
        Ok(Some(AccountInfo {
            address: *address,
            public_key: alice().public(),
            nonce: st.committed_nonce.get(address).copied().unwrap_or(0),
            pending_nonce: st.pending_nonce.get(address).copied(),
            tier: 2,
            balances: vec![BalanceInfo {
                asset: AssetId::native(),
                symbol: Some("PRS".into()),
                decimals: Some(6),
                amount: Amount(u128::MAX),
            }],
            roles: vec!["Merchant".into()],
        }))
    }

    fn query(&self, contract_addr: &Address, method: &str, args: &[u8]) -> Result<QueryResult, ApiError> {
        if *contract_addr != contract() {
            return Err(ApiError::not_found("contract_not_found", "no contract there"));
        }
        if method == "trap" {
            return Err(ApiError::rejected("trap", "the contract trapped"));
        }
        let mut data = args.to_vec();
        data.reverse();
        Ok(QueryResult { data, fuel_used: 7, height: self.height() })
    }

    fn proof(&self, key: &[u8]) -> Result<StateProofInfo, ApiError> {
        let kh = state_key_hash(PROOF_KEY);
        let vh = state_value_hash(PROOF_VALUE);
        let root = state_leaf_hash(&kh, &vh);
        let proof =
            StateProof { levels: vec![], terminal: ProofTerminal::Leaf { key_hash: kh, value_hash: vh } };
        let value = (key == PROOF_KEY).then(|| PROOF_VALUE.to_vec());
        Ok(StateProofInfo::new(key.to_vec(), value, self.height(), root, &proof))
    }

    fn validators(&self) -> Result<ValidatorsInfo, ApiError> {
        Ok(ValidatorsInfo::from_set(self.height() + 1, &validator_set()))
    }

    fn evidence(&self) -> Result<Vec<EvidenceInfo>, ApiError> {
        if self.panic_in_evidence.load(Ordering::SeqCst) {
            panic!("secret internal detail");
        }
        Ok(vec![EvidenceInfo::from_evidence(&evidence(), Some(4))])
    }

    fn governance(&self) -> Result<GovernanceInfo, ApiError> {
        let height = self.height();
        let governance = (!self.no_governance.load(Ordering::SeqCst)).then(|| GovernanceConfigInfo {
            keys: vec![alice().public(), bob().public()],
            threshold: 2,
            voting_period: VOTING_PERIOD,
        });
        let added = validator_set()
            .apply(&[ValidatorUpdate { public_key: Keypair::from_seed(&[14; 32]).public(), power: 5 }])
            .unwrap();
        let role_admins: BTreeMap<String, Option<Address>> = Role::ALL
            .iter()
            .map(|r| (role_name(*r), (*r == Role::Merchant).then(|| bob().public().address())))
            .collect();
        Ok(GovernanceInfo {
            height,
            governance,
            open_deployment: false,
            params: ParamsInfo {
                fee_base: Amount(1_000),
                fee_per_byte: Amount(1),
                max_block_bytes: 4 * 1024 * 1024,
                max_block_txs: 20_000,
                fee_per_kfuel: Amount(1),
                max_tx_fuel: 100_000_000,
                max_block_fuel: 2_000_000_000,
            },
            validator_schedule: vec![
                ScheduledValidatorSet::from_set(0, &validator_set()),
                ScheduledValidatorSet::from_set(height + 2, &added),
            ],
            role_admins,
            open_proposals: vec![open_proposal()],
        })
    }

    fn proposal(&self, id: &Hash) -> Result<Option<ProposalInfo>, ApiError> {
        Ok(match *id {
            OPEN_PROPOSAL => Some(open_proposal()),
            PASSED_PROPOSAL => Some(passed_proposal()),
            _ => None,
        })
    }

    /// Alice's history is three transactions (heights 1 to 3); everyone else's is empty. Alice reads her own,
    /// the auditor reads anyone's, nobody else reads anything.
    fn account_txs(
        &self,
        reader: &PublicKey,
        address: &Address,
        after: Option<(u64, u32)>,
        limit: usize,
    ) -> Result<AccountTxsInfo, ApiError> {
        if *reader != auditor().public() && reader.address() != *address {
            return Err(ApiError::forbidden(format!("{} may not read {address}", reader.address())));
        }
        let all: Vec<AccountTxInfo> = if *address == alice().public().address() {
            (1..=3u64).map(|h| AccountTxInfo { height: h, index: 0, tx_id: history_tx(h) }).collect()
        } else {
            Vec::new()
        };
        let txs: Vec<AccountTxInfo> =
            all.into_iter().filter(|t| after.is_none_or(|a| (t.height, t.index) > a)).take(limit).collect();
        let next =
            (txs.len() == limit).then(|| txs.last().map(|t| format!("{}.{}", t.height, t.index))).flatten();
        Ok(AccountTxsInfo { address: *address, txs, next })
    }

    fn roles(&self, address: &Address) -> Result<RolesInfo, ApiError> {
        let holds = |a: &Keypair| *address == a.public().address();
        Ok(RolesInfo {
            address: *address,
            height: self.height(),
            roles: if holds(&alice()) { vec![role_name(Role::Merchant)] } else { vec![] },
            administers: if holds(&bob()) { vec![role_name(Role::Merchant)] } else { vec![] },
        })
    }

    fn asset_controls(
        &self,
        asset: &AssetId,
        holder: Option<&Address>,
    ) -> Result<Option<AssetControlsInfo>, ApiError> {
        let (issuer, flags) = if *asset == rules_asset() {
            (alice().public().address(), (true, true, false))
        } else if *asset == AssetId::native() {
            (Address::system("native"), (false, false, false))
        } else {
            return Ok(None);
        };
        let holding = holder.map(|h| HoldingControlsInfo {
            holder: *h,
            authorized: *asset == rules_asset() && *h == bob().public().address(),
            frozen: false,
        });
        Ok(Some(AssetControlsInfo {
            asset: *asset,
            height: self.height(),
            issuer,
            authorization_required: flags.0,
            freezable: flags.1,
            clawback_enabled: flags.2,
            frozen: false,
            holding,
        }))
    }

    fn tier_limits(&self, tier: u8, asset: &AssetId) -> Result<Option<TierLimitsQueryInfo>, ApiError> {
        if *asset != rules_asset() && *asset != AssetId::native() {
            return Ok(None);
        }
        let limits = (tier == 1 && *asset == rules_asset()).then(|| TierLimitsInfo::from(&tier1_limits()));
        Ok(Some(TierLimitsQueryInfo { tier, asset: *asset, height: self.height(), limits }))
    }

    fn code_allowed(&self, code_hash: &Hash) -> Result<CodeAllowedInfo, ApiError> {
        Ok(CodeAllowedInfo {
            code_hash: *code_hash,
            height: self.height(),
            allowed: *code_hash == ALLOWED_CODE,
            open_deployment: false,
        })
    }

    fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }
}

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub node: Arc<MockNode>,
    shutdown: Option<oneshot::Sender<()>>,
    pub handle: JoinHandle<Result<(), RpcError>>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Fires the shutdown signal.
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn start(node: Arc<MockNode>, config: RpcConfig) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let api: Arc<dyn NodeApi> = node.clone();
    let handle = tokio::spawn(purse_rpc::serve(listener, api, config, async move {
        let _ = rx.await;
    }));
    TestServer { addr, node, shutdown: Some(tx), handle }
}

pub async fn start_default() -> TestServer {
    start(MockNode::new(), RpcConfig::default()).await
}

/// Asserts the JSON error body and returns its code.
pub async fn error_code(resp: reqwest::Response, status: u16) -> String {
    assert_eq!(resp.status().as_u16(), status, "unexpected status");
    assert!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json")),
        "error bodies are JSON"
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    let message = body["error"]["message"].as_str().expect("error.message");
    assert!(!message.is_empty());
    body["error"]["code"].as_str().expect("error.code").to_string()
}
