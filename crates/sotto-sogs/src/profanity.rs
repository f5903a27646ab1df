//! The profanity filter PySOGS applies with `[messages] profanity_filter` (`Room.should_filter`
//! calls `better_profanity.profanity.contains_profanity` on the post's body and display name).
//!
//! Our own implementation of `better_profanity` 0.7.0's rules, kept bug-compatible because a
//! post PySOGS accepts must not be refused here, nor the reverse:
//! - text splits into words of "allowed" characters (ASCII letters and digits, `@ $ * " '`, and
//!   the package's list of Unicode letters and marks); everything else separates words;
//! - a listed word matches a candidate of the same length whose characters equal the word's
//!   or one of its leetspeak substitutes ([`SUBSTITUTES`]), after lowercasing the candidate;
//! - a word followed by up to `max_combinations` more words (the most separators any listed word
//!   contains, at least 1) is also checked joined with and without its separators, so that
//!   `bull shit` matches `bullshit`;
//! - a text "contains profanity" when censoring it changes it, with the package's quirks (a text
//!   whose first word starts at its last character is never censored, for one).
//!
//! The word list and the character list are the package's own data files
//! (`data/better_profanity/`, MIT).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;

/// The package's default word list, one word per line.
const DEFAULT_WORDS: &str = include_str!("../data/better_profanity/profanity_wordlist.txt");
/// The Unicode characters a word may contain besides ASCII letters and digits (a JSON list).
const UNICODE_LETTERS: &str = include_str!("../data/better_profanity/alphabetic_unicode.json");
/// Punctuation that counts as part of a word (`constants.py`).
const WORD_PUNCTUATION: [char; 5] = ['@', '$', '*', '"', '\''];
/// What a censored word becomes (`get_replacement_for_swear_word`: the censor character × 4).
const CENSORED: &str = "****";

/// Leetspeak substitutes of a listed word's characters (`Profanity.CHARS_MAPPING`).
const SUBSTITUTES: [(char, &[char]); 9] = [
    ('a', &['a', '@', '*', '4']),
    ('i', &['i', '*', 'l', '1']),
    ('o', &['o', '*', '0', '@']),
    ('u', &['u', '*', 'v']),
    ('v', &['v', '*', 'u']),
    ('l', &['l', '1']),
    ('e', &['e', '*', '3']),
    ('s', &['s', '$', '5']),
    ('t', &['t', '7']),
];

/// Characters that make up words.
fn allowed() -> &'static HashSet<char> {
    static ALLOWED: OnceLock<HashSet<char>> = OnceLock::new();
    ALLOWED.get_or_init(|| {
        let mut set: HashSet<char> = ('a'..='z').chain('A'..='Z').chain('0'..='9').collect();
        set.extend(WORD_PUNCTUATION);
        // Our own data file, checked by a test: a parse failure would only shrink the set.
        let unicode: Vec<String> = serde_json::from_str(UNICODE_LETTERS).unwrap_or_default();
        set.extend(unicode.iter().filter_map(|s| s.chars().next()));
        set
    })
}

fn is_allowed(c: char) -> bool {
    allowed().contains(&c)
}

/// Python's `str.lower()`, which, like Rust's, applies the full Unicode lowercase mapping.
fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// A word list with its matching rules.
#[derive(Debug, Clone)]
pub struct WordList {
    /// Lowercased listed words by length in characters.
    by_len: HashMap<usize, Vec<Vec<char>>>,
    /// How many following words are joined to a word when checking it.
    max_combinations: usize,
}

/// A word that follows the current one: its text alone and with the separators before it, and
/// the index where it ends (the separator after it, or the text's last index).
#[derive(Debug, Clone)]
struct NextWord {
    alone: String,
    with_separators: String,
    end: usize,
}

impl WordList {
    /// The default list PySOGS uses without `profanity_custom`.
    pub fn default_list() -> Self {
        Self::from_words(DEFAULT_WORDS.lines(), 1)
    }

    /// The list in `path` (one word per line), as PySOGS loads `profanity_custom`: it replaces
    /// the default words, but the number of joined words never shrinks below the default
    /// list's, because the package loaded that list first.
    pub fn from_file(path: &Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        let default_max = Self::default_list().max_combinations;
        Ok(Self::from_words(text.lines(), default_max))
    }

