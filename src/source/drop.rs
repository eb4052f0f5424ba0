//! # Drop folder source
//!
//! Staff or agencies drop files into a shared folder, optionally into a sub-folder named by
//! the agency's code. A file is taken only once its size and modification time have stayed
//! the same for the settle time (a copy in progress is left to finish), temporary and lock
//! files are skipped, and a handled file is moved under `.intake/processed/<date>/`, never
//! deleted.
//!
//! Whatever the folder holds that intake does not take gets an outcome staff can see: a
//! symbolic link (never followed, not even to a folder), a FIFO, device or socket, a hidden
//! name, a temporary or lock file, an item below the two levels of sub-folders. Each listing
//! says which such items are there ([`LeftAloneScan`]); those that have stayed the settle time
//! are logged once by the store, which remembers what it reported.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::{Pending, Source};
use crate::core::pipeline::{Inbound, Outcome, SourceKind};
pub use crate::store::left_alone::{LeftAlone, LeftAloneScan, Reason};

/// Where handled files go, inside the drop folder.
pub const HANDLED_DIR: &str = ".intake";

/// Levels of sub-folders read below the drop folder (an agency's folder and one inside it).
pub const MAX_DEPTH: usize = 2;

/// Items listed, per listing, inside folders below [`MAX_DEPTH`]: enough to name what staff
/// put there, never a walk of a whole tree.
const MAX_DEEP_ITEMS: usize = 1000;

/// A drop folder.
pub struct DropFolder {
    root: PathBuf,
    settle: Duration,
    agencies: Vec<String>,
    /// Last seen (size, mtime) per path, to tell a file still being written.
    seen: HashMap<PathBuf, (u64, SystemTime)>,
    /// Items not yet settled in the last listing: files skipped, and items left alone not yet
    /// reported (the daemon looks again once they may have settled).
    pub unsettled: usize,
    /// Largest file read whole.
    max_bytes: u64,
    /// What the last listing left alone, until the pass takes it.
    left_alone: Option<LeftAloneScan>,
}

impl DropFolder {
    /// Opens (creating if needed) a drop folder; `agencies` are the codes of sub-folders.
    pub fn open(
        root: &Path,
        settle: Duration,
        agencies: Vec<String>,
    ) -> std::io::Result<DropFolder> {
        // A folder that cannot be made now (a share not mounted yet, a file in its place) is
        // not a reason to stop taking in mail: each pass then reports it as a source that
        // cannot be read, until it can.
        if let Err(e) = fs::create_dir_all(root) {
            tracing::warn!(folder = %root.display(), error = %e, "the drop folder cannot be made; it is retried on every pass");
        }
        Ok(DropFolder {
            root: root.to_path_buf(),
            settle,
            agencies,
            seen: HashMap::new(),
            unsettled: 0,
            max_bytes: crate::config::Limits::default().max_file_bytes,
            left_alone: None,
        })
    }

