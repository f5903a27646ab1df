//! Recovery phrase vectors (`client.md` §1.2; libsession `tests/test_mnemonics.cpp`), round
//! trips and every rejection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use sha2::{Digest, Sha256, Sha512};
use sotto_crypto::mnemonic::{self, decode, encode, encode_without_checksum, phrase_to_seed};
use sotto_crypto::{Error, Identity, Seed};

const SIXTEEN: &[(&str, &str)] = &[
    (
        "000102030405060708090a0b0c0d0e0f",
        "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed",
    ),
    (
        "00000000000000000000000000000000",
        "abbey abbey abbey abbey abbey abbey abbey abbey abbey abbey abbey abbey abbey",
    ),
    (
        "0123456789abcdef0123456789abcdef",
        "vexed enjoy pigment films adept voted vexed enjoy pigment films adept voted adept",
    ),
    (
        "00112233445566778899aabbccddeeff",
        "python costume hamburger heels amnesty lukewarm antics value picked roped sowed southern amnesty",
    ),
    (
        "b0e12943e22e8f71774c2c4205fed598",
        "cage gimmick ocean festival unplugs goat knife history paradise soya phase ember festival",
    ),
];

#[test]
fn word_list_is_sessions() {
    let words = mnemonic::words();
    assert_eq!(words.len(), 1626);
    assert_eq!(words.first(), Some(&"abbey"));
    assert_eq!(words.last(), Some(&"zoom"));
    let digest = Sha256::digest(words.join("\n").as_bytes());
    assert_eq!(
        hex::encode(digest),
        "998df55cb16d2318130c5cf7e9d4408247c8c4674935ee6e07d53f2f00ccf19b"
    );
    let prefixes: std::collections::HashSet<&str> = words.iter().map(|w| &w[..3]).collect();
    assert_eq!(prefixes.len(), 1626, "3-letter prefixes are unique");
}

#[test]
fn sixteen_byte_vectors() {
    for (seed, phrase) in SIXTEEN {
        let seed = Seed::from_hex(seed).unwrap();
        assert_eq!(mnemonic::seed_to_phrase(&seed), *phrase);
        assert_eq!(phrase_to_seed(phrase).unwrap(), seed);
    }
}

#[test]
fn thirty_two_byte_vector() {
    let bytes: Vec<u8> = (0..32).collect();
    let phrase = encode(&bytes).unwrap();
    let expected = "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed \
         update vague zinger boxes ornament renting glass gained island nabbing afield calamity boxes";
    assert_eq!(phrase, expected);
    assert_eq!(decode(&phrase).unwrap(), bytes);
    assert_eq!(
        phrase_to_seed(&phrase).unwrap(),
        Seed::Legacy(bytes.try_into().unwrap())
    );
}

#[test]
fn sha512_vector_without_checksum() {
    let bytes = Sha512::digest(b"libsession-util mnemonic test vector");
    let words = encode_without_checksum(&bytes).unwrap();
    assert_eq!(words.len(), 48);
    assert_eq!(
        &words[..6],
        [
            "threaten",
            "efficient",
            "wives",
            "skirting",
            "repent",
            "ashtray"
        ]
    );
    assert_eq!(&words[45..], ["vats", "bias", "federal"]);
}

#[test]
fn phrase_restores_the_pinned_session_id() {
    let seed = phrase_to_seed(SIXTEEN[2].1).unwrap();
    assert_eq!(
        Identity::from_seed(&seed).session_id().to_string(),
        "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
    );
}

#[test]
fn prefixes_case_and_spacing_are_accepted() {
    let seed = Seed::from_hex(SIXTEEN[2].0).unwrap();
    // Words are matched by their first three letters, as Session clients do.
    let short = "vex enj pig fil ade vot vex enj pig fil ade vot ade";
    assert_eq!(phrase_to_seed(short).unwrap(), seed);
    let loud = format!("  {}\n", SIXTEEN[2].1.to_uppercase().replace(' ', "\t "));
    assert_eq!(phrase_to_seed(&loud).unwrap(), seed);
}

