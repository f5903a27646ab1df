//! Identifiers the server validates once at the edge: room tokens and account IDs.

use std::fmt;
use std::str::FromStr;

use sotto_crypto::{BlindedId, BlindingKind, SessionId};

use crate::err::{Error, Result};

/// Longest room token (`sogs.md` §7; PySOGS `[\w-]{1,64}`).
pub const ROOM_TOKEN_MAX: usize = 64;

/// A room token: 1–64 of `[A-Za-z0-9_-]`, the set the PySOGS `rooms` table's CHECK allows.
///
/// Tokens compare case-insensitively in the database (`COLLATE NOCASE`); this type keeps the
/// spelling it was given.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomToken(String);

impl RoomToken {
    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for RoomToken {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let ok = (1..=ROOM_TOKEN_MAX).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::BadRoomToken)
        }
    }
}

impl fmt::Display for RoomToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RoomToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoomToken({})", self.0)
    }
}

/// An account as PySOGS names users: an unblinded Session ID (`05…`) or a 15-blinded ID
/// (`15…`). PySOGS accepts nothing else (`[01]5` + 64 hex; no `25` IDs, `sogs.md` §0).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountId {
    /// `05` + X25519 key.
    Unblinded(SessionId),
    /// `15` + blinded Ed25519 key.
    Blinded(BlindedId),
}

impl FromStr for AccountId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::BadSessionId(s.to_owned());
        if s.len() != 66 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("05") {
            lower.parse().map(Self::Unblinded).map_err(|_| bad())
        } else if lower.starts_with("15") {
            let id: BlindedId = lower.parse().map_err(|_| bad())?;
            debug_assert_eq!(id.kind(), BlindingKind::Blind15);
            Ok(Self::Blinded(id))
        } else {
            Err(bad())
        }
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unblinded(id) => fmt::Display::fmt(id, f),
            Self::Blinded(id) => fmt::Display::fmt(id, f),
        }
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens() {
        assert!("abc-DEF_09".parse::<RoomToken>().is_ok());
        assert!("x".repeat(64).parse::<RoomToken>().is_ok());
        for bad in ["", "a b", "é", "a/b", "a.b", &"x".repeat(65)] {
            assert!(bad.parse::<RoomToken>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn account_ids() {
        let hex = "c506fee5118680107a4722f60a05dfcbb5737d6ffc4d163fb60479e279c6095d";
        let a: AccountId = format!("05{hex}").parse().unwrap();
        assert!(matches!(a, AccountId::Unblinded(_)));
        assert_eq!(a.to_string(), format!("05{hex}"));
        let b: AccountId = format!("15{}", hex.to_uppercase()).parse().unwrap();
        assert!(matches!(b, AccountId::Blinded(_)));
        assert_eq!(b.to_string(), format!("15{hex}"));
        for bad in [
            format!("25{hex}"),
            format!("00{hex}"),
            format!("05{hex}0"),
            format!("05{}", &hex[1..]),
            format!("05{}g", &hex[1..]),
        ] {
            assert!(bad.parse::<AccountId>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn account_id_round_trip(key in any::<[u8; 32]>(), blinded in any::<bool>()) {
            let text = format!("{}{}", if blinded { "15" } else { "05" }, hex::encode(key));
            let id: AccountId = text.parse().unwrap();
            prop_assert_eq!(id.to_string(), text);
        }

        #[test]
        fn token_round_trip(s in "[A-Za-z0-9_-]{1,64}") {
            let t: RoomToken = s.parse().unwrap();
            prop_assert_eq!(t.as_str(), s.as_str());
        }
    }
}
