//! Property tests for the canonical codec: round trip, injectivity, and no panics on random bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use proptest::prelude::*;
use purse_types::*;

fn arb_hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

fn arb_key() -> impl Strategy<Value = PublicKey> {
    any::<[u8; 32]>().prop_map(|s| Keypair::from_seed(&s).public())
}

fn arb_coin() -> impl Strategy<Value = Coin> {
    (any::<[u8; 32]>(), any::<u128>()).prop_map(|(a, n)| Coin { asset: AssetId(a), amount: Amount(n) })
}

fn arb_payload() -> impl Strategy<Value = Payload> {
    let addr = any::<[u8; 32]>().prop_map(Address);
    prop_oneof![
        (addr.clone(), arb_coin()).prop_map(|(to, coin)| Payload::Transfer { to, coin }),
        ("[A-Z]{1,12}", 0u8..=18, any::<(bool, bool, bool)>()).prop_map(|(symbol, decimals, f)| {
            Payload::CreateAsset {
                symbol,
                decimals,
                flags: AssetFlags { authorization_required: f.0, freezable: f.1, clawback_enabled: f.2 },
            }
        }),
        (addr.clone(), arb_coin()).prop_map(|(to, coin)| Payload::Mint { to, coin }),
        arb_coin().prop_map(|coin| Payload::Burn { coin }),
        (
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::collection::vec(any::<u8>(), 0..16),
            proptest::option::of(addr.clone()),
            any::<u64>()
        )
            .prop_map(|(code, init_args, admin, fuel_limit)| Payload::Deploy {
                code,
                init_args,
                admin,
                fuel_limit
            }),
        (
            addr.clone(),
            "[a-z_]{0,20}",
            proptest::collection::vec(any::<u8>(), 0..32),
            proptest::collection::vec(arb_coin(), 0..3),
            any::<u64>()
        )
            .prop_map(|(contract, method, args, funds, fuel_limit)| Payload::Call {
                contract,
                method,
                args,
                funds,
                fuel_limit
            }),
        (arb_hash(), any::<bool>())
            .prop_map(|(proposal, approve)| Payload::Governance(GovernanceOp::Vote { proposal, approve })),
        (arb_key(), any::<u64>()).prop_map(|(k, power)| Payload::Governance(GovernanceOp::Propose {
            action: GovernanceAction::ValidatorSetChange {
                updates: vec![ValidatorUpdate { public_key: k, power }]
            }
        })),
        (proptest::collection::vec(arb_key(), 0..5), any::<u16>(), any::<u64>()).prop_map(
            |(keys, threshold, voting_period)| Payload::Governance(GovernanceOp::Propose {
                action: GovernanceAction::SetGovernance { keys, threshold, voting_period }
            })
        ),
        (any::<u8>(), any::<[u8; 32]>(), proptest::option::of((any::<u128>(), any::<u128>()))).prop_map(
            |(tier, a, l)| Payload::Governance(GovernanceOp::Propose {
                action: GovernanceAction::SetTierLimits {
                    tier,
                    asset: AssetId(a),
                    limits: l.map(|(p, d)| TierLimits { per_tx: Amount(p), daily: Amount(d) }),
                }
            })
        ),
        (arb_key(), any::<u8>())
            .prop_map(|(public_key, tier)| Payload::Admin(AdminOp::Onboard { public_key, tier })),
        (any::<[u8; 32]>(), addr.clone(), any::<u128>()).prop_map(|(a, from, n)| Payload::Admin(
            AdminOp::Clawback { asset: AssetId(a), from, amount: Amount(n) }
        )),
        (any::<[u8; 32]>(), addr.clone(), any::<bool>()).prop_map(|(a, account, frozen)| Payload::Admin(
            AdminOp::FreezeHolding { asset: AssetId(a), account, frozen }
        )),
        (any::<[u8; 32]>(), addr, proptest::collection::vec(any::<u8>(), 0..64)).prop_map(
            |(a, to, bundle)| {
                Payload::Confidential(ConfidentialOp::Transfer { asset: AssetId(a), to, bundle })
            }
        ),
    ]
}

fn arb_tx() -> impl Strategy<Value = Transaction> {
    ("[a-z0-9]{1,10}", any::<[u8; 32]>(), any::<u64>(), any::<u64>(), any::<u128>(), arb_payload()).prop_map(
        |(c, s, nonce, expiry_height, fee, payload)| Transaction {
            chain_id: ChainId::new(c).unwrap(),
            sender: Address(s),
            nonce,
            expiry_height,
            max_fee: Amount(fee),
            payload,
        },
    )
}

