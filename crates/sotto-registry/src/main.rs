//! `sotto-registry`: the staking ledger's server and command line.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use sotto_crypto::{Ed25519PublicKey, X25519PublicKey};
use sotto_registry::constants::{
    DB_FILE, DEFAULT_DATA_DIR, DEFAULT_LISTEN, DEFAULT_REWARD_PERIOD_SECS,
    DEFAULT_REWARD_PER_PERIOD, DEFAULT_UNLOCK_DELAY_SECS, DEFAULT_VOTE_QUORUM,
    DEFAULT_VOTE_WINDOW_SECS,
};
use sotto_registry::server::{self, AppState, SharedLedger};
use sotto_registry::{
    unix_now, Address, Amount, Contribution, Ledger, NodeStatus, Registration, RewardRules,
    SqliteLedger, VoteRules,
};
use sotto_swarm::{SwarmSizes, UNASSIGNED_SWARM_ID};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Sotto registry: the staking ledger that says which service nodes exist, and the seed-node
/// JSON-RPC (`get_n_service_nodes`) that nodes and clients read it from.
///
/// The commands other than `serve` write the database directly (run them on the registry's
/// machine, beside a running server or not).
#[derive(Debug, Parser)]
#[command(name = "sotto-registry", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct DataDir {
    /// Directory of the database (registry.db) and the TLS certificate.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the JSON-RPC over HTTPS (self-signed certificate in the data directory).
    Serve(ServeArgs),
    /// Register a node with its operator's stake (and other stakers').
    Register(RegisterArgs),
    /// Add stake to a node that awaits contributions.
    Stake {
        #[command(flatten)]
        dir: DataDir,
        /// The node's Ed25519 key (hex).
        #[arg(long, value_name = "HEX")]
        node: Ed25519PublicKey,
        /// The staker's address.
        #[arg(long, value_name = "ADDR")]
        address: Address,
        /// Amount in SESH (e.g. 6250 or 0.5).
        #[arg(long, value_name = "AMOUNT")]
        amount: Amount,
    },
    /// Ask a node to leave: it keeps serving for the delay, then exits.
    #[command(alias = "unstake")]
    Unlock {
        #[command(flatten)]
        dir: DataDir,
        /// The node's Ed25519 key (hex).
        #[arg(long, value_name = "HEX")]
        node: Ed25519PublicKey,
        /// Seconds until it exits (30 days, the Session network's unlock time).
        #[arg(long, value_name = "SECS", default_value_t = DEFAULT_UNLOCK_DELAY_SECS)]
        delay_secs: u64,
    },
    /// Remove a node at once.
    Deregister {
        #[command(flatten)]
        dir: DataDir,
        /// The node's Ed25519 key (hex).
        #[arg(long, value_name = "HEX")]
        node: Ed25519PublicKey,
        /// Why (kept in the database).
        #[arg(long, default_value = "operator request")]
        reason: String,
    },
    /// List the live nodes (registered, not yet gone).
    List {
        #[command(flatten)]
        dir: DataDir,
        /// Print the node list as get_n_service_nodes returns it, plus swarm_sizes.
        #[arg(long)]
        json: bool,
    },
    /// List stakers' reward balances.
    Rewards {
        #[command(flatten)]
        dir: DataDir,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    dir: DataDir,
    /// Address to listen on (port 0: any free port; the bound address is printed).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Distinct active nodes whose failure reports deregister a node.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_VOTE_QUORUM)]
    vote_quorum: usize,
    /// Seconds a failure report counts.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_VOTE_WINDOW_SECS)]
    vote_window_secs: u64,
    /// Minimum swarm size; with --swarm-ideal and --swarm-max replaces the sizes kept in the
    /// database (mainnet 5/7/10 when it was created).
    #[arg(long, value_name = "N", requires_all = ["swarm_ideal", "swarm_max"])]
    swarm_min: Option<usize>,
    /// Ideal swarm size (the size of new swarms).
    #[arg(long, value_name = "N", requires_all = ["swarm_min", "swarm_max"])]
    swarm_ideal: Option<usize>,
    /// Maximum swarm size (advisory, as upstream).
    #[arg(long, value_name = "N", requires_all = ["swarm_min", "swarm_ideal"])]
    swarm_max: Option<usize>,
    /// Length of a reward period in seconds (0: no rewards).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_REWARD_PERIOD_SECS)]
    reward_period_secs: u64,
    /// What each active node earns per period, in SESH.
    #[arg(long, value_name = "AMOUNT", default_value_t = DEFAULT_REWARD_PER_PERIOD)]
    reward_per_period: Amount,
}

