//! Node → swarm: oxend's swarm formation (`swarms.md` §2; oxen-core
//! `src/cryptonote_core/service_node_swarm.cpp`), deterministic from its inputs.

use std::collections::{BTreeMap, BTreeSet};

use rand_mt::Mt64;

use crate::constants::{
    DECOMMISSIONED_REDISTRIBUTION_LOWER_PERCENTILE, FILL_SWARM_LOWER_PERCENTILE, MAX_ID,
    STEALING_SWARM_UPPER_PERCENTILE, UNASSIGNED_SWARM_ID,
};
use crate::SwarmSizes;

/// The id for a new swarm: the middle of the largest gap between existing ids (upstream
/// `get_new_swarm_id`).
///
/// `ids` must be sorted ascending (the keys of a `BTreeMap` are); [`UNASSIGNED_SWARM_ID`] is
/// ignored. With no ids the answer is 0. Gaps between neighbours are compared first, the first
/// largest winning; the wrap-around gap `MAX_ID − last + first + 1` (0 and [`MAX_ID`] count as one
/// apart) wins only if strictly larger. The new id is the gap's start plus half the gap, wrapping
/// past [`MAX_ID`] to 0. From no swarms, repeated calls give `0`, `0x7fff…ff`, `0xbfff…ff`,
/// `0x3fff…ff`, `0x5fff…ff`.
pub fn get_new_swarm_id(ids: &[u64]) -> u64 {
    let ids = match ids.split_last() {
        Some((&UNASSIGNED_SWARM_ID, rest)) => rest,
        _ => ids,
    };
    let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else {
        return 0;
    };
    let mut best_gap = 0u64;
    let mut best_start = first;
    for pair in ids.windows(2) {
        if let [a, b] = *pair {
            let gap = b.wrapping_sub(a);
            if gap > best_gap {
                best_gap = gap;
                best_start = a;
            }
        }
    }
    let wrap_gap = MAX_ID
        .wrapping_sub(last)
        .wrapping_add(first)
        .wrapping_add(1);
    if wrap_gap > best_gap {
        best_gap = wrap_gap;
        best_start = last;
    }
    let half = best_gap / 2;
    let room = MAX_ID.wrapping_sub(best_start);
    if half > room {
        half - room - 1
    } else {
        best_start + half
    }
}

/// A uniform index in `0..n` from MT19937-64, portable across platforms (oxen-core
/// `tools::uniform_distribution_portable`, `src/common/random.cpp`): draw until the value falls
/// below the largest multiple of `n` that fits, then divide. `n` must be at least 1.
pub fn uniform_portable(rng: &mut Mt64, n: u64) -> u64 {
    let n = n.max(1);
    let limit = u64::MAX - u64::MAX % n;
    let bucket = limit / n;
    loop {
        let x = rng.next_u64();
        if x < limit {
            return x / bucket;
        }
    }
}

