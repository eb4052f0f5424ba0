//! # The consolidation store
//!
//! By default one folder holds it all: `intake.sqlite` (WAL) indexes messages, files,
//! versions, the intake log and the outbox; `objects/` keeps every byte received, by SHA-256;
//! the filed tree `<campaign>/<agency>/<deliverable>/v<N>-<name>` is what staff open from the
//! shared drive. A plan is recorded in one transaction (objects flushed first), so a crash
//! leaves either all of an item or none of it; sources are acknowledged only after the commit.
//!
//! [`Store`] is the one interface the rest of intake uses; its operations are named by what
//! they mean, a file for each concern:
//! - filing: [`Store::prior`] (the versions an item follows), [`Store::record`] (an examined
//!   item with its plan: rows, objects, log, receipt), `record.rs`; the source keys
//!   ([`Store::source_record`]);
//! - mail: queue, claim ([`Store::claim_mail`]), mark sent or failed; reminder steps decided
//!   once ([`Store::decide_reminder`]) and the day's digest, `mail.rs`;
//! - sharing: leases, fences and the daemons alive, `leases.rs`; board sessions,
//!   `board_sessions.rs`;
//! - reading: the status and the intake log (`query.rs`), the board's views (`views.rs`), the
//!   reminders' rows (`notice_rows.rs`);
//! - keeping: `verify.rs`, `backup.rs`, `migrate.rs` (moving up), `schema.rs` (versions).
//!
//! Underneath, each part has two implementations chosen by the configuration: the index's
//! database ([`db`]: `db/sqlite.rs` embedded, `db/pg.rs` shared, the same statements for both)
//! and the objects (`objects/local.rs` on disk, `objects/s3.rs` in a bucket).

pub mod backup;
mod board_sessions;
pub mod db;
mod decisions;
pub mod leases;
pub mod left_alone;
pub mod mail;
pub mod mailbox_state;
pub mod migrate;
pub mod notice_rows;
mod objects;
mod postgres;
pub mod query;
mod record;
pub mod schema;
pub mod verify;
pub mod views;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use rusqlite::Connection;

use db::{Db, OptionalExtension, params};

pub use crate::core::pipeline::Held;
pub use objects::{Bucket, Objects, component};

use crate::config::store::{IndexAt, ObjectsAt, Postgres, StoreAt};
use crate::core::pipeline::{Examined, Prior, VersionState};

/// Something went wrong in the machine (disk, database), not in the input.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite index failed.
    #[error("store index {path}")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: db::Error,
    },
    /// Reading or writing a file of the store failed.
    #[error("store file {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another intake process holds the store.
    #[error("the store {0} is in use by another intake process")]
    Locked(PathBuf),
    /// A source's lease passed to another daemon: what this one was filing from it is left
    /// to the new holder.
    #[error("the lease on {0} passed to another intake process")]
    LeaseLost(String),
    /// A request named something the store does not hold.
    #[error("{0}")]
    NotFound(String),
    /// A command that only reads found no store where the configuration says it is.
    #[error(
        "there is no intake store at {} (no intake.sqlite): commands that only read never make one; \
         set data_dir (or [store] path) in the configuration file (--config, INTAKE_CONFIG) to the \
         folder that holds the store, or start `intake run` to make it there",
        .0.display()
    )]
    Missing(PathBuf),
    /// The store was made by a later intake, whose schema this binary does not know.
    #[error(
        "the store {} has schema version {found}, newer than this intake knows ({known}): \
         upgrade intake to the version that made it, or a later one",
        path.display()
    )]
    TooNew {
        /// The store's folder.
        path: PathBuf,
        /// Its schema version.
        found: u32,
        /// The newest version this binary knows.
        known: u32,
    },
    /// The store was made by an earlier intake and its daemon (of that version) still runs.
    #[error(
        "the store {} has schema version {found}, older than this intake's ({known}), and another \
         intake process holds it: restart the daemon with this version, which upgrades the store",
        path.display()
    )]
    Outdated {
        /// The store's folder.
        path: PathBuf,
        /// Its schema version.
        found: u32,
        /// The version this binary writes.
        known: u32,
    },
    /// The index's database server cannot be reached or refuses the login.
    #[error("the store's database {what} cannot be used: {why}")]
    Unreachable {
        /// The database, without its password.
        what: String,
        /// What went wrong.
        why: String,
    },
    /// The embedded index was moved into a database, and is the store's no more.
    #[error(
        "the store's index in {} was moved to the database {url} (intake store migrate): \
         name that database in [store] (kind = \"postgres\", url) to go on with it",
        path.display()
    )]
    Moved {
        /// The store's folder.
        path: PathBuf,
        /// The database it went to.
        url: String,
    },
    /// The database holds no store (its schema was never made).
    #[error(
        "the database {0} holds no intake store yet: commands that only read never make one; \
         start `intake run` to make it there, or correct [store] url in the configuration file"
    )]
    MissingDatabase(String),
    /// The configuration points the store at objects that are not the ones its index names.
    #[error(
        "the store {} keeps its objects in {recorded}, but the configuration says {configured}: \
         the index and its objects belong together; correct [store.objects] in the configuration \
         file, or, to move objects from local disk to the bucket it names, run `intake store migrate`",
        path.display()
    )]
    ObjectsElsewhere {
        /// The store's folder.
        path: PathBuf,
        /// Where the index says its objects are.
        recorded: String,
        /// Where the configuration says they are.
        configured: String,
    },
}

