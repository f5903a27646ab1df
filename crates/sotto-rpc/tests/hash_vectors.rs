//! Message-hash vectors: `storage-rpc.md` §6 V1–V2 and `client.md` §3.3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use sotto_crypto::Identity;
use sotto_rpc::{is_valid_message_hash, message_hash, AccountId, MessageHash, Namespace};

fn acct(hex: &str) -> AccountId {
    hex.parse().unwrap()
}

#[test]
fn storage_rpc_v1_upstream_account() {
    let a = acct("053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8");
    let cases = [
        (0, "Sszh3u0uGYMLtNRPsW1pj/F/jCEDk27s8/3QqswXHiA"),
        (2, "4pCFPwLeyELPPRfwKs1Nc7unSp4GOMy4j6HphTP9Cng"),
        (-10, "xoqyzmEYZT/XlG0RY8nj4bMC5fFgkksgxL6PSU1fCxc"),
    ];
    for (ns, want) in cases {
        assert_eq!(message_hash(&a, Namespace(ns), b"hello"), want, "ns {ns}");
        let typed = MessageHash::compute(&a, Namespace(ns), b"hello");
        assert_eq!(typed.as_str(), want);
        assert_eq!(want.parse::<MessageHash>().unwrap(), typed);
    }
}

#[test]
fn storage_rpc_v2_signing_identity() {
    let seed: [u8; 32] = core::array::from_fn(|i| i as u8);
    let id = Identity::from_ed25519_seed(&seed);
    assert_eq!(
        id.ed25519_public().to_hex(),
        "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    );
    let a = AccountId::from(id.session_id());
    assert_eq!(
        a.to_string(),
        "054701d08488451f545a409fb58ae3e58581ca40ac3f7f114698cd71deac73ca01"
    );
    assert_eq!(
        message_hash(&a, Namespace(0), b"hello"),
        "gwTFi7xJfaW/kuECEKV+HwjKWozToGIYTM7R9KyaH7M"
    );
    assert_eq!(
        message_hash(&a, Namespace(3), b"hello"),
        "5wnCd2q/GbRgycfyvb8WJ/DU5j9Y6tf6gTSc6jkr2g0"
    );
}

#[test]
fn client_md_section_3_3() {
    let a = acct("05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74");
    assert_eq!(
        message_hash(&a, Namespace(0), b"hello"),
        "WUsPnLucc03Esj+vFRAvW6yUX4+Wij3g1VcUSbjbQys"
    );
    assert_eq!(
        message_hash(&a, Namespace(2), b"hello"),
        "Ih6hYyhQj+2dQ9KdmbXd9ykTHed/8Aa+LraSe6bNKJE"
    );
}

#[test]
fn hash_inputs_are_separated() {
    // The prefix byte is hashed: the same key under 03 hashes differently.
    let a = acct("05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74");
    let g = AccountId::new(0x03, a.key());
    assert_ne!(
        message_hash(&a, Namespace(0), b"hello"),
        message_hash(&g, Namespace(0), b"hello")
    );
    // Timestamp and TTL are not inputs; namespace and data are.
    assert_ne!(
        message_hash(&a, Namespace(1), b"hello"),
        message_hash(&a, Namespace(0), b"hello")
    );
}

#[test]
fn message_hash_form() {
    let h = "Sszh3u0uGYMLtNRPsW1pj/F/jCEDk27s8/3QqswXHiA";
    assert!(is_valid_message_hash(h));
    for bad in [
        "",
        &h[1..],                                       // 42 characters
        &format!("{h}="),                              // padded
        "Sszh3u0uGYMLtNRPsW1pj_F_jCEDk27s8_3QqswXHiA", // URL-safe alphabet
        "Sszh3u0uGYMLtNRPsW1pj/F/jCEDk27s8/3QqswXHi ", // space
    ] {
        assert!(!is_valid_message_hash(bad), "{bad:?}");
        let e = bad.parse::<MessageHash>().unwrap_err();
        assert_eq!(e.to_string(), format!("invalid message hash: {bad}"));
    }
    let parsed: MessageHash = serde_json::from_str(&format!("\"{h}\"")).unwrap();
    assert_eq!(serde_json::to_string(&parsed).unwrap(), format!("\"{h}\""));
    assert!(serde_json::from_str::<MessageHash>("\"short\"").is_err());
}
