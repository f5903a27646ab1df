//! The database: the only module with SQL.
//!
//! A SQLite file with PySOGS's schema (`sogs.md` §3), opened in WAL mode with foreign keys on
//! and a busy timeout, written with `BEGIN IMMEDIATE` as PySOGS does, so that PySOGS, this
//! server and the `sogs` CLI can share one file; or a PostgreSQL database (`[db] url =
//! postgresql://…`) with the same tables, views and trigger behaviour in PostgreSQL's dialect.

mod access;
mod cleanup;
pub(crate) mod db;
mod dm;
mod files;
mod messages;
mod moderation;
mod quota;
mod rooms;
mod schema;
mod tokens;
mod users;

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use db::{Db, OptionalExtension};

pub use access::{AuthOutcome, EffectivePermissions, ACTIVITY_RESOLUTION};
pub use cleanup::{CleanupReport, Retention};
pub use db::{ColumnIndex, FromValue, Row, Value as SqlValue};
pub use dm::DirectMessage;
pub use files::FileRow;
pub use messages::{Fetch, MessageRow, NewPost, ReactionInfo, Viewer};
pub use moderation::{FutureRow, OverrideRow};
pub use quota::QuotaKind;
pub use rooms::{
    Moderators, PermissionChange, PermissionOverride, Permissions, Room, RoomStats,
    ACTIVITY_WINDOWS_DAYS,
};
pub use schema::LATEST_VERSION;
pub use tokens::{ApiToken, BanRow, BotFile, BotMessage};
pub use users::User;
pub use users::SYSTEM_USER_ID;

use crate::err::{Error, Result};

/// How long a statement waits for another writer before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What an opened database holds, before any change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaState {
    /// No SOGS tables.
    Empty,
    /// At our latest version (or a PySOGS database with exactly our schema, not yet recorded).
    Current,
    /// Ours, with these migrations pending.
    Pending(Vec<i64>),
    /// A PySOGS database whose schema differs from the current PySOGS one (an older release);
    /// the strings say how.
    OldPysogs(Vec<String>),
}

/// How [`Store::initialize`] may change the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitMode {
    /// `Some(true)`: the database must be empty and is created; `Some(false)`: it must already
    /// have tables; `None`: create if empty.
    pub create: Option<bool>,
    /// Apply pending migrations; if false, pending migrations are an
    /// [`Error::UpgradeRequired`].
    pub upgrade: bool,
}

/// An open SOGS database.
#[derive(Debug)]
pub struct Store {
    conn: Db,
    /// Inside [`Store::atomic`]: a store function's own write transaction becomes a savepoint
    /// of the enclosing one.
    in_atomic: bool,
}

/// Prepared statements kept per connection (the store has about 200 distinct ones; dynamic
/// `IN (…)` lists add a few more).
const STATEMENT_CACHE: usize = 512;

impl Store {
    /// Open (creating the file if needed) a SQLite database; no schema change yet.
    pub fn open(path: &Path) -> Result<Self> {
        Self::setup(Connection::open(path)?)
    }

    /// Connect to a PostgreSQL database (`postgresql://user@host:port/dbname`); no schema
    /// change yet.
    pub fn open_postgres(url: &str) -> Result<Self> {
        Ok(Self {
            in_atomic: false,
            conn: Db::Postgres(db::pg::Worker::connect(url)?),
        })
    }

    /// Open the database a `[db] url` names: `sqlite:///PATH` or `postgresql://…`.
    pub fn open_url(config: &crate::config::Config) -> Result<Self> {
        if config.db_url.starts_with("postgresql://") {
            Self::open_postgres(&config.db_url)
        } else {
            let store = Self::open(&config.sqlite_path()?)?;
            if config.db_sync_full {
                if let Some(conn) = store.conn.sqlite() {
                    conn.pragma_update(None, "synchronous", "FULL")?;
                }
            }
            Ok(store)
        }
    }

    /// `n` read-only connections to this SQLite file, for requests that only read (none for
    /// PostgreSQL and in-memory databases). In WAL mode each sees every transaction committed
    /// before its statement began, and none of them blocks the writer.
    pub fn open_readers(&self, n: usize) -> Result<Vec<Self>> {
        let path = match self.conn.sqlite().and_then(Connection::path) {
            Some(path) if !path.is_empty() => Path::new(path).to_owned(),
            _ => return Ok(Vec::new()),
        };
        (0..n)
            .map(|_| {
                let conn = Connection::open_with_flags(
                    &path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                Self::configure(&conn)?;
                Ok(Self {
                    in_atomic: false,
                    conn: Db::Sqlite(conn),
                })
            })
            .collect()
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.conn.is_postgres()
    }

    /// A private in-memory database (tests, tools).
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    /// What every SQLite connection of ours gets: a busy timeout and a statement cache.
    fn configure(conn: &Connection) -> Result<()> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Every statement is prepared once and reused: compiling SQL was a third of the CPU
        // of a desktop `/batch` poll (docs/benchmarks.md).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(())
    }

