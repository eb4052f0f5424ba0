//! # The lease keeper: which sources this daemon works
//!
//! With an index several daemons share, each source is worked by one daemon at a time (see
//! `store::leases`). The keeper runs on a thread of its own with a connection of its own, so
//! that a long pass never keeps it from renewing: every second it says this daemon lives
//! (which keeps its leases), checks what it holds, gives up what is more than its share (the sources divided by the
//! daemons alive, rounded up) and takes free sources up to its share. The worker reads the
//! [`Book`] before each pass and files from a source only with the token the keeper holds.
//! With the embedded index there is one daemon (the store's file lock sees to it) and every
//! source is its own: [`Leases::Sole`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use tracing::{info, warn};

use super::Signal;
use crate::store::leases::Fence;
use crate::store::{Store, StoreError};

use crate::store::leases::LEASE_MS;
/// How often the keeper renews and looks for free sources.
pub const TICK: Duration = Duration::from_secs(1);

/// Whether this daemon works a source now, and with which token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn {
    /// Worked by another daemon.
    Elsewhere,
    /// This daemon's, with the token its filings must still hold (`None`: the embedded store,
    /// which has no other daemon).
    Mine(Option<Fence>),
}

/// The sources this daemon holds.
#[derive(Debug, Clone)]
pub enum Leases {
    /// The embedded index: every source is this daemon's.
    Sole,
    /// A shared index: what the keeper holds.
    Shared(Arc<Book>),
}

impl Leases {
    /// Whether this daemon works `source` now.
    pub fn turn(&self, source: &str) -> Turn {
        match self {
            Leases::Sole => Turn::Mine(None),
            Leases::Shared(book) => match book.held.lock().expect("lease book").get(source) {
                Some(f) => Turn::Mine(Some(f.clone())),
                None => Turn::Elsewhere,
            },
        }
    }
}

/// The leases this daemon holds, as the keeper last renewed them.
#[derive(Debug)]
pub struct Book {
    /// This daemon's name in the store: host, process and a random part, new at every start.
    pub holder: String,
    held: Mutex<BTreeMap<String, Fence>>,
}

impl Book {
    fn new() -> Book {
        let mut random = [0u8; 4];
        let _ = getrandom::fill(&mut random);
        Book {
            holder: format!(
                "{}:{}:{}",
                crate::store::leases::hostname(),
                std::process::id(),
                hex::encode(random)
            ),
            held: Mutex::new(BTreeMap::new()),
        }
    }
}

/// Renews and takes leases for one daemon.
pub struct Keeper {
    store: Store,
    book: Arc<Book>,
    /// Every source of the deployment, by lease name.
    sources: Vec<String>,
    started_at: String,
    /// When a round last went through.
    last_kept: std::time::Instant,
}

impl Keeper {
    /// A keeper of `sources` on its own connection to `store`'s index.
    pub fn new(store: &Store, sources: Vec<String>) -> Result<Keeper, StoreError> {
        let book = Arc::new(Book::new());
        Ok(Keeper {
            store: Self::connect(store)?,
            book,
            sources,
            started_at: chrono::Utc::now().to_rfc3339(),
            last_kept: std::time::Instant::now(),
        })
    }

    /// The keeper's own connection: a row another daemon is filing into is waited for a few
    /// seconds at most, so one round never outlasts the leases it renews.
    fn connect(store: &Store) -> Result<Store, StoreError> {
        let own = store.another_connection()?;
        own.limit_lock_waits(std::time::Duration::from_secs(3))?;
        Ok(own)
    }

    /// After a round failed: a new connection for the next, and after a lease's time without
    /// a round, nothing held any more (the other daemons may have taken it all).
    fn recover(&mut self) {
        if self.last_kept.elapsed() >= Duration::from_millis(LEASE_MS as u64) {
            let mut held = self.book.held.lock().expect("lease book");
            if !held.is_empty() {
                warn!(
                    sources = held.len(),
                    "leases not renewed in time: this intake process works no source until it renews again"
                );
                held.clear();
            }
        }
        match Self::connect(&self.store) {
            Ok(store) => self.store = store,
            Err(e) => {
                warn!(error = %crate::causes::chain(&e), "the lease keeper cannot reach the store")
            }
        }
    }

