//! End-to-end tests of the `sotto-node` binary on loopback: the storage RPC over HTTPS, errors,
//! restarts, expiry, rate limiting, and no lost acknowledged stores after `kill -9`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use sotto_crypto::{Identity, Seed};
use sotto_testkit::Process;

const BIN: &str = env!("CARGO_BIN_EXE_sotto-node");

struct NodeProcess {
    process: Process,
    url: String,
}

impl NodeProcess {
    fn start(dir: &Path, extra: &[&str]) -> Self {
        let dir = dir.to_str().unwrap();
        let mut args = vec!["--data-dir", dir, "--listen", "127.0.0.1:0", "--standalone"];
        args.extend_from_slice(extra);
        let process = Process::start(Path::new(BIN), &args, "https").unwrap();
        let url = format!("https://{}/storage_rpc/v1", process.addr);
        Self { process, url }
    }

    /// SIGTERM; the node must exit cleanly (bounded wait).
    fn stop(self) {
        let status = self.process.terminate().unwrap();
        assert!(status.success(), "node exited with {status}");
    }

    /// SIGKILL, as a crash.
    fn kill9(self) {
        drop(self.process);
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn alice() -> Identity {
    Identity::from_seed(&Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap())
}

/// POST a request; returns (status, body text).
fn rpc(c: &reqwest::blocking::Client, url: &str, body: &Value) -> (u16, String) {
    let r = c.post(url).body(body.to_string()).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn ok(c: &reqwest::blocking::Client, url: &str, body: &Value) -> Value {
    let (status, text) = rpc(c, url, body);
    assert_eq!(status, 200, "{body} → {text}");
    serde_json::from_str(&text).unwrap()
}

fn signed(id: &Identity, msg: &str, mut params: Value) -> Value {
    params["pubkey"] = json!(id.session_id().to_string());
    params["pubkey_ed25519"] = json!(id.ed25519_public().to_hex());
    params["signature"] = json!(STANDARD.encode(id.sign(msg.as_bytes())));
    params
}

fn store(id: &Identity, data: &[u8]) -> Value {
    json!({"method": "store", "params": {"pubkey": id.session_id().to_string(),
        "timestamp": now(), "ttl": 86_400_000, "data": STANDARD.encode(data)}})
}

fn retrieve(id: &Identity, ns: i16, last_hash: &str) -> Value {
    let ts = now();
    let ns_str = if ns == 0 {
        String::new()
    } else {
        ns.to_string()
    };
    json!({"method": "retrieve", "params": signed(id, &format!("retrieve{ns_str}{ts}"),
        json!({"namespace": ns, "timestamp": ts, "last_hash": last_hash}))})
}

fn hashes(reply: &Value) -> Vec<String> {
    reply["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["hash"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn store_retrieve_delete_expire_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(dir.path(), &[]);
    let c = client();
    let id = alice();

    let first = ok(&c, &node.url, &store(&id, b"one"));
    let h1 = first["hash"].as_str().unwrap().to_owned();
    assert_eq!(
        h1,
        sotto_rpc::message_hash(
            &sotto_rpc::AccountId::from_bytes(id.session_id().to_bytes()),
            sotto_rpc::Namespace(0),
            b"one"
        )
    );
    // The node signs the hash with its Ed25519 key.
    let (node_key, entry) = first["swarm"].as_object().unwrap().iter().next().unwrap();
    let node_key: sotto_crypto::Ed25519PublicKey = node_key.parse().unwrap();
    let sig: [u8; 64] = STANDARD
        .decode(entry["signature"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    node_key.verify(h1.as_bytes(), &sig, "store").unwrap();
    assert!(first["t"].is_i64() && first["hf"].is_array());

    let again = ok(&c, &node.url, &store(&id, b"one"));
    assert_eq!(again["swarm"][node_key.to_hex()]["already"], true);
    let h2 = ok(&c, &node.url, &store(&id, b"two"))["hash"]
        .as_str()
        .unwrap()
        .to_owned();

    let all = ok(&c, &node.url, &retrieve(&id, 0, ""));
    assert_eq!(hashes(&all), vec![h1.clone(), h2.clone()]);
    assert_eq!(all["messages"][0]["data"], STANDARD.encode(b"one"));
    assert!(all["messages"][0]["expiration"].is_i64());
    assert_eq!(all["more"], false);
    assert_eq!(
        hashes(&ok(&c, &node.url, &retrieve(&id, 0, &h1))),
        vec![h2.clone()]
    );

    // get_expiries, expire (shorten), delete.
    let ts = now();
    let ge = ok(
        &c,
        &node.url,
        &json!({"method": "get_expiries", "params": signed(&id, &format!("get_expiries{ts}{h1}"), json!({"messages": [h1], "timestamp": ts}))}),
    );
    assert!(ge["expiries"][&h1].is_i64());
    let short = now() + 3_600_000;
    let ex = ok(
        &c,
        &node.url,
        &json!({"method": "expire", "params": signed(&id, &format!("expireshorten{short}{h1}"), json!({"messages": [h1], "expiry": short, "shorten": true}))}),
    );
    assert_eq!(ex["swarm"][node_key.to_hex()]["updated"], json!([h1]));
    let del = ok(
        &c,
        &node.url,
        &json!({"method": "delete", "params": signed(&id, &format!("delete{h2}"), json!({"messages": [h2]}))}),
    );
    assert_eq!(del["swarm"][node_key.to_hex()]["deleted"], json!([h2]));
    assert_eq!(
        hashes(&ok(&c, &node.url, &retrieve(&id, 0, ""))),
        vec![h1.clone()]
    );

    // batch and sequence: execution failures are per subrequest.
    let unsigned = json!({"method": "retrieve", "params": {"pubkey": id.session_id().to_string()}});
    let info = json!({"method": "info", "params": {}});
    let batch = ok(
        &c,
        &node.url,
        &json!({"method": "batch", "params": {"requests": [info, unsigned, retrieve(&id, 0, "")]}}),
    );
    assert_eq!(batch["results"][0]["code"], 200);
    assert_eq!(batch["results"][1]["code"], 401);
    assert_eq!(
        batch["results"][1]["body"],
        "retrieve: request signature required"
    );
    assert_eq!(batch["results"][2]["code"], 200);
    let seq = ok(
        &c,
        &node.url,
        &json!({"method": "sequence", "params": {"requests": [info, unsigned, info]}}),
    );
    assert_eq!(
        seq["results"].as_array().unwrap().len(),
        2,
        "sequence stops at a failure"
    );
    let (status, text) = rpc(
        &c,
        &node.url,
        &json!({"method": "batch", "params": {"requests": [{"method": "nope", "params": {}}]}}),
    );
    assert_eq!(
        (status, text.as_str()),
        (
            400,
            "invalid request: Invalid batch subrequest: invalid method \"nope\""
        )
    );

    let swarm = ok(
        &c,
        &node.url,
        &json!({"method": "get_swarm", "params": {"pubkey": id.session_id().to_string()}}),
    );
    assert_eq!(swarm["snodes"][0]["pubkey_ed25519"], node_key.to_hex());
    node.stop();
}

#[test]
fn errors_have_the_reference_status_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(dir.path(), &[]);
    let c = client();
    let id = alice();
    let pk = id.session_id().to_string();
    let post = |body: &str| {
        let r = c.post(&node.url).body(body.to_owned()).send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    assert_eq!(post("{not json"), (400, "invalid json".into()));
    assert_eq!(
        post(r#"{"method":"frob","params":{}}"#),
        (400, "no method frob".into())
    );
    let cases = [
        (
            json!({"method": "store", "params": {"pubkey": "05abcd", "timestamp": now(), "ttl": 86_400_000, "data": "aGk="}}),
            400,
            "invalid request: Pubkey must be 66 hex digits (33 bytes) long".to_owned(),
        ),
        (
            json!({"method": "store", "params": {"pubkey": pk, "timestamp": now(), "ttl": 1000, "data": "aGk="}}),
            403,
            "Provided expiry/TTL is not valid.".to_owned(),
        ),
        (
            json!({"method": "store", "params": {"pubkey": pk, "timestamp": now() + 60_000, "ttl": 86_400_000, "data": "aGk="}}),
            406,
            "Timestamp error: check your clock".to_owned(),
        ),
        (
            json!({"method": "store", "params": {"pubkey": pk, "namespace": 3, "timestamp": now(), "ttl": 86_400_000, "data": "aGk="}}),
            401,
            "store: signature required to store to namespace 3".to_owned(),
        ),
        (
            json!({"method": "store", "params": {"pubkey": pk, "timestamp": now(), "ttl": 86_400_000, "data": "A".repeat(102_404)}}),
            400,
            "invalid request: Message body exceeds maximum allowed length of 76800 bytes"
                .to_owned(),
        ),
        (
            json!({"method": "retrieve", "params": {"pubkey": pk}}),
            401,
            "retrieve: request signature required".to_owned(),
        ),
    ];
    for (body, status, text) in cases {
        assert_eq!(rpc(&c, &node.url, &body), (status, text), "{body}");
    }
    // Stale and forged signatures.
    let old = now() - 120_000;
    let stale = json!({"method": "retrieve", "params": signed(&id, &format!("retrieve{old}"), json!({"timestamp": old}))});
    assert_eq!(
        rpc(&c, &node.url, &stale),
        (406, "retrieve timestamp too far from current time".into())
    );
    let ts = now();
    let forged = json!({"method": "retrieve", "params": signed(&id, &format!("retrieve{}", ts + 1), json!({"timestamp": ts}))});
    assert_eq!(
        rpc(&c, &node.url, &forged),
        (401, "retrieve signature verification failed".into())
    );
    // Transport-level errors.
    let r = c
        .get(node.url.replace("/storage_rpc/v1", "/nowhere"))
        .send()
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().unwrap()),
        (404, "GET /nowhere Not Found".into())
    );
    let r = c
        .post(&node.url)
        .header("X-Loki-Long-Poll", "true")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 410);
    let r = c.post(&node.url).body(vec![b' '; 11 * 1024 * 1024]).send();
    if let Ok(r) = r {
        assert_eq!(r.status().as_u16(), 413);
    }
    node.stop();
}

#[test]
fn data_survives_restart_and_expiry_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let c = client();
    let id = alice();
    let node = NodeProcess::start(dir.path(), &[]);
    let h = ok(&c, &node.url, &store(&id, b"kept"))["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    node.stop();

    let node = NodeProcess::start(
        dir.path(),
        &["--cleanup-secs", "1", "--metrics-listen", "127.0.0.1:0"],
    );
    let metrics = node
        .process
        .printed
        .iter()
        .find_map(|l| l.strip_prefix("metrics on http://"))
        .and_then(|l| l.strip_suffix("/metrics"))
        .expect("the node prints its metrics address")
        .to_owned();
    assert_eq!(
        hashes(&ok(&c, &node.url, &retrieve(&id, 0, ""))),
        vec![h.clone()]
    );

    // Expire it now: retrieve stops returning it at once; the sweep then deletes it.
    let at = now();
    ok(
        &c,
        &node.url,
        &json!({"method": "expire", "params": signed(&id, &format!("expire{at}{h}"), json!({"messages": [h], "expiry": at}))}),
    );
    assert!(hashes(&ok(&c, &node.url, &retrieve(&id, 0, ""))).is_empty());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = reqwest::blocking::get(format!("http://{metrics}/metrics"))
            .unwrap()
            .text()
            .unwrap();
        if text.lines().any(|l| l == "sotto_node_messages 0") {
            assert!(text.contains("sotto_node_requests_total"));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "expired message never swept:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    node.stop();
}

#[test]
fn rate_limit_per_ip() {
    let dir = tempfile::tempdir().unwrap();
    // No refill: however slowly the requests go, the sixth onwards are refused.
    let node = NodeProcess::start(dir.path(), &["--rate-burst", "5", "--rate-per-sec", "0"]);
    let c = client();
    let info = json!({"method": "info", "params": {}});
    let statuses: Vec<u16> = (0..8).map(|_| rpc(&c, &node.url, &info).0).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    node.stop();
}

/// Every store answered 200 before a `kill -9` is there after the restart.
#[test]
fn kill_dash_nine_loses_no_acknowledged_store() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(
        dir.path(),
        &["--rate-burst", "100000", "--rate-per-sec", "100000"],
    );
    let url = node.url.clone();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (url, acked, stop) = (url.clone(), Arc::clone(&acked), Arc::clone(&stop));
            std::thread::spawn(move || {
                let c = client();
                let id = alice();
                for i in 0..2_000u32 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let data = format!("w{w}-m{i}");
                    let Ok(r) = c
                        .post(&url)
                        .body(store(&id, data.as_bytes()).to_string())
                        .send()
                    else {
                        break;
                    };
                    if r.status().as_u16() != 200 {
                        break;
                    }
                    let Ok(v) = r.json::<Value>() else { break };
                    acked
                        .lock()
                        .unwrap()
                        .push(v["hash"].as_str().unwrap().to_owned());
                }
            })
        })
        .collect();
    // Let the burst run, then kill the node mid-flight.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    node.kill9();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 50,
        "too few stores before the kill: {}",
        acked.len()
    );

