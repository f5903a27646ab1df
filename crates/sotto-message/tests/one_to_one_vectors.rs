//! The 1:1 pipeline: the iOS full-chain vector, round trips and every rejection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use proptest::prelude::*;
use prost::Message as _;
use rand_core::OsRng;
use sotto_crypto::{seal, Identity, Seed};
use sotto_message::padding::{pad, pad_legacy};
use sotto_message::proto::WebSocketRequestMessage;
use sotto_message::proto::{envelope, web_socket_message, Content, Envelope, WebSocketMessage};
use sotto_message::{decode_1to1, decode_1to1_bytes, encode_1to1, encode_1to1_bytes, Error};

/// `session-ios` `SessionMessagingKitTests/Crypto/CryptoSMKSpec.swift` ("successfully decrypts a
/// message"), with the keys of `_SharedTestUtilities/TestConstants.swift` (client.md §3.5).
const IOS_MESSAGE: &str = concat!(
    "CAESvwEKABIAGrYBCAYSACjQiOyP9yM4AUKmAfjX/WXVFs+QE5Eh54Esw9/N",
    "lYza3k8MOvcRAI7y8k0JzLsm/KpXxKP7Zx7+5YyII9sCRXzFK2U4/X9SSMN088YEr/5wKoDfL5q",
    "PQbN70aa59WS8YE+yWcniQO0KXfAzr6Acn40fsa9BMr9tnQLfvxY8vD7qBz9iEOV9jTxPzxUoD+",
    "JelIbsv2qlkOl9vs166NC/Y772NZmUAR5u1ewL4SYEWkqX5R4gAA==",
);
const IOS_ED_SEED: &str = "c010d89eccbaf5d1c6d19df766c6eedf965d4a28a56f87c9fc819edb59896dd9";
const IOS_SESSION_ID: &str = "0588672ccb97f40bb57238989226cf429b575ba355443f47bc76c5ab144a96c65b";

fn ios_identity() -> Identity {
    Identity::from_ed25519_seed(&hex::decode(IOS_ED_SEED).unwrap().try_into().unwrap())
}

fn alice() -> Identity {
    Identity::from_seed(&Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap())
}

fn bob() -> Identity {
    Identity::from_seed(&Seed::from_hex("00112233445566778899aabbccddeeff").unwrap())
}

#[test]
fn ios_full_chain_vector() {
    let me = ios_identity();
    assert_eq!(me.session_id().to_string(), IOS_SESSION_ID);
    assert_eq!(
        hex::encode(me.x25519_secret()),
        "30d796c1ddb4dc455fd998a98aa275c247494a9a7bde9c1fee86ae45cd585241"
    );
    let decoded = decode_1to1(&me, IOS_MESSAGE).unwrap();
    assert_eq!(decoded.sender.to_string(), IOS_SESSION_ID);
    assert_eq!(decoded.envelope_timestamp_ms, 1_234_567_890_000);
    assert_eq!(decoded.content.body(), Some("TestMessage"));
    assert_eq!(decoded.content.sig_timestamp, Some(1_234_567_890_000));

    // The layer sizes client.md §3.5 reports: 196 → 182 → 166 = 22 + 96 + 48.
    let raw = STANDARD.decode(IOS_MESSAGE).unwrap();
    assert_eq!(raw.len(), 196);
    let body = WebSocketMessage::decode(raw.as_slice())
        .unwrap()
        .request
        .unwrap()
        .body
        .unwrap();
    assert_eq!(body.len(), 182);
    let envelope = Envelope::decode(body.as_slice()).unwrap();
    assert_eq!(envelope.content.unwrap().len(), 166);
}

#[test]
fn round_trip_sets_sig_timestamp() {
    let content = Content::text("hello Bob");
    let data = encode_1to1(
        &alice(),
        &bob().session_id(),
        &content,
        1_700_000_000_123,
        &mut OsRng,
    )
    .unwrap();
    let decoded = decode_1to1(&bob(), &data).unwrap();
    assert_eq!(decoded.sender, alice().session_id());
    assert_eq!(decoded.envelope_timestamp_ms, 1_700_000_000_123);
    assert_eq!(decoded.content.sig_timestamp, Some(1_700_000_000_123));
    assert_eq!(decoded.content.body(), Some("hello Bob"));
}

