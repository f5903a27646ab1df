//! The storage hash of a message (oxen-storage-server `computeMessageHash`, `storage-rpc.md`
//! §3.1, `client.md` §3.3): unpadded base64 of BLAKE2b-256(prefix ‖ key ‖ namespace ‖ data).

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{AccountId, Namespace};

/// Length of a message hash: 43 base64 characters (32 bytes, unpadded).
pub const MESSAGE_HASH_LEN: usize = 43;

/// The storage hash of `data` stored for `account` in `namespace`, as a string (the form the
/// node's store keeps). [`MessageHash::compute`] gives the validated type.
pub fn message_hash(account: &AccountId, namespace: Namespace, data: &[u8]) -> String {
    let mut h = Blake2b::<U32>::new();
    // The prefix byte is the first of the 33 account bytes.
    h.update(account.as_bytes());
    h.update(namespace.sig_str().as_bytes());
    h.update(data);
    STANDARD_NO_PAD.encode(h.finalize())
}

/// Whether `hash` has the form the reference accepts for a message hash: exactly 43 characters
/// of the standard base64 alphabet (`is_valid_message_hash`). Trailing bits are not checked.
pub fn is_valid_message_hash(hash: &str) -> bool {
    hash.len() == MESSAGE_HASH_LEN
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// A message hash in its wire form: 43 characters of standard base64.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageHash(String);

/// Why a string is not a [`MessageHash`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid message hash: {0}")]
pub struct BadMessageHash(pub String);

impl MessageHash {
    /// The storage hash of `data` stored for `account` in `namespace`.
    pub fn compute(account: &AccountId, namespace: Namespace, data: &[u8]) -> Self {
        Self(message_hash(account, namespace, data))
    }

    /// The hash as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hash as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl FromStr for MessageHash {
    type Err = BadMessageHash;
    fn from_str(s: &str) -> Result<Self, BadMessageHash> {
        if is_valid_message_hash(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(BadMessageHash(s.to_owned()))
        }
    }
}

impl std::ops::Deref for MessageHash {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for MessageHash {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for MessageHash {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageHash({})", self.0)
    }
}

impl Serialize for MessageHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MessageHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
