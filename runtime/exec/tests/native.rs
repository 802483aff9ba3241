//! The native state-transition function: envelope checks, fees, transfers, assets, rollback, determinism.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use proptest::prelude::*;
use purse_runtime::*;
use purse_state::Overlay;
use purse_types::*;
use std::collections::BTreeMap;

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

fn key(i: u8) -> Keypair {
    Keypair::from_seed(&[i; 32])
}

fn chain() -> ChainId {
    ChainId::new("purse-test").unwrap()
}

fn apply(map: &mut Map, overlay: &Overlay) {
    for (k, v) in overlay.iter() {
        match v {
            Some(v) => map.insert(k.to_vec(), v.to_vec()),
            None => map.remove(k),
        };
    }
}

fn genesis(n: u8) -> Map {
    let g = Genesis {
        chain_id: chain(),
        genesis_time_ms: 0,
        validators: vec![Validator { public_key: key(100).public(), power: 1 }],
        accounts: (1..=n)
            .map(|i| GenesisAccount {
                public_key: key(i).public(),
                tier: 1,
                roles: if i == 1 { vec![Role::AssetIssuer] } else { vec![] },
                native_balance: Amount(1_000_000),
            })
            .collect(),
        assets: vec![],
        params: Params::default(),
        contracts: Vec::new(),
        governance: GovernanceGenesis::default(),
    };
    let mut map = Map::new();
    let overlay = g.build_state(&map).unwrap();
    apply(&mut map, &overlay);
    map
}

/// Executes a block with a runtime shared by the whole test binary.
fn execute_block(
    map: &Map,
    ctx: &BlockContext,
    txs: &[SignedTransaction],
) -> Result<BlockOutput, RuntimeError> {
    static RUNTIME: std::sync::OnceLock<Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::with_default_vm().unwrap()).execute_block(map, ctx, txs)
}

fn ctx(height: u64) -> BlockContext {
    BlockContext { chain_id: chain(), height, time_ms: height * 1000 }
}

fn tx(from: u8, nonce: u64, payload: Payload) -> SignedTransaction {
    Transaction {
        chain_id: chain(),
        sender: key(from).public().address(),
        nonce,
        expiry_height: 100,
        max_fee: Amount(10_000),
        payload,
    }
    .sign(&key(from))
}

fn send(from: u8, to: u8, nonce: u64, amount: u128) -> SignedTransaction {
    tx(
        from,
        nonce,
        Payload::Transfer {
            to: key(to).public().address(),
            coin: Coin { asset: AssetId::native(), amount: Amount(amount) },
        },
    )
}

fn bal(map: &Map, who: &Address, asset: &AssetId) -> u128 {
    map.get(&schema::balance_key(who, asset)).map(|v| decode::<u128>(v).unwrap()).unwrap_or(0)
}

fn code(r: &Receipt) -> &str {
    match &r.status {
        TxStatus::Success => "ok",
        TxStatus::Failed { code, .. } => code,
    }
}

#[test]
fn transfer_moves_funds_and_charges_fee() {
    let mut map = genesis(2);
    let t = send(1, 2, 0, 500);
    let fee = Params::default().fee_for(encode(&t).len());
    let out = execute_block(&map, &ctx(1), &[t]).unwrap();
    assert_eq!(code(&out.receipts[0]), "ok");
    assert_eq!(out.receipts[0].fee_paid, fee);
    assert_eq!(out.receipts[0].events.len(), 1);
    apply(&mut map, &out.overlay);
    let (a, b) = (key(1).public().address(), key(2).public().address());
    assert_eq!(bal(&map, &a, &AssetId::native()), 1_000_000 - 500 - fee);
    assert_eq!(bal(&map, &b, &AssetId::native()), 1_000_500);
    assert_eq!(bal(&map, &Address::system("fees"), &AssetId::native()), fee);
}

