//! # Workbook cells
//!
//! Every non-empty cell of a workbook, as the forms stage reads it: raw values at their real
//! sheet positions, merged regions, hidden sheets flagged. [`GridBuilder`] is what every
//! reader feeds, so that all formats answer alike and every [`Grid`] is bounded the same
//! way: at most `max_cells` cells, `max_text_bytes` of text, [`MAX_MERGED`] merged regions,
//! [`MAX_SHEETS`] sheets and [`MAX_DEFINED_NAMES`] defined names.

use calamine::{Data, DataRef};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::scan::{self, SheetScan};
use super::{FormMarker, InspectError, Limits};

/// Most merged regions read in a workbook; the package check caps xlsx `mergeCell`
/// elements at the same number. Real forms merge a few dozen.
pub(crate) const MAX_MERGED: u64 = 262_144;

/// Most sheets read in a workbook (the package check's cap on xlsx `sheet` elements).
pub(crate) const MAX_SHEETS: usize = 4_096;

/// Most defined names read in a workbook (the package check's cap on `definedName`).
pub(crate) const MAX_DEFINED_NAMES: usize = 65_536;

/// Rows of a sheet whose cells are kept: a form's table, with an agency's notes around it,
/// is a few hundred rows. Cells further down are counted (they still count against
/// `max_cells`) but not kept, so that a sheet of a million rows costs what its first rows
/// cost ([`Sheet::beyond`] says how many were left).
pub(crate) const KEEP_ROWS: u32 = 5_000;

/// Most cells kept in a workbook: about 48 MB of cells. Past it the outcome is `TooLarge`.
pub(crate) const MAX_KEPT: u64 = 1_000_000;

/// A cell as read: the raw value, before any interpretation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CellValue {
    /// A finite number; dates and times are serial numbers (days since 1899-12-30, 1900
    /// system).
    Number(f64),
    /// Text exactly as stored, surrounding blanks included; never empty.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// An error value such as `#DIV/0!`; also `#NUM!` for a stored NaN or infinity, which
    /// no spreadsheet can hold and JSON cannot carry.
    Error(String),
    /// A formula whose cached value is missing or empty: its formula text (as the file
    /// stores it, e.g. `SUM(B3:B4)` in xlsx, `of:=[.B3]*2` in ods; empty if unrecoverable).
    FormulaWithoutValue(String),
}

/// One non-empty cell with its real position (0-based row and column of the sheet itself,
/// whatever blank rows precede).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// 0-based row of the sheet (row 1 is 0).
    pub row: u32,
    /// 0-based column of the sheet (column A is 0).
    pub col: u32,
    /// What the cell holds.
    pub value: CellValue,
    /// What the cell's number format does to a number it holds.
    #[serde(default, skip_serializing_if = "Shown::is_plain")]
    pub shown: Shown,
}

/// What a cell's number format does to the number it holds, as far as its meaning goes: the
/// writer's format is how the agency saw the value when it typed it. A percent format shows
/// 0.912 as "91,2 %", a format ending in a thousands separator (`#,##0,`) shows 1 234 567 as
/// "1 235", a date format shows 43 287 as "06/07/2018". Everything else (General, `#,##0.00`,
/// currency, text) shows the number itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shown {
    /// The number as it is.
    #[default]
    Plain,
    /// The number times 100, with a percent sign.
    Percent,
    /// The number divided by 1000 this many times (1 to 3).
    Scaled(u8),
    /// A date or time (the number is a serial day).
    Date,
}

impl Shown {
    /// Whether the format shows the number as it is.
    pub fn is_plain(&self) -> bool {
        *self == Shown::Plain
    }

