//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong in `sotto-sogs` below the HTTP layer.
///
/// Each variant reads as one line a server operator can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config file named by `$SOGS_CONFIG` does not exist.
    #[error("SOGS_CONFIG={0} specified, but path does not exist")]
    ConfigMissing(PathBuf),
    /// The config file could not be read or parsed as INI.
    #[error("cannot read config {path}: {reason}")]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        reason: String,
    },
    /// A config value is not acceptable.
    #[error("invalid value [{section}] {key} = {value:?} in config: {reason}")]
    ConfigValue {
        /// The INI section.
        section: String,
        /// The key within it.
        key: String,
        /// The value as written.
        value: String,
        /// What was expected.
        reason: &'static str,
    },
    /// A filter section name is not `[filter:ROOM:TYPE]`.
    #[error("invalid filter section [{0}] in config: expected [filter:ROOM:TYPE]")]
    FilterSection(String),
    /// The key file exists but does not hold a 32-byte key.
    #[error("key file {path} must hold exactly 32 bytes, found {len}")]
    KeyFileSize {
        /// The key file.
        path: PathBuf,
        /// Its size in bytes.
        len: u64,
    },
    /// Reading or writing a file failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What we were doing ("cannot read key file", …).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The `[db] url` names a database we cannot use.
    #[error(
        "unsupported database url {0:?}: only sqlite:///PATH and postgresql://… are supported"
    )]
    UnsupportedDb(String),
    /// A database error.
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// A PostgreSQL error.
    #[error("database error: {0}")]
    Pg(#[from] postgres::Error),
    /// The PostgreSQL connection thread could not be started or has stopped.
    #[error("database connection: {0}")]
    PgWorker(String),
    /// A column held a value of another type than the store expected.
    #[error("database column {column}: {why}")]
    DbValue {
        /// Zero-based column position.
        column: usize,
        /// What was found instead.
        why: String,
    },
    /// The database has no SOGS tables and we were not asked to create them.
    #[error("{0} has no SOGS tables; run with --initialize first")]
    DbEmpty(String),
    /// `--initialize` on a database that already has tables.
    #[error("unable to initialize database: tables already exist")]
    DbExists,
    /// The database needs upgrading and we were not allowed to upgrade it.
    #[error("database upgrades are required: {0}")]
    UpgradeRequired(String),
    /// The database is an older PySOGS layout that only PySOGS can upgrade.
    #[error(
        "this database uses an older PySOGS schema ({0}); upgrade it with PySOGS \
         (`python3 -m sogs --upgrade`) first"
    )]
    ForeignSchema(String),
    /// The database was written by a newer version of this server.
    #[error("database is at schema version {found}, newer than this program's {latest}")]
    NewerSchema {
        /// The version recorded in the database.
        found: i64,
        /// The newest version we know.
        latest: i64,
    },
    /// A room token is not 1–64 of `[A-Za-z0-9_-]`.
    #[error("room tokens may only contain a-z, A-Z, 0-9, _, and - characters (1-64 of them)")]
    BadRoomToken,
    /// A session ID is not `05`/`15` + 64 hex.
    #[error("'{0}' is not a valid session id")]
    BadSessionId(String),
    /// A room with this token already exists.
    #[error("room '{0}' already exists")]
    RoomExists(String),
    /// No room has this token.
    #[error("no such room '{0}'")]
    NoSuchRoom(String),
    /// The HTTP listener could not be bound or failed.
    #[error("cannot serve HTTP on {addr}: {source}")]
    Listen {
        /// The listen address.
        addr: std::net::SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Conformance test mode on a non-loopback address (`sogs.md` §6.2).
    #[error("[testing] enabled requires a loopback listen address, not {0}")]
    TestingNotLoopback(std::net::SocketAddr),
    /// A cryptographic operation failed (e.g. a Session ID that is not a valid curve point).
    #[error(transparent)]
    Crypto(#[from] sotto_crypto::Error),
    /// Writing a JSON answer into memory failed (a `Vec` takes every write, so this would be a
    /// bug in the writer).
    #[error("cannot write {what} JSON: {source}")]
    JsonWrite {
        /// The answer being written ("message list", "batch").
        what: &'static str,
        /// The writer's error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
