//! # The pages staff read
//!
//! Each handler reads the store once on a blocking thread, words what it read for people
//! (Vietnamese, local times) into a view, and renders one template. The matrix comes from one
//! status query whatever the number of agencies.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use chrono::DateTime;
use serde::{Deserialize, Serialize};

use super::auth::Flash;
use super::render::{
    self, Badge, event_label, evidence_lines, local, not_authenticated, state_class, time_left,
    verdict_badge,
};
use super::{PageError, Shared, Visit};
use crate::config::{AgencyKind, Campaign, Config};
use crate::core::letters::RateNames;
use crate::core::text::bounded;
use crate::core::words;
use crate::store::query::{self, CampaignStatus, Status};
use crate::store::receipt_number;
use crate::store::views::{self, FileRow, FindingRow, MailRow, MessageRow};

/// The longest subject shown (characters); what a sender wrote is cut, never trusted.
const SUBJECT: usize = 200;
/// The longest file name shown.
const FILE_NAME: usize = 150;
/// The longest sender name or address shown.
const SENDER: usize = 200;
/// The longest detail or evidence line shown.
const DETAIL: usize = 500;

/// The frame every page shares.
#[derive(Debug, Serialize)]
pub struct Base {
    /// The page's title.
    pub title: String,
    /// Which menu entry is current.
    pub nav: &'static str,
    /// The department's name.
    pub department: String,
    /// The CSRF token the page's forms carry.
    pub csrf: String,
    /// The staff member's name, when known.
    pub staff: Option<String>,
    /// True when staff log in (the name is then the account's, not asked).
    pub needs_login: bool,
    /// An action's result, shown once.
    pub flash: Option<Flash>,
    /// Now, as people read it.
    pub now: String,
    /// The campaigns, for the menu: (id, dispatch).
    pub campaigns: Vec<(String, String)>,
}

/// The frame for a visit.
pub fn base(s: &Shared, visit: &Visit, title: impl Into<String>, nav: &'static str) -> Base {
    Base {
        title: title.into(),
        nav,
        department: s.config().department.name.clone(),
        csrf: visit.session.csrf.clone(),
        staff: visit.session.staff_name().map(str::to_string),
        needs_login: s.access.needs_login(),
        flash: s.sessions.take_flash(&visit.session.id),
        now: render::local_time(s.clock.now(), s.config().timezone),
        campaigns: s
            .config()
            .campaigns
            .iter()
            .map(|c| (c.id.clone(), c.dispatch.clone()))
            .collect(),
    }
}

/// A campaign's figures, as on the overview and above its matrix.
#[derive(Debug, Serialize)]
pub struct Figures {
    /// Campaign id.
    pub id: String,
    /// Dispatch number.
    pub dispatch: String,
    /// Dispatch title.
    pub title: String,
    /// The deadline as the campaign words it (`trước ngày 10/7/2018`).
    pub deadline: String,
    /// The deadline instant, local (`00:00 ngày 10/07/2018`).
    pub deadline_at: String,
    /// Time left or overdue.
    pub left: String,
    /// Past the deadline.
    pub overdue: bool,
    /// Agencies × deliverables less exemptions.
    pub expected: u32,
    /// With any version.
    pub received: u32,
    /// Latest version accepted.
    pub valid: u32,
    /// First usable version by the deadline.
    pub on_time: u32,
    /// The three rates ([`words::Rates`]): `reporting_rate`, `valid_rate`, `on_time_rate`.
    #[serde(flatten)]
    pub rates: words::Rates,
    /// The rates' names, the same on every surface.
    pub rate_names: RateNames,
    /// Messages waiting for staff.
    pub quarantined: u32,
    /// Accepted versions whose sender was not authenticated.
    pub unverified: u32,
    /// The same, per deliverable.
    pub deliverables: Vec<DeliverableFigures>,
}

/// One deliverable's figures.
#[derive(Debug, Serialize)]
pub struct DeliverableFigures {
    /// Label.
    pub label: String,
    /// Expected.
    pub expected: u32,
    /// Received.
    pub received: u32,
    /// Valid.
    pub valid: u32,
    /// On time.
    pub on_time: u32,
    /// The three rates ([`words::Rates`]).
    #[serde(flatten)]
    pub rates: words::Rates,
}

