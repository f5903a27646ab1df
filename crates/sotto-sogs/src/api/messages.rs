//! Message routes (`sogs.md` §1.3): polling, posting, editing, deleting.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Extension;
use serde_json::{json, Map, Value};

use super::message_cache::Question;
use super::message_json::{Item, MessageWriter};
use super::{
    b64, decode_b64, find_room, int_param, int_segment, json, json_bytes, json_object, ok,
    query_param, require_read, require_user, ApiError, ApiResult, AppState, Caller,
};
use crate::filter::{self, BotReply, Verdict};
use crate::ids::AccountId;
use crate::store::{
    EffectivePermissions, Fetch, MessageRow, NewPost, QuotaKind, ReactionInfo, Room, Store, User,
    Viewer,
};
use crate::util;

/// Page size bounds and default (`get_int_param('limit', 100, min=1, max=256)`).
const LIMIT_DEFAULT: i64 = 100;
const LIMIT_RANGE: (i64, i64) = (1, 256);
/// Reactors per reaction (`qs_reactors`: default 4, 0–20).
const REACTORS_DEFAULT: i64 = 4;
const REACTORS_RANGE: (i64, i64) = (0, 20);
/// Posts allowed per user and room within [`RATE_LIMIT_INTERVAL`] (`rate_limit_size`).
const RATE_LIMIT_POSTS: i64 = 5;
/// The rate-limit window, seconds (`rate_limit_interval`).
const RATE_LIMIT_INTERVAL: f64 = 16.0;
/// Signature length.
const SIGNATURE_LEN: usize = 64;

/// The seqno a `since` listing starts after (0 for the other fetches), which decides the
/// reaction-only entries.
fn since_of(fetch: Fetch) -> i64 {
    match fetch {
        Fetch::Since { seqno, .. } => seqno,
        _ => 0,
    }
}

/// Whether `row` is listed for its reactions alone (`since` is past its data's seqno).
fn reaction_only(since: i64, row: &MessageRow) -> bool {
    since != 0 && row.seqno_reactions > since && since >= row.seqno_data
}

/// The rows a listing shows: all of them, or with `single` the first alone.
fn shown(rows: &[MessageRow], single: bool) -> &[MessageRow] {
    if single {
        rows.get(..1).unwrap_or_default()
    } else {
        rows
    }
}

/// The reactions of the shown rows that carry them (read while the connection is held).
fn reactions_of(
    store: &Store,
    rows: &[MessageRow],
    fetch: Fetch,
    viewer: Option<i64>,
    reactor_limit: i64,
    single: bool,
) -> crate::Result<HashMap<i64, Vec<ReactionInfo>>> {
    let since = since_of(fetch);
    let ids: Vec<i64> = shown(rows, single)
        .iter()
        .filter(|r| r.data.is_some() || reaction_only(since, r))
        .map(|r| r.id)
        .collect();
    store.reactions_for(&ids, viewer, reactor_limit)
}

/// Messages as PySOGS's `get_messages_for` returns them, with reactions: the JSON list, or
/// with `single` the first message alone (`None` if there is none). Needs no connection.
fn messages_body(
    rows: &[MessageRow],
    reactions: &HashMap<i64, Vec<ReactionInfo>>,
    fetch: Fetch,
    single: bool,
) -> crate::Result<Option<Vec<u8>>> {
    let since = since_of(fetch);
    let rows = shown(rows, single);
    if single && rows.is_empty() {
        return Ok(None);
    }
    let mut writer = MessageWriter::for_rows(rows);
    let mut items = rows.iter().map(|row| Item {
        row,
        reaction_only: reaction_only(since, row),
        reactions: reactions.get(&row.id).map(Vec::as_slice),
    });
    let written = if single {
        items.try_for_each(|item| writer.message(&item))
    } else {
        writer.list(items)
    };
    written.map_err(|source| crate::Error::JsonWrite {
        what: "message list",
        source,
    })?;
    Ok(Some(writer.into_bytes()))
}

