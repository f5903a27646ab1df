//! Validated identifiers and public keys: Session IDs, blinded IDs, Ed25519 and X25519 keys.
//!
//! Parse once at the edge (`FromStr`, serde), then pass these types around: they are always well
//! formed. Text forms are lowercase hex; parsing accepts either case.

use std::fmt;
use std::str::FromStr;

use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::montgomery::MontgomeryPoint;
use ed25519_dalek::{Signature, VerifyingKey};

use crate::encoding::{hex_array, serde_via_str};
use crate::err::{Error, Result};

/// Type prefix of a Session ID (an account's X25519 key): `05`.
pub const SESSION_ID_PREFIX: u8 = 0x05;
/// Type prefix of a 15-blinded community ID (`sogs.md` §2.4).
pub const BLIND15_PREFIX: u8 = 0x15;
/// Type prefix of a 25-blinded community ID (`sogs.md` §2.4a).
pub const BLIND25_PREFIX: u8 = 0x25;

/// The accessors, text forms and serde of a 32-byte public-key newtype.
macro_rules! key_newtype {
    ($ty:ident, $what:literal) => {
        impl $ty {
            /// The raw key bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Lowercase hex.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($ty), "({})"), self.to_hex())
            }
        }

        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                hex_array($what, "64 hex characters", s).map(Self)
            }
        }
        serde_via_str!($ty);
    };
}

/// An Ed25519 public key (32 bytes).
///
/// Any 32 bytes are accepted; [`Ed25519PublicKey::verify`] rejects keys that are not valid,
/// prime-order points, as libsodium does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ed25519PublicKey(pub [u8; 32]);

key_newtype!(Ed25519PublicKey, "Ed25519 public key");

impl Ed25519PublicKey {
    /// Verify a detached signature with libsodium's strict rules (canonical `S`, no small-order
    /// `A` or `R`).
    pub fn verify(&self, msg: &[u8], sig: &[u8; 64], what: &'static str) -> Result<()> {
        let key = cached(&VERIFYING_KEYS, &self.0, || {
            VerifyingKey::from_bytes(&self.0).ok()
        })
        .ok_or(Error::BadSignature { what })?;
        key.verify_strict(msg, &Signature::from_bytes(sig))
            .map_err(|_| Error::BadSignature { what })
    }

    /// libsodium's `crypto_core_ed25519_is_valid_point`: a canonical encoding of a point on the
    /// curve, not of small order, in the prime-order subgroup. The subgroup check is a full
    /// scalar multiplication (as costly as a signature check), so answers are remembered.
    pub fn is_valid_prime_order_point(&self) -> bool {
        cached(&PRIME_ORDER_KEYS, &self.0, || {
            let compressed = CompressedEdwardsY(self.0);
            compressed.decompress().is_some_and(|point| {
                point.compress() == compressed && !point.is_small_order() && point.is_torsion_free()
            })
        })
    }

    /// The X25519 key of this Ed25519 key (libsodium `crypto_sign_ed25519_pk_to_curve25519`).
    pub fn to_x25519(&self) -> Result<X25519PublicKey> {
        cached(&X25519_KEYS, &self.0, || {
            CompressedEdwardsY(self.0)
                .decompress()
                .filter(|point| !point.is_small_order())
                .map(|point| point.to_montgomery().to_bytes())
        })
        .map(X25519PublicKey)
        .ok_or(Error::BadPoint {
            what: "Ed25519 public key",
        })
    }
}

/// How many decoded keys each thread remembers (at most about 200 bytes each). Decoding a key
/// is a point decompression, a field exponentiation costing about a sixth of a verify, and
/// servers check the same accounts' signed polls over and over: a node its swarm's accounts, a
/// community server its active users (thousands on a busy one).
const KEY_CACHE_ENTRIES: usize = 4096;

type KeyCache<V> = std::cell::RefCell<std::collections::HashMap<[u8; 32], V>>;

thread_local! {
    /// Ed25519 key bytes → the decompressed key (`None`: not a point).
    static VERIFYING_KEYS: KeyCache<Option<VerifyingKey>> = KeyCache::default();
    /// Ed25519 key bytes → its X25519 key (`None`: not a point, or of small order).
    static X25519_KEYS: KeyCache<Option<[u8; 32]>> = KeyCache::default();
    /// Ed25519 key bytes → [`Ed25519PublicKey::is_valid_prime_order_point`].
    static PRIME_ORDER_KEYS: KeyCache<bool> = KeyCache::default();
}

