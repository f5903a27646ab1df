//! A service node's side: parse what arrives, peel one layer, classify it (`onion.md` §3.2, §5)
//! and encrypt the answer when this node is the destination.

use rand_core::{CryptoRng, RngCore};
use serde_json::{json, Value};
use sotto_crypto::layer::{x25519_public, EncType, LayerCipher};
use sotto_crypto::{Ed25519PublicKey, X25519PublicKey};
use zeroize::Zeroizing;

use crate::err::{Error, NodeError, Result};
use crate::frame::{build_combined, opt_str_field, parse_field, str_field, Combined};
use crate::{MAX_BODY_SIZE, MAX_ONION_HOPS};

/// Default port of a proxied `https` request (`onion_processing.cpp`).
pub const DEFAULT_PROXY_PORT: u16 = 443;

/// A node's X25519 key pair, which clients encrypt its layers to.
#[derive(Clone)]
pub struct NodeKeys {
    secret: Zeroizing<[u8; 32]>,
    public: X25519PublicKey,
}

impl std::fmt::Debug for NodeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeKeys")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl NodeKeys {
    /// The key pair of an X25519 secret.
    pub fn new(secret: [u8; 32]) -> Self {
        Self {
            public: x25519_public(&secret),
            secret: Zeroizing::new(secret),
        }
    }

    /// The public key.
    pub fn public(&self) -> &X25519PublicKey {
        &self.public
    }

    /// The layer cipher for a client's ephemeral key.
    pub(crate) fn cipher(
        &self,
        enc_type: EncType,
        client: &X25519PublicKey,
    ) -> Result<LayerCipher> {
        LayerCipher::server(enc_type, &self.secret, &self.public, client).map_err(|source| {
            Error::Crypto {
                what: "ephemeral_key",
                source,
            }
        })
    }
}

/// One encrypted layer as a node receives it, from a client (the HTTP body of
/// `/onion_req/v2`) or from the previous hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The ciphertext to decrypt.
    pub ciphertext: Vec<u8>,
    /// The client's ephemeral X25519 key for this layer.
    pub ephemeral_key: X25519PublicKey,
    /// The layer's cipher.
    pub enc_type: EncType,
    /// This node's position: 0 (or a fake start the client chose) at the guard, +1 per relay.
    pub hop_no: u32,
}

impl Layer {
    /// Parse the body a client POSTs to the guard: `N ‖ ciphertext ‖ {"ephemeral_key",
    /// "enc_type"?, "hop_no"?}` (`onion.md` §3.1). Errors are the `413` and
    /// `400 Error parsing onion request: …` answers.
    pub fn from_entry_body(body: &[u8]) -> Result<Self, NodeError> {
        const WHAT: &str = "onion request";
        if body.len() > MAX_BODY_SIZE {
            return Err(NodeError::TooLarge { actual: body.len() });
        }
        let parse = || -> Result<Self> {
            let combined = Combined::parse(WHAT, body)?;
            let json = &combined.json;
            let ephemeral_key = parse_field(
                WHAT,
                "ephemeral_key",
                str_field(WHAT, json, "ephemeral_key")?,
            )?;
            let enc_type = enc_type(WHAT, json)?;
            // A negative fake hop number counts as 0, as oxen-storage-server clamps it.
            let hop_no = match json.get("hop_no") {
                None => 0,
                Some(v) => v
                    .as_i64()
                    .map(|n| u32::try_from(n.max(0)).unwrap_or(u32::MAX))
                    .ok_or_else(|| Error::BadField {
                        what: WHAT,
                        field: "hop_no",
                        reason: "expected an integer".into(),
                    })?,
            };
            Ok(Self {
                ciphertext: combined.blob.to_vec(),
                ephemeral_key,
                enc_type,
                hop_no,
            })
        };
        parse().map_err(NodeError::BadOuter)
    }
}

impl Layer {
    /// The body that carries this layer to the next node over HTTPS: the entry format of
    /// [`Layer::from_entry_body`] with `hop_no`, which the next node reads back. (Upstream relays
    /// over OxenMQ with the same four fields, `onion.md` §5.2.)
    pub fn to_body(&self) -> Result<Vec<u8>> {
        build_combined(
            &self.ciphertext,
            &json!({
                "ephemeral_key": self.ephemeral_key.to_hex(),
                "enc_type": self.enc_type.as_str(),
                "hop_no": self.hop_no,
            }),
        )
    }
}

