//! # What a numeric cell means
//!
//! A number in a workbook is not yet what the agency meant: Excel stores "91,2 %" as 0.912, a
//! format ending in a thousands separator shows 1 234 567 as "1.235", and "5/12" typed into a
//! cell becomes the 5th of December. The agency saw the formatted value, so that is what it
//! meant. This stage decides, cell by cell, from the cell's number format
//! ([`Shown`], read by the workbook readers for every format), the row's kind and unit:
//!
//! | cell | row | value taken | finding |
//! | --- | --- | --- | --- |
//! | percent format, 0.912 | percent (kind or unit "%") | 91,2 | none |
//! | percent format, 0.05 | any other | 5 (as shown) | warning: a percentage in a row of another unit |
//! | plain, 0 < \|n\| < 1 | percent | n (as written) | warning: 0,912 % or 91,2 %? |
//! | plain, anything else | any | n | none |
//! | scaled (`#,##0,`), 1 234 567 | numeric | 1.234,567 (as shown) | warning: the file holds 1.234.567 |
//! | date format | numeric | none | error: a date where a number belongs |
//! | date format | text | "dd/mm/yyyy" | none |
//!
//! No count of such cells in a sheet decides anything: each cell answers for itself, and where
//! it stays ambiguous a warning names it.

use chrono::{Duration, NaiveDate};

use super::spec::RowSpec;
use super::validate::vi;
use super::value::{Raw, ValueKind};
use crate::workbook::{Cell, CellValue, Shown};

/// A cell as the agency meant it: the value to interpret, the text to show it by, and
/// what stays in doubt.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Meant {
    /// The value to interpret.
    pub raw: Raw,
    /// The value as the agency saw it, for findings ("91,2%").
    pub shown: String,
    /// Why the value taken may not be what was meant.
    pub doubt: Option<Doubt>,
}

/// Why a value may not be what the agency meant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Doubt {
    /// A fraction without a percent format in a percent row: `n` % or `n × 100` %?
    Fraction { written: f64 },
    /// A percent-formatted cell in a row of another unit: taken as shown.
    PercentElsewhere { unit: String },
    /// A format that divides by 1000 this many times: taken as shown, the file holds `stored`.
    Scaled { stored: f64, thousands: u8 },
    /// A date where a number belongs (Excel turns "5/12" into a date).
    Date { date: String },
}

/// Whether a row holds percentages: by its kind, or by its unit.
pub fn is_percent_row(row: &RowSpec) -> bool {
    row.kind == Some(ValueKind::Percent) || row.unit.trim() == "%"
}

/// What `cell` (None when empty) means in `row`.
pub(crate) fn meant(cell: Option<&Cell>, row: &RowSpec) -> Meant {
    let Some(cell) = cell else {
        return Meant {
            raw: Raw::Empty,
            shown: String::new(),
            doubt: None,
        };
    };
    let n = match &cell.value {
        CellValue::Number(n) => *n,
        other => {
            return Meant {
                raw: raw(other),
                shown: super::recognise::text(other).unwrap_or_default(),
                doubt: None,
            };
        }
    };
    let percent_row = is_percent_row(row);
    let plain = |raw: f64, doubt| Meant {
        raw: Raw::Number(raw),
        shown: vi(raw),
        doubt,
    };
    match cell.shown {
        Shown::Percent => {
            let value = n * 100.0;
            Meant {
                raw: Raw::Number(value),
                shown: format!("{}%", vi(value)),
                doubt: (!percent_row).then(|| Doubt::PercentElsewhere {
                    unit: row.unit.clone(),
                }),
            }
        }
        Shown::Plain if percent_row && n != 0.0 && n.abs() < 1.0 => {
            plain(n, Some(Doubt::Fraction { written: n }))
        }
        Shown::Plain => plain(n, None),
        Shown::Scaled(k) if row.kind != Some(ValueKind::Text) => {
            let value = n / 1000f64.powi(i32::from(k));
            plain(
                value,
                Some(Doubt::Scaled {
                    stored: n,
                    thousands: k,
                }),
            )
        }
        Shown::Scaled(_) => plain(n, None),
        Shown::Date => {
            let date = date_text(n);
            if row.kind == Some(ValueKind::Text) {
                Meant {
                    raw: Raw::Text(date.clone()),
                    shown: date,
                    doubt: None,
                }
            } else {
                Meant {
                    raw: Raw::Empty,
                    shown: date.clone(),
                    doubt: Some(Doubt::Date { date }),
                }
            }
        }
    }
}

/// A serial day (1900 system) as "dd/mm/yyyy"; a time of day as "hh:mm".
fn date_text(serial: f64) -> String {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
    if (0.0..1.0).contains(&serial) {
        let minutes = (serial * 1440.0).round() as i64;
        return format!("{:02}:{:02}", minutes / 60, minutes % 60);
    }
    if !(1.0..2_958_466.0).contains(&serial) {
        return vi(serial);
    }
    let day = epoch + Duration::days(serial.floor() as i64);
    day.format("%d/%m/%Y").to_string()
}

