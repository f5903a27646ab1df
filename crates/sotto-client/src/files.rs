//! Attachments through the file server (`client.md` §6): upload and download over onion v4
//! requests, so the file server never sees who uploads or fetches.

use serde_json::Value;
use sotto_onion::client::{Protocol, Server};
use sotto_onion::lsrpc::V4Request;

use crate::err::{Error, Result};

/// A file server: where it is and the key its onion requests are encrypted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileServer {
    /// Its base URL, e.g. `http://127.0.0.1:8090` (what attachment URLs start with).
    pub url: String,
    /// How the last hop reaches it.
    pub server: Server,
}

impl FileServer {
    /// From a base URL (`http://HOST[:PORT]` or `https://…`) and the server's X25519 key (hex).
    pub fn new(url: &str, x25519_hex: &str) -> Result<Self> {
        let bad = |why: &str| Error::Network(format!("file server {url}: {why}"));
        let (protocol, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (Protocol::Https, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (Protocol::Http, rest)
        } else {
            return Err(bad("the URL must start with http:// or https://"));
        };
        let host_port = rest.trim_end_matches('/');
        let (host, port) = match host_port.rsplit_once(':') {
            Some((h, p)) => (
                h.to_owned(),
                Some(p.parse::<u16>().map_err(|_| bad("bad port"))?),
            ),
            None => (host_port.to_owned(), None),
        };
        if host.is_empty() || host.contains('/') {
            return Err(bad("bad host"));
        }
        let x25519 = x25519_hex.parse().map_err(|_| bad("bad X25519 key"))?;
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            server: Server {
                host,
                protocol,
                port,
                x25519,
            },
        })
    }

    /// From a network description's `file_server` object: `{"url", "pubkey_x25519"}`.
    pub fn from_json(v: &Value) -> Result<Self> {
        let field = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| Error::Network(format!("file_server: missing {k}")))
        };
        Self::new(field("url")?, field("pubkey_x25519")?)
    }

    /// The URL of a stored file, as `AttachmentPointer.url` carries it.
    pub fn file_url(&self, id: &str) -> String {
        format!("{}/file/{id}", self.url)
    }

    /// The file id in one of this server's URLs.
    pub fn id_of<'a>(&self, url: &'a str) -> Option<&'a str> {
        let rest = url.strip_prefix(&self.url)?.strip_prefix("/file/")?;
        let id = rest.split(['#', '?']).next()?;
        (!id.is_empty()).then_some(id)
    }

    /// The upload request.
    pub(crate) fn upload_request(blob: Vec<u8>) -> V4Request {
        V4Request {
            method: "POST".into(),
            endpoint: "/file".into(),
            headers: [(
                "Content-Type".to_owned(),
                "application/octet-stream".to_owned(),
            )]
            .into(),
            body: Some(blob),
        }
    }

    /// The download request.
    pub(crate) fn download_request(id: &str) -> V4Request {
        V4Request {
            method: "GET".into(),
            endpoint: format!("/file/{id}"),
            headers: Default::default(),
            body: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_and_ids() {
        let key = "11".repeat(32);
        let fs = FileServer::new("http://127.0.0.1:8090/", &key).unwrap();
        assert_eq!(fs.server.port, Some(8090));
        assert_eq!(fs.server.protocol, Protocol::Http);
        assert_eq!(fs.file_url("abc"), "http://127.0.0.1:8090/file/abc");
        assert_eq!(
            fs.id_of("http://127.0.0.1:8090/file/abc#p=00&d"),
            Some("abc")
        );
        assert_eq!(fs.id_of("http://elsewhere/file/abc"), None);
        let tls = FileServer::new("https://files.example", &key).unwrap();
        assert_eq!(
            (tls.server.port, tls.server.host.as_str()),
            (None, "files.example")
        );
        for bad in ["ftp://x", "http://", "http://h:port", "http://h/x"] {
            assert!(FileServer::new(bad, &key).is_err(), "{bad}");
        }
        assert!(FileServer::new("http://h", "zz").is_err());
    }
}
