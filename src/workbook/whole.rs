//! # xls and ods reading
//!
//! calamine's xls and ods readers parse every sheet into memory when the workbook is opened,
//! sized by what the file declares (a 1.5 KB ods of repeated rows asks for 2.5 GB). This
//! module is what runs inside the child process that [`super::child`] starts under memory
//! and time limits; in the daemon itself it runs only for trusted input (unit tests).
//! [`precheck`] is the cheap part that is safe anywhere.

use std::io::Cursor;

use calamine::{Data, Ods, OdsError, Range, Reader, SheetType, SheetVisible, Xls, XlsError};

use super::ole::{self, Cfb};
use super::package::{self, Kind};
use super::scan::{self, SheetScan};
use super::{InspectError, Inspection, Limits, SheetInfo, WorkbookFormat};

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
            let workbook = Xls::new(Cursor::new(bytes)).map_err(|e| xls_error(bytes, e))?;
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

fn xls_error(bytes: &[u8], e: XlsError) -> InspectError {
    match e {
        XlsError::Password => InspectError::Encrypted,
        // A workbook stream that starts with FilePass is encrypted, whatever calamine
        // tripped over afterwards (XOR-obfuscated records read as a bad code page).
        _ if has_filepass(bytes) => InspectError::Encrypted,
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
fn has_filepass(bytes: &[u8]) -> bool {
    let Some(cfb) = Cfb::parse(bytes) else {
        return false;
    };
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
