//! # Moving a store up: its index to PostgreSQL, its objects to a bucket
//!
//! A department that starts on the embedded default and later runs PostgreSQL or object
//! storage moves its store there with `intake store migrate`, after naming the database in
//! `[store]` and the bucket in `[store.objects]`. Nothing is moved in place:
//! - the index's rows are copied table by table into the empty database in one transaction,
//!   ids kept, counted on both sides before it commits; the SQLite index then records where
//!   it went, and intake refuses to open it again as the store's index;
//! - every object is copied, each copy is read back from the bucket and its SHA-256 checked,
//!   and only then does the index record the new place, in one statement.
//!
//! A run cut short leaves the store as it was; a second run does what is left (the bucket's
//! copies already made are not made again). The SQLite file and the objects on disk are left
//! where they were, for staff to remove once they trust the new places.

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::db::params;
use super::db::{ToValue, Value};
use super::objects::{Bucket, Local};
use super::verify::list_objects;
use super::{Store, StoreError, io, lock, sql};
use crate::config::store::ObjectsAt;
use crate::config::store::{IndexAt, Postgres, StoreAt};

/// What `intake store migrate` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Migrated {
    /// The index's move, when there was one.
    pub index: Option<IndexMoved>,
    /// The objects' move, when there was one.
    pub objects: Option<Moved>,
}

/// What moving the index did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IndexMoved {
    /// The SQLite file.
    pub from: String,
    /// The database.
    pub to: String,
    /// Rows copied, by table.
    pub rows: std::collections::BTreeMap<String, u64>,
}

/// What moving the objects did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Moved {
    /// Where the objects were.
    pub from: String,
    /// Where they are now.
    pub to: String,
    /// Objects on disk.
    pub objects: u64,
    /// Of those, copied now (the others the bucket held already, from an earlier run).
    pub copied: u64,
    /// Bytes of all objects.
    pub bytes: u64,
}

/// Why a move did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// There is nothing to move: the index already names this place.
    #[error("the store's objects are already in {0}")]
    AlreadyThere(String),
    /// This binary moves objects from disk to a bucket only.
    #[error(
        "the store's objects are in {from}; intake moves objects from local disk to a bucket only \
         (to move them elsewhere, take a backup, restore it, and move that)"
    )]
    Unsupported {
        /// Where the objects are.
        from: String,
    },
    /// The configuration names no bucket.
    #[error(
        "the configuration keeps objects on local disk: name the bucket in [store.objects] \
         (kind = \"s3\") before moving them"
    )]
    NoBucket,
    /// Objects on disk are damaged or missing: moving them would carry the damage along.
    #[error(
        "{} object(s) of the store are missing or altered on disk (first: {}); restore them from \
         a backup (intake verify lists them all), then move",
        list.len(),
        list.first().map(String::as_str).unwrap_or_default()
    )]
    Damaged {
        /// What is wrong, one line each.
        list: Vec<String>,
    },
    /// The database already holds another store.
    #[error(
        "the database {0} already holds an intake store with messages in it: intake moves an \
         embedded index only into an empty database"
    )]
    DatabaseNotEmpty(String),
    /// Rows copied do not count the same on both sides.
    #[error(
        "table {table}: {from} rows in the embedded index, {to} in the database; nothing was moved"
    )]
    Miscounted {
        /// The table.
        table: String,
        /// Rows in SQLite.
        from: u64,
        /// Rows in PostgreSQL.
        to: u64,
    },
    /// Nothing to do.
    #[error(
        "the store is already where the configuration says ({0}): name a PostgreSQL database in \
         [store] or a bucket in [store.objects] to move it there"
    )]
    NothingToMove(String),
    /// A copy in the bucket does not read back as written.
    #[error("the bucket did not give back what was written: {0}")]
    Unfaithful(String),
}

