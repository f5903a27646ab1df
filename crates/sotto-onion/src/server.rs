//! A community or file server's side (`sogs.md` §1.7): decrypt what the last hop POSTs to
//! `/oxen/v4/lsrpc` or `/oxen/v3/lsrpc`, and encrypt the answer.

use base64::Engine as _;
use rand_core::{CryptoRng, RngCore};
use serde_json::json;
use sotto_crypto::layer::LayerCipher;

use crate::err::{Error, Result};
use crate::frame::{parse_field, str_field, Combined};
use crate::lsrpc::{V3Request, V4Request, V4Response};
use crate::node::{enc_type, NodeKeys};
use crate::MAX_BODY_SIZE;

/// A decrypted onion request, with the key to answer it.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The decrypted request: bencode for v4, JSON for v3.
    pub payload: Vec<u8>,
    /// Encrypts the answer.
    pub replier: ServerReplier,
}

impl Accepted {
    /// The payload as a v4 request. On error, answer with code 400 and body
    /// `Invalid v4 onion request` (PySOGS), still encrypted.
    pub fn v4_request(&self) -> Result<V4Request> {
        V4Request::decode(&self.payload)
    }

    /// The payload as a v3 request. On error, answer `{"status_code": 400}`, still encrypted.
    pub fn v3_request(&self) -> Result<V3Request> {
        V3Request::decode(&self.payload)
    }
}

/// Decrypt an onion request body with the server's X25519 key pair (libsession
/// `OnionReqParser`): `N ‖ ciphertext ‖ {"ephemeral_key", "enc_type"?, …}`, at most
/// [`MAX_BODY_SIZE`] bytes. Any error here is an HTTP 400 without an encrypted body.
pub fn accept(keys: &NodeKeys, body: &[u8]) -> Result<Accepted> {
    const WHAT: &str = "onion request";
    if body.len() > MAX_BODY_SIZE {
        return Err(Error::TooLarge {
            what: WHAT,
            max: MAX_BODY_SIZE,
            actual: body.len(),
        });
    }
    let combined = Combined::parse(WHAT, body)?;
    let enc_type = enc_type(WHAT, &combined.json)?;
    let ephemeral_key = parse_field(
        WHAT,
        "ephemeral_key",
        str_field(WHAT, &combined.json, "ephemeral_key")?,
    )?;
    let cipher = keys.cipher(enc_type, &ephemeral_key)?;
    let payload = cipher
        .decrypt(combined.blob)
        .map_err(|source| Error::Crypto { what: WHAT, source })?;
    Ok(Accepted {
        payload,
        replier: ServerReplier { cipher },
    })
}

/// Encrypts a server's answer with the request's key and cipher.
#[derive(Debug, Clone)]
pub struct ServerReplier {
    cipher: LayerCipher,
}

impl ServerReplier {
    /// Encrypt arbitrary bytes (`nonce ‖ ciphertext ‖ tag`).
    pub fn encrypt<R: RngCore + CryptoRng>(&self, rng: &mut R, plaintext: &[u8]) -> Vec<u8> {
        self.cipher.encrypt(rng, plaintext)
    }

    /// The v4 answer: the encrypted bencoded response, raw (not base64).
    pub fn reply_v4<R: RngCore + CryptoRng>(&self, rng: &mut R, response: &V4Response) -> Vec<u8> {
        self.encrypt(rng, &response.encode())
    }

    /// The v3 answer: base64 of the encrypted body for a 2xx `status`, otherwise of the encrypted
    /// `{"status_code": status}` (the body is dropped, as PySOGS does).
    pub fn reply_v3<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
        status: u16,
        body: &[u8],
    ) -> Vec<u8> {
        let sealed = if (200..300).contains(&status) {
            self.encrypt(rng, body)
        } else {
            self.encrypt(rng, json!({ "status_code": status }).to_string().as_bytes())
        };
        base64::engine::general_purpose::STANDARD
            .encode(sealed)
            .into_bytes()
    }
}
