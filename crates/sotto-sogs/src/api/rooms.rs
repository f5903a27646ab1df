//! Server and room routes (`sogs.md` §1.1–1.2): capabilities, room info, pollInfo, room
//! settings, permissions and scheduled permissions, bulk deletion of a user's posts.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Extension;
use serde_json::{json, Map, Value};

use super::{
    find_room, int_segment, json, json_object, ok, query_param, require_mod, require_read,
    require_user, truthy, ApiError, ApiResult, AppState, Caller,
};
use crate::ids::AccountId;
use crate::store::{EffectivePermissions, OverrideRow, Permissions, Room, Store, User};
use crate::util;

/// Capabilities PySOGS advertises (`sogs/model/__init__.py`), plus `blind` when required.
const CAPABILITIES: [&str; 2] = ["reactions", "sogs"];

/// Upper bound (exclusive) of a future permission's `in` seconds (`set_future_permissions`).
const MAX_FUTURE_SECS: f64 = 1_000_000_000.0;

/// `GET /capabilities[?required=a,b]`.
pub(super) async fn capabilities(State(st): State<AppState>, RawQuery(q): RawQuery) -> ApiResult {
    let mut caps: Vec<&str> = CAPABILITIES.to_vec();
    if st.config().require_blind_keys {
        caps.push("blind");
    }
    caps.sort_unstable();
    if let Some(needed) = query_param(q.as_deref(), "required") {
        let missing: Vec<&str> = needed.split(',').filter(|c| !caps.contains(c)).collect();
        if !missing.is_empty() {
            return Ok(json(
                StatusCode::PRECONDITION_FAILED,
                json!({ "capabilities": caps, "missing": missing }),
            ));
        }
    }
    ok(json!({ "capabilities": caps }))
}

/// The room info object (`get_room_info`).
pub(super) fn room_info(
    store: &Store,
    st: &AppState,
    room: &Room,
    user: Option<&User>,
    perms: &EffectivePermissions,
) -> crate::Result<Value> {
    let is_mod = perms.is_moderator();
    let mods = store.visible_moderators(room.id, is_mod)?;
    let mut info = Map::new();
    info.insert("token".into(), json!(room.token));
    info.insert("name".into(), json!(room.name));
    info.insert("info_updates".into(), json!(room.info_updates));
    info.insert("message_sequence".into(), json!(room.message_sequence));
    info.insert("created".into(), json!(room.created));
    info.insert("active_users".into(), json!(room.active_users));
    #[allow(clippy::cast_possible_truncation)] // a day count in seconds
    let cutoff = st.config().active_threshold as i64;
    info.insert("active_users_cutoff".into(), json!(cutoff));
    info.insert("moderators".into(), json!(mods.visible_mods));
    info.insert("admins".into(), json!(mods.visible_admins));
    info.insert("read".into(), json!(perms.can_read()));
    info.insert("write".into(), json!(perms.can_write()));
    info.insert("upload".into(), json!(perms.can_upload()));
    if let Some(d) = &room.description {
        info.insert("description".into(), json!(d));
    }
    if let Some(image) = room.image {
        info.insert("image_id".into(), json!(image));
    }
    let pinned = store.pinned_messages(room.id)?;
    if !pinned.is_empty() {
        let list: Vec<Value> = pinned
            .into_iter()
            .map(|(id, at, by)| json!({"id": id, "pinned_at": at, "pinned_by": by}))
            .collect();
        info.insert("pinned_messages".into(), Value::Array(list));
    }
    if !mods.hidden_mods.is_empty() {
        info.insert("hidden_moderators".into(), json!(mods.hidden_mods));
    }
    if !mods.hidden_admins.is_empty() {
        info.insert("hidden_admins".into(), json!(mods.hidden_admins));
    }
    add_role_flags(&mut info, room, user, perms);
    Ok(Value::Object(info))
}

