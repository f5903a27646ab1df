//! The PostgreSQL backend end to end: schema creation, state checks, triggers and the `sogs`
//! CLI with `[db] url = postgresql://…`, on the database `SOGS_TEST_PG_URL` names.
//!
//! Without `SOGS_TEST_PG_URL` these tests say so and pass, except under CI (`CI` set), where a
//! missing database is a failure: `.ci/run` starts a throwaway PostgreSQL for them. (The API
//! tests run on PostgreSQL too when `SOGS_TEST_DB=postgresql`; `scripts/test` does that.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use sotto_sogs::ids::RoomToken;
use sotto_sogs::store::{InitMode, SchemaState, SqlValue, Store, LATEST_VERSION};
use sotto_sogs::Error;

const CREATE: InitMode = InitMode {
    create: Some(true),
    upgrade: true,
};

/// The base URL, or `None` (after saying why) when the tests are to be skipped.
fn base_url() -> Option<String> {
    match std::env::var(common::PG_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "{} must name a PostgreSQL database under CI",
                common::PG_URL_VAR
            )
        }
        _ => {
            eprintln!(
                "skipped: set {} to a PostgreSQL database to run this test",
                common::PG_URL_VAR
            );
            None
        }
    }
}

fn token(s: &str) -> RoomToken {
    s.parse().unwrap()
}

#[test]
fn schema_is_created_once_and_recognised() {
    let Some(base) = base_url() else { return };
    let url = common::fresh_pg_schema(&base);
    let mut store = Store::open_postgres(&url).unwrap();
    assert!(store.is_postgres());
    assert!(store.connection().is_none());
    assert_eq!(store.schema_state().unwrap(), SchemaState::Empty);
    assert_eq!(store.schema_version().unwrap(), 0);
    assert!(matches!(
        store.initialize(InitMode {
            create: Some(false),
            upgrade: true
        }),
        Err(Error::DbEmpty(_))
    ));
    assert!(store.initialize(CREATE).unwrap());
    assert_eq!(store.schema_state().unwrap(), SchemaState::Current);
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    assert!(matches!(store.initialize(CREATE), Err(Error::DbExists)));
    // A second connection sees the same, already current, schema.
    let mut again = Store::open_postgres(&url).unwrap();
    assert!(!again
        .initialize(InitMode {
            create: None,
            upgrade: false
        })
        .unwrap());
}

#[test]
fn room_tokens_are_case_insensitive_and_triggers_count() {
    let Some(base) = base_url() else { return };
    let mut store = Store::open_postgres(&common::fresh_pg_schema(&base)).unwrap();
    store.initialize(CREATE).unwrap();
    let room = store.add_room(&token("Lobby"), "Lobby", None).unwrap();
    assert!(matches!(
        store.add_room(&token("LOBBY"), "again", None),
        Err(Error::RoomExists(_))
    ));
    assert_eq!(
        store.room(&token("lobby")).unwrap().map(|r| r.id),
        Some(room.id)
    );
    // The metadata trigger bumps info_updates on a rename, and only then.
    let before = store.room(&token("lobby")).unwrap().unwrap().info_updates;
    store
        .sql_execute(
            "UPDATE rooms SET name = ?1 WHERE id = ?2",
            &["Renamed".into(), room.id.into()],
        )
        .unwrap();
    store
        .sql_execute(
            "UPDATE rooms SET active_users = 3 WHERE id = ?1",
            &[room.id.into()],
        )
        .unwrap();
    let after = store.room(&token("lobby")).unwrap().unwrap().info_updates;
    assert_eq!(after, before + 1);
    // The token check refuses what the API would never send.
    assert!(store
        .sql_execute(
            "INSERT INTO rooms (token, name) VALUES (?1, 'x')",
            &["bad token!".into()],
        )
        .is_err());
}

