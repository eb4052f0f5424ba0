//! # The index's database, embedded or shared
//!
//! The index is SQLite in the store's folder by default, or a PostgreSQL database that several
//! daemons share. The store's statements are written once, in the SQL both understand, with
//! SQLite's numbered parameters (`?1`); [`Db`] runs them on either, turning the parameters
//! into PostgreSQL's (`$1`) and `INSERT OR IGNORE` into `ON CONFLICT DO NOTHING` on the way.
//! Rows come back as owned [`Value`]s, read with [`Row::get`] as SQLite's own rows are, so a
//! statement's caller does not know which database answered.
//!
//! Each database's side is a file of its own: `sqlite.rs`, `pg.rs`.
//!
//! What only one of them has stays outside: SQLite's online backup and integrity pragmas
//! (modules `backup`, `verify`) use the SQLite connection itself ([`Db::as_sqlite`]).

use std::fmt;

/// A value in a row, or a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (SQLite INTEGER, PostgreSQL BIGINT/INTEGER/SMALLINT/BOOLEAN).
    Integer(i64),
    /// A float (REAL, DOUBLE PRECISION).
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// What went wrong with the database.
#[derive(Debug)]
pub enum Error {
    /// SQLite's error.
    Sqlite(rusqlite::Error),
    /// PostgreSQL's error.
    Postgres(postgres::Error),
    /// A query meant to give one row gave none.
    NoRows,
    /// A column did not hold what the reader wanted.
    Type {
        /// The column's index.
        column: usize,
        /// What the reader wanted.
        wanted: &'static str,
        /// What the column held.
        found: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sqlite(e) => write!(f, "{e}"),
            Error::Postgres(e) => write!(f, "{e}"),
            Error::NoRows => f.write_str("the query gave no row"),
            Error::Type {
                column,
                wanted,
                found,
            } => write!(f, "column {column} holds {found}, not {wanted}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // The wrapped error's own cause: its message is this one's already.
        match self {
            Error::Sqlite(e) => e.source(),
            Error::Postgres(e) => e.source(),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::NoRows,
            e => Error::Sqlite(e),
        }
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        Error::Postgres(e)
    }
}

/// A database result.
pub type Result<T> = std::result::Result<T, Error>;

/// A value a statement takes as a parameter.
pub trait ToValue {
    /// The value.
    fn to_value(&self) -> Value;
}

macro_rules! integer_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Integer(*self as i64)
            }
        }
    )*};
}
integer_to_value!(i64, i32, u32, u16, u8, u64, usize);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
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

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// A statement's parameters, in order: `params![a, b]`.
#[macro_export]
macro_rules! db_params {
    () => {
        &[] as &[&dyn $crate::store::db::ToValue]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::store::db::ToValue),+] as &[&dyn $crate::store::db::ToValue]
    };
}
pub use crate::db_params as params;

/// A type a column is read as.
pub trait FromValue: Sized {
    /// Reads the value of column `column`.
    fn from_value(v: &Value, column: usize) -> Result<Self>;
}

fn wrong<T>(v: &Value, column: usize, wanted: &'static str) -> Result<T> {
    Err(Error::Type {
        column,
        wanted,
        found: match v {
            Value::Null => "NULL".into(),
            Value::Integer(i) => format!("the integer {i}"),
            Value::Real(r) => format!("the number {r}"),
            Value::Text(t) => format!("the text {t:?}"),
            Value::Blob(b) => format!("{} bytes", b.len()),
        },
    })
}

macro_rules! integer_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value, column: usize) -> Result<Self> {
                match v {
                    Value::Integer(i) => <$t>::try_from(*i)
                        .or_else(|_| wrong(v, column, stringify!($t))),
                    _ => wrong(v, column, stringify!($t)),
                }
            }
        }
    )*};
}
integer_from_value!(i64, i32, u32, u16, u8, u64, usize);

impl FromValue for bool {
    fn from_value(v: &Value, column: usize) -> Result<Self> {
        match v {
            Value::Integer(i) => Ok(*i != 0),
            _ => wrong(v, column, "bool"),
        }
    }
}

impl FromValue for f64 {
    fn from_value(v: &Value, column: usize) -> Result<Self> {
        match v {
            Value::Real(r) => Ok(*r),
            Value::Integer(i) => Ok(*i as f64),
            _ => wrong(v, column, "f64"),
        }
    }
}

