//! # Detail sheets: one form column, indicators × agencies
//!
//! What each agency reported in one column of a form sheet, districts first (their total sits
//! beside them), then the provincial agencies in roster order. An additive row gets the
//! districts' total with its coverage in the next cell; any other row says why it has none.

use rust_xlsxwriter::{Color, FormatAlign, FormatBorder, Worksheet, XlsxError};

use super::{
    About, Form, Value, district_sum, number_format, print_setup, row_height, sums_up, wording,
};
use crate::config::{Agency, AgencyKind};
use crate::core::forms::blank::{HEADING_ROW_FILL, base, cell};
use crate::core::forms::spec::{ColumnSpec, ValueKind};

/// The row of the column headers.
pub const HEADER_ROW: u32 = 3;

/// The column of the districts' total; its coverage is in the next one.
pub const TOTAL_COL: u16 = 3;

/// The first agency's column.
pub const FIRST_AGENCY_COL: u16 = 5;

/// Characters a line holds in the label column (width 45) and an agency's header (width 12,
/// bold).
const LABEL_CHARS: f64 = 50.0;
const AGENCY_CHARS: f64 = 12.0;

/// Fill of the districts' total (light green).
const TOTAL_FILL: u32 = 0xE2EFDA;

/// Writes the detail sheet of `column`.
pub(super) fn write(
    ws: &mut Worksheet,
    form: &Form,
    column: &ColumnSpec,
    about: &About,
) -> Result<(), XlsxError> {
    let campaign = form.campaign;
    let title = format!("{} — {} — {}", form.label, form.title(), column.label);
    // Only the agencies the sheet asks for a row, or that reported on it, so that the
    // page stays readable: Appendix I asks 26 of the 38.
    let concerned = |a: &Agency| {
        form.sheet.rows.iter().any(|row| {
            row.kind.is_some()
                && (row.who.includes(&a.code, a.kind)
                    || form.value(&row.id, &column.id, &a.code).is_some())
        })
    };
    let agencies: Vec<&Agency> = campaign
        .agencies
        .iter()
        .filter(|a| a.kind == AgencyKind::District)
        .chain(
            campaign
                .agencies
                .iter()
                .filter(|a| a.kind != AgencyKind::District),
        )
        .filter(|a| concerned(a))
        .collect();

    let header = base()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let text = cell(None)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter);
    let centred = cell(None)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let note = centred.clone().set_italic().set_text_wrap();
    let heading = text.clone().set_bold();

    ws.write_string_with_format(0, 0, &title, &base().set_bold())?;
    ws.write_string_with_format(
        1,
        0,
        format!(
            "Công văn số {}: số liệu từ lần nộp hợp lệ gần nhất của mỗi đơn vị, đến {}. \
             Tổng các huyện, thành phố chỉ cộng các huyện, thành phố đã có số liệu; \
             cột bên cạnh cho biết bao nhiêu.",
            campaign.dispatch,
            wording::date_time(about.as_of)
        ),
        &base().set_italic(),
    )?;
    let sheet = form.sheet;
    let mut headers = vec![
        sheet.code_header.as_str(),
        sheet.label_header.as_str(),
        sheet.unit_header.as_str(),
        "Tổng các huyện, thành phố",
        "Số huyện, thành phố trong tổng",
    ];
    headers.extend(agencies.iter().map(|a| a.name.as_str()));
    for (col, h) in (0u16..).zip(&headers) {
        ws.write_string_with_format(HEADER_ROW, col, *h, &header)?;
    }
    let widest = agencies
        .iter()
        .map(|a| (a.name.as_str(), AGENCY_CHARS))
        .chain([("Số huyện, thành phố trong tổng", 14.0)]);
    ws.set_row_height(HEADER_ROW, row_height(widest).unwrap_or(33.0))?;
    ws.set_column_width(0, 6)?;
    ws.set_column_width(1, 45)?;
    ws.set_column_width(2, 11)?;
    ws.set_column_width(TOTAL_COL, 13)?;
    ws.set_column_width(TOTAL_COL + 1, 22)?;
    for j in 0..agencies.len() {
        ws.set_column_width(FIRST_AGENCY_COL + j as u16, 12)?;
    }
    ws.set_freeze_panes(HEADER_ROW + 1, FIRST_AGENCY_COL)?;
    print_setup(ws, (HEADER_ROW, HEADER_ROW), &title)?;

    for (i, row) in sheet.rows.iter().enumerate() {
        let r = HEADER_ROW + 1 + i as u32;
        let is_heading = row.kind.is_none();
        if let Some(h) = row_height([(row.label.as_str(), LABEL_CHARS)]) {
            ws.set_row_height(r, h)?;
        }
        ws.write_string_with_format(r, 0, &row.code, &centred)?;
        ws.write_string_with_format(r, 1, &row.label, if is_heading { &heading } else { &text })?;
        ws.write_string_with_format(r, 2, &row.unit, &centred)?;
        if is_heading {
            for c in TOTAL_COL..FIRST_AGENCY_COL + agencies.len() as u16 {
                ws.write_blank(r, c, &cell(Some(HEADING_ROW_FILL)))?;
            }
            continue;
        }
        let value_format = cell(None).set_num_format(number_format(row.kind));
        for (j, a) in agencies.iter().enumerate() {
            let c = FIRST_AGENCY_COL + j as u16;
            match form.value(&row.id, &column.id, &a.code) {
                Some(Value {
                    number: Some(n), ..
                }) => ws.write_number_with_format(r, c, *n, &value_format)?,
                Some(v) => ws.write_string_with_format(r, c, &v.text, &text)?,
                None => ws.write_blank(r, c, &value_format)?,
            };
        }
        let sum = district_sum(row, &campaign.agencies, |code| {
            form.value(&row.id, &column.id, code)
        });
        if !sums_up(row) {
            ws.write_blank(r, TOTAL_COL, &value_format)?;
            let why = if row.kind == Some(ValueKind::Percent) {
                "tỷ lệ, không cộng"
            } else {
                "không cộng được"
            };
            ws.write_string_with_format(r, TOTAL_COL + 1, why, &note)?;
        } else if sum.expected.is_empty() {
            ws.write_blank(r, TOTAL_COL, &value_format)?;
            ws.write_string_with_format(r, TOTAL_COL + 1, "huyện, thành phố không báo cáo", &note)?;
        } else {
            let total_format = value_format
                .clone()
                .set_bold()
                .set_background_color(Color::RGB(TOTAL_FILL));
            match sum.total {
                Some(t) => ws.write_number_with_format(r, TOTAL_COL, t, &total_format)?,
                None => ws.write_blank(r, TOTAL_COL, &total_format)?,
            };
            let mut said = wording::coverage(sum.summed.len(), sum.expected.len());
            if !sum.not_numbers.is_empty() {
                said.push_str(&format!(
                    " ({} ghi khoảng hoặc chữ, không cộng)",
                    sum.not_numbers.len()
                ));
            }
            let format = if sum.summed.len() < sum.expected.len() {
                note.clone().set_font_color(Color::RGB(0xC00000))
            } else {
                note.clone()
            };
            ws.write_string_with_format(r, TOTAL_COL + 1, said, &format)?;
        }
    }
    Ok(())
}
