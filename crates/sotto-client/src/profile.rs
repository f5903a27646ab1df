//! The local profile: the account's seed, the network it uses, contacts, conversations and
//! polling state, in one SQLite file (`profile.db`) in the profile directory.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use sotto_crypto::{Identity, Seed};

use crate::err::{Error, Result};

/// The database file in a profile directory.
pub const PROFILE_DB: &str = "profile.db";

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_profile.sql"),
    include_str!("../migrations/0002_receipts_expiry.sql"),
    include_str!("../migrations/0003_attachments.sql"),
    include_str!("../migrations/0004_avatars.sql"),
    include_str!("../migrations/0005_communities.sql"),
];

/// An attachment of a message, as its pointer describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The message it came with.
    pub message_hash: String,
    /// Its position among the message's attachments.
    pub index: u32,
    /// Where the encrypted file is.
    pub url: String,
    /// Its key: 64 bytes (legacy) or 32 (deterministic).
    pub key: Vec<u8>,
    /// SHA-256 of the encrypted file (legacy).
    pub digest: Option<Vec<u8>>,
    /// Plaintext size.
    pub size: u64,
    /// The sender's file name.
    pub file_name: Option<String>,
    /// MIME type.
    pub content_type: Option<String>,
}

/// A message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Storage hash.
    pub hash: String,
    /// The other party's Session ID.
    pub conversation: String,
    /// Who wrote it.
    pub sender: String,
    /// Its text.
    pub body: String,
    /// The sender's envelope timestamp, ms.
    pub sent_ms: i64,
    /// Written by this account.
    pub outgoing: bool,
    /// When it disappears (disappearing-message timer), ms.
    pub expires_ms: Option<i64>,
}

/// A community server joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityServerRow {
    /// Its base URL (`http://host[:port]`, no trailing `/`).
    pub base_url: String,
    /// Its X25519 public key, hex.
    pub pubkey: String,
    /// The capabilities it listed at the last join (`/capabilities`).
    pub capabilities: Vec<String>,
    /// The id of the last DM read from its inbox (0: none yet).
    pub inbox_last_id: i64,
}

/// A community room joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityRoomRow {
    /// The server's base URL.
    pub base_url: String,
    /// The room token.
    pub token: String,
    /// Its name, as the server gave it at join.
    pub name: Option<String>,
    /// The room's message sequence number up to which we have read (None: never read).
    pub last_seqno: Option<i64>,
}

/// An open profile.
#[derive(Debug)]
pub struct Profile {
    conn: Connection,
    dir: PathBuf,
}

fn db_err(e: rusqlite::Error) -> Error {
    Error::Profile(e.to_string())
}

