//! Typed client requests: parsing from `{"method", "params"}` JSON with the reference node's
//! messages, the bytes each signature covers, the checks a node makes before touching storage,
//! and serialization back to JSON for clients.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::auth::{check_window, Auth};
use crate::err::{Result, RpcError};
use crate::hash::is_valid_message_hash;
use crate::ids::{AccountId, Namespace, NamespaceSelector};
use crate::limits::{
    BATCH_REQUEST_MAX, MAX_MESSAGE_BODY, MAX_MESSAGE_BODY_BASE64, RETRIEVE_DEFAULT_MAX_SIZE,
    RETRIEVE_MAX_SIZE, SIGNATURE_TOLERANCE_MS, STORE_TOLERANCE_MS, TTL_MIN_MS,
};
use crate::params::{check_ms, missing, Params};

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
    pub last_hash: Option<String>,
    /// At most this many messages (0 = unset).
    pub max_count: u64,
    /// Size budget: positive bytes, or −k for a k-th of [`RETRIEVE_MAX_SIZE`] (0 = unset).
    pub max_size: i64,
    /// Signature and its timestamp, when given or required.
    pub auth: Option<(Auth, i64)>,
}

/// `delete`: delete messages by hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delete {
    /// The account.
    pub account: AccountId,
    /// Signature.
    pub auth: Auth,
    /// Hashes to delete (non-empty).
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireMode {
    /// Set as given.
    Set,
    /// Only shorten (`"shorten": true`).
    Shorten,
    /// Only extend (`"extend": true`).
    Extend,
}

impl ExpireMode {
    fn sig_str(self) -> &'static str {
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
    /// Hashes (non-empty).
    pub messages: Vec<String>,
    /// The new expiry, ms.
    pub expiry: i64,
    /// Set, shorten or extend.
    pub mode: ExpireMode,
}

/// `get_expiries`: current expiries of messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetExpiries {
    /// The account.
    pub account: AccountId,
    /// Signature.
    pub auth: Auth,
    /// Hashes (non-empty).
    pub messages: Vec<String>,
    /// Signed timestamp, ms.
    pub timestamp: i64,
}

/// A parsed client request.
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
    /// `batch`: independent subrequests.
    Batch(Vec<Request>),
    /// `sequence`: subrequests that stop at the first failure.
    Sequence(Vec<Request>),
}

