//! # The configuration in force, replaceable while the daemon runs
//!
//! `systemctl reload intake` (SIGHUP) loads and checks the configuration file again; when it
//! is sound, it replaces the one in force, which every component reads afresh at its next
//! step (the worker between batches, the mail sender between rounds, the board per request).
//! A configuration that fails its checks never gets here: the one in force stays.

use std::sync::{Arc, RwLock};

use super::Config;

/// The configuration in force, shared by the daemon's components.
#[derive(Clone, Debug)]
pub struct Live(Arc<RwLock<Arc<Config>>>);

impl Live {
    /// Starts with `config` in force.
    pub fn new(config: Config) -> Live {
        Live(Arc::new(RwLock::new(Arc::new(config))))
    }

    /// The configuration in force now.
    pub fn get(&self) -> Arc<Config> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Puts `config` in force.
    pub fn set(&self, config: Config) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
    }

    /// `next` as it can be adopted by a running daemon from `running`: what only a restart
    /// can change (where data lives, the sources, the transport, the board's address and
    /// limits) is kept as it runs; the names of what was kept are returned, for the log.
    pub fn adoptable(running: &Config, mut next: Config) -> (Config, Vec<&'static str>) {
        let mut kept = Vec::new();
        if next.data_dir != running.data_dir || next.store_dir != running.store_dir {
            kept.push("data_dir / [store] path");
            next.data_dir = running.data_dir.clone();
            next.store_dir = running.store_dir.clone();
        }
        if format!("{:?}", (&next.mailbox, &next.more_mailboxes))
            != format!("{:?}", (&running.mailbox, &running.more_mailboxes))
        {
            kept.push("[mailbox]");
            next.mailbox = running.mailbox.clone();
            next.more_mailboxes = running.more_mailboxes.clone();
        }
        if next.drop.path != running.drop.path || next.drop.watch != running.drop.watch {
            kept.push("[drop] path / watch");
            next.drop.path = running.drop.path.clone();
            next.drop.watch = running.drop.watch;
        }
        if format!("{:?}", next.outbox.smtp) != format!("{:?}", running.outbox.smtp)
            || next.outbox_dir != running.outbox_dir
        {
            kept.push("[outbox]");
            next.outbox.smtp = running.outbox.smtp.clone();
            next.outbox_dir = running.outbox_dir.clone();
        }
        if format!("{:?}", next.board) != format!("{:?}", running.board) {
            kept.push("[board]");
            next.board = running.board.clone();
        }
        if format!("{:?}", next.limits) != format!("{:?}", running.limits) {
            kept.push("[limits]");
            next.limits = running.limits.clone();
        }
        (next, kept)
    }
}
