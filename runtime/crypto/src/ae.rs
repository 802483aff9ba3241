//! The owner-only "decryptable balance": the available balance under an AEAD key derived from the ElGamal
//! secret, so the owner never needs a 64-bit discrete log to know what it has.

use crate::error::CryptoError;
use crate::keys::ElGamalSecretKey;
use borsh::{BorshDeserialize, BorshSerialize};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// XChaCha20-Poly1305 key (32 bytes). Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AeKey([u8; 32]);

/// An encrypted `u64` balance: 24-byte random nonce and 8 + 16 bytes of ciphertext and tag.
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct AeCiphertext {
    nonce: [u8; 24],
    ciphertext: [u8; 24],
}

impl AeKey {
    /// The key derived (blake3 `derive_key`) from an ElGamal secret: one seed, both keys.
    pub fn from_secret(secret: &ElGamalSecretKey) -> Self {
        let mut sk = secret.to_bytes();
        let k = blake3::derive_key("purse-crypto v1 decryptable balance key", &sk);
        sk.zeroize();
        AeKey(k)
    }

    /// A random key.
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut k = [0u8; 32];
        rng.fill_bytes(&mut k);
        AeKey(k)
    }

    /// Encrypts `amount`, bound to `aad` (e.g. account address ‖ asset id, so it cannot be moved).
    pub fn encrypt<R: RngCore + CryptoRng>(&self, amount: u64, aad: &[u8], rng: &mut R) -> AeCiphertext {
        let mut nonce = [0u8; 24];
        rng.fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.0));
        let msg = amount.to_le_bytes();
        let out = cipher.encrypt(XNonce::from_slice(&nonce), Payload { msg: &msg, aad }).unwrap_or_default();
        let mut ciphertext = [0u8; 24];
        if out.len() == 24 {
            ciphertext.copy_from_slice(&out);
        }
        AeCiphertext { nonce, ciphertext }
    }

    /// Decrypts and authenticates.
    pub fn decrypt(&self, ct: &AeCiphertext, aad: &[u8]) -> Result<u64, CryptoError> {
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.0));
        let plain = cipher
            .decrypt(XNonce::from_slice(&ct.nonce), Payload { msg: &ct.ciphertext, aad })
            .map_err(|_| CryptoError::Aead)?;
        let bytes: [u8; 8] = plain.as_slice().try_into().map_err(|_| CryptoError::Aead)?;
        Ok(u64::from_le_bytes(bytes))
    }
}

impl std::fmt::Debug for AeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AeKey(..)")
    }
}