/// Moves the store in `dir` to where `to` says: its index into PostgreSQL when `to` names a
/// database and the index is still the embedded one, then its objects into the bucket when
/// `to` names one and they are still on disk. Takes the writer's lock of each index it opens:
/// refuses while intake runs on the store.
pub fn run(dir: &Path, to: &StoreAt) -> std::result::Result<Migrated, MoveError> {
    let mut done = Migrated::default();
    let (store, _lock) = match &to.index {
        IndexAt::Sqlite => {
            if !Store::exists(dir) {
                return Err(StoreError::Missing(dir.to_path_buf()).into());
            }
            let lock = lock(dir)?.ok_or_else(|| StoreError::Locked(dir.to_path_buf()))?;
            let mut store = Store::connect(dir)?;
            store.upgrade()?;
            (store, Some(lock))
        }
        IndexAt::Postgres(pg) => {
            let store = Store::open_with_place_unchecked(dir, &to.index)?;
            // An embedded index not moved yet (to this database) is copied first.
            if Store::exists(dir) && super::moved_to(dir)?.is_none_or(|url| url != pg.url) {
                let lock = lock(dir)?.ok_or_else(|| StoreError::Locked(dir.to_path_buf()))?;
                let mut from = Store::connect(dir)?;
                from.upgrade()?;
                done.index = Some(index(&from, &store, pg)?);
                drop(from);
                drop(lock);
            }
            (store, None)
        }
    };
    if to.objects != ObjectsAt::Local || store.objects_place()? != ObjectsAt::Local.identity() {
        match objects(dir, &store, &to.objects) {
            Ok(moved) => done.objects = Some(moved),
            Err(MoveError::AlreadyThere(_)) => {}
            Err(e) => return Err(e),
        }
    }
    if done.index.is_none() && done.objects.is_none() {
        return Err(MoveError::NothingToMove(format!(
            "{}, {}",
            store.db_path.display(),
            store.objects_place()?
        )));
    }
    Ok(done)
}

/// The tables of the index, in an order where every row's references come before it.
const TABLES: &[&str] = &[
    "meta",
    "messages",
    "files",
    "findings",
    "data",
    "versions",
    "events",
    "outbox",
    "sent_files",
    "reminders",
    "digests",
    "exemptions",
    "extensions",
    "imap_sync",
    "drop_left_alone",
];

/// Most parameters one INSERT statement carries.
const BATCH_PARAMS: usize = 30_000;

