//! The storage RPC engine, independent of any transport: a request body in, a status and body
//! out. HTTPS is a thin shell over [`Node::handle`]; QUIC or OxenMQ would be another.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use sotto_rpc::limits::TTL_MAX_PRIVATE_MS;
use sotto_rpc::{message_hash, Namespace, NamespaceSelector, Request, RpcError};

use crate::keys::NodeKeys;
use crate::store::{AccountKey, ExpireMode, RetrieveLimits, Store, StoredMessage};
use crate::swarm::SwarmView;

/// The storage-server version we are compatible with, as `info` reports it.
pub const COMPAT_VERSION: [u32; 3] = [2, 8, 0];
/// The network version (hard fork) whose RPC we implement: per-message expiry lists need 19.4.
pub const NETWORK_VERSION: [u32; 2] = [19, 3];
/// Swarm ID reported in standalone mode, where one swarm holds every account.
pub const STANDALONE_SWARM: u64 = 0;

/// An answer: status and JSON or plain-text body.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Body,
}

/// A reply body.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// `application/json`.
    Json(Value),
    /// `application/json`: a retrieve's page, kept typed so that the hot path serializes it
    /// straight to bytes instead of building a `Value` tree first.
    Page(RetrievePage),
    /// `text/plain`.
    Text(String),
}

impl Body {
    /// The body as a JSON value: JSON as it is, text as a string (a batch subresult's `body`).
    pub fn into_value(self) -> Value {
        match self {
            Self::Json(v) => v,
            Self::Page(p) => p.to_value(),
            Self::Text(t) => Value::String(t),
        }
    }
}

/// A retrieve's answer: `{"hf", "messages": [{"data", "expiration", "hash", "timestamp"}],
/// "more", "t"}`, with the fields in the sorted order a `serde_json::Value` object gives them,
/// so the bytes are those of the `Value` form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrievePage {
    /// The messages, oldest first.
    pub messages: Vec<StoredMessage>,
    /// Whether more messages are waiting after these.
    pub more: bool,
    /// Node time, ms.
    pub t: i64,
}

impl RetrievePage {
    /// The page as a JSON value (batches and onion replies embed it in a larger reply).
    pub fn to_value(&self) -> Value {
        let messages: Vec<Value> = self
            .messages
            .iter()
            .map(|m| {
                json!({"hash": m.hash, "timestamp": m.timestamp,
                       "expiration": m.expiry, "data": STANDARD.encode(&m.data)})
            })
            .collect();
        json!({"hf": NETWORK_VERSION, "messages": messages, "more": self.more, "t": self.t})
    }

    /// The page as JSON bytes, written once into a buffer sized for it.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Per message: the data as base64 plus the keys, the hash and two timestamps.
        let estimate = 64
            + self
                .messages
                .iter()
                .map(|m| 100 + m.hash.len() + m.data.len().div_ceil(3) * 4)
                .sum::<usize>();
        let mut out = Vec::with_capacity(estimate);
        // The bytes of `to_value`'s JSON (a test holds them equal), written directly:
        // base64 never needs JSON escaping, so the data (most of the reply) is encoded straight
        // into the buffer instead of being scanned for escapes on the way. Writing into a Vec
        // cannot fail.
        out.extend_from_slice(b"{\"hf\":");
        put_json(&mut out, &NETWORK_VERSION);
        out.extend_from_slice(b",\"messages\":[");
        for (i, m) in self.messages.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"data\":\"");
            let start = out.len();
            out.resize(
                start + base64::encoded_len(m.data.len(), true).unwrap_or(0),
                0,
            );
            let written = STANDARD
                .encode_slice(&m.data, out.get_mut(start..).unwrap_or_default())
                .unwrap_or(0);
            out.truncate(start + written);
            out.extend_from_slice(b"\",\"expiration\":");
            put_json(&mut out, &m.expiry);
            out.extend_from_slice(b",\"hash\":");
            put_json(&mut out, &m.hash);
            out.extend_from_slice(b",\"timestamp\":");
            put_json(&mut out, &m.timestamp);
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"more\":");
        put_json(&mut out, &self.more);
        out.extend_from_slice(b",\"t\":");
        put_json(&mut out, &self.t);
        out.push(b'}');
        out
    }
}

/// Append `v` as serde_json writes it (numbers; strings with their escapes).
fn put_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    // Writing these into a Vec cannot fail.
    let _ = serde_json::to_writer(out, v);
}

impl Reply {
    fn json(status: u16, value: Value) -> Self {
        Self {
            status,
            body: Body::Json(value),
        }
    }

    /// The reply for a refused request: its status and plain-text reason.
    pub(crate) fn error(err: &RpcError) -> Self {
        Self {
            status: err.status(),
            body: Body::Text(err.body().to_owned()),
        }
    }

