//! File IDs (`client.md` §6): a random 53-bit integer as a decimal string (backwards-compatible
//! IDs), or the 44-character base64url of a salted 33-byte BLAKE2b of the content.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use rand_core::{OsRng, RngCore};

/// BLAKE2b salt of content IDs (session-file-server `generate_file_id`).
pub const CONTENT_ID_SALT: &[u8; 16] = b"SessionFileSvr\0\0";
/// Length of a content-addressed ID: 33 bytes in unpadded base64.
pub const CONTENT_ID_LEN: usize = 44;
/// Bits of a backwards-compatible ID: old clients keep it in a double.
pub const COMPAT_ID_BITS: u32 = 53;

/// A validated file ID: 1 to 44 characters of `[A-Za-z0-9_-]` (the reference schema's
/// `CHECK(id ~ '^[a-zA-Z0-9_-]+$')` on a `VARCHAR(44)`), so it is always a safe file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileId(String);

impl FileId {
    /// Parse an ID from a URL; `None` for anything else (answered with 404, as a lookup of an
    /// impossible ID would be).
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= CONTENT_ID_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(s.to_owned()))
    }

    /// The content-addressed ID of `body`.
    pub fn of_content(body: &[u8]) -> Self {
        use blake2::digest::core_api::{Buffer, UpdateCore as _, VariableOutputCore as _};
        // `Blake2bMac` always mixes in a key block, even an empty one; the reference hashes
        // unkeyed with a salt, so drive the core directly with key length 0 and a 33-byte digest.
        let mut core = blake2::Blake2bVarCore::new_with_params(CONTENT_ID_SALT, &[], 0, 33);
        let mut buffer = Buffer::<blake2::Blake2bVarCore>::default();
        buffer.digest_blocks(body, |blocks| core.update_blocks(blocks));
        let mut out = Default::default();
        core.finalize_variable_core(&mut buffer, &mut out);
        let digest: &[u8] = &out;
        let digest = digest.get(..33).unwrap_or(digest);
        Self(base64::engine::general_purpose::URL_SAFE.encode(digest))
    }

    /// A fresh random backwards-compatible ID (53 bits, as a decimal string).
    pub fn random_compat() -> Self {
        Self((OsRng.next_u64() >> (64 - COMPAT_ID_BITS)).to_string())
    }

    /// Whether this is a content-addressed ID (only those may be extended).
    pub fn is_content(&self) -> bool {
        self.0.len() == CONTENT_ID_LEN
    }

    /// The ID text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where the file lives under `files_dir`: a two-character prefix directory for content IDs
    /// (the first two ID characters), else the last three digits (`000`–`999`), as the
    /// reference lays files out.
    pub fn path(&self, files_dir: &Path) -> PathBuf {
        let prefix = if self.is_content() {
            self.0.chars().take(2).collect::<String>()
        } else {
            let n: u64 = self.0.parse().unwrap_or(0);
            format!("{:03}", n % 1000)
        };
        files_dir.join(prefix).join(&self.0)
    }
}

impl std::fmt::Display for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ids_match_the_reference() {
        // Python: urlsafe_b64encode(blake2b(data, digest_size=33, salt=b"SessionFileSvr\0\0").digest())
        assert_eq!(
            FileId::of_content(b"hello").as_str(),
            "tKO2VVg1JPHwgZuvqK_7bDHJeSr4UJ_8i13ETlwAn0jB"
        );
        assert_eq!(
            FileId::of_content(&[0u8; 1000]).as_str(),
            "ZgiHa7VCqgsyTJU7ICOT5iSL-LOF3tPwtQWr-HoJUn6T"
        );
        assert!(FileId::of_content(b"x").is_content());
    }

    #[test]
    fn compat_ids_fit_a_double() {
        for _ in 0..100 {
            let id = FileId::random_compat();
            let n: u64 = id.as_str().parse().unwrap();
            assert!(n < 1 << 53);
            assert!(!id.is_content());
            assert!(FileId::parse(id.as_str()).is_some());
        }
    }

    #[test]
    fn parse_rejects_unsafe_names() {
        for bad in [
            "",
            "..",
            "../x",
            "a/b",
            "a.b",
            "%2e",
            "a b",
            &"a".repeat(45),
            "é",
        ] {
            assert!(FileId::parse(bad).is_none(), "{bad}");
        }
        for good in ["1", "123456789", "abc-_XYZ", &"a".repeat(44)] {
            assert!(FileId::parse(good).is_some(), "{good}");
        }
    }

    #[test]
    fn layout() {
        let dir = Path::new("/f");
        assert_eq!(
            FileId::parse("12345").unwrap().path(dir),
            Path::new("/f/345/12345")
        );
        assert_eq!(FileId::parse("7").unwrap().path(dir), Path::new("/f/007/7"));
        let c = FileId::of_content(b"hello");
        assert_eq!(c.path(dir), Path::new("/f/tK").join(c.as_str()));
    }
}
