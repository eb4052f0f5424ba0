//! # Blank forms
//!
//! Writes the xlsx workbook agencies receive with a dispatch, straight from the form's
//! specification, so that the form sent out and the form intake checks are the same data.
//! Each copy carries the marker intake's reader looks for (a hidden `_intake` sheet and an
//! `intake_form` defined name); a copy made for one agency also shows which rows it must
//! fill. Nothing is protected: agencies must be free to edit, and intake copes with edits.

use rust_xlsxwriter::{
    Color, DocProperties, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

use super::annotate::SheetNames;
use super::spec::AgencyKind;
use super::spec::{FormSpec, RowSpec, SheetSpec, ValueKind};

/// Name of the hidden sheet whose A1 holds the marker.
pub const MARKER_SHEET: &str = "_intake";

/// Name of the workbook-level defined name that also holds the marker.
pub const MARKER_NAME: &str = "intake_form";

/// Heading of the last column, where required rows say "bắt buộc".
pub const NOTE_HEADER: &str = "Ghi chú";

/// What the note column says on a row the agency must fill.
pub const REQUIRED_NOTE: &str = "bắt buộc";

/// Rows kept for the heading lines even when a form has fewer, so that the table starts at
/// the same row (7) on every form.
const HEADING_LINES: u32 = 3;

/// Fill of the rows an agency must fill (light yellow).
pub const REQUIRED_FILL: u32 = 0xFFF2CC;

/// Fill of the value cells of heading rows, which take no value (light grey).
pub(crate) const HEADING_ROW_FILL: u32 = 0xEDEDED;

/// Why a blank form could not be written; a fault of the machine or of the form file, never
/// of an agency.
#[derive(Debug, thiserror::Error)]
pub enum BlankError {
    /// A sheet could not be laid out (for instance, a form wider than Excel allows).
    #[error("blank form {form}, sheet {sheet}: {source}")]
    Sheet {
        /// The form id.
        form: String,
        /// The sheet's name in the form.
        sheet: String,
        /// The cause.
        #[source]
        source: XlsxError,
    },
    /// The workbook could not be assembled.
    #[error("blank form {form}: {source}")]
    Workbook {
        /// The form id.
        form: String,
        /// The cause.
        #[source]
        source: XlsxError,
    },
}

/// Where each part of a sheet sits in the blank form (0-based rows and columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The "ĐƠN VỊ: …" line (row 1).
    pub agency_row: u32,
    /// The first of the form's heading lines (row 2).
    pub heading_row: u32,
    /// The sheet's title, when it has one (row 5 for up to three heading lines).
    pub title_row: u32,
    /// The column headers (row 7 for up to three heading lines).
    pub header_row: u32,
    /// The column numbers "(1)", "(2)", … under the headers.
    pub numbers_row: u32,
    /// The first indicator row; indicator `i` is on `first_row + i`.
    pub first_row: u32,
    /// The code column.
    pub code_col: u16,
    /// The label column.
    pub label_col: u16,
    /// The unit column.
    pub unit_col: u16,
    /// The first value column; column spec `j` is on `first_value_col + j`.
    pub first_value_col: u16,
    /// The last column, "Ghi chú".
    pub note_col: u16,
}

impl Layout {
    /// The layout of `sheet` in the blank form of `spec`.
    pub fn of(spec: &FormSpec, sheet: &SheetSpec) -> Layout {
        let heading_lines = u32::try_from(spec.heading.len())
            .unwrap_or(u32::MAX)
            .max(HEADING_LINES);
        let title_row = 1u32.saturating_add(heading_lines);
        let header_row = title_row.saturating_add(2);
        let first_value_col = 3u16;
        let note_col =
            first_value_col.saturating_add(u16::try_from(sheet.columns.len()).unwrap_or(u16::MAX));
        Layout {
            agency_row: 0,
            heading_row: 1,
            title_row,
            header_row,
            numbers_row: header_row.saturating_add(1),
            first_row: header_row.saturating_add(2),
            code_col: 0,
            label_col: 1,
            unit_col: 2,
            first_value_col,
            note_col,
        }
    }
}

