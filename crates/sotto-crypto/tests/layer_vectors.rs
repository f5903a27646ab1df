//! Onion layer ciphers: `onion.md` §7 T1, T2 (hop decryption and replies) and T4 (sizes),
//! round trips and rejections.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use rand_core::OsRng;
use sotto_crypto::layer::{x25519_public, EncType, LayerCipher};
use sotto_crypto::Error;

fn key(hex: &str) -> [u8; 32] {
    hex::decode(hex).unwrap().try_into().unwrap()
}

/// T1: libsession `tests/test_onionreq.cpp`, "Onion request encryption".
/// Edge inputs of the Edwards-form X25519: small-order points (RFC 7748 §6.1 says such inputs
/// give all zeros), u = -1 and u = p (non-canonical 0), and the RFC's own vector.
#[test]
fn x25519_edge_cases_match_the_ladder() {
    let p_minus_1 = {
        let mut b = [0xffu8; 32];
        b[0] = 0xec;
        b[31] = 0x7f;
        b
    };
    let p = {
        let mut b = p_minus_1;
        b[0] = 0xed;
        b
    };
    let mut high_bit = [9u8; 32];
    high_bit[31] |= 0x80;
    let small_order: [[u8; 32]; 3] = [
        [0; 32],
        {
            let mut b = [0; 32];
            b[0] = 1;
            b
        },
        p_minus_1,
    ];
    for u in small_order.iter().chain([p, high_bit, [0xff; 32]].iter()) {
        for secret in [[0u8; 32], [0xff; 32], [0x5a; 32]] {
            assert_eq!(
                sotto_crypto::layer::x25519(&secret, u),
                x25519_dalek::x25519(secret, *u),
                "u = {}",
                hex::encode(u)
            );
        }
    }
    // RFC 7748 §5.2, first vector.
    let k: [u8; 32] =
        hex::decode("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4")
            .unwrap()
            .try_into()
            .unwrap();
    let u: [u8; 32] =
        hex::decode("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")
            .unwrap()
            .try_into()
            .unwrap();
    assert_eq!(
        hex::encode(sotto_crypto::layer::x25519(&k, &u)),
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"
    );
}

#[test]
fn t1_hop_decryption() {
    let a = key("ccc335912da8939e2b44816728a5a4773063efa82bf7ae2d42a0abfa2caa452d");
    let b = key("8fcd8ad3a15c76f76f1c56dff0c529999f8c59b4acda79e05666e54d5727dca1");
    let (pa, pb) = (x25519_public(&a), x25519_public(&b));
    assert_eq!(
        pa.to_hex(),
        "bbdfc83022d0aff084a6f0c529a93d1c4d728bf7e41199afed0e01ae70d20540"
    );
    assert_eq!(
        pb.to_hex(),
        "caea52c5b0c316d85ffb53ea536826618b13dee40685f166f632653114526a78"
    );
    let cases = [
        (
            EncType::AesGcm,
            "1eb6ae1cd72f60999486365749bd5dc15cc0b6a2a44d7d063daa5e93722f0c025fd00306403b61",
        ),
        (
            EncType::XChaCha20,
            "9e1a3abe60eff3ea5c23556cc7e225b6f94355315f7281f66ecf4dbb06e7899a52b863e03cde3b287d1638d765db75de02b032",
        ),
    ];
    for (enc, blob) in cases {
        let blob = hex::decode(blob).unwrap();
        let node = LayerCipher::server(enc, &b, &pb, &pa).unwrap();
        assert_eq!(node.decrypt(&blob).unwrap(), b"Hello world", "{enc}");
        // The client derives the same key.
        let client = LayerCipher::client(enc, &a, &pa, &pb).unwrap();
        assert_eq!(client.decrypt(&blob).unwrap(), b"Hello world", "{enc}");
        // One flipped byte must fail.
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x04;
            assert_eq!(
                node.decrypt(&bad),
                Err(Error::Decrypt {
                    what: "onion layer"
                }),
                "{enc} byte {i}"
            );
        }
    }
}

/// T2: the deterministic replies (fixed nonces 00 01 02 …), and the reply sizes upstream asserts.
#[test]
fn t2_replies() {
    let b = key("2f4d1c0d28e137777ec0a316e9f4f763e3e66662a6c51994c6315c9ef34b6deb");
    let a = key("d2ee09e1a557a077d385fcb69a11ffb6909ecdcc8348def3e0e4172c8a1431c1");
    let (pa, pb) = (x25519_public(&a), x25519_public(&b));
    assert_eq!(
        pa.to_hex(),
        "8167e97672005c669a48858c69895f395ca235219ac3f7a4210022b1f910e652"
    );
    assert_eq!(
        pb.to_hex(),
        "8388de69bc0d4b6196133233ad9a46ba0473474bc67718aad96a3a33c257f726"
    );
    let nonce: Vec<u8> = (0..24).collect();
    let cases = [
        (
            EncType::AesGcm,
            "000102030405060708090a0b1cb4a57c40f9ddd3a32be01842ce02dcaea258218c6266141082fca193",
            41,
        ),
        (
            EncType::XChaCha20,
            "000102030405060708090a0b0c0d0e0f1011121314151617c8b92e3ca946aa00d1af5e4679fe5d41ac24aff3bbfce9effd2b138b62",
            53,
        ),
    ];
    for (enc, expected, len) in cases {
        let node = LayerCipher::server(enc, &b, &pb, &pa).unwrap();
        let reply = node
            .encrypt_with_nonce(&nonce[..enc.nonce_len()], b"Goodbye world")
            .unwrap();
        assert_eq!(hex::encode(&reply), expected, "{enc}");
        assert_eq!(node.encrypt(&mut OsRng, b"Goodbye world").len(), len);
        let client = LayerCipher::client(enc, &a, &pa, &pb).unwrap();
        assert_eq!(client.decrypt(&reply).unwrap(), b"Goodbye world");
    }
}

