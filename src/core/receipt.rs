//! # Receipts
//!
//! What an agency reads back within seconds of sending: what arrived, under which deliverable
//! and version, whether each file could be read, whether it was on time, and what is still
//! missing. The facts are gathered here into a [`ReceiptCtx`] of plain, preformatted values;
//! the wording is staff's, in `config/templates/receipt.txt`; the outbox sends the result.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::config::{Agency, Campaign, Department};
use crate::core::letters::{AgencyCtx, CampaignCtx, DepartmentCtx};
use crate::core::pipeline::Outcome;
use crate::core::templates::{TemplateKind, Templates};
use crate::core::words::{overdue, when};

pub use crate::core::pipeline::MAX_ATTACHED_COPY;
pub use crate::core::templates::Rendered;

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

/// A file already filed from an earlier message, named in the answer to a resend.
#[derive(Debug, Clone)]
pub struct Earlier {
    /// The file's name in this message.
    pub name: String,
    /// The deliverable's label, when told.
    pub deliverable: Option<String>,
    /// The version it was filed as.
    pub version: Option<u32>,
    /// When the earlier message arrived.
    pub received: DateTime<FixedOffset>,
    /// The earlier message's receipt number.
    pub number: String,
}

/// Why no round takes a listed agency's message: none is open yet, or the last has closed.
#[derive(Debug, Clone)]
pub struct Window<'a> {
    /// The agency's campaign nearest in time.
    pub campaign: &'a Campaign,
    /// True when it opens later; false when it has closed.
    pub before: bool,
    /// When it opens (before) or closed (after), when the round says.
    pub at: Option<DateTime<FixedOffset>>,
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
    /// For a resend (`duplicate`): where each file was filed before.
    pub earlier: Vec<Earlier>,
    /// For `no-campaign`: the round that is not open yet, or has closed.
    pub window: Option<Window<'a>>,
    /// The department clerk who forwarded the agency's message, when one did.
    pub forwarded_by: Option<String>,
}

/// The receipt template's context. Every field is always present, `null` when it does not
/// apply; `config/templates/README.md` documents each one.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptCtx {
    /// Who writes.
    pub department: DepartmentCtx,
    /// The campaign the message was taken in for, or null.
    pub campaign: Option<CampaignCtx>,
    /// The agency, sure or probable (see `outcome`), or null.
    pub agency: Option<AgencyCtx>,
    /// The receipt's number staff look the message up by (`BN-000007`).
    pub number: String,
    /// The message's subject on one line, `(không có tiêu đề)` when it has none.
    pub subject: String,
    /// When it arrived, `HH:MM ngày dd/mm/yyyy`.
    pub arrived: String,
    /// The outcome: `filed`, `probable-agency`, `no-workbook`, `too-large`, `unclassified`, …
    pub outcome: &'static str,
    /// Extra detail: the size limit (`too-large`), the attachments that could not be read
    /// (`no-workbook`), or null.
    pub detail: Option<String>,
    /// The files found, in message order.
    pub files: Vec<ReceiptFileCtx>,
    /// True when it arrived after the agency's deadline, false when on time, null when no
    /// campaign applies or lateness was not judged.
    pub late: Option<bool>,
    /// The agency's own deadline (`HH:MM ngày dd/mm/yyyy`), its extension when granted, or
    /// null without a campaign.
    pub deadline: Option<String>,
    /// The extended deadline staff granted the agency, or null.
    pub extension: Option<String>,
    /// How late, when late: `2 ngày`, `3 giờ`, `5 phút`; else null.
    pub late_by: Option<String>,
    /// Labels of the deliverables still without a usable workbook (empty: everything is in),
    /// or null when the outcome does not tell (only `filed` and `no-workbook` do).
    pub missing: Option<Vec<String>>,
    /// For a resend (`duplicate`): each file already received, with when, under which receipt
    /// number and as which version; empty otherwise.
    pub earlier: Vec<EarlierCtx>,
    /// For `no-campaign`: the agency's round that is not open yet (`state` `before`) or has
    /// closed (`after`), or null.
    pub window: Option<WindowCtx>,
    /// The department clerk who forwarded the agency's message (in copy), or null.
    pub forwarded_by: Option<String>,
}

