//! The ledger's rules on a real (in-memory or file) SQLite database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use super::*;
use crate::report::SignedReport;
use crate::testutil::{identity, registration, sesh, NOW};

fn ledger_with(n: u8, sizes: &SwarmSizes) -> SqliteLedger {
    let mut l = SqliteLedger::open_in_memory().unwrap();
    l.set_swarm_sizes(sizes, NOW).unwrap();
    for i in 1..=n {
        l.register(&registration(i, 25_000), NOW).unwrap();
    }
    l
}

fn swarms(l: &SqliteLedger) -> BTreeMap<u64, usize> {
    let mut out = BTreeMap::new();
    for n in l.snapshot().unwrap().nodes {
        if n.status == NodeStatus::Active {
            *out.entry(n.swarm_id).or_default() += 1;
        }
    }
    out
}

fn report(
    l: &mut SqliteLedger,
    from: u8,
    about: u8,
    passed: bool,
    now: u64,
) -> Result<ReportOutcome> {
    let signed = SignedReport::sign(
        &identity(from),
        &identity(about).ed25519_public(),
        passed,
        now,
    );
    let verified = signed.verify(now)?;
    l.report(
        &verified,
        &VoteRules {
            quorum: 3,
            window_secs: 300,
        },
        now,
    )
}

#[test]
fn registration_makes_an_active_node_in_a_swarm() {
    let mut l = SqliteLedger::open_in_memory().unwrap();
    let g = l.head().unwrap();
    assert_eq!(g.height, 0);
    let b = l.register(&registration(1, 25_000), NOW).unwrap();
    assert_eq!(b.height, 1);
    assert_eq!(b.hash, next_block_hash(&g.hash, 1));
    let s = l.snapshot().unwrap();
    assert_eq!(s.nodes.len(), 1);
    let n = &s.nodes[0];
    assert_eq!(n.status, NodeStatus::Active);
    assert_eq!(n.swarm_id, 0);
    assert_eq!(n.registration_height, 1);
    assert_eq!(n.public_ip.to_string(), "127.0.0.1");
    assert_eq!(n.total_stake(), sesh(25_000));
}

#[test]
fn refusals() {
    let mut l = SqliteLedger::open_in_memory().unwrap();
    let e = l.register(&registration(1, 6_000), NOW).unwrap_err();
    assert!(matches!(e, Error::OperatorStakeTooLow { .. }), "{e}");
    l.register(&registration(1, 25_000), NOW).unwrap();
    let e = l.register(&registration(1, 25_000), NOW).unwrap_err();
    assert!(matches!(e, Error::AlreadyRegistered(_)), "{e}");
    let mut same_x = registration(2, 25_000);
    same_x.x25519 = identity(1).x25519_public();
    assert!(matches!(l.register(&same_x, NOW), Err(Error::KeysMismatch)));
    let stranger = identity(9).ed25519_public();
    assert!(matches!(
        l.unlock(&stranger, NOW, NOW),
        Err(Error::UnknownNode(_))
    ));
    assert!(matches!(
        l.deregister(&stranger, "x", NOW),
        Err(Error::UnknownNode(_))
    ));
    let c = Contribution {
        address: "a".parse().unwrap(),
        amount: sesh(1),
    };
    assert!(matches!(
        l.stake(&stranger, &c, NOW),
        Err(Error::UnknownNode(_))
    ));
    let funded = identity(1).ed25519_public();
    assert!(matches!(
        l.stake(&funded, &c, NOW),
        Err(Error::AlreadyFunded(_))
    ));
    // Nothing refused moved the chain.
    assert_eq!(l.head().unwrap().height, 1);
}

#[test]
fn partial_stake_waits_then_activates() {
    let mut l = SqliteLedger::open_in_memory().unwrap();
    l.register(&registration(1, 6_250), NOW).unwrap();
    let s = l.snapshot().unwrap();
    assert_eq!(s.nodes[0].status, NodeStatus::AwaitingContributions);
    assert_eq!(s.nodes[0].swarm_id, UNASSIGNED_SWARM_ID);
    let key = identity(1).ed25519_public();
    let small = Contribution {
        address: "a".parse().unwrap(),
        amount: sesh(100),
    };
    assert!(matches!(
        l.stake(&key, &small, NOW),
        Err(Error::ContributionTooSmall { .. })
    ));
    let rest = Contribution {
        address: "a".parse().unwrap(),
        amount: sesh(18_750),
    };
    let b = l.stake(&key, &rest, NOW).unwrap();
    assert_eq!(b.height, 2);
    let s = l.snapshot().unwrap();
    assert_eq!(s.nodes[0].status, NodeStatus::Active);
    assert_eq!(s.nodes[0].swarm_id, 0);
    assert_eq!(s.nodes[0].contributions.len(), 2);
}

