//! Permissioning in the state-transition function (issue 7): onboarding, role checks, asset controls
//! (freezes, authorization, clawback) on every path a balance moves (native, contract, confidential) and tier
//! payment limits with their daily reset.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use purse_crypto::{to_bytes, ElGamalKeypair, ElGamalSecretKey, PubkeyValidityProof};
use purse_runtime::governance;
use purse_runtime::permissions::{self, AdminEvent};
use purse_runtime::schema::HoldingRecord;
use purse_runtime::*;
use purse_types::*;
use rand_chacha::rand_core::SeedableRng;

#[test]
fn an_unregistered_account_cannot_transact_until_an_onboarding_authority_registers_it() {
    let mut c = Chain::standard();
    let newcomer = 50u8;
    // Unknown sender: refused before anything is written or charged.
    let r = c.run(newcomer, transfer(USERS[0], AssetId::native(), 1));
    assert_eq!(code(&r), "unknown_sender");
    assert_eq!(r.fee_paid, 0);
    // Nobody can pay it either.
    assert_eq!(c.fails(USERS[0], transfer(newcomer, AssetId::native(), 1)), "unknown_recipient");
    // Only an onboarding authority onboards.
    let onboard = admin(AdminOp::Onboard { public_key: key(newcomer).public(), tier: 2 });
    assert_eq!(c.fails(USERS[0], onboard.clone()), "unauthorized");
    assert_eq!(c.fails(ISSUER, onboard.clone()), "unauthorized");
    assert!(c.account(&addr(newcomer)).is_none());
    let r = c.ok(ONBOARDER, onboard.clone());
    let ev = r.events.iter().find(|e| e.topic == permissions::ONBOARDED_TOPIC).unwrap();
    let data: AdminEvent = decode(&ev.data).unwrap();
    assert_eq!(data.actor, addr(ONBOARDER), "the event names the actor");
    let rec = c.account(&addr(newcomer)).unwrap();
    assert_eq!((rec.public_key, rec.nonce, rec.tier), (key(newcomer).public(), 0, 2));
    assert_eq!(c.fails(ONBOARDER, onboard), "account_exists");
    // Registered: it can receive, and with fee money it can transact.
    c.ok(USERS[0], transfer(newcomer, AssetId::native(), 1_000_000));
    c.ok(newcomer, transfer(USERS[1], AssetId::native(), 10));
    // Tier changes: the authority only.
    let set_tier = admin(AdminOp::SetTier { account: addr(newcomer), tier: 3 });
    assert_eq!(c.fails(newcomer, set_tier.clone()), "unauthorized");
    c.ok(ONBOARDER, set_tier);
    assert_eq!(c.account(&addr(newcomer)).unwrap().tier, 3);
    assert_eq!(c.fails(ONBOARDER, admin(AdminOp::SetTier { account: addr(99), tier: 1 })), "invalid");
}

