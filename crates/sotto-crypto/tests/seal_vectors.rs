//! Session protocol v1 (`client.md` §2.1): the pinned deterministic vector, round trips, and
//! every rejection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use rand_core::OsRng;
use sotto_crypto::seal::{
    decoy_pro_signature, decrypt_incoming, encrypt_for_recipient,
    encrypt_for_recipient_deterministic, OVERHEAD,
};
use sotto_crypto::{Error, Identity, Seed};

fn alice() -> Identity {
    Identity::from_seed(&Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap())
}

fn bob() -> Identity {
    Identity::from_seed(&Seed::from_hex("00112233445566778899aabbccddeeff").unwrap())
}

/// libsession `tests/test_session_encrypt.cpp` ("Session protocol deterministic encryption"):
/// the ciphertext of "hello" (unpadded) from seed `0123…cdef` to `05aa654f…aa74`.
const DETERMINISTIC_HELLO: &str = concat!(
    "208f96785db92319bc7a14afecc01e17bde912d17bbb32834c03ea63b1862c2a1b730e0725ef75b2f1a276db",
    "584c59a0ed9b5497bcb9f4effa893b5cb8b04dbe7a6ab457ebf972f03b006dd4572980a725399616d40184b8",
    "6aa3b7b218bdc6dd7c1adccda8ef4897f0f458492240b39079c27a6c791067ab26a03067a7602b50f0434639",
    "906f93e548f909d5286edde365ebddc146",
);

#[test]
fn deterministic_vector() {
    // The keys the libsession test asserts before encrypting.
    assert_eq!(
        hex::encode(alice().ed25519_public().as_bytes()),
        "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7"
    );
    assert_eq!(
        bob().session_id().to_string(),
        "05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74"
    );
    let ct = encrypt_for_recipient_deterministic(&alice(), &bob().x25519_public(), b"hello");
    assert_eq!(ct.len(), 149);
    assert_eq!(hex::encode(&ct), DETERMINISTIC_HELLO);
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

/// The decoy is shaped like a real signature (R a valid point of the prime-order subgroup, s a
/// canonical scalar), differs each time, and verifies against nothing.
#[test]
fn decoy_pro_signature_is_well_formed() {
    use curve25519_dalek::edwards::CompressedEdwardsY;
    use curve25519_dalek::Scalar;
    let a = decoy_pro_signature(&mut OsRng);
    let b = decoy_pro_signature(&mut OsRng);
    assert_ne!(a, b);
    for sig in [a, b] {
        let r: [u8; 32] = sig[..32].try_into().unwrap();
        let point = CompressedEdwardsY(r).decompress().expect("R is a point");
        assert!(point.is_torsion_free());
        let s: [u8; 32] = sig[32..].try_into().unwrap();
        assert!(bool::from(Scalar::from_canonical_bytes(s).is_some()));
        assert!(alice()
            .ed25519_public()
            .verify(b"anything", &sig, "decoy")
            .is_err());
    }
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
