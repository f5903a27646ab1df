//! Attachment and avatar encryption: the padding ladder, a fixed-input vector checked against an
//! independent computation, round trips, and refusal of wrong keys, MACs and digests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use sha2::Digest as _;
use sotto_crypto::attachment::{
    decrypt_avatar, decrypt_legacy, encrypt_avatar, encrypt_legacy, encrypt_legacy_with,
    padded_size, PADDING_CAP,
};
use sotto_crypto::Error;

/// The ladder as Session desktop's `BufferPadding.ts` computes it, spelled out.
#[test]
fn padding_ladder() {
    assert_eq!(padded_size(0), 541);
    assert_eq!(padded_size(1), 541);
    assert_eq!(padded_size(541), 541);
    // Expected values computed independently in Python (IEEE doubles, as JavaScript):
    // floor(1.05 ** ceil(log(n) / log(1.05))).
    assert_eq!(padded_size(542), 568);
    assert_eq!(padded_size(1000), 1020);
    assert_eq!(padded_size(1_000_000), 1_041_743);
    // Near the cap: never past 10 MB for a file that fits.
    assert_eq!(padded_size(9_999_999), PADDING_CAP);
    assert_eq!(padded_size(PADDING_CAP), PADDING_CAP);
    for len in [2usize, 3, 600, 4096, 65_536, 5_000_000] {
        let p = padded_size(len);
        assert!(
            p >= len && p <= (len as f64 * 1.05).ceil() as usize + 1 || p == 541,
            "{len} → {p}"
        );
    }
}

/// A fixed key and IV give a blob checked against AES-256-CBC, HMAC-SHA256 and SHA-256 computed
/// step by step here with the same primitives, so the layout (IV ‖ ct ‖ MAC, MAC over IV ‖ ct,
/// digest over the whole blob, zero padding to 541 then PKCS#7) is pinned.
#[test]
fn fixed_vector_layout() {
    use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
    use hmac::Mac;
    let key: [u8; 64] = core::array::from_fn(|i| i as u8);
    let iv: [u8; 16] = core::array::from_fn(|i| 0xf0 | i as u8);
    let e = encrypt_legacy_with(&key, &iv, b"hello attachment").unwrap();

    let mut padded = b"hello attachment".to_vec();
    padded.resize(541, 0);
    let ct = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key[..32], &iv)
        .unwrap()
        .encrypt_padded_vec_mut::<Pkcs7>(&padded);
    assert_eq!(ct.len(), 544);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key[32..]).unwrap();
    mac.update(&iv);
    mac.update(&ct);
    let mut expected = iv.to_vec();
    expected.extend_from_slice(&ct);
    expected.extend_from_slice(&mac.finalize().into_bytes());
    assert_eq!(e.blob, expected);
    assert_eq!(e.blob.len(), 16 + 544 + 32);
    assert_eq!(e.digest.to_vec(), sha2::Sha256::digest(&expected).to_vec());
    assert_eq!(e.size, 16);
    assert_eq!(
        decrypt_legacy(&e.blob, &key, e.size, Some(&e.digest)).unwrap(),
        b"hello attachment"
    );
}

#[test]
fn refuses_wrong_key_mac_digest_size_and_short_blobs() {
    let mut rng = StdRng::seed_from_u64(7);
    let e = encrypt_legacy(&mut rng, b"secret picture").unwrap();
    let mut wrong_key = *e.key;
    wrong_key[0] ^= 1;
    assert!(matches!(
        decrypt_legacy(&e.blob, &wrong_key, e.size, None),
        Err(Error::Decrypt { .. })
    ));
    let mut wrong_mac_key = *e.key;
    wrong_mac_key[40] ^= 1;
    assert!(matches!(
        decrypt_legacy(&e.blob, &wrong_mac_key, e.size, None),
        Err(Error::Decrypt { .. })
    ));
    let mut tampered = e.blob.clone();
    tampered[20] ^= 1;
    assert!(matches!(
        decrypt_legacy(&tampered, &*e.key, e.size, None),
        Err(Error::Decrypt { .. })
    ));
    assert!(matches!(
        decrypt_legacy(&e.blob, &*e.key, e.size, Some(&[0u8; 32])),
        Err(Error::AttachmentDigest)
    ));
    assert!(matches!(
        decrypt_legacy(&e.blob[..47], &*e.key, 1, None),
        Err(Error::TooShort { .. })
    ));
    assert!(matches!(
        decrypt_legacy(&e.blob, &e.key[..63], 1, None),
        Err(Error::BadLength { .. })
    ));
    assert!(decrypt_legacy(&e.blob, &*e.key, 100_000, None).is_err());
    let msg = decrypt_legacy(&e.blob, &wrong_key, e.size, None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("wrong key or tampered"), "{msg}");
}

