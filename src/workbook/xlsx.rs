//! # xlsx/xlsm reading
//!
//! Reads SpreadsheetML workbooks in-process, cell by cell, with calamine's streaming reader
//! (`Xlsx::worksheet_cells_reader` / `next_cell`, and `next_cell_with_formula_metadata`
//! when every cell is wanted). Nothing here calls `worksheet_range`, `worksheet_formula` or
//! anything else that allocates by a sheet's declared dimension: a sheet holding A1 and
//! XFD1048576 costs two cells, not 512 GiB. Whatever calamine loads whole when it opens the
//! package, and the merged regions it collects per sheet, have been bounded by
//! [`super::package::check`] (or [`super::package::check_noting`]) first.
//!
//! Formulas: calamine never evaluates them, and openpyxl writes them with an empty `<v/>`,
//! so their value stream holds nothing there. [`read`] takes each cell's value and formula
//! from the same `<c>` element; a formula whose cached value is missing or empty becomes
//! [`CellValue::FormulaWithoutValue`]. Shared formulas are expanded here from their anchor
//! (calamine's own expansion, `next_cell_with_formula`, sizes a table by the file's `si`
//! index: `si="4000000000"` would be a 200 GB request).
//!
//! Number formats: a cell's format decides what its number means (0.912 formatted as a
//! percentage is 91,2 %). calamine gives dates as dates; percent and thousands-scaled
//! formats come from each cell's style id, looked at only when the workbook's styles hold
//! such a format at all (real forms nearly always do).
//!
//! What reading a sheet costs. Inflating and parsing a sheet's XML is nearly all of it, and
//! [`read`] does it twice: once in the package check, which must see every part before
//! calamine does, and once in the value pass above, which calamine cannot do without. It
//! used to do it twice more: calamine's style pass (`next_style_id`, a pass of its own over
//! the sheet, as no cell reader gives values, formulas and style ids together), and
//! `merge_cells_by_sheet_name`, which parses the whole sheet again to find the
//! `<mergeCells>` after its data (a fifth of all reading time on a backlog). The package
//! check now notes both on its way (module `notes`): the k-th style id it notes is the k-th
//! cell record's, and the merged regions are the ones calamine would give. A part it did not
//! note, being less plain than spreadsheet programs write, is read with calamine's two
//! passes as before, so the grid is the same either way, errors included: when the value
//! pass fails on a sheet whose style pass would have run first, the style pass runs to give
//! its own error if it has one. The part calamine is reading is known from where its zip
//! reader sought to ([`Tap`]), not from resolving the sheet's name again.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::{Cursor, Read, Seek, SeekFrom};

use calamine::{Reader, SheetVisible, Xlsx, XlsxCellReader, XlsxError, XlsxFormulaMetadata};

use super::grid::{self, CellValue, Grid, GridBuilder, Shown};
use super::notes::{Notes, SheetNotes};
use super::package::{self, Kind};
use super::scan::{self, SheetScan};
use super::{InspectError, Inspection, Limits, SheetInfo};

/// Days between the 1904 and 1900 date systems' day zero.
const DAYS_1900_TO_1904: f64 = 1462.0;

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

/// Reads every cell of an xlsx or xlsm workbook within `limits`.
pub(crate) fn read(bytes: &[u8], limits: &Limits) -> Result<Grid, InspectError> {
    read_with(bytes, limits, Passes::Noted, &mut Served::default())
}

/// Where the cell formats and merged regions of a sheet come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Passes {
    /// From the package check's notes where it has them, else from calamine's passes.
    Noted,
    /// From calamine's passes only (a style pass when the styles need one, and
    /// `merge_cells_by_sheet_name`): what the notes must agree with.
    #[cfg_attr(not(test), allow(dead_code))]
    Calamine,
}

/// How many sheets had their formats and merged regions from the notes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Served {
    styles: usize,
    merges: usize,
}

