//! The web pages (`sogs.md` §5): room directory, room page, invite QR code, static files and the
//! join-URL redirect, through the in-process router.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{nonce, now, sign, Resp, Server};
use sotto_sogs::store::Permissions;

const NASTY: &str = r#"<script>alert("x")</script> & 'quotes'"#;
const NASTY_ESCAPED: &str =
    "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;";

/// Set a room's default read/accessible flags.
fn set_defaults(s: &Server, token: &str, read: bool, accessible: bool) {
    let room = s.room(token);
    let perms = Permissions {
        read: Some(Some(read)),
        accessible: Some(Some(accessible)),
        ..Permissions::default()
    };
    s.state
        .store()
        .set_default_permissions(room.id, &perms)
        .unwrap();
}

fn join_url(s: &Server, token: &str) -> String {
    format!(
        "http://example.net/{token}?public_key={}",
        hex::encode(s.pubkey().0)
    )
}

async fn get(s: &Server, uri: &str) -> Resp {
    s.req("GET", uri, None, None).await
}

fn assert_html(r: &Resp) {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type(), "text/html; charset=utf-8");
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

#[tokio::test]
async fn directory_lists_public_rooms_escaped() {
    let s = Server::new();
    s.add_room("lobby");
    s.add_room("secret");
    s.add_room("lounge");
    set_defaults(&s, "secret", false, false);
    // Accessible without read: listed, as PySOGS lists `read OR accessible` rooms.
    set_defaults(&s, "lounge", false, true);
    let lobby = s.room("lobby");
    s.state.store().set_room_name(lobby.id, NASTY).unwrap();
    s.state
        .store()
        .set_room_description(lobby.id, Some(NASTY))
        .unwrap();
    let r = get(&s, "/").await;
    assert_html(&r);
    let page = r.text();
    assert!(page.contains("Room directory"), "{page}");
    assert!(page.contains("<a href=\"/r/lobby/\">"), "{page}");
    assert!(page.contains("<a href=\"/r/lounge/\">"), "{page}");
    assert!(!page.contains("secret"), "{page}");
    // The name and description appear only escaped.
    assert_eq!(page.matches(NASTY_ESCAPED).count(), 2, "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
    // Sorted by token.
    assert!(page.find("/r/lobby/").unwrap() < page.find("/r/lounge/").unwrap());
}

#[tokio::test]
async fn directory_without_public_rooms_asks_for_setup() {
    let s = Server::new();
    let r = get(&s, "/").await;
    assert_html(&r);
    assert!(
        r.text().contains("requires additional setup"),
        "{}",
        r.text()
    );

    // A room nobody may see does not count.
    s.add_room("hidden");
    set_defaults(&s, "hidden", false, false);
    let r = get(&s, "/").await;
    assert!(
        r.text().contains("requires additional setup"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains("hidden"));
}

#[tokio::test]
async fn directory_can_be_turned_off() {
    let s = Server::with(|c| c.http_show_index = false);
    // With no public room PySOGS shows the setup page before checking the switch.
    let r = get(&s, "/").await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("requires additional setup"));

    s.add_room("lobby");
    let r = get(&s, "/").await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(!r.text().contains("lobby"));
    // Room pages stay available.
    assert_html(&get(&s, "/r/lobby/").await);
}

#[tokio::test]
async fn room_page_shows_join_url_and_polls_recent_messages() {
    let s = Server::new();
    s.add_room("lobby");
    let r = get(&s, "/r/lobby/").await;
    assert_html(&r);
    let page = r.text();
    assert!(
        page.contains(&format!(
            "<pre id=\"join-url\">{}</pre>",
            join_url(&s, "lobby")
        )),
        "{page}"
    );
    assert!(page.contains("<img src=\"invite.png\""), "{page}");
    assert!(
        page.contains("data-poll-url=\"/room/lobby/messages/recent\""),
        "{page}"
    );
    assert!(page.contains("data-interval=\"5000\""), "{page}");
    assert!(
        page.contains("<script src=\"/static/view_room.js\"></script>"),
        "{page}"
    );
    // No inline script: the CSP would block it.
    assert_eq!(page.matches("<script").count(), 1, "{page}");
    assert!(page.contains("<title>Room lobby</title>"), "{page}");

    // The URL the page polls answers an anonymous caller.
    let r = get(&s, "/room/lobby/messages/recent").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), serde_json::json!([]));
}

#[tokio::test]
async fn room_page_without_recent_messages() {
    let s = Server::with(|c| c.http_show_recent = false);
    s.add_room("lobby");
    let r = get(&s, "/r/lobby/").await;
    assert_html(&r);
    assert!(!r.text().contains("<script"), "{}", r.text());
    assert!(!r.text().contains("messages/recent"));
    assert!(r.text().contains("<pre id=\"join-url\">"));
}