/// What a decrypted layer asks of the node (`process_inner_request`), without the key to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inner {
    /// This node is the destination: run a storage RPC.
    Final(FinalRequest),
    /// POST to an external server.
    Proxy(ProxyRequest),
    /// Pass the next layer on to another node.
    Relay(RelayRequest),
}

/// A storage RPC for this node (`onion.md` §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalRequest {
    /// The storage-RPC request JSON, `{"method","params"}`.
    pub body: Vec<u8>,
    /// Embed a JSON reply as an object instead of a string (default false).
    pub json: bool,
    /// Base64-encode the encrypted reply (default true).
    pub base64: bool,
}

/// A request to proxy to a community, file or push server (`onion.md` §5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    /// Host name or address.
    pub host: String,
    /// Path on the server; see [`is_target_allowed`].
    pub target: String,
    /// TCP port (default 443).
    pub port: u16,
    /// `https` (default) or `http`; anything else is refused by [`ProxyRequest::url`].
    pub protocol: String,
    /// What to POST: the whole decrypted layer, which the server parses again.
    pub payload: Vec<u8>,
}

impl ProxyRequest {
    /// Whether the protocol and target may be proxied (`request_handler.cpp`).
    pub fn is_allowed(&self) -> bool {
        matches!(self.protocol.as_str(), "http" | "https") && is_target_allowed(&self.target)
    }

    /// The URL to POST to: `protocol://host[:port]/target`, omitting the protocol's default port.
    /// `None` when [`ProxyRequest::is_allowed`] is false.
    pub fn url(&self) -> Option<String> {
        if !self.is_allowed() {
            return None;
        }
        let default_port = if self.protocol == "https" { 443 } else { 80 };
        let mut url = format!("{}://{}", self.protocol, self.host);
        if self.port != default_port {
            url.push_str(&format!(":{}", self.port));
        }
        if !self.target.starts_with('/') {
            url.push('/');
        }
        url.push_str(&self.target);
        Some(url)
    }
}

/// A layer for another node (`onion.md` §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayRequest {
    /// The next node's Ed25519 key.
    pub destination: Ed25519PublicKey,
    /// The ephemeral key of the next layer.
    pub ephemeral_key: X25519PublicKey,
    /// The next layer's cipher (default aes-gcm).
    pub enc_type: EncType,
    /// The next layer's ciphertext.
    pub ciphertext: Vec<u8>,
}

/// Whether a proxy target is allowed: it starts with `/loki/` or `/oxen/`, ends with `/lsrpc`
/// and has no query (`is_onion_url_target_allowed`).
pub fn is_target_allowed(target: &str) -> bool {
    (target.starts_with("/loki/") || target.starts_with("/oxen/"))
        && target.ends_with("/lsrpc")
        && !target.contains('?')
}

/// Classify a decrypted layer, in oxen-storage-server's order: a `headers` key means this node is
/// the destination, else a `host` key means a proxy request, else it is a relay.
pub fn classify(plaintext: &[u8]) -> Result<Inner> {
    const WHAT: &str = "onion layer";
    let Combined { blob, json } = Combined::parse(WHAT, plaintext)?;
    let flag = |field: &'static str, default: bool| match json.get(field) {
        None => Ok(default),
        Some(v) => v.as_bool().ok_or_else(|| Error::BadField {
            what: WHAT,
            field,
            reason: "expected a boolean".into(),
        }),
    };
    if json.contains_key("headers") {
        return Ok(Inner::Final(FinalRequest {
            body: blob.to_vec(),
            json: flag("json", false)?,
            base64: flag("base64", true)?,
        }));
    }
    if json.contains_key("host") {
        let port = match json.get("port") {
            None => DEFAULT_PROXY_PORT,
            Some(v) => v
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| Error::BadField {
                    what: WHAT,
                    field: "port",
                    reason: "expected a port number".into(),
                })?,
        };
        return Ok(Inner::Proxy(ProxyRequest {
            host: str_field(WHAT, &json, "host")?.to_owned(),
            target: str_field(WHAT, &json, "target")?.to_owned(),
            port,
            protocol: opt_str_field(WHAT, &json, "protocol")?
                .unwrap_or("https")
                .to_owned(),
            payload: plaintext.to_vec(),
        }));
    }
    Ok(Inner::Relay(RelayRequest {
        destination: parse_field(WHAT, "destination", str_field(WHAT, &json, "destination")?)?,
        ephemeral_key: parse_field(
            WHAT,
            "ephemeral_key",
            str_field(WHAT, &json, "ephemeral_key")?,
        )?,
        enc_type: enc_type(WHAT, &json)?,
        ciphertext: blob.to_vec(),
    }))
}

