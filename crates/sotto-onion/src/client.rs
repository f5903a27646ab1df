//! A client's side: wrap a request in one layer per hop (`onion.md` §3.3) and decrypt the
//! destination's reply.

use base64::Engine as _;
use rand_core::{CryptoRng, RngCore};
use serde_json::{json, Value};
use sotto_crypto::layer::{x25519_public, EncType, LayerCipher};
use sotto_crypto::{Ed25519PublicKey, X25519PublicKey};
use zeroize::Zeroizing;

use crate::err::{Error, Result};
use crate::frame::build_combined;
use crate::lsrpc::{V3Request, V4Request, V4Response};
use crate::{MAX_BODY_SIZE, MAX_PATH_HOPS, V3_TARGET, V4_TARGET};

/// A service node on a path, or the node a storage request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hop {
    /// Its Ed25519 key: how the previous hop names it.
    pub ed25519: Ed25519PublicKey,
    /// Its X25519 key: what its layer is encrypted to.
    pub x25519: X25519PublicKey,
}

impl Hop {
    /// A node known by its Ed25519 key; the X25519 key is the birational conversion, as nodes
    /// derive theirs.
    pub fn from_ed25519(ed25519: Ed25519PublicKey) -> Result<Self> {
        let x25519 = ed25519.to_x25519().map_err(|source| Error::Crypto {
            what: "node Ed25519 key",
            source,
        })?;
        Ok(Self { ed25519, x25519 })
    }
}

/// `http` or `https`, for requests to external servers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// HTTPS (default port 443).
    #[default]
    Https,
    /// Plain HTTP (default port 80).
    Http,
}

impl Protocol {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Https => "https",
            Self::Http => "http",
        }
    }

    /// The port used when none is given (libsession `builder.cpp`).
    pub fn default_port(self) -> u16 {
        match self {
            Self::Https => 443,
            Self::Http => 80,
        }
    }
}

/// A community, file or push server reached through the last hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Host name or address the last hop connects to.
    pub host: String,
    /// `http` or `https`.
    pub protocol: Protocol,
    /// TCP port; `None` for the protocol's default.
    pub port: Option<u16>,
    /// The server's X25519 key (from the join URL).
    pub x25519: X25519PublicKey,
}

/// A request to an external server, in either onion version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerRequest {
    /// Sent to `/oxen/v4/lsrpc`; the reply is raw encrypted bencode.
    V4(V4Request),
    /// Sent to `/oxen/v3/lsrpc` (deprecated); the reply is base64 text.
    V3(V3Request),
}

/// Where an onion request ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Destination {
    /// A storage RPC on a service node (not on the path).
    Node {
        /// The node.
        node: Hop,
        /// The RPC method, e.g. `retrieve`.
        method: String,
        /// Its parameters.
        params: Value,
    },
    /// An HTTP request to an external server.
    Server {
        /// The server.
        server: Server,
        /// The request.
        request: ServerRequest,
    },
}

/// A built onion request.
#[derive(Debug, Clone)]
pub struct OnionRequest {
    /// The body to POST to the first hop's `/onion_req/v2`.
    pub body: Vec<u8>,
    /// What decrypts the reply.
    pub reply: ReplyKey,
}

/// Wrap a request for `destination` in one layer per hop of `path` (guard first), all with
/// `enc_type` and a fresh ephemeral key each, as libsession's `Builder::build` does.
pub fn build<R: RngCore + CryptoRng>(
    rng: &mut R,
    enc_type: EncType,
    path: &[Hop],
    destination: &Destination,
) -> Result<OnionRequest> {
    if path.is_empty() || path.len() > MAX_PATH_HOPS {
        return Err(Error::PathLength {
            max: MAX_PATH_HOPS,
            actual: path.len(),
        });
    }
    let enc = enc_type.as_str();

    // The destination's layer, and the routing JSON the last hop reads.
    let (secret, eph) = ephemeral(rng);
    let kind = match destination {
        Destination::Node { .. } => ReplyKind::Node,
        Destination::Server {
            request: ServerRequest::V4(_),
            ..
        } => ReplyKind::V4,
        Destination::Server {
            request: ServerRequest::V3(_),
            ..
        } => ReplyKind::V3,
    };
    let reply = ReplyKey::new(kind, enc_type, &secret, &eph, destination_key(destination))?;
    let cipher = &reply.cipher;
    let (mut blob, mut route) = match destination {
        Destination::Node {
            node,
            method,
            params,
        } => {
            let request = json!({ "method": method, "params": params }).to_string();
            let inner = build_combined(request.as_bytes(), &json!({ "headers": "" }))?;
            let route = json!({
                "destination": node.ed25519.to_hex(),
                "ephemeral_key": eph.to_hex(),
                "enc_type": enc,
            });
            (cipher.encrypt(rng, &inner), route)
        }
        Destination::Server { server, request } => {
            if server.host.is_empty() {
                return Err(Error::BadRequest {
                    field: "host",
                    reason: "must not be empty",
                });
            }
            let (payload, target) = match request {
                ServerRequest::V4(r) => {
                    if !r.endpoint.starts_with('/') {
                        return Err(Error::BadRequest {
                            field: "endpoint",
                            reason: "v4 endpoints must start with /",
                        });
                    }
                    (r.encode(), V4_TARGET)
                }
                ServerRequest::V3(r) => (r.encode(), V3_TARGET),
            };
            let route = json!({
                "host": server.host,
                "target": target,
                "method": "POST",
                "protocol": server.protocol.as_str(),
                "port": server.port.unwrap_or(server.protocol.default_port()),
                "ephemeral_key": eph.to_hex(),
                "enc_type": enc,
            });
            (cipher.encrypt(rng, &payload), route)
        }
    };

    // Wrap from the last hop back to the guard; each layer names the hop after it.
    let mut first_key = eph;
    for hop in path.iter().rev() {
        let data = build_combined(&blob, &route)?;
        let (secret, key) = ephemeral(rng);
        blob = LayerCipher::client(enc_type, &secret, &key, &hop.x25519)
            .map_err(|source| Error::Crypto {
                what: "path node X25519 key",
                source,
            })?
            .encrypt(rng, &data);
        route = json!({
            "destination": hop.ed25519.to_hex(),
            "ephemeral_key": key.to_hex(),
            "enc_type": enc,
        });
        first_key = key;
    }
    let body = build_combined(
        &blob,
        &json!({ "ephemeral_key": first_key.to_hex(), "enc_type": enc }),
    )?;
    if body.len() > MAX_BODY_SIZE {
        return Err(Error::TooLarge {
            what: "onion request",
            max: MAX_BODY_SIZE,
            actual: body.len(),
        });
    }
    Ok(OnionRequest { body, reply })
}

