//! # Validation: findings that point at cells
//!
//! Every value cell of a recognised workbook is read the Vietnamese way and checked: filled
//! where the agency must fill it, of the right type, within bounds; then the form's rules
//! (sums within the tolerance the reported decimals allow, deviations, equalities across
//! sheets). Each finding names the rule, its severity, the sheet's own cell in A1 notation,
//! the indicator and column, the value found and what was expected, in Vietnamese.
//! Rules follow DHIS2's "skip if any value is missing": a sum with a blank part is not
//! checked (the blank is reported by the required-value check instead).
//! An agency's own table may hold only its rows: a row (or a whole sheet) of the form it
//! need not fill may be absent, a row it must fill and absent is `thieu-chi-tieu`, named by
//! its label; a sum with a part absent is not checked.

use std::collections::HashMap;

use serde::Serialize;

use super::meaning::{self, Doubt, Meant};
use super::recognise::{RecognisedBy, Recognition};
use super::spec::{AgencyKind, RuleSetting};
use super::spec::{Check, ColumnSpec, RowSpec, Severity, Total};
use super::value::{self, Interpret, Problem, Value, ValueKind};
use crate::workbook::{Grid, a1};

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Rule id.
    pub rule: String,
    /// Error or warning.
    pub severity: Severity,
    /// The workbook's sheet name.
    pub sheet: String,
    /// The cell in A1 notation (the sheet's own row and column), when one is at fault.
    pub cell: Option<String>,
    /// Indicator (row id).
    pub indicator: Option<String>,
    /// Indicator label.
    pub label: Option<String>,
    /// Column id.
    pub column: Option<String>,
    /// The value found, as written.
    pub value: Option<String>,
    /// What was expected.
    pub expected: Option<String>,
    /// The message, in Vietnamese.
    pub message: String,
}

/// One understood value, for consolidation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Datum {
    /// Sheet id of the form.
    pub sheet: String,
    /// Row id.
    pub indicator: String,
    /// Column id.
    pub column: String,
    /// The value.
    pub value: Value,
    /// The cell's text as found.
    pub text: String,
    /// The cell.
    pub cell: String,
    /// The row's unit.
    pub unit: String,
}

/// Who the workbook is from, for the required-value checks.
#[derive(Debug, Clone, Copy)]
pub struct From<'a> {
    /// Agency code.
    pub code: &'a str,
    /// Its kind.
    pub kind: AgencyKind,
}

/// The result of validating one workbook.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Form id.
    pub form: String,
    /// Form version of the spec.
    pub form_version: u32,
    /// True when no finding is an error.
    pub valid: bool,
    /// Findings, in sheet and reading order.
    pub findings: Vec<Finding>,
    /// The values read.
    #[serde(skip)]
    pub data: Vec<Datum>,
}

struct Read<'a> {
    spec_sheet: &'a str,
    sheet_name: &'a str,
    row: &'a RowSpec,
    column: &'a ColumnSpec,
    cell: String,
    text: String,
    value: Option<Value>,
    /// The agency must fill this cell.
    must: bool,
}