#[test]
fn each_roles_actions_fail_without_the_role() {
    let mut c = Chain::standard();
    let u = USERS[0];
    // Onboarding authority.
    assert_eq!(c.fails(u, admin(AdminOp::Onboard { public_key: key(60).public(), tier: 1 })), "unauthorized");
    // Asset issuer: create, and the issuer powers over its assets (mint, auditor, freeze, authorize, clawback).
    let create = Payload::CreateAsset { symbol: "NEW".into(), decimals: 2, flags: AssetFlags::default() };
    assert_eq!(c.fails(u, create.clone()), "unauthorized");
    assert_eq!(c.fails(u, mint(u, frz(), 5)), "unauthorized");
    let auditor = Payload::Confidential(ConfidentialOp::SetAuditor { asset: frz(), auditor_key: None });
    assert_eq!(c.fails(u, auditor.clone()), "unauthorized");
    assert_eq!(
        c.fails(u, admin(AdminOp::FreezeHolding { asset: frz(), account: addr(USERS[1]), frozen: true })),
        "unauthorized"
    );
    assert_eq!(c.fails(u, admin(AdminOp::FreezeAsset { asset: frz(), frozen: true })), "unauthorized");
    assert_eq!(
        c.fails(u, admin(AdminOp::AuthorizeHolder { asset: auth(), account: addr(u), authorized: true })),
        "unauthorized"
    );
    assert_eq!(
        c.fails(u, admin(AdminOp::Clawback { asset: frz(), from: addr(ISSUER), amount: Amount(1) })),
        "unauthorized"
    );
    // Role administration: nobody administers Merchant yet, so not even the issuer can grant it.
    let grant = admin(AdminOp::GrantRole { account: addr(u), role: Role::Merchant });
    assert_eq!(c.fails(ISSUER, grant.clone()), "unauthorized");
    assert_eq!(c.fails(u, grant), "unauthorized");
    // Deploying allow-listed code needs a deploying role (merchant, issuer, TSP, exchange operator).
    let code = pay_contract();
    c.pass(GovernanceAction::AllowCode { code_hash: purse_vm::code_hash(&code), allowed: true });
    let deploy = Payload::Deploy { code, init_args: vec![], admin: None, fuel_limit: 5_000_000 };
    assert_eq!(c.fails(u, deploy.clone()), "unauthorized");
    c.ok(MERCHANT, deploy);
    // With the roles, the same actions work.
    c.ok(ISSUER, create);
    c.ok(ISSUER, mint(u, frz(), 5));
    c.ok(ISSUER, auditor);
    // Revoking the asset-issuer role suspends the issuer's powers over the assets it already issued.
    c.pass(GovernanceAction::RevokeRole { account: addr(ISSUER), role: Role::AssetIssuer });
    assert_eq!(c.fails(ISSUER, mint(u, frz(), 5)), "unauthorized");
    assert_eq!(c.fails(ISSUER, admin(AdminOp::FreezeAsset { asset: frz(), frozen: true })), "unauthorized");
    assert_eq!(c.balance(&addr(u), &frz()), 5);
}

fn register_confidential(c: &mut Chain, who: u8, asset: AssetId) -> Payload {
    let nonce = c.account(&addr(who)).unwrap().nonce;
    let kp = ElGamalKeypair::from_secret(ElGamalSecretKey::from_seed(&[who; 32], &asset.0).unwrap());
    let ctx = confidential::account_context_of(&chain_id(), &addr(who), nonce, &asset);
    let proof =
        PubkeyValidityProof::new(&kp, &ctx, &mut rand_chacha::ChaCha20Rng::seed_from_u64(u64::from(who)));
    Payload::Confidential(ConfidentialOp::Register {
        asset,
        encryption_key: kp.pubkey().to_bytes(),
        proof: to_bytes(&proof),
    })
}

fn deposit(asset: AssetId, amount: u128) -> Payload {
    Payload::Confidential(ConfidentialOp::Deposit { coin: coin(asset, amount) })
}

/// Deploys the `pay` contract from the merchant under open deployment; its address.
fn deploy_pay(c: &mut Chain) -> Address {
    c.pass(GovernanceAction::SetOpenDeployment { open: true });
    let nonce = c.account(&addr(MERCHANT)).unwrap().nonce;
    c.ok(
        MERCHANT,
        Payload::Deploy { code: pay_contract(), init_args: vec![], admin: None, fuel_limit: 5_000_000 },
    );
    Address::contract(&addr(MERCHANT), nonce)
}

