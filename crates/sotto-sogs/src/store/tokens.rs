//! Automation API tokens (`api_tokens`, a table of ours that PySOGS ignores) and the queries
//! only the automation API needs (decoded message listing, ban lists, files by id).
//!
//! The table is created on first use rather than by a migration, so a database that never
//! issues a token keeps exactly PySOGS's schema.

use super::db::{params, OptionalExtension, Row};
use zeroize::Zeroizing;

use super::Store;
use crate::err::{Error, Result};

/// The token table: a name per token, the BLAKE2b hash of the token (never the token), its
/// scope (`admin`, `rooms` as a JSON list or NULL for every room), and the Ed25519 seed of
/// the Session identity that signs what the token's bot posts.
const TABLE_SQL: &str = "
CREATE TABLE IF NOT EXISTS api_tokens (
    id INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    hash BLOB NOT NULL UNIQUE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    rooms TEXT,
    bot_seed BLOB NOT NULL,
    created FLOAT NOT NULL,
    revoked FLOAT
)";

/// A row of `api_tokens`.
#[derive(Clone, PartialEq)]
pub struct ApiToken {
    /// The operator's name for it (also the bot's display name).
    pub name: String,
    /// May create and delete rooms and ban server-wide.
    pub admin: bool,
    /// The room tokens it may act on; `None` = every room.
    pub rooms: Option<Vec<String>>,
    /// The bot identity's Ed25519 seed.
    pub bot_seed: Zeroizing<[u8; 32]>,
    /// Creation time, unix seconds.
    pub created: f64,
    /// Revocation time, if revoked.
    pub revoked: Option<f64>,
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken")
            .field("name", &self.name)
            .field("admin", &self.admin)
            .field("rooms", &self.rooms)
            .field("created", &self.created)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

impl ApiToken {
    const COLUMNS: &'static str = "name, admin, rooms, bot_seed, created, revoked";

    fn from_row(r: &Row<'_>) -> Result<Self> {
        let rooms: Option<String> = r.get(2)?;
        let seed: Vec<u8> = r.get(3)?;
        let mut bot_seed = Zeroizing::new([0u8; 32]);
        if seed.len() != bot_seed.len() {
            return Err(Error::DbValue {
                column: 3,
                why: format!("bot_seed is {} bytes, not 32", seed.len()),
            });
        }
        bot_seed.copy_from_slice(&seed);
        Ok(Self {
            name: r.get(0)?,
            admin: r.get(1)?,
            // A list we wrote ourselves; anything unreadable grants no room.
            rooms: rooms.map(|s| serde_json::from_str(&s).unwrap_or_default()),
            bot_seed,
            created: r.get(4)?,
            revoked: r.get(5)?,
        })
    }

    /// Whether this token may act on the room with this token (case-insensitive, as room
    /// tokens are in the database).
    pub fn allows_room(&self, token: &str) -> bool {
        self.rooms
            .as_ref()
            .is_none_or(|list| list.iter().any(|r| r.eq_ignore_ascii_case(token)))
    }
}

/// A message as the automation API lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct BotMessage {
    /// Message id.
    pub id: i64,
    /// The author's session ID (`05…` or `15…`).
    pub author: String,
    /// The stored (unpadded) data; `None` once deleted.
    pub data: Option<Vec<u8>>,
    /// Posting time, unix seconds.
    pub posted: f64,
}

/// A ban as the automation API and the CLI list it.
#[derive(Debug, Clone, PartialEq)]
pub struct BanRow {
    /// The banned user's session ID.
    pub session_id: String,
    /// The room token, `None` for a server-wide ban.
    pub room: Option<String>,
    /// When a scheduled unban lifts it, if one is scheduled.
    pub until: Option<f64>,
}

/// A file with the token of its room.
#[derive(Debug, Clone, PartialEq)]
pub struct BotFile {
    /// The token of the room it was uploaded to (`None` once the room is gone).
    pub room: Option<String>,
    /// The name it was uploaded with.
    pub filename: Option<String>,
    /// Path on disk.
    pub path: String,
}

impl Store {
    fn has_token_table(&self) -> Result<bool> {
        super::schema::has_table(self.conn.sqlite(), "api_tokens")
    }

    /// Store a new token (by its hash). A revoked token of the same name is replaced; a live
    /// one makes this fail with `Ok(false)`.
    pub fn add_api_token(&mut self, name: &str, hash: &[u8; 32], token: &ApiToken) -> Result<bool> {
        let rooms = token
            .rooms
            .as_ref()
            .map(|r| serde_json::Value::from(r.clone()).to_string());
        let tx = self.write()?;
        tx.execute_batch(TABLE_SQL)?;
        tx.execute(
            "DELETE FROM api_tokens WHERE name = ?1 AND revoked IS NOT NULL",
            [name],
        )?;
        let inserted = tx.execute(
            "INSERT INTO api_tokens (name, hash, admin, rooms, bot_seed, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO NOTHING",
            params![
                name,
                hash.as_slice(),
                token.admin,
                rooms,
                token.bot_seed.as_slice(),
                token.created
            ],
        )?;
        tx.commit()?;
        Ok(inserted == 1)
    }

