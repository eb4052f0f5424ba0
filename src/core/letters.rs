//! # What the mail templates are given
//!
//! The contexts of the reminder and digest templates: plain values, already worded and
//! formatted for Vietnamese readers by [`crate::core::words`] (dates as `09:30 ngày 11/07/2018`,
//! rates, spans), so that templates only arrange them and say what the board says. Every field is always present (`null` when it does not apply), which lets
//! the strict template engine reject a misspelt variable, even in a condition. The receipt's context lives
//! with the receipt. `config/templates/README.md` documents each field; keep the two in step.

use serde::Serialize;

use crate::core::words::{Zone, day, last_day, when};

/// The department, as every template sees it.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentCtx {
    /// Full name.
    pub name: String,
    /// Short name.
    pub short_name: String,
    /// The division handling the round, or null.
    pub division: Option<String>,
}

impl DepartmentCtx {
    /// From the configuration.
    pub fn of(d: &crate::config::Department) -> DepartmentCtx {
        DepartmentCtx {
            name: d.name.clone(),
            short_name: d.short_name.clone(),
            division: d.division.clone(),
        }
    }
}

/// A campaign, as templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignCtx {
    /// Stable id.
    pub id: String,
    /// Dispatch number, e.g. `742/SKHĐT-THQH`.
    pub dispatch: String,
    /// Dispatch date `dd/mm/yyyy`, or null.
    pub dispatch_date: Option<String>,
    /// The dispatch's subject.
    pub title: String,
    /// The deadline as the dispatch words it (`trước ngày 10/7/2018`).
    pub deadline_text: String,
    /// The deadline instant, `HH:MM ngày dd/mm/yyyy`.
    pub deadline: String,
    /// The last day one may submit, `dd/mm/yyyy`.
    pub last_day: String,
}

impl CampaignCtx {
    /// From the configuration, dates in `tz` (the department's zone, or the fixed offset a
    /// message's arrival was read in).
    pub fn of<T: Zone>(c: &crate::config::Campaign, tz: T) -> CampaignCtx {
        CampaignCtx {
            id: c.id.clone(),
            dispatch: c.dispatch.clone(),
            dispatch_date: c.dispatch_date.map(day),
            title: c.title.clone(),
            deadline_text: c.deadline_text.clone(),
            deadline: when(c.deadline, tz),
            last_day: day(last_day(c.deadline, tz)),
        }
    }
}

/// The reminder template's context.
#[derive(Debug, Clone, Serialize)]
pub struct ReminderCtx {
    /// Who writes.
    pub department: DepartmentCtx,
    /// The campaign.
    pub campaign: CampaignCtx,
    /// The agency reminded: `code`, `name`.
    pub agency: AgencyCtx,
    /// The reminder's number staff can look up (`NN-000012`).
    pub number: String,
    /// The step: days from the last day of submission (negative before, 0 that day).
    pub step_days: i32,
    /// `before`, `due` (the last day) or `after`.
    pub step_kind: &'static str,
    /// The agency's own deadline (`HH:MM ngày dd/mm/yyyy`), its extension when granted.
    pub deadline: String,
    /// The extended deadline, or null when none was granted.
    pub extension: Option<String>,
    /// True once the agency's deadline has passed.
    pub overdue: bool,
    /// `còn 5 ngày`, `còn 3 giờ`, or `đã quá hạn 3 ngày` ([`crate::core::words::time_left`]).
    pub time_left: String,
    /// What is still owed, in campaign order.
    pub missing: Vec<OwedCtx>,
    /// Names of the attached blank forms.
    pub attachments: Vec<String>,
    /// When it is sent, `HH:MM ngày dd/mm/yyyy`.
    pub sent_at: String,
}

/// An agency, as templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct AgencyCtx {
    /// Code.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
}

/// One deliverable an agency still owes.
#[derive(Debug, Clone, Serialize)]
pub struct OwedCtx {
    /// Label, e.g. `Phụ lục I`.
    pub label: String,
    /// Full name.
    pub name: String,
    /// `missing` (nothing received), `report-only` (a report but no workbook) or `invalid`
    /// (the latest workbook has errors).
    pub state: &'static str,
    /// For `invalid`: the latest version's number, or null.
    pub version: Option<u32>,
    /// For `invalid`: when it arrived, or null.
    pub received_at: Option<String>,
    /// For `invalid`: how many errors, or null.
    pub errors: Option<u32>,
    /// For `invalid`: why, as the digest says it (`3 lỗi`, `không có số liệu`, `không đọc
    /// được`; [`crate::core::words::invalid_reason`]), or null.
    pub reason: Option<String>,
    /// For `invalid`: the first findings, worded with their cells (`Lỗi ô G40 (biểu PL1): …`).
    pub findings: Vec<String>,
    /// The attached blank form's file name, or null.
    pub form: Option<String>,
}

