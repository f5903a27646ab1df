//! The 13-word recovery phrase (`client.md` §1.2): seed bytes ↔ words of Session's English list.
//!
//! Every 4 bytes (a little-endian `u32`) become 3 words; a checksum word, a repeat of one data
//! word chosen by CRC-32 of the words' 3-letter prefixes, ends the phrase.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::err::{Error, Result};
use crate::identity::{Seed, LEGACY_SEED_LEN, SEED_LEN};

/// Session's English word list (Monero/Electrum list; origin in `data/README.md`).
const WORD_LIST: &str = include_str!("../data/mnemonic-english.txt");
/// Number of words in the list, `n` in the encoding.
pub const WORD_COUNT: usize = 1626;
/// Words are recognised by this many leading characters (the list's prefixes are unique).
pub const PREFIX_LEN: usize = 3;

struct WordList {
    words: Vec<&'static str>,
    by_prefix: HashMap<&'static str, usize>,
}

fn word_list() -> &'static WordList {
    static LIST: OnceLock<WordList> = OnceLock::new();
    LIST.get_or_init(|| {
        let words: Vec<&'static str> = WORD_LIST.lines().collect();
        let by_prefix = words
            .iter()
            .enumerate()
            .map(|(i, w)| (prefix(w), i))
            .collect();
        WordList { words, by_prefix }
    })
}

/// The words of the list, in order.
pub fn words() -> &'static [&'static str] {
    &word_list().words
}

/// The first [`PREFIX_LEN`] characters of a word (the whole word if shorter).
fn prefix(word: &str) -> &str {
    match word.char_indices().nth(PREFIX_LEN) {
        Some((end, _)) => word.get(..end).unwrap_or(word),
        None => word,
    }
}

fn word(index: usize) -> &'static str {
    words().get(index).copied().unwrap_or_default()
}

/// Index of the checksum word among `data_words`.
fn checksum_index(data_words: &[&str]) -> usize {
    let prefixes: String = data_words.iter().map(|w| prefix(w)).collect();
    let crc = crc32fast::hash(prefixes.as_bytes()) as usize;
    crc % data_words.len().max(1)
}

/// Encode bytes (a multiple of 4 long) as words, without the checksum word.
///
/// # Errors
///
/// [`Error::BadLength`] when `bytes` is empty or not a multiple of 4 long.
pub fn encode_without_checksum(bytes: &[u8]) -> Result<Vec<&'static str>> {
    if bytes.is_empty() || bytes.len() % 4 != 0 {
        return Err(Error::BadLength {
            what: "recovery phrase data",
            expected: "a non-zero multiple of 4 bytes",
            actual: bytes.len(),
        });
    }
    let n = WORD_COUNT as u64;
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks_exact(4) {
        let mut le = [0u8; 4];
        le.copy_from_slice(chunk);
        let x = u64::from(u32::from_le_bytes(le));
        let w1 = x % n;
        let w2 = (x / n + w1) % n;
        let w3 = (x / n / n + w2) % n;
        // Each index is < n, so the conversions cannot truncate.
        out.extend([w1, w2, w3].map(|w| word(w as usize)));
    }
    Ok(out)
}

/// Encode bytes (a multiple of 4 long) as a phrase with its checksum word.
///
/// # Errors
///
/// [`Error::BadLength`] when `bytes` is empty or not a multiple of 4 long.
pub fn encode(bytes: &[u8]) -> Result<String> {
    let mut words = encode_without_checksum(bytes)?;
    if let Some(check) = words.get(checksum_index(&words)).copied() {
        words.push(check);
    }
    Ok(words.join(" "))
}

/// The recovery phrase of a seed: 13 words for a standard seed, 25 for a legacy one.
pub fn seed_to_phrase(seed: &Seed) -> String {
    // Seeds are 16 or 32 bytes, multiples of 4: encoding cannot fail.
    encode(seed.as_bytes()).unwrap_or_default()
}

