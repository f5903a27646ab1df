//! The one error type of this crate.

use sotto_crypto::Ed25519PublicKey;

/// What can go wrong on the client side.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not enough nodes to build a path of the wanted length that avoids the target.
    #[error("no path could be built: {wanted} hops needed besides the target, {available} nodes available")]
    NotEnoughNodes {
        /// Hops wanted.
        wanted: usize,
        /// Nodes other than the target.
        available: usize,
    },
    /// A node named on the command line or in a request is not in the node list.
    #[error("node {0} is not in the node list")]
    UnknownNode(Ed25519PublicKey),
    /// The path itself failed before reaching the destination (a hop's error).
    #[error("onion path failed at or after the guard: {status} {body}")]
    PathFailed {
        /// The guard's HTTP status.
        status: u16,
        /// Its body.
        body: String,
        /// The node the error names, if any (to drop it from the pool).
        failed_node: Option<Ed25519PublicKey>,
    },
    /// A node could not be reached at all.
    #[error("cannot reach node {node} at {url}: {reason}")]
    Unreachable {
        /// The node.
        node: Ed25519PublicKey,
        /// Where we tried.
        url: String,
        /// Why.
        reason: String,
    },
    /// The onion layer could not be built or its answer decrypted.
    #[error(transparent)]
    Onion(#[from] sotto_onion::Error),
    /// A node answered the RPC with an error.
    #[error("the node refused: {status} {body}")]
    Rpc {
        /// The RPC's status.
        status: u16,
        /// Its body.
        body: String,
    },
    /// A swarm lookup returned no usable node.
    #[error("no node of {0}'s swarm is known")]
    EmptySwarm(String),
    /// The local profile could not be read or written.
    #[error("profile: {0}")]
    Profile(String),
    /// A message could not be encoded or decoded.
    #[error(transparent)]
    Message(#[from] sotto_message::Error),
    /// The network description could not be used.
    #[error("network: {0}")]
    Network(String),
    /// An attachment could not be encrypted or decrypted (wrong key, MAC or digest).
    #[error("attachment: {0}")]
    Attachment(#[from] sotto_crypto::Error),
    /// A community URL, room, post or DM is not usable.
    #[error("community: {0}")]
    Community(String),
    /// A community server refused a request.
    #[error("the community server answered {status}: {body}")]
    CommunityRefused {
        /// The HTTP status.
        status: u16,
        /// The start of its body.
        body: String,
    },
    /// The HTTPS client could not be built.
    #[error(transparent)]
    Https(#[from] sotto_https::Error),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