fn figures(
    c: &CampaignStatus,
    config: &Config,
    now: chrono::DateTime<chrono::FixedOffset>,
    unverified: &HashMap<String, u32>,
) -> Figures {
    let deadline = DateTime::parse_from_rfc3339(&c.deadline).unwrap_or(now);
    let (left, overdue) = time_left(deadline, now, config.timezone);
    let deliverables = c
        .deliverables
        .iter()
        .enumerate()
        .map(|(j, d)| {
            let n = c.deliverable_counts(j);
            DeliverableFigures {
                label: d.label.clone(),
                expected: n.expected,
                received: n.received,
                valid: n.valid,
                on_time: n.on_time,
                rates: words::Rates::of(&n),
            }
        })
        .collect();
    Figures {
        id: c.id.clone(),
        dispatch: c.dispatch.clone(),
        title: c.title.clone(),
        deadline: config
            .campaign(&c.id)
            .map_or_else(|| c.deadline.clone(), |k| k.deadline_text.clone()),
        deadline_at: render::local_time(deadline, config.timezone),
        left,
        overdue,
        expected: c.expected,
        received: c.received,
        valid: c.valid,
        on_time: c.on_time,
        rates: words::Rates::of(&c.counts()),
        rate_names: RateNames::new(),
        quarantined: c.quarantined,
        unverified: unverified.get(&c.id).copied().unwrap_or(0),
        deliverables,
    }
}

/// A mail that did not go, for the overview.
#[derive(Debug, Serialize)]
pub struct UndeliveredView {
    /// Subject.
    pub subject: String,
    /// Recipients.
    pub to: String,
    /// Given up, or retried when.
    pub state: String,
    /// Attempts.
    pub attempts: u32,
    /// The server's answer.
    pub error: String,
}

#[derive(Serialize)]
struct Overview {
    campaigns: Vec<Figures>,
    sent: u32,
    waiting: u32,
    failed: u32,
    undelivered: Vec<UndeliveredView>,
    /// Each IMAP mailbox's connection, in staff's words.
    mailboxes: Vec<String>,
    /// What keeps failing (the store, a source), since when, in staff's words.
    problems: Vec<String>,
}

fn status(store: &crate::store::Store, config: &Config, s: &Shared) -> Result<Status, PageError> {
    Ok(query::status(store, config, s.clock.now())?)
}

/// `GET /`: every campaign's figures, the outbox, the mailbox connection.
pub async fn overview(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
) -> Result<Html<String>, PageError> {
    let st = s.clone();
    let (status, unverified) = s
        .with_store(move |store, config| {
            Ok((
                status(store, config, &st)?,
                views::unverified_counts(store)?,
            ))
        })
        .await?;
    let now = s.clock.now();
    let tz = s.config().timezone;
    let page = Overview {
        problems: status
            .problems
            .iter()
            .map(|p| words::problem(p, tz))
            .collect(),
        campaigns: status
            .campaigns
            .iter()
            .map(|c| figures(c, &s.config(), now, &unverified))
            .collect(),
        sent: status.outbox.sent,
        waiting: status.outbox.waiting,
        failed: status.outbox.failed,
        undelivered: status
            .undelivered
            .iter()
            .take(20)
            .map(|u| UndeliveredView {
                subject: u.subject.clone(),
                to: u.to.clone(),
                state: match (&u.failed_at, &u.next_attempt_at) {
                    (Some(at), _) => format!("không gửi được (từ {})", local(at, tz)),
                    (None, Some(next)) => format!("thử lại lúc {}", local(next, tz)),
                    (None, None) => "chờ gửi".into(),
                },
                attempts: u.attempts,
                error: words::mail_error(u.error.as_deref().unwrap_or_default()),
            })
            .collect(),
        mailboxes: status
            .mailbox
            .iter()
            .chain(&status.more_mailboxes)
            .map(|m| match m.state.as_str() {
                "connected" => format!(
                    "Hộp thư {}/{}: đang kết nối ({}) từ {}",
                    m.account,
                    m.mailbox,
                    if m.mode.as_deref() == Some("idle") {
                        "nhận thư tức thì"
                    } else {
                        "hỏi định kỳ"
                    },
                    local(&m.since, tz)
                ),
                _ => format!(
                    "Hộp thư {}/{}: MẤT KẾT NỐI từ {} ({}); đang thử kết nối lại",
                    m.account,
                    m.mailbox,
                    local(&m.since, tz),
                    m.error.as_deref().unwrap_or("?")
                ),
            })
            .collect(),
    };
    s.render.page(
        "overview.html",
        &base(&s, &visit, "Tổng quan", "overview"),
        &page,
    )
}

/// The filters of the matrix.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct MatrixFilter {
    /// `department`, `district`, `office`, or empty for all.
    pub kind: String,
    /// `missing` (some deliverable not sent), `incomplete` (not all accepted), or empty.
    pub only: String,
}

/// One cell as shown.
#[derive(Debug, Serialize)]
pub struct CellView {
    /// CSS class of its state.
    pub class: &'static str,
    /// Its state in words.
    pub label: String,
    /// Latest version.
    pub version: Option<u32>,
    /// When the counted version arrived, local.
    pub at: Option<String>,
    /// After the deadline.
    pub late: bool,
    /// Warnings of an accepted version.
    pub warnings: u32,
}

#[derive(Serialize)]
struct MatrixRow {
    n: usize,
    code: String,
    name: String,
    cells: Vec<CellView>,
}

#[derive(Serialize)]
struct MatrixPage {
    figures: Figures,
    deliverables: Vec<String>,
    rows: Vec<MatrixRow>,
    total: usize,
    filter: MatrixFilter,
    filtered: bool,
}