impl FromValue for String {
    fn from_value(v: &Value, column: usize) -> Result<Self> {
        match v {
            Value::Text(t) => Ok(t.clone()),
            _ => wrong(v, column, "text"),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: &Value, column: usize) -> Result<Self> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(t) => Ok(t.clone().into_bytes()),
            _ => wrong(v, column, "bytes"),
        }
    }
}

impl FromValue for Value {
    fn from_value(v: &Value, _column: usize) -> Result<Self> {
        Ok(v.clone())
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value, column: usize) -> Result<Self> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v, column).map(Some),
        }
    }
}

/// A row of a result.
#[derive(Debug, Clone)]
pub struct Row(Vec<Value>);

impl Row {
    /// Column `i` as a `T`.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        match self.0.get(i) {
            Some(v) => T::from_value(v, i),
            None => Err(Error::Type {
                column: i,
                wanted: "a column",
                found: format!("a row of {} columns", self.0.len()),
            }),
        }
    }
}

/// `.optional()` on the result of a query for one row: no row is `None`.
pub trait OptionalExtension<T> {
    /// None when the query gave no row.
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A connection to the index.
pub struct Db(Kind);

mod pg;
mod sqlite;

use pg::PgConn;

enum Kind {
    Sqlite(rusqlite::Connection),
    Postgres(PgConn),
}

impl Db {
    /// The embedded index.
    pub fn sqlite(conn: rusqlite::Connection) -> Db {
        Db(Kind::Sqlite(conn))
    }

    /// A PostgreSQL index.
    pub fn postgres(client: postgres::Client) -> Db {
        Db(Kind::Postgres(PgConn::new(client)))
    }

    /// The SQLite connection, for what only SQLite has (online backup, integrity pragmas);
    /// None on PostgreSQL.
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.0 {
            Kind::Sqlite(c) => Some(c),
            Kind::Postgres(_) => None,
        }
    }

    /// The SQLite connection, mutably (for its own transactions); None on PostgreSQL.
    pub fn as_sqlite_mut(&mut self) -> Option<&mut rusqlite::Connection> {
        match &mut self.0 {
            Kind::Sqlite(c) => Some(c),
            Kind::Postgres(_) => None,
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.0, Kind::Postgres(_))
    }

    /// Runs statements without parameters or results (transaction control, DDL).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.0 {
            Kind::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Kind::Postgres(c) => c.batch(sql),
        }
    }

    /// Runs one statement; answers the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> Result<usize> {
        match &self.0 {
            Kind::Sqlite(c) => sqlite::execute(c, sql, params),
            Kind::Postgres(c) => Ok(c.execute(sql, params)? as usize),
        }
    }

    /// Runs a query and maps every row.
    pub fn query_rows<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        mut f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        match &self.0 {
            Kind::Sqlite(c) => {
                let mut out = Vec::new();
                sqlite::each_row(c, sql, params, |r| {
                    out.push(f(&r)?);
                    Ok(true)
                })?;
                Ok(out)
            }
            Kind::Postgres(c) => c.query(sql, params)?.iter().map(f).collect(),
        }
    }

    /// Runs a query for one row and maps it; [`Error::NoRows`] when there is none
    /// (`.optional()` makes that None).
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        let mut f = Some(f);
        let mut first = None;
        match &self.0 {
            Kind::Sqlite(c) => sqlite::each_row(c, sql, params, |r| {
                first = Some(r);
                Ok(false)
            })?,
            // More than one row is not an error here, as with SQLite: the first counts.
            Kind::Postgres(c) => first = c.query(sql, params)?.into_iter().next(),
        }
        match first {
            Some(row) => (f.take().expect("called once"))(&row),
            None => Err(Error::NoRows),
        }
    }

    /// Inserts rows of `width` values each: `head` is `INSERT INTO table (columns)`. SQLite
    /// takes them one by one through its cached statement (no round trip to save);
    /// PostgreSQL in statements of many rows, since each statement is a round trip and a
    /// workbook brings thousands of values.
    pub fn insert_rows(&self, head: &str, width: usize, rows: &[Vec<Value>]) -> Result<()> {
        let marks = |from: usize| -> String {
            let list: Vec<String> = (from + 1..=from + width).map(|i| format!("?{i}")).collect();
            format!("({})", list.join(", "))
        };
        match &self.0 {
            Kind::Sqlite(_) => {
                let sql = format!("{head} VALUES {}", marks(0));
                for row in rows {
                    let params: Vec<&dyn ToValue> = row.iter().map(|v| v as &dyn ToValue).collect();
                    self.execute(&sql, &params)?;
                }
            }
            Kind::Postgres(_) => {
                const ROWS: usize = 256;
                for chunk in rows.chunks(ROWS) {
                    let tuples: Vec<String> = (0..chunk.len()).map(|r| marks(r * width)).collect();
                    let params: Vec<&dyn ToValue> = chunk
                        .iter()
                        .flat_map(|row| row.iter().map(|v| v as &dyn ToValue))
                        .collect();
                    self.execute(&format!("{head} VALUES {}", tuples.join(", ")), &params)?;
                }
            }
        }
        Ok(())
    }

    /// Runs an INSERT and answers the new row's `id` (`RETURNING id` on both databases).
    pub fn insert_id(&self, sql: &str, params: &[&dyn ToValue]) -> Result<i64> {
        self.query_row(&format!("{sql} RETURNING id"), params, |r| r.get(0))
    }
}

