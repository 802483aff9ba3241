//! The native confidential module: register / deposit / transfer / apply-pending / withdraw with wallets
//! decrypting exact balances, the attacks of issue 9 that reach the runtime, in-block double spends, batch
//! verification and a property test against a reference model with supply conservation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use proptest::prelude::*;
use purse_crypto::{
    to_bytes, wallet, AeCiphertext, AeKey, ElGamalCiphertext, ElGamalKeypair, ElGamalSecretKey,
    PubkeyValidityProof, Scalar, TransferBundle, TransferContext, TransferData, TransferWitness, Wallet,
    WithdrawData,
};
use purse_runtime::confidential::{self, escrow_address, MAX_PENDING_CREDITS};
use purse_runtime::schema::{AccountRecord, AssetRecord, ConfidentialAccount};
use purse_runtime::*;
use purse_state::Overlay;
use purse_types::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::time::Instant;

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

const ISSUER: u8 = 1;
const AUDITOR_SEED: [u8; 32] = [77; 32];

fn key(i: u8) -> Keypair {
    Keypair::from_seed(&[i; 32])
}
fn addr(i: u8) -> Address {
    key(i).public().address()
}
fn chain() -> ChainId {
    ChainId::new("purse-test").unwrap()
}
fn usd() -> AssetId {
    AssetId::new(&addr(ISSUER), "USD")
}
fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}
fn auditor_keys() -> ElGamalKeypair {
    ElGamalKeypair::from_secret(ElGamalSecretKey::from_seed(&AUDITOR_SEED, b"auditor").unwrap())
}
fn elgamal(i: u8) -> ElGamalKeypair {
    ElGamalKeypair::from_secret(ElGamalSecretKey::from_seed(&[i; 32], &usd().0).unwrap())
}
fn aad(i: u8) -> Vec<u8> {
    purse_crypto::decryptable_balance_aad(&addr(i), &usd())
}

fn runtime(batch: bool) -> Runtime {
    static RUNTIME: std::sync::OnceLock<Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::with_default_vm().unwrap()).clone().with_proof_batching(batch)
}

fn code(r: &Receipt) -> String {
    match &r.status {
        TxStatus::Success => "ok".into(),
        TxStatus::Failed { code, .. } => code.clone(),
    }
}

/// A chain over a map with `n` accounts (account 1 issues USD), each wallet's client-side state, and helpers
/// that build the confidential transactions as a wallet would.
struct Chain {
    map: Map,
    height: u64,
    wallets: BTreeMap<u8, Wallet>,
    auditor: bool,
    batch: bool,
    seed: u64,
}

impl Chain {
    fn new(n: u8) -> Chain {
        let g = Genesis {
            chain_id: chain(),
            genesis_time_ms: 0,
            validators: vec![Validator { public_key: key(200).public(), power: 1 }],
            accounts: (1..=n)
                .map(|i| GenesisAccount {
                    public_key: key(i).public(),
                    tier: 1,
                    roles: if i == ISSUER { vec![Role::AssetIssuer] } else { vec![] },
                    native_balance: Amount(100_000_000),
                })
                .collect(),
            assets: vec![GenesisAsset {
                symbol: "USD".into(),
                decimals: 2,
                issuer: addr(ISSUER),
                flags: AssetFlags::default(),
            }],
            params: Params::default(),
            contracts: Vec::new(),
            governance: GovernanceGenesis::default(),
        };
        let mut map = Map::new();
        let overlay = g.build_state(&map).unwrap();
        apply(&mut map, &overlay);
        Chain { map, height: 0, wallets: BTreeMap::new(), auditor: false, batch: true, seed: 1 }
    }

    fn rng(&mut self) -> ChaCha20Rng {
        self.seed += 1;
        rng(self.seed)
    }

    fn nonce(&self, i: u8) -> u64 {
        decode::<AccountRecord>(&self.map[&schema::account_key(&addr(i))]).unwrap().nonce
    }

    fn block(&mut self, txs: &[SignedTransaction]) -> Vec<String> {
        self.height += 1;
        let ctx = BlockContext { chain_id: chain(), height: self.height, time_ms: self.height * 1000 };
        let out = runtime(self.batch).execute_block(&self.map, &ctx, txs).unwrap();
        apply(&mut self.map, &out.overlay);
        out.receipts.iter().map(code).collect()
    }

    fn ok(&mut self, txs: &[SignedTransaction]) {
        let codes = self.block(txs);
        assert!(codes.iter().all(|c| c == "ok"), "{codes:?}");
    }

