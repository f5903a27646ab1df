//! `sotto community`: join community rooms, read and post in them, and blinded DMs, every
//! request through an onion path (or over plain HTTP with `--direct`).

use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use serde::Serialize;
use sotto_client::community::{
    capabilities, decode_post, parse_server_key, Community, CommunityServer, CommunityUrl, Link,
    Post, BLIND_CAPABILITY, MESSAGES_LIMIT,
};
use sotto_client::messenger::Messenger;
use sotto_client::profile::{CommunityRoomRow, CommunityServerRow, Profile};
use sotto_client::transport::HttpsTransport;
use sotto_crypto::{BlindedId, Identity};

use crate::chat::{connect, now_ms, runtime, ProfileArgs, NAME_SETTING};

/// The `community` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum CommunityCommand {
    /// Join a room from its URL (`http(s)://HOST[:PORT]/ROOM?public_key=KEY`): check that it
    /// exists and remember it.
    Join(JoinArgs),
    /// List the rooms joined.
    Rooms(RoomsArgs),
    /// Print a room's new posts (the most recent ones the first time), verified.
    Read(ReadArgs),
    /// Post a text message to a room.
    Post(PostArgs),
    /// Send a DM to a community member's blinded ID (15…).
    Dm(DmArgs),
    /// Print the new DMs in your community inboxes, decrypted.
    Inbox(InboxArgs),
}

/// How to reach community servers.
#[derive(Debug, Clone, Args)]
pub(crate) struct LinkArgs {
    /// Plain HTTP straight to the community server instead of onion paths (local testing:
    /// the server sees your address); no network file needed.
    #[arg(long)]
    direct: bool,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Debug, Args)]
pub(crate) struct JoinArgs {
    /// The room's URL, as the server's admin or web page gives it.
    url: String,
    #[command(flatten)]
    link: LinkArgs,
}

#[derive(Debug, Args)]
pub(crate) struct RoomsArgs {
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ReadArgs {
    /// The room: its token, or BASE_URL/TOKEN when two servers have a room of that name.
    room: String,
    #[command(flatten)]
    poll: WatchArgs,
    #[command(flatten)]
    link: LinkArgs,
}

/// How `read` and `inbox` poll.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// Keep polling (every --interval-ms) and print what comes, until Ctrl-C.
    #[arg(long)]
    watch: bool,
    /// Between polls.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    interval_ms: u64,
    /// With --watch: stop once this many posts or DMs were printed.
    #[arg(long, value_name = "N", requires = "watch")]
    count: Option<usize>,
    /// With --watch: stop after this many polls.
    #[arg(long, value_name = "N", requires = "watch")]
    max_polls: Option<usize>,
}

impl WatchArgs {
    /// Whether a `--watch` bound is reached after `polls` polls that printed `printed` items.
    fn done(&self, printed: usize, polls: usize) -> bool {
        self.count.is_some_and(|n| printed >= n) || self.max_polls.is_some_and(|n| polls >= n)
    }

    /// Wait for the next poll; `false` when Ctrl-C came first.
    async fn pause(&self) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(self.interval_ms)) => true,
            _ = tokio::signal::ctrl_c() => false,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct PostArgs {
    /// The room: its token, or BASE_URL/TOKEN.
    room: String,
    /// The message.
    text: String,
    #[command(flatten)]
    link: LinkArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DmArgs {
    /// The recipient's blinded ID on the server (15…, as `read` shows authors).
    blinded_id: String,
    /// The message.
    text: String,
    /// The server (its base URL, or a room joined on it) [default: the only server joined].
    #[arg(long, value_name = "URL|ROOM")]
    server: Option<String>,
    #[command(flatten)]
    link: LinkArgs,
}

#[derive(Debug, Args)]
pub(crate) struct InboxArgs {
    /// Only this server (its base URL, or a room joined on it) [default: every server joined].
    #[arg(long, value_name = "URL|ROOM")]
    server: Option<String>,
    #[command(flatten)]
    poll: WatchArgs,
    #[command(flatten)]
    link: LinkArgs,
}

/// Run a `community` subcommand.
pub(crate) fn run(cmd: CommunityCommand) -> anyhow::Result<()> {
    match cmd {
        CommunityCommand::Join(args) => join(args),
        CommunityCommand::Rooms(args) => rooms(&args),
        CommunityCommand::Read(args) => read(args),
        CommunityCommand::Post(args) => post(args),
        CommunityCommand::Dm(args) => dm(args),
        CommunityCommand::Inbox(args) => inbox(args),
    }
}

/// The connection used by one command: onion paths through the network, or direct HTTP.
struct Conn {
    messenger: Option<Messenger<HttpsTransport>>,
    http: reqwest::Client,
}

impl Conn {
    async fn open(args: &LinkArgs, profile: &Profile) -> anyhow::Result<Self> {
        let messenger = if args.direct {
            None
        } else {
            Some(connect(&args.profile, profile).await?)
        };
        Ok(Self {
            messenger,
            http: sotto_https::client(&sotto_https::ClientOptions::default())?,
        })
    }

    fn link(&self) -> Link<'_, HttpsTransport> {
        match &self.messenger {
            Some(m) => Link::Onion(m),
            None => Link::Direct(&self.http),
        }
    }
}

