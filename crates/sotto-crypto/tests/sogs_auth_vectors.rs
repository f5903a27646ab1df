//! X-SOGS authentication: client signing and every server-side check of `sogs.md` §2.3, with
//! PySOGS's status codes and strings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use proptest::prelude::*;
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::sogs_auth::{
    parse_headers, sign_request, signed_message, AuthError, AuthHeaders, Signer,
};
use sotto_crypto::{BlindingKind, Identity, Seed, X25519PublicKey};

const NOW: i64 = 1_700_000_000;

fn server() -> X25519PublicKey {
    "6a32c7b491f4199dd1260a4cc60ae51c6bd71dad939cc521e738409f53f943be"
        .parse()
        .unwrap()
}

fn user() -> Identity {
    Identity::from_seed(&Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap())
}

fn blinded() -> BlindedKeyPair {
    BlindedKeyPair::new(&user(), &server(), BlindingKind::Blind15).unwrap()
}

fn signed(method: &str, path: &str, query: &str, body: &[u8]) -> AuthHeaders {
    let pair = blinded();
    sign_request(
        Signer::Blinded(&pair),
        &server(),
        method,
        path,
        query,
        body,
        &[7; 16],
        NOW,
    )
}

fn parse(
    h: &AuthHeaders,
    require_blinded: bool,
) -> Result<Option<sotto_crypto::sogs_auth::ParsedAuth>, AuthError> {
    parse_headers(
        Some(&h.pubkey),
        Some(&h.nonce),
        Some(&h.timestamp),
        Some(&h.signature),
        require_blinded,
    )
}

fn fails(h: &AuthHeaders, require_blinded: bool) -> (u16, &'static str) {
    let err = parse(h, require_blinded).unwrap_err();
    (err.status(), err.message())
}

#[test]
fn signed_message_layout() {
    let nonce = [1u8; 16];
    let msg = signed_message(
        &server(),
        &nonce,
        "1700000000",
        "GET",
        "/room/lobby",
        "",
        b"",
    );
    let mut expected = server().0.to_vec();
    expected.extend_from_slice(&nonce);
    expected.extend_from_slice(b"1700000000GET/room/lobby");
    assert_eq!(msg, expected);
    let with = signed_message(&server(), &nonce, "1", "POST", "/p", "a=1&b=2", b"body");
    let tail = &with[32 + 16..];
    assert!(tail.starts_with(b"1POST/p?a=1&b=2"));
    assert_eq!(
        tail.len(),
        b"1POST/p?a=1&b=2".len() + 64,
        "BLAKE2b-512 of the body"
    );
}

#[test]
fn blinded_request_round_trip() {
    let body = br#"{"data":"x"}"#;
    let h = signed("POST", "/room/lobby/message", "", body);
    assert_eq!(h.pubkey, blinded().blinded_id().to_string());
    assert_eq!(h.timestamp, NOW.to_string());
    assert_eq!(STANDARD.decode(&h.nonce).unwrap(), [7; 16]);
    let parsed = parse(&h, true).unwrap().unwrap();
    assert!(parsed.is_blinded());
    assert_eq!(parsed.user_id(), blinded().blinded_id().to_string());
    assert_eq!(parsed.nonce(), &[7; 16]);
    parsed.check_clock(NOW + 86_400).unwrap();
    parsed.check_clock(NOW - 86_400).unwrap();
    parsed
        .verify(&server(), "POST", "/room/lobby/message", "", body)
        .unwrap();
    // Anything else signed differently fails with 401.
    for (method, path, query, body) in [
        ("GET", "/room/lobby/message", "", &body[..]),
        ("POST", "/room/lobby/messages", "", &body[..]),
        ("POST", "/room/lobby/message", "x=1", &body[..]),
        ("POST", "/room/lobby/message", "", b"{}"),
        ("POST", "/room/lobby/message", "", b""),
    ] {
        let err = parsed
            .verify(&server(), method, path, query, body)
            .unwrap_err();
        assert_eq!(err, AuthError::SIGNATURE_FAILED);
        assert_eq!(err.status(), 401);
        assert_eq!(
            err.message(),
            "Invalid authentication: X-SOGS-Signature verification failed"
        );
    }
    let other: X25519PublicKey = "11".repeat(32).parse().unwrap();
    assert!(parsed
        .verify(&other, "POST", "/room/lobby/message", "", body)
        .is_err());
}

