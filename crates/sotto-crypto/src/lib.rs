#![doc = include_str!("../README.md")]

mod encoding;
mod err;
mod identity;
mod ids;

pub mod attachment;
pub mod blinded_dm;
pub mod blinding;
pub mod layer;
pub mod mnemonic;
pub mod seal;
pub mod sogs_auth;

pub use err::{Error, Result};
pub use identity::{Identity, Seed, LEGACY_SEED_LEN, SEED_LEN};
pub use ids::{
    BlindedId, BlindingKind, Ed25519PublicKey, SessionId, X25519PublicKey, BLIND15_PREFIX,
    BLIND25_PREFIX, SESSION_ID_PREFIX,
};
