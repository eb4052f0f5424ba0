//! # Moving a store's objects to a bucket
//!
//! A department that starts on the embedded default and later runs object storage moves its
//! objects there with `intake store migrate`, after naming the bucket in `[store.objects]`.
//! Nothing is moved in place: every object is copied, each copy is read back from the bucket
//! and its SHA-256 checked, and only then does the index record the new place, in one
//! statement. A run cut short leaves the store as it was (its objects on disk, the index
//! naming them); a second run copies only what the bucket lacks. The copies on disk are left
//! where they were, for staff to remove once they trust the bucket.

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::db::params;
use super::objects::{Bucket, Local};
use super::verify::list_objects;
use super::{Store, StoreError, io, lock, sql};
use crate::config::store::ObjectsAt;

/// What a move did.
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
    /// A copy in the bucket does not read back as written.
    #[error("the bucket did not give back what was written: {0}")]
    Unfaithful(String),
}

/// Moves the objects of the store in `dir` to the bucket `to` names, then records the new
/// place in the index. Takes the writer lock: refuses while intake runs on the store.
pub fn objects(dir: &Path, to: &ObjectsAt) -> std::result::Result<Moved, MoveError> {
    let ObjectsAt::S3(s3) = to else {
        return Err(MoveError::NoBucket);
    };
    if !Store::exists(dir) {
        return Err(StoreError::Missing(dir.to_path_buf()).into());
    }
    let _lock = lock(dir)?.ok_or_else(|| StoreError::Locked(dir.to_path_buf()))?;
    let mut store = Store::connect(dir)?;
    store.upgrade()?;
    let from = store.objects_place()?;
    let target = to.identity();
    if from == target {
        return Err(MoveError::AlreadyThere(target));
    }
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
    store
        .db()
        .execute(
            "INSERT INTO meta (key, value) VALUES ('objects', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![&target],
        )
        .map_err(|e| sql(&store.db_path, e))?;
    tracing::info!(store = %dir.display(), to = %target, objects = moved.objects, copied = moved.copied, "store objects moved");
    Ok(moved)
}
