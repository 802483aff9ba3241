//! Admission, lifecycle and block-building scenarios.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use purse_mempool::*;
use purse_runtime::schema;
use purse_types::*;

fn invalid(code: &str, v: &Verdict) {
    assert_eq!(v.code(), code, "{v:?}");
}

#[test]
fn two_transactions_that_together_overdraw() {
    let map = genesis(3, START);
    let mut p = pool(&map, PoolConfig::default());
    let t1 = send(2, 3, 0, 600_000);
    assert_eq!(p.admit(t1.clone()).unwrap(), Verdict::Valid);
    let t2 = send(2, 3, 1, 600_000);
    let v = p.admit(t2.clone()).unwrap();
    let avail = START - 600_000 - fee_of(&t1);
    assert_eq!(
        v,
        Verdict::Invalid(Reason::InsufficientAvailable {
            asset: native(),
            available: avail,
            needed: 600_000 + fee_of(&t2)
        })
    );
    assert!(p.contains(&t1.id()) && !p.contains(&t2.id()));
    assert_eq!(p.pending_debit(&addr(2), &native()), 600_000 + fee_of(&t1));
    assert_eq!(p.available(&addr(2), &native()).unwrap(), avail);
    // The same check without inserting says the same.
    assert_eq!(p.check(&t2).unwrap(), v);
    // A smaller one that fits is fine.
    assert_eq!(p.admit(send(2, 3, 1, 100_000)).unwrap(), Verdict::Valid);
}

#[test]
fn pending_incoming_credit_is_not_spendable_until_committed() {
    let mut map = genesis(3, START);
    // Account 3 is poor: give most of its balance away in block 1.
    let mut p = pool(&map, PoolConfig::default());
    commit(&mut map, &mut p, 1, &[send(3, 1, 0, START - 10_000)]);
    let mut p = Mempool::new(map.clone(), 1, 1000, PoolConfig::default()).unwrap();
    let credit = send(2, 3, 0, 500_000);
    assert_eq!(p.admit(credit.clone()).unwrap(), Verdict::Valid);
    let spend = send(3, 1, 1, 100_000);
    invalid("insufficient_available", &p.admit(spend.clone()).unwrap());
    assert_eq!(p.available(&addr(3), &native()).unwrap(), bal(&map, &addr(3), &native()));
    let block = p.reap(usize::MAX, 100);
    assert_eq!(block, vec![credit]);
    commit(&mut map, &mut p, 2, &block);
    assert!(p.is_empty());
    assert_eq!(p.admit(spend).unwrap(), Verdict::Valid);
}

#[test]
fn replacement_needs_the_bump_and_updates_debits() {
    let map = genesis(3, START);
    let mut p = pool(&map, PoolConfig::default());
    let pay = |amount, fee| {
        tx_with(2, 0, fee, 100, Payload::Transfer { to: addr(3), coin: coin(native(), amount) })
    };
    let a = pay(100_000, 2_000);
    assert!(p.admit(a.clone()).unwrap().is_valid());
    assert_eq!(
        p.admit(pay(200_000, 2_100)).unwrap(),
        Verdict::Invalid(Reason::ReplacementUnderpriced { required: 2_200, offered: 2_100 })
    );
    let b = pay(300_000, 2_200);
    assert_eq!(p.admit(b.clone()).unwrap(), Verdict::Valid);
    assert!(!p.contains(&a.id()) && p.contains(&b.id()));
    assert_eq!(p.stats().pending, 1);
    assert_eq!(p.pending_debit(&addr(2), &native()), 300_000 + fee_of(&b));
    let dropped = p.take_dropped();
    assert_eq!(dropped, vec![(a.id(), DropReason::Replaced { by: b.id() })]);
    // A later nonce sees the replaced debit.
    invalid("insufficient_available", &p.admit(send(2, 3, 1, 700_000)).unwrap());
    // A replacement that would overdraw is refused; the original stays.
    invalid("insufficient_available", &p.admit(pay(START, 3_000)).unwrap());
    assert!(p.contains(&b.id()));
    // The identical transaction again.
    invalid("already_known", &p.admit(b).unwrap());
}

