//! The wallet scenario on a local net: e-money reload, a merchant's loyalty program deployed as a WASM
//! contract, merchant payments that earn points, partial refunds, person-to-person transfers, redemption of
//! e-money and of points, followed by the invariant checks and a summary.

use crate::localnet::{open_storage, LocalNet};
use crate::TestnetError;
use purse_engine::EngineEvent;
use purse_runtime::schema;
use purse_types::{
    decode, Address, Amount, AssetId, Coin, Hash, Keypair, Payload, SignedTransaction, Transaction,
};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Longest wait, after the last phase, for every validator to report commits up to the highest height any
/// validator reported.
pub const REPORT_WAIT: Duration = Duration::from_secs(10);

/// What the scenario measured.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Validators.
    pub validators: usize,
    /// Highest height every validator committed.
    pub height: u64,
    /// Transactions submitted.
    pub submitted: usize,
    /// Transactions committed.
    pub committed: usize,
    /// Committed and successful.
    pub succeeded: usize,
    /// Wall time of the load phases.
    pub elapsed: Duration,
    /// Submit-to-commit latency percentiles (p50, p99).
    pub latency_p50: Duration,
    /// p99 latency.
    pub latency_p99: Duration,
    /// Heights at which validators disagreed (must be empty).
    pub divergent_heights: Vec<u64>,
    /// EUR reloaded (minted).
    pub reloaded: u128,
    /// EUR redeemed (burned).
    pub redeemed: u128,
    /// EUR supply recorded by the chain.
    pub supply: u128,
    /// Sum of all EUR balances.
    pub balances: u128,
    /// Network messages dropped (full inbox) while every validator was running.
    pub dropped: u64,
    /// Loyalty points awarded by the loyalty contract.
    pub points_earned: u128,
    /// Loyalty points redeemed.
    pub points_redeemed: u128,
    /// Loyalty points the contract reports outstanding (queried from committed state).
    pub points_outstanding: u128,
}

impl Summary {
    /// Whether every invariant held.
    pub fn ok(&self) -> bool {
        self.divergent_heights.is_empty()
            && self.committed == self.submitted
            && self.succeeded == self.submitted
            && self.supply == self.reloaded - self.redeemed
            && self.balances == self.supply
            && self.dropped == 0
            && self.points_outstanding == self.points_earned - self.points_redeemed
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Most uncommitted transactions the scenario keeps per sender (below the pool's default `max_per_sender`, 64).
const MAX_IN_FLIGHT_PER_SENDER: usize = 48;
/// Longest a submission waits for its sender's earlier transactions to commit.
const SUBMIT_WAIT: Duration = Duration::from_secs(120);

struct Driver<'a> {
    net: &'a LocalNet,
    nonces: HashMap<Address, u64>,
    submitted_at: HashMap<Hash, (Instant, Address)>,
    /// Uncommitted submitted transactions per sender (kept below [`MAX_IN_FLIGHT_PER_SENDER`]).
    in_flight: HashMap<Address, usize>,
    latencies: Vec<Duration>,
    committed: usize,
    succeeded: usize,
    submitted: usize,
    /// Per validator: height → (block id, state root).
    chains: Vec<BTreeMap<u64, (Hash, Hash)>>,
    next_node: usize,
    /// The node each sender submits to (assigned round-robin on first use).
    node_of: BTreeMap<Address, usize>,
    verbose: bool,
}

impl<'a> Driver<'a> {
    fn tx(&mut self, key: &Keypair, payload: Payload) -> SignedTransaction {
        let sender = key.public().address();
        let nonce = self.nonces.entry(sender).or_insert(0);
        let t = Transaction {
            chain_id: self.net.genesis.chain_id.clone(),
            sender,
            nonce: *nonce,
            expiry_height: u64::MAX,
            max_fee: Amount(1_000_000),
            payload,
        };
        *nonce += 1;
        t.sign(key)
    }

    /// Submits `tx` to its sender's node. A wallet talks to one node, which admits the sender's transactions in
    /// nonce order and gossips them in that order; spreading one sender's burst over every node instead makes
    /// each node receive it out of order, fill its future queue and drop the rest, and blocks then carry only
    /// the few transactions each proposer holds in sequence. Senders are spread over the nodes.
    /// A sender with [`MAX_IN_FLIGHT_PER_SENDER`] uncommitted transactions waits for some to commit first, as a
    /// wallet would: the pool keeps at most `max_per_sender` per sender and refuses the rest (`sender_full`).
    fn submit(&mut self, tx: SignedTransaction) -> Result<(), TestnetError> {
        let sender = tx.tx.sender;
        let deadline = Instant::now() + SUBMIT_WAIT;
        while self.in_flight.get(&sender).copied().unwrap_or(0) >= MAX_IN_FLIGHT_PER_SENDER {
            if Instant::now() > deadline {
                return Err(TestnetError::Scenario(format!(
                    "{sender}: {MAX_IN_FLIGHT_PER_SENDER} transactions not committed within {SUBMIT_WAIT:?}"
                )));
            }
            self.pump(Duration::from_millis(200));
        }
        *self.in_flight.entry(sender).or_insert(0) += 1;
        self.submitted_at.insert(tx.id(), (Instant::now(), sender));
        self.submitted += 1;
        let node = *self.node_of.entry(tx.tx.sender).or_insert_with(|| {
            let n = self.next_node;
            self.next_node = (self.next_node + 1) % self.net.nodes.len().max(1);
            n
        });
        self.net.submit(node, tx)
    }

    /// Waits until every submitted transaction is committed (as seen by validator 0).
    fn settle(&mut self, phase: &str, timeout: Duration) -> Result<(), TestnetError> {
        let deadline = Instant::now() + timeout;
        while !self.submitted_at.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(TestnetError::Scenario(format!(
                    "{phase}: {} transactions not committed within {timeout:?}",
                    self.submitted_at.len()
                )));
            }
            self.pump(left.min(Duration::from_millis(500)));
        }
        Ok(())
    }

