//! Typed success responses with the reference's field names (`request_handler.cpp`;
//! `storage-rpc.md` §3). A node serializes them, a client deserializes them. Errors are plain
//! text with a status ([`crate::RpcError`]).
//!
//! `t` (node clock, ms) and `hf` (network version `[major, minor]`) are added to most replies by
//! `add_misc_response_fields`; they are optional here because `get_expiries` and forwarded
//! swarm members omit them.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::auth::LENIENT_BASE64;

/// Bytes as standard base64 (padded out, padding optional in).
mod b64 {
    use super::*;

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        LENIENT_BASE64
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// A 64-byte signature as standard base64.
mod b64_sig {
    use super::*;

    pub(super) fn serialize<S: Serializer>(sig: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(sig))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        crate::auth::decode_signature(&s).map_err(|e| serde::de::Error::custom(e.body().to_owned()))
    }
}

/// The network version a node reports in `hf`: `[major, minor]`.
pub type NetworkVersion = [u16; 2];

/// One swarm member's part of a recursive reply (`swarm[<node ed25519 hex>]`): its result, or
/// why it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Member<T> {
    /// The member failed (`"failed": true`).
    Failed(MemberFailure),
    /// The member's result.
    Ok(T),
}

/// A failed swarm member (`reply_or_fail`, `distribute_command`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFailure {
    /// Always `true`.
    pub failed: bool,
    /// The peer did not answer in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<bool>,
    /// The peer's error status, as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The peer's error text, or this node's storage error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The peer's answer could not be parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_peer_response: Option<bool>,
    /// The member's database refused the operation (e.g. full).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_failure: Option<bool>,
}

/// A recursive reply: every swarm member's result keyed by its Ed25519 key (hex). Overall status
/// is 200 unless every member failed (500).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwarmReply<T> {
    /// Member results.
    pub swarm: BTreeMap<String, Member<T>>,
    /// `store` only: the message hash, repeated at top level for old clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Node clock, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<i64>,
    /// Network version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hf: Option<NetworkVersion>,
}

/// A member's `store` result. `signature` is by the member over the `hash` string
/// ([`crate::sig::store_reply`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// The message hash.
    pub hash: String,
    /// The member's signature.
    #[serde(with = "b64_sig")]
    pub signature: [u8; 64],
    /// The message's expiry on this member, ms (a duplicate may have kept a later one).
    pub expiry: i64,
    /// `true` if the message was already stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already: Option<bool>,
    /// The entry node's clock (deprecated placement, kept for compatibility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<i64>,
}

/// A member's `delete` result; signature over [`crate::sig::delete_reply`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    /// Hashes actually deleted, sorted.
    pub deleted: Vec<String>,
    /// The member's signature.
    #[serde(with = "b64_sig")]
    pub signature: [u8; 64],
}

/// Hashes affected by `delete_all`, `delete_before` or `expire_all`: a sorted list for one
/// namespace, or sorted lists keyed by namespace (decimal) for `"all"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Affected {
    /// One namespace.
    One(Vec<String>),
    /// Every namespace.
    All(BTreeMap<String, Vec<String>>),
}

impl Affected {
    /// Every hash, totally sorted: what the member's signature covers.
    pub fn sorted(&self) -> Vec<&str> {
        let mut all: Vec<&str> = match self {
            Self::One(h) => h.iter().map(String::as_str).collect(),
            Self::All(m) => m.values().flatten().map(String::as_str).collect(),
        };
        all.sort_unstable();
        all
    }
}

/// A member's `delete_all` / `delete_before` result; signature over
/// [`crate::sig::namespace_op_reply`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedAll {
    /// What was deleted.
    pub deleted: Affected,
    /// The member's signature.
    #[serde(with = "b64_sig")]
    pub signature: [u8; 64],
}

/// A member's `expire_all` result; signature over [`crate::sig::namespace_op_reply`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiredAll {
    /// What was shortened.
    pub updated: Affected,
    /// The member's signature.
    #[serde(with = "b64_sig")]
    pub signature: [u8; 64],
}

/// The `expiry` of an `expire` result: the applied expiry, or one per updated message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AppliedExpiry {
    /// The single (capped) expiry applied.
    One(i64),
    /// Per-message expiries, matching `updated`.
    PerMessage(Vec<i64>),
}

/// A member's `expire` result; signature over [`crate::sig::expire_reply`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expired {
    /// Hashes whose expiry changed, sorted.
    pub updated: Vec<String>,
    /// The expiry applied.
    pub expiry: AppliedExpiry,
    /// With `shorten`/`extend`: current expiries of requested messages left unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchanged: Option<BTreeMap<String, i64>>,
    /// The member's signature.
    #[serde(with = "b64_sig")]
    pub signature: [u8; 64],
}

/// One retrieved message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrievedMessage {
    /// Its hash.
    pub hash: String,
    /// When it was stored (the store request's timestamp), ms.
    pub timestamp: i64,
    /// When it expires, ms (`expiration`, not `expiry`).
    pub expiration: i64,
    /// The message data.
    #[serde(with = "b64")]
    pub data: Vec<u8>,
}

/// The `retrieve` reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retrieved {
    /// Messages after `last_hash`, in storage order.
    pub messages: Vec<RetrievedMessage>,
    /// More messages are waiting.
    pub more: bool,
    /// Node clock, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<i64>,
    /// Network version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hf: Option<NetworkVersion>,
}

/// The `get_expiries` reply: expiries (ms) of the requested messages that exist. No `t`/`hf`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiries {
    /// Hash → expiry, ms.
    pub expiries: BTreeMap<String, i64>,
}

/// One node in a `get_swarm` reply (`swarm_to_json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwarmNode {
    /// `<base32z of the legacy key>.snode` (deprecated).
    pub address: String,
    /// Legacy (oxend) public key, hex.
    pub pubkey_legacy: String,
    /// X25519 key, hex (onion requests).
    pub pubkey_x25519: String,
    /// Ed25519 key, hex (reply signatures, QUIC).
    pub pubkey_ed25519: String,
    /// HTTPS port as a string (deprecated).
    pub port: String,
    /// HTTPS port.
    pub port_https: u16,
    /// OxenMQ port.
    pub port_omq: u16,
    /// QUIC port (the same as `port_omq`).
    pub port_quic: u16,
    /// Public IPv4 address.
    pub ip: String,
}

/// Swarm ID reported when the node knows no swarm for the account (`INVALID_SWARM_ID`).
pub const NO_SWARM: &str = "ffffffffffffffff";

/// The `get_swarm` reply, also the body of every `421`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Swarm {
    /// The swarm's nodes.
    pub snodes: Vec<SwarmNode>,
    /// Swarm ID, lowercase hex without leading zeros ([`NO_SWARM`] if none).
    pub swarm: String,
    /// Node clock, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<i64>,
    /// Network version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hf: Option<NetworkVersion>,
}

/// The `info` reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// Storage-server version, `[major, minor, patch]`.
    pub version: [u16; 3],
    /// Node clock, ms.
    pub timestamp: i64,
    /// Node clock, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<i64>,
    /// Network version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hf: Option<NetworkVersion>,
}

/// One result of a `batch` or `sequence`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubResult {
    /// The subrequest's HTTP status.
    pub code: u16,
    /// Its JSON body, or its text body as a JSON string.
    pub body: serde_json::Value,
}

/// The `batch` / `sequence` reply (always 200): results in request order; a sequence stops
/// after the first non-2xx result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResults {
    /// The results.
    pub results: Vec<SubResult>,
}
