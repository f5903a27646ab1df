//! `sotto-fileserver`: the attachment server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sotto_fileserver::config::{Config, ServeArgs};
use sotto_fileserver::keys::ServerKeys;

/// The Sotto attachment server (session-file-server compatible).
#[derive(Debug, Parser)]
#[command(name = "sotto-fileserver", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the server's public keys as JSON, creating the key if absent.
    Keys {
        /// The data directory.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Keys { data_dir }) => {
            let (keys, _) = ServerKeys::load_or_create(&data_dir)?;
            println!("{}", keys.to_json());
            Ok(())
        }
        None => sotto_fileserver::server::run(Config::resolve(&cli.serve)?),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sotto-fileserver: {e:#}");
            ExitCode::FAILURE
        }
    }
}
