//! Blank forms and marked copies rebuilt from the values, read back through intake's own reader.
//!
//! For each form of the shipped configuration, the blank workbook for no agency, for a
//! district and for a department is read as any submission would be: the marker must be
//! found, every header and row label must sit where the layout says, and only the rows the
//! agency must fill may say "bắt buộc". An annotated copy of a filled-in form must read back
//! with its values, its marker, its highlighted cells and one summary row per finding.
//! Fills and notes are not part of the Grid, so they are looked up in the package's XML.

mod common;

use std::io::{Cursor, Read};

use intake::config::{AgencyKind, Config};
use intake::core::forms::annotate::{
    ERROR_FILL, SUMMARY_HEADER_ROW, SUMMARY_HEADERS, SUMMARY_SHEET, WARNING_FILL, rebuilt_copy,
};
use intake::core::forms::blank::{
    Layout, MARKER_NAME, MARKER_SHEET, NOTE_HEADER, REQUIRED_FILL, REQUIRED_NOTE, blank_form,
};
use intake::core::forms::spec::{FormSpec, Severity};
use intake::core::forms::validate::Finding;
use intake::workbook::{Cell, CellValue, FormMarker, Grid, Sheet, WorkbookFormat, a1};

/// The agencies a copy is made for: none, a district, a department.
const AGENCIES: [Option<&str>; 3] = [None, Some("ubnd-cao-loc"), Some("so-y-te")];

fn forms(config: &Config) -> Vec<&FormSpec> {
    let forms: Vec<&FormSpec> = config
        .campaigns
        .iter()
        .flat_map(|c| &c.deliverables)
        .filter_map(|d| d.spec.as_deref())
        .collect();
    assert_eq!(forms.len(), 3, "the example campaign has three forms");
    forms
}

fn read(bytes: &[u8]) -> Grid {
    common::inspector()
        .read(bytes, WorkbookFormat::Xlsx)
        .expect("intake reads its own workbook")
}

fn text_at(sheet: &Sheet, row: u32, col: u32) -> String {
    match sheet.value(row, col) {
        Some(CellValue::Text(s)) => s.clone(),
        Some(other) => panic!("{} holds {other:?}, not text", a1(row, col)),
        None => String::new(),
    }
}

fn sheet<'g>(grid: &'g Grid, name: &str) -> &'g Sheet {
    grid.sheets
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no sheet {name}"))
}

#[test]
fn blank_forms_read_back_with_marker_layout_and_required_rows() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    let mut marked = [0usize; 3];
    for spec in forms(&config) {
        for (k, code) in AGENCIES.iter().enumerate() {
            let agency = code.map(|code| {
                let a = config.agency(code).expect("agency in the roster");
                (a.code.as_str(), a.kind, a.name.as_str())
            });
            let what = format!("{} for {}", spec.id, code.unwrap_or("nobody"));
            let bytes = blank_form(spec, agency).unwrap();
            let grid = read(&bytes);

            let marker = FormMarker {
                form: spec.id.clone(),
                version: spec.version,
            };
            assert_eq!(grid.marker.as_ref(), Some(&marker), "{what}");
            let hidden = sheet(&grid, MARKER_SHEET);
            assert!(!hidden.visible, "{what}");
            assert_eq!(text_at(hidden, 0, 0), marker.to_string(), "{what}");
            let named = grid.defined_names.iter().find(|(n, _)| n == MARKER_NAME);
            assert!(
                named.is_some_and(|(_, v)| FormMarker::parse_defined_name(v) == Some(marker.clone())),
                "{what}: {:?}",
                grid.defined_names
            );
            let visible: Vec<&str> = grid
                .sheets
                .iter()
                .filter(|s| s.visible)
                .map(|s| s.name.as_str())
                .collect();
            let names: Vec<&str> = spec.sheets.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(visible, names, "{what}");

            for s in &spec.sheets {
                let got = sheet(&grid, &s.name);
                let at = Layout::of(spec, s);
                assert_eq!(at.header_row, 6, "{what}: the header is on row 7");
                let unit = match agency {
                    Some((_, _, name)) => format!("ĐƠN VỊ: {}", name.to_uppercase()),
                    None => "ĐƠN VỊ: ...............".to_string(),
                };
                assert_eq!(text_at(got, at.agency_row, 0), unit, "{what}");
                for (i, line) in spec.heading.iter().enumerate() {
                    assert_eq!(&text_at(got, at.heading_row + i as u32, 0), line, "{what}");
                }
                if let Some(title) = &s.title {
                    assert_eq!(&text_at(got, at.title_row, 0), title, "{what}");
                }
                let mut header = vec![
                    s.code_header.clone(),
                    s.label_header.clone(),
                    s.unit_header.clone(),
                ];
                header.extend(s.columns.iter().map(|c| c.label.clone()));
                header.push(NOTE_HEADER.to_string());
                let found: Vec<String> = (0..header.len() as u32)
                    .map(|c| text_at(got, at.header_row, c))
                    .collect();
                assert_eq!(found, header, "{what}");
                assert_eq!(text_at(got, at.numbers_row, 0), "(1)", "{what}");

                for (i, row) in s.rows.iter().enumerate() {
                    let r = at.first_row + i as u32;
                    assert_eq!(text_at(got, r, at.code_col.into()), row.code, "{what}");
                    assert_eq!(text_at(got, r, at.label_col.into()), row.label, "{what}");
                    assert_eq!(text_at(got, r, at.unit_col.into()), row.unit, "{what}");
                    for j in 0..s.columns.len() as u32 {
                        let c = u32::from(at.first_value_col) + j;
                        assert_eq!(got.value(r, c), None, "{what}: values are blank");
                    }
                    let must = row.kind.is_some()
                        && agency.is_some_and(|(code, kind, _)| row.who.includes(code, kind));
                    let note = text_at(got, r, at.note_col.into());
                    assert_eq!(
                        note == REQUIRED_NOTE,
                        must,
                        "{what}: row {} \"{}\" says {note:?}",
                        row.code,
                        row.label
                    );
                    if must {
                        marked[k] += 1;
                        let sheet_no = 1 + spec.sheets.iter().position(|x| x.id == s.id).unwrap();
                        let cell = a1(r, at.first_value_col.into());
                        assert_eq!(
                            fill_of(&bytes, sheet_no, &cell),
                            Some(REQUIRED_FILL),
                            "{what} {cell}"
                        );
                    }
                }
            }
        }
    }
    assert_eq!(marked[0], 0, "no row is required of nobody");
    assert!(marked[1] > 10, "a district must fill rows: {marked:?}");
    assert!(marked[2] > 0, "so-y-te must fill rows: {marked:?}");
}

