//! Every cell of a workbook, read through `Inspector::read` with the real `intake` binary as
//! the helper that reads xls and ods.
//!
//! The fixture workbooks (openpyxl and XlsxWriter xlsx, xlwt xls, odfpy ods) are checked
//! cell by cell against what openpyxl, xlrd and odfpy read in them; the hostile workbooks of
//! `workbook_bounds.rs`, and a few that only `read` has to fear, must end in an outcome
//! within bounds, never in an abort. Peak memory is measured in a fresh run of this test
//! binary, so that no other test's allocations count.

mod common;

use std::time::{Duration, Instant};

use common::hostile::{big_sheet, measure_in_fresh_process, ods_of, status_kib, zip_of};
use intake::workbook::{
    CellValue, Grid, InspectError, Inspector, Limits, WorkbookFormat, a1, sniff,
};

/// Growth of peak resident memory allowed for one in-process read.
const MAX_GROWTH_KIB: u64 = 200 * 1024;

fn text(s: &str) -> CellValue {
    CellValue::Text(s.into())
}

fn number(n: f64) -> CellValue {
    CellValue::Number(n)
}

fn read_fixture(file: &str) -> Result<Grid, InspectError> {
    let path = common::fixtures_dir().join("workbooks").join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    common::inspector().read(&bytes, format_of(file))
}

/// The format the file's name claims, as for a damaged file the contents cannot tell.
fn format_of(file: &str) -> WorkbookFormat {
    let ext = file.rsplit_once('.').map_or("", |(_, ext)| ext);
    ext.parse().unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Parses an A1 reference of a single cell into a 0-based (row, col).
fn pos(reference: &str) -> (u32, u32) {
    let letters = reference
        .bytes()
        .take_while(u8::is_ascii_alphabetic)
        .count();
    let col = reference[..letters].bytes().fold(0u32, |n, b| {
        n * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1)
    }) - 1;
    let row: u32 = reference[letters..].parse().unwrap();
    (row - 1, col)
}

/// The value at `reference` on sheet `sheet`, merged regions followed.
fn at<'g>(grid: &'g Grid, sheet: usize, reference: &str) -> Option<&'g CellValue> {
    let (row, col) = pos(reference);
    grid.value(sheet, row, col)
}

/// A merged region as `A1:C1`.
fn region((r0, c0, r1, c1): (u32, u32, u32, u32)) -> String {
    format!("{}:{}", a1(r0, c0), a1(r1, c1))
}

/// What openpyxl, xlrd and odfpy read in one fixture workbook.
struct Expected {
    file: &'static str,
    /// (name, visible, non-empty cells) of each sheet, in order.
    sheets: &'static [(&'static str, bool, usize)],
    /// The first sheet's merged regions (any order).
    merged: &'static [&'static str],
    /// The first sheet's last cell in reading order and its text: in every fixture the
    /// last filled row ends in its unit, its "Ghi chú" or a range typed as text.
    last: Option<(&'static str, &'static str)>,
    /// The form id of the marker.
    marker: Option<&'static str>,
}

/// The merged heading rows 2 to 5 (appendix label, heading, dispatch, sheet title) of forms
/// nine columns wide (Appendices I and II, "Ghi chú" in I), and six wide (Appendix III).
const PL_HEAD_I: &[&str] = &["A2:I2", "A3:I3", "A4:I4", "A5:I5"];
const PL_HEAD_F: &[&str] = &["A2:F2", "A3:F3", "A4:F4", "A5:F5"];
/// The same without the sheet title's row 5, as in a copy with no appendix label or title.
const BARE_HEAD_I: &[&str] = &["A2:I2", "A3:I3", "A4:I4"];
const BARE_HEAD_F: &[&str] = &["A2:F2", "A3:F3", "A4:F4"];

/// A filled form: its visible sheets (name: non-empty cells), then the hidden `_intake`
/// sheet with the marker in A1 and a warning not to touch it in A2.
macro_rules! wb {
    ($file:literal, [$($sheet:literal: $cells:literal),+], $merged:expr, $last:literal, $value:literal, $form:literal) => {
        Expected {
            file: $file,
            sheets: &[$(($sheet, true, $cells),)+ ("_intake", false, 2)],
            merged: $merged,
            last: Some(($last, $value)),
            marker: Some($form),
        }
    };
}

