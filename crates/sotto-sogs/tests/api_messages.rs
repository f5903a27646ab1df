//! Messages (`sogs.md` §1.3): post, poll, edit, delete, whispers, rate limit, reactions, pins.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{b64, unb64, Server};
use serde_json::{json, Value};
use sotto_sogs::store::Permissions;

fn padded(text: &str, size: usize) -> Vec<u8> {
    let mut v = text.as_bytes().to_vec();
    v.push(0x80);
    v.resize(size, 0);
    v
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn post_and_fetch_every_way() {
    let s = Server::new();
    s.add_room("lobby");
    let u = s.new_user();
    let data = padded("hello", 40);
    let m = s.post("lobby", &u, &data).await;
    assert_eq!(m["session_id"], json!(u.id()));
    assert_eq!(m["seqno"], json!(1));
    assert_eq!(m["reactions"], json!({}));
    assert!(m["posted"].is_f64());
    assert_eq!(unb64(m["data"].as_str().unwrap()), data);
    assert_eq!(unb64(m["signature"].as_str().unwrap()), vec![7u8; 64]);
    // Stored unpadded, with the padded size.
    let (len, size): (i64, i64) = s
        .state
        .store()
        .sql_query_row("SELECT length(data), data_size FROM messages", &[], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((len, size), (5, 40));

    let m2 = s.post("lobby", &u, &padded("second", 16)).await;
    let m3 = s.post("lobby", &u, b"unpadded\x00").await;
    let (id1, id2, id3) = (
        m["id"].as_i64().unwrap(),
        m2["id"].as_i64().unwrap(),
        m3["id"].as_i64().unwrap(),
    );

    let r = s
        .req("GET", "/room/lobby/messages/recent", None, None)
        .await;
    assert_eq!(r.status, 200);
    let list = r.json();
    assert_eq!(ids(&list), [id3, id2, id1]);
    assert_eq!(unb64(list[0]["data"].as_str().unwrap()), b"unpadded\x00");
    assert_eq!(unb64(list[2]["data"].as_str().unwrap()), data);

    let r = s
        .req("GET", "/room/lobby/messages/recent?limit=2", None, None)
        .await;
    assert_eq!(ids(&r.json()), [id3, id2]);
    let r = s
        .req("GET", "/room/lobby/messages/recent?limit=0", None, None)
        .await;
    assert_eq!(ids(&r.json()), [id3], "limit is clamped to 1");
    let r = s
        .req("GET", "/room/lobby/messages/recent?limit=x", None, None)
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .req(
            "GET",
            &format!("/room/lobby/messages/before/{id3}"),
            None,
            None,
        )
        .await;
    assert_eq!(ids(&r.json()), [id2, id1]);
    let r = s
        .req("GET", "/room/lobby/messages/since/1", None, None)
        .await;
    assert_eq!(ids(&r.json()), [id2, id3]);
    let r = s
        .req("GET", &format!("/room/lobby/message/{id2}"), None, None)
        .await;
    assert_eq!(r.json()["id"], json!(id2));
    assert_eq!(
        s.req("GET", "/room/lobby/message/999", None, None)
            .await
            .status,
        404
    );
    assert_eq!(
        s.req("GET", "/room/lobby/message/-1", None, None)
            .await
            .status,
        404
    );
    assert_eq!(
        s.req("GET", "/room/nope/messages/recent", None, None)
            .await
            .status,
        404
    );
    // Message ids are global: the message is not in another room.
    s.add_room("other");
    assert_eq!(
        s.req("GET", &format!("/room/other/message/{id1}"), None, None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn post_errors() {
    let s = Server::new();
    let room = s.add_room("lobby");
    let u = s.new_user();
    let good = json!({"data": b64(b"x"), "signature": b64(&[1u8; 64])});

    let r = s.json("POST", "/room/lobby/message", &good, None).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (401, "X-SOGS-* request authentication required")
    );
    let r = s.json("POST", "/room/nope/message", &good, Some(&u)).await;
    assert_eq!(r.status, 404);
    let r = s
        .req(
            "POST",
            "/room/lobby/message",
            Some(b"{oops".to_vec()),
            Some(&u),
        )
        .await;
    assert_eq!(r.status, 400);
    for bad in [
        json!({"data": b64(b"x"), "signature": b64(&[1u8; 63])}),
        json!({"data": "!!!", "signature": b64(&[1u8; 64])}),
        json!({"signature": b64(&[1u8; 64])}),
    ] {
        let r = s.json("POST", "/room/lobby/message", &bad, Some(&u)).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    // Whispers are for moderators.
    let mut w = good.clone();
    w["whisper_mods"] = json!(true);
    let r = s.json("POST", "/room/lobby/message", &w, Some(&u)).await;
    assert_eq!((r.status, r.text().as_str()), (403, "Permission denied"));
    // No write permission.
    let uid = s.db_user(&u).id;
    s.state
        .store()
        .set_user_permissions(
            room.id,
            uid,
            &Permissions {
                write: Some(Some(false)),
                ..Permissions::default()
            },
        )
        .unwrap();
    let r = s.json("POST", "/room/lobby/message", &good, Some(&u)).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn rate_limit_five_posts_per_16_seconds() {
    let s = Server::new();
    s.add_room("lobby");
    let (u, admin) = (s.new_user(), s.new_user());
    s.make_mod(&admin, Some("lobby"), true);
    for i in 0..5 {
        s.post("lobby", &u, format!("m{i}").as_bytes()).await;
    }
    let body = json!({"data": b64(b"six"), "signature": b64(&[1u8; 64])});
    let r = s.json("POST", "/room/lobby/message", &body, Some(&u)).await;
    assert_eq!((r.status, r.text().as_str()), (429, "Rate limited"));
    // Other rooms are separate; admins are exempt.
    s.add_room("other");
    s.post("other", &u, b"ok").await;
    for i in 0..7 {
        s.post("lobby", &admin, format!("a{i}").as_bytes()).await;
    }
    // The count is answered from the server's own index (`SERVER_INDEXES`), not by reading
    // every recent message of the room.
    if let Some(conn) = s.state.store().connection() {
        let plan: Vec<String> = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM messages
                 WHERE room = 1 AND \"user\" = 2 AND posted >= 3.0",
            )
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            plan,
            ["SEARCH messages USING COVERING INDEX sotto_messages_room_user_posted (room=? AND user=? AND posted>?)"]
        );
    }
    // Testing mode turns it off.
    let t = Server::with(|c| c.testing = true);
    t.add_room("lobby");
    let u = t.new_user();
    for i in 0..7 {
        t.post("lobby", &u, format!("m{i}").as_bytes()).await;
    }
}

#[tokio::test]
async fn edit_and_delete() {
    let s = Server::new();
    s.add_room("lobby");
    let (u, other, m) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&m, Some("lobby"), false);
    let id = s.post("lobby", &u, b"v1").await["id"].as_i64().unwrap();
    let path = format!("/room/lobby/message/{id}");
    let edit = json!({"data": b64(&padded("v2", 8)), "signature": b64(&[2u8; 64])});

    assert_eq!(s.json("PUT", &path, &edit, None).await.status, 401);
    let r = s.json("PUT", &path, &edit, Some(&other)).await;
    assert_eq!((r.status, r.text().as_str()), (403, "Permission denied"));
    let r = s
        .json("PUT", "/room/lobby/message/999", &edit, Some(&u))
        .await;
    assert_eq!((r.status, r.text().as_str()), (404, "No such post: 999"));
    let r = s
        .json("PUT", &path, &json!({"data": b64(b"x")}), Some(&u))
        .await;
    assert_eq!(r.status, 400);
    let r = s.json("PUT", &path, &edit, Some(&u)).await;
    assert_eq!((r.status, r.json()), (200, json!({})));

    let msg = s.req("GET", &path, None, None).await.json();
    assert_eq!(unb64(msg["data"].as_str().unwrap()), padded("v2", 8));
    assert!(msg["edited"].is_f64());
    assert_eq!(msg["seqno"], json!(2));
    let since = s
        .req("GET", "/room/lobby/messages/since/1", None, None)
        .await
        .json();
    assert_eq!(ids(&since), [id]);

    // Delete: others may not, moderators may.
    let r = s.req("DELETE", &path, None, Some(&other)).await;
    assert_eq!((r.status, r.text().as_str()), (403, "Permission denied"));
    let r = s.req("DELETE", &path, None, Some(&m)).await;
    assert_eq!((r.status, r.json()), (200, json!({})));
    assert_eq!(s.req("DELETE", &path, None, Some(&m)).await.status, 404);
    assert_eq!(s.req("GET", &path, None, None).await.status, 404);
    // Pollers that saw it get a deletion row; new pollers do not.
    let since = s
        .req("GET", "/room/lobby/messages/since/1", None, None)
        .await
        .json();
    assert_eq!(since.as_array().unwrap().len(), 1);
    let d = &since[0];
    assert_eq!(d["deleted"], json!(true));
    assert_eq!(d["data"], Value::Null);
    assert!(d.get("signature").is_none() && d.get("reactions").is_none());
    let since = s
        .req("GET", "/room/lobby/messages/since/0", None, None)
        .await
        .json();
    assert_eq!(since, json!([]));
    // Own messages can be deleted by their author.
    let id = s.post("lobby", &u, b"mine").await["id"].as_i64().unwrap();
    let r = s
        .req(
            "DELETE",
            &format!("/room/lobby/message/{id}"),
            None,
            Some(&u),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn whispers_visibility() {
    let s = Server::new();
    s.add_room("lobby");
    let (m, u, other) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&m, Some("lobby"), false);
    s.db_user(&other);
    let body = json!({"data": b64(b"psst"), "signature": b64(&[1u8; 64]), "whisper_to": u.id()});
    let r = s.json("POST", "/room/lobby/message", &body, Some(&m)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let w = r.json();
    assert_eq!(w["whisper"], json!(true));
    assert_eq!(w["whisper_mods"], json!(false));
    assert_eq!(w["whisper_to"], json!(u.id()));
    let body = json!({"data": b64(b"mods"), "signature": b64(&[1u8; 64]), "whisper_mods": true});
    assert_eq!(
        s.json("POST", "/room/lobby/message", &body, Some(&m))
            .await
            .status,
        201
    );

    let count = |v: Value| v.as_array().unwrap().len();
    let recent = "/room/lobby/messages/recent";
    assert_eq!(count(s.req("GET", recent, None, None).await.json()), 0);
    assert_eq!(
        count(s.req("GET", recent, None, Some(&other)).await.json()),
        0
    );
    assert_eq!(count(s.req("GET", recent, None, Some(&u)).await.json()), 1);
    assert_eq!(count(s.req("GET", recent, None, Some(&m)).await.json()), 2);
}

#[tokio::test]
async fn reactions_and_reactors() {
    let s = Server::new();
    s.add_room("lobby");
    let (u, v, m) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&m, Some("lobby"), false);
    let id = s.post("lobby", &u, b"react to me").await["id"]
        .as_i64()
        .unwrap();
    let seq0 = s.room("lobby").message_sequence;

    let thumbs = "%F0%9F%91%8D"; // 👍
    let react_path = format!("/room/lobby/reaction/{id}/{thumbs}");
    let put = |who| s.req("PUT", &react_path, None, Some(who));
    let r = put(&u).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"added": true, "seqno": seq0 + 1}));
    assert_eq!(
        put(&u).await.json(),
        json!({"added": false, "seqno": seq0 + 1})
    );
    assert_eq!(put(&v).await.json()["added"], json!(true));
    // A reaction with a slash in it.
    let r = s
        .req(
            "PUT",
            &format!("/room/lobby/reaction/{id}/y/n"),
            None,
            Some(&v),
        )
        .await;
    assert_eq!(r.json()["added"], json!(true));

    let msg = s
        .req(
            "GET",
            &format!("/room/lobby/message/{id}?reactors=1"),
            None,
            Some(&u),
        )
        .await
        .json();
    assert_eq!(
        msg["reactions"],
        json!({
            "👍": {"index": 0, "count": 2, "you": true, "reactors": [u.id()]},
            "y/n": {"index": 1, "count": 1, "reactors": [v.id()]},
        })
    );
    let msg = s
        .req(
            "GET",
            &format!("/room/lobby/message/{id}?reactors=0"),
            None,
            None,
        )
        .await
        .json();
    assert_eq!(msg["reactions"]["👍"], json!({"index": 0, "count": 2}));

    // Reaction-only updates with t=r.
    let since = format!("/room/lobby/messages/since/{seq0}");
    assert_eq!(s.req("GET", &since, None, None).await.json(), json!([]));
    let upd = s
        .req("GET", &format!("{since}?t=r"), None, None)
        .await
        .json();
    assert_eq!(upd.as_array().unwrap().len(), 1);
    assert_eq!(upd[0]["id"], json!(id));
    assert!(upd[0].get("data").is_none());
    assert_eq!(upd[0]["reactions"]["y/n"]["count"], json!(1));

    let reactors = s
        .req(
            "GET",
            &format!("/room/lobby/reactors/{id}/{thumbs}"),
            None,
            None,
        )
        .await
        .json();
    assert_eq!(reactors.as_array().unwrap().len(), 2);
    assert_eq!(reactors[0][0], json!(u.id()));
    assert!(reactors[0][1].is_f64());
    let reactors = s
        .req(
            "GET",
            &format!("/room/lobby/reactors/{id}/{thumbs}?limit=1"),
            None,
            None,
        )
        .await
        .json();
    assert_eq!(reactors.as_array().unwrap().len(), 1);

    // Errors.
    assert_eq!(
        s.req("PUT", &format!("/room/lobby/reaction/{id}/x"), None, None)
            .await
            .status,
        401
    );
    let long = "a".repeat(13);
    let r = s
        .req(
            "PUT",
            &format!("/room/lobby/reaction/{id}/{long}"),
            None,
            Some(&u),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .req("PUT", "/room/lobby/reaction/999/x", None, Some(&u))
        .await;
    assert_eq!((r.status, r.text().as_str()), (404, "No such post: 999"));

    // Removal.
    let r = s
        .req(
            "DELETE",
            &format!("/room/lobby/reaction/{id}/{thumbs}"),
            None,
            Some(&u),
        )
        .await;
    assert_eq!(r.json()["removed"], json!(true));
    let r = s
        .req(
            "DELETE",
            &format!("/room/lobby/reaction/{id}/{thumbs}"),
            None,
            Some(&u),
        )
        .await;
    assert_eq!(r.json()["removed"], json!(false));
    let r = s
        .req(
            "DELETE",
            &format!("/room/lobby/reactions/{id}"),
            None,
            Some(&u),
        )
        .await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (403, "This endpoint requires moderator room permissions")
    );
    let r = s
        .req(
            "DELETE",
            &format!("/room/lobby/reactions/{id}/y/n"),
            None,
            Some(&m),
        )
        .await;
    assert_eq!(r.json()["removed"], json!(1));
    let r = s
        .req(
            "DELETE",
            &format!("/room/lobby/reactions/{id}"),
            None,
            Some(&m),
        )
        .await;
    assert_eq!(r.json()["removed"], json!(1));
    let msg = s
        .req("GET", &format!("/room/lobby/message/{id}"), None, None)
        .await
        .json();
    assert_eq!(msg["reactions"], json!({}));
}

#[tokio::test]
async fn pins() {
    let s = Server::new();
    s.add_room("lobby");
    let (admin, m) = (s.new_user(), s.new_user());
    s.make_mod(&admin, Some("lobby"), true);
    s.make_mod(&m, Some("lobby"), false);
    let a = s.post("lobby", &m, b"first").await["id"].as_i64().unwrap();
    let b = s.post("lobby", &m, b"second").await["id"].as_i64().unwrap();
    let before = s.room("lobby").info_updates;

    let r = s
        .json(
            "POST",
            &format!("/room/lobby/pin/{a}"),
            &json!({}),
            Some(&m),
        )
        .await;
    assert_eq!((r.status, r.text().as_str()), (403, "Permission denied"));
    let r = s
        .json("POST", &format!("/room/lobby/pin/{a}"), &json!({}), None)
        .await;
    assert_eq!(r.status, 403);
    let r = s
        .json(
            "POST",
            &format!("/room/lobby/pin/{a}"),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!({"info_updates": before + 1}))
    );
    s.json(
        "POST",
        &format!("/room/lobby/pin/{b}"),
        &json!({}),
        Some(&admin),
    )
    .await;
    let r = s
        .json("POST", "/room/lobby/pin/999", &json!({}), Some(&admin))
        .await;
    assert_eq!(r.status, 404);
    let info = s.req("GET", "/room/lobby", None, None).await.json();
    let pinned = info["pinned_messages"].as_array().unwrap();
    assert_eq!(pinned.len(), 2);
    assert_eq!(pinned[0]["id"], json!(a));
    assert_eq!(pinned[0]["pinned_by"], json!(admin.id()));
    assert!(pinned[0]["pinned_at"].is_f64());

    let r = s
        .json(
            "POST",
            &format!("/room/lobby/unpin/{a}"),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.json()["unpinned"], json!(true));
    let r = s
        .json(
            "POST",
            &format!("/room/lobby/unpin/{a}"),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.json()["unpinned"], json!(false));
    let r = s
        .json("POST", "/room/lobby/unpin/all", &json!({}), Some(&admin))
        .await;
    assert_eq!(r.json()["unpinned"], json!(1));
    let info = s.req("GET", "/room/lobby", None, None).await.json();
    assert!(info.get("pinned_messages").is_none());
}

