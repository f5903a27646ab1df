//! Moderation routes (`sogs.md` §1.5): appoint and remove moderators, ban and unban, per room
//! or globally.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Extension;
use serde_json::{json, Map, Value};

use super::rooms::{session_id_segment, target_user};
use super::{json_object, ok, require_user, truthy, ApiError, ApiResult, AppState, Caller};
use crate::store::{Room, Store, User};
use crate::util;

/// Where a moderation request applies.
enum Scope {
    Rooms(Vec<Room>),
    Global,
}

/// `extract_rooms_or_global`: `rooms` (a list of tokens, or `["*"]`) or `global`, checking
/// the caller's role (admin, or moderator if `!admin`) everywhere.
fn scope(store: &Store, user: &User, req: &Map<String, Value>, admin: bool) -> ApiResult<Scope> {
    let rooms = req.get("rooms");
    let global = truthy(req.get("global"));
    let has_rooms = truthy(rooms);
    if has_rooms && !matches!(rooms, Some(Value::Array(_))) {
        return Err(ApiError::bad_request());
    }
    if has_rooms == global {
        return Err(ApiError::bad_request());
    }
    if let Some(Value::Array(list)) = rooms.filter(|_| has_rooms) {
        let tokens: Vec<String> = list
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(ApiError::not_found)?;
        let star = tokens.iter().any(|t| t == "*");
        if star && tokens.len() > 1 {
            return Err(ApiError::bad_request());
        }
        let rooms = store.rooms_with_role(user, (!star).then_some(tokens.as_slice()), admin)?;
        let complete = if star {
            !rooms.is_empty()
        } else {
            rooms.len() == tokens.len()
        };
        if !complete {
            return Err(ApiError::forbidden());
        }
        return Ok(Scope::Rooms(rooms));
    }
    if !user.moderator || (admin && !user.admin) {
        return Err(ApiError::forbidden());
    }
    Ok(Scope::Global)
}

/// An optional boolean field: `null`/absent → `None`, else its truthiness.
fn opt_bool(req: &Map<String, Value>, key: &str) -> Option<bool> {
    match req.get(key) {
        None | Some(Value::Null) => None,
        v => Some(truthy(v)),
    }
}

/// `POST /user/<sid>/moderator`.
pub(super) async fn set_moderator(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let id = session_id_segment(&st, &sid, true)?;
    let user = require_user(&caller)?;
    let req = &json_object(&body)?;
    let scope = scope(&store, user, req, true)?;
    let (mut moderator, mut admin, visible) = (
        opt_bool(req, "moderator"),
        opt_bool(req, "admin"),
        opt_bool(req, "visible"),
    );
    match (admin, moderator) {
        (None, None) | (Some(true), Some(false)) => return Err(ApiError::bad_request()),
        (Some(true), Some(true)) => moderator = None,
        (Some(false), Some(false)) => admin = None,
        _ => {}
    }
    let target = target_user(&mut store, &st, &id)?;
    let mut updates = Map::new();
    match scope {
        Scope::Rooms(rooms) => {
            let visible = visible.unwrap_or(true);
            for room in &rooms {
                if !store.permissions(room, Some(user))?.is_admin() {
                    return Err(ApiError::permission_denied());
                }
            }
            // All rooms or none: a room where the change is refused (a banned user cannot be
            // a moderator) undoes the others, as PySOGS's request transaction does.
            store.atomic(|store| {
                for room in &rooms {
                    match (admin, moderator) {
                        (Some(true), None) | (None, Some(true)) => {
                            store.set_room_moderator(room.id, target.id, admin, visible)?;
                        }
                        (None, Some(false)) => store.remove_room_moderator(room.id, target.id)?,
                        (Some(false), None) => store.remove_room_admin(room.id, target.id)?,
                        _ => {
                            store.remove_room_admin(room.id, target.id)?;
                            store.set_room_moderator(room.id, target.id, Some(false), visible)?;
                        }
                    }
                    updates.insert(room.token.clone(), json!(store.info_updates(room.id)?));
                }
                Ok(())
            })?;
        }
        Scope::Global => {
            let visible = visible.unwrap_or(false);
            match (admin, moderator) {
                (Some(true), None) | (None, Some(true)) => {
                    store.set_global_role(target.id, admin, visible)?;
                }
                (None, Some(false)) => store.remove_global_moderator(target.id)?,
                (Some(false), None) => store.remove_global_admin(target.id)?,
                _ => {
                    store.remove_global_admin(target.id)?;
                    store.set_global_role(target.id, Some(false), visible)?;
                }
            }
            for (token, n) in store.all_info_updates()? {
                updates.insert(token, json!(n));
            }
        }
    }
    ok(json!({ "info_updates": updates }))
}

/// `POST /user/<sid>/ban`.
pub(super) async fn ban(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let id = session_id_segment(&st, &sid, true)?;
    let user = require_user(&caller)?;
    let req = &json_object(&body)?;
    let scope = scope(&store, user, req, false)?;
    let timeout = match req.get("timeout") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(_) => return Err(ApiError::bad_request()),
    };
    let unban_at = timeout.filter(|&t| t != 0.0).map(|t| util::now() + t);
    let target = target_user(&mut store, &st, &id)?;
    match scope {
        Scope::Rooms(rooms) => {
            // Check every room first: PySOGS bans in one transaction, all or nothing.
            for room in &rooms {
                let mine = store.permissions(room, Some(user))?;
                let theirs = store.permissions(room, Some(&target))?;
                if !mine.is_moderator()
                    || target.id == user.id
                    || target.moderator
                    || (theirs.is_moderator() && !mine.is_admin())
                {
                    return Err(ApiError::permission_denied());
                }
            }
            for room in &rooms {
                store.ban_from_room(room.id, target.id, unban_at)?;
            }
        }
        Scope::Global => {
            if !user.moderator || target.moderator {
                return Err(ApiError::permission_denied());
            }
            store.ban_globally(target.id, unban_at)?;
        }
    }
    ok(json!({}))
}

/// `POST /user/<sid>/unban`.
pub(super) async fn unban(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let id = session_id_segment(&st, &sid, true)?;
    let user = require_user(&caller)?;
    let req = &json_object(&body)?;
    let scope = scope(&store, user, req, false)?;
    let target = target_user(&mut store, &st, &id)?;
    match scope {
        Scope::Rooms(rooms) => {
            for room in &rooms {
                if !store.permissions(room, Some(user))?.is_moderator() {
                    return Err(ApiError::permission_denied());
                }
            }
            for room in &rooms {
                store.unban_from_room(room.id, target.id)?;
            }
        }
        Scope::Global => {
            if !user.moderator {
                return Err(ApiError::permission_denied());
            }
            store.unban_globally(target.id)?;
        }
    }
    ok(json!({}))
}
