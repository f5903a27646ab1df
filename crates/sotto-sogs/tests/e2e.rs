//! The real `sogs serve` binary on a loopback port chosen by the OS: a signed post and a fetch
//! over HTTP, then a graceful stop on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use base64::Engine as _;
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::sogs_auth::{sign_request, Signer};
use sotto_crypto::{BlindingKind, Identity};
use sotto_sogs::keys::ServerKeys;
use sotto_testkit::Process;

use common::{now, sogs_command as sogs};

#[test]
fn signed_post_and_fetch_over_http() {
    let dir = tempfile::tempdir().unwrap();
    // SOGS_TEST_DB=postgresql: the same on a fresh PostgreSQL schema.
    let db = common::pg_backend()
        .map(|base| format!("[db]\nurl = {}\n", common::fresh_pg_schema(&base)))
        .unwrap_or_default();
    std::fs::write(
        dir.path().join("sogs.ini"),
        format!("{db}[net]\nhttp_listen = 127.0.0.1:1\n[log]\nlevel = INFO\n"),
    )
    .unwrap();
    for args in [
        &["--initialize"][..],
        &["--add-room", "lobby", "--name", "Lobby"][..],
    ] {
        let out = sogs(dir.path()).args(args).output().unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let server = ServerKeys::load(&dir.path().join("key_x25519"))
        .unwrap()
        .x25519_public();

    let mut serve = sogs(dir.path());
    serve.args(["serve", "--listen", "127.0.0.1:0"]);
    let running = Process::start_command(serve, "http").unwrap();
    let base = format!("http://{}", running.addr);
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let identity = Identity::from_ed25519_seed(&seed);
    let blinded = BlindedKeyPair::new(&identity, &server, BlindingKind::Blind15).unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let client = reqwest::blocking::Client::new();

    let mut padded = b"hello over http".to_vec();
    padded.push(0x80);
    padded.resize(32, 0);
    let body =
        serde_json::to_vec(&json!({"data": b64(&padded), "signature": b64(&[9u8; 64])})).unwrap();
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let path = "/room/lobby/message";
    let auth = sign_request(
        Signer::Blinded(&blinded),
        &server,
        "POST",
        path,
        "",
        &body,
        &nonce,
        now(),
    );
    let mut req = client
        .post(format!("{base}{path}"))
        .header("Content-Type", "application/json")
        .body(body);
    for (k, v) in auth.pairs() {
        req = req.header(k, v);
    }
    let resp = req.send().unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let posted: Value = resp.json().unwrap();
    assert_eq!(
        posted["session_id"],
        json!(blinded.blinded_id().to_string())
    );

    let resp = client
        .get(format!("{base}/room/lobby/messages/recent"))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let list: Value = resp.json().unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["data"], json!(b64(&padded)));
    assert_eq!(list[0]["id"], posted["id"]);
    assert!(list[0]["posted"].is_f64());

    // SIGTERM: a clean exit.
    let status = running.terminate().unwrap();
    assert!(status.success(), "{status:?}");
}
