//! # Receipts
//!
//! What an agency reads back within seconds of sending: what arrived, under which deliverable
//! and version, whether each file could be read, whether it was on time, and what is still
//! missing. Rendered here as plain Vietnamese text from values; the outbox sends it.

use chrono::{DateTime, FixedOffset};

use crate::config::{Agency, Campaign, Department};
use crate::pipeline::Outcome;

/// One file as the receipt lists it.
#[derive(Debug, Clone)]
pub struct ReceiptFile {
    /// The file's name.
    pub name: String,
    /// `workbook` or `document`.
    pub kind: &'static str,
    /// The deliverable's label and name, when told.
    pub deliverable: Option<(String, String)>,
    /// The version it was filed as; None when its content was already filed.
    pub version: Option<u32>,
    /// `ok`, `empty`, `unreadable`, `encrypted`.
    pub check: &'static str,
    /// The form check of a workbook: (valid, errors, warnings), when its form is specified.
    pub validation: Option<(bool, usize, usize)>,
    /// The main findings, worded for the sender ("Ô G40 (PL1): …"), errors first.
    pub findings: Vec<String>,
    /// Whether the copy with the findings marked is attached.
    pub annotated: bool,
}

/// Findings listed per file in a receipt; the rest are in the attached copy.
const FINDINGS_SHOWN: usize = 10;

/// Everything a receipt says.
#[derive(Debug, Clone)]
pub struct ReceiptInput<'a> {
    /// The number staff can look the message up by.
    pub number: String,
    /// Who we are.
    pub department: &'a Department,
    /// The campaign, when one applies.
    pub campaign: Option<&'a Campaign>,
    /// The agency (sure, or probable).
    pub agency: Option<&'a Agency>,
    /// The message's subject.
    pub subject: &'a str,
    /// When it arrived, in the department's time zone.
    pub arrived: DateTime<FixedOffset>,
    /// The outcome.
    pub outcome: Outcome,
    /// Files found.
    pub files: Vec<ReceiptFile>,
    /// Arrived after the deadline.
    pub late: Option<bool>,
    /// Deliverables that still have no usable workbook, after this message.
    pub missing: Vec<String>,
    /// Extra detail (e.g. the size limit).
    pub detail: Option<String>,
    /// The agency's extended deadline, when staff granted one.
    pub extension: Option<DateTime<FixedOffset>>,
}

