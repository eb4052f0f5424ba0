//! # xls and ods reading
//!
//! calamine's xls and ods readers parse every sheet into memory when the workbook is opened,
//! sized by what the file declares (a 1.5 KB ods of repeated rows asks for 2.5 GB). This
//! module is what runs inside the child process that [`super::child`] starts under memory
//! and time limits; in the daemon itself it runs only for trusted input (unit tests).
//! [`precheck`] is the cheap part that is safe anywhere.
//!
//! Formulas: calamine keeps a formula's cached value in the value range and its text in a
//! range of its own (`worksheet_formula`). xlwt writes every formula with an empty-string
//! result and odfpy with none, so where a formula's value is missing or empty, [`read`]
//! takes its text instead. Merged regions come from the xls MERGEDCELLS records
//! (`Xls::merge_cells_by_sheet_name`); ods has none that calamine reads.

use std::io::Cursor;

use calamine::{Data, Ods, OdsError, Range, Reader, SheetType, SheetVisible, Xls, XlsError};

use super::grid::{self, CellValue, Grid, GridBuilder, Shown};
use super::ole::{self, Cfb};
use super::package::{self, Kind};
use super::scan::{self, SheetScan};
use super::{InspectError, Inspection, Limits, SheetInfo, WorkbookFormat};
use super::{biff, odf};

/// Days between the 1904 and 1900 date systems' day zero.
const DAYS_1900_TO_1904: f64 = 1462.0;

/// The BIFF record that says the workbook stream is encrypted (MS-XLS 2.4.117).
const FILEPASS: u16 = 0x002F;

/// Structural checks that need no whole-sheet reader: the right container, within budget.
pub(crate) fn precheck(
    bytes: &[u8],
    format: WorkbookFormat,
    limits: &Limits,
) -> Result<(), InspectError> {
    match format {
        WorkbookFormat::Xls => {
            if !bytes.starts_with(&ole::MAGIC) {
                return Err(InspectError::Unreadable(
                    "the file is not an OLE compound file, as an .xls file must be".into(),
                ));
            }
            let Some(cfb) = Cfb::parse(bytes) else {
                return Err(InspectError::Unreadable(
                    "the .xls file is damaged: its OLE structure cannot be read".into(),
                ));
            };
            if let Some(why) = cfb.damage() {
                return Err(InspectError::Unreadable(format!(
                    "the .xls file is damaged: {why}"
                )));
            }
            if !cfb.has_stream("Workbook") && !cfb.has_stream("Book") {
                return Err(InspectError::Unreadable(
                    "the OLE file holds no workbook; it may be another kind of Office document"
                        .into(),
                ));
            }
            // FilePass means the records are encrypted or XOR-obfuscated. calamine would
            // stop at RC4 but read obfuscated records as garbage (a bad code page, or worse,
            // nonsense that parses). Excel opens some such files itself with its built-in
            // default password; calamine cannot, so they are still `Encrypted` here.
            if has_filepass(&cfb) {
                return Err(InspectError::Encrypted);
            }
            Ok(())
        }
        WorkbookFormat::Ods => package::check(bytes, limits, Kind::Odf),
        WorkbookFormat::Xlsx | WorkbookFormat::Xlsm => package::check(bytes, limits, Kind::Ooxml),
    }
}

/// Inspects an xls or ods workbook with calamine's whole-sheet readers.
pub(crate) fn inspect(
    bytes: &[u8],
    format: WorkbookFormat,
    limits: &Limits,
) -> Result<Inspection, InspectError> {
    precheck(bytes, format, limits)?;
    match format {
        WorkbookFormat::Xls => {
            let workbook = Xls::new(Cursor::new(bytes)).map_err(xls_error)?;
            read_all(workbook, limits, |e| {
                InspectError::Unreadable(format!("the xls workbook is damaged ({e})"))
            })
        }
        WorkbookFormat::Ods => {
            let workbook = Ods::new(Cursor::new(bytes)).map_err(|e| ods_error(e, limits))?;
            read_all(workbook, limits, |e| ods_error(e, limits))
        }
        WorkbookFormat::Xlsx | WorkbookFormat::Xlsm => super::xlsx::inspect(bytes, limits),
    }
}

