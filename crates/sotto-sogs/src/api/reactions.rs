//! Reaction and pin routes (`sogs.md` §1.3).

use axum::extract::{Path, RawQuery, State};
use axum::Extension;
use serde_json::{json, Value};

use super::{
    find_room, int_param, int_segment, ok, require_mod, require_read, require_user, ApiError,
    ApiResult, AppState, Caller,
};
use crate::store::{Room, Store, User};
use crate::util;

/// Reaction length bounds, in code points.
const REACTION_CHARS: (usize, usize) = (1, 12);

/// The room and admin caller of the pin routes (no decorator in PySOGS: the model refuses
/// anyone but an admin with `Permission denied`).
fn pin_admin<'a>(store: &Store, caller: &'a Caller, token: &str) -> ApiResult<(Room, &'a User)> {
    let room = find_room(store, token)?;
    let user = caller.user().ok_or_else(ApiError::permission_denied)?;
    if !store.permissions(&room, Some(user))?.is_admin() {
        return Err(ApiError::permission_denied());
    }
    Ok((room, user))
}

/// `POST /room/<token>/pin/<id>`.
pub(super) async fn pin(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id)): Path<(String, String)>,
) -> ApiResult {
    let mut store = st.write().await;
    let id_num = int_segment(&id)?;
    let (room, user) = pin_admin(&store, &caller, &token)?;
    if !store.is_regular_message(room.id, id_num)? {
        return Err(ApiError::no_such_post(id_num));
    }
    store.pin(room.id, id_num, user.id, util::now())?;
    ok(json!({ "info_updates": store.info_updates(room.id)? }))
}

/// `POST /room/<token>/unpin/<id>`.
pub(super) async fn unpin(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id)): Path<(String, String)>,
) -> ApiResult {
    let mut store = st.write().await;
    let id = int_segment(&id)?;
    let (room, _) = pin_admin(&store, &caller, &token)?;
    let n = store.unpin(room.id, Some(id), st.config().file_expiry)?;
    ok(json!({ "unpinned": n > 0, "info_updates": store.info_updates(room.id)? }))
}

/// `POST /room/<token>/unpin/all`.
pub(super) async fn unpin_all(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(token): Path<String>,
) -> ApiResult {
    let mut store = st.write().await;
    let (room, _) = pin_admin(&store, &caller, &token)?;
    let n = store.unpin(room.id, None, st.config().file_expiry)?;
    ok(json!({ "unpinned": n, "info_updates": store.info_updates(room.id)? }))
}

/// `_check_reaction_request`: reaction length, read (or moderator) permission, a regular
/// message.
fn check_reaction(
    store: &Store,
    room: &Room,
    user: Option<&User>,
    msg_id: i64,
    reaction: Option<&str>,
    moderator: bool,
) -> ApiResult<()> {
    if let Some(r) = reaction {
        let n = r.chars().count();
        if !(REACTION_CHARS.0..=REACTION_CHARS.1).contains(&n) {
            return Err(ApiError::invalid_data());
        }
    }
    let perms = store.permissions(room, user)?;
    let allowed = if moderator {
        perms.is_moderator()
    } else {
        perms.can_read()
    };
    if !allowed {
        return Err(ApiError::permission_denied());
    }
    if !store.is_regular_message(room.id, msg_id)? {
        return Err(ApiError::no_such_post(msg_id));
    }
    Ok(())
}

/// The common prologue of `PUT`/`DELETE /room/<token>/reaction/<id>/<reaction>`.
fn reaction_request<'a>(
    store: &Store,
    caller: &'a Caller,
    token: &str,
    id: &str,
    reaction: &str,
) -> ApiResult<(Room, &'a User, i64)> {
    let room = find_room(store, token)?;
    let id = int_segment(id)?;
    let user = require_user(caller)?;
    require_read(&store.permissions(&room, Some(user))?)?;
    check_reaction(store, &room, Some(user), id, Some(reaction), false)?;
    Ok((room, user, id))
}

/// `PUT /room/<token>/reaction/<id>/<reaction>`.
pub(super) async fn react(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id, reaction)): Path<(String, String, String)>,
) -> ApiResult {
    let mut store = st.write().await;
    let (room, user, id) = reaction_request(&store, &caller, &token, &id, &reaction)?;
    let quota = crate::store::QuotaKind::Reaction;
    super::quota::check(st.config(), &store, &room, user, quota, crate::util::now())?;
    let (added, seqno) = store.add_reaction(id, &reaction, user.id)?;
    ok(json!({ "added": added, "seqno": seqno }))
}

/// `DELETE /room/<token>/reaction/<id>/<reaction>`.
pub(super) async fn unreact(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id, reaction)): Path<(String, String, String)>,
) -> ApiResult {
    let mut store = st.write().await;
    let (_, user, id) = reaction_request(&store, &caller, &token, &id, &reaction)?;
    let (removed, seqno) = store.remove_reaction(id, &reaction, user.id)?;
    ok(json!({ "removed": removed, "seqno": seqno }))
}

fn delete_reactions(
    st: &AppState,
    caller: &Caller,
    token: &str,
    id: &str,
    reaction: Option<&str>,
) -> ApiResult {
    let mut store = st.store();
    let room = find_room(&store, token)?;
    let id = int_segment(id)?;
    let user = require_user(caller)?;
    require_mod(&store.permissions(&room, Some(user))?, false)?;
    check_reaction(&store, &room, Some(user), id, reaction, true)?;
    let (removed, seqno) = store.remove_all_reactions(id, reaction)?;
    ok(json!({ "removed": removed, "seqno": seqno }))
}

/// `DELETE /room/<token>/reactions/<id>`.
pub(super) async fn delete_reactions_all(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id)): Path<(String, String)>,
) -> ApiResult {
    delete_reactions(&st, &caller, &token, &id, None)
}

/// `DELETE /room/<token>/reactions/<id>/<reaction>`.
pub(super) async fn delete_reactions_one(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id, reaction)): Path<(String, String, String)>,
) -> ApiResult {
    delete_reactions(&st, &caller, &token, &id, Some(&reaction))
}

/// `GET /room/<token>/reactors/<id>/<reaction>`.
pub(super) async fn reactors(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id, reaction)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let store = st.reader();
    let room = find_room(&store, &token)?;
    let id = int_segment(&id)?;
    require_read(&store.permissions(&room, caller.user())?)?;
    let limit = int_param(q.as_deref(), "limit", 0, None)?;
    check_reaction(&store, &room, caller.user(), id, Some(&reaction), false)?;
    let list: Vec<Value> = store
        .reactors(id, &reaction, (limit > 0).then_some(limit))?
        .into_iter()
        .map(|(sid, at)| json!([sid, at]))
        .collect();
    ok(Value::Array(list))
}
