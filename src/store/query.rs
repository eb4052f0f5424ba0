//! # Reading the store: status, intake log, outbox
//!
//! The figures staff ask for. Status follows DHIS2's reporting rates: expected = agencies ×
//! deliverables; received = those with any version; valid = those whose latest version is
//! accepted; on time = received with their first usable version by the deadline.

use super::db::{OptionalExtension, params};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::{Result, Store};
use crate::config::Config;

/// The status of every campaign.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The time the status is for.
    pub now: String,
    /// One entry per campaign.
    pub campaigns: Vec<CampaignStatus>,
    /// The IMAP watcher's connection, when the mailbox is IMAP and the daemon has run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<super::mailbox_state::ConnectionState>,
    /// The connections of the other mailboxes (`[[mailbox]]`), as their watchers last wrote.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub more_mailboxes: Vec<super::mailbox_state::ConnectionState>,
    /// What the outbox holds: sent, waiting, failed, cancelled.
    pub outbox: super::mail::OutboxCounts,
    /// Mail not delivered: refused or given up, and still being retried.
    pub undelivered: Vec<super::mail::Undelivered>,
    /// Parts of intake that keep failing (the store, a source), since when.
    pub problems: Vec<crate::health::Problem>,
    /// The daemons sharing the index now, with the sources each works (PostgreSQL only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub daemons: Vec<super::leases::Member>,
}

/// One campaign's figures and matrix.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignStatus {
    /// Campaign id.
    pub id: String,
    /// Dispatch number.
    pub dispatch: String,
    /// Dispatch title.
    pub title: String,
    /// The deadline.
    pub deadline: String,
    /// Agencies × deliverables, less the exempted ones.
    pub expected: u32,
    /// Cells with any version.
    pub received: u32,
    /// Cells whose latest version is accepted.
    pub valid: u32,
    /// Received cells whose first usable version came by the deadline.
    pub on_time: u32,
    /// Messages waiting for staff (unknown or probable sender).
    pub quarantined: u32,
    /// The deliverables' ids and labels, in order.
    pub deliverables: Vec<DeliverableHead>,
    /// The matrix rows.
    pub agencies: Vec<AgencyRow>,
}

impl CampaignStatus {
    /// The figures every rate is made of ([`crate::core::words::Rate`]).
    pub fn counts(&self) -> crate::core::words::Counts {
        crate::core::words::Counts {
            expected: self.expected,
            received: self.received,
            valid: self.valid,
            on_time: self.on_time,
        }
    }

    /// The same figures for the `j`th deliverable alone, counted from the matrix as the
    /// campaign's are (an exempted cell is not expected; a cell with any version is received).
    pub fn deliverable_counts(&self, j: usize) -> crate::core::words::Counts {
        let mut c = crate::core::words::Counts::default();
        for cell in self.agencies.iter().filter_map(|a| a.deliverables.get(j)) {
            if cell.state == "exempt" {
                continue;
            }
            c.expected += 1;
            if cell.version.is_some() {
                c.received += 1;
            }
            if cell.state == "accepted" {
                c.valid += 1;
            }
            if cell.late == Some(false) {
                c.on_time += 1;
            }
        }
        c
    }
}

/// A column of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct DeliverableHead {
    /// Id.
    pub id: String,
    /// Vietnamese label.
    pub label: String,
}

/// A row of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct AgencyRow {
    /// Agency code.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
    /// One cell per deliverable.
    pub deliverables: Vec<Cell>,
}

/// One agency × deliverable.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// Deliverable id.
    pub id: String,
    /// `missing`, `received`, `invalid`, `accepted` or `exempt`.
    pub state: String,
    /// Latest version.
    pub version: Option<u32>,
    /// When the first usable (else first) version arrived.
    pub received_at: Option<String>,
    /// Whether that was after the deadline.
    pub late: Option<bool>,
    /// Warnings of the latest version, when accepted with warnings.
    pub warnings: u32,
}