fn read_with(
    bytes: &[u8],
    limits: &Limits,
    passes: Passes,
    served: &mut Served,
) -> Result<Grid, InspectError> {
    let notes = match passes {
        Passes::Noted => package::check_noting(bytes, limits)?,
        Passes::Calamine => {
            package::check(bytes, limits, Kind::Ooxml)?;
            Notes::default()
        }
    };
    let sought = Cell::new(None);
    let tap = Tap {
        bytes: Cursor::new(bytes),
        sought: &sought,
    };
    let mut workbook = Xlsx::new(tap).map_err(open_error)?;
    let date_offset = if workbook.has_1904_epoch() {
        DAYS_1900_TO_1904
    } else {
        0.0
    };
    let mut grid = GridBuilder::new(limits);
    grid.defined_names(workbook.defined_names())?;
    let metadata = workbook.sheets_metadata().to_vec();
    for sheet in metadata {
        grid.sheet(&sheet.name, sheet.visible == SheetVisible::Visible)?;
        let SheetRead::Cells(part) = read_cells(
            &mut workbook,
            &sheet.name,
            &mut grid,
            date_offset,
            (&notes, &sought),
            served,
        )?
        else {
            continue;
        };
        match part.and_then(|p| p.merged.as_deref()) {
            Some(regions) => {
                served.merges += 1;
                grid.merged(regions.iter().copied())?;
            }
            None => {
                let regions = workbook
                    .merge_cells_by_sheet_name(&sheet.name)
                    .map_err(|e| sheet_error(&sheet.name, e))?;
                grid.merged(
                    regions
                        .into_iter()
                        .map(|d| (d.start.0, d.start.1, d.end.0, d.end.1)),
                )?;
            }
        }
    }
    Ok(grid.finish())
}

/// The workbook's bytes as calamine reads them, keeping where it last sought to: opening
/// a zip entry ends with a seek to the start of the entry's data, which names the part that
/// calamine is about to read (module `notes`) without resolving a sheet name again.
struct Tap<'a> {
    bytes: Cursor<&'a [u8]>,
    sought: &'a Cell<Option<u64>>,
}

impl Read for Tap<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.bytes.read(buf)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
        self.bytes.read_exact(buf)
    }
}

impl Seek for Tap<'_> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let at = self.bytes.seek(pos)?;
        self.sought.set(Some(at));
        Ok(at)
    }

    fn stream_position(&mut self) -> std::io::Result<u64> {
        self.bytes.stream_position()
    }
}

/// What reading a sheet's cells found.
enum SheetRead<'n> {
    /// A chart or dialog sheet: no cells, no merged regions.
    NoCells,
    /// A worksheet, with the notes of its part if the package check took any.
    Cells(Option<&'n SheetNotes>),
}

/// Where a sheet's cell formats come from.
#[derive(Debug, Clone, Copy)]
enum Formats<'n> {
    /// The styles hold no percent or thousands format: none to find.
    None,
    /// The style id of each cell record, from the notes.
    Noted(&'n [u32]),
    /// calamine's style pass over the sheet.
    Pass,
}

/// Streams one sheet's cells, values and formulas together, into `grid`, with their
/// formats; the sheet's part is found in `notes` by where calamine sought to open it.
fn read_cells<'n>(
    workbook: &mut Xlsx<Tap<'_>>,
    name: &str,
    grid: &mut GridBuilder,
    date_offset: f64,
    (notes, sought): (&'n Notes, &Cell<Option<u64>>),
    served: &mut Served,
) -> Result<SheetRead<'n>, InspectError> {
    sought.set(None);
    let reader = match workbook.worksheet_cells_reader(name) {
        Ok(reader) => reader,
        Err(XlsxError::NotAWorksheet(_)) => return Ok(SheetRead::NoCells),
        Err(XlsxError::WorksheetNotFound(_)) => {
            return Err(InspectError::Unreadable(format!(
                "sheet '{name}' is listed in the workbook but missing from the package"
            )));
        }
        Err(e) => return Err(sheet_error(name, e)),
    };
    let part = sought.get().and_then(|at| notes.part(at));
    let palette = palette(&reader);
    let mut formats = match part.and_then(|p| p.styles.as_deref()) {
        _ if palette.iter().all(Shown::is_plain) => Formats::None,
        Some(ids) => Formats::Noted(ids),
        None => Formats::Pass,
    };
    match read_values(reader, name, grid, date_offset, &palette, formats) {
        Ok(records) => {
            if let Formats::Noted(ids) = formats {
                if records == ids.len() {
                    served.styles += 1;
                } else {
                    // Notes that do not fit the cells read: calamine's pass decides.
                    grid.forget_formats();
                    formats = Formats::Pass;
                }
            }
            if let Formats::Pass = formats {
                let reader = workbook
                    .worksheet_cells_reader(name)
                    .map_err(|e| sheet_error(name, e))?;
                read_formats(reader, name, grid)?;
            }
            Ok(SheetRead::Cells(part))
        }
        Err(e) => {
            // calamine's style pass, run before the values, would have answered its own
            // error first (damaged XML, too many formats): see whether it does.
            if !matches!(formats, Formats::None) {
                grid.forget_formats();
                let reader = workbook
                    .worksheet_cells_reader(name)
                    .map_err(|e| sheet_error(name, e))?;
                read_formats(reader, name, grid)?;
            }
            Err(e)
        }
    }
}

