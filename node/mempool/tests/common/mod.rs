//! Shared fixtures: a genesis over a `BTreeMap` state, signed transactions, block commits.

#![allow(dead_code)]

use purse_mempool::{Mempool, PoolConfig};
use purse_runtime::*;
use purse_state::Overlay;
use purse_types::*;
use std::collections::BTreeMap;

pub type Map = BTreeMap<Vec<u8>, Vec<u8>>;

pub const START: u128 = 1_000_000;
pub const ISSUER: u8 = 1;

pub fn key(i: u8) -> Keypair {
    Keypair::from_seed(&[i; 32])
}
pub fn addr(i: u8) -> Address {
    key(i).public().address()
}
pub fn chain() -> ChainId {
    ChainId::new("purse-test").unwrap()
}
pub fn usd() -> AssetId {
    AssetId::new(&addr(ISSUER), "USD")
}
pub fn native() -> AssetId {
    AssetId::native()
}

pub fn apply(map: &mut Map, overlay: &Overlay) {
    for (k, v) in overlay.iter() {
        match v {
            Some(v) => map.insert(k.to_vec(), v.to_vec()),
            None => map.remove(k),
        };
    }
}

/// Accounts 1..=n with `native_balance` each; account 1 issues USD.
pub fn genesis(n: u8, native_balance: u128) -> Map {
    genesis_with(n, native_balance, AssetFlags::default(), GovernanceGenesis::default())
}

/// [`genesis`] with USD created with `usd_flags` and the given governance section (tier limits, …).
pub fn genesis_with(
    n: u8,
    native_balance: u128,
    usd_flags: AssetFlags,
    governance: GovernanceGenesis,
) -> Map {
    let g = Genesis {
        chain_id: chain(),
        genesis_time_ms: 0,
        validators: vec![Validator { public_key: key(200).public(), power: 1 }],
        accounts: (1..=n)
            .map(|i| GenesisAccount {
                public_key: key(i).public(),
                tier: 1,
                roles: if i == ISSUER { vec![Role::AssetIssuer] } else { vec![] },
                native_balance: Amount(native_balance),
            })
            .collect(),
        assets: vec![GenesisAsset {
            symbol: "USD".into(),
            decimals: 2,
            issuer: addr(ISSUER),
            flags: usd_flags,
        }],
        params: Params::default(),
        contracts: Vec::new(),
        governance,
    };
    let mut map = Map::new();
    let overlay = g.build_state(&map).unwrap();
    apply(&mut map, &overlay);
    map
}

pub fn ctx(height: u64) -> BlockContext {
    BlockContext { chain_id: chain(), height, time_ms: height * 1000 }
}

pub fn tx_with(from: u8, nonce: u64, max_fee: u128, expiry: u64, payload: Payload) -> SignedTransaction {
    Transaction {
        chain_id: chain(),
        sender: addr(from),
        nonce,
        expiry_height: expiry,
        max_fee: Amount(max_fee),
        payload,
    }
    .sign(&key(from))
}

pub fn tx(from: u8, nonce: u64, payload: Payload) -> SignedTransaction {
    tx_with(from, nonce, 10_000, 1_000, payload)
}

pub fn coin(asset: AssetId, amount: u128) -> Coin {
    Coin { asset, amount: Amount(amount) }
}

pub fn send(from: u8, to: u8, nonce: u64, amount: u128) -> SignedTransaction {
    tx(from, nonce, Payload::Transfer { to: addr(to), coin: coin(native(), amount) })
}

pub fn bal(map: &Map, who: &Address, asset: &AssetId) -> u128 {
    map.get(&schema::balance_key(who, asset)).map(|v| decode::<u128>(v).unwrap()).unwrap_or(0)
}

pub fn fee_of(tx: &SignedTransaction) -> u128 {
    Params::default().fee_for(encode(tx).len())
}

/// Executes `txs` as block `height` on `map`, then tells the pool. Returns the receipts.
pub fn commit(
    map: &mut Map,
    pool: &mut Mempool<Map>,
    height: u64,
    txs: &[SignedTransaction],
) -> Vec<Receipt> {
    let out = execute_block(map, &ctx(height), txs).unwrap();
    apply(map, &out.overlay);
    let ids: Vec<TxId> = txs.iter().map(|t| t.id()).collect();
    pool.on_commit(map.clone(), height, height * 1000, &ids).unwrap();
    out.receipts
}

pub fn pool(map: &Map, config: PoolConfig) -> Mempool<Map> {
    Mempool::new(map.clone(), 0, 0, config).unwrap()
}

/// Executes a block with a runtime shared by the whole test binary.
pub fn execute_block(
    map: &Map,
    ctx: &BlockContext,
    txs: &[SignedTransaction],
) -> Result<BlockOutput, RuntimeError> {
    static RUNTIME: std::sync::OnceLock<Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::with_default_vm().unwrap()).execute_block(map, ctx, txs)
}
