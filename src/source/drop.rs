//! # Drop folder source
//!
//! Staff or agencies drop files into a shared folder, optionally into a sub-folder named by
//! the agency's code. A file is taken only once its size and modification time have stayed
//! the same for the settle time (a copy in progress is left to finish), temporary and lock
//! files are skipped, and a handled file is moved under `.intake/processed/<date>/`, never
//! deleted.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::{Pending, Source};
use crate::pipeline::{Inbound, Outcome, SourceKind};

/// Where handled files go, inside the drop folder.
pub const HANDLED_DIR: &str = ".intake";

/// A drop folder.
pub struct DropFolder {
    root: PathBuf,
    settle: Duration,
    agencies: Vec<String>,
    /// Last seen (size, mtime) per path, to tell a file still being written.
    seen: HashMap<PathBuf, (u64, SystemTime)>,
    /// Files skipped as not yet settled in the last listing.
    pub unsettled: usize,
    /// Largest file read whole.
    max_bytes: u64,
}

impl DropFolder {
    /// Opens (creating if needed) a drop folder; `agencies` are the codes of sub-folders.
    pub fn open(
        root: &Path,
        settle: Duration,
        agencies: Vec<String>,
    ) -> std::io::Result<DropFolder> {
        fs::create_dir_all(root)?;
        Ok(DropFolder {
            root: root.to_path_buf(),
            settle,
            agencies,
            seen: HashMap::new(),
            unsettled: 0,
            max_bytes: crate::config::Limits::default().max_file_bytes,
        })
    }

    /// Sets the largest file read whole; a larger one is recorded as too large, then moved aside.
    pub fn with_limit(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }
}

/// True for names that office suites and copy tools use while a file is open or in transit.
pub fn is_temporary(name: &str) -> bool {
    let lower = name.to_lowercase();
    name.starts_with("~$")
        || name.starts_with(".~lock")
        || name.starts_with('.')
        || lower.ends_with(".tmp")
        || lower.ends_with(".part")
        || lower.ends_with(".crdownload")
        || lower == "thumbs.db"
        || lower == "desktop.ini"
}

impl Source for DropFolder {
    fn name(&self) -> &'static str {
        "drop"
    }

    fn pending(&mut self) -> std::io::Result<Vec<Pending>> {
        let mut found = Vec::new();
        collect(&self.root, 0, &mut found)?;
        let now = SystemTime::now();
        let mut out = Vec::new();
        let mut seen = HashMap::new();
        self.unsettled = 0;
        for path in found {
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            let (size, mtime) = (meta.len(), meta.modified()?);
            let unchanged = self
                .seen
                .get(&path)
                .is_none_or(|prev| *prev == (size, mtime));
            let quiet = now.duration_since(mtime).unwrap_or_default() >= self.settle;
            seen.insert(path.clone(), (size, mtime));
            if !(unchanged && quiet) {
                self.unsettled += 1;
                continue;
            }
            let nanos = mtime
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            out.push(Pending {
                key: format!("drop:{}:{size}:{nanos}", self.rel(&path)),
                path,
            });
        }
        self.seen = seen;
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn load(&self, item: &Pending) -> std::io::Result<Inbound> {
        let (raw, oversize) = super::read_bounded(&item.path, self.max_bytes)?;
        let mtime = fs::metadata(&item.path)?.modified()?;
        let rel = self.rel(&item.path);
        let folder = rel.split_once('/').map(|(first, _)| first.to_string());
        Ok(Inbound {
            source: SourceKind::Drop,
            key: item.key.clone(),
            raw,
            seen_at: DateTime::<Utc>::from(mtime).fixed_offset(),
            file_name: item
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned()),
            folder_agency: folder.filter(|f| self.agencies.contains(f)),
            oversize,
            auth: None,
        })
    }

    fn acknowledge(&self, item: &Pending, _outcome: Outcome) -> std::io::Result<()> {
        if !item.path.exists() {
            return Ok(());
        }
        let date = Utc::now().format("%Y-%m-%d").to_string();
        let dest_dir = self.root.join(HANDLED_DIR).join("processed").join(date);
        let rel = self.rel(&item.path);
        let mut dest = dest_dir.join(&rel);
        let mut n = 2;
        while dest.exists() {
            dest = dest_dir.join(format!("{rel} ({n})"));
            n += 1;
        }
        fs::create_dir_all(dest.parent().expect("a file has a parent"))?;
        fs::rename(&item.path, &dest)
    }
}

/// Files of the folder and of its agency sub-folders (one level), skipping our own and temporary ones.
fn collect(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == HANDLED_DIR || is_temporary(&name) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() && depth < 2 {
            collect(&entry.path(), depth + 1, out)?;
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_and_lock_files_are_skipped() {
        for n in [
            "~$PL1.xlsx",
            ".~lock.PL1.xlsx#",
            "x.tmp",
            "x.PART",
            "Thumbs.db",
            ".DS_Store",
        ] {
            assert!(is_temporary(n), "{n}");
        }
        assert!(!is_temporary("PL1.xlsx"));
    }

    #[test]
    fn a_file_is_taken_only_when_settled_and_moved_not_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let mut drop = DropFolder::open(
            dir.path(),
            Duration::from_secs(3600),
            vec!["so-y-te".into()],
        )
        .unwrap();
        fs::create_dir_all(dir.path().join("so-y-te")).unwrap();
        let f = dir.path().join("so-y-te/PL1.xlsx");
        fs::write(&f, b"data").unwrap();
        fs::write(dir.path().join("so-y-te/~$PL1.xlsx"), b"lock").unwrap();
        assert!(
            drop.pending().unwrap().is_empty(),
            "just written: not settled"
        );
        assert_eq!(drop.unsettled, 1);

        drop.settle = Duration::ZERO;
        let items = drop.pending().unwrap();
        assert_eq!(items.len(), 1);
        let item = drop.load(&items[0]).unwrap();
        assert_eq!(item.folder_agency.as_deref(), Some("so-y-te"));
        assert_eq!(item.file_name.as_deref(), Some("PL1.xlsx"));
        drop.acknowledge(&items[0], Outcome::Filed).unwrap();
        assert!(!f.exists());
        assert!(
            drop.pending().unwrap().is_empty(),
            "handled files are not listed again"
        );
        let moved: Vec<_> = walk(&dir.path().join(HANDLED_DIR));
        assert_eq!(moved.len(), 1);
        assert_eq!(fs::read(&moved[0]).unwrap(), b"data");
    }

    fn walk(d: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p))
            } else {
                out.push(p)
            }
        }
        out
    }
}