#[tokio::test]
async fn delete_all_posts_of_a_user() {
    let s = Server::new();
    s.add_room("lobby");
    s.add_room("other");
    let (u, m, g) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&m, Some("lobby"), false);
    s.make_mod(&g, None, false);
    s.post("lobby", &u, b"1").await;
    s.post("lobby", &u, b"2").await;
    s.post("other", &u, b"3").await;

    let path = format!("/room/lobby/all/{}", u.id());
    let stranger = s.new_user();
    let r = s.req("DELETE", &path, None, Some(&stranger)).await;
    assert_eq!((r.status, r.text().as_str()), (403, "Permission denied"));
    let r = s.req("DELETE", &path, None, Some(&m)).await;
    assert_eq!((r.status, r.json()), (200, json!({})));
    assert_eq!(s.req("DELETE", &path, None, Some(&m)).await.status, 404);
    let r = s
        .req(
            "DELETE",
            &format!("/room/lobby/all/{}", s.new_user().id()),
            None,
            Some(&m),
        )
        .await;
    assert_eq!(r.status, 404);

    s.post("lobby", &u, b"4").await;
    let r = s
        .req("DELETE", &format!("/rooms/all/{}", u.id()), None, Some(&m))
        .await;
    assert_eq!(r.json(), json!({"total": 1, "rooms": {"lobby": 1}}));
    let r = s
        .req("DELETE", &format!("/rooms/all/{}", u.id()), None, Some(&g))
        .await;
    assert_eq!(
        r.json(),
        json!({"total": 1, "rooms": {"lobby": 0, "other": 1}})
    );
}
