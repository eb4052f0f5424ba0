//! # Objects on local disk, and the filed tree
//!
//! The embedded default: objects under `<store>/objects/ab/cdef…`, written to a temporary file
//! and renamed into place, read-only. Staff browse a second view beside them,
//! `<campaign>/<agency>/<deliverable>/v<N>-<name>`, made of hard links to the objects (copies
//! where links are not possible), so nothing is stored twice and nothing is ever overwritten.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The object folder and the filed tree of one store.
#[derive(Debug, Clone)]
pub struct Local {
    root: PathBuf,
}

impl Local {
    /// Objects under `root/objects`, the filed tree under `root`.
    pub fn new(root: &Path) -> Self {
        Local {
            root: root.to_path_buf(),
        }
    }

    /// The path of the object with this hash.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.root
            .join("objects")
            .join(&sha256[..2])
            .join(&sha256[2..])
    }

    /// Writes bytes under their hash unless already there; atomic (temp file, then rename).
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path(sha256);
        // An object cut short by a power loss before its flush is written again.
        if fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            return Ok(());
        }
        let dir = path.parent().expect("object paths have a parent");
        fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{}.{}.tmp", &sha256[2..12], std::process::id()));
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        // Read-only: the filed tree links to this inode, and no program saving "in place"
        // from the shared drive may change what was received.
        let mut perms = f.metadata()?.permissions();
        perms.set_readonly(true);
        f.set_permissions(perms)?;
        drop(f);
        if path.exists() {
            let mut perms = fs::metadata(&path)?.permissions();
            #[allow(clippy::permissions_set_readonly_false)] // only to replace a truncated object
            perms.set_readonly(false);
            fs::set_permissions(&path, perms)?;
        }
        fs::rename(&tmp, &path)
    }

    /// Reads an object.
    pub fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        fs::read(self.path(sha256))
    }

    /// Makes `rel` (inside the filed tree) show the object; does nothing when it already does.
    pub fn link(&self, sha256: &str, rel: &str) -> std::io::Result<()> {
        let dest = self.root.join(rel);
        if dest.exists() {
            return Ok(());
        }
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir)?;
        }
        let src = self.path(sha256);
        match fs::hard_link(&src, &dest) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(_) => {
                let tmp = dest.with_extension("part-intake");
                fs::copy(&src, &tmp)?;
                fs::rename(&tmp, &dest)
            }
        }
    }

    /// Flushes everything written so far to disk (one `syncfs` for the whole batch).
    pub fn sync(&self) -> std::io::Result<()> {
        let dir = fs::File::open(&self.root)?;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: syncfs only reads the descriptor, which stays open for the call.
            if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        #[cfg(not(target_os = "linux"))]
        dir.sync_all()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_written_once_and_linked() {
        let dir = tempfile::tempdir().unwrap();
        let o = Local::new(dir.path());
        let sha = crate::core::pipeline::sha256_hex(b"hello");
        o.put(&sha, b"hello").unwrap();
        o.put(&sha, b"hello").unwrap();
        o.link(&sha, "c/a/d/v1-x.xlsx").unwrap();
        o.link(&sha, "c/a/d/v1-x.xlsx").unwrap();
        assert_eq!(
            fs::read(dir.path().join("c/a/d/v1-x.xlsx")).unwrap(),
            b"hello"
        );
        assert_eq!(o.get(&sha).unwrap(), b"hello");
        assert!(fs::metadata(o.path(&sha)).unwrap().permissions().readonly());
        // A truncated object (power loss before the flush) is replaced, not trusted.
        let other = crate::core::pipeline::sha256_hex(b"world!");
        fs::create_dir_all(o.path(&other).parent().unwrap()).unwrap();
        fs::write(o.path(&other), b"wor").unwrap();
        o.put(&other, b"world!").unwrap();
        assert_eq!(o.get(&other).unwrap(), b"world!");
        o.sync().unwrap();
    }
}
