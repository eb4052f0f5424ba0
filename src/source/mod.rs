//! # Sources: where items come in
//!
//! One small interface, one adapter per file: the Maildir (the embedded default; IMAP comes
//! beside it) and the drop folder. A source lists what is ready, loads an item's bytes, and
//! acknowledges an item only after its filing is committed.

pub mod drop;
pub mod maildir;

use crate::pipeline::{Inbound, Outcome};

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
    /// `mailbox` or `drop`, for logs.
    fn name(&self) -> &'static str;
    /// Items ready to take, oldest first.
    fn pending(&mut self) -> std::io::Result<Vec<Pending>>;
    /// Reads an item.
    fn load(&self, item: &Pending) -> std::io::Result<Inbound>;
    /// Marks an item as handled at the source (move or flag); called after the commit.
    fn acknowledge(&self, item: &Pending, outcome: Outcome) -> std::io::Result<()>;
}
