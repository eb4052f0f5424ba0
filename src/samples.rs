//! # Sample contexts for checking the mail templates
//!
//! `intake check-config` renders each of staff's templates against realistic data before a
//! configuration is put in force, so that an undefined variable or a failing branch is a
//! configuration error, not a mail left unwritten. The samples are built the way the real
//! contexts are (receipts by [`crate::core::receipt`], reminders and digests by [`crate::core::letters`]),
//! from the configuration's first campaign. They sit above both and above the template
//! engine ([`crate::core::templates`]), which knows no context.

use serde::Serialize;

use crate::config::Config;
use crate::core::templates::{Rendered, TemplateError, TemplateKind};

/// Renders every sample of [`samples`] with the configured templates (not the fallback):
/// `(file, result)` per sample, for `intake check-config`.
pub fn check(config: &Config) -> Vec<(String, Result<Rendered, TemplateError>)> {
    samples(config)
        .into_iter()
        .map(|(kind, context)| {
            (
                config.templates.file(kind).to_string(),
                config.templates.render(kind, &context),
            )
        })
        .collect()
}

/// Sample contexts for checking templates, made from the configuration's first campaign and
/// its agencies: one receipt per kind of answer, reminders before, on and after the deadline,
/// and digests with and without news.
pub fn samples(config: &Config) -> Vec<(TemplateKind, serde_json::Value)> {
    fn json<T: Serialize>(ctx: &T) -> serde_json::Value {
        serde_json::to_value(ctx).expect("contexts are plain data")
    }
    let receipts = sample::receipts(config)
        .iter()
        .map(|r| {
            (
                TemplateKind::Receipt,
                json(&crate::core::receipt::ReceiptCtx::of(r)),
            )
        })
        .collect::<Vec<_>>();
    let reminders = sample::reminders(config)
        .iter()
        .map(|r| (TemplateKind::Reminder, json(r)))
        .collect::<Vec<_>>();
    let digests = sample::digests(config)
        .iter()
        .map(|d| (TemplateKind::Digest, json(d)))
        .collect::<Vec<_>>();
    [receipts, reminders, digests].concat()
}

pub(crate) mod sample {
    //! Realistic inputs for [`super::samples`].

    use chrono::{DateTime, FixedOffset, TimeDelta};

    use crate::config::{Campaign, Config};
    use crate::core::letters::{
        AgencyCtx, CampaignCtx, DepartmentCtx, DigestCampaignCtx, DigestCtx, FailedMailCtx,
        InvalidCtx, MissingCtx, OwedCtx, QuarantinedCtx, RateNames, ReminderCtx,
    };
    use crate::core::pipeline::Outcome;
    use crate::core::receipt::{ReceiptFile, ReceiptInput};
    use crate::core::words::{self, Counts, Rates, time_left, when};

    /// `at` in the department's zone.
    fn local(config: &Config, at: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        at.with_timezone(&config.timezone).fixed_offset()
    }

    fn labels(c: &Campaign) -> Vec<(String, String)> {
        c.deliverables
            .iter()
            .map(|d| (d.label.clone(), d.name.clone()))
            .collect()
    }

    fn findings(n: usize) -> Vec<String> {
        let first = [
            "Lỗi ô G40 (biểu PL1): Tỷ lệ phải nằm trong khoảng 0 - 100% (giá trị: 128,5)",
            "Lỗi ô H40 (biểu PL1): Ước thực hiện so với kế hoạch: cột \"Ước TH so với KH\" phải bằng \"Ước TH 2018\" chia \"KH 2018\"",
            "Lỗi ô D12 (biểu PL1): Ô bắt buộc chưa có số liệu",
        ];
        (0..n)
            .map(|i| match first.get(i) {
                Some(s) => s.to_string(),
                None => format!(
                    "Cảnh báo ô E{} (biểu PL1): Giá trị lệch nhiều so với năm trước",
                    20 + i
                ),
            })
            .collect()
    }

