//! The storage RPC core: signed requests made as a client makes them, and every parameter and
//! check error with the reference's status and text (oxen-storage-server
//! `client_rpc_endpoints.cpp`, `request_handler.cpp`; `storage-rpc.md` §1.2, §2, §3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use sotto_crypto::{Identity, Seed};
use sotto_rpc::{
    message_hash, AccountId, Namespace, NamespaceSelector, Request, Retrieve, RpcError,
};

const NOW: i64 = 1_700_000_000_000;

fn user() -> Identity {
    Identity::from_seed(&Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap())
}

fn account(id: &Identity) -> AccountId {
    AccountId::from_bytes(id.session_id().to_bytes())
}

fn parse(v: Value) -> Result<Request, RpcError> {
    Request::parse(v.to_string().as_bytes())
}

fn err(v: Value) -> (u16, String) {
    let e = parse(v).unwrap_err();
    (e.status(), e.body().to_owned())
}

fn invalid(detail: &str) -> (u16, String) {
    (400, format!("invalid request: {detail}"))
}

/// A request signed by `id` over `msg`, as a client builds it.
fn signed_params(id: &Identity, msg: &str, mut params: Value) -> Value {
    params["pubkey"] = json!(id.session_id().to_string());
    params["pubkey_ed25519"] = json!(id.ed25519_public().to_hex());
    params["signature"] = json!(STANDARD.encode(id.sign(msg.as_bytes())));
    params
}

#[test]
fn namespace_rules() {
    for ns in [0, 10, -10, 30_000, -20] {
        assert!(Namespace(ns).is_public_inbox(), "{ns}");
    }
    for ns in [-1, -21, -41] {
        assert!(Namespace(ns).is_public_outbox(), "{ns}");
        assert!(Namespace(ns).is_no_auth_retrieve(), "{ns}");
    }
    assert!(Namespace(-10).is_no_auth_retrieve());
    assert!(!Namespace(0).is_no_auth_retrieve());
    assert!(!Namespace(2).is_public_inbox());
    assert_eq!(Namespace(0).sig_str(), "");
    assert_eq!(Namespace(-10).sig_str(), "-10");
    assert_eq!(NamespaceSelector::All.sig_str(), "all");
}

#[test]
fn unauthenticated_store_to_the_public_inbox() {
    let data = STANDARD.encode(b"sealed message");
    let req = parse(json!({"method": "store", "params": {
        "pubkey": user().session_id().to_string(), "timestamp": NOW, "ttl": 86_400_000,
        "data": data}}))
    .unwrap();
    let Request::Store(store) = &req else {
        panic!("{req:?}")
    };
    assert_eq!(store.expiry, NOW + 86_400_000);
    assert_eq!(store.data, b"sealed message");
    assert_eq!(store.namespace, Namespace(0));
    req.check(NOW).unwrap();
    // Stringified timestamp and ttl, and the old pubKey spelling, as old clients send.
    let old = parse(json!({"method": "store", "params": {
        "pubKey": user().session_id().to_string(), "timestamp": NOW.to_string(),
        "ttl": "86400000", "data": data}}))
    .unwrap();
    assert_eq!(old, req);
}

#[test]
fn store_checks_in_order() {
    let id = user();
    let data = STANDARD.encode(b"x");
    let base = |ns: i16, ts: i64, ttl: i64| {
        json!({"pubkey": id.session_id().to_string(), "namespace": ns, "timestamp": ts,
               "ttl": ttl, "data": data})
    };
    let check = |params: Value| {
        parse(json!({"method": "store", "params": params}))
            .unwrap()
            .check(NOW)
    };
    let e = check(base(0, NOW, 5_000)).unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (403, "Provided expiry/TTL is not valid.")
    );
    let e = check(base(0, NOW, 15 * 86_400_000)).unwrap_err();
    assert_eq!(e.status(), 403);
    check(base(2, NOW, 29 * 86_400_000))
        .expect_err("needs a signature, but the TTL itself is fine for a private namespace");
    let e = check(base(0, NOW + 11_000, 86_400_000)).unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (406, "Timestamp error: check your clock")
    );
    let e = check(base(2, NOW, 86_400_000)).unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (401, "store: signature required to store to namespace 2")
    );

    let signed = |msg: &str, sig_ts: i64| {
        let mut p = signed_params(&id, msg, base(2, NOW, 86_400_000));
        p["sig_timestamp"] = json!(sig_ts);
        p
    };
    check(signed(&format!("store2{NOW}"), NOW)).unwrap();
    let e = check(signed(&format!("store2{}", NOW - 61_000), NOW - 61_000)).unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (406, "store signature timestamp too far from current time")
    );
    let e = check(signed(&format!("store3{NOW}"), NOW)).unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (401, "store signature verification failed")
    );
}

