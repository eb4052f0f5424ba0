//! # The outbox, reminders and digests in the index
//!
//! A mail is queued in the same transaction as what it tells of (a filing, a reminder step,
//! a day's digest) and leaves the queue in one of three ways: sent (marked right after the
//! server accepted it), failed (refused for good, given up after the retry window, or
//! cancelled because it no longer applies), or not yet, with the time of its next attempt.
//! Reminder steps and digest days are keyed so that each happens at most once.

use std::collections::HashSet;

use super::db::{OptionalExtension, params};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::{Result, Store};

/// A mail waiting in the outbox.
#[derive(Debug, Clone)]
pub struct Queued {
    /// Row id.
    pub id: i64,
    /// `receipt`, `reminder` or `digest`.
    pub kind: String,
    /// When it was queued.
    pub created_at: DateTime<FixedOffset>,
    /// Recipients, comma-separated.
    pub to: String,
    /// Copy to (comma-separated), e.g. the clerk who forwarded the agency's message.
    pub cc: Option<String>,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// The Message-ID replied to.
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs.
    pub references: Vec<String>,
    /// Files to attach: (object SHA-256, file name, content type).
    pub attachments: Vec<(String, String, String)>,
    /// Attempts made so far.
    pub attempts: u32,
    /// The agency it is for, if any.
    pub agency: Option<String>,
    /// The message it answers, if any.
    pub message: Option<i64>,
}

/// A reminder step as decided, for `intake remind` and the board.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReminderRecord {
    /// Campaign id.
    pub campaign: String,
    /// Agency code.
    pub agency: String,
    /// Days from the last day of submission.
    pub step: i32,
    /// When it was due.
    pub due_at: String,
    /// `queued` or `skipped`.
    pub outcome: String,
    /// Why it was skipped.
    pub reason: Option<String>,
    /// When its mail was sent.
    pub sent_at: Option<String>,
    /// Why its mail did not go (refused, cancelled), when it did not.
    pub failed: Option<String>,
}

/// A mail to queue.
#[derive(Debug, Clone, Default)]
pub struct NewMail {
    /// `receipt`, `reminder` or `digest`.
    pub kind: &'static str,
    /// The message it answers, if any.
    pub message: Option<i64>,
    /// The agency it is for, if any.
    pub agency: Option<String>,
    /// Recipients, comma-separated.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Files to attach: (object SHA-256, file name, content type); the objects must be stored.
    pub attachments: Vec<(String, String, String)>,
}

/// A mail that did not go, as staff see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Undelivered {
    /// Row id.
    pub id: i64,
    /// `receipt`, `reminder` or `digest`.
    pub kind: String,
    /// Recipients.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub error: Option<String>,
    /// When it was given up; None while it is still being retried.
    pub failed_at: Option<String>,
    /// When it is tried next, while it is retried.
    pub next_attempt_at: Option<String>,
}

/// What the outbox holds, for status.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Sent.
    pub sent: u32,
    /// Waiting (first attempt or a retry).
    pub waiting: u32,
    /// Refused for good or given up.
    pub failed: u32,
    /// Cancelled (a reminder the agency no longer needed).
    pub cancelled: u32,
}

/// How long a claim on a mail to send lasts while its daemon lives: longer than any hand-over
/// to the server takes.
pub const CLAIM_MS: i64 = 10 * 60 * 1000;

fn time(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_default()
}

impl Store {
    /// Queues a mail; returns its row id. Call inside the transaction of what it tells of.
    pub fn queue_mail(&self, m: &NewMail, now: DateTime<FixedOffset>) -> Result<i64> {
        let attachments: Vec<serde_json::Value> = m
            .attachments
            .iter()
            .map(|(sha, name, ct)| serde_json::json!({"sha256": sha, "name": name, "content_type": ct}))
            .collect();
        let id = self
            .conn
            .insert_id(
                "INSERT INTO outbox (created_at, kind, message, agency, to_addr, subject, body, attachments) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![now.to_rfc3339(), m.kind, m.message, m.agency, m.to, m.subject, m.body, serde_json::Value::from(attachments).to_string()],
            )
            .map_err(|e| self.sql(e))?;
        for (sha, _, _) in &m.attachments {
            self.note_sent_file(sha, id, now)?;
        }
        Ok(id)
    }

