//! Node-to-node requests inside the network: authentication, replication of client requests to
//! the swarm (`storage-rpc.md` §3.11) and the hand-over of data when swarms change
//! (`swarms.md` §3).
//!
//! Sotto nodes talk only to Sotto nodes here, so the transport is ours: HTTPS POSTs signed with
//! the sending node's Ed25519 key. The signature covers a domain tag, the path, the sender's
//! clock and the body; the receiver refuses unknown senders, clocks more than
//! [`PEER_CLOCK_SKEW_MS`] off, and any change to the body.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sotto_crypto::Ed25519PublicKey;
use sotto_rpc::nodes::NodeInfo;
use sotto_rpc::Request;

use crate::keys::NodeKeys;
use crate::service::{Body, Node, Reply};
use crate::store::{AccountKey, StoredMessage};

/// Path of replicated client requests (run locally by the receiver, never forwarded again).
pub const SWARM_RPC_PATH: &str = "/sotto/swarm_rpc/v1";
/// Path of bulk hand-overs.
pub const PUSH_PATH: &str = "/sotto/push/v1";
/// Path of storage tests: a swarm peer proves it holds a message.
pub const STORAGE_TEST_PATH: &str = "/sotto/storage_test/v1";
/// Header naming the sending node (Ed25519 hex).
pub const HEADER_NODE: &str = "x-sotto-node";
/// Header with the sender's clock, ms.
pub const HEADER_TIMESTAMP: &str = "x-sotto-timestamp";
/// Header with the base64 Ed25519 signature.
pub const HEADER_SIGNATURE: &str = "x-sotto-signature";
/// Largest accepted clock difference between nodes (the storage RPC's signature window).
pub const PEER_CLOCK_SKEW_MS: i64 = 60_000;
/// Time a peer has to answer a replicated request (upstream `sn.storage_cc`: 5 s).
pub const REPLICATION_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest hand-over batch, in message bytes (upstream batches are ≤ 9 000 000 bytes).
pub const PUSH_BATCH_BYTES: usize = 4_000_000;

/// The bytes a node signs for a peer request.
pub fn signed_bytes(path: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut msg = format!("sotto-peer-v1\n{path}\n{timestamp}\n").into_bytes();
    msg.extend_from_slice(body);
    msg
}

/// The three headers authenticating `body` sent to `path` by `keys` at `now`.
pub fn sign_headers(
    keys: &NodeKeys,
    path: &str,
    body: &[u8],
    now: i64,
) -> [(&'static str, String); 3] {
    let sig = keys.sign(&signed_bytes(path, now, body));
    [
        (HEADER_NODE, keys.ed25519().to_hex()),
        (HEADER_TIMESTAMP, now.to_string()),
        (HEADER_SIGNATURE, STANDARD.encode(sig)),
    ]
}

/// Why a peer request was refused: status and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub u16, pub String);

/// Check a peer request's headers: a known sender, a clock within the window, a valid signature.
pub fn verify(
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    now: i64,
    is_known: impl Fn(&Ed25519PublicKey) -> bool,
) -> Result<Ed25519PublicKey, Refused> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Refused(401, format!("missing {name} header")))
    };
    let node: Ed25519PublicKey = header(HEADER_NODE)?
        .parse()
        .map_err(|_| Refused(401, "invalid node key".into()))?;
    let timestamp: i64 = header(HEADER_TIMESTAMP)?
        .parse()
        .map_err(|_| Refused(401, "invalid timestamp".into()))?;
    let signature: [u8; 64] = STANDARD
        .decode(header(HEADER_SIGNATURE)?)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| Refused(401, "invalid signature encoding".into()))?;
    if !is_known(&node) {
        return Err(Refused(403, format!("unknown node {node}")));
    }
    if (timestamp - now).abs() > PEER_CLOCK_SKEW_MS {
        return Err(Refused(406, "Timestamp error: check your clock".into()));
    }
    node.verify(
        &signed_bytes(path, timestamp, body),
        &signature,
        "peer request",
    )
    .map_err(|_| Refused(401, "peer signature verification failed".into()))?;
    Ok(node)
}

