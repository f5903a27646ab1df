//! The periodic cleanup (`sogs/cleanup.py`, every 10 s): expired files, old edit history,
//! expired DMs, old room activity and the `active_users` counts, due permission and ban
//! changes, expired nonces.

use super::db::params;

use super::Store;
use crate::err::Result;

/// The retention settings the cleanup uses, in seconds (from the config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    /// `[messages] history_prune_threshold`.
    pub history: f64,
    /// `[rooms] active_prune_threshold`.
    pub activity_prune: f64,
    /// `[rooms] active_threshold`.
    pub active_window: f64,
}

/// What one cleanup pass did, in PySOGS's tuple order (files, history, room activity,
/// permission updates, nonces), plus DMs and the files to unlink.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// File rows deleted.
    pub files: usize,
    /// Message history rows deleted.
    pub history: usize,
    /// Room activity rows deleted.
    pub room_activity: usize,
    /// Permission changes and (un)bans applied.
    pub permission_updates: usize,
    /// Nonces deleted.
    pub nonces: usize,
    /// Expired DMs deleted.
    pub dms: usize,
    /// Paths of the deleted files' bytes, to remove from disk.
    pub paths: Vec<String>,
}

impl Store {
    /// One cleanup pass at time `now`.
    pub fn cleanup(&mut self, now: f64, retention: Retention) -> Result<CleanupReport> {
        let mut report = CleanupReport::default();
        {
            let tx = self.write()?;
            report.paths = {
                let mut stmt = tx.prepare("SELECT path FROM files WHERE expiry < ?1")?;

                stmt.query_map([now], |r| r.get(0))?
                    .collect::<Result<_>>()?
            };
            report.files = tx.execute("DELETE FROM files WHERE expiry < ?1", [now])?;
            tx.commit()?;
        }
        report.history = self.conn.execute(
            "DELETE FROM message_history WHERE replaced < ?1",
            [now - retention.history],
        )?;
        report.dms = self
            .conn
            .execute("DELETE FROM inbox WHERE expiry < ?1", [now])?;
        report.room_activity = self.conn.execute(
            "DELETE FROM room_users WHERE last_active < ?1",
            [now - retention.activity_prune],
        )?;
        self.conn.execute(
            "UPDATE rooms SET active_users = (
                 SELECT COUNT(*) FROM room_users WHERE room = rooms.id AND last_active >= ?1)",
            [now - retention.active_window],
        )?;
        report.permission_updates = self.apply_due_changes(now)?;
        report.nonces = self
            .conn
            .execute("DELETE FROM user_request_nonces WHERE expiry < ?1", [now])?;
        Ok(report)
    }

    /// Apply scheduled permission changes and (un)bans that are due (`apply_permission_updates`):
    /// a change equal to the room default becomes "no override".
    fn apply_due_changes(&mut self, now: f64) -> Result<usize> {
        let tx = self.write()?;
        let perms = tx.execute(
            "INSERT INTO user_permission_overrides (room, \"user\", read, write, upload)
             SELECT f.room, f.\"user\",
                 CASE WHEN f.read IS NULL THEN o.read ELSE NULLIF(f.read, r.read) END,
                 CASE WHEN f.write IS NULL THEN o.write ELSE NULLIF(f.write, r.write) END,
                 CASE WHEN f.upload IS NULL THEN o.upload ELSE NULLIF(f.upload, r.upload) END
             FROM user_permission_futures f
                 JOIN rooms r ON f.room = r.id
                 LEFT JOIN user_permission_overrides o ON f.room = o.room AND f.\"user\" = o.\"user\"
             WHERE at <= ?1
             ORDER BY at
             ON CONFLICT (room, \"user\") DO UPDATE SET
                 read = excluded.read, write = excluded.write, upload = excluded.upload",
            [now],
        )?;
        if perms > 0 {
            tx.execute("DELETE FROM user_permission_futures WHERE at <= ?1", [now])?;
        }
        let bans: Vec<(i64, Option<i64>, bool)> = {
            let mut stmt = tx.prepare(
                "SELECT \"user\", room, banned FROM user_ban_futures WHERE at <= ?1 ORDER BY at",
            )?;

            stmt.query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_>>()?
        };
        for (user, room, banned) in &bans {
            match room {
                None => {
                    tx.execute(
                        "UPDATE users SET banned = ?2 WHERE id = ?1",
                        params![user, banned],
                    )?;
                }
                Some(room) => {
                    tx.execute(
                        "INSERT INTO user_permission_overrides (room, \"user\", banned)
                         VALUES (?1, ?2, ?3)
                         ON CONFLICT (room, \"user\") DO UPDATE SET banned = excluded.banned",
                        params![room, user, banned],
                    )?;
                }
            }
        }
        if !bans.is_empty() {
            tx.execute("DELETE FROM user_ban_futures WHERE at <= ?1", [now])?;
        }
        tx.commit()?;
        Ok(perms + bans.len())
    }
}
