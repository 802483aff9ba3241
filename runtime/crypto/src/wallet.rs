//! Wallet side: build transfers and withdrawals, decrypt incoming amounts (two small discrete logs), track
//! the balance, and auditor decryption.
//!
//! Chain model the wallet mirrors (ADR 0010): an account holds an *available* ciphertext (changed only by
//! the owner's own transfers, withdrawals and apply-pending) and a *pending* ciphertext (deposits and
//! incoming transfers land there), so a credit arriving between proof and inclusion never invalidates the
//! sender's proof. The owner also stores its available balance AEAD-encrypted (the decryptable balance).

use crate::ae::{AeCiphertext, AeKey};
use crate::elgamal::ElGamalCiphertext;
use crate::error::CryptoError;
use crate::keys::{ElGamalKeypair, ElGamalPubkey, ElGamalSecretKey};
use crate::transcript::{AccountContext, TransferContext};
use crate::transfer::{combine_amount, TransferBundle};
use crate::withdraw::WithdrawBundle;
use rand_core::{CryptoRng, RngCore};

/// Decrypts a transfer amount from its `(lo, hi)` halves: a 16-bit and a 32-bit discrete log.
pub fn decrypt_amount(
    secret: &ElGamalSecretKey,
    lo: &ElGamalCiphertext,
    hi: &ElGamalCiphertext,
) -> Result<u64, CryptoError> {
    let lo = lo.decrypt_bounded(secret, 16)?;
    let hi = hi.decrypt_bounded(secret, 32)?;
    combine_amount(lo, hi)
}

/// The amount of an incoming transfer, as its remittee.
pub fn decrypt_incoming(secret: &ElGamalSecretKey, bundle: &TransferBundle) -> Result<u64, CryptoError> {
    let (lo, hi) = bundle.destination_ciphertexts();
    decrypt_amount(secret, &lo, &hi)
}

/// The amount of an outgoing transfer, as its remitter.
pub fn decrypt_outgoing(secret: &ElGamalSecretKey, bundle: &TransferBundle) -> Result<u64, CryptoError> {
    let (lo, hi) = bundle.source_ciphertexts();
    decrypt_amount(secret, &lo, &hi)
}

/// The amount of a transfer, as the asset's auditor.
pub fn auditor_decrypt(auditor: &ElGamalSecretKey, bundle: &TransferBundle) -> Result<u64, CryptoError> {
    let (lo, hi) = bundle.auditor_ciphertexts().ok_or(CryptoError::AuditorMismatch)?;
    decrypt_amount(auditor, &lo, &hi)
}

/// Builds a transfer after checking that `available_ct` really encrypts `available_balance`.
#[allow(clippy::too_many_arguments)]
pub fn build_transfer<R: RngCore + CryptoRng>(
    keypair: &ElGamalKeypair,
    available_balance: u64,
    available_ct: &ElGamalCiphertext,
    amount: u64,
    recipient: &ElGamalPubkey,
    auditor: Option<&ElGamalPubkey>,
    ctx: &TransferContext,
    rng: &mut R,
) -> Result<TransferBundle, CryptoError> {
    if !available_ct.decrypts_to(keypair.secret(), available_balance) {
        return Err(CryptoError::BalanceMismatch);
    }
    TransferBundle::prove(keypair, available_ct, available_balance, amount, recipient, auditor, ctx, rng)
}

/// Builds a withdrawal after checking the balance.
pub fn build_withdraw<R: RngCore + CryptoRng>(
    keypair: &ElGamalKeypair,
    available_balance: u64,
    available_ct: &ElGamalCiphertext,
    amount: u64,
    ctx: &AccountContext,
    rng: &mut R,
) -> Result<WithdrawBundle, CryptoError> {
    if !available_ct.decrypts_to(keypair.secret(), available_balance) {
        return Err(CryptoError::BalanceMismatch);
    }
    WithdrawBundle::prove(keypair, available_ct, available_balance, amount, ctx, rng)
}

/// A confidential account as its owner tracks it: keys, decrypted balances and the ciphertexts the chain
/// holds for them.
#[derive(Clone, Debug)]
pub struct Wallet {
    keypair: ElGamalKeypair,
    ae_key: AeKey,
    available: u64,
    available_ct: ElGamalCiphertext,
    pending: u64,
    pending_ct: ElGamalCiphertext,
}

impl Wallet {
    /// A freshly registered account (both balances zero).
    pub fn new(keypair: ElGamalKeypair) -> Self {
        let ae_key = AeKey::from_secret(keypair.secret());
        Wallet {
            keypair,
            ae_key,
            available: 0,
            available_ct: ElGamalCiphertext::zero(),
            pending: 0,
            pending_ct: ElGamalCiphertext::zero(),
        }
    }

