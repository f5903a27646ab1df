//! End-to-end onion requests through real `sotto-node` processes on loopback: store and retrieve
//! through 3-hop paths with both ciphers, and bad input at every hop getting the spec's answer
//! (`onion.md` §5.5) without anything being forwarded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::rngs::OsRng;
use serde_json::{json, Value};
use sotto_client::transport::{HttpsTransport, RpcClient, Transport as _};
use sotto_client::{Error as ClientError, NodeInfo};
use sotto_crypto::layer::{EncType, LayerCipher};
use sotto_crypto::{Identity, Seed};
use sotto_onion::frame::{build_combined, Combined};
use sotto_testkit::{write_node_list, StaticNetwork};

/// A port nothing listens on (tcpmux, unused on test machines). A port found free by binding
/// `:0` and closing could be taken by another test before this one connects.
const DEAD_PORT: u16 = 1;

const BIN: &str = env!("CARGO_BIN_EXE_sotto-node");

struct Network {
    inner: StaticNetwork,
    list: PathBuf,
}

impl Network {
    fn start(n: usize) -> Self {
        let inner = StaticNetwork::start(Path::new(BIN), n).unwrap();
        Self {
            list: inner.list.clone(),
            inner,
        }
    }

    fn info(&self, i: usize) -> NodeInfo {
        self.inner.info(i).unwrap()
    }
}

