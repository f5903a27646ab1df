//! Small encodings the API needs: Session message padding, percent-encoding, upload file
//! names and HTTP dates. All pure functions with encode/decode pairs tested by proptest.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time as float unix seconds (PySOGS `time.time()`).
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Strip Session message padding as PySOGS stores messages (`sogs/utils.py`): if the last byte
/// is 0x00 or 0x80, drop trailing 0x00 bytes and then one 0x80 if that is what remains last;
/// if no 0x80 terminator is found, the data is returned unchanged.
pub fn remove_padding(data: &[u8]) -> &[u8] {
    match data.last() {
        Some(0x00 | 0x80) => {}
        _ => return data,
    }
    let mut end = data.len();
    while end > 0 && data.get(end - 1) == Some(&0x00) {
        end -= 1;
    }
    if end > 0 && data.get(end - 1) == Some(&0x80) {
        data.get(..end - 1).unwrap_or(data)
    } else {
        data
    }
}

/// Re-add padding to stored data: 0x80 then zeros up to `size` bytes (nothing if the stored data
/// already has that size).
pub fn add_padding(data: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size.max(data.len()));
    add_padding_into(data, size, &mut out);
    out
}

/// [`add_padding`] into a reused buffer (cleared first), so that listing many messages does not
/// allocate per message.
pub fn add_padding_into(data: &[u8], size: usize, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(data);
    if size > data.len() {
        out.push(0x80);
        out.resize(size, 0);
    }
}

/// Percent-decode a URL path (`%XX` sequences; anything malformed is kept as written).
pub fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16));
            let lo = bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                // Both digits are < 16, so the value fits in a byte.
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'%'));
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Python's `urllib.parse.quote(bytes)` with its default safe set (`/`): unreserved characters
/// `A-Za-z0-9_.-~` and `/` are kept, everything else is `%XX` (upper case).
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Longest on-disk upload name, in code points (PySOGS `UPLOAD_FILENAME_MAX`).
const UPLOAD_FILENAME_MAX: usize = 60;
/// Code points kept from the start of a long name (`UPLOAD_FILENAME_KEEP_PREFIX`).
const UPLOAD_FILENAME_KEEP_PREFIX: usize = 40;
/// Code points kept from the end of a long name (`UPLOAD_FILENAME_KEEP_SUFFIX`).
const UPLOAD_FILENAME_KEEP_SUFFIX: usize = 17;

/// The name an upload is stored under, after `<id>_` (`Room.upload_file`): runs of characters
/// other than Python `\w` and `+-.'()@[]` become `_`, `(unnamed)` if there is no name, and names
/// longer than 60 code points keep their first 40 and last 17 around `...`.
pub fn disk_filename(name: Option<&str>) -> String {
    let Some(name) = name else {
        return "(unnamed)".to_owned();
    };
    let mut out = String::with_capacity(name.len());
    let mut in_bad_run = false;
    for c in name.chars() {
        let good = c.is_alphanumeric() || c == '_' || "+-.'()@[]".contains(c);
        if good {
            out.push(c);
            in_bad_run = false;
        } else if !in_bad_run {
            out.push('_');
            in_bad_run = true;
        }
    }
    let count = out.chars().count();
    if count > UPLOAD_FILENAME_MAX {
        let head: String = out.chars().take(UPLOAD_FILENAME_KEEP_PREFIX).collect();
        let tail: String = out
            .chars()
            .skip(count - UPLOAD_FILENAME_KEEP_SUFFIX)
            .collect();
        out = format!("{head}...{tail}");
    }
    out
}

/// The stored filename: NUL and `/` replaced by U+FFFD (`Room.upload_file`).
pub fn clean_filename(name: &str) -> String {
    name.replace(['\0', '/'], "\u{FFFD}")
}

/// The filename of a `Content-Disposition` header (werkzeug `parse_options_header`): the
/// RFC 2231 `filename*=UTF-8''…` form wins over a plain (optionally quoted) `filename=`.
pub fn content_disposition_filename(value: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for part in split_params(value).into_iter().skip(1) {
        let Some((key, val)) = part.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let val = val.trim();
        if key == "filename*" {
            // charset'language'percent-encoded
            let mut pieces = val.splitn(3, '\'');
            let charset = pieces.next().unwrap_or("");
            let _lang = pieces.next();
            if let Some(encoded) = pieces.next() {
                let raw = percent_decode(encoded);
                extended = Some(if charset.eq_ignore_ascii_case("utf-8") {
                    String::from_utf8_lossy(&raw).into_owned()
                } else {
                    raw.iter().map(|&b| char::from(b)).collect()
                });
            }
        } else if key == "filename" {
            plain = Some(unquote(val));
        }
    }
    extended.or(plain)
}