fn cell_view(c: &query::Cell, tz: chrono_tz::Tz) -> CellView {
    let (class, label) = state_class(&c.state, c.warnings);
    CellView {
        class,
        label,
        version: c.version,
        at: c.received_at.as_deref().map(|t| local(t, tz)),
        late: c.late == Some(true),
        warnings: c.warnings,
    }
}

/// `GET /campaign/{id}`: the matrix, filtered by kind of agency and by what is missing.
pub async fn campaign(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
    Path(id): Path<String>,
    Query(filter): Query<MatrixFilter>,
) -> Result<Html<String>, PageError> {
    let config = s.config();
    let Some(campaign) = config.campaign(&id) else {
        return Err(PageError::NotFound);
    };
    let st = s.clone();
    let (mut status, unverified) = s
        .with_store(move |store, config| {
            Ok((
                status(store, config, &st)?,
                views::unverified_counts(store)?,
            ))
        })
        .await?;
    let Some(pos) = status.campaigns.iter().position(|c| c.id == campaign.id) else {
        return Err(PageError::NotFound);
    };
    let c = status.campaigns.swap_remove(pos);
    let kinds: HashMap<&str, AgencyKind> = campaign
        .agencies
        .iter()
        .map(|a| (a.code.as_str(), a.kind))
        .collect();
    let kind = match filter.kind.as_str() {
        "department" => Some(AgencyKind::Department),
        "district" => Some(AgencyKind::District),
        "office" => Some(AgencyKind::Office),
        _ => None,
    };
    let tz = s.config().timezone;
    let total = c.agencies.len();
    let rows = c
        .agencies
        .iter()
        .enumerate()
        .filter(|(_, a)| kind.is_none_or(|k| kinds.get(a.code.as_str()) == Some(&k)))
        .filter(|(_, a)| match filter.only.as_str() {
            "missing" => a.deliverables.iter().any(|d| d.state == "missing"),
            "incomplete" => a
                .deliverables
                .iter()
                .any(|d| !matches!(d.state.as_str(), "accepted" | "exempt")),
            _ => true,
        })
        .map(|(i, a)| MatrixRow {
            n: i + 1,
            code: a.code.clone(),
            name: a.name.clone(),
            cells: a.deliverables.iter().map(|d| cell_view(d, tz)).collect(),
        })
        .collect();
    let page = MatrixPage {
        figures: figures(&c, &s.config(), s.clock.now(), &unverified),
        deliverables: c.deliverables.iter().map(|d| d.label.clone()).collect(),
        rows,
        total,
        filtered: kind.is_some() || !filter.only.is_empty(),
        filter,
    };
    s.render.page(
        "campaign.html",
        &base(&s, &visit, format!("Công văn {}", c.dispatch), "campaign"),
        &page,
    )
}

/// A file as shown.
#[derive(Debug, Serialize)]
pub struct FileView {
    /// Row id (download link).
    pub id: i64,
    /// Name.
    pub name: String,
    /// Workbook or report.
    pub kind: &'static str,
    /// Size.
    pub size: String,
    /// The check's result in words.
    pub check: String,
    /// CSS class of the check.
    pub class: &'static str,
    /// Where it was filed: deliverable and version.
    pub place: Option<String>,
    /// May be downloaded.
    pub download: bool,
    /// Has an annotated copy.
    pub annotated: bool,
}

fn file_view(f: &FileRow, labels: &HashMap<String, String>) -> FileView {
    let class = match (f.check_result.as_str(), f.errors, f.warnings) {
        ("ok", Some(0), Some(0)) => "ok",
        ("ok", Some(0), Some(_)) => "warn",
        ("ok", Some(_), _) => "bad",
        ("ok", None, _) if f.kind == "document" => "ok",
        ("ok", None, _) => "part",
        ("empty" | "encrypted" | "unreadable", _, _) => "bad",
        _ => "part",
    };
    let count = |n: Option<i64>| n.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    let check = match words::file_check(&f.check_result, count(f.errors), count(f.warnings)) {
        Some(w) if f.check_result == "unreadable" => format!(
            "{w}{}",
            f.check_detail
                .as_deref()
                .map(|d| format!(" ({})", bounded(d, 200)))
                .unwrap_or_default()
        ),
        Some(w) => w,
        None if f.kind == "document" => "báo cáo".to_string(),
        None if f.check_result == "ok" => "chưa kiểm tra".to_string(),
        None => f.check_result.clone(),
    };
    let label = |d: &str| labels.get(d).cloned().unwrap_or_else(|| d.to_string());
    FileView {
        id: f.id,
        name: bounded(&f.name, FILE_NAME),
        kind: if f.kind == "workbook" {
            "biểu số liệu"
        } else {
            "báo cáo"
        },
        size: render::size(f.size),
        check,
        class,
        place: match (&f.deliverable, f.version) {
            (Some(d), Some(v)) => Some(format!("{}, {}", label(d), words::version(v))),
            (Some(d), None) => Some(label(d)),
            _ => None,
        },
        download: f.filed,
        annotated: f.annotated,
    }
}

