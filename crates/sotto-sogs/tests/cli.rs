//! The `sogs` binary end to end, in a scratch directory (as PySOGS: `sogs.db` and
//! `key_x25519` in the current directory unless `sogs.ini` says otherwise).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use assert_cmd::Command;
use tempfile::TempDir;

const ALICE: &str = "05c506fee5118680107a4722f60a05dfcbb5737d6ffc4d163fb60479e279c6095d";
const BOB: &str = "15cef185d46b60a548641bd8c5baa4b7cf90b7da8e883c0ac774c703d249086479";

fn sogs(dir: &TempDir) -> Command {
    let mut cmd = Command::cargo_bin("sogs").unwrap();
    cmd.current_dir(dir.path())
        .env_remove("SOGS_CONFIG")
        .env_remove("RUST_LOG");
    cmd
}

/// Run, returning (exit code, stdout, stderr).
fn run(dir: &TempDir, args: &[&str]) -> (i32, String, String) {
    let out = sogs(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn initialized() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&dir, &["--initialize"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "Database schema created.");
    dir
}

fn pubkey_hex(dir: &TempDir) -> String {
    hex::encode(
        sotto_sogs::keys::ServerKeys::load(&dir.path().join("key_x25519"))
            .unwrap()
            .x25519_public()
            .0,
    )
}

#[test]
fn needs_a_database_first() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&dir, &["-L"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("sqlite:///sogs.db database does not exist"),
        "{err}"
    );
    assert!(!dir.path().join("sogs.db").exists());
}

#[test]
fn initialize_once() {
    let dir = initialized();
    assert!(dir.path().join("sogs.db").exists());
    assert_eq!(
        std::fs::read(dir.path().join("key_x25519")).unwrap().len(),
        32
    );
    let (code, _, err) = run(&dir, &["--initialize"]);
    assert_eq!(code, 1);
    assert!(err.contains("tables already exist"), "{err}");
}

