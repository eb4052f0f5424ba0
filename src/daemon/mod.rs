//! # The daemon
//!
//! `intake run` is a supervisor of components that talk through channels: file watchers
//! (native events, or polling for network shares) on the Maildir and the drop folder, or the
//! IMAP mailbox's IDLE watcher, wake the ingest worker; a periodic rescan is the safety net.
//! The worker runs passes, then queues the reminders and digest that are due, and wakes the
//! mail sender, which drains the outbox on its own thread (so a slow or absent mail server
//! never holds up intake) and wakes itself for retries. SIGTERM and Ctrl-C stop both
//! between batches, never inside one.

pub mod keeper;

use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, new_debouncer, new_debouncer_opt};
use tracing::{error, info, warn};

use crate::clock::Clock;
use crate::config::live::Live;
use crate::config::{Config, WatchMode};
use crate::ingest::{self, PassReport};
use crate::notices::{self, NoticeReport};
use crate::outbox::{self, Outbox, TransportError};
use crate::source::Source;
use crate::source::drop::DropFolder;
use crate::source::imap::{ImapSource, ImapWatcher};
use crate::source::maildir::Maildir;
use crate::store::{Store, StoreError};
use crate::workbook::Inspector;

/// What wakes the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Something changed in a watched folder.
    Wake,
    /// Stop after the current batch.
    Stop,
}

/// What stops a component, beyond the store's own failures.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The mail transport cannot be set up (a missing password, an unreadable CA file).
    #[error("the outbox cannot send: {0}")]
    Transport(#[from] TransportError),
}

/// The ingest worker's state: the store, the sources and what reads workbooks.
pub struct Worker {
    config: Config,
    store: Store,
    inspector: Inspector,
    clock: Clock,
    mailboxes: Vec<Box<dyn Source + Send>>,
    drop: DropFolder,
    /// Which sources this daemon works (all of them, unless daemons share the index).
    leases: keeper::Leases,
    failures: ingest::Failures,
    outbox: Option<Outbox>,
    authenticator: crate::auth::Authenticator,
    health: crate::health::Tracker,
    /// What was examined under the configuration in force (a reload starts a new one).
    memo: crate::core::pipeline::Memo,
    /// The configuration in force when the daemon can be reloaded, and the one adopted last.
    live: Option<(Live, Arc<Config>)>,
}