    /// `{"code", "body"}` as a batch result.
    fn into_subresult(self) -> Value {
        json!({"code": self.status, "body": self.body.into_value()})
    }
}

/// A storage node: keys, storage and its place in the network.
pub struct Node {
    keys: NodeKeys,
    store: Mutex<Store>,
    /// Read-only connections for retrieves and lookups; empty means reads use `store`.
    readers: Mutex<Vec<Store>>,
    view: RwLock<Arc<SwarmView>>,
    /// Woken when an account receives a message (for waiting retrieves).
    waiters: Mutex<HashMap<AccountKey, Arc<tokio::sync::Notify>>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl Node {
    /// A node over `store`, seeing the network as `view`.
    pub fn new(keys: NodeKeys, store: Store, view: SwarmView) -> Self {
        Self {
            keys,
            store: Mutex::new(store),
            readers: Mutex::new(Vec::new()),
            view: RwLock::new(Arc::new(view)),
            waiters: Mutex::new(HashMap::new()),
        }
    }

    /// What wakes a retrieve waiting for `account`'s next message.
    pub fn waiter(&self, account: &AccountKey) -> Arc<tokio::sync::Notify> {
        let mut waiters = self
            .waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget accounts nobody waits for any more, so the map stays small.
        if waiters.len() > 1024 {
            waiters.retain(|_, n| Arc::strong_count(n) > 1);
        }
        Arc::clone(waiters.entry(*account).or_default())
    }

    /// Wake whoever waits for `account`.
    fn wake(&self, account: &AccountKey) {
        let waiters = self
            .waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = waiters.get(account) {
            n.notify_waiters();
        }
    }

    /// The current swarm view.
    pub fn view(&self) -> Arc<SwarmView> {
        Arc::clone(
            &self
                .view
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Replace the swarm view (after a registry update).
    pub fn set_view(&self, view: SwarmView) {
        *self
            .view
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(view);
    }

    /// The node's keys.
    pub fn keys(&self) -> &NodeKeys {
        &self.keys
    }

    /// Run `f` on the store. A panic in another request cannot have left the store inconsistent
    /// (every write is one transaction), so a poisoned lock is taken over.
    pub fn with_store<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        let guard = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&guard)
    }

    /// Give the node read-only connections ([`Store::open_reader`]) for its reads.
    #[must_use]
    pub fn with_readers(self, readers: Vec<Store>) -> Self {
        *self
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = readers;
        self
    }

    /// Run the read-only `f` on a reader connection, or on the writer's when every reader is
    /// busy (or there are none).
    pub fn with_reader<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        let lock = || {
            self.readers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let Some(reader) = lock().pop() else {
            return self.with_store(f);
        };
        let out = f(&reader);
        lock().push(reader);
        out
    }

    /// Handle a parsed request at node time `now` (ms).
    pub fn handle_request(&self, req: &Request, now: i64) -> Reply {
        self.dispatch(req, now)
    }

    /// Handle a `/storage_rpc/v1` body at node time `now` (ms).
    pub fn handle(&self, body: &[u8], now: i64) -> Reply {
        match Request::parse(body) {
            Ok(req) => self.dispatch(&req, now),
            Err(e) => Reply::error(&e),
        }
    }

    fn dispatch(&self, req: &Request, now: i64) -> Reply {
        match req {
            Request::Batch(subs) => {
                let results: Vec<Value> = subs
                    .iter()
                    .map(|r| self.dispatch(r, now).into_subresult())
                    .collect();
                Reply::json(200, json!({"results": results}))
            }
            Request::Sequence(subs) => {
                let mut results = Vec::new();
                for sub in subs {
                    let reply = self.dispatch(sub, now);
                    let ok = (200..300).contains(&reply.status);
                    results.push(reply.into_subresult());
                    if !ok {
                        break;
                    }
                }
                Reply::json(200, json!({"results": results}))
            }
            single => match self
                .check_owner(single, now)
                .and_then(|()| single.check(now).map_err(|e| Reply::error(&e)))
                .and_then(|()| self.execute(single, now).map_err(|e| Reply::error(&e)))
            {
                Ok(reply) | Err(reply) => reply,
            },
        }
    }

    /// The first check of every account request (`storage-rpc.md` §3.1 step 1): an account of
    /// another swarm gets `421` with that swarm's members. `get_swarm` is answered for any account.
    fn check_owner(&self, req: &Request, now: i64) -> Result<(), Reply> {
        let Some(account) = req.account() else {
            return Ok(());
        };
        if matches!(req, Request::GetSwarm(_)) {
            return Ok(());
        }
        let view = self.view();
        if view.owns(account) {
            Ok(())
        } else {
            Err(with_misc(421, view.swarm_json(account), now))
        }
    }

    fn sign_b64(&self, msg: &str) -> String {
        STANDARD.encode(self.keys.sign(msg.as_bytes()))
    }

    /// `{"swarm": {me: entry}}` plus the misc fields.
    fn swarm_reply(&self, status: u16, entry: Value, now: i64) -> Reply {
        let mut swarm = Map::new();
        swarm.insert(self.keys.ed25519().to_hex(), entry);
        with_misc(status, json!({"swarm": swarm}), now)
    }

    fn execute(&self, req: &Request, now: i64) -> Result<Reply, RpcError> {
        let db = |e: crate::Error| match e {
            crate::Error::StorageFull { .. } => RpcError::new(507, "Insufficient storage"),
            other => {
                tracing::error!(error = %other, "storage failure");
                RpcError::new(500, "request failed")
            }
        };
        match req {
            Request::Store(r) => {
                let hash = message_hash(&r.account, r.namespace, &r.data);
                let outcome = self
                    .with_store(|s| {
                        if r.namespace.is_public_outbox() {
                            // A public outbox holds only the owner's latest message.
                            s.delete_all(r.account.as_bytes(), Some(r.namespace.0), None)?;
                        }
                        s.store(
                            r.account.as_bytes(),
                            r.namespace.0,
                            &hash,
                            r.timestamp,
                            r.expiry,
                            &r.data,
                        )
                    })
                    .map_err(db)?;
                let mut entry = json!({
                    "hash": hash,
                    "signature": self.sign_b64(&hash),
                    "expiry": outcome.expiry,
                    "t": now,
                });
                if outcome.already {
                    set(&mut entry, "already", json!(true));
                } else {
                    self.wake(r.account.as_bytes());
                }
                let mut reply = self.swarm_reply(200, entry, now);
                if let Body::Json(v) = &mut reply.body {
                    set(v, "hash", json!(hash));
                }
                Ok(reply)
            }
            Request::Retrieve(r) => {
                let limits = RetrieveLimits {
                    max_count: usize::try_from(r.max_count).unwrap_or(usize::MAX),
                    max_size: r.size_budget(),
                };
                let page = self
                    .with_reader(|s| {
                        s.retrieve(
                            r.account.as_bytes(),
                            r.namespace.0,
                            r.last_hash.as_deref(),
                            limits,
                            now,
                        )
                    })
                    .map_err(db)?;
                Ok(Reply {
                    status: 200,
                    body: Body::Page(RetrievePage {
                        messages: page.messages,
                        more: page.more,
                        t: now,
                    }),
                })
            }
            Request::Delete(r) => {
                let deleted = self
                    .with_store(|s| s.delete(r.account.as_bytes(), &r.messages))
                    .map_err(db)?;
                let msg = format!("{}{}{}", r.account, r.messages.concat(), deleted.concat());
                let status = if r.required && deleted.is_empty() {
                    404
                } else {
                    200
                };
                let entry = json!({"deleted": deleted, "signature": self.sign_b64(&msg)});
                Ok(self.swarm_reply(status, entry, now))
            }
            Request::DeleteAll(r) | Request::DeleteBefore(r) => {
                let before = matches!(req, Request::DeleteBefore(_)).then_some(r.time);
                let ns = one_namespace(r.namespace);
                let deleted = self
                    .with_store(|s| s.delete_all(r.account.as_bytes(), ns, before))
                    .map_err(db)?;
                let (listed, signed) = by_namespace(r.namespace, deleted);
                let msg = format!("{}{}{}", r.account, r.time, signed.concat());
                let entry = json!({"deleted": listed, "signature": self.sign_b64(&msg)});
                Ok(self.swarm_reply(200, entry, now))
            }
            Request::ExpireAll(r) => {
                let ns = one_namespace(r.namespace);
                let updated = self
                    .with_store(|s| s.expire_all(r.account.as_bytes(), ns, r.time))
                    .map_err(db)?;
                let (listed, signed) = by_namespace(r.namespace, updated);
                let msg = format!("{}{}{}", r.account, r.time, signed.concat());
                let entry = json!({"updated": listed, "signature": self.sign_b64(&msg)});
                Ok(self.swarm_reply(200, entry, now))
            }
            Request::Expire(r) => {
                // Expiries are capped at the longest TTL from now (storage-rpc.md §3.7).
                let expiry = r.expiry.min(now + TTL_MAX_PRIVATE_MS);
                let mode = match r.mode {
                    sotto_rpc::ExpireMode::Set => ExpireMode::Set,
                    sotto_rpc::ExpireMode::Shorten => ExpireMode::ShortenOnly,
                    sotto_rpc::ExpireMode::Extend => ExpireMode::ExtendOnly,
                };
                let outcome = self
                    .with_store(|s| s.expire(r.account.as_bytes(), &r.messages, expiry, mode))
                    .map_err(db)?;
                let unchanged_sig: String = outcome
                    .unchanged
                    .iter()
                    .map(|(h, e)| format!("{h}{e}"))
                    .collect();
                let msg = format!(
                    "{}{expiry}{}{}{unchanged_sig}",
                    r.account,
                    r.messages.concat(),
                    outcome.updated.concat()
                );
                let mut entry = json!({
                    "updated": outcome.updated,
                    "expiry": expiry,
                    "signature": self.sign_b64(&msg),
                });
                if r.mode != sotto_rpc::ExpireMode::Set {
                    set(&mut entry, "unchanged", json!(outcome.unchanged));
                }
                Ok(self.swarm_reply(200, entry, now))
            }
            Request::GetExpiries(r) => {
                let expiries: BTreeMap<String, i64> = self
                    .with_reader(|s| s.get_expiries(r.account.as_bytes(), &r.messages, now))
                    .map_err(db)?;
                Ok(Reply::json(200, json!({"expiries": expiries})))
            }
            Request::GetSwarm(account) => Ok(with_misc(200, self.view().swarm_json(account), now)),
            Request::Info => Ok(with_misc(
                200,
                json!({"version": COMPAT_VERSION, "timestamp": now}),
                now,
            )),
            Request::GetServiceNodes { fields } => Ok(with_misc(
                200,
                json!({"result": self.view().service_nodes_json(fields)}),
                now,
            )),
            Request::Batch(_) | Request::Sequence(_) => Err(RpcError::new(500, "request failed")),
        }
    }
}

/// `Some(ns)` for one namespace, `None` for all.
fn one_namespace(sel: NamespaceSelector) -> Option<i16> {
    match sel {
        NamespaceSelector::One(Namespace(ns)) => Some(ns),
        NamespaceSelector::All => None,
    }
}

/// The `deleted`/`updated` field: a sorted list for one namespace, `{ns: [hashes]}` for all; and
/// the hashes in the order the node signs them (totally sorted).
fn by_namespace(sel: NamespaceSelector, pairs: Vec<(i16, String)>) -> (Value, Vec<String>) {
    let mut signed: Vec<String> = pairs.iter().map(|(_, h)| h.clone()).collect();
    signed.sort();
    let listed = match sel {
        NamespaceSelector::One(_) => json!(signed),
        NamespaceSelector::All => {
            let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (ns, h) in pairs {
                map.entry(ns.to_string()).or_default().push(h);
            }
            json!(map)
        }
    };
    (listed, signed)
}

/// Add `t` (node time) and `hf` (network version), as the reference does to most replies.
fn with_misc(status: u16, mut value: Value, now: i64) -> Reply {
    set(&mut value, "t", json!(now));
    set(&mut value, "hf", json!(NETWORK_VERSION));
    Reply::json(status, value)
}

/// Insert `key` into a JSON object (a no-op on anything else).
fn set(value: &mut Value, key: &str, v: Value) {
    if let Some(object) = value.as_object_mut() {
        object.insert(key.to_owned(), v);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The page as the node built it before it was typed: a `Value` tree.
    fn page_as_value_tree(page: &RetrievePage) -> Value {
        let messages: Vec<Value> = page
            .messages
            .iter()
            .map(|m| {
                json!({"hash": m.hash, "timestamp": m.timestamp,
                       "expiration": m.expiry, "data": STANDARD.encode(&m.data)})
            })
            .collect();
        json!({"messages": messages, "more": page.more, "t": page.t, "hf": NETWORK_VERSION})
    }

    fn message(hash: &str, data: &[u8]) -> StoredMessage {
        StoredMessage {
            hash: hash.to_owned(),
            namespace: 0,
            timestamp: 1_700_000_000_000,
            expiry: i64::MAX,
            data: data.to_vec(),
        }
    }

    #[test]
    fn a_typed_page_writes_the_bytes_of_its_value_tree() {
        // Data lengths around every base64 padding case, bytes that encode to `+` and `/`, a
        // long message, and a hash with characters JSON must escape.
        let long: Vec<u8> = (0..=255).cycle().take(70_000).collect();
        let pages = [
            RetrievePage {
                messages: vec![],
                more: false,
                t: 0,
            },
            RetrievePage {
                messages: vec![
                    message("a", b""),
                    message("b", b"x"),
                    message("c", b"xy"),
                    message("d", b"xyz"),
                    message("e", &[0xfb, 0xff, 0xfe]),
                    message("quote\" back\\slash \u{1}", &long),
                ],
                more: true,
                t: -5,
            },
        ];
        for page in pages {
            let tree = page_as_value_tree(&page);
            assert_eq!(page.to_json_bytes(), serde_json::to_vec(&tree).unwrap());
            assert_eq!(page.to_value(), tree);
            assert_eq!(Body::Page(page).into_value(), tree);
        }
    }
}
