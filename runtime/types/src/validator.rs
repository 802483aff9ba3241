//! Validator sets: public keys with voting power.

use crate::codec::encode;
use crate::hash::{Domain, Hash};
use crate::keys::PublicKey;
use borsh::{BorshDeserialize, BorshSerialize};

/// Most validators in a set. Bounds certificate size and vote bookkeeping.
pub const MAX_VALIDATORS: usize = 256;
/// Largest total voting power (keeps every 2/3 computation far from overflow).
pub const MAX_TOTAL_POWER: u64 = u64::MAX / 8;

/// One validator.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct Validator {
    /// Consensus key.
    pub public_key: PublicKey,
    /// Voting power (> 0).
    pub power: u64,
}

/// A change to a validator's power; power 0 removes it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct ValidatorUpdate {
    /// Consensus key.
    pub public_key: PublicKey,
    /// New power; 0 removes.
    pub power: u64,
}

/// Why a validator set or update is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// No validators.
    #[error("validator set is empty")]
    Empty,
    /// More than [`MAX_VALIDATORS`].
    #[error("validator set has {0} validators, more than the limit of 256")]
    TooMany(usize),
    /// Same key twice.
    #[error("validator {0} appears twice")]
    Duplicate(String),
    /// A validator with zero power.
    #[error("validator {0} has zero power")]
    ZeroPower(String),
    /// Total power above [`MAX_TOTAL_POWER`].
    #[error("total voting power exceeds the limit")]
    PowerOverflow,
}

/// An ordered validator set. The order (ascending public key) gives each validator its index in commit
/// certificates, so it is canonical: the same members always make the same set and hash.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, serde::Serialize)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    #[borsh(skip)]
    #[serde(skip)]
    total_power: u64,
}

impl ValidatorSet {
    /// Builds a set, sorting by key and checking every rule.
    pub fn new(mut validators: Vec<Validator>) -> Result<ValidatorSet, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        if validators.len() > MAX_VALIDATORS {
            return Err(ValidatorSetError::TooMany(validators.len()));
        }
        validators.sort_by_key(|v| v.public_key);
        let mut total: u64 = 0;
        for (i, v) in validators.iter().enumerate() {
            if v.power == 0 {
                return Err(ValidatorSetError::ZeroPower(v.public_key.to_hex()));
            }
            if i > 0 && validators[i - 1].public_key == v.public_key {
                return Err(ValidatorSetError::Duplicate(v.public_key.to_hex()));
            }
            total = total
                .checked_add(v.power)
                .filter(|t| *t <= MAX_TOTAL_POWER)
                .ok_or(ValidatorSetError::PowerOverflow)?;
        }
        Ok(ValidatorSet { validators, total_power: total })
    }

    /// Validators in canonical order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Never true for a constructed set; present for API completeness.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Sum of voting power.
    pub fn total_power(&self) -> u64 {
        self.total_power
    }

    /// Smallest power that is more than two thirds of the total: a quorum.
    pub fn quorum_power(&self) -> u64 {
        self.total_power * 2 / 3 + 1
    }

    /// Smallest power that is more than one third of the total: at least one honest validator.
    pub fn one_third_power(&self) -> u64 {
        self.total_power / 3 + 1
    }

    /// Index and entry of a key.
    pub fn find(&self, key: &PublicKey) -> Option<(usize, &Validator)> {
        self.validators.binary_search_by(|v| v.public_key.cmp(key)).ok().map(|i| (i, &self.validators[i]))
    }

    /// The set's hash (committed in block headers).
    pub fn hash(&self) -> Hash {
        Hash::digest(Domain::ValidatorSet, &encode(self))
    }

    /// The set after applying `updates` (power 0 removes; unknown keys are added).
    pub fn apply(&self, updates: &[ValidatorUpdate]) -> Result<ValidatorSet, ValidatorSetError> {
        let mut next: Vec<Validator> = self.validators.clone();
        for u in updates {
            match next.iter().position(|v| v.public_key == u.public_key) {
                Some(i) if u.power == 0 => {
                    next.remove(i);
                }
                Some(i) => next[i].power = u.power,
                None if u.power == 0 => {}
                None => next.push(Validator { public_key: u.public_key, power: u.power }),
            }
        }
        ValidatorSet::new(next)
    }
}

impl BorshDeserialize for ValidatorSet {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let validators = Vec::<Validator>::deserialize_reader(reader)?;
        let set =
            ValidatorSet::new(validators.clone()).map_err(|e| crate::codec::invalid_data(e.to_string()))?;
        if set.validators != validators {
            return Err(crate::codec::invalid_data("validator set is not in canonical order"));
        }
        Ok(set)
    }
}

impl<'de> serde::Deserialize<'de> for ValidatorSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Raw {
            validators: Vec<Validator>,
        }
        let raw = Raw::deserialize(d)?;
        ValidatorSet::new(raw.validators).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keypair;

    fn v(i: u8, power: u64) -> Validator {
        Validator { public_key: Keypair::from_seed(&[i; 32]).public(), power }
    }

    #[test]
    fn canonical_order_and_thresholds() {
        let a = ValidatorSet::new(vec![v(1, 1), v(2, 1), v(3, 1), v(4, 1)]).unwrap();
        let b = ValidatorSet::new(vec![v(4, 1), v(3, 1), v(2, 1), v(1, 1)]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.hash(), b.hash());
        assert_eq!(a.quorum_power(), 3);
        assert_eq!(a.one_third_power(), 2);
        let w = ValidatorSet::new(vec![v(1, 10), v(2, 20)]).unwrap();
        assert_eq!(w.quorum_power(), 21);
    }

    #[test]
    fn rules_enforced() {
        assert_eq!(ValidatorSet::new(vec![]), Err(ValidatorSetError::Empty));
        assert!(matches!(ValidatorSet::new(vec![v(1, 0)]), Err(ValidatorSetError::ZeroPower(_))));
        assert!(matches!(ValidatorSet::new(vec![v(1, 1), v(1, 2)]), Err(ValidatorSetError::Duplicate(_))));
        assert_eq!(
            ValidatorSet::new(vec![v(1, MAX_TOTAL_POWER), v(2, 1)]),
            Err(ValidatorSetError::PowerOverflow)
        );
    }

    #[test]
    fn non_canonical_order_rejected_on_decode() {
        let s = ValidatorSet::new(vec![v(1, 1), v(2, 1)]).unwrap();
        let mut raw: Vec<Validator> = s.validators().to_vec();
        raw.reverse();
        assert!(crate::decode::<ValidatorSet>(&crate::encode(&raw)).is_err());
        assert_eq!(crate::decode::<ValidatorSet>(&crate::encode(&s)), Ok(s));
    }

    #[test]
    fn updates_apply() {
        let s = ValidatorSet::new(vec![v(1, 1), v(2, 1)]).unwrap();
        let n = s
            .apply(&[
                ValidatorUpdate { public_key: v(1, 0).public_key, power: 0 },
                ValidatorUpdate { public_key: v(3, 0).public_key, power: 5 },
            ])
            .unwrap();
        assert_eq!(n.total_power(), 6);
        assert!(n.find(&v(1, 0).public_key).is_none());
    }
}
