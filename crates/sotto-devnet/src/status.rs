//! `sotto-devnet status`: the registry's swarms and every node's health.

use std::path::PathBuf;

use clap::Args;
use sotto_devnet::files::read_network;
use sotto_devnet::report::{nodes_to_query, Status};

use crate::query;

/// Flags of `status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The devnet's directory (holding network.json).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let network = read_network(&args.dir)?;
    let client = query::client()?;
    let registry = query::service_nodes(&client, &network.seed_url)
        .await
        .map_err(|e| format!("{e:#}"));
    let nodes = nodes_to_query(&network, registry.as_ref().ok());
    let urls: Vec<String> = nodes.iter().map(|n| n.base_url()).collect();
    let stats: Vec<_> = nodes
        .into_iter()
        .zip(query::all_stats(&client, &urls).await)
        .collect();
    let status = Status::new(&network, registry.as_ref().map_err(Clone::clone), &stats);
    if args.json {
        println!("{}", serde_json::to_string(&status)?);
    } else {
        print!("{}", status.render());
    }
    Ok(())
}
