//! Trigger semantics that define wire behaviour (`sogs.md` §3), exercised on a database our
//! migrations created.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use sotto_sogs::ids::{AccountId, RoomToken};
use sotto_sogs::store::{AuthOutcome, InitMode, Permissions, SqlValue, Store};

/// The helpers below read and write through the store's engine-neutral SQL, so that these
/// tests run on PostgreSQL too (`SOGS_TEST_DB=postgresql`).
type Connection = Store;

/// Statement parameters of mixed types.
macro_rules! params {
    ($($x:expr),* $(,)?) => {
        &[$(SqlValue::from($x)),*][..]
    };
}

const ALICE: &str = "05c506fee5118680107a4722f60a05dfcbb5737d6ffc4d163fb60479e279c6095d";
const BOB: &str = "15cef185d46b60a548641bd8c5baa4b7cf90b7da8e883c0ac774c703d249086479";

struct Fixture {
    store: Store,
    room: i64,
    other_room: i64,
    alice: i64,
    bob: i64,
}

fn fixture() -> Fixture {
    let mut store = match common::pg_backend() {
        Some(base) => Store::open_postgres(&common::fresh_pg_schema(&base)).unwrap(),
        None => Store::open_in_memory().unwrap(),
    };
    store
        .initialize(InitMode {
            create: None,
            upgrade: true,
        })
        .unwrap();
    let room = store
        .add_room(&"lobby".parse::<RoomToken>().unwrap(), "Lobby", None)
        .unwrap()
        .id;
    let other_room = store
        .add_room(&"other".parse::<RoomToken>().unwrap(), "Other", Some("x"))
        .unwrap()
        .id;
    let alice = store
        .get_or_create_user(&ALICE.parse::<AccountId>().unwrap())
        .unwrap()
        .id;
    let bob = store
        .get_or_create_user(&BOB.parse::<AccountId>().unwrap())
        .unwrap()
        .id;
    Fixture {
        store,
        room,
        other_room,
        alice,
        bob,
    }
}

fn int(conn: &Connection, sql: &str, p: &[SqlValue]) -> i64 {
    conn.sql_query_row(sql, p, |r| r.get(0)).unwrap()
}

fn post(conn: &Connection, room: i64, user: i64, data: &[u8]) -> i64 {
    conn.sql_query_row(
        "INSERT INTO messages (room, \"user\", data, data_size, signature)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        params![room, user, data, data.len(), [7u8; 64].as_slice()],
        |r| r.get(0),
    )
    .unwrap()
}

