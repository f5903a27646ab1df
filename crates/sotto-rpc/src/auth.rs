//! Request signatures (`storage-rpc.md` §2): who signs, how the signature is encoded, and how it
//! is verified against the account.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sotto_crypto::Ed25519PublicKey;

use crate::err::{Result, RpcError};
use crate::ids::AccountId;
use crate::params::{missing, Params};

/// The signature part of a signed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auth {
    /// `pubkey_ed25519`: the signing key of a `05` account.
    pub pubkey_ed25519: Option<[u8; 32]>,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
}

impl Auth {
    /// Parse `pubkey_ed25519` and `signature` (required) for `account`.
    pub(crate) fn parse(params: Params<'_>, account: &AccountId) -> Result<Self> {
        let sig = params
            .string("signature")?
            .ok_or_else(|| missing("signature"))?;
        let pubkey_ed25519 = match params.string("pubkey_ed25519")? {
            None => None,
            Some(pk) => {
                if account.prefix() != 0x05 {
                    return Err(RpcError::invalid(
                        "pubkey_ed25519 is only permitted for 05[...] pubkeys",
                    ));
                }
                if pk.len() != 64 {
                    return Err(RpcError::invalid(
                        "Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey",
                    ));
                }
                let mut key = [0u8; 32];
                hex::decode_to_slice(pk, &mut key)
                    .map_err(|_| RpcError::invalid("invalid pubkey_ed25519: value is not hex"))?;
                Some(key)
            }
        };
        Ok(Self {
            pubkey_ed25519,
            signature: decode_signature(sig)?,
        })
    }

    /// Whether the signature over `msg` is the account's: for a `05` account, by the key in
    /// `pubkey_ed25519`, which must convert to the account's X25519 key; otherwise by the
    /// account key itself.
    pub fn verify(&self, account: &AccountId, msg: &[u8]) -> bool {
        let signer = match self.pubkey_ed25519 {
            Some(ed) => {
                let ed = Ed25519PublicKey(ed);
                match ed.to_x25519() {
                    Ok(x) if x.0 == account.key() => ed,
                    _ => return false,
                }
            }
            None => Ed25519PublicKey(account.key()),
        };
        signer.verify(msg, &self.signature, "request").is_ok()
    }

    /// The signature as the JSON `signature` field (standard base64, padded).
    pub fn signature_base64(&self) -> String {
        STANDARD.encode(self.signature)
    }
}

/// A JSON signature: standard base64, 86 characters unpadded or 88 ending in `==`.
fn decode_signature(sig: &str) -> Result<[u8; 64]> {
    let bad = || RpcError::invalid("invalid signature: expected base64 encoded Ed25519 signature");
    let body = match sig.len() {
        86 => sig,
        88 => sig.strip_suffix("==").ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(body)
        .map_err(|_| bad())?;
    bytes.try_into().map_err(|_| bad())
}

/// Check a signed timestamp against the node's clock.
pub(crate) fn check_window(
    timestamp: i64,
    now: i64,
    tolerance: i64,
    message: &'static str,
) -> Result<()> {
    if (timestamp - now).abs() > tolerance {
        return Err(RpcError::new(406, message));
    }
    Ok(())
}