#[test]
fn swarms_are_recomputed_on_every_change() {
    let mut l = ledger_with(10, &SwarmSizes::DEVNET);
    let sizes: Vec<usize> = swarms(&l).into_values().collect();
    assert_eq!(sizes, [5, 5]);
    let h = l.head().unwrap().height;
    assert_eq!(h, 11);
    // Remove three nodes of one swarm: it drops below 3 and is refilled or dissolved.
    let s = l.snapshot().unwrap();
    let victim_swarm = s.nodes[0].swarm_id;
    let victims: Vec<Ed25519PublicKey> = s
        .nodes
        .iter()
        .filter(|n| n.swarm_id == victim_swarm)
        .take(3)
        .map(|n| n.ed25519)
        .collect();
    for v in &victims {
        l.deregister(v, "test", NOW).unwrap();
    }
    let after = swarms(&l);
    assert_eq!(after.values().sum::<usize>(), 7);
    assert!(after.values().all(|&n| n >= 3), "{after:?}");
    assert!(!after.contains_key(&UNASSIGNED_SWARM_ID));
    assert_eq!(l.head().unwrap().height, h + 3);
}

#[test]
fn changing_sizes_reshapes_swarms() {
    let mut l = ledger_with(10, &SwarmSizes::MAINNET);
    assert_eq!(swarms(&l).len(), 1);
    assert!(l
        .set_swarm_sizes(&SwarmSizes::MAINNET, NOW)
        .unwrap()
        .is_none());
    l.set_swarm_sizes(&SwarmSizes::DEVNET, NOW)
        .unwrap()
        .unwrap();
    let after = swarms(&l);
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after.values().sum::<usize>(), 10);
    assert!(after.values().all(|&n| n >= 3), "{after:?}");
    assert_eq!(l.snapshot().unwrap().sizes, SwarmSizes::DEVNET);
}

#[test]
fn quorum_of_failure_reports_deregisters() {
    let mut l = ledger_with(6, &SwarmSizes::DEVNET);
    let h = l.head().unwrap().height;
    let out = report(&mut l, 1, 6, false, NOW).unwrap();
    assert_eq!((out.failing_reporters, out.deregistered), (1, None));
    // The same reporter again does not count twice.
    let out = report(&mut l, 1, 6, false, NOW + 1).unwrap();
    assert_eq!(out.failing_reporters, 1);
    let out = report(&mut l, 2, 6, false, NOW + 2).unwrap();
    assert_eq!(out.failing_reporters, 2);
    // Reporter 2 sees it pass again: its failure no longer counts.
    let out = report(&mut l, 2, 6, true, NOW + 3).unwrap();
    assert_eq!(out.failing_reporters, 1);
    report(&mut l, 2, 6, false, NOW + 4).unwrap();
    let out = report(&mut l, 3, 6, false, NOW + 5).unwrap();
    assert_eq!(out.failing_reporters, 3);
    let block = out.deregistered.expect("deregistered at quorum");
    assert_eq!(block.height, h + 1);
    let s = l.snapshot().unwrap();
    assert_eq!(s.nodes.len(), 5);
    assert!(s
        .nodes
        .iter()
        .all(|n| n.ed25519 != identity(6).ed25519_public()));
    // Reports about or from the node that left are refused.
    assert!(matches!(
        report(&mut l, 1, 6, false, NOW + 6),
        Err(Error::UnknownNode(_))
    ));
    assert!(matches!(
        report(&mut l, 6, 1, false, NOW + 6),
        Err(Error::ReporterNotActive(_))
    ));
}

#[test]
fn old_failure_reports_expire() {
    let mut l = ledger_with(6, &SwarmSizes::DEVNET);
    report(&mut l, 1, 6, false, NOW).unwrap();
    report(&mut l, 2, 6, false, NOW).unwrap();
    let out = report(&mut l, 3, 6, false, NOW + 301).unwrap();
    assert_eq!(out.failing_reporters, 1);
    assert!(out.deregistered.is_none());
}