#[test]
fn a_frozen_holding_cannot_send_or_receive_publicly_through_contracts_or_confidentially() {
    let mut c = Chain::standard();
    let (a, b) = (USERS[0], USERS[1]);
    let pay = deploy_pay(&mut c);
    c.ok(ISSUER, mint(a, frz(), 1_000));
    c.ok(ISSUER, mint(b, frz(), 1_000));
    c.ok(b, call(pay, "noop", vec![], vec![coin(frz(), 300)]));
    let reg = register_confidential(&mut c, a, frz());
    c.ok(a, reg);
    // Freeze a's holding: the event names the issuer.
    let r = c.ok(ISSUER, admin(AdminOp::FreezeHolding { asset: frz(), account: addr(a), frozen: true }));
    let ev: AdminEvent = decode(&r.events[0].data).unwrap();
    assert_eq!((r.events[0].topic.as_str(), ev.actor), (permissions::HOLDING_FROZEN_TOPIC, addr(ISSUER)));
    assert_eq!(
        permissions::holding_controls(&c.map, &frz(), &addr(a)).unwrap(),
        HoldingRecord { authorized: false, frozen: true }
    );
    let before = (c.balance(&addr(a), &frz()), c.balance(&addr(b), &frz()), c.balance(&pay, &frz()));
    // Public: neither direction.
    assert_eq!(c.fails(a, transfer(b, frz(), 1)), "frozen");
    assert_eq!(c.fails(b, transfer(a, frz(), 1)), "frozen");
    assert_eq!(c.fails(ISSUER, mint(a, frz(), 1)), "frozen");
    assert_eq!(c.fails(a, Payload::Burn { coin: coin(frz(), 1) }), "frozen");
    // Contract: a cannot attach funds, and the contract cannot pay a.
    let r = c.run(a, call(pay, "noop", vec![], vec![coin(frz(), 1)]));
    assert_ne!(code(&r), "ok");
    assert_eq!(c.fails(b, call(pay, "pay", pay_args(a, frz(), 1), vec![])), "aborted");
    // Confidential: no deposit.
    assert_eq!(c.fails(a, deposit(frz(), 1)), "frozen");
    assert_eq!(before, (c.balance(&addr(a), &frz()), c.balance(&addr(b), &frz()), c.balance(&pay, &frz())));
    // Other assets of a are unaffected.
    c.ok(a, transfer(b, AssetId::native(), 1));
    // Unfrozen: everything works again.
    c.ok(ISSUER, admin(AdminOp::FreezeHolding { asset: frz(), account: addr(a), frozen: false }));
    assert_eq!(permissions::holding_controls(&c.map, &frz(), &addr(a)).unwrap(), HoldingRecord::default());
    c.ok(a, transfer(b, frz(), 1));
    c.ok(b, transfer(a, frz(), 1));
    c.ok(a, call(pay, "noop", vec![], vec![coin(frz(), 1)]));
    c.ok(b, call(pay, "pay", pay_args(a, frz(), 1), vec![]));
    c.ok(a, deposit(frz(), 10));
    // Freezing the contract's own holding stops its transfers too.
    c.ok(ISSUER, admin(AdminOp::FreezeHolding { asset: frz(), account: pay, frozen: true }));
    assert_eq!(c.fails(b, call(pay, "pay", pay_args(b, frz(), 1), vec![])), "aborted");
    // A non-freezable asset cannot be frozen.
    assert_eq!(
        c.fails(ISSUER, admin(AdminOp::FreezeHolding { asset: plain(), account: addr(a), frozen: true })),
        "unauthorized"
    );
}

#[test]
fn a_global_freeze_stops_every_movement_except_clawback() {
    let mut c = Chain::standard();
    let (a, b) = (USERS[0], USERS[1]);
    let pay = deploy_pay(&mut c);
    c.ok(ISSUER, mint(a, frz(), 1_000));
    c.ok(a, call(pay, "noop", vec![], vec![coin(frz(), 100)]));
    c.ok(ISSUER, admin(AdminOp::FreezeAsset { asset: frz(), frozen: true }));
    assert!(permissions::asset_controls(&c.map, &frz()).unwrap().unwrap().frozen);
    assert_eq!(c.fails(a, transfer(b, frz(), 1)), "frozen");
    assert_eq!(c.fails(ISSUER, mint(b, frz(), 1)), "frozen");
    assert_eq!(c.fails(a, Payload::Burn { coin: coin(frz(), 1) }), "frozen");
    assert_eq!(c.fails(a, call(pay, "pay", pay_args(b, frz(), 1), vec![])), "aborted");
    c.ok(ISSUER, admin(AdminOp::Clawback { asset: frz(), from: addr(a), amount: Amount(10) }));
    c.ok(ISSUER, admin(AdminOp::FreezeAsset { asset: frz(), frozen: false }));
    c.ok(a, transfer(b, frz(), 1));
    assert_eq!(c.balance(&addr(a), &frz()), 1_000 - 100 - 10 - 1);
    assert_eq!(c.fails(ISSUER, admin(AdminOp::FreezeAsset { asset: plain(), frozen: true })), "unauthorized");
}

