//! Shared harness of the API tests: a server state in a scratch directory, its router driven
//! in-process with `tower::ServiceExt::oneshot`, and users signing requests with blinded keys.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    dead_code,
    unreachable_pub
)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderMap, Request};
use axum::Router;
use rand_core::{OsRng, RngCore};
use serde_json::Value;
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::sogs_auth::{sign_request, AuthHeaders, Signer};
use sotto_crypto::{BlindingKind, Identity, X25519PublicKey};
use sotto_sogs::api::{self, AppState};
use sotto_sogs::config::Config;
use sotto_sogs::ids::RoomToken;
use sotto_sogs::keys::ServerKeys;
use sotto_sogs::store::{InitMode, Room, Store, User};
use tempfile::TempDir;
use tower::ServiceExt as _;

pub struct Server {
    pub state: AppState,
    pub router: Router,
    pub dir: TempDir,
}

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

/// A client account: its identity and its blinded key for the server.
pub struct TestUser {
    pub identity: Identity,
    pub blinded: BlindedKeyPair,
    /// Sign with the unblinded key (`00` prefix) instead.
    pub unblinded: bool,
}

impl TestUser {
    /// The ID the server knows this user by.
    pub fn id(&self) -> String {
        if self.unblinded {
            self.identity.session_id().to_string()
        } else {
            self.blinded.blinded_id().to_string()
        }
    }

    /// The unblinded `05` Session ID.
    pub fn session_id(&self) -> String {
        self.identity.session_id().to_string()
    }

    pub fn signer(&self) -> Signer<'_> {
        if self.unblinded {
            Signer::Unblinded(&self.identity)
        } else {
            Signer::Blinded(&self.blinded)
        }
    }
}

pub fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// The `sogs` binary, run in `dir` without the caller's `SOGS_CONFIG` and `RUST_LOG`.
pub fn sogs_command(dir: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sogs"));
    cmd.current_dir(dir)
        .env_remove("SOGS_CONFIG")
        .env_remove("RUST_LOG");
    cmd
}

