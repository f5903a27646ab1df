//! The schema our migrations create, checked object by object against PySOGS's
//! (`oxen-io/session-pysogs` `sogs/schema.sqlite` at 9497ddbf: the names below are read from a
//! database that file creates), plus migration bookkeeping and adoption of PySOGS databases.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use rusqlite::Connection;
use sotto_sogs::store::{InitMode, SchemaState, Store, LATEST_VERSION};

const CREATE: InitMode = InitMode {
    create: None,
    upgrade: true,
};

/// Tables and their columns, in order.
const TABLES: &[(&str, &[&str])] = &[
    (
        "files",
        &[
            "id", "room", "uploader", "message", "size", "uploaded", "expiry", "filename", "path",
        ],
    ),
    (
        "inbox",
        &["id", "recipient", "sender", "body", "posted_at", "expiry"],
    ),
    (
        "message_history",
        &["message", "replaced", "data", "signature"],
    ),
    (
        "messages",
        &[
            "id",
            "room",
            "user",
            "posted",
            "edited",
            "seqno",
            "seqno_data",
            "seqno_reactions",
            "seqno_creation",
            "data",
            "data_size",
            "signature",
            "filtered",
            "whisper",
            "whisper_mods",
        ],
    ),
    ("needs_blinding", &["blinded_abs", "user"]),
    (
        "pinned_messages",
        &["room", "message", "pinned_by", "pinned_at"],
    ),
    ("reactions", &["id", "message", "reaction"]),
    ("room_users", &["room", "user", "last_active"]),
    (
        "rooms",
        &[
            "id",
            "token",
            "name",
            "description",
            "image",
            "created",
            "message_sequence",
            "info_updates",
            "active_users",
            "read",
            "accessible",
            "write",
            "upload",
        ],
    ),
    ("user_ban_futures", &["room", "user", "at", "banned"]),
    (
        "user_permission_futures",
        &["room", "user", "at", "read", "write", "upload"],
    ),
    (
        "user_permission_overrides",
        &[
            "room",
            "user",
            "banned",
            "read",
            "accessible",
            "write",
            "upload",
            "moderator",
            "admin",
            "visible_mod",
        ],
    ),
    ("user_reactions", &["reaction", "user", "at"]),
    ("user_request_nonces", &["user", "nonce", "expiry"]),
    (
        "users",
        &[
            "id",
            "session_id",
            "created",
            "last_active",
            "banned",
            "moderator",
            "admin",
            "visible_mod",
        ],
    ),
];

/// Views and their columns, in order.
const VIEWS: &[(&str, &[&str])] = &[
    ("first_reactors", &["reaction", "user", "at", "_order"]),
    (
        "message_details",
        &[
            "id",
            "room",
            "user",
            "posted",
            "edited",
            "seqno",
            "seqno_data",
            "seqno_reactions",
            "seqno_creation",
            "data",
            "data_size",
            "signature",
            "filtered",
            "whisper",
            "whisper_mods",
            "session_id",
            "whisper_to",
        ],
    ),
    (
        "message_metadata",
        &[
            "id",
            "room",
            "user",
            "session_id",
            "posted",
            "edited",
            "seqno",
            "seqno_data",
            "seqno_reactions",
            "seqno_creation",
            "filtered",
            "whisper_to",
            "whisper_mods",
            "data_unpadded",
            "data_size",
            "signature_length",
        ],
    ),
    (
        "message_reactions",
        &["id", "message", "reaction", "user", "at"],
    ),
    (
        "room_moderators",
        &[
            "session_id",
            "room",
            "user",
            "visible_mod",
            "admin",
            "room_moderator",
            "global_moderator",
        ],
    ),
    (
        "user_permissions",
        &[
            "room",
            "user",
            "session_id",
            "banned",
            "read",
            "accessible",
            "write",
            "upload",
            "moderator",
            "admin",
            "room_moderator",
            "global_moderator",
            "visible_mod",
        ],
    ),
];