/// Computes the status of every campaign as of `now`.
pub fn status(store: &Store, config: &Config, now: DateTime<FixedOffset>) -> Result<Status> {
    let mut campaigns = Vec::new();
    for c in &config.campaigns {
        let rows: Vec<(String, String, u32, String, String, u32)> = store
            .db()
            .query_rows("SELECT agency, deliverable, version, received_at, state, warnings FROM versions WHERE campaign = ?1 ORDER BY agency, deliverable, version", params![&c.id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .map_err(|e| store.sql(e))?;
        let quarantined: u32 = store
            .db()
            .query_row("SELECT count(*) FROM messages WHERE outcome IN ('unknown-sender', 'probable-agency', 'unclassified', 'no-campaign', 'sender-unverified') AND (campaign = ?1 OR campaign IS NULL)", params![&c.id], |r| r.get(0))
            .map_err(|e| store.sql(e))?;
        let (mut received, mut valid, mut on_time, mut exempt) = (0, 0, 0, 0);
        let exemptions = store.exemptions(&c.id)?;
        let extensions = store.extensions(&c.id)?;
        // Grouped once: the matrix of thousands of agencies must not scan every version per cell.
        type Row = (String, String, u32, String, String, u32);
        let mut by_cell: std::collections::HashMap<(&str, &str), Vec<&Row>> = Default::default();
        for r in &rows {
            by_cell.entry((&r.0, &r.1)).or_default().push(r);
        }
        let mut agencies = Vec::new();
        for a in &c.agencies {
            let deadline = extensions.get(&a.code).copied().unwrap_or(c.deadline);
            let mut cells = Vec::new();
            for d in &c.deliverables {
                let versions: &[&Row] = by_cell
                    .get(&(a.code.as_str(), d.id.as_str()))
                    .map_or(&[], Vec::as_slice);
                let excused = exemptions.contains(&(a.code.clone(), d.id.clone()));
                let cell = match versions.last() {
                    None if excused => {
                        exempt += 1;
                        Cell {
                            id: d.id.clone(),
                            state: "exempt".into(),
                            version: None,
                            received_at: None,
                            late: None,
                            warnings: 0,
                        }
                    }
                    None => Cell {
                        id: d.id.clone(),
                        state: "missing".into(),
                        version: None,
                        received_at: None,
                        late: None,
                        warnings: 0,
                    },
                    Some(latest) => {
                        let first = versions
                            .iter()
                            .find(|v| v.4 != "invalid")
                            .unwrap_or(&versions[0]);
                        let at = DateTime::parse_from_rfc3339(&first.3).ok();
                        let late = at.map(|t| t > deadline);
                        received += 1;
                        if latest.4 == "accepted" {
                            valid += 1;
                        }
                        if late == Some(false) {
                            on_time += 1;
                        }
                        Cell {
                            id: d.id.clone(),
                            state: latest.4.clone(),
                            version: Some(latest.2),
                            received_at: Some(first.3.clone()),
                            late,
                            warnings: if latest.4 == "accepted" { latest.5 } else { 0 },
                        }
                    }
                };
                cells.push(cell);
            }
            agencies.push(AgencyRow {
                code: a.code.clone(),
                name: a.name.clone(),
                deliverables: cells,
            });
        }
        campaigns.push(CampaignStatus {
            id: c.id.clone(),
            dispatch: c.dispatch.clone(),
            title: c.title.clone(),
            deadline: c.deadline.to_rfc3339(),
            // An exempted deliverable is not expected (DHIS2: expected = units assigned).
            expected: (c.agencies.len() * c.deliverables.len()) as u32 - exempt,
            received,
            valid,
            on_time,
            quarantined,
            deliverables: c
                .deliverables
                .iter()
                .map(|d| DeliverableHead {
                    id: d.id.clone(),
                    label: d.label.clone(),
                })
                .collect(),
            agencies,
        });
    }
    let mailbox = std::fs::read(super::mailbox_state::state_file(store.dir()))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    Ok(Status {
        now: now.to_rfc3339(),
        campaigns,
        mailbox,
        more_mailboxes: super::mailbox_state::named_states(store.dir()),
        outbox: store.outbox_counts()?,
        undelivered: store.undelivered(None)?,
        problems: crate::health::read(store.dir()),
        daemons: if store.db().is_postgres() {
            store.members(super::leases::LEASE_MS)?
        } else {
            Vec::new()
        },
    })
}

/// One entry of the intake log.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Row id.
    pub id: i64,
    /// When it was logged.
    pub at: String,
    /// What happened (`received`, `filed`, `duplicate`, …).
    pub kind: String,
    /// `mailbox` or `drop`.
    pub source: String,
    /// The message row (the receipt number is made from it).
    pub message: Option<i64>,
    /// The Message-ID.
    pub message_id: Option<String>,
    /// Agency code.
    pub agency: Option<String>,
    /// Campaign id.
    pub campaign: Option<String>,
    /// Files, as JSON values.
    pub files: serde_json::Value,
    /// Details.
    pub detail: Option<String>,
    /// The staff member who acted, for audited actions.
    pub actor: Option<String>,
    /// The message's sender authentication: `pass`, `none`, `fail`, `temperror`; null for a
    /// dropped file or an event of no message.
    pub auth: Option<String>,
    /// Its evidence (DKIM signatures, SPF and DMARC results, headers ignored).
    pub auth_evidence: Option<serde_json::Value>,
}

/// Filters of the intake log.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Only this agency.
    pub agency: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<FixedOffset>>,
    /// At most this many, newest first.
    pub limit: Option<u32>,
}

