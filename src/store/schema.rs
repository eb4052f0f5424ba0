//! # Schema versions
//!
//! The index outlives the binary that made it: a store is upgraded in place when a newer
//! intake starts on it, and an older intake must not write into a layout it does not know.
//! The schema is an ordered list of migrations, keyed by `PRAGMA user_version`; the writer
//! runs the ones a store lacks in one transaction at open, so a crash in an upgrade leaves the
//! store as it was. A change to the schema is a new migration at the end of [`MIGRATIONS`],
//! never an edit of an earlier one.

use rusqlite::{Connection, TransactionBehavior};

/// The schema version this binary writes.
pub const CURRENT: u32 = MIGRATIONS.len() as u32;

/// Migration `n` (from index 0) brings a store from version `n` to `n + 1`.
const MIGRATIONS: &[fn(&Connection) -> rusqlite::Result<()>] = &[v1, v2];

/// Version 1: the schema as it was before versions were counted. Every statement is
/// idempotent, so a store made then (version 0, its tables already there, perhaps lacking the
/// columns added along the way) is adopted as version 1 without loss.
fn v1(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(include_str!("schema.sql"))?;
    add_text_columns(conn, "outbox", &["next_attempt_at", "failed_at", "cc_addr"])?;
    // Sender authentication, decided once at intake (verdict and its evidence as JSON), and
    // the clerk who forwarded an agency's message.
    add_text_columns(conn, "messages", &["auth", "auth_evidence", "forwarded_by"])?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS sent_files (sha256 TEXT PRIMARY KEY, outbox INTEGER, at TEXT NOT NULL)",
    )?;
    // What status counts and lists, read from the index rather than the rows with their bodies.
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS outbox_state ON outbox(sent_at, failed_at, attempts, last_error)",
    )?;
    Ok(())
}

/// Version 2: leases, daemons and board sessions, for an index several daemons share, and
/// the outbox's claims (which daemon sends a mail, until when).
fn v2(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(include_str!("schema_v2.sql"))?;
    add_columns(conn, "outbox", &["claimed_by"], "TEXT")?;
    add_columns(conn, "outbox", &["claimed_until_ms"], "INTEGER")
}

/// Adds the text columns a table made by an earlier version lacks.
fn add_text_columns(conn: &Connection, table: &str, wanted: &[&str]) -> rusqlite::Result<()> {
    add_columns(conn, table, wanted, "TEXT")
}

/// Adds the columns of type `kind` a table lacks (every migration step can run again).
fn add_columns(
    conn: &Connection,
    table: &str,
    wanted: &[&str],
    kind: &str,
) -> rusqlite::Result<()> {
    let mut columns = std::collections::HashSet::new();
    let mut st = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
    for name in st.query_map([], |r| r.get::<_, String>(0))? {
        columns.insert(name?);
    }
    for column in wanted.iter().filter(|c| !columns.contains(**c)) {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"))?;
    }
    Ok(())
}

/// Where a store's schema stands against this binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Made by this version.
    Current,
    /// Made by an earlier version: migrations to run.
    Older(u32),
    /// Made by a later version this binary does not know.
    Newer(u32),
}

/// The version a store's index says it has.
pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Where `found` stands against [`CURRENT`].
pub fn standing(found: u32) -> Standing {
    match found.cmp(&CURRENT) {
        std::cmp::Ordering::Equal => Standing::Current,
        std::cmp::Ordering::Less => Standing::Older(found),
        std::cmp::Ordering::Greater => Standing::Newer(found),
    }
}

/// What [`migrate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrated {
    /// The store is at [`CURRENT`] now; it was at this version before.
    From(u32),
    /// The store is newer than this binary (at this version) and was left untouched.
    Newer(u32),
}

/// Runs the migrations the store lacks, in one transaction. The version is read inside the
/// transaction, so two processes upgrading at once cannot both run a migration.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<Migrated> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = version(&tx)?;
    if found > CURRENT {
        return Ok(Migrated::Newer(found));
    }
    for step in &MIGRATIONS[found as usize..] {
        step(&tx)?;
    }
    if found != CURRENT {
        tx.pragma_update(None, "user_version", CURRENT)?;
    }
    tx.commit()?;
    Ok(Migrated::From(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(conn: &Connection) -> Vec<String> {
        let mut st = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn a_fresh_index_gets_every_migration_and_a_second_run_does_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Migrated::From(0));
        assert_eq!(version(&conn).unwrap(), CURRENT);
        let made = tables(&conn);
        assert!(made.contains(&"messages".to_string()), "{made:?}");
        assert!(made.contains(&"sent_files".to_string()), "{made:?}");
        assert_eq!(migrate(&mut conn).unwrap(), Migrated::From(CURRENT));
        assert_eq!(tables(&conn), made);
    }

    #[test]
    fn a_newer_index_is_left_alone() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", CURRENT + 3)
            .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Migrated::Newer(CURRENT + 3));
        assert!(tables(&conn).is_empty());
        assert_eq!(standing(CURRENT + 3), Standing::Newer(CURRENT + 3));
        assert_eq!(standing(0), Standing::Older(0));
    }
}