#[test]
fn ttl_eviction_cascades_to_later_nonces() {
    let mut map = genesis(3, START);
    let cfg = PoolConfig { ttl_blocks: 2, ..PoolConfig::default() };
    let mut p = pool(&map, cfg);
    let t0 = send(2, 3, 0, 1);
    assert!(p.admit(t0.clone()).unwrap().is_valid());
    commit(&mut map, &mut p, 1, &[]);
    let t1 = send(2, 3, 1, 1);
    let t2 = send(2, 3, 2, 1);
    assert!(p.admit(t1.clone()).unwrap().is_valid());
    assert!(p.admit(t2.clone()).unwrap().is_valid());
    let other = send(3, 2, 0, 1);
    assert!(p.admit(other.clone()).unwrap().is_valid());
    let report = p.on_commit(map.clone(), 2, 2000, &[]).unwrap();
    assert_eq!(
        report.dropped,
        vec![
            (t0.id(), DropReason::Ttl),
            (t1.id(), DropReason::Cascade { cause: t0.id() }),
            (t2.id(), DropReason::Cascade { cause: t0.id() }),
        ]
    );
    assert_eq!(p.len(), 1);
    assert!(p.contains(&other.id()));
    assert_eq!(report.dropped[1].1.code(), "evicted_cascade");
}

#[test]
fn expiry_drops_and_cascades() {
    let mut map = genesis(3, START);
    let mut p = pool(&map, PoolConfig::default());
    let t0 = tx_with(2, 0, 10_000, 1, Payload::Transfer { to: addr(3), coin: coin(native(), 5) });
    let t1 = send(2, 3, 1, 5);
    assert!(p.admit(t0.clone()).unwrap().is_valid());
    assert!(p.admit(t1.clone()).unwrap().is_valid());
    commit(&mut map, &mut p, 1, &[]);
    assert!(p.is_empty());
    let dropped = p.take_dropped();
    assert_eq!(dropped[0].1.code(), "expired");
    assert_eq!(dropped[1], (t1.id(), DropReason::Cascade { cause: t0.id() }));
    // Admission itself refuses an expired transaction.
    let late = tx_with(2, 0, 10_000, 1, Payload::Transfer { to: addr(3), coin: coin(native(), 5) });
    invalid("expired", &p.admit(late).unwrap());
}

#[test]
fn capacity_eviction_takes_the_largest_senders_tail() {
    let map = genesis(6, START);
    let cfg = PoolConfig { max_txs: 4, ..PoolConfig::default() };
    let mut p = pool(&map, cfg);
    let a: Vec<_> = (0..4).map(|n| send(2, 1, n, 10)).collect();
    for t in &a {
        assert!(p.admit(t.clone()).unwrap().is_valid());
    }
    assert!(p.admit(send(3, 1, 0, 10)).unwrap().is_valid());
    assert!(!p.contains(&a[3].id()));
    assert_eq!(p.take_dropped(), vec![(a[3].id(), DropReason::Capacity)]);
    assert!(p.admit(send(4, 1, 0, 10)).unwrap().is_valid());
    assert!(!p.contains(&a[2].id()));
    assert!(p.admit(send(5, 1, 0, 10)).unwrap().is_valid());
    assert!(!p.contains(&a[1].id()));
    // Everybody holds one: nobody can be evicted for a newcomer.
    invalid("pool_full", &p.admit(send(6, 1, 0, 10)).unwrap());
    // Nor can the big sender grow again by evicting others.
    invalid("pool_full", &p.admit(send(2, 1, 1, 10)).unwrap());
    assert_eq!(p.len(), 4);
    // Debits of evicted transactions are released.
    assert_eq!(p.pending_debit(&addr(2), &native()), 10 + fee_of(&a[0]));
}

