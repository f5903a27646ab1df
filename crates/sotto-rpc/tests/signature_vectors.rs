//! Signature vectors: `storage-rpc.md` §6 V3 (request signatures) and V4 (a node's reply
//! signature), `client.md` §4 (retrieve signatures). Each request vector is checked three ways:
//! the message builder gives the signed ASCII, our signing gives the signature, and a request
//! carrying the vector's signature passes the node's checks (and fails with one bit flipped).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use sotto_crypto::{Ed25519PublicKey, Identity, Seed};
use sotto_rpc::{sig, AccountId, ExpireMode, Namespace, NamespaceSelector, Request};

const TS: i64 = 1_700_000_000_000;
const H: &str = "gwTFi7xJfaW/kuECEKV+HwjKWozToGIYTM7R9KyaH7M";

/// V2: Ed25519 seed 00 01 … 1f.
fn v2() -> Identity {
    let seed: [u8; 32] = core::array::from_fn(|i| i as u8);
    Identity::from_ed25519_seed(&seed)
}

/// Run a request signed with `signature` at node time [`TS`].
fn check(id: &Identity, method: &str, mut params: Value, signature: &str) -> Result<(), u16> {
    params["pubkey"] = json!(id.session_id().to_string());
    params["pubkey_ed25519"] = json!(id.ed25519_public().to_hex());
    params["signature"] = json!(signature);
    let body = json!({"method": method, "params": params}).to_string();
    Request::parse(body.as_bytes())
        .unwrap()
        .check(TS)
        .map_err(|e| e.status())
}

fn flip_bit(sig_b64: &str) -> String {
    let mut raw = STANDARD.decode(sig_b64).unwrap();
    raw[10] ^= 1;
    STANDARD.encode(raw)
}

