//! The registry's "blocks": each change to the node list gets a height and a hash chained from the
//! previous one, and the hash seeds the swarm recomputation, as oxend seeds it with the block hash
//! (`swarms.md` §2).

use std::collections::BTreeMap;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use sotto_crypto::Ed25519PublicKey;
use sotto_swarm::{calc_swarm_changes, SwarmSizes, UNASSIGNED_SWARM_ID};

/// Domain separation of block hashes.
const BLOCK_DOMAIN: &[u8] = b"sotto-registry block v1";

/// Hash of block `height`: BLAKE2b-256 of `"sotto-registry block v1" ‖ previous hash ‖ height
/// (u64 little-endian)`. The genesis block (height 0) has a random hash made when the database is
/// created, so two registries never share a chain.
pub fn next_block_hash(previous: &[u8; 32], height: u64) -> [u8; 32] {
    let mut h = Blake2b::<U32>::new();
    h.update(BLOCK_DOMAIN);
    h.update(previous);
    h.update(height.to_le_bytes());
    h.finalize().into()
}

/// The swarm seed of a block: its hash's first 8 bytes, little-endian (oxend's rule).
pub fn swarm_seed(hash: &[u8; 32]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(hash.get(..8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(first)
}

/// New swarm ids for the active nodes, given each one's current swarm
/// ([`UNASSIGNED_SWARM_ID`] for nodes without one). Newcomers are assigned in key order.
pub fn assign_swarms(
    active: &[(Ed25519PublicKey, u64)],
    block_hash: &[u8; 32],
    sizes: &SwarmSizes,
) -> BTreeMap<Ed25519PublicKey, u64> {
    let mut current: BTreeMap<u64, Vec<Ed25519PublicKey>> = BTreeMap::new();
    let mut unassigned = Vec::new();
    for &(key, swarm) in active {
        if swarm == UNASSIGNED_SWARM_ID {
            unassigned.push(key);
        } else {
            current.entry(swarm).or_default().push(key);
        }
    }
    unassigned.sort();
    calc_swarm_changes(current, unassigned, swarm_seed(block_hash), sizes)
        .into_iter()
        .flat_map(|(id, members)| members.into_iter().map(move |k| (k, id)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_chain_and_seed_is_little_endian() {
        let a = next_block_hash(&[0; 32], 1);
        let b = next_block_hash(&a, 2);
        assert_ne!(a, b);
        assert_eq!(a, next_block_hash(&[0; 32], 1));
        let mut h = [0u8; 32];
        h[0] = 1;
        assert_eq!(swarm_seed(&h), 1);
    }

    #[test]
    fn every_active_node_gets_a_swarm() {
        let nodes: Vec<(Ed25519PublicKey, u64)> = (0u8..12)
            .map(|i| (Ed25519PublicKey([i; 32]), UNASSIGNED_SWARM_ID))
            .collect();
        let out = assign_swarms(&nodes, &[9; 32], &SwarmSizes::DEVNET);
        assert_eq!(out.len(), 12);
        assert!(out.values().all(|&s| s != UNASSIGNED_SWARM_ID));
    }
}
