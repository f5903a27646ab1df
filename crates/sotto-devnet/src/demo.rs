//! `sotto-devnet demo`: the whole network with a conversation. Starts a devnet in a temporary
//! directory, creates Alice and Bob, has them exchange messages both ways through 3-hop onion
//! paths (with `sotto-client`, as the `sotto` command does), prints the conversation, stops
//! the network and exits.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use sotto_client::messenger::{Event, Messenger};
use sotto_client::network::NetworkConfig;
use sotto_client::profile::Profile;
use sotto_client::transport::{HttpsTransport, RpcClient};
use sotto_crypto::layer::EncType;
use sotto_crypto::{Identity, Seed};
use sotto_devnet::config::{DEFAULT_NODES, DEFAULT_READY_TIMEOUT_SECS, DEFAULT_STOP_GRACE_MS};
use tokio::signal::unix::{signal, SignalKind};

use crate::supervise::{Bins, Supervisor};
use crate::up::{bring_up, prepare_dir, stop_signal};

/// How long a side waits (polling) for the other's message.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(30);

/// Flags of `demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Number of nodes.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_NODES,
          value_parser = clap::value_parser!(u16).range(4..))]
    nodes: u16,
    /// Directory holding sotto-registry and sotto-node [default: this executable's directory,
    /// built there first when run by `cargo run`].
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let bins = Bins::find_or_build(args.bin_dir.as_deref())?;
    let work = tempfile::tempdir().context("cannot make a temporary directory")?;
    let dir = work.path().join("devnet");
    prepare_dir(&dir)?;
    let mut sup = Supervisor::new(Duration::from_millis(DEFAULT_STOP_GRACE_MS));
    let outcome = tokio::select! {
        biased;
        s = stop_signal(&mut term, &mut int) => Err(anyhow::anyhow!("{s}: demo interrupted")),
        r = run(&mut sup, &args, &bins, &dir, work.path()) => r,
    };
    println!("stopping the network ({} processes)", sup.len());
    sup.shutdown().await;
    outcome
}

struct Person {
    name: &'static str,
    profile: Profile,
    messenger: Messenger<HttpsTransport>,
}

async fn person(
    name: &'static str,
    work: &std::path::Path,
    network: &NetworkConfig,
) -> anyhow::Result<Person> {
    let profile = Profile::open(&work.join(name.to_lowercase()))?;
    let seed = Seed::generate(&mut rand_core::OsRng);
    profile.set_seed(&seed)?;
    let http = sotto_https::client(&sotto_https::ClientOptions::default())?;
    let nodes = network.bootstrap_cached(&http, &profile).await?;
    let transport = HttpsTransport::new(&sotto_https::ClientOptions::default())?;
    let mut messenger = Messenger::new(
        RpcClient::new(transport, EncType::XChaCha20),
        Identity::from_seed(&seed),
        nodes,
    );
    messenger.set_display_name(Some(name.to_owned()));
    messenger.ensure_guards(&[]).await;
    Ok(Person {
        name,
        profile,
        messenger,
    })
}

