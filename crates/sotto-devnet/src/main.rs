//! `sotto-devnet`: a whole Sotto network on loopback.

use clap::{Parser, Subcommand};

mod demo;
mod query;
mod status;
mod supervise;
mod up;

/// Sotto devnet: a registry and N service nodes on loopback, each its own process, for demos
/// and end-to-end tests.
#[derive(Debug, Parser)]
#[command(name = "sotto-devnet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the network in the foreground; print `ready` once every node serves its swarm.
    Up(up::UpArgs),
    /// Print the swarms and each node's health.
    Status(status::StatusArgs),
    /// Start a network, have Alice and Bob talk through onion paths, print it, stop.
    Demo(demo::DemoArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| {
            rt.block_on(async {
                match cli.command {
                    Command::Up(args) => up::up(args).await,
                    Command::Status(args) => status::status(args).await,
                    Command::Demo(args) => demo::demo(args).await,
                }
            })
        });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sotto-devnet: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