/// `decode(key)`, remembered per thread: the result depends on the bytes alone. A full cache is
/// emptied rather than managed: polling accounts come straight back.
fn cached<V: Copy>(
    cache: &'static std::thread::LocalKey<KeyCache<V>>,
    key: &[u8; 32],
    decode: impl FnOnce() -> V,
) -> V {
    cache.with(|cache| {
        if let Some(value) = cache.borrow().get(key) {
            return *value;
        }
        let value = decode();
        let mut cache = cache.borrow_mut();
        if cache.len() >= KEY_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(*key, value);
        value
    })
}

/// An X25519 public key (32 bytes, Montgomery u-coordinate).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct X25519PublicKey(pub [u8; 32]);

key_newtype!(X25519PublicKey, "X25519 public key");

impl X25519PublicKey {
    /// The Ed25519 point with this u-coordinate and sign bit 0 ("XEd25519 positive" form), as
    /// SOGS uses to find the blinded ID of a `05` account (`sogs.md` §2.4).
    pub fn to_ed25519_positive(&self) -> Result<Ed25519PublicKey> {
        let point = MontgomeryPoint(self.0)
            .to_edwards(0)
            .ok_or(Error::BadPoint {
                what: "X25519 public key",
            })?;
        Ok(Ed25519PublicKey(point.compress().to_bytes()))
    }
}

/// A Session ID: `05` followed by the account's X25519 public key, 66 hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(X25519PublicKey);

impl SessionId {
    /// The Session ID of an X25519 public key.
    pub fn from_x25519(key: X25519PublicKey) -> Self {
        Self(key)
    }

    /// The account's X25519 public key (the ID without its `05` prefix).
    pub fn x25519(&self) -> &X25519PublicKey {
        &self.0
    }

    /// The 33 bytes `05 ‖ key`.
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = SESSION_ID_PREFIX;
        out[1..].copy_from_slice(&self.0 .0);
        out
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "05{}", self.0.to_hex())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

impl FromStr for SessionId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        const WHAT: &str = "Session ID";
        if s.len() != 66 {
            return Err(Error::BadLength {
                what: WHAT,
                expected: "66 hex characters",
                actual: s.len(),
            });
        }
        let (prefix, key) = s.split_at_checked(2).ok_or(Error::BadHex { what: WHAT })?;
        if prefix != "05" {
            return Err(Error::BadPrefix {
                what: WHAT,
                expected: "05",
                found: prefix.to_owned(),
            });
        }
        hex_array(WHAT, "66 hex characters", key).map(|k| Self(X25519PublicKey(k)))
    }
}
serde_via_str!(SessionId);

/// Which blinding a [`BlindedId`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlindingKind {
    /// `15`: blinding factor from the server key alone (PySOGS, current clients).
    Blind15,
    /// `25`: blinding factor from the Session ID and the server key (libsession).
    Blind25,
}

impl BlindingKind {
    /// The ID's type byte.
    pub fn prefix(self) -> u8 {
        match self {
            Self::Blind15 => BLIND15_PREFIX,
            Self::Blind25 => BLIND25_PREFIX,
        }
    }
}

/// A blinded community ID: `15` or `25` followed by a blinded Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlindedId {
    kind: BlindingKind,
    key: Ed25519PublicKey,
}

impl BlindedId {
    /// A blinded ID of the given kind for a blinded Ed25519 key.
    pub fn new(kind: BlindingKind, key: Ed25519PublicKey) -> Self {
        Self { kind, key }
    }

    /// `15` or `25`.
    pub fn kind(&self) -> BlindingKind {
        self.kind
    }

    /// The blinded Ed25519 public key (the ID without its prefix).
    pub fn key(&self) -> &Ed25519PublicKey {
        &self.key
    }

    /// The 33 bytes `prefix ‖ key`.
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = self.kind.prefix();
        out[1..].copy_from_slice(&self.key.0);
        out
    }
}

impl fmt::Display for BlindedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}{}", self.kind.prefix(), self.key.to_hex())
    }
}

impl fmt::Debug for BlindedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlindedId({self})")
    }
}

