//! Marked copies of workbooks written by other programs, read back.
//!
//! The same formatted workbook (a bold merged title, bordered headers, a number format, a
//! wide column, a frozen pane, A4 landscape with print titles, a note of the agency's own and
//! a second sheet) is written by openpyxl, by XlsxWriter (both through python3) and by
//! rust_xlsxwriter, marked, and read back: through intake's own reader and calamine for the
//! values, and in the package's XML for what the Grid does not hold (formatting, fills,
//! notes). A blank form exported by `intake template export` and filled in by openpyxl goes
//! through `intake validate --annotated` end to end. Marking a 1,048,576-row sheet runs in
//! a child process whose peak RSS is measured.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::io::{Cursor, Read, Write};
use std::path::Path;
use std::process::Command;

use calamine::{Data, Reader, Xlsx};
use intake::core::forms::annotate::{
    ERROR_FILL, Route, SUMMARY_HEADER_ROW, SUMMARY_HEADERS, SUMMARY_SHEET, Submission,
    WARNING_FILL, marked_copy, parse_a1,
};
use intake::core::forms::spec::{FormSpec, Severity};
use intake::core::forms::validate::Finding;
use intake::workbook::copymark::{digest, is_unchanged_copy};
use intake::workbook::{CellValue, FormMarker, Grid, Sheet, WorkbookFormat};

/// The agency's workbook, as openpyxl writes it.
const OPENPYXL: &str = r##"
import sys, openpyxl
from openpyxl.styles import Font, Border, Side, Alignment
from openpyxl.comments import Comment
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "PL1"
thin = Side(style="thin")
box = Border(left=thin, right=thin, top=thin, bottom=thin)
ws.merge_cells("A1:E1")
ws["A1"] = "PHỤ LỤC I"
ws["A1"].font = Font(bold=True, size=14)
ws["A1"].alignment = Alignment(horizontal="center")
for col, text in (("B", "Chỉ tiêu"), ("D", "TH 2016"), ("E", "KH 2017")):
    ws[col + "3"] = text
    ws[col + "3"].font = Font(bold=True)
    ws[col + "3"].border = box
ws["B3"].comment = Comment("Ghi chú của đơn vị", "Đơn vị")
ws["B4"] = "Tăng trưởng"
ws["D4"] = 1234.5
ws["E4"] = "abc"
for c in ("D4", "E4"):
    ws[c].number_format = "#,##0.0"
    ws[c].border = box
ws["B6"] = "Dân số"
ws["C6"] = 7
ws.column_dimensions["B"].width = 40
ws.freeze_panes = "A4"
ws.page_setup.orientation = "landscape"
ws.page_setup.paperSize = 9
ws.print_title_rows = "3:3"
other = wb.create_sheet("Thuyết minh")
other["A1"] = "Nội dung khác"
wb.save(sys.argv[1])
"##;

/// The agency's workbook, as XlsxWriter writes it.
const XLSXWRITER: &str = r##"
import sys, xlsxwriter
wb = xlsxwriter.Workbook(sys.argv[1])
ws = wb.add_worksheet("PL1")
bold = wb.add_format({"bold": True, "border": 1})
title = wb.add_format({"bold": True, "font_size": 14, "align": "center"})
money = wb.add_format({"num_format": "#,##0.0", "border": 1})
ws.merge_range("A1:E1", "PHỤ LỤC I", title)
ws.write("B3", "Chỉ tiêu", bold)
ws.write("D3", "TH 2016", bold)
ws.write("E3", "KH 2017", bold)
ws.write_comment("B3", "Ghi chú của đơn vị")
ws.write("B4", "Tăng trưởng")
ws.write_number("D4", 1234.5, money)
ws.write_string("E4", "abc", money)
ws.write("B6", "Dân số")
ws.write_number("C6", 7)
ws.set_column("B:B", 40)
ws.freeze_panes(3, 0)
ws.set_landscape()
ws.set_paper(9)
ws.repeat_rows(2)
other = wb.add_worksheet("Thuyết minh")
other.write("A1", "Nội dung khác")
wb.close()
"##;

