//! The messenger commands: `init`, `send`, `inbox`, `poll`, `contacts`. Each works on a profile
//! directory and a network description, with every request through onion paths.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;
use sotto_client::messenger::{Event, Messenger};
use sotto_client::network::{NetworkConfig, GUARDS_SETTING};
use sotto_client::profile::Profile;
use sotto_client::transport::{HttpsTransport, RpcClient};
use sotto_crypto::layer::EncType;
use sotto_crypto::{mnemonic, Identity, Seed, SessionId};

use crate::progress::{self, ProgressMode};

/// Where a profile lives and which network it uses.
#[derive(Debug, Clone, Args)]
pub(crate) struct ProfileArgs {
    /// Profile directory [default: $XDG_DATA_HOME/sotto, else ~/.local/share/sotto].
    #[arg(long, value_name = "DIR", global = true)]
    pub(crate) profile: Option<PathBuf>,
    /// Network description: a devnet's network.json, or a JSON file with `seed_url`/`seed_urls`
    /// [default: the one given at `init`].
    #[arg(long, value_name = "FILE", global = true)]
    pub(crate) network: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

const NETWORK_SETTING: &str = "network_file";
pub(crate) const NAME_SETTING: &str = "display_name";
const AVATAR_URL_SETTING: &str = "avatar_url";
const AVATAR_KEY_SETTING: &str = "avatar_key";

fn default_profile_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("sotto");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/sotto"),
        None => PathBuf::from("sotto-profile"),
    }
}

impl ProfileArgs {
    pub(crate) fn open(&self) -> anyhow::Result<Profile> {
        let dir = self.profile.clone().unwrap_or_else(default_profile_dir);
        Ok(Profile::open(&dir)?)
    }

