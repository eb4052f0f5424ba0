//! # Forwarded header blocks
//!
//! The clerk forwards the agencies' report e-mails to the intake mailbox, so the agency that
//! really sent a report is named only in the header block the clerk's mail client wrote into
//! the body. This finds those blocks as Outlook, Gmail, Thunderbird, Apple Mail and webmail
//! write them in English and Vietnamese, with bounded work on untrusted text.

mod date;

use chrono::{DateTime, FixedOffset};

pub use date::parse_client_date;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The original message's headers as a forwarding client wrote them into the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    /// The original sender's address, lower case.
    pub from: String,
    /// Its display name, when written.
    pub from_name: Option<String>,
    /// The original date, when it could be read (without a zone in the text: `default_offset`).
    pub date: Option<DateTime<FixedOffset>>,
    /// The original subject, when written.
    pub subject: Option<String>,
    /// The line that introduced the block (e.g. `---------- Forwarded message ---------`), or the first header line when there was none, for the evidence shown to staff (at most 120 chars).
    pub marker: String,
}

const MAX_BLOCKS: usize = 8;
const MAX_BYTES: usize = 512 * 1024;
const MAX_LINES: usize = 20_000;
/// Label and continuation lines one block may span.
const MAX_RUN: usize = 40;
/// How far from its From line a block without a marker must have a date or subject line.
const NEAR: usize = 6;
const MARKER_CHARS: usize = 120;
const NAME_CHARS: usize = 200;
/// Bytes kept of one header value, wrapped lines included.
const MAX_VALUE: usize = 2000;

/// Intro lines, compared after dashes, underscores, `=`, `*`, colons and spaces are trimmed.
const MARKERS: &[&str] = &[
    "forwarded message",
    "original message",
    "begin forwarded message",
    "thư đã chuyển tiếp",
    "thư chuyển tiếp",
    "thư được chuyển tiếp",
    "bắt đầu thư được chuyển tiếp",
    "tin nhắn đã chuyển tiếp",
    "thư gốc",
    "chuyển tiếp thư",
    "message transféré",
    "message d'origine",
    "mensaje reenviado",
    "mensaje original",
    "weitergeleitete nachricht",
    "ursprüngliche nachricht",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    From,
    Date,
    Subject,
    Other,
}

const LABELS: &[(Label, &[&str])] = &[
    (Label::From, &["from", "từ", "người gửi", "de", "von"]),
    (
        Label::Date,
        &[
            "date",
            "sent",
            "ngày",
            "ngày gửi",
            "đã gửi",
            "gửi lúc",
            "thời gian",
            "gửi",
            "envoyé",
            "gesendet",
            "fecha",
            "enviado",
            "enviado el",
        ],
    ),
    (
        Label::Subject,
        &[
            "subject",
            "tiêu đề",
            "chủ đề",
            "về việc",
            "objet",
            "betreff",
            "asunto",
            "sujet",
        ],
    ),
    (
        Label::Other,
        &[
            "to",
            "tới",
            "đến",
            "người nhận",
            "gửi tới",
            "gửi đến",
            "cc",
            "bcc",
            "reply-to",
            "trả lời",
            "trả lời cho",
            "an",
            "para",
        ],
    ),
];

/// Every forwarded header block in a body text, outermost (first in the text) first; at most 8.
pub fn forwarded_blocks(body: &str, default_offset: FixedOffset) -> Vec<Forwarded> {
    let lines = read_lines(body);
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() && blocks.len() < MAX_BLOCKS {
        let text = lines[i].text.as_str();
        if text.is_empty() {
            i += 1;
            continue;
        }
        if is_marker(text) {
            let mut start = i + 1;
            while lines.get(start).is_some_and(|l| l.text.is_empty()) {
                start += 1;
            }
            let run = read_run(&lines, start);
            if let Some(block) = to_block(&run, &lines, Some(text), default_offset) {
                blocks.push(block);
                i = run.end;
                continue;
            }
        } else if header_line(text).is_some() {
            let run = read_run(&lines, i);
            if let Some(block) = to_block(&run, &lines, None, default_offset) {
                blocks.push(block);
            }
            i = run.end.max(i + 1);
            continue;
        }
        i += 1;
    }
    blocks
}