#[test]
fn storage_rpc_v3_request_signatures() {
    let id = v2();
    let all = NamespaceSelector::All;
    let one = |n| NamespaceSelector::One(Namespace(n));
    let data = STANDARD.encode(b"hello");
    // (built message, expected ASCII, signature, method, params)
    let rows: Vec<(Vec<u8>, &str, &str, &str, Value)> = vec![
        (
            sig::store(Namespace(3), TS),
            "store31700000000000",
            "WLjwA3KeQS4nbat79wG5w4WPUjFEMeYig8rxf7eHlg5Rxis4pDDj1X9rI85BfNlFYRBHScT580OxAU90IEs6Bg==",
            "store",
            json!({"namespace": 3, "timestamp": TS, "ttl": 86_400_000, "data": data}),
        ),
        (
            sig::retrieve(Namespace(0), TS),
            "retrieve1700000000000",
            "RmRCJ3nPhaFug4AB8jINXur5kyTGwHO1bsHA7cXrxLyQ5EXbDGkrSB3LKQzymcuvtAyW+rlkdJx66UX28NliDw==",
            "retrieve",
            json!({"timestamp": TS}),
        ),
        (
            sig::retrieve(Namespace(2), TS),
            "retrieve21700000000000",
            "JsgbO8n+RdOn49uadQ/tiLaloQ0Feqho5Bfe7aIPR/nd6Z7IBz/IWyAf7qDtTY1Jy4zKVqQXdei/O13/cWFpAg==",
            "retrieve",
            json!({"timestamp": TS, "namespace": 2}),
        ),
        (
            sig::retrieve(Namespace(-11), TS),
            "retrieve-111700000000000",
            "VUJ+lBRdqiDyA5QXmV0JpcU6vsP3ZIWQOg/0TroQTeBueTVOor3f4ENUjs/qAKzfjC8/7v4NULlEqN09op8gDA==",
            "retrieve",
            json!({"timestamp": TS, "namespace": -11}),
        ),
        (
            sig::delete_all(one(0), TS),
            "delete_all1700000000000",
            "2nyGhKczKRcMBUCqmwJdODS8HtFYM02tWaC95vUEsVXyczUDz9/xuZnhtaQ8i0/sJ9f9EY1xl/2qfTfUt+cFDQ==",
            "delete_all",
            json!({"timestamp": TS}),
        ),
        (
            sig::delete_all(all, TS),
            "delete_allall1700000000000",
            "YQyILGAq+EuIyzxxRAVumYDmPXtV75Bo37ffvubZfzK1UGT7vR4JnisuD/qijc3N3++4NKIvbOdeIgYCKGrmCw==",
            "delete_all",
            json!({"timestamp": TS, "namespace": "all"}),
        ),
        (
            sig::delete_before(one(-10), TS),
            "delete_before-101700000000000",
            "i8FM3B/Je3a8Jzg6wvo44s7FcJLhmubztll1IVbG4iozVELekzOsGIJM46ubA/zzmZOggmgO+jILfIPleUdNAQ==",
            "delete_before",
            json!({"before": TS, "namespace": -10}),
        ),
        (
            sig::expire_all(one(5), TS),
            "expire_all51700000000000",
            "fStVkAqKkBpx4GqMvAJNNdr7HO5SvE9vpX40jYAGVvp4TFcZda2+mBKzXFWO7bsy8MH4o/IcfgDTIf002wC1Dw==",
            "expire_all",
            json!({"expiry": TS, "namespace": 5}),
        ),
        (
            sig::expire(ExpireMode::Extend, &[1_702_592_000_000], &[H]),
            "expireextend1702592000000gwTFi7xJfaW/kuECEKV+HwjKWozToGIYTM7R9KyaH7M",
            "g247NsV7L45NAEv+V0tb+P+hVsxuVuSkGzRd7Fps2QBVXMp2GCeMJmWv9SF6XPADvo+8wchTHcV+oHIUhLa5CQ==",
            "expire",
            json!({"expiry": 1_702_592_000_000i64, "extend": true, "messages": [H]}),
        ),
        (
            sig::get_expiries(TS, &[H]),
            "get_expiries1700000000000gwTFi7xJfaW/kuECEKV+HwjKWozToGIYTM7R9KyaH7M",
            "uCEktKWJm0VrQXVjODVmfTBu868w+4VT/xzizjJUZx8LirabO4O4nBjqE5qTK0QZlTPDqT+N2pNrFrs0F6S2AQ==",
            "get_expiries",
            json!({"timestamp": TS, "messages": [H]}),
        ),
        (
            sig::delete(&[H]),
            "deletegwTFi7xJfaW/kuECEKV+HwjKWozToGIYTM7R9KyaH7M",
            "7wAEny+ue7Am/GcRZaS5LBbZxM9hl3Y8vSU+z9r9GgGHrkvps5ib6PjWpG2Q90xk/Zlbdsyda3LdHm5yfZCiAA==",
            "delete",
            json!({"messages": [H]}),
        ),
    ];
    for (built, ascii, signature, method, params) in rows {
        assert_eq!(String::from_utf8(built).unwrap(), ascii);
        assert_eq!(
            STANDARD.encode(id.sign(ascii.as_bytes())),
            signature,
            "{ascii}"
        );
        // The parsed request signs the same bytes, and the vector signature passes.
        let mut full = params.clone();
        full["pubkey"] = json!(id.session_id().to_string());
        full["signature"] = json!(signature);
        let req = Request::parse(
            json!({"method": method, "params": full})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(req.signed_message().unwrap(), ascii.as_bytes(), "{ascii}");
        assert_eq!(
            check(&id, method, params.clone(), signature),
            Ok(()),
            "{ascii}"
        );
        // Unpadded (86 characters) is accepted too.
        let unpadded = signature.trim_end_matches('=');
        assert_eq!(
            check(&id, method, params.clone(), unpadded),
            Ok(()),
            "{ascii}"
        );
        assert_eq!(
            check(&id, method, params, &flip_bit(signature)),
            Err(401),
            "{ascii}"
        );
    }
}

#[test]
fn storage_rpc_v4_node_reply_signature() {
    let seed: [u8; 32] = core::array::from_fn(|i| 0x20 + i as u8);
    let node = Identity::from_ed25519_seed(&seed);
    assert_eq!(
        node.ed25519_public().to_hex(),
        "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"
    );
    let hash = "5wnCd2q/GbRgycfyvb8WJ/DU5j9Y6tf6gTSc6jkr2g0";
    let want =
        "WzSt0920AQFTdY0h8ea7SOh0KdMB304j5uXyuPGiTk1ABNO4bfhxsFaKUDXm6s1btD7UD0r1i+LpyKGepSG6AQ==";
    let msg = sig::store_reply(hash);
    assert_eq!(STANDARD.encode(node.sign(&msg)), want);
    let sig: [u8; 64] = STANDARD.decode(want).unwrap().try_into().unwrap();
    let key = Ed25519PublicKey(node.ed25519_public().0);
    assert!(sig::verify_reply(&key, &msg, &sig));
    assert!(!sig::verify_reply(&key, b"5wnCd2q", &sig));
    assert!(!sig::verify_reply(&v2().ed25519_public(), &msg, &sig));
}

#[test]
fn client_md_section_4_retrieve_signatures() {
    let id = Identity::from_seed(&Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap());
    let rows = [
        (
            0,
            "WyOyu+IdImmQ8OV7AdFy6O5bTGN2pn7r6UQdyVYaZIkW25BqP1rzts9nJJOT85kCiurH2eozd2DV7Mhds7fGAg==",
        ),
        (
            2,
            "S7ta+HqpLQgbDJD7ApyYSI/yIfQAf0Aa0y6eUkXIHoncSHSpWGo0tq6YmjsZWlj5pXqlTjzunQrBjPIcmDwUDw==",
        ),
    ];
    for (ns, want) in rows {
        let msg = sig::retrieve(Namespace(ns), TS);
        assert_eq!(STANDARD.encode(id.sign(&msg)), want);
        let params = json!({"namespace": ns, "timestamp": TS, "last_hash": "", "max_size": -4});
        assert_eq!(check(&id, "retrieve", params, want), Ok(()));
    }
    // The namespace-0 signature does not pass for namespace 2.
    let params = json!({"namespace": 2, "timestamp": TS});
    assert_eq!(check(&id, "retrieve", params, rows[0].1), Err(401));
}

#[test]
fn pubkey_ed25519_must_belong_to_the_account() {
    // V2's key signs correctly, but for the client.md account it is not the owner's key.
    let signer = v2();
    let other = Identity::from_seed(&Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap());
    let msg = sig::retrieve(Namespace(0), TS);
    let params = json!({
        "pubkey": other.session_id().to_string(),
        "pubkey_ed25519": signer.ed25519_public().to_hex(),
        "signature": STANDARD.encode(signer.sign(&msg)),
        "timestamp": TS,
    });
    let req = Request::parse(
        json!({"method": "retrieve", "params": params})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    let e = req.check(TS).unwrap_err();
    assert_eq!(
        (e.status(), e.body()),
        (401, "retrieve signature verification failed")
    );

    // Without pubkey_ed25519 a 05 account's X25519 bytes are taken as the Ed25519 key: fails.
    let params = json!({
        "pubkey": signer.session_id().to_string(),
        "signature": STANDARD.encode(signer.sign(&msg)),
        "timestamp": TS,
    });
    let req = Request::parse(
        json!({"method": "retrieve", "params": params})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(req.check(TS).unwrap_err().status(), 401);

    // A 03 (group) account signs with its own Ed25519 key.
    let group = AccountId::new(0x03, signer.ed25519_public().0);
    let params = json!({
        "pubkey": group.to_string(),
        "signature": STANDARD.encode(signer.sign(&sig::retrieve(Namespace(11), TS))),
        "timestamp": TS,
        "namespace": 11,
    });
    let req = Request::parse(
        json!({"method": "retrieve", "params": params})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    req.check(TS).unwrap();
}
