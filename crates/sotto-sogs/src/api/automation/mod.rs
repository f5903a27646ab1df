//! The automation API: what an operator's bots and scripts use, authenticated by
//! `Authorization: Bearer <token>` instead of X-SOGS request signatures (issue #9).
//!
//! [`dispatch`] runs before everything else: a request with a Bearer token is authenticated
//! here (401 if the token is missing, wrong or revoked) and handed to the automation router;
//! any other request goes on to the PySOGS routes unchanged, even on the paths both share
//! (`GET /room/{token}`, …). Tokens are looked up in the database on every request, so a
//! revocation applies at once.

mod handlers;

pub(crate) use handlers::global_ban_users;

use std::borrow::Cow;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use rand_core::{OsRng, RngCore};
use tower::ServiceExt as _;

use super::AppState;
use crate::store::ApiToken;

/// Where the OpenAPI document is published (to anyone: it describes, it grants nothing).
pub const OPENAPI_PATH: &str = "/api/openapi.json";
/// The OpenAPI 3.0 document of the automation API, hand-written.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");
/// Prefix of every token we issue, so that leaked tokens are recognisable in logs and scans.
pub const TOKEN_PREFIX: &str = "sotto_";
/// Random bytes in a token.
const TOKEN_BYTES: usize = 32;
/// The `Authorization` scheme (RFC 6750 §2.1; the scheme name is case-insensitive).
const BEARER: &str = "bearer";

/// A new random token (`sotto_` + base64url of 32 random bytes) and its hash.
pub fn generate_token() -> (String, [u8; 32]) {
    use base64::Engine as _;
    let mut raw = zeroize::Zeroizing::new([0u8; TOKEN_BYTES]);
    OsRng.fill_bytes(raw.as_mut_slice());
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.as_slice())
    );
    let hash = hash_token(&token);
    (token, hash)
}

/// The stored form of a token: BLAKE2b-256 of its text. Tokens are 256 random bits, so a
/// plain fast hash suffices (no password stretching needed).
pub fn hash_token(token: &str) -> [u8; 32] {
    Blake2b::<U32>::digest(token.as_bytes()).into()
}

/// The token of a request, if it uses the Bearer scheme (`Some("")` when the scheme is there
/// without a token).
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?;
    let text = String::from_utf8_lossy(value.as_bytes());
    let text = text.trim();
    let scheme = text.get(..BEARER.len())?;
    if !scheme.eq_ignore_ascii_case(BEARER) {
        return None;
    }
    let rest = text.get(BEARER.len()..)?;
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some(rest.trim().to_owned())
}

/// The authenticated token, as the handlers receive it.
#[derive(Clone, Debug)]
pub(crate) struct Bot(pub(crate) ApiToken);

/// A failed automation request: JSON `{"error": message}`.
#[derive(Debug)]
pub(crate) struct AutoError {
    status: StatusCode,
    message: Cow<'static, str>,
}

/// Handler result.
pub(crate) type AutoResult<T = Response> = Result<T, AutoError>;

impl AutoError {
    pub(crate) fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub(crate) fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    fn unauthorized(message: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
}

impl From<crate::Error> for AutoError {
    fn from(e: crate::Error) -> Self {
        tracing::error!("automation API internal error: {e}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl IntoResponse for AutoError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            axum::Json(serde_json::json!({ "error": self.message })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sogs\""),
            );
        }
        resp
    }
}

/// The outermost middleware: the OpenAPI document, Bearer requests to the automation router,
/// everything else to `next` (the PySOGS stack).
pub(super) async fn dispatch(
    State((st, automation)): State<(AppState, Router)>,
    mut req: Request,
    next: Next,
) -> Response {
    if req.uri().path() == OPENAPI_PATH && req.method() == Method::GET {
        return ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response();
    }
    let Some(token) = bearer(req.headers()) else {
        return next.run(req).await;
    };
    let span = tracing::info_span!("automation", method = %req.method(), path = %req.uri().path());
    let entered = span.enter();
    let found = if token.is_empty() {
        Err(AutoError::unauthorized("missing API token"))
    } else {
        match st.write().await.api_token_by_hash(&hash_token(&token)) {
            Ok(Some(t)) => Ok(t),
            Ok(None) => Err(AutoError::unauthorized("invalid or revoked API token")),
            Err(e) => Err(e.into()),
        }
    };
    let bot = match found {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    tracing::debug!(token = %bot.name, "automation request");
    drop(entered);
    req.extensions_mut().insert(Bot(bot));
    match automation.oneshot(req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    }
}

/// The automation routes.
pub(super) fn router(state: AppState, body_limit: usize) -> Router {
    use handlers as h;
    Router::new()
        .route("/room", post(h::create_room))
        .route(
            "/room/{token}",
            get(h::get_room).put(h::update_room).delete(h::delete_room),
        )
        .route("/room/{token}/message", post(h::post_message))
        .route("/room/{token}/messages", get(h::list_messages))
        .route("/room/{token}/message/{id}", delete(h::delete_message))
        .route("/room/{token}/ban", post(h::ban_in_room))
        .route("/room/{token}/ban/{session_id}", delete(h::unban_in_room))
        .route("/room/{token}/bans", get(h::room_bans))
        .route("/room/{token}/upload", post(h::upload))
        .route("/file/{id}", get(h::download))
        .route("/ban", post(h::global_ban))
        .fallback(|| async { AutoError::not_found("no such automation API route") })
        .method_not_allowed_fallback(|| async {
            AutoError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this automation API route",
            )
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha) = generate_token();
        let (b, hb) = generate_token();
        assert_ne!(a, b);
        assert_ne!(ha, hb);
        assert!(a.starts_with(TOKEN_PREFIX));
        // 32 bytes in unpadded base64url.
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(hash_token(&a), ha);
    }

    #[test]
    fn bearer_scheme() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            bearer(&m)
        };
        assert_eq!(h("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(h("bearer   abc ").as_deref(), Some("abc"));
        assert_eq!(h("Bearer").as_deref(), Some(""));
        assert_eq!(h("Bearerabc"), None);
        assert_eq!(h("Basic abc"), None);
        assert_eq!(h("Bear"), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
