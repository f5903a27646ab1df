//! The HTTPS shell over [`Node`]: routes, per-IP rate limiting, body limits, metrics, and the
//! TLS accept loop with graceful shutdown.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use prometheus::{
    Encoder as _, Histogram, HistogramVec, IntCounter, IntCounterVec, IntGauge, Registry,
    TextEncoder,
};
use sotto_rpc::limits::MAX_REQUEST_BODY;

use crate::directory::Directory;
use crate::network::{PING_HEADER, PING_PATH};
use crate::onion::{OnionService, ONION_PATH};
use crate::peer::{self, PeerClient, PUSH_PATH, STORAGE_TEST_PATH, SWARM_RPC_PATH};
use crate::service::{Body, Node, Reply};

/// The `Server` header of every reply.
pub const SERVER_HEADER: &str = concat!("sotto-node/", env!("CARGO_PKG_VERSION"));

/// A token bucket per client IP (oxen-storage-server `rate_limiter.h`).
#[derive(Debug)]
pub struct RateLimiter {
    burst: f64,
    per_sec: f64,
    max_clients: usize,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// A limiter allowing `burst` requests at once and `per_sec` per second after.
    pub fn new(burst: u32, per_sec: u32, max_clients: usize) -> Self {
        Self {
            burst: f64::from(burst),
            per_sec: f64::from(per_sec),
            max_clients,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one token for `ip` at `now`; false if it has none left.
    pub fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= self.max_clients && !buckets.contains_key(&ip) {
            // Forget clients whose bucket has refilled: they are indistinguishable from new ones.
            let (burst, per_sec) = (self.burst, self.per_sec);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * per_sec < burst
            });
            if buckets.len() >= self.max_clients {
                return false;
            }
        }
        let (tokens, at) = buckets.entry(ip).or_insert((self.burst, now));
        let refilled = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * self.per_sec)
            .min(self.burst);
        *at = now;
        if refilled < 1.0 {
            *tokens = refilled;
            return false;
        }
        *tokens = refilled - 1.0;
        true
    }
}

/// The client storage RPC path.
const STORAGE_RPC_PATH: &str = "/storage_rpc/v1";

/// The node's Prometheus metrics.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    seconds: HistogramVec,
    /// `/storage_rpc/v1`'s counter of 200 answers and its histogram, looked up once: every
    /// client request would otherwise hash its labels (and format its status) twice.
    storage_rpc_ok: IntCounter,
    storage_rpc_seconds: Histogram,
    /// Messages in the database (refreshed by the expiry sweep).
    pub messages: IntGauge,
}

impl Metrics {
    /// Register the node's metrics.
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            prometheus::Opts::new("sotto_node_requests_total", "Requests by path and status"),
            &["path", "status"],
        )?;
        let seconds = HistogramVec::new(
            prometheus::HistogramOpts::new("sotto_node_request_seconds", "Request handling time")
                .buckets(vec![
                    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5,
                ]),
            &["path"],
        )?;
        let messages = IntGauge::new("sotto_node_messages", "Messages stored")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(seconds.clone()))?;
        registry.register(Box::new(messages.clone()))?;
        Ok(Self {
            storage_rpc_ok: requests.with_label_values(&[STORAGE_RPC_PATH, "200"]),
            storage_rpc_seconds: seconds.with_label_values(&[STORAGE_RPC_PATH]),
            registry,
            requests,
            seconds,
            messages,
        })
    }

    pub(crate) fn observe(&self, path: &str, status: StatusCode, started: Instant) {
        let elapsed = started.elapsed().as_secs_f64();
        if path == STORAGE_RPC_PATH {
            if status == StatusCode::OK {
                self.storage_rpc_ok.inc();
            } else {
                self.requests
                    .with_label_values(&[path, status.as_str()])
                    .inc();
            }
            self.storage_rpc_seconds.observe(elapsed);
            return;
        }
        self.requests
            .with_label_values(&[path, status.as_str()])
            .inc();
        self.seconds.with_label_values(&[path]).observe(elapsed);
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The node.
    pub node: Arc<Node>,
    /// Per-IP limits.
    pub limiter: Arc<RateLimiter>,
    /// Metrics.
    pub metrics: Metrics,
    /// The onion endpoint.
    pub onion: Arc<OnionService>,
    /// Replicates client requests to the swarm.
    pub peers: PeerClient,
    /// The node list (who may hand data over).
    pub directory: Arc<Directory>,
}