fn write_list(path: &Path, nodes: &[NodeInfo]) {
    write_node_list(path, nodes).unwrap();
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn alice() -> Identity {
    Identity::from_seed(&Seed::from_hex("00112233445566778899aabbccddeeff").unwrap())
}

fn store_params(id: &Identity, data: &[u8]) -> Value {
    json!({"pubkey": id.session_id().to_string(), "timestamp": now(), "ttl": 86_400_000,
        "data": STANDARD.encode(data)})
}

fn retrieve_params(id: &Identity) -> Value {
    let ts = now();
    json!({"pubkey": id.session_id().to_string(), "pubkey_ed25519": id.ed25519_public().to_hex(),
        "timestamp": ts, "signature": STANDARD.encode(id.sign(format!("retrieve{ts}").as_bytes()))})
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn transport() -> HttpsTransport {
    HttpsTransport::new(&sotto_https::ClientOptions {
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(40),
    })
    .unwrap()
}

/// Retry `f` until the nodes have read the node list (bounded: 20 s).
async fn until_listed<F, Fut, T>(mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match f().await {
            Err(ClientError::PathFailed {
                status: 502,
                ref body,
                ..
            }) if body.starts_with("Next node not found") && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other.unwrap(),
        }
    }
}

#[test]
fn store_and_retrieve_through_three_hops_with_both_ciphers() {
    let net = Network::start(4);
    let rt = runtime();
    let id = alice();
    let target = net.info(3);
    let path = [net.info(0), net.info(1), net.info(2)];
    let mut stored = Vec::new();
    for (i, enc) in [EncType::XChaCha20, EncType::AesGcm]
        .into_iter()
        .enumerate()
    {
        let client = RpcClient::new(transport(), enc);
        let data = format!("message {i}");
        let answer = rt.block_on(until_listed(|| {
            client.onion(&path, &target, "store", store_params(&id, data.as_bytes()))
        }));
        assert_eq!(answer.status, 200, "{}", answer.body);
        let hash = answer.json().unwrap()["hash"].as_str().unwrap().to_owned();
        stored.push(hash);
    }

    // Retrieve through another path order; the same messages as a direct retrieve.
    let client = RpcClient::new(transport(), EncType::AesGcm);
    let reversed = [net.info(2), net.info(1), net.info(0)];
    let via_onion = rt
        .block_on(client.onion(&reversed, &target, "retrieve", retrieve_params(&id)))
        .unwrap();
    assert_eq!(via_onion.status, 200, "{}", via_onion.body);
    let direct = rt
        .block_on(client.direct(&target, "retrieve", retrieve_params(&id)))
        .unwrap();
    let hashes = |v: Value| -> Vec<String> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["hash"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(hashes(via_onion.json().unwrap()), stored);
    assert_eq!(hashes(direct.json().unwrap()), stored);

    // The RPC's own errors travel back inside the encryption: a bad signature is a 401.
    let mut bad = retrieve_params(&id);
    bad["signature"] = json!(STANDARD.encode([0u8; 64]));
    let refused = rt
        .block_on(client.onion(&path, &target, "retrieve", bad))
        .unwrap();
    assert_eq!(refused.status, 401, "{}", refused.body);

    // A path may pass through the same node twice; each visit peels its own layer.
    let looped = [net.info(0), net.info(1), net.info(0)];
    let answer = rt
        .block_on(client.onion(&looped, &target, "retrieve", retrieve_params(&id)))
        .unwrap();
    assert_eq!(hashes(answer.json().unwrap()), stored);
}

/// Encrypt `plaintext` as a client layer for `node`, framed as the guard's body.
fn raw_layer(node: &NodeInfo, plaintext: &[u8], extra: Value) -> Vec<u8> {
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut OsRng, &mut secret);
    let eph = sotto_crypto::layer::x25519_public(&secret);
    let cipher = LayerCipher::client(EncType::AesGcm, &secret, &eph, &node.x25519).unwrap();
    let mut json = json!({"ephemeral_key": eph.to_hex(), "enc_type": "aes-gcm"});
    for (k, v) in extra.as_object().unwrap() {
        json[k] = v.clone();
    }
    build_combined(&cipher.encrypt(&mut OsRng, plaintext), &json).unwrap()
}

/// A TCP listener posing as a node: it must never be contacted.
struct Tripwire {
    listener: TcpListener,
    info: NodeInfo,
}

impl Tripwire {
    fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let id = Identity::from_seed(&Seed::from_hex("ffeeddccbbaa99887766554433221100").unwrap());
        Self {
            info: NodeInfo {
                ed25519: id.ed25519_public(),
                x25519: id.x25519_public(),
                ip: addr.ip(),
                storage_port: addr.port(),
                swarm_id: None,
            },
            listener,
        }
    }

    fn untouched(&self) -> bool {
        matches!(self.listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }
}

#[test]
fn bad_input_at_every_hop_gets_the_spec_answer() {
    let net = Network::start(3);
    let wire = Tripwire::new();
    // Every node also knows the tripwire, so only our checks keep garbage from reaching it.
    let mut listed = net.inner.infos();
    listed.push(wire.info.clone());
    write_list(&net.list, &listed);
    let rt = runtime();
    let http = transport();
    let guard = net.info(0);
    let post = |body: Vec<u8>| {
        rt.block_on(http.post(&guard, "/onion_req/v2", body))
            .unwrap()
    };
    let text = |(status, body): (u16, Vec<u8>)| (status, String::from_utf8(body).unwrap());

    // Outer framing: truncated, garbage JSON, oversized hop number.
    let (status, body) = text(post(vec![1, 0]));
    assert_eq!(status, 400);
    assert!(body.starts_with("Error parsing onion request: "), "{body}");
    let (status, body) = text(post(build_combined(b"x", &json!("nope")).unwrap()));
    assert_eq!(status, 400);
    assert!(body.starts_with("Error parsing onion request: "), "{body}");
    let mut garbage = 5u32.to_le_bytes().to_vec();
    garbage.extend_from_slice(b"abcde{not json");
    assert_eq!(post(garbage).0, 400);
    let deep = raw_layer(&guard, b"irrelevant", json!({"hop_no": 16}));
    assert_eq!(
        text(post(deep)),
        (400, "onion request max path length exceeded".into())
    );

    // Encrypted to the wrong key.
    let wrong = raw_layer(&net.info(1), b"irrelevant", json!({}));
    assert_eq!(text(post(wrong)), (400, "Invalid ciphertext".into()));

    // Decrypts, but the inside is garbage — including a relay to the tripwire with a broken key:
    // an encrypted 400 "Invalid json", and nothing forwarded.
    for inner in [
        b"\x03\x00\x00\x00abc{\"destination\":".to_vec(),
        build_combined(
            b"payload",
            &json!({"destination": wire.info.ed25519.to_hex(), "ephemeral_key": "zz"}),
        )
        .unwrap(),
    ] {
        let (status, body) = post(raw_layer(&guard, &inner, json!({})));
        assert_eq!(status, 200);
        // Base64 of an encrypted reply, not a plain error.
        assert!(STANDARD.decode(&body).is_ok());
    }
    assert!(wire.untouched(), "garbage was forwarded");

    let id = alice();
    let client = RpcClient::new(http.clone(), EncType::XChaCha20);
    let target = net.info(2);

    // An unknown next hop, deep in the path: the middle hop's 502 comes back verbatim.
    let stranger =
        Identity::from_seed(&Seed::from_hex("0f0e0d0c0b0a09080706050403020100").unwrap());
    let unknown = NodeInfo {
        ed25519: stranger.ed25519_public(),
        x25519: stranger.x25519_public(),
        ..net.info(1)
    };
    let path = [guard.clone(), net.info(1), unknown.clone()];
    let err = rt
        .block_on(until_listed_then(|| {
            client.onion(&path, &target, "retrieve", retrieve_params(&id))
        }))
        .unwrap_err();
    match err {
        ClientError::PathFailed {
            status,
            body,
            failed_node,
        } => {
            assert_eq!(status, 502);
            assert_eq!(body, format!("Next node not found: {}", unknown.ed25519));
            assert_eq!(failed_node, Some(unknown.ed25519));
        }
        other => panic!("{other}"),
    }

    // A listed node that is down: 502 "currently unreachable", naming it.
    let dead_port = DEAD_PORT;
    let dead = Identity::from_seed(&Seed::from_hex("1111111111111111aaaaaaaaaaaaaaaa").unwrap());
    let dead = NodeInfo {
        ed25519: dead.ed25519_public(),
        x25519: dead.x25519_public(),
        ip: "127.0.0.1".parse().unwrap(),
        storage_port: dead_port,
        swarm_id: None,
    };
    listed.push(dead.clone());
    write_list(&net.list, &listed);
    let path = [guard.clone(), dead.clone()];
    let err = rt
        .block_on(until_listed_then(|| {
            client.onion(&path, &target, "retrieve", retrieve_params(&id))
        }))
        .unwrap_err();
    match err {
        ClientError::PathFailed {
            status,
            body,
            failed_node,
        } => {
            assert_eq!(status, 502, "{body}");
            assert_eq!(
                body,
                format!("Next node is currently unreachable: {}", dead.ed25519)
            );
            assert_eq!(failed_node, Some(dead.ed25519));
        }
        other => panic!("{other}"),
    }

    // A wrong key at the second hop: its 400 comes back through the guard.
    let mut impostor = net.info(1);
    impostor.x25519 = net.info(2).x25519;
    let err = rt
        .block_on(client.onion(
            &[guard.clone(), impostor],
            &target,
            "retrieve",
            retrieve_params(&id),
        ))
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::PathFailed { status: 400, body, .. } if body == "Invalid ciphertext"),
        "{err}"
    );

    // A client-chosen starting hop number that runs past the limit at the third hop.
    let built = sotto_onion::client::build(
        &mut OsRng,
        EncType::AesGcm,
        &[hop(&guard), hop(&net.info(1)), hop(&net.info(2))],
        &sotto_onion::client::Destination::Node {
            node: hop(&target),
            method: "info".into(),
            params: json!({}),
        },
    )
    .unwrap();
    let outer = Combined::parse("t", &built.body).unwrap();
    let mut json = Value::Object(outer.json.clone());
    json["hop_no"] = json!(14);
    let (status, body) = text(post(build_combined(outer.blob, &json).unwrap()));
    assert_eq!(
        (status, body.as_str()),
        (400, "onion request max path length exceeded")
    );
    assert!(wire.untouched(), "garbage was forwarded");
}

