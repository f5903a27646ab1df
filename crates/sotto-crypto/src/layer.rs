//! Onion-request layer ciphers (`sogs.md` §1.7, `onion.md` §7): the symmetric encryption of one
//! onion layer between a client's ephemeral X25519 key and a node's or server's X25519 key.
//!
//! Both sides derive the same key from the X25519 shared secret. `aes-gcm` uses
//! HMAC-SHA256(key = `"LOKI"`, shared); `xchacha20` uses BLAKE2b-256(shared ‖ client public ‖
//! server public) — the order is fixed by role, not by who computes it.

use std::fmt;
use std::str::FromStr;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::Aes256Gcm;
use blake2::digest::consts::U32;
use blake2::digest::Digest;
use blake2::Blake2b;
use chacha20poly1305::XChaCha20Poly1305;
use curve25519_dalek::{EdwardsPoint, MontgomeryPoint};
use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::err::{Error, Result};
use crate::ids::X25519PublicKey;

/// AES-GCM nonce length (libsession `hop_encryption.cpp`).
pub const AES_GCM_NONCE_LEN: usize = 12;
/// XChaCha20-Poly1305 nonce length.
pub const XCHACHA20_NONCE_LEN: usize = 24;
/// Authentication tag length of both ciphers.
pub const TAG_LEN: usize = 16;
/// HMAC key of the aes-gcm key derivation (libsession `hop_encryption.cpp`, oxen-storage-server
/// `channel_encryption.cpp`).
const AES_GCM_KDF_KEY: &[u8] = b"LOKI";

/// Which cipher a layer uses (`enc_type` in onion requests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EncType {
    /// AES-256-GCM; the default when `enc_type` is absent.
    #[default]
    AesGcm,
    /// XChaCha20-Poly1305.
    XChaCha20,
}

impl EncType {
    /// The canonical wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AesGcm => "aes-gcm",
            Self::XChaCha20 => "xchacha20",
        }
    }

    /// Nonce length of this cipher.
    pub fn nonce_len(self) -> usize {
        match self {
            Self::AesGcm => AES_GCM_NONCE_LEN,
            Self::XChaCha20 => XCHACHA20_NONCE_LEN,
        }
    }

    /// Bytes a layer adds to its plaintext (nonce and tag).
    pub fn overhead(self) -> usize {
        self.nonce_len() + TAG_LEN
    }
}

impl fmt::Display for EncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EncType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        // The spellings oxen-storage-server and libsession accept.
        match s {
            "aes-gcm" | "gcm" => Ok(Self::AesGcm),
            "xchacha20" | "xchacha20-poly1305" => Ok(Self::XChaCha20),
            other => Err(Error::UnknownEncType(other.to_owned())),
        }
    }
}

/// The symmetric key of one layer, with its cipher.
#[derive(Clone)]
pub struct LayerCipher {
    enc_type: EncType,
    key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for LayerCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerCipher")
            .field("enc_type", &self.enc_type)
            .finish_non_exhaustive()
    }
}

impl LayerCipher {
    /// The client's side: its ephemeral key pair and the node's or server's public key.
    pub fn client(
        enc_type: EncType,
        client_secret: &[u8; 32],
        client_public: &X25519PublicKey,
        server_public: &X25519PublicKey,
    ) -> Result<Self> {
        let shared = shared_secret(client_secret, server_public)?;
        Ok(Self::derive(
            enc_type,
            &shared,
            client_public,
            server_public,
        ))
    }

    /// The node's or server's side: its own key pair and the client's ephemeral public key.
    pub fn server(
        enc_type: EncType,
        server_secret: &[u8; 32],
        server_public: &X25519PublicKey,
        client_public: &X25519PublicKey,
    ) -> Result<Self> {
        let shared = shared_secret(server_secret, client_public)?;
        Ok(Self::derive(
            enc_type,
            &shared,
            client_public,
            server_public,
        ))
    }

    fn derive(
        enc_type: EncType,
        shared: &[u8; 32],
        client_public: &X25519PublicKey,
        server_public: &X25519PublicKey,
    ) -> Self {
        let key = match enc_type {
            EncType::AesGcm => {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(AES_GCM_KDF_KEY)
                    .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
                mac.update(shared);
                mac.finalize().into_bytes().into()
            }
            EncType::XChaCha20 => {
                let mut h = Blake2b::<U32>::new();
                h.update(shared);
                h.update(client_public.as_bytes());
                h.update(server_public.as_bytes());
                h.finalize().into()
            }
        };
        Self {
            enc_type,
            key: Zeroizing::new(key),
        }
    }

