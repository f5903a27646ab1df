//! The storage hash of a message (oxen-storage-server `computeMessageHash`, `storage-rpc.md`
//! §3.1): unpadded base64 of BLAKE2b-256(prefix ‖ key ‖ namespace ‖ data).

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};

use crate::ids::{AccountId, Namespace};

/// Length of a message hash: 43 base64 characters (32 bytes, unpadded).
pub const MESSAGE_HASH_LEN: usize = 43;

/// The storage hash of `data` stored for `account` in `namespace`.
pub fn message_hash(account: &AccountId, namespace: Namespace, data: &[u8]) -> String {
    let mut h = Blake2b::<U32>::new();
    h.update(account.as_bytes());
    h.update(namespace.sig_str().as_bytes());
    h.update(data);
    STANDARD_NO_PAD.encode(h.finalize())
}

/// Whether `hash` has the form of a message hash (43 characters of base64).
pub fn is_valid_message_hash(hash: &str) -> bool {
    hash.len() == MESSAGE_HASH_LEN
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}