/// The moderator/admin/global flags and defaults shared by room info and pollInfo.
fn add_role_flags(
    info: &mut Map<String, Value>,
    room: &Room,
    user: Option<&User>,
    perms: &EffectivePermissions,
) {
    if perms.is_moderator() {
        info.insert("moderator".into(), json!(true));
        info.insert("default_read".into(), json!(room.default_read));
        info.insert("default_accessible".into(), json!(room.default_accessible));
        info.insert("default_write".into(), json!(room.default_write));
        info.insert("default_upload".into(), json!(room.default_upload));
    }
    if perms.is_admin() {
        info.insert("admin".into(), json!(true));
    }
    if let Some(user) = user {
        if user.moderator {
            info.insert("global_moderator".into(), json!(true));
        }
        if user.admin {
            info.insert("global_admin".into(), json!(true));
        }
    }
}

/// `GET /rooms`.
pub(super) async fn list_rooms(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult {
    let store = st.reader();
    let mut list = Vec::new();
    for room in store.accessible_rooms(caller.user())? {
        let perms = store.permissions(&room, caller.user())?;
        list.push(room_info(&store, &st, &room, caller.user(), &perms)?);
    }
    ok(Value::Array(list))
}

/// `GET /room/<token>`: accessible, else 404.
pub(super) async fn get_room(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(token): Path<String>,
) -> ApiResult {
    let store = st.reader();
    let room = find_room(&store, &token)?;
    let perms = store.permissions(&room, caller.user())?;
    if !perms.can_access() {
        return Err(ApiError::not_found());
    }
    ok(room_info(&store, &st, &room, caller.user(), &perms)?)
}

/// `GET /room/<token>/pollInfo/<info_updates>`.
pub(super) async fn poll_info(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, info_updates)): Path<(String, String)>,
) -> ApiResult {
    let (room, perms, mut res) = {
        let store = st.reader();
        let room = find_room(&store, &token)?;
        let since = int_segment(&info_updates)?;
        let perms = store.permissions(&room, caller.user())?;
        require_read(&perms)?;
        let mut res = Map::new();
        res.insert("token".into(), json!(room.token));
        res.insert("active_users".into(), json!(room.active_users));
        res.insert("read".into(), json!(perms.can_read()));
        res.insert("write".into(), json!(perms.can_write()));
        res.insert("upload".into(), json!(perms.can_upload()));
        if room.info_updates != since {
            res.insert(
                "details".into(),
                room_info(&store, &st, &room, caller.user(), &perms)?,
            );
        }
        (room, perms, res)
    };
    // After the reads (PySOGS records it before; nothing in the answer depends on it).
    if let Some(user) = caller.user() {
        st.record_room_activity(room.id, user.id, util::now())
            .await?;
    }
    add_role_flags(&mut res, &room, caller.user(), &perms);
    ok(Value::Object(res))
}

/// Remove code points below 0x20 (names) or below 0x20 except tab and newline (descriptions).
fn strip_controls(s: &str, keep_tab_newline: bool) -> String {
    s.chars()
        .filter(|&c| c >= ' ' || (keep_tab_newline && (c == '\t' || c == '\n')))
        .collect()
}

/// A JSON value Python's `isinstance(v, bool) or isinstance(v, int)` accepts, as a bool.
fn bool_or_int(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.as_f64() != Some(0.0)),
        _ => None,
    }
}

