//! Every route against the generic error cases: anonymous callers, bad signatures, stale
//! timestamps, replayed nonces, globally banned users, unknown rooms, non-moderators.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{b64, nonce, now, sign, Server, TestUser};
use serde_json::{json, Value};

/// What a route needs of its caller.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Need {
    /// Works anonymously (read routes).
    Nothing,
    /// 401 `X-SOGS-* request authentication required` without auth.
    User,
    /// User, and 403 for a non-moderator.
    Moderator,
    /// User, and 403 for a non-admin.
    Admin,
    /// Admin, but 403 `Permission denied` even anonymously (pins).
    PinAdmin,
}

struct Route {
    method: &'static str,
    path: String,
    body: Option<Value>,
    need: Need,
    has_room: bool,
}

fn routes(id: i64, file: i64, sid: &str) -> Vec<Route> {
    let post = json!({"data": b64(b"x"), "signature": b64(&[1u8; 64])});
    let r = |method, path: String, body: Option<Value>, need| Route {
        has_room: path.contains("/room/lobby"),
        method,
        path,
        body,
        need,
    };
    use Need::*;
    vec![
        r("GET", "/capabilities".into(), None, Nothing),
        r("GET", "/rooms".into(), None, Nothing),
        r("GET", "/room/lobby".into(), None, Nothing),
        r(
            "PUT",
            "/room/lobby".into(),
            Some(json!({"name": "n"})),
            Admin,
        ),
        r("GET", "/room/lobby/pollInfo/0".into(), None, Nothing),
        r("GET", "/room/lobby/permissions".into(), None, Moderator),
        r(
            "GET",
            format!("/room/lobby/permissions/{sid}"),
            None,
            Moderator,
        ),
        r(
            "POST",
            format!("/room/lobby/permissions/{sid}"),
            Some(json!({"read": true})),
            Moderator,
        ),
        r(
            "GET",
            "/room/lobby/futurePermissions".into(),
            None,
            Moderator,
        ),
        r(
            "GET",
            format!("/room/lobby/futurePermissions/{sid}"),
            None,
            Moderator,
        ),
        r(
            "POST",
            format!("/room/lobby/futurePermissions/{sid}"),
            Some(json!({"read": true, "in": 5})),
            Moderator,
        ),
        r("GET", "/room/lobby/messages/since/0".into(), None, Nothing),
        r("GET", "/room/lobby/messages/recent".into(), None, Nothing),
        r(
            "GET",
            format!("/room/lobby/messages/before/{}", id + 1),
            None,
            Nothing,
        ),
        r("GET", format!("/room/lobby/message/{id}"), None, Nothing),
        r(
            "POST",
            "/room/lobby/message".into(),
            Some(post.clone()),
            User,
        ),
        r("PUT", format!("/room/lobby/message/{id}"), Some(post), User),
        r("PUT", format!("/room/lobby/reaction/{id}/ok"), None, User),
        r(
            "DELETE",
            format!("/room/lobby/reaction/{id}/ok"),
            None,
            User,
        ),
        r(
            "DELETE",
            format!("/room/lobby/reactions/{id}"),
            None,
            Moderator,
        ),
        r(
            "DELETE",
            format!("/room/lobby/reactions/{id}/ok"),
            None,
            Moderator,
        ),
        r(
            "GET",
            format!("/room/lobby/reactors/{id}/ok"),
            None,
            Nothing,
        ),
        r(
            "POST",
            format!("/room/lobby/pin/{id}"),
            Some(json!({})),
            PinAdmin,
        ),
        r(
            "POST",
            format!("/room/lobby/unpin/{id}"),
            Some(json!({})),
            PinAdmin,
        ),
        r(
            "POST",
            "/room/lobby/unpin/all".into(),
            Some(json!({})),
            PinAdmin,
        ),
        r("GET", format!("/room/lobby/file/{file}"), None, Nothing),
        r(
            "GET",
            format!("/room/lobby/file/{file}/name.txt"),
            None,
            Nothing,
        ),
        r(
            "POST",
            format!("/user/{sid}/moderator"),
            Some(json!({"rooms": ["lobby"], "moderator": true})),
            User,
        ),
        r(
            "POST",
            format!("/user/{sid}/ban"),
            Some(json!({"rooms": ["lobby"]})),
            User,
        ),
        r(
            "POST",
            format!("/user/{sid}/unban"),
            Some(json!({"rooms": ["lobby"]})),
            User,
        ),
        r("DELETE", format!("/rooms/all/{sid}"), None, User),
        r("GET", "/inbox".into(), None, User),
        r("GET", "/inbox/since/1".into(), None, User),
        r("GET", "/outbox".into(), None, User),
        r("GET", "/outbox/since/1".into(), None, User),
        r(
            "POST",
            format!("/inbox/{sid}"),
            Some(json!({"message": b64(b"m")})),
            User,
        ),
        r("DELETE", "/inbox".into(), None, User),
        r("POST", "/batch".into(), Some(json!([])), Nothing),
        r("POST", "/sequence".into(), Some(json!([])), Nothing),
    ]
}

struct Fixture {
    s: Server,
    plain: TestUser,
    admin: TestUser,
    routes: Vec<Route>,
}

