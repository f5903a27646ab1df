//! Legacy SOGS v2 routes (`sogs.md` §1.8, PySOGS `routes/legacy.py`): tokens from the
//! encrypted challenge, `Room` header, `status_code` bodies, compact polls, files, bans,
//! moderators; the blinding refusal; and one request through a v3 onion request.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;

use common::{b64, nonce, now, onion_request, sign, unb64, Resp, Server, TestUser};
use serde_json::{json, Value};
use sotto_crypto::layer::{EncType, LayerCipher};
use sotto_sogs::store::Permissions;

const BLINDING_MSG: &str = "Invalid authentication: this server requires the use of blinded ids";

/// A server that accepts `05` IDs, so the legacy routes are usable.
fn unblinded_server() -> Server {
    Server::with(|c| c.require_blind_keys = false)
}

fn padded(text: &str, size: usize) -> Vec<u8> {
    let mut v = text.as_bytes().to_vec();
    v.push(0x80);
    v.resize(size, 0);
    v
}

/// A legacy request with an optional token and room header.
async fn legacy(
    s: &Server,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
    room: Option<&str>,
) -> Resp {
    let mut extra = Vec::new();
    if let Some(t) = token {
        extra.push(("Authorization", t));
    }
    if let Some(r) = room {
        extra.push(("Room", r));
    }
    let body = body.map(|b| serde_json::to_vec(b).unwrap());
    s.raw(method, path, body, None, &extra).await
}

/// A GET in room `lobby` with token `t`.
async fn get(s: &Server, t: &str, path: &str) -> Resp {
    legacy(s, "GET", path, None, Some(t), Some("lobby")).await
}

/// A JSON POST in room `lobby` with token `t`.
async fn post(s: &Server, t: &str, path: &str, body: &Value) -> Resp {
    legacy(s, "POST", path, Some(body), Some(t), Some("lobby")).await
}

/// A DELETE in room `lobby` with token `t`.
async fn delete(s: &Server, t: &str, path: &str) -> Resp {
    legacy(s, "DELETE", path, None, Some(t), Some("lobby")).await
}

