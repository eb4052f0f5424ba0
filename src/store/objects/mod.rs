//! # Objects and the filed tree
//!
//! Every file and every original message is kept once, named by its SHA-256, and never
//! overwritten: the index names objects by hash, and an object is written before the rows
//! that name it commit. Where objects live is the deployment's choice (`[store.objects]`):
//! beside the index on local disk (module `local`, the default), with the filed tree of hard
//! links staff browse, or in an S3-compatible bucket (module `s3`), where the filed tree is
//! only a view (board downloads, `intake export`) and never a second copy.

mod local;
mod s3;

use std::io;
use std::path::{Path, PathBuf};

pub use local::Local;
pub use s3::Bucket;

use crate::config::store::ObjectsAt;

/// Where one store's objects are.
#[derive(Debug, Clone)]
pub enum Objects {
    /// On local disk, with the filed tree.
    Local(Local),
    /// In a bucket.
    Bucket(Bucket),
}

impl Objects {
    /// Objects on local disk under `root/objects`, the filed tree under `root`.
    pub fn new(root: &Path) -> Self {
        Objects::Local(Local::new(root))
    }

    /// The objects of the store in `root`, kept where `at` says.
    pub fn open(root: &Path, at: &ObjectsAt) -> io::Result<Self> {
        match at {
            ObjectsAt::Local => Ok(Self::new(root)),
            ObjectsAt::S3(s3) => Bucket::open(s3).map(Objects::Bucket),
        }
    }

    /// Whether the store keeps a filed tree of links on disk (local objects only).
    pub fn has_tree(&self) -> bool {
        matches!(self, Objects::Local(_))
    }

    /// The local path of the object with this hash; None for objects in a bucket.
    pub fn local_path(&self, sha256: &str) -> Option<PathBuf> {
        match self {
            Objects::Local(l) => Some(l.path(sha256)),
            Objects::Bucket(_) => None,
        }
    }

    /// Where the object with this hash is, for messages.
    pub fn describe(&self, sha256: &str) -> PathBuf {
        match self {
            Objects::Local(l) => l.path(sha256),
            Objects::Bucket(b) => PathBuf::from(b.describe(sha256)),
        }
    }

    /// Writes bytes under their hash unless already there.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> io::Result<()> {
        match self {
            Objects::Local(l) => l.put(sha256, bytes),
            Objects::Bucket(b) => b.put(sha256, bytes),
        }
    }

    /// Reads an object.
    pub fn get(&self, sha256: &str) -> io::Result<Vec<u8>> {
        match self {
            Objects::Local(l) => l.get(sha256),
            Objects::Bucket(b) => b.get(sha256),
        }
    }

    /// Makes `rel` (inside the filed tree) show the object; with objects in a bucket there is
    /// no tree on disk, so nothing to do.
    pub fn link(&self, sha256: &str, rel: &str) -> io::Result<()> {
        match self {
            Objects::Local(l) => l.link(sha256, rel),
            Objects::Bucket(_) => Ok(()),
        }
    }

    /// Makes everything written so far durable before the index commits: one `syncfs` on
    /// disk; a bucket has stored each object before answering its PUT.
    pub fn sync(&self) -> io::Result<()> {
        match self {
            Objects::Local(l) => l.sync(),
            Objects::Bucket(_) => Ok(()),
        }
    }
}

/// A name made safe for one path component of the filed tree.
pub fn component(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let s = s.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if s.is_empty() {
        "_".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_one_safe_name() {
        assert_eq!(component("../x"), "_x");
        assert_eq!(component(" . "), "_");
        assert_eq!(component("a/b\\c\u{7}"), "a_b_c_");
    }
}
