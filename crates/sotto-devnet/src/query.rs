//! The two questions the devnet asks: the registry's node list, and a node's stats.

use anyhow::Context as _;
use serde_json::{json, Value};

/// `get_n_service_nodes` (all nodes, all fields): its `result` object.
pub(crate) async fn service_nodes(client: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "get_n_service_nodes", "params": {}});
    let answer: Value = client
        .post(url)
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
        .context("registry answer is not JSON")?;
    if let Some(err) = answer.get("error") {
        anyhow::bail!("registry refused get_n_service_nodes: {err}");
    }
    answer
        .get("result")
        .cloned()
        .context("registry answer has no result")
}

/// `GET BASE/get_stats/v1` as JSON.
pub(crate) async fn stats(client: &reqwest::Client, base_url: &str) -> anyhow::Result<Value> {
    Ok(client
        .get(format!("{base_url}/get_stats/v1"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// Each node's stats, asked all at once, in the order given.
pub(crate) async fn all_stats(
    client: &reqwest::Client,
    base_urls: &[String],
) -> Vec<Result<Value, String>> {
    let mut set = tokio::task::JoinSet::new();
    for (i, url) in base_urls.iter().enumerate() {
        let client = client.clone();
        let url = url.clone();
        set.spawn(async move { (i, stats(&client, &url).await.map_err(|e| format!("{e:#}"))) });
    }
    let mut out: Vec<Result<Value, String>> = vec![Err("not asked".to_owned()); base_urls.len()];
    while let Some(done) = set.join_next().await {
        if let Ok((i, answer)) = done {
            if let Some(slot) = out.get_mut(i) {
                *slot = answer;
            }
        }
    }
    out
}

/// A client for loopback servers with self-signed certificates and short timeouts.
pub(crate) fn client() -> anyhow::Result<reqwest::Client> {
    let timeout = sotto_devnet::config::QUERY_TIMEOUT;
    Ok(sotto_https::client(&sotto_https::ClientOptions {
        connect_timeout: timeout,
        timeout,
    })?)
}
