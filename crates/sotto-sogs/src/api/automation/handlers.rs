//! The automation routes. The token, not a user's room permissions, authorises: a token may act
//! on the rooms it lists (every room if none), and only an admin token without a room list may
//! create or delete rooms or ban server-wide.

use std::path::PathBuf;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Extension;
use prost::Message as _;
use serde_json::{json, Map, Value};
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::{BlindingKind, Identity};
use sotto_message::proto::{Content, DataMessage, LokiProfile};

use super::{AutoError, AutoResult, Bot};
use crate::api::rooms::{existing_user, target_user};
use crate::api::AppState;
use crate::ids::{AccountId, RoomToken};
use crate::store::{BanRow, NewPost, Room, Store, User};
use crate::util;

/// Largest JSON body of an automation request: these bodies carry a name, a description or a
/// message text, never bulk data.
pub(super) const MAX_JSON_BODY: usize = 64 * 1024;
/// Longest message text, in characters: Session clients refuse to send longer messages
/// (`CONVERSATION_MAX_LENGTH`-style 2000-character limit of Session desktop and mobile).
pub(super) const MAX_TEXT_CHARS: usize = 2000;
/// Longest room name, in characters (ours: PySOGS has none, but clients show a line).
pub(super) const MAX_ROOM_NAME_CHARS: usize = 100;
/// Longest room description, in characters (ours, as above).
pub(super) const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Messages per listing page: default and bounds (PySOGS's `limit` default and maximum).
const LIST_LIMIT_DEFAULT: i64 = 100;
const LIST_LIMIT_MAX: i64 = 256;
/// Protobuf tag of `Content.dataMessage` (field 1, length-delimited).
const CONTENT_DATA_MESSAGE_TAG: u8 = 0x0a;
/// Protobuf tag of `DataMessage.timestamp` (field 7, varint), which clients expect and our
/// generated schema lacks.
const DATA_MESSAGE_TIMESTAMP_TAG: u8 = 0x38;

fn ok(value: Value) -> AutoResult {
    Ok((StatusCode::OK, axum::Json(value)).into_response())
}

fn created(value: Value) -> AutoResult {
    Ok((StatusCode::CREATED, axum::Json(value)).into_response())
}

/// A JSON object body.
fn object(body: &[u8]) -> AutoResult<Map<String, Value>> {
    if body.len() > MAX_JSON_BODY {
        return Err(AutoError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
        ));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(AutoError::bad_request("expected a JSON object")),
        Err(_) => Err(AutoError::bad_request("request body is not valid JSON")),
    }
}

/// A string field: absent or null → `None`, a non-string → 400, longer than `max` chars → 400.
fn opt_string(
    req: &Map<String, Value>,
    key: &'static str,
    max: usize,
) -> AutoResult<Option<String>> {
    match req.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max => Err(AutoError::bad_request(format!(
            "'{key}' is longer than {max} characters"
        ))),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(AutoError::bad_request(format!("'{key}' must be a string"))),
    }
}

/// A session ID field or segment: `05…` or `15…`.
fn account(s: &str) -> AutoResult<AccountId> {
    s.parse()
        .map_err(|_| AutoError::bad_request("not a valid Session ID (05… or 15…, 66 hex digits)"))
}

/// Admin tokens without a room list only.
fn require_server_admin(bot: &Bot) -> AutoResult<()> {
    if bot.0.admin && bot.0.rooms.is_none() {
        Ok(())
    } else {
        Err(AutoError::forbidden(
            "this route needs an admin token that is not limited to some rooms",
        ))
    }
}

/// The room named by a path segment, if the token may act on it: 403 outside the token's
/// rooms (checked first, so a limited token learns nothing about other rooms), else 404 if
/// there is no such room.
fn room(store: &Store, bot: &Bot, token: &str) -> AutoResult<Room> {
    allowed(bot, token)?;
    let parsed: RoomToken = token
        .parse()
        .map_err(|_| AutoError::not_found("no such room"))?;
    store
        .room(&parsed)?
        .ok_or_else(|| AutoError::not_found("no such room"))
}

/// 403 unless the token may act on the room with this token.
fn allowed(bot: &Bot, token: &str) -> AutoResult<()> {
    if bot.0.allows_room(token) {
        Ok(())
    } else {
        Err(AutoError::forbidden("this token may not act on this room"))
    }
}

