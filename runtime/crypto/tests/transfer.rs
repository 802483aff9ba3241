//! Confidential transfers: the honest path and every attack of issue 9, each rejected by `verify`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
use curve25519_dalek::ristretto::RistrettoPoint;
use purse_crypto::*;
use purse_types::{AssetId, ChainId};

fn s(v: u64) -> Scalar {
    Scalar::from(v)
}

fn limbs(v: u64) -> [Scalar; 4] {
    [0, 1, 2, 3].map(|i| s((v >> (16 * i)) & 0xffff))
}

fn limb_values(v: u64) -> [u64; 4] {
    [0, 1, 2, 3].map(|i| (v >> (16 * i)) & 0xffff)
}

/// Re-encodes after tampering through the public fields (all wire points are canonical here).
fn tamper(b: &TransferBundle, f: impl FnOnce(&mut TransferBundle)) -> TransferBundle {
    let mut b = b.clone();
    f(&mut b);
    b
}

fn commitment_plus(c: &PedersenCommitment, p: RistrettoPoint) -> PedersenCommitment {
    let bytes = (c.point() + p).compress().to_bytes();
    from_bytes(&bytes).unwrap()
}

fn handle_of(p: RistrettoPoint) -> DecryptHandle {
    from_bytes(&p.compress().to_bytes()).unwrap()
}

#[test]
fn valid_transfer_verifies_and_every_reader_decrypts() {
    let st = setup(1_000_000, 1);
    let amount = 123_456; // lo and hi both non-zero
    let b = st.transfer(amount, 2);
    let fx = st.verify(&b).unwrap();
    assert_eq!(wallet::decrypt_incoming(st.bob.secret(), &b).unwrap(), amount);
    assert_eq!(wallet::auditor_decrypt(st.auditor.secret(), &b).unwrap(), amount);
    assert_eq!(wallet::decrypt_outgoing(st.alice.secret(), &b).unwrap(), amount);
    assert!(fx.source_new_available.decrypts_to(st.alice.secret(), st.balance - amount));
    assert_eq!(fx.source_new_available.decrypt_bounded(st.alice.secret(), 32).unwrap(), st.balance - amount);
    assert!(fx.destination_credit.decrypts_to(st.bob.secret(), amount));
    assert_eq!(
        wallet::decrypt_amount(st.bob.secret(), &fx.destination_credit_lo, &fx.destination_credit_hi)
            .unwrap(),
        amount
    );
    let (alo, ahi) = fx.auditor_credit.unwrap();
    assert_eq!(wallet::decrypt_amount(st.auditor.secret(), &alo, &ahi).unwrap(), amount);
    // Bob cannot read it with the wrong key.
    assert!(!fx.destination_credit.decrypts_to(st.alice.secret(), amount));
    // Wire round trip, then verify again.
    let bytes = to_bytes(&b);
    let back: TransferBundle = from_bytes(&bytes).unwrap();
    assert_eq!(back, b);
    st.verify(&back).unwrap();
}

#[test]
fn edge_amounts_zero_full_balance_and_max() {
    let st = setup(MAX_TRANSFER_AMOUNT + 5, 3);
    for (i, amount) in [0, 1, 65_535, 65_536, MAX_TRANSFER_AMOUNT].into_iter().enumerate() {
        let b = st.transfer(amount, 10 + i as u64);
        let fx = st.verify(&b).unwrap();
        assert_eq!(wallet::decrypt_incoming(st.bob.secret(), &b).unwrap(), amount);
        assert!(fx.source_new_available.decrypts_to(st.alice.secret(), st.balance - amount));
    }
    let st = setup(70_000, 4);
    let b = st.transfer(70_000, 5); // spend everything
    let fx = st.verify(&b).unwrap();
    assert!(fx.source_new_available.decrypts_to(st.alice.secret(), 0));
}

