//! # Province sheets: a form filled with the province's figures
//!
//! The form sheet as agencies received it (same heading, rows, columns, codes, labels,
//! units), its value cells filled with the province's figure where the reports give one,
//! by the rules of the module above ([`source_of`]). "Ghi chú" says what a districts' total
//! covers ("Tổng 4/11 huyện, thành phố") or that staff fill the row, and two columns follow
//! it: the districts missing from a total, and the agencies whose figures the row holds or
//! that staff should look at. The decision is data ([`Source`], [`cell`]); the writer lays it out.

use rust_xlsxwriter::{FormatAlign, Worksheet, XlsxError};

use super::{
    About, DistrictSum, Form, Value, asked_districts, district_sum, number_format, print_setup,
    row_height, sums_up, wording,
};
use crate::config::{Agency, AgencyKind};
use crate::core::forms::blank::{HEADING_ROW_FILL, Styles, base, cell as table_cell, write_frame};
use crate::core::forms::spec::RowSpec;

/// What "Ghi chú" says on a row left for staff.
pub const TO_FILL_NOTE: &str = "Để cán bộ điền";

/// Fill of a cell left for staff (light orange).
pub const TO_FILL: u32 = 0xFCE4D6;

/// Fill of a districts' total (light green).
pub const TOTAL_FILL: u32 = 0xE2EFDA;

/// Headers of the columns after "Ghi chú".
pub const EXTRA_HEADERS: [&str; 2] = ["Huyện, thành phố chưa có trong tổng", "Đơn vị có số liệu"];

/// Characters a line holds in the label, "Ghi chú", missing districts and sources columns (widths 55,
/// 16, 34 and 40; 12-point text in the label, 11 elsewhere).
const LABEL_CHARS: f64 = 60.0;
const NOTE_CHARS: f64 = 17.0;
const MISSING_CHARS: f64 = 40.0;
const SOURCES_CHARS: f64 = 47.0;

/// Where the province's figure of an indicator row comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source<'a> {
    /// A heading row: no value.
    Heading,
    /// The one provincial agency the form asks for the row.
    Agency(&'a Agency),
    /// The districts' sum, with its coverage.
    Districts,
    /// Nothing adds up: staff fill it.
    Staff,
}

/// The source of `row`'s province figure among `agencies` (the campaign's, roster order).
pub fn source_of<'a>(row: &RowSpec, agencies: &'a [Agency]) -> Source<'a> {
    if row.kind.is_none() {
        return Source::Heading;
    }
    let provincial: Vec<&Agency> = agencies
        .iter()
        .filter(|a| a.kind != AgencyKind::District && row.who.includes(&a.code, a.kind))
        .collect();
    let districts = asked_districts(row, agencies);
    let sums = sums_up(row) && !districts.is_empty();
    let rate = crate::core::forms::is_percent_row(row);
    match provincial.as_slice() {
        _ if rate => Source::Staff,
        [only] if !sums => Source::Agency(only),
        _ if sums => Source::Districts,
        _ => Source::Staff,
    }
}

/// The province's figure in one value cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// A heading row's cell.
    Heading,
    /// The agency's value.
    Reported(&'a Agency, &'a Value),
    /// The agency has not reported it.
    NotReported(&'a Agency),
    /// The districts' sum (its total is None when no district reported a number).
    Sum(DistrictSum<'a>),
    /// Left for staff.
    Staff,
}

/// The province's figure of `row` in `column`.
pub(super) fn cell<'a>(form: &Form<'a>, row: &RowSpec, column: &str) -> Cell<'a> {
    let agencies = &form.campaign.agencies;
    match source_of(row, agencies) {
        Source::Heading => Cell::Heading,
        Source::Agency(a) => match form.value(&row.id, column, &a.code) {
            Some(v) => Cell::Reported(a, v),
            None => Cell::NotReported(a),
        },
        Source::Districts => Cell::Sum(district_sum(row, agencies, |code| {
            form.value(&row.id, column, code)
        })),
        Source::Staff => Cell::Staff,
    }
}

