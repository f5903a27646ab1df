//! Communities (SOGS servers) from the client side (`sogs.md` §1–2, §4; `client.md` §2.4):
//! join URLs, signed requests (X-SOGS headers, blinded when the server asks for it), posts
//! (padded, signed `Content`) and blinded DMs, sent through onion paths or plain HTTP.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use prost::Message as _;
use rand_core::{OsRng, RngCore as _};
use serde_json::{json, Value};
use sotto_crypto::blinded_dm::{decrypt_from_blinded_sender, encrypt_for_blinded_recipient};
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::sogs_auth::{sign_request, Signer, NONCE_LEN};
use sotto_crypto::{
    BlindedId, BlindingKind, Ed25519PublicKey, Identity, SessionId, X25519PublicKey,
};
use sotto_message::padding::{pad, unpad};
use sotto_message::proto::{Content, DataMessage, LokiProfile};
use sotto_onion::client::{Protocol, Server};
use sotto_onion::lsrpc::{Headers, V4Request, V4Response};

use crate::err::{Error, Result};
use crate::messenger::Messenger;
use crate::transport::Transport;

/// Longest room token (`sogs.md` §1: tokens match `[\w-]{1,64}`).
pub const MAX_ROOM_TOKEN_LEN: usize = 64;
/// The capability a server lists when it requires blinded IDs (`sogs.md` §1.1).
pub const BLIND_CAPABILITY: &str = "blind";
/// The query parameter of a join URL carrying the server key (`sogs.md` §4).
const PUBLIC_KEY_PARAM: &str = "public_key";
/// Messages asked for per request (PySOGS's default and Session desktop's page: 100).
pub const MESSAGES_LIMIT: u32 = 100;
/// A signature's length in a message object.
const SIGNATURE_LEN: usize = 64;

fn bad(why: impl Into<String>) -> Error {
    Error::Community(why.into())
}

/// A community join URL: `http(s)://host[:port]/<room>?public_key=<64 hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityUrl {
    /// The server's base URL, without a trailing `/`.
    pub base_url: String,
    /// The room token.
    pub room: String,
    /// The server's X25519 key.
    pub pubkey: X25519PublicKey,
}

/// Whether `token` is a room token a server can have (`[A-Za-z0-9_-]{1,64}`, `sogs.md` §1).
pub fn valid_room_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_ROOM_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl CommunityUrl {
    /// Parse a join URL; the error says what is wrong with it.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        let (without_query, query) = match url.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (url, None),
        };
        let scheme_end = without_query.find("://").ok_or_else(|| {
            bad(format!(
                "{url}: not a URL (expected http(s)://host/room?public_key=…)"
            ))
        })? + 3;
        let (base, path) = match without_query
            .get(scheme_end..)
            .and_then(|rest| rest.find('/'))
        {
            Some(i) => without_query.split_at(scheme_end + i),
            None => (without_query, ""),
        };
        split_base_url(base).map_err(|why| bad(format!("{url}: {why}")))?;
        let room = path.trim_start_matches('/').trim_end_matches('/');
        if room.is_empty() {
            return Err(bad(format!(
                "{url}: no room in the URL (…/ROOM?public_key=…)"
            )));
        }
        if !valid_room_token(room) {
            return Err(bad(format!(
                "{url}: {room:?} is not a room token (1 to {MAX_ROOM_TOKEN_LEN} of A-Z a-z 0-9 _ -)"
            )));
        }
        let key = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|pair| pair.strip_prefix(PUBLIC_KEY_PARAM)?.strip_prefix('='))
            .ok_or_else(|| {
                bad(format!(
                    "{url}: missing ?{PUBLIC_KEY_PARAM}= (the server key)"
                ))
            })?;
        let pubkey = parse_server_key(key)?;
        Ok(Self {
            base_url: base.to_owned(),
            room: room.to_owned(),
            pubkey,
        })
    }
}

/// A server's base URL (`http://HOST[:PORT]` or `https://…`, an optional trailing `/`) split
/// into what an onion request's last hop needs; the error says what is wrong.
fn split_base_url(url: &str) -> std::result::Result<(Protocol, String, Option<u16>), &'static str> {
    let (protocol, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (Protocol::Https, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (Protocol::Http, rest)
    } else {
        return Err("the URL must start with http:// or https://");
    };
    let host_port = rest.trim_end_matches('/');
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) => (
            h.to_owned(),
            Some(p.parse::<u16>().map_err(|_| "bad port")?),
        ),
        None => (host_port.to_owned(), None),
    };
    if host.is_empty() || host.contains(['/', '?', '#', '@']) {
        return Err("bad host");
    }
    Ok((protocol, host, port))
}