#[test]
fn transfer_without_auditor() {
    let st = setup(5000, 6);
    let b = wallet::build_transfer(
        &st.alice,
        st.balance,
        &st.available,
        42,
        st.bob.pubkey(),
        None,
        &st.ctx,
        &mut rng(7),
    )
    .unwrap();
    let fx = b.verify(&st.ctx, st.alice.pubkey(), st.bob.pubkey(), None, &st.available).unwrap();
    assert!(fx.auditor_credit.is_none());
    assert!(wallet::auditor_decrypt(st.auditor.secret(), &b).is_err());
    // The asset has an auditor but the bundle carries no auditor handle: rejected.
    let err = b.verify(&st.ctx, st.alice.pubkey(), st.bob.pubkey(), Some(st.auditor.pubkey()), &st.available);
    assert_eq!(err, Err(CryptoError::AuditorMismatch));
    // And the reverse.
    let with = st.transfer(42, 8);
    let err = with.verify(&st.ctx, st.alice.pubkey(), st.bob.pubkey(), None, &st.available);
    assert_eq!(err, Err(CryptoError::AuditorMismatch));
    // A different auditor key than the one the handles were made for.
    let other = ElGamalKeypair::random(&mut rng(9));
    let err = with.verify(&st.ctx, st.alice.pubkey(), st.bob.pubkey(), Some(other.pubkey()), &st.available);
    assert_eq!(err, Err(CryptoError::SigmaProof));
}

#[test]
fn prover_refuses_what_it_cannot_prove() {
    let st = setup(1000, 11);
    let mk = |amount: u64, balance: u64| {
        wallet::build_transfer(
            &st.alice,
            balance,
            &st.available,
            amount,
            st.bob.pubkey(),
            None,
            &st.ctx,
            &mut rng(1),
        )
    };
    assert!(matches!(mk(1001, 1000), Err(CryptoError::AmountOutOfRange(_))));
    assert!(matches!(mk(MAX_TRANSFER_AMOUNT + 1, u64::MAX), Err(CryptoError::BalanceMismatch)));
    assert!(matches!(
        TransferWitness::honest(u64::MAX, MAX_TRANSFER_AMOUNT + 1),
        Err(CryptoError::AmountOutOfRange(_))
    ));
    // A wallet that lies about its balance is caught before proving.
    assert_eq!(mk(10, 999).unwrap_err(), CryptoError::BalanceMismatch);
}

/// Sanity check for the attack tests below: an honest witness built by hand verifies, so each attack
/// differs from a passing proof only in the one field it falsifies.
#[test]
fn handmade_honest_witness_verifies() {
    let st = setup(1000, 12);
    let w = TransferWitness::honest(st.balance, 300).unwrap();
    st.verify(&st.prove_witness(&w, 1)).unwrap();
}

#[test]
fn negative_amount_is_rejected() {
    // Amount ℓ − k: lo = −k. The sigma proofs are all true statements (the remaining balance is
    // balance + k, committed honestly in limbs); only the range proof can catch it.
    let st = setup(1000, 13);
    let k = 500u64;
    let remaining = st.balance + k;
    let w = TransferWitness {
        lo: -s(k),
        hi_limbs: [s(0), s(0)],
        new_balance_limbs: limbs(remaining),
        new_balance: s(remaining),
        range_values: {
            let b = limb_values(remaining);
            [b[0], b[1], b[2], b[3], k, 0, 0, 0]
        },
        handle_tweaks: [Scalar::ZERO; 3],
    };
    assert_eq!(st.verify(&st.prove_witness(&w, 1)).unwrap_err(), CryptoError::RangeProof);
    // hi negative instead: h0 = −1, so the amount is −2^16 and the remaining balance grows by 2^16.
    let remaining = st.balance + (1 << 16);
    let b = limb_values(remaining);
    let w = TransferWitness {
        lo: s(0),
        hi_limbs: [-s(1), s(0)],
        new_balance_limbs: limbs(remaining),
        new_balance: s(remaining),
        range_values: [b[0], b[1], b[2], b[3], 0, 1, 0, 0],
        handle_tweaks: [Scalar::ZERO; 3],
    };
    assert_eq!(st.verify(&st.prove_witness(&w, 2)).unwrap_err(), CryptoError::RangeProof);
}

fn pow(k: u32) -> Scalar {
    s(1u64 << k)
}

