//! # One ingest pass
//!
//! The executor of the pipeline: list what each source has ready, examine items (in
//! parallel, pure), then plan and record them in batches (serial, one transaction per
//! batch), make the filed-tree links, and only then acknowledge the items at their sources.
//! Items already recorded but not acknowledged (a crash in between) are acknowledged without
//! being filed again.
//!
//! Batches overlap: while one batch is recorded and acknowledged on this thread, the next is
//! being examined on the others, so the serial part of a backlog costs no time of its own.
//! Examining reads nothing of the store, so the overlap changes nothing of what is decided.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset};
use tracing::{error, info, warn};

use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::config::Config;
use crate::core::pipeline::{self, Examined, Inbound, Memo, Outcome};
use crate::panics::{self, Panic};
use crate::source::{Pending, Source};
use crate::store::leases::Fence;
use crate::store::{Ack, Recorded, Store, StoreError};
use crate::workbook::Inspector;

/// Items recorded per transaction.
const BATCH: usize = 16;
/// Bytes held in memory per batch (at least one item is always taken); two batches are in
/// hand at a time, one examined while the other is recorded.
const BATCH_BYTES: u64 = 32 << 20;
/// Failed reads of one item before staff are told in the intake log.
const REPORT_AFTER: u32 = 3;

/// What one pass did.
#[derive(Debug, Clone, Default)]
pub struct PassReport {
    /// Items recorded, by outcome.
    pub outcomes: BTreeMap<&'static str, usize>,
    /// Items found recorded but not acknowledged, now acknowledged.
    pub recovered: usize,
    /// Items that could not be read from their source (retried next pass).
    pub failed: usize,
    /// Sources that could not be listed at all this pass (`mailbox`, `drop`), with the cause.
    pub unread: Vec<(String, String)>,
}

impl PassReport {
    /// Items recorded.
    pub fn taken(&self) -> usize {
        self.outcomes.values().sum()
    }
}

/// Source items that could not be read, with how often: kept across passes by the caller so
/// a stuck item is retried, and reported to staff once it keeps failing.
#[derive(Debug, Default)]
pub struct Failures(HashMap<String, u32>);

