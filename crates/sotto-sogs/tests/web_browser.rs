//! The room page in a real browser: headless Chromium driven through chromedriver (W3C
//! WebDriver over HTTP) against the real `sogs serve` on loopback. A message posted through the
//! API must appear on the open page as `displayName: body` (decoded by our script), as text.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test is skipped with a message, unless `CI` is set: then it fails. The screenshot is checked
//! and removed with the test's directory; `SOGS_WEB_SCREENSHOT=FILE` keeps a copy.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use prost::Message as _;
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::sogs_auth::{sign_request, Signer};
use sotto_crypto::{BlindingKind, Identity};
use sotto_message::proto::{Content, DataMessage, LokiProfile};
use sotto_sogs::keys::ServerKeys;
use sotto_testkit::Process;

use common::{now, sogs_command as sogs};

/// How long chromedriver may take to say it is ready.
const DRIVER_START: Duration = Duration::from_secs(30);
/// How long the page may take to show the message: the script polls every 5 s.
const SHOW_TIMEOUT: Duration = Duration::from_secs(45);
/// Time limit of one WebDriver command (starting the browser is the slow one).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);

/// A display name and body that would be markup if the page inserted them as HTML.
const NAME: &str = "Alice <img src=x onerror=alert(1)>";
const BODY: &str = "hello from the browser test & <b>friends</b>";

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// chromium and chromedriver, or `None` (after saying why) when the test is to be skipped.
fn browser() -> Option<(PathBuf, PathBuf)> {
    match (on_path("chromium"), on_path("chromedriver")) {
        (Some(chromium), Some(driver)) => Some((chromium, driver)),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but chromium/chromedriver are missing (apt-get install chromium \
                 chromium-driver)"
            );
            eprintln!("SKIPPED: chromium and chromedriver are not installed");
            None
        }
    }
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start chromedriver on a free loopback port; return it and its base URL.
fn start_driver(driver: &Path, log: &Path) -> (Killed, String) {
    // chromedriver cannot report a port it picked, so take a free one from the OS.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Killed(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    // Ready when its status endpoint says so (W3C WebDriver `GET /status`).
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let deadline = Instant::now() + DRIVER_START;
    loop {
        let ready = http
            .get(format!("{url}/status"))
            .send()
            .and_then(|r| r.json::<Value>())
            .is_ok_and(|v| v["value"]["ready"] == json!(true));
        if ready {
            break;
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("chromedriver exited: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not start in time"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, url)
}

/// One WebDriver session.
struct Session {
    http: reqwest::blocking::Client,
    base: String,
}

impl Session {
    fn new(driver_url: &str, chromium: &Path, profile: &Path) -> Self {
        let http = reqwest::blocking::Client::builder()
            .timeout(COMMAND_TIMEOUT)
            .build()
            .unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    // Tests run as root in CI, where Chromium's sandbox cannot start.
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--window-size=1000,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let resp: Value = http
            .post(format!("{driver_url}/session"))
            .json(&caps)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let id = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {resp}"))
            .to_owned();
        Self {
            http,
            base: format!("{driver_url}/session/{id}"),
        }
    }

    fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp: Value = req.send().unwrap().json().unwrap();
        if resp["value"].get("error").is_some() {
            panic!("WebDriver {path}: {resp}");
        }
        resp["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})));
    }

    fn eval(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    fn screenshot(&self) -> Vec<u8> {
        let b64 = self.command(reqwest::Method::GET, "/screenshot", None);
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.http.delete(&self.base).send();
    }
}

/// Post `data` (padded as Session pads it) to `room` as a new blinded user; return that
/// user's blinded ID.
fn post(base: &str, server: &sotto_crypto::X25519PublicKey, room: &str, data: &[u8]) -> String {
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let identity = Identity::from_ed25519_seed(&seed);
    let blinded = BlindedKeyPair::new(&identity, server, BlindingKind::Blind15).unwrap();
    let data = sotto_message::padding::pad(data);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let body =
        serde_json::to_vec(&json!({"data": b64(&data), "signature": b64(&[9u8; 64])})).unwrap();
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let path = format!("/room/{room}/message");
    let auth = sign_request(
        Signer::Blinded(&blinded),
        server,
        "POST",
        &path,
        "",
        &body,
        &nonce,
        now(),
    );
    let mut req = reqwest::blocking::Client::new()
        .post(format!("{base}{path}"))
        .header("Content-Type", "application/json")
        .body(body);
    for (k, v) in auth.pairs() {
        req = req.header(k, v);
    }
    let resp = req.send().unwrap();
    assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.text());
    blinded.blinded_id().to_string()
}

#[test]
fn room_page_shows_posted_messages_in_chromium() {
    let Some((chromium, driver)) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--initialize"][..],
        &["--add-room", "lobby", "--name", "The Lobby"][..],
    ] {
        let out = sogs(dir.path()).args(args).output().unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let server_key = ServerKeys::load(&dir.path().join("key_x25519"))
        .unwrap()
        .x25519_public();
    let mut cmd = sogs(dir.path());
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Process::start_command(cmd, "http").unwrap();
    let base = format!("http://{}", server.addr);

    let (_driver, driver_url) = start_driver(&driver, &dir.path().join("chromedriver.log"));
    let browser = Session::new(&driver_url, &chromium, &dir.path().join("profile"));
    browser.goto(&format!("{base}/r/lobby/"));
    assert_eq!(browser.eval("return document.title"), json!("The Lobby"));
    assert_eq!(
        browser.eval("return document.getElementById('join-url').textContent"),
        json!(format!(
            "http://example.net/lobby?public_key={}",
            hex::encode(server_key.0)
        ))
    );

    let content = Content {
        data_message: Some(DataMessage {
            body: Some(BODY.to_owned()),
            profile: Some(LokiProfile {
                display_name: Some(NAME.to_owned()),
                ..LokiProfile::default()
            }),
            ..DataMessage::default()
        }),
        ..Content::default()
    };
    // Undecodable data first (an endless varint, a field longer than the message): the script
    // skips those and goes on.
    post(&base, &server_key, "lobby", &[0xff; 12]);
    post(&base, &server_key, "lobby", &[0x0a, 0x50, 0x01]);
    // No profile: the sender shows as the start of its blinded ID.
    let anonymous = post(
        &base,
        &server_key,
        "lobby",
        &Content::text("no name here").encode_to_vec(),
    );
    post(&base, &server_key, "lobby", &content.encode_to_vec());

    let want = format!("{NAME}: {BODY}");
    let deadline = Instant::now() + SHOW_TIMEOUT;
    let shown = loop {
        let items = browser.eval(
            "return Array.from(document.querySelectorAll('#messages li'), li => li.textContent)",
        );
        if items.as_array().unwrap().iter().any(|i| i == &json!(want)) {
            break items;
        }
        assert!(
            Instant::now() < deadline,
            "the page never showed {want:?}; it shows {items}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    // Oldest first, the undecodable ones left out.
    let first = format!("{}…: no name here", &anonymous[..8]);
    assert_eq!(shown, json!([first, want]));
    // Shown as text: the would-be markup made no elements.
    assert_eq!(
        browser.eval("return document.querySelectorAll('#messages img, #messages b').length"),
        json!(0)
    );
    // The QR code loaded at its full size.
    assert_eq!(
        browser.eval("return document.querySelector('.invite img').naturalWidth"),
        json!(512)
    );

    let shot = browser.screenshot();
    let path = dir.path().join("room.png");
    std::fs::write(&path, &shot).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(std::fs::read(&path).unwrap()))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert!(info.width >= 200 && info.height >= 200, "{info:?}");
    // Not a blank page: many distinct bytes (text, the QR code).
    let mut seen = [false; 256];
    for &b in &pixels[..info.buffer_size()] {
        seen[usize::from(b)] = true;
    }
    assert!(seen.iter().filter(|&&s| s).count() > 16);
    // To look at it: SOGS_WEB_SCREENSHOT=/some/file.png keeps a copy.
    if let Some(keep) = std::env::var_os("SOGS_WEB_SCREENSHOT") {
        std::fs::copy(&path, &keep).unwrap();
    }
    eprintln!("screenshot: {} ({} bytes)", path.display(), shot.len());
    drop(browser);
    server.terminate().unwrap();
}
