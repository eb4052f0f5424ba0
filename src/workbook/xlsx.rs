//! # xlsx/xlsm reading
//!
//! Reads SpreadsheetML workbooks in-process, cell by cell, with calamine's streaming reader
//! (`Xlsx::worksheet_cells_reader` / `next_cell`). Nothing here calls `worksheet_range` or
//! anything else that allocates by a sheet's declared dimension: a sheet holding A1 and
//! XFD1048576 costs two cells, not 512 GiB. Whatever calamine loads whole when it opens the
//! package has been bounded by [`super::package::check`] first.

use std::io::Cursor;

use calamine::{Reader, SheetVisible, Xlsx, XlsxError};

use super::package::{self, Kind};
use super::scan::{self, SheetScan};
use super::{InspectError, Inspection, Limits, SheetInfo};

/// Inspects an xlsx or xlsm workbook within `limits`.
pub(crate) fn inspect(bytes: &[u8], limits: &Limits) -> Result<Inspection, InspectError> {
    package::check(bytes, limits, Kind::Ooxml)?;
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(open_error)?;
    let mut marker = scan::marker_from_names(workbook.defined_names());
    let metadata = workbook.sheets_metadata().to_vec();
    let mut sheets = Vec::with_capacity(metadata.len());
    let mut total = 0u64;
    for sheet in metadata {
        let mut scan = SheetScan::new(limits.heading_rows);
        read_sheet(&mut workbook, &sheet.name, &mut scan, &mut total, limits)?;
        let cells = scan.cells;
        let (heading, sheet_marker) = scan.finish();
        if marker.is_none() {
            marker = sheet_marker;
        }
        sheets.push(SheetInfo {
            name: sheet.name,
            visible: sheet.visible == SheetVisible::Visible,
            cells,
            heading,
        });
    }
    Ok(Inspection {
        sheets,
        marker,
        cells: total,
    })
}

/// Streams one sheet's cells into `scan`, counting them against the workbook's cap.
fn read_sheet(
    workbook: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    scan: &mut SheetScan,
    total: &mut u64,
    limits: &Limits,
) -> Result<(), InspectError> {
    let mut reader = match workbook.worksheet_cells_reader(name) {
        Ok(reader) => reader,
        // Chart sheets and dialog sheets hold no cells: they are listed, empty.
        Err(XlsxError::NotAWorksheet(_)) => return Ok(()),
        Err(XlsxError::WorksheetNotFound(_)) => {
            return Err(InspectError::Unreadable(format!(
                "sheet '{name}' is listed in the workbook but missing from the package"
            )));
        }
        Err(e) => return Err(sheet_error(name, e)),
    };
    while let Some(cell) = reader.next_cell().map_err(|e| sheet_error(name, e))? {
        let value = cell.get_value();
        if scan::is_blank_ref(value) {
            continue;
        }
        *total += 1;
        if *total > limits.max_cells {
            return Err(InspectError::TooLarge {
                limit: limits.max_cells,
            });
        }
        scan.cells += 1;
        let (row, col) = cell.get_position();
        if scan.wants(row) {
            scan.add(row, col, &scan::render_ref(value));
        }
    }
    Ok(())
}

fn open_error(e: XlsxError) -> InspectError {
    match e {
        XlsxError::Password => InspectError::Encrypted,
        XlsxError::Zip(e) => InspectError::Unreadable(format!("the zip package is damaged ({e})")),
        e => InspectError::Unreadable(format!("the workbook's structure is invalid ({e})")),
    }
}

fn sheet_error(name: &str, e: XlsxError) -> InspectError {
    InspectError::Unreadable(format!("sheet '{name}' is damaged ({e})"))
}

#[cfg(test)]
mod tests {
    use rust_xlsxwriter::{Format, FormatAlign, Workbook};

