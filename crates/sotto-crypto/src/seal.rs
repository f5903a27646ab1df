//! 1:1 message encryption, "Session protocol v1" (`client.md` §2.1).
//!
//! The sender signs `M ‖ A ‖ Y` (message, its Ed25519 key, the recipient's X25519 key) and seals
//! `M ‖ A ‖ signature` to the recipient with libsodium's `crypto_box_seal`. There is no forward
//! secrecy; the signature binds the message to its recipient, so it cannot be re-sealed to
//! someone else.

use blake2::digest::consts::{U24, U32};
use blake2::digest::{Digest, Mac};
use blake2::{Blake2b, Blake2bMac};
use crypto_box::aead::Aead;
use curve25519_dalek::{EdwardsPoint, Scalar};
use rand_core::{CryptoRng, RngCore};
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::err::{Error, Result};
use crate::identity::Identity;
use crate::ids::{Ed25519PublicKey, SessionId, X25519PublicKey};

/// Bytes a sealed box adds: ephemeral public key (32) and Poly1305 tag (16) (libsodium
/// `crypto_box_SEALBYTES`).
pub const SEAL_OVERHEAD: usize = 48;
/// Bytes the sender appends inside the box: its Ed25519 key (32) and signature (64).
pub const SIGNATURE_OVERHEAD: usize = 96;
/// Total bytes v1 encryption adds to the (padded) message.
pub const OVERHEAD: usize = SEAL_OVERHEAD + SIGNATURE_OVERHEAD;

/// BLAKE2b key of the deterministic variant's ephemeral seed (libsession `session_encrypt.cpp`).
const EPHEMERAL_HASH_KEY: &[u8] = b"SessionBoxEphemeralHashKey";

/// A message opened by [`decrypt_incoming`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The message as the sender signed it (still padded, if the sender padded it).
    pub plaintext: Vec<u8>,
    /// The sender's Ed25519 public key.
    pub sender_ed25519: Ed25519PublicKey,
    /// The sender's Session ID, derived from its Ed25519 key.
    pub sender: SessionId,
}

/// `M ‖ A ‖ Ed25519-sign(M ‖ A ‖ Y)`, the plaintext of the sealed box.
fn signed_inner(sender: &Identity, recipient: &X25519PublicKey, message: &[u8]) -> Vec<u8> {
    let a = sender.ed25519_public();
    let mut inner = Vec::with_capacity(message.len() + SIGNATURE_OVERHEAD);
    inner.extend_from_slice(message);
    inner.extend_from_slice(a.as_bytes());
    let mut signed = inner.clone();
    signed.extend_from_slice(recipient.as_bytes());
    inner.extend_from_slice(&sender.sign(&signed));
    inner
}

/// Encrypt `message` from `sender` to `recipient` (libsession `encrypt_for_recipient`).
pub fn encrypt_for_recipient<R: RngCore + CryptoRng>(
    sender: &Identity,
    recipient: &X25519PublicKey,
    message: &[u8],
    rng: &mut R,
) -> Vec<u8> {
    let inner = signed_inner(sender, recipient, message);
    let public = crypto_box::PublicKey::from_bytes(recipient.0);
    // The only error XSalsa20-Poly1305 reports is a message longer than 256 GiB, which no caller
    // can hold in memory next to its copy; an empty result would fail to open, never mislead.
    public.seal(rng, &inner).unwrap_or_default()
}

