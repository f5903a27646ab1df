//! The one error type of this crate: every refusal of the ledger's rules, with its context.

use crate::amount::Amount;

/// Everything the registry refuses or fails at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operator's stake is below 25 % of the requirement.
    #[error("operator stake {got} SESH is below the minimum {needed} SESH (25 % of the stake)")]
    OperatorStakeTooLow {
        /// What the operator offered.
        got: Amount,
        /// The minimum.
        needed: Amount,
    },
    /// A new contributor's stake is below the minimum contribution.
    #[error(
        "contribution of {got} SESH from {address} is below the minimum {needed} SESH \
         (what is left to fund, split over the free contributor slots)"
    )]
    ContributionTooSmall {
        /// The contributor.
        address: String,
        /// What was offered.
        got: Amount,
        /// The minimum.
        needed: Amount,
    },
    /// Contributions would exceed the stake requirement.
    #[error("stakes would total {total} SESH, more than the {limit} SESH a node takes")]
    OverStaked {
        /// The total that was asked for.
        total: Amount,
        /// The requirement.
        limit: Amount,
    },
    /// More stakers than a node allows.
    #[error("a node takes at most {max} stakers (operator included), {got} given")]
    TooManyContributors {
        /// The stakers asked for.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// The same address appears twice among the stakers.
    #[error("{0} is listed twice among the stakers")]
    DuplicateContributor(String),
    /// An operator fee above 100 %.
    #[error("operator fee {0} basis points is above 10000 (100 %)")]
    BadFee(u64),
    /// A zero port.
    #[error("{0} must not be 0")]
    BadPort(&'static str),
    /// The X25519 key is not the one derived from the Ed25519 key.
    #[error("pubkey_x25519 is not the X25519 form of pubkey_ed25519")]
    KeysMismatch,
    /// A key that is not a valid Ed25519 point.
    #[error("pubkey_ed25519 is not a valid Ed25519 public key")]
    BadEd25519,
    /// A key that is already registered and has not left.
    #[error("node {0} is already registered")]
    AlreadyRegistered(String),
    /// An X25519 key in use by another live node.
    #[error("pubkey_x25519 {0} is already used by another node")]
    DuplicateX25519(String),
    /// No live node has this key.
    #[error("no registered node {0}")]
    UnknownNode(String),
    /// A contribution to a node that is already funded.
    #[error("node {0} is already fully staked")]
    AlreadyFunded(String),
    /// An unlock for a node that already asked for one.
    #[error("node {node} is already unlocking (exits at unix time {exit_at})")]
    AlreadyUnlocking {
        /// The node.
        node: String,
        /// When it leaves.
        exit_at: u64,
    },
    /// A stake or reward amount that is not valid.
    #[error("bad amount: {0}")]
    BadAmount(String),
    /// An operator or contributor address that is not valid.
    #[error("bad address {0:?}: 1 to 128 characters, no spaces or '='")]
    BadAddress(String),
    /// A node report whose signature does not verify.
    #[error("report signature does not verify for reporter {0}")]
    BadReportSignature(String),
    /// A node report whose timestamp is too far from the registry's clock.
    #[error("report timestamp {timestamp} is more than {max_skew} s from now ({now})")]
    ReportClock {
        /// The report's time.
        timestamp: u64,
        /// The registry's time.
        now: u64,
        /// The tolerance.
        max_skew: u64,
    },
    /// A report from a key that is not an active registered node.
    #[error("reporter {0} is not an active registered node")]
    ReporterNotActive(String),
    /// A report by a node about itself.
    #[error("a node cannot report on itself")]
    SelfReport,
    /// A report type other than `storage`.
    #[error("unsupported report type {0:?} (only \"storage\")")]
    ReportType(String),
    /// Swarm sizes that are not valid.
    #[error(transparent)]
    SwarmSizes(#[from] sotto_swarm::Error),
    /// The database was written by a newer version of Sotto.
    #[error("database schema version {found} is newer than this program's ({supported})")]
    SchemaTooNew {
        /// The version in the file.
        found: i64,
        /// The newest version this program knows.
        supported: i64,
    },
    /// The database holds something this program cannot read.
    #[error("corrupt registry database: {0}")]
    Corrupt(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
