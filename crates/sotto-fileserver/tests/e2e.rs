//! End-to-end tests: the real `sotto-fileserver` binary on 127.0.0.1:0 with a temporary data
//! directory, driven over plain HTTP and onion v4.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand_core::OsRng;
use reqwest::blocking::Client;
use serde_json::{json, Value};
use sotto_crypto::{Ed25519PublicKey, X25519PublicKey};
use sotto_onion::client::{build, Destination, Hop, Protocol, Response, Server, ServerRequest};
use sotto_onion::lsrpc::{Headers, V3Request, V4Request};
use sotto_onion::node::{peel, Layer, NodeKeys, Peeled};
use sotto_onion::EncType;

const BIN: &str = env!("CARGO_BIN_EXE_sotto-fileserver");
const WAIT: Duration = Duration::from_secs(20);

struct FileServer {
    child: Child,
    base: String,
    metrics: Option<String>,
}

impl FileServer {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut metrics = None;
        let base = loop {
            let line = rx.recv_timeout(WAIT).expect("server did not start");
            if let Some(m) = line.strip_prefix("metrics on ") {
                metrics = Some(m.to_owned());
            }
            if let Some(addr) = line.strip_prefix("listening on ") {
                break addr.to_owned();
            }
        };
        Self {
            child,
            base,
            metrics,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// SIGTERM, and wait (bounded) for a clean exit.
    fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                return;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> Client {
    Client::builder().timeout(WAIT).build().unwrap()
}

fn upload(c: &Client, s: &FileServer, body: &[u8], ttl: Option<&str>) -> (u16, Value) {
    let mut req = c.post(s.url("/file")).body(body.to_vec());
    if let Some(ttl) = ttl {
        req = req.header("X-FS-TTL", ttl);
    }
    let resp = req.send().unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

fn get_json(c: &Client, url: &str) -> (u16, Value) {
    let resp = c.get(url).send().unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn content_ids_upload_download_info_extend_dedup() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileServer::start(
        dir.path(),
        &["--max-file-size", "1000", "--max-ttl", "5000000"],
    );
    let c = client();
    let body = b"attachment bytes".to_vec();

    let (status, up) = upload(&c, &s, &body, None);
    assert_eq!(status, 200, "{up}");
    let id = up["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 44);
    let expires = up["expires"].as_f64().unwrap();
    let three_weeks = 21.0 * 86400.0;
    assert!((expires - now() - three_weeks).abs() < 60.0, "{expires}");

    let resp = c.get(s.url(&format!("/file/{id}"))).send().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // The reference's headers: Content-Type and Content-Length, no caching or disposition.
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/octet-stream"
    );
    assert_eq!(
        resp.headers()["content-length"].to_str().unwrap(),
        body.len().to_string()
    );
    for absent in ["expires", "cache-control", "content-disposition"] {
        assert!(resp.headers().get(absent).is_none(), "{absent}");
    }
    assert_eq!(resp.bytes().unwrap().as_ref(), body.as_slice());

    let (status, info) = get_json(&c, &s.url(&format!("/file/{id}/info")));
    assert_eq!(status, 200);
    assert_eq!(info["size"], json!(body.len()));
    assert!(info["uploaded"].as_f64().unwrap() <= now());
    assert_eq!(info["expires"].as_f64().unwrap(), expires);

    // Dedup: the same bytes give the same ID; a shorter TTL does not shorten the expiry.
    let (status, again) = upload(&c, &s, &body, Some("60"));
    assert_eq!(status, 200);
    assert_eq!(again["id"], json!(id));
    assert_eq!(again["expires"].as_f64().unwrap(), expires);
    let files: Vec<_> = walk(&dir.path().join("files"));
    assert_eq!(files.len(), 1, "{files:?}");

    // Extend: never shortens; a longer TTL moves the expiry.
    let ext = |ttl: &str| {
        let resp = c
            .post(s.url(&format!("/file/{id}/extend")))
            .header("X-FS-TTL", ttl)
            .send()
            .unwrap();
        (resp.status().as_u16(), resp.json::<Value>().unwrap())
    };
    let (status, e) = ext("10");
    assert_eq!(status, 200);
    assert_eq!(e["expires"].as_f64().unwrap(), expires);
    assert_eq!(e["size"], json!(body.len()));
    let (status, e) = ext("4000000");
    assert_eq!(status, 200);
    assert!(e["expires"].as_f64().unwrap() > expires + 1_000_000.0);
    // Too long or malformed TTLs: 400, as the reference.
    assert_eq!(ext("5000001").0, 400);
    assert_eq!(ext("soon").0, 400);
    assert_eq!(ext("-1").0, 400);
    assert_eq!(upload(&c, &s, b"other", Some("5000001")).0, 400);
    assert_eq!(upload(&c, &s, b"other", Some("x")).0, 400);

    // Size limits.
    let (status, err) = upload(&c, &s, &[7u8; 1001], None);
    assert_eq!((status, err), (413, json!({ "status_code": 413 })));
    assert_eq!(upload(&c, &s, &[7u8; 1000], None).0, 200);
    assert_eq!(upload(&c, &s, b"", None).0, 413);

    // Missing files.
    let missing = "A".repeat(44);
    assert_eq!(
        get_json(&c, &s.url(&format!("/file/{missing}"))),
        (404, json!({ "status_code": 404 }))
    );
    assert_eq!(
        get_json(&c, &s.url(&format!("/file/{missing}/info"))).0,
        404
    );
    assert_eq!(
        c.post(s.url(&format!("/file/{missing}/extend")))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        404
    );

    // Legacy routes with content IDs: the result is the string ID.
    let b64 = base64::engine::general_purpose::STANDARD.encode(b"legacy");
    let resp = c
        .post(s.url("/files"))
        .json(&json!({ "file": b64 }))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let v: Value = resp.json().unwrap();
    assert_eq!(v["status_code"], json!(200));
    let lid = v["result"].as_str().unwrap().to_owned();
    assert_eq!(lid.len(), 44);
    let (status, v) = get_json(&c, &s.url(&format!("/files/{lid}")));
    assert_eq!(status, 200);
    assert_eq!(v, json!({ "status_code": 200, "result": b64 }));
    s.terminate();
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn compat_ids_and_legacy_routes() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileServer::start(dir.path(), &["--compat-ids"]);
    let c = client();
    let (status, up) = upload(&c, &s, b"hello", None);
    assert_eq!(status, 200);
    let id = up["id"].as_str().unwrap().to_owned();
    let n: u64 = id.parse().unwrap();
    assert!(n < 1 << 53);
    assert!(up["expires"].as_f64().is_some());
    // No dedup with random IDs.
    let (_, up2) = upload(&c, &s, b"hello", None);
    assert_ne!(up2["id"], up["id"]);

    let resp = c.get(s.url(&format!("/file/{id}"))).send().unwrap();
    assert_eq!(resp.bytes().unwrap().as_ref(), b"hello");
    let (status, info) = get_json(&c, &s.url(&format!("/file/{id}/info")));
    assert_eq!(status, 200);
    assert_eq!(info["size"], json!(5));
    // Random IDs cannot be extended.
    let resp = c.post(s.url(&format!("/file/{id}/extend"))).send().unwrap();
    assert_eq!(resp.status().as_u16(), 404);

    // Legacy upload: the ID comes back as an integer.
    let b64 = base64::engine::general_purpose::STANDARD.encode([1u8, 2, 3, 250]);
    let v: Value = c
        .post(s.url("/files"))
        .json(&json!({ "file": b64 }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["status_code"], json!(200));
    let lid = v["result"].as_u64().unwrap();
    let (status, got) = get_json(&c, &s.url(&format!("/files/{lid}")));
    assert_eq!(status, 200);
    assert_eq!(got["result"], json!(b64));
    let resp = c.get(s.url(&format!("/file/{lid}"))).send().unwrap();
    assert_eq!(resp.bytes().unwrap().as_ref(), &[1u8, 2, 3, 250]);
    // Unpadded base64 is accepted too.
    let v: Value = c
        .post(s.url("/files"))
        .json(&json!({ "file": "aGk" }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["status_code"], json!(200));
}

#[test]
fn expired_files_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileServer::start(dir.path(), &["--cleanup-interval", "0.2"]);
    let c = client();
    let (status, up) = upload(&c, &s, b"short lived", Some("1"));
    assert_eq!(status, 200);
    let id = up["id"].as_str().unwrap().to_owned();
    assert!(up["expires"].as_f64().unwrap() <= now() + 1.5);
    let (_, keep) = upload(&c, &s, b"long lived", None);
    let keep = keep["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + WAIT;
    loop {
        let gone = get_json(&c, &s.url(&format!("/file/{id}"))).0 == 404
            && walk(&dir.path().join("files")).len() == 1;
        if gone {
            break;
        }
        assert!(Instant::now() < deadline, "expired file still there");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get_json(&c, &s.url(&format!("/file/{id}/info"))).0, 404);
    assert_eq!(get_json(&c, &s.url(&format!("/files/{id}"))).0, 404);
    assert_eq!(
        c.post(s.url(&format!("/file/{id}/extend")))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        c.get(s.url(&format!("/file/{keep}")))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

#[test]
fn restart_keeps_files_and_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let c = client();
    let (id, expires, short) = {
        let s = FileServer::start(dir.path(), &["--cleanup-interval", "0.2"]);
        let (_, up) = upload(&c, &s, b"persistent", None);
        let (_, short) = upload(&c, &s, b"ephemeral", Some("2"));
        // A hard kill: acknowledged uploads must already be on disk.
        drop(s);
        (
            up["id"].as_str().unwrap().to_owned(),
            up["expires"].as_f64().unwrap(),
            short["id"].as_str().unwrap().to_owned(),
        )
    };
    std::thread::sleep(Duration::from_millis(2500));
    let s = FileServer::start(dir.path(), &["--cleanup-interval", "0.2"]);
    let resp = c.get(s.url(&format!("/file/{id}"))).send().unwrap();
    assert_eq!(resp.bytes().unwrap().as_ref(), b"persistent");
    let (_, info) = get_json(&c, &s.url(&format!("/file/{id}/info")));
    assert_eq!(info["expires"].as_f64().unwrap(), expires);
    // The file that expired while the server was down is cleaned up after the restart.
    assert_eq!(get_json(&c, &s.url(&format!("/file/{short}"))).0, 404);
    let deadline = Instant::now() + WAIT;
    while walk(&dir.path().join("files")).len() != 1 {
        assert!(
            Instant::now() < deadline,
            "expired file not cleaned after restart"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s.terminate();
}

/// A raw HTTP/1.1 request, so paths reach the server exactly as written.
fn raw(s: &FileServer, method: &str, path: &str, body: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", s.port())).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out);
    out.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn malformed_input_gets_4xx() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileServer::start(dir.path(), &[]);
    let c = client();
    std::fs::write(dir.path().join("files").join("secret"), b"nope").unwrap();
    for path in [
        "/file/../key_ed25519",
        "/file/..%2Fkey_ed25519",
        "/file/%2e%2e",
        "/file/..",
        "/file/a.b",
        "/file/%00",
        "/file/secret/../../key_ed25519",
        "/files/..%2F..%2Fkey_ed25519",
        "/file/%2Fetc%2Fpasswd/info",
        "/file/",
        "/nothing",
    ] {
        let code = raw(&s, "GET", path, b"");
        assert!((400..500).contains(&code), "{path}: {code}");
    }
    let long = "a".repeat(45);
    assert_eq!(get_json(&c, &s.url(&format!("/file/{long}"))).0, 404);
    for body in [
        &b"not json"[..],
        b"{}",
        b"[]",
        b"{\"file\": 5}",
        b"{\"file\": \"%%%not base64\"}",
        b"{\"file\": \"\"}",
    ] {
        let resp = c
            .post(s.url("/files"))
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .unwrap();
        let code = resp.status().as_u16();
        assert!((400..500).contains(&code), "{body:?}: {code}");
    }
    // Garbage onion requests: 400 without an encrypted body.
    for path in ["/oxen/v4/lsrpc", "/oxen/v3/lsrpc", "/loki/v3/lsrpc"] {
        assert_eq!(raw(&s, "POST", path, b"garbage"), 400);
    }
    // Still healthy.
    assert_eq!(upload(&c, &s, b"ok", None).0, 200);
}

fn server_x25519(dir: &Path) -> X25519PublicKey {
    let out = Command::new(BIN)
        .args(["keys", "--data-dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["pubkey_x25519"].as_str().unwrap().parse().unwrap()
}

/// Build an onion request to the server through one hop, peel that hop as a node would, POST the
/// server's layer to it, and decrypt the answer.
fn onion_request(s: &FileServer, server_key: X25519PublicKey, request: ServerRequest) -> Response {
    let mut seed = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut seed);
    let hop_keys = NodeKeys::new(seed);
    let hop = Hop {
        ed25519: Ed25519PublicKey([9u8; 32]),
        x25519: *hop_keys.public(),
    };
    let target = match request {
        ServerRequest::V4(_) => "/oxen/v4/lsrpc",
        ServerRequest::V3(_) => "/oxen/v3/lsrpc",
    };
    let destination = Destination::Server {
        server: Server {
            host: "127.0.0.1".into(),
            protocol: Protocol::Http,
            port: Some(s.port()),
            x25519: server_key,
        },
        request,
    };
    let request = build(&mut OsRng, EncType::XChaCha20, &[hop], &destination).unwrap();
    let layer = Layer::from_entry_body(&request.body).unwrap();
    let Peeled::Proxy { request: proxy, .. } = peel(&hop_keys, &layer).unwrap() else {
        panic!("expected a proxy request");
    };
    let url = proxy.url().unwrap();
    assert_eq!(url, s.url(target));
    let resp = client().post(url).body(proxy.payload).send().unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().unwrap();
    request.reply.decrypt_response(status, &bytes).unwrap()
}

/// [`onion_request`] with a v4 request.
fn through_onion(
    s: &FileServer,
    server_key: X25519PublicKey,
    method: &str,
    endpoint: &str,
    headers: Headers,
    body: Option<Vec<u8>>,
) -> sotto_onion::lsrpc::V4Response {
    let request = ServerRequest::V4(V4Request {
        method: method.into(),
        endpoint: endpoint.into(),
        headers,
        body,
    });
    match onion_request(s, server_key, request) {
        Response::V4(r) => r,
        other => panic!("unexpected reply {other:?}"),
    }
}

/// [`onion_request`] with a deprecated v3 request (JSON, the body a string); the decrypted
/// answer parsed as JSON.
fn through_onion_v3(
    s: &FileServer,
    server_key: X25519PublicKey,
    method: &str,
    endpoint: &str,
    body: Option<String>,
) -> Value {
    let request = ServerRequest::V3(V3Request {
        endpoint: endpoint.into(),
        method: method.into(),
        body,
        headers: Headers::new(),
        auth_code: None,
    });
    match onion_request(s, server_key, request) {
        Response::V3(r) => serde_json::from_slice(&r).unwrap(),
        other => panic!("unexpected reply {other:?}"),
    }
}

#[test]
fn onion_v4_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let key = server_x25519(dir.path());
    let s = FileServer::start(dir.path(), &[]);
    let body = vec![0xabu8; 100_000];
    let headers = Headers::from([
        (
            "Content-Type".to_owned(),
            "application/octet-stream".to_owned(),
        ),
        ("X-FS-TTL".to_owned(), "3600".to_owned()),
    ]);
    let up = through_onion(&s, key, "POST", "/file", headers, Some(body.clone()));
    assert_eq!(up.code, 200, "{}", String::from_utf8_lossy(&up.body));
    let v: Value = serde_json::from_slice(&up.body).unwrap();
    let id = v["id"].as_str().unwrap().to_owned();
    assert!((v["expires"].as_f64().unwrap() - now() - 3600.0).abs() < 60.0);

    let down = through_onion(&s, key, "GET", &format!("/file/{id}"), Headers::new(), None);
    assert_eq!(down.code, 200);
    assert_eq!(down.body, body);
    assert_eq!(
        down.headers.get("content-type").map(String::as_str),
        Some("application/octet-stream")
    );
    let info = through_onion(
        &s,
        key,
        "GET",
        &format!("/file/{id}/info"),
        Headers::new(),
        None,
    );
    let v: Value = serde_json::from_slice(&info.body).unwrap();
    assert_eq!(v["size"], json!(100_000));
    let missing = through_onion(&s, key, "GET", "/file/nope", Headers::new(), None);
    assert_eq!(missing.code, 404);
    // The same bytes over plain HTTP.
    let resp = client().get(s.url(&format!("/file/{id}"))).send().unwrap();
    assert_eq!(resp.bytes().unwrap().len(), 100_000);
}

#[test]
fn keys_command_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let a = server_x25519(dir.path());
    let b = server_x25519(dir.path());
    assert_eq!(a, b);
    let seed = std::fs::read(dir.path().join("key_ed25519")).unwrap();
    assert_eq!(seed.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("key_ed25519"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn config_file_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("fs.toml");
    std::fs::write(
        &config,
        "max_file_size = 10\nmetrics_listen = \"127.0.0.1:0\"\ncompat_ids = true\n",
    )
    .unwrap();
    let s = FileServer::start(dir.path(), &["--config", config.to_str().unwrap()]);
    let c = client();
    assert_eq!(upload(&c, &s, &[1u8; 11], None).0, 413);
    let (status, up) = upload(&c, &s, &[1u8; 10], None);
    assert_eq!(status, 200);
    assert!(up["id"].as_str().unwrap().parse::<u64>().is_ok());
    let metrics = c
        .get(s.metrics.clone().expect("metrics address"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("sotto_fileserver_upload_bytes_total 10"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sotto_fileserver_requests_total"),
        "{metrics}"
    );

    std::fs::write(&config, "max_file_sise = 10\n").unwrap();
    let out = Command::new(BIN)
        .args(["--data-dir", dir.path().to_str().unwrap(), "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_file_sise"));
}

/// The deprecated v3 onion form reaches the JSON routes: a legacy upload and download, info,
/// errors as `{"status_code": n}`, and a GET with a body refused.
#[test]
fn onion_v3_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let key = server_x25519(dir.path());
    let s = FileServer::start(dir.path(), &["--max-file-size", "40000"]);
    let bytes: Vec<u8> = (0..30_000u32).map(|i| (i % 253) as u8).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let up = through_onion_v3(
        &s,
        key,
        "POST",
        "/files",
        Some(json!({ "file": b64 }).to_string()),
    );
    assert_eq!(up["status_code"], json!(200), "{up}");
    let id = up["result"].as_str().unwrap().to_owned();
    // Without the leading slash too, as old clients send it.
    let down = through_onion_v3(&s, key, "GET", &format!("files/{id}"), None);
    assert_eq!(down, json!({ "status_code": 200, "result": b64 }));
    let info = through_onion_v3(&s, key, "GET", &format!("/file/{id}/info"), None);
    assert_eq!(info["size"], json!(bytes.len()));
    let missing = through_onion_v3(&s, key, "GET", &format!("/files/{}", "A".repeat(44)), None);
    assert_eq!(missing, json!({ "status_code": 404 }));
    let bad = through_onion_v3(&s, key, "POST", "/files", Some("not json".into()));
    assert_eq!(bad, json!({ "status_code": 400 }));
    let get_with_body = through_onion_v3(&s, key, "GET", &format!("/files/{id}"), Some("x".into()));
    assert_eq!(get_with_body, json!({ "status_code": 400 }));
    let oversized = base64::engine::general_purpose::STANDARD.encode([1u8; 40_001]);
    let too_big = through_onion_v3(
        &s,
        key,
        "POST",
        "/files",
        Some(json!({ "file": oversized }).to_string()),
    );
    assert_eq!(too_big, json!({ "status_code": 413 }));
    // The same file over plain HTTP.
    let resp = client().get(s.url(&format!("/file/{id}"))).send().unwrap();
    assert_eq!(resp.bytes().unwrap().as_ref(), bytes.as_slice());
}

/// `X-FS-*` headers signing `GET /session_version?platform=…` with a `07` key.
fn version_headers(id: &sotto_crypto::Identity, ts: i64, query: &str) -> Vec<(String, String)> {
    let ts = ts.to_string();
    let msg = sotto_fileserver::version::signed_message(
        &ts,
        &sotto_fileserver::version::SignedRequest {
            method: "GET",
            path: "/session_version",
            query,
            body: b"",
        },
    );
    vec![
        (
            "X-FS-Pubkey".into(),
            format!("07{}", id.ed25519_public().to_hex()),
        ),
        ("X-FS-Timestamp".into(), ts),
        ("X-FS-Signature".into(), hex::encode(id.sign(&msg))),
    ]
}

#[test]
fn session_version_and_token_info() {
    let dir = tempfile::tempdir().unwrap();
    let key = server_x25519(dir.path());
    let config = dir.path().join("fs.toml");
    std::fs::write(
        &config,
        "metrics_listen = \"127.0.0.1:0\"\n\
         [session_version.desktop]\nversion = \"1.14.5\"\nupdated = 1733000000.0\n\
         name = \"v1.14.5\"\nnotes = \"Fixes.\"\n\
         assets = [{ name = \"session.AppImage\", url = \"https://example.org/session.AppImage\" }]\n\
         [session_version.desktop.prerelease]\nversion = \"1.15.0\"\n\
         [session_version.ios]\nversion = \"2.8.1\"\n",
    )
    .unwrap();
    let s = FileServer::start(dir.path(), &["--config", config.to_str().unwrap()]);
    let c = client();

    let (status, v) = get_json(&c, &s.url("/session_version?platform=desktop"));
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!({
            "status_code": 200, "updated": 1_733_000_000.0, "result": "1.14.5",
            "name": "v1.14.5", "notes": "Fixes.",
            "assets": [{"name": "session.AppImage", "url": "https://example.org/session.AppImage"}],
            "prerelease": {"result": "1.15.0", "updated": 1_733_000_000.0},
        })
    );
    // The first `platform` counts, as Flask's `request.args.get`.
    let (status, v) = get_json(&c, &s.url("/session_version?platform=desktop&platform=ios"));
    assert_eq!((status, &v["result"]), (200, &json!("1.14.5")));
    // `updated` defaults to when the server started.
    let (status, v) = get_json(&c, &s.url("/session_version?platform=ios"));
    assert_eq!(status, 200);
    assert_eq!(v["result"], json!("2.8.1"));
    assert!((v["updated"].as_f64().unwrap() - now()).abs() < 60.0, "{v}");
    // A real platform nobody configured: 502, as the reference without releases.
    assert_eq!(
        get_json(&c, &s.url("/session_version?platform=android")),
        (502, json!({ "status_code": 502 }))
    );
    for bad in [
        "/session_version",
        "/session_version?platform=linux",
        "/session_version?platform=",
        "/session_version?platform=%ff%fe",
    ] {
        assert_eq!(
            get_json(&c, &s.url(bad)),
            (404, json!({ "status_code": 404 })),
            "{bad}"
        );
    }

    // Signed with a version-blinded key: accepted; tampered, partial or stale: refused.
    let id = sotto_crypto::Identity::from_seed(&sotto_crypto::Seed::Standard([5; 16]));
    let t = now() as i64;
    let signed = |url: &str, headers: &[(String, String)]| {
        let mut req = c.get(s.url(url));
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req.send().unwrap();
        (resp.status().as_u16(), resp.text().unwrap())
    };
    let good = version_headers(&id, t, "platform=desktop");
    let (status, body) = signed("/session_version?platform=desktop", &good);
    assert_eq!(status, 200, "{body}");
    let (status, body) = signed("/session_version?platform=ios", &good);
    assert_eq!(
        (status, body.as_str()),
        (
            401,
            "Invalid authentication: X-FS-Signature verification failed"
        )
    );
    let (status, body) = signed("/session_version?platform=desktop", &good[..2]);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("missing"), "{body}");
    let stale = version_headers(&id, t - 2 * 86_400, "platform=desktop");
    assert_eq!(signed("/session_version?platform=desktop", &stale).0, 425);
    let mut unblinded = good.clone();
    unblinded[0].1 = format!("05{}", &good[0].1[2..]);
    assert_eq!(
        signed("/session_version?platform=desktop", &unblinded).0,
        400
    );
    let mut garbage = good.clone();
    garbage[2].1 = "x".repeat(10_000);
    assert_eq!(signed("/session_version?platform=desktop", &garbage).0, 400);

    // Through an onion v4 request, query string and signature intact.
    let onion = version_headers(&id, t, "platform=ios");
    let v = through_onion(
        &s,
        key,
        "GET",
        "/session_version?platform=ios",
        onion.into_iter().collect(),
        None,
    );
    assert_eq!(v.code, 200, "{}", String::from_utf8_lossy(&v.body));
    let v: Value = serde_json::from_slice(&v.body).unwrap();
    assert_eq!(v["result"], json!("2.8.1"));

    // No token statistics here: 502, as the reference without them.
    assert_eq!(
        get_json(&c, &s.url("/token_info?days=7")),
        (502, json!({ "status_code": 502 }))
    );

    let metrics = c
        .get(s.metrics.clone().expect("metrics address"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains(
            "sotto_fileserver_version_checks_total{authenticated=\"yes\",platform=\"desktop\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "sotto_fileserver_version_checks_total{authenticated=\"yes\",platform=\"ios\"} 1"
        ),
        "{metrics}"
    );

    // A bad release section stops the server from starting.
    std::fs::write(&config, "[session_version.linux]\nversion = \"1\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["--data-dir", dir.path().to_str().unwrap(), "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("linux"));
}
