//! Typed responses: the reference's JSON shapes (`storage-rpc.md` §3) read into the types and
//! written back unchanged, and swarm members' reply signatures built and checked as a client
//! checks them (`storage-rpc.md` §6 V5–V6, `network-tests/test_deletes.py`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use sotto_crypto::Identity;
use sotto_rpc::response::{
    Affected, AppliedExpiry, BatchResults, Deleted, DeletedAll, Expired, Expiries, Info, Member,
    Retrieved, Stored, Swarm, SwarmReply,
};
use sotto_rpc::{message_hash, sig, AccountId, Namespace};

fn same<T: Serialize + DeserializeOwned>(v: Value) -> T {
    let typed: T = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), v);
    typed
}

/// V4's node key (seed bytes 0x20‥0x3f).
fn node() -> Identity {
    let seed: [u8; 32] = core::array::from_fn(|i| 0x20 + i as u8);
    Identity::from_ed25519_seed(&seed)
}

fn b64(sig: [u8; 64]) -> String {
    STANDARD.encode(sig)
}

#[test]
fn store_reply_shape_and_signatures() {
    let n = node();
    let hash = "5wnCd2q/GbRgycfyvb8WJ/DU5j9Y6tf6gTSc6jkr2g0";
    let sig_b64 = b64(n.sign(&sig::store_reply(hash)));
    let me = n.ed25519_public().to_hex();
    let reply: SwarmReply<Stored> = same(json!({
        "swarm": {
            me.clone(): {"hash": hash, "signature": sig_b64, "expiry": 1_700_001_234_567i64,
                         "already": true, "t": 1_700_000_000_123i64},
            "aa".repeat(32): {"failed": true, "timeout": true},
            "bb".repeat(32): {"failed": true, "code": "500", "reason": "boom"},
            "cc".repeat(32): {"failed": true, "query_failure": true},
        },
        "hash": hash, "t": 1_700_000_000_123i64, "hf": [19, 3],
    }));
    let Member::Ok(mine) = &reply.swarm[&me] else {
        panic!("{reply:?}")
    };
    assert_eq!(mine.already, Some(true));
    assert!(sig::verify_reply(
        &n.ed25519_public(),
        &sig::store_reply(&mine.hash),
        &mine.signature
    ));
    let failed = reply
        .swarm
        .values()
        .filter(|m| matches!(m, Member::Failed(_)))
        .count();
    assert_eq!(failed, 3);
    assert_eq!(reply.hf, Some([19, 3]));
    // A signature that is not 64 bytes of base64 is refused.
    let bad = json!({"hash": hash, "signature": "abc", "expiry": 1});
    assert!(serde_json::from_value::<Stored>(bad).is_err());
}

#[test]
fn delete_all_reply_signature_as_test_deletes_checks_it() {
    let n = node();
    let user = AccountId::new(0x05, [7; 32]);
    let ts = 1_700_000_000_000i64;
    let mut hashes: Vec<String> = (0u8..4)
        .map(|i| message_hash(&user, Namespace(i16::from(i % 2)), &[i]))
        .collect();
    hashes.sort();
    // One namespace: a sorted list.
    let signature = n.sign(&sig::namespace_op_reply(&user, ts, &hashes));
    let entry: DeletedAll = same(json!({"deleted": hashes, "signature": b64(signature)}));
    let msg = format!("{user}{ts}{}", hashes.concat());
    assert_eq!(
        sig::namespace_op_reply(&user, ts, &entry.deleted.sorted()),
        msg.as_bytes()
    );
    assert!(sig::verify_reply(
        &n.ed25519_public(),
        msg.as_bytes(),
        &entry.signature
    ));
    // All namespaces: lists by namespace; the signature covers all hashes totally sorted.
    let mut by_ns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, h) in hashes.iter().enumerate() {
        by_ns
            .entry((i % 2).to_string())
            .or_default()
            .push(h.clone());
    }
    let entry: DeletedAll = same(json!({"deleted": by_ns, "signature": b64(signature)}));
    assert!(matches!(entry.deleted, Affected::All(_)));
    assert_eq!(entry.deleted.sorted(), hashes);
    assert!(sig::verify_reply(
        &n.ed25519_public(),
        &sig::namespace_op_reply(&user, ts, &entry.deleted.sorted()),
        &entry.signature
    ));
}