/// A server key as join URLs carry it: 64 hex characters.
pub fn parse_server_key(hex_key: &str) -> Result<X25519PublicKey> {
    if hex_key.len() != 64 {
        return Err(bad(format!(
            "bad {PUBLIC_KEY_PARAM}: 64 hex characters expected, got {}",
            hex_key.len()
        )));
    }
    hex_key
        .parse()
        .map_err(|_| bad(format!("bad {PUBLIC_KEY_PARAM}: not hex")))
}

impl fmt::Display for CommunityUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}?{PUBLIC_KEY_PARAM}={}",
            self.base_url,
            self.room,
            self.pubkey.to_hex()
        )
    }
}

/// A community server: where it is, its key, and whether it wants blinded IDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityServer {
    /// Its base URL, without a trailing `/`.
    pub base_url: String,
    /// How an onion request's last hop reaches it (with its key).
    pub server: Server,
    /// Sign as the `15` blinded ID (the server listed `blind`).
    pub blind: bool,
}

impl CommunityServer {
    /// From a base URL and key.
    pub fn new(base_url: &str, pubkey: X25519PublicKey, blind: bool) -> Result<Self> {
        let (protocol, host, port) =
            split_base_url(base_url).map_err(|why| bad(format!("{base_url}: {why}")))?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            server: Server {
                host,
                protocol,
                port,
                x25519: pubkey,
            },
            blind,
        })
    }

    /// The server's X25519 key.
    pub fn pubkey(&self) -> &X25519PublicKey {
        &self.server.x25519
    }
}

/// How requests reach a community server.
#[derive(Debug)]
pub enum Link<'a, T> {
    /// As onion v4 requests through 3-hop paths (what Session clients do).
    Onion(&'a Messenger<T>),
    /// Plain HTTP straight to the server (local testing: the server sees who asks).
    Direct(&'a reqwest::Client),
}

impl<T: Transport> Link<'_, T> {
    /// Send `request` to `server`; its answer, whatever the status.
    pub async fn send(&self, server: &CommunityServer, request: V4Request) -> Result<V4Response> {
        match self {
            Link::Onion(messenger) => match messenger.server_request(&server.server, request).await
            {
                // No hop named: the last hop or the server refused; a server that cannot
                // decrypt the request (wrong key) answers 400 with an HTML page.
                Err(Error::PathFailed {
                    status,
                    body,
                    failed_node: None,
                }) => Err(bad(format!(
                    "the request did not reach {} through the onion path: {status} {}",
                    server.base_url,
                    body_text(body.as_bytes())
                ))),
                other => other,
            },
            Link::Direct(http) => direct(http, &server.base_url, request).await,
        }
    }
}

async fn direct(http: &reqwest::Client, base_url: &str, request: V4Request) -> Result<V4Response> {
    let url = format!("{base_url}{}", request.endpoint);
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| bad(format!("bad method {}", request.method)))?;
    let mut builder = http.request(method, &url);
    for (k, v) in &request.headers {
        builder = builder.header(k, v);
    }
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    let unreachable = |e: reqwest::Error| bad(format!("cannot reach {url}: {e}"));
    let response = builder.send().await.map_err(unreachable)?;
    let code = response.status().as_u16();
    let headers: Headers = response
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = response.bytes().await.map_err(unreachable)?.to_vec();
    Ok(V4Response {
        code,
        headers,
        body,
    })
}

/// What an answer's body says, on one line and short (a server may answer with an HTML page).
fn body_text(body: &[u8]) -> String {
    /// Characters of a refusal shown.
    const SHOWN: usize = 200;
    let text = String::from_utf8_lossy(body);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(SHOWN).collect()
}