/// The digest template's context.
#[derive(Debug, Clone, Serialize)]
pub struct DigestCtx {
    /// Who writes.
    pub department: DepartmentCtx,
    /// The day it summarises, `dd/mm/yyyy`.
    pub date: String,
    /// When it was made, `HH:MM ngày dd/mm/yyyy`.
    pub now: String,
    /// Since when "new" counts (the previous digest), `HH:MM ngày dd/mm/yyyy`.
    pub since: String,
    /// Campaigns open now.
    pub campaigns: Vec<DigestCampaignCtx>,
    /// Submissions found invalid since `since`.
    pub new_invalid: Vec<InvalidCtx>,
    /// Messages waiting for staff (unknown or probable sender, unclassified file).
    pub quarantined: Vec<QuarantinedCtx>,
    /// Mail the server refused for good, or given up on, since `since`.
    pub failed_mail: Vec<FailedMailCtx>,
    /// What keeps failing now (the store, the mailbox, the drop folder), since when, in
    /// staff's words ([`crate::core::words::problem`]).
    pub problems: Vec<String>,
}

/// A campaign's figures in the digest.
#[derive(Debug, Clone, Serialize)]
pub struct DigestCampaignCtx {
    /// The campaign.
    pub campaign: CampaignCtx,
    /// True once its deadline has passed.
    pub overdue: bool,
    /// `còn 5 ngày` or `đã quá hạn 3 ngày` ([`crate::core::words::time_left`]).
    pub time_left: String,
    /// Deliverables expected (agencies × deliverables, less exemptions).
    pub expected: u32,
    /// Of those, received in any form.
    pub received: u32,
    /// Of those, with an accepted workbook.
    pub valid: u32,
    /// Of the received, those whose first usable version came by the deadline.
    pub on_time: u32,
    /// The three rates, named and computed by [`crate::core::words::Rate`]: `reporting_rate`
    /// (received / expected), `valid_rate` (valid / expected), `on_time_rate` (on time /
    /// expected), each as `21,1%`.
    #[serde(flatten)]
    pub rates: crate::core::words::Rates,
    /// The rates' names, the same on every surface: `reporting`, `valid`, `on_time`.
    pub rate_names: RateNames,
    /// Agencies still owing something: `name` and the labels they owe.
    pub missing: Vec<MissingCtx>,
}

/// The names of the three rates ([`crate::core::words::Rate::name`]).
#[derive(Debug, Clone, Serialize)]
pub struct RateNames {
    /// `Tỷ lệ nộp báo cáo`.
    pub reporting: &'static str,
    /// `Tỷ lệ hợp lệ`.
    pub valid: &'static str,
    /// `Tỷ lệ đúng hạn`.
    pub on_time: &'static str,
}

impl RateNames {
    /// The names.
    pub fn new() -> RateNames {
        use crate::core::words::Rate;
        RateNames {
            reporting: Rate::Reporting.name(),
            valid: Rate::Valid.name(),
            on_time: Rate::OnTime.name(),
        }
    }
}

impl Default for RateNames {
    fn default() -> Self {
        Self::new()
    }
}

/// An agency that still owes deliverables.
#[derive(Debug, Clone, Serialize)]
pub struct MissingCtx {
    /// The agency's name.
    pub name: String,
    /// The labels it owes.
    pub owes: Vec<String>,
}

/// A new invalid submission.
#[derive(Debug, Clone, Serialize)]
pub struct InvalidCtx {
    /// Receipt number of its message.
    pub number: String,
    /// The agency's name.
    pub agency: String,
    /// The deliverable's label.
    pub deliverable: String,
    /// The version.
    pub version: u32,
    /// When its message arrived (not when intake took it in).
    pub at: String,
    /// How many errors its workbooks have.
    pub errors: u32,
    /// Why it is invalid: `3 lỗi`, or `không có số liệu`, `không đọc được` when it has no
    /// error because its workbook could not be checked ([`crate::core::words::invalid_reason`]).
    pub reason: String,
}

/// A message waiting for staff.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantinedCtx {
    /// Receipt number.
    pub number: String,
    /// The sender's address, or null.
    pub from: Option<String>,
    /// The subject.
    pub subject: String,
    /// What happened, in Vietnamese (`người gửi không xác định`, …).
    pub outcome: String,
    /// The probable agency's name, or null.
    pub probable: Option<String>,
    /// When it arrived.
    pub at: String,
}

/// A mail that could not be delivered.
#[derive(Debug, Clone, Serialize)]
pub struct FailedMailCtx {
    /// The recipient.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// What the server said.
    pub error: String,
    /// When it was given up.
    pub at: String,
}
