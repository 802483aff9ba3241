//! Ed25519 keys and signatures with one acceptance rule for single and batch verification.
//!
//! # The verification rule (ADR 0002)
//!
//! ed25519-dalek's `verify` is *cofactorless* and its `verify_batch` is a random linear combination of
//! cofactorless equations, so a signature whose `R` carries a small torsion component is rejected by `verify`
//! yet accepted by `verify_batch` with probability up to 1/2 — a consensus fork waiting to happen. Purse uses
//! the **cofactored** equation in both paths, as ZIP-215 does:
//!
//! `[8]([s]B − R − [k]A) = 0`, with `k = SHA-512(R_bytes ‖ A_bytes ‖ M) mod ℓ`, and
//! - `s` must be canonical (`s < ℓ`), else the signature is rejected;
//! - `R` is any 32-byte string that decompresses to a curve point (decompression is shared by both paths);
//! - `A` is a [`PublicKey`], which is validated once when it is built or decoded: a canonical encoding of a
//!   point that is not of small order.
//!
//! Batch verification checks `[8](−(Σ zᵢsᵢ)B + Σ zᵢRᵢ + Σ (zᵢkᵢ)Aᵢ) = 0` with 128-bit `zᵢ` derived from a
//! hash of the whole batch. It accepts exactly the batches in which every signature passes the single check
//! (up to a 2⁻¹²⁵ chance of accepting an invalid one), so single and batch agree on every input.

use crate::codec::{invalid_data, read_array};
use crate::hash::{Domain, Hash};
use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha512};
use std::fmt;
use std::str::FromStr;

/// Length of a public key in bytes.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of a signature in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// Why a key or signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The bytes are not the encoding of a curve point.
    #[error("public key is not a valid curve point")]
    NotAPoint,
    /// The point has a non-canonical encoding.
    #[error("public key is not canonically encoded")]
    NonCanonical,
    /// The point has small order (a "weak" key that verifies forged signatures).
    #[error("public key has small order")]
    SmallOrder,
    /// Wrong length or not hex.
    #[error("public key must be 64 hex characters")]
    BadHex,
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// `s` is not reduced modulo ℓ.
    #[error("signature scalar is not canonical")]
    NonCanonicalScalar,
    /// `R` does not decompress to a curve point.
    #[error("signature point R is not a valid curve point")]
    InvalidR,
    /// The verification equation does not hold.
    #[error("signature does not verify")]
    Invalid,
    /// A batch contained a failing signature (use [`verify`] per item to find it).
    #[error("batch verification failed")]
    BatchInvalid,
}

/// A validated Ed25519 public key: canonical encoding of a point that is not of small order.
#[derive(Clone, Copy)]
pub struct PublicKey {
    bytes: [u8; PUBLIC_KEY_LEN],
    point: EdwardsPoint,
}

impl PublicKey {
    /// Validates and wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; PUBLIC_KEY_LEN]) -> Result<PublicKey, KeyError> {
        let point = CompressedEdwardsY(bytes).decompress().ok_or(KeyError::NotAPoint)?;
        if point.compress().0 != bytes {
            return Err(KeyError::NonCanonical);
        }
        if point.is_small_order() {
            return Err(KeyError::SmallOrder);
        }
        Ok(PublicKey { bytes, point })
    }

    /// The encoded key.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.bytes
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.bytes)
    }

    /// Parses 64 hex characters and validates the key.
    pub fn from_hex(s: &str) -> Result<PublicKey, KeyError> {
        let mut b = [0u8; PUBLIC_KEY_LEN];
        hex::decode_to_slice(s, &mut b).map_err(|_| KeyError::BadHex)?;
        PublicKey::from_bytes(b)
    }

    /// Hash of this key under [`Domain::AccountAddress`]; the account address derived from it.
    pub fn address(&self) -> crate::Address {
        crate::Address::from_hash(Hash::digest(Domain::AccountAddress, &self.bytes))
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for PublicKey {}
impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}
impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", &self.to_hex()[..16])
    }
}
impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
impl FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PublicKey::from_hex(s)
    }
}

