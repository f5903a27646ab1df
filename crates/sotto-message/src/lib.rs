#![doc = include_str!("../README.md")]

mod content;
mod err;
mod one_to_one;
pub mod padding;

/// Types generated from `proto/session.proto`.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/sotto.session.rs"));
}

pub use err::{Error, Result};
pub use one_to_one::{
    decode_1to1, decode_1to1_bytes, encode_1to1, encode_1to1_bytes, Decoded, MAX_MESSAGE_DATA,
};