/// The intake log, newest first.
pub fn events(store: &Store, filter: &LogFilter) -> Result<Vec<Event>> {
    let rows = store
        .db()
        .query_rows(
            "SELECT e.id, e.at, e.kind, e.source, e.message, e.message_id, e.agency, e.campaign, e.files, e.detail, e.actor, m.auth, m.auth_evidence
             FROM events e LEFT JOIN messages m ON m.id = e.message
             WHERE (CAST(?1 AS TEXT) IS NULL OR e.agency = ?1) ORDER BY e.id DESC",
            params![filter.agency], |r| {
            let files: Option<String> = r.get(8)?;
            Ok(Event {
                id: r.get(0)?,
                at: r.get(1)?,
                kind: r.get(2)?,
                source: r.get(3)?,
                message: r.get(4)?,
                message_id: r.get(5)?,
                agency: r.get(6)?,
                campaign: r.get(7)?,
                files: files
                    .and_then(|f| serde_json::from_str(&f).ok())
                    .unwrap_or(serde_json::Value::Null),
                detail: r.get(9)?,
                actor: r.get(10)?,
                auth: r.get(11)?,
                auth_evidence: r
                    .get::<Option<String>>(12)?
                    .and_then(|j| serde_json::from_str(&j).ok()),
            })
        })
        .map_err(|e| store.sql(e))?;
    let mut out = Vec::new();
    for e in rows {
        // Times are compared as instants: stored offsets may differ.
        if let Some(since) = filter.since
            && DateTime::parse_from_rfc3339(&e.at).is_ok_and(|at| at < since)
        {
            continue;
        }
        out.push(e);
        if filter.limit.is_some_and(|l| out.len() as u32 >= l) {
            break;
        }
    }
    Ok(out)
}

/// The agency a message held for a failed sender check claims to be from, when it is held.
pub fn held_claim(store: &Store, id: i64) -> Result<Option<String>> {
    store
        .db()
        .query_row(
            "SELECT probable FROM messages WHERE id = ?1 AND outcome = 'sender-unverified'",
            params![id],
            |r| r.get::<Option<String>>(0),
        )
        .optional()
        .map(Option::flatten)
        .map_err(|e| store.sql(e))
}

/// Counts of what the store holds, for the demo summary and tests.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Totals {
    /// Message rows.
    pub messages: u32,
    /// Versions filed.
    pub versions: u32,
    /// Receipts queued.
    pub queued: u32,
    /// Receipts handed to the transport.
    pub sent: u32,
    /// Log events.
    pub events: u32,
}

/// Counts rows.
pub fn totals(store: &Store) -> Result<Totals> {
    let q = |sql: &str| -> Result<u32> {
        store
            .db()
            .query_row(sql, params![], |r| r.get(0))
            .map_err(|e| store.sql(e))
    };
    Ok(Totals {
        messages: q("SELECT count(*) FROM messages")?,
        versions: q("SELECT count(*) FROM versions")?,
        queued: q("SELECT count(*) FROM outbox")?,
        sent: q("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")?,
        events: q("SELECT count(*) FROM events")?,
    })
}

