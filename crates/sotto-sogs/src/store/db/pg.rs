//! PostgreSQL through the synchronous `postgres` client, run on a thread of its own.
//!
//! The synchronous client drives a private async runtime and may not be used from inside
//! another one, while the server calls the store from its async handlers (holding a mutex, as
//! with SQLite). So one worker thread owns the client and the store sends it requests over a
//! channel and waits for the answer, which is what a SQLite call does too: it blocks.

use std::error::Error as StdError;
use std::sync::mpsc;
use std::thread;

use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, ToSql, Type};
use postgres::{Client, NoTls};

use super::Value;
use crate::err::{Error, Result};

type BoxError = Box<dyn StdError + Sync + Send>;

/// Rewrite SQLite's `?N` and `?` placeholders as PostgreSQL's `$N`, outside quoted text. A
/// bare `?` is numbered as SQLite numbers it: one more than the largest number so far. A
/// placeholder tested with `IS [NOT] NULL` gets a cast to its value's type, which PostgreSQL
/// could not infer from that test alone.
pub(crate) fn placeholders(sql: &str, values: &[Value]) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut largest: u32 = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                let n = if digits.is_empty() {
                    largest.saturating_add(1)
                } else {
                    digits.parse().unwrap_or(u32::MAX)
                };
                largest = largest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
                // The next words, upper-cased (only as many as the test needs).
                const LOOKAHEAD: usize = "IS NOT NULL".len();
                let next: String = chars
                    .clone()
                    .skip_while(|c| c.is_whitespace())
                    .take(LOOKAHEAD)
                    .collect::<String>()
                    .to_ascii_uppercase();
                if next.starts_with("IS NULL") || next.starts_with("IS NOT NULL") {
                    let index = usize::try_from(n).unwrap_or(usize::MAX).wrapping_sub(1);
                    out.push_str("::");
                    out.push_str(cast_for(values.get(index)));
                }
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        // The server infers each parameter's type from the statement; SQLite-style values
        // (booleans as 0/1, integers where a float is compared) are converted to it.
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => {
                if *ty == Type::BOOL {
                    (*i != 0).to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::INT8 {
                    i.to_sql(ty, out)
                } else if *ty == Type::FLOAT8 {
                    #[allow(clippy::cast_precision_loss)]
                    (*i as f64).to_sql(ty, out)
                } else if *ty == Type::FLOAT4 {
                    #[allow(clippy::cast_precision_loss)]
                    (*i as f32).to_sql(ty, out)
                } else {
                    out.extend_from_slice(i.to_string().as_bytes());
                    Ok(IsNull::No)
                }
            }
            Value::Real(f) => {
                if *ty == Type::FLOAT8 {
                    f.to_sql(ty, out)
                } else if *ty == Type::FLOAT4 {
                    #[allow(clippy::cast_possible_truncation)]
                    (*f as f32).to_sql(ty, out)
                } else if *ty == Type::INT8 && f.fract() == 0.0 && f.abs() < 9.0e15 {
                    #[allow(clippy::cast_possible_truncation)]
                    (*f as i64).to_sql(ty, out)
                } else {
                    Err(format!("cannot bind a float to a {ty} parameter").into())
                }
            }
            Value::Text(s) => {
                if *ty == Type::BYTEA {
                    s.as_bytes().to_sql(ty, out)
                } else {
                    // text, varchar, citext and untyped parameters all take the bytes.
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
            }
            Value::Blob(b) => {
                if *ty == Type::BYTEA {
                    b.as_slice().to_sql(ty, out)
                } else {
                    Err(format!("cannot bind bytes to a {ty} parameter").into())
                }
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        Ok(if *ty == Type::BOOL {
            Value::Integer(i64::from(bool::from_sql(ty, raw)?))
        } else if *ty == Type::INT2 {
            Value::Integer(i64::from(i16::from_sql(ty, raw)?))
        } else if *ty == Type::INT4 {
            Value::Integer(i64::from(i32::from_sql(ty, raw)?))
        } else if *ty == Type::INT8 {
            Value::Integer(i64::from_sql(ty, raw)?)
        } else if *ty == Type::FLOAT4 {
            Value::Real(f64::from(f32::from_sql(ty, raw)?))
        } else if *ty == Type::FLOAT8 {
            Value::Real(f64::from_sql(ty, raw)?)
        } else if *ty == Type::BYTEA {
            Value::Blob(raw.to_vec())
        } else if *ty == Type::NUMERIC {
            return Err("NUMERIC results are not read: cast them in the query".into());
        } else {
            // text, varchar, name, citext: the binary form is the UTF-8 text.
            Value::Text(std::str::from_utf8(raw)?.to_owned())
        })
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

enum Request {
    Execute(String, Vec<Value>),
    Batch(String),
    Query(String, Vec<Value>),
}

enum Reply {
    Changed(u64),
    Done,
    Rows(Vec<Vec<Value>>),
}

type Job = (Request, mpsc::Sender<Result<Reply>>);

/// The thread that owns the connection.
pub(crate) struct Worker {
    jobs: mpsc::Sender<Job>,
    name: String,
}

/// Prepared statements kept by the worker (as the SQLite connection's cache).
const STATEMENT_CACHE: usize = 512;

/// The connection and what lives and dies with it.
struct Conn {
    url: String,
    client: Client,
    statements: std::collections::HashMap<String, postgres::Statement>,
    /// Inside a transaction the store opened: a lost connection then fails every request
    /// until the store ends the transaction, so that no part of it is taken for committed.
    in_transaction: bool,
    /// The connection was lost inside a transaction: refuse until ROLLBACK/COMMIT.
    broken_transaction: bool,
}

impl Conn {
    /// A fresh connection when the old one has closed (the server restarted, an
    /// administrator ended the session): outside a transaction, the store carries on.
    fn ensure_open(&mut self) -> Result<()> {
        if !self.client.is_closed() {
            return Ok(());
        }
        self.statements.clear();
        if self.in_transaction {
            self.broken_transaction = true;
            return Err(Error::PgWorker(
                "the connection was lost inside a transaction; it is rolled back".into(),
            ));
        }
        self.reconnect()
    }

    fn reconnect(&mut self) -> Result<()> {
        tracing::warn!("postgresql connection lost; reconnecting");
        self.statements.clear();
        self.client = Client::connect(&self.url, NoTls)?;
        Ok(())
    }

    fn statement(
        &mut self,
        sql: &str,
    ) -> std::result::Result<postgres::Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn query_once(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Vec<postgres::Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query(&statement, params)
    }

    fn execute_once(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<u64, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.execute(&statement, params)
    }

    /// After a failed request: whether the connection is gone (and, inside a transaction,
    /// the transaction with it).
    fn lost(&mut self, e: &postgres::Error) -> bool {
        let lost = e.is_closed()
            || self.client.is_closed()
            || e.as_db_error().is_some_and(|d| d.severity() == "FATAL")
            || e.source().is_some_and(|s| s.is::<std::io::Error>());
        if lost && self.in_transaction {
            self.broken_transaction = true;
        }
        lost
    }

    fn run(&mut self, request: Request) -> Result<Reply> {
        if let Request::Batch(sql) = &request {
            // The store's own transaction statements (savepoints are not ends).
            let statement = sql.trim().trim_end_matches(';').to_ascii_uppercase();
            let begins = statement.starts_with("BEGIN");
            let ends = statement == "COMMIT" || statement == "ROLLBACK";
            if ends && self.in_transaction && (self.broken_transaction || self.client.is_closed()) {
                // The server ended the transaction with the connection: a ROLLBACK has
                // nothing left to do, a COMMIT must not report success. The next request
                // reconnects.
                self.in_transaction = false;
                self.broken_transaction = false;
                self.statements.clear();
                return if statement == "COMMIT" {
                    Err(Error::PgWorker(
                        "the connection was lost inside the transaction: nothing committed".into(),
                    ))
                } else {
                    Ok(Reply::Done)
                };
            }
            if self.broken_transaction {
                return Err(Error::PgWorker(
                    "the connection was lost inside a transaction".into(),
                ));
            }
            self.ensure_open()?;
            let done = self.client.batch_execute(sql);
            if begins && done.is_ok() {
                self.in_transaction = true;
            } else if ends {
                self.in_transaction = false;
            }
            return Ok(done.map(|()| Reply::Done)?);
        }
        if self.broken_transaction {
            return Err(Error::PgWorker(
                "the connection was lost inside a transaction".into(),
            ));
        }
        self.ensure_open()?;
        match request {
            Request::Execute(sql, values) => {
                let params: Vec<&(dyn ToSql + Sync)> =
                    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                match self.execute_once(&sql, &params) {
                    Ok(n) => Ok(Reply::Changed(n)),
                    Err(e) => {
                        // A write is not repeated: it may have been applied before the
                        // connection went. The next request gets a new connection.
                        if self.lost(&e) && !self.in_transaction {
                            let _ = self.reconnect();
                        }
                        Err(e.into())
                    }
                }
            }
            Request::Query(sql, values) => {
                let params: Vec<&(dyn ToSql + Sync)> =
                    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                let rows = match self.query_once(&sql, &params) {
                    Ok(rows) => rows,
                    // A read that found the connection gone (the server restarted since the
                    // last request) is safe to run again once, on a new connection.
                    Err(e) if self.lost(&e) && !self.in_transaction => {
                        self.reconnect()?;
                        self.query_once(&sql, &params)?
                    }
                    Err(e) => return Err(e.into()),
                };
                Ok(Reply::Rows(
                    rows.iter()
                        .map(|row| {
                            (0..row.len())
                                .map(|i| row.try_get::<_, Value>(i))
                                .collect::<std::result::Result<Vec<_>, _>>()
                        })
                        .collect::<std::result::Result<Vec<_>, _>>()?,
                ))
            }
            Request::Batch(_) => Err(Error::PgWorker("unexpected request".into())),
        }
    }
}

fn serve(mut conn: Conn, jobs: &mpsc::Receiver<Job>) {
    while let Ok((request, reply)) = jobs.recv() {
        let answer = conn.run(request);
        if let Err(e) = &answer {
            tracing::debug!("postgresql: {e}");
        }
        // The store may have given up waiting (it never does today); nothing to do then.
        let _ = reply.send(answer);
    }
}

/// The type a parameter is cast to where the server cannot infer one (`?2 IS NULL`): what the
/// value is, and BIGINT for NULL (such tests are of optional ids).
fn cast_for(v: Option<&Value>) -> &'static str {
    match v {
        Some(Value::Text(_)) => "TEXT",
        Some(Value::Real(_)) => "FLOAT8",
        Some(Value::Blob(_)) => "BYTEA",
        Some(Value::Integer(_) | Value::Null) | None => "BIGINT",
    }
}

impl Worker {
    /// Connect to `url` (`postgresql://user@host:port/db`, as PySOGS's `[db] url`).
    pub(crate) fn connect(url: &str) -> Result<Self> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let owned_url = url.to_owned();
        thread::Builder::new()
            .name("sogs-postgres".into())
            .spawn(move || match Client::connect(&owned_url, NoTls) {
                Ok(client) => {
                    let _ = ready_tx.send(Ok(()));
                    let conn = Conn {
                        url: owned_url,
                        client,
                        statements: std::collections::HashMap::new(),
                        in_transaction: false,
                        broken_transaction: false,
                    };
                    serve(conn, &job_rx);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| Error::PgWorker(e.to_string()))?;
        ready_rx
            .recv()
            .map_err(|_| Error::PgWorker("the connection thread ended".into()))??;
        Ok(Self {
            jobs,
            name: redact(url),
        })
    }

    /// The URL without its password.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, request: Request) -> Result<Reply> {
        let (tx, rx) = mpsc::channel();
        self.jobs
            .send((request, tx))
            .map_err(|_| Error::PgWorker("the connection thread ended".into()))?;
        rx.recv()
            .map_err(|_| Error::PgWorker("the connection thread ended".into()))?
    }

    pub(crate) fn execute(&self, sql: &str, values: Vec<Value>) -> Result<usize> {
        match self.call(Request::Execute(placeholders(sql, &values), values))? {
            Reply::Changed(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => Err(Error::PgWorker("unexpected reply".into())),
        }
    }

    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        match self.call(Request::Batch(sql.to_owned()))? {
            Reply::Done => Ok(()),
            _ => Err(Error::PgWorker("unexpected reply".into())),
        }
    }

    pub(crate) fn query(&self, sql: &str, values: Vec<Value>) -> Result<Vec<Vec<Value>>> {
        match self.call(Request::Query(placeholders(sql, &values), values))? {
            Reply::Rows(rows) => Ok(rows),
            _ => Err(Error::PgWorker("unexpected reply".into())),
        }
    }
}

/// `postgresql://user:secret@host/db` → `postgresql://user@host/db`, for messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, host) = match rest.split_once('@') {
        Some((auth, host)) => (Some(auth), host),
        None => (None, rest),
    };
    match auth {
        Some(auth) => {
            let user = auth.split_once(':').map_or(auth, |(u, _)| u);
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_outside_quotes_only() {
        assert_eq!(
            placeholders("SELECT ?1, '?2', \"?3\", ?12 WHERE x = ? ", &[]),
            "SELECT $1, '?2', \"?3\", $12 WHERE x = $13 "
        );
        assert_eq!(placeholders("IN (?,?) AND ?1", &[]), "IN ($1,$2) AND $1");
        assert_eq!(placeholders("'it''s ?1' ?2", &[]), "'it''s ?1' $2");
    }

    #[test]
    fn null_tests_are_cast() {
        let values = [Value::Null, Value::Text("a".into())];
        assert_eq!(
            placeholders("(?1 IS NULL OR x = ?1) AND ?2 is not null", &values),
            "($1::BIGINT IS NULL OR x = $1) AND $2::TEXT is not null"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgresql://u:pw@h:5/db"), "postgresql://u@h:5/db");
        assert_eq!(redact("postgresql://h/db"), "postgresql://h/db");
        assert_eq!(redact("postgresql:///db"), "postgresql:///db");
    }
}
