//! Running the server: open the key and store, bind, serve plain HTTP (and metrics), clean up
//! expired files every `cleanup_interval`, stop on SIGTERM or Ctrl-C.

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;

use axum::routing::get;
use tokio::net::TcpListener;

use crate::api::{self, AppState};
use crate::config::Config;
use crate::keys::ServerKeys;
use crate::metrics::Metrics;
use crate::store::Store;

/// Open the key (created if absent) and the store.
pub fn open_state(config: Config) -> anyhow::Result<AppState> {
    let (keys, created) = ServerKeys::load_or_create(&config.data_dir)?;
    if created {
        tracing::warn!("created a new server key in {}", config.data_dir.display());
    }
    let store = Store::open(&config.data_dir)?;
    Ok(AppState::new(config, keys, store, Metrics::new()?))
}

/// One cleanup pass: delete expired files and rows, refresh the gauges.
pub fn cleanup_once(state: &AppState) -> crate::Result<usize> {
    let now = crate::now();
    let mut store = state.store();
    let removed = store.cleanup(now)?;
    let (files, bytes) = store.stats(now)?;
    drop(store);
    let m = state.metrics();
    m.expired.inc_by(removed as u64);
    m.files.set(i64::try_from(files).unwrap_or(i64::MAX));
    m.stored_bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    if removed > 0 {
        tracing::info!("deleted {removed} expired files");
    }
    Ok(removed)
}

/// Serve on `listener` until `shutdown`, running the cleanup periodically.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let cleaner = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(state.config().cleanup_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let state = state.clone();
                match tokio::task::spawn_blocking(move || cleanup_once(&state)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!("cleanup failed: {e}"),
                    Err(e) => tracing::warn!("cleanup task failed: {e}"),
                }
            }
        })
    };
    let result = axum::serve(listener, api::router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    cleaner.abort();
    result
}

/// Serve `/metrics` on `listener` forever.
async fn serve_metrics(listener: TcpListener, metrics: Metrics) -> std::io::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move { metrics.render() }
        }),
    );
    axum::serve(listener, app).await
}

/// The whole server: bind, print `listening on http://ADDR` on stdout, serve until a signal.
pub fn run(config: Config) -> anyhow::Result<()> {
    let listen: SocketAddr = config.listen;
    let metrics_listen = config.metrics_listen;
    let state = open_state(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(listen).await?;
        let local = listener.local_addr()?;
        let metrics_task = match metrics_listen {
            Some(addr) => {
                let l = TcpListener::bind(addr).await?;
                let local = l.local_addr()?;
                tracing::info!("metrics on http://{local}/metrics");
                let mut stdout = std::io::stdout();
                writeln!(stdout, "metrics on http://{local}/metrics")?;
                let metrics = state.metrics().clone();
                Some(tokio::spawn(async move {
                    if let Err(e) = serve_metrics(l, metrics).await {
                        tracing::error!("metrics server failed: {e}");
                    }
                }))
            }
            None => None,
        };
        let mut stdout = std::io::stdout();
        // Tests and scripts read this line to find the port.
        writeln!(stdout, "listening on http://{local}")?;
        stdout.flush()?;
        tracing::info!(
            "listening on http://{local}, X25519 {}",
            state.keys().x25519().to_hex()
        );
        let result = serve(listener, state, async {
            sotto_https::shutdown_signal().await;
            tracing::info!("shutting down");
        })
        .await;
        if let Some(t) = metrics_task {
            t.abort();
        }
        result?;
        Ok(())
    })
}
