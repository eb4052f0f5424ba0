//! # One ingest pass
//!
//! The executor of the pipeline: list what each source has ready, examine items (in
//! parallel, pure), then plan and record them in batches (serial, one transaction per
//! batch), make the filed-tree links, and only then acknowledge the items at their sources.
//! Items already recorded but not acknowledged (a crash in between) are acknowledged without
//! being filed again.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::Config;
use crate::pipeline::{self, Examined, Inbound, Outcome};
use crate::source::{Pending, Source};
use crate::store::{Store, StoreError};
use crate::workbook::Inspector;

/// Items recorded per transaction.
const BATCH: usize = 64;

/// What one pass did.
#[derive(Debug, Clone, Default)]
pub struct PassReport {
    /// Items recorded, by outcome.
    pub outcomes: BTreeMap<&'static str, usize>,
    /// Items found recorded but not acknowledged, now acknowledged.
    pub recovered: usize,
    /// Items that could not be read from their source (retried next pass).
    pub failed: usize,
}

impl PassReport {
    /// Items recorded.
    pub fn taken(&self) -> usize {
        self.outcomes.values().sum()
    }
}

/// Runs one pass over the sources.
pub fn pass(
    config: &Config,
    store: &Store,
    inspector: &Inspector,
    clock: &Clock,
    sources: &mut [&mut dyn Source],
) -> Result<PassReport, StoreError> {
    let mut report = PassReport::default();
    for source in sources.iter_mut() {
        let items = match source.pending() {
            Ok(items) => items,
            Err(e) => {
                warn!(source = source.name(), error = %e, "cannot list source");
                continue;
            }
        };
        let mut fresh = Vec::new();
        for item in items {
            match store.source_record(&item.key)? {
                None => fresh.push(item),
                Some(r)
                    if r.acknowledged
                        || Outcome::parse(&r.outcome).is_some_and(|o| !o.acknowledges()) => {}
                Some(r) => {
                    let outcome = Outcome::parse(&r.outcome).unwrap_or(Outcome::Filed);
                    if let Err(e) = source.acknowledge(&item, outcome) {
                        warn!(key = %item.key, error = %e, "cannot acknowledge at source");
                        continue;
                    }
                    store.mark_acknowledged(r.id)?;
                    report.recovered += 1;
                }
            }
        }
        for chunk in fresh.chunks(BATCH) {
            batch(
                config,
                store,
                inspector,
                clock,
                &mut **source,
                chunk,
                &mut report,
            )?;
        }
    }
    Ok(report)
}

fn batch(
    config: &Config,
    store: &Store,
    inspector: &Inspector,
    clock: &Clock,
    source: &mut dyn Source,
    chunk: &[Pending],
    report: &mut PassReport,
) -> Result<(), StoreError> {
    let taken_at = clock.now();
    let loaded: Vec<(Pending, Inbound)> = chunk
        .iter()
        .filter_map(|p| match source.load(p) {
            // A dropped file arrives when intake takes it: copy tools keep old mtimes.
            Ok(mut item) => {
                if item.source == pipeline::SourceKind::Drop {
                    item.seen_at = taken_at;
                }
                Some((p.clone(), item))
            }
            Err(e) => {
                warn!(key = %p.key, error = %e, "cannot read item; will retry");
                report.failed += 1;
                None
            }
        })
        .collect();
    let examined = examine_all(config, inspector, &loaded);

    let now = clock.now();
    store.begin()?;
    let mut done = Vec::new();
    let mut links = Vec::new();
    for ((pending, item), ex) in loaded.iter().zip(&examined) {
        let result = (|| {
            let sure = ex.agency.sure();
            let prior = store.prior(ex, sure)?;
            let plan = pipeline::plan(ex, config, &prior);
            let rec = store.record(config, &item.raw, ex, &plan, now, None)?;
            Ok::<_, StoreError>((plan, rec))
        })();
        match result {
            Ok((plan, rec)) => {
                log_outcome(ex, &plan, now);
                links.extend(rec.links);
                *report.outcomes.entry(plan.outcome.as_str()).or_default() += 1;
                done.push((pending, rec.id, plan.outcome));
            }
            Err(e) => {
                store.rollback();
                return Err(e);
            }
        }
    }
    store.commit()?;
    store.link_all(&links)?;
    for (pending, id, outcome) in done {
        if !outcome.acknowledges() {
            continue;
        }
        match source.acknowledge(pending, outcome) {
            Ok(()) => store.mark_acknowledged(id)?,
            Err(e) => {
                warn!(key = %pending.key, error = %e, "cannot acknowledge at source; will retry")
            }
        }
    }
    Ok(())
}

/// Examines items on all cores: extraction and workbook reading are the costly, pure part.
fn examine_all(
    config: &Config,
    inspector: &Inspector,
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
                        .map(|(_, item)| pipeline::examine(item, config, inspector, None))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("examining an item does not panic"))
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
/// come from that agency's address. Returns the new message row.
pub fn assign(
    config: &Config,
    store: &Store,
    inspector: &Inspector,
    clock: &Clock,
    message: i64,
    agency: &str,
    actor: &str,
) -> Result<(i64, Outcome), AssignError> {
    if config.agency(agency).is_none() {
        return Err(AssignError::NoSuchAgency(agency.into()));
    }
    let (raw, source, key) = store.raw(message)?;
    let outcome: String = crate::store::query::message_outcome(store, message)?;
    if !matches!(
        outcome.as_str(),
        "unknown-sender" | "probable-agency" | "no-campaign" | "filed"
    ) {
        return Err(AssignError::NotAssignable(message, outcome));
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
    };
    let now = clock.now();
    store.begin()?;
    let result = (|| {
        let new_key = store.supersede(message)?;
        let mut ex = pipeline::examine(&item, config, inspector, Some(agency));
        ex.key = new_key;
        let prior = store.prior(&ex, Some(agency))?;
        let mut prior = prior;
        prior.duplicate_of = None;
        let plan = pipeline::plan(&ex, config, &prior);
        let rec = store.record(config, &item.raw, &ex, &plan, now, Some(actor))?;
        store.mark_acknowledged(rec.id)?;
        Ok::<_, StoreError>((rec, plan.outcome))
    })();
    match result {
        Ok((rec, outcome)) => {
            store.commit()?;
            store.link_all(&rec.links)?;
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
    /// The message is not waiting for staff.
    #[error(
        "message {0} has outcome \"{1}\"; only quarantined or probable messages can be assigned"
    )]
    NotAssignable(i64, String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