/// The outcome of a message row.
pub fn message_outcome(store: &Store, id: i64) -> Result<String> {
    use super::db::OptionalExtension;
    store
        .db()
        .query_row(
            "SELECT outcome FROM messages WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| store.sql(e))?
        .ok_or_else(|| super::StoreError::NotFound(format!("no message {id} in the store")))
}

/// When a message row arrived.
pub fn message_arrived(store: &Store, id: i64) -> Result<DateTime<FixedOffset>> {
    let at: String = store
        .db()
        .query_row(
            "SELECT arrived_at FROM messages WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .map_err(|e| store.sql(e))?;
    Ok(DateTime::parse_from_rfc3339(&at).unwrap_or_default())
}

/// A recorded item as the fixtures' expected outcomes describe it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ItemSummary {
    /// Outcome.
    pub outcome: String,
    /// The agency filed under, or guessed for a probable one.
    pub agency: Option<String>,
    /// `address`, `domain`, `probable`, `assigned`, `folder` or `none`.
    pub agency_match: String,
    /// Whether its versions arrived late; None when nothing was filed.
    pub late: Option<bool>,
    /// Whether a receipt was queued.
    pub receipt: bool,
    /// Its files in message order.
    pub files: Vec<FileSummary>,
}

/// One file of an [`ItemSummary`].
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct FileSummary {
    /// Sanitised name.
    pub name: String,
    /// `workbook` or `document`.
    pub kind: String,
    /// Deliverable id.
    pub deliverable: Option<String>,
    /// Version filed as.
    pub version: Option<u32>,
    /// Check result.
    pub check: String,
    /// The form recognised, for a checked workbook.
    #[serde(default)]
    pub form: Option<String>,
    /// Whether the workbook holds no error finding (None when not checked).
    #[serde(default)]
    pub valid: Option<bool>,
    /// Findings as `rule@cell` (`rule` alone when no cell), in the order reported.
    #[serde(default)]
    pub findings: Vec<String>,
}

/// Summarises the item recorded under a source key.
pub fn item_summary(store: &Store, key: &str) -> Result<Option<ItemSummary>> {
    use super::db::OptionalExtension;
    let row = store
        .db()
        .query_row(
            "SELECT id, outcome, coalesce(agency, probable), agency_match FROM messages WHERE source_key = ?1",
            params![key],
            |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<Option<String>>(2)?, r.get::<String>(3)?)),
        )
        .optional()
        .map_err(|e| store.sql(e))?;
    let Some((id, outcome, agency, agency_match)) = row else {
        return Ok(None);
    };
    let late: Option<bool> = store
        .db()
        .query_row(
            "SELECT max(late) FROM versions WHERE message = ?1",
            params![id],
            |r| r.get::<Option<i64>>(0),
        )
        .map_err(|e| store.sql(e))?
        .map(|l| l != 0);
    let receipt: bool = store
        .db()
        .query_row(
            "SELECT count(*) > 0 FROM outbox WHERE message = ?1",
            params![id],
            |r| r.get(0),
        )
        .map_err(|e| store.sql(e))?;
    let rows: Vec<(i64, FileSummary, Option<i64>)> = store
        .db()
        .query_rows("SELECT id, name, kind, deliverable, version, check_result, form, errors FROM files WHERE message = ?1 ORDER BY seq", params![id], |r| {
            Ok((
                r.get(0)?,
                FileSummary {
                    name: r.get(1)?,
                    kind: r.get(2)?,
                    deliverable: r.get(3)?,
                    version: r.get(4)?,
                    check: r.get(5)?,
                    form: r.get(6)?,
                    valid: None,
                    findings: Vec::new(),
                },
                r.get(7)?,
            ))
        })
        .map_err(|e| store.sql(e))?;
    let mut files = Vec::new();
    for (file, mut summary, errors) in rows {
        summary.valid = errors.map(|e| e == 0);
        summary.findings = store
            .db()
            .query_rows(
                "SELECT rule, cell FROM findings WHERE file = ?1 ORDER BY id",
                params![file],
                |r| {
                    let (rule, cell): (String, Option<String>) = (r.get(0)?, r.get(1)?);
                    Ok(cell.map_or(rule.clone(), |c| format!("{rule}@{c}")))
                },
            )
            .map_err(|e| store.sql(e))?;
        files.push(summary);
    }
    Ok(Some(ItemSummary {
        outcome,
        agency,
        agency_match,
        late,
        receipt,
        files,
    }))
}

/// A value of a consolidated campaign.
#[derive(Debug, Clone)]
pub struct DataRow {
    /// Agency code.
    pub agency: String,
    /// Deliverable id.
    pub deliverable: String,
    /// Form sheet id.
    pub sheet: String,
    /// Indicator (row id).
    pub indicator: String,
    /// Column id.
    pub column: String,
    /// A single number, when the cell holds one.
    pub value: Option<f64>,
    /// The cell as written.
    pub text: String,
}

/// The values of each agency's latest accepted version of each deliverable.
pub fn latest_accepted_data(store: &Store, campaign: &str) -> Result<Vec<DataRow>> {
    let rows = store
        .db()
        .query_rows(
            "SELECT d.agency, d.deliverable, d.sheet, d.indicator, d.col, d.value, d.text
             FROM data d
             JOIN (SELECT agency, deliverable, max(version) AS version FROM versions
                   WHERE campaign = ?1 AND state = 'accepted' GROUP BY agency, deliverable) v
               ON v.agency = d.agency AND v.deliverable = d.deliverable AND v.version = d.version
             JOIN files f ON f.id = d.file AND f.errors = 0
             WHERE d.campaign = ?1",
            params![campaign],
            |r| {
                Ok(DataRow {
                    agency: r.get(0)?,
                    deliverable: r.get(1)?,
                    sheet: r.get(2)?,
                    indicator: r.get(3)?,
                    column: r.get(4)?,
                    value: r.get(5)?,
                    text: r.get(6)?,
                })
            },
        )
        .map_err(|e| store.sql(e))?;
    Ok(rows)
}
