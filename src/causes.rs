//! # Errors with their causes
//!
//! An error's own message often names only the step that failed ("store file …"); the reason
//! an administrator can act on ("No space left on device", "database is locked") is its
//! source, one or more levels down. Log lines print errors through [`Chain`], which writes the
//! whole chain, so no cause is dropped on its way to the journal.

use std::fmt;

/// Displays an error and every source below it, joined by ": ".
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut seen = self.0.to_string();
        let mut next = self.0.source();
        // At most 16 levels: a source chain that loops must not hang a log line.
        for _ in 0..16 {
            let Some(e) = next else { break };
            let text = e.to_string();
            // Some errors repeat their source's message in their own: say it once.
            if !seen.contains(&text) {
                write!(f, ": {text}")?;
                seen = text;
            }
            next = e.source();
        }
        Ok(())
    }
}

/// The whole chain of `e` as one line.
pub fn chain<'a>(e: &'a (dyn std::error::Error + 'static)) -> Chain<'a> {
    Chain(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("store file {0}")]
    struct Store(&'static str, #[source] std::io::Error);

    #[test]
    fn every_cause_is_written_once() {
        let e = Store(
            "objects/ab/cd",
            std::io::Error::new(std::io::ErrorKind::StorageFull, "No space left on device"),
        );
        assert_eq!(
            chain(&e).to_string(),
            "store file objects/ab/cd: No space left on device"
        );
        let plain = std::io::Error::other("database is locked");
        assert_eq!(chain(&plain).to_string(), "database is locked");
    }
}
