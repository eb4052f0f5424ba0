//! # The outbox sender
//!
//! Mail is queued in the store in the same transaction as what it tells of; this component
//! hands each due mail to a transport and marks it sent right after the transport accepted
//! it, so a mail is sent once. A transient failure (the server unreachable, a 4xx answer, a
//! timeout) is retried with exponential backoff; a permanent one (a 5xx answer, a mail that
//! cannot be built) or one still failing after the retry window is logged for staff and not
//! tried again. When the server itself cannot be reached the round stops: the rest waits for
//! the next round instead of each timing out in turn.
//!
//! Two transports, one file each: [`file`] writes `.eml` files into the outbox folder (the
//! embedded default), [`smtp`] submits to the department's server with lettre on tokio.

pub mod file;
pub mod message;
pub mod smtp;

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use lettre::Message;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::Config;
use crate::config::schedule::Retry;
use crate::store::{Store, StoreError};

/// Why a transport did not take a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Worth trying again later.
    pub transient: bool,
    /// The server could not be reached at all (so the other mail cannot go either).
    pub unreachable: bool,
    /// What the transport or server said.
    pub reason: String,
}

/// A way out for mail.
pub trait Transport {
    /// Hands one message over; returns where it went (a file, the server's answer).
    fn send(&mut self, id: i64, message: &Message) -> Result<String, Failure>;

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
    /// The round stopped early because the server could not be reached.
    pub server_down: Option<String>,
}

/// The wait before attempt `attempts + 1`, after `attempts` failures (at least one).
pub fn backoff(retry: &Retry, attempts: u32) -> Duration {
    let doubled = retry
        .first
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    doubled.min(retry.max)
}

/// What to do after a failure: retry at a time, or give up.
pub fn after_failure(
    retry: &Retry,
    failure: &Failure,
    attempts_before: u32,
    queued: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
) -> Option<DateTime<FixedOffset>> {
    if !failure.transient {
        return None;
    }
    let window = chrono::TimeDelta::from_std(retry.give_up).unwrap_or(chrono::TimeDelta::MAX);
    if now - queued >= window {
        return None;
    }
    let wait = backoff(retry, attempts_before + 1);
    Some(now + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX))
}

/// The transport the configuration names.
pub fn transport(config: &Config) -> Result<Box<dyn Transport + Send>, String> {
    Ok(match &config.outbox.smtp {
        Some(s) => Box::new(smtp::SmtpTransport::new(s)?),
        None => Box::new(file::FileOutbox::new(&config.outbox_dir)),
    })
}

/// Sends every due mail once through `transport`.
pub fn drain(
    config: &Config,
    store: &Store,
    transport: &mut dyn Transport,
    clock: &Clock,
) -> Result<DrainReport, StoreError> {
    let mut report = DrainReport::default();
    for q in store.due_mail(clock.now())? {
        let files: Vec<Vec<u8>> = q
            .attachments
            .iter()
            .map(|(sha, _, _)| store.objects().get(sha))
            .collect::<std::io::Result<_>>()
            .map_err(|e| StoreError::Io {
                path: store.dir().join("objects"),
                source: e,
            })?;
        let message = match message::build(config, &q, &files) {
            Ok(m) => m,
            Err(e) => {
                warn!(outbox = q.id, kind = %q.kind, error = %e, "mail cannot be built; not sent");
                store.mark_undeliverable(
                    q.id,
                    "mail-failed",
                    &e.to_string(),
                    false,
                    clock.now(),
                )?;
                report.failed += 1;
                continue;
            }
        };
        match transport.send(q.id, &message) {
            Ok(as_) => {
                store.mark_sent(q.id, &as_, clock.now())?;
                info!(outbox = q.id, kind = %q.kind, to = %q.to, via = %as_, "mail sent");
                report.sent += 1;
            }
            Err(f) => {
                let now = clock.now();
                match after_failure(&config.outbox.retry, &f, q.attempts, q.created_at, now) {
                    Some(next) => {
                        warn!(outbox = q.id, kind = %q.kind, to = %q.to, error = %f.reason, next = %next.to_rfc3339(), "mail not sent; will retry");
                        store.mark_retry(q.id, &f.reason, next)?;
                        report.retrying += 1;
                    }
                    None => {
                        let why = if f.transient {
                            format!("given up after {} attempts: {}", q.attempts + 1, f.reason)
                        } else {
                            format!("refused: {}", f.reason)
                        };
                        warn!(outbox = q.id, kind = %q.kind, to = %q.to, error = %why, "mail not delivered; shown to staff");
                        store.mark_undeliverable(q.id, "mail-failed", &why, true, now)?;
                        report.failed += 1;
                    }
                }
                if f.unreachable {
                    report.server_down = Some(f.reason);
                    break;
                }
            }
        }
    }
    Ok(report)
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
    fn transient_failures_retry_until_the_window_closes() {
        let r = Retry {
            first: Duration::from_secs(30),
            max: Duration::from_secs(600),
            give_up: Duration::from_secs(3600),
        };
        let down = Failure {
            transient: true,
            unreachable: true,
            reason: "connection refused".into(),
        };
        let queued = at("2018-07-05T09:00:00+07:00");
        assert_eq!(
            after_failure(&r, &down, 0, queued, queued),
            Some(at("2018-07-05T09:00:30+07:00"))
        );
        assert_eq!(
            after_failure(&r, &down, 2, queued, at("2018-07-05T09:10:00+07:00")),
            Some(at("2018-07-05T09:12:00+07:00"))
        );
        assert_eq!(
            after_failure(&r, &down, 5, queued, at("2018-07-05T10:00:00+07:00")),
            None
        );
        let refused = Failure {
            transient: false,
            unreachable: false,
            reason: "550 no such user".into(),
        };
        assert_eq!(after_failure(&r, &refused, 0, queued, queued), None);
    }
}
