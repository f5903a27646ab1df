//! Property tests: wrap a request for 1–15 hops, peel it hop by hop, answer, decrypt the answer;
//! every encode/decode pair round-trips; arbitrary bytes never panic a parser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::json;
use sotto_crypto::Ed25519PublicKey;
use sotto_onion::client::{
    build, Destination, Hop, NodeReply, Protocol, Response, Server, ServerRequest,
};
use sotto_onion::frame::{build_combined, Combined};
use sotto_onion::lsrpc::{Headers, V3Request, V4Request, V4Response};
use sotto_onion::node::{classify, peel, Layer, NodeKeys, Peeled, ReplyBody};
use sotto_onion::server::accept;
use sotto_onion::{EncType, MAX_PATH_HOPS};

fn enc_type() -> impl Strategy<Value = EncType> {
    prop_oneof![Just(EncType::AesGcm), Just(EncType::XChaCha20)]
}

fn headers() -> impl Strategy<Value = Headers> {
    proptest::collection::btree_map("[A-Za-z-]{1,12}", "[ -~]{0,20}", 0..4)
}

fn v4_request() -> impl Strategy<Value = V4Request> {
    (
        "GET|POST|PUT|DELETE",
        "/[a-z0-9/_?=&-]{0,30}",
        headers(),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
    )
        .prop_map(|(method, endpoint, headers, body)| V4Request {
            method,
            endpoint,
            headers,
            body,
        })
}

fn v3_request() -> impl Strategy<Value = V3Request> {
    (
        "GET|POST",
        "/?[a-z0-9/_-]{0,30}",
        headers(),
        proptest::option::of("\\PC{0,50}"),
        proptest::option::of("[a-f0-9]{0,20}"),
    )
        .prop_map(|(method, endpoint, headers, body, auth_code)| V3Request {
            endpoint,
            method,
            body,
            headers,
            auth_code,
        })
}

fn v4_response() -> impl Strategy<Value = V4Response> {
    (
        100u16..600,
        headers(),
        proptest::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(code, headers, body)| V4Response {
            code,
            headers,
            body,
        })
}