#[test]
fn signed_retrieve_as_a_client_sends_it() {
    let id = user();
    let p = signed_params(
        &id,
        &format!("retrieve{NOW}"),
        json!({"timestamp": NOW, "last_hash": ""}),
    );
    let req = parse(json!({"method": "retrieve", "params": p})).unwrap();
    assert_eq!(
        req.signed_message().unwrap(),
        format!("retrieve{NOW}").into_bytes()
    );
    req.check(NOW).unwrap();
    req.check(NOW + 60_000).unwrap();
    let e = req.check(NOW + 60_001).unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (406, "retrieve timestamp too far from current time")
    );

    // Namespace 2 signs "retrieve2<ts>"; a signature for namespace 0 fails.
    let mut p2 = p.clone();
    p2["namespace"] = json!(2);
    let e = parse(json!({"method": "retrieve", "params": p2}))
        .unwrap()
        .check(NOW)
        .unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (401, "retrieve signature verification failed")
    );

    // Unsigned retrieve: refused for namespace 0, allowed for -10.
    let unsigned = json!({"pubkey": id.session_id().to_string()});
    let e = parse(json!({"method": "retrieve", "params": unsigned}))
        .unwrap()
        .check(NOW)
        .unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (401, "retrieve: request signature required")
    );
    let mut legacy = unsigned.clone();
    legacy["namespace"] = json!(-10);
    parse(json!({"method": "retrieve", "params": legacy}))
        .unwrap()
        .check(NOW)
        .unwrap();

    // A pubkey_ed25519 that is not the account's key fails verification.
    let other = Identity::from_seed(&Seed::from_hex("00112233445566778899aabbccddeeff").unwrap());
    let mut wrong = p.clone();
    wrong["pubkey_ed25519"] = json!(other.ed25519_public().to_hex());
    wrong["signature"] = json!(STANDARD.encode(other.sign(format!("retrieve{NOW}").as_bytes())));
    let e = parse(json!({"method": "retrieve", "params": wrong}))
        .unwrap()
        .check(NOW)
        .unwrap_err();
    assert_eq!(e.status(), 401);
}

#[test]
fn signed_messages_of_every_method() {
    let id = user();
    let h1 = message_hash(&account(&id), Namespace(0), b"1");
    let h2 = message_hash(&account(&id), Namespace(0), b"2");
    let cases = [
        (
            "delete",
            json!({"messages": [h1, h2]}),
            format!("delete{h1}{h2}"),
        ),
        (
            "delete_all",
            json!({"timestamp": NOW}),
            format!("delete_all{NOW}"),
        ),
        (
            "delete_all",
            json!({"timestamp": NOW, "namespace": "all"}),
            format!("delete_allall{NOW}"),
        ),
        (
            "delete_all",
            json!({"timestamp": NOW, "namespace": 3}),
            format!("delete_all3{NOW}"),
        ),
        (
            "delete_before",
            json!({"before": NOW}),
            format!("delete_before{NOW}"),
        ),
        (
            "expire_all",
            json!({"expiry": NOW + 1000, "namespace": -10}),
            format!("expire_all-10{}", NOW + 1000),
        ),
        (
            "expire",
            json!({"messages": [h1], "expiry": NOW + 5}),
            format!("expire{}{h1}", NOW + 5),
        ),
        (
            "expire",
            json!({"messages": [h1], "expiry": NOW + 5, "shorten": true}),
            format!("expireshorten{}{h1}", NOW + 5),
        ),
        (
            "expire",
            json!({"messages": [h1], "expiry": NOW + 5, "extend": true}),
            format!("expireextend{}{h1}", NOW + 5),
        ),
        (
            "get_expiries",
            json!({"messages": [h1, h2], "timestamp": NOW}),
            format!("get_expiries{NOW}{h1}{h2}"),
        ),
    ];
    for (method, params, msg) in cases {
        let p = signed_params(&id, &msg, params);
        let req = parse(json!({"method": method, "params": p})).unwrap();
        assert_eq!(req.signed_message().unwrap(), msg.as_bytes(), "{method}");
        req.check(NOW).unwrap_or_else(|e| panic!("{method}: {e}"));
        // The same request signed over anything else is refused with 401.
        let forged = signed_params(&id, "something else", p.clone());
        let e = parse(json!({"method": method, "params": forged}))
            .unwrap()
            .check(NOW)
            .unwrap_err();
        assert_eq!(e.status(), 401, "{method}");
        // And it serializes back to what it parsed from.
        assert_eq!(
            Request::parse(req.to_json().to_string().as_bytes()).unwrap(),
            req
        );
    }
}

#[test]
fn time_rules_of_namespace_ops() {
    let id = user();
    let run = |method: &str, field: &str, t: i64| {
        let msg = format!("{method}{t}");
        let p = signed_params(&id, &msg, json!({ field: t }));
        parse(json!({"method": method, "params": p}))
            .unwrap()
            .check(NOW)
    };
    let e = run("delete_all", "timestamp", NOW - 61_000).unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (406, "delete_all timestamp too far from current time")
    );
    let e = run("delete_before", "before", NOW + 61_000).unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (401, "delete_before timestamp too far in the future")
    );
    run("delete_before", "before", NOW - 86_400_000).unwrap();
    let e = run("expire_all", "expiry", NOW - 61_000).unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (406, "expire_all timestamp should be >= current time")
    );
}