#[test]
fn unblinded_request() {
    let h = sign_request(
        Signer::Unblinded(&user()),
        &server(),
        "GET",
        "/capabilities",
        "",
        b"",
        &[9; 16],
        NOW,
    );
    assert!(h.pubkey.starts_with("00"));
    assert_eq!(
        fails(&h, true),
        (
            400,
            "Invalid authentication: this server requires the use of blinded ids"
        )
    );
    let parsed = parse(&h, false).unwrap().unwrap();
    assert!(!parsed.is_blinded());
    assert_eq!(parsed.user_id(), user().session_id().to_string());
    parsed
        .verify(&server(), "GET", "/capabilities", "", b"")
        .unwrap();
}

#[test]
fn anonymous_and_missing_headers() {
    assert_eq!(parse_headers(None, None, None, None, true), Ok(None));
    assert_eq!(
        parse_headers(Some(""), Some(""), None, Some(""), true),
        Ok(None)
    );
    let h = signed("GET", "/x", "", b"");
    for missing in 1..=3 {
        let mut values: Vec<Option<&str>> = h.pairs().iter().map(|(_, v)| Some(*v)).collect();
        for v in values.iter_mut().take(missing) {
            *v = if missing == 2 { Some("") } else { None };
        }
        let err = parse_headers(values[0], values[1], values[2], values[3], true).unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.message(),
            format!(
                "Invalid authentication headers: missing {missing}/4 required X-SOGS-* headers"
            )
        );
    }
}

#[test]
fn bad_pubkeys() {
    let good = signed("GET", "/x", "", b"");
    let with = |pubkey: String| AuthHeaders {
        pubkey,
        ..good.clone()
    };
    let not_id = (
        400,
        "Invalid authentication: X-SOGS-Pubkey is not a valid 66-hex digit id",
    );
    assert_eq!(fails(&with("15abc".into()), true), not_id);
    assert_eq!(fails(&with("zz".repeat(33)), true), not_id);
    assert_eq!(fails(&with(good.pubkey[..64].into()), true), not_id);
    let prefix = (
        400,
        "Invalid authentication: X-SOGS-Pubkey must be 00- or 15- prefixed",
    );
    assert_eq!(
        fails(&with(format!("05{}", &good.pubkey[2..])), true),
        prefix
    );
    assert_eq!(
        fails(&with(format!("25{}", &good.pubkey[2..])), true),
        prefix
    );
    // Base64 of 33 bytes is accepted as PySOGS does.
    let raw = hex::decode(&good.pubkey).unwrap();
    assert!(parse(&with(STANDARD.encode(&raw)), true).unwrap().is_some());
    // Small-order and non-canonical points.
    let bad_point = (
        400,
        "Invalid authentication: given X-SOGS-Pubkey is not a valid Ed25519 pubkey",
    );
    let identity_point = format!(
        "15{}",
        hex::encode({
            let mut p = [0u8; 32];
            p[0] = 1;
            p
        })
    );
    assert_eq!(fails(&with(identity_point), true), bad_point);
    // y = p (non-canonical encoding of 0).
    let non_canonical = format!(
        "15{}",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
    );
    assert_eq!(fails(&with(non_canonical), true), bad_point);
}