#[test]
fn delete_and_expire_reply_signatures() {
    let n = node();
    let user = AccountId::new(0x05, [9; 32]);
    let h: Vec<String> = (0u8..3)
        .map(|i| message_hash(&user, Namespace(0), &[i]))
        .collect();
    let requested = vec![h[2].clone(), h[0].clone(), h[1].clone()];
    let mut deleted = vec![h[2].clone(), h[0].clone()];
    deleted.sort();
    let msg = sig::delete_reply(&user, &requested, &deleted);
    assert_eq!(
        msg,
        format!("{user}{}{}", requested.concat(), deleted.concat()).into_bytes()
    );
    let entry: Deleted = same(json!({"deleted": deleted, "signature": b64(n.sign(&msg))}));
    assert!(sig::verify_reply(
        &n.ed25519_public(),
        &msg,
        &entry.signature
    ));

    // expire with extend: one updated, two unchanged (sorted by hash in the signature).
    let expiry = 1_702_592_000_000i64;
    let updated = vec![h[1].clone()];
    let mut unchanged: Vec<(String, i64)> =
        vec![(h[2].clone(), expiry + 5), (h[0].clone(), expiry + 9)];
    unchanged.sort();
    let msg = sig::expire_reply(&user, &[expiry], &requested, &updated, &unchanged);
    let want = format!(
        "{user}{expiry}{}{}{}",
        requested.concat(),
        updated.concat(),
        unchanged
            .iter()
            .map(|(h, e)| format!("{h}{e}"))
            .collect::<String>()
    );
    assert_eq!(msg, want.into_bytes());
    let entry: Expired = same(json!({
        "updated": updated, "expiry": expiry,
        "unchanged": unchanged.iter().cloned().collect::<BTreeMap<_, _>>(),
        "signature": b64(n.sign(&msg)),
    }));
    assert_eq!(entry.expiry, AppliedExpiry::One(expiry));
    let unchanged_again: Vec<(&str, i64)> = entry
        .unchanged
        .as_ref()
        .unwrap()
        .iter()
        .map(|(h, e)| (h.as_str(), *e))
        .collect();
    let again = sig::expire_reply(
        &user,
        &[expiry],
        &requested,
        &entry.updated,
        &unchanged_again,
    );
    assert!(sig::verify_reply(
        &n.ed25519_public(),
        &again,
        &entry.signature
    ));
    // Per-message expiry lists and a reply without `unchanged`.
    let entry: Expired = same(json!({"updated": [], "expiry": [1, 2], "signature": b64([0; 64])}));
    assert_eq!(entry.expiry, AppliedExpiry::PerMessage(vec![1, 2]));
}

#[test]
fn retrieve_swarm_info_batch_shapes() {
    let r: Retrieved = same(json!({
        "messages": [{"hash": "Sszh3u0uGYMLtNRPsW1pj/F/jCEDk27s8/3QqswXHiA",
                      "timestamp": 1_700_000_000_000i64, "expiration": 1_701_209_600_000i64,
                      "data": "YWJjIDEyMw=="}],
        "more": false, "t": 1_700_000_000_456i64, "hf": [19, 3]}));
    assert_eq!(r.messages[0].data, b"abc 123");
    let s: Swarm = same(json!({
        "snodes": [{"address": "x.snode", "pubkey_legacy": "aa", "pubkey_x25519": "bb",
                    "pubkey_ed25519": "cc", "port": "22021", "port_https": 22021,
                    "port_omq": 22020, "port_quic": 22020, "ip": "1.2.3.4"}],
        "swarm": "ffffffffffffffff", "t": 1, "hf": [19, 3]}));
    assert_eq!(s.swarm, sotto_rpc::response::NO_SWARM);
    let i: Info = same(json!({"version": [2, 8, 0], "timestamp": 5, "t": 5, "hf": [19, 3]}));
    assert_eq!(i.version, [2, 8, 0]);
    let e: Expiries = same(json!({"expiries": {"Sszh3u0uGYMLtNRPsW1pj/F/jCEDk27s8/3QqswXHiA": 7}}));
    assert_eq!(e.expiries.len(), 1);
    let b: BatchResults = same(json!({"results": [
        {"code": 200, "body": {"messages": [], "more": false}},
        {"code": 401, "body": "retrieve: request signature required"}]}));
    assert_eq!(b.results[1].code, 401);
    // The `expiration` key is required (not `expiry`).
    let wrong = json!({"messages": [{"hash": "h", "timestamp": 1, "expiry": 2, "data": ""}], "more": false});
    assert!(serde_json::from_value::<Retrieved>(wrong).is_err());
}
