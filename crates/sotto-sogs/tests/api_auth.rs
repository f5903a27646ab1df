//! X-SOGS authentication (`sogs.md` §2.3): check order, exact strings, nonces, user rows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{nonce, now, sign, Server};
use serde_json::json;
use sotto_crypto::sogs_auth::AuthHeaders;

fn with(h: &AuthHeaders, f: impl FnOnce(&mut AuthHeaders)) -> AuthHeaders {
    let mut h = h.clone();
    f(&mut h);
    h
}

#[tokio::test]
async fn capabilities_anonymous_and_required() {
    let s = Server::new();
    let r = s.req("GET", "/capabilities", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "application/json");
    assert_eq!(
        r.json(),
        json!({"capabilities": ["blind", "reactions", "sogs"]})
    );

    let r = s
        .req("GET", "/capabilities?required=sogs,blind", None, None)
        .await;
    assert_eq!(r.status, 200);
    let r = s
        .req("GET", "/capabilities?required=sogs,magic,x", None, None)
        .await;
    assert_eq!(r.status, 412);
    assert_eq!(
        r.json(),
        json!({"capabilities": ["blind", "reactions", "sogs"], "missing": ["magic", "x"]})
    );

    let s = Server::with(|c| c.require_blind_keys = false);
    let r = s.req("GET", "/capabilities", None, None).await;
    assert_eq!(r.json(), json!({"capabilities": ["reactions", "sogs"]}));
}

