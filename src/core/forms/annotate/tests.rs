//! Tests of both routes of the marked copy.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, SheetVisible, Xlsx};

use super::*;
use crate::core::forms::blank::MARKER_NAME;
use crate::workbook::{Cell, CellValue, FormMarker, Inspector, Sheet, WorkbookFormat};

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
    let bytes = rebuilt_copy(&g, &findings, None, "Kết quả: Sở Y tế, Phụ lục I").unwrap();
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
    let bytes = rebuilt_copy(&g, &[], None, "t").unwrap();
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

/// An agency's workbook as rust_xlsxwriter writes it: formatting, a merge, widths, a frozen
/// pane, print setup, a note of its own and a second sheet.
fn agency_xlsx() -> Vec<u8> {
    use rust_xlsxwriter::{Format, FormatBorder, Note, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold().set_border(FormatBorder::Thin);
    let money = Format::new()
        .set_num_format("#,##0.0")
        .set_border(FormatBorder::Medium);
    let ws = wb.add_worksheet();
    ws.set_name("PL1").unwrap();
    ws.merge_range(0, 0, 0, 4, "PHỤ LỤC I", &bold).unwrap();
    ws.write_string_with_format(2, 1, "Chỉ tiêu", &bold)
        .unwrap();
    ws.write_string_with_format(2, 3, "TH 2016", &bold).unwrap();
    ws.write_string(3, 1, "Tăng trưởng").unwrap();
    ws.write_number_with_format(3, 3, 1234.5, &money).unwrap();
    ws.write_string_with_format(3, 4, "abc", &money).unwrap();
    ws.write_string(5, 1, "Dân số").unwrap();
    ws.write_number(5, 2, 7.0).unwrap();
    ws.set_column_width(1, 40).unwrap();
    ws.set_freeze_panes(3, 0).unwrap();
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.insert_note(
        2,
        1,
        &Note::new("Ghi chú của đơn vị").add_author_prefix(false),
    )
    .unwrap();
    let other = wb.add_worksheet();
    other.set_name("Thuyết minh").unwrap();
    other.write_string(0, 0, "Nội dung khác").unwrap();
    wb.save_to_buffer().unwrap()
}

fn read_xlsx(bytes: &[u8]) -> Grid {
    Inspector::new(Default::default(), None)
        .read(bytes, WorkbookFormat::Xlsx)
        .unwrap()
}

/// The attributes of the `n`th `<xf>` of `cellXfs`.
fn cell_xf(styles: &str, n: usize) -> String {
    let at = styles.find("<cellXfs").unwrap();
    let xfs = &styles[at..];
    let start = xfs.match_indices("<xf ").nth(n).unwrap().0;
    let end = xfs[start..].find('>').unwrap();
    xfs[start..start + end].to_string()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(tag[at..at + tag[at..].find('"')?].to_string())
}

/// The `s` of a cell in a worksheet part.
fn style_of(sheet: &str, cell: &str) -> Option<usize> {
    let at = sheet.find(&format!("<c r=\"{cell}\""))?;
    let tag = &sheet[at..at + sheet[at..].find('>')?];
    attribute(tag, "s").map(|s| s.parse().unwrap()).or(Some(0))
}

/// The fill colour (RGB) of fill `n`.
fn fill_rgb(styles: &str, n: usize) -> Option<u32> {
    let at = styles.find("<fills")?;
    let fills = &styles[at..styles.find("</fills>")?];
    let start = fills.match_indices("<fill>").nth(n)?.0;
    let fill = &fills[start..start + fills[start..].find("</fill>")?];
    let rgb = attribute(fill, "rgb")?;
    u32::from_str_radix(&rgb[2..], 16).ok()
}

fn package_findings() -> Vec<Finding> {
    vec![
        finding("PL1", Some("E4"), Severity::Error, "Không phải là số"),
        // A cell the sheet does not hold: a required value left blank.
        finding("PL1", Some("D6"), Severity::Warning, "Chưa điền giá trị"),
        // Inside the merged A1:E1: marked on A1.
        finding("PL1", Some("C1"), Severity::Warning, "Tiêu đề"),
        // The cell holding the agency's own note.
        finding("PL1", Some("B3"), Severity::Error, "Sai tiêu đề cột"),
        finding("PL1", None, Severity::Warning, "Thiếu cột"),
    ]
}

#[test]
fn the_package_route_keeps_the_agencys_workbook_and_adds_marks() {
    let original = agency_xlsx();
    let grid = read_xlsx(&original);
    let digest = crate::workbook::copymark::digest(&grid, SUMMARY_SHEET);
    let findings = package_findings();
    let submission = Submission {
        bytes: &original,
        format: WorkbookFormat::Xlsx,
        grid: &grid,
        digest: Some(&digest),
    };
    let copy = marked_copy(&submission, &findings, None, "Kết quả kiểm tra").unwrap();
    assert_eq!(copy.route, Route::Package);
    let bytes = copy.bytes;

    // Values: the same sheets and cells, the summary first; the copy is known as ours.
    let back = read_xlsx(&bytes);
    let names: Vec<&str> = back.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [SUMMARY_SHEET, "PL1", "Thuyết minh"]);
    assert_eq!(back.sheets[1..], grid.sheets[..]);
    assert!(crate::workbook::copymark::is_unchanged_copy(
        &back,
        SUMMARY_SHEET
    ));

    // Formatting parts as they were.
    let sheet = part(&bytes, "xl/worksheets/sheet1.xml");
    let before = part(&original, "xl/worksheets/sheet1.xml");
    for kept in ["<mergeCell ref=\"A1:E1\"", "<pane ", "<pageSetup ", "<col "] {
        assert!(before.contains(kept) && sheet.contains(kept), "{kept}");
    }
    assert_eq!(
        part(&bytes, "xl/worksheets/sheet2.xml"),
        part(&original, "xl/worksheets/sheet2.xml"),
        "an unmarked sheet is copied as it was"
    );

    // Fills: a clone of the cell's own format with only the fill changed.
    let styles = part(&bytes, "xl/styles.xml");
    let old_styles = part(&original, "xl/styles.xml");
    let marked = [
        ("E4", ERROR_FILL),
        ("D6", WARNING_FILL),
        ("A1", WARNING_FILL),
        ("B3", ERROR_FILL),
    ];
    for (cell, rgb) in marked {
        let s = style_of(&sheet, cell).unwrap_or_else(|| panic!("{cell} written"));
        let xf = cell_xf(&styles, s);
        let fill: usize = attribute(&xf, "fillId").unwrap().parse().unwrap();
        assert_eq!(fill_rgb(&styles, fill), Some(rgb), "{cell}: {xf}");
        let own = style_of(&before, cell).unwrap_or(0);
        let old = cell_xf(&old_styles, own);
        for kept in ["numFmtId", "fontId", "borderId"] {
            assert_eq!(attribute(&xf, kept), attribute(&old, kept), "{cell} {kept}");
        }
    }
    // Every other cell keeps its format index.
    for cell in ["B4", "D4", "B6", "C6", "B1"] {
        assert_eq!(style_of(&sheet, cell), style_of(&before, cell), "{cell}");
    }

    // Notes: the agency's own kept, ours added, both on B3 together.
    let comments = part(&bytes, "xl/comments1.xml");
    assert!(comments.contains("Ghi chú của đơn vị"));
    assert!(comments.contains("Lỗi: Sai tiêu đề cột"));
    assert_eq!(comments.matches("<comment ").count(), 4, "{comments}");
    for cell in ["E4", "D6", "A1", "B3"] {
        assert!(comments.contains(&format!("ref=\"{cell}\"")), "{cell}");
    }
    let vml = part(&bytes, "xl/drawings/vmlDrawing1.vml");
    assert_eq!(vml.matches("<v:shape ").count(), 4, "a shape for each note");

    // The summary: every finding, its cell a link.
    let summary = &back.sheets[0];
    let listed = summary
        .cells
        .iter()
        .filter(|c| c.row > SUMMARY_HEADER_ROW && c.col == 7);
    assert_eq!(listed.count(), findings.len());
    let workbook = part(&bytes, "xl/workbook.xml");
    assert!(workbook.contains("intake_copy"));
    let types = part(&bytes, "[Content_Types].xml");
    assert!(types.contains("intakeSummary1.xml"));
}

