//! # Annotated copies
//!
//! The workbook a receipt carries back to the sender: an xlsx copy of the values intake read,
//! each finding's cell coloured (errors red, warnings amber) with a note holding the message,
//! behind a first sheet that lists every finding. It is built from the [`Grid`], not from the
//! original file, so xls and ods submissions get an xlsx copy too, and nothing of the
//! original (macros, links, formatting) travels back. The marker travels, so that a corrected
//! copy sent back is still recognised by it.

use std::collections::{HashMap, HashSet};

use rust_xlsxwriter::{
    Color, DocProperties, Format, FormatAlign, FormatBorder, Note, Url, Workbook, Worksheet,
    XlsxError,
};

use super::blank::{MARKER_NAME, MARKER_SHEET};
use super::spec::Severity;
use super::validate::Finding;
use crate::workbook::{CellValue, Grid, Sheet};

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

/// Most cells re-merged in one copy: `merge_range` writes every cell of a region, and a
/// hostile file's one region may span the whole grid. Real forms merge a few hundred cells.
const MAX_MERGED_CELLS: u64 = 1_000_000;

/// Most internal links on the summary sheet (Excel allows 65,530 hyperlinks a sheet).
const MAX_LINKS: usize = 65_000;

/// Why an annotated copy could not be written: a fault of the machine, not of the workbook.
#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    /// A sheet of the copy could not be written.
    #[error("annotated copy, sheet {sheet}: {source}")]
    Sheet {
        /// The sheet's name in the copy.
        sheet: String,
        /// The cause.
        #[source]
        source: XlsxError,
    },
    /// The workbook could not be assembled.
    #[error("annotated copy: {source}")]
    Workbook {
        /// The cause.
        #[source]
        source: XlsxError,
    },
}