    /// What the worker reads.
    pub fn leases(&self) -> Leases {
        Leases::Shared(self.book.clone())
    }

    /// One round: says this daemon lives, checks, gives up and takes leases; true when it took
    /// a source it did not hold (the worker then has work to look at).
    pub fn tick(&mut self) -> Result<bool, StoreError> {
        let alive = self
            .store
            .heartbeat(&self.book.holder, LEASE_MS, &self.started_at)?;
        let share = self.sources.len().div_ceil(alive.len().max(1));
        let mut held = self.book.held.lock().expect("lease book").clone();
        // The heartbeat above keeps every lease held; a lease taken meanwhile by another
        // daemon (this one seemed dead to it) is dropped here.
        held.retain(|name, fence| match self.store.holds(fence) {
            Ok(true) => true,
            Ok(false) => {
                warn!(source = %name, "lease lost to another intake process");
                false
            }
            Err(e) => {
                warn!(source = %name, error = %crate::causes::chain(&e), "lease not checked");
                true
            }
        });
        // More than a share: the last in this daemon's order go, for the others to take.
        let order = self.order();
        while held.len() > share {
            let Some(name) = order.iter().rev().find(|n| held.contains_key(*n)) else {
                break;
            };
            let fence = held.remove(name).expect("held");
            // While this daemon files from the source, its lease's row waits for the filing;
            // past the lock timeout the source is kept this round and given up at the next.
            if let Err(e) = self.store.release(&fence) {
                info!(source = %name, error = %crate::causes::chain(&e), "lease not given up yet");
                held.insert(name.clone(), fence);
                break;
            }
            info!(source = %name, daemons = alive.len(), "lease given up for another intake process to take");
        }
        let mut took = false;
        for name in &order {
            if held.len() >= share {
                break;
            }
            if held.contains_key(name) {
                continue;
            }
            // A source another daemon is filing from answers after its filing, or not within
            // the lock timeout: then it is looked at again next round.
            let taken = match self.store.acquire(name, &self.book.holder, LEASE_MS) {
                Ok(taken) => taken,
                Err(e) => {
                    tracing::debug!(source = %name, error = %crate::causes::chain(&e), "lease not taken this round");
                    None
                }
            };
            if let Some(token) = taken {
                info!(source = %name, token, daemons = alive.len(), "lease taken: this intake process works the source");
                held.insert(
                    name.clone(),
                    Fence {
                        name: name.clone(),
                        holder: self.book.holder.clone(),
                        token,
                    },
                );
                took = true;
            }
        }
        *self.book.held.lock().expect("lease book") = held;
        self.last_kept = std::time::Instant::now();
        Ok(took)
    }

    /// The sources in this daemon's order of preference: a hash of the holder and the name,
    /// so that daemons starting together reach for different sources first.
    fn order(&self) -> Vec<String> {
        let mut names = self.sources.clone();
        names.sort_by_key(|n| {
            crate::core::pipeline::sha256_hex(format!("{}/{n}", self.book.holder).as_bytes())
        });
        names
    }

    /// Gives every lease up and says this daemon is gone, for the others to take its sources
    /// at once.
    pub fn leave(self) {
        self.book.held.lock().expect("lease book").clear();
        if let Err(e) = self.store.leave(&self.book.holder) {
            warn!(error = %crate::causes::chain(&e), "leases not given up; they lapse by themselves");
        }
    }

    /// Keeps the leases until told to stop, waking the worker when it took a source; gives
    /// them all up on the way out, for the other daemons to take at once.
    pub fn serve(mut self, rx: mpsc::Receiver<Signal>, worker: mpsc::Sender<Signal>) {
        loop {
            match self.tick() {
                Ok(true) => {
                    let _ = worker.send(Signal::Wake);
                }
                Ok(false) => {}
                Err(e) => {
                    warn!(error = %crate::causes::chain(&e), "leases not kept this round; retrying");
                    self.recover();
                }
            }
            match rx.recv_timeout(TICK) {
                Ok(Signal::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Ok(Signal::Wake) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
        self.leave();
    }
}
