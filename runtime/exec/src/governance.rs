//! Governance: proposals voted by the governance keys with a threshold and a voting period, the actions a
//! passed proposal applies (validator-set changes, chain parameters, code allow-list and open deployment, roles
//! and role administrators, tier limits, governance rotation), the validator-set schedule the engine reads, and
//! the read-only queries of the current rules (docs/governance.md, ADR 0013).

use crate::error::{ExecError, GovernanceError, RuntimeError, TxError};
use crate::executor::BlockContext;
use crate::native;
use crate::params::Params;
use crate::permissions::{self, Records};
use crate::schema::{
    self, DeploymentRecord, GovernanceConfig, OpenProposal, ProposalRecord, ProposalStatus, ValidatorSchedule,
};
use crate::state::{BlockState, StateRead};
use borsh::{BorshDeserialize, BorshSerialize};
use purse_types::{
    proposal_id, Address, Event, GovernanceAction, GovernanceOp, Hash, PublicKey, Role, SignedTransaction,
    ValidatorSet, ValidatorUpdate,
};

/// Most governance keys.
pub const MAX_GOVERNANCE_KEYS: usize = 32;
/// Most proposals open at once; a proposal leaves the list when it passes, is rejected or expires.
pub const MAX_OPEN_PROPOSALS: usize = 64;
/// Most validator updates one proposal may carry.
pub const MAX_VALIDATOR_UPDATES: usize = 64;
/// Longest voting period, in blocks.
pub const MAX_VOTING_PERIOD: u64 = 1_000_000;
/// Voting period a genesis gets when it names governance keys but no period, in blocks.
pub const DEFAULT_VOTING_PERIOD: u64 = 10_000;
/// A validator-set change that passes in the block at height `h` takes effect at height
/// `h + VALIDATOR_SET_CHANGE_DELAY`. Equal to the consensus core's `VALSET_CHANGE_DELAY` (docs/consensus.md).
pub const VALIDATOR_SET_CHANGE_DELAY: u64 = 2;
/// Most code hashes a genesis may allow-list.
pub const MAX_GENESIS_ALLOWED_CODES: usize = 1_024;
/// Roles whose holders may deploy allow-listed code when deployment is not open.
pub const DEPLOYER_ROLES: [Role; 4] =
    [Role::Merchant, Role::AssetIssuer, Role::TokenServiceProvider, Role::ExchangeOperator];

/// Topic of the event a new proposal emits (data: [`ProposedEvent`]).
pub const PROPOSED_TOPIC: &str = "governance.proposed";
/// Topic of the event a vote emits (data: [`VotedEvent`]).
pub const VOTED_TOPIC: &str = "governance.voted";
/// Topic of the event a passing proposal emits when its action is applied (data: [`PassedEvent`]).
pub const PASSED_TOPIC: &str = "governance.passed";
/// Topic of the event a proposal emits when enough keys voted against it (data: [`RejectedEvent`]).
pub const REJECTED_TOPIC: &str = "governance.rejected";
/// Topic of the event a passed validator-set change emits (data: [`ValidatorsScheduledEvent`]).
pub const VALIDATORS_SCHEDULED_TOPIC: &str = "validators.scheduled";

/// Data of a [`PROPOSED_TOPIC`] event.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProposedEvent {
    /// Proposal id.
    pub proposal: Hash,
    /// The proposing governance key's account.
    pub proposer: Address,
    /// The proposed action.
    pub action: GovernanceAction,
    /// First height at which votes fail.
    pub deadline_height: u64,
}

/// Data of a [`VOTED_TOPIC`] event.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct VotedEvent {
    /// Proposal id.
    pub proposal: Hash,
    /// The voting governance key's account.
    pub voter: Address,
    /// For or against.
    pub approve: bool,
}

/// Data of a [`PASSED_TOPIC`] event: the change and who approved it (the actor is governance).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PassedEvent {
    /// Proposal id.
    pub proposal: Hash,
    /// Accounts of the current governance keys that approved it.
    pub approvers: Vec<Address>,
    /// The applied action.
    pub action: GovernanceAction,
}

/// Data of a [`REJECTED_TOPIC`] event.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct RejectedEvent {
    /// Proposal id.
    pub proposal: Hash,
    /// Accounts of the current governance keys that voted against it.
    pub rejecters: Vec<Address>,
}

/// Data of a [`VALIDATORS_SCHEDULED_TOPIC`] event.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValidatorsScheduledEvent {
    /// The proposal that changed it.
    pub proposal: Hash,
    /// First height of the new set.
    pub effective_height: u64,
    /// Hash of the new set.
    pub set_hash: Hash,
}

