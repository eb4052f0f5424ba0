//! # Tables for people
//!
//! The status matrix and the intake log as Vietnamese tables for the terminal. The same data
//! goes out as JSON with `--json`; this module only lays it out, with the words of
//! [`crate::core::words`] (so the terminal says what the board and the mail say).

use chrono::{DateTime, FixedOffset};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use crate::core::words::{self, Names, Rate, when, when_text};
use crate::store::query::{Event, Status};

/// Lays a table out for where it goes: at a terminal, within its width, wrapping whole words
/// (columns narrow, a long name takes two lines); elsewhere within `COLUMNS` when that is set;
/// unwrapped for a file or a pipe, so that scripts see one row per line.
fn fit(t: &mut Table) {
    match width(t) {
        Some(w) => {
            t.set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(w);
        }
        None => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
}

/// The width output must fit, if any (see [`fit`]).
fn width(t: &Table) -> Option<u16> {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        t.width()
    } else {
        None
    }
    .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
    .filter(|w| *w >= 20)
}

/// A line of prose wrapped at whole words to the width tables get, with a newline at its end.
pub fn prose(line: &str) -> String {
    let Some(w) = width(&Table::new()) else {
        return format!("{line}\n");
    };
    let mut out = String::new();
    let mut len = 0;
    for word in line.split(' ') {
        let n = word.chars().count();
        if len > 0 && len + 1 + n > usize::from(w) {
            out.push('\n');
            len = 0;
        } else if len > 0 {
            out.push(' ');
            len += 1;
        }
        out.push_str(word);
        len += n;
    }
    out.push('\n');
    out
}

/// The status of every campaign as text.
pub fn status_table(
    status: &Status,
    config: &crate::config::Config,
    now: DateTime<FixedOffset>,
) -> String {
    let tz = config.timezone;
    let mut out = String::new();
    for p in &status.problems {
        out.push_str(&prose(&format!("CẢNH BÁO: {}", words::problem(p, tz))));
    }
    if !status.problems.is_empty() {
        out.push('\n');
    }
    for m in status.mailbox.iter().chain(&status.more_mailboxes) {
        let since = when_text(&m.since, tz);
        match m.state.as_str() {
            "connected" => out.push_str(&format!(
                "Hộp thư {}/{}: đang kết nối ({}) từ {since}\n\n",
                m.account,
                m.mailbox,
                if m.mode.as_deref() == Some("idle") {
                    "nhận thư tức thì"
                } else {
                    "hỏi định kỳ"
                }
            )),
            _ => out.push_str(&format!(
                "Hộp thư {}/{}: MẤT KẾT NỐI từ {since} ({}); đang thử kết nối lại\n\n",
                m.account,
                m.mailbox,
                m.error.as_deref().unwrap_or("?")
            )),
        }
    }
    if !status.daemons.is_empty() {
        out.push_str(&format!(
            "Tiến trình intake đang chạy: {}\n",
            words::integer(status.daemons.len() as i64)
        ));
        for d in &status.daemons {
            let holds: Vec<String> = d.holds.iter().map(|s| words::source(s)).collect();
            out.push_str(&format!(
                "  {} (tiến trình {}): {}\n",
                d.host,
                d.pid,
                if holds.is_empty() {
                    "dự phòng, chưa nhận nguồn nào".to_string()
                } else {
                    format!("nhận từ {}", holds.join(", "))
                }
            ));
        }
        out.push('\n');
    }
    let o = &status.outbox;
    if o.waiting + o.failed > 0 {
        out.push_str(&format!(
            "Thư đi: {} đã gửi, {} đang chờ gửi, {} KHÔNG GỬI ĐƯỢC\n",
            o.sent, o.waiting, o.failed
        ));
        for u in status.undelivered.iter().take(10) {
            let state = match (&u.failed_at, &u.next_attempt_at) {
                (Some(_), _) => "không gửi được".to_string(),
                (None, Some(next)) => format!("thử lại lúc {}", when_text(next, tz)),
                (None, None) => "chờ gửi".to_string(),
            };
            out.push_str(&format!(
                "  • {} → {}: {state} ({} lần thử) — {}\n",
                u.subject,
                u.to,
                u.attempts,
                words::mail_error(u.error.as_deref().unwrap_or(""))
            ));
        }
        out.push('\n');
    }
    for c in &status.campaigns {
        let deadline = DateTime::parse_from_rfc3339(&c.deadline).unwrap_or(now);
        let left = words::time_left(deadline, now, tz);
        let worded = config
            .campaign(&c.id)
            .map_or_else(|| when(deadline, tz), |k| k.deadline_text.clone());
        out.push_str(&prose(&format!("Công văn {} — {}", c.dispatch, c.title)));
        out.push_str(&prose(&format!("Hạn nộp: {worded} ({left})")));
        let n = |v: u32| words::integer(v.into());
        let counts = c.counts();
        out.push_str(&prose(&format!(
            "Phải nộp: {} · Đã nhận: {} · Hợp lệ: {} · Đúng hạn: {} · Thư chờ xác nhận: {}",
            n(c.expected),
            n(c.received),
            n(c.valid),
            n(c.on_time),
            n(c.quarantined)
        )));
        out.push_str(&prose(
            &Rate::ALL
                .iter()
                .map(|r| format!("{}: {}", r.name(), r.words(&counts)))
                .collect::<Vec<_>>()
                .join(" · "),
        ));
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        fit(&mut t);
        let mut head = vec!["STT".to_string(), "Đơn vị".to_string()];
        head.extend(c.deliverables.iter().map(|d| d.label.clone()));
        t.set_header(head);
        for (i, a) in c.agencies.iter().enumerate() {
            let mut row = vec![(i + 1).to_string(), a.name.clone()];
            for cell in &a.deliverables {
                let mut s = words::state_with_warnings(&cell.state, cell.warnings);
                if let Some(v) = cell.version {
                    s.push_str(&format!(" ({})", words::version(v)));
                }
                if cell.late == Some(true) {
                    s.push_str(&format!(" — {}", words::lateness(true)));
                }
                row.push(s);
            }
            t.add_row(row);
        }
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }
    out
}