fn raw(v: &CellValue) -> Raw {
    match v {
        CellValue::Number(n) => Raw::Number(*n),
        CellValue::Text(t) => Raw::Text(t.clone()),
        CellValue::Bool(b) => Raw::Bool(*b),
        CellValue::Error(e) => Raw::Error(e.clone()),
        CellValue::FormulaWithoutValue(f) => Raw::FormulaWithoutValue(f.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::forms::spec::Who;

    fn row(kind: ValueKind, unit: &str) -> RowSpec {
        RowSpec {
            id: "r".into(),
            code: "1".into(),
            label: "Chỉ tiêu".into(),
            aliases: Vec::new(),
            unit: unit.into(),
            kind: Some(kind),
            growth: false,
            additive: false,
            who: Who::All,
            bounds: None,
        }
    }

    fn cell(n: f64, shown: Shown) -> Cell {
        Cell {
            row: 0,
            col: 0,
            value: CellValue::Number(n),
            shown,
        }
    }

    #[test]
    fn a_percent_formatted_fraction_in_a_percent_row_is_its_percentage() {
        let m = meant(
            Some(&cell(0.912, Shown::Percent)),
            &row(ValueKind::Percent, "%"),
        );
        assert!(matches!(m.raw, Raw::Number(v) if (v - 91.2).abs() < 1e-9));
        assert_eq!(m.shown, "91,2%");
        assert_eq!(m.doubt, None);
        // By unit alone too.
        let m = meant(
            Some(&cell(0.05, Shown::Percent)),
            &row(ValueKind::Number, "%"),
        );
        assert_eq!(m.doubt, None);
    }

    #[test]
    fn one_percent_cell_is_enough() {
        // Whatever the count of such cells in the sheet: each cell answers for itself.
        let m = meant(
            Some(&cell(0.0798, Shown::Percent)),
            &row(ValueKind::Percent, "%"),
        );
        assert!(matches!(m.raw, Raw::Number(v) if (v - 7.98).abs() < 1e-9));
    }

    #[test]
    fn a_plain_fraction_in_a_percent_row_is_taken_as_written_with_a_doubt() {
        let m = meant(
            Some(&cell(0.912, Shown::Plain)),
            &row(ValueKind::Percent, "%"),
        );
        assert_eq!(m.raw, Raw::Number(0.912));
        assert_eq!(m.doubt, Some(Doubt::Fraction { written: 0.912 }));
        for n in [0.0, 1.0, 7.98, 91.2, -3.5] {
            let m = meant(Some(&cell(n, Shown::Plain)), &row(ValueKind::Percent, "%"));
            assert_eq!((m.raw, m.doubt), (Raw::Number(n), None), "{n}");
        }
    }

    #[test]
    fn a_percentage_in_another_row_is_taken_as_shown_with_a_doubt() {
        let m = meant(
            Some(&cell(0.05, Shown::Percent)),
            &row(ValueKind::Count, "doanh nghiệp"),
        );
        assert!(matches!(m.raw, Raw::Number(v) if (v - 5.0).abs() < 1e-9));
        assert!(matches!(m.doubt, Some(Doubt::PercentElsewhere { .. })));
    }

    #[test]
    fn scaled_formats_are_taken_as_shown() {
        let m = meant(
            Some(&cell(1_234_567.0, Shown::Scaled(1))),
            &row(ValueKind::Amount, "tỷ đồng"),
        );
        assert!(matches!(m.raw, Raw::Number(v) if (v - 1234.567).abs() < 1e-9));
        assert_eq!(
            m.doubt,
            Some(Doubt::Scaled {
                stored: 1_234_567.0,
                thousands: 1
            })
        );
    }

    #[test]
    fn dates_are_not_numbers() {
        let m = meant(
            Some(&cell(43287.0, Shown::Date)),
            &row(ValueKind::Number, "tỷ đồng"),
        );
        assert_eq!(m.raw, Raw::Empty);
        assert_eq!(
            m.doubt,
            Some(Doubt::Date {
                date: "06/07/2018".into()
            })
        );
        let m = meant(Some(&cell(43287.0, Shown::Date)), &row(ValueKind::Text, ""));
        assert_eq!(m.raw, Raw::Text("06/07/2018".into()));
        assert_eq!(date_text(0.5), "12:00");
    }

    #[test]
    fn text_and_empty_cells_pass_through() {
        let text = Cell {
            row: 0,
            col: 0,
            value: CellValue::Text("91,2 %".into()),
            shown: Shown::Plain,
        };
        let m = meant(Some(&text), &row(ValueKind::Percent, "%"));
        assert_eq!(m.raw, Raw::Text("91,2 %".into()));
        assert_eq!(meant(None, &row(ValueKind::Percent, "%")).raw, Raw::Empty);
    }
}
