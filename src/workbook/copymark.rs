//! # Intake's own copies, recognised when they come back
//!
//! A marked copy (the workbook with its findings marked, attached to a receipt) carries a
//! defined name `intake_copy` whose value is a digest of every cell it was written with. When a
//! workbook comes back carrying that name and its cells still give the same digest, it is the
//! copy unchanged — an auto-responder or a careless reply sending it back — and is never filed
//! as a new version, even after a re-save has changed its bytes. An agency that corrects the
//! copy changes its cells, and the corrected workbook is filed as usual. Pure: cells in, text out.

use sha2::{Digest, Sha256};

use super::{CellValue, Grid};

/// The defined name that carries the mark.
pub const COPY_NAME: &str = "intake_copy";
const PREFIX: &str = "intake-copy:";

/// A cell's value as a reader of the written file sees it.
#[derive(Debug, Clone, Copy)]
pub enum Seen<'a> {
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// Anything written as text (text, error values, formulas without a value).
    Text(&'a str),
}

/// The digest of a workbook's cells, in any order.
#[derive(Debug, Default)]
pub struct CopyDigest {
    cells: Vec<(String, u32, u32, String)>,
}

impl CopyDigest {
    /// Adds one written cell.
    pub fn add(&mut self, sheet: &str, row: u32, col: u32, value: Seen<'_>) {
        let v = match value {
            // Rust's shortest round-trip form: the same f64 always gives the same text.
            Seen::Number(n) => format!("n{n}"),
            Seen::Bool(b) => format!("b{}", u8::from(b)),
            Seen::Text(t) => format!("s{t}"),
        };
        self.cells.push((sheet.to_string(), row, col, v));
    }

    /// The digest, 32 hex digits.
    pub fn finish(mut self) -> String {
        self.cells
            .sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
        let mut h = Sha256::new();
        for (sheet, row, col, v) in &self.cells {
            h.update(sheet.as_bytes());
            h.update([0]);
            h.update(row.to_le_bytes());
            h.update(col.to_le_bytes());
            h.update(v.as_bytes());
            h.update([0]);
        }
        hex::encode(&h.finalize()[..16])
    }

    /// The defined name's formula for this digest.
    pub fn formula(digest: &str) -> String {
        format!("=\"{PREFIX}{digest}\"")
    }
}

/// The digest a workbook's `intake_copy` name carries, when it has one.
pub fn mark_of(grid: &Grid) -> Option<String> {
    grid.defined_names
        .iter()
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case(COPY_NAME))
        .find_map(|(_, value)| {
            let v = value
                .trim()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"');
            let digest = v.strip_prefix(PREFIX)?;
            (digest.len() == 32 && digest.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| digest.to_ascii_lowercase())
        })
}

/// The digest of a workbook's cells as read, every sheet but `skip_sheet` (the summary of
/// findings intake adds): what a copy that keeps these cells carries as its mark.
///
/// The same digest as a [`CopyDigest`] given every cell, computed without a copy of the cells'
/// text: the cells are hashed in (sheet name, row, column) order through a list of indices,
/// eight bytes a cell, so that digesting a sheet of a million cells stays cheap.
pub fn digest(grid: &Grid, skip_sheet: &str) -> String {
    use std::fmt::Write;
    let mut sheets: Vec<(&str, usize)> = grid
        .sheets
        .iter()
        .enumerate()
        .filter(|(_, s)| s.name != skip_sheet)
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    // Stable: sheets of one name (only in a broken file) keep workbook order, as CopyDigest's
    // stable sort of all cells keeps them.
    sheets.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = Sha256::new();
    let mut number = String::new();
    let mut at = 0;
    while at < sheets.len() {
        let name = sheets[at].0;
        let group: Vec<usize> = sheets[at..]
            .iter()
            .take_while(|(n, _)| *n == name)
            .map(|(_, i)| *i)
            .collect();
        at += group.len();
        let mut order: Vec<(u32, u32)> = group
            .iter()
            .flat_map(|&s| (0..grid.sheets[s].cells.len()).map(move |c| (s as u32, c as u32)))
            .collect();
        let cell = |&(s, c): &(u32, u32)| &grid.sheets[s as usize].cells[c as usize];
        order.sort_by_key(|k| (cell(k).row, cell(k).col));
        for k in &order {
            let cell = cell(k);
            h.update(name.as_bytes());
            h.update([0]);
            h.update(cell.row.to_le_bytes());
            h.update(cell.col.to_le_bytes());
            match &cell.value {
                CellValue::Number(n) => {
                    number.clear();
                    let _ = write!(number, "n{n}");
                    h.update(number.as_bytes());
                }
                CellValue::Bool(b) => h.update(if *b { b"b1" } else { b"b0" }),
                CellValue::Text(t) | CellValue::Error(t) | CellValue::FormulaWithoutValue(t) => {
                    h.update(b"s");
                    h.update(t.as_bytes());
                }
            }
            h.update([0]);
        }
        // Cells below the rows a reader keeps are not in the grid: their count at least is
        // part of the digest, so a copy grown or cut down there is not taken as unchanged.
        let beyond: u64 = group.iter().map(|&s| grid.sheets[s].beyond).sum();
        if beyond > 0 {
            h.update(name.as_bytes());
            h.update([0]);
            h.update(b"beyond");
            h.update(beyond.to_le_bytes());
            h.update([0]);
        }
    }
    hex::encode(&h.finalize()[..16])
}