impl Worker {
    /// Opens the store (taking the writer lock) and the sources; repairs the filed tree.
    pub fn open(config: Config, inspector: Inspector, clock: Clock) -> Result<Worker, StoreError> {
        let store = Store::open_with(&config.store_dir, &config.store)?;
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| StoreError::Io { path: p, source }
        };
        let mut mailboxes: Vec<Box<dyn Source + Send>> = Vec::new();
        for m in config.mailboxes() {
            mailboxes.push(match &m.imap {
                // Connects lazily: a server that is down at start is retried on every pass.
                Some(imap) => Box::new(
                    ImapSource::open(
                        imap,
                        &config.store_dir,
                        &config.store.index,
                        config.limits.max_message_bytes,
                    )
                    .map_err(io(&config.store_dir))?
                    .named(m.source_name()),
                ),
                None => Box::new(
                    Maildir::open(&m.path, m.on_filed)
                        .map_err(io(&m.path))?
                        .with_limit(config.limits.max_message_bytes)
                        .named(m.source_name()),
                ),
            });
        }
        let codes = config.agencies().iter().map(|a| a.code.clone()).collect();
        let drop = DropFolder::open(&config.drop.path, config.drop.settle, codes)
            .map_err(io(&config.drop.path))?
            .with_limit(config.limits.max_file_bytes);
        crate::store::verify::remove_outbox_leftovers(&config.outbox_dir);
        let repaired = store.repair_tree()?;
        if repaired > 0 {
            info!(
                links = repaired,
                "filed tree repaired after an interrupted run"
            );
        }
        Ok(Worker {
            store,
            inspector,
            clock,
            mailboxes,
            drop,
            leases: keeper::Leases::Sole,
            failures: ingest::Failures::default(),
            outbox: None,
            authenticator: crate::auth::Authenticator::new(&config.auth),
            health: crate::health::Tracker::open(&config.store_dir),
            memo: crate::core::pipeline::Memo::default(),
            live: None,
            config,
        })
    }

    /// Every source's name, as leases know them.
    pub fn source_names(&self) -> Vec<String> {
        self.mailboxes
            .iter()
            .map(|m| m.name().to_string())
            .chain([self.drop.name().to_string()])
            .collect()
    }

    /// This daemon's name among those sharing the index (its leases' and claims' holder).
    pub fn holder(&self) -> String {
        match &self.leases {
            keeper::Leases::Shared(book) => book.holder.clone(),
            keeper::Leases::Sole => "intake".into(),
        }
    }

    /// Works only the sources `leases` says are this daemon's.
    pub fn share(&mut self, leases: keeper::Leases) {
        self.leases = leases;
    }

    /// Follows `live`: the configuration in force is adopted between batches.
    pub fn follow(&mut self, live: Live) {
        let now = live.get();
        self.live = Some((live, now));
    }

    /// Adopts the configuration in force if it changed since the last look.
    fn adopt(&mut self) {
        let Some((live, adopted)) = &mut self.live else {
            return;
        };
        let latest = live.get();
        if Arc::ptr_eq(&latest, adopted) {
            return;
        }
        *adopted = latest.clone();
        let next = (*latest).clone();
        self.authenticator = crate::auth::Authenticator::new(&next.auth);
        self.drop
            .set_agencies(next.agencies().iter().map(|a| a.code.clone()).collect());
        info!(
            campaigns = next.campaigns.len(),
            agencies = next.agencies().len(),
            "the worker follows the reloaded configuration"
        );
        self.config = next;
        self.memo = crate::core::pipeline::Memo::default();
    }

    /// One pass over both sources, then the reminders and digest due; what failed is kept in
    /// the health record (see [`crate::health`]) until it works again.
    pub fn ingest(&mut self) -> Result<(PassReport, NoticeReport), StoreError> {
        let result = self.ingest_once();
        match &result {
            Ok(_) => self.health.ok("store"),
            Err(e) => self.health.failed(
                "store",
                &crate::causes::chain(e).to_string(),
                self.clock.now(),
            ),
        }
        result
    }

    fn ingest_once(&mut self) -> Result<(PassReport, NoticeReport), StoreError> {
        let leases = &self.leases;
        let mut sources: Vec<(&mut dyn Source, Option<crate::store::leases::Fence>)> = Vec::new();
        for m in self.mailboxes.iter_mut() {
            if let keeper::Turn::Mine(fence) = leases.turn(m.name()) {
                sources.push((&mut **m, fence));
            }
        }
        if let keeper::Turn::Mine(fence) = leases.turn(self.drop.name()) {
            sources.push((&mut self.drop, fence));
        }
        let worked: Vec<String> = sources.iter().map(|(s, _)| s.name().to_string()).collect();
        let report = ingest::pass(
            &self.config,
            &self.store,
            &self.inspector,
            &self.memo,
            &self.authenticator,
            &self.clock,
            &mut sources,
            &mut self.failures,
        )?;
        // Recorded before the digest is made, so that the digest says what fails now.
        let now = self.clock.now();
        for part in &worked {
            match report.unread.iter().find(|(source, _)| source == part) {
                Some((_, cause)) => self.health.failed(part, cause, now),
                None => self.health.ok(part),
            }
        }
        let notices = notices::run(&self.config, &self.store, now)?;
        Ok((report, notices))
    }

    /// [`Worker::ingest`], then one round of sending; returns the mails sent.
    pub fn pass(&mut self) -> Result<(PassReport, usize), DaemonError> {
        let (report, _) = self.ingest()?;
        if self.outbox.is_none() {
            self.outbox =
                Some(Outbox::new(outbox::transport(&self.config)?).claiming_as(self.holder()));
        }
        let outbox = self.outbox.as_mut().expect("set above");
        let sent = outbox.drain(&self.config, &self.store, &self.clock, &|| false)?;
        Ok((report, sent.sent))
    }

    /// Files in the drop folder still being written.
    pub fn unsettled(&self) -> usize {
        self.drop.unsettled
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs passes whenever woken, and every rescan interval, until told to stop; wakes the
    /// mail sender after each.
    pub fn serve(
        mut self,
        rx: mpsc::Receiver<Signal>,
        mail: mpsc::Sender<Signal>,
    ) -> Result<(), StoreError> {
        loop {
            #[cfg(debug_assertions)]
            crate::panics::inject("worker", "pass");
            crate::service::beat();
            self.adopt();
            let rescan = self.config.drop.rescan;
            match self.ingest() {
                Ok((report, n)) => {
                    crate::service::status(&format!(
                        "last pass: {} taken, {} reminders queued; watching",
                        report.taken(),
                        n.reminders
                    ));
                    if report.taken() + report.recovered + n.reminders + n.cancelled > 0 || n.digest
                    {
                        info!(taken = report.taken(), recovered = report.recovered, reminders = n.reminders, skipped = n.skipped, cancelled = n.cancelled, digest = n.digest, outcomes = ?report.outcomes, "pass done");
                    }
                    let _ = mail.send(Signal::Wake);
                }
                // A failing disk or database is logged and retried; the daemon stays up.
                Err(e) => {
                    crate::service::status(
                        "last pass failed (see the journal); retrying after the next event",
                    );
                    error!(error = %crate::causes::chain(&e), "pass failed; retrying after the next event")
                }
            }
            // A file still being copied is looked at again once it may have settled.
            let wait = if self.unsettled() > 0 {
                self.config.drop.settle.min(rescan)
            } else {
                rescan
            };
            crate::service::waiting();
            match rx.recv_timeout(wait) {
                Ok(Signal::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
                Ok(Signal::Wake) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            // Coalesce a burst of events into one pass, but never swallow a stop.
            while let Ok(s) = rx.try_recv() {
                if s == Signal::Stop {
                    return Ok(());
                }
            }
        }
    }
}

/// The mail sender: drains the outbox when woken and when a retry is due.
pub struct MailSender {
    config: Config,
    store: Store,
    outbox: Outbox,
    clock: Clock,
    /// The configuration in force, and the one adopted last.
    live: Option<(Live, Arc<Config>)>,
}

impl MailSender {
    /// A sender on its own connection to the worker's store.
    pub fn open(config: Config, worker: &Worker) -> Result<MailSender, DaemonError> {
        let outbox = Outbox::new(outbox::transport(&config)?).claiming_as(worker.holder());
        Ok(MailSender {
            store: worker.store.another_connection()?,
            clock: worker.clock,
            config,
            outbox,
            live: None,
        })
    }

    /// Follows `live`: each round of sending reads the configuration in force (the
    /// transport itself stays the one opened at start).
    pub fn follow(&mut self, live: Live) {
        let now = live.get();
        self.live = Some((live, now));
    }

    /// Sends until told to stop; a stop is heeded between mails.
    pub fn serve(mut self, rx: mpsc::Receiver<Signal>) {
        info!(via = %self.outbox.describe(), "mail sender running");
        let stopped = std::cell::Cell::new(false);
        let stop = || {
            if !stopped.get() {
                while let Ok(s) = rx.try_recv() {
                    if s == Signal::Stop {
                        stopped.set(true);
                    }
                }
            }
            stopped.get()
        };
        // While the server is unusable, wakes are not heeded before the backoff has passed.
        let mut not_before = std::time::Instant::now();
        loop {
            if let Some((live, adopted)) = &mut self.live {
                let latest = live.get();
                if !Arc::ptr_eq(&latest, adopted) {
                    self.config = (*latest).clone();
                    *adopted = latest;
                }
            }
            let wait = match self
                .outbox
                .drain(&self.config, &self.store, &self.clock, &stop)
            {
                Ok(r) => match &r.server_down {
                    Some(why) => {
                        let wait =
                            outbox::backoff(&self.config.outbox.retry, self.outbox.down_rounds());
                        warn!(error = %why, retry_in = ?wait, "mail server unusable; mail waits in the outbox");
                        not_before = std::time::Instant::now() + wait;
                        wait
                    }
                    None => self.until_next_retry(r.held > 0),
                },
                Err(e) => {
                    error!(error = %crate::causes::chain(&e), "sending failed; retrying");
                    self.config.outbox.retry.first
                }
            };
            if stopped.get() {
                return;
            }
            let deadline = std::time::Instant::now() + wait;
            loop {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                match rx.recv_timeout(left) {
                    Ok(Signal::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    Ok(Signal::Wake) if std::time::Instant::now() < not_before => continue,
                    Ok(Signal::Wake) | Err(mpsc::RecvTimeoutError::Timeout) => break,
                }
            }
        }
    }

    fn until_next_retry(&self, held: bool) -> Duration {
        // Held reminders are looked at again each minute, to go when the office opens.
        let most = Duration::from_secs(60);
        if held {
            return most;
        }
        match self.store.next_retry() {
            Ok(Some(at)) => (at - self.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(100), most),
            _ => most,
        }
    }
}

/// Starts the watchers that wake the worker; keep the returned value alive while serving.
pub fn watch(
    config: &Config,
    tx: mpsc::Sender<Signal>,
) -> notify::Result<Vec<Box<dyn std::any::Any + Send>>> {
    let mut keep: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
    let handler = move |tx: mpsc::Sender<Signal>| {
        move |result: DebounceEventResult| match result {
            // A pass reading a folder makes inotify report an `Access(Open)` of it: waking on
            // that would start the next pass at once, and so on for ever.
            Ok(events)
                if events
                    .iter()
                    .any(|e| !matches!(e.event.kind, notify::EventKind::Access(_))) =>
            {
                let _ = tx.send(Signal::Wake);
            }
            Ok(_) => {}
            Err(errors) => warn!(?errors, "watcher error; the periodic rescan still runs"),
        }
    };
    let debounce = Duration::from_millis(200);
    for m in config.mailboxes() {
        if let Some(imap) = &m.imap {
            let tx = tx.clone();
            keep.push(Box::new(ImapWatcher::start(
                imap.clone(),
                Some(crate::store::mailbox_state::state_file_of(
                    &config.store_dir,
                    m.name.as_deref(),
                )),
                move || {
                    let _ = tx.send(Signal::Wake);
                },
            )));
        } else {
            let mut mail = new_debouncer(debounce, None, handler(tx.clone()))?;
            mail.watch(m.path.join("new"), RecursiveMode::NonRecursive)?;
            mail.watch(m.path.join("cur"), RecursiveMode::NonRecursive)?;
            keep.push(Box::new(mail));
        }
    }
    match config.drop.watch {
        WatchMode::Native => {
            let mut d = new_debouncer(debounce, None, handler(tx))?;
            // A drop folder that cannot be watched now is still looked at by the periodic
            // rescan, which reports it while it cannot be read.
            match d.watch(&config.drop.path, RecursiveMode::Recursive) {
                Ok(()) => keep.push(Box::new(d)),
                Err(e) => {
                    warn!(folder = %config.drop.path.display(), error = %e, "the drop folder is not watched; the periodic rescan looks at it")
                }
            }
        }
        WatchMode::Poll => {
            let cfg = notify::Config::default().with_poll_interval(config.drop.poll_interval);
            let mut d = new_debouncer_opt::<_, notify::PollWatcher, notify_debouncer_full::NoCache>(
                debounce,
                None,
                handler(tx),
                notify_debouncer_full::NoCache,
                cfg,
            )?;
            match d.watch(&config.drop.path, RecursiveMode::Recursive) {
                Ok(()) => keep.push(Box::new(d)),
                Err(e) => {
                    warn!(folder = %config.drop.path.display(), error = %e, "the drop folder is not polled; the periodic rescan looks at it")
                }
            }
        }
    }
    Ok(keep)
}
