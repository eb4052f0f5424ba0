//! # One vocabulary
//!
//! Staff compare the board with the digest and agencies compare a receipt with a reminder: if
//! one says 24 % and the other 20 %, or "2 ngày" and "3 ngày", for the same fact, nobody
//! trusts either. So every word intake shows people about a state, a rate, a span of time, a
//! number or a date is made here, and the board, the CLI tables, the mail contexts, the
//! exports and `check-config` call these functions instead of wording things themselves.
//!
//! The rules, once:
//!
//! - **Rates** are DHIS2's, all over what is expected (agencies × deliverables, less
//!   exemptions): [`Rate::Reporting`] "Tỷ lệ nộp báo cáo" = received / expected,
//!   [`Rate::Valid`] "Tỷ lệ hợp lệ" = valid / expected, [`Rate::OnTime`] "Tỷ lệ đúng hạn" = on
//!   time / expected; one decimal, decimal comma (`21,1%`), `—` when nothing is expected.
//! - **Days** are counted as people count them on a calendar, in the department's zone:
//!   overdue by the days from the last day one could submit to the day of `at` (a deadline
//!   of 00:00 on 10/07 makes 09/07 the last day, so anything on 12/07 is "3 ngày" late, as is
//!   the reminder step "3 days after"); time left is the days from today to the last day. On
//!   the last day itself (a deadline inside the day, an extension to 15:00), the span is in
//!   hours, or minutes under an hour. Nothing else rounds a duration.
//! - **Numbers**: decimal comma, thousands dot (`96,8`, `1.234.567`).
//! - **Times**: `09:30 ngày 11/07/2018`; days `ngày 06/07/2018` ([`date`]) or `06/07/2018`
//!   where the sentence already says "ngày" ([`day`]); deadlines as the campaign words them.
//! - **Names, not ids**: agencies, campaigns and deliverables by their configured names and
//!   labels ([`Names`]); text stored with ids or RFC 3339 times is worded by [`Names::note`].

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};
use unicode_normalization::UnicodeNormalization;

/// A time zone dates can be shown in.
pub trait Zone: chrono::TimeZone<Offset: std::fmt::Display> + Copy {}

impl<T: chrono::TimeZone<Offset: std::fmt::Display> + Copy> Zone for T {}

/// A whole number with thousands dots: `1.234.567`.
pub fn integer(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

/// A number written the Vietnamese way, as many decimals as it has (float noise beyond six
/// removed): `1.644,1`, `96,8`, `100`.
pub fn number(v: f64) -> String {
    let v = (v * 1e6).round() / 1e6;
    let s = format!("{}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let sign = if v < 0.0 { "-" } else { "" };
    let whole = integer(int.parse::<i64>().unwrap_or(0));
    if frac.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole},{frac}")
    }
}

/// A number with exactly `places` decimals: `number_fixed(21.05, 1)` is `21,1`.
pub fn number_fixed(v: f64, places: usize) -> String {
    let s = format!("{:.*}", places, v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let sign = if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    let whole = integer(int.parse::<i64>().unwrap_or(0));
    if frac.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole},{frac}")
    }
}

/// A byte count for people: `820 B`, `12 KB`, `52,3 MB`, `1,2 GB`.
pub fn size(bytes: u64) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < K * K {
        format!("{} KB", number_fixed(b / K, 0))
    } else if b < K * K * K {
        format!("{} MB", number(((b / (K * K)) * 10.0).round() / 10.0))
    } else {
        format!("{} GB", number(((b / (K * K * K)) * 10.0).round() / 10.0))
    }
}

/// A percentage given in hundredths: `percent(21.05)` is `21,1%`.
pub fn percent(v: f64) -> String {
    format!("{}%", number_fixed(v, 1))
}

/// The `vi` filter of the mail and board templates: a whole number with thousands dots, any
/// other number with a decimal comma (`{{ c.expected | vi }}` gives `1.234`); text
/// and null pass through unchanged.
pub fn number_filter(v: minijinja::Value) -> String {
    if let Ok(n) = i64::try_from(v.clone()) {
        integer(n)
    } else if let Ok(x) = f64::try_from(v.clone()) {
        number(x)
    } else {
        v.to_string()
    }
}