/// Methods that every swarm member runs (`storage-rpc.md` §3.11).
pub fn is_recursive_method(method: &str) -> bool {
    matches!(
        method,
        "store" | "delete" | "delete_all" | "delete_before" | "expire" | "expire_all"
    )
}

/// Whether a client request changes data, and so must run on every swarm member: a recursive
/// method, or a batch or sequence holding one. Every other method only reads.
pub fn needs_replication(req: &Request) -> bool {
    match req {
        Request::Batch(subs) | Request::Sequence(subs) => subs.iter().any(needs_replication),
        single => is_recursive_method(single.method()),
    }
}

/// Handle a client's storage request (over HTTPS or as an onion's destination): run it here,
/// then, for what changes data, on every swarm peer (`storage-rpc.md` §3.11). A request refused
/// here would be refused there too, so only successes (and a `delete` that found nothing here)
/// are replicated.
pub async fn handle_client(node: &Arc<Node>, peers: &PeerClient, body: Vec<u8>, now: i64) -> Reply {
    if let Some((account, wait)) = waiting_retrieve(&body) {
        return wait_for_messages(node, body, account, wait, now).await;
    }
    let req = match Request::parse(&body) {
        Ok(req) => req,
        Err(e) => return Reply::error(&e),
    };
    // Reads are short (an indexed SQLite read on a reader connection, at most a signature
    // check): run them here rather than pay two thread hand-offs. Writes may wait for an
    // fsync, so they go to the blocking pool.
    let changes_data = needs_replication(&req);
    let local = if !changes_data {
        Ok(node.handle_request(&req, now))
    } else {
        let node = Arc::clone(node);
        tokio::task::spawn_blocking(move || node.handle_request(&req, now)).await
    };
    match local {
        Ok(reply) => {
            let replicate =
                matches!(reply.status, 200 | 404) && !node.view().is_standalone() && changes_data;
            if replicate {
                peers.replicate(&body, reply, now).await
            } else {
                reply
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "request handler failed");
            Reply {
                status: 500,
                body: Body::Text("request failed".into()),
            }
        }
    }
}

/// The longest a retrieve may wait for a message (under the onion relay's 25–30 s timeouts).
pub const MAX_WAIT_MS: u64 = 25_000;

/// Sotto's extension of `retrieve` (`docs/subscriptions.md`): with `"sotto_wait_ms": N`, a
/// retrieve that finds nothing waits up to N ms (at most [`MAX_WAIT_MS`]) for the account's next
/// message instead of answering at once. Nodes without the extension ignore the unknown field
/// and answer at once, so clients simply poll again.
fn waiting_retrieve(body: &[u8]) -> Option<(AccountKey, Duration)> {
    // Most requests do not ask to wait: skip the JSON parse for them.
    const FIELD: &[u8] = b"sotto_wait_ms";
    if !body.windows(FIELD.len()).any(|w| w == FIELD) {
        return None;
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    if v.get("method")?.as_str()? != "retrieve" {
        return None;
    }
    let params = v.get("params")?;
    let wait = params.get("sotto_wait_ms")?.as_u64()?.min(MAX_WAIT_MS);
    let account: sotto_rpc::AccountId = params.get("pubkey")?.as_str()?.parse().ok()?;
    Some((*account.as_bytes(), Duration::from_millis(wait)))
}

async fn wait_for_messages(
    node: &Arc<Node>,
    body: Vec<u8>,
    account: AccountKey,
    wait: Duration,
    now: i64,
) -> Reply {
    let waiter = node.waiter(&account);
    // Registered before looking, so a store between the look and the wait still wakes us.
    let notified = waiter.notified();
    tokio::pin!(notified);
    notified.as_mut().enable();
    let run = |now: i64| {
        let node = Arc::clone(node);
        let body = body.clone();
        async move {
            tokio::task::spawn_blocking(move || node.handle(&body, now))
                .await
                .unwrap_or(Reply {
                    status: 500,
                    body: Body::Text("request failed".into()),
                })
        }
    };
    let first = run(now).await;
    let empty = match &first.body {
        Body::Page(page) => page.messages.is_empty(),
        Body::Json(v) => v
            .get("messages")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty),
        Body::Text(_) => false,
    };
    if first.status != 200 || !empty {
        return first;
    }
    if tokio::time::timeout(wait, notified).await.is_err() {
        return first;
    }
    run(crate::http::now_ms()).await
}

