//! `sotto-node`: a Session-compatible service node.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use sotto_node::config::{Config, RunArgs, DEFAULT_DATA_DIR};
use sotto_node::directory::Directory;
use sotto_node::http::{self, AppState, Metrics, RateLimiter};
use sotto_node::keys::NodeKeys;
use sotto_node::network::{Network, NetworkOptions};
use sotto_node::onion::OnionService;
use sotto_node::peer::PeerClient;
use sotto_node::service::Node;
use sotto_node::store::{Store, StoreOptions};
use sotto_node::swarm::SwarmView;
use sotto_rpc::nodes::NodeInfo;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Sotto service node: stores messages for its swarm's accounts and answers the storage RPC.
#[derive(Debug, Parser)]
#[command(name = "sotto-node", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the node's keys if absent and print its public keys as JSON.
    Keys {
        /// Data directory [default: sotto-node-data].
        #[arg(long, value_name = "DIR")]
        data_dir: Option<std::path::PathBuf>,
    },
}

/// How often the `--static-nodes` file is checked for changes.
const STATIC_NODES_POLL: Duration = Duration::from_millis(500);
/// Read-only database connections for retrieves (WAL readers do not wait for the writer). More
/// than the runtime's worker threads plus a few blocking tasks gains nothing.
const READER_CONNECTIONS: usize = 4;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Keys { data_dir }) => print_keys(data_dir),
        None => run(&cli.run),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sotto-node: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn print_keys(dir: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| DEFAULT_DATA_DIR.into());
    let keys = NodeKeys::load_or_create(&dir).context("cannot load or create the node keys")?;
    let out = serde_json::json!({
        "pubkey_ed25519": keys.ed25519().to_hex(),
        "pubkey_x25519": keys.x25519().to_hex(),
    });
    println!("{out}");
    Ok(())
}