/// Module address that emits governance events.
pub fn governance_address() -> Address {
    Address::system("governance")
}

fn emit<T: BorshSerialize>(events: &mut Vec<Event>, topic: &str, data: &T) {
    events.push(Event {
        emitter: governance_address(),
        topic: topic.into(),
        data: purse_types::encode(data),
    });
}

/// Checks a governance configuration's shape: 1..=[`MAX_GOVERNANCE_KEYS`] distinct keys, a threshold in
/// `1..=keys`, a voting period in `1..=`[`MAX_VOTING_PERIOD`].
pub fn validate_config(cfg: &GovernanceConfig) -> Result<(), String> {
    if cfg.keys.is_empty() || cfg.keys.len() > MAX_GOVERNANCE_KEYS {
        return Err(format!("governance needs 1..={MAX_GOVERNANCE_KEYS} keys"));
    }
    let mut sorted = cfg.keys.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != cfg.keys.len() {
        return Err("governance keys must be distinct".into());
    }
    if cfg.threshold == 0 || usize::from(cfg.threshold) > cfg.keys.len() {
        return Err(format!("threshold must be in 1..={}", cfg.keys.len()));
    }
    if cfg.voting_period == 0 || cfg.voting_period > MAX_VOTING_PERIOD {
        return Err(format!("voting period must be in 1..={MAX_VOTING_PERIOD} blocks"));
    }
    Ok(())
}

fn config_in<S: Records + ?Sized>(s: &S) -> Result<Option<GovernanceConfig>, RuntimeError> {
    s.record(&schema::governance_key())
}

fn open_list<S: Records + ?Sized>(s: &S) -> Result<Vec<OpenProposal>, RuntimeError> {
    Ok(s.record(&schema::open_proposals_key())?.unwrap_or_default())
}

fn deployment_in<S: Records + ?Sized>(s: &S) -> Result<DeploymentRecord, RuntimeError> {
    Ok(s.record(&schema::deployment_key())?.unwrap_or_default())
}

/// Applies `Payload::Governance(op)` of `tx` in the block `ctx` (`vm` runs system-contract upgrades).
pub fn apply<R: StateRead + Clone + Send + Sync + 'static>(
    vm: &purse_vm::Vm,
    st: &mut BlockState<'_, R>,
    ctx: &BlockContext,
    tx: &SignedTransaction,
    op: &GovernanceOp,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    let cfg = config_in(st)?.ok_or(TxError::NotEnabled("governance"))?;
    // The envelope already checked that `public_key` is the sender's registered key.
    let key = tx.public_key;
    if !cfg.keys.contains(&key) {
        return Err(GovernanceError::NotGovernor.into());
    }
    let mut open = open_list(st)?;
    open.retain(|p| p.deadline_height > ctx.height);
    let rec = match op {
        GovernanceOp::Propose { action } => {
            check_action(st, action)?;
            if open.len() >= MAX_OPEN_PROPOSALS {
                return Err(GovernanceError::TooManyProposals { max: MAX_OPEN_PROPOSALS }.into());
            }
            let id = proposal_id(&tx.id());
            let deadline_height = ctx.height.saturating_add(cfg.voting_period);
            emit(
                events,
                PROPOSED_TOPIC,
                &ProposedEvent {
                    proposal: id,
                    proposer: tx.tx.sender,
                    action: action.clone(),
                    deadline_height,
                },
            );
            open.push(OpenProposal { id, deadline_height });
            ProposalRecord {
                id,
                proposer: tx.tx.sender,
                action: action.clone(),
                created_height: ctx.height,
                deadline_height,
                approvals: vec![key],
                rejections: Vec::new(),
                status: ProposalStatus::Open,
            }
        }
        GovernanceOp::Vote { proposal, approve } => {
            let mut rec: ProposalRecord = st
                .get_record(&schema::proposal_key(proposal))?
                .ok_or_else(|| GovernanceError::UnknownProposal(proposal.to_hex()))?;
            if rec.status != ProposalStatus::Open {
                return Err(GovernanceError::ProposalClosed.into());
            }
            if ctx.height >= rec.deadline_height {
                return Err(GovernanceError::ProposalExpired {
                    deadline: rec.deadline_height,
                    height: ctx.height,
                }
                .into());
            }
            if rec.approvals.contains(&key) || rec.rejections.contains(&key) {
                return Err(GovernanceError::AlreadyVoted.into());
            }
            if *approve {
                rec.approvals.push(key);
            } else {
                rec.rejections.push(key);
            }
            emit(
                events,
                VOTED_TOPIC,
                &VotedEvent { proposal: *proposal, voter: tx.tx.sender, approve: *approve },
            );
            rec
        }
    };
    decide(vm, st, ctx, &cfg, rec, open, events)
}