/// What a campaign (or one of its deliverables) counts: the numbers every rate is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Deliverables expected: agencies × deliverables, less exemptions.
    pub expected: u32,
    /// Of those, received in any form.
    pub received: u32,
    /// Of those, with an accepted workbook.
    pub valid: u32,
    /// Of the received, those whose first usable version came by the deadline.
    pub on_time: u32,
}

/// The three rates, as DHIS2 defines them: each over what is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// Received / expected: "Tỷ lệ nộp báo cáo".
    Reporting,
    /// Valid / expected: "Tỷ lệ hợp lệ".
    Valid,
    /// On time / expected: "Tỷ lệ đúng hạn".
    OnTime,
}

impl Rate {
    /// Every rate, in the order they are shown.
    pub const ALL: [Rate; 3] = [Rate::Reporting, Rate::Valid, Rate::OnTime];

    /// Its name, the same on every surface.
    pub fn name(self) -> &'static str {
        match self {
            Rate::Reporting => "Tỷ lệ nộp báo cáo",
            Rate::Valid => "Tỷ lệ hợp lệ",
            Rate::OnTime => "Tỷ lệ đúng hạn",
        }
    }

    /// How it is computed, in words: `đã nhận / phải nộp`.
    pub fn definition(self) -> &'static str {
        match self {
            Rate::Reporting => "đã nhận / phải nộp",
            Rate::Valid => "hợp lệ / phải nộp",
            Rate::OnTime => "đúng hạn / phải nộp",
        }
    }

    /// Its numerator.
    pub fn count(self, c: &Counts) -> u32 {
        match self {
            Rate::Reporting => c.received,
            Rate::Valid => c.valid,
            Rate::OnTime => c.on_time,
        }
    }

    /// Its value in hundredths, or None when nothing is expected.
    pub fn value(self, c: &Counts) -> Option<f64> {
        (c.expected > 0).then(|| 100.0 * self.count(c) as f64 / c.expected as f64)
    }

    /// Its value in words: `21,1%`, or `—` when nothing is expected.
    pub fn words(self, c: &Counts) -> String {
        self.value(c).map_or_else(|| "—".into(), percent)
    }
}

/// The three rates in words, as templates and pages receive them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rates {
    /// [`Rate::Reporting`]: received / expected.
    pub reporting_rate: String,
    /// [`Rate::Valid`]: valid / expected.
    pub valid_rate: String,
    /// [`Rate::OnTime`]: on time / expected.
    pub on_time_rate: String,
}

impl Rates {
    /// The rates of `c`.
    pub fn of(c: &Counts) -> Rates {
        Rates {
            reporting_rate: Rate::Reporting.words(c),
            valid_rate: Rate::Valid.words(c),
            on_time_rate: Rate::OnTime.words(c),
        }
    }
}

/// A day where the sentence already says "ngày": `06/07/2018`.
pub fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A day: `ngày 06/07/2018`.
pub fn date(d: NaiveDate) -> String {
    format!("ngày {}", day(d))
}

/// An instant in `tz`: `09:30 ngày 11/07/2018`.
pub fn when<T: Zone>(at: DateTime<FixedOffset>, tz: T) -> String {
    at.with_timezone(&tz)
        .format("%H:%M ngày %d/%m/%Y")
        .to_string()
}

/// A stored RFC 3339 instant in `tz`, as [`when`]; text that is not one is returned as is.
pub fn when_text<T: Zone>(at: &str, tz: T) -> String {
    DateTime::parse_from_rfc3339(at)
        .map(|t| when(t, tz))
        .unwrap_or_else(|_| at.to_string())
}

/// The last local day before `deadline` (a deadline at midnight ends the previous day).
pub fn last_day<T: Zone>(deadline: DateTime<FixedOffset>, tz: T) -> NaiveDate {
    (deadline - TimeDelta::seconds(1))
        .with_timezone(&tz)
        .date_naive()
}

