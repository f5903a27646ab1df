//! Known-answer vectors of `swarms.md` §1.3 (oxen-storage-server `unit_test/swarm.cpp`) and §2.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use sotto_swarm::{closest_swarm, get_new_swarm_id, swarm_space, swarm_space_prefixed};

fn key33(hex_key: &str) -> [u8; 33] {
    hex::decode(hex_key).unwrap().try_into().unwrap()
}

/// `05` + 24 zero bytes + `v` big-endian: a key whose swarm-space value is `v`.
fn key_for(v: u64) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[0] = 0x05;
    k[25..].copy_from_slice(&v.to_be_bytes());
    k
}

#[test]
fn swarm_space_values() {
    let cases: [(&str, u64); 10] = [
        (
            "053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8",
            17_589_930_838_143_112_648,
        ),
        (
            "05cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604",
            10_370_619_079_776_428_163,
        ),
        (
            "03d3511706b8b34f6e8411bf07bd22ba6b2435ca56846fbccf6eb1e166a6cd15cc",
            2_144_983_569_669_512_198,
        ),
        (
            "ff0f06693428fca9102a451e3f28d9cc743d8ea60a89ab6aa69eb119470c11cbd3",
            9_690_840_703_409_570_833,
        ),
        (
            "05ffba630924aa1224bb930dde21c0d11bf004608f2812217f8ac812d6c7e3ad48",
            4_532_060_000_165_252_872,
        ),
        (
            "05eeeeeeeeeeeeeeee777777777777777711111111111111118888888888888888",
            0,
        ),
        (
            "05fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe",
            1,
        ),
        (
            "05ffffffffffffffffffffffffffffffffffffffffffffffff7fffffffffffffff",
            1 << 63,
        ),
        (
            "05000000000000000000000000000000000000000000000000ffffffffffffffff",
            u64::MAX,
        ),
        (
            "050000000000000000000000000000000000000000000000000123456789abcdef",
            0x0123_4567_89ab_cdef,
        ),
    ];
    for (key, v) in cases {
        let k = key33(key);
        assert_eq!(swarm_space_prefixed(&k), v, "{key}");
        let body: [u8; 32] = k[1..].try_into().unwrap();
        assert_eq!(swarm_space(&body), v, "{key}");
    }
    assert_eq!(17_589_930_838_143_112_648u64, 0xf41b_fce6_df35_95c8);
}

const SWARMS: [u64; 7] = [100, 200, 300, 399, 498, 596, 694];

fn check(ids: &[u64], cases: &[(u64, u64)]) {
    for &(v, want) in cases {
        assert_eq!(swarm_space_prefixed(&key_for(v)), v);
        assert_eq!(
            closest_swarm(ids, swarm_space_prefixed(&key_for(v))),
            Some(want),
            "v = {v:#x}"
        );
    }
}

#[test]
fn closest_swarm_table() {
    check(
        &SWARMS,
        &[
            (0x64, 100),
            (0xc8, 200),
            (0x1f2, 498),
            (0, 100),
            (1, 100),
            (0x8000_0000_0000_0000, 694),
            (0xa000_0000_0000_0000, 100),
            (0xffff_ffff_ffff_ffff, 100),
            (0xffff_ffff_ffff_fffe, 100),
            (0x95, 100),
            (0x96, 100),
            (0x97, 200),
            (0xf9, 200),
            (0xfa, 200),
            (0xfb, 300),
            (0x15d, 300),
            (0x15e, 399),
            (0x1c0, 399),
            (0x1c1, 498),
            (0x222, 498),
            (0x223, 498),
            (0x224, 596),
            (0x285, 596),
            (0x286, 694),
            (0x8000_0000_0000_018c, 694),
            (0x8000_0000_0000_018d, 694),
            (0x8000_0000_0000_018e, 100),
        ],
    );
}

#[test]
fn closest_swarm_after_adding_swarms() {
    let high = u64::MAX - 19; // 2^64 - 20
    let mut ids = SWARMS.to_vec();
    ids.push(high);
    check(&ids, &[(0x27, high), (0x28, high), (0x29, 100)]);
    ids.insert(0, 0);
    check(
        &ids,
        &[(0xffff_ffff_ffff_ffff, 0), (0xffff_ffff_ffff_fffe, 0)],
    );
}

#[test]
fn closest_swarm_ignores_unassigned() {
    let mut ids = SWARMS.to_vec();
    ids.push(u64::MAX);
    assert_eq!(closest_swarm(&ids, u64::MAX), Some(100));
    assert_eq!(closest_swarm(&ids, 0x8000_0000_0000_018c), Some(694));
}

#[test]
fn worked_example() {
    let k = key33("054701d08488451f545a409fb58ae3e58581ca40ac3f7f114698cd71deac73ca01");
    let v = swarm_space_prefixed(&k);
    assert_eq!(
        0x4701_d084_8845_1f54u64
            ^ 0x5a40_9fb5_8ae3_e585
            ^ 0x81ca_40ac_3f7f_1146
            ^ 0x98cd_71de_ac73_ca01,
        v
    );
    assert_eq!(v, 0x0446_7e43_91aa_2196);
    let ids = [
        0,
        0x3fff_ffff_ffff_ffff,
        0x5fff_ffff_ffff_ffff,
        0x7fff_ffff_ffff_ffff,
        0xbfff_ffff_ffff_ffff,
    ];
    assert_eq!(closest_swarm(&ids, v), Some(0));

    let other = key33("053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8");
    let w = swarm_space_prefixed(&other);
    assert_eq!(w, 0xf41b_fce6_df35_95c8);
    assert_eq!(0u64.wrapping_sub(w), 0x0be4_0319_20ca_6a38); // dright to swarm 0
    assert_eq!(w.wrapping_sub(0xbfff_ffff_ffff_ffff), 0x341b_fce6_df35_95c9); // dleft
    assert_eq!(closest_swarm(&ids, w), Some(0));
}

#[test]
fn new_swarm_id_sequence() {
    let want = [
        0x0,
        0x7fff_ffff_ffff_ffff,
        0xbfff_ffff_ffff_ffff,
        0x3fff_ffff_ffff_ffff,
        0x5fff_ffff_ffff_ffff,
    ];
    let mut ids: Vec<u64> = Vec::new();
    for expected in want {
        let id = get_new_swarm_id(&ids);
        assert_eq!(id, expected);
        ids.push(id);
        ids.sort_unstable();
    }
    // The worked example's swarms are exactly this sequence.
    assert_eq!(
        ids,
        [
            0,
            0x3fff_ffff_ffff_ffff,
            0x5fff_ffff_ffff_ffff,
            0x7fff_ffff_ffff_ffff,
            0xbfff_ffff_ffff_ffff
        ]
    );
}