/// `PUT /room/<token>` (room admin).
pub(super) async fn update_room(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(token): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let room = find_room(&store, &token)?;
    let user = require_user(&caller)?;
    require_mod(&store.permissions(&room, Some(user))?, true)?;
    let req = &json_object(&body)?;

    let name = match req.get("name") {
        None => None,
        Some(Value::String(n)) => Some(strip_controls(n, false)),
        Some(_) => return Err(ApiError::bad_request()),
    };
    let description = match req.get("description") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(d)) => {
            let d = strip_controls(d, true);
            Some((!d.is_empty()).then_some(d))
        }
        Some(_) => return Err(ApiError::bad_request()),
    };
    let image = match req.get("image") {
        None => None,
        Some(v) => Some(v.as_i64().ok_or_else(ApiError::bad_request)?),
    };
    let mut defaults = Permissions::default();
    for (key, slot) in [
        ("default_read", &mut defaults.read),
        ("default_accessible", &mut defaults.accessible),
        ("default_write", &mut defaults.write),
        ("default_upload", &mut defaults.upload),
    ] {
        match req.get(key) {
            None | Some(Value::Null) => {}
            Some(v) => *slot = Some(Some(bool_or_int(v).ok_or_else(ApiError::bad_request)?)),
        }
    }
    if name.is_none() && description.is_none() && image.is_none() && defaults.is_empty() {
        return Err(ApiError::bad_request());
    }
    if let Some(image) = image {
        if !store.set_room_image(room.id, image)? {
            return Err(ApiError::Werkzeug(StatusCode::NOT_ACCEPTABLE));
        }
    }
    if let Some(name) = &name {
        store.set_room_name(room.id, name)?;
    }
    if let Some(description) = &description {
        store.set_room_description(room.id, description.as_deref())?;
    }
    store.set_default_permissions(room.id, &defaults)?;
    ok(json!({ "info_updates": store.info_updates(room.id)? }))
}

/// A `SessionID` path segment: `15…`, or also `05…` when blinding is not required; anything
/// else fails the route match (404).
pub(super) fn session_id_segment(st: &AppState, s: &str, any: bool) -> ApiResult<AccountId> {
    let id: AccountId = s.parse().map_err(|_| ApiError::not_found())?;
    if !any && st.config().require_blind_keys && matches!(id, AccountId::Unblinded(_)) {
        return Err(ApiError::not_found());
    }
    Ok(id)
}

/// The existing user an ID names, trying its blinded forms for a `05` ID when blinding is
/// required (`User(session_id, try_blinding=True)`, without creating anyone).
pub(super) fn existing_user(
    store: &Store,
    st: &AppState,
    id: &AccountId,
) -> ApiResult<Option<User>> {
    let blinded = match id {
        AccountId::Unblinded(sid) if st.config().require_blind_keys => {
            sotto_crypto::blinding::blind15_candidates(sid, &st.keys().x25519_public())
                .ok()
                .map(|[p, n]| [p.to_string(), n.to_string()])
        }
        _ => None,
    };
    Ok(store.find_user(&id.to_string(), blinded)?)
}

/// The user a moderation change applies to, created (with a `needs_blinding` hand-over for a
/// `05` ID on a blinded server) if new.
pub(super) fn target_user(store: &mut Store, st: &AppState, id: &AccountId) -> ApiResult<User> {
    let server = st.keys().x25519_public();
    let blinding = st.config().require_blind_keys.then_some(&server);
    Ok(store.resolve_account(id, blinding)?)
}

/// An override row as the permissions routes show it (`addExtraPermInfo`).
fn override_json(row: &OverrideRow) -> Value {
    let row = &row.perms;
    let mut m = Map::new();
    for (key, value) in [
        ("read", row.read),
        ("accessible", row.accessible),
        ("write", row.write),
        ("upload", row.upload),
    ] {
        if let Some(v) = value {
            m.insert(key.into(), json!(v));
        }
    }
    if row.moderator {
        if !row.visible_mod {
            m.insert("hidden".into(), json!(true));
        }
        m.insert(
            if row.admin { "admin" } else { "moderator" }.into(),
            json!(true),
        );
    }
    if row.banned {
        m.insert("banned".into(), json!(true));
    }
    Value::Object(m)
}

/// Common prologue of the moderator-only room routes: room, caller, moderator check.
fn mod_room<'a>(store: &Store, caller: &'a Caller, token: &str) -> ApiResult<(Room, &'a User)> {
    let room = find_room(store, token)?;
    let user = require_user(caller)?;
    require_mod(&store.permissions(&room, Some(user))?, false)?;
    Ok((room, user))
}