/// A message as shown.
#[derive(Debug, Serialize)]
pub struct MessageView {
    /// Row id.
    pub id: i64,
    /// Receipt number.
    pub receipt: String,
    /// Arrived, local.
    pub arrived: String,
    /// Mailbox or drop folder.
    pub source: &'static str,
    /// Sender.
    pub from: String,
    /// Subject.
    pub subject: String,
    /// Outcome in words.
    pub outcome: String,
    /// CSS class of the outcome.
    pub class: &'static str,
    /// Details.
    pub detail: Option<String>,
    /// The guessed agency's code and name.
    pub probable: Option<(String, String)>,
    /// Why it was guessed.
    pub evidence: Option<String>,
    /// Held because its sender failed authentication (`sender-unverified`): released with a
    /// reason, the agency it claims (`probable`) preselected.
    pub held: bool,
    /// Its sender authentication, when checked.
    pub auth: Option<Badge>,
    /// The evidence of the verdict, one line per fact.
    pub auth_lines: Vec<String>,
    /// The department clerk who forwarded the agency's mail.
    pub forwarded_by: Option<String>,
    /// Its files.
    pub files: Vec<FileView>,
}

fn message_view(
    m: &MessageRow,
    files: &[FileRow],
    labels: &HashMap<String, String>,
    config: &Config,
) -> MessageView {
    let from = match (&m.from_name, &m.from_addr) {
        (Some(n), Some(a)) if !bounded(n, 1).is_empty() => {
            format!("{} <{}>", bounded(n, 100), bounded(a, SENDER))
        }
        (_, Some(a)) => bounded(a, SENDER),
        _ if m.source == "drop" => "thư mục nộp tệp".into(),
        _ => "—".into(),
    };
    let held = m.outcome == "sender-unverified";
    MessageView {
        id: m.id,
        receipt: receipt_number(m.id),
        arrived: local(&m.arrived_at, config.timezone),
        source: if m.source == "drop" {
            "thư mục nộp tệp"
        } else {
            "hộp thư"
        },
        from,
        subject: bounded(m.subject.as_deref().unwrap_or_default(), SUBJECT),
        outcome: if held {
            "Giữ lại: người gửi không qua kiểm tra xác thực".into()
        } else {
            event_label(&m.outcome)
        },
        class: match m.outcome.as_str() {
            "filed" | "assigned" => "ok",
            "duplicate" | "left-alone" | "auto-reply-ignored" | "list-ignored" => "part",
            o if o.ends_with("-reassigned") => "part",
            "unknown-sender" | "probable-agency" | "unclassified" | "no-campaign" => "warn",
            _ => "bad",
        },
        detail: m.detail.as_deref().map(|d| bounded(d, DETAIL)),
        probable: m.probable.as_ref().map(|code| {
            (
                code.clone(),
                config
                    .agency(code)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
            )
        }),
        evidence: m.evidence.as_deref().map(|e| bounded(e, DETAIL)),
        held,
        auth: verdict_badge(m.auth.as_deref()),
        // A held message's `evidence` is its authentication's, joined: the fallback when the
        // stored authentication cannot be read.
        auth_lines: evidence_lines(
            m.auth_evidence.as_deref(),
            m.evidence.as_deref().filter(|_| held),
        ),
        forwarded_by: m.forwarded_by.as_deref().map(|f| bounded(f, SENDER)),
        files: files
            .iter()
            .filter(|f| f.message == m.id)
            .map(|f| file_view(f, labels))
            .collect(),
    }
}

fn labels(config: &Config) -> HashMap<String, String> {
    config
        .campaigns
        .iter()
        .flat_map(|c| c.deliverables.iter())
        .map(|d| (d.id.clone(), d.label.clone()))
        .collect()
}

#[derive(Serialize)]
struct FindingView {
    severity: &'static str,
    class: &'static str,
    sheet: String,
    cell: String,
    label: String,
    message: String,
}

#[derive(Serialize)]
struct VersionView {
    campaign: String,
    deliverable: String,
    version: u32,
    received: String,
    state: String,
    class: &'static str,
    late: bool,
    receipt: String,
    message: i64,
    /// Its message's sender was not authenticated.
    unverified: bool,
    auth: Option<Badge>,
    files: Vec<FileView>,
    findings: Vec<FindingView>,
}

#[derive(Serialize)]
struct MailView {
    id: i64,
    kind: &'static str,
    created: String,
    to: String,
    subject: String,
    state: String,
    class: &'static str,
    error: Option<String>,
    attempts: u32,
    receipt: Option<String>,
    resend: bool,
}

