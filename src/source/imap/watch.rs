//! # The IDLE watcher
//!
//! A connection of its own, on its own thread, that sits in IDLE on the mailbox and wakes the
//! ingest worker when the server reports anything. IDLE is ended and re-issued on our own
//! timer (the built-in timeout restarts on every server keepalive, so it may never fire); a
//! server without IDLE is polled with NOOP. The worker is also woken on every (re)connection,
//! to take what arrived while the connection was down. Failures reconnect with exponential
//! backoff and jitter; a connection that does not answer DONE or NOOP in time is dead.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use async_imap::extensions::idle::IdleResponse;
use async_imap::imap_proto::{MailboxDatum, Response};
use async_imap::types::UnsolicitedResponse;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::conn::{self, ImapError, Session, within};
use super::utf7;
use crate::config::imap::Imap;
use crate::store::mailbox_state::ConnectionState;

/// Watches an IMAP mailbox until dropped.
pub struct ImapWatcher {
    stop: Option<watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ImapWatcher {
    /// Starts watching; `wake` is called (from the watcher's thread) whenever the mailbox may
    /// hold something new. Each connection change is written to `state` (see [`crate::store::mailbox_state::state_file`])
    /// for `intake status`.
    pub fn start(
        settings: Imap,
        state: Option<std::path::PathBuf>,
        wake: impl Fn() + Send + 'static,
    ) -> ImapWatcher {
        let (stop, stopped) = watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("imap-idle".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        warn!(error = %crate::causes::chain(&e), "cannot start the imap watcher; the periodic rescan still runs");
                        return;
                    }
                };
                runtime.block_on(watch_forever(&settings, state.as_deref(), &wake, stopped));
            })
            .ok();
        ImapWatcher {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for ImapWatcher {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Exponential backoff with full jitter: each delay is drawn from [base·2ⁿ/2, base·2ⁿ].
#[derive(Debug)]
pub(super) struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub(super) fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max,
            attempt: 0,
        }
    }

    pub(super) fn next(&mut self) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1 << self.attempt.min(16))
            .min(self.max);
        self.attempt += 1;
        let r = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let frac = 0.5 + (r % 1000) as f64 / 2000.0;
        ceiling.mul_f64(frac)
    }

    pub(super) fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Writes the state atomically; a failure is only logged (the state is informative).
fn record(
    path: Option<&std::path::Path>,
    settings: &Imap,
    state: &str,
    mode: Option<&str>,
    error: Option<String>,
) {
    let Some(path) = path else { return };
    let s = ConnectionState {
        account: settings.account(),
        mailbox: settings.folder.clone(),
        state: state.into(),
        mode: mode.map(str::to_string),
        since: chrono::Utc::now().to_rfc3339(),
        error,
    };
    let tmp = path.with_extension("json.tmp");
    let written = serde_json::to_vec_pretty(&s)
        .map_err(std::io::Error::other)
        .and_then(|b| std::fs::write(&tmp, b))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        warn!(path = %path.display(), error = %crate::causes::chain(&e), "cannot record the imap connection state");
    }
}

async fn watch_forever(
    settings: &Imap,
    state: Option<&std::path::Path>,
    wake: &dyn Fn(),
    mut stopped: watch::Receiver<bool>,
) {
    let account = settings.account();
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(60));
    loop {
        let started = Instant::now();
        match watch_once(settings, state, wake, &mut stopped).await {
            Ok(()) => {
                info!(account = %account, "imap watcher stopped");
                return;
            }
            Err(e) => {
                // A connection that lived a while earns a quick retry.
                if started.elapsed() > Duration::from_secs(60) {
                    backoff.reset();
                }
                let delay = backoff.next();
                warn!(account = %account, error = %crate::causes::chain(&e), retry_in_ms = delay.as_millis() as u64, "imap watcher disconnected");
                record(state, settings, "disconnected", None, Some(e.to_string()));
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stopped.changed() => return,
                }
            }
        }
    }
}

/// One connection's life: connect, select, then IDLE (or poll) until it fails or we stop.
async fn watch_once(
    settings: &Imap,
    state: Option<&std::path::Path>,
    wake: &dyn Fn(),
    stopped: &mut watch::Receiver<bool>,
) -> Result<(), ImapError> {
    let t = settings.timeout;
    let (mut session, caps) = tokio::select! {
        r = conn::open(settings) => r?,
        _ = stopped.changed() => return Ok(()),
    };
    let folder = utf7::encode(&settings.folder);
    within(t, "SELECT", session.select(&folder)).await?;
    let idle = caps.idle && settings.idle;
    info!(account = %settings.account(), mailbox = %settings.folder, idle, "imap watcher connected");
    record(
        state,
        settings,
        "connected",
        Some(if idle { "idle" } else { "poll" }),
        None,
    );
    // Whatever arrived while we were away is taken now.
    wake();
    if idle {
        idle_loop(settings, session, wake, stopped).await
    } else {
        poll_loop(settings, session, wake, stopped).await
    }
}

