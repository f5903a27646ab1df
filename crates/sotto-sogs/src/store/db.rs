//! The store's database connection, behind a small backend-neutral interface.
//!
//! Store code speaks to [`Db`] with owned [`Value`] parameters and reads [`Row`]s of owned
//! values, so the same code can later run on another engine (PySOGS also supports PostgreSQL,
//! `sogs.md` §3). The names follow rusqlite's (`execute`, `query_row`, `prepare`/`query_map`,
//! `params!`, `optional()`) so the SQL-carrying code reads as before.

use std::ops::Deref;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;

use crate::err::{Error, Result};

/// One SQL value, owned: a parameter or a column of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (booleans are stored as 0/1, as PySOGS's SQLite schema does).
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Value {
    /// The type's name, for conversion errors.
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Integer(_) => "INTEGER",
            Value::Real(_) => "REAL",
            Value::Text(_) => "TEXT",
            Value::Blob(_) => "BLOB",
        }
    }

    fn from_sqlite(v: ValueRef<'_>) -> Self {
        match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Integer(i64::from(v))
    }
}

impl From<usize> for Value {
    fn from(v: usize) -> Self {
        i64::try_from(v).map_or(Value::Null, Value::Integer)
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Blob(v.to_vec())
    }
}

impl<const N: usize> From<&[u8; N]> for Value {
    fn from(v: &[u8; N]) -> Self {
        Value::Blob(v.to_vec())
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::Integer)
    }
}

/// Something that can be a statement parameter.
pub(crate) trait ToValue {
    /// The value to bind.
    fn to_value(&self) -> Value;
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

macro_rules! int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Integer(i64::from(*self))
            }
        }
    )*};
}
int_to_value!(i64, i32, u32, u16, u8, bool);

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// The parameters of one statement.
pub(crate) trait Params {
    /// The values, in placeholder order (`?1` is the first).
    fn into_values(self) -> Vec<Value>;
}

impl Params for &[&dyn ToValue] {
    fn into_values(self) -> Vec<Value> {
        self.iter().map(|v| v.to_value()).collect()
    }
}

impl Params for Vec<Value> {
    fn into_values(self) -> Vec<Value> {
        self
    }
}

impl Params for [&dyn ToValue; 0] {
    fn into_values(self) -> Vec<Value> {
        Vec::new()
    }
}

macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToValue> Params for [T; $n] {
            fn into_values(self) -> Vec<Value> {
                self.iter().map(ToValue::to_value).collect()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8);

/// Parameters from an iterator of values.
pub(crate) fn params_from_iter<I>(iter: I) -> Vec<Value>
where
    I: IntoIterator,
    I::Item: ToValue,
{
    iter.into_iter().map(|v| v.to_value()).collect()
}

/// Statement parameters of mixed types: `params![a, b]`.
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::store::db::ToValue]
    };
    ($($x:expr),+ $(,)?) => {
        &[$(&$x as &dyn $crate::store::db::ToValue),+] as &[&dyn $crate::store::db::ToValue]
    };
}
pub(crate) use params;

/// Something a column can be read as.
pub trait FromValue: Sized {
    /// Convert, or say why not.
    fn from_value(v: &Value) -> std::result::Result<Self, String>;

    /// Convert a value that is no longer needed: text and blobs are moved, not copied.
    fn from_owned(v: Value) -> std::result::Result<Self, String> {
        Self::from_value(&v)
    }
}

fn mismatch<T>(want: &str, v: &Value) -> std::result::Result<T, String> {
    Err(format!("{} where {want} was expected", v.kind()))
}

impl FromValue for Value {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        Ok(v.clone())
    }
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Integer(i) => Ok(*i),
            _ => mismatch("INTEGER", v),
        }
    }
}

macro_rules! narrow_int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value) -> std::result::Result<Self, String> {
                let wide = i64::from_value(v)?;
                <$t>::try_from(wide).map_err(|_| format!("{wide} is out of range"))
            }
        }
    )*};
}
narrow_int_from_value!(i32, u32, u64, usize);

impl FromValue for f64 {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            // As SQLite: an integer column value reads as a float (e.g. `created` set to 0).
            #[allow(clippy::cast_precision_loss)]
            Value::Integer(i) => Ok(*i as f64),
            Value::Real(f) => Ok(*f),
            _ => mismatch("REAL", v),
        }
    }
}