/// Split a header value on `;` outside double quotes.
fn split_params(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                parts.push(value.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(value.get(start..).unwrap_or(""));
    parts
}

/// Remove surrounding double quotes and backslash escapes.
fn unquote(val: &str) -> String {
    let Some(inner) = val.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return val.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An HTTP date (`Wed, 25 Nov 2026 09:21:47 GMT`) for float unix seconds, as werkzeug's
/// `http_date` writes it (fractions truncated).
pub fn http_date(t: f64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    #[allow(clippy::cast_possible_truncation)] // times are far inside i64
    let secs = t.floor() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = DAYS
        .get(usize::try_from(days.rem_euclid(7)).unwrap_or(0))
        .copied()
        .unwrap_or("Thu");
    let month = MONTHS
        .get(usize::try_from(m.saturating_sub(1)).unwrap_or(0))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{weekday}, {d:02} {month} {y:04} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month 1–12, day 1–31), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn padding_vectors() {
        assert_eq!(remove_padding(b"abc\x80\x00\x00"), b"abc");
        assert_eq!(remove_padding(b"abc\x80"), b"abc");
        assert_eq!(remove_padding(b"abc\x00\x00"), b"abc\x00\x00");
        assert_eq!(remove_padding(b"abc"), b"abc");
        assert_eq!(remove_padding(b""), b"");
        assert_eq!(add_padding(b"abc", 6), b"abc\x80\x00\x00");
        assert_eq!(add_padding(b"abc", 3), b"abc");
    }

    #[test]
    fn filenames() {
        assert_eq!(disk_filename(None), "(unnamed)");
        assert_eq!(disk_filename(Some("my file!!.txt")), "my_file_.txt");
        assert_eq!(disk_filename(Some("½ café (1).jpg")), "½_café_(1).jpg");
        let long = "a".repeat(50) + &"b".repeat(20);
        let short = disk_filename(Some(&long));
        assert_eq!(short, "a".repeat(40) + "..." + &"b".repeat(17));
        assert_eq!(clean_filename("../a\0b"), "..\u{FFFD}a\u{FFFD}b");
        assert_eq!(
            disk_filename(Some(&clean_filename("../../etc/passwd"))),
            ".._.._etc_passwd"
        );
    }

    #[test]
    fn content_disposition() {
        assert_eq!(
            content_disposition_filename("attachment; filename*=UTF-8''caf%C3%A9.txt").as_deref(),
            Some("café.txt")
        );
        assert_eq!(
            content_disposition_filename("attachment; filename=\"a;b.txt\"").as_deref(),
            Some("a;b.txt")
        );
        assert_eq!(
            content_disposition_filename("attachment; filename=x.txt").as_deref(),
            Some("x.txt")
        );
        assert_eq!(content_disposition_filename("attachment"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(http_date(0.0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_764_062_507.9), "Tue, 25 Nov 2025 09:21:47 GMT");
        assert_eq!(http_date(951_782_400.0), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    proptest! {
        #[test]
        fn padding_round_trip(body in proptest::collection::vec(any::<u8>(), 0..64), pad in 0usize..40) {
            // A padded message (body ‖ 0x80 ‖ zeros) is stored unpadded and comes back identical.
            let mut padded = body.clone();
            padded.push(0x80);
            padded.resize(padded.len() + pad, 0);
            let stored = remove_padding(&padded);
            prop_assert_eq!(add_padding(stored, padded.len()), padded);
        }

        #[test]
        fn unpadded_data_round_trips(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let stored = remove_padding(&data);
            prop_assert_eq!(add_padding(stored, data.len()), data);
        }

        #[test]
        fn percent_round_trip(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(percent_decode(&percent_encode(&data)), data);
        }

        #[test]
        fn disk_names_are_safe(name in ".{0,100}") {
            let out = disk_filename(Some(&clean_filename(&name)));
            prop_assert!(!out.contains('/') && !out.contains('\0'));
            prop_assert!(out.chars().count() <= 60);
        }
    }
}
