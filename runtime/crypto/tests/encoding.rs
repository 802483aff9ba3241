//! Canonical wire encodings: every non-canonical point or scalar, bad tag, truncation or trailing byte is
//! a decode error; random bytes never panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use proptest::prelude::*;
use purse_crypto::*;

/// ℓ, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn add_l(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = s[i] as u16 + L[i] as u16 + carry;
        out[i] = v as u8;
        carry = v >> 8;
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).unwrap()
}

#[test]
fn non_canonical_points_and_scalars_are_decode_errors() {
    let st = setup(10_000, 1);
    let b = st.transfer(99, 2);
    let bytes = to_bytes(&b);
    assert!(from_bytes::<TransferBundle>(&bytes).is_ok());

    // The field prime p = 2^255 − 19 is a non-canonical encoding of 0; 0xff..ff is not a field element.
    let mut p_bytes = [0xffu8; 32];
    p_bytes[0] = 0xed;
    p_bytes[31] = 0x7f;
    for bad_point in [p_bytes, [0xff; 32], {
        let mut x = [0u8; 32];
        x[0] = 1;
        x
    }] {
        let mut m = bytes.clone();
        m[..32].copy_from_slice(&bad_point); // amount_lo.commitment
        assert!(matches!(from_bytes::<TransferBundle>(&m), Err(CryptoError::Decode(_))));
    }

    // Scalar z + ℓ in the equality proof: same value mod ℓ, non-canonical bytes.
    let eq = to_bytes(&b.equality_proof);
    let z_s = &eq[96..128];
    let at = find(&bytes, z_s);
    let mut m = bytes.clone();
    m[at..at + 32].copy_from_slice(&add_l(z_s));
    assert!(matches!(from_bytes::<TransferBundle>(&m), Err(CryptoError::Decode(_))));

    // Same inside the range proof (t_x is its fifth 32-byte element).
    let rp = b.range_proof.as_bytes();
    let t_x = &rp[128..160];
    let at = find(&bytes, t_x);
    let mut m = bytes.clone();
    m[at..at + 32].copy_from_slice(&add_l(t_x));
    assert!(matches!(from_bytes::<TransferBundle>(&m), Err(CryptoError::Decode(_))));

    // Bad option tag, truncation, trailing bytes, oversized range proof length.
    let tag_at = 32 * 3; // after lo commitment and two handles
    assert_eq!(bytes[tag_at], 1);
    let mut m = bytes.clone();
    m[tag_at] = 2;
    assert!(from_bytes::<TransferBundle>(&m).is_err());
    assert!(from_bytes::<TransferBundle>(&bytes[..bytes.len() - 1]).is_err());
    let mut m = bytes.clone();
    m.push(0);
    assert!(from_bytes::<TransferBundle>(&m).is_err());
    let len_at = bytes.len() - rp.len() - 4;
    let mut m = bytes.clone();
    m[len_at..len_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(from_bytes::<TransferBundle>(&m).is_err());

    // Public keys: identity and non-canonical rejected.
    assert!(from_bytes::<ElGamalPubkey>(&[0u8; 32]).is_err());
    assert!(from_bytes::<ElGamalPubkey>(&p_bytes).is_err());
    assert!(from_bytes::<ElGamalPubkey>(&st.bob.pubkey().to_bytes()).is_ok());
    // Secret keys: non-canonical rejected.
    assert!(ElGamalSecretKey::from_bytes(add_l(&st.bob.secret().to_bytes())).is_err());
}

#[test]
fn wire_sizes_are_pinned() {
    let st = setup(10_000, 3);
    let b = st.transfer(99, 4);
    // lo: C + 3 handles + tag; hi: 2 limbs + 3 handles + tag; 4 balance limbs; equality 6×32;
    // validity 4 points (Y0, source, destination, auditor) + tag + 2 scalars; range proof: len + (2·log2(128) + 9)·32.
    let expect = (32 + 96 + 1) + (64 + 96 + 1) + 128 + 192 + (4 * 32 + 1 + 64) + (4 + (2 * 7 + 9) * 32);
    assert_eq!(to_bytes(&b).len(), expect);
    let no_auditor = wallet::build_transfer(
        &st.alice,
        st.balance,
        &st.available,
        99,
        st.bob.pubkey(),
        None,
        &st.ctx,
        &mut rng(4),
    )
    .unwrap();
    assert_eq!(to_bytes(&no_auditor).len(), expect - 3 * 32);
    let kp = ElGamalKeypair::random(&mut rng(5));
    let ctx = account_ctx(1);
    let w = WithdrawBundle::prove(&kp, &ElGamalCiphertext::from_public_amount(5), 5, 1, &ctx, &mut rng(6))
        .unwrap();
    assert_eq!(to_bytes(&w).len(), 8 + 32 + 192 + 4 + (2 * 6 + 9) * 32);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1700)) {
        let _ = from_bytes::<TransferBundle>(&bytes);
        let _ = from_bytes::<WithdrawBundle>(&bytes);
        let _ = from_bytes::<PubkeyValidityProof>(&bytes);
        let _ = from_bytes::<ElGamalCiphertext>(&bytes);
        let _ = from_bytes::<AeCiphertext>(&bytes);
    }
}

#[test]
fn mutated_bundles_never_panic_and_never_verify() {
    let st = setup(10_000, 7);
    let b = st.transfer(321, 8);
    let bytes = to_bytes(&b);
    let mut r = rng(9);
    use rand_core::RngCore;
    let mut decoded = 0;
    for _ in 0..300 {
        let mut m = bytes.clone();
        let i = (r.next_u32() as usize) % m.len();
        m[i] ^= 1 << (r.next_u32() % 8);
        if let Ok(x) = from_bytes::<TransferBundle>(&m) {
            decoded += 1;
            assert!(st.verify(&x).is_err(), "bit flip at {i} still verifies");
        }
    }
    assert!(decoded > 0);
}
