//! `GET /session_version?platform=…`: the latest Session release of a platform
//! (session-file-server `routes.py`, `get_session_version`).
//!
//! The reference fills its answer from GitHub releases it polls into its database. This server
//! has no such feed: it answers from its configuration (`[session_version.<platform>]` in the
//! TOML file), and, like the reference for a project without releases, with 502 for a platform
//! nobody configured. The optional `X-FS-*` headers (a `07` version-blinded key) are checked
//! exactly as the reference checks them; a valid one is only counted, never stored.

use base64::Engine as _;
use blake2::{Blake2b512, Digest as _};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sotto_crypto::Ed25519PublicKey;

/// The platforms the reference answers for; anything else is a 404.
pub const PLATFORMS: [&str; 3] = ["desktop", "android", "ios"];
/// How far `X-FS-Timestamp` may be from the server's clock: 24 hours (the reference's
/// `now - 24 * 60 * 60 <= ts <= now + 24 * 60 * 60`).
pub const MAX_CLOCK_SKEW_SECS: u64 = 24 * 60 * 60;
/// First byte of a version-blinded key (`client.md` §1, "07").
pub const VERSION_BLINDED_PREFIX: u8 = 0x07;
/// Header carrying the version-blinded key (66 hex digits or base64 of 33 bytes).
pub const PUBKEY_HEADER: &str = "x-fs-pubkey";
/// Header carrying the signing time, integer Unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-fs-timestamp";
/// Header carrying the Ed25519 signature (128 hex digits or base64 of 64 bytes).
pub const SIGNATURE_HEADER: &str = "x-fs-signature";

/// A downloadable file of a release.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// File name, e.g. `session-desktop-linux-x86_64-1.14.5.AppImage`.
    pub name: String,
    /// Where to download it.
    pub url: String,
}

/// A prerelease offered next to the release.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prerelease {
    /// Version string, e.g. `1.15.0` (the answer's `result`).
    pub version: String,
    /// Release title.
    pub name: Option<String>,
    /// Release notes.
    pub notes: Option<String>,
    /// Downloads.
    #[serde(default)]
    pub assets: Vec<Asset>,
}

/// The latest release of one platform.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// Version string, e.g. `1.14.5` (the answer's `result`).
    pub version: String,
    /// When this information last changed, Unix seconds [default: when the server started].
    pub updated: Option<f64>,
    /// Release title.
    pub name: Option<String>,
    /// Release notes.
    pub notes: Option<String>,
    /// Downloads.
    #[serde(default)]
    pub assets: Vec<Asset>,
    /// A newer prerelease, if any.
    pub prerelease: Option<Prerelease>,
}

/// `[session_version]`: the release of each platform, each optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionVersions {
    /// `[session_version.desktop]`.
    pub desktop: Option<Release>,
    /// `[session_version.android]`.
    pub android: Option<Release>,
    /// `[session_version.ios]`.
    pub ios: Option<Release>,
}

impl SessionVersions {
    /// The release configured for `platform`.
    pub fn get(&self, platform: &str) -> Option<&Release> {
        match platform {
            "desktop" => self.desktop.as_ref(),
            "android" => self.android.as_ref(),
            "ios" => self.ios.as_ref(),
            _ => None,
        }
    }

    /// Check what the file says: versions not empty, `updated` finite.
    pub fn validate(&self) -> Result<(), &'static str> {
        for r in [&self.desktop, &self.android, &self.ios]
            .into_iter()
            .flatten()
        {
            let pre = r.prerelease.as_ref().map(|p| p.version.as_str());
            if r.version.trim().is_empty() || pre.is_some_and(|v| v.trim().is_empty()) {
                return Err("session_version: version must not be empty");
            }
            if r.updated.is_some_and(|u| !u.is_finite()) {
                return Err("session_version: updated must be a number of Unix seconds");
            }
        }
        Ok(())
    }
}

fn release_fields(
    out: &mut Map<String, Value>,
    version: &str,
    name: Option<&String>,
    notes: Option<&String>,
    assets: &[Asset],
) {
    out.insert("result".into(), json!(version));
    // The reference leaves out empty names and notes, and the list when there are no assets.
    if let Some(name) = name.filter(|n| !n.is_empty()) {
        out.insert("name".into(), json!(name));
    }
    if let Some(notes) = notes.filter(|n| !n.is_empty()) {
        out.insert("notes".into(), json!(notes));
    }
    if !assets.is_empty() {
        let list: Vec<Value> = assets
            .iter()
            .map(|a| json!({ "name": a.name, "url": a.url }))
            .collect();
        out.insert("assets".into(), Value::Array(list));
    }
}

