//! # Maildir source
//!
//! Reads `new/` and `cur/` of a Maildir, as delivered by an MTA or a sync tool. A message is
//! keyed by its unique name (stable when it moves from `new/` to `cur/`) and, once filed,
//! moved to `cur/` with the Seen flag (or left as it is). Mail that intake leaves alone is
//! never touched, so people reading the same mailbox still see it as new.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{Pending, Source};
use crate::config::OnFiled;
use crate::core::pipeline::{Inbound, Outcome, SourceKind};

/// A Maildir folder.
pub struct Maildir {
    name: String,
    root: PathBuf,
    on_filed: OnFiled,
    max_bytes: u64,
}

impl Maildir {
    /// Opens (creating `new/`, `cur/`, `tmp/` if needed) a Maildir.
    pub fn open(root: &Path, on_filed: OnFiled) -> std::io::Result<Maildir> {
        for sub in ["new", "cur", "tmp"] {
            fs::create_dir_all(root.join(sub))?;
        }
        Ok(Maildir {
            name: "mailbox".into(),
            root: root.to_path_buf(),
            on_filed,
            max_bytes: crate::config::Limits::default().max_message_bytes,
        })
    }

    /// Names the source (`mailbox:<name>` among several mailboxes; `mailbox` by default).
    pub fn named(mut self, name: String) -> Self {
        self.name = name;
        self
    }

    /// Sets the largest message read whole; larger ones are read only as far as their headers.
    pub fn with_limit(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Delivers a message the way an MTA does (write in `tmp/`, rename into `new/`).
    pub fn deliver(&self, unique: &str, raw: &[u8]) -> std::io::Result<PathBuf> {
        let tmp = self.root.join("tmp").join(unique);
        fs::write(&tmp, raw)?;
        let dest = self.root.join("new").join(unique);
        fs::rename(&tmp, &dest)?;
        Ok(dest)
    }
}

/// The unique part of a Maildir file name (before the `:2,` flags).
pub fn unique_name(file_name: &str) -> &str {
    file_name.split_once(':').map_or(file_name, |(u, _)| u)
}

fn flags(file_name: &str) -> &str {
    file_name.split_once(":2,").map_or("", |(_, f)| f)
}

impl Source for Maildir {
    fn name(&self) -> &str {
        &self.name
    }

    fn pending(&mut self) -> std::io::Result<Vec<Pending>> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            for entry in fs::read_dir(self.root.join(sub))? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || !entry.file_type()?.is_file() {
                    continue;
                }
                // Already flagged Seen in cur/: read by someone, or filed by us before.
                out.push(Pending {
                    key: format!("maildir:{}", unique_name(&name)),
                    path: entry.path(),
                });
            }
        }
        // Unique names start with the delivery time: sorting gives arrival order.
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out.dedup_by(|a, b| a.key == b.key);
        Ok(out)
    }

    fn load(&self, item: &Pending) -> std::io::Result<Inbound> {
        let (raw, oversize) = super::read_bounded(&item.path, self.max_bytes)?;
        let mtime = fs::metadata(&item.path)?.modified()?;
        Ok(Inbound {
            source: SourceKind::Mailbox,
            key: item.key.clone(),
            raw,
            seen_at: DateTime::<Utc>::from(mtime).fixed_offset(),
            file_name: None,
            folder_agency: None,
            oversize,
            auth: None,
        })
    }

    fn acknowledge(&self, item: &Pending, _outcome: Outcome) -> std::io::Result<()> {
        if self.on_filed == OnFiled::Keep {
            return Ok(());
        }
        let name = item
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut f: Vec<char> = flags(&name).chars().collect();
        if !f.contains(&'S') {
            f.push('S');
        }
        f.sort_unstable();
        let flags: String = f.into_iter().collect();
        let dest = self
            .root
            .join("cur")
            .join(format!("{}:2,{flags}", unique_name(&name)));
        if dest == item.path {
            return Ok(());
        }
        match fs::rename(&item.path, &dest) {
            // Moved already (by us before a crash, or by a mail client): nothing to do.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filed_messages_move_to_cur_with_seen() {
        let dir = tempfile::tempdir().unwrap();
        let mut md = Maildir::open(dir.path(), OnFiled::Seen).unwrap();
        md.deliver("1530756753.M1P2.host", b"Subject: x\r\n\r\nhi")
            .unwrap();
        let items = md.pending().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].key, "maildir:1530756753.M1P2.host");
        md.acknowledge(&items[0], Outcome::Filed).unwrap();
        assert!(dir.path().join("cur/1530756753.M1P2.host:2,S").exists());
        // The key stays the same after the move; acknowledging again is harmless.
        let again = md.pending().unwrap();
        assert_eq!(again[0].key, items[0].key);
        md.acknowledge(&again[0], Outcome::Filed).unwrap();
        md.acknowledge(&items[0], Outcome::Filed).unwrap();
    }
}
