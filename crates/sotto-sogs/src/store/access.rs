//! What the HTTP layer asks on every request: who the caller is (user rows created on first
//! contact, blinding hand-over, nonces, activity) and what they may do in a room.

use super::db::{params, OptionalExtension};

use super::rooms::{Moderators, Room};
use super::users::User;
use super::Store;
use crate::err::Result;

/// Seconds within which a user's `users.last_active` and `room_users.last_active` are not
/// rewritten. Ours, not PySOGS's (which writes both on every request): what reads them are the
/// active-user counts over 1 to 30 days (`rooms.active_users`, room statistics) and the cleanup
/// of rows older than those, for which a minute is far below their resolution; rewriting them
/// was a database write on every signed request (WAL pages of `users` and its index).
pub const ACTIVITY_RESOLUTION: f64 = 60.0;

/// How the database steps of authentication ended ([`Store::authenticate`]).
#[derive(Debug, Clone, PartialEq)]
pub enum AuthOutcome {
    /// Authenticated as this user.
    Ok(User),
    /// The user is globally banned.
    Banned,
    /// The nonce was used before.
    NonceReused,
    /// The signature does not verify.
    BadSignature,
}

/// A caller's effective permissions in one room (view `user_permissions`, or the room defaults
/// for anonymous callers), checked as PySOGS's `Room.check_permission` does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EffectivePermissions {
    /// Banned (room or global).
    pub banned: bool,
    /// May read messages.
    pub read: bool,
    /// May see the room without reading.
    pub accessible: bool,
    /// May post.
    pub write: bool,
    /// May upload.
    pub upload: bool,
    /// Room or global moderator.
    pub moderator: bool,
    /// Room or global admin.
    pub admin: bool,
}

impl EffectivePermissions {
    /// Admins pass everything, moderators everything but admin checks, banned users nothing.
    fn check(&self, admin: bool, moderator: bool, f: impl FnOnce(&Self) -> bool) -> bool {
        if self.admin {
            return true;
        }
        if admin {
            return false;
        }
        if self.moderator {
            return true;
        }
        if moderator {
            return false;
        }
        !self.banned && f(self)
    }

    /// `check_read`.
    pub fn can_read(&self) -> bool {
        self.check(false, false, |p| p.read)
    }

    /// `check_accessible`: read implies accessible.
    pub fn can_access(&self) -> bool {
        self.check(false, false, |p| p.read || p.accessible)
    }

    /// `check_write`.
    pub fn can_write(&self) -> bool {
        self.check(false, false, |p| p.write)
    }

    /// `check_upload`: write and upload.
    pub fn can_upload(&self) -> bool {
        self.check(false, false, |p| p.write && p.upload)
    }

    /// `check_moderator`.
    pub fn is_moderator(&self) -> bool {
        self.check(false, true, |_| true)
    }

    /// `check_admin`.
    pub fn is_admin(&self) -> bool {
        self.check(true, false, |_| true)
    }

    /// `check_unbanned`.
    pub fn unbanned(&self) -> bool {
        self.check(false, false, |_| true)
    }
}

impl Store {
    /// The user row for an authenticated request (PySOGS `User(session_id, autovivify=True)`):
    /// the existing row, else — with blinding required and a `15` ID — the unblinded user
    /// waiting in `needs_blinding` moved to the new ID, else a new row. Returns the user and
    /// whether the row was created now.
    pub fn user_for_request(
        &mut self,
        session_id: &str,
        require_blind: bool,
    ) -> Result<(User, bool)> {
        if let Some(user) = self.user_by_session_id(session_id)? {
            return Ok((user, false));
        }
        let tx = self.write()?;
        let found = user_row(&tx, session_id, require_blind)?;
        tx.commit()?;
        Ok(found)
    }

    /// The database steps of request authentication, in PySOGS's order and in one transaction
    /// (one commit per request): user row (created or handed over) → global ban → nonce →
    /// signature (`signature_ok`, checked by the caller beforehand) → `last_active`. The user
    /// row and the nonce are kept even when a later step fails, as in PySOGS.
    pub fn authenticate(
        &mut self,
        session_id: &str,
        require_blind: bool,
        nonce: &[u8],
        signature_ok: bool,
        now: f64,
    ) -> Result<AuthOutcome> {
        let tx = self.write()?;
        let (user, created) = user_row(&tx, session_id, require_blind)?;
        let outcome = if user.banned {
            AuthOutcome::Banned
        } else if tx.execute(
            "INSERT INTO user_request_nonces (\"user\", nonce) VALUES (?1, ?2)
             ON CONFLICT (nonce) DO NOTHING",
            params![user.id, nonce],
        )? == 0
        {
            AuthOutcome::NonceReused
        } else if !signature_ok {
            AuthOutcome::BadSignature
        } else {
            // The row just read says whether the write is due.
            if !created && user.last_active < now - ACTIVITY_RESOLUTION {
                touch(&tx, user.id, now)?;
            }
            AuthOutcome::Ok(user)
        };
        tx.commit()?;
        Ok(outcome)
    }

