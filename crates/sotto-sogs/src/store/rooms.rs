//! Rooms: creation, deletion, settings, room moderators and permission overrides.

use super::db::{params, OptionalExtension, Row, ToValue};

use super::Store;
use crate::err::{Error, Result};
use crate::ids::RoomToken;

/// Seconds per day.
const DAY: f64 = 86_400.0;

/// Activity windows the CLI reports, in days (`sogs/__main__.py` `print_room`).
pub const ACTIVITY_WINDOWS_DAYS: [u32; 4] = [1, 7, 14, 30];

/// A row of `rooms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    /// Database id.
    pub id: i64,
    /// The token as stored.
    pub token: String,
    /// Display name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// Image file id, if any.
    pub image: Option<i64>,
    /// Creation time, unix seconds.
    pub created: f64,
    /// Seqno of the newest message change.
    pub message_sequence: i64,
    /// Counter of metadata changes.
    pub info_updates: i64,
    /// Active users over the default window (refreshed by the cleanup job).
    pub active_users: i64,
    /// Default read permission.
    pub default_read: bool,
    /// Default accessible permission (metadata visible without read).
    pub default_accessible: bool,
    /// Default write permission.
    pub default_write: bool,
    /// Default upload permission.
    pub default_upload: bool,
}

impl Room {
    const COLUMNS: &'static str = "id, token, name, description, image, created, \
        message_sequence, info_updates, active_users, read, accessible, write, upload";

    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            token: r.get(1)?,
            name: r.get(2)?,
            description: r.get(3)?,
            image: r.get(4)?,
            created: r.get(5)?,
            message_sequence: r.get(6)?,
            info_updates: r.get(7)?,
            active_users: r.get(8)?,
            default_read: r.get(9)?,
            default_accessible: r.get(10)?,
            default_write: r.get(11)?,
            default_upload: r.get(12)?,
        })
    }
}

/// Moderators split as PySOGS reports them, each list of session IDs sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moderators {
    /// Visible moderators (not admins).
    pub visible_mods: Vec<String>,
    /// Visible admins.
    pub visible_admins: Vec<String>,
    /// Hidden moderators.
    pub hidden_mods: Vec<String>,
    /// Hidden admins.
    pub hidden_admins: Vec<String>,
}

impl Moderators {
    /// Sort the rows of `stmt` — `(session_id, admin, visible_mod)` — into the four lists.
    pub(super) fn from_query<P: super::db::Params>(
        stmt: &mut super::db::Statement<'_>,
        params: P,
    ) -> Result<Self> {
        let mut mods = Self::default();
        let rows = stmt.query_map(params, |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
        })?;
        for row in rows {
            let (session_id, admin, visible) = row?;
            match (admin, visible) {
                (true, true) => mods.visible_admins.push(session_id),
                (true, false) => mods.hidden_admins.push(session_id),
                (false, true) => mods.visible_mods.push(session_id),
                (false, false) => mods.hidden_mods.push(session_id),
            }
        }
        Ok(mods)
    }

    /// Admins, visible and hidden.
    pub fn admin_count(&self) -> usize {
        self.visible_admins.len() + self.hidden_admins.len()
    }

    /// Moderators that are not admins, visible and hidden.
    pub fn mod_count(&self) -> usize {
        self.visible_mods.len() + self.hidden_mods.len()
    }

    /// No moderators at all.
    pub fn is_empty(&self) -> bool {
        self.admin_count() + self.mod_count() == 0
    }
}

/// Figures about a room, as `sogs --list-rooms` prints them.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomStats {
    /// Live (not deleted, not filtered) messages.
    pub messages: i64,
    /// Their padded size in bytes.
    pub message_bytes: i64,
    /// Attachments stored for the room.
    pub files: i64,
    /// Their size in bytes.
    pub file_bytes: i64,
    /// Uses of each reaction, most used first (ties by reaction text).
    pub reactions: Vec<(String, i64)>,
    /// Users active in the last 1, 7, 14 and 30 days ([`ACTIVITY_WINDOWS_DAYS`]).
    pub active: [i64; 4],
    /// Room-level moderators and admins (not global ones).
    pub moderators: Moderators,
}