/// PostgreSQL's writer transaction: the advisory lock "intk" / 3, held until commit.
pub const WRITE_TRANSACTION: &str = "BEGIN; SELECT pg_advisory_xact_lock(1768846443, 3)";

/// A statement in the SQL both databases take, as PostgreSQL takes it: `?N` parameters
/// become `$N` (outside quotes), `INSERT OR IGNORE` becomes `INSERT … ON CONFLICT DO NOTHING`.
pub fn dialect(sql: &str) -> String {
    // SQLite's writer transaction: one at a time. On PostgreSQL the same, across every daemon
    // sharing the database: a transaction-level lock taken first, released at its end. What
    // the store decides from what it read (versions, reminder steps, leases) then stays true
    // until it commits, as on SQLite; the work between transactions still runs in parallel.
    if sql.trim().eq_ignore_ascii_case("BEGIN IMMEDIATE") {
        return WRITE_TRANSACTION.into();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            None => out.push(c),
        }
    }
    // SQLite's group_concat(x, separator) is PostgreSQL's string_agg.
    while let Some(at) = out.to_ascii_lowercase().find("group_concat(") {
        out.replace_range(at..at + "group_concat(".len(), "string_agg(");
    }
    let upper = out.to_ascii_uppercase();
    if let Some(at) = upper.find("INSERT OR IGNORE INTO") {
        out.replace_range(at..at + "INSERT OR IGNORE INTO".len(), "INSERT INTO");
        let trimmed = out.trim_end().trim_end_matches(';').len();
        out.truncate(trimmed);
        out.push_str(" ON CONFLICT DO NOTHING");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_written_once_for_both() {
        assert_eq!(
            dialect("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d = $12"
        );
        assert_eq!(
            dialect("INSERT OR IGNORE INTO meta (key, value) VALUES ('k', ?1);"),
            "INSERT INTO meta (key, value) VALUES ('k', $1) ON CONFLICT DO NOTHING"
        );
    }

    #[test]
    fn sqlite_rows_read_as_before() {
        let db = Db::sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b REAL, c INTEGER)")
            .unwrap();
        let id = db
            .insert_id(
                "INSERT INTO t (a, b, c) VALUES (?1, ?2, ?3)",
                params!["x", 1.5, None::<i64>],
            )
            .unwrap();
        assert_eq!(id, 1);
        let got: (String, f64, Option<i64>) = db
            .query_row("SELECT a, b, c FROM t WHERE id = ?1", params![id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(got, ("x".to_string(), 1.5, None));
        let none = db
            .query_row("SELECT a FROM t WHERE id = ?1", params![7], |r| {
                r.get::<String>(0)
            })
            .optional()
            .unwrap();
        assert_eq!(none, None);
        assert!(matches!(
            db.query_row("SELECT a FROM t", params![], |r| r.get::<i64>(0)),
            Err(Error::Type { column: 0, .. })
        ));
        assert!(db.execute("SELECT ?1, ?2", params![1]).is_err());
    }
}