/// Sends signed requests to other nodes.
#[derive(Debug, Clone)]
pub struct PeerClient {
    node: Arc<Node>,
    http: reqwest::Client,
}

/// One peer's answer to a replicated request, or why there is none.
#[derive(Debug, Clone)]
pub enum PeerOutcome {
    /// The peer's status and JSON body.
    Answer(u16, Value),
    /// It answered with something that is not JSON.
    Bad(u16, String),
    /// No answer in time.
    Timeout,
    /// The connection failed.
    Unreachable(String),
}

impl PeerClient {
    /// A client signing as `node`.
    pub fn new(node: Arc<Node>) -> Result<Self, crate::Error> {
        Ok(Self {
            node,
            http: sotto_https::client(&sotto_https::ClientOptions {
                connect_timeout: Duration::from_secs(3),
                timeout: REPLICATION_TIMEOUT,
            })?,
        })
    }

    async fn post(
        &self,
        peer: &NodeInfo,
        path: &str,
        body: Vec<u8>,
        now: i64,
        timeout: Duration,
    ) -> PeerOutcome {
        let mut request = self
            .http
            .post(format!("{}{path}", peer.base_url()))
            .timeout(timeout);
        for (name, value) in sign_headers(self.node.keys(), path, &body, now) {
            request = request.header(name, value);
        }
        let response = match request.body(body).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return PeerOutcome::Timeout,
            Err(e) => return PeerOutcome::Unreachable(e.to_string()),
        };
        let status = response.status().as_u16();
        match response.bytes().await {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(v) => PeerOutcome::Answer(status, v),
                Err(_) => PeerOutcome::Bad(status, String::from_utf8_lossy(&bytes).into_owned()),
            },
            Err(e) if e.is_timeout() => PeerOutcome::Timeout,
            Err(e) => PeerOutcome::Unreachable(e.to_string()),
        }
    }

    /// Run a client's request on every swarm peer and merge their entries into the local reply's
    /// `swarm` maps (`storage-rpc.md` §3.1, §3.11).
    pub async fn replicate(&self, body: &[u8], mut reply: Reply, now: i64) -> Reply {
        let peers = self.node.view().peers();
        if peers.is_empty() {
            return reply;
        }
        let mut calls = tokio::task::JoinSet::new();
        for peer in peers {
            let (this, body) = (self.clone(), body.to_vec());
            calls.spawn(async move {
                let outcome = this
                    .post(&peer, SWARM_RPC_PATH, body, now, REPLICATION_TIMEOUT)
                    .await;
                (peer.ed25519, outcome)
            });
        }
        let mut outcomes = BTreeMap::new();
        while let Some(done) = calls.join_next().await {
            if let Ok((key, outcome)) = done {
                outcomes.insert(key, outcome);
            }
        }
        if let Body::Json(local) = &mut reply.body {
            for (key, outcome) in &outcomes {
                merge_peer(local, &key.to_hex(), outcome);
            }
        }
        reply
    }

    /// Ask `peer` for a message it must hold; true if it answers with exactly its data.
    pub async fn storage_test(
        &self,
        peer: &NodeInfo,
        account: &AccountKey,
        message: &StoredMessage,
        now: i64,
    ) -> bool {
        let test = StorageTest {
            account: hex::encode(account),
            hash: message.hash.clone(),
        };
        let Ok(body) = serde_json::to_vec(&test) else {
            return false;
        };
        match self
            .post(peer, STORAGE_TEST_PATH, body, now, REPLICATION_TIMEOUT)
            .await
        {
            PeerOutcome::Answer(200, v) => v
                .get("data")
                .and_then(Value::as_str)
                .and_then(|d| STANDARD.decode(d).ok())
                .is_some_and(|d| d == message.data),
            _ => false,
        }
    }

    /// Hand `messages` of `account` to `peer`; true once the peer has stored them all (or
    /// already had them).
    pub async fn push(
        &self,
        peer: &NodeInfo,
        account: &AccountKey,
        messages: &[StoredMessage],
        now: i64,
    ) -> bool {
        for batch in batches(messages) {
            let body = PushBatch {
                account: hex::encode(account),
                messages: batch.iter().map(PushedMessage::from).collect(),
            };
            let Ok(bytes) = serde_json::to_vec(&body) else {
                return false;
            };
            match self
                .post(peer, PUSH_PATH, bytes, now, Duration::from_secs(30))
                .await
            {
                PeerOutcome::Answer(200, v)
                    if v.get("accepted").and_then(Value::as_bool) == Some(true) => {}
                other => {
                    tracing::debug!(peer = %peer.ed25519, outcome = ?other, "hand-over refused");
                    return false;
                }
            }
        }
        true
    }
}

