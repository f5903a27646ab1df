//! `[moderation]` enforcement in the PySOGS handlers: daily quotas for posts, reactions and
//! uploads (429), and the minimum posts or account age before blinded DMs (403). Moderators
//! and admins (of the room, or global) are exempt.

use std::borrow::Cow;

use axum::http::StatusCode;

use super::{ApiError, ApiResult};
use crate::config::Config;
use crate::store::{QuotaKind, Room, Store, User};

/// A quota's window, seconds.
const DAY: f64 = 86_400.0;

/// Refuse a post, reaction or upload by `user` in `room` if it would exceed the daily quota.
pub(super) fn check(
    config: &Config,
    store: &Store,
    room: &Room,
    user: &User,
    kind: QuotaKind,
    now: f64,
) -> ApiResult<()> {
    let m = &config.moderation;
    let (quota, what) = match kind {
        QuotaKind::Post => (m.daily_post_quota, "post"),
        QuotaKind::Reaction => (m.daily_reaction_quota, "reaction"),
        QuotaKind::Upload => (m.daily_upload_quota, "upload"),
    };
    if quota == 0 || store.permissions(room, Some(user))?.is_moderator() {
        return Ok(());
    }
    let used = store.actions_since(user.id, kind, now - DAY)?;
    if u64::try_from(used).unwrap_or(0) >= quota {
        return Err(ApiError::Text(
            StatusCode::TOO_MANY_REQUESTS,
            Cow::Owned(format!(
                "Daily {what} quota exceeded ({quota} per 24 hours); try again later"
            )),
        ));
    }
    Ok(())
}

/// Refuse a blinded DM from a user with too few posts or too new an account.
pub(super) fn check_dm(config: &Config, store: &Store, sender: &User, now: f64) -> ApiResult<()> {
    let m = &config.moderation;
    if sender.moderator || sender.admin {
        return Ok(());
    }
    if m.dm_min_age > 0.0 && now - sender.created < m.dm_min_age {
        return Err(ApiError::text(
            StatusCode::FORBIDDEN,
            "This account is too new to send direct messages",
        ));
    }
    if m.dm_min_posts > 0
        && u64::try_from(store.live_post_count(sender.id)?).unwrap_or(0) < m.dm_min_posts
    {
        return Err(ApiError::text(
            StatusCode::FORBIDDEN,
            "This account has too few posts to send direct messages",
        ));
    }
    Ok(())
}
