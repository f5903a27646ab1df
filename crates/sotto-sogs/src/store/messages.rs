//! Messages, reactions and pins (`sogs/model/room.py`: `get_messages_for`, `add_post`,
//! `edit_post`, `delete_posts`, reactions, pins).

use std::collections::HashMap;

use super::db::{params, params_from_iter, OptionalExtension, RowMut};

use super::Store;
use crate::err::Result;

/// Rows per `IN (…)` batch when deleting many messages (PySOGS uses 50).
const DELETE_BATCH: usize = 50;
/// Most deletions one legacy poll returns (`get_deletions_deprecated`: `LIMIT 256`).
const DELETIONS_LIMIT: i64 = 256;

/// A row of `message_details` as the API serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    /// Global message id.
    pub id: i64,
    /// Poster's session ID.
    pub session_id: String,
    /// Post time.
    pub posted: f64,
    /// Last edit (or deletion) time.
    pub edited: Option<f64>,
    /// Current seqno.
    pub seqno: i64,
    /// Seqno of the last data change.
    pub seqno_data: i64,
    /// Seqno of the last reaction change.
    pub seqno_reactions: i64,
    /// Unpadded data; `None` when deleted.
    pub data: Option<Vec<u8>>,
    /// Padded size.
    pub data_size: Option<i64>,
    /// Signature; `None` when deleted.
    pub signature: Option<Vec<u8>>,
    /// Whisper target's session ID.
    pub whisper_to: Option<String>,
    /// Whisper to moderators.
    pub whisper_mods: bool,
}

impl MessageRow {
    const COLUMNS: &'static str = "id, session_id, posted, edited, seqno, seqno_data, \
        seqno_reactions, data, data_size, signature, whisper_to, whisper_mods";

    /// The row of a [`Self::COLUMNS`] query read straight from SQLite (the same conversions as
    /// [`Self::from_row`]: text as lossy UTF-8, numbers as stored).
    fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let text = |i: usize| -> rusqlite::Result<Option<String>> {
            Ok(match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => None,
                v => Some(String::from_utf8_lossy(v.as_bytes()?).into_owned()),
            })
        };
        Ok(Self {
            id: r.get(0)?,
            session_id: text(1)?.ok_or(rusqlite::Error::InvalidColumnType(
                1,
                "session_id".to_owned(),
                rusqlite::types::Type::Null,
            ))?,
            posted: r.get(2)?,
            edited: r.get(3)?,
            seqno: r.get(4)?,
            seqno_data: r.get(5)?,
            seqno_reactions: r.get(6)?,
            data: r.get(7)?,
            data_size: r.get(8)?,
            signature: r.get(9)?,
            whisper_to: text(10)?,
            whisper_mods: r.get(11)?,
        })
    }

    /// The row of a [`Self::COLUMNS`] query, its text and blobs moved, not copied.
    fn from_row(r: &mut RowMut<'_>) -> Result<Self> {
        Ok(Self {
            id: r.take(0)?,
            session_id: r.take(1)?,
            posted: r.take(2)?,
            edited: r.take(3)?,
            seqno: r.take(4)?,
            seqno_data: r.take(5)?,
            seqno_reactions: r.take(6)?,
            data: r.take(7)?,
            data_size: r.take(8)?,
            signature: r.take(9)?,
            whisper_to: r.take(10)?,
            whisper_mods: r.take(11)?,
        })
    }
}

/// Which messages to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// Changes with seqno > N; with `reactions`, reaction-only changes too.
    Since {
        /// The seqno.
        seqno: i64,
        /// Include reaction-only updates.
        reactions: bool,
    },
    /// Live messages with id < N, newest first.
    Before(i64),
    /// Live messages with id > N, oldest first (the legacy API's `from_server_id`).
    After(i64),
    /// The newest live messages.
    Recent,
    /// One live message.
    Single(i64),
}

/// Who is looking, for whisper visibility.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    /// The user id, if authenticated.
    pub user: Option<i64>,
    /// A moderator of the room.
    pub moderator: bool,
}

/// One reaction on one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionInfo {
    /// The reaction text.
    pub reaction: String,
    /// Order of first use on the message, from 0.
    pub index: usize,
    /// Number of reactors.
    pub count: i64,
    /// The viewer reacted.
    pub you: bool,
    /// First reactors' session IDs, by time (at most the requested number).
    pub reactors: Vec<String>,
}

