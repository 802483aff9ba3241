//! The permissioned validator set: voting power, quorum thresholds, weighted round-robin proposer selection, and
//! validator-set changes that take effect a fixed number of heights after they are decided.

use std::collections::{BTreeMap, BTreeSet};

use crate::context::{Context, Height, Round, VotingPower};
use crate::error::ValidatorSetError;
use crate::{MAX_TOTAL_VOTING_POWER, MAX_VALIDATORS, VALSET_CHANGE_DELAY};

/// One validator: an address and its voting power (fixed at genesis or by an authorised change).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator<C: Context> {
    /// The validator's address.
    pub address: C::Address,
    /// Its voting power (strictly positive).
    pub voting_power: VotingPower,
}

impl<C: Context> Validator<C> {
    /// A validator with the given address and power.
    pub fn new(address: C::Address, voting_power: VotingPower) -> Self {
        Self { address, voting_power }
    }
}

/// A validator set for one height, with the proposer priorities at the start of that height.
///
/// Validators are kept sorted by address. Proposer selection is CometBFT's weighted round-robin: at each step
/// every priority grows by its power, the highest priority proposes (ties go to the lowest address) and pays the
/// total power back; priorities are re-centred around zero and their spread is kept below `2 × total power`.
/// Round `r` of a height is proposed by the winner of the `(r + 1)`-th step from the height's starting priorities;
/// [`ValidatorSet::advanced`] moves the set to the next height with one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet<C: Context> {
    validators: Vec<Validator<C>>,
    priorities: Vec<i64>,
    total_power: VotingPower,
}

impl<C: Context> ValidatorSet<C> {
    /// A genesis validator set (all priorities zero).
    pub fn new(validators: Vec<Validator<C>>) -> Result<Self, ValidatorSetError> {
        let validators = Self::checked(validators)?;
        let total_power = validators.iter().map(|v| v.voting_power).sum();
        let priorities = vec![0; validators.len()];
        Ok(Self { validators, priorities, total_power })
    }

    fn checked(mut validators: Vec<Validator<C>>) -> Result<Vec<Validator<C>>, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        if validators.len() > MAX_VALIDATORS {
            return Err(ValidatorSetError::TooManyValidators {
                count: validators.len(),
                max: MAX_VALIDATORS,
            });
        }
        validators.sort_by(|a, b| a.address.cmp(&b.address));
        let mut total: VotingPower = 0;
        for (i, v) in validators.iter().enumerate() {
            if v.voting_power == 0 {
                return Err(ValidatorSetError::ZeroPower);
            }
            if i > 0 && validators[i - 1].address == v.address {
                return Err(ValidatorSetError::DuplicateValidator);
            }
            total = total.saturating_add(v.voting_power);
        }
        if total > MAX_TOTAL_VOTING_POWER {
            return Err(ValidatorSetError::TotalPowerTooLarge);
        }
        Ok(validators)
    }

    /// The validators, sorted by address.
    pub fn validators(&self) -> &[Validator<C>] {
        &self.validators
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Whether the set is empty (never true for a constructed set).
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Sum of all voting power.
    pub fn total_power(&self) -> VotingPower {
        self.total_power
    }

    /// The validator with this address, if it is a member.
    pub fn get(&self, address: &C::Address) -> Option<&Validator<C>> {
        self.index_of(address).map(|i| &self.validators[i])
    }

    /// Voting power of `address` (0 if not a member).
    pub fn power_of(&self, address: &C::Address) -> VotingPower {
        self.get(address).map_or(0, |v| v.voting_power)
    }

    fn index_of(&self, address: &C::Address) -> Option<usize> {
        self.validators.binary_search_by(|v| v.address.cmp(address)).ok()
    }

    /// `power > 2/3 × total` — a quorum (`2f + 1` in the paper).
    pub fn is_quorum(&self, power: VotingPower) -> bool {
        u128::from(power) * 3 > u128::from(self.total_power) * 2
    }

    /// `power > 1/3 × total` — at least one honest validator (`f + 1` in the paper).
    pub fn is_one_third_plus(&self, power: VotingPower) -> bool {
        u128::from(power) * 3 > u128::from(self.total_power)
    }

    /// Proposer priorities at the start of the height, in address order.
    pub fn priorities(&self) -> &[i64] {
        &self.priorities
    }

    /// The proposer of round `round` (walks `round + 1` priority steps; the consensus core caches this).
    pub fn proposer(&self, round: Round) -> &C::Address {
        let mut prio = self.priorities.clone();
        let mut winner = 0;
        for _ in 0..=round {
            winner = self.step_priorities(&mut prio);
        }
        &self.validators[winner].address
    }

    /// The proposers of rounds `0..rounds`, computed in one walk.
    pub fn proposers(&self, rounds: usize) -> Vec<C::Address> {
        let mut prio = self.priorities.clone();
        (0..rounds).map(|_| self.validators[self.step_priorities(&mut prio)].address.clone()).collect()
    }

    /// One step of the weighted round-robin; returns the index of the winner.
    fn step_priorities(&self, prio: &mut [i64]) -> usize {
        let total = i64::try_from(self.total_power).unwrap_or(i64::MAX);
        // Keep the spread below 2 × total power (CometBFT `RescalePriorities`).
        let max = prio.iter().copied().max().unwrap_or(0);
        let min = prio.iter().copied().min().unwrap_or(0);
        let diff = i128::from(max) - i128::from(min);
        let limit = 2 * i128::from(total);
        if limit > 0 && diff > limit {
            let ratio = (diff + limit - 1) / limit;
            for p in prio.iter_mut() {
                *p = i64::try_from(i128::from(*p) / ratio).unwrap_or(0);
            }
        }
        // Centre around zero (CometBFT `shiftByAvgProposerPriority`).
        let n = i128::try_from(prio.len()).unwrap_or(1).max(1);
        let avg = prio.iter().map(|p| i128::from(*p)).sum::<i128>().div_euclid(n);
        for p in prio.iter_mut() {
            *p = i64::try_from(i128::from(*p) - avg).unwrap_or(0);
        }
        // Increment and pick the highest priority; ties go to the lowest address (first index).
        let mut winner = 0;
        for (i, p) in prio.iter_mut().enumerate() {
            let power = i64::try_from(self.validators[i].voting_power).unwrap_or(i64::MAX);
            *p = p.saturating_add(power);
        }
        for i in 1..prio.len() {
            if prio[i] > prio[winner] {
                winner = i;
            }
        }
        prio[winner] = prio[winner].saturating_sub(total);
        winner
    }

    /// The same set at the next height: priorities advanced by one step.
    pub fn advanced(&self) -> Self {
        let mut next = self.clone();
        let mut prio = next.priorities.clone();
        next.step_priorities(&mut prio);
        next.priorities = prio;
        next
    }

    /// A new membership, keeping the priorities of validators that stay; newcomers start at
    /// `-1.125 × total power` so they do not propose immediately (as in CometBFT).
    pub fn with_validators(&self, validators: Vec<Validator<C>>) -> Result<Self, ValidatorSetError> {
        let validators = Self::checked(validators)?;
        let total_power: VotingPower = validators.iter().map(|v| v.voting_power).sum();
        let total = i64::try_from(total_power).unwrap_or(i64::MAX);
        let newcomer = -(total.saturating_add(total / 8));
        let priorities = validators
            .iter()
            .map(|v| self.index_of(&v.address).map_or(newcomer, |i| self.priorities[i]))
            .collect();
        Ok(Self { validators, priorities, total_power })
    }
}

