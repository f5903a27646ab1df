//! The message store: every operation, persistence across reopen, the size cap, and a
//! model-based property test against a plain in-memory implementation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use sotto_node::store::{
    retrieve_size, AccountKey, Durability, ExpireMode, RetrieveLimits, Store, StoreOptions,
};
use sotto_node::Error;

const NOW: i64 = 1_700_000_000_000;
const DAY: i64 = 86_400_000;
const ALICE: AccountKey = [5; 33];
const BOB: AccountKey = [7; 33];
const ALL: RetrieveLimits = RetrieveLimits {
    max_count: 0,
    max_size: usize::MAX,
};

fn store() -> Store {
    Store::open_in_memory(&StoreOptions::default()).unwrap()
}

fn hash(i: usize) -> String {
    format!("{i:043}")
}

fn hashes(page: &sotto_node::store::Page) -> Vec<String> {
    page.messages.iter().map(|m| m.hash.clone()).collect()
}

#[test]
fn store_and_retrieve_in_order_with_paging() {
    let s = store();
    for i in 0..5 {
        let out = s
            .store(&ALICE, 0, &hash(i), NOW + i as i64, NOW + DAY, b"data")
            .unwrap();
        assert!(!out.already);
    }
    s.store(&ALICE, 2, &hash(10), NOW, NOW + DAY, b"other ns")
        .unwrap();
    s.store(&BOB, 0, &hash(20), NOW, NOW + DAY, b"bob").unwrap();

    let page = s.retrieve(&ALICE, 0, None, ALL, NOW).unwrap();
    assert_eq!(hashes(&page), (0..5).map(hash).collect::<Vec<_>>());
    assert!(!page.more);
    assert_eq!(page.messages[2].timestamp, NOW + 2);
    assert_eq!(page.messages[2].data, b"data");

    let after = s.retrieve(&ALICE, 0, Some(&hash(2)), ALL, NOW).unwrap();
    assert_eq!(hashes(&after), vec![hash(3), hash(4)]);
    // Unknown last_hash: from the start.
    let unknown = s.retrieve(&ALICE, 0, Some("nope"), ALL, NOW).unwrap();
    assert_eq!(unknown.messages.len(), 5);
    // A last_hash of another namespace or account does not count.
    let other = s.retrieve(&ALICE, 0, Some(&hash(20)), ALL, NOW).unwrap();
    assert_eq!(other.messages.len(), 5);

    let counted = RetrieveLimits {
        max_count: 2,
        max_size: usize::MAX,
    };
    let first = s.retrieve(&ALICE, 0, None, counted, NOW).unwrap();
    assert_eq!(hashes(&first), vec![hash(0), hash(1)]);
    assert!(first.more);

    assert_eq!(
        s.retrieve(&ALICE, 2, None, ALL, NOW)
            .unwrap()
            .messages
            .len(),
        1
    );
    assert!(s
        .retrieve(&[9; 33], 0, None, ALL, NOW)
        .unwrap()
        .messages
        .is_empty());
}

#[test]
fn bulk_store_skips_duplicates() {
    let s = store();
    s.store(&ALICE, 0, &hash(1), NOW, NOW + DAY, b"x").unwrap();
    let batch: Vec<sotto_node::store::StoredMessage> = (0..5)
        .map(|i| sotto_node::store::StoredMessage {
            hash: hash(i),
            namespace: 0,
            timestamp: NOW,
            expiry: NOW + DAY,
            data: vec![i as u8],
        })
        .collect();
    assert_eq!(s.bulk_store(&ALICE, &batch).unwrap(), 4);
    assert_eq!(
        s.retrieve(&ALICE, 0, None, ALL, NOW)
            .unwrap()
            .messages
            .len(),
        5
    );
}

#[test]
fn size_limit_returns_at_least_one() {
    let s = store();
    s.store(&ALICE, 0, &hash(1), NOW, NOW + DAY, &[0; 3000])
        .unwrap();
    s.store(&ALICE, 0, &hash(2), NOW, NOW + DAY, &[0; 3000])
        .unwrap();
    let one = retrieve_size(&hash(1), 3000);
    assert_eq!(one, 100 + 43 + 4000);
    let tiny = RetrieveLimits {
        max_count: 0,
        max_size: 10,
    };
    let page = s.retrieve(&ALICE, 0, None, tiny, NOW).unwrap();
    assert_eq!(page.messages.len(), 1);
    assert!(page.more);
    let exact = RetrieveLimits {
        max_count: 0,
        max_size: 2 * one,
    };
    let page = s.retrieve(&ALICE, 0, None, exact, NOW).unwrap();
    assert_eq!(page.messages.len(), 2);
    assert!(!page.more);
}

