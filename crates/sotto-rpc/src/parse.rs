//! Parsing `{"method", "params"}` JSON into a [`Request`], with the reference node's rules,
//! order and messages (`client_rpc_endpoints.cpp`, the `load` functions; `request_handler.cpp`,
//! `process_client_req`). Each parser first reads every field's type in alphabetical order, as
//! `load_fields` does, then checks presence and meaning.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::auth::{Auth, LENIENT_BASE64};
use crate::err::{Result, RpcError};
use crate::hash::{is_valid_message_hash, MessageHash};
use crate::ids::{AccountId, Namespace, NamespaceSelector};
use crate::limits::{BATCH_REQUEST_MAX, MAX_MESSAGE_BODY, MAX_MESSAGE_BODY_BASE64};
use crate::params::{at_most_one, check_ms, load_account, require, Params};
use crate::request::{
    Delete, Expire, ExpireMode, GetExpiries, NamespaceOp, Request, Retrieve, Store,
};

impl Request {
    /// Parse a request body `{"method": …, "params": {…}}` (`storage-rpc.md` §1.2). Errors carry
    /// the status and text the reference answers with.
    pub fn parse(body: &[u8]) -> Result<Self> {
        match typed_retrieve(body) {
            Some(params) => Ok(Self::Retrieve(retrieve_from(params.fields()?)?)),
            None => Self::parse_value(body),
        }
    }

    /// [`Request::parse`] through a `serde_json::Value`: every method, every malformed body.
    fn parse_value(body: &[u8]) -> Result<Self> {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| RpcError::new(400, "invalid json"))?;
        let method = value
            .get("method")
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::new(400, "invalid json: no `method` field"))?;
        let params = value
            .get("params")
            .and_then(Value::as_object)
            .ok_or_else(|| RpcError::new(400, "invalid json: no `params` field"))?;
        if !is_known(method) {
            return Err(RpcError::new(400, format!("no method {method}")));
        }
        Self::parse_method(method, params)
    }

    /// Parse one known method's params, as the body of a request or of a batch subrequest (for
    /// which `batch` and `sequence` are refused). An unknown method is `no method <name>`.
    pub fn parse_method(method: &str, params: &Map<String, Value>) -> Result<Self> {
        let p = Params(params);
        Ok(match method {
            "store" => Self::Store(store(p)?),
            "retrieve" => Self::Retrieve(retrieve(p)?),
            "delete" => Self::Delete(delete(p)?),
            "delete_all" => Self::DeleteAll(namespace_op(p, "timestamp")?),
            "delete_before" => Self::DeleteBefore(namespace_op(p, "before")?),
            "expire_all" => Self::ExpireAll(namespace_op(p, "expiry")?),
            "expire" => Self::Expire(expire(p)?),
            "get_expiries" => Self::GetExpiries(get_expiries(p)?),
            "get_swarm" | "get_snodes_for_pubkey" => Self::GetSwarm(get_swarm(p)?),
            "info" => Self::Info,
            "oxend_request" => oxend_request(params)?,
            "batch" => Self::Batch(batch(params)?),
            "sequence" => Self::Sequence(batch(params)?),
            other => return Err(RpcError::new(400, format!("no method {other}"))),
        })
    }
}

/// The methods this crate parses.
fn is_known(method: &str) -> bool {
    matches!(
        method,
        "store"
            | "retrieve"
            | "delete"
            | "delete_all"
            | "delete_before"
            | "expire_all"
            | "expire"
            | "get_expiries"
            | "get_swarm"
            | "get_snodes_for_pubkey"
            | "info"
            | "oxend_request"
            | "batch"
            | "sequence"
    )
}

/// `pubkey` or its old spelling `pubKey`, exactly one (`require_exactly_one_of(…, alias)`).
fn aliased_pubkey<'a>(
    pubkey: Option<&'a str>,
    pub_key: Option<&'a str>,
) -> Result<Option<&'a str>> {
    at_most_one(("pubkey", pubkey), ("pubKey", pub_key))
}

