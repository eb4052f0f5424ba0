//! # Marked copies
//!
//! The workbook a receipt carries back to the sender: each finding's cell coloured (errors
//! red, warnings amber) with a note holding the messages, and a first sheet "Kết quả kiểm
//! tra" listing every finding, its row by code and label and its column by the form's own
//! header, never by intake's ids. Two routes give it:
//!
//! - **The agency's own package** (xlsx, xlsm; module `package`): every part of the zip is
//!   copied byte for byte except what marking needs, so the agency's formatting (fonts,
//!   borders, fills, merges, widths, freeze panes, print setup, other sheets, its own notes)
//!   comes back as it went. Marked sheets are edited by streaming their XML (module `sheet`),
//!   so a 1,048,576-row sheet costs the same memory as a small one; `styles.xml` gains cloned
//!   cell formats that differ only in their fill (module `styles`); notes go into the sheet's
//!   comments part and legacy VML drawing, added or extended (module `notes`). An xlsm comes
//!   back as an xlsx: a marked copy is mail intake sends, and mail intake sends carries no
//!   macros, so `vbaProject.bin` is dropped and the workbook's content type made the plain one.
//! - **Rebuilt from the values** (module `rebuild`) for xls and ods, and for any package the
//!   first route cannot edit safely (strict OOXML, Excel 4 macro sheets, a part it cannot
//!   parse): an xlsx laid out with the blank form's look, the values at the cells the agency
//!   put them in, so the cells the findings name are the cells marked.
//!
//! Either way the copy carries the form marker and the `intake_copy` digest as defined names
//! (module [`crate::workbook::copymark`]): an unchanged copy coming back is known as intake's
//! own, a corrected one is recognised as the form. Pure: bytes and findings in, bytes out.

mod notes;
mod package;
mod raw;
mod rebuild;
mod sheet;
mod styles;
mod summary;
mod xml;

use std::collections::BTreeMap;

pub(crate) use rebuild::SheetNames;
pub use rebuild::rebuilt_copy;

use super::blank::MARKER_SHEET;
use super::spec::{FormSpec, Severity};
use super::validate::Finding;
use crate::workbook::{Grid, Sheet, WorkbookFormat};

/// Name of the first sheet, the list of findings.
pub const SUMMARY_SHEET: &str = "Kết quả kiểm tra";

/// Headers of the summary table, in order.
pub const SUMMARY_HEADERS: [&str; 8] = [
    "Mức độ",
    "Biểu",
    "Ô",
    "Chỉ tiêu",
    "Cột",
    "Giá trị",
    "Yêu cầu",
    "Nội dung",
];

/// Row (0-based) of the summary table's headers; findings follow, one a row, in order.
pub const SUMMARY_HEADER_ROW: u32 = 3;

/// Fill of cells with an error (Excel's light red).
pub const ERROR_FILL: u32 = 0xFFC7CE;

/// Fill of cells with a warning (amber).
pub const WARNING_FILL: u32 = 0xFFEB9C;

/// Excel's grid: rows and columns past these cannot be written (an ods may have them).
const MAX_ROW: u32 = 1_048_575;
const MAX_COL: u32 = 16_383;

/// Longest text Excel keeps in a cell, in characters.
const MAX_CELL_CHARS: usize = 32_767;

/// Most findings listed on the summary sheet and marked with notes: a hostile file can make
/// every one of its cells a finding, and a receipt's copy needs no more than this to be useful.
const MAX_MARKED: usize = 10_000;

/// Why a marked copy could not be written: a fault of the machine, not of the workbook.
#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    /// A sheet of the rebuilt copy could not be written.
    #[error("marked copy, sheet {sheet}: {source}")]
    Sheet {
        /// The sheet's name in the copy.
        sheet: String,
        /// The cause.
        #[source]
        source: rust_xlsxwriter::XlsxError,
    },
    /// The rebuilt workbook could not be assembled.
    #[error("marked copy: {source}")]
    Workbook {
        /// The cause.
        #[source]
        source: rust_xlsxwriter::XlsxError,
    },
}

/// The workbook a marked copy is made of.
#[derive(Debug, Clone, Copy)]
pub struct Submission<'a> {
    /// The file as the agency sent it.
    pub bytes: &'a [u8],
    /// Its format.
    pub format: WorkbookFormat,
    /// Its cells as checked (legacy text converted).
    pub grid: &'a Grid,
    /// The `intake_copy` digest of its cells as read, before any conversion
    /// ([`crate::workbook::copymark::digest`]); the package route keeps those cells, so
    /// this is what a reader of the copy computes. `None` forces the rebuilt route.
    pub digest: Option<&'a str>,
}

