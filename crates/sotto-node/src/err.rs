//! The one error type of this crate.

/// Everything that can go wrong in the node's own code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database reached its configured size cap; nothing was stored.
    #[error("message storage is full (cap {cap_bytes} bytes)")]
    StorageFull {
        /// The configured cap.
        cap_bytes: u64,
    },
    /// The database file was written by a newer version of Sotto.
    #[error("database schema version {found} is newer than this program's ({supported})")]
    SchemaTooNew {
        /// The version in the file.
        found: i64,
        /// The newest version this program knows.
        supported: i64,
    },
    /// The key file exists but does not hold a 32-byte key.
    #[error("{path} must hold a 32-byte key, found {len} bytes")]
    BadKeyFile {
        /// The file.
        path: String,
        /// Its length.
        len: usize,
    },
    /// The HTTPS layer could not be set up.
    #[error(transparent)]
    Https(#[from] sotto_https::Error),
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