/// Validates a recognised workbook for an agency (None: the agency is not known yet, so no
/// required-value checks).
pub fn validate(
    grid: &Grid,
    rec: &Recognition<'_>,
    from: Option<From<'_>>,
    settings: &HashMap<String, RuleSetting>,
) -> Report {
    let spec = rec.spec;
    let mut findings = Vec::new();
    let mut push = |f: Finding| {
        let setting = settings
            .get(&f.rule)
            .copied()
            .unwrap_or(RuleSetting::Default);
        match setting {
            RuleSetting::Off => {}
            RuleSetting::Warning => findings.push(Finding {
                severity: Severity::Warning,
                ..f
            }),
            RuleSetting::Error => findings.push(Finding {
                severity: Severity::Error,
                ..f
            }),
            RuleSetting::Default => findings.push(f),
        }
    };
    let first_sheet = grid
        .sheets
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    if rec.by == RecognisedBy::Marker
        && let Some(v) = rec.marker_version
        && v != spec.version
    {
        push(finding(
            "phien-ban-bieu-mau",
            Severity::Warning,
            &first_sheet,
            None,
            None,
            None,
            Some(v.to_string()),
            Some(spec.version.to_string()),
            &format!(
                "Biểu mẫu là phiên bản {v}, phiên bản hiện hành là {}: đề nghị dùng biểu mẫu mới nhất ở lần gửi sau.",
                spec.version
            ),
        ));
    }

    let mut reads: Vec<Read<'_>> = Vec::new();
    for (sheet, m) in spec.sheets.iter().zip(&rec.sheets) {
        let Some(gi) = m.grid_sheet else {
            // A sheet holding none of the agency's rows may be left out of its own table.
            if from.is_some_and(|f| {
                !sheet
                    .rows
                    .iter()
                    .any(|r| r.kind.is_some() && r.who.includes(f.code, f.kind))
            }) {
                continue;
            }
            push(finding(
                "thieu-bieu",
                Severity::Error,
                &sheet.name,
                None,
                None,
                None,
                None,
                Some(sheet.name.clone()),
                &format!(
                    "Không tìm thấy biểu \"{}\" trong tệp.",
                    sheet.title.as_deref().unwrap_or(&sheet.name)
                ),
            ));
            continue;
        };
        let sheet_name = grid.sheets[gi].name.as_str();
        for (ci, col) in sheet.columns.iter().enumerate() {
            if m.columns[ci].is_none() {
                push(finding(
                    "thieu-cot",
                    Severity::Error,
                    sheet_name,
                    None,
                    None,
                    Some(col.id.clone()),
                    None,
                    Some(col.label.clone()),
                    &format!("Không tìm thấy cột \"{}\" trong biểu.", col.label),
                ));
            }
        }
        for (ri, row) in sheet.rows.iter().enumerate() {
            let Some(kind) = row.kind else { continue };
            let must = from.is_some_and(|f| row.who.includes(f.code, f.kind));
            let Some(r) = m.rows[ri] else {
                if must {
                    push(finding(
                        "thieu-chi-tieu",
                        Severity::Error,
                        sheet_name,
                        None,
                        Some(row),
                        None,
                        None,
                        Some(format!("{} {}", row.code, row.label)),
                        &format!(
                            "Không tìm thấy dòng chỉ tiêu \"{}\" (mục {} của biểu mẫu) trong biểu: đơn vị phải báo cáo chỉ tiêu này, đề nghị bổ sung.",
                            row.label, row.code
                        ),
                    ));
                }
                continue;
            };
            for (ci, col) in sheet.columns.iter().enumerate() {
                let Some(c) = m.columns[ci] else { continue };
                let cell = a1(r, c);
                let Meant { raw, shown, doubt } = meaning::meant(grid.cell(gi, r, c), row);
                // A date where a number belongs has no number to take.
                let unusable = matches!(doubt, Some(Doubt::Date { .. }));
                if let Some(doubt) = doubt {
                    push(doubted(doubt, sheet_name, &cell, row, col, &shown));
                }
                let how = Interpret {
                    kind,
                    ranges_allowed: col.ranges,
                    not_applicable_allowed: !must,
                };
                let value = match value::interpret(&raw, &how) {
                    _ if unusable => None,
                    Ok((v, warning)) => {
                        if let Some(p) = warning {
                            push(problem(
                                p,
                                Severity::Warning,
                                sheet_name,
                                &cell,
                                row,
                                col,
                                &shown,
                            ));
                        }
                        Some(v)
                    }
                    // "1.200" people cannot be 1.2 people: a count takes the thousands reading.
                    Err(Problem::AmbiguousSeparator { as_thousands, .. })
                        if kind == ValueKind::Count =>
                    {
                        Some(Value::Number {
                            value: as_thousands,
                            decimals: 0,
                        })
                    }
                    Err(p @ Problem::AmbiguousSeparator { .. }) => {
                        push(problem(
                            p,
                            Severity::Warning,
                            sheet_name,
                            &cell,
                            row,
                            col,
                            &shown,
                        ));
                        None
                    }
                    Err(p) => {
                        push(problem(
                            p,
                            Severity::Error,
                            sheet_name,
                            &cell,
                            row,
                            col,
                            &shown,
                        ));
                        None
                    }
                };
                if must && matches!(value, Some(Value::Blank)) {
                    push(finding(
                        "bat-buoc",
                        Severity::Error,
                        sheet_name,
                        Some(&cell),
                        Some(row),
                        Some(col.id.clone()),
                        None,
                        Some("một giá trị".into()),
                        &format!("Chưa điền \"{}\" ({}).", row.label, col.label),
                    ));
                }
                if let Some(v) = &value {
                    bounds(v, row, kind, sheet_name, &cell, col, &shown, &mut push);
                }
                reads.push(Read {
                    spec_sheet: &sheet.id,
                    sheet_name,
                    row,
                    column: col,
                    cell,
                    text: shown,
                    value,
                    must,
                });
            }
        }
    }

    let get = |sheet: &str, row: &str, col: &str| {
        reads
            .iter()
            .find(|r| r.spec_sheet == sheet && r.row.id == row && r.column.id == col)
    };
    for rule in &spec.rules {
        let severity = rule.severity;
        let columns_of = |sheet: &str| -> Vec<String> {
            let all: Vec<String> = spec
                .sheet(sheet)
                .map(|s| s.columns.iter().map(|c| c.id.clone()).collect())
                .unwrap_or_default();
            if rule.columns.is_empty() {
                all
            } else {
                all.into_iter()
                    .filter(|c| rule.columns.contains(c))
                    .collect()
            }
        };
        match &rule.check {
            Check::Sum { total, parts } => {
                let sheet = &parts[0].sheet;
                for col in columns_of(sheet) {
                    // A blank part the agency need not fill counts as nothing — once some part of
                    // the group is filled; a blank it must fill is reported by `bat-buoc`, and
                    // the sum is not checked. A group left wholly blank is not checked either.
                    let filled = parts.iter().any(|p| {
                        get(&p.sheet, &p.row, &col)
                            .is_some_and(|r| number(r.value.as_ref()).is_some())
                    });
                    if !filled {
                        continue;
                    }
                    let values: Option<Vec<(f64, u32)>> = parts
                        .iter()
                        .map(|p| {
                            let r = get(&p.sheet, &p.row, &col)?;
                            match &r.value {
                                Some(Value::Blank | Value::NotApplicable) if !r.must => {
                                    Some((0.0, 0))
                                }
                                v => number(v.as_ref()),
                            }
                        })
                        .collect();
                    let Some(values) = values else { continue };
                    let sum: f64 = values.iter().map(|v| v.0).sum();
                    let mut tolerance: f64 = values.iter().map(|v| half_unit(v.1)).sum();
                    let (expected, at) = match total {
                        Total::Value(v) => (*v, get(&parts[0].sheet, &parts[0].row, &col)),
                        Total::Row(t) => {
                            let Some(read) = get(&t.sheet, &t.row, &col) else {
                                continue;
                            };
                            let Some((v, d)) = number(read.value.as_ref()) else {
                                continue;
                            };
                            tolerance += half_unit(d);
                            (v, Some(read))
                        }
                    };
                    if (sum - expected).abs() > tolerance + 1e-9 {
                        let at = at.expect("a located part or total");
                        push(Finding {
                            rule: rule.id.clone(),
                            severity,
                            sheet: at.sheet_name.into(),
                            cell: Some(at.cell.clone()),
                            indicator: Some(at.row.id.clone()),
                            label: Some(at.row.label.clone()),
                            column: Some(col.clone()),
                            value: Some(format!("{}", round(sum))),
                            expected: Some(format!("{} (± {})", round(expected), round(tolerance))),
                            message: format!(
                                "{} (cột {}: tổng là {}, cần {}).",
                                rule.message.trim_end_matches('.'),
                                at.column.label,
                                vi(round(sum)),
                                vi(round(expected))
                            ),
                        });
                    }
                }
            }
            Check::Deviation {
                rows,
                value,
                reference,
                max_share,
            } => {
                let targets: Vec<&Read<'_>> = reads
                    .iter()
                    .filter(|r| {
                        r.column.id == *value
                            && (rows.is_empty()
                                || rows
                                    .iter()
                                    .any(|x| x.sheet == r.spec_sheet && x.row == r.row.id))
                    })
                    .collect();
                for r in targets {
                    let Some((v, _)) = number(r.value.as_ref()) else {
                        continue;
                    };
                    let Some(reference_read) = get(r.spec_sheet, &r.row.id, reference) else {
                        continue;
                    };
                    let Some((lo, hi)) = span(reference_read.value.as_ref()) else {
                        continue;
                    };
                    let nearest = if v < lo {
                        lo
                    } else if v > hi {
                        hi
                    } else {
                        continue;
                    };
                    if nearest.abs() < 1e-9 || ((v - nearest) / nearest).abs() <= *max_share {
                        continue;
                    }
                    push(Finding {
                        rule: rule.id.clone(),
                        severity,
                        sheet: r.sheet_name.into(),
                        cell: Some(r.cell.clone()),
                        indicator: Some(r.row.id.clone()),
                        label: Some(r.row.label.clone()),
                        column: Some(value.clone()),
                        value: Some(r.text.clone()),
                        expected: Some(format!(
                            "trong khoảng ±{:.0}% của {}",
                            max_share * 100.0,
                            reference_read.text
                        )),
                        message: format!(
                            "{} (\"{}\": {} so với {}).",
                            rule.message.trim_end_matches('.'),
                            r.row.label,
                            r.text,
                            reference_read.text
                        ),
                    });
                }
            }
            Check::Equal { left, right } => {
                for col in columns_of(&left.sheet) {
                    let (Some(l), Some(rr)) = (
                        get(&left.sheet, &left.row, &col),
                        get(&right.sheet, &right.row, &col),
                    ) else {
                        continue;
                    };
                    let (Some((a, da)), Some((b, db))) =
                        (number(l.value.as_ref()), number(rr.value.as_ref()))
                    else {
                        continue;
                    };
                    if !value::within_tolerance(a, da, b, db) {
                        push(Finding {
                            rule: rule.id.clone(),
                            severity,
                            sheet: l.sheet_name.into(),
                            cell: Some(l.cell.clone()),
                            indicator: Some(l.row.id.clone()),
                            label: Some(l.row.label.clone()),
                            column: Some(col.clone()),
                            value: Some(l.text.clone()),
                            expected: Some(format!(
                                "{} (ô {}!{})",
                                rr.text, rr.sheet_name, rr.cell
                            )),
                            message: format!(
                                "{} ({}!{} là {}, {}!{} là {}).",
                                rule.message.trim_end_matches('.'),
                                l.sheet_name,
                                l.cell,
                                l.text,
                                rr.sheet_name,
                                rr.cell,
                                rr.text
                            ),
                        });
                    }
                }
            }
        }
    }

    let data = reads
        .into_iter()
        .filter_map(|r| match r.value {
            Some(
                v @ (Value::Number { .. }
                | Value::Range { .. }
                | Value::AtLeast { .. }
                | Value::AtMost { .. }
                | Value::Text(_)),
            ) => Some(Datum {
                sheet: r.spec_sheet.into(),
                indicator: r.row.id.clone(),
                column: r.column.id.clone(),
                value: v,
                text: r.text,
                cell: r.cell,
                unit: r.row.unit.clone(),
            }),
            _ => None,
        })
        .collect();
    let valid = !findings.iter().any(|f| f.severity == Severity::Error);
    Report {
        form: spec.id.clone(),
        form_version: spec.version,
        valid,
        findings,
        data,
    }
}

