//! # The outbox sender
//!
//! Mail is queued in the store in the same transaction as what it tells of; this component
//! hands each due mail to a transport and marks it sent right after the transport accepted
//! it. What a transport says is a [`Failure`] value: a mail the server refused for good is
//! shown to staff and not tried again; a deferred mail is retried with exponential backoff
//! until the retry window closes; when the server cannot be used at all (unreachable, TLS or
//! login refused) the round stops and every mail waits, however long the outage lasts.
//!
//! Sent once: a mail is claimed before it is handed over (a cancelled or already sent row is
//! skipped), and a mail the server accepted but whose mark could not be written (the index
//! busy or the disk full) is remembered in memory and never handed over again by this process.
//! Reminders and digests go only in office hours, and one that waited too long (the server
//! down for a day) is cancelled as stale rather than sent late; the next step replaces it.
//!
//! Two transports, one file each: [`file`] writes `.eml` files into the outbox folder (the
//! embedded default), [`smtp`] submits to the department's server with lettre on tokio.

pub mod file;
pub mod message;
pub mod smtp;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use lettre::Message;
use tracing::{error, info, warn};

use crate::clock::Clock;
use crate::config::Config;
use crate::config::schedule::Retry;
use crate::store::mail::Queued;
use crate::store::{Store, StoreError};

/// Queued mail read from the store at a time.
const PAGE: i64 = 256;

/// Why a transport did not take a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server refused this mail for good (a 5xx answer to its recipient or data, or a
    /// mail the client cannot send): not tried again.
    Refused(String),
    /// The server put this mail off (a 4xx answer): tried again later, within the window.
    Deferred(String),
    /// The server cannot be used now (unreachable, timed out, TLS failed, login or sender
    /// refused): this and every other mail waits, with no time limit.
    ServerUnusable(String),
}

impl Failure {
    /// What the server or transport said.
    pub fn reason(&self) -> &str {
        match self {
            Failure::Refused(r) | Failure::Deferred(r) | Failure::ServerUnusable(r) => r,
        }
    }
}

/// A mail a transport took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Where it went (a file, the server and its answer).
    pub via: String,
    /// Recipients the server refused while it took the mail for the others.
    pub refused: Vec<(String, String)>,
}

/// Why a transport cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The password or token could not be read.
    #[error("outbox.smtp: the password cannot be read: {0}")]
    Secret(String),
    /// The trust anchors could not be read.
    #[error("outbox.smtp.ca_file: {0}")]
    Certificate(String),
    /// TLS could not be configured, or the runtime not started.
    #[error("outbox.smtp: {0}")]
    Setup(String),
}

/// A way out for mail.
pub trait Transport {
    /// Hands one message over.
    fn send(&mut self, id: i64, message: &Message) -> Result<Delivered, Failure>;

    /// What it is, for logs and `intake doctor`.
    fn describe(&self) -> String;
}

/// What one round of sending did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Mail accepted.
    pub sent: usize,
    /// Mail that failed and waits for a retry.
    pub retrying: usize,
    /// Mail that will not go.
    pub failed: usize,
    /// Reminders and digests cancelled because they waited too long.
    pub stale: usize,
    /// Reminders and digests held until office hours.
    pub held: usize,
    /// The round stopped early because the server cannot be used.
    pub server_down: Option<String>,
}

/// The wait before attempt `attempts + 1`, after `attempts` failures (at least one).
pub fn backoff(retry: &Retry, attempts: u32) -> Duration {
    let doubled = retry
        .first
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    doubled.min(retry.max)
}

/// When to try a deferred mail again, or None when its retry window has closed.
pub fn after_deferral(
    retry: &Retry,
    attempts_before: u32,
    queued: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
) -> Option<DateTime<FixedOffset>> {
    let window = chrono::TimeDelta::from_std(retry.give_up).unwrap_or(chrono::TimeDelta::MAX);
    if now - queued >= window {
        return None;
    }
    Some(later(now, backoff(retry, attempts_before + 1)))
}

fn later(now: DateTime<FixedOffset>, wait: Duration) -> DateTime<FixedOffset> {
    now + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX)
}

