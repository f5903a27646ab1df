//! Bans, permission overrides and scheduled changes as the moderation API uses them
//! (`Room.ban_user`, `unban_user`, `permissions`, `future_permissions`, `User.ban`).

use super::db::{params, OptionalExtension};

use super::rooms::PermissionOverride;
use super::Store;
use crate::err::Result;

/// One override row with the user's session ID (`Room.permissions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideRow {
    /// Session ID of the user.
    pub session_id: String,
    /// The row.
    pub perms: PermissionOverride,
}

/// A scheduled permission change or unban (`Room.future_permissions`).
#[derive(Debug, Clone, PartialEq)]
pub struct FutureRow {
    /// Session ID of the user.
    pub session_id: String,
    /// When it applies.
    pub at: f64,
    /// New `read`, if changed.
    pub read: Option<bool>,
    /// New `write`, if changed.
    pub write: Option<bool>,
    /// New `upload`, if changed.
    pub upload: Option<bool>,
    /// New ban state, for ban futures.
    pub banned: Option<bool>,
}

impl Store {
    /// Override rows of a room, all users or one.
    pub fn override_rows(&self, room_id: i64, user_id: Option<i64>) -> Result<Vec<OverrideRow>> {
        // The override columns are unambiguous: `users` has no `read`…`upload`, and its
        // `banned`/`moderator`/`admin`/`visible_mod` are shadowed by qualifying them below.
        let columns = PermissionOverride::COLUMNS
            .split(", ")
            .map(|c| format!("o.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT session_id, {columns}
             FROM user_permission_overrides o JOIN users ON o.\"user\" = users.id
             WHERE o.room = ?1 AND (?2 IS NULL OR o.\"user\" = ?2)
             ORDER BY session_id"
        ))?;
        let rows = stmt
            .query_map(params![room_id, user_id], |r| {
                Ok(OverrideRow {
                    session_id: r.get(0)?,
                    perms: PermissionOverride::from_row(r, 1)?,
                })
            })?
            .collect::<Result<_>>()?;
        Ok(rows)
    }

    /// Scheduled changes of a room (one user's if given), by time.
    pub fn future_rows(&self, room_id: i64, user_id: Option<i64>) -> Result<Vec<FutureRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT session_id, f.at, f.read, f.write, f.upload, f.banned FROM (
                 SELECT \"user\", at, read, write, upload, NULL AS banned
                 FROM user_permission_futures WHERE room = ?1
                 UNION ALL
                 SELECT \"user\", at, NULL, NULL, NULL, banned
                 FROM user_ban_futures WHERE room = ?1
             ) f JOIN users ON f.\"user\" = users.id
             WHERE ?2 IS NULL OR f.\"user\" = ?2
             ORDER BY f.at",
        )?;
        let rows = stmt
            .query_map(params![room_id, user_id], |r| {
                Ok(FutureRow {
                    session_id: r.get(0)?,
                    at: r.get(1)?,
                    read: r.get(2)?,
                    write: r.get(3)?,
                    upload: r.get(4)?,
                    banned: r.get(5)?,
                })
            })?
            .collect::<Result<_>>()?;
        Ok(rows)
    }

    /// Clear scheduled changes of the given permissions for a user (`clear_future_permissions`).
    pub fn clear_future_permissions(
        &mut self,
        room_id: i64,
        user_id: i64,
        read: bool,
        write: bool,
        upload: bool,
    ) -> Result<()> {
        let mut sets = Vec::new();
        if read {
            sets.push("read = NULL");
        }
        if write {
            sets.push("write = NULL");
        }
        if upload {
            sets.push("upload = NULL");
        }
        if sets.is_empty() {
            return Ok(());
        }
        let tx = self.write()?;
        tx.execute(
            &format!(
                "UPDATE user_permission_futures SET {} WHERE room = ?1 AND \"user\" = ?2",
                sets.join(", ")
            ),
            params![room_id, user_id],
        )?;
        // PySOGS compares with `= NULL` here, which never matches; we remove the rows it means.
        tx.execute(
            "DELETE FROM user_permission_futures WHERE room = ?1 AND \"user\" = ?2
             AND read IS NULL AND write IS NULL AND upload IS NULL",
            params![room_id, user_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Schedule a permission change.
    pub fn add_future_permission(
        &mut self,
        room_id: i64,
        user_id: i64,
        at: f64,
        read: Option<bool>,
        write: Option<bool>,
        upload: Option<bool>,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO user_permission_futures (room, \"user\", at, read, write, upload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![room_id, user_id, at, read, write, upload],
        )?;
        Ok(())
    }

    /// Ban a user from a room (dropping their room roles), replacing scheduled unbans with one at
    /// `unban_at` if given.
    pub fn ban_from_room(
        &mut self,
        room_id: i64,
        user_id: i64,
        unban_at: Option<f64>,
    ) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO user_permission_overrides (room, \"user\", banned, moderator, admin)
                 VALUES (?1, ?2, TRUE, FALSE, FALSE)
             ON CONFLICT (room, \"user\") DO UPDATE SET banned = TRUE, moderator = FALSE, admin = FALSE",
            params![room_id, user_id],
        )?;
        tx.execute(
            "DELETE FROM user_ban_futures WHERE room = ?1 AND \"user\" = ?2",
            params![room_id, user_id],
        )?;
        if let Some(at) = unban_at {
            tx.execute(
                "INSERT INTO user_ban_futures (room, \"user\", banned, at) VALUES (?1, ?2, FALSE, ?3)",
                params![room_id, user_id, at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Lift a room ban; true if there was one.
    pub fn unban_from_room(&mut self, room_id: i64, user_id: i64) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE user_permission_overrides SET banned = FALSE
             WHERE room = ?1 AND \"user\" = ?2 AND banned",
            params![room_id, user_id],
        )? > 0)
    }

    /// Ban a user globally, replacing scheduled global unbans with one at `unban_at` if given.
    pub fn ban_globally(&mut self, user_id: i64, unban_at: Option<f64>) -> Result<()> {
        let tx = self.write()?;
        tx.execute("UPDATE users SET banned = TRUE WHERE id = ?1", [user_id])?;
        tx.execute(
            "DELETE FROM user_ban_futures WHERE room IS NULL AND \"user\" = ?1",
            [user_id],
        )?;
        if let Some(at) = unban_at {
            tx.execute(
                "INSERT INTO user_ban_futures (\"user\", room, banned, at) VALUES (?1, NULL, FALSE, ?2)",
                params![user_id, at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Lift a global ban and its scheduled changes.
    pub fn unban_globally(&mut self, user_id: i64) -> Result<()> {
        let tx = self.write()?;
        tx.execute("UPDATE users SET banned = FALSE WHERE id = ?1", [user_id])?;
        tx.execute(
            "DELETE FROM user_ban_futures WHERE room IS NULL AND \"user\" = ?1",
            [user_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Remove only a user's room admin flag (`remove_moderator(remove_admin_only=True)`).
    pub fn remove_room_admin(&mut self, room_id: i64, user_id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE user_permission_overrides SET admin = FALSE WHERE room = ?1 AND \"user\" = ?2",
            params![room_id, user_id],
        )?;
        Ok(())
    }

    /// Make a user a global moderator; `admin` `None` leaves the admin flag alone.
    pub fn set_global_role(
        &mut self,
        user_id: i64,
        admin: Option<bool>,
        visible: bool,
    ) -> Result<()> {
        match admin {
            Some(admin) => self.set_global_moderator(user_id, admin, visible),
            None => {
                self.conn.execute(
                    "UPDATE users SET moderator = TRUE, visible_mod = ?2 WHERE id = ?1",
                    params![user_id, visible],
                )?;
                Ok(())
            }
        }
    }

    /// Remove only a user's global admin flag.
    pub fn remove_global_admin(&mut self, user_id: i64) -> Result<()> {
        self.conn
            .execute("UPDATE users SET admin = FALSE WHERE id = ?1", [user_id])?;
        Ok(())
    }

    /// Info-update counters of every room, by token.
    pub fn all_info_updates(&self) -> Result<Vec<(String, i64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT token, info_updates FROM rooms ORDER BY token")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_>>()?;
        Ok(rows)
    }

    /// Whether a user exists with this id (cheap existence check).
    pub fn user_exists(&self, user_id: i64) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM users WHERE id = ?1", [user_id], |_| Ok(()))
            .optional()?
            .is_some())
    }
}