#[test]
fn authorization_required_assets_reach_only_authorized_holders() {
    let mut c = Chain::standard();
    let (a, b) = (USERS[0], USERS[1]);
    assert_eq!(c.fails(ISSUER, mint(a, auth(), 100)), "holder_not_authorized");
    let authorize = |who: u8, on: bool| {
        admin(AdminOp::AuthorizeHolder { asset: auth(), account: addr(who), authorized: on })
    };
    let r = c.ok(ISSUER, authorize(a, true));
    assert_eq!(r.events[0].topic, permissions::HOLDER_AUTHORIZED_TOPIC);
    c.ok(ISSUER, mint(a, auth(), 100));
    assert_eq!(c.fails(a, transfer(b, auth(), 10)), "holder_not_authorized");
    // Through a contract too: the contract itself must be authorized to receive, then the recipient.
    let pay = deploy_pay(&mut c);
    assert_ne!(code(&c.run(a, call(pay, "noop", vec![], vec![coin(auth(), 10)]))), "ok");
    c.ok(ISSUER, admin(AdminOp::AuthorizeHolder { asset: auth(), account: pay, authorized: true }));
    c.ok(a, call(pay, "noop", vec![], vec![coin(auth(), 10)]));
    assert_eq!(c.fails(a, call(pay, "pay", pay_args(b, auth(), 5), vec![])), "aborted");
    c.ok(ISSUER, authorize(b, true));
    c.ok(a, transfer(b, auth(), 10));
    c.ok(a, call(pay, "pay", pay_args(b, auth(), 5), vec![]));
    // De-authorized: b can still send what it holds, but not receive more. The issuer always may receive.
    c.ok(ISSUER, authorize(b, false));
    assert_eq!(c.fails(a, transfer(b, auth(), 1)), "holder_not_authorized");
    c.ok(b, transfer(a, auth(), 1));
    c.ok(b, transfer(ISSUER, auth(), 1));
    assert_eq!(c.balance(&addr(b), &auth()), 13);
    // Authorizing holders of an asset that does not require it is an error.
    assert_eq!(
        c.fails(ISSUER, admin(AdminOp::AuthorizeHolder { asset: frz(), account: addr(a), authorized: true })),
        "invalid"
    );
}

#[test]
fn clawback_only_on_clawback_enabled_assets_and_only_by_the_issuer() {
    let mut c = Chain::standard();
    let a = USERS[0];
    c.ok(ISSUER, mint(a, frz(), 500));
    c.ok(ISSUER, mint(a, plain(), 500));
    let claw = |asset: AssetId, n: u128| admin(AdminOp::Clawback { asset, from: addr(a), amount: Amount(n) });
    assert_eq!(c.fails(a, claw(frz(), 100)), "unauthorized");
    assert_eq!(c.fails(MERCHANT, claw(frz(), 100)), "unauthorized");
    assert_eq!(c.fails(ISSUER, claw(plain(), 100)), "unauthorized");
    assert_eq!(c.fails(ISSUER, claw(frz(), 501)), "insufficient_funds");
    let r = c.ok(ISSUER, claw(frz(), 100));
    let ev = r.events.iter().find(|e| e.topic == permissions::CLAWBACK_TOPIC).unwrap();
    assert_eq!(decode::<AdminEvent>(&ev.data).unwrap().actor, addr(ISSUER));
    assert_eq!(c.balance(&addr(a), &frz()), 400);
    assert_eq!(c.balance(&addr(ISSUER), &frz()), 100);
    assert_eq!(c.balance(&addr(a), &plain()), 500);
    // An asset created without the flag never gets it: the flags are fixed at creation.
    c.ok(ISSUER, Payload::CreateAsset { symbol: "NOCLAW".into(), decimals: 0, flags: AssetFlags::default() });
    let noclaw = AssetId::new(&addr(ISSUER), "NOCLAW");
    c.ok(ISSUER, mint(a, noclaw, 5));
    assert_eq!(c.fails(ISSUER, claw(noclaw, 1)), "unauthorized");
    assert!(!permissions::asset_controls(&c.map, &noclaw).unwrap().unwrap().flags.clawback_enabled);
}

fn limits(per_tx: u128, daily: u128) -> Option<TierLimits> {
    Some(TierLimits { per_tx: Amount(per_tx), daily: Amount(daily) })
}