/// A spec without a matching workbook sheet or cell: the findings for "not this form".
pub fn unrecognised(sheet: &str, candidates: &[(String, f64)]) -> Finding {
    let message = if candidates.is_empty() {
        "Không nhận ra biểu mẫu: đề nghị dùng biểu mẫu kèm theo công văn.".to_string()
    } else {
        format!(
            "Tệp giống nhiều biểu mẫu ({}): cán bộ của Sở sẽ xác định.",
            candidates
                .iter()
                .map(|(id, c)| format!("{id} {:.0}%", c * 100.0))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let rule = if candidates.is_empty() {
        "khong-nhan-ra-bieu-mau"
    } else {
        "bieu-mau-chua-ro"
    };
    finding(
        rule,
        Severity::Error,
        sheet,
        None,
        None,
        None,
        None,
        None,
        &message,
    )
}

#[allow(clippy::too_many_arguments)] // the fields of a finding, each optional
fn finding(
    rule: &str,
    severity: Severity,
    sheet: &str,
    cell: Option<&str>,
    row: Option<&RowSpec>,
    column: Option<String>,
    value: Option<String>,
    expected: Option<String>,
    message: &str,
) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        sheet: sheet.into(),
        cell: cell.map(str::to_string),
        indicator: row.map(|r| r.id.clone()),
        label: row.map(|r| r.label.clone()),
        column,
        value,
        expected,
        message: message.into(),
    }
}

