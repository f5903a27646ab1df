//! The legacy SOGS v2 routes (`sogs.md` §1.8, PySOGS `sogs/routes/legacy.py`), served under
//! `/legacy/*`. Old Session clients reach them through v3 onion requests with a slash-less
//! endpoint, which [`super::onion::v3`] rewrites to `/legacy/<endpoint>`.
//!
//! The caller is named by X-SOGS headers if present, else by an `Authorization` token: the
//! server's Ed25519 signature followed by the 33-byte Session ID it signs, which
//! `auth_token_challenge` hands out encrypted to the user's X25519 key. The room comes from the
//! `Room` header. These routes only know `05` Session IDs, so with `require_blind_keys` on
//! (the default) every caller is refused with [`BLINDING_REQUIRED`].
//!
//! Bodies carry `status_code` as PySOGS's do. Where PySOGS would fail with a Python exception
//! (500) on malformed input — a missing JSON key, bad base64, a body that is not an object —
//! we answer 400 instead.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Extension;
use ed25519_dalek::Signature;
use rand_core::OsRng;
use serde_json::{json, Map, Value};
use sotto_crypto::layer::{EncType, LayerCipher};

use super::messages::{add_post, data_and_signature, NewMessage};
use super::rooms::{existing_user, session_id_segment, target_user};
use super::{
    b64, decode_b64, find_room, int_param, int_segment, json_object, ok, query_param, truthy,
    ApiError, ApiResult, AppState, Caller,
};
use crate::ids::AccountId;
use crate::store::{EffectivePermissions, Fetch, Room, Store, User, Viewer};
use crate::util;

/// Ed25519 signature length (`utils.SIGNATURE_SIZE`).
const SIGNATURE_LEN: usize = 64;
/// Session ID length in bytes (`utils.SESSION_ID_SIZE`).
const SESSION_ID_LEN: usize = 33;
/// A legacy token: signature ‖ signed Session ID (`utils.LEGACY_TOKEN_SIZE`).
const TOKEN_LEN: usize = SIGNATURE_LEN + SESSION_ID_LEN;
/// Length of a Session ID in hex.
const SESSION_ID_HEX_LEN: usize = 2 * SESSION_ID_LEN;
/// Messages per poll: `get_int_param('limit', 256, min=1, max=256)`, and `get_messages_for`'s
/// default for compact polls.
const MESSAGES_LIMIT: i64 = 256;
/// The header naming the room.
const ROOM_HEADER: &str = "room";

/// 400 `text/plain` body when a `05` caller meets `require_blind_keys`.
pub(crate) const BLINDING_REQUIRED: &str =
    "Invalid authentication: this server requires the use of blinded ids";

/// What a route requires of the caller in the room (`Room.check_permission` arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    /// `no_perms=True`: no check at all.
    Nothing,
    /// `read=False`: only not banned.
    Unbanned,
    /// `accessible=True`.
    Accessible,
    /// `read=True`.
    Read,
    /// `write=True`.
    Write,
    /// `write=True, upload=True`.
    Upload,
    /// `moderator=True`.
    Moderator,
    /// `admin=True`.
    Admin,
}

impl Need {
    fn met(self, p: &EffectivePermissions) -> bool {
        match self {
            Self::Nothing => true,
            Self::Unbanned => p.unbanned(),
            Self::Accessible => p.can_access(),
            Self::Read => p.can_read(),
            Self::Write => p.can_write(),
            Self::Upload => p.can_upload(),
            Self::Moderator => p.is_moderator(),
            Self::Admin => p.is_admin(),
        }
    }
}

/// Who asks and where, once [`check_user_room`] let them through.
struct Access {
    user: User,
    room: Room,
    perms: EffectivePermissions,
}