/// `GET /room/<token>/permissions`.
pub(super) async fn all_permissions(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(token): Path<String>,
) -> ApiResult {
    let store = st.reader();
    let (room, _) = mod_room(&store, &caller, &token)?;
    let map: Map<String, Value> = store
        .override_rows(room.id, None)?
        .iter()
        .map(|r| (r.session_id.clone(), override_json(r)))
        .collect();
    ok(Value::Object(map))
}

/// `GET /room/<token>/permissions/<sid>`.
pub(super) async fn user_permissions(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, sid)): Path<(String, String)>,
) -> ApiResult {
    let store = st.reader();
    let (room, _) = mod_room(&store, &caller, &token)?;
    let id = session_id_segment(&st, &sid, false)?;
    let Some(target) = existing_user(&store, &st, &id)? else {
        return ok(json!({}));
    };
    let rows = store.override_rows(room.id, Some(target.id))?;
    ok(rows.first().map_or_else(|| json!({}), override_json))
}

/// `POST /room/<token>/permissions/<sid>`.
pub(super) async fn set_permissions(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, sid)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let (room, _) = mod_room(&store, &caller, &token)?;
    let id = session_id_segment(&st, &sid, false)?;
    let req = &json_object(&body)?;
    let mut perms = Permissions::default();
    for (key, slot) in [
        ("accessible", &mut perms.accessible),
        ("read", &mut perms.read),
        ("write", &mut perms.write),
        ("upload", &mut perms.upload),
    ] {
        let default = truthy(req.get(&format!("default_{key}")));
        match req.get(key) {
            None | Some(Value::Null) => {
                if default {
                    *slot = Some(None);
                }
            }
            Some(v) => {
                if default {
                    return Err(ApiError::bad_request());
                }
                *slot = Some(Some(bool_or_int(v).ok_or_else(ApiError::bad_request)?));
            }
        }
    }
    if perms.is_empty() {
        return Err(ApiError::bad_request());
    }
    let target = target_user(&mut store, &st, &id)?;
    let unschedule = req.get("unschedule") != Some(&Value::Bool(false));
    if unschedule {
        store.clear_future_permissions(
            room.id,
            target.id,
            perms.read.is_some(),
            perms.write.is_some(),
            perms.upload.is_some(),
        )?;
    }
    store.set_user_permissions(room.id, target.id, &perms)?;
    let rows = store.override_rows(room.id, Some(target.id))?;
    ok(rows.first().map_or_else(|| json!({}), override_json))
}

/// Future changes as JSON (`future_permissions` / `user_future_permissions`).
fn futures_json(store: &Store, room_id: i64, user_id: Option<i64>) -> crate::Result<Value> {
    let rows = store.future_rows(room_id, user_id)?;
    let list = rows
        .into_iter()
        .map(|f| {
            let mut m = Map::new();
            if user_id.is_none() {
                m.insert("session_id".into(), json!(f.session_id));
            }
            m.insert("at".into(), json!(f.at));
            for (key, value) in [
                ("read", f.read),
                ("write", f.write),
                ("upload", f.upload),
                ("banned", f.banned),
            ] {
                if let Some(v) = value {
                    m.insert(key.into(), json!(v));
                }
            }
            Value::Object(m)
        })
        .collect();
    Ok(Value::Array(list))
}

/// `GET /room/<token>/futurePermissions`.
pub(super) async fn all_future_permissions(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(token): Path<String>,
) -> ApiResult {
    let store = st.reader();
    let (room, _) = mod_room(&store, &caller, &token)?;
    ok(futures_json(&store, room.id, None)?)
}

