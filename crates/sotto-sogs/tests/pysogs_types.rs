//! The differences from PySOGS that the side-by-side comparison (`tests/pysogs_fixture.rs`,
//! issue #8) found and that are now fixed, one test each.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{b64, Server};
use serde_json::json;

/// PySOGS on SQLite serves a stored message's `whisper_mods` column as 0/1; the answer to the
/// post itself has a boolean (it echoes the request).
#[tokio::test]
async fn stored_whisper_mods_is_an_integer() {
    let s = Server::new();
    s.add_room("lobby");
    let (m, u) = (s.new_user(), s.new_user());
    s.make_mod(&m, Some("lobby"), false);
    s.db_user(&u);
    let to_u = json!({"data": b64(b"to u"), "signature": b64(&[1u8; 64]), "whisper_to": u.id()});
    let posted = s.json("POST", "/room/lobby/message", &to_u, Some(&m)).await;
    assert_eq!(posted.status, 201, "{}", posted.text());
    assert_eq!(posted.json()["whisper_mods"], json!(false));
    let to_mods = json!({"data": b64(b"mods"), "signature": b64(&[2u8; 64]), "whisper_mods": true});
    let posted = s
        .json("POST", "/room/lobby/message", &to_mods, Some(&m))
        .await;
    assert_eq!(posted.json()["whisper_mods"], json!(true));

    let seen = s
        .req("GET", "/room/lobby/messages/since/0", None, Some(&m))
        .await
        .json();
    let flags: Vec<_> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|msg| msg["whisper_mods"].clone())
        .collect();
    assert_eq!(flags, vec![json!(0), json!(1)]);
    assert_eq!(seen[0]["whisper"], json!(true));
}

/// Werkzeug escapes the error page's description: `don't` is `don&#39;t`.
#[tokio::test]
async fn error_pages_escape_apostrophes_as_werkzeug() {
    let s = Server::new();
    s.add_room("lobby");
    let (u, other) = (s.new_user(), s.new_user());
    let body = json!({"rooms": ["lobby"], "moderator": true});
    let r = s
        .json(
            "POST",
            &format!("/user/{}/moderator", other.id()),
            &body,
            Some(&u),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.content_type(), "text/html; charset=utf-8");
    assert!(
        r.text().contains("<p>You don&#39;t have the permission"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains("don't"));
}

/// Werkzeug calls 413 "Request Entity Too Large" (RFC 9110: "Content Too Large").
#[tokio::test]
async fn too_large_page_has_werkzeugs_title() {
    let s = Server::with(|c| c.file_max_size = 100);
    s.add_room("lobby");
    let u = s.new_user();
    let r = s
        .req("POST", "/room/lobby/file", Some(vec![0u8; 101]), Some(&u))
        .await;
    assert_eq!(r.status, 413);
    assert!(
        r.text()
            .starts_with("<!doctype html>\n<html lang=en>\n<title>413 Request Entity Too Large</title>\n<h1>Request Entity Too Large</h1>"),
        "{}",
        r.text()
    );
}

/// Appointing a moderator in several rooms is all or nothing: a room where the user is banned
/// (a banned user cannot be a moderator) fails the request and undoes the other rooms, as
/// PySOGS's request transaction does.
#[tokio::test]
async fn moderator_in_all_rooms_is_all_or_nothing() {
    let s = Server::new();
    s.add_room("aaa");
    s.add_room("zzz");
    let (admin, target) = (s.new_user(), s.new_user());
    s.make_mod(&admin, None, true);
    s.db_user(&target);
    let ban = json!({"rooms": ["zzz"]});
    let r = s
        .json(
            "POST",
            &format!("/user/{}/ban", target.id()),
            &ban,
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let before = s.room("aaa").info_updates;

    let body = json!({"rooms": ["*"], "moderator": true});
    let r = s
        .json(
            "POST",
            &format!("/user/{}/moderator", target.id()),
            &body,
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 500, "{}", r.text());
    let info = s.req("GET", "/room/aaa", None, Some(&admin)).await.json();
    assert_eq!(info["moderators"], json!([]), "{info}");
    assert_eq!(s.room("aaa").info_updates, before);
}