/// The marker text of a form, as the hidden sheet's A1 holds it: `intake-form:<id>@<version>`.
pub fn marker_text(spec: &FormSpec) -> String {
    format!("intake-form:{}@{}", spec.id, spec.version)
}

/// Writes the blank workbook of a form, as agencies receive it with the dispatch.
///
/// `agency`: when given (code, kind, name), the rows that agency must fill are marked (light
/// yellow fill and a "bắt buộc" note in the last "Ghi chú" column) and its name fills the
/// "ĐƠN VỊ: ..." line; otherwise "ĐƠN VỊ: ..............." is left to fill. The "Ghi chú"
/// column is there either way, so that every copy of a form has the same columns.
pub fn blank_form(
    spec: &FormSpec,
    agency: Option<(&str, AgencyKind, &str)>,
) -> Result<Vec<u8>, BlankError> {
    let styles = Styles::new();
    let mut workbook = Workbook::new();
    let mut names = SheetNames::new();
    names.reserve(MARKER_SHEET);
    for sheet in &spec.sheets {
        let name = names.reserve(&sheet.name);
        let worksheet = workbook.add_worksheet();
        write_sheet(worksheet, &name, spec, sheet, agency, &styles).map_err(|source| {
            BlankError::Sheet {
                form: spec.id.clone(),
                sheet: sheet.name.clone(),
                source,
            }
        })?;
    }
    let whole = |source| BlankError::Workbook {
        form: spec.id.clone(),
        source,
    };
    let marker = marker_text(spec);
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(MARKER_SHEET).map_err(whole)?;
    worksheet.write_string(0, 0, &marker).map_err(whole)?;
    worksheet
        .write_string(
            1,
            0,
            "Trang đánh dấu biểu mẫu của hệ thống tiếp nhận: xin đừng xóa hay sửa.",
        )
        .map_err(whole)?;
    worksheet.set_hidden(true);
    // A string constant is a valid defined-name formula; the reader takes it quoted or not.
    workbook
        .define_name(MARKER_NAME, &format!("=\"{marker}\""))
        .map_err(whole)?;
    let title = spec.heading.get(1).or(spec.heading.first());
    // A fixed creation time: the same form always gives the same bytes.
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1).map_err(whole)?;
    let mut properties = DocProperties::new()
        .set_subject(&marker)
        .set_creation_datetime(&created);
    if let Some(title) = title {
        properties = properties.set_title(title);
    }
    workbook.set_properties(&properties);
    workbook.save_to_buffer().map_err(whole)
}

fn write_sheet(
    ws: &mut Worksheet,
    name: &str,
    spec: &FormSpec,
    sheet: &SheetSpec,
    agency: Option<(&str, AgencyKind, &str)>,
    styles: &Styles,
) -> Result<(), XlsxError> {
    ws.set_name(name)?;
    let unit = match agency {
        Some((_, _, name)) => format!("ĐƠN VỊ: {}", name.trim().to_uppercase()),
        None => "ĐƠN VỊ: ...............".to_string(),
    };
    let required = |row: &RowSpec| {
        row.kind.is_some() && agency.is_some_and(|(code, kind, _)| row.who.includes(code, kind))
    };
    let fill = |row: &RowSpec| required(row).then_some(REQUIRED_FILL);
    let at = write_frame(ws, spec, sheet, &unit, &[], &fill, styles)?;

    for (i, row) in sheet.rows.iter().enumerate() {
        let r = at
            .first_row
            .saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        let fill = fill(row);
        for j in 0..sheet.columns.len() {
            let col = at
                .first_value_col
                .saturating_add(u16::try_from(j).unwrap_or(u16::MAX));
            ws.write_blank(r, col, &styles.value(row.kind, fill))?;
        }
        if required(row) {
            ws.write_string_with_format(r, at.note_col, REQUIRED_NOTE, &styles.note(fill))?;
        } else {
            ws.write_blank(r, at.note_col, &styles.note(fill))?;
        }
    }
    if agency.is_some() {
        let below = at
            .first_row
            .saturating_add(u32::try_from(sheet.rows.len()).unwrap_or(u32::MAX))
            .saturating_add(1);
        ws.write_string_with_format(
            below,
            at.label_col,
            "Các dòng tô vàng, ghi \"bắt buộc\", là chỉ tiêu đơn vị phải báo cáo.",
            &styles.legend,
        )?;
    }

    ws.set_freeze_panes(at.first_row, 0)?;
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(at.header_row, at.numbers_row)?;
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.5, 0.5, 0.6, 0.6, 0.3, 0.3);
    ws.set_footer("&CTrang &P/&N");
    Ok(())
}

