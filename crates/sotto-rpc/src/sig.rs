//! The exact bytes each signature covers (`storage-rpc.md` §2–3, `request_handler.cpp`
//! `concatenate_sig_message_parts`): ASCII parts concatenated with no separators, integers in
//! decimal, namespaces as "" for 0.
//!
//! Request messages are signed by the account (or its `pubkey_ed25519`); reply messages are
//! signed by each swarm member with its node Ed25519 key, so a client can check every member's
//! answer.

use sotto_crypto::Ed25519PublicKey;

use crate::ids::{AccountId, Namespace, NamespaceSelector};
use crate::request::ExpireMode;

fn cat<S: AsRef<str>>(out: &mut String, parts: &[S]) {
    parts.iter().for_each(|p| out.push_str(p.as_ref()));
}

/// `store`: `"store" ‖ ns ‖ sig_timestamp`.
pub fn store(namespace: Namespace, sig_timestamp: i64) -> Vec<u8> {
    format!("store{}{sig_timestamp}", namespace.sig_str()).into_bytes()
}

/// `retrieve`: `"retrieve" ‖ ns ‖ timestamp`.
pub fn retrieve(namespace: Namespace, timestamp: i64) -> Vec<u8> {
    format!("retrieve{}{timestamp}", namespace.sig_str()).into_bytes()
}

/// `delete`: `"delete" ‖ hash₀ ‖ … ‖ hashₙ`, in request order.
pub fn delete<S: AsRef<str>>(hashes: &[S]) -> Vec<u8> {
    let mut m = String::from("delete");
    cat(&mut m, hashes);
    m.into_bytes()
}

/// `delete_all`: `"delete_all" ‖ ns ‖ timestamp` (ns "", `all` or decimal).
pub fn delete_all(namespace: NamespaceSelector, timestamp: i64) -> Vec<u8> {
    format!("delete_all{}{timestamp}", namespace.sig_str()).into_bytes()
}

/// `delete_before`: `"delete_before" ‖ ns ‖ before`.
pub fn delete_before(namespace: NamespaceSelector, before: i64) -> Vec<u8> {
    format!("delete_before{}{before}", namespace.sig_str()).into_bytes()
}

/// `expire_all`: `"expire_all" ‖ ns ‖ expiry`.
pub fn expire_all(namespace: NamespaceSelector, expiry: i64) -> Vec<u8> {
    format!("expire_all{}{expiry}", namespace.sig_str()).into_bytes()
}

/// `expire`: `"expire" ‖ ("" | "shorten" | "extend") ‖ expiries ‖ hash₀ ‖ … ‖ hashₙ`, where
/// `expiries` is the one expiry, or every per-message expiry concatenated.
pub fn expire<S: AsRef<str>>(mode: ExpireMode, expiries: &[i64], hashes: &[S]) -> Vec<u8> {
    let mut m = format!("expire{}", mode.sig_str());
    expiries.iter().for_each(|e| m.push_str(&e.to_string()));
    cat(&mut m, hashes);
    m.into_bytes()
}

/// `get_expiries`: `"get_expiries" ‖ timestamp ‖ hash₀ ‖ … ‖ hashₙ`.
pub fn get_expiries<S: AsRef<str>>(timestamp: i64, hashes: &[S]) -> Vec<u8> {
    let mut m = format!("get_expiries{timestamp}");
    cat(&mut m, hashes);
    m.into_bytes()
}

/// A swarm member's `store` reply signature covers the base64 hash string itself.
pub fn store_reply(hash: &str) -> Vec<u8> {
    hash.as_bytes().to_vec()
}

/// A member's `delete` reply: `PUBKEY_HEX ‖ requested hashes ‖ deleted hashes` (deleted sorted).
pub fn delete_reply<S: AsRef<str>, T: AsRef<str>>(
    account: &AccountId,
    requested: &[S],
    deleted: &[T],
) -> Vec<u8> {
    let mut m = account.to_string();
    cat(&mut m, requested);
    cat(&mut m, deleted);
    m.into_bytes()
}

/// A member's `delete_all`, `delete_before` or `expire_all` reply:
/// `PUBKEY_HEX ‖ time ‖ affected hashes` with `time` the request's `timestamp`, `before` or
/// `expiry` and the hashes sorted (across namespaces for `"all"`).
pub fn namespace_op_reply<S: AsRef<str>>(account: &AccountId, time: i64, sorted: &[S]) -> Vec<u8> {
    let mut m = format!("{account}{time}");
    cat(&mut m, sorted);
    m.into_bytes()
}

/// A member's `expire` reply: `PUBKEY_HEX ‖ expiries ‖ requested ‖ updated ‖ (hash ‖ expiry)
/// for each unchanged message`, with `expiries` the applied single expiry (or the per-message
/// expiries applied to `updated`), `updated` sorted, and `unchanged` sorted by hash.
pub fn expire_reply<S: AsRef<str>, T: AsRef<str>, U: AsRef<str>>(
    account: &AccountId,
    expiries: &[i64],
    requested: &[S],
    updated: &[T],
    unchanged: &[(U, i64)],
) -> Vec<u8> {
    let mut m = account.to_string();
    expiries.iter().for_each(|e| m.push_str(&e.to_string()));
    cat(&mut m, requested);
    cat(&mut m, updated);
    for (hash, expiry) in unchanged {
        m.push_str(hash.as_ref());
        m.push_str(&expiry.to_string());
    }
    m.into_bytes()
}

/// Whether `signature` over `msg` is by the node with Ed25519 key `node` (a swarm member's reply).
pub fn verify_reply(node: &Ed25519PublicKey, msg: &[u8], signature: &[u8; 64]) -> bool {
    node.verify(msg, signature, "node reply").is_ok()
}
