//! Attachment and avatar encryption (`client.md` §6).
//!
//! **Legacy attachments** (what Session clients upload by default; desktop
//! `attachmentsEncrypter.ts`, `BufferPadding.ts`): the plaintext is padded with zeros to the next
//! step of a 5 % ladder, encrypted with AES-256-CBC (PKCS#7) under a fresh 16-byte IV, and
//! authenticated with HMAC-SHA256 over `IV ‖ ciphertext`; the blob is `IV ‖ ciphertext ‖ MAC`.
//! The 64-byte key is the AES key followed by the HMAC key; the pointer also carries the blob's
//! SHA-256 `digest` and the unpadded `size`.
//!
//! **Avatars** (`profileEncrypter.ts`): AES-256-GCM with the 32-byte profile key, blob
//! `IV(12) ‖ ciphertext ‖ tag(16)`.
//!
//! **Deterministic attachments** (libsession `attachment::encrypt`): a keyed, personalised
//! BLAKE2b of the file gives a secretstream header and key; the output is `S ‖ header ‖
//! XChaCha20-Poly1305 secretstream chunks` of a zero-padded (`0x00… 0x01 ‖ data`) stream whose
//! encrypted size is rounded to a size class. Same file + same uploader = same bytes.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::err::{Error, Result};

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// Length of a legacy attachment key: AES-256 key ‖ HMAC-SHA256 key.
pub const LEGACY_KEY_LEN: usize = 64;
/// Length of the CBC IV at the start of a legacy blob.
pub const LEGACY_IV_LEN: usize = 16;
/// Length of the HMAC-SHA256 at the end of a legacy blob.
pub const LEGACY_MAC_LEN: usize = 32;
/// Shortest legacy blob: IV, one AES block (PKCS#7 always adds one), MAC. Receivers require at
/// least 48 bytes (`client.md` §6); a valid blob has at least 64.
pub const LEGACY_MIN_BLOB: usize = 48;
/// Smallest padded attachment (`BufferPadding.ts`: `Math.max(541, …)`).
pub const PADDING_MIN: usize = 541;
/// Padding does not grow a file that fits in this many bytes beyond it (the upload cap).
pub const PADDING_CAP: usize = 10_000_000;
/// Length of an avatar (profile) key.
pub const AVATAR_KEY_LEN: usize = 32;
/// Length of the AES-GCM IV at the start of an avatar blob.
pub const AVATAR_IV_LEN: usize = 12;

/// The padded size of a `len`-byte attachment: `max(541, floor(1.05^ceil(log_1.05(len))))`,
/// capped at [`PADDING_CAP`] when `len` fits under it, as Session desktop computes it (in IEEE
/// doubles, like JavaScript).
pub fn padded_size(len: usize) -> usize {
    let len_f = len as f64;
    let step = (len_f.ln() / 1.05f64.ln()).ceil();
    let ladder = 1.05f64.powf(step).floor();
    let padded = if ladder.is_finite() && ladder > 0.0 {
        // A finite, positive double below 2^64 converts exactly enough for sizes we handle.
        ladder as usize
    } else {
        0
    };
    let padded = padded.max(PADDING_MIN).max(len);
    if len <= PADDING_CAP && padded > PADDING_CAP {
        PADDING_CAP
    } else {
        padded
    }
}

/// An encrypted attachment and what its pointer carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encrypted {
    /// `IV ‖ ciphertext ‖ MAC`: what is uploaded.
    pub blob: Vec<u8>,
    /// The 64-byte key (`AttachmentPointer.key`).
    pub key: Zeroizing<[u8; LEGACY_KEY_LEN]>,
    /// SHA-256 of the blob (`AttachmentPointer.digest`).
    pub digest: [u8; 32],
    /// The plaintext's length (`AttachmentPointer.size`).
    pub size: usize,
}

/// Encrypt an attachment the legacy way with a fresh key and IV.
pub fn encrypt_legacy<R: RngCore + CryptoRng>(rng: &mut R, plaintext: &[u8]) -> Result<Encrypted> {
    let mut key = Zeroizing::new([0u8; LEGACY_KEY_LEN]);
    rng.fill_bytes(key.as_mut());
    let mut iv = [0u8; LEGACY_IV_LEN];
    rng.fill_bytes(&mut iv);
    encrypt_legacy_with(&key, &iv, plaintext)
}

