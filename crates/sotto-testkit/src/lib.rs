#![doc = include_str!("../README.md")]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sotto_crypto::{Ed25519PublicKey, X25519PublicKey};
use sotto_rpc::nodes::{node_list_json, NodeInfo};

/// How long a process may take to print its address.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A failure of the test harness itself (not of the code under test).
#[derive(Debug)]
pub struct HarnessError(pub String);

impl std::fmt::Display for HarnessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HarnessError {}

fn fail(what: impl Into<String>) -> HarnessError {
    HarnessError(what.into())
}

/// Where a workspace binary is: next to the running test's own binary target directory.
/// `sibling_of` is a `CARGO_BIN_EXE_…` path of the test's package.
pub fn workspace_bin(sibling_of: &str, name: &str) -> Result<PathBuf, HarnessError> {
    let path = Path::new(sibling_of).with_file_name(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(fail(format!(
            "{} is missing: build the workspace first (`cargo build --workspace`; \
             `scripts/test` does)",
            path.display()
        )))
    }
}

/// A running server process, killed when dropped.
#[derive(Debug)]
pub struct Process {
    child: Child,
    /// The `host:port` it printed.
    pub addr: std::net::SocketAddr,
    /// The lines it printed before its `listening on` line (other listeners' addresses).
    pub printed: Vec<String>,
}

impl Process {
    /// Start `bin args…` and wait for its `listening on <scheme>://ADDR` line on stdout.
    pub fn start(bin: &Path, args: &[&str], scheme: &str) -> Result<Self, HarnessError> {
        let mut cmd = Command::new(bin);
        cmd.args(args);
        Self::start_command(cmd, scheme)
    }

    /// [`Process::start`] for a prepared command (working directory, environment).
    pub fn start_command(mut cmd: Command, scheme: &str) -> Result<Self, HarnessError> {
        let bin = PathBuf::from(cmd.get_program());
        let mut child = cmd
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| fail(format!("cannot start {}: {e}", bin.display())))?;
        let stdout = child.stdout.take().ok_or_else(|| fail("no stdout pipe"))?;
        let prefix = format!("listening on {scheme}://");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        let mut printed = Vec::new();
        let addr = loop {
            let line = deadline
                .checked_duration_since(Instant::now())
                .and_then(|left| rx.recv_timeout(left).ok());
            match line {
                Some(line) => match line.strip_prefix(&prefix) {
                    Some(addr) => break addr.to_owned(),
                    None => printed.push(line),
                },
                None => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(fail(format!("{} did not start in time", bin.display())));
                }
            }
        };
        let addr = addr
            .parse()
            .map_err(|e| fail(format!("bad address {addr}: {e}")))?;
        Ok(Self {
            child,
            addr,
            printed,
        })
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait (bounded) for the exit status.
    pub fn terminate(mut self) -> Result<std::process::ExitStatus, HarnessError> {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(fail("process did not stop within 10 s of SIGTERM"))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The node keys `sotto-node keys --data-dir DIR` prints (creating them if absent).
pub fn node_keys(
    node_bin: &Path,
    dir: &Path,
) -> Result<(Ed25519PublicKey, X25519PublicKey), HarnessError> {
    let dir_arg = dir.to_str().ok_or_else(|| fail("non-UTF-8 path"))?;
    let out = Command::new(node_bin)
        .args(["keys", "--data-dir", dir_arg])
        .output()
        .map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| fail(e.to_string()))?;
    let key = |field: &str| {
        v.get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| fail(format!("no {field}")))
    };
    Ok((
        key("pubkey_ed25519")?
            .parse()
            .map_err(|e| fail(format!("{e}")))?,
        key("pubkey_x25519")?
            .parse()
            .map_err(|e| fail(format!("{e}")))?,
    ))
}

/// Write a node list atomically (nodes poll the file and must never see half of it).
pub fn write_node_list(path: &Path, nodes: &[NodeInfo]) -> Result<(), HarnessError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, node_list_json(nodes).to_string()).map_err(|e| fail(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| fail(e.to_string()))
}

/// A standalone `sotto-node` process and how to reach it.
#[derive(Debug)]
pub struct NodeProcess {
    /// The process.
    pub process: Process,
    /// Its entry in the node list.
    pub info: NodeInfo,
}

/// A few standalone nodes that know each other through a shared `--static-nodes` file.
#[derive(Debug)]
pub struct StaticNetwork {
    /// Their working directory (removed when dropped).
    pub dir: tempfile::TempDir,
    /// The node list file.
    pub list: PathBuf,
    /// The nodes.
    pub nodes: Vec<NodeProcess>,
}

impl StaticNetwork {
    /// Start `n` nodes of `node_bin`, then publish the list of all of them.
    pub fn start(node_bin: &Path, n: usize) -> Result<Self, HarnessError> {
        Self::start_with(node_bin, n, &[])
    }