/// Every fixture workbook that reads, as openpyxl 3.1, xlrd 2.0 and odfpy read it: file,
/// visible sheets and their non-empty cells, the first sheet's merged heading rows and last
/// cell, the marker. Appendix III workbooks carry a second visible sheet, the budget.
#[rustfmt::skip]
const EXPECTED: &[Expected] = &[
    wb!("01-PL1_SoYTe.xlsx", ["PL1": 185], PL_HEAD_I, "I55", "bắt buộc", "742-2018-pl1"),
    wb!("02-Phu_luc_II_-_So_Tai_chinh.xlsx", ["Phu luc II": 120], PL_HEAD_I, "H23", "5,5 - 6", "742-2018-pl2"),
    wb!("03-Phu_luc_III_-_Ke_hoach_nam_2019_-_So_Cong_Thuong.xlsx", ["Biểu III": 67, "PL3 - Ngân sách": 49], PL_HEAD_F, "C20", "%", "742-2018-pl3"),
    wb!("04-PL1_HuuLung.xlsx", ["PL1": 344], PL_HEAD_I, "C55", "%", "742-2018-pl1"),
    wb!("05-PL1_SGTVT.xlsx", ["PL1": 247], PL_HEAD_I, "C55", "%", "742-2018-pl1"),
    wb!("06-PL3_SXD.xlsx", ["PL3": 63, "PL3 - Ngân sách": 49], PL_HEAD_F, "C20", "%", "742-2018-pl3"),
    wb!("07-Phu_luc_I_-_Van_Quan.xlsx", ["Phụ lục I": 344], PL_HEAD_I, "C55", "%", "742-2018-pl1"),
    wb!("08-PL2_STNMT.xlsx", ["PL2": 118], PL_HEAD_I, "H23", "5,5 - 6", "742-2018-pl2"),
    wb!("09-Phu_luc_2.xlsx", ["Phu luc II": 118], PL_HEAD_I, "H23", "5,5 - 6", "742-2018-pl2"),
    wb!("10-Phu_luc_1.xlsx", ["PL1": 344], PL_HEAD_I, "C55", "%", "742-2018-pl1"),
    wb!("12-Book1.xlsx", ["Sheet1": 65, "Sheet2": 55], BARE_HEAD_F, "C20", "%", "742-2018-pl3"),
    wb!("14-PL1_SoYTe_sua.xlsx", ["PL1": 185], PL_HEAD_I, "I55", "bắt buộc", "742-2018-pl1"),
    Expected { file: "15-PL1_-_So_Noi_vu.xlsx", sheets: &[("Sheet", true, 0)], merged: &[], last: None, marker: None },
    wb!("18-PL1_bad.xlsx", ["PL1": 203], PL_HEAD_I, "C55", "%", "742-2018-pl1"),
    wb!("20-PL1_BinhGia.xls", ["PL1": 344], PL_HEAD_I, "C55", "%", "742-2018-pl1"),
    wb!("21-Phu_luc_II_-_Bac_Son.ods", ["Phụ lục II": 139], &[], "C23", "%", "742-2018-pl2"),
    wb!("23-PL3_SoYTe.xlsx", ["PL3": 56, "PL3 - Ngân sách": 41], PL_HEAD_F, "C20", "%", "742-2018-pl3"),
    wb!("24-PL1_SVHTTDL.xlsx", ["PL1": 167], PL_HEAD_I, "C55", "%", "742-2018-pl1"),
    wb!("25-PL1_ChiLang.xlsx", ["PL1": 344], PL_HEAD_I, "C55", "%", "742-2018-pl1"),
    wb!("25-PL2_ChiLang.xlsx", ["PL2": 139], PL_HEAD_I, "C23", "%", "742-2018-pl2"),
    wb!("25-PL3_ChiLang.xlsx", ["PL3": 83, "PL3 - Ngân sách": 62], PL_HEAD_F, "F20", "bắt buộc", "742-2018-pl3"),
    wb!("26-baocao.xlsx", ["Sheet1": 116], BARE_HEAD_I, "H23", "5,5 - 6", "742-2018-pl2"),
    wb!("27-Phu_luc_III_-_So_NN_PTNT.xlsx", ["Biểu III": 59, "PL3 - Ngân sách": 41], PL_HEAD_F, "F20", "bắt buộc", "742-2018-pl3"),
    wb!("28-PL1_CucThongKe.xlsx", ["PL1": 270], PL_HEAD_I, "C55", "%", "742-2018-pl1"),
    // The agency's own table: five columns (no "Ghi chú"), two sheets, no `_intake`.
    Expected { file: "30-Bieu_III_-_Cuc_Thue.xlsx", sheets: &[("Biểu III", true, 48), ("Ngân sách", true, 42)], merged: &["A2:E2", "A3:E3", "A4:E4", "A5:E5"], last: Some(("C19", "%")), marker: None },
    wb!("31-PL2_BHXH.xlsx", ["PL2": 118], PL_HEAD_I, "H23", "5,5 - 6", "742-2018-pl2"),
    wb!("32-PL3_LocBinh.xlsx", ["PL3": 83, "PL3 - Ngân sách": 62], PL_HEAD_F, "F20", "bắt buộc", "742-2018-pl3"),
    wb!("34-PL1_ThanhTra.xlsx", ["PL1": 241], PL_HEAD_I, "C55", "%", "742-2018-pl1"),
    wb!("35-PL3_DinhLap.xlsx", ["PL3": 83, "PL3 - Ngân sách": 62], PL_HEAD_F, "F20", "bắt buộc", "742-2018-pl3"),
];