/// A row of `user_permission_overrides`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermissionOverride {
    /// Banned from the room.
    pub banned: bool,
    /// `read` override; `None` = room default.
    pub read: Option<bool>,
    /// `accessible` override.
    pub accessible: Option<bool>,
    /// `write` override.
    pub write: Option<bool>,
    /// `upload` override.
    pub upload: Option<bool>,
    /// Room moderator.
    pub moderator: bool,
    /// Room admin.
    pub admin: bool,
    /// Listed publicly as a moderator.
    pub visible_mod: bool,
}

impl PermissionOverride {
    /// The columns [`PermissionOverride::from_row`] reads, in order.
    pub(super) const COLUMNS: &'static str =
        "banned, read, accessible, write, upload, moderator, admin, visible_mod";

    /// Read [`PermissionOverride::COLUMNS`] from a row, starting at column `at`.
    pub(super) fn from_row(r: &Row<'_>, at: usize) -> Result<Self> {
        Ok(Self {
            banned: r.get(at)?,
            read: r.get(at + 1)?,
            accessible: r.get(at + 2)?,
            write: r.get(at + 3)?,
            upload: r.get(at + 4)?,
            moderator: r.get(at + 5)?,
            admin: r.get(at + 6)?,
            visible_mod: r.get(at + 7)?,
        })
    }
}

/// A change to one permission: grant, deny, or back to the default (`None`).
pub type PermissionChange = Option<bool>;

/// Changes to the four permissions; a field left `None` here is not touched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions {
    /// `read`.
    pub read: Option<PermissionChange>,
    /// `accessible`.
    pub accessible: Option<PermissionChange>,
    /// `write`.
    pub write: Option<PermissionChange>,
    /// `upload`.
    pub upload: Option<PermissionChange>,
}