    /// One receipt per kind of answer; none without a campaign in the configuration.
    pub fn receipts(config: &Config) -> Vec<ReceiptInput<'_>> {
        let Some(c) = config.campaigns.first() else {
            return Vec::new();
        };
        let agency = |i: usize| c.agencies.get(i.min(c.agencies.len().saturating_sub(1)));
        let d = labels(c);
        let del = |i: usize| d.get(i.min(d.len().saturating_sub(1))).cloned();
        let missing: Vec<String> = d.iter().skip(1).map(|(l, _)| l.clone()).collect();
        let base = ReceiptInput {
            number: "BN-000007".into(),
            department: &config.department,
            campaign: Some(c),
            agency: agency(0),
            subject: "V/v gửi báo cáo đánh giá giữa kỳ",
            arrived: local(config, c.deadline - TimeDelta::hours(62)),
            outcome: Outcome::Filed,
            files: Vec::new(),
            late: Some(false),
            missing: Vec::new(),
            detail: None,
            extension: None,
            earlier: Vec::new(),
            window: None,
            forwarded_by: None,
        };
        let file = |name: &str, kind, deliverable, version, check| ReceiptFile {
            name: name.into(),
            kind,
            deliverable,
            version,
            check,
            validation: None,
            findings: Vec::new(),
            annotated: false,
        };
        let filed = ReceiptInput {
            files: vec![
                ReceiptFile {
                    validation: Some((false, 3, 11)),
                    findings: findings(14),
                    annotated: true,
                    ..file("PL1_SoYTe.xlsx", "workbook", del(0), Some(2), "ok")
                },
                file("Bao cao giua ky.docx", "document", del(0), Some(2), "ok"),
                ReceiptFile {
                    validation: Some((true, 0, 0)),
                    ..file("PL2.xlsx", "workbook", del(1), None, "ok")
                },
                file("Ghi chu.pdf", "document", None, None, "ok"),
            ],
            missing: missing.clone(),
            ..base.clone()
        };
        let late = ReceiptInput {
            number: "BN-000012".into(),
            agency: agency(5),
            subject: "Gửi lại các phụ lục",
            arrived: local(
                config,
                c.deadline + TimeDelta::days(4) + TimeDelta::hours(9),
            ),
            late: Some(true),
            extension: Some(local(config, c.deadline + TimeDelta::days(3))),
            files: vec![
                ReceiptFile {
                    validation: Some((true, 0, 2)),
                    findings: findings(14).split_off(12),
                    ..file("PL1.xlsx", "workbook", del(0), Some(3), "ok")
                },
                ReceiptFile {
                    validation: Some((true, 0, 0)),
                    ..file("PL2.xlsx", "workbook", del(1), Some(2), "ok")
                },
                file("PL3.xlsx", "workbook", del(2), Some(2), "ok"),
                file("PL3 ban cu.xlsx", "workbook", del(2), Some(2), "empty"),
                file(
                    "PL3 (mat khau).xlsx",
                    "workbook",
                    del(2),
                    Some(2),
                    "encrypted",
                ),
                file("PL3.xls", "workbook", del(2), Some(2), "unreadable"),
                file("Bao cao PL3.pdf", "document", del(2), Some(2), "unreadable"),
            ],
            ..base.clone()
        };
        let probable = ReceiptInput {
            number: "BN-000009".into(),
            outcome: Outcome::ProbableAgency,
            agency: agency(10),
            subject: "Báo cáo phụ lục I",
            late: None,
            files: vec![file("Phu luc I.xlsx", "workbook", del(0), None, "ok")],
            ..base.clone()
        };
        let no_workbook = ReceiptInput {
            number: "BN-000010".into(),
            outcome: Outcome::NoWorkbook,
            subject: "Báo cáo",
            late: None,
            detail: Some("Anh chup.heic: không phải tệp báo cáo hay biểu số liệu".into()),
            missing,
            ..base.clone()
        };
        let too_large = ReceiptInput {
            number: "BN-000011".into(),
            outcome: Outcome::TooLarge,
            campaign: None,
            subject: "",
            late: None,
            detail: Some("thư 52,3 MB, giới hạn 40 MB".into()),
            ..base.clone()
        };
        let unclassified = ReceiptInput {
            number: "BN-000013".into(),
            outcome: Outcome::Unclassified,
            agency: None,
            files: vec![file("Tai lieu.xlsx", "workbook", None, None, "ok")],
            ..base
        };
        vec![filed, late, probable, no_workbook, too_large, unclassified]
    }

    /// Reminders before the deadline, on its last day, after it, and after it under an
    /// extension not yet run out.
    pub fn reminders(config: &Config) -> Vec<ReminderCtx> {
        let Some(c) = config.campaigns.first() else {
            return Vec::new();
        };
        let Some(a) = c.agencies.first() else {
            return Vec::new();
        };
        let tz = config.timezone;
        let owed: Vec<OwedCtx> = c
            .deliverables
            .iter()
            .zip(["missing", "report-only", "invalid"].into_iter().cycle())
            .map(|(d, state)| {
                let invalid = state == "invalid";
                // Reminders attach a blank form for what was never sent, not for what
                // needs fixing.
                let form = d
                    .form
                    .as_ref()
                    .filter(|_| !invalid)
                    .map(|_| words::blank_form_name(&d.label, &a.name));
                OwedCtx {
                    label: d.label.clone(),
                    name: d.name.clone(),
                    state,
                    version: invalid.then_some(2),
                    received_at: invalid.then(|| when(c.deadline - TimeDelta::days(3), tz)),
                    errors: invalid.then_some(3),
                    reason: invalid.then(|| words::invalid_reason(3, &[])),
                    findings: if invalid { findings(3) } else { Vec::new() },
                    form,
                }
            })
            .collect();
        let attachments: Vec<String> = owed.iter().filter_map(|o| o.form.clone()).collect();
        let reminder = |n: u32, step_days: i32, extension: Option<DateTime<FixedOffset>>| {
            let now = c.deadline - TimeDelta::seconds(1) + TimeDelta::days(step_days.into());
            let now = now.with_timezone(&tz).date_naive().and_hms_opt(8, 0, 0);
            let now = now
                .and_then(|n| n.and_local_timezone(tz).single())
                .map_or(c.deadline, |n| n.fixed_offset());
            let deadline = extension.unwrap_or(c.deadline);
            ReminderCtx {
                department: DepartmentCtx::of(&config.department),
                campaign: CampaignCtx::of(c, tz),
                agency: AgencyCtx {
                    code: a.code.clone(),
                    name: a.name.clone(),
                },
                number: format!("NN-{n:06}"),
                step_days,
                step_kind: crate::core::reminder::step_kind(step_days),
                deadline: when(deadline, tz),
                extension: extension.map(|e| when(e, tz)),
                overdue: now >= deadline,
                time_left: time_left(deadline, now, tz),
                missing: owed.clone(),
                attachments: attachments.clone(),
                sent_at: when(now, tz),
            }
        };
        // On the last day: a workbook that could not be read at all, so no error count.
        let unreadable = owed
            .iter()
            .filter(|o| o.state == "invalid")
            .map(|o| OwedCtx {
                errors: Some(0),
                reason: Some(words::invalid_reason(0, &["unreadable".into()])),
                findings: Vec::new(),
                ..o.clone()
            });
        let mut missing: Vec<OwedCtx> = unreadable.collect();
        if missing.is_empty() {
            missing.extend(owed.first().cloned());
        }
        let due = ReminderCtx {
            attachments: Vec::new(),
            missing,
            ..reminder(13, 0, None)
        };
        vec![
            reminder(12, -5, None),
            due,
            reminder(14, 2, None),
            reminder(15, 2, Some(c.deadline + TimeDelta::days(5))),
        ]
    }

    /// A digest with something in every list, and one with every list empty.
    pub fn digests(config: &Config) -> Vec<DigestCtx> {
        let tz = config.timezone;
        let Some(c) = config.campaigns.first() else {
            return Vec::new();
        };
        let now = c.deadline + TimeDelta::days(2) + TimeDelta::hours(7);
        let since = now - TimeDelta::days(1);
        let agencies = c.agencies.len() as u32;
        let deliverables = c.deliverables.len() as u32;
        let expected = agencies * deliverables;
        let (received, valid, on_time) = (expected * 3 / 4, expected * 2 / 3, expected / 2);
        let counts = Counts {
            expected,
            received,
            valid,
            on_time,
        };
        let labels: Vec<String> = c.deliverables.iter().map(|d| d.label.clone()).collect();
        let full = DigestCtx {
            department: DepartmentCtx::of(&config.department),
            date: words::day(now.with_timezone(&tz).date_naive()),
            now: when(now, tz),
            since: when(since, tz),
            campaigns: vec![DigestCampaignCtx {
                campaign: CampaignCtx::of(c, tz),
                overdue: now >= c.deadline,
                time_left: time_left(c.deadline, now, tz),
                expected,
                received,
                valid,
                on_time,
                rates: Rates::of(&counts),
                rate_names: RateNames::new(),
                missing: c
                    .agencies
                    .iter()
                    .take(3)
                    .enumerate()
                    .map(|(i, a)| MissingCtx {
                        name: a.name.clone(),
                        owes: labels.iter().skip(i).cloned().collect(),
                    })
                    .collect(),
            }],
            new_invalid: c
                .agencies
                .iter()
                .take(2)
                .zip(&c.deliverables)
                .enumerate()
                .map(|(i, (a, d))| InvalidCtx {
                    number: format!("BN-{:06}", 41 + i),
                    agency: a.name.clone(),
                    deliverable: d.label.clone(),
                    version: 2,
                    at: when(since - TimeDelta::hours(20 - i as i64), tz),
                    errors: 3 * i as u32,
                    reason: words::invalid_reason(3 * i as u32, &["empty".into()]),
                })
                .collect(),
            quarantined: vec![
                QuarantinedCtx {
                    number: "BN-000009".into(),
                    from: Some("nguyenvana@gmail.example".into()),
                    subject: "Báo cáo phụ lục I".into(),
                    outcome: "chưa xác nhận đơn vị gửi".into(),
                    probable: c.agencies.get(1).map(|a| a.name.clone()),
                    at: when(since + TimeDelta::hours(2), tz),
                },
                QuarantinedCtx {
                    number: "BN-000015".into(),
                    from: None,
                    subject: "(không có tiêu đề)".into(),
                    outcome: "người gửi không xác định".into(),
                    probable: None,
                    at: when(since + TimeDelta::hours(5), tz),
                },
            ],
            failed_mail: vec![FailedMailCtx {
                to: c
                    .agencies
                    .first()
                    .and_then(|a| a.addresses.first().cloned())
                    .unwrap_or_else(|| "vanthu@langson.example".into()),
                subject: format!(
                    "Nhắc nộp báo cáo theo CV {} - {}",
                    c.dispatch, "đã quá hạn 1 ngày"
                ),
                error: "550 5.1.1 mailbox unavailable".into(),
                at: when(since + TimeDelta::hours(1), tz),
            }],
            problems: vec![words::problem(
                &crate::health::Problem {
                    part: "mailbox".into(),
                    error: "imap.example.vn:993: Connection refused (os error 111)".into(),
                    since: (since + TimeDelta::hours(2)).to_rfc3339(),
                    last: now.to_rfc3339(),
                    count: 12,
                },
                tz,
            )],
        };
        let quiet = DigestCtx {
            campaigns: vec![DigestCampaignCtx {
                received: expected,
                valid: expected,
                on_time: expected,
                rates: Rates::of(&Counts {
                    expected,
                    received: expected,
                    valid: expected,
                    on_time: expected,
                }),
                missing: Vec::new(),
                ..full.campaigns[0].clone()
            }],
            new_invalid: Vec::new(),
            quarantined: Vec::new(),
            failed_mail: Vec::new(),
            problems: Vec::new(),
            ..full.clone()
        };
        let closed = DigestCtx {
            campaigns: Vec::new(),
            ..quiet.clone()
        };
        vec![full, quiet, closed]
    }
}
