//! Counts behind the `[moderation]` quotas and DM limits.

use super::db::params;

use super::Store;
use crate::err::Result;

/// What a quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaKind {
    /// Posts, deleted ones included (deleting does not give the quota back).
    Post,
    /// Reactions added and still in place.
    Reaction,
    /// Uploads.
    Upload,
}

impl Store {
    /// How many `kind` actions a user made, in every room, since `since`.
    pub fn actions_since(&self, user_id: i64, kind: QuotaKind, since: f64) -> Result<i64> {
        let sql = match kind {
            QuotaKind::Post => "SELECT COUNT(*) FROM messages WHERE \"user\" = ?1 AND posted >= ?2",
            QuotaKind::Reaction => {
                "SELECT COUNT(*) FROM user_reactions WHERE \"user\" = ?1 AND at >= ?2"
            }
            QuotaKind::Upload => {
                "SELECT COUNT(*) FROM files WHERE uploader = ?1 AND uploaded >= ?2"
            }
        };
        self.conn
            .query_row(sql, params![user_id, since], |r| r.get(0))
    }

    /// A user's live, unfiltered posts in every room.
    pub fn live_post_count(&self, user_id: i64) -> Result<i64> {
        self.conn.query_row(
            "SELECT COUNT(*) FROM messages
             WHERE \"user\" = ?1 AND data IS NOT NULL AND NOT filtered",
            [user_id],
            |r| r.get(0),
        )
    }
}