/// Writes what every sheet in a form's layout shares, so that a copy made for another purpose
/// (the consolidated province sheet) keeps the form's own rows and columns: the unit line,
/// the form's heading lines and the sheet's title, the column headers ("Ghi chú" then
/// `extra`) with their numbers "(1)", "(2)", …, each row's code, label and unit (on `fill`
/// of the row), and the column widths. Value and note cells are left to the caller.
pub(crate) fn write_frame(
    ws: &mut Worksheet,
    spec: &FormSpec,
    sheet: &SheetSpec,
    unit_line: &str,
    extra: &[&str],
    fill: &dyn Fn(&RowSpec) -> Option<u32>,
    styles: &Styles,
) -> Result<Layout, XlsxError> {
    let at = Layout::of(spec, sheet);
    let last_col = at
        .note_col
        .saturating_add(u16::try_from(extra.len()).unwrap_or(u16::MAX));

    ws.write_string_with_format(at.agency_row, 0, unit_line, &styles.agency)?;
    for (i, line) in spec.heading.iter().enumerate() {
        let row = at
            .heading_row
            .saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        ws.merge_range(row, 0, row, last_col, line, &styles.heading)?;
    }
    if let Some(title) = &sheet.title {
        ws.merge_range(
            at.title_row,
            0,
            at.title_row,
            last_col,
            title,
            &styles.title,
        )?;
    }

    let mut headers = vec![
        sheet.code_header.as_str(),
        sheet.label_header.as_str(),
        sheet.unit_header.as_str(),
    ];
    headers.extend(sheet.columns.iter().map(|c| c.label.as_str()));
    headers.push(NOTE_HEADER);
    headers.extend(extra);
    for (col, text) in (0u16..).zip(&headers) {
        ws.write_string_with_format(at.header_row, col, *text, &styles.header)?;
        ws.write_string_with_format(
            at.numbers_row,
            col,
            format!("({})", u32::from(col) + 1),
            &styles.numbers,
        )?;
    }
    ws.set_row_height(at.header_row, 33)?;

    for (i, row) in sheet.rows.iter().enumerate() {
        let r = at
            .first_row
            .saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        let fill = fill(row);
        let heading = row.kind.is_none();
        ws.write_string_with_format(r, at.code_col, &row.code, &styles.code(heading, fill))?;
        let indent = row.code.contains('.');
        ws.write_string_with_format(
            r,
            at.label_col,
            &row.label,
            &styles.label(heading, indent, fill),
        )?;
        ws.write_string_with_format(r, at.unit_col, &row.unit, &styles.centred(fill))?;
    }

    ws.set_column_width(at.code_col, 7)?;
    ws.set_column_width(at.label_col, 55)?;
    ws.set_column_width(at.unit_col, 13)?;
    for col in at.first_value_col..at.note_col {
        ws.set_column_width(col, 12)?;
    }
    ws.set_column_width(at.note_col, 13)?;
    Ok(at)
}

/// The formats of a blank form, in the font Vietnamese administrative documents use.
pub(crate) struct Styles {
    agency: Format,
    heading: Format,
    title: Format,
    header: Format,
    numbers: Format,
    /// Italic text below the table.
    pub(crate) legend: Format,
}