/// Reads every cell of an xls or ods workbook with calamine's whole-sheet readers.
pub(crate) fn read(
    bytes: &[u8],
    format: WorkbookFormat,
    limits: &Limits,
) -> Result<Grid, InspectError> {
    precheck(bytes, format, limits)?;
    match format {
        WorkbookFormat::Xls => {
            // The formats first, so that their copy of the stream is gone before calamine
            // loads every sheet.
            let formats = Cfb::parse(bytes)
                .and_then(|cfb| cfb.stream_prefix("Workbook", usize::MAX))
                .map(|stream| biff::formatted_cells(&stream, cap(limits)))
                .unwrap_or_default();
            let workbook = Xls::new(Cursor::new(bytes)).map_err(xls_error)?;
            let date_offset = if workbook.has_1904_epoch() {
                DAYS_1900_TO_1904
            } else {
                0.0
            };
            read_grid(
                workbook,
                limits,
                date_offset,
                formats,
                |e| InspectError::Unreadable(format!("the xls workbook is damaged ({e})")),
                |workbook, name| workbook.merge_cells_by_sheet_name(name),
            )
        }
        WorkbookFormat::Ods => {
            let workbook = Ods::new(Cursor::new(bytes)).map_err(|e| ods_error(e, limits))?;
            let formats = odf::formatted_cells(bytes, cap(limits));
            read_grid(
                workbook,
                limits,
                0.0,
                formats,
                |e| ods_error(e, limits),
                |_, _| Ok(Vec::new()),
            )
        }
        WorkbookFormat::Xlsx | WorkbookFormat::Xlsm => super::xlsx::read(bytes, limits),
    }
}

/// Most formatted cells noted in a workbook: as many as may be read.
fn cap(limits: &Limits) -> usize {
    usize::try_from(limits.max_cells).unwrap_or(usize::MAX)
}

/// Reads every sheet's cells; `formats` holds, per sheet in calamine's order, the cells
/// whose number format calamine does not tell.
fn read_grid<'b, R>(
    mut workbook: R,
    limits: &Limits,
    date_offset: f64,
    mut formats: Vec<Vec<(u32, u32, Shown)>>,
    map_err: impl Fn(R::Error) -> InspectError,
    merged: impl Fn(&R, &str) -> Result<Vec<calamine::Dimensions>, R::Error>,
) -> Result<Grid, InspectError>
where
    R: Reader<Cursor<&'b [u8]>>,
{
    let mut grid = GridBuilder::new(limits);
    grid.defined_names(workbook.defined_names())?;
    let metadata = workbook.sheets_metadata().to_vec();
    formats.resize_with(metadata.len(), Vec::new);
    for (sheet, formats) in metadata.into_iter().zip(formats) {
        grid.sheet(&sheet.name, sheet.visible == SheetVisible::Visible)?;
        // Chart and dialog sheets hold no cells: they are listed, empty.
        if sheet.typ != SheetType::WorkSheet {
            continue;
        }
        for (row, col, shown) in formats {
            grid.format(row, col, shown)?;
        }
        let values = workbook.worksheet_range(&sheet.name).map_err(&map_err)?;
        for (row, col, value) in sheet_cells(&values) {
            if let Some(cell) = grid::from_data(value, date_offset) {
                let shown = if grid::data_is_date(value) {
                    Shown::Date
                } else {
                    Shown::Plain
                };
                grid.push_shown(row, col, cell, shown)?;
            }
        }
        let formulas = workbook.worksheet_formula(&sheet.name).map_err(&map_err)?;
        let (f0, fc0) = formulas.start().unwrap_or((0, 0));
        for (r, c, formula) in formulas.used_cells() {
            let at = (f0 + r as u32, fc0 + c as u32);
            let has_value = values.get_value(at).is_some_and(grid::holds_value);
            if !has_value {
                grid.push(at.0, at.1, CellValue::FormulaWithoutValue(formula.clone()))?;
            }
        }
        let regions = merged(&workbook, &sheet.name).map_err(&map_err)?;
        grid.merged(
            regions
                .into_iter()
                .map(|d| (d.start.0, d.start.1, d.end.0, d.end.1)),
        )?;
    }
    Ok(grid.finish())
}

