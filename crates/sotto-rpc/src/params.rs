//! Reading request parameters from JSON with oxen-storage-server's rules and messages
//! (`client_rpc_endpoints.cpp`, `parse_field`): a missing or `null` field is absent; a field of
//! the wrong type is `Invalid value given for '<f>': expected <type>`.

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

impl<'a> Params<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
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

    pub(crate) fn unsigned(&self, name: &str) -> Result<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| wrong_type(name, "positive integer")),
        }
    }

    /// A timestamp in ms: a non-negative integer, at least [`MIN_TIMESTAMP_MS`].
    pub(crate) fn timestamp(&self, name: &str) -> Result<Option<i64>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let ms = v
            .as_u64()
            .and_then(|ms| i64::try_from(ms).ok())
            .ok_or_else(|| wrong_type(name, "integer timestamp (in milliseconds)"))?;
        check_ms(name, ms).map(Some)
    }

    /// An integer that may also come as a string of digits (`timestamp` and `ttl` of `store`,
    /// for old clients).
    pub(crate) fn stringified(&self, name: &str, unsigned: bool) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => s
                .parse::<i64>()
                .ok()
                .filter(|v| !unsigned || *v >= 0)
                .map(Some)
                .ok_or_else(|| {
                    RpcError::invalid(format!(
                        "Invalid value given for '{name}': {}",
                        Value::String(s.clone())
                    ))
                }),
            Some(v) => {
                let value = if unsigned {
                    v.as_u64().and_then(|x| i64::try_from(x).ok())
                } else {
                    v.as_i64()
                };
                value.map(Some).ok_or_else(|| {
                    wrong_type(
                        name,
                        if unsigned {
                            "positive integer"
                        } else {
                            "integer"
                        },
                    )
                })
            }
        }
    }

    pub(crate) fn namespace(&self, name: &str) -> Result<Option<Namespace>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        if let Some(n) = v.as_i64() {
            return i16::try_from(n).map(|n| Some(Namespace(n))).map_err(|_| {
                RpcError::invalid(format!(
                    "Invalid value given for '{name}': value out of range"
                ))
            });
        }
        if v.is_u64() {
            return Err(RpcError::invalid(format!(
                "Invalid value given for '{name}': value out of range"
            )));
        }
        Err(wrong_type(name, "16-bit integer"))
    }

    pub(crate) fn namespace_or_all(&self, name: &str) -> Result<Option<NamespaceSelector>> {
        if let Some(Value::String(s)) = self.get(name) {
            return if s == "all" {
                Ok(Some(NamespaceSelector::All))
            } else {
                Err(wrong_type(name, "integer or \"all\""))
            };
        }
        match self.namespace(name) {
            Ok(ns) => Ok(ns.map(NamespaceSelector::One)),
            Err(e) if e.body().ends_with("value out of range") => Err(e),
            Err(_) => Err(wrong_type(name, "integer or \"all\"")),
        }
    }

    pub(crate) fn strings(&self, name: &str) -> Result<Option<Vec<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|x| x.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| wrong_type(name, "string array")),
            Some(_) => Err(wrong_type(name, "string array")),
        }
    }

    /// `pubkey`, or its old spelling `pubKey` where `alias` allows it (never both).
    pub(crate) fn account(&self, alias: bool) -> Result<AccountId> {
        let main = self.string("pubkey")?;
        let old = if alias { self.string("pubKey")? } else { None };
        let pk = match (main, old) {
            (Some(_), Some(_)) => {
                return Err(RpcError::invalid(
                    "Cannot specify both 'pubkey' and 'pubKey'",
                ))
            }
            (Some(pk), None) | (None, Some(pk)) => pk,
            (None, None) => return Err(missing("pubkey")),
        };
        pk.parse::<AccountId>().map_err(RpcError::invalid)
    }
}

/// Reject timestamps that were surely given in seconds.
pub(crate) fn check_ms(name: &str, ms: i64) -> Result<i64> {
    if ms < MIN_TIMESTAMP_MS {
        return Err(RpcError::invalid(format!(
            "Invalid timestamp for '{name}': timestamp must be in milliseconds"
        )));
    }
    Ok(ms)
}