/// Type-check the subaccount fields; subaccount signatures themselves are not supported.
fn subaccount_fields(p: Params<'_>) -> Result<()> {
    p.string("subaccount")?;
    p.string("subaccount_sig")?;
    Ok(())
}

fn store(p: Params<'_>) -> Result<Store> {
    let data = p.string("data")?;
    let expiry = p.timestamp("expiry")?;
    let namespace = p.namespace("namespace")?;
    let pub_key = p.string("pubKey")?;
    let pubkey = p.string("pubkey")?;
    let pubkey_ed25519 = p.string("pubkey_ed25519")?;
    let sig_timestamp = p.timestamp("sig_timestamp")?;
    let signature = p.string("signature")?;
    subaccount_fields(p)?;
    let timestamp = p.stringified_i64("timestamp")?;
    let ttl = p.stringified_u64("ttl")?;

    let timestamp = require("timestamp", timestamp)?;
    let expiry = match (expiry, ttl) {
        (Some(_), Some(_)) => {
            return Err(RpcError::invalid("Cannot specify both 'expiry' and 'ttl'"))
        }
        (Some(e), None) => e,
        (None, Some(ttl)) => timestamp.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
        (None, None) => {
            return Err(RpcError::invalid(
                "Required field 'expiry' or 'ttl' missing",
            ))
        }
    };
    let account = load_account(aliased_pubkey(pubkey, pub_key)?)?;
    let auth = match signature {
        Some(_) => Some(Auth::from_params(&account, pubkey_ed25519, signature)?),
        None => None,
    };
    let data = require("data", data)?;
    let decoded = LENIENT_BASE64
        .decode(data)
        .map_err(|_| RpcError::invalid("Invalid 'data' value: not base64 encoded"))?;
    if data.len() > MAX_MESSAGE_BODY_BASE64 {
        return Err(RpcError::invalid(format!(
            "Message body exceeds maximum allowed length of {MAX_MESSAGE_BODY} bytes"
        )));
    }
    Ok(Store {
        account,
        namespace: namespace.unwrap_or_default(),
        timestamp,
        expiry,
        data: decoded,
        auth,
        sig_timestamp: sig_timestamp.unwrap_or(timestamp),
    })
}

/// The fields `retrieve` reads, each of the right type: the first stage of its parse.
struct RetrieveFields<'a> {
    last_hash_old: Option<&'a str>,
    last_hash: Option<&'a str>,
    max_count: Option<i64>,
    max_size: Option<i64>,
    namespace: Option<Namespace>,
    pub_key: Option<&'a str>,
    pubkey: Option<&'a str>,
    pubkey_ed25519: Option<&'a str>,
    signature: Option<&'a str>,
    timestamp: Option<i64>,
}

fn retrieve(p: Params<'_>) -> Result<Retrieve> {
    let last_hash_old = p.string("lastHash")?;
    let last_hash = p.string("last_hash")?;
    let max_count = p.integer("max_count")?;
    let max_size = p.integer("max_size")?;
    let namespace = p.namespace("namespace")?;
    let pub_key = p.string("pubKey")?;
    let pubkey = p.string("pubkey")?;
    let pubkey_ed25519 = p.string("pubkey_ed25519")?;
    let signature = p.string("signature")?;
    subaccount_fields(p)?;
    let timestamp = p.timestamp("timestamp")?;
    retrieve_from(RetrieveFields {
        last_hash_old,
        last_hash,
        max_count,
        max_size,
        namespace,
        pub_key,
        pubkey,
        pubkey_ed25519,
        signature,
        timestamp,
    })
}

