//! The node's configuration: command-line flags over an optional TOML file over defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Deserialize;

use crate::store::{Durability, DEFAULT_MAX_BYTES};

/// Default HTTPS listen address. Mainnet nodes use port 22021 (oxen-storage-server
/// `command_line.h`); we bind loopback unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:22021";
/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = "sotto-node-data";
/// Rate limit bucket size per client IP (oxen-storage-server `rate_limiter.h`).
pub const DEFAULT_RATE_BURST: u32 = 600;
/// Rate limit refill per second per client IP (`rate_limiter.h`).
pub const DEFAULT_RATE_PER_SEC: u32 = 300;
/// Most client IPs tracked by the rate limiter (`rate_limiter.h`).
pub const DEFAULT_RATE_CLIENTS: usize = 10_000;
/// Seconds between expiry sweeps (oxen-storage-server cleans every 10 s).
pub const DEFAULT_CLEANUP_SECS: u64 = 10;
/// Milliseconds between registry polls. Upstream polls oxend on every block (2 min); a poll with
/// `poll_block_hash` is cheap, so we ask more often and see changes sooner.
pub const DEFAULT_REGISTRY_POLL_MS: u64 = 5_000;
/// Mean milliseconds between reachability tests of a random node (oxen-storage-server
/// `reachability_testing.h`: one test every ~10 s).
pub const DEFAULT_TEST_INTERVAL_MS: u64 = 10_000;

/// Commit durability, as a flag value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sync {
    /// fsync every commit (survives power loss).
    #[default]
    Full,
    /// Survives a process crash, not a power loss; faster writes.
    Normal,
}

/// Flags of `sotto-node` (each overrides the config file).
#[derive(Clone, Debug, Default, Args)]
pub struct RunArgs {
    /// TOML config file with any of the keys below (snake_case).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for keys, certificate and database [default: sotto-node-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// HTTPS address for the storage RPC [default: 127.0.0.1:22021; port 0 picks a free port].
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Plain-HTTP address for Prometheus `/metrics` [default: off].
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics_listen: Option<SocketAddr>,
    /// Run as a network of one node whose swarm holds every account (no registry).
    #[arg(long)]
    pub standalone: bool,
    /// JSON file of other nodes (`{"service_node_states": [...]}`, as `get_n_service_nodes`).
    #[arg(long, value_name = "FILE")]
    pub static_nodes: Option<PathBuf>,
    /// Refuse new messages once the database reaches this many bytes [default: 3500000000].
    #[arg(long, value_name = "BYTES")]
    pub max_db_bytes: Option<u64>,
    /// Commit durability [default: full].
    #[arg(long, value_enum)]
    pub sync: Option<Sync>,
    /// Requests a client IP may burst [default: 600].
    #[arg(long, value_name = "N")]
    pub rate_burst: Option<u32>,
    /// Requests per second a client IP regains [default: 300].
    #[arg(long, value_name = "N")]
    pub rate_per_sec: Option<u32>,
    /// Seconds between expiry sweeps [default: 10].
    #[arg(long, value_name = "SECS")]
    pub cleanup_secs: Option<u64>,
    /// Network mode: follow this registry's JSON-RPC (e.g. https://127.0.0.1:22000/json_rpc).
    #[arg(long, value_name = "URL", conflicts_with = "standalone")]
    pub registry: Option<String>,
    /// Milliseconds between registry polls [default: 5000].
    #[arg(long, value_name = "MS")]
    pub registry_poll_ms: Option<u64>,
    /// Milliseconds between reachability tests of other nodes [default: 10000].
    #[arg(long, value_name = "MS")]
    pub test_interval_ms: Option<u64>,
}

/// The config file's keys (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    metrics_listen: Option<SocketAddr>,
    standalone: Option<bool>,
    static_nodes: Option<PathBuf>,
    max_db_bytes: Option<u64>,
    sync: Option<Sync>,
    rate_burst: Option<u32>,
    rate_per_sec: Option<u32>,
    cleanup_secs: Option<u64>,
    registry: Option<String>,
    registry_poll_ms: Option<u64>,
    test_interval_ms: Option<u64>,
}

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Data directory.
    pub data_dir: PathBuf,
    /// HTTPS listen address.
    pub listen: SocketAddr,
    /// Metrics listen address.
    pub metrics_listen: Option<SocketAddr>,
    /// Standalone mode.
    pub standalone: bool,
    /// Static node list file.
    pub static_nodes: Option<PathBuf>,
    /// Database size cap.
    pub max_db_bytes: u64,
    /// Commit durability.
    pub durability: Durability,
    /// Rate limit burst.
    pub rate_burst: u32,
    /// Rate limit refill per second.
    pub rate_per_sec: u32,
    /// Expiry sweep interval.
    pub cleanup_secs: u64,
    /// Registry URL (network mode).
    pub registry: Option<String>,
    /// Registry poll interval, ms.
    pub registry_poll_ms: u64,
    /// Reachability test interval, ms.
    pub test_interval_ms: u64,
}

impl Config {
    /// Resolve flags over the config file over defaults.
    pub fn resolve(args: &RunArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let default_listen: SocketAddr = DEFAULT_LISTEN.parse()?;
        Ok(Self {
            data_dir: args
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            listen: args.listen.or(file.listen).unwrap_or(default_listen),
            metrics_listen: args.metrics_listen.or(file.metrics_listen),
            standalone: args.standalone || file.standalone.unwrap_or(false),
            static_nodes: args.static_nodes.clone().or(file.static_nodes),
            max_db_bytes: args
                .max_db_bytes
                .or(file.max_db_bytes)
                .unwrap_or(DEFAULT_MAX_BYTES),
            durability: match args.sync.or(file.sync).unwrap_or_default() {
                Sync::Full => Durability::Full,
                Sync::Normal => Durability::Normal,
            },
            rate_burst: args
                .rate_burst
                .or(file.rate_burst)
                .unwrap_or(DEFAULT_RATE_BURST),
            rate_per_sec: args
                .rate_per_sec
                .or(file.rate_per_sec)
                .unwrap_or(DEFAULT_RATE_PER_SEC),
            cleanup_secs: args
                .cleanup_secs
                .or(file.cleanup_secs)
                .unwrap_or(DEFAULT_CLEANUP_SECS)
                .max(1),
            registry: args.registry.clone().or(file.registry),
            registry_poll_ms: args
                .registry_poll_ms
                .or(file.registry_poll_ms)
                .unwrap_or(DEFAULT_REGISTRY_POLL_MS)
                .max(50),
            test_interval_ms: args
                .test_interval_ms
                .or(file.test_interval_ms)
                .unwrap_or(DEFAULT_TEST_INTERVAL_MS)
                .max(50),
        })
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("bad config {}: {e}", path.display()))
}
