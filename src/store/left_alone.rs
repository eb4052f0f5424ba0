//! # What the drop folder leaves alone, remembered
//!
//! Staff must see every item of the drop folder that intake does not take (a link, a FIFO, a
//! hidden or too deep file), but once: the folder is listed again every few seconds. The
//! store keeps each item reported, by its path and reason, while it stays; an item is logged
//! again only when its reason changes or when it comes back after going away. The board lists
//! what is there now. The items a listing reports ([`LeftAloneScan`]) are plain values defined
//! here, built by the drop folder source, so that the store knows no source.

use super::db::params;
use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::{Result, Store};

/// Why the drop folder leaves an item alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A symbolic link: never followed, whatever it points to.
    Symlink,
    /// A named pipe.
    Fifo,
    /// A block or character device.
    Device,
    /// A Unix socket.
    Socket,
    /// A name starting with a dot.
    Hidden,
    /// A temporary, lock or system file of an office suite, a copy tool or Windows.
    Temporary,
    /// Inside a folder deeper than [`crate::source::drop::MAX_DEPTH`] levels.
    TooDeep,
}

impl Reason {
    /// The code written in the intake log.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Symlink => "symlink",
            Reason::Fifo => "fifo",
            Reason::Device => "device",
            Reason::Socket => "socket",
            Reason::Hidden => "hidden",
            Reason::Temporary => "temporary",
            Reason::TooDeep => "too-deep",
        }
    }
}

/// An item of the drop folder that intake does not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftAlone {
    /// Its path relative to the drop folder, with `/`.
    pub path: String,
    /// Why.
    pub reason: Reason,
}

/// What one listing left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeftAloneScan {
    /// Every item left alone that is there now, settled or not (what the store may forget is
    /// what is not here).
    pub present: Vec<String>,
    /// Those that have stayed unchanged for the settle time: to be reported if new.
    pub settled: Vec<LeftAlone>,
}

/// An item the drop folder leaves alone, as the board lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftAloneRow {
    /// Its path relative to the drop folder.
    pub path: String,
    /// The reason's code (`symlink`, `fifo`, `device`, `socket`, `hidden`, `temporary`,
    /// `too-deep`).
    pub reason: String,
    /// When it was first reported (RFC 3339).
    pub first_seen: String,
}

impl Store {
    /// Logs a `left-alone` event for each settled item that is new or whose reason changed,
    /// forgets the items no longer there; returns the events logged. Writes nothing when
    /// nothing changed, so a rescan does not wake the board.
    pub fn note_left_alone(
        &self,
        scan: &LeftAloneScan,
        at: DateTime<FixedOffset>,
    ) -> Result<usize> {
        let known = self.left_alone_items()?;
        let gone: Vec<&str> = known
            .iter()
            .filter(|k| !scan.present.contains(&k.path))
            .map(|k| k.path.as_str())
            .collect();
        let new: Vec<_> = scan
            .settled
            .iter()
            .filter(|item| {
                !known
                    .iter()
                    .any(|k| k.path == item.path && k.reason == item.reason.as_str())
            })
            .collect();
        if gone.is_empty() && new.is_empty() {
            return Ok(0);
        }
        self.begin()?;
        let result = (|| {
            for path in &gone {
                self.conn
                    .execute("DELETE FROM drop_left_alone WHERE path = ?1", params![path])
                    .map_err(|e| self.sql(e))?;
            }
            for item in &new {
                let reason = item.reason.as_str();
                let files = serde_json::json!([{ "name": item.path, "reason": reason }]);
                let event: i64 = self
                    .conn
                    .query_row(
                        "INSERT INTO events (at, kind, source, files, detail) VALUES (?1, 'left-alone', 'drop', ?2, ?3) RETURNING id",
                        params![
                            at.to_rfc3339(),
                            files.to_string(),
                            crate::core::words::left_alone_reason(reason)
                        ],
                        |r| r.get(0),
                    )
                    .map_err(|e| self.sql(e))?;
                self.conn
                    .execute(
                        "INSERT INTO drop_left_alone (path, reason, first_seen, event) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (path) DO UPDATE SET reason = excluded.reason, first_seen = excluded.first_seen, event = excluded.event",
                        params![item.path, reason, at.to_rfc3339(), event],
                    )
                    .map_err(|e| self.sql(e))?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.conn.execute_batch("COMMIT").map_err(|e| self.sql(e))?;
                Ok(new.len())
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    /// The items the drop folder leaves alone now, by path.
    pub fn left_alone_items(&self) -> Result<Vec<LeftAloneRow>> {
        self.conn
            .query_rows(
                "SELECT path, reason, first_seen FROM drop_left_alone ORDER BY path",
                params![],
                |r| {
                    Ok(LeftAloneRow {
                        path: r.get(0)?,
                        reason: r.get(1)?,
                        first_seen: r.get(2)?,
                    })
                },
            )
            .map_err(|e| self.sql(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(items: &[(&str, Reason, bool)]) -> LeftAloneScan {
        LeftAloneScan {
            present: items.iter().map(|i| i.0.to_string()).collect(),
            settled: items
                .iter()
                .filter(|i| i.2)
                .map(|i| LeftAlone {
                    path: i.0.into(),
                    reason: i.1,
                })
                .collect(),
        }
    }

    fn events(store: &Store) -> i64 {
        store
            .conn
            .query_row(
                "SELECT count(*) FROM events WHERE kind = 'left-alone'",
                params![],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn each_item_is_logged_once_while_it_stays() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let at = DateTime::parse_from_rfc3339("2018-07-12T09:00:00+07:00").unwrap();
        let first = scan(&[
            ("so-y-te/link.xlsx", Reason::Symlink, true),
            ("pipe", Reason::Fifo, true),
            ("new.tmp", Reason::Temporary, false),
        ]);
        assert_eq!(store.note_left_alone(&first, at).unwrap(), 2);
        assert_eq!(store.note_left_alone(&first, at).unwrap(), 0, "a rescan");
        assert_eq!(events(&store), 2);
        // The unsettled one settles; the link becomes a FIFO; the pipe goes.
        let second = scan(&[
            ("so-y-te/link.xlsx", Reason::Fifo, true),
            ("new.tmp", Reason::Temporary, true),
        ]);
        assert_eq!(store.note_left_alone(&second, at).unwrap(), 2);
        let rows = store.left_alone_items().unwrap();
        assert_eq!(
            rows.iter()
                .map(|r| (r.path.as_str(), r.reason.as_str()))
                .collect::<Vec<_>>(),
            [("new.tmp", "temporary"), ("so-y-te/link.xlsx", "fifo")]
        );
        // The pipe comes back: reported again.
        let third = scan(&[("pipe", Reason::Fifo, true)]);
        assert_eq!(store.note_left_alone(&third, at).unwrap(), 1);
        assert_eq!(events(&store), 5);
    }
}
