//! Request signatures (`storage-rpc.md` §2): who signs, how the signature is encoded, and how it
//! is verified against the account.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use sotto_crypto::{Ed25519PublicKey, Identity};

use crate::err::{Result, RpcError};
use crate::ids::AccountId;

/// Base64 as oxenc decodes it: standard alphabet, `=` padding optional, stray trailing bits
/// ignored (`oxenc/base64.h`, `is_base64` and `from_base64`).
pub(crate) const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The signature part of a signed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auth {
    /// `pubkey_ed25519`: the signing key of a `05` account. Without it a `05` account's X25519
    /// bytes are tried as an Ed25519 key, which fails for real Session IDs.
    pub pubkey_ed25519: Option<[u8; 32]>,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
}

impl Auth {
    /// Sign `msg` (see [`crate::sig`]) as `id` does for its own Session ID account: the
    /// signature plus `pubkey_ed25519`.
    pub fn sign(id: &Identity, msg: &[u8]) -> Self {
        Self {
            pubkey_ed25519: Some(id.ed25519_public().0),
            signature: id.sign(msg),
        }
    }

    /// Read `pubkey_ed25519` and `signature` (which must be present) for `account`, with the
    /// reference's checks and messages (`load_pk_signature`).
    pub(crate) fn from_params(
        account: &AccountId,
        pubkey_ed25519: Option<&str>,
        signature: Option<&str>,
    ) -> Result<Self> {
        let sig = signature.ok_or_else(|| crate::params::missing("signature"))?;
        let pubkey_ed25519 = match pubkey_ed25519 {
            None => None,
            Some(_) if !account.is_session_id() => {
                return Err(RpcError::invalid(
                    "pubkey_ed25519 is only permitted for 05[...] pubkeys",
                ))
            }
            Some(pk) => Some(decode_pubkey_ed25519(pk)?),
        };
        Ok(Self {
            pubkey_ed25519,
            signature: decode_signature(sig)?,
        })
    }

    /// The Ed25519 key that must have made the signature: for a `05` account with
    /// `pubkey_ed25519`, that key if it converts to the account's X25519 key (else `None`);
    /// otherwise the account key itself.
    pub fn signer(&self, account: &AccountId) -> Option<Ed25519PublicKey> {
        match self.pubkey_ed25519 {
            Some(ed) if account.is_session_id() => {
                let ed = Ed25519PublicKey(ed);
                let x = ed.to_x25519().ok()?;
                (x.0 == account.key()).then_some(ed)
            }
            // A parsed request never has this (only 05 accounts may give pubkey_ed25519); the
            // reference then ignores the field.
            _ => Some(Ed25519PublicKey(account.key())),
        }
    }

    /// Whether the signature over `msg` is the account's ([`Auth::signer`]), checked as
    /// strictly as libsodium's `crypto_sign_verify_detached`.
    pub fn verify(&self, account: &AccountId, msg: &[u8]) -> bool {
        self.signer(account)
            .is_some_and(|signer| signer.verify(msg, &self.signature, "request").is_ok())
    }

    /// The signature as the JSON `signature` field (standard base64, padded).
    pub fn signature_base64(&self) -> String {
        STANDARD.encode(self.signature)
    }
}

/// `pubkey_ed25519`: 64 hex digits, or the 32 raw bytes as a string.
fn decode_pubkey_ed25519(pk: &str) -> Result<[u8; 32]> {
    if pk.len() == 64 {
        let mut key = [0u8; 32];
        hex::decode_to_slice(pk, &mut key)
            .map_err(|_| RpcError::invalid("invalid pubkey_ed25519: value is not hex"))?;
        return Ok(key);
    }
    <[u8; 32]>::try_from(pk.as_bytes()).map_err(|_| {
        RpcError::invalid("Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey")
    })
}

/// A JSON signature: standard base64, 86 characters unpadded or 88 ending in `==`. Hex is not
/// accepted (`load_pk_signature`).
pub(crate) fn decode_signature(sig: &str) -> Result<[u8; 64]> {
    let bad = || RpcError::invalid("invalid signature: expected base64 encoded Ed25519 signature");
    let body = match sig.len() {
        86 => sig,
        88 => sig.strip_suffix("==").ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    let bytes = LENIENT_BASE64.decode(body).map_err(|_| bad())?;
    bytes.try_into().map_err(|_| bad())
}

/// Refuse a signed timestamp more than `tolerance` ms from the node's clock `now` with
/// `406 <message>`.
pub(crate) fn check_window(
    timestamp: i64,
    now: i64,
    tolerance: i64,
    message: &'static str,
) -> Result<()> {
    if timestamp < now.saturating_sub(tolerance) || timestamp > now.saturating_add(tolerance) {
        return Err(RpcError::new(406, message));
    }
    Ok(())
}
