//! # The daemon
//!
//! `intake run` is a supervisor of components that talk through one channel: file watchers
//! (native events, or polling for network shares) on the Maildir and the drop folder, or the
//! IMAP mailbox's IDLE watcher, wake the ingest worker; a periodic rescan is the safety net; the worker runs passes, then
//! drains the outbox. SIGTERM and Ctrl-C stop it between batches, never inside one.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, new_debouncer, new_debouncer_opt};
use tracing::{error, info, warn};

use crate::clock::Clock;
use crate::config::{Config, WatchMode};
use crate::ingest::{self, PassReport};
use crate::outbox;
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

/// The ingest worker's state: the store, the sources and what reads workbooks.
pub struct Worker {
    config: Config,
    store: Store,
    inspector: Inspector,
    clock: Clock,
    mailbox: Box<dyn Source + Send>,
    drop: DropFolder,
    failures: ingest::Failures,
}

impl Worker {
    /// Opens the store (taking the writer lock) and the sources; repairs the filed tree.
    pub fn open(config: Config, inspector: Inspector, clock: Clock) -> Result<Worker, StoreError> {
        let store = Store::open(&config.store_dir)?;
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| StoreError::Io { path: p, source }
        };
        let mailbox: Box<dyn Source + Send> = match &config.mailbox.imap {
            // Connects lazily: a server that is down at start is retried on every pass.
            Some(imap) => Box::new(
                ImapSource::open(imap, &config.store_dir, config.limits.max_message_bytes)
                    .map_err(io(&config.store_dir))?,
            ),
            None => Box::new(
                Maildir::open(&config.mailbox.path, config.mailbox.on_filed)
                    .map_err(io(&config.mailbox.path))?
                    .with_limit(config.limits.max_message_bytes),
            ),
        };
        let codes = config.agencies().iter().map(|a| a.code.clone()).collect();
        let drop = DropFolder::open(&config.drop.path, config.drop.settle, codes)
            .map_err(io(&config.drop.path))?
            .with_limit(config.limits.max_file_bytes);
        let repaired = store.repair_tree()?;
        if repaired > 0 {
            info!(
                links = repaired,
                "filed tree repaired after an interrupted run"
            );
        }
        Ok(Worker {
            config,
            store,
            inspector,
            clock,
            mailbox,
            drop,
            failures: ingest::Failures::default(),
        })
    }

    /// One pass over both sources, then the outbox.
    pub fn pass(&mut self) -> Result<(PassReport, usize), StoreError> {
        let mut sources: [&mut dyn Source; 2] = [&mut *self.mailbox, &mut self.drop];
        let report = ingest::pass(
            &self.config,
            &self.store,
            &self.inspector,
            &self.clock,
            &mut sources,
            &mut self.failures,
        )?;
        let sent = outbox::deliver_to_folder(
            &self.config,
            &self.store,
            &self.config.outbox_dir,
            &self.clock,
        )?;
        Ok((report, sent))
    }

    /// Files in the drop folder still being written.
    pub fn unsettled(&self) -> usize {
        self.drop.unsettled
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs passes whenever woken, and every rescan interval, until told to stop.
    pub fn serve(mut self, rx: mpsc::Receiver<Signal>) -> Result<(), StoreError> {
        let rescan = self.config.drop.rescan;
        loop {
            match self.pass() {
                Ok((report, sent)) if report.taken() + report.recovered + sent > 0 => {
                    info!(taken = report.taken(), recovered = report.recovered, receipts = sent, outcomes = ?report.outcomes, "pass done");
                }
                Ok(_) => {}
                // A failing disk or database is logged and retried; the daemon stays up.
                Err(e) => error!(error = %e, "pass failed; retrying after the next event"),
            }
            // A file still being copied is looked at again once it may have settled.
            let wait = if self.unsettled() > 0 {
                self.config.drop.settle.min(rescan)
            } else {
                rescan
            };
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
    if let Some(imap) = &config.mailbox.imap {
        let tx = tx.clone();
        let state = crate::source::imap::state_file(&config.store_dir);
        keep.push(Box::new(ImapWatcher::start(
            imap.clone(),
            Some(state),
            move || {
                let _ = tx.send(Signal::Wake);
            },
        )));
    } else {
        let mut mail = new_debouncer(debounce, None, handler(tx.clone()))?;
        mail.watch(config.mailbox.path.join("new"), RecursiveMode::NonRecursive)?;
        mail.watch(config.mailbox.path.join("cur"), RecursiveMode::NonRecursive)?;
        keep.push(Box::new(mail));
    }
    match config.drop.watch {
        WatchMode::Native => {
            let mut d = new_debouncer(debounce, None, handler(tx))?;
            d.watch(&config.drop.path, RecursiveMode::Recursive)?;
            keep.push(Box::new(d));
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
            d.watch(&config.drop.path, RecursiveMode::Recursive)?;
            keep.push(Box::new(d));
        }
    }
    Ok(keep)
}