#[test]
fn duplicates_extend_but_never_shorten() {
    let s = store();
    s.store(&ALICE, 0, &hash(1), NOW, NOW + DAY, b"x").unwrap();
    let again = s
        .store(&ALICE, 0, &hash(1), NOW, NOW + 2 * DAY, b"x")
        .unwrap();
    assert_eq!((again.already, again.expiry), (true, NOW + 2 * DAY));
    let shorter = s.store(&ALICE, 0, &hash(1), NOW, NOW + 1, b"x").unwrap();
    assert_eq!(shorter.expiry, NOW + 2 * DAY);
    assert_eq!(s.message_count().unwrap(), 1);
}

#[test]
fn expiry_hides_then_cleans() {
    let s = store();
    s.store(&ALICE, 0, &hash(1), NOW, NOW + 10, b"short")
        .unwrap();
    s.store(&ALICE, 0, &hash(2), NOW, NOW + DAY, b"long")
        .unwrap();
    assert_eq!(
        s.retrieve(&ALICE, 0, None, ALL, NOW + 10)
            .unwrap()
            .messages
            .len(),
        1
    );
    assert_eq!(
        s.get_expiries(&ALICE, &[hash(1), hash(2)], NOW + 10)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(s.clean_expired(NOW + 10).unwrap(), 1);
    assert_eq!(s.message_count().unwrap(), 1);
    assert_eq!(s.clean_expired(NOW + 10).unwrap(), 0);
}

#[test]
fn deletes() {
    let s = store();
    for i in 0..4 {
        s.store(
            &ALICE,
            (i % 2) as i16,
            &hash(i),
            NOW + i as i64,
            NOW + DAY,
            b"x",
        )
        .unwrap();
    }
    s.store(&BOB, 0, &hash(9), NOW, NOW + DAY, b"x").unwrap();
    // Only the owner's messages; the result is sorted and deduplicated.
    let deleted = s
        .delete(&ALICE, &[hash(2), hash(9), hash(0), hash(2)])
        .unwrap();
    assert_eq!(deleted, vec![hash(0), hash(2)]);
    assert_eq!(s.message_count().unwrap(), 3);
    let before = s.delete_all(&ALICE, Some(1), Some(NOW + 1)).unwrap();
    assert_eq!(before, vec![(1, hash(1))]);
    let all = s.delete_all(&ALICE, None, None).unwrap();
    assert_eq!(all, vec![(1, hash(3))]);
    assert_eq!(s.message_count().unwrap(), 1, "bob's message stays");
    assert!(s.delete_all(&[1; 33], None, None).unwrap().is_empty());
}

#[test]
fn expire_modes() {
    let s = store();
    for i in 0..3 {
        s.store(&ALICE, 0, &hash(i), NOW, NOW + (i as i64 + 1) * DAY, b"x")
            .unwrap();
    }
    let all = [hash(0), hash(1), hash(2), hash(7)];
    let shorten = s
        .expire(&ALICE, &all, NOW + 2 * DAY, ExpireMode::ShortenOnly)
        .unwrap();
    assert_eq!(shorten.updated, vec![hash(2)]);
    assert_eq!(
        shorten.unchanged,
        BTreeMap::from([(hash(0), NOW + DAY), (hash(1), NOW + 2 * DAY)])
    );
    let extend = s
        .expire(&ALICE, &all, NOW + 3 * DAY, ExpireMode::ExtendOnly)
        .unwrap();
    assert_eq!(extend.updated, vec![hash(0), hash(1), hash(2)]);
    let set = s.expire(&ALICE, &all, NOW + DAY, ExpireMode::Set).unwrap();
    assert_eq!(set.updated, vec![hash(0), hash(1), hash(2)]);
    assert!(set.unchanged.is_empty());
    let expiries = s.get_expiries(&ALICE, &all, NOW).unwrap();
    assert_eq!(
        expiries.values().copied().collect::<Vec<_>>(),
        vec![NOW + DAY; 3]
    );
    // expire_all only shortens.
    let updated = s.expire_all(&ALICE, Some(0), NOW + 10).unwrap();
    assert_eq!(updated.len(), 3);
    assert!(s.expire_all(&ALICE, None, NOW + DAY).unwrap().is_empty());
    // Other accounts' hashes are not touched.
    assert!(s
        .expire(&BOB, &all, NOW, ExpireMode::Set)
        .unwrap()
        .updated
        .is_empty());
}

#[test]
fn survives_reopen_and_refuses_newer_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messages.db");
    {
        let s = Store::open(&path, &StoreOptions::default()).unwrap();
        s.store(&ALICE, 0, &hash(1), NOW, NOW + DAY, b"kept")
            .unwrap();
    }
    let s = Store::open(&path, &StoreOptions::default()).unwrap();
    let page = s.retrieve(&ALICE, 0, None, ALL, NOW).unwrap();
    assert_eq!(page.messages[0].data, b"kept");
    drop(s);

    let conn = rusqlite_conn(&path);
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        Store::open(&path, &StoreOptions::default()),
        Err(Error::SchemaTooNew { found: 99, .. })
    ));
}

