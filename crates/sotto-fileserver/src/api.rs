//! The HTTP API (session-file-server `routes.py`, `client.md` §6) and its onion-request entry
//! points. Handlers parse the request and answer; the [`Store`] does the work, on a blocking
//! thread under one lock.
//!
//! Errors are `{"status_code": N}` with status N, as the reference's `error_resp`.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use rand_core::OsRng;
use serde_json::{json, Value};
use sotto_onion::lsrpc::{Headers, V4Response};
use tower::ServiceExt as _;

use crate::config::Config;
use crate::err::Error;
use crate::ids::FileId;
use crate::keys::ServerKeys;
use crate::metrics::Metrics;
use crate::store::{FileInfo, Store, Stored};
use crate::version;

/// Header a client sets to ask for a TTL in seconds.
pub const TTL_HEADER: &str = "x-fs-ttl";

/// Shared state: config, keys, metrics and the store.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    keys: ServerKeys,
    onion_keys: sotto_onion::node::NodeKeys,
    metrics: Metrics,
    store: Mutex<Store>,
    /// When the server started: the `updated` of a release whose config gives none.
    started: f64,
}

impl AppState {
    /// State over an opened store.
    pub fn new(config: Config, keys: ServerKeys, store: Store, metrics: Metrics) -> Self {
        let onion_keys = keys.onion_keys();
        Self {
            inner: Arc::new(Inner {
                config,
                keys,
                onion_keys,
                metrics,
                store: Mutex::new(store),
                started: crate::now(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The server keys.
    pub fn keys(&self) -> &ServerKeys {
        &self.inner.keys
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The store, locked. A panic elsewhere does not poison it: SQLite rolls back on drop.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.inner
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Run `f` with the store on a blocking thread.
    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let st = self.clone();
        tokio::task::spawn_blocking(move || f(&mut st.store()))
            .await
            .map_err(|e| Error::Task(e.to_string()))?
    }

    /// Largest request body read: the file limit with base64 overhead, and at least what an
    /// onion request may carry.
    fn body_limit(&self) -> usize {
        let b64 = usize::try_from(self.config().max_file_size_b64()).unwrap_or(usize::MAX);
        b64.saturating_add(64 * 1024)
            .max(sotto_onion::MAX_BODY_SIZE.saturating_add(64 * 1024))
    }
}

/// An error answer: `{"status_code": code}` with that status.
#[derive(Debug, Clone, Copy)]
pub struct ApiError(pub StatusCode);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.0,
            axum::Json(json!({ "status_code": self.0.as_u16() })),
        )
            .into_response()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::NoFreeId => {
                tracing::error!("tried 25 random IDs, all taken");
                Self(StatusCode::INSUFFICIENT_STORAGE)
            }
            e => {
                tracing::error!("request failed: {e}");
                Self(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

const NOT_FOUND: ApiError = ApiError(StatusCode::NOT_FOUND);
const BAD_REQUEST: ApiError = ApiError(StatusCode::BAD_REQUEST);
const TOO_LARGE: ApiError = ApiError(StatusCode::PAYLOAD_TOO_LARGE);

/// The file routes, without the onion entry points (what an onion request may reach).
pub fn routes(state: AppState) -> Router {
    let limit = state.body_limit();
    Router::new()
        .route("/file", post(upload))
        .route("/file/{id}", get(download))
        .route("/file/{id}/info", get(info))
        .route("/file/{id}/extend", post(extend))
        .route("/files", post(upload_legacy))
        .route("/files/{id}", get(download_legacy))
        .route("/session_version", get(session_version))
        .route("/token_info", get(token_info))
        .fallback(|| async { NOT_FOUND })
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// The whole server: the file routes plus `POST /oxen/v4/lsrpc`, `/oxen/v3/lsrpc` and
/// `/loki/v3/lsrpc`.
pub fn router(state: AppState) -> Router {
    let limit = state.body_limit();
    let metrics = state.metrics().clone();
    Router::new()
        .route("/oxen/v4/lsrpc", post(onion_v4))
        .route("/oxen/v3/lsrpc", post(onion_v3))
        .route("/loki/v3/lsrpc", post(onion_v3))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state.clone())
        .merge(routes(state))
        .layer(axum::middleware::from_fn(
            move |req: Request, next: axum::middleware::Next| {
                let metrics = metrics.clone();
                async move {
                    let route = route_label(req.method(), req.uri().path());
                    let resp = next.run(req).await;
                    metrics.request(route, resp.status().as_u16());
                    resp
                }
            },
        ))
}

/// A low-cardinality label for the metrics.
fn route_label(method: &Method, path: &str) -> &'static str {
    let get = method == Method::GET;
    match path.split('/').collect::<Vec<_>>().as_slice() {
        ["", "file"] => "POST /file",
        ["", "file", _] if get => "GET /file/ID",
        ["", "file", _, "info"] => "GET /file/ID/info",
        ["", "file", _, "extend"] => "POST /file/ID/extend",
        ["", "files"] => "POST /files",
        ["", "files", _] => "GET /files/ID",
        ["", "session_version"] => "GET /session_version",
        ["", "token_info"] => "GET /token_info",
        ["", "oxen", "v4", "lsrpc"] => "onion v4",
        ["", _, "v3", "lsrpc"] => "onion v3",
        _ => "other",
    }
}

fn json_ok(v: Value) -> Response {
    (StatusCode::OK, axum::Json(v)).into_response()
}

/// The TTL to use: the `X-FS-TTL` header when the server honours it (0 ≤ ttl ≤ max, else 400,
/// as the reference), otherwise the default expiry.
fn ttl(state: &AppState, headers: &HeaderMap) -> ApiResult<f64> {
    let config = state.config();
    let default = config.file_expiry as f64;
    let (Some(max), Some(v)) = (config.max_ttl, headers.get(TTL_HEADER)) else {
        return Ok(default);
    };
    let ttl: i64 = v
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or(BAD_REQUEST)?;
    match u64::try_from(ttl) {
        Ok(t) if t <= max => Ok(t as f64),
        _ => Err(BAD_REQUEST),
    }
}

async fn store_upload(state: &AppState, body: Vec<u8>, ttl: f64) -> ApiResult<Stored> {
    let max = state.config().max_file_size;
    let len = body.len() as u64;
    if len == 0 || len > max {
        tracing::info!("rejecting upload of size {len} ∉ (0, {max}]");
        return Err(TOO_LARGE);
    }
    let compat = state.config().compat_ids;
    let now = crate::now();
    let stored = state
        .with_store(move |s| {
            if compat {
                s.put_compat(&body, now, ttl)
            } else {
                s.put_content(&body, now, ttl)
            }
        })
        .await?;
    state.metrics().upload_bytes.inc_by(len);
    tracing::debug!(id = %stored.id, size = len, dedup = !stored.written, "stored");
    Ok(stored)
}

/// `POST /file`: raw body → `{"id", "expires"}`.
async fn upload(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let ttl = ttl(&st, &headers)?;
    let stored = store_upload(&st, body.to_vec(), ttl).await?;
    Ok(json_ok(
        json!({ "id": stored.id.as_str(), "expires": stored.expires }),
    ))
}

/// `POST /files` (deprecated): `{"file": base64}` → `{"result": id, "status_code": 200}`, the
/// ID an integer when IDs are backwards-compatible.
async fn upload_legacy(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let ttl = ttl(&st, &headers)?;
    let input: Value = serde_json::from_slice(&body).map_err(|_| BAD_REQUEST)?;
    let Some(file) = input.get("file") else {
        return Err(BAD_REQUEST);
    };
    let file = file.as_str().ok_or(BAD_REQUEST)?;
    let len = file.len() as u64;
    if len == 0 || len > st.config().max_file_size_b64() {
        return Err(TOO_LARGE);
    }
    let bytes = decode_base64(file).ok_or(BAD_REQUEST)?;
    let stored = store_upload(&st, bytes, ttl).await?;
    let id = match stored.id.as_str().parse::<u64>() {
        Ok(n) if st.config().compat_ids => json!(n),
        _ => json!(stored.id.as_str()),
    };
    Ok(json_ok(json!({ "result": id, "status_code": 200 })))
}

/// Standard base64, padded or not (the reference's `utils.decode_base64`).
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    STANDARD
        .decode(s)
        .or_else(|_| STANDARD_NO_PAD.decode(s))
        .ok()
}

async fn read(st: &AppState, id: &str) -> ApiResult<(FileInfo, Vec<u8>)> {
    let id = FileId::parse(id).ok_or(NOT_FOUND)?;
    let now = crate::now();
    let found = st.with_store(move |s| s.read(&id, now)).await?;
    let (info, bytes) = found.ok_or(NOT_FOUND)?;
    st.metrics().download_bytes.inc_by(bytes.len() as u64);
    Ok((info, bytes))
}

/// `GET /file/<id>`: the bytes, `application/octet-stream`.
async fn download(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let (_, bytes) = read(&st, &id).await?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(resp)
}

/// `GET /files/<id>` (deprecated): `{"status_code": 200, "result": base64}`.
async fn download_legacy(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, bytes) = read(&st, &id).await?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(json_ok(json!({ "status_code": 200, "result": b64 })))
}

fn info_json(info: FileInfo) -> Response {
    json_ok(json!({ "size": info.size, "uploaded": info.uploaded, "expires": info.expires }))
}

/// `GET /file/<id>/info`: `{"size", "uploaded", "expires"}`.
async fn info(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = FileId::parse(&id).ok_or(NOT_FOUND)?;
    let now = crate::now();
    let found = st.with_store(move |s| s.info(&id, now)).await?;
    Ok(info_json(found.ok_or(NOT_FOUND)?))
}

/// `POST /file/<id>/extend`: expiry = max(expiry, now + ttl), only for content IDs (a random ID
/// may have expired and been reused); same answer as info.
async fn extend(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let ttl = ttl(&st, &headers)?;
    let id = FileId::parse(&id)
        .filter(FileId::is_content)
        .ok_or(NOT_FOUND)?;
    let now = crate::now();
    let found = st.with_store(move |s| s.extend(&id, now, ttl)).await?;
    Ok(info_json(found.ok_or(NOT_FOUND)?))
}

/// `GET /session_version?platform=desktop|android|ios`: 404 for another platform; the
/// reference's `text/plain` 400/401/425 for bad `X-FS-*` headers; 502 when no release is
/// configured for the platform; otherwise the configured release ([`version::answer`]).
async fn session_version(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Bytes,
) -> ApiResult<Response> {
    // The first `platform` counts, as Flask's `request.args.get`.
    let platform = query
        .ok()
        .and_then(|Query(q)| q.into_iter().find(|(k, _)| k == "platform"))
        .map(|(_, v)| v);
    let Some(platform) = platform.filter(|p| version::PLATFORMS.contains(&p.as_str())) else {
        tracing::debug!("session_version for an unknown platform");
        return Err(NOT_FOUND);
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signed = version::SignedRequest {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        body: &body,
    };
    // Whole seconds: the reference compares the integer timestamp with a float clock.
    let now = crate::now() as i64;
    let authed = match version::check_auth(
        header(version::PUBKEY_HEADER),
        header(version::TIMESTAMP_HEADER),
        header(version::SIGNATURE_HEADER),
        &signed,
        now,
    ) {
        Ok(key) => key.is_some(),
        Err(e) => {
            tracing::debug!("session_version: {e}");
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let mut resp = (status, e.to_string()).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            return Ok(resp);
        }
    };
    st.metrics().version_check(&platform, authed);
    let Some(release) = st.config().session_version.get(&platform) else {
        tracing::debug!(platform, "no release configured");
        return Err(ApiError(StatusCode::BAD_GATEWAY));
    };
    Ok(json_ok(version::answer(release, st.inner.started)))
}

/// `GET /token_info`: the reference reports Session token statistics it is fed from outside;
/// this server has none and answers as the reference does without them, 502.
async fn token_info() -> ApiError {
    ApiError(StatusCode::BAD_GATEWAY)
}

/// What an inner request answered.
struct SubResponse {
    code: u16,
    headers: Headers,
    body: Vec<u8>,
}

/// Run a decrypted request through [`routes`] in-process (the reference's `make_subrequest`).
/// `None` if no HTTP request can be built from it.
async fn subrequest(
    st: &AppState,
    method: &str,
    endpoint: &str,
    headers: &Headers,
    body: Vec<u8>,
) -> Option<SubResponse> {
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).ok()?)
        .uri(sotto_onion::lsrpc::endpoint_uri(endpoint));
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v))
        {
            builder = builder.header(name, value);
        }
    }
    let req = builder.body(Body::from(body)).ok()?;
    let resp = match routes(st.clone()).oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let code = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter(|(k, _)| *k != header::CONTENT_LENGTH)
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let limit = st.body_limit();
    let body = axum::body::to_bytes(resp.into_body(), limit).await.ok()?;
    Some(SubResponse {
        code,
        headers,
        body: body.to_vec(),
    })
}