/// Named indexes and their tables.
const INDEXES: &[(&str, &str)] = &[
    ("files_expiry", "files"),
    ("files_message", "files"),
    ("files_room", "files"),
    ("inbox_recipient", "inbox"),
    ("message_history_message", "message_history"),
    ("message_history_replaced", "message_history"),
    ("messages_id", "messages"),
    ("messages_room", "messages"),
    ("messages_updated", "messages"),
    ("reactions_message", "reactions"),
    ("room_users_activity", "room_users"),
    ("room_users_room_activity", "room_users"),
    ("rooms_token", "rooms"),
    ("user_ban_futures_at", "user_ban_futures"),
    ("user_ban_futures_room_user", "user_ban_futures"),
    ("user_permission_futures_at", "user_permission_futures"),
    (
        "user_permission_futures_room_user",
        "user_permission_futures",
    ),
    (
        "user_permission_overrides_mods",
        "user_permission_overrides",
    ),
    ("user_reactions_at", "user_reactions"),
    ("user_request_nonces_expiry", "user_request_nonces"),
    ("users_last_active", "users"),
];

/// Triggers and their tables or views.
const TRIGGERS: &[(&str, &str)] = &[
    ("message_details_deleter", "message_details"),
    ("message_reactions_insert", "message_reactions"),
    ("messages_after_delete", "messages"),
    ("messages_insert_counter", "messages"),
    ("messages_insert_history", "messages"),
    ("messages_seqno_updater_ins", "messages"),
    ("messages_seqno_updater_upd", "messages"),
    ("reactions_cleanup_empty", "user_reactions"),
    ("reactions_delete_seqno", "user_reactions"),
    ("reactions_no_update", "reactions"),
    ("room_expire_roomless", "files"),
    ("room_image_expiry", "rooms"),
    ("room_metadata_global_mods_delete", "users"),
    ("room_metadata_global_mods_insert", "users"),
    ("room_metadata_global_mods_update", "users"),
    ("room_metadata_mods_delete", "user_permission_overrides"),
    ("room_metadata_mods_insert", "user_permission_overrides"),
    ("room_metadata_mods_update", "user_permission_overrides"),
    ("room_metadata_pinned_add", "pinned_messages"),
    ("room_metadata_pinned_remove", "pinned_messages"),
    ("room_metadata_pinned_update", "pinned_messages"),
    ("room_metadata_update", "rooms"),
    ("room_users_remove_banned", "user_permission_overrides"),
    ("user_insert_admins_are_mods", "users"),
    ("user_perms_empty_cleanup", "user_permission_overrides"),
    (
        "user_perms_insert_admins_are_mods",
        "user_permission_overrides",
    ),
    (
        "user_perms_update_admins_are_mods",
        "user_permission_overrides",
    ),
    ("user_reactions_insert_seqno", "user_reactions"),
    ("user_reactions_no_update", "user_reactions"),
    ("user_update_admins_are_mods", "users"),
];

fn created() -> Store {
    let mut store = Store::open_in_memory().unwrap();
    assert!(store.initialize(CREATE).unwrap());
    store
}

