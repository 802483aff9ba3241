//! Amounts as integers with explicit asset ids and decimals; checked arithmetic; no floats.

use crate::address::Address;
use crate::hash::{Domain, Hasher};
use borsh::{BorshDeserialize, BorshSerialize};
use std::fmt;

/// Largest number of decimals an asset may declare.
pub const MAX_DECIMALS: u8 = 18;
/// Longest asset symbol, in bytes.
pub const MAX_SYMBOL_LEN: usize = 12;

/// Identifies an asset: `H_AssetId(issuer ‖ symbol)`, so two issuers' "USD" are different assets.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct AssetId(pub [u8; 32]);

impl AssetId {
    /// The id of `symbol` issued by `issuer`.
    pub fn new(issuer: &Address, symbol: &str) -> AssetId {
        let mut h = Hasher::new(Domain::AssetId);
        h.update_field(&issuer.0).update_field(symbol.as_bytes());
        AssetId(h.finalize().0)
    }

    /// The chain's native fee asset (defined at genesis with symbol `PRS`).
    pub fn native() -> AssetId {
        AssetId::new(&Address::system("native"), "PRS")
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for AssetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AssetId({})", &self.to_hex()[..12])
    }
}
impl fmt::Display for AssetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
impl serde::Serialize for AssetId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}
impl<'de> serde::Deserialize<'de> for AssetId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        let mut b = [0u8; 32];
        hex::decode_to_slice(&s, &mut b)
            .map_err(|_| serde::de::Error::custom("asset id must be 64 hex chars"))?;
        Ok(AssetId(b))
    }
}

/// A quantity of some asset in its smallest unit. Arithmetic is checked: overflow is an error, never a wrap.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, BorshSerialize, BorshDeserialize)]
pub struct Amount(pub u128);

/// Arithmetic on amounts left the `u128` range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Sum or product above `u128::MAX`.
    #[error("amount overflow")]
    Overflow,
    /// Difference below zero.
    #[error("amount underflow (insufficient funds)")]
    Underflow,
    /// A decimal string that is not a valid amount for the asset's decimals.
    #[error("invalid decimal amount: {0}")]
    Parse(&'static str),
}

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// `self + other`, or an error on overflow.
    pub fn checked_add(self, other: Amount) -> Result<Amount, AmountError> {
        self.0.checked_add(other.0).map(Amount).ok_or(AmountError::Overflow)
    }

    /// `self - other`, or an error if it would go below zero.
    pub fn checked_sub(self, other: Amount) -> Result<Amount, AmountError> {
        self.0.checked_sub(other.0).map(Amount).ok_or(AmountError::Underflow)
    }

    /// `self × num ÷ den`, rounded down, with a 256-bit intermediate so it never overflows spuriously.
    pub fn mul_div_floor(self, num: u128, den: u128) -> Result<Amount, AmountError> {
        if den == 0 {
            return Err(AmountError::Overflow);
        }
        let (hi, lo) = widening_mul(self.0, num);
        div_wide(hi, lo, den).map(Amount).ok_or(AmountError::Overflow)
    }

    /// Renders with `decimals` places, e.g. `12.50` for `Amount(1250)` and 2 decimals.
    pub fn to_decimal_string(self, decimals: u8) -> String {
        let d = u32::from(decimals.min(MAX_DECIMALS));
        let scale = 10u128.pow(d);
        if d == 0 {
            return self.0.to_string();
        }
        format!("{}.{:0width$}", self.0 / scale, self.0 % scale, width = d as usize)
    }

    /// Parses `"12.5"` with `decimals` places into smallest units; more fractional digits than `decimals`
    /// is an error, never a silent rounding.
    pub fn parse_decimal(s: &str, decimals: u8) -> Result<Amount, AmountError> {
        if decimals > MAX_DECIMALS {
            return Err(AmountError::Parse("too many decimals"));
        }
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::Parse("integer part must be digits"));
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
            return Err(AmountError::Parse("fraction must be digits"));
        }
        if frac.len() > usize::from(decimals) {
            return Err(AmountError::Parse("more fractional digits than the asset has decimals"));
        }
        let scale = 10u128.pow(u32::from(decimals));
        let i: u128 = int.parse().map_err(|_| AmountError::Parse("integer part too large"))?;
        let mut f: u128 =
            if frac.is_empty() { 0 } else { frac.parse().map_err(|_| AmountError::Parse("bad fraction"))? };
        f *= 10u128.pow(u32::from(decimals) - frac.len() as u32);
        i.checked_mul(scale).and_then(|v| v.checked_add(f)).map(Amount).ok_or(AmountError::Overflow)
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
// JSON carries amounts as decimal strings: u128 does not fit a JSON number safely.
impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}
impl<'de> serde::Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        s.parse::<u128>()
            .map(Amount)
            .map_err(|_| serde::de::Error::custom("amount must be a decimal integer string"))
    }
}

