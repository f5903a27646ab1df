//! `sotto-devnet status`: what the registry and each node say, put together (no I/O here).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;
use sotto_rpc::nodes::{parse_node_list, NodeInfo, UNASSIGNED_SWARM_ID};

use crate::files::Network;

/// One node's health.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeHealth {
    /// Ed25519 key, hex.
    pub ed25519: String,
    /// Its HTTPS base URL.
    pub url: String,
    /// Whether the registry lists it (false once deregistered).
    pub registered: bool,
    /// Its swarm according to the registry, hex (none if unregistered or unassigned).
    pub swarm: Option<String>,
    /// Whether it answered `GET /get_stats/v1`.
    pub up: bool,
    /// Whether it says it serves a swarm.
    pub ready: Option<bool>,
    /// Its own idea of its swarm, hex.
    pub node_swarm: Option<String>,
    /// Messages it stores, if it says.
    pub messages: Option<u64>,
    /// Why it is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole status.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// The registry's JSON-RPC URL.
    pub seed_url: String,
    /// Whether the registry answered.
    pub registry_up: bool,
    /// Its block height.
    pub height: Option<u64>,
    /// Why it did not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_error: Option<String>,
    /// Swarm id (hex) → members' Ed25519 keys, from the registry.
    pub swarms: BTreeMap<String, Vec<String>>,
    /// Every node of `network.json` and of the registry's list.
    pub nodes: Vec<NodeHealth>,
}

fn swarm_hex(id: Option<u64>) -> Option<String> {
    id.filter(|&id| id != UNASSIGNED_SWARM_ID)
        .map(|id| format!("{id:016x}"))
}

/// The nodes to ask: those of `network.json`, then any the registry lists besides.
pub fn nodes_to_query(network: &Network, registry: Option<&Value>) -> Vec<NodeInfo> {
    let mut nodes = network.nodes.clone();
    if let Some(listed) = registry.and_then(|r| parse_node_list(r).ok()) {
        for node in listed {
            if !nodes.iter().any(|n| n.ed25519 == node.ed25519) {
                nodes.push(node);
            }
        }
    }
    nodes
}

impl Status {
    /// Put together the registry's `get_n_service_nodes` result (or why it failed) and each
    /// node's `/get_stats/v1` answer (or why it failed).
    pub fn new(
        network: &Network,
        registry: Result<&Value, String>,
        stats: &[(NodeInfo, Result<Value, String>)],
    ) -> Self {
        let listed = registry
            .as_ref()
            .ok()
            .and_then(|r| parse_node_list(r).ok())
            .unwrap_or_default();
        let mut swarms: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for node in &listed {
            if let Some(id) = swarm_hex(node.swarm_id) {
                swarms.entry(id).or_default().push(node.ed25519.to_hex());
            }
        }
        let nodes = stats
            .iter()
            .map(|(node, answer)| {
                let entry = listed.iter().find(|n| n.ed25519 == node.ed25519);
                let (up, ready, node_swarm, messages, error) = match answer {
                    Ok(v) => (
                        true,
                        v.get("ready").and_then(Value::as_bool),
                        swarm_hex(v.get("swarm_id").and_then(Value::as_u64)),
                        v.get("messages").and_then(Value::as_u64),
                        None,
                    ),
                    Err(e) => (false, None, None, None, Some(e.clone())),
                };
                NodeHealth {
                    ed25519: node.ed25519.to_hex(),
                    url: node.base_url(),
                    registered: entry.is_some(),
                    swarm: entry.and_then(|n| swarm_hex(n.swarm_id)),
                    up,
                    ready,
                    node_swarm,
                    messages,
                    error,
                }
            })
            .collect();
        let (registry_up, height, registry_error) = match registry {
            Ok(r) => (true, r.get("height").and_then(Value::as_u64), None),
            Err(e) => (false, None, Some(e)),
        };
        Self {
            seed_url: network.seed_url.clone(),
            registry_up,
            height,
            registry_error,
            swarms,
            nodes,
        }
    }