/// [`encrypt_legacy`] with a given key and IV (for known-answer tests; never reuse either).
pub fn encrypt_legacy_with(
    key: &[u8; LEGACY_KEY_LEN],
    iv: &[u8; LEGACY_IV_LEN],
    plaintext: &[u8],
) -> Result<Encrypted> {
    let (aes_key, mac_key) = key.split_at(32);
    let mut padded = Zeroizing::new(plaintext.to_vec());
    padded.resize(padded_size(plaintext.len()), 0);
    let cipher = Aes256CbcEnc::new_from_slices(aes_key, iv).map_err(|_| Error::BadLength {
        what: "attachment key",
        expected: "64 bytes",
        actual: key.len(),
    })?;
    let ciphertext = cipher.encrypt_padded_vec_mut::<Pkcs7>(&padded);
    let mut blob = Vec::with_capacity(LEGACY_IV_LEN + ciphertext.len() + LEGACY_MAC_LEN);
    blob.extend_from_slice(iv);
    blob.extend_from_slice(&ciphertext);
    let mac = hmac_sha256(mac_key, &blob)?;
    blob.extend_from_slice(&mac);
    let digest: [u8; 32] = Sha256::digest(&blob).into();
    Ok(Encrypted {
        blob,
        key: Zeroizing::new(*key),
        digest,
        size: plaintext.len(),
    })
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<[u8; 32]> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| Error::BadLength {
        what: "attachment MAC key",
        expected: "32 bytes",
        actual: key.len(),
    })?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}

/// Decrypt a legacy attachment: check the blob's length, its digest (when given; Session
/// clients always give it), the MAC in constant time, decrypt, and cut the padding off at `size`.
pub fn decrypt_legacy(
    blob: &[u8],
    key: &[u8],
    size: usize,
    digest: Option<&[u8]>,
) -> Result<Vec<u8>> {
    const WHAT: &str = "attachment";
    let key: &[u8; LEGACY_KEY_LEN] = key.try_into().map_err(|_| Error::BadLength {
        what: "attachment key",
        expected: "64 bytes",
        actual: key.len(),
    })?;
    if blob.len() < LEGACY_MIN_BLOB {
        return Err(Error::TooShort {
            what: WHAT,
            min: LEGACY_MIN_BLOB,
            actual: blob.len(),
        });
    }
    if let Some(expected) = digest {
        let actual = Sha256::digest(blob);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(actual.as_slice(), expected)) {
            return Err(Error::AttachmentDigest);
        }
    }
    let (aes_key, mac_key) = key.split_at(32);
    let (signed, mac) = blob.split_at(blob.len() - LEGACY_MAC_LEN);
    let mut check = <Hmac<Sha256> as Mac>::new_from_slice(mac_key)
        .map_err(|_| Error::Decrypt { what: WHAT })?;
    check.update(signed);
    check
        .verify_slice(mac)
        .map_err(|_| Error::Decrypt { what: WHAT })?;
    let (iv, ciphertext) = signed.split_at(LEGACY_IV_LEN);
    let cipher =
        Aes256CbcDec::new_from_slices(aes_key, iv).map_err(|_| Error::Decrypt { what: WHAT })?;
    let mut plaintext = cipher
        .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        .map_err(|_| Error::Decrypt { what: WHAT })?;
    if size > plaintext.len() {
        return Err(Error::TooLong {
            what: "attachment size",
            max: plaintext.len(),
            actual: size,
        });
    }
    plaintext.truncate(size);
    Ok(plaintext)
}

/// Encrypt an avatar with its 32-byte profile key: `IV(12) ‖ AES-256-GCM(ciphertext ‖ tag)`.
pub fn encrypt_avatar<R: RngCore + CryptoRng>(
    rng: &mut R,
    profile_key: &[u8; AVATAR_KEY_LEN],
    image: &[u8],
) -> Result<Vec<u8>> {
    let mut iv = [0u8; AVATAR_IV_LEN];
    rng.fill_bytes(&mut iv);
    let sealed = Aes256Gcm::new(profile_key.into())
        .encrypt(Nonce::from_slice(&iv), image)
        .map_err(|_| Error::TooLong {
            what: "avatar",
            max: u32::MAX as usize,
            actual: image.len(),
        })?;
    let mut blob = iv.to_vec();
    blob.extend_from_slice(&sealed);
    Ok(blob)
}

/// Decrypt an avatar blob with its profile key.
pub fn decrypt_avatar(profile_key: &[u8], blob: &[u8]) -> Result<Vec<u8>> {
    const WHAT: &str = "avatar";
    let key: &[u8; AVATAR_KEY_LEN] = profile_key.try_into().map_err(|_| Error::BadLength {
        what: "profile key",
        expected: "32 bytes",
        actual: profile_key.len(),
    })?;
    if blob.len() < AVATAR_IV_LEN + 16 {
        return Err(Error::TooShort {
            what: WHAT,
            min: AVATAR_IV_LEN + 16,
            actual: blob.len(),
        });
    }
    let (iv, sealed) = blob.split_at(AVATAR_IV_LEN);
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(iv), sealed)
        .map_err(|_| Error::Decrypt { what: WHAT })
}

