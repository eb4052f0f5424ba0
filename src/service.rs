//! # Telling the service manager how the daemon is
//!
//! Installed as a Debian package, intake runs for months under systemd (`Type=notify`,
//! `WatchdogSec=`). systemd must know when the daemon is really up (it watches its sources
//! and the board is bound), what it last did, when it stops or reloads, and — the reason for
//! the watchdog — when the ingest worker is wedged (a hung read, a lock never released), so
//! that it restarts the service instead of leaving a process that looks alive and takes
//! nothing in.
//!
//! The worker reports progress with [`beat`] (each loop and each batch of a pass) and
//! [`waiting`] (while it sleeps until the next event). [`watchdog`] starts a thread that
//! sends `WATCHDOG=1` at half the `WATCHDOG_USEC` interval only while the worker is waiting or
//! its last beat is younger than that interval; a worker stuck inside one batch for longer
//! stops the pings, and systemd kills and restarts the service. Every function here is a
//! no-op when `NOTIFY_SOCKET` is unset (not run by systemd), and a failed notification is
//! logged, never fatal.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sd_notify::NotifyState;

/// The last beat, in milliseconds since [`epoch`] (plus one, so that 0 means "never");
/// [`WAITING`] while the worker waits for work.
static LAST_BEAT: AtomicU64 = AtomicU64::new(0);
const WAITING: u64 = u64::MAX;

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64 + 1
}

fn send(what: &str, states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot tell the service manager {what}");
    }
}

/// True when run by a service manager that listens (`NOTIFY_SOCKET` set).
pub fn supervised() -> bool {
    std::env::var_os("NOTIFY_SOCKET").is_some_and(|s| !s.is_empty())
}

/// `READY=1`: the daemon watches its sources and serves the board (also after a reload).
pub fn ready() {
    send(
        "that intake is ready",
        &[
            NotifyState::Ready,
            NotifyState::Status("watching the mailbox and the drop folder"),
        ],
    );
}

/// `RELOADING=1` with the monotonic time systemd requires of `Type=notify-reload` services;
/// follow it with [`ready`] once the new configuration is in use.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send("that intake reloads", &[NotifyState::Reloading, now]),
        Err(e) => tracing::warn!(error = %e, "cannot read the monotonic clock"),
    }
}

/// `STOPPING=1`: the daemon finishes the current batch and exits.
pub fn stopping() {
    send(
        "that intake stops",
        &[
            NotifyState::Stopping,
            NotifyState::Status("stopping after the current batch"),
        ],
    );
}

/// `STATUS=`: one short line on what the daemon last did (`systemctl status intake`).
pub fn status(line: &str) {
    if supervised() {
        send("the status", &[NotifyState::Status(line)]);
    }
}

/// The worker made progress (a loop began, a batch was filed).
pub fn beat() {
    LAST_BEAT.store(now_ms(), Ordering::Relaxed);
}

/// The worker waits for the next event or rescan: idle, not wedged.
pub fn waiting() {
    LAST_BEAT.store(WAITING, Ordering::Relaxed);
}

/// Whether the worker counts as alive: waiting for work, or its last beat within `stall`.
fn alive(stall: Duration) -> bool {
    match LAST_BEAT.load(Ordering::Relaxed) {
        WAITING => true,
        0 => false,
        at => now_ms().saturating_sub(at) <= stall.as_millis() as u64,
    }
}

/// Starts the thread that pings the watchdog while the worker is alive, when systemd asked
/// for one (`WATCHDOG_USEC`, for this process); None otherwise.
pub fn watchdog() -> Option<std::thread::JoinHandle<()>> {
    if !supervised() {
        return None;
    }
    let interval = sd_notify::watchdog_enabled()?;
    // The worker must show progress within the interval systemd allows between pings.
    let stall = interval;
    let period = (interval / 2).max(Duration::from_millis(10));
    beat();
    let spawned = std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            let mut wedged = false;
            loop {
                if alive(stall) {
                    if wedged {
                        tracing::info!("the ingest worker makes progress again");
                        wedged = false;
                    }
                    send("that intake is alive", &[NotifyState::Watchdog]);
                } else if !wedged {
                    wedged = true;
                    tracing::error!(
                        stalled_for = ?stall,
                        "the ingest worker made no progress; watchdog pings stop so that the service is restarted"
                    );
                    status("the ingest worker is stuck; waiting for the watchdog to restart it");
                }
                std::thread::sleep(period);
            }
        });
    match spawned {
        Ok(handle) => {
            tracing::info!(interval = ?interval, "watchdog pings started");
            Some(handle)
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot start the watchdog thread; systemd will restart the service");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_is_alive_while_waiting_or_beating_and_wedged_after_the_stall() {
        let stall = Duration::from_millis(200);
        beat();
        assert!(alive(stall));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!alive(stall), "no beat for longer than the stall");
        waiting();
        assert!(alive(stall), "a waiting worker is not wedged");
        std::thread::sleep(Duration::from_millis(300));
        assert!(alive(stall), "however long it waits");
        beat();
        assert!(alive(stall));
    }
}