fn identity(profile: &Profile) -> anyhow::Result<Identity> {
    Ok(profile
        .identity()?
        .with_context(|| {
            format!(
                "no account in {}: run `sotto init` first",
                profile.dir().display()
            )
        })?
        .0)
}

fn server_of(row: &CommunityServerRow) -> anyhow::Result<CommunityServer> {
    let blind = row.capabilities.iter().any(|c| c == BLIND_CAPABILITY);
    Ok(CommunityServer::new(
        &row.base_url,
        parse_server_key(&row.pubkey)?,
        blind,
    )?)
}

/// Find a joined room by token or `BASE_URL/TOKEN` (a full join URL works too).
fn find_room(
    profile: &Profile,
    room: &str,
) -> anyhow::Result<(CommunityServerRow, CommunityRoomRow)> {
    let rooms = profile.community_rooms()?;
    let matches: Vec<&CommunityRoomRow> = if room.contains("://") {
        let without_query = room.split('?').next().unwrap_or(room).trim_end_matches('/');
        let (base, token) = without_query
            .rsplit_once('/')
            .with_context(|| format!("{room}: expected BASE_URL/ROOM"))?;
        rooms
            .iter()
            .filter(|r| r.base_url == base && r.token == token)
            .collect()
    } else {
        rooms.iter().filter(|r| r.token == room).collect()
    };
    let found = match matches.as_slice() {
        [one] => (*one).clone(),
        [] => bail!("room {room} is not joined: `sotto community join URL` first"),
        _ => bail!("several servers have a room {room}: name it as BASE_URL/{room}"),
    };
    let server = profile
        .community_servers()?
        .into_iter()
        .find(|s| s.base_url == found.base_url)
        .with_context(|| format!("the profile lost the server of {room}"))?;
    Ok((server, found))
}

/// Find a joined server by base URL or by one of its rooms; with none given, the only one.
fn find_server(profile: &Profile, which: Option<&str>) -> anyhow::Result<Vec<CommunityServerRow>> {
    let servers = profile.community_servers()?;
    let Some(which) = which else {
        return Ok(servers);
    };
    let base = which.trim_end_matches('/');
    if let Some(s) = servers.iter().find(|s| s.base_url == base) {
        return Ok(vec![s.clone()]);
    }
    Ok(vec![find_room(profile, which)?.0])
}

#[derive(Serialize)]
struct Joined {
    url: String,
    room: String,
    name: Option<String>,
    server: String,
    /// Our ID on the server (blinded when it requires it).
    id: String,
    capabilities: Vec<String>,
}