impl Styles {
    /// The formats, made once per workbook.
    pub(crate) fn new() -> Styles {
        let centred = base()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter);
        Styles {
            agency: base().set_bold(),
            heading: centred.clone().set_bold().set_text_wrap(),
            title: centred.clone().set_italic(),
            header: centred
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_border(FormatBorder::Thin),
            numbers: centred.set_italic().set_border(FormatBorder::Thin),
            legend: base().set_italic(),
        }
    }

    fn code(&self, heading: bool, fill: Option<u32>) -> Format {
        let f = self.centred(fill);
        if heading { f.set_bold() } else { f }
    }

    fn label(&self, heading: bool, indent: bool, fill: Option<u32>) -> Format {
        let mut f = cell(fill)
            .set_text_wrap()
            .set_align(FormatAlign::VerticalCenter);
        if heading {
            f = f.set_bold();
        }
        if indent {
            f = f.set_indent(1);
        }
        f
    }

    /// A centred table cell.
    pub(crate) fn centred(&self, fill: Option<u32>) -> Format {
        cell(fill)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
    }

    fn value(&self, kind: Option<ValueKind>, fill: Option<u32>) -> Format {
        let Some(kind) = kind else {
            return cell(Some(HEADING_ROW_FILL));
        };
        let f = cell(fill).set_align(FormatAlign::VerticalCenter);
        match kind {
            ValueKind::Percent => f.set_num_format("0.00"),
            ValueKind::Count => f.set_num_format("#,##0"),
            ValueKind::Amount => f.set_num_format("#,##0.0"),
            ValueKind::Number => f,
            // Typed text stays text, "8 - 9" included.
            ValueKind::Text => f.set_num_format("@").set_text_wrap(),
        }
    }

    /// A "Ghi chú" cell.
    pub(crate) fn note(&self, fill: Option<u32>) -> Format {
        self.centred(fill).set_italic()
    }
}

/// Times New Roman 12, the font of Vietnamese administrative documents.
pub(crate) fn base() -> Format {
    Format::new()
        .set_font_name("Times New Roman")
        .set_font_size(12)
}

