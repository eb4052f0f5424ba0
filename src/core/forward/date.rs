//! # Dates as mail clients write them
//!
//! A forwarded header block carries the original's date in the client's own words: RFC 2822
//! from Thunderbird, "Mon, Jul 2, 2018 at 10:15 AM" from Gmail, "Thứ Hai, ngày 2 tháng 7 năm
//! 2018 10:15 SA" from a Vietnamese Outlook, day-first numbers. Read word by word, bounded, and
//! None rather than a guess.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

use super::{fold, is_space};

/// Longest date text read, in bytes.
const MAX_DATE: usize = 512;
const MAX_TOKENS: usize = 64;

/// Reads a date as mail clients write it in a forwarded header block.
pub fn parse_client_date(text: &str, default_offset: FixedOffset) -> Option<DateTime<FixedOffset>> {
    if text.len() > MAX_DATE {
        return None;
    }
    let folded: String = fold(text).collect();
    let folded = folded
        .replace("a.m.", "am")
        .replace("p.m.", "pm")
        .replace("a.m", "am")
        .replace("p.m", "pm");
    let mut t = tokenize(&folded)?;
    let time = take_time(&mut t);
    let zone = take_zone(&mut t, time.as_ref().map(|x| x.next));
    let numeric = take_numeric_date(&mut t).ok()?;
    let month = take_words(&mut t).ok()?;
    let rest: Vec<(u32, usize)> = t
        .iter()
        .filter(|x| !x.used)
        .filter_map(|x| match x.tok {
            Tok::Num(v, d) => Some((v, d)),
            _ => None,
        })
        .collect();
    let (year, month, day) = match numeric {
        Some(ymd) => {
            if month.is_some() || !rest.is_empty() {
                return None;
            }
            ymd
        }
        None => {
            let month = month?;
            let [(a, ad), (b, bd)] = rest.as_slice() else {
                return None;
            };
            match (*ad, *bd) {
                (4, 1..=2) => (*a, month, *b),
                (1..=2, 4) => (*b, month, *a),
                _ => return None,
            }
        }
    };
    if !(1990..=2200).contains(&year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let clock = match time {
        Some(time) => {
            let hour = match (time.meridiem, time.hour) {
                (None, h) => h,
                (Some(false), 12) => 0,
                (Some(false), 1..=11) => time.hour,
                (Some(true), 12..=23) => time.hour,
                (Some(true), 1..=11) => time.hour + 12,
                _ => return None,
            };
            NaiveTime::from_hms_opt(hour, time.minute, time.second)?
        }
        None => NaiveTime::MIN,
    };
    let offset = match zone {
        Some(secs) => FixedOffset::east_opt(secs)?,
        None => default_offset,
    };
    offset
        .from_local_datetime(&NaiveDateTime::new(date, clock))
        .single()
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A run of ASCII digits: its value (saturated) and how many digits it had.
    Num(u32, usize),
    Word(String),
    Sym(char),
}

struct Token {
    tok: Tok,
    /// No space or comma before it.
    glued: bool,
    /// A comma before it.
    comma: bool,
    used: bool,
}

fn tokenize(s: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    let mut glued = false;
    let mut comma = false;
    while let Some(&c) = chars.peek() {
        if is_space(c) || matches!(c, '(' | ')' | ',') {
            comma |= c == ',';
            glued = false;
            chars.next();
            continue;
        }
        let tok = if c.is_ascii_digit() {
            let (mut value, mut digits) = (0u32, 0usize);
            while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                value = value.saturating_mul(10).saturating_add(d);
                digits += 1;
                chars.next();
            }
            Tok::Num(value, digits)
        } else if c.is_alphabetic() {
            let mut word = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_alphabetic()) {
                word.push(d);
                chars.next();
            }
            Tok::Word(word)
        } else {
            chars.next();
            Tok::Sym(c)
        };
        out.push(Token {
            tok,
            glued,
            comma,
            used: false,
        });
        if out.len() > MAX_TOKENS {
            return None;
        }
        glued = true;
        comma = false;
    }
    Some(out)
}

fn num(t: &[Token], i: usize) -> Option<(u32, usize)> {
    match t.get(i) {
        Some(Token {
            tok: Tok::Num(v, d),
            used: false,
            ..
        }) => Some((*v, *d)),
        _ => None,
    }
}

