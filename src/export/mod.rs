//! # Exports for the report to the Provincial People's Committee
//!
//! The consolidated workbook is what the department works from and sends upward, so it must
//! print as it is and never let a partial total pass for a complete one. For each appendix
//! form it holds, in this order:
//!
//! - **a province sheet per form sheet**, in the form's own layout (the blank form's
//!   heading, rows, codes, labels, units and columns, written by the same code), filled with
//!   the province's figure where one can be had from what agencies sent ([`province`] has the
//!   rules, summed up here), with the sources and the districts' coverage of every row;
//! - **a detail sheet per form column**: indicators × agencies (districts first), with the
//!   districts' total of additive indicators and, beside each total, how many of the
//!   districts it covers ("4/11 huyện, thành phố").
//!
//! Every sheet is set up to print: A4 landscape, one page wide, the header rows repeated on
//! each page, the sheet's title in the page header and "Trang n/m" in the footer. Values come
//! from each agency's latest accepted version. Numbers stay numbers, in a Vietnamese number
//! format (thousands dot, decimal comma).
//!
//! ## The province figure of a row
//!
//! 1. A heading row (no `kind`) takes no value.
//! 2. A rate (a percent row) is left to staff (rule 4), whoever reports it: the province's
//!    rate is the department's to state, not the export's to pick or compute.
//! 3. When the form asks exactly one provincial agency (department or office) for the row —
//!    alone, or beside districts when the row does not add up — the province's figure is that
//!    agency's: Cục Thống kê's GRDP per head, Sở Y tế's doctors per 10 000. An average is
//!    never computed from districts' figures.
//! 4. Otherwise an additive row (`additive = true`, never a percentage) that districts report
//!    (the form asks them, or asks everyone, or nobody in particular) takes the sum of the
//!    districts that reported a number, with their coverage beside it; a range or text in a
//!    district's cell is not summed and is said so.
//! 5. Everything else — rates and averages reported by districts or by several departments,
//!    amounts reported by several departments, text — is left for staff: an empty cell on a
//!    light orange fill, "Để cán bộ điền" in "Ghi chú", and the agencies that reported the
//!    row listed so staff know where to look.
//!
//! The status table is the other export: agencies × deliverables with state, version, time.

mod detail;
mod province;
mod wording;

use std::collections::HashMap;

use rust_xlsxwriter::{Format, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::config::{Agency, AgencyKind, Campaign};
use crate::core::forms::annotate::SheetNames;
use crate::core::forms::spec::{RowSpec, ValueKind, Who};
use crate::store::query::Status;
use crate::store::{Store, StoreError};

pub use province::{Source, source_of};

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the workbook failed.
    #[error("cannot write the workbook")]
    Xlsx(#[from] XlsxError),
}

/// One consolidated value.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// A single number.
    pub number: Option<f64>,
    /// The cell as the agency wrote it.
    pub text: String,
}

/// The values of a campaign's latest accepted versions: (deliverable, sheet, indicator, column, agency) → value.
pub type Consolidated = HashMap<(String, String, String, String, String), Value>;

/// Who the consolidated workbook comes from and when it was made, for its heading lines.
#[derive(Debug, Clone)]
pub struct About {
    /// The department's full name (the "ĐƠN VỊ" line of the province sheets).
    pub department: String,
    /// When the data was taken, in the department's local time.
    pub as_of: chrono::NaiveDateTime,
}

/// Reads the consolidated values of a campaign.
pub fn consolidated(store: &Store, campaign: &str) -> Result<Consolidated, StoreError> {
    let rows = crate::store::query::latest_accepted_data(store, campaign)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                (r.deliverable, r.sheet, r.indicator, r.column, r.agency),
                Value {
                    number: r.value,
                    text: r.text,
                },
            )
        })
        .collect())
}

/// Writes the consolidated workbook: per form, its province sheets, then one detail sheet per
/// form sheet and column.
pub fn consolidated_xlsx(
    campaign: &Campaign,
    data: &Consolidated,
    about: &About,
) -> Result<Vec<u8>, ExportError> {
    let mut wb = Workbook::new();
    let mut names = SheetNames::new();
    let styles = crate::core::forms::blank::Styles::new();
    let mut any = false;
    for d in &campaign.deliverables {
        let Some(spec) = &d.spec else { continue };
        for sheet in &spec.sheets {
            let ws = wb.add_worksheet();
            ws.set_name(names.reserve(&format!("{} toàn tỉnh", sheet.name)))?;
            let form = Form {
                campaign,
                deliverable: &d.id,
                label: &d.label,
                spec,
                sheet,
                data,
            };
            province::write(ws, &form, about, &styles)?;
            any = true;
        }
        for sheet in &spec.sheets {
            let form = Form {
                campaign,
                deliverable: &d.id,
                label: &d.label,
                spec,
                sheet,
                data,
            };
            for col in &sheet.columns {
                let ws = wb.add_worksheet();
                ws.set_name(names.reserve(&format!("{} {}", sheet.name, col.label)))?;
                detail::write(ws, &form, col, about)?;
            }
        }
    }
    if !any {
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "Đợt báo cáo này không có biểu mẫu số liệu.")?;
        print_setup(ws, (0, 0), "Số liệu tổng hợp")?;
    }
    Ok(wb.save_to_buffer()?)
}