#[test]
fn an_xlsm_comes_back_without_its_macros() {
    // rust_xlsxwriter writes an xlsm around a VBA project it is given.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "x").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vba = dir.path().join("vbaProject.bin");
    // Any bytes do: nothing reads the project.
    std::fs::write(&vba, b"\xd0\xcf\x11\xe0 not really a project").unwrap();
    wb.add_vba_project(&vba).unwrap();
    let original = wb.save_to_buffer().unwrap();
    assert!(
        part_names(&original)
            .iter()
            .any(|n| n.ends_with("vbaProject.bin"))
    );
    let grid = Inspector::new(Default::default(), None)
        .read(&original, WorkbookFormat::Xlsm)
        .unwrap();
    let digest = crate::workbook::copymark::digest(&grid, SUMMARY_SHEET);
    let findings = [finding("Sheet1", Some("A1"), Severity::Error, "Sai")];
    let submission = Submission {
        bytes: &original,
        format: WorkbookFormat::Xlsm,
        grid: &grid,
        digest: Some(&digest),
    };
    let copy = marked_copy(&submission, &findings, None, "t").unwrap();
    assert_eq!(copy.route, Route::Package);
    assert!(
        !part_names(&copy.bytes)
            .iter()
            .any(|n| n.contains("vbaProject"))
    );
    let types = part(&copy.bytes, "[Content_Types].xml");
    assert!(!types.contains("macroEnabled"), "{types}");
    assert!(!part(&copy.bytes, "xl/_rels/workbook.xml.rels").contains("vbaProject"));
    let back = read_xlsx(&copy.bytes);
    assert_eq!(back.sheets[1].cells, grid.sheets[0].cells);
}