/// A body line with quote markers and surrounding space removed.
struct Line {
    text: String,
    /// Leading blanks after the quote markers (a tab counts 4, the space after `>` none).
    indent: usize,
}

fn read_lines(body: &str) -> Vec<Line> {
    let mut end = body.len().min(MAX_BYTES);
    if let Some((nth, _)) = body[..floor_boundary(body, end)]
        .match_indices('\n')
        .nth(MAX_LINES - 1)
    {
        end = nth;
    }
    let text: String = body[..floor_boundary(body, end)].nfc().collect();
    text.split('\n').take(MAX_LINES).map(line_of).collect()
}

fn floor_boundary(s: &str, mut at: usize) -> usize {
    at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn clip(s: &str, max: usize) -> &str {
    &s[..floor_boundary(s, max)]
}

fn line_of(raw: &str) -> Line {
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    let mut rest = raw;
    let mut quoted = false;
    while let Some(after) = rest.trim_start_matches(is_space).strip_prefix('>') {
        rest = after;
        quoted = true;
    }
    let width: usize = rest
        .chars()
        .take_while(|&c| is_space(c))
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum();
    Line {
        text: rest.trim_matches(is_space).to_owned(),
        indent: if quoted {
            width.saturating_sub(1)
        } else {
            width
        },
    }
}

pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}')
}

/// Lower case with runs of space made one space.
fn collapse_lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(is_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Lower case without diacritics (`đ` read as `d`).
pub(crate) fn fold(s: &str) -> impl Iterator<Item = char> + '_ {
    s.nfd()
        .filter(|&c| !is_combining_mark(c))
        .map(|c| if matches!(c, 'đ' | 'Đ') { 'd' } else { c })
        .flat_map(char::to_lowercase)
}

/// Whether a normalised word equals `canon` as written, or its form without diacritics.
fn same_word(norm: &str, canon: &str) -> bool {
    canon.nfc().flat_map(char::to_lowercase).eq(norm.chars())
        || (norm.is_ascii() && fold(canon).eq(norm.chars()))
}

fn is_marker(text: &str) -> bool {
    if text.len() > 200 {
        return false;
    }
    if text.len() >= 10 && text.chars().all(|c| c == '_') {
        return true;
    }
    let core = text.trim_matches(|c: char| {
        matches!(c, '-' | '_' | '=' | '*' | ':' | '–' | '—') || is_space(c)
    });
    if core.is_empty() {
        return false;
    }
    let norm = collapse_lower(core);
    MARKERS.iter().any(|m| same_word(&norm, m))
}

/// The label and value of a header line such as `*From:* Name <addr>`.
fn header_line(text: &str) -> Option<(Label, &str)> {
    let (at, colon) = text
        .char_indices()
        .take(32)
        .find(|&(_, c)| c == ':' || c == '：')?;
    let label = text[..at].trim_matches(|c: char| c == '*' || is_space(c));
    if label.is_empty() {
        return None;
    }
    let norm = collapse_lower(label);
    let (kind, _) = LABELS
        .iter()
        .find(|(_, words)| words.iter().any(|w| same_word(&norm, w)))?;
    Some((*kind, unbold(&text[at + colon.len_utf8()..])))
}

/// A value without the Markdown-ish bold a text rendering left around it.
fn unbold(value: &str) -> &str {
    let mut v = value.trim_matches(is_space);
    let rest = v.trim_start_matches('*');
    if rest.len() < v.len() && (rest.is_empty() || rest.starts_with(is_space)) {
        v = rest.trim_start_matches(is_space);
    }
    if v.len() >= 2 && v.starts_with('*') && v.ends_with('*') {
        v = v.trim_matches('*').trim_matches(is_space);
    }
    v
}

struct Field {
    label: Label,
    value: String,
    line: usize,
}

/// Consecutive label lines (and their continuations) from `start`.
struct Run {
    fields: Vec<Field>,
    start: usize,
    end: usize,
}

