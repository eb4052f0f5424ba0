//! # Backups and restores
//!
//! Copying a store's folder while the daemon writes can catch the index between a page and
//! its WAL frame, or an object named before it is flushed. A backup instead takes the index
//! through SQLite's online backup API (one consistent instant, the daemon never paused), then
//! copies every object that instant refers to, checking each SHA-256: objects are written and
//! flushed before the rows that name them commit, so all of them are there. The filed tree is
//! not copied: it is a view of the index, made again at restore. A manifest written last says
//! the backup is complete.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use super::db::Db;
use super::objects::{Bucket, Local, Objects};
use super::verify::{self, file_error, hash_file, objects_of};
use super::{Store, StoreError, schema};
use crate::config::store::{ObjectsAt, StoreAt};

/// The manifest's file name in a backup folder.
pub const MANIFEST: &str = "backup.json";

/// What a manifest's `format` says.
const FORMAT: &str = "intake-backup";

/// Something that stops a backup or a restore.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The store (or the backup's index) failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The index is a PostgreSQL database, which its own tools back up.
    #[error(
        "the store's index is the PostgreSQL database {0}: back it up with the database's own \
         tools (pg_dump, or the server's continuous archiving) and the objects with the bucket's \
         versioning or replication; intake backup copies an embedded store"
    )]
    SharedIndex(String),
    /// The destination already holds something.
    #[error(
        "{} is not empty: a backup goes into a new folder, a restore into an empty store \
         (or give --force to set the store there aside)",
        .0.display()
    )]
    NotEmpty(PathBuf),
    /// The folder holds no complete backup.
    #[error("{} holds no complete intake backup (no {MANIFEST}, or it cannot be read: {why})", path.display())]
    NotABackup {
        /// The folder.
        path: PathBuf,
        /// What is wrong with the manifest.
        why: String,
    },
    /// Objects the index refers to are missing or altered.
    #[error(
        "{} objects of {} are missing or altered ({}): run `intake verify` on it",
        list.len(),
        path.display(),
        list.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
    )]
    Damaged {
        /// The store or backup.
        path: PathBuf,
        /// The objects, with what is wrong.
        list: Vec<String>,
    },
}

/// A backup's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always "intake-backup".
    pub format: String,
    /// The schema version of the index.
    pub schema_version: u32,
    /// The intake that made it.
    pub intake_version: String,
    /// The instant of the index copy (RFC 3339).
    pub taken_at: String,
    /// The store it was taken from.
    pub source: PathBuf,
    /// Rows of the index's main tables.
    pub messages: u64,
    /// The largest message row (every message up to it is in the backup).
    pub last_message: Option<i64>,
    /// File rows.
    pub files: u64,
    /// Version rows.
    pub versions: u64,
    /// Intake-log rows.
    pub events: u64,
    /// Outbox rows.
    pub outbox: u64,
    /// Objects copied.
    pub objects: u64,
    /// Their total size.
    pub object_bytes: u64,
    /// Of those, hard links to the store's own (same file system).
    pub linked: u64,
}