#[test]
fn wrong_word_counts() {
    let words: Vec<&str> = SIXTEEN[2].1.split(' ').collect();
    assert_eq!(
        phrase_to_seed(&words[..12].join(" ")),
        Err(Error::MissingChecksumWord)
    );
    assert_eq!(phrase_to_seed(""), Err(Error::WordCount { count: 0 }));
    assert_eq!(
        phrase_to_seed(&words[..2].join(" ")),
        Err(Error::WordCount { count: 2 })
    );
    let fourteen = format!("{} abbey", SIXTEEN[2].1);
    assert_eq!(
        phrase_to_seed(&fourteen),
        Err(Error::WordCount { count: 14 })
    );
    // A valid 4-word phrase (4 bytes) is a phrase, but not a seed.
    let four = encode(&[1, 2, 3, 4]).unwrap();
    assert_eq!(decode(&four).unwrap(), [1, 2, 3, 4]);
    assert_eq!(phrase_to_seed(&four), Err(Error::WordCount { count: 4 }));
    assert!(matches!(
        encode(&[1, 2, 3]),
        Err(Error::BadLength { actual: 3, .. })
    ));
}

#[test]
fn unknown_words_are_named_with_their_position() {
    let phrase = SIXTEEN[2].1.replacen("pigment", "xylophone", 1);
    assert_eq!(
        phrase_to_seed(&phrase),
        Err(Error::UnknownWord {
            word: "xylophone".into(),
            position: 3
        })
    );
    // Shorter than a prefix: must be a whole word.
    let phrase = SIXTEEN[2].1.replacen("enjoy", "en", 1);
    assert!(matches!(
        phrase_to_seed(&phrase),
        Err(Error::UnknownWord { position: 2, .. })
    ));
    let phrase = SIXTEEN[2].1.replacen("films", "fïlms", 1);
    assert!(matches!(
        phrase_to_seed(&phrase),
        Err(Error::UnknownWord { position: 4, .. })
    ));
}

#[test]
fn wrong_checksum_word() {
    let phrase = SIXTEEN[2].1.rsplit_once(' ').unwrap().0.to_owned() + " vexed";
    assert_eq!(
        phrase_to_seed(&phrase),
        Err(Error::ChecksumMismatch {
            expected: "adept".into(),
            found: "vexed".into()
        })
    );
}

#[test]
fn out_of_range_triples() {
    // w1 = 0 ("abbey"), w2 = 1 ("abducts"), w3 = 0: x = n·1 + n²·(n−1), which exceeds u32.
    let data = ["abbey", "abducts", "abbey"].repeat(4);
    let check = data[0]; // any word; the range check must still run first or after
    for candidate in mnemonic::words() {
        let phrase = format!("{} {candidate}", data.join(" "));
        match phrase_to_seed(&phrase) {
            Err(Error::PhraseOutOfRange { first: 1, last: 3 }) => return,
            Err(Error::ChecksumMismatch { .. }) => continue,
            other => panic!("unexpected {other:?} ({check})"),
        }
    }
    panic!("no checksum word reached the range check");
}

proptest! {
    #[test]
    fn sixteen_bytes_round_trip(bytes in any::<[u8; 16]>()) {
        let seed = Seed::Standard(bytes);
        let phrase = mnemonic::seed_to_phrase(&seed);
        prop_assert_eq!(phrase.split(' ').count(), 13);
        prop_assert_eq!(phrase_to_seed(&phrase).unwrap(), seed);
    }

    #[test]
    fn thirty_two_bytes_round_trip(bytes in any::<[u8; 32]>()) {
        let seed = Seed::Legacy(bytes);
        let phrase = mnemonic::seed_to_phrase(&seed);
        prop_assert_eq!(phrase.split(' ').count(), 25);
        prop_assert_eq!(phrase_to_seed(&phrase).unwrap(), seed);
    }

    #[test]
    fn changed_word_is_caught_or_changes_the_seed(bytes in any::<[u8; 16]>(), at in 0usize..12, word in 0usize..1626) {
        let seed = Seed::Standard(bytes);
        let phrase = mnemonic::seed_to_phrase(&seed);
        let mut words: Vec<&str> = phrase.split(' ').collect();
        let replacement = mnemonic::words()[word];
        prop_assume!(words[at] != replacement);
        words[at] = replacement;
        if let Ok(other) = phrase_to_seed(&words.join(" ")) {
            prop_assert_ne!(other, seed);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = phrase_to_seed(&text);
    }
}
