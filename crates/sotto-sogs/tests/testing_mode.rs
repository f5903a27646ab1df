//! Conformance test mode (`sogs.md` §6.2): PySOGS's own echo routes, and its batch
//! expectations (`tests/test_routes_general.py`) replayed against them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{b64, nonce, now, sign, Server};
use serde_json::{json, Value};

fn expected(code: u16, body: Value, ct: &str) -> Value {
    json!({"code": code, "headers": {"content-type": ct}, "body": body})
}

#[tokio::test]
async fn test_routes_exist_only_in_testing_mode() {
    let s = Server::new();
    assert_eq!(
        s.req("GET", "/auth_test/whoami", None, None).await.status,
        404
    );
    let t = Server::with(|c| c.testing = true);
    let r = t.req("GET", "/auth_test/whoami?a=1", None, None).await;
    assert_eq!(r.json(), json!({"query": "a=1", "user": null}));
}

#[tokio::test]
async fn whoami_and_auth_required() {
    let s = Server::with(|c| c.testing = true);
    let u = s.new_user();
    let r = s.req("GET", "/auth_test/whoami", None, Some(&u)).await;
    let me = r.json();
    assert_eq!(me["user"]["session_id"], json!(u.id()));
    assert!(me["user"]["uid"].is_i64());
    let r = s.req("GET", "/auth_test/auth_required", None, None).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (401, "X-SOGS-* request authentication required")
    );
    let r = s
        .req(
            "POST",
            "/auth_test/auth_required",
            Some(b"[1,2,3]".to_vec()),
            Some(&u),
        )
        .await;
    assert_eq!(r.json()["body"], json!([1, 2, 3]));
    // X-Foo is echoed.
    let h = sign(
        &u,
        &s.pubkey(),
        "GET",
        "/auth_test/whoami",
        b"",
        &nonce(),
        now(),
    );
    let r = s
        .raw(
            "GET",
            "/auth_test/whoami",
            None,
            Some(&h),
            &[("X-Foo", "bar")],
        )
        .await;
    assert_eq!(r.json()["foo"], json!("bar"));
}

#[tokio::test]
async fn pysogs_batch_expectations() {
    let s = Server::with(|c| {
        c.testing = true;
        c.require_blind_keys = false;
    });
    let caps = json!(["reactions", "sogs"]);
    let reqs = json!([
        {"method": "GET", "path": "/capabilities"},
        {"method": "GET", "path": "/capabilities?required=magic"},
        {"method": "GET", "path": "/test_batch_2"},
        {"method": "GET", "path": "/test_batch_1", "headers": {"x-header-123": "zzz"}},
        {"method": "GET", "path": "/test_batch_1"},
        {"method": "GET", "path": "/test_batch_3"},
        {"method": "POST", "path": "/test_batch_4", "b64": "aGVsbG8gd29ybGQ="},
        {"method": "POST", "path": "/test_batch_4", "bytes": "asdf\u{0}‽zzz"},
        {"method": "POST", "path": "/test_batch_4", "json": [1, 2, 3]},
        {"method": "GET", "path": "/test_batch_1?arg=456"},
    ]);
    let want = json!([
        expected(200, json!({"capabilities": caps}), "application/json"),
        expected(
            412,
            json!({"capabilities": caps, "missing": ["magic"]}),
            "application/json"
        ),
        expected(403, json!({"z": 3}), "application/json"),
        expected(200, json!({"x": "zzz", "y": "N/A"}), "application/json"),
        expected(200, json!({"x": "def", "y": "N/A"}), "application/json"),
        expected(200, json!("YWJjZGVm"), "application/octet-stream"),
        expected(
            200,
            json!(b64(b"echo: hello world")),
            "text/plain; charset=utf-8"
        ),
        expected(
            200,
            json!(b64("echo: asdf\u{0}‽zzz".as_bytes())),
            "text/plain; charset=utf-8"
        ),
        expected(200, json!({"echo": [1, 2, 3]}), "application/json"),
        expected(200, json!({"x": "def", "y": "456"}), "application/json"),
    ]);
    let r = s.json("POST", "/batch", &reqs, None).await;
    assert_eq!(r.json(), want);
    // Sequence stops after the 412.
    let r = s.json("POST", "/sequence", &reqs, None).await;
    assert_eq!(r.json(), json!([want[0], want[1]]));
}

#[tokio::test]
async fn encoded_and_raw_utf8_paths_are_the_same() {
    let s = Server::with(|c| c.testing = true);
    let u = s.new_user();
    for path in ["/test_encoding/%E2%9D%A4%EF%B8%8F", "/test_encoding/❤️"] {
        let r = s
            .json(
                "POST",
                "/batch",
                &json!([{"method": "PUT", "path": path, "json": {}}]),
                Some(&u),
            )
            .await;
        assert_eq!(r.json()[0]["body"], json!({"p": "❤️"}), "{path}");
    }
    let r = s
        .req(
            "PUT",
            "/test_encoding/%E2%9D%A4%EF%B8%8F",
            Some(b"{}".to_vec()),
            Some(&u),
        )
        .await;
    assert_eq!(r.json(), json!({"p": "❤️"}));
}
