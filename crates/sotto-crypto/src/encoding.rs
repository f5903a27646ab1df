//! Small decoding helpers shared by the identifier and key types.

use crate::err::{Error, Result};

/// Decode exactly `N` bytes of hex (either case), naming `what` in the error.
pub(crate) fn hex_array<const N: usize>(
    what: &'static str,
    expected: &'static str,
    s: &str,
) -> Result<[u8; N]> {
    if s.len() != 2 * N {
        return Err(Error::BadLength {
            what,
            expected,
            actual: s.len(),
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).map_err(|_| Error::BadHex { what })?;
    Ok(out)
}

/// Copy a slice into an array of length `N`, naming `what` in the error.
pub(crate) fn array<const N: usize>(
    what: &'static str,
    expected: &'static str,
    bytes: &[u8],
) -> Result<[u8; N]> {
    bytes.try_into().map_err(|_| Error::BadLength {
        what,
        expected,
        actual: bytes.len(),
    })
}

/// Serialize and deserialize a type through its `Display` / `FromStr` forms.
macro_rules! serde_via_str {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_via_str;