/// A `retrieve` body read straight into typed fields, without a `serde_json::Value` tree: the
/// common case of a poll. Strings are borrowed from the body, so an escaped string, like any
/// field of another type, a duplicate key or a number out of range, fails this reading; the
/// caller then takes the general path, which gives such a body the reference's answer. What
/// this reads successfully the general path reads to the same values (the fields it does not
/// name are ignored by both).
#[derive(serde::Deserialize)]
struct TypedRetrieveBody<'a> {
    #[serde(borrow)]
    method: &'a str,
    #[serde(borrow)]
    params: TypedRetrieveParams<'a>,
}

#[derive(serde::Deserialize)]
struct TypedRetrieveParams<'a> {
    #[serde(rename = "lastHash", borrow)]
    last_hash_old: Option<&'a str>,
    #[serde(borrow)]
    last_hash: Option<&'a str>,
    max_count: Option<i64>,
    max_size: Option<i64>,
    namespace: Option<i16>,
    #[serde(rename = "pubKey", borrow)]
    pub_key: Option<&'a str>,
    #[serde(borrow)]
    pubkey: Option<&'a str>,
    #[serde(borrow)]
    pubkey_ed25519: Option<&'a str>,
    #[serde(borrow)]
    signature: Option<&'a str>,
    // Read only for their type, as `subaccount_fields` does.
    #[serde(borrow)]
    subaccount: Option<&'a str>,
    #[serde(borrow)]
    subaccount_sig: Option<&'a str>,
    /// Unsigned, as `Params::timestamp` reads it: a negative value is not taken here.
    timestamp: Option<u64>,
}

impl<'a> TypedRetrieveParams<'a> {
    /// The fields, with the one check the general path makes while reading types: a
    /// timestamp given in seconds.
    fn fields(&self) -> Result<RetrieveFields<'a>> {
        let _ = (self.subaccount, self.subaccount_sig);
        let timestamp = match self.timestamp {
            Some(ms) => Some(check_ms(
                "timestamp",
                i64::try_from(ms).unwrap_or(i64::MIN),
            )?),
            None => None,
        };
        Ok(RetrieveFields {
            last_hash_old: self.last_hash_old,
            last_hash: self.last_hash,
            max_count: self.max_count,
            max_size: self.max_size,
            namespace: self.namespace.map(Namespace),
            pub_key: self.pub_key,
            pubkey: self.pubkey,
            pubkey_ed25519: self.pubkey_ed25519,
            signature: self.signature,
            timestamp,
        })
    }
}

/// The typed fields of a `retrieve` body, or `None` for anything the general path must read.
fn typed_retrieve(body: &[u8]) -> Option<TypedRetrieveParams<'_>> {
    // Other methods (stores above all) skip the attempt: it would fail on their fields.
    const METHOD: &[u8] = b"\"retrieve\"";
    if !body.windows(METHOD.len()).any(|w| w == METHOD) {
        return None;
    }
    let typed: TypedRetrieveBody<'_> = serde_json::from_slice(body).ok()?;
    (typed.method == "retrieve").then_some(typed.params)
}

/// The second stage of `retrieve`'s parse: presence and meaning of the typed fields.
fn retrieve_from(f: RetrieveFields<'_>) -> Result<Retrieve> {
    let RetrieveFields {
        last_hash_old,
        last_hash,
        max_count,
        max_size,
        namespace,
        pub_key,
        pubkey,
        pubkey_ed25519,
        signature,
        timestamp,
    } = f;
    let pk = aliased_pubkey(pubkey, pub_key)?;
    // Auth is read whenever any part of it is given or an explicit namespace needs it; an
    // absent namespace (0) without auth is left for `check` to refuse with 401.
    let wants_auth = pubkey_ed25519.is_some()
        || signature.is_some()
        || timestamp.is_some()
        || namespace.is_some_and(|ns| !ns.is_no_auth_retrieve());
    let account = load_account(pk)?;
    let auth = if wants_auth {
        let auth = Auth::from_params(&account, pubkey_ed25519, signature)?;
        // The reference dereferences the absent timestamp regardless (undefined behaviour, in
        // practice the epoch and a 406); we name the missing field instead.
        Some((auth, require("timestamp", timestamp)?))
    } else {
        None
    };

    let last_hash = match at_most_one(("last_hash", last_hash), ("lastHash", last_hash_old))? {
        None | Some("") => None,
        Some(h) if h.len() == 43 => Some(
            h.parse::<MessageHash>()
                .map_err(|_| RpcError::invalid("Invalid last_hash: not base64"))?,
        ),
        Some(_) => {
            return Err(RpcError::invalid(
                "Invalid last_hash: expected base64 (43 chars)",
            ))
        }
    };
    Ok(Retrieve {
        account,
        namespace: namespace.unwrap_or_default(),
        last_hash,
        max_count: max_count.and_then(|c| u64::try_from(c).ok()).unwrap_or(0),
        max_size: max_size.unwrap_or(0),
        auth,
    })
}

