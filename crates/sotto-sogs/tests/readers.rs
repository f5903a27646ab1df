//! The read-only connections requests that only read go through (`Store::open_readers`,
//! `AppState::reader`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use sotto_sogs::ids::RoomToken;
use sotto_sogs::store::{InitMode, Store};

fn initialised(path: &std::path::Path) -> Store {
    let mut store = Store::open(path).unwrap();
    store
        .initialize(InitMode {
            create: None,
            upgrade: true,
        })
        .unwrap();
    store
}

/// Readers see every commit made before their statement began, cannot write, and exist only
/// for database files.
#[test]
fn readers_see_commits_and_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = initialised(&dir.path().join("sogs.db"));
    let readers = writer.open_readers(3).unwrap();
    assert_eq!(readers.len(), 3);
    let token: RoomToken = "lobby".parse().unwrap();
    for reader in &readers {
        assert!(reader.room(&token).unwrap().is_none());
    }
    writer.add_room(&token, "Lobby", None).unwrap();
    for reader in &readers {
        assert_eq!(reader.room(&token).unwrap().unwrap().name, "Lobby");
    }
    let err = readers[0]
        .sql_execute("DELETE FROM rooms", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("readonly"), "{err}");
    assert!(writer.room(&token).unwrap().is_some());

    let memory = Store::open_in_memory().unwrap();
    assert!(memory.open_readers(3).unwrap().is_empty());
}

/// A reader is not held up by a write transaction another process keeps open (WAL), and
/// sees the state before it until it commits.
#[test]
fn readers_do_not_wait_for_an_open_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sogs.db");
    let writer = initialised(&path);
    let readers = writer.open_readers(1).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    other
        .execute(
            "INSERT INTO rooms (token, name) VALUES ('pending', 'Pending')",
            [],
        )
        .unwrap();
    let token: RoomToken = "pending".parse().unwrap();
    assert!(readers[0].room(&token).unwrap().is_none());
    other.execute_batch("COMMIT").unwrap();
    assert!(readers[0].room(&token).unwrap().is_some());
}
