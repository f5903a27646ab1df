//! The seed-node JSON-RPC (`POST /json_rpc`, JSON-RPC 2.0): the node list (`swarms.md` §4) and
//! nodes' signed test reports. Parsing and answers only; [`crate::server`] does the HTTP.
//!
//! Errors are JSON-RPC error objects, never panics: `-32700` body is not JSON, `-32600` not a
//! request object, `-32601` unknown method, `-32602` bad params, `-32000` a refusal of the
//! ledger's rules (bad signature, unknown reporter, clock…), `-32603` an internal failure.

use rand::seq::SliceRandom as _;
use rand::Rng;
use serde_json::{json, Map, Value};
use sotto_crypto::Ed25519PublicKey;

use crate::constants::{HARDFORK, MIN_STAKE, SNODE_REVISION, STORAGE_SERVER_VERSION};
use crate::err::Error;
use crate::ledger::{Ledger, NodeRecord, NodeStatus, Snapshot, VoteRules};
use crate::report::SignedReport;

/// JSON-RPC: the body is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: no such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC: bad parameters.
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC: the server failed.
pub const INTERNAL_ERROR: i64 = -32603;
/// A refusal of the ledger's rules.
pub const REFUSED: i64 = -32000;

/// Method names of the node list (`core_rpc_server_commands_defs.h`, `GET_SERVICE_NODES`).
pub const NODE_LIST_METHODS: [&str; 3] = [
    "get_n_service_nodes",
    "get_service_nodes",
    "get_all_service_nodes",
];
/// Method name of a node's signed test report.
pub const REPORT_METHOD: &str = "report_peer_status";

/// An error answer.
#[derive(Debug)]
struct RpcError {
    code: i64,
    message: String,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    fn params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }
}

impl From<Error> for RpcError {
    fn from(e: Error) -> Self {
        match e {
            Error::Database(_) | Error::Corrupt(_) | Error::SchemaTooNew { .. } => {
                tracing::error!(error = %e, "ledger failure");
                Self::new(INTERNAL_ERROR, "internal error")
            }
            other => Self::new(REFUSED, other.to_string()),
        }
    }
}

/// Answer one JSON-RPC request body. `now` is unix seconds; `rng` shuffles `limit` subsets.
pub fn handle(
    body: &[u8],
    ledger: &mut dyn Ledger,
    votes: &VoteRules,
    now: u64,
    rng: &mut impl Rng,
) -> Value {
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                Value::Null,
                &RpcError::new(PARSE_ERROR, format!("parse error: {e}")),
            )
        }
    };
    let Some(obj) = request.as_object() else {
        return error(
            Value::Null,
            &RpcError::new(INVALID_REQUEST, "invalid request: expected a JSON object"),
        );
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    match obj.get("jsonrpc") {
        None => {}
        Some(Value::String(v)) if v == "2.0" => {}
        Some(_) => {
            return error(
                id,
                &RpcError::new(INVALID_REQUEST, "invalid request: jsonrpc must be \"2.0\""),
            )
        }
    }
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        return error(
            id,
            &RpcError::new(INVALID_REQUEST, "invalid request: no method"),
        );
    };
    let empty = Map::new();
    let params = match obj.get("params") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(p)) => p,
        Some(_) => return error(id, &RpcError::params("params must be an object")),
    };
    let result = if NODE_LIST_METHODS.contains(&method) {
        node_list(params, ledger, rng)
    } else if method == REPORT_METHOD {
        report(params, ledger, votes, now)
    } else {
        Err(RpcError::new(
            METHOD_NOT_FOUND,
            format!("method not found: {method}"),
        ))
    };
    match result {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(e) => error(id, &e),
    }
}

fn error(id: Value, e: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": e.code, "message": e.message}})
}

/// Which per-node fields to return: `None` = all.
fn requested_fields(params: &Map<String, Value>) -> Result<Option<Vec<String>>, RpcError> {
    match params.get("fields") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => {
            let mut names = Vec::new();
            for (name, want) in map {
                match want {
                    Value::Bool(true) => names.push(name.clone()),
                    Value::Bool(false) => {}
                    _ => return Err(RpcError::params(format!("fields.{name} must be a boolean"))),
                }
            }
            if names.iter().any(|n| n == "all") {
                return Ok(None);
            }
            Ok(Some(names))
        }
        Some(Value::Array(list)) => {
            let mut names = Vec::new();
            for v in list {
                let name = v
                    .as_str()
                    .ok_or_else(|| RpcError::params("fields must list strings"))?;
                names.push(name.to_owned());
            }
            if names.iter().any(|n| n == "all") {
                return Ok(None);
            }
            Ok(Some(names))
        }
        Some(_) => Err(RpcError::params("fields must be an object of name: true")),
    }
}

