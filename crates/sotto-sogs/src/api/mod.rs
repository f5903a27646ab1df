//! The HTTP API (`sogs.md` §1): an axum [`Router`] over an [`AppState`].
//!
//! Layering: the `auth` middleware buffers the body and authenticates every request before
//! routing (Flask's `before_request`), handlers parse and authorise, and the store holds the SQL.
//! Each handler locks a database connection for the short synchronous part of its work: the one
//! read-write connection ([`AppState::store`]) to change anything, or one of a few read-only
//! connections to the same SQLite file ([`AppState::reader`]) for requests that only read, so
//! that polls run side by side and do not queue behind writes.

mod auth;
pub mod automation;
mod batch;
mod dm;
mod files;
mod legacy;
mod message_cache;
mod message_json;
mod messages;
mod onion;
mod quota;
mod reactions;
mod rooms;
mod testing;
mod users;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, TryLockError};

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;
use serde_json::Value;

use crate::config::Config;
use crate::ids::RoomToken;
use crate::keys::ServerKeys;
use crate::store::{EffectivePermissions, Room, Store, User, ACTIVITY_RESOLUTION};

pub use auth::Caller;

/// Largest request body we read, whatever the route: PySOGS leaves this to its proxy (10 MB)
/// and the onion-request cap (10 MiB); we allow base64 overhead on top (`sogs.md` §7).
const MIN_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// 401 body when a route needs a signed request (`auth.require_user`).
pub(crate) const AUTH_REQUIRED: &str = "X-SOGS-* request authentication required";
/// 403 body of `read_required`.
pub(crate) const READ_REQUIRED: &str = "This endpoint requires room message 'read' permission";
/// 403 body of `mod_required`.
pub(crate) const MOD_REQUIRED: &str = "This endpoint requires moderator room permissions";
/// 403 body of `admin_required`.
pub(crate) const ADMIN_REQUIRED: &str = "This endpoint requires admin room permissions";
/// 401 body of `blind_user_required`.
pub(crate) const BLIND_REQUIRED: &str = "This endpoint requires blinded pubkeys be used";

/// Shared server state: config, keys and the database.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
    /// The router with authentication, built once, for onion requests.
    full: Arc<OnceLock<Router>>,
    /// The routes without authentication, built once, for batch subrequests.
    bare: Arc<OnceLock<Router>>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    keys: ServerKeys,
    onion_keys: sotto_onion::node::NodeKeys,
    store: Mutex<Store>,
    /// Told when the read-write connection is released ([`WriteGuard`]), to wake one task
    /// waiting in [`AppState::write`].
    unlocked: tokio::sync::Notify,
    /// Read-only connections to the same database (SQLite files only; else empty).
    readers: Vec<Mutex<Store>>,
    /// Where [`AppState::reader`] waits when every reader is busy.
    next_reader: AtomicUsize,
    /// (room, user) → when this process last wrote that room activity (see
    /// [`AppState::record_room_activity`]).
    room_activity: Mutex<HashMap<(i64, i64), f64>>,
    /// Anonymous message-list answers (`message_cache.rs`).
    messages: message_cache::MessageCache,
    /// The profanity word list, when a profanity filter is on.
    profanity: Option<crate::profanity::WordList>,
}

