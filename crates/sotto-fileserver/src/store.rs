//! Storage: file bytes on disk under `DATA_DIR/files/`, metadata (ID, size, upload and expiry
//! times) in SQLite at `DATA_DIR/fileserver.db`. The only module with SQL.
//!
//! A file is written to a temporary name, synced and renamed before its row is committed, so an
//! acknowledged upload survives a crash. Expiry lives in the database, so cleanup resumes after
//! a restart.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension as _};

use crate::err::{Error, Result};
use crate::ids::FileId;

/// Database file name in the data directory.
pub const DB_FILE: &str = "fileserver.db";
/// Directory of the stored files in the data directory.
pub const FILES_DIR: &str = "files";

/// Numbered migrations; `PRAGMA user_version` is how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: the files table.
    "CREATE TABLE files (
        id TEXT PRIMARY KEY NOT NULL,
        size INTEGER NOT NULL,
        uploaded REAL NOT NULL,
        expiry REAL NOT NULL
    );
    CREATE INDEX files_expiry ON files(expiry);",
];

/// What the info and extend routes report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FileInfo {
    /// Bytes.
    pub size: u64,
    /// Upload time, Unix seconds.
    pub uploaded: f64,
    /// Expiry time, Unix seconds.
    pub expires: f64,
}

/// The outcome of an upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The file's ID.
    pub id: FileId,
    /// When it expires.
    pub expires: f64,
    /// Whether bytes were written (false for a deduplicated re-upload).
    pub written: bool,
}

/// The database connection and the files directory.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    files: PathBuf,
}

