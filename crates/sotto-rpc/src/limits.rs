//! Limits of the storage RPC, each with its source (oxen-storage-server `rpc/request_handler.h`,
//! `rpc/client_rpc_endpoints.h`, `storage/database.cpp`; `storage-rpc.md` §3).

/// Shortest TTL a message may have, ms (`TTL_MINIMUM`, 10 s).
pub const TTL_MIN_MS: i64 = 10_000;
/// Longest TTL of a new message in a public-inbox namespace, ms (`TTL_MAXIMUM`, 14 days).
pub const TTL_MAX_PUBLIC_MS: i64 = 14 * 24 * 3_600_000;
/// Longest TTL in any other namespace, and the cap `expire` applies, ms
/// (`TTL_MAXIMUM_PRIVATE`, 30 days).
pub const TTL_MAX_PRIVATE_MS: i64 = 30 * 24 * 3_600_000;
/// How far in the future a store timestamp may be, and how far in the past its expiry, ms
/// (`STORE_TOLERANCE`, 10 s).
pub const STORE_TOLERANCE_MS: i64 = 10_000;
/// How far a signed timestamp may be from the node's clock, ms (`SIGNATURE_TOLERANCE`, 60 s).
/// `delete_before` (`before` in the future) and `expire` (expiry in the past) use a literal
/// `1min`, the same value.
pub const SIGNATURE_TOLERANCE_MS: i64 = 60_000;
/// The same for requests forwarded within a swarm, ms (`SIGNATURE_TOLERANCE_FORWARDED`, 70 s).
pub const SIGNATURE_TOLERANCE_FORWARDED_MS: i64 = 70_000;
/// Largest total size of one retrieve response, bytes (`RETRIEVE_MAX_SIZE`).
pub const RETRIEVE_MAX_SIZE: usize = 7_800_000;
/// `max_size` used when a retrieve gives neither `max_count` nor `max_size`: a fifth of
/// [`RETRIEVE_MAX_SIZE`] (`request_handler.cpp`, retrieve).
pub const RETRIEVE_DEFAULT_MAX_SIZE: i64 = -5;
/// Bytes counted per retrieved message on top of its hash and data (`database.hpp`,
/// `DEFAULT_MSG_OVERHEAD`).
pub const RETRIEVE_MESSAGE_OVERHEAD: usize = 100;
/// Most subrequests in one `batch` or `sequence` (`BATCH_REQUEST_MAX`).
pub const BATCH_REQUEST_MAX: usize = 20;
/// Largest message body, raw bytes (`store::MAX_MESSAGE_BODY`).
pub const MAX_MESSAGE_BODY: usize = 76_800;
/// Largest message body as base64 characters: 76 800 is divisible by 3, so no padding.
pub const MAX_MESSAGE_BODY_BASE64: usize = MAX_MESSAGE_BODY / 3 * 4;
/// Largest HTTP request body (`MAX_REQUEST_BODY_SIZE`, 10 MiB, `server/https.cpp`).
pub const MAX_REQUEST_BODY: usize = 10 * 1024 * 1024;
/// Timestamps below this many ms (1 000 000 s after the epoch) were surely given in seconds
/// (`parse_field`).
pub const MIN_TIMESTAMP_MS: i64 = 1_000_000_000;
