//! `sotto-bench network`: a registry and N network-mode nodes on loopback. Measures stores per
//! second into the network (each replicated to its whole swarm) and the replication delay: the
//! time from sending a store to one member until a waiting retrieve on another member of the
//! same swarm answers with the message.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use sotto_crypto::{Identity, Seed};
use sotto_rpc::nodes::{parse_node_list, NodeInfo};
use sotto_rpc::AccountId;
use sotto_testkit::RegistryNetwork;

use crate::{cpu_seconds, now_ms, percentile_ms};

#[derive(Debug, clap::Args)]
pub(crate) struct NetworkArgs {
    /// Directory of the sotto-node and sotto-registry binaries [default: next to this one].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Nodes.
    #[arg(long, default_value_t = 10)]
    nodes: usize,
    /// Concurrent clients in the store phase.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds of the store phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Replication-delay samples.
    #[arg(long, default_value_t = 200)]
    samples: usize,
}

fn account(i: usize) -> Identity {
    let mut seed = [0x77u8; 16];
    for (s, b) in seed.iter_mut().zip((i as u64).to_le_bytes()) {
        *s = b;
    }
    Identity::from_seed(&Seed::Standard(seed))
}

fn swarm_of(swarms: &BTreeMap<u64, Vec<NodeInfo>>, id: &Identity) -> Vec<NodeInfo> {
    let ids: Vec<u64> = swarms.keys().copied().collect();
    let acct = AccountId::from_bytes(id.session_id().to_bytes());
    sotto_swarm::closest_swarm(&ids, sotto_swarm::swarm_space_prefixed(acct.as_bytes()))
        .and_then(|s| swarms.get(&s).cloned())
        .unwrap_or_default()
}

