//! Message storage on SQLite: the only module of the node that speaks SQL.
//!
//! Plain types at this boundary (33-byte account keys, `i16` namespaces, hash strings, ms
//! timestamps) keep storage independent of the RPC layer that validates them. Every call takes
//! the current time explicitly, so expiry is testable.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};

use crate::err::{Error, Result};

mod migrations;

/// An account key as stored: the network prefix byte and the 32-byte key.
pub type AccountKey = [u8; 33];

/// How durable a commit is before a store is acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `fsync` at every commit: an acknowledged store survives a power cut.
    #[default]
    Full,
    /// WAL without `fsync` per commit: survives a crash of the process (e.g. `kill -9`), not of
    /// the machine. Faster under write load.
    Normal,
}

/// Options for [`Store::open`].
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Refuse new messages once the database file reaches this size, in bytes.
    pub max_bytes: u64,
    /// Commit durability.
    pub durability: Durability,
}

/// Default storage cap: 3.5 GB, as oxen-storage-server's `DB_SIZE_LIMIT` (`database.cpp`).
pub const DEFAULT_MAX_BYTES: u64 = 3_500_000_000;

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            durability: Durability::Full,
        }
    }
}

/// A stored message, as `retrieve` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    /// Storage hash (43 characters of unpadded base64).
    pub hash: String,
    /// The namespace.
    pub namespace: i16,
    /// The store timestamp the client gave, ms.
    pub timestamp: i64,
    /// When the message expires, ms.
    pub expiry: i64,
    /// The raw message data.
    pub data: Vec<u8>,
}

/// What [`Store::store`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreOutcome {
    /// The message was already stored (same hash); its expiry may have been extended.
    pub already: bool,
    /// The message's expiry after the call.
    pub expiry: i64,
}

/// A page of messages from [`Store::retrieve`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// Messages in insertion order.
    pub messages: Vec<StoredMessage>,
    /// More messages follow the last one returned.
    pub more: bool,
}

/// Limits of one [`Store::retrieve`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetrieveLimits {
    /// Return at most this many messages (0 = no limit).
    pub max_count: usize,
    /// Stop before the accounted size exceeds this many bytes; at least one message is always
    /// returned.
    pub max_size: usize,
}

/// How [`Store::expire`] may change expiries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireMode {
    /// Set the expiry whatever it was.
    Set,
    /// Only make expiries earlier.
    ShortenOnly,
    /// Only make expiries later.
    ExtendOnly,
}

/// What [`Store::expire`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExpireOutcome {
    /// Hashes whose expiry changed, sorted.
    pub updated: Vec<String>,
    /// Hashes found but left as they were (by the mode), with their current expiry.
    pub unchanged: BTreeMap<String, i64>,
}

/// The retrieve size accounting of oxen-storage-server (`database.cpp`): a fixed 100 bytes of
/// JSON overhead, the hash, and the data as base64.
pub fn retrieve_size(hash: &str, data_len: usize) -> usize {
    100 + hash.len() + data_len * 4 / 3
}