/// Recompute swarms after the active set changed (upstream `calc_swarm_changes`).
///
/// - `current`: swarm id → members of every active node that already has a swarm. Members are
///   sorted on entry, so their order does not matter. Members listed under
///   [`UNASSIGNED_SWARM_ID`] are treated as unassigned, ahead of `unassigned`.
/// - `unassigned`: new or returning active nodes, assigned **in this order** (oxend lists them
///   sorted by key).
/// - `seed`: seeds MT19937-64; oxend uses the first 8 bytes of the block hash, little-endian.
///
/// The steps (`swarms.md` §2): 0. if there is no swarm, make swarm 0; 1. assign each unassigned
/// node to a random swarm among the smallest (sizes up to the 25th percentile), making new swarms
/// from excess after each; 2. "Robin Hood": fill swarms below `min` with random members of the
/// largest swarms, if the excess allows; 3. while the excess (members above `min`, summed) is at
/// least `ideal + margin × swarms`, make a swarm of `ideal` random excess members, with id
/// [`get_new_swarm_id`]; 4. while more than one swarm exists and one is below `min`, dissolve it
/// into the smallest swarms. See [`SwarmSizes`] for which size plays which upstream role.
///
/// Differences from oxend, none of which changes a mainnet outcome's rules: ties between swarms of
/// equal size are ordered by swarm id (oxend's `std::sort` leaves them unspecified); step 4 stops
/// at one swarm instead of dissolving the last one; a key listed twice is kept once (the first
/// time it appears, `current` before `unassigned`); swarms left without members are dropped, so
/// the answer holds only swarms with members, each sorted.
///
/// The result is a function of the inputs alone. It never returns [`UNASSIGNED_SWARM_ID`], every
/// input key appears exactly once, and if there are at least `min` nodes every swarm has at least
/// `min` members.
pub fn calc_swarm_changes<K: Ord + Clone>(
    current: BTreeMap<u64, Vec<K>>,
    unassigned: Vec<K>,
    seed: u64,
    sizes: &SwarmSizes,
) -> BTreeMap<u64, Vec<K>> {
    let mut seen = BTreeSet::new();
    let mut swarms: BTreeMap<u64, Vec<K>> = BTreeMap::new();
    let mut pending = Vec::new();
    for (id, mut members) in current {
        members.sort();
        members.retain(|k| seen.insert(k.clone()));
        if id == UNASSIGNED_SWARM_ID {
            pending.extend(members);
        } else {
            swarms.insert(id, members);
        }
    }
    pending.extend(unassigned.into_iter().filter(|k| seen.insert(k.clone())));
    drop(seen);

    if swarms.is_empty() && pending.is_empty() {
        return swarms;
    }
    let mut state = State {
        swarms,
        rng: Mt64::new(seed),
        sizes: *sizes,
    };

    // 0. There is always a swarm to join.
    if state.swarms.is_empty() {
        state.swarms.insert(get_new_swarm_id(&[]), Vec::new());
    }
    // 1. Assign the new nodes.
    state.assign(pending, FILL_SWARM_LOWER_PERCENTILE);
    // 2. Robin Hood.
    state.feed_starving();
    // 3. New swarms from excess.
    state.new_swarms_from_excess();
    // 4. Dissolve what is still too small.
    state.dissolve_starving();

    let mut out = state.swarms;
    out.retain(|_, members| !members.is_empty());
    for members in out.values_mut() {
        members.sort();
    }
    out
}

/// The swarms being rearranged, the random generator and the sizes.
struct State<K> {
    swarms: BTreeMap<u64, Vec<K>>,
    rng: Mt64,
    sizes: SwarmSizes,
}

impl<K: Ord + Clone> State<K> {
    /// `(id, size)` of every swarm, smallest first, ties by id (stable sort of the id order).
    fn sorted_sizes(&self) -> Vec<(u64, usize)> {
        let mut sizes: Vec<(u64, usize)> =
            self.swarms.iter().map(|(&id, m)| (id, m.len())).collect();
        sizes.sort_by_key(|&(_, size)| size);
        sizes
    }

    /// A uniform index in `0..n`.
    fn pick(&mut self, n: usize) -> usize {
        // usize -> u64 -> usize round-trips: the result is below n.
        usize::try_from(uniform_portable(&mut self.rng, n as u64)).unwrap_or(0)
    }

    /// Upstream `assign_snodes`: each node joins a random swarm among those no larger than the
    /// size at `percentile`, then new swarms are made from excess.
    fn assign(&mut self, nodes: Vec<K>, percentile: usize) {
        for node in nodes {
            let sorted = self.sorted_sizes();
            if sorted.is_empty() {
                // Unreachable (callers keep a swarm), but never lose a node.
                self.swarms.insert(get_new_swarm_id(&[]), vec![node]);
                continue;
            }
            let at = percentile * (sorted.len() - 1) / 100;
            let size_at = sorted.get(at).map_or(0, |&(_, size)| size);
            let candidates = sorted.iter().take_while(|&&(_, s)| s <= size_at).count();
            let chosen = self.pick(candidates);
            if let Some(members) = sorted
                .get(chosen)
                .and_then(|&(id, _)| self.swarms.get_mut(&id))
            {
                members.push(node);
            }
            self.new_swarms_from_excess();
        }
    }

    /// Members of swarms with more than `threshold` members, as `(swarm id, index)` in swarm-id
    /// then member order, and their excess: Σ (size − min) over those swarms (upstream
    /// `get_excess_pool`).
    fn excess_pool(&self, threshold: usize) -> (Vec<(u64, usize)>, usize) {
        let mut pool = Vec::new();
        let mut excess = 0;
        if threshold < self.sizes.min() {
            return (pool, excess);
        }
        for (&id, members) in &self.swarms {
            if members.len() > threshold {
                excess += members.len() - self.sizes.min();
                pool.extend((0..members.len()).map(|i| (id, i)));
            }
        }
        (pool, excess)
    }