#[test]
fn an_annotated_copy_reads_back_with_highlights_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    let spec = forms(&config)[0];
    let s = &spec.sheets[0];
    let at = Layout::of(spec, s);
    let agency = config.agency("so-y-te").unwrap();
    let blank = blank_form(
        spec,
        Some(("so-y-te", AgencyKind::Department, &agency.name)),
    )
    .unwrap();

    // The agency fills two values of the first value row in by hand.
    let mut grid = read(&blank);
    let data_row = at.first_row + 1;
    let (c1, c2) = (
        u32::from(at.first_value_col),
        u32::from(at.first_value_col) + 1,
    );
    let pl = grid.sheets.iter_mut().find(|x| x.name == s.name).unwrap();
    pl.cells.push(Cell {
        row: data_row,
        col: c1,
        value: CellValue::Number(7.98),
        shown: Default::default(),
    });
    pl.cells.push(Cell {
        row: data_row,
        col: c2,
        value: CellValue::Text("khoảng 8".into()),
        shown: Default::default(),
    });
    pl.cells.sort_by_key(|c| (c.row, c.col));
    let row = &s.rows[1];
    let finding =
        |cell: Option<String>, severity, column: &str, value: Option<&str>, message: &str| {
            Finding {
                rule: "thu".into(),
                severity,
                sheet: s.name.clone(),
                cell,
                indicator: Some(row.id.clone()),
                label: Some(row.label.clone()),
                column: Some(column.into()),
                value: value.map(Into::into),
                expected: Some("một số".into()),
                message: message.into(),
            }
        };
    let findings = vec![
        finding(
            Some(a1(data_row, c2)),
            Severity::Error,
            &s.columns[1].id,
            Some("khoảng 8"),
            "Giá trị không phải là số.",
        ),
        finding(
            Some(a1(data_row, c2 + 1)),
            Severity::Warning,
            &s.columns[2].id,
            None,
            "Chưa điền giá trị.",
        ),
        finding(
            None,
            Severity::Warning,
            &s.columns[4].id,
            None,
            "Không tìm thấy cột.",
        ),
    ];

    let copy = rebuilt_copy(
        &grid,
        &findings,
        Some(spec),
        "Kết quả kiểm tra: Sở Y tế, Phụ lục I",
    )
    .unwrap();
    let back = read(&copy);
    assert_eq!(back.marker, grid.marker, "the copy keeps the marker");
    assert_eq!(back.sheets[0].name, SUMMARY_SHEET);
    assert!(back.sheets[0].visible);
    let hidden = sheet(&back, MARKER_SHEET);
    assert!(!hidden.visible);

    let copied = sheet(&back, &s.name);
    let original = sheet(&grid, &s.name);
    assert_eq!(
        copied.cells, original.cells,
        "every value is copied as read"
    );
    let mut merged = copied.merged.clone();
    let mut expected = original.merged.clone();
    merged.sort();
    expected.sort();
    assert_eq!(merged, expected);

    let summary = &back.sheets[0];
    let header: Vec<String> = (0..8)
        .map(|c| text_at(summary, SUMMARY_HEADER_ROW, c))
        .collect();
    assert_eq!(header, SUMMARY_HEADERS);
    let listed = summary
        .cells
        .iter()
        .filter(|c| c.row > SUMMARY_HEADER_ROW)
        .map(|c| c.row)
        .max()
        .unwrap();
    assert_eq!(
        listed - SUMMARY_HEADER_ROW,
        findings.len() as u32,
        "one row per finding"
    );
    for (k, f) in findings.iter().enumerate() {
        let r = SUMMARY_HEADER_ROW + 1 + k as u32;
        let level = if f.severity == Severity::Error {
            "Lỗi"
        } else {
            "Cảnh báo"
        };
        let got: Vec<String> = (0..8).map(|c| text_at(summary, r, c)).collect();
        let want = [
            level.to_string(),
            f.sheet.clone(),
            f.cell.clone().unwrap_or_default(),
            // Rows by code and label, columns by their header in the form: never by id.
            format!("{} {}", row.code, row.label),
            s.columns
                .iter()
                .find(|c| Some(&c.id) == f.column.as_ref())
                .map(|c| c.label.clone())
                .unwrap_or_default(),
            f.value.clone().unwrap_or_default(),
            f.expected.clone().unwrap_or_default(),
            f.message.clone(),
        ];
        assert_eq!(got, want);
    }

    // Sheet 2 of the package is the copy of PL1 (the summary is sheet 1).
    let (error_cell, warning_cell) = (a1(data_row, c2), a1(data_row, c2 + 1));
    assert_eq!(fill_of(&copy, 2, &error_cell), Some(ERROR_FILL));
    assert_eq!(fill_of(&copy, 2, &warning_cell), Some(WARNING_FILL));
    assert_eq!(
        fill_of(&copy, 2, &a1(data_row, c1)),
        None,
        "unmarked cells stay plain"
    );
    let notes = part(&copy, "xl/comments1.xml");
    assert_eq!(notes.matches("<comment ").count(), 2);
    assert!(notes.contains(&format!("ref=\"{error_cell}\"")));
    assert!(notes.contains("Lỗi: Giá trị không phải là số."));
    assert!(notes.contains(&format!(
        "{} {} — cột {}",
        row.code, row.label, s.columns[1].label
    )));
    assert!(notes.contains(&format!("ref=\"{warning_cell}\"")));
    assert!(notes.contains("Cảnh báo: Chưa điền giá trị."));
}

