//! # What reminders and the digest read from the index
//!
//! Plain rows for [`crate::notices`], which words them: the latest version of a deliverable
//! with its first findings, the invalid submissions that are still the latest, and the
//! messages waiting for staff.

use super::db::params;
use chrono::{DateTime, FixedOffset};

use super::{Result, Store};

/// A deliverable's latest version.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestVersion {
    /// Its number.
    pub version: u32,
    /// When it arrived.
    pub received_at: DateTime<FixedOffset>,
    /// Errors of its workbooks.
    pub errors: u32,
    /// Its workbooks' `check` values, to say why it is invalid when it has no error.
    pub checks: Vec<String>,
    /// Its first findings, errors first: (is an error, sheet, cell, message).
    pub findings: Vec<(bool, String, Option<String>, String)>,
}

/// An invalid version that is still its deliverable's latest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidVersion {
    /// Campaign id.
    pub campaign: String,
    /// Agency code.
    pub agency: String,
    /// Deliverable id.
    pub deliverable: String,
    /// Its number.
    pub version: u32,
    /// When intake took it in (not when it arrived: a backlog taken after downtime counts).
    pub taken_at: DateTime<FixedOffset>,
    /// When its message arrived, as the receipt and the log say.
    pub arrived_at: DateTime<FixedOffset>,
    /// Its message row.
    pub message: i64,
    /// Errors of its workbooks.
    pub errors: u32,
    /// Its workbooks' `check` values (`ok`, `empty`, `unreadable`, `encrypted`), to say why it
    /// is invalid when it has no error.
    pub checks: Vec<String>,
}

/// A message waiting for staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// Its row.
    pub id: i64,
    /// The sender's address.
    pub from: Option<String>,
    /// The subject.
    pub subject: String,
    /// `unknown-sender`, `probable-agency` or `unclassified`.
    pub outcome: String,
    /// The probable agency's code.
    pub probable: Option<String>,
    /// When it arrived.
    pub arrived_at: DateTime<FixedOffset>,
}

fn time(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_default()
}

impl Store {
    /// The latest version of an agency's deliverable, with its first `findings` findings.
    pub fn latest_version(
        &self,
        campaign: &str,
        agency: &str,
        deliverable: &str,
        findings: usize,
    ) -> Result<Option<LatestVersion>> {
        let rows = self.query_rows(
            "SELECT version, received_at, message FROM versions WHERE campaign = ?1 AND agency = ?2 AND deliverable = ?3 ORDER BY version DESC LIMIT 1",
            params![campaign, agency, deliverable],
            |r| Ok((r.get::<u32>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?)),
        )?;
        let Some((version, at, message)) = rows.into_iter().next() else {
            return Ok(None);
        };
        let found = self.query_rows(
            "SELECT f.severity = 'error', f.sheet, f.cell, f.message FROM findings f JOIN files x ON x.id = f.file WHERE x.message = ?1 AND x.deliverable = ?2 AND x.version = ?3 ORDER BY f.severity <> 'error', f.id LIMIT ?4",
            params![message, deliverable, version, findings as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let errors = self.query_rows(
            "SELECT coalesce(sum(errors), 0) FROM files WHERE message = ?1 AND deliverable = ?2 AND version = ?3",
            params![message, deliverable, version],
            |r| r.get::<u32>(0),
        )?;
        let checks = self.query_rows(
            "SELECT check_result FROM files WHERE message = ?1 AND deliverable = ?2 AND version = ?3 AND kind = 'workbook'",
            params![message, deliverable, version],
            |r| r.get::<String>(0),
        )?;
        Ok(Some(LatestVersion {
            version,
            received_at: time(&at),
            errors: errors.first().copied().unwrap_or(0),
            checks,
            findings: found,
        }))
    }

    /// Invalid versions taken in since `since` that are still their deliverable's latest.
    pub fn invalid_since(&self, since: DateTime<FixedOffset>) -> Result<Vec<InvalidVersion>> {
        let rows = self.query_rows(
            "SELECT v.campaign, v.agency, v.deliverable, v.version, m.processed_at, v.message, (SELECT coalesce(sum(errors), 0) FROM files f WHERE f.message = v.message AND f.deliverable = v.deliverable AND f.version = v.version), v.received_at, (SELECT group_concat(f.check_result, ' ') FROM files f WHERE f.message = v.message AND f.deliverable = v.deliverable AND f.version = v.version AND f.kind = 'workbook') FROM versions v JOIN messages m ON m.id = v.message WHERE v.state = 'invalid' AND NOT EXISTS (SELECT 1 FROM versions w WHERE w.campaign = v.campaign AND w.agency = v.agency AND w.deliverable = v.deliverable AND w.version > v.version) ORDER BY v.message",
            params![],
            |r| {
                Ok(InvalidVersion {
                    campaign: r.get(0)?,
                    agency: r.get(1)?,
                    deliverable: r.get(2)?,
                    version: r.get(3)?,
                    taken_at: time(&r.get::<String>(4)?),
                    arrived_at: time(&r.get::<String>(7)?),
                    message: r.get(5)?,
                    errors: r.get(6)?,
                    checks: r
                        .get::<Option<String>>(8)?
                        .unwrap_or_default()
                        .split(' ')
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect(),
                })
            },
        )?;
        Ok(rows.into_iter().filter(|v| v.taken_at >= since).collect())
    }

    /// Messages waiting for staff: unknown or probable senders, files no deliverable claims.
    pub fn waiting_for_staff(&self) -> Result<Vec<Waiting>> {
        self.query_rows(
            "SELECT id, from_addr, subject, outcome, probable, arrived_at FROM messages WHERE outcome IN ('unknown-sender', 'probable-agency', 'unclassified', 'sender-unverified') ORDER BY id",
            params![],
            |r| {
                Ok(Waiting {
                    id: r.get(0)?,
                    from: r.get(1)?,
                    subject: r.get::<Option<String>>(2)?.unwrap_or_default(),
                    outcome: r.get(3)?,
                    probable: r.get(4)?,
                    arrived_at: time(&r.get::<String>(5)?),
                })
            },
        )
    }
}
