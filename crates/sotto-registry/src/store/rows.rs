//! Row conversions: how keys, amounts, swarm ids and times are stored, and the common reads.

use rusqlite::Connection;
use sotto_crypto::Ed25519PublicKey;

use crate::amount::Amount;
use crate::err::{Error, Result};
use crate::ledger::Address;

/// A swarm id as SQLite stores it: the same 64 bits, signed.
pub(super) fn swarm_to_sql(id: u64) -> i64 {
    id as i64
}

/// A swarm id read back.
pub(super) fn swarm_from_sql(v: i64) -> u64 {
    v as u64
}

pub(super) fn amount_to_sql(a: Amount) -> Result<i64> {
    i64::try_from(a.units()).map_err(|_| Error::BadAmount(format!("{a} is too large")))
}

pub(super) fn amount_from_sql(v: i64) -> Result<Amount> {
    u64::try_from(v)
        .map(Amount::from_units)
        .map_err(|_| Error::Corrupt(format!("negative amount {v}")))
}

pub(super) fn key_from_sql(bytes: Vec<u8>) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| Error::Corrupt(format!("key of {} bytes", b.len())))
}

pub(super) fn u64_from_sql(v: i64, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| Error::Corrupt(format!("negative {what} {v}")))
}

pub(super) fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Rows of `(address, amount)` from `sql`.
pub(super) fn read_address_amounts<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> Result<Vec<(Address, Amount)>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (address, amount) = row?;
        out.push((
            address
                .parse()
                .map_err(|_| Error::Corrupt(format!("address {address:?}")))?,
            amount_from_sql(amount)?,
        ));
    }
    Ok(out)
}

/// Every active node's key and one integer `column` of its row (a name from this module, never
/// from input).
pub(super) fn active_nodes(
    conn: &Connection,
    column: &str,
) -> Result<Vec<(Ed25519PublicKey, i64)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT pubkey_ed25519, {column} FROM nodes WHERE status = 'active'"
    ))?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (key, value) = row?;
        out.push((Ed25519PublicKey(key_from_sql(key)?), value));
    }
    Ok(out)
}