/// How long a reminder or digest may wait in the outbox before it is stale: a reminder past a
/// day and a half would name the wrong time left (and the next step replaces it), a digest
/// past half a day is yesterday's news.
pub fn stale_after(kind: &str) -> Option<chrono::TimeDelta> {
    match kind {
        "reminder" => Some(chrono::TimeDelta::hours(36)),
        "digest" => Some(chrono::TimeDelta::hours(12)),
        _ => None,
    }
}

/// The transport the configuration names.
pub fn transport(config: &Config) -> Result<Box<dyn Transport + Send>, TransportError> {
    Ok(match &config.outbox.smtp {
        Some(s) => Box::new(smtp::SmtpTransport::new(s)?),
        None => Box::new(file::FileOutbox::new(&config.outbox_dir)),
    })
}

/// The transport with what it remembers between rounds.
pub struct Outbox {
    transport: Box<dyn Transport + Send>,
    /// Mail the server accepted whose mark is not yet written: never handed over again.
    unrecorded: HashSet<i64>,
    /// Consecutive rounds that found the server unusable.
    down: u32,
    /// Whose claims this outbox makes on mail to send: the daemon's name among those sharing
    /// the index.
    claimer: String,
}

impl Outbox {
    /// The outbox over `transport`.
    pub fn new(transport: Box<dyn Transport + Send>) -> Outbox {
        Outbox {
            transport,
            unrecorded: HashSet::new(),
            down: 0,
            claimer: "intake".into(),
        }
    }

    /// Claims mail as `claimer` (a daemon's name, module `daemon::keeper`).
    pub fn claiming_as(mut self, claimer: String) -> Outbox {
        self.claimer = claimer;
        self
    }

    /// What the transport is.
    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    /// Consecutive rounds that found the server unusable.
    pub fn down_rounds(&self) -> u32 {
        self.down
    }

