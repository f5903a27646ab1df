//! Session protocol v1 (`client.md` §2.1): the pinned deterministic vector, round trips, and
//! every rejection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use rand_core::OsRng;
use sotto_crypto::seal::{
    decrypt_incoming, encrypt_for_recipient, encrypt_for_recipient_deterministic, OVERHEAD,
};
use sotto_crypto::{Error, Identity, Seed};

fn alice() -> Identity {
    Identity::from_seed(&Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap())
}

fn bob() -> Identity {
    Identity::from_seed(&Seed::from_hex("00112233445566778899aabbccddeeff").unwrap())
}

/// libsession `tests/test_session_encrypt.cpp`: sender `0123…cdef`, recipient `05aa654f…aa74`,
/// message "hello" (unpadded).
#[test]
fn deterministic_vector() {
    let ct = encrypt_for_recipient_deterministic(&alice(), &bob().x25519_public(), b"hello");
    assert_eq!(ct.len(), 149);
    let hex = hex::encode(&ct);
    assert!(hex.starts_with("208f96785db92319bc7a"), "{hex}");
    assert!(hex.ends_with("65ebddc146"), "{hex}");
    // Deterministic: same inputs, same bytes; different message, different bytes.
    assert_eq!(
        ct,
        encrypt_for_recipient_deterministic(&alice(), &bob().x25519_public(), b"hello")
    );
    assert_ne!(
        ct,
        encrypt_for_recipient_deterministic(&alice(), &bob().x25519_public(), b"hellp")
    );
    let opened = decrypt_incoming(&bob(), &ct).unwrap();
    assert_eq!(opened.plaintext, b"hello");
    assert_eq!(opened.sender, alice().session_id());
    assert_eq!(opened.sender_ed25519, alice().ed25519_public());
}

#[test]
fn sizes() {
    let ct = encrypt_for_recipient(&alice(), &bob().x25519_public(), &[0u8; 160], &mut OsRng);
    assert_eq!(ct.len(), 160 + OVERHEAD);
    assert_eq!(OVERHEAD, 144);
}

#[test]
fn only_the_recipient_can_open() {
    let ct = encrypt_for_recipient(&alice(), &bob().x25519_public(), b"for bob", &mut OsRng);
    assert_eq!(
        decrypt_incoming(&alice(), &ct),
        Err(Error::Decrypt {
            what: "1:1 message"
        })
    );
}

#[test]
fn every_flipped_bit_is_rejected() {
    let ct = encrypt_for_recipient(&alice(), &bob().x25519_public(), b"integrity", &mut OsRng);
    for i in 0..ct.len() {
        for bit in [0x01, 0x80] {
            let mut tampered = ct.clone();
            tampered[i] ^= bit;
            assert!(decrypt_incoming(&bob(), &tampered).is_err(), "byte {i}");
        }
    }
}

#[test]
fn short_input_is_rejected() {
    for len in [0, 1, 47, 143] {
        assert!(matches!(
            decrypt_incoming(&bob(), &vec![0u8; len]),
            Err(Error::TooShort { .. })
        ));
    }
    // Long enough, but not a sealed box.
    assert!(matches!(
        decrypt_incoming(&bob(), &[7u8; 300]),
        Err(Error::Decrypt { .. })
    ));
}

/// A signature made for another recipient, re-sealed to Bob, must not verify: the signature
/// covers the recipient's key.
#[test]
fn signature_for_another_recipient_is_rejected() {
    let carol = Identity::from_seed(&Seed::from_hex("b0e12943e22e8f71774c2c4205fed598").unwrap());
    let message = b"meant for carol";
    let mut signed = message.to_vec();
    signed.extend_from_slice(alice().ed25519_public().as_bytes());
    signed.extend_from_slice(carol.x25519_public().as_bytes());
    let mut inner = message.to_vec();
    inner.extend_from_slice(alice().ed25519_public().as_bytes());
    inner.extend_from_slice(&alice().sign(&signed));
    let resealed = crypto_box::PublicKey::from_bytes(bob().x25519_public().0)
        .seal(&mut OsRng, &inner)
        .unwrap();
    assert_eq!(
        decrypt_incoming(&bob(), &resealed),
        Err(Error::BadSignature {
            what: "1:1 message"
        })
    );
}

proptest! {
    #[test]
    fn round_trip(message in proptest::collection::vec(any::<u8>(), 0..2000), s in any::<[u8; 16]>(), r in any::<[u8; 16]>()) {
        let sender = Identity::from_seed(&Seed::Standard(s));
        let recipient = Identity::from_seed(&Seed::Standard(r));
        let ct = encrypt_for_recipient(&sender, &recipient.x25519_public(), &message, &mut OsRng);
        prop_assert_eq!(ct.len(), message.len() + OVERHEAD);
        let opened = decrypt_incoming(&recipient, &ct).unwrap();
        prop_assert_eq!(opened.plaintext, message);
        prop_assert_eq!(opened.sender, sender.session_id());
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = decrypt_incoming(&bob(), &data);
    }
}