    /// Take a uniformly chosen member out of `pool`'s swarms.
    fn take_from(&mut self, pool: &[(u64, usize)]) -> Option<K> {
        let &(id, index) = pool.get(self.pick(pool.len()))?;
        let members = self.swarms.get_mut(&id)?;
        (index < members.len()).then(|| members.remove(index))
    }

    /// Step 2 (Robin Hood): bring each swarm below `min`, smallest first, up to `min` with random
    /// members of swarms above the 75th-percentile size minus one (and above `min`); stop at the
    /// first swarm the excess cannot save. Sizes for the order and percentile are read once.
    fn feed_starving(&mut self) {
        let min = self.sizes.min();
        let sorted = self.sorted_sizes();
        let at = STEALING_SWARM_UPPER_PERCENTILE * sorted.len().saturating_sub(1) / 100;
        let threshold = sorted
            .get(at)
            .map_or(0, |&(_, size)| size.saturating_sub(1))
            .max(min);
        for &(poor, size) in &sorted {
            if size >= min {
                break;
            }
            loop {
                let have = self.swarms.get(&poor).map_or(0, Vec::len);
                if have >= min {
                    break;
                }
                let (pool, excess) = self.excess_pool(threshold);
                if excess < min - have {
                    return;
                }
                let Some(node) = self.take_from(&pool) else {
                    return;
                };
                if let Some(members) = self.swarms.get_mut(&poor) {
                    members.push(node);
                }
            }
        }
    }

    /// Step 3 (upstream `create_new_swarm_from_excess`): unless a swarm is below `min`, while the
    /// excess is at least `ideal + margin × swarms`, make a swarm of `ideal` members each taken
    /// at random from swarms above `min`.
    fn new_swarms_from_excess(&mut self) {
        let min = self.sizes.min();
        if self.swarms.values().any(|m| m.len() < min) {
            return;
        }
        loop {
            let (_, excess) = self.excess_pool(min);
            let threshold = self.sizes.ideal() + self.swarms.len() * self.sizes.margin();
            if excess < threshold {
                return;
            }
            let mut fresh = Vec::with_capacity(self.sizes.ideal());
            while fresh.len() < self.sizes.ideal() {
                let (pool, _) = self.excess_pool(min);
                // The excess check above leaves at least `ideal` excess members.
                let Some(node) = self.take_from(&pool) else {
                    break;
                };
                fresh.push(node);
            }
            let ids: Vec<u64> = self.swarms.keys().copied().collect();
            let id = get_new_swarm_id(&ids);
            match self.swarms.get_mut(&id) {
                // Unreachable: the new id is the middle of a gap of at least 2. Keep the nodes.
                Some(members) => members.extend(fresh),
                None => {
                    self.swarms.insert(id, fresh);
                }
            }
        }
    }

