//! # Percent cells of ods workbooks
//!
//! An OpenDocument cell says what its number is: `office:value-type="percentage"` holds
//! 0.912 for "91,2 %". calamine reads it as the plain float, so this module streams
//! `content.xml` once more for that alone and answers the positions of percentage cells per
//! table, in document order (calamine's sheet order). Positions follow the same rules as
//! the cells themselves: rows and cells repeated by `number-rows-repeated` and
//! `number-columns-repeated`, covered cells counted. Nested tables are not descended into.
//!
//! The package has passed [`super::package::check`]; the XML is streamed from the zip entry,
//! never held whole, and no more than `limit` cells are answered.

use std::io::{BufRead, BufReader, Cursor};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::grid::Shown;

/// Highest 0-based row and column a sheet can have; repeats past them are not followed.
const MAX_ROW: u64 = 1_048_575;
const MAX_COL: u64 = 16_383;

/// Per table in document order, the (row, col) of every percentage cell; at most `limit`
/// in all. Empty when the package or its content cannot be read (calamine will say why).
pub(crate) fn formatted_cells(bytes: &[u8], limit: usize) -> Vec<Vec<(u32, u32, Shown)>> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Vec::new();
    };
    let Ok(content) = zip.by_name("content.xml") else {
        return Vec::new();
    };
    scan(BufReader::new(content), limit).unwrap_or_default()
}

/// Where the scan is within the current table.
#[derive(Default)]
struct Table {
    cells: Vec<(u32, u32, Shown)>,
    row: u64,
    col: u64,
    /// How many times the open row repeats.
    row_repeat: u64,
    /// Percentage cells of the open row: (first col, how many).
    row_cells: Vec<(u64, u64)>,
}

fn scan(input: impl BufRead, limit: usize) -> Option<Vec<Vec<(u32, u32, Shown)>>> {
    let mut xml = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut tables = Vec::new();
    let mut table: Option<Table> = None;
    // Depth of tables inside the current one (subtables), whose cells are not its own.
    let mut nested = 0u32;
    let mut left = limit;
    loop {
        buf.clear();
        let event = xml.read_event_into(&mut buf).ok()?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            Event::End(e) => {
                match e.local_name().into_inner() {
                    "table" if nested > 0 => nested -= 1,
                    "table" => {
                        if let Some(t) = table.take() {
                            tables.push(t.cells);
                        }
                    }
                    "table-row" if nested == 0 => {
                        if let Some(t) = table.as_mut() {
                            end_row(t, &mut left);
                        }
                    }
                    _ => {}
                }
                (None, false)
            }
            Event::Eof => break,
            _ => (None, false),
        };
        let Some(e) = start else { continue };
        match e.local_name().into_inner() {
            "table" => {
                if table.is_some() {
                    if !empty {
                        nested += 1;
                    }
                } else if empty {
                    tables.push(Vec::new());
                } else {
                    table = Some(Table::default());
                }
            }
            "table-row" if nested == 0 => {
                if let Some(t) = table.as_mut() {
                    t.col = 0;
                    t.row_cells.clear();
                    t.row_repeat = repeat(e, "number-rows-repeated");
                    if empty {
                        end_row(t, &mut left);
                    }
                }
            }
            "table-cell" | "covered-table-cell" if nested == 0 => {
                if let Some(t) = table.as_mut() {
                    let n = repeat(e, "number-columns-repeated");
                    if is_percentage(e) && t.col <= MAX_COL {
                        t.row_cells.push((t.col, n.min(MAX_COL + 1 - t.col)));
                    }
                    t.col = t.col.saturating_add(n);
                }
            }
            _ => {}
        }
    }
    if let Some(t) = table.take() {
        tables.push(t.cells);
    }
    Some(tables)
}

/// Closes the open row: its percentage cells, once per repetition, then the next row.
fn end_row(t: &mut Table, left: &mut usize) {
    for r in t.row..t.row.saturating_add(t.row_repeat).min(MAX_ROW + 1) {
        for &(c0, n) in &t.row_cells {
            for c in c0..c0 + n {
                if *left == 0 {
                    break;
                }
                *left -= 1;
                t.cells.push((r as u32, c as u32, Shown::Percent));
            }
        }
        if *left == 0 || t.row_cells.is_empty() {
            break;
        }
    }
    t.row = t.row.saturating_add(t.row_repeat);
    t.row_cells.clear();
}

/// A repeat count attribute (at least 1).
fn repeat(e: &BytesStart<'_>, name: &str) -> u64 {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == name)
        .and_then(|a| a.value.trim().parse::<u64>().ok())
        .unwrap_or(1)
        .max(1)
}

fn is_percentage(e: &BytesStart<'_>) -> bool {
    e.attributes().flatten().any(|a| {
        a.key.local_name().into_inner() == "value-type" && a.value.as_ref() == "percentage"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(xml: &str, limit: usize) -> Vec<Vec<(u32, u32, Shown)>> {
        scan(xml.as_bytes(), limit).unwrap()
    }

    const CONTENT: &str = r#"<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:spreadsheet>
<table:table table:name="A">
 <table:table-row><table:table-cell/><table:table-cell office:value-type="percentage" office:value="0.912"/></table:table-row>
 <table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="3"/><table:covered-table-cell/><table:table-cell office:value-type="percentage" table:number-columns-repeated="2"/></table:table-row>
 <table:table-row><table:table-cell office:value-type="float"/><table:table-cell><table:table><table:table-row><table:table-cell office:value-type="percentage"/></table:table-row></table:table></table:table-cell><table:table-cell office:value-type="percentage"/></table:table-row>
</table:table>
<table:table table:name="B"><table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384"/></table:table-row></table:table>
</office:spreadsheet></office:body></office:document-content>"#;

    #[test]
    fn finds_percentage_cells_where_calamine_puts_them() {
        let found = cells(CONTENT, 100);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0],
            vec![
                (0, 1, Shown::Percent),
                (1, 4, Shown::Percent),
                (1, 5, Shown::Percent),
                (2, 4, Shown::Percent),
                (2, 5, Shown::Percent),
                (3, 2, Shown::Percent),
            ]
        );
        assert!(found[1].is_empty());
    }

    #[test]
    fn answers_at_most_the_limit_even_for_repeated_rows() {
        let xml = r#"<table:table xmlns:table="t" xmlns:office="o"><table:table-row table:number-rows-repeated="1048576"><table:table-cell office:value-type="percentage" table:number-columns-repeated="16384"/></table:table-row></table:table>"#;
        let found = cells(xml, 1000);
        assert_eq!(found[0].len(), 1000);
    }
}