    /// The cipher of this layer.
    pub fn enc_type(&self) -> EncType {
        self.enc_type
    }

    /// Encrypt with a fresh random nonce: `nonce ‖ ciphertext ‖ tag`.
    pub fn encrypt<R: RngCore + CryptoRng>(&self, rng: &mut R, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; XCHACHA20_NONCE_LEN];
        let nonce = nonce
            .get_mut(..self.enc_type.nonce_len())
            .unwrap_or_default();
        rng.fill_bytes(nonce);
        self.encrypt_with_nonce(nonce, plaintext)
            .unwrap_or_default()
    }

    /// Encrypt with the given nonce (which must have the cipher's nonce length). Only for tests
    /// and known-answer vectors: reusing a nonce breaks both ciphers.
    pub fn encrypt_with_nonce(&self, nonce: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let expected = self.enc_type.nonce_len();
        if nonce.len() != expected {
            return Err(Error::BadLength {
                what: "layer nonce",
                expected: match self.enc_type {
                    EncType::AesGcm => "12 bytes",
                    EncType::XChaCha20 => "24 bytes",
                },
                actual: nonce.len(),
            });
        }
        let sealed = match self.enc_type {
            EncType::AesGcm => {
                Aes256Gcm::new(self.key.as_ref().into()).encrypt(nonce.into(), plaintext)
            }
            EncType::XChaCha20 => {
                XChaCha20Poly1305::new(self.key.as_ref().into()).encrypt(nonce.into(), plaintext)
            }
        }
        .map_err(|_| Error::TooLong {
            what: "layer plaintext",
            max: u32::MAX as usize,
            actual: plaintext.len(),
        })?;
        let mut out = Vec::with_capacity(nonce.len() + sealed.len());
        out.extend_from_slice(nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypt `nonce ‖ ciphertext ‖ tag`.
    pub fn decrypt(&self, blob: &[u8]) -> Result<Vec<u8>> {
        let what = "onion layer";
        if blob.len() < self.enc_type.overhead() {
            return Err(Error::TooShort {
                what,
                min: self.enc_type.overhead(),
                actual: blob.len(),
            });
        }
        let (nonce, sealed) = blob
            .split_at_checked(self.enc_type.nonce_len())
            .ok_or(Error::Decrypt { what })?;
        match self.enc_type {
            EncType::AesGcm => {
                Aes256Gcm::new(self.key.as_ref().into()).decrypt(nonce.into(), sealed)
            }
            EncType::XChaCha20 => {
                XChaCha20Poly1305::new(self.key.as_ref().into()).decrypt(nonce.into(), sealed)
            }
        }
        .map_err(|_| Error::Decrypt { what })
    }
}

/// X25519, refusing the all-zero result of a small-order peer key.
fn shared_secret(secret: &[u8; 32], public: &X25519PublicKey) -> Result<Zeroizing<[u8; 32]>> {
    let shared = Zeroizing::new(x25519(secret, &public.0));
    if shared.iter().all(|&b| b == 0) {
        return Err(Error::BadPoint {
            what: "X25519 public key",
        });
    }
    Ok(shared)
}

/// The X25519 function (RFC 7748), computed on the Edwards form when the peer's u-coordinate is
/// on the curve: curve25519-dalek's variable-base Edwards multiplication uses its AVX2 backend
/// where the CPU has one, which the Montgomery ladder cannot, and this is what bounds how many
/// onion layers a node peels per second (`docs/benchmarks.md`). The u-coordinate of `[k]P` does
/// not depend on the sign chosen for `P`, and the birational map sends `[k]P` on one form to
/// `[k]P` on the other, so the result is the ladder's, bit for bit; points on the twist (which
/// have no Edwards form) take the ladder. Tested against `x25519-dalek` on random inputs.
pub fn x25519(secret: &[u8; 32], public: &[u8; 32]) -> [u8; 32] {
    let point = MontgomeryPoint(*public);
    match point.to_edwards(0) {
        Some(edwards) => edwards.mul_clamped(*secret).to_montgomery().0,
        None => point.mul_clamped(*secret).0,
    }
}

/// The X25519 public key of a secret (fixed-base, with curve25519-dalek's precomputed table).
pub fn x25519_public(secret: &[u8; 32]) -> X25519PublicKey {
    X25519PublicKey(EdwardsPoint::mul_base_clamped(*secret).to_montgomery().0)
}