impl FromValue for bool {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Integer(i) => Ok(*i != 0),
            _ => mismatch("BOOLEAN", v),
        }
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            _ => mismatch("TEXT", v),
        }
    }

    fn from_owned(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s),
            _ => mismatch("TEXT", &v),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            _ => mismatch("BLOB", v),
        }
    }

    fn from_owned(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Blob(b) => Ok(b),
            _ => mismatch("BLOB", &v),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            _ => T::from_value(v).map(Some),
        }
    }

    fn from_owned(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            _ => T::from_owned(v).map(Some),
        }
    }
}

/// A column position (the only way columns are addressed).
pub trait ColumnIndex {
    /// The zero-based position.
    fn index(&self) -> usize;
}

impl ColumnIndex for usize {
    fn index(&self) -> usize {
        *self
    }
}

/// One result row.
#[derive(Debug)]
pub struct Row<'a> {
    values: &'a [Value],
}

impl Row<'_> {
    /// Column `idx` as a `T`.
    pub fn get<I: ColumnIndex, T: FromValue>(&self, idx: I) -> Result<T> {
        let idx = idx.index();
        let v = self.values.get(idx).ok_or_else(|| Error::DbValue {
            column: idx,
            why: format!("the row has only {} columns", self.values.len()),
        })?;
        T::from_value(v).map_err(|why| Error::DbValue { column: idx, why })
    }
}

/// One result row whose columns are moved out as they are read (each at most once): the
/// message queries read kilobytes of text and blobs per row, which [`Row::get`] would copy.
#[derive(Debug)]
pub(crate) struct RowMut<'a> {
    values: &'a mut [Value],
}

impl RowMut<'_> {
    /// Column `idx` as a `T`, moved out; a column taken twice reads as NULL the second time.
    pub(crate) fn take<I: ColumnIndex, T: FromValue>(&mut self, idx: I) -> Result<T> {
        let idx = idx.index();
        let width = self.values.len();
        let v = self.values.get_mut(idx).ok_or_else(|| Error::DbValue {
            column: idx,
            why: format!("the row has only {width} columns"),
        })?;
        T::from_owned(std::mem::replace(v, Value::Null))
            .map_err(|why| Error::DbValue { column: idx, why })
    }
}

/// `Ok(None)` for a query that found no row, as rusqlite's `OptionalExtension`.
pub(crate) trait OptionalExtension<T> {
    /// The row, none, or the error.
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::Db(rusqlite::Error::QueryReturnedNoRows)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The first `width` columns of a SQLite row, owned.
fn owned_row(row: &rusqlite::Row<'_>, width: usize) -> rusqlite::Result<Vec<Value>> {
    (0..width)
        .map(|i| row.get_ref(i).map(Value::from_sqlite))
        .collect()
}

/// An open database connection.
pub(crate) enum Db {
    /// A SQLite file (or in-memory database).
    Sqlite(Connection),
    /// A PostgreSQL server, through a worker thread (see [`pg::Worker`]).
    Postgres(pg::Worker),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Db::Sqlite(c) => f.debug_tuple("Sqlite").field(c).finish(),
            Db::Postgres(_) => f.write_str("Postgres"),
        }
    }
}

impl Db {
    /// The SQLite connection, if this is SQLite (schema inspection is engine-specific).
    pub(crate) fn sqlite(&self) -> Option<&Connection> {
        match self {
            Db::Sqlite(c) => Some(c),
            Db::Postgres(_) => None,
        }
    }

    /// Whether this is PostgreSQL (for the few statements whose dialects differ).
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// The database file or server, for messages.
    pub(crate) fn path(&self) -> Option<&str> {
        match self {
            Db::Sqlite(c) => c.path(),
            Db::Postgres(w) => Some(w.name()),
        }
    }

    /// Whether a table (or view) exists.
    pub(crate) fn has_table(&self, name: &str) -> Result<bool> {
        let sql = match self {
            Db::Sqlite(_) => {
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1"
            }
            Db::Postgres(_) => "SELECT to_regclass(?1) IS NOT NULL",
        };
        self.query_row(sql, [name], |r| r.get(0))
    }