fn arb_vote() -> impl Strategy<Value = Vote> {
    (any::<u64>(), any::<u32>(), any::<bool>(), proptest::option::of(arb_hash()), arb_key()).prop_map(
        |(height, round, pc, block_id, validator)| Vote {
            height,
            round,
            kind: if pc { VoteKind::Precommit } else { VoteKind::Prevote },
            block_id,
            validator,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn tx_round_trips(t in arb_tx()) {
        let bytes = encode(&t);
        prop_assert_eq!(decode::<Transaction>(&bytes), Ok(t.clone()));
        // Re-encoding the decoded value gives the same bytes: the encoding is canonical.
        prop_assert_eq!(encode(&decode::<Transaction>(&bytes).unwrap()), bytes);
    }

    #[test]
    fn tx_encoding_is_injective(a in arb_tx(), b in arb_tx()) {
        prop_assert_eq!(a == b, encode(&a) == encode(&b));
        prop_assert_eq!(a == b, a.id() == b.id());
    }

    #[test]
    fn vote_round_trips_and_is_injective(a in arb_vote(), b in arb_vote()) {
        prop_assert_eq!(decode::<Vote>(&encode(&a)), Ok(a));
        prop_assert_eq!(a == b, encode(&a) == encode(&b));
    }

    #[test]
    fn truncated_or_extended_tx_never_decodes(t in arb_tx(), cut in any::<prop::sample::Index>(), extra in any::<u8>()) {
        let bytes = encode(&t);
        let n = cut.index(bytes.len());
        prop_assert!(decode::<Transaction>(&bytes[..n]).is_err());
        let mut longer = bytes.clone();
        longer.push(extra);
        prop_assert!(decode::<Transaction>(&longer).is_err());
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode::<Transaction>(&bytes);
        let _ = SignedTransaction::decode(&bytes);
        let _ = Block::decode(&bytes);
        let _ = decode::<Header>(&bytes);
        let _ = decode::<SignedVote>(&bytes);
        let _ = decode::<CommitCertificate>(&bytes);
        let _ = decode::<ValidatorSet>(&bytes);
        let _ = decode::<Evidence>(&bytes);
        let _ = decode::<Receipt>(&bytes);
        let _ = decode::<PublicKey>(&bytes);
        let _ = decode::<Address>(&bytes);
    }

    #[test]
    fn mutated_valid_bytes_never_panic_and_reencode_canonically(t in arb_tx(), pos in any::<prop::sample::Index>(), val in any::<u8>()) {
        let mut bytes = encode(&t.sign(&key(1)));
        let i = pos.index(bytes.len());
        bytes[i] = val;
        if let Ok(decoded) = SignedTransaction::decode(&bytes) {
            // Anything that decodes re-encodes to exactly the input: no two encodings of one value.
            prop_assert_eq!(encode(&decoded), bytes);
        }
    }

    #[test]
    fn address_text_round_trips(b in any::<[u8; 32]>()) {
        let a = Address(b);
        prop_assert_eq!(Address::parse(&a.to_bech32()), Ok(a));
    }

    #[test]
    fn signatures_verify_single_and_batch_alike(seeds in proptest::collection::vec(any::<[u8; 32]>(), 1..8), flip in any::<Option<(prop::sample::Index, u8)>>()) {
        let keys: Vec<Keypair> = seeds.iter().map(Keypair::from_seed).collect();
        let pks: Vec<PublicKey> = keys.iter().map(|k| k.public()).collect();
        let msgs: Vec<Vec<u8>> = seeds.iter().map(|s| s.to_vec()).collect();
        let mut sigs: Vec<Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        if let Some((idx, bit)) = flip {
            let i = idx.index(sigs.len());
            sigs[i].0[usize::from(bit) % 64] ^= 1 << (bit % 8);
        }
        let all_single = pks.iter().zip(&msgs).zip(&sigs).all(|((k, m), s)| verify(k, m, s).is_ok());
        let items: Vec<_> = pks.iter().zip(&msgs).zip(&sigs).map(|((k, m), s)| (k, m.as_slice(), s)).collect();
        prop_assert_eq!(all_single, verify_batch(&items).is_ok());
    }
}

#[test]
fn block_body_checks() {
    let t = tx(payloads()[0].1.clone()).sign(&key(1));
    let txs = vec![t];
    let mut h = header();
    h.tx_root = Block::compute_tx_root(&txs);
    h.last_commit_hash = Block::commit_hash(Some(&certificate()));
    h.evidence_root = Block::compute_evidence_root(&[]);
    let block = Block { header: h, txs, last_commit: Some(certificate()), evidence: vec![] };
    assert_eq!(block.check_body(), Ok(()));
    assert_eq!(Block::decode(&encode(&block)), Ok(block.clone()));
    let mut tampered = block.clone();
    tampered.txs.clear();
    assert_eq!(tampered.check_body(), Err(BlockError::TxRoot));
    let mut tampered = block;
    tampered.last_commit = None;
    assert_eq!(tampered.check_body(), Err(BlockError::LastCommit));
}

#[test]
fn evidence_verifies_only_real_equivocation() {
    let chain = chain();
    let k = key(3);
    let a = vote().sign(&chain, &k);
    let mut v2 = vote();
    v2.block_id = None;
    let b = v2.sign(&chain, &k);
    let ev = Evidence::DuplicateVote { a, b };
    assert_eq!(ev.verify(&chain), Ok(()));
    assert_eq!(ev.id(), Evidence::DuplicateVote { a: b, b: a }.id());
    assert_eq!(Evidence::DuplicateVote { a, b: a }.verify(&chain), Err(EvidenceError::SameValue));
    let mut v3 = vote();
    v3.round += 1;
    v3.block_id = None;
    let c = v3.sign(&chain, &k);
    assert_eq!(Evidence::DuplicateVote { a, b: c }.verify(&chain), Err(EvidenceError::NotConflicting));
    let mut forged = b;
    forged.signature.0[0] ^= 1;
    assert!(matches!(
        Evidence::DuplicateVote { a, b: forged }.verify(&chain),
        Err(EvidenceError::Signature(_))
    ));
}
