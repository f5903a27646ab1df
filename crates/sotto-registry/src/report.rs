//! Nodes' signed test reports (`report_peer_status`): the exact bytes signed, signing as a node
//! and checking as the registry.
//!
//! A node that tested a peer (`swarms.md` §5) sends `report_peer_status` with params
//!
//! ```json
//! {"type": "storage", "pubkey": "<tested node's Ed25519 key, hex>", "passed": false,
//!  "reporter": "<reporting node's Ed25519 key, hex>", "timestamp": 1700000000,
//!  "signature": "<Ed25519 signature, 128 hex characters>"}
//! ```
//!
//! The reporter signs, with its node Ed25519 key, the ASCII text
//! `report_peer_status:<type>:<tested key hex, lowercase>:<true|false>:<timestamp>` (timestamp
//! in unix seconds, decimal). The registry refuses a report whose signature does not verify, whose
//! timestamp is more than 60 s from its clock, or whose reporter is not an active node.

use serde::{Deserialize, Serialize};
use sotto_crypto::{Ed25519PublicKey, Identity};

use crate::constants::REPORT_MAX_CLOCK_SKEW_SECS;
use crate::err::{Error, Result};

/// The only report type: storage-server reachability.
pub const REPORT_TYPE_STORAGE: &str = "storage";

/// A verified test report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerReport {
    /// The node that tested.
    pub reporter: Ed25519PublicKey,
    /// The node it tested.
    pub tested: Ed25519PublicKey,
    /// Whether the test passed.
    pub passed: bool,
    /// When, unix seconds (the reporter's clock).
    pub timestamp: u64,
}

/// A report as sent: the `report_peer_status` params.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedReport {
    /// Report type; only `storage`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The tested node's Ed25519 key.
    pub pubkey: Ed25519PublicKey,
    /// Whether the test passed.
    pub passed: bool,
    /// The reporting node's Ed25519 key.
    pub reporter: Ed25519PublicKey,
    /// Unix seconds.
    pub timestamp: u64,
    /// Ed25519 signature of [`report_message`], hex.
    pub signature: String,
}

/// The bytes a reporter signs.
pub fn report_message(
    kind: &str,
    tested: &Ed25519PublicKey,
    passed: bool,
    timestamp: u64,
) -> Vec<u8> {
    format!(
        "report_peer_status:{kind}:{}:{passed}:{timestamp}",
        tested.to_hex()
    )
    .into_bytes()
}

impl SignedReport {
    /// Sign a storage test report as the node `identity`.
    pub fn sign(
        identity: &Identity,
        tested: &Ed25519PublicKey,
        passed: bool,
        timestamp: u64,
    ) -> Self {
        let msg = report_message(REPORT_TYPE_STORAGE, tested, passed, timestamp);
        Self {
            kind: REPORT_TYPE_STORAGE.to_owned(),
            pubkey: *tested,
            passed,
            reporter: identity.ed25519_public(),
            timestamp,
            signature: hex::encode(identity.sign(&msg)),
        }
    }

    /// Check type, clock (±60 s of `now`) and signature. Whether the reporter is an active node
    /// is the ledger's check.
    pub fn verify(&self, now: u64) -> Result<PeerReport> {
        if self.kind != REPORT_TYPE_STORAGE {
            return Err(Error::ReportType(self.kind.clone()));
        }
        if self.timestamp.abs_diff(now) > REPORT_MAX_CLOCK_SKEW_SECS {
            return Err(Error::ReportClock {
                timestamp: self.timestamp,
                now,
                max_skew: REPORT_MAX_CLOCK_SKEW_SECS,
            });
        }
        let bad = || Error::BadReportSignature(self.reporter.to_hex());
        let sig: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        let msg = report_message(&self.kind, &self.pubkey, self.passed, self.timestamp);
        self.reporter
            .verify(&msg, &sig, "peer report")
            .map_err(|_| bad())?;
        if self.reporter == self.pubkey {
            return Err(Error::SelfReport);
        }
        Ok(PeerReport {
            reporter: self.reporter,
            tested: self.pubkey,
            passed: self.passed,
            timestamp: self.timestamp,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn message_format() {
        let tested = Ed25519PublicKey([0xab; 32]);
        assert_eq!(
            report_message("storage", &tested, false, 1_700_000_000),
            format!(
                "report_peer_status:storage:{}:false:1700000000",
                "ab".repeat(32)
            )
            .into_bytes()
        );
    }

    #[test]
    fn sign_verify_and_refusals() {
        let me = Identity::from_ed25519_seed(&[1; 32]);
        let peer = Identity::from_ed25519_seed(&[2; 32]).ed25519_public();
        let r = SignedReport::sign(&me, &peer, false, 1000);
        let ok = r.verify(1030).unwrap();
        assert_eq!(
            (ok.reporter, ok.tested, ok.passed),
            (me.ed25519_public(), peer, false)
        );

        assert!(matches!(r.verify(1061), Err(Error::ReportClock { .. })));
        assert!(matches!(r.verify(939), Err(Error::ReportClock { .. })));
        let mut flipped = r.clone();
        flipped.passed = true;
        assert!(matches!(
            flipped.verify(1000),
            Err(Error::BadReportSignature(_))
        ));
        let mut garbage = r.clone();
        garbage.signature = "zz".into();
        assert!(matches!(
            garbage.verify(1000),
            Err(Error::BadReportSignature(_))
        ));
        let mut other = r.clone();
        other.kind = "lokinet".into();
        assert!(matches!(other.verify(1000), Err(Error::ReportType(_))));
        let own = SignedReport::sign(&me, &me.ed25519_public(), false, 1000);
        assert!(matches!(own.verify(1000), Err(Error::SelfReport)));
    }

    #[test]
    fn json_form() {
        let me = Identity::from_ed25519_seed(&[1; 32]);
        let r = SignedReport::sign(&me, &Ed25519PublicKey([3; 32]), true, 5);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["type"], "storage");
        assert_eq!(v["pubkey"], "03".repeat(32));
        let back: SignedReport = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }
}