#[test]
fn a_copy_marked_again_replaces_its_summary_and_stays_recognisable() {
    let original = agency_xlsx();
    let grid = read_xlsx(&original);
    let digest = crate::workbook::copymark::digest(&grid, SUMMARY_SHEET);
    let first = marked_copy(
        &Submission {
            bytes: &original,
            format: WorkbookFormat::Xlsx,
            grid: &grid,
            digest: Some(&digest),
        },
        &package_findings(),
        None,
        "t",
    )
    .unwrap()
    .bytes;
    // The agency sends the copy back as it was: it is marked again (say, after a rule change).
    let again = read_xlsx(&first);
    let digest = crate::workbook::copymark::digest(&again, SUMMARY_SHEET);
    let findings = [finding("PL1", Some("D4"), Severity::Error, "Lần hai")];
    let second = marked_copy(
        &Submission {
            bytes: &first,
            format: WorkbookFormat::Xlsx,
            grid: &again,
            digest: Some(&digest),
        },
        &findings,
        None,
        "t",
    )
    .unwrap();
    assert_eq!(second.route, Route::Package);
    let back = read_xlsx(&second.bytes);
    let names: Vec<&str> = back.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [SUMMARY_SHEET, "PL1", "Thuyết minh"]);
    assert!(crate::workbook::copymark::is_unchanged_copy(
        &back,
        SUMMARY_SHEET
    ));
    let summary = &back.sheets[0];
    assert!(
        summary
            .cells
            .iter()
            .any(|c| c.value == CellValue::Text("Lần hai".into()))
    );
    assert!(
        !summary
            .cells
            .iter()
            .any(|c| c.value == CellValue::Text("Tiêu đề".into()))
    );
    assert_eq!(
        part(&second.bytes, "xl/workbook.xml")
            .matches("intake_copy")
            .count(),
        1
    );
    // The earlier marks' fills are gone, the new one is there; number formats stay.
    let sheet = part(&second.bytes, "xl/worksheets/sheet1.xml");
    let styles = part(&second.bytes, "xl/styles.xml");
    let fill = |cell: &str| {
        let xf = cell_xf(&styles, style_of(&sheet, cell).unwrap());
        let id: usize = attribute(&xf, "fillId").unwrap().parse().unwrap();
        fill_rgb(&styles, id)
    };
    assert_eq!(fill("D4"), Some(ERROR_FILL));
    for cell in ["E4", "D6", "A1", "B3"] {
        assert!(
            !matches!(fill(cell), Some(ERROR_FILL | WARNING_FILL)),
            "{cell} keeps an earlier mark"
        );
    }
    let original_sheet = part(&original, "xl/worksheets/sheet1.xml");
    let original_styles = part(&original, "xl/styles.xml");
    let num_fmt = |styles: &str, sheet: &str| {
        attribute(&cell_xf(styles, style_of(sheet, "E4").unwrap()), "numFmtId")
    };
    assert_eq!(
        num_fmt(&styles, &sheet),
        num_fmt(&original_styles, &original_sheet)
    );
}

