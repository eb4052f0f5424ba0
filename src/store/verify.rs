//! # Checking a store, and repairing what can be rebuilt
//!
//! A store lives for years on a department's server: disks fail, people delete things in the
//! shared drive, a power cut leaves temporary files. `intake verify` answers one question,
//! "is everything received still here, byte for byte?", and rebuilds what is only a view (the
//! filed tree) or debris (temporary files no writer can still own). What cannot be rebuilt, a
//! missing or altered object or a damaged index, is reported for a restore from a backup.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::db::{Db, params};
use super::{Objects, Result, Store, StoreError, io, schema, sql};

/// A temporary file older than this belongs to no running writer (a writer finishes an object
/// or a staged mail within seconds).
pub const STALE_AFTER: Duration = Duration::from_secs(3600);

/// What `intake verify` found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The store's folder.
    pub store: PathBuf,
    /// Its schema version.
    pub schema_version: u32,
    /// Lines of `PRAGMA integrity_check` other than "ok".
    pub integrity: Vec<String>,
    /// Rows whose parent row is missing (`PRAGMA foreign_key_check`): "table rowid → parent".
    pub foreign_keys: Vec<String>,
    /// Objects on disk whose SHA-256 was computed.
    pub objects: usize,
    /// Their total size.
    pub object_bytes: u64,
    /// Objects the index refers to.
    pub referenced: usize,
    /// Objects whose content no longer matches their name.
    pub corrupt: Vec<String>,
    /// Objects the index refers to that are not on disk.
    pub missing: Vec<String>,
    /// Objects on disk the index does not refer to (a batch rolled back): harmless.
    pub unreferenced: usize,
    /// Files of the filed tree the index names.
    pub tree: usize,
    /// Filed-tree paths that are not there.
    pub tree_missing: Vec<String>,
    /// Filed-tree paths that show something other than their object.
    pub tree_altered: Vec<String>,
    /// Filed-tree paths made again (`--repair`).
    pub tree_repaired: usize,
    /// Altered filed-tree files moved aside before their link was made again.
    pub tree_moved_aside: Vec<String>,
    /// Mail the index says was written into the outbox folder.
    pub outbox_sent: usize,
    /// Of those, the `.eml` files that are gone.
    pub outbox_missing: Vec<String>,
    /// Temporary files no writer can own any more (objects, staged mail).
    pub leftovers: Vec<String>,
    /// Of those, removed (`--repair`).
    pub leftovers_removed: usize,
    /// Whether repairs were asked for.
    pub repair: bool,
}

impl Report {
    /// Damage that no repair can undo: only a backup can.
    pub fn unrepairable(&self) -> usize {
        self.integrity.len()
            + self.foreign_keys.len()
            + self.corrupt.len()
            + self.missing.len()
            + self.outbox_missing.len()
    }

    /// Repairable problems still there (all of them without `--repair`).
    pub fn unrepaired(&self) -> usize {
        (self.tree_missing.len() + self.tree_altered.len()).saturating_sub(self.tree_repaired)
            + self.leftovers.len().saturating_sub(self.leftovers_removed)
    }

    /// Nothing wrong is left.
    pub fn sound(&self) -> bool {
        self.unrepairable() == 0 && self.unrepaired() == 0
    }
}

/// What to check besides the store's own folder.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Rebuild the filed tree and remove stale temporary files.
    pub repair: bool,
    /// The outbox folder of the file transport, whose `.eml` files and staging are checked.
    pub outbox_dir: Option<PathBuf>,
    /// Where the store keeps its objects.
    pub store: crate::config::store::StoreAt,
}

