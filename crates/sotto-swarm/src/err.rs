//! The error type of this crate.

/// Something this crate refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Swarm sizes that break `1 <= min <= ideal <= max`.
    #[error("bad swarm sizes min {min}, ideal {ideal}, max {max}: need 1 <= min <= ideal <= max")]
    BadSizes {
        /// The minimum given.
        min: usize,
        /// The ideal size given.
        ideal: usize,
        /// The maximum given.
        max: usize,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
