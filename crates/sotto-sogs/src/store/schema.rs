//! Our migrations and the comparison of a live database with the schema they create.
//!
//! PySOGS has no version table: it recognises old layouts by looking at tables and columns
//! (`sogs/migrations/*`). We track our migrations in `sotto_migrations`, a table PySOGS ignores,
//! and adopt a database PySOGS created only when its schema matches ours object for object.

use std::collections::BTreeSet;

use rusqlite::Connection;

use crate::err::Result;

/// One numbered migration from `migrations/`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// Its number; applied in increasing order.
    pub(crate) version: i64,
    /// Short name, recorded beside the number.
    pub(crate) name: &'static str,
    /// The SQL, run in one transaction.
    pub(crate) sql: &'static str,
    /// The same change in PostgreSQL's dialect.
    pub(crate) pg_sql: &'static str,
}

/// Every migration, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "pysogs_schema",
    sql: include_str!("../../migrations/0001_pysogs_schema.sql"),
    pg_sql: include_str!("../../migrations/postgresql/0001_pysogs_schema.sql"),
}];

/// The schema version of the newest migration.
pub const LATEST_VERSION: i64 = 1;

/// Migrations up to this version create exactly PySOGS's schema, so a PySOGS database that
/// matches it can be recorded as being at this version.
pub(crate) const PYSOGS_VERSION: i64 = 1;

/// Indexes the server adds for its own queries, beyond PySOGS's schema: created (if absent)
/// when `sogs serve` opens the database, not by a numbered migration, so that adopting a PySOGS
/// database leaves no migration pending for the admin CLI, and PySOGS, which never looks for
/// them, keeps working on the same file. Schema comparisons allow extra objects.
///
/// `sotto_messages_room_user_posted` serves the post rate limit (`COUNT(*) … WHERE room = ? AND
/// "user" = ? AND posted >= ?`, `Room.add_post`): with PySOGS's indexes that query walks every
/// message of the room in the last 16 s and reads each row for its `user`, a cost that grows
/// with the square of the posting rate (35 % of the server's CPU under the posting benchmark,
/// docs/benchmarks.md); this index answers it from the index alone. The same statement works on
/// both engines.
pub(crate) const SERVER_INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS sotto_messages_room_user_posted ON messages(room, \"user\", posted)",
];

/// Our bookkeeping table. Its name is ours alone; PySOGS reflects it and leaves it be.
pub(crate) const MIGRATIONS_TABLE_SQL: &str = "
CREATE TABLE IF NOT EXISTS sotto_migrations (
    version INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    how TEXT NOT NULL CHECK(how IN ('applied', 'adopted')),
    at FLOAT NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
)";

/// [`MIGRATIONS_TABLE_SQL`] for PostgreSQL.
pub(crate) const PG_MIGRATIONS_TABLE_SQL: &str = "
CREATE TABLE IF NOT EXISTS sotto_migrations (
    version BIGINT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    how TEXT NOT NULL CHECK(how IN ('applied', 'adopted')),
    at FLOAT NOT NULL DEFAULT (EXTRACT(EPOCH FROM NOW()))
)";

/// SQLite's type affinity of a declared column type (sqlite.org datatype3 §3.1): PySOGS's
/// upgrades declare e.g. BIGINT where a fresh schema says INTEGER, which is the same column.
fn affinity(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        "INTEGER"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "TEXT"
    } else if t.contains("BLOB") || t.is_empty() {
        "BLOB"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "REAL"
    } else {
        "NUMERIC"
    }
}