#[test]
fn amount_at_or_above_2_64_is_rejected() {
    let st = setup(1000, 14);
    // amount = 2^64: lo = 0, hi = 2^48 = 0 + 2^16·2^32 (limb h1 = 2^32 ≥ 2^16).
    let remaining = s(st.balance) - pow(32) * pow(32);
    let w = TransferWitness {
        lo: s(0),
        hi_limbs: [s(0), pow(32)],
        new_balance_limbs: [remaining, s(0), s(0), s(0)],
        new_balance: remaining,
        range_values: [0, 0, 0, 0, 0, 0, 1 << 32, 0],
        handle_tweaks: [Scalar::ZERO; 3],
    };
    assert_eq!(st.verify(&st.prove_witness(&w, 1)).unwrap_err(), CryptoError::RangeProof);
}

#[test]
fn lo_at_or_above_2_16_is_rejected() {
    let st = setup(10_000_000, 15);
    // lo = 2^16 + 5 as an integer (the total would still be a fine amount).
    let amount = (1u64 << 16) + 5;
    let remaining = st.balance - amount;
    let b = limb_values(remaining);
    let w = TransferWitness {
        lo: s(amount),
        hi_limbs: [s(0), s(0)],
        new_balance_limbs: limbs(remaining),
        new_balance: s(remaining),
        range_values: [b[0], b[1], b[2], b[3], amount, 0, 0, 0],
        handle_tweaks: [Scalar::ZERO; 3],
    };
    assert_eq!(st.verify(&st.prove_witness(&w, 1)).unwrap_err(), CryptoError::RangeProof);
    // The wrap-around pitfall: lo = 2^-48·v mod ℓ satisfies "2^48·lo < 2^64" but is a huge integer.
    let lo = pow(48).invert() * s(7);
    let remaining_s = s(st.balance) - lo;
    let w = TransferWitness {
        lo,
        hi_limbs: [s(0), s(0)],
        new_balance_limbs: [remaining_s, s(0), s(0), s(0)],
        new_balance: remaining_s,
        range_values: [0, 0, 0, 0, 7, 0, 0, 0],
        handle_tweaks: [Scalar::ZERO; 3],
    };
    assert_eq!(st.verify(&st.prove_witness(&w, 2)).unwrap_err(), CryptoError::RangeProof);
}

#[test]
fn hi_at_or_above_2_32_is_rejected() {
    let st = setup(u64::MAX / 2, 16);
    // hi = 2^32 written as h0 = 0, h1 = 2^16: limb h1 out of range.
    let amount = 1u64 << 48;
    let remaining = st.balance - amount;
    let b = limb_values(remaining);
    let w = TransferWitness {
        lo: s(0),
        hi_limbs: [s(0), pow(16)],
        new_balance_limbs: limbs(remaining),
        new_balance: s(remaining),
        range_values: [b[0], b[1], b[2], b[3], 0, 0, 1 << 16, 0],
        handle_tweaks: [Scalar::ZERO; 3],
    };
    assert_eq!(st.verify(&st.prove_witness(&w, 1)).unwrap_err(), CryptoError::RangeProof);
    // hi = 2^16 written with an oversized limb h0 = 2^16 + 1 and h1 = −2^-16 (so h0 + 2^16·h1 = 2^16):
    // the amount 5 + 2^32 and the remaining balance are honest, only the limb ranges are false.
    let amount = 5 + (1u64 << 32);
    let remaining = st.balance - amount;
    let b = limb_values(remaining);
    let w = TransferWitness {
        lo: s(5),
        hi_limbs: [s((1 << 16) + 1), -(pow(16).invert())],
        new_balance_limbs: limbs(remaining),
        new_balance: s(remaining),
        range_values: [b[0], b[1], b[2], b[3], 5, (1 << 16) + 1, 0, 0],
        handle_tweaks: [Scalar::ZERO; 3],
    };
    assert_eq!(st.verify(&st.prove_witness(&w, 2)).unwrap_err(), CryptoError::RangeProof);
}

