//! `sotto community` end to end: four standalone `sotto-node`s on loopback and the real `sogs`
//! server; two profiles join a room, post and read each other's posts through 3-hop onion
//! paths (signed with blinded IDs), exchange a blinded DM, and get clear errors for bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{ok, sotto};
use serde_json::Value;
use sotto_crypto::Identity;
use sotto_testkit::{workspace_bin, StaticNetwork};

/// The error line of a command that must fail.
fn fails(args: &[&str]) -> String {
    let out = sotto(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A running `sogs serve`, killed when dropped.
struct Sogs {
    child: Child,
    addr: String,
    pubkey: String,
}

impl Drop for Sogs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sogs_cmd(bin: &Path, dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(bin);
    cmd.current_dir(dir)
        .env_remove("SOGS_CONFIG")
        .env("RUST_LOG", "warn");
    cmd
}

/// A community server with the rooms `lobby` (open) and `news` (read-only by default).
fn start_sogs(dir: &Path) -> Sogs {
    start_sogs_with(dir, "")
}

/// [`start_sogs`] with extra `sogs.ini` lines.
fn start_sogs_with(dir: &Path, ini: &str) -> Sogs {
    let bin = workspace_bin(env!("CARGO_BIN_EXE_sotto"), "sogs").unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("sogs.ini"),
        format!("[log]\nlevel = WARNING\n{ini}"),
    )
    .unwrap();
    for args in [
        &["--initialize"][..],
        &["--add-room", "lobby", "--name", "Lobby"][..],
        &[
            "--add-room",
            "news",
            "--name",
            "News",
            "--remove-perms",
            "w",
        ][..],
    ] {
        let out = sogs_cmd(&bin, dir).args(args).output().unwrap();
        assert!(out.status.success(), "sogs {args:?}: {out:?}");
    }
    // The server key, from the join URLs `sogs -L` prints.
    let listing = sogs_cmd(&bin, dir).arg("-L").output().unwrap();
    let listing = String::from_utf8(listing.stdout).unwrap();
    let pubkey = listing
        .split("?public_key=")
        .nth(1)
        .map(|rest| rest.chars().take(64).collect::<String>())
        .unwrap_or_else(|| panic!("no join URL in {listing}"));
    let mut child = sogs_cmd(&bin, dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Sogs {
        child,
        addr,
        pubkey,
    }
}

/// `sotto community join`, retried (bounded) while the nodes have not yet read the node list
/// (they re-read the file a moment after it changes, so the first paths may fail).
fn join_when_ready(profile: &str, url: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = sotto(&["community", "join", url, "--profile", profile, "--json"]);
        if out.status.success() {
            return serde_json::from_slice(&out.stdout).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "join never worked: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn two_people_use_a_community_through_onion_paths() {
    let node = workspace_bin(env!("CARGO_BIN_EXE_sotto"), "sotto-node").unwrap();
    let net = StaticNetwork::start(&node, 4).unwrap();
    // The static node list is also a network description (its `service_node_states`).
    let network = net.list.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sogs = start_sogs(&dir.path().join("sogs"));
    let url = format!("http://{}/lobby?public_key={}", sogs.addr, sogs.pubkey);

    let (alice_dir, bob_dir) = (dir.path().join("alice"), dir.path().join("bob"));
    let (alice_p, bob_p) = (alice_dir.to_str().unwrap(), bob_dir.to_str().unwrap());
    let alice: Value = serde_json::from_str(&ok(&[
        "init",
        "--profile",
        alice_p,
        "--network",
        network,
        "--name",
        "Alice",
        "--json",
    ]))
    .unwrap();
    ok(&["init", "--profile", bob_p, "--network", network, "--json"]);

    // Joining checks the room through an onion path and learns that the server blinds IDs.
    let joined = join_when_ready(alice_p, &url);
    assert_eq!(joined["room"], "lobby");
    assert_eq!(joined["name"], "Lobby");
    assert_eq!(joined["url"], url.as_str());
    assert!(
        joined["capabilities"]
            .as_array()
            .unwrap()
            .contains(&"blind".into()),
        "{joined}"
    );
    let alice_id = joined["id"].as_str().unwrap().to_owned();
    assert!(
        alice_id.starts_with("15") && alice_id.len() == 66,
        "{alice_id}"
    );
    let bob_id = join_when_ready(bob_p, &url)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(alice_id, bob_id);

    let rooms: Value =
        serde_json::from_str(&ok(&["community", "rooms", "--profile", alice_p, "--json"])).unwrap();
    assert_eq!(rooms.as_array().unwrap().len(), 1, "{rooms}");
    assert_eq!(rooms[0]["url"], url.as_str());
    assert_eq!(rooms[0]["id"], alice_id.as_str());

    // Posts, each a signed padded Content, read back verified by the other profile.
    let posted: Value = serde_json::from_str(&ok(&[
        "community",
        "post",
        "lobby",
        "hello from Alice",
        "--profile",
        alice_p,
        "--json",
    ]))
    .unwrap();
    assert!(posted["id"].as_i64().is_some(), "{posted}");
    ok(&["community", "post", "lobby", "hi Alice", "--profile", bob_p]);
    let read = json_lines(&ok(&[
        "community",
        "read",
        "lobby",
        "--profile",
        bob_p,
        "--json",
    ]));
    assert_eq!(read.len(), 2, "{read:?}");
    assert_eq!(read[0]["text"], "hello from Alice");
    assert_eq!(read[0]["author"], alice_id.as_str());
    assert_eq!(read[0]["name"], "Alice");
    assert_eq!(read[0]["id"], posted["id"]);
    assert_eq!(read[1]["text"], "hi Alice");
    assert_eq!(read[1]["author"], bob_id.as_str());
    assert!(read[0]["posted"].as_f64().unwrap() > 0.0);
    // Reading again: nothing new.
    assert_eq!(
        ok(&["community", "read", "lobby", "--profile", bob_p, "--json"]),
        ""
    );
    let alice_read = json_lines(&ok(&[
        "community",
        "read",
        "lobby",
        "--profile",
        alice_p,
        "--json",
    ]));
    assert_eq!(alice_read.len(), 2, "{alice_read:?}");

    // Watching: Bob's reader stops once the next post arrives (bounded by --max-polls).
    let watcher = {
        let bob_p = bob_p.to_owned();
        std::thread::spawn(move || {
            ok(&[
                "community",
                "read",
                "lobby",
                "--watch",
                "--count",
                "1",
                "--interval-ms",
                "200",
                "--max-polls",
                "300",
                "--profile",
                &bob_p,
                "--json",
            ])
        })
    };
    ok(&["community", "post", "lobby", "third", "--profile", alice_p]);
    let watched = json_lines(&watcher.join().unwrap());
    assert_eq!(watched.len(), 1, "{watched:?}");
    assert_eq!(watched[0]["text"], "third");

    // A blinded DM: Alice writes to Bob's blinded ID; Bob's inbox decrypts it and learns
    // Alice's real Session ID.
    let sent: Value = serde_json::from_str(&ok(&[
        "community",
        "dm",
        &bob_id,
        "just for you",
        "--profile",
        alice_p,
        "--json",
    ]))
    .unwrap();
    assert!(sent["id"].as_i64().is_some(), "{sent}");
    let dms = json_lines(&ok(&["community", "inbox", "--profile", bob_p, "--json"]));
    assert_eq!(dms.len(), 1, "{dms:?}");
    assert_eq!(dms[0]["text"], "just for you");
    assert_eq!(dms[0]["from"], alice_id.as_str());
    assert_eq!(dms[0]["session_id"], alice["session_id"]);
    assert_eq!(dms[0]["name"], "Alice");
    assert_eq!(
        ok(&["community", "inbox", "--profile", bob_p, "--json"]),
        "",
        "the inbox remembers what was read"
    );
    // Watching the inbox: Bob's watcher stops once Alice's next DM arrives.
    let watcher = {
        let bob_p = bob_p.to_owned();
        std::thread::spawn(move || {
            ok(&[
                "community",
                "inbox",
                "--watch",
                "--count",
                "1",
                "--interval-ms",
                "200",
                "--max-polls",
                "300",
                "--profile",
                &bob_p,
                "--json",
            ])
        })
    };
    ok(&["community", "dm", &bob_id, "one more", "--profile", alice_p]);
    let watched = json_lines(&watcher.join().unwrap());
    assert_eq!(watched.len(), 1, "{watched:?}");
    assert_eq!(watched[0]["text"], "one more");
    // Alice's inbox is empty (the DM is in her outbox, not her inbox).
    assert_eq!(
        ok(&["community", "inbox", "--profile", alice_p, "--json"]),
        ""
    );

    // --direct: plain HTTP to the same server gives the same view.
    ok(&[
        "community",
        "post",
        "lobby",
        "over plain HTTP",
        "--direct",
        "--profile",
        alice_p,
    ]);
    let direct = json_lines(&ok(&[
        "community",
        "read",
        "lobby",
        "--direct",
        "--profile",
        bob_p,
        "--json",
    ]));
    assert_eq!(direct.len(), 1, "{direct:?}");
    assert_eq!(direct[0]["text"], "over plain HTTP");

    // Bad input gives clear errors.
    let base = format!("http://{}", sogs.addr);
    let err = fails(&["community", "join", "lobby", "--profile", alice_p]);
    assert!(err.contains("not a URL"), "{err}");
    let err = fails(&[
        "community",
        "join",
        &format!("{base}/lobby"),
        "--profile",
        alice_p,
    ]);
    assert!(err.contains("missing ?public_key="), "{err}");
    let err = fails(&[
        "community",
        "join",
        &format!("{base}/lobby?public_key=abcd"),
        "--profile",
        alice_p,
    ]);
    assert!(err.contains("64 hex characters"), "{err}");
    let err = fails(&[
        "community",
        "join",
        &format!("{base}/nosuch?public_key={}", sogs.pubkey),
        "--profile",
        alice_p,
    ]);
    assert!(err.contains("no room \"nosuch\""), "{err}");
    // A wrong server key: the onion request is encrypted to a key the server does not hold.
    let wrong_key = Identity::from_ed25519_seed(&[7; 32])
        .x25519_public()
        .to_hex();
    let err = fails(&[
        "community",
        "join",
        &format!("{base}/lobby?public_key={wrong_key}"),
        "--profile",
        alice_p,
    ]);
    assert!(err.contains("is public_key right?"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    // Over plain HTTP, the signature (over the server key) is what fails.
    let err = fails(&[
        "community",
        "join",
        &format!("{base}/lobby?public_key={wrong_key}"),
        "--direct",
        "--profile",
        alice_p,
    ]);
    assert!(err.contains("401"), "{err}");
    // Neither failed join was remembered.
    let rooms: Value =
        serde_json::from_str(&ok(&["community", "rooms", "--profile", alice_p, "--json"])).unwrap();
    assert_eq!(rooms.as_array().unwrap().len(), 1, "{rooms}");

    let err = fails(&["community", "read", "elsewhere", "--profile", alice_p]);
    assert!(err.contains("not joined"), "{err}");
    let err = fails(&["community", "dm", "05abc", "hi", "--profile", alice_p]);
    assert!(err.contains("not a blinded ID"), "{err}");
    // A blinded ID the server never saw has no inbox.
    let stranger = format!(
        "15{}",
        Identity::from_ed25519_seed(&[9; 32])
            .ed25519_public()
            .to_hex()
    );
    let err = fails(&["community", "dm", &stranger, "hi", "--profile", alice_p]);
    assert!(err.contains("not known"), "{err}");

    // Unauthorised: `news` is read-only for ordinary members.
    let news = format!("http://{}/news?public_key={}", sogs.addr, sogs.pubkey);
    join_when_ready(bob_p, &news);
    let err = fails(&["community", "post", "news", "let me in", "--profile", bob_p]);
    assert!(err.contains("403"), "{err}");
}

/// A server that does not require blinding (no `blind` capability): requests and posts are
/// signed with the account's own key and posts carry its Session ID. Plain HTTP, no nodes.
#[test]
fn unblinded_server_over_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let sogs = start_sogs_with(
        &dir.path().join("sogs"),
        "[users]\nrequire_blind_keys = no\n",
    );
    let url = format!("http://{}/lobby?public_key={}", sogs.addr, sogs.pubkey);
    let carol_dir = dir.path().join("carol");
    let carol_p = carol_dir.to_str().unwrap();
    let carol: Value =
        serde_json::from_str(&ok(&["init", "--profile", carol_p, "--json"])).unwrap();
    let joined: Value = serde_json::from_str(&ok(&[
        "community",
        "join",
        &url,
        "--direct",
        "--profile",
        carol_p,
        "--json",
    ]))
    .unwrap();
    assert_eq!(joined["id"], carol["session_id"], "{joined}");
    assert!(
        !joined["capabilities"]
            .as_array()
            .unwrap()
            .contains(&"blind".into()),
        "{joined}"
    );
    ok(&[
        "community",
        "post",
        "lobby",
        "unblinded",
        "--direct",
        "--profile",
        carol_p,
    ]);
    let read = json_lines(&ok(&[
        "community",
        "read",
        "lobby",
        "--direct",
        "--profile",
        carol_p,
        "--json",
    ]));
    assert_eq!(read.len(), 1, "{read:?}");
    assert_eq!(read[0]["author"], carol["session_id"]);
    assert_eq!(read[0]["text"], "unblinded");
    // Without blinding there is no inbox to read; nothing is printed.
    assert_eq!(
        ok(&[
            "community",
            "inbox",
            "--direct",
            "--profile",
            carol_p,
            "--json"
        ]),
        ""
    );
}
