//! Sending and receiving 1:1 messages through onion paths (`client.md` §3–4).

use std::collections::HashSet;
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::seq::SliceRandom as _;
use rand_core::OsRng;
use serde_json::{json, Value};
use sotto_crypto::{Ed25519PublicKey, Identity, SessionId};
use sotto_message::proto::Content;
use sotto_message::{decode_1to1, encode_1to1};
use sotto_rpc::nodes::NodeInfo;

use crate::err::{Error, Result};
use crate::files::FileServer;
use crate::path::{choose_path, DEFAULT_HOPS};
use crate::profile::{Attachment, Profile, StoredMessage};
use crate::transport::{Direction, Progress, RpcAnswer, RpcClient, Transport};

/// TTL of a conversation message (Session desktop `constants.ts`: 14 days).
pub const MESSAGE_TTL_MS: i64 = 14 * 24 * 3600 * 1000;
/// Swarm members sampled per poll (desktop `RETRIEVE_SNODES_COUNT`).
pub const RETRIEVE_NODES: usize = 2;
/// Paths tried before a request gives up (desktop drops a path after 3 failures).
pub const ATTEMPTS: usize = 3;
/// The namespace of 1:1 messages and sync copies (`client.md` §3.4).
pub const DM_NAMESPACE: i16 = 0;

/// What a successful send reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The storage hash of the stored message.
    pub hash: String,
    /// The envelope timestamp, ms.
    pub timestamp_ms: i64,
    /// How many nodes of the recipient's swarm confirmed it.
    pub confirmations: usize,
}

/// A client for one account over a node list.
#[derive(Debug)]
pub struct Messenger<T> {
    rpc: RpcClient<T>,
    identity: Identity,
    nodes: Mutex<Vec<NodeInfo>>,
    /// The first hops of this client's paths, kept across requests (`onion.md` §2).
    guards: Mutex<Vec<NodeInfo>>,
    display_name: Option<String>,
    /// This account's profile picture: its URL and 32-byte profile key.
    avatar: Option<(String, Vec<u8>)>,
    /// Where file uploads and downloads report their bytes.
    progress: Option<Progress>,
}

/// Guards a client keeps (desktop: 2 guards, one path each).
pub const GUARDS: usize = 2;

/// How a text message is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Disappear this many seconds after sending (Session's "disappear after send"): the TTL
    /// and the receivers' timer.
    pub disappear_after_send: Option<u32>,
}

/// What a poll found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A conversation message (incoming, or a sync copy of one this account sent elsewhere).
    Message(StoredMessage),
    /// The other party read our messages sent at these timestamps.
    Read {
        /// Who read them.
        from: String,
        /// Envelope timestamps of the messages read.
        timestamps: Vec<i64>,
    },
    /// The other party started or stopped typing.
    Typing {
        /// Who.
        from: String,
        /// Started (true) or stopped.
        started: bool,
    },
    /// The other party took back a message.
    Unsent {
        /// Who.
        from: String,
        /// Its envelope timestamp.
        timestamp: i64,
    },
}

/// A file to send as an attachment.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingFile<'a> {
    /// Its name, as the recipient will see it.
    pub name: &'a str,
    /// Its MIME type.
    pub content_type: &'a str,
    /// Its contents.
    pub bytes: &'a [u8],
}

/// TTL of typing indicators (desktop `constants.ts`: 20 s).
pub const TYPING_TTL_MS: i64 = 20_000;

impl<T: Transport> Messenger<T> {
    /// A messenger for `identity` over `nodes`.
    pub fn new(rpc: RpcClient<T>, identity: Identity, nodes: Vec<NodeInfo>) -> Self {
        Self {
            rpc,
            identity,
            nodes: Mutex::new(nodes),
            guards: Mutex::new(Vec::new()),
            display_name: None,
            avatar: None,
            progress: None,
        }
    }