#[test]
fn negative_remaining_balance_is_rejected() {
    let st = setup(100, 17);
    let amount = 150u64;
    let remaining = s(st.balance) - s(amount); // ℓ − 50
    let w = TransferWitness {
        lo: s(amount),
        hi_limbs: [s(0), s(0)],
        new_balance_limbs: [remaining, s(0), s(0), s(0)],
        new_balance: remaining,
        range_values: [0, 0, 0, 0, amount, 0, 0, 0],
        handle_tweaks: [Scalar::ZERO; 3],
    };
    assert_eq!(st.verify(&st.prove_witness(&w, 1)).unwrap_err(), CryptoError::RangeProof);
    // Limbs that are each small but sum (mod ℓ) to the negative remaining balance cannot exist; a top limb
    // carrying the wrap is out of range.
    let top = (remaining - s(0xffff) - pow(16) * s(0xffff) - pow(32) * s(0xffff)) * pow(48).invert();
    let w = TransferWitness {
        new_balance_limbs: [s(0xffff), s(0xffff), s(0xffff), top],
        range_values: [0xffff, 0xffff, 0xffff, 0xffff, amount, 0, 0, 0],
        handle_tweaks: [Scalar::ZERO; 3],
        ..w
    };
    assert_eq!(st.verify(&st.prove_witness(&w, 2)).unwrap_err(), CryptoError::RangeProof);
    // Inflating the remaining balance: limbs commit to more than balance − amount (all in range).
    let st = setup(10_000, 26);
    let mut w = TransferWitness::honest(st.balance, 150).unwrap();
    w.new_balance_limbs = limbs(st.balance - 150 + 1000);
    w.range_values[..4].copy_from_slice(&limb_values(st.balance - 150 + 1000));
    assert_eq!(st.verify(&st.prove_witness(&w, 4)).unwrap_err(), CryptoError::SigmaProof);
    let st = setup(100, 17);
    // Lying about the balance (claiming 1000) breaks the equality proof instead.
    let w = TransferWitness::honest(1000, amount).unwrap();
    assert_eq!(st.verify(&st.prove_witness(&w, 3)).unwrap_err(), CryptoError::SigmaProof);
}

#[test]
fn replay_with_any_context_field_changed_fails() {
    let st = setup(10_000, 18);
    let b = st.transfer(777, 1);
    st.verify(&b).unwrap();
    let variants = [
        TransferContext { recipient: addr(3), ..st.ctx.clone() },
        TransferContext { sender: addr(4), ..st.ctx.clone() },
        TransferContext { nonce: st.ctx.nonce + 1, ..st.ctx.clone() },
        TransferContext { chain_id: ChainId::new("purse-test-2").unwrap(), ..st.ctx.clone() },
        TransferContext { asset: AssetId([8; 32]), ..st.ctx.clone() },
    ];
    for c in variants {
        let r = b.verify(&c, st.alice.pubkey(), st.bob.pubkey(), Some(st.auditor.pubkey()), &st.available);
        assert_eq!(r.unwrap_err(), CryptoError::SigmaProof, "{c:?}");
    }
    // A different available-balance ciphertext (e.g. an old one).
    let other = st.available.add_amount(1);
    let r = b.verify(&st.ctx, st.alice.pubkey(), st.bob.pubkey(), Some(st.auditor.pubkey()), &other);
    assert_eq!(r.unwrap_err(), CryptoError::SigmaProof);
    // A different recipient key (the handles were made for Bob).
    let carol = ElGamalKeypair::random(&mut rng(2));
    let r = b.verify(&st.ctx, st.alice.pubkey(), carol.pubkey(), Some(st.auditor.pubkey()), &st.available);
    assert_eq!(r.unwrap_err(), CryptoError::SigmaProof);
}

#[test]
fn changed_ciphertext_or_garbage_handle_fails() {
    let st = setup(10_000, 19);
    let b = st.transfer(70_000 % 9_000, 1);
    let garbage = |seed| handle_of(RistrettoPoint::random(&mut rng(seed)));
    let cases: Vec<TransferBundle> = vec![
        tamper(&b, |b| b.amount_lo.handles.destination = garbage(1)),
        tamper(&b, |b| b.amount_hi_handles.destination = garbage(2)),
        tamper(&b, |b| b.amount_lo.handles.source = garbage(3)),
        tamper(&b, |b| b.amount_hi_handles.source = garbage(4)),
        tamper(&b, |b| b.amount_lo.handles.auditor = Some(garbage(5))),
        tamper(&b, |b| b.amount_hi_handles.auditor = Some(garbage(6))),
        // swap two handles
        tamper(&b, |b| std::mem::swap(&mut b.amount_lo.handles.source, &mut b.amount_lo.handles.destination)),
    ];
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(st.verify(c).unwrap_err(), CryptoError::SigmaProof, "case {i}");
    }
}

