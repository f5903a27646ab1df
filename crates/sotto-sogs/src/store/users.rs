//! Users: rows of the `users` table, global roles, the system user, and the blinding
//! hand-over for unblinded IDs (`sogs.md` §1.5, §2.6).

use super::db::{params, OptionalExtension, Row};
use sotto_crypto::blinding::blind15_candidates;
use sotto_crypto::X25519PublicKey;

use super::rooms::Moderators;
use super::Store;
use crate::err::Result;
use crate::ids::AccountId;

/// Database id of the internal system user (`sogs/db.py` `create_admin_user`).
pub const SYSTEM_USER_ID: i64 = 0;

/// A row of `users`.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// The ID as stored: `05…`, `15…`, or `ff…` for the system user.
    pub session_id: String,
    /// Creation time, unix seconds.
    pub created: f64,
    /// Last authenticated request, unix seconds.
    pub last_active: f64,
    /// Globally banned.
    pub banned: bool,
    /// Global moderator.
    pub moderator: bool,
    /// Global admin (implies moderator).
    pub admin: bool,
    /// Global moderator shown publicly.
    pub visible_mod: bool,
}

impl User {
    pub(super) const COLUMNS: &'static str =
        "id, session_id, created, last_active, banned, moderator, admin, visible_mod";

    pub(super) fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            session_id: r.get(1)?,
            created: r.get(2)?,
            last_active: r.get(3)?,
            banned: r.get(4)?,
            moderator: r.get(5)?,
            admin: r.get(6)?,
            visible_mod: r.get(7)?,
        })
    }

    /// Whether this is an unblinded (`05`) account.
    pub fn is_unblinded(&self) -> bool {
        self.session_id.starts_with("05")
    }
}

impl Store {
    /// The user stored under exactly this session ID text, if any.
    pub fn user_by_session_id(&self, session_id: &str) -> Result<Option<User>> {
        self.conn
            .query_row(
                &format!("SELECT {} FROM users WHERE session_id = ?1", User::COLUMNS),
                [session_id],
                User::from_row,
            )
            .optional()
    }

