//! Blinded direct messages (`inbox` table, `sogs/model/message.py`).

use super::db::{params, Row};

use super::Store;
use crate::err::Result;

/// One direct message with sender and recipient session IDs.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectMessage {
    /// Message id.
    pub id: i64,
    /// When it was posted.
    pub posted_at: f64,
    /// When it expires.
    pub expires_at: f64,
    /// Sender's session ID.
    pub sender: String,
    /// Recipient's session ID.
    pub recipient: String,
    /// The opaque encrypted body.
    pub body: Vec<u8>,
}

const SELECT: &str = "SELECT inbox.id, posted_at, expiry, s.session_id, r.session_id, body
    FROM inbox JOIN users s ON s.id = inbox.sender JOIN users r ON r.id = inbox.recipient";

impl Store {
    /// Deliver a message; returns it.
    pub fn send_dm(
        &mut self,
        sender: i64,
        recipient: i64,
        body: &[u8],
        now: f64,
        expiry: f64,
    ) -> Result<DirectMessage> {
        let tx = self.write()?;
        let id: i64 = tx.query_row(
            "INSERT INTO inbox (sender, recipient, body, posted_at, expiry)
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            params![sender, recipient, body, now, now + expiry],
            |r| r.get(0),
        )?;
        let msg = tx.query_row(&format!("{SELECT} WHERE inbox.id = ?1"), [id], from_row)?;
        tx.commit()?;
        Ok(msg)
    }

    /// Messages to (`outbox` false) or from (`outbox` true) a user with id > `since`, by id.
    pub fn dms(
        &self,
        user_id: i64,
        outbox: bool,
        since: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DirectMessage>> {
        let column = if outbox { "sender" } else { "recipient" };
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT} WHERE inbox.{column} = ?1 AND inbox.id > ?2 ORDER BY inbox.id LIMIT ?3"
        ))?;
        let rows = stmt
            .query_map(params![user_id, since.unwrap_or(i64::MIN), limit], from_row)?
            .collect::<Result<_>>()?;
        Ok(rows)
    }

    /// Delete every message to a user; returns how many.
    pub fn delete_inbox(&mut self, user_id: i64) -> Result<usize> {
        self.conn
            .execute("DELETE FROM inbox WHERE recipient = ?1", [user_id])
    }
}

fn from_row(r: &Row<'_>) -> Result<DirectMessage> {
    Ok(DirectMessage {
        id: r.get(0)?,
        posted_at: r.get(1)?,
        expires_at: r.get(2)?,
        sender: r.get(3)?,
        recipient: r.get(4)?,
        body: r.get(5)?,
    })
}