/// A new post.
#[derive(Debug, Clone)]
pub struct NewPost<'a> {
    /// Room id.
    pub room: i64,
    /// Poster's user id.
    pub user: i64,
    /// Padded data as received.
    pub data: &'a [u8],
    /// 64-byte signature.
    pub signature: &'a [u8],
    /// Swallowed by a silent filter.
    pub filtered: bool,
    /// Whisper target user id.
    pub whisper: Option<i64>,
    /// Whisper to moderators.
    pub whisper_mods: bool,
    /// Post time.
    pub now: f64,
}

impl Store {
    /// Messages of a room for a viewer (`Room.get_messages_for`), at most `limit`.
    pub fn messages_for(
        &self,
        room_id: i64,
        viewer: Viewer,
        fetch: Fetch,
        limit: i64,
    ) -> Result<Vec<MessageRow>> {
        let (not_deleted, clause, order) = match fetch {
            Fetch::Since { reactions, .. } => (
                "AND (data IS NOT NULL OR seqno_creation <= ?2)",
                if reactions {
                    "AND seqno > ?2"
                } else {
                    "AND seqno > ?2 AND seqno_data > ?2"
                },
                "ORDER BY seqno ASC LIMIT ?4",
            ),
            Fetch::Before(_) => (
                "AND data IS NOT NULL",
                "AND id < ?2",
                "ORDER BY id DESC LIMIT ?4",
            ),
            Fetch::After(_) => (
                "AND data IS NOT NULL",
                "AND id > ?2",
                "ORDER BY id ASC LIMIT ?4",
            ),
            Fetch::Recent => (
                "AND data IS NOT NULL",
                "AND ?2 IS NOT NULL",
                "ORDER BY id DESC LIMIT ?4",
            ),
            Fetch::Single(_) => ("AND data IS NOT NULL", "AND id = ?2", "AND ?4 IS NOT NULL"),
        };
        let whisper = if viewer.moderator {
            "AND (whisper_mods OR whisper = ?3 OR \"user\" = ?3 OR whisper IS NULL)"
        } else if viewer.user.is_some() {
            "AND (whisper = ?3 OR (whisper IS NULL AND NOT whisper_mods))"
        } else {
            "AND whisper IS NULL AND NOT whisper_mods AND ?3 IS NULL"
        };
        let arg = match fetch {
            Fetch::Since { seqno, .. } => seqno,
            Fetch::Before(id) | Fetch::After(id) | Fetch::Single(id) => id,
            Fetch::Recent => 0,
        };
        let sql = format!(
            "SELECT {} FROM message_details
             WHERE room = ?1 AND NOT filtered {not_deleted} {clause} {whisper} {order}",
            MessageRow::COLUMNS
        );
        self.conn.prepare(&sql)?.query_map_typed(
            params![room_id, arg, viewer.user, limit],
            MessageRow::from_sqlite,
            MessageRow::from_row,
        )
    }

