//! Typed client requests: what each method carries, the bytes its signature covers, and its
//! JSON form as a client sends it. Parsing is in `parse.rs`, the node's checks in `check.rs`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::auth::Auth;
use crate::hash::MessageHash;
use crate::ids::{AccountId, Namespace, NamespaceSelector};
use crate::limits::{RETRIEVE_DEFAULT_MAX_SIZE, RETRIEVE_MAX_SIZE};
use crate::sig;

/// `store`: deposit a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    /// The recipient account.
    pub account: AccountId,
    /// Target namespace (default 0).
    pub namespace: Namespace,
    /// The client's store timestamp, ms.
    pub timestamp: i64,
    /// Expiry, ms (from `expiry`, or `timestamp + ttl`).
    pub expiry: i64,
    /// The raw message data.
    pub data: Vec<u8>,
    /// Signature, required outside public-inbox namespaces.
    pub auth: Option<Auth>,
    /// The signed timestamp (`sig_timestamp`, default `timestamp`).
    pub sig_timestamp: i64,
}

/// `retrieve`: read messages after `last_hash`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retrieve {
    /// The account.
    pub account: AccountId,
    /// Namespace (default 0).
    pub namespace: Namespace,
    /// Continue after this message (`None`: from the start).
    pub last_hash: Option<MessageHash>,
    /// At most this many messages (0 = unset; a negative request value counts as unset).
    pub max_count: u64,
    /// Size budget: positive bytes, or −k for a k-th of [`RETRIEVE_MAX_SIZE`] (0 = unset).
    pub max_size: i64,
    /// Signature and its timestamp (ms), when given or required.
    pub auth: Option<(Auth, i64)>,
}

/// `delete`: delete messages by hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delete {
    /// The account.
    pub account: AccountId,
    /// Signature.
    pub auth: Auth,
    /// Hashes to delete: non-empty, each a valid [`MessageHash`] string, in request order.
    pub messages: Vec<String>,
    /// Answer 404 if nothing was deleted anywhere.
    pub required: bool,
}

/// `delete_all`, `delete_before` and `expire_all`: one operation on a namespace (or all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceOp {
    /// The account.
    pub account: AccountId,
    /// Signature.
    pub auth: Auth,
    /// Which namespaces (default 0).
    pub namespace: NamespaceSelector,
    /// `timestamp` (delete_all), `before` (delete_before) or `expiry` (expire_all), ms.
    pub time: i64,
}

/// How `expire` may move expiries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpireMode {
    /// Set as given.
    Set,
    /// Only shorten (`"shorten": true`).
    Shorten,
    /// Only extend (`"extend": true`).
    Extend,
}

impl ExpireMode {
    /// The word the signature covers: "", `shorten` or `extend`.
    pub fn sig_str(self) -> &'static str {
        match self {
            Self::Set => "",
            Self::Shorten => "shorten",
            Self::Extend => "extend",
        }
    }
}

/// `expire`: change the expiry of messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expire {
    /// The account.
    pub account: AccountId,
    /// Signature.
    pub auth: Auth,
    /// Hashes: non-empty, each a valid [`MessageHash`] string, in request order.
    pub messages: Vec<String>,
    /// The new expiry, ms; with per-message expiries, the first message's.
    pub expiry: i64,
    /// Per-message expiries for messages 2‥n, when the request gave a list as long as
    /// `messages` (network version 19.4; [`Request::check`] answers 403 for these). Empty for
    /// the usual single expiry.
    pub more_expiries: Vec<i64>,
    /// Set, shorten or extend.
    pub mode: ExpireMode,
}

impl Expire {
    /// Every expiry as the request gave it: one, or one per message.
    pub fn expiries(&self) -> Vec<i64> {
        std::iter::once(self.expiry)
            .chain(self.more_expiries.iter().copied())
            .collect()
    }
}

/// `get_expiries`: current expiries of messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetExpiries {
    /// The account.
    pub account: AccountId,
    /// Signature.
    pub auth: Auth,
    /// Hashes (non-empty; the reference does not check their form here).
    pub messages: Vec<String>,
    /// Signed timestamp, ms.
    pub timestamp: i64,
}