    /// The human-readable form.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let short = |key: &str| key.chars().take(12).collect::<String>();
        match (&self.registry_error, self.height) {
            (Some(e), _) => {
                let _ = writeln!(out, "registry {}: DOWN ({e})", self.seed_url);
            }
            (None, height) => {
                let height = height.map_or_else(|| "?".to_owned(), |h| h.to_string());
                let _ = writeln!(
                    out,
                    "registry {}: up, height {height}, {} registered nodes",
                    self.seed_url,
                    self.nodes.iter().filter(|n| n.registered).count()
                );
            }
        }
        let _ = writeln!(out, "\nswarms ({}):", self.swarms.len());
        for (id, members) in &self.swarms {
            let names: Vec<String> = members.iter().map(|m| short(m)).collect();
            let _ = writeln!(out, "  {id}  {} nodes: {}", members.len(), names.join(" "));
        }
        let _ = writeln!(out, "\nnodes ({}):", self.nodes.len());
        let _ = writeln!(
            out,
            "  {:<12}  {:<22}  {:<10}  {:<4}  {:<5}  {:<16}  {:>8}",
            "ed25519", "address", "registry", "up", "ready", "swarm", "messages"
        );
        for n in &self.nodes {
            let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
            let _ = writeln!(
                out,
                "  {:<12}  {:<22}  {:<10}  {:<4}  {:<5}  {:<16}  {:>8}",
                short(&n.ed25519),
                n.url.trim_start_matches("https://"),
                if n.registered { "listed" } else { "gone" },
                if n.up { "up" } else { "DOWN" },
                opt(n.ready.map(|r| if r { "yes" } else { "no" }.to_owned())),
                opt(n.node_swarm.clone().or_else(|| n.swarm.clone())),
                opt(n.messages.map(|m| m.to_string())),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use serde_json::json;

    use super::*;
    use crate::config::SwarmSizes;

    fn state(byte: u8, port: u16, swarm: u64) -> Value {
        json!({
            "public_ip": "127.0.0.1",
            "storage_port": port,
            "pubkey_ed25519": format!("{byte:02x}").repeat(32),
            "pubkey_x25519": "22".repeat(32),
            "swarm_id": swarm,
        })
    }

    #[test]
    fn groups_swarms_and_marks_gone_and_down_nodes() {
        let all =
            json!({"service_node_states": [state(1, 11, 0), state(2, 12, 0), state(3, 13, 7)]});
        let network = Network {
            seed_url: "https://127.0.0.1:1/json_rpc".into(),
            swarm_sizes: SwarmSizes::default(),
            nodes: parse_node_list(&all).unwrap(),
        };
        // Node 3 was deregistered; node 4 joined later.
        let registry = json!({
            "height": 9,
            "service_node_states": [state(1, 11, 0), state(2, 12, 0), state(4, 14, 0)],
        });
        let query = nodes_to_query(&network, Some(&registry));
        assert_eq!(query.len(), 4);
        let stats: Vec<_> = query
            .iter()
            .map(|n| {
                let answer = if n.storage_port == 13 {
                    Err("connection refused".to_owned())
                } else {
                    Ok(json!({"ready": true, "swarm_id": 0, "messages": 5}))
                };
                (n.clone(), answer)
            })
            .collect();
        let status = Status::new(&network, Ok(&registry), &stats);
        assert_eq!(status.height, Some(9));
        assert_eq!(status.swarms.len(), 1);
        assert_eq!(status.swarms["0000000000000000"].len(), 3);
        let gone = &status.nodes[2];
        assert!(!gone.registered && !gone.up && gone.ready.is_none());
        assert_eq!(status.nodes[3].messages, Some(5));
        let text = status.render();
        assert!(text.contains("height 9, 3 registered nodes"), "{text}");
        assert!(text.contains("DOWN"), "{text}");
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["nodes"][0]["ready"], true);

        let down = Status::new(&network, Err("timed out".into()), &stats[..1]);
        assert!(!down.registry_up && down.swarms.is_empty());
        assert!(down.render().contains("DOWN (timed out)"));
    }
}