#[test]
fn avatar_round_trip_and_refusals() {
    let mut rng = StdRng::seed_from_u64(9);
    let key = [0x42u8; 32];
    let blob = encrypt_avatar(&mut rng, &key, b"png bytes").unwrap();
    assert_eq!(blob.len(), 12 + 9 + 16);
    assert_eq!(decrypt_avatar(&key, &blob).unwrap(), b"png bytes");
    assert!(decrypt_avatar(&[0x43; 32], &blob).is_err());
    assert!(decrypt_avatar(&key, &blob[..27]).is_err());
    assert!(decrypt_avatar(&key[..31], &blob).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn legacy_round_trip(data in proptest::collection::vec(any::<u8>(), 0..5000), seed: u64) {
        let e = encrypt_legacy(&mut StdRng::seed_from_u64(seed), &data).unwrap();
        prop_assert_eq!(e.blob.len(), 16 + (padded_size(data.len()) / 16 + 1) * 16 + 32);
        prop_assert_eq!(decrypt_legacy(&e.blob, &*e.key, e.size, Some(&e.digest)).unwrap(), data);
    }

    #[test]
    fn garbage_never_panics(blob in proptest::collection::vec(any::<u8>(), 0..300), key in proptest::collection::vec(any::<u8>(), 0..70), size in 0usize..400) {
        let _ = decrypt_legacy(&blob, &key, size, None);
        let _ = decrypt_avatar(&key, &blob);
    }

    #[test]
    fn avatar_round_trip(data in proptest::collection::vec(any::<u8>(), 0..2000), key: [u8; 32], seed: u64) {
        let blob = encrypt_avatar(&mut StdRng::seed_from_u64(seed), &key, &data).unwrap();
        prop_assert_eq!(decrypt_avatar(&key, &blob).unwrap(), data);
    }
}

mod deterministic {
    use proptest::prelude::*;
    use sotto_crypto::attachment::{
        decrypt_deterministic, deterministic_size, encrypt_deterministic, Domain,
        DETERMINISTIC_MAX_SIZE,
    };

    /// The sizes libsession pins (`tests/test_attachment_encrypt.cpp`, via client.md §6).
    #[test]
    fn encrypted_sizes() {
        for len in [0usize, 1, 100, 4053] {
            assert_eq!(deterministic_size(len), 4096, "{len}");
        }
        assert_eq!(deterministic_size(4054), 8192);
        assert_eq!(deterministic_size(33_333), 36_864);
        assert_eq!(deterministic_size(DETERMINISTIC_MAX_SIZE), 10_223_616);
        // The real output has exactly that size.
        for len in [0usize, 4053, 4054, 33_333, 70_000] {
            let data = vec![7u8; len];
            let (blob, _) = encrypt_deterministic(&[1; 32], &data, Domain::Attachment).unwrap();
            assert_eq!(blob.len(), deterministic_size(len), "{len}");
            assert_eq!(blob[0], b'S');
        }
    }

    #[test]
    fn same_file_same_uploader_same_bytes() {
        let a = encrypt_deterministic(&[1; 32], b"photo", Domain::Attachment).unwrap();
        let b = encrypt_deterministic(&[1; 32], b"photo", Domain::Attachment).unwrap();
        assert_eq!(a.0, b.0);
        assert_eq!(*a.1, *b.1);
        let other_seed = encrypt_deterministic(&[2; 32], b"photo", Domain::Attachment).unwrap();
        assert_ne!(a.0, other_seed.0);
        let avatar = encrypt_deterministic(&[1; 32], b"photo", Domain::ProfilePicture).unwrap();
        assert_ne!(a.0, avatar.0);
        assert_eq!(
            decrypt_deterministic(&avatar.0, &*avatar.1).unwrap(),
            b"photo"
        );
    }

    #[test]
    fn refusals() {
        let (blob, key) = encrypt_deterministic(&[3; 32], b"secret", Domain::Attachment).unwrap();
        let mut wrong = *key;
        wrong[0] ^= 1;
        assert!(decrypt_deterministic(&blob, &wrong).is_err());
        let mut tampered = blob.clone();
        tampered[100] ^= 1;
        assert!(decrypt_deterministic(&tampered, &*key).is_err());
        let mut prefix = blob.clone();
        prefix[0] = b'X';
        assert!(decrypt_deterministic(&prefix, &*key).is_err());
        assert!(decrypt_deterministic(&blob[..blob.len() - 1], &*key).is_err());
        assert!(decrypt_deterministic(&blob[..10], &*key).is_err());
        assert!(decrypt_deterministic(&blob, &key[..31]).is_err());
        assert!(encrypt_deterministic(
            &[0; 32],
            &vec![0; DETERMINISTIC_MAX_SIZE + 1],
            Domain::Attachment
        )
        .is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..80_000), seed: [u8; 32]) {
            let (blob, key) = encrypt_deterministic(&seed, &data, Domain::Attachment).unwrap();
            prop_assert_eq!(blob.len(), deterministic_size(data.len()));
            prop_assert_eq!(decrypt_deterministic(&blob, &*key).unwrap(), data);
        }

        #[test]
        fn garbage_never_panics(blob in proptest::collection::vec(any::<u8>(), 0..200), key: [u8; 32]) {
            let _ = decrypt_deterministic(&blob, &key);
        }
    }
}
