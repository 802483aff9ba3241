//! Registration (proof of possession), withdraw, deposit, zero-balance and the decryptable balance.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use purse_crypto::*;

#[test]
fn registration_requires_possession_of_the_secret() {
    let alice = ElGamalKeypair::random(&mut rng(1));
    let mallory = ElGamalKeypair::random(&mut rng(2));
    let ctx = account_ctx(1);
    let proof = PubkeyValidityProof::new(&alice, &ctx, &mut rng(3));
    proof.verify(alice.pubkey(), &ctx).unwrap();
    // Rogue key: Mallory registers Alice's public key (to receive funds Alice can read, or to confuse
    // audits) — she cannot prove possession; her own proof does not fit that key.
    let hers = PubkeyValidityProof::new(&mallory, &ctx, &mut rng(4));
    assert_eq!(hers.verify(alice.pubkey(), &ctx), Err(CryptoError::PubkeyValidity));
    // Replaying Alice's proof for Mallory's account, another nonce, chain or asset fails.
    for c in [
        account_ctx(2),
        AccountContext { nonce: 4, ..ctx.clone() },
        AccountContext { chain_id: purse_types::ChainId::new("other").unwrap(), ..ctx.clone() },
        AccountContext { asset: purse_types::AssetId([1; 32]), ..ctx.clone() },
    ] {
        assert_eq!(proof.verify(alice.pubkey(), &c), Err(CryptoError::PubkeyValidity));
    }
    // A key that is not s⁻¹·H for a known s: e.g. a hash-to-curve point. Without s no proof can be made;
    // a proof for some other key does not transfer.
    let rogue: ElGamalPubkey =
        from_bytes(&curve25519_dalek::ristretto::RistrettoPoint::random(&mut rng(9)).compress().to_bytes())
            .unwrap();
    assert_eq!(proof.verify(&rogue, &ctx), Err(CryptoError::PubkeyValidity));
    // The identity is not a public key.
    assert!(ElGamalPubkey::from_bytes([0; 32]).is_err());
    // Wire round trip.
    let back: PubkeyValidityProof = from_bytes(&to_bytes(&proof)).unwrap();
    back.verify(alice.pubkey(), &ctx).unwrap();
}

#[test]
fn withdraw_honest_and_attacks() {
    let kp = ElGamalKeypair::random(&mut rng(5));
    let ctx = account_ctx(1);
    let available = deposit(&ElGamalCiphertext::zero(), 1000).add(&ElGamalCiphertext::encrypt_with(
        234,
        kp.pubkey(),
        &PedersenOpening::random(&mut rng(6)),
    ));
    let balance = 1234;
    let w = wallet::build_withdraw(&kp, balance, &available, 1000, &ctx, &mut rng(7)).unwrap();
    let fx = w.verify(&ctx, kp.pubkey(), &available).unwrap();
    assert_eq!(fx.amount, 1000);
    assert!(fx.new_available.decrypts_to(kp.secret(), 234));
    let back: WithdrawBundle = from_bytes(&to_bytes(&w)).unwrap();
    back.verify(&ctx, kp.pubkey(), &available).unwrap();
    // Withdraw everything.
    let all = WithdrawBundle::prove(&kp, &available, balance, balance, &ctx, &mut rng(8)).unwrap();
    assert!(all.verify(&ctx, kp.pubkey(), &available).unwrap().new_available.decrypts_to(kp.secret(), 0));
    // Overdraft: the prover refuses; a forged witness (remaining = −1) fails the range proof.
    assert!(WithdrawBundle::prove(&kp, &available, balance, balance + 1, &ctx, &mut rng(9)).is_err());
    let forged = WithdrawBundle::prove_with_witness(
        &kp,
        &available,
        balance + 1,
        &-Scalar::ONE,
        0,
        &ctx,
        &mut rng(10),
    )
    .unwrap();
    assert_eq!(forged.verify(&ctx, kp.pubkey(), &available).unwrap_err(), CryptoError::RangeProof);
    // Changed public amount, nonce, owner, balance ciphertext or key: rejected.
    let more = WithdrawBundle { amount: 1001, ..w.clone() };
    assert_eq!(more.verify(&ctx, kp.pubkey(), &available).unwrap_err(), CryptoError::SigmaProof);
    assert!(w.verify(&AccountContext { nonce: 9, ..ctx.clone() }, kp.pubkey(), &available).is_err());
    assert!(w.verify(&account_ctx(2), kp.pubkey(), &available).is_err());
    assert!(w.verify(&ctx, kp.pubkey(), &available.add_amount(1)).is_err());
    let other = ElGamalKeypair::random(&mut rng(11));
    assert!(w.verify(&ctx, other.pubkey(), &available).is_err());
    // Lying about the balance.
    assert_eq!(
        wallet::build_withdraw(&kp, 2000, &available, 1000, &ctx, &mut rng(12)).unwrap_err(),
        CryptoError::BalanceMismatch
    );
    let lie = WithdrawBundle::prove(&kp, &available, 2000, 1000, &ctx, &mut rng(13)).unwrap();
    assert_eq!(lie.verify(&ctx, kp.pubkey(), &available).unwrap_err(), CryptoError::SigmaProof);
}