/// The agency's workbook, as rust_xlsxwriter writes it.
fn rust_xlsxwriter_book() -> Vec<u8> {
    use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Note, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold().set_border(FormatBorder::Thin);
    let title = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center);
    let money = Format::new()
        .set_num_format("#,##0.0")
        .set_border(FormatBorder::Thin);
    let ws = wb.add_worksheet();
    ws.set_name("PL1").unwrap();
    ws.merge_range(0, 0, 0, 4, "PHỤ LỤC I", &title).unwrap();
    ws.write_string_with_format(2, 1, "Chỉ tiêu", &bold)
        .unwrap();
    ws.write_string_with_format(2, 3, "TH 2016", &bold).unwrap();
    ws.write_string_with_format(2, 4, "KH 2017", &bold).unwrap();
    ws.insert_note(2, 1, &Note::new("Ghi chú của đơn vị"))
        .unwrap();
    ws.write_string(3, 1, "Tăng trưởng").unwrap();
    ws.write_number_with_format(3, 3, 1234.5, &money).unwrap();
    ws.write_string_with_format(3, 4, "abc", &money).unwrap();
    ws.write_string(5, 1, "Dân số").unwrap();
    ws.write_number(5, 2, 7.0).unwrap();
    ws.set_column_width(1, 40).unwrap();
    ws.set_freeze_panes(3, 0).unwrap();
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_repeat_rows(2, 2).unwrap();
    let other = wb.add_worksheet();
    other.set_name("Thuyết minh").unwrap();
    other.write_string(0, 0, "Nội dung khác").unwrap();
    wb.save_to_buffer().unwrap()
}

/// A small form the findings are against: its column "TH 2016" and row "1.1".
fn spec() -> FormSpec {
    intake::core::forms::spec::parse(
        "pl1.toml",
        r#"
id = "thu-pl1"
version = 3
heading = ["PHỤ LỤC I"]
[[sheet]]
id = "pl1"
name = "PL1"
[[sheet.column]]
id = "th2016"
label = "TH 2016"
[[sheet.column]]
id = "kh2017"
label = "KH 2017"
[[sheet.row]]
id = "tang-truong"
code = "1.1"
label = "Tăng trưởng"
kind = "percent"
[[sheet.row]]
id = "dan-so"
code = "2"
label = "Dân số"
kind = "count"
"#,
    )
    .expect("the test form parses")
}

fn finding(cell: &str, severity: Severity, row: &str, column: &str, message: &str) -> Finding {
    Finding {
        rule: "thu".into(),
        severity,
        sheet: "PL1".into(),
        cell: Some(cell.into()),
        indicator: Some(row.into()),
        label: None,
        column: Some(column.into()),
        value: None,
        expected: None,
        message: message.into(),
    }
}

/// The findings, and the cell each one is marked on (C1 lies in the merged A1:E1).
fn findings() -> (Vec<Finding>, Vec<(&'static str, u32)>) {
    (
        vec![
            finding(
                "E4",
                Severity::Error,
                "tang-truong",
                "kh2017",
                "Không phải là số",
            ),
            finding(
                "D6",
                Severity::Warning,
                "dan-so",
                "th2016",
                "Chưa điền giá trị",
            ),
            finding("C1", Severity::Warning, "", "", "Tiêu đề khác mẫu"),
            finding(
                "B3",
                Severity::Error,
                "",
                "th2016",
                "Tiêu đề cột không đúng",
            ),
        ],
        vec![
            ("E4", ERROR_FILL),
            ("D6", WARNING_FILL),
            ("A1", WARNING_FILL),
            ("B3", ERROR_FILL),
        ],
    )
}

fn python(script: &str, out: &Path) {
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(out)
        .status()
        .expect("python3 runs");
    assert!(
        status.success(),
        "the python writer failed; it needs openpyxl and xlsxwriter: pip install openpyxl xlsxwriter"
    );
}

fn read(bytes: &[u8]) -> Grid {
    common::inspector()
        .read(bytes, WorkbookFormat::Xlsx)
        .expect("intake reads the workbook")
}

fn part(xlsx: &[u8], name: &str) -> Option<String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut text = String::new();
    zip.by_name(name).ok()?.read_to_string(&mut text).unwrap();
    Some(text)
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(tag[at..at + tag[at..].find('"')?].to_string())
}