fn room_json(r: &Room) -> Value {
    json!({
        "token": r.token,
        "name": r.name,
        "description": r.description,
        "created": r.created,
        "info_updates": r.info_updates,
        "message_sequence": r.message_sequence,
        "active_users": r.active_users,
        "image_id": r.image,
        "default_read": r.default_read,
        "default_accessible": r.default_accessible,
        "default_write": r.default_write,
        "default_upload": r.default_upload,
    })
}

/// The bot's Session identity for this server: its blinded (`15`) key when the server requires
/// blinded IDs, else its `05` ID, and a signer for its posts.
struct BotIdentity {
    session_id: String,
    identity: Identity,
    blinded: Option<BlindedKeyPair>,
}

impl BotIdentity {
    fn new(st: &AppState, bot: &Bot) -> AutoResult<Self> {
        let identity = Identity::from_ed25519_seed(&bot.0.bot_seed);
        if st.config().require_blind_keys {
            let blinded =
                BlindedKeyPair::new(&identity, &st.keys().x25519_public(), BlindingKind::Blind15)
                    .map_err(crate::Error::Crypto)?;
            Ok(Self {
                session_id: blinded.blinded_id().to_string(),
                identity,
                blinded: Some(blinded),
            })
        } else {
            Ok(Self {
                session_id: identity.session_id().to_string(),
                identity,
                blinded: None,
            })
        }
    }

    fn sign(&self, data: &[u8]) -> [u8; 64] {
        match &self.blinded {
            Some(b) => b.sign(data),
            None => self.identity.sign(data),
        }
    }

    fn user(&self, st: &AppState, store: &mut Store) -> AutoResult<User> {
        Ok(store
            .user_for_request(&self.session_id, st.config().require_blind_keys)?
            .0)
    }
}

/// A padded `Content` holding a visible message with `text`, from a profile named `name`, sent
/// at `timestamp_ms`: what a Session client posts.
pub(crate) fn visible_message(text: &str, name: &str, timestamp_ms: u64) -> Vec<u8> {
    let message = DataMessage {
        body: Some(text.to_owned()),
        profile: Some(LokiProfile {
            display_name: Some(name.to_owned()),
            ..LokiProfile::default()
        }),
        ..DataMessage::default()
    };
    let mut inner = message.encode_to_vec();
    inner.push(DATA_MESSAGE_TIMESTAMP_TAG);
    prost::encoding::encode_varint(timestamp_ms, &mut inner);
    let mut content = vec![CONTENT_DATA_MESSAGE_TAG];
    prost::encoding::encode_varint(inner.len() as u64, &mut content);
    content.extend_from_slice(&inner);
    sotto_message::padding::pad(&content)
}

/// The text of a stored message, if it decodes as a visible message with a body.
fn message_text(data: &[u8]) -> Option<String> {
    Content::decode(util::remove_padding(data))
        .ok()?
        .body()
        .map(str::to_owned)
}