#[tokio::test]
async fn header_errors_in_pysogs_order() {
    let s = Server::new();
    let u = s.new_user();
    let good = sign(
        &u,
        &s.pubkey(),
        "GET",
        "/capabilities",
        b"",
        &nonce(),
        now(),
    );
    let cases: Vec<(AuthHeaders, u16, &str)> = vec![
        (
            with(&good, |h| {
                h.nonce.clear();
                h.signature.clear();
            }),
            400,
            "Invalid authentication headers: missing 2/4 required X-SOGS-* headers",
        ),
        (
            with(&good, |h| h.pubkey = "15abc".into()),
            400,
            "Invalid authentication: X-SOGS-Pubkey is not a valid 66-hex digit id",
        ),
        (
            with(&good, |h| h.pubkey.replace_range(0..2, "05")),
            400,
            "Invalid authentication: X-SOGS-Pubkey must be 00- or 15- prefixed",
        ),
        (
            with(&good, |h| h.pubkey = format!("15{}", "00".repeat(32))),
            400,
            "Invalid authentication: given X-SOGS-Pubkey is not a valid Ed25519 pubkey",
        ),
        (
            with(&good, |h| {
                h.pubkey = format!("00{}", u.identity.ed25519_public().to_hex());
            }),
            400,
            "Invalid authentication: this server requires the use of blinded ids",
        ),
        (
            with(&good, |h| h.nonce = "abc".into()),
            400,
            "Invalid authentication: X-SOGS-Nonce must be 16 bytes (encoded as base64 or hex)",
        ),
        (
            with(&good, |h| h.signature = "abc".into()),
            400,
            "Invalid authentication: X-SOGS-Signature is not base64[88]",
        ),
        (
            with(&good, |h| h.timestamp = "soon".into()),
            400,
            "Invalid authentication: X-SOGS-Timestamp is not a valid timestamp",
        ),
    ];
    for (headers, status, text) in cases {
        let r = s
            .raw("GET", "/capabilities", None, Some(&headers), &[])
            .await;
        assert_eq!((r.status, r.text().as_str()), (status, text));
        assert!(
            r.content_type().starts_with("text/plain"),
            "{}",
            r.content_type()
        );
    }
    // The good headers still work (no nonce was consumed by the failures above).
    let r = s.raw("GET", "/capabilities", None, Some(&good), &[]).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn clock_window_is_24_hours() {
    let s = Server::new();
    let u = s.new_user();
    for (offset, status) in [(-86_500, 425), (86_500, 425), (-86_000, 200), (86_000, 200)] {
        let h = sign(
            &u,
            &s.pubkey(),
            "GET",
            "/capabilities",
            b"",
            &nonce(),
            now() + offset,
        );
        let r = s.raw("GET", "/capabilities", None, Some(&h), &[]).await;
        assert_eq!(r.status, status, "offset {offset}");
        if status == 425 {
            assert_eq!(
                r.text(),
                "Invalid authentication: X-SOGS-Timestamp is too far from current time"
            );
        }
    }
}

#[tokio::test]
async fn nonce_replay_is_refused_and_stored() {
    let s = Server::new();
    let u = s.new_user();
    let h = sign(
        &u,
        &s.pubkey(),
        "GET",
        "/capabilities",
        b"",
        &nonce(),
        now(),
    );
    assert_eq!(
        s.raw("GET", "/capabilities", None, Some(&h), &[])
            .await
            .status,
        200
    );
    let r = s.raw("GET", "/capabilities", None, Some(&h), &[]).await;
    assert_eq!(r.status, 425);
    assert_eq!(
        r.text(),
        "Invalid authentication: X-SOGS-Nonce cannot be reused"
    );
    let n: i64 = s
        .state
        .store()
        .sql_query_row("SELECT COUNT(*) FROM user_request_nonces", &[], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn bad_signature_is_401_and_still_creates_the_user() {
    let s = Server::new();
    let u = s.new_user();
    // Signed for another path.
    let h = sign(&u, &s.pubkey(), "GET", "/rooms", b"", &nonce(), now());
    let r = s.raw("GET", "/capabilities", None, Some(&h), &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.text(),
        "Invalid authentication: X-SOGS-Signature verification failed"
    );
    // PySOGS creates the user row and consumes the nonce before verifying.
    assert!(s
        .state
        .store()
        .user_by_session_id(&u.id())
        .unwrap()
        .is_some());
    // A body that differs from the signed one fails too.
    let h = sign(&u, &s.pubkey(), "POST", "/batch", b"[]", &nonce(), now());
    let r = s
        .raw("POST", "/batch", Some(b"[ ]".to_vec()), Some(&h), &[])
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn auth_runs_before_routing() {
    let s = Server::new();
    let u = s.new_user();
    let mut h = sign(&u, &s.pubkey(), "GET", "/nowhere", b"", &nonce(), now());
    h.timestamp = "x".into();
    let r = s.raw("GET", "/nowhere", None, Some(&h), &[]).await;
    assert_eq!(r.status, 400);
    let r = s.req("GET", "/nowhere", None, Some(&u)).await;
    assert_eq!(r.status, 404);
    assert!(
        r.text().contains("<title>404 Not Found</title>"),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn globally_banned_user_gets_403_before_signature_check() {
    let s = Server::new();
    let u = s.new_user();
    let id = s.db_user(&u).id;
    s.state.store().ban_globally(id, None).unwrap();
    let mut h = sign(
        &u,
        &s.pubkey(),
        "GET",
        "/capabilities",
        b"",
        &nonce(),
        now(),
    );
    h.signature = common::b64(&[0u8; 64]);
    let r = s.raw("GET", "/capabilities", None, Some(&h), &[]).await;
    assert_eq!((r.status, r.text().as_str()), (403, "Banned"));
}

#[tokio::test]
async fn success_updates_last_active() {
    let s = Server::new();
    let u = s.new_user();
    let id = s.db_user(&u).id;
    s.state
        .store()
        .sql_execute(
            "UPDATE users SET last_active = 5 WHERE id = ?1",
            &[id.into()],
        )
        .unwrap();
    assert_eq!(
        s.req("GET", "/capabilities", None, Some(&u)).await.status,
        200
    );
    let last: f64 = s
        .state
        .store()
        .sql_query_row(
            "SELECT last_active FROM users WHERE id = ?1",
            &[id.into()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(last > 1_000_000_000.0, "{last}");
}

#[tokio::test]
async fn signature_covers_the_decoded_path_and_raw_query() {
    let s = Server::new();
    s.add_room("lobby");
    let u = s.new_user();
    // `/room/lobby/messages/since/0?t=r&reactors=2` with a percent-encoded path segment.
    let r = s
        .req(
            "GET",
            "/room/lobb%79/messages/since/0?t=r&reactors=2",
            None,
            Some(&u),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn unblinded_keys_on_a_server_without_blinding() {
    let s = Server::with(|c| c.require_blind_keys = false);
    let u = s.new_user();
    assert!(u.unblinded);
    let r = s.req("GET", "/capabilities", None, Some(&u)).await;
    assert_eq!(r.status, 200);
    assert!(s
        .state
        .store()
        .user_by_session_id(&u.session_id())
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn unblinded_moderator_moves_to_blinded_account_on_first_request() {
    let s = Server::new();
    s.add_room("lobby");
    let u = s.new_user();
    // The admin CLI's `--add-moderators 05…` on a blinded server.
    {
        let mut store = s.state.store();
        let account = u.session_id().parse().unwrap();
        let old = store.resolve_account(&account, Some(&s.pubkey())).unwrap();
        assert!(old.session_id.starts_with("05"));
        let room = store.room(&"lobby".parse().unwrap()).unwrap().unwrap();
        store
            .set_room_moderator(room.id, old.id, Some(false), true)
            .unwrap();
    }
    let r = s.req("GET", "/room/lobby", None, Some(&u)).await;
    assert_eq!(r.status, 200);
    let info = r.json();
    assert_eq!(info["moderator"], json!(true), "{info}");
    assert_eq!(info["moderators"], json!([u.id()]));
}

#[tokio::test]
async fn oversized_body_is_413() {
    let s = Server::with(|c| c.file_max_size = 1000);
    let big = vec![b'x'; 17 * 1024 * 1024];
    let r = s.req("POST", "/batch", Some(big), None).await;
    assert_eq!(r.status, 413);
}
