//! # The board's views
//!
//! What the staff board reads from the store, as the store's own operations: the rows of an
//! agency's page, the quarantine, a page of the intake log, a page of the accepted versions
//! whose sender was not authenticated, a downloadable file, the store's change count, and two
//! writes of the board's (a copy of a receipt queued again, a re-validation's summary in the
//! log); with bound parameters only. The board renders them and writes no SQL of its own.

use super::db::{self, Row, params};
use serde::Serialize;

use super::{Store, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// The outcomes of messages that wait for staff (a `sender-unverified` message is held until
/// staff release it).
pub const WAITING: &str =
    "'unknown-sender', 'probable-agency', 'unclassified', 'no-campaign', 'sender-unverified'";

/// The messages whose sender was not authenticated: a verdict other than `pass`, or none
/// recorded for mail (taken in before authentication was checked). Dropped files have no
/// sender to authenticate. `m` is the messages table.
const NOT_AUTHENTICATED: &str =
    "((m.auth IS NOT NULL AND m.auth <> 'pass') OR (m.auth IS NULL AND m.source = 'mailbox'))";

/// A message row.
#[derive(Debug, Clone, Serialize)]
pub struct MessageRow {
    /// Row id (the receipt number is made from it).
    pub id: i64,
    /// `mailbox` or `drop`.
    pub source: String,
    /// When it arrived.
    pub arrived_at: String,
    /// Sender address.
    pub from_addr: Option<String>,
    /// Sender name.
    pub from_name: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Outcome.
    pub outcome: String,
    /// The campaign.
    pub campaign: Option<String>,
    /// The agency filed under.
    pub agency: Option<String>,
    /// The guessed agency.
    pub probable: Option<String>,
    /// Why it was guessed.
    pub evidence: Option<String>,
    /// Details (a failure, skipped files).
    pub detail: Option<String>,
    /// Sender authentication: `pass`, `none`, `fail`, `temperror`; None for dropped files and
    /// mail taken in before it was checked.
    pub auth: Option<String>,
    /// Its evidence, as stored (JSON of [`crate::auth::Authentication`]).
    pub auth_evidence: Option<String>,
    /// The department clerk who forwarded the agency's mail.
    pub forwarded_by: Option<String>,
}

/// A file row.
#[derive(Debug, Clone, Serialize)]
pub struct FileRow {
    /// Row id (the download link).
    pub id: i64,
    /// Its message.
    pub message: i64,
    /// Sanitised name.
    pub name: String,
    /// `workbook` or `document`.
    pub kind: String,
    /// Bytes.
    pub size: i64,
    /// `ok`, `empty`, `unreadable`, `encrypted`.
    pub check_result: String,
    /// Why it could not be read.
    pub check_detail: Option<String>,
    /// Deliverable id.
    pub deliverable: Option<String>,
    /// Version filed as.
    pub version: Option<u32>,
    /// Whether it is in the filed tree (and so may be downloaded).
    pub filed: bool,
    /// Error findings.
    pub errors: Option<i64>,
    /// Warning findings.
    pub warnings: Option<i64>,
    /// Whether an annotated copy exists.
    pub annotated: bool,
}

/// A version row.
#[derive(Debug, Clone, Serialize)]
pub struct VersionRow {
    /// Campaign id.
    pub campaign: String,
    /// Deliverable id.
    pub deliverable: String,
    /// Version number.
    pub version: u32,
    /// Its message.
    pub message: i64,
    /// When it arrived.
    pub received_at: String,
    /// `received`, `invalid` or `accepted`.
    pub state: String,
    /// After the deadline.
    pub late: bool,
    /// Warnings.
    pub warnings: u32,
    /// Its message's sender authentication (see [`MessageRow::auth`]).
    pub auth: Option<String>,
    /// Its message's source: `mailbox` or `drop`.
    pub source: Option<String>,
}

/// A finding row.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    /// Its file.
    pub file: i64,
    /// `error` or `warning`.
    pub severity: String,
    /// Sheet name.
    pub sheet: String,
    /// The sheet's own cell.
    pub cell: Option<String>,
    /// The indicator's label.
    pub label: Option<String>,
    /// The message staff and agencies read.
    pub message: String,
}