    /// Remembers a file intake sends out (a marked copy, a blank form), so that when it comes
    /// back unchanged it is recognised and never filed as a new version.
    pub fn note_sent_file(
        &self,
        sha256: &str,
        outbox: i64,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO sent_files (sha256, outbox, at) VALUES (?1, ?2, ?3)",
                params![sha256, outbox, now.to_rfc3339()],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Of these hashes, those of files intake sent out.
    pub fn sent_by_us<'a>(
        &self,
        hashes: impl Iterator<Item = &'a str>,
    ) -> Result<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        for h in hashes {
            let sent = self
                .conn
                .query_row(
                    "SELECT 1 FROM sent_files WHERE sha256 = ?1",
                    params![h],
                    |_| Ok(()),
                )
                .optional()
                .map_err(|e| self.sql(e))?;
            if sent.is_some() {
                out.insert(h.to_string());
            }
        }
        Ok(out)
    }

    /// Rewrites a queued mail's subject and body (a reminder's text names its own row).
    pub fn set_mail_text(&self, id: i64, subject: &str, body: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE outbox SET subject = ?1, body = ?2 WHERE id = ?3",
                params![subject, body, id],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// One page of the mail due now (not sent, not failed, past its next attempt time): of the first `limit` unsent rows after row `after`, those
    /// due; and the last row looked at (None when there was none). A queue of thousands of
    /// receipts after a backlog is sent page by page, never held whole.
    pub fn due_mail_page(
        &self,
        now: DateTime<FixedOffset>,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<Queued>, Option<i64>)> {
        // Times are compared as instants, not text: the clock's offset may differ between rows.
        let all = self.query_rows(
            "SELECT id, kind, created_at, to_addr, subject, body, in_reply_to, refs, attachments, attempts, next_attempt_at, agency, message, cc_addr FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
            params![after, limit],
            |r| {
                let refs: Option<String> = r.get(7)?;
                let attachments: Option<String> = r.get(8)?;
                let next: Option<String> = r.get(10)?;
                Ok((
                    Queued {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        created_at: time(&r.get::<String>(2)?),
                        to: r.get(3)?,
                        cc: r.get(13)?,
                        subject: r.get(4)?,
                        body: r.get(5)?,
                        in_reply_to: r.get(6)?,
                        references: refs
                            .and_then(|s| serde_json::from_str(&s).ok())
                            .unwrap_or_default(),
                        attachments: attachments
                            .and_then(|a| serde_json::from_str::<Vec<serde_json::Value>>(&a).ok())
                            .unwrap_or_default()
                            .iter()
                            .filter_map(|v| {
                                Some((
                                    v["sha256"].as_str()?.to_string(),
                                    v["name"].as_str()?.to_string(),
                                    v["content_type"].as_str()?.to_string(),
                                ))
                            })
                            .collect(),
                        attempts: r.get(9)?,
                        agency: r.get(11)?,
                        message: r.get(12)?,
                    },
                    next,
                ))
            },
        )?;
        let last = all.last().map(|(q, _)| q.id);
        Ok((
            all.into_iter()
                .filter(|(_, next)| next.as_deref().is_none_or(|n| time(n) <= now))
                .map(|(q, _)| q)
                .collect(),
            last,
        ))
    }

    /// The earliest next attempt among mail waiting after a failure.
    pub fn next_retry(&self) -> Result<Option<DateTime<FixedOffset>>> {
        let times = self.query_rows(
            "SELECT next_attempt_at FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at IS NOT NULL",
            params![],
            |r| r.get::<String>(0),
        )?;
        Ok(times.iter().map(|t| time(t)).min())
    }

    /// Takes a due mail for sending, for `claimer`: false when it was sent or cancelled
    /// meanwhile, or another daemon sending from the same index has it. A claim lasts
    /// [`CLAIM_MS`], or until its daemon is gone (stopped, or killed: its session closed);
    /// on PostgreSQL a row another daemon is claiming at this instant is skipped, not waited
    /// for. A mail that did not go is let go again ([`Store::unclaim_mail`]).
    pub fn claim_mail(&self, id: i64, claimer: &str) -> Result<bool> {
        let now = self.db_now_ms()?;
        let sql = format!(
            "UPDATE outbox SET claimed_by = ?2, claimed_until_ms = ?3 WHERE id = (
                SELECT o.id FROM outbox o WHERE o.id = ?1 AND o.sent_at IS NULL AND o.failed_at IS NULL
                AND (o.claimed_by IS NULL OR o.claimed_by = ?2 OR o.claimed_until_ms < ?4
                     OR NOT EXISTS (SELECT 1 FROM daemons d WHERE d.holder = o.claimed_by AND {}))
                {})",
            self.not_gone_sql(),
            if self.conn.is_postgres() {
                "FOR UPDATE SKIP LOCKED"
            } else {
                ""
            }
        );
        let n = self
            .conn
            .execute(&sql, params![id, claimer, now + CLAIM_MS, now])
            .map_err(|e| self.sql(e))?;
        Ok(n == 1)
    }

    /// Lets a claimed mail go (it did not go this time), for any daemon's next round.
    pub fn unclaim_mail(&self, id: i64, claimer: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE outbox SET claimed_by = NULL, claimed_until_ms = NULL WHERE id = ?1 AND claimed_by = ?2",
                params![id, claimer],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Notes that the server (or the file outbox) accepted a mail. A mail accepted is sent,
    /// even if it was cancelled while it was being handed over.
    pub fn mark_sent(&self, id: i64, as_: &str, now: DateTime<FixedOffset>) -> Result<()> {
        self.conn
            .execute("UPDATE outbox SET sent_at = ?1, delivered_as = ?2, attempts = attempts + 1, next_attempt_at = NULL, failed_at = NULL WHERE id = ?3 AND sent_at IS NULL", params![now.to_rfc3339(), as_, id])
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Puts mail that did not go back in the queue (staff, after fixing the cause): one row,
    /// or every refused and given-up one. Returns how many.
    pub fn requeue(&self, id: Option<i64>) -> Result<usize> {
        let n = self
            .conn
            .execute(
                "UPDATE outbox SET failed_at = NULL, next_attempt_at = NULL, attempts = 0 WHERE sent_at IS NULL AND failed_at IS NOT NULL AND coalesce(last_error, '') NOT LIKE 'cancelled:%' AND (CAST(?1 AS BIGINT) IS NULL OR id = ?1)",
                params![id],
            )
            .map_err(|e| self.sql(e))?;
        Ok(n)
    }

    /// Notes a failed attempt to be retried at `next`.
    pub fn mark_retry(&self, id: i64, error: &str, next: DateTime<FixedOffset>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?1, next_attempt_at = ?2 WHERE id = ?3",
                params![error, next.to_rfc3339(), id],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Notes that a waiting mail will not go (refused for good, given up, cancelled) and logs
    /// it for staff; `attempted` counts this as an attempt. False when it was no longer
    /// waiting (sent or given up meanwhile).
    pub fn mark_undeliverable(
        &self,
        id: i64,
        kind: &str,
        error: &str,
        attempted: bool,
        now: DateTime<FixedOffset>,
    ) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE outbox SET attempts = attempts + ?1, last_error = ?2, failed_at = ?3, next_attempt_at = NULL WHERE id = ?4 AND sent_at IS NULL AND failed_at IS NULL",
                params![attempted as i64, error, now.to_rfc3339(), id],
            )
            .map_err(|e| self.sql(e))?;
        if n == 0 {
            return Ok(false);
        }
        self.conn
            .execute(
                "INSERT INTO events (at, kind, source, message, agency, detail) SELECT ?1, ?2, 'outbox', message, agency, ?3 FROM outbox WHERE id = ?4",
                params![now.to_rfc3339(), kind, error, id],
            )
            .map_err(|e| self.sql(e))?;
        Ok(true)
    }

    /// Marks a mail the remote server returned (a bounce reached our mailbox) and logs it for
    /// staff; false when the row is not ours or was marked already.
    pub fn mark_bounced(
        &self,
        id: i64,
        why: &str,
        bounce: i64,
        now: DateTime<FixedOffset>,
    ) -> Result<bool> {
        let error = format!("bounced: {why} (report {})", super::receipt_number(bounce));
        let n = self
            .conn
            .execute(
                "UPDATE outbox SET failed_at = ?1, last_error = ?2 WHERE id = ?3 AND coalesce(last_error, '') NOT LIKE 'bounced:%'",
                params![now.to_rfc3339(), error, id],
            )
            .map_err(|e| self.sql(e))?;
        if n == 1 {
            self.conn
                .execute(
                    "INSERT INTO events (at, kind, source, message, agency, detail) SELECT ?1, 'mail-bounced', 'outbox', message, agency, ?2 FROM outbox WHERE id = ?3",
                    params![now.to_rfc3339(), format!("{}: {error}", id), id],
                )
                .map_err(|e| self.sql(e))?;
        }
        Ok(n == 1)
    }

    /// Cancels the reminders of an agency still waiting in the outbox (a later step replaces
    /// them); returns how many.
    pub fn cancel_waiting_reminders(
        &self,
        campaign: &str,
        agency: &str,
        why: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<usize> {
        let ids = self.query_rows(
            "SELECT o.id FROM reminders r JOIN outbox o ON o.id = r.outbox WHERE r.campaign = ?1 AND r.agency = ?2 AND o.sent_at IS NULL AND o.failed_at IS NULL",
            params![campaign, agency],
            |r| r.get::<i64>(0),
        )?;
        let mut n = 0;
        for id in ids {
            n += usize::from(self.mark_undeliverable(id, "reminder-cancelled", why, false, now)?);
        }
        Ok(n)
    }

    /// Cancels digests still waiting in the outbox (today's replaces them).
    pub fn cancel_waiting_digests(&self, why: &str, now: DateTime<FixedOffset>) -> Result<usize> {
        let ids = self.query_rows(
            "SELECT id FROM outbox WHERE kind = 'digest' AND sent_at IS NULL AND failed_at IS NULL",
            params![],
            |r| r.get::<i64>(0),
        )?;
        let mut n = 0;
        for id in ids {
            n += usize::from(self.mark_undeliverable(id, "mail-cancelled", why, false, now)?);
        }
        Ok(n)
    }

    /// Forgets the decisions of an agency's reminder steps that are due after `now` under its
    /// new deadline (an extension), so that they go again before the new deadline.
    pub fn reopen_reminder_steps(
        &self,
        campaign: &str,
        agency: &str,
        steps: &[i32],
    ) -> Result<usize> {
        let mut n = 0;
        for step in steps {
            n += self
                .conn
                .execute(
                    "DELETE FROM reminders WHERE campaign = ?1 AND agency = ?2 AND step = ?3",
                    params![campaign, agency, step],
                )
                .map_err(|e| self.sql(e))?;
        }
        Ok(n)
    }

    /// This store's own name for the mail it makes (Message-IDs and outbox files), so that a
    /// fresh or restored store never repeats another's.
    pub fn instance(&self) -> Result<String> {
        if let Some(v) = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'instance'",
                params![],
                |r| r.get::<String>(0),
            )
            .optional()
            .map_err(|e| self.sql(e))?
        {
            return Ok(v);
        }
        let seed = format!(
            "{:?}{}{:?}",
            std::time::SystemTime::now(),
            std::process::id(),
            self.dir
        );
        let v = crate::core::pipeline::sha256_hex(seed.as_bytes())[..10].to_string();
        self.conn
            .execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('instance', ?1)",
                params![&v],
            )
            .map_err(|e| self.sql(e))?;
        self.conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'instance'",
                params![],
                |r| r.get::<String>(0),
            )
            .map_err(|e| self.sql(e))
    }

    /// Mail that did not go: failed ones since `since`, and all still being retried.
    pub fn undelivered(&self, since: Option<DateTime<FixedOffset>>) -> Result<Vec<Undelivered>> {
        let rows = self.query_rows(
            "SELECT id, kind, to_addr, subject, attempts, last_error, failed_at, next_attempt_at FROM outbox WHERE ((sent_at IS NULL AND (attempts > 0 OR failed_at IS NOT NULL)) OR last_error LIKE 'bounced:%') AND coalesce(last_error, '') NOT LIKE 'cancelled:%' ORDER BY id",
            params![],
            |r| {
                Ok(Undelivered {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    to: r.get(2)?,
                    subject: r.get(3)?,
                    attempts: r.get(4)?,
                    error: r.get(5)?,
                    failed_at: r.get(6)?,
                    next_attempt_at: r.get(7)?,
                })
            },
        )?;
        Ok(rows
            .into_iter()
            .filter(|u| match (&u.failed_at, since) {
                (Some(f), Some(s)) => time(f) >= s,
                _ => true,
            })
            .collect())
    }

    /// How many mails are sent, waiting, failed and cancelled.
    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        let rows = self.query_rows(
            "SELECT CASE WHEN last_error LIKE 'bounced:%' THEN 'failed' WHEN sent_at IS NOT NULL THEN 'sent' WHEN failed_at IS NULL THEN 'waiting' WHEN last_error LIKE 'cancelled:%' THEN 'cancelled' ELSE 'failed' END, count(*) FROM outbox GROUP BY 1",
            params![],
            |r| Ok((r.get::<String>(0)?, r.get::<u32>(1)?)),
        )?;
        let mut c = OutboxCounts::default();
        for (k, n) in rows {
            match k.as_str() {
                "sent" => c.sent = n,
                "waiting" => c.waiting = n,
                "cancelled" => c.cancelled = n,
                _ => c.failed = n,
            }
        }
        Ok(c)
    }

    /// Mail sent, by kind (`receipt`, `reminder`, `digest`).
    pub fn sent_by_kind(&self) -> Result<Vec<(String, u32)>> {
        self.query_rows(
            "SELECT kind, count(*) FROM outbox WHERE sent_at IS NOT NULL GROUP BY kind ORDER BY kind DESC",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// Reminder steps already decided for an agency in a campaign.
    pub fn reminder_steps(&self, campaign: &str, agency: &str) -> Result<HashSet<i32>> {
        Ok(self
            .query_rows(
                "SELECT step FROM reminders WHERE campaign = ?1 AND agency = ?2",
                params![campaign, agency],
                |r| r.get::<i32>(0),
            )?
            .into_iter()
            .collect())
    }

    /// Records a reminder step's decision; false when it was already decided (nothing
    /// changes then).
    #[allow(clippy::too_many_arguments)] // one column each
    pub fn decide_reminder(
        &self,
        campaign: &str,
        agency: &str,
        step: i32,
        due_at: DateTime<FixedOffset>,
        outcome: &str,
        reason: Option<&str>,
        outbox: Option<i64>,
        now: DateTime<FixedOffset>,
    ) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO reminders (campaign, agency, step, due_at, decided_at, outcome, reason, outbox) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![campaign, agency, step, due_at.to_rfc3339(), now.to_rfc3339(), outcome, reason, outbox],
            )
            .map_err(|e| self.sql(e))?;
        Ok(n == 1)
    }

    /// Reminders still waiting in the outbox: (outbox row, campaign, agency).
    pub fn waiting_reminders(&self) -> Result<Vec<(i64, String, String)>> {
        self.query_rows(
            "SELECT o.id, r.campaign, r.agency FROM reminders r JOIN outbox o ON o.id = r.outbox WHERE o.sent_at IS NULL AND o.failed_at IS NULL",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// Every reminder decision, by campaign, agency and step.
    pub fn reminder_log(&self) -> Result<Vec<ReminderRecord>> {
        self.query_rows(
            "SELECT r.campaign, r.agency, r.step, r.due_at, r.outcome, r.reason, o.sent_at, CASE WHEN o.failed_at IS NOT NULL THEN o.last_error END FROM reminders r LEFT JOIN outbox o ON o.id = r.outbox ORDER BY r.campaign, r.agency, r.step",
            params![],
            |r| {
                Ok(ReminderRecord {
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

    /// The day a digest was last queued and when.
    pub fn last_digest(&self) -> Result<Option<(String, DateTime<FixedOffset>)>> {
        self.conn
            .query_row(
                "SELECT day, at FROM digests ORDER BY day DESC LIMIT 1",
                params![],
                |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
            )
            .optional()
            .map(|o| o.map(|(d, at)| (d, time(&at))))
            .map_err(|e| self.sql(e))
    }

    /// Records the digest of `day`; false when that day's digest exists already.
    pub fn record_digest(
        &self,
        day: &str,
        outbox: i64,
        now: DateTime<FixedOffset>,
    ) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO digests (day, at, outbox) VALUES (?1, ?2, ?3)",
                params![day, now.to_rfc3339(), outbox],
            )
            .map_err(|e| self.sql(e))?;
        Ok(n == 1)
    }

    /// Logs a notice (a reminder or digest queued, a receipt held back) in the intake log.
    pub fn log_notice(
        &self,
        at: DateTime<FixedOffset>,
        kind: &str,
        agency: Option<&str>,
        campaign: Option<&str>,
        detail: &str,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO events (at, kind, source, agency, campaign, detail) VALUES (?1, ?2, 'outbox', ?3, ?4, ?5)",
                params![at.to_rfc3339(), kind, agency, campaign, detail],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Opens a second connection to this store, for another component of the same process
    /// (the writer lock is this process's already).
    pub fn another_connection(&self) -> Result<Store> {
        let mut other = match &self.index {
            crate::config::store::IndexAt::Sqlite => Store::connect(&self.dir)?,
            crate::config::store::IndexAt::Postgres(pg) => Store::connect_postgres(&self.dir, pg)?,
        };
        other.objects = self.objects.clone();
        Ok(other)
    }
}