/// The capabilities a server lists (`GET /capabilities`, no authentication).
pub async fn capabilities<T: Transport>(
    link: &Link<'_, T>,
    server: &CommunityServer,
) -> Result<Vec<String>> {
    let request = V4Request {
        method: "GET".into(),
        endpoint: "/capabilities".into(),
        headers: Headers::new(),
        body: None,
    };
    let reply = link.send(server, request).await?;
    if reply.code != 200 {
        return Err(Error::CommunityRefused {
            status: reply.code,
            body: body_text(&reply.body),
        });
    }
    let v: Value = serde_json::from_slice(&reply.body)
        .map_err(|e| bad(format!("capabilities are not JSON: {e}")))?;
    let list = v
        .get("capabilities")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no capabilities list in the server's answer"))?;
    Ok(list
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect())
}

/// One account talking to one community server.
#[derive(Debug)]
pub struct Community<'a, T> {
    link: Link<'a, T>,
    server: CommunityServer,
    identity: &'a Identity,
    blinded: Option<BlindedKeyPair>,
}

/// A post of a room, verified and decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// Its server-wide id.
    pub id: i64,
    /// The room's sequence number at its last change.
    pub seqno: i64,
    /// Who posted it (`15…` blinded or `05…` Session ID).
    pub author: String,
    /// Its text, if it is a text message.
    pub text: Option<String>,
    /// The display name sent with it.
    pub name: Option<String>,
    /// When it was posted, unix seconds.
    pub posted: f64,
}

/// A DM from a community inbox, decrypted.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxDm {
    /// Its id in the server's inbox.
    pub id: i64,
    /// The sender's blinded ID.
    pub from: String,
    /// The sender's real Session ID (the DM proves it).
    pub session_id: String,
    /// Its text, if it is a text message.
    pub text: Option<String>,
    /// The display name sent with it.
    pub name: Option<String>,
    /// When it was posted, unix seconds.
    pub posted: f64,
}

fn unix_secs(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000)
}

impl<'a, T: Transport> Community<'a, T> {
    /// `identity` on `server`, over `link`.
    pub fn new(link: Link<'a, T>, server: CommunityServer, identity: &'a Identity) -> Result<Self> {
        let blinded = if server.blind {
            Some(
                BlindedKeyPair::new(identity, server.pubkey(), BlindingKind::Blind15)
                    .map_err(|e| bad(format!("cannot blind for {}: {e}", server.base_url)))?,
            )
        } else {
            None
        };
        Ok(Self {
            link,
            server,
            identity,
            blinded,
        })
    }

    /// The server.
    pub fn server(&self) -> &CommunityServer {
        &self.server
    }

    /// The ID this account has on the server: its `15` blinded ID, or its Session ID.
    pub fn my_id(&self) -> String {
        match &self.blinded {
            Some(pair) => pair.blinded_id().to_string(),
            None => self.identity.session_id().to_string(),
        }
    }

    /// A request signed with the X-SOGS headers (`sogs.md` §2.1–2.2) at `now_ms`.
    pub fn signed_request(
        &self,
        method: &str,
        endpoint: &str,
        body: Option<Vec<u8>>,
        now_ms: i64,
    ) -> V4Request {
        let (path, query) = endpoint.split_once('?').unwrap_or((endpoint, ""));
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let signer = match &self.blinded {
            Some(pair) => Signer::Blinded(pair),
            None => Signer::Unblinded(self.identity),
        };
        let auth = sign_request(
            signer,
            self.server.pubkey(),
            method,
            path,
            query,
            body.as_deref().unwrap_or_default(),
            &nonce,
            unix_secs(now_ms),
        );
        let mut headers: Headers = auth
            .pairs()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if body.is_some() {
            headers.insert("Content-Type".into(), "application/json".into());
        }
        V4Request {
            method: method.into(),
            endpoint: endpoint.into(),
            headers,
            body,
        }
    }

    /// A signed request; the answer's JSON when its status is one of `ok`.
    async fn call(
        &self,
        method: &str,
        endpoint: &str,
        body: Option<Value>,
        now_ms: i64,
    ) -> Result<(u16, Value)> {
        let body = body.map(|b| b.to_string().into_bytes());
        let request = self.signed_request(method, endpoint, body, now_ms);
        let reply = self.link.send(&self.server, request).await?;
        // 304: nothing new (the inbox's `since`, `sogs.md` §1.6).
        if reply.code == 304 {
            return Ok((reply.code, Value::Null));
        }
        if !(200..300).contains(&reply.code) {
            return Err(Error::CommunityRefused {
                status: reply.code,
                body: body_text(&reply.body),
            });
        }
        if reply.body.is_empty() {
            return Ok((reply.code, Value::Null));
        }
        let v = serde_json::from_slice(&reply.body).map_err(|e| {
            bad(format!(
                "{method} {endpoint}: the answer is not JSON ({e}): {}",
                body_text(&reply.body)
            ))
        })?;
        Ok((reply.code, v))
    }