/// The shared body of the message-listing routes.
async fn fetch(
    st: &AppState,
    caller: &Caller,
    token: &str,
    fetch: Fetch,
    query: Option<&str>,
    single: bool,
) -> ApiResult {
    let (room, rows, reactions, question) = {
        let store = st.reader();
        let room = find_room(&store, token)?;
        let perms = store.permissions(&room, caller.user())?;
        require_read(&perms)?;
        let limit = if single {
            1
        } else {
            int_param(query, "limit", LIMIT_DEFAULT, Some(LIMIT_RANGE))?
        };
        let reactors = int_param(query, "reactors", REACTORS_DEFAULT, Some(REACTORS_RANGE))?;
        // Anonymous list answers are the same for every anonymous caller until the room's
        // message sequence moves; `room` was read above, before the messages are (see
        // message_cache.rs).
        let question = (caller.user().is_none() && !single).then_some(Question {
            fetch,
            limit,
            reactors,
        });
        if let Some(question) = &question {
            if let Some(body) = st.message_cache().get(&room, question) {
                return Ok(json_bytes(StatusCode::OK, body));
            }
        }
        let viewer = Viewer {
            user: caller.user().map(|u| u.id),
            moderator: perms.is_moderator(),
        };
        let rows = store.messages_for(room.id, viewer, fetch, limit)?;
        let reactions = reactions_of(&store, &rows, fetch, viewer.user, reactors, single)?;
        (room, rows, reactions, question)
    };
    // After the reads (PySOGS records it before; nothing in the answer depends on it).
    if let Some(user) = caller.user() {
        st.record_room_activity(room.id, user.id, util::now())
            .await?;
    }
    let Some(body) = messages_body(&rows, &reactions, fetch, single)? else {
        return Err(ApiError::not_found());
    };
    let body = Bytes::from(body);
    if let Some(question) = question {
        st.message_cache().put(&room, question, body.clone());
    }
    Ok(json_bytes(StatusCode::OK, body))
}

/// `GET /room/<token>/messages/since/<seqno>`.
pub(super) async fn since(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, seqno)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let seqno = int_segment(&seqno)?;
    let reactions = query_param(q.as_deref(), "t").is_some_and(|t| t.contains('r'));
    fetch(
        &st,
        &caller,
        &token,
        Fetch::Since { seqno, reactions },
        q.as_deref(),
        false,
    )
    .await
}

/// `GET /room/<token>/messages/recent`.
pub(super) async fn recent(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(token): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    fetch(&st, &caller, &token, Fetch::Recent, q.as_deref(), false).await
}

/// `GET /room/<token>/messages/before/<id>`.
pub(super) async fn before(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let id = int_segment(&id)?;
    fetch(&st, &caller, &token, Fetch::Before(id), q.as_deref(), false).await
}

/// `GET /room/<token>/message/<id>`.
pub(super) async fn single(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let id = int_segment(&id)?;
    fetch(&st, &caller, &token, Fetch::Single(id), q.as_deref(), true).await
}

/// `data`, `signature` and `files` of a post or edit body: bad base64 or a signature that is
/// not 64 bytes is `InvalidData` (400).
struct PostBody {
    data: Vec<u8>,
    signature: Vec<u8>,
    files: Vec<i64>,
}

/// The base64 `data` and `signature` of a post body; anything missing or undecodable, or a
/// signature that is not 64 bytes, is `InvalidData` (400).
pub(super) fn data_and_signature(req: &Map<String, Value>) -> ApiResult<(Vec<u8>, Vec<u8>)> {
    let field = |key: &str| {
        req.get(key)
            .and_then(Value::as_str)
            .and_then(decode_b64)
            .ok_or_else(ApiError::invalid_data)
    };
    let data = field("data")?;
    let signature = field("signature")?;
    if signature.len() != SIGNATURE_LEN {
        return Err(ApiError::invalid_data());
    }
    Ok((data, signature))
}

fn post_body(req: &Map<String, Value>) -> ApiResult<PostBody> {
    let (data, signature) = data_and_signature(req)?;
    let files = match req.get("files") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(ApiError::bad_request)?,
        Some(_) => return Err(ApiError::bad_request()),
    };
    Ok(PostBody {
        data,
        signature,
        files,
    })
}

