//! # IMAP source
//!
//! The department's real mailbox, read over IMAP (async-imap on a small tokio runtime owned
//! by the adapter: the ingest pass is synchronous and blocks on it). Messages are listed and
//! keyed by UID under UIDVALIDITY, fetched with `BODY.PEEK[]` so nothing is marked read, and
//! acted on at the server (moved, flagged, or left) only in [`Source::acknowledge`], which the
//! pass calls after the filing is committed. Mail intake leaves alone is never touched.
//! [`ImapWatcher`] holds a second connection in IDLE and wakes the worker.

mod conn;
pub mod doctor;
mod sync;
pub mod utf7;
mod watch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::Utc;
use futures::TryStreamExt as _;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

pub use crate::store::mailbox_state::{ConnectionState, state_file};
pub use conn::ImapError;
use conn::{Caps, Session, uid_fetch, within};
pub use watch::ImapWatcher;

use super::{Pending, Source};
use crate::config::imap::{Imap, ImapAction};
use crate::core::pipeline::{Inbound, Outcome, SourceKind};
use crate::store::{Ack, Store};

/// An IMAP mailbox as a source of items.
pub struct ImapSource {
    /// `mailbox`, or `mailbox:<name>` among several.
    name: String,
    settings: Imap,
    /// The watched mailbox, modified UTF-7.
    folder: String,
    /// Store keys start with this.
    prefix: String,
    max_bytes: u64,
    runtime: tokio::runtime::Runtime,
    /// A second connection to the store, for the sync state (never inside the pass's batch).
    store: Store,
    link: Mutex<Link>,
}

/// The connection and what this instance learnt while listing.
#[derive(Default)]
struct Link {
    session: Option<(Session, Caps)>,
    /// The UIDVALIDITY of the mailbox selected on this session.
    selected: Option<u32>,
    /// The destination folder exists (checked once per session).
    target_ready: bool,
    /// Where each listed key is now.
    located: HashMap<String, Located>,
}

#[derive(Debug, Clone, Copy)]
struct Located {
    uid_validity: u32,
    uid: u32,
    size: u64,
}

impl ImapSource {
    /// Prepares the source; the server is contacted on the first pass, not here, so a server
    /// that is down at start does not stop the daemon.
    pub fn open(
        settings: &Imap,
        store_dir: &Path,
        index: &crate::config::store::IndexAt,
        max_bytes: u64,
    ) -> std::io::Result<ImapSource> {
        let store = Store::open_read_index(store_dir, index).map_err(std::io::Error::other)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(ImapSource {
            name: "mailbox".into(),
            folder: utf7::encode(&settings.folder),
            prefix: sync::prefix(&settings.account(), &settings.folder),
            settings: settings.clone(),
            max_bytes,
            runtime,
            store,
            link: Mutex::new(Link::default()),
        })
    }

    /// Names the source (`mailbox:<name>` among several mailboxes; `mailbox` by default).
    pub fn named(mut self, name: String) -> Self {
        self.name = name;
        self
    }

    /// Runs one operation on the connection; any failure drops the connection, which is
    /// opened again by the next call. A connection kept from an earlier pass may have died
    /// quietly (the server's autologout, a NAT): then the operation is tried once more on a
    /// new one, so the message that woke us is not left for the next rescan. Every operation
    /// is safe to repeat (a MOVE of a UID already moved is a no-op).
    fn run<T>(
        &self,
        op: impl AsyncFn(&ImapSource, &mut Link) -> Result<T, ImapError>,
    ) -> std::io::Result<T> {
        let mut link = self.link.lock().unwrap_or_else(|p| p.into_inner());
        let mut reused = link.session.is_some();
        loop {
            let result = self.runtime.block_on(op(self, &mut link));
            let Err(e) = &result else {
                return result.map_err(std::io::Error::from);
            };
            if link.session.take().is_some() {
                warn!(account = %self.settings.account(), error = %crate::causes::chain(e), "imap connection dropped");
            }
            link.selected = None;
            link.target_ready = false;
            if !(reused && e.is_connection()) {
                return result.map_err(std::io::Error::from);
            }
            reused = false;
        }
    }