    /// The user with this id, if any.
    pub fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        self.conn
            .query_row(
                &format!("SELECT {} FROM users WHERE id = ?1", User::COLUMNS),
                [id],
                User::from_row,
            )
            .optional()
    }

    /// The user row for an account, created if new.
    pub fn get_or_create_user(&mut self, account: &AccountId) -> Result<User> {
        let sid = account.to_string();
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO users (session_id) VALUES (?1) ON CONFLICT (session_id) DO NOTHING",
            [&sid],
        )?;
        let user = tx.query_row(
            &format!("SELECT {} FROM users WHERE session_id = ?1", User::COLUMNS),
            [&sid],
            User::from_row,
        )?;
        tx.commit()?;
        Ok(user)
    }

    /// The user an admin command about `account` acts on, as PySOGS resolves it
    /// (`User(try_blinding=True)` then `check_blinding`): with blinding required, a `05` ID
    /// maps to an existing user under either of its two `15` IDs; failing that, the `05` user is
    /// used (created if new) and a `needs_blinding` row makes the change move to the blinded
    /// account when it first shows up.
    ///
    /// `blinding_server` is the server's X25519 key when blinding is required, else `None`.
    pub fn resolve_account(
        &mut self,
        account: &AccountId,
        blinding_server: Option<&X25519PublicKey>,
    ) -> Result<User> {
        let (AccountId::Unblinded(sid), Some(server)) = (account, blinding_server) else {
            return self
                .user_for_request(&account.to_string(), blinding_server.is_some())
                .map(|(user, _)| user);
        };
        let [positive, negative] = blind15_candidates(sid, server)?;
        let existing = self
            .conn
            .query_row(
                &format!(
                    "SELECT {} FROM users WHERE session_id IN (?1, ?2) LIMIT 1",
                    User::COLUMNS
                ),
                [positive.to_string(), negative.to_string()],
                User::from_row,
            )
            .optional()?;
        if let Some(user) = existing {
            return Ok(user);
        }
        let user = self.get_or_create_user(account)?;
        self.conn.execute(
            "INSERT INTO needs_blinding (blinded_abs, \"user\") VALUES (?1, ?2)
             ON CONFLICT DO NOTHING",
            params![positive.to_string(), user.id],
        )?;
        Ok(user)
    }

    /// Create or refresh the system user: id 0, `ff` ‖ server key, hidden global admin
    /// (`sogs/db.py` `create_admin_user`).
    pub fn ensure_system_user(&mut self, server: &X25519PublicKey) -> Result<User> {
        let sid = format!("ff{}", server.to_hex());
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO users (id, session_id, moderator, admin, visible_mod)
                 VALUES (?1, ?2, TRUE, TRUE, FALSE)
             ON CONFLICT (id) DO UPDATE SET
                 session_id = excluded.session_id, moderator = TRUE, admin = TRUE,
                 visible_mod = FALSE",
            params![SYSTEM_USER_ID, sid],
        )?;
        tx.commit()?;
        self.user_by_id(SYSTEM_USER_ID)?
            .ok_or(crate::err::Error::Db(rusqlite::Error::QueryReturnedNoRows))
    }

    /// With blinding required, make sure every unblinded user that holds a role, ban or
    /// override has a `needs_blinding` row (`sogs/db.py` `check_needs_blinding`). IDs that do
    /// not blind (not a curve point) are skipped. Returns how many rows were added.
    pub fn record_needs_blinding(&mut self, server: &X25519PublicKey) -> Result<usize> {
        let tx = self.write()?;
        let candidates: Vec<(i64, String)> = tx
            .prepare(
                "SELECT id, session_id FROM users
                 WHERE session_id LIKE '05%'
                 AND id IN (
                     SELECT \"user\" FROM user_permission_overrides
                     UNION SELECT \"user\" FROM user_permission_futures
                     UNION SELECT \"user\" FROM user_ban_futures
                     UNION SELECT id FROM users WHERE admin OR moderator OR banned)
                 AND id NOT IN (SELECT \"user\" FROM needs_blinding)",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_>>()?;
        let mut added = 0;
        for (id, sid) in candidates {
            let Ok(AccountId::Unblinded(session)) = sid.parse::<AccountId>() else {
                continue;
            };
            let Ok([positive, _]) = blind15_candidates(&session, server) else {
                tracing::warn!("cannot blind session id of user {id}; skipped");
                continue;
            };
            added += tx.execute(
                "INSERT INTO needs_blinding (blinded_abs, \"user\") VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
                params![positive.to_string(), id],
            )?;
        }
        tx.commit()?;
        Ok(added)
    }

    /// Make a user a global moderator, or admin if `admin` (`User.set_moderator`).
    pub fn set_global_moderator(&mut self, user_id: i64, admin: bool, visible: bool) -> Result<()> {
        self.conn.execute(
            "UPDATE users SET moderator = TRUE, admin = ?2, visible_mod = ?3 WHERE id = ?1",
            params![user_id, admin, visible],
        )?;
        Ok(())
    }

    /// Remove a user's global moderator and admin roles (`User.remove_moderator`).
    pub fn remove_global_moderator(&mut self, user_id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE users SET admin = FALSE, moderator = FALSE WHERE id = ?1",
            [user_id],
        )?;
        Ok(())
    }

    /// All global moderators and admins except the system user, by visibility and role,
    /// each list sorted by session ID.
    pub fn global_moderators(&self) -> Result<Moderators> {
        let mut stmt = self.conn.prepare(
            "SELECT session_id, admin, visible_mod FROM users
             WHERE moderator AND id != ?1 AND session_id NOT LIKE 'ff%'
             ORDER BY session_id",
        )?;
        Moderators::from_query(&mut stmt, [SYSTEM_USER_ID])
    }
}