/// Run the content filters on a post by `user` unless they are a moderator (and
/// `[messages] filter_mods` is off).
fn filter_post(st: &AppState, room: &Room, user: &User, is_mod: bool, data: &[u8]) -> Verdict {
    if is_mod && !st.config().filter_mods {
        return Verdict::Pass;
    }
    let seed = st.keys().ed25519_signing().to_bytes();
    filter::check(
        st.config(),
        &seed,
        st.profanity(),
        filter::Poster {
            session_id: &user.session_id,
            room_name: &room.name,
            room_token: &room.token,
        },
        data,
    )
}

/// Post a filter bot's reply (public, or whispered to `poster`).
fn post_bot_reply(
    st: &AppState,
    store: &mut Store,
    room: &Room,
    poster: &User,
    reply: Option<&BotReply>,
) -> crate::Result<()> {
    let Some(reply) = reply else {
        return Ok(());
    };
    let bot = store
        .user_for_request(&reply.session_id, st.config().require_blind_keys)?
        .0;
    store.insert_post(
        &NewPost {
            room: room.id,
            user: bot.id,
            data: &reply.data,
            signature: &reply.signature,
            filtered: false,
            whisper: reply.whisper.then_some(poster.id),
            whisper_mods: false,
            now: util::now(),
        },
        &[],
        None,
    )?;
    Ok(())
}

/// A refused post: 429 with PySOGS's message.
fn rejected(msg: &'static str) -> ApiError {
    ApiError::Model(StatusCode::TOO_MANY_REQUESTS, msg.into())
}

/// `POST /room/<token>/message`.
pub(super) async fn post_message(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(token): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let room = find_room(&store, &token)?;
    let user = require_user(&caller)?;
    let req = &json_object(&body)?;
    let perms = store.permissions(&room, Some(user))?;
    if !perms.can_write() {
        return Err(ApiError::permission_denied());
    }
    let post = post_body(req)?;
    let whisper_mods = match req.get("whisper_mods") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(_) => return Err(ApiError::bad_request()),
    };
    let whisper_to = match req.get("whisper_to") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(
            s.parse::<AccountId>()
                .map_err(|_| ApiError::bad_request())?,
        ),
        Some(_) => return Err(ApiError::bad_request()),
    };
    if (whisper_to.is_some() || whisper_mods) && !perms.is_moderator() {
        return Err(ApiError::permission_denied());
    }
    let whisper_user = match &whisper_to {
        Some(id) => Some(
            store
                .user_for_request(&id.to_string(), st.config().require_blind_keys)?
                .0,
        ),
        None => None,
    };
    let new = NewMessage {
        data: &post.data,
        signature: &post.signature,
        files: &post.files,
        whisper_to: whisper_user.as_ref(),
        whisper_mods,
    };
    let posted = add_post(&st, &mut store, &room, user, &perms, &new)?;
    let mut msg = Map::new();
    msg.insert("id".into(), json!(posted.id));
    msg.insert("session_id".into(), json!(user.session_id));
    msg.insert("posted".into(), json!(posted.posted));
    msg.insert("seqno".into(), json!(posted.seqno));
    msg.insert("data".into(), b64(new.data));
    msg.insert("signature".into(), b64(new.signature));
    msg.insert("reactions".into(), json!({}));
    if posted.filtered {
        msg.insert("filtered".into(), json!(true));
    }
    if new.whisper_to.is_some() || new.whisper_mods {
        msg.insert("whisper".into(), json!(true));
        msg.insert("whisper_mods".into(), json!(new.whisper_mods));
        if let Some(to) = new.whisper_to {
            msg.insert("whisper_to".into(), json!(to.session_id));
        }
    }
    Ok(json(StatusCode::CREATED, Value::Object(msg)))
}

/// What [`add_post`] stored.
pub(super) struct Posted {
    /// Message id.
    pub(super) id: i64,
    /// Post time, unix seconds.
    pub(super) posted: f64,
    /// The room's message sequence number of the post.
    pub(super) seqno: i64,
    /// Kept but hidden by a content filter (a silent rejection).
    pub(super) filtered: bool,
}

