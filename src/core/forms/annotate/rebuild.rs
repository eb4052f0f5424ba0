//! # Marked copies rebuilt from the values
//!
//! For xls and ods submissions, and packages the package route cannot edit: an xlsx written
//! from the [`Grid`] with the blank form's look (its font, bordered table cells, A4 landscape
//! fitted to the page width), every value at the cell the agency put it in, so that the
//! cells the findings name are the cells marked. Hidden sheets are left out, except the
//! `_intake` marker sheet. Nothing of the original file but its values travels back.

use std::collections::{HashMap, HashSet};

use rust_xlsxwriter::{
    Color, DocProperties, Format, FormatAlign, FormatBorder, Note, Url, Workbook, Worksheet,
    XlsxError,
};

use super::{
    AnnotateError, ERROR_FILL, MAX_COL, MAX_ROW, Names, SUMMARY_HEADER_ROW, SUMMARY_HEADERS,
    SUMMARY_SHEET, WARNING_FILL, a1, fit, is_marker_sheet, locate, summary_row, tally,
};
use crate::core::forms::blank::MARKER_NAME;
use crate::core::forms::spec::{FormSpec, Severity};
use crate::core::forms::validate::Finding;
use crate::workbook::{CellValue, Grid, Sheet};

/// Most cells re-merged in one copy: `merge_range` writes every cell of a region, and a
/// hostile file's one region may span the whole grid. Real forms merge a few hundred cells.
const MAX_MERGED_CELLS: u64 = 1_000_000;

/// Most internal links on the summary sheet (Excel allows 65,530 hyperlinks a sheet).
const MAX_LINKS: usize = 65_000;

/// An xlsx copy of a workbook's values with each finding's cell highlighted (errors red
/// fill, warnings amber fill) and a note holding the messages, plus a first sheet "Kết quả
/// kiểm tra" listing all findings under `title`.
///
/// Every visible sheet is copied (numbers as numbers, text as text, booleans, error values
/// as text, formulas without a value as their formula text shown as text) with its merged
/// regions; hidden sheets are left out, except the `_intake` marker sheet, kept hidden so
/// that a corrected re-submission keeps its marker. Findings without a cell, or on a sheet
/// not copied, are only listed. Sheet names are kept, made acceptable to Excel.
pub fn rebuilt_copy(
    grid: &Grid,
    findings: &[Finding],
    spec: Option<&FormSpec>,
    title: &str,
) -> Result<Vec<u8>, AnnotateError> {
    let styles = Styles::new();
    let names = Names { spec };
    let mut sheet_names = SheetNames::new();
    sheet_names.reserve(SUMMARY_SHEET);
    // The name in the copy of each sheet copied, by grid index.
    let copied: HashMap<usize, String> = grid
        .sheets
        .iter()
        .enumerate()
        .filter(|(_, s)| s.visible || is_marker_sheet(s))
        .map(|(i, s)| (i, sheet_names.reserve(&s.name)))
        .collect();
    let (marks, located) = locate(grid, findings, &names, |s| s.visible || is_marker_sheet(s));
    let located: Vec<Option<(&str, u32, u32)>> = located
        .iter()
        .map(|at| at.and_then(|(i, r, c)| copied.get(&i).map(|n| (n.as_str(), r, c))))
        .collect();

    let mut workbook = Workbook::new();
    let summary = workbook.add_worksheet();
    write_summary(summary, findings, &located, &names, title, &styles).map_err(|source| {
        AnnotateError::Sheet {
            sheet: SUMMARY_SHEET.into(),
            source,
        }
    })?;
    let mut merged_budget = MAX_MERGED_CELLS;
    let mut digest = crate::workbook::copymark::CopyDigest::default();
    let empty = Default::default();
    for (i, sheet) in grid.sheets.iter().enumerate() {
        let Some(name) = copied.get(&i) else { continue };
        let ws = workbook.add_worksheet();
        write_copy(
            ws,
            name,
            sheet,
            marks.get(&i).unwrap_or(&empty),
            &styles,
            &mut merged_budget,
            &mut digest,
        )
        .map_err(|source| AnnotateError::Sheet {
            sheet: name.clone(),
            source,
        })?;
    }
    let whole = |source| AnnotateError::Workbook { source };
    // The mark that makes this copy recognisable when it comes back unchanged.
    workbook
        .define_name(
            crate::workbook::copymark::COPY_NAME,
            &crate::workbook::copymark::CopyDigest::formula(&digest.finish()),
        )
        .map_err(whole)?;
    if let Some(marker) = super::marker_of(grid, spec) {
        // The form id and version are restricted to [A-Za-z0-9._-] and digits by the reader
        // and the form files, so the quoted constant cannot be broken out of.
        workbook
            .define_name(MARKER_NAME, &format!("=\"{marker}\""))
            .map_err(whole)?;
    }
    // A fixed creation time: the same workbook and findings always give the same bytes, so the
    // copy is stored once and a re-run after a crash files nothing new.
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1)
        .map_err(|source| AnnotateError::Workbook { source })?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(fit(title))
            .set_creation_datetime(&created),
    );
    workbook.save_to_buffer().map_err(whole)
}

