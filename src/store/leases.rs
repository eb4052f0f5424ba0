//! # Leases: which daemon works which source
//!
//! Several daemons may share one PostgreSQL index. Each source (a mailbox, the drop folder) is
//! then worked by one of them at a time, under a lease: a row naming the holder and a token
//! that rises at every change of holder. A lease lasts while its holder lives: while its row
//! of `daemons` is renewed (every second, by its keeper) and, on PostgreSQL, its database
//! session is open. It ends when the holder gives it up, [`LEASE_MS`] after the holder's last
//! heartbeat, or at once when the holder's session is gone (a daemon killed, its machine cut
//! off once the server's keepalive notices). The lease's own row is never written to keep it,
//! so a filing that holds that row ([`Store::check_fence`]) never delays the heartbeat. Every filing transaction checks the token it was given
//! ([`Store::check_fence`]); a daemon that lost its lease without knowing (paused, cut off)
//! therefore files nothing, and the source's own keys keep the new holder from filing twice.
//!
//! Every write transaction on PostgreSQL takes one transaction-level lock first (see
//! `db::dialect`), so these steps, the filings and the reminder decisions are serialised as
//! they are on SQLite, while the work between them (reading, examining) runs in parallel.
//! Time is the database's clock, the one clock every daemon shares.

use super::db::{OptionalExtension, params};
use super::{Result, Store, StoreError};

/// How long a daemon lives (and holds its leases) after its last heartbeat. A daemon whose
/// database session is gone loses its leases at once; one that hangs with its session open,
/// after this.
pub const LEASE_MS: i64 = 10_000;

/// `expires_ms` of a lease held (it ends with its holder); 0 is one given up.
const HELD: i64 = i64::MAX;

/// The token a filing must still hold: the source's lease as its holder last took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The lease's name (the source's).
    pub name: String,
    /// The holder (this daemon).
    pub holder: String,
    /// The token taken.
    pub token: i64,
}

/// A daemon working the store, as its row says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Member {
    /// Its name, new at every start.
    pub holder: String,
    /// The machine it runs on.
    pub host: String,
    /// Its process id there.
    pub pid: i64,
    /// The sources it holds.
    pub holds: Vec<String>,
}

impl Store {
    /// The database's clock, in milliseconds since 1970.
    pub fn db_now_ms(&self) -> Result<i64> {
        let sql = if self.conn.is_postgres() {
            "SELECT CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)"
        } else {
            "SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER)"
        };
        self.conn
            .query_row(sql, params![], |r| r.get(0))
            .map_err(|e| self.sql(e))
    }

    /// The condition, on a table aliased `d` of `daemons`, that the daemon lives: renewed
    /// after the time in parameter `since` (`?1`, `?2`, …; now less the lease time) and, on
    /// PostgreSQL, its session still open.
    pub(crate) fn alive_sql(&self, since: &str) -> String {
        if self.conn.is_postgres() {
            format!(
                "d.seen_ms > {since} AND (d.backend IS NULL OR EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = d.backend))"
            )
        } else {
            format!("d.seen_ms > {since}")
        }
    }