/// A post as `Room.add_post` takes it, already checked for write permission, a 64-byte
/// signature and (for whispers) moderator permission.
pub(super) struct NewMessage<'a> {
    /// Padded data as received.
    pub(super) data: &'a [u8],
    /// The 64-byte signature.
    pub(super) signature: &'a [u8],
    /// Uploads the post takes ownership of.
    pub(super) files: &'a [i64],
    /// Whisper target.
    pub(super) whisper_to: Option<&'a User>,
    /// Whisper to moderators.
    pub(super) whisper_mods: bool,
}

/// The rest of `Room.add_post`: content filters (with their bot replies), quota, rate limit,
/// insert.
pub(super) fn add_post(
    st: &AppState,
    store: &mut Store,
    room: &Room,
    user: &User,
    perms: &EffectivePermissions,
    post: &NewMessage<'_>,
) -> ApiResult<Posted> {
    let verdict = filter_post(st, room, user, perms.is_moderator(), post.data);
    if let Verdict::Reject(msg, reply) = &verdict {
        post_bot_reply(st, store, room, user, reply.as_ref())?;
        return Err(rejected(msg));
    }
    let now = util::now();
    super::quota::check(st.config(), store, room, user, QuotaKind::Post, now)?;
    if !st.config().testing && !perms.is_admin() {
        let recent = store.recent_post_count(room.id, user.id, now - RATE_LIMIT_INTERVAL)?;
        if recent >= RATE_LIMIT_POSTS {
            return Err(rejected("Rate limited"));
        }
    }
    let (id, posted, seqno) = store.insert_post(
        &NewPost {
            room: room.id,
            user: user.id,
            data: post.data,
            signature: post.signature,
            filtered: matches!(verdict, Verdict::Silent(_)),
            whisper: post.whisper_to.map(|u| u.id),
            whisper_mods: post.whisper_mods,
            now,
        },
        post.files,
        st.config().file_expiry,
    )?;
    if let Verdict::Silent(reply) = &verdict {
        post_bot_reply(st, store, room, user, reply.as_ref())?;
    }
    Ok(Posted {
        id,
        posted,
        seqno,
        filtered: matches!(verdict, Verdict::Silent(_)),
    })
}

/// `PUT /room/<token>/message/<id>`.
pub(super) async fn edit(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let mut store = st.write().await;
    let room = find_room(&store, &token)?;
    let id = int_segment(&id)?;
    let user = require_user(&caller)?;
    let req = &json_object(&body)?;
    let perms = store.permissions(&room, Some(user))?;
    if !perms.can_write() {
        return Err(ApiError::permission_denied());
    }
    let post = post_body(req)?;
    let verdict = filter_post(&st, &room, user, perms.is_moderator(), &post.data);
    match store.live_message_author(room.id, id)? {
        None => return Err(ApiError::no_such_post(id)),
        Some(author) if author != user.id => return Err(ApiError::permission_denied()),
        Some(_) => {}
    }
    match &verdict {
        Verdict::Pass => {}
        // A silently filtered edit is dropped, with the bot's reply if any (`edit_post`).
        Verdict::Silent(reply) => {
            post_bot_reply(&st, &mut store, &room, user, reply.as_ref())?;
            return ok(json!({}));
        }
        Verdict::Reject(msg, reply) => {
            post_bot_reply(&st, &mut store, &room, user, reply.as_ref())?;
            return Err(rejected(msg));
        }
    }
    store.edit_post(
        room.id,
        user.id,
        id,
        &post.data,
        &post.signature,
        &post.files,
        st.config().file_expiry,
        util::now(),
    )?;
    ok(json!({}))
}

/// `DELETE /room/<token>/message/<id>`.
pub(super) async fn remove(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((token, id)): Path<(String, String)>,
) -> ApiResult {
    let mut store = st.write().await;
    let room = find_room(&store, &token)?;
    let id = int_segment(&id)?;
    let user = require_user(&caller)?;
    let perms = store.permissions(&room, Some(user))?;
    if !perms.can_write() {
        return Err(ApiError::forbidden());
    }
    let (live, foreign) = store.live_messages(room.id, &[id], user.id)?;
    if live.is_empty() {
        return Err(ApiError::not_found());
    }
    if foreign && !perms.is_moderator() {
        return Err(ApiError::permission_denied());
    }
    store.delete_messages(&live)?;
    ok(json!({}))
}