    /// Sends every due mail once; checks `stop` between mails.
    pub fn drain(
        &mut self,
        config: &Config,
        store: &Store,
        clock: &Clock,
        stop: &dyn Fn() -> bool,
    ) -> Result<DrainReport, StoreError> {
        let mut report = DrainReport::default();
        // First write the marks that could not be written before.
        for id in self.unrecorded.clone() {
            store.mark_sent(id, "accepted by the server; recorded late", clock.now())?;
            self.unrecorded.remove(&id);
        }
        let office =
            crate::core::reminder::in_office_hours(&config.office, config.timezone, clock.now());
        // Page by page: a backlog's thousands of receipts are never held at once.
        let mut after = 0;
        'pages: loop {
            let (page, last) = store.due_mail_page(clock.now(), after, PAGE)?;
            let Some(last) = last else { break };
            after = last;
            for q in page {
                if stop() {
                    break 'pages;
                }
                let now = clock.now();
                if let Some(limit) = stale_after(&q.kind) {
                    if now - q.created_at > limit {
                        let why = format!(
                            "cancelled: stale, waited since {} for the server",
                            q.created_at.to_rfc3339()
                        );
                        if store.mark_undeliverable(q.id, "mail-cancelled", &why, false, now)? {
                            report.stale += 1;
                        }
                        continue;
                    }
                    if !office {
                        report.held += 1;
                        continue;
                    }
                }
                if !store.claim_mail(q.id, &self.claimer)? {
                    continue;
                }
                let sent = self.send_one(config, store, &q, now)?;
                if !matches!(sent, Sent::Yes) {
                    // Not gone: another daemon (whose server may answer) may take it.
                    store.unclaim_mail(q.id, &self.claimer)?;
                }
                match sent {
                    Sent::Yes => report.sent += 1,
                    Sent::Retrying => report.retrying += 1,
                    Sent::Failed => report.failed += 1,
                    Sent::ServerDown(why) => {
                        report.server_down = Some(why);
                        break 'pages;
                    }
                }
            }
        }
        self.down = if report.server_down.is_some() {
            self.down + 1
        } else {
            0
        };
        Ok(report)
    }

    fn send_one(
        &mut self,
        config: &Config,
        store: &Store,
        q: &Queued,
        now: DateTime<FixedOffset>,
    ) -> Result<Sent, StoreError> {
        let retry = &config.outbox.retry;
        let files: std::io::Result<Vec<Vec<u8>>> = q
            .attachments
            .iter()
            .map(|(sha, _, _)| store.objects().get(sha))
            .collect();
        let failure = match files {
            Err(e) => {
                Failure::Deferred(format!("an attachment cannot be read from the store: {e}"))
            }
            Ok(files) => match message::build(config, q, &files, &store.instance()?) {
                Err(e) => Failure::Refused(e.to_string()),
                Ok(m) => match self.transport.send(q.id, &m) {
                    Ok(d) => {
                        if let Err(e) = store.mark_sent(q.id, &d.via, now) {
                            // Accepted but not marked: never hand it over again.
                            self.unrecorded.insert(q.id);
                            error!(outbox = q.id, error = %crate::causes::chain(&e), "mail accepted but its mark not written; kept in memory");
                            return Err(e);
                        }
                        info!(outbox = q.id, kind = %q.kind, agency = q.agency.as_deref().unwrap_or("-"), receipt = q.message.unwrap_or(0), to = %q.to, via = %d.via, "mail sent");
                        for (to, why) in &d.refused {
                            store.log_notice(
                                now,
                                "mail-failed",
                                q.agency.as_deref(),
                                None,
                                &format!("{}: {to}: {why}", q.subject),
                            )?;
                        }
                        return Ok(Sent::Yes);
                    }
                    Err(f) => f,
                },
            },
        };
        let fields = (
            q.id,
            q.kind.as_str(),
            q.agency.as_deref().unwrap_or("-"),
            q.to.as_str(),
        );
        Ok(match failure {
            Failure::Refused(why) => {
                let why = format!("refused: {why}");
                warn!(outbox = fields.0, kind = fields.1, agency = fields.2, to = fields.3, error = %why, "mail refused; shown to staff");
                store.mark_undeliverable(q.id, "mail-failed", &why, true, now)?;
                Sent::Failed
            }
            Failure::Deferred(why) => match after_deferral(retry, q.attempts, q.created_at, now) {
                Some(next) => {
                    warn!(outbox = fields.0, kind = fields.1, agency = fields.2, to = fields.3, error = %why, next = %next.to_rfc3339(), "mail deferred; will retry");
                    store.mark_retry(q.id, &why, next)?;
                    Sent::Retrying
                }
                None => {
                    let why = format!("given up after {} attempts: {why}", q.attempts + 1);
                    warn!(outbox = fields.0, kind = fields.1, agency = fields.2, to = fields.3, error = %why, "mail given up; shown to staff");
                    store.mark_undeliverable(q.id, "mail-failed", &why, true, now)?;
                    Sent::Failed
                }
            },
            Failure::ServerUnusable(why) => {
                let next = later(now, backoff(retry, self.down + 1));
                store.mark_retry(q.id, &why, next)?;
                Sent::ServerDown(why)
            }
        })
    }
}

enum Sent {
    Yes,
    Retrying,
    Failed,
    ServerDown(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let r = Retry {
            first: Duration::from_secs(30),
            max: Duration::from_secs(600),
            give_up: Duration::from_secs(3600),
        };
        let waits: Vec<u64> = (1..=7).map(|n| backoff(&r, n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 600, 600]);
        assert_eq!(backoff(&r, 1000).as_secs(), 600);
    }

    #[test]
    fn deferred_mail_is_retried_until_the_window_closes() {
        let r = Retry {
            first: Duration::from_secs(30),
            max: Duration::from_secs(600),
            give_up: Duration::from_secs(3600),
        };
        let queued = at("2018-07-05T09:00:00+07:00");
        assert_eq!(
            after_deferral(&r, 0, queued, queued),
            Some(at("2018-07-05T09:00:30+07:00"))
        );
        assert_eq!(
            after_deferral(&r, 2, queued, at("2018-07-05T09:10:00+07:00")),
            Some(at("2018-07-05T09:12:00+07:00"))
        );
        assert_eq!(
            after_deferral(&r, 5, queued, at("2018-07-05T10:00:00+07:00")),
            None
        );
    }