/// Runs one pass over the sources.
#[allow(clippy::too_many_arguments)] // the pass's context, passed down unchanged
pub fn pass(
    config: &Config,
    store: &Store,
    inspector: &Inspector,
    memo: &Memo,
    authenticator: &Authenticator,
    clock: &Clock,
    sources: &mut [(&mut dyn Source, Option<Fence>)],
    failures: &mut Failures,
) -> Result<PassReport, StoreError> {
    let mut report = PassReport::default();
    for (source, fence) in sources.iter_mut() {
        let fence = fence.as_ref();
        let items = match source.pending() {
            Ok(items) => items,
            Err(e) => {
                let cause = crate::causes::chain(&e).to_string();
                warn!(source = source.name(), error = %cause, "cannot list source");
                report.unread.push((source.name().to_string(), cause));
                continue;
            }
        };
        if let Some(scan) = source.left_alone() {
            let logged = store.note_left_alone(&scan, clock.now())?;
            if logged > 0 {
                info!(
                    source = source.name(),
                    items = logged,
                    "items left alone in the drop folder (links, special, hidden, temporary or too deep)"
                );
            }
        }
        let mut fresh = Vec::new();
        for mut item in items {
            let Some(r) = store.source_record(&item.key)? else {
                fresh.push(item);
                continue;
            };
            match r.ack {
                // A file dropped again under the same name, size and time: a new item.
                Ack::Done if source.name() == "drop" => {
                    item.key = store.next_free_key(&item.key)?;
                    fresh.push(item);
                }
                Ack::Done | Ack::Never => {}
                Ack::Pending => {
                    let outcome = Outcome::parse(&r.outcome).unwrap_or(Outcome::Filed);
                    if let Err(e) = source.acknowledge(&item, outcome) {
                        warn!(key = %item.key, error = %crate::causes::chain(&e), "cannot acknowledge at source");
                        continue;
                    }
                    store.mark_acknowledged(r.id)?;
                    report.recovered += 1;
                }
            }
        }
        // A backlog shows its progress to a person at a terminal (hidden elsewhere).
        let bar = crate::progress::bar(fresh.len() as u64, "thư/tệp");
        bar.set_prefix(format!("Tiếp nhận ({})", source.name()));
        if fresh.len() < 20 {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let sizes: Vec<u64> = fresh
            .iter()
            .map(|p| {
                source.size(p).unwrap_or(0).min(
                    config
                        .limits
                        .max_message_bytes
                        .max(config.limits.max_file_bytes),
                )
            })
            .collect();
        let chunks = batches(&sizes);
        let worked = std::thread::scope(|scope| -> Result<(), StoreError> {
            // The batch being examined, and where it ends.
            let mut in_flight = None;
            for range in chunks.iter().map(Some).chain([None]) {
                let next = match range {
                    Some(range) => {
                        let loaded = load(
                            store,
                            authenticator,
                            clock,
                            &mut **source,
                            &fresh[range.clone()],
                            &mut report,
                            failures,
                        )?;
                        Some((
                            range.end,
                            scope.spawn(move || {
                                let examined = examine_all(config, inspector, memo, &loaded);
                                (loaded, examined)
                            }),
                        ))
                    }
                    None => None,
                };
                if let Some((end, examining)) = in_flight.take() {
                    let (loaded, examined) = join(examining);
                    record(
                        config,
                        store,
                        clock,
                        &mut **source,
                        fence,
                        loaded,
                        examined,
                        &mut report,
                    )?;
                    bar.set_position(end as u64);
                    crate::service::beat();
                }
                in_flight = next;
            }
            Ok(())
        });
        bar.finish_and_clear();
        match worked {
            // Another daemon holds the source now: what this pass had in hand is its to file.
            Err(StoreError::LeaseLost(name)) => {
                info!(source = %name, "the source passed to another intake process; left to it")
            }
            other => other?,
        }
    }
    Ok(report)
}

/// The items of a source split into batches: at most [`BATCH`] items and [`BATCH_BYTES`]
/// (an item larger than that is a batch of its own).
fn batches(sizes: &[u64]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < sizes.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < sizes.len() && end - start < BATCH {
            if end > start && bytes + sizes[end] > BATCH_BYTES {
                break;
            }
            bytes += sizes[end];
            end += 1;
        }
        out.push(start..end);
        start = end;
    }
    out
}

/// A batch's items with what examining found of each.
type Examining = (Vec<(Pending, Inbound)>, Vec<Examined>);