#[test]
fn envelope_failures_write_nothing() {
    let map = genesis(2);
    let mut bad_sig = send(1, 2, 0, 5);
    bad_sig.signature.0[3] ^= 1;
    let wrong_nonce = send(1, 2, 5, 5);
    let mut expired = send(1, 2, 0, 5);
    expired.tx.expiry_height = 0;
    let expired = expired.tx.sign(&key(1));
    let unknown = send(9, 2, 0, 5);
    let mut low_fee = send(1, 2, 0, 5);
    low_fee.tx.max_fee = Amount(1);
    let low_fee = low_fee.tx.sign(&key(1));
    let mut wrong_chain = send(1, 2, 0, 5);
    wrong_chain.tx.chain_id = ChainId::new("other").unwrap();
    let wrong_chain = wrong_chain.tx.sign(&key(1));
    // Signed by key 2 on behalf of account 1.
    let wrong_key = send(1, 2, 0, 5).tx.sign(&key(2));
    let txs = [bad_sig, wrong_nonce, expired, unknown, low_fee, wrong_chain, wrong_key];
    let out = execute_block(&map, &ctx(1), &txs).unwrap();
    let codes: Vec<&str> = out.receipts.iter().map(code).collect();
    assert_eq!(
        codes,
        [
            "bad_signature",
            "bad_nonce",
            "expired",
            "unknown_sender",
            "fee_too_low",
            "wrong_chain",
            "wrong_key"
        ]
    );
    assert!(out.overlay.is_empty(), "failed envelopes must not write");
    assert!(out.receipts.iter().all(|r| r.fee_paid == 0));
}

#[test]
fn failed_payload_rolls_back_but_keeps_fee_and_nonce() {
    let mut map = genesis(2);
    let too_much = send(1, 2, 0, 5_000_000);
    let out = execute_block(&map, &ctx(1), std::slice::from_ref(&too_much)).unwrap();
    assert_eq!(code(&out.receipts[0]), "insufficient_funds");
    assert!(out.receipts[0].fee_paid > 0);
    assert!(out.receipts[0].events.is_empty());
    apply(&mut map, &out.overlay);
    let a = key(1).public().address();
    assert_eq!(bal(&map, &a, &AssetId::native()), 1_000_000 - out.receipts[0].fee_paid);
    // The nonce advanced: the same transaction cannot run again, the next nonce can.
    let again = execute_block(&map, &ctx(2), &[too_much, send(1, 2, 1, 1)]).unwrap();
    assert_eq!(code(&again.receipts[0]), "bad_nonce");
    assert_eq!(code(&again.receipts[1]), "ok");
}

#[test]
fn nonces_sequence_within_a_block() {
    let map = genesis(2);
    let out = execute_block(
        &map,
        &ctx(1),
        &[send(1, 2, 0, 1), send(1, 2, 1, 1), send(1, 2, 1, 1), send(1, 2, 3, 1)],
    )
    .unwrap();
    let codes: Vec<&str> = out.receipts.iter().map(code).collect();
    assert_eq!(codes, ["ok", "ok", "bad_nonce", "bad_nonce"]);
}

#[test]
fn transfer_to_unregistered_account_fails() {
    let map = genesis(2);
    let out = execute_block(&map, &ctx(1), &[send(1, 42, 0, 1)]).unwrap();
    assert_eq!(code(&out.receipts[0]), "unknown_recipient");
}

