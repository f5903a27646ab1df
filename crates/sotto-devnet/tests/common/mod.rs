//! Running `sotto-devnet` as a child process, bounded.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

pub(crate) const DEVNET: &str = env!("CARGO_BIN_EXE_sotto-devnet");

/// A running `sotto-devnet up`; SIGTERMed (then killed) when dropped.
pub(crate) struct Devnet {
    pub(crate) dir: PathBuf,
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    pub(crate) stderr_seen: Vec<String>,
}

fn lines(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Devnet {
    pub(crate) fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(DEVNET)
            .arg("up")
            .arg("--dir")
            .arg(dir)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sotto-devnet");
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        Self {
            dir: dir.to_owned(),
            child,
            stdout,
            stderr,
            stderr_seen: Vec::new(),
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    fn drain_stderr(&mut self) {
        while let Ok(line) = self.stderr.try_recv() {
            self.stderr_seen.push(line);
        }
    }

    /// Wait (bounded) for `ready` on stdout; panics with the devnet's stderr otherwise.
    pub(crate) fn wait_ready(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            match self.stdout.recv_timeout(Duration::from_millis(200)) {
                Ok(line) if line == "ready" => return,
                Ok(line) => panic!("unexpected stdout line {line:?}"),
                Err(_) => {}
            }
            self.drain_stderr();
            if let Ok(Some(status)) = self.child.try_wait() {
                self.wait_stderr_closed();
                panic!("devnet exited ({status}):\n{}", self.stderr_seen.join("\n"));
            }
            if Instant::now() > deadline {
                panic!(
                    "no `ready` within {within:?}; stderr:\n{}",
                    self.stderr_seen.join("\n")
                );
            }
        }
    }

    /// Wait (bounded) until stderr shows a line containing `needle`.
    pub(crate) fn wait_stderr(&mut self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.stderr_seen.iter().any(|l| l.contains(needle)) {
                return;
            }
            if let Ok(line) = self.stderr.recv_timeout(Duration::from_millis(100)) {
                self.stderr_seen.push(line);
            }
        }
        panic!("no {needle:?} on stderr:\n{}", self.stderr_seen.join("\n"));
    }

    fn wait_stderr_closed(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match self.stderr.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => self.stderr_seen.push(line),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                Err(_) => {}
            }
        }
    }

    /// Wait (bounded) for the devnet to exit; returns its status and all of its stderr.
    pub(crate) fn wait_exit(&mut self, within: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.wait_stderr_closed();
                return (status, self.stderr_seen.join("\n"));
            }
            self.drain_stderr();
            if Instant::now() > deadline {
                panic!(
                    "devnet still running after {within:?}; stderr:\n{}",
                    self.stderr_seen.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn sigterm(&self) {
        signal("-TERM", self.pid());
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            signal("-TERM", self.child.id());
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub(crate) fn signal(sig: &str, pid: u32) {
    let _ = Command::new("kill").args([sig, &pid.to_string()]).status();
}

/// Whether `pid` is a live process (a zombie counts as gone).
pub(crate) fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
            !matches!(state.and_then(|s| s.chars().next()), Some('Z' | 'X'))
        }
    }
}

/// Panics unless every pid is gone within a few seconds.
pub(crate) fn assert_all_gone(pids: &[u32]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if pids.iter().all(|&p| !alive(p)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
    panic!("processes still alive: {left:?}");
}