    /// Takes in one commit event (waiting at most `wait`): records validator 0's commits of our transactions.
    fn pump(&mut self, wait: Duration) {
        let Ok((node, EngineEvent::Committed { height, block_id, state_root, tx_ids, succeeded, round })) =
            self.net.events.recv_timeout(wait)
        else {
            return;
        };
        if let Some(c) = self.chains.get_mut(node) {
            c.insert(height, (block_id, state_root));
        }
        if node == 0 {
            let now = Instant::now();
            for id in &tx_ids {
                if let Some((t, sender)) = self.submitted_at.remove(id) {
                    self.latencies.push(now - t);
                    self.committed += 1;
                    if let Some(n) = self.in_flight.get_mut(&sender) {
                        *n = n.saturating_sub(1);
                    }
                }
            }
            self.succeeded += succeeded;
            if self.verbose && !tx_ids.is_empty() {
                println!("  height {height:>4} round {round}: {:>5} txs", tx_ids.len());
            }
        }
    }
}

/// Runs the scenario with `rounds` payment rounds; prints progress when `verbose`.
pub fn run(net: &mut LocalNet, rounds: usize, verbose: bool) -> Result<Summary, TestnetError> {
    let keys = net.keys.clone();
    let eur = AssetId::new(&keys.issuer.public().address(), "EUR");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut d = Driver {
        net,
        nonces: HashMap::new(),
        submitted_at: HashMap::new(),
        in_flight: HashMap::new(),
        latencies: Vec::new(),
        committed: 0,
        succeeded: 0,
        submitted: 0,
        chains: vec![BTreeMap::new(); net.nodes.len()],
        next_node: 0,
        node_of: BTreeMap::new(),
        verbose,
    };
    let wait = Duration::from_secs(120);
    let start = Instant::now();
    let coin = |amount: u128| Coin { asset: eur, amount: Amount(amount) };

    // 1. E-money reload: the issuer mints EUR into every wallet against an external payment.
    println!("[1/7] reload: issuer mints e-money into {} wallets", keys.wallets.len());
    let mut reloaded = 0u128;
    for w in &keys.wallets {
        let amount = 50_000 + u128::from(rng.below(50_000));
        reloaded += amount;
        let tx = d.tx(&keys.issuer, Payload::Mint { to: w.public().address(), coin: coin(amount) });
        d.submit(tx)?;
    }
    d.settle("reload", wait)?;

    // 2. Merchant 0 runs a loyalty program: a WASM contract deployed on chain (1 point per unit spent).
    println!("[2/7] loyalty: merchant 0 deploys its loyalty-points contract");
    let merchant0 = keys.merchants[0].clone();
    let deploy_nonce = d.nonces.get(&merchant0.public().address()).copied().unwrap_or(0);
    let loyalty = Address::contract(&merchant0.public().address(), deploy_nonce);
    let code = purse_contract_test::artifact("loyalty").map_err(|e| TestnetError::Setup(e.to_string()))?;
    let init = borsh::to_vec(&("Purse Rewards".to_string(), 10_000u32, LOT_TTL_MS))
        .map_err(|e| TestnetError::Setup(e.to_string()))?;
    let tx = d.tx(
        &merchant0,
        Payload::Deploy {
            code,
            init_args: init,
            admin: Some(merchant0.public().address()),
            fuel_limit: 50_000_000,
        },
    );
    d.submit(tx)?;
    d.settle("loyalty deploy", wait)?;

    // 3. Payments at merchants.
    println!("[3/7] payments: {rounds} rounds of wallet → merchant payments");
    let mut paid: Vec<(usize, usize, u128)> = Vec::new();
    for _ in 0..rounds {
        for (wi, w) in keys.wallets.iter().enumerate() {
            let mi = rng.below(keys.merchants.len() as u64) as usize;
            let amount = 100 + u128::from(rng.below(900));
            paid.push((wi, mi, amount));
            let tx =
                d.tx(w, Payload::Transfer { to: keys.merchants[mi].public().address(), coin: coin(amount) });
            d.submit(tx)?;
        }
    }
    d.settle("payments", wait)?;
    // Merchant 0 awards points for every payment it received.
    let mut points: BTreeMap<usize, u128> = BTreeMap::new();
    for (wi, _, amount) in paid.iter().filter(|(_, mi, _)| *mi == 0) {
        *points.entry(*wi).or_default() += amount;
        let args = borsh::to_vec(&(keys.wallets[*wi].public().address(), *amount, "retail".to_string()))
            .map_err(|e| TestnetError::Setup(e.to_string()))?;
        let call = Payload::Call {
            contract: loyalty,
            method: "earn".into(),
            args,
            funds: vec![],
            fuel_limit: 5_000_000,
        };
        let tx = d.tx(&merchant0, call);
        d.submit(tx)?;
    }
    d.settle("loyalty earn", wait)?;
    let points_earned: u128 = points.values().sum();

    // 4. Partial refunds of every tenth payment.
    println!("[4/7] refunds: merchants refund part of every tenth payment");
    for (wi, mi, amount) in paid.iter().step_by(10) {
        let tx = d.tx(
            &keys.merchants[*mi],
            Payload::Transfer { to: keys.wallets[*wi].public().address(), coin: coin(amount / 2) },
        );
        d.submit(tx)?;
    }
    d.settle("refunds", wait)?;

    // 5. Person-to-person transfers.
    println!("[5/7] p2p: wallets send to each other");
    for (wi, w) in keys.wallets.iter().enumerate() {
        let to = (wi + 1 + rng.below(keys.wallets.len() as u64 - 1) as usize) % keys.wallets.len();
        let tx = d.tx(w, Payload::Transfer { to: keys.wallets[to].public().address(), coin: coin(50) });
        d.submit(tx)?;
    }
    d.settle("p2p", wait)?;

    // 6. Merchants redeem (burn) a tenth of their takings.
    println!("[6/7] redeem: merchants redeem e-money with the issuer");
    let mut takings: HashMap<usize, u128> = HashMap::new();
    for (_, mi, amount) in &paid {
        *takings.entry(*mi).or_default() += amount;
    }
    let mut redeemed = 0u128;
    for (mi, total) in takings {
        let amount = total / 10;
        if amount == 0 {
            continue;
        }
        redeemed += amount;
        let tx = d.tx(&keys.merchants[mi], Payload::Burn { coin: coin(amount) });
        d.submit(tx)?;
    }
    d.settle("redeem", wait)?;

    // 7. Wallets spend half of their points at merchant 0.
    println!("[7/7] points: wallets redeem half of their loyalty points");
    let mut points_redeemed = 0u128;
    for (wi, p) in &points {
        let spend = p / 2;
        if spend == 0 {
            continue;
        }
        points_redeemed += spend;
        let args = borsh::to_vec(&spend).map_err(|e| TestnetError::Setup(e.to_string()))?;
        let call = Payload::Call {
            contract: loyalty,
            method: "redeem".into(),
            args,
            funds: vec![],
            fuel_limit: 5_000_000,
        };
        let tx = d.tx(&keys.wallets[*wi], call);
        d.submit(tx)?;
    }
    d.settle("points", wait)?;
    let elapsed = start.elapsed();

    // Let every validator report its commits up to the highest height any reported (a validator that fell
    // behind on a loaded machine catches up by consensus or sync), for at most REPORT_WAIT; then stop them.
    let report_deadline = Instant::now() + REPORT_WAIT;
    loop {
        while let Ok((node, ev)) = d.net.events.try_recv() {
            let EngineEvent::Committed { height, block_id, state_root, .. } = ev;
            if let Some(c) = d.chains.get_mut(node) {
                c.insert(height, (block_id, state_root));
            }
        }
        let tops: Vec<u64> = d.chains.iter().map(|c| c.keys().next_back().copied().unwrap_or(0)).collect();
        let level = tops.iter().min() == tops.iter().max();
        if level || Instant::now() >= report_deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let chains = std::mem::take(&mut d.chains);
    let mut latencies = std::mem::take(&mut d.latencies);
    let (submitted, committed, succeeded) = (d.submitted, d.committed, d.succeeded);
    drop(d);
    // Read before stopping: once a validator stops, messages to it are counted as dropped too.
    let dropped = net.hub.dropped();
    net.stop()?;

    // Invariant 1: identical blocks and state roots at every height any two validators committed.
    let height = chains.iter().map(|c| c.keys().next_back().copied().unwrap_or(0)).min().unwrap_or(0);
    let mut divergent = Vec::new();
    for h in 1..=height {
        let first = chains[0].get(&h);
        if chains.iter().any(|c| c.get(&h) != first) {
            divergent.push(h);
        }
    }
    // Invariant 2: the audit — money issued = reloaded − redeemed, and supply = Σ balances (read from store 0).
    let storage = open_storage(&net.nodes[0].dir, net.genesis.chain_id.as_str())?;
    let state = storage.state();
    let asset: schema::AssetRecord = state
        .get(&schema::asset_key(&eur))?
        .and_then(|b| decode(&b).ok())
        .ok_or_else(|| TestnetError::Scenario("EUR asset missing".into()))?;
    let mut balances = 0u128;
    let holders = keys.wallets.iter().chain(keys.merchants.iter()).chain(std::iter::once(&keys.issuer));
    for k in holders {
        if let Some(b) = state.get(&schema::balance_key(&k.public().address(), &eur))? {
            balances += decode::<u128>(&b).map_err(|e| TestnetError::Scenario(e.to_string()))?;
        }
    }
    // Invariant 3: the loyalty contract's books — outstanding points = earned − redeemed (read-only queries).
    let runtime = purse_runtime::Runtime::with_default_vm()?;
    let head = storage.head().map(|h| h.height).unwrap_or(0);
    let ctx = purse_runtime::BlockContext {
        chain_id: net.genesis.chain_id.clone(),
        height: head,
        time_ms: now_ms(),
    };
    let mut points_outstanding = 0u128;
    for wi in points.keys() {
        let args = borsh::to_vec(&keys.wallets[*wi].public().address())
            .map_err(|e| TestnetError::Setup(e.to_string()))?;
        let out = runtime.query(storage.state().view(), &ctx, loyalty, "balance", args, 50_000_000);
        let data = out.result.map_err(|e| TestnetError::Scenario(format!("loyalty balance query: {e}")))?;
        points_outstanding +=
            borsh::from_slice::<u128>(&data).map_err(|e| TestnetError::Scenario(e.to_string()))?;
    }
    latencies.sort();
    let pct =
        |p: usize| latencies.get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1))).copied();
    Ok(Summary {
        validators: net.nodes.len(),
        height,
        submitted,
        committed,
        succeeded,
        elapsed,
        latency_p50: pct(50).unwrap_or_default(),
        latency_p99: pct(99).unwrap_or_default(),
        divergent_heights: divergent,
        reloaded,
        redeemed,
        supply: asset.supply,
        balances,
        dropped,
        points_earned,
        points_redeemed,
        points_outstanding,
    })
}

/// Lifetime of a loyalty-points lot: long enough that none expires during the scenario.
const LOT_TTL_MS: u64 = 24 * 3600 * 1000;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
