//! PySOGS compatibility (issue #8): `sogs` serves a database that PySOGS itself wrote, and
//! answers the requests of `tests/fixtures/pysogs/exchanges.json` as PySOGS answered them.
//!
//! The fixture (`tests/fixtures/pysogs/`, see its README) was built through PySOGS's CLI and
//! signed HTTP API; `exchanges.json` holds requests and PySOGS's recorded answers, replayed by
//! PySOGS on a fresh copy of the same database. Here the real `sogs` binary opens a fresh copy
//! (running its migrations), and each request is replayed in order over loopback:
//!
//! - `check: "exact"`: status, media type, JSON body, text body and file bytes are equal.
//! - `check: "shape"` (requests whose answers carry the time they ran, such as new posts):
//!   the same, except that floating-point numbers are compared by type only.
//!
//! An exchange may carry a `sotto` object: a documented deliberate difference (README "Known
//! differences"), where the expected answer is ours and the reason is recorded beside it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::sogs_auth::{sign_request, AuthHeaders, Signer};
use sotto_crypto::{BlindingKind, Identity, X25519PublicKey};

use common::{nonce, now};

/// How long `sogs serve` may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Per-request timeout: every exchange is a small local request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The PySOGS clock window is ±24 h (`sogs.md` §2.3); a timestamp a day and a minute old is
/// outside it (the recording used a day, at the edge; we use a clear margin).
const OLD_TIMESTAMP_SECS: i64 = 86_400 + 60;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pysogs")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fresh copy of the fixture in a scratch directory, with our config: the same relative
/// paths PySOGS used (`files.path` holds `uploads/<token>/<id>_<name>`, relative to the
/// server's working directory) and test mode, so that no cleanup pass changes the fixture
/// while it is compared (PySOGS ran without its cleanup mule too).
fn scratch_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture_dir(), dir.path());
    std::fs::write(
        dir.path().join("sogs.ini"),
        "[db]\nurl = sqlite:///sogs.db\n[crypto]\nkey_file = key_x25519\n\
         [files]\nuploads_dir = uploads\nexpiry = 36500\n\
         [direct_messages]\nexpiry = 3650\n[testing]\nenabled = yes\n",
    )
    .unwrap();
    dir
}

/// The real `sogs serve`, run in `dir`, killed when dropped.
struct Sogs {
    child: Child,
    base: String,
}

impl Sogs {
    fn start(dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sogs"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(dir)
            .env("SOGS_CONFIG", dir.join("sogs.ini"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = tx.send(addr.to_owned());
                }
            }
        });
        let base = rx.recv_timeout(START_TIMEOUT).expect("sogs did not start");
        Self { child, base }
    }
}

impl Drop for Sogs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fixture's accounts (their Ed25519 seeds are test-only keys) and the `{name}`
/// placeholders of the request list.
struct Fixture {
    server: X25519PublicKey,
    accounts: BTreeMap<String, (Identity, BlindedKeyPair)>,
    placeholders: BTreeMap<String, String>,
}