    /// [`StaticNetwork::start`] with extra `sotto-node` flags for every node.
    pub fn start_with(node_bin: &Path, n: usize, extra: &[&str]) -> Result<Self, HarnessError> {
        let dir = tempfile::tempdir().map_err(|e| fail(e.to_string()))?;
        let list = dir.path().join("nodes.json");
        write_node_list(&list, &[])?;
        let list_arg = list.to_str().ok_or_else(|| fail("non-UTF-8 path"))?;
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let data = dir.path().join(format!("node{i}"));
            let (ed25519, x25519) = node_keys(node_bin, &data)?;
            let data_arg = data.to_str().ok_or_else(|| fail("non-UTF-8 path"))?;
            let mut args = vec![
                "--data-dir",
                data_arg,
                "--listen",
                "127.0.0.1:0",
                "--standalone",
                "--static-nodes",
                list_arg,
            ];
            args.extend_from_slice(extra);
            let process = Process::start(node_bin, &args, "https")?;
            let info = NodeInfo {
                ed25519,
                x25519,
                ip: process.addr.ip(),
                storage_port: process.addr.port(),
                swarm_id: None,
            };
            nodes.push(NodeProcess { process, info });
        }
        let infos: Vec<NodeInfo> = nodes.iter().map(|n| n.info.clone()).collect();
        write_node_list(&list, &infos)?;
        Ok(Self { dir, list, nodes })
    }

    /// The list entry of node `i`.
    pub fn info(&self, i: usize) -> Option<NodeInfo> {
        self.nodes.get(i).map(|n| n.info.clone())
    }

    /// Every node's entry.
    pub fn infos(&self) -> Vec<NodeInfo> {
        self.nodes.iter().map(|n| n.info.clone()).collect()
    }
}

/// A registry and nodes in network mode, each its own process.
#[derive(Debug)]
pub struct RegistryNetwork {
    /// Working directory (removed when dropped).
    pub dir: tempfile::TempDir,
    /// The registry process.
    pub registry: Process,
    /// Its JSON-RPC URL.
    pub registry_url: String,
    registry_bin: PathBuf,
    node_bin: PathBuf,
    node_args: Vec<String>,
    /// The nodes, `None` once killed.
    pub nodes: Vec<Option<NodeProcess>>,
}

impl RegistryNetwork {
    /// Start `sotto-registry serve` with `registry_args`, then `n` registered nodes with
    /// `node_args` (besides `--data-dir`, `--listen` and `--registry`).
    pub fn start(
        node_bin: &Path,
        registry_bin: &Path,
        n: usize,
        registry_args: &[&str],
        node_args: &[&str],
    ) -> Result<Self, HarnessError> {
        let dir = tempfile::tempdir().map_err(|e| fail(e.to_string()))?;
        let registry_dir = dir.path().join("registry");
        let registry_dir_arg = registry_dir
            .to_str()
            .ok_or_else(|| fail("non-UTF-8 path"))?
            .to_owned();
        let mut args = vec![
            "serve",
            "--data-dir",
            &registry_dir_arg,
            "--listen",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(registry_args);
        let registry = Process::start(registry_bin, &args, "https")?;
        let registry_url = format!("https://{}/json_rpc", registry.addr);
        let mut network = Self {
            dir,
            registry,
            registry_url,
            registry_bin: registry_bin.to_owned(),
            node_bin: node_bin.to_owned(),
            node_args: node_args.iter().map(|s| (*s).to_owned()).collect(),
            nodes: Vec::new(),
        };
        for _ in 0..n {
            network.add_node()?;
        }
        Ok(network)
    }

    /// Start one more node and register it; returns its index.
    pub fn add_node(&mut self) -> Result<usize, HarnessError> {
        let i = self.nodes.len();
        let data = self.dir.path().join(format!("node{i}"));
        let (ed25519, x25519) = node_keys(&self.node_bin, &data)?;
        let data_arg = data.to_str().ok_or_else(|| fail("non-UTF-8 path"))?;
        let mut args = vec![
            "--data-dir",
            data_arg,
            "--listen",
            "127.0.0.1:0",
            "--registry",
            &self.registry_url,
        ];
        args.extend(self.node_args.iter().map(String::as_str));
        let process = Process::start(&self.node_bin, &args, "https")?;
        let port = process.addr.port().to_string();
        let registry_dir = self.dir.path().join("registry");
        let out = Command::new(&self.registry_bin)
            .args(["register", "--data-dir"])
            .arg(&registry_dir)
            .args(["--ed25519", &ed25519.to_hex(), "--ip", "127.0.0.1"])
            .args(["--port", &port, "--lmq-port", &port])
            .args(["--operator", &format!("op{i}"), "--stake", "25000"])
            .output()
            .map_err(|e| fail(e.to_string()))?;
        if !out.status.success() {
            return Err(fail(format!(
                "register failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let info = NodeInfo {
            ed25519,
            x25519,
            ip: process.addr.ip(),
            storage_port: process.addr.port(),
            swarm_id: None,
        };
        self.nodes.push(Some(NodeProcess { process, info }));
        Ok(i)
    }

    /// Kill node `i` (SIGKILL).
    pub fn kill(&mut self, i: usize) {
        if let Some(slot) = self.nodes.get_mut(i) {
            *slot = None;
        }
    }

    /// The list entry of node `i`, if it runs.
    pub fn info(&self, i: usize) -> Option<NodeInfo> {
        self.nodes.get(i)?.as_ref().map(|n| n.info.clone())
    }
}
