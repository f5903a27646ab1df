//! `sotto msg …`: offline encryption and decryption of 1:1 messages.

use anyhow::Context;
use clap::Subcommand;
use serde::Serialize;
use sotto_crypto::{Identity, SessionId};
use sotto_message::{decode_1to1, encode_1to1, proto::Content};

use crate::id::{parse_seed, JsonFlag};
use crate::output;

#[derive(Debug, Subcommand)]
pub(crate) enum MsgCommand {
    /// Encrypt a text message to a Session ID; prints the base64 storage `data`.
    Encrypt {
        /// The sender's seed: 32 hex characters (or 64 for a legacy seed).
        #[arg(long, value_name = "HEX")]
        seed: String,
        /// The recipient's Session ID (05…).
        #[arg(long, value_name = "SESSION_ID")]
        to: String,
        /// The message text.
        #[arg(long)]
        text: String,
        /// The sent timestamp in milliseconds since the Unix epoch.
        #[arg(long, value_name = "MS")]
        timestamp: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Decrypt base64 storage `data` addressed to this seed's account.
    Decrypt {
        /// The recipient's seed: 32 hex characters (or 64 for a legacy seed).
        #[arg(long, value_name = "HEX")]
        seed: String,
        /// The base64 storage `data` of the message.
        #[arg(long, value_name = "BASE64")]
        data: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Serialize)]
struct EncryptOut {
    data: String,
}

#[derive(Serialize)]
struct DecryptOut {
    sender: String,
    text: String,
    timestamp: u64,
}

pub(crate) fn run(cmd: MsgCommand) -> anyhow::Result<()> {
    match cmd {
        MsgCommand::Encrypt {
            seed,
            to,
            text,
            timestamp,
            json,
        } => {
            let sender = Identity::from_seed(&parse_seed(&seed)?);
            let to: SessionId = to.parse().context("invalid --to")?;
            let timestamp: u64 = timestamp
                .parse()
                .context("invalid --timestamp: expected milliseconds as a whole number")?;
            let data = encode_1to1(
                &sender,
                &to,
                &Content::text(text),
                timestamp,
                &mut rand_core::OsRng,
            )
            .context("cannot encrypt")?;
            output::print(json.json, &EncryptOut { data }, &[("data", "Data")])
        }
        MsgCommand::Decrypt { seed, data, json } => {
            let recipient = Identity::from_seed(&parse_seed(&seed)?);
            let decoded = decode_1to1(&recipient, &data).context("cannot decrypt message")?;
            let text = decoded
                .content
                .data_message
                .as_ref()
                .and_then(|m| m.body.clone())
                .unwrap_or_default();
            let out = DecryptOut {
                sender: decoded.sender.to_string(),
                text,
                timestamp: decoded.envelope_timestamp_ms,
            };
            output::print(
                json.json,
                &out,
                &[
                    ("sender", "From"),
                    ("timestamp", "Sent (ms)"),
                    ("text", "Text"),
                ],
            )
        }
    }
}