    let node = NodeProcess::start(dir.path(), &[]);
    let c = client();
    let mut stored = std::collections::HashSet::new();
    let mut last = String::new();
    for _ in 0..1000 {
        let page = ok(&c, &node.url, &retrieve(&alice(), 0, &last));
        let got = hashes(&page);
        if let Some(l) = got.last() {
            last = l.clone();
        }
        stored.extend(got);
        if page["more"] != true {
            break;
        }
    }
    let lost: Vec<&String> = acked.iter().filter(|h| !stored.contains(*h)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged stores lost",
        lost.len(),
        acked.len()
    );
    node.stop();
}

#[test]
fn keys_command_and_modes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let run = |args: &[&str]| Command::new(BIN).args(args).output().unwrap();
    let first = run(&["keys", "--data-dir", d]);
    assert!(first.status.success());
    let keys: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(keys["pubkey_ed25519"].as_str().unwrap().len(), 64);
    assert_eq!(
        run(&["keys", "--data-dir", d]).stdout,
        first.stdout,
        "keys are kept"
    );
    let ed: sotto_crypto::Ed25519PublicKey =
        keys["pubkey_ed25519"].as_str().unwrap().parse().unwrap();
    assert_eq!(ed.to_x25519().unwrap().to_hex(), keys["pubkey_x25519"]);
    // A corrupt key file is an error, not a new identity.
    std::fs::write(dir.path().join("key_ed25519"), b"short").unwrap();
    let bad = run(&["keys", "--data-dir", d]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("32-byte key"));

    let other = tempfile::tempdir().unwrap();
    let no_mode = run(&[
        "--data-dir",
        other.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(!no_mode.status.success());
    assert!(String::from_utf8_lossy(&no_mode.stderr).contains("--standalone"));
    let config = other.path().join("node.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nbogus = 1\n").unwrap();
    let bad_config = run(&["--config", config.to_str().unwrap(), "--standalone"]);
    assert!(!bad_config.status.success());
    assert!(String::from_utf8_lossy(&bad_config.stderr).contains("bogus"));
}

/// Sotto's opt-in waiting retrieve (`sotto_wait_ms`): an empty retrieve is held until the
/// account's next message arrives, then answers with it; without a message it answers empty when
/// the wait is over; other accounts' messages do not wake it.
#[test]
fn waiting_retrieve_answers_when_a_message_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(dir.path(), &[]);
    let c = client();
    let id = alice();
    let waiting = |wait_ms: u64| {
        let mut body = retrieve(&id, 0, "");
        body["params"]["sotto_wait_ms"] = json!(wait_ms);
        body
    };

    // Nothing arrives: an empty answer once the wait is over.
    let empty = ok(&c, &node.url, &waiting(300));
    assert_eq!(hashes(&empty), Vec::<String>::new());

    // A message for someone else does not wake the wait; one for the account does.
    let url = node.url.clone();
    let body = waiting(20_000);
    let waiter = std::thread::spawn(move || ok(&client(), &url, &body));
    std::thread::sleep(Duration::from_millis(300));
    let bob = Identity::from_seed(&Seed::from_hex("ffffffffffffffffffffffffffffffff").unwrap());
    ok(&c, &node.url, &store(&bob, b"not for alice"));
    let stored = ok(&c, &node.url, &store(&id, b"wake up"));
    let answer = waiter.join().unwrap();
    assert_eq!(
        hashes(&answer),
        vec![stored["hash"].as_str().unwrap().to_owned()]
    );
}