#[test]
fn envelope_errors() {
    let e = Request::parse(b"{not json").unwrap_err();
    assert_eq!((e.status(), e.body()), (400, "invalid json"));
    assert_eq!(
        err(json!({"params": {}})),
        (400, "invalid json: no `method` field".into())
    );
    assert_eq!(
        err(json!({"method": 5, "params": {}})),
        (400, "invalid json: no `method` field".into())
    );
    assert_eq!(
        err(json!({"method": "info"})),
        (400, "invalid json: no `params` field".into())
    );
    assert_eq!(
        err(json!({"method": "info", "params": []})),
        (400, "invalid json: no `params` field".into())
    );
    assert_eq!(
        err(json!({"method": "frobnicate", "params": {}})),
        (400, "no method frobnicate".into())
    );
    assert_eq!(
        parse(json!({"method": "info", "params": {}})).unwrap(),
        Request::Info
    );
}

#[test]
fn parameter_errors() {
    let pk = user().session_id().to_string();
    let data = STANDARD.encode(b"x");
    let store = |p: Value| err(json!({"method": "store", "params": p}));
    assert_eq!(
        store(json!({"timestamp": NOW, "ttl": 20_000, "data": data})),
        invalid("Required field 'pubkey' missing")
    );
    assert_eq!(
        store(json!({"pubkey": "05abc", "timestamp": NOW, "ttl": 20_000, "data": data})),
        invalid("Pubkey must be 66 hex digits (33 bytes) long")
    );
    assert_eq!(
        store(json!({"pubkey": pk, "pubKey": pk, "timestamp": NOW, "ttl": 20_000, "data": data})),
        invalid("Cannot specify both 'pubkey' and 'pubKey'")
    );
    assert_eq!(
        store(json!({"pubkey": pk, "ttl": 20_000, "data": data})),
        invalid("Required field 'timestamp' missing")
    );
    assert_eq!(
        store(json!({"pubkey": pk, "timestamp": NOW, "data": data})),
        invalid("Required field 'expiry' or 'ttl' missing")
    );
    assert_eq!(
        store(
            json!({"pubkey": pk, "timestamp": NOW, "ttl": 20_000, "expiry": NOW + 20_000, "data": data})
        ),
        invalid("Cannot specify both 'expiry' and 'ttl'")
    );
    assert_eq!(
        store(json!({"pubkey": pk, "timestamp": NOW, "ttl": 20_000})),
        invalid("Required field 'data' missing")
    );
    assert_eq!(
        store(json!({"pubkey": pk, "timestamp": NOW, "ttl": 20_000, "data": "!!"})),
        invalid("Invalid 'data' value: not base64 encoded")
    );
    assert_eq!(
        store(json!({"pubkey": pk, "timestamp": NOW, "ttl": 20_000, "data": "A".repeat(102_404)})),
        invalid("Message body exceeds maximum allowed length of 76800 bytes")
    );
    assert_eq!(
        store(json!({"pubkey": pk, "timestamp": NOW, "ttl": true, "data": data})),
        invalid("Invalid value given for 'ttl': expected positive integer")
    );
    assert_eq!(
        store(json!({"pubkey": pk, "timestamp": "soon", "ttl": 20_000, "data": data})),
        invalid("Invalid value given for 'timestamp': \"soon\"")
    );
    assert_eq!(
        store(json!({"pubkey": pk, "timestamp": NOW, "expiry": 1_700_000, "data": data})),
        invalid("Invalid timestamp for 'expiry': timestamp must be in milliseconds")
    );
    assert_eq!(
        store(
            json!({"pubkey": pk, "timestamp": NOW, "ttl": 20_000, "namespace": 40_000, "data": data})
        ),
        invalid("Invalid value given for 'namespace': value out of range")
    );
    assert_eq!(
        store(
            json!({"pubkey": pk, "timestamp": NOW, "ttl": 20_000, "namespace": "2", "data": data})
        ),
        invalid("Invalid value given for 'namespace': expected 16-bit integer")
    );
    assert_eq!(
        store(
            json!({"pubkey": pk, "timestamp": NOW, "ttl": 20_000, "data": data, "signature": "short"})
        ),
        invalid("invalid signature: expected base64 encoded Ed25519 signature")
    );
    let group = format!("03{}", &pk[2..]);
    let sig = STANDARD.encode([0u8; 64]);
    assert_eq!(
        store(
            json!({"pubkey": group, "timestamp": NOW, "ttl": 20_000, "data": data, "signature": sig, "pubkey_ed25519": "00".repeat(32)})
        ),
        invalid("pubkey_ed25519 is only permitted for 05[...] pubkeys")
    );
    assert_eq!(
        store(
            json!({"pubkey": pk, "timestamp": NOW, "ttl": 20_000, "data": data, "signature": sig, "pubkey_ed25519": "zz".repeat(32)})
        ),
        invalid("invalid pubkey_ed25519: value is not hex")
    );
    assert_eq!(
        store(
            json!({"pubkey": pk, "timestamp": NOW, "ttl": 20_000, "data": data, "signature": sig, "pubkey_ed25519": "ab"})
        ),
        invalid("Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey")
    );

    let retrieve = |p: Value| err(json!({"method": "retrieve", "params": p}));
    let base = signed_params(&user(), "x", json!({"timestamp": NOW, "namespace": -10}));
    let with = |k: &str, v: Value| {
        let mut p = base.clone();
        p[k] = v;
        p
    };
    assert_eq!(
        retrieve(with("last_hash", json!("abc"))),
        invalid("Invalid last_hash: expected base64 (43 chars)")
    );
    assert_eq!(
        retrieve(with("last_hash", json!("!".repeat(43)))),
        invalid("Invalid last_hash: not base64")
    );
    assert_eq!(
        retrieve(with("timestamp", json!(999_999_999))),
        invalid("Invalid timestamp for 'timestamp': timestamp must be in milliseconds")
    );
    assert_eq!(
        retrieve(with("timestamp", json!(-5))),
        invalid(
            "Invalid value given for 'timestamp': expected integer timestamp (in milliseconds)"
        )
    );
    let mut both = with("last_hash", json!(""));
    both["lastHash"] = json!("");
    assert_eq!(
        retrieve(both),
        invalid("Cannot specify both 'last_hash' and 'lastHash'")
    );

    let delete = |p: Value| err(json!({"method": "delete", "params": p}));
    assert_eq!(
        delete(signed_params(&user(), "x", json!({"messages": []}))),
        invalid("messages does not contain any message hashes")
    );
    assert_eq!(
        delete(signed_params(&user(), "x", json!({"messages": ["nope"]}))),
        invalid("invalid message hash: nope")
    );
    assert_eq!(
        delete(signed_params(&user(), "x", json!({"messages": [1]}))),
        invalid("Invalid value given for 'messages': expected string array")
    );
    assert_eq!(
        delete(json!({"pubkey": pk, "messages": ["x"]})),
        invalid("Required field 'signature' missing")
    );
    assert_eq!(
        err(
            json!({"method": "delete_all", "params": signed_params(&user(), "x", json!({"timestamp": NOW, "namespace": "some"}))})
        ),
        invalid("Invalid value given for 'namespace': expected integer or \"all\"")
    );
    assert_eq!(
        err(
            json!({"method": "expire", "params": signed_params(&user(), "x", json!({"messages": [message_hash(&account(&user()), Namespace(0), b"")], "expiry": NOW, "shorten": true, "extend": true}))})
        ),
        invalid("cannot specify both 'shorten' and 'extend'")
    );
    assert_eq!(
        err(json!({"method": "get_swarm", "params": {"pubkey": "05"}})),
        invalid("Pubkey must be 66 hex digits/33 bytes long")
    );
}