    fn public(&self, who: &Address) -> u128 {
        self.map.get(&schema::balance_key(who, &usd())).map(|v| decode::<u128>(v).unwrap()).unwrap_or(0)
    }

    fn supply(&self) -> u128 {
        decode::<AssetRecord>(&self.map[&schema::asset_key(&usd())]).unwrap().supply
    }

    fn record(&self, i: u8) -> Option<ConfidentialAccount> {
        self.map.get(&schema::confidential_account_key(&addr(i), &usd())).map(|v| decode(v).unwrap())
    }

    /// (available, pending) decrypted from chain state with the owner's keys only: the AEAD note (checked
    /// against the available ciphertext) and two bounded discrete logs for pending.
    fn decrypted(&self, i: u8) -> (u64, u64) {
        let r = self.record(i).unwrap();
        let kp = elgamal(i);
        let available = match &r.decryptable_available {
            Some(note) => AeKey::from_secret(kp.secret()).decrypt(note, &aad(i)).unwrap(),
            None => 0,
        };
        assert!(r.available.decrypts_to(kp.secret(), available), "note disagrees with the ciphertext");
        let lo = r.pending_lo.decrypt_bounded(kp.secret(), 24).unwrap();
        let hi = r.pending_hi.decrypt_bounded(kp.secret(), 40).unwrap();
        (available, lo + (hi << 16))
    }

    fn tx(&self, from: u8, nonce: u64, payload: Payload) -> SignedTransaction {
        Transaction {
            chain_id: chain(),
            sender: addr(from),
            nonce,
            expiry_height: 1_000_000,
            max_fee: Amount(1_000_000),
            payload,
        }
        .sign(&key(from))
    }

    fn mint(&self, to: u8, amount: u128, nonce: u64) -> SignedTransaction {
        let coin = Coin { asset: usd(), amount: Amount(amount) };
        self.tx(ISSUER, nonce, Payload::Mint { to: addr(to), coin })
    }

    fn set_auditor(&mut self) -> SignedTransaction {
        self.auditor = true;
        let key = Some(auditor_keys().pubkey().to_bytes());
        self.tx(
            ISSUER,
            self.nonce(ISSUER),
            Payload::Confidential(ConfidentialOp::SetAuditor { asset: usd(), auditor_key: key }),
        )
    }

    fn register_at(&mut self, i: u8, nonce: u64) -> SignedTransaction {
        let kp = elgamal(i);
        let ctx = confidential::account_context_of(&chain(), &addr(i), nonce, &usd());
        let proof = PubkeyValidityProof::new(&kp, &ctx, &mut self.rng());
        self.wallets.insert(i, Wallet::new(kp.clone()));
        let op = ConfidentialOp::Register {
            asset: usd(),
            encryption_key: kp.pubkey().to_bytes(),
            proof: to_bytes(&proof),
        };
        self.tx(i, nonce, Payload::Confidential(op))
    }

    fn register(&mut self, i: u8) -> SignedTransaction {
        self.register_at(i, self.nonce(i))
    }

    fn deposit_at(&self, i: u8, amount: u64, nonce: u64) -> SignedTransaction {
        let coin = Coin { asset: usd(), amount: Amount(u128::from(amount)) };
        self.tx(i, nonce, Payload::Confidential(ConfidentialOp::Deposit { coin }))
    }

    /// Apply-pending built from the wallet's view (the wallet is updated: call only for txs that succeed).
    fn apply_pending_at(&mut self, i: u8, nonce: u64) -> SignedTransaction {
        let expected = self.record(i).map_or(0, |r| r.pending_credits);
        let mut r = self.rng();
        let w = self.wallets.get_mut(&i).unwrap();
        w.on_apply_pending().unwrap();
        let note = w.decryptable_balance(&aad(i), &mut r);
        let op = ConfidentialOp::ApplyPending {
            asset: usd(),
            expected_pending_credits: expected,
            new_decryptable_balance: to_bytes(&note),
        };
        self.tx(i, nonce, Payload::Confidential(op))
    }

    fn transfer_ctx(&self, from: u8, to: u8, nonce: u64) -> TransferContext {
        TransferContext { chain_id: chain(), sender: addr(from), recipient: addr(to), nonce, asset: usd() }
    }

    /// A transfer bundle from `from`'s wallet view (wallets are not updated).
    fn bundle(&mut self, from: u8, to: u8, amount: u64, ctx: &TransferContext) -> TransferBundle {
        let auditor = self.auditor.then(auditor_keys);
        let mut r = self.rng();
        let w = &self.wallets[&from];
        w.transfer(amount, elgamal(to).pubkey(), auditor.as_ref().map(|a| a.pubkey()), ctx, &mut r).unwrap()
    }

