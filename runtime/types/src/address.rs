//! Account and contract addresses: 32 bytes, shown as bech32m with the `purse` prefix.

use crate::hash::{Domain, Hash, Hasher};
use bech32::{primitives::decode::CheckedHrpstring, Bech32m, Hrp};
use borsh::{BorshDeserialize, BorshSerialize};
use std::fmt;
use std::str::FromStr;

/// The human-readable prefix of every address.
pub const ADDRESS_HRP: &str = "purse";
/// Length of an address in bytes.
pub const ADDRESS_LEN: usize = 32;

/// An account or contract address.
///
/// Accounts: `H_AccountAddress(public key)`. Contracts: `H_ContractAddress(deployer ‖ nonce)`. Text form:
/// bech32m (BIP-350) with prefix `purse`, always lower case, e.g. `purse1…` (64 characters).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Address(pub [u8; ADDRESS_LEN]);

impl Address {
    /// The address whose bytes are `hash`.
    pub fn from_hash(hash: Hash) -> Address {
        Address(hash.0)
    }

    /// The address of the contract deployed by `deployer` with transaction nonce `nonce`.
    pub fn contract(deployer: &Address, nonce: u64) -> Address {
        let mut h = Hasher::new(Domain::ContractAddress);
        h.update(&deployer.0).update(&nonce.to_le_bytes());
        Address::from_hash(h.finalize())
    }

    /// A reserved system address derived from a name (module accounts such as the fee collector).
    pub fn system(name: &str) -> Address {
        let mut h = Hasher::new(Domain::ContractAddress);
        h.update(b"system:").update(name.as_bytes());
        Address::from_hash(h.finalize())
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; ADDRESS_LEN] {
        &self.0
    }

    /// The bech32m text form.
    pub fn to_bech32(&self) -> String {
        // The HRP is a valid constant and 32 bytes are far below bech32's length limit, so encoding cannot
        // fail; fall back to hex rather than panic if the library ever disagrees.
        let hrp = Hrp::parse_unchecked(ADDRESS_HRP);
        bech32::encode::<Bech32m>(hrp, &self.0).unwrap_or_else(|_| hex::encode(self.0))
    }

    /// Parses the bech32m text form, saying precisely what is wrong with bad input.
    pub fn parse(s: &str) -> Result<Address, AddressError> {
        if s.is_empty() {
            return Err(AddressError::Empty);
        }
        if s.chars().any(|c| c.is_ascii_uppercase()) && s.chars().any(|c| c.is_ascii_lowercase()) {
            return Err(AddressError::MixedCase);
        }
        let lower = s.to_ascii_lowercase();
        let Some((hrp, _)) = lower.rsplit_once('1') else {
            return Err(AddressError::NoSeparator);
        };
        if hrp != ADDRESS_HRP {
            return Err(AddressError::WrongPrefix(hrp.to_string()));
        }
        let checked = CheckedHrpstring::new::<Bech32m>(&lower).map_err(|e| {
            let msg = e.to_string();
            if msg.contains("checksum") {
                AddressError::Checksum
            } else {
                AddressError::Malformed(msg)
            }
        })?;
        let bytes: Vec<u8> = checked.byte_iter().collect();
        let arr: [u8; ADDRESS_LEN] =
            bytes.as_slice().try_into().map_err(|_| AddressError::Length(bytes.len()))?;
        let addr = Address(arr);
        // Reject non-canonical padding and anything else that would not re-encode to the same string.
        if addr.to_bech32() != lower {
            return Err(AddressError::Malformed("non-canonical encoding".into()));
        }
        Ok(addr)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_bech32())
    }
}
impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.to_bech32();
        write!(f, "Address({}…{})", &s[..12.min(s.len())], &s[s.len().saturating_sub(6)..])
    }
}
impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}
impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_bech32())
    }
}
impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        Address::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Why a string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The empty string.
    #[error("address is empty")]
    Empty,
    /// Upper and lower case mixed (bech32 forbids it).
    #[error("address mixes upper and lower case")]
    MixedCase,
    /// No `1` separating prefix and data.
    #[error("address has no '1' separator after the 'purse' prefix")]
    NoSeparator,
    /// A prefix other than `purse`.
    #[error("address prefix is '{0}', expected 'purse'")]
    WrongPrefix(String),
    /// The checksum does not match: a typo.
    #[error("address checksum does not match (typo?)")]
    Checksum,
    /// Decodes to the wrong number of bytes.
    #[error("address holds {0} bytes, expected 32")]
    Length(usize),
    /// Any other bech32 problem (bad characters, bech32 instead of bech32m, bad padding).
    #[error("address is malformed: {0}")]
    Malformed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_prefix() {
        let a = Address::from_hash(Hash::digest(Domain::AccountAddress, b"k"));
        let s = a.to_bech32();
        assert!(s.starts_with("purse1"));
        assert_eq!(s.len(), 64);
        assert_eq!(Address::parse(&s), Ok(a));
        assert_eq!(Address::parse(&s.to_ascii_uppercase()), Ok(a));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let a = Address([9u8; 32]);
        let s = a.to_bech32();
        assert_eq!(Address::parse(""), Err(AddressError::Empty));
        assert_eq!(Address::parse("nosep"), Err(AddressError::NoSeparator));
        let wrong = s.replacen("purse", "cosmos", 1);
        assert_eq!(Address::parse(&wrong), Err(AddressError::WrongPrefix("cosmos".into())));
        let mut typo: Vec<char> = s.chars().collect();
        typo[20] = if typo[20] == 'q' { 'p' } else { 'q' };
        let typo: String = typo.into_iter().collect();
        assert_eq!(Address::parse(&typo), Err(AddressError::Checksum));
        let mut mixed = s.clone();
        mixed.replace_range(0..1, "P");
        assert_eq!(Address::parse(&mixed), Err(AddressError::MixedCase));
        let short = bech32::encode::<Bech32m>(Hrp::parse_unchecked("purse"), &[1, 2, 3]).unwrap();
        assert_eq!(Address::parse(&short), Err(AddressError::Length(3)));
        let bech32_not_m =
            bech32::encode::<bech32::Bech32>(Hrp::parse_unchecked("purse"), &[9u8; 32]).unwrap();
        assert!(Address::parse(&bech32_not_m).is_err());
    }

    #[test]
    fn contract_addresses_depend_on_deployer_and_nonce() {
        let d = Address([1; 32]);
        assert_ne!(Address::contract(&d, 0), Address::contract(&d, 1));
        assert_ne!(Address::contract(&d, 0), Address::contract(&Address([2; 32]), 0));
        assert_ne!(Address::system("fees"), Address::system("treasury"));
    }
}