    fn setup(conn: Connection) -> Result<Self> {
        Self::configure(&conn)?;
        // journal_mode answers with the mode in force (in-memory databases stay "memory").
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // In WAL mode NORMAL syncs at checkpoints, not at every commit: a power loss may drop
        // the last transactions but never corrupts the file. Every authenticated request writes
        // (nonce, activity), so syncing each commit would make the disk the server's limit.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(Self {
            in_atomic: false,
            conn: Db::Sqlite(conn),
        })
    }

    /// The raw SQLite connection (`None` on PostgreSQL), for tests and read-only
    /// inspection. Code that changes SOGS data belongs in this module.
    pub fn connection(&self) -> Option<&Connection> {
        self.conn.sqlite()
    }

    /// Run `f` so that all or none of its changes stay (a savepoint): PySOGS runs a request's
    /// changes in one transaction, so a failure half-way leaves nothing behind. Store functions
    /// called by `f` that open a write transaction of their own get a savepoint inside this one.
    pub fn atomic<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.in_atomic {
            return f(self);
        }
        // PostgreSQL has savepoints only inside a transaction; SQLite's outer SAVEPOINT is one.
        let (begin, commit, rollback) = if self.conn.is_postgres() {
            ("BEGIN ISOLATION LEVEL READ COMMITTED", "COMMIT", "ROLLBACK")
        } else {
            (
                "SAVEPOINT sotto_atomic",
                "RELEASE sotto_atomic",
                "ROLLBACK TO sotto_atomic; RELEASE sotto_atomic",
            )
        };
        self.conn.execute_batch(begin)?;
        self.in_atomic = true;
        // A panic in `f` (a bug) must not leave the shared connection inside this transaction
        // with every later write a savepoint of it: undo, then let the panic go on.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self)));
        self.in_atomic = false;
        let result = match result {
            Ok(result) => result,
            Err(panic) => {
                if let Err(e) = self.conn.execute_batch(rollback) {
                    tracing::error!("rolling back after a panic failed: {e}");
                }
                std::panic::resume_unwind(panic)
            }
        };
        match result {
            Ok(v) => {
                self.conn.execute_batch(commit)?;
                Ok(v)
            }
            Err(e) => {
                self.conn.execute_batch(rollback)?;
                Err(e)
            }
        }
    }

    /// Start a write transaction (`BEGIN IMMEDIATE`, as PySOGS).
    fn write(&mut self) -> Result<db::Tx<'_>> {
        if self.in_atomic {
            self.conn.savepoint()
        } else {
            self.conn.transaction()
        }
    }

    /// Inspect the schema without changing it.
    pub fn schema_state(&self) -> Result<SchemaState> {
        if self.conn.has_table("sotto_migrations")? {
            let found: i64 = self.conn.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM sotto_migrations",
                [],
                |r| r.get(0),
            )?;
            if found > LATEST_VERSION {
                return Err(Error::NewerSchema {
                    found,
                    latest: LATEST_VERSION,
                });
            }
            let pending: Vec<i64> = schema::MIGRATIONS
                .iter()
                .map(|m| m.version)
                .filter(|v| *v > found)
                .collect();
            return Ok(if pending.is_empty() {
                SchemaState::Current
            } else {
                SchemaState::Pending(pending)
            });
        }
        if self.conn.has_table("messages")? {
            let diffs = match self.conn.sqlite() {
                Some(c) => schema::differences(c, schema::PYSOGS_VERSION)?,
                // PySOGS's PostgreSQL schema is not compared object by object (yet).
                None => vec!["a PostgreSQL database not created by this server".to_owned()],
            };
            // Our later migrations (none yet) would still be pending on an adopted database.
            return Ok(if !diffs.is_empty() {
                SchemaState::OldPysogs(diffs)
            } else if schema::PYSOGS_VERSION < LATEST_VERSION {
                SchemaState::Pending(
                    schema::MIGRATIONS
                        .iter()
                        .map(|m| m.version)
                        .filter(|v| *v > schema::PYSOGS_VERSION)
                        .collect(),
                )
            } else {
                SchemaState::Current
            });
        }
        Ok(SchemaState::Empty)
    }

    /// Bring the schema to the latest version as `mode` allows (PySOGS `database_init`).
    /// Returns whether the schema was created or upgraded.
    ///
    /// A PySOGS database that matches our schema is adopted: `sotto_migrations` records it as
    /// being at the PySOGS-equivalent version, and nothing else is touched.
    pub fn initialize(&mut self, mode: InitMode) -> Result<bool> {
        let state = self.schema_state()?;
        match (&state, mode.create) {
            (SchemaState::Empty, Some(false)) => {
                return Err(Error::DbEmpty(
                    self.conn.path().unwrap_or(":memory:").to_owned(),
                ))
            }
            (SchemaState::Empty, _) => {}
            (_, Some(true)) => return Err(Error::DbExists),
            _ => {}
        }
        match state {
            SchemaState::Current => {
                self.adopt_if_unrecorded()?;
                Ok(false)
            }
            SchemaState::OldPysogs(diffs) => {
                let summary = summarize(&diffs);
                if mode.upgrade {
                    Err(Error::ForeignSchema(summary))
                } else {
                    Err(Error::UpgradeRequired(summary))
                }
            }
            SchemaState::Pending(versions) if !mode.upgrade && mode.create != Some(true) => Err(
                Error::UpgradeRequired(format!("schema migration(s) {versions:?} pending")),
            ),
            SchemaState::Pending(_) | SchemaState::Empty => {
                self.adopt_if_unrecorded()?;
                self.apply_pending()?;
                Ok(true)
            }
        }
    }

    /// Apply every migration newer than the recorded version, all in one transaction.
    fn apply_pending(&mut self) -> Result<()> {
        let pg = self.conn.is_postgres();
        let tx = self.write()?;
        tx.execute_batch(if pg {
            schema::PG_MIGRATIONS_TABLE_SQL
        } else {
            schema::MIGRATIONS_TABLE_SQL
        })?;
        let done: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM sotto_migrations",
            [],
            |r| r.get(0),
        )?;
        for m in schema::MIGRATIONS.iter().filter(|m| m.version > done) {
            tx.execute_batch(if pg { m.pg_sql } else { m.sql })?;
            tx.execute(
                "INSERT INTO sotto_migrations (version, name, how) VALUES (?1, ?2, 'applied')",
                db::params![m.version, m.name],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Create the server's own indexes that are missing ([`schema::SERVER_INDEXES`]); for a
    /// database whose schema is current.
    pub fn ensure_server_indexes(&mut self) -> Result<()> {
        let tx = self.write()?;
        for sql in schema::SERVER_INDEXES {
            tx.execute_batch(sql)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Record a matching PySOGS database as being at the PySOGS-equivalent version.
    fn adopt_if_unrecorded(&mut self) -> Result<()> {
        if self.conn.has_table("sotto_migrations")? || !self.conn.has_table("messages")? {
            return Ok(());
        }
        let pg = self.conn.is_postgres();
        let tx = self.write()?;
        tx.execute_batch(if pg {
            schema::PG_MIGRATIONS_TABLE_SQL
        } else {
            schema::MIGRATIONS_TABLE_SQL
        })?;
        for m in schema::MIGRATIONS
            .iter()
            .filter(|m| m.version <= schema::PYSOGS_VERSION)
        {
            tx.execute(
                "INSERT INTO sotto_migrations (version, name, how) VALUES (?1, ?2, 'adopted')",
                db::params![m.version, m.name],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The recorded schema version (0 if none).
    pub fn schema_version(&self) -> Result<i64> {
        if !self.conn.has_table("sotto_migrations")? {
            return Ok(0);
        }
        self.conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM sotto_migrations",
            [],
            |r| r.get(0),
        )
    }

    /// Run one statement of any SQL (tests, tools): `?N` placeholders, on either engine.
    pub fn sql_execute(&self, sql: &str, params: &[SqlValue]) -> Result<usize> {
        self.conn.execute(sql, params.to_vec())
    }

    /// The first row of any query through `f` (tests, tools); an error if there is none.
    pub fn sql_query_row<T>(
        &self,
        sql: &str,
        params: &[SqlValue],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.conn.query_row(sql, params.to_vec(), f)
    }

    /// Whether the database has any room (used to skip work on empty servers).
    pub fn has_rooms(&self) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM rooms LIMIT 1", [], |_| Ok(()))
            .optional()?
            .is_some())
    }
}

/// The first few differences, for a one-line message.
fn summarize(diffs: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut s = diffs
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if diffs.len() > SHOWN {
        s.push_str(&format!("; and {} more", diffs.len() - SHOWN));
    }
    s
}
