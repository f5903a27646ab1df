//! The automation API (Bearer tokens): dispatch beside the PySOGS API, token checks, room,
//! message, ban, file routes and the OpenAPI document, with bad and unauthorised input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{b64, unb64, Resp, Server, TestUser};
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use prost::Message as _;
use serde_json::{json, Value};
use sotto_message::proto::Content;
use sotto_sogs::api::automation::{generate_token, OPENAPI_PATH};
use sotto_sogs::store::ApiToken;
use zeroize::Zeroizing;

/// Store a token directly (the CLI path is tested in `cli_automation.rs`).
fn token(server: &Server, name: &str, admin: bool, rooms: Option<&[&str]>) -> String {
    let (token, hash) = generate_token();
    let mut seed = Zeroizing::new([0u8; 32]);
    seed[0] = name.len() as u8;
    seed[1..1 + name.len().min(31)].copy_from_slice(&name.as_bytes()[..name.len().min(31)]);
    let row = ApiToken {
        name: name.to_owned(),
        admin,
        rooms: rooms.map(|r| r.iter().map(|s| (*s).to_owned()).collect()),
        bot_seed: seed,
        created: 0.0,
        revoked: None,
    };
    assert!(server
        .state
        .store()
        .add_api_token(name, &hash, &row)
        .unwrap());
    token
}

async fn call(server: &Server, method: &str, uri: &str, body: Option<Value>, token: &str) -> Resp {
    let auth = format!("Bearer {token}");
    server
        .raw(
            method,
            uri,
            body.map(|b| serde_json::to_vec(&b).unwrap()),
            None,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
        )
        .await
}

fn error_of(resp: &Resp) -> String {
    resp.json()["error"].as_str().unwrap().to_owned()
}

/// A padded visible message as a Session client posts it.
fn client_post(text: &str) -> Vec<u8> {
    sotto_message::padding::pad(&Content::text(text).encode_to_vec())
}

#[tokio::test]
async fn missing_wrong_and_revoked_tokens_get_401() {
    let server = Server::new();
    server.add_room("lobby");
    let good = token(&server, "bot", true, None);
    for (auth, why) in [
        ("Bearer", "empty"),
        ("Bearer ", "blank"),
        ("Bearer sotto_nottherightone", "wrong"),
        ("bearer AAAA", "wrong, lower-case scheme"),
    ] {
        for (method, uri) in [
            ("GET", "/room/lobby"),
            ("POST", "/ban"),
            ("GET", "/no/such/route"),
        ] {
            let resp = server
                .raw(method, uri, None, None, &[("authorization", auth)])
                .await;
            assert_eq!(resp.status, 401, "{why} {method} {uri}: {}", resp.text());
            assert!(resp.headers.contains_key("www-authenticate"));
            assert!(!error_of(&resp).is_empty());
        }
    }
    let ok = call(&server, "GET", "/room/lobby", None, &good).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    // A token with its last character changed is a different token.
    let mut tampered = good.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        call(&server, "GET", "/room/lobby", None, &tampered)
            .await
            .status,
        401
    );
    // Revocation applies to the very next request, on the same running state.
    assert!(server.state.store().revoke_api_token("bot", 1.0).unwrap());
    let replay = call(&server, "GET", "/room/lobby", None, &good).await;
    assert_eq!(replay.status, 401);
    assert!(error_of(&replay).contains("revoked"));
}

