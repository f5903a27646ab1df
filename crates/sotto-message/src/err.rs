//! The one error type of this crate.

/// Everything that can go wrong encoding or decoding a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The storage `data` is not valid base64.
    #[error("message data is not valid base64")]
    Base64,
    /// The input is larger than any stored message can be.
    #[error("message data is too large: {actual} bytes, at most {max}")]
    TooLarge {
        /// The size found.
        actual: usize,
        /// The limit.
        max: usize,
    },
    /// A protobuf layer does not decode.
    #[error("malformed {what} protobuf")]
    Protobuf {
        /// Which layer.
        what: &'static str,
        /// The decoder's complaint.
        #[source]
        source: prost::DecodeError,
    },
    /// The WebSocket wrapper is not a request carrying a body.
    #[error("the WebSocket wrapper carries no request body")]
    NoRequestBody,
    /// The envelope is not a 1:1 message.
    #[error("envelope type {found} is not a 1:1 message (type 6)")]
    WrongEnvelopeType {
        /// The type found.
        found: i32,
    },
    /// The envelope carries no content.
    #[error("the envelope carries no content")]
    NoContent,
    /// The content's signed timestamp differs from the envelope's.
    #[error("signed timestamp {signed} differs from the envelope timestamp {envelope}")]
    SigTimestampMismatch {
        /// `Content.sigTimestamp`.
        signed: u64,
        /// `Envelope.timestamp`.
        envelope: u64,
    },
    /// The sealed message does not open for this recipient, or its signature does not verify.
    #[error("cannot open the 1:1 message")]
    Crypto(#[source] sotto_crypto::Error),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