fn node_list(
    params: &Map<String, Value>,
    ledger: &mut dyn Ledger,
    rng: &mut impl Rng,
) -> Result<Value, RpcError> {
    let fields = requested_fields(params)?;
    let active_only = match params.get("active_only") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(RpcError::params("active_only must be a boolean")),
    };
    let limit = match params.get("limit") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| RpcError::params("limit must be an integer"))?,
    };
    let wanted: Option<Vec<Ed25519PublicKey>> = match params.get("service_node_pubkeys") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => {
            let mut keys = Vec::with_capacity(list.len());
            for v in list {
                let key = v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
                    RpcError::params("service_node_pubkeys must list 64-hex keys")
                })?;
                keys.push(key);
            }
            Some(keys)
        }
        Some(_) => return Err(RpcError::params("service_node_pubkeys must be a list")),
    };
    let poll = match params.get("poll_block_hash") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.to_ascii_lowercase()),
        Some(_) => return Err(RpcError::params("poll_block_hash must be a hex string")),
    };

    if let Some(poll) = &poll {
        let head = ledger.head()?;
        if *poll == hex::encode(head.hash) {
            let mut out = header(head.height, &head.hash);
            out.insert("unchanged".into(), true.into());
            return Ok(Value::Object(out));
        }
    }
    let snapshot = ledger.snapshot()?;
    let mut nodes: Vec<&NodeRecord> = snapshot
        .nodes
        .iter()
        .filter(|n| !active_only || n.status == NodeStatus::Active)
        .filter(|n| wanted.as_ref().is_none_or(|w| w.contains(&n.ed25519)))
        .collect();
    if limit != 0 {
        nodes.shuffle(rng);
        if let Ok(n) = usize::try_from(limit) {
            nodes.truncate(n);
        }
    }
    let states: Vec<Value> = nodes
        .into_iter()
        .map(|n| {
            let mut entry = node_entry(n);
            if let Some(fields) = &fields {
                entry.retain(|k, _| fields.iter().any(|f| f == k));
            }
            Value::Object(entry)
        })
        .collect();
    let mut out = header(snapshot.height, &snapshot.block_hash);
    if poll.is_some() {
        out.insert("unchanged".into(), false.into());
    }
    out.insert("service_node_states".into(), Value::Array(states));
    Ok(Value::Object(out))
}

/// The top-level fields, always present whatever `fields` asks.
fn header(height: u64, hash: &[u8; 32]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("height".into(), height.into());
    m.insert("target_height".into(), height.into());
    m.insert("block_hash".into(), hex::encode(hash).into());
    m.insert("hardfork".into(), HARDFORK.into());
    m.insert("snode_revision".into(), SNODE_REVISION.into());
    m.insert("status".into(), "OK".into());
    m
}

/// Every field of one node, as `get_n_service_nodes` lists it.
pub fn node_entry(n: &NodeRecord) -> Map<String, Value> {
    let key = n.ed25519.to_hex();
    let active = n.status == NodeStatus::Active;
    let mut m = Map::new();
    m.insert("service_node_pubkey".into(), key.clone().into());
    m.insert("pubkey_ed25519".into(), key.into());
    m.insert("pubkey_x25519".into(), n.x25519.to_hex().into());
    m.insert("public_ip".into(), n.public_ip.to_string().into());
    m.insert("storage_port".into(), n.storage_port.into());
    m.insert("storage_lmq_port".into(), n.storage_lmq_port.into());
    m.insert(
        "storage_server_version".into(),
        json!(STORAGE_SERVER_VERSION),
    );
    m.insert("swarm_id".into(), n.swarm_id.into());
    m.insert("swarm".into(), format!("{:x}", n.swarm_id).into());
    m.insert("funded".into(), n.funded().into());
    m.insert("active".into(), active.into());
    m.insert("registration_height".into(), n.registration_height.into());
    if let Some(at) = n.exit_at {
        m.insert("requested_unlock_time".into(), at.into());
    }
    m.insert("operator_address".into(), n.operator.as_str().into());
    // oxend publishes the fee in millionths.
    m.insert("operator_fee".into(), (u64::from(n.fee_bps) * 100).into());
    m.insert("staking_requirement".into(), MIN_STAKE.units().into());
    m.insert("total_contributed".into(), n.total_stake().units().into());
    let contributors: Vec<Value> = n
        .contributions
        .iter()
        .map(|c| json!({"address": c.address.as_str(), "amount": c.amount.units()}))
        .collect();
    m.insert("contributors".into(), contributors.into());
    m.insert("earned".into(), n.earned.units().into());
    m
}