#[test]
fn strangers_cannot_report() {
    let mut l = ledger_with(3, &SwarmSizes::DEVNET);
    assert!(matches!(
        report(&mut l, 9, 1, false, NOW),
        Err(Error::ReporterNotActive(_))
    ));
    // A node still awaiting stake is not active either.
    l.register(&registration(4, 6_250), NOW).unwrap();
    assert!(matches!(
        report(&mut l, 4, 1, false, NOW),
        Err(Error::ReporterNotActive(_))
    ));
    assert!(matches!(
        report(&mut l, 1, 4, false, NOW),
        Err(Error::UnknownNode(_))
    ));
}

#[test]
fn unlock_then_exit_at_its_time() {
    let mut l = ledger_with(2, &SwarmSizes::DEVNET);
    let key = identity(1).ed25519_public();
    l.unlock(&key, NOW + 100, NOW).unwrap();
    assert!(matches!(
        l.unlock(&key, NOW + 100, NOW),
        Err(Error::AlreadyUnlocking { .. })
    ));
    let rules = RewardRules {
        period_secs: 0,
        per_node: Amount::ZERO,
    };
    let out = l.tick(&rules, NOW + 99).unwrap();
    assert!(out.exited.is_empty() && out.block.is_none());
    let s = l.snapshot().unwrap();
    let n = s.nodes.iter().find(|n| n.ed25519 == key).unwrap();
    assert_eq!((n.status, n.exit_at), (NodeStatus::Active, Some(NOW + 100)));
    let out = l.tick(&rules, NOW + 100).unwrap();
    assert_eq!(out.exited, [key]);
    assert!(out.block.is_some());
    assert_eq!(l.snapshot().unwrap().nodes.len(), 1);
    // It may come back later.
    l.register(&registration(1, 25_000), NOW + 200).unwrap();
    assert_eq!(l.snapshot().unwrap().nodes.len(), 2);
}

#[test]
fn rewards_per_period() {
    let mut l = SqliteLedger::open_in_memory().unwrap();
    let mut r = registration(1, 18_750);
    r.contributors.push(Contribution {
        address: "friend".parse().unwrap(),
        amount: sesh(6_250),
    });
    l.register(&r, NOW).unwrap();
    l.register(&registration(2, 6_250), NOW).unwrap(); // awaiting: earns nothing
    let rules = RewardRules {
        period_secs: 100,
        per_node: sesh(1),
    };
    let t0 = 1_000_000;
    // The first tick only starts counting.
    assert!(!l.tick(&rules, t0).unwrap().rewarded);
    assert!(!l.tick(&rules, t0 + 50).unwrap().rewarded);
    assert!(l.tick(&rules, t0 + 100).unwrap().rewarded);
    assert!(!l.tick(&rules, t0 + 150).unwrap().rewarded);
    assert!(l.tick(&rules, t0 + 1000).unwrap().rewarded);
    let balances = l.rewards().unwrap();
    // Two periods of 1 SESH, 10 % fee, stakes 3:1.
    assert_eq!(balances.len(), 2);
    assert_eq!(balances[0].address.as_str(), "op1");
    assert_eq!(balances[0].amount, Amount::from_units(2 * 775_000_000));
    assert_eq!(balances[1].address.as_str(), "friend");
    assert_eq!(balances[1].amount, Amount::from_units(2 * 225_000_000));
    let s = l.snapshot().unwrap();
    assert_eq!(
        s.nodes[0].earned.units() + s.nodes[1].earned.units(),
        2 * crate::constants::UNITS_PER_SESH
    );
}

#[test]
fn file_database_persists_and_is_shared() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    let mut a = SqliteLedger::open(&path).unwrap();
    let b = SqliteLedger::open(&path).unwrap();
    a.register(&registration(1, 25_000), NOW).unwrap();
    // A second connection (the CLI beside the server) sees the change at once.
    assert_eq!(b.head().unwrap(), a.head().unwrap());
    drop((a, b));
    let c = SqliteLedger::open(&path).unwrap();
    assert_eq!(c.snapshot().unwrap().nodes.len(), 1);
    let version: i64 = c
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
    let mode: String = c
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    drop(SqliteLedger::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        SqliteLedger::open(&path),
        Err(Error::SchemaTooNew { found: 99, .. })
    ));
}
