//! # Number formats of xls cells
//!
//! calamine reads an .xls cell's number format only far enough to tell dates from numbers;
//! whether 0.912 was shown as "91,2 %" is lost, and that decides what the agency meant. This
//! module walks the BIFF8 records of the `Workbook` stream once more for that alone: the
//! FORMAT records (format codes by id), the XF records (format id by cell style), the
//! BOUNDSHEET records (where each sheet's records start) and, per sheet, the style of every
//! numeric cell (NUMBER, RK, MULRK, FORMULA). Only cells whose format changes a number's
//! meaning (percent, scaled by thousands) are answered; dates come from calamine.
//!
//! Everything is bounded by the stream: each record is read once, no offset is trusted
//! before it is checked, a sheet whose start lies outside the stream or inside the globals
//! is skipped, and older BIFF versions (whose records are laid out otherwise) answer nothing.

use std::collections::HashMap;

use super::grid::Shown;
use super::ole::{u16_at, u32_at};

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const FORMAT: u16 = 0x041E;
const XF: u16 = 0x00E0;
const BOUNDSHEET: u16 = 0x0085;
const NUMBER: u16 = 0x0203;
const RK: u16 = 0x027E;
const MULRK: u16 = 0x00BD;
const FORMULA: u16 = 0x0006;
/// BIFF8's version number in the BOF record.
const BIFF8: u16 = 0x0600;

/// The cells, per sheet in workbook order (BOUNDSHEET order, as calamine lists sheets),
/// whose number format changes what their number means; `limit` caps the cells answered in
/// all. An empty answer for a stream that is not BIFF8 or holds no such format.
pub(crate) fn formatted_cells(stream: &[u8], limit: usize) -> Vec<Vec<(u32, u32, Shown)>> {
    let Some(globals) = Globals::read(stream) else {
        return Vec::new();
    };
    if globals.xf_shown.iter().all(Shown::is_plain) {
        return vec![Vec::new(); globals.sheets.len()];
    }
    let mut left = limit;
    globals
        .sheets
        .iter()
        .map(|&start| {
            let cells = match start {
                Some(start) if start >= globals.end => {
                    sheet_cells(stream, start, &globals.xf_shown, left)
                }
                _ => Vec::new(),
            };
            left = left.saturating_sub(cells.len());
            cells
        })
        .collect()
}

/// What the workbook globals say: each XF's meaning and where each sheet starts.
struct Globals {
    /// Per XF index, what its number format does to a number.
    xf_shown: Vec<Shown>,
    /// Per sheet, the stream offset of its BOF (None if out of the stream).
    sheets: Vec<Option<usize>>,
    /// Where the globals end (just past their EOF).
    end: usize,
}

impl Globals {
    fn read(stream: &[u8]) -> Option<Globals> {
        let mut records = Records::new(stream, 0);
        let (kind, data) = records.next()?;
        if kind != BOF || u16_at(data, 0)? != BIFF8 {
            return None;
        }
        let mut codes: HashMap<u16, Shown> = HashMap::new();
        let mut xf_formats: Vec<u16> = Vec::new();
        let mut sheets = Vec::new();
        for (kind, data) in records.by_ref() {
            match kind {
                EOF => break,
                FORMAT => {
                    if let (Some(id), Some(code)) = (u16_at(data, 0), xl_string(data, 2)) {
                        codes.insert(id, Shown::of_format(&code));
                    }
                }
                XF => xf_formats.push(u16_at(data, 2).unwrap_or(0)),
                BOUNDSHEET => {
                    let at = u32_at(data, 0).map(|p| p as usize);
                    sheets.push(at.filter(|&p| p < stream.len()));
                }
                _ => {}
            }
        }
        let end = records.at;
        let xf_shown = xf_formats
            .iter()
            .map(|id| {
                let shown = codes.get(id).copied().unwrap_or(match id {
                    // Built-in "0%" and "0.00%".
                    9 | 10 => Shown::Percent,
                    _ => Shown::Plain,
                });
                // Dates are calamine's to tell.
                if shown == Shown::Date {
                    Shown::Plain
                } else {
                    shown
                }
            })
            .collect();
        Some(Globals {
            xf_shown,
            sheets,
            end,
        })
    }
}

/// The numeric cells of the sheet whose records start at `start`, with a format that is not
/// plain; at most `limit` of them.
fn sheet_cells(stream: &[u8], start: usize, xf: &[Shown], limit: usize) -> Vec<(u32, u32, Shown)> {
    let mut out = Vec::new();
    let mut depth = 0u32;
    let keep = |row: u16, col: u16, ixfe: u16, out: &mut Vec<(u32, u32, Shown)>| {
        if let Some(&shown) = xf.get(usize::from(ixfe))
            && !shown.is_plain()
            && out.len() < limit
        {
            out.push((u32::from(row), u32::from(col), shown));
        }
    };
    for (kind, data) in Records::new(stream, start) {
        match kind {
            BOF => depth += 1,
            EOF => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            // Cells of an embedded chart's substream are not the sheet's.
            _ if depth != 1 => {}
            NUMBER | RK | FORMULA => {
                if let (Some(row), Some(col), Some(ixfe)) =
                    (u16_at(data, 0), u16_at(data, 2), u16_at(data, 4))
                {
                    keep(row, col, ixfe, &mut out);
                }
            }
            MULRK => {
                let (Some(row), Some(first)) = (u16_at(data, 0), u16_at(data, 2)) else {
                    continue;
                };
                let n = data.len().saturating_sub(6) / 6;
                for i in 0..n {
                    if let Some(ixfe) = u16_at(data, 4 + 6 * i) {
                        keep(row, first.saturating_add(i as u16), ixfe, &mut out);
                    }
                }
            }
            _ => {}
        }
        if depth == 0 {
            break;
        }
    }
    out
}