    use super::*;
    use crate::workbook::FormMarker;
    use crate::workbook::sniff::tests::zip_of;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn heading_with_merged_title_starting_at_row_three() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("Biểu 01").unwrap();
        let center = Format::new().set_align(FormatAlign::Center);
        // Rows 1 and 2 empty; the title block starts on row 3 (index 2).
        ws.merge_range(2, 0, 2, 5, "  UBND TỈNH — SỞ Y TẾ  ", &center)
            .unwrap();
        ws.merge_range(3, 0, 3, 5, "Báo cáo tiến độ năm", &center)
            .unwrap();
        ws.write_number(3, 6, 2024.0).unwrap();
        ws.write_string(5, 1, "Đơn vị").unwrap();
        ws.write_number(5, 2, 12.5).unwrap();
        for r in 6..40 {
            ws.write_number(r, 0, f64::from(r)).unwrap();
        }
        let bytes = wb.save_to_buffer().unwrap();

        let got = inspect(
            &bytes,
            &Limits {
                heading_rows: 3,
                ..limits()
            },
        )
        .unwrap();
        assert_eq!(got.sheets.len(), 1);
        let sheet = &got.sheets[0];
        assert_eq!(sheet.name, "Biểu 01");
        assert!(sheet.visible);
        assert_eq!(
            sheet.heading,
            [
                "UBND TỈNH — SỞ Y TẾ",
                "Báo cáo tiến độ năm",
                "2024",
                "Đơn vị",
                "12.5"
            ]
        );
        assert_eq!(sheet.cells, 2 + 1 + 2 + 34);
        assert_eq!(got.cells, sheet.cells);
        assert_eq!(got.marker, None);
    }

    #[test]
    fn hidden_marker_sheet_is_read_and_reported_hidden() {
        let mut wb = Workbook::new();
        wb.add_worksheet()
            .set_name("Data")
            .unwrap()
            .write_string(0, 0, "Biểu số 1")
            .unwrap();
        let marker = wb.add_worksheet();
        marker.set_name("_intake").unwrap();
        marker
            .write_string(0, 0, "intake-form:742-2018-pl1@1")
            .unwrap();
        marker.set_hidden(true);
        let bytes = wb.save_to_buffer().unwrap();

        let got = inspect(&bytes, &limits()).unwrap();
        let visible: Vec<_> = got
            .sheets
            .iter()
            .map(|s| (s.name.as_str(), s.visible))
            .collect();
        assert_eq!(visible, [("Data", true), ("_intake", false)]);
        assert_eq!(
            got.marker,
            Some(FormMarker {
                form: "742-2018-pl1".into(),
                version: 1
            })
        );
    }

    #[test]
    fn marker_from_a_defined_name() {
        let mut wb = Workbook::new();
        wb.add_worksheet().write_string(0, 0, "x").unwrap();
        wb.define_name("intake_form", "=\"intake-form:so-yt-app1@4\"")
            .unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let got = inspect(&bytes, &limits()).unwrap();
        assert_eq!(
            got.marker,
            Some(FormMarker {
                form: "so-yt-app1".into(),
                version: 4
            })
        );
    }

    #[test]
    fn counts_non_empty_cells_and_stops_past_the_cap() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for r in 0..10 {
            for c in 0..10 {
                ws.write_number(r, c, 1.0).unwrap();
            }
        }
        ws.write_string(20, 0, "").unwrap();
        ws.write_string(21, 0, "   ").unwrap();
        ws.write_blank(22, 0, &Format::new().set_bold()).unwrap();
        let second = wb.add_worksheet();
        second.write_string(0, 0, "one").unwrap();
        let bytes = wb.save_to_buffer().unwrap();

        let got = inspect(&bytes, &limits()).unwrap();
        assert_eq!(got.cells, 101);
        assert_eq!(got.sheets[0].cells, 100);
        assert_eq!(got.sheets[1].cells, 1);

        let capped = inspect(
            &bytes,
            &Limits {
                max_cells: 100,
                ..limits()
            },
        );
        assert_eq!(capped, Err(InspectError::TooLarge { limit: 100 }));
    }

    #[test]
    fn a_zip_that_is_not_a_workbook_is_unreadable() {
        let bytes = zip_of(&[("hello.txt", b"hi")]);
        let got = inspect(&bytes, &limits());
        assert!(matches!(got, Err(InspectError::Unreadable(_))), "{got:?}");
        let got = inspect(b"not a zip at all", &limits());
        assert!(
            matches!(&got, Err(InspectError::Unreadable(m)) if m.contains("not a zip")),
            "{got:?}"
        );
    }
}
