//! The cache of anonymous `messages/recent|before|since` answers (`src/api/message_cache.rs`):
//! after every change that alters an anonymous answer, the answer is the fresh one, byte for
//! byte what a server that never cached anything (a second state over the same database)
//! answers; authenticated callers never get cached answers; permission checks still run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use axum::body::Body;
use axum::http::Request;
use common::{b64, Server};
use serde_json::{json, Value};
use sotto_sogs::api::{self, AppState};
use sotto_sogs::keys::ServerKeys;
use sotto_sogs::store::{NewPost, Store};
use tower::ServiceExt as _;

/// The anonymous polls every test checks.
const POLLS: &[&str] = &[
    "/room/lobby/messages/recent",
    "/room/lobby/messages/recent?limit=2&reactors=1",
    "/room/lobby/messages/since/0",
    "/room/lobby/messages/since/0?t=r",
    "/room/lobby/messages/since/2?t=r",
    "/room/lobby/messages/before/3",
];

/// A second connection to the server's database, as another process (the admin CLI) has.
fn other_process(s: &Server) -> Store {
    Store::open_url(s.state.config()).unwrap()
}

/// `(status, body)` of an anonymous GET from a server state that has cached nothing.
async fn fresh(s: &Server, uri: &str) -> (u16, Vec<u8>) {
    let state = AppState::new(
        s.state.config().clone(),
        ServerKeys::generate(),
        other_process(s),
    );
    let req = Request::get(uri).body(Body::empty()).unwrap();
    let resp = api::router(state).oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body.to_vec())
}

/// `(status, body)` of an anonymous GET from the server under test.
async fn anon(s: &Server, uri: &str) -> (u16, Vec<u8>) {
    let r = s.req("GET", uri, None, None).await;
    (r.status, r.body)
}

/// Poll everything twice (the second answer may come from the cache) and compare with a
/// fresh server's answers.
async fn assert_fresh(s: &Server, what: &str) {
    for uri in POLLS {
        let expected = fresh(s, uri).await;
        for _ in 0..2 {
            let got = anon(s, uri).await;
            assert_eq!(
                got,
                expected,
                "{what}: {uri}: {} vs fresh {}",
                String::from_utf8_lossy(&got.1),
                String::from_utf8_lossy(&expected.1)
            );
        }
    }
}

/// Fill the cache with every poll of [`POLLS`].
async fn warm(s: &Server) {
    for uri in POLLS {
        assert_eq!(anon(s, uri).await.0, 200, "{uri}");
    }
}

