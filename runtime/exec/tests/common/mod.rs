//! A chain over an in-memory map for the permissioning and governance tests: a genesis with governance keys,
//! an onboarding authority, an issuer with assets of every control, a merchant and plain users; blocks with
//! controllable time; transaction builders with automatic nonces; state readers.

#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use purse_runtime::schema::{self, AccountRecord};
use purse_runtime::*;
use purse_types::*;
use std::collections::BTreeMap;

pub type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// Governance keys (threshold [`THRESHOLD`], voting period [`PERIOD`]).
pub const GOV: [u8; 3] = [1, 2, 3];
pub const THRESHOLD: u16 = 2;
pub const PERIOD: u64 = 10;
/// Holds the onboarding-authority role.
pub const ONBOARDER: u8 = 10;
/// Holds the asset-issuer role and issues the genesis assets.
pub const ISSUER: u8 = 11;
/// Holds the merchant role.
pub const MERCHANT: u8 = 12;
/// Holds no role; made role administrator in some tests.
pub const ADMIN: u8 = 13;
/// Plain users (tier 1).
pub const USERS: [u8; 4] = [20, 21, 22, 23];
/// Native balance of every genesis account.
pub const NATIVE: u128 = 1_000_000_000;
/// Start of the test chain's block times: a UTC midnight.
pub const T0: u64 = 20_000 * 86_400_000;

pub fn key(i: u8) -> Keypair {
    Keypair::from_seed(&[i; 32])
}
pub fn addr(i: u8) -> Address {
    key(i).public().address()
}
pub fn chain_id() -> ChainId {
    ChainId::new("purse-gov-test").unwrap()
}
/// Freezable, clawback-enabled.
pub fn frz() -> AssetId {
    AssetId::new(&addr(ISSUER), "FRZ")
}
/// Authorization required.
pub fn auth() -> AssetId {
    AssetId::new(&addr(ISSUER), "AUTH")
}
/// No controls.
pub fn plain() -> AssetId {
    AssetId::new(&addr(ISSUER), "PLAIN")
}
pub fn coin(asset: AssetId, amount: u128) -> Coin {
    Coin { asset, amount: Amount(amount) }
}

pub fn apply(map: &mut Map, overlay: &purse_state::Overlay) {
    for (k, v) in overlay.iter() {
        match v {
            Some(v) => map.insert(k.to_vec(), v.to_vec()),
            None => map.remove(k),
        };
    }
}

fn account(i: u8, roles: Vec<Role>) -> GenesisAccount {
    GenesisAccount { public_key: key(i).public(), tier: 1, roles, native_balance: Amount(NATIVE) }
}

/// The standard genesis: governance 2-of-3 over [`GOV`], closed deployment, no limits.
pub fn genesis() -> Genesis {
    let mut accounts: Vec<GenesisAccount> = GOV.iter().map(|i| account(*i, vec![])).collect();
    accounts.push(account(ONBOARDER, vec![Role::OnboardingAuthority]));
    accounts.push(account(ISSUER, vec![Role::AssetIssuer]));
    accounts.push(account(MERCHANT, vec![Role::Merchant]));
    accounts.push(account(ADMIN, vec![]));
    accounts.extend(USERS.iter().map(|i| account(*i, vec![])));
    let asset = |symbol: &str, flags: AssetFlags| GenesisAsset {
        symbol: symbol.into(),
        decimals: 2,
        issuer: addr(ISSUER),
        flags,
    };
    Genesis {
        chain_id: chain_id(),
        genesis_time_ms: T0,
        validators: vec![Validator { public_key: key(200).public(), power: 10 }],
        accounts,
        assets: vec![
            asset(
                "FRZ",
                AssetFlags { authorization_required: false, freezable: true, clawback_enabled: true },
            ),
            asset(
                "AUTH",
                AssetFlags { authorization_required: true, freezable: false, clawback_enabled: false },
            ),
            asset("PLAIN", AssetFlags::default()),
        ],
        params: Params::default(),
        contracts: Vec::new(),
        governance: GovernanceGenesis {
            keys: GOV.iter().map(|i| key(*i).public()).collect(),
            threshold: THRESHOLD,
            voting_period: PERIOD,
            ..GovernanceGenesis::default()
        },
    }
}

pub fn runtime() -> &'static Runtime {
    static RUNTIME: std::sync::OnceLock<Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::with_default_vm().unwrap())
}

pub struct Chain {
    pub map: Map,
    pub height: u64,
    pub time_ms: u64,
    nonces: BTreeMap<Address, u64>,
}

impl Chain {
    pub fn new(g: Genesis) -> Chain {
        let mut map = Map::new();
        let overlay = runtime().genesis_state(&g, &map).unwrap();
        apply(&mut map, &overlay);
        Chain { map, height: 0, time_ms: g.genesis_time_ms, nonces: BTreeMap::new() }
    }

    pub fn standard() -> Chain {
        Chain::new(genesis())
    }

    /// Executes a block one second after the previous one.
    pub fn block(&mut self, txs: &[SignedTransaction]) -> Vec<Receipt> {
        let t = self.time_ms + 1_000;
        self.block_at(t, txs)
    }

    /// Executes a block at `time_ms`.
    pub fn block_at(&mut self, time_ms: u64, txs: &[SignedTransaction]) -> Vec<Receipt> {
        self.height += 1;
        self.time_ms = time_ms;
        let ctx = BlockContext { chain_id: chain_id(), height: self.height, time_ms };
        let out = runtime().execute_block(&self.map, &ctx, txs).unwrap();
        apply(&mut self.map, &out.overlay);
        self.nonces.clear();
        out.receipts
    }

