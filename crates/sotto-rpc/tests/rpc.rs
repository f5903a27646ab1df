//! The storage RPC core: hash vectors, signed requests made as a client makes them, every
//! parameter and check error with the reference's status and text, and round trips.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Value};
use sotto_crypto::{Identity, Seed};
use sotto_rpc::{
    message_hash, AccountId, Auth, Namespace, NamespaceSelector, Request, Retrieve, RpcError, Store,
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
fn message_hash_vectors() {
    // client.md §3.3 (derived).
    let acct: AccountId = "05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74"
        .parse()
        .unwrap();
    assert_eq!(
        message_hash(&acct, Namespace(0), b"hello"),
        "WUsPnLucc03Esj+vFRAvW6yUX4+Wij3g1VcUSbjbQys"
    );
    assert_eq!(
        message_hash(&acct, Namespace(2), b"hello"),
        "Ih6hYyhQj+2dQ9KdmbXd9ykTHed/8Aa+LraSe6bNKJE"
    );
    assert!(sotto_rpc::is_valid_message_hash(&message_hash(
        &acct,
        Namespace(-10),
        b""
    )));
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
        batch(json!([{"method": "batch", "params": {"requests": []}}])),
        invalid("Invalid batch subrequest: subrequests may not contain meta-requests")
    );
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

fn arb_store() -> impl Strategy<Value = Store> {
    (
        any::<[u8; 16]>(),
        -50i16..50,
        0i64..1000,
        10_000i64..1_000_000,
        proptest::collection::vec(any::<u8>(), 0..300),
        any::<bool>(),
    )
        .prop_map(|(seed, ns, dt, ttl, data, signed)| {
            let id = Identity::from_seed(&Seed::Standard(seed));
            let timestamp = NOW + dt;
            Store {
                account: account(&id),
                namespace: Namespace(ns),
                timestamp,
                expiry: timestamp + ttl,
                data,
                auth: signed.then(|| Auth {
                    pubkey_ed25519: Some(id.ed25519_public().0),
                    signature: id.sign(b"anything"),
                }),
                sig_timestamp: timestamp,
            }
        })
}

proptest! {
    #[test]
    fn store_round_trips(store in arb_store()) {
        let req = Request::Store(store);
        prop_assert_eq!(Request::parse(req.to_json().to_string().as_bytes()).unwrap(), req);
    }

    #[test]
    fn retrieve_round_trips(seed in any::<[u8; 16]>(), ns in any::<i16>(), count in 0u64..100, size in -10i64..100_000, signed in any::<bool>(), last in proptest::option::of(any::<[u8; 4]>())) {
        let id = Identity::from_seed(&Seed::Standard(seed));
        let acct = account(&id);
        let namespace = Namespace(ns);
        let auth = (signed || !namespace.is_no_auth_retrieve()).then(|| (Auth { pubkey_ed25519: Some(id.ed25519_public().0), signature: id.sign(b"x") }, NOW));
        let req = Request::Retrieve(Retrieve {
            account: acct,
            namespace,
            last_hash: last.map(|l| message_hash(&acct, namespace, &l)),
            max_count: count,
            max_size: size,
            auth,
        });
        prop_assert_eq!(Request::parse(req.to_json().to_string().as_bytes()).unwrap(), req);
    }

    #[test]
    fn arbitrary_json_never_panics(method in prop_oneof![Just("store"), Just("retrieve"), Just("delete"), Just("expire"), Just("batch"), Just("delete_all"), Just("get_expiries")], params in arb_json(3)) {
        let body = json!({"method": method, "params": params}).to_string();
        if let Ok(req) = Request::parse(body.as_bytes()) {
            let _ = req.check(NOW);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Request::parse(&body);
    }
}

fn arb_json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (1_600_000_000_000i64..1_800_000_000_000).prop_map(|n| json!(n)),
        ".{0,50}".prop_map(Value::String),
        Just(json!(
            "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
        )),
    ];
    leaf.prop_recursive(depth, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("pubkey".to_owned()),
                    Just("timestamp".to_owned()),
                    Just("ttl".to_owned()),
                    Just("data".to_owned()),
                    Just("namespace".to_owned()),
                    Just("messages".to_owned()),
                    Just("signature".to_owned()),
                    Just("requests".to_owned()),
                    Just("method".to_owned()),
                    Just("params".to_owned()),
                    ".{0,8}".prop_map(|s| s)
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
