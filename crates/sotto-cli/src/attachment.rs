//! `sotto attachment encrypt|decrypt`: attachment files as Session clients encrypt them
//! (`client.md` §6).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};
use serde::Serialize;
use sotto_crypto::attachment::{decrypt_legacy, encrypt_legacy};

use crate::id::JsonFlag;
use crate::output;

/// Which attachment scheme.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Scheme {
    /// AES-256-CBC + HMAC-SHA256 with a random 64-byte key (what clients use by default).
    Legacy,
    /// libsession's deterministic XChaCha20 secretstream scheme (not implemented yet).
    Deterministic,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AttachmentCommand {
    /// Encrypt a file for upload; prints the pointer's `key`, `digest` (hex) and `size`.
    Encrypt {
        /// The plaintext file.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Where to write the encrypted blob.
        #[arg(long = "out", value_name = "FILE")]
        output: PathBuf,
        /// The encryption scheme.
        #[arg(long, value_enum, default_value = "legacy")]
        scheme: Scheme,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Decrypt a downloaded blob; refuses a wrong key, MAC or digest.
    Decrypt {
        /// The encrypted blob.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Where to write the plaintext.
        #[arg(long = "out", value_name = "FILE")]
        output: PathBuf,
        /// The pointer's key (hex, 64 bytes).
        #[arg(long, value_name = "HEX")]
        key: String,
        /// The pointer's plaintext size.
        #[arg(long, value_name = "N")]
        size: usize,
        /// The pointer's digest (hex SHA-256 of the blob).
        #[arg(long, value_name = "HEX")]
        digest: Option<String>,
    },
}

#[derive(Serialize)]
struct EncryptOut {
    key: String,
    digest: String,
    size: usize,
}

pub(crate) fn run(cmd: AttachmentCommand) -> anyhow::Result<()> {
    match cmd {
        AttachmentCommand::Encrypt {
            input,
            output: out,
            scheme,
            json,
        } => {
            if matches!(scheme, Scheme::Deterministic) {
                anyhow::bail!("the deterministic attachment scheme is not implemented yet; use --scheme legacy");
            }
            let plaintext = std::fs::read(&input)
                .with_context(|| format!("cannot read {}", input.display()))?;
            let e = encrypt_legacy(&mut rand_core::OsRng, &plaintext)?;
            std::fs::write(&out, &e.blob)
                .with_context(|| format!("cannot write {}", out.display()))?;
            output::print(
                json.json,
                &EncryptOut {
                    key: hex::encode(e.key.as_ref()),
                    digest: hex::encode(e.digest),
                    size: e.size,
                },
                &[("key", "Key"), ("digest", "Digest"), ("size", "Size")],
            )
        }
        AttachmentCommand::Decrypt {
            input,
            output: out,
            key,
            size,
            digest,
        } => {
            let blob = std::fs::read(&input)
                .with_context(|| format!("cannot read {}", input.display()))?;
            let key = hex::decode(key.trim()).context("--key is not hex")?;
            let digest = digest
                .map(|d| hex::decode(d.trim()).context("--digest is not hex"))
                .transpose()?;
            let plaintext = decrypt_legacy(&blob, &key, size, digest.as_deref())?;
            std::fs::write(&out, plaintext)
                .with_context(|| format!("cannot write {}", out.display()))?;
            Ok(())
        }
    }
}
