//! `POST /batch` and `POST /sequence` (`sogs.md` §1.1): several requests in one, run in order
//! through the same routes with the outer request's caller.

use std::io;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::Extension;
use serde_json::{json, Map, Value};
use tower::ServiceExt as _;

use super::{
    b64, decode_b64, json_body, json_bytes, ApiError, ApiResult, AppState, Caller, CanonicalJson,
};

/// One validated subrequest.
#[derive(Debug)]
struct SubRequest {
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<(Vec<u8>, &'static str)>,
}

/// `parse_batch_request`: any malformed element fails the whole batch with 400.
fn parse_sub(v: &Value) -> ApiResult<SubRequest> {
    let req = v.as_object().ok_or_else(ApiError::bad_request)?;
    let method = req
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(ApiError::bad_request)?;
    let path = req
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(ApiError::bad_request)?;
    let mut headers = Vec::new();
    if let Some(h) = req.get("headers") {
        let h = h.as_object().ok_or_else(ApiError::bad_request)?;
        for (k, v) in h {
            let v = v.as_str().ok_or_else(ApiError::bad_request)?;
            headers.push((k.clone(), v.to_owned()));
        }
    }
    let has_body = matches!(method, "POST" | "PUT");
    if !has_body && !matches!(method, "GET" | "DELETE") {
        return Err(ApiError::bad_request());
    }
    if !path.starts_with('/') {
        return Err(ApiError::bad_request());
    }
    let kinds = ["b64", "json", "bytes"]
        .iter()
        .filter(|k| req.contains_key(**k))
        .count();
    let body = if has_body {
        if kinds != 1 {
            return Err(ApiError::bad_request());
        }
        if let Some(v) = req.get("b64") {
            // PySOGS only logs an undecodable b64 body and sends none.
            let bytes = v.as_str().and_then(decode_b64).unwrap_or_default();
            Some((bytes, "application/octet-stream"))
        } else if let Some(v) = req.get("bytes") {
            let s = v.as_str().ok_or_else(ApiError::bad_request)?;
            Some((s.as_bytes().to_vec(), "application/octet-stream"))
        } else {
            let v = req.get("json").unwrap_or(&Value::Null);
            let bytes = serde_json::to_vec(v).map_err(|_| ApiError::bad_request())?;
            Some((bytes, "application/json"))
        }
    } else {
        if kinds != 0 {
            return Err(ApiError::bad_request());
        }
        None
    };
    Ok(SubRequest {
        method: Method::from_bytes(method.as_bytes()).map_err(|_| ApiError::bad_request())?,
        path: path.to_owned(),
        headers,
        body,
    })
}

/// What a subrequest answered: status, lower-case headers without `content-length`, body.
pub(super) struct SubResponse {
    pub(super) code: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Bytes,
    /// The body is JSON in [`CanonicalJson`] form.
    pub(super) canonical_json: bool,
}

impl SubResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Run a request inside this server (PySOGS `make_subrequest`). With `caller`, it is the
/// outer request's user and X-SOGS headers are ignored (batch); without, the request is
/// authenticated from its own headers (onion requests). `content_type` applies when the
/// headers give none and there is a body. `None` if no request could be built from the input.
pub(super) async fn subrequest(
    st: &AppState,
    caller: Option<&Caller>,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<Vec<u8>>,
    content_type: &str,
) -> Option<SubResponse> {
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).ok()?)
        .uri(sotto_onion::lsrpc::endpoint_uri(path));
    let mut given_type = None;
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        if k.eq_ignore_ascii_case("content-type") {
            given_type = Some(v.clone());
            continue;
        }
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v))
        {
            builder = builder.header(name, value);
        }
    }
    let body = match body {
        Some(bytes) => {
            let ct = given_type.unwrap_or_else(|| content_type.to_owned());
            if let Ok(v) = HeaderValue::from_str(&ct) {
                builder = builder.header(header::CONTENT_TYPE, v);
            }
            Body::from(bytes)
        }
        None => Body::empty(),
    };
    let mut req = builder.body(body).ok()?;
    let resp = match caller {
        Some(caller) => {
            req.extensions_mut().insert(caller.clone());
            st.bare_routes().oneshot(req).await
        }
        None => st.full_router().oneshot(req).await,
    };
    let Ok(resp) = resp;
    let code = resp.status().as_u16();
    let canonical_json = resp.extensions().get::<CanonicalJson>().is_some();
    let headers = resp
        .headers()
        .iter()
        .filter(|(name, _)| **name != header::CONTENT_LENGTH)
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .ok()?;
    Some(SubResponse {
        code,
        headers,
        body,
        canonical_json,
    })
}

/// Run one batch element and write it into `out` as a batch reports it (`{"body": …, "code":
/// …, "headers": {…}}`, keys in `serde_json::Map` order as before); one that cannot even be
/// built is a 500 element. Returns its status code.
async fn run_one(
    st: &AppState,
    caller: &Caller,
    sub: SubRequest,
    out: &mut Vec<u8>,
) -> io::Result<u16> {
    let (body, content_type) = match sub.body {
        Some((bytes, ct)) => (Some(bytes), ct),
        None => (None, ""),
    };
    let resp = subrequest(
        st,
        Some(caller),
        sub.method.as_str(),
        &sub.path,
        &sub.headers,
        body,
        content_type,
    )
    .await;
    let Some(resp) = resp else {
        let failed = json!({"code": 500, "content-type": "text/plain", "body": ""});
        serde_json::to_writer(out, &failed)?;
        return Ok(500);
    };
    out.extend_from_slice(b"{\"body\":");
    if resp.header("content-type") == Some("application/json") {
        if resp.canonical_json {
            // Our own JSON answer: parsing and re-writing it would give the same bytes (a poll
            // from seqno 0 carries 300 messages, ~150 KB, through here).
            out.extend_from_slice(&resp.body);
        } else {
            let value = serde_json::from_slice(&resp.body).unwrap_or_else(|_| b64(&resp.body));
            serde_json::to_writer(&mut *out, &value)?;
        }
    } else {
        serde_json::to_writer(&mut *out, &b64(&resp.body))?;
    }
    out.extend_from_slice(b",\"code\":");
    serde_json::to_writer(&mut *out, &resp.code)?;
    out.extend_from_slice(b",\"headers\":");
    let headers: Map<String, Value> = resp
        .headers
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    serde_json::to_writer(&mut *out, &headers)?;
    out.push(b'}');
    Ok(resp.code)
}

async fn run(st: AppState, caller: Caller, body: Bytes, sequential: bool) -> ApiResult {
    let list = json_body(&body)?;
    let list = list.as_array().ok_or_else(ApiError::bad_request)?;
    let subs = list.iter().map(parse_sub).collect::<ApiResult<Vec<_>>>()?;
    let mut out = vec![b'['];
    for (i, sub) in subs.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let code = run_one(&st, &caller, sub, &mut out)
            .await
            .map_err(|source| crate::Error::JsonWrite {
                what: "batch",
                source,
            })?;
        if sequential && !(200..300).contains(&code) {
            break;
        }
    }
    out.push(b']');
    Ok(json_bytes(StatusCode::OK, out))
}

/// `POST /batch`.
pub(super) async fn batch(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    run(st, caller, body, false).await
}

/// `POST /sequence`: stops after the first non-2xx response.
pub(super) async fn sequence(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    run(st, caller, body, true).await
}