fn squash(sql: &str) -> String {
    sql.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A description of the schema objects, one line per fact, ignoring our own table and
/// SQLite's: tables' columns (name, affinity, NOT NULL, default, key position), foreign keys,
/// indexes (columns, uniqueness, partial), views' column names, triggers' tables.
pub(crate) fn fingerprint(conn: &Connection) -> Result<BTreeSet<String>> {
    let mut facts = BTreeSet::new();
    let objects: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT type, name, tbl_name FROM sqlite_master
             WHERE name NOT LIKE 'sqlite_%' AND tbl_name != 'sotto_migrations'",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, name, table) in &objects {
        match kind.as_str() {
            "table" => {
                let mut stmt = conn.prepare(
                    "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)",
                )?;
                let cols = stmt.query_map([name], |r| {
                    Ok(format!(
                        "table {name} column {} {} notnull={} default={} pk={}",
                        r.get::<_, String>(0)?,
                        affinity(&r.get::<_, String>(1)?),
                        r.get::<_, i64>(2)?,
                        squash(&r.get::<_, Option<String>>(3)?.unwrap_or_default()),
                        r.get::<_, i64>(4)?,
                    ))
                })?;
                for c in cols {
                    facts.insert(c?);
                }
                let mut stmt = conn.prepare(
                    "SELECT \"from\", \"table\", COALESCE(\"to\", ''), on_delete
                     FROM pragma_foreign_key_list(?1)",
                )?;
                let fks = stmt.query_map([name], |r| {
                    Ok(format!(
                        "table {name} fk {} -> {}.{} on delete {}",
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })?;
                for f in fks {
                    facts.insert(f?);
                }
            }
            "index" => {
                let cols: Vec<String> = conn
                    .prepare(
                        "SELECT COALESCE(name, '?') FROM pragma_index_info(?1) ORDER BY seqno",
                    )?
                    .query_map([name], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                let (unique, partial): (i64, i64) = conn.query_row(
                    "SELECT \"unique\", partial FROM pragma_index_list(?1) WHERE name = ?2",
                    [table, name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                facts.insert(format!(
                    "index {name} on {table}({}) unique={unique} partial={partial}",
                    cols.join(",")
                ));
            }
            "view" => {
                let cols: Vec<String> = conn
                    .prepare("SELECT name FROM pragma_table_info(?1)")?
                    .query_map([name], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                facts.insert(format!("view {name} columns {}", cols.join(",")));
            }
            "trigger" => {
                facts.insert(format!("trigger {name} on {table}"));
            }
            _ => {}
        }
    }
    Ok(facts)
}

/// Checks PySOGS makes on trigger text to decide that an upgrade is due
/// (`sogs/migrations/message_views.py`, `fix_info_update_triggers.py`): a database that fails
/// them would be rewritten by PySOGS, so it is not at our version.
pub(crate) fn pysogs_trigger_problems(conn: &Connection) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let old_deleter: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'
         AND name = 'message_details_deleter' AND sql LIKE '%DELETE FROM reactions%'",
        [],
        |r| r.get(0),
    )?;
    if old_deleter > 0 {
        problems.push("old message_details_deleter trigger".to_owned());
    }
    let old_global: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'
         AND name = 'room_metadata_global_mods_insert' AND LOWER(sql) LIKE '% new.visible_mod%'",
        [],
        |r| r.get(0),
    )?;
    if old_global > 0 {
        problems.push("old room_metadata_global_mods_insert trigger".to_owned());
    }
    Ok(problems)
}

/// The fingerprint of the schema our migrations up to `version` create.
pub(crate) fn expected_fingerprint(version: i64) -> Result<BTreeSet<String>> {
    let conn = Connection::open_in_memory()?;
    for m in MIGRATIONS.iter().filter(|m| m.version <= version) {
        conn.execute_batch(m.sql)?;
    }
    fingerprint(&conn)
}

/// What is missing or different in `conn` compared with the schema at `version` (empty when it
/// matches). Extra objects (e.g. PySOGS's import tables) are allowed.
pub(crate) fn differences(conn: &Connection, version: i64) -> Result<Vec<String>> {
    let expected = expected_fingerprint(version)?;
    let actual = fingerprint(conn)?;
    let mut diffs: Vec<String> = expected
        .difference(&actual)
        .map(|f| format!("missing or different: {f}"))
        .collect();
    diffs.extend(pysogs_trigger_problems(conn)?);
    Ok(diffs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinities() {
        assert_eq!(affinity("BIGINT"), "INTEGER");
        assert_eq!(affinity("INTEGER"), "INTEGER");
        assert_eq!(affinity("FLOAT"), "REAL");
        assert_eq!(affinity("BOOLEAN"), "NUMERIC");
        assert_eq!(affinity("TEXT"), "TEXT");
        assert_eq!(affinity(""), "BLOB");
    }

    #[test]
    fn latest_is_last_migration() {
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(LATEST_VERSION));
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
    }
}