#[test]
fn batch_rules() {
    let info = json!({"method": "info", "params": {}});
    let req = parse(json!({"method": "batch", "params": {"requests": [info, info]}})).unwrap();
    assert_eq!(req, Request::Batch(vec![Request::Info, Request::Info]));
    let seq = parse(json!({"method": "sequence", "params": {"requests": [info]}})).unwrap();
    assert_eq!(seq, Request::Sequence(vec![Request::Info]));
    let batch = |requests: Value| err(json!({"method": "batch", "params": {"requests": requests}}));
    assert_eq!(
        batch(json!("x")),
        invalid("Invalid batch request: no valid \"requests\" field")
    );
    assert_eq!(
        batch(json!(vec![info.clone(); 21])),
        invalid("Invalid batch request: subrequest limit exceeded")
    );
    assert_eq!(
        batch(json!([1])),
        invalid("Invalid batch request: requests must be objects")
    );
    assert_eq!(
        batch(json!([{"method": "info"}])),
        invalid("Invalid batch request: subrequests must have method/params keys")
    );
    assert_eq!(
        batch(json!([{"method": "batch", "params": {"requests": [info]}}])),
        invalid("Invalid batch subrequest: subrequests may not contain meta-requests")
    );
    assert_eq!(
        batch(json!([{"method": "sequence", "params": {"requests": [info]}}])),
        invalid("Invalid batch subrequest: subrequests may not contain meta-requests")
    );
    // A nested meta-request is parsed before it is refused, as the reference does.
    assert_eq!(
        batch(json!([{"method": "batch", "params": {"requests": []}}])),
        invalid("Invalid batch request: no valid \"requests\" field")
    );
    assert_eq!(
        batch(json!([])),
        invalid("Invalid batch request: no valid \"requests\" field")
    );
    assert_eq!(
        err(json!({"method": "sequence", "params": {}})),
        invalid("Invalid batch request: no valid \"requests\" field")
    );
    let twenty = parse(json!({"method": "batch", "params": {"requests": vec![info.clone(); 20]}}));
    assert_eq!(twenty.unwrap(), Request::Batch(vec![Request::Info; 20]));
    assert_eq!(
        batch(json!([{"method": "frob", "params": {}}])),
        invalid("Invalid batch subrequest: invalid method \"frob\"")
    );
    // A subrequest's own parameter errors surface as they are.
    assert_eq!(
        batch(json!([{"method": "get_swarm", "params": {}}])),
        invalid("Required field 'pubkey' missing")
    );
}