/// The message database.
pub struct Store {
    conn: Connection,
    max_bytes: u64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path, options: &StoreOptions) -> Result<Self> {
        Self::setup(Connection::open(path)?, options)
    }

    /// A second connection to the database at `path` that only reads (`PRAGMA query_only`).
    /// In WAL mode readers do not wait for the writer, so retrieves keep going while a store
    /// waits for its fsync. The writer ([`Store::open`]) must have created the schema.
    pub fn open_reader(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "query_only", "ON")?;
        Ok(Self {
            conn,
            max_bytes: u64::MAX,
        })
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory(options: &StoreOptions) -> Result<Self> {
        Self::setup(Connection::open_in_memory()?, options)
    }

    fn setup(mut conn: Connection, options: &StoreOptions) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(
            None,
            "synchronous",
            match options.durability {
                Durability::Full => "FULL",
                Durability::Normal => "NORMAL",
            },
        )?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let page_size: u64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
        // SQLite itself refuses to grow past max_page_count (SQLITE_FULL), which we report as
        // StorageFull: nothing is half-written.
        let pages = (options.max_bytes / page_size.max(1)).max(1);
        conn.pragma_update(None, "max_page_count", pages)?;
        migrations::apply(&mut conn)?;
        Ok(Self {
            conn,
            max_bytes: options.max_bytes,
        })
    }

    fn full_or(&self, err: rusqlite::Error) -> Error {
        match err.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Error::StorageFull {
                cap_bytes: self.max_bytes,
            },
            _ => Error::Database(err),
        }
    }

    /// Store a message. A message with the same hash is not stored twice; a later expiry
    /// extends the stored one.
    pub fn store(
        &self,
        owner: &AccountKey,
        namespace: i16,
        hash: &str,
        timestamp: i64,
        expiry: i64,
        data: &[u8],
    ) -> Result<StoreOutcome> {
        self.write(|tx| {
            let owner_id = owner_id(tx, owner)?;
            let inserted = tx.execute(
                "INSERT INTO messages (owner, namespace, hash, timestamp, expiry, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(hash) DO NOTHING",
                params![owner_id, namespace, hash, timestamp, expiry, data],
            )?;
            if inserted == 1 {
                return Ok(StoreOutcome {
                    already: false,
                    expiry,
                });
            }
            tx.execute(
                "UPDATE messages SET expiry = ?2 WHERE hash = ?1 AND expiry < ?2",
                params![hash, expiry],
            )?;
            let expiry = tx.query_row(
                "SELECT expiry FROM messages WHERE hash = ?1",
                params![hash],
                |r| r.get(0),
            )?;
            Ok(StoreOutcome {
                already: true,
                expiry,
            })
        })
    }

    /// Store many messages in one transaction (for imports and benchmarks); duplicates are
    /// skipped. Returns how many were new.
    pub fn bulk_store(&self, owner: &AccountKey, messages: &[StoredMessage]) -> Result<usize> {
        self.write(|tx| {
            let owner_id = owner_id(tx, owner)?;
            let mut stmt = tx.prepare_cached(
                "INSERT INTO messages (owner, namespace, hash, timestamp, expiry, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(hash) DO NOTHING",
            )?;
            let mut new = 0;
            for m in messages {
                new += stmt.execute(params![
                    owner_id,
                    m.namespace,
                    m.hash,
                    m.timestamp,
                    m.expiry,
                    m.data
                ])?;
            }
            Ok(new)
        })
    }

    /// Messages of `owner` in `namespace` stored after the message `last_hash` (from the start
    /// if it is `None` or unknown), unexpired at `now`, within `limits`.
    pub fn retrieve(
        &self,
        owner: &AccountKey,
        namespace: i16,
        last_hash: Option<&str>,
        limits: RetrieveLimits,
        now: i64,
    ) -> Result<Page> {
        // One statement, so one read transaction: the owner, the position of `last_hash` (the
        // start when it is absent, unknown, or another account's or namespace's) and the page.
        // Three statements cost three WAL read-lock round trips per retrieve.
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.hash, m.timestamp, m.expiry, m.data \
             FROM owners o JOIN messages m ON m.owner = o.id \
             WHERE o.pubkey = ?1 AND m.namespace = ?2 \
             AND m.id > COALESCE((SELECT l.id FROM messages l \
                 WHERE l.hash = ?3 AND l.owner = o.id AND l.namespace = ?2), 0) \
             AND m.expiry > ?4 ORDER BY m.id",
        )?;
        let mut rows = stmt.query(params![&owner[..], namespace, last_hash, now])?;
        let mut page = Page::default();
        let mut size = 0usize;
        while let Some(row) = rows.next()? {
            if limits.max_count > 0 && page.messages.len() >= limits.max_count {
                page.more = true;
                break;
            }
            let hash: String = row.get(0)?;
            let data: Vec<u8> = row.get(3)?;
            let cost = retrieve_size(&hash, data.len());
            if !page.messages.is_empty() && size + cost > limits.max_size {
                page.more = true;
                break;
            }
            size += cost;
            page.messages.push(StoredMessage {
                hash,
                namespace,
                timestamp: row.get(1)?,
                expiry: row.get(2)?,
                data,
            });
        }
        Ok(page)
    }

    /// Delete `owner`'s messages with these hashes; returns the hashes deleted, sorted.
    pub fn delete(&self, owner: &AccountKey, hashes: &[String]) -> Result<Vec<String>> {
        self.write(|tx| {
            let Some(owner_id) = existing_owner(tx, owner)? else {
                return Ok(Vec::new());
            };
            let mut deleted = Vec::new();
            let mut stmt =
                tx.prepare_cached("DELETE FROM messages WHERE owner = ?1 AND hash = ?2")?;
            for hash in hashes {
                if stmt.execute(params![owner_id, hash])? == 1 {
                    deleted.push(hash.clone());
                }
            }
            deleted.sort();
            deleted.dedup();
            Ok(deleted)
        })
    }

    /// Delete all of `owner`'s messages in `namespace` (every namespace if `None`) whose store
    /// timestamp is at most `before` (all of them if `None`). Returns `(namespace, hash)` pairs
    /// sorted by namespace, then hash.
    pub fn delete_all(
        &self,
        owner: &AccountKey,
        namespace: Option<i16>,
        before: Option<i64>,
    ) -> Result<Vec<(i16, String)>> {
        self.write(|tx| {
            let Some(owner_id) = existing_owner(tx, owner)? else {
                return Ok(Vec::new());
            };
            let mut stmt = tx.prepare_cached(
                "DELETE FROM messages WHERE owner = ?1 \
                 AND (?2 IS NULL OR namespace = ?2) AND (?3 IS NULL OR timestamp <= ?3) \
                 RETURNING namespace, hash",
            )?;
            let mut deleted = stmt
                .query_map(params![owner_id, namespace, before], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<rusqlite::Result<Vec<(i16, String)>>>()?;
            deleted.sort();
            Ok(deleted)
        })
    }

    /// Shorten to `expiry` every message of `owner` in `namespace` (all if `None`) that expires
    /// later. Returns the `(namespace, hash)` pairs updated, sorted.
    pub fn expire_all(
        &self,
        owner: &AccountKey,
        namespace: Option<i16>,
        expiry: i64,
    ) -> Result<Vec<(i16, String)>> {
        self.write(|tx| {
            let Some(owner_id) = existing_owner(tx, owner)? else {
                return Ok(Vec::new());
            };
            let mut stmt = tx.prepare_cached(
                "UPDATE messages SET expiry = ?3 WHERE owner = ?1 \
                 AND (?2 IS NULL OR namespace = ?2) AND expiry > ?3 RETURNING namespace, hash",
            )?;
            let mut updated = stmt
                .query_map(params![owner_id, namespace, expiry], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<rusqlite::Result<Vec<(i16, String)>>>()?;
            updated.sort();
            Ok(updated)
        })
    }

    /// Change the expiry of `owner`'s messages with these hashes, as `mode` allows.
    pub fn expire(
        &self,
        owner: &AccountKey,
        hashes: &[String],
        expiry: i64,
        mode: ExpireMode,
    ) -> Result<ExpireOutcome> {
        self.write(|tx| {
            let mut outcome = ExpireOutcome::default();
            let Some(owner_id) = existing_owner(tx, owner)? else {
                return Ok(outcome);
            };
            let mut get =
                tx.prepare_cached("SELECT expiry FROM messages WHERE owner = ?1 AND hash = ?2")?;
            let mut set = tx.prepare_cached("UPDATE messages SET expiry = ?2 WHERE hash = ?1")?;
            for hash in hashes {
                let Some(current) = get
                    .query_row(params![owner_id, hash], |r| r.get::<_, i64>(0))
                    .optional()?
                else {
                    continue;
                };
                let allowed = match mode {
                    ExpireMode::Set => current != expiry,
                    ExpireMode::ShortenOnly => expiry < current,
                    ExpireMode::ExtendOnly => expiry > current,
                };
                if allowed {
                    set.execute(params![hash, expiry])?;
                    outcome.updated.push(hash.clone());
                } else if mode != ExpireMode::Set {
                    outcome.unchanged.insert(hash.clone(), current);
                } else {
                    // Already at the requested expiry: reported as updated, as the reference does.
                    outcome.updated.push(hash.clone());
                }
            }
            outcome.updated.sort();
            outcome.updated.dedup();
            Ok(outcome)
        })
    }

    /// The expiries of `owner`'s messages with these hashes that exist and are unexpired.
    pub fn get_expiries(
        &self,
        owner: &AccountKey,
        hashes: &[String],
        now: i64,
    ) -> Result<BTreeMap<String, i64>> {
        let mut out = BTreeMap::new();
        let Some(owner_id) = self.existing_owner(owner)? else {
            return Ok(out);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT expiry FROM messages WHERE owner = ?1 AND hash = ?2 AND expiry > ?3",
        )?;
        for hash in hashes {
            if let Some(expiry) = stmt
                .query_row(params![owner_id, hash, now], |r| r.get(0))
                .optional()?
            {
                out.insert(hash.clone(), expiry);
            }
        }
        Ok(out)
    }

    /// Delete every message expired at `now`; returns how many.
    pub fn clean_expired(&self, now: i64) -> Result<usize> {
        self.write(|tx| Ok(tx.execute("DELETE FROM messages WHERE expiry <= ?1", params![now])?))
    }

    /// Number of stored messages (expired ones included until cleaned).
    pub fn message_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?)
    }

    fn existing_owner(&self, owner: &AccountKey) -> Result<Option<i64>> {
        existing_owner(&self.conn, owner)
    }

    /// A random message (and its account) that has been stored for at least `min_age_ms` and
    /// lives at least `min_life_ms` more, for storage tests.
    pub fn random_message(
        &self,
        now: i64,
        min_age_ms: i64,
        min_life_ms: i64,
    ) -> Result<Option<(AccountKey, StoredMessage)>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT o.pubkey, m.hash, m.namespace, m.timestamp, m.expiry, m.data \
                 FROM messages m JOIN owners o ON o.id = m.owner \
                 WHERE m.timestamp <= ?1 AND m.expiry >= ?2 \
                 AND m.id >= (abs(random()) % (SELECT max(id) FROM messages) + 1) \
                 ORDER BY m.id LIMIT 1",
            )?
            .query_row(params![now - min_age_ms, now + min_life_ms], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    StoredMessage {
                        hash: r.get(1)?,
                        namespace: r.get(2)?,
                        timestamp: r.get(3)?,
                        expiry: r.get(4)?,
                        data: r.get(5)?,
                    },
                ))
            })
            .optional()?;
        Ok(row.and_then(|(k, m)| AccountKey::try_from(k).ok().map(|k| (k, m))))
    }

    /// The message of `owner` with this hash, if stored and unexpired.
    pub fn message_by_hash(
        &self,
        owner: &AccountKey,
        hash: &str,
        now: i64,
    ) -> Result<Option<StoredMessage>> {
        let Some(owner_id) = self.existing_owner(owner)? else {
            return Ok(None);
        };
        Ok(self
            .conn
            .prepare_cached(
                "SELECT hash, namespace, timestamp, expiry, data FROM messages \
                 WHERE owner = ?1 AND hash = ?2 AND expiry > ?3",
            )?
            .query_row(params![owner_id, hash, now], |r| {
                Ok(StoredMessage {
                    hash: r.get(0)?,
                    namespace: r.get(1)?,
                    timestamp: r.get(2)?,
                    expiry: r.get(3)?,
                    data: r.get(4)?,
                })
            })
            .optional()?)
    }

    /// Every account with at least one stored message (for handing data over on swarm changes).
    pub fn accounts(&self) -> Result<Vec<AccountKey>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT pubkey FROM owners WHERE EXISTS (SELECT 1 FROM messages WHERE owner = owners.id)",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            // The column is CHECKed to 33 bytes.
            if let Ok(key) = AccountKey::try_from(row?) {
                out.push(key);
            }
        }
        Ok(out)
    }

    /// Every unexpired message of `owner`, all namespaces, in insertion order.
    pub fn export(&self, owner: &AccountKey, now: i64) -> Result<Vec<StoredMessage>> {
        let Some(owner_id) = self.existing_owner(owner)? else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT hash, namespace, timestamp, expiry, data FROM messages \
             WHERE owner = ?1 AND expiry > ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![owner_id, now], |r| {
            Ok(StoredMessage {
                hash: r.get(0)?,
                namespace: r.get(1)?,
                timestamp: r.get(2)?,
                expiry: r.get(3)?,
                data: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Delete the messages of `owner` whose hashes are listed (after handing them to the
    /// account's new swarm); returns how many.
    pub fn forget(&self, owner: &AccountKey, hashes: &[String]) -> Result<usize> {
        self.write(|tx| {
            let Some(owner_id) = existing_owner(tx, owner)? else {
                return Ok(0);
            };
            let mut stmt =
                tx.prepare_cached("DELETE FROM messages WHERE owner = ?1 AND hash = ?2")?;
            let mut n = 0;
            for h in hashes {
                n += stmt.execute(params![owner_id, h])?;
            }
            Ok(n)
        })
    }

    /// Run `f` in an immediate (write-locking) transaction and commit it.
    fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.full_or(e))?;
        let out = f(&tx).map_err(|e| match e {
            Error::Database(e) => self.full_or(e),
            other => other,
        })?;
        tx.commit().map_err(|e| self.full_or(e))?;
        Ok(out)
    }
}

fn existing_owner(conn: &Connection, owner: &AccountKey) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM owners WHERE pubkey = ?1")?
        .query_row(params![&owner[..]], |r| r.get(0))
        .optional()?)
}

fn owner_id(conn: &Connection, owner: &AccountKey) -> Result<i64> {
    if let Some(id) = existing_owner(conn, owner)? {
        return Ok(id);
    }
    conn.prepare_cached("INSERT INTO owners (pubkey) VALUES (?1)")?
        .execute(params![&owner[..]])?;
    Ok(conn.last_insert_rowid())
}