/// How a marked copy was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The agency's own package with marks added.
    Package,
    /// An xlsx rebuilt from the values.
    Rebuilt,
}

/// A marked copy: the xlsx bytes and how they were made.
#[derive(Debug, Clone)]
pub struct MarkedCopy {
    /// The xlsx.
    pub bytes: Vec<u8>,
    /// The route taken.
    pub route: Route,
}

/// The marked copy of a submission for a receipt: the agency's own xlsx/xlsm package with
/// marks added when it can be edited safely, else an xlsx rebuilt from the values.
///
/// `spec` is the form the findings are against, when one was recognised: it names rows and
/// columns in the summary and notes, and gives the marker when the workbook had none.
pub fn marked_copy(
    submission: &Submission<'_>,
    findings: &[Finding],
    spec: Option<&FormSpec>,
    title: &str,
) -> Result<MarkedCopy, AnnotateError> {
    if matches!(
        submission.format,
        WorkbookFormat::Xlsx | WorkbookFormat::Xlsm
    ) && let Some(digest) = submission.digest
    {
        let marker = marker_of(submission.grid, spec);
        match package::mark(
            submission.bytes,
            submission.grid,
            findings,
            spec,
            title,
            digest,
            marker.as_deref(),
        ) {
            Ok(bytes) => {
                return Ok(MarkedCopy {
                    bytes,
                    route: Route::Package,
                });
            }
            Err(e) => {
                tracing::info!(reason = %e, "marked copy rebuilt from the values");
            }
        }
    }
    Ok(MarkedCopy {
        bytes: rebuilt_copy(submission.grid, findings, spec, title)?,
        route: Route::Rebuilt,
    })
}

/// The marker a copy carries: the workbook's own, else that of the form it was recognised as.
fn marker_of(grid: &Grid, spec: Option<&FormSpec>) -> Option<String> {
    grid.marker
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| spec.map(super::blank::marker_text))
}

fn is_marker_sheet(sheet: &Sheet) -> bool {
    sheet.name.eq_ignore_ascii_case(MARKER_SHEET)
}

/// The findings on one cell: the worst severity colours it, every message goes in its note.
#[derive(Debug, Default, Clone)]
struct Mark {
    error: bool,
    /// Row and column named once, when the spec knows them.
    about: Option<String>,
    lines: Vec<String>,
}

impl Mark {
    fn add(&mut self, f: &Finding, names: &Names<'_>) {
        self.error |= f.severity == Severity::Error;
        if self.about.is_none() {
            let row = names.row(f);
            let col = names.column(f);
            self.about = match (row.is_empty(), col.is_empty()) {
                (false, false) => Some(format!("{row} — cột {col}")),
                (false, true) => Some(row),
                (true, false) => Some(format!("Cột {col}")),
                (true, true) => None,
            };
        }
        self.lines
            .push(format!("{}: {}", severity_text(f.severity), f.message));
    }

    fn fill(&self) -> u32 {
        if self.error { ERROR_FILL } else { WARNING_FILL }
    }

    /// The note's text: what the cell is, then one line per finding.
    fn note(&self) -> String {
        let mut text = String::new();
        if let Some(about) = &self.about {
            text.push_str(about);
            text.push('\n');
        }
        text.push_str(&self.lines.join("\n"));
        fit(&text)
    }
}

fn severity_text(s: Severity) -> &'static str {
    match s {
        Severity::Error => "Lỗi",
        Severity::Warning => "Cảnh báo",
    }
}

/// Row and column names of findings as the agency reads them on its form.
struct Names<'a> {
    spec: Option<&'a FormSpec>,
}

impl<'a> Names<'a> {
    /// The spec sheet a finding's workbook sheet is, by name or alias, else any.
    fn sheets(&self, f: &Finding) -> Vec<&'a super::spec::SheetSpec> {
        let Some(spec) = self.spec else {
            return Vec::new();
        };
        let want = f.sheet.trim();
        let same = |s: &str| s.trim().eq_ignore_ascii_case(want);
        let mut sheets: Vec<_> = spec
            .sheets
            .iter()
            .filter(|s| same(&s.name) || s.aliases.iter().any(|a| same(a)))
            .collect();
        let rest: Vec<_> = spec
            .sheets
            .iter()
            .filter(|s| !sheets.iter().any(|t| t.id == s.id))
            .collect();
        sheets.extend(rest);
        sheets
    }

    /// "1.1 Số doanh nghiệp": the row's code and label; the finding's label when the spec
    /// does not know the row; never the row's id.
    fn row(&self, f: &Finding) -> String {
        let found = f
            .indicator
            .as_deref()
            .and_then(|id| self.sheets(f).into_iter().find_map(|s| s.row(id)));
        match found {
            Some(r) if r.code.trim().is_empty() => r.label.clone(),
            Some(r) => format!("{} {}", r.code.trim(), r.label),
            None => f.label.clone().unwrap_or_default(),
        }
    }

    /// "TH 2016": the column's header in the form; empty when the spec does not know it.
    fn column(&self, f: &Finding) -> String {
        f.column
            .as_deref()
            .and_then(|id| self.sheets(f).into_iter().find_map(|s| s.column(id)))
            .map(|c| c.label.clone())
            .unwrap_or_default()
    }
}