    /// The current guards.
    pub fn guards(&self) -> Vec<NodeInfo> {
        self.guards
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Choose guards: keep the `preferred` ones still in the pool, then add random nodes until
    /// there are [`GUARDS`], each tested first with a direct `get_swarm` (as desktop tests its
    /// guards). Returns the guards' keys, to remember in the profile.
    pub async fn ensure_guards(&self, preferred: &[Ed25519PublicKey]) -> Vec<Ed25519PublicKey> {
        let pool = self.pool();
        let mut guards: Vec<NodeInfo> = preferred
            .iter()
            .filter_map(|k| pool.iter().find(|n| n.ed25519 == *k).cloned())
            .take(GUARDS)
            .collect();
        let mut candidates: Vec<NodeInfo> = pool
            .iter()
            .filter(|n| !guards.iter().any(|g| g.ed25519 == n.ed25519))
            .cloned()
            .collect();
        candidates.shuffle(&mut rand::thread_rng());
        let me = self.session_id().to_string();
        for candidate in candidates {
            if guards.len() >= GUARDS {
                break;
            }
            let test = self
                .rpc
                .direct(&candidate, "get_swarm", json!({ "pubkey": me }))
                .await;
            if matches!(test, Ok(ref a) if a.status == 200) {
                guards.push(candidate);
            } else {
                self.drop_node(&candidate.ed25519);
            }
        }
        let keys = guards.iter().map(|g| g.ed25519).collect();
        *self
            .guards
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = guards;
        keys
    }

    /// A path for a request to `target`: a guard (if any is set and is not the target) first,
    /// then random distinct nodes.
    fn path_for(&self, target: &NodeInfo) -> Result<Vec<NodeInfo>> {
        let pool = self.pool();
        let guard = self
            .guards()
            .into_iter()
            .filter(|g| g.ed25519 != target.ed25519)
            .collect::<Vec<_>>()
            .choose(&mut rand::thread_rng())
            .cloned();
        let Some(guard) = guard else {
            return choose_path(&mut rand::thread_rng(), &pool, DEFAULT_HOPS, Some(target));
        };
        let rest: Vec<NodeInfo> = pool
            .into_iter()
            .filter(|n| n.ed25519 != guard.ed25519)
            .collect();
        let mut path = vec![guard];
        path.extend(choose_path(
            &mut rand::thread_rng(),
            &rest,
            DEFAULT_HOPS - 1,
            Some(target),
        )?);
        Ok(path)
    }

    /// Report the bytes of file uploads and downloads ([`Messenger::upload`],
    /// [`Messenger::download`] and what uses them) to `progress`: an upload's request, a
    /// download's answer.
    pub fn set_progress(&mut self, progress: Option<Progress>) {
        self.progress = progress;
    }

    /// Attach this display name (`LokiProfile.displayName`) to the messages sent.
    pub fn set_display_name(&mut self, name: Option<String>) {
        self.display_name = name;
    }

    /// Attach this profile picture (URL of the encrypted image and its 32-byte profile key) to
    /// the messages sent, as `LokiProfile.profilePicture` and `DataMessage.profileKey`.
    pub fn set_avatar(&mut self, avatar: Option<(String, Vec<u8>)>) {
        self.avatar = avatar;
    }

    /// Encrypt an image with a fresh profile key (AES-256-GCM, `client.md` §6) and upload it;
    /// the URL and key to publish with [`Messenger::set_avatar`].
    pub async fn upload_avatar(
        &self,
        files: &FileServer,
        image: &[u8],
    ) -> Result<(String, Vec<u8>)> {
        let mut key = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut OsRng, &mut key);
        let blob = sotto_crypto::attachment::encrypt_avatar(&mut OsRng, &key, image)?;
        let id = self.upload(files, blob).await?;
        Ok((files.file_url(&id), key.to_vec()))
    }

