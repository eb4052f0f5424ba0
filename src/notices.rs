//! # Reminders and the staff digest, queued
//!
//! The executor around [`crate::core::reminder`]'s pure decisions: it reads who still owes what
//! (the status matrix), which steps each agency has had, and queues reminders (with the
//! blank forms of what is missing) and the day's digest into the outbox, each in one
//! transaction with the record that keeps it from happening twice. Reminders still waiting in
//! the outbox for an agency that has since sent everything are cancelled. The outbox sender
//! delivers what is queued.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use tracing::{info, warn};

use crate::config::{Campaign, Config};
use crate::core::letters::{
    AgencyCtx, CampaignCtx, DepartmentCtx, DigestCampaignCtx, DigestCtx, FailedMailCtx, InvalidCtx,
    MissingCtx, OwedCtx, QuarantinedCtx, RateNames, ReminderCtx,
};
use crate::core::reminder::{self, Step, StepDecision};
use crate::core::templates::TemplateKind;
use crate::core::words::{self, Rates, time_left, when};
use crate::store::mail::NewMail;
use crate::store::query::{self, CampaignStatus};
use crate::store::{Store, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// The content type of an xlsx attachment.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// One reminder step of one agency, as decided (or to be decided) at an instant.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Campaign id.
    pub campaign: String,
    /// Agency code.
    pub agency: String,
    /// The step.
    pub step: Step,
    /// `send`, `skip` or `wait` (due later, or outside office hours).
    pub action: &'static str,
    /// Why a step is skipped.
    pub reason: Option<&'static str>,
    /// What the agency owes, by label.
    pub owes: Vec<String>,
    /// Where it would go (comma-separated), empty when the agency has no address.
    pub to: String,
}

/// What one round of notices did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeReport {
    /// Reminders queued.
    pub reminders: usize,
    /// Steps skipped (superseded, stale, no address).
    pub skipped: usize,
    /// Waiting reminders cancelled because the agency has sent everything.
    pub cancelled: usize,
    /// The digest was queued.
    pub digest: bool,
}

/// Deliverables staff excused, per campaign: (agency, deliverable).
type Excused = HashMap<String, HashSet<(String, String)>>;

fn excused(config: &Config, store: &Store) -> Result<Excused> {
    config
        .campaigns
        .iter()
        .map(|c| Ok((c.id.clone(), store.exemptions(&c.id)?)))
        .collect()
}