/// Read `pubkey`, `pubkey_ed25519` and `signature` of a signed-only method.
fn signed(
    pubkey: Option<&str>,
    pubkey_ed25519: Option<&str>,
    signature: Option<&str>,
) -> Result<(AccountId, Auth)> {
    let account = load_account(pubkey)?;
    let auth = Auth::from_params(&account, pubkey_ed25519, signature)?;
    Ok((account, auth))
}

/// A non-empty `messages` list.
fn messages(messages: Option<Vec<String>>) -> Result<Vec<String>> {
    let messages = require("messages", messages)?;
    if messages.is_empty() {
        return Err(RpcError::invalid(
            "messages does not contain any message hashes",
        ));
    }
    Ok(messages)
}

/// Every hash has the 43-character form.
fn valid_hashes(messages: &[String]) -> Result<()> {
    match messages.iter().find(|m| !is_valid_message_hash(m)) {
        Some(bad) => Err(RpcError::invalid(format!("invalid message hash: {bad}"))),
        None => Ok(()),
    }
}

fn delete(p: Params<'_>) -> Result<Delete> {
    let msgs = p.strings("messages")?;
    let pubkey = p.string("pubkey")?;
    let pubkey_ed25519 = p.string("pubkey_ed25519")?;
    let required = p.bool("required")?;
    let signature = p.string("signature")?;
    subaccount_fields(p)?;

    let (account, auth) = signed(pubkey, pubkey_ed25519, signature)?;
    let messages = messages(msgs)?;
    valid_hashes(&messages)?;
    Ok(Delete {
        account,
        auth,
        messages,
        required: required.unwrap_or(false),
    })
}

/// `delete_all` (`timestamp`), `delete_before` (`before`), `expire_all` (`expiry`).
fn namespace_op(p: Params<'_>, time_field: &str) -> Result<NamespaceOp> {
    // `before` and `expiry` sort before `namespace`, `timestamp` after `subaccount_sig`.
    let early = time_field != "timestamp";
    let time = if early {
        p.timestamp(time_field)?
    } else {
        None
    };
    let namespace = p.namespace_or_all("namespace")?;
    let pubkey = p.string("pubkey")?;
    let pubkey_ed25519 = p.string("pubkey_ed25519")?;
    let signature = p.string("signature")?;
    subaccount_fields(p)?;
    let time = if early {
        time
    } else {
        p.timestamp(time_field)?
    };

    let (account, auth) = signed(pubkey, pubkey_ed25519, signature)?;
    Ok(NamespaceOp {
        account,
        auth,
        namespace: namespace.unwrap_or(NamespaceSelector::default()),
        time: require(time_field, time)?,
    })
}