fn read_run(lines: &[Line], start: usize) -> Run {
    let mut fields: Vec<Field> = Vec::new();
    let mut indent = 0;
    let mut i = start;
    while i < lines.len() && i - start < MAX_RUN {
        let line = &lines[i];
        if line.text.is_empty() {
            break;
        }
        if let Some((label, value)) = header_line(&line.text) {
            if label == Label::From && fields.iter().any(|f| f.label == Label::From) {
                break;
            }
            fields.push(Field {
                label,
                value: clip(value, MAX_VALUE).to_owned(),
                line: i,
            });
            indent = line.indent;
        } else if let Some(last) = fields.last_mut()
            && continues(last, line, indent)
        {
            if last.value.len() + line.text.len() < MAX_VALUE {
                last.value.push(' ');
                last.value.push_str(&line.text);
            }
        } else {
            break;
        }
        i += 1;
    }
    Run {
        fields,
        start,
        end: i,
    }
}

/// Whether a line without a label carries on the previous header value.
fn continues(last: &Field, line: &Line, indent: usize) -> bool {
    if is_marker(&line.text) {
        return false;
    }
    if line.indent > indent {
        return true;
    }
    match last.label {
        Label::From => mailbox(&last.value).is_none() && only_addresses(&line.text),
        Label::Other => address_list(&line.text),
        Label::Date | Label::Subject => false,
    }
}