fn sym(t: &[Token], i: usize) -> Option<char> {
    match t.get(i) {
        Some(Token {
            tok: Tok::Sym(c),
            used: false,
            ..
        }) => Some(*c),
        _ => None,
    }
}

fn word(t: &[Token], i: usize) -> Option<&str> {
    match t.get(i) {
        Some(Token {
            tok: Tok::Word(w),
            used: false,
            ..
        }) => Some(w),
        _ => None,
    }
}

fn glued(t: &[Token], i: usize) -> bool {
    t.get(i).is_some_and(|x| x.glued)
}

fn mark(t: &mut [Token], from: usize, to: usize) {
    let to = to.min(t.len());
    for tok in &mut t[from.min(to)..to] {
        tok.used = true;
    }
}

struct Time {
    hour: u32,
    minute: u32,
    second: u32,
    /// `Some(true)` for PM (CH), `Some(false)` for AM (SA).
    meridiem: Option<bool>,
    /// The token after the time.
    next: usize,
}

fn meridiem(w: &str) -> Option<bool> {
    match w {
        "am" | "sa" | "sang" => Some(false),
        "pm" | "ch" | "chieu" | "toi" => Some(true),
        _ => None,
    }
}

/// The first `h:mm[:ss[.fff]]` (or `10h15`, `10 giờ 15`, `10 AM`) with its AM/PM marker.
fn take_time(t: &mut [Token]) -> Option<Time> {
    let mut found = None;
    for i in 0..t.len() {
        let Some((hour, 1..=2)) = num(t, i) else {
            continue;
        };
        if i > 0 && t[i].glued && matches!(t[i - 1].tok, Tok::Sym('+' | '-')) {
            continue;
        }
        let colon = sym(t, i + 1) == Some(':');
        let tight = glued(t, i + 1) && glued(t, i + 2);
        // `10h15`, `10g15`, `10 giờ 15`
        let spelled = match word(t, i + 1) {
            Some("h" | "g") => tight,
            Some("gio") => true,
            _ => false,
        };
        if !(colon && tight || spelled) {
            continue;
        }
        let Some((minute, 2)) = num(t, i + 2) else {
            continue;
        };
        let mut end = i + 3;
        let mut second = 0;
        if colon
            && sym(t, end) == Some(':')
            && glued(t, end)
            && glued(t, end + 1)
            && let Some((s, 2)) = num(t, end + 1)
        {
            second = s;
            end += 2;
        }
        if sym(t, end) == Some('.')
            && glued(t, end)
            && glued(t, end + 1)
            && num(t, end + 1).is_some()
        {
            end += 2;
        }
        found = Some((i, hour, minute, second, end));
        break;
    }
    if found.is_none() {
        // An hour with only a marker: `10 AM`.
        found = (0..t.len()).find_map(|i| match (num(t, i), word(t, i + 1).and_then(meridiem)) {
            (Some((hour, 1..=2)), Some(_)) => Some((i, hour, 0, 0, i + 1)),
            _ => None,
        });
    }
    let (start, hour, minute, second, mut end) = found?;
    mark(t, start, end);
    let marker = word(t, end).and_then(meridiem);
    if marker.is_some() {
        mark(t, end, end + 1);
        end += 1;
    }
    Some(Time {
        hour,
        minute,
        second,
        meridiem: marker,
        next: end,
    })
}

/// A zone name's offset in seconds.
fn named_zone(w: &str) -> Option<i32> {
    let hours = match w {
        "gmt" | "utc" | "ut" | "z" => 0,
        "ict" | "wib" => 7,
        "sgt" | "hkt" | "awst" => 8,
        "jst" | "kst" => 9,
        "cet" => 1,
        "cest" | "eet" => 2,
        "eest" => 3,
        "est" => -5,
        "edt" => -4,
        "cdt" => -5,
        "cst" | "mdt" => -6,
        "mst" | "pdt" => -7,
        "pst" => -8,
        _ => return None,
    };
    Some(hours * 3600)
}