/// A rendered receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Renders a receipt.
pub fn render(r: &ReceiptInput<'_>) -> Rendered {
    let dispatch = r
        .campaign
        .map(|c| format!("CV {} ", c.dispatch))
        .unwrap_or_default();
    let subject = format!(
        "Biên nhận {dispatch}[{}] - Re: {}",
        r.number,
        one_line(r.subject)
    );
    let mut b = String::new();
    let to = r
        .agency
        .map(|a| a.name.as_str())
        .unwrap_or("Quý cơ quan, đơn vị");
    b.push_str(&format!("Kính gửi: {to}.\n\n"));
    b.push_str(&format!(
        "{} đã nhận thư \"{}\" lúc {}.\n",
        r.department.name,
        one_line(r.subject),
        r.arrived.format("%H:%M ngày %d/%m/%Y")
    ));
    if let Some(c) = r.campaign {
        let date = c
            .dispatch_date
            .map(|d| format!(" ngày {}", d.format("%d/%m/%Y")))
            .unwrap_or_default();
        b.push_str(&format!(
            "Thư được tiếp nhận theo Công văn số {}{} ({}).\n",
            c.dispatch, date, c.title
        ));
    }
    b.push('\n');
    match r.outcome {
        Outcome::ProbableAgency => {
            b.push_str("Thư được gửi từ một địa chỉ không có trong danh sách đơn vị báo cáo. ");
            if let Some(a) = r.agency {
                b.push_str(&format!("Hệ thống cho rằng thư là của {}; ", a.name));
            }
            b.push_str(
                "cán bộ của Sở sẽ xác nhận đơn vị gửi trước khi ghi nhận các tệp dưới đây. ",
            );
            b.push_str("Lần sau, đề nghị gửi từ địa chỉ thư điện tử công vụ của đơn vị.\n\n");
        }
        Outcome::NoWorkbook => {
            b.push_str(
                "Thư không có tệp báo cáo (Word, PDF) hay biểu số liệu (Excel, ODS) đính kèm. ",
            );
            if let Some(d) = &r.detail {
                b.push_str(&format!("Các phần đính kèm không đọc được: {d}. "));
            }
            b.push_str(
                "Nếu quý cơ quan muốn nộp báo cáo, đề nghị gửi lại thư có đính kèm tệp.\n\n",
            );
        }
        Outcome::TooLarge => {
            b.push_str("Thư vượt quá dung lượng cho phép nên chưa được xử lý");
            if let Some(d) = &r.detail {
                b.push_str(&format!(" ({d})"));
            }
            b.push_str(". Đề nghị nén tệp (zip) hoặc gửi thành nhiều thư.\n\n");
        }
        _ => {}
    }
    if !r.files.is_empty() {
        b.push_str("Các tệp đã nhận:\n");
        for (i, f) in r.files.iter().enumerate() {
            let what = match &f.deliverable {
                Some((label, name)) => format!("{label} - {name}"),
                None => "chưa xác định được thuộc báo cáo nào, cán bộ của Sở sẽ kiểm tra".into(),
            };
            let version = match (f.version, r.outcome) {
                (Some(v), _) => format!(", lần nộp thứ {v}"),
                (None, Outcome::Filed) if f.deliverable.is_some() => {
                    ", đã nhận trước đây (trùng nội dung)".into()
                }
                _ => String::new(),
            };
            let status = match (f.check, f.validation) {
                ("ok", Some((true, _, 0))) => "Đã kiểm tra số liệu: hợp lệ.".to_string(),
                ("ok", Some((true, _, w))) => {
                    format!("Đã kiểm tra số liệu: hợp lệ, có {w} cảnh báo đề nghị xem lại.")
                }
                ("ok", Some((false, e, w))) => format!(
                    "Đã kiểm tra số liệu: KHÔNG HỢP LỆ — {e} lỗi, {w} cảnh báo. Đề nghị sửa và gửi lại."
                ),
                (check, _) => check_text(f.kind, check).to_string(),
            };
            b.push_str(&format!(
                "  {}. {} — {what}{version}.\n     {status}\n",
                i + 1,
                f.name
            ));
            for line in f.findings.iter().take(FINDINGS_SHOWN) {
                b.push_str(&format!("       • {line}\n"));
            }
            if f.findings.len() > FINDINGS_SHOWN {
                b.push_str(&format!(
                    "       • … và {} nội dung khác.\n",
                    f.findings.len() - FINDINGS_SHOWN
                ));
            }
            if f.annotated {
                b.push_str("     Tệp đính kèm \"Ket-qua-kiem-tra\" đánh dấu các ô cần sửa (đỏ: lỗi, vàng: cảnh báo).\n");
            }
        }
        b.push('\n');
    }
    if let (Some(c), Some(late)) = (r.campaign, r.late) {
        let (deadline, text) = match r.extension {
            Some(until) => (
                until,
                format!(
                    "{} (đơn vị được gia hạn đến {})",
                    c.deadline_text,
                    until.format("%H:%M ngày %d/%m/%Y")
                ),
            ),
            None => (c.deadline, c.deadline_text.clone()),
        };
        if late {
            b.push_str(&format!(
                "Thời hạn nộp: {text}. Thư đến SAU thời hạn ({}).\n",
                overdue(deadline, r.arrived)
            ));
        } else {
            b.push_str(&format!("Thời hạn nộp: {text}. Thư đến đúng hạn.\n"));
        }
    }
    if let Some(c) = r.campaign
        && matches!(r.outcome, Outcome::Filed | Outcome::NoWorkbook)
    {
        if r.missing.is_empty() {
            b.push_str("Đơn vị đã nộp đủ các báo cáo của đợt này.\n");
        } else {
            b.push_str(&format!(
                "Đơn vị còn thiếu (chưa có biểu số liệu dùng được) cho Công văn {}: {}.\n",
                c.dispatch,
                r.missing.join("; ")
            ));
        }
    }
    b.push_str(&format!(
        "\nMã biên nhận: {}. Khi cần trao đổi, đề nghị nêu mã này.\n",
        r.number
    ));
    b.push_str(&format!(
        "\nĐây là thư trả lời tự động của hệ thống tiếp nhận báo cáo, {}{}. Đề nghị không trả lời thư này.\n",
        r.department.division.as_deref().map(|d| format!("{d}, ")).unwrap_or_default(),
        r.department.name
    ));
    Rendered { subject, body: b }
}