#[derive(Debug, Args)]
struct RegisterArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The node's Ed25519 key (hex): its name.
    #[arg(long, value_name = "HEX")]
    ed25519: Ed25519PublicKey,
    /// The node's X25519 key (hex); derived from --ed25519 if omitted, refused if it differs.
    #[arg(long, value_name = "HEX")]
    x25519: Option<X25519PublicKey>,
    /// The node's public IP address.
    #[arg(long, value_name = "IP")]
    ip: IpAddr,
    /// Its HTTPS (storage RPC) port.
    #[arg(long, value_name = "PORT")]
    port: u16,
    /// Its OMQ/QUIC port (published only).
    #[arg(long, value_name = "PORT")]
    lmq_port: u16,
    /// The operator's address (receives the fee and its share).
    #[arg(long, value_name = "ADDR")]
    operator: Address,
    /// The operator's stake in SESH: at least 6250 (25 % of 25000).
    #[arg(long, value_name = "AMOUNT")]
    stake: Amount,
    /// Operator fee in basis points of each reward (10000 = 100 %).
    #[arg(long, value_name = "BPS", default_value_t = 0)]
    fee_bps: u16,
    /// Another staker, ADDR=AMOUNT (repeatable, at most 9).
    #[arg(long, value_name = "ADDR=AMOUNT", value_parser = parse_contributor)]
    contributor: Vec<Contribution>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn parse_contributor(s: &str) -> Result<Contribution, String> {
    let (addr, amount) = s
        .split_once('=')
        .ok_or_else(|| "expected ADDR=AMOUNT".to_owned())?;
    Ok(Contribution {
        address: addr
            .parse()
            .map_err(|e: sotto_registry::Error| e.to_string())?,
        amount: amount
            .parse()
            .map_err(|e: sotto_registry::Error| e.to_string())?,
    })
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(match cli.command {
                    Command::Serve(_) => "info",
                    _ => "warn",
                })
            }),
        )
        .init();
    match run(cli.command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sotto-registry: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn open(dir: &Path) -> anyhow::Result<SqliteLedger> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(DB_FILE);
    SqliteLedger::open(&path).with_context(|| format!("cannot open {}", path.display()))
}

fn run(command: Command) -> anyhow::Result<()> {
    let now = unix_now();
    match command {
        Command::Serve(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(serve(args))
        }
        Command::Register(args) => register(args, now),
        Command::Stake {
            dir,
            node,
            address,
            amount,
        } => {
            let block =
                open(&dir.data_dir)?.stake(&node, &Contribution { address, amount }, now)?;
            println!("staked {amount} SESH in {node} (height {})", block.height);
            Ok(())
        }
        Command::Unlock {
            dir,
            node,
            delay_secs,
        } => {
            let exit_at = now.saturating_add(delay_secs);
            let block = open(&dir.data_dir)?.unlock(&node, exit_at, now)?;
            println!(
                "{node} unlocks: it leaves at unix time {exit_at} (height {})",
                block.height
            );
            Ok(())
        }
        Command::Deregister { dir, node, reason } => {
            let block = open(&dir.data_dir)?.deregister(&node, &reason, now)?;
            println!("{node} deregistered (height {})", block.height);
            Ok(())
        }
        Command::List { dir, json } => list(&dir.data_dir, json),
        Command::Rewards { dir, json } => rewards(&dir.data_dir, json),
    }
}

