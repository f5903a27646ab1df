//! The server key file (`[crypto] key_file`, default `key_x25519`).
//!
//! PySOGS (`sogs/crypto.py`) keeps the server's X25519 private key as the 32 raw bytes of the
//! file, creates it on first start with mode 0400 (owner read-only) and never rewrites it. The
//! public half is the `public_key` of join URLs and the key clients sign requests for; the same
//! 32 bytes also serve as an Ed25519 seed (legacy tokens, filter bot). We do the same.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use sotto_crypto::{Ed25519PublicKey, X25519PublicKey};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::err::{Error, Result};

/// Size of the key file: one X25519 private key.
pub const KEY_FILE_LEN: usize = 32;

/// Permissions PySOGS gives a new key file (`os.open(…, 0o400)` in `sogs/crypto.py`).
#[cfg(unix)]
const KEY_FILE_MODE: u32 = 0o400;

/// The server's long-term keys, all from the 32 bytes of the key file.
pub struct ServerKeys {
    secret: StaticSecret,
    public: X25519PublicKey,
    signing: SigningKey,
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerKeys({})", self.public.to_hex())
    }
}

impl ServerKeys {
    /// Keys from the 32 private-key bytes.
    pub fn from_bytes(bytes: [u8; KEY_FILE_LEN]) -> Self {
        let bytes = Zeroizing::new(bytes);
        let secret = StaticSecret::from(*bytes);
        let public = X25519PublicKey(PublicKey::from(&secret).to_bytes());
        let signing = SigningKey::from_bytes(&bytes);
        Self {
            secret,
            public,
            signing,
        }
    }

    /// Fresh random keys (not written anywhere).
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_FILE_LEN]);
        OsRng.fill_bytes(bytes.as_mut_slice());
        Self::from_bytes(*bytes)
    }

    /// Load the key file at `path`, creating it with a new random key (mode 0400) if it does
    /// not exist. Returns the keys and whether the file was created.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool)> {
        match Self::load(path) {
            Ok(keys) => Ok((keys, false)),
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                let keys = Self::generate();
                keys.write_new(path)?;
                Ok((keys, true))
            }
            Err(e) => Err(e),
        }
    }

    /// Load an existing key file; it must hold exactly 32 bytes.
    pub fn load(path: &Path) -> Result<Self> {
        let io = |source| Error::Io {
            what: "cannot read key file",
            path: path.to_owned(),
            source,
        };
        let bytes = Zeroizing::new(fs::read(path).map_err(io)?);
        let array: [u8; KEY_FILE_LEN] =
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| Error::KeyFileSize {
                    path: path.to_owned(),
                    len: bytes.len() as u64,
                })?;
        Ok(Self::from_bytes(array))
    }

    /// Write these keys to a new file at `path` (fails if it exists).
    pub fn write_new(&self, path: &Path) -> Result<()> {
        let io = |source| Error::Io {
            what: "cannot create key file",
            path: PathBuf::from(path),
            source,
        };
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(KEY_FILE_MODE);
        }
        let mut file = options.open(path).map_err(io)?;
        let bytes = Zeroizing::new(self.secret.to_bytes());
        file.write_all(bytes.as_slice()).map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// The X25519 public key: `public_key` in join URLs, signed over by clients.
    pub fn x25519_public(&self) -> X25519PublicKey {
        self.public
    }

    /// The X25519 private key, for onion-request and DM key agreement.
    pub fn x25519_secret(&self) -> &StaticSecret {
        &self.secret
    }

    /// The Ed25519 key that uses the same 32 bytes as its seed (PySOGS `_privkey` as a
    /// `SigningKey`).
    pub fn ed25519_signing(&self) -> &SigningKey {
        &self.signing
    }

    /// The public half of [`Self::ed25519_signing`].
    pub fn ed25519_public(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.signing.verifying_key().to_bytes())
    }

    /// Session ID of the internal system user: `ff` ‖ server X25519 public key (`sogs/db.py`).
    pub fn system_user_id(&self) -> String {
        format!("ff{}", self.public.to_hex())
    }
}
