//! The profanity filter against `better_profanity` 0.7.0 itself: `tests/data/profanity_vectors.json`
//! holds 3,000 texts (listed words with leetspeak, case changes, separators, multi-word runs,
//! non-ASCII letters, emoji, edge cases) and what `profanity.censor(text)` returned for each,
//! generated with the PyPI package and a seeded random generator.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use sotto_sogs::profanity::WordList;

struct Case {
    text: String,
    censored: String,
}

fn vectors() -> Vec<Case> {
    let raw: serde_json::Value =
        serde_json::from_str(include_str!("data/profanity_vectors.json")).unwrap();
    raw["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            text: c["text"].as_str().unwrap().to_owned(),
            censored: c["censored"].as_str().unwrap().to_owned(),
        })
        .collect()
}

#[test]
fn censor_matches_better_profanity() {
    let list = WordList::default_list();
    let cases = vectors();
    assert_eq!(cases.len(), 3000);
    let mut wrong = Vec::new();
    for case in &cases {
        let ours = list.censor(&case.text);
        if ours != case.censored {
            wrong.push(format!(
                "{:?}: ours {:?}, theirs {:?}",
                case.text, ours, case.censored
            ));
        }
        assert_eq!(
            list.contains_profanity(&case.text),
            case.text != case.censored
        );
    }
    assert!(
        wrong.is_empty(),
        "{} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // Both outcomes are well represented.
    let flagged = cases.iter().filter(|c| c.text != c.censored).count();
    assert!(flagged > 500 && cases.len() - flagged > 300, "{flagged}");
}

#[test]
fn custom_list_replaces_the_default_but_keeps_its_joining() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("words.txt");
    std::fs::write(&path, "\n  Kumquat \nbanana split\n").unwrap();
    let list = WordList::from_file(&path).unwrap();
    assert!(list.contains_profanity("I like kumquats? no, KUMQU@7!"));
    // Outcomes checked against better_profanity with the same file.
    assert_eq!(list.censor("a banana split"), "a ****");
    assert_eq!(list.censor("banana split"), "****");
    assert!(!list.contains_profanity("a banana  split"));
    assert!(!list.contains_profanity("a bananasplit"));
    assert!(!list.contains_profanity("a banana"));
    // The default words are gone.
    assert!(!list.contains_profanity("fuck this"));
    assert!(WordList::from_file(&dir.path().join("missing")).is_err());
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
        let list = WordList::default_list();
        let censored = list.censor(&text);
        proptest::prop_assert_eq!(list.contains_profanity(&text), censored != text);
    }
}