/// An outbox row.
#[derive(Debug, Clone, Serialize)]
pub struct MailRow {
    /// Row id.
    pub id: i64,
    /// `receipt`, `reminder` or `digest`.
    pub kind: String,
    /// When it was queued.
    pub created_at: String,
    /// Recipients.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// When the server took it.
    pub sent_at: Option<String>,
    /// When it was given up, refused, bounced or cancelled.
    pub failed_at: Option<String>,
    /// The server's last answer.
    pub last_error: Option<String>,
    /// Attempts so far.
    pub attempts: u32,
    /// The next attempt, while retried.
    pub next_attempt_at: Option<String>,
    /// The message it answers.
    pub message: Option<i64>,
}

/// A staff decision (exemption or extension) with who made it.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionRow {
    /// Campaign id.
    pub campaign: String,
    /// The deliverable (exemption) or the new deadline (extension).
    pub what: String,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: Option<String>,
}

const MESSAGE_COLUMNS: &str = "id, source, arrived_at, from_addr, from_name, subject, outcome, campaign, agency, probable, evidence, detail, auth, auth_evidence, forwarded_by";

fn message_row(r: &Row) -> db::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get(0)?,
        source: r.get(1)?,
        arrived_at: r.get(2)?,
        from_addr: r.get(3)?,
        from_name: r.get(4)?,
        subject: r.get(5)?,
        outcome: r.get(6)?,
        campaign: r.get(7)?,
        agency: r.get(8)?,
        probable: r.get(9)?,
        evidence: r.get(10)?,
        detail: r.get(11)?,
        auth: r.get(12)?,
        auth_evidence: r.get(13)?,
        forwarded_by: r.get(14)?,
    })
}

const FILE_COLUMNS: &str = "f.id, f.message, f.name, f.kind, f.size, f.check_result, f.check_detail, f.deliverable, f.version, f.filed_path IS NOT NULL, f.errors, f.warnings, f.annotated IS NOT NULL";

fn file_row(r: &Row) -> db::Result<FileRow> {
    Ok(FileRow {
        id: r.get(0)?,
        message: r.get(1)?,
        name: r.get(2)?,
        kind: r.get(3)?,
        size: r.get(4)?,
        check_result: r.get(5)?,
        check_detail: r.get(6)?,
        deliverable: r.get(7)?,
        version: r.get(8)?,
        filed: r.get(9)?,
        errors: r.get(10)?,
        warnings: r.get(11)?,
        annotated: r.get(12)?,
    })
}

/// Everything the index holds of one agency.
#[derive(Debug, Clone, Default)]
pub struct AgencyRecord {
    /// Its messages (filed under it or guessed to be its), newest first.
    pub messages: Vec<MessageRow>,
    /// Their files.
    pub files: Vec<FileRow>,
    /// Its versions, by campaign and deliverable, newest first.
    pub versions: Vec<VersionRow>,
    /// The findings of its files.
    pub findings: Vec<FindingRow>,
    /// Mail to it (receipts, reminders), newest first.
    pub mail: Vec<MailRow>,
    /// Its exemptions.
    pub exemptions: Vec<DecisionRow>,
    /// Its extensions.
    pub extensions: Vec<DecisionRow>,
}

/// Reads what the index holds of an agency.
pub fn agency(store: &Store, code: &str) -> Result<AgencyRecord> {
    let mine = "(m.agency = ?1 OR m.probable = ?1)";
    Ok(AgencyRecord {
        messages: store.query_rows(
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE {mine} ORDER BY id DESC"),
            params![code],
            message_row,
        )?,
        files: store.query_rows(
            &format!("SELECT {FILE_COLUMNS} FROM files f JOIN messages m ON m.id = f.message WHERE {mine} ORDER BY f.message DESC, f.seq"),
            params![code],
            file_row,
        )?,
        versions: store.query_rows(
            "SELECT v.campaign, v.deliverable, v.version, v.message, v.received_at, v.state, v.late, v.warnings, m.auth, m.source
             FROM versions v LEFT JOIN messages m ON m.id = v.message WHERE v.agency = ?1 ORDER BY v.campaign, v.deliverable, v.version DESC",
            params![code],
            |r| {
                Ok(VersionRow {
                    campaign: r.get(0)?,
                    deliverable: r.get(1)?,
                    version: r.get(2)?,
                    message: r.get(3)?,
                    received_at: r.get(4)?,
                    state: r.get(5)?,
                    late: r.get::<i64>(6)? != 0,
                    warnings: r.get(7)?,
                    auth: r.get(8)?,
                    source: r.get(9)?,
                })
            },
        )?,
        findings: store.query_rows(
            &format!("SELECT fi.file, fi.severity, fi.sheet, fi.cell, fi.label, fi.message FROM findings fi JOIN files f ON f.id = fi.file JOIN messages m ON m.id = f.message WHERE {mine} ORDER BY fi.file, fi.id"),
            params![code],
            |r| {
                Ok(FindingRow {
                    file: r.get(0)?,
                    severity: r.get(1)?,
                    sheet: r.get(2)?,
                    cell: r.get(3)?,
                    label: r.get(4)?,
                    message: r.get(5)?,
                })
            },
        )?,
        mail: store.query_rows(
            "SELECT id, kind, created_at, to_addr, subject, sent_at, failed_at, last_error, attempts, next_attempt_at, message FROM outbox
             WHERE agency = ?1 OR message IN (SELECT id FROM messages m WHERE (m.agency = ?1 OR m.probable = ?1)) ORDER BY id DESC",
            params![code],
            |r| {
                Ok(MailRow {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    created_at: r.get(2)?,
                    to: r.get(3)?,
                    subject: r.get(4)?,
                    sent_at: r.get(5)?,
                    failed_at: r.get(6)?,
                    last_error: r.get(7)?,
                    attempts: r.get(8)?,
                    next_attempt_at: r.get(9)?,
                    message: r.get(10)?,
                })
            },
        )?,
        exemptions: decisions(store, "SELECT campaign, deliverable, at, actor, reason FROM exemptions WHERE agency = ?1 ORDER BY campaign, deliverable", code)?,
        extensions: decisions(store, "SELECT campaign, until, at, actor, reason FROM extensions WHERE agency = ?1 ORDER BY campaign", code)?,
    })
}