fn join(args: JoinArgs) -> anyhow::Result<()> {
    let url = CommunityUrl::parse(&args.url)?;
    let profile = args.link.profile.open()?;
    let me = identity(&profile)?;
    let joined = runtime()?.block_on(async {
        let conn = Conn::open(&args.link, &profile).await?;
        let probe = CommunityServer::new(&url.base_url, url.pubkey, false)?;
        let caps = capabilities(&conn.link(), &probe).await.with_context(|| {
            format!(
                "cannot talk to the community server at {} with key {} (is public_key right?)",
                url.base_url,
                url.pubkey.to_hex()
            )
        })?;
        let blind = caps.iter().any(|c| c == BLIND_CAPABILITY);
        let server = CommunityServer::new(&url.base_url, url.pubkey, blind)?;
        let community = Community::new(conn.link(), server, &me)?;
        let info = community
            .room(&url.room, now_ms())
            .await
            .with_context(|| format!("cannot join {url}"))?;
        let name = info
            .get("name")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        Ok::<_, anyhow::Error>(Joined {
            url: url.to_string(),
            room: url.room.clone(),
            name,
            server: url.base_url.clone(),
            id: community.my_id(),
            capabilities: caps,
        })
    })?;
    profile.upsert_community_server(&url.base_url, &url.pubkey.to_hex(), &joined.capabilities)?;
    profile.upsert_community_room(&url.base_url, &url.room, joined.name.as_deref())?;
    if args.link.profile.json {
        println!("{}", serde_json::to_string(&joined)?);
    } else {
        println!(
            "joined {} ({}) as {}",
            joined.room,
            joined.name.as_deref().unwrap_or("no name"),
            joined.id
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct RoomOut {
    room: String,
    name: Option<String>,
    server: String,
    url: String,
    id: String,
    last_seqno: Option<i64>,
}

fn rooms(args: &RoomsArgs) -> anyhow::Result<()> {
    let profile = args.profile.open()?;
    let me = identity(&profile)?;
    let servers = profile.community_servers()?;
    let mut out = Vec::new();
    // Our ID on each server needs no request (it is derived from the key); the client is unused.
    let http = reqwest::Client::new();
    for room in profile.community_rooms()? {
        let Some(row) = servers.iter().find(|s| s.base_url == room.base_url) else {
            continue;
        };
        let server = server_of(row)?;
        let url = CommunityUrl {
            base_url: room.base_url.clone(),
            room: room.token.clone(),
            pubkey: *server.pubkey(),
        };
        let id = Community::<HttpsTransport>::new(Link::Direct(&http), server, &me)?.my_id();
        out.push(RoomOut {
            room: room.token,
            name: room.name,
            server: room.base_url,
            url: url.to_string(),
            id,
            last_seqno: room.last_seqno,
        });
    }
    if args.profile.json {
        println!("{}", serde_json::to_string(&out)?);
    } else if out.is_empty() {
        println!("no rooms joined: `sotto community join URL`");
    } else {
        for r in out {
            println!(
                "{}\t{}\t{}",
                r.room,
                r.name.as_deref().unwrap_or("-"),
                r.url
            );
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct PostOut<'a> {
    id: i64,
    author: &'a str,
    text: Option<&'a str>,
    posted: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

fn print_post(json: bool, p: &Post) -> anyhow::Result<()> {
    if json {
        let out = PostOut {
            id: p.id,
            author: &p.author,
            text: p.text.as_deref(),
            posted: p.posted,
            name: p.name.as_deref(),
        };
        println!("{}", serde_json::to_string(&out)?);
    } else {
        let who = match &p.name {
            Some(n) => format!("{n} ({})", p.author),
            None => p.author.clone(),
        };
        println!(
            "[{}] {who}: {}",
            p.id,
            p.text.as_deref().unwrap_or("(not a text message)")
        );
    }
    use std::io::Write as _;
    std::io::stdout().flush()?;
    Ok(())
}

fn read(args: ReadArgs) -> anyhow::Result<()> {
    let profile = args.link.profile.open()?;
    let me = identity(&profile)?;
    let (server_row, room) = find_room(&profile, &args.room)?;
    let server = server_of(&server_row)?;
    let json = args.link.profile.json;
    runtime()?.block_on(async {
        let conn = Conn::open(&args.link, &profile).await?;
        let community = Community::new(conn.link(), server, &me)?;
        let mut since = room.last_seqno;
        let (mut printed, mut polls) = (0usize, 0usize);
        loop {
            polls += 1;
            let page = match community.messages(&room.token, since, now_ms()).await {
                Ok(page) => page,
                Err(e) if args.poll.watch => {
                    eprintln!("sotto: poll failed: {e}");
                    Vec::new()
                }
                Err(e) => return Err(e.into()),
            };
            let full = page.len() >= usize::try_from(MESSAGES_LIMIT).unwrap_or(usize::MAX);
            let first = since.is_none();
            let mut entries = page;
            // `recent` is newest first; `since` is by sequence number.
            if first {
                entries.reverse();
            }
            let mut top = since;
            for entry in &entries {
                if let Some(seqno) = entry.get("seqno").and_then(serde_json::Value::as_i64) {
                    top = Some(top.map_or(seqno, |t| t.max(seqno)));
                }
                match decode_post(entry) {
                    Ok(Some(post)) => {
                        print_post(json, &post)?;
                        printed += 1;
                    }
                    Ok(None) => {}
                    Err(e) => eprintln!("sotto: skipped a post: {e}"),
                }
            }
            if let Some(top) = top {
                profile.set_community_seqno(&room.base_url, &room.token, top)?;
            }
            // A full page of `since` that moved us on: there is more; fetch it before waiting
            // (a server repeating a page cannot keep us here).
            let more = full && !first && top > since;
            since = top;
            if args.poll.done(printed, polls) || (!args.poll.watch && !more) {
                return Ok(());
            }
            if more {
                continue;
            }
            if !args.poll.pause().await {
                return Ok(());
            }
        }
    })
}

fn post(args: PostArgs) -> anyhow::Result<()> {
    let profile = args.link.profile.open()?;
    let me = identity(&profile)?;
    let (server_row, room) = find_room(&profile, &args.room)?;
    let server = server_of(&server_row)?;
    let name = profile.setting(NAME_SETTING)?;
    let posted = runtime()?.block_on(async {
        let conn = Conn::open(&args.link, &profile).await?;
        let community = Community::new(conn.link(), server, &me)?;
        Ok::<_, anyhow::Error>(
            community
                .post(&room.token, &args.text, name.as_deref(), now_ms())
                .await?,
        )
    })?;
    let id = posted.get("id").and_then(serde_json::Value::as_i64);
    if args.link.profile.json {
        println!(
            "{}",
            serde_json::json!({"id": id, "seqno": posted.get("seqno"),
                "posted": posted.get("posted"), "filtered": posted.get("filtered")})
        );
    } else if posted.get("filtered").and_then(serde_json::Value::as_bool) == Some(true) {
        println!("posted, but the server's filter hid it");
    } else {
        println!("posted (id {})", id.unwrap_or_default());
    }
    Ok(())
}

fn dm(args: DmArgs) -> anyhow::Result<()> {
    let to: BlindedId = args.blinded_id.parse().with_context(|| {
        format!(
            "{} is not a blinded ID (community DMs go to 15… IDs, as `read` shows authors)",
            args.blinded_id
        )
    })?;
    let profile = args.link.profile.open()?;
    let me = identity(&profile)?;
    let servers = find_server(&profile, args.server.as_deref())?;
    let row = match servers.as_slice() {
        [one] => one.clone(),
        [] => bail!("no community joined: `sotto community join URL` first"),
        _ => bail!("several servers joined: choose one with --server URL|ROOM"),
    };
    let server = server_of(&row)?;
    let name = profile.setting(NAME_SETTING)?;
    let sent = runtime()?.block_on(async {
        let conn = Conn::open(&args.link, &profile).await?;
        let community = Community::new(conn.link(), server, &me)?;
        Ok::<_, anyhow::Error>(
            community
                .send_dm(&to, &args.text, name.as_deref(), now_ms())
                .await?,
        )
    })?;
    if args.link.profile.json {
        println!(
            "{}",
            serde_json::json!({"id": sent.get("id"), "posted_at": sent.get("posted_at"),
                "server": row.base_url})
        );
    } else {
        println!("sent to {to}'s inbox on {}", row.base_url);
    }
    Ok(())
}

fn inbox(args: InboxArgs) -> anyhow::Result<()> {
    let profile = args.link.profile.open()?;
    let me = identity(&profile)?;
    let chosen = find_server(&profile, args.server.as_deref())?;
    if chosen.is_empty() {
        bail!("no community joined: `sotto community join URL` first");
    }
    let json = args.link.profile.json;
    runtime()?.block_on(async {
        let conn = Conn::open(&args.link, &profile).await?;
        let (mut printed, mut polls) = (0usize, 0usize);
        loop {
            polls += 1;
            // Re-read the rows: each poll starts where the last one stopped.
            let servers = find_server(&profile, args.server.as_deref())?;
            for row in servers {
                let server = server_of(&row)?;
                if !server.blind {
                    // Inboxes are for blinded IDs only (`sogs.md` §1.6).
                    continue;
                }
                let community = Community::new(conn.link(), server, &me)?;
                let dms = match community.inbox_since(row.inbox_last_id, now_ms()).await {
                    Ok(dms) => dms,
                    Err(e) if args.poll.watch => {
                        eprintln!("sotto: inbox poll failed: {e}");
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                let mut last = row.inbox_last_id;
                for (id, dm) in dms {
                    last = last.max(id);
                    match dm {
                        Ok(dm) if json => println!(
                            "{}",
                            serde_json::json!({"id": dm.id, "from": dm.from,
                                "session_id": dm.session_id, "text": dm.text,
                                "name": dm.name, "posted": dm.posted, "server": row.base_url})
                        ),
                        Ok(dm) => println!(
                            "[{}] {}{} ({}): {}",
                            dm.id,
                            dm.name
                                .as_deref()
                                .map(|n| format!("{n} "))
                                .unwrap_or_default(),
                            dm.from,
                            dm.session_id,
                            dm.text.as_deref().unwrap_or("(not a text message)")
                        ),
                        Err(e) => {
                            eprintln!("sotto: skipped a DM: {e}");
                            continue;
                        }
                    }
                    printed += 1;
                }
                use std::io::Write as _;
                std::io::stdout().flush()?;
                profile.set_community_inbox_id(&row.base_url, last)?;
            }
            if args.poll.done(printed, polls) || !args.poll.watch || !args.poll.pause().await {
                return Ok(());
            }
        }
    })
}