/// `make_legacy_token`: the server's signature over the 33-byte Session ID, then the ID.
fn make_token(st: &AppState, session_id: &[u8; SESSION_ID_LEN]) -> [u8; TOKEN_LEN] {
    use ed25519_dalek::Signer as _;
    let sig = st.keys().ed25519_signing().sign(session_id);
    let mut token = [0u8; TOKEN_LEN];
    let (head, tail) = token.split_at_mut(SIGNATURE_LEN);
    head.copy_from_slice(&sig.to_bytes());
    tail.copy_from_slice(session_id);
    token
}

/// `get_pubkey_from_token`: the Session ID (hex) a token carries, if the server signed it;
/// an undecodable or forged token is 401.
fn token_session_id(st: &AppState, token: &str) -> ApiResult<String> {
    let unauthorized = || ApiError::Werkzeug(StatusCode::UNAUTHORIZED);
    let raw: [u8; TOKEN_LEN] =
        sotto_crypto::sogs_auth::decode_hex_or_base64(token).ok_or_else(unauthorized)?;
    let (sig, session_id) = raw.split_at(SIGNATURE_LEN);
    let sig = Signature::from_slice(sig).map_err(|_| unauthorized())?;
    st.keys()
        .ed25519_signing()
        .verifying_key()
        .verify_strict(session_id, &sig)
        .map_err(|_| unauthorized())?;
    Ok(hex::encode(session_id))
}

/// Where [`check_user_room`] takes the caller's Session ID from.
enum Pubkey {
    /// The X-SOGS caller, else the `Authorization` token (PySOGS's `pubkey=None`).
    FromRequest,
    /// Given by the route (a query parameter, a compact-poll token).
    Given(String),
}

/// `legacy_check_user_room`: the caller (400 if there is none or it is not a `05` ID, 400
/// [`BLINDING_REQUIRED`] when blinding is required), the room (`room`, else the `Room` header:
/// 400 if absent, 404 if unknown), the permission (403); then the caller's activity is touched
/// and their user row created if new.
fn check_user_room(
    st: &AppState,
    store: &mut Store,
    caller: &Caller,
    headers: &HeaderMap,
    pubkey: Pubkey,
    room: Option<&str>,
    need: Need,
) -> ApiResult<Access> {
    let pubkey = match pubkey {
        Pubkey::Given(p) => p,
        Pubkey::FromRequest => match caller.user() {
            Some(user) => user.session_id.clone(),
            None => match headers.get(axum::http::header::AUTHORIZATION) {
                Some(v) if !v.is_empty() => {
                    token_session_id(st, &String::from_utf8_lossy(v.as_bytes()))?
                }
                _ => String::new(),
            },
        },
    };
    if pubkey.len() != SESSION_ID_HEX_LEN || !pubkey.starts_with("05") {
        return Err(ApiError::bad_request());
    }
    if st.config().require_blind_keys {
        return Err(ApiError::text(StatusCode::BAD_REQUEST, BLINDING_REQUIRED));
    }
    let account: AccountId = pubkey.parse().map_err(|_| ApiError::bad_request())?;
    let token = match room {
        Some(t) => t.to_owned(),
        None => headers
            .get(ROOM_HEADER)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default(),
    };
    if token.is_empty() {
        return Err(ApiError::bad_request());
    }
    let room = find_room(store, &token)?;
    let (user, _) = store.user_for_request(&account.to_string(), false)?;
    let now = util::now();
    store.touch_user(user.id, now)?;
    let perms = store.permissions(&room, Some(&user))?;
    if !need.met(&perms) {
        return Err(ApiError::forbidden());
    }
    store.touch_room_activity(room.id, user.id, now)?;
    Ok(Access { user, room, perms })
}

/// [`check_user_room`] for the request's caller and `Room` header.
fn access(
    st: &AppState,
    store: &mut Store,
    caller: &Caller,
    headers: &HeaderMap,
    need: Need,
) -> ApiResult<Access> {
    check_user_room(st, store, caller, headers, Pubkey::FromRequest, None, need)
}

