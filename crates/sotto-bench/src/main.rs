//! `sotto-bench`: load generators for Sotto's servers, on loopback only.

// A benchmark tool indexing its own non-empty account list, not a server handling input.
#![allow(clippy::indexing_slicing)]

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use sotto_crypto::{Identity, Seed};
use sotto_node::store::{Durability, Store, StoreOptions, StoredMessage};
use sotto_rpc::{message_hash, AccountId, Namespace};

mod chat;
mod files;
mod network;
mod onion;

/// Load generators for Sotto's servers.
#[derive(Debug, Parser)]
#[command(name = "sotto-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Drive a sotto-node with stores and signed retrieves.
    Node(NodeArgs),
    /// Measure what onion paths add: latency per hop and throughput through 3 hops.
    Onion(onion::OnionArgs),
    /// A registry and N network-mode nodes: replication delay and replicated stores per second.
    Network(network::NetworkArgs),
    /// Send → visible latency between two clients, polling vs waiting retrieves; client RSS.
    Chat(chat::ChatArgs),
    /// Attachment upload and download rates, direct and through 3 onion hops.
    Files(files::FilesArgs),
}

#[derive(Debug, clap::Args)]
struct NodeArgs {
    /// The sotto-node binary [default: next to this one].
    #[arg(long)]
    node_bin: Option<PathBuf>,
    /// Messages to pre-fill the database with.
    #[arg(long, default_value_t = 1_000_000)]
    prefill: usize,
    /// Accounts the pre-filled messages are spread over.
    #[arg(long, default_value_t = 1_000)]
    accounts: usize,
    /// Concurrent clients (each one keep-alive connection).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Node durability (`full` fsyncs every store).
    #[arg(long, default_value = "full")]
    sync: String,
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match Cli::parse().command {
        Cmd::Node(args) => runtime.block_on(bench_node(args)),
        Cmd::Onion(args) => runtime.block_on(onion::bench_onion(args)),
        Cmd::Network(args) => runtime.block_on(network::bench_network(args)),
        Cmd::Chat(args) => runtime.block_on(chat::bench_chat(args)),
        Cmd::Files(args) => runtime.block_on(files::bench_files(args)),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The bench accounts: deterministic seeds so that runs are comparable.
fn account(i: usize) -> Identity {
    let mut seed = [0u8; 16];
    seed.iter_mut()
        .zip((i as u64).to_le_bytes())
        .for_each(|(s, b)| *s = b);
    Identity::from_seed(&Seed::Standard(seed))
}

fn prefill(path: &std::path::Path, total: usize, accounts: usize) -> anyhow::Result<()> {
    let store = Store::open(
        path,
        &StoreOptions {
            durability: Durability::Normal,
            ..StoreOptions::default()
        },
    )?;
    let per_account = total / accounts.max(1);
    let now = now_ms();
    for a in 0..accounts {
        let id = AccountId::from_bytes(account(a).session_id().to_bytes());
        let batch: Vec<StoredMessage> = (0..per_account)
            .map(|m| {
                // ~200 bytes, the size of a short sealed text message.
                let data = format!("{a:08}:{m:08}:{}", "x".repeat(180)).into_bytes();
                StoredMessage {
                    hash: message_hash(&id, Namespace(0), &data),
                    namespace: 0,
                    timestamp: now,
                    expiry: now + 14 * 86_400_000,
                    data,
                }
            })
            .collect();
        store.bulk_store(id.as_bytes(), &batch)?;
    }
    Ok(())
}

fn start_node(bin: &PathBuf, dir: &std::path::Path, sync: &str) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new(bin)
        .args([
            "--data-dir",
            &dir.display().to_string(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--standalone", "--sync", sync])
        .args(["--rate-burst", "1000000000", "--rate-per-sec", "1000000000"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(addr) = line.strip_prefix("listening on https://") {
                    return Ok((child, format!("https://{addr}/storage_rpc/v1")));
                }
            }
            _ => break,
        }
    }
    let _ = child.kill();
    bail!("sotto-node did not report its address")
}

/// The `p` quantile of sorted durations, in ms (0 if empty).
pub(crate) fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Peak and current RSS of a process, KiB.
pub(crate) fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// CPU time (user + system) a process has used, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Linux reports in clock ticks of 1/100 s (USER_HZ) on every platform we run on.
    (ticks(11) + ticks(12)) / 100.0
}

struct PhaseResult {
    name: &'static str,
    requests: usize,
    errors: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    node_cpu_s: f64,
}

#[allow(clippy::too_many_arguments)]
async fn phase(
    name: &'static str,
    node_pid: u32,
    url: &str,
    clients: usize,
    seconds: u64,
    accounts: usize,
    body: Arc<dyn Fn(usize, usize) -> Value + Send + Sync>,
) -> anyhow::Result<PhaseResult> {
    let cpu_before = cpu_seconds(node_pid);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .pool_max_idle_per_host(1)
            .build()?;
        let url = url.to_owned();
        let body = Arc::clone(&body);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut i = 0usize;
            while Instant::now() < until {
                let request = body(c, i).to_string();
                i += 1;
                let t = Instant::now();
                let ok = match client.post(&url).body(request).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                latencies.push(t.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let node_cpu_s = cpu_seconds(node_pid) - cpu_before;
    all.sort();
    let pct = |p: f64| percentile_ms(&all, p);
    let _ = accounts;
    Ok(PhaseResult {
        name,
        requests: all.len(),
        errors,
        seconds: elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        node_cpu_s,
    })
}

async fn bench_node(args: NodeArgs) -> anyhow::Result<()> {
    let bin = match args.node_bin {
        Some(b) => b,
        None => std::env::current_exe()?
            .parent()
            .context("no parent directory")?
            .join("sotto-node"),
    };
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    eprintln!(
        "pre-filling {} messages over {} accounts…",
        args.prefill, args.accounts
    );
    prefill(&dir.path().join("messages.db"), args.prefill, args.accounts)?;
    eprintln!("pre-filled in {:.1} s", t.elapsed().as_secs_f64());
    let (mut child, url) = start_node(&bin, dir.path(), &args.sync)?;
    let accounts = args.accounts.max(1);
    let ids: Arc<Vec<Identity>> = Arc::new((0..accounts).map(account).collect());

    let store_ids = Arc::clone(&ids);
    let store_body: Arc<dyn Fn(usize, usize) -> Value + Send + Sync> = Arc::new(move |c, i| {
        let id = &store_ids[(c * 7919 + i) % store_ids.len()];
        let data = format!("bench {c} {i} {}", "y".repeat(180));
        json!({"method": "store", "params": {"pubkey": id.session_id().to_string(),
                "timestamp": now_ms(), "ttl": 86_400_000, "data": STANDARD.encode(data)}})
    });
    let retrieve_ids = Arc::clone(&ids);
    let retrieve_body: Arc<dyn Fn(usize, usize) -> Value + Send + Sync> = Arc::new(move |c, i| {
        let id = &retrieve_ids[(c * 104_729 + i * 31) % retrieve_ids.len()];
        let ts = now_ms();
        // A poll as clients make it: signed, one page of new messages (max_count 10, as a
        // client that is nearly caught up gets).
        json!({"method": "retrieve", "params": {
                "pubkey": id.session_id().to_string(),
                "pubkey_ed25519": id.ed25519_public().to_hex(),
                "timestamp": ts, "max_count": 10,
                "signature": STANDARD.encode(id.sign(format!("retrieve{ts}").as_bytes()))}})
    });

    let pid = child.id();
    let mut results = Vec::new();
    results.push(
        phase(
            "store",
            pid,
            &url,
            args.clients,
            args.seconds,
            accounts,
            store_body,
        )
        .await?,
    );
    results.push(
        phase(
            "signed retrieve",
            pid,
            &url,
            args.clients,
            args.seconds,
            accounts,
            retrieve_body,
        )
        .await?,
    );
    let (peak, current) = rss_kib(child.id());
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();

    println!(
        "| phase | clients | requests | errors | req/s | p50 ms | p99 ms | node CPU µs/req |\n|---|---|---|---|---|---|---|---|"
    );
    for r in &results {
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.0} |",
            r.name,
            args.clients,
            r.requests,
            r.errors,
            r.requests as f64 / r.seconds,
            r.p50_ms,
            r.p99_ms,
            r.node_cpu_s * 1e6 / r.requests.max(1) as f64
        );
    }
    println!(
        "\nnode RSS: peak {:.1} MiB, at the end {:.1} MiB ({} messages pre-filled, sync {})",
        peak as f64 / 1024.0,
        current as f64 / 1024.0,
        args.prefill,
        args.sync
    );
    Ok(())
}