impl Profile {
    /// Open the profile in `dir`, creating the directory and database if missing.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Profile(format!("cannot create {}: {e}", dir.display())))?;
        let conn = Connection::open(dir.join(PROFILE_DB)).map_err(db_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db_err)?;
        let version: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
            .map_err(db_err)
            .map(|v| usize::try_from(v).unwrap_or(usize::MAX))?;
        if version > MIGRATIONS.len() {
            return Err(Error::Profile(format!(
                "profile schema {version} is newer than this program's {}",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            conn.execute_batch(&format!(
                "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
                i + 1
            ))
            .map_err(db_err)?;
        }
        Ok(Self {
            conn,
            dir: dir.to_owned(),
        })
    }

    /// The profile directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A setting.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)
    }

    /// Set a setting.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// The account, if the profile has one.
    pub fn identity(&self) -> Result<Option<(Identity, Seed)>> {
        let Some(hex) = self.setting("seed")? else {
            return Ok(None);
        };
        let seed =
            Seed::from_hex(&hex).map_err(|e| Error::Profile(format!("bad stored seed: {e}")))?;
        Ok(Some((Identity::from_seed(&seed), seed)))
    }

    /// Store the account's seed (only once: a profile holds one account).
    pub fn set_seed(&self, seed: &Seed) -> Result<()> {
        if self.setting("seed")?.is_some() {
            return Err(Error::Profile(format!(
                "{} already holds an account",
                self.dir.display()
            )));
        }
        self.set_setting("seed", &seed.to_hex())
    }

    /// Add or rename a contact.
    pub fn add_contact(&self, session_id: &str, name: Option<&str>) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO contacts (session_id, name) VALUES (?1, ?2) \
                 ON CONFLICT(session_id) DO UPDATE SET name = coalesce(excluded.name, name)",
                params![session_id, name],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Remember a contact's profile picture (URL and profile key).
    pub fn set_contact_avatar(&self, session_id: &str, url: &str, key: &[u8]) -> Result<()> {
        self.add_contact(session_id, None)?;
        self.conn
            .execute(
                "UPDATE contacts SET avatar_url = ?2, avatar_key = ?3 WHERE session_id = ?1",
                params![session_id, url, key],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// A contact's profile picture, if known: URL and profile key.
    pub fn contact_avatar(&self, session_id: &str) -> Result<Option<(String, Vec<u8>)>> {
        self.conn
            .query_row(
                "SELECT avatar_url, avatar_key FROM contacts WHERE session_id = ?1 \
                 AND avatar_url IS NOT NULL AND avatar_key IS NOT NULL",
                params![session_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)
    }

    /// Every contact, with its name if known.
    pub fn contacts(&self) -> Result<Vec<(String, Option<String>)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT session_id, name FROM contacts ORDER BY session_id")
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    /// Record a conversation message; false if its hash was already recorded.
    pub fn add_message(&self, m: &StoredMessage, now_ms: i64) -> Result<bool> {
        self.conn
            .execute(
                "INSERT INTO messages \
                 (hash, conversation, sender, body, sent_ms, outgoing, received_ms, expires_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(hash) DO NOTHING",
                params![
                    m.hash,
                    m.conversation,
                    m.sender,
                    m.body,
                    m.sent_ms,
                    m.outgoing,
                    now_ms,
                    m.expires_ms
                ],
            )
            .map(|n| n > 0)
            .map_err(db_err)
    }

    /// Messages received from others, oldest first (by the sender's timestamp).
    pub fn inbox(&self) -> Result<Vec<StoredMessage>> {
        self.messages("WHERE outgoing = 0")
    }

    /// One conversation, both directions, oldest first.
    pub fn conversation(&self, with: &str) -> Result<Vec<StoredMessage>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT hash, conversation, sender, body, sent_ms, outgoing, expires_ms FROM messages \
                 WHERE conversation = ?1 ORDER BY sent_ms, received_ms",
            )
            .map_err(db_err)?;
        let rows = stmt.query_map(params![with], row_message).map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    fn messages(&self, filter: &str) -> Result<Vec<StoredMessage>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT hash, conversation, sender, body, sent_ms, outgoing, expires_ms FROM messages \
                 {filter} ORDER BY sent_ms, received_ms"
            ))
            .map_err(db_err)?;
        let rows = stmt.query_map([], row_message).map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    /// Delete messages whose disappearing timer ran out; returns how many.
    pub fn expire_messages(&self, now_ms: i64) -> Result<usize> {
        self.conn
            .execute(
                "DELETE FROM messages WHERE expires_ms IS NOT NULL AND expires_ms <= ?1",
                params![now_ms],
            )
            .map_err(db_err)
    }

    /// Apply an unsend request: delete `author`'s message sent at `sent_ms`; true if one was.
    pub fn unsend(&self, author: &str, sent_ms: i64) -> Result<bool> {
        self.conn
            .execute(
                "DELETE FROM messages WHERE sender = ?1 AND sent_ms = ?2",
                params![author, sent_ms],
            )
            .map(|n| n > 0)
            .map_err(db_err)
    }

    /// Record that `reader` read our messages sent at `timestamps`; returns how many matched.
    pub fn mark_read(&self, reader: &str, timestamps: &[i64], now_ms: i64) -> Result<usize> {
        let mut n = 0;
        for ts in timestamps {
            n += self
                .conn
                .execute(
                    "UPDATE messages SET read_ms = ?1 \
                     WHERE outgoing = 1 AND conversation = ?2 AND sent_ms = ?3 AND read_ms IS NULL",
                    params![now_ms, reader, ts],
                )
                .map_err(db_err)?;
        }
        Ok(n)
    }

    /// Whether our message sent at `sent_ms` to `to` was read.
    pub fn is_read(&self, to: &str, sent_ms: i64) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT read_ms IS NOT NULL FROM messages WHERE outgoing = 1 AND conversation = ?1 AND sent_ms = ?2",
                params![to, sent_ms],
                |r| r.get(0),
            )
            .optional()
            .map(|v| v.unwrap_or(false))
            .map_err(db_err)
    }

    /// Our message with this storage hash, if any.
    pub fn outgoing_by_hash(&self, hash: &str) -> Result<Option<StoredMessage>> {
        self.conn
            .query_row(
                "SELECT hash, conversation, sender, body, sent_ms, outgoing, expires_ms FROM messages \
                 WHERE hash = ?1 AND outgoing = 1",
                params![hash],
                row_message,
            )
            .optional()
            .map_err(db_err)
    }

    /// Delete one message by hash.
    pub fn delete_message(&self, hash: &str) -> Result<bool> {
        self.conn
            .execute("DELETE FROM messages WHERE hash = ?1", params![hash])
            .map(|n| n > 0)
            .map_err(db_err)
    }

    /// Record an attachment (a repeat is ignored).
    pub fn add_attachment(&self, a: &Attachment) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO attachments (message_hash, idx, url, key, digest, size, file_name, content_type) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
                params![
                    a.message_hash,
                    a.index,
                    a.url,
                    a.key,
                    a.digest,
                    i64::try_from(a.size).unwrap_or(i64::MAX),
                    a.file_name,
                    a.content_type
                ],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Every attachment recorded, in message order.
    pub fn attachments(&self) -> Result<Vec<Attachment>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT a.message_hash, a.idx, a.url, a.key, a.digest, a.size, a.file_name, a.content_type \
                 FROM attachments a LEFT JOIN messages m ON m.hash = a.message_hash \
                 ORDER BY m.sent_ms, a.message_hash, a.idx",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Attachment {
                    message_hash: r.get(0)?,
                    index: r.get(1)?,
                    url: r.get(2)?,
                    key: r.get(3)?,
                    digest: r.get(4)?,
                    size: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
                    file_name: r.get(6)?,
                    content_type: r.get(7)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    /// Mark a storage hash seen; true if it was new.
    pub fn mark_seen(&self, hash: &str, expiry_ms: i64) -> Result<bool> {
        self.conn
            .execute(
                "INSERT INTO seen (hash, expiry_ms) VALUES (?1, ?2) ON CONFLICT(hash) DO NOTHING",
                params![hash, expiry_ms],
            )
            .map(|n| n > 0)
            .map_err(db_err)
    }

    /// Forget seen hashes that expired.
    pub fn prune_seen(&self, now_ms: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM seen WHERE expiry_ms < ?1", params![now_ms])
            .map(|_| ())
            .map_err(db_err)
    }

    /// Where polling `node` stopped in `namespace`.
    pub fn last_hash(&self, node: &str, namespace: i16) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT hash FROM last_hash WHERE node = ?1 AND namespace = ?2",
                params![node, namespace],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)
    }

    /// Remember where polling `node` stopped.
    pub fn set_last_hash(&self, node: &str, namespace: i16, hash: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO last_hash (node, namespace, hash) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(node, namespace) DO UPDATE SET hash = excluded.hash",
                params![node, namespace, hash],
            )
            .map(|_| ())
            .map_err(db_err)
    }
}