/// The part that holds a sheet, by the workbook part and its relationships.
fn sheet_part(xlsx: &[u8], sheet: &str) -> String {
    let book = part(xlsx, "xl/workbook.xml").unwrap();
    let at = book
        .find(&format!("name=\"{sheet}\""))
        .unwrap_or_else(|| panic!("no sheet {sheet}"));
    let tag = &book[at..at + book[at..].find('>').unwrap()];
    let id = attribute(tag, "r:id").unwrap();
    let rels = part(xlsx, "xl/_rels/workbook.xml.rels").unwrap();
    let at = rels.find(&format!("Id=\"{id}\"")).unwrap();
    let start = rels[..at].rfind('<').unwrap();
    let tag = &rels[start..start + rels[start..].find('>').unwrap()];
    let target = attribute(tag, "Target").unwrap();
    match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => format!("xl/{target}"),
    }
}

/// The part a sheet's relationship of `kind` points to.
fn related(xlsx: &[u8], sheet_part: &str, kind: &str) -> Option<String> {
    let (dir, file) = sheet_part.rsplit_once('/').unwrap();
    let rels = part(xlsx, &format!("{dir}/_rels/{file}.rels"))?;
    let at = rels.find(&format!("/relationships/{kind}\""))?;
    let start = rels[..at].rfind('<').unwrap();
    let tag = &rels[start..start + rels[start..].find('>').unwrap()];
    let target = attribute(tag, "Target").unwrap();
    Some(match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => {
            let mut parts: Vec<&str> = dir.split('/').collect();
            for seg in target.split('/') {
                match seg {
                    ".." => {
                        parts.pop();
                    }
                    s => parts.push(s),
                }
            }
            parts.join("/")
        }
    })
}

/// Every cell element of a worksheet part with its `s` (0 when absent).
fn cell_styles(sheet: &str) -> HashMap<String, usize> {
    sheet
        .match_indices("<c ")
        .map(|(at, _)| {
            let tag = &sheet[at..at + sheet[at..].find('>').unwrap()];
            (
                attribute(tag, "r").unwrap(),
                attribute(tag, "s").map_or(0, |s| s.parse().unwrap()),
            )
        })
        .collect()
}

fn section<'a>(xml: &'a str, name: &str) -> &'a str {
    let start = xml
        .find(&format!("<{name}"))
        .unwrap_or_else(|| panic!("no {name}"));
    let end = xml[start..].find(&format!("</{name}>")).unwrap();
    &xml[start..start + end]
}

/// The attributes of cell format `n`.
fn xf(styles: &str, n: usize) -> String {
    let xfs = section(styles, "cellXfs");
    let start = xfs.match_indices("<xf ").nth(n).unwrap().0;
    xfs[start..start + xfs[start..].find('>').unwrap()].to_string()
}

/// The solid colour of fill `n`, when it has one.
fn fill_rgb(styles: &str, n: usize) -> Option<u32> {
    let fills = section(styles, "fills");
    let start = fills.match_indices("<fill>").nth(n)?.0;
    let end = fills[start..].find("</fill>")?;
    let fill = &fills[start..start + end];
    if !fill.contains("solid") {
        return None;
    }
    let rgb = attribute(&fill[fill.find("<fgColor")?..], "rgb")?;
    u32::from_str_radix(&rgb[rgb.len() - 6..], 16).ok()
}

/// The element `name` of a part, whole (`<pane .../>`), when it has one.
fn element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name} "))?;
    Some(xml[start..start + xml[start..].find('>')? + 1].to_string())
}