/// `POST /room` {token, name?, description?}: 201 with the room.
pub(super) async fn create_room(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    body: Bytes,
) -> AutoResult {
    require_server_admin(&bot)?;
    let req = object(&body)?;
    let token = opt_string(&req, "token", crate::ids::ROOM_TOKEN_MAX)?
        .ok_or_else(|| AutoError::bad_request("'token' is required"))?;
    let token: RoomToken = token
        .parse()
        .map_err(|e: crate::Error| AutoError::bad_request(e.to_string()))?;
    let name = opt_string(&req, "name", MAX_ROOM_NAME_CHARS)?.unwrap_or_else(|| token.to_string());
    if name.trim().is_empty() {
        return Err(AutoError::bad_request("'name' must not be empty"));
    }
    let description = opt_string(&req, "description", MAX_DESCRIPTION_CHARS)?;
    let mut store = st.write().await;
    let room = match store.add_room(
        &token,
        &name,
        description.as_deref().filter(|d| !d.is_empty()),
    ) {
        Ok(r) => r,
        Err(crate::Error::RoomExists(_)) => {
            return Err(AutoError::new(
                StatusCode::CONFLICT,
                "a room with this token already exists",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(token = %room.token, by = %bot.0.name, "room created by API token");
    created(room_json(&room))
}

/// `GET /room/{token}`.
pub(super) async fn get_room(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    Path(token): Path<String>,
) -> AutoResult {
    let store = st.write().await;
    let room = room(&store, &bot, &token)?;
    ok(room_json(&room))
}

/// `PUT /room/{token}` {name?, description?}: the room after the change.
pub(super) async fn update_room(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    Path(token): Path<String>,
    body: Bytes,
) -> AutoResult {
    allowed(&bot, &token)?;
    let req = object(&body)?;
    let name = opt_string(&req, "name", MAX_ROOM_NAME_CHARS)?;
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(AutoError::bad_request("'name' must not be empty"));
    }
    let description = opt_string(&req, "description", MAX_DESCRIPTION_CHARS)?;
    let clear_description = matches!(req.get("description"), Some(Value::Null));
    let mut store = st.write().await;
    let r = room(&store, &bot, &token)?;
    if let Some(name) = &name {
        store.set_room_name(r.id, name)?;
    }
    if description.is_some() || clear_description {
        store.set_room_description(r.id, description.as_deref().filter(|d| !d.is_empty()))?;
    }
    let r = room(&store, &bot, &token)?;
    ok(room_json(&r))
}

/// `DELETE /room/{token}`.
pub(super) async fn delete_room(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    Path(token): Path<String>,
) -> AutoResult {
    require_server_admin(&bot)?;
    let mut store = st.write().await;
    let r = room(&store, &bot, &token)?;
    let parsed: RoomToken = r
        .token
        .parse()
        .map_err(|_| AutoError::not_found("no such room"))?;
    let stats = store.delete_room(&parsed, util::now())?;
    tracing::info!(token = %r.token, by = %bot.0.name, "room deleted by API token");
    ok(json!({ "token": r.token, "deleted": true, "messages": stats.messages }))
}

/// `POST /room/{token}/message` {text}: the server signs and stores it as the token's bot.
pub(super) async fn post_message(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    Path(token): Path<String>,
    body: Bytes,
) -> AutoResult {
    allowed(&bot, &token)?;
    let req = object(&body)?;
    let text = opt_string(&req, "text", MAX_TEXT_CHARS)?
        .ok_or_else(|| AutoError::bad_request("'text' is required"))?;
    if text.trim().is_empty() {
        return Err(AutoError::bad_request("'text' must not be empty"));
    }
    let author = BotIdentity::new(&st, &bot)?;
    let mut store = st.write().await;
    let r = room(&store, &bot, &token)?;
    let user = author.user(&st, &mut store)?;
    let now = util::now();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // ms since 1970
    let data = visible_message(&text, &bot.0.name, (now * 1000.0) as u64);
    let signature = author.sign(&data);
    let (id, posted, seqno) = store.insert_post(
        &NewPost {
            room: r.id,
            user: user.id,
            data: &data,
            signature: &signature,
            filtered: false,
            whisper: None,
            whisper_mods: false,
            now,
        },
        &[],
        None,
    )?;
    created(json!({
        "id": id,
        "author": user.session_id,
        "text": text,
        "posted": posted,
        "seqno": seqno,
    }))
}

/// `GET /room/{token}/messages?since=<id>&limit=<n>`: decoded public messages after `since`.
pub(super) async fn list_messages(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    Path(token): Path<String>,
    RawQuery(q): RawQuery,
) -> AutoResult {
    let int = |name: &'static str, default: i64| -> AutoResult<i64> {
        match crate::api::query_param(q.as_deref(), name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map_err(|_| AutoError::bad_request(format!("'{name}' must be an integer"))),
        }
    };
    let since = int("since", 0)?.max(0);
    let limit = int("limit", LIST_LIMIT_DEFAULT)?.clamp(1, LIST_LIMIT_MAX);
    let store = st.write().await;
    let r = room(&store, &bot, &token)?;
    let list: Vec<Value> = store
        .bot_messages(r.id, since, limit)?
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id,
                "author": m.author,
                "text": m.data.as_deref().and_then(message_text),
                "posted": m.posted,
            })
        })
        .collect();
    ok(Value::Array(list))
}