    /// Empty blocks until the chain is at `height`.
    pub fn advance_to(&mut self, height: u64) {
        while self.height < height {
            self.block(&[]);
        }
    }

    /// One transaction in its own block; its receipt.
    pub fn run(&mut self, signer: u8, payload: Payload) -> Receipt {
        let t = self.tx(signer, payload);
        self.block(&[t]).remove(0)
    }

    /// Like [`Chain::run`], asserting success.
    pub fn ok(&mut self, signer: u8, payload: Payload) -> Receipt {
        let r = self.run(signer, payload);
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        r
    }

    /// Like [`Chain::run`]; the failure code (panics on success).
    pub fn fails(&mut self, signer: u8, payload: Payload) -> String {
        code(&self.run(signer, payload))
    }

    /// A transaction of `signer` with the next nonce (counting the ones built since the last block).
    pub fn tx(&mut self, signer: u8, payload: Payload) -> SignedTransaction {
        let who = addr(signer);
        let nonce = match self.nonces.get(&who) {
            Some(n) => *n,
            None => self.account(&who).map_or(0, |a| a.nonce),
        };
        self.nonces.insert(who, nonce + 1);
        Transaction {
            chain_id: chain_id(),
            sender: who,
            nonce,
            expiry_height: u64::MAX,
            max_fee: Amount(100_000_000),
            payload,
        }
        .sign(&key(signer))
    }

    pub fn account(&self, who: &Address) -> Option<AccountRecord> {
        self.map.get(&schema::account_key(who)).map(|v| decode(v).unwrap())
    }

    pub fn balance(&self, who: &Address, asset: &AssetId) -> u128 {
        self.map.get(&schema::balance_key(who, asset)).map(|v| decode::<u128>(v).unwrap()).unwrap_or(0)
    }

    pub fn has_role(&self, role: Role, who: &Address) -> bool {
        self.map.contains_key(&schema::role_key(role, who))
    }

    /// The whole role table: every (role, account) pair in state.
    pub fn role_table(&self) -> std::collections::BTreeSet<(Role, Address)> {
        let prefix = schema::roles_prefix();
        self.map
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .map(|k| {
                let role = decode::<Role>(&k[prefix.len()..prefix.len() + 1]).unwrap();
                (role, Address(k[prefix.len() + 1..].try_into().unwrap()))
            })
            .collect()
    }

    pub fn params(&self) -> Params {
        Params::read(&BlockState::new(&self.map)).unwrap()
    }

    /// Proposes `action` from governance key `signer`; returns the receipt and the proposal id.
    pub fn propose(&mut self, signer: u8, action: GovernanceAction) -> (Receipt, Hash) {
        let t = self.tx(signer, Payload::Governance(GovernanceOp::Propose { action }));
        let id = proposal_id(&t.id());
        (self.block(&[t]).remove(0), id)
    }

    pub fn vote(&mut self, signer: u8, proposal: Hash, approve: bool) -> Receipt {
        self.run(signer, Payload::Governance(GovernanceOp::Vote { proposal, approve }))
    }

    /// Proposes and has the second governance key approve: the action passes.
    pub fn pass(&mut self, action: GovernanceAction) -> Hash {
        let (r, id) = self.propose(GOV[0], action);
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        let r = self.vote(GOV[1], id, true);
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        assert!(r.events.iter().any(|e| e.topic == governance::PASSED_TOPIC), "{r:?}");
        id
    }
}

pub fn code(r: &Receipt) -> String {
    match &r.status {
        TxStatus::Success => "ok".into(),
        TxStatus::Failed { code, .. } => code.clone(),
    }
}

pub fn admin(op: AdminOp) -> Payload {
    Payload::Admin(op)
}

pub fn mint(to: u8, asset: AssetId, amount: u128) -> Payload {
    Payload::Mint { to: addr(to), coin: coin(asset, amount) }
}

pub fn transfer(to: u8, asset: AssetId, amount: u128) -> Payload {
    Payload::Transfer { to: addr(to), coin: coin(asset, amount) }
}

/// A contract whose `pay` sends `amount` of `asset` to `to` (input: to ‖ asset ‖ amount as u128 LE) from its
/// own balance, aborting if the chain refuses; `noop` accepts attached funds.
pub fn pay_contract() -> Vec<u8> {
    wat::parse_str(
        r#"(module
            (import "purse" "input_read" (func $input_read (param i32)))
            (import "purse" "transfer" (func $transfer (param i32 i32 i32) (result i32)))
            (import "purse" "abort" (func $abort (param i32 i32)))
            (memory (export "memory") 1 1)
            (data (i32.const 200) "refused")
            (func (export "pay")
                (call $input_read (i32.const 0))
                (if (i32.ne (call $transfer (i32.const 0) (i32.const 32) (i32.const 64)) (i32.const 0))
                    (then (call $abort (i32.const 200) (i32.const 7)))))
            (func (export "noop")))"#,
    )
    .unwrap()
}

pub fn pay_args(to: u8, asset: AssetId, amount: u128) -> Vec<u8> {
    let mut v = addr(to).0.to_vec();
    v.extend_from_slice(&asset.0);
    v.extend_from_slice(&amount.to_le_bytes());
    v
}

pub fn call(contract: Address, method: &str, args: Vec<u8>, funds: Vec<Coin>) -> Payload {
    Payload::Call { contract, method: method.into(), args, funds, fuel_limit: 2_000_000 }
}