    /// The network file: the flag (remembered), else the one remembered.
    fn network_file(&self, profile: &Profile) -> anyhow::Result<PathBuf> {
        if let Some(path) = &self.network {
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            profile.set_setting(NETWORK_SETTING, &absolute.to_string_lossy())?;
            return Ok(absolute);
        }
        profile
            .setting(NETWORK_SETTING)?
            .map(PathBuf::from)
            .context("no network known: pass --network FILE (e.g. a devnet's network.json)")
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The profile's account and a messenger over the network's current node list.
pub(crate) async fn connect(
    args: &ProfileArgs,
    profile: &Profile,
) -> anyhow::Result<Messenger<HttpsTransport>> {
    Ok(connect_with_network(args, profile).await?.0)
}

/// [`connect`], also returning the network description (for its file server).
async fn connect_with_network(
    args: &ProfileArgs,
    profile: &Profile,
) -> anyhow::Result<(Messenger<HttpsTransport>, NetworkConfig)> {
    let (identity, _) = profile.identity()?.with_context(|| {
        format!(
            "no account in {}: run `sotto init` first",
            profile.dir().display()
        )
    })?;
    let network = NetworkConfig::load(&args.network_file(profile)?)?;
    let http = sotto_https::client(&sotto_https::ClientOptions::default())?;
    let nodes = network.bootstrap_cached(&http, profile).await?;
    let transport = HttpsTransport::new(&sotto_https::ClientOptions::default())?;
    let mut messenger = Messenger::new(
        RpcClient::new(transport, EncType::XChaCha20),
        identity,
        nodes,
    );
    messenger.set_display_name(profile.setting(NAME_SETTING)?);
    if let (Some(url), Some(key)) = (
        profile.setting(AVATAR_URL_SETTING)?,
        profile.setting(AVATAR_KEY_SETTING)?,
    ) {
        messenger.set_avatar(Some((url, hex::decode(key).unwrap_or_default())));
    }
    let preferred: Vec<sotto_crypto::Ed25519PublicKey> = profile
        .setting(GUARDS_SETTING)?
        .unwrap_or_default()
        .split(',')
        .filter_map(|k| k.parse().ok())
        .collect();
    let guards = messenger.ensure_guards(&preferred).await;
    let joined: Vec<String> = guards.iter().map(|k| k.to_hex()).collect();
    profile.set_setting(GUARDS_SETTING, &joined.join(","))?;
    Ok((messenger, network))
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Restore an account from its recovery phrase instead of making a new one.
    #[arg(long, value_name = "WORDS")]
    restore: Option<String>,
    /// The display name sent with messages.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Serialize)]
struct InitOut {
    session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    mnemonic: Option<String>,
    profile: String,
}

pub(crate) fn init(args: InitArgs) -> anyhow::Result<()> {
    let profile = args.profile.open()?;
    let (seed, new) = match &args.restore {
        Some(words) => (
            mnemonic::phrase_to_seed(words).context("invalid recovery phrase")?,
            false,
        ),
        None => (Seed::generate(&mut rand_core::OsRng), true),
    };
    profile.set_seed(&seed)?;
    if let Some(name) = &args.name {
        profile.set_setting(NAME_SETTING, name)?;
    }
    if args.profile.network.is_some() {
        args.profile.network_file(&profile)?;
    }
    let out = InitOut {
        session_id: Identity::from_seed(&seed).session_id().to_string(),
        mnemonic: new.then(|| mnemonic::seed_to_phrase(&seed)),
        profile: profile.dir().display().to_string(),
    };
    if args.profile.json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!("Session ID:      {}", out.session_id);
        if let Some(m) = &out.mnemonic {
            println!("Recovery phrase: {m}");
            println!("Write the recovery phrase down: it is the only way to restore this account.");
        }
        println!("Profile:         {}", out.profile);
        // The Session ID as a QR code, for another person's phone to scan.
        match qrcode::QrCode::new(out.session_id.as_bytes()) {
            Ok(code) => println!(
                "\n{}",
                code.render::<qrcode::render::unicode::Dense1x2>()
                    .quiet_zone(true)
                    .build()
            ),
            Err(e) => eprintln!("sotto: no QR code: {e}"),
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The recipient's Session ID (05…).
    session_id: String,
    /// The message (with --attach: an optional caption).
    #[arg(required_unless_present = "attach")]
    text: Option<String>,
    /// Send this file as an attachment: encrypted, uploaded to the network's file server
    /// through an onion path, then sent as a pointer.
    #[arg(long, value_name = "FILE")]
    attach: Option<PathBuf>,
    /// Make the message disappear this many seconds after sending.
    #[arg(long, value_name = "SECS")]
    disappear_after_send: Option<u32>,
    /// Show the upload's progress on stderr (auto: when it is a terminal).
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    progress: ProgressMode,
    #[command(flatten)]
    profile: ProfileArgs,
}

pub(crate) fn send(args: SendArgs) -> anyhow::Result<()> {
    let to: SessionId = args
        .session_id
        .parse()
        .with_context(|| format!("{} is not a Session ID", args.session_id))?;
    let profile = args.profile.open()?;
    let file = match &args.attach {
        Some(path) => Some((
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
            path.file_name()
                .map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned()),
        )),
        None => None,
    };
    let text = args.text.clone().unwrap_or_default();
    let sent = runtime()?.block_on(async {
        let (mut messenger, network) = connect_with_network(&args.profile, &profile).await?;
        if let Some((bytes, name)) = &file {
            let files = network
                .file_server
                .as_ref()
                .context("the network names no file server (`file_server` in the network file)")?;
            eprintln!(
                "uploading {name} ({} bytes) through an onion path…",
                bytes.len()
            );
            let bar = progress::bar(args.progress, name);
            messenger.set_progress(bar.as_ref().map(progress::Bar::progress));
            let (sent, _url) = messenger
                .send_attachment(
                    &to,
                    files,
                    &sotto_client::messenger::OutgoingFile {
                        name,
                        content_type: content_type(name),
                        bytes,
                    },
                    args.text.as_deref(),
                    now_ms(),
                )
                .await?;
            return Ok::<_, anyhow::Error>(sent);
        }
        let options = sotto_client::messenger::TextOptions {
            disappear_after_send: args.disappear_after_send,
        };
        Ok(messenger.send_text(&to, &text, &options, now_ms()).await?)
    })?;
    profile.add_contact(&to.to_string(), None)?;
    profile.add_message(
        &sotto_client::profile::StoredMessage {
            hash: sent.hash.clone(),
            conversation: to.to_string(),
            sender: Identity::from_seed(&profile.identity()?.context("no account")?.1)
                .session_id()
                .to_string(),
            body: text.clone(),
            sent_ms: sent.timestamp_ms,
            outgoing: true,
            expires_ms: args
                .disappear_after_send
                .map(|secs| sent.timestamp_ms + i64::from(secs) * 1000),
        },
        now_ms(),
    )?;
    if args.profile.json {
        println!(
            "{}",
            serde_json::json!({"hash": sent.hash, "timestamp": sent.timestamp_ms,
                "confirmations": sent.confirmations})
        );
    } else {
        println!(
            "sent ({} of the recipient's swarm confirmed)",
            sent.confirmations
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct InboxEntry {
    from: String,
    text: String,
    timestamp: i64,
    hash: String,
}

fn print_messages(
    json: bool,
    messages: &[sotto_client::profile::StoredMessage],
) -> anyhow::Result<()> {
    if json {
        let list: Vec<InboxEntry> = messages
            .iter()
            .map(|m| InboxEntry {
                from: m.sender.clone(),
                text: m.body.clone(),
                timestamp: m.sent_ms,
                hash: m.hash.clone(),
            })
            .collect();
        println!("{}", serde_json::to_string(&list)?);
    } else {
        for m in messages {
            println!("{} {}: {}", m.sent_ms, m.sender, m.body);
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct InboxArgs {
    /// Tell senders their new messages were read.
    #[arg(long)]
    read_receipts: bool,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// Send READ receipts for the new incoming messages among `events`, one per sender.
async fn send_receipts(
    messenger: &Messenger<HttpsTransport>,
    events: &[Event],
) -> anyhow::Result<()> {
    let mut by_sender: std::collections::BTreeMap<&str, Vec<i64>> = Default::default();
    for e in events {
        if let Event::Message(m) = e {
            if !m.outgoing {
                by_sender.entry(&m.sender).or_default().push(m.sent_ms);
            }
        }
    }
    for (sender, timestamps) in by_sender {
        let to: SessionId = sender.parse()?;
        messenger
            .send_read_receipt(&to, &timestamps, now_ms())
            .await?;
    }
    Ok(())
}

pub(crate) fn inbox(args: InboxArgs) -> anyhow::Result<()> {
    let profile = args.profile.open()?;
    runtime()?.block_on(async {
        let messenger = connect(&args.profile, &profile).await?;
        let events = messenger.poll(&profile, now_ms()).await?;
        if args.read_receipts {
            send_receipts(&messenger, &events).await?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    print_messages(args.profile.json, &profile.inbox()?)
}

/// Print what a poll found: messages as in the inbox, other events as notes.
fn print_events(json: bool, events: &[Event]) -> anyhow::Result<()> {
    for e in events {
        match e {
            Event::Message(m) if !m.outgoing && json => println!(
                "{}",
                serde_json::json!({"event": "message", "from": m.sender, "text": m.body,
                    "timestamp": m.sent_ms, "hash": m.hash})
            ),
            Event::Message(m) if !m.outgoing => println!("{} {}: {}", m.sent_ms, m.sender, m.body),
            Event::Message(_) => {}
            Event::Read { from, timestamps } if json => println!(
                "{}",
                serde_json::json!({"event": "read", "from": from, "timestamps": timestamps})
            ),
            Event::Read { from, timestamps } => {
                println!("{from} read {} of your messages", timestamps.len());
            }
            Event::Typing { from, started } if json => println!(
                "{}",
                serde_json::json!({"event": "typing", "from": from, "started": started})
            ),
            Event::Typing { from, started } => {
                println!("{from} {} typing", if *started { "is" } else { "stopped" });
            }
            Event::Unsent { from, timestamp } if json => println!(
                "{}",
                serde_json::json!({"event": "unsent", "from": from, "timestamp": timestamp})
            ),
            Event::Unsent { from, timestamp } => {
                println!("{from} took back the message sent at {timestamp}");
            }
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct PollArgs {
    /// Keep polling (every --interval-ms) and print what arrives, until Ctrl-C. Each message,
    /// read receipt, typing note or unsend is one line (with --json, one JSON object with an
    /// `event` key: `message`, `read`, `typing`, `unsent`).
    #[arg(long)]
    watch: bool,
    /// Between polls.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    interval_ms: u64,
    /// With --watch: instead of polling, hold a waiting retrieve open on a swarm member so that
    /// messages show as soon as they are stored (Sotto nodes only; see docs/subscriptions.md).
    #[arg(long, requires = "watch")]
    subscribe: bool,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// How long one waiting retrieve is held (under the onion relays' timeouts).
const SUBSCRIBE_WAIT_MS: u64 = 20_000;

pub(crate) fn poll(args: PollArgs) -> anyhow::Result<()> {
    let profile = args.profile.open()?;
    runtime()?.block_on(async {
        let messenger = connect(&args.profile, &profile).await?;
        loop {
            let wait = args.subscribe.then_some(SUBSCRIBE_WAIT_MS);
            match messenger.poll_waiting(&profile, now_ms(), wait).await {
                Ok(events) => {
                    print_events(args.profile.json, &events)?;
                    use std::io::Write as _;
                    std::io::stdout().flush()?;
                    if args.subscribe {
                        continue;
                    }
                }
                Err(e) if args.watch => eprintln!("sotto: poll failed: {e}"),
                Err(e) => return Err(e.into()),
            }
            if !args.watch {
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(args.interval_ms)) => {}
                _ = tokio::signal::ctrl_c() => return Ok(()),
            }
        }
    })
}

#[derive(Debug, Args)]
pub(crate) struct ContactsArgs {
    #[command(flatten)]
    profile: ProfileArgs,
}

pub(crate) fn contacts(args: ContactsArgs) -> anyhow::Result<()> {
    let profile = args.profile.open()?;
    let list = profile.contacts()?;
    if args.profile.json {
        let v: Vec<_> = list
            .iter()
            .map(|(id, name)| {
                let avatar = profile
                    .contact_avatar(id)
                    .ok()
                    .flatten()
                    .map(|(url, _)| url);
                serde_json::json!({"session_id": id, "name": name, "avatar_url": avatar})
            })
            .collect();
        println!("{}", serde_json::to_string(&v)?);
    } else {
        for (id, name) in list {
            println!("{id} {}", name.unwrap_or_default());
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct UnsendArgs {
    /// The storage hash of a message this account sent (as `send --json` printed it).
    hash: String,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// Take back a sent message: the recipient's client deletes it, and so does this profile.
pub(crate) fn unsend(args: UnsendArgs) -> anyhow::Result<()> {
    let profile = args.profile.open()?;
    let message = profile
        .outgoing_by_hash(&args.hash)?
        .with_context(|| format!("no message of ours has hash {}", args.hash))?;
    let to: SessionId = message.conversation.parse()?;
    runtime()?.block_on(async {
        let messenger = connect(&args.profile, &profile).await?;
        messenger.unsend(&to, message.sent_ms, now_ms()).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    profile.delete_message(&args.hash)?;
    if args.profile.json {
        println!("{}", serde_json::json!({"unsent": args.hash}));
    } else {
        println!("unsent");
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct ChatArgs {
    /// The other party's Session ID.
    session_id: String,
    /// Between polls.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    interval_ms: u64,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// Talk with one person: shows the conversation, sends each line typed, and prints what arrives
/// (polling in the background) until end of input or Ctrl-C.
pub(crate) fn chat(args: ChatArgs) -> anyhow::Result<()> {
    use tokio::io::AsyncBufReadExt as _;
    let to: SessionId = args
        .session_id
        .parse()
        .with_context(|| format!("{} is not a Session ID", args.session_id))?;
    let profile = args.profile.open()?;
    for m in profile.conversation(&to.to_string())? {
        let who = if m.outgoing { "you" } else { "them" };
        println!("[{}] {who}: {}", m.sent_ms, m.body);
    }
    let runtime = runtime()?;
    runtime.block_on(async {
        let messenger = connect(&args.profile, &profile).await?;
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let mut tick = tokio::time::interval(Duration::from_millis(args.interval_ms));
        loop {
            tokio::select! {
                line = lines.next_line() => {
                    let Some(line) = line? else { return Ok(()) };
                    if line.trim().is_empty() {
                        continue;
                    }
                    let sent = messenger.send(&to, &line, now_ms()).await?;
                    profile.add_message(&sotto_client::profile::StoredMessage {
                        hash: sent.hash,
                        conversation: to.to_string(),
                        sender: messenger.session_id().to_string(),
                        body: line,
                        sent_ms: sent.timestamp_ms,
                        outgoing: true,
                        expires_ms: None,
                    }, now_ms())?;
                }
                _ = tick.tick() => {
                    match messenger.poll(&profile, now_ms()).await {
                        Ok(events) => {
                            for e in events {
                                if let Event::Message(m) = e {
                                    if m.conversation == to.to_string() && !m.outgoing {
                                        println!("[{}] them: {}", m.sent_ms, m.body);
                                    }
                                }
                            }
                        }
                        Err(e) => eprintln!("sotto: poll failed: {e}"),
                    }
                }
                _ = tokio::signal::ctrl_c() => return Ok(()),
            }
        }
    })
}

/// A MIME type from a file name's extension (what Session clients put in the pointer).
fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("mp4") => "video/mp4",
        Some("mp3") => "audio/mpeg",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain",
        _ => "application/octet-stream",
    }
}

#[derive(Debug, Args)]
pub(crate) struct AttachmentsArgs {
    #[command(flatten)]
    profile: ProfileArgs,
}

/// List the attachments of received and sent messages.
pub(crate) fn attachments(args: AttachmentsArgs) -> anyhow::Result<()> {
    let profile = args.profile.open()?;
    let list = profile.attachments()?;
    if args.profile.json {
        let v: Vec<_> = list
            .iter()
            .map(|a| {
                serde_json::json!({"hash": a.message_hash, "index": a.index, "file_name": a.file_name,
                    "content_type": a.content_type, "size": a.size, "url": a.url})
            })
            .collect();
        println!("{}", serde_json::to_string(&v)?);
    } else {
        for a in list {
            println!(
                "{} #{} {} ({} bytes) {}",
                a.message_hash,
                a.index,
                a.file_name.as_deref().unwrap_or("(no name)"),
                a.size,
                a.url
            );
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct FetchArgs {
    /// The storage hash of the message (as `attachments` lists it).
    hash: String,
    /// Which attachment of the message.
    #[arg(long, default_value_t = 0)]
    index: u32,
    /// Where to save it [default: PROFILE/attachments/FILE_NAME].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Show the download's progress on stderr (auto: when it is a terminal).
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    progress: ProgressMode,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// Download an attachment through an onion path, decrypt it (refusing a wrong key, MAC or
/// digest) and save it.
pub(crate) fn fetch(args: FetchArgs) -> anyhow::Result<()> {
    let profile = args.profile.open()?;
    let attachment = profile
        .attachments()?
        .into_iter()
        .find(|a| a.message_hash == args.hash && a.index == args.index)
        .with_context(|| format!("no attachment #{} on message {}", args.index, args.hash))?;
    let plain = runtime()?.block_on(async {
        let (mut messenger, network) = connect_with_network(&args.profile, &profile).await?;
        let files = network
            .file_server
            .as_ref()
            .context("the network names no file server (`file_server` in the network file)")?;
        let label = attachment.file_name.as_deref().unwrap_or("attachment");
        let bar = progress::bar(args.progress, label);
        messenger.set_progress(bar.as_ref().map(progress::Bar::progress));
        Ok::<_, anyhow::Error>(messenger.fetch(files, &attachment).await?)
    })?;
    let out = match args.out {
        Some(p) => p,
        None => {
            let dir = profile.dir().join("attachments");
            std::fs::create_dir_all(&dir)?;
            // Only the final component of the sender's name: never a path of theirs.
            let name = attachment
                .file_name
                .as_deref()
                .and_then(|n| std::path::Path::new(n).file_name())
                .map_or_else(
                    || {
                        format!(
                            "{}-{}",
                            attachment.message_hash.replace('/', "_"),
                            attachment.index
                        )
                    },
                    |n| n.to_string_lossy().into_owned(),
                );
            dir.join(name)
        }
    };
    std::fs::write(&out, &plain).with_context(|| format!("cannot write {}", out.display()))?;
    if args.profile.json {
        println!(
            "{}",
            serde_json::json!({"path": out.display().to_string(), "size": plain.len()})
        );
    } else {
        println!("saved {} ({} bytes)", out.display(), plain.len());
    }
    Ok(())
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum AvatarCommand {
    /// Set your profile picture: encrypted with a fresh profile key, uploaded through an onion
    /// path, and sent with your messages from now on.
    Set {
        /// The image file.
        file: PathBuf,
        #[command(flatten)]
        profile: ProfileArgs,
    },
    /// Download and decrypt a contact's profile picture (known once they sent you a message).
    Get {
        /// The contact's Session ID.
        session_id: String,
        /// Where to save it [default: PROFILE/avatars/SESSION_ID].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        profile: ProfileArgs,
    },
}

pub(crate) fn avatar(cmd: AvatarCommand) -> anyhow::Result<()> {
    match cmd {
        AvatarCommand::Set {
            file,
            profile: args,
        } => {
            let image =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let profile = args.open()?;
            let (url, key) = runtime()?.block_on(async {
                let (messenger, network) = connect_with_network(&args, &profile).await?;
                let files = network.file_server.as_ref().context(
                    "the network names no file server (`file_server` in the network file)",
                )?;
                Ok::<_, anyhow::Error>(messenger.upload_avatar(files, &image).await?)
            })?;
            profile.set_setting(AVATAR_URL_SETTING, &url)?;
            profile.set_setting(AVATAR_KEY_SETTING, &hex::encode(&key))?;
            if args.json {
                println!("{}", serde_json::json!({"url": url}));
            } else {
                println!("profile picture uploaded: {url}");
            }
            Ok(())
        }
        AvatarCommand::Get {
            session_id,
            out,
            profile: args,
        } => {
            let profile = args.open()?;
            let (url, key) = profile
                .contact_avatar(&session_id)?
                .with_context(|| format!("no profile picture known for {session_id}"))?;
            let image = runtime()?.block_on(async {
                let (messenger, network) = connect_with_network(&args, &profile).await?;
                let files = network.file_server.as_ref().context(
                    "the network names no file server (`file_server` in the network file)",
                )?;
                Ok::<_, anyhow::Error>(messenger.fetch_avatar(files, &url, &key).await?)
            })?;
            let out = match out {
                Some(p) => p,
                None => {
                    let dir = profile.dir().join("avatars");
                    std::fs::create_dir_all(&dir)?;
                    let id: SessionId = session_id
                        .parse()
                        .with_context(|| format!("{session_id} is not a Session ID"))?;
                    dir.join(id.to_string())
                }
            };
            std::fs::write(&out, &image)
                .with_context(|| format!("cannot write {}", out.display()))?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"path": out.display().to_string(), "size": image.len()})
                );
            } else {
                println!("saved {} ({} bytes)", out.display(), image.len());
            }
            Ok(())
        }
    }
}