impl AppState {
    /// State over an opened, initialised store.
    pub fn new(config: Config, keys: ServerKeys, store: Store) -> Self {
        let onion_keys = sotto_onion::node::NodeKeys::new(keys.x25519_secret().to_bytes());
        let profanity = crate::filter::profanity_enabled(&config).then(|| {
            // The config parser already checked that a custom list exists.
            crate::filter::load_words(&config).unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot read profanity_custom; using the default list");
                crate::profanity::WordList::default_list()
            })
        });
        let readers = store.open_readers(reader_count()).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "no read-only database connections; every request uses the main one");
            Vec::new()
        });
        Self {
            inner: Arc::new(Inner {
                config,
                keys,
                onion_keys,
                store: Mutex::new(store),
                unlocked: tokio::sync::Notify::new(),
                readers: readers.into_iter().map(Mutex::new).collect(),
                next_reader: AtomicUsize::new(0),
                room_activity: Mutex::default(),
                messages: message_cache::MessageCache::default(),
                profanity,
            }),
            full: Arc::default(),
            bare: Arc::default(),
        }
    }

    /// The same state with its own, empty router caches.
    fn uncached(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            full: Arc::default(),
            bare: Arc::default(),
        }
    }

    /// The full router (with authentication) for requests run inside the server. A cached
    /// router must not hold a state that refers to its own cache (that would be a reference
    /// cycle): this one's state shares only the bare-routes cache.
    fn full_router(&self) -> Router {
        self.full
            .get_or_init(|| {
                router(Self {
                    full: Arc::default(),
                    ..self.clone()
                })
            })
            .clone()
    }

    /// The routes without authentication, for batch subrequests; their state caches nothing.
    fn bare_routes(&self) -> Router {
        self.bare.get_or_init(|| routes(self.uncached())).clone()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The server keys.
    pub fn keys(&self) -> &ServerKeys {
        &self.inner.keys
    }

    /// The profanity word list, if a profanity filter is on anywhere.
    pub fn profanity(&self) -> Option<&crate::profanity::WordList> {
        self.inner.profanity.as_ref()
    }

    /// The server key as the onion-request layer uses it.
    fn onion_keys(&self) -> &sotto_onion::node::NodeKeys {
        &self.inner.onion_keys
    }

    /// The read-write connection, locked, waiting in the thread (for synchronous code: the
    /// cleanup, tests, tools; handlers use [`AppState::write`]). A panic elsewhere while
    /// holding it does not poison us: SQLite transactions roll back on drop, so the connection
    /// is still consistent.
    pub fn store(&self) -> WriteGuard<'_> {
        self.guard(
            self.inner
                .store
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// The read-write connection, locked, waiting as a task: while another request holds it,
    /// this worker thread goes on with other requests' parsing, signature checks and
    /// answers instead of blocking. (With every worker blocked on the lock, the writer's work
    /// ran on one core at a time, docs/benchmarks.md.)
    pub async fn write(&self) -> WriteGuard<'_> {
        loop {
            // Registered before trying, so that a release between the try and the wait is
            // not missed.
            let unlocked = self.inner.unlocked.notified();
            tokio::pin!(unlocked);
            unlocked.as_mut().enable();
            // (The attempt's result must be gone before the wait: a future holding a
            // `MutexGuard` type across an await cannot move between threads.)
            match self.inner.store.try_lock() {
                Ok(guard) => return self.guard(guard),
                Err(TryLockError::Poisoned(p)) => return self.guard(p.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            };
            unlocked.await;
        }
    }

    fn guard<'a>(&'a self, guard: MutexGuard<'a, Store>) -> WriteGuard<'a> {
        WriteGuard {
            guard: Some(guard),
            unlocked: &self.inner.unlocked,
        }
    }

    /// A connection for reading only: a free read-only connection if there is one, else the
    /// next one in turn (waiting for it); the main connection when there are none
    /// (PostgreSQL, in-memory databases). Never hold it while taking [`AppState::store`].
    pub fn reader(&self) -> ReadGuard<'_> {
        let readers = &self.inner.readers;
        for reader in readers {
            match reader.try_lock() {
                Ok(guard) => return ReadGuard(ReadLock::Reader(guard)),
                Err(TryLockError::Poisoned(p)) => {
                    return ReadGuard(ReadLock::Reader(p.into_inner()))
                }
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let turn = self.inner.next_reader.fetch_add(1, Ordering::Relaxed);
        match readers.get(turn % readers.len().max(1)) {
            Some(reader) => ReadGuard(ReadLock::Reader(
                reader.lock().unwrap_or_else(PoisonError::into_inner),
            )),
            None => ReadGuard(ReadLock::Writer(self.store())),
        }
    }

    /// Record that a user polled a room (`User.update_room_activity`), through the main
    /// connection, unless this process wrote it less than [`ACTIVITY_RESOLUTION`] ago: the
    /// store would leave the row as it is then, and asking it would queue every poll behind
    /// the writes.
    async fn record_room_activity(&self, room: i64, user: i64, now: f64) -> crate::Result<()> {
        let lock = || {
            self.inner
                .room_activity
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        let recent = lock()
            .get(&(room, user))
            .is_some_and(|&at| now - at < ACTIVITY_RESOLUTION);
        if recent {
            return Ok(());
        }
        self.write().await.touch_room_activity(room, user, now)?;
        let mut seen = lock();
        if seen.len() >= ROOM_ACTIVITY_MEMORY {
            seen.clear();
        }
        seen.insert((room, user), now);
        Ok(())
    }

    /// The cache of anonymous message-list answers.
    fn message_cache(&self) -> &message_cache::MessageCache {
        &self.inner.messages
    }

    /// Largest request body accepted.
    fn body_limit(&self) -> usize {
        let files = usize::try_from(self.config().file_max_size).unwrap_or(usize::MAX);
        MIN_BODY_LIMIT.max(files.saturating_mul(2))
    }
}

/// How many (room, user) pairs [`AppState::record_room_activity`] remembers before starting
/// afresh (about 40 bytes each).
const ROOM_ACTIVITY_MEMORY: usize = 100_000;

/// Read-only connections: one per core the runtime can run handlers on, at least two (a poll
/// should not wait for another poll's reads), at most eight.
fn reader_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8))
}

