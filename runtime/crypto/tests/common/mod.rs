//! Shared fixtures for the integration tests.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use purse_crypto::*;
use purse_types::{Address, AssetId, ChainId};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn addr(b: u8) -> Address {
    Address([b; 32])
}

pub fn ctx() -> TransferContext {
    TransferContext {
        chain_id: ChainId::new("purse-test-1").unwrap(),
        sender: addr(1),
        recipient: addr(2),
        nonce: 7,
        asset: AssetId([9; 32]),
    }
}

pub fn account_ctx(owner: u8) -> AccountContext {
    AccountContext {
        chain_id: ChainId::new("purse-test-1").unwrap(),
        owner: addr(owner),
        nonce: 3,
        asset: AssetId([9; 32]),
    }
}

pub struct Setup {
    pub alice: ElGamalKeypair,
    pub bob: ElGamalKeypair,
    pub auditor: ElGamalKeypair,
    pub balance: u64,
    pub available: ElGamalCiphertext,
    pub ctx: TransferContext,
}

/// Alice holds `balance` (deposited: a zero-randomness ciphertext) plus an earlier confidential credit so
/// that her balance ciphertext has a non-trivial handle.
pub fn setup(balance: u64, seed: u64) -> Setup {
    let mut r = rng(seed);
    let alice = ElGamalKeypair::random(&mut r);
    let bob = ElGamalKeypair::random(&mut r);
    let auditor = ElGamalKeypair::random(&mut r);
    let credit = balance / 3;
    let opening = PedersenOpening::random(&mut r);
    let available = deposit(&ElGamalCiphertext::zero(), balance - credit)
        .add(&ElGamalCiphertext::encrypt_with(credit, alice.pubkey(), &opening));
    Setup { alice, bob, auditor, balance, available, ctx: ctx() }
}

impl Setup {
    pub fn transfer(&self, amount: u64, seed: u64) -> TransferBundle {
        wallet::build_transfer(
            &self.alice,
            self.balance,
            &self.available,
            amount,
            self.bob.pubkey(),
            Some(self.auditor.pubkey()),
            &self.ctx,
            &mut rng(seed),
        )
        .unwrap()
    }

    pub fn verify(&self, b: &TransferBundle) -> Result<TransferEffects, CryptoError> {
        b.verify(
            &self.ctx,
            self.alice.pubkey(),
            self.bob.pubkey(),
            Some(self.auditor.pubkey()),
            &self.available,
        )
    }

    pub fn prove_witness(&self, w: &TransferWitness, seed: u64) -> TransferBundle {
        TransferBundle::prove_with_witness(
            &self.alice,
            &self.available,
            w,
            self.bob.pubkey(),
            Some(self.auditor.pubkey()),
            &self.ctx,
            &mut rng(seed),
        )
        .unwrap()
    }
}
