//! Account keys and namespaces as the storage RPC validates them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::limits::{TTL_MAX_PRIVATE_MS, TTL_MAX_PUBLIC_MS};

/// An account's storage key: a network prefix byte and 32 key bytes, written as 66 hex digits
/// (oxen-storage-server `user_pubkey`).
///
/// The node stores for any prefix. `05` is a Session ID, whose key is X25519 and which signs
/// with the Ed25519 key given in `pubkey_ed25519`; `03` (a group) and every other prefix carry an
/// Ed25519 key that signs for itself (`storage-rpc.md` §2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId([u8; 33]);

impl AccountId {
    /// Prefix of a Session ID (X25519 key).
    pub const SESSION_PREFIX: u8 = 0x05;
    /// Prefix of a closed group (groups v2, Ed25519 key).
    pub const GROUP_PREFIX: u8 = 0x03;

    /// From the 33 raw bytes.
    pub fn from_bytes(bytes: [u8; 33]) -> Self {
        Self(bytes)
    }

    /// From a prefix and a 32-byte key.
    pub fn new(prefix: u8, key: [u8; 32]) -> Self {
        let mut bytes = [prefix; 33];
        bytes
            .iter_mut()
            .skip(1)
            .zip(key)
            .for_each(|(out, b)| *out = b);
        Self(bytes)
    }

    /// The 33 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 33] {
        &self.0
    }

    /// The prefix byte.
    pub fn prefix(&self) -> u8 {
        self.0[0]
    }

    /// Whether this is a Session ID (`05`), whose signer is given separately.
    pub fn is_session_id(&self) -> bool {
        self.prefix() == Self::SESSION_PREFIX
    }

    /// The 32 bytes after the prefix.
    pub fn key(&self) -> [u8; 32] {
        let mut key = [0u8; 32];
        key.iter_mut()
            .zip(self.0.iter().skip(1))
            .for_each(|(k, b)| *k = *b);
        key
    }

    /// The `pubkey` value as a JSON request carries it: 66 hex digits, or — as the reference
    /// also accepts — the 33 raw bytes as a string.
    pub(crate) fn from_param(s: &str) -> Result<Self, BadAccountId> {
        match <[u8; 33]>::try_from(s.as_bytes()) {
            Ok(raw) => Ok(Self(raw)),
            Err(_) => s.parse(),
        }
    }
}

impl From<sotto_crypto::SessionId> for AccountId {
    fn from(id: sotto_crypto::SessionId) -> Self {
        Self(id.to_bytes())
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({self})")
    }
}

/// Why a string is not an [`AccountId`]; the text is the reference's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Pubkey must be 66 hex digits (33 bytes) long")]
pub struct BadAccountId;

impl FromStr for AccountId {
    type Err = BadAccountId;
    /// 66 hex digits, either case.
    fn from_str(s: &str) -> Result<Self, BadAccountId> {
        let mut out = [0u8; 33];
        hex::decode_to_slice(s, &mut out).map_err(|_| BadAccountId)?;
        Ok(Self(out))
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A storage namespace (`oxenss/common/namespace.h`): a signed 16-bit partition of an account's
/// messages. Every value is valid; the classes below decide who may store and read.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Namespace(pub i16);

impl Namespace {
    /// 0: 1:1 messages and sync copies (public inbox).
    pub const DEFAULT: Self = Self(0);
    /// 2: the user's profile config (libsession `namespaces.h`).
    pub const USER_PROFILE: Self = Self(2);
    /// 3: contacts config.
    pub const CONTACTS: Self = Self(3);
    /// 4: conversation-info-volatile config.
    pub const CONVO_INFO_VOLATILE: Self = Self(4);
    /// 5: user-groups config.
    pub const USER_GROUPS: Self = Self(5);
    /// 11: group (v2) messages.
    pub const GROUP_MESSAGES: Self = Self(11);
    /// 12: group keys.
    pub const GROUP_KEYS: Self = Self(12);
    /// 13: group info.
    pub const GROUP_INFO: Self = Self(13);
    /// 14: group members.
    pub const GROUP_MEMBERS: Self = Self(14);
    /// −10: legacy closed groups; public inbox and retrievable without auth.
    pub const LEGACY_CLOSED: Self = Self(-10);
    /// −11: group messages revoked members may still read.
    pub const REVOKED_GROUP_MESSAGES: Self = Self(-11);

    /// Anyone may store here without a signature (`ns % 10 == 0`); all else needs auth.
    pub fn is_public_inbox(self) -> bool {
        self.0 % 10 == 0
    }

    /// A public outbox (`ns < 0 && -ns % 20 == 1`): a store replaces the owner's other messages
    /// there, and anyone may retrieve.
    pub fn is_public_outbox(self) -> bool {
        self.0 < 0 && (-i32::from(self.0)) % 20 == 1
    }

    /// Retrieve needs no signature here: −10 or a public outbox.
    pub fn is_no_auth_retrieve(self) -> bool {
        self == Self::LEGACY_CLOSED || self.is_public_outbox()
    }

    /// Revoked subaccounts may still retrieve here (`ns < 0 && -ns % 100 == 11`).
    pub fn is_unrevocable(self) -> bool {
        self.0 < 0 && (-i32::from(self.0)) % 100 == 11
    }

    /// The namespace as it appears in signed messages and hashes: empty for 0, else decimal.
    pub fn sig_str(self) -> String {
        if self.0 == 0 {
            String::new()
        } else {
            self.0.to_string()
        }
    }

    /// The longest TTL a new message here may have, ms.
    pub fn max_ttl_ms(self) -> i64 {
        if self.is_public_inbox() {
            TTL_MAX_PUBLIC_MS
        } else {
            TTL_MAX_PRIVATE_MS
        }
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One namespace or all of them (`delete_all`, `delete_before`, `expire_all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NamespaceSelector {
    /// A single namespace.
    One(Namespace),
    /// Every namespace (`"all"`).
    All,
}

impl NamespaceSelector {
    /// The form signed messages use: "" for 0, `all`, or decimal.
    pub fn sig_str(self) -> String {
        match self {
            Self::One(ns) => ns.sig_str(),
            Self::All => "all".to_owned(),
        }
    }
}

impl Default for NamespaceSelector {
    fn default() -> Self {
        Self::One(Namespace::DEFAULT)
    }
}

impl Serialize for NamespaceSelector {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::One(ns) => ns.serialize(s),
            Self::All => s.serialize_str("all"),
        }
    }
}