/// Plaintext bytes per secretstream chunk of a deterministic attachment (libsession
/// `ENCRYPT_CHUNK_SIZE`).
pub const DETERMINISTIC_CHUNK: usize = 32_768;
/// Bytes each chunk adds (tag and MAC: libsodium `crypto_secretstream_xchacha20poly1305_ABYTES`).
pub const DETERMINISTIC_CHUNK_OVERHEAD: usize = 17;
/// Length of the secretstream header after the `S` prefix.
pub const DETERMINISTIC_HEADER: usize = 24;
/// The prefix byte of a deterministic attachment.
pub const DETERMINISTIC_PREFIX: u8 = b'S';
/// Largest plaintext libsession encrypts (`MAX_REGULAR_SIZE`).
pub const DETERMINISTIC_MAX_SIZE: usize = 10_218_286;

const ENCRYPTED_CHUNK_TOTAL: usize = DETERMINISTIC_CHUNK + DETERMINISTIC_CHUNK_OVERHEAD;

/// What a deterministic encryption is for: the BLAKE2b personalisation of its key derivation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Message attachments (`SessionAttachmnt`).
    Attachment,
    /// Profile pictures (`Session_Prof_Pic`).
    ProfilePicture,
}

impl Domain {
    fn personal(self) -> &'static [u8; 16] {
        match self {
            Self::Attachment => b"SessionAttachmnt",
            Self::ProfilePicture => b"Session_Prof_Pic",
        }
    }
}

/// Bytes of zero padding (ending in the `0x01` marker) before the data, chosen so that the
/// encrypted size is a multiple of `bit_floor(max(size, 131072)) / 32`, counting the stream tags
/// the padding itself adds (libsession `encrypted_padding`).
pub fn deterministic_padding(data_size: usize) -> usize {
    const PREFIX: usize = 1 + DETERMINISTIC_HEADER;
    const MIN_PADDING: usize = 1;
    let stream_chunks = data_size.div_ceil(DETERMINISTIC_CHUNK);
    let enc_size = data_size + PREFIX + MIN_PADDING + stream_chunks * DETERMINISTIC_CHUNK_OVERHEAD;
    let floor = enc_size.max(131_072);
    let bit_floor = 1usize << (usize::BITS - 1 - floor.leading_zeros());
    let pad_factor = bit_floor >> 5;
    let padded_size = enc_size.div_ceil(pad_factor) * pad_factor;
    let mut padding = padded_size - enc_size + MIN_PADDING;
    let mut implicit = 0;
    if padding >= ENCRYPTED_CHUNK_TOTAL {
        implicit = (padding / ENCRYPTED_CHUNK_TOTAL) * DETERMINISTIC_CHUNK_OVERHEAD;
    }
    let free_padding = stream_chunks * DETERMINISTIC_CHUNK - data_size;
    if padding % ENCRYPTED_CHUNK_TOTAL > free_padding {
        implicit += DETERMINISTIC_CHUNK_OVERHEAD;
    }
    padding -= implicit;
    padding
}

/// The size of a deterministic encryption of `data_size` bytes.
pub fn deterministic_size(data_size: usize) -> usize {
    let padded = data_size + deterministic_padding(data_size);
    1 + DETERMINISTIC_HEADER
        + padded
        + padded.div_ceil(DETERMINISTIC_CHUNK) * DETERMINISTIC_CHUNK_OVERHEAD
}

/// Hands out fixed bytes as "randomness": how the derived header reaches the secretstream, whose
/// API otherwise draws the header at random (libsession does the same with libsodium).
struct FixedBytes<'a>(&'a [u8]);

impl rand_core::RngCore for FixedBytes<'_> {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let n = dest.len().min(self.0.len());
        let (head, tail) = self.0.split_at(n);
        if let Some(d) = dest.get_mut(..n) {
            d.copy_from_slice(head);
        }
        self.0 = tail;
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> std::result::Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for FixedBytes<'_> {}

