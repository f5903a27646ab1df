//! The one error type of this crate.

/// Everything that can go wrong in `sotto-crypto`.
///
/// Each variant carries enough context for a one-line message a user can act on; none carries
/// secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value that should be hexadecimal is not.
    #[error("{what} is not valid hex")]
    BadHex {
        /// What was being decoded.
        what: &'static str,
    },
    /// A value that should be base64 is not.
    #[error("{what} is not valid base64")]
    BadBase64 {
        /// What was being decoded.
        what: &'static str,
    },
    /// A value has the wrong length.
    #[error("{what} must be {expected}, got {actual}")]
    BadLength {
        /// What was being decoded.
        what: &'static str,
        /// The accepted length(s), in words (e.g. "32 or 64 hex characters").
        expected: &'static str,
        /// The length that was found, in the same unit.
        actual: usize,
    },
    /// An identifier has the wrong type prefix.
    #[error("{what} must start with {expected}, got {found:?}")]
    BadPrefix {
        /// What was being decoded.
        what: &'static str,
        /// The accepted prefix(es).
        expected: &'static str,
        /// The prefix that was found.
        found: String,
    },
    /// A public key is not a usable curve point (not on the curve, small order or non-canonical).
    #[error("{what} is not a valid public key")]
    BadPoint {
        /// Which key.
        what: &'static str,
    },
    /// An input is shorter than its format allows.
    #[error("{what} is too short: need at least {min} bytes, got {actual}")]
    TooShort {
        /// What was being parsed.
        what: &'static str,
        /// The minimum length in bytes.
        min: usize,
        /// The length that was found.
        actual: usize,
    },
    /// An input is longer than its format allows.
    #[error("{what} is too long: at most {max} bytes, got {actual}")]
    TooLong {
        /// What was being parsed.
        what: &'static str,
        /// The maximum length in bytes.
        max: usize,
        /// The length that was found.
        actual: usize,
    },
    /// Authenticated decryption failed: wrong key, tampered or truncated ciphertext.
    #[error("cannot decrypt {what}: wrong key or tampered data")]
    Decrypt {
        /// What was being decrypted.
        what: &'static str,
    },
    /// An attachment's SHA-256 does not match the digest its pointer carries.
    #[error("attachment digest mismatch: the file is not the one the message points to")]
    AttachmentDigest,
    /// A signature did not verify.
    #[error("invalid signature on {what}")]
    BadSignature {
        /// What the signature covered.
        what: &'static str,
    },
    /// A recovery phrase has a number of words we cannot decode.
    #[error("recovery phrase has {count} words; expected 13")]
    WordCount {
        /// How many words were given.
        count: usize,
    },
    /// A recovery phrase has its data words (12, or 24 for a legacy seed) but not the last,
    /// checksum word.
    #[error("recovery phrase is missing the checksum word (its last word)")]
    MissingChecksumWord,
    /// A word of a recovery phrase is not in the word list.
    #[error("unknown word {word:?} at position {position} of the recovery phrase")]
    UnknownWord {
        /// The word as given.
        word: String,
        /// Its 1-based position in the phrase.
        position: usize,
    },
    /// The checksum word of a recovery phrase does not match the other words.
    #[error("checksum word {found:?} does not match the phrase (expected {expected:?}); check for a typo")]
    ChecksumMismatch {
        /// The word the checksum calls for.
        expected: String,
        /// The word that was given.
        found: String,
    },
    /// Three words of a recovery phrase do not encode a 32-bit value.
    #[error(
        "words {first}-{last} of the recovery phrase do not form a valid group; check for a typo"
    )]
    PhraseOutOfRange {
        /// 1-based position of the group's first word.
        first: usize,
        /// 1-based position of the group's last word.
        last: usize,
    },
    /// An onion-layer encryption type we do not know.
    #[error("unknown encryption type {0:?} (expected \"aes-gcm\" or \"xchacha20\")")]
    UnknownEncType(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
