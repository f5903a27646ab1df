//! The checks a node makes on a parsed request before touching storage, in the reference's
//! order and with its answers (`request_handler.cpp`, `process_client_req`).

use crate::auth::{check_window, Auth};
use crate::err::{Result, RpcError};
use crate::ids::AccountId;
use crate::limits::{SIGNATURE_TOLERANCE_MS, STORE_TOLERANCE_MS, TTL_MIN_MS};
use crate::request::Request;

impl Request {
    /// Check TTL and clock rules and the presence, freshness and validity of the signature.
    /// `now` is the node's clock, ms. Swarm membership (a `421`, checked first by the
    /// reference) needs the node's view of the network and is left to the node; so is the
    /// longer tolerance for requests forwarded within a swarm. The node is taken to run network
    /// version 19.3: per-message `expire` expiries are refused with 403.
    pub fn check(&self, now: i64) -> Result<()> {
        let msg = self.signed_message();
        let past = now.saturating_sub(SIGNATURE_TOLERANCE_MS);
        let future = now.saturating_add(SIGNATURE_TOLERANCE_MS);
        match self {
            Self::Store(r) => {
                let ttl = r.expiry.saturating_sub(r.timestamp);
                if ttl < TTL_MIN_MS || ttl > r.namespace.max_ttl_ms() {
                    return Err(RpcError::new(403, "Provided expiry/TTL is not valid."));
                }
                if r.timestamp > now.saturating_add(STORE_TOLERANCE_MS)
                    || r.expiry < now.saturating_sub(STORE_TOLERANCE_MS)
                {
                    return Err(RpcError::new(406, "Timestamp error: check your clock"));
                }
                // A signature given for a public inbox is not checked.
                if r.namespace.is_public_inbox() {
                    return Ok(());
                }
                let Some(auth) = &r.auth else {
                    return Err(RpcError::new(
                        401,
                        format!(
                            "store: signature required to store to namespace {}",
                            r.namespace
                        ),
                    ));
                };
                check_window(
                    r.sig_timestamp,
                    now,
                    SIGNATURE_TOLERANCE_MS,
                    "store signature timestamp too far from current time",
                )?;
                verified(auth, &r.account, msg, "store signature verification failed")
            }
            Self::Retrieve(r) => {
                let Some((auth, ts)) = &r.auth else {
                    if r.namespace.is_no_auth_retrieve() {
                        return Ok(());
                    }
                    return Err(RpcError::new(401, "retrieve: request signature required"));
                };
                check_window(
                    *ts,
                    now,
                    SIGNATURE_TOLERANCE_MS,
                    "retrieve timestamp too far from current time",
                )?;
                verified(
                    auth,
                    &r.account,
                    msg,
                    "retrieve signature verification failed",
                )
            }
            Self::Delete(r) => verified(
                &r.auth,
                &r.account,
                msg,
                "delete_msgs signature verification failed",
            ),
            Self::DeleteAll(r) => {
                check_window(
                    r.time,
                    now,
                    SIGNATURE_TOLERANCE_MS,
                    "delete_all timestamp too far from current time",
                )?;
                verified(
                    &r.auth,
                    &r.account,
                    msg,
                    "delete_all signature verification failed",
                )
            }
            Self::DeleteBefore(r) => {
                if r.time > future {
                    return Err(RpcError::new(
                        401,
                        "delete_before timestamp too far in the future",
                    ));
                }
                verified(
                    &r.auth,
                    &r.account,
                    msg,
                    "delete_before signature verification failed",
                )
            }
            Self::ExpireAll(r) => {
                if r.time < past {
                    return Err(RpcError::new(
                        406,
                        "expire_all timestamp should be >= current time",
                    ));
                }
                verified(
                    &r.auth,
                    &r.account,
                    msg,
                    "expire_all signature verification failed",
                )
            }
            Self::Expire(r) => {
                if r.expiry < past || r.more_expiries.iter().any(|&e| e < past) {
                    return Err(RpcError::new(
                        401,
                        "expire: timestamp should be >= current time",
                    ));
                }
                if !r.more_expiries.is_empty() {
                    return Err(RpcError::new(
                        403,
                        "expire: multi-expiry requests are not yet active on the network",
                    ));
                }
                verified(
                    &r.auth,
                    &r.account,
                    msg,
                    "expire: signature verification failed",
                )
            }
            Self::GetExpiries(r) => {
                check_window(
                    r.timestamp,
                    now,
                    SIGNATURE_TOLERANCE_MS,
                    "get_expiries timestamp too far from current time",
                )?;
                verified(
                    &r.auth,
                    &r.account,
                    msg,
                    "get_expiries signature verification failed",
                )
            }
            Self::GetSwarm(_)
            | Self::Info
            | Self::GetServiceNodes { .. }
            | Self::Batch(_)
            | Self::Sequence(_) => Ok(()),
        }
    }
}

/// `401 <fail>` unless `auth` signs `msg` for `account`.
fn verified(auth: &Auth, account: &AccountId, msg: Option<Vec<u8>>, fail: &str) -> Result<()> {
    match msg {
        Some(msg) if auth.verify(account, &msg) => Ok(()),
        _ => Err(RpcError::new(401, fail)),
    }
}
