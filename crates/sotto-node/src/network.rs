//! Network mode: follow the registry, keep the swarm view and node list current, hand data over
//! when swarms change, and test other nodes' reachability (`swarms.md` §3, §5).

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::seq::SliceRandom as _;
use serde_json::{json, Value};
use sotto_crypto::Ed25519PublicKey;
use sotto_rpc::nodes::{parse_node_list, NodeInfo};
use sotto_rpc::AccountId;
use tokio::sync::{watch, Notify};

use crate::directory::Directory;
use crate::http::now_ms;
use crate::peer::PeerClient;
use crate::service::Node;
use crate::swarm::SwarmView;

/// Path of the reachability test (`storage-rpc.md` §1).
pub const PING_PATH: &str = "/ping_test/v1";
/// Header a tested node answers with: its key, base64 (`swarms.md` §5).
pub const PING_HEADER: &str = "x-oxen-snode-pubkey";
/// Time a tested node has to answer (`reachability_testing.h`: 5 s).
pub const PING_TIMEOUT: Duration = Duration::from_secs(5);
/// Most failing nodes re-tested per round (upstream: ≤ 4 per tick).
pub const MAX_RETESTS: usize = 4;
/// A storage test asks for messages stored at least this long ago (so that replication and
/// hand-overs are done)…
pub const STORAGE_TEST_MIN_AGE_MS: i64 = 30_000;
/// …and living at least this much longer (so that expiry does not race the test).
pub const STORAGE_TEST_MIN_LIFE_MS: i64 = 60_000;
/// Interval of the hand-over check when nothing changed.
pub const REBALANCE_INTERVAL: Duration = Duration::from_secs(10);

/// Settings of network mode.
#[derive(Debug, Clone)]
pub struct NetworkOptions {
    /// The registry's JSON-RPC URL.
    pub registry_url: String,
    /// Between registry polls.
    pub poll: Duration,
    /// Between test rounds.
    pub test_interval: Duration,
}

/// The network-mode tasks of one node.
#[derive(Debug)]
pub struct Network {
    node: Arc<Node>,
    directory: Arc<Directory>,
    peers: PeerClient,
    http: reqwest::Client,
    options: NetworkOptions,
    changed: Notify,
    /// Swarm peers that already hold everything this node holds.
    synced: Mutex<HashSet<Ed25519PublicKey>>,
    /// Nodes whose last test failed.
    failing: Mutex<BTreeSet<Ed25519PublicKey>>,
}

impl Network {
    /// The tasks for `node`.
    pub fn new(
        node: Arc<Node>,
        directory: Arc<Directory>,
        peers: PeerClient,
        options: NetworkOptions,
    ) -> Result<Self, crate::Error> {
        Ok(Self {
            node,
            directory,
            peers,
            http: sotto_https::client(&sotto_https::ClientOptions {
                connect_timeout: Duration::from_secs(3),
                timeout: PING_TIMEOUT,
            })?,
            options,
            changed: Notify::new(),
            synced: Mutex::new(HashSet::new()),
            failing: Mutex::new(BTreeSet::new()),
        })
    }

    /// Run every task until `stop` turns true.
    pub async fn run(self: Arc<Self>, stop: watch::Receiver<bool>) {
        let tasks = [
            tokio::spawn(Arc::clone(&self).follow_registry()),
            tokio::spawn(Arc::clone(&self).rebalance_loop()),
            tokio::spawn(Arc::clone(&self).test_loop()),
        ];
        let mut stop = stop;
        let _ = stop.wait_for(|s| *s).await;
        for t in tasks {
            t.abort();
        }
    }

