//! Network mode end to end: a real `sotto-registry` and `sotto-node` processes on loopback.
//! Stores replicate to the whole swarm, foreign accounts get 421, peer requests are
//! authenticated, dead nodes are voted out and their swarm refills with the old data, and new
//! nodes take over data without loss or lingering copies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use sotto_crypto::{Ed25519PublicKey, Identity, Seed};
use sotto_rpc::nodes::{parse_node_list, NodeInfo};
use sotto_rpc::AccountId;
use sotto_testkit::{workspace_bin, RegistryNetwork};

const BIN: &str = env!("CARGO_BIN_EXE_sotto-node");

/// Small swarms so that a handful of nodes forms several: 2 minimum, 3 ideal.
const REGISTRY_ARGS: &[&str] = &[
    "--swarm-min",
    "2",
    "--swarm-ideal",
    "3",
    "--swarm-max",
    "4",
    "--vote-quorum",
    "2",
    "--vote-window-secs",
    "30",
    "--reward-period-secs",
    "0",
];
const NODE_ARGS: &[&str] = &["--registry-poll-ms", "200", "--test-interval-ms", "300"];

fn network(n: usize) -> RegistryNetwork {
    let registry = workspace_bin(BIN, "sotto-registry").unwrap();
    RegistryNetwork::start(Path::new(BIN), &registry, n, REGISTRY_ARGS, NODE_ARGS).unwrap()
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The registry's current node list.
fn registry_nodes(c: &reqwest::blocking::Client, net: &RegistryNetwork) -> Vec<NodeInfo> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "get_n_service_nodes",
        "params": {"active_only": true}});
    let v: Value = c
        .post(&net.registry_url)
        .json(&body)
        .send()
        .unwrap()
        .json()
        .unwrap();
    parse_node_list(&v).unwrap()
}

fn swarms_of(nodes: &[NodeInfo]) -> BTreeMap<u64, Vec<NodeInfo>> {
    let mut swarms: BTreeMap<u64, Vec<NodeInfo>> = BTreeMap::new();
    for n in nodes {
        if let Some(id) = n.swarm_id.filter(|&id| id != u64::MAX) {
            swarms.entry(id).or_default().push(n.clone());
        }
    }
    swarms
}

fn swarm_for(swarms: &BTreeMap<u64, Vec<NodeInfo>>, account: &AccountId) -> u64 {
    let ids: Vec<u64> = swarms.keys().copied().collect();
    sotto_swarm::closest_swarm(&ids, sotto_swarm::swarm_space_prefixed(account.as_bytes())).unwrap()
}

fn stats(c: &reqwest::blocking::Client, n: &NodeInfo) -> Option<Value> {
    c.get(format!("{}/get_stats/v1", n.base_url()))
        .send()
        .ok()?
        .json()
        .ok()
}

/// The nodes and swarms a node believes in: its `oxend_request get_service_nodes` answer, which
/// it builds from its own view of the registry.
fn node_view(c: &reqwest::blocking::Client, n: &NodeInfo) -> Option<BTreeSet<(String, u64)>> {
    let body = json!({"method": "oxend_request", "params": {"endpoint": "get_service_nodes",
        "params": {"fields": {"public_ip": true, "storage_port": true, "pubkey_ed25519": true,
        "pubkey_x25519": true, "swarm_id": true}}}});
    let r = c
        .post(format!("{}/storage_rpc/v1", n.base_url()))
        .body(body.to_string())
        .send()
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    let v: Value = r.json().ok()?;
    let nodes = parse_node_list(v.get("result")?).ok()?;
    Some(view_of(&nodes))
}

fn view_of(nodes: &[NodeInfo]) -> BTreeSet<(String, u64)> {
    nodes
        .iter()
        .filter_map(|n| Some((n.ed25519.to_hex(), n.swarm_id?)))
        .collect()
}

