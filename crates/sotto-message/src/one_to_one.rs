//! The layers of a stored 1:1 message (`client.md` §3.2), in both directions:
//! `Content` → pad → v1 seal → `Envelope` (type 6) → `WebSocketMessage` → base64 storage `data`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use prost::Message as _;
use rand_core::{CryptoRng, RngCore};
use sotto_crypto::{seal, Identity, SessionId};

use crate::err::{Error, Result};
use crate::padding::{pad, unpad};
use crate::proto::WebSocketRequestMessage;
use crate::proto::{envelope, web_socket_message, Content, Envelope, WebSocketMessage};

/// The largest `data` a service node stores, in raw bytes (oxen-storage-server
/// `MAX_MESSAGE_BODY`, `storage-rpc.md`); nothing larger can be a stored message.
pub const MAX_MESSAGE_DATA: usize = 76_800;

/// `Envelope.sourceDevice` as libsession sets it.
const SOURCE_DEVICE: u32 = 1;

/// A decoded 1:1 message.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// Who sent it (from its verified signature).
    pub sender: SessionId,
    /// `Envelope.timestamp`: the sender's sent time, ms since the Unix epoch.
    pub envelope_timestamp_ms: u64,
    /// The message itself.
    pub content: Content,
}

/// Encode `content` from `sender` to `recipient`, sent at `timestamp_ms`, as raw storage bytes.
///
/// Sets `content.sigTimestamp` to `timestamp_ms`, as receivers require, and attaches a decoy
/// `proSig` as libsession does. Fails only if the result exceeds [`MAX_MESSAGE_DATA`].
pub fn encode_1to1_bytes<R: RngCore + CryptoRng>(
    sender: &Identity,
    recipient: &SessionId,
    content: &Content,
    timestamp_ms: u64,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let mut content = content.clone();
    content.sig_timestamp = Some(timestamp_ms);
    let padded = pad(&content.encode_to_vec());
    let sealed = seal::encrypt_for_recipient(sender, recipient.x25519(), &padded, rng);
    let envelope = Envelope {
        r#type: envelope::Type::SessionMessage as i32,
        source: None,
        timestamp: timestamp_ms,
        source_device: Some(SOURCE_DEVICE),
        content: Some(sealed),
        server_timestamp: None,
        // Current libsession always sends a decoy, so Pro and non-Pro messages look alike.
        pro_sig: Some(seal::decoy_pro_signature(rng).to_vec()),
    };
    let wrapper = WebSocketMessage {
        r#type: Some(web_socket_message::Type::Request as i32),
        request: Some(WebSocketRequestMessage {
            verb: Some(String::new()),
            path: Some(String::new()),
            body: Some(envelope.encode_to_vec()),
            request_id: Some(0),
            headers: Vec::new(),
        }),
    };
    let bytes = wrapper.encode_to_vec();
    if bytes.len() > MAX_MESSAGE_DATA {
        return Err(Error::TooLarge {
            actual: bytes.len(),
            max: MAX_MESSAGE_DATA,
        });
    }
    Ok(bytes)
}

/// [`encode_1to1_bytes`], base64-encoded as the storage RPC's `data` field.
pub fn encode_1to1<R: RngCore + CryptoRng>(
    sender: &Identity,
    recipient: &SessionId,
    content: &Content,
    timestamp_ms: u64,
    rng: &mut R,
) -> Result<String> {
    encode_1to1_bytes(sender, recipient, content, timestamp_ms, rng).map(|b| STANDARD.encode(b))
}

/// Decode base64 storage `data` addressed to `recipient`.
pub fn decode_1to1(recipient: &Identity, data: &str) -> Result<Decoded> {
    // Base64 is 4/3 the raw size; refuse before allocating for absurd input.
    if data.len() > MAX_MESSAGE_DATA.div_ceil(3) * 4 {
        return Err(Error::TooLarge {
            actual: data.len() / 4 * 3,
            max: MAX_MESSAGE_DATA,
        });
    }
    let bytes = STANDARD.decode(data.trim()).map_err(|_| Error::Base64)?;
    decode_1to1_bytes(recipient, &bytes)
}

/// Decode raw storage bytes addressed to `recipient`.
///
/// Accepts any of the padding schemes [`unpad`] knows. A non-zero `content.sigTimestamp` must
/// equal the envelope timestamp (Session desktop `ts/receiver/contentMessage.ts` drops the message
/// otherwise); zero or absent is accepted, as older clients did not set it.
pub fn decode_1to1_bytes(recipient: &Identity, data: &[u8]) -> Result<Decoded> {
    if data.len() > MAX_MESSAGE_DATA {
        return Err(Error::TooLarge {
            actual: data.len(),
            max: MAX_MESSAGE_DATA,
        });
    }
    let wrapper = WebSocketMessage::decode(data).map_err(|source| Error::Protobuf {
        what: "WebSocketMessage",
        source,
    })?;
    let body = wrapper
        .request
        .and_then(|r| r.body)
        .ok_or(Error::NoRequestBody)?;
    let envelope = Envelope::decode(body.as_slice()).map_err(|source| Error::Protobuf {
        what: "Envelope",
        source,
    })?;
    if envelope.r#type != envelope::Type::SessionMessage as i32 {
        return Err(Error::WrongEnvelopeType {
            found: envelope.r#type,
        });
    }
    let sealed = envelope.content.as_deref().ok_or(Error::NoContent)?;
    let opened = seal::decrypt_incoming(recipient, sealed).map_err(Error::Crypto)?;
    let content = Content::decode(unpad(&opened.plaintext)).map_err(|source| Error::Protobuf {
        what: "Content",
        source,
    })?;
    if let Some(signed) = content.sig_timestamp.filter(|&t| t != 0) {
        if signed != envelope.timestamp {
            return Err(Error::SigTimestampMismatch {
                signed,
                envelope: envelope.timestamp,
            });
        }
    }
    Ok(Decoded {
        sender: opened.sender,
        envelope_timestamp_ms: envelope.timestamp,
        content,
    })
}
