//! Property tests: every request type serializes to JSON and parses back to the same value, and
//! no input — random bytes or random JSON shaped like requests — makes parsing or checking panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use serde_json::{json, Value};
use sotto_crypto::{Identity, Seed};
use sotto_rpc::{
    AccountId, Auth, Delete, Expire, ExpireMode, GetExpiries, MessageHash, Namespace, NamespaceOp,
    NamespaceSelector, Request, Retrieve, Store,
};

const NOW: i64 = 1_700_000_000_000;

/// A signer and the account it signs for: a Session ID (with `pubkey_ed25519`) or a group key.
fn arb_signer() -> impl Strategy<Value = (Identity, AccountId, bool)> {
    (any::<[u8; 16]>(), any::<bool>()).prop_map(|(seed, group)| {
        let id = Identity::from_seed(&Seed::Standard(seed));
        let account = if group {
            AccountId::new(0x03, id.ed25519_public().0)
        } else {
            AccountId::from(id.session_id())
        };
        (id, account, group)
    })
}

fn auth(id: &Identity, group: bool, msg: &[u8]) -> Auth {
    let mut a = Auth::sign(id, msg);
    if group {
        a.pubkey_ed25519 = None;
    }
    a
}

fn arb_time() -> impl Strategy<Value = i64> {
    1_000_000_000i64..4_000_000_000_000
}

fn arb_hashes() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(any::<[u8; 8]>(), 1..6).prop_map(|seeds| {
        let a = AccountId::new(0x05, [1; 32]);
        seeds
            .iter()
            .map(|s| MessageHash::compute(&a, Namespace(0), s).into_string())
            .collect()
    })
}

fn arb_selector() -> impl Strategy<Value = NamespaceSelector> {
    prop_oneof![
        Just(NamespaceSelector::All),
        any::<i16>().prop_map(|n| NamespaceSelector::One(Namespace(n))),
    ]
}

fn arb_mode() -> impl Strategy<Value = ExpireMode> {
    prop_oneof![
        Just(ExpireMode::Set),
        Just(ExpireMode::Shorten),
        Just(ExpireMode::Extend)
    ]
}

fn arb_store() -> impl Strategy<Value = Request> {
    (
        arb_signer(),
        any::<i16>(),
        -1_000_000i64..1_000_000,
        10_000i64..1_000_000,
        proptest::collection::vec(any::<u8>(), 0..300),
        any::<bool>(),
        0i64..100_000,
    )
        .prop_map(
            |((id, account, group), ns, dt, ttl, data, signed, sig_dt)| {
                let timestamp = NOW + dt;
                let sig_timestamp = if signed { NOW + sig_dt } else { timestamp };
                Request::Store(Store {
                    account,
                    namespace: Namespace(ns),
                    timestamp,
                    expiry: timestamp + ttl,
                    data,
                    auth: signed.then(|| auth(&id, group, b"anything")),
                    sig_timestamp,
                })
            },
        )
}

fn arb_retrieve() -> impl Strategy<Value = Request> {
    (
        arb_signer(),
        any::<i16>(),
        0u64..1000,
        any::<i64>(),
        any::<bool>(),
        proptest::option::of(any::<[u8; 4]>()),
        arb_time(),
    )
        .prop_map(
            |((id, account, group), ns, count, size, signed, last, ts)| {
                let namespace = Namespace(ns);
                // An unsigned retrieve is only expressible where no auth is needed, or in ns 0.
                let needs = !namespace.is_no_auth_retrieve() && namespace != Namespace::DEFAULT;
                Request::Retrieve(Retrieve {
                    account,
                    namespace,
                    last_hash: last.map(|l| MessageHash::compute(&account, namespace, &l)),
                    max_count: count,
                    max_size: size,
                    auth: (signed || needs).then(|| (auth(&id, group, b"x"), ts)),
                })
            },
        )
}

fn arb_delete() -> impl Strategy<Value = Request> {
    (arb_signer(), arb_hashes(), any::<bool>()).prop_map(
        |((id, account, group), messages, required)| {
            Request::Delete(Delete {
                account,
                auth: auth(&id, group, b"d"),
                messages,
                required,
            })
        },
    )
}

fn arb_namespace_op() -> impl Strategy<Value = Request> {
    (arb_signer(), arb_selector(), arb_time(), 0u8..3).prop_map(
        |((id, account, group), namespace, time, which)| {
            let op = NamespaceOp {
                account,
                auth: auth(&id, group, b"n"),
                namespace,
                time,
            };
            match which {
                0 => Request::DeleteAll(op),
                1 => Request::DeleteBefore(op),
                _ => Request::ExpireAll(op),
            }
        },
    )
}

fn arb_expire() -> impl Strategy<Value = Request> {
    (
        arb_signer(),
        arb_hashes(),
        arb_time(),
        arb_mode(),
        any::<bool>(),
    )
        .prop_map(|((id, account, group), messages, expiry, mode, multi)| {
            // Per-message expiries need two or more messages (one is the plain form).
            let more_expiries = if multi && messages.len() > 1 {
                (1..messages.len()).map(|i| expiry + i as i64).collect()
            } else {
                Vec::new()
            };
            Request::Expire(Expire {
                account,
                auth: auth(&id, group, b"e"),
                messages,
                expiry,
                more_expiries,
                mode,
            })
        })
}

