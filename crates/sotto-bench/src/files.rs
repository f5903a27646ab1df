//! `sotto-bench files`: attachment transfer rates. A registry, N nodes and a file server on
//! loopback; a 1 MB (and a 10 MB) encrypted file is uploaded and downloaded directly over HTTP
//! and through 3-hop onion paths (`sotto-client`), MB/s reported for each.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use serde_json::Value;
use sotto_client::files::FileServer;
use sotto_client::messenger::Messenger;
use sotto_client::transport::{HttpsTransport, RpcClient};
use sotto_crypto::layer::EncType;
use sotto_crypto::{Identity, Seed};
use sotto_rpc::nodes::parse_node_list;
use sotto_testkit::{Process, RegistryNetwork};

#[derive(Debug, clap::Args)]
pub(crate) struct FilesArgs {
    /// Directory of sotto-node, sotto-registry and sotto-fileserver [default: next to this one].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Transfers per size and path.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

pub(crate) async fn bench_files(args: FilesArgs) -> anyhow::Result<()> {
    let dir = match args.bin_dir {
        Some(d) => d,
        None => std::env::current_exe()?
            .parent()
            .context("no parent directory")?
            .to_owned(),
    };
    let net = RegistryNetwork::start(
        &dir.join("sotto-node"),
        &dir.join("sotto-registry"),
        5,
        &[
            "--swarm-min",
            "3",
            "--swarm-ideal",
            "4",
            "--swarm-max",
            "6",
            "--reward-period-secs",
            "0",
        ],
        &["--registry-poll-ms", "500", "--test-interval-ms", "2000"],
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let http = sotto_https::client(&sotto_https::ClientOptions::default())?;
    let list = crate::network::wait_settled(&http, &net.registry_url, 5).await?;
    let nodes = parse_node_list(&list)?;

    let work = tempfile::tempdir()?;
    let fs_bin = dir.join("sotto-fileserver");
    let fs_dir = work.path().join("files");
    let keys = std::process::Command::new(&fs_bin)
        .args(["keys", "--data-dir"])
        .arg(&fs_dir)
        .output()?;
    let keys: Value = serde_json::from_slice(&keys.stdout)?;
    let fs_dir_arg = fs_dir.display().to_string();
    let server = Process::start(
        &fs_bin,
        &["--data-dir", &fs_dir_arg, "--listen", "127.0.0.1:0"],
        "http",
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let url = format!("http://{}", server.addr);
    let files = FileServer::new(
        &url,
        keys.get("pubkey_x25519")
            .and_then(Value::as_str)
            .context("no file server key")?,
    )?;
    let messenger = Messenger::new(
        RpcClient::new(
            HttpsTransport::new(&sotto_https::ClientOptions::default())?,
            EncType::XChaCha20,
        ),
        Identity::from_seed(&Seed::Standard([9; 16])),
        nodes,
    );
    messenger.ensure_guards(&[]).await;
    let plain = reqwest::Client::new();

    println!("| file | path | upload MB/s | download MB/s |\n|---|---|---|---|");
    for size in [1_000_000usize, 9_000_000] {
        let file: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let blob = sotto_crypto::attachment::encrypt_legacy(&mut rand_core::OsRng, &file)?.blob;
        let mb = blob.len() as f64 / 1e6;
        for onion in [false, true] {
            let (mut up, mut down) = (0.0f64, 0.0f64);
            for _ in 0..args.rounds {
                let t = Instant::now();
                let id = if onion {
                    messenger.upload(&files, blob.clone()).await?
                } else {
                    let v: Value = plain
                        .post(format!("{url}/file"))
                        .body(blob.clone())
                        .send()
                        .await?
                        .json()
                        .await?;
                    v.get("id")
                        .and_then(Value::as_str)
                        .context("no id")?
                        .to_owned()
                };
                up += t.elapsed().as_secs_f64();
                let t = Instant::now();
                let got = if onion {
                    messenger.download(&files, &id).await?
                } else {
                    plain
                        .get(format!("{url}/file/{id}"))
                        .send()
                        .await?
                        .bytes()
                        .await?
                        .to_vec()
                };
                down += t.elapsed().as_secs_f64();
                anyhow::ensure!(got == blob, "downloaded bytes differ");
            }
            let rounds = args.rounds as f64;
            println!(
                "| {:.0} MB | {} | {:.1} | {:.1} |",
                mb,
                if onion { "3 onion hops" } else { "direct HTTP" },
                mb * rounds / up,
                mb * rounds / down
            );
        }
    }
    Ok(())
}
