//! Wire-format test vectors: exact bytes and hashes of every wire type, checked into
//! `tests/vectors/wire.txt`. A change to any encoding, hash domain or signing rule fails this test.
//! To regenerate deliberately (a hard fork!): `PURSE_UPDATE_VECTORS=1 cargo test -p purse-types --test vectors`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use purse_types::*;
use std::collections::BTreeMap;

fn compute() -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    let mut put = |k: &str, val: String| {
        v.insert(k.to_string(), val);
    };
    for d in Domain::ALL {
        put(&format!("domain.{:?}.empty", d), Hash::digest(d, b"").to_hex());
    }
    let k = key(1);
    put("key1.public", k.public().to_hex());
    put("key1.address", k.public().address().to_bech32());
    put("key1.sign.hello", k.sign(b"hello").to_hex());
    put("asset.native", AssetId::native().to_hex());
    put("asset.eur_by_key2", AssetId::new(&key(2).public().address(), "EUR").to_hex());
    put("address.contract", Address::contract(&k.public().address(), 3).to_bech32());
    for (name, p) in payloads() {
        let t = tx(p);
        put(&format!("tx.{name}.bytes"), hex::encode(encode(&t)));
        put(&format!("tx.{name}.id"), t.id().to_hex());
        put(&format!("tx.{name}.signed"), hex::encode(encode(&t.sign(&k))));
    }
    put("validator_set.bytes", hex::encode(encode(&validator_set())));
    put("validator_set.hash", validator_set().hash().to_hex());
    put("vote.bytes", hex::encode(encode(&vote())));
    put("vote.sign_bytes", hex::encode(vote().sign_bytes(&chain())));
    put("vote.signed", hex::encode(encode(&vote().sign(&chain(), &key(3)))));
    let prop = Proposal {
        height: 43,
        round: 2,
        pol_round: Some(1),
        block_id: header().id(),
        proposer: key(2).public(),
    };
    put("proposal.signed", hex::encode(encode(&prop.sign(&chain(), &key(2)))));
    put("certificate.bytes", hex::encode(encode(&certificate())));
    put("certificate.hash", certificate().hash().to_hex());
    put("header.bytes", hex::encode(encode(&header())));
    put("header.id", header().id().to_hex());
    let a = ids(&[b"a", b"b", b"c"]);
    put("proposal_id.of_tx_transfer", proposal_id(&tx(payloads()[0].1.clone()).id()).to_hex());
    put("merkle.tx_root.abc", merkle_list_root(Domain::TxRoot, &a).to_hex());
    v
}

fn ids(items: &[&[u8]]) -> Vec<Hash> {
    items.iter().map(|i| Hash::digest(Domain::TxId, i)).collect()
}

fn path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/wire.txt")
}

#[test]
fn wire_vectors_match() {
    let computed = compute();
    if std::env::var_os("PURSE_UPDATE_VECTORS").is_some() {
        let text: String = computed.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        std::fs::write(path(), text).unwrap();
        return;
    }
    let text = std::fs::read_to_string(path()).expect("tests/vectors/wire.txt is checked in");
    let stored: BTreeMap<String, String> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once(" = ").expect("line is `name = value`");
            (k.to_string(), v.to_string())
        })
        .collect();
    let mut diffs = Vec::new();
    for (k, v) in &computed {
        match stored.get(k) {
            Some(s) if s == v => {}
            Some(s) => diffs.push(format!("{k}: stored {s}, computed {v}")),
            None => diffs.push(format!("{k}: missing from wire.txt")),
        }
    }
    for k in stored.keys() {
        if !computed.contains_key(k) {
            diffs.push(format!("{k}: in wire.txt but no longer computed"));
        }
    }
    assert!(diffs.is_empty(), "wire format drifted:\n{}", diffs.join("\n"));
}

#[test]
fn stored_vectors_decode_back() {
    // The checked-in bytes decode to the same values (decode side of the format is pinned too).
    let text = std::fs::read_to_string(path()).unwrap();
    let get = |name: &str| -> Vec<u8> {
        let line = text.lines().find(|l| l.starts_with(&format!("{name} = "))).unwrap();
        hex::decode(line.split_once(" = ").unwrap().1).unwrap()
    };
    for (name, p) in payloads() {
        let t: Transaction = decode(&get(&format!("tx.{name}.bytes"))).unwrap();
        assert_eq!(t, tx(p.clone()));
        let st = SignedTransaction::decode(&get(&format!("tx.{name}.signed"))).unwrap();
        assert_eq!(st.verify_signature(), Ok(()));
    }
    let h: Header = decode(&get("header.bytes")).unwrap();
    assert_eq!(h, header());
    let c: CommitCertificate = decode(&get("certificate.bytes")).unwrap();
    assert_eq!(c.verify(&chain(), &validator_set()), Ok(()));
    let sv: SignedVote = decode(&get("vote.signed")).unwrap();
    assert_eq!(sv.verify(&chain()), Ok(()));
}
