//! Path selection (`onion.md` §2): distinct nodes, none of them the target.

use rand::seq::SliceRandom as _;
use rand::Rng;
use sotto_rpc::nodes::NodeInfo;

use crate::err::{Error, Result};

/// Hops in a path, as every Session client uses (`ONION_REQUEST_HOPS`, libsession `path_size`).
pub const DEFAULT_HOPS: usize = 3;

/// Choose `hops` distinct nodes from `nodes` at random, leaving out `target` (the destination
/// node is never on its own path). A node listed twice counts once.
pub fn choose_path<R: Rng + ?Sized>(
    rng: &mut R,
    nodes: &[NodeInfo],
    hops: usize,
    target: Option<&NodeInfo>,
) -> Result<Vec<NodeInfo>> {
    let mut candidates: Vec<&NodeInfo> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let is_target = target.is_some_and(|t| t.ed25519 == node.ed25519);
        if !is_target && !candidates.iter().any(|c| c.ed25519 == node.ed25519) {
            candidates.push(node);
        }
    }
    if candidates.len() < hops {
        return Err(Error::NotEnoughNodes {
            wanted: hops,
            available: candidates.len(),
        });
    }
    Ok(candidates
        .choose_multiple(rng, hops)
        .map(|n| (*n).clone())
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use std::collections::HashSet;

    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use sotto_crypto::{Ed25519PublicKey, X25519PublicKey};

    use super::*;

    fn node(i: u8) -> NodeInfo {
        NodeInfo {
            ed25519: Ed25519PublicKey([i; 32]),
            x25519: X25519PublicKey([i; 32]),
            ip: "127.0.0.1".parse().unwrap(),
            storage_port: 1000 + u16::from(i),
            swarm_id: None,
        }
    }

    proptest! {
        #[test]
        fn paths_are_distinct_and_avoid_the_target(n in 0u8..12, hops in 1usize..6, t in 0u8..12, seed: u64) {
            let nodes: Vec<NodeInfo> = (0..n).map(node).collect();
            let target = node(t);
            let mut rng = StdRng::seed_from_u64(seed);
            let available = nodes.iter().filter(|x| x.ed25519 != target.ed25519).count();
            match choose_path(&mut rng, &nodes, hops, Some(&target)) {
                Ok(path) => {
                    prop_assert_eq!(path.len(), hops);
                    let keys: HashSet<_> = path.iter().map(|p| p.ed25519).collect();
                    prop_assert_eq!(keys.len(), hops);
                    prop_assert!(!keys.contains(&target.ed25519));
                }
                Err(Error::NotEnoughNodes { wanted, available: a }) => {
                    prop_assert_eq!((wanted, a), (hops, available));
                    prop_assert!(available < hops);
                }
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }

    #[test]
    fn duplicates_count_once() {
        let nodes = vec![node(1), node(1), node(2)];
        let err = choose_path(&mut StdRng::seed_from_u64(1), &nodes, 3, None).unwrap_err();
        assert!(err.to_string().contains("3 hops needed"), "{err}");
    }
}