#[test]
fn tier_limits_per_transaction_and_daily_on_every_holder_debit_reset_the_next_day() {
    let mut c = Chain::standard();
    let (a, b) = (USERS[0], USERS[1]);
    let pay = deploy_pay(&mut c);
    c.ok(ISSUER, mint(a, frz(), 100_000));
    c.pass(GovernanceAction::SetTierLimits { tier: 1, asset: frz(), limits: limits(1_000, 1_500) });
    assert_eq!(permissions::tier_limits(&c.map, 1, &frz()).unwrap(), limits(1_000, 1_500));
    // Per transaction.
    assert_eq!(c.fails(a, transfer(b, frz(), 1_001)), "tx_limit_exceeded");
    c.ok(a, transfer(b, frz(), 1_000));
    // Daily: 1,000 spent; 600 more would pass 1,500.
    assert_eq!(c.fails(a, transfer(b, frz(), 600)), "daily_limit_exceeded");
    c.ok(a, transfer(b, frz(), 300));
    // Attached funds, burns and confidential deposits count too.
    assert_eq!(
        c.fails(a, call(pay, "noop", vec![], vec![coin(frz(), 150), coin(frz(), 100)])),
        "daily_limit_exceeded"
    );
    c.ok(a, call(pay, "noop", vec![], vec![coin(frz(), 100)]));
    assert_eq!(c.fails(a, Payload::Burn { coin: coin(frz(), 101) }), "daily_limit_exceeded");
    let reg = register_confidential(&mut c, a, frz());
    c.ok(a, reg);
    assert_eq!(c.fails(a, deposit(frz(), 101)), "daily_limit_exceeded");
    c.ok(a, deposit(frz(), 100));
    assert_eq!(permissions::daily_spent(&c.map, &addr(a), &frz(), c.time_ms).unwrap(), 1_500);
    assert_eq!(c.fails(a, transfer(b, frz(), 1)), "daily_limit_exceeded");
    // Other accounts, other assets and the contract's own transfers are not affected.
    c.ok(b, transfer(a, frz(), 1_000));
    c.ok(a, transfer(b, AssetId::native(), 5_000));
    c.ok(b, call(pay, "pay", pay_args(b, frz(), 50), vec![]));
    // Still the same UTC day, one second before midnight: refused; at midnight: a new day.
    let midnight = (c.time_ms / permissions::DAY_MS + 1) * permissions::DAY_MS;
    let t = c.tx(a, transfer(b, frz(), 1));
    assert_eq!(code(&c.block_at(midnight - 1, &[t])[0]), "daily_limit_exceeded");
    let t = c.tx(a, transfer(b, frz(), 1_000));
    assert_eq!(code(&c.block_at(midnight, &[t])[0]), "ok");
    assert_eq!(permissions::daily_spent(&c.map, &addr(a), &frz(), c.time_ms).unwrap(), 1_000);
    assert_eq!(c.fails(a, transfer(b, frz(), 501)), "daily_limit_exceeded");
    // A tier without limits (tier 2) is unlimited; removing the limits frees tier 1.
    c.ok(ONBOARDER, admin(AdminOp::SetTier { account: addr(a), tier: 2 }));
    c.ok(a, transfer(b, frz(), 5_000));
    c.ok(ONBOARDER, admin(AdminOp::SetTier { account: addr(a), tier: 1 }));
    assert_eq!(c.fails(a, transfer(b, frz(), 1_001)), "tx_limit_exceeded");
    c.pass(GovernanceAction::SetTierLimits { tier: 1, asset: frz(), limits: None });
    c.ok(a, transfer(b, frz(), 5_000));
}

#[test]
fn genesis_tier_limits_and_role_admins_apply_from_the_first_block() {
    let mut g = genesis();
    g.governance.tier_limits =
        vec![GenesisTierLimits { tier: 1, asset: AssetId::native(), limits: limits(10, 15).unwrap() }];
    g.governance.role_admins = vec![GenesisRoleAdmin { role: Role::Merchant, admin: addr(ADMIN) }];
    let mut c = Chain::new(g.clone());
    assert_eq!(c.fails(USERS[0], transfer(USERS[1], AssetId::native(), 11)), "tx_limit_exceeded");
    c.ok(USERS[0], transfer(USERS[1], AssetId::native(), 10));
    c.ok(ADMIN, admin(AdminOp::GrantRole { account: addr(USERS[0]), role: Role::Merchant }));
    assert!(c.has_role(Role::Merchant, &addr(USERS[0])));
    // Bad genesis documents are refused.
    let mut bad = g.clone();
    bad.governance.tier_limits[0].asset = AssetId([9; 32]);
    assert!(bad.build_state(&Map::new()).is_err());
    let mut bad = g.clone();
    bad.governance.role_admins[0].admin = addr(99);
    assert!(bad.build_state(&Map::new()).is_err());
    let mut bad = g;
    bad.governance.keys.push(key(99).public());
    assert!(bad.build_state(&Map::new()).is_err());
}

