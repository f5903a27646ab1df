//! Which network to use: a devnet's `network.json` (seed URL plus node list) or a file naming
//! seed URLs, and the bootstrap from a seed's `get_n_service_nodes` (`swarms.md` §4).

use serde_json::{json, Value};
use sotto_rpc::nodes::{parse_node_list, NodeInfo};

use crate::err::{Error, Result};

/// A network description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConfig {
    /// Seed JSON-RPC URLs (`https://HOST:PORT/json_rpc`).
    pub seed_urls: Vec<String>,
    /// Nodes listed in the file, if any.
    pub nodes: Vec<NodeInfo>,
    /// The file server for attachments, if the file names one (`file_server`).
    pub file_server: Option<crate::files::FileServer>,
}

impl NetworkConfig {
    /// Read a description: `{"seed_url": …}` or `{"seed_urls": [...]}`, with an optional
    /// `service_node_states` list (as a devnet writes).
    pub fn from_json(v: &Value) -> Result<Self> {
        let mut seed_urls = Vec::new();
        if let Some(url) = v.get("seed_url").and_then(Value::as_str) {
            seed_urls.push(url.to_owned());
        }
        if let Some(list) = v.get("seed_urls").and_then(Value::as_array) {
            seed_urls.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        let nodes = if v.get("service_node_states").is_some() {
            parse_node_list(v).map_err(|e| Error::Network(e.to_string()))?
        } else {
            Vec::new()
        };
        let file_server = v
            .get("file_server")
            .map(crate::files::FileServer::from_json)
            .transpose()?;
        if seed_urls.is_empty() && nodes.is_empty() {
            return Err(Error::Network(
                "the network file names no seed_url, seed_urls or service_node_states".into(),
            ));
        }
        Ok(Self {
            seed_urls,
            nodes,
            file_server,
        })
    }

    /// Read a description file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Network(format!("cannot read {}: {e}", path.display())))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| Error::Network(format!("{} is not JSON: {e}", path.display())))?;
        Self::from_json(&v)
    }

    /// The current node list: from a seed (the first that answers), else the file's list.
    pub async fn bootstrap(&self, http: &reqwest::Client) -> Result<Vec<NodeInfo>> {
        let body = json!({"jsonrpc": "2.0", "id": 0, "method": "get_n_service_nodes",
            "params": {"active_only": true, "fields": {"public_ip": true, "storage_port": true,
                "pubkey_x25519": true, "pubkey_ed25519": true, "storage_server_version": true,
                "swarm_id": true}}});
        let mut why = Vec::new();
        for url in &self.seed_urls {
            let answer = async {
                let v: Value = http.post(url).json(&body).send().await?.json().await?;
                Ok::<_, reqwest::Error>(v)
            }
            .await;
            match answer
                .map_err(|e| e.to_string())
                .and_then(|v| parse_node_list(&v).map_err(|e| e.to_string()))
            {
                Ok(nodes) if !nodes.is_empty() => return Ok(nodes),
                Ok(_) => why.push(format!("{url}: no nodes")),
                Err(e) => why.push(format!("{url}: {e}")),
            }
        }
        if !self.nodes.is_empty() {
            return Ok(self.nodes.clone());
        }
        Err(Error::Network(format!(
            "no seed answered ({})",
            why.join("; ")
        )))
    }
}

/// Profile setting holding the last node list (JSON, as `get_n_service_nodes`).
pub const NODE_CACHE_SETTING: &str = "node_cache";
/// Profile setting holding the guards' keys (comma-separated hex).
pub const GUARDS_SETTING: &str = "guards";

impl NetworkConfig {
    /// [`NetworkConfig::bootstrap`], remembering the list in `profile`; when no seed answers,
    /// the remembered list is used (a client keeps working while the seeds are down).
    pub async fn bootstrap_cached(
        &self,
        http: &reqwest::Client,
        profile: &crate::profile::Profile,
    ) -> Result<Vec<NodeInfo>> {
        match self.bootstrap(http).await {
            Ok(nodes) => {
                let json = sotto_rpc::nodes::node_list_json(&nodes).to_string();
                profile.set_setting(NODE_CACHE_SETTING, &json)?;
                Ok(nodes)
            }
            Err(e) => {
                let cached = profile
                    .setting(NODE_CACHE_SETTING)?
                    .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                    .and_then(|v| parse_node_list(&v).ok())
                    .filter(|nodes| !nodes.is_empty());
                match cached {
                    Some(nodes) => {
                        tracing::warn!(error = %e, "seeds unreachable; using the cached node list");
                        Ok(nodes)
                    }
                    None => Err(e),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_devnet_and_seed_files() {
        let devnet = json!({"seed_url": "https://127.0.0.1:1/json_rpc", "swarm_sizes": {},
            "service_node_states": [{"public_ip": "127.0.0.1", "storage_port": 5,
            "pubkey_ed25519": "11".repeat(32), "pubkey_x25519": "22".repeat(32), "swarm_id": 0}]});
        let c = NetworkConfig::from_json(&devnet).unwrap();
        assert_eq!(c.seed_urls, vec!["https://127.0.0.1:1/json_rpc"]);
        assert_eq!(c.nodes.len(), 1);
        let seeds = NetworkConfig::from_json(&json!({"seed_urls": ["a", "b"]})).unwrap();
        assert_eq!(seeds.seed_urls.len(), 2);
        assert!(NetworkConfig::from_json(&json!({})).is_err());
        assert!(
            NetworkConfig::from_json(&json!({"seed_url": "x", "service_node_states": 1})).is_err()
        );
    }
}