/// A file already received, in the answer to a resend.
#[derive(Debug, Clone, Serialize)]
pub struct EarlierCtx {
    /// The file's name.
    pub name: String,
    /// The deliverable's label, or null.
    pub deliverable: Option<String>,
    /// The version it was filed as, or null.
    pub version: Option<u32>,
    /// When it was received first, `HH:MM ngày dd/mm/yyyy`.
    pub received: String,
    /// The receipt number of that message.
    pub number: String,
}

/// A round that does not take the message now.
#[derive(Debug, Clone, Serialize)]
pub struct WindowCtx {
    /// `before` (opens later) or `after` (closed).
    pub state: &'static str,
    /// The round's dispatch number.
    pub dispatch: String,
    /// Its title.
    pub title: String,
    /// When it opens (`before`) or closed (`after`), or null.
    pub at: Option<String>,
}

/// One file in the receipt's context.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptFileCtx {
    /// The file's name.
    pub name: String,
    /// `workbook` (xlsx, xls, ods…) or `document` (doc, docx, pdf, odt).
    pub kind: &'static str,
    /// The deliverable it was filed under, or null when no deliverable claims it.
    pub deliverable: Option<DeliverableCtx>,
    /// The version it was filed as, or null.
    pub version: Option<u32>,
    /// True when its content was already filed for that deliverable (no new version).
    pub already_filed: bool,
    /// Whether it could be read: `ok`, `empty`, `unreadable`, `encrypted`.
    pub check: &'static str,
    /// A workbook's form check, or null when it has no specified form.
    pub validation: Option<ValidationCtx>,
    /// The first findings (at most ten), errors first, each with its cell.
    pub findings: Vec<String>,
    /// How many findings are not listed (they are marked in the annotated copy).
    pub more_findings: usize,
    /// True when the copy with the findings marked is attached.
    pub annotated: bool,
}

/// A deliverable, as a receipt names it.
#[derive(Debug, Clone, Serialize)]
pub struct DeliverableCtx {
    /// Label, e.g. `Phụ lục I`.
    pub label: String,
    /// Full name.
    pub name: String,
}

/// A workbook's form check.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationCtx {
    /// True when it holds no error.
    pub valid: bool,
    /// How many errors.
    pub errors: usize,
    /// How many warnings.
    pub warnings: usize,
}

impl ReceiptCtx {
    /// Gathers what the receipt says, dates in the arrival's time zone.
    pub fn of(r: &ReceiptInput<'_>) -> ReceiptCtx {
        let tz = *r.arrived.offset();
        let campaign = r.campaign;
        let late = campaign.and(r.late);
        let deadline = campaign.map(|c| r.extension.unwrap_or(c.deadline));
        ReceiptCtx {
            department: DepartmentCtx::of(r.department),
            campaign: campaign.map(|c| CampaignCtx::of(c, tz)),
            agency: r.agency.map(|a| AgencyCtx {
                code: a.code.clone(),
                name: a.name.clone(),
            }),
            number: r.number.clone(),
            subject: one_line(r.subject),
            arrived: when(r.arrived, tz),
            outcome: r.outcome.as_str(),
            detail: r.detail.clone(),
            files: r
                .files
                .iter()
                .map(|f| ReceiptFileCtx {
                    name: crate::core::text::bounded(&f.name, 150),
                    kind: f.kind,
                    deliverable: f.deliverable.as_ref().map(|(label, name)| DeliverableCtx {
                        label: label.clone(),
                        name: name.clone(),
                    }),
                    version: f.version,
                    already_filed: f.version.is_none()
                        && r.outcome == Outcome::Filed
                        && f.deliverable.is_some(),
                    check: f.check,
                    validation: f.validation.map(|(valid, errors, warnings)| ValidationCtx {
                        valid,
                        errors,
                        warnings,
                    }),
                    findings: f.findings.iter().take(FINDINGS_SHOWN).cloned().collect(),
                    more_findings: f.findings.len().saturating_sub(FINDINGS_SHOWN),
                    annotated: f.annotated,
                })
                .collect(),
            late,
            deadline: deadline.map(|d| when(d, tz)),
            extension: campaign.and(r.extension).map(|d| when(d, tz)),
            late_by: match (late, deadline) {
                (Some(true), Some(d)) => Some(overdue(d, r.arrived, tz)),
                _ => None,
            },
            missing: campaign
                .filter(|_| matches!(r.outcome, Outcome::Filed | Outcome::NoWorkbook))
                .map(|_| r.missing.clone()),
            earlier: r
                .earlier
                .iter()
                .map(|e| EarlierCtx {
                    name: crate::core::text::bounded(&e.name, 150),
                    deliverable: e.deliverable.clone(),
                    version: e.version,
                    received: when(e.received, tz),
                    number: e.number.clone(),
                })
                .collect(),
            window: r.window.as_ref().map(|w| WindowCtx {
                state: if w.before { "before" } else { "after" },
                dispatch: w.campaign.dispatch.clone(),
                title: w.campaign.title.clone(),
                at: w.at.map(|d| when(d, tz)),
            }),
            forwarded_by: r.forwarded_by.clone(),
        }
    }
}