/// Communities joined (`sotto community`).
impl Profile {
    /// Remember a server (or update its key and capabilities).
    pub fn upsert_community_server(
        &self,
        base_url: &str,
        pubkey: &str,
        capabilities: &[String],
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO community_servers (base_url, pubkey, capabilities) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(base_url) DO UPDATE SET pubkey = excluded.pubkey, \
                 capabilities = excluded.capabilities",
                params![base_url, pubkey, capabilities.join(",")],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Remember a room (joining again keeps where reading stopped, and updates the name).
    pub fn upsert_community_room(
        &self,
        base_url: &str,
        token: &str,
        name: Option<&str>,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO community_rooms (base_url, token, name) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(base_url, token) DO UPDATE SET name = excluded.name",
                params![base_url, token, name],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Every server joined, by base URL.
    pub fn community_servers(&self) -> Result<Vec<CommunityServerRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT base_url, pubkey, capabilities, inbox_last_id FROM community_servers \
                 ORDER BY base_url",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| {
                let caps: String = r.get(2)?;
                Ok(CommunityServerRow {
                    base_url: r.get(0)?,
                    pubkey: r.get(1)?,
                    capabilities: caps
                        .split(',')
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    inbox_last_id: r.get(3)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    /// Every room joined, by server then token.
    pub fn community_rooms(&self) -> Result<Vec<CommunityRoomRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT base_url, token, name, last_seqno FROM community_rooms \
                 ORDER BY base_url, token",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(CommunityRoomRow {
                    base_url: r.get(0)?,
                    token: r.get(1)?,
                    name: r.get(2)?,
                    last_seqno: r.get(3)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    /// Remember how far a room has been read.
    pub fn set_community_seqno(&self, base_url: &str, token: &str, seqno: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE community_rooms SET last_seqno = ?3 WHERE base_url = ?1 AND token = ?2",
                params![base_url, token, seqno],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Remember the last DM read from a server's inbox.
    pub fn set_community_inbox_id(&self, base_url: &str, id: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE community_servers SET inbox_last_id = ?2 WHERE base_url = ?1",
                params![base_url, id],
            )
            .map(|_| ())
            .map_err(db_err)
    }
}

fn row_message(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredMessage> {
    Ok(StoredMessage {
        hash: r.get(0)?,
        conversation: r.get(1)?,
        sender: r.get(2)?,
        body: r.get(3)?,
        sent_ms: r.get(4)?,
        outgoing: r.get(5)?,
        expires_ms: r.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn seed_contacts_messages_and_polling_state_persist() {
        let dir = tempfile::tempdir().unwrap();
        let seed = Seed::from_hex("00112233445566778899aabbccddeeff").unwrap();
        {
            let p = Profile::open(dir.path()).unwrap();
            assert!(p.identity().unwrap().is_none());
            p.set_seed(&seed).unwrap();
            assert!(p.set_seed(&seed).is_err(), "one account per profile");
            p.add_contact("05aa", Some("Alice")).unwrap();
            p.add_contact("05aa", None).unwrap();
            let m = StoredMessage {
                hash: "h1".into(),
                conversation: "05aa".into(),
                sender: "05aa".into(),
                body: "hi".into(),
                sent_ms: 5,
                outgoing: false,
                expires_ms: Some(50),
            };
            assert!(p.add_message(&m, 10).unwrap());
            assert!(!p.add_message(&m, 11).unwrap());
            assert!(p.mark_seen("h1", 100).unwrap());
            assert!(!p.mark_seen("h1", 100).unwrap());
            p.set_last_hash("node", 0, "h1").unwrap();
        }
        let p = Profile::open(dir.path()).unwrap();
        let (id, _) = p.identity().unwrap().unwrap();
        assert_eq!(id.session_id(), Identity::from_seed(&seed).session_id());
        assert_eq!(
            p.contacts().unwrap(),
            vec![("05aa".into(), Some("Alice".into()))]
        );
        assert_eq!(p.inbox().unwrap().len(), 1);
        assert_eq!(p.last_hash("node", 0).unwrap().as_deref(), Some("h1"));
        assert_eq!(p.expire_messages(40).unwrap(), 0);
        assert_eq!(p.expire_messages(50).unwrap(), 1);
        assert!(p.inbox().unwrap().is_empty());
        p.prune_seen(1000).unwrap();
        assert!(p.mark_seen("h1", 2000).unwrap());
    }

    #[test]
    fn communities_persist_and_rejoining_keeps_the_read_position() {
        let dir = tempfile::tempdir().unwrap();
        {
            let p = Profile::open(dir.path()).unwrap();
            let caps = vec!["blind".to_owned(), "sogs".to_owned()];
            p.upsert_community_server("http://h:1", "aa", &caps)
                .unwrap();
            p.upsert_community_room("http://h:1", "lobby", Some("Lobby"))
                .unwrap();
            p.set_community_seqno("http://h:1", "lobby", 7).unwrap();
            p.set_community_inbox_id("http://h:1", 3).unwrap();
            // A second join updates the name and key, not the read position.
            p.upsert_community_server("http://h:1", "bb", &caps[1..])
                .unwrap();
            p.upsert_community_room("http://h:1", "lobby", Some("Hall"))
                .unwrap();
        }
        let p = Profile::open(dir.path()).unwrap();
        let servers = p.community_servers().unwrap();
        assert_eq!(
            servers,
            vec![CommunityServerRow {
                base_url: "http://h:1".into(),
                pubkey: "bb".into(),
                capabilities: vec!["sogs".into()],
                inbox_last_id: 3,
            }]
        );
        let rooms = p.community_rooms().unwrap();
        assert_eq!(
            rooms,
            vec![CommunityRoomRow {
                base_url: "http://h:1".into(),
                token: "lobby".into(),
                name: Some("Hall".into()),
                last_seqno: Some(7),
            }]
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Profile::open(dir.path()).unwrap();
        let conn = Connection::open(dir.path().join(PROFILE_DB)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Profile::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
    }
}