#[test]
fn bad_nonce_signature_and_timestamp() {
    let good = signed("GET", "/x", "", b"");
    let nonce = (
        400,
        "Invalid authentication: X-SOGS-Nonce must be 16 bytes (encoded as base64 or hex)",
    );
    for bad in [
        "abc",
        &"zz".repeat(16),
        &STANDARD.encode([0u8; 15]),
        &STANDARD.encode([0u8; 17]),
    ] {
        let h = AuthHeaders {
            nonce: bad.to_string(),
            ..good.clone()
        };
        assert_eq!(fails(&h, true), nonce, "{bad}");
    }
    // Hex and unpadded base64 nonces are fine.
    for ok in [hex::encode([7u8; 16]), STANDARD_NO_PAD.encode([7u8; 16])] {
        let h = AuthHeaders {
            nonce: ok,
            ..good.clone()
        };
        parse(&h, true)
            .unwrap()
            .unwrap()
            .verify(&server(), "GET", "/x", "", b"")
            .unwrap();
    }
    let sig = (
        400,
        "Invalid authentication: X-SOGS-Signature is not base64[88]",
    );
    let short = AuthHeaders {
        signature: good.signature[..good.signature.len() - 4].to_string(),
        ..good.clone()
    };
    assert_eq!(fails(&short, true), sig);
    let hex_sig = AuthHeaders {
        signature: hex::encode(STANDARD.decode(&good.signature).unwrap()),
        ..good.clone()
    };
    assert!(parse(&hex_sig, true).unwrap().is_some());
    let ts = (
        400,
        "Invalid authentication: X-SOGS-Timestamp is not a valid timestamp",
    );
    for bad in ["1700000000a", "soon", "1.5", "", " "] {
        let h = AuthHeaders {
            timestamp: bad.to_string(),
            ..good.clone()
        };
        if bad.trim().is_empty() && bad.is_empty() {
            continue; // empty counts as a missing header
        }
        assert_eq!(fails(&h, true), ts, "{bad:?}");
    }
}

#[test]
fn clock_window() {
    let parsed = parse(&signed("GET", "/x", "", b""), true).unwrap().unwrap();
    for now in [NOW + 86_401, NOW - 86_401, 0] {
        let err = parsed.check_clock(now).unwrap_err();
        assert_eq!(err.status(), 425);
        assert_eq!(
            err.message(),
            "Invalid authentication: X-SOGS-Timestamp is too far from current time"
        );
    }
    assert_eq!(AuthError::BANNED.status(), 403);
    assert_eq!(AuthError::BANNED.message(), "Banned");
    assert_eq!(AuthError::NONCE_REUSED.status(), 425);
    assert_eq!(
        AuthError::NONCE_REUSED.message(),
        "Invalid authentication: X-SOGS-Nonce cannot be reused"
    );
}

/// Python's `int()` rules for the timestamp: whitespace, sign and `_` separators; values beyond
/// i64 are a clock error (425), as with PySOGS's unbounded integers, never a panic.
#[test]
fn timestamp_parsing_follows_python_int() {
    let good = signed("GET", "/x", "", b"");
    let with = |timestamp: &str| AuthHeaders {
        timestamp: timestamp.to_string(),
        ..good.clone()
    };
    for (text, value) in [
        ("1_700_000_000", NOW),
        (" 1700000000\t", NOW),
        ("\u{a0}1700000000\u{85}", NOW),
        ("+1700000000", NOW),
        ("0001700000000", NOW),
        ("-5", -5),
        ("9223372036854775807", i64::MAX),
        ("99999999999999999999999999", i64::MAX),
        ("-9223372036854775808", i64::MIN),
        ("-99999999999999999999999999", i64::MIN),
    ] {
        let parsed = parse(&with(text), true).unwrap().unwrap();
        assert_eq!(parsed.timestamp(), value, "{text:?}");
        if value.abs_diff(NOW) > 86_400 {
            assert_eq!(
                parsed.check_clock(NOW),
                Err(AuthError::CLOCK_SKEW),
                "{text:?}"
            );
        } else {
            parsed.check_clock(NOW).unwrap();
        }
    }
    for text in ["1__7", "_17", "17_", "-", "+", "+-1", "1 7", "0x10", "1e9"] {
        assert_eq!(
            parse(&with(text), true).unwrap_err(),
            AuthError::BAD_TIMESTAMP,
            "{text:?}"
        );
    }
    // The signature covers the header text as sent, not the parsed number.
    let parsed = parse(&with("1_700_000_000"), true).unwrap().unwrap();
    assert_eq!(
        parsed.verify(&server(), "GET", "/x", "", b""),
        Err(AuthError::SIGNATURE_FAILED)
    );
}

