//! Blinded DMs (`sogs.md` §1.6) and `/batch`, `/sequence` (§1.1).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{b64, unb64, Server};
use serde_json::json;

#[tokio::test]
async fn inbox_and_outbox() {
    let s = Server::new();
    let (alice, bob) = (s.new_user(), s.new_user());
    let to_bob = format!("/inbox/{}", bob.id());
    // Bob has never contacted the server.
    let r = s
        .json(
            "POST",
            &to_bob,
            &json!({"message": b64(b"hi")}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 404);
    s.db_user(&bob);
    assert_eq!(
        s.json("POST", &to_bob, &json!({"message": b64(b"hi")}), None)
            .await
            .status,
        401
    );
    assert_eq!(
        s.json("POST", &to_bob, &json!({}), Some(&alice))
            .await
            .status,
        400
    );
    assert_eq!(
        s.json(
            "POST",
            &format!("/inbox/{}", bob.session_id()),
            &json!({"message": "aGk="}),
            Some(&alice)
        )
        .await
        .status,
        404,
        "only 15 IDs"
    );

    let r = s
        .json(
            "POST",
            &to_bob,
            &json!({"message": b64(b"hi bob")}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let sent = r.json();
    assert_eq!(sent["sender"], json!(alice.id()));
    assert_eq!(sent["recipient"], json!(bob.id()));
    assert!(sent.get("message").is_none());
    let (posted, expires) = (
        sent["posted_at"].as_f64().unwrap(),
        sent["expires_at"].as_f64().unwrap(),
    );
    assert!((expires - posted - 15.0 * 86_400.0).abs() < 1.0);
    let id = sent["id"].as_i64().unwrap();

    let inbox = s.req("GET", "/inbox", None, Some(&bob)).await.json();
    assert_eq!(inbox.as_array().unwrap().len(), 1);
    assert_eq!(unb64(inbox[0]["message"].as_str().unwrap()), b"hi bob");
    assert_eq!(
        s.req("GET", "/outbox", None, Some(&alice)).await.json()[0]["id"],
        json!(id)
    );
    assert_eq!(
        s.req("GET", "/inbox", None, Some(&alice)).await.json(),
        json!([])
    );
    let r = s.req("GET", "/inbox/since/0", None, Some(&bob)).await;
    assert_eq!(r.status, 200);
    let r = s
        .req("GET", &format!("/inbox/since/{id}"), None, Some(&bob))
        .await;
    assert_eq!((r.status, r.body.len()), (304, 0));
    let r = s
        .req("GET", &format!("/outbox/since/{id}"), None, Some(&alice))
        .await;
    assert_eq!(r.status, 304);
    assert_eq!(s.req("GET", "/inbox", None, None).await.status, 401);

    let r = s.req("DELETE", "/inbox", None, Some(&bob)).await;
    assert_eq!(r.json(), json!({"deleted": 1}));
    assert_eq!(
        s.req("GET", "/inbox", None, Some(&bob)).await.json(),
        json!([])
    );
}

#[tokio::test]
async fn unblinded_users_cannot_read_dms() {
    let s = Server::with(|c| c.require_blind_keys = false);
    let u = s.new_user();
    let r = s.req("GET", "/inbox", None, Some(&u)).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (401, "This endpoint requires blinded pubkeys be used")
    );
}

#[tokio::test]
async fn batch_runs_subrequests_as_the_caller() {
    let s = Server::new();
    s.add_room("lobby");
    let u = s.new_user();
    let body = json!([
        {"method": "GET", "path": "/capabilities"},
        {"method": "POST", "path": "/room/lobby/message",
         "json": {"data": b64(b"batched"), "signature": b64(&[3u8; 64])}},
        {"method": "GET", "path": "/room/lobby/messages/since/0?t=r&reactors=2"},
        {"method": "GET", "path": "/room/nope"},
        {"method": "GET", "path": "/inbox"},
    ]);
    let r = s.json("POST", "/batch", &body, Some(&u)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let res = r.json();
    assert_eq!(res.as_array().unwrap().len(), 5);
    assert_eq!(res[0]["code"], json!(200));
    assert_eq!(
        res[0]["headers"],
        json!({"content-type": "application/json"})
    );
    assert_eq!(
        res[0]["body"]["capabilities"],
        json!(["blind", "reactions", "sogs"])
    );
    assert_eq!(res[1]["code"], json!(201));
    assert_eq!(res[1]["body"]["session_id"], json!(u.id()));
    assert_eq!(res[2]["body"][0]["data"], json!(b64(b"batched")));
    assert_eq!(res[3]["code"], json!(404));
    assert!(res[3]["body"].is_string(), "non-JSON bodies are base64");
    assert_eq!(res[4]["code"], json!(200), "the outer user is inherited");

    // Anonymous outer request: subrequests are anonymous too.
    let r = s
        .json(
            "POST",
            "/batch",
            &json!([{"method": "GET", "path": "/inbox"}]),
            None,
        )
        .await;
    assert_eq!(r.json()[0]["code"], json!(401));
    assert_eq!(
        unb64(r.json()[0]["body"].as_str().unwrap()),
        b"X-SOGS-* request authentication required"
    );
}

#[tokio::test]
async fn batch_rejects_malformed_elements() {
    let s = Server::new();
    for bad in [
        json!({"method": "GET", "path": "/capabilities"}),
        json!([{"method": "GET"}]),
        json!([{"method": "PATCH", "path": "/x"}]),
        json!([{"method": "GET", "path": "capabilities"}]),
        json!([{"method": "POST", "path": "/batch"}]),
        json!([{"method": "POST", "path": "/batch", "json": [], "b64": ""}]),
        json!([{"method": "GET", "path": "/capabilities", "json": {}}]),
        json!([{"method": "GET", "path": "/capabilities", "headers": {"a": 1}}]),
        json!([{"method": "GET", "path": "/capabilities"}, 5]),
    ] {
        let r = s.json("POST", "/batch", &bad, None).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let r = s.req("POST", "/batch", Some(b"[".to_vec()), None).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn sequence_stops_at_the_first_failure() {
    let s = Server::new();
    s.add_room("lobby");
    let body = json!([
        {"method": "GET", "path": "/room/lobby"},
        {"method": "GET", "path": "/room/nope"},
        {"method": "GET", "path": "/capabilities"},
    ]);
    let r = s.json("POST", "/sequence", &body, None).await;
    let res = r.json();
    assert_eq!(res.as_array().unwrap().len(), 2);
    assert_eq!(res[1]["code"], json!(404));
    let r = s.json("POST", "/batch", &body, None).await;
    assert_eq!(r.json().as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn batch_bodies_in_b64_and_bytes() {
    let s = Server::new();
    s.add_room("lobby");
    let u = s.new_user();
    let post =
        serde_json::to_string(&json!({"data": b64(b"b"), "signature": b64(&[3u8; 64])})).unwrap();
    let body = json!([
        {"method": "POST", "path": "/room/lobby/message", "b64": b64(post.as_bytes())},
        {"method": "POST", "path": "/room/lobby/message", "bytes": post},
        {"method": "POST", "path": "/room/lobby/file", "b64": b64(b"filedata"),
         "headers": {"Content-Disposition": "attachment; filename=a.txt"}},
    ]);
    let r = s.json("POST", "/batch", &body, Some(&u)).await;
    let res = r.json();
    assert_eq!(res[0]["code"], json!(201), "{res}");
    assert_eq!(res[1]["code"], json!(201));
    assert_eq!(res[2]["code"], json!(201));
    let id = res[2]["body"]["id"].as_i64().unwrap();
    let r = s
        .req("GET", &format!("/room/lobby/file/{id}"), None, None)
        .await;
    assert_eq!(r.body, b"filedata");
}
