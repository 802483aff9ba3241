//! Governance in the state-transition function (issue 7): thresholds, voting periods, double votes, each
//! action (validator-set schedule, parameters, code allow-list and open deployment, roles and role
//! administrators, rotation), the read-only queries, and a property test of the role table against a model.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use proptest::prelude::*;
use purse_runtime::governance::{self, PassedEvent, VALIDATOR_SET_CHANGE_DELAY};
use purse_runtime::permissions::{self, AdminEvent};
use purse_runtime::schema::ProposalStatus;
use purse_runtime::*;
use purse_types::*;
use std::collections::{BTreeMap, BTreeSet};

fn fee_base(v: u128) -> GovernanceAction {
    GovernanceAction::SetParameter { name: "fee_base".into(), value: v }
}

#[test]
fn a_proposal_below_threshold_does_nothing_and_passing_applies_it_once() {
    let mut c = Chain::standard();
    let before = c.params().fee_base;
    let (r, id) = c.propose(GOV[0], fee_base(2_000));
    assert_eq!(code(&r), "ok");
    assert_eq!(r.events[0].topic, governance::PROPOSED_TOPIC);
    // One approval of two: nothing changed.
    assert_eq!(c.params().fee_base, before);
    let p = governance::proposal(&c.map, &id).unwrap().unwrap();
    assert_eq!((p.status, p.approvals.len(), p.proposer), (ProposalStatus::Open, 1, addr(GOV[0])));
    assert_eq!(governance::open_proposals(&c.map, c.height).unwrap().len(), 1);
    // The proposer cannot approve twice.
    assert_eq!(code(&c.vote(GOV[0], id, true)), "already_voted");
    // Not a governance key: refused.
    assert_eq!(code(&c.vote(USERS[0], id, true)), "not_governor");
    assert_eq!(code(&c.propose(USERS[0], fee_base(1)).0), "not_governor");
    // The second approval passes it, in that transaction; the event names the approvers.
    let r = c.vote(GOV[1], id, true);
    assert_eq!(code(&r), "ok");
    let passed = r.events.iter().find(|e| e.topic == governance::PASSED_TOPIC).unwrap();
    let data: PassedEvent = decode(&passed.data).unwrap();
    assert_eq!(data.approvers, vec![addr(GOV[0]), addr(GOV[1])]);
    assert_eq!(data.action, fee_base(2_000));
    assert_eq!(c.params().fee_base, 2_000);
    let p = governance::proposal(&c.map, &id).unwrap().unwrap();
    assert_eq!(p.status, ProposalStatus::Passed { height: c.height });
    assert!(governance::open_proposals(&c.map, c.height).unwrap().is_empty());
    // Further votes do nothing: the proposal is closed.
    c.pass(fee_base(3_000));
    assert_eq!(code(&c.vote(GOV[2], id, true)), "proposal_closed");
    assert_eq!(c.params().fee_base, 3_000, "the old proposal was not applied again");
    // Unknown proposal.
    assert_eq!(code(&c.vote(GOV[2], Hash::digest(Domain::Proposal, b"x"), true)), "unknown_proposal");
}

#[test]
fn a_vote_after_the_voting_period_fails_and_changes_nothing() {
    let mut c = Chain::standard();
    let (_, id) = c.propose(GOV[0], fee_base(5_000));
    let created = c.height;
    // The last block of the period still counts…
    c.advance_to(created + PERIOD - 2);
    let t = c.tx(GOV[2], Payload::Governance(GovernanceOp::Vote { proposal: id, approve: false }));
    assert_eq!(code(&c.block(&[t])[0]), "ok");
    assert_eq!(c.height, created + PERIOD - 1);
    // …the next does not.
    let snapshot = governance::proposal(&c.map, &id).unwrap().unwrap();
    let r = c.vote(GOV[1], id, true);
    assert_eq!(c.height, created + PERIOD);
    assert_eq!(code(&r), "proposal_expired");
    assert!(r.events.is_empty());
    assert_eq!(c.params().fee_base, Params::default().fee_base);
    let p = governance::proposal(&c.map, &id).unwrap().unwrap();
    assert_eq!(p, snapshot, "the failed vote left no trace");
    assert!(governance::is_expired(&p, c.height));
    assert!(governance::open_proposals(&c.map, c.height).unwrap().is_empty());
}