/// How a fixture workbook that does not read is refused.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    Damaged,
    Encrypted,
}

impl Refusal {
    fn is(self, e: &InspectError) -> bool {
        match self {
            Refusal::Damaged => matches!(e, InspectError::Unreadable(_)),
            Refusal::Encrypted => *e == InspectError::Encrypted,
        }
    }
}

/// Fixture workbooks that do not read, and why.
const UNREADABLE: &[(&str, Refusal)] = &[
    ("16-PL2_-_So_Tu_phap.xlsx", Refusal::Damaged),
    ("17-PL3-SKHCN.xlsx", Refusal::Encrypted),
];

#[test]
fn every_fixture_workbook_reads_as_its_writer_wrote_it() {
    let dir = common::fixtures_dir().join("workbooks");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xlsx") || n.ends_with(".xls") || n.ends_with(".ods"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = EXPECTED
        .iter()
        .map(|e| e.file.to_string())
        .chain(UNREADABLE.iter().map(|(f, _)| f.to_string()))
        .collect();
    listed.sort();
    assert!(
        !on_disk.is_empty(),
        "no fixture workbooks in {}",
        dir.display()
    );
    assert_eq!(listed, on_disk, "every fixture workbook is listed here");

    for want in EXPECTED {
        let file = want.file;
        let grid = read_fixture(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let sheets: Vec<_> = grid
            .sheets
            .iter()
            .map(|s| (s.name.as_str(), s.visible, s.cells.len()))
            .collect();
        assert_eq!(sheets, want.sheets, "{file}");
        let mut merged: Vec<String> = grid.sheets[0].merged.iter().copied().map(region).collect();
        merged.sort();
        assert_eq!(merged, want.merged, "{file}");
        let last = grid.sheets[0]
            .cells
            .last()
            .map(|c| (a1(c.row, c.col), c.value.clone()));
        let want_last = want.last.map(|(p, v)| (p.to_string(), text(v)));
        assert_eq!(last, want_last, "{file}");
        assert_eq!(
            grid.marker.as_ref().map(|m| m.form.as_str()),
            want.marker,
            "{file}"
        );

        // The same workbook inspected: the same sheets, cells and marker.
        let bytes = std::fs::read(dir.join(file)).unwrap();
        assert_eq!(sniff(&bytes, file), Some(format_of(file)), "{file}");
        let inspection = common::inspector()
            .inspect(&bytes, format_of(file))
            .unwrap();
        let cells: usize = grid.sheets.iter().map(|s| s.cells.len()).sum();
        assert_eq!(cells as u64, inspection.cells, "{file}");
        assert_eq!(grid.marker, inspection.marker, "{file}");
    }
    for (file, refusal) in UNREADABLE {
        let got = read_fixture(file);
        assert!(matches!(&got, Err(e) if refusal.is(e)), "{file}: {got:?}");
    }
}

/// Row 4 of every form's heading: the dispatch the forms come with.
const DISPATCH: &str =
    "(Kèm theo Công văn số 742/SKHĐT-THQH ngày 29/6/2018 của Sở Kế hoạch và Đầu tư)";

/// The non-empty cells of `row` (1-based) on the first sheet.
fn cells_in_row(grid: &Grid, row: u32) -> usize {
    grid.sheets[0]
        .cells
        .iter()
        .filter(|c| c.row == row - 1)
        .count()
}

#[test]
fn openpyxl_cells_are_at_their_a1_positions() {
    let grid = read_fixture("01-PL1_SoYTe.xlsx").unwrap();
    // Row 1 names the unit in one cell, merged with nothing.
    assert_eq!(at(&grid, 0, "A1"), Some(&text("ĐƠN VỊ: SỞ Y TẾ")));
    assert_eq!(cells_in_row(&grid, 1), 1);
    assert_eq!(at(&grid, 0, "B1"), None);
    assert_eq!(at(&grid, 0, "C1"), None);
    assert_eq!(at(&grid, 0, "A2"), Some(&text("PHỤ LỤC I")));
    assert_eq!(at(&grid, 0, "A4"), Some(&text(DISPATCH)));
    // Merged regions answer with their top-left cell, and stop at their edge.
    assert_eq!(at(&grid, 0, "I2"), Some(&text("PHỤ LỤC I")));
    assert_eq!(at(&grid, 0, "J2"), None);
    assert_eq!(
        at(&grid, 0, "E5"),
        Some(&text("Các chỉ tiêu chủ yếu kế hoạch 5 năm 2016 - 2020"))
    );
    // Row 6 is blank: the header is on row 7, where openpyxl put it.
    assert!(grid.sheets[0].cells.iter().all(|c| c.row != 5));
    assert_eq!(at(&grid, 0, "A7"), Some(&text("STT")));
    assert_eq!(at(&grid, 0, "H7"), Some(&text("MT 2020")));
    assert_eq!(at(&grid, 0, "I7"), Some(&text("Ghi chú")));
    assert_eq!(at(&grid, 0, "J7"), None);
    // The row numbers were written as text, and stay text; 9.2 is stored as
    // 9.199999999999999 and 10 as an integer, both read as the numbers typed.
    assert_eq!(at(&grid, 0, "A38"), Some(&text("17")));
    assert_eq!(at(&grid, 0, "B38"), Some(&text("Số bác sĩ/vạn dân")));
    assert_eq!(at(&grid, 0, "D38"), Some(&number(8.9)));
    assert_eq!(at(&grid, 0, "E38"), Some(&number(9.2)));
    assert_eq!(at(&grid, 0, "H38"), Some(&number(10.0)));
    assert_eq!(at(&grid, 0, "I38"), Some(&text("bắt buộc")));
    // The BHYT coverage typed 975 (the error by design) and a bound typed as text.
    assert_eq!(at(&grid, 0, "G40"), Some(&number(975.0)));
    assert_eq!(at(&grid, 0, "H40"), Some(&text("trên 98")));
    // A row Sở Y tế does not fill has its label and nothing else.
    assert_eq!(at(&grid, 0, "C37"), Some(&text("%")));
    assert_eq!(at(&grid, 0, "D37"), None);
    assert_eq!(at(&grid, 0, "I37"), None);
    assert_eq!(
        at(&grid, 1, "A1"),
        Some(&text("intake-form:742-2018-pl1@1"))
    );
    assert_eq!(
        at(&grid, 1, "A2"),
        Some(&text(
            "Trang đánh dấu biểu mẫu của hệ thống tiếp nhận: xin đừng xóa hay sửa."
        ))
    );
}

#[test]
fn xlsxwriter_cells_skip_styled_blanks() {
    let grid = read_fixture("02-Phu_luc_II_-_So_Tai_chinh.xlsx").unwrap();
    assert_eq!(at(&grid, 0, "A1"), Some(&text("ĐƠN VỊ: SỞ TÀI CHÍNH")));
    assert_eq!(cells_in_row(&grid, 1), 1);
    // B2 to I2 are styled blanks (<c r="B2" s="2"/>): not cells, but I2 is in A2's region.
    assert_eq!(cells_in_row(&grid, 2), 1);
    assert_eq!(at(&grid, 0, "I2"), Some(&text("PHỤ LỤC II")));
    assert_eq!(at(&grid, 0, "A18"), Some(&text("6")));
    // The rows a department does not fill hold styled blanks from D on.
    assert_eq!(at(&grid, 0, "C10"), Some(&text("%")));
    assert_eq!(at(&grid, 0, "D10"), None);
    assert_eq!(at(&grid, 0, "D19"), None);
    assert_eq!(at(&grid, 0, "H19"), None);
    assert_eq!(at(&grid, 0, "D18"), Some(&number(1352.0)));
    assert_eq!(at(&grid, 0, "F11"), Some(&text("21 - 22")));
    assert_eq!(at(&grid, 0, "G15"), Some(&number(1800.0)));
    assert_eq!(at(&grid, 0, "H16"), Some(&text("18000 - 20000")));
    assert_eq!(at(&grid, 0, "I16"), Some(&text("bắt buộc")));
    assert_eq!(at(&grid, 0, "H23"), Some(&text("5,5 - 6")));
    assert_eq!(at(&grid, 0, "I23"), None);
}

#[test]
fn xlwt_cells_and_merges_come_through_the_child() {
    let grid = read_fixture("20-PL1_BinhGia.xls").unwrap();
    assert_eq!(
        at(&grid, 0, "A1"),
        Some(&text("ĐƠN VỊ: UBND HUYỆN BÌNH GIA"))
    );
    assert_eq!(at(&grid, 0, "C1"), None);
    // B2 to I2 are blank records: not cells, but I2 is in A2's region.
    assert_eq!(cells_in_row(&grid, 2), 1);
    assert_eq!(at(&grid, 0, "I2"), Some(&text("PHỤ LỤC I")));
    assert_eq!(at(&grid, 0, "H4"), Some(&text(DISPATCH)));
    assert!(grid.sheets[0].cells.iter().all(|c| c.row != 5));
    assert_eq!(at(&grid, 0, "A7"), Some(&text("STT")));
    assert_eq!(at(&grid, 0, "I7"), Some(&text("Ghi chú")));
    assert_eq!(at(&grid, 0, "B10"), Some(&text("Tốc độ tăng trưởng GRDP")));
    assert_eq!(at(&grid, 0, "D10"), Some(&number(6.8)));
    assert_eq!(at(&grid, 0, "H10"), Some(&text("7,5 - 8")));
    assert_eq!(at(&grid, 0, "I10"), Some(&text("bắt buộc")));
    assert_eq!(at(&grid, 0, "D14"), None);
    assert_eq!(at(&grid, 0, "E26"), Some(&text("67,4")));
    assert_eq!(at(&grid, 0, "D27"), Some(&number(0.0)));
    assert_eq!(at(&grid, 0, "H43"), Some(&text("dưới 10")));
    assert_eq!(grid.sheets[1].name, "_intake");
    assert!(!grid.sheets[1].visible);
}

#[test]
fn odfpy_cells_come_through_the_child() {
    let grid = read_fixture("21-Phu_luc_II_-_Bac_Son.ods").unwrap();
    assert_eq!(
        at(&grid, 0, "A1"),
        Some(&text("ĐƠN VỊ: UBND HUYỆN BẮC SƠN"))
    );
    assert_eq!(at(&grid, 0, "A2"), Some(&text("PHỤ LỤC II")));
    assert_eq!(at(&grid, 0, "I2"), None, "ods merges are not read");
    assert!(grid.sheets[0].cells.iter().all(|c| c.row != 5));
    assert_eq!(at(&grid, 0, "A7"), Some(&text("STT")));
    assert_eq!(at(&grid, 0, "D9"), Some(&number(7.22)));
    assert_eq!(at(&grid, 0, "H9"), Some(&text("7,5 - 8")));
    assert_eq!(at(&grid, 0, "C10"), Some(&text("%")));
    assert_eq!(at(&grid, 0, "D10"), None);
    assert_eq!(at(&grid, 0, "B11"), Some(&text("Nông lâm nghiệp")));
    assert_eq!(at(&grid, 0, "F11"), Some(&text("40 - 42")));
    assert_eq!(at(&grid, 0, "D17"), Some(&number(13.0)));
    assert_eq!(at(&grid, 0, "I22"), Some(&text("bắt buộc")));
    assert_eq!(at(&grid, 0, "D23"), None);
    assert_eq!(grid.sheets[1].name, "_intake");
    assert!(!grid.sheets[1].visible);
}

// Hostile workbooks: the builders follow tests/workbook_bounds.rs.

/// An xlsx package of one sheet with this sheet XML and, if given, this sharedStrings part.
fn xlsx_package(sheet: &str, shared_strings: Option<&str>) -> Vec<u8> {
    let types = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
    let rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let workbook = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Bomb" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let mut workbook_rels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>"#,
    );
    if shared_strings.is_some() {
        workbook_rels.push_str(r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>"#);
    }
    workbook_rels.push_str("</Relationships>");
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", types.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", workbook_rels.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ];
    if let Some(sst) = shared_strings {
        parts.push(("xl/sharedStrings.xml", sst.as_bytes()));
    }
    zip_of(&parts)
}

