//! # The index on PostgreSQL
//!
//! For deployments that outgrow one machine's SQLite: the same tables (`schema_pg.sql`), the
//! same statements (module `db` turns them into PostgreSQL's), versioned migrations of their
//! own, run in one transaction under an advisory lock so that daemons starting together do
//! not run them twice. Every daemon holds the writers' lock, shared, while its connection
//! lives: a reader that would upgrade the schema sees that some daemon still writes.

use std::sync::Arc;

use postgres::Client;
use rustls::{ClientConfig, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::db::{Db, params};
use crate::config::store::Postgres;

/// Advisory lock keys (two 32-bit halves: "intk" and a purpose).
const LOCK_CLASS: i32 = 0x696e_746b;
/// The writer's lock.
const WRITER: i32 = 1;
/// The migrations' lock.
const MIGRATING: i32 = 2;

/// Migration `n` (from index 0) brings a database from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("schema_pg.sql"),
    concat!(
        include_str!("schema_v2.sql"),
        "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_by TEXT; ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_until_ms BIGINT;"
    ),
];

/// The schema version this binary writes.
pub const CURRENT: u32 = MIGRATIONS.len() as u32;

/// The address without a password, for messages.
pub fn describe(at: &Postgres) -> String {
    at.url.clone()
}

/// Connects to the database.
pub fn connect(at: &Postgres) -> Result<Client, String> {
    let mut config: postgres::Config = at
        .url
        .parse()
        .map_err(|e| format!("{}: {e}", describe(at)))?;
    if let Some(secret) = &at.password {
        let password = secret.read()?;
        config.password(password.expose());
    }
    config.application_name("intake");
    // The server notices a writer whose machine vanished (no close on the wire) within about
    // 25 s, and frees its lock.
    config.options(
        "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3",
    );
    config.connect_timeout(std::time::Duration::from_secs(10));
    // TLS whenever the server offers it (and required off this machine: the configuration
    // refuses a remote url without sslmode=require), the certificate checked against the
    // system's roots or `ca_file`.
    config
        .connect(MakeRustlsConnect::new(tls_config(at)?))
        .map_err(|e| {
            // The causes too: "error performing TLS handshake" alone does not say which.
            let mut said = format!("{}: {e}", describe(at));
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                said.push_str(&format!(": {c}"));
                cause = c.source();
            }
            said
        })
}

/// The client's TLS configuration: the CA file when one is configured (a private server),
/// the system's roots otherwise. Only the ring provider is built in.
fn tls_config(at: &Postgres) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    match &at.ca_file {
        Some(path) => {
            let pem =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            for cert in rustls_pemfile::certs(&mut &pem[..]) {
                let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("{} holds no PEM certificate", path.display()));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The schema version the database has (0: none yet).
pub fn version(db: &Db) -> super::db::Result<u32> {
    let made: bool = db.query_row(
        "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'intake_schema')",
        params![],
        |r| r.get(0),
    )?;
    if !made {
        return Ok(0);
    }
    db.query_row(
        "SELECT coalesce(max(version), 0) FROM intake_schema",
        params![],
        |r| r.get(0),
    )
}

/// Runs the migrations the database lacks, in one transaction under the migrations' lock;
/// answers the version found, or Err with a newer one left untouched.
pub fn migrate(db: &Db) -> super::db::Result<std::result::Result<u32, u32>> {
    db.execute_batch("BEGIN")?;
    let done = (|| {
        db.query_row(
            "SELECT pg_advisory_xact_lock(?1, ?2)",
            params![LOCK_CLASS, MIGRATING],
            |_| Ok(()),
        )?;
        db.execute_batch("CREATE TABLE IF NOT EXISTS intake_schema (version BIGINT NOT NULL)")?;
        let found = version(db)?;
        if found > CURRENT {
            return Ok(Err(found));
        }
        for (n, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            db.execute_batch(step)?;
            db.execute(
                "INSERT INTO intake_schema (version) VALUES (?1)",
                params![n as i64 + 1],
            )?;
        }
        Ok(Ok(found))
    })();
    match &done {
        Ok(Ok(_)) => db.execute_batch("COMMIT")?,
        _ => {
            let _ = db.execute_batch("ROLLBACK");
        }
    }
    done
}

/// Takes the writers' lock, shared, for this connection's life: any number of daemons hold it
/// together (their sources shared out by leases, module `leases`). False when a process holds
/// it alone: an intake of the version before daemons shared the store.
pub fn join_writers(db: &Db) -> super::db::Result<bool> {
    db.query_row(
        "SELECT pg_try_advisory_lock_shared(?1, ?2)",
        params![LOCK_CLASS, WRITER],
        |r| r.get(0),
    )
}

/// Whether some process writes the database now (holds the writers' lock, shared or not).
pub fn writer_held(db: &Db) -> super::db::Result<bool> {
    let alone: bool = db.query_row(
        "SELECT pg_try_advisory_lock(?1, ?2)",
        params![LOCK_CLASS, WRITER],
        |r| r.get(0),
    )?;
    if alone {
        db.query_row(
            "SELECT pg_advisory_unlock(?1, ?2)",
            params![LOCK_CLASS, WRITER],
            |_| Ok(()),
        )?;
        return Ok(false);
    }
    Ok(true)
}