impl Permissions {
    fn fields(&self) -> [(&'static str, Option<PermissionChange>); 4] {
        [
            ("read", self.read),
            ("accessible", self.accessible),
            ("write", self.write),
            ("upload", self.upload),
        ]
    }

    /// True when nothing is to change.
    pub fn is_empty(&self) -> bool {
        self.fields().iter().all(|(_, v)| v.is_none())
    }
}

fn room_not_found(token: &str) -> Error {
    Error::NoSuchRoom(token.to_owned())
}

impl Store {
    /// Create a room; its defaults are PySOGS's (everyone may read, write, upload).
    pub fn add_room(
        &mut self,
        token: &RoomToken,
        name: &str,
        description: Option<&str>,
    ) -> Result<Room> {
        let tx = self.write()?;
        let inserted: Option<i64> = tx
            .query_row(
                "INSERT INTO rooms (token, name, description) VALUES (?1, ?2, ?3)
                 ON CONFLICT (token) DO NOTHING RETURNING id",
                params![token.as_str(), name, description],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = inserted else {
            return Err(Error::RoomExists(token.to_string()));
        };
        tx.commit()?;
        self.room_by_id(id)?
            .ok_or_else(|| room_not_found(token.as_str()))
    }

    /// The room with this token (case-insensitive), if any.
    pub fn room(&self, token: &RoomToken) -> Result<Option<Room>> {
        self.conn
            .query_row(
                &format!("SELECT {} FROM rooms WHERE token = ?1", Room::COLUMNS),
                [token.as_str()],
                Room::from_row,
            )
            .optional()
    }

    /// The room with this token, or [`Error::NoSuchRoom`].
    pub fn require_room(&self, token: &RoomToken) -> Result<Room> {
        self.room(token)?
            .ok_or_else(|| room_not_found(token.as_str()))
    }

    fn room_by_id(&self, id: i64) -> Result<Option<Room>> {
        self.conn
            .query_row(
                &format!("SELECT {} FROM rooms WHERE id = ?1", Room::COLUMNS),
                [id],
                Room::from_row,
            )
            .optional()
    }

    /// Every room, by token.
    pub fn rooms(&self) -> Result<Vec<Room>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {} FROM rooms ORDER BY token",
            Room::COLUMNS
        ))?;
        let rooms = stmt.query_map([], Room::from_row)?.collect::<Result<_>>()?;
        Ok(rooms)
    }

    /// Counts for one room at time `now` (unix seconds).
    pub fn room_stats(&self, room_id: i64, now: f64) -> Result<RoomStats> {
        let (messages, message_bytes) = self.conn.query_row(
            "SELECT COUNT(*), CAST(COALESCE(SUM(data_size), 0) AS BIGINT) FROM messages
             WHERE room = ?1 AND data IS NOT NULL AND NOT filtered",
            [room_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (files, file_bytes) = self.conn.query_row(
            "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files WHERE room = ?1",
            [room_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let reactions = self
            .conn
            .prepare(
                "SELECT r.reaction, COUNT(*) AS n FROM message_reactions r
                 JOIN messages m ON m.id = r.message
                 WHERE m.room = ?1 GROUP BY r.reaction ORDER BY n DESC, r.reaction",
            )?
            .query_map([room_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_>>()?;
        let mut active = [0i64; 4];
        for (slot, days) in active.iter_mut().zip(ACTIVITY_WINDOWS_DAYS) {
            *slot = self.conn.query_row(
                "SELECT COUNT(*) FROM room_users WHERE room = ?1 AND last_active >= ?2",
                params![room_id, now - f64::from(days) * DAY],
                |r| r.get(0),
            )?;
        }
        Ok(RoomStats {
            messages,
            message_bytes,
            files,
            file_bytes,
            reactions,
            active,
            moderators: self.room_moderators(room_id)?,
        })
    }

    /// Delete a room and everything in it (messages, reactions, pins, overrides; its files lose
    /// their room and expire at once). Returns its figures just before deletion.
    pub fn delete_room(&mut self, token: &RoomToken, now: f64) -> Result<RoomStats> {
        let room = self.require_room(token)?;
        let stats = self.room_stats(room.id, now)?;
        let tx = self.write()?;
        // user_reactions -> reactions has no ON DELETE CASCADE, so clear them first.
        tx.execute(
            "DELETE FROM user_reactions WHERE reaction IN (
                 SELECT r.id FROM reactions r JOIN messages m ON m.id = r.message
                 WHERE m.room = ?1)",
            [room.id],
        )?;
        let deleted = tx.execute("DELETE FROM rooms WHERE id = ?1", [room.id])?;
        if deleted != 1 {
            return Err(room_not_found(token.as_str()));
        }
        tx.commit()?;
        Ok(stats)
    }

    /// Rename a room.
    pub fn set_room_name(&mut self, room_id: i64, name: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE rooms SET name = ?2 WHERE id = ?1",
            params![room_id, name],
        )?;
        Ok(())
    }

    /// Set or clear a room's description.
    pub fn set_room_description(&mut self, room_id: i64, description: Option<&str>) -> Result<()> {
        self.conn.execute(
            "UPDATE rooms SET description = ?2 WHERE id = ?1",
            params![room_id, description],
        )?;
        Ok(())
    }

    /// Change a room's default permissions; `Some(None)` is not meaningful for defaults and
    /// leaves that permission alone.
    pub fn set_default_permissions(&mut self, room_id: i64, perms: &Permissions) -> Result<()> {
        let tx = self.write()?;
        for (column, change) in perms.fields() {
            if let Some(Some(value)) = change {
                // Column names come from the fixed list above, never from input.
                tx.execute(
                    &format!("UPDATE rooms SET {column} = ?2 WHERE id = ?1"),
                    params![room_id, value],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Set a user's permission overrides in a room (`Room.set_permissions`): `Some(Some(b))`
    /// overrides, `Some(None)` returns to the room default. A row left overriding nothing is
    /// deleted (by the `user_perms_empty_cleanup` trigger).
    pub fn set_user_permissions(
        &mut self,
        room_id: i64,
        user_id: i64,
        perms: &Permissions,
    ) -> Result<()> {
        let changes: Vec<(&str, Option<bool>)> = perms
            .fields()
            .into_iter()
            .filter_map(|(column, change)| change.map(|v| (column, v)))
            .collect();
        if changes.is_empty() {
            return Ok(());
        }
        // Column names come from the fixed list in `Permissions::fields`, never from input.
        // One UPDATE, so the cleanup trigger judges the row only once it is complete.
        let set = changes
            .iter()
            .enumerate()
            .map(|(i, (column, _))| format!("{column} = ?{}", i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let mut values = vec![room_id.to_value(), user_id.to_value()];
        values.extend(changes.iter().map(|(_, v)| v.to_value()));
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO user_permission_overrides (room, \"user\") VALUES (?1, ?2)
             ON CONFLICT (room, \"user\") DO NOTHING",
            params![room_id, user_id],
        )?;
        tx.execute(
            &format!(
                "UPDATE user_permission_overrides SET {set} WHERE room = ?1 AND \"user\" = ?2"
            ),
            values,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A user's override row in a room, if there is one.
    pub fn permission_override(
        &self,
        room_id: i64,
        user_id: i64,
    ) -> Result<Option<PermissionOverride>> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {} FROM user_permission_overrides WHERE room = ?1 AND \"user\" = ?2",
                    PermissionOverride::COLUMNS
                ),
                params![room_id, user_id],
                |r| PermissionOverride::from_row(r, 0),
            )
            .optional()
    }

    /// Make a user a moderator of a room (`Room.set_moderator`). `admin`: `Some` sets the admin
    /// flag, `None` leaves it as it is.
    pub fn set_room_moderator(
        &mut self,
        room_id: i64,
        user_id: i64,
        admin: Option<bool>,
        visible: bool,
    ) -> Result<()> {
        match admin {
            Some(admin) => self.conn.execute(
                "INSERT INTO user_permission_overrides (room, \"user\", moderator, admin, visible_mod)
                     VALUES (?1, ?2, TRUE, ?3, ?4)
                 ON CONFLICT (room, \"user\") DO UPDATE SET
                     moderator = excluded.moderator, admin = excluded.admin,
                     visible_mod = excluded.visible_mod",
                params![room_id, user_id, admin, visible],
            )?,
            None => self.conn.execute(
                "INSERT INTO user_permission_overrides (room, \"user\", moderator, visible_mod)
                     VALUES (?1, ?2, TRUE, ?3)
                 ON CONFLICT (room, \"user\") DO UPDATE SET
                     moderator = excluded.moderator, visible_mod = excluded.visible_mod",
                params![room_id, user_id, visible],
            )?,
        };
        Ok(())
    }

    /// Remove a user's moderator and admin roles in a room (`Room.remove_moderator`).
    pub fn remove_room_moderator(&mut self, room_id: i64, user_id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE user_permission_overrides
             SET admin = FALSE, moderator = FALSE, visible_mod = TRUE
             WHERE room = ?1 AND \"user\" = ?2",
            params![room_id, user_id],
        )?;
        Ok(())
    }

    /// Room-level moderators and admins of a room (not global ones), sorted by session ID.
    pub fn room_moderators(&self, room_id: i64) -> Result<Moderators> {
        let mut stmt = self.conn.prepare(
            "SELECT users.session_id, o.admin, o.visible_mod
             FROM user_permission_overrides o JOIN users ON users.id = o.\"user\"
             WHERE o.room = ?1 AND o.moderator
             ORDER BY users.session_id",
        )?;
        Moderators::from_query(&mut stmt, [room_id])
    }
}