    /// A transport that answers from a script.
    struct Scripted(Vec<Result<Delivered, Failure>>, Vec<i64>);

    impl Transport for Scripted {
        fn send(&mut self, id: i64, _: &Message) -> Result<Delivered, Failure> {
            self.1.push(id);
            self.0.remove(0)
        }
        fn describe(&self) -> String {
            "scripted".into()
        }
    }

    fn queued(store: &Store, n: usize, kind: &'static str, at: DateTime<FixedOffset>) {
        for i in 0..n {
            store
                .queue_mail(
                    &crate::store::mail::NewMail {
                        kind,
                        to: format!("so-{i}@langson.example"),
                        subject: format!("thư {i}"),
                        body: "nội dung".into(),
                        ..Default::default()
                    },
                    at,
                )
                .unwrap();
        }
    }

    fn ok() -> Result<Delivered, Failure> {
        Ok(Delivered {
            via: "scripted 250".into(),
            refused: Vec::new(),
        })
    }

    #[test]
    fn a_refused_login_keeps_every_mail_and_stops_the_round() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::embedded(dir.path()).unwrap();
        let store = Store::open(&config.store_dir).unwrap();
        let now = "2018-07-05T09:00:00+07:00";
        let clock = Clock::starting_at(at(now));
        queued(&store, 3, "receipt", at(now));
        let script = Scripted(
            vec![Err(Failure::ServerUnusable(
                "535 5.7.8 authentication failed".into(),
            ))],
            Vec::new(),
        );
        let mut outbox = Outbox::new(Box::new(script));
        let r = outbox.drain(&config, &store, &clock, &|| false).unwrap();
        assert_eq!((r.sent, r.failed), (0, 0));
        assert!(r.server_down.unwrap().contains("535"));
        assert_eq!(store.outbox_counts().unwrap().waiting, 3);
        assert_eq!(outbox.down_rounds(), 1);
    }

    #[test]
    fn refused_mail_fails_alone_and_deferred_mail_waits() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::embedded(dir.path()).unwrap();
        let store = Store::open(&config.store_dir).unwrap();
        let now = "2018-07-05T09:00:00+07:00";
        let clock = Clock::starting_at(at(now));
        queued(&store, 3, "receipt", at(now));
        let script = Scripted(
            vec![
                Err(Failure::Refused("550 5.1.1 no such user".into())),
                Err(Failure::Deferred("452 mailbox full".into())),
                ok(),
            ],
            Vec::new(),
        );
        let mut outbox = Outbox::new(Box::new(script));
        let r = outbox.drain(&config, &store, &clock, &|| false).unwrap();
        assert_eq!((r.sent, r.retrying, r.failed), (1, 1, 1));
        let c = store.outbox_counts().unwrap();
        assert_eq!((c.sent, c.waiting, c.failed), (1, 1, 1));
        // The deferred one is not due again at once; nothing is sent twice.
        let r = outbox.drain(&config, &store, &clock, &|| false).unwrap();
        assert_eq!(r, DrainReport::default());
    }

    #[test]
    fn reminders_wait_for_office_hours_and_go_stale() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::embedded(dir.path()).unwrap();
        let store = Store::open(&config.store_dir).unwrap();
        queued(&store, 1, "reminder", at("2018-07-04T08:00:00+07:00"));
        let evening = Clock::starting_at(at("2018-07-04T20:00:00+07:00"));
        let mut outbox = Outbox::new(Box::new(Scripted(vec![ok()], Vec::new())));
        let r = outbox.drain(&config, &store, &evening, &|| false).unwrap();
        assert_eq!((r.sent, r.held), (0, 1));
        let two_days = Clock::starting_at(at("2018-07-06T09:00:00+07:00"));
        let r = outbox.drain(&config, &store, &two_days, &|| false).unwrap();
        assert_eq!((r.sent, r.stale), (0, 1));
        assert_eq!(store.outbox_counts().unwrap().cancelled, 1);
    }
}