    /// A room's info (`GET /room/<token>`); a clear error if there is no such room.
    pub async fn room(&self, token: &str, now_ms: i64) -> Result<Value> {
        if !valid_room_token(token) {
            return Err(bad(format!("{token:?} is not a room token")));
        }
        match self
            .call("GET", &format!("/room/{token}"), None, now_ms)
            .await
        {
            Ok((_, v)) => Ok(v),
            Err(Error::CommunityRefused { status: 404, .. }) => Err(bad(format!(
                "no room {token:?} on {} (or it is not open to you)",
                self.server.base_url
            ))),
            Err(e) => Err(e),
        }
    }

    /// Raw message objects of a room: those changed after `since` (a sequence number), or
    /// the most recent ones (newest first, as the server sends them) when `since` is `None`.
    pub async fn messages(
        &self,
        token: &str,
        since: Option<i64>,
        now_ms: i64,
    ) -> Result<Vec<Value>> {
        let endpoint = match since {
            Some(seqno) => format!("/room/{token}/messages/since/{seqno}?limit={MESSAGES_LIMIT}"),
            None => format!("/room/{token}/messages/recent?limit={MESSAGES_LIMIT}"),
        };
        let (_, v) = self.call("GET", &endpoint, None, now_ms).await?;
        match v {
            Value::Array(list) => Ok(list),
            other => Err(bad(format!("messages: expected a list, got {other}"))),
        }
    }