    /// Download and decrypt a contact's profile picture.
    pub async fn fetch_avatar(&self, files: &FileServer, url: &str, key: &[u8]) -> Result<Vec<u8>> {
        let id = files.id_of(url).ok_or_else(|| {
            Error::Network(format!("{url} is not on the file server {}", files.url))
        })?;
        let blob = self.download(files, id).await?;
        Ok(sotto_crypto::attachment::decrypt_avatar(key, &blob)?)
    }

    /// This account's Session ID.
    pub fn session_id(&self) -> SessionId {
        self.identity.session_id()
    }

    fn pool(&self) -> Vec<NodeInfo> {
        self.nodes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn drop_node(&self, key: &Ed25519PublicKey) {
        self.nodes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|n| n.ed25519 != *key);
        // A guard that failed is replaced at the next `ensure_guards`.
        self.guards
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|n| n.ed25519 != *key);
    }

    /// One RPC to `target` through a fresh 3-hop path, retrying on new paths when a hop fails
    /// (a node a hop names as unknown or unreachable is dropped from the pool first).
    pub async fn request(
        &self,
        target: &NodeInfo,
        method: &str,
        params: Value,
    ) -> Result<RpcAnswer> {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let path = self.path_for(target)?;
            match self.rpc.onion(&path, target, method, params.clone()).await {
                Ok(answer) => return Ok(answer),
                Err(Error::PathFailed {
                    status,
                    body,
                    failed_node: Some(k),
                }) => {
                    self.drop_node(&k);
                    let e = Error::PathFailed {
                        status,
                        body,
                        failed_node: Some(k),
                    };
                    // The destination itself is gone: another path will not help.
                    if k == target.ed25519 {
                        return Err(e);
                    }
                    last = Some(e);
                }
                Err(e @ (Error::PathFailed { .. } | Error::Unreachable { .. })) => {
                    if let Error::Unreachable { node, .. } = &e {
                        self.drop_node(node);
                    }
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(Error::NotEnoughNodes {
            wanted: DEFAULT_HOPS,
            available: 0,
        }))
    }

    /// The swarm of `account`, asked of a random node through a path.
    pub async fn swarm_of(&self, account: &str) -> Result<Vec<NodeInfo>> {
        let mut answer = None;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let target = self.pool().choose(&mut rand::thread_rng()).cloned().ok_or(
                Error::NotEnoughNodes {
                    wanted: DEFAULT_HOPS + 1,
                    available: 0,
                },
            )?;
            match self
                .request(&target, "get_swarm", json!({ "pubkey": account }))
                .await
            {
                Ok(a) => {
                    answer = Some(a);
                    break;
                }
                Err(e @ (Error::PathFailed { .. } | Error::Unreachable { .. })) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        let Some(answer) = answer else {
            return Err(last.unwrap_or(Error::EmptySwarm(account.to_owned())));
        };
        if answer.status != 200 {
            return Err(Error::Rpc {
                status: answer.status,
                body: answer.body,
            });
        }
        parse_swarm(&answer.json().unwrap_or(Value::Null))
    }

    /// Store `data` for `account` on a random member of its swarm, following a `421` to the
    /// swarm it names (once). Returns the store answer.
    async fn store(
        &self,
        account: &str,
        data: String,
        timestamp_ms: i64,
        ttl_ms: i64,
    ) -> Result<Value> {
        let mut swarm = self.swarm_of(account).await?;
        let params = json!({
            "pubkey": account,
            "namespace": DM_NAMESPACE,
            "timestamp": timestamp_ms,
            "ttl": ttl_ms,
            "data": data,
        });
        // Members are tried in random order: a dead member costs one attempt, not the send
        // (Session desktop retries other swarm members too). A 421 replaces the swarm (once).
        let mut moved = false;
        let mut last = None;
        swarm.shuffle(&mut rand::thread_rng());
        let mut queue: std::collections::VecDeque<NodeInfo> = swarm.into();
        while let Some(target) = queue.pop_front() {
            let answer = match self.request(&target, "store", params.clone()).await {
                Ok(a) => a,
                Err(
                    e @ (Error::PathFailed { .. }
                    | Error::Unreachable { .. }
                    | Error::NotEnoughNodes { .. }),
                ) => {
                    tracing::debug!(error = %e, node = %target.ed25519, "store failed; next member");
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            match answer.status {
                200 => {
                    return answer.json().ok_or(Error::Rpc {
                        status: 200,
                        body: answer.body,
                    })
                }
                421 if !moved => {
                    moved = true;
                    let mut fresh = parse_swarm(&answer.json().unwrap_or(Value::Null))?;
                    fresh.shuffle(&mut rand::thread_rng());
                    queue = fresh.into();
                }
                status if status >= 500 => {
                    last = Some(Error::Rpc {
                        status,
                        body: answer.body,
                    });
                }
                status => {
                    return Err(Error::Rpc {
                        status,
                        body: answer.body,
                    })
                }
            }
        }
        Err(last.unwrap_or(Error::EmptySwarm(account.to_owned())))
    }

    /// Send `text` to `to`, then a sync copy to this account's own swarm (best effort).
    pub async fn send(&self, to: &SessionId, text: &str, now_ms: i64) -> Result<Sent> {
        self.send_text(to, text, &TextOptions::default(), now_ms)
            .await
    }

    /// [`Messenger::send`] with options (disappearing timer).
    pub async fn send_text(
        &self,
        to: &SessionId,
        text: &str,
        options: &TextOptions,
        now_ms: i64,
    ) -> Result<Sent> {
        let mut content = Content::text(text);
        if let Some(dm) = content.data_message.as_mut() {
            if self.display_name.is_some() || self.avatar.is_some() {
                dm.profile = Some(sotto_message::proto::LokiProfile {
                    display_name: self.display_name.clone(),
                    profile_picture: self.avatar.as_ref().map(|(url, _)| url.clone()),
                    ..Default::default()
                });
                dm.profile_key = self.avatar.as_ref().map(|(_, key)| key.clone());
            }
        }
        let ttl = match options.disappear_after_send {
            Some(secs) => {
                content.expiration_type =
                    Some(sotto_message::proto::content::ExpirationType::DeleteAfterSend as i32);
                content.expiration_timer = Some(secs);
                (i64::from(secs) * 1000).max(10_000)
            }
            None => MESSAGE_TTL_MS,
        };
        let sent = self.send_content(to, &content, ttl, now_ms).await?;
        let mut sync = content;
        if let Some(dm) = sync.data_message.as_mut() {
            dm.sync_target = Some(to.to_string());
        }
        let me = self.session_id();
        if let Err(e) = self.send_content(&me, &sync, ttl, now_ms).await {
            tracing::warn!(error = %e, "sync copy not stored");
        }
        Ok(sent)
    }

    /// Encrypt `content` to `to` and store it in `to`'s swarm for `ttl_ms`.
    pub async fn send_content(
        &self,
        to: &SessionId,
        content: &Content,
        ttl_ms: i64,
        now_ms: i64,
    ) -> Result<Sent> {
        let ts = u64::try_from(now_ms).unwrap_or(0);
        let data = encode_1to1(&self.identity, to, content, ts, &mut OsRng)?;
        let answer = self.store(&to.to_string(), data, now_ms, ttl_ms).await?;
        let confirmations = answer
            .get("swarm")
            .and_then(Value::as_object)
            .map_or(0, |s| {
                s.values().filter(|e| e.get("hash").is_some()).count()
            });
        let hash = answer
            .get("hash")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(Sent {
            hash,
            timestamp_ms: now_ms,
            confirmations,
        })
    }

    /// A path to an external server: a guard, then random distinct nodes.
    fn server_path(&self) -> Result<Vec<NodeInfo>> {
        let pool = self.pool();
        match self.guards().choose(&mut rand::thread_rng()).cloned() {
            Some(guard) => {
                let rest: Vec<NodeInfo> = pool
                    .into_iter()
                    .filter(|n| n.ed25519 != guard.ed25519)
                    .collect();
                let mut path = vec![guard];
                path.extend(choose_path(
                    &mut rand::thread_rng(),
                    &rest,
                    DEFAULT_HOPS - 1,
                    None,
                )?);
                Ok(path)
            }
            None => choose_path(&mut rand::thread_rng(), &pool, DEFAULT_HOPS, None),
        }
    }

    /// One HTTP request to an external server (a community, the file server) as an onion v4
    /// request through a 3-hop path, retried on new paths when a hop fails (as
    /// [`Messenger::request`]); the server's answer, whatever its status.
    pub async fn server_request(
        &self,
        server: &sotto_onion::client::Server,
        request: sotto_onion::lsrpc::V4Request,
    ) -> Result<sotto_onion::lsrpc::V4Response> {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let path = self.server_path()?;
            match self.rpc.onion_server(&path, server, request.clone()).await {
                Ok(reply) => return Ok(reply),
                Err(e @ (Error::PathFailed { .. } | Error::Unreachable { .. })) => {
                    match &e {
                        Error::PathFailed {
                            failed_node: Some(k),
                            ..
                        } => self.drop_node(k),
                        Error::Unreachable { node, .. } => self.drop_node(node),
                        _ => {}
                    }
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(Error::NotEnoughNodes {
            wanted: DEFAULT_HOPS,
            available: 0,
        }))
    }

    /// Upload an (already encrypted) file through an onion path; its id on the server.
    pub async fn upload(&self, files: &FileServer, blob: Vec<u8>) -> Result<String> {
        let path = self.server_path()?;
        let reply = self
            .rpc
            .onion_server_with_progress(
                &path,
                &files.server,
                FileServer::upload_request(blob),
                self.progress.as_ref().map(|p| p.only(Direction::Upload)),
            )
            .await?;
        if reply.code != 200 {
            return Err(Error::Rpc {
                status: reply.code,
                body: String::from_utf8_lossy(&reply.body).into_owned(),
            });
        }
        let v: Value = serde_json::from_slice(&reply.body).map_err(|e| Error::Rpc {
            status: 200,
            body: format!("file server answer is not JSON: {e}"),
        })?;
        match v.get("id") {
            Some(Value::String(id)) => Ok(id.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(Error::Rpc {
                status: 200,
                body: format!("no id in {v}"),
            }),
        }
    }

    /// Download a file by id through an onion path (still encrypted).
    pub async fn download(&self, files: &FileServer, id: &str) -> Result<Vec<u8>> {
        let path = self.server_path()?;
        let reply = self
            .rpc
            .onion_server_with_progress(
                &path,
                &files.server,
                FileServer::download_request(id),
                self.progress.as_ref().map(|p| p.only(Direction::Download)),
            )
            .await?;
        if reply.code != 200 {
            return Err(Error::Rpc {
                status: reply.code,
                body: String::from_utf8_lossy(&reply.body).into_owned(),
            });
        }
        Ok(reply.body)
    }

    /// Send a file (encrypted the legacy way, as Session clients do by default, then uploaded)
    /// with an optional caption text, and a sync copy.
    pub async fn send_attachment(
        &self,
        to: &SessionId,
        files: &FileServer,
        file: &OutgoingFile<'_>,
        text: Option<&str>,
        now_ms: i64,
    ) -> Result<(Sent, String)> {
        let encrypted = sotto_crypto::attachment::encrypt_legacy(&mut OsRng, file.bytes)?;
        let id = self.upload(files, encrypted.blob).await?;
        let url = files.file_url(&id);
        let pointer = sotto_message::proto::AttachmentPointer {
            deprecated_id: id.parse().unwrap_or(0),
            content_type: Some(file.content_type.to_owned()),
            key: Some(encrypted.key.to_vec()),
            size: u32::try_from(encrypted.size).ok(),
            digest: Some(encrypted.digest.to_vec()),
            file_name: Some(file.name.to_owned()),
            url: Some(url.clone()),
            ..Default::default()
        };
        let mut content = Content::text(text.unwrap_or_default());
        if let Some(dm) = content.data_message.as_mut() {
            if text.is_none() {
                dm.body = None;
            }
            dm.attachments = vec![pointer];
        }
        let sent = self
            .send_content(to, &content, MESSAGE_TTL_MS, now_ms)
            .await?;
        let mut sync = content;
        if let Some(dm) = sync.data_message.as_mut() {
            dm.sync_target = Some(to.to_string());
        }
        let me = self.session_id();
        if let Err(e) = self.send_content(&me, &sync, MESSAGE_TTL_MS, now_ms).await {
            tracing::warn!(error = %e, "sync copy not stored");
        }
        Ok((sent, url))
    }

    /// Fetch and decrypt an attachment (either scheme) from `files`.
    pub async fn fetch(&self, files: &FileServer, attachment: &Attachment) -> Result<Vec<u8>> {
        let id = files.id_of(&attachment.url).ok_or_else(|| {
            Error::Network(format!(
                "{} is not on the file server {}",
                attachment.url, files.url
            ))
        })?;
        let blob = self.download(files, id).await?;
        let plain = if attachment.key.len() == 32 {
            sotto_crypto::attachment::decrypt_deterministic(&blob, &attachment.key)
        } else {
            sotto_crypto::attachment::decrypt_legacy(
                &blob,
                &attachment.key,
                usize::try_from(attachment.size).unwrap_or(usize::MAX),
                attachment.digest.as_deref(),
            )
        };
        Ok(plain?)
    }

    /// Tell `to` we read its messages sent at `timestamps` (a READ receipt).
    pub async fn send_read_receipt(
        &self,
        to: &SessionId,
        timestamps: &[i64],
        now_ms: i64,
    ) -> Result<Sent> {
        let content = Content {
            receipt_message: Some(sotto_message::proto::ReceiptMessage {
                r#type: sotto_message::proto::receipt_message::Type::Read as i32,
                timestamp: timestamps
                    .iter()
                    .filter_map(|t| u64::try_from(*t).ok())
                    .collect(),
            }),
            ..Default::default()
        };
        self.send_content(to, &content, MESSAGE_TTL_MS, now_ms)
            .await
    }

    /// Tell `to` we started or stopped typing.
    pub async fn send_typing(&self, to: &SessionId, started: bool, now_ms: i64) -> Result<Sent> {
        use sotto_message::proto::typing_message::Action;
        let content = Content {
            typing_message: Some(sotto_message::proto::TypingMessage {
                timestamp: u64::try_from(now_ms).unwrap_or(0),
                action: if started {
                    Action::Started
                } else {
                    Action::Stopped
                } as i32,
            }),
            ..Default::default()
        };
        self.send_content(to, &content, TYPING_TTL_MS, now_ms).await
    }

    /// Take back our message to `to` sent at `sent_ms` (an unsend request).
    pub async fn unsend(&self, to: &SessionId, sent_ms: i64, now_ms: i64) -> Result<Sent> {
        let content = Content {
            unsend_request: Some(sotto_message::proto::UnsendRequest {
                timestamp: u64::try_from(sent_ms).unwrap_or(0),
                author: self.session_id().to_string(),
            }),
            ..Default::default()
        };
        self.send_content(to, &content, MESSAGE_TTL_MS, now_ms)
            .await
    }

    /// Poll this account's swarm once: retrieve new messages from [`RETRIEVE_NODES`] random
    /// members (each from where the last poll of that node stopped), drop hashes already seen,
    /// decrypt, and file conversation messages in `profile`. Returns the new ones.
    pub async fn poll(&self, profile: &Profile, now_ms: i64) -> Result<Vec<Event>> {
        self.poll_waiting(profile, now_ms, None).await
    }

    /// [`Messenger::poll`], or with `wait_ms`, Sotto's waiting retrieve (`docs/subscriptions.md`):
    /// one swarm member holds the request until a message arrives (or the wait ends), so a new
    /// message is seen as soon as it is stored. Nodes without the extension answer at once.
    pub async fn poll_waiting(
        &self,
        profile: &Profile,
        now_ms: i64,
        wait_ms: Option<u64>,
    ) -> Result<Vec<Event>> {
        let me = self.session_id().to_string();
        let swarm = self.swarm_of(&me).await?;
        let count = if wait_ms.is_some() { 1 } else { RETRIEVE_NODES };
        // Members in random order: the first `count` that answer are polled (a dead member is
        // skipped, not fatal).
        let mut sample: Vec<NodeInfo> = swarm;
        sample.shuffle(&mut rand::thread_rng());
        let mut fresh = Vec::new();
        let mut any_ok = false;
        let mut last_err = None;
        let mut seen_now: HashSet<String> = HashSet::new();
        let mut answered = 0;
        for node in &sample {
            if answered >= count {
                break;
            }
            let node_key = node.ed25519.to_hex();
            let last_hash = profile
                .last_hash(&node_key, DM_NAMESPACE)?
                .unwrap_or_default();
            let ts = now_ms;
            let sig = self.identity.sign(format!("retrieve{ts}").as_bytes());
            let mut params = json!({
                "pubkey": me,
                "pubkey_ed25519": self.identity.ed25519_public().to_hex(),
                "namespace": DM_NAMESPACE,
                "timestamp": ts,
                "signature": STANDARD.encode(sig),
                "last_hash": last_hash,
            });
            if let (Some(wait), Some(p)) = (wait_ms, params.as_object_mut()) {
                p.insert("sotto_wait_ms".into(), json!(wait));
            }
            let answer = match self.request(node, "retrieve", params).await {
                Ok(a) if a.status == 200 => a,
                Ok(a) => {
                    last_err = Some(Error::Rpc {
                        status: a.status,
                        body: a.body,
                    });
                    continue;
                }
                Err(e) => {
                    last_err = Some(e);
                    continue;
                }
            };
            any_ok = true;
            answered += 1;
            let messages = answer
                .json()
                .and_then(|v| v.get("messages").and_then(Value::as_array).cloned())
                .unwrap_or_default();
            let mut newest = None;
            for m in &messages {
                let (Some(hash), Some(data)) = (
                    m.get("hash").and_then(Value::as_str),
                    m.get("data").and_then(Value::as_str),
                ) else {
                    continue;
                };
                newest = Some(hash.to_owned());
                let expiry = m
                    .get("expiration")
                    .and_then(Value::as_i64)
                    .unwrap_or(now_ms + MESSAGE_TTL_MS);
                if !seen_now.insert(hash.to_owned()) || !profile.mark_seen(hash, expiry)? {
                    continue;
                }
                match decode_1to1(&self.identity, data) {
                    Ok(decoded) => {
                        if let Some(event) = file(profile, &me, hash, decoded, now_ms)? {
                            fresh.push(event);
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, hash, "message not for us or malformed"),
                }
            }
            if let Some(h) = newest {
                profile.set_last_hash(&node_key, DM_NAMESPACE, &h)?;
            }
        }
        profile.prune_seen(now_ms)?;
        profile.expire_messages(now_ms)?;
        match (any_ok, last_err) {
            (false, Some(e)) => Err(e),
            _ => Ok(fresh),
        }
    }
}

/// File one decrypted message in the profile and say what it was.
fn file(
    profile: &Profile,
    me: &str,
    hash: &str,
    decoded: sotto_message::Decoded,
    now_ms: i64,
) -> Result<Option<Event>> {
    let sender = decoded.sender.to_string();
    let sent_ms = i64::try_from(decoded.envelope_timestamp_ms).unwrap_or(i64::MAX);
    let content = decoded.content;
    if let Some(r) = &content.receipt_message {
        let timestamps: Vec<i64> = r
            .timestamp
            .iter()
            .filter_map(|t| i64::try_from(*t).ok())
            .collect();
        profile.mark_read(&sender, &timestamps, now_ms)?;
        return Ok(Some(Event::Read {
            from: sender,
            timestamps,
        }));
    }
    if let Some(t) = &content.typing_message {
        return Ok(Some(Event::Typing {
            from: sender,
            started: t.action == sotto_message::proto::typing_message::Action::Started as i32,
        }));
    }
    if let Some(u) = &content.unsend_request {
        // Only the author may take a message back.
        if u.author != sender {
            return Ok(None);
        }
        let timestamp = i64::try_from(u.timestamp).unwrap_or(i64::MAX);
        profile.unsend(&sender, timestamp)?;
        return Ok(Some(Event::Unsent {
            from: sender,
            timestamp,
        }));
    }
    let Some(dm) = &content.data_message else {
        return Ok(None);
    };
    if let Some(name) = dm.profile.as_ref().and_then(|p| p.display_name.as_deref()) {
        if sender != me {
            profile.add_contact(&sender, Some(name))?;
        }
    }
    let picture = dm
        .profile
        .as_ref()
        .and_then(|p| p.profile_picture.as_deref());
    if let (Some(url), Some(key)) = (picture, dm.profile_key.as_deref()) {
        if sender != me && key.len() == 32 {
            profile.set_contact_avatar(&sender, url, key)?;
        }
    }
    let attachments: Vec<Attachment> = dm
        .attachments
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            Some(Attachment {
                message_hash: hash.to_owned(),
                index: u32::try_from(i).ok()?,
                url: p.url.clone()?,
                key: p.key.clone()?,
                digest: p.digest.clone(),
                size: u64::from(p.size.unwrap_or(0)),
                file_name: p.file_name.clone(),
                content_type: p.content_type.clone(),
            })
        })
        .collect();
    let body = match (dm.body.as_deref(), attachments.is_empty()) {
        (Some(b), _) => b,
        (None, false) => "",
        (None, true) => return Ok(None),
    };
    let (conversation, outgoing) = match &dm.sync_target {
        Some(t) if sender == me => (t.clone(), true),
        _ => (sender.clone(), false),
    };
    let expires_ms = content
        .expiration_timer
        .filter(|&secs| secs > 0)
        .map(|secs| sent_ms.saturating_add(i64::from(secs) * 1000));
    let stored = StoredMessage {
        hash: hash.to_owned(),
        conversation,
        sender,
        body: body.to_owned(),
        sent_ms,
        outgoing,
        expires_ms,
    };
    if !profile.add_message(&stored, now_ms)? {
        return Ok(None);
    }
    for a in &attachments {
        profile.add_attachment(a)?;
    }
    if !stored.outgoing {
        profile.add_contact(&stored.sender, None)?;
    }
    Ok(Some(Event::Message(stored)))
}

/// The members of a `get_swarm` answer (or a 421 body).
pub fn parse_swarm(v: &Value) -> Result<Vec<NodeInfo>> {
    let snodes = v
        .get("snodes")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Rpc {
            status: 200,
            body: format!("no snodes in {v}"),
        })?;
    let mut out = Vec::new();
    for s in snodes {
        let field = |k: &str| s.get(k).and_then(Value::as_str);
        let (Some(ed), Some(x), Some(ip)) =
            (field("pubkey_ed25519"), field("pubkey_x25519"), field("ip"))
        else {
            continue;
        };
        let port = s
            .get("port_https")
            .and_then(Value::as_u64)
            .or_else(|| field("port").and_then(|p| p.parse().ok()))
            .and_then(|p| u16::try_from(p).ok());
        let (Ok(ed25519), Ok(x25519), Ok(ip), Some(storage_port)) =
            (ed.parse(), x.parse(), ip.parse(), port)
        else {
            continue;
        };
        out.push(NodeInfo {
            ed25519,
            x25519,
            ip,
            storage_port,
            swarm_id: None,
        });
    }
    Ok(out)
}