#[test]
fn enough_votes_against_reject_a_proposal() {
    let mut c = Chain::standard();
    let (_, id) = c.propose(GOV[0], fee_base(7));
    assert_eq!(code(&c.vote(GOV[1], id, false)), "ok");
    let r = c.vote(GOV[2], id, false);
    assert!(r.events.iter().any(|e| e.topic == governance::REJECTED_TOPIC));
    let p = governance::proposal(&c.map, &id).unwrap().unwrap();
    assert_eq!(p.status, ProposalStatus::Rejected { height: c.height });
    assert_eq!(c.params().fee_base, Params::default().fee_base);
}

#[test]
fn a_passed_validator_set_change_is_recorded_with_its_effective_height() {
    let mut c = Chain::standard();
    let genesis_set = genesis().validator_set().unwrap();
    assert_eq!(validator_set_at(&c.map, 0).unwrap(), Some(genesis_set.clone()));
    let newcomer = key(201).public();
    let updates = vec![ValidatorUpdate { public_key: newcomer, power: 5 }];
    // Invalid changes are refused when proposed: removing the only validator, empty, duplicated.
    let remove_all = vec![ValidatorUpdate { public_key: key(200).public(), power: 0 }];
    assert_eq!(
        code(&c.propose(GOV[0], GovernanceAction::ValidatorSetChange { updates: remove_all }).0),
        "invalid"
    );
    assert_eq!(
        code(&c.propose(GOV[0], GovernanceAction::ValidatorSetChange { updates: vec![] }).0),
        "invalid"
    );
    let dup = vec![updates[0], updates[0]];
    assert_eq!(code(&c.propose(GOV[0], GovernanceAction::ValidatorSetChange { updates: dup }).0), "invalid");

    let (_, id) = c.propose(GOV[0], GovernanceAction::ValidatorSetChange { updates: updates.clone() });
    // Below threshold: nothing scheduled.
    assert_eq!(validator_set_at(&c.map, c.height + 100).unwrap(), Some(genesis_set.clone()));
    let r = c.vote(GOV[1], id, true);
    let passed_at = c.height;
    let effective = passed_at + VALIDATOR_SET_CHANGE_DELAY;
    let ev = r.events.iter().find(|e| e.topic == governance::VALIDATORS_SCHEDULED_TOPIC).unwrap();
    let ev: governance::ValidatorsScheduledEvent = decode(&ev.data).unwrap();
    let new_set = genesis_set.apply(&updates).unwrap();
    assert_eq!((ev.proposal, ev.effective_height, ev.set_hash), (id, effective, new_set.hash()));
    for h in passed_at..effective {
        assert_eq!(validator_set_at(&c.map, h).unwrap(), Some(genesis_set.clone()), "height {h}");
    }
    assert_eq!(validator_set_at(&c.map, effective).unwrap(), Some(new_set.clone()));
    assert_eq!(validator_set_at(&c.map, effective + 1_000).unwrap(), Some(new_set.clone()));
    // The consensus core applies a change decided at h from h + VALSET_CHANGE_DELAY = 2 (docs/consensus.md).
    assert_eq!(VALIDATOR_SET_CHANGE_DELAY, 2);
    // A second change builds on the first; old entries are pruned once no later height needs them.
    c.advance_to(effective + 5);
    let more = vec![ValidatorUpdate { public_key: key(200).public(), power: 0 }];
    c.pass(GovernanceAction::ValidatorSetChange { updates: more.clone() });
    let second = c.height + VALIDATOR_SET_CHANGE_DELAY;
    let final_set = new_set.apply(&more).unwrap();
    assert_eq!(final_set.len(), 1);
    assert_eq!(validator_set_at(&c.map, second).unwrap(), Some(final_set));
    assert_eq!(validator_set_at(&c.map, c.height).unwrap(), Some(new_set));
    let sched = governance::validator_schedule(&c.map).unwrap().unwrap();
    assert_eq!(sched.entries.iter().map(|(h, _)| *h).collect::<Vec<_>>(), vec![effective, second]);
    assert_eq!(validator_set_at(&c.map, 0).unwrap(), None, "pruned: no longer answerable from this state");
}