impl Request {
    /// Parse a request body `{"method": …, "params": {…}}` (`storage-rpc.md` §1.2).
    pub fn parse(body: &[u8]) -> Result<Self> {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| RpcError::new(400, "invalid json"))?;
        let method = value
            .get("method")
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::new(400, "invalid json: no `method` field"))?;
        let params = value
            .get("params")
            .and_then(Value::as_object)
            .ok_or_else(|| RpcError::new(400, "invalid json: no `params` field"))?;
        Self::parse_method(method, params, true)
    }

    /// Parse one method with its params; `top_level` allows `batch` and `sequence`.
    pub fn parse_method(
        method: &str,
        params: &Map<String, Value>,
        top_level: bool,
    ) -> Result<Self> {
        let p = Params(params);
        Ok(match method {
            "store" => Self::Store(parse_store(p)?),
            "retrieve" => Self::Retrieve(parse_retrieve(p)?),
            "delete" => {
                let account = p.account(false)?;
                let auth = Auth::parse(p, &account)?;
                let messages = hashes(p)?;
                let required = p.bool("required")?.unwrap_or(false);
                Self::Delete(Delete {
                    account,
                    auth,
                    messages,
                    required,
                })
            }
            "delete_all" => Self::DeleteAll(parse_namespace_op(p, "timestamp")?),
            "delete_before" => Self::DeleteBefore(parse_namespace_op(p, "before")?),
            "expire_all" => Self::ExpireAll(parse_namespace_op(p, "expiry")?),
            "expire" => Self::Expire(parse_expire(p)?),
            "get_expiries" => {
                let account = p.account(false)?;
                let auth = Auth::parse(p, &account)?;
                let messages = hashes(p)?;
                let timestamp = p
                    .timestamp("timestamp")?
                    .ok_or_else(|| missing("timestamp"))?;
                Self::GetExpiries(GetExpiries {
                    account,
                    auth,
                    messages,
                    timestamp,
                })
            }
            "get_swarm" | "get_snodes_for_pubkey" => {
                let account = p.account(true).map_err(|e| {
                    if e.body().contains("Pubkey must be") {
                        RpcError::invalid("Pubkey must be 66 hex digits/33 bytes long")
                    } else {
                        e
                    }
                })?;
                Self::GetSwarm(account)
            }
            "info" => Self::Info,
            "batch" | "sequence" if top_level => {
                let subs = parse_batch(params)?;
                if method == "batch" {
                    Self::Batch(subs)
                } else {
                    Self::Sequence(subs)
                }
            }
            "batch" | "sequence" => {
                return Err(RpcError::invalid(
                    "Invalid batch subrequest: subrequests may not contain meta-requests",
                ))
            }
            other => return Err(RpcError::new(400, format!("no method {other}"))),
        })
    }

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
            Self::Info | Self::Batch(_) | Self::Sequence(_) => None,
        }
    }

    /// The bytes the request's signature covers, for signed requests (`storage-rpc.md` §3).
    pub fn signed_message(&self) -> Option<Vec<u8>> {
        let text = match self {
            Self::Store(r) => format!("store{}{}", r.namespace.sig_str(), r.sig_timestamp),
            Self::Retrieve(r) => {
                let (_, ts) = r.auth.as_ref()?;
                format!("retrieve{}{ts}", r.namespace.sig_str())
            }
            Self::Delete(r) => format!("delete{}", r.messages.concat()),
            Self::DeleteAll(r) => format!("delete_all{}{}", r.namespace.sig_str(), r.time),
            Self::DeleteBefore(r) => format!("delete_before{}{}", r.namespace.sig_str(), r.time),
            Self::ExpireAll(r) => format!("expire_all{}{}", r.namespace.sig_str(), r.time),
            Self::Expire(r) => format!(
                "expire{}{}{}",
                r.mode.sig_str(),
                r.expiry,
                r.messages.concat()
            ),
            Self::GetExpiries(r) => format!("get_expiries{}{}", r.timestamp, r.messages.concat()),
            Self::GetSwarm(_) | Self::Info | Self::Batch(_) | Self::Sequence(_) => return None,
        };
        Some(text.into_bytes())
    }

    /// The checks a node makes before storage, in the reference order, except swarm membership
    /// (a `421`, which needs the node's view of the network): TTL and clock rules, presence,
    /// freshness and validity of the signature. `now` is the node's clock in ms.
    pub fn check(&self, now: i64) -> Result<()> {
        let msg = self.signed_message();
        match self {
            Self::Store(r) => {
                let ttl = r.expiry - r.timestamp;
                if ttl < TTL_MIN_MS || ttl > r.namespace.max_ttl_ms() {
                    return Err(RpcError::new(403, "Provided expiry/TTL is not valid."));
                }
                if r.timestamp > now + STORE_TOLERANCE_MS || r.expiry < now - STORE_TOLERANCE_MS {
                    return Err(RpcError::new(406, "Timestamp error: check your clock"));
                }
                if r.namespace.is_public_inbox() && r.auth.is_none() {
                    return Ok(());
                }
                let Some(auth) = &r.auth else {
                    return Err(RpcError::new(
                        401,
                        format!(
                            "store: signature required to store to namespace {}",
                            r.namespace.0
                        ),
                    ));
                };
                check_window(
                    r.sig_timestamp,
                    now,
                    SIGNATURE_TOLERANCE_MS,
                    "store signature timestamp too far from current time",
                )?;
                verified(auth, &r.account, msg, "store signature verification failed")
            }
            Self::Retrieve(r) => {
                let Some((auth, ts)) = &r.auth else {
                    if r.namespace.is_no_auth_retrieve() {
                        return Ok(());
                    }
                    return Err(RpcError::new(401, "retrieve: request signature required"));
                };
                check_window(
                    *ts,
                    now,
                    SIGNATURE_TOLERANCE_MS,
                    "retrieve timestamp too far from current time",
                )?;
                verified(
                    auth,
                    &r.account,
                    msg,
                    "retrieve signature verification failed",
                )
            }
            Self::Delete(r) => verified(
                &r.auth,
                &r.account,
                msg,
                "delete_msgs signature verification failed",
            ),
            Self::DeleteAll(r) => {
                check_window(
                    r.time,
                    now,
                    SIGNATURE_TOLERANCE_MS,
                    "delete_all timestamp too far from current time",
                )?;
                verified(
                    &r.auth,
                    &r.account,
                    msg,
                    "delete_all signature verification failed",
                )
            }
            Self::DeleteBefore(r) => {
                if r.time > now + SIGNATURE_TOLERANCE_MS {
                    return Err(RpcError::new(
                        401,
                        "delete_before timestamp too far in the future",
                    ));
                }
                verified(
                    &r.auth,
                    &r.account,
                    msg,
                    "delete_before signature verification failed",
                )
            }
            Self::ExpireAll(r) => {
                if r.time < now - SIGNATURE_TOLERANCE_MS {
                    return Err(RpcError::new(
                        406,
                        "expire_all timestamp should be >= current time",
                    ));
                }
                verified(
                    &r.auth,
                    &r.account,
                    msg,
                    "expire_all signature verification failed",
                )
            }
            Self::Expire(r) => {
                if r.expiry < now - SIGNATURE_TOLERANCE_MS {
                    return Err(RpcError::new(
                        401,
                        "expire: timestamp should be >= current time",
                    ));
                }
                verified(
                    &r.auth,
                    &r.account,
                    msg,
                    "expire: signature verification failed",
                )
            }
            Self::GetExpiries(r) => {
                check_window(
                    r.timestamp,
                    now,
                    SIGNATURE_TOLERANCE_MS,
                    "get_expiries timestamp too far from current time",
                )?;
                verified(
                    &r.auth,
                    &r.account,
                    msg,
                    "get_expiries signature verification failed",
                )
            }
            Self::GetSwarm(_) | Self::Info | Self::Batch(_) | Self::Sequence(_) => Ok(()),
        }
    }

    /// The request as `{"method", "params"}` JSON, as a client sends it.
    pub fn to_json(&self) -> Value {
        json!({"method": self.method(), "params": self.params_json()})
    }

    fn params_json(&self) -> Value {
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
                put("namespace", json!(r.namespace.0));
                put("last_hash", json!(r.last_hash.clone().unwrap_or_default()));
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
                let ns = match r.namespace {
                    NamespaceSelector::All => json!("all"),
                    NamespaceSelector::One(ns) => json!(ns.0),
                };
                put("namespace", ns);
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
                put("expiry", json!(r.expiry));
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
        }
        Value::Object(p)
    }
}