impl BorshSerialize for PublicKey {
    fn serialize<W: borsh::io::Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        writer.write_all(&self.bytes)
    }
}
impl BorshDeserialize for PublicKey {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let bytes = read_array::<R, PUBLIC_KEY_LEN>(reader)?;
        PublicKey::from_bytes(bytes).map_err(|e| invalid_data(e.to_string()))
    }
}
impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}
impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        PublicKey::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// A 64-byte Ed25519 signature `R ‖ s`. Any bytes are representable; validity is decided by [`verify`].
#[derive(Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; SIGNATURE_LEN]);

impl Signature {
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    fn r_bytes(&self) -> [u8; 32] {
        let mut r = [0u8; 32];
        r.copy_from_slice(&self.0[..32]);
        r
    }
    fn s_bytes(&self) -> [u8; 32] {
        let mut s = [0u8; 32];
        s.copy_from_slice(&self.0[32..]);
        s
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", &self.to_hex()[..16])
    }
}
impl serde::Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}
impl<'de> serde::Deserialize<'de> for Signature {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        let mut b = [0u8; SIGNATURE_LEN];
        hex::decode_to_slice(&s, &mut b)
            .map_err(|_| serde::de::Error::custom("signature must be 128 hex characters"))?;
        Ok(Signature(b))
    }
}

/// A signing key pair. The secret is zeroized on drop (ed25519-dalek's `SigningKey` does it).
#[derive(Clone)]
pub struct Keypair {
    signing: ed25519_dalek::SigningKey,
    public: PublicKey,
}

impl Keypair {
    /// A fresh key pair from a cryptographic RNG.
    pub fn generate<R: rand_core::CryptoRngCore + ?Sized>(rng: &mut R) -> Keypair {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        Keypair::from_seed(&seed)
    }

    /// The key pair for a 32-byte secret seed (RFC 8032 private key).
    pub fn from_seed(seed: &[u8; 32]) -> Keypair {
        let signing = ed25519_dalek::SigningKey::from_bytes(seed);
        let bytes = signing.verifying_key().to_bytes();
        // A key derived from a clamped scalar is a multiple of the base point: canonical and of prime order.
        let point = signing.verifying_key().to_edwards();
        Keypair { signing, public: PublicKey { bytes, point } }
    }

    /// The secret seed. Handle with care (it is what key files store).
    pub fn seed(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.signing.to_bytes())
    }

    /// The public key.
    pub fn public(&self) -> PublicKey {
        self.public
    }

    /// Signs `message` (callers pass domain-separated sign bytes, see [`crate::sign_bytes`]).
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message).to_bytes())
    }

    /// The secret scalar; only for tests that build edge-case signatures.
    #[cfg(test)]
    fn secret_scalar(&self) -> Scalar {
        self.signing.to_scalar()
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({:?})", self.public)
    }
}

fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(message);
    Scalar::from_hash(h)
}

fn parse_s(sig: &Signature) -> Result<Scalar, SignatureError> {
    Option::<Scalar>::from(Scalar::from_canonical_bytes(sig.s_bytes()))
        .ok_or(SignatureError::NonCanonicalScalar)
}

fn parse_r(sig: &Signature) -> Result<EdwardsPoint, SignatureError> {
    CompressedEdwardsY(sig.r_bytes()).decompress().ok_or(SignatureError::InvalidR)
}

/// Verifies one signature with the cofactored rule described in the module docs.
pub fn verify(key: &PublicKey, message: &[u8], sig: &Signature) -> Result<(), SignatureError> {
    let s = parse_s(sig)?;
    let r = parse_r(sig)?;
    let k = challenge(&sig.r_bytes(), &key.bytes, message);
    // [s]B - [k]A - R
    let sb_minus_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &(-key.point), &s);
    if (sb_minus_ka - r).mul_by_cofactor().is_identity() {
        Ok(())
    } else {
        Err(SignatureError::Invalid)
    }
}

/// One item of a batch: key, message, signature.
pub type BatchItem<'a> = (&'a PublicKey, &'a [u8], &'a Signature);