/// Backs up the store in `store_dir` into the new folder `dest`.
pub fn backup(store_dir: &Path, at: &StoreAt, dest: &Path) -> Result<Manifest, BackupError> {
    if dest.exists() && !is_empty(dest)? {
        return Err(BackupError::NotEmpty(dest.to_path_buf()));
    }
    let store = Store::open_read_with(store_dir, at)?;
    if store.db().is_postgres() {
        return Err(BackupError::SharedIndex(
            store.db_path.display().to_string(),
        ));
    }
    std::fs::create_dir_all(dest).map_err(|e| file_error(dest, e))?;
    let part = dest.join("intake.sqlite.part");
    let sql = |e| super::sql(&part, e);
    let mut copy = Connection::open(&part).map_err(sql)?;
    {
        let online = rusqlite::backup::Backup::new(store.conn(), &mut copy).map_err(sql)?;
        // All pages in one step: one read transaction of the source, so one instant. A
        // writer is never blocked (WAL); a step that finds the source busy is tried again.
        loop {
            match online.step(-1).map_err(sql)? {
                rusqlite::backup::StepResult::Done => break,
                _ => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    }
    // A backup holds its objects beside its index, whichever place the store keeps them in.
    copy.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'objects'",
        [ObjectsAt::Local.identity()],
    )
    .map_err(sql)?;
    let taken_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    // A self-contained file: no WAL to carry along, opened read-only anywhere.
    copy.pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get::<_, String>(0))
        .map_err(sql)?;
    let index = Db::sqlite(copy);
    let referenced = verify::referenced(&index).map_err(|e| super::sql(&part, e))?;
    let copy = index.as_sqlite().expect("the backup's index is SQLite");
    let count = |table: &str| -> rusqlite::Result<u64> {
        copy.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n as u64)
    };
    let mut manifest = Manifest {
        format: FORMAT.into(),
        schema_version: schema::version(copy).map_err(sql)?,
        intake_version: env!("CARGO_PKG_VERSION").into(),
        taken_at,
        source: std::path::absolute(store_dir).unwrap_or_else(|_| store_dir.to_path_buf()),
        messages: count("messages").map_err(sql)?,
        last_message: copy
            .query_row("SELECT max(id) FROM messages", [], |r| r.get(0))
            .map_err(sql)?,
        files: count("files").map_err(sql)?,
        versions: count("versions").map_err(sql)?,
        events: count("events").map_err(sql)?,
        outbox: count("outbox").map_err(sql)?,
        objects: 0,
        object_bytes: 0,
        linked: 0,
    };
    // Closed before the file is renamed into place.
    drop(index);

    let from = store.objects();
    let to = objects_of(dest);
    let bar = crate::progress::bar(referenced.len() as u64, "tệp");
    bar.set_prefix("Sao lưu");
    let mut damaged = Vec::new();
    for sha in &referenced {
        let copied = match from {
            Objects::Local(local) => copy_object(&local.path(sha), &to.path(sha), sha),
            Objects::Bucket(bucket) => fetch_object(bucket, &to, sha),
        };
        match copied {
            Ok((len, linked)) => {
                manifest.objects += 1;
                manifest.object_bytes += len;
                manifest.linked += u64::from(linked);
            }
            Err(why) => damaged.push(format!("{sha}: {why}")),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if !damaged.is_empty() {
        return Err(BackupError::Damaged {
            path: store_dir.to_path_buf(),
            list: damaged,
        });
    }
    let db = dest.join("intake.sqlite");
    std::fs::rename(&part, &db).map_err(|e| file_error(&db, e))?;
    to.sync().map_err(|e| file_error(dest, e))?;
    write_manifest(dest, &manifest)?;
    to.sync().map_err(|e| file_error(dest, e))?;
    tracing::info!(store = %store_dir.display(), backup = %dest.display(), objects = manifest.objects, messages = manifest.messages, "store backed up");
    Ok(manifest)
}

/// Reads a backup's manifest.
pub fn manifest(backup: &Path) -> Result<Manifest, BackupError> {
    let path = backup.join(MANIFEST);
    let not = |why: String| BackupError::NotABackup {
        path: backup.to_path_buf(),
        why,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| not(e.to_string()))?;
    let m: Manifest = serde_json::from_str(&text).map_err(|e| not(e.to_string()))?;
    if m.format != FORMAT {
        return Err(not(format!("format \"{}\"", m.format)));
    }
    Ok(m)
}

/// Checks a backup without changing it: its manifest, its index (integrity, foreign keys, a
/// schema this binary knows) and every object its index refers to, by SHA-256.
pub fn check(backup: &Path) -> Result<Manifest, BackupError> {
    let m = manifest(backup)?;
    let db = backup.join("intake.sqlite");
    let sql = |e| super::sql(&db, e);
    if !db.is_file() {
        return Err(BackupError::NotABackup {
            path: backup.to_path_buf(),
            why: "intake.sqlite is missing".into(),
        });
    }
    let index = Db::sqlite(
        Connection::open_with_flags(
            &db,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql)?,
    );
    let conn = index.as_sqlite().expect("a backup's index is SQLite");
    let found = schema::version(conn).map_err(sql)?;
    if found > schema::CURRENT {
        return Err(StoreError::TooNew {
            path: backup.to_path_buf(),
            found,
            known: schema::CURRENT,
        }
        .into());
    }
    let (integrity, foreign_keys) = verify::check_index(conn).map_err(sql)?;
    let mut damaged: Vec<String> = integrity.into_iter().chain(foreign_keys).collect();
    let objects = objects_of(backup);
    let referenced = verify::referenced(&index).map_err(|e| super::sql(&db, e))?;
    let bar = crate::progress::bar(referenced.len() as u64, "tệp");
    bar.set_prefix("Kiểm tra bản sao lưu");
    for sha in &referenced {
        match hash_file(&objects.path(sha)) {
            Ok((hash, _)) if hash == *sha => {}
            Ok(_) => damaged.push(format!("{sha}: altered")),
            Err(e) => damaged.push(format!("{sha}: {e}")),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if !damaged.is_empty() {
        return Err(BackupError::Damaged {
            path: backup.to_path_buf(),
            list: damaged,
        });
    }
    Ok(m)
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    /// The backup's manifest.
    pub manifest: Manifest,
    /// Objects put in place.
    pub objects: u64,
    /// Filed-tree links made.
    pub links: usize,
    /// Where the store that was there went (with `--force`).
    pub set_aside: Option<PathBuf>,
}

/// Restores the backup in `backup` into `store_dir`, after checking it. The store folder must
/// be empty unless `force`, which moves what is there aside (`<store>.replaced-<time>`); a
/// store a running intake holds is never touched.
pub fn restore(backup: &Path, store_dir: &Path, force: bool) -> Result<Restored, BackupError> {
    let manifest = check(backup)?;
    if Store::is_held(store_dir)? {
        return Err(StoreError::Locked(store_dir.to_path_buf()).into());
    }
    let mut set_aside = None;
    if store_dir.exists() && !is_empty_store(store_dir)? {
        if !force {
            return Err(BackupError::NotEmpty(store_dir.to_path_buf()));
        }
        // Held while it moves, so no daemon starts on it halfway.
        let lock = super::lock(store_dir)?.ok_or_else(|| StoreError::Locked(store_dir.into()))?;
        let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S");
        let name = store_dir.file_name().unwrap_or_default().to_string_lossy();
        let aside = store_dir.with_file_name(format!("{name}.replaced-{stamp}"));
        std::fs::rename(store_dir, &aside).map_err(|e| file_error(store_dir, e))?;
        drop(lock);
        tracing::info!(store = %store_dir.display(), aside = %aside.display(), "store set aside for a restore");
        set_aside = Some(aside);
    }
    std::fs::create_dir_all(store_dir).map_err(|e| file_error(store_dir, e))?;
    let objects = {
        let _lock = super::lock(store_dir)?.ok_or_else(|| StoreError::Locked(store_dir.into()))?;
        let (present, _) = verify::list_objects(backup)?;
        let from = objects_of(backup);
        let to = objects_of(store_dir);
        let bar = crate::progress::bar(present.len() as u64, "tệp");
        bar.set_prefix("Khôi phục");
        let mut damaged = Vec::new();
        for sha in &present {
            if let Err(why) = copy_object(&from.path(sha), &to.path(sha), sha) {
                damaged.push(format!("{sha}: {why}"));
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        if !damaged.is_empty() {
            return Err(BackupError::Damaged {
                path: backup.to_path_buf(),
                list: damaged,
            });
        }
        let db = store_dir.join("intake.sqlite");
        let part = store_dir.join("intake.sqlite.part");
        std::fs::copy(backup.join("intake.sqlite"), &part).map_err(|e| file_error(&part, e))?;
        std::fs::rename(&part, &db).map_err(|e| file_error(&db, e))?;
        to.sync().map_err(|e| file_error(store_dir, e))?;
        present.len() as u64
    };
    // As a daemon would open it: the schema upgraded if the backup is older, then the
    // filed tree made from the index.
    let store = Store::open(store_dir)?;
    let links = store.repair_tree()?;
    tracing::info!(store = %store_dir.display(), backup = %backup.display(), objects, links, "store restored");
    Ok(Restored {
        manifest,
        objects,
        links,
        set_aside,
    })
}

/// Puts one object in place (a hard link on the same file system, else a copy) and checks
/// the SHA-256 of what is now there: its size and whether it was linked.
/// Copies an object out of a bucket into a backup, checking its SHA-256 on the way.
fn fetch_object(from: &Bucket, to: &Local, sha: &str) -> Result<(u64, bool), String> {
    let bytes = from.get(sha).map_err(|e| e.to_string())?;
    if hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)) != sha {
        return Err("altered (its content does not match its name)".into());
    }
    to.put(sha, &bytes)
        .map_err(|e| format!("{}: {e}", to.path(sha).display()))?;
    Ok((bytes.len() as u64, false))
}

fn copy_object(from: &Path, to: &Path, sha: &str) -> Result<(u64, bool), String> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let linked = match std::fs::hard_link(from, to) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("{}: {e}", from.display()));
        }
        Err(_) => {
            // Another file system (or links not allowed): a copy, flushed with the rest.
            let part = to.with_extension("part");
            std::fs::copy(from, &part)
                .and_then(|_| std::fs::rename(&part, to))
                .map_err(|e| format!("{}: {e}", to.display()))?;
            false
        }
    };
    match hash_file(to) {
        Ok((hash, len)) if hash == sha => Ok((len, linked)),
        Ok(_) => {
            let _ = std::fs::remove_file(to);
            Err("altered (its content does not match its name)".into())
        }
        Err(e) => Err(format!("{}: {e}", to.display())),
    }
}

fn write_manifest(dest: &Path, m: &Manifest) -> Result<(), BackupError> {
    let path = dest.join(MANIFEST);
    let part = dest.join(format!("{MANIFEST}.part"));
    let text = serde_json::to_string_pretty(m).expect("a manifest serialises");
    std::fs::write(&part, text)
        .and_then(|()| std::fs::rename(&part, &path))
        .map_err(|e| file_error(&path, e))?;
    Ok(())
}

fn is_empty(dir: &Path) -> Result<bool, BackupError> {
    Ok(std::fs::read_dir(dir)
        .map_err(|e| file_error(dir, e))?
        .next()
        .is_none())
}

/// A store folder with nothing in it but, perhaps, its lock file.
fn is_empty_store(dir: &Path) -> Result<bool, BackupError> {
    Ok(std::fs::read_dir(dir)
        .map_err(|e| file_error(dir, e))?
        .flatten()
        .all(|e| e.file_name() == "intake.lock"))
}