    /// Revoke a live token by name; true if there was one.
    pub fn revoke_api_token(&mut self, name: &str, now: f64) -> Result<bool> {
        if !self.has_token_table()? {
            return Ok(false);
        }
        Ok(self.conn.execute(
            "UPDATE api_tokens SET revoked = ?2 WHERE name = ?1 AND revoked IS NULL",
            params![name, now],
        )? == 1)
    }

    /// Every token, live and revoked, by name.
    pub fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        if !self.has_token_table()? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {} FROM api_tokens ORDER BY name",
            ApiToken::COLUMNS
        ))?;
        let rows = stmt
            .query_map([], ApiToken::from_row)?
            .collect::<Result<_>>()?;
        Ok(rows)
    }

    /// The live (not revoked) token with this hash.
    pub fn api_token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiToken>> {
        if !self.has_token_table()? {
            return Ok(None);
        }
        self.conn
            .query_row(
                &format!(
                    "SELECT {} FROM api_tokens WHERE hash = ?1 AND revoked IS NULL",
                    ApiToken::COLUMNS
                ),
                [hash.as_slice()],
                ApiToken::from_row,
            )
            .optional()
    }

    /// Public (not whispered, not filtered) messages of a room with id above `since`, oldest
    /// first, deleted ones included (with no data).
    pub fn bot_messages(&self, room_id: i64, since: i64, limit: i64) -> Result<Vec<BotMessage>> {
        let mut stmt = self.conn.prepare(
            "SELECT m.id, u.session_id, m.data, m.posted FROM messages m
             JOIN users u ON u.id = m.\"user\"
             WHERE m.room = ?1 AND m.id > ?2 AND NOT m.filtered
                 AND m.whisper IS NULL AND NOT m.whisper_mods
             ORDER BY m.id LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(params![room_id, since, limit], |r| {
                Ok(BotMessage {
                    id: r.get(0)?,
                    author: r.get(1)?,
                    data: r.get(2)?,
                    posted: r.get(3)?,
                })
            })?
            .collect::<Result<_>>()?;
        Ok(rows)
    }

    /// Bans in force: of one room (`Some(room id)`), or server-wide (`None`), with the time of
    /// any scheduled unban, by session ID.
    pub fn bans(&self, room_id: Option<i64>) -> Result<Vec<BanRow>> {
        let sql = match room_id {
            Some(_) => {
                "SELECT u.session_id, r.token,
                     (SELECT MIN(f.at) FROM user_ban_futures f
                      WHERE f.room = o.room AND f.\"user\" = o.\"user\" AND NOT f.banned)
                 FROM user_permission_overrides o
                 JOIN users u ON u.id = o.\"user\" JOIN rooms r ON r.id = o.room
                 WHERE o.banned AND o.room = ?1
                 ORDER BY u.session_id"
            }
            None => {
                "SELECT u.session_id, NULL,
                     (SELECT MIN(f.at) FROM user_ban_futures f
                      WHERE f.room IS NULL AND f.\"user\" = u.id AND NOT f.banned)
                 FROM users u WHERE u.banned AND ?1 IS NULL
                 ORDER BY u.session_id"
            }
        };
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt
            .query_map([room_id], |r| {
                Ok(BanRow {
                    session_id: r.get(0)?,
                    room: r.get(1)?,
                    until: r.get(2)?,
                })
            })?
            .collect::<Result<_>>()?;
        Ok(rows)
    }

    /// Every room ban in force, in every room, by room then session ID.
    pub fn all_room_bans(&self) -> Result<Vec<BanRow>> {
        let mut out = Vec::new();
        for room in self.rooms()? {
            out.extend(self.bans(Some(room.id))?);
        }
        Ok(out)
    }

    /// A file that has not expired at `now`, with its room's token.
    pub fn file_with_room(&self, file_id: i64, now: f64) -> Result<Option<BotFile>> {
        self.conn
            .query_row(
                "SELECT r.token, f.filename, f.path FROM files f
                 LEFT JOIN rooms r ON r.id = f.room
                 WHERE f.id = ?1 AND (f.expiry IS NULL OR f.expiry > ?2)",
                params![file_id, now],
                |r| {
                    Ok(BotFile {
                        room: r.get(0)?,
                        filename: r.get(1)?,
                        path: r.get(2)?,
                    })
                },
            )
            .optional()
    }
}