fn decisions(store: &Store, sql: &str, code: &str) -> Result<Vec<DecisionRow>> {
    store.query_rows(sql, params![code], |r| {
        Ok(DecisionRow {
            campaign: r.get(0)?,
            what: r.get(1)?,
            at: r.get(2)?,
            actor: r.get(3)?,
            reason: r.get(4)?,
        })
    })
}

/// The reminder steps decided for one agency, by campaign and step.
pub fn reminders(store: &Store, code: &str) -> Result<Vec<super::mail::ReminderRecord>> {
    store.query_rows(
        "SELECT r.campaign, r.agency, r.step, r.due_at, r.outcome, r.reason, o.sent_at, CASE WHEN o.failed_at IS NOT NULL THEN o.last_error END
         FROM reminders r LEFT JOIN outbox o ON o.id = r.outbox WHERE r.agency = ?1 ORDER BY r.campaign, r.step",
        params![code],
        |r| {
            Ok(super::mail::ReminderRecord {
                campaign: r.get(0)?,
                agency: r.get(1)?,
                step: r.get(2)?,
                due_at: r.get(3)?,
                outcome: r.get(4)?,
                reason: r.get(5)?,
                sent_at: r.get(6)?,
                failed: r.get(7)?,
            })
        },
    )
}

/// Messages waiting for staff, with their files: those held for a failed sender check first,
/// then the rest, newest first.
pub fn quarantine(store: &Store) -> Result<(Vec<MessageRow>, Vec<FileRow>)> {
    let messages = store.query_rows(
        &format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE outcome IN ({WAITING}) ORDER BY outcome = 'sender-unverified' DESC, id DESC"
        ),
        params![],
        message_row,
    )?;
    let files = store.query_rows(
        &format!("SELECT {FILE_COLUMNS} FROM files f JOIN messages m ON m.id = f.message WHERE m.outcome IN ({WAITING}) ORDER BY f.message DESC, f.seq"),
        params![],
        file_row,
    )?;
    Ok((messages, files))
}

/// An accepted version whose message's sender was not authenticated.
#[derive(Debug, Clone, Serialize)]
pub struct UnverifiedRow {
    /// Agency code.
    pub agency: String,
    /// Deliverable id.
    pub deliverable: String,
    /// Version number.
    pub version: u32,
    /// Its message.
    pub message: i64,
    /// When it arrived.
    pub received_at: String,
    /// After the deadline.
    pub late: bool,
    /// The verdict (None: mail taken in before authentication was checked).
    pub auth: Option<String>,
    /// Its evidence, as stored.
    pub auth_evidence: Option<String>,
    /// The clerk who forwarded it.
    pub forwarded_by: Option<String>,
    /// Sender address.
    pub from_addr: Option<String>,
}

/// The filters of a page of unauthenticated accepted versions.
#[derive(Debug, Clone, Default)]
pub struct UnverifiedQuery {
    /// The campaign.
    pub campaign: String,
    /// Only this verdict (`none`, `fail`, `temperror`; `unchecked` for none recorded).
    pub verdict: Option<String>,
    /// Rows per page.
    pub limit: u32,
    /// Rows skipped.
    pub offset: u32,
}