    fn note(&mut self, i: u8, balance: u64) -> AeCiphertext {
        let mut r = self.rng();
        AeKey::from_secret(elgamal(i).secret()).encrypt(balance, &aad(i), &mut r)
    }

    fn transfer_tx(
        &mut self,
        from: u8,
        to: u8,
        nonce: u64,
        bundle: &TransferBundle,
        note_balance: u64,
    ) -> SignedTransaction {
        let data =
            TransferData { bundle: bundle.clone(), new_decryptable_balance: self.note(from, note_balance) };
        let op = ConfidentialOp::Transfer { asset: usd(), to: addr(to), bundle: to_bytes(&data) };
        self.tx(from, nonce, Payload::Confidential(op))
    }

    /// An honest transfer at the sender's next nonce.
    fn transfer(&mut self, from: u8, to: u8, amount: u64) -> (SignedTransaction, TransferBundle) {
        let nonce = self.nonce(from);
        let ctx = self.transfer_ctx(from, to, nonce);
        let b = self.bundle(from, to, amount, &ctx);
        let left = self.wallets[&from].available() - amount;
        (self.transfer_tx(from, to, nonce, &b, left), b)
    }

    /// The wallets' side of a successful transfer.
    fn sent(&mut self, from: u8, to: u8, b: &TransferBundle) {
        self.wallets.get_mut(&from).unwrap().on_sent(b).unwrap();
        self.wallets.get_mut(&to).unwrap().on_incoming(b).unwrap();
    }

    fn withdraw_tx(&mut self, i: u8, amount: u64) -> (SignedTransaction, purse_crypto::WithdrawBundle) {
        let nonce = self.nonce(i);
        let ctx = confidential::account_context_of(&chain(), &addr(i), nonce, &usd());
        let mut r = self.rng();
        let b = self.wallets[&i].withdraw(amount, &ctx, &mut r).unwrap();
        let left = self.wallets[&i].available() - amount;
        let data = WithdrawData { bundle: b.clone(), new_decryptable_balance: self.note(i, left) };
        let coin = Coin { asset: usd(), amount: Amount(u128::from(amount)) };
        (
            self.tx(
                i,
                nonce,
                Payload::Confidential(ConfidentialOp::Withdraw { coin, bundle: to_bytes(&data) }),
            ),
            b,
        )
    }

    /// Registers `accounts`, mints `amount` USD to each, deposits and applies it.
    fn fund(&mut self, accounts: &[u8], amount: u64) {
        let mut txs = Vec::new();
        let n = self.nonce(ISSUER);
        for (k, &i) in accounts.iter().enumerate() {
            txs.push(self.mint(i, u128::from(amount), n + k as u64));
            txs.push(self.register(i));
        }
        self.ok(&txs);
        let txs: Vec<_> = accounts.iter().map(|&i| self.deposit_at(i, amount, self.nonce(i))).collect();
        self.ok(&txs);
        for &i in accounts {
            self.wallets.get_mut(&i).unwrap().on_deposit(amount).unwrap();
        }
        let txs: Vec<_> = accounts.iter().map(|&i| self.apply_pending_at(i, self.nonce(i))).collect();
        self.ok(&txs);
    }

    /// Supply is conserved: every public unit (escrow included) is in the supply, the escrow equals the sum of
    /// all decrypted confidential balances, and — keyless — the sum of all balance commitments is `escrow·G`.
    fn assert_conserved(&self, accounts: &[u8]) {
        let escrow = self.public(&escrow_address());
        let publics: u128 = accounts.iter().map(|&i| self.public(&addr(i))).sum();
        assert_eq!(self.supply(), publics + escrow, "public + confidential supply");
        let mut sum_ct = ElGamalCiphertext::zero();
        let mut sum = 0u128;
        for &i in accounts {
            if let Some(r) = self.record(i) {
                let (a, p) = self.decrypted(i);
                sum += u128::from(a) + u128::from(p);
                sum_ct = sum_ct.add(&r.available).add(&confidential::pending_total(&r));
            }
        }
        assert_eq!(sum, escrow, "escrow = Σ decrypted confidential balances");
        let expected = ElGamalCiphertext::from_public_amount(u64::try_from(escrow).unwrap());
        assert_eq!(sum_ct.commitment, expected.commitment, "Σ commitments = escrow·G");
    }
}

fn apply(map: &mut Map, overlay: &Overlay) {
    for (k, v) in overlay.iter() {
        match v {
            Some(v) => map.insert(k.to_vec(), v.to_vec()),
            None => map.remove(k),
        };
    }
}