/// True when the workbook carries intake's copy mark and its cells are still those the copy
/// was written with; `skip_sheet` is the sheet intake added (the summary of findings).
pub fn is_unchanged_copy(grid: &Grid, skip_sheet: &str) -> bool {
    mark_of(grid).is_some_and(|mark| digest(grid, skip_sheet) == mark)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_ignores_order_and_sees_every_value() {
        let mut a = CopyDigest::default();
        a.add("S", 0, 0, Seen::Text("x"));
        a.add("S", 1, 2, Seen::Number(0.912));
        let mut b = CopyDigest::default();
        b.add("S", 1, 2, Seen::Number(0.912));
        b.add("S", 0, 0, Seen::Text("x"));
        let (a, b) = (a.finish(), b.finish());
        assert_eq!(a, b);
        let mut c = CopyDigest::default();
        c.add("S", 1, 2, Seen::Number(91.2));
        c.add("S", 0, 0, Seen::Text("x"));
        assert_ne!(a, c.finish());
        assert_eq!(CopyDigest::formula(&a), format!("=\"intake-copy:{a}\""));
    }

    #[test]
    fn the_grid_digest_is_the_digest_of_every_cell() {
        use crate::workbook::{Cell, Sheet};
        let cell = |row, col, value| Cell {
            row,
            col,
            value,
            shown: Default::default(),
        };
        let sheet = |name: &str, cells| Sheet {
            name: name.into(),
            visible: true,
            cells,
            merged: vec![],
            beyond: 0,
        };
        let grid = Grid {
            sheets: vec![
                sheet(
                    "Z",
                    vec![
                        cell(2, 0, CellValue::Number(0.1 + 0.2)),
                        cell(0, 5, CellValue::Text("Tăng trưởng".into())),
                        cell(0, 1, CellValue::Bool(false)),
                    ],
                ),
                sheet(
                    "Kết quả kiểm tra",
                    vec![cell(0, 0, CellValue::Text("bỏ qua".into()))],
                ),
                sheet(
                    "A",
                    vec![
                        cell(1, 1, CellValue::Error("#N/A".into())),
                        cell(1, 0, CellValue::FormulaWithoutValue("SUM(A1)".into())),
                    ],
                ),
                // A broken file's second sheet of one name: its cells interleave by position.
                sheet("Z", vec![cell(1, 0, CellValue::Number(-3.0))]),
            ],
            marker: None,
            defined_names: vec![],
        };
        let mut all = CopyDigest::default();
        for s in grid.sheets.iter().filter(|s| s.name != "Kết quả kiểm tra") {
            for c in &s.cells {
                let seen = match &c.value {
                    CellValue::Number(n) => Seen::Number(*n),
                    CellValue::Bool(b) => Seen::Bool(*b),
                    CellValue::Text(t)
                    | CellValue::Error(t)
                    | CellValue::FormulaWithoutValue(t) => Seen::Text(t),
                };
                all.add(&s.name, c.row, c.col, seen);
            }
        }
        assert_eq!(digest(&grid, "Kết quả kiểm tra"), all.finish());
        let mut changed = grid.clone();
        changed.sheets[0].cells[0].value = CellValue::Number(0.3);
        assert_ne!(
            digest(&changed, "Kết quả kiểm tra"),
            digest(&grid, "Kết quả kiểm tra")
        );
        // Cells counted below the rows kept count too.
        let mut longer = grid.clone();
        longer.sheets[0].beyond = 1;
        assert_ne!(
            digest(&longer, "Kết quả kiểm tra"),
            digest(&grid, "Kết quả kiểm tra")
        );
    }
}