/// The locked read-write connection; releasing it wakes a task waiting in
/// [`AppState::write`].
pub struct WriteGuard<'a> {
    /// Always `Some` until dropped.
    guard: Option<MutexGuard<'a, Store>>,
    unlocked: &'a tokio::sync::Notify,
}

impl std::ops::Deref for WriteGuard<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        // `guard` is only taken in `drop`.
        self.guard.as_deref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for WriteGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.guard.as_deref_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        self.unlocked.notify_one();
    }
}

/// A locked connection that can only be read through: `&Store` methods do not write (they
/// are the store's read API; `Store::sql_execute` aside, a test tool).
pub struct ReadGuard<'a>(ReadLock<'a>);

/// What a [`ReadGuard`] holds: a reader, or the read-write connection when there are none.
enum ReadLock<'a> {
    Reader(MutexGuard<'a, Store>),
    Writer(WriteGuard<'a>),
}

impl std::ops::Deref for ReadGuard<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        match &self.0 {
            ReadLock::Reader(guard) => guard,
            ReadLock::Writer(guard) => guard,
        }
    }
}

/// The full router: routes, authentication before routing, Flask-style 404/405 pages.
pub fn router(state: AppState) -> Router {
    let limit = state.body_limit();
    let automation = automation::router(state.clone(), limit);
    let pysogs = routes(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(DefaultBodyLimit::max(limit));
    // Outermost, before any routing (so neither router sees the other's path parameters):
    // Bearer-token requests go to the automation API and never reach the X-SOGS stack.
    Router::new()
        .fallback_service(pysogs)
        .layer(axum::middleware::from_fn_with_state(
            (state, automation),
            automation::dispatch,
        ))
}

/// The routes without the authentication layer (batch subrequests inherit the caller).
fn routes(state: AppState) -> Router {
    let base = if state.config().testing {
        testing::routes()
    } else {
        Router::new()
    };
    base.route("/capabilities", get(rooms::capabilities))
        .route("/batch", post(batch::batch))
        .route("/sequence", post(batch::sequence))
        .route("/oxen/v4/lsrpc", post(onion::v4))
        .route("/oxen/v3/lsrpc", post(onion::v3))
        .route("/loki/v3/lsrpc", post(onion::v3))
        .route("/rooms", get(rooms::list_rooms))
        .route(
            "/room/{token}",
            get(rooms::get_room).put(rooms::update_room),
        )
        .route(
            "/room/{token}/pollInfo/{info_updates}",
            get(rooms::poll_info),
        )
        .route("/room/{token}/permissions", get(rooms::all_permissions))
        .route(
            "/room/{token}/permissions/{sid}",
            get(rooms::user_permissions).post(rooms::set_permissions),
        )
        .route(
            "/room/{token}/futurePermissions",
            get(rooms::all_future_permissions),
        )
        .route(
            "/room/{token}/futurePermissions/{sid}",
            get(rooms::user_future_permissions).post(rooms::set_future_permissions),
        )
        .route("/room/{token}/all/{sid}", delete(rooms::delete_all_in_room))
        .route("/rooms/all/{sid}", delete(rooms::delete_all_everywhere))
        .route("/room/{token}/messages/since/{seqno}", get(messages::since))
        .route("/room/{token}/messages/recent", get(messages::recent))
        .route("/room/{token}/messages/before/{id}", get(messages::before))
        .route(
            "/room/{token}/message/{id}",
            get(messages::single)
                .put(messages::edit)
                .delete(messages::remove),
        )
        .route("/room/{token}/message", post(messages::post_message))
        .route("/room/{token}/pin/{id}", post(reactions::pin))
        .route("/room/{token}/unpin/all", post(reactions::unpin_all))
        .route("/room/{token}/unpin/{id}", post(reactions::unpin))
        .route(
            "/room/{token}/reaction/{id}/{*reaction}",
            put(reactions::react).delete(reactions::unreact),
        )
        .route(
            "/room/{token}/reactions/{id}",
            delete(reactions::delete_reactions_all),
        )
        .route(
            "/room/{token}/reactions/{id}/{*reaction}",
            delete(reactions::delete_reactions_one),
        )
        .route(
            "/room/{token}/reactors/{id}/{*reaction}",
            get(reactions::reactors),
        )
        .route("/room/{token}/file", post(files::upload))
        .route("/room/{token}/file/{id}", get(files::download))
        .route(
            "/room/{token}/file/{id}/{filename}",
            get(files::download_named),
        )
        .route("/user/{sid}/moderator", post(users::set_moderator))
        .route("/user/{sid}/ban", post(users::ban))
        .route("/user/{sid}/unban", post(users::unban))
        .route("/inbox", get(dm::inbox).delete(dm::delete_inbox))
        .route("/inbox/since/{id}", get(dm::inbox_since))
        .route("/inbox/{sid}", post(dm::send))
        .route("/outbox", get(dm::outbox))
        .route("/outbox/since/{id}", get(dm::outbox_since))
        .merge(legacy_routes())
        .merge(crate::web::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The legacy SOGS v2 routes (`legacy.rs`).
fn legacy_routes() -> Router<AppState> {
    Router::new()
        .route("/legacy/rooms", get(legacy::rooms))
        .route("/legacy/rooms/{token}", get(legacy::room))
        .route(
            "/legacy/rooms/{token}/image",
            get(legacy::room_image).post(legacy::set_room_image),
        )
        .route("/legacy/member_count", get(legacy::member_count))
        .route(
            "/legacy/auth_token_challenge",
            get(legacy::auth_token_challenge),
        )
        .route("/legacy/claim_auth_token", post(legacy::claim_auth_token))
        .route(
            "/legacy/messages",
            get(legacy::get_messages).post(legacy::post_message),
        )
        .route("/legacy/messages/{id}", delete(legacy::delete_message))
        .route("/legacy/compact_poll", post(legacy::compact_poll))
        .route("/legacy/files", post(legacy::upload_file))
        .route("/legacy/files/{id}", get(legacy::get_file))
        .route("/legacy/delete_messages", post(legacy::delete_messages))
        .route(
            "/legacy/block_list",
            get(legacy::ban_list).post(legacy::ban_user),
        )
        .route("/legacy/block_list/{sid}", delete(legacy::unban_user))
        .route(
            "/legacy/ban_and_delete_all",
            post(legacy::ban_and_delete_all),
        )
        .route(
            "/legacy/moderators",
            get(legacy::get_moderators).post(legacy::add_moderator),
        )
        .route("/legacy/moderators/{sid}", delete(legacy::remove_moderator))
}

async fn not_found() -> ApiError {
    ApiError::Werkzeug(StatusCode::NOT_FOUND)
}

async fn method_not_allowed() -> ApiError {
    ApiError::Werkzeug(StatusCode::METHOD_NOT_ALLOWED)
}

/// A failed request, rendered as PySOGS renders it.
#[derive(Debug)]
pub enum ApiError {
    /// `abort_with_reason`: `text/plain` with an exact message.
    Text(StatusCode, Cow<'static, str>),
    /// `abort(code)`: werkzeug's default HTML page.
    Werkzeug(StatusCode),
    /// A model exception (`routes/exc.py`): `str(e)` as `text/html`.
    Model(StatusCode, Cow<'static, str>),
    /// Something broke on our side: logged, 500.
    Internal(crate::Error),
}

/// Handler result.
pub type ApiResult<T = Response> = Result<T, ApiError>;

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        Self::Internal(e)
    }
}

impl From<sotto_crypto::sogs_auth::AuthError> for ApiError {
    fn from(e: sotto_crypto::sogs_auth::AuthError) -> Self {
        Self::Text(
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
            Cow::Borrowed(e.message()),
        )
    }
}

impl ApiError {
    /// 400 with werkzeug's page.
    pub(crate) fn bad_request() -> Self {
        Self::Werkzeug(StatusCode::BAD_REQUEST)
    }

    /// 404 with werkzeug's page.
    pub(crate) fn not_found() -> Self {
        Self::Werkzeug(StatusCode::NOT_FOUND)
    }

    /// 403 with werkzeug's page.
    pub(crate) fn forbidden() -> Self {
        Self::Werkzeug(StatusCode::FORBIDDEN)
    }

    /// `BadPermission()`: 403 `Permission denied`.
    pub(crate) fn permission_denied() -> Self {
        Self::Model(StatusCode::FORBIDDEN, Cow::Borrowed("Permission denied"))
    }

    /// `InvalidData()`: 400 with an empty body.
    pub(crate) fn invalid_data() -> Self {
        Self::Model(StatusCode::BAD_REQUEST, Cow::Borrowed(""))
    }

    /// `NoSuchPost(id)`: 404 `No such post: <id>`.
    pub(crate) fn no_such_post(id: i64) -> Self {
        Self::Model(
            StatusCode::NOT_FOUND,
            Cow::Owned(format!("No such post: {id}")),
        )
    }

    /// A plain-text abort.
    pub(crate) fn text(status: StatusCode, msg: &'static str) -> Self {
        Self::Text(status, Cow::Borrowed(msg))
    }

    /// The HTTP status this error is answered with.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::Text(status, _) | Self::Werkzeug(status) | Self::Model(status, _) => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        const HTML: &str = "text/html; charset=utf-8";
        let (status, content_type, body) = match self {
            Self::Text(status, msg) => (status, "text/plain; charset=utf-8", msg.into_owned()),
            Self::Model(status, msg) => (status, HTML, msg.into_owned()),
            Self::Werkzeug(status) => (status, HTML, werkzeug_page(status)),
            Self::Internal(e) => {
                tracing::error!("internal error: {e}");
                let status = StatusCode::INTERNAL_SERVER_ERROR;
                (status, HTML, werkzeug_page(status))
            }
        };
        let mut resp = (status, body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        resp
    }
}

/// Werkzeug's default error page for a status.
fn werkzeug_page(status: StatusCode) -> String {
    let description = match status.as_u16() {
        400 => "The browser (or proxy) sent a request that this server could not understand.",
        401 => {
            "The server could not verify that you are authorized to access the URL requested. \
             You either supplied the wrong credentials (e.g. a bad password), or your browser \
             doesn't understand how to supply the credentials required."
        }
        403 => {
            "You don't have the permission to access the requested resource. It is either \
             read-protected or not readable by the server."
        }
        404 => {
            "The requested URL was not found on the server. If you entered the URL manually \
             please check your spelling and try again."
        }
        405 => "The method is not allowed for the requested URL.",
        406 => {
            "The resource identified by the request is only capable of generating response \
             entities which have content characteristics not acceptable according to the accept \
             headers sent in the request."
        }
        412 => "The precondition on the request for the URL failed positive evaluation.",
        413 => "The data value transmitted exceeds the capacity limit.",
        429 => "This user has exceeded an allotted request count. Try again later.",
        _ => {
            "The server encountered an internal error and was unable to complete your request. \
             Either the server is overloaded or there is an error in the application."
        }
    };
    // Werkzeug's names, which differ from RFC 9110's only for 413 (`RequestEntityTooLarge`).
    let reason = match status.as_u16() {
        413 => "Request Entity Too Large",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    // Werkzeug HTML-escapes the description (MarkupSafe: `'` becomes `&#39;`); checked against
    // PySOGS's answers in tests/pysogs_fixture.rs.
    let description = description.replace('\'', "&#39;");
    format!(
        "<!doctype html>\n<html lang=en>\n<title>{} {reason}</title>\n<h1>{reason}</h1>\n<p>{description}</p>\n",
        status.as_u16()
    )
}

/// Marks a response whose body is compact `serde_json` output with object keys in sorted order,
/// byte for byte what parsing it into a `Value` and writing that again would give, so `/batch`
/// can embed it as it is instead of parsing and re-writing it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CanonicalJson;

/// The content type of JSON answers (`axum::Json`'s, Flask's `jsonify`'s).
const JSON_CONTENT_TYPE: &str = "application/json";

/// A JSON response with a status.
pub(crate) fn json(status: StatusCode, value: Value) -> Response {
    let mut resp = (status, axum::Json(value)).into_response();
    // A value that failed to serialize is a text/plain 500 from axum, not JSON.
    if resp.headers().get(header::CONTENT_TYPE)
        == Some(&HeaderValue::from_static(JSON_CONTENT_TYPE))
    {
        resp.extensions_mut().insert(CanonicalJson);
    }
    resp
}

/// A JSON response from bytes written in [`CanonicalJson`] form (one write of the whole body).
pub(crate) fn json_bytes(status: StatusCode, body: impl Into<axum::body::Bytes>) -> Response {
    let content_type = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    )];
    let mut resp = (status, content_type, body.into()).into_response();
    resp.extensions_mut().insert(CanonicalJson);
    resp
}

/// A 200 JSON response.
pub(crate) fn ok(value: Value) -> ApiResult {
    Ok(json(StatusCode::OK, value))
}

/// The room named by a path segment: a bad or unknown token fails the route match (404).
pub(crate) fn find_room(store: &Store, token: &str) -> ApiResult<Room> {
    let token: RoomToken = token.parse().map_err(|_| ApiError::not_found())?;
    store.room(&token)?.ok_or_else(ApiError::not_found)
}

/// A Flask `<int:…>` path segment: ASCII digits only, else the route does not match (404).
pub(crate) fn int_segment(s: &str) -> ApiResult<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::not_found());
    }
    s.parse().map_err(|_| ApiError::not_found())
}