/// What an agency owes in a campaign: (deliverable index, state) of every deliverable that
/// is not accepted and that staff have not excused (an excused one is owed no more, even
/// when an invalid version of it came in).
fn owed(status: &CampaignStatus, agency: &str, excused: &Excused) -> Vec<(usize, String)> {
    let none = HashSet::new();
    let excused = excused.get(&status.id).unwrap_or(&none);
    status
        .agencies
        .iter()
        .find(|a| a.code == agency)
        .map(|a| {
            a.deliverables
                .iter()
                .enumerate()
                .filter(|(_, c)| matches!(c.state.as_str(), "missing" | "received" | "invalid"))
                .filter(|(_, c)| !excused.contains(&(agency.to_string(), c.id.clone())))
                .map(|(i, c)| (i, c.state.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Every agency's reminder steps at `now`: those to send or skip now, and those still ahead.
pub fn plan(config: &Config, store: &Store, now: DateTime<FixedOffset>) -> Result<Vec<Planned>> {
    let status = query::status(store, config, now)?;
    let excused = excused(config, store)?;
    let mut out = Vec::new();
    for c in &config.campaigns {
        if c.reminders.days.is_empty() {
            continue;
        }
        let Some(cs) = status.campaigns.iter().find(|s| s.id == c.id) else {
            continue;
        };
        let extensions = store.extensions(&c.id)?;
        for a in &c.agencies {
            let owes = owed(cs, &a.code, &excused);
            if owes.is_empty() {
                continue;
            }
            let deadline = extensions.get(&a.code).copied().unwrap_or(c.deadline);
            let steps = reminder::schedule(&c.reminders, &config.office, config.timezone, deadline);
            let decided = store.reminder_steps(&c.id, &a.code)?;
            let decisions = reminder::decide(
                &steps,
                &decided,
                &c.reminders,
                &config.office,
                config.timezone,
                c.closes,
                now,
            );
            let labels: Vec<String> = owes
                .iter()
                .map(|(i, _)| c.deliverables[*i].label.clone())
                .collect();
            let to = a.addresses.join(", ");
            let mut decided_now = HashSet::new();
            for d in decisions {
                let (step, action, reason) = match d {
                    StepDecision::Send(s) if to.is_empty() => (s, "skip", Some("no-address")),
                    StepDecision::Send(s) => (s, "send", None),
                    StepDecision::Skip(s, why) => (s, "skip", Some(why)),
                };
                decided_now.insert(step.days);
                out.push(Planned {
                    campaign: c.id.clone(),
                    agency: a.code.clone(),
                    step,
                    action,
                    reason,
                    owes: labels.clone(),
                    to: to.clone(),
                });
            }
            for s in steps {
                if !decided.contains(&s.days) && !decided_now.contains(&s.days) {
                    out.push(Planned {
                        campaign: c.id.clone(),
                        agency: a.code.clone(),
                        step: s,
                        action: "wait",
                        reason: None,
                        owes: labels.clone(),
                        to: to.clone(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Queues the reminders and the digest due at `now`, and cancels reminders no longer needed.
pub fn run(config: &Config, store: &Store, now: DateTime<FixedOffset>) -> Result<NoticeReport> {
    let mut report = NoticeReport {
        cancelled: cancel_unneeded(config, store, now)?,
        ..NoticeReport::default()
    };
    let planned = plan(config, store, now)?;
    let status = query::status(store, config, now)?;
    for p in planned.iter().filter(|p| p.action != "wait") {
        let Some(c) = config.campaign(&p.campaign) else {
            continue;
        };
        store.begin()?;
        let done = if p.action == "send" {
            queue_reminder(config, store, c, &status, p, now)
        } else {
            store
                .decide_reminder(
                    &p.campaign,
                    &p.agency,
                    p.step.days,
                    p.step.due_at,
                    "skipped",
                    p.reason,
                    None,
                    now,
                )
                .map(|_| ())
        };
        match done.and_then(|_| store.commit()) {
            Ok(()) if p.action == "send" => {
                info!(campaign = %p.campaign, agency = %p.agency, step = p.step.days, "reminder queued");
                report.reminders += 1;
            }
            Ok(()) => report.skipped += 1,
            Err(e) => {
                store.rollback();
                return Err(e);
            }
        }
    }
    report.digest = digest(config, store, &status, now)?;
    Ok(report)
}

fn queue_reminder(
    config: &Config,
    store: &Store,
    c: &Campaign,
    status: &query::Status,
    p: &Planned,
    now: DateTime<FixedOffset>,
) -> Result<()> {
    let tz = config.timezone;
    let Some(agency) = c.agencies.iter().find(|a| a.code == p.agency) else {
        return Ok(());
    };
    // Inside the transaction: a step decided meanwhile (by another run) is not queued again.
    if store
        .reminder_steps(&c.id, &agency.code)?
        .contains(&p.step.days)
    {
        return Ok(());
    }
    let cs = status.campaigns.iter().find(|s| s.id == c.id);
    let excused = excused(config, store)?;
    let owes = cs
        .map(|cs| owed(cs, &p.agency, &excused))
        .unwrap_or_default();
    let extension = store.extension(&c.id, &agency.code)?;
    let deadline = extension.unwrap_or(c.deadline);
    let mut attachments = Vec::new();
    let mut missing = Vec::new();
    for (i, state) in owes {
        let d = &c.deliverables[i];
        let mut owed = OwedCtx {
            label: d.label.clone(),
            name: d.name.clone(),
            state: match state.as_str() {
                "invalid" => "invalid",
                "received" => "report-only",
                _ => "missing",
            },
            version: None,
            received_at: None,
            errors: None,
            reason: None,
            findings: Vec::new(),
            form: None,
        };
        if owed.state == "invalid" {
            if let Some(v) = store.latest_version(&c.id, &agency.code, &d.id, 5)? {
                owed.version = Some(v.version);
                owed.received_at = Some(when(v.received_at, tz));
                owed.errors = Some(v.errors);
                owed.reason = Some(words::invalid_reason(v.errors, &v.checks));
                owed.findings = v
                    .findings
                    .into_iter()
                    .map(|(error, sheet, cell, text)| {
                        let level = if error { "Lỗi" } else { "Cảnh báo" };
                        match cell {
                            Some(cell) => format!("{level} ô {cell} (biểu {sheet}): {text}"),
                            None => format!("{level} (biểu {sheet}): {text}"),
                        }
                    })
                    .collect();
            }
        } else if c.reminders.attach_forms
            && let Some(spec) = &d.spec
        {
            match crate::core::forms::blank::blank_form(
                spec,
                Some((&agency.code, agency.kind, &agency.name)),
            ) {
                Ok(bytes) => {
                    let sha = crate::core::pipeline::sha256_hex(&bytes);
                    store
                        .objects()
                        .put(&sha, &bytes)
                        .map_err(|e| StoreError::Io {
                            path: store.objects().describe(&sha),
                            source: e,
                        })?;
                    let name = words::blank_form_name(&d.label, &agency.name);
                    owed.form = Some(name.clone());
                    attachments.push((sha, name, XLSX.to_string()));
                }
                Err(e) => {
                    warn!(form = %spec.id, error = %crate::causes::chain(&e), "blank form not attached to the reminder")
                }
            }
        }
        missing.push(owed);
    }
    // A reminder of an earlier step still waiting (the server was down) is replaced by this one.
    store.cancel_waiting_reminders(
        &c.id,
        &agency.code,
        &format!(
            "cancelled: superseded by the reminder of step {:+}",
            p.step.days
        ),
        now,
    )?;
    let id = store.queue_mail(
        &NewMail {
            kind: "reminder",
            message: None,
            agency: Some(agency.code.clone()),
            to: p.to.clone(),
            subject: String::new(),
            body: String::new(),
            attachments: attachments.clone(),
        },
        now,
    )?;
    let ctx = ReminderCtx {
        department: DepartmentCtx::of(&config.department),
        campaign: CampaignCtx::of(c, tz),
        agency: AgencyCtx {
            code: agency.code.clone(),
            name: agency.name.clone(),
        },
        number: reminder_number(id),
        step_days: p.step.days,
        step_kind: reminder::step_kind(p.step.days),
        deadline: when(deadline, tz),
        extension: extension.map(|e| when(e, tz)),
        overdue: now >= deadline,
        time_left: time_left(deadline, now, tz),
        missing,
        attachments: attachments.iter().map(|(_, n, _)| n.clone()).collect(),
        sent_at: when(now, tz),
    };
    let rendered = config
        .templates
        .render_or_default(TemplateKind::Reminder, &ctx);
    store.set_mail_text(id, &rendered.subject, &rendered.body)?;
    store.decide_reminder(
        &c.id,
        &agency.code,
        p.step.days,
        p.step.due_at,
        "queued",
        None,
        Some(id),
        now,
    )?;
    store.log_notice(
        now,
        "reminder-queued",
        Some(&agency.code),
        Some(&c.id),
        &format!(
            "{} ({}): {}",
            reminder_number(id),
            p.step.days,
            p.owes.join(", ")
        ),
    )?;
    Ok(())
}

/// The number a reminder is known by.
pub fn reminder_number(id: i64) -> String {
    format!("NN-{id:06}")
}

/// Cancels reminders waiting in the outbox for agencies that now owe nothing.
fn cancel_unneeded(config: &Config, store: &Store, now: DateTime<FixedOffset>) -> Result<usize> {
    let waiting = store.waiting_reminders()?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let status = query::status(store, config, now)?;
    let excused = excused(config, store)?;
    let mut n = 0;
    for (id, campaign, agency) in waiting {
        let still = status
            .campaigns
            .iter()
            .find(|c| c.id == campaign)
            .is_some_and(|c| !owed(c, &agency, &excused).is_empty());
        if !still {
            store.mark_undeliverable(
                id,
                "reminder-cancelled",
                "cancelled: the agency has sent everything",
                false,
                now,
            )?;
            n += 1;
        }
    }
    Ok(n)
}

/// Queues today's digest when it is due; true when it was queued.
fn digest(
    config: &Config,
    store: &Store,
    status: &query::Status,
    now: DateTime<FixedOffset>,
) -> Result<bool> {
    let Some(d) = &config.digest else {
        return Ok(false);
    };
    let tz = config.timezone;
    let local = now.with_timezone(&tz);
    let day = local.date_naive().format("%Y-%m-%d").to_string();
    let open: Vec<&Campaign> = config
        .campaigns
        .iter()
        .filter(|c| c.is_open_at(now))
        .collect();
    let last = store.last_digest()?;
    if open.is_empty()
        || local.time() < d.at
        || !reminder::in_office_hours(&config.office, tz, now)
        || last.as_ref().is_some_and(|(l, _)| *l >= day)
    {
        return Ok(false);
    }
    let since = last
        .map(|(_, at)| at)
        .unwrap_or(now - chrono::TimeDelta::days(1));
    let ctx = digest_context(config, store, status, &open, since, now)?;
    let rendered = config
        .templates
        .render_or_default(TemplateKind::Digest, &ctx);
    store.begin()?;
    let queued = (|| {
        // Inside the transaction: a digest queued meanwhile (by another daemon) is the day's.
        if store.last_digest()?.is_some_and(|(l, _)| l >= day) {
            return Ok(false);
        }
        store.cancel_waiting_digests(
            &format!("cancelled: superseded by the digest of {day}"),
            now,
        )?;
        let id = store.queue_mail(
            &NewMail {
                kind: "digest",
                message: None,
                agency: None,
                to: d.to.join(", "),
                subject: rendered.subject.clone(),
                body: rendered.body.clone(),
                attachments: Vec::new(),
            },
            now,
        )?;
        store.record_digest(&day, id, now)?;
        store.log_notice(
            now,
            "digest-queued",
            None,
            None,
            &format!("{day} → {}", d.to.join(", ")),
        )?;
        Ok(true)
    })();
    match queued.and_then(|q| store.commit().map(|_| q)) {
        Ok(false) => Ok(false),
        Ok(true) => {
            info!(day = %day, "staff digest queued");
            Ok(true)
        }
        Err(e) => {
            store.rollback();
            Err(e)
        }
    }
}

/// The digest's context: open campaigns' figures, and what happened since `since`.
pub fn digest_context(
    config: &Config,
    store: &Store,
    status: &query::Status,
    open: &[&Campaign],
    since: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
) -> Result<DigestCtx> {
    let tz = config.timezone;
    let excused = excused(config, store)?;
    let mut campaigns = Vec::new();
    for c in open {
        let Some(cs) = status.campaigns.iter().find(|s| s.id == c.id) else {
            continue;
        };
        let missing = c
            .agencies
            .iter()
            .filter_map(|a| {
                let owes = owed(cs, &a.code, &excused);
                (!owes.is_empty()).then(|| MissingCtx {
                    name: a.name.clone(),
                    owes: owes
                        .iter()
                        .map(|(i, _)| c.deliverables[*i].label.clone())
                        .collect(),
                })
            })
            .collect();
        campaigns.push(DigestCampaignCtx {
            campaign: CampaignCtx::of(c, tz),
            overdue: now >= c.deadline,
            time_left: time_left(c.deadline, now, tz),
            expected: cs.expected,
            received: cs.received,
            valid: cs.valid,
            on_time: cs.on_time,
            rates: Rates::of(&cs.counts()),
            rate_names: RateNames::new(),
            missing,
        });
    }
    let names: HashMap<&str, &str> = config
        .agencies()
        .iter()
        .map(|a| (a.code.as_str(), a.name.as_str()))
        .collect();
    let labels: HashMap<(&str, &str), &str> = config
        .campaigns
        .iter()
        .flat_map(|c| {
            c.deliverables
                .iter()
                .map(move |d| ((c.id.as_str(), d.id.as_str()), d.label.as_str()))
        })
        .collect();
    let parse = |s: &str| DateTime::parse_from_rfc3339(s).unwrap_or_default();
    let new_invalid = store
        .invalid_since(since)?
        .into_iter()
        .map(|v| InvalidCtx {
            number: crate::store::receipt_number(v.message),
            agency: names
                .get(v.agency.as_str())
                .map_or(v.agency.clone(), |n| n.to_string()),
            deliverable: labels
                .get(&(v.campaign.as_str(), v.deliverable.as_str()))
                .map_or(v.deliverable.clone(), |l| l.to_string()),
            version: v.version,
            at: when(v.arrived_at, tz),
            errors: v.errors,
            reason: words::invalid_reason(v.errors, &v.checks),
        })
        .collect();
    let quarantined = store
        .waiting_for_staff()?
        .into_iter()
        .map(|w| QuarantinedCtx {
            number: crate::store::receipt_number(w.id),
            from: w.from,
            subject: crate::core::text::bounded(&w.subject, 200),
            outcome: words::event(&w.outcome),
            probable: w
                .probable
                .and_then(|p| names.get(p.as_str()).map(|n| n.to_string())),
            at: when(w.arrived_at, tz),
        })
        .collect();
    let failed_mail = store
        .undelivered(Some(since))?
        .into_iter()
        .filter_map(|u| {
            Some(FailedMailCtx {
                at: when(parse(u.failed_at.as_deref()?), tz),
                to: u.to,
                subject: u.subject,
                error: words::mail_error(u.error.as_deref().unwrap_or_default()),
            })
        })
        .collect();
    Ok(DigestCtx {
        department: DepartmentCtx::of(&config.department),
        date: words::day(now.with_timezone(&tz).date_naive()),
        now: when(now, tz),
        since: when(since, tz),
        campaigns,
        new_invalid,
        quarantined,
        failed_mail,
        problems: status
            .problems
            .iter()
            .map(|p| words::problem(p, tz))
            .collect(),
    })
}

/// After an extension: forgets the agency's reminder steps that fall after `now` under its new
/// deadline, so that they go again before it (a step already past stays decided).
pub fn reopen_after_extension(
    config: &Config,
    store: &Store,
    campaign: &Campaign,
    agency: &str,
    until: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
) -> Result<usize> {
    let ahead: Vec<i32> =
        reminder::schedule(&campaign.reminders, &config.office, config.timezone, until)
            .into_iter()
            .filter(|s| s.due_at > now)
            .map(|s| s.days)
            .collect();
    store.reopen_reminder_steps(&campaign.id, agency, &ahead)
}
