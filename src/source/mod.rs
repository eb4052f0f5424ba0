//! # Sources: where items come in
//!
//! One small interface, one adapter per file: the Maildir (the embedded default), an IMAP
//! mailbox, and the drop folder. A source lists what is ready, loads an item's bytes, and
//! acknowledges an item only after its filing is committed.

pub mod drop;
pub mod imap;
pub mod maildir;

use crate::core::pipeline::{Inbound, Outcome};

/// Reads a file whole when it is within `limit` bytes; otherwise only its first 64 KiB
/// (enough for a message's headers), with its real size, so no input makes intake allocate
/// without bound.
pub fn read_bounded(path: &std::path::Path, limit: u64) -> std::io::Result<(Vec<u8>, Option<u64>)> {
    use std::io::Read;
    let size = std::fs::metadata(path)?.len();
    let f = std::fs::File::open(path)?;
    if size > limit {
        let mut head = Vec::new();
        f.take(64 << 10).read_to_end(&mut head)?;
        return Ok((head, Some(size)));
    }
    let mut all = Vec::with_capacity(size as usize);
    // A file that grew since the size was read is cut at the limit and treated as oversize.
    f.take(limit + 1).read_to_end(&mut all)?;
    if all.len() as u64 > limit {
        all.truncate(64 << 10);
        return Ok((all, Some(limit + 1)));
    }
    Ok((all, None))
}

/// An item a source has ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The stable key recorded in the store.
    pub key: String,
    /// Where it is now.
    pub path: std::path::PathBuf,
}

/// A place items come in from.
pub trait Source {
    /// `mailbox` (`mailbox:<name>` among several) or `drop`: in logs, health and leases.
    fn name(&self) -> &str;
    /// Items ready to take, oldest first.
    fn pending(&mut self) -> std::io::Result<Vec<Pending>>;
    /// Reads an item.
    fn load(&self, item: &Pending) -> std::io::Result<Inbound>;
    /// Marks an item as handled at the source (move or flag); called after the commit.
    fn acknowledge(&self, item: &Pending, outcome: Outcome) -> std::io::Result<()>;
    /// What the last listing left alone (the drop folder's links, special files, hidden,
    /// temporary and too deep items), once per listing; `None` for a source without such items.
    fn left_alone(&mut self) -> Option<drop::LeftAloneScan> {
        None
    }
    /// The item's size in bytes when known without reading it, for sizing batches.
    fn size(&self, item: &Pending) -> Option<u64> {
        std::fs::metadata(&item.path).ok().map(|m| m.len())
    }
}