/// BIFF records from an offset: (type, data), until the stream ends or a record overruns it.
struct Records<'a> {
    stream: &'a [u8],
    at: usize,
}

impl<'a> Records<'a> {
    fn new(stream: &'a [u8], at: usize) -> Self {
        Records { stream, at }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let kind = u16_at(self.stream, self.at)?;
        let len = usize::from(u16_at(self.stream, self.at + 2)?);
        let data = self.stream.get(self.at + 4..self.at + 4 + len)?;
        self.at += 4 + len;
        Some((kind, data))
    }
}

/// A BIFF8 XLUnicodeString at `at`: 16-bit length, flags, then Latin-1 or UTF-16LE chars.
fn xl_string(data: &[u8], at: usize) -> Option<String> {
    let chars = usize::from(u16_at(data, at)?);
    let flags = *data.get(at + 2)?;
    let body = &data[(at + 3).min(data.len())..];
    if flags & 1 == 1 {
        let units: Vec<u16> = body
            .chunks_exact(2)
            .take(chars)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        Some(String::from_utf16_lossy(&units))
    } else {
        Some(body.iter().take(chars).map(|&b| char::from(b)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut out = kind.to_le_bytes().to_vec();
        out.extend((data.len() as u16).to_le_bytes());
        out.extend(data);
        out
    }

    fn bof() -> Vec<u8> {
        record(BOF, &[0x00, 0x06, 0x05, 0x00, 0, 0, 0, 0])
    }

    fn format(id: u16, code: &str) -> Vec<u8> {
        let mut data = id.to_le_bytes().to_vec();
        data.extend((code.len() as u16).to_le_bytes());
        data.push(0);
        data.extend(code.as_bytes());
        record(FORMAT, &data)
    }

    fn xf(ifmt: u16) -> Vec<u8> {
        let mut data = vec![0, 0];
        data.extend(ifmt.to_le_bytes());
        data.extend([0u8; 16]);
        record(XF, &data)
    }

    fn cell(kind: u16, row: u16, col: u16, ixfe: u16) -> Vec<u8> {
        let mut data = Vec::new();
        for v in [row, col, ixfe] {
            data.extend(v.to_le_bytes());
        }
        data.extend([0u8; 8]);
        record(kind, &data)
    }

    /// A stream of globals (formats, four XFs, two sheets) and the two sheets' records.
    fn stream() -> Vec<u8> {
        let mut globals = bof();
        globals.extend(format(164, "0.0%"));
        globals.extend(format(165, "#,##0,"));
        globals.extend(format(166, "dd/mm/yyyy"));
        for ifmt in [0, 164, 165, 10, 166] {
            globals.extend(xf(ifmt));
        }
        let boundsheet_len = 2 * (4 + 12);
        let start = globals.len() + boundsheet_len + 4;
        let mut sheet1 = bof();
        sheet1.extend(cell(NUMBER, 2, 1, 1));
        sheet1.extend(cell(RK, 2, 2, 0));
        sheet1.extend(cell(FORMULA, 3, 1, 2));
        // MULRK: row 4, columns 1..=3 with XFs 3, 0, 4.
        let mut mulrk = vec![4, 0, 1, 0];
        for ixfe in [3u16, 0, 4] {
            mulrk.extend(ixfe.to_le_bytes());
            mulrk.extend([0u8; 4]);
        }
        mulrk.extend(3u16.to_le_bytes());
        sheet1.extend(record(MULRK, &mulrk));
        // An embedded chart's cells are not the sheet's.
        sheet1.extend(bof());
        sheet1.extend(cell(NUMBER, 9, 9, 1));
        sheet1.extend(record(EOF, &[]));
        sheet1.extend(record(EOF, &[]));
        let mut sheet2 = bof();
        sheet2.extend(cell(NUMBER, 0, 0, 3));
        sheet2.extend(record(EOF, &[]));
        let mut out = globals;
        for (i, at) in [start, start + sheet1.len()].into_iter().enumerate() {
            let mut data = (at as u32).to_le_bytes().to_vec();
            data.extend([0, 0, 2, 0]);
            data.extend(format!("S{i}").as_bytes());
            data.extend([0u8; 2]);
            out.extend(record(BOUNDSHEET, &data));
        }
        out.extend(record(EOF, &[]));
        assert_eq!(out.len(), start);
        out.extend(sheet1);
        out.extend(sheet2);
        out
    }

    #[test]
    fn finds_percent_and_scaled_cells_per_sheet() {
        let found = formatted_cells(&stream(), 100);
        assert_eq!(
            found,
            vec![
                vec![
                    (2, 1, Shown::Percent),
                    (3, 1, Shown::Scaled(1)),
                    (4, 1, Shown::Percent),
                ],
                vec![(0, 0, Shown::Percent)],
            ]
        );
    }

    #[test]
    fn answers_at_most_the_limit() {
        let found = formatted_cells(&stream(), 2);
        assert_eq!(found[0].len(), 2);
        assert!(found[1].is_empty());
    }

    #[test]
    fn truncated_and_foreign_streams_answer_nothing_and_do_not_panic() {
        let s = stream();
        for cut in 0..s.len() {
            let _ = formatted_cells(&s[..cut], 100);
        }
        assert!(formatted_cells(b"not a workbook", 10).is_empty());
        // A BIFF5 stream is not read.
        let mut biff5 = record(BOF, &[0x00, 0x05, 0x05, 0x00]);
        biff5.extend(record(EOF, &[]));
        assert!(formatted_cells(&biff5, 10).is_empty());
    }
}