#[test]
fn code_allow_list_and_open_deployment() {
    let mut c = Chain::standard();
    let pay = pay_contract();
    let hash = purse_vm::code_hash(&pay);
    let deploy = |code: Vec<u8>| Payload::Deploy {
        code,
        init_args: vec![],
        admin: Some(addr(MERCHANT)),
        fuel_limit: 5_000_000,
    };
    assert!(!governance::deployment_open(&c.map).unwrap());
    assert_eq!(c.fails(MERCHANT, deploy(pay.clone())), "code_not_allowed");
    c.pass(GovernanceAction::AllowCode { code_hash: hash, allowed: true });
    assert!(governance::code_allowed(&c.map, &hash).unwrap());
    let nonce = c.account(&addr(MERCHANT)).unwrap().nonce;
    c.ok(MERCHANT, deploy(pay.clone()));
    let contract = Address::contract(&addr(MERCHANT), nonce);
    assert_eq!(c.fails(USERS[0], deploy(pay.clone())), "unauthorized", "needs a deploying role");
    // Other code is still refused; so is upgrading a contract to it.
    let other =
        wat::parse_str(r#"(module (memory (export "memory") 1 1) (func (export "migrate")))"#).unwrap();
    assert_eq!(c.fails(MERCHANT, deploy(other.clone())), "code_not_allowed");
    let upgrade =
        Payload::Upgrade { contract, code: other.clone(), migrate_args: vec![], fuel_limit: 5_000_000 };
    assert_eq!(c.fails(MERCHANT, upgrade.clone()), "code_not_allowed");
    // Open deployment: anyone registered deploys anything, and upgrades go through.
    c.pass(GovernanceAction::SetOpenDeployment { open: true });
    assert!(governance::deployment_open(&c.map).unwrap());
    c.ok(USERS[0], deploy(other.clone()));
    c.ok(MERCHANT, upgrade);
    // Closed again and the hash withdrawn: refused again.
    c.pass(GovernanceAction::SetOpenDeployment { open: false });
    c.pass(GovernanceAction::AllowCode { code_hash: hash, allowed: false });
    assert_eq!(c.fails(MERCHANT, deploy(pay)), "code_not_allowed");
}

#[test]
fn role_administrators_grant_and_revoke_and_governance_sets_them() {
    let mut c = Chain::standard();
    let target = addr(USERS[0]);
    let grant = admin(AdminOp::GrantRole { account: target, role: Role::Merchant });
    let revoke = admin(AdminOp::RevokeRole { account: target, role: Role::Merchant });
    assert_eq!(c.fails(ADMIN, grant.clone()), "unauthorized");
    c.pass(GovernanceAction::SetRoleAdmin { role: Role::Merchant, admin: Some(addr(ADMIN)) });
    assert_eq!(permissions::role_admin(&c.map, Role::Merchant).unwrap(), Some(addr(ADMIN)));
    let r = c.ok(ADMIN, grant.clone());
    let ev: AdminEvent = decode(&r.events[0].data).unwrap();
    assert_eq!((r.events[0].topic.as_str(), ev.actor), (permissions::ROLE_GRANTED_TOPIC, addr(ADMIN)));
    assert_eq!(permissions::roles_of(&c.map, &target).unwrap(), vec![Role::Merchant]);
    // The admin of one role cannot grant another.
    assert_eq!(
        c.fails(ADMIN, admin(AdminOp::GrantRole { account: target, role: Role::Auditor })),
        "unauthorized"
    );
    // Nor grant to an address that is not an account.
    assert_eq!(
        c.fails(ADMIN, admin(AdminOp::GrantRole { account: addr(99), role: Role::Merchant })),
        "invalid"
    );
    c.ok(ADMIN, revoke.clone());
    assert!(permissions::roles_of(&c.map, &target).unwrap().is_empty());
    // Governance grants directly; the event's actor is governance.
    let (_, id) = c.propose(GOV[0], GovernanceAction::GrantRole { account: target, role: Role::Auditor });
    let r = c.vote(GOV[2], id, true);
    let ev = r.events.iter().find(|e| e.topic == permissions::ROLE_GRANTED_TOPIC).unwrap();
    assert_eq!(decode::<AdminEvent>(&ev.data).unwrap().actor, governance::governance_address());
    assert!(c.has_role(Role::Auditor, &target));
    // Governance removes the administrator: it can no longer grant.
    c.pass(GovernanceAction::SetRoleAdmin { role: Role::Merchant, admin: None });
    assert_eq!(c.fails(ADMIN, grant), "unauthorized");
}

#[test]
fn governance_rotation_replaces_keys_threshold_and_period() {
    let mut c = Chain::standard();
    let (_, stale) = c.propose(GOV[2], fee_base(9));
    let new_keys = vec![key(ADMIN).public(), key(USERS[0]).public()];
    // Keys of accounts that do not exist, or a bad threshold, are refused.
    let bad =
        GovernanceAction::SetGovernance { keys: vec![key(99).public()], threshold: 1, voting_period: 5 };
    assert_eq!(code(&c.propose(GOV[0], bad).0), "invalid");
    let bad = GovernanceAction::SetGovernance { keys: new_keys.clone(), threshold: 3, voting_period: 5 };
    assert_eq!(code(&c.propose(GOV[0], bad).0), "invalid");
    c.pass(GovernanceAction::SetGovernance { keys: new_keys.clone(), threshold: 1, voting_period: 5 });
    let cfg = governance::governance_config(&c.map).unwrap().unwrap();
    assert_eq!((cfg.keys, cfg.threshold, cfg.voting_period), (new_keys, 1, 5));
    // Old keys are out; an old key's approval no longer counts.
    assert_eq!(code(&c.propose(GOV[0], fee_base(8)).0), "not_governor");
    assert_eq!(code(&c.vote(GOV[1], stale, true)), "not_governor");
    // A new key passes a proposal alone (threshold 1), in the proposing transaction.
    let (r, _) = c.propose(ADMIN, fee_base(4_242));
    assert!(r.events.iter().any(|e| e.topic == governance::PASSED_TOPIC));
    assert_eq!(c.params().fee_base, 4_242);
}

#[test]
fn chain_without_governance_and_bounds() {
    let mut g = genesis();
    g.governance.keys.clear();
    let mut c = Chain::new(g);
    assert_eq!(code(&c.propose(GOV[0], fee_base(1)).0), "not_enabled");
    assert!(governance::governance_config(&c.map).unwrap().is_none());
    // Unknown or invalid parameters are refused at proposal time.
    let mut c = Chain::standard();
    let bad = GovernanceAction::SetParameter { name: "nope".into(), value: 1 };
    assert_eq!(code(&c.propose(GOV[0], bad).0), "invalid");
    let bad = GovernanceAction::SetParameter { name: "max_block_txs".into(), value: 0 };
    assert_eq!(code(&c.propose(GOV[0], bad).0), "invalid");
    // The open-proposal list is bounded; expired proposals leave it.
    let txs: Vec<SignedTransaction> = (0..governance::MAX_OPEN_PROPOSALS as u128)
        .map(|i| c.tx(GOV[0], Payload::Governance(GovernanceOp::Propose { action: fee_base(i + 10) })))
        .collect();
    assert!(c.block(&txs).iter().all(|r| code(r) == "ok"));
    assert_eq!(code(&c.propose(GOV[1], fee_base(1)).0), "too_many_proposals");
    c.advance_to(c.height + PERIOD);
    assert_eq!(code(&c.propose(GOV[1], fee_base(1)).0), "ok");
}

#[test]
fn new_error_codes_are_stable() {
    let cases: Vec<(TxError, &str)> = vec![
        (TxError::AccountExists(String::new()), "account_exists"),
        (TxError::Frozen(String::new()), "frozen"),
        (TxError::HolderNotAuthorized(String::new()), "holder_not_authorized"),
        (TxError::TxLimitExceeded { limit: 1, amount: 2 }, "tx_limit_exceeded"),
        (TxError::DailyLimitExceeded { limit: 1, spent: 1, amount: 1 }, "daily_limit_exceeded"),
        (TxError::CodeNotAllowed(String::new()), "code_not_allowed"),
        (TxError::Governance(GovernanceError::NotGovernor), "not_governor"),
        (TxError::Governance(GovernanceError::UnknownProposal(String::new())), "unknown_proposal"),
        (TxError::Governance(GovernanceError::ProposalClosed), "proposal_closed"),
        (
            TxError::Governance(GovernanceError::ProposalExpired { deadline: 1, height: 1 }),
            "proposal_expired",
        ),
        (TxError::Governance(GovernanceError::AlreadyVoted), "already_voted"),
        (TxError::Governance(GovernanceError::TooManyProposals { max: 1 }), "too_many_proposals"),
    ];
    for (e, c) in cases {
        assert_eq!(e.code(), c);
    }
}

// ---- property test: the role table against a model ----

/// Roles the model exercises: Merchant and RateFeed have an administrator ([`ADMIN`]), Auditor has none.
const ROLES: [Role; 3] = [Role::Merchant, Role::RateFeed, Role::Auditor];
const PROP_PERIOD: u64 = 4;

#[derive(Clone, Debug)]
enum Op {
    /// `signer` (ADMIN or a user) grants or revokes `ROLES[role]` of `USERS[target]` directly.
    Admin { signer_is_admin: bool, grant: bool, role: usize, target: usize },
    /// A governance key (or, if `gov` is 3, a user) proposes a grant or revoke.
    Propose { gov: usize, grant: bool, role: usize, target: usize },
    /// A governance key votes on the `which`-th proposal made so far (modulo; unknown if none).
    Vote { gov: usize, which: usize, approve: bool },
    /// Empty blocks.
    Wait { blocks: u64 },
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<bool>(), any::<bool>(), 0..3usize, 0..4usize).prop_map(
            |(signer_is_admin, grant, role, target)| Op::Admin { signer_is_admin, grant, role, target }
        ),
        (0..4usize, any::<bool>(), 0..3usize, 0..4usize).prop_map(|(gov, grant, role, target)| Op::Propose {
            gov,
            grant,
            role,
            target
        }),
        (0..3usize, any::<usize>(), any::<bool>()).prop_map(|(gov, which, approve)| Op::Vote {
            gov,
            which,
            approve
        }),
        (1..4u64).prop_map(|blocks| Op::Wait { blocks }),
    ]
}