#[test]
fn handle_with_garbage_randomness_cannot_be_proved() {
    // A malicious sender encrypts the opening to Bob with a different r: r'·P_bob. It cannot produce a
    // validity proof for it; the best it can do is reuse the honest proof, which fails.
    let st = setup(10_000, 20);
    let b = st.transfer(1234, 1);
    let r_garbage = PedersenOpening::random(&mut rng(3));
    let bad =
        tamper(&b, |b| b.amount_lo.handles.destination = DecryptHandle::new(st.bob.pubkey(), &r_garbage));
    assert_eq!(st.verify(&bad).unwrap_err(), CryptoError::SigmaProof);
}

#[test]
fn handle_that_does_not_open_the_commitment_is_rejected_even_with_a_fresh_proof() {
    // The prover builds every proof itself, with one reader's handles made from r + δ: the validity proof
    // cannot cover them. Each reader (source, destination, auditor) is checked.
    let st = setup(10_000, 25);
    for reader in 0..3 {
        let mut w = TransferWitness::honest(st.balance, 4242).unwrap();
        w.handle_tweaks[reader] = Scalar::from(99u64);
        let b = st.prove_witness(&w, reader as u64);
        assert_eq!(st.verify(&b).unwrap_err(), CryptoError::SigmaProof, "reader {reader}");
    }
    // The destination indeed could not decrypt it.
    let mut w = TransferWitness::honest(st.balance, 4242).unwrap();
    w.handle_tweaks[1] = Scalar::from(99u64);
    let b = st.prove_witness(&w, 9);
    assert!(wallet::decrypt_incoming(st.bob.secret(), &b).is_err());
}

#[test]
fn malleated_commitments_fail() {
    let st = setup(10_000, 21);
    let b = st.transfer(4321, 1);
    let cases: Vec<TransferBundle> = vec![
        tamper(&b, |b| b.amount_lo.commitment = commitment_plus(&b.amount_lo.commitment, G)),
        tamper(&b, |b| b.amount_hi_limbs[0] = commitment_plus(&b.amount_hi_limbs[0], G)),
        tamper(&b, |b| b.amount_hi_limbs[1] = commitment_plus(&b.amount_hi_limbs[1], -G)),
        tamper(&b, |b| b.new_balance_limbs[0] = commitment_plus(&b.new_balance_limbs[0], G)),
        tamper(&b, |b| b.new_balance_limbs[3] = commitment_plus(&b.new_balance_limbs[3], G)),
        // shifting value between limbs keeps C' but breaks the limb ranges' binding
        tamper(&b, |b| {
            b.new_balance_limbs[0] = commitment_plus(&b.new_balance_limbs[0], Scalar::from(65536u64) * G);
            b.new_balance_limbs[1] = commitment_plus(&b.new_balance_limbs[1], -G);
        }),
        tamper(&b, |b| b.amount_hi_limbs.swap(0, 1)),
    ];
    for (i, c) in cases.iter().enumerate() {
        assert!(st.verify(c).is_err(), "case {i}");
    }
    // Proof components swapped in from another valid transfer.
    let other = st.transfer(4321, 2);
    let mixes = [
        tamper(&b, |b| b.range_proof = other.range_proof.clone()),
        tamper(&b, |b| b.equality_proof = other.equality_proof),
        tamper(&b, |b| b.validity_proof = other.validity_proof.clone()),
        tamper(&b, |b| b.new_balance_limbs = other.new_balance_limbs),
    ];
    for (i, c) in mixes.iter().enumerate() {
        assert!(st.verify(c).is_err(), "mix {i}");
    }
    st.verify(&other).unwrap();
}

#[test]
fn proof_built_for_another_account_fails() {
    let st = setup(10_000, 22);
    let b = st.transfer(100, 1);
    let mallory = ElGamalKeypair::random(&mut rng(5));
    // Checked against another sender's key.
    let r = b.verify(&st.ctx, mallory.pubkey(), st.bob.pubkey(), Some(st.auditor.pubkey()), &st.available);
    assert_eq!(r.unwrap_err(), CryptoError::SigmaProof);
    // Mallory proves with her own key against Alice's balance ciphertext, claiming Alice's balance.
    let forged = TransferBundle::prove(
        &mallory,
        &st.available,
        st.balance,
        100,
        st.bob.pubkey(),
        Some(st.auditor.pubkey()),
        &st.ctx,
        &mut rng(6),
    )
    .unwrap();
    assert_eq!(st.verify(&forged).unwrap_err(), CryptoError::SigmaProof);
}