/// One form sheet of a campaign and the values reported on it.
struct Form<'a> {
    campaign: &'a Campaign,
    deliverable: &'a str,
    /// The deliverable's label, "Phụ lục I".
    label: &'a str,
    spec: &'a crate::core::forms::spec::FormSpec,
    sheet: &'a crate::core::forms::spec::SheetSpec,
    data: &'a Consolidated,
}

impl<'a> Form<'a> {
    /// The value `agency` reported for `row` in `column`.
    fn value(&self, row: &str, column: &str, agency: &str) -> Option<&'a Value> {
        self.data.get(&(
            self.deliverable.to_string(),
            self.sheet.id.clone(),
            row.to_string(),
            column.to_string(),
            agency.to_string(),
        ))
    }

    /// The sheet's title as the form gives it, or its name.
    fn title(&self) -> &'a str {
        self.sheet.title.as_deref().unwrap_or(&self.sheet.name)
    }
}

/// The districts' sum of one row and column, and what it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct DistrictSum<'a> {
    /// The sum of the numbers reported; None when no district reported one.
    pub total: Option<f64>,
    /// The districts whose numbers make the total.
    pub summed: Vec<&'a Agency>,
    /// The districts that wrote a range or text there instead, not summed.
    pub not_numbers: Vec<&'a Agency>,
    /// The districts the total should cover: those the form asks, and any other that reported.
    pub expected: Vec<&'a Agency>,
}

impl DistrictSum<'_> {
    /// The expected districts that are not in the total.
    pub fn missing(&self) -> impl Iterator<Item = &Agency> {
        self.expected
            .iter()
            .filter(|a| !self.summed.iter().any(|s| s.code == a.code))
            .copied()
    }
}

/// The districts the form asks for `row`: those it names or whose kind it names; every
/// district when it asks everyone or nobody in particular.
pub fn asked_districts<'a>(row: &RowSpec, agencies: &'a [Agency]) -> Vec<&'a Agency> {
    agencies
        .iter()
        .filter(|a| a.kind == AgencyKind::District)
        .filter(|a| match &row.who {
            Who::All | Who::Optional => true,
            who => who.includes(&a.code, a.kind),
        })
        .collect()
}

/// Whether districts' values of `row` add up to a province total: additive, never a rate.
pub fn sums_up(row: &RowSpec) -> bool {
    row.additive
        && matches!(
            row.kind,
            Some(ValueKind::Amount | ValueKind::Count | ValueKind::Number)
        )
}

/// The districts' sum of `row` in `column` (`value(agency code)` gives what each reported).
pub fn district_sum<'a, 'v>(
    row: &RowSpec,
    agencies: &'a [Agency],
    value: impl Fn(&str) -> Option<&'v Value>,
) -> DistrictSum<'a> {
    let asked = asked_districts(row, agencies);
    let mut sum = DistrictSum {
        total: None,
        summed: Vec::new(),
        not_numbers: Vec::new(),
        expected: Vec::new(),
    };
    for a in agencies.iter().filter(|a| a.kind == AgencyKind::District) {
        let v = value(&a.code);
        let is_asked = asked.iter().any(|x| x.code == a.code);
        if !is_asked && v.is_none() {
            continue;
        }
        sum.expected.push(a);
        match v.map(|v| v.number) {
            Some(Some(n)) => {
                sum.total = Some(sum.total.unwrap_or(0.0) + n);
                sum.summed.push(a);
            }
            Some(None) => sum.not_numbers.push(a),
            None => {}
        }
    }
    // Binary fractions would print 0.30000000000000004.
    sum.total = sum.total.map(|t| (t * 1e6).round() / 1e6);
    sum
}