#[test]
fn retrieve_size_budget() {
    let r = |max_count, max_size| Retrieve {
        account: account(&user()),
        namespace: Namespace(0),
        last_hash: None,
        max_count,
        max_size,
        auth: None,
    };
    assert_eq!(r(0, 0).size_budget(), 7_800_000 / 5);
    assert_eq!(r(0, -2).size_budget(), 3_900_000);
    assert_eq!(r(0, 1000).size_budget(), 1000);
    assert_eq!(r(0, 99_000_000).size_budget(), 7_800_000);
    assert_eq!(r(10, 0).size_budget(), 7_800_000);
}

#[test]
fn namespace_classes_from_namespace_h() {
    for ns in [-11, -111, -12_311] {
        assert!(Namespace(ns).is_unrevocable(), "{ns}");
    }
    for ns in [11, -1, -12, -10] {
        assert!(!Namespace(ns).is_unrevocable(), "{ns}");
    }
    for ns in [i16::MIN, i16::MAX, -1_230, 400] {
        // Extremes classify without overflow.
        let _ = Namespace(ns).is_public_outbox();
    }
    assert!(Namespace(-981).is_public_outbox());
    assert!(!Namespace(1).is_public_outbox());
    assert_eq!(Namespace(2).max_ttl_ms(), 30 * 86_400_000);
    assert_eq!(Namespace(-10).max_ttl_ms(), 14 * 86_400_000);
    assert_eq!(Namespace::USER_PROFILE, Namespace(2));
    assert_eq!(Namespace::REVOKED_GROUP_MESSAGES, Namespace(-11));
}

#[test]
fn retrieve_auth_is_read_when_any_part_is_given() {
    let pk = user().session_id().to_string();
    let retrieve = |p: Value| err(json!({"method": "retrieve", "params": p}));
    // An explicit namespace that needs auth, or any auth field, makes the signature required
    // at parse time (400) ...
    for extra in [
        json!({"namespace": 0}),
        json!({"namespace": 2}),
        json!({"timestamp": NOW}),
        json!({"pubkey_ed25519": user().ed25519_public().to_hex()}),
    ] {
        let mut p = extra.clone();
        p["pubkey"] = json!(pk);
        assert_eq!(
            retrieve(p),
            invalid("Required field 'signature' missing"),
            "{extra}"
        );
    }
    // ... while an absent namespace leaves the 401 to the check.
    let e = parse(json!({"method": "retrieve", "params": {"pubkey": pk}}))
        .unwrap()
        .check(NOW)
        .unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (401, "retrieve: request signature required")
    );
    // A signature without a timestamp.
    let sig = STANDARD.encode([0u8; 64]);
    assert_eq!(
        retrieve(json!({"pubkey": pk, "signature": sig})),
        invalid("Required field 'timestamp' missing")
    );
    // Public outboxes read without auth.
    parse(json!({"method": "retrieve", "params": {"pubkey": pk, "namespace": -21}}))
        .unwrap()
        .check(NOW)
        .unwrap();
    assert_eq!(
        retrieve(json!({"pubkey": pk, "max_count": "5"})),
        invalid("Invalid value given for 'max_count': expected integer")
    );
    assert_eq!(
        retrieve(json!({"pubkey": pk, "max_size": 1.5})),
        invalid("Invalid value given for 'max_size': expected integer")
    );
    let Request::Retrieve(r) = parse(
        json!({"method": "retrieve", "params": {"pubkey": pk, "namespace": -10, "max_count": -3, "max_size": -2}}),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!((r.max_count, r.max_size), (0, -2));
}

