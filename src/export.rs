//! # Exports for the report to the Provincial People's Committee
//!
//! Staff copy numbers from these workbooks into their own: the consolidated data of a
//! campaign (per form and column, indicators × agencies, with the districts' total where an
//! indicator is additive — never for rates) and the status table. Values come from each
//! agency's latest accepted version.

use std::collections::HashMap;

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use crate::config::{AgencyKind, Campaign};
use crate::store::query::Status;
use crate::store::{Store, StoreError};

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

/// Writes the consolidated workbook: one sheet per form sheet and column.
pub fn consolidated_xlsx(campaign: &Campaign, data: &Consolidated) -> Result<Vec<u8>, ExportError> {
    let mut wb = Workbook::new();
    let bold = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Center);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let total = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color(0xE2EFDA);
    let districts: Vec<&str> = campaign
        .agencies
        .iter()
        .filter(|a| a.kind == AgencyKind::District)
        .map(|a| a.code.as_str())
        .collect();
    let mut names = std::collections::HashSet::new();
    for d in &campaign.deliverables {
        let Some(spec) = &d.spec else { continue };
        for sheet in &spec.sheets {
            for col in &sheet.columns {
                let mut name: String = format!(
                    "{} {} {}",
                    d.label.replace("Phụ lục", "PL"),
                    if spec.sheets.len() > 1 {
                        sheet.name.as_str()
                    } else {
                        ""
                    },
                    col.label
                )
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .filter(|c| !"[]:*?/\\".contains(*c))
                .take(31)
                .collect();
                while !names.insert(name.clone()) {
                    name = format!("{}~", name.chars().take(30).collect::<String>());
                }
                let ws = wb.add_worksheet();
                ws.set_name(&name)?;
                ws.write_string(
                    0,
                    0,
                    format!(
                        "{} — {} — {}",
                        d.label,
                        sheet.title.as_deref().unwrap_or(&sheet.name),
                        col.label
                    ),
                )?;
                ws.write_string(
                    1,
                    0,
                    format!(
                        "Công văn {}: số liệu từ lần nộp hợp lệ gần nhất của mỗi đơn vị",
                        campaign.dispatch
                    ),
                )?;
                let head = 3;
                ws.write_string_with_format(head, 0, "STT", &bold)?;
                ws.write_string_with_format(head, 1, "Chỉ tiêu", &bold)?;
                ws.write_string_with_format(head, 2, "Đơn vị tính", &bold)?;
                ws.write_string_with_format(head, 3, "Tổng các huyện, thành phố", &bold)?;
                for (j, a) in campaign.agencies.iter().enumerate() {
                    ws.write_string_with_format(head, 4 + j as u16, &a.name, &bold)?;
                }
                ws.set_column_width(1, 50)?;
                ws.set_row_height(head, 60)?;
                ws.set_freeze_panes(head + 1, 4)?;
                for (i, row) in sheet.rows.iter().enumerate() {
                    let r = head + 1 + i as u32;
                    ws.write_string_with_format(r, 0, &row.code, &cell)?;
                    ws.write_string_with_format(r, 1, &row.label, &cell)?;
                    ws.write_string_with_format(r, 2, &row.unit, &cell)?;
                    if row.kind.is_none() {
                        continue;
                    }
                    let key = |agency: &str| {
                        (
                            d.id.clone(),
                            sheet.id.clone(),
                            row.id.clone(),
                            col.id.clone(),
                            agency.to_string(),
                        )
                    };
                    for (j, a) in campaign.agencies.iter().enumerate() {
                        if let Some(v) = data.get(&key(&a.code)) {
                            match v.number {
                                Some(n) => {
                                    ws.write_number_with_format(r, 4 + j as u16, n, &cell)?
                                }
                                None => {
                                    ws.write_string_with_format(r, 4 + j as u16, &v.text, &cell)?
                                }
                            };
                        }
                    }
                    // Rates never add up; amounts and counts of the districts do.
                    if row.additive {
                        let values: Vec<f64> = districts
                            .iter()
                            .filter_map(|c| data.get(&key(c)).and_then(|v| v.number))
                            .collect();
                        if !values.is_empty() {
                            ws.write_number_with_format(
                                r,
                                3,
                                (values.iter().sum::<f64>() * 1e6).round() / 1e6,
                                &total,
                            )?;
                        }
                    }
                }
            }
        }
    }
    if names.is_empty() {
        wb.add_worksheet()
            .write_string(0, 0, "Đợt báo cáo này không có biểu mẫu số liệu.")?;
    }
    Ok(wb.save_to_buffer()?)
}

/// Writes the status table: agencies × deliverables with state, version and time.
pub fn status_xlsx(status: &Status, tz: chrono_tz::Tz) -> Result<Vec<u8>, ExportError> {
    let mut wb = Workbook::new();
    let bold = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let cell = Format::new().set_border(FormatBorder::Thin);
    for c in &status.campaigns {
        let ws = wb.add_worksheet();
        ws.set_name(
            format!("CV {}", c.dispatch)
                .chars()
                .map(|c| if "[]:*?/\\".contains(c) { '-' } else { c })
                .take(31)
                .collect::<String>(),
        )?;
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
                crate::words::Rate::ALL
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
        for (i, a) in c.agencies.iter().enumerate() {
            let r = head + 1 + i as u32;
            ws.write_number_with_format(r, 0, (i + 1) as f64, &cell)?;
            ws.write_string_with_format(r, 1, &a.name, &cell)?;
            for (j, d) in a.deliverables.iter().enumerate() {
                let col = 2 + 3 * j as u16;
                let mut state = crate::words::state_with_warnings(&d.state, d.warnings);
                if d.late == Some(true) {
                    state.push_str(&format!(" ({})", crate::words::lateness(true)));
                }
                ws.write_string_with_format(r, col, state, &cell)?;
                match d.version {
                    Some(v) => ws.write_number_with_format(r, col + 1, v as f64, &cell)?,
                    None => ws.write_blank(r, col + 1, &cell)?,
                };
                let at = d
                    .received_at
                    .as_deref()
                    .map(|t| crate::words::when_text(t, tz))
                    .unwrap_or_default();
                ws.write_string_with_format(r, col + 2, at, &cell)?;
            }
        }
    }
    Ok(wb.save_to_buffer()?)
}