/// The answer for a configured release: `{"status_code": 200, "updated", "result", "name"?,
/// "notes"?, "assets"?, "prerelease"?}`; `started` stands in for a missing `updated`.
pub fn answer(release: &Release, started: f64) -> Value {
    let updated = release.updated.unwrap_or(started);
    let mut out = Map::new();
    out.insert("status_code".into(), json!(200));
    out.insert("updated".into(), json!(updated));
    release_fields(
        &mut out,
        &release.version,
        release.name.as_ref(),
        release.notes.as_ref(),
        &release.assets,
    );
    if let Some(pre) = &release.prerelease {
        let mut p = Map::new();
        // The reference gives the prerelease the project's `updated` too.
        p.insert("updated".into(), json!(updated));
        release_fields(
            &mut p,
            &pre.version,
            pre.name.as_ref(),
            pre.notes.as_ref(),
            &pre.assets,
        );
        out.insert("prerelease".into(), Value::Object(p));
    }
    Value::Object(out)
}

/// Why `X-FS-*` authentication failed; [`AuthError::status`] and [`AuthError::message`] are
/// the reference's answer (`text/plain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// One or two of the three headers are missing or empty.
    #[error("Invalid authentication: one or more X-FS-* auth headers is missing")]
    Missing,
    /// The key is neither 66 hex digits nor base64 of 33 bytes.
    #[error("Invalid authentication: X-FS-Pubkey is not a valid 66-hex digit id")]
    BadPubkey,
    /// The key is not `07`-prefixed.
    #[error("Invalid authentication: X-FS-Pubkey must be 07- prefixed")]
    NotVersionBlinded,
    /// The key is not a valid Ed25519 point.
    #[error("Invalid authentication: given X-FS-Pubkey is not a valid Ed25519 pubkey")]
    BadPoint,
    /// The signature is neither hex nor base64 of 64 bytes.
    #[error("Invalid authentication: X-FS-Signature is not base64[86]")]
    BadSignatureEncoding,
    /// The timestamp is not an integer.
    #[error("Invalid authentication: X-FS-Timestamp is not a valid timestamp")]
    BadTimestamp,
    /// The timestamp is more than a day away from the server's clock.
    #[error("Invalid authentication: X-FS-Timestamp is too far from current time")]
    ClockSkew,
    /// The signature does not verify.
    #[error("Invalid authentication: X-FS-Signature verification failed")]
    SignatureFailed,
}

impl AuthError {
    /// The HTTP status the reference answers with.
    pub fn status(self) -> u16 {
        match self {
            Self::ClockSkew => 425,
            Self::SignatureFailed => 401,
            _ => 400,
        }
    }
}

/// The request parts the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path without the query.
    pub path: &'a str,
    /// Raw query string without `?` (empty if none).
    pub query: &'a str,
    /// Request body.
    pub body: &'a [u8],
}

/// The bytes the signature covers: timestamp text ‖ method ‖ path ‖ [`?` query if any] ‖
/// [BLAKE2b-512(body) if any] (the reference's `to_verify`).
pub fn signed_message(timestamp: &str, req: &SignedRequest<'_>) -> Vec<u8> {
    let mut msg = Vec::with_capacity(timestamp.len() + req.path.len() + req.query.len() + 80);
    msg.extend_from_slice(timestamp.as_bytes());
    msg.extend_from_slice(req.method.as_bytes());
    msg.extend_from_slice(req.path.as_bytes());
    if !req.query.is_empty() {
        msg.push(b'?');
        msg.extend_from_slice(req.query.as_bytes());
    }
    if !req.body.is_empty() {
        msg.extend_from_slice(&Blake2b512::digest(req.body));
    }
    msg
}

/// Hex (exactly `2 × N` digits) or base64, padded or not, of exactly `N` bytes (the
/// reference's `decode_hex_or_b64`).
pub fn decode_hex_or_b64<const N: usize>(s: &str) -> Option<[u8; N]> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    if s.len() == N * 2 {
        return hex::decode(s).ok()?.try_into().ok();
    }
    let padded = N.div_ceil(3) * 4;
    let unpadded = (N * 4).div_ceil(3);
    if !(unpadded..=padded).contains(&s.len()) {
        return None;
    }
    let bytes = STANDARD
        .decode(s)
        .or_else(|_| STANDARD_NO_PAD.decode(s))
        .ok()?;
    bytes.try_into().ok()
}

