//! The service-node list as `get_n_service_nodes` publishes it (`swarms.md` §4): what nodes,
//! clients and the devnet's `network.json` exchange to know who is in the network.

use std::net::IpAddr;

use serde_json::{Map, Value};
use sotto_crypto::{Ed25519PublicKey, X25519PublicKey};

/// The swarm id of a node in no swarm ("decommissioned"; `service_node_rules.h`).
pub const UNASSIGNED_SWARM_ID: u64 = u64::MAX;

/// One node of the list, with the fields nodes and clients read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Its Ed25519 key: its name in onion requests and signed answers.
    pub ed25519: Ed25519PublicKey,
    /// Its X25519 key: what onion layers are encrypted to.
    pub x25519: X25519PublicKey,
    /// Its public address.
    pub ip: IpAddr,
    /// Its HTTPS port.
    pub storage_port: u16,
    /// Its swarm, if the list says ([`UNASSIGNED_SWARM_ID`] = none).
    pub swarm_id: Option<u64>,
}

impl NodeInfo {
    /// The base URL of its HTTPS server, e.g. `https://127.0.0.1:22021`.
    pub fn base_url(&self) -> String {
        match self.ip {
            IpAddr::V4(ip) => format!("https://{ip}:{}", self.storage_port),
            IpAddr::V6(ip) => format!("https://[{ip}]:{}", self.storage_port),
        }
    }

    /// Whether it belongs to a swarm.
    pub fn in_swarm(&self) -> bool {
        self.swarm_id.is_some_and(|id| id != UNASSIGNED_SWARM_ID)
    }

    /// The entry as `get_n_service_nodes` lists it.
    pub fn to_json(&self) -> Value {
        let mut entry = Map::new();
        entry.insert("public_ip".into(), self.ip.to_string().into());
        entry.insert("storage_port".into(), self.storage_port.into());
        entry.insert("pubkey_ed25519".into(), self.ed25519.to_hex().into());
        entry.insert("pubkey_x25519".into(), self.x25519.to_hex().into());
        if let Some(id) = self.swarm_id {
            entry.insert("swarm_id".into(), id.into());
        }
        Value::Object(entry)
    }
}

/// Why a node list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node list: {0}")]
pub struct BadNodeList(String);

/// Read a node list: the `result` object of `get_n_service_nodes`, the whole JSON-RPC answer
/// (`{"result": {…}}`), or a devnet `network.json`; each holds `service_node_states`. Entries
/// whose `public_ip` is `0.0.0.0` (no uptime proof yet) are left out, as clients do; any other
/// malformed entry is an error naming it.
pub fn parse_node_list(json: &Value) -> Result<Vec<NodeInfo>, BadNodeList> {
    let result = json.get("result").unwrap_or(json);
    let states = result
        .get("service_node_states")
        .and_then(Value::as_array)
        .ok_or_else(|| BadNodeList("no service_node_states list".into()))?;
    let mut nodes = Vec::with_capacity(states.len());
    for (i, entry) in states.iter().enumerate() {
        let bad = |why: String| BadNodeList(format!("entry {i}: {why}"));
        let text = |field: &str| {
            entry
                .get(field)
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("missing or non-string {field}")))
        };
        let ip: IpAddr = text("public_ip")?
            .parse()
            .map_err(|e| bad(format!("public_ip: {e}")))?;
        if ip.is_unspecified() {
            continue;
        }
        let storage_port = entry
            .get("storage_port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .filter(|&p| p != 0)
            .ok_or_else(|| bad("storage_port must be a port number".into()))?;
        let swarm_id = match entry.get("swarm_id") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| bad("swarm_id must be an unsigned integer".into()))?,
            ),
        };
        nodes.push(NodeInfo {
            ed25519: text("pubkey_ed25519")?
                .parse()
                .map_err(|e| bad(format!("pubkey_ed25519: {e}")))?,
            x25519: text("pubkey_x25519")?
                .parse()
                .map_err(|e| bad(format!("pubkey_x25519: {e}")))?,
            ip,
            storage_port,
            swarm_id,
        });
    }
    Ok(nodes)
}

/// The `result` object listing `nodes`, as `get_n_service_nodes` answers.
pub fn node_list_json(nodes: &[NodeInfo]) -> Value {
    let states: Vec<Value> = nodes.iter().map(NodeInfo::to_json).collect();
    let mut result = Map::new();
    result.insert("service_node_states".into(), Value::Array(states));
    Value::Object(result)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use serde_json::json;

    use super::*;

    fn entry() -> Value {
        json!({
            "public_ip": "127.0.0.1",
            "storage_port": 22021,
            "pubkey_ed25519": "11".repeat(32),
            "pubkey_x25519": "22".repeat(32),
            "swarm_id": 18446744073709551614u64,
        })
    }

    #[test]
    fn reads_result_envelope_and_bare_forms() {
        let bare = json!({ "service_node_states": [entry()] });
        let envelope = json!({ "jsonrpc": "2.0", "id": 1, "result": bare.clone() });
        let a = parse_node_list(&bare).unwrap();
        assert_eq!(a, parse_node_list(&envelope).unwrap());
        assert_eq!(a[0].swarm_id, Some(u64::MAX - 1));
        assert_eq!(a[0].base_url(), "https://127.0.0.1:22021");
        assert_eq!(parse_node_list(&node_list_json(&a)).unwrap(), a);
    }

    #[test]
    fn drops_nodes_without_an_address() {
        let mut e = entry();
        e["public_ip"] = json!("0.0.0.0");
        let list = json!({ "service_node_states": [e, entry()] });
        assert_eq!(parse_node_list(&list).unwrap().len(), 1);
    }

    #[test]
    fn malformed_entries_are_named() {
        for (field, value, needle) in [
            ("public_ip", json!("nowhere"), "entry 0: public_ip"),
            ("storage_port", json!(70000), "storage_port"),
            ("storage_port", json!(0), "storage_port"),
            ("pubkey_ed25519", json!("abcd"), "pubkey_ed25519"),
            ("pubkey_x25519", json!(5), "pubkey_x25519"),
            ("swarm_id", json!(-1), "swarm_id"),
        ] {
            let mut e = entry();
            e[field] = value;
            let err = parse_node_list(&json!({ "service_node_states": [e] })).unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
        }
        assert!(parse_node_list(&json!({})).is_err());
        assert!(parse_node_list(&json!({ "service_node_states": 3 })).is_err());
    }

    #[test]
    fn ipv6_urls_are_bracketed() {
        let mut e = entry();
        e["public_ip"] = json!("::1");
        let n = parse_node_list(&json!({ "service_node_states": [e] })).unwrap();
        assert_eq!(n[0].base_url(), "https://[::1]:22021");
    }
}