fn ids(body: &[u8]) -> Vec<i64> {
    let v: Value = serde_json::from_slice(body).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

/// A room with three messages by `u`, ids returned.
async fn lobby(s: &Server, u: &common::TestUser) -> Vec<i64> {
    s.add_room("lobby");
    let mut out = Vec::new();
    for text in ["one", "two", "three"] {
        out.push(
            s.post("lobby", u, text.as_bytes()).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    out
}

#[tokio::test]
async fn repeated_anonymous_polls_are_served_from_the_cache_and_signed_ones_are_not() {
    let s = Server::new();
    let u = s.new_user();
    let ids_ = lobby(&s, &u).await;
    let first = anon(&s, "/room/lobby/messages/recent").await;
    assert_eq!(first.0, 200);
    assert_eq!(ids(&first.1), [ids_[2], ids_[1], ids_[0]]);

    // A change the triggers do not count (nothing in this server or PySOGS makes one): a cached
    // answer does not show it, which is how we know the cache answered. A signed request
    // always reads the database.
    s.state
        .store()
        .sql_execute(
            "UPDATE messages SET signature = ?1 WHERE id = ?2",
            &[vec![9u8; 64].into(), ids_[2].into()],
        )
        .unwrap();
    assert_eq!(anon(&s, "/room/lobby/messages/recent").await, first);
    let signed = s
        .req("GET", "/room/lobby/messages/recent", None, Some(&u))
        .await;
    assert_eq!(signed.status, 200);
    assert_eq!(signed.json()[0]["signature"], json!(b64(&[9u8; 64])));
    // Another question is not answered from the first one's entry.
    let two = anon(&s, "/room/lobby/messages/recent?limit=2").await;
    assert_eq!(ids(&two.1), [ids_[2], ids_[1]]);
    assert_eq!(
        serde_json::from_slice::<Value>(&two.1).unwrap()[0]["signature"],
        json!(b64(&[9u8; 64]))
    );
    // Query strings that parse to the same question share the answer.
    assert_eq!(
        anon(&s, "/room/lobby/messages/recent?limit=100&reactors=4").await,
        first
    );
}

#[tokio::test]
async fn new_posts_edits_and_deletions_are_seen() {
    let s = Server::new();
    let (u, m) = (s.new_user(), s.new_user());
    let ids_ = lobby(&s, &u).await;
    s.make_mod(&m, Some("lobby"), false);
    warm(&s).await;

    s.post("lobby", &u, b"four").await;
    assert_fresh(&s, "new post").await;

    let path = format!("/room/lobby/message/{}", ids_[1]);
    let edit = json!({"data": b64(b"two, edited"), "signature": b64(&[2u8; 64])});
    assert_eq!(s.json("PUT", &path, &edit, Some(&u)).await.status, 200);
    assert_fresh(&s, "edit").await;

    assert_eq!(s.req("DELETE", &path, None, Some(&m)).await.status, 200);
    assert_fresh(&s, "deletion").await;
    let since: Value = serde_json::from_slice(&anon(&s, POLLS[2]).await.1).unwrap();
    assert!(since
        .as_array()
        .unwrap()
        .iter()
        .all(|msg| msg["id"] != json!(ids_[1])));
    let recent = anon(&s, POLLS[0]).await;
    assert!(!ids(&recent.1).contains(&ids_[1]));

    // A whisper is a new message too, but anonymous callers never see it; its recipient does.
    let body = json!({"data": b64(b"psst"), "signature": b64(&[1u8; 64]), "whisper_to": u.id()});
    let w = s.json("POST", "/room/lobby/message", &body, Some(&m)).await;
    assert_eq!(w.status, 201, "{}", w.text());
    assert_fresh(&s, "whisper").await;
    let wid = w.json()["id"].as_i64().unwrap();
    assert!(!ids(&anon(&s, POLLS[0]).await.1).contains(&wid));
    let mine = s.req("GET", POLLS[0], None, Some(&u)).await;
    assert!(ids(&mine.body).contains(&wid));
}

#[tokio::test]
async fn reactions_are_seen() {
    let s = Server::new();
    let (u, v) = (s.new_user(), s.new_user());
    let ids_ = lobby(&s, &u).await;
    warm(&s).await;
    let thumbs = "%F0%9F%91%8D";
    let path = format!("/room/lobby/reaction/{}/{thumbs}", ids_[2]);
    assert_eq!(s.req("PUT", &path, None, Some(&v)).await.status, 200);
    assert_fresh(&s, "reaction added").await;
    let recent: Value = serde_json::from_slice(&anon(&s, POLLS[0]).await.1).unwrap();
    assert_eq!(recent[0]["reactions"]["👍"]["count"], json!(1));
    assert_eq!(recent[0]["reactions"]["👍"].get("you"), None);
    // The reactor's own view says `you`; the anonymous entry must not leak into it.
    let own = s.req("GET", POLLS[0], None, Some(&v)).await.json();
    assert_eq!(own[0]["reactions"]["👍"]["you"], json!(true));

    assert_eq!(s.req("DELETE", &path, None, Some(&v)).await.status, 200);
    assert_fresh(&s, "reaction removed").await;
    let recent: Value = serde_json::from_slice(&anon(&s, POLLS[0]).await.1).unwrap();
    assert_eq!(recent[0]["reactions"], json!({}));
}

#[tokio::test]
async fn writes_by_another_process_are_seen() {
    let s = Server::new();
    let u = s.new_user();
    let ids_ = lobby(&s, &u).await;
    let author = s.db_user(&u).id;
    let room = s.room("lobby").id;
    warm(&s).await;

    let mut other = other_process(&s);
    other
        .insert_post(
            &NewPost {
                room,
                user: author,
                data: b"from the cli",
                signature: &[3u8; 64],
                filtered: false,
                whisper: None,
                whisper_mods: false,
                now: 1.0e9,
            },
            &[],
            None,
        )
        .unwrap();
    assert_fresh(&s, "post by another process").await;
    other
        .sql_execute(
            "DELETE FROM message_details WHERE id = ?1",
            &[ids_[0].into()],
        )
        .unwrap();
    assert_fresh(&s, "deletion by another process").await;
    assert!(!ids(&anon(&s, POLLS[0]).await.1).contains(&ids_[0]));
}

#[tokio::test]
async fn a_room_recreated_under_the_same_token_and_id_is_seen() {
    let s = Server::new();
    let u = s.new_user();
    lobby(&s, &u).await;
    let old = s.room("lobby");
    // Make the old creation time unmistakable: the new room is created "now".
    s.state
        .store()
        .sql_execute(
            "UPDATE rooms SET created = 1000.0 WHERE id = ?1",
            &[old.id.into()],
        )
        .unwrap();
    warm(&s).await;
    let before = anon(&s, POLLS[0]).await;

    // Another process deletes and recreates the room; it gets the same id back (SQLite reuses
    // the largest rowid) and, after as many posts, the same message sequence.
    let mut other = other_process(&s);
    other.delete_room(&"lobby".parse().unwrap(), 0.0).unwrap();
    let new = other
        .add_room(&"lobby".parse().unwrap(), "Lobby again", None)
        .unwrap();
    if s.state.config().db_url.starts_with("sqlite") {
        assert_eq!(new.id, old.id, "the case this test is about");
    }
    let author = s.db_user(&u).id;
    for text in [&b"uno"[..], b"dos", b"tres"] {
        other
            .insert_post(
                &NewPost {
                    room: new.id,
                    user: author,
                    data: text,
                    signature: &[4u8; 64],
                    filtered: false,
                    whisper: None,
                    whisper_mods: false,
                    now: 2.0e9,
                },
                &[],
                None,
            )
            .unwrap();
    }
    assert_eq!(s.room("lobby").message_sequence, old.message_sequence);
    assert_fresh(&s, "recreated room").await;
    assert_ne!(anon(&s, POLLS[0]).await, before);
}

#[tokio::test]
async fn a_deleted_room_is_gone_and_an_unreadable_one_refuses() {
    let s = Server::new();
    let u = s.new_user();
    lobby(&s, &u).await;
    warm(&s).await;

    // Read permission is checked on every request, before the cache.
    s.state
        .store()
        .sql_execute("UPDATE rooms SET read = FALSE WHERE token = 'lobby'", &[])
        .unwrap();
    for uri in POLLS {
        let (status, body) = anon(&s, uri).await;
        assert_eq!(status, 403, "{uri}");
        assert_eq!(
            String::from_utf8_lossy(&body),
            "This endpoint requires room message 'read' permission"
        );
    }
    s.state
        .store()
        .sql_execute("UPDATE rooms SET read = TRUE WHERE token = 'lobby'", &[])
        .unwrap();
    assert_fresh(&s, "readable again").await;

    other_process(&s)
        .delete_room(&"lobby".parse().unwrap(), 0.0)
        .unwrap();
    for uri in POLLS {
        assert_eq!(anon(&s, uri).await.0, 404, "{uri}");
    }
}

#[tokio::test]
async fn pins_and_cleanup_leave_answers_fresh() {
    let s = Server::new();
    let (u, admin) = (s.new_user(), s.new_user());
    let ids_ = lobby(&s, &u).await;
    s.make_mod(&admin, Some("lobby"), true);
    warm(&s).await;

    // Pins are room metadata (`info_updates`), not part of message lists.
    let pin = format!("/room/lobby/pin/{}", ids_[0]);
    assert_eq!(
        s.json("POST", &pin, &json!({}), Some(&admin)).await.status,
        200
    );
    assert_fresh(&s, "pinned").await;
    // Deleting a pinned message unpins it and is a new sequence number.
    let path = format!("/room/lobby/message/{}", ids_[0]);
    assert_eq!(s.req("DELETE", &path, None, Some(&admin)).await.status, 200);
    assert_fresh(&s, "pinned message deleted").await;

    // The periodic cleanup prunes edit history, files, nonces: nothing in a message list.
    let retention = sotto_sogs::store::Retention {
        history: 0.0,
        activity_prune: 0.0,
        active_window: 0.0,
    };
    s.state.store().cleanup(f64::MAX, retention).unwrap();
    assert_fresh(&s, "after cleanup").await;
}

#[tokio::test]
async fn bad_requests_are_refused_even_when_a_default_answer_is_cached() {
    let s = Server::new();
    let u = s.new_user();
    lobby(&s, &u).await;
    warm(&s).await;
    for (uri, status) in [
        ("/room/lobby/messages/recent?limit=x", 400),
        ("/room/lobby/messages/recent?reactors=", 400),
        ("/room/lobby/messages/since/x", 404),
        ("/room/lobby/messages/before/-1", 404),
        ("/room/nosuchroom/messages/recent", 404),
        ("/room/lobby%20/messages/recent", 404),
    ] {
        let got = anon(&s, uri).await;
        assert_eq!(got.0, status, "{uri}");
        assert_eq!(got, fresh(&s, uri).await, "{uri}");
    }
}

#[tokio::test]
async fn anonymous_batch_polls_get_the_same_fresh_answers() {
    let s = Server::new();
    let u = s.new_user();
    lobby(&s, &u).await;
    let batch = json!([
        {"method": "GET", "path": "/room/lobby/messages/since/0?t=r"},
        {"method": "GET", "path": "/room/lobby/messages/recent"},
    ]);
    let first = s.json("POST", "/batch", &batch, None).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        s.json("POST", "/batch", &batch, None).await.body,
        first.body
    );
    s.post("lobby", &u, b"four").await;
    let again = s.json("POST", "/batch", &batch, None).await.json();
    let recent = again[1]["body"].as_array().unwrap();
    assert_eq!(recent.len(), 4);
    let (_, fresh_recent) = fresh(&s, "/room/lobby/messages/recent").await;
    assert_eq!(
        again[1]["body"],
        serde_json::from_slice::<Value>(&fresh_recent).unwrap()
    );
}