fn register(args: RegisterArgs, now: u64) -> anyhow::Result<()> {
    let derived = args
        .ed25519
        .to_x25519()
        .context("--ed25519 is not a valid Ed25519 public key")?;
    let registration = Registration {
        ed25519: args.ed25519,
        x25519: args.x25519.unwrap_or(derived),
        public_ip: args.ip,
        storage_port: args.port,
        storage_lmq_port: args.lmq_port,
        operator: Contribution {
            address: args.operator,
            amount: args.stake,
        },
        fee_bps: args.fee_bps,
        contributors: args.contributor,
    };
    let mut ledger = open(&args.dir.data_dir)?;
    let block = ledger.register(&registration, now)?;
    let funded = ledger
        .snapshot()?
        .nodes
        .iter()
        .any(|n| n.ed25519 == args.ed25519 && n.status == NodeStatus::Active);
    if args.json {
        let out = serde_json::json!({
            "pubkey_ed25519": args.ed25519.to_hex(),
            "height": block.height,
            "block_hash": hex::encode(block.hash),
            "funded": funded,
        });
        println!("{out}");
    } else {
        println!(
            "registered {} at height {} ({})",
            args.ed25519,
            block.height,
            if funded {
                "funded, active"
            } else {
                "awaiting contributions"
            }
        );
    }
    Ok(())
}

fn list(dir: &Path, json: bool) -> anyhow::Result<()> {
    let snapshot = open(dir)?.snapshot()?;
    if json {
        println!("{}", sotto_registry::rpc::snapshot_json(&snapshot));
        return Ok(());
    }
    println!(
        "height {}  block {}  swarm sizes {}/{}/{}  {} nodes",
        snapshot.height,
        hex::encode(snapshot.block_hash),
        snapshot.sizes.min(),
        snapshot.sizes.ideal(),
        snapshot.sizes.max(),
        snapshot.nodes.len()
    );
    println!(
        "{:<64}  {:<8}  {:<16}  {:<21}  {:>12}  EXIT",
        "ED25519", "STATUS", "SWARM", "ADDRESS", "STAKE"
    );
    for n in &snapshot.nodes {
        let status = match n.status {
            NodeStatus::Active => "active",
            NodeStatus::AwaitingContributions => "awaiting",
        };
        let swarm = if n.swarm_id == UNASSIGNED_SWARM_ID {
            "-".to_owned()
        } else {
            format!("{:016x}", n.swarm_id)
        };
        let addr = SocketAddr::new(n.public_ip, n.storage_port).to_string();
        let exit = n.exit_at.map_or_else(|| "-".to_owned(), |t| t.to_string());
        println!(
            "{:<64}  {:<8}  {:<16}  {:<21}  {:>12}  {exit}",
            n.ed25519.to_hex(),
            status,
            swarm,
            addr,
            n.total_stake().to_string()
        );
    }
    Ok(())
}

fn rewards(dir: &Path, json: bool) -> anyhow::Result<()> {
    let balances = open(dir)?.rewards()?;
    if json {
        let list: Vec<serde_json::Value> = balances
            .iter()
            .map(|b| {
                serde_json::json!({"address": b.address.as_str(), "amount": b.amount.units(),
                    "sesh": b.amount.to_string()})
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    println!("{:<44}  {:>20}", "ADDRESS", "SESH");
    for b in &balances {
        println!("{:<44}  {:>20}", b.address.as_str(), b.amount.to_string());
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let now = unix_now();
    let mut ledger = open(&args.dir.data_dir)?;
    if let (Some(min), Some(ideal), Some(max)) = (args.swarm_min, args.swarm_ideal, args.swarm_max)
    {
        let sizes = SwarmSizes::new(min, ideal, max)?;
        if let Some(block) = ledger.set_swarm_sizes(&sizes, now)? {
            tracing::info!(
                min,
                ideal,
                max,
                height = block.height,
                "swarm sizes changed"
            );
        }
    }
    let tls = sotto_https::server_config(&args.dir.data_dir)?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let shared: SharedLedger = Arc::new(Mutex::new(Box::new(ledger)));
    let state = AppState {
        ledger: Arc::clone(&shared),
        votes: VoteRules {
            quorum: args.vote_quorum.max(1),
            window_secs: args.vote_window_secs,
        },
    };
    let ticker = tokio::spawn(server::run_ticker(
        Arc::clone(&shared),
        RewardRules {
            period_secs: args.reward_period_secs,
            per_node: args.reward_per_period,
        },
    ));
    let (stop_tx, stop_rx) = watch::channel(false);
    tracing::info!(listen = %local, "sotto-registry serving");
    // Scripts and tests read the bound address from this line.
    println!("listening on https://{local}");
    std::io::stdout().flush()?;
    let http = tokio::spawn(sotto_https::serve_tls(
        listener,
        tls,
        server::router(state),
        stop_rx,
    ));
    sotto_https::shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = http.await;
    ticker.abort();
    Ok(())
}
