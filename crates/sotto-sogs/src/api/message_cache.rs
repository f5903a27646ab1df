//! A per-room cache of the answers anonymous callers get from `messages/recent`,
//! `messages/before/<id>` and `messages/since/<seqno>`.
//!
//! Every open community is polled by many clients that have not signed in, all asking the same
//! few questions; answering each from SQLite (`sqlite3_step` and copying the rows out were most
//! of the time, `docs/benchmarks.md`) redoes identical work. An anonymous answer depends only on
//! the room's messages and reactions, and PySOGS's schema bumps `rooms.message_sequence` in
//! triggers on every insert, edit, deletion and reaction change (migrations/0001, the
//! `messages_*` and `*_seqno` triggers). So an answer stays valid while the room row (its id,
//! creation time and `message_sequence`) is unchanged. The room row is read from the database
//! on every request anyway (the token lookup and permission check run before the cache), so a
//! write by another process (the admin CLI, or PySOGS itself on the same file) is noticed too.
//!
//! The room row must be read *before* the messages: an answer computed after a concurrent write
//! is then filed under an older sequence number, which never comes back, so it is never served;
//! the other order could serve an old answer under a new number.
//!
//! Authenticated callers never use the cache: they may see whispers and their own reactions
//! (`you`). Changes the triggers do not count and that would change an anonymous answer are
//! not made by this server or PySOGS: hard `DELETE`s of single messages (only whole rooms are
//! deleted, and a recreated room has a new creation time) and rewrites of a poster's session ID.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use axum::body::Bytes;

use crate::store::{Fetch, Room};

/// Answers kept per room. Anonymous pollers of one room mostly ask the same few questions (the
/// default `recent` page, `since` the room's newest seqno or one just behind it, the first
/// `before` pages); eight covers those without letting one room's many `since` values crowd out
/// the other rooms.
const ENTRIES_PER_ROOM: usize = 8;

/// Bytes of cached answers kept over all rooms. A full page (256 messages, the `limit` maximum)
/// of ordinary text messages is a few hundred KiB, so this holds the hot pages of about a
/// hundred busy rooms while staying small beside SQLite's own page cache.
const TOTAL_BYTES: usize = 32 * 1024 * 1024;

/// Largest single answer kept: one page of huge messages must not push out every other room.
const MAX_ENTRY_BYTES: usize = TOTAL_BYTES / 8;

/// Bytes charged per entry on top of its body (key, bookkeeping, the `Bytes` header), so that
/// many tiny answers (`[]`) are bounded too.
const ENTRY_OVERHEAD: usize = 128;

/// The question an answer depends on, after validation and clamping: two query strings that
/// parse to the same values share an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Question {
    /// Which messages (including the seqno or id of the path, and `t=r` for `since`).
    pub(super) fetch: Fetch,
    /// The clamped `limit`.
    pub(super) limit: i64,
    /// The clamped `reactors`.
    pub(super) reactors: i64,
}

/// What an answer was computed from: the room row's identity and its message sequence.
#[derive(Debug, Clone, Copy, PartialEq)]
struct RoomVersion {
    id: i64,
    /// A room deleted and recreated under the same token may get the same id back (SQLite
    /// reuses the largest rowid), with its sequence restarting at 0; its creation time differs.
    created: f64,
    message_sequence: i64,
}

impl RoomVersion {
    fn of(room: &Room) -> Self {
        Self {
            id: room.id,
            created: room.created,
            message_sequence: room.message_sequence,
        }
    }
}

#[derive(Debug)]
struct Entry {
    question: Question,
    body: Bytes,
    /// The cache's clock when last served or stored, for least-recently-used eviction.
    used: u64,
}

impl Entry {
    fn cost(&self) -> usize {
        self.body.len().saturating_add(ENTRY_OVERHEAD)
    }
}

#[derive(Debug)]
struct RoomEntries {
    version: RoomVersion,
    entries: Vec<Entry>,
}

#[derive(Debug, Default)]
struct State {
    rooms: HashMap<i64, RoomEntries>,
    /// Sum of the entries' costs.
    bytes: usize,
    /// Incremented on every use.
    clock: u64,
}

/// The cache; shared by all requests of a server.
#[derive(Debug, Default)]
pub(crate) struct MessageCache {
    state: Mutex<State>,
}

impl MessageCache {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent between statements, so a panic elsewhere does not spoil it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached answer to `question` about `room` as just read from the database, if it is
    /// still valid. Stale answers of the room are dropped.
    pub(super) fn get(&self, room: &Room, question: &Question) -> Option<Bytes> {
        let mut state = self.lock();
        let version = RoomVersion::of(room);
        let stale = match state.rooms.get(&room.id) {
            None => return None,
            Some(r) => r.version != version,
        };
        if stale {
            state.drop_room(room.id);
            return None;
        }
        state.clock += 1;
        let now = state.clock;
        let entry = state
            .rooms
            .get_mut(&room.id)?
            .entries
            .iter_mut()
            .find(|e| e.question == *question)?;
        entry.used = now;
        Some(entry.body.clone())
    }

