//! Uploaded files (`files` table); the bytes live on disk (`uploads/<token>/<id>_<name>`).

use super::db::{params, OptionalExtension};

use super::Store;
use crate::err::Result;

/// A row of `files`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRow {
    /// File id.
    pub id: i64,
    /// Size in bytes.
    pub size: i64,
    /// Upload time.
    pub uploaded: f64,
    /// Expiry time; `None` = never.
    pub expiry: Option<f64>,
    /// The name the uploader gave.
    pub filename: Option<String>,
    /// Path on disk.
    pub path: String,
}

impl Store {
    /// Insert a file row with a placeholder path; returns its id.
    pub fn insert_file(
        &mut self,
        room_id: i64,
        uploader: i64,
        size: usize,
        now: f64,
        expiry: Option<f64>,
        filename: Option<&str>,
    ) -> Result<i64> {
        self.conn.query_row(
            "INSERT INTO files (room, uploader, size, uploaded, expiry, filename, path)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'tmp') RETURNING id",
            params![
                room_id,
                uploader,
                i64::try_from(size).unwrap_or(i64::MAX),
                now,
                expiry,
                filename
            ],
            |r| r.get(0),
        )
    }

    /// Record where a file's bytes were written.
    pub fn set_file_path(&mut self, file_id: i64, path: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE files SET path = ?2 WHERE id = ?1",
            params![file_id, path],
        )?;
        Ok(())
    }

    /// Remove a file row (after a failed write).
    pub fn delete_file_row(&mut self, file_id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM files WHERE id = ?1", [file_id])?;
        Ok(())
    }

    /// A file of a room that has not expired at `now` (`Room.get_file`).
    pub fn room_file(&self, room_id: i64, file_id: i64, now: f64) -> Result<Option<FileRow>> {
        self.conn
            .query_row(
                "SELECT id, size, uploaded, expiry, filename, path FROM files
                 WHERE room = ?1 AND id = ?2 AND (expiry IS NULL OR expiry > ?3)",
                params![room_id, file_id, now],
                |r| {
                    Ok(FileRow {
                        id: r.get(0)?,
                        size: r.get(1)?,
                        uploaded: r.get(2)?,
                        expiry: r.get(3)?,
                        filename: r.get(4)?,
                        path: r.get(5)?,
                    })
                },
            )
            .optional()
    }

    /// Make a file the room image (`Room.image` setter): the file becomes permanent and the
    /// `room_image_expiry` trigger expires the old image (PySOGS first gives it the default
    /// expiry, which the trigger then overrides). Returns false if the file is missing or from
    /// another room.
    pub fn set_room_image(&mut self, room_id: i64, file_id: i64) -> Result<bool> {
        let tx = self.write()?;
        let ok: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM files WHERE id = ?1 AND room = ?2)",
            params![file_id, room_id],
            |r| r.get(0),
        )?;
        if !ok {
            return Ok(false);
        }
        tx.execute(
            "UPDATE rooms SET image = ?2 WHERE id = ?1",
            params![room_id, file_id],
        )?;
        tx.execute("UPDATE files SET expiry = NULL WHERE id = ?1", [file_id])?;
        tx.commit()?;
        Ok(true)
    }
}