/// The cell format of a value of `kind`, tagged with the Vietnamese locale (`[$-42A]`):
/// LibreOffice then prints "1.234,5" whatever its own locale; Excel uses the separators of
/// the machine's regional settings, Vietnamese on the department's machines.
fn number_format(kind: Option<ValueKind>) -> &'static str {
    match kind {
        Some(ValueKind::Count) => "[$-42A]#,##0",
        Some(ValueKind::Percent) => "[$-42A]0.0#",
        Some(ValueKind::Text) => "@",
        _ => "[$-42A]#,##0.0#",
    }
}

/// The height in points of a row whose `cells` (text, column width) wrap, for text of at most
/// 12 points; None when one line is enough. Neither rust_xlsxwriter nor LibreOffice fits
/// the height of a wrapped row when the file opens, so it is estimated here, generously.
fn row_height<'t>(cells: impl IntoIterator<Item = (&'t str, f64)>) -> Option<f64> {
    let lines = cells
        .into_iter()
        .map(|(text, width)| {
            text.split('\n')
                .map(|part| (part.chars().count() as f64 / width).ceil().max(1.0))
                .sum::<f64>()
        })
        .fold(1.0, f64::max);
    (lines > 1.0).then_some(lines * 15.5 + 3.0)
}

/// Sets a sheet up to print: A4 landscape, one page wide and as many long as needed, rows
/// `repeat` on every page, `title` in the page header and "Trang n/m" in the footer.
fn print_setup(ws: &mut Worksheet, repeat: (u32, u32), title: &str) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(repeat.0, repeat.1)?;
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.4, 0.4, 0.75, 0.6, 0.3, 0.3);
    // A header is at most 255 characters, codes included; "&" is written "&&".
    let title: String = title.replace('&', "&&").chars().take(200).collect();
    ws.set_header(format!("&C&\"Times New Roman,Bold\"&11{title}"));
    ws.set_footer("&C&\"Times New Roman,Italic\"&10Trang &P/&N");
    Ok(())
}

