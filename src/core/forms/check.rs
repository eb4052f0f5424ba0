//! # Legacy text converted before a workbook is checked
//!
//! Some agencies still type in legacy Vietnamese fonts (TCVN3, VNI): their text is converted
//! to Unicode, a sheet at a time, before the workbook is recognised and validated. Checking a
//! workbook among a campaign's forms, which needs the configuration, is
//! [`crate::core::pipeline::check`].

use crate::workbook::Grid;

/// Converts the text of a sheet typed in a legacy Vietnamese font (TCVN3, VNI) to Unicode.
/// The sheet is judged as a whole: one cell such as "Cao Léc" is valid either way, but not
/// beside "Tû lÖ hé nghÌo".
pub fn unlegacy(grid: &mut Grid) {
    unlegacy_with(grid, |_| {});
}

/// [`unlegacy`], calling `before` with the grid as read just before the first cell changes
/// (not at all when every sheet is Unicode already).
pub fn unlegacy_with(grid: &mut Grid, before: impl FnOnce(&Grid)) {
    use crate::workbook::CellValue;
    let found: Vec<_> = grid
        .sheets
        .iter()
        .map(|sheet| {
            super::legacy::detect_all(sheet.cells.iter().filter_map(|c| match &c.value {
                CellValue::Text(t) => Some(t.as_str()),
                _ => None,
            }))
        })
        .collect();
    if found.iter().all(Option::is_none) {
        return;
    }
    before(grid);
    for (sheet, found) in grid.sheets.iter_mut().zip(found) {
        if let Some(encoding) = found {
            for cell in &mut sheet.cells {
                if let CellValue::Text(t) = &mut cell.value {
                    *t = super::legacy::to_unicode(t, encoding);
                }
            }
        }
    }
}
