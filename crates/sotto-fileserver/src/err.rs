//! What can go wrong in the file server.

use std::path::PathBuf;

/// A file-server error. HTTP handlers map these to `{"status_code": 500}`; input errors never
/// reach this type (they are answered directly with 4xx).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A file or directory could not be read or written.
    #[error("{what} {path}: {source}")]
    Io {
        /// What we were doing.
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file is not a 32-byte seed.
    #[error("key file {path} holds {len} bytes, expected a 32-byte Ed25519 seed")]
    BadKeyFile {
        /// The key file.
        path: PathBuf,
        /// Its length.
        len: usize,
    },
    /// Creating the key file failed.
    #[error("writing key file: {0}")]
    KeyWrite(#[from] sotto_https::Error),
    /// The database schema is newer than this program.
    #[error("database schema version {found} is newer than supported {supported}")]
    SchemaTooNew {
        /// `PRAGMA user_version` found.
        found: i64,
        /// Highest version we know.
        supported: i64,
    },
    /// No free backwards-compatible ID after many tries (reference: 507).
    #[error("no free file ID found")]
    NoFreeId,
    /// A blocking task panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { what, path, source }
    }
}