/// `GET /room/<token>/futurePermissions/<sid>`.
pub(super) async fn user_future_permissions(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, sid)): Path<(String, String)>,
) -> ApiResult {
    let store = st.reader();
    let (room, _) = mod_room(&store, &caller, &token)?;
    let id = session_id_segment(&st, &sid, false)?;
    match existing_user(&store, &st, &id)? {
        Some(target) => ok(futures_json(&store, room.id, Some(target.id))?),
        None => ok(json!([])),
    }
}

/// `POST /room/<token>/futurePermissions/<sid>`.
pub(super) async fn set_future_permissions(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, sid)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let (room, _) = mod_room(&store, &caller, &token)?;
    let id = session_id_segment(&st, &sid, false)?;
    let req = &json_object(&body)?;
    let flag = |key: &str| match req.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => bool_or_int(v).map(Some).ok_or_else(ApiError::bad_request),
    };
    let (read, write, upload) = (flag("read")?, flag("write")?, flag("upload")?);
    if read.is_none() && write.is_none() && upload.is_none() {
        return Err(ApiError::bad_request());
    }
    let secs = match req.get("in") {
        Some(Value::Number(n)) => n.as_f64().ok_or_else(ApiError::bad_request)?,
        _ => return Err(ApiError::bad_request()),
    };
    if !(secs > 0.0 && secs < MAX_FUTURE_SECS) {
        return Err(ApiError::bad_request());
    }
    let target = target_user(&mut store, &st, &id)?;
    store.add_future_permission(room.id, target.id, util::now() + secs, read, write, upload)?;
    ok(futures_json(&store, room.id, Some(target.id))?)
}

/// Delete all of `poster`'s posts in a room on behalf of `deleter` (`Room.delete_all_posts`):
/// `None` if the deleter may not.
fn delete_all_posts(
    store: &mut Store,
    room: &Room,
    poster: &User,
    deleter: &User,
) -> crate::Result<Option<usize>> {
    let deleter_perms = store.permissions(room, Some(deleter))?;
    let poster_perms = store.permissions(room, Some(poster))?;
    if (poster.id != deleter.id && !deleter_perms.is_moderator())
        || (poster_perms.is_admin() && !deleter_perms.is_admin())
    {
        return Ok(None);
    }
    Ok(Some(store.delete_all_posts(room.id, poster.id)?.0))
}

/// The poster named by a bulk-deletion path (`User(session_id, autovivify=False)`).
fn poster(store: &Store, st: &AppState, sid: &str) -> ApiResult<User> {
    let id = session_id_segment(st, sid, false)?;
    let sid = id.to_string();
    store.user_by_session_id(&sid)?.ok_or_else(|| {
        ApiError::Model(StatusCode::NOT_FOUND, format!("No such user: {sid}").into())
    })
}

/// `DELETE /room/<token>/all/<sid>`.
pub(super) async fn delete_all_in_room(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, sid)): Path<(String, String)>,
) -> ApiResult {
    let mut store = st.write().await;
    let room = find_room(&store, &token)?;
    let poster = poster(&store, &st, &sid)?;
    let deleter = require_user(&caller)?;
    match delete_all_posts(&mut store, &room, &poster, deleter)? {
        None => Err(ApiError::permission_denied()),
        Some(0) => Err(ApiError::not_found()),
        Some(_) => ok(json!({})),
    }
}

/// `DELETE /rooms/all/<sid>`.
pub(super) async fn delete_all_everywhere(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sid): Path<String>,
) -> ApiResult {
    let mut store = st.write().await;
    let poster = poster(&store, &st, &sid)?;
    let deleter = require_user(&caller)?;
    let mut total = 0;
    let mut rooms = Map::new();
    for room in store.accessible_rooms(Some(deleter))? {
        if let Some(n) = delete_all_posts(&mut store, &room, &poster, deleter)? {
            total += n;
            rooms.insert(room.token.clone(), json!(n));
        }
    }
    ok(json!({ "total": total, "rooms": rooms }))
}