#[test]
fn happy_path_register_deposit_transfer_apply_withdraw() {
    let mut c = Chain::new(4);
    let t = c.set_auditor();
    c.ok(&[t]);
    c.fund(&[2], 1_000);
    assert_eq!(c.decrypted(2), (1_000, 0));
    assert_eq!(c.public(&addr(2)), 0);
    assert_eq!(c.public(&escrow_address()), 1_000);

    let t = c.register(3);
    c.ok(&[t]);
    let (t, b) = c.transfer(2, 3, 300);
    let fee_before = c.public(&addr(2));
    let rcpt = {
        c.height += 1;
        let ctx = BlockContext { chain_id: chain(), height: c.height, time_ms: 0 };
        let out = runtime(true).execute_block(&c.map, &ctx, std::slice::from_ref(&t)).unwrap();
        apply(&mut c.map, &out.overlay);
        out.receipts[0].clone()
    };
    assert_eq!(code(&rcpt), "ok");
    // The fee covers the fixed proof-verification fuel.
    assert_eq!(rcpt.fuel_used, confidential::TRANSFER_FUEL);
    let params = Params::default();
    assert_eq!(
        rcpt.fee_paid,
        params.fee_for(encode(&t).len()) + params.fuel_fee(confidential::TRANSFER_FUEL)
    );
    assert_eq!(rcpt.events[0].topic, confidential::CONFIDENTIAL_TRANSFER_TOPIC);
    assert_eq!(c.public(&addr(2)), fee_before);
    c.sent(2, 3, &b);
    assert_eq!(c.decrypted(2), (700, 0));
    assert_eq!(c.decrypted(3), (0, 300));
    assert_eq!(wallet::auditor_decrypt(auditor_keys().secret(), &b).unwrap(), 300);

    let t = c.apply_pending_at(3, c.nonce(3));
    c.ok(&[t]);
    assert_eq!(c.decrypted(3), (300, 0));
    let (t, b) = c.withdraw_tx(3, 120);
    c.ok(&[t]);
    c.wallets.get_mut(&3).unwrap().on_withdrawn(&b).unwrap();
    assert_eq!(c.decrypted(3), (180, 0));
    assert_eq!(c.public(&addr(3)), 120);
    assert_eq!(c.public(&escrow_address()), 880);
    for i in [2, 3] {
        let w = &c.wallets[&i];
        let r = c.record(i).unwrap();
        assert_eq!(w.available_ciphertext(), &r.available, "wallet tracks the chain's ciphertext exactly");
        // A wallet restored from chain state alone agrees.
        let restored = Wallet::restore(
            elgamal(i),
            r.decryptable_available.as_ref().unwrap(),
            &aad(i),
            r.available,
            0,
            confidential::pending_total(&r),
        )
        .unwrap();
        assert_eq!(restored.available(), w.available());
    }
    c.assert_conserved(&[1, 2, 3, 4]);
}

#[test]
fn registration_rules_and_rogue_keys() {
    let mut c = Chain::new(4);
    let t = c.register(2);
    c.ok(&[t]);
    let again = c.register(2);
    assert_eq!(c.block(&[again]), ["already_registered"]);

    // Rogue key: account 4 registers account 2's key with 2's proof (bound to 2) → rejected.
    let n2 = c.nonce(4);
    let ctx2 = confidential::account_context_of(&chain(), &addr(2), n2, &usd());
    let proof2 = PubkeyValidityProof::new(&elgamal(2), &ctx2, &mut rng(5));
    let op = ConfidentialOp::Register {
        asset: usd(),
        encryption_key: elgamal(2).pubkey().to_bytes(),
        proof: to_bytes(&proof2),
    };
    let copied = c.tx(4, n2, Payload::Confidential(op));
    // A key whose proof is for another key.
    let ctx4 = confidential::account_context_of(&chain(), &addr(4), n2 + 1, &usd());
    let other = PubkeyValidityProof::new(&elgamal(9), &ctx4, &mut rng(6));
    let op = ConfidentialOp::Register {
        asset: usd(),
        encryption_key: elgamal(4).pubkey().to_bytes(),
        proof: to_bytes(&other),
    };
    let mismatched = c.tx(4, n2 + 1, Payload::Confidential(op));
    // The identity point as a key, and garbage proof bytes.
    let op = ConfidentialOp::Register { asset: usd(), encryption_key: [0; 32], proof: to_bytes(&other) };
    let identity = c.tx(4, n2 + 2, Payload::Confidential(op));
    let op = ConfidentialOp::Register {
        asset: usd(),
        encryption_key: elgamal(4).pubkey().to_bytes(),
        proof: vec![1; 64],
    };
    let garbage = c.tx(4, n2 + 3, Payload::Confidential(op));
    // A proof replayed on another chain / nonce.
    let other_chain = AccountContext_of("other-chain", 4, n2 + 4);
    let p = PubkeyValidityProof::new(&elgamal(4), &other_chain, &mut rng(7));
    let op = ConfidentialOp::Register {
        asset: usd(),
        encryption_key: elgamal(4).pubkey().to_bytes(),
        proof: to_bytes(&p),
    };
    let wrong_chain = c.tx(4, n2 + 4, Payload::Confidential(op));
    let codes = c.block(&[copied, mismatched, identity, garbage, wrong_chain]);
    assert_eq!(codes, ["proof_invalid"; 5]);
    assert!(c.record(4).is_none());

    // Unknown asset; deposit without registration; set-auditor by a non-issuer.
    let op = ConfidentialOp::Deposit { coin: Coin { asset: usd(), amount: Amount(1) } };
    let dep = c.tx(4, c.nonce(4), Payload::Confidential(op));
    let op =
        ConfidentialOp::SetAuditor { asset: usd(), auditor_key: Some(auditor_keys().pubkey().to_bytes()) };
    let aud = c.tx(3, c.nonce(3), Payload::Confidential(op));
    assert_eq!(c.block(&[dep, aud]), ["not_registered", "unauthorized"]);
}

