//! The `sotto` command: Session identities, recovery phrases and 1:1 messages.
//!
//! Every subcommand prints friendly text, or with `--json` exactly one JSON object on stdout.
//! Any error ends the program with status 1 and one line on stderr.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod id;
mod msg;
mod output;
mod rpc;

/// Sotto: a Session-compatible private messenger.
#[derive(Debug, Parser)]
#[command(name = "sotto", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create, restore and inspect account identities.
    #[command(subcommand)]
    Id(id::IdCommand),
    /// Encrypt and decrypt 1:1 messages offline (the storage `data` format).
    #[command(subcommand)]
    Msg(msg::MsgCommand),
    /// Send one storage RPC to a node through a random onion path; print its JSON answer.
    Rpc(rpc::RpcArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Id(cmd) => id::run(cmd).map(|()| ExitCode::SUCCESS),
        Command::Msg(cmd) => msg::run(cmd).map(|()| ExitCode::SUCCESS),
        Command::Rpc(args) => rpc::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // One line: the error and its causes, joined.
            eprintln!("sotto: {err:#}");
            ExitCode::FAILURE
        }
    }
}