/// `DELETE /room/{token}/message/{id}`.
pub(super) async fn delete_message(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    Path((token, id)): Path<(String, String)>,
) -> AutoResult {
    let mut store = st.write().await;
    let r = room(&store, &bot, &token)?;
    let id: i64 = id
        .parse()
        .map_err(|_| AutoError::not_found("no such message"))?;
    let (live, _) = store.live_messages(r.id, &[id], crate::store::SYSTEM_USER_ID)?;
    if live.is_empty() {
        return Err(AutoError::not_found("no such message"));
    }
    store.delete_messages(&live)?;
    ok(json!({ "id": id, "deleted": true }))
}

/// The users a ban of `id` applies to: the one PySOGS would resolve (the blinded account of a
/// `05` ID when blinding is required, with a `needs_blinding` hand-over if it has not shown up
/// yet), plus the `05` row itself when both exist.
fn ban_targets(st: &AppState, store: &mut Store, id: &AccountId) -> AutoResult<Vec<User>> {
    let main = target_user(store, st, id).map_err(|_| {
        AutoError::bad_request("this Session ID cannot be resolved (not a valid key)")
    })?;
    let mut users = vec![main];
    if matches!(id, AccountId::Unblinded(_)) {
        if let Some(u) = store.user_by_session_id(&id.to_string())? {
            if users.iter().all(|x| x.id != u.id) {
                users.push(u);
            }
        }
    }
    Ok(users)
}

/// The existing users an unban of `id` may apply to.
fn unban_targets(st: &AppState, store: &Store, id: &AccountId) -> AutoResult<Vec<User>> {
    let mut users: Vec<User> = existing_user(store, st, id)
        .map_err(|_| AutoError::not_found("no such user"))?
        .into_iter()
        .collect();
    if let Some(u) = store.user_by_session_id(&id.to_string())? {
        if users.iter().all(|x| x.id != u.id) {
            users.push(u);
        }
    }
    Ok(users)
}

/// An optional `timeout` in seconds: a positive number.
fn timeout(req: &Map<String, Value>) -> AutoResult<Option<f64>> {
    match req.get("timeout") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(t) if t.is_finite() && t > 0.0 => Ok(Some(t)),
            _ => Err(AutoError::bad_request(
                "'timeout' must be a positive number of seconds",
            )),
        },
        Some(_) => Err(AutoError::bad_request(
            "'timeout' must be a positive number of seconds",
        )),
    }
}

fn session_id_field(req: &Map<String, Value>) -> AutoResult<AccountId> {
    match req.get("session_id") {
        Some(Value::String(s)) => account(s),
        _ => Err(AutoError::bad_request(
            "'session_id' (a string) is required",
        )),
    }
}

/// Global moderators and admins are not banned by a bot: remove the role first.
fn refuse_moderators(users: &[User]) -> AutoResult<()> {
    if users.iter().any(|u| u.moderator || u.admin) {
        return Err(AutoError::forbidden(
            "cannot ban a global moderator or admin; remove the role first",
        ));
    }
    Ok(())
}

/// `POST /room/{token}/ban` {session_id, timeout?}.
pub(super) async fn ban_in_room(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    Path(token): Path<String>,
    body: Bytes,
) -> AutoResult {
    allowed(&bot, &token)?;
    let req = object(&body)?;
    let id = session_id_field(&req)?;
    let timeout = timeout(&req)?;
    let mut store = st.write().await;
    let r = room(&store, &bot, &token)?;
    let users = ban_targets(&st, &mut store, &id)?;
    refuse_moderators(&users)?;
    let until = timeout.map(|t| util::now() + t);
    for u in &users {
        store.ban_from_room(r.id, u.id, until)?;
    }
    tracing::info!(room = %r.token, user = %id, by = %bot.0.name, "banned by API token");
    ok(json!({ "session_id": id.to_string(), "room": r.token, "until": until }))
}

/// `DELETE /room/{token}/ban/{session_id}`: 404 if not banned there.
pub(super) async fn unban_in_room(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    Path((token, sid)): Path<(String, String)>,
) -> AutoResult {
    let mut store = st.write().await;
    let r = room(&store, &bot, &token)?;
    let id = account(&sid)?;
    let mut any = false;
    for u in unban_targets(&st, &store, &id)? {
        any |= store.unban_from_room(r.id, u.id)?;
    }
    if !any {
        return Err(AutoError::not_found("this user is not banned in this room"));
    }
    ok(json!({ "session_id": id.to_string(), "room": r.token, "unbanned": true }))
}