    /// What a number format code (`0.0%`, `#,##0,`, `dd/mm/yyyy`, `General`) does to a
    /// number. Only the first section (positive numbers) counts; quoted text, escaped
    /// characters, `[…]` colours and conditions, and `_x` / `*x` padding are not the format's
    /// own symbols.
    pub fn of_format(code: &str) -> Shown {
        let mut chars = code.chars().peekable();
        let mut percent = false;
        let mut date = false;
        // Commas standing right after the last digit placeholder seen so far.
        let mut trailing_commas = 0u8;
        let mut after_placeholder = false;
        while let Some(ch) = chars.next() {
            match ch {
                ';' => break,
                '"' => {
                    for q in chars.by_ref() {
                        if q == '"' {
                            break;
                        }
                    }
                    after_placeholder = false;
                }
                '\\' | '_' | '*' => {
                    chars.next();
                    after_placeholder = false;
                }
                '[' => {
                    for q in chars.by_ref() {
                        if q == ']' {
                            break;
                        }
                    }
                }
                '%' => percent = true,
                '0' | '#' | '?' => {
                    trailing_commas = 0;
                    after_placeholder = true;
                }
                ',' if after_placeholder => {
                    trailing_commas = trailing_commas.saturating_add(1);
                    // A comma between placeholders groups thousands; it is only a scale
                    // when no placeholder follows, which the next placeholder undoes.
                    if !matches!(chars.peek(), Some(',' | '0' | '#' | '?')) {
                        after_placeholder = false;
                    }
                }
                'd' | 'D' | 'm' | 'M' | 'y' | 'Y' | 'h' | 'H' | 's' | 'S' => {
                    date = true;
                    after_placeholder = false;
                }
                'e' | 'E' if !date => {
                    // Scientific notation (`0.00E+00`): the exponent's digits are its own.
                    return if percent {
                        Shown::Percent
                    } else {
                        Shown::Plain
                    };
                }
                _ => after_placeholder = false,
            }
        }
        if percent {
            Shown::Percent
        } else if date && !code.eq_ignore_ascii_case("general") {
            Shown::Date
        } else if (1..=3).contains(&trailing_commas) {
            Shown::Scaled(trailing_commas)
        } else {
            Shown::Plain
        }
    }
}

/// A sheet's cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sheet {
    /// The sheet's name as shown on its tab.
    pub name: String,
    /// False for hidden and very hidden sheets.
    pub visible: bool,
    /// The non-empty cells in reading order (by row, then column), one per position.
    pub cells: Vec<Cell>,
    /// Merged regions (first_row, first_col, last_row, last_col), 0-based inclusive; empty
    /// for ODS.
    pub merged: Vec<(u32, u32, u32, u32)>,
    /// Non-empty cells below row [`KEEP_ROWS`], counted and not kept.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub beyond: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Sheet {
    /// The value at (row, col), following merged regions to their top-left cell.
    ///
    /// Looks the merged regions through one by one (forms have few) and the cells up by
    /// binary search, which relies on `cells` being in reading order as read.
    pub fn value(&self, row: u32, col: u32) -> Option<&CellValue> {
        self.cell(row, col).map(|c| &c.value)
    }

    /// The cell at (row, col), following merged regions to their top-left cell.
    pub fn cell(&self, row: u32, col: u32) -> Option<&Cell> {
        let (row, col) = self
            .merged
            .iter()
            .find(|&&(r0, c0, r1, c1)| (r0..=r1).contains(&row) && (c0..=c1).contains(&col))
            .map_or((row, col), |&(r0, c0, _, _)| (r0, c0));
        self.cells
            .binary_search_by(|c| (c.row, c.col).cmp(&(row, col)))
            .ok()
            .map(|at| &self.cells[at])
    }
}

/// Every cell of a workbook, read within limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Every sheet in workbook order, hidden ones included.
    pub sheets: Vec<Sheet>,
    /// The blank form's marker, found as [`super::Inspector::inspect`] finds it.
    pub marker: Option<FormMarker>,
    /// The workbook's defined names and what they refer to, as stored.
    pub defined_names: Vec<(String, String)>,
}

impl Grid {
    /// The value at (sheet, row, col), following merged regions to their top-left cell.
    pub fn value(&self, sheet: usize, row: u32, col: u32) -> Option<&CellValue> {
        self.sheets.get(sheet)?.value(row, col)
    }

    /// The cell at (sheet, row, col), following merged regions to their top-left cell.
    pub fn cell(&self, sheet: usize, row: u32, col: u32) -> Option<&Cell> {
        self.sheets.get(sheet)?.cell(row, col)
    }
}

/// A1 notation of a 0-based (row, col): (0,0) → "A1", (6,27) → "AB7".
pub fn a1(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut n = u64::from(col) + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    let letters = String::from_utf8(letters).unwrap_or_default();
    format!("{letters}{}", u64::from(row) + 1)
}