type Result<T> = std::result::Result<T, StoreError>;

/// What the store knows of a source item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    /// The message row.
    pub id: i64,
    /// Its outcome.
    pub outcome: String,
    /// Where its acknowledgement stands.
    pub ack: Ack,
}

/// Where a recorded item's acknowledgement at its source stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// To be done (a crash came between the commit and the move).
    Pending,
    /// Done.
    Done,
    /// Never: intake leaves the item as it was.
    Never,
}

/// The outcome of recording one item.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The message row id (the receipt number is made from it).
    pub id: i64,
    /// Filed-tree links to make after the commit: (sha256, relative path).
    pub links: Vec<(String, String)>,
}

/// The store.
pub struct Store {
    dir: PathBuf,
    db_path: PathBuf,
    conn: Db,
    objects: Objects,
    /// Where the index is, to open more connections to it.
    index: IndexAt,
    _lock: Option<std::fs::File>,
}

impl Store {
    /// Opens (creating if needed) the store for reading and writing, taking the writer lock;
    /// upgrades its schema and removes what a crashed writer left half-written.
    pub fn open(dir: &Path) -> Result<Store> {
        Self::open_with(dir, &StoreAt::default())
    }

    /// [`Store::open`] with the index and objects where `at` says. The first open records
    /// where the objects are in the index; a later open that names another place is refused.
    pub fn open_with(dir: &Path, at: &StoreAt) -> Result<Store> {
        let mut store = Self::open_with_place_unchecked(dir, &at.index)?;
        store.place_objects(&at.objects, true)?;
        let removed = verify::remove_object_leftovers(dir);
        if removed > 0 {
            tracing::info!(
                files = removed,
                store = %dir.display(),
                "removed temporary object files an interrupted run left"
            );
        }
        Ok(store)
    }