    /// Run one statement; returns the number of rows changed.
    pub(crate) fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        let values = params.into_values();
        match self {
            Db::Sqlite(c) => Ok(c
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(values.iter()))?),
            Db::Postgres(w) => w.execute(sql, values),
        }
    }

    /// Run several parameterless statements.
    pub(crate) fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres(w) => w.batch(sql),
        }
    }

    /// Every row of a query, owned.
    fn rows(&self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Value>>> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let width = stmt.column_count();
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(values.iter()), |r| {
                        owned_row(r, width)
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            }
            Db::Postgres(w) => w.query(sql, values.to_vec()),
        }
    }

    /// The first row of a query through `f`; an error if there is none.
    pub(crate) fn query_row<P, T, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let values = params.into_values();
        let first = match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let width = stmt.column_count();
                stmt.query_row(rusqlite::params_from_iter(values.iter()), |r| {
                    owned_row(r, width)
                })?
            }
            Db::Postgres(w) => w
                .query(sql, values)?
                .into_iter()
                .next()
                .ok_or(Error::Db(rusqlite::Error::QueryReturnedNoRows))?,
        };
        f(&Row { values: &first })
    }

    /// A statement to run with [`Statement::query_map`].
    pub(crate) fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(Statement {
            db: self,
            sql: sql.to_owned(),
        })
    }

    /// Start a write transaction (`BEGIN IMMEDIATE` on SQLite, `READ COMMITTED` on
    /// PostgreSQL, as PySOGS); it rolls back when dropped without [`Tx::commit`].
    pub(crate) fn transaction(&mut self) -> Result<Tx<'_>> {
        match self {
            Db::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Db::Postgres(w) => w.batch("BEGIN ISOLATION LEVEL READ COMMITTED")?,
        }
        Ok(Tx {
            db: self,
            committed: false,
            nested: false,
        })
    }

    /// A write "transaction" inside an open one: a savepoint, released on [`Tx::commit`] and
    /// rolled back to when dropped without it, so the enclosing transaction decides.
    pub(crate) fn savepoint(&mut self) -> Result<Tx<'_>> {
        self.execute_batch("SAVEPOINT sotto_write")?;
        Ok(Tx {
            db: self,
            committed: false,
            nested: true,
        })
    }
}

pub(crate) mod pg;

/// A query to run.
#[derive(Debug)]
pub(crate) struct Statement<'a> {
    db: &'a Db,
    sql: String,
}

impl Statement<'_> {
    /// Every row through `f`.
    pub(crate) fn query_map<P, T, F>(
        &mut self,
        params: P,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T>>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        let values = params.into_values();
        let rows = self.db.rows(&self.sql, &values)?;
        Ok(rows
            .iter()
            .map(|values| f(&Row { values }))
            .collect::<Vec<_>>()
            .into_iter())
    }
}

impl Statement<'_> {
    /// Every row, read on SQLite by `sqlite` straight from the engine's row (no owned value per
    /// column: for the hottest queries), elsewhere by `owned` as [`Statement::query_map_owned`].
    /// The two must read the same columns the same way.
    pub(crate) fn query_map_typed<P, T>(
        &mut self,
        params: P,
        sqlite: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
        owned: impl FnMut(&mut RowMut<'_>) -> Result<T>,
    ) -> Result<Vec<T>>
    where
        P: Params,
    {
        match self.db {
            Db::Sqlite(c) => {
                let values = params.into_values();
                let mut stmt = c.prepare_cached(&self.sql)?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(values.iter()), sqlite)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            }
            Db::Postgres(_) => self.query_map_owned(params, owned),
        }
    }

    /// Every row through `f`, which may move the columns out ([`RowMut::take`]).
    pub(crate) fn query_map_owned<P, T, F>(&mut self, params: P, mut f: F) -> Result<Vec<T>>
    where
        P: Params,
        F: FnMut(&mut RowMut<'_>) -> Result<T>,
    {
        let values = params.into_values();
        let mut rows = self.db.rows(&self.sql, &values)?;
        rows.iter_mut()
            .map(|values| f(&mut RowMut { values }))
            .collect()
    }
}