/// One row of the summary table, as text.
fn summary_row(f: &Finding, names: &Names<'_>) -> [String; 8] {
    [
        severity_text(f.severity).to_string(),
        fit(&f.sheet),
        f.cell.clone().map(|c| fit(&c)).unwrap_or_default(),
        fit(&names.row(f)),
        fit(&names.column(f)),
        fit(f.value.as_deref().unwrap_or("")),
        fit(f.expected.as_deref().unwrap_or("")),
        fit(&f.message),
    ]
}

/// The line under the title: how many errors and warnings, and how to read the copy.
fn tally(findings: &[Finding]) -> String {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    if findings.is_empty() {
        "Không có lỗi hay cảnh báo nào.".to_string()
    } else {
        format!(
            "{errors} lỗi, {warnings} cảnh báo. Các ô có lỗi tô đỏ, ô cần xem lại tô vàng; \
             ghi chú ở từng ô nói rõ nội dung."
        )
    }
}

/// Where a finding was marked: sheet index, row, column.
type Spot = (usize, u32, u32);

/// The marks of one sheet by (row, col), on the cell that shows (a merged region's first).
type SheetMarks = BTreeMap<(u32, u32), Mark>;

/// The findings' marks by sheet index of `grid`, and for each finding where it was marked
/// (sheet index, row, col). Findings without a cell, on a sheet `grid` lacks, past Excel's
/// grid or past [`MAX_MARKED`] are only listed.
fn locate(
    grid: &Grid,
    findings: &[Finding],
    names: &Names<'_>,
    wanted: impl Fn(&Sheet) -> bool,
) -> (BTreeMap<usize, SheetMarks>, Vec<Option<Spot>>) {
    let mut marks: BTreeMap<usize, SheetMarks> = BTreeMap::new();
    let mut located = Vec::with_capacity(findings.len().min(MAX_MARKED));
    for f in findings.iter().take(MAX_MARKED) {
        let sheet = grid
            .sheets
            .iter()
            .position(|s| s.name == f.sheet && wanted(s));
        let at = sheet
            .zip(f.cell.as_deref().and_then(parse_a1))
            .filter(|(_, (row, col))| *row <= MAX_ROW && *col <= MAX_COL)
            .map(|(i, (row, col))| {
                let (row, col) = shown_cell(&grid.sheets[i], row, col);
                marks
                    .entry(i)
                    .or_default()
                    .entry((row, col))
                    .or_default()
                    .add(f, names);
                (i, row, col)
            });
        located.push(at);
    }
    (marks, located)
}

/// The top-left cell of the merged region holding (row, col), or the cell itself.
fn shown_cell(sheet: &Sheet, row: u32, col: u32) -> (u32, u32) {
    sheet
        .merged
        .iter()
        .find(|&&(r0, c0, r1, c1)| (r0..=r1).contains(&row) && (c0..=c1).contains(&col))
        .map_or((row, col), |&(r0, c0, _, _)| (r0, c0))
}

/// Parses "AB7" into the 0-based (6, 27); `$` signs are allowed, anything else is not.
pub fn parse_a1(cell: &str) -> Option<(u32, u32)> {
    let mut letters = 0usize;
    let mut col = 0u32;
    let mut row: Option<u32> = None;
    for b in cell.trim().bytes().filter(|b| *b != b'$') {
        match (b, row) {
            (b'A'..=b'Z' | b'a'..=b'z', None) => {
                letters += 1;
                if letters > 3 {
                    return None;
                }
                col = col * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1;
            }
            (b'0'..=b'9', _) => {
                let digit = u32::from(b - b'0');
                row = Some(row.unwrap_or(0).checked_mul(10)?.checked_add(digit)?);
            }
            _ => return None,
        }
    }
    let row = row?;
    (letters > 0 && row >= 1).then(|| (row - 1, col - 1))
}

fn a1(row: u32, col: u32) -> String {
    crate::workbook::a1(row, col)
}

/// Text cut to what an Excel cell holds.
fn fit(text: &str) -> String {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests;