/// A fresh ephemeral X25519 key pair.
fn ephemeral<R: RngCore + CryptoRng>(rng: &mut R) -> (Zeroizing<[u8; 32]>, X25519PublicKey) {
    let mut secret = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(secret.as_mut());
    let public = x25519_public(&secret);
    (secret, public)
}

fn destination_key(destination: &Destination) -> &X25519PublicKey {
    match destination {
        Destination::Node { node, .. } => &node.x25519,
        Destination::Server { server, .. } => &server.x25519,
    }
}

/// Which reply format to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReplyKind {
    Node,
    V4,
    V3,
}

/// The key that decrypts the destination's reply: the destination layer's ephemeral key with the
/// destination's public key. It is the only key the reply is encrypted with (`onion.md` §1).
#[derive(Debug, Clone)]
pub struct ReplyKey {
    kind: ReplyKind,
    cipher: LayerCipher,
    /// An xchacha20 request may be answered with aes-gcm by old push servers, so libsession
    /// (`response_parser.cpp`) also tries aes-gcm.
    fallback: Option<LayerCipher>,
}

impl ReplyKey {
    fn new(
        kind: ReplyKind,
        enc_type: EncType,
        secret: &[u8; 32],
        public: &X25519PublicKey,
        destination: &X25519PublicKey,
    ) -> Result<Self> {
        let cipher = |enc| {
            LayerCipher::client(enc, secret, public, destination).map_err(|source| Error::Crypto {
                what: "destination X25519 key",
                source,
            })
        };
        Ok(Self {
            kind,
            cipher: cipher(enc_type)?,
            fallback: match enc_type {
                EncType::XChaCha20 => Some(cipher(EncType::AesGcm)?),
                EncType::AesGcm => None,
            },
        })
    }

    /// Decrypt an encrypted reply blob (`nonce ‖ ciphertext ‖ tag`, not base64).
    pub fn decrypt(&self, blob: &[u8]) -> Result<Vec<u8>> {
        self.cipher
            .decrypt(blob)
            .or_else(|e| match &self.fallback {
                Some(fallback) => fallback.decrypt(blob).map_err(|_| e),
                None => Err(e),
            })
            .map_err(|source| Error::Crypto {
                what: "onion reply",
                source,
            })
    }

    /// Decrypt the guard's answer `(status, body)`. A status other than 200 is the path's own
    /// error ([`Error::PathFailed`]); otherwise the body is the destination's reply: base64 text
    /// for storage RPCs and v3, raw bytes for v4 (either form is accepted for each).
    pub fn decrypt_response(&self, status: u16, body: &[u8]) -> Result<Response> {
        if status != 200 {
            return Err(Error::PathFailed {
                status,
                body: String::from_utf8_lossy(body).into_owned(),
            });
        }
        let plaintext = match self.kind {
            ReplyKind::V4 => self
                .decrypt(body)
                .or_else(|e| base64_decode(body).map_or(Err(e), |b| self.decrypt(&b)))?,
            ReplyKind::Node | ReplyKind::V3 => match base64_decode(body) {
                Some(raw) => self.decrypt(&raw),
                None => self.decrypt(body),
            }?,
        };
        Ok(match self.kind {
            ReplyKind::Node => Response::Node(NodeReply::parse(&plaintext)?),
            ReplyKind::V4 => Response::V4(V4Response::decode(&plaintext)?),
            ReplyKind::V3 => Response::V3(plaintext),
        })
    }
}

fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim_ascii())
        .ok()
}

/// A decrypted reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// A storage RPC's answer.
    Node(NodeReply),
    /// A v4 server answer.
    V4(V4Response),
    /// A v3 server answer: the body on 2xx, else the JSON `{"status_code": n}`.
    V3(Vec<u8>),
}

/// A storage RPC's answer from the destination node: `{"status": n, "body": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeReply {
    /// The RPC's HTTP status (desktop reads `status_code` first, then `status`).
    pub status: u16,
    /// The body: the RPC's text or JSON (serialised) answer.
    pub body: String,
}

impl NodeReply {
    /// Parse the decrypted JSON.
    pub fn parse(plaintext: &[u8]) -> Result<Self> {
        const WHAT: &str = "onion reply";
        let json: serde_json::Map<String, Value> =
            serde_json::from_slice(plaintext).map_err(|e| Error::Json {
                what: WHAT,
                reason: e.to_string(),
            })?;
        let status = ["status_code", "status"]
            .iter()
            .find_map(|k| json.get(*k))
            .ok_or(Error::MissingField {
                what: WHAT,
                field: "status",
            })?
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(|| Error::BadField {
                what: WHAT,
                field: "status",
                reason: "expected an HTTP status".into(),
            })?;
        let body = match json.get("body") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        Ok(Self { status, body })
    }
}