fn octets(body: Vec<u8>, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// `POST /oxen/v4/lsrpc`: 400 if it does not decrypt; otherwise the encrypted bencoded answer
/// of the inner request (400 `Invalid v4 onion request` if it does not parse).
async fn onion_v4(State(st): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let accepted = sotto_onion::server::accept(&st.inner.onion_keys, &body).map_err(|e| {
        tracing::debug!("undecryptable onion request: {e}");
        BAD_REQUEST
    })?;
    let answer = match accepted.v4_request() {
        Ok(req) => subrequest(
            &st,
            &req.method,
            &req.endpoint,
            &req.headers,
            req.body.unwrap_or_default(),
        )
        .await
        .map(|r| V4Response {
            code: r.code,
            headers: r.headers,
            body: r.body,
        }),
        Err(e) => {
            tracing::debug!("invalid v4 onion request: {e}");
            None
        }
    };
    let answer = answer.unwrap_or_else(|| V4Response {
        code: 400,
        headers: Headers::from([(
            "content-type".to_owned(),
            "text/plain; charset=utf-8".to_owned(),
        )]),
        body: b"Invalid v4 onion request".to_vec(),
    });
    Ok(octets(
        accepted.replier.reply_v4(&mut OsRng, &answer),
        "application/octet-stream",
    ))
}

/// `POST /oxen/v3/lsrpc`, `/loki/v3/lsrpc` (deprecated): base64 of the encrypted body on 2xx,
/// else of the encrypted `{"status_code": n}`.
async fn onion_v3(State(st): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let accepted = sotto_onion::server::accept(&st.inner.onion_keys, &body).map_err(|e| {
        tracing::debug!("undecryptable onion request: {e}");
        BAD_REQUEST
    })?;
    let (status, body) = match accepted.v3_request() {
        Ok(req) => {
            let endpoint = if req.endpoint.starts_with('/') {
                req.endpoint.clone()
            } else {
                format!("/{}", req.endpoint)
            };
            let has_body = matches!(req.method.as_str(), "POST" | "PUT");
            let body = req.body.filter(|b| !b.is_empty() && b != "null");
            if !has_body && body.is_some() {
                (400, Vec::new())
            } else {
                let mut headers: Headers = req
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .collect();
                headers
                    .entry("content-type".to_owned())
                    .or_insert_with(|| "application/json".to_owned());
                let body = body.unwrap_or_default().into_bytes();
                match subrequest(&st, &req.method, &endpoint, &headers, body).await {
                    Some(r) => (r.code, r.body),
                    None => (400, Vec::new()),
                }
            }
        }
        Err(e) => {
            tracing::debug!("invalid v3 onion request: {e}");
            (400, Vec::new())
        }
    };
    Ok(octets(
        accepted.replier.reply_v3(&mut OsRng, status, &body),
        "text/plain; charset=utf-8",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(route_label(&Method::GET, "/file/abc"), "GET /file/ID");
        assert_eq!(route_label(&Method::POST, "/file"), "POST /file");
        assert_eq!(route_label(&Method::GET, "/../etc"), "other");
    }

    #[test]
    fn base64_forms() {
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("aGk").unwrap(), b"hi");
        assert!(decode_base64("!!").is_none());
    }
}