/// The entry a peer contributes under `swarm[<its key>]`: its own entry, or the failure shape
/// clients know (`failed` plus `timeout`, `code`+`reason` or `bad_peer_response`).
fn peer_entry(key: &str, status: u16, value: &Value) -> Value {
    match value.get("swarm").and_then(|s| s.get(key)) {
        Some(entry) if (200..300).contains(&status) || status == 404 => entry.clone(),
        _ => json!({"failed": true, "code": status, "reason": value.to_string()}),
    }
}

fn merge_peer(local: &mut Value, key: &str, outcome: &PeerOutcome) {
    let failure = |extra: Value| {
        let mut v = json!({"failed": true});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        v
    };
    // A batch or sequence: merge result by result.
    if let Some(results) = local.get_mut("results").and_then(Value::as_array_mut) {
        for (i, result) in results.iter_mut().enumerate() {
            let Some(swarm) = result
                .get_mut("body")
                .and_then(|b| b.get_mut("swarm"))
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            let entry = match outcome {
                PeerOutcome::Answer(_, v) => v
                    .get("results")
                    .and_then(|r| r.get(i))
                    .map(|r| {
                        let code = r.get("code").and_then(Value::as_u64).unwrap_or(500);
                        peer_entry(
                            key,
                            u16::try_from(code).unwrap_or(500),
                            r.get("body").unwrap_or(&Value::Null),
                        )
                    })
                    .unwrap_or_else(|| failure(json!({"bad_peer_response": true}))),
                PeerOutcome::Bad(..) => failure(json!({"bad_peer_response": true})),
                PeerOutcome::Timeout => failure(json!({"timeout": true})),
                PeerOutcome::Unreachable(_) => failure(json!({"query_failure": true})),
            };
            swarm.insert(key.to_owned(), entry);
        }
        return;
    }
    let Some(swarm) = local.get_mut("swarm").and_then(Value::as_object_mut) else {
        return;
    };
    let entry = match outcome {
        PeerOutcome::Answer(status, v) => peer_entry(key, *status, v),
        PeerOutcome::Bad(..) => failure(json!({"bad_peer_response": true})),
        PeerOutcome::Timeout => failure(json!({"timeout": true})),
        PeerOutcome::Unreachable(_) => failure(json!({"query_failure": true})),
    };
    swarm.insert(key.to_owned(), entry);
}

/// Split messages into batches of at most [`PUSH_BATCH_BYTES`] of data (at least one each).
fn batches(messages: &[StoredMessage]) -> Vec<&[StoredMessage]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, m) in messages.iter().enumerate() {
        if i > start && size + m.data.len() > PUSH_BATCH_BYTES {
            if let Some(b) = messages.get(start..i) {
                out.push(b);
            }
            start = i;
            size = 0;
        }
        size += m.data.len();
    }
    if let Some(b) = messages.get(start..).filter(|b| !b.is_empty()) {
        out.push(b);
    }
    out
}

/// A hand-over batch: messages of one account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PushBatch {
    /// The 33-byte account key, hex.
    pub account: String,
    /// Its messages.
    pub messages: Vec<PushedMessage>,
}

