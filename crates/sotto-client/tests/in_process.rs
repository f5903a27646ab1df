//! The client library against an in-process network: `Transport` implemented by real
//! `sotto-node` engines (storage, swarm view, 421s) and the real onion peeling of `sotto-onion`,
//! without sockets. Two accounts converse through 3-hop paths.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::sync::Arc;

use sotto_client::messenger::{Event, Messenger};
use sotto_client::profile::Profile;
use sotto_client::transport::{RpcClient, Transport, ONION_PATH, STORAGE_RPC_PATH};
use sotto_client::{Error, NodeInfo};
use sotto_crypto::layer::EncType;
use sotto_crypto::{Ed25519PublicKey, Identity, Seed};
use sotto_node::keys::NodeKeys;
use sotto_node::service::{Body, Node};
use sotto_node::store::{Store, StoreOptions};
use sotto_node::swarm::SwarmView;
use sotto_onion::node::{peel, Layer, NodeKeys as OnionKeys, Peeled, ReplyBody};

/// Nodes in memory, in two swarms; requests are answered synchronously.
struct InProcess {
    nodes: HashMap<Ed25519PublicKey, (Arc<Node>, OnionKeys)>,
    _dirs: Vec<tempfile::TempDir>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

impl InProcess {
    fn new(count: usize) -> (Self, Vec<NodeInfo>) {
        let mut infos = Vec::new();
        let mut made = Vec::new();
        let mut dirs = Vec::new();
        for i in 0..count {
            let dir = tempfile::tempdir().unwrap();
            let keys = NodeKeys::load_or_create(dir.path()).unwrap();
            infos.push(NodeInfo {
                ed25519: keys.ed25519(),
                x25519: keys.x25519(),
                ip: "127.0.0.1".parse().unwrap(),
                storage_port: 1000 + i as u16,
                swarm_id: Some(if i % 2 == 0 { 0 } else { u64::MAX / 2 }),
            });
            made.push(keys);
            dirs.push(dir);
        }
        let mut nodes = HashMap::new();
        for keys in made {
            let view = SwarmView::from_nodes(keys.ed25519(), &infos);
            let onion = OnionKeys::new(*keys.x25519_secret());
            let store = Store::open_in_memory(&StoreOptions::default()).unwrap();
            let key = keys.ed25519();
            nodes.insert(key, (Arc::new(Node::new(keys, store, view)), onion));
        }
        (Self { nodes, _dirs: dirs }, infos)
    }

    /// Run a storage request on `node`; a successful one also runs on its swarm peers, as
    /// replication would.
    fn storage(&self, node: &Arc<Node>, body: &[u8]) -> sotto_node::service::Reply {
        let reply = node.handle(body, now());
        if reply.status == 200 {
            for (other, _) in self.nodes.values() {
                if !Arc::ptr_eq(other, node) && other.view().my_swarm() == node.view().my_swarm() {
                    other.handle(body, now());
                }
            }
        }
        reply
    }

    /// A node's onion handling, in memory: peel, relay to the next node's engine, or answer.
    fn onion(&self, at: &Ed25519PublicKey, layer: Layer) -> (u16, Vec<u8>) {
        let (node, keys) = &self.nodes[at];
        match peel(keys, &layer) {
            Ok(Peeled::Relay { destination, next }) => {
                if self.nodes.contains_key(&destination) {
                    self.onion(&destination, next)
                } else {
                    (
                        502,
                        format!("Next node not found: {destination}").into_bytes(),
                    )
                }
            }
            Ok(Peeled::Final { request, replier }) => {
                let reply = self.storage(node, &request.body);
                let body = match reply.body {
                    Body::Text(t) => ReplyBody::Text(t),
                    json => ReplyBody::Json(json.into_value()),
                };
                let wrapped = replier.wrap(
                    &mut rand::rngs::OsRng,
                    reply.status,
                    &body,
                    request.json,
                    request.base64,
                );
                (200, wrapped)
            }
            Ok(Peeled::Proxy { .. }) => (400, b"no proxying in process".to_vec()),
            Err(e) => e.to_reply(&mut rand::rngs::OsRng),
        }
    }
}

/// `Transport` over a shared in-process network.
struct Shared(Arc<InProcess>);

impl Transport for Shared {
    async fn post(
        &self,
        node: &NodeInfo,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), Error> {
        let network = &self.0;
        let Some((engine, _)) = network.nodes.get(&node.ed25519) else {
            return Err(Error::Unreachable {
                node: node.ed25519,
                url: path.to_owned(),
                reason: "not in the in-process network".into(),
            });
        };
        match path {
            STORAGE_RPC_PATH => {
                let reply = network.storage(engine, &body);
                let bytes = match reply.body {
                    Body::Json(v) => v.to_string().into_bytes(),
                    Body::Page(page) => page.to_json_bytes(),
                    Body::Text(t) => t.into_bytes(),
                };
                Ok((reply.status, bytes))
            }
            ONION_PATH => match Layer::from_entry_body(&body) {
                Ok(layer) => Ok(network.onion(&node.ed25519, layer)),
                Err(e) => Ok(e.to_reply(&mut rand::rngs::OsRng)),
            },
            other => Ok((404, format!("POST {other} Not Found").into_bytes())),
        }
    }
}

#[tokio::test]
async fn two_accounts_converse_over_an_in_process_network() {
    let (network, infos) = InProcess::new(8);
    let network = Arc::new(network);
    let alice = Messenger::new(
        RpcClient::new(Shared(Arc::clone(&network)), EncType::XChaCha20),
        Identity::from_seed(&Seed::Standard([0xa1; 16])),
        infos.clone(),
    );
    let bob = Messenger::new(
        RpcClient::new(Shared(Arc::clone(&network)), EncType::AesGcm),
        Identity::from_seed(&Seed::Standard([0xb0; 16])),
        infos,
    );
    assert_eq!(alice.ensure_guards(&[]).await.len(), 2);
    let bob_dir = tempfile::tempdir().unwrap();
    let bob_profile = Profile::open(bob_dir.path()).unwrap();
    let alice_dir = tempfile::tempdir().unwrap();
    let alice_profile = Profile::open(alice_dir.path()).unwrap();

    let sent = alice
        .send(&bob.session_id(), "in memory", now())
        .await
        .unwrap();
    assert_eq!(sent.confirmations, 1);
    let events = bob.poll(&bob_profile, now()).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Message(m) if m.body == "in memory" && !m.outgoing)),
        "{events:?}"
    );
    // Polling again finds nothing new (dedup by hash, per-node last_hash).
    assert!(bob.poll(&bob_profile, now()).await.unwrap().is_empty());

    bob.send(&alice.session_id(), "and back", now())
        .await
        .unwrap();
    let events = alice.poll(&alice_profile, now()).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Message(m) if m.body == "and back")),
        "{events:?}"
    );
    // Alice's own sync copy files her message as outgoing.
    let conversation = alice_profile
        .conversation(&bob.session_id().to_string())
        .unwrap();
    assert!(
        conversation
            .iter()
            .any(|m| m.outgoing && m.body == "in memory"),
        "{conversation:?}"
    );
}