impl Store {
    /// Open (creating or migrating) the store in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self> {
        let files = data_dir.join(FILES_DIR);
        fs::create_dir_all(&files).map_err(Error::io("creating", &files))?;
        let conn = Connection::open(data_dir.join(DB_FILE))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Self { conn, files };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let supported = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        if version > supported {
            return Err(Error::SchemaTooNew {
                found: version,
                supported,
            });
        }
        for (n, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", n.saturating_add(1))?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Where `id`'s bytes are.
    pub fn path(&self, id: &FileId) -> PathBuf {
        id.path(&self.files)
    }

    /// Store a file under its content ID: a live duplicate only gets `uploaded = now` and
    /// `expiry = max(old, now + ttl)` (the reference's dedup); otherwise the bytes are written.
    pub fn put_content(&mut self, body: &[u8], now: f64, ttl: f64) -> Result<Stored> {
        let id = FileId::of_content(body);
        let expiry = now + ttl;
        let old: Option<f64> = self
            .conn
            .query_row(
                "SELECT expiry FROM files WHERE id = ?",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(old) = old.filter(|e| *e > now) {
            if self.path(&id).exists() {
                let expires = old.max(expiry);
                self.conn.execute(
                    "UPDATE files SET uploaded = ?, expiry = ? WHERE id = ?",
                    params![now, expires, id.as_str()],
                )?;
                return Ok(Stored {
                    id,
                    expires,
                    written: false,
                });
            }
        }
        self.write_file(&id, body)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO files (id, size, uploaded, expiry) VALUES (?, ?, ?, ?)",
            params![id.as_str(), body.len(), now, expiry],
        )?;
        Ok(Stored {
            id,
            expires: expiry,
            written: true,
        })
    }

    /// Store a file under a fresh random 53-bit ID (25 tries, as the reference).
    pub fn put_compat(&mut self, body: &[u8], now: f64, ttl: f64) -> Result<Stored> {
        for _ in 0..25 {
            let id = FileId::random_compat();
            let taken: bool = self.conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM files WHERE id = ?)",
                [id.as_str()],
                |r| r.get(0),
            )?;
            if taken {
                continue;
            }
            self.write_file(&id, body)?;
            self.conn.execute(
                "INSERT INTO files (id, size, uploaded, expiry) VALUES (?, ?, ?, ?)",
                params![id.as_str(), body.len(), now, now + ttl],
            )?;
            return Ok(Stored {
                id,
                expires: now + ttl,
                written: true,
            });
        }
        Err(Error::NoFreeId)
    }

    /// Temp file, fsync, rename, fsync the directory.
    fn write_file(&self, id: &FileId, body: &[u8]) -> Result<()> {
        let path = self.path(id);
        let dir = path.parent().unwrap_or(&self.files).to_owned();
        fs::create_dir_all(&dir).map_err(Error::io("creating", &dir))?;
        let tmp = dir.join(format!(".{id}.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(body)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            fs::File::open(&dir)?.sync_all()
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::io("writing", &path)(e)
        })
    }

    /// The live file's metadata, `None` if missing or expired.
    pub fn info(&self, id: &FileId, now: f64) -> Result<Option<FileInfo>> {
        Ok(self
            .conn
            .query_row(
                "SELECT size, uploaded, expiry FROM files WHERE id = ? AND expiry > ?",
                params![id.as_str(), now],
                |r| {
                    Ok(FileInfo {
                        size: r.get(0)?,
                        uploaded: r.get(1)?,
                        expires: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// The live file's bytes, `None` if missing or expired (or its bytes are gone).
    pub fn read(&self, id: &FileId, now: f64) -> Result<Option<(FileInfo, Vec<u8>)>> {
        let Some(info) = self.info(id, now)? else {
            return Ok(None);
        };
        let path = self.path(id);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some((info, bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!("file {id} in the database is missing on disk");
                Ok(None)
            }
            Err(e) => Err(Error::io("reading", &path)(e)),
        }
    }

    /// Set a live file's expiry to `max(expiry, now + ttl)`; never shortens.
    pub fn extend(&mut self, id: &FileId, now: f64, ttl: f64) -> Result<Option<FileInfo>> {
        self.conn.execute(
            "UPDATE files SET expiry = max(expiry, ?) WHERE id = ? AND expiry > ?",
            params![now + ttl, id.as_str(), now],
        )?;
        self.info(id, now)
    }

    /// Delete expired rows and their bytes; returns how many. Bytes go first: a crash in
    /// between leaves rows the next pass removes, never unreferenced bytes.
    pub fn cleanup(&mut self, now: f64) -> Result<usize> {
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id FROM files WHERE expiry <= ?")?;
            let rows = stmt.query_map([now], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let tx = self.conn.transaction()?;
        let mut removed = 0;
        for id in &ids {
            if let Some(fid) = FileId::parse(id) {
                let path = fid.path(&self.files);
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        tracing::error!("unable to remove expired file {}: {e}", path.display());
                        continue;
                    }
                }
            }
            removed += tx.execute(
                "DELETE FROM files WHERE id = ? AND expiry <= ?",
                params![id, now],
            )?;
        }
        tx.commit()?;
        Ok(removed)
    }

    /// Live files and their total size.
    pub fn stats(&self, now: f64) -> Result<(u64, u64)> {
        Ok(self.conn.query_row(
            "SELECT count(*), coalesce(sum(size), 0) FROM files WHERE expiry > ?",
            [now],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_upload_dedup_extend_cleanup() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let a = s.put_content(b"abc", 100.0, 50.0).unwrap();
        assert!(a.written);
        assert_eq!(a.expires, 150.0);
        // A re-upload with a shorter TTL keeps the later expiry.
        let b = s.put_content(b"abc", 110.0, 10.0).unwrap();
        assert_eq!(b.id, a.id);
        assert!(!b.written);
        assert_eq!(b.expires, 150.0);
        let info = s.info(&a.id, 110.0).unwrap().unwrap();
        assert_eq!((info.size, info.uploaded, info.expires), (3, 110.0, 150.0));
        // Extend never shortens.
        assert_eq!(s.extend(&a.id, 120.0, 1.0).unwrap().unwrap().expires, 150.0);
        assert_eq!(
            s.extend(&a.id, 120.0, 100.0).unwrap().unwrap().expires,
            220.0
        );
        assert_eq!(s.read(&a.id, 200.0).unwrap().unwrap().1, b"abc");
        assert!(s.read(&a.id, 220.0).unwrap().is_none());
        assert_eq!(s.cleanup(219.0).unwrap(), 0);
        assert_eq!(s.cleanup(220.0).unwrap(), 1);
        assert!(!s.path(&a.id).exists());
        assert_eq!(s.stats(0.0).unwrap(), (0, 0));
    }

    #[test]
    fn compat_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let mut s = Store::open(dir.path()).unwrap();
            s.put_compat(b"xyz", 0.0, 10.0).unwrap().id
        };
        let s = Store::open(dir.path()).unwrap();
        let (info, bytes) = s.read(&id, 5.0).unwrap().unwrap();
        assert_eq!((info.expires, bytes.as_slice()), (10.0, &b"xyz"[..]));
    }
}