/// A JSON object body with a string field: 400 if either is missing (PySOGS: 500).
fn string_field(body: &[u8], key: &str) -> ApiResult<String> {
    json_object(body)?
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(ApiError::bad_request)
}

/// `legacy_transform_message`: the new API's message as legacy Session knows it.
fn legacy_message(id: i64, session_id: &str, posted: f64, data: &[u8], signature: &[u8]) -> Value {
    json!({
        "server_id": id,
        "public_key": session_id,
        "timestamp": legacy_time(posted),
        "data": b64(data),
        "signature": b64(signature),
    })
}

/// `legacy_convert_time`: unix seconds to integer milliseconds, truncated (Python `int`).
#[allow(clippy::cast_possible_truncation)] // a post time in milliseconds is far inside i64
fn legacy_time(seconds: f64) -> i64 {
    (seconds * 1000.0) as i64
}

/// Messages the caller sees: `after` a message id (oldest first), or the most recent.
fn legacy_messages(store: &Store, a: &Access, after: Option<i64>, limit: i64) -> ApiResult<Value> {
    let viewer = Viewer {
        user: Some(a.user.id),
        moderator: a.perms.is_moderator(),
    };
    let fetch = after.map_or(Fetch::Recent, Fetch::After);
    let rows = store.messages_for(a.room.id, viewer, fetch, limit)?;
    let list = rows
        .iter()
        .filter_map(|r| {
            let data = r.data.as_deref()?;
            let size = usize::try_from(r.data_size.unwrap_or(0)).unwrap_or(0);
            Some(legacy_message(
                r.id,
                &r.session_id,
                r.posted,
                &util::add_padding(data, size),
                r.signature.as_deref().unwrap_or_default(),
            ))
        })
        .collect();
    Ok(Value::Array(list))
}

/// `Room.get_mods(user)` flattened and sorted: hidden ones only for moderators.
fn moderators(store: &Store, a: &Access) -> crate::Result<Vec<String>> {
    let m = store.visible_moderators(a.room.id, a.perms.is_moderator())?;
    let mut all: Vec<String> = [
        m.visible_mods,
        m.visible_admins,
        m.hidden_mods,
        m.hidden_admins,
    ]
    .into_iter()
    .flatten()
    .collect();
    all.sort();
    Ok(all)
}

/// The bytes of a room's file, if it exists and has not expired (`Room.get_file` + read).
fn file_bytes(store: &Store, room: &Room, file_id: i64) -> ApiResult<Option<Vec<u8>>> {
    let Some(file) = store.room_file(room.id, file_id, util::now())? else {
        return Ok(None);
    };
    let path = std::path::PathBuf::from(&file.path);
    std::fs::read(&path).map(Some).map_err(|source| {
        ApiError::Internal(crate::Error::Io {
            what: "cannot read upload",
            path,
            source,
        })
    })
}

/// `GET /legacy/rooms`: the public rooms, token (`id`) and name.
pub(super) async fn rooms(State(st): State<AppState>) -> ApiResult {
    let store = st.write().await;
    let rooms: Vec<Value> = store
        .accessible_rooms(None)?
        .into_iter()
        .map(|r| json!({"id": r.token, "name": r.name}))
        .collect();
    ok(json!({"status_code": 200, "rooms": rooms}))
}

/// `GET /legacy/rooms/<token>`: token and name, to anyone (legacy clients send no auth here).
pub(super) async fn room(State(st): State<AppState>, Path(token): Path<String>) -> ApiResult {
    let room = find_room(&*st.write().await, &token)?;
    ok(json!({"status_code": 200, "room": {"id": room.token, "name": room.name}}))
}