/// A table cell: thin border, with `fill` when given.
pub(crate) fn cell(fill: Option<u32>) -> Format {
    let f = base().set_border(FormatBorder::Thin);
    match fill {
        Some(rgb) => f.set_background_color(Color::RGB(rgb)),
        None => f,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, SheetVisible, Xlsx};

    use super::*;
    use crate::core::forms::spec;

    const FORM: &str = r#"
id = "f-1"
version = 3
heading = ["PHỤ LỤC X", "TIÊU ĐỀ", "(Kèm theo Công văn)"]
[[sheet]]
id = "s"
name = "Một tên biểu rất dài vượt quá giới hạn của Excel"
title = "Các chỉ tiêu"
[[sheet.column]]
id = "a"
label = "TH 2017"
[[sheet.column]]
id = "b"
label = "KH 2018"
[[sheet.row]]
id = "h"
code = "I"
label = "KINH TẾ"
kind = "heading"
[[sheet.row]]
id = "p"
code = "1"
label = "Tăng trưởng"
unit = "%"
kind = "percent"
who = ["districts"]
[[sheet.row]]
id = "c"
code = "1.1"
label = "Số doanh nghiệp"
unit = "doanh nghiệp"
kind = "count"
who = ["so-y-te"]
[[sheet.row]]
id = "o"
code = "2"
label = "Thu khác"
kind = "amount"
who = "optional"
"#;

    fn form() -> FormSpec {
        spec::parse("f.toml", FORM).unwrap()
    }

    fn open(bytes: Vec<u8>) -> Xlsx<Cursor<Vec<u8>>> {
        Xlsx::new(Cursor::new(bytes)).unwrap()
    }

    fn text(range: &calamine::Range<Data>, row: u32, col: u32) -> String {
        range
            .get_value((row, col))
            .map(|d| d.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn layout_puts_the_table_at_row_seven() {
        let spec = form();
        let at = Layout::of(&spec, &spec.sheets[0]);
        assert_eq!((at.title_row, at.header_row, at.first_row), (4, 6, 8));
        assert_eq!((at.first_value_col, at.note_col), (3, 5));
        let mut longer = spec.clone();
        longer.heading.push("dòng thứ tư".into());
        assert_eq!(Layout::of(&longer, &longer.sheets[0]).header_row, 7);
    }

    #[test]
    fn blank_form_has_heading_table_and_marker() {
        let spec = form();
        let mut book = open(blank_form(&spec, None).unwrap());
        let sheets = book.sheets_metadata().to_vec();
        assert_eq!(sheets.len(), 2);
        let name = &sheets[0].name;
        assert_eq!(name.chars().count(), 31);
        assert!(spec.sheets[0].name.starts_with(name.as_str()));
        assert_eq!(sheets[1].name, MARKER_SHEET);
        assert_eq!(sheets[1].visible, SheetVisible::Hidden);
        assert!(
            book.defined_names()
                .iter()
                .any(|(n, v)| n == MARKER_NAME && v.contains("intake-form:f-1@3")),
            "{:?}",
            book.defined_names()
        );
        let marker = book.worksheet_range(MARKER_SHEET).unwrap();
        assert_eq!(text(&marker, 0, 0), "intake-form:f-1@3");

        let range = book.worksheet_range(name).unwrap();
        assert_eq!(text(&range, 0, 0), "ĐƠN VỊ: ...............");
        assert_eq!(text(&range, 1, 0), "PHỤ LỤC X");
        assert_eq!(text(&range, 3, 0), "(Kèm theo Công văn)");
        assert_eq!(text(&range, 4, 0), "Các chỉ tiêu");
        let header: Vec<String> = (0..6).map(|c| text(&range, 6, c)).collect();
        assert_eq!(
            header,
            [
                "STT",
                "Chỉ tiêu",
                "Đơn vị tính",
                "TH 2017",
                "KH 2018",
                "Ghi chú"
            ]
        );
        assert_eq!(text(&range, 7, 0), "(1)");
        assert_eq!(text(&range, 7, 5), "(6)");
        assert_eq!(text(&range, 8, 1), "KINH TẾ");
        assert_eq!(text(&range, 10, 0), "1.1");
        assert_eq!(text(&range, 10, 2), "doanh nghiệp");
        // No agency: no row is marked.
        assert!((8..12).all(|r| text(&range, r, 5).is_empty()));
        let merged = book.merge_cells_by_sheet_name(name).unwrap();
        assert!(merged.iter().any(|d| d.start == (1, 0) && d.end == (1, 5)));
        assert!(merged.iter().any(|d| d.start == (4, 0) && d.end == (4, 5)));
    }

    #[test]
    fn an_agency_copy_marks_its_rows_and_names_it() {
        let spec = form();
        let bytes =
            blank_form(&spec, Some(("so-y-te", AgencyKind::Department, "Sở Y tế"))).unwrap();
        let mut book = open(bytes);
        let name = book.sheet_names()[0].clone();
        let range = book.worksheet_range(&name).unwrap();
        assert_eq!(text(&range, 0, 0), "ĐƠN VỊ: SỞ Y TẾ");
        let notes: Vec<String> = (8..12).map(|r| text(&range, r, 5)).collect();
        assert_eq!(notes, ["", "", REQUIRED_NOTE, ""]);

        let bytes = blank_form(
            &spec,
            Some(("ubnd-x", AgencyKind::District, "UBND huyện X")),
        )
        .unwrap();
        let mut book = open(bytes);
        let range = book.worksheet_range(&name).unwrap();
        let notes: Vec<String> = (8..12).map(|r| text(&range, r, 5)).collect();
        assert_eq!(notes, ["", REQUIRED_NOTE, "", ""]);
    }
}
