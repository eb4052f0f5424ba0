//! # Staff decisions: exemptions and extensions
//!
//! An agency may be excused from a deliverable, or given until a later time. Both are kept
//! per campaign, replace an earlier decision of the same kind, and are written to the intake
//! log with the staff member's name.

use std::collections::{HashMap, HashSet};

use super::db::{OptionalExtension, params};
use chrono::{DateTime, FixedOffset};

use super::{Result, Store};

impl Store {
    /// Excuses an agency from a deliverable.
    pub fn exempt(
        &self,
        campaign: &str,
        agency: &str,
        deliverable: &str,
        actor: &str,
        reason: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        self.db()
            .execute(
                "INSERT INTO exemptions (campaign, agency, deliverable, at, actor, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (campaign, agency, deliverable) DO UPDATE SET at = excluded.at, actor = excluded.actor, reason = excluded.reason",
                params![campaign, agency, deliverable, now.to_rfc3339(), actor, reason],
            )
            .map_err(|e| self.sql(e))?;
        self.decision_event(
            now,
            "exempted",
            agency,
            campaign,
            &format!(
                "{deliverable}{}",
                reason.map(|r| format!(": {r}")).unwrap_or_default()
            ),
            actor,
        )
    }

    /// Gives an agency until `until` for every deliverable of a campaign.
    pub fn extend(
        &self,
        campaign: &str,
        agency: &str,
        until: DateTime<FixedOffset>,
        actor: &str,
        reason: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        self.db()
            .execute(
                "INSERT INTO extensions (campaign, agency, until, at, actor, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (campaign, agency) DO UPDATE SET until = excluded.until, at = excluded.at, actor = excluded.actor, reason = excluded.reason",
                params![campaign, agency, until.to_rfc3339(), now.to_rfc3339(), actor, reason],
            )
            .map_err(|e| self.sql(e))?;
        self.decision_event(
            now,
            "extended",
            agency,
            campaign,
            &format!(
                "{}{}",
                until.to_rfc3339(),
                reason.map(|r| format!(": {r}")).unwrap_or_default()
            ),
            actor,
        )
    }

    fn decision_event(
        &self,
        at: DateTime<FixedOffset>,
        kind: &str,
        agency: &str,
        campaign: &str,
        detail: &str,
        actor: &str,
    ) -> Result<()> {
        self.db()
            .execute(
                "INSERT INTO events (at, kind, source, agency, campaign, detail, actor) VALUES (?1, ?2, 'staff', ?3, ?4, ?5, ?6)",
                params![at.to_rfc3339(), kind, agency, campaign, detail, actor],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// The (agency, deliverable) pairs excused in a campaign.
    pub fn exemptions(&self, campaign: &str) -> Result<HashSet<(String, String)>> {
        Ok(self
            .query_rows(
                "SELECT agency, deliverable FROM exemptions WHERE campaign = ?1",
                params![campaign],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .into_iter()
            .collect())
    }

    /// Each agency's extended deadline in a campaign.
    pub fn extensions(&self, campaign: &str) -> Result<HashMap<String, DateTime<FixedOffset>>> {
        Ok(self
            .query_rows(
                "SELECT agency, until FROM extensions WHERE campaign = ?1",
                params![campaign],
                |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
            )?
            .into_iter()
            .filter_map(|(a, u)| DateTime::parse_from_rfc3339(&u).ok().map(|u| (a, u)))
            .collect())
    }

    /// One agency's extended deadline, when it has one.
    pub fn extension(&self, campaign: &str, agency: &str) -> Result<Option<DateTime<FixedOffset>>> {
        let until: Option<String> = self
            .db()
            .query_row(
                "SELECT until FROM extensions WHERE campaign = ?1 AND agency = ?2",
                params![campaign, agency],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        Ok(until.and_then(|u| DateTime::parse_from_rfc3339(&u).ok()))
    }
}