/// Writes the province sheet of `form`'s sheet.
pub(super) fn write(
    ws: &mut Worksheet,
    form: &Form,
    about: &About,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let sheet = form.sheet;
    let campaign = form.campaign;
    let unit_line = format!("ĐƠN VỊ: {}", about.department.trim().to_uppercase());
    let at = write_frame(
        ws,
        form.spec,
        sheet,
        &unit_line,
        &EXTRA_HEADERS,
        &|_| None,
        styles,
    )?;
    let last_col = at.note_col + EXTRA_HEADERS.len() as u16;
    let title = format!("{} — Số liệu tổng hợp toàn tỉnh", form.label);
    let page_title = if form.spec.sheets.len() > 1 {
        format!("{title} — {}", form.title())
    } else {
        title
    };
    // The row between the sheet's title and the table says what this copy is.
    ws.merge_range(
        at.title_row + 1,
        0,
        at.title_row + 1,
        last_col,
        &format!(
            "{}: số liệu tổng hợp toàn tỉnh từ lần nộp hợp lệ gần nhất của mỗi đơn vị, đến {}",
            form.label,
            wording::date_time(about.as_of)
        ),
        &base()
            .set_bold()
            .set_italic()
            .set_align(FormatAlign::Center),
    )?;

    let wrap = |fill: Option<u32>| {
        table_cell(fill)
            .set_text_wrap()
            .set_align(FormatAlign::VerticalCenter)
            .set_font_size(11)
    };
    for (i, row) in sheet.rows.iter().enumerate() {
        let r = at.first_row + i as u32;
        let source = source_of(row, &campaign.agencies);
        let value_format = |fill: Option<u32>| {
            table_cell(fill)
                .set_num_format(number_format(row.kind))
                .set_align(FormatAlign::VerticalCenter)
        };
        let mut missing_columns = Vec::new();
        let mut coverage = Vec::new();
        let mut contributors: Vec<&Agency> = Vec::new();
        let mut not_numbers: Vec<&Agency> = Vec::new();
        let mut no_district = true;
        for (j, column) in sheet.columns.iter().enumerate() {
            let c = at.first_value_col + j as u16;
            match cell(form, row, &column.id) {
                Cell::Heading => {
                    ws.write_blank(r, c, &table_cell(Some(HEADING_ROW_FILL)))?;
                }
                Cell::Reported(a, v) => {
                    match v.number {
                        Some(n) => ws.write_number_with_format(r, c, n, &value_format(None))?,
                        None => ws.write_string_with_format(r, c, &v.text, &wrap(None))?,
                    };
                    add(&mut contributors, a);
                }
                Cell::NotReported(_) => {
                    ws.write_blank(r, c, &value_format(Some(TO_FILL)))?;
                    missing_columns.push(column.label.as_str());
                }
                Cell::Sum(sum) => {
                    match sum.total {
                        Some(t) => ws.write_number_with_format(
                            r,
                            c,
                            t,
                            &value_format(Some(TOTAL_FILL)).set_bold(),
                        )?,
                        None => ws.write_blank(r, c, &value_format(Some(TO_FILL)))?,
                    };
                    no_district &= sum.summed.is_empty();
                    coverage.push((column.label.as_str(), sum.summed.len(), sum.expected.len()));
                    for a in &sum.summed {
                        add(&mut contributors, a);
                    }
                    for a in &sum.not_numbers {
                        add(&mut not_numbers, a);
                    }
                }
                Cell::Staff => {
                    ws.write_blank(r, c, &value_format(Some(TO_FILL)))?;
                }
            }
        }
        let note_format = |fill: Option<u32>| styles.note(fill).set_text_wrap().set_font_size(11);
        let (note, fill) = match &source {
            Source::Heading => (String::new(), None),
            Source::Agency(a) if missing_columns.len() == sheet.columns.len() => {
                (format!("Chưa có số liệu của {}", a.name), Some(TO_FILL))
            }
            Source::Agency(a) if !missing_columns.is_empty() => (
                format!("{} chưa báo cáo cột {}", a.name, missing_columns.join(", ")),
                Some(TO_FILL),
            ),
            Source::Agency(_) => (String::new(), None),
            Source::Districts if no_district => (
                format!(
                    "Chưa có huyện, thành phố nào báo cáo; {}",
                    TO_FILL_NOTE.to_lowercase()
                ),
                Some(TO_FILL),
            ),
            // The coverage goes with the figures, in the form's own last column, so that a
            // partial total copied into the report still says what it is.
            Source::Districts => (
                format!("Tổng {}", wording::coverage_by_column(&coverage)),
                None,
            ),
            Source::Staff => (TO_FILL_NOTE.to_string(), Some(TO_FILL)),
        };
        ws.write_string_with_format(r, at.note_col, &note, &note_format(fill))?;

        let mut missing_text = String::new();
        if matches!(source, Source::Districts) {
            let expected = asked_districts(row, &campaign.agencies);
            let missing: Vec<&Agency> = expected
                .iter()
                .filter(|a| !contributors.iter().any(|c| c.code == a.code))
                .copied()
                .collect();
            missing_text = if missing.is_empty() {
                "Không thiếu".to_string()
            } else if contributors.is_empty() {
                format!("Cả {} huyện, thành phố", missing.len())
            } else {
                wording::names(missing)
            };
            if !not_numbers.is_empty() {
                missing_text.push_str(&format!(
                    "; ghi khoảng hoặc chữ, không cộng: {}",
                    wording::names(not_numbers)
                ));
            }
        }
        let mut who = wording::names(contributors.iter().copied());
        if matches!(source, Source::Districts) {
            // A department that reports the province's own figure of a summed row: shown
            // beside the districts' sum, for staff to compare.
            for a in campaign
                .agencies
                .iter()
                .filter(|a| a.kind != AgencyKind::District && row.who.includes(&a.code, a.kind))
            {
                let figures: Vec<String> = sheet
                    .columns
                    .iter()
                    .filter_map(|c| {
                        let v = form.value(&row.id, &c.id, &a.code)?;
                        let shown = v.number.map_or(v.text.clone(), |n| wording::number(n, 2));
                        Some(format!("{} {shown}", c.label))
                    })
                    .collect();
                if !figures.is_empty() {
                    who.push_str(&format!(
                        "{}{} báo cáo số toàn tỉnh: {}",
                        if who.is_empty() { "" } else { ". " },
                        a.name,
                        figures.join("; ")
                    ));
                }
            }
        }
        if matches!(source, Source::Staff) {
            let reported = reporters(form, row);
            who = if reported.is_empty() {
                "Chưa đơn vị nào báo cáo".to_string()
            } else {
                format!("Đã báo cáo: {}", wording::names(reported))
            };
        }
        let texts = [
            (row.label.as_str(), LABEL_CHARS),
            (note.as_str(), NOTE_CHARS),
            (missing_text.as_str(), MISSING_CHARS),
            (who.as_str(), SOURCES_CHARS),
        ];
        if let Some(h) = row_height(texts) {
            ws.set_row_height(r, h)?;
        }
        if matches!(source, Source::Heading) {
            ws.write_blank(r, at.note_col + 1, &wrap(None))?;
            ws.write_blank(r, at.note_col + 2, &wrap(None))?;
        } else {
            ws.write_string_with_format(r, at.note_col + 1, &missing_text, &wrap(None))?;
            ws.write_string_with_format(r, at.note_col + 2, &who, &wrap(None))?;
        }
    }

    let below = at.first_row + sheet.rows.len() as u32 + 1;
    let legend = [
        "Ô tô xanh: tổng các huyện, thành phố đã có số liệu hợp lệ; cột \"Ghi chú\" cho biết tổng gồm bao nhiêu huyện, thành phố, cột bên cạnh cho biết còn thiếu những đâu.",
        "Ô tô cam, ghi \"Để cán bộ điền\": tỷ lệ, bình quân, chỉ tiêu do nhiều sở, ngành báo cáo, hoặc chưa có số liệu; không cộng được, cán bộ tổng hợp điền.",
        "Các ô còn lại lấy đúng số liệu của sở, ngành được giao báo cáo chỉ tiêu đó.",
    ];
    for (k, line) in legend.iter().enumerate() {
        ws.write_string_with_format(below + k as u32, at.label_col, *line, &styles.legend)?;
    }
    ws.set_column_width(at.note_col, 16)?;
    ws.set_column_width(at.note_col + 1, 34)?;
    ws.set_column_width(at.note_col + 2, 40)?;
    ws.set_freeze_panes(at.first_row, 0)?;
    print_setup(ws, (at.header_row, at.numbers_row), &page_title)?;
    Ok(())
}