struct ModelProposal {
    id: Hash,
    action: (bool, Role, Address),
    deadline: u64,
    approvals: BTreeSet<u8>,
    rejections: BTreeSet<u8>,
    open: bool,
}

fn role_genesis() -> Genesis {
    let mut g = genesis();
    g.governance.voting_period = PROP_PERIOD;
    g.governance.role_admins = vec![
        GenesisRoleAdmin { role: Role::Merchant, admin: addr(ADMIN) },
        GenesisRoleAdmin { role: Role::RateFeed, admin: addr(ADMIN) },
    ];
    g
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any sequence of direct grants/revokes, proposals, votes and waiting leaves the role table equal to the
    /// model's, and every transaction succeeds or fails exactly as the model predicts.
    #[test]
    fn role_table_matches_a_model(ops in proptest::collection::vec(arb_op(), 1..40)) {
        let mut c = Chain::new(role_genesis());
        let mut table: BTreeSet<(Role, Address)> = c.role_table();
        let mut proposals: Vec<ModelProposal> = Vec::new();
        let admins: BTreeMap<Role, u8> = [(Role::Merchant, ADMIN), (Role::RateFeed, ADMIN)].into_iter().collect();
        for op in ops {
            let height = c.height + 1;
            let expected: String = match op {
                Op::Admin { signer_is_admin, grant, role, target } => {
                    let (role, target) = (ROLES[role], addr(USERS[target]));
                    let signer = if signer_is_admin { ADMIN } else { USERS[0] };
                    let payload = if grant {
                        AdminOp::GrantRole { account: target, role }
                    } else {
                        AdminOp::RevokeRole { account: target, role }
                    };
                    let r = c.run(signer, admin(payload));
                    let expected = if admins.get(&role) == Some(&signer) {
                        if grant { table.insert((role, target)); } else { table.remove(&(role, target)); }
                        "ok"
                    } else {
                        "unauthorized"
                    };
                    prop_assert_eq!(code(&r), expected);
                    expected.to_string()
                }
                Op::Propose { gov, grant, role, target } => {
                    let (role, target) = (ROLES[role], addr(USERS[target]));
                    let signer = if gov < 3 { GOV[gov] } else { USERS[1] };
                    let action = if grant {
                        GovernanceAction::GrantRole { account: target, role }
                    } else {
                        GovernanceAction::RevokeRole { account: target, role }
                    };
                    let (r, id) = c.propose(signer, action);
                    let expected = if gov < 3 {
                        proposals.push(ModelProposal {
                            id,
                            action: (grant, role, target),
                            deadline: height + PROP_PERIOD,
                            approvals: [signer].into_iter().collect(),
                            rejections: BTreeSet::new(),
                            open: true,
                        });
                        "ok"
                    } else {
                        "not_governor"
                    };
                    prop_assert_eq!(code(&r), expected);
                    expected.to_string()
                }
                Op::Vote { gov, which, approve } => {
                    let signer = GOV[gov];
                    let (id, expected) = if proposals.is_empty() {
                        (Hash::digest(Domain::Proposal, b"none"), "unknown_proposal")
                    } else {
                        let n = proposals.len();
                        let p = &mut proposals[which % n];
                        let expected = if !p.open {
                            "proposal_closed"
                        } else if height >= p.deadline {
                            "proposal_expired"
                        } else if p.approvals.contains(&signer) || p.rejections.contains(&signer) {
                            "already_voted"
                        } else {
                            if approve { p.approvals.insert(signer); } else { p.rejections.insert(signer); }
                            if p.approvals.len() >= usize::from(THRESHOLD) {
                                p.open = false;
                                let (grant, role, target) = p.action;
                                if grant { table.insert((role, target)); } else { table.remove(&(role, target)); }
                            } else if GOV.len() - p.rejections.len() < usize::from(THRESHOLD) {
                                p.open = false;
                            }
                            "ok"
                        };
                        (p.id, expected)
                    };
                    let r = c.vote(signer, id, approve);
                    prop_assert_eq!(code(&r), expected);
                    expected.to_string()
                }
                Op::Wait { blocks } => {
                    c.advance_to(c.height + blocks);
                    "ok".to_string()
                }
            };
            let _ = expected;
            prop_assert_eq!(&c.role_table(), &table);
        }
        // Every role in the table is also what the per-account query reports.
        for u in USERS {
            let roles: Vec<Role> = Role::ALL.iter().copied().filter(|r| table.contains(&(*r, addr(u)))).collect();
            prop_assert_eq!(permissions::roles_of(&c.map, &addr(u)).unwrap(), roles);
        }
    }
}

