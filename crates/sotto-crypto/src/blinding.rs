//! Community blinding (`sogs.md` §2.4, §2.4a): the 15- and 25-blinded keys an account uses on a
//! community server instead of its Session ID, and signatures made with them.
//!
//! A blinded key is `kA = (k·a)·G` for a blinding factor `k` derived from the server's key (and,
//! for 25, the Session ID). Blinded signatures are ordinary Ed25519 signatures under `kA`, so a
//! server verifies them with plain Ed25519.

use blake2::digest::consts::{U32, U64};
use blake2::digest::{Digest, Mac};
use blake2::{Blake2b512, Blake2bMac};
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::{EdwardsPoint, Scalar};
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::err::{Error, Result};
use crate::identity::Identity;
use crate::ids::{BlindedId, BlindingKind, Ed25519PublicKey, SessionId, X25519PublicKey};

/// BLAKE2b key for the 25 nonce seed (libsession `blinding.cpp`).
const BLIND25_SEED_KEY: &[u8] = b"SessCommBlind25_seed";
/// BLAKE2b key for the 25 signature nonce (libsession `blinding.cpp`).
const BLIND25_SIG_KEY: &[u8] = b"SessCommBlind25_sig";

/// The 15 blinding factor of a server: `reduce(BLAKE2b-512(server_pk))`.
pub fn blind15_factor(server: &X25519PublicKey) -> Scalar {
    let hash: [u8; 64] = Blake2b512::digest(server.as_bytes()).into();
    Scalar::from_bytes_mod_order_wide(&hash)
}

