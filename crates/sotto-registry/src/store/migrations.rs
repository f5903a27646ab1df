//! Schema migrations: numbered SQL files under `migrations/`, applied in order, each in its own
//! transaction, with the version kept in SQLite's `user_version`. The version is read inside an
//! immediate transaction, so a CLI and a server opening a new database together do not both
//! apply a migration.

use rusqlite::{Connection, TransactionBehavior};

use crate::err::{Error, Result};

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/0001_registry.sql")];

/// Bring the schema up to date.
pub(super) fn apply(conn: &mut Connection) -> Result<()> {
    let latest = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    for (version, sql) in (1..).zip(MIGRATIONS) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if current > latest {
            return Err(Error::SchemaTooNew {
                found: current,
                supported: latest,
            });
        }
        if current < version {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
        }
        tx.commit()?;
    }
    Ok(())
}
