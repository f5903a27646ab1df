//! A small load generator for a running `sogs serve`: N concurrent blinded users doing what
//! Session desktop does every 10 s (one signed `/batch` poll: capabilities, then per room
//! `pollInfo/0` and `messages/since/<seqno>?t=r&reactors=5`, then `inbox/since` and
//! `outbox/since`), back to back or, with `--interval=S`, once every S seconds per user; or
//! posting (`--post`). Pollers are caught up (they poll from
//! each room's current seqno) unless `--from-zero` is given, which fetches 100 messages per room.
//!
//! ```text
//! cargo run --release -p sotto-sogs --example loadgen -- \
//!     http://127.0.0.1:8080 <server x25519 hex> <seconds> <users> room1 [room2 …] \
//!     [--post] [--from-zero] [--interval=10]
//! ```
//!
//! Prints requests per second and latency percentiles.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rand_core::{OsRng, RngCore};
use serde_json::json;
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::sogs_auth::{sign_request, Signer};
use sotto_crypto::{BlindingKind, Identity, X25519PublicKey};

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 5 {
        eprintln!("usage: loadgen BASE_URL SERVER_PUBKEY_HEX SECONDS USERS ROOM… [--post]");
        std::process::exit(2);
    }
    let post = args.iter().any(|a| a == "--post");
    let from_zero = args.iter().any(|a| a == "--from-zero");
    // `--interval=S`: each user polls once every S seconds, as desktop clients do (starts
    // spread evenly over the first interval), instead of back to back.
    let interval: Option<Duration> = args
        .iter()
        .find_map(|a| a.strip_prefix("--interval="))
        .map(|s| Duration::from_secs_f64(s.parse().unwrap()));
    let base = args[0].clone();
    let server = X25519PublicKey(hex::decode(&args[1]).unwrap().try_into().unwrap());
    let secs: u64 = args[2].parse().unwrap();
    let users: usize = args[3].parse().unwrap();
    let rooms: Vec<String> = args[4..]
        .iter()
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .collect();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seqnos = Vec::new();
    for room in &rooms {
        let info: serde_json::Value = client
            .get(format!("{base}/room/{room}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seqnos.push(if from_zero {
            0
        } else {
            info["message_sequence"].as_i64().unwrap()
        });
    }
    let rooms: Arc<Vec<(String, i64)>> = Arc::new(rooms.into_iter().zip(seqnos).collect());
    let mut tasks = Vec::new();
    let started = Instant::now();
    for user in 0..users {
        let (client, base, rooms) = (client.clone(), base.clone(), rooms.clone());
        let first = interval.map(|every| started + every.mul_f64(user as f64 / users as f64));
        tasks.push(tokio::spawn(async move {
            let mut next = first;
            let mut seed = [0u8; 32];
            OsRng.fill_bytes(&mut seed);
            let id = Identity::from_ed25519_seed(&seed);
            let key = BlindedKeyPair::new(&id, &server, BlindingKind::Blind15).unwrap();
            let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut limited = 0u64;
            let mut i = 0usize;
            while Instant::now() < deadline {
                if let (Some(at), Some(every)) = (next, interval) {
                    tokio::time::sleep_until(at.into()).await;
                    if Instant::now() >= deadline {
                        break;
                    }
                    next = Some(at + every);
                }
                let (path, body) = if post {
                    let room = &rooms[i % rooms.len()].0;
                    let data = format!("load message {i}");
                    (
                        format!("/room/{room}/message"),
                        json!({"data": b64(data.as_bytes()), "signature": b64(&[1u8; 64])}),
                    )
                } else {
                    let mut subs = vec![json!({"method": "GET", "path": "/capabilities"})];
                    for (room, seqno) in rooms.iter() {
                        subs.push(json!({"method": "GET", "path": format!("/room/{room}/pollInfo/0")}));
                        subs.push(json!({"method": "GET",
                            "path": format!("/room/{room}/messages/since/{seqno}?t=r&reactors=5")}));
                    }
                    subs.push(json!({"method": "GET", "path": "/inbox/since/0"}));
                    subs.push(json!({"method": "GET", "path": "/outbox/since/0"}));
                    ("/batch".to_owned(), json!(subs))
                };
                i += 1;
                let body = serde_json::to_vec(&body).unwrap();
                let mut nonce = [0u8; 16];
                OsRng.fill_bytes(&mut nonce);
                let auth = sign_request(Signer::Blinded(&key), &server, "POST", &path, "", &body, &nonce, now());
                let mut req = client
                    .post(format!("{base}{path}"))
                    .header("Content-Type", "application/json")
                    .body(body);
                for (k, v) in auth.pairs() {
                    req = req.header(k, v);
                }
                let start = Instant::now();
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(start.elapsed());
                    }
                    // PySOGS's 5-posts-per-16-s limit: answered, but not a post.
                    Ok(r) if r.status().as_u16() == 429 => {
                        let _ = r.bytes().await;
                        limited += 1;
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors, limited)
        }));
    }
    let mut all = Vec::new();
    let (mut errors, mut limited) = (0, 0);
    for t in tasks {
        let (l, e, r) = t.await.unwrap();
        all.extend(l);
        errors += e;
        limited += r;
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{} {} requests in {secs} s: {:.0} req/s, p50 {:?}, p99 {:?}, errors {errors}, \
         rate-limited (429, not counted) {limited}",
        all.len(),
        if post { "post" } else { "batch poll" },
        all.len() as f64 / secs as f64,
        pct(0.50),
        pct(0.99),
    );
}
