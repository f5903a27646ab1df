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
    // w1 = 0 ("abbey"), w2 = 1 ("abducts"), w3 = 0 ("abbey"):
    // x = 0 + n·1 + n²·(n − 1) = 4,295,729,376 > u32::MAX, so no 4 bytes encode this group.
    let data = ["abbey", "abducts", "abbey"].repeat(4).join(" ");
    // The checksum word repeats a data word; find which one the CRC picks so that the
    // checksum passes and the range check is what rejects the phrase.
    let phrase = ["abbey", "abducts"]
        .iter()
        .map(|check| format!("{data} {check}"))
        .find(|p| !matches!(decode(p), Err(Error::ChecksumMismatch { .. })))
        .unwrap();
    assert_eq!(
        phrase_to_seed(&phrase),
        Err(Error::PhraseOutOfRange { first: 1, last: 3 })
    );
    // The same group later in a valid phrase is reported with its own positions.
    let mut words: Vec<&str> = SIXTEEN[0].1.split(' ').take(12).collect();
    words.splice(6..9, ["abbey", "abducts", "abbey"]);
    let data = words.join(" ");
    let phrase = mnemonic::words()
        .iter()
        .map(|check| format!("{data} {check}"))
        .find(|p| !matches!(decode(p), Err(Error::ChecksumMismatch { .. })))
        .unwrap();
    assert_eq!(
        phrase_to_seed(&phrase),
        Err(Error::PhraseOutOfRange { first: 7, last: 9 })
    );
    assert_eq!(
        Error::PhraseOutOfRange { first: 7, last: 9 }.to_string(),
        "words 7-9 of the recovery phrase do not form a valid group; check for a typo"
    );
}

#[test]
fn legacy_phrase_without_checksum_and_odd_counts() {
    let bytes: Vec<u8> = (0..32).collect();
    let phrase = encode(&bytes).unwrap();
    let words: Vec<&str> = phrase.split(' ').collect();
    assert_eq!(
        phrase_to_seed(&words[..24].join(" ")),
        Err(Error::MissingChecksumWord)
    );
    // Decodable as a phrase, but no seed is 9 words long or 24 bytes.
    let nine: Vec<&str> = words[..9].to_vec();
    assert_eq!(
        phrase_to_seed(&nine.join(" ")),
        Err(Error::WordCount { count: 9 })
    );
    let nineteen = encode(&bytes[..24]).unwrap();
    assert_eq!(decode(&nineteen).unwrap(), &bytes[..24]);
    assert_eq!(
        phrase_to_seed(&nineteen),
        Err(Error::WordCount { count: 19 })
    );
    // The count is checked before the words.
    assert_eq!(
        phrase_to_seed("nonsense words"),
        Err(Error::WordCount { count: 2 })
    );
    assert!(matches!(
        encode(&[]),
        Err(Error::BadLength { actual: 0, .. })
    ));
    assert!(matches!(
        encode_without_checksum(&[0; 17]),
        Err(Error::BadLength { actual: 17, .. })
    ));
}

#[test]
fn error_messages_read_well() {
    assert_eq!(
        phrase_to_seed("abbey").unwrap_err().to_string(),
        "recovery phrase has 1 words; expected 13"
    );
    assert_eq!(
        Error::MissingChecksumWord.to_string(),
        "recovery phrase is missing the checksum word (its last word)"
    );
    let phrase = SIXTEEN[2].1.replacen("voted", "Xylophone", 1);
    assert_eq!(
        phrase_to_seed(&phrase).unwrap_err().to_string(),
        "unknown word \"xylophone\" at position 6 of the recovery phrase"
    );
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
    fn any_multiple_of_four_round_trips(bytes in prop::collection::vec(any::<u8>(), 1..16usize)
        .prop_map(|v| v.repeat(4))) {
        let phrase = encode(&bytes).unwrap();
        prop_assert_eq!(phrase.split(' ').count(), bytes.len() / 4 * 3 + 1);
        prop_assert_eq!(decode(&phrase).unwrap(), bytes.clone());
        let words = encode_without_checksum(&bytes).unwrap();
        prop_assert_eq!(words.join(" "), phrase.rsplit_once(' ').unwrap().0);
    }

    #[test]
    fn arbitrary_words_never_panic(words in prop::collection::vec(0usize..1626, 0..30)) {
        let phrase: Vec<&str> = words.iter().map(|&i| mnemonic::words()[i]).collect();
        let _ = decode(&phrase.join(" "));
        let _ = phrase_to_seed(&phrase.join(" "));
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = decode(&text);
        let _ = phrase_to_seed(&text);
    }
}
