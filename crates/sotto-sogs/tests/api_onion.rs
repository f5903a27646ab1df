//! Onion requests (`sogs.md` §1.7): a client builds a one-hop onion request with
//! `sotto-onion`, the hop peels its layer, the server answers through `/oxen/v4/lsrpc` or v3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;

use common::{b64, nonce, now, onion_request, sign, Server, TestUser};
use serde_json::{json, Value};
use sotto_onion::client::{Response, ServerRequest};
use sotto_onion::lsrpc::{V3Request, V4Request, V4Response};
use sotto_onion::EncType;

/// Send `request` to the server through one hop; the decrypted answer.
async fn onion(s: &Server, request: ServerRequest, enc: EncType) -> Response {
    onion_to(s, request, enc, None).await
}

/// [`onion`], optionally posting to another target than the request's version says.
async fn onion_to(
    s: &Server,
    request: ServerRequest,
    enc: EncType,
    target_override: Option<&str>,
) -> Response {
    let target = match &request {
        ServerRequest::V4(_) => "/oxen/v4/lsrpc",
        ServerRequest::V3(_) => "/oxen/v3/lsrpc",
    };
    let (proxy_target, payload, reply) = onion_request(s, request, enc);
    assert_eq!(proxy_target, target);
    let target = target_override.unwrap_or(target);
    let r = s.req("POST", target, Some(payload), None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    reply.decrypt_response(200, &r.body).unwrap()
}

fn v4(
    method: &str,
    endpoint: &str,
    headers: BTreeMap<String, String>,
    body: Option<Vec<u8>>,
) -> ServerRequest {
    ServerRequest::V4(V4Request {
        method: method.into(),
        endpoint: endpoint.into(),
        headers,
        body,
    })
}

fn signed_headers(
    s: &Server,
    u: &TestUser,
    method: &str,
    endpoint: &str,
    body: &[u8],
) -> BTreeMap<String, String> {
    let h = sign(u, &s.pubkey(), method, endpoint, body, &nonce(), now());
    let mut m: BTreeMap<String, String> = h
        .pairs()
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    m.insert("Content-Type".into(), "application/json".into());
    m
}

#[tokio::test]
async fn v4_signed_post_and_fetch() {
    let s = Server::new();
    s.add_room("lobby");
    let u = s.new_user();
    let body =
        serde_json::to_vec(&json!({"data": b64(b"via onion"), "signature": b64(&[5u8; 64])}))
            .unwrap();
    let endpoint = "/room/lobby/message";
    let headers = signed_headers(&s, &u, "POST", endpoint, &body);
    for enc in [EncType::XChaCha20, EncType::AesGcm] {
        let Response::V4(V4Response {
            code,
            headers: h,
            body: b,
        }) = onion(
            &s,
            v4("POST", endpoint, headers.clone(), Some(body.clone())),
            enc,
        )
        .await
        else {
            panic!("v4 answer expected");
        };
        if enc == EncType::XChaCha20 {
            assert_eq!(code, 201, "{}", String::from_utf8_lossy(&b));
            assert_eq!(
                h.get("content-type").map(String::as_str),
                Some("application/json")
            );
            assert!(!h.contains_key("content-length"));
            let msg: Value = serde_json::from_slice(&b).unwrap();
            assert_eq!(msg["session_id"], json!(u.id()));
        } else {
            // Same nonce again: the inner auth refuses it.
            assert_eq!(code, 425);
        }
    }
    // A raw UTF-8 endpoint, authenticated over the decoded path.
    let endpoint = "/room/lobby/messages/recent?limit=5";
    let Response::V4(resp) = onion(
        &s,
        v4(
            "GET",
            endpoint,
            signed_headers(&s, &u, "GET", endpoint, b""),
            None,
        ),
        EncType::XChaCha20,
    )
    .await
    else {
        panic!()
    };
    assert_eq!(resp.code, 200);
    let list: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn v4_errors_are_encrypted_answers() {
    let s = Server::new();
    let Response::V4(resp) = onion(
        &s,
        v4("GET", "/room/nope", BTreeMap::new(), None),
        EncType::XChaCha20,
    )
    .await
    else {
        panic!()
    };
    assert_eq!(resp.code, 404);
    // A v3 (JSON) payload sent to the v4 endpoint is not bencode.
    let v3 = ServerRequest::V3(V3Request {
        endpoint: "/capabilities".into(),
        method: "GET".into(),
        body: None,
        headers: BTreeMap::new(),
        auth_code: None,
    });
    let Response::V3(plain) = onion_to(&s, v3, EncType::XChaCha20, Some("/oxen/v4/lsrpc")).await
    else {
        panic!()
    };
    let resp = V4Response::decode(&plain).unwrap();
    assert_eq!(resp.code, 400);
    assert_eq!(resp.body, b"Invalid v4 onion request");
    assert_eq!(
        resp.headers.get("content-type").map(String::as_str),
        Some("text/plain; charset=utf-8")
    );
    // Not decryptable at all: a plain 400.
    let r = s
        .req("POST", "/oxen/v4/lsrpc", Some(b"garbage".to_vec()), None)
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn v3_requests() {
    let s = Server::new();
    s.add_room("lobby");
    let req = |endpoint: &str, method: &str, body: Option<&str>| {
        ServerRequest::V3(V3Request {
            endpoint: endpoint.into(),
            method: method.into(),
            body: body.map(str::to_owned),
            headers: BTreeMap::new(),
            auth_code: None,
        })
    };
    let Response::V3(body) = onion(&s, req("/capabilities", "GET", None), EncType::XChaCha20).await
    else {
        panic!()
    };
    let caps: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(caps["capabilities"], json!(["blind", "reactions", "sogs"]));
    let Response::V3(body) = onion(&s, req("/room/nope", "GET", None), EncType::AesGcm).await
    else {
        panic!()
    };
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"status_code": 404})
    );
    // A slash-less endpoint is a legacy route (`/legacy/rooms`).
    let Response::V3(body) = onion(&s, req("rooms", "GET", None), EncType::XChaCha20).await else {
        panic!()
    };
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"status_code": 200, "rooms": [{"id": "lobby", "name": "Room lobby"}]})
    );
    let Response::V3(body) = onion(
        &s,
        req("/capabilities", "GET", Some("x")),
        EncType::XChaCha20,
    )
    .await
    else {
        panic!()
    };
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"status_code": 400})
    );
}
