//! # The export's Vietnamese wording
//!
//! Every phrase the consolidated workbook builds from numbers, names and times, in one place;
//! numbers and times are the shared vocabulary's ([`crate::core::words`]).

use chrono::NaiveDateTime;

use crate::config::Agency;

/// "4/11 huyện, thành phố".
pub(super) fn coverage(covered: usize, of: usize) -> String {
    format!("{covered}/{of} huyện, thành phố")
}

/// The coverage of a row whose columns may differ: "4/11 huyện, thành phố" when every column
/// covers the same, else "TH 2016: 4/11; KH 2018: 3/11 huyện, thành phố".
pub(super) fn coverage_by_column(per_column: &[(&str, usize, usize)]) -> String {
    let Some(&(_, first, of)) = per_column.first() else {
        return String::new();
    };
    if per_column.iter().all(|&(_, n, m)| n == first && m == of) {
        return coverage(first, of);
    }
    let parts: Vec<String> = per_column
        .iter()
        .map(|(label, n, m)| format!("{label}: {n}/{m}"))
        .collect();
    format!("{} huyện, thành phố", parts.join("; "))
}

/// The agencies' names, comma-separated, in the order given.
pub(super) fn names<'a>(agencies: impl IntoIterator<Item = &'a Agency>) -> String {
    agencies
        .into_iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// "09:00 ngày 12/07/2018", as [`crate::core::words::when`] writes a time.
pub(super) fn date_time(at: NaiveDateTime) -> String {
    crate::core::words::when(at.and_utc().fixed_offset(), chrono::Utc)
}

/// A number as Vietnamese text writes it, rounded to at most `decimals` decimals
/// ([`crate::core::words::number`]: thousands dot, decimal comma, no trailing zeros).
pub(super) fn number(n: f64, decimals: usize) -> String {
    let scale = 10f64.powi(i32::try_from(decimals).unwrap_or(6).min(6));
    crate::core::words::number((n * scale).round() / scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_take_the_vietnamese_separators() {
        assert_eq!(number(1234.5, 2), "1.234,5");
        assert_eq!(number(1234567.0, 2), "1.234.567");
        assert_eq!(number(-0.25, 2), "-0,25");
        assert_eq!(number(-0.001, 2), "0");
        assert_eq!(number(999.999, 2), "1.000");
        assert_eq!(number(12.0, 0), "12");
    }

    #[test]
    fn coverage_says_the_share_of_districts() {
        assert_eq!(coverage(4, 11), "4/11 huyện, thành phố");
        assert_eq!(
            coverage_by_column(&[("TH 2016", 4, 11), ("TH 2017", 4, 11)]),
            "4/11 huyện, thành phố"
        );
        assert_eq!(
            coverage_by_column(&[("TH 2016", 4, 11), ("KH 2018", 3, 11)]),
            "TH 2016: 4/11; KH 2018: 3/11 huyện, thành phố"
        );
        assert_eq!(coverage_by_column(&[]), "");
    }

    #[test]
    fn times_read_as_staff_write_them() {
        let at = chrono::NaiveDate::from_ymd_opt(2018, 7, 12)
            .unwrap()
            .and_hms_opt(9, 5, 0)
            .unwrap();
        assert_eq!(date_time(at), "09:05 ngày 12/07/2018");
    }
}