#[test]
fn add_and_list_rooms() {
    let dir = initialized();
    let (code, out, _) = run(&dir, &["-L"]);
    assert_eq!((code, out.trim()), (0, "No rooms."));
    let (code, out, err) = run(
        &dir,
        &[
            "--add-room",
            "lobby",
            "--name",
            "The Lobby",
            "--description",
            "line1\\nline2",
            "--remove-perms",
            "u",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Created room lobby:"), "{out}");
    let url = format!(
        "URL: http://example.net/lobby?public_key={}",
        pubkey_hex(&dir)
    );
    assert!(out.contains(&url), "{out}");
    assert!(out.contains("Name: The Lobby"));
    assert!(out.contains("Description: line1\nline2"));
    assert!(
        out.contains("Default permissions: +read, +write, -upload, +accessible"),
        "{out}"
    );
    assert!(out.contains("Messages: 0 (0.0 MB)"));
    run(&dir, &["--add-room", "second"]);
    let (code, out, _) = run(&dir, &["--list-rooms"]);
    assert_eq!(code, 0);
    let lobby = out.find("\nlobby\n=====\n").unwrap();
    let second = out.find("\nsecond\n======\nName: second\n").unwrap();
    assert!(lobby < second, "sorted by token: {out}");
    // Duplicate (case-insensitive) token.
    let (code, _, err) = run(&dir, &["--add-room", "LOBBY"]);
    assert_eq!(code, 1);
    assert!(err.contains("room 'LOBBY' already exists"), "{err}");
}

#[test]
fn bad_room_token() {
    let dir = initialized();
    for token in ["has space", "dots.not.allowed", &"x".repeat(65)] {
        let (code, _, err) = run(&dir, &["--add-room", token]);
        assert_eq!(code, 1, "{token}");
        assert!(
            err.starts_with("Error: room tokens may only contain"),
            "{err}"
        );
    }
    let (code, _, err) = run(&dir, &["--rooms", "nope", "--add-moderators", ALICE]);
    assert_eq!(code, 1);
    assert!(err.contains("no such room: 'nope'"), "{err}");
}

#[test]
fn moderators_room_and_global() {
    let dir = initialized();
    run(&dir, &["--add-room", "lobby"]);
    let (code, out, err) = run(
        &dir,
        &["--rooms", "lobby", "--add-moderators", BOB, "--admin"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        format!("Added {BOB} as visible admin of lobby (lobby)")
    );
    let (code, out, _) = run(
        &dir,
        &["--rooms", "lobby", "--add-moderators", ALICE, "--hidden"],
    );
    assert_eq!(code, 0);
    // With blinding required and no blinded account known yet, the 05 ID is used as given.
    assert_eq!(
        out.trim(),
        format!("Added {ALICE} as hidden moderator of lobby (lobby)")
    );
    let (_, out, _) = run(&dir, &["-L", "-v"]);
    assert!(
        out.contains("Moderators: 1 admins (0 hidden), 1 moderators (1 hidden):"),
        "{out}"
    );
    assert!(out.contains(&format!("    - {BOB} (admin)")));
    assert!(out.contains(&format!("    - {ALICE} (hidden moderator)")));

    let (code, out, _) = run(&dir, &["--rooms=+", "--add-moderators", ALICE]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        format!("Added {ALICE} as hidden global moderator")
    );
    let (_, out, _) = run(
        &dir,
        &[
            "--rooms",
            "+",
            "--add-moderators",
            BOB,
            "--admin",
            "--visible",
        ],
    );
    assert_eq!(out.trim(), format!("Added {BOB} as visible global admin"));
    let (code, out, _) = run(&dir, &["-M"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!("1 global admins (0 hidden), 1 moderators (1 hidden):\n- {BOB} (admin)\n- {ALICE} (hidden moderator)\n")
    );

    let (_, out, _) = run(&dir, &["--rooms", "+", "--delete-moderators", BOB, ALICE]);
    assert_eq!(
        out,
        format!("Removed {BOB} as global admin\nRemoved {ALICE} as global moderator\n")
    );
    let (_, out, _) = run(&dir, &["--rooms", "+", "--delete-moderators", BOB]);
    assert_eq!(out.trim(), format!("{BOB} was not a global moderator"));
    let (_, out, _) = run(&dir, &["--rooms", "lobby", "--delete-moderators", ALICE]);
    assert_eq!(
        out.trim(),
        format!("Removed {ALICE} as moderator/admin of lobby (lobby)")
    );
    let (_, out, _) = run(&dir, &["-L"]);
    assert!(
        out.contains("Moderators: 1 admins (0 hidden), 0 moderators (0 hidden)\n"),
        "{out}"
    );
}

#[test]
fn bad_session_id() {
    let dir = initialized();
    run(&dir, &["--add-room", "lobby"]);
    let bad = format!("25{}", &ALICE[2..]);
    for id in ["05abc", bad.as_str(), "hello"] {
        let (code, _, err) = run(&dir, &["--rooms", "lobby", "--add-moderators", id]);
        assert_eq!(code, 1, "{id}");
        assert_eq!(
            err.trim(),
            format!("Error: '{id}' is not a valid session id")
        );
    }
}

#[test]
fn permissions() {
    let dir = initialized();
    run(&dir, &["--add-room", "a"]);
    run(&dir, &["--add-room", "b"]);
    let (code, out, err) = run(
        &dir,
        &["--rooms", "*", "--add-perms", "r", "--remove-perms", "wu"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Enabled default read permission in a\nDisabled default write permission in a\nDisabled default upload permission in a\n"), "{out}");
    assert!(out.contains("in b\n"));
    let (code, out, _) = run(&dir, &["--rooms", "a", "--add-perms", "w", "--users", BOB]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        format!("Updated room permissions for {BOB} in a")
    );
    let (code, _, err) = run(&dir, &["--rooms", "a", "--add-perms", "rx"]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid permission flag 'x'"), "{err}");
    let (code, _, err) = run(
        &dir,
        &["--rooms", "a", "--add-perms", "r", "--remove-perms", "r"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("more than one permission set"), "{err}");
    let (code, _, err) = run(&dir, &["--rooms", "+", "--add-perms", "r"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot be '+'"), "{err}");
    let (code, _, err) = run(&dir, &["--rooms", "a", "--clear-perms", "r"]);
    assert_eq!(code, 1);
    assert!(err.contains("needs --users"), "{err}");
}

#[test]
fn rename_and_describe() {
    let dir = initialized();
    run(&dir, &["--add-room", "lobby"]);
    let (code, out, _) = run(
        &dir,
        &[
            "--rooms",
            "lobby",
            "--name",
            "New Name",
            "--description",
            "d",
        ],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("Updated lobby description to:\n\nd\n"),
        "{out}"
    );
    assert!(
        out.contains("Changed lobby name from 'lobby' to 'New Name'"),
        "{out}"
    );
    let (code, _, err) = run(&dir, &["--rooms", "*", "--name", "x"]);
    assert_eq!(code, 1);
    assert!(err.contains("with --name"), "{err}");
}

#[test]
fn delete_room() {
    let dir = initialized();
    run(&dir, &["--add-room", "lobby"]);
    let out = sogs(&dir)
        .args(["--delete-room", "lobby"])
        .write_stdin("n\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Aborted."));
    let (code, out, _) = run(&dir, &["--delete-room", "lobby", "--yes"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("\nlobby\n=====\n") && out.trim_end().ends_with("Room deleted."),
        "{out}"
    );
    let (code, _, err) = run(&dir, &["--delete-room", "lobby", "--yes"]);
    assert_eq!(code, 1);
    assert!(err.contains("no such room 'lobby'"), "{err}");
}

#[test]
fn check_upgrades_exit_codes() {
    let dir = initialized();
    let (code, out, _) = run(&dir, &["--check-upgrades"]);
    assert_eq!((code, out.trim()), (0, "No database upgrades required."));
    let (code, out, _) = run(&dir, &["-U"]);
    assert_eq!((code, out.trim()), (0, "No database upgrades required."));
    // Turn it into an older PySOGS database (no room_moderators view, no bookkeeping).
    let conn = rusqlite::Connection::open(dir.path().join("sogs.db")).unwrap();
    conn.execute_batch("DROP TABLE sotto_migrations; DROP VIEW room_moderators;")
        .unwrap();
    drop(conn);
    let (code, _, err) = run(&dir, &["--check-upgrades"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("database upgrades are required"), "{err}");
    let (code, _, _) = run(&dir, &["-L"]);
    assert_eq!(code, 5, "other commands refuse too");
    let (code, _, err) = run(&dir, &["--upgrade"]);
    assert_eq!(code, 1);
    assert!(err.contains("upgrade it with PySOGS"), "{err}");
}

#[test]
fn argument_errors() {
    let dir = initialized();
    let (code, _, err) = run(&dir, &["-L", "-M"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("--list-rooms and --list-global-mods are incompatible"),
        "{err}"
    );
    let (code, _, err) = run(&dir, &["--add-moderators", ALICE]);
    assert_eq!(code, 1);
    assert!(err.contains("a room must be specified"), "{err}");
    let (code, _, err) = run(&dir, &["--rooms", "x", "-L"]);
    assert_eq!(code, 1);
    assert!(err.contains("--rooms specified without"), "{err}");
    let (code, _, err) = run(&dir, &["--rooms", "x", "+", "--add-moderators", ALICE]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot be used with other rooms"), "{err}");
    let (code, _, _) = run(&dir, &[]);
    assert_eq!(code, 1);
    let (code, out, _) = run(&dir, &["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("sogs "), "{out}");
}

#[test]
fn config_file_is_used() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sogs.ini"),
        "[db]\nurl = sqlite:///other.db\n[crypto]\nkey_file = mykey\n[net]\nbase_url = https://chat.example\n",
    )
    .unwrap();
    assert_eq!(run(&dir, &["--initialize"]).0, 0);
    assert!(dir.path().join("other.db").exists() && dir.path().join("mykey").exists());
    let (_, out, _) = run(&dir, &["--add-room", "r"]);
    assert!(
        out.contains("URL: https://chat.example/r?public_key="),
        "{out}"
    );
    let (code, _, err) = run(&dir, &["--list-rooms"]);
    assert_eq!(code, 0, "{err}");

    let missing = dir.path().join("missing.ini");
    let out = sogs(&dir)
        .env("SOGS_CONFIG", &missing)
        .arg("-L")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("path does not exist"));

    std::fs::write(
        dir.path().join("bad.ini"),
        "[net]\nhttp_show_index = perhaps\n",
    )
    .unwrap();
    let out = sogs(&dir)
        .env("SOGS_CONFIG", "bad.ini")
        .arg("-L")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[net] http_show_index"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}

#[test]
fn serve_refuses_testing_mode_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sogs.ini"), "[testing]\nenabled = yes\n").unwrap();
    let (code, _, err) = run(&dir, &["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(code, 1);
    assert!(err.contains("loopback"), "{err}");
}

#[test]
fn listing_into_a_closed_pipe_exits_quietly() {
    // `sogs -L | head`: the reader goes away while we write. Enough rooms that the listing
    // overflows the pipe's buffer, so the write hits the closed pipe whatever the timing.
    const ROOMS: usize = 400;
    let dir = initialized();
    {
        let mut store = sotto_sogs::store::Store::open(&dir.path().join("sogs.db")).unwrap();
        for i in 0..ROOMS {
            let token: sotto_sogs::ids::RoomToken = format!("room{i}").parse().unwrap();
            store
                .add_room(&token, "A room", Some("with a description"))
                .unwrap();
        }
    }
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sogs"))
        .current_dir(dir.path())
        .env_remove("SOGS_CONFIG")
        .env_remove("RUST_LOG")
        .arg("-L")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line (the listing has started), then close our end.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.is_empty(), "{err}");
    assert_eq!(out.status.code(), Some(0));

    // The whole listing, read to the end, is as long as expected.
    let (code, out, _) = run(&dir, &["-L"]);
    assert_eq!(code, 0);
    assert!(out.len() > 64 * 1024, "{} bytes", out.len());
    assert_eq!(out.matches("\nURL: ").count(), ROOMS);
}