/// Gathers a workbook's cells sheet by sheet, refusing it as soon as it goes past a limit.
#[derive(Debug)]
pub(crate) struct GridBuilder {
    max_cells: u64,
    max_text: u64,
    heading_rows: u32,
    cells: u64,
    kept: u64,
    text: u64,
    merged: u64,
    sheets: Vec<Sheet>,
    /// The heading scan of the last sheet, which finds marker cells.
    scan: Option<SheetScan>,
    names_marker: Option<FormMarker>,
    sheet_marker: Option<FormMarker>,
    defined_names: Vec<(String, String)>,
    /// Formats of the current sheet's cells read apart from their values (xlsx styles, xls
    /// XF records, ods value types), applied when the sheet is closed.
    formats: Vec<(u32, u32, Shown)>,
}

impl GridBuilder {
    /// A builder that keeps within `limits`.
    pub(crate) fn new(limits: &Limits) -> Self {
        GridBuilder {
            max_cells: limits.max_cells,
            max_text: limits.max_text_bytes,
            heading_rows: limits.heading_rows,
            cells: 0,
            kept: 0,
            text: 0,
            merged: 0,
            sheets: Vec::new(),
            scan: None,
            names_marker: None,
            sheet_marker: None,
            defined_names: Vec::new(),
            formats: Vec::new(),
        }
    }

    /// Notes what the current sheet's cell at (row, col) is formatted as, whether or not it
    /// has been pushed yet; cells that were never pushed (empty ones) are left alone. As
    /// many are kept as cells may be read, so a hostile file costs no more than its cells.
    pub(crate) fn format(&mut self, row: u32, col: u32, shown: Shown) -> Result<(), InspectError> {
        if row >= KEEP_ROWS {
            return Ok(());
        }
        if self.formats.len() as u64 >= self.max_cells {
            return Err(InspectError::TooLarge {
                limit: self.max_cells,
            });
        }
        self.formats.push((row, col, shown));
        Ok(())
    }

    /// Drops the formats noted for the current sheet so far.
    pub(crate) fn forget_formats(&mut self) {
        self.formats.clear();
    }

    /// Counts `bytes` more of text against the workbook's budget.
    pub(crate) fn charge_text(&mut self, bytes: usize) -> Result<(), InspectError> {
        self.text = self.text.saturating_add(bytes as u64);
        if self.text > self.max_text {
            return Err(InspectError::TooLarge {
                limit: self.max_text,
            });
        }
        Ok(())
    }

    /// Keeps the workbook's defined names; an `intake_form` name gives the marker.
    pub(crate) fn defined_names(&mut self, names: &[(String, String)]) -> Result<(), InspectError> {
        if names.len() > MAX_DEFINED_NAMES {
            return Err(InspectError::TooLarge {
                limit: MAX_DEFINED_NAMES as u64,
            });
        }
        self.charge_text(names.iter().map(|(n, v)| n.len() + v.len()).sum())?;
        self.names_marker = scan::marker_from_names(names);
        self.defined_names = names.to_vec();
        Ok(())
    }

    /// Starts the next sheet; the cells pushed from now on are its own.
    pub(crate) fn sheet(&mut self, name: &str, visible: bool) -> Result<(), InspectError> {
        self.close_sheet();
        if self.sheets.len() >= MAX_SHEETS {
            return Err(InspectError::TooLarge {
                limit: MAX_SHEETS as u64,
            });
        }
        self.charge_text(name.len())?;
        self.sheets.push(Sheet {
            name: name.to_string(),
            visible,
            cells: Vec::new(),
            merged: Vec::new(),
            beyond: 0,
        });
        self.scan = Some(SheetScan::new(self.heading_rows));
        Ok(())
    }

    /// Adds one non-empty cell to the current sheet.
    pub(crate) fn push(
        &mut self,
        row: u32,
        col: u32,
        value: CellValue,
    ) -> Result<(), InspectError> {
        self.push_shown(row, col, value, Shown::Plain)
    }

