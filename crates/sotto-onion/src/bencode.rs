//! The sliver of bencode that v4 onion requests use: one list of byte strings
//! (`l<len>:<bytes>…e`, `sogs/routes/onion_request.py`).

use crate::err::{Error, Result};

/// Most digits a string length may have; 10 MiB needs 8.
const MAX_LEN_DIGITS: usize = 10;

/// Encode `parts` as a bencoded list of byte strings.
pub(crate) fn encode_list(parts: &[&[u8]]) -> Vec<u8> {
    let size = 2 + parts.iter().map(|p| p.len() + 12).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.push(b'l');
    for part in parts {
        out.extend_from_slice(part.len().to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(part);
    }
    out.push(b'e');
    out
}

/// Decode a bencoded list holding only byte strings.
pub(crate) fn decode_list<'a>(what: &'static str, bytes: &'a [u8]) -> Result<Vec<&'a [u8]>> {
    let bad = |reason| Error::Bencode { what, reason };
    let inner = bytes
        .strip_prefix(b"l")
        .and_then(|b| b.strip_suffix(b"e"))
        .ok_or(bad("expected a list (l…e)"))?;
    let mut parts = Vec::new();
    let mut rest = inner;
    while !rest.is_empty() {
        let colon = rest
            .iter()
            .take(MAX_LEN_DIGITS + 1)
            .position(|&b| b == b':')
            .ok_or(bad("expected a string length"))?;
        let (digits, after) = rest.split_at_checked(colon).ok_or(bad("truncated"))?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(bad("expected a string length"));
        }
        if digits.len() > 1 && digits.first() == Some(&b'0') {
            return Err(bad("string length has a leading zero"));
        }
        let len: usize = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or(bad("string length out of range"))?;
        let after = after.get(1..).unwrap_or_default();
        let (part, next) = after
            .split_at_checked(len)
            .ok_or(bad("string longer than the input"))?;
        parts.push(part);
        rest = next;
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_from_pysogs() {
        let get = br#"l79:{"method":"GET","endpoint":"/room/some-room","headers":{"Some-Header":"12345"}}e"#;
        let parts = decode_list("v4", get).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].len(), 79);
        assert_eq!(encode_list(&parts), get.to_vec());
        let post = br#"l72:{"method":"POST","endpoint":"/some/thing","headers":{"Some-Header":"a"}}14:post body heree"#;
        let parts = decode_list("v4", post).unwrap();
        assert_eq!(parts[1], b"post body here");
        assert_eq!(encode_list(&parts), post.to_vec());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &b""[..],
            b"l",
            b"e",
            b"3:abc",
            b"l3:abe",
            b"l3:abcde",
            b"l:abce",
            b"l03:abce",
            b"lx:e",
            b"l99999999999:e",
            b"l3abce",
        ] {
            assert!(
                decode_list("t", bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(decode_list("t", b"le").unwrap(), Vec::<&[u8]>::new());
        assert_eq!(decode_list("t", b"l0:e").unwrap(), vec![&b""[..]]);
    }
}
