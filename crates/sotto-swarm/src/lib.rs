#![doc = include_str!("../README.md")]

mod assign;
pub mod constants;
mod err;
mod sizes;
mod space;

pub use assign::{calc_swarm_changes, get_new_swarm_id, uniform_portable};
pub use constants::{MAX_ID, UNASSIGNED_SWARM_ID};
pub use err::{Error, Result};
pub use rand_mt::Mt64;
pub use sizes::SwarmSizes;
pub use space::{closest_swarm, swarm_space, swarm_space_prefixed};

/// A service node's key in the assignment: its Ed25519 public key.
///
/// [`calc_swarm_changes`] is generic over any ordered key; the registry uses this one.
pub type NodeKey = sotto_crypto::Ed25519PublicKey;