    /// Keep `body`, the answer to `question` computed after reading `room` from the database.
    pub(super) fn put(&self, room: &Room, question: Question, body: Bytes) {
        let entry_cost = body.len().saturating_add(ENTRY_OVERHEAD);
        if entry_cost > MAX_ENTRY_BYTES {
            return;
        }
        let version = RoomVersion::of(room);
        let mut state = self.lock();
        if state
            .rooms
            .get(&room.id)
            .is_some_and(|r| r.version != version)
        {
            state.drop_room(room.id);
        }
        state.clock += 1;
        let used = state.clock;
        let mut freed = 0;
        let entries = &mut state
            .rooms
            .entry(room.id)
            .or_insert_with(|| RoomEntries {
                version,
                entries: Vec::with_capacity(ENTRIES_PER_ROOM),
            })
            .entries;
        if let Some(i) = entries.iter().position(|e| e.question == question) {
            freed += entries.swap_remove(i).cost();
        } else if entries.len() >= ENTRIES_PER_ROOM {
            if let Some(i) = least_used(entries) {
                freed += entries.swap_remove(i).cost();
            }
        }
        entries.push(Entry {
            question,
            body,
            used,
        });
        state.bytes = state.bytes.saturating_sub(freed).saturating_add(entry_cost);
        while state.bytes > TOTAL_BYTES {
            if !state.evict_one() {
                break;
            }
        }
    }

    /// Entries and accounted bytes held (for tests).
    #[cfg(test)]
    fn size(&self) -> (usize, usize) {
        let state = self.lock();
        let n = state.rooms.values().map(|r| r.entries.len()).sum();
        (n, state.bytes)
    }
}

impl State {
    fn drop_room(&mut self, room_id: i64) {
        if let Some(r) = self.rooms.remove(&room_id) {
            let freed: usize = r.entries.iter().map(Entry::cost).sum();
            self.bytes = self.bytes.saturating_sub(freed);
        }
    }

    /// Evict the least recently used entry of all rooms; `false` if there is none. A linear
    /// scan: eviction only happens when the cache is full, and a room holds few entries.
    fn evict_one(&mut self) -> bool {
        let oldest = self
            .rooms
            .iter()
            .filter_map(|(&id, r)| {
                let i = least_used(&r.entries)?;
                r.entries.get(i).map(|e| (e.used, id, i))
            })
            .min_by_key(|&(used, _, _)| used);
        let Some((_, room_id, i)) = oldest else {
            return false;
        };
        if let Some(r) = self.rooms.get_mut(&room_id) {
            let cost = r.entries.swap_remove(i).cost();
            self.bytes = self.bytes.saturating_sub(cost);
            if r.entries.is_empty() {
                self.rooms.remove(&room_id);
            }
        }
        true
    }
}

/// Index of the least recently used entry.
fn least_used(entries: &[Entry]) -> Option<usize> {
    entries
        .iter()
        .enumerate()
        .min_by_key(|(_, e)| e.used)
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn room(id: i64, seq: i64) -> Room {
        Room {
            id,
            token: format!("r{id}"),
            name: String::new(),
            description: None,
            image: None,
            created: 1.0,
            message_sequence: seq,
            info_updates: 0,
            active_users: 0,
            default_read: true,
            default_accessible: true,
            default_write: true,
            default_upload: true,
        }
    }

    fn q(limit: i64) -> Question {
        Question {
            fetch: Fetch::Recent,
            limit,
            reactors: 4,
        }
    }

    #[test]
    fn valid_while_the_room_row_is_unchanged() {
        let c = MessageCache::default();
        let r = room(1, 5);
        assert_eq!(c.get(&r, &q(100)), None);
        c.put(&r, q(100), Bytes::from_static(b"[1]"));
        assert_eq!(c.get(&r, &q(100)).as_deref(), Some(&b"[1]"[..]));
        assert_eq!(c.get(&r, &q(99)), None, "another question");
        assert_eq!(c.get(&room(2, 5), &q(100)), None, "another room");
        assert_eq!(c.get(&room(1, 6), &q(100)), None, "a new message");
        assert_eq!(c.size(), (0, 0), "stale answers are dropped");
        c.put(&r, q(100), Bytes::from_static(b"[1]"));
        let mut recreated = room(1, 5);
        recreated.created = 2.0;
        assert_eq!(c.get(&recreated, &q(100)), None, "same id, new room");
    }

    #[test]
    fn bounded_per_room_and_overall() {
        let c = MessageCache::default();
        let r = room(1, 1);
        for limit in 1..=20 {
            c.put(&r, q(limit), Bytes::from_static(b"[]"));
        }
        assert_eq!(
            c.size(),
            (ENTRIES_PER_ROOM, ENTRIES_PER_ROOM * (2 + ENTRY_OVERHEAD))
        );
        assert!(c.get(&r, &q(20)).is_some(), "the newest are kept");
        assert!(c.get(&r, &q(1)).is_none(), "the oldest went");

        let big = Bytes::from(vec![b'x'; MAX_ENTRY_BYTES - ENTRY_OVERHEAD]);
        c.put(&r, q(500), Bytes::from(vec![b'x'; MAX_ENTRY_BYTES]));
        assert!(c.get(&r, &q(500)).is_none(), "too big to keep");
        for id in 2..40 {
            c.put(&room(id, 1), q(100), big.clone());
            assert!(c.size().1 <= TOTAL_BYTES);
        }
        assert!(
            c.get(&room(39, 1), &q(100)).is_some(),
            "the newest are kept"
        );
        assert!(c.get(&room(2, 1), &q(100)).is_none(), "the oldest went");
        // Replacing an entry does not count it twice.
        let before = c.size();
        c.put(&room(39, 1), q(100), big);
        assert_eq!(c.size(), before);
    }
}