/// A system contract whose `get` returns `version`, exporting `migrate` (needed to upgrade to it) if asked.
fn system_contract(version: u8, with_migrate: bool) -> Vec<u8> {
    let migrate = if with_migrate { r#"(func (export "migrate"))"# } else { "" };
    wat::parse_str(format!(
        r#"(module
  (import "purse" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1 1)
  (data (i32.const 0) "\{version:02x}")
  (func (export "init"))
  {migrate}
  (func (export "get") (call $ret (i32.const 0) (i32.const 1))))"#
    ))
    .unwrap()
}

#[test]
fn governance_upgrades_system_contracts_and_only_those() {
    let mut g = genesis();
    let genesis_contract = |admin: Option<Address>| GenesisContract {
        code: system_contract(1, false),
        init_args: vec![],
        admin,
        deployer: addr(ADMIN),
        fuel_limit: DEFAULT_GENESIS_CONTRACT_FUEL,
    };
    g.contracts =
        vec![genesis_contract(Some(governance::governance_address())), genesis_contract(Some(addr(ADMIN)))];
    let [system, owned] = g.contract_addresses()[..] else { panic!("two contracts") };
    let mut c = Chain::new(g);
    let get = |c: &Chain, contract: Address| {
        let ctx = BlockContext { chain_id: chain_id(), height: c.height + 1, time_ms: c.time_ms + 1_000 };
        runtime().query(c.map.clone(), &ctx, contract, "get", vec![], 1_000_000).result.unwrap()
    };
    assert_eq!(get(&c, system), vec![1]);
    let upgrade = |contract: Address, code: Vec<u8>| GovernanceAction::UpgradeContract {
        contract,
        code,
        migrate_args: vec![],
        fuel_limit: 1_000_000,
    };

    // A contract whose administrator is not governance is not governance's to upgrade.
    let (r, _) = c.propose(GOV[0], upgrade(owned, system_contract(2, true)));
    assert_eq!(code(&r), "invalid");
    // Nor is an address without a contract.
    let (r, _) = c.propose(GOV[0], upgrade(addr(USERS[0]), system_contract(2, true)));
    assert_eq!(code(&r), "invalid");

    // New code without `migrate` cannot be switched to: the passing vote fails, nothing changes, and the
    // proposal stays open.
    let (r, id) = c.propose(GOV[0], upgrade(system, system_contract(2, false)));
    assert_eq!(code(&r), "ok");
    let r = c.vote(GOV[1], id, true);
    assert_ne!(code(&r), "ok");
    assert_eq!(get(&c, system), vec![1]);
    assert_eq!(governance::proposal(&c.map, &id).unwrap().unwrap().status, ProposalStatus::Open);

    // A passed upgrade switches the system contract to the new code at once.
    c.pass(upgrade(system, system_contract(2, true)));
    assert_eq!(get(&c, system), vec![2]);
    assert_eq!(get(&c, owned), vec![1]);
}