fn mail_view(m: &MailRow, tz: chrono_tz::Tz) -> MailView {
    let cancelled = m
        .last_error
        .as_deref()
        .is_some_and(|e| e.starts_with("cancelled:"));
    let bounced = m
        .last_error
        .as_deref()
        .is_some_and(|e| e.starts_with("bounced:"));
    let (state, class) = match (&m.sent_at, &m.failed_at, &m.next_attempt_at) {
        (Some(at), Some(_), _) if bounced => (
            format!("đã gửi lúc {} nhưng bị trả lại", local(at, tz)),
            "bad",
        ),
        (Some(at), _, _) => (format!("đã gửi lúc {}", local(at, tz)), "ok"),
        (None, Some(at), _) if cancelled => (format!("đã huỷ lúc {}", local(at, tz)), "part"),
        (None, Some(at), _) => (format!("KHÔNG GỬI ĐƯỢC (lúc {})", local(at, tz)), "bad"),
        (None, None, Some(next)) => (
            format!("đang thử lại, lần sau lúc {}", local(next, tz)),
            "warn",
        ),
        (None, None, None) => ("đang chờ gửi".to_string(), "part"),
    };
    MailView {
        id: m.id,
        kind: match m.kind.as_str() {
            "receipt" => "biên nhận",
            "reminder" => "thư nhắc",
            "digest" => "thư tổng hợp",
            "unverified-notice" => "thư cảnh báo",
            _ => "thư",
        },
        created: local(&m.created_at, tz),
        to: bounded(&m.to, 300),
        subject: bounded(&m.subject, 250),
        state,
        class,
        error: m
            .last_error
            .as_deref()
            .map(|e| bounded(&words::mail_error(e), DETAIL)),
        attempts: m.attempts,
        receipt: m.message.map(receipt_number),
        resend: m.kind == "receipt" && (m.sent_at.is_some() || m.failed_at.is_some()),
    }
}

#[derive(Serialize)]
struct ReminderView {
    campaign: String,
    step: String,
    due: String,
    result: String,
}

#[derive(Serialize)]
struct AgencyCampaign {
    id: String,
    dispatch: String,
    deadline: String,
    extended: Option<String>,
    left: String,
    overdue: bool,
    deliverables: Vec<(String, String)>,
    cells: Vec<(String, CellView)>,
    exempt: Vec<String>,
}

#[derive(Serialize)]
struct DecisionView {
    campaign: String,
    what: String,
    at: String,
    actor: String,
    reason: Option<String>,
}

#[derive(Serialize)]
struct AgencyPage {
    code: String,
    name: String,
    kind: &'static str,
    addresses: Vec<String>,
    campaigns: Vec<AgencyCampaign>,
    messages: Vec<MessageView>,
    versions: Vec<VersionView>,
    mail: Vec<MailView>,
    reminders: Vec<ReminderView>,
    exemptions: Vec<DecisionView>,
    extensions: Vec<DecisionView>,
}