/// Tallies `rec` under the current keys and threshold: applies it when approvals reach the threshold, closes
/// it when enough keys voted against that it never can, and stores it and the open list.
fn decide<R: StateRead + Clone + Send + Sync + 'static>(
    vm: &purse_vm::Vm,
    st: &mut BlockState<'_, R>,
    ctx: &BlockContext,
    cfg: &GovernanceConfig,
    mut rec: ProposalRecord,
    mut open: Vec<OpenProposal>,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    let current = |keys: &[PublicKey]| -> Vec<Address> {
        keys.iter().filter(|k| cfg.keys.contains(k)).map(|k| k.address()).collect()
    };
    let approvers = current(&rec.approvals);
    let rejecters = current(&rec.rejections);
    let threshold = usize::from(cfg.threshold);
    if approvers.len() >= threshold {
        apply_action(vm, st, ctx, rec.id, &rec.action, events)?;
        rec.status = ProposalStatus::Passed { height: ctx.height };
        emit(events, PASSED_TOPIC, &PassedEvent { proposal: rec.id, approvers, action: rec.action.clone() });
    } else if cfg.keys.len().saturating_sub(rejecters.len()) < threshold {
        rec.status = ProposalStatus::Rejected { height: ctx.height };
        emit(events, REJECTED_TOPIC, &RejectedEvent { proposal: rec.id, rejecters });
    }
    if rec.status != ProposalStatus::Open {
        open.retain(|p| p.id != rec.id);
    }
    st.put_record(schema::proposal_key(&rec.id), &rec);
    st.put_record(schema::open_proposals_key(), &open);
    Ok(())
}

fn invalid(msg: impl Into<String>) -> ExecError {
    TxError::Invalid(msg.into()).into()
}

/// Checks that `action` can be applied to the current state (run when it is proposed and again when it
/// passes; applying writes nothing unless this holds).
pub fn check_action<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    action: &GovernanceAction,
) -> Result<(), ExecError> {
    match action {
        GovernanceAction::ValidatorSetChange { updates } => {
            next_validator_set(st, updates)?;
        }
        GovernanceAction::SetParameter { name, value } => {
            Params::read(st)?.set(name, *value).map_err(invalid)?;
        }
        GovernanceAction::AllowCode { .. }
        | GovernanceAction::RevokeRole { .. }
        | GovernanceAction::SetOpenDeployment { .. } => {}
        GovernanceAction::GrantRole { account, .. } => {
            if !native::is_holder(st, account)? {
                return Err(invalid(format!("{account} is not a registered account or contract")));
            }
        }
        GovernanceAction::SetRoleAdmin { admin, .. } => {
            if let Some(a) = admin {
                if native::account(st, a)?.is_none() {
                    return Err(invalid(format!("role administrator {a} is not a registered account")));
                }
            }
        }
        GovernanceAction::SetTierLimits { asset, .. } => {
            native::asset(st, asset)?;
        }
        GovernanceAction::UpgradeContract { contract, code, fuel_limit, .. } => {
            let info: Option<purse_vm::ContractInfo> = st.get_record(&schema::contract_key(contract))?;
            let Some(info) = info else { return Err(invalid(format!("no contract at {contract}"))) };
            if info.admin != Some(governance_address()) {
                return Err(invalid(format!(
                    "{contract} is not a system contract: its administrator is not governance ({})",
                    governance_address()
                )));
            }
            if code.is_empty() {
                return Err(invalid("the new code is empty"));
            }
            let max = Params::read(st)?.max_tx_fuel;
            if *fuel_limit > max {
                return Err(invalid(format!("fuel limit {fuel_limit} is above max_tx_fuel {max}")));
            }
        }
        GovernanceAction::SetGovernance { keys, threshold, voting_period } => {
            let cfg =
                GovernanceConfig { keys: keys.clone(), threshold: *threshold, voting_period: *voting_period };
            validate_config(&cfg).map_err(invalid)?;
            for k in keys {
                match native::account(st, &k.address())? {
                    Some(a) if a.public_key == *k => {}
                    _ => {
                        return Err(invalid(format!("governance key {k} is not a registered account's key")))
                    }
                }
            }
        }
    }
    Ok(())
}

