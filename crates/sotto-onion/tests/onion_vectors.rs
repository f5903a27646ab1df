//! Known answers from `onion.md` §7 (T1–T4) and the reference implementations, plus every
//! error path of the parsers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use base64::Engine as _;
use rand_core::OsRng;
use serde_json::json;
use sotto_crypto::layer::{x25519_public, LayerCipher};
use sotto_crypto::{Ed25519PublicKey, X25519PublicKey};
use sotto_onion::client::{
    build, Destination, Hop, NodeReply, Protocol, Response, Server, ServerRequest,
};
use sotto_onion::frame::{build_combined, Combined};
use sotto_onion::lsrpc::{V3Request, V4Request, V4Response};
use sotto_onion::node::{
    classify, is_target_allowed, peel, FinalRequest, Inner, Layer, NodeKeys, Peeled, ProxyRequest,
    RelayRequest, ReplyBody,
};
use sotto_onion::server::accept;
use sotto_onion::{EncType, Error, NodeError, MAX_BODY_SIZE, MAX_PATH_HOPS};

/// Does an error have the expected shape?
type Check = fn(&Error) -> bool;

fn key(hex: &str) -> [u8; 32] {
    hex::decode(hex).unwrap().try_into().unwrap()
}

fn b64(bytes: &[u8]) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(bytes)
        .unwrap()
}

// T1 keys: libsession `tests/test_onionreq.cpp`, "Onion request encryption".
const T1_A: &str = "bbdfc83022d0aff084a6f0c529a93d1c4d728bf7e41199afed0e01ae70d20540";
const T1_B_SECRET: &str = "8fcd8ad3a15c76f76f1c56dff0c529999f8c59b4acda79e05666e54d5727dca1";
const T1_AES: &str =
    "1eb6ae1cd72f60999486365749bd5dc15cc0b6a2a44d7d063daa5e93722f0c025fd00306403b61";
const T1_XCHACHA: &str = "9e1a3abe60eff3ea5c23556cc7e225b6f94355315f7281f66ecf4dbb06e7899a52b863e03cde3b287d1638d765db75de02b032";

// T2: same file, "Onion request parser".
const T2_B_SECRET: &str = "2f4d1c0d28e137777ec0a316e9f4f763e3e66662a6c51994c6315c9ef34b6deb";
const T2_B: &str = "8388de69bc0d4b6196133233ad9a46ba0473474bc67718aad96a3a33c257f726";
const T2_A_SECRET: &str = "d2ee09e1a557a077d385fcb69a11ffb6909ecdcc8348def3e0e4172c8a1431c1";
const T2_A: &str = "8167e97672005c669a48858c69895f395ca235219ac3f7a4210022b1f910e652";
const T2_AES: &str = "270000009525d587d188c92a966eef0e7162bef99a6171a124575b998072a8ee7eb265e0b6f0930ed965047b22656e635f74797065223a20226165732d67636d222c2022657068656d6572616c5f6b6579223a202238313637653937363732303035633636396134383835386336393839356633393563613233353231396163336637613432313030323262316639313065363532227d";
const T2_XCHACHA: &str = "33000000e440bc244ddcafd947b86fc5a964aa58de54a6d75cc0f0f3840db14b6c1176a8e2e0a04d5fbdf98f23adee1edc8362ab99b10b7b22656e635f74797065223a2022786368616368613230222c2022657068656d6572616c5f6b6579223a202238313637653937363732303035633636396134383835386336393839356633393563613233353231396163336637613432313030323262316639313065363532227d";

/// T1 through a node: the blob decrypts (it is not a layer, so the node answers the encrypted
/// `Invalid json`), and any flipped byte gives the plain `400 Invalid ciphertext`.
#[test]
fn t1_node_decrypts_or_rejects() {
    let node = NodeKeys::new(key(T1_B_SECRET));
    for (enc, blob) in [(EncType::AesGcm, T1_AES), (EncType::XChaCha20, T1_XCHACHA)] {
        let blob = hex::decode(blob).unwrap();
        let layer = Layer {
            ciphertext: blob.clone(),
            ephemeral_key: T1_A.parse().unwrap(),
            enc_type: enc,
            hop_no: 0,
        };
        let err = peel(&node, &layer).unwrap_err();
        assert!(matches!(err, NodeError::InvalidJson { .. }), "{enc}: {err}");
        for i in 0..blob.len() {
            let mut bad = layer.clone();
            bad.ciphertext[i] ^= 0x10;
            let err = peel(&node, &bad).unwrap_err();
            assert!(
                matches!(err, NodeError::InvalidCiphertext),
                "{enc} byte {i}"
            );
            assert_eq!(
                err.to_reply(&mut OsRng),
                (400, b"Invalid ciphertext".to_vec())
            );
        }
        // The wrong cipher does not decrypt either.
        let other = if enc == EncType::AesGcm {
            EncType::XChaCha20
        } else {
            EncType::AesGcm
        };
        let wrong = Layer {
            enc_type: other,
            ..layer
        };
        assert!(matches!(
            peel(&node, &wrong),
            Err(NodeError::InvalidCiphertext)
        ));
    }
}

