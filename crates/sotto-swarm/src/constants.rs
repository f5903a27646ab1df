//! The numbers of the swarm rules, each with its source.
//!
//! All come from oxen-core `src/cryptonote_core/service_node_rules.h` (Oct 2024), as summarised in
//! `shared/protocol/swarms.md` §2. The algorithm itself reads them through [`SwarmSizes`]
//! (mainnet: [`SwarmSizes::MAINNET`]), so that a small test network can use smaller swarms.
//!
//! [`SwarmSizes`]: crate::SwarmSizes
//! [`SwarmSizes::MAINNET`]: crate::SwarmSizes::MAINNET

/// Fewest members a swarm may keep (`MIN_SWARM_SIZE`); smaller swarms are refilled or dissolved.
pub const MIN_SWARM_SIZE: usize = 5;
/// Size a swarm aims for (`IDEAL_SWARM_SIZE`).
pub const IDEAL_SWARM_SIZE: usize = 7;
/// Members of a swarm made from excess nodes (`NEW_SWARM_SIZE`).
pub const NEW_SWARM_SIZE: usize = 7;
/// Excess each existing swarm keeps before a new swarm is made (`IDEAL_SWARM_MARGIN`).
pub const IDEAL_SWARM_MARGIN: usize = 2;
/// Members above which a node counts as excess (`EXCESS_BASE`, equal to [`MIN_SWARM_SIZE`]).
pub const EXCESS_BASE: usize = 5;
/// Largest intended swarm (`MAX_SWARM_SIZE`): declared upstream, not enforced by the algorithm.
pub const MAX_SWARM_SIZE: usize = 10;

/// Percentile of swarm sizes that new nodes fill (`FILL_SWARM_LOWER_PERCENTILE`).
pub const FILL_SWARM_LOWER_PERCENTILE: usize = 25;
/// Percentile of swarm sizes above which swarms give nodes to starving ones
/// (`STEALING_SWARM_UPPER_PERCENTILE`).
pub const STEALING_SWARM_UPPER_PERCENTILE: usize = 75;
/// Percentile that members of a dissolved swarm fill, i.e. the smallest swarms
/// (`DECOMMISSIONED_REDISTRIBUTION_LOWER_PERCENTILE`).
pub const DECOMMISSIONED_REDISTRIBUTION_LOWER_PERCENTILE: usize = 0;

/// Swarm id of nodes in no swarm (`UNASSIGNED_SWARM_ID` = 2⁶⁴ − 1): decommissioned nodes in the
/// node list, new nodes before assignment. Never a real swarm; [`closest_swarm`] ignores it.
///
/// [`closest_swarm`]: crate::closest_swarm
pub const UNASSIGNED_SWARM_ID: u64 = u64::MAX;
/// Largest real swarm id (`MAX_ID` = 2⁶⁴ − 2); [`get_new_swarm_id`] treats `MAX_ID` and 0 as one
/// apart.
///
/// [`get_new_swarm_id`]: crate::get_new_swarm_id
pub const MAX_ID: u64 = u64::MAX - 1;