#[allow(non_snake_case)]
fn AccountContext_of(chain_id: &str, owner: u8, nonce: u64) -> purse_crypto::AccountContext {
    confidential::account_context_of(&ChainId::new(chain_id).unwrap(), &addr(owner), nonce, &usd())
}

#[test]
fn replayed_and_forged_transfers_are_rejected() {
    let mut c = Chain::new(5);
    c.fund(&[2, 3, 4], 1_000);
    let n = c.nonce(2);

    // Changed recipient: a bundle for 3 submitted as a transfer to 4.
    let b = c.bundle(2, 3, 10, &c.transfer_ctx(2, 3, n));
    let to_4 = c.transfer_tx(2, 4, n, &b, 990);
    // Changed nonce: built for nonce n+5.
    let b = c.bundle(2, 3, 10, &c.transfer_ctx(2, 3, n + 5));
    let nonce = c.transfer_tx(2, 3, n + 1, &b, 990);
    // Changed chain id.
    let mut ctx = c.transfer_ctx(2, 3, n + 2);
    ctx.chain_id = ChainId::new("other-chain").unwrap();
    let b = c.bundle(2, 3, 10, &ctx);
    let chain_id = c.transfer_tx(2, 3, n + 2, &b, 990);
    // Built for another account: 4 submits 2's proof (ctx names 2 as the sender).
    let n4 = c.nonce(4);
    let b = c.bundle(2, 3, 10, &c.transfer_ctx(2, 3, n4));
    let other_account = c.transfer_tx(4, 3, n4, &b, 990);
    // Negative remaining balance: the wallet claims 10 000 while holding 1 000 and sends 5 000.
    let kp = elgamal(2);
    let avail = c.record(2).unwrap().available;
    let ctx = c.transfer_ctx(2, 3, n + 3);
    let b = TransferBundle::prove(&kp, &avail, 10_000, 5_000, elgamal(3).pubkey(), None, &ctx, &mut rng(9))
        .unwrap();
    let overdraft = c.transfer_tx(2, 3, n + 3, &b, 5_000);
    // Garbage ciphertext: handles that do not open the commitment (garbage r for the recipient).
    let mut w = TransferWitness::honest(1_000, 10).unwrap();
    w.handle_tweaks[1] = Scalar::from(7u64);
    let ctx = c.transfer_ctx(2, 3, n + 4);
    let b =
        TransferBundle::prove_with_witness(&kp, &avail, &w, elgamal(3).pubkey(), None, &ctx, &mut rng(10))
            .unwrap();
    let garbage_r = c.transfer_tx(2, 3, n + 4, &b, 990);
    // Malleated commitment: swap the lo commitment for another one.
    let ctx = c.transfer_ctx(2, 3, n + 5);
    let mut b = c.bundle(2, 3, 10, &ctx);
    let b2 = c.bundle(2, 3, 11, &ctx);
    b.amount_lo.commitment = b2.amount_lo.commitment;
    let malleated = c.transfer_tx(2, 3, n + 5, &b, 990);
    // Bytes that are not a bundle.
    let op = ConfidentialOp::Transfer { asset: usd(), to: addr(3), bundle: vec![3; 200] };
    let bytes = c.tx(2, n + 6, Payload::Confidential(op));
    // Auditor mismatch: the issuer sets an auditor, the bundle has no auditor handles.
    let ctx = c.transfer_ctx(2, 3, n + 7);
    let b = c.bundle(2, 3, 10, &ctx);
    let set = c.set_auditor();
    let no_auditor = c.transfer_tx(2, 3, n + 7, &b, 990);
    // To an unregistered account and to oneself.
    let ctx = c.transfer_ctx(2, 5, n + 8);
    let b = c.bundle(2, 3, 10, &ctx);
    let unregistered = c.transfer_tx(2, 5, n + 8, &b, 990);

    let codes = c.block(&[
        to_4,
        nonce,
        chain_id,
        other_account,
        overdraft,
        garbage_r,
        malleated,
        bytes,
        set,
        no_auditor,
        unregistered,
    ]);
    assert_eq!(
        codes,
        [
            "proof_invalid",
            "proof_invalid",
            "proof_invalid",
            "proof_invalid",
            "proof_invalid",
            "proof_invalid",
            "proof_invalid",
            "proof_invalid",
            "ok",
            "proof_invalid",
            "not_registered",
        ]
    );
    // Nothing moved.
    assert_eq!(c.decrypted(2), (1_000, 0));
    assert_eq!(c.decrypted(3), (1_000, 0));

    // Withdrawals: more than the balance (claimed balance), amount mismatch with the public coin.
    let n = c.nonce(2);
    let ctx = confidential::account_context_of(&chain(), &addr(2), n, &usd());
    let avail = c.record(2).unwrap().available;
    let wb = purse_crypto::WithdrawBundle::prove(&kp, &avail, 5_000, 2_000, &ctx, &mut rng(11)).unwrap();
    let data = WithdrawData { bundle: wb, new_decryptable_balance: c.note(2, 0) };
    let coin = Coin { asset: usd(), amount: Amount(2_000) };
    let over = c.tx(2, n, Payload::Confidential(ConfidentialOp::Withdraw { coin, bundle: to_bytes(&data) }));
    let (honest, _) = c.withdraw_tx(2, 100);
    let Payload::Confidential(ConfidentialOp::Withdraw { bundle, .. }) = honest.tx.payload.clone() else {
        panic!()
    };
    let coin = Coin { asset: usd(), amount: Amount(101) };
    let mismatch = c.tx(2, n + 1, Payload::Confidential(ConfidentialOp::Withdraw { coin, bundle }));
    assert_eq!(c.block(&[over, mismatch]), ["proof_invalid", "proof_invalid"]);
    assert_eq!(c.public(&addr(2)), 0);
    c.assert_conserved(&[1, 2, 3, 4, 5]);
}