fn write_summary(
    ws: &mut Worksheet,
    findings: &[Finding],
    located: &[Option<(&str, u32, u32)>],
    names: &Names<'_>,
    title: &str,
    styles: &Styles,
) -> Result<(), XlsxError> {
    ws.set_name(SUMMARY_SHEET)?;
    ws.write_string_with_format(0, 0, fit(title), &styles.title)?;
    ws.write_string(1, 0, tally(findings))?;
    let header = SUMMARY_HEADER_ROW;
    for (col, text) in (0u16..).zip(SUMMARY_HEADERS) {
        ws.write_string_with_format(header, col, text, &styles.header)?;
    }
    for (k, (f, at)) in findings.iter().zip(located).enumerate() {
        let row = header + 1 + u32::try_from(k).unwrap_or(MAX_ROW);
        if row > MAX_ROW {
            break;
        }
        let texts = summary_row(f, names);
        let level = match f.severity {
            Severity::Error => &styles.error_level,
            Severity::Warning => &styles.warning_level,
        };
        ws.write_string_with_format(row, 0, &texts[0], level)?;
        ws.write_string_with_format(row, 1, &texts[1], &styles.text)?;
        match at {
            Some((sheet, r, c)) if k < MAX_LINKS && !texts[2].is_empty() => {
                let target = format!("internal:'{}'!{}", sheet.replace('\'', "''"), a1(*r, *c));
                let link = Url::new(target).set_text(&texts[2]);
                ws.write_url_with_format(row, 2, link, &styles.link)?;
            }
            _ => {
                ws.write_string_with_format(row, 2, &texts[2], &styles.text)?;
            }
        }
        for (col, text) in (3u16..).zip(&texts[3..]) {
            ws.write_string_with_format(row, col, text, &styles.text)?;
        }
    }
    for (col, width) in (0u16..).zip([10, 14, 8, 40, 14, 14, 18, 70]) {
        ws.set_column_width(col, width)?;
    }
    ws.set_freeze_panes(header + 1, 0)?;
    let listed = findings.len().min(located.len());
    if listed > 0 {
        let last = header + u32::try_from(listed).unwrap_or(MAX_ROW);
        ws.autofilter(header, 0, last.min(MAX_ROW), 7)?;
    }
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(header, header)?;
    Ok(())
}

fn write_copy(
    ws: &mut Worksheet,
    name: &str,
    sheet: &Sheet,
    marks: &super::SheetMarks,
    styles: &Styles,
    merged_budget: &mut u64,
    digest: &mut crate::workbook::copymark::CopyDigest,
) -> Result<(), XlsxError> {
    use crate::workbook::copymark::Seen;
    ws.set_name(name)?;
    if !sheet.visible {
        ws.set_hidden(true);
    }
    // Regions first: merge_range writes blanks over its whole range, values come after.
    let plain = Format::new();
    for &(r0, c0, r1, c1) in &sheet.merged {
        if r1 > MAX_ROW || c1 > MAX_COL || r0 > r1 || c0 > c1 || (r0 == r1 && c0 == c1) {
            continue;
        }
        let area = u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1);
        if area > *merged_budget {
            continue;
        }
        match ws.merge_range(r0, col(c0), r1, col(c1), "", &plain) {
            Ok(_) => *merged_budget -= area,
            // A malformed file's overlapping regions: the first one stands.
            Err(XlsxError::MergeRangeOverlaps(..)) => {}
            Err(e) => return Err(e),
        }
    }

    // Widths from the cells of table rows only: a title alone on its row overflows to the
    // right, and a merged title spans columns; neither should widen its first column.
    let merged_first: HashSet<(u32, u32)> = sheet
        .merged
        .iter()
        .map(|&(r0, c0, _, _)| (r0, c0))
        .collect();
    let mut per_row: HashMap<u32, usize> = HashMap::new();
    for cell in &sheet.cells {
        *per_row.entry(cell.row).or_default() += 1;
    }
    let mut widths: HashMap<u32, usize> = HashMap::new();
    for cell in &sheet.cells {
        let (row, c) = (cell.row, cell.col);
        if row > MAX_ROW || c > MAX_COL {
            continue;
        }
        let table = per_row.get(&row).is_some_and(|n| *n > 1);
        let format = match marks.get(&(row, c)) {
            Some(m) => styles.marked(m.fill()),
            None if table => styles.table.clone(),
            None => styles.plain.clone(),
        };
        let shown = match &cell.value {
            CellValue::Number(n) => {
                ws.write_number_with_format(row, col(c), *n, &format)?;
                digest.add(name, row, c, Seen::Number(*n));
                12
            }
            CellValue::Bool(b) => {
                ws.write_boolean_with_format(row, col(c), *b, &format)?;
                digest.add(name, row, c, Seen::Bool(*b));
                6
            }
            CellValue::Text(s) | CellValue::Error(s) => {
                let written = fit(s);
                ws.write_string_with_format(row, col(c), &written, &format)?;
                digest.add(name, row, c, Seen::Text(&written));
                s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
            }
            CellValue::FormulaWithoutValue(f) => {
                let text = formula_text(f);
                let n = text.chars().count();
                let written = fit(&text);
                ws.write_string_with_format(row, col(c), &written, &format)?;
                digest.add(name, row, c, Seen::Text(&written));
                n
            }
        };
        if !merged_first.contains(&(row, c)) && per_row.get(&row).is_some_and(|n| *n > 1) {
            let w = widths.entry(c).or_default();
            *w = (*w).max(shown);
        }
    }
    // Marked cells that hold nothing, such as a required value left blank.
    for (&(row, c), m) in marks {
        if sheet.value(row, c).is_none() {
            ws.write_blank(row, col(c), &styles.marked(m.fill()))?;
        }
    }
    for (&(row, c), m) in marks {
        let text = m.note();
        let lines = text.lines().count() as u32 + text.chars().count() as u32 / 45;
        let note = Note::new(text)
            .add_author_prefix(false)
            .set_width(320)
            .set_height(20 + 16 * lines.min(30));
        ws.insert_note(row, col(c), &note)?;
    }
    for (c, w) in widths {
        ws.set_column_width(col(c), (w as f64 * 1.1 + 1.0).clamp(8.0, 60.0))?;
    }
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}

