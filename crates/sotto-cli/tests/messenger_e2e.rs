//! The messenger end to end: `sotto init`, `send`, `inbox`, `poll`, `contacts` against a real
//! registry and network-mode nodes on loopback, every request through onion paths.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{ok, sotto};
use serde_json::{json, Value};
use sotto_rpc::nodes::parse_node_list;
use sotto_testkit::{workspace_bin, RegistryNetwork};

/// A network of `n` nodes, and a `network.json` for it once every node serves its swarm.
fn network(n: usize, dir: &Path) -> (RegistryNetwork, std::path::PathBuf) {
    let bin = env!("CARGO_BIN_EXE_sotto");
    let node = workspace_bin(bin, "sotto-node").unwrap();
    let registry = workspace_bin(bin, "sotto-registry").unwrap();
    let net = RegistryNetwork::start(
        &node,
        &registry,
        n,
        &[
            "--swarm-min",
            "2",
            "--swarm-ideal",
            "3",
            "--swarm-max",
            "4",
            "--reward-period-secs",
            "0",
        ],
        &["--registry-poll-ms", "200", "--test-interval-ms", "1000"],
    )
    .unwrap();
    let c = reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let list = loop {
        let v: Value = c
            .post(&net.registry_url)
            .json(
                &json!({"jsonrpc": "2.0", "id": 1, "method": "get_n_service_nodes", "params": {}}),
            )
            .send()
            .unwrap()
            .json()
            .unwrap();
        let nodes = parse_node_list(&v).unwrap();
        let ready = nodes.len() == n
            && nodes.iter().all(|node| {
                c.get(format!("{}/get_stats/v1", node.base_url()))
                    .send()
                    .ok()
                    .and_then(|r| r.json::<Value>().ok())
                    .is_some_and(|s| s["ready"] == true && s["swarm_id"].as_u64() == node.swarm_id)
            });
        if ready {
            break v["result"].clone();
        }
        assert!(Instant::now() < deadline, "network not ready");
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut file = list;
    file.as_object_mut()
        .unwrap()
        .insert("seed_url".into(), json!(net.registry_url));
    let path = dir.join("network.json");
    std::fs::write(&path, file.to_string()).unwrap();
    (net, path)
}

#[test]
fn two_people_talk_through_onion_paths() {
    let dir = tempfile::tempdir().unwrap();
    let (_net, network) = network(6, dir.path());
    let network = network.to_str().unwrap();
    let alice_dir = dir.path().join("alice");
    let bob_dir = dir.path().join("bob");
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
    let bob: Value = serde_json::from_str(&ok(&[
        "init",
        "--profile",
        bob_p,
        "--network",
        network,
        "--json",
    ]))
    .unwrap();
    let (alice_id, bob_id) = (
        alice["session_id"].as_str().unwrap(),
        bob["session_id"].as_str().unwrap(),
    );
    assert_eq!(alice["mnemonic"].as_str().unwrap().split(' ').count(), 13);

    // The network is remembered: no --network from here on.
    let sent: Value = serde_json::from_str(&ok(&[
        "send",
        "--profile",
        alice_p,
        bob_id,
        "hello Bob",
        "--json",
    ]))
    .unwrap();
    assert!(sent["confirmations"].as_u64().unwrap() >= 2, "{sent}");
    ok(&["send", "--profile", alice_p, bob_id, "second message"]);
    ok(&["send", "--profile", bob_p, alice_id, "hi Alice"]);

    let inbox: Value = serde_json::from_str(&ok(&["inbox", "--profile", bob_p, "--json"])).unwrap();
    let list = inbox.as_array().unwrap();
    assert_eq!(list.len(), 2, "{inbox}");
    assert_eq!(list[0]["from"], alice_id);
    assert_eq!(list[0]["text"], "hello Bob");
    assert_eq!(list[1]["text"], "second message");
    assert_eq!(list[0]["hash"], sent["hash"]);
    assert!(list[0]["timestamp"].as_i64().unwrap() <= list[1]["timestamp"].as_i64().unwrap());
    // Polling again finds nothing new and lists the same two.
    let again: Value = serde_json::from_str(&ok(&["inbox", "--profile", bob_p, "--json"])).unwrap();
    assert_eq!(again, inbox);
    assert_eq!(ok(&["poll", "--profile", bob_p, "--json"]), "");

    let alice_inbox: Value =
        serde_json::from_str(&ok(&["inbox", "--profile", alice_p, "--json"])).unwrap();
    assert_eq!(alice_inbox.as_array().unwrap().len(), 1, "{alice_inbox}");
    assert_eq!(alice_inbox[0]["text"], "hi Alice");
    // Alice's display name travelled with her messages.
    let contacts: Value =
        serde_json::from_str(&ok(&["contacts", "--profile", bob_p, "--json"])).unwrap();
    assert_eq!(contacts[0]["session_id"], alice_id);
    assert_eq!(contacts[0]["name"], "Alice");

    // Read receipts: Bob reads with receipts on; Alice's next poll reports it.
    let disappearing: Value = serde_json::from_str(&ok(&[
        "send",
        "--profile",
        alice_p,
        bob_id,
        "this will vanish",
        "--disappear-after-send",
        "10",
        "--json",
    ]))
    .unwrap();
    let disappearing_at = Instant::now();
    let oops: Value = serde_json::from_str(&ok(&[
        "send",
        "--profile",
        alice_p,
        bob_id,
        "oops",
        "--json",
    ]))
    .unwrap();
    // The disappearing message shows until its 10 s are up; on a loaded machine the commands
    // in between can take that long, so it must show only when asked for well before then.
    let vanishing = |texts: &mut Vec<&str>, asked_after: Duration| {
        let had = texts.contains(&"this will vanish");
        texts.retain(|t| *t != "this will vanish");
        assert!(had || asked_after >= Duration::from_secs(5), "{texts:?}");
    };
    let asked_after = disappearing_at.elapsed();
    let inbox: Value = serde_json::from_str(&ok(&[
        "inbox",
        "--profile",
        bob_p,
        "--read-receipts",
        "--json",
    ]))
    .unwrap();
    let mut texts: Vec<&str> = inbox
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    vanishing(&mut texts, asked_after);
    assert_eq!(texts, ["hello Bob", "second message", "oops"]);
    let events = ok(&["poll", "--profile", alice_p, "--json"]);
    let read: Vec<Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &Value| e["event"] == "read")
        .collect();
    assert_eq!(read.len(), 1, "{events}");
    assert_eq!(read[0]["from"], bob_id);
    assert_eq!(
        read[0]["timestamps"].as_array().unwrap().len(),
        2,
        "{events}"
    );

    // Unsend: Alice takes "oops" back; Bob's client deletes it.
    ok(&[
        "unsend",
        "--profile",
        alice_p,
        oops["hash"].as_str().unwrap(),
    ]);
    let asked_after = disappearing_at.elapsed();
    let inbox: Value = serde_json::from_str(&ok(&["inbox", "--profile", bob_p, "--json"])).unwrap();
    let mut texts: Vec<&str> = inbox
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    vanishing(&mut texts, asked_after);
    assert_eq!(texts, ["hello Bob", "second message"]);

    // The disappearing message is gone from Bob's inbox once its 10 s are up.
    let wait = Duration::from_secs(11).saturating_sub(disappearing_at.elapsed());
    std::thread::sleep(wait);
    let inbox: Value = serde_json::from_str(&ok(&["inbox", "--profile", bob_p, "--json"])).unwrap();
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["hash"] != disappearing["hash"]),
        "{inbox}"
    );

    // Subscribed: Bob's `poll --watch --subscribe` shows Alice's next message as it is stored.
    let mut watcher = std::process::Command::new(env!("CARGO_BIN_EXE_sotto"))
        .args([
            "poll",
            "--watch",
            "--subscribe",
            "--json",
            "--profile",
            bob_p,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = watcher.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(1500));
    ok(&["send", "--profile", alice_p, bob_id, "live"]);
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("subscribed poll saw nothing");
    let _ = watcher.kill();
    let _ = watcher.wait();
    let event: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        (event["event"].as_str(), event["text"].as_str()),
        (Some("message"), Some("live")),
        "{line}"
    );

    // Each profile keeps two guards (the first hops of its paths) and the last node list; with
    // the seeds gone, the cached list keeps the client working.
    let settings = |dir: &Path, key: &str| -> Option<String> {
        let conn = rusqlite::Connection::open(dir.join("profile.db")).unwrap();
        conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .ok()
    };
    assert_eq!(
        settings(&alice_dir, "guards").unwrap().split(',').count(),
        2
    );
    assert!(settings(&alice_dir, "node_cache")
        .unwrap()
        .contains("service_node_states"));
    let dead = dir.path().join("dead-seed.json");
    std::fs::write(&dead, r#"{"seed_url": "https://127.0.0.1:1/json_rpc"}"#).unwrap();
    let offline: Value = serde_json::from_str(&ok(&[
        "inbox",
        "--profile",
        bob_p,
        "--network",
        dead.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    assert!(!offline.as_array().unwrap().is_empty());

    // Alice on a new device: restored from her phrase, she sees Bob's message and, from her sync
    // copies, nothing else in her inbox.
    let restored_dir = dir.path().join("alice2");
    let words = alice["mnemonic"].as_str().unwrap();
    let restored: Value = serde_json::from_str(&ok(&[
        "init",
        "--profile",
        restored_dir.to_str().unwrap(),
        "--network",
        network,
        "--restore",
        words,
        "--json",
    ]))
    .unwrap();
    assert_eq!(restored["session_id"], alice_id);
    assert!(restored.get("mnemonic").is_none());
    let inbox2: Value = serde_json::from_str(&ok(&[
        "inbox",
        "--profile",
        restored_dir.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    assert_eq!(inbox2.as_array().unwrap().len(), 1, "{inbox2}");
}

#[test]
fn messenger_errors_are_actionable() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p");
    let p = p.to_str().unwrap();
    let out = sotto(&["inbox", "--profile", p]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `sotto init` first"));
    let shown = ok(&["init", "--profile", p]);
    assert!(
        shown.contains("Recovery phrase:") && shown.contains('█'),
        "{shown}"
    );
    let out = sotto(&["init", "--profile", p]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds an account"));
    let out = sotto(&["send", "--profile", p, "05abc", "x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a Session ID"));
    let out = sotto(&[
        "send",
        "--profile",
        p,
        &format!("05{}", "ab".repeat(32)),
        "x",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no network known"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"seed_url": "https://127.0.0.1:1/json_rpc"}"#).unwrap();
    let out = sotto(&["inbox", "--profile", p, "--network", bad.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no seed answered"), "{stderr}");
    let out = sotto(&[
        "init",
        "--profile",
        dir.path().join("q").to_str().unwrap(),
        "--restore",
        "not a phrase",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid recovery phrase"));
}

/// Nodes die mid-conversation (one of the recipient's swarm, one of the sender's guards): the
/// users notice nothing. A client offline meanwhile gets everything when it polls again, and a
/// profile restored from the recovery phrase receives new messages.
#[test]
fn dying_nodes_change_nothing_and_offline_clients_catch_up() {
    let dir = tempfile::tempdir().unwrap();
    let (mut net, network) = network(7, dir.path());
    let network = network.to_str().unwrap();
    let (alice_dir, bob_dir) = (dir.path().join("alice"), dir.path().join("bob"));
    let (alice_p, bob_p) = (alice_dir.to_str().unwrap(), bob_dir.to_str().unwrap());
    let init = |p: &str| -> Value {
        serde_json::from_str(&ok(&[
            "init",
            "--profile",
            p,
            "--network",
            network,
            "--json",
        ]))
        .unwrap()
    };
    let (alice, bob) = (init(alice_p), init(bob_p));
    let bob_id = bob["session_id"].as_str().unwrap();
    ok(&["send", "--profile", alice_p, bob_id, "before"]);
    let texts = |p: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(&ok(&["inbox", "--profile", p, "--json"])).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(texts(bob_p), ["before"]);

    // Kill one of Alice's guards and one member of Bob's swarm.
    let settings = |dir: &Path, key: &str| -> String {
        let conn = rusqlite::Connection::open(dir.join("profile.db")).unwrap();
        conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let guard = settings(&alice_dir, "guards")
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    let bob_swarm: Value = {
        let c = reqwest::blocking::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        let any = net.info(0).unwrap();
        c.post(format!("{}/storage_rpc/v1", any.base_url()))
            .body(json!({"method": "get_swarm", "params": {"pubkey": bob_id}}).to_string())
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let member = bob_swarm["snodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pubkey_ed25519"].as_str().unwrap().to_owned())
        .find(|k| *k != guard)
        .unwrap();
    for key in [&guard, &member] {
        let i = (0..net.nodes.len())
            .find(|&i| net.info(i).is_some_and(|n| n.ed25519.to_hex() == *key))
            .unwrap();
        net.kill(i);
    }

    // Alice keeps talking while Bob is offline.
    for text in [
        "while you were away 1",
        "while you were away 2",
        "while you were away 3",
    ] {
        ok(&["send", "--profile", alice_p, bob_id, text]);
    }
    assert_eq!(
        texts(bob_p),
        [
            "before",
            "while you were away 1",
            "while you were away 2",
            "while you were away 3"
        ]
    );

    // Bob on a new device, restored from his phrase, receives what is sent from now on.
    let restored = dir.path().join("bob2");
    let restored_p = restored.to_str().unwrap();
    ok(&[
        "init",
        "--profile",
        restored_p,
        "--network",
        network,
        "--restore",
        bob["mnemonic"].as_str().unwrap(),
    ]);
    ok(&["send", "--profile", alice_p, bob_id, "to both devices"]);
    assert!(texts(restored_p).contains(&"to both devices".to_owned()));
    assert!(texts(bob_p).contains(&"to both devices".to_owned()));
    let _ = alice;
}

/// Attachments: Alice sends a file (encrypted, uploaded to the file server through a 3-hop
/// onion path); Bob lists it, fetches it through another path and gets the same bytes.
#[test]
fn attachments_travel_through_the_file_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_net, network) = network(6, dir.path());
    // A file server, and its place in the network file.
    let fs_bin = workspace_bin(env!("CARGO_BIN_EXE_sotto"), "sotto-fileserver").unwrap();
    let fs_dir = dir.path().join("files");
    let keys = std::process::Command::new(&fs_bin)
        .args(["keys", "--data-dir"])
        .arg(&fs_dir)
        .output()
        .unwrap();
    let keys: Value = serde_json::from_slice(&keys.stdout).unwrap();
    let server = sotto_testkit::Process::start(
        &fs_bin,
        &[
            "--data-dir",
            fs_dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        "http",
    )
    .unwrap();
    let mut description: Value =
        serde_json::from_str(&std::fs::read_to_string(&network).unwrap()).unwrap();
    description.as_object_mut().unwrap().insert(
        "file_server".into(),
        json!({"url": format!("http://{}", server.addr), "pubkey_x25519": keys["pubkey_x25519"]}),
    );
    std::fs::write(&network, description.to_string()).unwrap();
    let network = network.to_str().unwrap();

    let (alice_dir, bob_dir) = (dir.path().join("alice"), dir.path().join("bob"));
    let (alice_p, bob_p) = (alice_dir.to_str().unwrap(), bob_dir.to_str().unwrap());
    let alice: Value = serde_json::from_str(&ok(&[
        "init",
        "--profile",
        alice_p,
        "--network",
        network,
        "--json",
    ]))
    .unwrap();
    let alice_id = alice["session_id"].as_str().unwrap();
    let bob: Value = serde_json::from_str(&ok(&[
        "init",
        "--profile",
        bob_p,
        "--network",
        network,
        "--json",
    ]))
    .unwrap();
    let bob_id = bob["session_id"].as_str().unwrap();

    let photo = dir.path().join("holiday.jpg");
    let bytes: Vec<u8> = (0..150_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&photo, &bytes).unwrap();
    let sent = sotto(&[
        "send",
        "--profile",
        alice_p,
        bob_id,
        "look at this",
        "--attach",
        photo.to_str().unwrap(),
        "--progress",
        "always",
    ]);
    assert!(sent.status.success());
    // Not a terminal: one line per step, up to the whole (onion-wrapped) request.
    let progress = String::from_utf8_lossy(&sent.stderr);
    assert!(
        progress.contains("uploading holiday.jpg:   0% (0.0 of"),
        "{progress}"
    );
    assert!(
        progress.contains("uploading holiday.jpg: 100% ("),
        "{progress}"
    );
    assert!(!progress.contains('\r'), "{progress}");
    // The upload's small answer is not shown.
    assert!(!progress.contains("downloading"), "{progress}");

    let inbox: Value = serde_json::from_str(&ok(&["inbox", "--profile", bob_p, "--json"])).unwrap();
    assert_eq!(inbox[0]["text"], "look at this", "{inbox}");
    let listed: Value =
        serde_json::from_str(&ok(&["attachments", "--profile", bob_p, "--json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["file_name"], "holiday.jpg");
    assert_eq!(listed[0]["content_type"], "image/jpeg");
    assert_eq!(listed[0]["size"], 150_000);
    let hash = listed[0]["hash"].as_str().unwrap();
    let fetched = sotto(&[
        "fetch",
        "--profile",
        bob_p,
        hash,
        "--json",
        "--progress",
        "always",
    ]);
    assert!(fetched.status.success());
    let progress = String::from_utf8_lossy(&fetched.stderr);
    assert!(
        progress.contains("downloading holiday.jpg: 100% ("),
        "{progress}"
    );
    assert!(!progress.contains("uploading"), "{progress}");
    let fetched: Value = serde_json::from_slice(&fetched.stdout).unwrap();
    let saved = std::path::PathBuf::from(fetched["path"].as_str().unwrap());
    assert!(saved.starts_with(&bob_dir), "{fetched}");
    assert_eq!(std::fs::read(&saved).unwrap(), bytes);
    // The file server holds only ciphertext.
    let stored: Vec<std::path::PathBuf> = walk(&fs_dir.join("files"));
    assert_eq!(stored.len(), 1, "{stored:?}");
    let blob = std::fs::read(&stored[0]).unwrap();
    assert!(blob.windows(64).all(|w| w != &bytes[..64]));

    // A profile picture: Alice sets one; it travels with her next message; Bob fetches it.
    let picture = dir.path().join("me.png");
    std::fs::write(&picture, b"\x89PNG pretend image bytes").unwrap();
    ok(&[
        "avatar",
        "set",
        picture.to_str().unwrap(),
        "--profile",
        alice_p,
    ]);
    ok(&["send", "--profile", alice_p, bob_id, "new picture"]);
    ok(&["inbox", "--profile", bob_p]);
    let contacts: Value =
        serde_json::from_str(&ok(&["contacts", "--profile", bob_p, "--json"])).unwrap();
    assert!(
        contacts[0]["avatar_url"]
            .as_str()
            .unwrap()
            .contains("/file/"),
        "{contacts}"
    );
    let got: Value = serde_json::from_str(&ok(&[
        "avatar",
        "get",
        alice_id,
        "--profile",
        bob_p,
        "--json",
    ]))
    .unwrap();
    assert_eq!(
        std::fs::read(got["path"].as_str().unwrap()).unwrap(),
        std::fs::read(&picture).unwrap()
    );

    // Without a file server in the network file, the error says so.
    let bare = dir.path().join("bare.json");
    std::fs::write(&bare, r#"{"seed_url": "https://127.0.0.1:1/json_rpc"}"#).unwrap();
    let out = sotto(&[
        "send",
        "--profile",
        alice_p,
        "--network",
        bare.to_str().unwrap(),
        bob_id,
        "--attach",
        photo.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("names no file server"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