/// A key with a torsion component passes decompression but not libsodium's
/// `crypto_core_ed25519_is_valid_point`.
#[test]
fn mixed_order_pubkey_is_refused() {
    use curve25519_dalek::constants::EIGHT_TORSION;
    use curve25519_dalek::edwards::CompressedEdwardsY;
    let good = signed("GET", "/x", "", b"");
    let key: [u8; 32] = hex::decode(&good.pubkey[2..]).unwrap().try_into().unwrap();
    let point = CompressedEdwardsY(key).decompress().unwrap();
    for prefix in ["15", "00"] {
        let mixed = (point + EIGHT_TORSION[1]).compress().to_bytes();
        let h = AuthHeaders {
            pubkey: format!("{prefix}{}", hex::encode(mixed)),
            ..good.clone()
        };
        assert_eq!(parse(&h, false).unwrap_err(), AuthError::BAD_POINT);
    }
}

/// Base64 as PySOGS's `decode_base64`: padding optional but, if present, correct; standard
/// alphabet only; no whitespace.
#[test]
fn base64_forms() {
    let good = signed("GET", "/x", "", b"");
    let sig = STANDARD.decode(&good.signature).unwrap();
    let ok = |signature: String| {
        let h = AuthHeaders {
            signature,
            ..good.clone()
        };
        parse(&h, true)
    };
    assert!(ok(STANDARD_NO_PAD.encode(&sig)).unwrap().is_some());
    let padded = STANDARD.encode(&sig);
    assert!(padded.ends_with("=="));
    let one_pad = padded[..padded.len() - 1].to_string();
    assert_eq!(ok(one_pad).unwrap_err(), AuthError::BAD_SIGNATURE_ENCODING);
    let url_safe = padded.replace('+', "-").replace('/', "_");
    if url_safe != padded {
        assert_eq!(ok(url_safe).unwrap_err(), AuthError::BAD_SIGNATURE_ENCODING);
    }
    let spaced = format!(" {}", STANDARD_NO_PAD.encode(&sig));
    assert_eq!(ok(spaced).unwrap_err(), AuthError::BAD_SIGNATURE_ENCODING);
    // 22 characters and one `=`: Python's "Incorrect padding".
    let h = AuthHeaders {
        nonce: format!("{}=", STANDARD_NO_PAD.encode([7u8; 16])),
        ..good.clone()
    };
    assert_eq!(parse(&h, true).unwrap_err(), AuthError::BAD_NONCE);
}

proptest! {
    #[test]
    fn any_request_round_trips(seed in any::<[u8; 16]>(), path in "/[a-z0-9/]{0,40}", query in "[a-z0-9=&]{0,20}", body in proptest::collection::vec(any::<u8>(), 0..300), nonce in any::<[u8; 16]>()) {
        let id = Identity::from_seed(&Seed::Standard(seed));
        let pair = BlindedKeyPair::new(&id, &server(), BlindingKind::Blind15).unwrap();
        let h = sign_request(Signer::Blinded(&pair), &server(), "PUT", &path, &query, &body, &nonce, NOW);
        let parsed = parse(&h, true).unwrap().unwrap();
        prop_assert_eq!(parsed.user_id(), pair.blinded_id().to_string());
        prop_assert!(parsed.verify(&server(), "PUT", &path, &query, &body).is_ok());
    }

    #[test]
    fn arbitrary_headers_never_panic(a in ".{0,100}", b in ".{0,40}", c in ".{0,30}", d in ".{0,130}") {
        let _ = parse_headers(Some(&a), Some(&b), Some(&c), Some(&d), false);
    }
}
