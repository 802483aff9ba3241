//! The pool refuses what block execution would refuse under the chain's rules (docs/governance.md): frozen
//! assets and holdings, unauthorized or unregistered recipients, tier limits per transaction and per day
//! (the sender's pending transactions counted); a rule committed later drops the pooled transactions it
//! forbids. Each refusal is checked against execution: the same transaction in a block fails with the same code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use purse_mempool::{DropReason, PoolConfig, Verdict};
use purse_runtime::{GenesisTierLimits, GovernanceGenesis};
use purse_types::*;

fn invalid(code: &str, v: &Verdict) {
    assert!(matches!(v, Verdict::Invalid(r) if r.code() == code), "expected {code}, got {v:?}");
}

/// Executes `tx` alone in a block on a copy of `map` and returns its failure code (None: success).
fn execution_code(map: &Map, height: u64, tx: &SignedTransaction) -> Option<String> {
    let out = execute_block(map, &ctx(height), std::slice::from_ref(tx)).unwrap();
    match &out.receipts[0].status {
        TxStatus::Success => None,
        TxStatus::Failed { code, .. } => Some(code.clone()),
    }
}

fn admin(from: u8, nonce: u64, op: AdminOp) -> SignedTransaction {
    tx(from, nonce, Payload::Admin(op))
}

fn usd_coin(amount: u128) -> Coin {
    coin(usd(), amount)
}

#[test]
fn an_unregistered_recipient_is_refused_as_execution_would() {
    let map = genesis(3, START);
    let mut pool = pool(&map, PoolConfig::default());
    let t = tx(2, 0, Payload::Transfer { to: addr(99), coin: coin(native(), 10) });
    invalid("unknown_recipient", &pool.admit(t.clone()).unwrap());
    assert_eq!(execution_code(&map, 1, &t).as_deref(), Some("unknown_recipient"));
}

#[test]
fn tier_limits_count_the_senders_pending_transactions() {
    let limits = TierLimits { per_tx: Amount(50_000), daily: Amount(100_000) };
    let governance = GovernanceGenesis {
        tier_limits: vec![GenesisTierLimits { tier: 1, asset: native(), limits }],
        ..GovernanceGenesis::default()
    };
    let mut map = genesis_with(3, START, AssetFlags::default(), governance);
    let mut pool = pool(&map, PoolConfig::default());

    let big = send(2, 3, 0, 60_000);
    invalid("tx_limit_exceeded", &pool.admit(big.clone()).unwrap());
    assert_eq!(execution_code(&map, 1, &big).as_deref(), Some("tx_limit_exceeded"));

    let a = send(2, 3, 0, 40_000);
    let b = send(2, 3, 1, 40_000);
    assert_eq!(pool.admit(a.clone()).unwrap(), Verdict::Valid);
    assert_eq!(pool.admit(b.clone()).unwrap(), Verdict::Valid);
    // 80,000 pending + 40,000 > 100,000 today.
    invalid("daily_limit_exceeded", &pool.admit(send(2, 3, 2, 40_000)).unwrap());
    // Another sender is not affected, and a replacement does not count the transaction it replaces.
    assert_eq!(pool.admit(send(3, 2, 0, 40_000)).unwrap(), Verdict::Valid);
    let bigger_b =
        tx_with(2, 1, 20_000, 1_000, Payload::Transfer { to: addr(3), coin: coin(native(), 60_000) });
    assert_eq!(
        pool.admit(bigger_b).unwrap(),
        Verdict::Invalid(purse_mempool::Reason::TxLimitExceeded {
            asset: native(),
            limit: 50_000,
            amount: 60_000,
        })
    );
    let b2 = tx_with(2, 1, 20_000, 1_000, Payload::Transfer { to: addr(3), coin: coin(native(), 50_000) });
    assert_eq!(pool.admit(b2.clone()).unwrap(), Verdict::Valid);

    // Committed: the day's total is now 90,000; 20,000 more is refused by the pool and by execution alike.
    let receipts = commit(&mut map, &mut pool, 1, &[a, b2]);
    assert!(receipts.iter().all(|r| r.status == TxStatus::Success), "{receipts:?}");
    let over = send(2, 3, 2, 20_000);
    invalid("daily_limit_exceeded", &pool.admit(over.clone()).unwrap());
    assert_eq!(execution_code(&map, 2, &over).as_deref(), Some("daily_limit_exceeded"));
    assert_eq!(pool.admit(send(2, 3, 2, 10_000)).unwrap(), Verdict::Valid);
}