/// Calendar days from the last day before `deadline` to the day of `at`, in `tz`: positive
/// after, 0 on the last day, negative before. The one count of days every surface uses.
pub fn days_after<T: Zone>(
    deadline: DateTime<FixedOffset>,
    at: DateTime<FixedOffset>,
    tz: T,
) -> i64 {
    (at.with_timezone(&tz).date_naive() - last_day(deadline, tz)).num_days()
}

/// A span under a day: `5 giờ`, `12 phút` (at least a minute).
fn within_day(d: TimeDelta) -> String {
    let mins = d.num_minutes().max(1);
    if mins >= 60 {
        format!("{} giờ", mins / 60)
    } else {
        format!("{mins} phút")
    }
}

/// How long after `deadline` something came (`3 ngày`; `5 giờ`, `12 phút` on the last day
/// itself), by the calendar rule of the module header.
pub fn overdue<T: Zone>(
    deadline: DateTime<FixedOffset>,
    at: DateTime<FixedOffset>,
    tz: T,
) -> String {
    match days_after(deadline, at, tz) {
        d if d >= 1 => format!("{} ngày", integer(d)),
        _ => within_day(at - deadline),
    }
}

/// Time left before `deadline` (`còn 5 ngày`, `còn 4 giờ` on the last day), or how long it
/// is past (`đã quá hạn 3 ngày`), by the calendar rule of the module header.
pub fn time_left<T: Zone>(
    deadline: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
    tz: T,
) -> String {
    if now >= deadline {
        return format!("đã quá hạn {}", overdue(deadline, now, tz));
    }
    match -days_after(deadline, now, tz) {
        d if d >= 1 => format!("còn {} ngày", integer(d)),
        _ => format!("còn {}", within_day(deadline - now)),
    }
}

/// A reminder step, in days from the last day: `2 ngày trước hạn`, `ngày cuối`, `3 ngày sau hạn`.
pub fn step(days: i32) -> String {
    match days {
        d if d < 0 => format!("{} ngày trước hạn", -d),
        0 => "ngày cuối".into(),
        d => format!("{d} ngày sau hạn"),
    }
}

/// Why a queued mail was cancelled, from the stored reason (`cancelled: superseded by …`).
pub fn cancelled(why: &str) -> String {
    let why = why.trim_start_matches("cancelled:").trim();
    if why.starts_with("superseded") {
        "có thư mới thay".into()
    } else if why.starts_with("the agency has sent everything") {
        "đơn vị đã nộp đủ".into()
    } else if why.starts_with("stale") {
        "quá lâu không gửi được".into()
    } else {
        why.into()
    }
}

/// What a mail server answered, or why intake gave a mail up, as staff read it: a stored
/// `cancelled: …` reason in words ([`cancelled`]), anything else (the server's own text) as is.
pub fn mail_error(text: &str) -> String {
    if text.starts_with("cancelled:") {
        format!("đã huỷ ({})", cancelled(text))
    } else {
        text.to_string()
    }
}

/// What became of a reminder step: sent when, cancelled why, still waiting, or skipped why.
pub fn reminder_result<T: Zone>(
    outcome: &str,
    reason: Option<&str>,
    sent_at: Option<&str>,
    failed: Option<&str>,
    tz: T,
) -> String {
    match (outcome, reason, sent_at) {
        ("queued", _, Some(at)) => format!("đã gửi lúc {}", when_text(at, tz)),
        ("queued", _, None) => match failed {
            Some(why) if why.starts_with("cancelled:") => format!("đã huỷ ({})", cancelled(why)),
            Some(why) => format!("không gửi được: {why}"),
            None => "đang chờ gửi".into(),
        },
        (_, Some("superseded"), _) => "bỏ qua (đã lỡ, có bước sau)".into(),
        (_, Some("stale"), _) => "bỏ qua (quá muộn)".into(),
        (_, Some("no-address"), _) => "bỏ qua (đơn vị không có địa chỉ thư)".into(),
        (o, _, _) => o.into(),
    }
}