/// Checks the store in `dir` (and repairs it with `options.repair`).
pub fn verify(dir: &Path, options: &Options) -> Result<Report> {
    let store = Store::open_read_with(dir, &options.store)?;
    // With the writer lock free, no one can own a temporary file; taking it also keeps a
    // daemon from starting in the middle of a repair.
    // A store this user may only read has no lock to take: then only age tells.
    let writer_lock = super::lock(dir).ok().flatten();
    let writer_free = writer_lock.is_some();
    let writer_lock = writer_lock.filter(|_| options.repair);
    let mut report = Report {
        store: dir.to_path_buf(),
        repair: options.repair,
        ..Report::default()
    };
    let db = store.db();
    let s = |e| sql(&store.db_path, e);
    // One read transaction: every list below is of the same instant, while a daemon writes.
    // PostgreSQL's needs REPEATABLE READ for that; SQLite's read transactions are snapshots.
    db.execute_batch(if db.is_postgres() {
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    } else {
        "BEGIN"
    })
    .map_err(s)?;
    let snapshot = (|| -> super::db::Result<_> {
        match db.as_sqlite() {
            Some(conn) => {
                report.schema_version = schema::version(conn)?;
                // The database's own consistency checks; PostgreSQL keeps its own.
                let (integrity, foreign_keys) = check_index(conn)?;
                report.integrity = integrity;
                report.foreign_keys = foreign_keys;
            }
            None => report.schema_version = super::postgres::version(db)?,
        }
        let referenced = referenced(db)?;
        let filed = filed(db)?;
        let sent = sent_to_files(db)?;
        Ok((referenced, filed, sent))
    })();
    let _ = db.execute_batch("COMMIT");
    let (referenced, filed, sent) = snapshot.map_err(s)?;
    report.referenced = referenced.len();

    let objects = store.objects();
    let (present, stray) = match objects {
        Objects::Local(_) => list_objects(dir)?,
        Objects::Bucket(bucket) => (
            bucket
                .list()
                .map_err(|e| io(dir, e))?
                .into_iter()
                .map(|(sha, _)| sha)
                .collect(),
            Vec::new(),
        ),
    };
    let bar = crate::progress::bar(present.len() as u64, "tệp");
    bar.set_prefix("Kiểm tra");
    let mut sound = HashSet::new();
    for sha in &present {
        let hashed = match objects {
            Objects::Local(local) => hash_file(&local.path(sha)),
            Objects::Bucket(bucket) => bucket
                .get(sha)
                .map(|bytes| (hex::encode(Sha256::digest(&bytes)), bytes.len() as u64)),
        };
        match hashed {
            Ok((hash, len)) => {
                report.objects += 1;
                report.object_bytes += len;
                if hash == *sha {
                    sound.insert(sha.as_str());
                } else {
                    report.corrupt.push(sha.clone());
                }
            }
            Err(e) => report.corrupt.push(format!("{sha} ({e})")),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let present: HashSet<&str> = present.iter().map(String::as_str).collect();
    report.missing = referenced
        .iter()
        .filter(|sha| !present.contains(sha.as_str()))
        .cloned()
        .collect();
    report.unreferenced = present
        .iter()
        .filter(|sha| !referenced.contains(**sha))
        .count();

    // With objects in a bucket the filed tree is a view made on demand: nothing on disk.
    let filed = if objects.has_tree() {
        filed
    } else {
        BTreeMap::new()
    };
    for (rel, sha) in &filed {
        report.tree += 1;
        let path = dir.join(rel);
        let object = objects.describe(sha);
        match shows(&path, &object, sha) {
            Shows::Object => continue,
            Shows::Nothing => report.tree_missing.push(rel.clone()),
            Shows::Other => report.tree_altered.push(rel.clone()),
        }
        if !options.repair || !sound.contains(sha.as_str()) {
            continue;
        }
        if path.symlink_metadata().is_ok() {
            // Kept beside, not deleted: someone may have saved work into it.
            let aside = aside_name(&path);
            if let Err(e) = std::fs::rename(&path, &aside) {
                tracing::warn!(path = %path.display(), error = %e, "cannot move an altered filed-tree file aside");
                continue;
            }
            report.tree_moved_aside.push(
                aside
                    .strip_prefix(dir)
                    .unwrap_or(&aside)
                    .display()
                    .to_string(),
            );
        }
        match objects.link(sha, rel) {
            Ok(()) => report.tree_repaired += 1,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot make a filed-tree link")
            }
        }
    }

    if let Some(outbox) = &options.outbox_dir {
        for delivered in sent {
            let path = PathBuf::from(&delivered);
            // Mail delivered elsewhere (SMTP, or a store restored from another folder).
            if !path.starts_with(outbox) {
                continue;
            }
            report.outbox_sent += 1;
            if !path.exists() {
                report.outbox_missing.push(delivered);
            }
        }
    }

    let mut candidates = stray;
    if let Some(outbox) = &options.outbox_dir {
        candidates.extend(staged_mail(outbox));
    }
    let now = SystemTime::now();
    for path in candidates {
        let stale = writer_free
            || path
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).unwrap_or_default() >= STALE_AFTER);
        if !stale {
            continue;
        }
        report.leftovers.push(path.display().to_string());
        if options.repair {
            match std::fs::remove_file(&path) {
                Ok(()) => report.leftovers_removed += 1,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove a temporary file")
                }
            }
        }
    }
    if report.tree_repaired + report.leftovers_removed > 0 {
        tracing::info!(
            store = %dir.display(),
            links = report.tree_repaired,
            leftovers = report.leftovers_removed,
            "store repaired"
        );
    }
    drop(writer_lock);
    Ok(report)
}

/// Removes the temporary object files a crashed writer left; the caller holds the writer
/// lock, so none can be in use. Returns how many went. Failures are logged: debris must not
/// stop intake.
pub(crate) fn remove_object_leftovers(dir: &Path) -> usize {
    let stray = match list_objects(dir) {
        Ok((_, stray)) => stray,
        Err(e) => {
            tracing::warn!(error = %crate::causes::chain(&e), "cannot list the object folder");
            return 0;
        }
    };
    remove_all(stray)
}

/// Removes the mail a crashed sender left staged in the outbox folder; call it only while
/// holding the store's writer lock and before anything is sent. Returns how many went.
pub fn remove_outbox_leftovers(outbox_dir: &Path) -> usize {
    let removed = remove_all(staged_mail(outbox_dir));
    if removed > 0 {
        tracing::info!(files = removed, outbox = %outbox_dir.display(), "removed mail an interrupted run left staged");
    }
    removed
}