#[test]
fn store_data_and_signature_rules() {
    let id = user();
    let pk = id.session_id().to_string();
    let store = |data: &str| {
        parse(json!({"method": "store", "params": {
            "pubkey": pk, "timestamp": NOW, "ttl": 86_400_000, "data": data}}))
    };
    // Padding is optional and stray trailing bits are ignored, as oxenc decodes.
    let Request::Store(s) = store("aGk").unwrap() else {
        panic!()
    };
    assert_eq!(s.data, b"hi");
    let Request::Store(s) = store("aGl").unwrap() else {
        panic!()
    };
    assert_eq!(s.data, b"hi");
    assert_eq!(store("").map(|r| matches!(r, Request::Store(_))), Ok(true));
    assert_eq!(
        store("aGk=a").unwrap_err().body(),
        "invalid request: Invalid 'data' value: not base64 encoded"
    );
    // The largest body is accepted, one base64 quantum more is not; invalid base64 is reported
    // before the size.
    store(&STANDARD.encode(vec![7u8; 76_800])).unwrap();
    assert_eq!(
        store(&STANDARD.encode(vec![7u8; 76_803]))
            .unwrap_err()
            .body(),
        "invalid request: Message body exceeds maximum allowed length of 76800 bytes"
    );
    assert_eq!(
        store(&"!".repeat(200_000)).unwrap_err().body(),
        "invalid request: Invalid 'data' value: not base64 encoded"
    );
    // A signature sent to a public inbox is not checked.
    let junk = json!({"method": "store", "params": {
        "pubkey": pk, "timestamp": NOW, "ttl": 86_400_000, "data": "",
        "signature": STANDARD.encode([1u8; 64])}});
    parse(junk).unwrap().check(NOW).unwrap();
    // TTL bounds: 10 s minimum, 14 days public, 30 days private.
    let ttl_check = |ns: i16, ttl: i64| {
        let msg = format!("store{}{NOW}", Namespace(ns).sig_str());
        let p = signed_params(
            &id,
            &msg,
            json!({"namespace": ns, "timestamp": NOW, "ttl": ttl, "data": ""}),
        );
        parse(json!({"method": "store", "params": p}))
            .unwrap()
            .check(NOW)
            .map_err(|e| e.status())
    };
    assert_eq!(ttl_check(0, 10_000), Ok(()));
    assert_eq!(ttl_check(0, 9_999), Err(403));
    assert_eq!(ttl_check(0, 14 * 86_400_000), Ok(()));
    assert_eq!(ttl_check(0, 14 * 86_400_000 + 1), Err(403));
    assert_eq!(ttl_check(3, 30 * 86_400_000), Ok(()));
    assert_eq!(ttl_check(3, 30 * 86_400_000 + 1), Err(403));
    // Expiry already past (with tolerance) is a clock error.
    let p = json!({"pubkey": pk, "timestamp": NOW - 100_000, "expiry": NOW - 10_001, "data": ""});
    let e = parse(json!({"method": "store", "params": p}))
        .unwrap()
        .check(NOW)
        .unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (406, "Timestamp error: check your clock")
    );
    // Extreme values neither overflow nor pass.
    let p = json!({"pubkey": pk, "timestamp": i64::MIN, "ttl": u64::MAX, "data": ""});
    assert_eq!(
        parse(json!({"method": "store", "params": p}))
            .unwrap()
            .check(NOW)
            .unwrap_err()
            .status(),
        403
    );
    let p = json!({"pubkey": pk, "timestamp": "-5", "ttl": "+20000", "data": ""});
    assert_eq!(
        err(json!({"method": "store", "params": p})),
        invalid("Invalid value given for 'ttl': \"+20000\"")
    );
}

#[test]
fn type_errors_come_first_in_field_order() {
    // The reference reads all field types (alphabetically) before checking presence.
    assert_eq!(
        err(json!({"method": "store", "params": {"data": 5}})),
        invalid("Invalid value given for 'data': expected string")
    );
    assert_eq!(
        err(json!({"method": "store", "params": {"ttl": -1, "subaccount": 1}})),
        invalid("Invalid value given for 'subaccount': expected string")
    );
    assert_eq!(
        err(json!({"method": "delete", "params": {"required": "yes", "pubkey": "x"}})),
        invalid("Invalid value given for 'required': expected boolean")
    );
    assert_eq!(
        err(json!({"method": "delete_before", "params": {"before": "soon", "namespace": "x"}})),
        invalid("Invalid value given for 'before': expected integer timestamp (in milliseconds)")
    );
    assert_eq!(
        err(json!({"method": "delete_all", "params": {"timestamp": "soon", "namespace": "x"}})),
        invalid("Invalid value given for 'namespace': expected integer or \"all\"")
    );
    assert_eq!(
        err(json!({"method": "delete_all", "params": {"namespace": 32_768}})),
        invalid("Invalid value given for 'namespace': value out of range")
    );
    assert_eq!(
        err(json!({"method": "get_expiries", "params": {"messages": {}}})),
        invalid("Invalid value given for 'messages': expected string array")
    );
    assert_eq!(
        err(json!({"method": "delete_all", "params": {"pubkey": user().session_id().to_string()}})),
        invalid("Required field 'signature' missing")
    );
    assert_eq!(
        err(json!({"method": "expire_all", "params": signed_params(&user(), "x", json!({}))})),
        invalid("Required field 'expiry' missing")
    );
    assert_eq!(
        err(json!({"method": "delete_before", "params": signed_params(&user(), "x", json!({}))})),
        invalid("Required field 'before' missing")
    );
    assert_eq!(
        err(
            json!({"method": "get_expiries", "params": signed_params(&user(), "x", json!({"messages": ["a"]}))})
        ),
        invalid("Required field 'timestamp' missing")
    );
    assert_eq!(
        err(
            json!({"method": "get_expiries", "params": signed_params(&user(), "x", json!({"timestamp": NOW}))})
        ),
        invalid("Required field 'messages' missing")
    );
}