    /// Adds one non-empty cell, with what its format does to it, to the current sheet.
    pub(crate) fn push_shown(
        &mut self,
        row: u32,
        col: u32,
        value: CellValue,
        shown: Shown,
    ) -> Result<(), InspectError> {
        self.cells += 1;
        if self.cells > self.max_cells {
            return Err(InspectError::TooLarge {
                limit: self.max_cells,
            });
        }
        if row >= KEEP_ROWS {
            if let Some(sheet) = self.sheets.last_mut() {
                sheet.beyond += 1;
            }
            return Ok(());
        }
        self.kept += 1;
        if self.kept > MAX_KEPT {
            return Err(InspectError::TooLarge { limit: MAX_KEPT });
        }
        let text = match &value {
            CellValue::Text(s) | CellValue::Error(s) | CellValue::FormulaWithoutValue(s) => s.len(),
            CellValue::Number(_) | CellValue::Bool(_) => 0,
        };
        self.charge_text(text)?;
        let Some(sheet) = self.sheets.last_mut() else {
            return Err(InspectError::Unreadable(
                "a cell was read outside any sheet".into(),
            ));
        };
        if let Some(scan) = self.scan.as_mut()
            && scan.wants(row)
        {
            scan.add(row, col, &heading_text(&value));
        }
        sheet.cells.push(Cell {
            row,
            col,
            value,
            shown,
        });
        Ok(())
    }

    /// Adds merged regions to the current sheet.
    pub(crate) fn merged(
        &mut self,
        regions: impl IntoIterator<Item = (u32, u32, u32, u32)>,
    ) -> Result<(), InspectError> {
        for region in regions {
            self.merged += 1;
            if self.merged > MAX_MERGED {
                return Err(InspectError::TooLarge { limit: MAX_MERGED });
            }
            if let Some(sheet) = self.sheets.last_mut() {
                sheet.merged.push(region);
            }
        }
        Ok(())
    }

    /// The grid read so far.
    pub(crate) fn finish(mut self) -> Grid {
        self.close_sheet();
        Grid {
            sheets: self.sheets,
            marker: self.names_marker.or(self.sheet_marker),
            defined_names: self.defined_names,
        }
    }

    fn close_sheet(&mut self) {
        if let Some(scan) = self.scan.take() {
            let (_, marker) = scan.finish();
            if self.sheet_marker.is_none() {
                self.sheet_marker = marker;
            }
        }
        if let Some(sheet) = self.sheets.last_mut() {
            // Writers list cells in order, so this is one linear pass with no copy (a stable
            // sort would borrow half the sheet's size again); a hand-made file need not, and a
            // position it repeats keeps its first value, as the heading scan does.
            if !sheet.cells.is_sorted_by_key(|c| (c.row, c.col)) {
                sheet.cells.sort_by_key(|c| (c.row, c.col));
            }
            sheet.cells.dedup_by_key(|c| (c.row, c.col));
            sheet.cells.shrink_to_fit();
            // Only numbers are changed by a format; a date read as such keeps its kind.
            for (row, col, shown) in self.formats.drain(..) {
                if let Ok(at) = sheet
                    .cells
                    .binary_search_by(|c| (c.row, c.col).cmp(&(row, col)))
                {
                    let cell = &mut sheet.cells[at];
                    if matches!(cell.value, CellValue::Number(_)) && cell.shown != Shown::Date {
                        cell.shown = shown;
                    }
                }
            }
        }
        self.formats.clear();
        self.formats.shrink_to_fit();
    }
}

/// A cell's text as the heading scan sees it (trimmed), so that markers are found as
/// `inspect` finds them.
fn heading_text(value: &CellValue) -> String {
    match value {
        CellValue::Number(n) => n.to_string(),
        CellValue::Text(s) => s.trim().to_string(),
        CellValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        CellValue::Error(e) => e.clone(),
        CellValue::FormulaWithoutValue(_) => String::new(),
    }
}

/// A streamed xlsx value as a cell, `None` when empty; `date_offset` turns date serials of
/// a 1904-system workbook into 1900-system ones.
pub(crate) fn from_ref(value: &DataRef<'_>, date_offset: f64) -> Option<CellValue> {
    Some(match value {
        DataRef::Empty => return None,
        DataRef::String(s) => text(s)?,
        DataRef::SharedString(s) => text(s)?,
        DataRef::Int(i) => CellValue::Number(*i as f64),
        DataRef::Float(f) => number(*f),
        DataRef::Bool(b) => CellValue::Bool(*b),
        DataRef::DateTime(d) if d.is_datetime() => number(d.as_f64() + date_offset),
        DataRef::DateTime(d) => number(d.as_f64()),
        DataRef::DateTimeIso(s) => iso_date(s)?,
        DataRef::DurationIso(s) => iso_duration(s)?,
        DataRef::Error(e) => CellValue::Error(e.to_string()),
    })
}