impl Fixture {
    fn load(dir: &Path) -> Self {
        let key: [u8; 32] = std::fs::read(dir.join("key_x25519"))
            .unwrap()
            .try_into()
            .unwrap();
        let server = sotto_sogs::keys::ServerKeys::from_bytes(key).x25519_public();
        let meta: Value =
            serde_json::from_slice(&std::fs::read(dir.join("users.json")).unwrap()).unwrap();
        let mut accounts = BTreeMap::new();
        let mut placeholders = BTreeMap::new();
        for (name, user) in meta["users"].as_object().unwrap() {
            let seed: [u8; 32] = hex::decode(user["seed"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            let identity = Identity::from_ed25519_seed(&seed);
            let blinded = BlindedKeyPair::new(&identity, &server, BlindingKind::Blind15).unwrap();
            // The recorded IDs must be the ones our key derivation gives.
            assert_eq!(blinded.blinded_id().to_string(), user["blinded_id"]);
            assert_eq!(identity.session_id().to_string(), user["session_id"]);
            placeholders.insert(name.clone(), blinded.blinded_id().to_string());
            placeholders.insert(format!("{name}05"), identity.session_id().to_string());
            accounts.insert(name.clone(), (identity, blinded));
        }
        for (name, id) in meta["ids"].as_object().unwrap() {
            placeholders.insert(name.clone(), id.to_string());
        }
        Self {
            server,
            accounts,
            placeholders,
        }
    }

    fn substitute(&self, s: &str) -> String {
        let mut out = s.to_owned();
        for (name, value) in &self.placeholders {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }
}

/// What one request got, in the form `exchanges.json` records PySOGS's answers.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    json: Option<Value>,
    text: Option<String>,
    b64: Option<String>,
    content_disposition: Option<String>,
}

fn answer_of(resp: reqwest::blocking::Response) -> Answer {
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let ct = header("content-type").unwrap_or_default();
    let content_disposition = header("content-disposition");
    let content_type = ct.split(';').next().unwrap_or("").trim().to_owned();
    let bytes = resp.bytes().unwrap();
    let (mut json, mut text, mut b64) = (None, None, None);
    if ct.starts_with("application/json") {
        json = Some(serde_json::from_slice(&bytes).unwrap());
    } else if ct.starts_with("text/") {
        text = Some(String::from_utf8_lossy(&bytes).into_owned());
    } else {
        b64 = Some(STANDARD.encode(&bytes));
    }
    Answer {
        status,
        content_type,
        json,
        text,
        b64,
        content_disposition,
    }
}

/// Send one recorded request, signed as its `auth` mode says.
fn send(
    client: &reqwest::blocking::Client,
    base: &str,
    fx: &Fixture,
    ex: &Value,
    previous_auth: &mut Option<AuthHeaders>,
) -> Answer {
    let method = ex["method"].as_str().unwrap();
    let path = fx.substitute(ex["path"].as_str().unwrap());
    let mut headers: Vec<(String, String)> = ex["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let body: Vec<u8> = if let Some(json) = ex.get("json") {
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        fx.substitute(&json.to_string()).into_bytes()
    } else if let Some(len) = ex.get("raw_len") {
        vec![0; usize::try_from(len.as_u64().unwrap()).unwrap()]
    } else if let Some(raw) = ex.get("raw_b64") {
        STANDARD.decode(raw.as_str().unwrap()).unwrap()
    } else {
        Vec::new()
    };
    let auth = ex["auth"].as_str().unwrap();
    if auth != "none" {
        let (identity, blinded) = &fx.accounts[ex["as"].as_str().unwrap()];
        let (p, q) = path.split_once('?').unwrap_or((&path, ""));
        let decoded = String::from_utf8(sotto_sogs::util::percent_decode(p)).unwrap();
        let sign = |ts: i64| {
            let signer = if auth == "unblinded" {
                Signer::Unblinded(identity)
            } else {
                Signer::Blinded(blinded)
            };
            sign_request(signer, &fx.server, method, &decoded, q, &body, &nonce(), ts)
        };
        let mut h = match auth {
            "replay" => previous_auth
                .clone()
                .expect("replay needs an earlier request"),
            "old_ts" => sign(now() - OLD_TIMESTAMP_SECS),
            _ => sign(now()),
        };
        match auth {
            "ok" | "replay" | "old_ts" | "unblinded" => {}
            "bad_ts" => h.timestamp = "abc".into(),
            "bad_sig" => {
                let mut sig = STANDARD.decode(&h.signature).unwrap();
                sig[40] ^= 1;
                h.signature = STANDARD.encode(sig);
            }
            "bad_pubkey" => h.pubkey = format!("15{}", "zz".repeat(32)),
            "short_nonce" => h.nonce = STANDARD.encode(b"12345678"),
            "missing_nonce" => {}
            other => panic!("unknown auth mode {other}"),
        }
        *previous_auth = Some(h.clone());
        headers.push(("X-SOGS-Pubkey".into(), h.pubkey));
        if auth != "missing_nonce" {
            headers.push(("X-SOGS-Nonce".into(), h.nonce));
        }
        headers.push(("X-SOGS-Timestamp".into(), h.timestamp));
        headers.push(("X-SOGS-Signature".into(), h.signature));
    }
    let mut req = client.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{base}{path}"),
    );
    for (k, v) in headers {
        req = req.header(k, v);
    }
    if !body.is_empty() {
        req = req.body(body);
    }
    answer_of(req.send().unwrap())
}

/// Differences between a recorded JSON value and ours; floats compared by type only when
/// `loose_floats`.
fn json_diff(at: &str, want: &Value, got: &Value, loose_floats: bool, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for k in w.keys().filter(|k| !g.contains_key(*k)) {
                out.push(format!("{at}.{k}: missing"));
            }
            for k in g.keys().filter(|k| !w.contains_key(*k)) {
                out.push(format!("{at}.{k}: extra"));
            }
            for (k, wv) in w {
                if let Some(gv) = g.get(k) {
                    json_diff(&format!("{at}.{k}"), wv, gv, loose_floats, out);
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                out.push(format!("{at}: {} items, want {}", g.len(), w.len()));
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                json_diff(&format!("{at}[{i}]"), wv, gv, loose_floats, out);
            }
        }
        (Value::Number(w), Value::Number(g)) => {
            if w.is_f64() != g.is_f64() {
                out.push(format!("{at}: number {g}, want {w} (integer vs float)"));
            } else if !(loose_floats && w.is_f64()) && w != g {
                out.push(format!("{at}: {g}, want {w}"));
            }
        }
        (w, g) if w == g => {}
        (w, g) => out.push(format!("{at}: {g}, want {w}")),
    }
}

