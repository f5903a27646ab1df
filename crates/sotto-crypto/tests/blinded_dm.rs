//! Blinded community DMs: session-ios's fixed vector, round trips for 15 and 25 in both
//! directions, and rejections.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use rand_core::OsRng;
use sotto_crypto::blinded_dm::{
    decrypt_from_blinded_sender, decrypt_own_outgoing, encrypt_for_blinded_recipient,
    MIN_BLINDED_DM_LEN,
};
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::{BlindedId, BlindingKind, Error, Identity, Seed, X25519PublicKey};

fn ios() -> Identity {
    Identity::from_ed25519_seed(
        &hex::decode("c010d89eccbaf5d1c6d19df766c6eedf965d4a28a56f87c9fc819edb59896dd9")
            .unwrap()
            .try_into()
            .unwrap(),
    )
}

fn ios_server() -> X25519PublicKey {
    "c3b3c6f32f0ab5a57f853cc4f30f5da7fda5624b0c77b3fb0829de562ada081d"
        .parse()
        .unwrap()
}

fn id(seed: &str) -> Identity {
    Identity::from_seed(&Seed::from_hex(seed).unwrap())
}

fn blinded(who: &Identity, server: &X25519PublicKey, kind: BlindingKind) -> BlindedId {
    BlindedKeyPair::new(who, server, kind).unwrap().blinded_id()
}

/// session-ios `MessageReceiverDecryptionSpec` "when decrypting with the blinded session
/// protocol / successfully decrypts a message": an outgoing DM of the test account to its own
/// 15-blinded ID.
#[test]
fn ios_vector() {
    let data = hex::decode(concat!(
        "00db16b6687382811d69875a5376f66acad9c49fe5e26bcf770c7e6e9c230299",
        "f61b315299dd1fa700dd7f34305c0465af9e64dc791d7f4123f1eeafa5b4d48b3ade4",
        "f4b2a2764762e5a2c7900f254bd91633b43"
    ))
    .unwrap();
    let me = blinded(&ios(), &ios_server(), BlindingKind::Blind15);
    assert_eq!(
        me.to_string(),
        "1598932d4bccbe595a8789d7eb1629cefc483a0eaddc7e20e8fe5c771efafd9af5"
    );
    let outgoing = decrypt_own_outgoing(&ios(), &ios_server(), &me, &data).unwrap();
    assert_eq!(outgoing, b"TestMessage");
    let incoming = decrypt_from_blinded_sender(&ios(), &ios_server(), &me, &data).unwrap();
    assert_eq!(incoming.plaintext, b"TestMessage");
    assert_eq!(
        incoming.sender.to_string(),
        "0588672ccb97f40bb57238989226cf429b575ba355443f47bc76c5ab144a96c65b"
    );
}

#[test]
fn round_trips_both_kinds_both_directions() {
    let server: X25519PublicKey =
        "6a32c7b491f4199dd1260a4cc60ae51c6bd71dad939cc521e738409f53f943be"
            .parse()
            .unwrap();
    let alice = id("0123456789abcdef0123456789abcdef");
    let bob = id("00112233445566778899aabbccddeeff");
    for kind in [BlindingKind::Blind15, BlindingKind::Blind25] {
        let (a, b) = (blinded(&alice, &server, kind), blinded(&bob, &server, kind));
        let to_bob =
            encrypt_for_blinded_recipient(&alice, &server, &b, b"hi bob", &mut OsRng).unwrap();
        assert_eq!(to_bob.len(), 1 + 6 + 32 + 16 + 24);
        assert_eq!(to_bob[0], 0);
        let opened = decrypt_from_blinded_sender(&bob, &server, &a, &to_bob).unwrap();
        assert_eq!(opened.plaintext, b"hi bob");
        assert_eq!(opened.sender, alice.session_id());
        assert_eq!(opened.sender_ed25519, alice.ed25519_public());
        // Alice reads her outbox copy.
        assert_eq!(
            decrypt_own_outgoing(&alice, &server, &b, &to_bob).unwrap(),
            b"hi bob"
        );
        // A third party cannot read it.
        let carol = id("b0e12943e22e8f71774c2c4205fed598");
        assert!(decrypt_from_blinded_sender(&carol, &server, &a, &to_bob).is_err());
        // Bob cannot pass it off as Carol's.
        let c = blinded(&carol, &server, kind);
        assert!(decrypt_from_blinded_sender(&bob, &server, &c, &to_bob).is_err());
        // Another server's blinding does not open it.
        let other: X25519PublicKey = "11".repeat(32).parse().unwrap();
        assert!(decrypt_from_blinded_sender(&bob, &other, &a, &to_bob).is_err());
    }
}

