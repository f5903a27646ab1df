//! X-SOGS request authentication (`sogs.md` §2.1–2.3): the headers a client sends to a community
//! server, and the server's checks, with PySOGS's exact status codes and messages.
//!
//! The server's checks are split around its database steps, in PySOGS's order:
//! [`parse_headers`] (presence, decoding, key rules) → [`ParsedAuth::check_clock`] → *ban lookup
//! and nonce insert, done by the server* → [`ParsedAuth::verify`].

use std::fmt;
use std::num::IntErrorKind;

use base64::alphabet::STANDARD as B64_ALPHABET;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use blake2::digest::Digest;
use blake2::Blake2b512;

use crate::blinding::BlindedKeyPair;
use crate::identity::Identity;
use crate::ids::{BlindingKind, Ed25519PublicKey, X25519PublicKey};

/// Header carrying the signing key (`00`/`15` ‖ Ed25519 key).
pub const HEADER_PUBKEY: &str = "X-SOGS-Pubkey";
/// Header carrying the 16-byte nonce.
pub const HEADER_NONCE: &str = "X-SOGS-Nonce";
/// Header carrying the unix timestamp in seconds.
pub const HEADER_TIMESTAMP: &str = "X-SOGS-Timestamp";
/// Header carrying the Ed25519 signature.
pub const HEADER_SIGNATURE: &str = "X-SOGS-Signature";

/// How far a request's timestamp may be from the server's clock (PySOGS `auth.py`: 24 hours).
pub const MAX_CLOCK_SKEW_SECS: i64 = 24 * 60 * 60;
/// Nonce length in bytes.
pub const NONCE_LEN: usize = 16;

/// Prefix of an unblinded key in `X-SOGS-Pubkey`.
const UNBLINDED_PREFIX: u8 = 0x00;

/// The four header values a client sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthHeaders {
    /// `X-SOGS-Pubkey`: 66 hex characters.
    pub pubkey: String,
    /// `X-SOGS-Nonce`: base64 of 16 bytes.
    pub nonce: String,
    /// `X-SOGS-Timestamp`: decimal unix seconds.
    pub timestamp: String,
    /// `X-SOGS-Signature`: base64 of 64 bytes.
    pub signature: String,
}

impl AuthHeaders {
    /// The headers as `(name, value)` pairs.
    pub fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            (HEADER_PUBKEY, &self.pubkey),
            (HEADER_NONCE, &self.nonce),
            (HEADER_TIMESTAMP, &self.timestamp),
            (HEADER_SIGNATURE, &self.signature),
        ]
    }
}

/// Who signs a request.
#[derive(Clone, Copy, Debug)]
pub enum Signer<'a> {
    /// The account's own Ed25519 key (`00` prefix); only on servers that allow unblinded IDs.
    Unblinded(&'a Identity),
    /// A blinded key pair for this server (`15` prefix).
    Blinded(&'a BlindedKeyPair),
}

/// The exact bytes a request signature covers (`sogs.md` §2.2): server key ‖ nonce ‖ timestamp
/// ‖ method ‖ path ‖ [`?` query, if not empty] ‖ [BLAKE2b-512(body), if not empty].
///
/// `path` is the URL-decoded path; `query` the raw query string, without `?`.
pub fn signed_message(
    server: &X25519PublicKey,
    nonce: &[u8; NONCE_LEN],
    timestamp: &str,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut msg = Vec::with_capacity(32 + NONCE_LEN + 20 + path.len() + query.len() + 65);
    msg.extend_from_slice(server.as_bytes());
    msg.extend_from_slice(nonce);
    msg.extend_from_slice(timestamp.as_bytes());
    msg.extend_from_slice(method.as_bytes());
    msg.extend_from_slice(path.as_bytes());
    if !query.is_empty() {
        msg.push(b'?');
        msg.extend_from_slice(query.as_bytes());
    }
    if !body.is_empty() {
        msg.extend_from_slice(&Blake2b512::digest(body));
    }
    msg
}

/// Sign a request: the four header values for `method path?query` with `body`, at unix time
/// `timestamp` (seconds), with a fresh random `nonce`.
#[allow(clippy::too_many_arguments)]
pub fn sign_request(
    signer: Signer<'_>,
    server: &X25519PublicKey,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
    nonce: &[u8; NONCE_LEN],
    timestamp: i64,
) -> AuthHeaders {
    let timestamp = timestamp.to_string();
    let msg = signed_message(server, nonce, &timestamp, method, path, query, body);
    let (prefix, key, signature) = match signer {
        Signer::Unblinded(id) => (UNBLINDED_PREFIX, id.ed25519_public(), id.sign(&msg)),
        Signer::Blinded(pair) => (
            pair.blinded_id().kind().prefix(),
            *pair.public_key(),
            pair.sign(&msg),
        ),
    };
    AuthHeaders {
        pubkey: format!("{prefix:02x}{}", key.to_hex()),
        nonce: STANDARD.encode(nonce),
        timestamp,
        signature: STANDARD.encode(signature),
    }
}

/// An authentication failure: the HTTP status and PySOGS's exact plain-text body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AuthError {
    status: u16,
    message: &'static str,
}