#[test]
fn summary_and_notes_name_rows_and_columns_as_the_form_does() {
    let spec = crate::core::forms::spec::parse(
        "f.toml",
        r#"
id = "f-1"
version = 2
heading = ["PHỤ LỤC I"]
[[sheet]]
id = "pl1"
name = "PL1"
[[sheet.column]]
id = "th2016"
label = "TH 2016"
[[sheet.row]]
id = "grdp"
code = "1.1"
label = "Tốc độ tăng trưởng GRDP"
kind = "percent"
"#,
    )
    .unwrap();
    let original = agency_xlsx();
    let grid = read_xlsx(&original);
    let digest = crate::workbook::copymark::digest(&grid, SUMMARY_SHEET);
    let mut f = finding("PL1", Some("E4"), Severity::Error, "Không phải là số");
    f.indicator = Some("grdp".into());
    f.label = None;
    let copy = marked_copy(
        &Submission {
            bytes: &original,
            format: WorkbookFormat::Xlsx,
            grid: &grid,
            digest: Some(&digest),
        },
        &[f],
        Some(&spec),
        "t",
    )
    .unwrap();
    let back = read_xlsx(&copy.bytes);
    let row: Vec<String> = (0..8)
        .map(|c| {
            back.sheets[0]
                .value(SUMMARY_HEADER_ROW + 1, c)
                .map(|v| match v {
                    CellValue::Text(t) => t.clone(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(row[3], "1.1 Tốc độ tăng trưởng GRDP");
    assert_eq!(row[4], "TH 2016");
    assert!(!row.iter().any(|t| t == "th2016" || t == "grdp"), "{row:?}");
    let comments = part(&copy.bytes, "xl/comments1.xml");
    assert!(comments.contains("1.1 Tốc độ tăng trưởng GRDP — cột TH 2016"));
    // No marker in the workbook: the form's is added, so a corrected copy is recognised.
    assert_eq!(
        back.marker,
        Some(FormMarker {
            form: "f-1".into(),
            version: 2
        })
    );
}

#[test]
fn a_large_sheet_is_marked_by_streaming() {
    // 200,000 one-cell rows: the marks land in order, the rest comes through untouched.
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for r in 1..=200_000u32 {
        sheet.push_str(&format!(r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>"#));
    }
    sheet.push_str("</sheetData></worksheet>");
    let mut marks = SheetMarks::new();
    for at in [(0, 0), (99_999, 1), (199_999, 0), (250_000, 3)] {
        marks.insert(
            at,
            Mark {
                error: true,
                about: None,
                lines: vec!["x".into()],
            },
        );
    }
    let styles_xml = br#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font/></fonts><fills count="2"><fill/><fill/></fills><borders count="1"><border/></borders><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellXfs></styleSheet>"#;
    let mut styles = styles::Styles::survey("styles.xml", styles_xml).unwrap();
    let mut out = Vec::new();
    let marked = sheet::mark(
        "sheet1.xml",
        sheet.as_bytes(),
        &mut out,
        &marks,
        &mut styles,
        Some("rIdX"),
    )
    .unwrap();
    assert!(marked.legacy_drawing.is_none());
    let out = String::from_utf8(out).unwrap();
    let s = styles.marked(0, true);
    assert!(out.contains(&format!(r#"<c r="A1" s="{s}"><v>1</v></c>"#)));
    assert!(out.contains(&format!(
        r#"<row r="100000"><c r="A100000"><v>100000</v></c><c r="B100000" s="{s}"/></row>"#
    )));
    assert!(out.contains(&format!(r#"<c r="A200000" s="{s}"><v>200000</v></c></row><row r="250001"><c r="D250001" s="{s}"/></row></sheetData>"#)));
    assert!(out.contains(r#"<legacyDrawing r:id="rIdX"/></worksheet>"#));
    assert!(out.contains(
        r#"xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#
    ));
    assert_eq!(out.matches("<row ").count(), 200_001);
    let mut written = Vec::new();
    styles
        .write("styles.xml", styles_xml, &mut written)
        .unwrap();
    let written = String::from_utf8(written).unwrap();
    assert!(written.contains(r#"<cellXfs count="8">"#), "{written}");
    assert!(written.contains(r#"<fills count="5">"#), "{written}");
}

#[test]
fn a_package_without_styles_is_rebuilt() {
    let sheet =
        r#"<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row></sheetData>"#;
    let bytes = minimal_xlsx(sheet);
    let grid = read_xlsx(&bytes);
    let digest = crate::workbook::copymark::digest(&grid, SUMMARY_SHEET);
    let copy = marked_copy(
        &Submission {
            bytes: &bytes,
            format: WorkbookFormat::Xlsx,
            grid: &grid,
            digest: Some(&digest),
        },
        &[finding("Data", Some("A1"), Severity::Error, "Sai")],
        None,
        "t",
    )
    .unwrap();
    assert_eq!(copy.route, Route::Rebuilt);
    let back = read_xlsx(&copy.bytes);
    assert_eq!(back.sheets[1].cells, grid.sheets[0].cells);
    assert!(crate::workbook::copymark::is_unchanged_copy(
        &back,
        SUMMARY_SHEET
    ));
}

fn part_names(bytes: &[u8]) -> Vec<String> {
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    zip.file_names().map(|n| n.unwrap().to_string()).collect()
}

/// An xlsx of one sheet "Data" and nothing else: no styles part.
fn minimal_xlsx(sheet: &str) -> Vec<u8> {
    use std::io::Write;
    let parts = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string()),
        ("xl/worksheets/sheet1.xml", format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{sheet}</worksheet>"#)),
    ];
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, text) in parts {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn a_sheet_named_like_the_summary_in_another_case_is_kept_by_rebuilding() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("KẾT QUẢ KIỂM TRA").unwrap();
    ws.write_string(0, 0, "của đơn vị").unwrap();
    let original = wb.save_to_buffer().unwrap();
    let grid = read_xlsx(&original);
    let digest = crate::workbook::copymark::digest(&grid, SUMMARY_SHEET);
    let copy = marked_copy(
        &Submission {
            bytes: &original,
            format: WorkbookFormat::Xlsx,
            grid: &grid,
            digest: Some(&digest),
        },
        &[finding(
            "KẾT QUẢ KIỂM TRA",
            Some("A1"),
            Severity::Error,
            "Sai",
        )],
        None,
        "t",
    )
    .unwrap();
    assert_eq!(copy.route, Route::Rebuilt);
    let back = read_xlsx(&copy.bytes);
    let names: Vec<&str> = back.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [SUMMARY_SHEET, "KẾT QUẢ KIỂM TRA (2)"]);
    assert_eq!(back.sheets[1].cells, grid.sheets[0].cells);
}

/// Marks `sheet` (a worksheet part's XML) with errors at `cells`, as the package route does.
fn mark_xml(sheet: &str, cells: &[(u32, u32)], drawing: Option<&str>) -> (String, u32) {
    let styles_xml = br#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font/></fonts><fills count="2"><fill/><fill/></fills><borders count="1"><border/></borders><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/><xf numFmtId="3" fontId="0" fillId="0" borderId="0"/><xf numFmtId="4" fontId="0" fillId="0" borderId="0"/></cellXfs></styleSheet>"#;
    let mut styles = styles::Styles::survey("styles.xml", styles_xml).unwrap();
    let marks: SheetMarks = cells
        .iter()
        .map(|at| {
            (
                *at,
                Mark {
                    error: true,
                    about: None,
                    lines: vec!["x".into()],
                },
            )
        })
        .collect();
    let mut out = Vec::new();
    sheet::mark(
        "s.xml",
        sheet.as_bytes(),
        &mut out,
        &marks,
        &mut styles,
        drawing,
    )
    .unwrap();
    (String::from_utf8(out).unwrap(), styles.marked(0, true))
}

#[test]
fn sheets_of_every_shape_are_marked_in_place() {
    // Prefixed elements, rows and cells without addresses, a row style, column styles.
    let sheet = r#"<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:cols><x:col min="3" max="4" width="9" style="2"/></x:cols><x:sheetData><x:row><x:c><x:v>1</x:v></x:c><x:c s="1"><x:v>2</x:v></x:c></x:row><x:row r="3" s="1" customFormat="1" spans="1:1"><x:c r="A3"><x:v>3</x:v></x:c></x:row></x:sheetData><x:tableParts count="0"/></x:worksheet>"#;
    let (out, _) = mark_xml(sheet, &[(0, 1), (1, 2), (2, 4)], Some("rIdV"));
    let clone_of = |own: u32| {
        let styles_xml = br#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font/></fonts><fills count="2"><fill/><fill/></fills><borders count="1"><border/></borders><cellXfs count="3"><xf/><xf/><xf/></cellXfs></styleSheet>"#;
        let mut s = styles::Styles::survey("styles.xml", styles_xml).unwrap();
        // Clones are numbered in the order cells meet them: B1 (own 1), C2 (column style 2),
        // E3 (row style 1, already cloned).
        match own {
            1 => s.marked(1, true),
            _ => {
                s.marked(1, true);
                s.marked(2, true)
            }
        }
    };
    // B1 is the row's second cell: its own format 1, cloned.
    assert!(
        out.contains(&format!(r#"<x:c s="{}"><x:v>2</x:v></x:c>"#, clone_of(1))),
        "{out}"
    );
    // Row 2 does not exist: written, its cell taking the column's style.
    assert!(
        out.contains(&format!(
            r#"<x:row r="2"><x:c r="C2" s="{}"/></x:row>"#,
            clone_of(2)
        )),
        "{out}"
    );
    // E3 after A3, in the row's own style; the row's spans hint dropped.
    assert!(
        out.contains(&format!(
            r#"<x:row r="3" s="1" customFormat="1"><x:c r="A3"><x:v>3</x:v></x:c><x:c r="E3" s="{}"/></x:row>"#,
            clone_of(1)
        )),
        "{out}"
    );
    // The drawing goes before tableParts, with the relationships namespace declared.
    assert!(
        out.contains(r#"<x:legacyDrawing r:id="rIdV"/><x:tableParts"#),
        "{out}"
    );
    assert!(out.starts_with(r#"<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r=""#));

    // An empty sheetData gains the rows; a sheet with a legacy drawing keeps it.
    let sheet = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData/><legacyDrawing r:id="rId9"/></worksheet>"#;
    let (out, s) = mark_xml(sheet, &[(4, 0)], Some("rIdV"));
    assert!(
        out.contains(&format!(
            r#"<sheetData><row r="5"><c r="A5" s="{s}"/></row></sheetData><legacyDrawing r:id="rId9"/></worksheet>"#
        )),
        "{out}"
    );
    assert_eq!(out.matches("legacyDrawing").count(), 1);
}

#[test]
fn control_characters_in_findings_leave_the_copy_readable() {
    let original = agency_xlsx();
    let grid = read_xlsx(&original);
    let digest = crate::workbook::copymark::digest(&grid, SUMMARY_SHEET);
    let mut f = finding(
        "PL1",
        Some("E4"),
        Severity::Error,
        "Ô có \u{1}ký tự lạ\u{1f}",
    );
    f.value = Some("a\u{0}b".into());
    let copy = marked_copy(
        &Submission {
            bytes: &original,
            format: WorkbookFormat::Xlsx,
            grid: &grid,
            digest: Some(&digest),
        },
        &[f],
        None,
        "Kết quả \u{2}",
    )
    .unwrap();
    assert_eq!(copy.route, Route::Package);
    let back = read_xlsx(&copy.bytes);
    assert_eq!(back.sheets[1..], grid.sheets[..]);
    let comments = part(&copy.bytes, "xl/comments1.xml");
    assert!(comments.contains("_x0001_ký tự lạ_x001F_"), "{comments}");
}

#[test]
fn unmarked_rows_come_through_byte_for_byte() {
    // Rows of every content a writer puts in one: shared and inline strings, entities,
    // formulas, a CDATA section and a comment that hold "</row>", white space inside the end
    // tag; only the middle row is marked.
    let row1 = r#"<row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t xml:space="preserve"> a &amp; b &#x1EA1; </t></is></c><c r="C1"><f>SUM(A1:B1)</f><v>3</v></c></row >"#;
    let row2 = r#"<row r="2"><c r="A2"><v>2</v></c></row>"#;
    let row3 = "<row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t><![CDATA[</row> <c>]]></t></is></c><!-- </row> --><c r=\"B3\"><v>4</v></c>\n</row\n>";
    let sheet = format!(
        r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{row1}{row2}{row3}</sheetData></worksheet>"#
    );
    let (out, s) = mark_xml(&sheet, &[(1, 0)], None);
    // The end tags are the reader's, written plainly (as they always were).
    assert!(out.contains(&row1.replace("</row >", "</row>")), "{out}");
    assert!(out.contains(&row3.replace("</row\n>", "</row>")), "{out}");
    assert!(
        out.contains(&format!(
            r#"<row r="2"><c r="A2" s="{s}"><v>2</v></c></row>"#
        )),
        "{out}"
    );
    // And the whole is still one well-formed document.
    let mut reader = quick_xml::Reader::from_str(&out);
    let mut depth = 0i32;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(_) => depth += 1,
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0);
}
