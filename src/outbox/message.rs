//! # Building the mail
//!
//! A queued row becomes an RFC 5322 message: From the department, a stable Message-ID made
//! from the row (so a repeat is recognisable), threaded under the agency's message when it
//! answers one, `Auto-Submitted: auto-replied` on a receipt and `auto-generated` on
//! reminders and digests (RFC 3834), plain text with the files attached.

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Mailboxes, MultiPart, SinglePart};

use crate::config::Config;
use crate::store::mail::Queued;

/// The Message-ID (without brackets) of outbox row `id`: its kind, its row and the store's
/// instance, so that it is the same at every attempt and never repeats another store's.
pub fn message_id(kind: &str, id: i64, instance: &str, domain: &str) -> String {
    format!("{kind}-{id}.{instance}@{domain}")
}

/// Why a queued mail cannot be made into a message (it never will be: staff must look).
#[derive(Debug, thiserror::Error)]
#[error("cannot build mail {id}: {reason}")]
pub struct BuildError {
    /// The outbox row.
    pub id: i64,
    /// What was wrong.
    pub reason: String,
}

/// Builds the RFC 5322 message for a queued mail; `attachments` are the files' bytes, in
/// the order of `q.attachments`.
pub fn build(
    config: &Config,
    q: &Queued,
    attachments: &[Vec<u8>],
    instance: &str,
) -> Result<Message, BuildError> {
    let bad = |reason: String| BuildError { id: q.id, reason };
    let from: Mailbox = config
        .department
        .reply_from
        .parse()
        .map_err(|e| bad(format!("From: {e}")))?;
    let mut to = Mailboxes::new();
    for a in q.to.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        to.push(a.parse().map_err(|e| bad(format!("To {a}: {e}")))?);
    }
    if to.iter().next().is_none() {
        return Err(bad("no recipient".into()));
    }
    let mut cc = Mailboxes::new();
    for a in
        q.cc.iter()
            .flat_map(|c| c.split(','))
            .map(str::trim)
            .filter(|a| !a.is_empty())
    {
        cc.push(a.parse().map_err(|e| bad(format!("Cc {a}: {e}")))?);
    }
    let auto = if q.kind == "receipt" {
        "auto-replied"
    } else {
        "auto-generated"
    };
    let domain = config
        .department
        .reply_from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>'))
        .unwrap_or("intake.invalid");
    let mut b = Message::builder()
        .from(from)
        .mailbox(lettre::message::header::To::from(to))
        .subject(crate::core::words::nfc(&q.subject))
        .date(std::time::SystemTime::from(q.created_at))
        // The same queued mail always has the same Message-ID, so a repeat is recognisable.
        .message_id(Some(format!(
            "<{}>",
            message_id(&q.kind, q.id, instance, domain)
        )))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            auto.into(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
            "All".into(),
        ));
    if cc.iter().next().is_some() {
        b = b.mailbox(lettre::message::header::Cc::from(cc));
    }
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
    // Everything people read is NFC: text decoded from windows-1258 may come with combining
    // tone marks, which some clients show as boxes or sort apart.
    let body = crate::core::words::nfc(&q.body);
    if q.attachments.is_empty() {
        return b
            .singlepart(SinglePart::plain(body))
            .map_err(|e| bad(e.to_string()));
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(body));
    for ((_, name, content_type), bytes) in q.attachments.iter().zip(attachments) {
        let ct = ContentType::parse(content_type).map_err(|e| bad(format!("{name}: {e}")))?;
        parts = parts
            .singlepart(Attachment::new(crate::core::words::nfc(name)).body(bytes.clone(), ct));
    }
    b.multipart(parts).map_err(|e| bad(e.to_string()))
}