/// T4: overhead per layer, and role matters for xchacha20 (a key derived with the roles swapped
/// cannot decrypt).
#[test]
fn t4_sizes_and_roles() {
    let alice = [0x7du8; 32];
    let bob = [0xf5u8; 32];
    let (pa, pb) = (x25519_public(&alice), x25519_public(&bob));
    let text = b"Grumpy cat says no!";
    let gcm = LayerCipher::client(EncType::AesGcm, &alice, &pa, &pb).unwrap();
    assert_eq!(gcm.encrypt(&mut OsRng, text).len(), text.len() + 28);
    let xc = LayerCipher::client(EncType::XChaCha20, &alice, &pa, &pb).unwrap();
    let blob = xc.encrypt(&mut OsRng, text);
    assert_eq!(blob.len(), text.len() + 40);
    // Bob wrongly acting as a client to Alice derives shared ‖ B ‖ A: it must fail.
    let swapped = LayerCipher::client(EncType::XChaCha20, &bob, &pb, &pa).unwrap();
    assert!(swapped.decrypt(&blob).is_err());
    let right = LayerCipher::server(EncType::XChaCha20, &bob, &pb, &pa).unwrap();
    assert_eq!(right.decrypt(&blob).unwrap(), text);
}

#[test]
fn enc_type_names() {
    for (name, enc) in [
        ("aes-gcm", EncType::AesGcm),
        ("gcm", EncType::AesGcm),
        ("xchacha20", EncType::XChaCha20),
        ("xchacha20-poly1305", EncType::XChaCha20),
    ] {
        assert_eq!(name.parse::<EncType>().unwrap(), enc);
    }
    assert_eq!(EncType::default(), EncType::AesGcm);
    assert_eq!(EncType::XChaCha20.to_string(), "xchacha20");
    assert_eq!(
        "cbc".parse::<EncType>(),
        Err(Error::UnknownEncType("cbc".into()))
    );
}

#[test]
fn rejects_small_order_keys_short_blobs_and_bad_nonces() {
    let secret = [9u8; 32];
    let public = x25519_public(&secret);
    let zero = sotto_crypto::X25519PublicKey([0u8; 32]);
    assert!(matches!(
        LayerCipher::client(EncType::AesGcm, &secret, &public, &zero),
        Err(Error::BadPoint { .. })
    ));
    assert!(matches!(
        LayerCipher::server(EncType::XChaCha20, &secret, &public, &zero),
        Err(Error::BadPoint { .. })
    ));
    let cipher = LayerCipher::client(
        EncType::XChaCha20,
        &secret,
        &public,
        &x25519_public(&[3; 32]),
    )
    .unwrap();
    for len in [0, 10, 39] {
        assert!(matches!(
            cipher.decrypt(&vec![0; len]),
            Err(Error::TooShort { .. })
        ));
    }
    assert!(matches!(
        cipher.encrypt_with_nonce(&[0; 12], b"x"),
        Err(Error::BadLength { actual: 12, .. })
    ));
}

proptest! {
    /// The Edwards-form X25519 equals the reference ladder on any input: valid keys, points on
    /// the twist, small-order and non-canonical u-coordinates alike.
    #[test]
    fn x25519_matches_the_ladder(secret in any::<[u8; 32]>(), u in any::<[u8; 32]>()) {
        prop_assert_eq!(sotto_crypto::layer::x25519(&secret, &u), x25519_dalek::x25519(secret, u));
        let public = sotto_crypto::layer::x25519_public(&secret);
        prop_assert_eq!(public.0, x25519_dalek::x25519(secret, x25519_dalek::X25519_BASEPOINT_BYTES));
    }

    #[test]
    fn round_trip(payload in proptest::collection::vec(any::<u8>(), 0..3000), a in any::<[u8; 32]>(), b in any::<[u8; 32]>(), xchacha in any::<bool>()) {
        let enc = if xchacha { EncType::XChaCha20 } else { EncType::AesGcm };
        let (pa, pb) = (x25519_public(&a), x25519_public(&b));
        let client = LayerCipher::client(enc, &a, &pa, &pb).unwrap();
        let server = LayerCipher::server(enc, &b, &pb, &pa).unwrap();
        let blob = client.encrypt(&mut OsRng, &payload);
        prop_assert_eq!(blob.len(), payload.len() + enc.overhead());
        prop_assert_eq!(server.decrypt(&blob).unwrap(), payload.clone());
        let reply = server.encrypt(&mut OsRng, &payload);
        prop_assert_eq!(client.decrypt(&reply).unwrap(), payload);
    }

    #[test]
    fn arbitrary_blobs_never_panic(blob in proptest::collection::vec(any::<u8>(), 0..200)) {
        let a = [1u8; 32];
        let cipher = LayerCipher::client(EncType::AesGcm, &a, &x25519_public(&a), &x25519_public(&[2; 32])).unwrap();
        prop_assert!(cipher.decrypt(&blob).is_err());
    }
}
