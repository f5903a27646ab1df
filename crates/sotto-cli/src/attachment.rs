//! `sotto attachment encrypt|decrypt`: attachment files as Session clients encrypt them
//! (`client.md` §6).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};
use serde::Serialize;
use sotto_crypto::attachment::{
    decrypt_deterministic, decrypt_legacy, encrypt_deterministic, encrypt_legacy, Domain,
    DETERMINISTIC_PREFIX,
};

use crate::id::JsonFlag;
use crate::output;

/// Which attachment scheme.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Scheme {
    /// AES-256-CBC + HMAC-SHA256 with a random 64-byte key (what clients use by default).
    Legacy,
    /// libsession's deterministic XChaCha20 secretstream scheme (key derived from the file and
    /// the uploader's seed).
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
        /// Deterministic scheme: the uploader's seed (32 hex characters as `sotto id` prints
        /// it, or 64); a random one if absent.
        #[arg(long, value_name = "HEX")]
        seed: Option<String>,
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
        /// The pointer's plaintext size (legacy blobs; deterministic ones carry their length).
        #[arg(long, value_name = "N")]
        size: Option<usize>,
        /// The pointer's digest (hex SHA-256 of the blob).
        #[arg(long, value_name = "HEX")]
        digest: Option<String>,
    },
}

#[derive(Serialize)]
struct EncryptOut {
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    size: usize,
    scheme: &'static str,
}

pub(crate) fn run(cmd: AttachmentCommand) -> anyhow::Result<()> {
    match cmd {
        AttachmentCommand::Encrypt {
            input,
            output: out,
            scheme,
            seed,
            json,
        } => {
            let plaintext = std::fs::read(&input)
                .with_context(|| format!("cannot read {}", input.display()))?;
            let (blob, out_info) = match scheme {
                Scheme::Legacy => {
                    let e = encrypt_legacy(&mut rand_core::OsRng, &plaintext)?;
                    let info = EncryptOut {
                        key: hex::encode(e.key.as_ref()),
                        digest: Some(hex::encode(e.digest)),
                        size: e.size,
                        scheme: "legacy",
                    };
                    (e.blob, info)
                }
                Scheme::Deterministic => {
                    let seed: [u8; 32] = match seed {
                        Some(hex_seed) => *sotto_crypto::Seed::from_hex(&hex_seed)
                            .context("invalid --seed")?
                            .ed25519_seed(),
                        None => {
                            let mut s = [0u8; 32];
                            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut s);
                            s
                        }
                    };
                    let (blob, key) = encrypt_deterministic(&seed, &plaintext, Domain::Attachment)?;
                    let info = EncryptOut {
                        key: hex::encode(key.as_ref()),
                        digest: None,
                        size: plaintext.len(),
                        scheme: "deterministic",
                    };
                    (blob, info)
                }
            };
            std::fs::write(&out, &blob)
                .with_context(|| format!("cannot write {}", out.display()))?;
            output::print(
                json.json,
                &out_info,
                &[
                    ("key", "Key"),
                    ("digest", "Digest"),
                    ("size", "Size"),
                    ("scheme", "Scheme"),
                ],
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
            // Both schemes are accepted: a 32-byte key and an `S` prefix mean deterministic.
            let plaintext = if key.len() == 32 && blob.first() == Some(&DETERMINISTIC_PREFIX) {
                decrypt_deterministic(&blob, &key)?
            } else {
                let size = size.context("--size is required for legacy attachments")?;
                decrypt_legacy(&blob, &key, size, digest.as_deref())?
            };
            std::fs::write(&out, plaintext)
                .with_context(|| format!("cannot write {}", out.display()))?;
            Ok(())
        }
    }
}