/// Current Unix time in ms.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn text(status: u16, body: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
        body.into(),
    )
        .into_response()
}

fn reply_response(reply: Reply) -> Response {
    let json = match reply.body {
        Body::Text(t) => return text(reply.status, t),
        // Serializing a `Value` into a Vec cannot fail.
        Body::Json(v) => serde_json::to_vec(&v).unwrap_or_default(),
        Body::Page(page) => page.to_json_bytes(),
    };
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json,
    )
        .into_response()
}

async fn storage_rpc(
    State(state): State<AppState>,
    Extension(peer): Extension<SocketAddr>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let response = storage_rpc_inner(&state, peer, request).await;
    state
        .metrics
        .observe(STORAGE_RPC_PATH, response.status(), started);
    response
}

async fn storage_rpc_inner(state: &AppState, peer: SocketAddr, request: Request) -> Response {
    if !state.limiter.allow(peer.ip(), Instant::now()) {
        return text(429, "Too Many Requests");
    }
    if request.headers().contains_key("x-loki-long-poll") {
        return text(
            410,
            "long polling is no longer supported, client upgrade required",
        );
    }
    if let Some(refusal) = not_ready(state) {
        return refusal;
    }
    let Ok(body) = to_bytes(request.into_body(), MAX_REQUEST_BODY).await else {
        return text(413, "Request body too large");
    };
    reply_response(peer::handle_client(&state.node, &state.peers, body.to_vec(), now_ms()).await)
}

/// `503 Service node is not ready: …` while a network-mode node is in no swarm
/// (`storage-rpc.md` §1.1).
fn not_ready(state: &AppState) -> Option<Response> {
    let view = state.node.view();
    (!view.ready()).then(|| text(503, "Service node is not ready: not in any swarm\n"))
}

/// The largest storage-test request: a message hash and a timestamp, with room to spare.
const STORAGE_TEST_MAX_BODY: usize = 64 * 1024;

/// Who may call a peer endpoint.
#[derive(Clone, Copy)]
enum Callers {
    /// Members of this node's swarm (replication, storage tests).
    SwarmPeers,
    /// Any registered node (hand-overs come from the swarm an account leaves).
    KnownNodes,
}

/// The shape every node-to-node endpoint shares: read a bounded body, check the signed peer
/// headers against the allowed callers, run `handle` off the async runtime, and count it.
async fn peer_endpoint(
    state: AppState,
    headers: HeaderMap,
    request: Request,
    path: &'static str,
    max_body: usize,
    callers: Callers,
    handle: fn(&Node, &[u8], i64) -> Reply,
) -> Response {
    let started = Instant::now();
    let response = async {
        let Ok(body) = to_bytes(request.into_body(), max_body).await else {
            return text(413, "Request body too large");
        };
        let now = now_ms();
        let view = state.node.view();
        let allowed = |k: &sotto_crypto::Ed25519PublicKey| match callers {
            Callers::SwarmPeers => view.peers().iter().any(|p| p.ed25519 == *k),
            Callers::KnownNodes => state.directory.get(k).is_some(),
        };
        if let Err(peer::Refused(status, why)) = peer::verify(&headers, path, &body, now, allowed) {
            tracing::info!(status, why, path, "peer request refused");
            return text(status, why);
        }
        let node = Arc::clone(&state.node);
        match tokio::task::spawn_blocking(move || handle(&node, &body, now)).await {
            Ok(reply) => reply_response(reply),
            Err(_) => text(500, "request failed"),
        }
    }
    .await;
    state.metrics.observe(path, response.status(), started);
    response
}

/// A replicated request from a swarm peer: run here only.
async fn swarm_rpc(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    peer_endpoint(
        state,
        headers,
        request,
        SWARM_RPC_PATH,
        MAX_REQUEST_BODY,
        Callers::SwarmPeers,
        Node::handle,
    )
    .await
}