fn problem(
    p: Problem,
    severity: Severity,
    sheet: &str,
    cell: &str,
    row: &RowSpec,
    col: &ColumnSpec,
    shown: &str,
) -> Finding {
    let (rule, expected, message) = match &p {
        Problem::NotANumber(t) => (
            "kieu-so",
            "một số",
            format!(
                "\"{}\" ({}) phải là số, ô có \"{t}\".",
                row.label, col.label
            ),
        ),
        Problem::AmbiguousSeparator {
            text,
            as_thousands,
            as_decimal,
        } => (
            "dau-phan-cach",
            "số viết rõ ràng",
            format!(
                "\"{text}\" có thể là {} hoặc {}: đề nghị nhập số (không để dạng chữ) hoặc viết rõ phần thập phân bằng dấu phẩy.",
                vi(*as_thousands),
                vi(*as_decimal)
            ),
        ),
        Problem::RangeNotAllowed(t) => (
            "khoang-gia-tri",
            "một số",
            format!(
                "Cột {} cần một số cụ thể, không ghi khoảng \"{t}\".",
                col.label
            ),
        ),
        Problem::FormulaWithoutValue(f) => (
            "cong-thuc-chua-tinh",
            "giá trị đã tính",
            format!(
                "Ô có công thức ={f} nhưng chưa có giá trị: đề nghị mở tệp bằng Excel, tính lại và lưu."
            ),
        ),
        Problem::ErrorValue(e) => (
            "loi-cong-thuc",
            "một số",
            format!("Ô báo lỗi {e}: đề nghị sửa công thức."),
        ),
    };
    Finding {
        rule: rule.into(),
        severity,
        sheet: sheet.into(),
        cell: Some(cell.into()),
        indicator: Some(row.id.clone()),
        label: Some(row.label.clone()),
        column: Some(col.id.clone()),
        value: Some(shown.into()),
        expected: Some(expected.into()),
        message,
    }
}