    /// The writer's open of the index alone, its objects not yet placed (for moving them).
    pub(crate) fn open_with_place_unchecked(dir: &Path, index: &IndexAt) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let store = match index {
            IndexAt::Sqlite => {
                let lock = lock(dir)?.ok_or_else(|| StoreError::Locked(dir.to_path_buf()))?;
                let mut store = Self::connect(dir)?;
                store.upgrade()?;
                store.refuse_moved()?;
                store._lock = Some(lock);
                store
            }
            IndexAt::Postgres(pg) => {
                let store = Self::connect_postgres(dir, pg)?;
                match postgres::migrate(&store.conn).map_err(|e| store.sql(e))? {
                    Err(found) => return Err(too_new(dir, found)),
                    Ok(found) if found != postgres::CURRENT => {
                        tracing::info!(database = %postgres::describe(pg), from = found, to = postgres::CURRENT, "store schema upgraded");
                    }
                    Ok(_) => {}
                }
                if !postgres::join_writers(&store.conn).map_err(|e| store.sql(e))? {
                    return Err(StoreError::Locked(PathBuf::from(postgres::describe(pg))));
                }
                store
            }
        };
        Ok(store)
    }

    /// Opens the store for reading while a daemon may be writing (no lock taken). A store
    /// that is not there is an error (nothing is created); so is one made by a later intake.
    /// One made by an earlier intake is upgraded when no daemon holds it.
    pub fn open_read(dir: &Path) -> Result<Store> {
        Self::open_read_with(dir, &StoreAt::default())
    }

    /// [`Store::open_read`] with the index and objects where `at` says.
    pub fn open_read_with(dir: &Path, at: &StoreAt) -> Result<Store> {
        let mut store = Self::open_read_index(dir, &at.index)?;
        store.place_objects(&at.objects, false)?;
        Ok(store)
    }

    fn connect_postgres(dir: &Path, pg: &Postgres) -> Result<Store> {
        let client = postgres::connect(pg).map_err(|why| StoreError::Unreachable {
            what: postgres::describe(pg),
            why,
        })?;
        Ok(Store {
            dir: dir.to_path_buf(),
            db_path: PathBuf::from(postgres::describe(pg)),
            conn: Db::postgres(client),
            objects: Objects::new(dir),
            index: IndexAt::Postgres(pg.clone()),
            _lock: None,
        })
    }

    fn open_read_postgres(dir: &Path, pg: &Postgres) -> Result<Store> {
        let store = Self::connect_postgres(dir, pg)?;
        let found = postgres::version(&store.conn).map_err(|e| store.sql(e))?;
        match found.cmp(&postgres::CURRENT) {
            std::cmp::Ordering::Equal => Ok(store),
            std::cmp::Ordering::Greater => Err(too_new(dir, found)),
            std::cmp::Ordering::Less if found == 0 => {
                Err(StoreError::MissingDatabase(postgres::describe(pg)))
            }
            std::cmp::Ordering::Less => {
                if postgres::writer_held(&store.conn).map_err(|e| store.sql(e))? {
                    return Err(StoreError::Outdated {
                        path: store.db_path.clone(),
                        found,
                        known: postgres::CURRENT,
                    });
                }
                match postgres::migrate(&store.conn).map_err(|e| store.sql(e))? {
                    Ok(_) => Ok(store),
                    Err(found) => Err(too_new(dir, found)),
                }
            }
        }
    }

    /// [`Store::open_read`] for the index alone, whatever the configuration says of the objects:
    /// for a reader that never touches an object (the mailbox's connection state).
    pub fn open_read_index(dir: &Path, index: &IndexAt) -> Result<Store> {
        match index {
            IndexAt::Sqlite => Self::open_read_sqlite(dir),
            IndexAt::Postgres(pg) => Self::open_read_postgres(dir, pg),
        }
    }

    fn open_read_sqlite(dir: &Path) -> Result<Store> {
        let store = Self::open_read_sqlite_index(dir)?;
        store.refuse_moved()?;
        Ok(store)
    }

    /// An embedded index moved into a database is the store's no more.
    fn refuse_moved(&self) -> Result<()> {
        if self.conn.is_postgres() {
            return Ok(());
        }
        match self.meta("moved_to")? {
            Some(url) => Err(StoreError::Moved {
                path: self.dir.clone(),
                url,
            }),
            None => Ok(()),
        }
    }

    fn open_read_sqlite_index(dir: &Path) -> Result<Store> {
        if !Self::exists(dir) {
            return Err(StoreError::Missing(dir.to_path_buf()));
        }
        let mut store = Self::connect_with(dir, false)?;
        // A daemon just starting has made the file and is migrating it: a moment's wait.
        let patience = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let found = schema::version(store.conn()).map_err(|e| store.sql(e))?;
            match schema::standing(found) {
                schema::Standing::Current => return Ok(store),
                schema::Standing::Newer(found) => return Err(too_new(dir, found)),
                schema::Standing::Older(found) => match lock(dir)? {
                    Some(_held_while_upgrading) => {
                        store.upgrade()?;
                        return Ok(store);
                    }
                    None if std::time::Instant::now() < patience => {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    }
                    None => {
                        return Err(StoreError::Outdated {
                            path: dir.to_path_buf(),
                            found,
                            known: schema::CURRENT,
                        });
                    }
                },
            }
        }
    }

    /// Whether `dir` holds a store (its index).
    pub fn exists(dir: &Path) -> bool {
        dir.join("intake.sqlite").is_file()
    }

    /// Whether an intake process holds the store's writer lock now.
    pub fn is_held(dir: &Path) -> Result<bool> {
        if !dir.join("intake.lock").exists() {
            return Ok(false);
        }
        Ok(lock(dir)?.is_none())
    }

    fn upgrade(&mut self) -> Result<()> {
        let conn = self
            .conn
            .as_sqlite_mut()
            .expect("an embedded store's index is SQLite");
        match schema::migrate(conn).map_err(|e| sql(&self.db_path, e))? {
            schema::Migrated::Newer(found) => Err(too_new(&self.dir, found)),
            schema::Migrated::From(found) if found != schema::CURRENT => {
                tracing::info!(store = %self.dir.display(), from = found, to = schema::CURRENT, "store schema upgraded");
                Ok(())
            }
            schema::Migrated::From(_) => Ok(()),
        }
    }

    fn connect(dir: &Path) -> Result<Store> {
        Self::connect_with(dir, true)
    }

    fn connect_with(dir: &Path, create: bool) -> Result<Store> {
        let db_path = dir.join("intake.sqlite");
        let s = |e| sql(&db_path, e);
        let conn = if create {
            Connection::open(&db_path)
        } else {
            use rusqlite::OpenFlags;
            Connection::open_with_flags(
                &db_path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
        }
        .map_err(s)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(s)?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
            .map_err(s)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(s)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(s)?;
        Ok(Store {
            dir: dir.to_path_buf(),
            objects: Objects::new(dir),
            index: IndexAt::Sqlite,
            db_path,
            conn: Db::sqlite(conn),
            _lock: None,
        })
    }

    /// Checks `at` against the place the index records for the store's objects (recording it
    /// when `record` and none is there yet), then keeps the objects there.
    fn place_objects(&mut self, at: &ObjectsAt, record: bool) -> Result<()> {
        let recorded = self.recorded_place()?;
        let configured = at.identity();
        match recorded {
            Some(place) if place != configured => {
                return Err(StoreError::ObjectsElsewhere {
                    path: self.dir.clone(),
                    recorded: place,
                    configured,
                });
            }
            _ if record => {
                self.conn
                    .execute(
                        "INSERT OR IGNORE INTO meta (key, value) VALUES ('objects', ?1)",
                        params![&configured],
                    )
                    .map_err(|e| self.sql(e))?;
            }
            _ => {}
        }
        self.objects = Objects::open(&self.dir, at).map_err(|e| io(&self.dir, e))?;
        Ok(())
    }

    /// Where the index says the store's objects are ([`ObjectsAt::identity`]).
    pub fn objects_place(&self) -> Result<String> {
        Ok(self
            .recorded_place()?
            .unwrap_or_else(|| ObjectsAt::Local.identity()))
    }

    /// A fact about the store itself (its `meta` table).
    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// Records a fact about the store itself, replacing what was there.
    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
            .map_err(|e| self.sql(e))
    }

    /// The place the index records; None for a store not used yet, which takes the place it
    /// is first opened with.
    fn recorded_place(&self) -> Result<Option<String>> {
        match self.meta("objects")? {
            Some(place) => Ok(Some(place)),
            // A store made before the place was recorded kept its objects on disk.
            None => {
                let used: bool = self
                    .conn
                    .query_row("SELECT EXISTS (SELECT 1 FROM messages)", params![], |r| {
                        r.get(0)
                    })
                    .map_err(|e| self.sql(e))?;
                Ok(used.then(|| ObjectsAt::Local.identity()))
            }
        }
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The object folder and filed tree.
    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    /// The index's database.
    pub(crate) fn db(&self) -> &Db {
        &self.conn
    }

    /// The SQLite connection, for what only SQLite has (online backup, integrity checks).
    pub(crate) fn conn(&self) -> &Connection {
        self.conn
            .as_sqlite()
            .expect("an embedded store's index is SQLite")
    }

    fn sql(&self, e: impl Into<db::Error>) -> StoreError {
        sql(&self.db_path, e)
    }

    /// Starts a batch: everything recorded until [`Store::commit`] lands together.
    pub fn begin(&self) -> Result<()> {
        let begun = self.conn.execute_batch("BEGIN IMMEDIATE");
        // On PostgreSQL the transaction may be open though its lock was not taken (a lock
        // timeout, a cancelled query): it is closed, so that the connection stays usable.
        if begun.is_err() && self.conn.is_postgres() {
            self.rollback();
        }
        begun.map_err(|e| self.sql(e))
    }

    /// Flushes the batch's objects to disk, then commits its index rows. A failure rolls the
    /// batch back: no transaction (and on PostgreSQL no writers' lock) outlives it.
    pub fn commit(&self) -> Result<()> {
        if let Err(e) = self.objects.sync() {
            self.rollback();
            return Err(io(&self.dir, e));
        }
        self.conn.execute_batch("COMMIT").map_err(|e| {
            self.rollback();
            self.sql(e)
        })
    }

    /// Abandons the batch.
    pub fn rollback(&self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    /// What the store knows of a source key.
    pub fn source_record(&self, key: &str) -> Result<Option<SourceRecord>> {
        self.conn
            .query_row(
                "SELECT id, outcome, acknowledged FROM messages WHERE source_key = ?1",
                params![key],
                |r| {
                    Ok(SourceRecord {
                        id: r.get(0)?,
                        outcome: r.get(1)?,
                        ack: match r.get::<i64>(2)? {
                            0 => Ack::Pending,
                            1 => Ack::Done,
                            _ => Ack::Never,
                        },
                    })
                },
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// A key not yet used, for an item that came back under a key already recorded.
    pub fn next_free_key(&self, key: &str) -> Result<String> {
        for n in 2.. {
            let candidate = format!("{key}#{n}");
            if self.source_record(&candidate)?.is_none() {
                return Ok(candidate);
            }
        }
        unreachable!("some suffix is free")
    }

    /// Logs, for staff, a source item that keeps failing to be read.
    pub fn log_unreadable_source(
        &self,
        source: &str,
        path: &str,
        error: &str,
        at: DateTime<FixedOffset>,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO events (at, kind, source, detail) VALUES (?1, 'source-unreadable', ?2, ?3)",
                params![at.to_rfc3339(), source, format!("{path}: {error}")],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Notes that the source item was acknowledged (moved or flagged).
    pub fn mark_acknowledged(&self, id: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE messages SET acknowledged = 1 WHERE id = ?1",
                params![id],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// What a plan for these facts depends on.
    pub fn prior(
        &self,
        config: &crate::config::Config,
        ex: &Examined,
        agency: Option<&str>,
    ) -> Result<Prior> {
        let mut prior = Prior::default();
        let counted = "outcome NOT IN ('left-alone', 'unreadable', 'too-large')";
        prior.duplicate_of = self
            .conn
            .query_row(&format!("SELECT id FROM messages WHERE raw_sha256 = ?1 AND source_key <> ?2 AND {counted} LIMIT 1"), params![ex.raw_sha256, ex.key], |r| r.get(0))
            .optional()
            .map_err(|e| self.sql(e))?;
        if let Some(mid) = &ex.envelope.message_id {
            let same: Option<i64> = self
                .conn
                .query_row(&format!("SELECT id FROM messages WHERE message_id = ?1 AND source_key <> ?2 AND {counted} LIMIT 1"), params![mid, ex.key], |r| r.get(0))
                .optional()
                .map_err(|e| self.sql(e))?;
            if let Some(id) = same {
                let hashes = self
                    .conn
                    .query_rows(
                        "SELECT sha256 FROM files WHERE message = ?1",
                        params![id],
                        |r| r.get::<String>(0),
                    )
                    .map_err(|e| self.sql(e))?;
                prior.same_message_id = Some(hashes.into_iter().collect::<HashSet<String>>());
            }
        }
        prior.sent_by_us = self.sent_by_us(ex.files.iter().map(|f| f.sha256.as_str()))?;
        // Only a message its agency's policy may hold needs to know whether the agency was
        // told today; the rest of the mail does not ask.
        let may_hold = |code: &str, verdict: crate::auth::Verdict| {
            verdict == crate::auth::Verdict::Fail
                || (verdict != crate::auth::Verdict::Pass
                    && config
                        .agency(code)
                        .is_some_and(|a| a.auth == crate::config::auth::AuthPolicy::Strict))
        };
        if let (Some(code), Some(verdict)) = (agency, ex.verdict())
            && may_hold(code, verdict)
        {
            // At most one notice in any 24 hours.
            let day_start = ex.arrived - chrono::TimeDelta::hours(24);
            prior.unverified_notice_today = self
                .query_rows(
                    "SELECT created_at FROM outbox WHERE kind = 'unverified-notice' AND agency = ?1 ORDER BY id DESC LIMIT 50",
                    params![code],
                    |r| r.get::<String>(0),
                )?
                .iter()
                .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
                .any(|t| t > day_start);
        }
        if let Some(to) = crate::core::pipeline::reply_address(ex, config).0.as_ref() {
            let since = ex.arrived - chrono::TimeDelta::hours(1);
            prior.recent_receipts = self
                .query_rows(
                    "SELECT m.arrived_at FROM outbox o JOIN messages m ON m.id = o.message WHERE o.kind = 'receipt' AND o.to_addr = ?1 AND m.source_key <> ?2 ORDER BY o.id DESC LIMIT 1000",
                    params![to, ex.key],
                    |r| r.get::<String>(0),
                )?
                .iter()
                .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
                .filter(|t| *t > since && *t <= ex.arrived)
                .count() as u32;
        }
        if let (Some(campaign), Some(agency)) = (&ex.campaign, agency) {
            prior.versions = self.held(campaign, agency)?;
            prior.extension = self.extension(campaign, agency)?;
        }
        Ok(prior)
    }

    /// Per deliverable of an agency: (last version, filed hashes, latest state).
    fn held(&self, campaign: &str, agency: &str) -> Result<HashMap<String, Held>> {
        let mut out: HashMap<String, Held> = HashMap::new();
        let rows = self
            .conn
            .query_rows(
                "SELECT deliverable, version, state FROM versions WHERE campaign = ?1 AND agency = ?2 ORDER BY version",
                params![campaign, agency],
                |r| {
                    Ok((
                        r.get::<String>(0)?,
                        r.get::<u32>(1)?,
                        r.get::<String>(2)?,
                    ))
                },
            )
            .map_err(|e| self.sql(e))?;
        for (d, v, state) in rows {
            let e = out.entry(d).or_default();
            e.0 = e.0.max(v);
            e.2 = parse_state(&state);
        }
        let rows = self
            .conn
            .query_rows(
                "SELECT f.deliverable, f.sha256 FROM files f JOIN messages m ON m.id = f.message WHERE m.campaign = ?1 AND m.agency = ?2 AND f.version IS NOT NULL",
                params![campaign, agency],
                |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
            )
            .map_err(|e| self.sql(e))?;
        for (d, sha) in rows {
            out.entry(d).or_default().1.insert(sha);
        }
        Ok(out)
    }

    /// Runs a query and maps its rows (for modules that read the index directly).
    pub(crate) fn query_rows<T>(
        &self,
        sql: &str,
        params: &[&dyn db::ToValue],
        f: impl FnMut(&db::Row) -> db::Result<T>,
    ) -> Result<Vec<T>> {
        self.conn
            .query_rows(sql, params, f)
            .map_err(|e| self.sql(e))
    }

    /// Makes filed-tree links (after the commit).
    ///
    /// The filed tree is a view: the objects and the index are already committed, so a link
    /// that cannot be made is logged and left for the next start, never allowed to stop intake.
    pub fn link_all(&self, links: &[(String, String)]) -> usize {
        let mut failed = 0;
        for (sha, rel) in links {
            if let Err(e) = self.objects.link(sha, rel) {
                tracing::warn!(path = %self.dir.join(rel).display(), error = %crate::causes::chain(&e), "cannot make a filed-tree link");
                failed += 1;
            }
        }
        failed
    }

    /// Re-makes any filed-tree link a crash left undone. Returns how many were made.
    pub fn repair_tree(&self) -> Result<usize> {
        if !self.objects.has_tree() {
            return Ok(0);
        }
        let rows: Vec<(String, String)> = self
            .conn
            .query_rows(
                "SELECT sha256, filed_path FROM files WHERE filed_path IS NOT NULL",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.sql(e))?;
        let missing: Vec<(String, String)> = rows
            .into_iter()
            .filter(|(_, p)| !self.dir.join(p).exists())
            .collect();
        let failed = self.link_all(&missing);
        Ok(missing.len() - failed)
    }

    /// The raw bytes of a recorded message.
    pub fn raw(&self, id: i64) -> Result<(Vec<u8>, String, String)> {
        let (sha, source, key): (String, String, String) = self
            .conn
            .query_row(
                "SELECT raw_sha256, source, source_key FROM messages WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.sql(e))?
            .ok_or_else(|| StoreError::NotFound(format!("no message {id} in the store")))?;
        let bytes = self
            .objects
            .get(&sha)
            .map_err(|e| io(&self.objects.describe(&sha), e))?;
        Ok((bytes, source, key))
    }

    /// Replaces a quarantined or probable message's record by a new one, filed under the
    /// agency staff chose. The old row keeps its place in the log under a new key.
    pub fn supersede(&self, id: i64) -> Result<String> {
        let key: String = self
            .conn
            .query_row(
                "SELECT source_key FROM messages WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .map_err(|e| self.sql(e))?;
        let new_key = format!("{key}#assigned-from-{id}");
        self.conn
            .execute("UPDATE messages SET source_key = ?1, outcome = outcome || '-reassigned' WHERE id = ?2", params![format!("{key}#superseded-{id}"), id])
            .map_err(|e| self.sql(e))?;
        Ok(new_key)
    }
}

/// Takes the store's writer lock: `None` when another process holds it.
/// Where the embedded index in `dir` was moved to, if it was.
fn moved_to(dir: &Path) -> Result<Option<String>> {
    if !Store::exists(dir) {
        return Ok(None);
    }
    Store::open_read_sqlite_index(dir)?.meta("moved_to")
}

fn lock(dir: &Path) -> Result<Option<std::fs::File>> {
    let lock_path = dir.join("intake.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| io(&lock_path, e))?;
    Ok(lock.try_lock().is_ok().then_some(lock))
}

fn too_new(dir: &Path, found: u32) -> StoreError {
    StoreError::TooNew {
        path: dir.to_path_buf(),
        found,
        known: schema::CURRENT,
    }
}

/// The receipt number of a message row.
pub fn receipt_number(id: i64) -> String {
    format!("BN-{id:06}")
}

fn parse_state(s: &str) -> Option<VersionState> {
    Some(match s {
        "received" => VersionState::Received,
        "invalid" => VersionState::Invalid,
        "accepted" => VersionState::Accepted,
        _ => return None,
    })
}

fn unique(used: &mut HashSet<String>, path: String) -> String {
    if used.insert(path.clone()) {
        return path;
    }
    let (stem, ext) = match path.rsplit_once('.') {
        Some((s, e)) if !e.contains('/') => (s.to_string(), format!(".{e}")),
        _ => (path.clone(), String::new()),
    };
    (2..)
        .map(|n| format!("{stem} ({n}){ext}"))
        .find(|p| used.insert(p.clone()))
        .expect("an unused name exists")
}

fn sql(path: &Path, source: impl Into<db::Error>) -> StoreError {
    StoreError::Sql {
        path: path.to_path_buf(),
        source: source.into(),
    }
}

fn io(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}