#[test]
fn credit_between_proof_and_inclusion_still_succeeds() {
    let mut c = Chain::new(4);
    c.fund(&[2, 3, 4], 1_000);
    // 2 proves a transfer against its current available balance…
    let (t2, b2) = c.transfer(2, 3, 250);
    // …then, before it is included, 4 pays 2 (a block earlier) and 3 pays 2 (earlier in the same block).
    let (t4, b4) = c.transfer(4, 2, 40);
    c.ok(&[t4]);
    c.sent(4, 2, &b4);
    let (t3, b3) = c.transfer(3, 2, 5);
    let codes = c.block(&[t3, t2]);
    assert_eq!(codes, ["ok", "ok"]);
    c.sent(3, 2, &b3);
    c.sent(2, 3, &b2);
    assert_eq!(c.decrypted(2), (750, 45));
    assert_eq!(c.decrypted(3), (995, 250));
    c.assert_conserved(&[1, 2, 3, 4]);
}

fn double_spend_in_one_block(batch: bool) {
    let mut c = Chain::new(4);
    c.batch = batch;
    c.fund(&[2, 3, 4], 1_000);
    let n = c.nonce(2);
    // Both built against the committed balance of 1 000 (the wallet did not account for the first).
    let b1 = c.bundle(2, 3, 600, &c.transfer_ctx(2, 3, n));
    let b2 = c.bundle(2, 4, 600, &c.transfer_ctx(2, 4, n + 1));
    let t1 = c.transfer_tx(2, 3, n, &b1, 400);
    let t2 = c.transfer_tx(2, 4, n + 1, &b2, 400);
    // A third, built correctly against the balance after the first, succeeds.
    c.wallets.get_mut(&2).unwrap().on_sent(&b1).unwrap();
    let b3 = c.bundle(2, 4, 100, &c.transfer_ctx(2, 4, n + 2));
    let t3 = c.transfer_tx(2, 4, n + 2, &b3, 300);
    // An unrelated valid transfer in the same block.
    let (t4, b4) = c.transfer(4, 3, 1);
    assert_eq!(c.block(&[t1, t4, t2, t3]), ["ok", "ok", "stale_balance", "ok"]);
    c.wallets.get_mut(&3).unwrap().on_incoming(&b1).unwrap();
    c.sent(4, 3, &b4);
    c.sent(2, 4, &b3);
    assert_eq!(c.decrypted(2), (300, 0));
    assert_eq!(c.decrypted(3), (1_000, 601));
    assert_eq!(c.decrypted(4), (999, 100));
    c.assert_conserved(&[1, 2, 3, 4]);
}