/// Wait (bounded) until the registry lists exactly `expected` active nodes, every one of them
/// serves the swarm the registry assigns it, and every one has caught up with the registry's
/// whole list (a node that is right about its own swarm may still hold an older list, and
/// replicate to, or refuse, the wrong peers); returns the swarms.
fn settle(
    c: &reqwest::blocking::Client,
    net: &RegistryNetwork,
    expected: usize,
) -> BTreeMap<u64, Vec<NodeInfo>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let nodes = registry_nodes(c, net);
        let registry_view = view_of(&nodes);
        let agreed = nodes.len() == expected
            && nodes.iter().all(|n| {
                stats(c, n)
                    .is_some_and(|s| s["ready"] == true && s["swarm_id"].as_u64() == n.swarm_id)
                    && node_view(c, n).as_ref() == Some(&registry_view)
            });
        if agreed {
            return swarms_of(&nodes);
        }
        assert!(
            Instant::now() < deadline,
            "network did not settle: {nodes:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn account(i: u32) -> Identity {
    let mut seed = [0x5au8; 16];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    Identity::from_seed(&Seed::Standard(seed))
}

fn post(c: &reqwest::blocking::Client, n: &NodeInfo, body: &Value) -> (u16, String) {
    let r = c
        .post(format!("{}/storage_rpc/v1", n.base_url()))
        .body(body.to_string())
        .send()
        .unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn store(c: &reqwest::blocking::Client, n: &NodeInfo, id: &Identity, data: &[u8]) -> (u16, Value) {
    let body = json!({"method": "store", "params": {"pubkey": id.session_id().to_string(),
        "timestamp": now(), "ttl": 3_600_000, "data": STANDARD.encode(data)}});
    let (status, text) = post(c, n, &body);
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn retrieve_hashes(
    c: &reqwest::blocking::Client,
    n: &NodeInfo,
    id: &Identity,
) -> Option<BTreeSet<String>> {
    let ts = now();
    let body = json!({"method": "retrieve", "params": {"pubkey": id.session_id().to_string(),
        "pubkey_ed25519": id.ed25519_public().to_hex(), "timestamp": ts,
        "signature": STANDARD.encode(id.sign(format!("retrieve{ts}").as_bytes()))}});
    let (status, text) = post(c, n, &body);
    if status != 200 {
        return None;
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    Some(
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["hash"].as_str().unwrap().to_owned())
            .collect(),
    )
}

fn account_id(id: &Identity) -> AccountId {
    AccountId::from_bytes(id.session_id().to_bytes())
}

/// Hashes a node holds on disk for an account (read-only, beside the running node).
fn on_disk(net: &RegistryNetwork, i: usize) -> BTreeSet<String> {
    let path = net.dir.path().join(format!("node{i}")).join("messages.db");
    let conn =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn.prepare("SELECT hash FROM messages").unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

fn index_of(net: &RegistryNetwork, key: &Ed25519PublicKey) -> usize {
    net.nodes
        .iter()
        .position(|n| n.as_ref().is_some_and(|n| n.info.ed25519 == *key))
        .unwrap()
}

/// Wait (bounded) until every live node holds exactly the messages of the accounts its swarm
/// owns: everything replicated, nothing lingering.
fn wait_for_placement(
    net: &RegistryNetwork,
    c: &reqwest::blocking::Client,
    stored: &BTreeMap<String, AccountId>,
    expected_nodes: usize,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let swarms = settle(c, net, expected_nodes);
        let mut wrong = Vec::new();
        for (swarm, members) in &swarms {
            let want: BTreeSet<String> = stored
                .iter()
                .filter(|(_, a)| swarm_for(&swarms, a) == *swarm)
                .map(|(h, _)| h.clone())
                .collect();
            for m in members {
                let have = on_disk(net, index_of(net, &m.ed25519));
                if have != want {
                    wrong.push((m.ed25519, want.len(), have.len()));
                }
            }
        }
        if wrong.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "data not where it belongs: {wrong:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn stores_replicate_to_the_swarm_and_foreign_accounts_get_421() {
    let net = network(6);
    let c = client();
    let swarms = settle(&c, &net, 6);
    assert!(swarms.len() >= 2, "expected several swarms: {swarms:?}");

    let id = account(1);
    let acct = account_id(&id);
    let home = swarm_for(&swarms, &acct);
    let members = &swarms[&home];
    let outsider = swarms.iter().find(|(s, _)| **s != home).unwrap().1[0].clone();

    // A store at one member lands on every member, each signing the hash.
    let (status, reply) = store(&c, &members[0], &id, b"replicated");
    assert_eq!(status, 200, "{reply}");
    let hash = reply["hash"].as_str().unwrap().to_owned();
    let entries = reply["swarm"].as_object().unwrap();
    assert_eq!(entries.len(), members.len(), "{reply}");
    for m in members {
        let entry = &entries[&m.ed25519.to_hex()];
        assert_eq!(entry["hash"], hash.as_str(), "{reply}");
        let sig: [u8; 64] = STANDARD
            .decode(entry["signature"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        m.ed25519.verify(hash.as_bytes(), &sig, "store").unwrap();
        assert_eq!(
            retrieve_hashes(&c, m, &id).unwrap(),
            BTreeSet::from([hash.clone()])
        );
    }

    // Any other node answers 421 with the right swarm.
    let (status, text) = post(
        &c,
        &outsider,
        &json!({"method": "retrieve", "params": {"pubkey": id.session_id().to_string()}}),
    );
    assert_eq!(status, 421, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["swarm"], format!("{home:x}"));
    let listed: BTreeSet<String> = v["snodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pubkey_ed25519"].as_str().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = members.iter().map(|m| m.ed25519.to_hex()).collect();
    assert_eq!(listed, expected);
    // get_swarm is answered anywhere.
    let (status, text) = post(
        &c,
        &outsider,
        &json!({"method": "get_swarm", "params": {"pubkey": id.session_id().to_string()}}),
    );
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["swarm"],
        format!("{home:x}")
    );

    // Clients refresh their node list through any node (`oxend_request`).
    let (status, text) = post(
        &c,
        &outsider,
        &json!({"method": "oxend_request", "params": {
        "endpoint": "get_service_nodes", "params": {"fields": {"public_ip": true, "storage_port": true,
        "pubkey_ed25519": true, "pubkey_x25519": true, "swarm_id": true}}}}),
    );
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parse_node_list(&v["result"]).unwrap().len(), 6);

    // Peer requests: unsigned, wrong clock, tampered, or from a stranger are refused, and
    // nothing is stored.
    let target = &members[0];
    let peer_dir = net
        .dir
        .path()
        .join(format!("node{}", index_of(&net, &members[1].ed25519)));
    let peer_keys = sotto_node::keys::NodeKeys::load_or_create(&peer_dir).unwrap();
    let stranger =
        sotto_node::keys::NodeKeys::load_or_create(&net.dir.path().join("stranger")).unwrap();
    let sneaky = json!({"method": "store", "params": {"pubkey": id.session_id().to_string(),
        "timestamp": now(), "ttl": 3_600_000, "data": STANDARD.encode(b"sneaky")}})
    .to_string();
    let url = format!("{}{}", target.base_url(), sotto_node::peer::SWARM_RPC_PATH);
    let send = |headers: &[(&str, String)], body: &str| {
        let mut r = c.post(&url).body(body.to_owned());
        for (k, v) in headers {
            r = r.header(*k, v);
        }
        let r = r.send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    assert_eq!(send(&[], &sneaky).0, 401);
    let skewed = sotto_node::peer::sign_headers(
        &peer_keys,
        sotto_node::peer::SWARM_RPC_PATH,
        sneaky.as_bytes(),
        now() - 300_000,
    );
    assert_eq!(
        send(&skewed, &sneaky),
        (406, "Timestamp error: check your clock".into())
    );
    let good = sotto_node::peer::sign_headers(
        &peer_keys,
        sotto_node::peer::SWARM_RPC_PATH,
        sneaky.as_bytes(),
        now(),
    );
    let tampered = sneaky.replace("c25lYWt5", "ZXZpbA==");
    assert_eq!(send(&good, &tampered).0, 401);
    let foreign = sotto_node::peer::sign_headers(
        &stranger,
        sotto_node::peer::SWARM_RPC_PATH,
        sneaky.as_bytes(),
        now(),
    );
    assert_eq!(send(&foreign, &sneaky).0, 403);
    assert_eq!(
        retrieve_hashes(&c, target, &id).unwrap(),
        BTreeSet::from([hash.clone()])
    );
    // The genuine peer request is accepted.
    let (status, text) = send(&good, &sneaky);
    assert_eq!(status, 200, "{text}");

    // Storage tests: a swarm peer may ask for a message by hash and gets its data; a missing
    // hash is a 404; strangers are refused.
    let test_url = format!(
        "{}{}",
        target.base_url(),
        sotto_node::peer::STORAGE_TEST_PATH
    );
    let storage_test = |keys: &sotto_node::keys::NodeKeys, hash: &str| {
        let body = json!({"account": hex::encode(acct.as_bytes()), "hash": hash}).to_string();
        let mut r = c.post(&test_url).body(body.clone());
        for (k, v) in sotto_node::peer::sign_headers(
            keys,
            sotto_node::peer::STORAGE_TEST_PATH,
            body.as_bytes(),
            now(),
        ) {
            r = r.header(k, v);
        }
        let r = r.send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let (status, text) = storage_test(&peer_keys, &hash);
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        STANDARD.decode(v["data"].as_str().unwrap()).unwrap(),
        b"replicated"
    );
    assert_eq!(
        storage_test(&peer_keys, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").0,
        404
    );
    assert_eq!(storage_test(&stranger, &hash).0, 403);

    // Reachability tests: every node answers the ping with its key.
    let r = c
        .post(format!("{}/ping_test/v1", target.base_url()))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["x-oxen-snode-pubkey"],
        STANDARD.encode(target.ed25519.0).as_str()
    );
}

#[test]
fn dead_nodes_are_voted_out_and_their_swarm_refills_with_the_old_data() {
    let mut net = network(7);
    let c = client();
    let swarms = settle(&c, &net, 7);

    // Messages for a dozen accounts, stored through their swarms.
    let mut stored = BTreeMap::new();
    for i in 0..12 {
        let id = account(100 + i);
        let acct = account_id(&id);
        let member = swarms[&swarm_for(&swarms, &acct)][0].clone();
        let (status, reply) = store(
            &c,
            &member,
            &id,
            format!("before the failure {i}").as_bytes(),
        );
        assert_eq!(status, 200, "{reply}");
        stored.insert(reply["hash"].as_str().unwrap().to_owned(), acct);
    }
    wait_for_placement(&net, &c, &stored, 7);

    // Kill two nodes of the largest swarm.
    let (victim_swarm, members) = swarms.iter().max_by_key(|(_, m)| m.len()).unwrap();
    assert!(members.len() >= 3, "{swarms:?}");
    let survivor = members[2].clone();
    let dead: Vec<Ed25519PublicKey> = members[..2].iter().map(|m| m.ed25519).collect();
    for k in &dead {
        let i = index_of(&net, k);
        net.kill(i);
    }
    // The survivor still serves its accounts' messages.
    let victim_account = stored
        .iter()
        .find(|(_, a)| swarm_for(&swarms, a) == *victim_swarm);
    if let Some((hash, _)) = victim_account {
        let id = (100..112)
            .map(account)
            .find(|id| account_id(id) == stored[hash])
            .unwrap();
        // Unless the dead were already voted out and the survivor moved to another swarm
        // (421: no answer); `wait_for_placement` below checks where the data went.
        if let Some(hashes) = retrieve_hashes(&c, &survivor, &id) {
            assert!(hashes.contains(hash), "{hashes:?}");
        }
    }

    // The others' failed tests vote them out; the network settles on 5 nodes and every message is
    // on every member of its (possibly new) swarm, and nowhere else.
    let started = Instant::now();
    wait_for_placement(&net, &c, &stored, 5);
    let nodes = registry_nodes(&c, &net);
    assert!(nodes.iter().all(|n| !dead.contains(&n.ed25519)));
    eprintln!("healed in {:?}", started.elapsed());
    for members in swarms_of(&nodes).values() {
        assert!(members.len() >= 2, "{nodes:?}");
    }
}

#[test]
fn new_nodes_take_over_data_without_loss_or_lingering_copies() {
    let mut net = network(3);
    let c = client();
    let swarms = settle(&c, &net, 3);
    let mut stored = BTreeMap::new();
    for i in 0..20 {
        let id = account(200 + i);
        let acct = account_id(&id);
        let member = swarms[&swarm_for(&swarms, &acct)][0].clone();
        let (status, reply) = store(&c, &member, &id, format!("migrating {i}").as_bytes());
        assert_eq!(status, 200, "{reply}");
        stored.insert(reply["hash"].as_str().unwrap().to_owned(), acct);
    }
    wait_for_placement(&net, &c, &stored, 3);
    for _ in 0..4 {
        net.add_node().unwrap();
    }
    wait_for_placement(&net, &c, &stored, 7);
    let swarms = swarms_of(&registry_nodes(&c, &net));
    assert!(swarms.len() >= 2, "{swarms:?}");
}