    /// The padded `Content` of a text message with an optional display name.
    fn text_content(text: &str, display_name: Option<&str>) -> Vec<u8> {
        let content = Content {
            data_message: Some(DataMessage {
                body: Some(text.to_owned()),
                profile: display_name.map(|n| LokiProfile {
                    display_name: Some(n.to_owned()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        pad(&content.encode_to_vec())
    }

    /// Sign padded data as a post's signature: with the key the server knows us by.
    fn sign_data(&self, data: &[u8]) -> [u8; SIGNATURE_LEN] {
        match &self.blinded {
            Some(pair) => pair.sign(data),
            None => self.identity.sign(data),
        }
    }

    /// Post a text to a room (`POST /room/<token>/message`); the server's message object.
    pub async fn post(
        &self,
        token: &str,
        text: &str,
        display_name: Option<&str>,
        now_ms: i64,
    ) -> Result<Value> {
        if !valid_room_token(token) {
            return Err(bad(format!("{token:?} is not a room token")));
        }
        let data = Self::text_content(text, display_name);
        let signature = self.sign_data(&data);
        let body = json!({"data": STANDARD.encode(&data), "signature": STANDARD.encode(signature)});
        let (_, v) = self
            .call(
                "POST",
                &format!("/room/{token}/message"),
                Some(body),
                now_ms,
            )
            .await?;
        Ok(v)
    }

    /// Send a blinded DM (`POST /inbox/<blinded id>`): a padded `Content`, encrypted for the
    /// recipient (`client.md` §2.4). The server's answer (`{id, posted_at, …}`).
    pub async fn send_dm(
        &self,
        to: &BlindedId,
        text: &str,
        display_name: Option<&str>,
        now_ms: i64,
    ) -> Result<Value> {
        let data = Self::text_content(text, display_name);
        let sealed = encrypt_for_blinded_recipient(
            self.identity,
            self.server.pubkey(),
            to,
            &data,
            &mut OsRng,
        )
        .map_err(|e| bad(format!("cannot encrypt for {to}: {e}")))?;
        let body = json!({"message": STANDARD.encode(sealed)});
        match self
            .call("POST", &format!("/inbox/{to}"), Some(body), now_ms)
            .await
        {
            Ok((_, v)) => Ok(v),
            Err(Error::CommunityRefused { status: 404, .. }) => Err(bad(format!(
                "{to} is not known on {} (a recipient must have used the server)",
                self.server.base_url
            ))),
            Err(e) => Err(e),
        }
    }

    /// DMs in our inbox after `since` (an inbox id; 0 for all), decrypted; those that do not
    /// open are reported as errors in place.
    pub async fn inbox_since(
        &self,
        since: i64,
        now_ms: i64,
    ) -> Result<Vec<(i64, Result<InboxDm>)>> {
        let (code, v) = self
            .call("GET", &format!("/inbox/since/{since}"), None, now_ms)
            .await?;
        if code == 304 || v.is_null() {
            return Ok(Vec::new());
        }
        let Value::Array(list) = v else {
            return Err(bad(format!("inbox: expected a list, got {v}")));
        };
        Ok(list
            .iter()
            .map(|item| {
                let id = item.get("id").and_then(Value::as_i64).unwrap_or(since);
                (id, open_dm(self.identity, self.server.pubkey(), item))
            })
            .collect())
    }
}

fn field<'v>(v: &'v Value, key: &str) -> Result<&'v Value> {
    v.get(key)
        .ok_or_else(|| bad(format!("message object without {key}")))
}

fn b64_field(v: &Value, key: &str) -> Result<Vec<u8>> {
    let s = field(v, key)?
        .as_str()
        .ok_or_else(|| bad(format!("{key} is not a string")))?;
    STANDARD
        .decode(s)
        .map_err(|_| bad(format!("{key} is not base64")))
}

/// The text and display name of padded `Content` bytes.
fn decode_content(padded: &[u8]) -> Result<(Option<String>, Option<String>)> {
    let content =
        Content::decode(unpad(padded)).map_err(|e| bad(format!("not a Session message: {e}")))?;
    let name = content
        .data_message
        .as_ref()
        .and_then(|d| d.profile.as_ref())
        .and_then(|p| p.display_name.clone());
    Ok((content.body().map(str::to_owned), name))
}

/// Check `signature` over `data` by the author `author` (`15…`/`25…` blinded, or `05…`, whose
/// Ed25519 key is one of two points).
fn verify_author(author: &str, data: &[u8], signature: &[u8; SIGNATURE_LEN]) -> Result<()> {
    const WHAT: &str = "community post";
    let crypto = |e: sotto_crypto::Error| bad(e.to_string());
    if let Ok(blinded) = author.parse::<BlindedId>() {
        return blinded.key().verify(data, signature, WHAT).map_err(crypto);
    }
    let session: SessionId = author
        .parse()
        .map_err(|_| bad(format!("unknown author ID {author}")))?;
    let positive = session.x25519().to_ed25519_positive().map_err(crypto)?;
    let mut negative = positive;
    if let Some(last) = negative.0.last_mut() {
        *last |= 0x80;
    }
    let candidates = [positive, Ed25519PublicKey(negative.0)];
    if candidates
        .iter()
        .any(|k| k.verify(data, signature, WHAT).is_ok())
    {
        Ok(())
    } else {
        Err(crypto(sotto_crypto::Error::BadSignature { what: WHAT }))
    }
}

/// Verify and decode one message object of a room. `None` for entries that carry no post
/// (deletions, reaction-only updates); an error for posts whose data, signature or content
/// is bad.
pub fn decode_post(v: &Value) -> Result<Option<Post>> {
    if !v.is_object() {
        return Err(bad("a message entry is not an object"));
    }
    let id = field(v, "id")?
        .as_i64()
        .ok_or_else(|| bad("message id is not an integer"))?;
    let seqno = v.get("seqno").and_then(Value::as_i64).unwrap_or(0);
    let deleted = v.get("deleted").and_then(Value::as_bool).unwrap_or(false);
    if deleted || v.get("data").is_none_or(Value::is_null) {
        return Ok(None);
    }
    let author = field(v, "session_id")?
        .as_str()
        .ok_or_else(|| bad("session_id is not a string"))?
        .to_owned();
    let data = b64_field(v, "data")?;
    let signature: [u8; SIGNATURE_LEN] = b64_field(v, "signature")?.try_into().map_err(|_| {
        bad(format!(
            "message {id}: the signature is not {SIGNATURE_LEN} bytes"
        ))
    })?;
    verify_author(&author, &data, &signature)
        .map_err(|e| bad(format!("message {id} from {author}: {e}")))?;
    let (text, name) = decode_content(&data).map_err(|e| bad(format!("message {id}: {e}")))?;
    let posted = v.get("posted").and_then(Value::as_f64).unwrap_or(0.0);
    Ok(Some(Post {
        id,
        seqno,
        author,
        text,
        name,
        posted,
    }))
}

/// Open one inbox entry (`{id, posted_at, sender, message}`) sent to `recipient`.
pub fn open_dm(recipient: &Identity, server: &X25519PublicKey, v: &Value) -> Result<InboxDm> {
    let id = field(v, "id")?
        .as_i64()
        .ok_or_else(|| bad("DM id is not an integer"))?;
    let from = field(v, "sender")?
        .as_str()
        .ok_or_else(|| bad("sender is not a string"))?;
    let sender: BlindedId = from
        .parse()
        .map_err(|e| bad(format!("DM {id}: bad sender {from}: {e}")))?;
    let sealed = b64_field(v, "message")?;
    let opened = decrypt_from_blinded_sender(recipient, server, &sender, &sealed)
        .map_err(|e| bad(format!("DM {id} from {from}: {e}")))?;
    let (text, name) =
        decode_content(&opened.plaintext).map_err(|e| bad(format!("DM {id}: {e}")))?;
    Ok(InboxDm {
        id,
        from: from.to_owned(),
        session_id: opened.sender.to_string(),
        text,
        name,
        posted: v.get("posted_at").and_then(Value::as_f64).unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use proptest::prelude::*;

    use super::*;

    const KEY: &str = "a03c7bf1f8f4d3cc8b4a59eaa45b0ce8d1c5ab1a2b3c4d5e6f708192a3b4c5d6";

    proptest! {
        #[test]
        fn join_urls_round_trip(
            https: bool,
            host in "[a-z0-9]{1,12}(\\.[a-z]{2,6}){0,2}",
            port: Option<u16>,
            room in "[A-Za-z0-9_-]{1,64}",
            key: [u8; 32],
        ) {
            let scheme = if https { "https" } else { "http" };
            let base = match port {
                Some(p) => format!("{scheme}://{host}:{p}"),
                None => format!("{scheme}://{host}"),
            };
            let text = format!("{base}/{room}?public_key={}", hex::encode(key));
            let url = CommunityUrl::parse(&text).unwrap();
            prop_assert_eq!(&url.base_url, &base);
            prop_assert_eq!(&url.room, &room);
            prop_assert_eq!(url.pubkey.0, key);
            prop_assert_eq!(url.to_string(), text.clone());
            prop_assert_eq!(CommunityUrl::parse(&url.to_string()).unwrap(), url);
            // The server built from it is reached where the URL says.
            let server = CommunityServer::new(&base, X25519PublicKey(key), true).unwrap();
            prop_assert_eq!(&server.server.host, &host);
            prop_assert_eq!(server.server.port, port);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,200}") {
            let _ = CommunityUrl::parse(&s);
        }
    }

    #[test]
    fn join_url_errors_say_what_is_wrong() {
        let cases = [
            ("lobby?public_key=00", "not a URL"),
            ("ftp://h/lobby?public_key=00", "http:// or https://"),
            ("http://h/lobby", "missing ?public_key="),
            ("http://h/lobby?pubkey=abc", "missing ?public_key="),
            ("http://h/?public_key=x", "no room"),
            ("http://h?public_key=x", "no room"),
            ("http://h/a/b?public_key=x", "not a room token"),
            ("http://h/l%20bby?public_key=x", "not a room token"),
            ("http://h:99999/lobby?public_key=x", "bad port"),
            ("http://h/lobby?public_key=abc", "64 hex characters"),
            (
                "http://h/lobby?public_key=zz3c7bf1f8f4d3cc8b4a59eaa45b0ce8d1c5ab1a2b3c4d5e6f708192a3b4c5d6",
                "not hex",
            ),
        ];
        for (url, why) in cases {
            let err = CommunityUrl::parse(url).unwrap_err().to_string();
            assert!(err.contains(why), "{url}: {err}");
        }
        let long = format!("http://h/{}?public_key={KEY}", "a".repeat(65));
        assert!(CommunityUrl::parse(&long).is_err());
        // Other parameters may come first; a trailing slash after the room is tolerated.
        let url = CommunityUrl::parse(&format!("http://h:8/lobby/?x=1&public_key={KEY}")).unwrap();
        assert_eq!(
            (url.base_url.as_str(), url.room.as_str()),
            ("http://h:8", "lobby")
        );
    }

    fn identity(byte: u8) -> Identity {
        Identity::from_ed25519_seed(&[byte; 32])
    }

    fn server_key() -> X25519PublicKey {
        KEY.parse().unwrap()
    }

    /// A message object as a server returns it, posted by `who` (blinded or not).
    fn posted(who: &Identity, blind: bool, text: &str) -> Value {
        let data = Community::<crate::transport::HttpsTransport>::text_content(text, Some("Ann"));
        let (author, signature) = if blind {
            let pair = BlindedKeyPair::new(who, &server_key(), BlindingKind::Blind15).unwrap();
            (pair.blinded_id().to_string(), pair.sign(&data))
        } else {
            (who.session_id().to_string(), who.sign(&data))
        };
        json!({"id": 7, "seqno": 9, "session_id": author, "posted": 1700000000.5,
            "data": STANDARD.encode(&data), "signature": STANDARD.encode(signature),
            "reactions": {}})
    }

    #[test]
    fn posts_decode_after_their_signature_is_checked() {
        for blind in [true, false] {
            let ann = identity(1);
            let v = posted(&ann, blind, "hello room");
            let post = decode_post(&v).unwrap().unwrap();
            assert_eq!(post.text.as_deref(), Some("hello room"));
            assert_eq!(post.name.as_deref(), Some("Ann"));
            assert_eq!((post.id, post.seqno), (7, 9));
            assert_eq!(post.author, v["session_id"].as_str().unwrap());
            assert!((post.posted - 1_700_000_000.5).abs() < 1e-6);

            // Another author claiming it: the signature fails.
            let mut forged = v.clone();
            forged["session_id"] = json!(if blind {
                BlindedKeyPair::new(&identity(2), &server_key(), BlindingKind::Blind15)
                    .unwrap()
                    .blinded_id()
                    .to_string()
            } else {
                identity(2).session_id().to_string()
            });
            let err = decode_post(&forged).unwrap_err().to_string();
            assert!(err.contains("signature"), "{err}");
        }
    }

    #[test]
    fn bad_posts_are_refused_and_non_posts_skipped() {
        let ann = identity(3);
        let good = posted(&ann, true, "x");
        let mut tampered = good.clone();
        let mut data = STANDARD.decode(good["data"].as_str().unwrap()).unwrap();
        data[3] ^= 1;
        tampered["data"] = json!(STANDARD.encode(&data));
        let mut short_sig = good.clone();
        short_sig["signature"] = json!(STANDARD.encode([0u8; 63]));
        let mut not_b64 = good.clone();
        not_b64["data"] = json!("***");
        let mut bad_author = good.clone();
        bad_author["session_id"] = json!("99abc");
        let mut no_id = good.clone();
        no_id.as_object_mut().unwrap().remove("id");
        for (v, why) in [
            (tampered, "signature"),
            (short_sig, "not 64 bytes"),
            (not_b64, "base64"),
            (bad_author, "unknown author"),
            (no_id, "without id"),
            (json!([1, 2]), "not an object"),
            (json!({"id": "7", "data": "AA=="}), "not an integer"),
        ] {
            let err = decode_post(&v).unwrap_err().to_string();
            assert!(err.contains(why), "{v}: {err}");
        }
        // Signed, but not a Session message.
        let pair = BlindedKeyPair::new(&ann, &server_key(), BlindingKind::Blind15).unwrap();
        let junk = pad(b"\xff\xff\xff");
        let v = json!({"id": 1, "session_id": pair.blinded_id().to_string(),
            "data": STANDARD.encode(&junk), "signature": STANDARD.encode(pair.sign(&junk))});
        let err = decode_post(&v).unwrap_err().to_string();
        assert!(err.contains("not a Session message"), "{err}");
        // Deletions and reaction-only updates carry no post.
        let deleted =
            json!({"id": 1, "session_id": "15aa", "seqno": 4, "data": null, "deleted": true});
        assert_eq!(decode_post(&deleted).unwrap(), None);
        assert_eq!(
            decode_post(&json!({"id": 1, "seqno": 5, "reactions": {}})).unwrap(),
            None
        );
    }

    #[test]
    fn dms_open_for_their_recipient_only() {
        let (ann, bob) = (identity(4), identity(5));
        let server = server_key();
        let bob_id = BlindedKeyPair::new(&bob, &server, BlindingKind::Blind15)
            .unwrap()
            .blinded_id();
        let ann_id = BlindedKeyPair::new(&ann, &server, BlindingKind::Blind15)
            .unwrap()
            .blinded_id();
        let data = Community::<crate::transport::HttpsTransport>::text_content("psst", Some("Ann"));
        let sealed =
            encrypt_for_blinded_recipient(&ann, &server, &bob_id, &data, &mut OsRng).unwrap();
        let entry = json!({"id": 3, "posted_at": 1.5, "expires_at": 2.5, "sender": ann_id.to_string(),
            "recipient": bob_id.to_string(), "message": STANDARD.encode(&sealed)});
        let dm = open_dm(&bob, &server, &entry).unwrap();
        assert_eq!(dm.text.as_deref(), Some("psst"));
        assert_eq!(dm.name.as_deref(), Some("Ann"));
        assert_eq!(dm.session_id, ann.session_id().to_string());
        assert_eq!((dm.id, dm.from.as_str()), (3, ann_id.to_string().as_str()));
        // Someone else cannot open it; a lying sender field fails; garbage fails.
        assert!(open_dm(&identity(6), &server, &entry).is_err());
        let mut liar = entry.clone();
        liar["sender"] = json!(bob_id.to_string());
        assert!(open_dm(&bob, &server, &liar).is_err());
        let mut short = entry.clone();
        short["message"] = json!(STANDARD.encode([0u8; 10]));
        assert!(open_dm(&bob, &server, &short).is_err());
        let mut not_id = entry;
        not_id["sender"] = json!("05zz");
        assert!(open_dm(&bob, &server, &not_id)
            .unwrap_err()
            .to_string()
            .contains("bad sender"));
    }

    #[test]
    fn requests_are_signed_as_the_server_expects() {
        let ann = identity(7);
        let http = reqwest::Client::new();
        for blind in [true, false] {
            let server = CommunityServer::new("http://127.0.0.1:1", server_key(), blind).unwrap();
            let c = Community::<crate::transport::HttpsTransport>::new(
                Link::Direct(&http),
                server,
                &ann,
            )
            .unwrap();
            let now_ms = 1_700_000_000_123;
            let r = c.signed_request("GET", "/room/lobby/messages/recent?limit=100", None, now_ms);
            let header = |k| r.headers.get(k).map(String::as_str);
            let pubkey = header("X-SOGS-Pubkey").unwrap();
            assert_eq!(pubkey.starts_with("15"), blind, "{pubkey}");
            assert_eq!(header("X-SOGS-Timestamp"), Some("1700000000"));
            assert_eq!(c.my_id().starts_with("15"), blind);
            // The server's own parser and verifier accept it (path and query signed apart).
            let parsed = sotto_crypto::sogs_auth::parse_headers(
                header("X-SOGS-Pubkey"),
                header("X-SOGS-Nonce"),
                header("X-SOGS-Timestamp"),
                header("X-SOGS-Signature"),
                false,
            );
            let Ok(Some(parsed)) = parsed else {
                panic!("headers refused");
            };
            parsed
                .verify(
                    &server_key(),
                    "GET",
                    "/room/lobby/messages/recent",
                    "limit=100",
                    b"",
                )
                .unwrap();
            assert!(parsed
                .verify(
                    &server_key(),
                    "GET",
                    "/room/other/messages/recent",
                    "limit=100",
                    b""
                )
                .is_err());
            // Every request has a fresh nonce: the server refuses a replayed one.
            let again =
                c.signed_request("GET", "/room/lobby/messages/recent?limit=100", None, now_ms);
            assert_ne!(
                again.headers.get("X-SOGS-Nonce"),
                r.headers.get("X-SOGS-Nonce")
            );
            let post =
                c.signed_request("POST", "/room/lobby/message", Some(b"{}".to_vec()), now_ms);
            assert_eq!(
                post.headers.get("Content-Type").map(String::as_str),
                Some("application/json")
            );
        }
    }
}