/// Copies every row of the embedded index `from` into the empty database of `to`, in one
/// transaction, counted on both sides before it commits; then marks the embedded index moved.
fn index(from: &Store, to: &Store, pg: &Postgres) -> std::result::Result<IndexMoved, MoveError> {
    let src = |e| sql(&from.db_path, e);
    let dst = |e| sql(&to.db_path, e);
    let used: bool = to
        .db()
        .query_row("SELECT EXISTS (SELECT 1 FROM messages)", params![], |r| {
            r.get(0)
        })
        .map_err(dst)?;
    if used {
        return Err(MoveError::DatabaseNotEmpty(pg.url.clone()));
    }
    let known: Vec<String> = from
        .db()
        .query_rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            params![],
            |r| r.get(0),
        )
        .map_err(src)?;
    let mut moved = IndexMoved {
        from: from.db_path.display().to_string(),
        to: pg.url.clone(),
        ..IndexMoved::default()
    };
    let db = to.db();
    db.execute_batch("BEGIN").map_err(dst)?;
    let copied = (|| -> std::result::Result<(), MoveError> {
        // The meta rows of a fresh database (none yet) give way to the store's own.
        db.execute("DELETE FROM meta", params![]).map_err(dst)?;
        for table in TABLES.iter().filter(|t| known.iter().any(|k| k == *t)) {
            let columns: Vec<String> = from
                .db()
                .query_rows(
                    &format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
                    params![],
                    |r| r.get(0),
                )
                .map_err(src)?;
            let list = columns.join(", ");
            let rows: Vec<Vec<Value>> = from
                .db()
                .query_rows(
                    &format!("SELECT {list} FROM {table} ORDER BY rowid"),
                    params![],
                    |r| (0..columns.len()).map(|i| r.get::<Value>(i)).collect(),
                )
                .map_err(src)?;
            let per = (BATCH_PARAMS / columns.len().max(1)).max(1);
            for chunk in rows.chunks(per) {
                let mut n = 0;
                let tuples: Vec<String> = chunk
                    .iter()
                    .map(|row| {
                        let marks: Vec<String> = row
                            .iter()
                            .map(|_| {
                                n += 1;
                                format!("?{n}")
                            })
                            .collect();
                        format!("({})", marks.join(", "))
                    })
                    .collect();
                let values: Vec<&dyn ToValue> = chunk
                    .iter()
                    .flat_map(|row| row.iter().map(|v| v as &dyn ToValue))
                    .collect();
                db.execute(
                    &format!("INSERT INTO {table} ({list}) VALUES {}", tuples.join(", ")),
                    &values,
                )
                .map_err(dst)?;
            }
            let counted: u64 = db
                .query_row(&format!("SELECT count(*) FROM {table}"), params![], |r| {
                    r.get(0)
                })
                .map_err(dst)?;
            if counted != rows.len() as u64 {
                return Err(MoveError::Miscounted {
                    table: table.to_string(),
                    from: rows.len() as u64,
                    to: counted,
                });
            }
            if columns.iter().any(|c| c == "id") {
                // The ids were copied: new rows go on after the highest.
                db.query_row(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                    ),
                    params![],
                    |_| Ok(()),
                )
                .map_err(dst)?;
            }
            moved.rows.insert(table.to_string(), rows.len() as u64);
        }
        to.set_meta("moved_from", &moved.from)?;
        Ok(())
    })();
    match copied {
        Ok(()) => db.execute_batch("COMMIT").map_err(dst)?,
        Err(e) => {
            let _ = db.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    // The embedded index is the store's no more.
    from.set_meta("moved_to", &pg.url)?;
    tracing::info!(from = %moved.from, to = %moved.to, rows = moved.rows.values().sum::<u64>(), "store index moved");
    Ok(moved)
}

/// Moves the objects of `store` (in `dir`) to the bucket `to` names, then records the new
/// place in the index.
fn objects(dir: &Path, store: &Store, to: &ObjectsAt) -> std::result::Result<Moved, MoveError> {
    let from = store.objects_place()?;
    let target = to.identity();
    if from == target {
        return Err(MoveError::AlreadyThere(target));
    }
    let ObjectsAt::S3(s3) = to else {
        return Err(MoveError::Unsupported { from });
    };
    if from != ObjectsAt::Local.identity() {
        return Err(MoveError::Unsupported { from });
    }
    let referenced = {
        let s = |e| sql(&store.db_path, e);
        super::verify::referenced(store.db()).map_err(s)?
    };
    let (present, _) = list_objects(dir)?;
    let missing: Vec<String> = referenced
        .iter()
        .filter(|sha| present.binary_search(sha).is_err())
        .map(|sha| format!("{sha} (missing)"))
        .collect();
    if !missing.is_empty() {
        return Err(MoveError::Damaged { list: missing });
    }
    let local = Local::new(dir);
    let bucket = Bucket::open(s3).map_err(|e| io(dir, e))?;
    let held: std::collections::HashMap<String, u64> =
        bucket.list().map_err(|e| io(dir, e))?.into_iter().collect();
    let mut moved = Moved {
        from,
        to: target.clone(),
        ..Moved::default()
    };
    let mut damaged = Vec::new();
    let bar = crate::progress::bar(present.len() as u64, "tệp");
    bar.set_prefix("Chuyển");
    for sha in &present {
        bar.inc(1);
        let bytes = match local.get(sha) {
            Ok(bytes) => bytes,
            Err(e) => {
                damaged.push(format!("{sha} ({e})"));
                continue;
            }
        };
        if hex::encode(Sha256::digest(&bytes)) != *sha {
            damaged.push(format!("{sha} (altered)"));
            continue;
        }
        moved.objects += 1;
        moved.bytes += bytes.len() as u64;
        if held.get(sha) == Some(&(bytes.len() as u64)) {
            continue;
        }
        bucket.put(sha, &bytes).map_err(|e| io(dir, e))?;
        moved.copied += 1;
    }
    bar.finish_and_clear();
    if !damaged.is_empty() {
        return Err(MoveError::Damaged { list: damaged });
    }
    // Every copy read back from the bucket before the index names it.
    let bar = crate::progress::bar(present.len() as u64, "tệp");
    bar.set_prefix("Kiểm tra");
    for sha in &present {
        bar.inc(1);
        let back = bucket.get(sha).map_err(|e| io(dir, e))?;
        if hex::encode(Sha256::digest(&back)) != *sha {
            return Err(MoveError::Unfaithful(bucket.describe(sha)));
        }
    }
    bar.finish_and_clear();
    store.set_meta("objects", &target)?;
    tracing::info!(store = %dir.display(), to = %target, objects = moved.objects, copied = moved.copied, "store objects moved");
    Ok(moved)
}