async fn fixture() -> Fixture {
    let s = Server::new();
    s.add_room("lobby");
    let (plain, admin, target) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&admin, Some("lobby"), true);
    let id = s.post("lobby", &admin, b"hello").await["id"]
        .as_i64()
        .unwrap();
    let uri = "/room/lobby/file";
    let h = sign(&admin, &s.pubkey(), "POST", uri, b"f", &nonce(), now());
    let file = s
        .raw("POST", uri, Some(b"f".to_vec()), Some(&h), &[])
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    s.db_user(&target);
    s.db_user(&plain);
    let routes = routes(id, file, &target.id());
    Fixture {
        s,
        plain,
        admin,
        routes,
    }
}

fn body(r: &Route) -> Option<Vec<u8>> {
    r.body.as_ref().map(|b| serde_json::to_vec(b).unwrap())
}

#[tokio::test]
async fn anonymous_callers() {
    let f = fixture().await;
    for r in &f.routes {
        let resp = f.s.req(r.method, &r.path, body(r), None).await;
        let what = format!("{} {} → {} {}", r.method, r.path, resp.status, resp.text());
        match r.need {
            Need::Nothing => assert!((200..300).contains(&resp.status), "{what}"),
            Need::User | Need::Moderator | Need::Admin => {
                assert_eq!(resp.status, 401, "{what}");
                assert_eq!(
                    resp.text(),
                    "X-SOGS-* request authentication required",
                    "{what}"
                );
            }
            Need::PinAdmin => {
                assert_eq!(
                    (resp.status, resp.text().as_str()),
                    (403, "Permission denied"),
                    "{what}"
                );
            }
        }
    }
}

#[tokio::test]
async fn non_moderators_are_refused() {
    let f = fixture().await;
    for r in f
        .routes
        .iter()
        .filter(|r| !matches!(r.need, Need::Nothing | Need::User))
    {
        let resp = f.s.req(r.method, &r.path, body(r), Some(&f.plain)).await;
        let what = format!("{} {} → {} {}", r.method, r.path, resp.status, resp.text());
        assert_eq!(resp.status, 403, "{what}");
        let expected = match r.need {
            Need::Moderator => "This endpoint requires moderator room permissions",
            Need::Admin => "This endpoint requires admin room permissions",
            _ => "Permission denied",
        };
        assert_eq!(resp.text(), expected, "{what}");
    }
}

#[tokio::test]
async fn unknown_rooms_are_404() {
    let f = fixture().await;
    for r in f.routes.iter().filter(|r| r.has_room) {
        let path = r.path.replace("/room/lobby", "/room/nowhere");
        let resp = f.s.req(r.method, &path, body(r), Some(&f.admin)).await;
        assert_eq!(resp.status, 404, "{} {path}: {}", r.method, resp.text());
    }
}

#[tokio::test]
async fn auth_failures_on_every_route() {
    let f = fixture().await;
    let banned = f.s.new_user();
    let banned_id = f.s.db_user(&banned).id;
    f.s.state.store().ban_globally(banned_id, None).unwrap();
    for r in &f.routes {
        let b = body(r);
        let bytes = b.clone().unwrap_or_default();
        let what = format!("{} {}", r.method, r.path);
        // Bad signature: signed for another method.
        let h = sign(
            &f.plain,
            &f.s.pubkey(),
            "PATCH",
            &r.path,
            &bytes,
            &nonce(),
            now(),
        );
        let resp = f.s.raw(r.method, &r.path, b.clone(), Some(&h), &[]).await;
        assert_eq!(resp.status, 401, "{what}: {}", resp.text());
        // Stale.
        let h = sign(
            &f.plain,
            &f.s.pubkey(),
            r.method,
            &r.path,
            &bytes,
            &nonce(),
            now() - 90_000,
        );
        let resp = f.s.raw(r.method, &r.path, b.clone(), Some(&h), &[]).await;
        assert_eq!(resp.status, 425, "{what}");
        // Replayed: the nonce of the bad-signature attempt is already used.
        let n = nonce();
        let h = sign(&f.plain, &f.s.pubkey(), "PATCH", &r.path, &bytes, &n, now());
        f.s.raw(r.method, &r.path, b.clone(), Some(&h), &[]).await;
        let h = sign(
            &f.plain,
            &f.s.pubkey(),
            r.method,
            &r.path,
            &bytes,
            &n,
            now(),
        );
        let resp = f.s.raw(r.method, &r.path, b.clone(), Some(&h), &[]).await;
        assert_eq!(
            (resp.status, resp.text().as_str()),
            (425, "Invalid authentication: X-SOGS-Nonce cannot be reused"),
            "{what}"
        );
        // Globally banned.
        let resp = f.s.req(r.method, &r.path, b, Some(&banned)).await;
        assert_eq!(
            (resp.status, resp.text().as_str()),
            (403, "Banned"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn malformed_json_bodies_are_400() {
    let f = fixture().await;
    for r in f
        .routes
        .iter()
        .filter(|r| r.body.is_some() && !r.path.contains("/pin") && !r.path.contains("/unpin"))
    {
        let resp =
            f.s.req(
                r.method,
                &r.path,
                Some(b"{\"unterminated".to_vec()),
                Some(&f.admin),
            )
            .await;
        assert_eq!(resp.status, 400, "{} {}: {}", r.method, r.path, resp.text());
    }
}
