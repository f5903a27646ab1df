//! `sotto rpc` against real `sotto-node` processes on loopback: through 3-hop onion paths with
//! both ciphers, directly, and the errors a user sees.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::Output;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use assert_cmd::Command;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use sotto_crypto::{Identity, Seed};
use sotto_testkit::{workspace_bin, StaticNetwork};

fn network(n: usize) -> StaticNetwork {
    let node = workspace_bin(env!("CARGO_BIN_EXE_sotto"), "sotto-node").unwrap();
    StaticNetwork::start(&node, n).unwrap()
}

fn sotto(args: &[&str]) -> Output {
    Command::cargo_bin("sotto")
        .unwrap()
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

/// `sotto` retried (bounded) while a node has not yet read the node list: nodes re-read the
/// file a moment after it changes.
fn sotto_listed(args: &[&str]) -> Output {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = sotto(args);
        let stale = String::from_utf8_lossy(&out.stderr).contains("Next node not found");
        if !stale || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn retrieve_params(id: &Identity) -> String {
    let ts = now();
    json!({"pubkey": id.session_id().to_string(), "pubkey_ed25519": id.ed25519_public().to_hex(),
        "timestamp": ts, "signature": STANDARD.encode(id.sign(format!("retrieve{ts}").as_bytes()))})
    .to_string()
}

#[test]
fn rpc_through_onion_paths_and_directly() {
    let net = network(4);
    let list = net.list.to_str().unwrap();
    let target = net.info(3).unwrap().ed25519.to_hex();
    let id = Identity::from_seed(&Seed::from_hex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf").unwrap());
    let store = json!({"pubkey": id.session_id().to_string(), "timestamp": now(),
        "ttl": 3_600_000, "data": STANDARD.encode(b"via the onion")})
    .to_string();

    // The nodes read the list a moment after it is written; retry (bounded) until they know it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let stored = loop {
        let out = sotto(&[
            "rpc", "--nodes", list, "--hops", "3", "--method", "store", "--params", &store,
            "--target", &target,
        ]);
        if out.status.success() || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        stored.status.success(),
        "{}",
        String::from_utf8_lossy(&stored.stderr)
    );
    let answer: Value = serde_json::from_slice(&stored.stdout).unwrap();
    let hash = answer["hash"].as_str().unwrap().to_owned();

    for extra in [
        &["--enc-type", "aes-gcm"][..],
        &["--enc-type", "xchacha20"],
        &["--direct"],
    ] {
        let mut args = vec![
            "rpc", "--nodes", list, "--method", "retrieve", "--target", &target,
        ];
        let params = retrieve_params(&id);
        args.extend_from_slice(&["--params", &params]);
        args.extend_from_slice(extra);
        let out = sotto_listed(&args);
        assert!(
            out.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["messages"][0]["hash"], hash.as_str(), "{extra:?}");
    }

    // A random target (no --target) answers `info`.
    let out = sotto_listed(&["rpc", "--nodes", list, "--method", "info"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(info["version"].is_array(), "{info}");

    // The RPC's own refusal: non-zero exit, status and body on stderr, nothing on stdout.
    let bad = json!({"pubkey": id.session_id().to_string(), "pubkey_ed25519": id.ed25519_public().to_hex(),
        "timestamp": now(), "signature": STANDARD.encode([0u8; 64])})
    .to_string();
    let out = sotto_listed(&[
        "rpc", "--nodes", list, "--method", "retrieve", "--params", &bad, "--target", &target,
    ]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("sotto: 401 "), "{stderr}");

    // Not enough nodes for the path.
    let out = sotto(&[
        "rpc", "--nodes", list, "--hops", "4", "--method", "info", "--target", &target,
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "no path could be built: 4 hops needed besides the target, 3 nodes available"
        ),
        "{stderr}"
    );
}

#[test]
fn rpc_input_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("nodes.json");
    std::fs::write(&list, r#"{"service_node_states": []}"#).unwrap();
    let l = list.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--nodes", "/nonexistent/x.json", "--method", "info"],
            "cannot read /nonexistent/x.json",
        ),
        (
            &["--nodes", l, "--method", "info"],
            "the node list is empty",
        ),
        (
            &["--nodes", l, "--method", "info", "--params", "[1]"],
            "--params must be a JSON object",
        ),
        (
            &["--nodes", l, "--method", "info", "--params", "{"],
            "--params is not JSON",
        ),
        (
            &[
                "--nodes",
                l,
                "--method",
                "info",
                "--target",
                &"ab".repeat(32),
            ],
            "is not in the node list",
        ),
    ];
    for (args, needle) in cases {
        let mut all = vec!["rpc"];
        all.extend_from_slice(args);
        let out = sotto(&all);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    // Out-of-range hop counts are refused by the argument parser.
    let out = sotto(&["rpc", "--nodes", l, "--method", "info", "--hops", "16"]);
    assert_eq!(out.status.code(), Some(2));
}
