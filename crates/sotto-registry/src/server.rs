//! The HTTPS shell: `POST /json_rpc` over the shared ledger, and the ticker that applies
//! time-driven changes (exits after unlock, reward periods).

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use crate::constants::TICK;
use crate::ledger::{Ledger, RewardRules, VoteRules};
use crate::unix_now;

/// A ledger shared by the request handlers and the ticker.
pub type SharedLedger = Arc<Mutex<Box<dyn Ledger + Send>>>;

/// What the handlers need.
#[derive(Clone)]
pub struct AppState {
    /// The ledger.
    pub ledger: SharedLedger,
    /// When failure reports deregister a node.
    pub votes: VoteRules,
}

/// Lock the ledger; a panic elsewhere while it was held does not make it unusable (each write is
/// one SQLite transaction, so nothing is half-applied).
pub fn lock(ledger: &SharedLedger) -> MutexGuard<'_, Box<dyn Ledger + Send>> {
    match ledger.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The routes: `POST /json_rpc`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/json_rpc", post(json_rpc))
        .with_state(state)
}

async fn json_rpc(State(state): State<AppState>, body: Bytes) -> Response {
    let answer = tokio::task::spawn_blocking(move || {
        let mut ledger = lock(&state.ledger);
        crate::rpc::handle(
            &body,
            ledger.as_mut(),
            &state.votes,
            unix_now(),
            &mut rand::thread_rng(),
        )
    })
    .await;
    let value = match answer {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "request handler failed");
            serde_json::json!({"jsonrpc": "2.0", "id": null,
                "error": {"code": crate::rpc::INTERNAL_ERROR, "message": "internal error"}})
        }
    };
    ([(CONTENT_TYPE, "application/json")], value.to_string()).into_response()
}

/// Apply time-driven changes every [`TICK`] until the task is aborted.
pub async fn run_ticker(ledger: SharedLedger, rewards: RewardRules) {
    let mut every = tokio::time::interval(TICK);
    loop {
        every.tick().await;
        let ledger = Arc::clone(&ledger);
        let done =
            tokio::task::spawn_blocking(move || lock(&ledger).tick(&rewards, unix_now())).await;
        match done {
            Ok(Ok(out)) => {
                for node in &out.exited {
                    tracing::info!(node = %node, "node left after its unlock time");
                }
                if out.rewarded {
                    tracing::info!("reward period paid");
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "tick failed"),
            Err(e) => tracing::error!(error = %e, "tick panicked"),
        }
    }
}
