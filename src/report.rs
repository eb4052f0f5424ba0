//! # Tables for people
//!
//! The status matrix and the intake log as Vietnamese tables for the terminal. The same data
//! goes out as JSON with `--json`; this module only words and lays it out.

use chrono::{DateTime, FixedOffset};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use crate::store::query::{Event, Status};

/// Vietnamese words for a cell state.
pub fn state_vi(state: &str) -> &'static str {
    match state {
        "missing" => "chưa nộp",
        "received" => "đã nhận",
        "invalid" => "không hợp lệ",
        "accepted" => "hợp lệ",
        "exempt" => "miễn nộp",
        _ => "?",
    }
}

/// Vietnamese words for an event kind.
pub fn event_vi(kind: &str) -> String {
    match kind {
        "received" => "nhận thư/tệp".into(),
        "filed" => "đã lưu".into(),
        "duplicate" => "trùng, không lưu lại".into(),
        "probable-agency" => "chờ xác nhận đơn vị".into(),
        "unknown-sender" => "không rõ đơn vị gửi".into(),
        "no-workbook" => "không có tệp đính kèm".into(),
        "left-alone" => "thư thường, để nguyên".into(),
        "auto-reply-ignored" => "thư tự động, bỏ qua".into(),
        "unreadable" => "không đọc được thư".into(),
        "too-large" => "thư quá dung lượng".into(),
        "no-campaign" => "ngoài thời gian đợt báo cáo".into(),
        "assigned" => "cán bộ xác nhận đơn vị".into(),
        "unclassified" => "chưa xác định báo cáo nào".into(),
        "revalidated" => "kiểm tra lại số liệu".into(),
        "exempted" => "cán bộ miễn nộp".into(),
        "extended" => "cán bộ gia hạn".into(),
        "source-unreadable" => "không đọc được thư/tệp nguồn".into(),
        "mail-failed" => "không gửi được thư".into(),
        "receipt-resent" => "cán bộ gửi lại biên nhận".into(),
        "mail-bounced" => "thư bị trả lại (không đến được người nhận)".into(),
        "mail-cancelled" => "huỷ thư (quá hạn gửi hoặc có thư mới thay)".into(),
        "reminder-queued" => "gửi thư nhắc".into(),
        "reminder-cancelled" => "huỷ thư nhắc (đơn vị đã nộp đủ)".into(),
        "digest-queued" => "gửi thư tổng hợp cho cán bộ".into(),
        "receipt-withheld" => "không gửi biên nhận (quá số thư trong giờ)".into(),
        "sender-unverified" => "giữ lại: người gửi không qua kiểm tra xác thực".into(),
        "list-ignored" => "thư danh sách / hàng loạt, không tiếp nhận".into(),
        "released" => "cán bộ cho phép ghi nhận thư bị giữ lại".into(),
        other => other.into(),
    }
}

fn pct(n: u32, of: u32) -> String {
    if of == 0 {
        "0%".into()
    } else {
        format!("{:.0}%", 100.0 * n as f64 / of as f64)
    }
}

