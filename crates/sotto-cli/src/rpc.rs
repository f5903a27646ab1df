//! `sotto rpc`: one storage RPC to a node, through a random onion path or directly.

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use rand::seq::SliceRandom as _;
use sotto_client::path::{choose_path, DEFAULT_HOPS};
use sotto_client::transport::{HttpsTransport, RpcClient};
use sotto_crypto::layer::EncType;
use sotto_crypto::Ed25519PublicKey;
use sotto_rpc::nodes::parse_node_list;

/// The layer cipher, by its wire name.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum EncTypeArg {
    /// XChaCha20-Poly1305 (libsession's default).
    Xchacha20,
    /// AES-256-GCM (Session Desktop's).
    #[value(name = "aes-gcm")]
    AesGcm,
}

#[derive(Debug, Args)]
pub(crate) struct RpcArgs {
    /// The node list: the `result` of `get_n_service_nodes`, or a devnet `network.json`.
    #[arg(long, value_name = "FILE")]
    nodes: std::path::PathBuf,
    /// Nodes on the path, the target not counted.
    #[arg(long, default_value_t = DEFAULT_HOPS as u8, value_parser = clap::value_parser!(u8).range(1..=15))]
    hops: u8,
    /// The RPC method, e.g. `store`, `retrieve`, `info`.
    #[arg(long, value_name = "METHOD")]
    method: String,
    /// Its parameters, a JSON object.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    params: String,
    /// The node that runs the RPC (its Ed25519 key); a random listed node if absent.
    #[arg(long, value_name = "ED25519HEX")]
    target: Option<Ed25519PublicKey>,
    /// Send straight to the target, without an onion path (for comparison).
    #[arg(long)]
    direct: bool,
    /// The onion layer cipher.
    #[arg(long, value_enum, default_value = "xchacha20")]
    enc_type: EncTypeArg,
}

pub(crate) fn run(args: RpcArgs) -> anyhow::Result<std::process::ExitCode> {
    let text = std::fs::read_to_string(&args.nodes)
        .with_context(|| format!("cannot read {}", args.nodes.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", args.nodes.display()))?;
    let nodes = parse_node_list(&json).with_context(|| format!("in {}", args.nodes.display()))?;
    let params: serde_json::Value =
        serde_json::from_str(&args.params).context("--params is not JSON")?;
    anyhow::ensure!(params.is_object(), "--params must be a JSON object");

    let mut rng = rand::thread_rng();
    let target = match args.target {
        Some(key) => nodes
            .iter()
            .find(|n| n.ed25519 == key)
            .cloned()
            .ok_or(sotto_client::Error::UnknownNode(key))?,
        None => nodes
            .choose(&mut rng)
            .cloned()
            .context("the node list is empty")?,
    };
    let path = if args.direct {
        Vec::new()
    } else {
        choose_path(&mut rng, &nodes, usize::from(args.hops), Some(&target))?
    };
    let enc_type = match args.enc_type {
        EncTypeArg::Xchacha20 => EncType::XChaCha20,
        EncTypeArg::AesGcm => EncType::AesGcm,
    };
    let client = RpcClient::new(
        HttpsTransport::new(&sotto_https::ClientOptions::default())?,
        enc_type,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let answer = runtime.block_on(async {
        if args.direct {
            client.direct(&target, &args.method, params).await
        } else {
            client.onion(&path, &target, &args.method, params).await
        }
    })?;
    if answer.status == 200 {
        println!("{}", answer.body);
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        eprintln!("sotto: {} {}", answer.status, answer.body);
        Ok(std::process::ExitCode::FAILURE)
    }
}