/// The finding for a cell whose meaning stays in doubt ([`meaning`]).
fn doubted(
    doubt: Doubt,
    sheet: &str,
    cell: &str,
    row: &RowSpec,
    col: &ColumnSpec,
    shown: &str,
) -> Finding {
    let (rule, severity, expected, message) = match doubt {
        Doubt::Fraction { written } => (
            "ty-le-hay-phan-so",
            Severity::Warning,
            "số phần trăm".to_string(),
            format!(
                "Tỷ lệ \"{}\" ({}) ghi {} mà ô không định dạng phần trăm: đã hiểu là {}%. Nếu ý là {}% xin ghi {} (hoặc định dạng ô là %).",
                row.label,
                col.label,
                vi(written),
                vi(written),
                vi(written * 100.0),
                vi(written * 100.0)
            ),
        ),
        Doubt::PercentElsewhere { unit } => (
            "phan-tram-sai-dong",
            Severity::Warning,
            format!("số theo đơn vị {unit}"),
            format!(
                "\"{}\" ({}) tính bằng {unit} nhưng ô định dạng phần trăm và hiện {shown}: đã lấy số {}. Đề nghị kiểm tra.",
                row.label,
                col.label,
                shown.trim_end_matches('%')
            ),
        ),
        Doubt::Scaled { stored, thousands } => (
            "dinh-dang-chia-nghin",
            Severity::Warning,
            "số như hiển thị".to_string(),
            format!(
                "\"{}\" ({}): ô lưu {} nhưng định dạng hiển thị chia cho {}, hiện {shown}: đã lấy số hiển thị {shown} ({}). Đề nghị kiểm tra đơn vị.",
                row.label,
                col.label,
                vi(stored),
                vi(1000f64.powi(i32::from(thousands))),
                row.unit
            ),
        ),
        Doubt::Date { date } => (
            "ngay-thay-so",
            Severity::Error,
            "một số".to_string(),
            format!(
                "\"{}\" ({}) phải là số nhưng ô là ngày {date}: Excel có thể đã đổi số gõ vào thành ngày. Đề nghị định dạng ô là số (Number) rồi nhập lại.",
                row.label, col.label
            ),
        ),
    };
    Finding {
        rule: rule.into(),
        severity,
        sheet: sheet.into(),
        cell: Some(cell.into()),
        indicator: Some(row.id.clone()),
        label: Some(row.label.clone()),
        column: Some(col.id.clone()),
        value: Some(shown.into()),
        expected: Some(expected),
        message,
    }
}