    /// A list of words (blank lines ignored, surrounding whitespace trimmed).
    pub fn from_words<'a>(
        words: impl IntoIterator<Item = &'a str>,
        min_combinations: usize,
    ) -> Self {
        let unique: HashSet<String> = words
            .into_iter()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(lower)
            .collect();
        let mut max_combinations = min_combinations.max(1);
        let mut by_len: HashMap<usize, Vec<Vec<char>>> = HashMap::new();
        for word in unique {
            let chars: Vec<char> = word.chars().collect();
            max_combinations =
                max_combinations.max(chars.iter().filter(|c| !is_allowed(**c)).count());
            by_len.entry(chars.len()).or_default().push(chars);
        }
        Self {
            by_len,
            max_combinations,
        }
    }

    /// Does the (already lowercased) candidate match a listed word?
    fn is_listed(&self, candidate: &str) -> bool {
        let candidate: Vec<char> = candidate.chars().collect();
        let Some(words) = self.by_len.get(&candidate.len()) else {
            return false;
        };
        words.iter().any(|word| {
            word.iter().zip(&candidate).all(|(w, c)| {
                match SUBSTITUTES.iter().find(|(from, _)| from == w) {
                    Some((_, subs)) => subs.contains(c),
                    None => w == c,
                }
            })
        })
    }

    /// Does the text contain a listed word (`contains_profanity`)?
    pub fn contains_profanity(&self, text: &str) -> bool {
        self.censor(text) != text
    }

    /// The text with each listed word (or run of words) replaced by `****` (`censor`).
    pub fn censor(&self, text: &str) -> String {
        let all: Vec<char> = text.chars().collect();
        let first = next_word_start(&all, 0);
        if first + 1 >= all.len() {
            return text.to_owned();
        }
        let (lead, text) = all.split_at(first);
        let mut out: String = lead.iter().collect();
        let mut word = String::new();
        let mut skip_before = 0usize;
        let mut following: Vec<NextWord> = Vec::new();
        for (index, &c) in text.iter().enumerate() {
            if index < skip_before {
                continue;
            }
            if is_allowed(c) {
                word.push(c);
                continue;
            }
            if word.is_empty() {
                out.push(c);
                continue;
            }
            following = self.slide(text, following, index);
            let mut separator = Some(c);
            if let Some(end) = self.joined_match(&word, &following) {
                word = CENSORED.to_owned();
                skip_before = end;
                separator = None;
                following.clear();
            }
            if self.is_listed(&lower(&word)) {
                word = CENSORED.to_owned();
            }
            out.push_str(&word);
            out.extend(separator);
            word.clear();
        }
        // The package drops a last word that a joined match already covered.
        if !word.is_empty() && skip_before + 1 < text.len() {
            if self.is_listed(&lower(&word)) {
                word = CENSORED.to_owned();
            }
            out.push_str(&word);
        }
        out
    }

    /// The window of following words (`_update_next_words_indices`): filled afresh when empty,
    /// otherwise moved on by one word.
    fn slide(&self, text: &[char], mut following: Vec<NextWord>, from: usize) -> Vec<NextWord> {
        if following.is_empty() {
            return next_words(text, from, self.max_combinations);
        }
        following.remove(0);
        if let Some(last) = following.last() {
            if !last.alone.is_empty() {
                let end = last.end;
                following.extend(next_words(text, end, 1));
            }
        }
        following
    }

    /// Does the word joined with 1, 2, … following words match, with or without their
    /// separators? Returns where the matched run ends (`any_next_words_form_swear_word`).
    fn joined_match(&self, word: &str, following: &[NextWord]) -> Option<usize> {
        let mut joined = lower(word);
        let mut joined_with_separators = joined.clone();
        for next in following {
            if next.alone.is_empty() {
                continue;
            }
            joined.push_str(&lower(&next.alone));
            joined_with_separators.push_str(&lower(&next.with_separators));
            if self.is_listed(&joined) || self.is_listed(&joined_with_separators) {
                return Some(next.end);
            }
        }
        None
    }
}

/// Index of the first word character at or after `from` (the text's length if none).
fn next_word_start(text: &[char], from: usize) -> usize {
    (from..text.len())
        .find(|&i| text.get(i).is_some_and(|c| is_allowed(*c)))
        .unwrap_or(text.len())
}

/// Up to `count` words from `from` (`_get_next_words`). As in the package, a word starting at
/// the text's last character is not seen, and gives an empty entry that ends the window.
fn next_words(text: &[char], from: usize, count: usize) -> Vec<NextWord> {
    let start = next_word_start(text, from);
    if start + 1 >= text.len() {
        return vec![NextWord {
            alone: String::new(),
            with_separators: String::new(),
            end: start,
        }];
    }
    let mut end = start;
    let mut alone = String::new();
    for (i, c) in text.iter().enumerate().skip(start) {
        end = i;
        if !is_allowed(*c) {
            break;
        }
        alone.push(*c);
    }
    let separators: String = text.get(from..start).unwrap_or_default().iter().collect();
    let mut words = vec![NextWord {
        with_separators: separators + &alone,
        alone,
        end,
    }];
    if count > 1 {
        words.extend(next_words(text, end, count - 1));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_files_load() {
        assert_eq!(
            serde_json::from_str::<Vec<String>>(UNICODE_LETTERS)
                .unwrap()
                .len(),
            5849
        );
        let list = WordList::default_list();
        assert_eq!(list.max_combinations, 5);
        assert!(list.by_len.values().map(Vec::len).sum::<usize>() > 800);
    }

    #[test]
    fn substitutes_and_lengths() {
        let list = WordList::from_words(["toast"], 1);
        for yes in ["toast", "T0@$7", "t*a5t"] {
            assert!(list.contains_profanity(&format!("a {yes} b")), "{yes}");
        }
        for no in ["toasts", "toas", "7oasts", "t0a5d"] {
            assert!(!list.contains_profanity(&format!("a {no} b")), "{no}");
        }
    }
}