fn remove_all(paths: Vec<PathBuf>) -> usize {
    let mut removed = 0;
    for path in paths {
        match std::fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove a temporary file")
            }
        }
    }
    removed
}

fn staged_mail(outbox_dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(outbox_dir.join(".staging")) else {
        return Vec::new();
    };
    rd.flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml") && p.is_file())
        .collect()
}

/// The objects on disk (by hash, sorted) and the temporary files among them.
pub(crate) fn list_objects(dir: &Path) -> Result<(Vec<String>, Vec<PathBuf>)> {
    let root = dir.join("objects");
    let mut objects = Vec::new();
    let mut stray = Vec::new();
    let rd = match std::fs::read_dir(&root) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((objects, stray)),
        Err(e) => return Err(io(&root, e)),
    };
    for sub in rd {
        let sub = sub.map_err(|e| io(&root, e))?;
        let prefix = sub.file_name().to_string_lossy().into_owned();
        if !sub.path().is_dir() || !is_hex(&prefix, 2) {
            continue;
        }
        for entry in std::fs::read_dir(sub.path()).map_err(|e| io(&sub.path(), e))? {
            let entry = entry.map_err(|e| io(&sub.path(), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                stray.push(entry.path());
            } else if is_hex(&name, 62) {
                objects.push(format!("{prefix}{name}"));
            }
        }
    }
    objects.sort();
    Ok((objects, stray))
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `PRAGMA integrity_check` and `foreign_key_check`: what is wrong, empty when nothing.
pub(crate) fn check_index(conn: &Connection) -> rusqlite::Result<(Vec<String>, Vec<String>)> {
    let mut st = conn.prepare("PRAGMA integrity_check")?;
    let integrity: Vec<String> = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|l| l != "ok")
        .collect();
    let mut st = conn.prepare("PRAGMA foreign_key_check")?;
    let foreign_keys = st
        .query_map([], |r| {
            Ok(format!(
                "{} {} → {}",
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                r.get::<_, String>(2)?
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((integrity, foreign_keys))
}

/// Every object the index refers to: original messages, files, marked copies, attachments.
pub(crate) fn referenced(db: &Db) -> super::db::Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for q in [
        "SELECT raw_sha256 FROM messages",
        "SELECT sha256 FROM files",
        "SELECT annotated FROM files WHERE annotated IS NOT NULL",
    ] {
        for sha in db.query_rows(q, params![], |r| r.get::<String>(0))? {
            if is_hex(&sha, 64) {
                out.insert(sha);
            }
        }
    }
    for json in db.query_rows(
        "SELECT attachments FROM outbox WHERE attachments IS NOT NULL",
        params![],
        |r| r.get::<String>(0),
    )? {
        let Ok(serde_json::Value::Array(list)) = serde_json::from_str(&json) else {
            continue;
        };
        for a in list {
            if let Some(sha) = a.get("sha256").and_then(|s| s.as_str())
                && is_hex(sha, 64)
            {
                out.insert(sha.to_string());
            }
        }
    }
    Ok(out)
}

/// The filed tree the index names: relative path → object.
fn filed(db: &Db) -> super::db::Result<BTreeMap<String, String>> {
    Ok(db
        .query_rows(
            "SELECT filed_path, sha256 FROM files WHERE filed_path IS NOT NULL",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .into_iter()
        .collect())
}

fn sent_to_files(db: &Db) -> super::db::Result<Vec<String>> {
    db.query_rows(
        "SELECT delivered_as FROM outbox WHERE sent_at IS NOT NULL AND delivered_as LIKE '%.eml'",
        params![],
        |r| r.get(0),
    )
}

enum Shows {
    Object,
    Nothing,
    Other,
}

/// What a filed-tree path shows: its object (the same file, or a copy of the same bytes),
/// nothing, or something else.
fn shows(path: &Path, object: &Path, sha: &str) -> Shows {
    let Ok(meta) = std::fs::metadata(path) else {
        return Shows::Nothing;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(o) = std::fs::metadata(object)
            && o.dev() == meta.dev()
            && o.ino() == meta.ino()
        {
            return Shows::Object;
        }
    }
    match hash_file(path) {
        Ok((hash, _)) if hash == sha => Shows::Object,
        _ => Shows::Other,
    }
}

fn aside_name(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    (1..)
        .map(|n| path.with_file_name(format!("{name}.altered-{n}")))
        .find(|p| p.symlink_metadata().is_err())
        .expect("a free name exists")
}

/// The SHA-256 (hex) and length of a file, read in blocks.
pub(crate) fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), len))
}

/// An error of a store's file, for the backup module.
pub(crate) fn file_error(path: &Path, e: std::io::Error) -> StoreError {
    io(path, e)
}

/// The objects of a folder laid out as a store's (`objects/ab/cdef…`).
pub(crate) fn objects_of(dir: &Path) -> super::objects::Local {
    super::objects::Local::new(dir)
}
