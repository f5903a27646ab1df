//! Blinded community DMs (`client.md` §2.4; libsession `encrypt_for_blinded_recipient`,
//! `decrypt_from_blinded_recipient`): messages between two blinded IDs on one community server,
//! stored by the server in its inbox/outbox.
//!
//! The key is BLAKE2b-256(shared point ‖ sender's blinded key ‖ recipient's blinded key), where
//! the shared point is `a·jB` for 15-blinding (both sides use the same factor) and `(k·a)·jB` for
//! 25. The plaintext is `message ‖ A` (the sender's real Ed25519 key) so that the recipient
//! learns, and checks, who the sender really is. Wire form: `0x00 ‖ XChaCha20-Poly1305 ‖ nonce`.

use blake2::digest::consts::U32;
use blake2::digest::Digest;
use blake2::Blake2b;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::XChaCha20Poly1305;
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::Scalar;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::blinding::{blind15_candidates, blind25_factor, blind25_id, BlindedKeyPair};
use crate::err::{Error, Result};
use crate::identity::Identity;
use crate::ids::{BlindedId, BlindingKind, Ed25519PublicKey, SessionId, X25519PublicKey};

/// Version byte that starts every blinded DM (libsession `BLINDED_ENCRYPT_VERSION`).
pub const BLINDED_DM_VERSION: u8 = 0;
/// XChaCha20-Poly1305 nonce length.
const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
const TAG_LEN: usize = 16;
/// The smallest valid DM: version, tag, nonce and the sender's 32-byte key.
pub const MIN_BLINDED_DM_LEN: usize = 1 + TAG_LEN + NONCE_LEN + 32;

const WHAT: &str = "blinded DM";

/// A blinded DM opened by its recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedDm {
    /// The message.
    pub plaintext: Vec<u8>,
    /// The sender's real Ed25519 key, checked against its blinded ID.
    pub sender_ed25519: Ed25519PublicKey,
    /// The sender's Session ID.
    pub sender: SessionId,
}

/// Our blinded key pair of the same kind as `other`, and the scalar we multiply `other` by.
fn own_side(
    identity: &Identity,
    server: &X25519PublicKey,
    kind: BlindingKind,
) -> Result<(BlindedKeyPair, Zeroizing<[u8; 32]>)> {
    let pair = BlindedKeyPair::new(identity, server, kind)?;
    let a = Scalar::from_bytes_mod_order(*identity.x25519_secret());
    let scalar = match kind {
        // 15: both sides' factor is the same k, so a·(k·b·G) = b·(k·a·G).
        BlindingKind::Blind15 => a,
        // 25: factors differ per account; multiply by our own (sign-adjusted) factor.
        BlindingKind::Blind25 => {
            let mut k = blind25_factor(&identity.session_id(), server);
            if identity.ed25519_public().0[31] & 0x80 != 0 {
                k = -k;
            }
            k * a
        }
    };
    Ok((pair, Zeroizing::new(scalar.to_bytes())))
}

/// BLAKE2b-256(scalar·other ‖ sender key ‖ recipient key).
fn shared_key(
    scalar: &[u8; 32],
    other: &Ed25519PublicKey,
    sender: &Ed25519PublicKey,
    recipient: &Ed25519PublicKey,
) -> Result<Zeroizing<[u8; 32]>> {
    // The checks of libsodium's `crypto_scalarmult_ed25519_noclamp`, which libsession uses here:
    // canonical encoding, not small-order, in the prime-order subgroup.
    let point = CompressedEdwardsY(other.0)
        .decompress()
        .filter(|p| p.compress().0 == other.0 && !p.is_small_order() && p.is_torsion_free())
        .ok_or(Error::BadPoint {
            what: "blinded public key",
        })?;
    let shared = Zeroizing::new((Scalar::from_bytes_mod_order(*scalar) * point).compress().0);
    let mut h = Blake2b::<U32>::new();
    h.update(shared.as_slice());
    h.update(sender.as_bytes());
    h.update(recipient.as_bytes());
    Ok(Zeroizing::new(h.finalize().into()))
}