fn expire(p: Params<'_>) -> Result<Expire> {
    let expiry = p.timestamps("expiry")?;
    let extend = p.bool("extend")?;
    let msgs = p.strings("messages")?;
    let pubkey = p.string("pubkey")?;
    let pubkey_ed25519 = p.string("pubkey_ed25519")?;
    let shorten = p.bool("shorten")?;
    let signature = p.string("signature")?;
    subaccount_fields(p)?;

    let (account, auth) = signed(pubkey, pubkey_ed25519, signature)?;
    let expiries = require("expiry", expiry)?;
    let Some((&first, rest)) = expiries.split_first() else {
        return Err(RpcError::invalid(
            "'expiry' does not contain any expiration timestamps",
        ));
    };
    let mode = match (shorten.unwrap_or(false), extend.unwrap_or(false)) {
        (true, true) => {
            return Err(RpcError::invalid(
                "cannot specify both 'shorten' and 'extend'",
            ))
        }
        (true, false) => ExpireMode::Shorten,
        (false, true) => ExpireMode::Extend,
        (false, false) => ExpireMode::Set,
    };
    let messages = messages(msgs)?;
    if expiries.len() > 1 && expiries.len() != messages.len() {
        return Err(RpcError::invalid(
            "'expiry' must be a single expiry, or the same length as 'messages'",
        ));
    }
    valid_hashes(&messages)?;
    Ok(Expire {
        account,
        auth,
        messages,
        expiry: first,
        more_expiries: rest.to_vec(),
        mode,
    })
}

fn get_expiries(p: Params<'_>) -> Result<GetExpiries> {
    let msgs = p.strings("messages")?;
    let pubkey = p.string("pubkey")?;
    let pubkey_ed25519 = p.string("pubkey_ed25519")?;
    let signature = p.string("signature")?;
    subaccount_fields(p)?;
    let timestamp = p.timestamp("timestamp")?;

    let (account, auth) = signed(pubkey, pubkey_ed25519, signature)?;
    let timestamp = require("timestamp", timestamp)?;
    Ok(GetExpiries {
        account,
        auth,
        messages: messages(msgs)?,
        timestamp,
    })
}

fn get_swarm(p: Params<'_>) -> Result<AccountId> {
    let pub_key = p.string("pubKey")?;
    let pubkey = p.string("pubkey")?;
    let pk = require("pubkey", aliased_pubkey(pubkey, pub_key)?)?;
    // get_swarm words the length error differently from the other methods.
    AccountId::from_param(pk)
        .map_err(|_| RpcError::invalid("Pubkey must be 66 hex digits/33 bytes long"))
}

/// `oxend_request`: `{"endpoint": "get_service_nodes", "params": {"fields": {…}, …} | null}`.
/// Other endpoints are `400 invalid request: Invalid oxend endpoint '<e>'`, as upstream; ONS
/// (`ons_resolve`) has no registry behind it here and is refused the same way.
fn oxend_request(params: &Map<String, Value>) -> Result<Request> {
    let endpoint = match params.get("endpoint") {
        Some(Value::String(e)) => e.as_str(),
        Some(_) => return Err(RpcError::invalid("endpoint: expected a string")),
        None => return Err(RpcError::invalid("Required field 'endpoint' missing")),
    };
    if !matches!(endpoint, "get_service_nodes" | "get_n_service_nodes") {
        return Err(RpcError::invalid(format!(
            "Invalid oxend endpoint '{endpoint}'"
        )));
    }
    let fields = match params.get("params").and_then(|p| p.get("fields")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(f)) => f
            .iter()
            .filter(|(_, wanted)| wanted.as_bool() == Some(true))
            .map(|(name, _)| name.clone())
            .collect(),
        Some(_) => return Err(RpcError::invalid("params.fields: expected an object")),
    };
    Ok(Request::GetServiceNodes { fields })
}

