//! # The file outbox
//!
//! Writes each mail into a folder (the embedded default, and a place to look at mail without
//! a server), named by its Message-ID (`receipt-12.<store>@<domain>.eml`), which is the same
//! at every attempt and unique to the store. lettre writes under a random name into
//! `.staging/`; the file is then renamed into place, and only then marked sent. A crash in
//! between leaves a staged file (written again next time) or the final file (recognised, not
//! written twice).

use std::path::{Path, PathBuf};

use lettre::{FileTransport, Message, Transport as _};

use super::{Delivered, Failure, Transport};

/// The folder transport.
pub struct FileOutbox {
    dir: PathBuf,
}

impl FileOutbox {
    /// Mail goes into `dir`.
    pub fn new(dir: &Path) -> FileOutbox {
        FileOutbox {
            dir: dir.to_path_buf(),
        }
    }
}

impl Transport for FileOutbox {
    fn send(&mut self, id: i64, message: &Message) -> Result<Delivered, Failure> {
        // A folder that cannot be written is like a server that cannot be reached.
        let local = |e: std::io::Error, what: &Path| {
            Failure::ServerUnusable(format!("{}: {e}", what.display()))
        };
        let name = message
            .headers()
            .get_raw("Message-ID")
            .map(|m| m.trim().trim_matches(['<', '>']).to_string())
            .filter(|m| !m.is_empty() && !m.contains(['/', '\\']))
            .unwrap_or_else(|| format!("outbox-{id:06}"));
        let file = self.dir.join(format!("{name}.eml"));
        let done = |file: &Path| Delivered {
            via: file.display().to_string(),
            refused: Vec::new(),
        };
        if file.exists() {
            return Ok(done(&file));
        }
        let staging = self.dir.join(".staging");
        std::fs::create_dir_all(&staging).map_err(|e| local(e, &staging))?;
        let written = FileTransport::new(&staging)
            .send(message)
            .map_err(|e| Failure::ServerUnusable(e.to_string()))?;
        let staged = staging.join(format!("{written}.eml"));
        std::fs::rename(&staged, &file).map_err(|e| local(e, &staged))?;
        Ok(done(&file))
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}