#[test]
fn recheck_after_commit_drops_what_the_block_invalidated() {
    let mut map = genesis(3, START);
    let mut p = pool(&map, PoolConfig::default());
    let a0 = send(2, 3, 0, 300_000);
    let a1 = send(2, 3, 1, 300_000);
    let a2 = send(2, 3, 2, 1_000);
    let b0 = send(3, 2, 0, 1_000);
    for t in [&a0, &a1, &a2, &b0] {
        assert!(p.admit(t.clone()).unwrap().is_valid());
    }
    // A block built elsewhere spends most of account 2's balance with its own nonce 0.
    let elsewhere = send(2, 1, 0, 900_000);
    let report = {
        let out = execute_block(&map, &ctx(1), std::slice::from_ref(&elsewhere)).unwrap();
        apply(&mut map, &out.overlay);
        p.on_commit(map.clone(), 1, 1000, &[elsewhere.id()]).unwrap()
    };
    let codes: Vec<_> = report.dropped.iter().map(|(id, r)| (*id, r.code())).collect();
    assert_eq!(
        codes,
        vec![(a0.id(), "nonce_too_low"), (a1.id(), "insufficient_available"), (a2.id(), "evicted_cascade")]
    );
    assert_eq!(report.included, 0);
    assert!(p.contains(&b0.id()));
    assert_eq!(p.pending_debit(&addr(2), &native()), 0);
    assert_eq!(p.next_nonce(&addr(2)).unwrap(), Some(1));
}

#[test]
fn included_transactions_leave_and_the_rest_stay_in_order() {
    let mut map = genesis(3, START);
    let mut p = pool(&map, PoolConfig::default());
    let txs: Vec<_> = (0..5).map(|n| send(2, 3, n, 1_000)).collect();
    for t in &txs {
        assert!(p.admit(t.clone()).unwrap().is_valid());
    }
    let block = p.reap(usize::MAX, 2);
    assert_eq!(block, txs[..2].to_vec());
    let receipts = commit(&mut map, &mut p, 1, &block);
    assert!(receipts.iter().all(|r| r.status == TxStatus::Success));
    assert_eq!(p.stats().pending, 3);
    assert_eq!(p.reap(usize::MAX, 10), txs[2..].to_vec());
    assert_eq!(p.pending_debit(&addr(2), &native()), 3 * (1_000 + fee_of(&txs[2])));
}

#[test]
fn gaps_wait_in_the_future_queue_and_are_promoted() {
    let map = genesis(3, START);
    let mut p = pool(&map, PoolConfig::default());
    assert_eq!(p.admit(send(2, 3, 2, 1)).unwrap(), Verdict::Queued { expected: 0 });
    assert_eq!(p.admit(send(2, 3, 1, 1)).unwrap(), Verdict::Queued { expected: 0 });
    assert_eq!(p.stats().queued, 2);
    assert!(p.reap(usize::MAX, 10).is_empty());
    assert_eq!(p.admit(send(2, 3, 0, 1)).unwrap(), Verdict::Valid);
    assert_eq!(p.stats().pending, 3);
    assert_eq!(p.stats().queued, 0);
    let far = send(2, 3, 3 + PoolConfig::default().max_nonce_gap + 1, 1);
    invalid("nonce_too_high", &p.admit(far).unwrap());
}

#[test]
fn promotion_rechecks_funds() {
    let map = genesis(3, START);
    let mut p = pool(&map, PoolConfig::default());
    // Queued before its funds are judged; promoted only if it fits.
    assert!(matches!(p.admit(send(2, 3, 1, 900_000)).unwrap(), Verdict::Queued { .. }));
    assert!(matches!(p.admit(send(2, 3, 2, 1)).unwrap(), Verdict::Queued { .. }));
    assert_eq!(p.admit(send(2, 3, 0, 500_000)).unwrap(), Verdict::Valid);
    assert_eq!(p.stats(), PoolStats { pending: 1, queued: 0, bytes: p.stats().bytes, senders: 1 });
    let codes: Vec<_> = p.take_dropped().iter().map(|(_, r)| r.code()).collect();
    assert_eq!(codes, vec!["insufficient_available", "evicted_cascade"]);
}

