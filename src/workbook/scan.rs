//! # Sheet scanning
//!
//! Turns a sheet's cells, met in any order, into what [`super::SheetInfo`] reports: a count,
//! the heading text and a marker. Shared by the streaming xlsx reader and the whole-sheet
//! readers, so that every format answers alike. Memory stays bounded whatever the sheet
//! holds: only the first heading rows are kept, each with at most [`MAX_HEADING`] cells.

use std::collections::BTreeMap;

use calamine::{Data, DataRef};

use super::FormMarker;

/// Most heading entries kept for one sheet.
pub(crate) const MAX_HEADING: usize = 64;

/// Longest heading entry kept, in characters; title cells are far shorter.
const MAX_HEADING_CHARS: usize = 1000;

/// Longest form id a marker may carry.
const MAX_FORM_ID: usize = 64;

const MARKER_PREFIX: &str = "intake-form:";

/// The cells of one heading row kept so far.
#[derive(Debug, Default)]
struct HeadingRow {
    /// (column, text), sorted by column, at most `MAX_HEADING` long.
    cells: Vec<(u32, String)>,
    /// The leftmost marker cell of the row.
    marker: Option<(u32, FormMarker)>,
}

/// What has been learnt of one sheet so far.
#[derive(Debug)]
pub(crate) struct SheetScan {
    heading_rows: usize,
    rows: BTreeMap<u32, HeadingRow>,
    /// Non-empty cells seen.
    pub(crate) cells: u64,
}

impl SheetScan {
    /// A scan that keeps the first `heading_rows` non-empty rows.
    pub(crate) fn new(heading_rows: u32) -> Self {
        SheetScan {
            heading_rows: heading_rows as usize,
            rows: BTreeMap::new(),
            cells: 0,
        }
    }

    /// Whether a non-empty cell in `row` could still belong to the heading; lets callers
    /// skip rendering the text of the many cells that cannot.
    pub(crate) fn wants(&self, row: u32) -> bool {
        if self.heading_rows == 0 {
            return false;
        }
        if self.rows.len() < self.heading_rows {
            return true;
        }
        self.rows
            .last_key_value()
            .is_some_and(|(&last, _)| row <= last)
    }

    /// Notes one non-empty cell whose rendered, trimmed text is `text`.
    pub(crate) fn add(&mut self, row: u32, col: u32, text: &str) {
        if text.is_empty() || !self.wants(row) {
            return;
        }
        let entry = self.rows.entry(row).or_default();
        if let Some(marker) = parse_marker(text)
            && entry.marker.as_ref().is_none_or(|(c, _)| col < *c)
        {
            entry.marker = Some((col, marker));
        }
        let at = entry.cells.partition_point(|(c, _)| *c < col);
        if entry.cells.get(at).is_some_and(|(c, _)| *c == col) {
            // A repeated position in a malformed file: the first value stands.
        } else if at < MAX_HEADING {
            entry.cells.insert(at, (col, truncate(text)));
            entry.cells.truncate(MAX_HEADING);
        }
        if self.rows.len() > self.heading_rows {
            self.rows.pop_last();
        }
    }

    /// The heading entries in reading order and the sheet's first marker cell.
    pub(crate) fn finish(self) -> (Vec<String>, Option<FormMarker>) {
        let marker = self
            .rows
            .values()
            .find_map(|r| r.marker.clone())
            .map(|(_, m)| m);
        let heading = self
            .rows
            .into_values()
            .flat_map(|r| r.cells.into_iter().map(|(_, t)| t))
            .take(MAX_HEADING)
            .collect();
        (heading, marker)
    }
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_HEADING_CHARS) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}

