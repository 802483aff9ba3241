//! Fixtures shared by the purse-types integration tests: one sample of every wire type.

#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use purse_types::*;

pub fn key(i: u8) -> Keypair {
    Keypair::from_seed(&[i; 32])
}

pub fn chain() -> ChainId {
    ChainId::new("purse-vectors").unwrap()
}

pub fn coin(amount: u128) -> Coin {
    Coin { asset: AssetId::native(), amount: Amount(amount) }
}

pub fn tx(payload: Payload) -> Transaction {
    Transaction {
        chain_id: chain(),
        sender: key(1).public().address(),
        nonce: 7,
        expiry_height: 1_000,
        max_fee: Amount(2_500),
        payload,
    }
}

/// One payload of every variant, in tag order.
pub fn payloads() -> Vec<(&'static str, Payload)> {
    let to = key(2).public().address();
    let mut v = vec![
        ("transfer", Payload::Transfer { to, coin: coin(12_345) }),
        (
            "create_asset",
            Payload::CreateAsset {
                symbol: "EUR".into(),
                decimals: 2,
                flags: AssetFlags { authorization_required: true, freezable: true, clawback_enabled: false },
            },
        ),
        ("mint", Payload::Mint { to, coin: coin(1) }),
        ("burn", Payload::Burn { coin: coin(2) }),
        (
            "deploy",
            Payload::Deploy {
                code: vec![0, 97, 115, 109],
                init_args: vec![1, 2],
                admin: Some(to),
                fuel_limit: 1_000_000,
            },
        ),
        (
            "call",
            Payload::Call {
                contract: Address::contract(&to, 3),
                method: "earn".into(),
                args: vec![9, 9],
                funds: vec![coin(5)],
                fuel_limit: 50_000,
            },
        ),
        (
            "upgrade",
            Payload::Upgrade {
                contract: Address::contract(&to, 3),
                code: vec![1],
                migrate_args: vec![],
                fuel_limit: 7,
            },
        ),
        (
            "confidential_transfer",
            Payload::Confidential(ConfidentialOp::Transfer {
                asset: AssetId::native(),
                to,
                bundle: vec![4; 8],
            }),
        ),
        (
            "confidential_apply_pending",
            Payload::Confidential(ConfidentialOp::ApplyPending {
                asset: AssetId::native(),
                expected_pending_credits: 3,
                new_decryptable_balance: vec![5; 48],
            }),
        ),
        (
            "confidential_set_auditor",
            Payload::Confidential(ConfidentialOp::SetAuditor {
                asset: AssetId::native(),
                auditor_key: Some([6; 32]),
            }),
        ),
        (
            "governance_propose",
            Payload::Governance(GovernanceOp::Propose {
                action: GovernanceAction::ValidatorSetChange {
                    updates: vec![ValidatorUpdate { public_key: key(9).public(), power: 10 }],
                },
            }),
        ),
        (
            "governance_vote",
            Payload::Governance(GovernanceOp::Vote {
                proposal: Hash::digest(Domain::Proposal, b"p"),
                approve: true,
            }),
        ),
    ];
    v.extend(
        governance_actions()
            .into_iter()
            .map(|(name, action)| (name, Payload::Governance(GovernanceOp::Propose { action }))),
    );
    v.extend(admin_ops().into_iter().map(|(name, op)| (name, Payload::Admin(op))));
    v
}

