//! The files a running devnet leaves in its directory: `network.json` (what clients read) and
//! `pids.json` (every process it started, for tests and for cleaning up after a `kill -9`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sotto_rpc::nodes::{parse_node_list, NodeInfo};

use crate::config::SwarmSizes;
use crate::Error;

/// The network description, written once every node serves its swarm.
pub const NETWORK_FILE: &str = "network.json";
/// The process ids, rewritten after each process starts.
pub const PIDS_FILE: &str = "pids.json";
/// Per-process logs (stderr of the registry and each node).
pub const LOG_DIR: &str = "logs";

/// `network.json`: the registry's JSON-RPC URL, the swarm sizes, and the node list exactly as
/// `get_n_service_nodes` returned it.
pub fn network_json(seed_url: &str, sizes: SwarmSizes, service_node_states: &[Value]) -> Value {
    json!({
        "seed_url": seed_url,
        "swarm_sizes": sizes,
        "service_node_states": service_node_states,
    })
}

/// Write `bytes` to `path` so that a reader sees the old file or the new one, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|source| Error::Io {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

fn read_json(path: &Path) -> Result<Value, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| Error::Format {
        path: path.to_owned(),
        why: e.to_string(),
    })
}

/// A parsed `network.json`.
#[derive(Clone, Debug)]
pub struct Network {
    /// The registry's JSON-RPC URL.
    pub seed_url: String,
    /// The swarm sizes the registry was started with.
    pub swarm_sizes: SwarmSizes,
    /// The nodes, as clients read them.
    pub nodes: Vec<NodeInfo>,
}

/// Read `DIR/network.json`.
pub fn read_network(dir: &Path) -> Result<Network, Error> {
    let path = dir.join(NETWORK_FILE);
    let json = read_json(&path)?;
    let bad = |why: String| Error::Format {
        path: path.clone(),
        why,
    };
    let seed_url = json
        .get("seed_url")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no seed_url".into()))?
        .to_owned();
    let swarm_sizes = serde_json::from_value(json.get("swarm_sizes").cloned().unwrap_or_default())
        .map_err(|e| bad(format!("swarm_sizes: {e}")))?;
    let nodes = parse_node_list(&json).map_err(|e| bad(e.to_string()))?;
    Ok(Network {
        seed_url,
        swarm_sizes,
        nodes,
    })
}

/// `pids.json`: the devnet's own pid and those of the processes it started (`null` for a node
/// not started yet).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pids {
    /// `sotto-devnet up` itself.
    pub devnet: u32,
    /// The registry.
    pub registry: Option<u32>,
    /// Node `i`'s pid at index `i`.
    pub nodes: Vec<Option<u32>>,
    /// The file server, if the devnet runs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_server: Option<u32>,
}

impl Pids {
    /// Every child pid recorded.
    pub fn children(&self) -> Vec<u32> {
        self.registry
            .iter()
            .chain(self.nodes.iter().flatten())
            .chain(self.file_server.iter())
            .copied()
            .collect()
    }

    /// Write `DIR/pids.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        let path = dir.join(PIDS_FILE);
        let text = serde_json::to_vec_pretty(self).map_err(|e| Error::Format {
            path: path.clone(),
            why: e.to_string(),
        })?;
        write_atomic(&path, &text)
    }

    /// Read `DIR/pids.json`.
    pub fn read(dir: &Path) -> Result<Self, Error> {
        let path = dir.join(PIDS_FILE);
        serde_json::from_value(read_json(&path)?).map_err(|e| Error::Format {
            path,
            why: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn state(port: u16, swarm: u64) -> Value {
        json!({
            "public_ip": "127.0.0.1",
            "storage_port": port,
            "pubkey_ed25519": format!("{:02x}", port % 200).repeat(32),
            "pubkey_x25519": "22".repeat(32),
            "swarm_id": swarm,
            "swarm": format!("{swarm:x}"),
            "active": true,
        })
    }

    #[test]
    fn network_json_round_trips_through_parse_node_list() {
        let dir = tempfile::tempdir().unwrap();
        let states = [state(1001, 0), state(1002, u64::MAX - 5)];
        let json = network_json(
            "https://127.0.0.1:9/json_rpc",
            SwarmSizes::default(),
            &states,
        );
        assert_eq!(json["swarm_sizes"], json!({"min": 3, "ideal": 4, "max": 6}));
        let path = dir.path().join(NETWORK_FILE);
        write_atomic(&path, json.to_string().as_bytes()).unwrap();
        assert!(!dir.path().join("network.json.tmp").exists());
        let nodes = parse_node_list(&json).unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[1].swarm_id, Some(u64::MAX - 5));
        let read = read_network(dir.path()).unwrap();
        assert_eq!(read.seed_url, "https://127.0.0.1:9/json_rpc");
        assert_eq!(read.swarm_sizes, SwarmSizes::default());
        assert_eq!(read.nodes, nodes);
        // The extra fields of get_n_service_nodes are kept verbatim.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"active\":true"), "{text}");
    }

    #[test]
    fn pids_round_trip_and_bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let pids = Pids {
            devnet: 1,
            registry: Some(2),
            nodes: vec![Some(3), None, Some(5)],
            file_server: Some(7),
        };
        pids.write(dir.path()).unwrap();
        assert_eq!(Pids::read(dir.path()).unwrap(), pids);
        assert_eq!(pids.children(), [2, 3, 5, 7]);
        std::fs::write(dir.path().join(NETWORK_FILE), "{}").unwrap();
        let err = read_network(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("network.json") && err.contains("seed_url"),
            "{err}"
        );
        assert!(read_network(&dir.path().join("absent")).is_err());
    }
}