/// Our answer against the expected one; a list of differences.
fn compare(want: &Value, got: &Answer, loose_floats: bool) -> Vec<String> {
    let mut out = Vec::new();
    if want["status"] != got.status {
        out.push(format!("status {}, want {}", got.status, want["status"]));
    }
    if want["content_type"] != got.content_type.as_str() {
        out.push(format!(
            "content-type {:?}, want {}",
            got.content_type, want["content_type"]
        ));
    }
    match (want.get("json"), &got.json) {
        (Some(w), Some(g)) => json_diff("$", w, g, loose_floats, &mut out),
        (None, None) => {}
        (w, g) => out.push(format!("JSON body {g:?}, want {w:?}")),
    }
    if let Some(w) = want.get("text") {
        if got.text.as_deref() != w.as_str() {
            out.push(format!("text {:?}, want {w}", got.text));
        }
    }
    if let Some(w) = want.get("b64") {
        if got.b64.as_deref() != w.as_str() {
            out.push(format!("bytes {:?}, want {w}", got.b64));
        }
    }
    if let Some(w) = want.get("content_disposition") {
        if got.content_disposition.as_deref() != w.as_str() {
            out.push(format!(
                "content-disposition {:?}, want {w}",
                got.content_disposition
            ));
        }
    }
    out
}

#[test]
fn sogs_serves_the_pysogs_fixture_as_pysogs_did() {
    let dir = scratch_copy();
    let fx = Fixture::load(dir.path());
    let exchanges: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.path().join("exchanges.json")).unwrap()).unwrap();
    assert!(exchanges.len() > 100, "the recorded exchanges are missing");
    let sogs = Sogs::start(dir.path());
    let client = reqwest::blocking::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut previous_auth = None;
    let mut failures = Vec::new();
    let mut deliberate = 0;
    for ex in &exchanges {
        let got = send(&client, &sogs.base, &fx, ex, &mut previous_auth);
        let loose = ex["check"] == "shape";
        let want = match ex.get("sotto") {
            Some(ours) => {
                deliberate += 1;
                assert!(
                    ours["reason"].as_str().is_some_and(|r| !r.is_empty()),
                    "a deliberate difference needs its reason: {}",
                    ex["name"]
                );
                ours
            }
            None => &ex["pysogs"],
        };
        let diffs = compare(want, &got, loose);
        if !diffs.is_empty() {
            failures.push(format!("{}: {}", ex["name"], diffs.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} exchanges differ ({deliberate} deliberate differences allowed):\n{}",
        failures.len(),
        exchanges.len(),
        failures.join("\n")
    );
}

/// The fixture is adopted as is: `--check-upgrades` finds nothing to do (exit 0), and the
/// admin listing shows PySOGS's rooms.
#[test]
fn sogs_cli_adopts_the_pysogs_database() {
    let dir = scratch_copy();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sogs"))
            .args(args)
            .current_dir(dir.path())
            .env("SOGS_CONFIG", dir.path().join("sogs.ini"))
            .output()
            .unwrap()
    };
    let check = run(&["--check-upgrades"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let list = run(&["-L"]);
    assert!(list.status.success());
    let out = String::from_utf8_lossy(&list.stdout);
    for token in ["lobby", "dev", "quiet"] {
        assert!(
            out.contains(&format!("/{token}?public_key=")),
            "{token} missing: {out}"
        );
    }
}

/// `sogs serve` adds to a PySOGS database only its bookkeeping table and its own rate-limit
/// index (`SERVER_INDEXES`), and leaves the admin CLI nothing to upgrade.
#[test]
fn serving_adds_only_the_migrations_table_and_the_rate_limit_index() {
    let dir = scratch_copy();
    let objects = || {
        let conn = rusqlite::Connection::open(dir.path().join("sogs.db")).unwrap();
        let mut stmt = conn
            .prepare("SELECT type || ' ' || name FROM sqlite_master ORDER BY 1")
            .unwrap();
        let names: std::collections::BTreeSet<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        names
    };
    let before = objects();
    drop(Sogs::start(dir.path()));
    let after = objects();
    let added: Vec<&String> = after.difference(&before).collect();
    assert_eq!(
        added,
        [
            "index sotto_messages_room_user_posted",
            "table sotto_migrations"
        ]
    );
    assert!(before.is_subset(&after));
    let check = Command::new(env!("CARGO_BIN_EXE_sogs"))
        .arg("--check-upgrades")
        .current_dir(dir.path())
        .env("SOGS_CONFIG", dir.path().join("sogs.ini"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