fn bans_json(rows: &[BanRow]) -> Value {
    rows.iter()
        .map(|b| json!({ "session_id": b.session_id, "until": b.until }))
        .collect()
}

/// `GET /room/{token}/bans`.
pub(super) async fn room_bans(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    Path(token): Path<String>,
) -> AutoResult {
    let store = st.write().await;
    let r = room(&store, &bot, &token)?;
    ok(bans_json(&store.bans(Some(r.id))?))
}

/// `POST /ban` {session_id, purge?, timeout?}: a server-wide ban; with `purge` the user's
/// posts in every room are deleted too, in the same request.
pub(super) async fn global_ban(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    body: Bytes,
) -> AutoResult {
    require_server_admin(&bot)?;
    let req = object(&body)?;
    let id = session_id_field(&req)?;
    let purge = match req.get("purge") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(AutoError::bad_request("'purge' must be true or false")),
    };
    let timeout = timeout(&req)?;
    let mut store = st.write().await;
    let users = ban_targets(&st, &mut store, &id)?;
    refuse_moderators(&users)?;
    let report = global_ban_users(&mut store, &users, timeout.map(|t| util::now() + t), purge)?;
    tracing::info!(user = %id, purge, by = %bot.0.name, "banned server-wide by API token");
    ok(json!({
        "session_id": id.to_string(),
        "banned": true,
        "deleted_messages": report,
    }))
}

/// Ban users server-wide and, if `purge`, delete their posts in every room; returns how many
/// posts were deleted. Shared with `sogs --ban-global`.
pub(crate) fn global_ban_users(
    store: &mut Store,
    users: &[User],
    until: Option<f64>,
    purge: bool,
) -> crate::Result<usize> {
    let mut deleted = 0;
    for u in users {
        store.ban_globally(u.id, until)?;
        if purge {
            for r in store.rooms()? {
                deleted += store.delete_all_posts(r.id, u.id)?.0;
            }
        }
    }
    Ok(deleted)
}

/// `POST /room/{token}/upload`: raw body, name from `Content-Disposition`; 201 `{"id"}`.
pub(super) async fn upload(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AutoResult {
    allowed(&bot, &token)?;
    if u64::try_from(body.len()).unwrap_or(u64::MAX) > st.config().file_max_size {
        return Err(AutoError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file larger than [files] max_size",
        ));
    }
    if body.is_empty() {
        return Err(AutoError::bad_request("empty upload"));
    }
    let author = BotIdentity::new(&st, &bot)?;
    let mut store = st.write().await;
    let r = room(&store, &bot, &token)?;
    let user = author.user(&st, &mut store)?;
    let id = crate::api::files::save_upload(
        st.config(),
        &mut store,
        (r.id, &r.token),
        user.id,
        &headers,
        &body,
        st.config().file_expiry,
    )?;
    created(json!({ "id": id }))
}

/// `GET /file/{id}`: a file of a room the token may act on.
pub(super) async fn download(
    State(st): State<AppState>,
    Extension(bot): Extension<Bot>,
    Path(id): Path<String>,
) -> AutoResult {
    let id: i64 = id
        .parse()
        .map_err(|_| AutoError::not_found("no such file"))?;
    let file = st
        .store()
        .file_with_room(id, util::now())?
        .ok_or_else(|| AutoError::not_found("no such file"))?;
    // A file whose room is gone belongs to no room: only an all-rooms token sees it.
    let allowed = match &file.room {
        Some(token) => bot.0.allows_room(token),
        None => bot.0.rooms.is_none(),
    };
    if !allowed {
        return Err(AutoError::forbidden("this token may not act on this room"));
    }
    let path = PathBuf::from(&file.path);
    let bytes = std::fs::read(&path).map_err(|source| crate::Error::Io {
        what: "cannot read upload",
        path,
        source,
    })?;
    let disposition = match &file.filename {
        Some(name) if !name.is_empty() => format!(
            "attachment; filename*=UTF-8''{}",
            util::percent_encode(name.as_bytes())
        ),
        _ => "attachment".to_owned(),
    };
    let mut resp = (StatusCode::OK, Body::from(bytes)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