/// The status of every campaign as text.
pub fn status_table(status: &Status, now: DateTime<FixedOffset>, tz: chrono_tz::Tz) -> String {
    let mut out = String::new();
    if let Some(m) = &status.mailbox {
        let since = DateTime::parse_from_rfc3339(&m.since)
            .map(|t| t.format("%H:%M %d/%m/%Y UTC").to_string())
            .unwrap_or_default();
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
    let o = &status.outbox;
    if o.waiting + o.failed > 0 {
        out.push_str(&format!(
            "Thư đi: {} đã gửi, {} đang chờ gửi, {} KHÔNG GỬI ĐƯỢC\n",
            o.sent, o.waiting, o.failed
        ));
        for u in status.undelivered.iter().take(10) {
            let state = match (&u.failed_at, &u.next_attempt_at) {
                (Some(_), _) => "không gửi được".to_string(),
                (None, Some(next)) => format!(
                    "thử lại lúc {}",
                    DateTime::parse_from_rfc3339(next)
                        .map(|t| t.with_timezone(&tz).format("%H:%M %d/%m/%Y").to_string())
                        .unwrap_or_default()
                ),
                (None, None) => "chờ gửi".to_string(),
            };
            out.push_str(&format!(
                "  • {} → {}: {state} ({} lần thử) — {}\n",
                u.subject,
                u.to,
                u.attempts,
                u.error.as_deref().unwrap_or("")
            ));
        }
        out.push('\n');
    }
    for c in &status.campaigns {
        let deadline = DateTime::parse_from_rfc3339(&c.deadline).unwrap_or(now);
        let left = deadline - now;
        let when = if left.num_seconds() >= 0 {
            format!("còn {} ngày {} giờ", left.num_days(), left.num_hours() % 24)
        } else {
            format!("đã quá hạn {} ngày", (-left).num_days())
        };
        out.push_str(&format!("Công văn {} — {}\n", c.dispatch, c.title));
        out.push_str(&format!(
            "Hạn nộp: {} ({when})\n",
            deadline.format("%H:%M ngày %d/%m/%Y")
        ));
        out.push_str(&format!(
            "Phải nộp: {} · Đã nhận: {} ({}) · Hợp lệ: {} ({}) · Đúng hạn: {} ({}) · Thư chờ xác nhận: {}\n",
            c.expected,
            c.received,
            pct(c.received, c.expected),
            c.valid,
            pct(c.valid, c.expected),
            c.on_time,
            pct(c.on_time, c.expected),
            c.quarantined
        ));
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        let mut head = vec!["STT".to_string(), "Đơn vị".to_string()];
        head.extend(c.deliverables.iter().map(|d| d.label.clone()));
        t.set_header(head);
        for (i, a) in c.agencies.iter().enumerate() {
            let mut row = vec![(i + 1).to_string(), a.name.clone()];
            for cell in &a.deliverables {
                let mut s = state_vi(&cell.state).to_string();
                if cell.warnings > 0 {
                    s.push_str(" (có cảnh báo)");
                }
                if let Some(v) = cell.version {
                    s.push_str(&format!(" (lần {v})"));
                }
                if cell.late == Some(true) {
                    s.push_str(" — trễ hạn");
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
pub fn log_table(events: &[Event], tz: chrono_tz::Tz) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(vec![
        "Thời gian",
        "Sự kiện",
        "Đơn vị",
        "Mã biên nhận",
        "Tệp",
        "Ghi chú",
    ]);
    for e in events {
        let at = DateTime::parse_from_rfc3339(&e.at)
            .map(|t| t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string())
            .unwrap_or_else(|_| e.at.clone());
        let files = files_text(&e.files).join("\n");
        let mut note = e.detail.clone().unwrap_or_default();
        if let Some(actor) = &e.actor {
            note = format!("{note} (bởi {actor})").trim().to_string();
        }
        t.add_row(vec![
            at,
            event_vi(&e.kind),
            e.agency.clone().unwrap_or_else(|| "—".into()),
            e.message
                .map(crate::store::receipt_number)
                .unwrap_or_default(),
            files,
            note,
        ]);
    }
    t.to_string()
}

/// The files of a log event, one line each: name, deliverable and version, check result.
pub fn files_text(files: &serde_json::Value) -> Vec<String> {
    files
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    let name = f["name"].as_str().unwrap_or("?");
                    let place = match (f["deliverable"].as_str(), f["version"].as_u64()) {
                        (Some(d), Some(v)) => format!("{name} → {d} lần {v}"),
                        (Some(d), None) => format!("{name} → {d}"),
                        _ => name.to_string(),
                    };
                    let check = match (
                        f["check"].as_str(),
                        f["errors"].as_u64(),
                        f["warnings"].as_u64(),
                    ) {
                        (Some("ok"), Some(0), Some(0)) => " (hợp lệ)".to_string(),
                        (Some("ok"), Some(0), Some(w)) => format!(" (hợp lệ, {w} cảnh báo)"),
                        (Some("ok"), Some(e), _) => format!(" ({e} lỗi)"),
                        (Some("empty"), _, _) => " (tệp trống)".to_string(),
                        (Some("unreadable"), _, _) => " (không đọc được)".to_string(),
                        (Some("encrypted"), _, _) => " (có mật khẩu)".to_string(),
                        _ => String::new(),
                    };
                    format!("{place}{check}")
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The reminder schedule as `intake remind` shows it.
pub fn reminder_table(
    planned: &[crate::notices::Planned],
    tz: chrono_tz::Tz,
    now: DateTime<FixedOffset>,
) -> String {
    if planned.is_empty() {
        return format!(
            "Không có thư nhắc nào phải gửi (lúc {}): các đơn vị đã nộp đủ, đã được nhắc, hoặc đợt báo cáo không đặt lịch nhắc.\n",
            now.with_timezone(&tz).format("%H:%M ngày %d/%m/%Y")
        );
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
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
        let step = match p.step.days {
            d if d < 0 => format!("{} ngày trước hạn", -d),
            0 => "ngày cuối".to_string(),
            d => format!("{d} ngày sau hạn"),
        };
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
            p.campaign.clone(),
            p.agency.clone(),
            step,
            p.step
                .due_at
                .with_timezone(&tz)
                .format("%H:%M %d/%m/%Y")
                .to_string(),
            action,
            p.owes.join(", "),
            p.to.clone(),
        ]);
    }
    format!("{t}\n")
}

/// Reminder steps already decided, for one agency: when each was due, sent or skipped.
pub fn reminder_history(rows: &[crate::store::mail::ReminderRecord], tz: chrono_tz::Tz) -> String {
    let local = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&tz).format("%H:%M %d/%m/%Y").to_string())
            .unwrap_or_else(|_| s.to_string())
    };
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(vec!["Đợt", "Đơn vị", "Bước (ngày)", "Đến hạn", "Kết quả"]);
    for h in rows {
        let result = match (h.outcome.as_str(), h.reason.as_deref(), &h.sent_at) {
            ("queued", _, Some(at)) => format!("đã gửi lúc {}", local(at)),
            ("queued", _, None) => match &h.failed {
                Some(why) if why.starts_with("cancelled:") => {
                    format!("đã huỷ ({})", why.trim_start_matches("cancelled: "))
                }
                Some(why) => format!("không gửi được: {why}"),
                None => "đang chờ gửi".to_string(),
            },
            (_, Some("superseded"), _) => "bỏ qua (đã lỡ, có bước sau)".to_string(),
            (_, Some("stale"), _) => "bỏ qua (quá muộn)".to_string(),
            (_, Some("no-address"), _) => "bỏ qua (không có địa chỉ thư)".to_string(),
            (o, _, _) => o.to_string(),
        };
        t.add_row(vec![
            h.campaign.clone(),
            h.agency.clone(),
            format!("{:+}", h.step),
            local(&h.due_at),
            result,
        ]);
    }
    format!("{t}\n")
}
