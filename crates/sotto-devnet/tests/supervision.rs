//! Process handling without a real network: fake `sotto-registry` and `sotto-node` scripts
//! that print an address and never become ready.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{assert_all_gone, Devnet, DEVNET};
use sotto_devnet::files::Pids;

const FAKE_REGISTRY: &str = r#"#!/bin/sh
case "$1" in
  serve) echo "listening on https://127.0.0.1:9"; exec sleep 300 ;;
  register) echo '{}'; exit 0 ;;
esac
exit 2
"#;

// Every fake node has the same keys: the fake registry does not mind.
const FAKE_NODE: &str = r#"#!/bin/sh
if [ "$1" = keys ]; then
  echo '{"pubkey_ed25519":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","pubkey_x25519":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}'
  exit 0
fi
[ "$FAKE_NODE" = crash ] && exit 3
[ "$FAKE_NODE" = stubborn ] && trap '' TERM
echo "listening on https://127.0.0.1:9"
exec sleep 300
"#;

fn fake_bins(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, script) in [("sotto-registry", FAKE_REGISTRY), ("sotto-node", FAKE_NODE)] {
        let path = dir.join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn bin_dir_arg(tmp: &Path) -> String {
    let bins = tmp.join("bin");
    fake_bins(&bins);
    bins.to_str().unwrap().to_owned()
}

#[test]
fn ready_timeout_names_the_nodes_and_stops_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let bins = bin_dir_arg(tmp.path());
    let dir = tmp.path().join("net");
    let mut devnet = Devnet::start(
        &dir,
        &[
            "--nodes",
            "2",
            "--bin-dir",
            &bins,
            "--ready-timeout-secs",
            "2",
        ],
        &[],
    );
    let (exit, stderr) = devnet.wait_exit(Duration::from_secs(30));
    assert!(!exit.success());
    assert!(
        stderr.contains("not every node serves its swarm"),
        "{stderr}"
    );
    assert!(stderr.contains("node 0 (ed25519 aaaa"), "{stderr}");
    assert!(stderr.contains("node 1 (ed25519 aaaa"), "{stderr}");
    assert!(stderr.contains("does not answer"), "{stderr}");
    assert!(
        stderr.contains("waiting for swarms: 0/2 nodes serving"),
        "{stderr}"
    );
    assert!(!dir.join("network.json").exists());
    let pids = Pids::read(&dir).unwrap();
    assert_eq!(pids.children().len(), 3);
    assert_all_gone(&pids.children());
}

#[test]
fn sigterm_while_coming_up_kills_children_that_ignore_it() {
    let tmp = tempfile::tempdir().unwrap();
    let bins = bin_dir_arg(tmp.path());
    let dir = tmp.path().join("net");
    let mut devnet = Devnet::start(
        &dir,
        &["--nodes", "3", "--bin-dir", &bins, "--stop-grace-ms", "300"],
        &[("FAKE_NODE", "stubborn")],
    );
    devnet.wait_stderr("waiting for swarms: 0/3", Duration::from_secs(30));
    let children = Pids::read(&dir).unwrap().children();
    assert_eq!(children.len(), 4);
    devnet.sigterm();
    let (exit, stderr) = devnet.wait_exit(Duration::from_secs(20));
    assert!(exit.success(), "{exit}: {stderr}");
    assert!(stderr.contains("stopping 4 processes"), "{stderr}");
    assert_all_gone(&children);
}

#[test]
fn a_node_that_dies_while_starting_stops_the_devnet() {
    let tmp = tempfile::tempdir().unwrap();
    let bins = bin_dir_arg(tmp.path());
    let dir = tmp.path().join("net");
    let mut devnet = Devnet::start(
        &dir,
        &["--nodes", "2", "--bin-dir", &bins],
        &[("FAKE_NODE", "crash")],
    );
    let (exit, stderr) = devnet.wait_exit(Duration::from_secs(30));
    assert!(!exit.success());
    assert!(
        stderr.contains("node 0 exited before it printed its address"),
        "{stderr}"
    );
    assert!(stderr.contains("node0.log"), "{stderr}");
    assert_all_gone(&Pids::read(&dir).unwrap().children());
}

#[test]
fn refuses_a_used_directory_and_missing_binaries() {
    let tmp = tempfile::tempdir().unwrap();
    let bins = bin_dir_arg(tmp.path());
    let used = tmp.path().join("used");
    std::fs::create_dir_all(&used).unwrap();
    std::fs::write(used.join("x"), "").unwrap();
    let out = Command::new(DEVNET)
        .args(["up", "--bin-dir", &bins, "--dir"])
        .arg(&used)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not empty"), "{stderr}");

    let out = Command::new(DEVNET)
        .args(["up", "--bin-dir"])
        .arg(tmp.path().join("nowhere"))
        .arg("--dir")
        .arg(tmp.path().join("fresh"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sotto-registry is missing: build the workspace"),
        "{stderr}"
    );

    let out = Command::new(DEVNET)
        .args(["up", "--nodes", "0", "--dir"])
        .arg(tmp.path().join("zero"))
        .output()
        .unwrap();
    assert!(!out.status.success());

    let out = Command::new(DEVNET)
        .args(["status", "--dir"])
        .arg(tmp.path().join("fresh"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("network.json"), "{stderr}");
}
