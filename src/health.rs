//! # What keeps failing, and since when
//!
//! When the disk is full or the index is locked, nothing is filed, and the log says so once
//! per pass; staff do not read the log. The worker records each part that fails — the store,
//! the mailbox, the drop folder — with its cause and the time it started failing, and clears
//! it when the part works again. `intake status`, the board's front page and the staff digest
//! read the record and say, in Vietnamese, what is wrong since when.
//!
//! The record must be writable exactly when the disk is full, so it is a file of fixed size
//! beside the index (`health.json`), allocated once with real bytes and then overwritten in
//! place: overwriting blocks a file already owns needs no new space. It is JSON padded with
//! spaces; a reader trims and parses it. A write that still fails is logged and forgotten: the
//! record is a report, never a reason to stop.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// The record's fixed size: room for a few problems with long causes.
const SIZE: usize = 16 * 1024;
/// Longest cause kept, in characters.
const MAX_CAUSE: usize = 1_000;

/// A part of intake that keeps failing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `store`, `mailbox` or `drop`.
    pub part: String,
    /// The cause, with its whole chain ("store file …: No space left on device").
    pub error: String,
    /// When it started failing (RFC 3339).
    pub since: String,
    /// When it last failed.
    pub last: String,
    /// How many passes failed in a row.
    pub count: u32,
}

/// The record's file under a store folder.
pub fn file(store_dir: &Path) -> PathBuf {
    store_dir.join("health.json")
}

/// What the record says now; nothing when there is none or it cannot be read.
pub fn read(store_dir: &Path) -> Vec<Problem> {
    let mut text = String::new();
    let Ok(mut f) = File::open(file(store_dir)) else {
        return Vec::new();
    };
    if f.by_ref()
        .take(SIZE as u64 * 2)
        .read_to_string(&mut text)
        .is_err()
    {
        return Vec::new();
    }
    serde_json::from_str::<Vec<Problem>>(text.trim()).unwrap_or_default()
}

/// The worker's side: keeps the record up to date.
pub struct Tracker {
    path: PathBuf,
    file: Option<File>,
    problems: BTreeMap<String, Problem>,
}

impl Tracker {
    /// Opens (allocating once) the record under `store_dir`, keeping what a previous run
    /// found still failing: its "since" stays true across a restart.
    pub fn open(store_dir: &Path) -> Tracker {
        let path = file(store_dir);
        let problems = read(store_dir)
            .into_iter()
            .map(|p| (p.part.clone(), p))
            .collect();
        let file = allocate(&path)
            .map_err(|e| tracing::warn!(file = %path.display(), error = %e, "cannot keep the health record"))
            .ok();
        Tracker {
            path,
            file,
            problems,
        }
    }

    /// `part` failed now with `error`.
    pub fn failed(&mut self, part: &str, error: &str, now: DateTime<FixedOffset>) {
        let error: String = error.chars().take(MAX_CAUSE).collect();
        let at = now.to_rfc3339();
        let p = self
            .problems
            .entry(part.to_string())
            .or_insert_with(|| Problem {
                part: part.to_string(),
                error: error.clone(),
                since: at.clone(),
                last: at.clone(),
                count: 0,
            });
        p.error = error;
        p.last = at;
        p.count = p.count.saturating_add(1);
        self.save();
    }

    /// `part` works (again).
    pub fn ok(&mut self, part: &str) {
        if self.problems.remove(part).is_some() {
            tracing::info!(part, "working again");
            self.save();
        }
    }

    /// What fails now.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.problems.values()
    }

    fn save(&mut self) {
        let Some(f) = &self.file else { return };
        let mut problems: Vec<Problem> = self.problems.values().cloned().collect();
        let mut text = serde_json::to_string(&problems).unwrap_or_default();
        // Shorten causes until the record fits its file.
        while text.len() >= SIZE && problems.iter().any(|p| p.error.len() > 80) {
            for p in &mut problems {
                let keep = p.error.chars().count() / 2;
                p.error = p.error.chars().take(keep.max(80)).collect();
            }
            text = serde_json::to_string(&problems).unwrap_or_default();
        }
        if text.len() >= SIZE {
            text = "[]".into();
        }
        let mut bytes = text.into_bytes();
        bytes.resize(SIZE, b' ');
        if let Err(e) = f.write_all_at(&bytes, 0) {
            tracing::warn!(file = %self.path.display(), error = %e, "cannot write the health record");
        }
    }
}

/// The record's file, holding `SIZE` real bytes (not a sparse hole, which would need space
/// when first written).
fn allocate(path: &Path) -> std::io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    if f.metadata()?.len() != SIZE as u64 {
        let mut blank = b"[]".to_vec();
        blank.resize(SIZE, b' ');
        f.write_all_at(&blank, 0)?;
        f.set_len(SIZE as u64)?;
        f.sync_all()?;
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn a_failure_is_kept_with_its_start_until_the_part_works_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Tracker::open(dir.path());
        assert!(read(dir.path()).is_empty());
        t.failed(
            "store",
            "store file x: No space left on device",
            at("2026-12-06T10:00:00+07:00"),
        );
        t.failed(
            "store",
            "store file y: No space left on device",
            at("2026-12-06T10:05:00+07:00"),
        );
        let p = read(dir.path());
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].since, "2026-12-06T10:00:00+07:00");
        assert_eq!(p[0].last, "2026-12-06T10:05:00+07:00");
        assert_eq!(p[0].count, 2);
        assert!(p[0].error.contains("y: No space"));
        assert_eq!(
            std::fs::metadata(file(dir.path())).unwrap().len(),
            SIZE as u64
        );
        // A restart keeps "since".
        let mut t = Tracker::open(dir.path());
        t.failed("store", "again", at("2026-12-06T11:00:00+07:00"));
        assert_eq!(read(dir.path())[0].since, "2026-12-06T10:00:00+07:00");
        t.ok("store");
        assert!(read(dir.path()).is_empty());
    }

    #[test]
    fn long_causes_are_shortened_to_fit_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Tracker::open(dir.path());
        for part in ["store", "mailbox", "drop"] {
            t.failed(part, &"x".repeat(50_000), at("2026-12-06T10:00:00+07:00"));
        }
        let p = read(dir.path());
        assert_eq!(p.len(), 3);
        assert!(p.iter().all(|p| p.error.chars().count() <= MAX_CAUSE));
    }
}