/// The 25 blinding factor of an account on a server: `reduce(BLAKE2b-512(05 ‖ X25519 pk ‖
/// server_pk))`.
pub fn blind25_factor(session_id: &SessionId, server: &X25519PublicKey) -> Scalar {
    let mut h = Blake2b512::new();
    h.update(session_id.to_bytes());
    h.update(server.as_bytes());
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

fn keyed_blake2b<N>(key: &[u8], parts: &[&[u8]]) -> blake2::digest::Output<Blake2bMac<N>>
where
    N: blake2::digest::typenum::Unsigned
        + blake2::digest::typenum::IsLessOrEqual<U64>
        + blake2::digest::generic_array::ArrayLength<u8>,
    blake2::digest::typenum::LeEq<N, U64>: blake2::digest::typenum::NonZero,
{
    // Keys here are short constants, always valid for BLAKE2b (at most 64 bytes).
    let mut mac = <Blake2bMac<N> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("BLAKE2b keys of at most 64 bytes are valid"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes()
}

/// The point of an X25519 key with sign bit 0 (`A⁺`), refused unless it is in the prime-order
/// subgroup and not small-order: libsession blinds with `crypto_scalarmult_ed25519_noclamp`,
/// which rejects such points ("Cannot blind: invalid session_id").
fn positive_point(key: &X25519PublicKey) -> Result<EdwardsPoint> {
    let compressed = key.to_ed25519_positive()?;
    CompressedEdwardsY(compressed.0)
        .decompress()
        .filter(|p| !p.is_small_order() && p.is_torsion_free())
        .ok_or(Error::BadPoint {
            what: "X25519 public key",
        })
}

/// An account's blinded key pair for one community server.
#[derive(Clone)]
pub struct BlindedKeyPair {
    kind: BlindingKind,
    /// `ka`, the blinded private scalar.
    secret: Zeroizing<[u8; 32]>,
    /// `kA`.
    public: Ed25519PublicKey,
    /// Secret input of the deterministic signature nonce.
    nonce_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for BlindedKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlindedKeyPair")
            .field("id", &self.blinded_id())
            .finish_non_exhaustive()
    }
}

impl BlindedKeyPair {
    /// The 15- or 25-blinded key pair of `identity` on the server with X25519 key `server`.
    pub fn new(identity: &Identity, server: &X25519PublicKey, kind: BlindingKind) -> Result<Self> {
        let a = Scalar::from_bytes_mod_order(*identity.x25519_secret());
        let (k, nonce_key) = match kind {
            BlindingKind::Blind15 => {
                // libsession: the nonce key is the second half of SHA-512 of the 64-byte secret
                // key (seed ‖ public key).
                let mut sk = Zeroizing::new([0u8; 64]);
                sk.iter_mut()
                    .zip(
                        identity
                            .ed25519_seed()
                            .iter()
                            .chain(identity.ed25519_public().0.iter()),
                    )
                    .for_each(|(o, i)| *o = *i);
                let hash = Zeroizing::new(Sha512::digest(sk.as_slice()));
                let mut nonce_key = Zeroizing::new([0u8; 32]);
                nonce_key
                    .iter_mut()
                    .zip(hash.iter().skip(32))
                    .for_each(|(o, i)| *o = *i);
                (blind15_factor(server), nonce_key)
            }
            BlindingKind::Blind25 => {
                let mut k = blind25_factor(&identity.session_id(), server);
                // Use -k when A's sign bit is set, so that kA = k·A⁺ as anyone can compute it.
                if identity.ed25519_public().0[31] & 0x80 != 0 {
                    k = -k;
                }
                let seed_hash = keyed_blake2b::<U32>(BLIND25_SEED_KEY, &[identity.ed25519_seed()]);
                (k, Zeroizing::new(seed_hash.into()))
            }
        };
        let ka = k * a;
        if ka == Scalar::ZERO {
            return Err(Error::BadPoint {
                what: "server public key",
            });
        }
        let public = Ed25519PublicKey(EdwardsPoint::mul_base(&ka).compress().to_bytes());
        Ok(Self {
            kind,
            secret: Zeroizing::new(ka.to_bytes()),
            public,
            nonce_key,
        })
    }

    /// The blinded ID this key pair signs as.
    pub fn blinded_id(&self) -> BlindedId {
        BlindedId::new(self.kind, self.public)
    }

    /// The blinded public key `kA`.
    pub fn public_key(&self) -> &Ed25519PublicKey {
        &self.public
    }

    /// Sign `msg` with the blinded key; verifies as plain Ed25519 under [`Self::public_key`].
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        let ka = Scalar::from_bytes_mod_order(*self.secret);
        let r = match self.kind {
            BlindingKind::Blind15 => {
                let mut h = Sha512::new();
                h.update(self.nonce_key.as_slice());
                h.update(self.public.as_bytes());
                h.update(msg);
                Scalar::from_bytes_mod_order_wide(&h.finalize().into())
            }
            BlindingKind::Blind25 => {
                let hash = keyed_blake2b::<U64>(
                    BLIND25_SIG_KEY,
                    &[self.nonce_key.as_slice(), self.public.as_bytes(), msg],
                );
                Scalar::from_bytes_mod_order_wide(&hash.into())
            }
        };
        let big_r = EdwardsPoint::mul_base(&r).compress();
        let mut h = Sha512::new();
        h.update(big_r.as_bytes());
        h.update(self.public.as_bytes());
        h.update(msg);
        let challenge = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        let s = r + challenge * ka;
        let mut sig = [0u8; 64];
        sig.iter_mut()
            .zip(big_r.as_bytes().iter().chain(s.as_bytes().iter()))
            .for_each(|(o, i)| *o = *i);
        sig
    }
}

/// The two 15-blinded IDs a server derives from a Session ID: sign bit clear (PySOGS's
/// `blinded_abs`), then set. The account's real ID is one of them: which one depends on the sign
/// of its Ed25519 key, which the Session ID does not reveal.
pub fn blind15_candidates(
    session_id: &SessionId,
    server: &X25519PublicKey,
) -> Result<[BlindedId; 2]> {
    let point = blind15_factor(server) * positive_point(session_id.x25519())?;
    let mut positive = point.compress().to_bytes();
    positive[31] &= 0x7f;
    let mut negative = positive;
    negative[31] |= 0x80;
    Ok([positive, negative].map(|k| BlindedId::new(BlindingKind::Blind15, Ed25519PublicKey(k))))
}

/// The 25-blinded ID of a Session ID on a server (unique: 25 blinding fixes the sign).
pub fn blind25_id(session_id: &SessionId, server: &X25519PublicKey) -> Result<BlindedId> {
    let point = blind25_factor(session_id, server) * positive_point(session_id.x25519())?;
    Ok(BlindedId::new(
        BlindingKind::Blind25,
        Ed25519PublicKey(point.compress().to_bytes()),
    ))
}
