//! One storage RPC to a node, through an onion path or directly.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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

/// Which way a transfer's bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The request body, to the guard.
    Upload,
    /// The answer, from the guard.
    Download,
}

/// Where a transfer reports its progress: a function of its direction, the bytes moved so far
/// and the total when known (the request's length; the answer's `Content-Length`).
#[derive(Clone)]
pub struct Progress(Arc<dyn Fn(Direction, u64, Option<u64>) + Send + Sync>);

impl Progress {
    /// Report to `f`.
    pub fn new(f: impl Fn(Direction, u64, Option<u64>) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Report `done` bytes of `total` moved in `direction`.
    pub fn report(&self, direction: Direction, done: u64, total: Option<u64>) {
        (self.0)(direction, done, total);
    }

    /// The same, passing on only the bytes going in `direction` (an upload's small answer, a
    /// download's small request are not worth showing).
    pub fn only(&self, direction: Direction) -> Self {
        let inner = self.clone();
        Self::new(move |d, done, total| {
            if d == direction {
                inner.report(d, done, total);
            }
        })
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// How bytes reach a node: HTTPS in real use, an in-process network in tests.
pub trait Transport: Send + Sync {
    /// POST `body` to `path` on `node`; the answer's status and body.
    fn post(
        &self,
        node: &NodeInfo,
        path: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<(u16, Vec<u8>)>> + Send;

    /// As [`Transport::post`], telling `progress` how the request and the answer move. A
    /// transport that cannot see its bytes move reports nothing (the default).
    fn post_with_progress(
        &self,
        node: &NodeInfo,
        path: &str,
        body: Vec<u8>,
        progress: Progress,
    ) -> impl Future<Output = Result<(u16, Vec<u8>)>> + Send {
        drop(progress);
        self.post(node, path, body)
    }
}

/// Size of the pieces an upload is handed to the connection in, so progress moves smoothly.
const UPLOAD_CHUNK: usize = 64 * 1024;
/// Most bytes reserved up front for an answer, whatever its `Content-Length` claims.
const MAX_PREALLOC: u64 = 16 * 1024 * 1024;

/// A request body handed over in [`UPLOAD_CHUNK`] pieces, reporting each to a [`Progress`].
struct ProgressBody {
    data: bytes::Bytes,
    sent: usize,
    progress: Progress,
}

impl http_body::Body for ProgressBody {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let len = this.data.len();
        if this.sent >= len {
            return Poll::Ready(None);
        }
        let end = this.sent.saturating_add(UPLOAD_CHUNK).min(len);
        let chunk = this.data.slice(this.sent..end);
        this.sent = end;
        // The connection asks for the next piece once it has taken this one.
        this.progress
            .report(Direction::Upload, end as u64, Some(len as u64));
        Poll::Ready(Some(Ok(http_body::Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.data.len()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        // Exact, so the request carries a Content-Length rather than chunks.
        http_body::SizeHint::with_exact(self.data.len().saturating_sub(self.sent) as u64)
    }
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

    async fn post_with_progress(
        &self,
        node: &NodeInfo,
        path: &str,
        body: Vec<u8>,
        progress: Progress,
    ) -> Result<(u16, Vec<u8>)> {
        let url = format!("{}{path}", node.base_url());
        let unreachable = |e: reqwest::Error| Error::Unreachable {
            node: node.ed25519,
            url: url.clone(),
            reason: e.to_string(),
        };
        progress.report(Direction::Upload, 0, Some(body.len() as u64));
        let upload = ProgressBody {
            data: body.into(),
            sent: 0,
            progress: progress.clone(),
        };
        let mut response = self
            .client
            .post(&url)
            .body(reqwest::Body::wrap(upload))
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let total = response.content_length();
        let mut answer = Vec::with_capacity(total.unwrap_or(0).min(MAX_PREALLOC) as usize);
        progress.report(Direction::Download, 0, total);
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            answer.extend_from_slice(&chunk);
            progress.report(Direction::Download, answer.len() as u64, total);
        }
        Ok((status, answer))
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
        self.onion_server_with_progress(path, server, request, None)
            .await
    }

    /// [`RpcClient::onion_server`], reporting the bytes to and from the guard to `progress`.
    pub async fn onion_server_with_progress(
        &self,
        path: &[NodeInfo],
        server: &sotto_onion::client::Server,
        request: sotto_onion::lsrpc::V4Request,
        progress: Option<Progress>,
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
        let (status, body) = match progress {
            Some(p) => {
                self.transport
                    .post_with_progress(guard, ONION_PATH, built.body, p)
                    .await?
            }
            None => self.transport.post(guard, ONION_PATH, built.body).await?,
        };
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http_body::Body as _;
    use std::sync::Mutex;

    #[test]
    fn progress_body_hands_over_every_byte_and_reports_it() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let data: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
        let mut body = ProgressBody {
            data: data.clone().into(),
            sent: 0,
            progress: Progress::new(move |dir, done, total| {
                log.lock().unwrap().push((dir, done, total));
            }),
        };
        assert_eq!(body.size_hint().exact(), Some(150_000));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut out = Vec::new();
        let mut frames = 0;
        while let Poll::Ready(Some(frame)) = Pin::new(&mut body).poll_frame(&mut cx) {
            let chunk = frame.unwrap().into_data().unwrap();
            assert!(chunk.len() <= UPLOAD_CHUNK);
            out.extend_from_slice(&chunk);
            frames += 1;
            assert!(frames <= 3, "more frames than 150,000 bytes need");
        }
        assert_eq!(out, data);
        assert!(body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(0));
        let seen = seen.lock().unwrap();
        let dones: Vec<u64> = seen.iter().map(|(_, d, _)| *d).collect();
        assert_eq!(dones, [65_536, 131_072, 150_000]);
        assert!(seen
            .iter()
            .all(|(dir, _, total)| *dir == Direction::Upload && *total == Some(150_000)));
    }

    #[test]
    fn only_one_direction() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let all = Progress::new(move |dir, done, _| log.lock().unwrap().push((dir, done)));
        let up = all.only(Direction::Upload);
        up.report(Direction::Upload, 1, None);
        up.report(Direction::Download, 2, None);
        all.report(Direction::Download, 3, None);
        assert_eq!(
            *seen.lock().unwrap(),
            [(Direction::Upload, 1), (Direction::Download, 3)]
        );
    }

    #[test]
    fn empty_progress_body_ends_at_once() {
        let mut body = ProgressBody {
            data: bytes::Bytes::new(),
            sent: 0,
            progress: Progress::new(|_, _, _| panic!("nothing to report")),
        };
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(body.is_end_stream());
        assert!(matches!(
            Pin::new(&mut body).poll_frame(&mut cx),
            Poll::Ready(None)
        ));
    }
}