/// A parsed client request.
///
/// Not (yet) supported, answered `no method <name>`: `ifelse`,
/// `revoke_subaccount`, `unrevoke_subaccount`. Subaccount signatures are not read: a request
/// signed by a subaccount fails verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `store`.
    Store(Store),
    /// `retrieve`.
    Retrieve(Retrieve),
    /// `delete`.
    Delete(Delete),
    /// `delete_all`.
    DeleteAll(NamespaceOp),
    /// `delete_before`.
    DeleteBefore(NamespaceOp),
    /// `expire_all`.
    ExpireAll(NamespaceOp),
    /// `expire`.
    Expire(Expire),
    /// `get_expiries`.
    GetExpiries(GetExpiries),
    /// `get_swarm` (alias `get_snodes_for_pubkey`).
    GetSwarm(AccountId),
    /// `info`.
    Info,
    /// `oxend_request` for `get_service_nodes`: the node list, as the node knows it, with the
    /// fields asked for (`storage-rpc.md` §3.10; clients refresh their pool this way).
    GetServiceNodes {
        /// The fields wanted (`fields: {name: true}`); empty means all.
        fields: Vec<String>,
    },
    /// `batch`: 1–20 independent subrequests.
    Batch(Vec<Request>),
    /// `sequence`: 1–20 subrequests that stop at the first failure.
    Sequence(Vec<Request>),
}