#[test]
fn reap_is_round_robin_across_senders() {
    let mut map = genesis(5, START);
    let mut p = pool(&map, PoolConfig::default());
    let a: Vec<_> = (0..10).map(|n| send(2, 1, n, 1)).collect();
    for t in &a {
        assert!(p.admit(t.clone()).unwrap().is_valid());
    }
    let b = send(3, 1, 0, 1);
    let c = send(4, 1, 0, 1);
    let d = send(5, 1, 0, 1);
    for t in [&b, &c, &d] {
        assert!(p.admit(t.clone()).unwrap().is_valid());
    }
    let block = p.reap(usize::MAX, 4);
    assert_eq!(block, vec![a[0].clone(), b.clone(), c.clone(), d.clone()]);
    let block = p.reap(usize::MAX, 6);
    assert_eq!(block, vec![a[0].clone(), b.clone(), c.clone(), d.clone(), a[1].clone(), a[2].clone()]);
    // A byte budget that fits three transactions.
    let one = encode(&a[0]).len();
    assert_eq!(p.reap(3 * one, 100).len(), 3);
    // After A is served it goes behind senders that were not.
    commit(&mut map, &mut p, 1, &[a[0].clone()]);
    let e = send(1, 2, 0, 1);
    assert!(p.admit(e.clone()).unwrap().is_valid());
    let block = p.reap(usize::MAX, 5);
    assert_eq!(block, vec![b, c, d, a[1].clone(), e]);
}

#[test]
fn envelope_reasons() {
    let map = genesis(3, START);
    let mut p = pool(&map, PoolConfig::default());
    let mut bad = send(2, 3, 0, 1);
    bad.tx.nonce = 1;
    invalid("bad_signature", &p.admit(bad.clone()).unwrap());
    assert_eq!(p.admit_verified(bad).unwrap(), Verdict::Queued { expected: 0 }); // caller vouched
    let other = Transaction {
        chain_id: ChainId::new("other").unwrap(),
        sender: addr(2),
        nonce: 0,
        expiry_height: 10,
        max_fee: Amount(10_000),
        payload: Payload::Burn { coin: coin(native(), 1) },
    }
    .sign(&key(2));
    invalid("wrong_chain", &p.admit(other).unwrap());
    invalid("unknown_sender", &p.admit(send(9, 1, 0, 1)).unwrap());
    let mut wrong = send(9, 1, 0, 1);
    wrong.tx.sender = addr(3);
    let wrong = wrong.tx.sign(&key(9));
    invalid("wrong_key", &p.admit(wrong).unwrap());
    let cheap = tx_with(3, 0, 10, 10, Payload::Burn { coin: coin(native(), 1) });
    invalid("fee_too_low", &p.admit(cheap).unwrap());
    invalid("invalid_amount", &p.admit(send(3, 1, 0, 0)).unwrap());
    let conf = tx(3, 0, Payload::Confidential(ConfidentialOp::Deposit { coin: coin(native(), 1) }));
    // Confidential payloads are judged now (issue 8 item 4): a deposit by an unregistered account is refused.
    invalid("confidential_not_registered", &p.admit(conf).unwrap());
    assert!(p.get(&send(3, 1, 0, 0).id()).is_none());
}

#[test]
fn fee_and_payload_debits_per_asset() {
    let mut map = genesis(3, 3_000);
    let mut p = pool(&map, PoolConfig::default());
    // Mint debits only the fee; the issuer mints USD to 2 and 3.
    let m1 = tx(ISSUER, 0, Payload::Mint { to: addr(2), coin: coin(usd(), 1_000) });
    let m2 = tx(ISSUER, 1, Payload::Mint { to: addr(3), coin: coin(usd(), 1_000) });
    assert!(p.admit(m1.clone()).unwrap().is_valid());
    assert!(p.admit(m2.clone()).unwrap().is_valid());
    assert_eq!(p.pending_debit(&addr(ISSUER), &usd()), 0);
    // A third fee does not fit in 3 000.
    let m3 = tx(ISSUER, 2, Payload::Mint { to: addr(3), coin: coin(usd(), 1) });
    invalid("cannot_pay_fee", &p.admit(m3).unwrap());
    // Minted USD is a pending credit: not spendable yet.
    invalid("insufficient_available", &p.admit(tx(2, 0, Payload::Burn { coin: coin(usd(), 1) })).unwrap());
    commit(&mut map, &mut p, 1, &[m1, m2]);
    assert_eq!(bal(&map, &addr(2), &usd()), 1_000);
    // USD debits and native fee debits are tracked separately.
    let burn = tx(2, 0, Payload::Burn { coin: coin(usd(), 600) });
    assert!(p.admit(burn).unwrap().is_valid());
    let v = p.admit(tx(2, 1, Payload::Transfer { to: addr(3), coin: coin(usd(), 500) })).unwrap();
    assert_eq!(
        v,
        Verdict::Invalid(Reason::InsufficientAvailable { asset: usd(), available: 400, needed: 500 })
    );
    // Contract calls: the attached funds are the declared debit.
    let call = |nonce, amount| {
        tx(
            3,
            nonce,
            Payload::Call {
                contract: Address([7; 32]),
                method: "place_order".into(),
                args: vec![],
                funds: vec![coin(usd(), amount), coin(usd(), amount)],
                fuel_limit: 1_000,
            },
        )
    };
    invalid("insufficient_available", &p.admit(call(0, 501)).unwrap());
    assert!(p.admit(call(0, 500)).unwrap().is_valid());
    assert_eq!(p.pending_debit(&addr(3), &usd()), 1_000);
}