#[test]
fn credit_between_proof_and_inclusion_keeps_the_proof_valid() {
    // Incoming credits land in pending, never in available: Alice's proof against her available balance
    // verifies after Bob's transfer to her was applied.
    let st = setup(10_000, 23);
    let alice_tx = st.transfer(500, 1);
    let bob_to_alice = wallet::build_transfer(
        &st.bob,
        0,
        &ElGamalCiphertext::zero(),
        0,
        st.alice.pubkey(),
        None,
        &TransferContext { sender: addr(2), recipient: addr(1), ..st.ctx.clone() },
        &mut rng(2),
    )
    .unwrap();
    let fx = bob_to_alice
        .verify(
            &TransferContext { sender: addr(2), recipient: addr(1), ..st.ctx.clone() },
            st.bob.pubkey(),
            st.alice.pubkey(),
            None,
            &ElGamalCiphertext::zero(),
        )
        .unwrap();
    let alice_pending = ElGamalCiphertext::zero().add(&fx.destination_credit);
    assert!(alice_pending.decrypts_to(st.alice.secret(), 0));
    st.verify(&alice_tx).unwrap();
}

#[test]
fn batch_verification_matches_single() {
    let st = setup(1_000_000, 24);
    let bundles: Vec<TransferBundle> = (0..5).map(|i| st.transfer(1000 * i + 1, 100 + i)).collect();
    let items: Vec<TransferVerifyItem<'_>> = bundles
        .iter()
        .map(|b| TransferVerifyItem {
            bundle: b,
            ctx: &st.ctx,
            source_pubkey: st.alice.pubkey(),
            destination_pubkey: st.bob.pubkey(),
            auditor_pubkey: Some(st.auditor.pubkey()),
            source_available: &st.available,
        })
        .collect();
    let fx = verify_batch(&items).unwrap();
    for (b, f) in bundles.iter().zip(&fx) {
        assert_eq!(st.verify(b).unwrap(), *f);
    }
    assert!(verify_batch(&[]).unwrap().is_empty());
    // One bad sigma proof at index 3, one bad range proof at index 1: the first failing item is named.
    let bad_sigma =
        tamper(&bundles[3], |b| b.amount_lo.handles.destination = bundles[2].amount_lo.handles.destination);
    let mut items2 = items.clone();
    items2[3].bundle = &bad_sigma;
    match verify_batch(&items2) {
        Err(CryptoError::Batch { index: 3, error }) => assert_eq!(*error, CryptoError::SigmaProof),
        other => panic!("{other:?}"),
    }
    let w = TransferWitness {
        lo: -Scalar::from(5u64),
        hi_limbs: [Scalar::ZERO; 2],
        new_balance_limbs: limbs(st.balance + 5),
        new_balance: Scalar::from(st.balance + 5),
        range_values: {
            let b = limb_values(st.balance + 5);
            [b[0], b[1], b[2], b[3], 5, 0, 0, 0]
        },
        handle_tweaks: [Scalar::ZERO; 3],
    };
    let bad_range = st.prove_witness(&w, 9);
    items2[1].bundle = &bad_range;
    items2[3].bundle = &bundles[3];
    match verify_batch(&items2) {
        Err(CryptoError::Batch { index: 1, error }) => assert_eq!(*error, CryptoError::RangeProof),
        other => panic!("{other:?}"),
    }
    // Two sigma-invalid items whose errors might cancel in a naive unweighted sum.
    let b0 = tamper(&bundles[0], |b| b.amount_lo.commitment = commitment_plus(&b.amount_lo.commitment, G));
    let b1 = tamper(&bundles[1], |b| b.amount_lo.commitment = commitment_plus(&b.amount_lo.commitment, -G));
    let mut items3 = items.clone();
    items3[0].bundle = &b0;
    items3[1].bundle = &b1;
    assert!(verify_batch(&items3).is_err());
}