/// An xlsx copy of a submitted workbook's values with each finding's cell highlighted
/// (errors red fill, warnings amber fill) and a note holding the message, plus a first sheet
/// "Kết quả kiểm tra" listing all findings under `title` — for receipts to attach.
///
/// Every visible sheet is copied (numbers as numbers, text as text, booleans, error values
/// as text, formulas without a value as their formula text shown as text) with its merged
/// regions; hidden sheets are left out, except the `_intake` marker sheet, kept hidden so
/// that a corrected re-submission keeps its marker. Findings without a cell, or on a sheet
/// not copied, are only listed. Sheet names are kept, made acceptable to Excel.
pub fn annotated_copy(
    grid: &Grid,
    findings: &[Finding],
    title: &str,
) -> Result<Vec<u8>, AnnotateError> {
    let styles = Styles::new();
    let mut names = SheetNames::new();
    names.reserve(SUMMARY_SHEET);
    // (grid index, name in the copy) of the sheets copied, in workbook order.
    let copied: Vec<(usize, String)> = grid
        .sheets
        .iter()
        .enumerate()
        .filter(|(_, s)| s.visible || is_marker_sheet(s))
        .map(|(i, s)| (i, names.reserve(&s.name)))
        .collect();
    let copy_name = |original: &str| {
        copied
            .iter()
            .find(|(i, _)| grid.sheets[*i].name == original)
            .map(|(i, name)| (*i, name.as_str()))
    };

    // Findings by cell of a copied sheet, on the cell that shows (a merged region's first).
    let mut marks: HashMap<(usize, u32, u32), Mark> = HashMap::new();
    let mut located: Vec<Option<(&str, u32, u32)>> = Vec::with_capacity(findings.len());
    for f in findings {
        let at = copy_name(&f.sheet).zip(f.cell.as_deref().and_then(parse_a1));
        let at = at.filter(|(_, (row, col))| *row <= MAX_ROW && *col <= MAX_COL);
        located.push(at.map(|((i, name), (row, col))| {
            let (row, col) = shown_cell(&grid.sheets[i], row, col);
            marks.entry((i, row, col)).or_default().add(f);
            (name, row, col)
        }));
    }

    let mut workbook = Workbook::new();
    let summary = workbook.add_worksheet();
    write_summary(summary, findings, &located, title, &styles).map_err(|source| {
        AnnotateError::Sheet {
            sheet: SUMMARY_SHEET.into(),
            source,
        }
    })?;
    let mut merged_budget = MAX_MERGED_CELLS;
    let mut digest = crate::workbook::copymark::CopyDigest::default();
    for (i, name) in &copied {
        let sheet = &grid.sheets[*i];
        let ws = workbook.add_worksheet();
        let sheet_marks = marks
            .iter()
            .filter(|((s, _, _), _)| s == i)
            .map(|((_, r, c), m)| ((*r, *c), m))
            .collect();
        write_copy(
            ws,
            name,
            sheet,
            &sheet_marks,
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
    if let Some(marker) = &grid.marker {
        // The form id and version are restricted to [A-Za-z0-9._-] and digits by the reader,
        // so the quoted constant cannot be broken out of.
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

fn is_marker_sheet(sheet: &Sheet) -> bool {
    sheet.name.eq_ignore_ascii_case(MARKER_SHEET)
}

/// The findings on one cell: the worst severity colours it, every message goes in its note.
#[derive(Debug, Default)]
struct Mark {
    error: bool,
    lines: Vec<String>,
}

impl Mark {
    fn add(&mut self, f: &Finding) {
        self.error |= f.severity == Severity::Error;
        self.lines
            .push(format!("{}: {}", severity_text(f.severity), f.message));
    }

    fn fill(&self) -> u32 {
        if self.error { ERROR_FILL } else { WARNING_FILL }
    }
}

fn severity_text(s: Severity) -> &'static str {
    match s {
        Severity::Error => "Lỗi",
        Severity::Warning => "Cảnh báo",
    }
}

fn write_summary(
    ws: &mut Worksheet,
    findings: &[Finding],
    located: &[Option<(&str, u32, u32)>],
    title: &str,
    styles: &Styles,
) -> Result<(), XlsxError> {
    ws.set_name(SUMMARY_SHEET)?;
    ws.write_string_with_format(0, 0, fit(title), &styles.title)?;
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let tally = if findings.is_empty() {
        "Không có lỗi hay cảnh báo nào.".to_string()
    } else {
        format!(
            "{errors} lỗi, {warnings} cảnh báo. Các ô có lỗi tô đỏ, ô cần xem lại tô vàng; \
             ghi chú ở từng ô nói rõ nội dung."
        )
    };
    ws.write_string(1, 0, tally)?;
    let header = SUMMARY_HEADER_ROW;
    for (col, text) in (0u16..).zip(SUMMARY_HEADERS) {
        ws.write_string_with_format(header, col, text, &styles.header)?;
    }
    for (k, (f, at)) in findings.iter().zip(located).enumerate() {
        let row = header + 1 + u32::try_from(k).unwrap_or(MAX_ROW);
        if row > MAX_ROW {
            break;
        }
        let level = match f.severity {
            Severity::Error => &styles.error_level,
            Severity::Warning => &styles.warning_level,
        };
        ws.write_string_with_format(row, 0, severity_text(f.severity), level)?;
        ws.write_string_with_format(row, 1, fit(&f.sheet), &styles.text)?;
        match (at, &f.cell) {
            (Some((sheet, r, c)), Some(cell)) if k < MAX_LINKS => {
                let target = format!("internal:'{}'!{}", sheet.replace('\'', "''"), a1(*r, *c));
                let link = Url::new(target).set_text(fit(cell));
                ws.write_url_with_format(row, 2, link, &styles.link)?;
            }
            (_, cell) => {
                let cell = cell.as_deref().unwrap_or("");
                ws.write_string_with_format(row, 2, fit(cell), &styles.text)?;
            }
        }
        let label = f.label.as_deref().or(f.indicator.as_deref()).unwrap_or("");
        let rest = [
            label,
            f.column.as_deref().unwrap_or(""),
            f.value.as_deref().unwrap_or(""),
            f.expected.as_deref().unwrap_or(""),
            &f.message,
        ];
        for (col, text) in (3u16..).zip(rest) {
            ws.write_string_with_format(row, col, fit(text), &styles.text)?;
        }
    }
    for (col, width) in (0u16..).zip([10, 14, 8, 40, 10, 14, 18, 70]) {
        ws.set_column_width(col, width)?;
    }
    ws.set_freeze_panes(header + 1, 0)?;
    if !findings.is_empty() {
        let last = header + u32::try_from(findings.len()).unwrap_or(MAX_ROW);
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
    marks: &HashMap<(u32, u32), &Mark>,
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
        let format = match marks.get(&(row, c)) {
            Some(m) => styles.marked(m.fill()),
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
        let text = fit(&m.lines.join("\n"));
        let lines = m.lines.len() as u32 + text.chars().count() as u32 / 45;
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
    let cell = cell.trim().replace('$', "");
    let split = cell.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = cell.split_at(split);
    if letters.is_empty() || letters.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut col = 0u32;
    for b in letters.bytes() {
        let b = b.to_ascii_uppercase();
        if !b.is_ascii_uppercase() {
            return None;
        }
        col = col * 26 + u32::from(b - b'A') + 1;
    }
    let row: u32 = digits.parse().ok()?;
    (row >= 1).then(|| (row - 1, col - 1))
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

/// The formats of an annotated copy.
struct Styles {
    plain: Format,
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
        Styles {
            plain: Format::new(),
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
        Format::new()
            .set_background_color(Color::RGB(fill))
            .set_border(FormatBorder::Thin)
            .set_border_color(Color::RGB(if fill == ERROR_FILL {
                0xC00000
            } else {
                0xBF8F00
            }))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use calamine::{Data, Reader, SheetVisible, Xlsx};

    use super::*;
    use crate::workbook::{Cell, FormMarker};

    fn cell(row: u32, col: u32, value: CellValue) -> Cell {
        Cell {
            row,
            col,
            value,
            shown: Default::default(),
        }
    }

    fn text(s: &str) -> CellValue {
        CellValue::Text(s.into())
    }

    fn finding(sheet: &str, cell: Option<&str>, severity: Severity, message: &str) -> Finding {
        Finding {
            rule: "r".into(),
            severity,
            sheet: sheet.into(),
            cell: cell.map(Into::into),
            indicator: Some("grdp".into()),
            label: Some("Tốc độ tăng trưởng GRDP".into()),
            column: Some("th2016".into()),
            value: Some("abc".into()),
            expected: Some("một số".into()),
            message: message.into(),
        }
    }

    fn grid() -> Grid {
        Grid {
            sheets: vec![
                Sheet {
                    name: "PL1".into(),
                    visible: true,
                    cells: vec![
                        cell(0, 0, text("ĐƠN VỊ: SỞ Y TẾ")),
                        cell(1, 0, text("PHỤ LỤC I")),
                        cell(8, 1, text("Tăng trưởng")),
                        cell(8, 3, CellValue::Number(7.5)),
                        cell(8, 4, text("abc")),
                        cell(9, 3, CellValue::Bool(true)),
                        cell(9, 4, CellValue::Error("#DIV/0!".into())),
                        cell(10, 3, CellValue::FormulaWithoutValue("SUM(D9:D10)".into())),
                        cell(10, 4, CellValue::FormulaWithoutValue("of:=[.B3]*2".into())),
                    ],
                    merged: vec![(1, 0, 1, 5), (3, 0, 4, 1)],
                    beyond: 0,
                },
                Sheet {
                    name: "Ẩn".into(),
                    visible: false,
                    cells: vec![cell(0, 0, text("secret"))],
                    merged: vec![],
                    beyond: 0,
                },
                Sheet {
                    name: "_intake".into(),
                    visible: false,
                    cells: vec![cell(0, 0, text("intake-form:742-2018-pl1@1"))],
                    merged: vec![],
                    beyond: 0,
                },
                Sheet {
                    name: "Kết quả kiểm tra".into(),
                    visible: true,
                    cells: vec![cell(0, 0, text("the agency's own"))],
                    merged: vec![],
                    beyond: 0,
                },
            ],
            marker: Some(FormMarker {
                form: "742-2018-pl1".into(),
                version: 1,
            }),
            defined_names: vec![],
        }
    }

    fn part(bytes: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn a1_parses() {
        assert_eq!(parse_a1("A1"), Some((0, 0)));
        assert_eq!(parse_a1("AB7"), Some((6, 27)));
        assert_eq!(parse_a1("$c$3"), Some((2, 2)));
        assert_eq!(parse_a1("XFD1048576"), Some((1_048_575, 16_383)));
        for bad in ["", "A", "7", "A0", "A1B", "ABCD1", "Ă1", "A-1"] {
            assert_eq!(parse_a1(bad), None, "{bad}");
        }
        for (r, c) in [(0, 0), (6, 27), (99, 701)] {
            assert_eq!(parse_a1(&a1(r, c)), Some((r, c)));
        }
    }

    #[test]
    fn sheet_names_are_made_acceptable_and_unique() {
        let mut names = SheetNames::new();
        assert_eq!(names.reserve("PL1"), "PL1");
        assert_eq!(names.reserve("pl1"), "pl1 (2)");
        assert_eq!(names.reserve("PL1"), "PL1 (3)");
        assert_eq!(names.reserve("a[b]:c*d?e/f\\g"), "abcdefg");
        assert_eq!(names.reserve("'quoted'"), "quoted");
        assert_eq!(names.reserve("???"), "Sheet");
        assert_eq!(names.reserve("History"), "History (2)");
        let long = "Đánh giá giữa kỳ thực hiện kế hoạch 2016 - 2020";
        let first = names.reserve(long);
        assert_eq!(first.encode_utf16().count(), 31);
        let second = names.reserve(long);
        assert_eq!(second.encode_utf16().count(), 31);
        assert!(second.ends_with(" (2)"));
        assert_eq!(
            names
                .reserve("😀".repeat(20).as_str())
                .encode_utf16()
                .count(),
            30
        );
    }

    #[test]
    fn the_copy_lists_findings_and_keeps_values() {
        let g = grid();
        let findings = vec![
            finding("PL1", Some("E9"), Severity::Error, "Không phải là số"),
            finding("PL1", Some("E9"), Severity::Warning, "Xem lại"),
            finding("PL1", Some("D12"), Severity::Error, "Thiếu giá trị"),
            finding("PL1", None, Severity::Warning, "Thiếu cột"),
            finding("PL3", Some("A1"), Severity::Error, "Không tìm thấy biểu"),
            // Inside the merged B2:F2: shown on its first cell.
            finding("PL1", Some("C2"), Severity::Warning, "Tiêu đề"),
        ];
        let bytes = annotated_copy(&g, &findings, "Kết quả: Sở Y tế, Phụ lục I").unwrap();
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
        let sheets = book.sheets_metadata().to_vec();
        let names: Vec<&str> = sheets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["Kết quả kiểm tra", "PL1", "_intake", "Kết quả kiểm tra (2)"]
        );
        assert_eq!(sheets[2].visible, SheetVisible::Hidden);
        assert!(
            book.defined_names()
                .iter()
                .any(|(n, v)| n == "intake_form" && v.contains("intake-form:742-2018-pl1@1"))
        );

        let summary = book.worksheet_range(SUMMARY_SHEET).unwrap();
        let row = |r: u32| -> Vec<String> {
            (0..8)
                .map(|c| {
                    summary
                        .get_value((r, c))
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                })
                .collect()
        };
        assert_eq!(row(0)[0], "Kết quả: Sở Y tế, Phụ lục I");
        assert!(row(1)[0].starts_with("3 lỗi, 3 cảnh báo"));
        assert_eq!(row(SUMMARY_HEADER_ROW), SUMMARY_HEADERS);
        for (k, f) in findings.iter().enumerate() {
            let got = row(SUMMARY_HEADER_ROW + 1 + k as u32);
            assert_eq!(got[1], f.sheet);
            assert_eq!(got[2], f.cell.clone().unwrap_or_default());
            assert_eq!(got[7], f.message);
        }
        assert_eq!(row(SUMMARY_HEADER_ROW + 1)[0], "Lỗi");
        assert_eq!(row(SUMMARY_HEADER_ROW + 2)[0], "Cảnh báo");

        let pl1 = book.worksheet_range("PL1").unwrap();
        let at = |r, c| pl1.get_value((r, c)).cloned().unwrap_or(Data::Empty);
        assert_eq!(at(8, 3), Data::Float(7.5));
        assert_eq!(at(9, 3), Data::Bool(true));
        assert_eq!(at(9, 4), Data::String("#DIV/0!".into()));
        assert_eq!(at(10, 3), Data::String("=SUM(D9:D10)".into()));
        assert_eq!(at(10, 4), Data::String("=[.B3]*2".into()));
        assert_eq!(at(1, 0), Data::String("PHỤ LỤC I".into()));
        let merged = book.merge_cells_by_sheet_name("PL1").unwrap();
        assert_eq!(merged.len(), 2);
        let marker = book.worksheet_range("_intake").unwrap();
        assert_eq!(
            marker.get_value((0, 0)),
            Some(&Data::String("intake-form:742-2018-pl1@1".into()))
        );

        // Notes: one per marked cell, both messages of E9 in one; C2 noted on B2.
        let comments = part(&bytes, "xl/comments1.xml");
        assert_eq!(comments.matches("<comment ").count(), 3, "{comments}");
        assert!(comments.contains("ref=\"E9\""));
        assert!(comments.contains("Lỗi: Không phải là số"));
        assert!(comments.contains("Cảnh báo: Xem lại"));
        assert!(comments.contains("ref=\"D12\""));
        assert!(comments.contains("ref=\"A2\""));
        // The hidden "Ẩn" sheet is not copied.
        assert!(!names.contains(&"Ẩn"));
    }

    #[test]
    fn hostile_grids_stay_within_excel() {
        let g = Grid {
            sheets: vec![Sheet {
                name: "x".into(),
                visible: true,
                cells: vec![
                    cell(0, 0, text(&"a".repeat(40_000))),
                    cell(1, 0, CellValue::Number(f64::NAN)),
                    cell(2, 0, text("control \u{1} char")),
                    cell(2_000_000, 0, text("past the last row")),
                    cell(0, 20_000, text("past the last column")),
                ],
                merged: vec![
                    (0, 0, 1_048_575, 16_383),
                    (5, 5, 5, 5),
                    (3, 0, 3, 2),
                    (3, 1, 4, 1),
                ],
                beyond: 0,
            }],
            marker: None,
            defined_names: vec![],
        };
        let bytes = annotated_copy(&g, &[], "t").unwrap();
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("x").unwrap();
        let first = range.get_value((0, 0)).unwrap().to_string();
        assert_eq!(first.chars().count(), MAX_CELL_CHARS);
        assert_eq!(
            range.get_value((2, 0)),
            Some(&Data::String("control \u{1} char".into()))
        );
        // Nothing past row 3 holds a value: the cells beyond Excel's grid were left out.
        assert_eq!(range.end().unwrap().0, 2);
        let merged = book.merge_cells_by_sheet_name("x").unwrap();
        assert_eq!(merged.len(), 1);
        assert!(book.defined_names().iter().all(|(n, _)| n != MARKER_NAME));
    }
}