/// `from` sends `text` to `to`; `to` polls until it arrives.
async fn exchange(from: &Person, to: &Person, text: &str) -> anyhow::Result<()> {
    let sent = from
        .messenger
        .send(&to.messenger.session_id(), text, now_ms())
        .await
        .with_context(|| format!("{} could not send", from.name))?;
    println!(
        "{} → {}: {text:?} (stored by {} nodes of {}'s swarm, through 3 onion hops)",
        from.name, to.name, sent.confirmations, to.name
    );
    let deadline = Instant::now() + RECEIVE_TIMEOUT;
    loop {
        let events = to.messenger.poll(&to.profile, now_ms()).await?;
        let got = events
            .iter()
            .any(|e| matches!(e, Event::Message(m) if !m.outgoing && m.body == text));
        if got {
            println!("{} received it.", to.name);
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} did not receive the message within {} s",
            to.name,
            RECEIVE_TIMEOUT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Alice sends Bob a file: encrypted, uploaded to the file server through an onion path, sent as
/// a pointer; Bob fetches it through another path and checks every byte.
async fn send_file(
    alice: &Person,
    bob: &Person,
    files: &sotto_client::files::FileServer,
) -> anyhow::Result<()> {
    let postcard: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let file = sotto_client::messenger::OutgoingFile {
        name: "postcard.bin",
        content_type: "application/octet-stream",
        bytes: &postcard,
    };
    let (_, url) = alice
        .messenger
        .send_attachment(
            &bob.messenger.session_id(),
            files,
            &file,
            Some("A postcard for you."),
            now_ms(),
        )
        .await
        .context("Alice could not send the file")?;
    println!(
        "Alice → Bob: a {}-byte file, encrypted and uploaded through 3 onion hops to {url}",
        postcard.len()
    );
    let deadline = Instant::now() + RECEIVE_TIMEOUT;
    let attachment = loop {
        bob.messenger.poll(&bob.profile, now_ms()).await?;
        if let Some(a) = bob.profile.attachments()?.into_iter().next() {
            break a;
        }
        anyhow::ensure!(Instant::now() < deadline, "Bob did not receive the file");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let fetched = bob.messenger.fetch(files, &attachment).await?;
    anyhow::ensure!(
        fetched == postcard,
        "the file Bob fetched differs from Alice's"
    );
    println!(
        "Bob fetched it through another path and decrypted it: {} bytes, identical.",
        fetched.len()
    );
    Ok(())
}

async fn run(
    sup: &mut Supervisor,
    args: &DemoArgs,
    bins: &Bins,
    dir: &std::path::Path,
    work: &std::path::Path,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(DEFAULT_READY_TIMEOUT_SECS);
    let network_json = bring_up(sup, dir, args.nodes, bins, deadline).await?;
    let network = NetworkConfig::from_json(&network_json)?;
    let mut swarms = std::collections::BTreeMap::<u64, usize>::new();
    for n in &network.nodes {
        if let Some(s) = n.swarm_id {
            *swarms.entry(s).or_default() += 1;
        }
    }
    println!(
        "A network of {} nodes in {} swarm{} ({}) and a registry, on loopback.",
        network.nodes.len(),
        swarms.len(),
        if swarms.len() == 1 { "" } else { "s" },
        swarms
            .iter()
            .map(|(id, n)| format!("{id:016x}: {n} nodes"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let alice = person("Alice", work, &network).await?;
    let bob = person("Bob", work, &network).await?;
    println!("Alice is {}", alice.messenger.session_id());
    println!("Bob   is {}", bob.messenger.session_id());
    println!();
    exchange(
        &alice,
        &bob,
        "Hello Bob! This went through three onion hops.",
    )
    .await?;
    exchange(
        &bob,
        &alice,
        "Hi Alice. No node in between knows we are talking.",
    )
    .await?;
    exchange(
        &alice,
        &bob,
        "And the swarm keeps it until you come online.",
    )
    .await?;

    if let Some(files) = &network.file_server {
        send_file(&alice, &bob, files).await?;
    }

    println!();
    // Alice's client files her own messages from their sync copies (stored in her swarm for
    // her other devices) and Bob's from his: one more poll, and her profile has both sides.
    alice.messenger.poll(&alice.profile, now_ms()).await?;
    println!("The conversation, as Alice's client has it:");
    let mut lines: Vec<(i64, String)> = alice
        .profile
        .conversation(&bob.messenger.session_id().to_string())?
        .into_iter()
        .map(|m| {
            let who = if m.outgoing { "Alice" } else { "Bob  " };
            (m.sent_ms, format!("{who}: {}", m.body))
        })
        .collect();
    lines.sort();
    let start = lines.first().map_or(0, |(t, _)| *t);
    for (t, line) in lines {
        println!("  +{:>5} ms  {line}", t - start);
    }
    println!();
    Ok(())
}