/// One page of the accepted versions of a campaign whose message's sender was not
/// authenticated, newest first, and how many there are in all.
pub fn unverified(store: &Store, q: &UnverifiedQuery) -> Result<(Vec<UnverifiedRow>, u32)> {
    let filter = format!(
        "v.campaign = ?1 AND v.state = 'accepted' AND {NOT_AUTHENTICATED}
         AND (CAST(?2 AS TEXT) IS NULL OR (?2 = 'unchecked' AND m.auth IS NULL) OR m.auth = ?2)"
    );
    let total = store.query_rows(
        &format!(
            "SELECT count(*) FROM versions v JOIN messages m ON m.id = v.message WHERE {filter}"
        ),
        params![q.campaign, q.verdict],
        |r| r.get::<u32>(0),
    )?;
    let rows = store.query_rows(
        &format!(
            "SELECT v.agency, v.deliverable, v.version, v.message, v.received_at, v.late, m.auth, m.auth_evidence, m.forwarded_by, m.from_addr
             FROM versions v JOIN messages m ON m.id = v.message WHERE {filter}
             ORDER BY v.message DESC, v.deliverable LIMIT ?3 OFFSET ?4"
        ),
        params![q.campaign, q.verdict, q.limit, q.offset],
        |r| {
            Ok(UnverifiedRow {
                agency: r.get(0)?,
                deliverable: r.get(1)?,
                version: r.get(2)?,
                message: r.get(3)?,
                received_at: r.get(4)?,
                late: r.get::<i64>(5)? != 0,
                auth: r.get(6)?,
                auth_evidence: r.get(7)?,
                forwarded_by: r.get(8)?,
                from_addr: r.get(9)?,
            })
        },
    )?;
    Ok((rows, total.first().copied().unwrap_or(0)))
}

/// How many accepted versions of each campaign came from a sender not authenticated.
pub fn unverified_counts(store: &Store) -> Result<std::collections::HashMap<String, u32>> {
    Ok(store
        .query_rows(
            &format!(
                "SELECT v.campaign, count(*) FROM versions v JOIN messages m ON m.id = v.message
                 WHERE v.state = 'accepted' AND {NOT_AUTHENTICATED} GROUP BY v.campaign"
            ),
            params![],
            |r| Ok((r.get::<String>(0)?, r.get::<u32>(1)?)),
        )?
        .into_iter()
        .collect())
}

/// The filters of a page of the intake log.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// Only this agency.
    pub agency: Option<String>,
    /// Only this kind of event.
    pub kind: Option<String>,
    /// Only events at or after this instant (RFC 3339).
    pub since: Option<String>,
    /// Rows per page.
    pub limit: u32,
    /// Rows skipped.
    pub offset: u32,
}

/// One page of the intake log, newest first, and how many events match in all.
pub fn log_page(store: &Store, q: &LogQuery) -> Result<(Vec<super::query::Event>, u32)> {
    // Stored times carry their own offsets: compared as instants, not as text.
    let filter = if store.db().is_postgres() {
        "(CAST(?1 AS TEXT) IS NULL OR agency = ?1) AND (CAST(?2 AS TEXT) IS NULL OR kind = ?2) AND (CAST(?3 AS TEXT) IS NULL OR CAST(at AS timestamptz) >= CAST(CAST(?3 AS TEXT) AS timestamptz))"
    } else {
        "(CAST(?1 AS TEXT) IS NULL OR agency = ?1) AND (CAST(?2 AS TEXT) IS NULL OR kind = ?2) AND (CAST(?3 AS TEXT) IS NULL OR julianday(at) >= julianday(?3))"
    };
    let total = store.query_rows(
        &format!("SELECT count(*) FROM events WHERE {filter}"),
        params![q.agency, q.kind, q.since],
        |r| r.get::<u32>(0),
    )?;
    let rows = store.query_rows(
        &format!("SELECT id, at, kind, source, message, message_id, agency, campaign, files, detail, actor, (SELECT m.auth FROM messages m WHERE m.id = events.message) FROM events WHERE {filter} ORDER BY id DESC LIMIT ?4 OFFSET ?5"),
        params![q.agency, q.kind, q.since, q.limit, q.offset],
        |r| {
            let files: Option<String> = r.get(8)?;
            Ok(super::query::Event {
                id: r.get(0)?,
                at: r.get(1)?,
                kind: r.get(2)?,
                source: r.get(3)?,
                message: r.get(4)?,
                message_id: r.get(5)?,
                agency: r.get(6)?,
                campaign: r.get(7)?,
                files: files
                    .and_then(|f| serde_json::from_str(&f).ok())
                    .unwrap_or(serde_json::Value::Null),
                detail: r.get(9)?,
                actor: r.get(10)?,
                auth: r.get(11)?,
                auth_evidence: None,
            })
        },
    )?;
    Ok((rows, total.first().copied().unwrap_or(0)))
}