/// Encrypt `data` deterministically (libsession `attachment::encrypt`): BLAKE2b-448 keyed with
/// the uploader's 32-byte seed and personalised by `domain` gives the stream header and the
/// 32-byte key, so the same file from the same uploader encrypts to the same bytes (the file
/// server deduplicates it). Returns `S ‖ header ‖ chunks` and the key.
pub fn encrypt_deterministic(
    seed: &[u8; 32],
    data: &[u8],
    domain: Domain,
) -> Result<(Vec<u8>, Zeroizing<[u8; 32]>)> {
    use blake2::digest::consts::U56;
    use blake2::digest::{FixedOutput, Update};
    if data.len() > DETERMINISTIC_MAX_SIZE {
        return Err(Error::TooLong {
            what: "attachment",
            max: DETERMINISTIC_MAX_SIZE,
            actual: data.len(),
        });
    }
    let mut hash =
        blake2::Blake2bMac::<U56>::new_with_salt_and_personal(seed, &[], domain.personal())
            .map_err(|_| Error::BadLength {
                what: "uploader seed",
                expected: "32 bytes",
                actual: seed.len(),
            })?;
    Update::update(&mut hash, data);
    let derived = Zeroizing::new(hash.finalize_fixed());
    let (header_bytes, key_bytes) = derived.split_at(DETERMINISTIC_HEADER);
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(key_bytes);
    let stream_key = crypto_secretstream::Key::from(*key);
    let (header, mut stream) =
        crypto_secretstream::PushStream::init(FixedBytes(header_bytes), &stream_key);

    let padding = deterministic_padding(data.len());
    let mut plain = Zeroizing::new(vec![0u8; padding + data.len()]);
    if let Some(marker) = plain.get_mut(padding - 1) {
        *marker = 0x01;
    }
    if let Some(rest) = plain.get_mut(padding..) {
        rest.copy_from_slice(data);
    }
    let mut out = Vec::with_capacity(deterministic_size(data.len()));
    out.push(DETERMINISTIC_PREFIX);
    out.extend_from_slice(header.as_ref());
    let chunks: Vec<&[u8]> = plain.chunks(DETERMINISTIC_CHUNK).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let tag = if i + 1 == chunks.len() {
            crypto_secretstream::Tag::Final
        } else {
            crypto_secretstream::Tag::Message
        };
        let mut buffer = chunk.to_vec();
        stream
            .push(&mut buffer, &[], tag)
            .map_err(|_| Error::Decrypt { what: "attachment" })?;
        out.extend_from_slice(&buffer);
    }
    Ok((out, key))
}

/// Decrypt a deterministic attachment: the `S` prefix, every chunk's MAC, the padding marker,
/// and a FINAL tag exactly at the end are all required.
pub fn decrypt_deterministic(blob: &[u8], key: &[u8]) -> Result<Vec<u8>> {
    const WHAT: &str = "attachment";
    let key: [u8; 32] = key.try_into().map_err(|_| Error::BadLength {
        what: "attachment key",
        expected: "32 bytes",
        actual: key.len(),
    })?;
    let min = 1 + DETERMINISTIC_HEADER + DETERMINISTIC_CHUNK_OVERHEAD + 1;
    if blob.len() < min {
        return Err(Error::TooShort {
            what: WHAT,
            min,
            actual: blob.len(),
        });
    }
    let (prefix, rest) = blob.split_at(1);
    if prefix != [DETERMINISTIC_PREFIX] {
        return Err(Error::BadPrefix {
            what: "deterministic attachment",
            expected: "S",
            found: String::from_utf8_lossy(prefix).into_owned(),
        });
    }
    let (header, mut body) = rest.split_at(DETERMINISTIC_HEADER);
    let header =
        crypto_secretstream::Header::try_from(header).map_err(|_| Error::Decrypt { what: WHAT })?;
    let mut stream =
        crypto_secretstream::PullStream::init(header, &crypto_secretstream::Key::from(key));
    let mut out = Vec::with_capacity(body.len());
    let mut in_padding = true;
    loop {
        let take = body.len().min(ENCRYPTED_CHUNK_TOTAL);
        let (chunk, next) = body.split_at(take);
        let mut buffer = chunk.to_vec();
        let tag = stream
            .pull(&mut buffer, &[])
            .map_err(|_| Error::Decrypt { what: WHAT })?;
        body = next;
        let mut data: &[u8] = &buffer;
        if in_padding {
            match data.iter().position(|&b| b != 0) {
                Some(i) if data.get(i) == Some(&0x01) => {
                    data = data.get(i + 1..).unwrap_or_default();
                    in_padding = false;
                }
                Some(_) => {
                    return Err(Error::Decrypt {
                        what: "attachment padding",
                    })
                }
                None => data = &[],
            }
        }
        out.extend_from_slice(data);
        match (tag == crypto_secretstream::Tag::Final, body.is_empty()) {
            (true, true) if !in_padding => return Ok(out),
            (false, false) => {}
            _ => return Err(Error::Decrypt { what: WHAT }),
        }
    }
}
