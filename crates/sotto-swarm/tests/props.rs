//! Property tests: the assignment keeps every node exactly once, keeps swarms at least `min`,
//! depends only on its inputs and moves few nodes when one joins; the account mapping matches a
//! brute-force model.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sotto_swarm::{
    calc_swarm_changes, closest_swarm, swarm_space, swarm_space_prefixed, SwarmSizes,
    UNASSIGNED_SWARM_ID,
};

fn sizes() -> impl Strategy<Value = SwarmSizes> {
    prop_oneof![
        Just(SwarmSizes::MAINNET),
        Just(SwarmSizes::DEVNET),
        (1usize..7, 0usize..5, 0usize..5).prop_map(|(min, up, up2)| SwarmSizes::new(
            min,
            min + up,
            min + up + up2
        )
        .unwrap()),
    ]
}

/// Distinct node keys split into some existing swarms and an unassigned list.
fn network() -> impl Strategy<Value = (BTreeMap<u64, Vec<u32>>, Vec<u32>)> {
    (
        proptest::collection::btree_set(any::<u32>(), 0..80),
        proptest::collection::vec(any::<u64>(), 0..8),
        any::<u64>(),
    )
        .prop_map(|(nodes, mut ids, split)| {
            ids.retain(|&id| id != UNASSIGNED_SWARM_ID);
            let mut current: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
            let mut unassigned = Vec::new();
            for (i, node) in nodes.into_iter().enumerate() {
                let slot = (split.rotate_left(i as u32) as usize + i) % (ids.len() + 1);
                match ids.get(slot) {
                    Some(&id) => current.entry(id).or_default().push(node),
                    None => unassigned.push(node),
                }
            }
            (current, unassigned)
        })
}

fn all_nodes(current: &BTreeMap<u64, Vec<u32>>, unassigned: &[u32]) -> BTreeSet<u32> {
    current
        .values()
        .flatten()
        .chain(unassigned)
        .copied()
        .collect()
}

fn placement(swarms: &BTreeMap<u64, Vec<u32>>) -> BTreeMap<u32, u64> {
    swarms
        .iter()
        .flat_map(|(&id, m)| m.iter().map(move |&k| (k, id)))
        .collect()
}

/// Swarm chosen by a brute-force scan: smallest circular distance, ties to the id below `v`.
fn brute_closest(ids: &[u64], v: u64) -> Option<u64> {
    ids.iter()
        .filter(|&&id| id != UNASSIGNED_SWARM_ID)
        .map(|&id| {
            let cw = id.wrapping_sub(v); // id is this far clockwise ("right")
            let ccw = v.wrapping_sub(id); // and this far counter-clockwise ("left")
            (cw.min(ccw), u8::from(ccw > cw), id)
        })
        .min()
        .map(|(_, _, id)| id)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_node_exactly_once((current, unassigned) in network(), seed: u64, sizes in sizes()) {
        let want = all_nodes(&current, &unassigned);
        let out = calc_swarm_changes(current, unassigned, seed, &sizes);
        let got: Vec<u32> = out.values().flatten().copied().collect();
        prop_assert_eq!(got.len(), want.len());
        prop_assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want);
        prop_assert!(!out.contains_key(&UNASSIGNED_SWARM_ID));
        prop_assert!(out.values().all(|m| !m.is_empty() && m.windows(2).all(|w| w[0] < w[1])));
    }

    #[test]
    fn swarms_reach_min((current, unassigned) in network(), seed: u64, sizes in sizes()) {
        let total = all_nodes(&current, &unassigned).len();
        let out = calc_swarm_changes(current, unassigned, seed, &sizes);
        if total >= sizes.min() {
            for (id, members) in &out {
                prop_assert!(members.len() >= sizes.min(), "swarm {id:#x}: {}", members.len());
            }
        } else {
            prop_assert!(out.len() <= 1);
        }
    }

    #[test]
    fn deterministic((current, unassigned) in network(), seed: u64, sizes in sizes()) {
        // Member order inside the input swarms does not matter either.
        let reversed: BTreeMap<u64, Vec<u32>> = current
            .iter()
            .map(|(&id, m)| (id, m.iter().rev().copied().collect()))
            .collect();
        let a = calc_swarm_changes(current.clone(), unassigned.clone(), seed, &sizes);
        let b = calc_swarm_changes(current, unassigned.clone(), seed, &sizes);
        let c = calc_swarm_changes(reversed, unassigned, seed, &sizes);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&a, &c);
    }

    #[test]
    fn settled_network_is_a_fixed_point(
        nodes in proptest::collection::btree_set(any::<u32>(), 0..80),
        seed: u64,
        seed2: u64,
        sizes in sizes(),
    ) {
        let settled = calc_swarm_changes(BTreeMap::new(), nodes.into_iter().collect(), seed, &sizes);
        let again = calc_swarm_changes(settled.clone(), Vec::new(), seed2, &sizes);
        prop_assert_eq!(settled, again);
    }

    /// A node joining a settled network makes at most one new swarm, so at most `ideal`
    /// existing nodes change swarm.
    #[test]
    fn joining_moves_at_most_ideal(
        nodes in proptest::collection::btree_set(any::<u32>(), 1..80),
        seed: u64,
        seed2: u64,
        sizes in sizes(),
    ) {
        let mut nodes: Vec<u32> = nodes.into_iter().collect();
        let newcomer = nodes.pop().unwrap();
        let settled = calc_swarm_changes(BTreeMap::new(), nodes, seed, &sizes);
        let before = placement(&settled);
        let after_swarms = calc_swarm_changes(settled.clone(), vec![newcomer], seed2, &sizes);
        let after = placement(&after_swarms);
        let moved = before.iter().filter(|(k, id)| after.get(k) != Some(id)).count();
        prop_assert!(moved <= sizes.ideal(), "moved {moved} > ideal {}", sizes.ideal());
        prop_assert!(after_swarms.len() <= settled.len().max(1) + 1);
    }

    #[test]
    fn swarm_space_ignores_prefix(body: [u8; 32], p1: u8, p2: u8) {
        let mut a = [0u8; 33];
        a[0] = p1;
        a[1..].copy_from_slice(&body);
        let mut b = a;
        b[0] = p2;
        prop_assert_eq!(swarm_space_prefixed(&a), swarm_space_prefixed(&b));
        prop_assert_eq!(swarm_space_prefixed(&a), swarm_space(&body));
    }

    #[test]
    fn closest_is_brute_force_argmin(
        ids in proptest::collection::btree_set(any::<u64>(), 0..12),
        near in proptest::collection::btree_set(0u64..40, 0..6),
        v: u64,
        small_v in 0u64..40,
        use_small: bool,
    ) {
        // Mix in small ids and values so ties and exact hits happen often.
        let ids: Vec<u64> = ids.into_iter().chain(near).collect::<BTreeSet<_>>().into_iter().collect();
        let v = if use_small { small_v } else { v };
        prop_assert_eq!(closest_swarm(&ids, v), brute_closest(&ids, v));
    }

    #[test]
    fn closest_ties_on_a_tiny_ring(
        ids in proptest::collection::btree_set(prop_oneof![0u64..8, (u64::MAX - 8)..=u64::MAX], 0..8),
        v in prop_oneof![0u64..8, (u64::MAX - 8)..=u64::MAX],
    ) {
        let ids: Vec<u64> = ids.into_iter().collect();
        prop_assert_eq!(closest_swarm(&ids, v), brute_closest(&ids, v));
    }
}