/// Whether a streamed cell value counts as a cell: not empty and not blank text.
pub(crate) fn is_blank_ref(value: &DataRef<'_>) -> bool {
    match value {
        DataRef::Empty => true,
        DataRef::String(s) => s.trim().is_empty(),
        DataRef::SharedString(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Whether a loaded cell value counts as a cell: not empty and not blank text.
pub(crate) fn is_blank(value: &Data) -> bool {
    match value {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A streamed cell's text as the heading shows it: strings trimmed, numbers as text.
pub(crate) fn render_ref(value: &DataRef<'_>) -> String {
    match value {
        DataRef::String(s) => s.trim().to_string(),
        DataRef::SharedString(s) => s.trim().to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => render_float(*f),
        DataRef::Bool(b) => render_bool(*b),
        // calamine without its `dates` feature knows no calendar: the serial number is
        // what the cell holds, and title cells are text anyway.
        DataRef::DateTime(d) => render_float(d.as_f64()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.trim().to_string(),
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    }
}

/// A loaded cell's text as the heading shows it: strings trimmed, numbers as text.
pub(crate) fn render(value: &Data) -> String {
    match value {
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => render_float(*f),
        Data::Bool(b) => render_bool(*b),
        Data::DateTime(d) => render_float(d.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Error(e) => e.to_string(),
        Data::Empty => String::new(),
    }
}

fn render_float(f: f64) -> String {
    // Rust prints 2018.0 as "2018" and keeps the shortest text that round-trips otherwise.
    f.to_string()
}

fn render_bool(b: bool) -> String {
    if b { "TRUE" } else { "FALSE" }.to_string()
}

/// Parses `intake-form:<form>@<version>`; the prefix is matched without regard to case.
pub(crate) fn parse_marker(text: &str) -> Option<FormMarker> {
    let text = text.trim();
    let head = text.get(..MARKER_PREFIX.len())?;
    if !head.eq_ignore_ascii_case(MARKER_PREFIX) {
        return None;
    }
    let (form, version) = text[MARKER_PREFIX.len()..].rsplit_once('@')?;
    let form_ok = !form.is_empty()
        && form.len() <= MAX_FORM_ID
        && form
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let version_ok = !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit());
    if !form_ok || !version_ok {
        return None;
    }
    Some(FormMarker {
        form: form.to_string(),
        version: version.parse().ok()?,
    })
}

/// Parses a defined name's value: the marker, quoted or not, possibly after a leading `=`.
pub(crate) fn parse_marker_formula(value: &str) -> Option<FormMarker> {
    let value = value.trim();
    let value = value.strip_prefix('=').unwrap_or(value).trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    parse_marker(value)
}

/// The marker a workbook's defined names carry, if any (`intake_form`, any case).
pub(crate) fn marker_from_names(names: &[(String, String)]) -> Option<FormMarker> {
    names
        .iter()
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("intake_form"))
        .find_map(|(_, value)| parse_marker_formula(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(form: &str, version: u32) -> FormMarker {
        FormMarker {
            form: form.into(),
            version,
        }
    }

    #[test]
    fn marker_cells_parse() {
        assert_eq!(
            parse_marker("intake-form:742-2018-pl1@1"),
            Some(marker("742-2018-pl1", 1))
        );
        assert_eq!(
            parse_marker("  Intake-Form:so_y_te.app1@12 "),
            Some(marker("so_y_te.app1", 12))
        );
        for bad in [
            "",
            "intake-form:",
            "intake-form:@1",
            "intake-form:x@",
            "intake-form:x@v1",
            "intake-form:x@-1",
            "intake-form:a b@1",
            "intake-form:x@99999999999",
            "form:x@1",
            "intake-form x@1",
            "Biểu mẫu intake-form:x@1",
        ] {
            assert_eq!(parse_marker(bad), None, "{bad:?}");
        }
        let long = format!("intake-form:{}@1", "a".repeat(MAX_FORM_ID + 1));
        assert_eq!(parse_marker(&long), None);
    }

    #[test]
    fn marker_defined_names_parse_quoted_or_not() {
        for value in [
            "\"intake-form:742-2018-pl1@3\"",
            "=\"intake-form:742-2018-pl1@3\"",
            "= \"intake-form:742-2018-pl1@3\" ",
            "intake-form:742-2018-pl1@3",
            "=intake-form:742-2018-pl1@3",
        ] {
            assert_eq!(
                parse_marker_formula(value),
                Some(marker("742-2018-pl1", 3)),
                "{value:?}"
            );
        }
        let names = vec![
            ("Print_Area".to_string(), "Sheet1!$A$1:$B$2".to_string()),
            ("INTAKE_FORM".to_string(), "\"intake-form:f@2\"".to_string()),
        ];
        assert_eq!(marker_from_names(&names), Some(marker("f", 2)));
        assert_eq!(marker_from_names(&names[..1]), None);
    }

    #[test]
    fn heading_keeps_first_non_empty_rows_in_reading_order() {
        let mut scan = SheetScan::new(2);
        // Out of order on purpose: a hand-made file need not list cells in order.
        scan.add(7, 0, "late");
        scan.add(4, 1, "B5");
        scan.add(2, 3, "D3");
        scan.add(2, 0, "A3");
        scan.add(9, 0, "never");
        let (heading, marker) = scan.finish();
        assert_eq!(heading, ["A3", "D3", "B5"]);
        assert_eq!(marker, None);
    }

    #[test]
    fn heading_is_capped_and_marker_found_past_the_cap() {
        let mut scan = SheetScan::new(8);
        for col in 0..200 {
            scan.add(0, col, &format!("c{col}"));
        }
        scan.add(0, 300, "intake-form:x@1");
        scan.add(1, 0, "row two");
        let (heading, found) = scan.finish();
        assert_eq!(heading.len(), MAX_HEADING);
        assert_eq!(heading[0], "c0");
        assert_eq!(found, Some(marker("x", 1)));
    }

    #[test]
    fn markers_outside_the_heading_rows_are_ignored() {
        let mut scan = SheetScan::new(1);
        scan.add(0, 0, "title");
        scan.add(1, 0, "intake-form:x@1");
        assert_eq!(scan.finish().1, None);
    }

    #[test]
    fn long_text_is_truncated_on_a_char_boundary() {
        let mut scan = SheetScan::new(1);
        scan.add(0, 0, &"ệ".repeat(MAX_HEADING_CHARS + 5));
        let (heading, _) = scan.finish();
        assert_eq!(heading[0].chars().count(), MAX_HEADING_CHARS);
    }

    #[test]
    fn values_render_as_text() {
        assert_eq!(render(&Data::Float(2018.0)), "2018");
        assert_eq!(render(&Data::Float(2.5)), "2.5");
        assert_eq!(render(&Data::Int(-3)), "-3");
        assert_eq!(render(&Data::Bool(true)), "TRUE");
        assert_eq!(render(&Data::String("  Báo cáo \n".into())), "Báo cáo");
        assert_eq!(render_ref(&DataRef::SharedString(" x ")), "x");
        assert!(is_blank(&Data::String("  ".into())));
        assert!(is_blank_ref(&DataRef::SharedString("")));
        assert!(!is_blank_ref(&DataRef::Float(0.0)));
    }
}
