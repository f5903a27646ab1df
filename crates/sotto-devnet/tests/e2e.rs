//! The real thing: `sotto-devnet up` with real `sotto-registry` and `sotto-node` processes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{assert_all_gone, Devnet, DEVNET};
use serde_json::Value;
use sotto_devnet::files::Pids;
use sotto_rpc::nodes::parse_node_list;

fn require_workspace_bins() {
    for name in ["sotto-registry", "sotto-node"] {
        let path = Path::new(DEVNET).with_file_name(name);
        assert!(
            path.is_file(),
            "{} is missing: build the workspace first (`cargo build --workspace`; \
             `scripts/test` does)",
            path.display()
        );
    }
}

fn status(dir: &Path, json: bool) -> String {
    let mut cmd = Command::new(DEVNET);
    cmd.arg("status").arg("--dir").arg(dir);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "status failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Two devnets at once (no fixed ports): both come up, `network.json` is what clients read,
/// `status` reports every node ready, and SIGTERM leaves no process behind.
#[test]
fn up_status_and_clean_stop() {
    require_workspace_bins();
    let tmp = tempfile::tempdir().unwrap();
    let (dir_a, dir_b) = (tmp.path().join("a"), tmp.path().join("b"));
    let mut a = Devnet::start(&dir_a, &["--nodes", "4"], &[]);
    let mut b = Devnet::start(&dir_b, &["--nodes", "3"], &[]);
    a.wait_ready(Duration::from_secs(150));
    b.wait_ready(Duration::from_secs(150));

    let text = std::fs::read_to_string(dir_a.join("network.json")).unwrap();
    let network: Value = serde_json::from_str(&text).unwrap();
    let seed_url = network["seed_url"].as_str().unwrap();
    assert!(seed_url.starts_with("https://127.0.0.1:") && seed_url.ends_with("/json_rpc"));
    assert_eq!(
        network["swarm_sizes"],
        serde_json::json!({"min": 3, "ideal": 4, "max": 6})
    );
    let nodes = parse_node_list(&network).unwrap();
    assert_eq!(nodes.len(), 4);
    assert!(nodes.iter().all(|n| n.in_swarm()), "{text}");
    let other = parse_node_list(
        &serde_json::from_str(&std::fs::read_to_string(dir_b.join("network.json")).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(other.len(), 3);
    let ports_a: BTreeSet<u16> = nodes.iter().map(|n| n.storage_port).collect();
    assert!(other.iter().all(|n| !ports_a.contains(&n.storage_port)));

    let report: Value = serde_json::from_str(&status(&dir_a, true)).unwrap();
    assert_eq!(report["registry_up"], true);
    let health = report["nodes"].as_array().unwrap();
    assert_eq!(health.len(), 4);
    for node in health {
        assert_eq!(node["up"], true, "{node}");
        assert_eq!(node["ready"], true, "{node}");
        assert_eq!(node["registered"], true, "{node}");
    }
    let members: usize = report["swarms"]
        .as_object()
        .unwrap()
        .values()
        .map(|m| m.as_array().unwrap().len())
        .sum();
    assert_eq!(members, 4);
    let table = status(&dir_a, false);
    assert!(
        table.contains("swarms (") && table.contains("nodes (4)"),
        "{table}"
    );

    for (devnet, dir, n) in [(&mut a, &dir_a, 4), (&mut b, &dir_b, 3)] {
        let pids = Pids::read(dir).unwrap();
        assert_eq!(pids.devnet, devnet.pid());
        let children = pids.children();
        // The registry, the nodes and the file server.
        assert_eq!(children.len(), n + 2);
        devnet.sigterm();
        let (exit, stderr) = devnet.wait_exit(Duration::from_secs(30));
        assert!(exit.success(), "{exit}: {stderr}");
        assert!(
            stderr.contains("registry up at https://127.0.0.1:"),
            "{stderr}"
        );
        assert!(stderr.contains(&format!("node {n}/{n} up")), "{stderr}");
        assert!(stderr.contains(&format!("waiting for swarms: {n}/{n} nodes serving")));
        assert!(stderr.contains("SIGTERM: stopping the devnet"), "{stderr}");
        assert_all_gone(&children);
    }
}

/// The README's main job: `sotto-devnet demo` brings a network up, has Alice and Bob talk both
/// ways through onion paths, prints the conversation, stops everything and exits 0.
#[test]
fn demo_runs_a_conversation_and_stops_cleanly() {
    require_workspace_bins();
    let out = Command::new(DEVNET)
        .args(["demo", "--nodes", "5"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("A network of 5 nodes"), "{stdout}");
    assert_eq!(stdout.matches(" received it.").count(), 3, "{stdout}");
    let transcript: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("The conversation"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    // Three texts and the file's caption.
    assert_eq!(transcript.len(), 4, "{stdout}");
    assert!(
        stdout.contains("decrypted it: 50000 bytes, identical."),
        "{stdout}"
    );
    assert!(transcript[0].ends_with("Alice: Hello Bob! This went through three onion hops."));
    assert!(transcript[1].contains("Bob  : Hi Alice."));
    assert!(
        stdout.contains("stopping the network (7 processes)"),
        "{stdout}"
    );
}

/// The devnet's intervals and votes: a node that dies is not restarted, and the others vote it
/// out of the registry within 60 s; its swarm is refilled from the remaining nodes.
#[test]
fn a_dead_node_is_voted_out_within_a_minute() {
    require_workspace_bins();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let mut devnet = Devnet::start(&dir, &["--nodes", "7"], &[]);
    devnet.wait_ready(Duration::from_secs(150));
    let pids = Pids::read(&dir).unwrap();
    let network: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("network.json")).unwrap()).unwrap();
    let nodes = parse_node_list(&network).unwrap();
    assert_eq!(nodes.len(), 7);
    // Which node is node 0? The one whose data directory's key matches.
    let victim_pid = pids.nodes[0].unwrap();
    let victim_key = {
        let out = Command::new(Path::new(DEVNET).with_file_name("sotto-node"))
            .args(["keys", "--data-dir"])
            .arg(dir.join("node0"))
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["pubkey_ed25519"].as_str().unwrap().to_owned()
    };
    assert!(Command::new("kill")
        .args(["-9", &victim_pid.to_string()])
        .status()
        .unwrap()
        .success());
    let killed = std::time::Instant::now();

    let deadline = killed + Duration::from_secs(60);
    loop {
        let report: Value = serde_json::from_str(&status(&dir, true)).unwrap();
        let listed = report["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["registered"] == true)
            .count();
        let gone = report["nodes"].as_array().unwrap().iter().any(|n| {
            n["ed25519"].as_str() == Some(victim_key.as_str()) && n["registered"] == false
        });
        if listed == 6 && gone {
            let members: usize = report["swarms"]
                .as_object()
                .unwrap()
                .values()
                .map(|m| m.as_array().unwrap().len())
                .sum();
            assert_eq!(members, 6, "{report}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not voted out within 60 s: {report}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    devnet.sigterm();
    let (exit, stderr) = devnet.wait_exit(Duration::from_secs(30));
    assert!(exit.success(), "{exit}: {stderr}");
    assert!(stderr.contains("node 0 exited"), "{stderr}");
}