    /// Reactions of the given messages (`Room.get_reactions`), keyed by message id, each list in
    /// first-use order.
    pub fn reactions_for(
        &self,
        message_ids: &[i64],
        viewer: Option<i64>,
        reactor_limit: i64,
    ) -> Result<HashMap<i64, Vec<ReactionInfo>>> {
        let mut out: HashMap<i64, Vec<ReactionInfo>> = HashMap::new();
        if message_ids.is_empty() {
            return Ok(out);
        }
        let marks = vec!["?"; message_ids.len()].join(",");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT id, message, reaction,
                 (SELECT COUNT(*) FROM user_reactions WHERE reaction = r.id),
                 EXISTS(SELECT 1 FROM user_reactions WHERE reaction = r.id AND \"user\" = ?1)
             FROM reactions r WHERE message IN ({marks}) ORDER BY id"
        ))?;
        let mut args: Vec<super::db::Value> = vec![viewer.into()];
        args.extend(message_ids.iter().map(|&id| id.into()));
        let mut by_reaction_id: HashMap<i64, (i64, usize)> = HashMap::new();
        let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?;
        for row in rows {
            let (rid, msg, reaction, count, you) = row?;
            let list = out.entry(msg).or_default();
            by_reaction_id.insert(rid, (msg, list.len()));
            list.push(ReactionInfo {
                reaction,
                index: list.len(),
                count,
                you: you && viewer.is_some(),
                reactors: Vec::new(),
            });
        }
        if reactor_limit > 0 && !by_reaction_id.is_empty() {
            let ids: Vec<i64> = by_reaction_id.keys().copied().collect();
            let marks = vec!["?"; ids.len()].join(",");
            let mut stmt = self.conn.prepare(&format!(
                "SELECT reaction, session_id
                 FROM first_reactors JOIN users ON first_reactors.\"user\" = users.id
                 WHERE reaction IN ({marks}) AND _order <= ?{} ORDER BY at, first_reactors.\"user\"",
                ids.len() + 1
            ))?;
            let mut args: Vec<super::db::Value> = ids.iter().map(|&i| i.into()).collect();
            args.push(reactor_limit.into());
            let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?;
            for row in rows {
                let (rid, sid) = row?;
                if let Some((msg, idx)) = by_reaction_id.get(&rid) {
                    if let Some(info) = out.get_mut(msg).and_then(|l| l.get_mut(*idx)) {
                        // rank() gives reactors at the same instant the same _order: keep the
                        // list within the limit the client asked for.
                        if (info.reactors.len() as i64) < reactor_limit {
                            info.reactors.push(sid);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Posts by a user in a room since `since` (rate limiting).
    pub fn recent_post_count(&self, room_id: i64, user_id: i64, since: f64) -> Result<i64> {
        self.conn.query_row(
            "SELECT COUNT(*) FROM messages WHERE room = ?1 AND \"user\" = ?2 AND posted >= ?3",
            params![room_id, user_id, since],
            |r| r.get(0),
        )
    }

    /// Insert a post; returns (id, posted, seqno). `files` are attached (`Room._own_files`).
    pub fn insert_post(
        &mut self,
        post: &NewPost<'_>,
        files: &[i64],
        file_expiry: Option<f64>,
    ) -> Result<(i64, f64, i64)> {
        let unpadded = crate::util::remove_padding(post.data);
        let tx = self.write()?;
        let id: i64 = tx.query_row(
            "INSERT INTO messages
                 (room, \"user\", posted, data, data_size, signature, filtered, whisper, whisper_mods)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
            params![
                post.room,
                post.user,
                post.now,
                unpadded,
                i64::try_from(post.data.len()).unwrap_or(i64::MAX),
                post.signature,
                post.filtered,
                post.whisper,
                post.whisper_mods
            ],
            |r| r.get(0),
        )?;
        attach_files(&tx, post.room, post.user, id, files, file_expiry, post.now)?;
        let (posted, seqno) = tx.query_row(
            "SELECT posted, seqno FROM messages WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        tx.commit()?;
        Ok((id, posted, seqno))
    }

    /// The author of a live message in a room.
    pub fn live_message_author(&self, room_id: i64, msg_id: i64) -> Result<Option<i64>> {
        self.conn
            .query_row(
                "SELECT \"user\" FROM messages WHERE id = ?1 AND room = ?2 AND data IS NOT NULL",
                params![msg_id, room_id],
                |r| r.get(0),
            )
            .optional()
    }

    /// Replace a message's data and signature (the triggers keep history and bump seqno).
    #[allow(clippy::too_many_arguments)]
    pub fn edit_post(
        &mut self,
        room_id: i64,
        user_id: i64,
        msg_id: i64,
        data: &[u8],
        signature: &[u8],
        files: &[i64],
        file_expiry: Option<f64>,
        now: f64,
    ) -> Result<()> {
        let unpadded = crate::util::remove_padding(data);
        let tx = self.write()?;
        tx.execute(
            "UPDATE messages SET data = ?2, data_size = ?3, signature = ?4 WHERE id = ?1",
            params![
                msg_id,
                unpadded,
                i64::try_from(data.len()).unwrap_or(i64::MAX),
                signature
            ],
        )?;
        attach_files(&tx, room_id, user_id, msg_id, files, file_expiry, now)?;
        tx.commit()?;
        Ok(())
    }

    /// The live messages among `ids` in a room, and whether any of them is not by `user_id`.
    pub fn live_messages(
        &self,
        room_id: i64,
        ids: &[i64],
        user_id: i64,
    ) -> Result<(Vec<i64>, bool)> {
        let mut live = Vec::new();
        let mut foreign = false;
        for chunk in ids.chunks(DELETE_BATCH) {
            let marks = vec!["?"; chunk.len()].join(",");
            let mut stmt = self.conn.prepare(&format!(
                "SELECT id, \"user\" FROM messages
                 WHERE room = ?1 AND data IS NOT NULL AND id IN ({marks})"
            ))?;
            let mut args: Vec<super::db::Value> = vec![room_id.into()];
            args.extend(chunk.iter().map(|&i| i.into()));
            let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })?;
            for row in rows {
                let (id, user) = row?;
                foreign |= user != user_id;
                live.push(id);
            }
        }
        Ok((live, foreign))
    }

    /// Delete messages (the `message_details` delete trigger blanks them and drops reactions,
    /// pins and attachments).
    pub fn delete_messages(&mut self, ids: &[i64]) -> Result<usize> {
        let tx = self.write()?;
        let mut n = 0;
        for &id in ids {
            n += tx.execute("DELETE FROM message_details WHERE id = ?1", [id])?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Delete every live post of a user in a room and expire their uploads there (except the
    /// room image). Returns (posts deleted, files expired).
    pub fn delete_all_posts(&mut self, room_id: i64, user_id: i64) -> Result<(usize, usize)> {
        let tx = self.write()?;
        let count: i64 = tx.query_row(
            "SELECT COUNT(*) FROM messages WHERE room = ?1 AND \"user\" = ?2 AND data IS NOT NULL",
            params![room_id, user_id],
            |r| r.get(0),
        )?;
        tx.execute(
            "DELETE FROM message_details WHERE room = ?1 AND \"user\" = ?2",
            params![room_id, user_id],
        )?;
        let files = tx.execute(
            "UPDATE files SET expiry = 0.0 WHERE room = ?1 AND uploader = ?2
             AND id IS DISTINCT FROM (SELECT image FROM rooms WHERE id = ?1)",
            params![room_id, user_id],
        )?;
        tx.commit()?;
        Ok((usize::try_from(count).unwrap_or(0), files))
    }

    /// Deleted messages of a room as (message id, seqno), at most [`DELETIONS_LIMIT`]: those
    /// with seqno > `since` in seqno order, or without `since` the newest first
    /// (`get_deletions_deprecated`, the legacy API's `deletions`).
    pub fn deletions_deprecated(
        &self,
        room_id: i64,
        since: Option<i64>,
    ) -> Result<Vec<(i64, i64)>> {
        let sql = match since {
            Some(_) => {
                "SELECT id, seqno FROM messages
                 WHERE room = ?1 AND seqno > ?2 AND data IS NULL
                 ORDER BY seqno ASC LIMIT ?3"
            }
            None => {
                "SELECT id, seqno FROM messages
                 WHERE room = ?1 AND data IS NULL AND ?2 IS NULL
                 ORDER BY seqno DESC LIMIT ?3"
            }
        };
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt
            .query_map(params![room_id, since, DELETIONS_LIMIT], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_>>()?;
        Ok(rows)
    }

    /// A live, unfiltered, non-whisper message of the room (`Room.is_regular_message`).
    pub fn is_regular_message(&self, room_id: i64, msg_id: i64) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM messages
             WHERE room = ?1 AND id = ?2 AND data IS NOT NULL
                 AND NOT filtered AND whisper IS NULL AND NOT whisper_mods",
            params![room_id, msg_id],
            |r| r.get::<_, i64>(0),
        )? > 0)
    }

    /// A message's current seqno.
    fn seqno(&self, msg_id: i64) -> Result<i64> {
        self.conn
            .query_row("SELECT seqno FROM messages WHERE id = ?1", [msg_id], |r| {
                r.get(0)
            })
    }

    /// Add a user's reaction; returns (added, seqno).
    pub fn add_reaction(
        &mut self,
        msg_id: i64,
        reaction: &str,
        user_id: i64,
    ) -> Result<(bool, i64)> {
        let tx = self.write()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM message_reactions
                 WHERE message = ?1 AND reaction = ?2 AND \"user\" = ?3)",
            params![msg_id, reaction, user_id],
            |r| r.get(0),
        )?;
        if !exists {
            tx.execute(
                "INSERT INTO message_reactions (message, reaction, \"user\") VALUES (?1, ?2, ?3)",
                params![msg_id, reaction, user_id],
            )?;
        }
        tx.commit()?;
        Ok((!exists, self.seqno(msg_id)?))
    }

    /// Remove a user's reaction; returns (removed, seqno).
    pub fn remove_reaction(
        &mut self,
        msg_id: i64,
        reaction: &str,
        user_id: i64,
    ) -> Result<(bool, i64)> {
        let n = self.conn.execute(
            "DELETE FROM user_reactions
             WHERE reaction = (SELECT id FROM reactions WHERE message = ?1 AND reaction = ?2)
                 AND \"user\" = ?3",
            params![msg_id, reaction, user_id],
        )?;
        Ok((n > 0, self.seqno(msg_id)?))
    }

    /// Remove all reactions (of one kind, if given) from a message; returns (count, seqno).
    pub fn remove_all_reactions(
        &mut self,
        msg_id: i64,
        reaction: Option<&str>,
    ) -> Result<(usize, i64)> {
        let n = match reaction {
            Some(r) => self.conn.execute(
                "DELETE FROM user_reactions WHERE reaction IN
                     (SELECT id FROM reactions WHERE message = ?1 AND reaction = ?2)",
                params![msg_id, r],
            )?,
            None => self.conn.execute(
                "DELETE FROM user_reactions WHERE reaction IN
                     (SELECT id FROM reactions WHERE message = ?1)",
                [msg_id],
            )?,
        };
        Ok((n, self.seqno(msg_id)?))
    }

    /// Reactors of one reaction, oldest first: (session ID, at).
    pub fn reactors(
        &self,
        msg_id: i64,
        reaction: &str,
        limit: Option<i64>,
    ) -> Result<Vec<(String, f64)>> {
        let mut stmt = self.conn.prepare(
            "SELECT session_id, at FROM message_reactions r JOIN users ON r.\"user\" = users.id
             WHERE r.message = ?1 AND r.reaction = ?2 ORDER BY at, r.\"user\" LIMIT ?3",
        )?;
        // No limit (or a negative one, which SQLite reads as none) is the largest: PostgreSQL
        // refuses negative limits.
        let limit = limit.filter(|l| *l >= 0).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![msg_id, reaction, limit], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_>>()?;
        Ok(rows)
    }

    /// Pin (or re-pin) a message.
    pub fn pin(&mut self, room_id: i64, msg_id: i64, admin_id: i64, now: f64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO pinned_messages (room, message, pinned_by, pinned_at)
                 VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (room, message) DO UPDATE SET pinned_by = ?3, pinned_at = ?4",
            params![room_id, msg_id, admin_id, now],
        )?;
        Ok(())
    }

    /// Unpin one message (or all, if `msg_id` is `None`); unpinned attachments get the default
    /// expiry from their upload time. Returns how many pins were removed.
    pub fn unpin(
        &mut self,
        room_id: i64,
        msg_id: Option<i64>,
        file_expiry: Option<f64>,
    ) -> Result<usize> {
        let tx = self.write()?;
        let files: Vec<i64> = {
            let mut stmt = tx.prepare(
                "SELECT id FROM files WHERE message IN
                     (SELECT message FROM pinned_messages WHERE room = ?1 AND (?2 IS NULL OR message = ?2))",
            )?;

            stmt.query_map(params![room_id, msg_id], |r| r.get(0))?
                .collect::<Result<_>>()?
        };
        let n = tx.execute(
            "DELETE FROM pinned_messages WHERE room = ?1 AND (?2 IS NULL OR message = ?2)",
            params![room_id, msg_id],
        )?;
        for id in files {
            tx.execute(
                "UPDATE files SET expiry = uploaded + ?2 WHERE id = ?1",
                params![id, file_expiry],
            )?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// A room's `info_updates` counter.
    pub fn info_updates(&self, room_id: i64) -> Result<i64> {
        self.conn.query_row(
            "SELECT info_updates FROM rooms WHERE id = ?1",
            [room_id],
            |r| r.get(0),
        )
    }
}

/// Attach the poster's own recent, unattached, expiring uploads in the room to a message
/// (`Room._own_files`); they then expire `file_expiry` seconds from now (never if `None`).
fn attach_files(
    tx: &super::db::Db,
    room_id: i64,
    user_id: i64,
    msg_id: i64,
    files: &[i64],
    file_expiry: Option<f64>,
    now: f64,
) -> Result<()> {
    /// Uploads older than this cannot be attached (PySOGS: one hour).
    const ATTACH_WINDOW: f64 = 3600.0;
    let expiry = file_expiry.map(|e| now + e);
    for &file in files {
        tx.execute(
            "UPDATE files SET message = ?1, expiry = ?2
             WHERE id = ?3 AND room = ?4 AND uploader = ?5 AND message IS NULL
                 AND uploaded >= ?6 AND expiry IS NOT NULL",
            params![msg_id, expiry, file, room_id, user_id, now - ATTACH_WINDOW],
        )?;
    }
    Ok(())
}