/// A part of an xlsx package as text.
fn part(xlsx: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut text = String::new();
    zip.by_name(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The solid fill colour (RGB) of `cell` on the `sheet_no`th worksheet part, read from the
/// package as rust_xlsxwriter writes it (`<c r=".." s="..">`, `cellXfs`, `fills`).
fn fill_of(xlsx: &[u8], sheet_no: usize, cell: &str) -> Option<u32> {
    let sheet = part(xlsx, &format!("xl/worksheets/sheet{sheet_no}.xml"));
    let tag_at = sheet.find(&format!("<c r=\"{cell}\""))?;
    let tag = &sheet[tag_at..tag_at + sheet[tag_at..].find('>')?];
    let style: usize = attribute(tag, "s")?.parse().ok()?;
    let styles = part(xlsx, "xl/styles.xml");
    let xfs = section(&styles, "cellXfs")?;
    let xf = xfs.split("<xf ").nth(style + 1)?;
    let fill: usize = attribute(xf, "fillId")?.parse().ok()?;
    let fills = section(&styles, "fills")?;
    let fill = fills.split("<fill>").nth(fill + 1)?;
    let rgb = attribute(fill.split("<fgColor").nth(1)?, "rgb")?;
    u32::from_str_radix(&rgb[rgb.len() - 6..], 16).ok()
}

fn section<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name}"))?;
    let end = xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..start + end])
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[at..at + tag[at..].find('"')?])
}
