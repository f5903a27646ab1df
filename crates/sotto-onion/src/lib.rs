#![doc = include_str!("../README.md")]

mod bencode;
pub mod client;
mod err;
pub mod frame;
pub mod lsrpc;
pub mod node;
pub mod server;

pub use err::{Error, NodeError, Result};
pub use sotto_crypto::layer::EncType;

/// Largest onion request body a node or server accepts: 10 MiB (oxen-storage-server `https.h`
/// `MAX_REQUEST_BODY_SIZE`; libsession `parser.hpp` `DEFAULT_MAX_SIZE`).
pub const MAX_BODY_SIZE: usize = 10 * 1024 * 1024;

/// Highest hop number a node accepts (oxen-storage-server `onion_processing.h` `MAX_ONION_HOPS`).
pub const MAX_ONION_HOPS: u32 = 15;

/// Longest path a client may build: the guard has hop number 0 and a storage request's
/// destination node, one past the last hop, must not exceed [`MAX_ONION_HOPS`].
pub const MAX_PATH_HOPS: usize = MAX_ONION_HOPS as usize;

/// Proxy target of v4 requests (libsession `builder.cpp`: "All servers support V4").
pub const V4_TARGET: &str = "/oxen/v4/lsrpc";

/// Proxy target of v3 requests (PySOGS `onion_request.py`).
pub const V3_TARGET: &str = "/oxen/v3/lsrpc";