/// A swarm peer's storage test.
async fn storage_test(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    peer_endpoint(
        state,
        headers,
        request,
        STORAGE_TEST_PATH,
        STORAGE_TEST_MAX_BODY,
        Callers::SwarmPeers,
        peer::answer_storage_test,
    )
    .await
}

/// Messages handed over by another node after a swarm change.
async fn push(State(state): State<AppState>, headers: HeaderMap, request: Request) -> Response {
    peer_endpoint(
        state,
        headers,
        request,
        PUSH_PATH,
        sotto_onion::MAX_BODY_SIZE,
        Callers::KnownNodes,
        peer::receive_push,
    )
    .await
}

/// The reachability test: 200 with this node's key (`swarms.md` §5).
async fn ping_test(State(state): State<AppState>) -> Response {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD.encode(state.node.keys().ed25519().0);
    let mut response = text(200, "");
    if let Ok(v) = HeaderValue::from_str(&key) {
        response.headers_mut().insert(PING_HEADER, v);
    }
    response
}

/// `GET /get_stats/v1`: the version (as upstream), plus whether this node serves a swarm.
async fn get_stats(State(state): State<AppState>) -> Response {
    let view = state.node.view();
    axum::Json(serde_json::json!({
        "version": "2.8.0",
        "ready": view.ready(),
        "swarm_id": view.my_swarm(),
        "messages": state.metrics.messages.get(),
    }))
    .into_response()
}

async fn onion_req(
    State(state): State<AppState>,
    Extension(peer): Extension<SocketAddr>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let response = if !state.limiter.allow(peer.ip(), Instant::now()) {
        text(429, "Too Many Requests")
    } else if let Some(refusal) = not_ready(&state) {
        refusal
    } else {
        match to_bytes(request.into_body(), sotto_onion::MAX_BODY_SIZE).await {
            Err(_) => text(413, "Request body too large"),
            Ok(body) => {
                let reply = state.onion.handle(&body).await;
                let status =
                    StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (
                    status,
                    [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
                    reply.body,
                )
                    .into_response()
            }
        }
    };
    state
        .metrics
        .observe(ONION_PATH, response.status(), started);
    response
}

async fn not_found(method: Method, uri: Uri) -> Response {
    text(404, format!("{method} {} Not Found", uri.path()))
}

/// The HTTPS routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(STORAGE_RPC_PATH, post(storage_rpc))
        .route(ONION_PATH, post(onion_req))
        .route(SWARM_RPC_PATH, post(swarm_rpc))
        .route(PUSH_PATH, post(push))
        .route(STORAGE_TEST_PATH, post(storage_test))
        .route(PING_PATH, post(ping_test))
        .route("/get_stats/v1", get(get_stats))
        .fallback(not_found)
        .layer(axum::middleware::map_response(
            |mut r: Response| async move {
                r.headers_mut()
                    .insert(header::SERVER, HeaderValue::from_static(SERVER_HEADER));
                r
            },
        ))
        .with_state(state)
}

/// The plain-HTTP metrics routes.
pub fn metrics_router(metrics: Metrics) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move { metrics.render() }
        }),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cached_and_looked_up_series_count_alike() {
        let metrics = Metrics::new().unwrap();
        let now = Instant::now();
        metrics.observe(STORAGE_RPC_PATH, StatusCode::OK, now);
        metrics.observe(STORAGE_RPC_PATH, StatusCode::OK, now);
        metrics.observe(STORAGE_RPC_PATH, StatusCode::UNAUTHORIZED, now);
        metrics.observe(ONION_PATH, StatusCode::OK, now);
        let text = metrics.render();
        for line in [
            r#"sotto_node_requests_total{path="/storage_rpc/v1",status="200"} 2"#,
            r#"sotto_node_requests_total{path="/storage_rpc/v1",status="401"} 1"#,
            r#"sotto_node_requests_total{path="/onion_req/v2",status="200"} 1"#,
            r#"sotto_node_request_seconds_count{path="/storage_rpc/v1"} 3"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
