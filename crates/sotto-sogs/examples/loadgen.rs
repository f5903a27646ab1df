//! A small load generator for a running `sogs serve` (or PySOGS): N concurrent clients on
//! keep-alive connections, each doing one of:
//!
//! - (default) what Session desktop does every 10 s: one signed `/batch` poll (capabilities,
//!   then per room `pollInfo/0` and `messages/since/<seqno>?t=r&reactors=5`, then
//!   `inbox/since` and `outbox/since`), back to back or, with `--interval=S`, once every S
//!   seconds per client. Pollers are caught up (they poll from each room's current seqno)
//!   unless `--from-zero` is given, which fetches 100 messages per room;
//! - `--post`: signed `POST /room/<t>/message`, round-robin over the rooms, spread over at least
//!   `--posters` blinded users so that no user exceeds PySOGS's 5 posts per 16 s per room;
//! - `--recent`: unauthenticated `GET /room/<t>/messages/recent` (PySOGS's default limit, 100),
//!   round-robin over the rooms.
//!
//! ```text
//! cargo run --release -p sotto-sogs --example loadgen -- \
//!     http://127.0.0.1:8080 <server x25519 hex> <seconds> <clients> room1 [room2 …] \
//!     [--post [--posters=1000]] [--recent] [--from-zero] [--interval=10]
//! ```
//!
//! Prints requests per second and latency percentiles.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use clap::Parser;
use rand_core::{OsRng, RngCore};
use serde_json::json;
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::sogs_auth::{sign_request, Signer};
use sotto_crypto::{BlindingKind, Identity, X25519PublicKey};

/// PySOGS's post rate limit (`[rooms] rate_limit_size` posts per `rate_limit_interval`
/// seconds, per user and room: 5 per 16 s). A poster waits this long between two posts to the
/// same room, with a margin over 16/5 = 3.2 s so that no 16 s window holds 6.
const POST_SPACING: Duration = Duration::from_secs(4);

/// Command line.
#[derive(Parser, Debug)]
#[command(about = "Load generator for a community server (sogs or PySOGS)")]
struct Args {
    /// Server base URL, e.g. http://127.0.0.1:18201.
    base: String,
    /// The server's X25519 public key, hex.
    server_pubkey: String,
    /// Run time, seconds.
    seconds: u64,
    /// Concurrent clients (each one keep-alive connection, one request at a time).
    clients: usize,
    /// Room tokens.
    #[arg(required = true)]
    rooms: Vec<String>,
    /// Post messages instead of polling.
    #[arg(long, conflicts_with = "recent")]
    post: bool,
    /// With `--post`: at least this many distinct posting users (split over the clients;
    /// more are made when needed to stay under the rate limit). Default: the client count.
    #[arg(long, requires = "post")]
    posters: Option<usize>,
    /// Fetch `GET /room/<t>/messages/recent` unauthenticated instead of polling.
    #[arg(long)]
    recent: bool,
    /// Poll from seqno 0 (100 messages per room per poll) instead of caught up.
    #[arg(long)]
    from_zero: bool,
    /// Each client sends once every S seconds (starts spread over the first interval) instead
    /// of back to back.
    #[arg(long, value_name = "S")]
    interval: Option<f64>,
}

/// What one request is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Poll,
    Post,
    Recent,
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// A new random blinded user.
fn new_user(server: &X25519PublicKey) -> BlindedKeyPair {
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let id = Identity::from_ed25519_seed(&seed);
    BlindedKeyPair::new(&id, server, BlindingKind::Blind15).unwrap()
}

/// A client's posting users, each with the time it may next post (to any room: a user posts to
/// every room in turn, so waiting [`POST_SPACING`] between rounds keeps each room in limits).
struct Posters {
    ready: VecDeque<(Instant, BlindedKeyPair)>,
    made: usize,
}

impl Posters {
    fn new(server: &X25519PublicKey, n: usize) -> Self {
        let now = Instant::now();
        Self {
            ready: (0..n).map(|_| (now, new_user(server))).collect(),
            made: n,
        }
    }

    /// A user that may post now: the longest-waiting one if its time has come, else a new one.
    fn take(&mut self, server: &X25519PublicKey) -> BlindedKeyPair {
        match self.ready.front() {
            Some((at, _)) if *at <= Instant::now() => self.ready.pop_front().unwrap().1,
            _ => {
                self.made += 1;
                new_user(server)
            }
        }
    }