/// A worksheet part whose sheetData is `rows`.
fn worksheet(rows: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
    )
}

/// An xlsx whose single sheet declares the whole grid and holds A1 and XFD1048576: what
/// makes calamine's `worksheet_range` ask for 512 GiB.
fn sparse_bomb() -> Vec<u8> {
    let sheet = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>top</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>42</v></c></row></sheetData></worksheet>"#;
    xlsx_package(sheet, None)
}

/// Not a test of its own: the body of the memory measurements, run by them in a fresh
/// process (`measure_in_fresh_process`) so that only this read's memory counts.
#[test]
#[ignore = "run by the bounded-memory tests in a fresh process"]
fn measure_read_in_this_process() {
    let (Ok(file), Ok(format)) = (
        std::env::var("WORKBOOK_MEASURE_FILE"),
        std::env::var("WORKBOOK_MEASURE_FORMAT"),
    ) else {
        println!("nothing to measure: WORKBOOK_MEASURE_FILE is not set");
        return;
    };
    let bytes = std::fs::read(file).unwrap();
    let format: WorkbookFormat = format.parse().unwrap();
    // In-process on purpose: this is the path that must stay bounded without a child.
    let inspector = Inspector::new(Limits::default(), None);
    let before = status_kib("VmRSS:");
    let grid = inspector.read(&bytes, format).expect("the read succeeds");
    let peak = status_kib("VmHWM:");
    // On lines of their own: the harness prints the test's name before them.
    println!("\npeak_growth_kib={}", peak.saturating_sub(before));
    println!("grid={}", serde_json::to_string(&grid).unwrap());
}