fn names(conn: &Connection, kind: &str) -> Vec<(String, String)> {
    conn.prepare(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = ?1
         AND name NOT LIKE 'sqlite_%' AND tbl_name != 'sotto_migrations' ORDER BY name",
    )
    .unwrap()
    .query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn columns(conn: &Connection, object: &str) -> Vec<String> {
    conn.prepare("SELECT name FROM pragma_table_info(?1)")
        .unwrap()
        .query_map([object], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn assert_objects(conn: &Connection, kind: &str, expected: &[(&str, &[&str])]) {
    let found: Vec<String> = names(conn, kind).into_iter().map(|n| n.0).collect();
    let wanted: Vec<String> = expected.iter().map(|e| e.0.to_owned()).collect();
    assert_eq!(found, wanted, "{kind}s");
    for (name, cols) in expected {
        assert_eq!(columns(conn, name), *cols, "columns of {kind} {name}");
    }
}

fn assert_pairs(conn: &Connection, kind: &str, expected: &[(&str, &str)]) {
    let found = names(conn, kind);
    let wanted: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(found, wanted, "{kind}s");
}

#[test]
fn creates_exactly_the_pysogs_objects() {
    let store = created();
    let conn = store.connection().unwrap();
    assert_objects(conn, "table", TABLES);
    assert_objects(conn, "view", VIEWS);
    assert_pairs(conn, "index", INDEXES);
    assert_pairs(conn, "trigger", TRIGGERS);
}

#[test]
fn column_details_match_pysogs() {
    let store = created();
    let conn = store.connection().unwrap();
    // (table, column, declared type, not null, default) for columns whose defaults and types
    // carry behaviour.
    let cases: &[(&str, &str, &str, bool, Option<&str>)] = &[
        ("rooms", "token", "TEXT", true, None),
        ("rooms", "read", "BOOLEAN", true, Some("TRUE")),
        (
            "rooms",
            "created",
            "FLOAT",
            true,
            Some("(julianday('now') - 2440587.5) * 86400.0"),
        ),
        ("messages", "filtered", "BOOLEAN", true, Some("FALSE")),
        ("message_history", "data", "TEXT", true, None),
        (
            "files",
            "expiry",
            "FLOAT",
            false,
            Some("(julianday('now') - 2440587.5 + 15.0) * 86400.0"),
        ),
        (
            "user_permission_overrides",
            "visible_mod",
            "BOOLEAN",
            true,
            Some("TRUE"),
        ),
        ("user_permission_overrides", "read", "BOOLEAN", false, None),
        ("users", "visible_mod", "BOOLEAN", true, Some("FALSE")),
        (
            "user_request_nonces",
            "expiry",
            "FLOAT",
            true,
            Some("(julianday('now') - 2440587.5 + 1.0) * 86400.0"),
        ),
        (
            "inbox",
            "expiry",
            "FLOAT",
            false,
            Some("(julianday('now') - 2440587.5 + 15.0) * 86400.0"),
        ),
    ];
    for (table, column, ty, notnull, default) in cases {
        let (t, nn, d): (String, bool, Option<String>) = conn
            .query_row(
                "SELECT type, \"notnull\", dflt_value FROM pragma_table_info(?1) WHERE name = ?2",
                [table, column],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((t.as_str(), nn), (*ty, *notnull), "{table}.{column}");
        assert_eq!(d.as_deref(), *default, "{table}.{column} default");
    }
    // The token is case-insensitive and limited to [A-Za-z0-9_-].
    conn.execute("INSERT INTO rooms (token, name) VALUES ('Abc', 'x')", [])
        .unwrap();
    assert!(conn
        .execute("INSERT INTO rooms (token, name) VALUES ('aBC', 'y')", [])
        .is_err());
    assert!(conn
        .execute("INSERT INTO rooms (token, name) VALUES ('a b', 'y')", [])
        .is_err());
    // Banned users cannot be moderators.
    assert!(conn
        .execute(
            "INSERT INTO users (session_id, banned, moderator) VALUES ('05x', TRUE, TRUE)",
            []
        )
        .is_err());
}

#[test]
fn rerunning_migrations_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sogs.db");
    let mut store = Store::open(&path).unwrap();
    assert!(store.initialize(CREATE).unwrap());
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    drop(store);
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_state().unwrap(), SchemaState::Current);
    assert!(!store.initialize(CREATE).unwrap());
    let rows: i64 = store
        .connection()
        .unwrap()
        .query_row("SELECT COUNT(*) FROM sotto_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, LATEST_VERSION);
    let mode: String = store
        .connection()
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: bool = store
        .connection()
        .unwrap()
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert!(fk);
}

#[test]
fn init_modes() {
    let mut empty = Store::open_in_memory().unwrap();
    assert_eq!(empty.schema_state().unwrap(), SchemaState::Empty);
    let err = empty
        .initialize(InitMode {
            create: Some(false),
            upgrade: true,
        })
        .unwrap_err();
    assert!(matches!(err, sotto_sogs::Error::DbEmpty(_)), "{err}");
    let mut store = created();
    let err = store
        .initialize(InitMode {
            create: Some(true),
            upgrade: false,
        })
        .unwrap_err();
    assert!(matches!(err, sotto_sogs::Error::DbExists), "{err}");
}

/// A database PySOGS made: our schema without our bookkeeping table.
fn pysogs_like(path: &std::path::Path) {
    let mut store = Store::open(path).unwrap();
    store.initialize(CREATE).unwrap();
    store
        .connection()
        .unwrap()
        .execute_batch("DROP TABLE sotto_migrations")
        .unwrap();
}

#[test]
fn matching_pysogs_database_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sogs.db");
    pysogs_like(&path);
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 0);
    assert_eq!(store.schema_state().unwrap(), SchemaState::Current);
    assert!(!store
        .initialize(InitMode {
            create: Some(false),
            upgrade: false
        })
        .unwrap());
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    let how: String = store
        .connection()
        .unwrap()
        .query_row("SELECT how FROM sotto_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(how, "adopted");
}

#[test]
fn older_pysogs_database_is_not_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sogs.db");
    pysogs_like(&path);
    // An older PySOGS: no room_moderators view and no seqno_creation column.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP VIEW room_moderators; DROP VIEW message_metadata; DROP VIEW message_details;
         ALTER TABLE messages DROP COLUMN seqno_creation;",
    )
    .unwrap();
    drop(conn);
    let mut store = Store::open(&path).unwrap();
    let SchemaState::OldPysogs(diffs) = store.schema_state().unwrap() else {
        panic!("not detected as old");
    };
    assert!(
        diffs.iter().any(|d| d.contains("room_moderators")),
        "{diffs:?}"
    );
    assert!(
        diffs.iter().any(|d| d.contains("seqno_creation")),
        "{diffs:?}"
    );
    let err = store
        .initialize(InitMode {
            create: None,
            upgrade: false,
        })
        .unwrap_err();
    assert!(
        matches!(err, sotto_sogs::Error::UpgradeRequired(_)),
        "{err}"
    );
    let err = store
        .initialize(InitMode {
            create: None,
            upgrade: true,
        })
        .unwrap_err();
    assert!(matches!(err, sotto_sogs::Error::ForeignSchema(_)), "{err}");
    assert_eq!(store.schema_version().unwrap(), 0);
}

#[test]
fn pysogs_buggy_trigger_text_is_not_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sogs.db");
    pysogs_like(&path);
    let conn = Connection::open(&path).unwrap();
    // The pre-fix PySOGS trigger that PySOGS itself recreates on upgrade.
    conn.execute_batch(
        "DROP TRIGGER room_metadata_global_mods_insert;
         CREATE TRIGGER room_metadata_global_mods_insert AFTER INSERT ON users
         FOR EACH ROW WHEN (NEW.admin OR NEW.moderator) AND NEW.visible_mod
         BEGIN UPDATE rooms SET info_updates = info_updates + 1; END;",
    )
    .unwrap();
    drop(conn);
    let store = Store::open(&path).unwrap();
    assert!(matches!(
        store.schema_state().unwrap(),
        SchemaState::OldPysogs(_)
    ));
}

#[test]
fn newer_schema_is_refused() {
    let store = created();
    store
        .connection()
        .unwrap()
        .execute(
            "INSERT INTO sotto_migrations (version, name, how) VALUES (?1, 'future', 'applied')",
            [LATEST_VERSION + 1],
        )
        .unwrap();
    assert!(matches!(
        store.schema_state(),
        Err(sotto_sogs::Error::NewerSchema { .. })
    ));
}