/// The deterministic variant (libsession `encrypt_for_recipient_deterministic`): the ephemeral
/// key is derived from the sender's seed, the recipient and the message, so equal inputs give equal
/// output. Only for messages to oneself, where that leaks nothing.
pub fn encrypt_for_recipient_deterministic(
    sender: &Identity,
    recipient: &X25519PublicKey,
    message: &[u8],
) -> Vec<u8> {
    let inner = signed_inner(sender, recipient, message);

    let mut mac = <Blake2bMac<U32> as Mac>::new_from_slice(EPHEMERAL_HASH_KEY)
        .unwrap_or_else(|_| unreachable!("a 26-byte BLAKE2b key is valid"));
    mac.update(sender.ed25519_seed());
    mac.update(recipient.as_bytes());
    mac.update(message);
    let ephemeral_seed = Zeroizing::new(mac.finalize().into_bytes());

    // libsodium crypto_box_seed_keypair: the secret is the first half of SHA-512(seed).
    let hash = Zeroizing::new(Sha512::digest(ephemeral_seed.as_slice()));
    let mut secret_bytes = Zeroizing::new([0u8; 32]);
    secret_bytes
        .iter_mut()
        .zip(hash.iter())
        .for_each(|(s, h)| *s = *h);
    let secret = crypto_box::SecretKey::from_bytes(*secret_bytes);
    let ephemeral_public = secret.public_key();

    let nonce = seal_nonce(ephemeral_public.as_bytes(), recipient.as_bytes());
    let salsa = crypto_box::SalsaBox::new(&crypto_box::PublicKey::from_bytes(recipient.0), &secret);
    // As in `encrypt_for_recipient`, encryption can only fail for impossible lengths.
    let boxed = salsa
        .encrypt(&nonce.into(), inner.as_slice())
        .unwrap_or_default();

    let mut out = Vec::with_capacity(32 + boxed.len());
    out.extend_from_slice(ephemeral_public.as_bytes());
    out.extend_from_slice(&boxed);
    out
}

/// A decoy Session Pro signature for `Envelope.proSig`: a well-formed Ed25519 signature
/// (`R = r·B`, `s` a reduced scalar, both random) that verifies against nothing.
///
/// Current libsession (`session_protocol.cpp`, `encode_for_destination`) attaches one to every 1:1
/// and group envelope without a Pro key, so that Pro and non-Pro messages look alike on the wire.
pub fn decoy_pro_signature<R: RngCore + CryptoRng>(rng: &mut R) -> [u8; 64] {
    let r = Scalar::random(rng);
    let s = Scalar::random(rng);
    let mut sig = [0u8; 64];
    let (r_half, s_half) = sig.split_at_mut(32);
    r_half.copy_from_slice(EdwardsPoint::mul_base(&r).compress().as_bytes());
    s_half.copy_from_slice(s.as_bytes());
    sig
}

/// The sealed-box nonce: BLAKE2b-192(ephemeral public ‖ recipient public).
fn seal_nonce(ephemeral: &[u8; 32], recipient: &[u8; 32]) -> [u8; 24] {
    let mut h = Blake2b::<U24>::new();
    h.update(ephemeral);
    h.update(recipient);
    h.finalize().into()
}

/// Open a v1 message addressed to `recipient` and check the sender's signature.
pub fn decrypt_incoming(recipient: &Identity, ciphertext: &[u8]) -> Result<Opened> {
    if ciphertext.len() < OVERHEAD {
        return Err(Error::TooShort {
            what: "1:1 message ciphertext",
            min: OVERHEAD,
            actual: ciphertext.len(),
        });
    }
    let secret = crypto_box::SecretKey::from_bytes(*recipient.x25519_secret());
    let inner = Zeroizing::new(secret.unseal(ciphertext).map_err(|_| Error::Decrypt {
        what: "1:1 message",
    })?);
    let body_len = inner.len().saturating_sub(SIGNATURE_OVERHEAD);
    let (message, tail) = inner.split_at_checked(body_len).ok_or(Error::TooShort {
        what: "1:1 message plaintext",
        min: SIGNATURE_OVERHEAD,
        actual: inner.len(),
    })?;
    let (a, sig) = tail.split_first_chunk::<32>().ok_or(Error::TooShort {
        what: "1:1 message plaintext",
        min: SIGNATURE_OVERHEAD,
        actual: inner.len(),
    })?;
    let sig: &[u8; 64] = sig.try_into().map_err(|_| Error::BadSignature {
        what: "1:1 message",
    })?;
    let sender_ed25519 = Ed25519PublicKey(*a);

    let mut signed = Vec::with_capacity(message.len() + 64);
    signed.extend_from_slice(message);
    signed.extend_from_slice(a);
    signed.extend_from_slice(recipient.x25519_public().as_bytes());
    sender_ed25519.verify(&signed, sig, "1:1 message")?;

    let sender = SessionId::from_x25519(sender_ed25519.to_x25519()?);
    Ok(Opened {
        plaintext: message.to_vec(),
        sender_ed25519,
        sender,
    })
}
