//! One storage RPC to a node, through an onion path or directly.

use std::future::Future;

use rand_core::OsRng;
use serde_json::Value;
use sotto_crypto::layer::EncType;
use sotto_onion::client::{build, Destination, Hop, Response};
use sotto_rpc::nodes::NodeInfo;

use crate::err::{Error, Result};

/// The path of the storage RPC on a node.
pub const STORAGE_RPC_PATH: &str = "/storage_rpc/v1";
/// The path of the onion endpoint on a node.
pub const ONION_PATH: &str = "/onion_req/v2";

/// How bytes reach a node: HTTPS in real use, an in-process network in tests.
pub trait Transport: Send + Sync {
    /// POST `body` to `path` on `node`; the answer's status and body.
    fn post(
        &self,
        node: &NodeInfo,
        path: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<(u16, Vec<u8>)>> + Send;
}

/// [`Transport`] over HTTPS with pooled connections (`sotto-https`).
#[derive(Debug, Clone)]
pub struct HttpsTransport {
    client: reqwest::Client,
}

impl HttpsTransport {
    /// A transport with `sotto-https`'s client settings.
    pub fn new(options: &sotto_https::ClientOptions) -> Result<Self> {
        Ok(Self {
            client: sotto_https::client(options)?,
        })
    }
}

impl Transport for HttpsTransport {
    async fn post(&self, node: &NodeInfo, path: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>)> {
        let url = format!("{}{path}", node.base_url());
        let unreachable = |e: reqwest::Error| Error::Unreachable {
            node: node.ed25519,
            url: url.clone(),
            reason: e.to_string(),
        };
        let response = self
            .client
            .post(&url)
            .body(body)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(unreachable)?;
        Ok((status, body.to_vec()))
    }
}

/// A storage RPC's answer from the node that ran it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcAnswer {
    /// The RPC's status (200 on success).
    pub status: u16,
    /// Its body: JSON on success, text for most errors.
    pub body: String,
}

impl RpcAnswer {
    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// Sends storage RPCs over a [`Transport`].
#[derive(Debug, Clone)]
pub struct RpcClient<T> {
    transport: T,
    enc_type: EncType,
}

impl<T: Transport> RpcClient<T> {
    /// A client whose onion layers use `enc_type`.
    pub fn new(transport: T, enc_type: EncType) -> Self {
        Self {
            transport,
            enc_type,
        }
    }

    /// Send `method(params)` to `target` through `path` (guard first).
    pub async fn onion(
        &self,
        path: &[NodeInfo],
        target: &NodeInfo,
        method: &str,
        params: Value,
    ) -> Result<RpcAnswer> {
        let Some(guard) = path.first() else {
            return Err(Error::NotEnoughNodes {
                wanted: 1,
                available: 0,
            });
        };
        let hops: Vec<Hop> = path.iter().map(hop).collect();
        let destination = Destination::Node {
            node: hop(target),
            method: method.to_owned(),
            params,
        };
        let request = build(&mut OsRng, self.enc_type, &hops, &destination)?;
        let (status, body) = self.transport.post(guard, ONION_PATH, request.body).await?;
        match request.reply.decrypt_response(status, &body) {
            Ok(Response::Node(reply)) => Ok(RpcAnswer {
                status: reply.status,
                body: reply.body,
            }),
            // A node destination always yields a node reply.
            Ok(_) => Err(Error::Onion(sotto_onion::Error::Json {
                what: "onion reply",
                reason: "not a storage RPC reply".into(),
            })),
            Err(e @ sotto_onion::Error::PathFailed { .. }) => {
                let failed_node = e.failed_node();
                let sotto_onion::Error::PathFailed { status, body } = e else {
                    return Err(Error::Onion(e));
                };
                Err(Error::PathFailed {
                    status,
                    body,
                    failed_node,
                })
            }
            Err(e) => Err(Error::Onion(e)),
        }
    }

    /// Send an HTTP request to an external server (file server, community) through `path`,
    /// as an onion v4 request; the server's decrypted answer.
    pub async fn onion_server(
        &self,
        path: &[NodeInfo],
        server: &sotto_onion::client::Server,
        request: sotto_onion::lsrpc::V4Request,
    ) -> Result<sotto_onion::lsrpc::V4Response> {
        let Some(guard) = path.first() else {
            return Err(Error::NotEnoughNodes {
                wanted: 1,
                available: 0,
            });
        };
        let hops: Vec<Hop> = path.iter().map(hop).collect();
        let destination = Destination::Server {
            server: server.clone(),
            request: sotto_onion::client::ServerRequest::V4(request),
        };
        let built = build(&mut OsRng, self.enc_type, &hops, &destination)?;
        let (status, body) = self.transport.post(guard, ONION_PATH, built.body).await?;
        match built.reply.decrypt_response(status, &body) {
            Ok(Response::V4(reply)) => Ok(reply),
            Ok(_) => Err(Error::Onion(sotto_onion::Error::Json {
                what: "onion reply",
                reason: "not a v4 reply".into(),
            })),
            Err(e @ sotto_onion::Error::PathFailed { .. }) => {
                let failed_node = e.failed_node();
                let sotto_onion::Error::PathFailed { status, body } = e else {
                    return Err(Error::Onion(e));
                };
                Err(Error::PathFailed {
                    status,
                    body,
                    failed_node,
                })
            }
            Err(e) => Err(Error::Onion(e)),
        }
    }

    /// Send `method(params)` straight to `target`'s `/storage_rpc/v1`.
    pub async fn direct(
        &self,
        target: &NodeInfo,
        method: &str,
        params: Value,
    ) -> Result<RpcAnswer> {
        let body = serde_json::json!({ "method": method, "params": params }).to_string();
        let (status, body) = self
            .transport
            .post(target, STORAGE_RPC_PATH, body.into_bytes())
            .await?;
        Ok(RpcAnswer {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

fn hop(node: &NodeInfo) -> Hop {
    Hop {
        ed25519: node.ed25519,
        x25519: node.x25519,
    }
}