fn hop(n: &NodeInfo) -> sotto_onion::client::Hop {
    sotto_onion::client::Hop {
        ed25519: n.ed25519,
        x25519: n.x25519,
    }
}

/// Retry while the nodes have not yet read the newest list (bounded: 20 s): a node that does not
/// know the *first* listed relay yet answers "Next node not found" for it.
async fn until_listed_then<F, Fut>(
    mut f: F,
) -> Result<sotto_client::transport::RpcAnswer, ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<sotto_client::transport::RpcAnswer, ClientError>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let result = f().await;
        let retry = match &result {
            Err(ClientError::PathFailed {
                status: 502, body, ..
            }) => {
                body.starts_with("Next node not found")
                    && Instant::now() < deadline
                    && !body.ends_with(&stranger_hex())
            }
            _ => false,
        };
        if !retry {
            return result;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn stranger_hex() -> String {
    Identity::from_seed(&Seed::from_hex("0f0e0d0c0b0a09080706050403020100").unwrap())
        .ed25519_public()
        .to_hex()
}

/// A tiny external server speaking onion v4 on plain HTTP (as a community or file server does):
/// it answers the decrypted request's endpoint and method back.
fn start_v4_server(
    keys: sotto_onion::node::NodeKeys,
) -> (std::net::SocketAddr, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let keys = std::sync::Arc::new(keys);
    let app = axum::Router::new().route(
        "/oxen/v4/lsrpc",
        axum::routing::post(move |body: axum::body::Bytes| {
            let keys = std::sync::Arc::clone(&keys);
            async move {
                let accepted = sotto_onion::server::accept(&keys, &body).unwrap();
                let request = accepted.v4_request().unwrap();
                let response = sotto_onion::lsrpc::V4Response {
                    code: 200,
                    headers: [("content-type".to_owned(), "text/plain".to_owned())].into(),
                    body: format!("{} {}", request.method, request.endpoint).into_bytes(),
                };
                accepted.replier.reply_v4(&mut OsRng, &response)
            }
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, rt)
}

#[test]
fn proxies_to_external_servers_through_three_hops() {
    use sotto_onion::client::{build, Destination, Protocol, Response, Server, ServerRequest};
    use sotto_onion::lsrpc::V4Request;

    let net = Network::start(3);
    let server_keys = sotto_onion::node::NodeKeys::new([7u8; 32]);
    let server_x25519 = *server_keys.public();
    let (addr, _server) = start_v4_server(server_keys);
    let rt = runtime();
    let http = transport();
    let path = [hop(&net.info(0)), hop(&net.info(1)), hop(&net.info(2))];
    let request = |target_port: u16| {
        build(
            &mut OsRng,
            EncType::XChaCha20,
            &path,
            &Destination::Server {
                server: Server {
                    host: "127.0.0.1".into(),
                    protocol: Protocol::Http,
                    port: Some(target_port),
                    x25519: server_x25519,
                },
                request: ServerRequest::V4(V4Request {
                    method: "GET".into(),
                    endpoint: "/room/lobby".into(),
                    headers: Default::default(),
                    body: None,
                }),
            },
        )
        .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let (status, body, built) = loop {
        let built = request(addr.port());
        let (status, body) = rt
            .block_on(http.post(&net.info(0), "/onion_req/v2", built.body.clone()))
            .unwrap();
        let stale =
            status == 502 && String::from_utf8_lossy(&body).starts_with("Next node not found");
        if !stale || Instant::now() > deadline {
            break (status, body, built);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    match built.reply.decrypt_response(status, &body).unwrap() {
        Response::V4(r) => {
            assert_eq!(r.code, 200);
            assert_eq!(r.body, b"GET /room/lobby");
        }
        other => panic!("{other:?}"),
    }

    // A server that is down: the last hop's transport error comes back (502), naming nothing.
    let dead_port = DEAD_PORT;
    let built = request(dead_port);
    let (status, _) = rt
        .block_on(http.post(&net.info(0), "/onion_req/v2", built.body))
        .unwrap();
    assert_eq!(status, 502);
}
