//! Reading request parameters from JSON with oxen-storage-server's rules and messages
//! (`client_rpc_endpoints.cpp`, `parse_field`): a missing or `null` field is absent; a field of
//! the wrong type is `Invalid value given for '<f>': expected <type>`.
//!
//! The reference reads every field's type first, in alphabetical order, and only then checks
//! presence and meaning; the parsers in `parse.rs` call these getters in that order so that a
//! request with several faults gets the reference's answer.

use serde_json::{Map, Value};

use crate::err::{Result, RpcError};
use crate::ids::{AccountId, Namespace, NamespaceSelector};
use crate::limits::MIN_TIMESTAMP_MS;

/// The `params` object of a request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Params<'a>(pub(crate) &'a Map<String, Value>);

fn wrong_type(name: &str, expected: &str) -> RpcError {
    RpcError::invalid(format!(
        "Invalid value given for '{name}': expected {expected}"
    ))
}

/// `Required field '<f>' missing`.
pub(crate) fn missing(name: &str) -> RpcError {
    RpcError::invalid(format!("Required field '{name}' missing"))
}

/// `require`: the value, or `Required field '<f>' missing`.
pub(crate) fn require<T>(name: &str, v: Option<T>) -> Result<T> {
    v.ok_or_else(|| missing(name))
}

/// `require_at_most_one_of`.
pub(crate) fn at_most_one<T>(a: (&str, Option<T>), b: (&str, Option<T>)) -> Result<Option<T>> {
    match (a, b) {
        ((first, Some(_)), (second, Some(_))) => Err(RpcError::invalid(format!(
            "Cannot specify both '{first}' and '{second}'"
        ))),
        ((_, x), (_, y)) => Ok(x.or(y)),
    }
}

/// Reject a timestamp that was surely given in seconds.
pub(crate) fn check_ms(name: &str, ms: i64) -> Result<i64> {
    if ms < MIN_TIMESTAMP_MS {
        return Err(RpcError::invalid(format!(
            "Invalid timestamp for '{name}': timestamp must be in milliseconds"
        )));
    }
    Ok(ms)
}

/// A JSON unsigned integer as the reference reads it into an `int64_t`: values above
/// `i64::MAX` wrap to negative there, which we map to `i64::MIN` (equally invalid, no wrap).
fn unsigned_as_i64(v: &Value) -> Option<i64> {
    v.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MIN))
}

impl<'a> Params<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn string(&self, name: &str) -> Result<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(wrong_type(name, "string")),
        }
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong_type(name, "boolean")),
        }
    }

    /// A signed integer (`int`); values beyond `i64` saturate.
    pub(crate) fn integer(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_u64().map(|_| i64::MAX))
                .map(Some)
                .ok_or_else(|| wrong_type(name, "integer")),
        }
    }

    /// A timestamp in ms: an unsigned integer, at least [`MIN_TIMESTAMP_MS`].
    pub(crate) fn timestamp(&self, name: &str) -> Result<Option<i64>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let ms = unsigned_as_i64(v)
            .ok_or_else(|| wrong_type(name, "integer timestamp (in milliseconds)"))?;
        check_ms(name, ms).map(Some)
    }

    /// A timestamp array: one unsigned integer, or a list of them (no seconds check).
    pub(crate) fn timestamps(&self, name: &str) -> Result<Option<Vec<i64>>> {
        let bad = || wrong_type(name, "timestamp array");
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(unsigned_as_i64)
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(bad),
            Some(v) => unsigned_as_i64(v).map(|t| Some(vec![t])).ok_or_else(bad),
        }
    }

    /// A string array: a list of strings, or one string.
    pub(crate) fn strings(&self, name: &str) -> Result<Option<Vec<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(Value::Array(items)) => items
                .iter()
                .map(|x| x.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| wrong_type(name, "string array")),
            Some(_) => Err(wrong_type(name, "string array")),
        }
    }

    /// A signed integer that old clients may send as a string of digits (`store`'s
    /// `timestamp`, `parse_stringified<int64_t>`).
    pub(crate) fn stringified_i64(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            Some(Value::String(s)) => parse_int(s)
                .map(Some)
                .ok_or_else(|| bad_stringified(name, s)),
            _ => self.integer(name),
        }
    }

    /// The same for an unsigned integer (`store`'s `ttl`).
    pub(crate) fn stringified_u64(&self, name: &str) -> Result<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => parse_int(s)
                .map(Some)
                .ok_or_else(|| bad_stringified(name, s)),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| wrong_type(name, "positive integer")),
        }
    }

    fn namespace_number(name: &str, v: &Value) -> Option<Result<Namespace>> {
        if !(v.is_i64() || v.is_u64()) {
            return None;
        }
        let n = v.as_i64().and_then(|n| i16::try_from(n).ok());
        Some(n.map(Namespace).ok_or_else(|| {
            RpcError::invalid(format!(
                "Invalid value given for '{name}': value out of range"
            ))
        }))
    }

    pub(crate) fn namespace(&self, name: &str) -> Result<Option<Namespace>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match Self::namespace_number(name, v) {
            Some(ns) => ns.map(Some),
            None => Err(wrong_type(name, "16-bit integer")),
        }
    }

    pub(crate) fn namespace_or_all(&self, name: &str) -> Result<Option<NamespaceSelector>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        if let Some(ns) = Self::namespace_number(name, v) {
            return ns.map(|ns| Some(NamespaceSelector::One(ns)));
        }
        match v {
            Value::String(s) if s == "all" => Ok(Some(NamespaceSelector::All)),
            _ => Err(wrong_type(name, "integer or \"all\"")),
        }
    }
}

/// An integer string as `util::parse_int` (`std::from_chars`) reads it: the whole string, an
/// optional `-` and digits.
fn parse_int<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.starts_with('+') {
        return None;
    }
    s.parse().ok()
}

fn bad_stringified(name: &str, s: &str) -> RpcError {
    RpcError::invalid(format!(
        "Invalid value given for '{name}': {}",
        Value::String(s.to_owned())
    ))
}

/// `load_pk`: the account from a present `pubkey` value.
pub(crate) fn load_account(pk: Option<&str>) -> Result<AccountId> {
    AccountId::from_param(require("pubkey", pk)?).map_err(RpcError::invalid)
}