impl Retrieve {
    /// The byte budget this retrieve asks for ([`RETRIEVE_MAX_SIZE`] at most; a fifth of it
    /// when neither `max_count` nor `max_size` is given).
    pub fn size_budget(&self) -> usize {
        let max_size = if self.max_count == 0 && self.max_size == 0 {
            RETRIEVE_DEFAULT_MAX_SIZE
        } else {
            self.max_size
        };
        match max_size {
            0 => RETRIEVE_MAX_SIZE,
            k if k < 0 => RETRIEVE_MAX_SIZE / usize::try_from(k.unsigned_abs()).unwrap_or(1),
            bytes => usize::try_from(bytes).map_or(RETRIEVE_MAX_SIZE, |b| b.min(RETRIEVE_MAX_SIZE)),
        }
    }
}

fn verified(auth: &Auth, account: &AccountId, msg: Option<Vec<u8>>, fail: &str) -> Result<()> {
    match msg {
        Some(msg) if auth.verify(account, &msg) => Ok(()),
        _ => Err(RpcError::new(401, fail)),
    }
}

fn parse_store(p: Params<'_>) -> Result<Store> {
    let timestamp = p
        .stringified("timestamp", false)?
        .ok_or_else(|| missing("timestamp"))?;
    let expiry = p.timestamp("expiry")?;
    let ttl = p.stringified("ttl", true)?;
    let expiry = match (expiry, ttl) {
        (Some(_), Some(_)) => {
            return Err(RpcError::invalid("Cannot specify both 'expiry' and 'ttl'"))
        }
        (Some(e), None) => e,
        (None, Some(ttl)) => timestamp.saturating_add(ttl),
        (None, None) => {
            return Err(RpcError::invalid(
                "Required field 'expiry' or 'ttl' missing",
            ))
        }
    };
    let account = p.account(true)?;
    let namespace = p.namespace("namespace")?.unwrap_or_default();
    let sig_timestamp = p.timestamp("sig_timestamp")?;
    let auth = if p.has("signature") {
        Some(Auth::parse(p, &account)?)
    } else {
        None
    };
    let data = p.string("data")?.ok_or_else(|| missing("data"))?;
    if data.len() > MAX_MESSAGE_BODY_BASE64 {
        return Err(RpcError::invalid(format!(
            "Message body exceeds maximum allowed length of {MAX_MESSAGE_BODY} bytes"
        )));
    }
    let data = STANDARD
        .decode(data)
        .map_err(|_| RpcError::invalid("Invalid 'data' value: not base64 encoded"))?;
    Ok(Store {
        account,
        namespace,
        timestamp,
        expiry,
        data,
        auth,
        sig_timestamp: sig_timestamp.unwrap_or(timestamp),
    })
}