#[test]
fn double_spend_in_one_block_fails_with_stale_balance() {
    double_spend_in_one_block(true);
    double_spend_in_one_block(false);
}

#[test]
fn pending_bounds_and_apply_pending_expectation() {
    let mut c = Chain::new(4);
    c.fund(&[2, 3], 1_000);
    let t = c.mint(3, 1_000, c.nonce(ISSUER));
    c.ok(&[t]);
    // Apply-pending naming a stale credit count fails and changes nothing.
    let dep = c.deposit_at(3, 10, c.nonce(3));
    c.ok(&[dep]);
    let op = ConfidentialOp::ApplyPending {
        asset: usd(),
        expected_pending_credits: 0,
        new_decryptable_balance: to_bytes(&c.note(3, 1_010)),
    };
    let stale = c.tx(3, c.nonce(3), Payload::Confidential(op));
    assert_eq!(c.block(&[stale]), ["pending_changed"]);
    assert_eq!(c.decrypted(3), (1_000, 10));
    // Fill 3's pending up to the limit with deposits, then one more deposit and a transfer to 3 are refused.
    let n = c.nonce(3);
    let txs: Vec<_> = (0..MAX_PENDING_CREDITS - 1).map(|k| c.deposit_at(3, 1, n + k)).collect();
    c.ok(&txs);
    assert_eq!(c.record(3).unwrap().pending_credits, MAX_PENDING_CREDITS);
    let extra = c.deposit_at(3, 1, c.nonce(3));
    let (t, _) = c.transfer(2, 3, 5);
    assert_eq!(c.block(&[extra, t]), ["too_many_pending", "too_many_pending"]);
    assert_eq!(c.decrypted(3), (1_000, 10 + MAX_PENDING_CREDITS - 1));
    // Deposits above 2^48 − 1 are refused (one credit must stay a 48-bit value).
    let big = c.deposit_at(3, 1 << 48, c.nonce(3));
    assert_eq!(c.block(&[big]), ["invalid"]);
}

/// A wallet-side update to run once its transaction is committed.
type WalletUpdate = Box<dyn FnOnce(&mut Chain)>;

/// Reference model of the property test.
#[derive(Clone, Debug, Default)]
struct Model {
    public: BTreeMap<u8, u64>,
    available: BTreeMap<u8, u64>,
    pending: BTreeMap<u8, u64>,
}