/// The kinds of event the log holds, for its filter.
pub fn event_kinds(store: &Store) -> Result<Vec<String>> {
    store.query_rows(
        "SELECT DISTINCT kind FROM events ORDER BY kind",
        params![],
        |r| r.get(0),
    )
}

/// A file that may be downloaded: its object's hash and its name. Only filed files (in the
/// filed tree or the quarantine) are given, and an annotated copy only where one was made.
pub fn downloadable(store: &Store, id: i64, annotated: bool) -> Result<Option<(String, String)>> {
    let sql = if annotated {
        "SELECT annotated, name FROM files WHERE id = ?1 AND annotated IS NOT NULL"
    } else {
        "SELECT sha256, name FROM files WHERE id = ?1 AND filed_path IS NOT NULL"
    };
    Ok(store
        .query_rows(sql, params![id], |r| Ok((r.get::<String>(0)?, r.get(1)?)))?
        .into_iter()
        .next()
        .filter(|(sha, _)| sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit())))
}

/// A number that changes whenever another connection commits a change to the store (SQLite's
/// `data_version`; compare values read on one connection only). PostgreSQL has no such
/// counter: there it is made of what every change the board shows leaves behind, a new log
/// event or a mail queued, sent, retried or given up.
pub fn data_version(store: &Store) -> Result<i64> {
    if store.db().is_postgres() {
        let parts = store.query_rows(
            "SELECT coalesce((SELECT max(id) FROM events), 0), count(*), count(sent_at), count(failed_at), coalesce(sum(attempts), 0), coalesce(max(id), 0) FROM outbox",
            params![],
            |r| {
                (0..6)
                    .map(|i| r.get::<i64>(i))
                    .collect::<db::Result<Vec<i64>>>()
            },
        )?;
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        parts.hash(&mut h);
        return Ok(h.finish() as i64);
    }
    Ok(store
        .query_rows("PRAGMA data_version", params![], |r| r.get::<i64>(0))?
        .into_iter()
        .next()
        .unwrap_or_default())
}

/// Queues a copy of a receipt again (the original was sent or given up) and logs who asked;
/// the new outbox row, or None when there is no such receipt or it is still waiting.
pub fn resend(
    store: &Store,
    id: i64,
    actor: &str,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Result<Option<i64>> {
    store.begin()?;
    let result = (|| {
        let copied = store.query_rows(
            "INSERT INTO outbox (created_at, kind, message, agency, to_addr, subject, body, in_reply_to, refs, attachments)
             SELECT ?1, kind, message, agency, to_addr, subject, body, in_reply_to, refs, attachments FROM outbox
             WHERE id = ?2 AND kind = 'receipt' AND (sent_at IS NOT NULL OR failed_at IS NOT NULL) RETURNING id, to_addr",
            params![now.to_rfc3339(), id],
            |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
        )?;
        let Some((new, to)) = copied.into_iter().next() else {
            return Ok(None);
        };
        store.query_rows(
            "INSERT INTO events (at, kind, source, message, agency, detail, actor)
             SELECT ?1, 'receipt-resent', 'staff', message, agency, ?2, ?3 FROM outbox WHERE id = ?4 RETURNING id",
            params![now.to_rfc3339(), format!("thư đi {id} → {new}: {to}"), actor, new],
            |r| r.get::<i64>(0),
        )?;
        Ok(Some(new))
    })();
    match result {
        Ok(v) => {
            store.commit()?;
            Ok(v)
        }
        Err(e) => {
            store.rollback();
            Err(e)
        }
    }
}

/// Logs a re-validation staff asked for, with its counts (the changed outcomes are logged one
/// by one by the re-validation itself).
pub fn log_revalidation(
    store: &Store,
    campaign: &str,
    detail: &str,
    actor: &str,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Result<()> {
    store.query_rows(
        "INSERT INTO events (at, kind, source, campaign, detail, actor) VALUES (?1, 'revalidated', 'staff', ?2, ?3, ?4) RETURNING id",
        params![now.to_rfc3339(), campaign, detail, actor],
        |r| r.get::<i64>(0),
    )?;
    Ok(())
}