    /// The agencies whose codes name sub-folders, after a reload.
    pub fn set_agencies(&mut self, agencies: Vec<String>) {
        self.agencies = agencies;
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
    fn name(&self) -> &str {
        "drop"
    }

    fn pending(&mut self) -> std::io::Result<Vec<Pending>> {
        let mut found = Listing::default();
        collect(&self.root, 0, &mut found)?;
        let now = SystemTime::now();
        let mut out = Vec::new();
        let mut seen = HashMap::new();
        self.unsettled = 0;
        for path in found.files {
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
        // Items left alone settle like files: an editor's temporary file that is gone before
        // the settle time is never reported.
        let mut scan = LeftAloneScan::default();
        for (path, reason) in found.left {
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let mtime = meta.modified().unwrap_or(now);
            let stamp = (meta.len(), mtime);
            let unchanged = self.seen.get(&path).is_none_or(|prev| *prev == stamp);
            let quiet = now.duration_since(mtime).unwrap_or_default() >= self.settle;
            seen.insert(path.clone(), stamp);
            let rel = self.rel(&path);
            scan.present.push(rel.clone());
            if unchanged && quiet {
                scan.settled.push(LeftAlone { path: rel, reason });
            } else {
                self.unsettled += 1;
            }
        }
        if found.deep_cut {
            tracing::warn!(
                limit = MAX_DEEP_ITEMS,
                "drop folder: too many items below two levels of sub-folders; only the first are reported"
            );
        }
        self.left_alone = Some(scan);
        self.seen = seen;
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn left_alone(&mut self) -> Option<LeftAloneScan> {
        self.left_alone.take()
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

/// What a listing found.
#[derive(Debug, Default)]
struct Listing {
    /// Regular files to take.
    files: Vec<PathBuf>,
    /// Items left alone, with why.
    left: Vec<(PathBuf, Reason)>,
    /// Items listed below [`MAX_DEPTH`] so far.
    deep: usize,
    /// True when [`MAX_DEEP_ITEMS`] cut that listing short.
    deep_cut: bool,
}

/// Files of the folder and of its sub-folders down to [`MAX_DEPTH`], and every other item
/// with the reason it is left alone. Our own `.intake` folder is neither.
fn collect(dir: &Path, depth: usize, out: &mut Listing) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == HANDLED_DIR {
            continue;
        }
        // The entry's own type: a symbolic link is never followed.
        let kind = entry.file_type()?;
        let reason = if name.starts_with('.') {
            Some(Reason::Hidden)
        } else if is_temporary(&name) {
            Some(Reason::Temporary)
        } else if kind.is_symlink() {
            Some(Reason::Symlink)
        } else if kind.is_dir() {
            if depth < MAX_DEPTH {
                collect(&entry.path(), depth + 1, out)?;
            } else {
                too_deep(&entry.path(), out);
            }
            None
        } else if kind.is_file() {
            out.files.push(entry.path());
            None
        } else {
            Some(special(&kind))
        };
        if let Some(reason) = reason {
            out.left.push((entry.path(), reason));
        }
    }
    Ok(())
}

/// Why an entry that is neither a file, a folder nor a link is left alone.
fn special(kind: &fs::FileType) -> Reason {
    if kind.is_fifo() {
        Reason::Fifo
    } else if kind.is_socket() {
        Reason::Socket
    } else {
        Reason::Device
    }
}

/// Every item inside a folder below [`MAX_DEPTH`] (folders themselves are not items: their
/// contents are), up to [`MAX_DEEP_ITEMS`]; links are not followed. A folder that cannot be
/// read is named instead of its contents.
fn too_deep(dir: &Path, out: &mut Listing) {
    let Ok(entries) = fs::read_dir(dir) else {
        out.left.push((dir.to_path_buf(), Reason::TooDeep));
        return;
    };
    for entry in entries.flatten() {
        if out.deep >= MAX_DEEP_ITEMS {
            out.deep_cut = true;
            return;
        }
        out.deep += 1;
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => too_deep(&entry.path(), out),
            _ => out.left.push((entry.path(), Reason::TooDeep)),
        }
    }
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
        assert_eq!(drop.unsettled, 2, "the file and the lock file");

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

    #[test]
    fn every_item_not_taken_is_named_with_its_reason_once_settled() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("drop");
        let mut drop = DropFolder::open(&root, Duration::from_secs(3600), vec![]).unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir_all(outside.join("folder")).unwrap();
        fs::write(outside.join("PL1.xlsx"), b"data").unwrap();
        fs::write(outside.join("folder/PL2.xlsx"), b"data").unwrap();
        fs::create_dir_all(root.join("a/b/c/d")).unwrap();
        std::os::unix::fs::symlink(outside.join("PL1.xlsx"), root.join("link.xlsx")).unwrap();
        std::os::unix::fs::symlink(outside.join("folder"), root.join("a/linked-folder")).unwrap();
        let fifo = std::ffi::CString::new(root.join("pipe").to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let _socket = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
        fs::write(root.join(".hidden.xlsx"), b"data").unwrap();
        fs::write(root.join("~$PL1.xlsx"), b"lock").unwrap();
        fs::write(root.join("a/b/two-levels.xlsx"), b"data").unwrap();
        fs::write(root.join("a/b/c/deep.xlsx"), b"data").unwrap();
        fs::write(root.join("a/b/c/d/deeper.xlsx"), b"data").unwrap();
        fs::create_dir_all(root.join(HANDLED_DIR)).unwrap();

        drop.pending().unwrap();
        let scan = drop.left_alone().unwrap();
        assert!(
            scan.settled.is_empty(),
            "nothing has stayed the settle time"
        );
        assert_eq!(scan.present.len(), 8, "{:?}", scan.present);
        assert_eq!(drop.left_alone(), None, "once per listing");

        drop.settle = Duration::ZERO;
        let taken = drop.pending().unwrap();
        assert_eq!(taken.len(), 1, "only the file two levels down: {taken:?}");
        assert!(taken[0].path.ends_with("a/b/two-levels.xlsx"));
        let mut got: Vec<(String, &str)> = drop
            .left_alone()
            .unwrap()
            .settled
            .into_iter()
            .map(|l| (l.path, l.reason.as_str()))
            .collect();
        got.sort();
        let want = [
            (".hidden.xlsx", "hidden"),
            ("a/b/c/d/deeper.xlsx", "too-deep"),
            ("a/b/c/deep.xlsx", "too-deep"),
            ("a/linked-folder", "symlink"),
            ("link.xlsx", "symlink"),
            ("pipe", "fifo"),
            ("sock", "socket"),
            ("~$PL1.xlsx", "temporary"),
        ];
        assert_eq!(
            got,
            want.iter()
                .map(|(p, r)| (p.to_string(), *r))
                .collect::<Vec<_>>()
        );
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
