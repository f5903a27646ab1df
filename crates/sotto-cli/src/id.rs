//! `sotto id …`: identities, recovery phrases and blinded IDs.

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::{mnemonic, BlindingKind, Identity, Seed, X25519PublicKey};

use crate::output;

#[derive(Debug, Subcommand)]
pub(crate) enum IdCommand {
    /// Create a fresh random identity and print its seed, recovery phrase and Session ID.
    New(JsonFlag),
    /// Derive the keys and Session ID of a seed.
    Derive {
        /// The seed: 32 hex characters (or 64 for a legacy seed).
        #[arg(long, value_name = "HEX")]
        seed: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Restore an identity from its 13-word recovery phrase.
    Restore {
        /// The recovery phrase, 13 words separated by spaces.
        #[arg(long, value_name = "WORDS")]
        mnemonic: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show the 15- and 25-blinded IDs a community server with this key sees.
    Blind {
        /// The seed: 32 hex characters (or 64 for a legacy seed).
        #[arg(long, value_name = "HEX")]
        seed: String,
        /// The community server's public key (64 hex characters).
        #[arg(long, value_name = "HEX64")]
        server_pubkey: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

/// `--json`: print one JSON object instead of text.
#[derive(Debug, Args)]
pub(crate) struct JsonFlag {
    /// Print one JSON object on stdout instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Serialize)]
struct IdentityOut {
    seed: String,
    mnemonic: String,
    session_id: String,
    ed25519_pubkey: String,
    x25519_pubkey: String,
}

const IDENTITY_FIELDS: &[(&str, &str)] = &[
    ("session_id", "Session ID"),
    ("mnemonic", "Recovery phrase"),
    ("seed", "Seed"),
    ("ed25519_pubkey", "Ed25519 public key"),
    ("x25519_pubkey", "X25519 public key"),
];

#[derive(Serialize)]
struct BlindOut {
    session_id: String,
    blinded15: String,
    blinded25: String,
}

pub(crate) fn run(cmd: IdCommand) -> anyhow::Result<()> {
    match cmd {
        IdCommand::New(json) => {
            let seed = Seed::generate(&mut rand_core::OsRng);
            print_identity(&seed, json.json)
        }
        IdCommand::Derive { seed, json } => print_identity(&parse_seed(&seed)?, json.json),
        IdCommand::Restore { mnemonic, json } => {
            let seed = mnemonic::phrase_to_seed(&mnemonic).context("invalid recovery phrase")?;
            print_identity(&seed, json.json)
        }
        IdCommand::Blind {
            seed,
            server_pubkey,
            json,
        } => {
            let identity = Identity::from_seed(&parse_seed(&seed)?);
            let server: X25519PublicKey =
                server_pubkey.parse().context("invalid --server-pubkey")?;
            let b15 = BlindedKeyPair::new(&identity, &server, BlindingKind::Blind15)
                .context("cannot blind for this server key")?;
            let b25 = BlindedKeyPair::new(&identity, &server, BlindingKind::Blind25)
                .context("cannot blind for this server key")?;
            let out = BlindOut {
                session_id: identity.session_id().to_string(),
                blinded15: b15.blinded_id().to_string(),
                blinded25: b25.blinded_id().to_string(),
            };
            output::print(
                json.json,
                &out,
                &[
                    ("session_id", "Session ID"),
                    ("blinded15", "15-blinded ID"),
                    ("blinded25", "25-blinded ID"),
                ],
            )
        }
    }
}

/// Parse a `--seed` argument.
pub(crate) fn parse_seed(hex: &str) -> anyhow::Result<Seed> {
    Seed::from_hex(hex).context("invalid --seed")
}

fn print_identity(seed: &Seed, json: bool) -> anyhow::Result<()> {
    let identity = Identity::from_seed(seed);
    let out = IdentityOut {
        seed: seed.to_hex(),
        mnemonic: mnemonic::seed_to_phrase(seed),
        session_id: identity.session_id().to_string(),
        ed25519_pubkey: identity.ed25519_public().to_hex(),
        x25519_pubkey: identity.x25519_public().to_hex(),
    };
    output::print(json, &out, IDENTITY_FIELDS)
}