/// Whether calamine read a streamed xlsx value as a date or time (by its number format).
pub(crate) fn ref_is_date(value: &DataRef<'_>) -> bool {
    matches!(value, DataRef::DateTime(_) | DataRef::DateTimeIso(_))
}

/// Whether calamine read a loaded xls or ods value as a date or time.
pub(crate) fn data_is_date(value: &Data) -> bool {
    matches!(value, Data::DateTime(_) | Data::DateTimeIso(_))
}

/// A loaded xls or ods value as a cell, `None` when empty.
pub(crate) fn from_data(value: &Data, date_offset: f64) -> Option<CellValue> {
    Some(match value {
        Data::Empty => return None,
        Data::String(s) => text(s)?,
        Data::Int(i) => CellValue::Number(*i as f64),
        Data::Float(f) => number(*f),
        Data::Bool(b) => CellValue::Bool(*b),
        Data::DateTime(d) if d.is_datetime() => number(d.as_f64() + date_offset),
        Data::DateTime(d) => number(d.as_f64()),
        Data::DateTimeIso(s) => iso_date(s)?,
        Data::DurationIso(s) => iso_duration(s)?,
        Data::Error(e) => CellValue::Error(e.to_string()),
    })
}

/// A number as a cell; calamine parses `nan` and `inf` in a hand-made file as numbers.
fn number(n: f64) -> CellValue {
    if n.is_finite() {
        CellValue::Number(n)
    } else {
        CellValue::Error("#NUM!".into())
    }
}

/// Whether [`from_data`] makes a cell of `value`, without making it.
pub(crate) fn holds_value(value: &Data) -> bool {
    match value {
        Data::Empty => false,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => !s.is_empty(),
        _ => true,
    }
}

fn text(s: &str) -> Option<CellValue> {
    (!s.is_empty()).then(|| CellValue::Text(s.to_string()))
}

/// Days from 1899-12-30, the day before serial 1 of the 1900 date system (which reckons
/// with a 29 February 1900 that never was, so serials agree from 1 March 1900 on).
fn serial_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1899, 12, 30)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// An ISO 8601 date or date-time (an ods `date-value`, an xlsx `t="d"` cell) as its serial
/// number, so that dates read alike in every format; text that is no such date stays text.
fn iso_date(s: &str) -> Option<CellValue> {
    let trimmed = s.trim();
    let at = NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(trimmed, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        });
    match at {
        Some(at) => {
            let ms = (at - serial_epoch()).num_milliseconds();
            Some(CellValue::Number(ms as f64 / 86_400_000.0))
        }
        None => text(s),
    }
}

/// An ISO 8601 duration (an ods `time-value`, `PT12H30M00S`) as a fraction of days, the
/// way the other formats store times; anything else stays text.
fn iso_duration(s: &str) -> Option<CellValue> {
    match parse_duration_days(s.trim()) {
        Some(days) => Some(CellValue::Number(days)),
        None => text(s),
    }
}

fn parse_duration_days(s: &str) -> Option<f64> {
    let (sign, s) = match s.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, s),
    };
    let s = s.strip_prefix('P')?;
    let (date, time) = match s.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (s, None),
    };
    let mut days = 0.0;
    let mut parts = components(date, &[('D', 1.0)], &mut days)?;
    if let Some(time) = time {
        let units = [
            ('H', 1.0 / 24.0),
            ('M', 1.0 / 1440.0),
            ('S', 1.0 / 86_400.0),
        ];
        match components(time, &units, &mut days)? {
            0 => return None,
            n => parts += n,
        }
    }
    (parts > 0).then_some(sign * days)
}

