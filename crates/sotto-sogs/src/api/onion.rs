//! Onion requests (`sogs.md` §1.7): `POST /oxen/v4/lsrpc` and the deprecated
//! `/oxen/v3/lsrpc`, `/loki/v3/lsrpc`. The decrypted request runs inside this server,
//! authenticated by the X-SOGS headers it carries, and the answer goes back encrypted.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand_core::OsRng;
use sotto_onion::lsrpc::{Headers, V4Response};
use sotto_onion::server::accept;

use super::batch::subrequest;
use super::{ApiError, AppState};

/// Body of a v4 answer to an undecodable request (PySOGS `handle_v4_onionreq_plaintext`).
const INVALID_V4: &str = "Invalid v4 onion request";

fn reply(body: Vec<u8>, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// `POST /oxen/v4/lsrpc`: 400 if it does not decrypt; otherwise an encrypted bencoded answer
/// for every inner outcome.
pub(super) async fn v4(State(st): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let accepted = accept(st.onion_keys(), &body).map_err(|e| {
        tracing::debug!("undecryptable onion request: {e}");
        ApiError::bad_request()
    })?;
    let answer = match accepted.v4_request() {
        Ok(req) => {
            let headers: Vec<(String, String)> = req.headers.into_iter().collect();
            let body = Some(req.body.unwrap_or_default());
            subrequest(
                &st,
                None,
                &req.method,
                &req.endpoint,
                &headers,
                body,
                "application/octet-stream",
            )
            .await
            .map(|r| V4Response {
                code: r.code,
                headers: r.headers.into_iter().collect(),
                body: r.body.to_vec(),
            })
        }
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
        body: INVALID_V4.as_bytes().to_vec(),
    });
    Ok(reply(
        accepted.replier.reply_v4(&mut OsRng, &answer),
        "application/octet-stream",
    ))
}

/// `POST /oxen/v3/lsrpc`, `/loki/v3/lsrpc`: base64 of the encrypted body on 2xx, else of the
/// encrypted `{"status_code": n}`. Legacy (slash-less) endpoints run as `/legacy/<endpoint>`
/// (`legacy.rs`), with the onion's auth code as their `Authorization` token.
pub(super) async fn v3(State(st): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let accepted = accept(st.onion_keys(), &body).map_err(|e| {
        tracing::debug!("undecryptable onion request: {e}");
        ApiError::bad_request()
    })?;
    let (status, body) = match accepted.v3_request() {
        Ok(req) => {
            let has_body = matches!(req.method.as_str(), "POST" | "PUT");
            let body = req.body.filter(|b| !b.is_empty() && b != "null");
            if !has_body && body.is_some() {
                (400, Vec::new())
            } else {
                let endpoint = if req.endpoint.starts_with('/') {
                    req.endpoint.clone()
                } else {
                    format!("/legacy/{}", req.endpoint)
                };
                let mut headers: Vec<(String, String)> = req
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .filter(|(k, _)| k != "content-type")
                    .collect();
                if let Some(code) = req.auth_code.filter(|_| !req.endpoint.starts_with('/')) {
                    headers.push(("authorization".to_owned(), code));
                }
                let body = has_body.then(|| body.unwrap_or_default().into_bytes());
                match subrequest(
                    &st,
                    None,
                    &req.method,
                    &endpoint,
                    &headers,
                    body,
                    "application/json",
                )
                .await
                {
                    Some(r) => (r.code, r.body.to_vec()),
                    None => (400, Vec::new()),
                }
            }
        }
        Err(e) => {
            tracing::debug!("invalid v3 onion request: {e}");
            (400, Vec::new())
        }
    };
    Ok(reply(
        accepted.replier.reply_v3(&mut OsRng, status, &body),
        "text/html; charset=utf-8",
    ))
}