/// T2: a server parses the full request, recovers `Hello world`, and its reply decrypts with the
/// client's key pair; the reply sizes are those upstream asserts.
#[test]
fn t2_server_parses_request_and_replies() {
    let server = NodeKeys::new(key(T2_B_SECRET));
    assert_eq!(server.public().to_hex(), T2_B);
    let a = key(T2_A_SECRET);
    let pa = x25519_public(&a);
    assert_eq!(pa.to_hex(), T2_A);
    for (enc, request, n, reply_len) in [
        (EncType::AesGcm, T2_AES, 0x27, 41),
        (EncType::XChaCha20, T2_XCHACHA, 0x33, 53),
    ] {
        let request = hex::decode(request).unwrap();
        let combined = Combined::parse("t2", &request).unwrap();
        assert_eq!(combined.blob.len(), n);
        assert_eq!(combined.json["enc_type"], enc.as_str());
        assert_eq!(combined.json["ephemeral_key"], T2_A);

        let accepted = accept(&server, &request).unwrap();
        assert_eq!(accepted.payload, b"Hello world");
        let reply = accepted.replier.encrypt(&mut OsRng, b"Goodbye world");
        assert_eq!(reply.len(), reply_len);
        let client = LayerCipher::client(enc, &a, &pa, server.public()).unwrap();
        assert_eq!(client.decrypt(&reply).unwrap(), b"Goodbye world");

        // One flipped ciphertext byte fails; so does the wrong server key.
        let mut bad = request.clone();
        bad[10] ^= 1;
        assert!(matches!(
            accept(&server, &bad),
            Err(Error::Crypto {
                source: sotto_crypto::Error::Decrypt { .. },
                ..
            })
        ));
        assert!(matches!(
            accept(&NodeKeys::new([7; 32]), &request),
            Err(Error::Crypto { .. })
        ));
    }
}

fn t3_input(json: &str) -> Vec<u8> {
    let mut v = hex::decode("0a000000").unwrap();
    v.extend_from_slice(b"ciphertext");
    v.extend_from_slice(json.as_bytes());
    v
}