    fn give_back(&mut self, key: BlindedKeyPair) {
        self.ready.push_back((Instant::now() + POST_SPACING, key));
    }
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    limited: u64,
    posters: usize,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mode = if args.post {
        Mode::Post
    } else if args.recent {
        Mode::Recent
    } else {
        Mode::Poll
    };
    let interval = args.interval.map(Duration::from_secs_f64);
    let base = args.base.clone();
    let server = X25519PublicKey(
        hex::decode(&args.server_pubkey)
            .unwrap()
            .try_into()
            .unwrap(),
    );
    let (secs, clients) = (args.seconds, args.clients);
    let posters = args.posters.unwrap_or(clients).max(clients);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seqnos = Vec::new();
    for room in &args.rooms {
        let info: serde_json::Value = client
            .get(format!("{base}/room/{room}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seqnos.push(if args.from_zero {
            0
        } else {
            info["message_sequence"].as_i64().unwrap()
        });
    }
    let rooms: Arc<Vec<(String, i64)>> = Arc::new(args.rooms.into_iter().zip(seqnos).collect());
    let mut tasks = Vec::new();
    let started = Instant::now();
    for user in 0..clients {
        let (client, base, rooms) = (client.clone(), base.clone(), rooms.clone());
        let first = interval.map(|every| started + every.mul_f64(user as f64 / clients as f64));
        // This client's share of the posting users.
        let share = posters / clients + usize::from(user < posters % clients);
        tasks.push(tokio::spawn(async move {
            let mut next = first;
            let key = new_user(&server);
            let mut posters = (mode == Mode::Post).then(|| Posters::new(&server, share));
            let mut current: Option<BlindedKeyPair> = None;
            let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
            let mut tally = Tally::default();
            // Clients start on different rooms so that round-robin spreads them at once.
            let mut i = user;
            while Instant::now() < deadline {
                if let (Some(at), Some(every)) = (next, interval) {
                    tokio::time::sleep_until(at.into()).await;
                    if Instant::now() >= deadline {
                        break;
                    }
                    next = Some(at + every);
                }
                let room = &rooms[i % rooms.len()].0;
                let req = match mode {
                    Mode::Recent => client.get(format!("{base}/room/{room}/messages/recent")),
                    Mode::Post | Mode::Poll => {
                        let (path, body) = if mode == Mode::Post {
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
                        let body = serde_json::to_vec(&body).unwrap();
                        let mut nonce = [0u8; 16];
                        OsRng.fill_bytes(&mut nonce);
                        // A poster posts to every room in turn, then rests (see `Posters`).
                        if let Some(p) = &mut posters {
                            if i % rooms.len() == 0 || current.is_none() {
                                if let Some(old) = current.take() {
                                    p.give_back(old);
                                }
                                current = Some(p.take(&server));
                            }
                        }
                        let signer = current.as_ref().unwrap_or(&key);
                        let auth = sign_request(
                            Signer::Blinded(signer),
                            &server,
                            "POST",
                            &path,
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
                        req
                    }
                };
                i += 1;
                let start = Instant::now();
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        tally.latencies.push(start.elapsed());
                    }
                    // PySOGS's 5-posts-per-16-s limit: answered, but not a post.
                    Ok(r) if r.status().as_u16() == 429 => {
                        let _ = r.bytes().await;
                        tally.limited += 1;
                    }
                    _ => tally.errors += 1,
                }
            }
            tally.posters = posters.map_or(0, |p| p.made);
            tally
        }));
    }
    let mut all = Vec::new();
    let (mut errors, mut limited, mut users) = (0, 0, 0);
    for t in tasks {
        let t = t.await.unwrap();
        all.extend(t.latencies);
        errors += t.errors;
        limited += t.limited;
        users += t.posters;
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let what = match mode {
        Mode::Post => format!("post (by {users} users)"),
        Mode::Recent => "messages/recent".to_owned(),
        Mode::Poll => "batch poll".to_owned(),
    };
    println!(
        "{} {what} requests in {secs} s: {:.0} req/s, p50 {:?}, p99 {:?}, errors {errors}, \
         rate-limited (429, not counted) {limited}",
        all.len(),
        all.len() as f64 / secs as f64,
        pct(0.50),
        pct(0.99),
    );
}