/// Post `data` to room `lobby` with token `t`; the new message's id.
async fn say(s: &Server, t: &str, data: &[u8]) -> i64 {
    let body = json!({"data": b64(data), "signature": b64(&[1u8; 64])});
    let r = post(s, t, "/legacy/messages", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["message"]["server_id"].as_i64().unwrap()
}

/// Run the challenge as a client does: ask, decrypt with the account's X25519 key, base64.
async fn token(s: &Server, u: &TestUser, room: &str) -> String {
    let r = legacy(
        s,
        "GET",
        &format!("/legacy/auth_token_challenge?public_key={}", u.session_id()),
        None,
        None,
        Some(room),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status_code"], json!(200));
    let server_pk = unb64(v["challenge"]["ephemeral_public_key"].as_str().unwrap());
    assert_eq!(server_pk, s.pubkey().as_bytes().to_vec());
    let cipher = LayerCipher::client(
        EncType::AesGcm,
        u.identity.x25519_secret(),
        &u.identity.x25519_public(),
        &s.pubkey(),
    )
    .unwrap();
    let raw = cipher
        .decrypt(&unb64(v["challenge"]["ciphertext"].as_str().unwrap()))
        .unwrap();
    assert_eq!(raw.len(), 97);
    // Signature ‖ the 33-byte Session ID, signed by the server's Ed25519 key.
    assert_eq!(hex::encode(&raw[64..]), u.session_id());
    let sig = ed25519_dalek::Signature::from_slice(&raw[..64]).unwrap();
    s.state
        .keys()
        .ed25519_signing()
        .verifying_key()
        .verify_strict(&raw[64..], &sig)
        .unwrap();
    b64(&raw)
}

#[tokio::test]
async fn blinding_required_refuses_every_05_caller() {
    let s = Server::new();
    s.add_room("lobby");
    let u = s.new_user();
    // The public room list needs no caller.
    let r = legacy(&s, "GET", "/legacy/rooms", None, None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"status_code": 200, "rooms": [{"id": "lobby", "name": "Room lobby"}]})
    );
    let path = format!("/legacy/auth_token_challenge?public_key={}", u.session_id());
    let r = legacy(&s, "GET", &path, None, None, Some("lobby")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.content_type(), "text/plain; charset=utf-8");
    assert_eq!(r.text(), BLINDING_MSG);
    // A genuine token is refused the same way.
    let mut sid = [0u8; 33];
    hex::decode_to_slice(u.session_id(), &mut sid).unwrap();
    let raw = {
        use ed25519_dalek::Signer as _;
        let sig = s.state.keys().ed25519_signing().sign(&sid);
        [sig.to_bytes().as_slice(), &sid].concat()
    };
    let t = b64(&raw);
    for (method, path) in [
        ("GET", "/legacy/member_count"),
        ("GET", "/legacy/messages"),
        ("GET", "/legacy/block_list"),
        ("GET", "/legacy/moderators"),
    ] {
        let r = legacy(&s, method, path, None, Some(&t), Some("lobby")).await;
        assert_eq!((r.status, r.text().as_str()), (400, BLINDING_MSG), "{path}");
    }
    // In a compact poll the refusal is a fake entry.
    let body = json!({"requests": [{"room_id": "lobby", "auth_token": t}]});
    let r = legacy(&s, "POST", "/legacy/compact_poll", Some(&body), None, None).await;
    assert_eq!(r.json()["results"][0]["status_code"], json!(400));
    // A blinded X-SOGS caller is not a `05` ID: 400.
    let h = sign(
        &u,
        &s.pubkey(),
        "GET",
        "/legacy/member_count",
        b"",
        &nonce(),
        now(),
    );
    let r = s
        .raw(
            "GET",
            "/legacy/member_count",
            None,
            Some(&h),
            &[("Room", "lobby")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.content_type(), "text/html; charset=utf-8");
}

#[tokio::test]
async fn challenge_token_works_as_hex_and_base64() {
    let s = unblinded_server();
    s.add_room("lobby");
    let u = s.new_user();
    let t = token(&s, &u, "lobby").await;
    let hex_token = hex::encode(unb64(&t));
    let unpadded = t.trim_end_matches('=').to_owned();
    for t in [&t, &hex_token, &unpadded] {
        let r = legacy(
            &s,
            "GET",
            "/legacy/member_count",
            None,
            Some(t),
            Some("lobby"),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json(), json!({"status_code": 200, "member_count": 0}));
    }
    // The challenge made the user and recorded activity in the room.
    assert!(s
        .state
        .store()
        .user_by_session_id(&u.session_id())
        .unwrap()
        .is_some());
    let r = legacy(&s, "POST", "/legacy/claim_auth_token", None, None, None).await;
    assert_eq!(r.json(), json!({"status_code": 200}));
}

#[tokio::test]
async fn bad_missing_and_forged_requests() {
    let s = unblinded_server();
    s.add_room("lobby");
    let u = s.new_user();
    let t = token(&s, &u, "lobby").await;
    let raw = unb64(&t);
    // Forged: one bit of the signature, or a different Session ID under the same signature.
    let mut flipped = raw.clone();
    flipped[0] ^= 1;
    let mut other = raw.clone();
    other[96] ^= 1;
    for bad in [
        b64(&flipped),
        b64(&other),
        "garbage".to_owned(),
        "00".repeat(97),
    ] {
        let r = get(&s, &bad, "/legacy/member_count").await;
        assert_eq!(r.status, 401, "{bad}");
    }
    // No token at all: 400.
    let r = legacy(&s, "GET", "/legacy/member_count", None, None, Some("lobby")).await;
    assert_eq!(r.status, 400);
    // No Room header: 400; an unknown or malformed room: 404.
    let r = legacy(&s, "GET", "/legacy/member_count", None, Some(&t), None).await;
    assert_eq!(r.status, 400);
    for room in ["nope", "bad room!"] {
        let r = legacy(
            &s,
            "GET",
            "/legacy/member_count",
            None,
            Some(&t),
            Some(room),
        )
        .await;
        assert_eq!(r.status, 404, "{room}");
    }
    // The challenge wants a 66-character `05` key.
    for pk in [
        "",
        "05abc",
        &format!("15{}", &u.session_id()[2..]),
        &format!("05{}", "zz".repeat(32)),
    ] {
        let r = legacy(
            &s,
            "GET",
            &format!("/legacy/auth_token_challenge?public_key={pk}"),
            None,
            None,
            Some("lobby"),
        )
        .await;
        assert_eq!(r.status, 400, "{pk}");
    }
    // Malformed JSON bodies: 400 (after the permission checks, so as a moderator).
    s.make_mod(&u, Some("lobby"), false);
    for body in [&b"{not json"[..], b"[1, 2]", b"\"x\""] {
        for path in [
            "/legacy/messages",
            "/legacy/block_list",
            "/legacy/delete_messages",
        ] {
            let r = s
                .raw(
                    "POST",
                    path,
                    Some(body.to_vec()),
                    None,
                    &[("Authorization", &t), ("Room", "lobby")],
                )
                .await;
            assert_eq!(r.status, 400, "{path}");
        }
        let r = s
            .raw(
                "POST",
                "/legacy/compact_poll",
                Some(body.to_vec()),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, 400);
    }
    // Missing fields and bad base64: 400.
    for body in [
        json!({}),
        json!({"data": "!!", "signature": b64(&[1; 64])}),
        json!({"data": b64(b"hi"), "signature": b64(&[1; 10])}),
    ] {
        let r = post(&s, &t, "/legacy/messages", &body).await;
        assert_eq!(r.status, 400, "{body}");
    }
}

#[tokio::test]
async fn room_list_info_and_image() {
    let s = unblinded_server();
    s.add_room("lobby");
    let secret = s.add_room("secret");
    s.state
        .store()
        .set_default_permissions(
            secret.id,
            &Permissions {
                read: Some(Some(false)),
                accessible: Some(Some(false)),
                ..Permissions::default()
            },
        )
        .unwrap();
    let r = legacy(&s, "GET", "/legacy/rooms", None, None, None).await;
    assert_eq!(
        r.json(),
        json!({"status_code": 200, "rooms": [{"id": "lobby", "name": "Room lobby"}]})
    );
    // Room info leaks the name of any room, as PySOGS's does.
    let r = legacy(&s, "GET", "/legacy/rooms/secret", None, None, None).await;
    assert_eq!(
        r.json(),
        json!({"status_code": 200, "room": {"id": "secret", "name": "Room secret"}})
    );
    let r = legacy(&s, "GET", "/legacy/rooms/nope", None, None, None).await;
    assert_eq!(r.status, 404);
    let r = legacy(&s, "GET", "/legacy/rooms/lobby/image", None, None, None).await;
    assert_eq!(r.status, 404);

    let admin = s.new_user();
    s.make_mod(&admin, Some("lobby"), true);
    let user = s.new_user();
    let (ta, tu) = (
        token(&s, &admin, "lobby").await,
        token(&s, &user, "lobby").await,
    );
    let image = json!({"file": b64(b"\x89PNG fake image")});
    let r = post(&s, &tu, "/legacy/rooms/lobby/image", &image).await;
    assert_eq!(r.status, 403);
    let r = post(&s, &ta, "/legacy/rooms/lobby/image", &image).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json()["result"].as_i64().unwrap();
    assert_eq!(s.room("lobby").image, Some(id));
    // The image never expires.
    let expiry = file_expiry(&s, id);
    assert_eq!(expiry, None);
    let r = legacy(&s, "GET", "/legacy/rooms/lobby/image", None, None, None).await;
    assert_eq!(
        r.json(),
        json!({"status_code": 200, "result": b64(b"\x89PNG fake image")})
    );
}

#[tokio::test]
async fn post_and_fetch_messages() {
    let s = unblinded_server();
    s.add_room("lobby");
    let u = s.new_user();
    let t = token(&s, &u, "lobby").await;
    let sig = [9u8; 64];
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        let data = padded(text, 32);
        let body = json!({"data": b64(&data), "signature": b64(&sig)});
        let r = post(&s, &t, "/legacy/messages", &body).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        assert_eq!(v["status_code"], json!(200));
        let m = &v["message"];
        assert_eq!(m["public_key"], json!(u.session_id()));
        assert_eq!(unb64(m["data"].as_str().unwrap()), data);
        assert_eq!(unb64(m["signature"].as_str().unwrap()), sig.to_vec());
        // Milliseconds, an integer.
        let ts = m["timestamp"].as_i64().unwrap();
        assert!((ts - now() * 1000).abs() < 60_000, "{ts}");
        ids.push(m["server_id"].as_i64().unwrap());
    }
    let server_ids = |v: &Value| -> Vec<i64> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["server_id"].as_i64().unwrap())
            .collect()
    };
    // Most recent first; padding restored.
    let r = get(&s, &t, "/legacy/messages").await;
    let v = r.json();
    assert_eq!(server_ids(&v), vec![ids[2], ids[1], ids[0]]);
    assert_eq!(
        unb64(v["messages"][0]["data"].as_str().unwrap()),
        padded("three", 32)
    );
    let r = get(&s, &t, "/legacy/messages?limit=1").await;
    assert_eq!(server_ids(&r.json()), vec![ids[2]]);
    // After an id, oldest first.
    let path = format!("/legacy/messages?from_server_id={}", ids[0]);
    let r = get(&s, &t, &path).await;
    assert_eq!(server_ids(&r.json()), vec![ids[1], ids[2]]);
    let r = get(&s, &t, "/legacy/messages?limit=x").await;
    assert_eq!(r.status, 400);
    // No write permission: 403.
    let muted = s.new_user();
    let tm = token(&s, &muted, "lobby").await;
    let room = s.room("lobby");
    let mid = s.db_user(&muted).id;
    s.state
        .store()
        .set_user_permissions(
            room.id,
            mid,
            &Permissions {
                write: Some(Some(false)),
                ..Permissions::default()
            },
        )
        .unwrap();
    let body = json!({"data": b64(b"x"), "signature": b64(&sig)});
    let r = post(&s, &tm, "/legacy/messages", &body).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn compact_poll_answers_every_room() {
    let s = unblinded_server();
    s.add_room("lobby");
    let closed = s.add_room("closed");
    s.state
        .store()
        .set_default_permissions(
            closed.id,
            &Permissions {
                read: Some(Some(false)),
                ..Permissions::default()
            },
        )
        .unwrap();
    let u = s.new_user();
    let m = s.new_user();
    s.make_mod(&m, Some("lobby"), false);
    let t = token(&s, &u, "lobby").await;
    let mut ids = Vec::new();
    for text in ["a", "b", "c"] {
        ids.push(say(&s, &t, text.as_bytes()).await);
    }
    let r = delete(&s, &t, &format!("/legacy/messages/{}", ids[1])).await;
    assert_eq!(r.json(), json!({"status_code": 200}));
    let mut forged = unb64(&t);
    forged[3] ^= 0x10;
    let body = json!({"requests": [
        {"room_id": "lobby", "auth_token": t},
        {"room_id": "lobby", "auth_token": t, "from_message_server_id": ids[0],
         "from_deletion_server_id": 1},
        {"room_id": "nope", "auth_token": t},
        {"room_id": "lobby", "auth_token": b64(&forged)},
        {"room_id": "lobby"},
        {"room_id": "closed", "auth_token": t},
        {"auth_token": t},
    ]});
    let r = legacy(&s, "POST", "/legacy/compact_poll", Some(&body), None, None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status_code"], json!(200));
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 7);
    let first = &results[0];
    assert_eq!(first["status_code"], json!(200));
    assert_eq!(first["room_id"], json!("lobby"));
    let got: Vec<i64> = first["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["server_id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, vec![ids[2], ids[0]]);
    let seqno: i64 = s
        .state
        .store()
        .sql_query_row(
            "SELECT seqno FROM messages WHERE id = ?1",
            &[ids[1].into()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        first["deletions"],
        json!([{"deleted_message_id": ids[1], "id": seqno}])
    );
    assert_eq!(first["moderators"], json!([m.session_id()]));
    let second = &results[1];
    let got: Vec<i64> = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["server_id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, vec![ids[2]]);
    assert_eq!(second["deletions"].as_array().unwrap().len(), 1);
    let fake = |code: u16, room: &str| {
        json!({"status_code": code, "room_id": room, "messages": [], "deletions": [],
               "moderators": []})
    };
    assert_eq!(results[2], fake(404, "nope"));
    assert_eq!(results[3], fake(401, "lobby"));
    assert_eq!(results[4], fake(400, "lobby"));
    assert_eq!(results[5], fake(403, "closed"));
    assert_eq!(results[6], fake(400, ""));
    // No requests: no results.
    let r = legacy(
        &s,
        "POST",
        "/legacy/compact_poll",
        Some(&json!({})),
        None,
        None,
    )
    .await;
    assert_eq!(r.json(), json!({"status_code": 200, "results": []}));
}

#[tokio::test]
async fn files_upload_download_and_limits() {
    let s = Server::with(|c| {
        c.require_blind_keys = false;
        c.file_max_size = 1000;
    });
    s.add_room("lobby");
    let u = s.new_user();
    let t = token(&s, &u, "lobby").await;
    let content = vec![42u8; 1000];
    let body = json!({"file": b64(&content)});
    let r = post(&s, &t, "/legacy/files", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json()["result"].as_i64().unwrap();
    // Expires after the configured upload lifetime.
    let expiry = file_expiry(&s, id);
    assert!(expiry.is_some());
    let r = get(&s, &t, &format!("/legacy/files/{id}")).await;
    assert_eq!(
        r.json(),
        json!({"status_code": 200, "result": b64(&content)})
    );
    // Oversized: 413.
    let big = json!({"file": b64(&[1u8; 1001])});
    let r = post(&s, &t, "/legacy/files", &big).await;
    assert_eq!(r.status, 413);
    // Unknown file, a file of another room, a non-numeric id: 404.
    s.add_room("other");
    let r = get(&s, &t, "/legacy/files/99999").await;
    assert_eq!(r.status, 404);
    let r = legacy(
        &s,
        "GET",
        &format!("/legacy/files/{id}"),
        None,
        Some(&t),
        Some("other"),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = get(&s, &t, "/legacy/files/abc").await;
    assert_eq!(r.status, 404);
    // Bad base64 or no `file`: 400.
    for body in [json!({"file": "!!!"}), json!({})] {
        let r = post(&s, &t, "/legacy/files", &body).await;
        assert_eq!(r.status, 400);
    }
    // No upload permission: 403.
    let room = s.room("lobby");
    s.state
        .store()
        .set_default_permissions(
            room.id,
            &Permissions {
                upload: Some(Some(false)),
                ..Permissions::default()
            },
        )
        .unwrap();
    let r = post(&s, &t, "/legacy/files", &body).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn delete_own_and_moderated_messages() {
    let s = unblinded_server();
    s.add_room("lobby");
    let (u, v, m) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&m, Some("lobby"), false);
    let (tu, tv, tm) = (
        token(&s, &u, "lobby").await,
        token(&s, &v, "lobby").await,
        token(&s, &m, "lobby").await,
    );
    let (a, b, c) = (
        say(&s, &tu, b"hello").await,
        say(&s, &tu, b"hello").await,
        say(&s, &tv, b"hello").await,
    );
    // Someone else's: 403, nothing deleted.
    let body = json!({"ids": [a, c]});
    let r = post(&s, &tu, "/legacy/delete_messages", &body).await;
    assert_eq!((r.status, r.text().as_str()), (403, "Permission denied"));
    let r = delete(&s, &tu, &format!("/legacy/messages/{c}")).await;
    assert_eq!(r.status, 403);
    // Own: fine; missing ids are skipped.
    let body = json!({"ids": [a, 99999]});
    let r = post(&s, &tu, "/legacy/delete_messages", &body).await;
    assert_eq!(r.json(), json!({"status_code": 200}));
    // A moderator deletes anyone's.
    let body = json!({"ids": [b, c]});
    let r = post(&s, &tm, "/legacy/delete_messages", &body).await;
    assert_eq!(r.json(), json!({"status_code": 200}));
    let live: i64 = s
        .state
        .store()
        .sql_query_row(
            "SELECT COUNT(*) FROM messages WHERE data IS NOT NULL",
            &[],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(live, 0);
    let body = json!({"ids": "nope"});
    let r = post(&s, &tm, "/legacy/delete_messages", &body).await;
    assert_eq!(r.status, 400);
}

/// PySOGS `test_auth_legacy`: bans with tokens and with X-SOGS headers, the ban list as a
/// moderator, as a banned user and as anyone else.
#[tokio::test]
async fn block_list_as_pysogs_tests_it() {
    let s = unblinded_server();
    s.add_room("lobby");
    let (admin, user, other, nobody) = (s.new_user(), s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&admin, Some("lobby"), true);
    let ta = token(&s, &admin, "lobby").await;
    let tn = token(&s, &nobody, "lobby").await;
    let mut forged = unb64(&ta);
    forged[0] ^= 1;
    let body = json!({"public_key": user.session_id()});
    let r = legacy(
        &s,
        "POST",
        "/legacy/block_list",
        Some(&body),
        Some(&b64(&forged)),
        Some("lobby"),
    )
    .await;
    assert_eq!(r.status, 401);
    // Not a moderator: 403.
    let r = post(&s, &tn, "/legacy/block_list", &body).await;
    assert_eq!(r.status, 403);
    let r = post(&s, &ta, "/legacy/block_list", &body).await;
    assert_eq!(r.json(), json!({"status_code": 200}));
    let body = json!({"public_key": other.session_id()});
    let r = post(&s, &ta, "/legacy/block_list", &body).await;
    assert_eq!(r.json(), json!({"status_code": 200}));
    let mut both = vec![user.session_id(), other.session_id()];
    both.sort();
    let r = get(&s, &ta, "/legacy/block_list").await;
    assert_eq!(
        r.json(),
        json!({"status_code": 200, "banned_members": both})
    );
    // A banned user sees only themself, with a token or X-SOGS headers; others see nothing.
    let tu = {
        use ed25519_dalek::Signer as _;
        let mut sid = [0u8; 33];
        hex::decode_to_slice(user.session_id(), &mut sid).unwrap();
        let sig = s.state.keys().ed25519_signing().sign(&sid);
        b64(&[sig.to_bytes().as_slice(), &sid].concat())
    };
    let r = get(&s, &tu, "/legacy/block_list").await;
    assert_eq!(
        r.json(),
        json!({"status_code": 200, "banned_members": [user.session_id()]})
    );
    // X-SOGS headers win over a token for someone else.
    let h = sign(
        &other,
        &s.pubkey(),
        "GET",
        "/legacy/block_list",
        b"",
        &nonce(),
        now(),
    );
    let r = s
        .raw(
            "GET",
            "/legacy/block_list",
            None,
            Some(&h),
            &[("Room", "lobby"), ("Authorization", &ta)],
        )
        .await;
    assert_eq!(
        r.json(),
        json!({"status_code": 200, "banned_members": [other.session_id()]})
    );
    let r = get(&s, &tn, "/legacy/block_list").await;
    assert_eq!(r.json(), json!({"status_code": 200, "banned_members": []}));
    // A banned user cannot read.
    let r = get(&s, &tu, "/legacy/messages").await;
    assert_eq!(r.status, 403);
    // Self-ban and banning an admin: Permission denied.
    let body = json!({"public_key": admin.session_id()});
    let r = post(&s, &ta, "/legacy/block_list", &body).await;
    assert_eq!((r.status, r.text().as_str()), (403, "Permission denied"));
    let r = legacy(
        &s,
        "POST",
        "/legacy/block_list",
        Some(&json!({"public_key": "05zz"})),
        Some(&ta),
        Some("lobby"),
    )
    .await;
    assert_eq!(r.status, 400);

    // Unban through /sequence with X-SOGS headers, as the PySOGS test does.
    let rh = json!({"Room": "lobby"});
    let reqs = json!([
        {"method": "GET", "path": "/legacy/block_list", "headers": rh},
        {"method": "DELETE", "path": format!("/legacy/block_list/{}", user.session_id()), "headers": rh},
        {"method": "GET", "path": "/legacy/block_list", "headers": rh},
        {"method": "DELETE", "path": format!("/legacy/block_list/{}", other.session_id()),
         "headers": {"Room": "lobby", "Authorization": tn}},
        {"method": "GET", "path": "/legacy/block_list", "headers": rh},
    ]);
    let r = s.json("POST", "/sequence", &reqs, Some(&admin)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let bodies: Vec<Value> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            assert_eq!(x["code"], json!(200), "{x}");
            x["body"].clone()
        })
        .collect();
    assert_eq!(
        bodies,
        vec![
            json!({"status_code": 200, "banned_members": both}),
            json!({"status_code": 200}),
            json!({"status_code": 200, "banned_members": [other.session_id()]}),
            json!({"status_code": 200}),
            json!({"status_code": 200, "banned_members": []}),
        ]
    );
    // Unbanning someone not banned: 404; someone unknown: 404.
    let path = format!("/legacy/block_list/{}", user.session_id());
    let r = delete(&s, &ta, &path).await;
    assert_eq!(r.status, 404);
    let path = format!("/legacy/block_list/05{}", "ab".repeat(32));
    let r = delete(&s, &ta, &path).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn ban_and_delete_all() {
    let s = unblinded_server();
    s.add_room("lobby");
    let (m, u) = (s.new_user(), s.new_user());
    s.make_mod(&m, Some("lobby"), false);
    let (tm, tu) = (token(&s, &m, "lobby").await, token(&s, &u, "lobby").await);
    for _ in 0..2 {
        say(&s, &tu, b"spam").await;
    }
    let body = json!({"public_key": u.session_id()});
    let r = post(&s, &tu, "/legacy/ban_and_delete_all", &body).await;
    assert_eq!(r.status, 403);
    let r = post(&s, &tm, "/legacy/ban_and_delete_all", &body).await;
    assert_eq!(r.json(), json!({"status_code": 200}));
    let r = get(&s, &tm, "/legacy/messages").await;
    assert_eq!(r.json(), json!({"status_code": 200, "messages": []}));
    let r = get(&s, &tm, "/legacy/block_list").await;
    assert_eq!(
        r.json(),
        json!({"status_code": 200, "banned_members": [u.session_id()]})
    );
    // A moderator may not ban another room moderator: nothing happens.
    let m2 = s.new_user();
    s.make_mod(&m2, Some("lobby"), false);
    let body = json!({"public_key": m2.session_id()});
    let r = post(&s, &tm, "/legacy/ban_and_delete_all", &body).await;
    assert_eq!((r.status, r.text().as_str()), (403, "Permission denied"));
}

#[tokio::test]
async fn moderators_list_add_remove() {
    let s = unblinded_server();
    s.add_room("lobby");
    let (admin, m, u) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&admin, Some("lobby"), true);
    s.make_mod(&m, Some("lobby"), false);
    let (ta, tm, tu) = (
        token(&s, &admin, "lobby").await,
        token(&s, &m, "lobby").await,
        token(&s, &u, "lobby").await,
    );
    let mut mods = vec![admin.session_id(), m.session_id()];
    mods.sort();
    let r = get(&s, &tu, "/legacy/moderators").await;
    assert_eq!(r.json(), json!({"status_code": 200, "moderators": mods}));
    // Only admins add and remove; a moderator is refused.
    let body = json!({"public_key": u.session_id()});
    for t in [&tu, &tm] {
        let r = legacy(
            &s,
            "POST",
            "/legacy/moderators",
            Some(&body),
            Some(t),
            Some("lobby"),
        )
        .await;
        assert_eq!(r.status, 403);
        let path = format!("/legacy/moderators/{}", m.session_id());
        let r = legacy(&s, "DELETE", &path, None, Some(t), Some("lobby")).await;
        assert_eq!(r.status, 403);
    }
    for bad in [
        json!({"public_key": format!("15{}", &u.session_id()[2..])}),
        json!({"public_key": "05"}),
        json!({}),
    ] {
        let r = post(&s, &ta, "/legacy/moderators", &bad).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let r = post(&s, &ta, "/legacy/moderators", &body).await;
    assert_eq!(r.json(), json!({"status_code": 200}));
    // The new one is a visible admin.
    let room = s.room("lobby");
    let listed = s.state.store().visible_moderators(room.id, false).unwrap();
    assert!(listed.visible_admins.contains(&u.session_id()));
    let path = format!("/legacy/moderators/{}", m.session_id());
    let r = delete(&s, &ta, &path).await;
    assert_eq!(r.json(), json!({"status_code": 200}));
    let mut mods = vec![admin.session_id(), u.session_id()];
    mods.sort();
    let r = get(&s, &tu, "/legacy/moderators").await;
    assert_eq!(r.json(), json!({"status_code": 200, "moderators": mods}));
    // Not a Session ID: no such route.
    let r = delete(&s, &ta, "/legacy/moderators/xyz").await;
    assert_eq!(r.status, 404);
}

/// A v3 onion request with a slash-less endpoint lands on `/legacy/<endpoint>`, with the
/// onion's auth code as the token.
#[tokio::test]
async fn through_a_v3_onion_request() {
    use sotto_onion::client::{Response, ServerRequest};
    use sotto_onion::lsrpc::V3Request;

    let s = unblinded_server();
    s.add_room("lobby");
    let u = s.new_user();
    let t = token(&s, &u, "lobby").await;
    let id = say(&s, &t, b"via onion").await;

    let send = |endpoint: &str, auth: Option<String>| {
        let mut headers = BTreeMap::new();
        headers.insert("Room".to_owned(), "lobby".to_owned());
        let request = ServerRequest::V3(V3Request {
            endpoint: endpoint.into(),
            method: "GET".into(),
            body: None,
            headers,
            auth_code: auth,
        });
        let (_, payload, reply) = onion_request(&s, request, EncType::AesGcm);
        (reply, payload)
    };
    let (reply, payload) = send("messages", Some(t.clone()));
    let r = s.req("POST", "/loki/v3/lsrpc", Some(payload), None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let Response::V3(body) = reply.decrypt_response(200, &r.body).unwrap() else {
        panic!("expected a v3 answer");
    };
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status_code"], json!(200));
    assert_eq!(v["messages"][0]["server_id"], json!(id));
    assert_eq!(
        unb64(v["messages"][0]["data"].as_str().unwrap()),
        b"via onion"
    );
    // Without the auth code: the error's status in the body.
    let (reply, payload) = send("messages", None);
    let r = s.req("POST", "/oxen/v3/lsrpc", Some(payload), None).await;
    let Response::V3(body) = reply.decrypt_response(200, &r.body).unwrap() else {
        panic!("expected a v3 answer");
    };
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"status_code": 400})
    );
}

/// The `expiry` column of an upload.
fn file_expiry(s: &Server, id: i64) -> Option<f64> {
    s.state
        .store()
        .sql_query_row(
            "SELECT expiry FROM files WHERE id = ?1",
            &[id.into()],
            |r| r.get(0),
        )
        .unwrap()
}