fn widening_mul(a: u128, b: u128) -> (u128, u128) {
    let (a_hi, a_lo) = (a >> 64, a & u128::from(u64::MAX));
    let (b_hi, b_lo) = (b >> 64, b & u128::from(u64::MAX));
    let ll = a_lo * b_lo;
    let lh = a_lo * b_hi;
    let hl = a_hi * b_lo;
    let hh = a_hi * b_hi;
    let mid = (ll >> 64) + (lh & u128::from(u64::MAX)) + (hl & u128::from(u64::MAX));
    let lo = (ll & u128::from(u64::MAX)) | (mid << 64);
    let hi = hh + (lh >> 64) + (hl >> 64) + (mid >> 64);
    (hi, lo)
}

/// (hi·2¹²⁸ + lo) / d, if the quotient fits in u128.
fn div_wide(hi: u128, lo: u128, d: u128) -> Option<u128> {
    if hi >= d {
        return None;
    }
    if hi == 0 {
        return Some(lo / d);
    }
    // Restoring binary long division, 128 steps; amounts math is rare enough for this to be fine.
    let mut rem = hi;
    let mut q: u128 = 0;
    for i in (0..128).rev() {
        let carry = rem >> 127;
        rem = (rem << 1) | ((lo >> i) & 1);
        q <<= 1;
        if carry == 1 || rem >= d {
            rem = rem.wrapping_sub(d);
            q |= 1;
        }
    }
    Some(q)
}

/// Static description of an asset, fixed at creation.
#[derive(
    Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct AssetInfo {
    /// Ticker, at most [`MAX_SYMBOL_LEN`] bytes of `[A-Z0-9]`.
    pub symbol: String,
    /// Decimal places of the smallest unit, at most [`MAX_DECIMALS`].
    pub decimals: u8,
    /// The issuing account.
    pub issuer: Address,
}

impl AssetInfo {
    /// Checks symbol and decimals.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.symbol.is_empty() || self.symbol.len() > MAX_SYMBOL_LEN {
            return Err("asset symbol must be 1 to 12 characters");
        }
        if !self.symbol.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            return Err("asset symbol must be upper-case letters and digits");
        }
        if self.decimals > MAX_DECIMALS {
            return Err("asset decimals must be at most 18");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn checked_ops() {
        assert_eq!(Amount(5).checked_sub(Amount(6)), Err(AmountError::Underflow));
        assert_eq!(Amount(u128::MAX).checked_add(Amount(1)), Err(AmountError::Overflow));
        assert_eq!(Amount(5).checked_add(Amount(6)), Ok(Amount(11)));
    }

    #[test]
    fn decimal_strings() {
        assert_eq!(Amount(1250).to_decimal_string(2), "12.50");
        assert_eq!(Amount(7).to_decimal_string(0), "7");
        assert_eq!(Amount::parse_decimal("12.5", 2), Ok(Amount(1250)));
        assert_eq!(Amount::parse_decimal("12", 2), Ok(Amount(1200)));
        assert!(Amount::parse_decimal("12.505", 2).is_err());
        assert!(Amount::parse_decimal("-1", 2).is_err());
        assert!(Amount::parse_decimal("1.", 2).is_err());
        assert!(Amount::parse_decimal("1e5", 2).is_err());
    }

    #[test]
    fn asset_ids_are_per_issuer() {
        assert_ne!(AssetId::new(&Address([1; 32]), "USD"), AssetId::new(&Address([2; 32]), "USD"));
        // field framing: ("A","BC") vs ("AB","C") analogue on symbol boundary
        assert_ne!(AssetId::new(&Address([1; 32]), "USD"), AssetId::new(&Address([1; 32]), "USDX"));
    }

    proptest! {
        #[test]
        fn mul_div_matches_reference(a in any::<u64>(), n in any::<u64>(), d in 1u64..) {
            let expect = (u128::from(a) * u128::from(n)) / u128::from(d);
            prop_assert_eq!(Amount(u128::from(a)).mul_div_floor(u128::from(n), u128::from(d)), Ok(Amount(expect)));
        }

        #[test]
        fn mul_div_wide(a in any::<u128>(), n in any::<u128>(), d in any::<u128>()) {
            // (a*n)/d with d >= n never overflows and is <= a.
            prop_assume!(d >= n && d > 0);
            let r = Amount(a).mul_div_floor(n, d).unwrap();
            prop_assert!(r.0 <= a);
            if n == d { prop_assert_eq!(r.0, a); }
        }

        #[test]
        fn decimal_round_trip(v in any::<u64>(), dec in 0u8..=18) {
            let a = Amount(u128::from(v));
            prop_assert_eq!(Amount::parse_decimal(&a.to_decimal_string(dec), dec), Ok(a));
        }
    }
}