#[tokio::test]
async fn room_limited_and_non_admin_tokens_get_403() {
    let server = Server::new();
    server.add_room("mine");
    server.add_room("other");
    let limited = token(&server, "limited", false, Some(&["mine"]));
    let limited_admin = token(&server, "limited-admin", true, Some(&["mine"]));
    let plain = token(&server, "plain", false, None);

    assert_eq!(
        call(&server, "GET", "/room/mine", None, &limited)
            .await
            .status,
        200
    );
    // Case-insensitive, as room tokens are.
    assert_eq!(
        call(&server, "GET", "/room/MINE", None, &limited)
            .await
            .status,
        200
    );
    let msg = json!({"text": "hi"});
    let ban = json!({"session_id": format!("05{}", "ab".repeat(32))});
    for (method, uri, body) in [
        ("GET", "/room/other", None),
        ("PUT", "/room/other", Some(json!({"name": "x"}))),
        ("POST", "/room/other/message", Some(msg.clone())),
        ("GET", "/room/other/messages", None),
        ("DELETE", "/room/other/message/1", None),
        ("POST", "/room/other/ban", Some(ban.clone())),
        ("GET", "/room/other/bans", None),
        ("POST", "/room/other/upload", None),
        // Rooms that do not exist are refused the same way: nothing leaks.
        ("GET", "/room/nosuch", None),
    ] {
        for t in [&limited, &limited_admin] {
            let resp = call(&server, method, uri, body.clone(), t).await;
            assert_eq!(resp.status, 403, "{method} {uri}: {}", resp.text());
        }
    }
    // Server-wide routes need an admin token that is not limited to some rooms.
    for t in [&limited, &limited_admin, &plain] {
        for (method, uri, body) in [
            ("POST", "/room", Some(json!({"token": "new"}))),
            ("DELETE", "/room/mine", None),
            ("POST", "/ban", Some(ban.clone())),
        ] {
            let resp = call(&server, method, uri, body, t).await;
            assert_eq!(resp.status, 403, "{method} {uri}: {}", resp.text());
        }
    }
    assert!(server
        .state
        .store()
        .room(&"mine".parse().unwrap())
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn requests_without_bearer_keep_pysogs_behaviour() {
    let server = Server::new();
    server.add_room("lobby");
    let t = token(&server, "bot", true, None);
    let user = server.new_user();
    // Same path, both APIs: PySOGS's room info has `read`; ours has `default_read`.
    let pysogs = server.req("GET", "/room/lobby", None, Some(&user)).await;
    assert_eq!(pysogs.status, 200);
    assert!(pysogs.json().get("read").is_some());
    assert!(pysogs.json().get("default_read").is_none());
    let ours = call(&server, "GET", "/room/lobby", None, &t).await;
    assert!(ours.json().get("default_read").is_some());
    // Another Authorization scheme is not ours: PySOGS handles the request.
    let basic = server
        .raw(
            "GET",
            "/room/lobby",
            None,
            None,
            &[("authorization", "Basic dXNlcjpwYXNz")],
        )
        .await;
    assert_eq!(basic.status, 200);
    assert!(basic.json().get("read").is_some());
    // PySOGS-only routes are not reachable with a Bearer token.
    let caps = call(&server, "GET", "/capabilities", None, &t).await;
    assert_eq!(caps.status, 404);
    // Automation-only routes are not reachable without one.
    let none = server.raw("GET", "/room/lobby/bans", None, None, &[]).await;
    assert_eq!(none.status, 404);
    assert!(none.content_type().starts_with("text/html"));
}

#[tokio::test]
async fn create_update_and_delete_rooms() {
    let server = Server::new();
    let admin = token(&server, "admin", true, None);
    let created = call(
        &server,
        "POST",
        "/room",
        Some(json!({"token": "news", "name": "News", "description": "Daily news"})),
        &admin,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let room = created.json();
    assert_eq!(room["token"], "news");
    assert_eq!(room["name"], "News");
    assert_eq!(room["description"], "Daily news");
    assert_eq!(room["default_read"], true);
    assert_eq!(room["default_write"], true);

    // Readable and writable by default: an ordinary user posts through the PySOGS API.
    let user = server.new_user();
    server.post("news", &user, &client_post("hello")).await;

    let dup = call(
        &server,
        "POST",
        "/room",
        Some(json!({"token": "NEWS"})),
        &admin,
    )
    .await;
    assert_eq!(dup.status, 409);
    for bad in [
        json!({}),
        json!({"token": ""}),
        json!({"token": "has space"}),
        json!({"token": "a".repeat(65)}),
        json!({"token": 5}),
        json!({"token": "ok", "name": ""}),
        json!({"token": "ok", "name": 7}),
        json!({"token": "ok", "name": "n".repeat(101)}),
        json!(["token", "ok"]),
    ] {
        let resp = call(&server, "POST", "/room", Some(bad.clone()), &admin).await;
        assert_eq!(resp.status, 400, "{bad}: {}", resp.text());
    }
    let raw = server
        .raw(
            "POST",
            "/room",
            Some(b"{not json".to_vec()),
            None,
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await;
    assert_eq!(raw.status, 400);
    let huge = json!({"token": "big", "description": "d".repeat(70_000)});
    assert_eq!(
        call(&server, "POST", "/room", Some(huge), &admin)
            .await
            .status,
        413
    );
    assert!(server
        .state
        .store()
        .room(&"ok".parse().unwrap())
        .unwrap()
        .is_none());

    let updated = call(
        &server,
        "PUT",
        "/room/news",
        Some(json!({"name": "World news"})),
        &admin,
    )
    .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json()["name"], "World news");
    assert_eq!(updated.json()["description"], "Daily news");
    let cleared = call(
        &server,
        "PUT",
        "/room/news",
        Some(json!({"description": null})),
        &admin,
    )
    .await;
    assert_eq!(cleared.json()["description"], Value::Null);
    assert_eq!(server.room("news").name, "World news");
    for bad in [
        json!({"name": ""}),
        json!({"name": ["x"]}),
        json!({"description": 3}),
    ] {
        let resp = call(&server, "PUT", "/room/news", Some(bad), &admin).await;
        assert_eq!(resp.status, 400);
    }
    assert_eq!(
        call(
            &server,
            "PUT",
            "/room/nosuch",
            Some(json!({"name": "x"})),
            &admin
        )
        .await
        .status,
        404
    );

    let deleted = call(&server, "DELETE", "/room/news", None, &admin).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json()["messages"], 1);
    assert_eq!(
        call(&server, "GET", "/room/news", None, &admin)
            .await
            .status,
        404
    );
    assert_eq!(
        call(&server, "DELETE", "/room/news", None, &admin)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn bot_posts_are_signed_session_messages() {
    let server = Server::new();
    server.add_room("lobby");
    let t = token(&server, "Announcer", false, None);
    let resp = call(
        &server,
        "POST",
        "/room/lobby/message",
        Some(json!({"text": "Hello from the bot"})),
        &t,
    )
    .await;
    assert_eq!(resp.status, 201, "{}", resp.text());
    let posted = resp.json();
    let author = posted["author"].as_str().unwrap().to_owned();
    // The server requires blinded IDs, so the bot posts as a blinded (15) account.
    assert!(author.starts_with("15") && author.len() == 66, "{author}");
    assert_eq!(posted["text"], "Hello from the bot");

    // What a Session client sees through the PySOGS API: a normal post, signed by its author.
    let user = server.new_user();
    let recent = server
        .req("GET", "/room/lobby/messages/recent", None, Some(&user))
        .await;
    let msg = &recent.json()[0];
    assert_eq!(msg["session_id"], author.as_str());
    let data = unb64(msg["data"].as_str().unwrap());
    let signature = unb64(msg["signature"].as_str().unwrap());
    let key: [u8; 32] = hex::decode(&author[2..]).unwrap().try_into().unwrap();
    VerifyingKey::from_bytes(&key)
        .unwrap()
        .verify(&data, &Signature::from_slice(&signature).unwrap())
        .expect("the bot's signature verifies under its blinded key");
    assert_eq!(data.len() % sotto_message::padding::PADDING_BLOCK, 0);
    let content = Content::decode(sotto_message::padding::unpad(&data)).unwrap();
    let dm = content.data_message.unwrap();
    assert_eq!(dm.body.as_deref(), Some("Hello from the bot"));
    assert_eq!(
        dm.profile.unwrap().display_name.as_deref(),
        Some("Announcer")
    );

    // The same token always posts as the same account.
    let again = call(
        &server,
        "POST",
        "/room/lobby/message",
        Some(json!({"text": "again"})),
        &t,
    )
    .await;
    assert_eq!(again.json()["author"], author.as_str());

    for bad in [
        json!({}),
        json!({"text": ""}),
        json!({"text": "   "}),
        json!({"text": 12}),
        json!({"text": "x".repeat(2001)}),
        json!("text"),
    ] {
        let resp = call(
            &server,
            "POST",
            "/room/lobby/message",
            Some(bad.clone()),
            &t,
        )
        .await;
        assert_eq!(resp.status, 400, "{bad}");
    }
    assert_eq!(
        call(
            &server,
            "POST",
            "/room/nosuch/message",
            Some(json!({"text": "x"})),
            &t
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn bot_posts_unblinded_when_blinding_is_off() {
    let server = Server::with(|c| c.require_blind_keys = false);
    server.add_room("lobby");
    let t = token(&server, "bot", false, None);
    let resp = call(
        &server,
        "POST",
        "/room/lobby/message",
        Some(json!({"text": "hi"})),
        &t,
    )
    .await;
    assert_eq!(resp.status, 201);
    assert!(resp.json()["author"].as_str().unwrap().starts_with("05"));
}

#[tokio::test]
async fn list_messages_decoded() {
    let server = Server::new();
    server.add_room("lobby");
    let t = token(&server, "bot", false, None);
    let user = server.new_user();
    let first = server.post("lobby", &user, &client_post("first")).await;
    let garbage = server.post("lobby", &user, &[0xff, 0x13, 0x37]).await;
    let third = server.post("lobby", &user, &client_post("third")).await;
    let bot = call(
        &server,
        "POST",
        "/room/lobby/message",
        Some(json!({"text": "from bot"})),
        &t,
    )
    .await
    .json();
    // A deleted message stays listed, with no text.
    let del = server
        .req(
            "DELETE",
            &format!("/room/lobby/message/{}", third["id"]),
            None,
            Some(&user),
        )
        .await;
    assert_eq!(del.status, 200);

    let all = call(&server, "GET", "/room/lobby/messages", None, &t)
        .await
        .json();
    let list = all.as_array().unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(list[0]["id"], first["id"]);
    assert_eq!(list[0]["text"], "first");
    assert_eq!(list[0]["author"], user.id().as_str());
    assert!(list[0]["posted"].as_f64().unwrap() > 0.0);
    assert_eq!(list[1]["id"], garbage["id"]);
    assert_eq!(list[1]["text"], Value::Null);
    assert_eq!(list[2]["text"], Value::Null);
    assert_eq!(list[3]["text"], "from bot");
    assert_eq!(list[3]["author"], bot["author"]);

    let since = call(
        &server,
        "GET",
        &format!("/room/lobby/messages?since={}", garbage["id"]),
        None,
        &t,
    )
    .await
    .json();
    let ids: Vec<&Value> = since.as_array().unwrap().iter().map(|m| &m["id"]).collect();
    assert_eq!(ids, vec![&third["id"], &bot["id"]]);
    let limited = call(&server, "GET", "/room/lobby/messages?limit=1", None, &t)
        .await
        .json();
    assert_eq!(limited.as_array().unwrap().len(), 1);
    for q in [
        "since=abc",
        "since=1.5",
        "limit=",
        "limit=99999999999999999999",
    ] {
        let resp = call(
            &server,
            "GET",
            &format!("/room/lobby/messages?{q}"),
            None,
            &t,
        )
        .await;
        assert_eq!(resp.status, 400, "{q}");
    }
}

#[tokio::test]
async fn delete_messages() {
    let server = Server::new();
    server.add_room("lobby");
    server.add_room("other");
    let t = token(&server, "bot", false, None);
    let user = server.new_user();
    let msg = server.post("lobby", &user, &client_post("spam")).await;
    let uri = format!("/room/lobby/message/{}", msg["id"]);
    // The message is in `lobby`, not in `other`.
    let wrong_room = format!("/room/other/message/{}", msg["id"]);
    assert_eq!(
        call(&server, "DELETE", &wrong_room, None, &t).await.status,
        404
    );
    assert_eq!(call(&server, "DELETE", &uri, None, &t).await.status, 200);
    // Replaying the deletion finds nothing left to delete.
    assert_eq!(call(&server, "DELETE", &uri, None, &t).await.status, 404);
    for bad in ["abc", "-1", "99999", "1e3"] {
        let resp = call(
            &server,
            "DELETE",
            &format!("/room/lobby/message/{bad}"),
            None,
            &t,
        )
        .await;
        assert_eq!(resp.status, 404, "{bad}");
    }
    let recent = server
        .req("GET", "/room/lobby/messages/recent", None, Some(&user))
        .await;
    // Gone for Session clients too.
    assert_eq!(recent.json(), json!([]));
}

async fn pysogs_post_status(server: &Server, room: &str, user: &TestUser) -> u16 {
    server
        .json(
            "POST",
            &format!("/room/{room}/message"),
            &json!({"data": b64(&client_post("x")), "signature": b64(&[7u8; 64])}),
            Some(user),
        )
        .await
        .status
}

#[tokio::test]
async fn room_bans_bind_blinded_ids() {
    let server = Server::new();
    server.add_room("lobby");
    let t = token(&server, "bot", false, None);
    // Known user, banned by their unblinded 05 ID: the ban lands on their blinded account.
    let known = server.new_user();
    assert_eq!(pysogs_post_status(&server, "lobby", &known).await, 201);
    let resp = call(
        &server,
        "POST",
        "/room/lobby/ban",
        Some(json!({"session_id": known.session_id()})),
        &t,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(pysogs_post_status(&server, "lobby", &known).await, 403);

    // A user the server has never seen: banned when their blinded account first shows up
    // (PySOGS's `needs_blinding`).
    let newcomer = server.new_user();
    let resp = call(
        &server,
        "POST",
        "/room/lobby/ban",
        Some(json!({"session_id": newcomer.session_id(), "timeout": 3600})),
        &t,
    )
    .await;
    assert_eq!(resp.status, 200);
    assert!(resp.json()["until"].as_f64().is_some());
    assert_eq!(pysogs_post_status(&server, "lobby", &newcomer).await, 403);

    let bans = call(&server, "GET", "/room/lobby/bans", None, &t)
        .await
        .json();
    let ids: Vec<&str> = bans
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["session_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&known.id().as_str()), "{bans}");
    assert!(ids.contains(&newcomer.id().as_str()), "{bans}");
    let with_timeout = bans
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["session_id"] == newcomer.id().as_str())
        .unwrap();
    assert!(with_timeout["until"].as_f64().is_some());

    // Unban by 05 ID; a second unban is a 404.
    let uri = format!("/room/lobby/ban/{}", known.session_id());
    assert_eq!(call(&server, "DELETE", &uri, None, &t).await.status, 200);
    assert_eq!(pysogs_post_status(&server, "lobby", &known).await, 201);
    assert_eq!(call(&server, "DELETE", &uri, None, &t).await.status, 404);
    let unknown = format!("/room/lobby/ban/15{}", "cd".repeat(32));
    assert_eq!(
        call(&server, "DELETE", &unknown, None, &t).await.status,
        404
    );
    assert_eq!(
        call(&server, "DELETE", "/room/lobby/ban/nonsense", None, &t)
            .await
            .status,
        400
    );

    for bad in [
        json!({}),
        json!({"session_id": 5}),
        json!({"session_id": "05abc"}),
        json!({"session_id": format!("25{}", "ab".repeat(32))}),
        json!({"session_id": known.session_id(), "timeout": -5}),
        json!({"session_id": known.session_id(), "timeout": 0}),
        json!({"session_id": known.session_id(), "timeout": "1h"}),
    ] {
        let resp = call(&server, "POST", "/room/lobby/ban", Some(bad.clone()), &t).await;
        assert_eq!(resp.status, 400, "{bad}: {}", resp.text());
    }

    // Global moderators are not bannable by a bot.
    let moderator = server.new_user();
    server.make_mod(&moderator, None, false);
    let resp = call(
        &server,
        "POST",
        "/room/lobby/ban",
        Some(json!({"session_id": moderator.id()})),
        &t,
    )
    .await;
    assert_eq!(resp.status, 403);
}

#[tokio::test]
async fn global_ban_with_purge_deletes_posts_everywhere() {
    let server = Server::new();
    server.add_room("one");
    server.add_room("two");
    let admin = token(&server, "admin", true, None);
    let spammer = server.new_user();
    let bystander = server.new_user();
    for room in ["one", "two"] {
        server.post(room, &spammer, &client_post("spam")).await;
        server.post(room, &bystander, &client_post("fine")).await;
    }
    for bad in [
        json!({"session_id": spammer.session_id(), "purge": "yes"}),
        json!({}),
    ] {
        let resp = call(&server, "POST", "/ban", Some(bad), &admin).await;
        assert_eq!(resp.status, 400);
    }
    let resp = call(
        &server,
        "POST",
        "/ban",
        Some(json!({"session_id": spammer.session_id(), "purge": true})),
        &admin,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["deleted_messages"], 2);
    for room in ["one", "two"] {
        let list = call(
            &server,
            "GET",
            &format!("/room/{room}/messages"),
            None,
            &admin,
        )
        .await
        .json();
        let texts: Vec<&Value> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["text"])
            .collect();
        assert_eq!(texts, vec![&Value::Null, &json!("fine")], "{room}");
    }
    // Banned everywhere: every signed request is refused.
    let resp = server
        .req("GET", "/room/one/messages/recent", None, Some(&spammer))
        .await;
    assert_eq!(resp.status, 403);
    assert_eq!(pysogs_post_status(&server, "two", &bystander).await, 201);

    // Without purge, posts stay.
    let other = server.new_user();
    server.post("one", &other, &client_post("kept")).await;
    let resp = call(
        &server,
        "POST",
        "/ban",
        Some(json!({"session_id": other.id()})),
        &admin,
    )
    .await;
    assert_eq!(resp.json()["deleted_messages"], 0);
    let list = call(&server, "GET", "/room/one/messages", None, &admin)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().last().unwrap()["text"], "kept");
}

#[tokio::test]
async fn upload_and_download_files() {
    let server = Server::with(|c| c.file_max_size = 1000);
    server.add_room("lobby");
    server.add_room("other");
    let t = token(&server, "bot", false, None);
    let limited = token(&server, "limited", false, Some(&["other"]));
    let auth = format!("Bearer {t}");
    let resp = server
        .raw(
            "POST",
            "/room/lobby/upload",
            Some(b"file bytes".to_vec()),
            None,
            &[
                ("authorization", &auth),
                ("content-disposition", "attachment; filename=\"notes.txt\""),
            ],
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text());
    let id = resp.json()["id"].as_i64().unwrap();
    let got = call(&server, "GET", &format!("/file/{id}"), None, &t).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"file bytes");
    assert!(got.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("notes.txt"));
    // The same file through the PySOGS API.
    let user = server.new_user();
    let pysogs = server
        .req("GET", &format!("/room/lobby/file/{id}"), None, Some(&user))
        .await;
    assert_eq!(pysogs.body, b"file bytes");

    assert_eq!(
        call(&server, "GET", &format!("/file/{id}"), None, &limited)
            .await
            .status,
        403
    );
    for bad in ["999", "abc", "-1"] {
        assert_eq!(
            call(&server, "GET", &format!("/file/{bad}"), None, &t)
                .await
                .status,
            404
        );
    }
    let big = server
        .raw(
            "POST",
            "/room/lobby/upload",
            Some(vec![0u8; 1001]),
            None,
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(big.status, 413);
    let empty = server
        .raw(
            "POST",
            "/room/lobby/upload",
            None,
            None,
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(empty.status, 400);
}

/// Every automation route, as the router defines it.
const ROUTES: [(&str, &str); 13] = [
    ("post", "/room"),
    ("get", "/room/{token}"),
    ("put", "/room/{token}"),
    ("delete", "/room/{token}"),
    ("post", "/room/{token}/message"),
    ("get", "/room/{token}/messages"),
    ("delete", "/room/{token}/message/{id}"),
    ("post", "/room/{token}/ban"),
    ("delete", "/room/{token}/ban/{session_id}"),
    ("get", "/room/{token}/bans"),
    ("post", "/room/{token}/upload"),
    ("get", "/file/{id}"),
    ("post", "/ban"),
];

#[tokio::test]
async fn openapi_document_names_every_route() {
    let server = Server::new();
    // Published to anyone, with or without a token.
    let resp = server.raw("GET", OPENAPI_PATH, None, None, &[]).await;
    assert_eq!(resp.status, 200);
    assert!(resp.content_type().starts_with("application/json"));
    let doc = resp.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (method, path) in ROUTES {
        let op = &paths.get(path).unwrap_or_else(|| panic!("{path} missing"))[method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(
            op["responses"].is_object(),
            "{method} {path} has no responses"
        );
        operations += 1;
    }
    // Nothing documented that does not exist.
    let documented: usize = paths
        .values()
        .map(|p| {
            p.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "put", "post", "delete"].contains(&k.as_str()))
                .count()
        })
        .sum();
    assert_eq!(documented, operations);
    // Every documented route exists in the router: with a valid token none of them reaches
    // the automation fallback (404 "no such automation API route") or a 405.
    let admin = token(&server, "admin", true, None);
    let fallback = call(&server, "GET", "/no/such/route", None, &admin).await;
    assert_eq!(fallback.status, 404);
    let fallback_error = error_of(&fallback);
    for (method, path) in ROUTES {
        let uri = path
            .replace("{token}", "lobby")
            .replace("{id}", "1")
            .replace("{session_id}", &format!("15{}", "ab".repeat(32)));
        let resp = call(&server, &method.to_uppercase(), &uri, None, &admin).await;
        assert_ne!(resp.status, 405, "{method} {uri}");
        if resp.status == 404 {
            assert_ne!(error_of(&resp), fallback_error, "{method} {uri}");
        }
    }
    let t = token(&server, "bot", true, None);
    let with = call(&server, "GET", OPENAPI_PATH, None, &t).await;
    assert_eq!(with.body, resp.body);
}

#[tokio::test]
async fn malformed_bodies_never_fail_inside() {
    let server = Server::new();
    server.add_room("lobby");
    let t = token(&server, "admin", true, None);
    let auth = format!("Bearer {t}");
    let bodies: [&[u8]; 8] = [
        b"",
        b"null",
        b"[]",
        b"\"text\"",
        b"{\"text\":",
        b"\xff\xfe\x00garbage",
        b"{\"text\": {\"nested\": [1, 2, 3]}, \"session_id\": null, \"token\": []}",
        b"{\"session_id\": \"15zz\", \"purge\": 1, \"timeout\": 1e400}",
    ];
    for (method, uri) in [
        ("POST", "/room"),
        ("PUT", "/room/lobby"),
        ("POST", "/room/lobby/message"),
        ("POST", "/room/lobby/ban"),
        ("POST", "/ban"),
    ] {
        for body in bodies {
            let resp = server
                .raw(
                    method,
                    uri,
                    Some(body.to_vec()),
                    None,
                    &[("authorization", &auth)],
                )
                .await;
            // `{}`-like bodies are valid for PUT (nothing to change); nothing is ever a 5xx.
            assert!(
                resp.status == 400 || (resp.status == 200 && method == "PUT"),
                "{method} {uri} {body:?}: {} {}",
                resp.status,
                resp.text()
            );
            assert!(resp.json()["error"].is_string() || resp.status == 200);
        }
    }
    // Nothing was created, posted or banned by any of it.
    let list = call(&server, "GET", "/room/lobby/messages", None, &t)
        .await
        .json();
    assert_eq!(list, json!([]));
    let bans = call(&server, "GET", "/room/lobby/bans", None, &t)
        .await
        .json();
    assert_eq!(bans, json!([]));
    assert_eq!(server.state.store().rooms().unwrap().len(), 1);
}

#[tokio::test]
async fn bearer_before_any_token_exists_is_401() {
    // No token was ever issued: the token table does not exist yet.
    let server = Server::new();
    server.add_room("lobby");
    let resp = call(&server, "GET", "/room/lobby", None, "sotto_anything").await;
    assert_eq!(resp.status, 401, "{}", resp.text());
    let store = server.state.store();
    let sql = if store.is_postgres() {
        "SELECT to_regclass('api_tokens') IS NOT NULL"
    } else {
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE name = 'api_tokens')"
    };
    let has_table: bool = store.sql_query_row(sql, &[], |r| r.get(0)).unwrap();
    assert!(!has_table, "a refused request must not create the table");
}
