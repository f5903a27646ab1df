//! The server's identity: a 32-byte Ed25519 seed in `DATA_DIR/key_ed25519` (mode 0600) and the
//! X25519 key derived from it, as Sotto nodes derive theirs. Clients encrypt onion requests to
//! the X25519 key.

use std::fs;
use std::path::Path;

use rand_core::{OsRng, RngCore};
use sotto_crypto::{Ed25519PublicKey, Identity, X25519PublicKey};

use crate::err::{Error, Result};

/// File holding the raw 32-byte Ed25519 seed.
pub const KEY_FILE: &str = "key_ed25519";

/// The server's keys.
#[derive(Clone)]
pub struct ServerKeys {
    identity: Identity,
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeys")
            .field("ed25519", &self.ed25519().to_hex())
            .finish_non_exhaustive()
    }
}

impl ServerKeys {
    /// Load the key from `dir`, creating the directory and a new key (mode 0600) if absent.
    /// Returns whether it was created.
    pub fn load_or_create(dir: &Path) -> Result<(Self, bool)> {
        let path = dir.join(KEY_FILE);
        let (seed, created): ([u8; 32], bool) = match fs::read(&path) {
            Ok(bytes) => (
                bytes.try_into().map_err(|b: Vec<u8>| Error::BadKeyFile {
                    path: path.clone(),
                    len: b.len(),
                })?,
                false,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
                let mut seed = [0u8; 32];
                OsRng.fill_bytes(&mut seed);
                sotto_https::write_private(&path, &seed)?;
                (seed, true)
            }
            Err(e) => return Err(Error::io("reading", &path)(e)),
        };
        Ok((
            Self {
                identity: Identity::from_ed25519_seed(&seed),
            },
            created,
        ))
    }

    /// The Ed25519 public key: the server's name in attachment URLs (`#p=`).
    pub fn ed25519(&self) -> Ed25519PublicKey {
        self.identity.ed25519_public()
    }

    /// The X25519 public key onion requests are encrypted to.
    pub fn x25519(&self) -> X25519PublicKey {
        self.identity.x25519_public()
    }

    /// The key as the onion layer uses it.
    pub fn onion_keys(&self) -> sotto_onion::node::NodeKeys {
        sotto_onion::node::NodeKeys::new(*self.identity.x25519_secret())
    }

    /// `{"pubkey_ed25519": hex, "pubkey_x25519": hex}`, as `sotto-fileserver keys` prints it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "pubkey_ed25519": self.ed25519().to_hex(),
            "pubkey_x25519": self.x25519().to_hex(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let (a, created) = ServerKeys::load_or_create(dir.path()).unwrap();
        assert!(created);
        let (b, created) = ServerKeys::load_or_create(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(a.to_json(), b.to_json());
        assert_eq!(a.ed25519().to_x25519().unwrap(), a.x25519());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(dir.path().join(KEY_FILE), [1u8; 5]).unwrap();
        assert!(matches!(
            ServerKeys::load_or_create(dir.path()),
            Err(Error::BadKeyFile { len: 5, .. })
        ));
    }
}