fn rusqlite_conn(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn full_database_refuses_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        max_bytes: 256 * 1024,
        durability: Durability::Normal,
    };
    let s = Store::open(&dir.path().join("small.db"), &options).unwrap();
    let mut stored = 0;
    let err = loop {
        match s.store(&ALICE, 0, &hash(stored), NOW, NOW + DAY, &[0xab; 10_000]) {
            Ok(_) => stored += 1,
            Err(e) => break e,
        }
        assert!(stored < 1000, "the cap never took effect");
    };
    assert!(
        matches!(err, Error::StorageFull { cap_bytes: 262_144 }),
        "{err}"
    );
    assert!(stored > 5);
    // Nothing half-written: every acknowledged store is there, and reads still work.
    let page = s.retrieve(&ALICE, 0, None, ALL, NOW).unwrap();
    assert_eq!(page.messages.len(), stored);
    // Deleting makes room again.
    s.delete_all(&ALICE, None, None).unwrap();
    s.store(&ALICE, 0, &hash(5000), NOW, NOW + DAY, &[1; 10_000])
        .unwrap();
}

#[derive(Debug, Clone)]
enum Op {
    Store {
        owner: u8,
        ns: i16,
        id: u8,
        expiry: i64,
    },
    Delete {
        owner: u8,
        ids: Vec<u8>,
    },
    DeleteAll {
        owner: u8,
        ns: Option<i16>,
    },
    Shorten {
        owner: u8,
        id: u8,
        expiry: i64,
    },
    Clean {
        now: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let owner = 0u8..3;
    let ns = prop_oneof![Just(0i16), Just(2i16), Just(-10i16)];
    let id = 0u8..12;
    let expiry = (1i64..100).prop_map(|e| NOW + e);
    prop_oneof![
        4 => (owner.clone(), ns.clone(), id.clone(), expiry.clone())
            .prop_map(|(owner, ns, id, expiry)| Op::Store { owner, ns, id, expiry }),
        1 => (owner.clone(), proptest::collection::vec(id.clone(), 0..4))
            .prop_map(|(owner, ids)| Op::Delete { owner, ids }),
        1 => (owner.clone(), proptest::option::of(ns))
            .prop_map(|(owner, ns)| Op::DeleteAll { owner, ns }),
        1 => (owner, id, expiry).prop_map(|(owner, id, expiry)| Op::Shorten { owner, id, expiry }),
        1 => (0i64..100).prop_map(|e| Op::Clean { now: NOW + e }),
    ]
}

/// (owner, hash) → (namespace, expiry, insertion sequence).
type Model = BTreeMap<String, (u8, i16, i64, u64)>;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn behaves_like_a_simple_model(ops in proptest::collection::vec(op(), 1..60)) {
        let s = store();
        let mut model: Model = BTreeMap::new();
        let mut seq = 0u64;
        let key = |owner: u8| [owner; 33];
        // The hash depends on owner, namespace and id, as the real one does on account,
        // namespace and data.
        let h = |owner: u8, ns: i16, id: u8| format!("{owner}-{ns}-{id:040}");
        for op in ops {
            match op {
                Op::Store { owner, ns, id, expiry } => {
                    let hash = h(owner, ns, id);
                    let out = s.store(&key(owner), ns, &hash, NOW, expiry, &[id]).unwrap();
                    match model.get_mut(&hash) {
                        Some(entry) => {
                            prop_assert!(out.already);
                            entry.2 = entry.2.max(expiry);
                            prop_assert_eq!(out.expiry, entry.2);
                        }
                        None => {
                            prop_assert!(!out.already);
                            seq += 1;
                            model.insert(hash, (owner, ns, expiry, seq));
                        }
                    }
                }
                Op::Delete { owner, ids } => {
                    let asked: Vec<String> = ids.iter().map(|&i| h(owner, 0, i)).collect();
                    let deleted = s.delete(&key(owner), &asked).unwrap();
                    let mut expected: Vec<String> =
                        asked.into_iter().filter(|x| model.remove(x).is_some()).collect();
                    expected.sort();
                    expected.dedup();
                    prop_assert_eq!(deleted, expected);
                }
                Op::DeleteAll { owner, ns } => {
                    let deleted = s.delete_all(&key(owner), ns, None).unwrap();
                    let mut expected: Vec<(i16, String)> = model
                        .iter()
                        .filter(|(_, v)| v.0 == owner && ns.is_none_or(|n| n == v.1))
                        .map(|(k, v)| (v.1, k.clone()))
                        .collect();
                    expected.sort();
                    for (_, k) in &expected {
                        model.remove(k);
                    }
                    prop_assert_eq!(deleted, expected);
                }
                Op::Shorten { owner, id, expiry } => {
                    let hash = h(owner, 0, id);
                    let out = s.expire(&key(owner), std::slice::from_ref(&hash), expiry, ExpireMode::ShortenOnly).unwrap();
                    match model.get_mut(&hash) {
                        Some(entry) if expiry < entry.2 => {
                            entry.2 = expiry;
                            prop_assert_eq!(out.updated, vec![hash]);
                        }
                        _ => prop_assert!(out.updated.is_empty()),
                    }
                }
                Op::Clean { now } => {
                    let cleaned = s.clean_expired(now).unwrap();
                    let before = model.len();
                    model.retain(|_, v| v.2 > now);
                    prop_assert_eq!(cleaned, before - model.len());
                }
            }
            // After every step, every account's namespaces read back as the model says.
            for owner in 0..3u8 {
                for ns in [0i16, 2, -10] {
                    let page = s.retrieve(&key(owner), ns, None, ALL, NOW).unwrap();
                    let mut expected: Vec<(u64, String)> = model
                        .iter()
                        .filter(|(_, v)| v.0 == owner && v.1 == ns && v.2 > NOW)
                        .map(|(k, v)| (v.3, k.clone()))
                        .collect();
                    expected.sort();
                    let expected: Vec<String> = expected.into_iter().map(|(_, k)| k).collect();
                    prop_assert_eq!(hashes(&page), expected);
                }
            }
        }
    }
}

#[test]
fn readers_see_committed_stores_and_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messages.db");
    let writer = Store::open(&path, &StoreOptions::default()).unwrap();
    let reader = Store::open_reader(&path).unwrap();
    assert!(reader
        .retrieve(&ALICE, 0, None, ALL, NOW)
        .unwrap()
        .messages
        .is_empty());
    writer
        .store(&ALICE, 0, &hash(1), NOW, NOW + DAY, b"first")
        .unwrap();
    // A reader opened before the write still sees it: every read is its own transaction.
    let page = reader.retrieve(&ALICE, 0, None, ALL, NOW).unwrap();
    assert_eq!(hashes(&page), [hash(1)]);
    assert_eq!(
        reader.get_expiries(&ALICE, &[hash(1)], NOW).unwrap()[&hash(1)],
        NOW + DAY
    );
    // query_only: a write through a reader is refused and changes nothing.
    assert!(reader
        .store(&ALICE, 0, &hash(2), NOW, NOW + DAY, b"second")
        .is_err());
    assert_eq!(writer.message_count().unwrap(), 1);
}