impl AuthError {
    const fn new(status: u16, message: &'static str) -> Self {
        Self { status, message }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response body.
    pub fn message(&self) -> &'static str {
        self.message
    }

    /// Some but not all headers: 400 `Invalid authentication headers: missing k/4 required
    /// X-SOGS-* headers`.
    fn missing(count: usize) -> Self {
        const MESSAGES: [&str; 3] = [
            "Invalid authentication headers: missing 1/4 required X-SOGS-* headers",
            "Invalid authentication headers: missing 2/4 required X-SOGS-* headers",
            "Invalid authentication headers: missing 3/4 required X-SOGS-* headers",
        ];
        let message = MESSAGES
            .get(count.saturating_sub(1))
            .copied()
            .unwrap_or(MESSAGES[2]);
        Self::new(400, message)
    }

    /// The pubkey header does not decode to 33 bytes.
    pub const BAD_PUBKEY: Self = Self::new(
        400,
        "Invalid authentication: X-SOGS-Pubkey is not a valid 66-hex digit id",
    );
    /// The pubkey has a prefix other than `00` or `15`.
    pub const BAD_PREFIX: Self = Self::new(
        400,
        "Invalid authentication: X-SOGS-Pubkey must be 00- or 15- prefixed",
    );
    /// The key is not a valid Ed25519 point.
    pub const BAD_POINT: Self = Self::new(
        400,
        "Invalid authentication: given X-SOGS-Pubkey is not a valid Ed25519 pubkey",
    );
    /// An unblinded key on a server that requires blinding. Session desktop matches this string
    /// to refetch capabilities: keep it byte-exact.
    pub const BLINDING_REQUIRED: Self = Self::new(
        400,
        "Invalid authentication: this server requires the use of blinded ids",
    );
    /// The nonce does not decode to 16 bytes.
    pub const BAD_NONCE: Self = Self::new(
        400,
        "Invalid authentication: X-SOGS-Nonce must be 16 bytes (encoded as base64 or hex)",
    );
    /// The signature does not decode to 64 bytes.
    pub const BAD_SIGNATURE_ENCODING: Self = Self::new(
        400,
        "Invalid authentication: X-SOGS-Signature is not base64[88]",
    );
    /// The timestamp is not an integer.
    pub const BAD_TIMESTAMP: Self = Self::new(
        400,
        "Invalid authentication: X-SOGS-Timestamp is not a valid timestamp",
    );
    /// The timestamp is more than 24 hours from the server's clock.
    pub const CLOCK_SKEW: Self = Self::new(
        425,
        "Invalid authentication: X-SOGS-Timestamp is too far from current time",
    );
    /// The user is globally banned (checked by the server before the signature).
    pub const BANNED: Self = Self::new(403, "Banned");
    /// The nonce was used before (checked by the server).
    pub const NONCE_REUSED: Self =
        Self::new(425, "Invalid authentication: X-SOGS-Nonce cannot be reused");
    /// The signature does not verify.
    pub const SIGNATURE_FAILED: Self = Self::new(
        401,
        "Invalid authentication: X-SOGS-Signature verification failed",
    );
}

/// Validated authentication headers, not yet checked against the clock or signature.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedAuth {
    blinded: bool,
    key: Ed25519PublicKey,
    user_id: String,
    nonce: [u8; NONCE_LEN],
    timestamp_text: String,
    timestamp: i64,
    signature: [u8; 64],
}

impl fmt::Debug for ParsedAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedAuth")
            .field("user_id", &self.user_id)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl ParsedAuth {
    /// The ID the server knows the user by: `15…` for a blinded key, `05…` (the key's X25519
    /// form) for an unblinded one.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// Whether the request was signed with a blinded key.
    pub fn is_blinded(&self) -> bool {
        self.blinded
    }

    /// The signing key.
    pub fn key(&self) -> &Ed25519PublicKey {
        &self.key
    }

    /// The request's nonce, for the server's replay check.
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// The request's timestamp, unix seconds.
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// Check the timestamp against the server's clock (`now`, unix seconds): ±24 h.
    pub fn check_clock(&self, now: i64) -> Result<(), AuthError> {
        // `abs_diff`: the timestamp is the client's and may be anywhere in i64's range.
        if self.timestamp.abs_diff(now) > MAX_CLOCK_SKEW_SECS.unsigned_abs() {
            return Err(AuthError::CLOCK_SKEW);
        }
        Ok(())
    }

    /// Verify the signature over the request (see [`signed_message`] for the arguments).
    pub fn verify(
        &self,
        server: &X25519PublicKey,
        method: &str,
        path: &str,
        query: &str,
        body: &[u8],
    ) -> Result<(), AuthError> {
        let msg = signed_message(
            server,
            &self.nonce,
            &self.timestamp_text,
            method,
            path,
            query,
            body,
        );
        self.key
            .verify(&msg, &self.signature, "request")
            .map_err(|_| AuthError::SIGNATURE_FAILED)
    }
}

