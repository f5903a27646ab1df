//! The community client against a scripted HTTP server on loopback (`Link::Direct`): the
//! server's refusals become clear errors, and malformed or hostile answers are errors, never
//! panics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use sotto_client::community::{capabilities, Community, CommunityServer, Link};
use sotto_client::transport::HttpsTransport;
use sotto_client::Error;
use sotto_crypto::{BlindedId, Identity};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

const KEY: &str = "a03c7bf1f8f4d3cc8b4a59eaa45b0ce8d1c5ab1a2b3c4d5e6f708192a3b4c5d6";
/// Bound on one exchange, so a bug cannot hang the test.
const STEP: Duration = Duration::from_secs(10);

/// A server answering each connection with the next scripted `(status, body)`, then closing;
/// it hands back the request heads it saw.
async fn scripted(
    answers: Vec<(u16, Vec<u8>)>,
) -> (SocketAddr, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        for (status, body) in answers {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head and any body (bounded: the client's requests are small).
            loop {
                let n = conn.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_owned)
                        })
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + length {
                        seen.push(text[..end].to_owned());
                        break;
                    }
                }
                if n == 0 || buf.len() > 1 << 20 {
                    break;
                }
            }
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            conn.write_all(head.as_bytes()).await.unwrap();
            conn.write_all(&body).await.unwrap();
            conn.shutdown().await.unwrap();
        }
        seen
    });
    (addr, task)
}

/// Run one exchange, bounded in time.
async fn step<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(STEP, f)
        .await
        .expect("no answer in time")
}

fn server(addr: SocketAddr) -> CommunityServer {
    CommunityServer::new(&format!("http://{addr}"), KEY.parse().unwrap(), true).unwrap()
}

#[tokio::test]
async fn refusals_and_malformed_answers_are_errors() {
    let me = Identity::from_ed25519_seed(&[1; 32]);
    let peer: BlindedId = format!(
        "15{}",
        Identity::from_ed25519_seed(&[2; 32])
            .ed25519_public()
            .to_hex()
    )
    .parse()
    .unwrap();
    let answers = vec![
        (
            200,
            json!({"capabilities": ["sogs", "blind"]})
                .to_string()
                .into_bytes(),
        ),
        (200, b"[1, 2".to_vec()),
        (404, b"<html>Not Found</html>".to_vec()),
        (403, b"<p>\n  refused\n</p>\n".repeat(10_000)),
        (200, b"not json at all".to_vec()),
        (200, json!({"not": "a list"}).to_string().into_bytes()),
        (404, Vec::new()),
        (304, Vec::new()),
        (
            200,
            json!([{"id": 4, "sender": "zz", "message": "AA=="}, {"id": "x"}])
                .to_string()
                .into_bytes(),
        ),
        (
            401,
            b"Invalid authentication: this server requires the use of blinded ids".to_vec(),
        ),
    ];
    let (addr, task) = scripted(answers).await;
    let http = reqwest::Client::new();
    let link = Link::<HttpsTransport>::Direct(&http);
    let s = server(addr);

    let caps = step(capabilities(&link, &s)).await.unwrap();
    assert_eq!(caps, ["sogs", "blind"]);
    let err = step(capabilities(&link, &s)).await.unwrap_err();
    assert!(err.to_string().contains("not JSON"), "{err}");

    let c = Community::new(Link::<HttpsTransport>::Direct(&http), s, &me).unwrap();
    let now = 1_700_000_000_000;
    let err = step(c.room("lobby", now)).await.unwrap_err();
    assert!(err.to_string().contains("no room \"lobby\""), "{err}");
    // A huge, many-line refusal is cut to one short line.
    match step(c.post("lobby", "hi", None, now)).await {
        Err(Error::CommunityRefused { status: 403, body }) => {
            assert!(body.len() <= 200 && !body.contains('\n'), "{body}");
            assert!(body.starts_with("<p> refused </p>"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    let err = step(c.messages("lobby", Some(3), now)).await.unwrap_err();
    assert!(err.to_string().contains("not JSON"), "{err}");
    let err = step(c.messages("lobby", None, now)).await.unwrap_err();
    assert!(err.to_string().contains("expected a list"), "{err}");
    let err = step(c.send_dm(&peer, "hi", None, now)).await.unwrap_err();
    assert!(err.to_string().contains("is not known"), "{err}");
    // 304: nothing new.
    assert!(step(c.inbox_since(5, now)).await.unwrap().is_empty());
    // Entries that cannot be opened are reported one by one.
    let dms = step(c.inbox_since(0, now)).await.unwrap();
    assert_eq!(dms.len(), 2);
    assert!(dms.iter().all(|(_, dm)| dm.is_err()));
    assert_eq!(dms[0].0, 4);
    let err = step(c.inbox_since(0, now)).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");

    // Bad room tokens never reach the server.
    for bad in ["", "a/b", "../x", &"r".repeat(65)] {
        assert!(c.room(bad, now).await.is_err(), "{bad:?}");
        assert!(c.post(bad, "x", None, now).await.is_err(), "{bad:?}");
    }

    // What the server saw: signed requests (blinded) on the expected paths.
    let seen = task.await.unwrap();
    assert_eq!(seen.len(), 10);
    assert!(seen[0].starts_with("GET /capabilities "), "{}", seen[0]);
    assert!(!seen[0].to_ascii_lowercase().contains("x-sogs-pubkey"));
    assert!(seen[2].starts_with("GET /room/lobby "), "{}", seen[2]);
    assert!(
        seen[2].to_ascii_lowercase().contains("x-sogs-pubkey: 15"),
        "{}",
        seen[2]
    );
    assert!(
        seen[3].starts_with("POST /room/lobby/message "),
        "{}",
        seen[3]
    );
    assert!(
        seen[4].starts_with("GET /room/lobby/messages/since/3?limit=100 "),
        "{}",
        seen[4]
    );
    assert!(
        seen[5].starts_with("GET /room/lobby/messages/recent?limit=100 "),
        "{}",
        seen[5]
    );
    assert!(
        seen[6].starts_with(&format!("POST /inbox/{peer} ")),
        "{}",
        seen[6]
    );
    assert!(seen[7].starts_with("GET /inbox/since/5 "), "{}", seen[7]);
}
