//! Confidential transactions in the pool: proofs verified at admission against the sender's confidential account
//! after its own pending transactions; a double spend of one balance version is `confidential_stale_balance`; a
//! pending incoming credit neither invalidates a pending debit nor becomes spendable before it is committed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use purse_crypto::{
    to_bytes, AeKey, ElGamalKeypair, ElGamalSecretKey, PubkeyValidityProof, TransferBundle, TransferContext,
    TransferData, Wallet,
};
use purse_mempool::{Mempool, PoolConfig, Reason, Verdict};
use purse_runtime::confidential;
use purse_runtime::schema::{self, ConfidentialAccount};
use purse_types::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;

fn elgamal(i: u8) -> ElGamalKeypair {
    ElGamalKeypair::from_secret(ElGamalSecretKey::from_seed(&[i; 32], &usd().0).unwrap())
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn conf(from: u8, nonce: u64, op: ConfidentialOp) -> SignedTransaction {
    tx_with(from, nonce, 100_000, 1_000, Payload::Confidential(op))
}

struct Net {
    map: Map,
    pool: Mempool<Map>,
    height: u64,
    wallets: BTreeMap<u8, Wallet>,
    seed: u64,
}

impl Net {
    /// Accounts 1..=4 with native funds; 2, 3 and 4 registered with 1 000 USD available each.
    fn new() -> Net {
        let map = genesis(4, 10_000_000);
        let pool = pool(&map, PoolConfig::default());
        let mut n = Net { map, pool, height: 0, wallets: BTreeMap::new(), seed: 100 };
        let mut txs = Vec::new();
        for (k, i) in [2u8, 3, 4].into_iter().enumerate() {
            txs.push(tx(ISSUER, k as u64, Payload::Mint { to: addr(i), coin: coin(usd(), 1_000) }));
            let ctx = confidential::account_context_of(&chain(), &addr(i), 0, &usd());
            let proof = PubkeyValidityProof::new(&elgamal(i), &ctx, &mut rng(u64::from(i)));
            let op = ConfidentialOp::Register {
                asset: usd(),
                encryption_key: elgamal(i).pubkey().to_bytes(),
                proof: to_bytes(&proof),
            };
            txs.push(conf(i, 0, op));
            n.wallets.insert(i, Wallet::new(elgamal(i)));
        }
        n.submit_and_commit(&txs);
        let txs: Vec<_> = [2u8, 3, 4]
            .into_iter()
            .map(|i| conf(i, 1, ConfidentialOp::Deposit { coin: coin(usd(), 1_000) }))
            .collect();
        n.submit_and_commit(&txs);
        let mut txs = Vec::new();
        for i in [2u8, 3, 4] {
            let w = n.wallets.get_mut(&i).unwrap();
            w.on_deposit(1_000).unwrap();
            w.on_apply_pending().unwrap();
            txs.push(n.apply_tx(i, 2, 1));
        }
        n.submit_and_commit(&txs);
        n
    }

    fn next_rng(&mut self) -> ChaCha20Rng {
        self.seed += 1;
        rng(self.seed)
    }

    fn apply_tx(&mut self, i: u8, nonce: u64, expected: u64) -> SignedTransaction {
        let aad = purse_crypto::decryptable_balance_aad(&addr(i), &usd());
        let mut r = self.next_rng();
        let note = self.wallets[&i].decryptable_balance(&aad, &mut r);
        let op = ConfidentialOp::ApplyPending {
            asset: usd(),
            expected_pending_credits: expected,
            new_decryptable_balance: to_bytes(&note),
        };
        conf(i, nonce, op)
    }

    /// Admits every transaction (each must be valid), then commits them as one block.
    fn submit_and_commit(&mut self, txs: &[SignedTransaction]) {
        for t in txs {
            assert_eq!(self.pool.admit(t.clone()).unwrap(), Verdict::Valid);
        }
        let receipts = self.commit(txs);
        assert!(receipts.iter().all(|c| c == "ok"), "{receipts:?}");
    }

    fn commit(&mut self, txs: &[SignedTransaction]) -> Vec<String> {
        self.height += 1;
        commit(&mut self.map, &mut self.pool, self.height, txs)
            .iter()
            .map(|r| match &r.status {
                TxStatus::Success => "ok".to_string(),
                TxStatus::Failed { code, .. } => code.clone(),
            })
            .collect()
    }

    fn record(&self, i: u8) -> ConfidentialAccount {
        decode(&self.map[&schema::confidential_account_key(&addr(i), &usd())]).unwrap()
    }

    /// A transfer proved from `from`'s wallet view (its available balance and ciphertext).
    fn transfer(&mut self, from: u8, to: u8, nonce: u64, amount: u64) -> (SignedTransaction, TransferBundle) {
        let ctx = TransferContext {
            chain_id: chain(),
            sender: addr(from),
            recipient: addr(to),
            nonce,
            asset: usd(),
        };
        let mut r = self.next_rng();
        let w = &self.wallets[&from];
        let bundle = w.transfer(amount, elgamal(to).pubkey(), None, &ctx, &mut r).unwrap();
        let aad = purse_crypto::decryptable_balance_aad(&addr(from), &usd());
        let note = AeKey::from_secret(elgamal(from).secret()).encrypt(w.available() - amount, &aad, &mut r);
        let data = TransferData { bundle: bundle.clone(), new_decryptable_balance: note };
        let op = ConfidentialOp::Transfer { asset: usd(), to: addr(to), bundle: to_bytes(&data) };
        (conf(from, nonce, op), bundle)
    }
}

fn invalid(code: &str, v: &Verdict) {
    match v {
        Verdict::Invalid(r) => assert_eq!(r.code(), code, "{r}"),
        other => panic!("expected Invalid({code}), got {other:?}"),
    }
}

#[test]
fn second_debit_of_the_same_balance_is_a_stale_double_spend() {
    let mut n = Net::new();
    // Two transfers both proved against the committed balance of 1 000.
    let (t1, b1) = n.transfer(2, 3, 3, 600);
    let (t2, _) = n.transfer(2, 4, 4, 600);
    assert_eq!(n.pool.admit(t1.clone()).unwrap(), Verdict::Valid);
    assert_eq!(n.pool.check(&t2).unwrap(), Verdict::Invalid(Reason::ConfidentialStaleBalance));
    invalid("confidential_stale_balance", &n.pool.admit(t2).unwrap());
    // Re-proved against the balance after the pending debit (the wallet applies its own pending debit): valid.
    n.wallets.get_mut(&2).unwrap().on_sent(&b1).unwrap();
    let (t3, b3) = n.transfer(2, 4, 4, 300);
    assert_eq!(n.pool.admit(t3.clone()).unwrap(), Verdict::Valid);
    // An overdraft proved honestly against the projection cannot even be built; a forged one is rejected.
    let avail = confidential::account(&purse_runtime::BlockState::new(&n.map), &addr(2), &usd())
        .unwrap()
        .unwrap()
        .available;
    let ctx =
        TransferContext { chain_id: chain(), sender: addr(2), recipient: addr(3), nonce: 5, asset: usd() };
    let forged = TransferBundle::prove(
        &elgamal(2),
        &avail,
        5_000,
        4_000,
        elgamal(3).pubkey(),
        None,
        &ctx,
        &mut rng(1),
    )
    .unwrap();
    let data = TransferData {
        bundle: forged,
        new_decryptable_balance: AeKey::random(&mut rng(2)).encrypt(0, b"", &mut rng(3)),
    };
    let op = ConfidentialOp::Transfer { asset: usd(), to: addr(3), bundle: to_bytes(&data) };
    invalid("confidential_proof_invalid", &n.pool.admit(conf(2, 5, op)).unwrap());
    let op = ConfidentialOp::Transfer { asset: usd(), to: addr(3), bundle: vec![9; 40] };
    invalid("confidential_proof_invalid", &n.pool.admit(conf(2, 5, op)).unwrap());
    // Both admitted transfers execute in the block, in nonce order.
    let reaped = n.pool.reap(usize::MAX, 100);
    assert_eq!(reaped, vec![t1, t3]);
    assert_eq!(n.commit(&reaped), ["ok", "ok"]);
    assert!(n.pool.is_empty());
    n.wallets.get_mut(&2).unwrap().on_sent(&b3).unwrap();
    assert!(n.record(2).available.decrypts_to(elgamal(2).secret(), 100));
}

#[test]
fn pending_credit_neither_invalidates_nor_funds_a_pending_debit() {
    let mut n = Net::new();
    // 3 pays 2 (pending in the pool); 2's transfer proved against its committed available balance stays valid.
    let (credit, bc) = n.transfer(3, 2, 3, 500);
    assert_eq!(n.pool.admit(credit.clone()).unwrap(), Verdict::Valid);
    let (debit, bd) = n.transfer(2, 4, 3, 1_000);
    assert_eq!(n.pool.admit(debit.clone()).unwrap(), Verdict::Valid);
    // The pending credit is not spendable: a proof claiming it (1 000 + 500 available) is rejected.
    let avail = n.record(2).available;
    let ctx =
        TransferContext { chain_id: chain(), sender: addr(2), recipient: addr(4), nonce: 4, asset: usd() };
    let after = bd.effects(&avail).source_new_available;
    let claim =
        TransferBundle::prove(&elgamal(2), &after, 500, 500, elgamal(4).pubkey(), None, &ctx, &mut rng(4))
            .unwrap();
    let data = TransferData {
        bundle: claim,
        new_decryptable_balance: AeKey::random(&mut rng(5)).encrypt(0, b"", &mut rng(6)),
    };
    let op = ConfidentialOp::Transfer { asset: usd(), to: addr(4), bundle: to_bytes(&data) };
    invalid("confidential_proof_invalid", &n.pool.admit(conf(2, 4, op)).unwrap());
    // Apply-pending must name the committed count (no committed credit yet): 1 is refused, 0 admitted.
    n.wallets.get_mut(&2).unwrap().on_sent(&bd).unwrap();
    let wrong = n.apply_tx(2, 4, 1);
    invalid("confidential_pending_changed", &n.pool.admit(wrong).unwrap());
    // The credit is committed first, in its own block: 2's pending debit is re-checked and stays valid.
    assert_eq!(n.commit(&[credit]), ["ok"]);
    assert_eq!(n.pool.stats().pending, 1);
    n.wallets.get_mut(&2).unwrap().on_incoming(&bc).unwrap();
    // The credit landed between proof and inclusion; the debit still executes.
    assert_eq!(n.commit(&[debit]), ["ok"]);
    // Now 2 can apply the committed credit and spend it.
    let before = n.record(2).pending_credits;
    n.wallets.get_mut(&2).unwrap().on_apply_pending().unwrap();
    let apply = n.apply_tx(2, 4, before);
    assert_eq!(n.pool.admit(apply.clone()).unwrap(), Verdict::Valid);
    let (spend, _) = n.transfer(2, 4, 5, 500);
    assert_eq!(n.pool.admit(spend.clone()).unwrap(), Verdict::Valid);
    assert_eq!(n.commit(&[apply, spend]), ["ok", "ok"]);
    assert!(n.record(2).available.decrypts_to(elgamal(2).secret(), 0));
}

#[test]
fn registration_and_replacement_rules() {
    let mut n = Net::new();
    // Already registered (committed), and transfers to an unregistered recipient.
    let ctx = confidential::account_context_of(&chain(), &addr(2), 3, &usd());
    let proof = PubkeyValidityProof::new(&elgamal(2), &ctx, &mut rng(7));
    let op = ConfidentialOp::Register {
        asset: usd(),
        encryption_key: elgamal(2).pubkey().to_bytes(),
        proof: to_bytes(&proof),
    };
    invalid("confidential_already_registered", &n.pool.admit(conf(2, 3, op)).unwrap());
    let (to_1, _) = n.transfer(2, 1, 3, 10);
    invalid("confidential_not_registered", &n.pool.admit(to_1).unwrap());
    // Replacement: the same bundle with a higher fee keeps later proofs valid; a different bundle conflicts.
    let (t1, b1) = n.transfer(2, 3, 3, 100);
    assert_eq!(n.pool.admit(t1.clone()).unwrap(), Verdict::Valid);
    n.wallets.get_mut(&2).unwrap().on_sent(&b1).unwrap();
    let (t2, _) = n.transfer(2, 3, 4, 100);
    assert_eq!(n.pool.admit(t2.clone()).unwrap(), Verdict::Valid);
    let bumped = tx_with(2, 3, 200_000, 1_000, t1.tx.payload.clone());
    assert_eq!(n.pool.admit(bumped.clone()).unwrap(), Verdict::Valid);
    let mut w = Wallet::new(elgamal(2));
    w.on_deposit(1_000).unwrap();
    w.on_apply_pending().unwrap();
    let saved = n.wallets.insert(2, w).unwrap();
    let (other, _) = n.transfer(2, 4, 3, 50);
    let other = tx_with(2, 3, 400_000, 1_000, other.tx.payload.clone());
    invalid("confidential_replacement_conflict", &n.pool.admit(other).unwrap());
    n.wallets.insert(2, saved);
    let reaped = n.pool.reap(usize::MAX, 100);
    assert_eq!(reaped, vec![bumped, t2]);
    assert_eq!(n.commit(&reaped), ["ok", "ok"]);
    assert!(n.record(2).available.decrypts_to(elgamal(2).secret(), 800));
}