/// Applies a passed proposal's action (after [`check_action`]).
fn apply_action<R: StateRead + Clone + Send + Sync + 'static>(
    vm: &purse_vm::Vm,
    st: &mut BlockState<'_, R>,
    ctx: &BlockContext,
    proposal: Hash,
    action: &GovernanceAction,
    events: &mut Vec<Event>,
) -> Result<(), ExecError> {
    check_action(st, action)?;
    match action {
        GovernanceAction::ValidatorSetChange { updates } => {
            let (effective_height, set) = schedule_change(st, ctx.height, updates)?;
            emit(
                events,
                VALIDATORS_SCHEDULED_TOPIC,
                &ValidatorsScheduledEvent { proposal, effective_height, set_hash: set.hash() },
            );
        }
        GovernanceAction::SetParameter { name, value } => {
            // `check_action` accepted the name; parameters take effect from the next block.
            st.put_record(schema::param_key(name), value);
        }
        GovernanceAction::AllowCode { code_hash, allowed } => {
            let key = schema::allowed_code_key(code_hash);
            if *allowed {
                st.put_record(key, &());
            } else {
                st.delete(key);
            }
        }
        GovernanceAction::GrantRole { account, role } => {
            permissions::set_role(st, governance_address(), account, *role, true, events)?;
        }
        GovernanceAction::RevokeRole { account, role } => {
            permissions::set_role(st, governance_address(), account, *role, false, events)?;
        }
        GovernanceAction::SetRoleAdmin { role, admin } => match admin {
            Some(a) => st.put_record(schema::role_admin_key(*role), a),
            None => st.delete(schema::role_admin_key(*role)),
        },
        GovernanceAction::SetTierLimits { tier, asset, limits } => match limits {
            Some(l) => st.put_record(schema::tier_limits_key(*tier, asset), l),
            None => st.delete(schema::tier_limits_key(*tier, asset)),
        },
        GovernanceAction::SetOpenDeployment { open } => {
            st.put_record(schema::deployment_key(), &DeploymentRecord { open: *open });
        }
        GovernanceAction::SetGovernance { keys, threshold, voting_period } => {
            let cfg =
                GovernanceConfig { keys: keys.clone(), threshold: *threshold, voting_period: *voting_period };
            st.put_record(schema::governance_key(), &cfg);
        }
        GovernanceAction::UpgradeContract { contract, code, migrate_args, fuel_limit } => {
            // The VM checks that the sender is the contract's administrator: governance itself.
            let env = crate::contracts::env(ctx.height, ctx.time_ms, governance_address());
            let payload = crate::contracts::ContractPayload::Upgrade {
                contract: *contract,
                code,
                migrate_args,
                fuel_limit: *fuel_limit,
            };
            let run = crate::contracts::run_payload(vm, st, &env, payload)?;
            events.extend(run.result?);
        }
    }
    Ok(())
}

// ---- validator-set schedule ----

fn schedule_in<S: Records + ?Sized>(s: &S) -> Result<ValidatorSchedule, ExecError> {
    s.record(&schema::validator_schedule_key())?
        .ok_or_else(|| invalid("state has no validator schedule (genesis predates governance)"))
}

/// The set after the last scheduled change, with `updates` applied.
fn next_validator_set<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    updates: &[ValidatorUpdate],
) -> Result<ValidatorSet, ExecError> {
    if updates.is_empty() || updates.len() > MAX_VALIDATOR_UPDATES {
        return Err(invalid(format!("a validator-set change carries 1..={MAX_VALIDATOR_UPDATES} updates")));
    }
    let mut keys: Vec<PublicKey> = updates.iter().map(|u| u.public_key).collect();
    keys.sort();
    keys.dedup();
    if keys.len() != updates.len() {
        return Err(invalid("a validator-set change names a validator twice"));
    }
    let sched = schedule_in(st)?;
    let latest = sched.entries.last().ok_or_else(|| invalid("the validator schedule is empty"))?;
    latest.1.apply(updates).map_err(|e| invalid(format!("validator-set change: {e}")))
}

