//! `sotto-bench onion`: what an onion path costs. Starts standalone nodes that know each other,
//! then measures signed retrieves sent directly and through 1- and 3-hop paths: latency (one
//! client, sequential) and throughput (concurrent clients), with the CPU the nodes used.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;
use sotto_client::transport::{HttpsTransport, RpcClient};
use sotto_client::NodeInfo;
use sotto_crypto::layer::EncType;
use sotto_crypto::{Identity, Seed};
use sotto_testkit::StaticNetwork;

use crate::{cpu_seconds, now_ms, percentile_ms};

#[derive(Debug, clap::Args)]
pub(crate) struct OnionArgs {
    /// The sotto-node binary [default: next to this one].
    #[arg(long)]
    node_bin: Option<PathBuf>,
    /// Sequential requests per latency phase.
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    /// Concurrent clients in the throughput phases.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds per throughput phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Layer cipher.
    #[arg(long, default_value = "xchacha20")]
    enc_type: String,
}

fn params(id: &Identity) -> serde_json::Value {
    let ts = now_ms();
    json!({"pubkey": id.session_id().to_string(), "pubkey_ed25519": id.ed25519_public().to_hex(),
        "timestamp": ts, "signature": STANDARD.encode(id.sign(format!("retrieve{ts}").as_bytes()))})
}

async fn one(
    client: &RpcClient<HttpsTransport>,
    path: &[NodeInfo],
    target: &NodeInfo,
    id: &Identity,
) -> bool {
    let answer = if path.is_empty() {
        client.direct(target, "retrieve", params(id)).await
    } else {
        client.onion(path, target, "retrieve", params(id)).await
    };
    matches!(answer, Ok(a) if a.status == 200)
}

pub(crate) async fn bench_onion(args: OnionArgs) -> anyhow::Result<()> {
    let bin = match args.node_bin {
        Some(b) => b,
        None => std::env::current_exe()?
            .parent()
            .context("no parent directory")?
            .join("sotto-node"),
    };
    let enc = match args.enc_type.as_str() {
        "xchacha20" => EncType::XChaCha20,
        "aes-gcm" => EncType::AesGcm,
        other => anyhow::bail!("unknown --enc-type {other}"),
    };
    let net = StaticNetwork::start_with(
        &bin,
        4,
        // Every request comes from 127.0.0.1: lift the per-IP limit.
        &["--rate-burst", "1000000", "--rate-per-sec", "1000000"],
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let nodes = net.infos();
    let pids: Vec<u32> = net.nodes.iter().map(|n| n.process.id()).collect();
    let target = nodes.get(3).context("4 nodes")?.clone();
    let three: Vec<NodeInfo> = nodes.iter().take(3).cloned().collect();
    let one_hop: Vec<NodeInfo> = nodes.iter().take(1).cloned().collect();
    let client = Arc::new(RpcClient::new(
        HttpsTransport::new(&sotto_https::ClientOptions::default())?,
        enc,
    ));
    let id = Arc::new(Identity::from_seed(&Seed::Standard([7; 16])));

    // Wait (bounded) until every node has read the node list.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !one(&client, &three, &target, &id).await {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the nodes never learned the node list"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    println!(
        "### Latency: one client, {} sequential signed retrieves, {enc}\n",
        args.requests
    );
    println!("| path | p50 ms | p99 ms | added per hop, p50 ms |\n|---|---|---|---|");
    let mut direct_p50 = 0.0;
    for (name, path) in [
        ("direct", &Vec::new()),
        ("1 hop", &one_hop),
        ("3 hops", &three),
    ] {
        // Warm the connections first.
        for _ in 0..50 {
            one(&client, path, &target, &id).await;
        }
        let mut latencies = Vec::with_capacity(args.requests);
        for _ in 0..args.requests {
            let t = Instant::now();
            anyhow::ensure!(
                one(&client, path, &target, &id).await,
                "{name}: request failed"
            );
            latencies.push(t.elapsed());
        }
        latencies.sort();
        let (p50, p99) = (
            percentile_ms(&latencies, 0.5),
            percentile_ms(&latencies, 0.99),
        );
        if path.is_empty() {
            direct_p50 = p50;
        }
        let per_hop = if path.is_empty() {
            "—".to_owned()
        } else {
            format!("{:.3}", (p50 - direct_p50) / path.len() as f64)
        };
        println!("| {name} | {p50:.3} | {p99:.3} | {per_hop} |");
    }

    println!(
        "\n### Throughput: {} concurrent clients, {} s each\n",
        args.clients, args.seconds
    );
    println!("| path | requests/s | errors | nodes' CPU µs/request |\n|---|---|---|---|");
    for (name, path) in [("direct", Vec::new()), ("3 hops", three.clone())] {
        let cpu_before: f64 = pids.iter().map(|&p| cpu_seconds(p)).sum();
        let until = Instant::now() + Duration::from_secs(args.seconds);
        let started = Instant::now();
        let path = Arc::new(path);
        let mut tasks = Vec::new();
        for _ in 0..args.clients {
            let (client, path, target, id) = (
                Arc::clone(&client),
                Arc::clone(&path),
                target.clone(),
                Arc::clone(&id),
            );
            tasks.push(tokio::spawn(async move {
                let (mut ok, mut failed) = (0usize, 0usize);
                while Instant::now() < until {
                    if one(&client, &path, &target, &id).await {
                        ok += 1;
                    } else {
                        failed += 1;
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
            "| {name} | {:.0} | {failed} | {:.0} |",
            ok as f64 / elapsed,
            cpu * 1e6 / (ok + failed).max(1) as f64
        );
    }
    Ok(())
}
