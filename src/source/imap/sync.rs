//! # Where the IMAP source stands, kept in the store
//!
//! Per (account, mailbox): the UIDVALIDITY the UIDs belong to and the last UID up to which
//! every message is recorded and settled. Item keys carry both, so a recreated mailbox that
//! reuses UIDs can never be mistaken for the old one; after a UIDVALIDITY change, messages
//! already recorded under an older one are found again by Message-ID and content hash.

use crate::store::db::{Db, OptionalExtension, Result, params};
use chrono::Utc;

/// The synchronisation state of one mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncState {
    /// The UIDVALIDITY the UIDs below belong to.
    pub uid_validity: u32,
    /// Every message with a UID up to this one is recorded and settled.
    pub last_uid: u32,
    /// The UIDVALIDITY before the last change, if the mailbox ever changed it.
    pub previous_validity: Option<u32>,
}

/// The store key prefix of an account's mailbox: `imap:user@host/mailbox/`.
pub fn prefix(account: &str, mailbox: &str) -> String {
    format!("imap:{account}/{mailbox}/")
}

/// The store key of a message: the prefix, its UIDVALIDITY and its UID.
pub fn key(prefix: &str, uid_validity: u32, uid: u32) -> String {
    format!("{prefix}{uid_validity}/{uid}")
}

/// The UIDVALIDITY a key was made under.
pub fn key_validity(key: &str) -> Option<u32> {
    let mut parts = key.rsplitn(3, '/');
    parts.next()?;
    parts.next()?.parse().ok()
}

/// Reads the state of a mailbox.
pub fn load(db: &Db, account: &str, mailbox: &str) -> Result<Option<SyncState>> {
    db.query_row(
        "SELECT uid_validity, last_uid, previous_validity FROM imap_sync WHERE account = ?1 AND mailbox = ?2",
        params![account, mailbox],
        |r| {
            Ok(SyncState {
                uid_validity: r.get(0)?,
                last_uid: r.get(1)?,
                previous_validity: r.get(2)?,
            })
        },
    )
    .optional()
}

/// Writes the state of a mailbox.
pub fn save(db: &Db, account: &str, mailbox: &str, state: &SyncState) -> Result<()> {
    db.execute(
        "INSERT INTO imap_sync (account, mailbox, uid_validity, last_uid, previous_validity, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (account, mailbox) DO UPDATE SET uid_validity = ?3, last_uid = ?4,
             previous_validity = ?5, updated_at = ?6",
        params![
            account,
            mailbox,
            state.uid_validity,
            state.last_uid,
            state.previous_validity,
            Utc::now().to_rfc3339()
        ],
    )?;
    Ok(())
}

/// Keys of messages of this mailbox recorded under another UIDVALIDITY with this content
/// hash and, when the message has one, this Message-ID: the same message seen again after a
/// resync.
pub fn recorded_before(
    db: &Db,
    prefix: &str,
    uid_validity: u32,
    raw_sha256: &str,
    message_id: Option<&str>,
) -> Result<Option<String>> {
    let rows = db.query_rows(
        "SELECT source_key, message_id FROM messages
         WHERE raw_sha256 = ?1 AND substr(source_key, 1, length(CAST(?2 AS TEXT))) = CAST(?2 AS TEXT) ORDER BY id",
        params![raw_sha256, prefix],
        |r| Ok((r.get::<String>(0)?, r.get::<Option<String>>(1)?)),
    )?;
    for (key, mid) in rows {
        if key_validity(&key) == Some(uid_validity) || mid.as_deref() != message_id {
            continue;
        }
        return Ok(Some(key));
    }
    Ok(None)
}

/// Whether a message with this Message-ID was recorded from this mailbox under another
/// UIDVALIDITY (then its content is fetched and hashed to be sure).
pub fn message_id_seen_before(
    db: &Db,
    prefix: &str,
    uid_validity: u32,
    message_id: &str,
) -> Result<bool> {
    let keys = db.query_rows(
        "SELECT source_key FROM messages
         WHERE message_id = ?1 AND substr(source_key, 1, length(CAST(?2 AS TEXT))) = CAST(?2 AS TEXT)",
        params![message_id, prefix],
        |r| r.get::<String>(0),
    )?;
    Ok(keys.iter().any(|k| key_validity(k) != Some(uid_validity)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_uid_validity() {
        let p = prefix("intake@mail.example.vn", "Hộp thư/đến");
        let k = key(&p, 1_530_000_000, 42);
        assert_eq!(k, "imap:intake@mail.example.vn/Hộp thư/đến/1530000000/42");
        assert_eq!(key_validity(&k), Some(1_530_000_000));
        assert!(k.starts_with(&p));
    }

    #[test]
    fn state_round_trips() {
        let conn = Db::sqlite(rusqlite::Connection::open_in_memory().unwrap());
        conn.execute_batch(include_str!("../../store/schema.sql"))
            .unwrap();
        assert_eq!(load(&conn, "a", "INBOX").unwrap(), None);
        let s = SyncState {
            uid_validity: 7,
            last_uid: 3,
            previous_validity: None,
        };
        save(&conn, "a", "INBOX", &s).unwrap();
        let t = SyncState {
            last_uid: 9,
            previous_validity: Some(6),
            ..s
        };
        save(&conn, "a", "INBOX", &t).unwrap();
        assert_eq!(load(&conn, "a", "INBOX").unwrap(), Some(t));
        assert_eq!(load(&conn, "b", "INBOX").unwrap(), None);
    }
}