/// The intake log as text, newest first.
pub fn log_table(events: &[Event], config: &crate::config::Config) -> String {
    let tz = config.timezone;
    let names = config.names();
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    fit(&mut t);
    t.set_header(vec![
        "Thời gian",
        "Sự kiện",
        "Đơn vị",
        "Mã biên nhận",
        "Tệp",
        "Ghi chú",
    ]);
    for e in events {
        let at = when_text(&e.at, tz);
        let files = files_text(&e.files, e.campaign.as_deref(), &names).join("\n");
        let mut note = names.note(e.detail.as_deref().unwrap_or_default(), tz);
        if let Some(actor) = &e.actor {
            note = format!("{note} (bởi {actor})").trim().to_string();
        }
        t.add_row(vec![
            at,
            words::event_from(&e.kind, &e.source),
            e.agency
                .as_deref()
                .map_or_else(|| "—".into(), |a| names.agency(a)),
            e.message
                .map(crate::store::receipt_number)
                .unwrap_or_default(),
            files,
            note,
        ]);
    }
    t.to_string()
}

/// The files of a log event, one line each: name, deliverable (its label) and version, check
/// result.
pub fn files_text(files: &serde_json::Value, campaign: Option<&str>, names: &Names) -> Vec<String> {
    files
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    let name = f["name"].as_str().unwrap_or("?");
                    let label = f["deliverable"]
                        .as_str()
                        .map(|d| names.deliverable(campaign, d));
                    let place = match (label, f["version"].as_u64()) {
                        (Some(d), Some(v)) => format!("{name} → {d} {}", words::version(v as u32)),
                        (Some(d), None) => format!("{name} → {d}"),
                        _ => name.to_string(),
                    };
                    let count = |k: &str| f[k].as_u64().map(|n| n as u32);
                    let check = words::file_check(
                        f["check"].as_str().unwrap_or_default(),
                        count("errors"),
                        count("warnings"),
                    )
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                    format!("{place}{check}")
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The reminder schedule as `intake remind` shows it.
pub fn reminder_table(
    planned: &[crate::notices::Planned],
    config: &crate::config::Config,
    now: DateTime<FixedOffset>,
) -> String {
    let tz = config.timezone;
    let names = config.names();
    if planned.is_empty() {
        return prose(&format!(
            "Không có thư nhắc nào phải gửi (lúc {}): các đơn vị đã nộp đủ, đã được nhắc, hoặc đợt báo cáo không đặt lịch nhắc.",
            when(now, tz)
        ));
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    fit(&mut t);
    t.set_header(vec![
        "Đợt",
        "Đơn vị",
        "Bước",
        "Thời điểm",
        "Việc",
        "Còn thiếu",
        "Gửi đến",
    ]);
    for p in planned {
        let step = words::step(p.step.days);
        let action = match (p.action, p.reason) {
            ("send", _) => "gửi ngay".to_string(),
            ("wait", _) if p.step.due_at <= now => "chờ giờ làm việc".to_string(),
            ("wait", _) => "chờ đến hạn".to_string(),
            (_, Some("superseded")) => "bỏ qua (đã lỡ, có bước sau)".to_string(),
            (_, Some("stale")) => "bỏ qua (quá muộn)".to_string(),
            (_, Some("no-address")) => "bỏ qua (đơn vị không có địa chỉ thư)".to_string(),
            (a, _) => a.to_string(),
        };
        t.add_row(vec![
            names.campaign(&p.campaign),
            names.agency(&p.agency),
            step,
            when(p.step.due_at, tz),
            action,
            p.owes.join(", "),
            p.to.clone(),
        ]);
    }
    format!("{t}\n")
}

/// Reminder steps already decided, for one agency: when each was due, sent or skipped.
pub fn reminder_history(
    rows: &[crate::store::mail::ReminderRecord],
    config: &crate::config::Config,
) -> String {
    let tz = config.timezone;
    let names = config.names();
    let local = |s: &str| when_text(s, tz);
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    fit(&mut t);
    t.set_header(vec!["Đợt", "Đơn vị", "Bước", "Đến hạn", "Kết quả"]);
    for h in rows {
        let result = words::reminder_result(
            &h.outcome,
            h.reason.as_deref(),
            h.sent_at.as_deref(),
            h.failed.as_deref(),
            tz,
        );
        t.add_row(vec![
            names.campaign(&h.campaign),
            names.agency(&h.agency),
            words::step(h.step),
            local(&h.due_at),
            result,
        ]);
    }
    format!("{t}\n")
}