/// What each style id's number format does to a number; dates come with the values.
fn palette<RS: Read + Seek>(reader: &XlsxCellReader<'_, RS>) -> Vec<Shown> {
    reader
        .styles()
        .iter()
        .map(|style| {
            style.number_format.as_ref().map_or(Shown::Plain, |f| {
                match Shown::of_format(&f.format_code) {
                    Shown::Date => Shown::Plain,
                    shown => shown,
                }
            })
        })
        .collect()
}

/// The value pass: every cell record's value and formula into `grid`, and with
/// [`Formats::Noted`] its format; answers the number of cell records.
fn read_values<RS: Read + Seek>(
    mut reader: XlsxCellReader<'_, RS>,
    name: &str,
    grid: &mut GridBuilder,
    date_offset: f64,
    palette: &[Shown],
    formats: Formats<'_>,
) -> Result<usize, InspectError> {
    // Shared-formula anchors of this sheet by index: (template, anchor position).
    let mut anchors: HashMap<usize, (String, (u32, u32))> = HashMap::new();
    let mut records = 0usize;
    while let Some(cell) = reader
        .next_cell_with_formula_metadata()
        .map_err(|e| sheet_error(name, e))?
    {
        let (row, col) = cell.pos;
        if let Formats::Noted(ids) = formats
            && let Some(&id) = ids.get(records)
            // As calamine's style pass: ids 0 and past the palette are no format.
            && let Some(&shown) = palette.get(id as usize).filter(|_| id > 0)
            && !shown.is_plain()
        {
            grid.format(row, col, shown)?;
        }
        records += 1;
        if let Some(XlsxFormulaMetadata::Shared {
            shared_index,
            range,
            formula,
        }) = &cell.formula
        {
            grid.charge_text(formula.len())?;
            let start = range.map_or(cell.pos, |r| r.start);
            anchors.insert(*shared_index, (formula.clone(), start));
        }
        if let Some(value) = grid::from_ref(&cell.value, date_offset) {
            let shown = if grid::ref_is_date(&cell.value) {
                Shown::Date
            } else {
                Shown::Plain
            };
            grid.push_shown(row, col, value, shown)?;
            continue;
        }
        let text = match cell.formula {
            None => continue,
            Some(
                XlsxFormulaMetadata::Normal { formula }
                | XlsxFormulaMetadata::Shared { formula, .. },
            ) => formula,
            Some(XlsxFormulaMetadata::SharedDerived { shared_index }) => {
                match anchors.get(&shared_index) {
                    Some((template, start)) => {
                        calamine::expand_shared_formula(template, *start, cell.pos)
                            .map_err(|e| sheet_error(name, e))?
                    }
                    // A derived cell before its anchor, in a hand-made file: a formula is
                    // there, its text is not to be had.
                    None => String::new(),
                }
            }
            // A kind of formula this calamine does not know yet: still no value.
            Some(_) => String::new(),
        };
        grid.push(row, col, CellValue::FormulaWithoutValue(text))?;
    }
    Ok(records)
}