#[test]
fn freezes_and_authorization_are_refused_and_a_committed_freeze_drops_pending_transfers() {
    let flags = AssetFlags { authorization_required: true, freezable: true, clawback_enabled: false };
    let mut map = genesis_with(3, START, flags, GovernanceGenesis::default());
    let mut pool = pool(&map, PoolConfig::default());
    let issuer = ISSUER;

    // Minting to an account the issuer has not authorized.
    let mint = tx(issuer, 0, Payload::Mint { to: addr(2), coin: usd_coin(1_000) });
    invalid("holder_not_authorized", &pool.admit(mint.clone()).unwrap());
    assert_eq!(execution_code(&map, 1, &mint).as_deref(), Some("holder_not_authorized"));

    // Authorized, then funded.
    let auth =
        admin(issuer, 0, AdminOp::AuthorizeHolder { asset: usd(), account: addr(2), authorized: true });
    assert!(commit(&mut map, &mut pool, 1, &[auth]).iter().all(|r| r.status == TxStatus::Success));
    let mint = tx(issuer, 1, Payload::Mint { to: addr(2), coin: usd_coin(1_000) });
    assert_eq!(pool.admit(mint.clone()).unwrap(), Verdict::Valid);
    assert!(commit(&mut map, &mut pool, 2, &[mint]).iter().all(|r| r.status == TxStatus::Success));

    // Account 3 is not authorized to receive USD; the issuer always is.
    let to_3 = tx(2, 0, Payload::Transfer { to: addr(3), coin: usd_coin(10) });
    invalid("holder_not_authorized", &pool.admit(to_3.clone()).unwrap());
    assert_eq!(execution_code(&map, 3, &to_3).as_deref(), Some("holder_not_authorized"));
    let back = tx(2, 0, Payload::Transfer { to: addr(issuer), coin: usd_coin(10) });
    assert_eq!(pool.admit(back.clone()).unwrap(), Verdict::Valid);

    // The issuer freezes account 2's holding: once committed, the pending transfer is dropped as frozen and
    // a new one is refused, as execution refuses it.
    let freeze = admin(issuer, 2, AdminOp::FreezeHolding { asset: usd(), account: addr(2), frozen: true });
    assert!(commit(&mut map, &mut pool, 3, &[freeze]).iter().all(|r| r.status == TxStatus::Success));
    assert!(!pool.contains(&back.id()));
    let dropped = pool.take_dropped();
    assert!(
        dropped
            .iter()
            .any(|(id, r)| *id == back.id() && matches!(r, DropReason::Invalid(x) if x.code() == "frozen")),
        "{dropped:?}"
    );
    invalid("frozen", &pool.admit(back.clone()).unwrap());
    assert_eq!(execution_code(&map, 4, &back).as_deref(), Some("frozen"));
    // Native transfers of the frozen account are not affected.
    assert_eq!(pool.admit(send(2, 3, 0, 5)).unwrap(), Verdict::Valid);

    // A global freeze stops everyone's transfers of the asset, the issuer's own mints included.
    let global = admin(issuer, 3, AdminOp::FreezeAsset { asset: usd(), frozen: true });
    let _ = commit(&mut map, &mut pool, 4, &[global]);
    let mint = tx(issuer, 4, Payload::Mint { to: addr(2), coin: usd_coin(1) });
    invalid("frozen", &pool.admit(mint.clone()).unwrap());
    assert_eq!(execution_code(&map, 5, &mint).as_deref(), Some("frozen"));
}
