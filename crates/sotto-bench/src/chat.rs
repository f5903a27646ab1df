//! `sotto-bench chat`: what a user sees. A registry and N nodes; Alice sends to Bob through
//! onion paths; the time from the start of Alice's send until Bob's client has the message, with
//! Bob polling every `--poll-ms` (as Session clients do) and with a waiting retrieve
//! (`docs/subscriptions.md`). Also the peak RSS of a `sotto poll --watch` client.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::json;
use sotto_client::messenger::{Event, Messenger};
use sotto_client::profile::Profile;
use sotto_client::transport::{HttpsTransport, RpcClient};
use sotto_crypto::layer::EncType;
use sotto_crypto::{Identity, Seed};
use sotto_rpc::nodes::parse_node_list;
use sotto_testkit::RegistryNetwork;

use crate::{now_ms, percentile_ms, rss_kib};

#[derive(Debug, clap::Args)]
pub(crate) struct ChatArgs {
    /// Directory of sotto-node, sotto-registry and sotto [default: next to this one].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Nodes.
    #[arg(long, default_value_t = 10)]
    nodes: usize,
    /// Messages per mode.
    #[arg(long, default_value_t = 30)]
    samples: usize,
    /// Bob's polling interval in the polling mode (Session desktop: 5000; Android: 2000).
    #[arg(long, default_value_t = 2000)]
    poll_ms: u64,
}

async fn messenger(
    nodes: Vec<sotto_rpc::nodes::NodeInfo>,
    seed: [u8; 16],
) -> anyhow::Result<Messenger<HttpsTransport>> {
    let transport = HttpsTransport::new(&sotto_https::ClientOptions::default())?;
    let m = Messenger::new(
        RpcClient::new(transport, EncType::XChaCha20),
        Identity::from_seed(&Seed::Standard(seed)),
        nodes,
    );
    m.ensure_guards(&[]).await;
    Ok(m)
}

fn got(events: &[Event], text: &str) -> bool {
    events
        .iter()
        .any(|e| matches!(e, Event::Message(m) if !m.outgoing && m.body == text))
}

pub(crate) async fn bench_chat(args: ChatArgs) -> anyhow::Result<()> {
    let dir = match args.bin_dir {
        Some(d) => d,
        None => std::env::current_exe()?
            .parent()
            .context("no parent directory")?
            .to_owned(),
    };
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
        &[
            "--registry-poll-ms",
            "500",
            "--test-interval-ms",
            "2000",
            "--rate-burst",
            "100000",
            "--rate-per-sec",
            "100000",
        ],
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let http = sotto_https::client(&sotto_https::ClientOptions::default())?;
    let list = crate::network::wait_settled(&http, &net.registry_url, args.nodes).await?;
    let nodes = parse_node_list(&list)?;
    let work = tempfile::tempdir()?;
    let alice = messenger(nodes.clone(), [1; 16]).await?;
    let bob = messenger(nodes.clone(), [2; 16]).await?;
    let bob_profile = Profile::open(&work.path().join("bob"))?;
    let bob_id = bob.session_id();

    // Per mode: from the start of Alice's send, and from the moment her store was acknowledged
    // (the recipient's swarm holds it), until Bob's client has the message.
    let mut results = Vec::new();
    for subscribe in [false, true] {
        let (mut from_send, mut from_store) = (Vec::new(), Vec::new());
        for i in 0..args.samples {
            // Catch up first, so each sample waits only for its own message.
            bob.poll(&bob_profile, now_ms()).await?;
            let text = format!("sample {subscribe} {i}");
            let receiver = async {
                loop {
                    let events = if subscribe {
                        bob.poll_waiting(&bob_profile, now_ms(), Some(20_000))
                            .await?
                    } else {
                        let events = bob.poll(&bob_profile, now_ms()).await?;
                        if !got(&events, &text) {
                            tokio::time::sleep(Duration::from_millis(args.poll_ms)).await;
                        }
                        events
                    };
                    if got(&events, &text) {
                        return Ok::<_, anyhow::Error>(Instant::now());
                    }
                }
            };
            let sender = async {
                // Send at a varying phase of the receiver's cycle.
                tokio::time::sleep(Duration::from_millis(50 + (i as u64 * 37) % args.poll_ms))
                    .await;
                let started = Instant::now();
                let content = sotto_message::proto::Content::text(text.clone());
                alice
                    .send_content(&bob_id, &content, 3_600_000, now_ms())
                    .await?;
                Ok::<_, anyhow::Error>((started, Instant::now()))
            };
            let (seen, sent) = tokio::join!(receiver, sender);
            let (started, stored) = sent?;
            let seen = seen?;
            from_send.push(seen.saturating_duration_since(started));
            from_store.push(seen.saturating_duration_since(stored));
        }
        from_send.sort();
        from_store.sort();
        results.push((subscribe, from_send, from_store));
    }
    println!("| Bob's client | send start → visible, p50 / p99 ms | store acknowledged → visible, p50 / p99 ms |\n|---|---|---|");
    for (subscribe, send, store) in &results {
        let name = if *subscribe {
            "waiting retrieve (`--subscribe`)".to_owned()
        } else {
            format!("polling every {} ms", args.poll_ms)
        };
        println!(
            "| {name} | {:.0} / {:.0} | {:.0} / {:.0} |",
            percentile_ms(send, 0.5),
            percentile_ms(send, 0.99),
            percentile_ms(store, 0.5),
            percentile_ms(store, 0.99)
        );
    }

    // The `sotto` client's memory: a watching poller after a few rounds.
    let sotto = dir.join("sotto");
    let network_file = work.path().join("network.json");
    let mut file = list.get("result").cloned().unwrap_or(list.clone());
    if let Some(o) = file.as_object_mut() {
        o.insert("seed_url".into(), json!(net.registry_url));
    }
    std::fs::write(&network_file, file.to_string())?;
    let profile = work.path().join("carol");
    let status = std::process::Command::new(&sotto)
        .arg("init")
        .arg("--profile")
        .arg(&profile)
        .arg("--network")
        .arg(&network_file)
        .stdout(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "sotto init failed");
    let mut watcher = std::process::Command::new(&sotto)
        .args(["poll", "--watch", "--interval-ms", "500", "--profile"])
        .arg(&profile)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (peak, _) = rss_kib(watcher.id());
    let _ = watcher.kill();
    let _ = watcher.wait();
    println!(
        "\n`sotto poll --watch` peak RSS after 5 s of polling: {:.1} MiB",
        peak as f64 / 1024.0
    );
    Ok(())
}