fn read_all<'b, R>(
    mut workbook: R,
    limits: &Limits,
    map_err: impl Fn(R::Error) -> InspectError,
) -> Result<Inspection, InspectError>
where
    R: Reader<Cursor<&'b [u8]>>,
{
    let mut marker = scan::marker_from_names(workbook.defined_names());
    let metadata = workbook.sheets_metadata().to_vec();
    let mut sheets = Vec::with_capacity(metadata.len());
    let mut total = 0u64;
    for sheet in metadata {
        let mut scan = SheetScan::new(limits.heading_rows);
        // Chart and dialog sheets hold no cells: they are listed, empty.
        if sheet.typ == SheetType::WorkSheet {
            let range = workbook.worksheet_range(&sheet.name).map_err(&map_err)?;
            scan_range(&range, &mut scan, &mut total, limits)?;
        }
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

fn xls_error(e: XlsError) -> InspectError {
    match e {
        XlsError::Password => InspectError::Encrypted,
        e => InspectError::Unreadable(format!("the xls workbook is damaged ({e})")),
    }
}

fn ods_error(e: OdsError, limits: &Limits) -> InspectError {
    match e {
        OdsError::Password => InspectError::Encrypted,
        OdsError::CellLimitExceeded { .. } => InspectError::TooLarge {
            limit: limits.max_cells,
        },
        OdsError::Zip(e) => InspectError::Unreadable(format!("the zip package is damaged ({e})")),
        e => InspectError::Unreadable(format!("the ods workbook is damaged ({e})")),
    }
}

/// Whether the xls workbook stream holds a FilePass record among its first records.
fn has_filepass(cfb: &Cfb<'_>) -> bool {
    let Some(stream) = cfb
        .stream_prefix("Workbook", 4096)
        .or_else(|| cfb.stream_prefix("Book", 4096))
    else {
        return false;
    };
    let mut at = 0;
    // FilePass follows BOF directly; a few records of slack cover odd writers.
    for _ in 0..8 {
        let Some(header) = stream.get(at..at + 4) else {
            return false;
        };
        let typ = u16::from_le_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_le_bytes([header[2], header[3]]));
        if typ == FILEPASS {
            return true;
        }
        at += 4 + len;
    }
    false
}

/// A loaded range's cells at their real sheet positions (the range starts at its first
/// used cell, not at A1).
fn sheet_cells(range: &Range<Data>) -> impl Iterator<Item = (u32, u32, &Data)> {
    let (r0, c0) = range.start().unwrap_or((0, 0));
    range
        .used_cells()
        .map(move |(r, c, v)| (r0 + r as u32, c0 + c as u32, v))
}

fn scan_range(
    range: &Range<Data>,
    scan: &mut SheetScan,
    total: &mut u64,
    limits: &Limits,
) -> Result<(), InspectError> {
    for (row, col, value) in sheet_cells(range) {
        if scan::is_blank(value) {
            continue;
        }
        *total += 1;
        if *total > limits.max_cells {
            return Err(InspectError::TooLarge {
                limit: limits.max_cells,
            });
        }
        scan.cells += 1;
        if scan.wants(row) {
            scan.add(row, col, &scan::render(value));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::workbook::ole::testfile;
    use crate::workbook::sniff::tests::zip_of;
    use crate::workbook::{FormMarker, grid};

    /// A cell (or merged regions) of a hand-built BIFF8 sheet.
    pub(crate) enum Biff {
        Number(u16, u16, f64),
        Label(u16, u16, &'static str),
        /// A FORMULA record as xlwt writes it, result "empty string"; the parsed
        /// expression with its 2-byte length first.
        Formula(u16, u16, &'static [u8]),
        /// A MERGEDCELLS record: (first row, last row, first column, last column) each.
        Merged(&'static [(u16, u16, u16, u16)]),
    }

    fn record(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
        out.extend(typ.to_le_bytes());
        out.extend((data.len() as u16).to_le_bytes());
        out.extend(data);
    }

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn bof(dt: u16) -> Vec<u8> {
        let mut d = vec![0u8; 16];
        d[..2].copy_from_slice(&0x0600u16.to_le_bytes());
        d[2..4].copy_from_slice(&dt.to_le_bytes());
        d
    }

    /// The `Workbook` stream of a minimal BIFF8 workbook: (name, hidden, cells) per sheet.
    pub(crate) fn biff_stream(sheets: &[(&str, bool, Vec<Biff>)]) -> Vec<u8> {
        let bound_len = |name: &str| 4 + 6 + 2 + 2 * name.encode_utf16().count();
        let globals_len = 4 + 16 + 4 + 2 + sheets.iter().map(|s| bound_len(s.0)).sum::<usize>() + 4;
        let mut bodies = Vec::new();
        for (_, _, cells) in sheets {
            let mut body = Vec::new();
            record(&mut body, 0x0809, &bof(0x0010));
            for cell in cells {
                match cell {
                    Biff::Number(r, c, v) => {
                        let mut d = Vec::new();
                        d.extend(r.to_le_bytes());
                        d.extend(c.to_le_bytes());
                        d.extend(0u16.to_le_bytes());
                        d.extend(v.to_le_bytes());
                        record(&mut body, 0x0203, &d);
                    }
                    Biff::Label(r, c, text) => {
                        let mut d = Vec::new();
                        d.extend(r.to_le_bytes());
                        d.extend(c.to_le_bytes());
                        d.extend(0u16.to_le_bytes());
                        d.extend((text.encode_utf16().count() as u16).to_le_bytes());
                        d.push(1);
                        d.extend(utf16(text));
                        record(&mut body, 0x0204, &d);
                    }
                    Biff::Formula(r, c, rgce) => {
                        let mut d = Vec::new();
                        d.extend(r.to_le_bytes());
                        d.extend(c.to_le_bytes());
                        d.extend(0u16.to_le_bytes());
                        d.extend(0xFFFF_0000_0000_0003u64.to_le_bytes());
                        d.extend([0; 6]);
                        d.extend(*rgce);
                        record(&mut body, 0x0006, &d);
                    }
                    Biff::Merged(regions) => {
                        let mut d = (regions.len() as u16).to_le_bytes().to_vec();
                        for (r0, r1, c0, c1) in *regions {
                            d.extend([r0, r1, c0, c1].iter().flat_map(|v| v.to_le_bytes()));
                        }
                        record(&mut body, 0x00E5, &d);
                    }
                }
            }
            record(&mut body, 0x000A, &[]);
            bodies.push(body);
        }
        let mut out = Vec::new();
        record(&mut out, 0x0809, &bof(0x0005));
        record(&mut out, 0x0042, &1200u16.to_le_bytes());
        let mut at = globals_len;
        for ((name, hidden, _), body) in sheets.iter().zip(&bodies) {
            let mut d = Vec::new();
            d.extend((at as u32).to_le_bytes());
            d.push(u8::from(*hidden));
            d.push(0);
            d.push(name.encode_utf16().count() as u8);
            d.push(1);
            d.extend(utf16(name));
            record(&mut out, 0x0085, &d);
            at += body.len();
        }
        record(&mut out, 0x000A, &[]);
        assert_eq!(out.len(), globals_len);
        for body in bodies {
            out.extend(body);
        }
        out
    }

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn xls_heading_counts_visibility_and_marker() {
        let stream = biff_stream(&[
            (
                "Biểu 1",
                false,
                vec![
                    Biff::Label(2, 1, "  SỞ Y TẾ "),
                    Biff::Label(3, 0, "Báo cáo"),
                    Biff::Number(3, 4, 2024.0),
                    Biff::Number(9, 0, 1.5),
                    Biff::Label(10, 0, "   "),
                ],
            ),
            (
                "_intake",
                true,
                vec![Biff::Label(0, 0, "intake-form:742-2018-pl1@1")],
            ),
        ]);
        let bytes = testfile::build(&[("Workbook", &stream)]);
        let got = inspect(
            &bytes,
            WorkbookFormat::Xls,
            &Limits {
                heading_rows: 2,
                ..limits()
            },
        )
        .unwrap();
        assert_eq!(got.cells, 5);
        assert_eq!(got.sheets[0].name, "Biểu 1");
        assert_eq!(got.sheets[0].heading, ["SỞ Y TẾ", "Báo cáo", "2024"]);
        assert_eq!(got.sheets[0].cells, 4);
        assert!(got.sheets[0].visible);
        assert!(!got.sheets[1].visible);
        assert_eq!(
            got.marker,
            Some(FormMarker {
                form: "742-2018-pl1".into(),
                version: 1
            })
        );
        let capped = inspect(
            &bytes,
            WorkbookFormat::Xls,
            &Limits {
                max_cells: 3,
                ..limits()
            },
        );
        assert_eq!(capped, Err(InspectError::TooLarge { limit: 3 }));
    }

    /// xlwt's expression for `SUM(B3:B4)`: ptgArea B3:B4, ptgAttr(sum).
    const XLWT_SUM_B3_B4: &[u8] = &[
        0x0D, 0x00, 0x25, 0x02, 0x00, 0x03, 0x00, 0x01, 0xC0, 0x01, 0xC0, 0x19, 0x10, 0x00, 0x00,
    ];

    /// xlwt's expression for `B3*2`: ptgRefV B3, ptgInt 2, ptgMul.
    const XLWT_B3_TIMES_2: &[u8] = &[
        0x09, 0x00, 0x44, 0x02, 0x00, 0x01, 0xC0, 0x1E, 0x02, 0x00, 0x05,
    ];

    fn text(s: &str) -> CellValue {
        CellValue::Text(s.into())
    }

    fn cells_at(sheet: &grid::Sheet) -> Vec<(String, CellValue)> {
        sheet
            .cells
            .iter()
            .map(|c| (crate::workbook::a1(c.row, c.col), c.value.clone()))
            .collect()
    }

    fn at(cells: &[(&str, CellValue)]) -> Vec<(String, CellValue)> {
        cells
            .iter()
            .map(|(p, v)| (p.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn xls_cells_formulas_without_values_and_merged_regions() {
        let stream = biff_stream(&[
            (
                "Biểu 1",
                false,
                vec![
                    Biff::Label(0, 0, " Tiêu đề "),
                    Biff::Number(2, 1, 1.0),
                    Biff::Number(3, 1, 2.0),
                    Biff::Formula(4, 1, XLWT_SUM_B3_B4),
                    Biff::Formula(4, 2, XLWT_B3_TIMES_2),
                    Biff::Label(5, 0, ""),
                    Biff::Merged(&[(0, 0, 0, 2), (6, 7, 1, 1)]),
                ],
            ),
            (
                "_intake",
                true,
                vec![Biff::Label(0, 0, "intake-form:742-2018-pl1@1")],
            ),
        ]);
        let bytes = testfile::build(&[("Workbook", &stream)]);
        let grid = read(&bytes, WorkbookFormat::Xls, &limits()).unwrap();
        let sheet = &grid.sheets[0];
        assert_eq!((sheet.name.as_str(), sheet.visible), ("Biểu 1", true));
        assert_eq!(
            cells_at(sheet),
            at(&[
                ("A1", text(" Tiêu đề ")),
                ("B3", CellValue::Number(1.0)),
                ("B4", CellValue::Number(2.0)),
                ("B5", CellValue::FormulaWithoutValue("SUM(B3:B4)".into())),
                ("C5", CellValue::FormulaWithoutValue("B3*2".into())),
            ])
        );
        assert_eq!(sheet.merged, [(0, 0, 0, 2), (6, 1, 7, 1)]);
        assert_eq!(grid.value(0, 0, 2), Some(&text(" Tiêu đề ")));
        assert!(!grid.sheets[1].visible);
        assert_eq!(grid.marker.map(|m| m.form), Some("742-2018-pl1".into()));

        let capped = Limits {
            max_cells: 4,
            ..limits()
        };
        assert_eq!(
            read(&bytes, WorkbookFormat::Xls, &capped),
            Err(InspectError::TooLarge { limit: 4 })
        );
    }

    #[test]
    fn ods_cells_formulas_dates_and_repeats() {
        // As odfpy writes a formula: its expression and a value type, no value.
        let tables = r#"<table:table table:name="Biểu 2" table:style-name="ta1">
<table:table-row/><table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="5"/></table:table-row>
<table:table-row><table:table-cell/><table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p> a </text:p></table:table-cell><table:table-cell office:value-type="string"><text:p></text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell/><table:table-cell table:formula="of:=[.B4]*2" office:value-type="float"/><table:table-cell table:formula="of:=[.B4]+1" office:value-type="float" office:value="2"/><table:table-cell office:value-type="date" office:date-value="2018-07-10"/><table:table-cell office:value-type="time" office:time-value="PT12H00M00S"/><table:table-cell office:value-type="boolean" office:boolean-value="true" table:number-columns-repeated="2"/></table:table-row>
</table:table>
<table:table table:name="_intake" table:style-name="ta2"><table:table-row><table:table-cell office:value-type="string"><text:p>intake-form:f1@9</text:p></table:table-cell></table:table-row></table:table>"#;
        let grid = read(&ods_of(tables), WorkbookFormat::Ods, &limits()).unwrap();
        let sheet = &grid.sheets[0];
        assert_eq!(
            cells_at(sheet),
            at(&[
                ("B4", CellValue::Number(1.0)),
                ("C4", text(" a ")),
                ("B5", CellValue::FormulaWithoutValue("of:=[.B4]*2".into())),
                ("C5", CellValue::Number(2.0)),
                ("D5", CellValue::Number(43291.0)),
                ("E5", CellValue::Number(0.5)),
                ("F5", CellValue::Bool(true)),
                ("G5", CellValue::Bool(true)),
            ])
        );
        assert!(sheet.merged.is_empty());
        assert!(!grid.sheets[1].visible);
        assert_eq!(grid.marker.map(|m| m.version), Some(9));
    }

    #[test]
    fn xls_with_filepass_is_encrypted() {
        for kind in [0u16, 1] {
            let mut stream = Vec::new();
            record(&mut stream, 0x0809, &bof(0x0005));
            let mut pass = kind.to_le_bytes().to_vec();
            pass.extend([0xAB; 52]);
            record(&mut stream, 0x002F, &pass);
            stream.extend([0x5A; 300]);
            let bytes = testfile::build(&[("Workbook", &stream)]);
            assert_eq!(
                inspect(&bytes, WorkbookFormat::Xls, &limits()),
                Err(InspectError::Encrypted),
                "FilePass type {kind}"
            );
        }
    }

    #[test]
    fn an_xls_whose_directory_chain_loops_is_damaged_not_too_large() {
        let mut stream = Vec::new();
        record(&mut stream, 0x0809, &bof(0x0600));
        stream.extend([0u8; 5000]);
        let mut bytes = testfile::build(&[("Workbook", &stream)]);
        // Sector 0 holds the FAT, sector 1 the directory: its chain now points at itself.
        bytes[512 + 4..512 + 8].copy_from_slice(&1u32.to_le_bytes());
        for got in [
            inspect(&bytes, WorkbookFormat::Xls, &limits()).map(|_| ()),
            read(&bytes, WorkbookFormat::Xls, &limits()).map(|_| ()),
        ] {
            assert!(
                matches!(&got, Err(InspectError::Unreadable(m)) if m.contains("damaged") && m.contains("loops")),
                "{got:?}"
            );
        }
    }

    #[test]
    fn damaged_or_foreign_ole_files_are_unreadable() {
        let mut garbage = ole::MAGIC.to_vec();
        garbage.extend((0..8000u32).map(|i| (i * 7919 % 251) as u8));
        let got = inspect(&garbage, WorkbookFormat::Xls, &limits());
        assert!(
            matches!(&got, Err(InspectError::Unreadable(m)) if m.contains("OLE")),
            "{got:?}"
        );

        let doc = testfile::build(&[("WordDocument", &[0u8; 600])]);
        let got = inspect(&doc, WorkbookFormat::Xls, &limits());
        assert!(
            matches!(&got, Err(InspectError::Unreadable(m)) if m.contains("no workbook")),
            "{got:?}"
        );

        let truncated = testfile::build(&[("Workbook", &[0x09, 0x08, 0x10, 0x00, 1, 2])]);
        let got = inspect(&truncated, WorkbookFormat::Xls, &limits());
        assert!(matches!(got, Err(InspectError::Unreadable(_))), "{got:?}");

        let got = inspect(b"PK\x03\x04", WorkbookFormat::Xls, &limits());
        assert!(
            matches!(&got, Err(InspectError::Unreadable(m)) if m.contains("not an OLE")),
            "{got:?}"
        );
    }

    /// An ods whose content.xml body (inside office:spreadsheet) is `tables`.
    pub(crate) fn ods_of(tables: &str) -> Vec<u8> {
        let content = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:automatic-styles><style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/></style:style><style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/></style:style></office:automatic-styles><office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"#
        );
        let manifest = br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
        zip_of(&[
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet",
            ),
            ("META-INF/manifest.xml", manifest),
            ("content.xml", content.as_bytes()),
        ])
    }

    #[test]
    fn ods_heading_counts_and_hidden_tables() {
        let tables = r#"<table:table table:name="Biểu 2" table:style-name="ta1">
<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="5"/></table:table-row>
<table:table-row><table:table-cell table:number-columns-repeated="2"/><table:table-cell office:value-type="string"><text:p> Tiêu đề </text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="float" office:value="7"/><table:table-cell office:value-type="float" office:value="0.25" table:number-columns-repeated="2"/></table:table-row>
<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>
</table:table>
<table:table table:name="_intake" table:style-name="ta2"><table:table-row><table:table-cell office:value-type="string"><text:p>intake-form:f1@9</text:p></table:table-cell></table:table-row></table:table>"#;
        let bytes = ods_of(tables);
        let got = inspect(&bytes, WorkbookFormat::Ods, &limits()).unwrap();
        assert_eq!(got.sheets.len(), 2);
        assert_eq!(got.sheets[0].heading, ["Tiêu đề", "7", "0.25", "0.25"]);
        assert_eq!(got.sheets[0].cells, 4);
        assert!(got.sheets[0].visible);
        assert!(!got.sheets[1].visible);
        assert_eq!(got.cells, 5);
        assert_eq!(
            got.marker,
            Some(FormMarker {
                form: "f1".into(),
                version: 9
            })
        );
    }

    #[test]
    fn ods_that_is_not_a_zip_is_unreadable() {
        let got = inspect(b"<office:document/>", WorkbookFormat::Ods, &limits());
        assert!(
            matches!(&got, Err(InspectError::Unreadable(m)) if m.contains("not a zip")),
            "{got:?}"
        );
    }
}