/// Run the `sogs` CLI in `dir`: (exit code, stdout, stderr).
pub fn run_sogs(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = sogs_command(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

pub fn nonce() -> [u8; 16] {
    let mut n = [0u8; 16];
    OsRng.fill_bytes(&mut n);
    n
}

/// The auth headers for `uri` (path?query, possibly percent-encoded) signed as PySOGS checks
/// them: over the decoded path and raw query.
pub fn sign(
    user: &TestUser,
    server: &X25519PublicKey,
    method: &str,
    uri: &str,
    body: &[u8],
    nonce: &[u8; 16],
    ts: i64,
) -> AuthHeaders {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let path = String::from_utf8(sotto_sogs::util::percent_decode(path)).unwrap();
    sign_request(user.signer(), server, method, &path, query, body, nonce, ts)
}

/// Set to `postgresql` to run the harness's servers on PostgreSQL (`scripts/test` does so for
/// the API tests when `SOGS_TEST_PG_URL` names a database).
pub const BACKEND_VAR: &str = "SOGS_TEST_DB";
/// The PostgreSQL database the tests may use: `postgresql://user@host:port/dbname`.
pub const PG_URL_VAR: &str = "SOGS_TEST_PG_URL";

/// The PostgreSQL URL when the harness must use PostgreSQL.
pub fn pg_backend() -> Option<String> {
    if std::env::var(BACKEND_VAR).ok()?.as_str() != "postgresql" {
        return None;
    }
    Some(
        std::env::var(PG_URL_VAR)
            .unwrap_or_else(|_| panic!("{BACKEND_VAR}=postgresql needs {PG_URL_VAR}")),
    )
}

/// A URL for a new, empty schema of the database `base` names, so that tests running at once
/// do not meet. The `citext` extension is created in `public` (kept on the search path).
pub fn fresh_pg_schema(base: &str) -> String {
    let schema = format!("t{}", hex::encode(nonce()));
    let owned = (base.to_owned(), schema.clone());
    // The synchronous client may not run inside a test's async runtime: use a thread.
    std::thread::spawn(move || {
        let (base, schema) = owned;
        let mut client = postgres::Client::connect(&base, postgres::NoTls).unwrap();
        // Tests run in parallel processes: a concurrent CREATE EXTENSION may fail once.
        const ATTEMPTS: usize = 5;
        for attempt in 1..=ATTEMPTS {
            match client.batch_execute("CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public") {
                Ok(()) => break,
                Err(e) if attempt == ATTEMPTS => panic!("CREATE EXTENSION citext: {e}"),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
            }
        }
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .unwrap();
    })
    .join()
    .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}%2Cpublic")
}

impl Server {
    /// A fresh server requiring blinded IDs, rate limit on.
    pub fn new() -> Self {
        Self::with(|_| {})
    }

    /// A fresh server with config changes.
    pub fn with(f: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            db_url: format!("sqlite:///{}", dir.path().join("sogs.db").display()),
            key_file: dir.path().join("key_x25519"),
            uploads_dir: dir.path().join("uploads"),
            ..Config::default()
        };
        if let Some(base) = pg_backend() {
            config.db_url = fresh_pg_schema(&base);
        }
        f(&mut config);
        let keys = ServerKeys::generate();
        let mut store = Store::open_url(&config).unwrap();
        store
            .initialize(InitMode {
                create: Some(true),
                upgrade: true,
            })
            .unwrap();
        // As `sogs serve` opens it (`server::open_state`).
        store.ensure_server_indexes().unwrap();
        store.ensure_system_user(&keys.x25519_public()).unwrap();
        let state = AppState::new(config, keys, store);
        let router = api::router(state.clone());
        Self { state, router, dir }
    }

    pub fn pubkey(&self) -> X25519PublicKey {
        self.state.keys().x25519_public()
    }

    pub fn add_room(&self, token: &str) -> Room {
        let token: RoomToken = token.parse().unwrap();
        self.state
            .store()
            .add_room(&token, &format!("Room {token}"), Some("A room"))
            .unwrap()
    }

    pub fn room(&self, token: &str) -> Room {
        self.state
            .store()
            .room(&token.parse().unwrap())
            .unwrap()
            .unwrap()
    }

    /// A new random blinded user (no database row yet).
    pub fn new_user(&self) -> TestUser {
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        let identity = Identity::from_ed25519_seed(&seed);
        let blinded =
            BlindedKeyPair::new(&identity, &self.pubkey(), BlindingKind::Blind15).unwrap();
        TestUser {
            identity,
            blinded,
            unblinded: !self.state.config().require_blind_keys,
        }
    }

    /// The user's database row, created if needed.
    pub fn db_user(&self, user: &TestUser) -> User {
        self.state
            .store()
            .user_for_request(&user.id(), self.state.config().require_blind_keys)
            .unwrap()
            .0
    }

    /// Make a user a moderator (or admin) of a room, or globally with `room` `None`.
    pub fn make_mod(&self, user: &TestUser, room: Option<&str>, admin: bool) {
        let u = self.db_user(user);
        let mut store = self.state.store();
        match room {
            Some(token) => {
                let room = store.room(&token.parse().unwrap()).unwrap().unwrap();
                store
                    .set_room_moderator(room.id, u.id, Some(admin), true)
                    .unwrap();
            }
            None => store.set_global_moderator(u.id, admin, true).unwrap(),
        }
    }

    /// Send a request, signed by `user` if given.
    pub async fn req(
        &self,
        method: &str,
        uri: &str,
        body: Option<Vec<u8>>,
        user: Option<&TestUser>,
    ) -> Resp {
        let headers = user.map(|u| {
            sign(
                u,
                &self.pubkey(),
                method,
                uri,
                body.as_deref().unwrap_or_default(),
                &nonce(),
                now(),
            )
        });
        self.raw(method, uri, body, headers.as_ref(), &[]).await
    }

    /// A JSON request.
    pub async fn json(
        &self,
        method: &str,
        uri: &str,
        body: &Value,
        user: Option<&TestUser>,
    ) -> Resp {
        self.req(method, uri, Some(serde_json::to_vec(body).unwrap()), user)
            .await
    }

    /// Send a request with explicit auth headers and extra headers.
    pub async fn raw(
        &self,
        method: &str,
        uri: &str,
        body: Option<Vec<u8>>,
        auth: Option<&AuthHeaders>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(h) = auth {
            for (k, v) in h.pairs() {
                b = b.header(k, v);
            }
        }
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        let req = b.body(Body::from(body.unwrap_or_default())).unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    /// Post a message with padded `data`, returning its JSON.
    pub async fn post(&self, token: &str, user: &TestUser, data: &[u8]) -> Value {
        let resp = self
            .json(
                "POST",
                &format!("/room/{token}/message"),
                &serde_json::json!({"data": b64(data), "signature": b64(&[7u8; 64])}),
                Some(user),
            )
            .await;
        assert_eq!(resp.status, 201, "{}", resp.text());
        resp.json()
    }
}

/// A one-hop onion request for `request` to this server, peeled by the hop: the hop's target
/// on the server (`/oxen/v4/lsrpc` or `/oxen/v3/lsrpc`), the payload it forwards, and the key
/// that decrypts the answer.
pub fn onion_request(
    s: &Server,
    request: sotto_onion::client::ServerRequest,
    enc: sotto_onion::EncType,
) -> (String, Vec<u8>, sotto_onion::client::ReplyKey) {
    use sotto_onion::client::{build, Destination, Hop, Protocol};
    use sotto_onion::node::{peel, Layer, NodeKeys, Peeled};
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let hop_keys = NodeKeys::new(secret);
    let hop = Hop {
        ed25519: sotto_crypto::Ed25519PublicKey([1u8; 32]),
        x25519: *hop_keys.public(),
    };
    let destination = Destination::Server {
        server: sotto_onion::client::Server {
            host: "sogs.example".into(),
            protocol: Protocol::Http,
            port: None,
            x25519: s.pubkey(),
        },
        request,
    };
    let built = build(&mut OsRng, enc, &[hop], &destination).unwrap();
    let layer = Layer::from_entry_body(&built.body).unwrap();
    let Peeled::Proxy { request: proxy, .. } = peel(&hop_keys, &layer).unwrap() else {
        panic!("expected a proxy request");
    };
    (proxy.target, proxy.payload, built.reply)
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}