/// (seqno, seqno_data, seqno_reactions, seqno_creation) of a message.
fn seqnos(conn: &Connection, id: i64) -> (i64, i64, i64, i64) {
    conn.sql_query_row(
        "SELECT seqno, seqno_data, seqno_reactions, seqno_creation FROM messages WHERE id = ?1",
        &[id.into()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .unwrap()
}

fn sequence(conn: &Connection, room: i64) -> i64 {
    int(
        conn,
        "SELECT message_sequence FROM rooms WHERE id = ?1",
        &[room.into()],
    )
}

fn info_updates(conn: &Connection, room: i64) -> i64 {
    int(
        conn,
        "SELECT info_updates FROM rooms WHERE id = ?1",
        &[room.into()],
    )
}

#[test]
fn new_message_bumps_sequence_and_seqnos() {
    let f = fixture();
    let c = &f.store;
    let m1 = post(c, f.room, f.alice, b"one");
    let m2 = post(c, f.room, f.alice, b"two");
    let m3 = post(c, f.other_room, f.alice, b"three");
    assert_eq!(seqnos(c, m1), (1, 1, 0, 1));
    assert_eq!(seqnos(c, m2), (2, 2, 0, 2));
    assert_eq!(seqnos(c, m3), (1, 1, 0, 1));
    assert_eq!(sequence(c, f.room), 2);
    assert_eq!(sequence(c, f.other_room), 1);
}

#[test]
fn edit_copies_history_and_bumps() {
    let f = fixture();
    let c = &f.store;
    let m = post(c, f.room, f.alice, b"first");
    c.sql_execute(
        "UPDATE messages SET data = ?2, signature = ?3 WHERE id = ?1",
        params![m, b"second".as_slice(), [9u8; 64].as_slice()],
    )
    .unwrap();
    assert_eq!(seqnos(c, m), (2, 2, 0, 1));
    let (old, sig): (Vec<u8>, Vec<u8>) = c
        .sql_query_row(
            "SELECT data, signature FROM message_history WHERE message = ?1",
            &[m.into()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (old.as_slice(), sig.as_slice()),
        (b"first".as_slice(), [7u8; 64].as_slice())
    );
    let edited: Option<f64> = c
        .sql_query_row(
            "SELECT edited FROM messages WHERE id = ?1",
            &[m.into()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(edited.is_some_and(|t| t > 1.6e9));
    // Setting the same data again is not an edit.
    c.sql_execute("UPDATE messages SET data = data WHERE id = ?1", &[m.into()])
        .unwrap();
    assert_eq!(int(c, "SELECT COUNT(*) FROM message_history", &[]), 1);
    assert_eq!(sequence(c, f.room), 2);
}

#[test]
fn delete_nulls_data_drops_reactions_and_pins_and_expires_files() {
    let f = fixture();
    let c = &f.store;
    let m = post(c, f.room, f.alice, b"bye");
    c.sql_execute(
        "INSERT INTO files (room, uploader, message, size, path) VALUES (?1, ?2, ?3, 3, 'uploads/lobby/1_x')",
        params![f.room, f.alice, m],
    )
    .unwrap();
    c.sql_execute(
        "INSERT INTO pinned_messages (room, message, pinned_by) VALUES (?1, ?2, ?3)",
        params![f.room, m, f.alice],
    )
    .unwrap();
    // Pinning makes the attachment permanent.
    assert_eq!(
        int(c, "SELECT COUNT(*) FROM files WHERE expiry IS NULL", &[]),
        1
    );
    c.sql_execute(
        "INSERT INTO message_reactions (message, reaction, \"user\") VALUES (?1, '👍', ?2)",
        params![m, f.bob],
    )
    .unwrap();
    let before = info_updates(c, f.room);

    c.sql_execute("DELETE FROM message_details WHERE id = ?1", &[m.into()])
        .unwrap();

    let (data, size, sig): (Option<Vec<u8>>, Option<i64>, Option<Vec<u8>>) = c
        .sql_query_row(
            "SELECT data, data_size, signature FROM messages WHERE id = ?1",
            &[m.into()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((data, size, sig), (None, None, None));
    assert_eq!(int(c, "SELECT COUNT(*) FROM pinned_messages", &[]), 0);
    assert_eq!(int(c, "SELECT COUNT(*) FROM reactions", &[]), 0);
    assert_eq!(int(c, "SELECT COUNT(*) FROM user_reactions", &[]), 0);
    let expiry: Option<f64> = c
        .sql_query_row("SELECT expiry FROM files", &[], |r| r.get(0))
        .unwrap();
    assert_eq!(expiry, Some(0.0));
    assert_eq!(
        info_updates(c, f.room),
        before + 1,
        "unpin bumps info_updates"
    );
    assert_eq!(int(c, "SELECT COUNT(*) FROM message_history", &[]), 1);
}

#[test]
fn reactions_bump_seqno_and_clean_up() {
    let f = fixture();
    let c = &f.store;
    let m = post(c, f.room, f.alice, b"hi");
    assert_eq!(seqnos(c, m), (1, 1, 0, 1));
    c.sql_execute(
        "INSERT INTO message_reactions (message, reaction, \"user\") VALUES (?1, '❤', ?2)",
        params![m, f.bob],
    )
    .unwrap();
    assert_eq!(seqnos(c, m), (2, 1, 2, 1));
    c.sql_execute(
        "INSERT INTO message_reactions (message, reaction, \"user\") VALUES (?1, '❤', ?2)",
        params![m, f.alice],
    )
    .unwrap();
    assert_eq!(seqnos(c, m), (3, 1, 3, 1));
    assert_eq!(int(c, "SELECT COUNT(*) FROM reactions", &[]), 1);
    assert_eq!(
        int(
            c,
            "SELECT COUNT(*) FROM first_reactors WHERE _order >= 1",
            &[]
        ),
        2
    );
    c.sql_execute(
        "DELETE FROM user_reactions WHERE \"user\" = ?1",
        &[f.bob.into()],
    )
    .unwrap();
    assert_eq!(seqnos(c, m), (4, 1, 4, 1));
    assert_eq!(int(c, "SELECT COUNT(*) FROM reactions", &[]), 1);
    c.sql_execute(
        "DELETE FROM user_reactions WHERE \"user\" = ?1",
        &[f.alice.into()],
    )
    .unwrap();
    assert_eq!(seqnos(c, m), (5, 1, 5, 1));
    assert_eq!(
        int(c, "SELECT COUNT(*) FROM reactions", &[]),
        0,
        "empty reaction removed"
    );
    assert_eq!(sequence(c, f.room), 5);
    // Reactions are never updated in place.
    c.sql_execute(
        "INSERT INTO message_reactions (message, reaction, \"user\") VALUES (?1, 'x', ?2)",
        params![m, f.bob],
    )
    .unwrap();
    assert!(c
        .sql_execute("UPDATE reactions SET reaction = 'y'", &[])
        .is_err());
    assert!(c
        .sql_execute("UPDATE user_reactions SET at = 0", &[])
        .is_err());
}

#[test]
fn info_updates_on_room_changes() {
    let mut f = fixture();
    let start = info_updates(&f.store, f.room);
    f.store.set_room_name(f.room, "Lobby 2").unwrap();
    assert_eq!(info_updates(&f.store, f.room), start + 1);
    f.store.set_room_name(f.room, "Lobby 2").unwrap();
    assert_eq!(
        info_updates(&f.store, f.room),
        start + 1,
        "no change, no bump"
    );
    f.store.set_room_description(f.room, Some("about")).unwrap();
    assert_eq!(info_updates(&f.store, f.room), start + 2);
    // Default permissions are not room info.
    let perms = Permissions {
        write: Some(Some(false)),
        ..Permissions::default()
    };
    f.store.set_default_permissions(f.room, &perms).unwrap();
    assert_eq!(info_updates(&f.store, f.room), start + 2);
    assert!(!f.store.rooms().unwrap()[0].default_write);
}

#[test]
fn info_updates_on_moderator_changes() {
    let mut f = fixture();
    let c0 = info_updates(&f.store, f.room);
    let other0 = info_updates(&f.store, f.other_room);
    f.store
        .set_room_moderator(f.room, f.alice, Some(false), true)
        .unwrap();
    assert_eq!(info_updates(&f.store, f.room), c0 + 1);
    f.store
        .set_room_moderator(f.room, f.alice, Some(true), true)
        .unwrap();
    assert_eq!(info_updates(&f.store, f.room), c0 + 2);
    f.store.remove_room_moderator(f.room, f.alice).unwrap();
    assert_eq!(info_updates(&f.store, f.room), c0 + 3);
    assert_eq!(info_updates(&f.store, f.other_room), other0);
    assert!(
        f.store
            .permission_override(f.room, f.alice)
            .unwrap()
            .is_none(),
        "empty row removed"
    );

    // Global changes bump every room, hidden ones included.
    f.store.set_global_moderator(f.bob, false, false).unwrap();
    assert_eq!(info_updates(&f.store, f.room), c0 + 4);
    assert_eq!(info_updates(&f.store, f.other_room), other0 + 1);
    f.store.set_global_moderator(f.bob, false, true).unwrap();
    assert_eq!(info_updates(&f.store, f.other_room), other0 + 2);
    f.store.remove_global_moderator(f.bob).unwrap();
    assert_eq!(info_updates(&f.store, f.other_room), other0 + 3);
}

#[test]
fn pins_bump_info_updates_and_set_file_expiry() {
    let f = fixture();
    let c = &f.store;
    let m = post(c, f.room, f.alice, b"pin me");
    c.sql_execute(
        "INSERT INTO files (room, uploader, message, size, uploaded, path) VALUES (?1, ?2, ?3, 1, 1000.0, 'p')",
        params![f.room, f.alice, m],
    )
    .unwrap();
    let start = info_updates(c, f.room);
    c.sql_execute(
        "INSERT INTO pinned_messages (room, message, pinned_by) VALUES (?1, ?2, ?3)",
        params![f.room, m, f.alice],
    )
    .unwrap();
    assert_eq!(info_updates(c, f.room), start + 1);
    c.sql_execute("UPDATE pinned_messages SET pinned_by = ?1", &[f.bob.into()])
        .unwrap();
    assert_eq!(info_updates(c, f.room), start + 2);
    c.sql_execute("DELETE FROM pinned_messages", &[]).unwrap();
    assert_eq!(info_updates(c, f.room), start + 3);
    let expiry: f64 = c
        .sql_query_row("SELECT expiry FROM files", &[], |r| r.get(0))
        .unwrap();
    assert_eq!(expiry, 1000.0 + 15.0 * 86400.0);
}

#[test]
fn admin_implies_moderator() {
    let mut f = fixture();
    f.store.set_global_moderator(f.alice, true, false).unwrap();
    let alice = f.store.user_by_id(f.alice).unwrap().unwrap();
    assert!(alice.admin && alice.moderator);
    f.store
        .sql_execute(
            "UPDATE users SET moderator = FALSE WHERE id = ?1",
            &[f.alice.into()],
        )
        .unwrap();
    assert!(f.store.user_by_id(f.alice).unwrap().unwrap().moderator);
    f.store
        .sql_execute(
            "INSERT INTO users (session_id, admin) VALUES ('05ff', TRUE)",
            &[],
        )
        .unwrap();
    assert_eq!(
        int(
            &f.store,
            "SELECT moderator FROM users WHERE session_id = '05ff'",
            &[]
        ),
        1
    );
    f.store
        .sql_execute(
            "INSERT INTO user_permission_overrides (room, \"user\", admin) VALUES (?1, ?2, TRUE)",
            params![f.room, f.bob],
        )
        .unwrap();
    assert!(
        f.store
            .permission_override(f.room, f.bob)
            .unwrap()
            .unwrap()
            .moderator
    );
    let mods = f.store.room_moderators(f.room).unwrap();
    assert_eq!(mods.visible_admins, vec![BOB.to_owned()]);
}

#[test]
fn all_default_override_rows_are_deleted() {
    let mut f = fixture();
    let set = |v| Permissions {
        read: Some(v),
        write: Some(v),
        ..Permissions::default()
    };
    f.store
        .set_user_permissions(f.room, f.bob, &set(Some(false)))
        .unwrap();
    let o = f.store.permission_override(f.room, f.bob).unwrap().unwrap();
    assert_eq!(
        (o.read, o.write, o.upload),
        (Some(false), Some(false), None)
    );
    // Clearing one keeps the row; clearing the last removes it.
    f.store
        .set_user_permissions(
            f.room,
            f.bob,
            &Permissions {
                read: Some(None),
                ..Permissions::default()
            },
        )
        .unwrap();
    assert!(f
        .store
        .permission_override(f.room, f.bob)
        .unwrap()
        .is_some());
    f.store
        .set_user_permissions(
            f.room,
            f.bob,
            &Permissions {
                write: Some(None),
                ..Permissions::default()
            },
        )
        .unwrap();
    assert!(f
        .store
        .permission_override(f.room, f.bob)
        .unwrap()
        .is_none());
    // A mixed change on a new row keeps what it sets.
    let mixed = Permissions {
        read: Some(None),
        upload: Some(Some(true)),
        ..Permissions::default()
    };
    f.store
        .set_user_permissions(f.room, f.alice, &mixed)
        .unwrap();
    let o = f
        .store
        .permission_override(f.room, f.alice)
        .unwrap()
        .unwrap();
    assert_eq!((o.read, o.upload), (None, Some(true)));
    // Effective permissions through the view.
    let write = int(
        &f.store,
        "SELECT write FROM user_permissions WHERE room = ?1 AND \"user\" = ?2",
        params![f.room, f.alice],
    );
    assert_eq!(write, 1);
}

#[test]
fn room_ban_removes_room_users() {
    let f = fixture();
    let c = &f.store;
    c.sql_execute(
        "INSERT INTO room_users (room, \"user\") VALUES (?1, ?2), (?3, ?2)",
        params![f.room, f.bob, f.other_room],
    )
    .unwrap();
    c.sql_execute(
        "INSERT INTO user_permission_overrides (room, \"user\") VALUES (?1, ?2)",
        params![f.room, f.bob],
    )
    .unwrap();
    c.sql_execute(
        "UPDATE user_permission_overrides SET banned = TRUE WHERE room = ?1 AND \"user\" = ?2",
        params![f.room, f.bob],
    )
    .unwrap();
    assert_eq!(
        int(
            c,
            "SELECT COUNT(*) FROM room_users WHERE room = ?1",
            &[f.room.into()]
        ),
        0
    );
    assert_eq!(
        int(
            c,
            "SELECT COUNT(*) FROM room_users WHERE room = ?1",
            &[f.other_room.into()]
        ),
        1
    );
    assert_eq!(
        int(
            c,
            "SELECT banned FROM user_permissions WHERE room = ?1 AND \"user\" = ?2",
            params![f.room, f.bob]
        ),
        1
    );
}

#[test]
fn room_image_change_and_room_deletion_expire_files() {
    let mut f = fixture();
    let c = &f.store;
    for path in ["a", "b"] {
        c.sql_execute(
            "INSERT INTO files (room, size, path) VALUES (?1, 1, ?2)",
            params![f.room, path],
        )
        .unwrap();
    }
    c.sql_execute("UPDATE rooms SET image = 1 WHERE id = ?1", &[f.room.into()])
        .unwrap();
    c.sql_execute("UPDATE rooms SET image = 2 WHERE id = ?1", &[f.room.into()])
        .unwrap();
    let e1: Option<f64> = c
        .sql_query_row("SELECT expiry FROM files WHERE id = 1", &[], |r| r.get(0))
        .unwrap();
    assert_eq!(e1, Some(0.0));
    let m = post(c, f.room, f.alice, b"m");
    c.sql_execute(
        "INSERT INTO message_reactions (message, reaction, \"user\") VALUES (?1, 'x', ?2)",
        params![m, f.bob],
    )
    .unwrap();
    let stats = f.store.delete_room(&"LOBBY".parse().unwrap(), 0.0).unwrap();
    assert_eq!((stats.messages, stats.files), (1, 2));
    assert_eq!(stats.reactions, vec![("x".to_owned(), 1)]);
    let c = &f.store;
    assert_eq!(
        int(
            c,
            "SELECT COUNT(*) FROM files WHERE room IS NULL AND expiry = 0.0",
            &[]
        ),
        2
    );
    assert_eq!(int(c, "SELECT COUNT(*) FROM messages", &[]), 0);
    assert_eq!(f.store.rooms().unwrap().len(), 1);
}

#[test]
fn room_moderators_view_prefers_room_visibility() {
    let mut f = fixture();
    f.store.set_global_moderator(f.alice, false, true).unwrap();
    f.store
        .set_room_moderator(f.room, f.alice, Some(false), false)
        .unwrap();
    let c = &f.store;
    let vis = |room: i64| {
        int(
            c,
            "SELECT visible_mod FROM room_moderators WHERE room = ?1 AND \"user\" = ?2",
            params![room, f.alice],
        )
    };
    assert_eq!(vis(f.room), 0, "room-level hidden wins over global visible");
    assert_eq!(vis(f.other_room), 1);
}

/// Store functions that open their own write transaction, called inside `Store::atomic` (the
/// legacy `ban_and_delete_all`): their changes stay or go with the enclosing transaction.
#[test]
fn store_writes_inside_atomic_stay_or_go_together() {
    let mut f = fixture();
    let (room, bob) = (f.room, f.bob);
    let msg = post(&f.store, room, bob, b"hello");
    let banned = |s: &Store| {
        int(
            s,
            "SELECT COUNT(*) FROM user_permission_overrides WHERE room = ?1 AND \"user\" = ?2
             AND banned",
            params![room, bob],
        )
    };
    let live = |s: &Store| {
        int(
            s,
            "SELECT COUNT(*) FROM messages WHERE id = ?1 AND data IS NOT NULL",
            params![msg],
        )
    };

    // A failure after both writes undoes both.
    let failed = f.store.atomic(|s| {
        s.ban_from_room(room, bob, None)?;
        s.delete_all_posts(room, bob)?;
        s.sql_execute("INSERT INTO no_such_table VALUES (1)", &[])
    });
    assert!(failed.is_err());
    assert_eq!((banned(&f.store), live(&f.store)), (0, 1));

    // Success keeps both, and the store still opens top-level transactions afterwards.
    f.store
        .atomic(|s| {
            s.ban_from_room(room, bob, None)?;
            s.delete_all_posts(room, bob)
        })
        .unwrap();
    assert_eq!((banned(&f.store), live(&f.store)), (1, 0));
    assert!(f.store.unban_from_room(room, bob).unwrap());
    assert_eq!(banned(&f.store), 0);
}

/// A poll records the user's room activity once a minute, not on every request: the row is
/// created at once, left alone by polls within 60 s, and moved on by a later one.
#[test]
fn room_activity_is_written_at_most_once_a_minute() {
    let mut f = fixture();
    let (room, alice) = (f.room, f.alice);
    let last_active = |s: &Store| -> f64 {
        s.sql_query_row(
            "SELECT last_active FROM room_users WHERE room = ?1 AND \"user\" = ?2",
            params![room, alice],
            |r| r.get(0),
        )
        .unwrap()
    };
    let t0 = 1_800_000_000.0;
    f.store.touch_room_activity(room, alice, t0).unwrap();
    f.store
        .sql_execute(
            "UPDATE room_users SET last_active = ?3 WHERE room = ?1 AND \"user\" = ?2",
            params![room, alice, t0],
        )
        .unwrap();
    f.store.touch_room_activity(room, alice, t0 + 59.0).unwrap();
    assert_eq!(last_active(&f.store), t0);
    f.store.touch_room_activity(room, alice, t0 + 61.0).unwrap();
    assert_eq!(last_active(&f.store), t0 + 61.0);
    // Another room is its own row.
    f.store
        .touch_room_activity(f.other_room, alice, t0 + 62.0)
        .unwrap();
    assert_eq!(last_active(&f.store), t0 + 61.0);
}

/// Authentication records the user's activity (`users.last_active`) once a minute, like the
/// room activity above: requests within 60 s leave it, a later one moves it on.
#[test]
fn user_activity_is_written_at_most_once_a_minute() {
    let mut f = fixture();
    let alice = f.alice;
    let last_active = |s: &Store| -> f64 {
        s.sql_query_row(
            "SELECT last_active FROM users WHERE id = ?1",
            params![alice],
            |r| r.get(0),
        )
        .unwrap()
    };
    let t0 = 1_800_000_000.0;
    f.store
        .sql_execute(
            "UPDATE users SET last_active = ?2 WHERE id = ?1",
            params![alice, t0],
        )
        .unwrap();
    let auth = |s: &mut Store, nonce: u8, now: f64| {
        let outcome = s
            .authenticate(ALICE, false, &[nonce; 16], true, now)
            .unwrap();
        assert!(matches!(outcome, AuthOutcome::Ok(u) if u.id == alice));
    };
    auth(&mut f.store, 1, t0 + 59.0);
    assert_eq!(last_active(&f.store), t0);
    auth(&mut f.store, 2, t0 + 61.0);
    assert_eq!(last_active(&f.store), t0 + 61.0);
    auth(&mut f.store, 3, t0 + 62.0);
    assert_eq!(last_active(&f.store), t0 + 61.0);
    // `touch_user` (legacy token requests) follows the same rule.
    f.store.touch_user(alice, t0 + 100.0).unwrap();
    assert_eq!(last_active(&f.store), t0 + 61.0);
    f.store.touch_user(alice, t0 + 122.0).unwrap();
    assert_eq!(last_active(&f.store), t0 + 122.0);
}

/// A panic inside `Store::atomic` (a bug) undoes the transaction's writes and leaves the store
/// as it was: later writes are top-level again and stay.
#[test]
fn a_panic_inside_atomic_rolls_back_and_leaves_the_store_usable() {
    let mut f = fixture();
    let (room, bob) = (f.room, f.bob);
    let banned = |s: &Store| {
        int(
            s,
            "SELECT COUNT(*) FROM user_permission_overrides WHERE room = ?1 AND \"user\" = ?2
             AND banned",
            params![room, bob],
        )
    };
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: sotto_sogs::Result<()> = f.store.atomic(|s| {
            s.ban_from_room(room, bob, None)?;
            panic!("a bug");
        });
    }));
    assert!(panicked.is_err());
    assert_eq!(banned(&f.store), 0);
    // Not inside the abandoned transaction any more: later writes are top-level and stay.
    f.store.ban_from_room(room, bob, None).unwrap();
    assert_eq!(banned(&f.store), 1);
    let msg = post(&f.store, room, bob, b"after");
    assert!(msg > 0);
}