fn arb_get_expiries() -> impl Strategy<Value = Request> {
    (arb_signer(), arb_hashes(), arb_time()).prop_map(
        |((id, account, group), messages, timestamp)| {
            Request::GetExpiries(GetExpiries {
                account,
                auth: auth(&id, group, b"g"),
                messages,
                timestamp,
            })
        },
    )
}

fn arb_single() -> impl Strategy<Value = Request> {
    prop_oneof![
        arb_store(),
        arb_retrieve(),
        arb_delete(),
        arb_namespace_op(),
        arb_expire(),
        arb_get_expiries(),
        any::<[u8; 33]>().prop_map(|b| Request::GetSwarm(AccountId::from_bytes(b))),
        Just(Request::Info),
    ]
}

fn arb_request() -> impl Strategy<Value = Request> {
    prop_oneof![
        3 => arb_single(),
        1 => (proptest::collection::vec(arb_single(), 1..=20), any::<bool>()).prop_map(|(subs, seq)| {
            if seq {
                Request::Sequence(subs)
            } else {
                Request::Batch(subs)
            }
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_request_round_trips(req in arb_request()) {
        let body = req.to_json().to_string();
        prop_assert_eq!(Request::parse(body.as_bytes()).unwrap(), req.clone());
        // The signed message depends only on the request's content.
        let again = Request::parse(body.as_bytes()).unwrap();
        prop_assert_eq!(again.signed_message(), req.signed_message());
    }

    #[test]
    fn a_signed_request_passes_its_own_check(
        (id, account, group) in arb_signer(),
        messages in arb_hashes(),
        mode in arb_mode(),
        dt in -60_000i64..60_000,
    ) {
        let ts = NOW + dt;
        let unsigned = Auth { pubkey_ed25519: None, signature: [0; 64] };
        let mut req = Request::Expire(Expire {
            account, auth: unsigned, messages, expiry: ts + 3_600_000, more_expiries: vec![], mode,
        });
        let msg = req.signed_message().unwrap();
        if let Request::Expire(e) = &mut req {
            e.auth = auth(&id, group, &msg);
        }
        prop_assert!(req.check(NOW).is_ok());
        let parsed = Request::parse(req.to_json().to_string().as_bytes()).unwrap();
        prop_assert!(parsed.check(NOW).is_ok());
    }

    #[test]
    fn arbitrary_json_never_panics(method in arb_method(), params in arb_json(3), now in any::<i64>()) {
        let body = json!({"method": method, "params": params}).to_string();
        if let Ok(req) = Request::parse(body.as_bytes()) {
            let _ = req.check(now);
            let _ = req.check(NOW);
            if let Request::Retrieve(r) = &req {
                let _ = r.size_budget();
            }
            let _ = req.to_json();
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Request::parse(&body);
    }

    #[test]
    fn errors_are_reference_statuses(method in arb_method(), params in arb_json(2)) {
        let body = json!({"method": method, "params": params}).to_string();
        if let Err(e) = Request::parse(body.as_bytes()) {
            prop_assert_eq!(e.status(), 400);
            prop_assert!(
                e.body().starts_with("invalid request: ") || e.body().starts_with("no method ")
                    || e.body().starts_with("invalid json"),
                "{}", e.body()
            );
        }
    }
}

fn arb_method() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("store"),
        Just("retrieve"),
        Just("delete"),
        Just("delete_all"),
        Just("delete_before"),
        Just("expire_all"),
        Just("expire"),
        Just("get_expiries"),
        Just("get_swarm"),
        Just("info"),
        Just("batch"),
        Just("sequence"),
        Just("frob"),
    ]
}

fn arb_json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        (1_600_000_000_000i64..1_800_000_000_000).prop_map(|n| json!(n)),
        ".{0,50}".prop_map(Value::String),
        "[A-Za-z0-9+/=]{0,90}".prop_map(Value::String),
        Just(json!("all")),
        Just(json!("Sszh3u0uGYMLtNRPsW1pj/F/jCEDk27s8/3QqswXHiA")),
        Just(json!(
            "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
        )),
        Just(json!(
            "03d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
        )),
    ];
    leaf.prop_recursive(depth, 48, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("pubkey".to_owned()),
                    Just("pubKey".to_owned()),
                    Just("pubkey_ed25519".to_owned()),
                    Just("timestamp".to_owned()),
                    Just("sig_timestamp".to_owned()),
                    Just("ttl".to_owned()),
                    Just("expiry".to_owned()),
                    Just("before".to_owned()),
                    Just("data".to_owned()),
                    Just("namespace".to_owned()),
                    Just("messages".to_owned()),
                    Just("signature".to_owned()),
                    Just("last_hash".to_owned()),
                    Just("max_size".to_owned()),
                    Just("shorten".to_owned()),
                    Just("extend".to_owned()),
                    Just("requests".to_owned()),
                    Just("method".to_owned()),
                    Just("params".to_owned()),
                    ".{0,8}".prop_map(|s| s)
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