/// Writes the status table: agencies × deliverables with state, version and time.
pub fn status_xlsx(status: &Status, tz: chrono_tz::Tz) -> Result<Vec<u8>, ExportError> {
    let mut wb = Workbook::new();
    let bold = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let cell = Format::new().set_border(FormatBorder::Thin);
    let mut names = SheetNames::new();
    for c in &status.campaigns {
        let ws = wb.add_worksheet();
        ws.set_name(names.reserve(&format!("Tình trạng {}", c.dispatch)))?;
        ws.write_string(0, 0, format!("Công văn {} — {}", c.dispatch, c.title))?;
        ws.write_string(
            1,
            0,
            format!(
                "Phải nộp: {} · Đã nhận: {} · Hợp lệ: {} · Đúng hạn: {} · {}",
                c.expected,
                c.received,
                c.valid,
                c.on_time,
                crate::core::words::Rate::ALL
                    .iter()
                    .map(|r| format!("{}: {}", r.name(), r.words(&c.counts())))
                    .collect::<Vec<_>>()
                    .join(" · ")
            ),
        )?;
        let head = 3;
        ws.write_string_with_format(head, 0, "STT", &bold)?;
        ws.write_string_with_format(head, 1, "Đơn vị", &bold)?;
        for (j, d) in c.deliverables.iter().enumerate() {
            let col = 2 + 3 * j as u16;
            ws.write_string_with_format(head, col, format!("{} — tình trạng", d.label), &bold)?;
            ws.write_string_with_format(head, col + 1, "Lần nộp", &bold)?;
            ws.write_string_with_format(head, col + 2, "Thời gian nhận", &bold)?;
        }
        ws.set_column_width(1, 45)?;
        ws.set_freeze_panes(head + 1, 2)?;
        print_setup(
            ws,
            (head, head),
            &format!("Tình trạng nộp báo cáo — Công văn {}", c.dispatch),
        )?;
        for (i, a) in c.agencies.iter().enumerate() {
            let r = head + 1 + i as u32;
            ws.write_number_with_format(r, 0, (i + 1) as f64, &cell)?;
            ws.write_string_with_format(r, 1, &a.name, &cell)?;
            for (j, d) in a.deliverables.iter().enumerate() {
                let col = 2 + 3 * j as u16;
                let mut state = crate::core::words::state_with_warnings(&d.state, d.warnings);
                if d.late == Some(true) {
                    state.push_str(&format!(" ({})", crate::core::words::lateness(true)));
                }
                ws.write_string_with_format(r, col, state, &cell)?;
                match d.version {
                    Some(v) => ws.write_number_with_format(r, col + 1, v as f64, &cell)?,
                    None => ws.write_blank(r, col + 1, &cell)?,
                };
                let at = d
                    .received_at
                    .as_deref()
                    .map(|t| crate::core::words::when_text(t, tz))
                    .unwrap_or_default();
                ws.write_string_with_format(r, col + 2, at, &cell)?;
            }
        }
    }
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sheet's XML in the package, by its file name.
    fn sheets_xml(xlsx: &[u8]) -> Vec<(String, String)> {
        use std::io::Read;
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
        let names: Vec<String> = zip
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.into_owned()))
            .filter(|n| n.starts_with("xl/worksheets/sheet"))
            .collect();
        names
            .into_iter()
            .map(|n| {
                let mut xml = String::new();
                zip.by_name(&n).unwrap().read_to_string(&mut xml).unwrap();
                (n, xml)
            })
            .collect()
    }

    #[test]
    fn every_sheet_is_set_up_to_print() {
        let config = crate::config::Config::embedded(std::path::Path::new("/x")).unwrap();
        let about = About {
            department: config.department.name.clone(),
            as_of: chrono::NaiveDate::from_ymd_opt(2018, 7, 12)
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap(),
        };
        let xlsx = consolidated_xlsx(&config.campaigns[0], &Consolidated::new(), &about).unwrap();
        let sheets = sheets_xml(&xlsx);
        assert_eq!(sheets.len(), 4 + 14);
        for (name, xml) in &sheets {
            for wanted in [
                "orientation=\"landscape\"",
                "paperSize=\"9\"",
                "fitToHeight=\"0\"",
                "<pane ",
                "Trang &amp;P/&amp;N",
                "<oddHeader>&amp;C",
            ] {
                assert!(xml.contains(wanted), "{name} lacks {wanted}");
            }
        }
        // Repeated header rows are workbook-level names, one per sheet.
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&xlsx[..])).unwrap();
        let mut book = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("xl/workbook.xml").unwrap(), &mut book)
            .unwrap();
        assert_eq!(book.matches("_xlnm.Print_Titles").count(), 4 + 14);
        // No internal id in a sheet name.
        assert!(
            !book.contains("pl1") && !book.contains("742-2018"),
            "{book}"
        );

        let mut empty = config.campaigns[0].clone();
        empty.deliverables.iter_mut().for_each(|d| d.spec = None);
        let xlsx = consolidated_xlsx(&empty, &Consolidated::new(), &about).unwrap();
        assert!(sheets_xml(&xlsx)[0].1.contains("orientation=\"landscape\""));
    }

    #[test]
    fn wrapped_rows_get_the_height_of_their_longest_cell() {
        assert_eq!(row_height([("ngắn", 10.0), ("", 5.0)]), None);
        // 25 characters in 10 a line: three lines; two paragraphs of one line each: two.
        assert_eq!(
            row_height([(&"x".repeat(25)[..], 10.0)]),
            Some(3.0 * 15.5 + 3.0)
        );
        assert_eq!(row_height([("a\nb", 10.0)]), Some(2.0 * 15.5 + 3.0));
    }

    #[test]
    fn values_print_with_vietnamese_separators() {
        assert_eq!(number_format(Some(ValueKind::Count)), "[$-42A]#,##0");
        assert!(number_format(Some(ValueKind::Amount)).starts_with("[$-42A]"));
        assert!(number_format(Some(ValueKind::Percent)).starts_with("[$-42A]"));
        assert_eq!(number_format(Some(ValueKind::Text)), "@");
    }

    #[test]
    fn only_additive_amounts_and_counts_sum_up() {
        let config = crate::config::Config::embedded(std::path::Path::new("/x")).unwrap();
        let spec = config.campaigns[0].deliverables[0].spec.clone().unwrap();
        let row = |id: &str| spec.sheets[0].row(id).unwrap().clone();
        assert!(sums_up(&row("luong-thuc")));
        assert!(!sums_up(&row("ho-ngheo")));
        assert!(!sums_up(&row("grdp-dau-nguoi")));
        let mut rate = row("ho-ngheo");
        rate.additive = true;
        assert!(!sums_up(&rate), "a rate never adds up");
        // Only the city is asked for urban water: the coverage is of one district.
        let agencies = &config.campaigns[0].agencies;
        let city = asked_districts(&row("nuoc-do-thi"), agencies);
        assert_eq!(city.len(), 1);
        assert_eq!(asked_districts(&row("luong-thuc"), agencies).len(), 11);
        assert_eq!(asked_districts(&row("thu-ns-khac"), agencies).len(), 11);
        assert!(asked_districts(&row("thu-ns-xnk"), agencies).is_empty());
    }
}
