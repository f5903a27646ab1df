//! Arbitrary input never makes the server fail: random paths, auth headers and bodies get a
//! 2xx–4xx answer, never a 500 or a panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{b64, Server};
use proptest::prelude::*;
use serde_json::json;
use sotto_crypto::sogs_auth::AuthHeaders;

fn path() -> impl Strategy<Value = String> {
    let seg = prop_oneof![
        Just("room".to_owned()),
        Just("lobby".to_owned()),
        Just("message".to_owned()),
        Just("messages".to_owned()),
        Just("since".to_owned()),
        Just("reaction".to_owned()),
        Just("file".to_owned()),
        Just("user".to_owned()),
        Just("inbox".to_owned()),
        Just("1".to_owned()),
        Just("%F0%9F%91%8D".to_owned()),
        Just("%ZZ".to_owned()),
        "[a-z0-9_-]{0,8}",
        "[0-9]{1,25}",
    ];
    (
        proptest::collection::vec(seg, 0..6),
        proptest::option::of("[a-z=&0-9]{0,12}"),
    )
        .prop_map(|(segs, q)| {
            let mut p = format!("/{}", segs.join("/"));
            if let Some(q) = q {
                p.push('?');
                p.push_str(&q);
            }
            p
        })
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[ -~]{0,100}",
        Just(format!("15{}", "ab".repeat(32))),
        Just(b64(&[0u8; 16])),
        Just(b64(&[0u8; 64])),
        Just("99999999999999999999999".to_owned()),
    ]
}

fn body() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        Just(br#"{"data":"AA==","signature":"AA=="}"#.to_vec()),
        Just(br#"[{"method":"GET","path":"/room/lobby"}]"#.to_vec()),
        Just(serde_json::to_vec(&json!({"rooms": ["*"], "global": true})).unwrap()),
        Just(b"null".to_vec()),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn never_a_server_error(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE")],
        path in path(),
        headers in proptest::option::of((header_value(), header_value(), header_value(), header_value())),
        body in body(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let status = rt.block_on(async {
            let s = Server::new();
            s.add_room("lobby");
            let auth = headers.map(|(pubkey, nonce, timestamp, signature)| AuthHeaders {
                pubkey,
                nonce,
                timestamp,
                signature,
            });
            s.raw(method, &path, body, auth.as_ref(), &[]).await.status
        });
        prop_assert!((200..500).contains(&status), "{method} {path} → {status}");
    }
}