/// `GET /agency/{code}`: every message, file, version with its findings, and mail of an agency.
pub async fn agency(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    let Some(agency) = s.config().agency(&code).cloned() else {
        return Err(PageError::NotFound);
    };
    let st = s.clone();
    let c = code.clone();
    let (status, rec, reminders) = s
        .with_store(move |store, config| {
            Ok((
                status(store, config, &st)?,
                views::agency(store, &c)?,
                views::reminders(store, &c)?,
            ))
        })
        .await?;
    let config = &s.config();
    let tz = config.timezone;
    let now = s.clock.now();
    let labels = labels(config);
    let campaigns = status
        .campaigns
        .iter()
        .filter_map(|cs| {
            let campaign = config.campaign(&cs.id)?;
            let row = cs.agencies.iter().find(|a| a.code == code)?;
            let extended = rec
                .extensions
                .iter()
                .find(|e| e.campaign == cs.id)
                .and_then(|e| DateTime::parse_from_rfc3339(&e.what).ok());
            let deadline = extended.unwrap_or(campaign.deadline);
            let (left, overdue) = time_left(deadline, now, tz);
            Some(AgencyCampaign {
                id: cs.id.clone(),
                dispatch: cs.dispatch.clone(),
                deadline: campaign.deadline_text.clone(),
                extended: extended.map(|t| render::local_time(t, tz)),
                left,
                overdue,
                deliverables: campaign
                    .deliverables
                    .iter()
                    .map(|d| (d.id.clone(), d.label.clone()))
                    .collect(),
                cells: cs
                    .deliverables
                    .iter()
                    .zip(&row.deliverables)
                    .map(|(h, c)| (h.label.clone(), cell_view(c, tz)))
                    .collect(),
                exempt: row
                    .deliverables
                    .iter()
                    .filter(|c| c.state == "exempt")
                    .map(|c| c.id.clone())
                    .collect(),
            })
        })
        .collect();
    let findings_of = |file: i64| -> Vec<FindingView> {
        rec.findings
            .iter()
            .filter(|f| f.file == file)
            .map(|f: &FindingRow| FindingView {
                severity: if f.severity == "error" {
                    "lỗi"
                } else {
                    "cảnh báo"
                },
                class: if f.severity == "error" { "bad" } else { "warn" },
                sheet: bounded(&f.sheet, 100),
                cell: f.cell.clone().unwrap_or_default(),
                label: f.label.clone().unwrap_or_default(),
                message: bounded(&f.message, DETAIL),
            })
            .collect()
    };
    let versions = rec
        .versions
        .iter()
        .map(|v| {
            let files: Vec<&FileRow> = rec
                .files
                .iter()
                .filter(|f| {
                    f.message == v.message
                        && f.deliverable.as_deref() == Some(v.deliverable.as_str())
                        && f.version == Some(v.version)
                })
                .collect();
            let (class, state) = state_class(&v.state, v.warnings);
            VersionView {
                campaign: v.campaign.clone(),
                deliverable: labels
                    .get(&v.deliverable)
                    .cloned()
                    .unwrap_or_else(|| v.deliverable.clone()),
                version: v.version,
                received: local(&v.received_at, tz),
                state,
                class,
                late: v.late,
                receipt: receipt_number(v.message),
                message: v.message,
                unverified: not_authenticated(v.auth.as_deref(), v.source.as_deref()),
                auth: verdict_badge(v.auth.as_deref()),
                findings: files.iter().flat_map(|f| findings_of(f.id)).collect(),
                files: files.iter().map(|f| file_view(f, &labels)).collect(),
            }
        })
        .collect();
    let campaign_names = config.names();
    let decision = |d: &views::DecisionRow, extension: bool| DecisionView {
        campaign: campaign_names.campaign(&d.campaign),
        what: if extension {
            local(&d.what, tz)
        } else {
            labels
                .get(&d.what)
                .cloned()
                .unwrap_or_else(|| d.what.clone())
        },
        at: local(&d.at, tz),
        actor: d.actor.clone(),
        reason: d.reason.clone(),
    };
    let page = AgencyPage {
        code: agency.code.clone(),
        name: agency.name.clone(),
        kind: render::kind_vi(agency.kind),
        addresses: agency.addresses.clone(),
        campaigns,
        messages: rec
            .messages
            .iter()
            .map(|m| message_view(m, &rec.files, &labels, config))
            .collect(),
        versions,
        mail: rec.mail.iter().map(|m| mail_view(m, tz)).collect(),
        reminders: reminders
            .iter()
            .map(|h| ReminderView {
                campaign: campaign_names.campaign(&h.campaign),
                step: words::step(h.step),
                due: local(&h.due_at, tz),
                result: words::reminder_result(
                    &h.outcome,
                    h.reason.as_deref(),
                    h.sent_at.as_deref(),
                    h.failed.as_deref(),
                    tz,
                ),
            })
            .collect(),
        exemptions: rec.exemptions.iter().map(|d| decision(d, false)).collect(),
        extensions: rec.extensions.iter().map(|d| decision(d, true)).collect(),
    };
    s.render.page(
        "agency.html",
        &base(&s, &visit, agency.name, "agency"),
        &page,
    )
}

#[derive(Serialize)]
struct QuarantinePage {
    items: Vec<MessageView>,
    agencies: Vec<(String, String)>,
}

/// `GET /quarantine`: messages from unknown or probable senders, with the evidence and the
/// form that attributes one to an agency.
pub async fn quarantine(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
) -> Result<Html<String>, PageError> {
    let (messages, files) = s
        .with_store(|store, _| Ok(views::quarantine(store)?))
        .await?;
    let labels = labels(&s.config());
    let page = QuarantinePage {
        items: messages
            .iter()
            .map(|m| message_view(m, &files, &labels, &s.config()))
            .collect(),
        agencies: s
            .config()
            .agencies()
            .iter()
            .map(|a| (a.code.clone(), a.name.clone()))
            .collect(),
    };
    s.render.page(
        "quarantine.html",
        &base(&s, &visit, "Thư chờ xác nhận", "quarantine"),
        &page,
    )
}

#[derive(Serialize)]
struct LeftAloneView {
    path: String,
    reason: String,
    first_seen: String,
}

/// `GET /left-alone`: what the drop folder holds but intake does not take (links, special
/// files, hidden, temporary or too deep items), with why and since when.
pub async fn left_alone(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
) -> Result<Html<String>, PageError> {
    let rows = s
        .with_store(|store, _| Ok(store.left_alone_items()?))
        .await?;
    let tz = s.config().timezone;
    let items: Vec<LeftAloneView> = rows
        .iter()
        .map(|r| LeftAloneView {
            path: bounded(&r.path, 300),
            reason: words::left_alone_reason(&r.reason),
            first_seen: local(&r.first_seen, tz),
        })
        .collect();
    s.render.page(
        "left_alone.html",
        &base(&s, &visit, "Mục để nguyên trong thư mục nhận", "left-alone"),
        &serde_json::json!({
            "items": items,
            "folder": s.config().drop.path.display().to_string(),
        }),
    )
}