#[tokio::test]
async fn room_page_escapes_room_and_config_values() {
    let s = Server::with(|c| c.base_url = "http://ex.net/<b>\"".to_owned());
    let room = s.add_room("lobby");
    s.state.store().set_room_name(room.id, NASTY).unwrap();
    s.state
        .store()
        .set_room_description(room.id, Some(NASTY))
        .unwrap();
    let page = get(&s, "/r/lobby/").await.text();
    // Title, heading and description.
    assert_eq!(page.matches(NASTY_ESCAPED).count(), 3, "{page}");
    assert!(
        page.contains("http://ex.net/&lt;b&gt;&quot;/lobby?public_key="),
        "{page}"
    );
    assert!(!page.contains("<b>"), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
}

#[tokio::test]
async fn unreadable_rooms_are_forbidden() {
    let s = Server::new();
    s.add_room("lounge");
    // Accessible (listed) but not readable: PySOGS answers 403 to both.
    set_defaults(&s, "lounge", false, true);
    for uri in ["/r/lounge/", "/r/lounge/invite.png"] {
        let r = get(&s, uri).await;
        assert_eq!(r.status, 403, "{uri}");
        assert!(!r.text().contains("public_key"), "{uri}");
    }

    // A user allowed to read it gets no more: the pages show only what is public.
    let u = s.new_user();
    let user = s.db_user(&u);
    let room = s.room("lounge");
    s.state
        .store()
        .set_user_permissions(
            room.id,
            user.id,
            &Permissions {
                read: Some(Some(true)),
                ..Permissions::default()
            },
        )
        .unwrap();
    let r = s.req("GET", "/r/lounge/", None, Some(&u)).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn unknown_and_malformed_rooms_are_404() {
    let s = Server::new();
    s.add_room("lobby");
    let long = "a".repeat(65);
    let huge = "b".repeat(10_000);
    for token in [
        "nope",
        "bad.token",
        "%3Cscript%3E",
        long.as_str(),
        huge.as_str(),
    ] {
        for uri in [
            format!("/r/{token}/"),
            format!("/r/{token}/invite.png"),
            format!("/r/{token}"),
            format!("/{token}"),
            format!("/{token}?public_key=00"),
        ] {
            let r = get(&s, &uri).await;
            assert_eq!(r.status, 404, "{uri}");
            assert!(!r.text().contains("script"), "{uri}: reflected");
        }
    }
}

#[tokio::test]
async fn invite_png_is_a_512_px_qr_code_of_the_join_url() {
    let s = Server::with(|c| c.base_url = "https://chat.example.org".to_owned());
    s.add_room("lobby");
    let r = get(&s, "/r/lobby/invite.png").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "image/png");

    let decoder = png::Decoder::new(std::io::Cursor::new(&r.body));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (512, 512));
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);

    let mut img = rqrr::PreparedImage::prepare_from_greyscale(512, 512, |x, y| {
        pixels[y * info.line_size + x]
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_meta, text) = grids[0].decode().unwrap();
    assert_eq!(
        text,
        format!(
            "https://chat.example.org/lobby?public_key={}",
            hex::encode(s.pubkey().0)
        )
    );
}

#[tokio::test]
async fn join_url_redirects_to_the_room_page() {
    let s = Server::new();
    s.add_room("lobby");
    let join = join_url(&s, "lobby");
    let path = join.strip_prefix("http://example.net").unwrap();
    let r = get(&s, path).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/r/lobby/");

    // werkzeug's strict-slashes redirect for the room page.
    let r = get(&s, "/r/lobby").await;
    assert_eq!(r.status, 308);
    assert_eq!(r.headers["location"], "/r/lobby/");

    // Other methods on the join URL are the usual 404; API routes keep their paths.
    assert_eq!(s.req("POST", "/lobby", None, None).await.status, 404);
    assert_eq!(s.req("POST", "/r/lobby/", None, None).await.status, 405);
    assert_eq!(get(&s, "/rooms").await.status, 200);
    assert_eq!(get(&s, "/capabilities").await.status, 200);
    assert_eq!(get(&s, "/batch").await.status, 405);
}

#[tokio::test]
async fn static_files() {
    let s = Server::new();
    let js = get(&s, "/static/view_room.js").await;
    assert_eq!(js.status, 200);
    assert_eq!(js.content_type(), "text/javascript; charset=utf-8");
    assert_eq!(js.headers["x-content-type-options"], "nosniff");
    assert!(js.text().contains("messages.slice().reverse()"));

    let proto = get(&s, "/static/session.proto").await;
    assert_eq!(proto.status, 200);
    let proto = proto.text();
    for field in [
        "optional DataMessage dataMessage = 1;",
        "optional string body = 1;",
        "optional LokiProfile profile = 101;",
        "optional string displayName = 1;",
    ] {
        assert!(proto.contains(field), "{field}");
    }

    let css = get(&s, "/static/sogs.css").await;
    assert_eq!(css.status, 200);
    assert_eq!(css.content_type(), "text/css; charset=utf-8");

    for uri in [
        "/static/protobuf.min.js",
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/",
    ] {
        assert_eq!(get(&s, uri).await.status, 404, "{uri}");
    }
}

#[tokio::test]
async fn signed_replayed_and_badly_signed_requests() {
    let s = Server::new();
    s.add_room("lobby");
    let u = s.new_user();
    // Signed requests work like anonymous ones (the page is the same for everyone)…
    let h = sign(&u, &s.pubkey(), "GET", "/r/lobby/", b"", &nonce(), now());
    let r = s.raw("GET", "/r/lobby/", None, Some(&h), &[]).await;
    assert_html(&r);
    // …a replay is refused before routing…
    let r = s.raw("GET", "/r/lobby/", None, Some(&h), &[]).await;
    assert_eq!(r.status, 425, "{}", r.text());
    // …and so is a request signed for another path.
    let h = sign(&u, &s.pubkey(), "GET", "/r/other/", b"", &nonce(), now());
    let r = s.raw("GET", "/r/lobby/", None, Some(&h), &[]).await;
    assert_eq!(r.status, 401, "{}", r.text());
}

#[tokio::test]
async fn oversized_request_bodies_are_refused() {
    // With small uploads the body limit is its floor, 16 MiB.
    let s = Server::with(|c| c.file_max_size = 1_000);
    s.add_room("lobby");
    let body = vec![b'x'; 17 * 1024 * 1024];
    let r = s.raw("GET", "/r/lobby/", Some(body), None, &[]).await;
    assert_eq!(r.status, 413);
}