async fn idle_loop(
    settings: &Imap,
    mut session: Session,
    wake: &dyn Fn(),
    stopped: &mut watch::Receiver<bool>,
) -> Result<(), ImapError> {
    let t = settings.timeout;
    loop {
        let queue = session.unsolicited_responses.clone();
        let mut handle = session.idle();
        within(t, "IDLE", handle.init()).await?;
        // Mail that came while IDLE was starting was announced before the wait began.
        if new_mail_queued(|| queue.try_recv().ok()) {
            wake();
        }
        let mut stopping = false;
        let response = {
            // The built-in timeout is only a backstop: our own timer re-issues IDLE.
            let (wait, interrupt) = handle.wait_with_timeout(settings.idle_renew + t);
            tokio::pin!(wait);
            let renew = tokio::time::sleep(settings.idle_renew);
            tokio::pin!(renew);
            let mut interrupt = Some(interrupt);
            loop {
                tokio::select! {
                    r = &mut wait => break r,
                    _ = &mut renew, if interrupt.is_some() => { interrupt = None; }
                    _ = stopped.changed(), if interrupt.is_some() => {
                        interrupt = None;
                        stopping = true;
                    }
                }
                // After an interrupt the wait must end promptly, or the connection is stalled.
                if interrupt.is_none() {
                    break match tokio::time::timeout(t, &mut wait).await {
                        Ok(r) => r,
                        Err(_) => {
                            return Err(ImapError::Timeout {
                                what: "IDLE interrupt",
                                secs: t.as_secs(),
                            });
                        }
                    };
                }
            }
        };
        match response {
            Ok(IdleResponse::NewData(data)) => {
                debug!(response = ?data.parsed(), "imap idle: mailbox changed");
                if may_be_new_mail(data.parsed()) {
                    wake();
                }
            }
            // Our renewal, our stop, or the server closed the stream (then DONE fails below).
            Ok(IdleResponse::ManualInterrupt | IdleResponse::Timeout) => {}
            Err(source) => {
                return Err(ImapError::Command {
                    what: "IDLE",
                    source,
                });
            }
        }
        // DONE must be answered: a silent stall is found here at the latest.
        session = within(t, "DONE", handle.done()).await?;
        // Mail that came while IDLE was ending was announced before DONE's answer.
        if new_mail_queued(|| queue.try_recv().ok()) {
            wake();
        }
        if stopping || *stopped.borrow() {
            let _ = tokio::time::timeout(Duration::from_secs(2), session.logout()).await;
            return Ok(());
        }
    }
}

/// Whether responses async-imap queued outside a wait announce new mail (emptying the queue).
fn new_mail_queued(mut next: impl FnMut() -> Option<UnsolicitedResponse>) -> bool {
    let mut new = false;
    while let Some(r) = next() {
        new |= match r {
            UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_) => true,
            UnsolicitedResponse::Expunge(_) | UnsolicitedResponse::Status { .. } => false,
            UnsolicitedResponse::Other(data) => may_be_new_mail(data.parsed()),
        };
    }
    new
}

/// Flag changes and expunges (our own moves among them) bring no new mail; anything else
/// (EXISTS, RECENT, BYE, the unexpected) is worth a pass.
fn may_be_new_mail(response: &Response<'_>) -> bool {
    !matches!(
        response,
        Response::Expunge(_) | Response::Fetch(..) | Response::MailboxData(MailboxDatum::Flags(_))
    )
}

async fn poll_loop(
    settings: &Imap,
    mut session: Session,
    wake: &dyn Fn(),
    stopped: &mut watch::Receiver<bool>,
) -> Result<(), ImapError> {
    let t = settings.timeout;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(settings.poll) => {}
            _ = stopped.changed() => {
                let _ = tokio::time::timeout(Duration::from_secs(2), session.logout()).await;
                return Ok(());
            }
        }
        within(t, "NOOP", session.noop()).await?;
        while session.unsolicited_responses.try_recv().is_ok() {}
        wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let d: Vec<Duration> = (0..10).map(|_| b.next()).collect();
        assert!(d[0] >= Duration::from_millis(50) && d[0] <= Duration::from_millis(100));
        assert!(d[3] >= Duration::from_millis(400) && d[3] <= Duration::from_millis(800));
        assert!(d.iter().all(|x| *x <= Duration::from_secs(2)));
        assert!(d[9] >= Duration::from_secs(1));
        b.reset();
        assert!(b.next() <= Duration::from_millis(100));
    }
}