#[test]
fn assets_create_mint_burn_with_roles() {
    let mut map = genesis(3);
    let issuer = key(1).public().address();
    let eur = AssetId::new(&issuer, "EUR");
    let create =
        tx(1, 0, Payload::CreateAsset { symbol: "EUR".into(), decimals: 2, flags: AssetFlags::default() });
    let create_no_role =
        tx(2, 0, Payload::CreateAsset { symbol: "EUR".into(), decimals: 2, flags: AssetFlags::default() });
    let mint = tx(
        1,
        1,
        Payload::Mint { to: key(3).public().address(), coin: Coin { asset: eur, amount: Amount(700) } },
    );
    let mint_not_issuer = tx(
        2,
        1,
        Payload::Mint { to: key(2).public().address(), coin: Coin { asset: eur, amount: Amount(700) } },
    );
    let burn = tx(3, 0, Payload::Burn { coin: Coin { asset: eur, amount: Amount(200) } });
    let dup =
        tx(1, 2, Payload::CreateAsset { symbol: "EUR".into(), decimals: 2, flags: AssetFlags::default() });
    let out =
        execute_block(&map, &ctx(1), &[create, create_no_role, mint, mint_not_issuer, burn, dup]).unwrap();
    let codes: Vec<&str> = out.receipts.iter().map(code).collect();
    assert_eq!(codes, ["ok", "unauthorized", "ok", "unauthorized", "ok", "asset_exists"]);
    apply(&mut map, &out.overlay);
    assert_eq!(bal(&map, &key(3).public().address(), &eur), 500);
    let rec: schema::AssetRecord = decode(&map[&schema::asset_key(&eur)]).unwrap();
    assert_eq!(rec.supply, 500);
}

#[test]
fn corrupted_record_is_a_runtime_error_not_a_panic() {
    let mut map = genesis(2);
    map.insert(schema::account_key(&key(1).public().address()), vec![1, 2, 3]);
    let err = execute_block(&map, &ctx(1), &[send(1, 2, 0, 1)]).unwrap_err();
    assert!(matches!(err, RuntimeError::Corrupt { .. }), "{err}");
}

#[test]
fn genesis_rejects_duplicates_and_bad_params() {
    let mut g = Genesis {
        chain_id: chain(),
        genesis_time_ms: 0,
        validators: vec![Validator { public_key: key(100).public(), power: 1 }],
        accounts: vec![
            GenesisAccount { public_key: key(1).public(), tier: 0, roles: vec![], native_balance: Amount(1) },
            GenesisAccount { public_key: key(1).public(), tier: 0, roles: vec![], native_balance: Amount(1) },
        ],
        assets: vec![],
        params: Params::default(),
        contracts: Vec::new(),
        governance: GovernanceGenesis::default(),
    };
    assert!(g.build_state(&Map::new()).is_err());
    g.accounts.pop();
    g.params.max_block_txs = 0;
    assert!(g.build_state(&Map::new()).is_err());
    g.params = Params::default();
    g.validators.clear();
    assert!(g.build_state(&Map::new()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any sequence of transfers: supply is conserved (balances + fees = genesis supply), no balance goes
    /// negative, and two independent executions agree exactly.
    #[test]
    fn transfers_conserve_supply_and_are_deterministic(ops in proptest::collection::vec((1u8..=4, 1u8..=5, 0u128..600_000), 1..40)) {
        let mut map = genesis(4);
        let mut twin = genesis(4);
        let mut nonces = [0u64; 6];
        let txs: Vec<SignedTransaction> = ops.iter().map(|&(f, t, amt)| {
            let n = nonces[usize::from(f)];
            nonces[usize::from(f)] += 1;
            send(f, t, n, amt)
        }).collect();
        for (h, chunk) in txs.chunks(7).enumerate() {
            let a = execute_block(&map, &ctx(h as u64 + 1), chunk).unwrap();
            let b = execute_block(&twin, &ctx(h as u64 + 1), chunk).unwrap();
            prop_assert_eq!(&a.receipts, &b.receipts);
            prop_assert_eq!(a.receipt_root(), b.receipt_root());
            apply(&mut map, &a.overlay);
            apply(&mut twin, &b.overlay);
        }
        prop_assert_eq!(&map, &twin);
        let mut total = bal(&map, &Address::system("fees"), &AssetId::native());
        for i in 1..=5u8 {
            total += bal(&map, &key(i).public().address(), &AssetId::native());
        }
        prop_assert_eq!(total, 4 * 1_000_000);
    }
}