fn run(args: &RunArgs) -> anyhow::Result<()> {
    let config = Config::resolve(args)?;
    match (config.standalone, &config.registry) {
        (true, Some(_)) => anyhow::bail!("--standalone and --registry exclude each other"),
        (false, None) => anyhow::bail!(
            "say how to find the network: --registry URL (the registry's JSON-RPC), \
             or --standalone (a network of one node)"
        ),
        _ => {}
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let keys = NodeKeys::load_or_create(&config.data_dir)?;
    let tls = sotto_https::server_config(&config.data_dir)?;
    let directory = Arc::new(Directory::default());
    // Stamp the file before reading it: a rewrite between the read and the watcher's start is
    // then seen as a change, not taken for the version already loaded.
    let static_stamp = config.static_nodes.as_deref().and_then(file_stamp);
    if let Some(path) = &config.static_nodes {
        let nodes = read_static_nodes(path)?;
        tracing::info!(count = nodes.len(), "static nodes loaded");
        directory.replace(nodes);
    }
    let db_path = config.data_dir.join("messages.db");
    let store = Store::open(
        &db_path,
        &StoreOptions {
            max_bytes: config.max_db_bytes,
            durability: config.durability,
        },
    )?;
    let readers = (0..READER_CONNECTIONS)
        .map(|_| Store::open_reader(&db_path))
        .collect::<Result<Vec<_>, _>>()?;

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    let me = NodeInfo {
        ed25519: keys.ed25519(),
        x25519: keys.x25519(),
        ip: local.ip(),
        storage_port: local.port(),
        swarm_id: None,
    };
    let view = if config.standalone {
        SwarmView::standalone(me)
    } else {
        SwarmView::empty(me.ed25519)
    };
    let node = Arc::new(Node::new(keys, store, view).with_readers(readers));
    let peers = PeerClient::new(Arc::clone(&node))?;
    let metrics = Metrics::new()?;
    let state = AppState {
        node: Arc::clone(&node),
        limiter: Arc::new(RateLimiter::new(
            config.rate_burst,
            config.rate_per_sec,
            sotto_node::config::DEFAULT_RATE_CLIENTS,
        )),
        metrics: metrics.clone(),
        onion: Arc::new(OnionService::new(
            Arc::clone(&node),
            Arc::clone(&directory),
            peers.clone(),
        )?),
        peers: peers.clone(),
        directory: Arc::clone(&directory),
    };
    let (stop_tx, stop_rx) = watch::channel(false);

    if let Some(addr) = config.metrics_listen {
        let metrics_listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        // Printed before "listening on", so that a supervisor (or a test) that asked for port 0
        // learns the address.
        let local = metrics_listener.local_addr()?;
        tracing::info!("metrics on http://{local}/metrics");
        println!("metrics on http://{local}/metrics");
        let mut stop = stop_rx.clone();
        let router = http::metrics_router(metrics.clone());
        tokio::spawn(async move {
            let _ = axum::serve(metrics_listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stop.changed().await;
                })
                .await;
        });
    }

    let watcher = config.static_nodes.clone().map(|path| {
        let directory = Arc::clone(&directory);
        tokio::spawn(watch_static_nodes(path, directory, static_stamp))
    });

    let sweeper = {
        let node = Arc::clone(&node);
        let metrics = metrics.clone();
        let every = Duration::from_secs(config.cleanup_secs);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let node = Arc::clone(&node);
                let swept = tokio::task::spawn_blocking(move || {
                    node.with_store(|s| {
                        let cleaned = s.clean_expired(http::now_ms())?;
                        Ok::<_, sotto_node::Error>((cleaned, s.message_count()?))
                    })
                })
                .await;
                match swept {
                    Ok(Ok((cleaned, count))) => {
                        metrics
                            .messages
                            .set(i64::try_from(count).unwrap_or(i64::MAX));
                        if cleaned > 0 {
                            tracing::debug!(cleaned, "expired messages removed");
                        }
                    }
                    Ok(Err(e)) => tracing::error!(error = %e, "expiry sweep failed"),
                    Err(e) => tracing::error!(error = %e, "expiry sweep panicked"),
                }
            }
        })
    };

    let network = match &config.registry {
        Some(url) => {
            let network = Arc::new(Network::new(
                Arc::clone(&node),
                Arc::clone(&directory),
                peers,
                NetworkOptions {
                    registry_url: url.clone(),
                    poll: Duration::from_millis(config.registry_poll_ms),
                    test_interval: Duration::from_millis(config.test_interval_ms),
                },
            )?);
            Some(tokio::spawn(network.run(stop_rx.clone())))
        }
        None => None,
    };

    tracing::info!(
        ed25519 = %node.keys().ed25519(),
        listen = %local,
        mode = if config.standalone { "standalone" } else { "network" },
        "sotto-node serving"
    );
    // Scripts and tests read the bound address from this line.
    println!("listening on https://{local}");
    std::io::stdout().flush()?;

    let server = tokio::spawn(sotto_https::serve_tls(
        listener,
        tls,
        http::router(state),
        stop_rx,
    ));
    sotto_https::shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = server.await;
    sweeper.abort();
    if let Some(n) = network {
        let _ = n.await;
    }
    if let Some(w) = watcher {
        w.abort();
    }
    Ok(())
}

fn read_static_nodes(path: &std::path::Path) -> anyhow::Result<Vec<sotto_rpc::nodes::NodeInfo>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    sotto_rpc::nodes::parse_node_list(&json).with_context(|| format!("in {}", path.display()))
}

/// What tells one version of a file from the next: modification time (coarse on some file
/// systems), length, and on Unix the inode (a write by rename makes a new one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: std::time::SystemTime,
    len: u64,
    inode: u64,
}

fn file_stamp(path: &std::path::Path) -> Option<FileStamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some(FileStamp {
        modified: m.modified().ok()?,
        len: m.len(),
        inode,
    })
}

/// Re-read the static node list whenever the file changes (from the version stamped `loaded`),
/// so that nodes started together can learn each other's addresses after they are bound. A
/// broken file keeps the previous list.
async fn watch_static_nodes(
    path: std::path::PathBuf,
    directory: Arc<Directory>,
    loaded: Option<FileStamp>,
) {
    let mut seen = loaded;
    let mut warned = None;
    let mut tick = tokio::time::interval(STATIC_NODES_POLL);
    loop {
        tick.tick().await;
        let now = file_stamp(&path);
        if now == seen {
            continue;
        }
        match read_static_nodes(&path) {
            Ok(nodes) => {
                tracing::info!(count = nodes.len(), "static nodes reloaded");
                directory.replace(nodes);
                seen = now;
                warned = None;
            }
            // A file caught half-written is read again on the next tick; warn once per version.
            Err(e) if warned != now => {
                tracing::warn!(error = %format!("{e:#}"), "static nodes not reloaded");
                warned = now;
            }
            Err(_) => {}
        }
    }
}