/// T3: oxen-storage-server `unit_test/onion_requests.cpp`.
#[test]
fn t3_classification() {
    assert_eq!(
        classify(&t3_input(r#"{"headers": "something"}"#)).unwrap(),
        Inner::Final(FinalRequest {
            body: b"ciphertext".to_vec(),
            json: false,
            base64: true
        })
    );

    let input = t3_input(r#"{"host": "host", "target": "target"}"#);
    assert_eq!(
        classify(&input).unwrap(),
        Inner::Proxy(ProxyRequest {
            host: "host".into(),
            target: "target".into(),
            port: 443,
            protocol: "https".into(),
            payload: input.clone(),
        })
    );

    let input = t3_input(r#"{"host":"host","target":"target","port":80,"protocol":"http"}"#);
    let Inner::Proxy(proxy) = classify(&input).unwrap() else {
        panic!()
    };
    assert_eq!((proxy.port, proxy.protocol.as_str()), (80, "http"));
    assert_eq!(proxy.payload, input);
    // "target" is not an allowed proxy target.
    assert_eq!(proxy.url(), None);

    let input = t3_input(
        r#"{"destination": "ffffeeeeddddccccbbbbaaaa9999888877776666555544443333222211110000",
            "ephemeral_key": "0000111122223333444455556666777788889999000011112222333344445555"}"#,
    );
    assert_eq!(
        classify(&input).unwrap(),
        Inner::Relay(RelayRequest {
            destination: "ffffeeeeddddccccbbbbaaaa9999888877776666555544443333222211110000"
                .parse()
                .unwrap(),
            ephemeral_key: "0000111122223333444455556666777788889999000011112222333344445555"
                .parse()
                .unwrap(),
            enc_type: EncType::AesGcm,
            ciphertext: b"ciphertext".to_vec(),
        })
    );

    // Flags and explicit enc_type.
    assert_eq!(
        classify(&t3_input(
            r#"{"headers": {}, "json": true, "base64": false}"#
        ))
        .unwrap(),
        Inner::Final(FinalRequest {
            body: b"ciphertext".to_vec(),
            json: true,
            base64: false
        })
    );
    let Inner::Relay(relay) = classify(&t3_input(
        r#"{"destination": "ffffeeeeddddccccbbbbaaaa9999888877776666555544443333222211110000",
            "ephemeral_key": "0000111122223333444455556666777788889999000011112222333344445555",
            "enc_type": "xchacha20-poly1305"}"#,
    ))
    .unwrap() else {
        panic!()
    };
    assert_eq!(relay.enc_type, EncType::XChaCha20);
}

#[test]
fn t3_url_filter() {
    for ok in ["/loki/v3/lsrpc", "/loki/oxen/v4/lsrpc", "/oxen/v3/lsrpc"] {
        assert!(is_target_allowed(ok), "{ok}");
    }
    for bad in ["/not_loki/v3/lsrpc", "/loki/v3", "/loki/v3/lsrpc?foo=bar"] {
        assert!(!is_target_allowed(bad), "{bad}");
    }
    let proxy = |protocol: &str, port| ProxyRequest {
        host: "example.org".into(),
        target: "/oxen/v4/lsrpc".into(),
        port,
        protocol: protocol.into(),
        payload: vec![],
    };
    assert_eq!(
        proxy("https", 443).url().unwrap(),
        "https://example.org/oxen/v4/lsrpc"
    );
    assert_eq!(
        proxy("http", 80).url().unwrap(),
        "http://example.org/oxen/v4/lsrpc"
    );
    assert_eq!(
        proxy("http", 443).url().unwrap(),
        "http://example.org:443/oxen/v4/lsrpc"
    );
    assert_eq!(
        proxy("https", 8080).url().unwrap(),
        "https://example.org:8080/oxen/v4/lsrpc"
    );
    assert_eq!(proxy("ftp", 21).url(), None);
}

/// T3 inputs that must be rejected, each with a typed error.
#[test]
fn t3_invalid_layers() {
    let dest = "ffffeeeeddddccccbbbbaaaa9999888877776666555544443333222211110000";
    let eph = "0000111122223333444455556666777788889999000011112222333344445555";
    let cases: Vec<(Vec<u8>, Check)> = vec![
        (vec![0x0a, 0, 0], |e| {
            matches!(
                e,
                Error::TooShort {
                    min: 4,
                    actual: 3,
                    ..
                }
            )
        }),
        (t3_input("")[..10].to_vec(), |e| {
            matches!(
                e,
                Error::LengthPrefix {
                    declared: 10,
                    available: 6,
                    ..
                }
            )
        }),
        (t3_input("not json"), |e| matches!(e, Error::Json { .. })),
        (t3_input(""), |e| matches!(e, Error::Json { .. })),
        (t3_input("[1,2]"), |e| matches!(e, Error::Json { .. })),
        (t3_input(r#"{"headers": "", "json": "yes"}"#), |e| {
            matches!(e, Error::BadField { field: "json", .. })
        }),
        (t3_input(r#"{"host": "h"}"#), |e| {
            matches!(
                e,
                Error::MissingField {
                    field: "target",
                    ..
                }
            )
        }),
        (t3_input(r#"{"host": 5, "target": "t"}"#), |e| {
            matches!(e, Error::BadField { field: "host", .. })
        }),
        (
            t3_input(r#"{"host": "h", "target": "t", "port": 70000}"#),
            |e| matches!(e, Error::BadField { field: "port", .. }),
        ),
        (t3_input(&format!(r#"{{"ephemeral_key": "{eph}"}}"#)), |e| {
            matches!(
                e,
                Error::MissingField {
                    field: "destination",
                    ..
                }
            )
        }),
        (t3_input(&format!(r#"{{"destination": "{dest}"}}"#)), |e| {
            matches!(
                e,
                Error::MissingField {
                    field: "ephemeral_key",
                    ..
                }
            )
        }),
        (
            t3_input(&format!(
                r#"{{"destination": "{dest}", "ephemeral_key": "zz{}"}}"#,
                &eph[2..]
            )),
            |e| {
                matches!(
                    e,
                    Error::BadField {
                        field: "ephemeral_key",
                        ..
                    }
                )
            },
        ),
        (
            t3_input(&format!(
                r#"{{"destination": "{}", "ephemeral_key": "{eph}"}}"#,
                &dest[2..]
            )),
            |e| {
                matches!(
                    e,
                    Error::BadField {
                        field: "destination",
                        ..
                    }
                )
            },
        ),
        (
            t3_input(&format!(
                r#"{{"destination": "{dest}", "ephemeral_key": "{eph}", "enc_type": "aes-cbc"}}"#
            )),
            |e| {
                matches!(
                    e,
                    Error::BadField {
                        field: "enc_type",
                        ..
                    }
                )
            },
        ),
    ];
    for (input, check) in cases {
        let err = classify(&input).unwrap_err();
        assert!(
            check(&err),
            "{:?} gave {err:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

/// The guard's entry body (`onion.md` §3.1) and its `400 Error parsing onion request: …` answers.
#[test]
fn entry_body_parsing() {
    let eph = T2_A;
    let body = |json: &str| {
        let mut v = vec![3, 0, 0, 0, 1, 2, 3];
        v.extend_from_slice(json.as_bytes());
        v
    };
    let layer = Layer::from_entry_body(&body(&format!(r#"{{"ephemeral_key":"{eph}"}}"#))).unwrap();
    assert_eq!(layer.ciphertext, [1, 2, 3]);
    assert_eq!(layer.ephemeral_key.to_hex(), eph);
    assert_eq!((layer.enc_type, layer.hop_no), (EncType::AesGcm, 0));
    let layer = Layer::from_entry_body(&body(&format!(
        r#"{{"ephemeral_key":"{eph}","enc_type":"xchacha20","hop_no":7}}"#
    )))
    .unwrap();
    assert_eq!((layer.enc_type, layer.hop_no), (EncType::XChaCha20, 7));
    let layer = Layer::from_entry_body(&body(&format!(
        r#"{{"ephemeral_key":"{eph}","hop_no":-3}}"#
    )))
    .unwrap();
    assert_eq!(layer.hop_no, 0);

    let bad = [
        vec![1, 0],
        vec![9, 0, 0, 0, 1],
        body("{"),
        body("{}"),
        body(r#"{"ephemeral_key":"abcd"}"#),
        body(&format!(r#"{{"ephemeral_key":"{}xx"}}"#, &eph[2..])),
        body(&format!(r#"{{"ephemeral_key":"{eph}","enc_type":"cbc"}}"#)),
        body(&format!(r#"{{"ephemeral_key":"{eph}","hop_no":"1"}}"#)),
    ];
    for b in bad {
        let err = Layer::from_entry_body(&b).unwrap_err();
        assert!(matches!(err, NodeError::BadOuter(_)), "{err}");
        assert_eq!(err.status(), 400);
        assert!(
            err.body().starts_with("Error parsing onion request: "),
            "{}",
            err.body()
        );
        assert!(!err.is_encrypted());
    }

    let huge = vec![0u8; MAX_BODY_SIZE + 1];
    let err = Layer::from_entry_body(&huge).unwrap_err();
    assert_eq!(
        err.to_reply(&mut OsRng),
        (413, b"Request body too large".to_vec())
    );
}

/// The hop limit, and a small-order ephemeral key (all-zero shared secret).
#[test]
fn hop_limit_and_small_order_keys() {
    let node = NodeKeys::new([5; 32]);
    let layer = Layer {
        ciphertext: vec![0; 64],
        ephemeral_key: X25519PublicKey([0; 32]),
        enc_type: EncType::AesGcm,
        hop_no: 16,
    };
    let err = peel(&node, &layer).unwrap_err();
    assert_eq!(
        err.to_reply(&mut OsRng),
        (400, b"onion request max path length exceeded".to_vec())
    );
    let err = peel(
        &node,
        &Layer {
            hop_no: 15,
            ..layer
        },
    )
    .unwrap_err();
    assert!(matches!(err, NodeError::InvalidCiphertext));
}

/// The encrypted errors decrypt, for the layer's client, to `{"status":400,"body":…}`.
#[test]
fn encrypted_errors() {
    let node = NodeKeys::new([5; 32]);
    let a = [6u8; 32];
    let pa = x25519_public(&a);
    for enc in [EncType::AesGcm, EncType::XChaCha20] {
        let client = LayerCipher::client(enc, &a, &pa, node.public()).unwrap();
        let layer = |plaintext: &[u8]| Layer {
            ciphertext: client.encrypt(&mut OsRng, plaintext),
            ephemeral_key: pa,
            enc_type: enc,
            hop_no: 2,
        };
        let err = peel(&node, &layer(b"\x02\x00\x00\x00{}not json")).unwrap_err();
        assert!(err.is_encrypted());
        let (status, body) = err.to_reply(&mut OsRng);
        assert_eq!(status, 200);
        let reply = NodeReply::parse(&client.decrypt(&b64(&body)).unwrap()).unwrap();
        assert_eq!(
            reply,
            NodeReply {
                status: 400,
                body: "Invalid json".into()
            }
        );

        let inner =
            build_combined(b"x", &json!({"host": "h", "target": "/oxen/v4/lsrpc?x"})).unwrap();
        let Peeled::Proxy { request, replier } = peel(&node, &layer(&inner)).unwrap() else {
            panic!()
        };
        assert_eq!(request.url(), None);
        let err = NodeError::InvalidUrl { replier };
        let (status, body) = err.to_reply(&mut OsRng);
        assert_eq!(status, 200);
        let plaintext = client.decrypt(&b64(&body)).unwrap();
        assert_eq!(plaintext, br#"{"body":"Invalid url","status":400}"#);
    }
}

/// The plain errors of `onion.md` §5.5, byte-exact.
#[test]
fn node_error_strings() {
    let key: Ed25519PublicKey = "ffffeeeeddddccccbbbbaaaa9999888877776666555544443333222211110000"
        .parse()
        .unwrap();
    let cases = [
        (
            NodeError::NextNodeNotFound(key),
            502,
            format!("Next node not found: {key}"),
        ),
        (
            NodeError::NextNodeUnreachable(key),
            502,
            format!("Next node is currently unreachable: {key}"),
        ),
        (NodeError::RequestTimeout, 504, "Request time out".into()),
        (
            NodeError::InvalidSnodeResponse,
            500,
            "Invalid response from snode".into(),
        ),
        (
            NodeError::SnodeNotReady(key),
            503,
            format!("Snode not ready: {key}"),
        ),
        (
            NodeError::ServiceNodeNotReady("syncing".into()),
            503,
            "Service node is not ready: syncing\n".into(),
        ),
        (NodeError::Busy, 503, "Server busy, try again later".into()),
        (
            NodeError::InvalidCiphertext,
            400,
            "Invalid ciphertext".into(),
        ),
        (
            NodeError::TooManyHops { hop_no: 16 },
            400,
            "onion request max path length exceeded".into(),
        ),
    ];
    for (err, status, body) in cases {
        assert_eq!(
            err.to_reply(&mut OsRng),
            (status, body.clone().into_bytes())
        );
        assert_eq!((err.status(), err.body()), (status, body));
    }
    assert_eq!(
        NodeError::NextNodeNotFound(key).body(),
        "Next node not found: ffffeeeeddddccccbbbbaaaa9999888877776666555544443333222211110000"
    );

    // A client recognises the node to drop.
    let failed = Error::PathFailed {
        status: 502,
        body: NodeError::NextNodeNotFound(key).body(),
    };
    assert_eq!(failed.failed_node(), Some(key));
    let unreachable = Error::PathFailed {
        status: 502,
        body: NodeError::NextNodeUnreachable(key).body(),
    };
    assert_eq!(unreachable.failed_node(), Some(key));
    assert_eq!(
        Error::PathFailed {
            status: 504,
            body: "Request time out".into()
        }
        .failed_node(),
        None
    );
    assert_eq!(
        Error::PathFailed {
            status: 502,
            body: "Next node not found: xyz".into()
        }
        .failed_node(),
        None
    );
}

/// `wrap_proxy_response`: string bodies, double-encoded JSON, embedded JSON, raw or base64.
#[test]
fn final_reply_shapes() {
    let node = NodeKeys::new([5; 32]);
    let a = [6u8; 32];
    let pa = x25519_public(&a);
    let client = LayerCipher::client(EncType::XChaCha20, &a, &pa, node.public()).unwrap();
    let inner =
        build_combined(br#"{"method":"info","params":{}}"#, &json!({"headers": ""})).unwrap();
    let layer = Layer {
        ciphertext: client.encrypt(&mut OsRng, &inner),
        ephemeral_key: pa,
        enc_type: EncType::XChaCha20,
        hop_no: 3,
    };
    let Peeled::Final { request, replier } = peel(&node, &layer).unwrap() else {
        panic!()
    };
    assert_eq!(request.body, br#"{"method":"info","params":{}}"#);
    let body = ReplyBody::Json(json!({"a": 1}));
    let open = |b: Vec<u8>, base64: bool| {
        let raw = if base64 { b64(&b) } else { b };
        String::from_utf8(client.decrypt(&raw).unwrap()).unwrap()
    };
    assert_eq!(
        open(replier.wrap(&mut OsRng, 200, &body, false, true), true),
        r#"{"body":"{\"a\":1}","status":200}"#
    );
    assert_eq!(
        open(replier.wrap(&mut OsRng, 200, &body, true, false), false),
        r#"{"body":{"a":1},"status":200}"#
    );
    assert_eq!(
        open(
            replier.wrap(
                &mut OsRng,
                421,
                &ReplyBody::Text("Wrong swarm".into()),
                true,
                true
            ),
            true
        ),
        r#"{"body":"Wrong swarm","status":421}"#
    );
}

/// v4 framing: PySOGS's documented examples, and its rejections.
#[test]
fn v4_framing() {
    let get =
        br#"l79:{"method":"GET","endpoint":"/room/some-room","headers":{"Some-Header":"12345"}}e"#;
    let req = V4Request::decode(get).unwrap();
    assert_eq!(
        req,
        V4Request {
            method: "GET".into(),
            endpoint: "/room/some-room".into(),
            headers: BTreeMap::from([("Some-Header".into(), "12345".into())]),
            body: None,
        }
    );
    assert_eq!(req.encode(), get.to_vec());
    let post = br#"l72:{"method":"POST","endpoint":"/some/thing","headers":{"Some-Header":"a"}}14:post body heree"#;
    let req = V4Request::decode(post).unwrap();
    assert_eq!(req.body.as_deref(), Some(&b"post body here"[..]));
    assert_eq!(req.encode(), post.to_vec());

    let reply = br#"l58:{"code":200,"headers":{"content-type":"application/json"}}11:{"id": 123}e"#;
    let resp = V4Response::decode(reply).unwrap();
    assert_eq!(resp.code, 200);
    assert_eq!(resp.headers["content-type"], "application/json");
    assert_eq!(resp.body, br#"{"id": 123}"#);
    assert_eq!(resp.encode(), reply.to_vec());
    let bare = V4Response {
        code: 400,
        headers: BTreeMap::new(),
        body: b"Invalid v4 onion request".to_vec(),
    };
    assert_eq!(
        bare.encode(),
        br#"l25:{"code":400,"headers":{}}24:Invalid v4 onion requeste"#.to_vec()
    );
    assert_eq!(
        V4Response::decode(br#"l25:{"code":204,"headers":{}}e"#)
            .unwrap()
            .body,
        b""
    );

    let bl = |parts: &[&str]| {
        let mut v = b"l".to_vec();
        for p in parts {
            v.extend_from_slice(format!("{}:{p}", p.len()).as_bytes());
        }
        v.push(b'e');
        v
    };
    let req_cases: Vec<(Vec<u8>, Check)> = vec![
        (bl(&[r#"{"method":"GET","endpoint":"no/slash"}"#]), |e| {
            matches!(
                e,
                Error::BadField {
                    field: "endpoint",
                    ..
                }
            )
        }),
        (bl(&[r#"{"endpoint":"/x/y"}"#]), |e| {
            matches!(
                e,
                Error::MissingField {
                    field: "method",
                    ..
                }
            )
        }),
        (bl(&[r#"{"method":"GET"}"#]), |e| {
            matches!(
                e,
                Error::MissingField {
                    field: "endpoint",
                    ..
                }
            )
        }),
        (
            bl(&[r#"{"method":"GET","endpoint":"/a"}"#, "x", "y"]),
            |e| matches!(e, Error::Bencode { .. }),
        ),
        (bl(&[]), |e| matches!(e, Error::Bencode { .. })),
        (bl(&["null"]), |e| matches!(e, Error::Json { .. })),
        (bl(&["{"]), |e| matches!(e, Error::Json { .. })),
        (b"d1:ae".to_vec(), |e| matches!(e, Error::Bencode { .. })),
        (b"".to_vec(), |e| matches!(e, Error::Bencode { .. })),
        (
            bl(&[r#"{"method":"GET","endpoint":"/a","headers":[]}"#]),
            |e| {
                matches!(
                    e,
                    Error::BadField {
                        field: "headers",
                        ..
                    }
                )
            },
        ),
        (
            bl(&[r#"{"method":"GET","endpoint":"/a","headers":{"a":[1]}}"#]),
            |e| {
                matches!(
                    e,
                    Error::BadField {
                        field: "headers",
                        ..
                    }
                )
            },
        ),
    ];
    for (bad, check) in req_cases {
        let err = V4Request::decode(&bad).unwrap_err();
        assert!(check(&err), "{}: {err:?}", String::from_utf8_lossy(&bad));
    }
    let resp_cases: Vec<(Vec<u8>, Check)> = vec![
        (b"l10:{\"code\":1e".to_vec(), |e| {
            matches!(e, Error::Bencode { .. })
        }),
        (bl(&[r#"{"code":"x"}"#]), |e| {
            matches!(e, Error::BadField { field: "code", .. })
        }),
        (bl(&[r#"{"code":70000}"#]), |e| {
            matches!(e, Error::BadField { field: "code", .. })
        }),
        (bl(&[r#"{"headers":{}}"#]), |e| {
            matches!(e, Error::MissingField { field: "code", .. })
        }),
        (bl(&[]), |e| matches!(e, Error::Bencode { .. })),
    ];
    for (bad, check) in resp_cases {
        let err = V4Response::decode(&bad).unwrap_err();
        assert!(check(&err), "{}: {err:?}", String::from_utf8_lossy(&bad));
    }
}

#[test]
fn v3_framing() {
    let req = V3Request::decode(br#"{"endpoint":"rooms","method":"GET","body":null,"headers":{"Room":"x","N":5},"auth_code":"t"}"#).unwrap();
    assert_eq!(req.endpoint, "rooms");
    assert_eq!(req.body, None);
    assert_eq!(req.headers["N"], "5");
    assert_eq!(req.auth_code.as_deref(), Some("t"));
    assert_eq!(V3Request::decode(&req.encode()).unwrap(), req);
    for bad in [
        &br#"{"method":"GET"}"#[..],
        br#"{"endpoint":"/a"}"#,
        br#"{"endpoint":"/a","method":"POST","body":{}}"#,
        b"[]",
        b"nope",
    ] {
        assert!(
            V3Request::decode(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

/// Server-side request errors and the v3 reply forms.
#[test]
fn server_accept_errors_and_v3_replies() {
    let server = NodeKeys::new([8; 32]);
    let a = [9u8; 32];
    let pa = x25519_public(&a);
    let client = LayerCipher::client(EncType::AesGcm, &a, &pa, server.public()).unwrap();
    let ct = client.encrypt(
        &mut OsRng,
        br#"{"endpoint":"/capabilities","method":"GET"}"#,
    );
    let good = build_combined(
        &ct,
        &json!({"ephemeral_key": pa.to_hex(), "host": "ignored"}),
    )
    .unwrap();
    let accepted = accept(&server, &good).unwrap();
    assert_eq!(accepted.v3_request().unwrap().endpoint, "/capabilities");
    assert!(accepted.v4_request().is_err());

    let ok = accepted.replier.reply_v3(&mut OsRng, 200, b"{\"x\":1}");
    assert_eq!(client.decrypt(&b64(&ok)).unwrap(), b"{\"x\":1}");
    let no = accepted.replier.reply_v3(&mut OsRng, 404, b"dropped");
    assert_eq!(
        client.decrypt(&b64(&no)).unwrap(),
        br#"{"status_code":404}"#
    );

    let missing = build_combined(&ct, &json!({"enc_type": "aes-gcm"})).unwrap();
    assert!(matches!(
        accept(&server, &missing),
        Err(Error::MissingField {
            field: "ephemeral_key",
            ..
        })
    ));
    let unknown = build_combined(
        &ct,
        &json!({"ephemeral_key": pa.to_hex(), "enc_type": "rot13"}),
    )
    .unwrap();
    assert!(matches!(
        accept(&server, &unknown),
        Err(Error::BadField {
            field: "enc_type",
            ..
        })
    ));
    assert!(matches!(
        accept(&server, &good[..2]),
        Err(Error::TooShort { .. })
    ));
    assert!(matches!(
        accept(&server, &vec![0; MAX_BODY_SIZE + 1]),
        Err(Error::TooLarge { .. })
    ));
}

/// Building: path length limits, bad destinations, and the routing JSON each hop sees.
#[test]
fn build_limits_and_routing() {
    let keys: Vec<NodeKeys> = (1..=17u8).map(|i| NodeKeys::new([i; 32])).collect();
    let hops: Vec<Hop> = keys
        .iter()
        .zip(1u8..)
        .map(|(k, i)| Hop {
            ed25519: Ed25519PublicKey([i; 32]),
            x25519: *k.public(),
        })
        .collect();
    let dest = Destination::Node {
        node: hops[16],
        method: "info".into(),
        params: json!({}),
    };
    for n in [0, MAX_PATH_HOPS + 1] {
        assert_eq!(
            build(&mut OsRng, EncType::AesGcm, &hops[..n], &dest).unwrap_err(),
            Error::PathLength {
                max: MAX_PATH_HOPS,
                actual: n
            }
        );
    }
    let server = |host: &str, request| Destination::Server {
        server: Server {
            host: host.into(),
            protocol: Protocol::Http,
            port: None,
            x25519: *keys[16].public(),
        },
        request,
    };
    let v4 = |endpoint: &str| {
        ServerRequest::V4(V4Request {
            method: "GET".into(),
            endpoint: endpoint.into(),
            headers: BTreeMap::new(),
            body: None,
        })
    };
    assert!(matches!(
        build(
            &mut OsRng,
            EncType::AesGcm,
            &hops[..3],
            &server("", v4("/a"))
        ),
        Err(Error::BadRequest { field: "host", .. })
    ));
    assert!(matches!(
        build(
            &mut OsRng,
            EncType::AesGcm,
            &hops[..3],
            &server("h", v4("a"))
        ),
        Err(Error::BadRequest {
            field: "endpoint",
            ..
        })
    ));
    let small = Destination::Node {
        node: Hop {
            ed25519: Ed25519PublicKey([0; 32]),
            x25519: X25519PublicKey([0; 32]),
        },
        method: "info".into(),
        params: json!({}),
    };
    assert!(matches!(
        build(&mut OsRng, EncType::AesGcm, &hops[..1], &small),
        Err(Error::Crypto { .. })
    ));
    let huge = Destination::Node {
        node: hops[16],
        method: "store".into(),
        params: json!({"data": "x".repeat(MAX_BODY_SIZE)}),
    };
    assert!(matches!(
        build(&mut OsRng, EncType::AesGcm, &hops[..1], &huge),
        Err(Error::TooLarge { .. })
    ));

    // The last hop of a server request sees libsession's routing JSON; layers grow by exactly
    // 4 + JSON + cipher overhead (T4: 28 for aes-gcm, 40 for xchacha20).
    for enc in [EncType::AesGcm, EncType::XChaCha20] {
        let req = build(
            &mut OsRng,
            enc,
            &hops[..2],
            &server("example.org", v4("/room/x")),
        )
        .unwrap();
        let mut layer = Layer::from_entry_body(&req.body).unwrap();
        assert_eq!(layer.enc_type, enc);
        let Peeled::Relay { destination, next } = peel(&keys[0], &layer).unwrap() else {
            panic!()
        };
        assert_eq!(destination, hops[1].ed25519);
        assert_eq!(next.hop_no, 1);
        let overhead = layer.ciphertext.len() - next.ciphertext.len();
        let json = format!(
            r#"{{"destination":"{}","enc_type":"{enc}","ephemeral_key":"{}"}}"#,
            hops[1].ed25519, next.ephemeral_key
        );
        assert_eq!(overhead, 4 + json.len() + enc.overhead());
        layer = next;
        let Peeled::Proxy { request, .. } = peel(&keys[1], &layer).unwrap() else {
            panic!()
        };
        assert_eq!(request.url().unwrap(), "http://example.org/oxen/v4/lsrpc");
        let routing = Combined::parse("t", &request.payload).unwrap().json;
        assert_eq!(routing["method"], "POST");
        assert_eq!(routing["port"], 80);
        assert_eq!(routing["enc_type"], enc.as_str());
        // The server answers; the client reads it.
        let accepted = accept(&keys[16], &request.payload).unwrap();
        assert_eq!(accepted.v4_request().unwrap().endpoint, "/room/x");
        let response = V4Response {
            code: 200,
            headers: BTreeMap::new(),
            body: b"hi".to_vec(),
        };
        let reply = accepted.replier.reply_v4(&mut OsRng, &response);
        assert_eq!(
            req.reply.decrypt_response(200, &reply).unwrap(),
            Response::V4(response)
        );
    }
}

/// Client-side reply errors.
#[test]
fn decrypt_response_errors() {
    let keys: Vec<NodeKeys> = (1..=2u8).map(|i| NodeKeys::new([i; 32])).collect();
    let hop = |i: usize| Hop {
        ed25519: Ed25519PublicKey([i as u8; 32]),
        x25519: *keys[i].public(),
    };
    let dest = Destination::Node {
        node: hop(1),
        method: "info".into(),
        params: json!({}),
    };
    let req = build(&mut OsRng, EncType::XChaCha20, &[hop(0)], &dest).unwrap();
    let err = req.reply.decrypt_response(502, b"Next node not found: 0101010101010101010101010101010101010101010101010101010101010101").unwrap_err();
    assert_eq!(err.failed_node(), Some(Ed25519PublicKey([1; 32])));
    assert!(matches!(
        req.reply.decrypt_response(200, b"AAAA"),
        Err(Error::Crypto { .. })
    ));
    assert!(matches!(
        req.reply.decrypt_response(200, &[0xff; 80]),
        Err(Error::Crypto { .. })
    ));

    // An answer that decrypts but is not {"status","body"}.
    let Peeled::Relay { next, .. } =
        peel(&keys[0], &Layer::from_entry_body(&req.body).unwrap()).unwrap()
    else {
        panic!()
    };
    let Peeled::Final { replier, .. } = peel(&keys[1], &next).unwrap() else {
        panic!()
    };
    let ok = replier.wrap(
        &mut OsRng,
        200,
        &ReplyBody::Text("hello".into()),
        false,
        false,
    );
    assert_eq!(
        req.reply.decrypt_response(200, &ok).unwrap(),
        Response::Node(NodeReply {
            status: 200,
            body: "hello".into()
        })
    );
    for (plaintext, field) in [
        (&br#"{"body":"x"}"#[..], "status"),
        (br#"{"status":"200"}"#, "status"),
    ] {
        let err = NodeReply::parse(plaintext).unwrap_err();
        assert!(
            matches!(err, Error::MissingField { field: f, .. } | Error::BadField { field: f, .. } if f == field)
        );
    }
    assert_eq!(
        NodeReply::parse(br#"{"status_code":421,"body":{"snodes":[]}}"#).unwrap(),
        NodeReply {
            status: 421,
            body: r#"{"snodes":[]}"#.into()
        }
    );
    assert!(matches!(NodeReply::parse(b"[]"), Err(Error::Json { .. })));
}