#[test]
fn wire_layers_are_what_session_expects() {
    let raw = encode_1to1_bytes(
        &alice(),
        &bob().session_id(),
        &Content::text("x"),
        42,
        &mut OsRng,
    )
    .unwrap();
    let wrapper = WebSocketMessage::decode(raw.as_slice()).unwrap();
    assert_eq!(
        wrapper.r#type,
        Some(web_socket_message::Type::Request as i32)
    );
    let request = wrapper.request.unwrap();
    assert_eq!(request.verb.as_deref(), Some(""));
    assert_eq!(request.path.as_deref(), Some(""));
    assert_eq!(request.request_id, Some(0));
    let envelope = Envelope::decode(request.body.unwrap().as_slice()).unwrap();
    assert_eq!(envelope.r#type, envelope::Type::SessionMessage as i32);
    assert_eq!(envelope.timestamp, 42);
    assert_eq!(envelope.source_device, Some(1));
    assert_eq!(envelope.source, None);
    // The decoy Pro signature current libsession sends.
    assert_eq!(envelope.pro_sig.as_ref().map(Vec::len), Some(64));
    // Always padded: a short content seals to 160 + 96 + 48 bytes.
    assert_eq!(envelope.content.unwrap().len(), 160 + 96 + 48);
}

/// Seal `padded` from alice to bob in a proper wrapper with the given envelope fields.
fn wrap(padded: &[u8], envelope_type: i32, timestamp: u64) -> Vec<u8> {
    let sealed = seal::encrypt_for_recipient(&alice(), &bob().x25519_public(), padded, &mut OsRng);
    let envelope = Envelope {
        r#type: envelope_type,
        timestamp,
        content: Some(sealed),
        ..Default::default()
    };
    WebSocketMessage {
        r#type: Some(web_socket_message::Type::Request as i32),
        request: Some(WebSocketRequestMessage {
            body: Some(envelope.encode_to_vec()),
            ..Default::default()
        }),
    }
    .encode_to_vec()
}

#[test]
fn accepts_legacy_padding_and_unpadded_content() {
    let mut content = Content::text("legacy");
    content.sig_timestamp = Some(7);
    let bytes = content.encode_to_vec();
    for padded in [pad_legacy(&bytes), bytes.clone(), pad(&bytes)] {
        let decoded = decode_1to1_bytes(&bob(), &wrap(&padded, 6, 7)).unwrap();
        assert_eq!(decoded.content.body(), Some("legacy"));
    }
    // A content without sigTimestamp (older clients) is accepted.
    let plain = Content::text("old").encode_to_vec();
    let decoded = decode_1to1_bytes(&bob(), &wrap(&pad(&plain), 6, 9)).unwrap();
    assert_eq!(decoded.envelope_timestamp_ms, 9);
}

#[test]
fn rejects_sig_timestamp_mismatch() {
    let mut content = Content::text("replayed");
    content.sig_timestamp = Some(1000);
    let data = wrap(&pad(&content.encode_to_vec()), 6, 2000);
    assert!(matches!(
        decode_1to1_bytes(&bob(), &data),
        Err(Error::SigTimestampMismatch {
            signed: 1000,
            envelope: 2000
        })
    ));
}

#[test]
fn rejects_wrong_envelope_type() {
    let data = wrap(&pad(&Content::text("g").encode_to_vec()), 7, 1);
    assert!(matches!(
        decode_1to1_bytes(&bob(), &data),
        Err(Error::WrongEnvelopeType { found: 7 })
    ));
}

#[test]
fn rejects_foreign_and_tampered_messages() {
    let data = encode_1to1_bytes(
        &alice(),
        &bob().session_id(),
        &Content::text("hi"),
        5,
        &mut OsRng,
    )
    .unwrap();
    // Not for us.
    assert!(matches!(
        decode_1to1_bytes(&alice(), &data),
        Err(Error::Crypto(_))
    ));
    // Any flipped bit is caught by a protobuf, a MAC or a signature check, or leaves the
    // message intact (protobuf fields we ignore).
    for i in 0..data.len() {
        let mut tampered = data.clone();
        tampered[i] ^= 0x01;
        if let Ok(decoded) = decode_1to1_bytes(&bob(), &tampered) {
            assert_eq!(decoded.content.body(), Some("hi"), "flip at {i}");
            assert_eq!(decoded.sender, alice().session_id(), "flip at {i}");
        }
    }
    // Every truncation is rejected, never a panic.
    for len in 0..data.len() {
        assert!(
            decode_1to1_bytes(&bob(), &data[..len]).is_err(),
            "truncated to {len}"
        );
    }
}

#[test]
fn rejects_bad_encodings_and_oversize() {
    assert!(matches!(
        decode_1to1(&bob(), "not base64!"),
        Err(Error::Base64)
    ));
    assert!(matches!(decode_1to1(&bob(), ""), Err(Error::NoRequestBody)));
    let junk = STANDARD.encode([0xffu8; 40]);
    assert!(matches!(
        decode_1to1(&bob(), &junk),
        Err(Error::Protobuf { .. })
    ));
    let huge = "A".repeat(200_000);
    assert!(matches!(
        decode_1to1(&bob(), &huge),
        Err(Error::TooLarge { .. })
    ));
    assert!(matches!(
        decode_1to1_bytes(&bob(), &vec![0u8; 100_000]),
        Err(Error::TooLarge { .. })
    ));
    // A wrapper without a body, and an envelope without content.
    let empty = WebSocketMessage::default().encode_to_vec();
    assert!(matches!(
        decode_1to1_bytes(&bob(), &empty),
        Err(Error::NoRequestBody)
    ));
    let no_content = WebSocketMessage {
        r#type: Some(1),
        request: Some(WebSocketRequestMessage {
            body: Some(
                Envelope {
                    r#type: 6,
                    timestamp: 1,
                    ..Default::default()
                }
                .encode_to_vec(),
            ),
            ..Default::default()
        }),
    }
    .encode_to_vec();
    assert!(matches!(
        decode_1to1_bytes(&bob(), &no_content),
        Err(Error::NoContent)
    ));
    // Too big to store.
    let big = Content::text("x".repeat(80_000));
    assert!(matches!(
        encode_1to1(&alice(), &bob().session_id(), &big, 1, &mut OsRng),
        Err(Error::TooLarge { .. })
    ));
}

proptest! {
    #[test]
    fn encode_decode_round_trip(text in ".{0,300}", ts in 1u64..4_000_000_000_000, seed in any::<[u8; 16]>()) {
        let sender = Identity::from_seed(&Seed::Standard(seed));
        let data = encode_1to1(&sender, &bob().session_id(), &Content::text(text.clone()), ts, &mut OsRng).unwrap();
        let decoded = decode_1to1(&bob(), &data).unwrap();
        prop_assert_eq!(decoded.sender, sender.session_id());
        prop_assert_eq!(decoded.envelope_timestamp_ms, ts);
        prop_assert_eq!(decoded.content.body(), Some(text.as_str()));
    }

    #[test]
    fn content_protobuf_round_trip(body in proptest::option::of(".{0,100}"), timer in proptest::option::of(any::<u32>()), ts in proptest::option::of(any::<u64>())) {
        let mut content = Content::default();
        if let Some(body) = body {
            content = Content::text(body);
        }
        content.expiration_timer = timer;
        content.sig_timestamp = ts;
        let bytes = content.encode_to_vec();
        prop_assert_eq!(Content::decode(bytes.as_slice()).unwrap(), content);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode_1to1_bytes(&bob(), &data);
    }

    #[test]
    fn arbitrary_text_never_panics(data in ".{0,400}") {
        let _ = decode_1to1(&bob(), &data);
    }
}