/// Every agency that reported `row` in any column: those the form asks for it first, then
/// the others; provincial agencies before districts.
fn reporters<'a>(form: &Form<'a>, row: &RowSpec) -> Vec<&'a Agency> {
    let has = |a: &Agency| {
        form.sheet
            .columns
            .iter()
            .any(|c| form.value(&row.id, &c.id, &a.code).is_some())
    };
    let mut ordered: Vec<&Agency> = form.campaign.agencies.iter().filter(|a| has(a)).collect();
    ordered.sort_by_key(|a| {
        (
            !row.who.includes(&a.code, a.kind),
            a.kind == AgencyKind::District,
        )
    });
    ordered
}

fn add<'a>(list: &mut Vec<&'a Agency>, a: &'a Agency) {
    if !list.iter().any(|x| x.code == a.code) {
        list.push(a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::export::Consolidated;

    fn config() -> Config {
        Config::embedded(std::path::Path::new("/x")).unwrap()
    }

    fn row<'a>(config: &'a Config, deliverable: &str, id: &str) -> &'a RowSpec {
        let spec = config.campaigns[0]
            .deliverable(deliverable)
            .unwrap()
            .spec
            .as_ref()
            .unwrap();
        spec.sheets
            .iter()
            .flat_map(|s| &s.rows)
            .find(|r| r.id == id)
            .unwrap()
    }

    fn source(config: &Config, deliverable: &str, id: &str) -> String {
        match source_of(row(config, deliverable, id), &config.campaigns[0].agencies) {
            Source::Heading => "heading".into(),
            Source::Agency(a) => a.code.clone(),
            Source::Districts => "districts".into(),
            Source::Staff => "staff".into(),
        }
    }

    #[test]
    fn the_shipped_forms_take_the_province_figure_by_the_rules() {
        let c = config();
        let cases = [
            ("pl1", "kinh-te", "heading"),
            // A rate, whoever is asked: staff's.
            ("pl1", "grdp-tang", "staff"),
            ("pl1", "grdp-tang-thue", "staff"),
            // An average: never from the districts.
            ("pl1", "grdp-dau-nguoi", "cuc-thong-ke"),
            ("pl1", "bac-si", "so-y-te"),
            ("pl1", "nuoc-do-thi", "staff"),
            // Additive and reported by districts: their sum, even beside a department.
            ("pl1", "luong-thuc", "districts"),
            ("pl1", "thu-ns", "districts"),
            ("pl1", "viec-lam", "districts"),
            // Optional, additive: whichever districts sent it.
            ("pl1", "thu-ns-khac", "districts"),
            // Two departments, no district: nothing to take.
            ("pl1", "thu-ns-xnk", "staff"),
            ("pl1", "xuat-nhap-khau", "staff"),
            ("pl1", "bhyt", "staff"),
            ("pl1", "co-cau-ld-nlts", "staff"),
            ("pl3", "chi-dtpt", "districts"),
        ];
        for (d, id, want) in cases {
            assert_eq!(source(&c, d, id), want, "{d} {id}");
        }
    }

    #[test]
    fn a_rate_is_never_summed_even_when_flagged_additive() {
        let c = config();
        let mut rate = row(&c, "pl1", "ho-ngheo").clone();
        rate.additive = true;
        rate.who = crate::core::forms::spec::Who::Some {
            kinds: vec![AgencyKind::District],
            codes: vec![],
        };
        assert_eq!(source_of(&rate, &c.campaigns[0].agencies), Source::Staff);
        let mut amount = row(&c, "pl1", "luong-thuc").clone();
        amount.additive = false;
        // Not additive: the one department asked beside the districts.
        assert!(matches!(
            source_of(&amount, &c.campaigns[0].agencies),
            Source::Agency(a) if a.code == "so-nn-ptnt"
        ));
    }

    #[test]
    fn a_cell_says_whose_figure_it_holds_or_why_it_has_none() {
        let c = config();
        let campaign = &c.campaigns[0];
        let d = campaign.deliverable("pl1").unwrap();
        let spec = d.spec.as_ref().unwrap();
        let mut data = Consolidated::new();
        let mut put = |row: &str, agency: &str, number: Option<f64>, text: &str| {
            data.insert(
                (
                    "pl1".into(),
                    "pl1".into(),
                    row.into(),
                    "th2016".into(),
                    agency.into(),
                ),
                Value {
                    number,
                    text: text.into(),
                },
            );
        };
        put("luong-thuc", "ubnd-cao-loc", Some(0.1), "0,1");
        put("luong-thuc", "ubnd-loc-binh", Some(0.2), "0,2");
        put("luong-thuc", "ubnd-dinh-lap", None, "8 - 9");
        put("bac-si", "so-y-te", Some(9.5), "9,5");
        let form = Form {
            campaign,
            deliverable: "pl1",
            label: &d.label,
            spec,
            sheet: &spec.sheets[0],
            data: &data,
        };
        let at = |id: &str| cell(&form, row(&c, "pl1", id), "th2016");
        let Cell::Sum(sum) = at("luong-thuc") else {
            panic!("{:?}", at("luong-thuc"))
        };
        assert_eq!(sum.total, Some(0.3));
        assert_eq!(sum.summed.len(), 2);
        assert_eq!(sum.expected.len(), 11);
        assert_eq!(sum.not_numbers[0].code, "ubnd-dinh-lap");
        assert_eq!(sum.missing().count(), 9);
        assert!(
            matches!(at("bac-si"), Cell::Reported(a, v) if a.code == "so-y-te" && v.number == Some(9.5))
        );
        assert!(matches!(at("giuong-benh"), Cell::NotReported(a) if a.code == "so-y-te"));
        // A rate is staff's, even the one department asked beside the districts.
        assert_eq!(at("ho-ngheo"), Cell::Staff);
        assert_eq!(at("bhyt"), Cell::Staff);
        assert_eq!(at("kinh-te"), Cell::Heading);
    }
}