#[test]
fn values_of_the_wrong_type_are_errors_not_panics() {
    let Some(base) = base_url() else { return };
    let mut store = Store::open_postgres(&common::fresh_pg_schema(&base)).unwrap();
    store.initialize(CREATE).unwrap();
    let room = store.add_room(&token("lobby"), "Lobby", None).unwrap();
    // Bytes where a boolean is expected, text where a float is, a float for an integer.
    assert!(store
        .sql_execute(
            "UPDATE rooms SET read = ?1 WHERE id = ?2",
            &[SqlValue::Blob(vec![1]), room.id.into()],
        )
        .is_err());
    assert!(store
        .sql_execute(
            "UPDATE rooms SET created = ?1 WHERE id = ?2",
            &[SqlValue::Blob(vec![1]), room.id.into()],
        )
        .is_err());
    assert!(store
        .sql_execute(
            "UPDATE rooms SET info_updates = ?1 WHERE id = ?2",
            &[0.5.into(), room.id.into()],
        )
        .is_err());
    // Reading a column as the wrong type.
    let r: sotto_sogs::Result<String> =
        store.sql_query_row("SELECT id FROM rooms", &[], |r| r.get(0));
    assert!(matches!(r, Err(Error::DbValue { column: 0, .. })));
    // A missing row, and the connection still works after the errors.
    assert!(store
        .sql_query_row("SELECT id FROM rooms WHERE id = -1", &[], |r| r
            .get::<_, i64>(0))
        .is_err());
    assert_eq!(
        store.room(&token("lobby")).unwrap().map(|r| r.default_read),
        Some(true)
    );
}

#[test]
fn unreachable_and_malformed_urls_are_errors() {
    let Some(_) = base_url() else { return };
    // Port 1 on loopback: nothing listens there.
    assert!(Store::open_postgres("postgresql://nobody@127.0.0.1:1/none").is_err());
    assert!(Store::open_postgres("postgresql://[::1").is_err());
}

#[test]
fn sogs_cli_uses_a_postgresql_url() {
    let Some(base) = base_url() else { return };
    let url = common::fresh_pg_schema(&base);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sogs.ini"), format!("[db]\nurl = {url}\n")).unwrap();
    let run = |args: &[&str]| common::run_sogs(dir.path(), args);
    let (code, out, err) = run(&["--initialize"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "Database schema created.");
    assert!(!dir.path().join("sogs.db").exists());
    let (code, _, err) = run(&["--initialize"]);
    assert_eq!(code, 1);
    assert!(err.contains("tables already exist"), "{err}");
    let (code, out, err) = run(&["--add-room", "lobby", "--name", "The Lobby"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Created room lobby:"), "{out}");
    let (code, out, _) = run(&["-L"]);
    assert_eq!(code, 0);
    assert!(out.contains("Name: The Lobby"), "{out}");
    assert!(out.contains("Messages: 0 (0.0 MB)"), "{out}");
}

/// The backend's process id, to end the session from outside as a server restart would.
fn backend_pid(store: &Store) -> i64 {
    store
        .sql_query_row("SELECT pg_backend_pid()::BIGINT", &[], |r| r.get(0))
        .unwrap()
}

fn terminate(base: &str, pid: i64) {
    let admin = Store::open_postgres(base).unwrap();
    let ended: bool = admin
        .sql_query_row("SELECT pg_terminate_backend(?1::INT)", &[pid.into()], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(ended);
}

#[test]
fn a_lost_connection_is_reopened_and_never_half_commits() {
    let Some(base) = base_url() else { return };
    let url = common::fresh_pg_schema(&base);
    let mut store = Store::open_postgres(&url).unwrap();
    store.initialize(CREATE).unwrap();
    store.add_room(&token("lobby"), "Lobby", None).unwrap();

    // Outside a transaction: the next read reconnects and succeeds.
    let first = backend_pid(&store);
    terminate(&base, first);
    assert!(store.room(&token("lobby")).unwrap().is_some());
    assert_ne!(backend_pid(&store), first);

    // Inside a transaction: everything up to the end of the transaction fails, COMMIT
    // included, and nothing of it is kept; then the store works again.
    let pid = backend_pid(&store);
    let rename = "UPDATE rooms SET name = 'Renamed' WHERE token = 'lobby'";
    let outcome = store.atomic(|s| {
        s.sql_execute(rename, &[])?;
        terminate(&base, pid);
        s.sql_execute(rename, &[])
    });
    assert!(outcome.is_err());
    let name: String = store
        .sql_query_row("SELECT name FROM rooms WHERE token = 'lobby'", &[], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(name, "Lobby");

    // A COMMIT on a connection lost after the last change reports failure, keeps nothing.
    let pid = backend_pid(&store);
    let outcome = store.atomic(|s| {
        s.sql_execute(rename, &[])?;
        terminate(&base, pid);
        Ok(())
    });
    assert!(outcome.is_err());
    assert_eq!(
        store.room(&token("lobby")).unwrap().map(|r| r.name),
        Some("Lobby".to_owned())
    );
}
