//! Blinded direct messages (`sogs.md` §1.6): `/inbox`, `/outbox`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Extension;
use serde_json::{json, Value};

use super::{
    b64, decode_b64, int_param, int_segment, json, json_body, ok, require_user, ApiError,
    ApiResult, AppState, Caller, BLIND_REQUIRED,
};
use crate::ids::AccountId;
use crate::store::{DirectMessage, User};
use crate::util;

/// Page size bounds and default (`get_int_param('limit', 100, min=1, max=256)`).
const LIMIT_DEFAULT: i64 = 100;
const LIMIT_RANGE: (i64, i64) = (1, 256);

fn message_json(m: &DirectMessage, with_body: bool) -> Value {
    let mut v = json!({
        "id": m.id,
        "posted_at": m.posted_at,
        "expires_at": m.expires_at,
        "sender": m.sender,
        "recipient": m.recipient,
    });
    if let (true, Some(obj)) = (with_body, v.as_object_mut()) {
        obj.insert("message".into(), b64(&m.body));
    }
    v
}

/// `blind_user_required`.
fn require_blind(caller: &Caller) -> ApiResult<&User> {
    let user = require_user(caller)?;
    if !user.session_id.starts_with("15") {
        return Err(ApiError::text(StatusCode::UNAUTHORIZED, BLIND_REQUIRED));
    }
    Ok(user)
}

fn mailbox(
    st: &AppState,
    caller: &Caller,
    outbox: bool,
    since: Option<&str>,
    q: Option<&str>,
) -> ApiResult {
    let since = since.map(int_segment).transpose()?;
    let user = require_blind(caller)?;
    let limit = int_param(q, "limit", LIMIT_DEFAULT, Some(LIMIT_RANGE))?;
    // `since` 0 means "everything" (PySOGS tests `if since`).
    let list = st
        .store()
        .dms(user.id, outbox, since.filter(|&s| s != 0), limit)?;
    if list.is_empty() && since.is_some() {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    ok(Value::Array(
        list.iter().map(|m| message_json(m, true)).collect(),
    ))
}

/// `GET /inbox`.
pub(super) async fn inbox(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    mailbox(&st, &caller, false, None, q.as_deref())
}

/// `GET /inbox/since/<id>`.
pub(super) async fn inbox_since(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    mailbox(&st, &caller, false, Some(&id), q.as_deref())
}

/// `GET /outbox`.
pub(super) async fn outbox(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    mailbox(&st, &caller, true, None, q.as_deref())
}

/// `GET /outbox/since/<id>`.
pub(super) async fn outbox_since(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    mailbox(&st, &caller, true, Some(&id), q.as_deref())
}

/// `POST /inbox/<15 id>`: 201 with the message minus its body.
pub(super) async fn send(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    let recipient: AccountId = sid.parse().map_err(|_| ApiError::not_found())?;
    if !matches!(recipient, AccountId::Blinded(_)) {
        return Err(ApiError::not_found());
    }
    let sender = require_user(&caller)?;
    let mut store = st.write().await;
    super::quota::check_dm(st.config(), &store, sender, util::now())?;
    let recipient = store
        .user_by_session_id(&recipient.to_string())?
        .filter(|u| !u.banned)
        .ok_or_else(ApiError::not_found)?;
    let req = json_body(&body)?;
    let message = match req.get("message") {
        None | Some(Value::Null) => return Err(ApiError::bad_request()),
        Some(Value::String(s)) => decode_b64(s).ok_or_else(ApiError::bad_request)?,
        Some(_) => return Err(ApiError::bad_request()),
    };
    let msg = store.send_dm(
        sender.id,
        recipient.id,
        &message,
        util::now(),
        st.config().dm_expiry,
    )?;
    Ok(json(StatusCode::CREATED, message_json(&msg, false)))
}

/// `DELETE /inbox`.
pub(super) async fn delete_inbox(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult {
    let user = require_blind(&caller)?;
    let n = st.write().await.delete_inbox(user.id)?;
    ok(json!({ "deleted": n }))
}