    /// Restores from chain state: the stored decryptable balance (no discrete log needed) is checked
    /// against the available ciphertext; the pending amount must be supplied from the wallet's history.
    pub fn restore(
        keypair: ElGamalKeypair,
        decryptable: &AeCiphertext,
        aad: &[u8],
        available_ct: ElGamalCiphertext,
        pending: u64,
        pending_ct: ElGamalCiphertext,
    ) -> Result<Self, CryptoError> {
        let ae_key = AeKey::from_secret(keypair.secret());
        let available = ae_key.decrypt(decryptable, aad)?;
        if !available_ct.decrypts_to(keypair.secret(), available)
            || !pending_ct.decrypts_to(keypair.secret(), pending)
        {
            return Err(CryptoError::BalanceMismatch);
        }
        Ok(Wallet { keypair, ae_key, available, available_ct, pending, pending_ct })
    }

    /// The keys.
    pub fn keypair(&self) -> &ElGamalKeypair {
        &self.keypair
    }
    /// Spendable balance.
    pub fn available(&self) -> u64 {
        self.available
    }
    /// Received but not yet applied.
    pub fn pending(&self) -> u64 {
        self.pending
    }
    /// The chain's available-balance ciphertext as the wallet expects it.
    pub fn available_ciphertext(&self) -> &ElGamalCiphertext {
        &self.available_ct
    }
    /// The chain's pending-balance ciphertext as the wallet expects it.
    pub fn pending_ciphertext(&self) -> &ElGamalCiphertext {
        &self.pending_ct
    }

    /// The available balance encrypted under the owner's AE key, to store on chain with each update.
    pub fn decryptable_balance<R: RngCore + CryptoRng>(&self, aad: &[u8], rng: &mut R) -> AeCiphertext {
        self.ae_key.encrypt(self.available, aad, rng)
    }

    /// A public deposit landed in pending.
    pub fn on_deposit(&mut self, amount: u64) -> Result<(), CryptoError> {
        self.pending =
            self.pending.checked_add(amount).ok_or(CryptoError::AmountOutOfRange("balance overflow"))?;
        self.pending_ct = self.pending_ct.add_amount(amount);
        Ok(())
    }

    /// An incoming transfer was applied: decrypts it and adds it to pending. Returns the amount.
    pub fn on_incoming(&mut self, bundle: &TransferBundle) -> Result<u64, CryptoError> {
        let (lo, hi) = bundle.destination_ciphertexts();
        let amount = decrypt_amount(self.keypair.secret(), &lo, &hi)?;
        self.pending =
            self.pending.checked_add(amount).ok_or(CryptoError::AmountOutOfRange("balance overflow"))?;
        self.pending_ct = self.pending_ct.add(&ElGamalCiphertext::combine_lo_hi(&lo, &hi));
        Ok(amount)
    }

    /// The owner applied its pending balance: pending moves into available.
    pub fn on_apply_pending(&mut self) -> Result<(), CryptoError> {
        self.available = self
            .available
            .checked_add(self.pending)
            .ok_or(CryptoError::AmountOutOfRange("balance overflow"))?;
        self.available_ct = self.available_ct.add(&self.pending_ct);
        self.pending = 0;
        self.pending_ct = ElGamalCiphertext::zero();
        Ok(())
    }

    /// Builds a transfer from the available balance (the wallet is unchanged until [`Self::on_sent`]).
    pub fn transfer<R: RngCore + CryptoRng>(
        &self,
        amount: u64,
        recipient: &ElGamalPubkey,
        auditor: Option<&ElGamalPubkey>,
        ctx: &TransferContext,
        rng: &mut R,
    ) -> Result<TransferBundle, CryptoError> {
        TransferBundle::prove(
            &self.keypair,
            &self.available_ct,
            self.available,
            amount,
            recipient,
            auditor,
            ctx,
            rng,
        )
    }

    /// Our transfer was applied on chain.
    pub fn on_sent(&mut self, bundle: &TransferBundle) -> Result<u64, CryptoError> {
        let amount = decrypt_outgoing(self.keypair.secret(), bundle)?;
        let available = self
            .available
            .checked_sub(amount)
            .ok_or(CryptoError::AmountOutOfRange("insufficient balance"))?;
        self.available_ct = bundle.effects(&self.available_ct).source_new_available;
        self.available = available;
        Ok(amount)
    }

    /// Builds a withdrawal from the available balance (unchanged until [`Self::on_withdrawn`]).
    pub fn withdraw<R: RngCore + CryptoRng>(
        &self,
        amount: u64,
        ctx: &AccountContext,
        rng: &mut R,
    ) -> Result<WithdrawBundle, CryptoError> {
        WithdrawBundle::prove(&self.keypair, &self.available_ct, self.available, amount, ctx, rng)
    }

    /// Our withdrawal was applied on chain.
    pub fn on_withdrawn(&mut self, bundle: &WithdrawBundle) -> Result<(), CryptoError> {
        self.available = self
            .available
            .checked_sub(bundle.amount)
            .ok_or(CryptoError::AmountOutOfRange("insufficient balance"))?;
        self.available_ct = self.available_ct.sub_amount(bundle.amount);
        Ok(())
    }
}