/// Records the set after `updates`, effective at `height + VALIDATOR_SET_CHANGE_DELAY`, and drops the entries
/// no height from `height` on can need. Returns the effective height and the new set.
fn schedule_change<R: StateRead + ?Sized>(
    st: &mut BlockState<'_, R>,
    height: u64,
    updates: &[ValidatorUpdate],
) -> Result<(u64, ValidatorSet), ExecError> {
    let next = next_validator_set(st, updates)?;
    let mut sched = schedule_in(st)?;
    let effective = height.saturating_add(VALIDATOR_SET_CHANGE_DELAY);
    // Keep the entry in force at `height` and every later one (at most VALIDATOR_SET_CHANGE_DELAY + 1 stay).
    if let Some(in_force) = sched.entries.iter().rposition(|(h, _)| *h <= height) {
        sched.entries.drain(..in_force);
    }
    match sched.entries.last_mut() {
        Some((h, set)) if *h == effective => *set = next.clone(),
        _ => sched.entries.push((effective, next.clone())),
    }
    st.put_record(schema::validator_schedule_key(), &sched);
    Ok((effective, next))
}

/// The validator set of the block at `height`, as recorded in `state`: the genesis set until the first
/// change's effective height, then each passed change's set from its effective height on. Answers for every
/// height from the set in force at the state's last block on; `None` for a height before the oldest retained
/// entry (older sets are pruned) or a state without a schedule.
pub fn validator_set_at<R: StateRead + ?Sized>(
    state: &R,
    height: u64,
) -> Result<Option<ValidatorSet>, RuntimeError> {
    let sched: Option<ValidatorSchedule> =
        BlockState::new(state).get_record(&schema::validator_schedule_key())?;
    Ok(sched.and_then(|s| s.entries.iter().rev().find(|(h, _)| *h <= height).map(|(_, set)| set.clone())))
}

/// The whole validator schedule (the set in force and the scheduled changes).
pub fn validator_schedule<R: StateRead + ?Sized>(
    state: &R,
) -> Result<Option<ValidatorSchedule>, RuntimeError> {
    BlockState::new(state).get_record(&schema::validator_schedule_key())
}

// ---- contract deployment policy ----

/// Whether `sender` may deploy (or upgrade a contract to) the code `code_hash`: always under open deployment;
/// otherwise the code must be allow-listed and `sender` must hold one of [`DEPLOYER_ROLES`].
pub fn check_deploy<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    sender: &Address,
    code_hash: &Hash,
) -> Result<(), ExecError> {
    if deployment_in(st)?.open {
        return Ok(());
    }
    if st.get(&schema::allowed_code_key(code_hash))?.is_none() {
        return Err(TxError::CodeNotAllowed(code_hash.to_hex()).into());
    }
    for role in DEPLOYER_ROLES {
        if native::has_role(st, role, sender)? {
            return Ok(());
        }
    }
    Err(TxError::Unauthorized("deploying needs a merchant, issuer, token-service or exchange role".into())
        .into())
}

// ---- read-only queries (for the RPC) ----

/// The governance keys, threshold and voting period (`None`: the chain has no governance).
pub fn governance_config<R: StateRead + ?Sized>(state: &R) -> Result<Option<GovernanceConfig>, RuntimeError> {
    config_in(&BlockState::new(state))
}

/// A proposal by id.
pub fn proposal<R: StateRead + ?Sized>(state: &R, id: &Hash) -> Result<Option<ProposalRecord>, RuntimeError> {
    BlockState::new(state).get_record(&schema::proposal_key(id))
}

/// The proposals that still accept votes in a block at `height`, oldest first.
pub fn open_proposals<R: StateRead + ?Sized>(
    state: &R,
    height: u64,
) -> Result<Vec<ProposalRecord>, RuntimeError> {
    let st = BlockState::new(state);
    let mut out = Vec::new();
    for p in open_list(&st)? {
        if p.deadline_height > height {
            if let Some(rec) = st.get_record::<ProposalRecord>(&schema::proposal_key(&p.id))? {
                out.push(rec);
            }
        }
    }
    Ok(out)
}

/// Whether `rec` is open but past its voting period at `height` (it can never pass).
pub fn is_expired(rec: &ProposalRecord, height: u64) -> bool {
    rec.status == ProposalStatus::Open && height >= rec.deadline_height
}

/// Whether deployment is open.
pub fn deployment_open<R: StateRead + ?Sized>(state: &R) -> Result<bool, RuntimeError> {
    Ok(deployment_in(&BlockState::new(state))?.open)
}

/// Whether `code_hash` is on the deployment allow-list.
pub fn code_allowed<R: StateRead + ?Sized>(state: &R, code_hash: &Hash) -> Result<bool, RuntimeError> {
    Ok(BlockState::new(state).get(&schema::allowed_code_key(code_hash))?.is_some())
}
