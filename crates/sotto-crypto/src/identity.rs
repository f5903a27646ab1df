//! Account seeds and the keys derived from them (`client.md` §1.1).

use std::fmt;

use ed25519_dalek::{Signer, SigningKey};
use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoding::{array, hex_array};
use crate::err::{Error, Result};
use crate::ids::{Ed25519PublicKey, SessionId, X25519PublicKey};

/// Length of a current account seed (the 13-word recovery phrase encodes these 16 bytes).
pub const SEED_LEN: usize = 16;
/// Length of a legacy account seed (old 25-word phrases), used as the Ed25519 seed as-is.
pub const LEGACY_SEED_LEN: usize = 32;

/// The account secret from which every key is derived.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub enum Seed {
    /// A 16-byte seed: the Ed25519 seed is these bytes followed by 16 zero bytes.
    Standard([u8; SEED_LEN]),
    /// A 32-byte legacy seed, used directly as the Ed25519 seed.
    Legacy([u8; LEGACY_SEED_LEN]),
}

impl Seed {
    /// A fresh random 16-byte seed.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut bytes = [0u8; SEED_LEN];
        rng.fill_bytes(&mut bytes);
        Self::Standard(bytes)
    }

    /// A seed from 16 (standard) or 32 (legacy) bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        const EXPECTED: &str = "16 or 32 bytes";
        match bytes.len() {
            SEED_LEN => Ok(Self::Standard(array("seed", EXPECTED, bytes)?)),
            LEGACY_SEED_LEN => Ok(Self::Legacy(array("seed", EXPECTED, bytes)?)),
            actual => Err(Error::BadLength {
                what: "seed",
                expected: EXPECTED,
                actual,
            }),
        }
    }

    /// A seed from 32 hex characters (standard) or 64 (legacy).
    pub fn from_hex(s: &str) -> Result<Self> {
        const EXPECTED: &str = "32 or 64 hex characters";
        match s.len() {
            32 => Ok(Self::Standard(hex_array("seed", EXPECTED, s)?)),
            64 => Ok(Self::Legacy(hex_array("seed", EXPECTED, s)?)),
            actual => Err(Error::BadLength {
                what: "seed",
                expected: EXPECTED,
                actual,
            }),
        }
    }

    /// The seed's own bytes (16 or 32).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Standard(b) => b,
            Self::Legacy(b) => b,
        }
    }

    /// Lowercase hex of the seed's own bytes.
    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes())
    }

    /// The 32-byte Ed25519 seed: `seed ‖ 0x00×16` for a standard seed, the seed itself for a
    /// legacy one (`session-desktop` `generateKeypair`).
    pub fn ed25519_seed(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        match self {
            Self::Standard(b) => out.iter_mut().zip(b).for_each(|(o, i)| *o = *i),
            Self::Legacy(b) => out.copy_from_slice(b),
        }
        out
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secrets, even in debug output.
        match self {
            Self::Standard(_) => f.write_str("Seed::Standard(..)"),
            Self::Legacy(_) => f.write_str("Seed::Legacy(..)"),
        }
    }
}

/// An account's keys: Ed25519 for signing, X25519 for encryption.
#[derive(Clone)]
pub struct Identity {
    signing: SigningKey,
    x25519_secret: Zeroizing<[u8; 32]>,
    x25519_public: X25519PublicKey,
}

impl Identity {
    /// The keys of an account seed.
    pub fn from_seed(seed: &Seed) -> Self {
        Self::from_ed25519_seed(&seed.ed25519_seed())
    }

    /// The keys of a 32-byte Ed25519 seed (libsodium `crypto_sign_seed_keypair`).
    pub fn from_ed25519_seed(seed: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(seed);
        // libsodium's crypto_sign_ed25519_sk_to_curve25519 returns the clamped scalar; keep that
        // form so our secret matches it byte for byte.
        let mut secret = Zeroizing::new(signing.to_scalar_bytes());
        clamp(&mut secret);
        let x25519_public = X25519PublicKey(signing.verifying_key().to_montgomery().to_bytes());
        Self {
            signing,
            x25519_secret: secret,
            x25519_public,
        }
    }

    /// The 32-byte Ed25519 seed.
    pub fn ed25519_seed(&self) -> &[u8; 32] {
        self.signing.as_bytes()
    }

    /// The Ed25519 public key.
    pub fn ed25519_public(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.signing.verifying_key().to_bytes())
    }

    /// The Ed25519 signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The X25519 public key.
    pub fn x25519_public(&self) -> X25519PublicKey {
        self.x25519_public
    }

    /// The clamped X25519 secret (libsodium `crypto_sign_ed25519_sk_to_curve25519`).
    pub fn x25519_secret(&self) -> &[u8; 32] {
        &self.x25519_secret
    }

    /// The account's Session ID.
    pub fn session_id(&self) -> SessionId {
        SessionId::from_x25519(self.x25519_public)
    }

    /// A standard Ed25519 signature.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("session_id", &self.session_id())
            .finish_non_exhaustive()
    }
}

/// X25519 scalar clamping (RFC 7748 §5).
pub(crate) fn clamp(scalar: &mut [u8; 32]) {
    scalar[0] &= 248;
    scalar[31] &= 127;
    scalar[31] |= 64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_parsing_errors() {
        assert!(matches!(
            Seed::from_hex("abcd"),
            Err(Error::BadLength { actual: 4, .. })
        ));
        assert!(matches!(
            Seed::from_hex(&"g".repeat(32)),
            Err(Error::BadHex { .. })
        ));
        assert!(matches!(
            Seed::from_bytes(&[0; 17]),
            Err(Error::BadLength { actual: 17, .. })
        ));
        assert_eq!(
            format!("{:?}", Seed::Standard([7; 16])),
            "Seed::Standard(..)"
        );
    }

    #[test]
    fn standard_seed_pads_with_zeros() {
        let seed = Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(
            hex::encode(*seed.ed25519_seed()),
            "0123456789abcdef0123456789abcdef00000000000000000000000000000000"
        );
    }
}