impl FromStr for BlindedId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        const WHAT: &str = "blinded ID";
        if s.len() != 66 {
            return Err(Error::BadLength {
                what: WHAT,
                expected: "66 hex characters",
                actual: s.len(),
            });
        }
        let (prefix, key) = s.split_at_checked(2).ok_or(Error::BadHex { what: WHAT })?;
        let kind = match prefix {
            "15" => BlindingKind::Blind15,
            "25" => BlindingKind::Blind25,
            other => {
                return Err(Error::BadPrefix {
                    what: WHAT,
                    expected: "15 or 25",
                    found: other.to_owned(),
                })
            }
        };
        let key = Ed25519PublicKey(hex_array(WHAT, "66 hex characters", key)?);
        Ok(Self { kind, key })
    }
}
serde_via_str!(BlindedId);

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";

    /// The uncached conversion, to compare the cache with.
    fn x25519_uncached(key: &[u8; 32]) -> Option<[u8; 32]> {
        let point = CompressedEdwardsY(*key).decompress()?;
        (!point.is_small_order()).then(|| point.to_montgomery().to_bytes())
    }

    #[test]
    fn cached_keys_answer_as_uncached_ones_through_evictions() {
        use ed25519_dalek::{Signer as _, SigningKey};
        let signers: Vec<(Ed25519PublicKey, [u8; 64])> = (0..4u8)
            .map(|i| {
                let signing = SigningKey::from_bytes(&[i; 32]);
                let public = Ed25519PublicKey(signing.verifying_key().to_bytes());
                (public, signing.sign(b"poll").to_bytes())
            })
            .collect();
        let check_signers = || {
            for (public, sig) in &signers {
                assert!(public.verify(b"poll", sig, "t").is_ok());
                assert!(public.verify(b"other", sig, "t").is_err());
                assert_eq!(
                    public.to_x25519().ok().map(|k| k.0),
                    x25519_uncached(&public.0)
                );
            }
        };
        check_signers();
        check_signers();
        // More other keys than the cache holds (about half of them not points): every answer
        // matches the uncached one, and the cache is emptied and refilled on the way.
        for i in 0..(KEY_CACHE_ENTRIES + 100) {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
            bytes[31] = (i % 128) as u8;
            let key = Ed25519PublicKey(bytes);
            assert_eq!(key.to_x25519().ok().map(|k| k.0), x25519_uncached(&bytes));
        }
        X25519_KEYS.with(|c| assert!(c.borrow().len() <= KEY_CACHE_ENTRIES));
        check_signers();
        // A small-order point decompresses but has no X25519 key, cached or not.
        let identity = Ed25519PublicKey(curve25519_dalek::EdwardsPoint::default().compress().0);
        assert!(identity.to_x25519().is_err());
        assert!(identity.to_x25519().is_err());
    }

    #[test]
    fn session_id_round_trip_and_errors() {
        let id: SessionId = SID.parse().unwrap();
        assert_eq!(id.to_string(), SID);
        assert_eq!(SID.to_uppercase().parse::<SessionId>().unwrap(), id);
        assert!(matches!(
            SID.replacen("05", "15", 1).parse::<SessionId>(),
            Err(Error::BadPrefix { .. })
        ));
        assert!(matches!(
            SID[..64].parse::<SessionId>(),
            Err(Error::BadLength { actual: 64, .. })
        ));
        assert!(matches!(
            SID.replacen("d2", "zz", 1).parse::<SessionId>(),
            Err(Error::BadHex { .. })
        ));
        // Multi-byte UTF-8 must not panic on the prefix split.
        assert!("é".repeat(33).parse::<SessionId>().is_err());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{SID}\""));
        assert_eq!(serde_json::from_str::<SessionId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<SessionId>("\"05\"").is_err());
    }

    #[test]
    fn blinded_id_round_trip_and_errors() {
        let s15 = "15b74ed205f1f931e1bb1291183778a9456b835937d923b0f2e248aa3a44c07844";
        let id: BlindedId = s15.parse().unwrap();
        assert_eq!(id.kind(), BlindingKind::Blind15);
        assert_eq!(id.to_string(), s15);
        let s25 = s15.replacen("15", "25", 1);
        assert_eq!(
            s25.parse::<BlindedId>().unwrap().kind(),
            BlindingKind::Blind25
        );
        assert!(matches!(
            SID.parse::<BlindedId>(),
            Err(Error::BadPrefix { .. })
        ));
        assert!("é".repeat(33).parse::<BlindedId>().is_err());
        assert_eq!(
            serde_json::from_str::<BlindedId>(&serde_json::to_string(&id).unwrap()).unwrap(),
            id
        );
    }
}
