//! Account → swarm: the swarm-space value of a public key and the swarm closest to it
//! (`swarms.md` §1; oxen-storage-server `oxenss/snode/swarm.cpp`).

use crate::constants::UNASSIGNED_SWARM_ID;

/// The swarm-space value of a 32-byte key: its four 8-byte chunks read as big-endian `u64`s,
/// XORed together (upstream `pubkey_to_swarm_space`).
pub fn swarm_space(key: &[u8; 32]) -> u64 {
    key.chunks_exact(8).fold(0, |acc, chunk| {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        acc ^ u64::from_be_bytes(word)
    })
}

/// The swarm-space value of a 33-byte prefixed key (a Session ID's bytes, `05…`, or any other
/// prefix such as `03…`): the prefix byte is ignored.
pub fn swarm_space_prefixed(key: &[u8; 33]) -> u64 {
    let (_prefix, rest) = key.split_at(1);
    let mut body = [0u8; 32];
    body.copy_from_slice(rest);
    swarm_space(&body)
}

/// The swarm that stores the account with swarm-space value `v` (upstream `get_swarm_by_pk`).
///
/// `ids` must be sorted ascending without duplicates (the keys of a `BTreeMap` are); a trailing
/// [`UNASSIGNED_SWARM_ID`] is ignored. The answer is the id at the smallest circular distance from
/// `v`; on a tie the one below `v` (counter-clockwise, "left") wins. `None` when there is no swarm.
pub fn closest_swarm(ids: &[u64], v: u64) -> Option<u64> {
    let ids = match ids.split_last() {
        Some((&UNASSIGNED_SWARM_ID, rest)) => rest,
        _ => ids,
    };
    let (&first, &last) = (ids.first()?, ids.last()?);
    if ids.len() == 1 {
        return Some(first);
    }
    // `right`: the first id >= v, wrapping to the smallest; `left`: the one before it.
    let at = ids.partition_point(|&id| id < v);
    let right = ids.get(at).copied().unwrap_or(first);
    let left = match at.checked_sub(1).and_then(|i| ids.get(i)) {
        Some(&id) if at < ids.len() => id,
        // `right` wrapped to the smallest (or is the smallest): `left` is the largest.
        _ => last,
    };
    let dright = right.wrapping_sub(v);
    let dleft = v.wrapping_sub(left);
    Some(if dright < dleft { right } else { left })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_swarm() {
        assert_eq!(closest_swarm(&[], 5), None);
        assert_eq!(closest_swarm(&[UNASSIGNED_SWARM_ID], 5), None);
    }

    #[test]
    fn one_swarm_wins() {
        assert_eq!(closest_swarm(&[7], u64::MAX), Some(7));
        assert_eq!(closest_swarm(&[7, UNASSIGNED_SWARM_ID], 0), Some(7));
    }

    #[test]
    fn exact_hit() {
        assert_eq!(closest_swarm(&[10, 20, 30], 20), Some(20));
        assert_eq!(closest_swarm(&[10, 20, 30], 10), Some(10));
        assert_eq!(closest_swarm(&[10, 20, 30], 30), Some(30));
    }
}