/// The column as rust_xlsxwriter takes it; callers have checked it is within Excel's grid.
fn col(c: u32) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

/// A formula without a value, shown as the text a person would type: `=SUM(B3:B4)`; the
/// OpenDocument `of:` prefix is dropped.
fn formula_text(formula: &str) -> String {
    let f = formula.trim();
    let f = f.strip_prefix("of:").unwrap_or(f);
    let f = f.strip_prefix('=').unwrap_or(f);
    format!("={f}")
}

/// Hands out sheet names Excel accepts: at most 31 characters, none of `[]:*?/\` or control
/// characters, no apostrophe first or last, not "History", unique without regard to case.
#[derive(Debug, Default)]
pub(crate) struct SheetNames {
    taken: HashSet<String>,
}

impl SheetNames {
    /// No name taken yet.
    pub(crate) fn new() -> SheetNames {
        SheetNames::default()
    }

    /// An acceptable name as close to `wanted` as can be, taken from now on.
    pub(crate) fn reserve(&mut self, wanted: &str) -> String {
        let base = clean_sheet_name(wanted);
        let mut name = base.clone();
        let mut n = 2u32;
        while self.taken.contains(&name.to_lowercase()) || name.eq_ignore_ascii_case("history") {
            let suffix = format!(" ({n})");
            name = format!("{}{suffix}", cut_utf16(&base, 31 - suffix.len()));
            n += 1;
        }
        self.taken.insert(name.to_lowercase());
        name
    }
}

fn clean_sheet_name(wanted: &str) -> String {
    let kept: String = wanted
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') && !c.is_control())
        .collect();
    let name = cut_utf16(kept.trim(), 31);
    let name = name.trim().trim_matches('\'').trim();
    if name.is_empty() {
        "Sheet".to_string()
    } else {
        name.to_string()
    }
}

/// The longest prefix of `s` of at most `units` UTF-16 code units (Excel's measure).
fn cut_utf16(s: &str, units: usize) -> &str {
    let mut used = 0;
    for (at, ch) in s.char_indices() {
        used += ch.len_utf16();
        if used > units {
            return &s[..at];
        }
    }
    s
}

/// The formats of a rebuilt copy: the blank form's font, its table cells bordered.
struct Styles {
    plain: Format,
    table: Format,
    title: Format,
    header: Format,
    text: Format,
    link: Format,
    error_level: Format,
    warning_level: Format,
}

impl Styles {
    fn new() -> Styles {
        let boxed = Format::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Top)
            .set_text_wrap();
        let form = Format::new()
            .set_font_name("Times New Roman")
            .set_font_size(12)
            .set_align(FormatAlign::VerticalCenter);
        Styles {
            table: form.clone().set_border(FormatBorder::Thin).set_text_wrap(),
            plain: form,
            title: Format::new().set_bold().set_font_size(14),
            header: Format::new()
                .set_bold()
                .set_border(FormatBorder::Thin)
                .set_align(FormatAlign::Center)
                .set_background_color(Color::RGB(0xD9D9D9)),
            text: boxed.clone(),
            link: boxed
                .clone()
                .set_font_color(Color::RGB(0x0563C1))
                .set_underline(rust_xlsxwriter::FormatUnderline::Single),
            error_level: boxed
                .clone()
                .set_bold()
                .set_background_color(Color::RGB(ERROR_FILL)),
            warning_level: boxed.set_background_color(Color::RGB(WARNING_FILL)),
        }
    }

    fn marked(&self, fill: u32) -> Format {
        self.table
            .clone()
            .set_background_color(Color::RGB(fill))
            .set_border(FormatBorder::Thin)
            .set_border_color(Color::RGB(if fill == ERROR_FILL {
                0xC00000
            } else {
                0xBF8F00
            }))
    }
}