/// A cell of the status matrix: `missing`, `received` (a report, no usable workbook),
/// `invalid`, `accepted`, `exempt`.
pub fn state(state: &str) -> &'static str {
    match state {
        "missing" => "chưa nộp",
        "received" => "chỉ có báo cáo",
        "invalid" => "không hợp lệ",
        "accepted" => "hợp lệ",
        "exempt" => "miễn nộp",
        _ => "?",
    }
}

/// A cell's state with its warnings: accepted with warnings is a state of its own.
pub fn state_with_warnings(s: &str, warnings: u32) -> String {
    if s == "accepted" && warnings > 0 {
        "hợp lệ, có cảnh báo".into()
    } else {
        state(s).into()
    }
}

/// A submission that came after its deadline, and one that came by it.
pub fn lateness(late: bool) -> &'static str {
    if late { "trễ hạn" } else { "đúng hạn" }
}

/// A version: `lần 2`.
pub fn version(v: u32) -> String {
    format!("lần {v}")
}

/// Whether a file could be read and what its check found: `hợp lệ`, `hợp lệ, 2 cảnh báo`,
/// `3 lỗi`, `không có số liệu`, `không đọc được`, `có mật khẩu`; None when there is nothing
/// to say (a document read fine).
pub fn file_check(check: &str, errors: Option<u32>, warnings: Option<u32>) -> Option<String> {
    match (check, errors, warnings) {
        ("ok", Some(0), Some(0) | None) => Some("hợp lệ".into()),
        ("ok", Some(0), Some(w)) => Some(format!("hợp lệ, {} cảnh báo", integer(w.into()))),
        ("ok", Some(e), Some(w)) if w > 0 => Some(format!(
            "{} lỗi, {} cảnh báo",
            integer(e.into()),
            integer(w.into())
        )),
        ("ok", Some(e), _) => Some(format!("{} lỗi", integer(e.into()))),
        ("empty", _, _) => Some("không có số liệu".into()),
        ("unreadable", _, _) => Some("không đọc được".into()),
        ("encrypted", _, _) => Some("có mật khẩu, không mở được".into()),
        _ => None,
    }
}

/// Why an invalid version is invalid: its errors (`3 lỗi`) or, when it has none, why its
/// workbook could not be checked (`không có số liệu`, `không đọc được`), from its
/// workbooks' `check` values.
pub fn invalid_reason(errors: u32, checks: &[String]) -> String {
    if errors > 0 {
        return format!("{} lỗi", integer(errors.into()));
    }
    for c in ["empty", "encrypted", "unreadable"] {
        if checks.iter().any(|x| x == c) {
            return file_check(c, None, None).unwrap_or_default();
        }
    }
    "không có biểu số liệu dùng được".into()
}

/// Vietnamese words for an intake log event kind.
pub fn event(kind: &str) -> String {
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
        k if k.ends_with("-reassigned") => format!(
            "{} (đã gán lại cho đơn vị)",
            event(k.trim_end_matches("-reassigned"))
        ),
        other => other.into(),
    }
}

/// Vietnamese words for an event kind as its source logged it: an item of the drop folder
/// left alone is not "ordinary mail".
pub fn event_from(kind: &str, source: &str) -> String {
    match (kind, source) {
        ("left-alone", "drop") => "để nguyên trong thư mục nhận, không tiếp nhận".into(),
        _ => event(kind),
    }
}

