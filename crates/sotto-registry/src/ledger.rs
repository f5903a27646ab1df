//! The [`Ledger`] trait: the staking ledger's operations, whatever backs it (SQLite here; a
//! contract on an EVM chain later), and the types they exchange.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use sotto_crypto::{Ed25519PublicKey, X25519PublicKey};
use sotto_swarm::SwarmSizes;

use crate::amount::Amount;
use crate::err::{Error, Result};
use crate::report::PeerReport;

/// A staker's address: where rewards go. Opaque text (an EVM address, a wallet name), 1 to 128
/// characters without whitespace or `=`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(String);

impl Address {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Address {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let ok = (1..=128).contains(&s.chars().count())
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '=');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::BadAddress(s.to_owned()))
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One staker's stake in a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contribution {
    /// Who staked.
    pub address: Address,
    /// How much.
    pub amount: Amount,
}

/// A new node, as its operator registers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The node's Ed25519 key: its name.
    pub ed25519: Ed25519PublicKey,
    /// Its X25519 key, which must be the one derived from `ed25519`.
    pub x25519: X25519PublicKey,
    /// Its public address.
    pub public_ip: IpAddr,
    /// Its HTTPS port.
    pub storage_port: u16,
    /// Its OMQ/QUIC port (published; Sotto nodes do not use it yet).
    pub storage_lmq_port: u16,
    /// The operator and its stake (at least 25 % of [`MIN_STAKE`](crate::constants::MIN_STAKE)).
    pub operator: Contribution,
    /// Operator fee, basis points of each reward (0 to 10 000).
    pub fee_bps: u16,
    /// Other stakers, in order.
    pub contributors: Vec<Contribution>,
}

/// Where a live node stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    /// Registered, stake not complete: listed with `funded: false`, in no swarm.
    AwaitingContributions,
    /// Fully staked and serving: in a swarm.
    Active,
}

/// A live node as the ledger knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRecord {
    /// Its Ed25519 key.
    pub ed25519: Ed25519PublicKey,
    /// Its X25519 key.
    pub x25519: X25519PublicKey,
    /// Its public address.
    pub public_ip: IpAddr,
    /// Its HTTPS port.
    pub storage_port: u16,
    /// Its OMQ/QUIC port.
    pub storage_lmq_port: u16,
    /// Operator address.
    pub operator: Address,
    /// Operator fee in basis points.
    pub fee_bps: u16,
    /// Every stake, operator first.
    pub contributions: Vec<Contribution>,
    /// Funded and serving, or waiting for stake.
    pub status: NodeStatus,
    /// Its swarm ([`sotto_swarm::UNASSIGNED_SWARM_ID`] unless active).
    pub swarm_id: u64,
    /// Height of the block that registered it.
    pub registration_height: u64,
    /// If it asked to unlock: the unix time it leaves.
    pub exit_at: Option<u64>,
    /// Rewards it has earned in total (all stakers together).
    pub earned: Amount,
}

impl NodeRecord {
    /// Total staked.
    pub fn total_stake(&self) -> Amount {
        Amount::from_units(self.contributions.iter().map(|c| c.amount.units()).sum())
    }

    /// Whether the stake is complete.
    pub fn funded(&self) -> bool {
        self.status == NodeStatus::Active
    }
}

/// The ledger's head: the height, the block hash, and every live node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Number of changes to the node list so far.
    pub height: u64,
    /// Hash of the last change.
    pub block_hash: [u8; 32],
    /// Swarm sizes in force.
    pub sizes: SwarmSizes,
    /// Live nodes (awaiting stake or active), sorted by key.
    pub nodes: Vec<NodeRecord>,
}

/// A change recorded as a new block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Its height.
    pub height: u64,
    /// Its hash.
    pub hash: [u8; 32],
}

/// When failure reports deregister a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoteRules {
    /// Distinct active reporters needed.
    pub quorum: usize,
    /// How long a failure report counts, in seconds.
    pub window_secs: u64,
}

impl Default for VoteRules {
    fn default() -> Self {
        Self {
            quorum: crate::constants::DEFAULT_VOTE_QUORUM,
            window_secs: crate::constants::DEFAULT_VOTE_WINDOW_SECS,
        }
    }
}

/// What a report changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportOutcome {
    /// Distinct active reporters whose latest report on the node, within the window, failed.
    pub failing_reporters: usize,
    /// The block that deregistered the node, if this report completed the quorum.
    pub deregistered: Option<Block>,
}

/// How rewards are paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RewardRules {
    /// Length of a period, in seconds.
    pub period_secs: u64,
    /// What each active node earns per period.
    pub per_node: Amount,
}

impl Default for RewardRules {
    fn default() -> Self {
        Self {
            period_secs: crate::constants::DEFAULT_REWARD_PERIOD_SECS,
            per_node: crate::constants::DEFAULT_REWARD_PER_PERIOD,
        }
    }
}

/// What a [`Ledger::tick`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickOutcome {
    /// Nodes whose unlock time passed and that left.
    pub exited: Vec<Ed25519PublicKey>,
    /// Whether a reward period ended and was paid.
    pub rewarded: bool,
    /// The block recording exits, if any.
    pub block: Option<Block>,
}

/// A staker's reward balance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewardBalance {
    /// The staker.
    pub address: Address,
    /// Everything credited so far.
    pub amount: Amount,
}

/// The staking ledger. Every change to the node list is a new block: the height grows by one,
/// the block hash chains on, and swarms are recomputed from the new active set. Times are unix
/// seconds, always passed in.
pub trait Ledger {
    /// Register a node; refused if it breaks a staking rule ([`crate::rules`]).
    fn register(&mut self, registration: &Registration, now: u64) -> Result<Block>;
    /// Add stake to a node awaiting contributions; at the full stake it becomes active.
    fn stake(
        &mut self,
        node: &Ed25519PublicKey,
        contribution: &Contribution,
        now: u64,
    ) -> Result<Block>;
    /// Ask for a node to leave: it keeps serving until `exit_at`, then [`Ledger::tick`] removes it.
    fn unlock(&mut self, node: &Ed25519PublicKey, exit_at: u64, now: u64) -> Result<Block>;
    /// Remove a node at once.
    fn deregister(&mut self, node: &Ed25519PublicKey, reason: &str, now: u64) -> Result<Block>;
    /// Record a node's (already verified) test report, and deregister the tested node when a
    /// quorum of distinct active reporters saw it fail within the window.
    fn report(&mut self, report: &PeerReport, rules: &VoteRules, now: u64)
        -> Result<ReportOutcome>;
    /// Apply what time brings: exits whose time came, and the reward of a period that ended.
    fn tick(&mut self, rewards: &RewardRules, now: u64) -> Result<TickOutcome>;
    /// Use these swarm sizes from now on (a new block if they change).
    fn set_swarm_sizes(&mut self, sizes: &SwarmSizes, now: u64) -> Result<Option<Block>>;
    /// The current head block.
    fn head(&self) -> Result<Block>;
    /// The head and every live node.
    fn snapshot(&self) -> Result<Snapshot>;
    /// Every staker's reward balance, largest first.
    fn rewards(&self) -> Result<Vec<RewardBalance>>;
}
