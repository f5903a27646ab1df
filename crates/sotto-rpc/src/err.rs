//! The one error type of this crate: an RPC failure as the node answers it.

/// A failed RPC: the HTTP status and the plain-text body oxen-storage-server sends.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status} {body}")]
pub struct RpcError {
    status: u16,
    body: String,
}

impl RpcError {
    /// An error with this status and body.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
        }
    }

    /// A parameter error: `400 invalid request: <detail>` (`storage-rpc.md` §1.2).
    pub fn invalid(detail: impl std::fmt::Display) -> Self {
        Self::new(400, format!("invalid request: {detail}"))
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response body.
    pub fn body(&self) -> &str {
        &self.body
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = RpcError> = std::result::Result<T, E>;