/// Encrypt `message` from `sender` to the blinded ID `recipient` on `server`.
pub fn encrypt_for_blinded_recipient<R: RngCore + CryptoRng>(
    sender: &Identity,
    server: &X25519PublicKey,
    recipient: &BlindedId,
    message: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let (pair, scalar) = own_side(sender, server, recipient.kind())?;
    let key = shared_key(&scalar, recipient.key(), pair.public_key(), recipient.key())?;

    let mut inner = Zeroizing::new(Vec::with_capacity(message.len() + 32));
    inner.extend_from_slice(message);
    inner.extend_from_slice(sender.ed25519_public().as_bytes());

    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let sealed = XChaCha20Poly1305::new(key.as_ref().into())
        .encrypt(&nonce.into(), inner.as_slice())
        .map_err(|_| Error::TooLong {
            what: WHAT,
            max: u32::MAX as usize,
            actual: message.len(),
        })?;
    let mut out = Vec::with_capacity(1 + sealed.len() + NONCE_LEN);
    out.push(BLINDED_DM_VERSION);
    out.extend_from_slice(&sealed);
    out.extend_from_slice(&nonce);
    Ok(out)
}

/// Split `0x00 ‖ ciphertext ‖ nonce` and decrypt it with `key`.
fn open(key: &[u8; 32], data: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if data.len() < MIN_BLINDED_DM_LEN {
        return Err(Error::TooShort {
            what: WHAT,
            min: MIN_BLINDED_DM_LEN,
            actual: data.len(),
        });
    }
    let (&version, rest) = data.split_first().ok_or(Error::Decrypt { what: WHAT })?;
    if version != BLINDED_DM_VERSION {
        return Err(Error::BadPrefix {
            what: WHAT,
            expected: "version byte 00",
            found: format!("{version:02x}"),
        });
    }
    let (sealed, nonce) = rest
        .split_at_checked(rest.len() - NONCE_LEN)
        .ok_or(Error::Decrypt { what: WHAT })?;
    let nonce: [u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| Error::Decrypt { what: WHAT })?;
    XChaCha20Poly1305::new(key.into())
        .decrypt(&nonce.into(), sealed)
        .map(Zeroizing::new)
        .map_err(|_| Error::Decrypt { what: WHAT })
}

/// Split `message ‖ A`.
fn split_sender(inner: &[u8]) -> Result<(&[u8], Ed25519PublicKey)> {
    let (message, a) = inner.split_last_chunk::<32>().ok_or(Error::TooShort {
        what: WHAT,
        min: 32,
        actual: inner.len(),
    })?;
    Ok((message, Ed25519PublicKey(*a)))
}

/// Open a DM that the blinded ID `sender` sent to `recipient` on `server`, and check that the
/// sender's real key matches its blinded ID.
pub fn decrypt_from_blinded_sender(
    recipient: &Identity,
    server: &X25519PublicKey,
    sender: &BlindedId,
    data: &[u8],
) -> Result<OpenedDm> {
    let (pair, scalar) = own_side(recipient, server, sender.kind())?;
    let key = shared_key(&scalar, sender.key(), sender.key(), pair.public_key())?;
    let inner = open(&key, data)?;
    let (message, sender_ed25519) = split_sender(&inner)?;
    let sender_id = SessionId::from_x25519(sender_ed25519.to_x25519()?);
    let matches = match sender.kind() {
        BlindingKind::Blind15 => blind15_candidates(&sender_id, server)?.contains(sender),
        BlindingKind::Blind25 => blind25_id(&sender_id, server)? == *sender,
    };
    if !matches {
        return Err(Error::BadSignature {
            what: "blinded DM sender (its key does not match its blinded ID)",
        });
    }
    Ok(OpenedDm {
        plaintext: message.to_vec(),
        sender_ed25519,
        sender: sender_id,
    })
}

/// Read back a DM `sender` itself sent to `recipient` (the server's outbox).
pub fn decrypt_own_outgoing(
    sender: &Identity,
    server: &X25519PublicKey,
    recipient: &BlindedId,
    data: &[u8],
) -> Result<Vec<u8>> {
    let (pair, scalar) = own_side(sender, server, recipient.kind())?;
    let key = shared_key(&scalar, recipient.key(), pair.public_key(), recipient.key())?;
    let inner = open(&key, data)?;
    let (message, a) = split_sender(&inner)?;
    if a != sender.ed25519_public() {
        return Err(Error::BadSignature {
            what: "blinded DM (not sent by this account)",
        });
    }
    Ok(message.to_vec())
}
