//! Community blinding: the vectors of `sogs.md` §2.4a and §2.5 (libsession `test_blinding.cpp`,
//! PySOGS `test_blinding.py`) and session-ios's `TestConstants`, plus properties.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use sotto_crypto::blinding::{blind15_candidates, blind15_factor, blind25_id, BlindedKeyPair};
use sotto_crypto::{BlindingKind, Error, Identity, Seed, SessionId, X25519PublicKey};

fn ed_seed(hex: &str) -> Identity {
    Identity::from_ed25519_seed(&hex::decode(hex).unwrap().try_into().unwrap())
}

fn server(hex: &str) -> X25519PublicKey {
    hex.parse().unwrap()
}

const LIBSESSION_SEED: &str = "fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122";
const NEGATIVE_SEED: &str = "8659efdcbe0949e0f81141e6d397e8be75f45d09262f209d5950e97989eb43c7";

fn libsession_server() -> X25519PublicKey {
    server(&"abcdef0123456789".repeat(4))
}

#[test]
fn libsession_ids() {
    let id = ed_seed(LIBSESSION_SEED);
    let sid = id.session_id().to_string();
    assert!(
        sid.starts_with("05fe94b7") && sid.ends_with("e96e1f"),
        "{sid}"
    );
    let b15 = BlindedKeyPair::new(&id, &libsession_server(), BlindingKind::Blind15).unwrap();
    let b25 = BlindedKeyPair::new(&id, &libsession_server(), BlindingKind::Blind25).unwrap();
    assert_eq!(
        b15.blinded_id().to_string(),
        "15b74ed205f1f931e1bb1291183778a9456b835937d923b0f2e248aa3a44c07844"
    );
    assert_eq!(
        b25.blinded_id().to_string(),
        "253b991dcbba44cfdb45d5b38880d95cff723309e3ece6fd01415ad5fa1dccc7ac"
    );
    let other = server("00cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    let b25 = BlindedKeyPair::new(&id, &other, BlindingKind::Blind25).unwrap();
    assert_eq!(
        b25.blinded_id().to_string(),
        "2598589c7885b56cbeae6ab7b4224f202815520a54995872cb1833b44db6401c8d"
    );
}

#[test]
fn libsession_negative_key() {
    let id = ed_seed(NEGATIVE_SEED);
    assert_ne!(
        id.ed25519_public().0[31] & 0x80,
        0,
        "this key's sign bit is set"
    );
    let b15 = BlindedKeyPair::new(&id, &libsession_server(), BlindingKind::Blind15).unwrap();
    let b25 = BlindedKeyPair::new(&id, &libsession_server(), BlindingKind::Blind25).unwrap();
    assert_eq!(
        b25.blinded_id().to_string(),
        "25a69cc6884530bf8498d22892e563716c4742f2845a7eb608de2aecbe7b6b5996"
    );
    assert_eq!(
        b15.blinded_id().to_string(),
        "1561e070286ff7a71f167e92b18c709882b148d8238c8872caf414b301ba05647d"
    );
    // The server only knows the 05 ID: k·A⁺ ends …0564fd (sign bit set); the real ID is its
    // twin with the bit cleared (PySOGS's `blinded_abs`).
    let [abs, neg] = blind15_candidates(&id.session_id(), &libsession_server()).unwrap();
    assert!(neg.to_string().ends_with("0564fd"), "{neg}");
    assert_eq!(abs, b15.blinded_id());
    assert_eq!(
        blind25_id(&id.session_id(), &libsession_server()).unwrap(),
        b25.blinded_id()
    );
}

#[test]
fn libsession_signatures() {
    let id = ed_seed(LIBSESSION_SEED);
    let b15 = BlindedKeyPair::new(&id, &libsession_server(), BlindingKind::Blind15).unwrap();
    let b25 = BlindedKeyPair::new(&id, &libsession_server(), BlindingKind::Blind25).unwrap();
    let sig25 = b25.sign(b"hello");
    assert_eq!(
        hex::encode(sig25),
        "e6c57de4ac0cd278abbeef815bd88b163a037085deae789ecaaf4805884c4c3d3db25f3afa856241366cb341a3a4c9bbaa2cda81d028079c956fab16a7fe6206"
    );
    let sig15 = b15.sign(b"hello");
    assert_eq!(
        hex::encode(sig15),
        "1a5ade20b43af0e16b3e591d6f86303938d7557c0ac54469dd4f5aea759f82d22cafa42587251756e133acdddd8cbec2f707a9ce09a49f2193f46a91502c5006"
    );
    // Plain Ed25519 verification under the blinded key.
    b15.public_key().verify(b"hello", &sig15, "test").unwrap();
    b25.public_key().verify(b"hello", &sig25, "test").unwrap();
    assert!(b15.public_key().verify(b"hellp", &sig15, "test").is_err());
}

/// PySOGS `tests/test_blinding.py` (sogs.md §2.5).
#[test]
fn pysogs_vectors() {
    let srv = server("6a32c7b491f4199dd1260a4cc60ae51c6bd71dad939cc521e738409f53f943be");
    assert_eq!(
        hex::encode(blind15_factor(&srv).to_bytes()),
        "52f2b25544f805cfd7be34f3581be33d0f16e25048fe29f2abc14f4e8fe2000d"
    );
    let cases = [
        (
            "880adf5164a79bce71f7387fbc2cb2693c0bf0ab4cb42bf1edafddade7527a66",
            "15cef185d46b60a548641bd8c5baa4b7cf90b7da8e883c0ac774c703d249086479",
        ),
        (
            "67416582e0700081604860d270bc986011fc5e62c53de908a9a5af2cb497c528",
            "15f8fbeb20cdde5e0cc0ec84e0b3705ca6090c7b23e8132589970473a5592ba388",
        ),
        (
            "a5ad71709cfa315d147921e377186270367fd06926f4dbfe33f519dec6b016f7",
            "15758e10dc51210d7a36ea6076e2aa84d9f87283bddb508364272dce0a7618f92a",
        ),
        (
            "c929a389a0dcf375ae8177891655b3835773e3a2d6d27490de8b8a160ca472f8",
            "1515ad8f8c5e56b31078a4a5ae73938bd523b1c86ea36033d564759e4495fbb64d",
        ),
        (
            "0576076b8a82aae0fa1d0f00e97b538b43205f63759a972f26b851a55b60b5d0",
            "15375a56d4cbf0538f4b326e54917fd1953e9e3dfe076eb8b35929a8d869a15c13",
        ),
        (
            "d9b4ff572d4ebbcf26b07329f9029462f0606087d64e8932e698aa0a98231ce3",
            "15a4acf4c814fd1bcf83ebbe42c276630a63e32365633cb57089544b3a60b5e4ac",
        ),
    ];
    for (seed, expected) in cases {
        let id = ed_seed(seed);
        let pair = BlindedKeyPair::new(&id, &srv, BlindingKind::Blind15).unwrap();
        assert_eq!(pair.blinded_id().to_string(), expected, "seed {seed}");
        let candidates = blind15_candidates(&id.session_id(), &srv).unwrap();
        assert!(candidates.contains(&pair.blinded_id()), "seed {seed}");
    }
    assert_eq!(
        ed_seed(cases[0].0).session_id().to_string(),
        "05c506fee5118680107a4722f60a05dfcbb5737d6ffc4d163fb60479e279c6095d"
    );
    let last = ed_seed(cases[5].0).session_id();
    assert_eq!(
        last.to_string(),
        "05faf2960454417b7713a19c771076de55d558773f4597c156b5b2c74c762ee84c"
    );
    let [positive, _] = blind15_candidates(&last, &srv).unwrap();
    assert!(positive.to_string().ends_with("b5e42c"), "{positive}");
}

/// session-ios `_SharedTestUtilities/TestConstants.swift`: blinded key pairs of its test account
/// for its test server.
#[test]
fn ios_test_constants() {
    let id = ed_seed("c010d89eccbaf5d1c6d19df766c6eedf965d4a28a56f87c9fc819edb59896dd9");
    let srv = server("c3b3c6f32f0ab5a57f853cc4f30f5da7fda5624b0c77b3fb0829de562ada081d");
    let b15 = BlindedKeyPair::new(&id, &srv, BlindingKind::Blind15).unwrap();
    let b25 = BlindedKeyPair::new(&id, &srv, BlindingKind::Blind25).unwrap();
    assert_eq!(
        b15.public_key().to_hex(),
        "98932d4bccbe595a8789d7eb1629cefc483a0eaddc7e20e8fe5c771efafd9af5"
    );
    assert_eq!(
        b25.public_key().to_hex(),
        "c0a17a5594f3708414f61a76517ddb02a97d07e715c4225188977990fc6283f0"
    );
}

#[test]
fn unusable_server_keys_are_refused() {
    let id = Identity::from_seed(&Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap());
    // u = -1 has no Edwards point: a 05 ID built on it cannot be blinded by a server.
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    let bogus = SessionId::from_x25519(X25519PublicKey(minus_one));
    let srv = server(&"11".repeat(32));
    assert!(matches!(
        blind15_candidates(&bogus, &srv),
        Err(Error::BadPoint { .. })
    ));
    assert!(matches!(
        blind25_id(&bogus, &srv),
        Err(Error::BadPoint { .. })
    ));
    // Any server key gives a usable pair for a real account.
    assert!(BlindedKeyPair::new(&id, &srv, BlindingKind::Blind15).is_ok());
}

proptest! {
    #[test]
    fn blinded_signatures_verify_and_servers_find_the_id(seed in any::<[u8; 16]>(), srv in any::<[u8; 32]>(), msg in proptest::collection::vec(any::<u8>(), 0..200)) {
        let id = Identity::from_seed(&Seed::Standard(seed));
        let srv = X25519PublicKey(srv);
        for kind in [BlindingKind::Blind15, BlindingKind::Blind25] {
            let pair = BlindedKeyPair::new(&id, &srv, kind).unwrap();
            let sig = pair.sign(&msg);
            prop_assert!(pair.public_key().verify(&msg, &sig, "prop").is_ok());
            prop_assert_eq!(pair.blinded_id().kind(), kind);
        }
        let b15 = BlindedKeyPair::new(&id, &srv, BlindingKind::Blind15).unwrap();
        prop_assert!(blind15_candidates(&id.session_id(), &srv).unwrap().contains(&b15.blinded_id()));
        let b25 = BlindedKeyPair::new(&id, &srv, BlindingKind::Blind25).unwrap();
        prop_assert_eq!(blind25_id(&id.session_id(), &srv).unwrap(), b25.blinded_id());
    }
}
