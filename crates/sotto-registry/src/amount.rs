//! [`Amount`]: a stake or reward in atomic units, written as decimal SESH.

use std::fmt;
use std::str::FromStr;

use crate::constants::UNITS_PER_SESH;
use crate::err::Error;

/// Most units an amount may hold: what SQLite's signed 64-bit integers store.
const MAX_UNITS: u64 = i64::MAX as u64;

/// An amount of SESH in atomic units (10⁻⁹ SESH). Text form: decimal SESH with up to nine
/// fractional digits, e.g. `25000` or `0.5`. At most 2⁶³ − 1 units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(u64);

impl Amount {
    /// Nothing.
    pub const ZERO: Self = Self(0);

    /// This many atomic units (callers keep it ≤ 2⁶³ − 1).
    pub const fn from_units(units: u64) -> Self {
        Self(units)
    }

    /// Atomic units, checked against the storable range.
    pub fn try_from_units(units: u64) -> Result<Self, Error> {
        if units > MAX_UNITS {
            return Err(Error::BadAmount(format!("{units} units is too large")));
        }
        Ok(Self(units))
    }

    /// The atomic units.
    pub const fn units(self) -> u64 {
        self.0
    }

    /// `self + other`, or `None` past the storable range.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0
            .checked_add(other.0)
            .filter(|&u| u <= MAX_UNITS)
            .map(Self)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / UNITS_PER_SESH;
        let frac = self.0 % UNITS_PER_SESH;
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{frac:09}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl FromStr for Amount {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::BadAmount(format!(
                "{s:?} is not an amount of SESH (e.g. 25000 or 0.5)"
            ))
        };
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (s.contains('.') && !digits(frac)) || frac.len() > 9 {
            return Err(bad());
        }
        let whole: u64 = whole.parse().map_err(|_| bad())?;
        let frac_units: u64 = if frac.is_empty() {
            0
        } else {
            let scale = 10u64.pow(9 - u32::try_from(frac.len()).map_err(|_| bad())?);
            frac.parse::<u64>().map_err(|_| bad())? * scale
        };
        let units = whole
            .checked_mul(UNITS_PER_SESH)
            .and_then(|u| u.checked_add(frac_units))
            .ok_or_else(bad)?;
        Self::try_from_units(units)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn text_round_trip() {
        for (text, units) in [
            ("25000", 25_000_000_000_000u64),
            ("0.5", 500_000_000),
            ("1.000000001", 1_000_000_001),
            ("0", 0),
        ] {
            let a: Amount = text.parse().unwrap();
            assert_eq!(a.units(), units);
            assert_eq!(a.to_string(), text);
        }
        assert_eq!("6250.50".parse::<Amount>().unwrap().to_string(), "6250.5");
    }

    #[test]
    fn refuses_garbage() {
        for text in [
            "",
            "-1",
            "1.",
            ".5",
            "1.0000000001",
            "abc",
            "1e3",
            "99999999999999999999",
        ] {
            assert!(text.parse::<Amount>().is_err(), "{text}");
        }
        assert!(Amount::try_from_units(u64::MAX).is_err());
    }
}
