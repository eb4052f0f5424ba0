//! # The index's database, embedded: SQLite
//!
//! The SQLite side of [`super::Db`]: the store's statements run as written (their dialect is
//! SQLite's), each prepared once and cached by the connection, bound from [`Value`]s, and
//! their rows read into owned [`Row`]s as PostgreSQL's are (module `pg`).

use super::{Error, Result, Row, ToValue, Value};

/// Runs one statement; answers the number of rows it changed.
pub(super) fn execute(
    c: &rusqlite::Connection,
    sql: &str,
    params: &[&dyn ToValue],
) -> Result<usize> {
    let mut st = c.prepare_cached(sql)?;
    bind(&mut st, params)?;
    Ok(st.raw_execute()?)
}

/// Runs a query and hands each row to `f`, until it answers false or the rows end.
pub(super) fn each_row(
    c: &rusqlite::Connection,
    sql: &str,
    params: &[&dyn ToValue],
    mut f: impl FnMut(Row) -> Result<bool>,
) -> Result<()> {
    let mut st = c.prepare_cached(sql)?;
    bind(&mut st, params)?;
    let n = st.column_count();
    let mut rows = st.raw_query();
    while let Some(r) = rows.next()? {
        if !f(row(r, n)?)? {
            break;
        }
    }
    Ok(())
}

fn bind(st: &mut rusqlite::CachedStatement<'_>, params: &[&dyn ToValue]) -> Result<()> {
    for (i, p) in params.iter().enumerate() {
        let v = p.to_value();
        let i = i + 1;
        match v {
            Value::Null => st.raw_bind_parameter(i, rusqlite::types::Null)?,
            Value::Integer(n) => st.raw_bind_parameter(i, n)?,
            Value::Real(r) => st.raw_bind_parameter(i, r)?,
            Value::Text(t) => st.raw_bind_parameter(i, t)?,
            Value::Blob(b) => st.raw_bind_parameter(i, b)?,
        }
    }
    // As rusqlite's own binding: a statement must be given exactly its parameters.
    if st.parameter_count() != params.len() {
        return Err(Error::Sqlite(rusqlite::Error::InvalidParameterCount(
            params.len(),
            st.parameter_count(),
        )));
    }
    Ok(())
}

fn row(r: &rusqlite::Row<'_>, n: usize) -> Result<Row> {
    use rusqlite::types::ValueRef;
    let mut values = Vec::with_capacity(n);
    for i in 0..n {
        values.push(match r.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        });
    }
    Ok(Row(values))
}