/// `GET /legacy/rooms/<token>/image`: the room image, base64; 404 if there is none.
pub(super) async fn room_image(State(st): State<AppState>, Path(token): Path<String>) -> ApiResult {
    let store = st.write().await;
    let room = find_room(&store, &token)?;
    let image = room.image.ok_or_else(ApiError::not_found)?;
    let bytes = file_bytes(&store, &room, image)?.ok_or_else(ApiError::not_found)?;
    ok(json!({"status_code": 200, "result": b64(&bytes)}))
}

/// `GET /legacy/member_count`.
pub(super) async fn member_count(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> ApiResult {
    let a = access(
        &st,
        &mut *st.write().await,
        &caller,
        &headers,
        Need::Accessible,
    )?;
    ok(json!({"status_code": 200, "member_count": a.room.active_users}))
}

/// `POST /legacy/claim_auth_token`: nothing to do, kept for old clients.
pub(super) async fn claim_auth_token() -> ApiResult {
    ok(json!({"status_code": 200}))
}

/// `GET /legacy/auth_token_challenge?public_key=05…`: a token for that Session ID, encrypted to
/// its X25519 key (`server_encrypt`: AES-GCM keyed by HMAC-SHA256("LOKI", DH), the same as an
/// aes-gcm onion layer), with the server's X25519 key to decrypt it with.
pub(super) async fn auth_token_challenge(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let pubkey = query_param(q.as_deref(), "public_key").unwrap_or_default();
    let a = check_user_room(
        &st,
        &mut *st.write().await,
        &caller,
        &headers,
        Pubkey::Given(pubkey),
        None,
        Need::Unbanned,
    )?;
    let mut session_id = [0u8; SESSION_ID_LEN];
    hex::decode_to_slice(&a.user.session_id, &mut session_id)
        .map_err(|_| ApiError::bad_request())?;
    let token = make_token(&st, &session_id);
    let (_, user_x25519) = session_id.split_at(1);
    let user_x25519 = sotto_crypto::X25519PublicKey(
        user_x25519
            .try_into()
            .map_err(|_| ApiError::bad_request())?,
    );
    let server = st.keys().x25519_public();
    let cipher = LayerCipher::server(
        EncType::AesGcm,
        &st.keys().x25519_secret().to_bytes(),
        &server,
        &user_x25519,
    )
    .map_err(|_| ApiError::bad_request())?;
    ok(json!({
        "status_code": 200,
        "challenge": {
            "ciphertext": b64(&cipher.encrypt(&mut OsRng, &token)),
            "ephemeral_public_key": b64(server.as_bytes()),
        },
    }))
}

/// `POST /legacy/messages`: `{"data", "signature"}` base64; the new message.
pub(super) async fn post_message(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Write)?;
    let (data, signature) = data_and_signature(&json_object(&body)?)?;
    let posted = add_post(
        &st,
        &mut store,
        &a.room,
        &a.user,
        &a.perms,
        &NewMessage {
            data: &data,
            signature: &signature,
            files: &[],
            whisper_to: None,
            whisper_mods: false,
        },
    )?;
    ok(json!({
        "status_code": 200,
        "message": legacy_message(posted.id, &a.user.session_id, posted.posted, &data, &signature),
    }))
}

/// `GET /legacy/messages?from_server_id=N&limit=L`: messages after id N (oldest first), else
/// the most recent.
pub(super) async fn get_messages(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let from = query_param(q.as_deref(), "from_server_id").filter(|s| !s.is_empty());
    let limit = int_param(
        q.as_deref(),
        "limit",
        MESSAGES_LIMIT,
        Some((1, MESSAGES_LIMIT)),
    )?;
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Read)?;
    let after = from
        .map(|s| s.trim().parse::<i64>().map_err(|_| ApiError::bad_request()))
        .transpose()?;
    let messages = legacy_messages(&store, &a, after, limit)?;
    ok(json!({"status_code": 200, "messages": messages}))
}