/// Why the drop folder leaves an item alone, in Vietnamese, from its code (`symlink`, `fifo`,
/// `device`, `socket`, `hidden`, `temporary`, `too-deep`).
pub fn left_alone_reason(code: &str) -> String {
    match code {
        "symlink" => "là liên kết (symlink): hệ thống không bao giờ mở theo liên kết; hãy chép chính tệp vào thư mục".into(),
        "fifo" => "không phải tệp thường (ống dẫn FIFO)".into(),
        "device" => "không phải tệp thường (tệp thiết bị)".into(),
        "socket" => "không phải tệp thường (socket)".into(),
        "hidden" => "tên bắt đầu bằng dấu chấm (tệp, thư mục ẩn)".into(),
        "temporary" => "tệp tạm, tệp khoá hoặc tệp hệ thống (đang mở, đang chép dở)".into(),
        "too-deep" => "nằm quá sâu: chỉ nhận tệp ở thư mục nhận và tối đa hai cấp thư mục con".into(),
        other => other.into(),
    }
}

/// The file name of a blank form attached for an agency: `Phụ lục II - Sở Y tế.xlsx` (the
/// mail builder adds the ASCII fallback of the MIME parameter).
pub fn blank_form_name(label: &str, agency_name: &str) -> String {
    nfc(&format!("{label} - {agency_name}.xlsx"))
}

/// The file name of a workbook's copy with its findings marked, attached to the receipt:
/// `Kết quả kiểm tra - PL1_SoYTe.xlsx`.
pub fn annotated_name(file: &str) -> String {
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    nfc(&format!("{ANNOTATED} - {stem}.xlsx"))
}

/// How receipts and their attachments call the marked copy of a workbook.
pub const ANNOTATED: &str = "Kết quả kiểm tra";

/// Text in Unicode NFC, as every mail is written (a subject decoded from windows-1258 keeps
/// its tone marks as combining characters until this).
pub fn nfc(text: &str) -> String {
    text.nfc().collect()
}

/// The configured names of ids, to word what people read without ids.
#[derive(Debug, Clone, Default)]
pub struct Names {
    agencies: HashMap<String, String>,
    campaigns: HashMap<String, String>,
    deliverables: HashMap<(String, String), String>,
    /// Deliverable ids with their label when the id means the same in every campaign.
    any_deliverable: HashMap<String, String>,
}

impl Names {
    /// Names from what the configuration lists, each list in its order (a later name of the
    /// same id wins): agencies `(code, name)`, campaigns `(id, name)`, deliverables
    /// `((campaign, id), label)`. A deliverable id is named without its campaign only when
    /// every campaign labels it the same.
    pub fn new(
        agencies: Vec<(String, String)>,
        campaigns: Vec<(String, String)>,
        deliverables: Vec<((String, String), String)>,
    ) -> Names {
        let mut n = Names::default();
        n.agencies.extend(agencies);
        n.campaigns.extend(campaigns);
        let mut ambiguous = Vec::new();
        for ((campaign, id), label) in deliverables {
            match n.any_deliverable.get(&id) {
                Some(l) if *l != label => ambiguous.push(id.clone()),
                _ => {
                    n.any_deliverable.insert(id.clone(), label.clone());
                }
            }
            n.deliverables.insert((campaign, id), label);
        }
        for id in ambiguous {
            n.any_deliverable.remove(&id);
        }
        n
    }

    /// An agency's name, or its code when it is not listed.
    pub fn agency(&self, code: &str) -> String {
        self.agencies
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }

