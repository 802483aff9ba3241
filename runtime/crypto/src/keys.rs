//! Per-account twisted-ElGamal keys: secret `s ≠ 0`, public `P = s⁻¹·H`.

use crate::encoding::Pt;
use crate::error::CryptoError;
use crate::pedersen::h;
use borsh::io::{Error, ErrorKind, Read, Result as IoResult, Write};
use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::{CryptoRng, RngCore};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// An ElGamal secret key. Zeroized on drop; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ElGamalSecretKey(pub(crate) Scalar);

impl ElGamalSecretKey {
    /// A random non-zero secret.
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        loop {
            let s = Scalar::random(rng);
            if s != Scalar::ZERO {
                return ElGamalSecretKey(s);
            }
        }
    }

    /// Deterministic derivation from 32 bytes of seed material and a context (e.g. the account's signing
    /// seed and the asset id), so a wallet can recover its confidential key from its main seed.
    pub fn from_seed(seed: &[u8; 32], context: &[u8]) -> Result<Self, CryptoError> {
        let mut h = blake3::Hasher::new_derive_key("purse-crypto v1 elgamal secret key from seed");
        h.update(seed).update(&(context.len() as u64).to_le_bytes()).update(context);
        let mut wide = [0u8; 64];
        h.finalize_xof().fill(&mut wide);
        let s = Scalar::from_bytes_mod_order_wide(&wide);
        wide.zeroize();
        if s == Scalar::ZERO {
            return Err(CryptoError::Decode("zero secret key"));
        }
        Ok(ElGamalSecretKey(s))
    }

    /// The canonical 32 bytes (secret!).
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Parses a canonical non-zero scalar.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, CryptoError> {
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(bytes))
            .ok_or(CryptoError::Decode("non-canonical secret key"))?;
        if bool::from(s.ct_eq(&Scalar::ZERO)) {
            return Err(CryptoError::Decode("zero secret key"));
        }
        Ok(ElGamalSecretKey(s))
    }

    /// The matching public key `s⁻¹·H`.
    pub fn pubkey(&self) -> ElGamalPubkey {
        ElGamalPubkey(Pt::from_point(self.0.invert() * h()))
    }
}

impl std::fmt::Debug for ElGamalSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ElGamalSecretKey(..)")
    }
}

/// An ElGamal public key `P = s⁻¹·H` (canonical, never the identity).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ElGamalPubkey(pub(crate) Pt);

impl ElGamalPubkey {
    /// The point.
    pub fn point(&self) -> RistrettoPoint {
        self.0.point
    }
    /// The canonical 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.compressed.to_bytes()
    }
    /// Parses a public key: canonical encoding, not the identity.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, CryptoError> {
        let p = Pt::from_bytes(bytes)?;
        if p == Pt::identity() {
            return Err(CryptoError::InvalidPubkey);
        }
        Ok(ElGamalPubkey(p))
    }
}

impl BorshSerialize for ElGamalPubkey {
    fn serialize<W: Write>(&self, writer: &mut W) -> IoResult<()> {
        self.0.serialize(writer)
    }
}
impl BorshDeserialize for ElGamalPubkey {
    fn deserialize_reader<R: Read>(reader: &mut R) -> IoResult<Self> {
        let mut b = [0u8; 32];
        reader.read_exact(&mut b)?;
        ElGamalPubkey::from_bytes(b)
            .map_err(|_| Error::new(ErrorKind::InvalidData, "invalid ElGamal public key"))
    }
}

/// A secret key with its public key.
#[derive(Clone, Debug)]
pub struct ElGamalKeypair {
    secret: ElGamalSecretKey,
    public: ElGamalPubkey,
}

impl ElGamalKeypair {
    /// A fresh random keypair.
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self::from_secret(ElGamalSecretKey::random(rng))
    }
    /// The keypair of `secret`.
    pub fn from_secret(secret: ElGamalSecretKey) -> Self {
        let public = secret.pubkey();
        ElGamalKeypair { secret, public }
    }
    /// The secret half.
    pub fn secret(&self) -> &ElGamalSecretKey {
        &self.secret
    }
    /// The public half.
    pub fn pubkey(&self) -> &ElGamalPubkey {
        &self.public
    }
}