#[test]
fn pubkey_forms() {
    let pk = user().session_id().to_string();
    let swarm = |v: Value| parse(json!({"method": "get_swarm", "params": v}));
    // Upper-case hex, and the old alias.
    assert_eq!(
        swarm(json!({"pubkey": pk.to_uppercase()})).unwrap(),
        swarm(json!({"pubKey": pk})).unwrap()
    );
    // 33 raw bytes as a string are taken as the key, as the reference does.
    let Request::GetSwarm(raw) = swarm(json!({"pubkey": "a".repeat(33)})).unwrap() else {
        panic!()
    };
    assert_eq!(raw.as_bytes(), &[b'a'; 33]);
    for bad in [
        &pk[..64],
        &format!("{pk}00"),
        &format!("zz{}", &pk[2..]),
        "",
    ] {
        assert_eq!(
            err(json!({"method": "get_swarm", "params": {"pubkey": bad}})),
            invalid("Pubkey must be 66 hex digits/33 bytes long"),
            "{bad}"
        );
        assert_eq!(
            err(json!({"method": "delete", "params": {"pubkey": bad}})),
            invalid("Pubkey must be 66 hex digits (33 bytes) long"),
            "{bad}"
        );
    }
    assert_eq!(
        err(json!({"method": "get_swarm", "params": {"pubkey": pk, "pubKey": pk}})),
        invalid("Cannot specify both 'pubkey' and 'pubKey'")
    );
    assert_eq!(
        err(json!({"method": "get_swarm", "params": {}})),
        invalid("Required field 'pubkey' missing")
    );
    assert_eq!(
        err(json!({"method": "get_swarm", "params": {"pubkey": 5}})),
        invalid("Invalid value given for 'pubkey': expected string")
    );
    // pubkey_ed25519 may also be 32 raw bytes.
    let p = json!({"pubkey": pk, "pubkey_ed25519": "b".repeat(32), "signature": STANDARD.encode([0u8; 64]), "messages": [message_hash(&account(&user()), Namespace(0), b"")]});
    let Request::Delete(d) = parse(json!({"method": "delete", "params": p})).unwrap() else {
        panic!()
    };
    assert_eq!(d.auth.pubkey_ed25519, Some([b'b'; 32]));
}

#[test]
fn signature_encodings() {
    let pk = user().session_id().to_string();
    let h = message_hash(&account(&user()), Namespace(0), b"");
    let delete = |sig: Value| {
        err(
            json!({"method": "delete", "params": {"pubkey": pk, "messages": [h], "signature": sig}}),
        )
    };
    let bad = invalid("invalid signature: expected base64 encoded Ed25519 signature");
    let good = STANDARD.encode([9u8; 64]);
    assert_eq!(
        delete(json!(hex::encode([9u8; 64]))),
        bad,
        "hex is not accepted"
    );
    assert_eq!(delete(json!(&good[..85])), bad);
    assert_eq!(delete(json!(format!("{}=", &good[..86]))), bad);
    assert_eq!(delete(json!(format!("{}A=", &good[..86]))), bad);
    assert_eq!(delete(json!(format!("{}!", &good[..85]))), bad);
    assert_eq!(
        delete(json!(64)),
        invalid("Invalid value given for 'signature': expected string")
    );
}

#[test]
fn expire_forms() {
    let id = user();
    let h = message_hash(&account(&id), Namespace(0), b"1");
    let h2 = message_hash(&account(&id), Namespace(0), b"2");
    let expire =
        |p: Value| parse(json!({"method": "expire", "params": signed_params(&id, "x", p)}));
    // A single string for messages and a one-element expiry list are the plain form.
    let a = expire(json!({"messages": h, "expiry": [NOW]})).unwrap();
    let b = expire(json!({"messages": [h], "expiry": NOW})).unwrap();
    assert_eq!(a, b);
    // Per-message expiries parse, and are refused by a 19.3 node with 403 after the clock check.
    let multi = json!({"messages": [h, h2], "expiry": [NOW + 1, NOW + 2]});
    let Request::Expire(e) = expire(multi.clone()).unwrap() else {
        panic!()
    };
    assert_eq!(e.expiries(), vec![NOW + 1, NOW + 2]);
    let msg = format!("expire{}{}{h}{h2}", NOW + 1, NOW + 2);
    let req =
        parse(json!({"method": "expire", "params": signed_params(&id, &msg, multi)})).unwrap();
    assert_eq!(req.signed_message().unwrap(), msg.as_bytes());
    let e = req.check(NOW).unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (
            403,
            "expire: multi-expiry requests are not yet active on the network"
        )
    );
    let e = expire(json!({"messages": [h, h2], "expiry": [NOW - 61_000, NOW]}))
        .unwrap()
        .check(NOW)
        .unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (401, "expire: timestamp should be >= current time")
    );
    // Expiries in seconds are not caught at parse time: the clock check refuses them.
    let e = expire(json!({"messages": [h], "expiry": 1_700_000_000}))
        .unwrap()
        .check(NOW)
        .unwrap_err();
    assert_eq!(e.status(), 401);
    let bad = |p: Value| expire(p).unwrap_err().body().to_owned();
    assert_eq!(
        bad(json!({"messages": [h, h2], "expiry": [NOW, NOW, NOW]})),
        "invalid request: 'expiry' must be a single expiry, or the same length as 'messages'"
    );
    assert_eq!(
        bad(json!({"messages": [h], "expiry": []})),
        "invalid request: 'expiry' does not contain any expiration timestamps"
    );
    assert_eq!(
        bad(json!({"messages": [h], "expiry": ["soon"]})),
        "invalid request: Invalid value given for 'expiry': expected timestamp array"
    );
    assert_eq!(
        bad(json!({"messages": [h]})),
        "invalid request: Required field 'expiry' missing"
    );
    assert_eq!(
        bad(json!({"messages": [], "expiry": NOW})),
        "invalid request: messages does not contain any message hashes"
    );
    // get_expiries does not check the form of its hashes; delete and expire do.
    let ge = parse(
        json!({"method": "get_expiries", "params": signed_params(&id, "x", json!({"messages": ["nope"], "timestamp": NOW}))}),
    );
    assert!(ge.is_ok());
    assert_eq!(
        bad(json!({"messages": ["nope"], "expiry": NOW})),
        "invalid request: invalid message hash: nope"
    );
}

