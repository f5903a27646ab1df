//! The web pages a browser sees when someone opens a community's URL (`sogs.md` §5, PySOGS
//! `sogs/routes/views.py`): a room directory at `/`, a page per room with the join URL as text
//! and as a QR code, and the recent messages, fetched by a small script from the public API.
//!
//! Everything here is anonymous: pages show only what the API shows to a caller without keys
//! (rooms readable or accessible by default). The HTML is written here, the script, style sheet
//! and message schema are embedded from `src/web/`; every value from the database or the config
//! is HTML-escaped, and the pages carry a Content-Security-Policy that allows only our own
//! script, so a room name that slips through cannot run code.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::api::{find_room, ApiError, ApiResult, AppState};
use crate::store::Room;

mod qr;

pub use qr::{invite_png, InviteError, INVITE_SIZE};

/// The room page's script: polls the recent messages and decodes them in the browser.
const VIEW_ROOM_JS: &str = include_str!("web/view_room.js");
/// The pages' style sheet.
const STYLE_CSS: &str = include_str!("web/sogs.css");
/// Session's message schema as Sotto reads it, served as PySOGS serves its copy; shared with
/// `sotto-message` so that there is one schema to keep right.
const SESSION_PROTO: &str = include_str!("../../sotto-message/proto/session.proto");

/// How often the room page refreshes its message list, milliseconds (PySOGS `view_room.js`
/// polls every 5 s). The script reads it from the page.
const POLL_INTERVAL_MS: u32 = 5_000;

/// Content-Security-Policy of the HTML pages: our own script, style, images and API only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

/// The web routes, to merge into the API router (`crate::api`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/r/{token}/", get(view_room))
        .route("/r/{token}", get(add_slash))
        .route("/r/{token}/invite.png", get(invite))
        .route("/static/view_room.js", get(script))
        .route("/static/sogs.css", get(style))
        .route("/static/session.proto", get(proto))
        // The join URL `http://host/<token>?public_key=…`, opened in a browser. Only GET (and
        // HEAD) are ours; any other method on an unknown path stays the usual 404.
        .route(
            "/{token}",
            get(join_url_redirect).fallback(|| async { ApiError::not_found() }),
        )
}

/// `GET /`: the directory of rooms anyone can see. With no such room, PySOGS's "requires
/// additional setup" page (shown even when the directory is off, as PySOGS does); with
/// `[net] http_show_index = no`, 403.
async fn index(State(st): State<AppState>) -> ApiResult {
    let rooms = st.reader().accessible_rooms(None)?;
    if rooms.is_empty() {
        return Ok(html(page(
            "Setup required",
            "<h1>Setup required</h1>\n<p>This community server requires additional setup: \
             it has no public rooms yet.</p>\n",
        )));
    }
    if !st.config().http_show_index {
        return Err(ApiError::forbidden());
    }
    let mut body = String::from("<h1>Room directory</h1>\n<ul class=\"rooms\">\n");
    for room in &rooms {
        body.push_str(&format!(
            "<li><a href=\"/r/{token}/\">{name}</a> <code>{token}</code>",
            token = escape(&room.token),
            name = escape(&room.name),
        ));
        if let Some(d) = room.description.as_deref().filter(|d| !d.is_empty()) {
            body.push_str(&format!("<p>{}</p>", escape(d)));
        }
        body.push_str("</li>\n");
    }
    body.push_str("</ul>\n");
    Ok(html(page("Room directory", &body)))
}

/// A room that anonymous callers may read, else 404 (no such room) or 403.
fn readable_room(st: &AppState, token: &str) -> ApiResult<Room> {
    let room = find_room(&st.reader(), token)?;
    if room.default_read {
        Ok(room)
    } else {
        Err(ApiError::forbidden())
    }
}

/// The room's join URL, as `sogs -L` prints it and Session parses it.
fn join_url(st: &AppState, room: &Room) -> String {
    st.config()
        .join_url(&room.token, &st.keys().x25519_public().to_hex())
}

