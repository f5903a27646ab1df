//! Identity known-answer vectors from `shared/protocol/client.md` §1.1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use sotto_crypto::{Identity, Seed};

/// (seed16, Ed25519 public key, Session ID).
const VECTORS: &[(&str, &str, &str)] = &[
    (
        "0123456789abcdef0123456789abcdef",
        "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7",
        "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72",
    ),
    (
        "00112233445566778899aabbccddeeff",
        "5ea34e72bb044654a6a23675690ef5ffaaf1656b02f93fb76655f9cbdbe89876",
        "05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74",
    ),
    (
        "b0e12943e22e8f71774c2c4205fed598",
        "bdd5eaf00eaf965ca63b7e8b119d8122d4647ffd5bb58daa1f78dfc54dd53989",
        "05558d6fa8ef7575344a73dc56ba0ece787ba6cc90032db762ddb44bd5d6491661",
    ),
    (
        "000102030405060708090a0b0c0d0e0f",
        "65adc5bfb14b5363f1b50e63a431f6fe08ff5d4e8d362c1e3d4c56c9d044bfb0",
        "05ca03b8e369aeeb69fd260c2957d37b232db17a60db7a39bca9f0c0a6be135c1a",
    ),
];

#[test]
fn seeds_give_the_pinned_keys_and_ids() {
    for (seed, ed, sid) in VECTORS {
        let id = Identity::from_seed(&Seed::from_hex(seed).unwrap());
        assert_eq!(id.ed25519_public().to_hex(), *ed, "seed {seed}");
        assert_eq!(id.session_id().to_string(), *sid, "seed {seed}");
        // The Ed→X conversion of the public key agrees with the key pair's own X25519 key.
        assert_eq!(id.ed25519_public().to_x25519().unwrap(), id.x25519_public());
    }
}

/// Legacy 32-byte seed used as-is; checked against the 16-byte form padded by hand.
#[test]
fn legacy_seed_is_the_ed25519_seed() {
    let padded = "0123456789abcdef0123456789abcdef00000000000000000000000000000000";
    let legacy = Identity::from_seed(&Seed::from_hex(padded).unwrap());
    assert_eq!(
        legacy.session_id().to_string(),
        "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
    );
}

/// The libsession blinding test seed (sogs.md §2.4a): `05fe94b7…e96e1f`.
#[test]
fn libsession_blinding_seed_session_id() {
    let seed: [u8; 32] =
        hex::decode("fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122")
            .unwrap()
            .try_into()
            .unwrap();
    let sid = Identity::from_ed25519_seed(&seed).session_id().to_string();
    assert!(sid.starts_with("05fe94b7"), "{sid}");
    assert!(sid.ends_with("e96e1f"), "{sid}");
}

/// The secret is the clamped SHA-512 prefix, and X25519(secret, basepoint) is the public key.
#[test]
fn x25519_secret_is_clamped_and_matches_public() {
    for (seed, _, _) in VECTORS {
        let id = Identity::from_seed(&Seed::from_hex(seed).unwrap());
        let sk = id.x25519_secret();
        assert_eq!(sk[0] & 7, 0);
        assert_eq!(sk[31] & 0xc0, 0x40);
        let public = x25519_dalek::x25519(*sk, x25519_dalek::X25519_BASEPOINT_BYTES);
        assert_eq!(&public, id.x25519_public().as_bytes());
    }
}

/// Storage-RPC request signatures by the account key (client.md §4, derived, Ed25519 is
/// deterministic): `"retrieve" ‖ ns (omitted for 0) ‖ timestamp`.
#[test]
fn retrieve_signatures() {
    use base64::Engine as _;
    let id = Identity::from_seed(&Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap());
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(
        b64.encode(id.sign(b"retrieve1700000000000")),
        "WyOyu+IdImmQ8OV7AdFy6O5bTGN2pn7r6UQdyVYaZIkW25BqP1rzts9nJJOT85kCiurH2eozd2DV7Mhds7fGAg=="
    );
    assert_eq!(
        b64.encode(id.sign(b"retrieve21700000000000")),
        "S7ta+HqpLQgbDJD7ApyYSI/yIfQAf0Aa0y6eUkXIHoncSHSpWGo0tq6YmjsZWlj5pXqlTjzunQrBjPIcmDwUDw=="
    );
    let sig = id.sign(b"retrieve1700000000000");
    id.ed25519_public()
        .verify(b"retrieve1700000000000", &sig, "test")
        .unwrap();
    assert!(id
        .ed25519_public()
        .verify(b"retrieve1700000000001", &sig, "test")
        .is_err());
}