/// calamine's style pass: notes the sheet's cells whose number format changes what a
/// number means (percent, scaled by thousands), from their style ids. A workbook whose
/// styles hold no such format, most of them, costs no pass over the sheet.
fn read_formats<RS: Read + Seek>(
    mut reader: XlsxCellReader<'_, RS>,
    name: &str,
    grid: &mut GridBuilder,
) -> Result<(), InspectError> {
    let palette = palette(&reader);
    if palette.iter().all(Shown::is_plain) {
        return Ok(());
    }
    while let Some((row, col, id)) = reader.next_style_id().map_err(|e| sheet_error(name, e))? {
        if let Some(&shown) = palette.get(id)
            && !shown.is_plain()
        {
            grid.format(row, col, shown)?;
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
    use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Formula, Workbook};

    use super::*;
    use crate::workbook::sniff::tests::zip_of;
    use crate::workbook::{FormMarker, a1};

    /// An xlsx package of one sheet, "Data", whose worksheet part is `sheet`.
    fn xlsx_of(sheet: &str) -> Vec<u8> {
        xlsx_with(sheet, &[])
    }

    /// Number formats for [`xlsx_with`]: style 1 is a percent, 2 thousands, 3 a date.
    const STYLES: &str = r##"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="2"><numFmt numFmtId="164" formatCode="0.0%"/><numFmt numFmtId="165" formatCode="#,##0,"/></numFmts><cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="14"/></cellXfs></styleSheet>"##;

    /// Two shared strings for [`xlsx_with`].
    const STRINGS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>Chỉ tiêu</t></si><si><t>R&amp;D</t></si></sst>"#;

    /// [`xlsx_of`] with more parts, e.g. `("xl/styles.xml", STYLES)`.
    fn xlsx_with(sheet: &str, parts: &[(&str, &str)]) -> Vec<u8> {
        let types = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
        let rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
        let workbook = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
        let workbook_rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
        let sheet = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{sheet}</worksheet>"#
        );
        let mut all = vec![
            ("[Content_Types].xml", types.as_bytes()),
            ("_rels/.rels", rels.as_bytes()),
            ("xl/workbook.xml", workbook.as_bytes()),
            ("xl/_rels/workbook.xml.rels", workbook_rels.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        ];
        all.extend(parts.iter().map(|(name, text)| (*name, text.as_bytes())));
        zip_of(&all)
    }

    /// Reads `bytes` both ways, with the package check's notes and with calamine's own
    /// style and merge passes only: they must agree, errors included. Answers the reading
    /// and how many sheets the notes served.
    fn read_both(bytes: &[u8], limits: &Limits) -> (Result<Grid, InspectError>, Served) {
        let mut served = Served::default();
        let noted = read_with(bytes, limits, Passes::Noted, &mut served);
        let mut none = Served::default();
        let calamine = read_with(bytes, limits, Passes::Calamine, &mut none);
        assert_eq!(none, Served::default());
        assert_eq!(noted, calamine);
        (noted, served)
    }

    fn text(s: &str) -> CellValue {
        CellValue::Text(s.into())
    }

    fn formula(s: &str) -> CellValue {
        CellValue::FormulaWithoutValue(s.into())
    }

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
    fn every_cell_at_its_real_position_with_merges_formulas_and_hidden_sheets() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("Biểu 01").unwrap();
        let center = Format::new().set_align(FormatAlign::Center);
        // Rows 1–3 empty; a merged title on row 4, a merged two-row header below it.
        ws.merge_range(3, 0, 3, 5, "  BÁO CÁO  ", &center).unwrap();
        ws.merge_range(4, 1, 5, 2, "Chỉ tiêu", &center).unwrap();
        ws.write_string(6, 0, " 1 ").unwrap();
        ws.write_number(6, 1, 12.5).unwrap();
        ws.write_number(7, 1, 7.0).unwrap();
        ws.write_string(7, 0, "").unwrap();
        ws.write_boolean(8, 0, true).unwrap();
        let date = Format::new().set_num_format("dd/mm/yyyy");
        let day = ExcelDateTime::from_ymd(2018, 7, 10).unwrap();
        ws.write_datetime_with_format(8, 1, &day, &date).unwrap();
        // A formula with no cached value, as openpyxl leaves every formula (rust_xlsxwriter
        // writes an empty <v></v> only when the sheet's default result is empty)...
        ws.set_formula_result_default("");
        ws.write_formula(9, 1, "=SUM(B7:B8)").unwrap();
        // ...and one with the cached 0 that XlsxWriter and rust_xlsxwriter write by default.
        ws.write_formula(9, 2, Formula::new("=B10*2").set_result("0"))
            .unwrap();
        ws.write_formula(9, 3, Formula::new("=1/0").set_result("#DIV/0!"))
            .unwrap();
        ws.write_formula(9, 27, Formula::new("=\"x\"").set_result("x"))
            .unwrap();
        let hidden = wb.add_worksheet();
        hidden.set_name("_intake").unwrap();
        hidden
            .write_string(0, 0, "intake-form:742-2018-pl1@1")
            .unwrap();
        hidden.set_hidden(true);
        wb.define_name("Vung_in", "='Biểu 01'!$A$1:$F$10").unwrap();
        let bytes = wb.save_to_buffer().unwrap();

        let grid = read(&bytes, &Limits::default()).unwrap();
        let names: Vec<_> = grid
            .sheets
            .iter()
            .map(|s| (s.name.as_str(), s.visible))
            .collect();
        assert_eq!(names, [("Biểu 01", true), ("_intake", false)]);
        let sheet = &grid.sheets[0];
        let cells: Vec<_> = sheet
            .cells
            .iter()
            .map(|c| (a1(c.row, c.col), c.value.clone()))
            .collect();
        let want = [
            ("A4", text("  BÁO CÁO  ")),
            ("B5", text("Chỉ tiêu")),
            ("A7", text(" 1 ")),
            ("B7", CellValue::Number(12.5)),
            ("B8", CellValue::Number(7.0)),
            ("A9", CellValue::Bool(true)),
            ("B9", CellValue::Number(43291.0)),
            ("B10", formula("SUM(B7:B8)")),
            ("C10", CellValue::Number(0.0)),
            ("D10", CellValue::Error("#DIV/0!".into())),
            ("AB10", text("x")),
        ];
        let want: Vec<_> = want.into_iter().map(|(p, v)| (p.to_string(), v)).collect();
        assert_eq!(cells, want);
        let mut merged = sheet.merged.clone();
        merged.sort();
        assert_eq!(merged, [(3, 0, 3, 5), (4, 1, 5, 2)]);
        assert_eq!(grid.value(0, 3, 4), Some(&text("  BÁO CÁO  ")));
        assert_eq!(grid.value(0, 5, 2), Some(&text("Chỉ tiêu")));
        assert_eq!(grid.value(0, 7, 0), None);
        assert_eq!(
            grid.marker,
            Some(FormMarker {
                form: "742-2018-pl1".into(),
                version: 1
            })
        );
        assert_eq!(grid.defined_names.len(), 1);
        assert_eq!(grid.defined_names[0].0, "Vung_in");
    }

    #[test]
    fn openpyxl_formulas_and_shared_formulas_without_values() {
        // As openpyxl writes formulas (an empty <v />), plus shared formulas as Excel writes
        // them, and a derived cell whose anchor never came.
        let sheet = r#"<dimension ref="A1:D6"/><sheetData>
<row r="3"><c r="A3" t="n"><v>1</v></c><c r="B3"><f>SUM(A3:A4)</f><v /></c><c r="C3"><f t="shared" ref="C3:C5" si="0">A3*2</f></c><c r="D3" t="str"><f t="shared" ref="D3:D4" si="4000000000">A3&amp;"x"</f><v>1x</v></c></row>
<row r="4"><c r="A4" t="n"><v>2</v></c><c r="C4"><f t="shared" si="0"/></c><c r="D4"><f t="shared" si="4000000000"/></c></row>
<row r="5"><c r="C5"><f t="shared" si="0"/><v>6</v></c><c r="D5"><f t="shared" si="7"/></c></row>
</sheetData><mergeCells count="1"><mergeCell ref="A1:D1"/></mergeCells>"#;
        let grid = read(&xlsx_of(sheet), &Limits::default()).unwrap();
        let s = &grid.sheets[0];
        let cells: Vec<_> = s
            .cells
            .iter()
            .map(|c| (a1(c.row, c.col), c.value.clone()))
            .collect();
        let want = [
            ("A3", CellValue::Number(1.0)),
            ("B3", formula("SUM(A3:A4)")),
            ("C3", formula("A3*2")),
            ("D3", text("1x")),
            ("A4", CellValue::Number(2.0)),
            ("C4", formula("A4*2")),
            ("D4", formula("A4&\"x\"")),
            ("C5", CellValue::Number(6.0)),
            ("D5", formula("")),
        ];
        let want: Vec<_> = want.into_iter().map(|(p, v)| (p.to_string(), v)).collect();
        assert_eq!(cells, want);
        assert_eq!(s.merged, [(0, 0, 0, 3)]);
    }

    #[test]
    fn reading_stops_past_the_cell_and_text_limits() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for r in 0..10 {
            ws.write_string(r, 0, "0123456789").unwrap();
        }
        let bytes = wb.save_to_buffer().unwrap();
        let cells = Limits {
            max_cells: 9,
            ..Limits::default()
        };
        assert_eq!(
            read(&bytes, &cells),
            Err(InspectError::TooLarge { limit: 9 })
        );
        let text = Limits {
            max_text_bytes: 99,
            ..Limits::default()
        };
        assert_eq!(
            read(&bytes, &text),
            Err(InspectError::TooLarge { limit: 99 })
        );
        let enough = Limits {
            max_cells: 10,
            max_text_bytes: 100 + "Sheet1".len() as u64,
            ..Limits::default()
        };
        assert_eq!(read(&bytes, &enough).unwrap().sheets[0].cells.len(), 10);
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

    #[test]
    fn merged_regions_and_formats_from_the_notes_are_calamines() {
        let mut wb = Workbook::new();
        let center = Format::new().set_align(FormatAlign::Center);
        let percent = Format::new().set_num_format("0.0%");
        let thousands = Format::new().set_num_format("#,##0,");
        let names = ["Biểu 01", "R&D <1>"];
        for (i, name) in (0u32..).zip(names) {
            let ws = wb.add_worksheet();
            ws.set_name(name).unwrap();
            ws.merge_range(i, 0, i, 5, "BÁO CÁO", &center).unwrap();
            ws.merge_range(2 + i, 1, 3 + i, 1, "Tỷ lệ", &center)
                .unwrap();
            ws.write_string(5, 0, "Chỉ tiêu").unwrap();
            for r in 6..60 {
                ws.write_string(r, 0, format!("Dòng {r}")).unwrap();
                ws.write_number_with_format(r, 1, f64::from(r) / 100.0, &percent)
                    .unwrap();
                ws.write_number_with_format(r, 2, f64::from(r) * 1000.0, &thousands)
                    .unwrap();
                // Text in a percent cell stays text; a styled blank is no cell.
                ws.write_string_with_format(r, 3, "12,5 %", &percent)
                    .unwrap();
                ws.write_blank(r, 4, &percent).unwrap();
                ws.write_formula_with_format(r, 5, format!("=B{}*2", r + 1).as_str(), &percent)
                    .unwrap();
            }
        }
        let bytes = wb.save_to_buffer().unwrap();

        let (grid, served) = read_both(&bytes, &limits());
        let grid = grid.unwrap();
        assert_eq!(
            served,
            Served {
                styles: 2,
                merges: 2
            }
        );
        // What calamine's own calls give, sheet by sheet.
        let mut workbook = Xlsx::new(Cursor::new(&bytes[..])).unwrap();
        for (sheet, name) in grid.sheets.iter().zip(names) {
            assert_eq!(sheet.name, name);
            let merged: Vec<_> = workbook
                .merge_cells_by_sheet_name(name)
                .unwrap()
                .into_iter()
                .map(|d| (d.start.0, d.start.1, d.end.0, d.end.1))
                .collect();
            assert_eq!(sheet.merged, merged);
            assert_eq!(merged.len(), 2);
            let styles = workbook.worksheet_style(name).unwrap();
            for cell in &sheet.cells {
                let format = styles
                    .get((cell.row, cell.col))
                    .and_then(|s| s.number_format.as_ref())
                    .map_or(Shown::Plain, |f| Shown::of_format(&f.format_code));
                let want = match cell.value {
                    CellValue::Number(_) => format,
                    _ => Shown::Plain,
                };
                assert_eq!(cell.shown, want, "{name}!{}", a1(cell.row, cell.col));
            }
        }
        let shown = |row, col| {
            grid.sheets[1]
                .cells
                .iter()
                .find(|c| (c.row, c.col) == (row, col))
                .map(|c| (c.value.clone(), c.shown))
        };
        assert_eq!(shown(6, 1), Some((CellValue::Number(0.06), Shown::Percent)));
        assert_eq!(
            shown(6, 2),
            Some((CellValue::Number(6000.0), Shown::Scaled(1)))
        );
        assert_eq!(shown(6, 3), Some((text("12,5 %"), Shown::Plain)));
        assert_eq!(shown(6, 4), None);
        assert_eq!(shown(6, 5), Some((CellValue::Number(0.0), Shown::Percent)));
        assert_eq!(grid.sheets[1].merged, [(1, 0, 1, 5), (3, 1, 4, 1)]);
    }

    #[test]
    fn notes_and_calamines_passes_agree_on_hand_made_sheets() {
        const DATA: &str = r#"<sheetData><row r="1"><c r="A1" s="1"><v>0.25</v></c><c r="B1" s="2"><v>1234567</v></c><c r="C1" s="3"><v>43287</v></c><c r="D1" t="s" s="1"><v>0</v></c><c r="E1" s="1"/><c r="F1" s="99"><v>5</v></c><c r="G1" s="1"><f>A1*2</f><v>0.5</v></c></row><row r="3"><c s="1"><v>1</v></c><c><v>2</v></c><c s="2"><v>3000</v></c></row></sheetData>"#;
        const MERGES: &str = r#"<mergeCells count="2"><mergeCell ref="A1:C1"/><mergeCell ref="B3:D4"/></mergeCells>"#;
        const FOOTER: &str = "<pageMargins left=\"0.7\"/><headerFooter><oddFooter>&amp;CTrang &amp;P — Sở Y tế</oddFooter></headerFooter>";
        // Each sheet, how many sheets the notes serve (styles, merged regions), whether it
        // reads.
        let noted = (1, 1, true);
        let cases: Vec<(String, (usize, usize, bool))> = vec![
            // Plain sheets: the notes serve.
            (
                format!(r#"<dimension ref="A1:G3"/>{DATA}{MERGES}{FOOTER}"#),
                noted,
            ),
            (format!("{DATA}{FOOTER}"), noted),
            (format!("{MERGES}{DATA}"), noted),
            (
                DATA.replace("</row></sheetData>", &format!("</row>{MERGES}</sheetData>")),
                noted,
            ),
            (format!("<sheetData/>{MERGES}"), noted),
            (
                DATA.replace("<c", "<x:c")
                    .replace("</c>", "</x:c>")
                    .replace("<v>", "<x:v>")
                    .replace("</v>", "</x:v>"),
                noted,
            ),
            (DATA.replace("</c>", "</c >"), noted),
            (
                DATA.replace(r#"<row r="3">"#, r#"<row r="2"/><row>"#),
                noted,
            ),
            // Less plain: calamine's passes decide.
            (format!("<!-- made by hand -->{DATA}{MERGES}"), (0, 0, true)),
            (DATA.replace(r#"s="2">"#, r#"s="2" s="1">"#), (0, 1, true)),
            (
                DATA.replace(r#"<c r="A1" s="1">"#, r#"<c r="A1" r="B1" s="1">"#),
                (0, 1, true),
            ),
            (
                DATA.replace("<f>A1*2</f>", "<f>A1*2<g></f></g>"),
                (0, 1, true),
            ),
            (
                DATA.replace("<f>A1*2</f>", "<f>A1*2</g></f>"),
                (0, 0, false),
            ),
            // Damaged: both answer the same error.
            (
                DATA.replace("<v>0.25</v>", r#"<v>0.25</v><c r="B1"/>"#),
                (0, 0, false),
            ),
            (format!("{DATA}<oddFooter>a & b</oddFooter>"), (1, 0, false)),
            (
                format!(r#"{DATA}<mergeCells><mergeCell ref="A0:B1"/></mergeCells>"#),
                (1, 0, false),
            ),
            (
                format!(r#"{DATA}<mergeCells><mergeCell ref="$A$1:B2"/></mergeCells>"#),
                (1, 0, false),
            ),
            (
                format!(r#"{DATA}<mergeCells><mergeCell ref="A1:B2"/>"#),
                (1, 0, false),
            ),
            // A bad string index for the values, and a bad reference the style pass, run
            // first, meets: the style pass's error is the answer.
            (
                DATA.replace(r#"t="s" s="1"><v>0</v>"#, r#"t="s" s="1"><v>9</v>"#)
                    .replace(r#"<c r="F1""#, r#"<c r="F!1""#),
                (0, 0, false),
            ),
            (
                DATA.replace(r#"t="s" s="1"><v>0</v>"#, r#"t="s" s="1"><v>9</v>"#),
                (0, 0, false),
            ),
        ];
        let styled = [("xl/styles.xml", STYLES), ("xl/sharedStrings.xml", STRINGS)];
        for (body, (styles, merges, reads)) in &cases {
            let (grid, served) = read_both(&xlsx_with(body, &styled), &limits());
            assert_eq!(
                (served.styles, served.merges, grid.is_ok()),
                (*styles, *merges, *reads),
                "{body}: {grid:?}"
            );
        }
        let (grid, _) = read_both(&xlsx_with(&cases[0].0, &styled), &limits());
        let cells: Vec<_> = grid.unwrap().sheets[0]
            .cells
            .iter()
            .map(|c| (a1(c.row, c.col), c.shown))
            .collect();
        let want = [
            ("A1", Shown::Percent),
            ("B1", Shown::Scaled(1)),
            ("C1", Shown::Date),
            ("D1", Shown::Plain),
            ("F1", Shown::Plain),
            ("G1", Shown::Percent),
            ("A3", Shown::Percent),
            ("B3", Shown::Plain),
            ("C3", Shown::Scaled(1)),
        ];
        let want: Vec<_> = want.into_iter().map(|(p, s)| (p.to_string(), s)).collect();
        assert_eq!(cells, want);
        // Styled blanks count against the cap on formats before any value is read, as
        // they did when calamine's style pass ran first.
        let blanks: String = (1..=6)
            .map(|r| format!(r#"<row r="{r}"><c r="A{r}" s="1"/></row>"#))
            .collect();
        let body = format!(
            r#"<sheetData>{blanks}<row r="9"><c r="A9" t="s"><v>7</v></c></row></sheetData>"#
        );
        let capped = Limits {
            max_cells: 3,
            ..limits()
        };
        let (grid, _) = read_both(&xlsx_with(&body, &styled), &capped);
        assert_eq!(grid, Err(InspectError::TooLarge { limit: 3 }));
    }

    #[test]
    fn the_corpora_read_the_same_with_the_notes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in [
            "tests/forms-corpus",
            "tests/values-corpus",
            "fuzz/corpus/workbook",
        ] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "xlsx" || e == "xlsm") {
                    files.push(path);
                }
            }
        }
        assert!(files.len() >= 20, "{}", files.len());
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            let (grid, served) = read_both(&bytes, &limits());
            let sheets = grid.map_or(0, |g| g.sheets.len());
            assert_eq!(served.merges, sheets, "{}", path.display());
        }
    }
}
