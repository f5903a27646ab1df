//! `sogs serve`: open the database and key, bind, serve the [`crate::api`] router until SIGTERM
//! or Ctrl-C, then finish in-flight requests.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::api::{self, AppState};
use crate::config::Config;
use crate::err::{Error, Result};
use crate::keys::ServerKeys;
use crate::store::{CleanupReport, InitMode, Retention, Store};

/// How often the cleanup runs (PySOGS `cleanup.INTERVAL`).
pub const CLEANUP_INTERVAL: Duration = Duration::from_secs(10);

/// Open what a server needs: the key file (created if missing, as PySOGS does), the database
/// (created or upgraded to our schema), the system user and pending blinding hand-overs.
pub fn open_state(config: Config) -> Result<AppState> {
    let (keys, created) = ServerKeys::load_or_create(&config.key_file)?;
    if created {
        tracing::warn!("created new server key file {}", config.key_file.display());
    }
    let mut store = Store::open_url(&config)?;
    store.initialize(InitMode {
        create: None,
        upgrade: true,
    })?;
    store.ensure_server_indexes()?;
    store.ensure_system_user(&keys.x25519_public())?;
    if config.require_blind_keys {
        store.record_needs_blinding(&keys.x25519_public())?;
    }
    Ok(AppState::new(config, keys, store))
}

/// One cleanup pass (`sogs.md` §3 "Retention"): the database part, then the expired files'
/// bytes on disk.
pub fn cleanup_once(state: &AppState) -> Result<CleanupReport> {
    let config = state.config();
    let retention = Retention {
        history: config.history_prune_threshold,
        activity_prune: config.active_prune_threshold,
        active_window: config.active_threshold,
    };
    let report = state.store().cleanup(crate::util::now(), retention)?;
    for path in &report.paths {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::error!("unable to remove expired upload {path:?}: {e}"),
        }
    }
    if report != CleanupReport::default() {
        tracing::debug!(
            files = report.files,
            history = report.history,
            activity = report.room_activity,
            permissions = report.permission_updates,
            nonces = report.nonces,
            dms = report.dms,
            "cleanup"
        );
    }
    Ok(report)
}

/// Serve on an already bound listener until `shutdown` completes, running the cleanup every
/// [`CLEANUP_INTERVAL`] unless in conformance test mode.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let cleaner = (!state.config().testing).then(|| {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CLEANUP_INTERVAL);
            loop {
                tick.tick().await;
                let state = state.clone();
                match tokio::task::spawn_blocking(move || cleanup_once(&state)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!("periodic database cleanup failed: {e}"),
                    Err(e) => tracing::warn!("periodic database cleanup panicked: {e}"),
                }
            }
        })
    });
    let result = axum::serve(listener, api::router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(task) = cleaner {
        task.abort();
    }
    result
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    sotto_https::shutdown_signal().await;
    tracing::info!("shutting down");
}

/// The whole `sogs serve`: bind `listen`, print `listening on http://ADDR` on stdout, serve
/// until a signal.
pub fn run(config: Config, listen: SocketAddr) -> Result<()> {
    if config.testing && !listen.ip().is_loopback() {
        return Err(Error::TestingNotLoopback(listen));
    }
    let state = open_state(config)?;
    let io = |source| Error::Listen {
        addr: listen,
        source,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(io)?;
    runtime.block_on(async {
        let listener = TcpListener::bind(listen).await.map_err(io)?;
        let local = listener.local_addr().map_err(io)?;
        let mut stdout = std::io::stdout();
        // Tests and scripts read this line to find the port.
        writeln!(stdout, "listening on http://{local}")
            .and_then(|()| stdout.flush())
            .map_err(io)?;
        tracing::info!("listening on http://{local}");
        serve(listener, state, shutdown_signal()).await.map_err(io)
    })
}