impl Request {
    /// The method name.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Store(_) => "store",
            Self::Retrieve(_) => "retrieve",
            Self::Delete(_) => "delete",
            Self::DeleteAll(_) => "delete_all",
            Self::DeleteBefore(_) => "delete_before",
            Self::ExpireAll(_) => "expire_all",
            Self::Expire(_) => "expire",
            Self::GetExpiries(_) => "get_expiries",
            Self::GetSwarm(_) => "get_swarm",
            Self::Info => "info",
            Self::GetServiceNodes { .. } => "oxend_request",
            Self::Batch(_) => "batch",
            Self::Sequence(_) => "sequence",
        }
    }

    /// The account a request is about, if any.
    pub fn account(&self) -> Option<&AccountId> {
        match self {
            Self::Store(r) => Some(&r.account),
            Self::Retrieve(r) => Some(&r.account),
            Self::Delete(r) => Some(&r.account),
            Self::DeleteAll(r) | Self::DeleteBefore(r) | Self::ExpireAll(r) => Some(&r.account),
            Self::Expire(r) => Some(&r.account),
            Self::GetExpiries(r) => Some(&r.account),
            Self::GetSwarm(a) => Some(a),
            Self::Info | Self::GetServiceNodes { .. } | Self::Batch(_) | Self::Sequence(_) => None,
        }
    }

    /// The bytes the request's signature covers (see [`crate::sig`]): for signed methods, and
    /// for `store`/`retrieve` only when they carry a signature.
    pub fn signed_message(&self) -> Option<Vec<u8>> {
        Some(match self {
            Self::Store(r) => {
                r.auth.as_ref()?;
                sig::store(r.namespace, r.sig_timestamp)
            }
            Self::Retrieve(r) => {
                let (_, ts) = r.auth.as_ref()?;
                sig::retrieve(r.namespace, *ts)
            }
            Self::Delete(r) => sig::delete(&r.messages),
            Self::DeleteAll(r) => sig::delete_all(r.namespace, r.time),
            Self::DeleteBefore(r) => sig::delete_before(r.namespace, r.time),
            Self::ExpireAll(r) => sig::expire_all(r.namespace, r.time),
            Self::Expire(r) => sig::expire(r.mode, &r.expiries(), &r.messages),
            Self::GetExpiries(r) => sig::get_expiries(r.timestamp, &r.messages),
            Self::GetSwarm(_)
            | Self::Info
            | Self::GetServiceNodes { .. }
            | Self::Batch(_)
            | Self::Sequence(_) => return None,
        })
    }

    /// The request as `{"method", "params"}` JSON, as a client sends it.
    pub fn to_json(&self) -> Value {
        json!({"method": self.method(), "params": self.params_json()})
    }

    /// The `params` object alone.
    pub fn params_json(&self) -> Value {
        let mut p = Map::new();
        let mut put = |k: &str, v: Value| {
            p.insert(k.to_owned(), v);
        };
        if let Some(account) = self.account() {
            put("pubkey", json!(account.to_string()));
        }
        let auth_fields = |put: &mut dyn FnMut(&str, Value), auth: &Auth| {
            put("signature", json!(auth.signature_base64()));
            if let Some(ed) = auth.pubkey_ed25519 {
                put("pubkey_ed25519", json!(hex::encode(ed)));
            }
        };
        match self {
            Self::Store(r) => {
                put("namespace", json!(r.namespace.0));
                put("timestamp", json!(r.timestamp));
                put("expiry", json!(r.expiry));
                put("data", json!(STANDARD.encode(&r.data)));
                if let Some(auth) = &r.auth {
                    auth_fields(&mut put, auth);
                    put("sig_timestamp", json!(r.sig_timestamp));
                }
            }
            Self::Retrieve(r) => {
                // An explicit namespace other than the no-auth ones demands a signature, so
                // leave out the default, as clients do.
                if r.namespace != Namespace::DEFAULT {
                    put("namespace", json!(r.namespace.0));
                }
                put(
                    "last_hash",
                    json!(r.last_hash.as_ref().map_or("", |h| h.as_str())),
                );
                if r.max_count > 0 {
                    put("max_count", json!(r.max_count));
                }
                if r.max_size != 0 {
                    put("max_size", json!(r.max_size));
                }
                if let Some((auth, ts)) = &r.auth {
                    auth_fields(&mut put, auth);
                    put("timestamp", json!(ts));
                }
            }
            Self::Delete(r) => {
                auth_fields(&mut put, &r.auth);
                put("messages", json!(r.messages));
                if r.required {
                    put("required", json!(true));
                }
            }
            Self::DeleteAll(r) | Self::DeleteBefore(r) | Self::ExpireAll(r) => {
                auth_fields(&mut put, &r.auth);
                put("namespace", json!(r.namespace));
                let key = match self {
                    Self::DeleteAll(_) => "timestamp",
                    Self::DeleteBefore(_) => "before",
                    _ => "expiry",
                };
                put(key, json!(r.time));
            }
            Self::Expire(r) => {
                auth_fields(&mut put, &r.auth);
                put("messages", json!(r.messages));
                if r.more_expiries.is_empty() {
                    put("expiry", json!(r.expiry));
                } else {
                    put("expiry", json!(r.expiries()));
                }
                match r.mode {
                    ExpireMode::Set => {}
                    ExpireMode::Shorten => put("shorten", json!(true)),
                    ExpireMode::Extend => put("extend", json!(true)),
                }
            }
            Self::GetExpiries(r) => {
                auth_fields(&mut put, &r.auth);
                put("messages", json!(r.messages));
                put("timestamp", json!(r.timestamp));
            }
            Self::Batch(subs) | Self::Sequence(subs) => {
                put(
                    "requests",
                    Value::Array(subs.iter().map(Self::to_json).collect()),
                );
            }
            Self::GetSwarm(_) | Self::Info => {}
            Self::GetServiceNodes { fields } => {
                put("endpoint", json!("get_service_nodes"));
                let wanted: Map<String, Value> =
                    fields.iter().map(|f| (f.clone(), json!(true))).collect();
                put("params", json!({ "fields": wanted }));
            }
        }
        Value::Object(p)
    }
}

impl Retrieve {
    /// The byte budget this retrieve asks for ([`RETRIEVE_MAX_SIZE`] at most; a fifth of it
    /// when neither `max_count` nor `max_size` is given), as `request_handler.cpp` computes it.
    pub fn size_budget(&self) -> usize {
        let max_size = if self.max_count == 0 && self.max_size == 0 {
            RETRIEVE_DEFAULT_MAX_SIZE
        } else {
            self.max_size
        };
        match max_size {
            0 => RETRIEVE_MAX_SIZE,
            k if k < 0 => usize::try_from(k.unsigned_abs())
                .map_or(0, |k| RETRIEVE_MAX_SIZE.checked_div(k).unwrap_or(0)),
            bytes => usize::try_from(bytes).map_or(RETRIEVE_MAX_SIZE, |b| b.min(RETRIEVE_MAX_SIZE)),
        }
    }
}