#[derive(Debug, Clone)]
enum Kind {
    Node,
    V4(V4Request, V4Response),
    V3(V3Request, u16, Vec<u8>),
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Node),
        (v4_request(), v4_response()).prop_map(|(q, r)| Kind::V4(q, r)),
        (
            v3_request(),
            100u16..600,
            proptest::collection::vec(any::<u8>(), 0..100)
        )
            .prop_map(|(q, s, b)| Kind::V3(q, s, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Build → peel at each hop → destination answers → client decrypts.
    #[test]
    fn wrap_peel_reply(
        hops in 1..=MAX_PATH_HOPS,
        enc in enc_type(),
        kind in kind(),
        seed in any::<u64>(),
        status in 100u16..600,
        text in "\\PC{0,40}",
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        // Path nodes plus one destination (a node, or a server).
        let keys: Vec<NodeKeys> = (0..=hops).map(|_| {
            let mut s = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rng, &mut s);
            NodeKeys::new(s)
        }).collect();
        let hop_of = |i: usize| Hop { ed25519: Ed25519PublicKey([i as u8; 32]), x25519: *keys[i].public() };
        let path: Vec<Hop> = (0..hops).map(hop_of).collect();
        let params = json!({ "pubkey": "05ab", "n": status });
        let destination = match &kind {
            Kind::Node => Destination::Node { node: hop_of(hops), method: "retrieve".into(), params: params.clone() },
            Kind::V4(q, _) => Destination::Server {
                server: Server { host: "sogs.example".into(), protocol: Protocol::Https, port: Some(8443), x25519: *keys[hops].public() },
                request: ServerRequest::V4(q.clone()),
            },
            Kind::V3(q, _, _) => Destination::Server {
                server: Server { host: "sogs.example".into(), protocol: Protocol::Http, port: None, x25519: *keys[hops].public() },
                request: ServerRequest::V3(q.clone()),
            },
        };
        let request = build(&mut rng, enc, &path, &destination).unwrap();

        let mut layer = Layer::from_entry_body(&request.body).unwrap();
        prop_assert_eq!(layer.enc_type, enc);
        let mut at = 0;
        let reply = loop {
            prop_assert_eq!(layer.hop_no as usize, at);
            match peel(&keys[at], &layer).unwrap() {
                Peeled::Relay { destination, next } => {
                    prop_assert_eq!(destination, hop_of(at + 1).ed25519);
                    // No hop can read another's layer.
                    if at > 0 {
                        prop_assert!(peel(&keys[at - 1], &next).is_err());
                    }
                    // Over the wire to the next node, as sotto-node relays it.
                    layer = Layer::from_entry_body(&next.to_body().unwrap()).unwrap();
                    prop_assert_eq!(&layer, &next);
                    at += 1;
                }
                Peeled::Final { request: fin, replier } => {
                    prop_assert!(matches!(kind, Kind::Node));
                    prop_assert_eq!(at, hops);
                    let rpc: serde_json::Value = serde_json::from_slice(&fin.body).unwrap();
                    prop_assert_eq!(rpc, json!({ "method": "retrieve", "params": params }));
                    break replier.wrap(&mut rng, status, &ReplyBody::Text(text.clone()), fin.json, fin.base64);
                }
                Peeled::Proxy { request: proxy, .. } => {
                    prop_assert_eq!(at, hops - 1);
                    let url = proxy.url().unwrap();
                    let accepted = accept(&keys[hops], &proxy.payload).unwrap();
                    match &kind {
                        Kind::V4(q, r) => {
                            prop_assert_eq!(url, "https://sogs.example:8443/oxen/v4/lsrpc");
                            prop_assert_eq!(&accepted.v4_request().unwrap(), q);
                            break accepted.replier.reply_v4(&mut rng, r);
                        }
                        Kind::V3(q, s, b) => {
                            prop_assert_eq!(url, "http://sogs.example/oxen/v3/lsrpc");
                            prop_assert_eq!(&accepted.v3_request().unwrap(), q);
                            break accepted.replier.reply_v3(&mut rng, *s, b);
                        }
                        Kind::Node => prop_assert!(false, "node request proxied"),
                    }
                }
            }
        };

        let response = request.reply.decrypt_response(200, &reply).unwrap();
        match kind {
            Kind::Node => prop_assert_eq!(response, Response::Node(NodeReply { status, body: text })),
            Kind::V4(_, r) => prop_assert_eq!(response, Response::V4(r)),
            Kind::V3(_, s, b) => {
                let expected = if (200..300).contains(&s) { b } else { format!(r#"{{"status_code":{s}}}"#).into_bytes() };
                prop_assert_eq!(response, Response::V3(expected));
            }
        }
    }

    #[test]
    fn combined_round_trip(blob in proptest::collection::vec(any::<u8>(), 0..300), map in proptest::collection::btree_map("[a-z_]{1,10}", "\\PC{0,20}", 0..5)) {
        let json = serde_json::to_value(&map).unwrap();
        let bytes = build_combined(&blob, &json).unwrap();
        let parsed = Combined::parse("t", &bytes).unwrap();
        prop_assert_eq!(parsed.blob, &blob[..]);
        prop_assert_eq!(serde_json::Value::Object(parsed.json), json);
        // Every strict prefix that cuts into the prefix or blob is a typed error.
        for cut in 0..(4 + blob.len()).min(bytes.len()) {
            prop_assert!(Combined::parse("t", &bytes[..cut]).is_err());
        }
    }

    #[test]
    fn relay_body_round_trip(
        ciphertext in proptest::collection::vec(any::<u8>(), 0..300),
        key in any::<[u8; 32]>(),
        enc in enc_type(),
        hop_no in 0u32..=20,
    ) {
        let layer = Layer {
            ciphertext,
            ephemeral_key: sotto_crypto::X25519PublicKey(key),
            enc_type: enc,
            hop_no,
        };
        prop_assert_eq!(Layer::from_entry_body(&layer.to_body().unwrap()).unwrap(), layer);
    }

    #[test]
    fn v4_request_round_trip(req in v4_request()) {
        prop_assert_eq!(V4Request::decode(&req.encode()).unwrap(), req);
    }

    #[test]
    fn v4_response_round_trip(resp in v4_response()) {
        prop_assert_eq!(V4Response::decode(&resp.encode()).unwrap(), resp);
    }

    #[test]
    fn v3_request_round_trip(req in v3_request()) {
        prop_assert_eq!(V3Request::decode(&req.encode()).unwrap(), req);
    }

    /// Arbitrary input gives a value or a typed error, never a panic.
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), prefix in any::<bool>()) {
        let mut input = bytes.clone();
        if prefix {
            // Make the length prefix plausible so the JSON and crypto paths are reached too.
            let n = (bytes.len() / 2) as u32;
            input = n.to_le_bytes().into_iter().chain(bytes).collect();
        }
        let keys = NodeKeys::new([3; 32]);
        let _ = Layer::from_entry_body(&input);
        let _ = classify(&input);
        let _ = accept(&keys, &input);
        let _ = V4Request::decode(&input);
        let _ = V4Response::decode(&input);
        let _ = V3Request::decode(&input);
        let _ = NodeReply::parse(&input);
        let layer = Layer { ciphertext: input.clone(), ephemeral_key: *NodeKeys::new([4; 32]).public(), enc_type: EncType::XChaCha20, hop_no: 1 };
        prop_assert!(peel(&keys, &layer).is_err());
    }
}

#[test]
fn endpoint_uri_escapes_only_what_a_uri_cannot_carry() {
    use sotto_onion::lsrpc::endpoint_uri;
    assert_eq!(
        endpoint_uri("/room/lobby/messages/since/5?t=r&reactors=5"),
        "/room/lobby/messages/since/5?t=r&reactors=5"
    );
    assert_eq!(
        endpoint_uri("/room/x/file/1/my photo.jpg"),
        "/room/x/file/1/my%20photo.jpg"
    );
    assert_eq!(endpoint_uri("/a%20b"), "/a%20b");
    assert_eq!(endpoint_uri("/é{|}"), "/%C3%A9%7B%7C%7D");
}

proptest! {
    #[test]
    fn endpoint_uri_always_parses_as_a_uri(path in "/\\PC{0,40}") {
        let uri = sotto_onion::lsrpc::endpoint_uri(&path);
        prop_assert!(uri.is_ascii());
        prop_assert!(!uri.contains(' '));
    }
}