/// Decode a phrase with its checksum word back to bytes.
///
/// Words are matched by their first three letters, case-insensitively, as Session clients do;
/// a word shorter than three letters must be a whole word of the list.
///
/// # Errors
///
/// [`Error::MissingChecksumWord`] or [`Error::WordCount`] when the number of words cannot be
/// data plus checksum, [`Error::UnknownWord`], [`Error::ChecksumMismatch`], and
/// [`Error::PhraseOutOfRange`] when three words do not encode a 32-bit value.
pub fn decode(phrase: &str) -> Result<Vec<u8>> {
    let given: Vec<String> = phrase.split_whitespace().map(str::to_lowercase).collect();
    let count = given.len();
    if count == 0 || count % 3 != 1 {
        // 12 or 24 words: the data is all there but the checksum word is not.
        if count > 0 && count % 3 == 0 {
            return Err(Error::MissingChecksumWord);
        }
        return Err(Error::WordCount { count });
    }
    let list = word_list();
    let mut indices = Vec::with_capacity(count);
    for (i, w) in given.iter().enumerate() {
        let index = list
            .by_prefix
            .get(prefix(w))
            .copied()
            .filter(|&index| w.chars().count() >= PREFIX_LEN || word(index) == w)
            .ok_or_else(|| Error::UnknownWord {
                word: w.clone(),
                position: i + 1,
            })?;
        indices.push(index);
    }
    let (data, check) = indices.split_at(count - 1);
    let data_words: Vec<&str> = data.iter().map(|&i| word(i)).collect();
    let expected = data_words
        .get(checksum_index(&data_words))
        .copied()
        .unwrap_or_default();
    let found = check.first().map(|&i| word(i)).unwrap_or_default();
    if prefix(expected) != prefix(found) {
        return Err(Error::ChecksumMismatch {
            expected: expected.to_owned(),
            found: given.last().cloned().unwrap_or_default(),
        });
    }
    let n = WORD_COUNT as u64;
    let mut out = Vec::with_capacity(data.len() / 3 * 4);
    for (group, triple) in data.chunks_exact(3).enumerate() {
        let &[w1, w2, w3] = triple else { continue };
        let [w1, w2, w3] = [w1, w2, w3].map(|w| w as u64);
        let x = w1 + n * ((n - w1 + w2) % n) + n * n * ((n - w2 + w3) % n);
        let value = u32::try_from(x).ok().filter(|_| x % n == w1);
        let value = value.ok_or(Error::PhraseOutOfRange {
            first: group * 3 + 1,
            last: group * 3 + 3,
        })?;
        out.extend_from_slice(&value.to_le_bytes());
    }
    Ok(out)
}

/// Words in the phrase of a standard 16-byte seed, checksum included.
const SEED_WORDS: usize = SEED_LEN / 4 * 3 + 1;
/// Words in the phrase of a legacy 32-byte seed, checksum included.
const LEGACY_SEED_WORDS: usize = LEGACY_SEED_LEN / 4 * 3 + 1;

/// Decode a 13-word (or legacy 25-word) recovery phrase to its seed.
///
/// # Errors
///
/// [`Error::MissingChecksumWord`] for 12 (or 24) words, [`Error::WordCount`] for any other count,
/// then the errors of [`decode`].
///
/// The word count is checked first, as desktop does, so a phrase of the wrong length is reported
/// as such rather than by its first unknown word.
pub fn phrase_to_seed(phrase: &str) -> Result<Seed> {
    let count = phrase.split_whitespace().count();
    match count {
        SEED_WORDS | LEGACY_SEED_WORDS => Seed::from_bytes(&decode(phrase)?),
        c if c == SEED_WORDS - 1 || c == LEGACY_SEED_WORDS - 1 => Err(Error::MissingChecksumWord),
        _ => Err(Error::WordCount { count }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn embedded_list_is_the_pinned_one() {
        let words = words();
        assert_eq!(words.len(), WORD_COUNT);
        // client.md §1.2 / data/README.md: SHA-256 of the words joined with "\n".
        assert_eq!(
            hex::encode(Sha256::digest(words.join("\n"))),
            "998df55cb16d2318130c5cf7e9d4408247c8c4674935ee6e07d53f2f00ccf19b"
        );
        assert_eq!(
            word_list().by_prefix.len(),
            WORD_COUNT,
            "prefixes are unique"
        );
        assert!(words.iter().all(|w| w.len() >= PREFIX_LEN && w.is_ascii()));
    }

    #[test]
    fn seed_phrase_lengths() {
        assert_eq!(SEED_WORDS, 13);
        assert_eq!(LEGACY_SEED_WORDS, 25);
    }

    #[test]
    fn prefix_is_by_character() {
        assert_eq!(prefix("abbey"), "abb");
        assert_eq!(prefix("ab"), "ab");
        assert_eq!(prefix("fïlms"), "fïl");
    }
}
