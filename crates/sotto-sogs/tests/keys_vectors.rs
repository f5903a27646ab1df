//! The server key file: known-answer derivation, create, load, wrong size.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use sotto_sogs::keys::ServerKeys;
use sotto_sogs::Error;

/// `sogs.md` §2.5: onion test key, X25519 private → public.
const PRIV: &str = "ec32fb5766cf52b1b5d7b0bff08e29f5c0c58ca19beaf6a5c7d3dd8ac7ced963";
const PUB: &str = "d79a50b82ba8ca665f854382b42ba159efd16eef87409e97a8d07395b9492928";

fn bytes(hex_str: &str) -> [u8; 32] {
    hex::decode(hex_str).unwrap().try_into().unwrap()
}

#[test]
fn public_key_known_answer() {
    let keys = ServerKeys::from_bytes(bytes(PRIV));
    assert_eq!(keys.x25519_public().to_hex(), PUB);
    assert_eq!(keys.system_user_id(), format!("ff{PUB}"));
    // The Ed25519 key uses the same 32 bytes as its seed.
    let ed = ed25519_dalek::SigningKey::from_bytes(&bytes(PRIV));
    assert_eq!(keys.ed25519_public().0, ed.verifying_key().to_bytes());
}

#[test]
fn load_existing_raw_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key_x25519");
    std::fs::write(&path, bytes(PRIV)).unwrap();
    let (keys, created) = ServerKeys::load_or_create(&path).unwrap();
    assert!(!created);
    assert_eq!(keys.x25519_public().to_hex(), PUB);
}

#[test]
fn create_then_reload() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key_x25519");
    let (keys, created) = ServerKeys::load_or_create(&path).unwrap();
    assert!(created);
    let raw = std::fs::read(&path).unwrap();
    assert_eq!(raw.len(), 32);
    assert_eq!(
        ServerKeys::from_bytes(raw.try_into().unwrap()).x25519_public(),
        keys.x25519_public()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o400, "PySOGS creates the key file owner-read-only");
    }
    let (again, created) = ServerKeys::load_or_create(&path).unwrap();
    assert!(!created);
    assert_eq!(again.x25519_public(), keys.x25519_public());
}

#[test]
fn wrong_size_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for len in [0usize, 31, 33, 64] {
        let path = dir.path().join(format!("key{len}"));
        std::fs::write(&path, vec![1u8; len]).unwrap();
        match ServerKeys::load_or_create(&path) {
            Err(Error::KeyFileSize { len: found, .. }) => assert_eq!(found, len as u64),
            other => panic!("{len} bytes: {other:?}"),
        }
    }
}

#[test]
fn unreadable_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // A directory cannot be read as a key file, and is not "missing" either.
    let err = ServerKeys::load_or_create(dir.path()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}