    /// A campaign as people know it, `Công văn 742/SKHĐT-THQH`, or its id when unknown.
    pub fn campaign(&self, id: &str) -> String {
        self.campaigns
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// A deliverable's label (`Phụ lục II`); without a campaign, the label its id has in
    /// every campaign; the id itself when unknown.
    pub fn deliverable(&self, campaign: Option<&str>, id: &str) -> String {
        campaign
            .and_then(|c| self.deliverables.get(&(c.to_string(), id.to_string())))
            .or_else(|| self.any_deliverable.get(id))
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// A note stored with ids and RFC 3339 times (`gia hạn đến 2018-07-15T00:00:00+07:00`,
    /// `có thể là ubnd-loc-binh`) worded for people: times as [`when`], agency codes and
    /// campaign ids as names. Addresses (`so-y-te@…`) are left alone.
    pub fn note<T: Zone>(&self, text: &str, tz: T) -> String {
        let text = nfc(&iso_times(text, tz));
        let mut out = String::with_capacity(text.len());
        let bytes = text.as_bytes();
        let is_id = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
        let mut i = 0;
        while i < bytes.len() {
            if is_id(bytes[i]) && (i == 0 || !boundary_blocks(bytes[i - 1])) {
                let start = i;
                while i < bytes.len() && is_id(bytes[i]) {
                    i += 1;
                }
                let word = &text[start..i];
                let free = i == bytes.len() || !boundary_blocks(bytes[i]);
                match (free, self.agencies.get(word), self.campaigns.get(word)) {
                    (true, Some(name), _) => out.push_str(name),
                    (true, None, Some(name)) => out.push_str(name),
                    _ => out.push_str(word),
                }
                continue;
            }
            let ch = text[i..].chars().next().expect("i is on a char boundary");
            out.push(ch);
            i += ch.len_utf8();
        }
        out
    }
}

/// Characters that make a neighbouring word part of something else: an address, a path,
/// a longer token.
fn boundary_blocks(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'@' | b'.' | b'_' | b'/' | b'+') || b >= 0x80
}

/// Every RFC 3339 time in `text` (`2018-07-15T00:00:00+07:00`, with or without fractions,
/// `Z` or an offset) worded by [`when`].
fn iso_times<T: Zone>(text: &str, tz: T) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.' | '+')))
            .unwrap_or(rest.len());
        // The longest prefix that parses, so that a trailing "." or ":" stays text.
        let found = (19..=len.min(35))
            .rev()
            .filter(|&n| rest.is_char_boundary(n))
            .find_map(|n| {
                DateTime::parse_from_rfc3339(&rest[..n])
                    .ok()
                    .map(|t| (n, t))
            });
        match found {
            Some((n, t)) => {
                out.push_str(&when(t, tz));
                rest = &rest[n..];
            }
            None => {
                let skip = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                out.push_str(&rest[..skip]);
                rest = &rest[skip..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A source (as leases and health name it), for staff: `hộp thư`, `hộp thư <name>`,
/// `thư mục nộp tệp`.
pub fn source(name: &str) -> String {
    match name {
        "mailbox" => "hộp thư".into(),
        "drop" => "thư mục nộp tệp".into(),
        other => match other.strip_prefix("mailbox:") {
            Some(n) => format!("hộp thư {n}"),
            None => other.into(),
        },
    }
}

/// A part of intake that keeps failing, for staff: what, since when, why in their words, and
/// what it means for the agencies' mail.
pub fn problem<T: Zone>(p: &crate::health::Problem, tz: T) -> String {
    let named;
    let (what, consequence) = match p.part.as_str() {
        part if part.starts_with("mailbox:") => {
            named = format!("Hộp thư {} KHÔNG ĐỌC ĐƯỢC", &part["mailbox:".len()..]);
            (
                named.as_str(),
                "thư mới của các đơn vị gửi vào hộp thư này chưa được tiếp nhận",
            )
        }
        "store" => (
            "Kho lưu KHÔNG GHI ĐƯỢC",
            "thư và tệp mới chưa được tiếp nhận; chúng vẫn nằm nguyên trong hộp thư và thư mục nộp tệp, sẽ được tiếp nhận khi kho ghi lại được",
        ),
        "mailbox" => (
            "Hộp thư KHÔNG ĐỌC ĐƯỢC",
            "thư mới của các đơn vị chưa được tiếp nhận",
        ),
        "drop" => (
            "Thư mục nộp tệp KHÔNG ĐỌC ĐƯỢC",
            "tệp mới trong thư mục chưa được tiếp nhận",
        ),
        _ => ("Lỗi", ""),
    };
    let times = if p.count > 1 {
        format!(", {} lần liên tiếp", integer(i64::from(p.count)))
    } else {
        String::new()
    };
    format!(
        "{what} từ {}{times}: {} — {consequence}.",
        when_text(&p.since, tz),
        cause(&p.error)
    )
}

/// The cause of a failure in staff's words, with the system's own text after it for the IT
/// person ("ổ đĩa đã đầy (… No space left on device)").
pub fn cause(error: &str) -> String {
    let lower = error.to_lowercase();
    let said = [
        ("no space left on device", "ổ đĩa đã đầy"),
        ("disk quota exceeded", "đã hết hạn mức dung lượng đĩa"),
        (
            "database is locked",
            "chỉ mục đang bị một chương trình khác khoá",
        ),
        (
            "database disk image is malformed",
            "chỉ mục bị hỏng, cần khôi phục từ bản sao lưu",
        ),
        ("read-only file system", "ổ đĩa chỉ cho phép đọc"),
        ("permission denied", "intake không có quyền ghi hoặc đọc"),
        ("no such file or directory", "không tìm thấy thư mục"),
        ("connection refused", "máy chủ thư không nhận kết nối"),
        ("timed out", "máy chủ không trả lời"),
        ("authentication failed", "máy chủ thư từ chối đăng nhập"),
        ("login", "máy chủ thư từ chối đăng nhập"),
        ("failed to lookup address", "không tìm thấy máy chủ thư"),
        ("name or service not known", "không tìm thấy máy chủ thư"),
    ]
    .iter()
    .find(|(needle, _)| lower.contains(needle))
    .map(|(_, words)| *words);
    match said {
        Some(words) => format!("{words} ({error})"),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn tz() -> chrono_tz::Tz {
        "Asia/Ho_Chi_Minh".parse().unwrap()
    }

    #[test]
    fn numbers_have_a_decimal_comma_and_thousands_dots() {
        assert_eq!(integer(1_234_567), "1.234.567");
        assert_eq!(integer(-1000), "-1.000");
        assert_eq!(integer(999), "999");
        assert_eq!(number(96.8), "96,8");
        assert_eq!(number(1644.1), "1.644,1");
        assert_eq!(number(-1_234_567.0), "-1.234.567");
        assert_eq!(number(0.1 + 0.2), "0,3");
        assert_eq!(number_fixed(21.05263, 1), "21,1");
        assert_eq!(percent(100.0), "100,0%");
        assert_eq!(size(52_428_800 + 314_573), "50,3 MB");
        assert_eq!(size(40 * 1024 * 1024), "40 MB");
        assert_eq!(size(8 * 1024 + 100), "8 KB");
        assert_eq!(number_filter(minijinja::Value::from(1234)), "1.234");
        assert_eq!(number_filter(minijinja::Value::from(96.8)), "96,8");
        assert_eq!(number_filter(minijinja::Value::from("x")), "x");
    }

    #[test]
    fn rates_are_over_what_is_expected() {
        // 12 July 2018, 09:00: the demo's figures.
        let c = Counts {
            expected: 114,
            received: 24,
            valid: 20,
            on_time: 23,
        };
        let r = Rates::of(&c);
        assert_eq!(r.reporting_rate, "21,1%");
        assert_eq!(r.valid_rate, "17,5%");
        assert_eq!(r.on_time_rate, "20,2%");
        assert_eq!(Rate::Reporting.name(), "Tỷ lệ nộp báo cáo");
        assert_eq!(Rate::Valid.words(&Counts::default()), "—");
    }

    #[test]
    fn days_are_calendar_days_from_the_last_day() {
        let d = at("2018-07-10T00:00:00+07:00");
        assert_eq!(last_day(d, tz()).to_string(), "2018-07-09");
        assert_eq!(
            time_left(d, at("2018-07-04T08:00:00+07:00"), tz()),
            "còn 5 ngày"
        );
        assert_eq!(
            time_left(d, at("2018-07-09T20:00:00+07:00"), tz()),
            "còn 4 giờ"
        );
        assert_eq!(
            time_left(d, at("2018-07-09T23:30:00+07:00"), tz()),
            "còn 30 phút"
        );
        assert_eq!(
            time_left(d, at("2018-07-11T08:00:00+07:00"), tz()),
            "đã quá hạn 2 ngày"
        );
        // 2 days 9 hours after midnight is the third day after the last one.
        assert_eq!(overdue(d, at("2018-07-12T09:00:00+07:00"), tz()), "3 ngày");
        assert_eq!(days_after(d, at("2018-07-12T09:00:00+07:00"), tz()), 3);
        assert_eq!(overdue(d, at("2018-07-10T00:20:00+07:00"), tz()), "1 ngày");
        // A deadline inside a day: late the same day is in hours.
        let e = at("2018-07-13T15:00:00+07:00");
        assert_eq!(overdue(e, at("2018-07-13T17:10:00+07:00"), tz()), "2 giờ");
        assert_eq!(overdue(e, at("2018-07-14T08:00:00+07:00"), tz()), "1 ngày");
        assert_eq!(step(-2), "2 ngày trước hạn");
        assert_eq!(step(3), "3 ngày sau hạn");
    }

    #[test]
    fn times_and_days_are_worded() {
        assert_eq!(
            when(at("2018-07-11T02:30:00Z"), tz()),
            "09:30 ngày 11/07/2018"
        );
        let d = NaiveDate::from_ymd_opt(2018, 7, 6).unwrap();
        assert_eq!(date(d), "ngày 06/07/2018");
        assert_eq!(day(d), "06/07/2018");
        assert_eq!(when_text("soon", tz()), "soon");
    }

    #[test]
    fn why_an_invalid_workbook_is_invalid() {
        assert_eq!(invalid_reason(3, &[]), "3 lỗi");
        assert_eq!(invalid_reason(0, &["empty".into()]), "không có số liệu");
        assert_eq!(invalid_reason(0, &["unreadable".into()]), "không đọc được");
        assert_eq!(
            file_check("ok", Some(0), Some(2)).unwrap(),
            "hợp lệ, 2 cảnh báo"
        );
        assert_eq!(file_check("ok", None, None), None);
        assert_eq!(
            mail_error("cancelled: stale, waited since 2018-07-10T08:00:00+07:00 for the server"),
            "đã huỷ (quá lâu không gửi được)"
        );
        assert_eq!(mail_error("550 5.1.1 unknown"), "550 5.1.1 unknown");
    }

    #[test]
    fn notes_lose_their_ids_and_iso_times() {
        let mut n = Names::default();
        n.agencies.insert(
            "ubnd-loc-binh".into(),
            "Ủy ban nhân dân huyện Lộc Bình".into(),
        );
        n.agencies.insert("so-y-te".into(), "Sở Y tế".into());
        n.campaigns
            .insert("742-2018".into(), "Công văn 742/SKHĐT-THQH".into());
        assert_eq!(
            n.note("có thể là ubnd-loc-binh (ô tiêu đề)", tz()),
            "có thể là Ủy ban nhân dân huyện Lộc Bình (ô tiêu đề)"
        );
        assert_eq!(
            n.note(
                "gia hạn đến 2018-07-15T00:00:00+07:00 (đợt 742-2018).",
                tz()
            ),
            "gia hạn đến 00:00 ngày 15/07/2018 (đợt Công văn 742/SKHĐT-THQH)."
        );
        assert_eq!(
            n.note("so-y-te@langson.example: gửi lại", tz()),
            "so-y-te@langson.example: gửi lại"
        );
        assert_eq!(
            n.note("lúc 2018-07-11T02:30:00.123Z, xong", tz()),
            "lúc 09:30 ngày 11/07/2018, xong"
        );
    }

    #[test]
    fn attachment_names_are_labels_and_names_in_nfc() {
        let nfd: String = "Sở Y tế".nfd().collect();
        let name = blank_form_name("Phụ lục II", &nfd);
        assert_eq!(name, "Phụ lục II - Sở Y tế.xlsx");
        assert!(name.nfc().eq(name.chars()));
        assert_eq!(
            annotated_name("PL1_SoYTe.xls"),
            "Kết quả kiểm tra - PL1_SoYTe.xlsx"
        );
    }
}
