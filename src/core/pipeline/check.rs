//! # Checking one workbook against a campaign's forms
//!
//! The glue the pipeline, revalidation and `intake validate` share: read every cell within
//! limits, recognise the form among the campaign's, validate it for the sending agency, and
//! say which deliverable it is. It lives with the pipeline, above the configuration whose
//! campaigns it reads; the forms below know no campaign.

use crate::config::Campaign;
use crate::core::forms::check::unlegacy;
use crate::core::forms::recognise::{self, Recognised, RecognisedBy};
use crate::core::forms::spec::Severity;
use crate::core::forms::validate::{self, Datum, Finding, From};
use crate::workbook::{Grid, InspectError, Inspector, WorkbookFormat};

/// The result of checking one workbook.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The deliverable whose form it is, when recognised.
    pub deliverable: Option<String>,
    /// The form id.
    pub form: Option<String>,
    /// The form's version (of the spec it was checked against).
    pub form_version: Option<u32>,
    /// How it was recognised.
    pub by: Option<RecognisedBy>,
    /// Confidence of the recognition, 0..=1.
    pub confidence: f64,
    /// No error findings.
    pub valid: bool,
    /// Findings.
    pub findings: Vec<Finding>,
    /// Values read, for consolidation.
    pub data: Vec<Datum>,
    /// The cells, for the marked copy.
    pub grid: Grid,
    /// The `intake_copy` digest of the cells as read, before legacy text was converted: the
    /// mark of a copy that keeps the file's own cells (see [`crate::core::forms::annotate::Submission`]).
    pub copy_digest: Option<String>,
}

impl Checked {
    /// Number of findings of a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// Reads, recognises and validates a workbook among a campaign's forms.
pub fn check(
    bytes: &[u8],
    format: WorkbookFormat,
    inspector: &Inspector,
    campaign: &Campaign,
    from: Option<From<'_>>,
) -> Result<Checked, InspectError> {
    let mut grid = inspector.read(bytes, format)?;
    let digest =
        crate::workbook::copymark::digest(&grid, crate::core::forms::annotate::SUMMARY_SHEET);
    unlegacy(&mut grid);
    let mut checked = check_grid(grid, campaign, from);
    checked.copy_digest = Some(digest);
    Ok(checked)
}

/// The form of a campaign with this id, for naming its rows and columns.
pub fn spec_of<'c>(
    campaign: &'c Campaign,
    form: Option<&str>,
) -> Option<&'c crate::core::forms::spec::FormSpec> {
    let form = form?;
    campaign
        .deliverables
        .iter()
        .filter_map(|d| d.spec.as_deref())
        .find(|s| s.id == form)
}

/// Recognises and validates a workbook already read (legacy text converted).
pub fn check_grid(grid: Grid, campaign: &Campaign, from: Option<From<'_>>) -> Checked {
    let specs: Vec<&crate::core::forms::spec::FormSpec> = campaign
        .deliverables
        .iter()
        .filter_map(|d| d.spec.as_deref())
        .collect();
    let first_sheet = grid
        .sheets
        .iter()
        .find(|s| s.visible)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let unrecognised = |grid: Grid, candidates: &[(String, f64)]| Checked {
        deliverable: None,
        form: None,
        form_version: None,
        by: None,
        confidence: 0.0,
        valid: false,
        findings: vec![validate::unrecognised(&first_sheet, candidates)],
        data: Vec::new(),
        grid,
        copy_digest: None,
    };
    match recognise::recognise(&grid, &specs, from) {
        Recognised::Form(rec) => {
            let report = validate::validate(&grid, &rec, from, &campaign.rules);
            let deliverable = campaign
                .deliverables
                .iter()
                .find(|d| d.form.as_deref() == Some(rec.spec.id.as_str()))
                .map(|d| d.id.clone());
            Checked {
                deliverable,
                form: Some(report.form),
                form_version: Some(report.form_version),
                by: Some(rec.by),
                confidence: rec.confidence,
                valid: report.valid,
                findings: report.findings,
                data: report.data,
                grid,
                copy_digest: None,
            }
        }
        Recognised::Ambiguous(candidates) => unrecognised(grid, &candidates),
        Recognised::Unknown => unrecognised(grid, &[]),
    }
}
