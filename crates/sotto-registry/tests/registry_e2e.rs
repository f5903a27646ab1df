//! End-to-end tests of the `sotto-registry` binary on loopback: nodes registered with the CLI,
//! the node list over HTTPS, field filtering, block-hash polling, a quorum of signed failure
//! reports voting a node out, unlock and exit, and malformed input answered without a panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use sotto_crypto::Identity;
use sotto_registry::SignedReport;
use sotto_testkit::Process;

const BIN: &str = env!("CARGO_BIN_EXE_sotto-registry");

fn identity(i: u8) -> Identity {
    Identity::from_ed25519_seed(&[i; 32])
}

fn cli(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec![args[0], "--data-dir", dir.to_str().unwrap()];
    all.extend_from_slice(&args[1..]);
    Command::new(BIN)
        .args(&all)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn register(dir: &Path, i: u8, stake: &str) -> Output {
    let key = identity(i).ed25519_public().to_hex();
    let port = (20000 + u32::from(i)).to_string();
    let lmq = (30000 + u32::from(i)).to_string();
    let op = format!("operator{i}");
    cli(
        dir,
        &[
            "register",
            "--ed25519",
            &key,
            "--ip",
            "127.0.0.1",
            "--port",
            &port,
            "--lmq-port",
            &lmq,
            "--operator",
            &op,
            "--stake",
            stake,
        ],
    )
}

struct Registry {
    process: Process,
    url: String,
    http: reqwest::blocking::Client,
}

impl Registry {
    fn start(dir: &Path) -> Self {
        let process = Process::start(
            Path::new(BIN),
            &[
                "serve",
                "--data-dir",
                dir.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--swarm-min",
                "3",
                "--swarm-ideal",
                "4",
                "--swarm-max",
                "6",
                "--vote-quorum",
                "3",
            ],
            "https",
        )
        .unwrap();
        let http = reqwest::blocking::Client::builder()
            .use_rustls_tls()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Self {
            url: format!("https://{}/json_rpc", process.addr),
            process,
            http,
        }
    }

    fn post(&self, body: &str) -> Value {
        let resp = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        resp.json().unwrap()
    }

    fn call(&self, method: &str, params: Value) -> Value {
        self.post(
            &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
        )
    }

    fn nodes(&self) -> Vec<Value> {
        let v = self.call("get_n_service_nodes", json!({}));
        v["result"]["service_node_states"]
            .as_array()
            .unwrap()
            .clone()
    }

    fn stop(self) {
        let status = self.process.terminate().unwrap();
        assert!(status.success(), "registry exited with {status}");
    }
}

fn stake(dir: &Path, node: &str, amount: &str) -> Output {
    cli(
        dir,
        &[
            "stake",
            "--node",
            node,
            "--address",
            "friend",
            "--amount",
            amount,
        ],
    )
}

/// Assert a CLI run succeeded, showing its stderr if not.
fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn registry_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    // Registered before the server starts: the CLI writes the database directly.
    for i in 1..=6 {
        let out = register(dir.path(), i, "25000");
        succeeded(&out);
    }
    // Under-staked operator: refused with a clear message, nothing recorded.
    let out = register(dir.path(), 20, "6000");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("below the minimum 6250"), "{err}");

    let reg = Registry::start(dir.path());
    // Registered while it runs.
    for i in 7..=10 {
        let out = register(dir.path(), i, "25000");
        succeeded(&out);
    }

    // The full list, as clients read it.
    let v = reg.call("get_n_service_nodes", json!({}));
    let r = &v["result"];
    assert_eq!(v["jsonrpc"], "2.0");
    assert_eq!(r["status"], "OK");
    assert_eq!(r["hardfork"], 19);
    let states = r["service_node_states"].as_array().unwrap();
    assert_eq!(states.len(), 10);
    let mut swarms = std::collections::BTreeMap::<u64, usize>::new();
    for s in states {
        for field in [
            "service_node_pubkey",
            "pubkey_ed25519",
            "pubkey_x25519",
            "public_ip",
            "storage_port",
            "storage_lmq_port",
            "storage_server_version",
            "swarm_id",
            "swarm",
            "funded",
            "active",
        ] {
            assert!(s.get(field).is_some(), "missing {field} in {s}");
        }
        assert_eq!(s["public_ip"], "127.0.0.1");
        assert_eq!(s["active"], true);
        assert_eq!(s["storage_server_version"], json!([2, 8, 0]));
        let id = s["swarm_id"].as_u64().unwrap();
        assert_eq!(s["swarm"].as_str().unwrap(), format!("{id:x}"));
        *swarms.entry(id).or_default() += 1;
        let key: sotto_crypto::Ed25519PublicKey =
            s["pubkey_ed25519"].as_str().unwrap().parse().unwrap();
        assert_eq!(s["pubkey_x25519"], key.to_x25519().unwrap().to_hex());
    }
    // Devnet sizes (3/4/6): ten nodes form at least two swarms of three or more.
    assert!(swarms.len() >= 2, "{swarms:?}");
    assert!(swarms.values().all(|&n| n >= 3), "{swarms:?}");

    // What Session Desktop asks the seed for.
    let v = reg.call(
        "get_n_service_nodes",
        json!({"active_only": true, "fields": {"public_ip": true, "storage_port": true,
            "pubkey_x25519": true, "pubkey_ed25519": true, "storage_server_version": true}}),
    );
    for s in v["result"]["service_node_states"].as_array().unwrap() {
        let mut keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "pubkey_ed25519",
                "pubkey_x25519",
                "public_ip",
                "storage_port",
                "storage_server_version"
            ]
        );
    }

    // Polling with the current hash: unchanged, no list.
    let hash = r["block_hash"].as_str().unwrap().to_owned();
    let v = reg.call("get_service_nodes", json!({"poll_block_hash": hash}));
    assert_eq!(v["result"]["unchanged"], true);
    assert!(v["result"].get("service_node_states").is_none());

    // Malformed input: JSON-RPC errors, and the server carries on.
    assert_eq!(reg.post("{oops")["error"]["code"], -32700);
    assert_eq!(reg.post("[]")["error"]["code"], -32600);
    assert_eq!(
        reg.call("no_such_method", json!({}))["error"]["code"],
        -32601
    );
    assert_eq!(
        reg.call("get_n_service_nodes", json!({"limit": "ten"}))["error"]["code"],
        -32602
    );
    assert_eq!(
        reg.call("report_peer_status", json!({"pubkey": 5}))["error"]["code"],
        -32602
    );

    // Failure reports: a forged one and a stranger's are refused; three distinct active
    // reporters vote node 10 out.
    let victim = identity(10).ed25519_public();
    let mut forged = SignedReport::sign(&identity(1), &victim, false, now());
    forged.reporter = identity(2).ed25519_public();
    let v = reg.call("report_peer_status", serde_json::to_value(&forged).unwrap());
    assert_eq!(v["error"]["code"], -32000, "{v}");
    let v = reg.call(
        "report_peer_status",
        serde_json::to_value(SignedReport::sign(&identity(99), &victim, false, now())).unwrap(),
    );
    assert_eq!(v["error"]["code"], -32000, "{v}");
    for (i, reporter) in [1u8, 2, 3].into_iter().enumerate() {
        let signed = SignedReport::sign(&identity(reporter), &victim, false, now());
        let v = reg.call("report_peer_status", serde_json::to_value(&signed).unwrap());
        assert_eq!(v["result"]["failing_reporters"], i + 1, "{v}");
        assert_eq!(v["result"]["deregistered"], i == 2, "{v}");
    }
    let nodes = reg.nodes();
    assert_eq!(nodes.len(), 9);
    assert!(nodes.iter().all(|n| n["pubkey_ed25519"] != victim.to_hex()));
    let v = reg.call("get_service_nodes", json!({"poll_block_hash": hash}));
    assert_eq!(v["result"]["unchanged"], false);

    // Unlock with no delay: the server's ticker lets the node go within a few seconds.
    let leaving = identity(9).ed25519_public().to_hex();
    let out = cli(
        dir.path(),
        &["unlock", "--node", &leaving, "--delay-secs", "0"],
    );
    succeeded(&out);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if reg
            .nodes()
            .iter()
            .all(|n| n["pubkey_ed25519"] != leaving.as_str())
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node did not exit after its unlock"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The CLI's listing agrees with the server.
    let out = cli(dir.path(), &["list", "--json"]);
    assert!(out.status.success());
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["service_node_states"].as_array().unwrap().len(), 8);
    assert_eq!(
        listed["swarm_sizes"],
        json!({"min": 3, "ideal": 4, "max": 6})
    );
    let out = cli(dir.path(), &["list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("active"));
    let out = cli(dir.path(), &["rewards", "--json"]);
    assert!(out.status.success());

    reg.stop();
}

#[test]
fn partial_stake_then_contribution() {
    let dir = tempfile::tempdir().unwrap();
    let out = register(dir.path(), 1, "6250");
    succeeded(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("awaiting contributions"));
    let key = identity(1).ed25519_public().to_hex();
    let out = stake(dir.path(), &key, "100");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("below the minimum"));
    let out = stake(dir.path(), &key, "18750");
    succeeded(&out);
    let out = cli(dir.path(), &["list", "--json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let node = &listed["service_node_states"][0];
    assert_eq!(node["funded"], true);
    assert_eq!(node["contributors"].as_array().unwrap().len(), 2);
    assert_eq!(node["total_contributed"], 25_000_000_000_000u64);
}