/// Renders a receipt with the staff's template, or the shipped one should theirs fail.
pub fn render(templates: &Templates, r: &ReceiptInput<'_>) -> Rendered {
    templates.render_or_default(TemplateKind::Receipt, &ReceiptCtx::of(r))
}

/// Whether a marked copy is small enough to go with the receipt.
pub fn attachable(copy: &[u8]) -> bool {
    copy.len() <= MAX_ATTACHED_COPY
}

/// Findings as the receipt lists them: errors first, each with its cell.
pub fn finding_lines(findings: &[crate::core::forms::validate::Finding]) -> Vec<String> {
    use crate::core::forms::spec::Severity;
    let mut sorted: Vec<&crate::core::forms::validate::Finding> = findings.iter().collect();
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

/// The subject on one line and at most 200 characters, or a placeholder when it has none.
fn one_line(s: &str) -> String {
    let s = crate::core::text::bounded(s, 200);
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

    fn config() -> Config {
        Config::embedded(Path::new("/x")).unwrap()
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn input<'a>(config: &'a Config, outcome: Outcome) -> ReceiptInput<'a> {
        let c = &config.campaigns[0];
        ReceiptInput {
            number: "BN-000001".into(),
            department: &config.department,
            campaign: Some(c),
            agency: c.agencies.iter().find(|a| a.code == "so-y-te"),
            subject: "Báo cáo giữa kỳ",
            arrived: at("2018-07-05T14:05:00+07:00"),
            outcome,
            files: vec![],
            late: None,
            missing: vec![],
            detail: None,
            extension: None,
            earlier: vec![],
            window: None,
            forwarded_by: None,
        }
    }

    fn workbook(version: Option<u32>, check: &'static str) -> ReceiptFile {
        ReceiptFile {
            name: "PL1.xlsx".into(),
            kind: "workbook",
            deliverable: Some(("Phụ lục I".into(), "Đánh giá".into())),
            version,
            check,
            validation: None,
            findings: vec![],
            annotated: false,
        }
    }

    #[test]
    fn a_late_receipt_in_vietnamese() {
        let config = config();
        let r = render(
            &config.templates,
            &ReceiptInput {
                number: "BN-000007".into(),
                arrived: at("2018-07-11T09:30:00+07:00"),
                files: vec![workbook(Some(2), "empty")],
                late: Some(true),
                missing: vec!["Phụ lục II".into()],
                ..input(&config, Outcome::Filed)
            },
        );
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
        let config = config();
        let r = render(
            &config.templates,
            &ReceiptInput {
                number: "BN-000008".into(),
                agency: None,
                subject: "PL3",
                arrived: at("2018-07-12T09:30:00+07:00"),
                late: Some(false),
                extension: Some(at("2018-07-15T00:00:00+07:00")),
                ..input(&config, Outcome::Filed)
            },
        );
        assert!(
            r.body.contains("được gia hạn đến 00:00 ngày 15/07/2018"),
            "{}",
            r.body
        );
        assert!(r.body.contains("Thư đến đúng hạn"), "{}", r.body);
        assert!(
            r.body.contains("Kính gửi: Quý cơ quan, đơn vị."),
            "{}",
            r.body
        );
    }

    #[test]
    fn the_subject_cites_the_dispatch_number_and_their_subject() {
        let config = config();
        let r = render(&config.templates, &input(&config, Outcome::Filed));
        assert_eq!(
            r.subject,
            "Biên nhận CV 742/SKHĐT-THQH [BN-000001] - Re: Báo cáo giữa kỳ"
        );
        let r = render(
            &config.templates,
            &ReceiptInput {
                campaign: None,
                subject: "  \n ",
                ..input(&config, Outcome::TooLarge)
            },
        );
        assert_eq!(r.subject, "Biên nhận [BN-000001] - Re: (không có tiêu đề)");
    }

    #[test]
    fn a_marked_copy_goes_with_the_receipt_up_to_its_cap() {
        assert!(attachable(&vec![0; MAX_ATTACHED_COPY]));
        assert!(!attachable(&vec![0; MAX_ATTACHED_COPY + 1]));
    }

    #[test]
    fn a_filed_workbook_lists_its_first_ten_findings_and_the_annotated_copy() {
        let config = config();
        let findings: Vec<String> = (1..=13)
            .map(|i| format!("Lỗi ô G{i} (biểu PL1): sai"))
            .collect();
        let r = render(
            &config.templates,
            &ReceiptInput {
                files: vec![
                    ReceiptFile {
                        validation: Some((false, 13, 0)),
                        findings,
                        annotated: true,
                        ..workbook(Some(1), "ok")
                    },
                    ReceiptFile {
                        name: "Bao cao.docx".into(),
                        kind: "document",
                        ..workbook(Some(1), "ok")
                    },
                ],
                late: Some(false),
                missing: vec!["Phụ lục II".into(), "Phụ lục III".into()],
                ..input(&config, Outcome::Filed)
            },
        );
        let b = &r.body;
        assert!(
            b.contains("  1. PL1.xlsx — Phụ lục I - Đánh giá, lần nộp thứ 1.\n"),
            "{b}"
        );
        assert!(b.contains("KHÔNG HỢP LỆ — 13 lỗi, 0 cảnh báo. Đề nghị sửa và gửi lại."));
        assert!(b.contains("       • Lỗi ô G10 (biểu PL1): sai\n"));
        assert!(!b.contains("G11"), "{b}");
        assert!(b.contains("       • … và 3 nội dung khác.\n"), "{b}");
        assert!(b.contains("Tệp đính kèm \"Kết quả kiểm tra\" đánh dấu các ô cần sửa"));
        assert!(
            b.contains("  2. Bao cao.docx — Phụ lục I - Đánh giá, lần nộp thứ 1.\n     Đã nhận.\n")
        );
        assert!(b.contains("Thư đến đúng hạn."));
        assert!(b.contains(
            "Đơn vị còn thiếu (chưa có biểu số liệu dùng được) cho Công văn 742/SKHĐT-THQH: Phụ lục II; Phụ lục III."
        ));
        assert!(b.contains("Mã biên nhận: BN-000001."));
        assert!(b.ends_with(
            "Đây là thư trả lời tự động của hệ thống tiếp nhận báo cáo, Phòng Tổng hợp - Quy hoạch, Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn. Đề nghị không trả lời thư này.\n"
        ), "{b}");
    }

    #[test]
    fn every_check_of_a_file_is_worded() {
        let config = config();
        let doc = |check| ReceiptFile {
            kind: "document",
            ..workbook(Some(1), check)
        };
        let valid = |w| ReceiptFile {
            validation: Some((true, 0, w)),
            ..workbook(Some(1), "ok")
        };
        let r = render(
            &config.templates,
            &ReceiptInput {
                files: vec![
                    workbook(Some(1), "ok"),
                    workbook(Some(1), "encrypted"),
                    workbook(Some(1), "unreadable"),
                    doc("unreadable"),
                    valid(0),
                    valid(2),
                    // Already filed: the same content came before.
                    workbook(None, "ok"),
                    ReceiptFile {
                        deliverable: None,
                        ..workbook(None, "ok")
                    },
                ],
                ..input(&config, Outcome::Filed)
            },
        );
        let b = &r.body;
        for phrase in [
            "Đọc được, có số liệu.",
            "Tệp có đặt mật khẩu nên không mở được.",
            "Không đọc được tệp (tệp hỏng hoặc sai định dạng).",
            "Không đọc được tệp (nội dung không khớp với tên tệp).",
            "Đã kiểm tra số liệu: hợp lệ.\n",
            "Đã kiểm tra số liệu: hợp lệ, có 2 cảnh báo đề nghị xem lại.",
            "  7. PL1.xlsx — Phụ lục I - Đánh giá, đã nhận trước đây (trùng nội dung).",
            "  8. PL1.xlsx — chưa xác định được thuộc báo cáo nào, cán bộ của Sở sẽ kiểm tra.",
            "Đơn vị đã nộp đủ các báo cáo của đợt này.",
        ] {
            assert!(b.contains(phrase), "{phrase:?} in\n{b}");
        }
        // Without a lateness judgement there is no deadline line.
        assert!(!b.contains("Thời hạn nộp"), "{b}");
    }

    #[test]
    fn a_probable_agency_is_asked_to_use_its_official_address() {
        let config = config();
        let r = render(
            &config.templates,
            &ReceiptInput {
                files: vec![workbook(None, "ok")],
                ..input(&config, Outcome::ProbableAgency)
            },
        );
        let b = &r.body;
        assert!(b.contains("không có trong danh sách đơn vị báo cáo. Hệ thống cho rằng thư là của Sở Y tế; cán bộ của Sở sẽ xác nhận"), "{b}");
        assert!(b.contains("địa chỉ thư điện tử công vụ"));
        // Not filed yet, so not a duplicate either, and no word on what is missing.
        assert!(b.contains("  1. PL1.xlsx — Phụ lục I - Đánh giá.\n"), "{b}");
        assert!(!b.contains("còn thiếu") && !b.contains("nộp đủ"), "{b}");
    }

    #[test]
    fn no_workbook_and_too_large_say_what_to_do() {
        let config = config();
        let r = render(
            &config.templates,
            &ReceiptInput {
                detail: Some("a.heic: không đọc được".into()),
                missing: vec!["Phụ lục I".into()],
                ..input(&config, Outcome::NoWorkbook)
            },
        );
        assert!(r.body.contains("Thư không có tệp báo cáo (Word, PDF) hay biểu số liệu (Excel, ODS) đính kèm. Các phần đính kèm không đọc được: a.heic: không đọc được. Nếu quý cơ quan"), "{}", r.body);
        assert!(r.body.contains(
            "còn thiếu (chưa có biểu số liệu dùng được) cho Công văn 742/SKHĐT-THQH: Phụ lục I."
        ));
        assert!(!r.body.contains("Các tệp đã nhận"));
        let r = render(
            &config.templates,
            &ReceiptInput {
                campaign: None,
                detail: Some("thư 52 MB, giới hạn 40 MB".into()),
                ..input(&config, Outcome::TooLarge)
            },
        );
        assert!(r.body.contains("Thư vượt quá dung lượng cho phép nên chưa được xử lý (thư 52 MB, giới hạn 40 MB). Đề nghị nén tệp (zip)"), "{}", r.body);
        assert!(!r.body.contains("Công văn"), "{}", r.body);
    }

    #[test]
    fn the_context_has_every_field_even_when_null() {
        let config = config();
        let ctx = serde_json::to_value(ReceiptCtx::of(&ReceiptInput {
            campaign: None,
            agency: None,
            files: vec![workbook(Some(1), "ok")],
            ..input(&config, Outcome::TooLarge)
        }))
        .unwrap();
        for key in [
            "campaign",
            "agency",
            "detail",
            "late",
            "deadline",
            "extension",
            "late_by",
            "missing",
        ] {
            assert_eq!(ctx[key], serde_json::Value::Null, "{key}");
        }
        assert_eq!(ctx["files"][0]["validation"], serde_json::Value::Null);
        assert_eq!(ctx["outcome"], "too-large");
    }

    #[test]
    fn a_broken_staff_template_falls_back_to_the_shipped_one() {
        let config = config();
        let broken = Templates::parse(
            crate::core::templates::SHIPPED
                .iter()
                .map(|&(k, text)| {
                    let text = if k == TemplateKind::Receipt {
                        text.replace("{{ late_by }}", "{{ late_bye }}")
                    } else {
                        text.into()
                    };
                    (k, format!("templates/{}", k.file_name()), text)
                })
                .collect(),
        )
        .unwrap();
        let late = ReceiptInput {
            late: Some(true),
            arrived: at("2018-07-11T09:30:00+07:00"),
            ..input(&config, Outcome::Filed)
        };
        assert!(
            broken
                .render(TemplateKind::Receipt, &ReceiptCtx::of(&late))
                .is_err()
        );
        let r = render(&broken, &late);
        assert!(r.body.contains("SAU thời hạn (trễ 2 ngày)"), "{}", r.body);
    }
}