    /// The condition, on a table aliased `d` of `daemons`, that the daemon has not gone: its
    /// row is there (it did not leave) and, on PostgreSQL, its session is open (it was not
    /// killed). A daemon whose keeper is slow keeps what it claimed.
    pub(crate) fn not_gone_sql(&self) -> &'static str {
        if self.conn.is_postgres() {
            "(d.backend IS NULL OR EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = d.backend))"
        } else {
            "1 = 1"
        }
    }

    /// Makes this connection give up waiting for a lock after `most` (PostgreSQL; SQLite's
    /// busy timeout stays).
    pub fn limit_lock_waits(&self, most: std::time::Duration) -> Result<()> {
        if self.conn.is_postgres() {
            self.conn
                .execute_batch(&format!("SET lock_timeout = {}", most.as_millis()))
                .map_err(|e| self.sql(e))?;
        }
        Ok(())
    }

    /// Says that `holder` lives (its row made or renewed, with this connection's session);
    /// answers the daemons alive now, this one among them.
    pub fn heartbeat(&self, holder: &str, ttl_ms: i64, started_at: &str) -> Result<Vec<String>> {
        let now = self.db_now_ms()?;
        let backend: Option<i64> = if self.conn.is_postgres() {
            Some(
                self.conn
                    .query_row("SELECT CAST(pg_backend_pid() AS BIGINT)", params![], |r| {
                        r.get(0)
                    })
                    .map_err(|e| self.sql(e))?,
            )
        } else {
            None
        };
        let host = hostname();
        self.conn
            .execute(
                "INSERT INTO daemons (holder, host, pid, backend, started_at, seen_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (holder) DO UPDATE SET backend = excluded.backend, seen_ms = excluded.seen_ms",
                params![holder, host, std::process::id() as i64, backend, started_at, now],
            )
            .map_err(|e| self.sql(e))?;
        // Rows of daemons long gone are cleared, so the table stays small.
        self.conn
            .execute(
                "DELETE FROM daemons WHERE seen_ms < ?1",
                params![now - 100 * ttl_ms],
            )
            .map_err(|e| self.sql(e))?;
        let sql = format!(
            "SELECT d.holder FROM daemons d WHERE {} ORDER BY d.holder",
            self.alive_sql("?1")
        );
        self.conn
            .query_rows(&sql, params![now - ttl_ms], |r| r.get(0))
            .map_err(|e| self.sql(e))
    }

    /// Takes (or keeps) the lease `name` for `holder` when it is free: never taken, expired,
    /// held by a daemon no longer alive, or already this holder's. Answers the token, raised
    /// when the holder changed; `None` while another daemon holds it.
    ///
    /// One statement, outside the writers' lock: a daemon busy filing never keeps another's
    /// keeper waiting. It waits only for a filing from this very source, whose transaction
    /// holds the lease's row ([`Store::check_fence`]), so a lease never changes hands between
    /// a filing's check and its commit.
    pub fn acquire(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<Option<i64>> {
        let now = self.db_now_ms()?;
        let sql = format!(
            "INSERT INTO leases (name, holder, token, expires_ms) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT (name) DO UPDATE SET
               token = CASE WHEN leases.holder = excluded.holder THEN leases.token ELSE leases.token + 1 END,
               holder = excluded.holder,
               expires_ms = excluded.expires_ms
             WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?4
               OR NOT EXISTS (SELECT 1 FROM daemons d WHERE d.holder = leases.holder AND {})
             RETURNING token",
            self.alive_sql("?5")
        );
        self.conn
            .query_row(&sql, params![name, holder, HELD, now, now - ttl_ms], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// Whether `fence` still holds its lease (no other daemon took it, it was not given up).
    pub fn holds(&self, fence: &Fence) -> Result<bool> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM leases WHERE name = ?1 AND holder = ?2 AND token = ?3 AND expires_ms > 0",
                params![fence.name, fence.holder, fence.token],
                |r| r.get(0),
            )
            .map_err(|e| self.sql(e))?;
        Ok(n == 1)
    }

    /// Gives a lease up, for another daemon to take at once.
    pub fn release(&self, fence: &Fence) -> Result<()> {
        self.conn
            .execute(
                "UPDATE leases SET expires_ms = 0 WHERE name = ?1 AND holder = ?2 AND token = ?3",
                params![fence.name, fence.holder, fence.token],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// A daemon that stops: its leases given up, its row gone.
    pub fn leave(&self, holder: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE leases SET expires_ms = 0 WHERE holder = ?1",
                params![holder],
            )
            .map_err(|e| self.sql(e))?;
        self.conn
            .execute("DELETE FROM daemons WHERE holder = ?1", params![holder])
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Inside a filing transaction: fails with [`StoreError::LeaseLost`] unless `fence` still
    /// holds its source's lease.
    pub fn check_fence(&self, fence: &Fence) -> Result<()> {
        // PostgreSQL: the row stays locked until the filing commits, so the lease cannot pass
        // to another daemon meanwhile. SQLite has one daemon, and its writer lock.
        let sql = if self.conn.is_postgres() {
            "SELECT holder, token FROM leases WHERE name = ?1 FOR SHARE"
        } else {
            "SELECT holder, token FROM leases WHERE name = ?1"
        };
        let row: Option<(String, i64)> = self
            .conn
            .query_row(sql, params![fence.name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(|e| self.sql(e))?;
        match row {
            Some((holder, token)) if holder == fence.holder && token == fence.token => Ok(()),
            _ => Err(StoreError::LeaseLost(fence.name.clone())),
        }
    }

    /// The daemons alive now, with the sources each holds.
    pub fn members(&self, ttl_ms: i64) -> Result<Vec<Member>> {
        let now = self.db_now_ms()?;
        let sql = format!(
            "SELECT d.holder, d.host, d.pid FROM daemons d WHERE {} ORDER BY d.started_at, d.holder",
            self.alive_sql("?1")
        );
        let mut members: Vec<Member> = self
            .conn
            .query_rows(&sql, params![now - ttl_ms], |r| {
                Ok(Member {
                    holder: r.get(0)?,
                    host: r.get(1)?,
                    pid: r.get(2)?,
                    holds: Vec::new(),
                })
            })
            .map_err(|e| self.sql(e))?;
        let held: Vec<(String, String)> = self
            .conn
            .query_rows(
                "SELECT name, holder FROM leases WHERE expires_ms > ?1 ORDER BY name",
                params![now],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.sql(e))?;
        for (name, holder) in held {
            if let Some(m) = members.iter_mut().find(|m| m.holder == holder) {
                m.holds.push(name);
            }
        }
        Ok(members)
    }
}

/// This machine's name, for staff reading who works what.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fence(name: &str, holder: &str, token: i64) -> Fence {
        Fence {
            name: name.into(),
            holder: holder.into(),
            token,
        }
    }

    #[test]
    fn one_holder_at_a_time_and_a_lost_lease_fences_its_holder_off() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let ttl = 60_000;
        for who in ["a", "b"] {
            store
                .heartbeat(who, ttl, "2018-07-12T09:00:00+07:00")
                .unwrap();
        }
        assert_eq!(store.acquire("mailbox", "a", ttl).unwrap(), Some(1));
        // Held by a daemon alive: not b's; a keeps it with the same token.
        assert_eq!(store.acquire("mailbox", "b", ttl).unwrap(), None);
        assert_eq!(store.acquire("mailbox", "a", ttl).unwrap(), Some(1));
        let a = fence("mailbox", "a", 1);
        store.check_fence(&a).unwrap();
        assert!(store.holds(&a).unwrap());
        let members = store.members(ttl).unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(
            members.iter().find(|m| m.holder == "a").unwrap().holds,
            ["mailbox"]
        );

        // a gives it up: b takes it with a higher token, and a's filings are refused.
        store.release(&a).unwrap();
        assert_eq!(store.acquire("mailbox", "b", ttl).unwrap(), Some(2));
        assert!(matches!(
            store.check_fence(&a),
            Err(StoreError::LeaseLost(name)) if name == "mailbox"
        ));
        assert!(!store.holds(&a).unwrap(), "a lost lease is not held");
        store.check_fence(&fence("mailbox", "b", 2)).unwrap();

        // b stops its heartbeat (it hangs, or its machine is cut off): a takes the source over.
        store
            .db()
            .execute_batch("UPDATE daemons SET seen_ms = 0 WHERE holder = 'b'")
            .unwrap();
        assert_eq!(store.acquire("mailbox", "a", ttl).unwrap(), Some(3));
        // A daemon that leaves gives everything up at once.
        store.leave("a").unwrap();
        store
            .heartbeat("b", ttl, "2018-07-12T09:00:00+07:00")
            .unwrap();
        assert_eq!(store.acquire("mailbox", "b", ttl).unwrap(), Some(4));
        assert_eq!(store.members(ttl).unwrap().len(), 1);
    }

    #[test]
    fn a_mail_is_claimed_by_one_daemon_until_it_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2018-07-12T09:00:00+07:00").unwrap();
        let id = store
            .queue_mail(
                &crate::store::mail::NewMail {
                    kind: "digest",
                    message: None,
                    agency: None,
                    to: "staff@y.example".into(),
                    subject: "s".into(),
                    body: "b".into(),
                    attachments: Vec::new(),
                },
                now,
            )
            .unwrap();
        store.heartbeat("a", LEASE_MS, "t").unwrap();
        store.heartbeat("b", LEASE_MS, "t").unwrap();
        assert!(store.claim_mail(id, "a").unwrap());
        assert!(!store.claim_mail(id, "b").unwrap(), "a holds it");
        assert!(store.claim_mail(id, "a").unwrap(), "its own claim again");
        // a is gone: b may send it.
        store.leave("a").unwrap();
        assert!(store.claim_mail(id, "b").unwrap());
        store.mark_sent(id, "file", now).unwrap();
        assert!(!store.claim_mail(id, "b").unwrap(), "sent already");
    }
}