#[test]
fn genesis_json_governance_section_round_trips_and_defaults_when_absent() {
    let mut g = genesis();
    g.governance.allowed_code = vec![Hash::digest(Domain::CodeHash, b"loyalty")];
    g.governance.role_admins = vec![GenesisRoleAdmin { role: Role::Merchant, admin: addr(ADMIN) }];
    g.governance.tier_limits =
        vec![GenesisTierLimits { tier: 1, asset: frz(), limits: limits(100_000, 500_000).unwrap() }];
    let json = serde_json::to_value(&g).unwrap();
    assert_eq!(serde_json::from_value::<Genesis>(json.clone()).unwrap(), g);
    assert_eq!(json["governance"]["tier_limits"][0]["limits"]["daily"], "500000");
    // A genesis document from before governance: no keys, closed deployment, default period.
    let mut old = json;
    old.as_object_mut().unwrap().remove("governance");
    let parsed: Genesis = serde_json::from_value(old).unwrap();
    assert_eq!(parsed.governance, GovernanceGenesis::default());
    let c = Chain::new(parsed);
    assert!(governance::governance_config(&c.map).unwrap().is_none());
    assert!(!governance::deployment_open(&c.map).unwrap());
    assert_eq!(validator_set_at(&c.map, 0).unwrap(), Some(genesis().validator_set().unwrap()));
}

/// Answers whether the 32-byte address it is given holds the merchant role (tag 2); `bad_role` asks about a
/// role that does not exist.
const ROLE_PROBE: &str = r#"(module
  (import "purse" "input_read" (func $in (param i32)))
  (import "purse" "has_role" (func $has (param i32 i32) (result i32)))
  (import "purse" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1 1)
  (func (export "is_merchant")
    (call $in (i32.const 0))
    (i32.store8 (i32.const 64) (call $has (i32.const 0) (i32.const 2)))
    (call $ret (i32.const 64) (i32.const 1)))
  (func (export "bad_role")
    (call $in (i32.const 0))
    (drop (call $has (i32.const 0) (i32.const 99)))))"#;

#[test]
fn contracts_read_roles_from_chain_state_and_see_grants_and_revocations() {
    let mut c = Chain::standard();
    let code = wat::parse_str(ROLE_PROBE).unwrap();
    c.pass(GovernanceAction::AllowCode { code_hash: purse_vm::code_hash(&code), allowed: true });
    let nonce = c.account(&addr(MERCHANT)).unwrap().nonce;
    c.ok(MERCHANT, Payload::Deploy { code, init_args: vec![], admin: None, fuel_limit: 5_000_000 });
    let probe = Address::contract(&addr(MERCHANT), nonce);
    let ask = |c: &Chain, method: &str, who: &Address| {
        let ctx = BlockContext { chain_id: chain_id(), height: c.height + 1, time_ms: c.time_ms + 1_000 };
        runtime().query(c.map.clone(), &ctx, probe, method, who.0.to_vec(), 1_000_000).result
    };
    assert_eq!(ask(&c, "is_merchant", &addr(MERCHANT)).unwrap(), vec![1]);
    assert_eq!(ask(&c, "is_merchant", &addr(USERS[0])).unwrap(), vec![0]);
    // Roles change only through governance or the role's administrator; the contract sees each change.
    c.pass(GovernanceAction::GrantRole { account: addr(USERS[0]), role: Role::Merchant });
    assert_eq!(ask(&c, "is_merchant", &addr(USERS[0])).unwrap(), vec![1]);
    c.pass(GovernanceAction::RevokeRole { account: addr(MERCHANT), role: Role::Merchant });
    assert_eq!(ask(&c, "is_merchant", &addr(MERCHANT)).unwrap(), vec![0]);
    // An unknown role number is the contract's error, not a silent "no".
    let err = ask(&c, "bad_role", &addr(MERCHANT)).unwrap_err();
    assert!(err.to_string().contains("unknown role 99"), "{err}");
}