/// The optional `enc_type` field (default aes-gcm).
pub(crate) fn enc_type(
    what: &'static str,
    json: &serde_json::Map<String, Value>,
) -> Result<EncType> {
    opt_str_field(what, json, "enc_type")?
        .map(|s| parse_field(what, "enc_type", s))
        .transpose()
        .map(Option::unwrap_or_default)
}

/// The outcome of peeling one layer.
#[derive(Debug, Clone)]
pub enum Peeled {
    /// Send `next` to the node `destination`; pass its `(status, body)` back unchanged.
    Relay {
        /// The next node's Ed25519 key.
        destination: Ed25519PublicKey,
        /// The layer it must peel, with the hop number incremented.
        next: Layer,
    },
    /// Run the storage RPC and answer with [`NodeReplier::wrap`].
    Final {
        /// The request.
        request: FinalRequest,
        /// Encrypts the answer.
        replier: NodeReplier,
    },
    /// POST the payload to the server; pass its `(status, body)` back unchanged. If
    /// [`ProxyRequest::url`] is `None`, answer with [`NodeError::InvalidUrl`].
    Proxy {
        /// The request.
        request: ProxyRequest,
        /// Encrypts the `Invalid url` answer.
        replier: NodeReplier,
    },
}

/// Peel one layer with this node's keys (`process_onion_req`): check the hop limit, decrypt,
/// classify.
pub fn peel(keys: &NodeKeys, layer: &Layer) -> Result<Peeled, NodeError> {
    if layer.hop_no > MAX_ONION_HOPS {
        return Err(NodeError::TooManyHops {
            hop_no: layer.hop_no,
        });
    }
    let cipher = keys
        .cipher(layer.enc_type, &layer.ephemeral_key)
        .map_err(|_| NodeError::InvalidCiphertext)?;
    let plaintext = cipher
        .decrypt(&layer.ciphertext)
        .map_err(|_| NodeError::InvalidCiphertext)?;
    let replier = NodeReplier { cipher };
    match classify(&plaintext) {
        Ok(Inner::Final(request)) => Ok(Peeled::Final { request, replier }),
        Ok(Inner::Proxy(request)) => Ok(Peeled::Proxy { request, replier }),
        Ok(Inner::Relay(relay)) => Ok(Peeled::Relay {
            destination: relay.destination,
            next: Layer {
                ciphertext: relay.ciphertext,
                ephemeral_key: relay.ephemeral_key,
                enc_type: relay.enc_type,
                hop_no: layer.hop_no.saturating_add(1),
            },
        }),
        Err(reason) => Err(NodeError::InvalidJson { replier, reason }),
    }
}

/// The body of a storage-RPC answer: text, or JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyBody {
    /// A plain-text body (errors).
    Text(String),
    /// A JSON body.
    Json(Value),
}

/// Encrypts a node's answer for the client, with the key of the layer it peeled.
#[derive(Debug, Clone)]
pub struct NodeReplier {
    pub(crate) cipher: LayerCipher,
}

impl NodeReplier {
    /// The HTTP 200 body answering a storage RPC (`wrap_proxy_response`): the encrypted
    /// `{"status": status, "body": …}` where a JSON body is embedded as an object if `json`, else
    /// serialised to a string; base64 text if `base64`.
    pub fn wrap<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
        status: u16,
        body: &ReplyBody,
        json: bool,
        base64: bool,
    ) -> Vec<u8> {
        let body = match body {
            ReplyBody::Text(s) => Value::String(s.clone()),
            ReplyBody::Json(v) if json => v.clone(),
            ReplyBody::Json(v) => Value::String(v.to_string()),
        };
        let plaintext = json!({ "status": status, "body": body }).to_string();
        let sealed = self.cipher.encrypt(rng, plaintext.as_bytes());
        if base64 {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .encode(sealed)
                .into_bytes()
        } else {
            sealed
        }
    }

    /// [`NodeReplier::wrap`] with a text body and the default flags, as for the
    /// `Invalid json` and `Invalid url` answers.
    pub(crate) fn wrap_default<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
        status: u16,
        text: &str,
    ) -> Vec<u8> {
        self.wrap(rng, status, &ReplyBody::Text(text.to_owned()), false, true)
    }
}
