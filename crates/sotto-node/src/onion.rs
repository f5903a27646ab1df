//! `POST /onion_req/v2`: peel one layer, then relay it to the next node, answer the storage RPC
//! here, or proxy it to an external server (`onion.md` §5). The pure work is `sotto-onion`'s;
//! this module adds the network: the node list, pooled HTTPS connections and timeouts.

use std::sync::Arc;
use std::time::Duration;

use rand_core::OsRng;
use sotto_onion::node::{peel, Layer, NodeKeys as OnionKeys, Peeled, ReplyBody};
use sotto_onion::NodeError;

use crate::directory::Directory;
use crate::http::now_ms;
use crate::peer::{handle_client, PeerClient};
use crate::service::{Body, Node};

/// How long a relay waits for the next hop (`onion.md` §6: 30 s per hop upstream).
pub const RELAY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a proxied request to an external server may take (`ONION_URL_TIMEOUT`, 25 s).
pub const PROXY_TIMEOUT: Duration = Duration::from_secs(25);
/// Connect timeout for the next hop or the external server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The path of the onion endpoint.
pub const ONION_PATH: &str = "/onion_req/v2";

/// An answer to the previous hop or the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnionReply {
    /// HTTP status.
    pub status: u16,
    /// Body bytes (text for errors, base64 or raw ciphertext otherwise).
    pub body: Vec<u8>,
}

impl OnionReply {
    fn error(err: &NodeError) -> Self {
        let (status, body) = err.to_reply(&mut OsRng);
        Self { status, body }
    }
}

/// What the onion endpoint needs.
#[derive(Debug)]
pub struct OnionService {
    node: Arc<Node>,
    keys: OnionKeys,
    directory: Arc<Directory>,
    /// To other nodes: self-signed certificates, not verified (nodes are known by their keys).
    relay_client: reqwest::Client,
    /// To external servers: certificates verified against the web's roots.
    proxy_client: reqwest::Client,
    /// Replicates storage requests to the swarm.
    peers: PeerClient,
}

impl OnionService {
    /// The service for `node`, relaying to the nodes of `directory`.
    pub fn new(
        node: Arc<Node>,
        directory: Arc<Directory>,
        peers: PeerClient,
    ) -> Result<Self, crate::Error> {
        let keys = OnionKeys::new(*node.keys().x25519_secret());
        let relay_client = sotto_https::client(&sotto_https::ClientOptions {
            connect_timeout: CONNECT_TIMEOUT,
            timeout: RELAY_TIMEOUT,
        })?;
        let proxy_client = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(PROXY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| sotto_https::Error::Client(e.to_string()))?;
        Ok(Self {
            node,
            keys,
            directory,
            relay_client,
            proxy_client,
            peers,
        })
    }

    /// Handle the body of `POST /onion_req/v2` (from a client or the previous hop).
    pub async fn handle(&self, body: &[u8]) -> OnionReply {
        let layer = match Layer::from_entry_body(body) {
            Ok(layer) => layer,
            Err(e) => return OnionReply::error(&e),
        };
        let mut layer = layer;
        // A path may pass through this node more than once; each visit peels its own layer, and
        // the hop limit bounds the loop.
        loop {
            let peeled = match peel(&self.keys, &layer) {
                Ok(p) => p,
                Err(e) => {
                    tracing::debug!(error = %e, "onion layer refused");
                    return OnionReply::error(&e);
                }
            };
            match peeled {
                Peeled::Relay { destination, next } => {
                    if destination == self.node.keys().ed25519() {
                        layer = next;
                        continue;
                    }
                    return self.relay(destination, &next).await;
                }
                Peeled::Final { request, replier } => {
                    let reply =
                        handle_client(&self.node, &self.peers, request.body, now_ms()).await;
                    let body = match reply.body {
                        Body::Text(t) => ReplyBody::Text(t),
                        json => ReplyBody::Json(json.into_value()),
                    };
                    return OnionReply {
                        status: 200,
                        body: replier.wrap(
                            &mut OsRng,
                            reply.status,
                            &body,
                            request.json,
                            request.base64,
                        ),
                    };
                }
                Peeled::Proxy { request, replier } => {
                    let Some(url) = request.url() else {
                        return OnionReply::error(&NodeError::InvalidUrl { replier });
                    };
                    return self.proxy(&url, request.payload).await;
                }
            }
        }
    }

    async fn relay(&self, destination: sotto_crypto::Ed25519PublicKey, next: &Layer) -> OnionReply {
        let Some(info) = self.directory.get(&destination) else {
            return OnionReply::error(&NodeError::NextNodeNotFound(destination));
        };
        let body = match next.to_body() {
            Ok(b) => b,
            // Only a ciphertext over 4 GiB fails to frame; it could not have arrived.
            Err(_) => return OnionReply::error(&NodeError::InvalidSnodeResponse),
        };
        let url = format!("{}{ONION_PATH}", info.base_url());
        let sent = self.relay_client.post(&url).body(body).send().await;
        let response = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return OnionReply::error(&NodeError::RequestTimeout),
            Err(e) => {
                tracing::debug!(error = %e, next = %destination, "next hop unreachable");
                return OnionReply::error(&NodeError::NextNodeUnreachable(destination));
            }
        };
        let status = response.status().as_u16();
        match response.bytes().await {
            Ok(body) => OnionReply {
                status,
                body: body.to_vec(),
            },
            Err(e) if e.is_timeout() => OnionReply::error(&NodeError::RequestTimeout),
            Err(_) => OnionReply::error(&NodeError::InvalidSnodeResponse),
        }
    }

    async fn proxy(&self, url: &str, payload: Vec<u8>) -> OnionReply {
        let sent = self.proxy_client.post(url).body(payload).send().await;
        let response = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return OnionReply::error(&NodeError::RequestTimeout),
            Err(e) => {
                return OnionReply {
                    status: 502,
                    body: e.to_string().into_bytes(),
                }
            }
        };
        let status = response.status().as_u16();
        match response.bytes().await {
            Ok(body) => OnionReply {
                status,
                body: body.to_vec(),
            },
            Err(e) if e.is_timeout() => OnionReply::error(&NodeError::RequestTimeout),
            Err(e) => OnionReply {
                status: 502,
                body: e.to_string().into_bytes(),
            },
        }
    }
}