/// The batch examined: its items with what examining found.
fn join(examining: std::thread::ScopedJoinHandle<'_, Examining>) -> Examining {
    match examining.join() {
        Ok(done) => done,
        // Examining catches a panic per item; one outside them ends the pass as before.
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Loads a batch of items from their source, with who really sent each message (decided
/// once, here, and stored with it).
fn load(
    store: &Store,
    authenticator: &Authenticator,
    clock: &Clock,
    source: &mut dyn Source,
    chunk: &[Pending],
    report: &mut PassReport,
    failures: &mut Failures,
) -> Result<Vec<(Pending, Inbound)>, StoreError> {
    let taken_at = clock.now();
    let mut loaded: Vec<(Pending, Inbound)> = Vec::new();
    for p in chunk {
        match source.load(p) {
            // A dropped file arrives when intake takes it: copy tools keep old mtimes.
            Ok(mut item) => {
                if item.source == pipeline::SourceKind::Drop {
                    item.seen_at = taken_at;
                }
                failures.0.remove(&p.key);
                loaded.push((p.clone(), item));
            }
            Err(e) => {
                report.failed += 1;
                let n = failures.0.entry(p.key.clone()).or_default();
                *n += 1;
                warn!(key = %p.key, error = %crate::causes::chain(&e), attempts = *n, "cannot read item; will retry");
                if *n == REPORT_AFTER {
                    store.log_unreadable_source(
                        source.name(),
                        &p.path.display().to_string(),
                        &e.to_string(),
                        taken_at,
                    )?;
                }
            }
        }
    }
    let raws: Vec<Option<&[u8]>> = loaded
        .iter()
        .map(|(_, item)| (item.source == pipeline::SourceKind::Mailbox).then_some(&item.raw[..]))
        .collect();
    let auths = authenticator.check_all(&raws);
    for ((_, item), auth) in loaded.iter_mut().zip(auths) {
        item.auth = auth;
    }
    Ok(loaded)
}

/// Plans and records an examined batch in one transaction, makes its filed-tree links, then
/// acknowledges its items at their source.
#[allow(clippy::too_many_arguments)] // the pass's context, passed down unchanged
fn record(
    config: &Config,
    store: &Store,
    clock: &Clock,
    source: &mut dyn Source,
    fence: Option<&Fence>,
    loaded: Vec<(Pending, Inbound)>,
    examined: Vec<Examined>,
    report: &mut PassReport,
) -> Result<(), StoreError> {
    let now = clock.now();
    store.begin()?;
    if let Some(fence) = fence {
        // Checked inside the transaction, which holds the writers' lock: the lease cannot
        // pass to another daemon between this check and the commit.
        if let Err(e) = store.check_fence(fence) {
            store.rollback();
            return Err(e);
        }
    }
    let mut done = Vec::new();
    let mut links = Vec::new();
    for ((pending, item), ex) in loaded.iter().zip(&examined) {
        // With several daemons, an item another one filed since this pass listed it (before
        // the lease came here) is not filed again: the source's own key decides.
        if fence.is_some() {
            match store.source_record(&item.key) {
                Ok(None) => {}
                Ok(Some(_)) => continue,
                Err(e) => {
                    store.rollback();
                    return Err(e);
                }
            }
        }
        let result = match record_guarded(config, store, item, ex, now) {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(e)) => Err(e),
            // The item's own rows are gone with its savepoint; it is recorded again, as
            // unreadable with the panic as the reason, so that it is neither lost nor
            // examined again on every pass.
            Err(p) => {
                error!(key = %item.key, message_id = ex.envelope.message_id.as_deref().unwrap_or("-"), panic = %p.message, location = %p.location, "recording an item panicked; recorded as unreadable");
                let mut failed = internal_error(item, "ghi nhận", &p);
                failed.envelope = ex.envelope.clone();
                match record_guarded(config, store, item, &failed, now) {
                    Ok(r) => r,
                    Err(p) => {
                        // Left unrecorded: the next pass tries it again.
                        error!(key = %item.key, panic = %p.message, location = %p.location, "recording an item as unreadable panicked too; left for the next pass");
                        continue;
                    }
                }
            }
        };
        match result {
            Ok((plan, rec)) => {
                log_outcome(ex, &plan, now);
                links.extend(rec.links);
                *report.outcomes.entry(plan.outcome.as_str()).or_default() += 1;
                done.push((pending, rec.id, plan.outcome, plan.acknowledge));
            }
            Err(e) => {
                store.rollback();
                return Err(e);
            }
        }
    }
    store.commit()?;
    store.link_all(&links);
    for (pending, id, outcome, acknowledge) in done {
        if !acknowledge {
            continue;
        }
        match source.acknowledge(pending, outcome) {
            Ok(()) => store.mark_acknowledged(id)?,
            Err(e) => {
                warn!(key = %pending.key, error = %crate::causes::chain(&e), "cannot acknowledge at source; will retry")
            }
        }
    }
    Ok(())
}

/// Plans and records one examined item inside a savepoint of the batch's transaction: a
/// panic on the way rolls back the item's rows (and only them) and is returned.
fn record_guarded(
    config: &Config,
    store: &Store,
    item: &Inbound,
    ex: &Examined,
    now: DateTime<FixedOffset>,
) -> Result<Result<(pipeline::Plan, Recorded), StoreError>, Panic> {
    let sql = |e| StoreError::Sql {
        path: store.dir().join("intake.sqlite"),
        source: e,
    };
    if let Err(e) = store.db().execute_batch("SAVEPOINT item") {
        return Ok(Err(sql(e)));
    }
    let result = panics::catch(|| {
        let sure = ex.agency.sure();
        let prior = store.prior(config, ex, sure)?;
        let plan = pipeline::plan(ex, config, &prior);
        let rec = store.record(config, &item.raw, ex, &plan, now, None)?;
        // After the item's rows are written, so that the test sees them rolled back.
        #[cfg(debug_assertions)]
        if ex.failure.is_none() {
            panics::inject("record", &ex.envelope.subject);
        }
        Ok::<_, StoreError>((plan, rec))
    });
    let end = match &result {
        Ok(Ok(_)) => "RELEASE item",
        _ => "ROLLBACK TO item; RELEASE item",
    };
    if let Err(e) = store.db().execute_batch(end)
        && matches!(result, Ok(Ok(_)))
    {
        return Ok(Err(sql(e)));
    }
    result
}

/// Examines one item; a panic in doing so makes the item unreadable with the panic as the
/// reason, instead of ending the pass.
fn examine_guarded(
    item: &Inbound,
    config: &Config,
    inspector: &Inspector,
    memo: &Memo,
) -> Examined {
    match panics::catch(|| pipeline::examine(item, config, inspector, None, Some(memo))) {
        Ok(ex) => ex,
        Err(p) => {
            error!(key = %item.key, panic = %p.message, location = %p.location, "examining an item panicked; recorded as unreadable");
            let mut ex = internal_error(item, "xem xét", &p);
            // Its headers, if they can be read, tell staff whose message it is.
            if item.source == pipeline::SourceKind::Mailbox {
                let head = item
                    .raw
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map_or(item.raw.len().min(64 << 10), |p| p + 4)
                    .min(64 << 10);
                if let Ok(Ok(x)) = panics::catch(|| {
                    crate::core::extract::extract(&item.raw[..head], &config.limits)
                }) {
                    ex.arrived = x.envelope.arrived.unwrap_or(ex.arrived);
                    ex.envelope = x.envelope;
                }
            }
            ex
        }
    }
}

/// The facts of an item whose examining or recording panicked: unreadable, the panic (in the
/// staff's words, then as it was raised) as the reason.
fn internal_error(item: &Inbound, stage: &str, p: &Panic) -> Examined {
    let mut detail = format!("lỗi nội bộ khi {stage}: {}", p.message);
    if let Some((cut, _)) = detail.char_indices().nth(300) {
        detail.truncate(cut);
        detail.push('…');
    }
    detail.push_str(&format!(" ({})", p.location));
    Examined {
        source: item.source,
        key: item.key.clone(),
        raw_sha256: pipeline::sha256_hex(&item.raw),
        raw_size: item.oversize.unwrap_or(item.raw.len() as u64),
        envelope: Default::default(),
        arrived: item.seen_at,
        files: Vec::new(),
        skipped: Vec::new(),
        agency: crate::core::identify::AgencyMatch::Unknown,
        campaign: None,
        failure: Some((Outcome::Unreadable, detail)),
        auth: item.auth.clone(),
        staff_confirmed: false,
    }
}

/// Examines items on all cores: extraction and workbook reading are the costly, pure part.
fn examine_all(
    config: &Config,
    inspector: &Inspector,
    memo: &Memo,
    loaded: &[(Pending, Inbound)],
) -> Vec<Examined> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(loaded.len().max(1));
    let per = loaded.len().div_ceil(workers.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = loaded
            .chunks(per)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(_, item)| examine_guarded(item, config, inspector, memo))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a panic in examining is caught per item"))
            .collect()
    })
}

