//! The processes `up` starts: each is watched by a task that reports an unexpected exit and, when
//! told to stop (or when the supervisor goes away), sends SIGTERM, waits, then SIGKILLs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use sotto_devnet::config::START_TIMEOUT;

/// What a server prints once bound; the rest of the line is its address.
/// What servers print once bound (`https` nodes and registry, `http` file server).
const LISTENING: [&str; 2] = ["listening on https://", "listening on http://"];

/// A process that ended while it was not asked to.
#[derive(Debug)]
pub(crate) struct Exit {
    /// "registry" or "node 3".
    pub(crate) name: String,
    /// Its exit status, as text.
    pub(crate) status: String,
}

/// A server that printed its address.
#[derive(Debug)]
pub(crate) struct Started {
    pub(crate) pid: u32,
    pub(crate) addr: SocketAddr,
}

struct Supervised {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// Every process started, and the exits nobody asked for.
pub(crate) struct Supervisor {
    grace: Duration,
    children: Vec<Supervised>,
    exits_tx: mpsc::UnboundedSender<Exit>,
    exits: mpsc::UnboundedReceiver<Exit>,
}

impl Supervisor {
    /// `grace`: time between SIGTERM and SIGKILL.
    pub(crate) fn new(grace: Duration) -> Self {
        let (exits_tx, exits) = mpsc::unbounded_channel();
        Self {
            grace,
            children: Vec::new(),
            exits_tx,
            exits,
        }
    }

    /// How many processes were started.
    pub(crate) fn len(&self) -> usize {
        self.children.len()
    }

    /// Start `bin args…` (stderr to `log`) and wait for its `listening on https://ADDR` line.
    /// Its stdout is drained for as long as it runs, so it never blocks on a full pipe.
    pub(crate) async fn start_server(
        &mut self,
        name: &str,
        bin: &Path,
        args: &[String],
        log: &Path,
    ) -> anyhow::Result<Started> {
        let log_file = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child
            .id()
            .with_context(|| format!("{name} exited at once (see {})", log.display()))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let (addr_tx, addr_rx) = oneshot::channel();
        tokio::spawn(async move {
            let mut addr_tx = Some(addr_tx);
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(addr) = LISTENING.iter().find_map(|p| line.strip_prefix(p)) {
                    if let Some(tx) = addr_tx.take() {
                        let _ = tx.send(addr.trim().to_owned());
                    }
                }
            }
        });
        self.watch(name.to_owned(), child, pid);
        let see = || format!("see {}", log.display());
        let addr = match tokio::time::timeout(START_TIMEOUT, addr_rx).await {
            Ok(Ok(addr)) => addr,
            Ok(Err(_)) => anyhow::bail!("{name} exited before it printed its address ({})", see()),
            Err(_) => anyhow::bail!(
                "{name} did not print its address within {} s ({})",
                START_TIMEOUT.as_secs(),
                see()
            ),
        };
        let addr = addr
            .parse()
            .with_context(|| format!("{name} printed a bad address {addr:?}"))?;
        Ok(Started { pid, addr })
    }

    fn watch(&mut self, name: String, mut child: Child, pid: u32) {
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let exits = self.exits_tx.clone();
        let grace = self.grace;
        let task = tokio::spawn(async move {
            tokio::select! {
                status = child.wait() => {
                    let status = match status {
                        Ok(s) => s.to_string(),
                        Err(e) => format!("cannot wait for it: {e}"),
                    };
                    let _ = exits.send(Exit { name, status });
                }
                // A stop order, or the supervisor went away: stop the child either way.
                _ = stop_rx => terminate(&mut child, pid, grace).await,
            }
        });
        self.children.push(Supervised {
            stop: Some(stop_tx),
            task,
        });
    }

    /// The first exit that happened since the last call, if any.
    pub(crate) fn try_exit(&mut self) -> Option<Exit> {
        self.exits.try_recv().ok()
    }

    /// Wait for the next exit (never returns `None` while the supervisor lives).
    pub(crate) async fn next_exit(&mut self) -> Option<Exit> {
        self.exits.recv().await
    }

    /// Stop every process (all at once): SIGTERM, up to the grace time, then SIGKILL; returns
    /// once each has been reaped.
    pub(crate) async fn shutdown(&mut self) {
        for child in &mut self.children {
            if let Some(stop) = child.stop.take() {
                let _ = stop.send(());
            }
        }
        for child in self.children.drain(..) {
            let _ = child.task.await;
        }
    }
}

async fn terminate(child: &mut Child, pid: u32, grace: Duration) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    // The child is not reaped yet, so `pid` is still ours. `kill(1)`: unsafe code is forbidden.
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        tracing::warn!(pid, "no exit within the grace time of SIGTERM: SIGKILL");
        let _ = child.kill().await;
    }
}

/// Where `sotto-registry` and `sotto-node` are.
#[derive(Debug)]
pub(crate) struct Bins {
    pub(crate) registry: PathBuf,
    pub(crate) node: PathBuf,
    /// The file server, started when it is there (it is optional).
    pub(crate) fileserver: Option<PathBuf>,
}

impl Bins {
    /// [`Bins::find`]; when run by `cargo run` (which sets `CARGO`) and the binaries are not
    /// built yet, build them first with the same profile, so that `cargo run -p sotto-devnet --
    /// demo` works from a fresh clone.
    pub(crate) fn find_or_build(dir: Option<&Path>) -> anyhow::Result<Self> {
        if let Ok(bins) = Self::find(dir) {
            return Ok(bins);
        }
        let (Some(cargo), None) = (std::env::var_os("CARGO"), dir) else {
            return Self::find(dir);
        };
        let exe = std::env::current_exe().context("cannot find this executable")?;
        let release = exe
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|p| p == "release");
        eprintln!("building sotto-node and sotto-registry…");
        let mut build = std::process::Command::new(cargo);
        build.args([
            "build",
            "-q",
            "-p",
            "sotto-node",
            "-p",
            "sotto-registry",
            "-p",
            "sotto-fileserver",
        ]);
        if release {
            build.arg("--release");
        }
        let status = build.status().context("cannot run cargo")?;
        anyhow::ensure!(
            status.success(),
            "building sotto-node and sotto-registry failed"
        );
        Self::find(dir)
    }

    /// In `dir`, or else next to this executable (the same cargo target directory).
    pub(crate) fn find(dir: Option<&Path>) -> anyhow::Result<Self> {
        let dir = match dir {
            Some(d) => d.to_owned(),
            None => std::env::current_exe()
                .context("cannot find this executable")?
                .parent()
                .context("this executable has no directory")?
                .to_owned(),
        };
        let find = |name: &str| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(anyhow::anyhow!(
                    "{} is missing: build the workspace (`cargo build --workspace`) or pass \
                     --bin-dir",
                    path.display()
                ))
            }
        };
        Ok(Self {
            registry: find("sotto-registry")?,
            node: find("sotto-node")?,
            fileserver: find("sotto-fileserver").ok(),
        })
    }
}