/// Check the optional `X-FS-Pubkey`, `X-FS-Timestamp`, `X-FS-Signature` headers at Unix time
/// `now`: `Ok(None)` when all three are absent (or empty), `Ok(Some(key))` with the key as
/// given when they verify.
pub fn check_auth<'a>(
    pubkey: Option<&'a str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    req: &SignedRequest<'_>,
    now: i64,
) -> Result<Option<&'a str>, AuthError> {
    let present = |v: Option<&str>| v.is_some_and(|v| !v.is_empty());
    let count = [pubkey, timestamp, signature]
        .into_iter()
        .filter(|v| present(*v))
        .count();
    if count == 0 {
        return Ok(None);
    }
    let (Some(pubkey), Some(timestamp), Some(signature)) = (pubkey, timestamp, signature) else {
        return Err(AuthError::Missing);
    };
    if count < 3 {
        return Err(AuthError::Missing);
    }
    let key: [u8; 33] = decode_hex_or_b64(pubkey).ok_or(AuthError::BadPubkey)?;
    let (prefix, key) = key.split_first().ok_or(AuthError::BadPubkey)?;
    if *prefix != VERSION_BLINDED_PREFIX {
        return Err(AuthError::NotVersionBlinded);
    }
    let key = Ed25519PublicKey(key.try_into().map_err(|_| AuthError::BadPubkey)?);
    // Decompresses and is not of small order (libsodium's `is_valid_point` also wants the
    // prime-order subgroup; the strict verify below refuses the rest).
    key.to_x25519().map_err(|_| AuthError::BadPoint)?;
    let sig: [u8; 64] = decode_hex_or_b64(signature).ok_or(AuthError::BadSignatureEncoding)?;
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| AuthError::BadTimestamp)?;
    if ts.abs_diff(now) > MAX_CLOCK_SKEW_SECS {
        return Err(AuthError::ClockSkew);
    }
    key.verify(&signed_message(timestamp, req), &sig, "version check")
        .map_err(|_| AuthError::SignatureFailed)?;
    Ok(Some(pubkey))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sotto_crypto::{Identity, Seed};

    fn req(query: &str) -> SignedRequest<'_> {
        SignedRequest {
            method: "GET",
            path: "/session_version",
            query,
            body: b"",
        }
    }

    fn signed(id: &Identity, ts: &str, query: &str) -> (String, String) {
        let key = format!("07{}", id.ed25519_public().to_hex());
        let sig = id.sign(&signed_message(ts, &req(query)));
        (key, hex::encode(sig))
    }

    #[test]
    fn signed_message_layout() {
        let plain = signed_message("123", &req(""));
        assert_eq!(plain, b"123GET/session_version");
        let q = signed_message("123", &req("platform=ios"));
        assert_eq!(q, b"123GET/session_version?platform=ios");
        let with_body = signed_message(
            "1",
            &SignedRequest {
                method: "POST",
                path: "/x",
                query: "",
                body: b"abc",
            },
        );
        assert_eq!(with_body.len(), "1POST/x".len() + 64);
        assert_eq!(&with_body[7..], Blake2b512::digest(b"abc").as_slice());
    }

    #[test]
    fn hex_or_base64() {
        let bytes = [0xabu8; 33];
        let hex = hex::encode(bytes);
        assert_eq!(decode_hex_or_b64::<33>(&hex), Some(bytes));
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(b64.len(), 44);
        assert_eq!(decode_hex_or_b64::<33>(&b64), Some(bytes));
        let sig = [7u8; 64];
        let b64 = base64::engine::general_purpose::STANDARD.encode(sig);
        assert_eq!(decode_hex_or_b64::<64>(&b64), Some(sig));
        assert_eq!(
            decode_hex_or_b64::<64>(b64.trim_end_matches('=')),
            Some(sig)
        );
        for bad in ["", "zz", &"g".repeat(66), &"A".repeat(43), &"A".repeat(200)] {
            assert_eq!(decode_hex_or_b64::<33>(bad), None, "{bad}");
        }
    }

    #[test]
    fn auth_accepts_a_good_signature_and_refuses_the_rest() {
        let id = Identity::from_seed(&Seed::Standard([3; 16]));
        let now = 1_700_000_000;
        let ts = now.to_string();
        let (key, sig) = signed(&id, &ts, "platform=ios");
        let r = req("platform=ios");
        assert_eq!(check_auth(None, None, None, &r, now), Ok(None));
        assert_eq!(check_auth(Some(""), Some(""), None, &r, now), Ok(None));
        assert_eq!(check_auth(Some(""), Some(""), Some(""), &r, now), Ok(None));
        assert_eq!(
            check_auth(Some(&key), Some(&ts), Some(&sig), &r, now),
            Ok(Some(key.as_str()))
        );
        // Base64 signature is as good as hex.
        let b64 = base64::engine::general_purpose::STANDARD.encode(hex::decode(&sig).unwrap());
        assert!(check_auth(Some(&key), Some(&ts), Some(&b64), &r, now).is_ok());

        let err = |k: &str, t: &str, s: &str, r: &SignedRequest<'_>| {
            check_auth(Some(k), Some(t), Some(s), r, now).unwrap_err()
        };
        assert_eq!(
            check_auth(Some(&key), None, Some(&sig), &r, now),
            Err(AuthError::Missing)
        );
        assert_eq!(
            check_auth(Some(&key), Some(""), Some(&sig), &r, now),
            Err(AuthError::Missing)
        );
        assert_eq!(err("07abc", &ts, &sig, &r), AuthError::BadPubkey);
        let unblinded = format!("05{}", &key[2..]);
        assert_eq!(err(&unblinded, &ts, &sig, &r), AuthError::NotVersionBlinded);
        // The identity point (y = 1) is of small order.
        let small = format!("0701{}", "00".repeat(31));
        assert_eq!(err(&small, &ts, &sig, &r), AuthError::BadPoint);
        assert_eq!(err(&key, &ts, "nope", &r), AuthError::BadSignatureEncoding);
        assert_eq!(err(&key, "soon", &sig, &r), AuthError::BadTimestamp);
        // Replayed a day and a second later: refused (425) before the signature is checked.
        let old = (now - 86_401).to_string();
        let (_, old_sig) = signed(&id, &old, "platform=ios");
        assert_eq!(err(&key, &old, &old_sig, &r), AuthError::ClockSkew);
        assert_eq!(AuthError::ClockSkew.status(), 425);
        // Signed for another query, or by another key.
        assert_eq!(
            err(&key, &ts, &sig, &req("platform=android")),
            AuthError::SignatureFailed
        );
        let other = Identity::from_seed(&Seed::Standard([4; 16]));
        let (other_key, _) = signed(&other, &ts, "platform=ios");
        assert_eq!(err(&other_key, &ts, &sig, &r), AuthError::SignatureFailed);
        assert_eq!(AuthError::SignatureFailed.status(), 401);
        assert_eq!(AuthError::BadPubkey.status(), 400);
    }

    #[test]
    fn answers_as_the_reference() {
        let file: SessionVersions = toml::from_str(
            "[desktop]\nversion = \"1.14.5\"\nname = \"v1.14.5\"\nnotes = \"\"\n\
             assets = [{ name = \"a.AppImage\", url = \"https://x/a\" }]\n\
             [desktop.prerelease]\nversion = \"1.15.0\"\n\
             [ios]\nversion = \"2.8.0\"\nupdated = 1700000000.5\n",
        )
        .unwrap();
        file.validate().unwrap();
        assert_eq!(
            answer(file.get("desktop").unwrap(), 42.0),
            json!({
                "status_code": 200, "updated": 42.0, "result": "1.14.5", "name": "v1.14.5",
                "assets": [{"name": "a.AppImage", "url": "https://x/a"}],
                "prerelease": {"result": "1.15.0", "updated": 42.0},
            })
        );
        assert_eq!(
            answer(file.get("ios").unwrap(), 42.0),
            json!({"status_code": 200, "updated": 1_700_000_000.5, "result": "2.8.0"})
        );
        assert!(file.get("android").is_none());
        assert!(file.get("../desktop").is_none());
        assert!(toml::from_str::<SessionVersions>("[linux]\nversion = \"1\"\n").is_err());
        assert!(toml::from_str::<SessionVersions>("[ios]\nversion = \"1\"\nx = 1\n").is_err());
        let empty: SessionVersions = toml::from_str("[ios]\nversion = \" \"\n").unwrap();
        assert!(empty.validate().is_err());
    }
}