/// A message attributed to the wrong blinded sender does not open: the key binds both IDs.
#[test]
fn wrong_claimed_sender_is_refused() {
    let server = ios_server();
    let alice = id("0123456789abcdef0123456789abcdef");
    let bob = id("00112233445566778899aabbccddeeff");
    let carol = id("b0e12943e22e8f71774c2c4205fed598");
    let b = blinded(&bob, &server, BlindingKind::Blind15);
    let genuine = encrypt_for_blinded_recipient(&alice, &server, &b, b"x", &mut OsRng).unwrap();
    let carol15 = blinded(&carol, &server, BlindingKind::Blind15);
    assert!(matches!(
        decrypt_from_blinded_sender(&bob, &server, &carol15, &genuine),
        Err(Error::Decrypt { .. })
    ));
    // Carol cannot read Alice's outbox.
    assert!(decrypt_own_outgoing(&carol, &server, &b, &genuine).is_err());
}

#[test]
fn malformed_input() {
    let server = ios_server();
    let me = blinded(&ios(), &server, BlindingKind::Blind15);
    for len in [0, 1, MIN_BLINDED_DM_LEN - 1] {
        assert!(matches!(
            decrypt_from_blinded_sender(&ios(), &server, &me, &vec![0; len]),
            Err(Error::TooShort { .. })
        ));
    }
    let good = encrypt_for_blinded_recipient(&ios(), &server, &me, b"msg", &mut OsRng).unwrap();
    let mut wrong_version = good.clone();
    wrong_version[0] = 1;
    assert!(matches!(
        decrypt_from_blinded_sender(&ios(), &server, &me, &wrong_version),
        Err(Error::BadPrefix { .. })
    ));
    for i in 1..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x10;
        assert!(
            decrypt_from_blinded_sender(&ios(), &server, &me, &bad).is_err(),
            "byte {i}"
        );
    }
    // A blinded ID that is not a valid point.
    let bogus: BlindedId = format!("15{}", "00".repeat(32)).parse().unwrap();
    assert!(matches!(
        encrypt_for_blinded_recipient(&ios(), &server, &bogus, b"x", &mut OsRng),
        Err(Error::BadPoint { .. })
    ));
}

proptest! {
    // Curve arithmetic is slow in unoptimised test builds.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip(s in any::<[u8; 16]>(), r in any::<[u8; 16]>(), srv in any::<[u8; 32]>(), msg in proptest::collection::vec(any::<u8>(), 0..500), b25 in any::<bool>(), flip in any::<prop::sample::Index>(), bit in 0u8..8) {
        let kind = if b25 { BlindingKind::Blind25 } else { BlindingKind::Blind15 };
        let server = X25519PublicKey(srv);
        let sender = Identity::from_seed(&Seed::Standard(s));
        let recipient = Identity::from_seed(&Seed::Standard(r));
        let to = blinded(&recipient, &server, kind);
        let from = blinded(&sender, &server, kind);
        let data = encrypt_for_blinded_recipient(&sender, &server, &to, &msg, &mut OsRng).unwrap();
        let opened = decrypt_from_blinded_sender(&recipient, &server, &from, &data).unwrap();
        prop_assert_eq!(&opened.plaintext, &msg);
        prop_assert_eq!(opened.sender, sender.session_id());
        prop_assert_eq!(&decrypt_own_outgoing(&sender, &server, &to, &data).unwrap(), &msg);
        // Any single flipped bit is caught.
        let mut tampered = data.clone();
        tampered[flip.index(data.len())] ^= 1 << bit;
        prop_assert!(decrypt_from_blinded_sender(&recipient, &server, &from, &tampered).is_err());
        prop_assert!(decrypt_own_outgoing(&sender, &server, &to, &tampered).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let me = blinded(&ios(), &ios_server(), BlindingKind::Blind15);
        let _ = decrypt_from_blinded_sender(&ios(), &ios_server(), &me, &data);
    }
}