/// Parse and validate the four header values (absent headers as `None`), PySOGS's steps 1–3.
///
/// Returns `Ok(None)` for an anonymous request (all four absent or empty).
pub fn parse_headers<'a>(
    pubkey: Option<&'a str>,
    nonce: Option<&'a str>,
    timestamp: Option<&'a str>,
    signature: Option<&'a str>,
    require_blinded: bool,
) -> Result<Option<ParsedAuth>, AuthError> {
    // PySOGS counts an empty header as missing.
    let present = |v: Option<&'a str>| v.filter(|v| !v.is_empty());
    let (pubkey, nonce, timestamp, signature) = match (
        present(pubkey),
        present(nonce),
        present(timestamp),
        present(signature),
    ) {
        (None, None, None, None) => return Ok(None),
        (Some(p), Some(n), Some(t), Some(s)) => (p, n, t, s),
        some => {
            let missing = [some.0, some.1, some.2, some.3]
                .iter()
                .filter(|v| v.is_none())
                .count();
            return Err(AuthError::missing(missing));
        }
    };

    let raw: [u8; 33] = decode_hex_or_base64(pubkey).ok_or(AuthError::BAD_PUBKEY)?;
    let (&prefix, key) = raw.split_first().ok_or(AuthError::BAD_PUBKEY)?;
    let key = Ed25519PublicKey(key.try_into().map_err(|_| AuthError::BAD_PUBKEY)?);
    let blinded = match prefix {
        UNBLINDED_PREFIX => false,
        p if p == BlindingKind::Blind15.prefix() => true,
        _ => return Err(AuthError::BAD_PREFIX),
    };
    if !key.is_valid_prime_order_point() {
        return Err(AuthError::BAD_POINT);
    }
    let user_id = if blinded {
        format!("15{}", key.to_hex())
    } else if require_blinded {
        return Err(AuthError::BLINDING_REQUIRED);
    } else {
        let x = key.to_x25519().map_err(|_| AuthError::BAD_POINT)?;
        format!("05{}", x.to_hex())
    };

    let nonce: [u8; NONCE_LEN] = decode_hex_or_base64(nonce).ok_or(AuthError::BAD_NONCE)?;
    let signature: [u8; 64] =
        decode_hex_or_base64(signature).ok_or(AuthError::BAD_SIGNATURE_ENCODING)?;
    let timestamp_value = parse_python_int(timestamp).ok_or(AuthError::BAD_TIMESTAMP)?;

    Ok(Some(ParsedAuth {
        blinded,
        key,
        user_id,
        nonce,
        timestamp_text: timestamp.to_owned(),
        timestamp: timestamp_value,
        signature,
    }))
}

/// PySOGS's `decode_hex_or_b64(value, N)`: exactly `2N` hex digits, or base64 (padding
/// optional) of the right length that decodes to `N` bytes.
///
/// One deliberate difference: Python's `bytes.fromhex` skips spaces, so PySOGS takes e.g. a
/// 32-character "hex" nonce with spaces as a *shorter* nonce; we insist on exactly `N` bytes.
pub fn decode_hex_or_base64<const N: usize>(value: &str) -> Option<[u8; N]> {
    if value.len() == 2 * N {
        let mut out = [0u8; N];
        return hex::decode_to_slice(value, &mut out).ok().map(|()| out);
    }
    let padded_len = N.div_ceil(3) * 4;
    let unpadded_len = (N * 4).div_ceil(3);
    if !(unpadded_len..=padded_len).contains(&value.len()) {
        return None;
    }
    // PySOGS pads only input that has no `=`; input with padding must already be padded to a
    // multiple of 4 ("Incorrect padding"), which the lenient decoder below would not insist on.
    if value.ends_with('=') && value.len() % 4 != 0 {
        return None;
    }
    // Python's decoder ignores non-zero trailing bits; so do we.
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &B64_ALPHABET,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(value).ok()?.try_into().ok()
}

/// Python's `int(s)` for what a timestamp header can hold: surrounding whitespace, an optional
/// sign, ASCII digits with single `_` separators between them (PEP 515).
///
/// Python integers are unbounded, so PySOGS answers an absurd timestamp with the clock error, not
/// the parse error: out-of-range values saturate, and then fail [`ParsedAuth::check_clock`].
fn parse_python_int(value: &str) -> Option<i64> {
    // Python's `int()` strips Unicode White_Space, as `str::trim` does.
    let trimmed = value.trim();
    let (sign, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let well_formed = digits
        .split('_')
        .all(|group| !group.is_empty() && group.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return None;
    }
    let normalized: String = sign
        .chars()
        .chain(digits.chars().filter(|&c| c != '_'))
        .collect();
    match normalized.parse::<i64>() {
        Ok(value) => Some(value),
        Err(e) => match e.kind() {
            IntErrorKind::PosOverflow => Some(i64::MAX),
            IntErrorKind::NegOverflow => Some(i64::MIN),
            _ => None,
        },
    }
}