#[test]
fn sparse_cell_bomb_is_read_in_bounded_memory() {
    let bytes = sparse_bomb();
    assert!(bytes.len() < 5_000, "the bomb is {} bytes", bytes.len());
    let (growth, grid) = measure(&bytes, WorkbookFormat::Xlsx);
    println!("sparse bomb through read: peak memory growth {growth} KiB");
    assert!(growth < MAX_GROWTH_KIB, "peak memory grew by {growth} KiB");
    // The last cell lies below the rows kept: counted, not kept.
    assert_eq!(grid.sheets[0].cells.len(), 1);
    assert_eq!(grid.sheets[0].beyond, 1);
    assert_eq!(at(&grid, 0, "A1"), Some(&text("top")));
}

#[test]
fn three_hundred_thousand_cells_are_read_within_limits() {
    let bytes = big_sheet(30_000);
    let (growth, grid) = measure(&bytes, WorkbookFormat::Xlsx);
    println!(
        "300k cells ({} KiB file) through read: peak memory growth {growth} KiB",
        bytes.len() / 1024
    );
    assert!(growth < MAX_GROWTH_KIB, "peak memory grew by {growth} KiB");
    // The first 5 000 rows are kept, the 25 000 below them counted.
    assert_eq!(grid.sheets[0].cells.len(), 50_000);
    assert_eq!(grid.sheets[0].beyond, 250_000);
    assert_eq!(at(&grid, 0, "A1"), Some(&text("Bảng tổng hợp")));
    assert_eq!(at(&grid, 0, "J5000"), Some(&number(49_999.0)));
    assert_eq!(at(&grid, 0, "A5001"), None);

    let limits = Limits {
        max_cells: 100_000,
        ..Limits::default()
    };
    let got = Inspector::new(limits, None).read(&bytes, WorkbookFormat::Xlsx);
    assert_eq!(got, Err(InspectError::TooLarge { limit: 100_000 }));
}