/// An optional id a compact poll gives as a number or a numeric string; Python-falsy values
/// (absent, null, 0, "") mean none.
fn poll_id(v: Option<&Value>) -> ApiResult<Option<i64>> {
    if !truthy(v) {
        return Ok(None);
    }
    match v {
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(ApiError::bad_request),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request()),
        _ => Err(ApiError::bad_request()),
    }
}

/// One room of a compact poll (`handle_one_compact_poll`).
fn compact_poll_one(st: &AppState, req: &Map<String, Value>) -> ApiResult<Value> {
    let mut store = st.store();
    let pubkey = match req.get("auth_token").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => token_session_id(st, t)?,
        _ => String::new(),
    };
    let room = req.get("room_id").and_then(Value::as_str).unwrap_or("");
    let a = check_user_room(
        st,
        &mut store,
        &Caller::default(),
        &HeaderMap::new(),
        Pubkey::Given(pubkey),
        Some(room),
        Need::Read,
    )?;
    let after = poll_id(req.get("from_message_server_id"))?;
    let messages = legacy_messages(&store, &a, after, MESSAGES_LIMIT)?;
    let since = poll_id(req.get("from_deletion_server_id"))?;
    let deletions: Vec<Value> = store
        .deletions_deprecated(a.room.id, since)?
        .into_iter()
        .map(|(id, seqno)| json!({"deleted_message_id": id, "id": seqno}))
        .collect();
    Ok(json!({
        "status_code": 200,
        "room_id": a.room.token,
        "messages": messages,
        "deletions": deletions,
        "moderators": moderators(&store, &a)?,
    }))
}

/// `POST /legacy/compact_poll`: `{"requests": [{room_id, auth_token, from_message_server_id,
/// from_deletion_server_id}]}`. A failed room gets a full-shaped entry with its error code and
/// empty lists, because Session ignores a result that lacks them.
pub(super) async fn compact_poll(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let req = json_object(&body)?;
    let requests = match req.get("requests") {
        None => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|r| r.as_object().cloned())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(ApiError::bad_request)?,
        Some(_) => return Err(ApiError::bad_request()),
    };
    let mut results = Vec::with_capacity(requests.len());
    for r in &requests {
        let result = match compact_poll_one(&st, r) {
            Ok(v) => v,
            Err(ApiError::Internal(e)) => return Err(ApiError::Internal(e)),
            Err(e) => json!({
                "status_code": e.status().as_u16(),
                "room_id": r.get("room_id").cloned().unwrap_or_else(|| json!("")),
                "messages": [],
                "deletions": [],
                "moderators": [],
            }),
        };
        results.push(result);
    }
    ok(json!({"status_code": 200, "results": results}))
}