/// A signed offset at `i` (`+0700`, `+07:00`, `+7`): seconds and the token after it.
fn signed_offset(t: &[Token], i: usize) -> Option<(i32, usize)> {
    let sign = match sym(t, i)? {
        '+' => 1,
        '-' | '−' => -1,
        _ => return None,
    };
    let (v, digits) = num(t, i + 1)?;
    if !glued(t, i + 1) {
        return None;
    }
    let (hours, minutes, next) = match digits {
        4 => (v / 100, v % 100, i + 2),
        1..=2 => match num(t, i + 3) {
            Some((m, 2)) if sym(t, i + 2) == Some(':') && glued(t, i + 2) && glued(t, i + 3) => {
                (v, m, i + 4)
            }
            _ => (v, 0, i + 2),
        },
        _ => return None,
    };
    // `-02/07/2018` is a date, not a zone.
    if glued(t, next) && matches!(sym(t, next), Some('/' | '-' | '.')) {
        return None;
    }
    if hours > 14 || minutes >= 60 {
        return None;
    }
    let secs = i32::try_from(hours * 3600 + minutes * 60).ok()?;
    Some((sign * secs, next))
}

/// A zone at `i`: a name, `GMT`/`UTC` with an optional offset, or an offset alone.
fn zone_at(t: &mut [Token], i: usize, after_time: bool) -> Option<i32> {
    if let Some(w) = word(t, i) {
        if !after_time && matches!(w, "z" | "ut") {
            return None;
        }
        let base = named_zone(w)?;
        let prefix = matches!(w, "gmt" | "utc" | "ut");
        mark(t, i, i + 1);
        if prefix && let Some((secs, next)) = signed_offset(t, i + 1) {
            mark(t, i + 1, next);
            return Some(secs);
        }
        return Some(base);
    }
    if !after_time {
        return None;
    }
    let (secs, next) = signed_offset(t, i)?;
    mark(t, i, next);
    Some(secs)
}

fn take_zone(t: &mut [Token], after_time: Option<usize>) -> Option<i32> {
    let mut zone = after_time.and_then(|at| zone_at(t, at, true));
    if zone.is_none() {
        zone = (0..t.len()).find_map(|i| zone_at(t, i, false));
    }
    // A comment repeating the zone, as in `+0700 (ICT)`.
    for tok in t.iter_mut() {
        if let Tok::Word(w) = &tok.tok
            && !matches!(w.as_str(), "z" | "ut")
            && named_zone(w).is_some()
        {
            tok.used = true;
        }
    }
    zone
}

/// A numeric date: `d/m/yyyy`, `d-m-yyyy`, `d.m.yyyy` or `yyyy-mm-dd`; `Err` when ambiguous.
fn take_numeric_date(t: &mut [Token]) -> Result<Option<(u32, u32, u32)>, ()> {
    let mut found = None;
    for i in 0..t.len() {
        let (Some((a, ad)), Some(sep)) = (num(t, i), sym(t, i + 1)) else {
            continue;
        };
        if !matches!(sep, '/' | '-' | '.') || sym(t, i + 3) != Some(sep) {
            continue;
        }
        if !(1..=4).all(|k| glued(t, i + k)) {
            continue;
        }
        let (Some((b, bd)), Some((c, cd))) = (num(t, i + 2), num(t, i + 4)) else {
            continue;
        };
        if found.is_some() {
            return Err(());
        }
        found = Some(match (ad, bd, cd) {
            (4, 1..=2, 1..=2) => (a, b, c),
            // Day first, as Vietnamese write it; month first only when it cannot be a day.
            (1..=2, 1..=2, 4) if b > 12 && a <= 12 => (c, a, b),
            (1..=2, 1..=2, 4) => (c, b, a),
            _ => return Err(()),
        });
        mark(t, i, i + 5);
    }
    Ok(found)
}

fn english_month(w: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if w == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| *m == w || (w.len() == 3 && m.starts_with(w)))
        .and_then(|p| u32::try_from(p + 1).ok())
}

fn is_english_weekday(w: &str) -> bool {
    matches!(
        w,
        "mon"
            | "monday"
            | "tue"
            | "tues"
            | "tuesday"
            | "wed"
            | "weds"
            | "wednesday"
            | "thu"
            | "thur"
            | "thurs"
            | "thursday"
            | "fri"
            | "friday"
            | "sat"
            | "saturday"
            | "sun"
            | "sunday"
    )
}