#[test]
fn one_long_shared_string_in_many_cells_is_stopped_by_the_text_limit() {
    // A megabyte of text, stored once and used by 100,000 cells: 100 GB as a grid.
    let sst = format!(
        r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>{}</t></si></sst>"#,
        "x".repeat(1_000_000)
    );
    let rows: String = (1..=100_000)
        .map(|r| format!(r#"<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>"#))
        .collect();
    let bytes = xlsx_package(&worksheet(&rows), Some(&sst));
    assert!(bytes.len() < 1 << 20, "the bomb is {} bytes", bytes.len());
    let started = Instant::now();
    let got = common::inspector().read(&bytes, WorkbookFormat::Xlsx);
    let limit = Limits::default().max_text_bytes;
    assert_eq!(got, Err(InspectError::TooLarge { limit }));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_huge_shared_formula_index_costs_nothing() {
    // calamine's own shared-formula expansion sizes a table by `si`: 4·10⁹ entries.
    let rows = r#"<row r="1"><c r="A1"><f t="shared" ref="A1:A2" si="4000000000">B1+1</f></c></row><row r="2"><c r="A2"><f t="shared" si="4000000000"/></c></row>"#;
    let bytes = xlsx_package(&worksheet(rows), None);
    let (growth, grid) = measure(&bytes, WorkbookFormat::Xlsx);
    assert!(growth < MAX_GROWTH_KIB, "peak memory grew by {growth} KiB");
    assert_eq!(
        at(&grid, 0, "A2"),
        Some(&CellValue::FormulaWithoutValue("B2+1".into()))
    );
}

#[test]
fn too_many_merged_regions_are_refused_before_calamine_collects_them() {
    let merges: String = (1..=300_000)
        .map(|r| format!(r#"<mergeCell ref="A{r}:B{r}"/>"#))
        .collect();
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/><mergeCells>{merges}</mergeCells></worksheet>"#
    );
    let got = common::inspector().read(&xlsx_package(&sheet, None), WorkbookFormat::Xlsx);
    assert!(
        matches!(got, Err(InspectError::TooLarge { .. })),
        "expected TooLarge, got {got:?}"
    );
}

#[test]
fn shared_strings_count_bomb_is_refused() {
    let sheet = worksheet(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#);
    let sst = r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="10000000000"><si><t>a</t></si></sst>"#;
    let got = common::inspector().read(&xlsx_package(&sheet, Some(sst)), WorkbookFormat::Xlsx);
    assert_eq!(got, Err(InspectError::TooLarge { limit: 2_000_000 }));
}

#[test]
fn decompression_bomb_is_refused_within_the_unpacked_budget() {
    let mut rows = String::new();
    rows.push_str(&"<row/>".repeat(5_000_000));
    let bytes = xlsx_package(&worksheet(&rows), None);
    drop(rows);
    let limits = Limits {
        max_bytes: 5 << 20,
        ..Limits::default()
    };
    let got = Inspector::new(limits, None).read(&bytes, WorkbookFormat::Xlsx);
    assert_eq!(got, Err(InspectError::TooLarge { limit: 20 << 20 }));
}

#[test]
fn ods_of_repeated_empty_rows_is_stopped_in_the_child() {
    let tables = r#"<table:table table:name="Bomb">
<table:table-row><table:table-cell office:value-type="string"><text:p>top</text:p></table:table-cell><table:table-cell table:number-columns-repeated="78"/><table:table-cell office:value-type="float" office:value="1"/></table:table-row>
<table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="80"/></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>bottom</text:p></table:table-cell></table:table-row>
</table:table>"#;
    let started = Instant::now();
    let got = common::inspector().read(&ods_of(tables), WorkbookFormat::Ods);
    println!(
        "ods row bomb through read: {got:?} in {:?}",
        started.elapsed()
    );
    let limit = Limits::default().child_memory_bytes;
    assert_eq!(got, Err(InspectError::TooLarge { limit }));
    assert!(started.elapsed() < Limits::default().child_timeout + Duration::from_secs(5));
}

#[test]
fn ods_of_repeated_columns_is_too_large() {
    let tables = r#"<table:table table:name="Wide">
<table:table-row table:number-rows-repeated="1048576"><table:table-cell office:value-type="float" office:value="7" table:number-columns-repeated="2000000000"/></table:table-row>
</table:table>"#;
    let got = common::inspector().read(&ods_of(tables), WorkbookFormat::Ods);
    assert!(
        matches!(got, Err(InspectError::TooLarge { .. })),
        "expected TooLarge, got {got:?}"
    );
}

#[test]
fn ods_cells_past_the_cell_limit_are_too_large_in_the_child() {
    // 300 rows × 1,000 repeated numbers: 300,000 cells against a limit of 100,000.
    let tables = r#"<table:table table:name="Many">
<table:table-row table:number-rows-repeated="300"><table:table-cell office:value-type="float" office:value="7" table:number-columns-repeated="1000"/></table:table-row>
</table:table>"#;
    let limits = Limits {
        max_cells: 100_000,
        ..Limits::default()
    };
    let inspector = Inspector::new(limits, Some(common::bin()));
    let got = inspector.read(&ods_of(tables), WorkbookFormat::Ods);
    assert_eq!(got, Err(InspectError::TooLarge { limit: 100_000 }));
}

#[test]
fn a_stored_nan_comes_through_the_child_as_an_error_value() {
    // JSON has no NaN: as a number it would make the child's whole answer invalid.
    let tables = r#"<table:table table:name="N"><table:table-row><table:table-cell office:value-type="float" office:value="NaN"/><table:table-cell office:value-type="float" office:value="-inf"/><table:table-cell office:value-type="float" office:value="1e308"/></table:table-row></table:table>"#;
    let grid = common::inspector()
        .read(&ods_of(tables), WorkbookFormat::Ods)
        .unwrap();
    let num_error = CellValue::Error("#NUM!".into());
    assert_eq!(at(&grid, 0, "A1"), Some(&num_error));
    assert_eq!(at(&grid, 0, "B1"), Some(&num_error));
    assert_eq!(at(&grid, 0, "C1"), Some(&number(1e308)));
}

#[test]
fn xls_with_garbage_after_the_ole_header_is_unreadable() {
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let mut x = 0x1234_5678u32;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push(x as u8);
    }
    let got = common::inspector().read(&bytes, WorkbookFormat::Xls);
    assert!(matches!(got, Err(InspectError::Unreadable(_))), "{got:?}");
}

/// Peak memory growth (KiB) and result of one in-process read, measured in a fresh process.
fn measure(bytes: &[u8], format: WorkbookFormat) -> (u64, Grid) {
    measure_in_fresh_process(bytes, format, "measure_read_in_this_process", "grid")
}
