//! The `sogs` binary's Sotto-only actions: API tokens (shown once, stored hashed, revoked at
//! once for a running server) and server-wide bans with purge, listed and lifted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use axum::body::Body;
use axum::http::Request;
use sotto_sogs::api::{self, AppState};
use sotto_sogs::config::Config;
use sotto_sogs::ids::AccountId;
use sotto_sogs::keys::ServerKeys;
use sotto_sogs::store::{NewPost, Store};
use tempfile::TempDir;
use tower::ServiceExt as _;

const ALICE: &str = "05c506fee5118680107a4722f60a05dfcbb5737d6ffc4d163fb60479e279c6095d";

fn run(dir: &TempDir, args: &[&str]) -> (i32, String, String) {
    common::run_sogs(dir.path(), args)
}

fn ok(dir: &TempDir, args: &[&str]) -> String {
    let (code, out, err) = run(dir, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

fn initialized() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    ok(&dir, &["--initialize"]);
    ok(&dir, &["--add-room", "lobby"]);
    ok(&dir, &["--add-room", "other"]);
    dir
}

/// A server state over the CLI's database, as `sogs serve` in that directory would have.
fn state(dir: &TempDir) -> AppState {
    let config = Config {
        db_url: format!("sqlite:///{}", dir.path().join("sogs.db").display()),
        key_file: dir.path().join("key_x25519"),
        uploads_dir: dir.path().join("uploads"),
        ..Config::default()
    };
    let keys = ServerKeys::load(&config.key_file).unwrap();
    let store = Store::open(&config.sqlite_path().unwrap()).unwrap();
    AppState::new(config, keys, store)
}

async fn get(state: &AppState, uri: &str, token: &str) -> u16 {
    let req = Request::builder()
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    api::router(state.clone())
        .oneshot(req)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn api_tokens_shown_once_stored_hashed_revoked_at_once() {
    let dir = initialized();
    let out = ok(&dir, &["--add-api-token", "helper", "--rooms", "lobby"]);
    let token = out.lines().last().unwrap().trim().to_owned();
    assert!(token.starts_with("sotto_") && token.len() > 40, "{out}");
    // Stored hashed: the token text is nowhere in the database file.
    let db = std::fs::read(dir.path().join("sogs.db")).unwrap();
    let wal = std::fs::read(dir.path().join("sogs.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
    }
    let listed = ok(&dir, &["--list-api-tokens"]);
    assert!(
        listed.contains("helper") && listed.contains("rooms: lobby"),
        "{listed}"
    );
    assert!(listed.contains("live"));
    assert!(!listed.contains(&token));

    let state = state(&dir);
    assert_eq!(get(&state, "/room/lobby", &token).await, 200);
    assert_eq!(get(&state, "/room/other", &token).await, 403);

    // Duplicates, bad rooms and bad names are refused.
    let (code, _, err) = run(&dir, &["--add-api-token", "helper"]);
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = run(&dir, &["--add-api-token", "x", "--rooms", "nosuch"]);
    assert_eq!(code, 1);
    assert!(err.contains("no such room"), "{err}");
    let (code, _, _) = run(&dir, &["--add-api-token", ""]);
    assert_eq!(code, 1);
    let long = "n".repeat(65);
    assert_eq!(run(&dir, &["--add-api-token", &long]).0, 1);

    // Revocation reaches the running server without a restart.
    let out = ok(&dir, &["--revoke-api-token", "helper"]);
    assert!(out.contains("Revoked"));
    assert_eq!(get(&state, "/room/lobby", &token).await, 401);
    let (code, _, err) = run(&dir, &["--revoke-api-token", "helper"]);
    assert_eq!(code, 1);
    assert!(err.contains("no live API token"), "{err}");
    assert!(ok(&dir, &["--list-api-tokens"]).contains("revoked"));

    // The name may be reused once revoked; the new token is a different one.
    let out = ok(&dir, &["--add-api-token", "helper", "--admin"]);
    let second = out.lines().last().unwrap().trim().to_owned();
    assert_ne!(second, token);
    assert_eq!(get(&state, "/room/other", &second).await, 200);
    assert_eq!(get(&state, "/room/other", &token).await, 401);
}

#[test]
fn global_ban_purge_list_and_unban() {
    let dir = initialized();
    assert_eq!(ok(&dir, &["--list-bans"]).trim(), "No bans.");
    // Alice posted in two rooms before blinding (an unblinded account row).
    {
        let mut store = Store::open(&dir.path().join("sogs.db")).unwrap();
        let alice = store
            .get_or_create_user(&ALICE.parse::<AccountId>().unwrap())
            .unwrap();
        for token in ["lobby", "other"] {
            let room = store.room(&token.parse().unwrap()).unwrap().unwrap();
            store
                .insert_post(
                    &NewPost {
                        room: room.id,
                        user: alice.id,
                        data: b"spam",
                        signature: &[0u8; 64],
                        filtered: false,
                        whisper: None,
                        whisper_mods: false,
                        now: 1.0,
                    },
                    &[],
                    None,
                )
                .unwrap();
        }
    }
    let (code, _, err) = run(&dir, &["--purge"]);
    assert_ne!(code, 0, "--purge alone is refused");
    assert!(err.contains("--ban-global"), "{err}");
    let (code, _, err) = run(&dir, &["--ban-global", "05nothex"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a valid session id"), "{err}");

    let out = ok(&dir, &["--ban-global", ALICE, "--purge"]);
    assert!(out.contains("Deleted 2"), "{out}");
    let store = Store::open(&dir.path().join("sogs.db")).unwrap();
    let live: i64 = store
        .connection()
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM messages WHERE data IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(live, 0);
    let listed = ok(&dir, &["--list-bans"]);
    assert!(
        listed.contains(ALICE) && listed.contains("server-wide"),
        "{listed}"
    );

    ok(&dir, &["--unban-global", ALICE]);
    assert_eq!(ok(&dir, &["--list-bans"]).trim(), "No bans.");
    let (code, _, err) = run(&dir, &["--unban-global", ALICE]);
    assert_eq!(code, 1);
    assert!(err.contains("not banned"), "{err}");

    // Room bans are listed too, with their scheduled unban.
    {
        let mut store = Store::open(&dir.path().join("sogs.db")).unwrap();
        let alice = store.user_by_session_id(ALICE).unwrap().unwrap();
        let room = store.room(&"other".parse().unwrap()).unwrap().unwrap();
        store.ban_from_room(room.id, alice.id, Some(4e9)).unwrap();
    }
    let listed = ok(&dir, &["--list-bans"]);
    assert_eq!(
        listed.trim(),
        format!("{ALICE} in other (until 4000000000)"),
        "{listed}"
    );
}