/// Findings as the receipt lists them: errors first, each with its cell.
pub fn finding_lines(findings: &[crate::forms::validate::Finding]) -> Vec<String> {
    use crate::forms::spec::Severity;
    let mut sorted: Vec<&crate::forms::validate::Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| f.severity != Severity::Error);
    sorted
        .into_iter()
        .map(|f| {
            let level = if f.severity == Severity::Error {
                "Lỗi"
            } else {
                "Cảnh báo"
            };
            match &f.cell {
                Some(cell) => format!("{level} ô {cell} (biểu {}): {}", f.sheet, f.message),
                None => format!("{level} (biểu {}): {}", f.sheet, f.message),
            }
        })
        .collect()
}

fn check_text(kind: &str, check: &str) -> &'static str {
    match (kind, check) {
        ("workbook", "ok") => "Đọc được, có số liệu.",
        ("workbook", "empty") => {
            "Tệp trống, không có số liệu. Đề nghị gửi lại biểu đã điền số liệu."
        }
        ("workbook", "encrypted") => {
            "Tệp có đặt mật khẩu nên không mở được. Đề nghị gỡ mật khẩu và gửi lại."
        }
        ("workbook", _) => {
            "Không đọc được tệp (tệp hỏng hoặc sai định dạng). Đề nghị mở lại, lưu dưới dạng .xlsx và gửi lại."
        }
        (_, "ok") => "Đã nhận.",
        _ => "Không đọc được tệp (nội dung không khớp với tên tệp). Đề nghị gửi lại.",
    }
}

fn overdue(deadline: DateTime<FixedOffset>, at: DateTime<FixedOffset>) -> String {
    let mins = (at - deadline).num_minutes().max(1);
    if mins >= 24 * 60 {
        format!("trễ {} ngày", (mins + 24 * 60 - 1) / (24 * 60))
    } else if mins >= 60 {
        format!("trễ {} giờ", mins / 60)
    } else {
        format!("trễ {mins} phút")
    }
}

fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() {
        "(không có tiêu đề)".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    #[test]
    fn a_late_receipt_in_vietnamese() {
        let config = Config::embedded(Path::new("/x")).unwrap();
        let c = &config.campaigns[0];
        let agency = c.agencies.iter().find(|a| a.code == "so-y-te").unwrap();
        let arrived = DateTime::parse_from_rfc3339("2018-07-11T09:30:00+07:00").unwrap();
        let r = render(&ReceiptInput {
            number: "BN-000007".into(),
            department: &config.department,
            campaign: Some(c),
            agency: Some(agency),
            subject: "Báo cáo giữa kỳ",
            arrived,
            outcome: Outcome::Filed,
            files: vec![ReceiptFile {
                name: "PL1.xlsx".into(),
                kind: "workbook",
                deliverable: Some(("Phụ lục I".into(), "Đánh giá".into())),
                version: Some(2),
                check: "empty",
                validation: None,
                findings: vec![],
                annotated: false,
            }],
            late: Some(true),
            missing: vec!["Phụ lục II".into()],
            detail: None,
            extension: None,
        });
        assert!(
            r.subject
                .starts_with("Biên nhận CV 742/SKHĐT-THQH [BN-000007]")
        );
        assert!(r.body.contains("Kính gửi: Sở Y tế."));
        assert!(r.body.contains("lúc 09:30 ngày 11/07/2018"));
        assert!(r.body.contains("lần nộp thứ 2"));
        assert!(r.body.contains("Tệp trống"));
        assert!(r.body.contains("SAU thời hạn (trễ 2 ngày)"), "{}", r.body);
        assert!(r.body.contains("còn thiếu"));
    }
    #[test]
    fn an_extension_is_named_and_judges_lateness() {
        let config = Config::embedded(Path::new("/x")).unwrap();
        let c = &config.campaigns[0];
        let arrived = DateTime::parse_from_rfc3339("2018-07-12T09:30:00+07:00").unwrap();
        let until = DateTime::parse_from_rfc3339("2018-07-15T00:00:00+07:00").unwrap();
        let r = render(&ReceiptInput {
            number: "BN-000008".into(),
            department: &config.department,
            campaign: Some(c),
            agency: None,
            subject: "PL3",
            arrived,
            outcome: Outcome::Filed,
            files: vec![],
            late: Some(false),
            missing: vec![],
            detail: None,
            extension: Some(until),
        });
        assert!(
            r.body.contains("được gia hạn đến 00:00 ngày 15/07/2018"),
            "{}",
            r.body
        );
        assert!(r.body.contains("Thư đến đúng hạn"), "{}", r.body);
    }
}