/// The filters of the accepted versions whose sender was not authenticated.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct UnverifiedFilter {
    /// Campaign id (default: the first configured).
    pub campaign: String,
    /// `none`, `temperror`, `fail`, `unchecked`, or empty for all.
    pub verdict: String,
    /// Page number, from 1.
    pub page: String,
}

#[derive(Serialize)]
struct UnverifiedView {
    agency: (String, String),
    deliverable: String,
    version: u32,
    message: i64,
    receipt: String,
    received: String,
    late: bool,
    auth: Badge,
    lines: Vec<String>,
    from: Option<String>,
    forwarded_by: Option<String>,
}

#[derive(Serialize)]
struct UnverifiedPage {
    campaign: String,
    dispatch: String,
    campaigns: Vec<(String, String)>,
    verdicts: Vec<(&'static str, &'static str)>,
    rows: Vec<UnverifiedView>,
    filter: UnverifiedFilter,
    page: u32,
    pages: u32,
    total: u32,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /unverified`: every accepted version of a campaign whose message's sender was not
/// authenticated (a verdict other than `pass`, or mail taken in before it was checked),
/// newest first, a page at a time, with the verdict and its evidence.
pub async fn unverified(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
    Query(mut filter): Query<UnverifiedFilter>,
) -> Result<Html<String>, PageError> {
    let config = s.config();
    let campaign = match filter.campaign.as_str() {
        "" => config.campaigns.first(),
        id => config.campaign(id),
    }
    .ok_or(PageError::NotFound)?
    .clone();
    filter.campaign = campaign.id.clone();
    let verdict = match filter.verdict.as_str() {
        "" => None,
        v @ ("none" | "temperror" | "fail" | "unchecked") => Some(v.to_string()),
        _ => {
            return Err(PageError::BadRequest(
                "Không có mức xác thực này; hãy chọn trong danh sách.".into(),
            ));
        }
    };
    let size = s.config().board.page_size as u32;
    let page = filter.page.parse::<u32>().unwrap_or(1).max(1);
    let q = views::UnverifiedQuery {
        campaign: campaign.id.clone(),
        verdict,
        limit: size,
        offset: (page - 1).saturating_mul(size),
    };
    let (rows, total) = s
        .with_store(move |store, _| Ok(views::unverified(store, &q)?))
        .await?;
    let pages = total.div_ceil(size).max(1);
    let link = |p: u32| {
        format!(
            "/unverified?campaign={}&verdict={}&page={p}",
            render::encode(&filter.campaign),
            render::encode(&filter.verdict)
        )
    };
    let tz = s.config().timezone;
    let labels = labels(&s.config());
    let rows = rows
        .iter()
        .map(|r| UnverifiedView {
            agency: (
                r.agency.clone(),
                s.config()
                    .agency(&r.agency)
                    .map(|a| a.name.clone())
                    .unwrap_or_else(|| r.agency.clone()),
            ),
            deliverable: labels
                .get(&r.deliverable)
                .cloned()
                .unwrap_or_else(|| r.deliverable.clone()),
            version: r.version,
            message: r.message,
            receipt: receipt_number(r.message),
            received: local(&r.received_at, tz),
            late: r.late,
            auth: verdict_badge(r.auth.as_deref()).unwrap_or(render::UNCHECKED),
            lines: evidence_lines(r.auth_evidence.as_deref(), None),
            from: r.from_addr.as_deref().map(|a| bounded(a, SENDER)),
            forwarded_by: r.forwarded_by.as_deref().map(|f| bounded(f, SENDER)),
        })
        .collect();
    let page_view = UnverifiedPage {
        campaign: campaign.id.clone(),
        dispatch: campaign.dispatch.clone(),
        campaigns: s
            .config()
            .campaigns
            .iter()
            .map(|c| (c.id.clone(), c.dispatch.clone()))
            .collect(),
        verdicts: vec![
            ("none", "không xác thực được"),
            ("temperror", "chưa xác thực được (lỗi DNS)"),
            ("fail", "xác thực thất bại (cán bộ đã cho phép)"),
            ("unchecked", "chưa kiểm tra xác thực"),
        ],
        rows,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        page,
        pages,
        total,
        filter,
    };
    s.render.page(
        "unverified.html",
        &base(&s, &visit, "Bản nộp chưa xác thực người gửi", "unverified"),
        &page_view,
    )
}

/// The filters of the intake log.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct LogFilter {
    /// Agency code.
    pub agency: String,
    /// Event kind.
    pub kind: String,
    /// A local date, `YYYY-MM-DD`.
    pub since: String,
    /// Page number, from 1.
    pub page: String,
}

#[derive(Serialize)]
struct LogRow {
    at: String,
    message: Option<i64>,
    kind: String,
    agency: Option<(String, String)>,
    receipt: Option<String>,
    files: Vec<String>,
    detail: String,
    actor: Option<String>,
    auth: Option<Badge>,
}

#[derive(Serialize)]
struct LogPage {
    rows: Vec<LogRow>,
    agencies: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    filter: LogFilter,
    page: u32,
    pages: u32,
    total: u32,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /log`: the intake log, newest first, a page at a time, filtered by agency, kind and day.
pub async fn log(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
    Query(filter): Query<LogFilter>,
) -> Result<Html<String>, PageError> {
    let tz = s.config().timezone;
    let since = match filter.since.trim() {
        "" => None,
        d => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .and_then(|t| t.and_local_timezone(tz).earliest())
                .map(|t| t.fixed_offset().to_rfc3339())
                .ok_or_else(|| {
                    PageError::BadRequest(format!(
                        "Ngày \"{d}\" không đúng; hãy chọn ngày theo dạng năm-tháng-ngày."
                    ))
                })?,
        ),
    };
    let size = s.config().board.page_size as u32;
    let page = filter.page.parse::<u32>().unwrap_or(1).max(1);
    let q = views::LogQuery {
        agency: Some(filter.agency.clone()).filter(|a| !a.is_empty()),
        kind: Some(filter.kind.clone()).filter(|k| !k.is_empty()),
        since,
        limit: size,
        offset: (page - 1).saturating_mul(size),
    };
    let (events, total, kinds) = s
        .with_store(move |store, _| {
            let (events, total) = views::log_page(store, &q)?;
            Ok((events, total, views::event_kinds(store)?))
        })
        .await?;
    let pages = total.div_ceil(size).max(1);
    let link = |p: u32| {
        format!(
            "/log?agency={}&kind={}&since={}&page={p}",
            render::encode(&filter.agency),
            render::encode(&filter.kind),
            render::encode(&filter.since)
        )
    };
    let config = s.config();
    let names: HashMap<&str, &str> = config
        .agencies()
        .into_iter()
        .map(|a| (a.code.as_str(), a.name.as_str()))
        .collect();
    let words_names = s.config().names();
    let rows = events
        .iter()
        .map(|e| LogRow {
            at: local(&e.at, tz),
            message: e.message,
            kind: words::event_from(&e.kind, &e.source),
            agency: e.agency.as_ref().map(|a| {
                (
                    a.clone(),
                    names.get(a.as_str()).copied().unwrap_or(a).to_string(),
                )
            }),
            receipt: e.message.map(receipt_number),
            files: crate::report::files_text(&e.files, e.campaign.as_deref(), &words_names)
                .iter()
                .map(|f| bounded(f, 300))
                .collect(),
            detail: bounded(
                &words_names.note(e.detail.as_deref().unwrap_or_default(), tz),
                DETAIL,
            ),
            actor: e.actor.clone(),
            auth: verdict_badge(e.auth.as_deref()),
        })
        .collect();
    let page_view = LogPage {
        rows,
        agencies: s
            .config()
            .agencies()
            .iter()
            .map(|a| (a.code.clone(), a.name.clone()))
            .collect(),
        kinds: kinds
            .into_iter()
            .map(|k| {
                let label = event_label(&k);
                (k, label)
            })
            .collect(),
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        page,
        pages,
        total,
        filter,
    };
    s.render.page(
        "log.html",
        &base(&s, &visit, "Nhật ký tiếp nhận", "log"),
        &page_view,
    )
}