/// `GET /r/<token>/`: the room page.
async fn view_room(State(st): State<AppState>, Path(token): Path<String>) -> ApiResult {
    let room = readable_room(&st, &token)?;
    let url = join_url(&st, &room);
    let mut body = format!("<h1>{}</h1>\n", escape(&room.name));
    if let Some(d) = room.description.as_deref().filter(|d| !d.is_empty()) {
        body.push_str(&format!("<p class=\"description\">{}</p>\n", escape(d)));
    }
    body.push_str(&format!(
        "<div class=\"invite\">\n<img src=\"invite.png\" width=\"256\" height=\"256\" \
         alt=\"QR code of the join URL\">\n<p>Open this URL in Session to join:</p>\n\
         <pre id=\"join-url\">{}</pre>\n</div>\n",
        escape(&url)
    ));
    if st.config().http_show_recent {
        body.push_str(&format!(
            "<h2>Recent messages</h2>\n<ul id=\"messages\" \
             data-poll-url=\"/room/{token}/messages/recent\" \
             data-interval=\"{POLL_INTERVAL_MS}\">\n<li>loading…</li>\n</ul>\n\
             <script src=\"/static/view_room.js\"></script>\n",
            token = escape(&room.token),
        ));
    }
    Ok(html(page(&room.name, &body)))
}

/// `GET /r/<token>`: werkzeug's strict-slashes redirect (308) to the room page.
async fn add_slash(State(st): State<AppState>, Path(token): Path<String>) -> ApiResult {
    let room = find_room(&st.reader(), &token)?;
    Ok(Redirect::permanent(&format!("/r/{}/", room.token)).into_response())
}

/// `GET /<token>`: the join URL opened in a browser goes to the room page. PySOGS has no such
/// route (404); we redirect (303) for existing rooms so that a shared link is useful.
async fn join_url_redirect(State(st): State<AppState>, Path(token): Path<String>) -> ApiResult {
    let room = find_room(&st.reader(), &token)?;
    Ok(Redirect::to(&format!("/r/{}/", room.token)).into_response())
}

/// `GET /r/<token>/invite.png`: the join URL as a 512×512 QR code.
async fn invite(State(st): State<AppState>, Path(token): Path<String>) -> ApiResult {
    let room = readable_room(&st, &token)?;
    let png = invite_png(&join_url(&st, &room)).map_err(|e| {
        tracing::error!(room = %room.token, "cannot draw the invite QR code: {e}");
        ApiError::Werkzeug(StatusCode::INTERNAL_SERVER_ERROR)
    })?;
    Ok(with_type(png, "image/png"))
}

async fn script() -> Response {
    with_type(VIEW_ROOM_JS, "text/javascript; charset=utf-8")
}

async fn style() -> Response {
    with_type(STYLE_CSS, "text/css; charset=utf-8")
}

async fn proto() -> Response {
    with_type(SESSION_PROTO, "text/plain; charset=utf-8")
}

/// A 200 response with a content type and `nosniff`.
fn with_type(body: impl IntoResponse, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// An HTML page response with our security headers.
fn html(page: String) -> Response {
    let mut resp = with_type(page, "text/html; charset=utf-8");
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    resp
}

/// The common page frame around `body` (already HTML); `title` is escaped here.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/static/sogs.css\">\n\
         </head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        title = escape(title),
    )
}

/// Escape text for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&amp;</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
        );
        assert_eq!(escape("plain ünïcode"), "plain ünïcode");
    }

    proptest::proptest! {
        #[test]
        fn escaping_leaves_no_markup_and_reverses(text in ".*") {
            let escaped = escape(&text);
            proptest::prop_assert!(!escaped.contains(['<', '>', '"', '\'']));
            let back = escaped
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
            proptest::prop_assert_eq!(back, text);
        }
    }

    #[test]
    fn page_escapes_its_title_only() {
        let p = page("<b>", "<p>body</p>");
        assert!(p.contains("<title>&lt;b&gt;</title>"));
        assert!(p.contains("<p>body</p>"));
    }
}
