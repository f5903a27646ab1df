//! Who else is in the network: the node list this node relays onion layers by. Standalone
//! nodes read it once from `--static-nodes`; in network mode it follows the registry.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sotto_crypto::Ed25519PublicKey;
use sotto_rpc::nodes::NodeInfo;

/// The current node list, shared by request handlers and replaced as a whole when it changes.
#[derive(Debug, Default)]
pub struct Directory {
    nodes: RwLock<Arc<HashMap<Ed25519PublicKey, NodeInfo>>>,
}

impl Directory {
    /// A directory holding `nodes`.
    pub fn new(nodes: Vec<NodeInfo>) -> Self {
        let directory = Self::default();
        directory.replace(nodes);
        directory
    }

    /// Replace the whole list.
    pub fn replace(&self, nodes: Vec<NodeInfo>) {
        let map = nodes.into_iter().map(|n| (n.ed25519, n)).collect();
        *self
            .nodes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(map);
    }

    /// The node with this key, if listed.
    pub fn get(&self, key: &Ed25519PublicKey) -> Option<NodeInfo> {
        self.snapshot().get(key).cloned()
    }

    /// The whole list as it is now.
    pub fn snapshot(&self) -> Arc<HashMap<Ed25519PublicKey, NodeInfo>> {
        Arc::clone(
            &self
                .nodes
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// How many nodes are listed.
    pub fn len(&self) -> usize {
        self.snapshot().len()
    }

    /// Whether no node is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
