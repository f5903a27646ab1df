//! Conformance test mode (`[testing] enabled`, loopback only; `sogs.md` §6.2): the echo routes
//! PySOGS's own test suite adds to its app (`tests/test_auth.py`, `test_routes_general.py`,
//! `test_onion_requests.py`), so that suite's requests can be replayed against us.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Router};
use serde_json::{json, Map, Value};

use super::{json, query_param, require_user, ApiResult, AppState, Caller};

/// The test routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth_test/whoami", get(whoami))
        .route(
            "/auth_test/auth_required",
            get(auth_required).post(auth_required),
        )
        .route("/test_batch_1", get(batch_1))
        .route("/test_batch_2", get(batch_2))
        .route("/test_batch_3", get(batch_3))
        .route("/test_batch_4", post(batch_4))
        .route("/test_v4_post_body", post(v4_post_body))
        .route("/test_encoding/{*p}", put(encoding))
}

/// Flask's `request.is_json`: `application/json` or `application/*+json`.
fn is_json(headers: &HeaderMap) -> bool {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn text(body: String) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn whoami_json(
    caller: &Caller,
    method: &Method,
    q: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Value {
    let mut res = Map::new();
    if let Some(q) = q.filter(|q| !q.is_empty()) {
        res.insert("query".into(), json!(q));
    }
    res.insert(
        "user".into(),
        caller.user().map_or(
            Value::Null,
            |u| json!({"uid": u.id, "session_id": u.session_id}),
        ),
    );
    if let Some(value) = headers.get("x-foo") {
        res.insert(
            "foo".into(),
            json!(String::from_utf8_lossy(value.as_bytes())),
        );
    }
    if method == Method::POST {
        let parsed = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body).unwrap_or(Value::Null)
        };
        res.insert("body".into(), parsed);
    }
    Value::Object(res)
}

async fn whoami(
    Extension(caller): Extension<Caller>,
    method: Method,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    json(
        StatusCode::OK,
        whoami_json(&caller, &method, q.as_deref(), &headers, b""),
    )
}

async fn auth_required(
    Extension(caller): Extension<Caller>,
    method: Method,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    require_user(&caller)?;
    Ok(json(
        StatusCode::OK,
        whoami_json(&caller, &method, q.as_deref(), &headers, &body),
    ))
}

async fn batch_1(headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let x = headers.get("x-header-123").map_or_else(
        || "def".to_owned(),
        |v| String::from_utf8_lossy(v.as_bytes()).into_owned(),
    );
    let y = query_param(q.as_deref(), "arg").unwrap_or_else(|| "N/A".to_owned());
    json(StatusCode::OK, json!({"x": x, "y": y}))
}

async fn batch_2() -> Response {
    json(StatusCode::FORBIDDEN, json!({"z": 3}))
}

async fn batch_3() -> Response {
    let mut resp = (StatusCode::OK, &b"abcdef"[..]).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    resp
}

async fn batch_4(headers: HeaderMap, body: Bytes) -> Response {
    if is_json(&headers) {
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        return json(StatusCode::OK, json!({"echo": v}));
    }
    text(format!("echo: {}", String::from_utf8_lossy(&body)))
}

async fn v4_post_body(headers: HeaderMap, body: Bytes) -> Response {
    if is_json(&headers) {
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        return json(StatusCode::OK, json!({"json": v}));
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    text(format!(
        "not json ({ct}): {}",
        String::from_utf8_lossy(&body)
    ))
}

async fn encoding(Path(p): Path<String>) -> Response {
    json(StatusCode::OK, json!({"p": p}))
}