#[derive(Clone, Debug)]
enum Op {
    Deposit(u8, u64),
    Transfer(u8, u8, u64),
    Withdraw(u8, u64),
    Apply(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let who = 2u8..=4;
    prop_oneof![
        (who.clone(), 1u64..400).prop_map(|(i, a)| Op::Deposit(i, a)),
        (who.clone(), 2u8..=4, 1u64..300).prop_map(|(i, j, a)| Op::Transfer(i, j, a)),
        (who.clone(), 1u64..300).prop_map(|(i, a)| Op::Withdraw(i, a)),
        who.prop_map(Op::Apply),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Random deposits, transfers, withdrawals and applies across 3 wallets, several per block: every wallet's
    /// balances decrypted from chain state equal the model, and supply is conserved after every block.
    #[test]
    fn balances_match_model_and_supply_is_conserved(blocks in prop::collection::vec(prop::collection::vec(op(), 1..5), 1..4)) {
        let accounts = [1u8, 2, 3, 4];
        let mut c = Chain::new(4);
        let t = c.set_auditor();
        c.ok(&[t]);
        let mut txs = Vec::new();
        let n = c.nonce(ISSUER);
        for (k, i) in [2u8, 3, 4].into_iter().enumerate() {
            txs.push(c.mint(i, 1_000, n + k as u64));
            txs.push(c.register(i));
        }
        c.ok(&txs);
        let mut m = Model::default();
        for i in [2u8, 3, 4] {
            m.public.insert(i, 1_000);
            m.available.insert(i, 0);
            m.pending.insert(i, 0);
        }
        for ops in blocks {
            // One operation per sender per block keeps wallets' views exact (each proves against committed state).
            let mut used = std::collections::BTreeSet::new();
            let mut txs = Vec::new();
            let mut applies = Vec::new();
            let mut after: Vec<WalletUpdate> = Vec::new();
            let mut next = m.clone();
            for op in ops {
                let sender = match op { Op::Deposit(i, _) | Op::Transfer(i, _, _) | Op::Withdraw(i, _) | Op::Apply(i) => i };
                if !used.insert(sender) { continue; }
                match op {
                    Op::Deposit(i, a) if m.public[&i] >= a => {
                        txs.push(c.deposit_at(i, a, c.nonce(i)));
                        *next.public.get_mut(&i).unwrap() -= a;
                        *next.pending.get_mut(&i).unwrap() += a;
                        after.push(Box::new(move |c: &mut Chain| c.wallets.get_mut(&i).unwrap().on_deposit(a).unwrap()));
                    }
                    Op::Transfer(i, j, a) if i != j && m.available[&i] >= a => {
                        let (t, b) = c.transfer(i, j, a);
                        txs.push(t);
                        *next.available.get_mut(&i).unwrap() -= a;
                        *next.pending.get_mut(&j).unwrap() += a;
                        after.push(Box::new(move |c: &mut Chain| c.sent(i, j, &b)));
                    }
                    Op::Withdraw(i, a) if m.available[&i] >= a => {
                        let (t, b) = c.withdraw_tx(i, a);
                        txs.push(t);
                        *next.available.get_mut(&i).unwrap() -= a;
                        *next.public.get_mut(&i).unwrap() += a;
                        after.push(Box::new(move |c: &mut Chain| c.wallets.get_mut(&i).unwrap().on_withdrawn(&b).unwrap()));
                    }
                    Op::Apply(i) => {
                        // Applies go first in the block, so no credit of this block lands before them.
                        let p = m.pending[&i];
                        applies.push(c.apply_pending_at(i, c.nonce(i)));
                        *next.available.get_mut(&i).unwrap() += p;
                        *next.pending.get_mut(&i).unwrap() -= p;
                    }
                    _ => {}
                }
            }
            applies.extend(txs);
            let codes = c.block(&applies);
            prop_assert!(codes.iter().all(|x| x == "ok"), "{:?}", codes);
            for f in after { f(&mut c); }
            m = next;
            for i in [2u8, 3, 4] {
                prop_assert_eq!(c.decrypted(i), (m.available[&i], m.pending[&i]));
                prop_assert_eq!(c.wallets[&i].available(), m.available[&i]);
                prop_assert_eq!(c.public(&addr(i)), u128::from(m.public[&i]));
            }
            c.assert_conserved(&accounts);
        }
    }
}

/// Measures confidential transfers per second in one block, with block-level batch verification and without.
/// `cargo test -p purse-runtime --test confidential -- --ignored --nocapture measure`
#[test]
#[ignore]
fn measure_block_verification_throughput() {
    let n: u8 = 32;
    let senders: Vec<u8> = (2..2 + n).collect();
    let mut c = Chain::new(2 + n + 1);
    c.fund(&senders, 1_000);
    let r = 2 + n;
    let t = c.register(r);
    c.ok(&[t]);
    let txs: Vec<SignedTransaction> = senders.iter().map(|&i| c.transfer(i, r, 10).0).collect();
    let ctx = BlockContext { chain_id: chain(), height: c.height + 1, time_ms: 0 };
    let mut times: BTreeMap<bool, Vec<f64>> = BTreeMap::new();
    for _ in 0..7 {
        for batch in [false, true] {
            let start = Instant::now();
            let out = runtime(batch).execute_block(&c.map, &ctx, &txs).unwrap();
            times.entry(batch).or_default().push(start.elapsed().as_secs_f64());
            assert!(out.receipts.iter().all(|r| code(r) == "ok"));
        }
    }
    for (batch, mut t) in times {
        t.sort_by(f64::total_cmp);
        let median = t[t.len() / 2];
        println!(
            "batch={batch}: {} transfers, median {:.1} ms per block = {:.0} transfers/s ({:.2} ms each)",
            txs.len(),
            median * 1e3,
            txs.len() as f64 / median,
            median * 1e3 / txs.len() as f64
        );
    }
}