    async fn connect<'a>(&self, link: &'a mut Link) -> Result<&'a mut (Session, Caps), ImapError> {
        if link.session.is_none() {
            let opened = conn::open(&self.settings).await?;
            info!(account = %self.settings.account(), idle = opened.1.idle, r#move = opened.1.mv, uidplus = opened.1.uidplus, "imap connected");
            link.session = Some(opened);
            link.selected = None;
            link.target_ready = false;
        }
        Ok(link.session.as_mut().expect("just connected"))
    }

    /// SELECTs the mailbox and returns its UIDVALIDITY.
    async fn select(&self, link: &mut Link) -> Result<u32, ImapError> {
        let t = self.settings.timeout;
        let (session, _) = self.connect(link).await?;
        let mailbox = within(t, "SELECT", session.select(&self.folder)).await?;
        let v = mailbox
            .uid_validity
            .ok_or_else(|| ImapError::NoUidValidity(self.settings.folder.clone()))?;
        link.selected = Some(v);
        Ok(v)
    }

    /// Makes sure the selected mailbox still has the UIDVALIDITY a key was listed under.
    async fn reselect(&self, link: &mut Link, loc: &Located) -> Result<(), ImapError> {
        if link.session.is_none() || link.selected != Some(loc.uid_validity) {
            let v = self.select(link).await?;
            if v != loc.uid_validity {
                return Err(ImapError::Changed(format!(
                    "UIDVALIDITY of {} changed from {} to {v}; listing again",
                    self.settings.folder, loc.uid_validity
                )));
            }
        }
        Ok(())
    }

    fn located(&self, link: &Link, key: &str) -> std::io::Result<Located> {
        link.located.get(key).copied().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{key} was not listed by this connection"),
            )
        })
    }

    /// An RFC 5092 IMAP URL for logs and the intake log.
    fn url(&self, uid_validity: u32, uid: u32) -> PathBuf {
        let folder: String = self
            .folder
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z'
                | b'a'..=b'z'
                | b'0'..=b'9'
                | b'-'
                | b'.'
                | b'_'
                | b'~'
                | b'&'
                | b',' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        PathBuf::from(format!(
            "imap://{}@{}:{}/{folder};UIDVALIDITY={uid_validity}/;UID={uid}",
            self.settings.user, self.settings.host, self.settings.port
        ))
    }

    async fn list(&self, link: &mut Link) -> Result<Vec<Pending>, ImapError> {
        let t = self.settings.timeout;
        let v = self.select(link).await?;
        let account = self.settings.account();
        let folder = &self.settings.folder;
        let db = self.store.db();
        let stored = sync::load(db, &account, folder).map_err(store_error)?;
        let mut state = match stored {
            Some(s) if s.uid_validity == v => s,
            Some(old) => {
                warn!(account = %account, mailbox = %folder, old = old.uid_validity, new = v, "uidvalidity changed; reading the mailbox again and recognising what was filed");
                sync::SyncState {
                    uid_validity: v,
                    last_uid: 0,
                    previous_validity: Some(old.uid_validity),
                }
            }
            None => sync::SyncState {
                uid_validity: v,
                last_uid: 0,
                previous_validity: None,
            },
        };
        if stored != Some(state) {
            sync::save(db, &account, folder, &state).map_err(store_error)?;
        }

        // After a UIDVALIDITY change the headers tell which messages may have been seen before.
        let resync = state.previous_validity.is_some();
        let query = if resync {
            "(UID RFC822.SIZE BODY.PEEK[HEADER])"
        } else {
            "(UID RFC822.SIZE)"
        };
        let (session, _) = self.connect(link).await?;
        // Headers of a whole renumbered mailbox may take a while.
        let limit = if resync { t * 4 } else { t };
        let fetched =
            uid_fetch(session, limit, &format!("{}:*", state.last_uid + 1), query).await?;
        // `UID FETCH N:*` also returns the newest message when its UID is below N.
        let mut found: Vec<(u32, u64, Option<Vec<u8>>)> = fetched
            .iter()
            .filter_map(|f| {
                let uid = f.uid.filter(|u| *u > state.last_uid)?;
                Some((
                    uid,
                    u64::from(f.size.unwrap_or(0)),
                    f.header().map(<[u8]>::to_vec),
                ))
            })
            .collect();
        drop(fetched);
        found.sort_by_key(|f| f.0);
        found.dedup_by_key(|f| f.0);

        link.located.clear();
        let mut out = Vec::new();
        let mut settled_so_far = true;
        let mut last = state.last_uid;
        for (uid, size, header) in found {
            let mut key = sync::key(&self.prefix, v, uid);
            let mut record = self.store.source_record(&key).map_err(store_error_any)?;
            if record.is_none() && resync && size <= self.max_bytes {
                let (session, _) = self.connect(link).await?;
                if let Some(old) = self
                    .recognise(session, v, uid, size, header.as_deref())
                    .await?
                {
                    info!(key = %old, uid, "message recorded before the uidvalidity change; not taken again");
                    record = self.store.source_record(&old).map_err(store_error_any)?;
                    key = old;
                }
            }
            let settled = matches!(record.map(|r| r.ack), Some(Ack::Done | Ack::Never));
            settled_so_far &= settled;
            if settled {
                if settled_so_far {
                    last = uid;
                }
                continue;
            }
            link.located.insert(
                key.clone(),
                Located {
                    uid_validity: v,
                    uid,
                    size,
                },
            );
            out.push(Pending {
                key,
                path: self.url(v, uid),
            });
        }
        if last != state.last_uid {
            state.last_uid = last;
            sync::save(db, &account, folder, &state).map_err(store_error)?;
        }
        Ok(out)
    }

    /// The key a message was recorded under before a UIDVALIDITY change, found by its
    /// Message-ID and the SHA-256 of its bytes.
    async fn recognise(
        &self,
        session: &mut Session,
        v: u32,
        uid: u32,
        size: u64,
        header: Option<&[u8]>,
    ) -> Result<Option<String>, ImapError> {
        let db = self.store.db();
        let message_id = header.and_then(message_id);
        if let Some(mid) = &message_id
            && !sync::message_id_seen_before(db, &self.prefix, v, mid).map_err(store_error)?
        {
            return Ok(None);
        }
        let fetched = uid_fetch(
            session,
            self.fetch_limit(size),
            &uid.to_string(),
            "(UID BODY.PEEK[])",
        )
        .await?;
        let Some(raw) = fetched
            .iter()
            .find(|f| f.uid == Some(uid))
            .and_then(|f| f.body())
        else {
            return Ok(None);
        };
        let sha = hex::encode(Sha256::digest(raw));
        sync::recorded_before(db, &self.prefix, v, &sha, message_id.as_deref()).map_err(store_error)
    }

    /// A body fetch may take longer than a command: allow 256 KiB/s on top of the timeout.
    fn fetch_limit(&self, size: u64) -> Duration {
        self.settings.timeout + Duration::from_secs(size / (256 << 10))
    }

    async fn fetch(&self, link: &mut Link, key: &str, loc: Located) -> Result<Inbound, ImapError> {
        self.reselect(link, &loc).await?;
        let (session, _) = self.connect(link).await?;
        let over = loc.size > self.max_bytes;
        // An oversized message is read only as far as its header: enough to say who sent it.
        let query = if over {
            "(UID INTERNALDATE BODY.PEEK[HEADER])"
        } else {
            "(UID INTERNALDATE BODY.PEEK[])"
        };
        let limit = self.fetch_limit(loc.size.min(self.max_bytes));
        let fetched = uid_fetch(session, limit, &loc.uid.to_string(), query).await?;
        let f = fetched
            .iter()
            .find(|f| f.uid == Some(loc.uid))
            .ok_or_else(|| {
                ImapError::Changed(format!("{key} is no longer in {}", self.settings.folder))
            })?;
        let bytes = if over { f.header() } else { f.body() };
        let mut raw = bytes
            .ok_or_else(|| ImapError::Changed(format!("the server sent no content for {key}")))?
            .to_vec();
        let mut oversize = over.then_some(loc.size);
        if !over && raw.len() as u64 > self.max_bytes {
            oversize = Some(raw.len() as u64);
            raw.truncate(64 << 10);
        }
        Ok(Inbound {
            source: SourceKind::Mailbox,
            key: key.to_string(),
            raw,
            seen_at: f
                .internal_date()
                .unwrap_or_else(|| Utc::now().fixed_offset()),
            file_name: None,
            folder_agency: None,
            oversize,
            auth: None,
        })
    }

    async fn act(&self, link: &mut Link, key: &str, loc: Located) -> Result<(), ImapError> {
        let t = self.settings.timeout;
        if self.settings.on_filed == ImapAction::Keep {
            return Ok(());
        }
        self.reselect(link, &loc).await?;
        let uid = loc.uid.to_string();
        match &self.settings.on_filed {
            ImapAction::Keep => {}
            ImapAction::Keyword(k) => {
                let (session, _) = self.connect(link).await?;
                let flags = format!("+FLAGS.SILENT ({k})");
                within(t, "UID STORE", async {
                    session
                        .uid_store(&uid, &flags)
                        .await?
                        .try_collect::<Vec<_>>()
                        .await
                })
                .await?;
            }
            ImapAction::Move(folder) => {
                let target = utf7::encode(folder);
                self.ensure_target(link, folder, &target).await?;
                let (session, caps) = self.connect(link).await?;
                if caps.mv {
                    // A UID no longer there (moved before a crash) is a harmless no-op.
                    within(t, "UID MOVE", session.uid_mv(&uid, &target)).await?;
                } else {
                    within(t, "UID COPY", session.uid_copy(&uid, &target)).await?;
                    within(t, "UID STORE", async {
                        session
                            .uid_store(&uid, "+FLAGS.SILENT (\\Deleted)")
                            .await?
                            .try_collect::<Vec<_>>()
                            .await
                    })
                    .await?;
                    if caps.uidplus {
                        within(t, "UID EXPUNGE", async {
                            session
                                .uid_expunge(&uid)
                                .await?
                                .try_collect::<Vec<_>>()
                                .await
                        })
                        .await?;
                    } else {
                        // A plain EXPUNGE would also remove what people marked deleted.
                        warn!(
                            key,
                            "server lacks UIDPLUS: the message is marked deleted, not expunged"
                        );
                    }
                }
            }
        }
        info!(key, uid = loc.uid, "acknowledged at the imap server");
        Ok(())
    }

    /// Creates (and subscribes to) the destination folder if it does not exist.
    async fn ensure_target(
        &self,
        link: &mut Link,
        folder: &str,
        target: &str,
    ) -> Result<(), ImapError> {
        if link.target_ready {
            return Ok(());
        }
        let t = self.settings.timeout;
        let (session, _) = self.connect(link).await?;
        let pattern = format!("\"{}\"", target.replace('\\', "\\\\").replace('"', "\\\""));
        let names = within(t, "LIST", async {
            session
                .list(Some(""), Some(&pattern))
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        if names.is_empty() {
            match within(t, "CREATE", session.create(target)).await {
                Ok(()) => {
                    info!(
                        folder,
                        encoded = target,
                        "created the folder for filed messages"
                    );
                    within(t, "SUBSCRIBE", session.subscribe(target)).await?;
                }
                // Created meanwhile by someone else.
                Err(ImapError::Command {
                    source: async_imap::error::Error::No(_),
                    ..
                }) => {}
                Err(e) => return Err(e),
            }
        }
        link.target_ready = true;
        Ok(())
    }
}

impl Source for ImapSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn pending(&mut self) -> std::io::Result<Vec<Pending>> {
        self.run(async |s, link| s.list(link).await)
    }

    fn load(&self, item: &Pending) -> std::io::Result<Inbound> {
        let loc = {
            let link = self.link.lock().unwrap_or_else(|p| p.into_inner());
            self.located(&link, &item.key)?
        };
        self.run(async |s, link| s.fetch(link, &item.key, loc).await)
    }

    fn acknowledge(&self, item: &Pending, _outcome: Outcome) -> std::io::Result<()> {
        let loc = {
            let link = self.link.lock().unwrap_or_else(|p| p.into_inner());
            self.located(&link, &item.key)?
        };
        self.run(async |s, link| s.act(link, &item.key, loc).await)
    }

    fn size(&self, item: &Pending) -> Option<u64> {
        let link = self.link.lock().unwrap_or_else(|p| p.into_inner());
        link.located.get(&item.key).map(|l| l.size)
    }
}

/// The Message-ID of a header block, normalised as the store keeps it.
fn message_id(header: &[u8]) -> Option<String> {
    let parsed = mail_parser::MessageParser::default().parse_headers(header)?;
    parsed
        .message_id()
        .map(|s| s.trim_matches(['<', '>']).to_string())
        .filter(|s| !s.is_empty())
}

fn store_error(e: crate::store::db::Error) -> ImapError {
    ImapError::Store(e.to_string())
}

fn store_error_any(e: crate::store::StoreError) -> ImapError {
    ImapError::Store(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_read_from_headers() {
        let h = b"From: a@b.vn\r\nMessage-ID: <x.1@b.vn>\r\nSubject: s\r\n\r\n";
        assert_eq!(message_id(h).as_deref(), Some("x.1@b.vn"));
        assert_eq!(message_id(b"Subject: s\r\n\r\n"), None);
    }
}
