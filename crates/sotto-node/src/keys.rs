//! The node's identity: an Ed25519 key (its name in the network, and the key that signs its
//! answers) and the X25519 key derived from it (for onion layers), kept in the data directory.

use std::fs;
use std::path::Path;

use rand_core::{OsRng, RngCore};
use sotto_crypto::{Ed25519PublicKey, Identity, X25519PublicKey};

use crate::err::{Error, Result};

/// File holding the 32-byte Ed25519 seed, raw.
pub const KEY_FILE: &str = "key_ed25519";

/// The node's keys.
#[derive(Clone)]
pub struct NodeKeys {
    identity: Identity,
}

impl std::fmt::Debug for NodeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeKeys")
            .field("ed25519", &self.ed25519())
            .finish_non_exhaustive()
    }
}

impl NodeKeys {
    /// Load the keys from `dir`, creating them (mode 0600) if absent.
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        let path = dir.join(KEY_FILE);
        let seed: [u8; 32] = match fs::read(&path) {
            Ok(bytes) => bytes.try_into().map_err(|b: Vec<u8>| Error::BadKeyFile {
                path: path.display().to_string(),
                len: b.len(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir_all(dir)?;
                let mut seed = [0u8; 32];
                OsRng.fill_bytes(&mut seed);
                sotto_https::write_private(&path, &seed)?;
                seed
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Self {
            identity: Identity::from_ed25519_seed(&seed),
        })
    }

    /// The Ed25519 public key: the node's name.
    pub fn ed25519(&self) -> Ed25519PublicKey {
        self.identity.ed25519_public()
    }

    /// The X25519 public key, for onion layers.
    pub fn x25519(&self) -> X25519PublicKey {
        self.identity.x25519_public()
    }

    /// The X25519 secret.
    pub fn x25519_secret(&self) -> &[u8; 32] {
        self.identity.x25519_secret()
    }

    /// The node's identity (for signing with libraries that take one).
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Sign with the node's Ed25519 key.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.identity.sign(msg)
    }
}
