//! The devnet's numbers, and the exact command lines it runs.
//!
//! The intervals are short so that a dead node is voted out, and its swarm refilled, well within
//! a minute: every node tests a random peer each second (retesting failed ones), so with ten nodes
//! three distinct failure reports on a dead node arrive within seconds, well inside the 30 s vote
//! window, and nodes see the resulting block within half a second.

use std::path::Path;
use std::time::Duration;

/// Nodes started by `up` unless `--nodes` says otherwise (the 10: several swarms).
pub const DEFAULT_NODES: u16 = 10;
/// Devnet swarm sizes: minimum, ideal, maximum. Smaller than mainnet's 5/7/10 so that 10 nodes
/// form several swarms.
pub const SWARM_MIN: usize = 3;
/// Ideal swarm size (see [`SWARM_MIN`]).
pub const SWARM_IDEAL: usize = 4;
/// Maximum swarm size (see [`SWARM_MIN`]).
pub const SWARM_MAX: usize = 6;
/// Distinct nodes whose failure reports deregister a node (the registry's default, 3).
pub const VOTE_QUORUM: usize = 3;
/// Seconds a failure report counts (mainnet 300; short so that stale votes fade quickly).
pub const VOTE_WINDOW_SECS: u64 = 30;
/// Reward period in seconds (mainnet accounting uses an hour; a minute shows rewards move).
pub const REWARD_PERIOD_SECS: u64 = 60;
/// How often nodes poll the registry, ms (node default 5000).
pub const REGISTRY_POLL_MS: u64 = 500;
/// How often nodes test a random peer, ms (node default 10000).
pub const TEST_INTERVAL_MS: u64 = 1_000;
/// Each node's stake in SESH: the full requirement, all from its operator.
pub const STAKE: &str = "25000";
/// Longest wait for a server to print its `listening on https://ADDR` line.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Default longest wait for every node to serve its swarm, seconds.
pub const DEFAULT_READY_TIMEOUT_SECS: u64 = 120;
/// Default time a process gets between SIGTERM and SIGKILL, ms.
pub const DEFAULT_STOP_GRACE_MS: u64 = 5_000;
/// How often readiness is polled while the devnet comes up.
pub const READY_POLL: Duration = Duration::from_millis(500);
/// Per-request timeout when asking the registry or a node (`up`'s ready check and `status`).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// Swarm sizes given to the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SwarmSizes {
    /// Minimum.
    pub min: usize,
    /// Ideal (the size of new swarms).
    pub ideal: usize,
    /// Maximum.
    pub max: usize,
}

impl Default for SwarmSizes {
    fn default() -> Self {
        Self {
            min: SWARM_MIN,
            ideal: SWARM_IDEAL,
            max: SWARM_MAX,
        }
    }
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// `sotto-registry` arguments that run the devnet's registry in `data_dir`.
pub fn registry_serve_args(data_dir: &Path, sizes: SwarmSizes) -> Vec<String> {
    [
        "serve".to_owned(),
        "--data-dir".to_owned(),
        path_arg(data_dir),
        "--listen".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--vote-quorum".to_owned(),
        VOTE_QUORUM.to_string(),
        "--vote-window-secs".to_owned(),
        VOTE_WINDOW_SECS.to_string(),
        "--swarm-min".to_owned(),
        sizes.min.to_string(),
        "--swarm-ideal".to_owned(),
        sizes.ideal.to_string(),
        "--swarm-max".to_owned(),
        sizes.max.to_string(),
        "--reward-period-secs".to_owned(),
        REWARD_PERIOD_SECS.to_string(),
    ]
    .into()
}

/// `sotto-node` arguments that run node `data_dir` in network mode, following `registry_url`.
pub fn node_run_args(data_dir: &Path, registry_url: &str) -> Vec<String> {
    [
        "--data-dir".to_owned(),
        path_arg(data_dir),
        "--listen".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--registry".to_owned(),
        registry_url.to_owned(),
        "--registry-poll-ms".to_owned(),
        REGISTRY_POLL_MS.to_string(),
        "--test-interval-ms".to_owned(),
        TEST_INTERVAL_MS.to_string(),
    ]
    .into()
}

/// `sotto-registry` arguments that register node `index` (keys as hex) at `127.0.0.1:port`.
pub fn register_args(
    registry_dir: &Path,
    index: usize,
    ed25519: &str,
    x25519: &str,
    port: u16,
) -> Vec<String> {
    [
        "register".to_owned(),
        "--data-dir".to_owned(),
        path_arg(registry_dir),
        "--ed25519".to_owned(),
        ed25519.to_owned(),
        "--x25519".to_owned(),
        x25519.to_owned(),
        "--ip".to_owned(),
        "127.0.0.1".to_owned(),
        "--port".to_owned(),
        port.to_string(),
        "--lmq-port".to_owned(),
        port.to_string(),
        "--operator".to_owned(),
        format!("devnet-op-{index}"),
        "--stake".to_owned(),
        STAKE.to_owned(),
        "--json".to_owned(),
    ]
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_are_the_documented_ones() {
        let serve = registry_serve_args(Path::new("/d/registry"), SwarmSizes::default()).join(" ");
        assert_eq!(
            serve,
            "serve --data-dir /d/registry --listen 127.0.0.1:0 --vote-quorum 3 \
             --vote-window-secs 30 --swarm-min 3 --swarm-ideal 4 --swarm-max 6 \
             --reward-period-secs 60"
        );
        let node = node_run_args(Path::new("/d/node0"), "https://127.0.0.1:5/json_rpc").join(" ");
        assert_eq!(
            node,
            "--data-dir /d/node0 --listen 127.0.0.1:0 --registry https://127.0.0.1:5/json_rpc \
             --registry-poll-ms 500 --test-interval-ms 1000"
        );
        let reg = register_args(Path::new("/d/registry"), 7, "aa", "bb", 4321).join(" ");
        assert_eq!(
            reg,
            "register --data-dir /d/registry --ed25519 aa --x25519 bb --ip 127.0.0.1 \
             --port 4321 --lmq-port 4321 --operator devnet-op-7 --stake 25000 --json"
        );
    }
}