fn log_outcome(ex: &Examined, plan: &pipeline::Plan, now: DateTime<FixedOffset>) {
    info!(
        outcome = plan.outcome.as_str(),
        key = %ex.key,
        message_id = ex.envelope.message_id.as_deref().unwrap_or("-"),
        agency = plan.agency.as_deref().unwrap_or("-"),
        files = ex.files.len(),
        versions = plan.versions.len(),
        at = %now,
        "item recorded"
    );
}

/// Attributes a recorded message to an agency on staff's word, and files it as if it had
/// come from that agency's address. A message held because its sender failed authentication
/// (`sender-unverified`) is released this way, with the reason written to the log. Returns
/// the new message row.
#[allow(clippy::too_many_arguments)] // who, what, why: each its own argument
pub fn assign(
    config: &Config,
    store: &Store,
    inspector: &Inspector,
    clock: &Clock,
    message: i64,
    agency: &str,
    actor: &str,
    reason: Option<&str>,
) -> Result<(i64, Outcome), AssignError> {
    if config.agency(agency).is_none() {
        return Err(AssignError::NoSuchAgency(agency.into()));
    }
    let (raw, source, key) = store.raw(message)?;
    let outcome: String = crate::store::query::message_outcome(store, message)?;
    if !matches!(
        outcome.as_str(),
        "unknown-sender" | "probable-agency" | "no-campaign" | "unclassified" | "sender-unverified"
    ) {
        return Err(AssignError::NotAssignable(message, outcome));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if outcome == "sender-unverified" && reason.is_none() {
        return Err(AssignError::ReasonRequired(message));
    }
    let item = Inbound {
        source: if source == "drop" {
            pipeline::SourceKind::Drop
        } else {
            pipeline::SourceKind::Mailbox
        },
        key: key.clone(),
        raw,
        seen_at: crate::store::query::message_arrived(store, message)?,
        file_name: key
            .strip_prefix("drop:")
            .and_then(|k| k.split(':').next())
            .and_then(|p| p.rsplit('/').next())
            .map(str::to_string),
        folder_agency: None,
        oversize: None,
        // The verdict stays the one decided when the message came in.
        auth: store.message_auth(message)?,
    };
    let now = clock.now();
    store.begin()?;
    let result = (|| {
        let new_key = store.supersede(message)?;
        let mut ex = pipeline::examine(&item, config, inspector, Some(agency), None);
        ex.key = new_key;
        let prior = store.prior(config, &ex, Some(agency))?;
        let mut prior = prior;
        prior.duplicate_of = None;
        prior.same_message_id = None;
        let plan = pipeline::plan(&ex, config, &prior);
        let rec = store.record(config, &item.raw, &ex, &plan, now, Some(actor))?;
        store.mark_acknowledged(rec.id)?;
        if outcome == "sender-unverified" {
            store.log_release(
                message,
                rec.id,
                agency,
                reason.unwrap_or_default(),
                actor,
                now,
            )?;
        }
        Ok::<_, StoreError>((rec, plan.outcome))
    })();
    match result {
        Ok((rec, outcome)) => {
            store.commit()?;
            store.link_all(&rec.links);
            Ok((rec.id, outcome))
        }
        Err(e) => {
            store.rollback();
            Err(e.into())
        }
    }
}

/// Why staff's attribution was refused.
#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    /// The code is not on any roster.
    #[error("no agency with code \"{0}\" in the configured campaigns")]
    NoSuchAgency(String),
    /// Releasing a message held for a failed authentication needs a reason for the log.
    #[error(
        "message {0} was held because its sender failed authentication; give the reason for releasing it (--reason)"
    )]
    ReasonRequired(i64),
    /// The message is not waiting for staff.
    #[error(
        "message {0} has outcome \"{1}\"; only quarantined or probable messages can be assigned"
    )]
    NotAssignable(i64, String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