fn text_at(sheet: &Sheet, row: u32, col: u32) -> String {
    match sheet.value(row, col) {
        Some(CellValue::Text(t)) => t.clone(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// Marks `original` and checks everything the copy must keep and add.
fn check_marked(writer: &str, original: &[u8]) {
    let grid = read(original);
    let (findings, marked) = findings();
    let spec = spec();
    let d = digest(&grid, SUMMARY_SHEET);
    let copy = marked_copy(
        &Submission {
            bytes: original,
            format: WorkbookFormat::Xlsx,
            grid: &grid,
            digest: Some(&d),
        },
        &findings,
        Some(&spec),
        "Kết quả kiểm tra pl1.xlsx",
    )
    .unwrap();
    assert_eq!(copy.route, Route::Package, "{writer}");
    let bytes = copy.bytes;

    // The same values, the summary in front; calamine opens every sheet.
    let back = read(&bytes);
    let names: Vec<&str> = back.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [SUMMARY_SHEET, "PL1", "Thuyết minh"], "{writer}");
    assert_eq!(
        back.sheets[1..],
        grid.sheets[..],
        "{writer}: values as sent"
    );
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    for name in &names {
        book.worksheet_range(name)
            .unwrap_or_else(|e| panic!("{writer}: calamine reads {name}: {e}"));
    }
    let pl1 = book.worksheet_range("PL1").unwrap();
    assert_eq!(
        pl1.get_value((3, 3)),
        Some(&Data::Float(1234.5)),
        "{writer}"
    );
    // Known as ours when it comes back unchanged; recognised as the form when corrected.
    assert!(is_unchanged_copy(&back, SUMMARY_SHEET), "{writer}");
    assert_eq!(
        back.marker,
        Some(FormMarker {
            form: "thu-pl1".into(),
            version: 3
        }),
        "{writer}"
    );

    // Formatting as it was.
    let before_part = sheet_part(original, "PL1");
    let after_part = sheet_part(&bytes, "PL1");
    let before = part(original, &before_part).unwrap();
    let after = part(&bytes, &after_part).unwrap();
    for name in ["pane", "pageSetup", "mergeCell", "col"] {
        let kept = element(&before, name).unwrap_or_else(|| panic!("{writer} wrote no {name}"));
        assert_eq!(element(&after, name), Some(kept), "{writer}: {name}");
    }
    assert_eq!(
        part(&bytes, &sheet_part(&bytes, "Thuyết minh")),
        part(original, &sheet_part(original, "Thuyết minh")),
        "{writer}: the other sheet is as it was"
    );
    let workbook = part(&bytes, "xl/workbook.xml").unwrap();
    let titles = workbook
        .find("_xlnm.Print_Titles\" localSheetId=\"1\"")
        .or_else(|| workbook.find("localSheetId=\"1\" name=\"_xlnm.Print_Titles\""));
    assert!(
        titles.is_some() && workbook.contains("$3:$3"),
        "{writer}: the print titles follow PL1 to its new place: {workbook}"
    );

    // Fills on exactly the findings' cells, each a copy of the cell's own format.
    let styles = part(&bytes, "xl/styles.xml").unwrap();
    let old_styles = part(original, "xl/styles.xml").unwrap();
    let before_styles = cell_styles(&before);
    let after_styles = cell_styles(&after);
    let want: HashMap<&str, u32> = marked.iter().copied().collect();
    for (cell, s) in &after_styles {
        let format = xf(&styles, *s);
        let fill = attribute(&format, "fillId").map_or(0, |f| f.parse().unwrap());
        match want.get(cell.as_str()) {
            Some(rgb) => {
                assert_eq!(fill_rgb(&styles, fill), Some(*rgb), "{writer}: {cell}");
                let own = xf(&old_styles, before_styles.get(cell).copied().unwrap_or(0));
                for kept in ["numFmtId", "fontId", "borderId"] {
                    assert_eq!(
                        attribute(&format, kept),
                        attribute(&own, kept),
                        "{writer}: {cell} keeps its {kept}"
                    );
                }
            }
            None => {
                assert_eq!(
                    Some(s),
                    before_styles.get(cell),
                    "{writer}: {cell} unmarked"
                );
            }
        }
    }
    let cells: BTreeSet<&str> = after_styles.keys().map(String::as_str).collect();
    for (cell, _) in &marked {
        assert!(cells.contains(cell), "{writer}: {cell} is written");
    }

    // Notes: the agency's own kept, one of ours on every marked cell, with a shape each.
    let comments = part(&bytes, &related(&bytes, &after_part, "comments").unwrap()).unwrap();
    assert!(comments.contains("Ghi chú của đơn vị"), "{writer}");
    for (cell, _) in &marked {
        assert!(
            comments.contains(&format!("ref=\"{cell}\"")),
            "{writer}: {cell}"
        );
    }
    assert!(
        comments.contains("1.1 Tăng trưởng — cột KH 2017"),
        "{writer}"
    );
    assert!(comments.contains("Lỗi: Tiêu đề cột không đúng"), "{writer}");
    let vml = part(&bytes, &related(&bytes, &after_part, "vmlDrawing").unwrap()).unwrap();
    assert_eq!(vml.matches(":shape ").count(), 4, "{writer}: {vml}");

    // The summary: Vietnamese headers; rows and columns as the form names them.
    let summary = &back.sheets[0];
    let header: Vec<String> = (0..8)
        .map(|c| text_at(summary, SUMMARY_HEADER_ROW, c))
        .collect();
    assert_eq!(header, SUMMARY_HEADERS, "{writer}");
    let first: Vec<String> = (0..8)
        .map(|c| text_at(summary, SUMMARY_HEADER_ROW + 1, c))
        .collect();
    assert_eq!(first[0], "Lỗi");
    assert_eq!(first[2], "E4");
    assert_eq!(first[3], "1.1 Tăng trưởng");
    assert_eq!(first[4], "KH 2017");
    let second: Vec<String> = (0..8)
        .map(|c| text_at(summary, SUMMARY_HEADER_ROW + 2, c))
        .collect();
    assert_eq!(
        (second[3].as_str(), second[4].as_str()),
        ("2 Dân số", "TH 2016")
    );
    assert!(
        summary.cells.iter().all(|c| !matches!(
            &c.value,
            CellValue::Text(t) if ["th2016", "kh2017", "tang-truong", "dan-so"].contains(&t.as_str())
        )),
        "{writer}: no internal id is shown"
    );
}

#[test]
fn workbooks_of_three_writers_come_back_formatted_and_marked() {
    let dir = tempfile::tempdir().unwrap();
    for (writer, script) in [("openpyxl", OPENPYXL), ("xlsxwriter", XLSXWRITER)] {
        let path = dir.path().join(format!("{writer}.xlsx"));
        python(script, &path);
        check_marked(writer, &std::fs::read(&path).unwrap());
    }
    check_marked("rust_xlsxwriter", &rust_xlsxwriter_book());
}

#[test]
fn a_blank_form_filled_by_openpyxl_is_validated_and_marked_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let forms = dir.path().join("forms");
    common::intake_ok(
        dir.path(),
        &[
            "template",
            "export",
            "--agency",
            "ubnd-cao-loc",
            "--out",
            forms.to_str().unwrap(),
        ],
    );
    let blank = std::fs::read_dir(&forms)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("742-2018-pl1"))
        .expect("the blank form of Phụ lục I is exported");
    // The district fills the first value column: a word where a number goes, the rest numbers.
    let filled = dir.path().join("filled.xlsx");
    let script = r#"
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.worksheets[0]
first = True
for row in ws.iter_rows(min_row=9):
    if row[-1].value == "bắt buộc":
        row[3].value = "khoảng tám" if first else 7.5
        first = False
wb.save(sys.argv[2])
"#;
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(&blank)
        .arg(&filled)
        .status()
        .unwrap();
    assert!(status.success(), "openpyxl fills the form");
    let marked = dir.path().join("marked.xlsx");
    let out = common::intake(
        dir.path(),
        &[
            "validate",
            filled.to_str().unwrap(),
            "--agency",
            "ubnd-cao-loc",
            "--json",
            "--annotated",
            marked.to_str().unwrap(),
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "{report}");
    let copy = std::fs::read(&marked).unwrap();
    let original = std::fs::read(&filled).unwrap();

    // The agency's package: the blank form's look (required rows' fill, fonts, the frozen
    // header, print setup) survives because nothing rebuilt it.
    let form_part = sheet_part(&original, "PL1");
    let before = part(&original, &form_part).unwrap();
    let after = part(&copy, &sheet_part(&copy, "PL1")).unwrap();
    for name in ["pane", "pageSetup", "col", "mergeCell", "pageMargins"] {
        assert_eq!(element(&after, name), element(&before, name), "{name}");
    }
    let children = |xml: &str, name: &str| {
        let s = section(xml, name);
        s[s.find('>').unwrap() + 1..].to_string()
    };
    let (old_styles, new_styles) = (
        part(&original, "xl/styles.xml").unwrap(),
        part(&copy, "xl/styles.xml").unwrap(),
    );
    for name in ["fonts", "fills", "borders", "cellXfs"] {
        assert!(
            children(&new_styles, name).starts_with(&children(&old_styles, name)),
            "the form's {name} are kept, in order"
        );
    }
    // Every cell with a finding is filled; every other cell keeps its format.
    let styles = part(&copy, "xl/styles.xml").unwrap();
    let (b, a) = (cell_styles(&before), cell_styles(&after));
    let cells: BTreeSet<String> = findings
        .iter()
        .filter(|f| f["sheet"] == "PL1")
        .filter_map(|f| f["cell"].as_str().map(String::from))
        .collect();
    for (cell, s) in &a {
        let fill = attribute(&xf(&styles, *s), "fillId").map_or(0, |f| f.parse().unwrap());
        if cells.contains(cell) {
            assert!(
                matches!(fill_rgb(&styles, fill), Some(ERROR_FILL | WARNING_FILL)),
                "{cell}"
            );
        } else {
            assert_eq!(b.get(cell), Some(s), "{cell} unmarked");
        }
    }
    assert!(cells.iter().all(|c| a.contains_key(c)));

    // The summary names columns by the form's headers, and the copy reads as the form.
    let back = read(&copy);
    assert_eq!(back.sheets[0].name, SUMMARY_SHEET);
    let column_texts: BTreeSet<String> = back.sheets[0]
        .cells
        .iter()
        .filter(|c| c.row > SUMMARY_HEADER_ROW && c.col == 4)
        .filter_map(|c| match &c.value {
            CellValue::Text(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert!(column_texts.contains("TH 2016"), "{column_texts:?}");
    assert!(!column_texts.iter().any(|t| t.starts_with("th20")));
    let again = common::intake(
        dir.path(),
        &[
            "validate",
            marked.to_str().unwrap(),
            "--agency",
            "ubnd-cao-loc",
            "--json",
        ],
    );
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["form"], report["form"]);
    assert_eq!(again["recognised_by"], "marker");
    assert_eq!(
        again["findings"], report["findings"],
        "the same cells, the same findings"
    );
    assert!(is_unchanged_copy(&back, SUMMARY_SHEET));

    // Saved again by a spreadsheet program, the copy is still known as ours; corrected, it is
    // the agency's new version of the form.
    let resave = r#"
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
if len(sys.argv) > 3:
    ws = wb["PL1"]
    for row in ws.iter_rows(min_row=9):
        if row[3].value == "khoảng tám":
            row[3].value = 8
wb.save(sys.argv[2])
"#;
    for (name, correct) in [("resaved.xlsx", false), ("corrected.xlsx", true)] {
        let path = dir.path().join(name);
        let mut args = vec![
            "-c".to_string(),
            resave.to_string(),
            marked.to_string_lossy().into_owned(),
            path.to_string_lossy().into_owned(),
        ];
        if correct {
            args.push("correct".into());
        }
        assert!(
            Command::new("python3")
                .args(&args)
                .status()
                .unwrap()
                .success()
        );
        let bytes = std::fs::read(&path).unwrap();
        assert_ne!(bytes, copy, "openpyxl writes the package anew");
        let grid = read(&bytes);
        assert_eq!(is_unchanged_copy(&grid, SUMMARY_SHEET), !correct, "{name}");
        let out = common::intake(
            dir.path(),
            &[
                "validate",
                path.to_str().unwrap(),
                "--agency",
                "ubnd-cao-loc",
                "--json",
            ],
        );
        let checked: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(checked["form"], report["form"], "{name}");
        assert_eq!(checked["recognised_by"], "marker", "{name}");
        let errors = |v: &serde_json::Value| v["errors"].as_u64().unwrap();
        if correct {
            assert!(errors(&checked) < errors(&report), "{checked}");
        } else {
            assert_eq!(errors(&checked), errors(&report));
        }
    }
}

/// Rows of the largest sheet: all of Excel's.
const ALL_ROWS: u32 = 1_048_576;

/// The environment variable that makes [`child_marks_the_large_sheet`] do its work.
const CHILD: &str = "INTAKE_TEST_MARK_LARGE";

/// Most peak RSS marking may take, in KiB.
const MAX_PEAK_KIB: u64 = 64 * 1024;

/// An xlsx with one sheet of `rows` one-cell rows, written part by part.
fn large_xlsx(rows: u32) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let small = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#,
        ),
        (
            "xl/styles.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>"#,
        ),
    ];
    for (name, text) in small {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    zip.write_all(
        br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    )
    .unwrap();
    let mut chunk = String::with_capacity(1 << 20);
    for r in 1..=rows {
        chunk.push_str(&format!(r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>"#));
        if chunk.len() > (1 << 20) - 64 {
            zip.write_all(chunk.as_bytes()).unwrap();
            chunk.clear();
        }
    }
    chunk.push_str("</sheetData></worksheet>");
    zip.write_all(chunk.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

/// The cells marked on a sheet of `rows` rows: its first, middle and last rows, and a cell
/// of the last row it lacks.
fn large_cells(rows: u32) -> Vec<String> {
    vec![
        "A1".into(),
        format!("A{}", rows / 2),
        format!("A{rows}"),
        format!("B{rows}"),
    ]
}

/// Peak resident memory of this process so far, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// The child's half of [`marking_a_million_rows_keeps_memory_bounded`]: marks the file the
/// parent wrote and prints its peak RSS. Runs only when the parent asks.
#[test]
#[ignore = "run by marking_a_million_rows_keeps_memory_bounded in a child process"]
fn child_marks_the_large_sheet() {
    let Ok(path) = std::env::var(CHILD) else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    // Marking needs the sheets' names and merged regions, not their cells: the cells were
    // read and digested before (reading is bounded on its own, and measured elsewhere).
    let grid = Grid {
        sheets: vec![Sheet {
            name: "Data".into(),
            visible: true,
            cells: Vec::new(),
            merged: Vec::new(),
            beyond: 0,
        }],
        marker: None,
        defined_names: Vec::new(),
    };
    let digest = std::env::var(format!("{CHILD}_DIGEST")).unwrap();
    let rows: u32 = std::env::var(format!("{CHILD}_ROWS"))
        .unwrap()
        .parse()
        .unwrap();
    let copy = marked_copy(
        &Submission {
            bytes: &bytes,
            format: WorkbookFormat::Xlsx,
            grid: &grid,
            digest: Some(&digest),
        },
        &large_cells(rows)
            .iter()
            .map(|cell| Finding {
                sheet: "Data".into(),
                ..finding(cell, Severity::Error, "", "", "Sai")
            })
            .collect::<Vec<_>>(),
        None,
        "t",
    )
    .unwrap();
    assert_eq!(copy.route, Route::Package);
    std::fs::write(format!("{path}.marked.xlsx"), &copy.bytes).unwrap();
    println!("peak-rss-kib={}", peak_rss_kib());
}

/// What marking a large sheet cost.
struct Cost {
    /// The child's peak RSS, KiB.
    peak: u64,
    /// The xlsx, KiB.
    packed: u64,
    /// The sheet's XML, KiB.
    unpacked: u64,
}

/// Writes a sheet of `rows` rows, marks it in a child process and checks the copy.
fn mark_large_in_child(rows: u32) -> Cost {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.xlsx");
    let bytes = large_xlsx(rows);
    std::fs::write(&path, &bytes).unwrap();
    let digest = "0123456789abcdef0123456789abcdef";
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_marks_the_large_sheet",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, &path)
        .env(format!("{CHILD}_DIGEST"), digest)
        .env(format!("{CHILD}_ROWS"), rows.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peak: u64 = stdout
        .lines()
        .find_map(|l| l.split("peak-rss-kib=").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("the child reports its peak: {stdout}"));
    eprintln!(
        "marking {rows} rows ({} KB xlsx): peak RSS {} MB",
        bytes.len() / 1024,
        peak / 1024
    );

    // The marks are where they belong, and every row is still there.
    let copy = std::fs::read(dir.path().join("large.xlsx.marked.xlsx")).unwrap();
    let sheet = part(&copy, "xl/worksheets/sheet1.xml").unwrap();
    assert_eq!(sheet.matches("<row ").count(), rows as usize);
    let mut marked: Vec<String> = cell_styles(&sheet)
        .into_iter()
        .filter(|(_, s)| *s > 0)
        .map(|(c, _)| c)
        .collect();
    marked.sort_by_key(|c| parse_a1(c));
    assert_eq!(marked, large_cells(rows));
    assert!(part(&copy, "xl/workbook.xml").unwrap().contains(digest));
    Cost {
        peak,
        packed: bytes.len() as u64 / 1024,
        unpacked: sheet.len() as u64 / 1024,
    }
}

/// Marking streams: memory grows with the compressed package (the input, the copy, and the
/// staged parts, each held packed), not with the sheet's XML, which a sheet held whole would
/// add at least once.
#[test]
fn marking_a_large_sheet_keeps_memory_bounded() {
    let small = mark_large_in_child(1 << 16);
    let large = mark_large_in_child(1 << 18);
    assert!(small.peak < MAX_PEAK_KIB && large.peak < MAX_PEAK_KIB);
    let grew = large.peak.saturating_sub(small.peak);
    let packed = large.packed - small.packed;
    let unpacked = large.unpacked - small.unpacked;
    assert!(
        grew < 3 * packed + 1024 && grew < unpacked / 2,
        "peak RSS grew {grew} KiB from 65,536 to 262,144 rows \
         (package {packed} KiB larger, sheet XML {unpacked} KiB larger)"
    );
}

/// The whole grid: 1,048,576 rows, within the same bound. A minute unoptimised; run with
/// `cargo test --release --test marked_copy -- --ignored million`.
#[test]
#[ignore = "slow unoptimised; run with --release"]
fn marking_a_million_rows_keeps_memory_bounded() {
    let cost = mark_large_in_child(ALL_ROWS);
    assert!(cost.peak < MAX_PEAK_KIB, "peak RSS {} KiB", cost.peak);
}

#[test]
fn xls_and_ods_submissions_get_a_rebuilt_copy_with_the_same_marks() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    let campaign = &config.campaigns[0];
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/forms-corpus");
    for (file, format) in [
        ("pl1-district-shifted-copy.ods", WorkbookFormat::Ods),
        ("pl1-district-range-in-actual.xls", WorkbookFormat::Xls),
    ] {
        let bytes = std::fs::read(corpus.join(file)).unwrap();
        let checked = intake::core::pipeline::check::check(
            &bytes,
            format,
            &common::inspector(),
            campaign,
            None,
        )
        .unwrap();
        assert!(!checked.findings.is_empty(), "{file}");
        let spec = intake::core::pipeline::check::spec_of(campaign, checked.form.as_deref());
        let copy = marked_copy(
            &Submission {
                bytes: &bytes,
                format,
                grid: &checked.grid,
                digest: checked.copy_digest.as_deref(),
            },
            &checked.findings,
            spec,
            file,
        )
        .unwrap();
        assert_eq!(copy.route, Route::Rebuilt, "{file}");
        let back = read(&copy.bytes);
        assert_eq!(back.sheets[0].name, SUMMARY_SHEET);
        assert!(is_unchanged_copy(&back, SUMMARY_SHEET), "{file}");
        assert_eq!(
            back.marker.as_ref().map(|m| m.form.as_str()),
            checked.form.as_deref()
        );
        // The values at the cells the agency put them in.
        for sheet in checked.grid.sheets.iter().filter(|s| s.visible) {
            let copied = back.sheets.iter().find(|s| s.name == sheet.name).unwrap();
            for cell in &sheet.cells {
                if matches!(cell.value, CellValue::Number(_) | CellValue::Text(_)) {
                    assert_eq!(
                        copied.value(cell.row, cell.col),
                        Some(&cell.value),
                        "{file} {}",
                        intake::workbook::a1(cell.row, cell.col)
                    );
                }
            }
        }
        // The blank form's look, and a fill on every finding's cell.
        let styles = part(&copy.bytes, "xl/styles.xml").unwrap();
        assert!(styles.contains("Times New Roman"), "{file}");
        for f in checked.findings.iter().filter(|f| f.cell.is_some()) {
            let xml = part(&copy.bytes, &sheet_part(&copy.bytes, &f.sheet)).unwrap();
            let cell = f.cell.clone().unwrap();
            let s = cell_styles(&xml)[&cell];
            let fill = attribute(&xf(&styles, s), "fillId").map_or(0, |f| f.parse().unwrap());
            let error = checked
                .findings
                .iter()
                .any(|g| g.sheet == f.sheet && g.cell == f.cell && g.severity == Severity::Error);
            let want = if error { ERROR_FILL } else { WARNING_FILL };
            assert_eq!(fill_rgb(&styles, fill), Some(want), "{file} {cell}");
        }
    }
}
