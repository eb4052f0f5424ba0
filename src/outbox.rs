//! # Outbox sender
//!
//! Receipts are queued in the store in the same transaction as the filing they describe; this
//! component hands them to a transport and marks each sent right after the transport takes
//! it. The embedded default writes `.eml` files with lettre's file transport into the outbox
//! folder; SMTP comes beside it. Every mail carries `Auto-Submitted: auto-replied` (RFC 3834)
//! and is threaded under the agency's message.

use std::path::{Path, PathBuf};

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::{FileTransport, Message, Transport};
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::Config;
use crate::store::query::Queued;
use crate::store::{Store, StoreError};

/// Why a queued mail could not be built or handed over.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// An address or header was malformed.
    #[error("cannot build mail {id}: {reason}")]
    Build {
        /// The outbox row.
        id: i64,
        /// What was wrong.
        reason: String,
    },
    /// The transport refused it.
    #[error("cannot deliver mail {id}: {reason}")]
    Transport {
        /// The outbox row.
        id: i64,
        /// What the transport said.
        reason: String,
    },
}

/// Builds the RFC 5322 message for a queued mail; `attachments` are the files' bytes, in
/// the order of `q.attachments`.
pub fn build(config: &Config, q: &Queued, attachments: &[Vec<u8>]) -> Result<Message, SendError> {
    let bad = |reason: String| SendError::Build { id: q.id, reason };
    let from = config
        .department
        .reply_from
        .parse()
        .map_err(|e| bad(format!("From: {e}")))?;
    let to = q.to.parse().map_err(|e| bad(format!("To {}: {e}", q.to)))?;
    let domain = config
        .department
        .reply_from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>'))
        .unwrap_or("intake.invalid");
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(q.subject.clone())
        // The same queued mail always has the same Message-ID, so a repeat is recognisable.
        .message_id(Some(format!("<receipt-{}@{}>", q.id, domain)))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-replied".into(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
            "All".into(),
        ));
    if let Some(id) = &q.in_reply_to {
        b = b.in_reply_to(format!("<{id}>"));
    }
    if !q.references.is_empty() {
        b = b.references(
            q.references
                .iter()
                .map(|r| format!("<{r}>"))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    if q.attachments.is_empty() {
        return b
            .header(ContentType::TEXT_PLAIN)
            .body(q.body.clone())
            .map_err(|e| bad(e.to_string()));
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(q.body.clone()));
    for ((_, name, content_type), bytes) in q.attachments.iter().zip(attachments) {
        let ct = ContentType::parse(content_type).map_err(|e| bad(format!("{name}: {e}")))?;
        parts = parts.singlepart(Attachment::new(name.clone()).body(bytes.clone(), ct));
    }
    b.multipart(parts).map_err(|e| bad(e.to_string()))
}

/// Hands every unsent mail to the file outbox. Returns how many were written.
///
/// lettre writes each mail under a random name into `.staging/`; it is then renamed to
/// `outbox-<row>.eml`, and only then marked sent. A crash in between leaves either a staged
/// file (rewritten next time) or the final file (recognised, not written twice).
pub fn deliver_to_folder(
    config: &Config,
    store: &Store,
    dir: &Path,
    clock: &Clock,
) -> Result<usize, StoreError> {
    let staging = dir.join(".staging");
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io { path: p, source }
    };
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    let transport = FileTransport::new(&staging);
    let mut sent = 0;
    for q in store.unsent()? {
        let file: PathBuf = dir.join(format!("outbox-{:06}.eml", q.id));
        if file.exists() {
            store.mark_sent(q.id, &file.display().to_string(), clock.now())?;
            continue;
        }
        let files: Vec<Vec<u8>> = q
            .attachments
            .iter()
            .map(|(sha, _, _)| store.objects().get(sha))
            .collect::<std::io::Result<_>>()
            .map_err(|e| StoreError::Io {
                path: store.dir().join("objects"),
                source: e,
            })?;
        let result = build(config, &q, &files).and_then(|m| {
            transport.send(&m).map_err(|e| SendError::Transport {
                id: q.id,
                reason: e.to_string(),
            })
        });
        match result {
            Ok(id) => {
                let staged = staging.join(format!("{id}.eml"));
                std::fs::rename(&staged, &file).map_err(io(&staged))?;
                store.mark_sent(q.id, &file.display().to_string(), clock.now())?;
                info!(outbox = q.id, to = %q.to, file = %file.display(), "receipt written to outbox");
                sent += 1;
            }
            Err(e) => {
                warn!(outbox = q.id, error = %e, "receipt not delivered");
                store.mark_failed(q.id, &e.to_string())?;
            }
        }
    }
    Ok(sent)
}
