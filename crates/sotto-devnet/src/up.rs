//! `sotto-devnet up`: start the registry and the nodes, wait until every node serves its swarm,
//! write `network.json`, then watch until told to stop.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use serde_json::Value;
use sotto_devnet::config::{
    self, SwarmSizes, DEFAULT_NODES, DEFAULT_READY_TIMEOUT_SECS, DEFAULT_STOP_GRACE_MS, READY_POLL,
};
use sotto_devnet::files::{self, Pids, LOG_DIR, NETWORK_FILE};
use sotto_rpc::nodes::UNASSIGNED_SWARM_ID;
use tokio::process::Command;
use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::query;
use crate::supervise::{Bins, Supervisor};

/// Flags of `up`.
#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// Directory for the registry's and nodes' data, logs, pids.json and network.json; must be
    /// absent or empty.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Number of nodes.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_NODES,
          value_parser = clap::value_parser!(u16).range(1..))]
    nodes: u16,
    /// Directory holding sotto-registry and sotto-node [default: this executable's directory].
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// Give up if the nodes do not all serve their swarms within this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_READY_TIMEOUT_SECS)]
    ready_timeout_secs: u64,
    /// Milliseconds a process gets between SIGTERM and SIGKILL when the devnet stops.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_STOP_GRACE_MS)]
    stop_grace_ms: u64,
}

/// A started node.
struct DevNode {
    index: usize,
    ed25519: String,
    url: String,
}

pub(crate) async fn up(args: UpArgs) -> anyhow::Result<()> {
    // Listen for signals before the first child exists.
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let bins = Bins::find(args.bin_dir.as_deref())?;
    prepare_dir(&args.dir)?;
    let mut sup = Supervisor::new(Duration::from_millis(args.stop_grace_ms));
    let outcome = tokio::select! {
        // A stop signal wins over the exits it causes (Ctrl-C reaches the children too).
        biased;
        s = stop_signal(&mut term, &mut int) => {
            eprintln!("{s}: stopping the devnet");
            Ok(())
        }
        r = run(&mut sup, &args, &bins) => r,
    };
    eprintln!("stopping {} processes", sup.len());
    sup.shutdown().await;
    eprintln!("stopped");
    outcome
}

pub(crate) async fn stop_signal(term: &mut Signal, int: &mut Signal) -> &'static str {
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "interrupt",
    }
}

pub(crate) fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if entries.next().is_some() {
        anyhow::bail!(
            "{} is not empty: remove it or choose another directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir.join(LOG_DIR))
        .with_context(|| format!("cannot create {}", dir.join(LOG_DIR).display()))
}

async fn run(sup: &mut Supervisor, args: &UpArgs, bins: &Bins) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(args.ready_timeout_secs);
    bring_up(sup, &args.dir, args.nodes, bins, deadline).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    eprintln!(
        "{} written; Ctrl-C or SIGTERM stops the devnet",
        args.dir.join(NETWORK_FILE).display()
    );

    // Watch: a process that dies is reported, not restarted (the network heals on its own).
    while let Some(exit) = sup.next_exit().await {
        eprintln!("{} exited: {}", exit.name, exit.status);
    }
    std::future::pending().await
}

/// Start the registry and `count` nodes in `dir` (absent or empty), wait until every node serves
/// its swarm, write `network.json`; returns its contents.
pub(crate) async fn bring_up(
    sup: &mut Supervisor,
    dir: &Path,
    count: u16,
    bins: &Bins,
    deadline: Instant,
) -> anyhow::Result<Value> {
    let logs = dir.join(LOG_DIR);
    let sizes = SwarmSizes::default();
    let mut pids = Pids {
        devnet: std::process::id(),
        registry: None,
        nodes: vec![None; usize::from(count)],
        file_server: None,
    };
    pids.write(dir)?;

    let registry_dir = dir.join("registry");
    let registry = sup
        .start_server(
            "registry",
            &bins.registry,
            &config::registry_serve_args(&registry_dir, sizes),
            &logs.join("registry.log"),
        )
        .await?;
    pids.registry = Some(registry.pid);
    pids.write(dir)?;
    let seed_url = format!("https://{}/json_rpc", registry.addr);
    eprintln!("registry up at {seed_url} (pid {})", registry.pid);

    let count = usize::from(count);
    let mut nodes = Vec::with_capacity(count);
    for index in 0..count {
        fail_on_exit(sup, dir)?;
        let data = dir.join(format!("node{index}"));
        let (ed25519, x25519) = node_keys(&bins.node, &data).await?;
        let name = format!("node {index}");
        let node = sup
            .start_server(
                &name,
                &bins.node,
                &config::node_run_args(&data, &seed_url),
                &logs.join(format!("node{index}.log")),
            )
            .await?;
        if let Some(slot) = pids.nodes.get_mut(index) {
            *slot = Some(node.pid);
        }
        pids.write(dir)?;
        register(
            bins,
            &registry_dir,
            index,
            &ed25519,
            &x25519,
            node.addr.port(),
        )
        .await?;
        eprintln!(
            "node {}/{} up at {} (ed25519 {ed25519}, pid {})",
            index + 1,
            count,
            node.addr,
            node.pid
        );
        nodes.push(DevNode {
            index,
            ed25519,
            url: format!("https://{}", node.addr),
        });
    }

    let states = wait_ready(sup, dir, &seed_url, &nodes, deadline).await?;
    let mut network = files::network_json(&seed_url, sizes, &states);
    if let Some(bin) = &bins.fileserver {
        let data = dir.join("fileserver");
        let (_, x25519) = node_keys(bin, &data).await?;
        let data_arg = data.display().to_string();
        let started = sup
            .start_server(
                "file server",
                bin,
                &[
                    "--data-dir".to_owned(),
                    data_arg,
                    "--listen".to_owned(),
                    "127.0.0.1:0".to_owned(),
                ],
                &logs.join("fileserver.log"),
            )
            .await?;
        pids.file_server = Some(started.pid);
        pids.write(dir)?;
        let url = format!("http://{}", started.addr);
        eprintln!("file server up at {url} (pid {})", started.pid);
        if let Some(o) = network.as_object_mut() {
            o.insert(
                "file_server".into(),
                serde_json::json!({"url": url, "pubkey_x25519": x25519}),
            );
        }
    }
    files::write_atomic(&dir.join(NETWORK_FILE), network.to_string().as_bytes())?;
    Ok(network)
}