    async fn rpc(&self, method: &str, params: Value) -> Option<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 0, "method": method, "params": params});
        let response = self
            .http
            .post(&self.options.registry_url)
            .timeout(Duration::from_secs(10))
            .json(&body)
            .send()
            .await;
        let value: Value = match response {
            Ok(r) => match r.json().await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, method, "registry answer is not JSON");
                    return None;
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, method, "registry unreachable");
                return None;
            }
        };
        match value.get("result") {
            Some(result) => Some(result.clone()),
            None => {
                tracing::warn!(answer = %value, method, "registry refused");
                None
            }
        }
    }

    async fn follow_registry(self: Arc<Self>) {
        let me = self.node.keys().ed25519();
        let mut block_hash: Option<String> = None;
        let mut tick = tokio::time::interval(self.options.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let mut params = json!({"active_only": false});
            if let (Some(h), Some(p)) = (&block_hash, params.as_object_mut()) {
                p.insert("poll_block_hash".into(), json!(h));
            }
            let Some(result) = self.rpc("get_n_service_nodes", params).await else {
                continue;
            };
            if result.get("unchanged").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let nodes = match parse_node_list(&result) {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "registry node list unusable");
                    continue;
                }
            };
            block_hash = result
                .get("block_hash")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let view = SwarmView::from_nodes(me, &nodes);
            let before = self.node.view();
            if before.my_swarm() != view.my_swarm() {
                tracing::info!(swarm = ?view.my_swarm().map(|s| format!("{s:x}")), "swarm changed");
            }
            self.directory.replace(nodes);
            self.node.set_view(view);
            self.changed.notify_one();
        }
    }

    async fn rebalance_loop(self: Arc<Self>) {
        loop {
            let _ = tokio::time::timeout(REBALANCE_INTERVAL, self.changed.notified()).await;
            self.rebalance().await;
        }
    }

    /// Hand data to whoever should hold it now: every account this node holds goes to each member
    /// of a swarm that just gained this node's company, and accounts that moved to another swarm
    /// go to all of its members — and are deleted here only after every one of them has
    /// confirmed storing them (no lost copies, no lingering ones).
    pub async fn rebalance(&self) {
        let view = self.node.view();
        let Some(my_swarm) = view.my_swarm() else {
            return;
        };
        let peers = view.peers();
        let new_peers: Vec<NodeInfo> = {
            let mut synced = self
                .synced
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            synced.retain(|k| peers.iter().any(|p| p.ed25519 == *k));
            peers
                .iter()
                .filter(|p| !synced.contains(&p.ed25519))
                .cloned()
                .collect()
        };
        let node = Arc::clone(&self.node);
        let accounts =
            match tokio::task::spawn_blocking(move || node.with_store(|s| s.accounts())).await {
                Ok(Ok(a)) => a,
                _ => return,
            };
        let mut failed_peers: HashSet<Ed25519PublicKey> = HashSet::new();
        for account in accounts {
            let id = AccountId::from_bytes(account);
            let Some(target) = view.swarm_of(&id) else {
                continue;
            };
            let recipients: Vec<NodeInfo> = if target == my_swarm {
                new_peers.clone()
            } else {
                view.members(target).to_vec()
            };
            if recipients.is_empty() {
                continue;
            }
            let now = now_ms();
            let node = Arc::clone(&self.node);
            let messages = match tokio::task::spawn_blocking(move || {
                node.with_store(|s| s.export(&account, now))
            })
            .await
            {
                Ok(Ok(m)) => m,
                _ => continue,
            };
            if messages.is_empty() {
                continue;
            }
            let mut all = true;
            for peer in &recipients {
                if !self.peers.push(peer, &account, &messages, now).await {
                    all = false;
                    failed_peers.insert(peer.ed25519);
                }
            }
            if target != my_swarm && all {
                let hashes: Vec<String> = messages.iter().map(|m| m.hash.clone()).collect();
                let node = Arc::clone(&self.node);
                let n = hashes.len();
                let _ = tokio::task::spawn_blocking(move || {
                    node.with_store(|s| s.forget(&account, &hashes))
                })
                .await;
                tracing::info!(account = %hex::encode(account), messages = n, swarm = %format!("{target:x}"), "handed over");
            }
        }
        let mut synced = self
            .synced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for p in new_peers {
            if !failed_peers.contains(&p.ed25519) {
                synced.insert(p.ed25519);
            }
        }
    }

    async fn test_loop(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.options.test_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !self.node.view().ready() {
                continue;
            }
            let me = self.node.keys().ed25519();
            let nodes = self.directory.snapshot();
            let mut targets: Vec<NodeInfo> = {
                let failing = self
                    .failing
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                failing
                    .iter()
                    .filter_map(|k| nodes.get(k).cloned())
                    .take(MAX_RETESTS)
                    .collect()
            };
            let others: Vec<&NodeInfo> = nodes.values().filter(|n| n.ed25519 != me).collect();
            if let Some(pick) = others.choose(&mut rand::thread_rng()) {
                if !targets.iter().any(|t| t.ed25519 == pick.ed25519) {
                    targets.push((*pick).clone());
                }
            }
            let storage = self.storage_test().await;
            if let Some((peer, _)) = &storage {
                if !targets.iter().any(|t| t.ed25519 == *peer) {
                    if let Some(info) = nodes.get(peer) {
                        targets.push(info.clone());
                    }
                }
            }
            for target in targets {
                let mut passed = self.ping(&target).await;
                if let Some((peer, ok)) = &storage {
                    if *peer == target.ed25519 {
                        passed &= *ok;
                    }
                }
                {
                    let mut failing = self
                        .failing
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if passed {
                        failing.remove(&target.ed25519);
                    } else {
                        failing.insert(target.ed25519);
                    }
                }
                if !passed {
                    tracing::info!(node = %target.ed25519, "reachability test failed");
                }
                self.report(&target.ed25519, passed).await;
            }
        }
    }

    /// One storage test (`swarms.md` §5; upstream disabled theirs): a random swarm peer that has
    /// been handed everything must return a random message this node holds, byte for byte.
    /// Returns the peer and whether it passed; the result joins that peer's next report.
    async fn storage_test(&self) -> Option<(Ed25519PublicKey, bool)> {
        let synced: Vec<Ed25519PublicKey> = self
            .synced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .copied()
            .collect();
        let peer = self
            .node
            .view()
            .peers()
            .into_iter()
            .filter(|p| synced.contains(&p.ed25519))
            .collect::<Vec<_>>()
            .choose(&mut rand::thread_rng())
            .cloned()?;
        let now = now_ms();
        let node = Arc::clone(&self.node);
        let (account, message) = tokio::task::spawn_blocking(move || {
            node.with_store(|s| {
                s.random_message(now, STORAGE_TEST_MIN_AGE_MS, STORAGE_TEST_MIN_LIFE_MS)
            })
        })
        .await
        .ok()?
        .ok()??;
        if !self.node.view().owns(&AccountId::from_bytes(account)) {
            return None;
        }
        let passed = self
            .peers
            .storage_test(&peer, &account, &message, now)
            .await;
        if !passed {
            tracing::info!(node = %peer.ed25519, hash = %message.hash, "storage test failed");
        }
        Some((peer.ed25519, passed))
    }

    /// One reachability test: `POST /ping_test/v1` must answer 200 with the node's key.
    pub async fn ping(&self, target: &NodeInfo) -> bool {
        let url = format!("{}{PING_PATH}", target.base_url());
        match self.http.post(url).send().await {
            Ok(r) => {
                r.status().as_u16() == 200
                    && r.headers().get(PING_HEADER).and_then(|v| v.to_str().ok())
                        == Some(STANDARD.encode(target.ed25519.0).as_str())
            }
            Err(_) => false,
        }
    }

    async fn report(&self, tested: &Ed25519PublicKey, passed: bool) {
        let secs = u64::try_from(now_ms() / 1000).unwrap_or(0);
        let report = sotto_registry::report::SignedReport::sign(
            self.node.keys().identity(),
            tested,
            passed,
            secs,
        );
        let Ok(params) = serde_json::to_value(&report) else {
            return;
        };
        let _ = self.rpc(sotto_registry::rpc::REPORT_METHOD, params).await;
    }
}