/// One message in a hand-over (unlike upstream's v1 format, with its namespace).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PushedMessage {
    /// Storage hash.
    pub hash: String,
    /// Namespace.
    pub namespace: i16,
    /// Store timestamp, ms.
    pub timestamp: i64,
    /// Expiry, ms.
    pub expiry: i64,
    /// Data, base64.
    pub data: String,
}

impl From<&StoredMessage> for PushedMessage {
    fn from(m: &StoredMessage) -> Self {
        Self {
            hash: m.hash.clone(),
            namespace: m.namespace,
            timestamp: m.timestamp,
            expiry: m.expiry,
            data: STANDARD.encode(&m.data),
        }
    }
}

/// A storage test: "show me the message of `account` with `hash`".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StorageTest {
    /// The 33-byte account key, hex.
    pub account: String,
    /// The message's storage hash.
    pub hash: String,
}

/// Answer a storage test: `{"status": "OK", "data": base64}` if the message is here, else 404
/// `{"status": "missing"}`.
pub fn answer_storage_test(node: &Node, body: &[u8], now: i64) -> Reply {
    let Ok(test) = serde_json::from_slice::<StorageTest>(body) else {
        return Reply {
            status: 400,
            body: Body::Text("invalid storage test".into()),
        };
    };
    let Some(account) = hex::decode(&test.account)
        .ok()
        .and_then(|b| AccountKey::try_from(b).ok())
    else {
        return Reply {
            status: 400,
            body: Body::Text("invalid storage test: bad account".into()),
        };
    };
    match node.with_reader(|s| s.message_by_hash(&account, &test.hash, now)) {
        Ok(Some(m)) => Reply {
            status: 200,
            body: Body::Json(json!({"status": "OK", "data": STANDARD.encode(m.data)})),
        },
        Ok(None) => Reply {
            status: 404,
            body: Body::Json(json!({"status": "missing"})),
        },
        Err(_) => Reply {
            status: 500,
            body: Body::Text("request failed".into()),
        },
    }
}

/// Check and store a received hand-over batch: the account must belong to this node's swarm,
/// and each message's hash must be the hash of its account, namespace and data (so a peer
/// cannot plant messages under false hashes). Answers `{"accepted": bool, "stored": n}`.
pub fn receive_push(node: &Node, body: &[u8], now: i64) -> Reply {
    let bad = |why: &str| Reply {
        status: 400,
        body: Body::Text(format!("invalid push: {why}")),
    };
    let Ok(batch) = serde_json::from_slice::<PushBatch>(body) else {
        return bad("not a push batch");
    };
    let Some(account) = hex::decode(&batch.account)
        .ok()
        .and_then(|b| AccountKey::try_from(b).ok())
    else {
        return bad("bad account");
    };
    let id = sotto_rpc::AccountId::from_bytes(account);
    if !node.view().owns(&id) {
        return Reply {
            status: 200,
            body: Body::Json(json!({"accepted": false, "reason": "not my swarm"})),
        };
    }
    let mut messages = Vec::with_capacity(batch.messages.len());
    for m in &batch.messages {
        let Ok(data) = STANDARD.decode(&m.data) else {
            return bad("data not base64");
        };
        let expected = sotto_rpc::message_hash(&id, sotto_rpc::Namespace(m.namespace), &data);
        if expected != m.hash {
            return bad("hash does not match the message");
        }
        if m.expiry <= now {
            continue;
        }
        messages.push(StoredMessage {
            hash: m.hash.clone(),
            namespace: m.namespace,
            timestamp: m.timestamp,
            expiry: m.expiry,
            data,
        });
    }
    match node.with_store(|s| s.bulk_store(&account, &messages)) {
        Ok(stored) => Reply {
            status: 200,
            body: Body::Json(json!({"accepted": true, "stored": stored})),
        },
        Err(e) => {
            tracing::warn!(error = %e, "hand-over not stored");
            Reply {
                status: 507,
                body: Body::Text("Insufficient storage".into()),
            }
        }
    }
}
