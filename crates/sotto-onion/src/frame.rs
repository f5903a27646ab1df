//! The combined layer format `u32-LE N ‖ N bytes ‖ JSON` (`onion.md` §3), used by every onion
//! blob: the guard's HTTP body, each decrypted layer, and what a server receives.

use serde_json::{Map, Value};

use crate::err::{Error, Result};

/// Bytes of the little-endian length prefix.
pub const LEN_PREFIX: usize = 4;

/// A parsed combined blob: the opaque part and the JSON object after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Combined<'a> {
    /// The `N` bytes after the prefix (a ciphertext, or the destination's request body).
    pub blob: &'a [u8],
    /// The trailing JSON object.
    pub json: Map<String, Value>,
}

impl<'a> Combined<'a> {
    /// Parse `bytes`, naming `what` in errors. The trailer must be a JSON object, as
    /// oxen-storage-server's `parse_combined_payload` and its callers require.
    pub fn parse(what: &'static str, bytes: &'a [u8]) -> Result<Self> {
        let (prefix, rest) = bytes
            .split_first_chunk::<LEN_PREFIX>()
            .ok_or(Error::TooShort {
                what,
                min: LEN_PREFIX,
                actual: bytes.len(),
            })?;
        let declared = u32::from_le_bytes(*prefix);
        let (blob, json) = usize::try_from(declared)
            .ok()
            .and_then(|n| rest.split_at_checked(n))
            .ok_or(Error::LengthPrefix {
                what,
                declared,
                available: rest.len(),
            })?;
        let json = match serde_json::from_slice::<Value>(json) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(Error::Json {
                    what,
                    reason: "expected a JSON object".into(),
                })
            }
            Err(e) => {
                return Err(Error::Json {
                    what,
                    reason: e.to_string(),
                })
            }
        };
        Ok(Self { blob, json })
    }
}

/// Build `u32-LE len(blob) ‖ blob ‖ json`.
pub fn build_combined(blob: &[u8], json: &Value) -> Result<Vec<u8>> {
    let len = u32::try_from(blob.len()).map_err(|_| Error::TooLarge {
        what: "onion blob",
        max: u32::MAX as usize,
        actual: blob.len(),
    })?;
    let json = json.to_string();
    let mut out = Vec::with_capacity(LEN_PREFIX + blob.len() + json.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(blob);
    out.extend_from_slice(json.as_bytes());
    Ok(out)
}

/// A required string field.
pub(crate) fn str_field<'m>(
    what: &'static str,
    json: &'m Map<String, Value>,
    field: &'static str,
) -> Result<&'m str> {
    match json.get(field) {
        None => Err(Error::MissingField { what, field }),
        Some(v) => v.as_str().ok_or_else(|| Error::BadField {
            what,
            field,
            reason: "expected a string".into(),
        }),
    }
}

/// An optional string field.
pub(crate) fn opt_str_field<'m>(
    what: &'static str,
    json: &'m Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'m str>> {
    json.get(field)
        .map(|_| str_field(what, json, field))
        .transpose()
}

/// Parse a typed value, mapping the error to [`Error::BadField`].
pub(crate) fn parse_field<T>(what: &'static str, field: &'static str, s: &str) -> Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| Error::BadField {
        what,
        field,
        reason: e.to_string(),
    })
}