/// An open write transaction.
#[derive(Debug)]
pub(crate) struct Tx<'a> {
    db: &'a mut Db,
    committed: bool,
    /// A savepoint inside an enclosing transaction ([`Db::savepoint`]).
    nested: bool,
}

impl Tx<'_> {
    /// Make the changes stay (a savepoint: hand them to the enclosing transaction).
    pub(crate) fn commit(mut self) -> Result<()> {
        self.db.execute_batch(if self.nested {
            "RELEASE sotto_write"
        } else {
            "COMMIT"
        })?;
        self.committed = true;
        Ok(())
    }
}

impl Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.committed {
            // A failed COMMIT may already have ended the transaction; nothing to undo then.
            let undo = if self.nested {
                "ROLLBACK TO sotto_write; RELEASE sotto_write"
            } else {
                "ROLLBACK"
            };
            if let Err(e) = self.db.execute_batch(undo) {
                tracing::debug!("rollback: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Db {
        Db::Sqlite(Connection::open_in_memory().expect("in-memory database"))
    }

    #[test]
    fn values_round_trip() {
        let d = db();
        let row: (i64, f64, String, Vec<u8>, Option<i64>, bool) = d
            .query_row(
                "SELECT ?1, ?2, ?3, ?4, ?5, ?6",
                params![7_i64, 1.5_f64, "x", vec![1_u8, 2], None::<i64>, true],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .expect("query");
        assert_eq!(row, (7, 1.5, "x".to_owned(), vec![1, 2], None, true));
    }

    #[test]
    fn wrong_types_and_columns_are_errors() {
        let d = db();
        let r: Result<String> = d.query_row("SELECT 1", [], |r| r.get(0));
        assert!(matches!(r, Err(Error::DbValue { column: 0, .. })));
        let r: Result<i64> = d.query_row("SELECT 1", [], |r| r.get(1));
        assert!(matches!(r, Err(Error::DbValue { column: 1, .. })));
        let r: Result<u32> = d.query_row("SELECT -1", [], |r| r.get(0));
        assert!(r.is_err());
    }

    #[test]
    fn taken_columns_are_moved_once() {
        let d = db();
        let rows = d
            .prepare("SELECT ?1, ?2, NULL, 5 UNION ALL SELECT 'y', x'03', 'z', 6")
            .expect("prepare")
            .query_map_owned(params!["x", vec![1_u8, 2]], |r| {
                let text: String = r.take(0)?;
                let blob: Vec<u8> = r.take(1)?;
                let none: Option<String> = r.take(2)?;
                let again: Option<String> = r.take(0)?;
                let n: i64 = r.take(3)?;
                Ok((text, blob, none, again, n))
            })
            .expect("query");
        assert_eq!(
            rows,
            [
                ("x".to_owned(), vec![1, 2], None, None, 5),
                ("y".to_owned(), vec![3], Some("z".to_owned()), None, 6)
            ]
        );
        let mut stmt = d.prepare("SELECT 1").expect("prepare");
        let r = stmt.query_map_owned([], |r| r.take::<_, String>(0));
        assert!(matches!(r, Err(Error::DbValue { column: 0, .. })));
        let r = stmt.query_map_owned([], |r| r.take::<_, i64>(1));
        assert!(matches!(r, Err(Error::DbValue { column: 1, .. })));
    }

    #[test]
    fn no_row_is_none() {
        let d = db();
        let r: Option<i64> = d
            .query_row("SELECT 1 WHERE 0", [], |r| r.get(0))
            .optional()
            .expect("query");
        assert_eq!(r, None);
    }

    #[test]
    fn dropped_transaction_rolls_back() {
        let mut d = db();
        d.execute_batch("CREATE TABLE t (x INTEGER)")
            .expect("create");
        {
            let tx = d.transaction().expect("begin");
            tx.execute("INSERT INTO t VALUES (?1)", [1])
                .expect("insert");
        }
        let tx = d.transaction().expect("begin");
        tx.execute("INSERT INTO t VALUES (?1)", [2])
            .expect("insert");
        tx.commit().expect("commit");
        let all: Vec<i64> = d
            .prepare("SELECT x FROM t")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_>>()
            .expect("rows");
        assert_eq!(all, vec![2]);
    }
}
