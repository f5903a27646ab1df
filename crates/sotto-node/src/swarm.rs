//! Which accounts this node serves, and with whom: the swarm view computed from the node list
//! (`swarms.md` §1). Standalone, the node is a swarm of one that owns every account.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use sotto_crypto::Ed25519PublicKey;
use sotto_rpc::nodes::{NodeInfo, UNASSIGNED_SWARM_ID};
use sotto_rpc::AccountId;

use crate::service::STANDALONE_SWARM;

/// The network as this node sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmView {
    me: Ed25519PublicKey,
    standalone: bool,
    my_swarm: Option<u64>,
    /// Members of every swarm, by swarm id (sorted by key within a swarm).
    swarms: BTreeMap<u64, Vec<NodeInfo>>,
}

impl SwarmView {
    /// A network of one: this node, owning every account.
    pub fn standalone(me: NodeInfo) -> Self {
        let key = me.ed25519;
        Self {
            me: key,
            standalone: true,
            my_swarm: Some(STANDALONE_SWARM),
            swarms: BTreeMap::from([(STANDALONE_SWARM, vec![me])]),
        }
    }

    /// The view from a node list: nodes grouped by `swarm_id`; nodes without one (or with the
    /// unassigned id) are in no swarm.
    pub fn from_nodes(me: Ed25519PublicKey, nodes: &[NodeInfo]) -> Self {
        let mut swarms: BTreeMap<u64, Vec<NodeInfo>> = BTreeMap::new();
        for node in nodes {
            if let Some(id) = node.swarm_id.filter(|&id| id != UNASSIGNED_SWARM_ID) {
                swarms.entry(id).or_default().push(node.clone());
            }
        }
        for members in swarms.values_mut() {
            members.sort_by_key(|n| n.ed25519);
            members.dedup_by_key(|n| n.ed25519);
        }
        let my_swarm = swarms
            .iter()
            .find(|(_, members)| members.iter().any(|n| n.ed25519 == me))
            .map(|(&id, _)| id);
        Self {
            me,
            standalone: false,
            my_swarm,
            swarms,
        }
    }

    /// An empty view (network mode before the first registry answer).
    pub fn empty(me: Ed25519PublicKey) -> Self {
        Self::from_nodes(me, &[])
    }

    /// Whether this node is in a swarm and can serve requests.
    pub fn ready(&self) -> bool {
        self.my_swarm.is_some()
    }

    /// Whether this is standalone mode.
    pub fn is_standalone(&self) -> bool {
        self.standalone
    }

    /// This node's swarm.
    pub fn my_swarm(&self) -> Option<u64> {
        self.my_swarm
    }

    /// The swarm an account belongs to (`swarms.md` §1.2).
    pub fn swarm_of(&self, account: &AccountId) -> Option<u64> {
        if self.standalone {
            return self.my_swarm;
        }
        let ids: Vec<u64> = self.swarms.keys().copied().collect();
        sotto_swarm::closest_swarm(&ids, sotto_swarm::swarm_space_prefixed(account.as_bytes()))
    }

    /// Whether this node stores `account`'s messages.
    pub fn owns(&self, account: &AccountId) -> bool {
        self.my_swarm.is_some() && self.swarm_of(account) == self.my_swarm
    }

    /// The members of a swarm.
    pub fn members(&self, swarm: u64) -> &[NodeInfo] {
        self.swarms.get(&swarm).map_or(&[], Vec::as_slice)
    }

