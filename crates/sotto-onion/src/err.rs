//! The error types of this crate: [`Error`] for parsing, building and decrypting, and
//! [`NodeError`] for the answers a service node gives when an onion request fails.

use rand_core::{CryptoRng, RngCore};
use sotto_crypto::Ed25519PublicKey;

use crate::node::NodeReplier;

/// Everything that can go wrong framing, building, peeling or decrypting an onion request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Fewer bytes than the format's fixed part needs.
    #[error("{what} is too short: need at least {min} bytes, got {actual}")]
    TooShort {
        /// What was being parsed.
        what: &'static str,
        /// The minimum length.
        min: usize,
        /// The length found.
        actual: usize,
    },
    /// The `u32` length prefix claims more bytes than follow it.
    #[error("{what} declares {declared} bytes of ciphertext but only {available} follow")]
    LengthPrefix {
        /// What was being parsed.
        what: &'static str,
        /// The declared length.
        declared: u32,
        /// The bytes left after the prefix.
        available: usize,
    },
    /// Larger than the protocol allows.
    #[error("{what} is too large: at most {max} bytes, got {actual}")]
    TooLarge {
        /// What was being parsed or built.
        what: &'static str,
        /// The limit.
        max: usize,
        /// The size found.
        actual: usize,
    },
    /// Not valid JSON, or JSON of the wrong shape.
    #[error("{what} is not valid JSON: {reason}")]
    Json {
        /// What was being parsed.
        what: &'static str,
        /// The parser's complaint.
        reason: String,
    },
    /// A required JSON field is absent.
    #[error("{what} has no {field:?}")]
    MissingField {
        /// What was being parsed.
        what: &'static str,
        /// The missing key.
        field: &'static str,
    },
    /// A JSON field has the wrong type or an unusable value.
    #[error("{what} has an invalid {field:?}: {reason}")]
    BadField {
        /// What was being parsed.
        what: &'static str,
        /// The offending key.
        field: &'static str,
        /// Why it is unusable.
        reason: String,
    },
    /// A key, cipher or decryption failure from `sotto-crypto`.
    #[error("{what}: {source}")]
    Crypto {
        /// What was being done.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: sotto_crypto::Error,
    },
    /// A path with no hops, or more than the nodes accept.
    #[error("an onion path must have 1 to {max} hops, got {actual}")]
    PathLength {
        /// The largest allowed path.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// A bencoded v4 message is malformed.
    #[error("malformed bencoded {what}: {reason}")]
    Bencode {
        /// What was being parsed.
        what: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A reply that should be base64 is not.
    #[error("{what} is not valid base64")]
    Base64 {
        /// What was being decoded.
        what: &'static str,
    },
    /// The path answered with an error instead of the destination's encrypted reply. The status
    /// and body are those of `onion.md` §5.5 (e.g. `502 Next node not found: <hex>`).
    #[error("onion path failed with {status}: {body}")]
    PathFailed {
        /// The HTTP status the guard returned.
        status: u16,
        /// Its body, as text (lossy UTF-8).
        body: String,
    },
    /// A request to an external server was built with an invalid field.
    #[error("invalid {field} for an onion request: {reason}")]
    BadRequest {
        /// The offending field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl Error {
    /// For [`Error::PathFailed`] with a `502 Next node not found: <hex>` or `502 Next node is
    /// currently unreachable: <hex>` body, the node to drop from the path (libsession
    /// `onion_request_router.cpp`, desktop `onions.ts`).
    pub fn failed_node(&self) -> Option<Ed25519PublicKey> {
        let Self::PathFailed { status: 502, body } = self else {
            return None;
        };
        [NEXT_NODE_NOT_FOUND, NEXT_NODE_UNREACHABLE]
            .iter()
            .find_map(|prefix| body.strip_prefix(prefix))
            .and_then(|hex| hex.trim().parse().ok())
    }
}

/// Body prefix of a relay to an unknown node (`request_handler.cpp`).
const NEXT_NODE_NOT_FOUND: &str = "Next node not found: ";
/// Body prefix of a relay to a node that did not answer (libsession `onion_request_router.cpp`).
const NEXT_NODE_UNREACHABLE: &str = "Next node is currently unreachable: ";

/// A failed onion request as a service node answers it: an HTTP status and a body, either plain
/// or encrypted for the layer's client (`onion.md` §5.5). The strings are byte-exact with
/// oxen-storage-server, because clients match on them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum NodeError {
    /// The request body is larger than [`crate::MAX_BODY_SIZE`]: `413 Request body too large`.
    TooLarge {
        /// The size found.
        actual: usize,
    },
    /// The outer framing or JSON is unusable: `400 Error parsing onion request: <why>`.
    BadOuter(Error),
    /// The hop number exceeds [`crate::MAX_ONION_HOPS`]:
    /// `400 onion request max path length exceeded`.
    TooManyHops {
        /// The hop number received.
        hop_no: u32,
    },
    /// The layer does not decrypt: plain `400 Invalid ciphertext`.
    InvalidCiphertext,
    /// The layer decrypts but its framing or JSON is unusable: HTTP 200 carrying the encrypted
    /// `{"status":400,"body":"Invalid json"}`.
    InvalidJson {
        /// Encrypts the answer for the layer's client.
        replier: NodeReplier,
        /// Why (for logs; not sent).
        reason: Error,
    },
    /// A proxy request to a disallowed protocol or target: HTTP 200 carrying the encrypted
    /// `{"status":400,"body":"Invalid url"}`.
    InvalidUrl {
        /// Encrypts the answer for the layer's client.
        replier: NodeReplier,
    },
    /// The next hop is not a known node: `502 Next node not found: <ed25519 hex>`.
    NextNodeNotFound(Ed25519PublicKey),
    /// The next hop refused the connection or dropped it:
    /// `502 Next node is currently unreachable: <ed25519 hex>`, which clients treat like an
    /// unknown node (drop it and the path; libsession `onion_request_router.cpp`).
    NextNodeUnreachable(Ed25519PublicKey),
    /// The next hop did not answer in time: `504 Request time out`.
    RequestTimeout,
    /// The next hop's answer is malformed: `500 Invalid response from snode`.
    InvalidSnodeResponse,
    /// This node cannot serve onion requests yet: `503 Snode not ready: <own ed25519 hex>`.
    SnodeNotReady(Ed25519PublicKey),
    /// This node refuses requests before reading them: `503 Service node is not ready: <reason>`
    /// followed by a newline.
    ServiceNodeNotReady(String),
    /// This node is overloaded: `503 Server busy, try again later`.
    Busy,
}

impl NodeError {
    /// The status of the error: the HTTP status for plain errors, the inner `status` for
    /// encrypted ones.
    pub fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::BadOuter(_)
            | Self::TooManyHops { .. }
            | Self::InvalidCiphertext
            | Self::InvalidJson { .. }
            | Self::InvalidUrl { .. } => 400,
            Self::NextNodeNotFound(_) | Self::NextNodeUnreachable(_) => 502,
            Self::RequestTimeout => 504,
            Self::InvalidSnodeResponse => 500,
            Self::SnodeNotReady(_) | Self::ServiceNodeNotReady(_) | Self::Busy => 503,
        }
    }

    /// The body text exactly as `onion.md` §5.5 gives it (for encrypted errors: the inner body).
    pub fn body(&self) -> String {
        match self {
            Self::TooLarge { .. } => "Request body too large".into(),
            Self::BadOuter(e) => format!("Error parsing onion request: {e}"),
            Self::TooManyHops { .. } => "onion request max path length exceeded".into(),
            Self::InvalidCiphertext => "Invalid ciphertext".into(),
            Self::InvalidJson { .. } => "Invalid json".into(),
            Self::InvalidUrl { .. } => "Invalid url".into(),
            Self::NextNodeNotFound(key) => format!("{NEXT_NODE_NOT_FOUND}{key}"),
            Self::NextNodeUnreachable(key) => format!("{NEXT_NODE_UNREACHABLE}{key}"),
            Self::RequestTimeout => "Request time out".into(),
            Self::InvalidSnodeResponse => "Invalid response from snode".into(),
            Self::SnodeNotReady(key) => format!("Snode not ready: {key}"),
            Self::ServiceNodeNotReady(reason) => format!("Service node is not ready: {reason}\n"),
            Self::Busy => "Server busy, try again later".into(),
        }
    }

    /// Whether the body travels encrypted for the client (inside an HTTP 200).
    pub fn is_encrypted(&self) -> bool {
        matches!(self, Self::InvalidJson { .. } | Self::InvalidUrl { .. })
    }

    /// What to send back: the HTTP status and body bytes. Encrypted errors become HTTP 200 with
    /// the base64 text of the encrypted `{"status":400,"body":…}`, as oxen-storage-server's
    /// `wrap_proxy_response` does.
    pub fn to_reply<R: RngCore + CryptoRng>(&self, rng: &mut R) -> (u16, Vec<u8>) {
        match self {
            Self::InvalidJson { replier, .. } | Self::InvalidUrl { replier } => {
                (200, replier.wrap_default(rng, self.status(), &self.body()))
            }
            _ => (self.status(), self.body().into_bytes()),
        }
    }
}

impl std::fmt::Display for NodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status(), self.body().trim_end())
    }
}

impl std::error::Error for NodeError {}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