/// The query of the login page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginQuery {
    /// Where to go after logging in (a path of the board).
    pub next: String,
}

/// `GET /login`: the login form (or, on an open board, the overview).
pub async fn login_form(
    State(s): State<Shared>,
    Extension(visit): Extension<Visit>,
    Query(q): Query<LoginQuery>,
) -> Result<axum::response::Response, PageError> {
    use axum::response::IntoResponse;
    if !s.access.needs_login() || visit.session.user.is_some() {
        return Ok(axum::response::Redirect::to(&local_path(&q.next)).into_response());
    }
    login_page(&s, &visit, &q.next, None).map(IntoResponse::into_response)
}

/// The login page, with an error sentence after a failed attempt.
pub fn login_page(
    s: &Shared,
    visit: &Visit,
    next: &str,
    error: Option<&str>,
) -> Result<Html<String>, PageError> {
    let (accounts, token) = match &s.access {
        super::auth::Access::Login { accounts, token } => (accounts.is_some(), token.is_some()),
        super::auth::Access::Open => (false, false),
    };
    s.render.page(
        "login.html",
        &base(s, visit, "Đăng nhập", "login"),
        &serde_json::json!({
            "next": local_path(next),
            "error": error,
            "accounts": accounts,
            "token": token,
        }),
    )
}

/// `next` when it is a path of this board, else `/` (no redirect to another site).
pub fn local_path(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".into()
    }
}

/// The campaign named by a form, or the only one.
pub fn pick<'a>(config: &'a Config, id: &str) -> Result<&'a Campaign, PageError> {
    match (id, config.campaigns.as_slice()) {
        ("", [only]) => Ok(only),
        (id, _) => config
            .campaign(id)
            .ok_or_else(|| PageError::BadRequest(format!("Không có đợt báo cáo \"{id}\"."))),
    }
}