    /// The other members of this node's swarm.
    pub fn peers(&self) -> Vec<NodeInfo> {
        self.my_swarm
            .map(|id| {
                self.members(id)
                    .iter()
                    .filter(|n| n.ed25519 != self.me)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every swarm and its members.
    pub fn swarms(&self) -> &BTreeMap<u64, Vec<NodeInfo>> {
        &self.swarms
    }

    /// The `get_swarm` body for `account`, also the body of a `421` (`storage-rpc.md` §3.9):
    /// its swarm's members, or an empty list and the unassigned id if no swarm is known.
    pub fn swarm_json(&self, account: &AccountId) -> Value {
        let Some(id) = self.swarm_of(account) else {
            return json!({"snodes": [], "swarm": format!("{UNASSIGNED_SWARM_ID:x}")});
        };
        let snodes: Vec<Value> = self.members(id).iter().map(snode_json).collect();
        json!({"snodes": snodes, "swarm": format!("{id:x}")})
    }
}

impl SwarmView {
    /// The `result` of `get_service_nodes` as this node answers `oxend_request`: every node in a
    /// swarm, with the `fields` asked for (all when empty), in the registry's shapes
    /// (`swarms.md` §4).
    pub fn service_nodes_json(&self, fields: &[String]) -> Value {
        let want = |f: &str| fields.is_empty() || fields.iter().any(|x| x == f);
        let mut states = Vec::new();
        for (id, members) in &self.swarms {
            for n in members {
                let key = n.ed25519.to_hex();
                let all = [
                    ("service_node_pubkey", json!(key)),
                    ("pubkey_ed25519", json!(key)),
                    ("pubkey_x25519", json!(n.x25519.to_hex())),
                    ("public_ip", json!(n.ip.to_string())),
                    ("storage_port", json!(n.storage_port)),
                    ("storage_lmq_port", json!(n.storage_port)),
                    ("storage_server_version", json!([2, 8, 0])),
                    ("swarm_id", json!(id)),
                    ("swarm", json!(format!("{id:x}"))),
                    ("funded", json!(true)),
                    ("active", json!(true)),
                ];
                let entry: serde_json::Map<String, Value> = all
                    .into_iter()
                    .filter(|(k, _)| want(k))
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect();
                states.push(Value::Object(entry));
            }
        }
        json!({"service_node_states": states, "status": "OK"})
    }
}

/// One `snodes` entry of `get_swarm`.
fn snode_json(node: &NodeInfo) -> Value {
    let key = node.ed25519.to_hex();
    json!({
        "address": format!("{key}.snode"),
        "pubkey_legacy": key,
        "pubkey_x25519": node.x25519.to_hex(),
        "pubkey_ed25519": key,
        "port": node.storage_port.to_string(),
        "port_https": node.storage_port,
        "port_omq": node.storage_port,
        "port_quic": node.storage_port,
        "ip": node.ip.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use sotto_crypto::X25519PublicKey;

    use super::*;

    fn node(i: u8, swarm: Option<u64>) -> NodeInfo {
        NodeInfo {
            ed25519: Ed25519PublicKey([i; 32]),
            x25519: X25519PublicKey([i; 32]),
            ip: "127.0.0.1".parse().unwrap(),
            storage_port: 1000 + u16::from(i),
            swarm_id: swarm,
        }
    }

    fn account(v: u64) -> AccountId {
        let mut b = [0u8; 33];
        b[0] = 0x05;
        b[25..].copy_from_slice(&v.to_be_bytes());
        AccountId::from_bytes(b)
    }

    #[test]
    fn accounts_map_to_the_closest_swarm() {
        let nodes = [
            node(1, Some(100)),
            node(2, Some(100)),
            node(3, Some(300)),
            node(4, Some(UNASSIGNED_SWARM_ID)),
            node(5, None),
        ];
        let view = SwarmView::from_nodes(Ed25519PublicKey([1; 32]), &nodes);
        assert!(view.ready());
        assert_eq!(view.my_swarm(), Some(100));
        assert_eq!(view.swarm_of(&account(150)), Some(100));
        assert_eq!(view.swarm_of(&account(250)), Some(300));
        assert!(view.owns(&account(90)));
        assert!(!view.owns(&account(299)));
        assert_eq!(view.peers(), vec![node(2, Some(100))]);
        let j = view.swarm_json(&account(299));
        assert_eq!(j["swarm"], "12c");
        assert_eq!(j["snodes"][0]["pubkey_ed25519"], "03".repeat(32));
        assert_eq!(j["snodes"][0]["port"], "1003");
    }

    #[test]
    fn a_node_in_no_swarm_is_not_ready_and_owns_nothing() {
        let view = SwarmView::from_nodes(
            Ed25519PublicKey([4; 32]),
            &[node(1, Some(7)), node(4, Some(UNASSIGNED_SWARM_ID))],
        );
        assert!(!view.ready());
        assert!(!view.owns(&account(7)));
        let empty = SwarmView::empty(Ed25519PublicKey([4; 32]));
        assert_eq!(empty.swarm_json(&account(1))["swarm"], "ffffffffffffffff");
    }

    #[test]
    fn service_nodes_with_the_fields_asked_for() {
        let view = SwarmView::from_nodes(
            Ed25519PublicKey([1; 32]),
            &[node(1, Some(5)), node(2, Some(9)), node(3, None)],
        );
        let all = view.service_nodes_json(&[]);
        let states = all["service_node_states"].as_array().unwrap();
        assert_eq!(states.len(), 2);
        assert_eq!(states[0]["swarm_id"], 5);
        assert_eq!(states[0]["storage_server_version"], json!([2, 8, 0]));
        let some = view.service_nodes_json(&["public_ip".into(), "pubkey_ed25519".into()]);
        let first = some["service_node_states"][0].as_object().unwrap();
        assert_eq!(first.len(), 2);
        // What clients read back parses as a node list (without the ports, it cannot).
        let list = sotto_rpc::nodes::parse_node_list(&all).unwrap();
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn standalone_owns_everything() {
        let view = SwarmView::standalone(node(9, None));
        assert!(view.owns(&account(0)) && view.owns(&account(u64::MAX)));
        assert!(view.peers().is_empty());
        assert_eq!(
            view.swarm_json(&account(5))["snodes"][0]["port_https"],
            1009
        );
    }
}
