//! # Live refresh
//!
//! One watcher asks SQLite, on a connection of its own, whether anyone committed a change to
//! the store (`PRAGMA data_version`: a new log event, mail queued, sent or retried, a staff
//! action), each second while a page is open and at once after an action; when it moved, every
//! open page hears a `change` event on `/events` and its script fetches the page again and
//! swaps in the main section. The question costs nothing, whatever the size of the store.

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;

use super::{Shared, Visit};
use crate::store::views;
use crate::store::{Store, StoreError};

/// How often the store is looked at while someone watches.
const EVERY: Duration = Duration::from_secs(1);

/// Watches the store until the board stops; announces each change.
pub async fn watch_store(s: Shared) {
    // The same connection each time: data_version counts other connections' commits.
    let mut conn: Option<Store> = None;
    let mut last = None;
    let mut generation = 0u64;
    let mut stopped = s.stopped.clone();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = s.nudge.notified() => {}
            _ = stopped.wait_for(|v| *v) => return,
        }
        if s.changes.receiver_count() == 0 {
            // Nobody to tell. The last value stays: a change made while no page was open is
            // announced to the next one, at worst one refresh too many.
            continue;
        }
        let dir = s.store_dir.clone();
        let index = s.config().store.index.clone();
        let taken = conn.take();
        let looked = tokio::task::spawn_blocking(move || {
            let store = match taken {
                Some(store) => store,
                None => Store::open_read_index(&dir, &index)?,
            };
            let version = views::data_version(&store)?;
            Ok::<_, StoreError>((store, version))
        })
        .await;
        let version = match looked {
            Ok(Ok((store, version))) => {
                conn = Some(store);
                version
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %crate::causes::chain(&e), "board cannot read the store's change count");
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %crate::causes::chain(&e), "board change watcher failed");
                continue;
            }
        };
        if last.is_some_and(|l| l != version) {
            generation += 1;
            s.changes.send_replace(generation);
        }
        last = Some(version);
    }
}

/// `GET /events`: a `change` event whenever the store changed; ends when the board stops.
pub async fn events(
    State(s): State<Shared>,
    Extension(_visit): Extension<Visit>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = s.changes.subscribe();
    let stopped = s.stopped.clone();
    s.nudge.notify_one();
    let stream = futures::stream::unfold((rx, stopped), |(mut rx, mut stopped)| async move {
        let changed = tokio::select! {
            changed = rx.changed() => changed.is_ok(),
            _ = stopped.wait_for(|v| *v) => false,
        };
        if !changed {
            return None;
        }
        let n = *rx.borrow_and_update();
        Some((
            Ok(Event::default().event("change").data(n.to_string())),
            (rx, stopped),
        ))
    });
    // A comment more often than the idle timeout keeps the connection within the limits.
    let every = super::serve::Limits::of(&s.config().board).live_keep_alive();
    Sse::new(stream).keep_alive(KeepAlive::new().interval(every))
}
