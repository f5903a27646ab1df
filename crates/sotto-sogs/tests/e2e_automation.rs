//! The real `sogs serve` binary and the automation API: a token issued by the CLI while the
//! server runs works at once over HTTP, and its revocation by the CLI applies at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::time::Duration;

use serde_json::{json, Value};
use sotto_testkit::Process;

use common::sogs_command as sogs;

/// Bound on every HTTP exchange with the local server.
const HTTP_TIMEOUT: Duration = Duration::from_secs(20);

fn cli(dir: &std::path::Path, args: &[&str]) -> String {
    let out = sogs(dir).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bearer_token_lifecycle_against_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    cli(dir.path(), &["--initialize"]);
    cli(dir.path(), &["--add-room", "lobby"]);
    let mut serve = sogs(dir.path());
    serve.args(["serve", "--listen", "127.0.0.1:0"]);
    let running = Process::start_command(serve, "http").unwrap();
    let base = format!("http://{}", running.addr);

    let out = cli(dir.path(), &["--add-api-token", "news-bot", "--admin"]);
    let token = out.lines().last().unwrap().trim().to_owned();
    let client = reqwest::blocking::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .build()
        .unwrap();
    let bearer = format!("Bearer {token}");

    let resp = client
        .post(format!("{base}/room/lobby/message"))
        .header("Authorization", &bearer)
        .json(&json!({"text": "Breaking news"}))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let posted: Value = resp.json().unwrap();

    let list: Value = client
        .get(format!("{base}/room/lobby/messages?since=0"))
        .header("Authorization", &bearer)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(list[0]["text"], "Breaking news");
    assert_eq!(list[0]["author"], posted["author"]);

    // Anonymous PySOGS polling sees the same post as a signed Session message.
    let recent: Value = client
        .get(format!("{base}/room/lobby/messages/recent"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(recent[0]["session_id"], posted["author"]);
    assert!(recent[0]["signature"].is_string());

    let doc: Value = client
        .get(format!("{base}/api/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(doc["paths"]["/room/{token}/messages"].is_object());

    cli(dir.path(), &["--revoke-api-token", "news-bot"]);
    let resp = client
        .get(format!("{base}/room/lobby"))
        .header("Authorization", &bearer)
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}
