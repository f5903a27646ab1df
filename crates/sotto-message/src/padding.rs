//! Padding of `Content` before encryption (`client.md` §2.2).
//!
//! Padding appends `0x80` and then zero bytes, hiding the exact length of a message. We send
//! libsession's scheme and accept libsession's, Session desktop's legacy scheme and unpadded
//! content (iOS test messages are unpadded).

/// Padded lengths are multiples of this (libsession `pad_message`).
pub const PADDING_BLOCK: usize = 160;
/// The byte that ends the real content.
const PADDING_MARKER: u8 = 0x80;

/// Pad with libsession's scheme: the result's length is the smallest multiple of 160 strictly
/// greater than `content.len() + 1`.
pub fn pad(content: &[u8]) -> Vec<u8> {
    let total = PADDING_BLOCK * ((content.len() + 1) / PADDING_BLOCK + 1);
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(content);
    out.push(PADDING_MARKER);
    out.resize(total, 0);
    out
}

/// Pad with Session desktop's legacy scheme (one byte short of a multiple of 160). Only used to
/// test that we accept it.
pub fn pad_legacy(content: &[u8]) -> Vec<u8> {
    let total = PADDING_BLOCK * (content.len() + 2).div_ceil(PADDING_BLOCK) - 1;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(content);
    out.push(PADDING_MARKER);
    out.resize(total, 0);
    out
}

/// Remove padding of either scheme: strip trailing zeros, then one `0x80`. Data whose last
/// non-zero byte is not `0x80` is taken as unpadded and returned whole.
pub fn unpad(padded: &[u8]) -> &[u8] {
    let end = padded.iter().rposition(|&b| b != 0);
    match end {
        Some(i) if padded.get(i) == Some(&PADDING_MARKER) => padded.get(..i).unwrap_or(padded),
        _ => padded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libsession_lengths() {
        assert_eq!(pad(&[1; 22]).len(), 160);
        assert_eq!(pad(&[1; 158]).len(), 160);
        assert_eq!(pad(&[1; 159]).len(), 320);
        assert_eq!(pad(&[]).len(), 160);
        assert_eq!(pad(&[1; 319]).len(), 480);
    }

    #[test]
    fn legacy_lengths() {
        assert_eq!(pad_legacy(&[1; 22]).len(), 159);
        assert_eq!(pad_legacy(&[1; 157]).len(), 159);
        assert_eq!(pad_legacy(&[1; 158]).len(), 159);
        assert_eq!(pad_legacy(&[1; 159]).len(), 319);
    }

    #[test]
    fn unpad_cases() {
        assert_eq!(unpad(&pad(b"abc")), b"abc");
        assert_eq!(unpad(&pad_legacy(b"abc")), b"abc");
        // Unpadded protobuf (ends in a non-marker byte) is returned whole.
        assert_eq!(unpad(b"\x0a\x03abc"), b"\x0a\x03abc");
        assert_eq!(unpad(b""), b"");
        assert_eq!(unpad(b"\x00\x00"), b"\x00\x00");
        assert_eq!(unpad(b"\x80"), b"");
    }
}