/// The whole node list as JSON (every field), e.g. for `sotto-registry list --json`.
pub fn snapshot_json(s: &Snapshot) -> Value {
    let mut out = header(s.height, &s.block_hash);
    out.insert(
        "swarm_sizes".into(),
        json!({"min": s.sizes.min(), "ideal": s.sizes.ideal(), "max": s.sizes.max()}),
    );
    let states: Vec<Value> = s
        .nodes
        .iter()
        .map(|n| Value::Object(node_entry(n)))
        .collect();
    out.insert("service_node_states".into(), Value::Array(states));
    Value::Object(out)
}

fn report(
    params: &Map<String, Value>,
    ledger: &mut dyn Ledger,
    votes: &VoteRules,
    now: u64,
) -> Result<Value, RpcError> {
    let signed: SignedReport = serde_json::from_value(Value::Object(params.clone()))
        .map_err(|e| RpcError::params(format!("bad report: {e}")))?;
    let verified = signed.verify(now)?;
    let outcome = ledger.report(&verified, votes, now)?;
    Ok(json!({
        "status": "OK",
        "failing_reporters": outcome.failing_reporters,
        "deregistered": outcome.deregistered.is_some(),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::testutil::{registration, NOW};
    use crate::SqliteLedger;
    use sotto_crypto::Identity;

    fn ledger(funded: u8, awaiting: u8) -> SqliteLedger {
        let mut l = SqliteLedger::open_in_memory().unwrap();
        for i in 1..=funded + awaiting {
            let stake = if i <= funded { 25_000 } else { 6_250 };
            l.register(&registration(i, stake), NOW).unwrap();
        }
        l
    }

    fn call(l: &mut SqliteLedger, body: &str) -> Value {
        handle(
            body.as_bytes(),
            l,
            &VoteRules::default(),
            NOW,
            &mut rand::thread_rng(),
        )
    }

    #[test]
    fn malformed_requests_are_json_rpc_errors() {
        let mut l = ledger(1, 0);
        for (body, code) in [
            ("{not json", PARSE_ERROR),
            ("", PARSE_ERROR),
            ("[1,2]", INVALID_REQUEST),
            ("{\"jsonrpc\":\"1.0\",\"method\":\"get_n_service_nodes\"}", INVALID_REQUEST),
            ("{\"id\":1}", INVALID_REQUEST),
            ("{\"method\":\"nope\",\"id\":7}", METHOD_NOT_FOUND),
            ("{\"method\":\"get_n_service_nodes\",\"params\":[1]}", INVALID_PARAMS),
            ("{\"method\":\"get_n_service_nodes\",\"params\":{\"limit\":\"x\"}}", INVALID_PARAMS),
            ("{\"method\":\"get_n_service_nodes\",\"params\":{\"fields\":3}}", INVALID_PARAMS),
            ("{\"method\":\"get_n_service_nodes\",\"params\":{\"fields\":{\"a\":1}}}", INVALID_PARAMS),
            ("{\"method\":\"get_n_service_nodes\",\"params\":{\"active_only\":1}}", INVALID_PARAMS),
            ("{\"method\":\"get_n_service_nodes\",\"params\":{\"service_node_pubkeys\":[\"zz\"]}}", INVALID_PARAMS),
            ("{\"method\":\"report_peer_status\",\"params\":{\"type\":\"storage\"}}", INVALID_PARAMS),
        ] {
            let v = call(&mut l, body);
            assert_eq!(v["jsonrpc"], "2.0", "{body}");
            assert_eq!(v["error"]["code"], code, "{body}: {v}");
        }
        assert_eq!(call(&mut l, "{\"method\":\"nope\",\"id\":7}")["id"], 7);
    }

    #[test]
    fn node_list_with_every_field() {
        let mut l = ledger(2, 1);
        let v = call(
            &mut l,
            r#"{"jsonrpc":"2.0","id":"x","method":"get_n_service_nodes"}"#,
        );
        let r = &v["result"];
        assert_eq!(v["id"], "x");
        assert_eq!(r["status"], "OK");
        assert_eq!(r["hardfork"], 19);
        assert_eq!(r["height"], 3);
        assert_eq!(r["block_hash"].as_str().unwrap().len(), 64);
        let states = r["service_node_states"].as_array().unwrap();
        assert_eq!(states.len(), 3);
        let active: Vec<&Value> = states.iter().filter(|s| s["active"] == true).collect();
        assert_eq!(active.len(), 2);
        let n = active[0];
        assert_eq!(n["swarm_id"], 0);
        assert_eq!(n["swarm"], "0");
        assert_eq!(n["funded"], true);
        assert_eq!(n["storage_server_version"], json!([2, 8, 0]));
        assert_eq!(n["service_node_pubkey"], n["pubkey_ed25519"]);
        let waiting = states.iter().find(|s| s["funded"] == false).unwrap();
        assert_eq!(waiting["swarm_id"], u64::MAX);
        assert_eq!(waiting["swarm"], "ffffffffffffffff");
    }

    #[test]
    fn filters() {
        let mut l = ledger(3, 1);
        let v = call(
            &mut l,
            r#"{"method":"get_service_nodes","params":{"active_only":true,"fields":{"public_ip":true,"storage_port":true,"swarm_id":false}}}"#,
        );
        let states = v["result"]["service_node_states"].as_array().unwrap();
        assert_eq!(states.len(), 3);
        for s in states {
            let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["public_ip", "storage_port"]);
        }
        let v = call(
            &mut l,
            r#"{"method":"get_all_service_nodes","params":{"fields":["pubkey_x25519"],"limit":2}}"#,
        );
        let states = v["result"]["service_node_states"].as_array().unwrap();
        assert_eq!(states.len(), 2);
        assert_eq!(states[0].as_object().unwrap().len(), 1);
        let key = Identity::from_ed25519_seed(&[2; 32])
            .ed25519_public()
            .to_hex();
        let body =
            json!({"method": "get_n_service_nodes", "params": {"service_node_pubkeys": [key]}});
        let v = call(&mut l, &body.to_string());
        let states = v["result"]["service_node_states"].as_array().unwrap();
        assert_eq!(states.len(), 1);
        assert_eq!(states[0]["pubkey_ed25519"], key);
    }

    #[test]
    fn poll_block_hash() {
        let mut l = ledger(1, 0);
        let first = call(&mut l, r#"{"method":"get_n_service_nodes"}"#);
        let hash = first["result"]["block_hash"].as_str().unwrap().to_owned();
        assert!(first["result"].get("unchanged").is_none());
        let body = json!({"method": "get_n_service_nodes", "params": {"poll_block_hash": hash}});
        let v = call(&mut l, &body.to_string());
        assert_eq!(v["result"]["unchanged"], true);
        assert!(v["result"].get("service_node_states").is_none());
        assert_eq!(v["result"]["block_hash"], hash.as_str());
        let body = json!({"method": "get_n_service_nodes", "params": {"poll_block_hash": "00"}});
        let v = call(&mut l, &body.to_string());
        assert_eq!(v["result"]["unchanged"], false);
        assert_eq!(
            v["result"]["service_node_states"].as_array().unwrap().len(),
            1
        );
    }

    #[test]
    fn reports() {
        let mut l = ledger(4, 0);
        let me = Identity::from_ed25519_seed(&[1; 32]);
        let peer = Identity::from_ed25519_seed(&[2; 32]).ed25519_public();
        let signed = SignedReport::sign(&me, &peer, false, NOW);
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": REPORT_METHOD, "params": signed});
        let v = call(&mut l, &body.to_string());
        assert_eq!(v["result"]["status"], "OK", "{v}");
        assert_eq!(v["result"]["failing_reporters"], 1);
        let mut bad = signed.clone();
        bad.passed = true;
        let body = json!({"method": REPORT_METHOD, "params": bad});
        let v = call(&mut l, &body.to_string());
        assert_eq!(v["error"]["code"], REFUSED);
        let stranger = Identity::from_ed25519_seed(&[9; 32]);
        let body = json!({"method": REPORT_METHOD, "params": SignedReport::sign(&stranger, &peer, false, NOW)});
        let v = call(&mut l, &body.to_string());
        assert_eq!(v["error"]["code"], REFUSED);
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not an active"));
        let body = json!({"method": REPORT_METHOD, "params": SignedReport::sign(&me, &peer, false, NOW - 61)});
        let v = call(&mut l, &body.to_string());
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("timestamp"));
    }
}
