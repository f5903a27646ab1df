//! X-SOGS request authentication (`sogs.md` §2.3), run on every request before routing, as
//! PySOGS's `handle_http_auth` runs in Flask's `before_request`.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sotto_crypto::sogs_auth::{self, AuthError};
use tracing::Instrument;

use super::{ApiError, AppState};
use crate::store::{AuthOutcome, User};
use crate::util;

/// Who made the request: `None` for anonymous requests. Batch subrequests inherit the outer
/// request's caller.
#[derive(Clone, Debug, Default)]
pub struct Caller(pub Option<User>);

impl Caller {
    /// The authenticated user, if any.
    pub fn user(&self) -> Option<&User> {
        self.0.as_ref()
    }
}

/// The middleware: buffer the body (413 if too large), authenticate, hand the [`Caller`] to
/// the handler.
pub(super) async fn authenticate(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let span = tracing::info_span!("request", method = %parts.method, path = %parts.uri.path());
    async move {
        let limit = state.body_limit();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return ApiError::Werkzeug(StatusCode::PAYLOAD_TOO_LARGE).into_response();
        }
        let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
            Ok(b) => b,
            Err(_) => return ApiError::Werkzeug(StatusCode::PAYLOAD_TOO_LARGE).into_response(),
        };
        let caller = match check(&state, &parts, &bytes).await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!("authentication refused: {e:?}");
                return e.into_response();
            }
        };
        parts.extensions.insert(caller);
        let resp = next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
        tracing::debug!(status = resp.status().as_u16(), "done");
        resp
    }
    .instrument(span)
    .await
}

/// PySOGS's steps in order: headers → clock → user row (ban) → nonce → signature → touch.
async fn check(state: &AppState, parts: &Parts, body: &[u8]) -> Result<Caller, ApiError> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let (pk, nonce, ts, sig) = (
        header(sogs_auth::HEADER_PUBKEY),
        header(sogs_auth::HEADER_NONCE),
        header(sogs_auth::HEADER_TIMESTAMP),
        header(sogs_auth::HEADER_SIGNATURE),
    );
    let require_blind = state.config().require_blind_keys;
    let Some(parsed) = sogs_auth::parse_headers(
        pk.as_deref(),
        nonce.as_deref(),
        ts.as_deref(),
        sig.as_deref(),
        require_blind,
    )?
    else {
        return Ok(Caller(None));
    };
    let now = util::now();
    #[allow(clippy::cast_possible_truncation)] // the clock is far inside i64
    parsed.check_clock(now.floor() as i64)?;

    // The signature is checked first (pure CPU, outside the lock) but reported in PySOGS's
    // place, after the ban and nonce checks, which run in one database transaction.
    let path = util::percent_decode(parts.uri.path());
    let path = String::from_utf8_lossy(&path);
    let signature_ok = parsed
        .verify(
            &state.keys().x25519_public(),
            parts.method.as_str(),
            &path,
            parts.uri.query().unwrap_or(""),
            body,
        )
        .is_ok();
    let outcome = state.write().await.authenticate(
        parsed.user_id(),
        require_blind,
        parsed.nonce(),
        signature_ok,
        now,
    )?;
    let user = match outcome {
        AuthOutcome::Ok(user) => user,
        AuthOutcome::Banned => return Err(AuthError::BANNED.into()),
        AuthOutcome::NonceReused => return Err(AuthError::NONCE_REUSED.into()),
        AuthOutcome::BadSignature => return Err(AuthError::SIGNATURE_FAILED.into()),
    };
    Ok(Caller(Some(user)))
}