#[test]
fn timestamp_edges() {
    let id = user();
    let run = |ts: Value| {
        err(
            json!({"method": "delete_all", "params": signed_params(&id, "x", json!({"timestamp": ts}))}),
        )
    };
    let secs = invalid("Invalid timestamp for 'timestamp': timestamp must be in milliseconds");
    assert_eq!(run(json!(999_999_999)), secs);
    // Beyond i64 the reference's int64 read wraps negative: also "in milliseconds".
    assert_eq!(run(json!(u64::MAX)), secs);
    assert_eq!(
        run(json!(1.7e12)),
        invalid(
            "Invalid value given for 'timestamp': expected integer timestamp (in milliseconds)"
        )
    );
    // The window is inclusive: exactly 60 s either way passes the clock check.
    for (ts, ok) in [
        (NOW - 60_000, true),
        (NOW + 60_000, true),
        (NOW - 60_001, false),
        (NOW + 60_001, false),
    ] {
        let msg = format!("delete_all{ts}");
        let p = signed_params(&id, &msg, json!({"timestamp": ts}));
        let res = parse(json!({"method": "delete_all", "params": p}))
            .unwrap()
            .check(NOW);
        assert_eq!(res.is_ok(), ok, "{ts}");
    }
    // get_expiries has the same window.
    let h = message_hash(&account(&id), Namespace(0), b"");
    let ts = NOW + 61_000;
    let p = signed_params(
        &id,
        &format!("get_expiries{ts}{h}"),
        json!({"timestamp": ts, "messages": [h]}),
    );
    let e = parse(json!({"method": "get_expiries", "params": p}))
        .unwrap()
        .check(NOW)
        .unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (406, "get_expiries timestamp too far from current time")
    );
    // Extreme node clocks do not overflow.
    let p = signed_params(&id, "x", json!({"timestamp": NOW}));
    let req = parse(json!({"method": "delete_all", "params": p})).unwrap();
    assert_eq!(req.check(i64::MAX).unwrap_err().status(), 406);
    assert_eq!(req.check(i64::MIN).unwrap_err().status(), 406);
}

#[test]
fn client_builds_and_signs_requests() {
    use sotto_rpc::{sig, Auth, Delete, Retrieve};
    let id = user();
    let acct = AccountId::from(id.session_id());
    let h = sotto_rpc::MessageHash::compute(&acct, Namespace(0), b"x");
    let retrieve = Request::Retrieve(Retrieve {
        account: acct,
        namespace: Namespace(0),
        last_hash: Some(h.clone()),
        max_count: 0,
        max_size: -5,
        auth: Some((Auth::sign(&id, &sig::retrieve(Namespace(0), NOW)), NOW)),
    });
    let body = retrieve.to_json().to_string();
    let parsed = Request::parse(body.as_bytes()).unwrap();
    assert_eq!(parsed, retrieve);
    parsed.check(NOW).unwrap();
    let messages = vec![h.to_string()];
    let delete = Request::Delete(Delete {
        account: acct,
        auth: Auth::sign(&id, &sig::delete(&messages)),
        messages,
        required: true,
    });
    Request::parse(delete.to_json().to_string().as_bytes())
        .unwrap()
        .check(NOW)
        .unwrap();
}

/// `oxend_request` for the node list (`storage-rpc.md` §3.10): the fields asked for are kept,
/// any other endpoint is refused with upstream's text, and the request survives `to_json`.
#[test]
fn oxend_request_get_service_nodes() {
    let req = parse(json!({"method": "oxend_request", "params": {"endpoint": "get_service_nodes",
        "params": {"active_only": true, "fields": {"public_ip": true, "storage_port": true, "swarm_id": false}}}}))
    .unwrap();
    let Request::GetServiceNodes { fields } = &req else {
        panic!("{req:?}");
    };
    let mut fields = fields.clone();
    fields.sort();
    assert_eq!(fields, ["public_ip", "storage_port"]);
    assert_eq!(parse(req.to_json()).unwrap(), req);
    assert!(matches!(
        parse(json!({"method": "oxend_request", "params": {"endpoint": "get_service_nodes", "params": null}})),
        Ok(Request::GetServiceNodes { fields }) if fields.is_empty()
    ));
    assert_eq!(
        err(
            json!({"method": "oxend_request", "params": {"endpoint": "ons_resolve", "params": {}}})
        ),
        invalid("Invalid oxend endpoint 'ons_resolve'")
    );
    assert_eq!(
        err(json!({"method": "oxend_request", "params": {}})),
        invalid("Required field 'endpoint' missing")
    );
    assert_eq!(
        err(json!({"method": "oxend_request", "params": {"endpoint": 5}})),
        invalid("endpoint: expected a string")
    );
}
