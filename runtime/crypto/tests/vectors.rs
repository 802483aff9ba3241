//! Pinned wire vectors: key derivation, ciphertext encoding and the exact bytes (hashed) of proofs built
//! from fixed seeds. A change here is a wire-format change: bump the protocol label and write an ADR.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use purse_crypto::*;

fn h(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

#[test]
fn pinned_vectors() {
    let alice = ElGamalKeypair::from_secret(ElGamalSecretKey::from_seed(&[1; 32], b"asset").unwrap());
    let bob = ElGamalKeypair::from_secret(ElGamalSecretKey::from_seed(&[2; 32], b"asset").unwrap());
    let auditor = ElGamalKeypair::from_secret(ElGamalSecretKey::from_seed(&[3; 32], b"asset").unwrap());
    let available = ElGamalCiphertext::from_public_amount(1_000_000);
    let ctx = ctx();
    let bundle = TransferBundle::prove(
        &alice,
        &available,
        1_000_000,
        123_456,
        bob.pubkey(),
        Some(auditor.pubkey()),
        &ctx,
        &mut rng(1),
    )
    .unwrap();
    bundle.verify(&ctx, alice.pubkey(), bob.pubkey(), Some(auditor.pubkey()), &available).unwrap();
    let withdraw =
        WithdrawBundle::prove(&alice, &available, 1_000_000, 1, &account_ctx(1), &mut rng(2)).unwrap();
    let reg = PubkeyValidityProof::new(&alice, &account_ctx(1), &mut rng(3));
    let got = [
        hex(&alice.pubkey().to_bytes()),
        hex(&to_bytes(&ElGamalCiphertext::from_public_amount(5))),
        h(&to_bytes(&bundle)),
        h(&to_bytes(&withdraw)),
        h(&to_bytes(&reg)),
    ];
    let want = [
        // the public key of from_seed([1; 32], "asset")
        "b01d8ada2133d72f2e608e3ea078dc43ffeee02653103dbffa665b8972919431",
        // 5·G (RFC 9496's vector for 5·B) and the identity handle
        "e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e0000000000000000000000000000000000000000000000000000000000000000",
        // blake3 of the transfer bundle, withdraw bundle and registration proof built from fixed seeds
        "7e3e6cf3c5cfaaedb54fccc9ae17e22204cf9a4ff7ae1a50b01bd0577d6ca999",
        "092d3f387deaf359f88a218277871e930572cf3ffab4f9dd895f5e9e5e5f170b",
        "ab639490f7d12744ba4f1086d007527a5e268993f24b47f0a3af291208992ba7",
    ];
    assert_eq!(got, want);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