/// The first value of a query parameter, percent- and `+`-decoded (werkzeug `args.get`).
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    let decode = |s: &str| {
        String::from_utf8_lossy(&crate::util::percent_decode(&s.replace('+', " "))).into_owned()
    };
    query?
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .find(|(k, _)| decode(k) == name)
        .map(|(_, v)| decode(v))
}

/// PySOGS `get_int_param(name, default, min, max, truncate=True)`: absent → default, not an
/// integer → 400, out of range → clamped.
pub(crate) fn int_param(
    query: Option<&str>,
    name: &str,
    default: i64,
    range: Option<(i64, i64)>,
) -> ApiResult<i64> {
    let Some(raw) = query_param(query, name) else {
        return Ok(default);
    };
    let text: String = raw.trim().chars().filter(|&c| c != '_').collect();
    let value: i64 = text.parse().map_err(|_| ApiError::bad_request())?;
    Ok(match range {
        Some((lo, hi)) => value.clamp(lo, hi),
        None => value,
    })
}

/// A JSON request body (Flask `request.json`); anything unparsable is a 400.
pub(crate) fn json_body(body: &[u8]) -> ApiResult<Value> {
    serde_json::from_slice(body).map_err(|_| ApiError::bad_request())
}

/// A JSON object request body; anything else is a 400.
pub(crate) fn json_object(body: &[u8]) -> ApiResult<serde_json::Map<String, Value>> {
    match json_body(body)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request()),
    }
}