#[allow(clippy::too_many_arguments)] // a bounds check needs the cell's whole context
fn bounds(
    v: &Value,
    row: &RowSpec,
    kind: ValueKind,
    sheet: &str,
    cell: &str,
    col: &ColumnSpec,
    shown: &str,
    push: &mut impl FnMut(Finding),
) {
    let Some((lo, hi)) = span(Some(v)) else {
        return;
    };
    let at = |rule: &str, severity: Severity, expected: &str, message: String| Finding {
        rule: rule.into(),
        severity,
        sheet: sheet.into(),
        cell: Some(cell.into()),
        indicator: Some(row.id.clone()),
        label: Some(row.label.clone()),
        column: Some(col.id.clone()),
        value: Some(shown.into()),
        expected: Some(expected.into()),
        message,
    };
    if kind == ValueKind::Percent && row.growth {
        if below(lo, -50.0) || above(hi, 100.0) {
            push(at(
                "tang-truong-bat-thuong",
                Severity::Warning,
                "từ -50 đến 100",
                format!(
                    "Tốc độ tăng \"{}\" ({}) là {shown}%, bất thường: đề nghị kiểm tra.",
                    row.label, col.label
                ),
            ));
        }
    } else if kind == ValueKind::Percent {
        if below(lo, 0.0) || above(hi, 100.0) {
            push(at(
                "ty-le-0-100",
                Severity::Error,
                "từ 0 đến 100",
                format!(
                    "Tỷ lệ \"{}\" ({}) phải từ 0 đến 100, ô có {shown}.",
                    row.label, col.label
                ),
            ));
        }
    } else if matches!(kind, ValueKind::Count | ValueKind::Amount) && below(lo, 0.0) {
        push(at(
            "so-am",
            Severity::Error,
            "không âm",
            format!(
                "\"{}\" ({}) không thể âm, ô có {shown}.",
                row.label, col.label
            ),
        ));
    }
    if kind == ValueKind::Count
        && matches!(v, Value::Number { value, .. } if value.fract().abs() > 1e-9)
    {
        push(at(
            "so-nguyen",
            Severity::Warning,
            "số nguyên",
            format!("\"{}\" ({}) là số đếm, ô có {shown}.", row.label, col.label),
        ));
    }
    if let Some((blo, bhi)) = row.bounds
        && (below(lo, blo) || above(hi, bhi))
    {
        push(at(
            "ngoai-khoang",
            Severity::Warning,
            &format!("từ {blo} đến {bhi}"),
            format!(
                "\"{}\" ({}) là {shown}, ngoài khoảng thường gặp {blo} - {bhi}: đề nghị kiểm tra.",
                row.label, col.label
            ),
        ));
    }
}

/// A single number and its decimals.
fn number(v: Option<&Value>) -> Option<(f64, u32)> {
    match v {
        Some(Value::Number { value, decimals }) => Some((*value, *decimals)),
        _ => None,
    }
}

/// The interval a value stands for.
fn span(v: Option<&Value>) -> Option<(f64, f64)> {
    match v? {
        Value::Number { value, .. } => Some((*value, *value)),
        Value::Range { low, high, .. } => Some((*low, *high)),
        Value::AtLeast { value, .. } => Some((*value, f64::INFINITY)),
        Value::AtMost { value, .. } => Some((f64::NEG_INFINITY, *value)),
        _ => None,
    }
}

/// A finite lower end under `x` ("từ 8% trở lên" has no upper end to be over anything).
fn below(lo: f64, x: f64) -> bool {
    lo.is_finite() && lo < x
}

/// A finite upper end over `x`.
fn above(hi: f64, x: f64) -> bool {
    hi.is_finite() && hi > x
}

fn half_unit(decimals: u32) -> f64 {
    0.5 * 10f64.powi(-(decimals as i32))
}

fn round(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// A number written the Vietnamese way: "1.644,1" ([`crate::core::words::number`]).
pub fn vi(v: f64) -> String {
    crate::core::words::number(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_shown_the_vietnamese_way() {
        assert_eq!(vi(1644.1), "1.644,1");
        assert_eq!(vi(99.99), "99,99");
        assert_eq!(vi(-1234567.0), "-1.234.567");
        assert_eq!(vi(100.0), "100");
    }
}