/// Verifies many signatures at once with the same rule as [`verify`]. An empty batch verifies.
///
/// On failure it does not say which item failed; callers that need to know re-check items with [`verify`].
pub fn verify_batch(items: &[BatchItem<'_>]) -> Result<(), SignatureError> {
    match items {
        [] => return Ok(()),
        [(k, m, s)] => return verify(k, m, s).map_err(|_| SignatureError::BatchInvalid),
        _ => {}
    }
    let mut ss = Vec::with_capacity(items.len());
    let mut rs = Vec::with_capacity(items.len());
    let mut ks = Vec::with_capacity(items.len());
    // The weights zᵢ are derived from the whole batch, after every input is fixed.
    let mut seed = blake3::Hasher::new_derive_key("purse v1 ed25519 batch weights");
    for (key, msg, sig) in items {
        let s = parse_s(sig).map_err(|_| SignatureError::BatchInvalid)?;
        let r = parse_r(sig).map_err(|_| SignatureError::BatchInvalid)?;
        let k = challenge(&sig.r_bytes(), &key.bytes, msg);
        seed.update(&sig.0);
        seed.update(&key.bytes);
        seed.update(k.as_bytes());
        ss.push(s);
        rs.push(r);
        ks.push(k);
    }
    let mut xof = seed.finalize_xof();
    let zs: Vec<Scalar> = (0..items.len())
        .map(|_| {
            let mut z = [0u8; 32];
            xof.fill(&mut z[..16]);
            Scalar::from_bytes_mod_order(z)
        })
        .collect();
    let b_coeff: Scalar = zs.iter().zip(&ss).map(|(z, s)| z * s).sum();
    let scalars =
        std::iter::once(-b_coeff).chain(zs.iter().copied()).chain(zs.iter().zip(&ks).map(|(z, k)| z * k));
    let points = std::iter::once(curve25519_dalek::constants::ED25519_BASEPOINT_POINT)
        .chain(rs.iter().copied())
        .chain(items.iter().map(|(key, _, _)| key.point));
    let sum = EdwardsPoint::vartime_multiscalar_mul(scalars, points);
    if sum.mul_by_cofactor().is_identity() {
        Ok(())
    } else {
        Err(SignatureError::BatchInvalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
    use rand_chacha::rand_core::SeedableRng;

    fn kp(i: u8) -> Keypair {
        Keypair::from_seed(&[i; 32])
    }

    /// Builds a signature with `R = rB + t` for a torsion point `t`, valid under the cofactored rule.
    fn sign_with_torsion(k: &Keypair, msg: &[u8], t: EdwardsPoint) -> Signature {
        let r = Scalar::from_bytes_mod_order([7u8; 32]);
        let big_r = (r * B + t).compress().0;
        let c = challenge(&big_r, k.public().as_bytes(), msg);
        let s = r + c * k.secret_scalar();
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&big_r);
        out[32..].copy_from_slice(s.as_bytes());
        Signature(out)
    }

    fn agree(k: &PublicKey, m: &[u8], s: &Signature) -> bool {
        let single = verify(k, m, s).is_ok();
        // As part of a larger batch of honest signatures, and alone.
        let others: Vec<(Keypair, Vec<u8>, Signature)> = (1..4u8)
            .map(|i| {
                let kp = kp(i + 100);
                let msg = vec![i; 10];
                let sig = kp.sign(&msg);
                (kp, msg, sig)
            })
            .collect();
        let pks: Vec<PublicKey> = others.iter().map(|o| o.0.public()).collect();
        let mut items: Vec<BatchItem<'_>> =
            others.iter().zip(&pks).map(|(o, pk)| (pk, o.1.as_slice(), &o.2)).collect();
        items.push((k, m, s));
        let batch = verify_batch(&items).is_ok();
        let alone = verify_batch(&[(k, m, s)]).is_ok();
        assert_eq!(single, batch, "single and batch disagree");
        assert_eq!(single, alone, "single and one-item batch disagree");
        single
    }

    #[test]
    fn honest_signature_accepted_by_both_paths() {
        let k = kp(1);
        let sig = k.sign(b"hello");
        assert!(agree(&k.public(), b"hello", &sig));
        assert!(!agree(&k.public(), b"hellp", &sig));
        assert!(!agree(&kp(2).public(), b"hello", &sig));
    }

    #[test]
    fn mixed_order_r_accepted_by_both_paths_where_dalek_disagrees() {
        let k = kp(3);
        let msg = b"torsion in R";
        for t in EIGHT_TORSION.iter().skip(1) {
            let sig = sign_with_torsion(&k, msg, *t);
            // ed25519-dalek's cofactorless single verify rejects this signature …
            let dalek_key = ed25519_dalek::VerifyingKey::from_bytes(k.public().as_bytes()).unwrap();
            let dalek_sig = ed25519_dalek::Signature::from_bytes(&sig.0);
            assert!(dalek_key.verify_strict(msg, &dalek_sig).is_err());
            // … while both of our paths accept it, always together.
            assert!(agree(&k.public(), msg, &sig));
        }
    }

    #[test]
    fn small_order_r_with_matching_scalar_accepted_by_both() {
        // R = t (small order, r = 0), s = k·a: [s]B − [k]A − R = −t, which the cofactor clears.
        let k = kp(4);
        let msg = b"small R";
        let t = EIGHT_TORSION[2];
        let big_r = t.compress().0;
        let c = challenge(&big_r, k.public().as_bytes(), msg);
        let s = c * k.secret_scalar();
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&big_r);
        out[32..].copy_from_slice(s.as_bytes());
        assert!(agree(&k.public(), msg, &Signature(out)));
    }

    #[test]
    fn non_canonical_s_rejected_by_both() {
        let k = kp(5);
        let mut sig = k.sign(b"m");
        let s = Scalar::from_canonical_bytes(sig.s_bytes()).unwrap();
        // s + ℓ as a 256-bit integer (fits: s < ℓ < 2^253).
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        let mut sum = [0u8; 32];
        for i in 0..32 {
            let v = u16::from(s.as_bytes()[i]) + u16::from(l[i]) + carry;
            sum[i] = (v & 0xff) as u8;
            carry = v >> 8;
        }
        sig.0[32..].copy_from_slice(&sum);
        assert_eq!(verify(&k.public(), b"m", &sig), Err(SignatureError::NonCanonicalScalar));
        assert!(!agree(&k.public(), b"m", &sig));
    }

    #[test]
    fn undecodable_r_rejected_by_both() {
        let k = kp(6);
        let mut sig = k.sign(b"m");
        // Find a y with no matching x.
        let mut y = [0u8; 32];
        for i in 0..=255u8 {
            y[0] = i;
            y[1] = 7;
            if CompressedEdwardsY(y).decompress().is_none() {
                break;
            }
        }
        sig.0[..32].copy_from_slice(&y);
        assert_eq!(verify(&k.public(), b"m", &sig), Err(SignatureError::InvalidR));
        assert!(!agree(&k.public(), b"m", &sig));
    }

    #[test]
    fn small_order_and_non_canonical_keys_rejected() {
        for t in EIGHT_TORSION.iter() {
            assert_eq!(PublicKey::from_bytes(t.compress().0), Err(KeyError::SmallOrder));
        }
        // y = p + 1 is a non-canonical encoding of y = 1 (the identity); y = 2^255 - 19 + 2 of y = 2 etc.
        let mut noncanon = [0xffu8; 32];
        noncanon[0] = 0xee; // 2^255 - 18 = p + 1
        noncanon[31] = 0x7f;
        assert!(PublicKey::from_bytes(noncanon).is_err());
        // A point with the sign bit set for x = 0 decodes but is not canonical.
        let mut id = EdwardsPoint::default().compress().0;
        id[31] |= 0x80;
        assert!(PublicKey::from_bytes(id).is_err());
    }

    #[test]
    fn batch_with_one_bad_signature_fails_and_order_does_not_matter() {
        let keys: Vec<Keypair> = (0..16u8).map(kp).collect();
        let msgs: Vec<Vec<u8>> = (0..16u8).map(|i| vec![i; 3]).collect();
        let mut sigs: Vec<Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        let pks: Vec<PublicKey> = keys.iter().map(|k| k.public()).collect();
        let items = |sigs: &[Signature]| -> Result<(), SignatureError> {
            let v: Vec<BatchItem<'_>> =
                pks.iter().zip(&msgs).zip(sigs).map(|((k, m), s)| (k, m.as_slice(), s)).collect();
            verify_batch(&v)
        };
        assert_eq!(items(&sigs), Ok(()));
        sigs[9].0[40] ^= 1;
        assert_eq!(items(&sigs), Err(SignatureError::BatchInvalid));
    }

    #[test]
    fn random_keys_sign_and_verify() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        for _ in 0..8 {
            let k = Keypair::generate(&mut rng);
            let sig = k.sign(b"x");
            assert_eq!(verify(&k.public(), b"x", &sig), Ok(()));
            assert_eq!(Keypair::from_seed(&k.seed()).public(), k.public());
        }
    }
}