fn parse_retrieve(p: Params<'_>) -> Result<Retrieve> {
    let account = p.account(true)?;
    let namespace = p.namespace("namespace")?.unwrap_or_default();
    // A missing signature is not a parse error: `check` answers 401 where one is required
    // (storage-rpc.md §3.2), so a batch reports it per subrequest.
    let auth = if p.has("signature") {
        let auth = Auth::parse(p, &account)?;
        let ts = p
            .timestamp("timestamp")?
            .ok_or_else(|| missing("timestamp"))?;
        Some((auth, ts))
    } else {
        // Still validate what was given.
        p.timestamp("timestamp")?;
        None
    };
    let last_hash = match (p.string("last_hash")?, p.string("lastHash")?) {
        (Some(_), Some(_)) => {
            return Err(RpcError::invalid(
                "Cannot specify both 'last_hash' and 'lastHash'",
            ))
        }
        (a, b) => a.or(b),
    };
    let last_hash = match last_hash {
        None | Some("") => None,
        Some(h) if h.len() == 43 => {
            if !is_valid_message_hash(h) {
                return Err(RpcError::invalid("Invalid last_hash: not base64"));
            }
            Some(h.to_owned())
        }
        Some(_) => {
            return Err(RpcError::invalid(
                "Invalid last_hash: expected base64 (43 chars)",
            ))
        }
    };
    let max_count = p.unsigned("max_count")?.unwrap_or(0);
    let max_size: i64 = p.stringified("max_size", false)?.unwrap_or_default();
    Ok(Retrieve {
        account,
        namespace,
        last_hash,
        max_count,
        max_size,
        auth,
    })
}

fn hashes(p: Params<'_>) -> Result<Vec<String>> {
    let messages = p.strings("messages")?.ok_or_else(|| missing("messages"))?;
    if messages.is_empty() {
        return Err(RpcError::invalid(
            "messages does not contain any message hashes",
        ));
    }
    if let Some(bad) = messages.iter().find(|m| !is_valid_message_hash(m)) {
        return Err(RpcError::invalid(format!("invalid message hash: {bad}")));
    }
    Ok(messages)
}

fn parse_namespace_op(p: Params<'_>, time_field: &str) -> Result<NamespaceOp> {
    let account = p.account(false)?;
    let auth = Auth::parse(p, &account)?;
    let time = p
        .timestamp(time_field)?
        .ok_or_else(|| missing(time_field))?;
    let namespace = p
        .namespace_or_all("namespace")?
        .unwrap_or(NamespaceSelector::One(Namespace::DEFAULT));
    Ok(NamespaceOp {
        account,
        auth,
        namespace,
        time,
    })
}

fn parse_expire(p: Params<'_>) -> Result<Expire> {
    let account = p.account(false)?;
    let auth = Auth::parse(p, &account)?;
    let messages = hashes(p)?;
    let expiry = match p.0.get("expiry") {
        Some(Value::Array(_)) => {
            // Per-message expiries need network version 19.4 (storage-rpc.md §3.7).
            return Err(RpcError::new(
                403,
                "expire: per-message expiries are not supported by this node",
            ));
        }
        _ => p.timestamp("expiry")?.ok_or_else(|| missing("expiry"))?,
    };
    let mode = match (
        p.bool("shorten")?.unwrap_or(false),
        p.bool("extend")?.unwrap_or(false),
    ) {
        (true, true) => {
            return Err(RpcError::invalid(
                "cannot specify both 'shorten' and 'extend'",
            ))
        }
        (true, false) => ExpireMode::Shorten,
        (false, true) => ExpireMode::Extend,
        (false, false) => ExpireMode::Set,
    };
    check_ms("expiry", expiry)?;
    Ok(Expire {
        account,
        auth,
        messages,
        expiry,
        mode,
    })
}

fn parse_batch(params: &Map<String, Value>) -> Result<Vec<Request>> {
    let requests = params
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| RpcError::invalid("Invalid batch request: no valid \"requests\" field"))?;
    if requests.len() > BATCH_REQUEST_MAX {
        return Err(RpcError::invalid(
            "Invalid batch request: subrequest limit exceeded",
        ));
    }
    requests
        .iter()
        .map(|sub| {
            let sub = sub.as_object().ok_or_else(|| {
                RpcError::invalid("Invalid batch request: requests must be objects")
            })?;
            let (Some(method), Some(params)) = (
                sub.get("method").and_then(Value::as_str),
                sub.get("params").and_then(Value::as_object),
            ) else {
                return Err(RpcError::invalid(
                    "Invalid batch request: subrequests must have method/params keys",
                ));
            };
            match Request::parse_method(method, params, false) {
                Err(e) if e.body() == format!("no method {method}") => Err(RpcError::invalid(
                    format!("Invalid batch subrequest: invalid method \"{method}\""),
                )),
                other => other,
            }
        })
        .collect()
}