/// `batch` and `sequence`: 1–20 subrequests, none of them a batch or sequence.
fn batch(params: &Map<String, Value>) -> Result<Vec<Request>> {
    let requests = params
        .get("requests")
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| RpcError::invalid("Invalid batch request: no valid \"requests\" field"))?;
    if requests.len() > BATCH_REQUEST_MAX {
        return Err(RpcError::invalid(
            "Invalid batch request: subrequest limit exceeded",
        ));
    }
    requests
        .iter()
        .map(|sub| {
            let sub = sub.as_object().ok_or_else(|| {
                RpcError::invalid("Invalid batch request: requests must be objects")
            })?;
            let (Some(method), Some(params)) = (
                sub.get("method").and_then(Value::as_str),
                sub.get("params").and_then(Value::as_object),
            ) else {
                return Err(RpcError::invalid(
                    "Invalid batch request: subrequests must have method/params keys",
                ));
            };
            if !is_known(method) {
                return Err(RpcError::invalid(format!(
                    "Invalid batch subrequest: invalid method \"{method}\""
                )));
            }
            // The reference parses a nested meta-request fully before refusing it.
            match Request::parse_method(method, params)? {
                Request::Batch(_) | Request::Sequence(_) => Err(RpcError::invalid(
                    "Invalid batch subrequest: subrequests may not contain meta-requests",
                )),
                sub => Ok(sub),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sotto_crypto::{Identity, Seed};

    /// `retrieve` bodies, raw, with the fields a client sends and every way to spoil them.
    fn bodies() -> Vec<String> {
        let id = Identity::from_seed(&Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap());
        let pk = id.session_id().to_string();
        let ed = id.ed25519_public().to_hex();
        let sig = STANDARD_SIG.encode(id.sign(b"retrieve1700000000000"));
        let hash = "A".repeat(43);
        let ok = format!(
            r#""pubkey":"{pk}","pubkey_ed25519":"{ed}","signature":"{sig}","timestamp":1700000000000"#
        );
        let variants = [
            ok.clone(),
            format!(r#"{ok},"max_count":10,"last_hash":"{hash}""#),
            format!(r#"{ok},"lastHash":"{hash}","max_size":-4,"namespace":2"#),
            format!(r#"{ok},"last_hash":"{hash}","lastHash":"{hash}""#),
            format!(r#"{ok},"last_hash":"short""#),
            format!(r#"{ok},"last_hash":"","sotto_wait_ms":5000,"extra":[1,{{}}]"#),
            format!(r#"{ok},"max_count":18446744073709551615"#),
            format!(r#"{ok},"max_count":-3,"max_size":9223372036854775807"#),
            format!(r#"{ok},"max_count":10.0"#),
            format!(r#"{ok},"max_count":"10""#),
            format!(r#"{ok},"namespace":32768"#),
            format!(r#"{ok},"namespace":-32768"#),
            format!(r#"{ok},"namespace":"all""#),
            format!(r#"{ok},"namespace":null,"max_count":null"#),
            format!(r#"{ok},"subaccount":5"#),
            format!(r#"{ok},"subaccount":"x","subaccount_sig":"y""#),
            format!(r#"{ok},"pubKey":"{pk}""#),
            format!(r#"{ok},"pubkey":"{pk}""#),
            format!(r#""pubKey":"{pk}","timestamp":1700000000000"#),
            format!(r#""pubkey":"{pk}""#),
            format!(r#""pubkey":"{pk}","namespace":-10"#),
            format!(r#""pubkey":"05\u0030{}""#, &pk[3..]),
            format!(r#""pubkey":"{pk}","pubkey_ed25519":"{ed}","signature":"{sig}""#),
            format!(
                r#""pubkey":"{pk}","pubkey_ed25519":"{ed}","signature":"{sig}","timestamp":1700000000"#
            ),
            format!(
                r#""pubkey":"{pk}","pubkey_ed25519":"{ed}","signature":"{sig}","timestamp":-1"#
            ),
            format!(
                r#""pubkey":"{pk}","pubkey_ed25519":"{ed}","signature":"{sig}","timestamp":18446744073709551615"#
            ),
            format!(r#""pubkey":"{pk}","signature":"{sig}","timestamp":1700000000000"#),
            format!(
                r#""pubkey":"{pk}","pubkey_ed25519":"00","signature":"{sig}","timestamp":1700000000000"#
            ),
            format!(
                r#""pubkey":"{pk}","pubkey_ed25519":"{ed}","signature":"!!","timestamp":1700000000000"#
            ),
            r#""pubkey":"nothex","timestamp":1700000000000"#.to_owned(),
            r#""pubkey":7"#.to_owned(),
            String::new(),
        ];
        let mut bodies: Vec<String> = variants
            .iter()
            .map(|p| format!(r#"{{"method":"retrieve","params":{{{p}}}}}"#))
            .collect();
        bodies.extend([
            format!(r#"{{"params":{{{ok}}},"method":"retrieve"}}"#),
            format!(r#"{{"method":"retrieve","method":"retrieve","params":{{{ok}}}}}"#),
            format!(r#"{{"method":"retrieve","params":{{{ok}}},"params":{{}}}}"#),
            format!(r#"{{"method":"retrieve","params":[{ok}]}}"#),
            r#"{"method":"retrieve"}"#.to_owned(),
            format!(r#"{{"method":"store","params":{{{ok}}},"note":"retrieve"}}"#),
            format!(r#"{{"method":"retrieve","params":{{{ok}}}}} trailing"#),
            format!(r#"  {{"method":"retrieve","params":{{{ok}}}}}  "#),
            format!(r#"{{"method":"retrieve","params":{{{ok}}},"id":1}}"#),
        ]);
        bodies
    }

    const STANDARD_SIG: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    #[test]
    fn the_typed_retrieve_path_answers_as_the_general_path() {
        let mut typed = 0;
        for body in bodies() {
            let b = body.as_bytes();
            if typed_retrieve(b).is_some() {
                typed += 1;
            }
            assert_eq!(Request::parse(b), Request::parse_value(b), "{body}");
        }
        // The fast path is taken for the well-formed bodies, not only refused.
        assert!(typed >= 15, "typed path taken {typed} times");
    }

    proptest::proptest! {
        /// Any mix of the fields `retrieve` reads (repeated, null, of every JSON type, in range
        /// or not) gets the same answer from both paths.
        #[test]
        fn any_retrieve_params_get_the_general_paths_answer(
            fields in proptest::collection::vec((0..KEYS.len(), 0..VALUES.len()), 0..10)
        ) {
            let id = Identity::from_seed(
                &Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap(),
            );
            let values: Vec<String> = VALUES
                .iter()
                .map(|v| {
                    v.replace("PK", &id.session_id().to_string())
                        .replace("ED", &id.ed25519_public().to_hex())
                })
                .collect();
            let params: Vec<String> = fields
                .iter()
                .map(|&(k, v)| format!(r#""{}":{}"#, KEYS[k], values[v]))
                .collect();
            let body = format!(r#"{{"method":"retrieve","params":{{{}}}}}"#, params.join(","));
            let b = body.as_bytes();
            proptest::prop_assert_eq!(Request::parse(b), Request::parse_value(b), "{}", body);
        }
    }

    const KEYS: &[&str] = &[
        "pubkey",
        "pubKey",
        "pubkey_ed25519",
        "signature",
        "timestamp",
        "namespace",
        "max_count",
        "max_size",
        "last_hash",
        "lastHash",
        "subaccount",
        "subaccount_sig",
        "other",
    ];

    const VALUES: &[&str] = &[
        r#""PK""#,
        r#""ED""#,
        r#""AAAA""#,
        r#""""#,
        r#""A\u0041""#,
        "null",
        "true",
        "[]",
        "{}",
        "0",
        "-1",
        "2",
        "-10",
        "32767",
        "32768",
        "-32769",
        "1700000000000",
        "1700000000",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        "1e3",
        "10.0",
        r#""all""#,
    ];

    #[test]
    fn a_poll_as_clients_send_it_takes_the_typed_path() {
        let body = &bodies()[1];
        let params = typed_retrieve(body.as_bytes()).unwrap();
        assert_eq!(params.max_count, Some(10));
        assert!(matches!(
            Request::parse(body.as_bytes()),
            Ok(Request::Retrieve(_))
        ));
    }
}