/// One proposal of every governance action after the validator-set change, in tag order.
pub fn governance_actions() -> Vec<(&'static str, GovernanceAction)> {
    let who = key(4).public().address();
    let eur = AssetId::new(&key(2).public().address(), "EUR");
    vec![
        (
            "governance_propose_set_parameter",
            GovernanceAction::SetParameter { name: "fee_base".into(), value: 2_000 },
        ),
        (
            "governance_propose_allow_code",
            GovernanceAction::AllowCode { code_hash: Hash::digest(Domain::CodeHash, b"wasm"), allowed: true },
        ),
        ("governance_propose_grant_role", GovernanceAction::GrantRole { account: who, role: Role::Merchant }),
        (
            "governance_propose_revoke_role",
            GovernanceAction::RevokeRole { account: who, role: Role::RateFeed },
        ),
        (
            "governance_propose_set_role_admin",
            GovernanceAction::SetRoleAdmin { role: Role::Merchant, admin: Some(who) },
        ),
        (
            "governance_propose_set_tier_limits",
            GovernanceAction::SetTierLimits {
                tier: 1,
                asset: eur,
                limits: Some(TierLimits { per_tx: Amount(10_000), daily: Amount(50_000) }),
            },
        ),
        ("governance_propose_set_open_deployment", GovernanceAction::SetOpenDeployment { open: true }),
        (
            "governance_propose_set_governance",
            GovernanceAction::SetGovernance {
                keys: vec![key(5).public(), key(6).public(), key(7).public()],
                threshold: 2,
                voting_period: 100,
            },
        ),
        (
            "governance_propose_upgrade_contract",
            GovernanceAction::UpgradeContract {
                contract: Address::contract(&key(2).public().address(), 0),
                code: b"\0asm\x01\0\0\0".to_vec(),
                migrate_args: vec![1, 2, 3],
                fuel_limit: 1_000_000,
            },
        ),
    ]
}

/// One of every admin operation, in tag order.
pub fn admin_ops() -> Vec<(&'static str, AdminOp)> {
    let who = key(4).public().address();
    let eur = AssetId::new(&key(2).public().address(), "EUR");
    vec![
        ("admin_onboard", AdminOp::Onboard { public_key: key(8).public(), tier: 2 }),
        ("admin_set_tier", AdminOp::SetTier { account: who, tier: 3 }),
        ("admin_grant_role", AdminOp::GrantRole { account: who, role: Role::Merchant }),
        ("admin_revoke_role", AdminOp::RevokeRole { account: who, role: Role::Auditor }),
        ("admin_authorize_holder", AdminOp::AuthorizeHolder { asset: eur, account: who, authorized: true }),
        ("admin_freeze_holding", AdminOp::FreezeHolding { asset: eur, account: who, frozen: true }),
        ("admin_freeze_asset", AdminOp::FreezeAsset { asset: eur, frozen: true }),
        ("admin_clawback", AdminOp::Clawback { asset: eur, from: who, amount: Amount(77) }),
    ]
}

pub fn validator_set() -> ValidatorSet {
    ValidatorSet::new(
        (1..=4).map(|i| Validator { public_key: key(i).public(), power: u64::from(i) * 10 }).collect(),
    )
    .unwrap()
}

pub fn vote() -> Vote {
    Vote {
        height: 42,
        round: 1,
        kind: VoteKind::Precommit,
        block_id: Some(Hash::digest(Domain::BlockId, b"block")),
        validator: key(3).public(),
    }
}

pub fn certificate() -> CommitCertificate {
    let set = validator_set();
    let mut cert = CommitCertificate {
        height: 42,
        round: 1,
        block_id: Hash::digest(Domain::BlockId, b"block"),
        signatures: vec![],
    };
    for (i, v) in set.validators().iter().enumerate().take(3) {
        let k = (1..=4).map(key).find(|k| k.public() == v.public_key).unwrap();
        let sig = cert.vote_for(k.public()).sign(&chain(), &k).signature;
        cert.signatures.push(CommitSig { validator_index: i as u16, signature: sig });
    }
    cert
}

pub fn header() -> Header {
    Header {
        chain_id: chain(),
        height: 43,
        round: 0,
        parent: Hash::digest(Domain::BlockId, b"block"),
        timestamp_ms: 1_764_000_000_000,
        proposer: key(1).public(),
        tx_root: Hash::digest(Domain::TxRoot, b"t"),
        state_root: Hash::digest(Domain::StateNode, b"s"),
        receipt_root: Hash::digest(Domain::ReceiptRoot, b"r"),
        validator_set_hash: validator_set().hash(),
        next_validator_set_hash: validator_set().hash(),
        last_commit_hash: certificate().hash(),
        evidence_root: Hash::ZERO,
    }
}
