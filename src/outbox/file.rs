//! # The file outbox
//!
//! Writes each mail as `outbox-<row>.eml` into a folder (the embedded default, and a place to
//! look at mail without a server). lettre writes under a random name into `.staging/`; the
//! file is then renamed into place, and only then marked sent. A crash in between leaves a
//! staged file (written again next time) or the final file (recognised, not written twice).

use std::path::{Path, PathBuf};

use lettre::{FileTransport, Message, Transport as _};

use super::{Failure, Transport};

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
    fn send(&mut self, id: i64, message: &Message) -> Result<String, Failure> {
        let local = |e: std::io::Error, what: &Path| Failure {
            transient: true,
            unreachable: true,
            reason: format!("{}: {e}", what.display()),
        };
        let file = self.dir.join(format!("outbox-{id:06}.eml"));
        if file.exists() {
            return Ok(file.display().to_string());
        }
        let staging = self.dir.join(".staging");
        std::fs::create_dir_all(&staging).map_err(|e| local(e, &staging))?;
        let written = FileTransport::new(&staging)
            .send(message)
            .map_err(|e| Failure {
                transient: true,
                unreachable: true,
                reason: e.to_string(),
            })?;
        let staged = staging.join(format!("{written}.eml"));
        std::fs::rename(&staged, &file).map_err(|e| local(e, &staged))?;
        Ok(file.display().to_string())
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}
