//! The plaintext a community or file server receives through an onion request, and what it
//! answers: v4 (bencoded, `sogs.md` §1.7) and the deprecated v3 (JSON).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::bencode::{decode_list, encode_list};
use crate::err::{Error, Result};
use crate::frame::{opt_str_field, str_field};

/// HTTP headers as they travel inside onion requests: a JSON object of strings.
pub type Headers = BTreeMap<String, String>;

/// A v4 request: `l<len>:<json><len>:<body>e` with json `{"method","endpoint","headers"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V4Request {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Path and query, starting with `/`.
    pub endpoint: String,
    /// Request headers (X-SOGS auth, Content-Type, …).
    pub headers: Headers,
    /// The body; present for POST and PUT.
    pub body: Option<Vec<u8>>,
}

/// An inner request's endpoint as a URI path for the server's own router: bytes a URI cannot
/// carry (non-ASCII, spaces, controls, and the characters `"`, `<`, `>`, `\`, `^`, backtick,
/// `{`, `|`, `}`) are percent-encoded; everything else, including existing `%XX` escapes and
/// the query, stays as the client sent it. (Session clients put room tokens and file names into
/// endpoints unescaped.)
pub fn endpoint_uri(endpoint: &str) -> String {
    let mut out = String::with_capacity(endpoint.len());
    for &b in endpoint.as_bytes() {
        if b.is_ascii_graphic()
            && !matches!(
                b,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Serialize)]
struct V4Meta<'a> {
    method: &'a str,
    endpoint: &'a str,
    headers: &'a Headers,
}

impl V4Request {
    /// Encode to the bencoded wire form.
    pub fn encode(&self) -> Vec<u8> {
        // Serialising strings and string maps cannot fail.
        let meta = serde_json::to_vec(&V4Meta {
            method: &self.method,
            endpoint: &self.endpoint,
            headers: &self.headers,
        })
        .unwrap_or_default();
        match &self.body {
            Some(body) => encode_list(&[&meta, body]),
            None => encode_list(&[&meta]),
        }
    }

    /// Decode the bencoded wire form, checking what PySOGS checks (1 or 2 parts, `method` and
    /// `endpoint` strings, `endpoint` starting with `/`).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "v4 onion request";
        let (meta, body) = match decode_list(WHAT, bytes)?.as_slice() {
            [meta] => (*meta, None),
            [meta, body] => (*meta, Some(body.to_vec())),
            _ => {
                return Err(Error::Bencode {
                    what: WHAT,
                    reason: "expected 1 or 2 parts",
                })
            }
        };
        let meta = json_object(WHAT, meta)?;
        let endpoint = str_field(WHAT, &meta, "endpoint")?;
        if !endpoint.starts_with('/') {
            return Err(Error::BadField {
                what: WHAT,
                field: "endpoint",
                reason: "must start with /".into(),
            });
        }
        Ok(Self {
            method: str_field(WHAT, &meta, "method")?.to_owned(),
            endpoint: endpoint.to_owned(),
            headers: headers(WHAT, &meta)?,
            body,
        })
    }
}

/// A v4 reply: `l<len>:{"code":n,"headers":{…}}<len>:<body>e`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V4Response {
    /// HTTP status of the inner request.
    pub code: u16,
    /// Response headers (lower-case names, no content-length, as PySOGS sends them).
    pub headers: Headers,
    /// The response body.
    pub body: Vec<u8>,
}

#[derive(Serialize)]
struct V4ResponseMeta<'a> {
    code: u16,
    headers: &'a Headers,
}

impl V4Response {
    /// Encode to the bencoded wire form (always two parts, as PySOGS does).
    pub fn encode(&self) -> Vec<u8> {
        // Serialising a number and a string map cannot fail.
        let meta = serde_json::to_vec(&V4ResponseMeta {
            code: self.code,
            headers: &self.headers,
        })
        .unwrap_or_default();
        encode_list(&[&meta, &self.body])
    }

    /// Decode the bencoded wire form; a missing body part reads as empty (desktop
    /// `onionv4.ts` tolerates it too).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "v4 onion response";
        let (meta, body) = match decode_list(WHAT, bytes)?.as_slice() {
            [meta] => (*meta, Vec::new()),
            [meta, body] => (*meta, body.to_vec()),
            _ => {
                return Err(Error::Bencode {
                    what: WHAT,
                    reason: "expected 1 or 2 parts",
                })
            }
        };
        let meta = json_object(WHAT, meta)?;
        let code = meta
            .get("code")
            .ok_or(Error::MissingField {
                what: WHAT,
                field: "code",
            })?
            .as_u64()
            .and_then(|c| u16::try_from(c).ok())
            .ok_or_else(|| Error::BadField {
                what: WHAT,
                field: "code",
                reason: "expected an HTTP status".into(),
            })?;
        Ok(Self {
            code,
            headers: headers(WHAT, &meta)?,
            body,
        })
    }
}

/// A v3 request (deprecated): the JSON `{"endpoint","method","body","headers"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V3Request {
    /// Path and query; without a leading `/` it names a legacy SOGS v2 endpoint.
    pub endpoint: String,
    /// HTTP method.
    pub method: String,
    /// The body as a string, for POST and PUT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Request headers.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: Headers,
    /// Legacy token, equivalent to an `Authorization` header (`sogs.md` §1.7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_code: Option<String>,
}

impl V3Request {
    /// Encode as JSON.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Decode the JSON form. A `null` body reads as absent.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "v3 onion request";
        let json = json_object(WHAT, bytes)?;
        let body = match json.get("body") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(Error::BadField {
                    what: WHAT,
                    field: "body",
                    reason: "expected a string".into(),
                })
            }
        };
        Ok(Self {
            endpoint: str_field(WHAT, &json, "endpoint")?.to_owned(),
            method: str_field(WHAT, &json, "method")?.to_owned(),
            body,
            headers: headers(WHAT, &json)?,
            auth_code: opt_str_field(WHAT, &json, "auth_code")?.map(str::to_owned),
        })
    }
}

fn json_object(what: &'static str, bytes: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::Json {
            what,
            reason: "expected a JSON object".into(),
        }),
        Err(e) => Err(Error::Json {
            what,
            reason: e.to_string(),
        }),
    }
}

/// The optional `headers` object. Numbers and booleans are accepted as their JSON text, since
/// PySOGS passes whatever JSON scalar it finds on to its HTTP layer.
fn headers(what: &'static str, json: &Map<String, Value>) -> Result<Headers> {
    let bad = |reason: &str| Error::BadField {
        what,
        field: "headers",
        reason: reason.into(),
    };
    match json.get("headers") {
        None | Some(Value::Null) => Ok(Headers::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.to_string())),
                _ => Err(bad("header values must be strings")),
            })
            .collect(),
        Some(_) => Err(bad("expected an object")),
    }
}