/// While coming up, any exit is fatal: the network cannot become ready.
fn fail_on_exit(sup: &mut Supervisor, dir: &Path) -> anyhow::Result<()> {
    match sup.try_exit() {
        Some(exit) => anyhow::bail!(
            "{} exited while the devnet was starting: {} (logs in {})",
            exit.name,
            exit.status,
            dir.join(LOG_DIR).display()
        ),
        None => Ok(()),
    }
}

async fn node_keys(node_bin: &Path, data: &Path) -> anyhow::Result<(String, String)> {
    let out = Command::new(node_bin)
        .arg("keys")
        .arg("--data-dir")
        .arg(data)
        .output()
        .await
        .with_context(|| format!("cannot run {} keys", node_bin.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "sotto-node keys failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let keys: Value =
        serde_json::from_slice(&out.stdout).context("sotto-node keys did not print JSON")?;
    let key = |field: &str| -> anyhow::Result<String> {
        let hex = keys
            .get(field)
            .and_then(Value::as_str)
            .with_context(|| format!("sotto-node keys printed no {field}"))?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            anyhow::bail!("sotto-node keys printed a bad {field}: {hex:?}");
        }
        Ok(hex.to_ascii_lowercase())
    };
    Ok((key("pubkey_ed25519")?, key("pubkey_x25519")?))
}

async fn register(
    bins: &Bins,
    registry_dir: &Path,
    index: usize,
    ed25519: &str,
    x25519: &str,
    port: u16,
) -> anyhow::Result<()> {
    let out = Command::new(&bins.registry)
        .args(config::register_args(
            registry_dir,
            index,
            ed25519,
            x25519,
            port,
        ))
        .output()
        .await
        .with_context(|| format!("cannot run {} register", bins.registry.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "registering node {index} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Poll until every node says it is ready and serves the swarm the registry gives it; returns
/// the registry's `service_node_states`.
async fn wait_ready(
    sup: &mut Supervisor,
    dir: &Path,
    seed_url: &str,
    nodes: &[DevNode],
    deadline: Instant,
) -> anyhow::Result<Vec<Value>> {
    let client = query::client()?;
    let urls: Vec<String> = nodes.iter().map(|n| n.url.clone()).collect();
    let mut last_count = None;
    loop {
        fail_on_exit(sup, dir)?;
        let registry = query::service_nodes(&client, seed_url).await;
        let states: Vec<Value> = registry
            .as_ref()
            .ok()
            .and_then(|r| r.get("service_node_states"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let listed: HashMap<&str, Option<u64>> = states
            .iter()
            .filter_map(|s| {
                let key = s.get("pubkey_ed25519").and_then(Value::as_str)?;
                Some((key, s.get("swarm_id").and_then(Value::as_u64)))
            })
            .collect();
        let stats = query::all_stats(&client, &urls).await;
        let mut waiting = Vec::new();
        for (node, answer) in nodes.iter().zip(&stats) {
            let why = match (answer, listed.get(node.ed25519.as_str())) {
                (Err(e), _) => Some(format!("does not answer ({e})")),
                (Ok(_), None) => Some("not in the registry's list".to_owned()),
                (Ok(s), Some(swarm)) => {
                    let ready = s.get("ready").and_then(Value::as_bool) == Some(true);
                    let own = s.get("swarm_id").and_then(Value::as_u64);
                    match swarm {
                        _ if !ready => Some("not ready".to_owned()),
                        None | Some(UNASSIGNED_SWARM_ID) => Some("no swarm yet".to_owned()),
                        Some(id) if own != Some(*id) => {
                            Some("has not seen its swarm yet".to_owned())
                        }
                        Some(_) => None,
                    }
                }
            };
            if let Some(why) = why {
                waiting.push(format!(
                    "node {} (ed25519 {}): {why}",
                    node.index, node.ed25519
                ));
            }
        }
        let serving = nodes.len() - waiting.len();
        if last_count != Some(serving) {
            eprintln!(
                "waiting for swarms: {serving}/{} nodes serving",
                nodes.len()
            );
            last_count = Some(serving);
        }
        if let Err(e) = &registry {
            tracing::debug!(error = %format!("{e:#}"), "registry not answering");
        }
        if waiting.is_empty() && registry.is_ok() {
            return Ok(states);
        }
        if Instant::now() >= deadline {
            if let Err(e) = registry {
                waiting.insert(0, format!("registry: {e:#}"));
            }
            anyhow::bail!(
                "not every node serves its swarm after the ready timeout:\n  {}\n(logs in {})",
                waiting.join("\n  "),
                dir.join(LOG_DIR).display()
            );
        }
        tokio::time::sleep(READY_POLL).await;
    }
}