/// A Vietnamese number word as it follows `thứ` (weekday) or `tháng` (month).
fn vietnamese_number(w: &str) -> Option<u32> {
    Some(match w {
        "mot" | "gieng" => 1,
        "hai" => 2,
        "ba" => 3,
        "tu" | "bon" => 4,
        "nam" => 5,
        "sau" => 6,
        "bay" => 7,
        "tam" => 8,
        "chin" => 9,
        "muoi" => 10,
        "chap" => 12,
        _ => return None,
    })
}

fn set_month(m: u32, month: &mut Option<u32>) -> Result<(), ()> {
    match month.replace(m) {
        Some(_) => Err(()),
        None => Ok(()),
    }
}

/// Weekdays, ordinals and month names; the month, `Err` when two are written.
fn take_words(t: &mut [Token]) -> Result<Option<u32>, ()> {
    let mut month = None;
    let mut i = 0;
    while i < t.len() {
        let Some(w) = word(t, i).map(str::to_owned) else {
            i += 1;
            continue;
        };
        let w = w.as_str();
        let after_num = i > 0 && t[i].glued && matches!(t[i - 1].tok, Tok::Num(..));
        let next_plain = t.get(i + 1).is_some_and(|x| !x.comma);
        if matches!(w, "st" | "nd" | "rd" | "th") && after_num {
            mark(t, i, i + 1);
            i += 1;
            continue;
        }
        // `Th 2`, `Thứ Hai`, `T2`: a Vietnamese weekday, its number is not the day.
        if matches!(w, "th" | "thu" | "t") && next_plain && !after_num {
            let numbered =
                matches!(num(t, i + 1), Some((2..=7, 1))) && (w != "t" || glued(t, i + 1));
            let named = w == "thu"
                && word(t, i + 1)
                    .and_then(vietnamese_number)
                    .is_some_and(|n| (2..=7).contains(&n));
            if numbered || named {
                mark(t, i, i + 2);
                i += 2;
                continue;
            }
        }
        if w == "chu" && word(t, i + 1) == Some("nhat") {
            mark(t, i, i + 2);
            i += 2;
            continue;
        }
        if is_english_weekday(w) || matches!(w, "cn" | "t") {
            mark(t, i, i + 1);
            i += 1;
            continue;
        }
        if let Some(m) = english_month(w) {
            set_month(m, &mut month)?;
            mark(t, i, i + 1);
            i += 1;
            continue;
        }
        if matches!(w, "thang" | "thg") {
            let (m, len) = match (num(t, i + 1), word(t, i + 1)) {
                (Some((m @ 1..=12, 1..=2)), _) => (m, 2),
                (_, Some("muoi")) => match word(t, i + 2) {
                    Some("mot") => (11, 3),
                    Some("hai") => (12, 3),
                    _ => (10, 2),
                },
                (_, Some(x)) => (vietnamese_number(x).ok_or(())?, 2),
                _ => return Err(()),
            };
            set_month(m, &mut month)?;
            mark(t, i, i + len);
            i += len;
            continue;
        }
        i += 1;
    }
    Ok(month)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::forward::forwarded_blocks;

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

    fn date(text: &str) -> Option<DateTime<FixedOffset>> {
        parse_client_date(text, ict())
    }

    #[test]
    fn rfc_2822_dates() {
        assert_eq!(
            date("Mon, 2 Jul 2018 10:15:00 +0700"),
            Some(ict_at(10, 15, 0))
        );
        assert_eq!(date("2 Jul 2018 10:15 +0700"), Some(ict_at(10, 15, 0)));
        assert_eq!(
            date("Mon, 2 Jul 2018 10:15:00 +0700 (ICT)"),
            Some(ict_at(10, 15, 0))
        );
        assert_eq!(
            date("Mon, 2 Jul 2018 03:15:00 -0500"),
            Some(at(2018, 7, 2, 3, 15, 0, -5 * 3600))
        );
    }

    #[test]
    fn gmail_dates() {
        assert_eq!(
            date("Mon, Jul 2, 2018 at 10:15 AM"),
            Some(ict_at(10, 15, 0))
        );
        assert_eq!(date("Mon, 2 Jul 2018 at 22:15"), Some(ict_at(22, 15, 0)));
        assert_eq!(
            date("Vào Th 2, 2 thg 7, 2018 vào lúc 10:15"),
            Some(ict_at(10, 15, 0))
        );
        assert_eq!(
            date("Th 2, 2 thg 7, 2018 lúc 10:15 SA"),
            Some(ict_at(10, 15, 0))
        );
        assert_eq!(
            date("Thứ Hai, 2 tháng 7, 2018 lúc 10:15 CH"),
            Some(ict_at(22, 15, 0))
        );
    }

    #[test]
    fn outlook_dates() {
        assert_eq!(
            date("Monday, July 2, 2018 10:15 AM"),
            Some(ict_at(10, 15, 0))
        );
        assert_eq!(date("Monday, 2 July 2018 10:15"), Some(ict_at(10, 15, 0)));
        assert_eq!(
            date("Thứ Hai, ngày 2 tháng 7 năm 2018 10:15 SA"),
            Some(ict_at(10, 15, 0))
        );
        assert_eq!(
            date("Thứ hai, 02 Tháng Bảy 2018 10:15 CH"),
            Some(ict_at(22, 15, 0))
        );
    }

    #[test]
    fn vietnamese_month_words() {
        let words = [
            "Một",
            "Hai",
            "Ba",
            "Tư",
            "Năm",
            "Sáu",
            "Bảy",
            "Tám",
            "Chín",
            "Mười",
            "Mười Một",
            "Mười Hai",
        ];
        for (m, w) in (1..=12).zip(words) {
            let text = format!("Thứ Năm, 05 Tháng {w} 2018 10:15 SA");
            assert_eq!(
                date(&text),
                Some(at(2018, m, 5, 10, 15, 0, 7 * 3600)),
                "{text}"
            );
        }
        assert_eq!(
            date("Chủ Nhật, ngày 1 tháng 7 năm 2018 08:00 SA"),
            Some(at(2018, 7, 1, 8, 0, 0, 7 * 3600))
        );
        assert_eq!(
            date("CN, 1 thg 7, 2018 lúc 08:00"),
            Some(at(2018, 7, 1, 8, 0, 0, 7 * 3600))
        );
    }

    #[test]
    fn apple_mail_dates() {
        assert_eq!(
            date("2 July 2018 at 10:15:00 GMT+7"),
            Some(ict_at(10, 15, 0))
        );
        assert_eq!(
            date("July 2, 2018 at 10:15:00 AM GMT+7"),
            Some(ict_at(10, 15, 0))
        );
        assert_eq!(date("Jul 2, 2018, at 10:15"), Some(ict_at(10, 15, 0)));
        assert_eq!(
            date("2 tháng 7, 2018 lúc 10:15 GMT+7"),
            Some(ict_at(10, 15, 0))
        );
    }

    #[test]
    fn numeric_dates() {
        assert_eq!(date("02/07/2018 10:15"), Some(ict_at(10, 15, 0)));
        assert_eq!(date("2/7/2018 10:15:30"), Some(ict_at(10, 15, 30)));
        assert_eq!(date("10:15 02/07/2018"), Some(ict_at(10, 15, 0)));
        assert_eq!(date("2018-07-02 10:15"), Some(ict_at(10, 15, 0)));
        assert_eq!(date("2018-07-02T10:15:00+07:00"), Some(ict_at(10, 15, 0)));
        assert_eq!(
            date("2018-07-02T03:15:00.250Z"),
            Some(at(2018, 7, 2, 3, 15, 0, 0))
        );
        assert_eq!(date("T2, 02.07.2018 10h15"), Some(ict_at(10, 15, 0)));
        assert_eq!(
            date("10 giờ 15 phút ngày 02/07/2018"),
            Some(ict_at(10, 15, 0))
        );
        // Month first only when the second number cannot be a month.
        assert_eq!(
            date("7/22/2018 10:15"),
            Some(at(2018, 7, 22, 10, 15, 0, 7 * 3600))
        );
        assert_eq!(date("02/07/2018"), Some(ict_at(0, 0, 0)));
    }

    #[test]
    fn meridiem_markers() {
        assert_eq!(date("July 2, 2018 12:05 AM"), Some(ict_at(0, 5, 0)));
        assert_eq!(date("July 2, 2018 12:05 PM"), Some(ict_at(12, 5, 0)));
        assert_eq!(date("July 2, 2018 10:15 a.m."), Some(ict_at(10, 15, 0)));
        assert_eq!(date("July 2, 2018 10:15 p.m."), Some(ict_at(22, 15, 0)));
        assert_eq!(date("02/07/2018 12:30 SA"), Some(ict_at(0, 30, 0)));
        assert_eq!(date("02/07/2018 12:30 CH"), Some(ict_at(12, 30, 0)));
        assert_eq!(date("02/07/2018 10 PM"), Some(ict_at(22, 0, 0)));
        assert_eq!(date("02/07/2018 13:30 AM"), None);
        assert_eq!(date("02/07/2018 0:30 PM"), None);
    }

    #[test]
    fn zones() {
        let utc = at(2018, 7, 2, 3, 15, 0, 0);
        for text in [
            "2 Jul 2018 10:15 +0700",
            "2 Jul 2018 10:15 +07:00",
            "2 Jul 2018 10:15 GMT+7",
            "2 Jul 2018 10:15 GMT+07:00",
            "2 Jul 2018 10:15 UTC+7",
            "Monday, July 2, 2018 10:15 AM (UTC+07:00) Bangkok, Hanoi, Jakarta",
            "(UTC+07:00) 02/07/2018 10:15",
            "2 Jul 2018 10:15 ICT",
            "02/07/2018 03:15 GMT",
            "02/07/2018 03:15 UTC",
            "2018-07-02T03:15:00Z",
        ] {
            let read = date(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(read, utc, "{text}");
        }
        assert_eq!(
            date("02/07/2018 03:15 GMT")
                .unwrap()
                .offset()
                .local_minus_utc(),
            0
        );
        assert_eq!(
            date("02/07/2018 10:15 +05:30"),
            Some(at(2018, 7, 2, 10, 15, 0, 5 * 3600 + 1800))
        );
        let utc_default = FixedOffset::east_opt(0).unwrap();
        assert_eq!(
            parse_client_date("02/07/2018 03:15", utc_default),
            Some(utc)
        );
    }

    #[test]
    fn implausible_dates() {
        for text in [
            "",
            "Sở Tài chính",
            "Mon, 2 Jul 1899 10:15 +0700",
            "2 Jul 2201 10:15",
            "31/02/2018 10:15",
            "32/07/2018 10:15",
            "13/13/2018 10:15",
            "02/07/2018 24:00",
            "02/07/2018 10:61",
            "02/07/18 10:15",
            "July 2018 10:15",
            "2 3 July 2018",
            "2 July 2018 2019",
            "2 July August 2018",
            "02/07/2018 03/07/2018",
            "2 thg 13, 2018",
            "2 tháng, 2018",
            "2 Jul 2018 10:15 +2500",
            "99999999999999999999/7/2018",
        ] {
            assert_eq!(date(text), None, "{text}");
        }
    }

    #[test]
    fn odd_input_never_panics() {
        for text in [
            "\u{0}",
            ":::",
            "+",
            "-",
            "+-+-",
            "T",
            "Z",
            "th",
            "thg",
            "tháng mười",
            "12:",
            ":12",
            "1:2:3:4:5",
            "2018-",
            "2018-07-",
            "//",
            "GMT+",
            "UTC-99:99",
            "()",
            "((((",
            "\u{feff}",
            "𝟚𝟘𝟙𝟠",
            "٢٠١٨/٧/٢",
            "a.m.p.m.",
            "Thứ",
            "Chủ",
            "Mười",
        ] {
            let _ = date(text);
            let _ = forwarded_blocks(text, ict());
        }
        let long = "Date: Thứ Hai, ngày 2 tháng 7 năm 2018 10:15:30.5 SA (UTC+07:00) Hà Nội; \
            Mon, Jul 2, 2018 at 10:15 AM GMT+07:00 2018-07-02T10:15:00+07:00 02/07/2018";
        for (end, _) in long.char_indices() {
            let _ = date(&long[..end]);
        }
        let body = "> ---------- Forwarded message ---------\r\n> From: *Sở Tài chính* \
            <so-tai-chinh@langson.example>\r\n> Date: Th 2, 2 thg 7, 2018 lúc 10:15\r\n\
            > Subject: x\r\n";
        for (end, _) in body.char_indices() {
            let _ = forwarded_blocks(&body[..end], ict());
        }
        assert_eq!(date(&"1".repeat(10_000)), None);
    }
}