/// Check that a validator-set change (a governance transaction) is authorised: the distinct `signers` must be
/// members of `current` holding at least 2/3 of its voting power (`3 × signed ≥ 2 × total`). Duplicate signers
/// count once; an unknown signer is an error. Signature verification is the caller's job (the runtime).
///
/// Returns the signing power on success.
pub fn authorize_validator_set_change<C: Context>(
    current: &ValidatorSet<C>,
    signers: &[C::Address],
) -> Result<VotingPower, ValidatorSetError> {
    let distinct: BTreeSet<&C::Address> = signers.iter().collect();
    let mut signed: VotingPower = 0;
    for signer in distinct {
        let power = current.power_of(signer);
        if power == 0 {
            return Err(ValidatorSetError::UnknownSigner);
        }
        signed = signed.saturating_add(power);
    }
    if u128::from(signed) * 3 >= u128::from(current.total_power()) * 2 {
        Ok(signed)
    } else {
        Err(ValidatorSetError::InsufficientPower { signed, total: current.total_power() })
    }
}

/// The validator set per height, with changes decided at height `h` taking effect at `h + VALSET_CHANGE_DELAY`.
///
/// The host keeps one schedule, calls [`ValidatorSetSchedule::schedule_change`] when a block with an authorised
/// change is committed, and [`ValidatorSetSchedule::advance`] after every commit to get the set for the next
/// `StartHeight`. The delay lets every node (and light clients) know the set of `h + d` once `h` is final.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSetSchedule<C: Context> {
    height: Height,
    current: ValidatorSet<C>,
    pending: BTreeMap<Height, Vec<Validator<C>>>,
}

impl<C: Context> ValidatorSetSchedule<C> {
    /// A schedule whose set at `height` is `set`.
    pub fn new(height: Height, set: ValidatorSet<C>) -> Self {
        Self { height, current: set, pending: BTreeMap::new() }
    }

    /// The height the current set is for.
    pub fn height(&self) -> Height {
        self.height
    }

    /// The validator set for [`ValidatorSetSchedule::height`].
    pub fn current(&self) -> &ValidatorSet<C> {
        &self.current
    }

    /// Changes decided but not yet in effect, by effective height.
    pub fn pending(&self) -> &BTreeMap<Height, Vec<Validator<C>>> {
        &self.pending
    }

    /// Record a change decided (committed) at `decided_at`; it takes effect at `decided_at + VALSET_CHANGE_DELAY`.
    /// A later change decided for the same effective height replaces the earlier one. The caller must have
    /// checked [`authorize_validator_set_change`] against the set of `decided_at`.
    pub fn schedule_change(
        &mut self,
        decided_at: Height,
        validators: Vec<Validator<C>>,
    ) -> Result<Height, ValidatorSetError> {
        if decided_at < self.height {
            return Err(ValidatorSetError::ChangeInThePast { decided_at, current: self.height });
        }
        // Validate the membership now so an invalid change can never be scheduled.
        let _ = ValidatorSet::<C>::new(validators.clone())?;
        let effective = decided_at.saturating_add(VALSET_CHANGE_DELAY);
        self.pending.insert(effective, validators);
        Ok(effective)
    }

    /// Move to the next height: advance proposer priorities and apply a change scheduled for it.
    pub fn advance(&mut self) -> Result<&ValidatorSet<C>, ValidatorSetError> {
        self.height = self.height.saturating_add(1);
        let mut next = self.current.advanced();
        if let Some(change) = self.pending.remove(&self.height) {
            next = next.with_validators(change)?;
        }
        self.current = next;
        Ok(&self.current)
    }
}