fn to_block(
    run: &Run,
    lines: &[Line],
    marker: Option<&str>,
    default_offset: FixedOffset,
) -> Option<Forwarded> {
    let from = run.fields.iter().find(|f| f.label == Label::From)?;
    let (address, name) = mailbox(&from.value)?;
    let near = run.fields.iter().any(|f| {
        matches!(f.label, Label::Date | Label::Subject) && f.line.abs_diff(from.line) <= NEAR
    });
    if marker.is_none() && !near {
        return None;
    }
    let date = run
        .fields
        .iter()
        .filter(|f| f.label == Label::Date)
        .find_map(|f| parse_client_date(&f.value, default_offset));
    let subject = run
        .fields
        .iter()
        .find(|f| f.label == Label::Subject)
        .map(|f| {
            unbold(&f.value)
                .split(is_space)
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|s| !s.is_empty());
    let marker = marker.unwrap_or_else(|| lines.get(run.start).map_or("", |l| l.text.as_str()));
    Some(Forwarded {
        from: address,
        from_name: name,
        date,
        subject,
        marker: marker.chars().take(MARKER_CHARS).collect(),
    })
}

fn is_delimiter(c: char) -> bool {
    is_space(c)
        || matches!(
            c,
            '<' | '>' | '[' | ']' | '(' | ')' | '"' | '\'' | ',' | ';' | '*' | '“' | '”'
        )
}

fn strip_mailto(token: &str) -> &str {
    match token.get(..7) {
        Some(head) if head.eq_ignore_ascii_case("mailto:") => &token[7..],
        _ => token,
    }
}

/// The address and display name in a From value. The address in angle brackets or after
/// `mailto:` is the address; a display name that holds another address makes the value
/// ambiguous (a sender can name himself `agency@…`), and no address is read.
fn mailbox(value: &str) -> Option<(String, Option<String>)> {
    let value = clip(value, MAX_VALUE);
    let addresses: Vec<String> = value
        .split(is_delimiter)
        .filter_map(|t| address_of(strip_mailto(t).trim_end_matches('.')))
        .collect();
    if let Some(first) = addresses.first()
        && addresses.iter().any(|a| a != first)
    {
        return None;
    }
    let (start, end, address) = value
        .split(is_delimiter)
        .filter(|t| !t.is_empty())
        .find_map(|token| {
            let start = token.as_ptr() as usize - value.as_ptr() as usize;
            let bare = strip_mailto(token).trim_end_matches('.');
            address_of(bare).map(|a| (start, start + token.len(), a))
        })?;
    let before = value[..start].trim_end_matches(is_space);
    let before = before.strip_suffix(['<', '[', '(']).unwrap_or(before);
    let differs = |n: &String| !n.eq_ignore_ascii_case(&address);
    let name = display_name(before).filter(differs).or_else(|| {
        // The old `addr (Name)` form.
        let after = &value[end..];
        let open = after.find('(')?;
        let close = open + after[open..].find(')')?;
        display_name(&after[open + 1..close]).filter(differs)
    });
    Some((address, name))
}

fn display_name(raw: &str) -> Option<String> {
    let trimmed = raw.trim_matches(|c: char| {
        is_space(c) || matches!(c, '"' | '\'' | '*' | '“' | '”' | ',' | ';' | ':')
    });
    let name = trimmed
        .split(is_space)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then(|| name.chars().take(NAME_CHARS).collect())
}

/// A token read as `local@domain`, lower case, when it is one.
fn address_of(token: &str) -> Option<String> {
    if token.len() > 254 {
        return None;
    }
    let (local, domain) = token.split_once('@')?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
    (local_ok && domain_ok).then(|| token.to_ascii_lowercase())
}

/// Whether a line holds addresses only (`<addr>`, `[mailto:addr]`, `addr`).
fn only_addresses(text: &str) -> bool {
    let mut any = false;
    for token in text.split(is_delimiter).filter(|t| !t.is_empty()) {
        if address_of(strip_mailto(token).trim_end_matches('.')).is_none() {
            return false;
        }
        any = true;
    }
    any
}

/// Whether a line is a list of mailboxes, as a wrapped To or Cc line is.
fn address_list(text: &str) -> bool {
    text.len() <= MAX_VALUE
        && text.contains('@')
        && text.split([',', ';']).all(|piece| {
            let piece = piece.trim_matches(is_space);
            piece.is_empty()
                || (mailbox(piece).is_some()
                    && !piece
                        .to_ascii_lowercase()
                        .replace("mailto:", "")
                        .contains(':'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ict() -> FixedOffset {
        FixedOffset::east_opt(7 * 3600).unwrap()
    }

    fn at(
        y: i32,
        mo: u32,
        d: u32,
        h: u32,
        mi: u32,
        s: u32,
        offset_secs: i32,
    ) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(offset_secs)
            .unwrap()
            .with_ymd_and_hms(y, mo, d, h, mi, s)
            .unwrap()
    }

    fn ict_at(h: u32, mi: u32, s: u32) -> DateTime<FixedOffset> {
        at(2018, 7, 2, h, mi, s, 7 * 3600)
    }

    fn one(body: &str) -> Forwarded {
        let blocks = forwarded_blocks(body, ict());
        assert_eq!(blocks.len(), 1, "{blocks:#?}");
        blocks.into_iter().next().unwrap()
    }

    const SUBJECT: &str = "Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018";

    fn assert_so_tai_chinh(block: &Forwarded, date: DateTime<FixedOffset>) {
        assert_eq!(block.from, "so-tai-chinh@langson.example");
        assert_eq!(block.from_name.as_deref(), Some("Sở Tài chính"));
        assert_eq!(block.date, Some(date));
        assert_eq!(block.subject.as_deref(), Some(SUBJECT));
    }

    #[test]
    fn gmail_english() {
        let body = "Chuyển phòng Tổng hợp.\r\n\r\n\
            ---------- Forwarded message ---------\r\n\
            From: *Sở Tài chính* <so-tai-chinh@langson.example>\r\n\
            Date: Mon, Jul 2, 2018 at 10:15 AM\r\n\
            Subject: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\r\n\
            To: <kehoach@langson.example>\r\n\
            \r\n\
            \r\n\
            Kính gửi Sở Kế hoạch và Đầu tư,\r\n\
            Sở Tài chính gửi kèm biểu mẫu báo cáo.\r\n";
        let block = one(body);
        assert_so_tai_chinh(&block, ict_at(10, 15, 0));
        assert_eq!(block.marker, "---------- Forwarded message ---------");
    }

    #[test]
    fn gmail_vietnamese() {
        let body = "Gửi anh Hùng.\n\n\
            ---------- Thư đã chuyển tiếp ----------\n\
            Từ: Sở Tài chính <so-tai-chinh@langson.example>\n\
            Date: Th 2, 2 thg 7, 2018 lúc 10:15\n\
            Subject: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n\
            To: Văn thư Sở KH&ĐT <vanthu@langson.example>\n\n\
            Kính gửi Sở Kế hoạch và Đầu tư,\n";
        let block = one(body);
        assert_so_tai_chinh(&block, ict_at(10, 15, 0));
        assert_eq!(block.marker, "---------- Thư đã chuyển tiếp ----------");
    }

    #[test]
    fn outlook_english_original_message() {
        let body = "FYI\r\n\r\n\
            -----Original Message-----\r\n\
            From: Sở Tài chính [mailto:so-tai-chinh@langson.example] \r\n\
            Sent: Monday, July 2, 2018 10:15 AM\r\n\
            To: vanthu@langson.example\r\n\
            Subject: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\r\n\
            \r\n\
            Kính gửi Sở Kế hoạch và Đầu tư,\r\n";
        let block = one(body);
        assert_so_tai_chinh(&block, ict_at(10, 15, 0));
        assert_eq!(block.marker, "-----Original Message-----");
    }

    #[test]
    fn outlook_english_underscore_line() {
        let body = "Please file.\n\n\
            ________________________________\n\
            From: Sở Tài chính <so-tai-chinh@langson.example>\n\
            Sent: Monday, 2 July 2018 10:15\n\
            To: Văn thư <vanthu@langson.example>\n\
            Cc: Phòng Tổng hợp <tonghop@langson.example>\n\
            Subject: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n\n\
            Kính gửi Sở,\n";
        let block = one(body);
        assert_so_tai_chinh(&block, ict_at(10, 15, 0));
        assert_eq!(block.marker, "________________________________");
    }

    #[test]
    fn outlook_vietnamese() {
        let body = "Chuyển phòng Tổng hợp xử lý.\r\n\r\n\
            -----Thư gốc-----\r\n\
            Từ: Sở Tài chính [mailto:so-tai-chinh@langson.example]\r\n\
            Đã gửi: Thứ Hai, ngày 2 tháng 7 năm 2018 10:15 SA\r\n\
            Đến: vanthu@langson.example\r\n\
            Chủ đề: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\r\n\
            \r\n\
            Kính gửi Sở Kế hoạch và Đầu tư,\r\n";
        let block = one(body);
        assert_so_tai_chinh(&block, ict_at(10, 15, 0));
        assert_eq!(block.marker, "-----Thư gốc-----");
    }

    #[test]
    fn outlook_without_marker() {
        let body = "Chuyển anh Hùng.\n\n\
            From: Sở Tài chính <so-tai-chinh@langson.example>\n\
            Sent: Monday, July 2, 2018 10:15 PM\n\
            To: Văn thư <vanthu@langson.example>\n\
            Subject: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n\n\
            Kính gửi Sở,\n";
        let block = one(body);
        assert_so_tai_chinh(&block, ict_at(22, 15, 0));
        assert_eq!(
            block.marker,
            "From: Sở Tài chính <so-tai-chinh@langson.example>"
        );
    }

    #[test]
    fn without_marker_needs_a_date_or_subject() {
        let body = "Liên hệ:\nFrom: Sở Tài chính <so-tai-chinh@langson.example>\nTo: vanthu@langson.example\n\nNội dung.";
        assert!(forwarded_blocks(body, ict()).is_empty());
    }

    #[test]
    fn thunderbird_english() {
        let body = "\n\n\
            -------- Forwarded Message --------\n\
            Subject: \tBáo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n\
            Date: \tMon, 2 Jul 2018 10:15:00 +0700\n\
            From: \tSở Tài chính <so-tai-chinh@langson.example>\n\
            To: \tvanthu@langson.example\n\n\n\
            Kính gửi Sở,\n";
        let block = one(body);
        assert_so_tai_chinh(&block, ict_at(10, 15, 0));
        assert_eq!(block.marker, "-------- Forwarded Message --------");
    }

    #[test]
    fn thunderbird_vietnamese() {
        let body = "Chuyển tiếp.\n\n\
            -------- Thư Chuyển tiếp --------\n\
            Tiêu đề: \tBáo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n\
            Ngày: \tMon, 2 Jul 2018 03:15:00 +0000\n\
            Từ: \t\"Sở Tài chính\" <so-tai-chinh@langson.example>\n\
            Đến: \tvanthu@langson.example\n\n\
            Kính gửi Sở,\n";
        let block = one(body);
        assert_so_tai_chinh(&block, at(2018, 7, 2, 3, 15, 0, 0));
        assert_eq!(
            block.date.unwrap().timestamp(),
            ict_at(10, 15, 0).timestamp()
        );
        assert_eq!(block.marker, "-------- Thư Chuyển tiếp --------");
    }

    #[test]
    fn apple_mail_english() {
        let body = "Sent from my iPhone\n\n\
            Begin forwarded message:\n\n\
            From: Sở Tài chính <so-tai-chinh@langson.example>\n\
            Subject: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n\
            Date: July 2, 2018 at 10:15:00 AM GMT+7\n\
            To: vanthu@langson.example\n\n\
            Kính gửi Sở,\n";
        let block = one(body);
        assert_so_tai_chinh(&block, ict_at(10, 15, 0));
        assert_eq!(block.marker, "Begin forwarded message:");
    }

    #[test]
    fn apple_mail_vietnamese_in_nfd() {
        let body = "Gửi từ iPhone của tôi\n\n\
            Bắt đầu thư được chuyển tiếp:\n\n\
            Từ: Sở Tài chính <so-tai-chinh@langson.example>\n\
            Chủ đề: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n\
            Ngày: 2 tháng 7, 2018 lúc 10:15 GMT+7\n\
            Đến: vanthu@langson.example\n\n\
            Kính gửi Sở,\n";
        let nfd: String = body.nfd().collect();
        assert_ne!(nfd, body);
        for text in [body, nfd.as_str()] {
            let block = one(text);
            assert_so_tai_chinh(&block, ict_at(10, 15, 0));
            assert_eq!(block.marker, "Bắt đầu thư được chuyển tiếp:");
        }
    }

    #[test]
    fn webmail() {
        let yahoo = "----- Forwarded Message -----\n\
            From: Sở Tài chính <so-tai-chinh@langson.example>\n\
            To: vanthu@langson.example <vanthu@langson.example>\n\
            Sent: Monday, July 2, 2018, 10:15:00 AM GMT+7\n\
            Subject: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n\n\
            Kính gửi Sở,\n";
        assert_so_tai_chinh(&one(yahoo), ict_at(10, 15, 0));

        let zimbra = "----- Forwarded Message -----\n\
            From: \"Sở Tài chính\" <so-tai-chinh@langson.example>\n\
            To: \"Văn thư\" <vanthu@langson.example>\n\
            Sent: Monday, July 2, 2018 10:15:00 AM\n\
            Subject: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n\n";
        assert_so_tai_chinh(&one(zimbra), ict_at(10, 15, 0));

        let roundcube = "-------- Original Message --------\n\
            Subject: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n\
            Date: 2018-07-02 10:15\n\
            From: Sở Tài chính <so-tai-chinh@langson.example>\n\
            To: vanthu@langson.example\n";
        let block = one(roundcube);
        assert_so_tai_chinh(&block, ict_at(10, 15, 0));
        assert_eq!(block.marker, "-------- Original Message --------");
    }

    #[test]
    fn nguoi_gui_label() {
        let body = "---------- Tin nhắn đã chuyển tiếp ----------\n\
            Người gửi: Sở Tài chính <so-tai-chinh@langson.example>\n\
            Ngày gửi: 02/07/2018 10:15\n\
            Người nhận: vanthu@langson.example\n\
            Về việc: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n";
        assert_so_tai_chinh(&one(body), ict_at(10, 15, 0));
    }

    #[test]
    fn labels_without_diacritics() {
        let body = "-----Thu goc-----\n\
            Tu: So Tai chinh <so-tai-chinh@langson.example>\n\
            Ngay: 02/07/2018 10:15\n\
            Tieu de: Bao cao\n\n\
            -----Original Message-----\n\
            Nguoi gui: so-tai-chinh@langson.example\n\
            Chu de: Bao cao\n";
        let blocks = forwarded_blocks(body, ict());
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].from_name.as_deref(), Some("So Tai chinh"));
        assert_eq!(blocks[0].date, Some(ict_at(10, 15, 0)));
        assert_eq!(blocks[0].subject.as_deref(), Some("Bao cao"));
        assert_eq!(blocks[1].from_name, None);
        assert_eq!(blocks[1].subject.as_deref(), Some("Bao cao"));
    }

    #[test]
    fn wrong_diacritics_are_not_a_label() {
        let body = "-----Original Message-----\nTứ: Sở Tài chính <so-tai-chinh@langson.example>\nChủ đề: x\n";
        assert!(forwarded_blocks(body, ict()).is_empty());
    }

    #[test]
    fn quoted_forward() {
        let body = "Anh xem giúp.\n\n\
            > ---------- Forwarded message ---------\n\
            > From: Sở Tài chính <so-tai-chinh@langson.example>\n\
            > Date: Mon, Jul 2, 2018 at 10:15 AM\n\
            > Subject: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n\
            > To: <vanthu@langson.example>\n\
            >\n\
            > Kính gửi Sở,\n";
        let block = one(body);
        assert_so_tai_chinh(&block, ict_at(10, 15, 0));
        assert_eq!(block.marker, "---------- Forwarded message ---------");

        let deeper = body.replace("> ", ">> ");
        assert_so_tai_chinh(&one(&deeper), ict_at(10, 15, 0));
    }

    #[test]
    fn nested_forward_outer_first() {
        let body = "Chuyển phòng Tổng hợp.\n\n\
            ---------- Forwarded message ---------\n\
            From: Phòng Ngân sách <ngansach@langson.example>\n\
            Date: Tue, Jul 3, 2018 at 8:00 AM\n\
            Subject: Fwd: Báo cáo giải ngân\n\
            To: <vanthu@langson.example>\n\n\
            Chuyển Sở KH&ĐT.\n\n\
            ---------- Forwarded message ---------\n\
            From: Sở Tài chính <so-tai-chinh@langson.example>\n\
            Date: Mon, Jul 2, 2018 at 10:15 AM\n\
            Subject: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n\
            To: Phòng Ngân sách <ngansach@langson.example>\n\n\
            Kính gửi,\n";
        let blocks = forwarded_blocks(body, ict());
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].from, "ngansach@langson.example");
        assert_eq!(blocks[0].date, Some(at(2018, 7, 3, 8, 0, 0, 7 * 3600)));
        assert_eq!(blocks[0].subject.as_deref(), Some("Fwd: Báo cáo giải ngân"));
        assert_so_tai_chinh(&blocks[1], ict_at(10, 15, 0));
    }

    #[test]
    fn prose_is_not_a_block() {
        let body = "Kính gửi Sở Kế hoạch và Đầu tư,\n\
            Từ: ngày 1/7 đến nay, đơn vị đã giải ngân 45% kế hoạch vốn.\n\
            Ngày: 02/07/2018\n\
            Về việc: báo cáo tiến độ\n\n\
            Thư gốc\n\
            Từ: ngày 1/7 đến nay\n\
            Chủ đề: không có\n";
        assert!(forwarded_blocks(body, ict()).is_empty());
        assert!(forwarded_blocks("", ict()).is_empty());
    }

    #[test]
    fn from_wrapped_and_bold_labels() {
        let wrapped = "-----Original Message-----\n\
            From: Sở Tài chính\n\
            <so-tai-chinh@langson.example>\n\
            Sent: Monday, July 2, 2018 10:15 AM\n\
            To: a@langson.example; b@langson.example;\n\
            c@langson.example\n\
            Subject: Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018\n";
        assert_so_tai_chinh(&one(wrapped), ict_at(10, 15, 0));

        let indented = "________________________________\n\
            From: Sở Tài chính\n\
            \x20   [mailto:so-tai-chinh@langson.example]\n\
            Subject: Báo cáo tiến độ giải ngân vốn đầu tư công\n\
            \x20   6 tháng đầu năm 2018\n";
        let block = one(indented);
        assert_eq!(block.from, "so-tai-chinh@langson.example");
        assert_eq!(block.from_name.as_deref(), Some("Sở Tài chính"));
        assert_eq!(block.subject.as_deref(), Some(SUBJECT));

        let bold = "________________________________\n\
            **From:** Sở Tài chính <mailto:So-Tai-Chinh@LangSon.example>\n\
            *Sent:* *Monday, July 2, 2018 10:15 AM*\n\
            *To:* vanthu@langson.example\n\
            *Subject:* *Báo cáo tiến độ giải ngân vốn đầu tư công 6 tháng đầu năm 2018*\n";
        assert_so_tai_chinh(&one(bold), ict_at(10, 15, 0));
    }

    #[test]
    fn from_without_address_makes_no_block() {
        let body = "---------- Forwarded message ---------\nFrom: Sở Tài chính\nDate: Mon, Jul 2, 2018 at 10:15 AM\n";
        assert!(forwarded_blocks(body, ict()).is_empty());
    }

    #[test]
    fn address_forms() {
        let cases: [(&str, &str, Option<&str>); 9] = [
            (
                "Sở Tài chính <STC@LangSon.example>",
                "stc@langson.example",
                Some("Sở Tài chính"),
            ),
            (
                "\"Sở Tài chính\" <stc@langson.example>",
                "stc@langson.example",
                Some("Sở Tài chính"),
            ),
            (
                "Sở Tài chính [mailto:stc@langson.example]",
                "stc@langson.example",
                Some("Sở Tài chính"),
            ),
            ("stc@langson.example", "stc@langson.example", None),
            (
                "stc@langson.example <stc@langson.example>",
                "stc@langson.example",
                None,
            ),
            (
                "Sở Tài chính <mailto:stc@langson.example>",
                "stc@langson.example",
                Some("Sở Tài chính"),
            ),
            (
                "*Sở Tài chính* <stc@langson.example>",
                "stc@langson.example",
                Some("Sở Tài chính"),
            ),
            (
                "Sở Tài chính <stc@langson.example <mailto:stc@langson.example>>",
                "stc@langson.example",
                Some("Sở Tài chính"),
            ),
            (
                "stc@langson.example (Sở Tài chính)",
                "stc@langson.example",
                Some("Sở Tài chính"),
            ),
        ];
        for (value, address, name) in cases {
            let (a, n) = mailbox(value).unwrap_or_else(|| panic!("{value}"));
            assert_eq!(a, address, "{value}");
            assert_eq!(n.as_deref(), name, "{value}");
        }
        for bad in [
            "Sở Tài chính",
            "a@b",
            "@langson.example",
            "a@@b.vn",
            "a@-b.vn",
            "a@b.123",
            "a..b@c.vn",
        ] {
            assert!(mailbox(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn at_most_eight_blocks() {
        let block = "-----Original Message-----\nFrom: a@langson.example\nSubject: x\n\n";
        let body = block.repeat(12);
        assert_eq!(forwarded_blocks(&body, ict()).len(), 8);
    }

    #[test]
    fn bounded_on_hostile_bodies() {
        let many_labels = "Cc: x@langson.example\n".repeat(30_000);
        assert!(forwarded_blocks(&many_labels, ict()).is_empty());

        let late = format!(
            "{}\n-----Original Message-----\nFrom: a@langson.example\nSubject: x\n",
            "x".repeat(600 * 1024)
        );
        assert!(forwarded_blocks(&late, ict()).is_empty());

        let after_many_lines = format!(
            "{}-----Original Message-----\nFrom: a@langson.example\nSubject: x\n",
            "\n".repeat(MAX_LINES + 5)
        );
        assert!(forwarded_blocks(&after_many_lines, ict()).is_empty());

        let long_line = format!("From: {}@langson.example\nSubject: x", "a".repeat(100_000));
        assert!(forwarded_blocks(&long_line, ict()).is_empty());
    }

    #[test]
    fn an_address_in_the_display_name_is_not_the_sender() {
        assert_eq!(
            mailbox("so-tai-chinh@langson.example <attacker@gmail.example>"),
            None
        );
        assert_eq!(
            mailbox("Sở Tài chính [mailto:so-tai-chinh@langson.example]").map(|m| m.0),
            Some("so-tai-chinh@langson.example".to_string())
        );
        assert_eq!(
            mailbox("so-tai-chinh@langson.example <so-tai-chinh@langson.example>").map(|m| m.0),
            Some("so-tai-chinh@langson.example".to_string())
        );
    }
}
