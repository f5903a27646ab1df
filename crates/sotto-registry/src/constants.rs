//! Every number of the registry, with where it comes from. Amounts are in atomic units: 1 SESH =
//! 1 000 000 000 units (9 decimal places, as oxend reports OXEN in nano-units).

use std::time::Duration;

use crate::amount::Amount;

/// Atomic units in one SESH.
pub const UNITS_PER_SESH: u64 = 1_000_000_000;

/// Stake a node needs to be funded (and so active): 25 000 SESH, the Session network's
/// requirement (`swarms.md` §6, docs.getsession.org "staking and collateralization").
pub const MIN_STAKE: Amount = Amount::from_units(25_000 * UNITS_PER_SESH);
/// Operator's minimum share of [`MIN_STAKE`], in percent: 25 % (`swarms.md` §6).
pub const MIN_OPERATOR_SHARE_PERCENT: u64 = 25;
/// Operator's minimum stake: 25 % of [`MIN_STAKE`] = 6 250 SESH.
pub const MIN_OPERATOR_STAKE: Amount =
    Amount::from_units(MIN_STAKE.units() / 100 * MIN_OPERATOR_SHARE_PERCENT);
/// Most stakers of one node, operator included: 10 (`swarms.md` §6).
pub const MAX_CONTRIBUTORS: usize = 10;
/// Operator fees are in basis points of the reward: 10 000 = 100 % (oxend's HF19 convention).
pub const FEE_BASIS: u64 = 10_000;

/// Default wait between `unlock` and the node's exit: 30 days (oxen-core
/// `service_node_rules.h` unlock timer; `swarms.md` §6).
pub const DEFAULT_UNLOCK_DELAY_SECS: u64 = 30 * 24 * 3600;

/// Default number of distinct active nodes whose failure reports deregister a node. Upstream a
/// 10-node quorum needs 7 votes (`STATE_CHANGE_MIN_VOTES_TO_CHANGE_STATE`); a registry that hears
/// every node's own tests needs fewer, and 3 lets a 10-node devnet vote a dead node out.
pub const DEFAULT_VOTE_QUORUM: usize = 3;
/// Default age after which a failure report no longer counts: 5 minutes, as oxend forgets
/// failure reports older than `REACHABLE_MAX_FAILURE_VALIDITY` (`swarms.md` §5).
pub const DEFAULT_VOTE_WINDOW_SECS: u64 = 300;
/// Largest clock difference accepted on a signed node report: 60 s.
pub const REPORT_MAX_CLOCK_SKEW_SECS: u64 = 60;

/// Default reward period: 1 hour.
pub const DEFAULT_REWARD_PERIOD_SECS: u64 = 3600;
/// Default reward of each active node per period: 1 SESH (a Sotto choice; no real token moves).
pub const DEFAULT_REWARD_PER_PERIOD: Amount = Amount::from_units(UNITS_PER_SESH);

/// `hardfork` published in the node list: 19 (storage servers need ≥ 19.3, `swarms.md` §3).
pub const HARDFORK: u64 = 19;
/// `snode_revision` published with [`HARDFORK`]: 3, the lowest that makes storage servers ready
/// (19.4 would also demand QUIC pings, which Sotto nodes do not answer).
pub const SNODE_REVISION: u64 = 3;
/// `storage_server_version` published for every node: 2.8.0, the minimum clients pick
/// (`swarms.md` §4).
pub const STORAGE_SERVER_VERSION: [u16; 3] = [2, 8, 0];

/// Default data directory (database `registry.db` and the TLS certificate).
pub const DEFAULT_DATA_DIR: &str = "sotto-registry-data";
/// Database file inside the data directory.
pub const DB_FILE: &str = "registry.db";
/// Default listening address: port 4443, as Session's seed nodes.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:4443";
/// How often the server applies time-driven changes (exits after unlock, reward periods).
pub const TICK: Duration = Duration::from_secs(1);
