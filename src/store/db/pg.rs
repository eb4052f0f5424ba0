//! # The PostgreSQL side of the database layer
//!
//! The connection, on a thread of its own, and the conversions between the layer's
//! [`Value`]s and PostgreSQL's wire types. Statements arrive here already written in the SQL
//! both databases take and are turned into PostgreSQL's by [`dialect`].

use super::{Result, Row, ToValue, Value, dialect};

/// A PostgreSQL connection on a thread of its own.
///
/// The synchronous client blocks on a tokio runtime of its own for every statement, which
/// tokio forbids on a thread that is driving tasks: the IMAP source calls the store inside its
/// runtime, the board drops pooled connections in its handlers. So the client lives on its
/// own thread and statements are sent to it; the caller waits for the answer on a channel,
/// which works from any thread. Dropping the connection ends the thread, which closes it.
pub(super) struct PgConn {
    jobs: std::sync::mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce(&mut postgres::Client) + Send>;

impl PgConn {
    pub(super) fn new(mut client: postgres::Client) -> PgConn {
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("intake-pg".into())
            .spawn(move || {
                for job in rx {
                    job(&mut client);
                }
            })
            .expect("a thread for the database connection");
        PgConn { jobs }
    }

    /// Runs `f` with the client and answers what it gives.
    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move |client| {
                let _ = tx.send(f(client));
            }))
            .expect("the database connection's thread is running");
        rx.recv().expect("the database connection's thread answers")
    }

    pub(super) fn batch(&self, sql: &str) -> Result<()> {
        let sql = dialect(sql);
        Ok(self.call(move |c| c.batch_execute(&sql))?)
    }

    pub(super) fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> Result<u64> {
        let (sql, values) = (dialect(sql), pg_values(params));
        Ok(self.call(move |c| c.execute(sql.as_str(), &pg_refs(&values)))?)
    }

    pub(super) fn query(&self, sql: &str, params: &[&dyn ToValue]) -> Result<Vec<Row>> {
        let (sql, values) = (dialect(sql), pg_values(params));
        self.call(move |c| -> Result<Vec<Row>> {
            c.query(sql.as_str(), &pg_refs(&values))?
                .iter()
                .map(pg_row)
                .collect()
        })
    }
}

/// A parameter as PostgreSQL takes it. Texts go as untyped literals so that the server
/// gives them the type their column or comparison wants, as SQLite's affinity does.
#[derive(Debug)]
enum PgValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl postgres::types::ToSql for PgValue {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
    {
        use postgres::types::{IsNull, Type};
        match self {
            PgValue::Null => Ok(IsNull::Yes),
            PgValue::Integer(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::FLOAT4 => (*i as f32).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            PgValue::Real(r) => match *ty {
                Type::FLOAT4 => (*r as f32).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => r.to_string().to_sql(ty, out),
                _ => r.to_sql(ty, out),
            },
            PgValue::Text(t) => t.as_str().to_sql(ty, out),
            PgValue::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_ty: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

fn pg_values(params: &[&dyn ToValue]) -> Vec<PgValue> {
    params
        .iter()
        .map(|p| match p.to_value() {
            Value::Null => PgValue::Null,
            Value::Integer(i) => PgValue::Integer(i),
            Value::Real(r) => PgValue::Real(r),
            Value::Text(t) => PgValue::Text(t),
            Value::Blob(b) => PgValue::Blob(b),
        })
        .collect()
}

fn pg_refs(values: &[PgValue]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

fn pg_row(r: &postgres::Row) -> Result<Row> {
    use postgres::types::Type;
    let mut values = Vec::with_capacity(r.len());
    for (i, column) in r.columns().iter().enumerate() {
        let v = match *column.type_() {
            Type::BOOL => r
                .try_get::<_, Option<bool>>(i)?
                .map_or(Value::Null, |b| Value::Integer(i64::from(b))),
            Type::INT2 => r
                .try_get::<_, Option<i16>>(i)?
                .map_or(Value::Null, |n| Value::Integer(n.into())),
            Type::INT4 => r
                .try_get::<_, Option<i32>>(i)?
                .map_or(Value::Null, |n| Value::Integer(n.into())),
            Type::INT8 => r
                .try_get::<_, Option<i64>>(i)?
                .map_or(Value::Null, Value::Integer),
            Type::FLOAT4 => r
                .try_get::<_, Option<f32>>(i)?
                .map_or(Value::Null, |f| Value::Real(f.into())),
            Type::FLOAT8 => r
                .try_get::<_, Option<f64>>(i)?
                .map_or(Value::Null, Value::Real),
            Type::NUMERIC => r
                .try_get::<_, Option<PgNumeric>>(i)?
                .map_or(Value::Null, |n| n.0),
            Type::VOID => Value::Null,
            Type::BYTEA => r
                .try_get::<_, Option<Vec<u8>>>(i)?
                .map_or(Value::Null, Value::Blob),
            _ => r
                .try_get::<_, Option<String>>(i)?
                .map_or(Value::Null, Value::Text),
        };
        values.push(v);
    }
    Ok(Row(values))
}

/// A NUMERIC (what `sum` of BIGINTs gives), read through its text form.
struct PgNumeric(Value);

impl<'a> postgres::types::FromSql<'a> for PgNumeric {
    fn from_sql(
        _ty: &postgres::types::Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        // Binary NUMERIC: ndigits, weight, sign, dscale, then base-10000 digits.
        let word =
            |k: usize| -> std::result::Result<i64, Box<dyn std::error::Error + Sync + Send>> {
                let b = raw.get(k..k + 2).ok_or("a short NUMERIC")?;
                Ok(i64::from(i16::from_be_bytes([b[0], b[1]])))
            };
        let ndigits = word(0)? as usize;
        let weight = word(2)?;
        let sign = u16::from_be_bytes([raw[4], raw[5]]);
        let dscale = word(6)?;
        let mut value = 0f64;
        for d in 0..ndigits {
            value += word(8 + 2 * d)? as f64 * 10000f64.powi((weight - d as i64) as i32);
        }
        if sign == 0x4000 {
            value = -value;
        }
        Ok(PgNumeric(if dscale == 0 && value.abs() < 9.0e15 {
            Value::Integer(value as i64)
        } else {
            Value::Real(value)
        }))
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        *ty == postgres::types::Type::NUMERIC
    }
}
