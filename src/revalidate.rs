//! # Re-validation after a form change
//!
//! When staff fix a form specification (a wrong bound, a rule turned into a warning), every
//! stored workbook of the campaign is checked again against the current specs: findings,
//! values and the annotated copy are replaced, each version's state is recomputed, and every
//! changed outcome is written to the intake log. Nothing is re-filed and nothing is sent.

use crate::store::db::params;
use chrono::{DateTime, FixedOffset};

use crate::config::Config;
use crate::core::forms::annotate;
use crate::core::forms::spec::Severity;
use crate::core::forms::validate::From;
use crate::core::pipeline::{Validation, check};
use crate::store::{Store, StoreError};
use crate::workbook::Inspector;

/// What a re-validation changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revalidated {
    /// Workbooks checked again.
    pub checked: usize,
    /// Workbooks whose outcome (valid, errors, warnings) changed.
    pub changed: usize,
    /// Versions whose state changed.
    pub versions_changed: usize,
}

struct StoredWorkbook {
    file: i64,
    sha256: String,
    name: String,
    agency: Option<String>,
    deliverable: Option<String>,
    version: Option<u32>,
    message: i64,
    errors: Option<i64>,
    warnings: Option<i64>,
}

/// Re-validates the stored workbooks of a campaign.
pub fn revalidate(
    config: &Config,
    store: &Store,
    inspector: &Inspector,
    campaign_id: &str,
    actor: &str,
    now: DateTime<FixedOffset>,
) -> Result<Revalidated, StoreError> {
    let Some(campaign) = config.campaign(campaign_id) else {
        return Err(StoreError::NotFound(format!(
            "no campaign \"{campaign_id}\""
        )));
    };
    let workbooks = stored_workbooks(store, campaign_id)?;
    let mut out = Revalidated::default();
    let bar = crate::progress::bar(workbooks.len() as u64, "biểu");
    bar.set_prefix("Kiểm tra lại");
    store.begin()?;
    let result = (|| {
        for w in &workbooks {
            bar.inc(1);
            let bytes = store.objects().get(&w.sha256).map_err(|e| StoreError::Io {
                path: store.objects().describe(&w.sha256),
                source: e,
            })?;
            let Some(format) = crate::workbook::sniff(&bytes, &w.name) else {
                continue;
            };
            let from = w
                .agency
                .as_deref()
                .and_then(|c| campaign.agencies.iter().find(|a| a.code == c))
                .map(|a| From {
                    code: &a.code,
                    kind: a.kind,
                });
            let Ok(checked) = check::check(&bytes, format, inspector, campaign, from) else {
                continue;
            };
            out.checked += 1;
            let annotated = (!checked.findings.is_empty())
                .then(|| {
                    let submission = annotate::Submission {
                        bytes: &bytes,
                        format,
                        grid: &checked.grid,
                        digest: checked.copy_digest.as_deref(),
                    };
                    annotate::marked_copy(
                        &submission,
                        &checked.findings,
                        check::spec_of(campaign, checked.form.as_deref()),
                        &format!("Kết quả kiểm tra {}", w.name),
                    )
                    .ok()
                })
                .flatten()
                .map(|copy| copy.bytes);
            let v = Validation {
                form: checked.form.clone(),
                form_version: checked.form_version,
                by: None,
                valid: checked.valid,
                findings: checked.findings.clone(),
                data: checked.data.clone(),
                annotated,
            };
            let (errors, warnings) = (
                v.count(Severity::Error) as i64,
                v.count(Severity::Warning) as i64,
            );
            if (Some(errors), Some(warnings)) != (w.errors, w.warnings) {
                out.changed += 1;
                let before = match w.errors {
                    Some(0) => "hợp lệ".to_string(),
                    Some(e) => format!("{e} lỗi"),
                    None => "chưa kiểm tra".to_string(),
                };
                let after = if errors == 0 {
                    "hợp lệ".to_string()
                } else {
                    format!("{errors} lỗi")
                };
                store.log_revalidated(
                    w.message,
                    w.agency.as_deref(),
                    campaign_id,
                    &w.name,
                    &format!(
                        "{before}, {} cảnh báo → {after}, {warnings} cảnh báo",
                        w.warnings.unwrap_or(0)
                    ),
                    actor,
                    now,
                )?;
            }
            store.replace_validation(w.file, &v, filed_as(w), campaign_id)?;
        }
        out.versions_changed = store.recompute_states(campaign_id)?;
        Ok::<_, StoreError>(())
    })();
    bar.finish_and_clear();
    match result {
        Ok(()) => {
            store.commit()?;
            Ok(out)
        }
        Err(e) => {
            store.rollback();
            Err(e)
        }
    }
}

/// The (agency, deliverable, version) a workbook was filed as, when it was.
fn filed_as(w: &StoredWorkbook) -> Option<(String, String, u32)> {
    Some((w.agency.clone()?, w.deliverable.clone()?, w.version?))
}

fn stored_workbooks(store: &Store, campaign: &str) -> Result<Vec<StoredWorkbook>, StoreError> {
    store.query_rows(
        "SELECT f.id, f.sha256, f.name, m.agency, f.deliverable, f.version, m.id, f.errors, f.warnings
         FROM files f JOIN messages m ON m.id = f.message
         WHERE m.campaign = ?1 AND f.kind = 'workbook' AND f.check_result = 'ok' ORDER BY f.id",
        params![campaign],
        |r| {
            Ok(StoredWorkbook {
                file: r.get(0)?,
                sha256: r.get(1)?,
                name: r.get(2)?,
                agency: r.get(3)?,
                deliverable: r.get(4)?,
                version: r.get(5)?,
                message: r.get(6)?,
                errors: r.get(7)?,
                warnings: r.get(8)?,
            })
        },
    )
}