/// A contract payload declaring more fuel than the chain's `max_tx_fuel` would fail at execution (and one
/// above a block's fuel would stop every block's building at it): it is refused, however much it pays.
#[test]
fn fuel_above_the_chains_limit_is_refused() {
    let map = genesis(3, 10u128.pow(30));
    let mut p = pool(&map, PoolConfig::default());
    let max = purse_runtime::Params::default().max_tx_fuel;
    let call = |nonce, fuel_limit| {
        tx_with(
            3,
            nonce,
            10u128.pow(24),
            1_000,
            Payload::Call {
                contract: Address([7; 32]),
                method: "run".into(),
                args: vec![],
                funds: vec![],
                fuel_limit,
            },
        )
    };
    let v = p.admit(call(0, max + 1)).unwrap();
    assert_eq!(v, Verdict::Invalid(Reason::FuelTooHigh { fuel: max + 1, max }));
    invalid("fuel_too_high", &p.admit(call(0, u64::MAX)).unwrap());
    assert!(p.admit(call(0, max)).unwrap().is_valid());
}

#[test]
fn nonce_too_low_and_check_does_not_insert() {
    let mut map = genesis(3, START);
    let mut p = pool(&map, PoolConfig::default());
    let t = send(2, 3, 0, 1);
    assert_eq!(p.check(&t).unwrap(), Verdict::Valid);
    assert!(p.is_empty());
    assert!(p.admit(t.clone()).unwrap().is_valid());
    commit(&mut map, &mut p, 1, &[t]);
    assert_eq!(
        p.check(&send(2, 3, 0, 2)).unwrap(),
        Verdict::Invalid(Reason::NonceTooLow { committed: 1, got: 0 })
    );
}

#[test]
fn sender_and_future_bounds() {
    let map = genesis(3, START);
    let cfg = PoolConfig { max_per_sender: 3, max_future_per_sender: 1, ..PoolConfig::default() };
    let mut p = pool(&map, cfg);
    assert!(matches!(p.admit(send(2, 3, 5, 1)).unwrap(), Verdict::Queued { .. }));
    invalid("future_queue_full", &p.admit(send(2, 3, 6, 1)).unwrap());
    assert!(p.admit(send(2, 3, 0, 1)).unwrap().is_valid());
    assert!(p.admit(send(2, 3, 1, 1)).unwrap().is_valid());
    invalid("sender_full", &p.admit(send(2, 3, 2, 1)).unwrap());
}

#[test]
fn admit_batch_verifies_signatures() {
    let map = genesis(3, START);
    let mut p = pool(&map, PoolConfig::default());
    let mut bad = send(3, 1, 0, 1);
    bad.tx.nonce = 0;
    bad.signature = send(3, 1, 0, 2).signature;
    let v = p.admit_batch(vec![send(2, 1, 0, 1), bad, send(2, 1, 1, 1)]).unwrap();
    let codes: Vec<_> = v.iter().map(Verdict::code).collect();
    assert_eq!(codes, vec!["valid", "bad_signature", "valid"]);
    assert!(p.memory_estimate() > 0);
    let _ = schema::chain_key();
}