/// Adds the components of `text` (`12H30M00S`), each unit at most once and in the order
/// of `units`, to `days`; returns how many there were.
fn components(text: &str, units: &[(char, f64)], days: &mut f64) -> Option<usize> {
    let (mut next, mut count, mut start) = (0, 0, 0);
    for (i, ch) in text.char_indices() {
        if ch.is_ascii_digit() || ch == '.' {
            continue;
        }
        let at = next + units[next..].iter().position(|(u, _)| *u == ch)?;
        let value: f64 = text[start..i].parse().ok()?;
        *days += value * units[at].1;
        (next, count, start) = (at + 1, count + 1, i + ch.len_utf8());
    }
    (start == text.len()).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn cell(row: u32, col: u32, value: CellValue) -> Cell {
        Cell {
            row,
            col,
            value,
            shown: Shown::Plain,
        }
    }

    #[test]
    fn number_formats_say_what_a_number_means() {
        for (code, shown) in [
            ("General", Shown::Plain),
            ("0", Shown::Plain),
            ("#,##0.00", Shown::Plain),
            ("#.##0,00", Shown::Plain),
            ("0.00E+00", Shown::Plain),
            ("@", Shown::Plain),
            (r#"#,##0\ "đ""#, Shown::Plain),
            ("[$-42A]#,##0", Shown::Plain),
            ("0%", Shown::Percent),
            ("0.0%", Shown::Percent),
            ("#,##0.00%;[Red]-#,##0.00%", Shown::Percent),
            (r#"0.0" %""#, Shown::Plain),
            (r#"0.0\%"#, Shown::Plain),
            ("#,##0,", Shown::Scaled(1)),
            (r#"#,##0.0,," tr""#, Shown::Scaled(2)),
            (r#"0,"K""#, Shown::Scaled(1)),
            ("dd/mm/yyyy", Shown::Date),
            ("[$-409]d-mmm-yy;@", Shown::Date),
            ("[h]:mm:ss", Shown::Date),
        ] {
            assert_eq!(Shown::of_format(code), shown, "{code}");
        }
    }

    #[test]
    fn formats_noted_apart_apply_to_numbers_only() {
        let mut b = GridBuilder::new(&limits());
        b.sheet("S", true).unwrap();
        b.format(0, 0, Shown::Percent).unwrap();
        b.format(0, 1, Shown::Percent).unwrap();
        b.format(5, 5, Shown::Percent).unwrap();
        b.push(0, 0, CellValue::Number(0.912)).unwrap();
        b.push(0, 1, CellValue::Text("91,2 %".into())).unwrap();
        b.push_shown(0, 2, CellValue::Number(43287.0), Shown::Date)
            .unwrap();
        b.format(0, 2, Shown::Percent).unwrap();
        let grid = b.finish();
        let shown: Vec<Shown> = grid.sheets[0].cells.iter().map(|c| c.shown).collect();
        assert_eq!(shown, [Shown::Percent, Shown::Plain, Shown::Date]);
    }

    #[test]
    fn cells_far_down_are_counted_not_kept() {
        let mut b = GridBuilder::new(&limits());
        b.sheet("S", true).unwrap();
        b.push(KEEP_ROWS - 1, 0, CellValue::Number(1.0)).unwrap();
        for row in KEEP_ROWS..KEEP_ROWS + 5 {
            b.push(row, 0, CellValue::Text("x".repeat(1000))).unwrap();
        }
        let grid = b.finish();
        assert_eq!(grid.sheets[0].cells.len(), 1);
        assert_eq!(grid.sheets[0].beyond, 5);
        // They still count against the cells read.
        let mut b = GridBuilder::new(&Limits {
            max_cells: 3,
            ..limits()
        });
        b.sheet("S", true).unwrap();
        let pushed: Vec<bool> = (0..4)
            .map(|i| b.push(KEEP_ROWS + i, 0, CellValue::Number(1.0)).is_ok())
            .collect();
        assert_eq!(pushed, [true, true, true, false]);
    }

    #[test]
    fn a1_names_cells() {
        assert_eq!(a1(0, 0), "A1");
        assert_eq!(a1(6, 27), "AB7");
        assert_eq!(a1(0, 25), "Z1");
        assert_eq!(a1(0, 26), "AA1");
        assert_eq!(a1(0, 701), "ZZ1");
        assert_eq!(a1(0, 702), "AAA1");
        assert_eq!(a1(1_048_575, 16_383), "XFD1048576");
        assert_eq!(a1(u32::MAX, u32::MAX), "MWLQKWV4294967296");
    }

    #[test]
    fn value_follows_merged_regions_to_their_top_left() {
        let sheet = Sheet {
            name: "S".into(),
            visible: true,
            cells: vec![
                cell(2, 0, CellValue::Text("Title".into())),
                cell(4, 1, CellValue::Number(3.0)),
            ],
            merged: vec![(2, 0, 3, 5)],
            beyond: 0,
        };
        let grid = Grid {
            sheets: vec![sheet],
            marker: None,
            defined_names: vec![],
        };
        let title = Some(&CellValue::Text("Title".into()));
        assert_eq!(grid.value(0, 2, 0), title);
        assert_eq!(grid.value(0, 3, 5), title);
        assert_eq!(grid.value(0, 2, 6), None);
        assert_eq!(grid.value(0, 4, 1), Some(&CellValue::Number(3.0)));
        assert_eq!(grid.value(0, 4, 2), None);
        assert_eq!(grid.value(1, 4, 1), None);
    }

    #[test]
    fn builder_sorts_keeps_first_of_repeats_and_finds_the_marker() {
        let mut b = GridBuilder::new(&limits());
        b.defined_names(&[("Print_Area".into(), "S!$A$1:$B$2".into())])
            .unwrap();
        b.sheet("S", true).unwrap();
        b.push(5, 1, CellValue::Number(2.0)).unwrap();
        b.push(5, 0, CellValue::Text(" a ".into())).unwrap();
        b.push(5, 0, CellValue::Text("later".into())).unwrap();
        b.merged([(0, 0, 0, 3)]).unwrap();
        b.sheet("_intake", false).unwrap();
        b.push(0, 0, CellValue::Text(" intake-form:f-1@2 ".into()))
            .unwrap();
        let grid = b.finish();
        assert_eq!(
            grid.sheets[0].cells,
            [
                cell(5, 0, CellValue::Text(" a ".into())),
                cell(5, 1, CellValue::Number(2.0)),
            ]
        );
        assert_eq!(grid.sheets[0].merged, [(0, 0, 0, 3)]);
        assert!(!grid.sheets[1].visible);
        assert_eq!(
            grid.marker,
            Some(FormMarker {
                form: "f-1".into(),
                version: 2
            })
        );
        assert_eq!(grid.defined_names.len(), 1);
    }

    #[test]
    fn a_defined_name_marker_comes_first() {
        let mut b = GridBuilder::new(&limits());
        b.defined_names(&[("intake_form".into(), "\"intake-form:n@1\"".into())])
            .unwrap();
        b.sheet("S", true).unwrap();
        b.push(0, 0, CellValue::Text("intake-form:c@1".into()))
            .unwrap();
        assert_eq!(b.finish().marker.map(|m| m.form), Some("n".into()));
    }

    #[test]
    fn builder_stops_past_each_limit() {
        let small = Limits {
            max_cells: 2,
            max_text_bytes: 10,
            ..limits()
        };
        let mut b = GridBuilder::new(&small);
        b.sheet("S", true).unwrap();
        b.push(0, 0, CellValue::Number(1.0)).unwrap();
        b.push(0, 1, CellValue::Number(1.0)).unwrap();
        assert_eq!(
            b.push(0, 2, CellValue::Number(1.0)),
            Err(InspectError::TooLarge { limit: 2 })
        );

        let mut b = GridBuilder::new(&small);
        b.sheet("Sheet", true).unwrap();
        assert_eq!(
            b.push(0, 0, CellValue::Text("123456".into())),
            Err(InspectError::TooLarge { limit: 10 })
        );

        let mut b = GridBuilder::new(&limits());
        b.sheet("S", true).unwrap();
        let many = (0..=MAX_MERGED as u32).map(|r| (r, 0, r, 1));
        assert_eq!(
            b.merged(many),
            Err(InspectError::TooLarge { limit: MAX_MERGED })
        );

        let mut b = GridBuilder::new(&limits());
        for i in 0..MAX_SHEETS {
            b.sheet(&i.to_string(), true).unwrap();
        }
        assert_eq!(
            b.sheet("one more", true),
            Err(InspectError::TooLarge {
                limit: MAX_SHEETS as u64
            })
        );
    }

    #[test]
    fn values_convert_without_interpretation() {
        assert_eq!(from_data(&Data::Empty, 0.0), None);
        assert_eq!(from_data(&Data::String(String::new()), 0.0), None);
        assert_eq!(
            from_data(&Data::String("  x \n".into()), 0.0),
            Some(CellValue::Text("  x \n".into()))
        );
        assert_eq!(
            from_data(&Data::String("   ".into()), 0.0),
            Some(CellValue::Text("   ".into()))
        );
        assert_eq!(
            from_data(&Data::Int(-3), 0.0),
            Some(CellValue::Number(-3.0))
        );
        assert_eq!(
            from_data(&Data::Bool(false), 0.0),
            Some(CellValue::Bool(false))
        );
        assert_eq!(
            from_data(&Data::Error(calamine::CellErrorType::Div0), 0.0),
            Some(CellValue::Error("#DIV/0!".into()))
        );
        assert_eq!(from_ref(&DataRef::SharedString(""), 0.0), None);
        for v in [
            Data::Empty,
            Data::String(String::new()),
            Data::DateTimeIso(String::new()),
            Data::DurationIso(String::new()),
            Data::String(" ".into()),
            Data::Float(0.0),
            Data::Bool(false),
        ] {
            assert_eq!(holds_value(&v), from_data(&v, 0.0).is_some(), "{v:?}");
        }
        assert_eq!(
            from_ref(&DataRef::Float(0.0), 0.0),
            Some(CellValue::Number(0.0))
        );
        for odd in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let got = from_data(&Data::Float(odd), 0.0);
            assert_eq!(got, Some(CellValue::Error("#NUM!".into())));
        }
    }

    #[test]
    fn iso_dates_and_times_become_serials() {
        let n = |v: Option<CellValue>| match v {
            Some(CellValue::Number(n)) => n,
            other => panic!("not a number: {other:?}"),
        };
        // 10 July 2018 is serial 43291 in Excel.
        assert_eq!(
            n(from_data(&Data::DateTimeIso("2018-07-10".into()), 0.0)),
            43291.0
        );
        assert_eq!(
            n(from_data(
                &Data::DateTimeIso("2018-07-10T12:00:00".into()),
                0.0
            )),
            43291.5
        );
        assert_eq!(
            n(from_data(&Data::DurationIso("PT12H30M00S".into()), 0.0)),
            12.5 / 24.0
        );
        assert_eq!(n(from_data(&Data::DurationIso("P1DT6H".into()), 0.0)), 1.25);
        assert_eq!(
            n(from_data(&Data::DurationIso("-PT1.5S".into()), 0.0)),
            -1.5 / 86_400.0
        );
        assert_eq!(
            from_data(&Data::DateTimeIso("not a date".into()), 0.0),
            Some(CellValue::Text("not a date".into()))
        );
        for bad in ["P", "PT", "P1H", "PT1M1H", "T1H", "PT1X", "PTH", "PT1H2"] {
            assert_eq!(parse_duration_days(bad), None, "{bad}");
        }
        let dt = calamine::ExcelDateTime::new(0.0, calamine::ExcelDateTimeType::DateTime, true);
        assert_eq!(
            from_data(&Data::DateTime(dt), 1462.0),
            Some(CellValue::Number(1462.0))
        );
    }

    #[test]
    fn grid_round_trips_through_json() {
        let grid = Grid {
            sheets: vec![Sheet {
                name: "Biểu".into(),
                visible: false,
                cells: vec![
                    cell(0, 0, CellValue::Number(1.5)),
                    cell(0, 1, CellValue::Text("\u{0}x\"".into())),
                    cell(0, 2, CellValue::Bool(true)),
                    cell(0, 3, CellValue::Error("#N/A".into())),
                    cell(1, 0, CellValue::FormulaWithoutValue("SUM(A1:B1)".into())),
                ],
                merged: vec![(0, 0, 0, 1)],
                beyond: 0,
            }],
            marker: Some(FormMarker {
                form: "f".into(),
                version: 1,
            }),
            defined_names: vec![("a".into(), "b".into())],
        };
        let json = serde_json::to_string(&grid).unwrap();
        assert_eq!(serde_json::from_str::<Grid>(&json).unwrap(), grid);
    }
}