/// Store a legacy upload (`{"file": base64}`, no name) to `a`'s room: 413 if too large.
fn legacy_upload(
    st: &AppState,
    store: &mut Store,
    a: &Access,
    body: &[u8],
    lifetime: Option<f64>,
) -> ApiResult<i64> {
    let file = string_field(body, "file")?;
    let bytes = decode_b64(&file).ok_or_else(ApiError::bad_request)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > st.config().file_max_size {
        return Err(ApiError::Werkzeug(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let quota = crate::store::QuotaKind::Upload;
    super::quota::check(st.config(), store, &a.room, &a.user, quota, util::now())?;
    Ok(super::files::save_upload(
        st.config(),
        store,
        (a.room.id, &a.room.token),
        a.user.id,
        &HeaderMap::new(),
        &bytes,
        lifetime,
    )?)
}

/// `POST /legacy/files`: `{"file": base64}`; the new file id.
pub(super) async fn upload_file(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Upload)?;
    let id = legacy_upload(&st, &mut store, &a, &body, st.config().file_expiry)?;
    ok(json!({"status_code": 200, "result": id}))
}

/// `POST /legacy/rooms/<token>/image`: as PySOGS, the path's room must exist but the image
/// goes to the `Room` header's room, whose admin the caller must be.
pub(super) async fn set_room_image(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    find_room(&store, &token)?;
    let a = access(&st, &mut store, &caller, &headers, Need::Admin)?;
    let id = legacy_upload(&st, &mut store, &a, &body, None)?;
    if !store.set_room_image(a.room.id, id)? {
        return Err(ApiError::not_found());
    }
    ok(json!({"status_code": 200, "result": id}))
}

/// `GET /legacy/files/<id>`: the file's bytes, base64.
pub(super) async fn get_file(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    let id = int_segment(&id)?;
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Read)?;
    let bytes = file_bytes(&store, &a.room, id)?.ok_or_else(ApiError::not_found)?;
    ok(json!({"status_code": 200, "result": b64(&bytes)}))
}

/// `Room.delete_posts`: the caller's own posts, or any as a moderator (else 403, nothing
/// deleted); missing or already deleted ids are skipped.
fn delete_posts(store: &mut Store, a: &Access, ids: &[i64]) -> ApiResult {
    let (live, foreign) = store.live_messages(a.room.id, ids, a.user.id)?;
    if foreign && !a.perms.is_moderator() {
        return Err(ApiError::permission_denied());
    }
    if !live.is_empty() {
        store.delete_messages(&live)?;
    }
    ok(json!({"status_code": 200}))
}

/// `POST /legacy/delete_messages`: `{"ids": [...]}`.
pub(super) async fn delete_messages(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Read)?;
    let ids = match json_object(&body)?.get("ids") {
        Some(Value::Array(list)) => list
            .iter()
            .map(Value::as_i64)
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(ApiError::bad_request)?,
        _ => return Err(ApiError::bad_request()),
    };
    delete_posts(&mut store, &a, &ids)
}

/// `DELETE /legacy/messages/<id>`.
pub(super) async fn delete_message(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    let id = int_segment(&id)?;
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Read)?;
    delete_posts(&mut store, &a, &[id])
}

/// The user a moderation body's `public_key` names, created if new (`User(autovivify=True,
/// try_blinding=True)`); 400 if it is not an account ID.
fn body_target(st: &AppState, store: &mut Store, body: &[u8]) -> ApiResult<User> {
    let id: AccountId = string_field(body, "public_key")?
        .parse()
        .map_err(|_| ApiError::bad_request())?;
    target_user(store, st, &id)
}

/// `Room.ban_user` without a timeout: 403 `Permission denied` for a self-ban, a global
/// moderator, or a room moderator banned by a non-admin.
fn ban(store: &mut Store, a: &Access, target: &User) -> ApiResult<()> {
    may_ban(store, a, target)?;
    store.ban_from_room(a.room.id, target.id, None)?;
    Ok(())
}

/// Whether the caller may ban `target` from the room: not themself, not a global moderator,
/// and a room moderator only if the caller is an admin.
fn may_ban(store: &Store, a: &Access, target: &User) -> ApiResult<()> {
    let theirs = store.permissions(&a.room, Some(target))?;
    if target.id == a.user.id || target.moderator || (theirs.is_moderator() && !a.perms.is_admin())
    {
        return Err(ApiError::permission_denied());
    }
    Ok(())
}

/// `POST /legacy/block_list`: `{"public_key"}`; ban from the room.
pub(super) async fn ban_user(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Moderator)?;
    let target = body_target(&st, &mut store, &body)?;
    ban(&mut store, &a, &target)?;
    ok(json!({"status_code": 200}))
}

/// `POST /legacy/ban_and_delete_all`: ban and delete all their posts in the room, together.
pub(super) async fn ban_and_delete_all(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Moderator)?;
    let target = body_target(&st, &mut store, &body)?;
    // The ban's checks also cover `delete_all_posts`'s (a moderator deleting a non-admin's
    // posts) and run before either writes; the two writes stay or go together, as in PySOGS's
    // `db.transaction()`.
    may_ban(&store, &a, &target)?;
    store.atomic(|store| {
        store.ban_from_room(a.room.id, target.id, None)?;
        store.delete_all_posts(a.room.id, target.id)
    })?;
    ok(json!({"status_code": 200}))
}