/// Python truthiness of an optional JSON value.
pub(crate) fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// The caller, or 401 `X-SOGS-* request authentication required`.
pub(crate) fn require_user(caller: &Caller) -> ApiResult<&User> {
    caller
        .user()
        .ok_or(ApiError::text(StatusCode::UNAUTHORIZED, AUTH_REQUIRED))
}

/// `read_required`.
pub(crate) fn require_read(perms: &EffectivePermissions) -> ApiResult<()> {
    if perms.can_read() {
        Ok(())
    } else {
        Err(ApiError::text(StatusCode::FORBIDDEN, READ_REQUIRED))
    }
}

/// `mod_required` / `admin_required` (after [`require_user`]).
pub(crate) fn require_mod(perms: &EffectivePermissions, admin: bool) -> ApiResult<()> {
    let ok = if admin {
        perms.is_admin()
    } else {
        perms.is_moderator()
    };
    if ok {
        Ok(())
    } else if admin {
        Err(ApiError::text(StatusCode::FORBIDDEN, ADMIN_REQUIRED))
    } else {
        Err(ApiError::text(StatusCode::FORBIDDEN, MOD_REQUIRED))
    }
}

/// Standard base64 with padding, as PySOGS encodes bytes in JSON.
pub(crate) fn b64(bytes: &[u8]) -> Value {
    use base64::Engine as _;
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// PySOGS `utils.decode_base64`: the standard alphabet, padding optional.
pub(crate) fn decode_b64(value: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    use base64::Engine as _;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(value).ok()
}
