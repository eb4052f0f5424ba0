//! # Board sessions kept in the index
//!
//! With several daemons on one PostgreSQL index, staff may reach any daemon's board: their
//! sessions live in the index, so that a login on one is known to the others and survives the
//! daemon that made it. A session is kept under the SHA-256 of its cookie's id, so a copy of
//! the index gives no one a way into the board. The embedded store's one daemon keeps its
//! sessions in memory (module `board::auth`).

use super::db::{OptionalExtension, params};
use super::{Result, Store};

impl Store {
    /// A session's body, its use noted; `None` when there is none or it was unused for
    /// `idle_ms` (it is forgotten then).
    pub fn board_session(&self, id_hash: &str, idle_ms: i64) -> Result<Option<String>> {
        let now = self.db_now_ms()?;
        let row: Option<(String, i64)> = self
            .conn
            .query_row(
                "SELECT body, seen_ms FROM board_sessions WHERE id_hash = ?1",
                params![id_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        let Some((body, seen)) = row else {
            return Ok(None);
        };
        if seen < now - idle_ms {
            self.remove_board_session(id_hash)?;
            return Ok(None);
        }
        // Written at most once a minute per session: a page's many requests cost no writes.
        if seen < now - 60_000 {
            self.conn
                .execute(
                    "UPDATE board_sessions SET seen_ms = ?1 WHERE id_hash = ?2",
                    params![now, id_hash],
                )
                .map_err(|e| self.sql(e))?;
        }
        Ok(Some(body))
    }

    /// Keeps a new session, used now.
    pub fn add_board_session(&self, id_hash: &str, body: &str) -> Result<()> {
        let now = self.db_now_ms()?;
        self.conn
            .execute(
                "INSERT INTO board_sessions (id_hash, body, seen_ms) VALUES (?1, ?2, ?3)",
                params![id_hash, body, now],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Changes a session still kept; one ended meanwhile (a logout on another board) stays
    /// ended.
    pub fn change_board_session(&self, id_hash: &str, body: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE board_sessions SET body = ?1 WHERE id_hash = ?2",
                params![body, id_hash],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Ends a session.
    pub fn remove_board_session(&self, id_hash: &str) -> Result<()> {
        self.conn
            .execute(
                "DELETE FROM board_sessions WHERE id_hash = ?1",
                params![id_hash],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Forgets sessions unused for `idle_ms`, and beyond the `most` used last the oldest.
    pub fn sweep_board_sessions(&self, idle_ms: i64, most: usize) -> Result<()> {
        let now = self.db_now_ms()?;
        self.conn
            .execute(
                "DELETE FROM board_sessions WHERE seen_ms < ?1",
                params![now - idle_ms],
            )
            .map_err(|e| self.sql(e))?;
        self.conn
            .execute(
                "DELETE FROM board_sessions WHERE seen_ms < (SELECT seen_ms FROM board_sessions ORDER BY seen_ms DESC LIMIT 1 OFFSET ?1)",
                params![most as i64],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }
}

impl Store {
    /// Failed logins from `peer` within the last `window_ms`.
    pub fn board_login_failures(&self, peer: &str, window_ms: i64) -> Result<u32> {
        let now = self.db_now_ms()?;
        let n: Option<i64> = self
            .conn
            .query_row(
                "SELECT failures FROM board_logins WHERE peer = ?1 AND since_ms > ?2",
                params![peer, now - window_ms],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        Ok(n.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32)
    }

    /// Counts a failed login from `peer` (a count older than `window_ms` starts again); a
    /// success clears it.
    pub fn note_board_login(&self, peer: &str, ok: bool, window_ms: i64) -> Result<()> {
        if ok {
            self.conn
                .execute("DELETE FROM board_logins WHERE peer = ?1", params![peer])
                .map_err(|e| self.sql(e))?;
            return Ok(());
        }
        let now = self.db_now_ms()?;
        self.conn
            .execute(
                "INSERT INTO board_logins (peer, failures, since_ms) VALUES (?1, 1, ?2)
                 ON CONFLICT (peer) DO UPDATE SET
                   failures = CASE WHEN board_logins.since_ms > ?3 THEN board_logins.failures + 1 ELSE 1 END,
                   since_ms = CASE WHEN board_logins.since_ms > ?3 THEN board_logins.since_ms ELSE ?2 END",
                params![peer, now, now - window_ms],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }
}