/// `DELETE /legacy/block_list/<sid>`: lift a room ban; 404 if there was none.
pub(super) async fn unban_user(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sid): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    let id = session_id_segment(&st, &sid, false)?;
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Moderator)?;
    let target = existing_user(&store, &st, &id)?.ok_or_else(|| no_such_user(&id))?;
    if store.unban_from_room(a.room.id, target.id)? {
        ok(json!({"status_code": 200}))
    } else {
        Err(ApiError::not_found())
    }
}

/// `NoSuchUser`: 404 `No such user: <id>`.
fn no_such_user(id: &AccountId) -> ApiError {
    ApiError::Model(StatusCode::NOT_FOUND, format!("No such user: {id}").into())
}

/// `GET /legacy/block_list`: everything for a moderator, themself for a banned caller,
/// nothing for others.
pub(super) async fn ban_list(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> ApiResult {
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Nothing)?;
    let bans: Vec<String> = if !a.perms.unbanned() {
        vec![a.user.session_id.clone()]
    } else if a.perms.is_moderator() {
        let mut ids: Vec<String> = store
            .bans(Some(a.room.id))?
            .into_iter()
            .map(|b| b.session_id)
            .collect();
        ids.sort();
        ids
    } else {
        Vec::new()
    };
    ok(json!({"status_code": 200, "banned_members": bans}))
}

/// `GET /legacy/moderators`.
pub(super) async fn get_moderators(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> ApiResult {
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Read)?;
    ok(json!({"status_code": 200, "moderators": moderators(&store, &a)?}))
}

/// `POST /legacy/moderators`: `{"public_key": "05…"}` becomes a visible room admin (legacy
/// Session knows no moderator/admin difference).
pub(super) async fn add_moderator(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Admin)?;
    let sid = string_field(&body, "public_key")?;
    if sid.len() != SESSION_ID_HEX_LEN || !sid.starts_with("05") {
        return Err(ApiError::bad_request());
    }
    let id: AccountId = sid.parse().map_err(|_| ApiError::bad_request())?;
    let target = target_user(&mut store, &st, &id)?;
    store.set_room_moderator(a.room.id, target.id, Some(true), true)?;
    ok(json!({"status_code": 200}))
}

/// `DELETE /legacy/moderators/<sid>`: remove moderator and admin powers in the room.
pub(super) async fn remove_moderator(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sid): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    let id = session_id_segment(&st, &sid, false)?;
    let mut store = st.write().await;
    let a = access(&st, &mut store, &caller, &headers, Need::Admin)?;
    let target = existing_user(&store, &st, &id)?.ok_or_else(|| no_such_user(&id))?;
    store.remove_room_moderator(a.room.id, target.id)?;
    ok(json!({"status_code": 200}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_time_truncates_to_milliseconds() {
        assert_eq!(legacy_time(1_700_000_000.123_456), 1_700_000_000_123);
        assert_eq!(legacy_time(0.0), 0);
        assert_eq!(legacy_time(1.999_9), 1999);
    }

    #[test]
    fn poll_ids_follow_python_truthiness() {
        assert_eq!(poll_id(None).ok(), Some(None));
        assert_eq!(poll_id(Some(&json!(null))).ok(), Some(None));
        assert_eq!(poll_id(Some(&json!(0))).ok(), Some(None));
        assert_eq!(poll_id(Some(&json!(""))).ok(), Some(None));
        assert_eq!(poll_id(Some(&json!(12))).ok(), Some(Some(12)));
        assert_eq!(poll_id(Some(&json!("12"))).ok(), Some(Some(12)));
        assert!(poll_id(Some(&json!("x"))).is_err());
        assert!(poll_id(Some(&json!([1]))).is_err());
    }
}
