//! The `sotto` command: Session identities, recovery phrases and 1:1 messages.
//!
//! Every subcommand prints friendly text, or with `--json` exactly one JSON object on stdout.
//! Any error ends the program with status 1 and one line on stderr.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod attachment;
mod chat;
mod community;
mod id;
mod msg;
mod output;
mod progress;
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
    /// Encrypt and decrypt attachment files as Session clients do.
    #[command(subcommand)]
    Attachment(attachment::AttachmentCommand),
    /// Send one storage RPC to a node through a random onion path; print its JSON answer.
    Rpc(rpc::RpcArgs),
    /// Create the profile's account (or restore it from its recovery phrase).
    Init(chat::InitArgs),
    /// Send a message through an onion path; exits 0 once the recipient's swarm stored it.
    Send(chat::SendArgs),
    /// Poll once and list the messages received so far, oldest first.
    Inbox(chat::InboxArgs),
    /// Poll for new messages (once, or with --watch until Ctrl-C).
    Poll(chat::PollArgs),
    /// List contacts.
    Contacts(chat::ContactsArgs),
    /// List the attachments of your conversations.
    Attachments(chat::AttachmentsArgs),
    /// Download, decrypt and save an attachment.
    Fetch(chat::FetchArgs),
    /// Set your profile picture, or fetch a contact's.
    #[command(subcommand)]
    Avatar(chat::AvatarCommand),
    /// Take back a message you sent.
    Unsend(chat::UnsendArgs),
    /// Talk with one person interactively (lines typed are sent; arrivals are printed).
    Chat(chat::ChatArgs),
    /// Communities (SOGS): join rooms, read, post and send blinded DMs through onion paths.
    #[command(subcommand)]
    Community(community::CommunityCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Id(cmd) => id::run(cmd).map(|()| ExitCode::SUCCESS),
        Command::Msg(cmd) => msg::run(cmd).map(|()| ExitCode::SUCCESS),
        Command::Rpc(args) => rpc::run(args),
        Command::Attachment(cmd) => attachment::run(cmd).map(|()| ExitCode::SUCCESS),
        Command::Init(args) => chat::init(args).map(|()| ExitCode::SUCCESS),
        Command::Send(args) => chat::send(args).map(|()| ExitCode::SUCCESS),
        Command::Inbox(args) => chat::inbox(args).map(|()| ExitCode::SUCCESS),
        Command::Poll(args) => chat::poll(args).map(|()| ExitCode::SUCCESS),
        Command::Contacts(args) => chat::contacts(args).map(|()| ExitCode::SUCCESS),
        Command::Unsend(args) => chat::unsend(args).map(|()| ExitCode::SUCCESS),
        Command::Attachments(args) => chat::attachments(args).map(|()| ExitCode::SUCCESS),
        Command::Fetch(args) => chat::fetch(args).map(|()| ExitCode::SUCCESS),
        Command::Avatar(cmd) => chat::avatar(cmd).map(|()| ExitCode::SUCCESS),
        Command::Chat(args) => chat::chat(args).map(|()| ExitCode::SUCCESS),
        Command::Community(cmd) => community::run(cmd).map(|()| ExitCode::SUCCESS),
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
