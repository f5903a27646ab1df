#![doc = include_str!("../README.md")]

use std::fs;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Certificate file in a server's data directory.
pub const CERT_FILE: &str = "tls_cert.pem";
/// Its private key.
pub const CERT_KEY_FILE: &str = "tls_key.pem";
/// How long shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long a TLS handshake may take before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What can go wrong setting up TLS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The certificate could not be made, read or used.
    #[error("TLS certificate: {0}")]
    Certificate(String),
    /// The HTTPS client could not be built.
    #[error("HTTPS client: {0}")]
    Client(String),
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A rustls server configuration from `dir`'s certificate, made if absent.
pub fn server_config(dir: &Path) -> Result<Arc<rustls::ServerConfig>, Error> {
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(CERT_KEY_FILE);
    if !cert_path.exists() || !key_path.exists() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .map_err(|e| Error::Certificate(e.to_string()))?;
        // A half-written pair from an interrupted start is replaced.
        let _ = fs::remove_file(&key_path);
        write_private(&key_path, cert.key_pair.serialize_pem().as_bytes())?;
        fs::write(&cert_path, cert.cert.pem())?;
    }
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Error::Certificate(format!("{}: {e}", cert_path.display())))?;
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| Error::Certificate(format!("{}: {e}", key_path.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Certificate(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Certificate(e.to_string()))?;
    Ok(Arc::new(config))
}

/// Write a new file readable only by its owner (mode 0600), synced to disk; fails if it exists.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C: how every Sotto server learns to stop.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Serve `router` over TLS on `listener` until `shutdown` turns true, then let requests in
/// flight finish (up to [`SHUTDOWN_GRACE`]). Handlers can read the peer's address with
/// `Extension<SocketAddr>`.
pub async fn serve_tls(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        let (tcp, peer): (_, SocketAddr) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone().layer(Extension(peer)));
        let mut stop = shutdown.clone();
        connections.spawn(async move {
            let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
            else {
                return;
            };
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// Settings of the client that reaches nodes.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Time to connect (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time for a whole request.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
        }
    }
}

/// The async client used to reach nodes: pooled keep-alive connections, certificates not
/// verified (nodes are known by their keys, not their certificates).
pub fn client(options: &ClientOptions) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .danger_accept_invalid_certs(true)
        .connect_timeout(options.connect_timeout)
        .timeout(options.timeout)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| Error::Client(e.to_string()))
}

/// The blocking twin of [`client`], for command-line tools.
pub fn blocking_client(options: &ClientOptions) -> Result<reqwest::blocking::Client, Error> {
    reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .danger_accept_invalid_certs(true)
        .connect_timeout(options.connect_timeout)
        .timeout(options.timeout)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| Error::Client(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn certificate_is_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        server_config(dir.path()).unwrap();
        let first = fs::read(dir.path().join(CERT_FILE)).unwrap();
        server_config(dir.path()).unwrap();
        assert_eq!(first, fs::read(dir.path().join(CERT_FILE)).unwrap());
    }

    #[test]
    fn garbage_certificate_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(CERT_FILE), "not a certificate").unwrap();
        fs::write(dir.path().join(CERT_KEY_FILE), "not a key").unwrap();
        let err = server_config(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Certificate(_)), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_https_and_stops_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let tls = server_config(dir.path()).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route(
            "/who",
            axum::routing::get(|Extension(peer): Extension<SocketAddr>| async move {
                peer.ip().to_string()
            }),
        );
        let (stop_tx, stop_rx) = watch::channel(false);
        let server = tokio::spawn(serve_tls(listener, tls, router, stop_rx));
        let client = client(&ClientOptions::default()).unwrap();
        let body = client
            .get(format!("https://{addr}/who"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "127.0.0.1");
        stop_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("server stops")
            .unwrap();
    }
}