/// Wait (bounded: 120 s) until the registry lists `count` nodes and each serves the swarm the
/// registry gives it; returns the registry's JSON-RPC answer.
pub(crate) async fn wait_settled(
    http: &reqwest::Client,
    registry_url: &str,
    count: usize,
) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v: Value = http
            .post(registry_url)
            .json(
                &json!({"jsonrpc": "2.0", "id": 0, "method": "get_n_service_nodes", "params": {}}),
            )
            .send()
            .await?
            .json()
            .await?;
        let nodes = parse_node_list(&v)?;
        let mut ready = nodes.len() == count;
        for n in &nodes {
            let s: Option<Value> = match http
                .get(format!("{}/get_stats/v1", n.base_url()))
                .send()
                .await
            {
                Ok(r) => r.json().await.ok(),
                Err(_) => None,
            };
            ready &= s.is_some_and(|s| s["ready"] == true && s["swarm_id"].as_u64() == n.swarm_id);
        }
        if ready {
            return Ok(v);
        }
        anyhow::ensure!(Instant::now() < deadline, "the network did not settle");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) async fn bench_network(args: NetworkArgs) -> anyhow::Result<()> {
    let dir = match args.bin_dir {
        Some(d) => d,
        None => std::env::current_exe()?
            .parent()
            .context("no parent directory")?
            .to_owned(),
    };
    let lift = ["--rate-burst", "1000000", "--rate-per-sec", "1000000"];
    let mut node_args = vec!["--registry-poll-ms", "500", "--test-interval-ms", "2000"];
    node_args.extend_from_slice(&lift);
    let net = RegistryNetwork::start(
        &dir.join("sotto-node"),
        &dir.join("sotto-registry"),
        args.nodes,
        &[
            "--swarm-min",
            "3",
            "--swarm-ideal",
            "4",
            "--swarm-max",
            "6",
            "--reward-period-secs",
            "0",
        ],
        &node_args,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let http = sotto_https::client(&sotto_https::ClientOptions::default())?;

    let nodes = parse_node_list(&wait_settled(&http, &net.registry_url, args.nodes).await?)?;
    let mut swarms: BTreeMap<u64, Vec<NodeInfo>> = BTreeMap::new();
    for n in &nodes {
        if let Some(id) = n.swarm_id {
            swarms.entry(id).or_default().push(n.clone());
        }
    }
    let sizes: Vec<usize> = swarms.values().map(Vec::len).collect();
    println!(
        "{} nodes in {} swarms of sizes {sizes:?}\n",
        args.nodes,
        swarms.len()
    );

    let store_body = |id: &Identity, i: usize| {
        json!({"method": "store", "params": {"pubkey": id.session_id().to_string(),
            "timestamp": now_ms(), "ttl": 3_600_000, "data": STANDARD.encode(format!("bench {i} {}", now_ms()))}})
        .to_string()
    };

    // Replication delay.
    let mut delays = Vec::with_capacity(args.samples);
    for i in 0..args.samples {
        let id = account(i);
        let members = swarm_of(&swarms, &id);
        let (Some(a), Some(b)) = (members.first(), members.get(1)) else {
            anyhow::bail!("swarm too small");
        };
        let ts = now_ms();
        let waiting =
            json!({"method": "retrieve", "params": {"pubkey": id.session_id().to_string(),
            "pubkey_ed25519": id.ed25519_public().to_hex(), "timestamp": ts,
            "signature": STANDARD.encode(id.sign(format!("retrieve{ts}").as_bytes())),
            "sotto_wait_ms": 10_000}})
            .to_string();
        let waiter = {
            let (http, url) = (http.clone(), format!("{}/storage_rpc/v1", b.base_url()));
            tokio::spawn(async move {
                let r = http.post(url).body(waiting).send().await?;
                let v: Value = r.json().await?;
                Ok::<_, reqwest::Error>((Instant::now(), v))
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let sent = Instant::now();
        http.post(format!("{}/storage_rpc/v1", a.base_url()))
            .body(store_body(&id, i))
            .send()
            .await?;
        let (seen, v) = waiter.await??;
        anyhow::ensure!(
            v["messages"].as_array().is_some_and(|m| !m.is_empty()),
            "the other member did not get the message"
        );
        delays.push(seen.saturating_duration_since(sent));
    }
    delays.sort();
    println!("| measure | p50 ms | p99 ms |\n|---|---|---|");
    println!(
        "| store at one member → seen by a waiting retrieve on another | {:.2} | {:.2} |",
        percentile_ms(&delays, 0.5),
        percentile_ms(&delays, 0.99)
    );

    // Stores per second into the whole network.
    let pids: Vec<u32> = net.nodes.iter().flatten().map(|n| n.process.id()).collect();
    let cpu_before: f64 = pids.iter().map(|&p| cpu_seconds(p)).sum();
    let swarms = Arc::new(swarms);
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let (http, swarms) = (http.clone(), Arc::clone(&swarms));
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed, mut i) = (0usize, 0usize, 0usize);
            while Instant::now() < until {
                let id = account(10_000 + c * 1_000_000 + (i % 50));
                i += 1;
                let members = swarm_of(&swarms, &id);
                let Some(target) = members.get(i % members.len().max(1)) else {
                    failed += 1;
                    continue;
                };
                let answer = http
                    .post(format!("{}/storage_rpc/v1", target.base_url()))
                    .body(store_body(&id, i))
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status().is_success() => ok += 1,
                    _ => failed += 1,
                }
            }
            (ok, failed)
        }));
    }
    let (mut ok, mut failed) = (0, 0);
    for t in tasks {
        let (o, f) = t.await?;
        ok += o;
        failed += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu: f64 = pids.iter().map(|&p| cpu_seconds(p)).sum::<f64>() - cpu_before;
    println!(
        "\n| phase | clients | stores/s | errors | nodes' CPU µs/store |\n|---|---|---|---|---|\n| store (replicated) | {} | {:.0} | {failed} | {:.0} |",
        args.clients,
        ok as f64 / elapsed,
        cpu * 1e6 / ok.max(1) as f64
    );
    Ok(())
}