#[test]
fn zero_balance_proof() {
    let kp = ElGamalKeypair::random(&mut rng(14));
    let ctx = account_ctx(1);
    let r = PedersenOpening::random(&mut rng(15));
    let zero = ElGamalCiphertext::encrypt_with(5, kp.pubkey(), &r).sub_amount(5);
    let p = ZeroBalanceProof::new(&kp, &zero, &ctx, &mut rng(16));
    p.verify(kp.pubkey(), &zero, &ctx).unwrap();
    let one = zero.add_amount(1);
    let bad = ZeroBalanceProof::new(&kp, &one, &ctx, &mut rng(17));
    assert_eq!(bad.verify(kp.pubkey(), &one, &ctx), Err(CryptoError::SigmaProof));
    assert!(p.verify(kp.pubkey(), &one, &ctx).is_err());
    assert!(p.verify(kp.pubkey(), &zero, &account_ctx(2)).is_err());
}

#[test]
fn elgamal_arithmetic_and_discrete_log() {
    let kp = ElGamalKeypair::random(&mut rng(18));
    let mut r = rng(19);
    let a = ElGamalCiphertext::encrypt_with(70_000, kp.pubkey(), &PedersenOpening::random(&mut r));
    let b = ElGamalCiphertext::encrypt_with(5, kp.pubkey(), &PedersenOpening::random(&mut r));
    assert_eq!(a.add(&b).decrypt_bounded(kp.secret(), 32).unwrap(), 70_005);
    assert_eq!(a.sub(&b).decrypt_bounded(kp.secret(), 32).unwrap(), 69_995);
    assert_eq!(a.add_amount(1).sub_amount(2).decrypt_bounded(kp.secret(), 17).unwrap(), 69_999);
    for v in [0u64, 1, 65_535, 65_536, 4_000_000_000, u32::MAX as u64] {
        let c = ElGamalCiphertext::encrypt_with(v, kp.pubkey(), &PedersenOpening::random(&mut r));
        assert_eq!(c.decrypt_bounded(kp.secret(), 32).unwrap(), v);
    }
    // Out of the bound: an error, not a wrong answer.
    let big = ElGamalCiphertext::from_public_amount(1 << 20);
    assert_eq!(big.decrypt_bounded(kp.secret(), 16), Err(CryptoError::DiscreteLog(16)));
    assert_eq!(big.decrypt_bounded(kp.secret(), 64), Err(CryptoError::DiscreteLog(64)));
    // Negative values are huge: not found within 32 bits.
    assert!(ElGamalCiphertext::zero().sub_amount(1).decrypt_bounded(kp.secret(), 32).is_err());
    // Deterministic keys from a seed.
    let k1 = ElGamalSecretKey::from_seed(&[7; 32], b"asset-a").unwrap();
    let k2 = ElGamalSecretKey::from_seed(&[7; 32], b"asset-a").unwrap();
    let k3 = ElGamalSecretKey::from_seed(&[7; 32], b"asset-b").unwrap();
    assert_eq!(k1.pubkey(), k2.pubkey());
    assert_ne!(k1.pubkey(), k3.pubkey());
    assert!(ElGamalSecretKey::from_bytes([0; 32]).is_err());
}

#[test]
fn decryptable_balance_roundtrip_and_binding() {
    let kp = ElGamalKeypair::random(&mut rng(20));
    let key = AeKey::from_secret(kp.secret());
    let ct = key.encrypt(u64::MAX - 3, b"account-1", &mut rng(21));
    assert_eq!(key.decrypt(&ct, b"account-1").unwrap(), u64::MAX - 3);
    assert_eq!(key.decrypt(&ct, b"account-2"), Err(CryptoError::Aead));
    let other = AeKey::from_secret(ElGamalKeypair::random(&mut rng(22)).secret());
    assert_eq!(other.decrypt(&ct, b"account-1"), Err(CryptoError::Aead));
    let mut bytes = to_bytes(&ct);
    bytes[30] ^= 1;
    let flipped: AeCiphertext = from_bytes(&bytes).unwrap();
    assert_eq!(key.decrypt(&flipped, b"account-1"), Err(CryptoError::Aead));
    // Restoring a wallet from chain state.
    let available = ElGamalCiphertext::from_public_amount(55);
    let dec = key.encrypt(55, b"acct", &mut rng(23));
    let w = Wallet::restore(kp.clone(), &dec, b"acct", available, 0, ElGamalCiphertext::zero()).unwrap();
    assert_eq!(w.available(), 55);
    let wrong = key.encrypt(56, b"acct", &mut rng(24));
    assert_eq!(
        Wallet::restore(kp, &wrong, b"acct", available, 0, ElGamalCiphertext::zero()).unwrap_err(),
        CryptoError::BalanceMismatch
    );
}
