//! Account keys and namespaces as the storage RPC validates them.

use std::fmt;
use std::str::FromStr;

/// An account's storage key: a network prefix byte (`05` Session ID, `03` group, …) and 32 key
/// bytes, written as 66 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId([u8; 33]);

impl AccountId {
    /// From the 33 raw bytes.
    pub fn from_bytes(bytes: [u8; 33]) -> Self {
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

    /// The 32 bytes after the prefix.
    pub fn key(&self) -> [u8; 32] {
        let mut key = [0u8; 32];
        key.iter_mut()
            .zip(self.0.iter().skip(1))
            .for_each(|(k, b)| *k = *b);
        key
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

/// Why a string is not an [`AccountId`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Pubkey must be 66 hex digits (33 bytes) long")]
pub struct BadAccountId;

impl FromStr for AccountId {
    type Err = BadAccountId;
    fn from_str(s: &str) -> Result<Self, BadAccountId> {
        let mut out = [0u8; 33];
        hex::decode_to_slice(s, &mut out).map_err(|_| BadAccountId)?;
        Ok(Self(out))
    }
}

/// A storage namespace (`oxenss/common/namespace.h`): a signed 16-bit partition of an account's
/// messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace(pub i16);

impl Namespace {
    /// Namespace 0: 1:1 messages.
    pub const DEFAULT: Self = Self(0);
    /// Namespace −10: legacy closed groups, retrievable without auth.
    pub const LEGACY_CLOSED: Self = Self(-10);

    /// Anyone may store here without a signature (`ns % 10 == 0`).
    pub fn is_public_inbox(self) -> bool {
        self.0 % 10 == 0
    }

    /// A public outbox (`ns < 0 && -ns % 20 == 1`): a store replaces the owner's other messages
    /// there, and anyone may retrieve.
    pub fn is_public_outbox(self) -> bool {
        self.0 < 0 && (-i32::from(self.0)) % 20 == 1
    }

    /// Retrieve needs no signature here.
    pub fn is_no_auth_retrieve(self) -> bool {
        self == Self::LEGACY_CLOSED || self.is_public_outbox()
    }

    /// The namespace as it appears in signed messages and hashes: empty for 0, else decimal.
    pub fn sig_str(self) -> String {
        if self.0 == 0 {
            String::new()
        } else {
            self.0.to_string()
        }
    }

    /// The longest TTL a message here may have, ms.
    pub fn max_ttl_ms(self) -> i64 {
        if self.is_public_inbox() {
            crate::limits::TTL_MAX_PUBLIC_MS
        } else {
            crate::limits::TTL_MAX_PRIVATE_MS
        }
    }
}

/// One namespace or all of them (`delete_all`, `delete_before`, `expire_all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