    /// Record a user's activity (`User(touch=True)`): `last_active` becomes `now`, unless it
    /// is less than [`ACTIVITY_RESOLUTION`] old.
    pub fn touch_user(&mut self, user_id: i64, now: f64) -> Result<()> {
        touch(&self.conn, user_id, now)
    }

    /// Record that a user polled a room (`User.update_room_activity`). A `last_active` less
    /// than [`ACTIVITY_RESOLUTION`] (60 s) old is left as it is: a desktop polls each of its rooms
    /// every few seconds, several times per `/batch`, and rewriting the row each time was a
    /// database commit per room per poll, while what reads it counts users active over days.
    pub fn touch_room_activity(&mut self, room_id: i64, user_id: i64, now: f64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO room_users (\"user\", room) VALUES (?1, ?2)
             ON CONFLICT (\"user\", room) DO UPDATE SET last_active = ?3
             WHERE room_users.last_active < ?4",
            params![user_id, room_id, now, now - ACTIVITY_RESOLUTION],
        )?;
        Ok(())
    }

    /// A caller's permissions in a room: the `user_permissions` view, or the room defaults for
    /// anonymous callers.
    pub fn permissions(&self, room: &Room, user: Option<&User>) -> Result<EffectivePermissions> {
        let Some(user) = user else {
            return Ok(EffectivePermissions {
                banned: false,
                read: room.default_read,
                accessible: room.default_accessible,
                write: room.default_write,
                upload: room.default_upload,
                moderator: false,
                admin: false,
            });
        };
        Ok(self
            .conn
            .query_row(
                "SELECT banned, read, accessible, write, upload, moderator, admin
                 FROM user_permissions WHERE room = ?1 AND \"user\" = ?2",
                params![room.id, user.id],
                |r| {
                    Ok(EffectivePermissions {
                        banned: r.get(0)?,
                        read: r.get(1)?,
                        accessible: r.get(2)?,
                        write: r.get(3)?,
                        upload: r.get(4)?,
                        moderator: r.get(5)?,
                        admin: r.get(6)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    /// Rooms the caller can see, by token (`get_accessible_rooms`).
    pub fn accessible_rooms(&self, user: Option<&User>) -> Result<Vec<Room>> {
        let rooms = self.rooms()?;
        let mut out = Vec::with_capacity(rooms.len());
        for room in rooms {
            let visible = match user {
                None => room.default_read || room.default_accessible,
                Some(_) => {
                    let p = self.permissions(&room, user)?;
                    !p.banned && (p.read || p.accessible)
                }
            };
            if visible {
                out.push(room);
            }
        }
        Ok(out)
    }

    /// Rooms where the user is a moderator (or admin, if `admin`), restricted to `tokens` when
    /// given (`get_rooms_with_permission`), by token.
    pub fn rooms_with_role(
        &self,
        user: &User,
        tokens: Option<&[String]>,
        admin: bool,
    ) -> Result<Vec<Room>> {
        let mut out = Vec::new();
        for room in self.rooms()? {
            if let Some(tokens) = tokens {
                if !tokens.iter().any(|t| t.eq_ignore_ascii_case(&room.token)) {
                    continue;
                }
            }
            let p = self.permissions(&room, Some(user))?;
            if p.moderator && (!admin || p.admin) {
                out.push(room);
            }
        }
        Ok(out)
    }

    /// Moderators and admins of a room as callers see them (`Room.get_mods`): room-level
    /// visibility wins over global, hidden ones only if `include_hidden`, never the system user.
    pub fn visible_moderators(&self, room_id: i64, include_hidden: bool) -> Result<Moderators> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT session_id, admin, visible_mod FROM room_moderators
             WHERE room = ?1 {} AND \"user\" != 0 AND session_id NOT LIKE 'ff%'
             ORDER BY session_id",
            if include_hidden {
                ""
            } else {
                "AND visible_mod"
            }
        ))?;
        Moderators::from_query(&mut stmt, [room_id])
    }

    /// Pinned messages of a room in pin order: (message id, pinned_at, pinned_by session ID).
    pub fn pinned_messages(&self, room_id: i64) -> Result<Vec<(i64, f64, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT message, pinned_at, users.session_id
             FROM pinned_messages JOIN users ON pinned_by = users.id
             WHERE room = ?1 ORDER BY pinned_at",
        )?;
        let rows = stmt
            .query_map([room_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_>>()?;
        Ok(rows)
    }

    /// The existing user for an account ID text, trying its blinded forms for a `05` ID when
    /// `blinded` gives them (PySOGS `User(try_blinding=True, autovivify=False)`).
    pub fn find_user(
        &self,
        session_id: &str,
        blinded: Option<[String; 2]>,
    ) -> Result<Option<User>> {
        if let Some([pos, neg]) = blinded {
            let found = self
                .conn
                .query_row(
                    &format!(
                        "SELECT {} FROM users WHERE session_id IN (?1, ?2) LIMIT 1",
                        User::COLUMNS
                    ),
                    [pos, neg],
                    User::from_row,
                )
                .optional()?;
            if found.is_some() {
                return Ok(found);
            }
        }
        self.user_by_session_id(session_id)
    }
}

/// `users.last_active = now`, unless it is less than [`ACTIVITY_RESOLUTION`] old.
fn touch(db: &super::db::Db, user_id: i64, now: f64) -> Result<()> {
    db.execute(
        "UPDATE users SET last_active = ?2 WHERE id = ?1 AND last_active < ?3",
        params![user_id, now, now - ACTIVITY_RESOLUTION],
    )?;
    Ok(())
}

/// The user row for a session ID inside a write transaction (see [`Store::user_for_request`]).
fn user_row(tx: &super::db::Db, session_id: &str, require_blind: bool) -> Result<(User, bool)> {
    let existing = tx
        .query_row(
            &format!("SELECT {} FROM users WHERE session_id = ?1", User::COLUMNS),
            [session_id],
            User::from_row,
        )
        .optional()?;
    if let Some(user) = existing {
        return Ok((user, false));
    }
    let mut imported = false;
    if require_blind && session_id.starts_with("15") {
        if let Some(abs) = blinded_abs(session_id) {
            let old: Option<User> = tx
                .query_row(
                    &format!(
                        "SELECT {} FROM users WHERE id = (
                             SELECT \"user\" FROM needs_blinding WHERE blinded_abs = ?1)",
                        User::COLUMNS
                    ),
                    [&abs],
                    User::from_row,
                )
                .optional()?;
            if let Some(old) = old {
                let new_id: i64 = tx.query_row(
                    "INSERT INTO users
                         (session_id, created, last_active, banned, moderator, admin, visible_mod)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                    params![
                        session_id,
                        old.created,
                        old.last_active,
                        old.banned,
                        old.moderator,
                        old.admin,
                        old.visible_mod
                    ],
                    |r| r.get(0),
                )?;
                tx.execute(
                    "UPDATE users SET banned = FALSE, admin = FALSE, moderator = FALSE
                     WHERE id = ?1",
                    [old.id],
                )?;
                for table in [
                    "user_permission_overrides",
                    "user_permission_futures",
                    "user_ban_futures",
                ] {
                    // Table names come from the fixed list above.
                    tx.execute(
                        &format!("UPDATE {table} SET \"user\" = ?1 WHERE \"user\" = ?2"),
                        params![new_id, old.id],
                    )?;
                }
                tx.execute("DELETE FROM needs_blinding WHERE \"user\" = ?1", [old.id])?;
                imported = true;
            }
        }
    }
    if !imported {
        tx.execute(
            "INSERT INTO users (session_id) VALUES (?1) ON CONFLICT (session_id) DO NOTHING",
            [session_id],
        )?;
    }
    let user = tx.query_row(
        &format!("SELECT {} FROM users WHERE session_id = ?1", User::COLUMNS),
        [session_id],
        User::from_row,
    )?;
    // An imported row keeps its old activity time, so it is "touched" like an existing one.
    Ok((user, !imported))
}

/// PySOGS `blinded_abs`: the `15` ID with the sign bit (top bit of the last byte) cleared.
fn blinded_abs(session_id: &str) -> Option<String> {
    let mut bytes = hex::decode(session_id).ok()?;
    let last = bytes.last_mut()?;
    *last &= 0x7f;
    Some(hex::encode(bytes))
}