    /// Step 4: while more than one swarm exists and one (the lowest id) is below `min`, remove it
    /// and assign its members to the smallest swarms.
    fn dissolve_starving(&mut self) {
        let min = self.sizes.min();
        while self.swarms.len() > 1 {
            let Some(id) = self
                .swarms
                .iter()
                .find(|(_, m)| m.len() < min)
                .map(|(&id, _)| id)
            else {
                return;
            };
            let members = self.swarms.remove(&id).unwrap_or_default();
            self.assign(members, DECOMMISSIONED_REDISTRIBUTION_LOWER_PERCENTILE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_id_sequence() {
        let mut ids = Vec::new();
        let mut got = Vec::new();
        for _ in 0..5 {
            let id = get_new_swarm_id(&ids);
            got.push(id);
            ids.push(id);
            ids.sort_unstable();
        }
        assert_eq!(
            got,
            [
                0,
                0x7fff_ffff_ffff_ffff,
                0xbfff_ffff_ffff_ffff,
                0x3fff_ffff_ffff_ffff,
                0x5fff_ffff_ffff_ffff
            ]
        );
    }

    #[test]
    fn new_id_wraps_past_max() {
        // One swarm near the top: the wrap gap is the whole ring, half of it lands past MAX_ID.
        let id = get_new_swarm_id(&[MAX_ID - 10]);
        assert_eq!(id, (u64::MAX / 2) - 11);
        assert_eq!(
            get_new_swarm_id(&[5, UNASSIGNED_SWARM_ID]),
            get_new_swarm_id(&[5])
        );
    }

    #[test]
    fn uniform_is_in_range_and_reproducible() {
        let mut a = Mt64::new(42);
        let mut b = Mt64::new(42);
        for n in 1..200u64 {
            let x = uniform_portable(&mut a, n);
            assert!(x < n);
            assert_eq!(x, uniform_portable(&mut b, n));
        }
    }

    #[test]
    fn mt64_is_the_reference_generator() {
        // std::mt19937_64 default seed 5489: its 10000th output is 9981545732273789042
        // (C++ standard, [rand.predef]).
        let mut rng = Mt64::new(5489);
        let mut last = 0;
        for _ in 0..10_000 {
            last = rng.next_u64();
        }
        assert_eq!(last, 9_981_545_732_273_789_042);
    }

    #[test]
    fn empty_in_empty_out() {
        let out = calc_swarm_changes::<u32>(BTreeMap::new(), Vec::new(), 1, &SwarmSizes::MAINNET);
        assert!(out.is_empty());
    }

    #[test]
    fn first_nodes_form_swarm_zero() {
        let out = calc_swarm_changes(BTreeMap::new(), vec![3u32, 1, 2], 9, &SwarmSizes::MAINNET);
        assert_eq!(out.len(), 1);
        assert_eq!(out.get(&0), Some(&vec![1, 2, 3]));
    }

    #[test]
    fn mainnet_splits_at_fourteen() {
        // One swarm: a new one is made once excess >= 7 + 2 × 1 = 9, i.e. at 14 members.
        let nodes: Vec<u32> = (0..13).collect();
        let out = calc_swarm_changes(BTreeMap::new(), nodes, 1, &SwarmSizes::MAINNET);
        assert_eq!(out.len(), 1);
        let nodes: Vec<u32> = (0..14).collect();
        let out = calc_swarm_changes(BTreeMap::new(), nodes, 1, &SwarmSizes::MAINNET);
        let sizes: Vec<usize> = out.values().map(Vec::len).collect();
        assert_eq!(sizes, [7, 7]);
        assert!(out.contains_key(&0) && out.contains_key(&0x7fff_ffff_ffff_ffff));
    }

    #[test]
    fn devnet_ten_nodes_make_two_swarms() {
        let nodes: Vec<u32> = (0..10).collect();
        let out = calc_swarm_changes(BTreeMap::new(), nodes, 7, &SwarmSizes::DEVNET);
        let sizes: Vec<usize> = out.values().map(Vec::len).collect();
        assert_eq!(sizes, [5, 5]);
    }

    #[test]
    fn starving_swarm_is_fed() {
        // Swarm 1 lost members; swarm 2 has plenty to spare.
        let mut current = BTreeMap::new();
        current.insert(1u64, vec![1u32, 2, 3]);
        current.insert(2u64, (10..22).collect::<Vec<u32>>());
        let out = calc_swarm_changes(current, Vec::new(), 5, &SwarmSizes::MAINNET);
        assert_eq!(out.get(&1).map(Vec::len), Some(5));
        assert_eq!(out.get(&2).map(Vec::len), Some(10));
        assert!([1, 2, 3]
            .iter()
            .all(|k| out.get(&1).is_some_and(|m| m.contains(k))));
    }

    #[test]
    fn hopeless_swarm_is_dissolved() {
        let mut current = BTreeMap::new();
        current.insert(1u64, vec![1u32, 2]);
        current.insert(2u64, (10..16).collect::<Vec<u32>>());
        let out = calc_swarm_changes(current, Vec::new(), 5, &SwarmSizes::MAINNET);
        assert_eq!(out.len(), 1);
        assert_eq!(out.get(&2).map(Vec::len), Some(8));
    }

    #[test]
    fn unassigned_bucket_and_duplicates() {
        let mut current = BTreeMap::new();
        current.insert(UNASSIGNED_SWARM_ID, vec![4u32, 5]);
        current.insert(0, vec![1u32, 2, 3, 3]);
        let out = calc_swarm_changes(current, vec![1, 6], 5, &SwarmSizes::MAINNET);
        assert_eq!(out.get(&0), Some(&vec![1, 2, 3, 4, 5, 6]));
        assert!(!out.contains_key(&UNASSIGNED_SWARM_ID));
    }
}
