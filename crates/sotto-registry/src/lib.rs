#![doc = include_str!("../README.md")]

pub mod amount;
pub mod chain;
pub mod constants;
mod err;
pub mod ledger;
pub mod report;
pub mod rpc;
pub mod rules;
pub mod server;
mod store;
#[cfg(test)]
mod testutil;

pub use amount::Amount;
pub use err::{Error, Result};
pub use ledger::{
    Address, Block, Contribution, Ledger, NodeRecord, NodeStatus, Registration, ReportOutcome,
    RewardBalance, RewardRules, Snapshot, TickOutcome, VoteRules,
};
pub use report::{PeerReport, SignedReport};
pub use store::SqliteLedger;

/// Unix time in seconds from the system clock (0 if it is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
