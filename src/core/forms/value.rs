//! # Cell values, read the Vietnamese way
//!
//! Agencies type numbers into cells as text the way Vietnamese is written: "1.644,1" (dot
//! groups thousands, comma marks decimals), "7,98%", "12 345,6"; plan and target columns hold
//! ranges and bounds ("8 - 9", "từ 8% trở lên", "dưới 5"); "x" or a dash means not applicable.
//! This module turns one cell into a [`Value`], or says why it cannot ([`Problem`]).
//!
//! **Ambiguous separators are refused, not guessed.** A lone "1.644" or "1,644" (one separator,
//! 1–3 digits before it, exactly 3 after) reads as 1644 to one writer and 1.644 to another.
//! [`interpret`] returns `Err(Problem::AmbiguousSeparator)` carrying both readings; the caller
//! reports it as a warning and leaves the cell out of sums and comparisons. "1.644,1",
//! "1,5", "1.644.000" and "0.644" are not ambiguous. [`parse_number`] still returns the
//! Vietnamese reading (dot = thousands, comma = decimals) with the flag set, for callers that
//! want to show it.
//!
//! Numeric cells are taken as written (a percent row's 7.98 means 7.98 %; whether the cell was
//! formatted as a percentage of a fraction cannot be known here). Their floating-point noise
//! (`7.0000000000000009`) is removed and their decimals counted, so that comparisons can use
//! XBRL-style tolerances (a value with `d` decimals stands for ± 0.5·10^-d).

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Longest text (in characters) still read as a number; longer text is not a number.
const MAX_NUMBER_TEXT: usize = 64;

/// Most decimals [`float_decimals`] reports.
const MAX_FLOAT_DECIMALS: u32 = 6;

/// The kind of value a row holds (from the form spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    /// Any number (growth rate, output, per-head figure).
    Number,
    /// A percentage, written as the number of percent (7.98 for 7.98 %).
    Percent,
    /// A count of things (enterprises, communes, jobs).
    Count,
    /// An amount of money or goods.
    Amount,
    /// Free text.
    Text,
}

/// A cell as read from the workbook.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    /// No value.
    Empty,
    /// A numeric cell.
    Number(f64),
    /// A text cell.
    Text(String),
    /// A boolean cell.
    Bool(bool),
    /// An error value such as `#DIV/0!`.
    Error(String),
    /// A formula whose cached value is missing: the formula text.
    FormulaWithoutValue(String),
}

/// What the cell says, once understood.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Value {
    /// A number; `decimals` = decimals as written (text) or needed to print the float without noise (numeric cells, at most 6).
    Number {
        /// The number.
        value: f64,
        /// Decimals, for tolerances of ± 0.5·10^-decimals.
        decimals: u32,
    },
    /// A range "8 - 9", "19 – 20%", "từ 8 đến 9": low ≤ high.
    Range {
        /// Lower end.
        low: f64,
        /// Upper end.
        high: f64,
        /// The larger of the two ends' decimals.
        decimals: u32,
    },
    /// "từ 8% trở lên", "≥ 8", ">= 8", "trên 8%": at least.
    AtLeast {
        /// The bound.
        value: f64,
        /// Decimals of the bound.
        decimals: u32,
    },
    /// "dưới 5%", "< 5", "≤ 5", "tối đa 5": at most.
    AtMost {
        /// The bound.
        value: f64,
        /// Decimals of the bound.
        decimals: u32,
    },
    /// Not applicable: "x", "X", a dash ("-", "–", "—"), "k.có", "không".
    NotApplicable,
    /// Blank.
    Blank,
    /// Text in a text row.
    Text(String),
}

/// Why a cell could not be understood, or could be but deserves a warning.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
pub enum Problem {
    /// Not a number where one is expected: the text as found.
    #[error("not a number: {0:?}")]
    NotANumber(String),
    /// "1.644" in a text cell: 1644 or 1.644? Both readings given; a warning, not a guess.
    #[error("{text:?} is ambiguous: {as_thousands} or {as_decimal}")]
    AmbiguousSeparator {
        /// The text as found.
        text: String,
        /// The reading with the separator grouping thousands.
        as_thousands: f64,
        /// The reading with the separator as the decimal mark.
        as_decimal: f64,
    },
    /// A range or bound where the column does not allow one.
    #[error("a range or bound where a single value is expected: {0:?}")]
    RangeNotAllowed(String),
    /// A formula whose cached value is missing (file written by a program that does not compute).
    #[error("formula {0:?} has no saved value")]
    FormulaWithoutValue(String),
    /// An error value such as #DIV/0!.
    #[error("error value {0}")]
    ErrorValue(String),
}

/// Options for interpreting a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interpret {
    /// The kind of value the row holds.
    pub kind: ValueKind,
    /// Whether ranges and bounds ("8 - 9", "trên 8") are accepted.
    pub ranges_allowed: bool,
    /// Whether "x" and dashes are accepted as not applicable.
    pub not_applicable_allowed: bool,
}

/// A number read from text by [`parse_number`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParsedNumber {
    /// The value, in the Vietnamese reading when ambiguous (dot = thousands, comma = decimals).
    pub value: f64,
    /// Decimals as written.
    pub decimals: u32,
    /// Whether a % sign was present.
    pub percent: bool,
    /// For a lone "1.644"/"1,644": `(as_thousands, as_decimal)`.
    pub ambiguous: Option<(f64, f64)>,
}

/// Interprets a cell: Ok(value, optional warning problem) or Err(error problem).
///
/// No interpretation currently produces a warning: an ambiguous separator is an `Err` (see the
/// module header), so the second element is reserved for softer findings.
pub fn interpret(raw: &Raw, how: &Interpret) -> Result<(Value, Option<Problem>), Problem> {
    match raw {
        Raw::Empty => Ok((Value::Blank, None)),
        Raw::Error(e) => Err(Problem::ErrorValue(e.clone())),
        Raw::FormulaWithoutValue(f) => Err(Problem::FormulaWithoutValue(f.clone())),
        Raw::Bool(b) => {
            let text = if *b { "TRUE" } else { "FALSE" };
            match how.kind {
                ValueKind::Text => Ok((Value::Text(text.to_owned()), None)),
                _ => Err(Problem::NotANumber(text.to_owned())),
            }
        }
        Raw::Number(v) => {
            if !v.is_finite() {
                return Err(Problem::NotANumber(v.to_string()));
            }
            let (value, decimals) = clean_float(*v);
            match how.kind {
                ValueKind::Text => Ok((
                    Value::Text(format!("{value:.prec$}", prec = decimals as usize)),
                    None,
                )),
                _ => Ok((Value::Number { value, decimals }, None)),
            }
        }
        Raw::Text(t) => interpret_text(t, how),
    }
}

fn interpret_text(text: &str, how: &Interpret) -> Result<(Value, Option<Problem>), Problem> {
    let nfc: String = text.nfc().collect();
    let s = trim(&nfc);
    if s.is_empty() {
        return Ok((Value::Blank, None));
    }
    if how.kind == ValueKind::Text {
        return Ok((Value::Text(s.to_owned()), None));
    }
    let not_a_number = || Problem::NotANumber(s.to_owned());
    if s.chars().count() > MAX_NUMBER_TEXT {
        return Err(not_a_number());
    }
    if is_not_applicable(s) {
        return if how.not_applicable_allowed {
            Ok((Value::NotApplicable, None))
        } else {
            Err(not_a_number())
        };
    }
    if let Some(bounded) = parse_bounded(s)? {
        return if how.ranges_allowed {
            Ok((bounded, None))
        } else {
            Err(Problem::RangeNotAllowed(s.to_owned()))
        };
    }
    let n = number_or_problem(s, s)?;
    Ok((
        Value::Number {
            value: n.value,
            decimals: n.decimals,
        },
        None,
    ))
}

/// Parses one number of `cell`, refusing an ambiguous one.
fn number_or_problem(part: &str, cell: &str) -> Result<ParsedNumber, Problem> {
    match parse_number(part) {
        None => Err(Problem::NotANumber(cell.to_owned())),
        Some(ParsedNumber {
            ambiguous: Some((as_thousands, as_decimal)),
            ..
        }) => Err(Problem::AmbiguousSeparator {
            text: cell.to_owned(),
            as_thousands,
            as_decimal,
        }),
        Some(n) => Ok(n),
    }
}

fn is_not_applicable(s: &str) -> bool {
    if s.chars().all(|c| matches!(c, '-' | '–' | '—')) {
        return true;
    }
    let lower = s.to_lowercase();
    matches!(
        lower.as_str(),
        "x" | "k.có" | "k/có" | "k. có" | "không" | "không có"
    )
}

/// Words that turn the number after them into a lower bound. Longer spellings first.
const AT_LEAST_PREFIXES: &[&str] = &[
    ">=",
    "=>",
    "≥",
    ">",
    "không dưới",
    "không thấp hơn",
    "tối thiểu",
    "ít nhất",
    "lớn hơn",
    "cao hơn",
    "trên",
];

/// Words that turn the number after them into an upper bound. Longer spellings first.
const AT_MOST_PREFIXES: &[&str] = &[
    "<=",
    "=<",
    "≤",
    "<",
    "không vượt quá",
    "không quá",
    "không trên",
    "tối đa",
    "nhỏ hơn",
    "thấp hơn",
    "dưới",
];

/// Reads a range or a bound. `Ok(None)` when the text has neither shape; an error when it has
/// the shape but its numbers cannot be read.
fn parse_bounded(s: &str) -> Result<Option<Value>, Problem> {
    let lower = s.to_lowercase();
    let bound = |rest: &str, at_least: bool| -> Result<Option<Value>, Problem> {
        let n = number_or_problem(trim(rest), s)?;
        Ok(Some(if at_least {
            Value::AtLeast {
                value: n.value,
                decimals: n.decimals,
            }
        } else {
            Value::AtMost {
                value: n.value,
                decimals: n.decimals,
            }
        }))
    };

    // "từ 8% trở lên", "8 trở lên", "từ 5 trở xuống".
    let (body, had_from) = match lower.strip_prefix("từ") {
        Some(rest) if rest.starts_with(is_space) => (trim(rest), true),
        _ => (lower.as_str(), false),
    };
    if let Some(rest) = body.strip_suffix("trở lên") {
        return bound(rest, true);
    }
    if let Some(rest) = body.strip_suffix("trở xuống") {
        return bound(rest, false);
    }
    if !had_from {
        for (prefixes, at_least) in [(AT_LEAST_PREFIXES, true), (AT_MOST_PREFIXES, false)] {
            for p in prefixes {
                if let Some(rest) = lower.strip_prefix(p) {
                    // A word prefix must end at a word boundary ("trên 8", not "trênx").
                    let word = p.chars().all(char::is_alphabetic);
                    if word && rest.starts_with(char::is_alphabetic) {
                        continue;
                    }
                    return bound(rest, at_least);
                }
            }
        }
    }

    // "8 đến 9", "từ 8 đến 9", "8 - 9", "19 – 20%", "8 ÷ 9".
    let Some((low, high)) = split_range(body)? else {
        return if had_from {
            Err(Problem::NotANumber(s.to_owned()))
        } else {
            Ok(None)
        };
    };
    let low = number_or_problem(trim(low), s)?;
    let high = number_or_problem(trim(high), s)?;
    if low.value > high.value {
        return Err(Problem::NotANumber(s.to_owned()));
    }
    Ok(Some(Value::Range {
        low: low.value,
        high: high.value,
        decimals: low.decimals.max(high.decimals),
    }))
}

/// Splits a range at its one separator; `Ok(None)` when there is none.
fn split_range(body: &str) -> Result<Option<(&str, &str)>, Problem> {
    let not_a_number = || Problem::NotANumber(body.to_owned());
    for word in ["đến", "tới"] {
        let mut parts = body.split(word);
        if let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) {
            return Ok(Some((a, b)));
        }
        if body.contains(word) {
            return Err(not_a_number());
        }
    }
    // A dash is a separator when something precedes it; a hyphen only after a digit or %,
    // so the minus of "-3,2" or "-2 - 3" stays a sign.
    let mut cuts = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in body.char_indices() {
        let separator = match c {
            '–' | '—' | '÷' | '~' => prev.is_some(),
            '-' => prev.is_some_and(|p| p.is_ascii_digit() || p == '%'),
            _ => false,
        };
        if separator {
            cuts.push((i, c.len_utf8()));
        }
        if !is_space(c) {
            prev = Some(c);
        }
    }
    match cuts.as_slice() {
        [] => Ok(None),
        [(i, len)] => Ok(Some((&body[..*i], &body[i + len..]))),
        _ => Err(not_a_number()),
    }
}

/// Parses Vietnamese-written number text: "1.644,1" → 1644.1, "7,98%" → 7.98, "12 345,6",
/// "1,234.5", "-3,2", "(3,2)", "+5", "−5", "45,2 tỷ đồng"; flags a lone "1.644"/"1,644".
///
/// A separator that occurs once is a decimal mark, unless it could also group thousands
/// (1–3 digits before it, not starting with 0, exactly 3 after): then `ambiguous` is set and
/// `value` is the Vietnamese reading. A separator that occurs several times groups thousands;
/// with both present, the last one is the decimal mark. A trailing unit made of letters is
/// ignored. Exponents, "NaN" and "inf" are not numbers; text over 64 characters is refused.
pub fn parse_number(text: &str) -> Option<ParsedNumber> {
    let s = trim(text);
    if s.is_empty() || s.chars().count() > MAX_NUMBER_TEXT {
        return None;
    }
    let s = strip_unit(s);
    let (s, percent_outside) = strip_percent(s);
    let (s, parenthesised) = match s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        Some(inner) => (trim(inner), true),
        None => (s, false),
    };
    let (s, percent_inside) = strip_percent(s);
    if percent_outside && percent_inside {
        return None;
    }
    let (s, sign) = match s.chars().next()? {
        '+' => (trim(&s[1..]), Some(false)),
        '-' => (trim(&s[1..]), Some(true)),
        '−' => (trim(&s['−'.len_utf8()..]), Some(true)),
        _ => (s, None),
    };
    if parenthesised && sign.is_some() {
        return None;
    }
    let negative = parenthesised || sign == Some(true);
    let body = read_body(s)?;
    let signed = |v: f64| if negative { -v } else { v };
    let value = signed(body.main.value()?);
    let ambiguous = match &body.other {
        Some(other) => {
            let o = signed(other.value()?);
            // The pair is (as_thousands, as_decimal) whichever the main reading is.
            Some(if body.main.frac.is_empty() {
                (value, o)
            } else {
                (o, value)
            })
        }
        None => None,
    };
    Some(ParsedNumber {
        value,
        decimals: u32::try_from(body.main.frac.len()).ok()?,
        percent: percent_outside || percent_inside,
        ambiguous,
    })
}

/// Digits of a number: integer part and fractional part.
#[derive(Debug)]
struct Reading {
    int: String,
    frac: String,
}

impl Reading {
    fn value(&self) -> Option<f64> {
        let int = if self.int.is_empty() { "0" } else { &self.int };
        let v: f64 = format!("{int}.{frac}0", frac = self.frac).parse().ok()?;
        v.is_finite().then_some(v)
    }
}

/// The reading of a number's digits and separators, and the other reading when ambiguous.
struct Body {
    main: Reading,
    other: Option<Reading>,
}

fn is_group_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Thousands groups: the first of 1–3 digits not starting with 0, the others of exactly 3.
fn valid_groups(groups: &[&str]) -> bool {
    match groups {
        [first, rest @ ..] if !rest.is_empty() => {
            all_digits(first)
                && first.len() <= 3
                && !first.starts_with('0')
                && rest.iter().all(|g| g.len() == 3 && all_digits(g))
        }
        _ => false,
    }
}

fn read_body(s: &str) -> Option<Body> {
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',' || is_group_space(c))
    {
        return None;
    }
    let plain = |int: &str, frac: &str| Body {
        main: Reading {
            int: int.to_owned(),
            frac: frac.to_owned(),
        },
        other: None,
    };

    // "12 345,6": spaces group thousands, so the one mark left is the decimal mark.
    if s.contains(is_group_space) {
        let parts: Vec<&str> = s.split(is_group_space).collect();
        let (last, head) = parts.split_last()?;
        let (last_int, frac) = match last.find(['.', ',']) {
            Some(i) => (&last[..i], &last[i + 1..]),
            None => (*last, ""),
        };
        if !frac.is_empty() && !all_digits(frac) || last.len() > last_int.len() && frac.is_empty() {
            return None;
        }
        let mut groups = head.to_vec();
        groups.push(last_int);
        return valid_groups(&groups).then(|| plain(&groups.concat(), frac));
    }

    let dots = s.matches('.').count();
    let commas = s.matches(',').count();
    match (dots, commas) {
        (0, 0) => Some(plain(s, "")),
        (n, 0) | (0, n) => {
            let mark = if dots > 0 { '.' } else { ',' };
            if n > 1 {
                let groups: Vec<&str> = s.split(mark).collect();
                return valid_groups(&groups).then(|| plain(&groups.concat(), ""));
            }
            let (int, frac) = s.split_once(mark)?;
            if !all_digits(frac) || !int.is_empty() && !all_digits(int) {
                return None;
            }
            if valid_groups(&[int, frac]) {
                let thousands = Reading {
                    int: format!("{int}{frac}"),
                    frac: String::new(),
                };
                let decimal = Reading {
                    int: int.to_owned(),
                    frac: frac.to_owned(),
                };
                // The Vietnamese reading leads: a dot groups thousands, a comma marks decimals.
                let (main, other) = if mark == '.' {
                    (thousands, decimal)
                } else {
                    (decimal, thousands)
                };
                return Some(Body {
                    main,
                    other: Some(other),
                });
            }
            Some(plain(int, frac))
        }
        _ => {
            // The later mark is the decimal mark; it occurs once, the other groups thousands.
            let (dec, group) = if s.rfind('.') > s.rfind(',') {
                ('.', ',')
            } else {
                (',', '.')
            };
            let (int, frac) = s.rsplit_once(dec)?;
            if int.contains(dec) || !all_digits(frac) {
                return None;
            }
            let groups: Vec<&str> = int.split(group).collect();
            valid_groups(&groups).then(|| plain(&groups.concat(), frac))
        }
    }
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200b}' | '\u{feff}')
}

fn trim(s: &str) -> &str {
    s.trim_matches(is_space)
}

fn strip_percent(s: &str) -> (&str, bool) {
    match s.strip_suffix('%') {
        Some(rest) => (trim(rest), true),
        None => (s, false),
    }
}

/// Removes a trailing unit made of letters ("12 ha", "45,2 tỷ đồng", "30 m2", "5 người/km²").
fn strip_unit(s: &str) -> &str {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut start = chars.len();
    while start > 0 {
        let c = chars[start - 1].1;
        let unit_char = c.is_alphabetic()
            || unicode_normalization::char::is_combining_mark(c)
            || is_space(c)
            || c == '/'
            || c == '.'
            // m2, m3, km² are units; any other digit belongs to the number.
            || (matches!(c, '2' | '3' | '²' | '³')
                && start >= 2
                && chars[start - 2].1 == 'm');
        if !unit_char {
            break;
        }
        start -= 1;
    }
    if start == 0 || start == chars.len() {
        return s;
    }
    let tail_at = chars[start].0;
    let tail = &s[tail_at..];
    // The unit starts at its first letter; only spaces or a slash ("%/năm") may precede it.
    let Some(letter) = tail.find(char::is_alphabetic) else {
        return s;
    };
    if !tail[..letter].chars().all(|c| is_space(c) || c == '/') {
        return s;
    }
    trim(&s[..tail_at])
}

/// Rounds a float to the decimals it needs, removing floating-point noise.
fn clean_float(v: f64) -> (f64, u32) {
    let d = float_decimals(v);
    let r = round_to(v, d);
    if (r - v).abs() <= noise(v) {
        (r, d)
    } else {
        (v, d)
    }
}

fn round_to(v: f64, d: u32) -> f64 {
    let scale = 10f64.powi(d as i32);
    (v * scale).round() / scale
}

/// The largest difference taken as floating-point noise near `v`.
fn noise(v: f64) -> f64 {
    v.abs().max(1.0) * 1e-12
}

/// The decimals needed to print a float without floating-point noise: 7.0000000000000009 → 0, 21.61 → 2, 0.1+0.2 → 1; at most 6.
pub fn float_decimals(v: f64) -> u32 {
    if !v.is_finite() || v.abs() >= 1e15 {
        return 0;
    }
    (0..MAX_FLOAT_DECIMALS)
        .find(|&d| (round_to(v, d) - v).abs() <= noise(v))
        .unwrap_or(MAX_FLOAT_DECIMALS)
}

/// Two values equal within XBRL tolerance: |a-b| ≤ 0.5·10^-da + 0.5·10^-db (plus float noise).
///
/// The float-noise allowance is 1e-9, growing by 1e-12 of the larger magnitude so that sums
/// of large amounts are not failed for their last bits.
pub fn within_tolerance(a: f64, da: u32, b: f64, db: u32) -> bool {
    if !a.is_finite() || !b.is_finite() {
        return false;
    }
    let half = |d: u32| 0.5 * 10f64.powi(-(d.min(300) as i32));
    let slack = 1e-9 + a.abs().max(b.abs()) * 1e-12;
    (a - b).abs() <= half(da) + half(db) + slack
}

#[cfg(test)]
mod tests {
    use super::*;

    fn how(kind: ValueKind) -> Interpret {
        Interpret {
            kind,
            ranges_allowed: true,
            not_applicable_allowed: true,
        }
    }

    fn strict(kind: ValueKind) -> Interpret {
        Interpret {
            kind,
            ranges_allowed: false,
            not_applicable_allowed: false,
        }
    }

    fn text(s: &str, how: Interpret) -> Result<(Value, Option<Problem>), Problem> {
        interpret(&Raw::Text(s.to_owned()), &how)
    }

    fn value(s: &str) -> Value {
        text(s, how(ValueKind::Number))
            .unwrap_or_else(|p| panic!("{s:?}: {p}"))
            .0
    }

    fn num(v: f64, decimals: u32) -> Value {
        Value::Number { value: v, decimals }
    }

    fn parsed(s: &str) -> (f64, u32, bool) {
        let p = parse_number(s).unwrap_or_else(|| panic!("{s:?} should parse"));
        assert_eq!(p.ambiguous, None, "{s:?}");
        (p.value, p.decimals, p.percent)
    }

    fn not_a_number(s: &str) {
        assert_eq!(
            text(s, how(ValueKind::Number)),
            Err(Problem::NotANumber(trim(s).to_owned())),
            "{s:?}"
        );
    }

    #[test]
    fn vietnamese_separators() {
        assert_eq!(parsed("1.644,1"), (1644.1, 1, false));
        assert_eq!(parsed("7,98%"), (7.98, 2, true));
        assert_eq!(parsed("7,98 %"), (7.98, 2, true));
        assert_eq!(parsed("1,5"), (1.5, 1, false));
        assert_eq!(parsed("1.644.000"), (1_644_000.0, 0, false));
        assert_eq!(parsed("1.644.000,25"), (1_644_000.25, 2, false));
        assert_eq!(parsed("12 345,6"), (12345.6, 1, false));
        assert_eq!(parsed("12\u{a0}345,6"), (12345.6, 1, false));
        assert_eq!(parsed("1 234 567"), (1_234_567.0, 0, false));
        assert_eq!(parsed("1 644"), (1644.0, 0, false));
        assert_eq!(parsed("12\u{202f}345.6"), (12345.6, 1, false));
    }

    #[test]
    fn english_separators() {
        assert_eq!(parsed("1,234.5"), (1234.5, 1, false));
        assert_eq!(parsed("1,234,567"), (1_234_567.0, 0, false));
        assert_eq!(parsed("1,234,567.89"), (1_234_567.89, 2, false));
        assert_eq!(parsed("7.98"), (7.98, 2, false));
        assert_eq!(parsed("21.61"), (21.61, 2, false));
        assert_eq!(parsed("12345.678"), (12345.678, 3, false));
    }

    #[test]
    fn signs_and_parentheses() {
        assert_eq!(parsed("-3,2"), (-3.2, 1, false));
        assert_eq!(parsed("(3,2)"), (-3.2, 1, false));
        assert_eq!(parsed("+5"), (5.0, 0, false));
        assert_eq!(parsed("−5,5"), (-5.5, 1, false));
        assert_eq!(parsed("- 3,2"), (-3.2, 1, false));
        assert_eq!(parsed("(3,2%)"), (-3.2, 1, true));
        assert_eq!(parsed("(3,2)%"), (-3.2, 1, true));
        assert_eq!(parse_number("-(3,2)"), None);
        assert_eq!(parse_number("(-3,2)"), None);
        assert_eq!(parse_number("--3"), None);
        assert_eq!(parse_number("+-3"), None);
    }

    #[test]
    fn leading_and_trailing_marks() {
        assert_eq!(parsed(",5"), (0.5, 1, false));
        assert_eq!(parsed(".5"), (0.5, 1, false));
        assert_eq!(parsed("0,644"), (0.644, 3, false));
        assert_eq!(parsed("0.644"), (0.644, 3, false));
        assert_eq!(parsed("007"), (7.0, 0, false));
        assert_eq!(parse_number("5."), None);
        assert_eq!(parse_number("5,"), None);
    }

    #[test]
    fn units_are_ignored() {
        assert_eq!(parsed("12 ha"), (12.0, 0, false));
        assert_eq!(parsed("12ha"), (12.0, 0, false));
        assert_eq!(parsed("45,2 tỷ đồng"), (45.2, 1, false));
        assert_eq!(parsed("1.644.000 đ"), (1_644_000.0, 0, false));
        assert_eq!(parsed("30 m2"), (30.0, 0, false));
        assert_eq!(parsed("250 người/km²"), (250.0, 0, false));
        assert_eq!(parsed("3,5 triệu USD"), (3.5, 1, false));
        assert_eq!(parsed("8,5 %/năm"), (8.5, 1, true));
        assert_eq!(value("45,2 tỷ đồng"), num(45.2, 1));
        // A letter inside the number is not a unit.
        assert_eq!(parse_number("12abc3"), None);
        assert_eq!(parse_number("1e5"), None);
        assert_eq!(parse_number("ha"), None);
    }

    #[test]
    fn lone_separator_with_three_digits_is_ambiguous() {
        let p = parse_number("1.644").unwrap();
        assert_eq!((p.value, p.decimals), (1644.0, 0));
        assert_eq!(p.ambiguous, Some((1644.0, 1.644)));
        let p = parse_number("1,644").unwrap();
        assert_eq!((p.value, p.decimals), (1.644, 3));
        assert_eq!(p.ambiguous, Some((1644.0, 1.644)));
        let p = parse_number("-12.345").unwrap();
        assert_eq!(p.ambiguous, Some((-12345.0, -12.345)));
        let p = parse_number("999,999%").unwrap();
        assert!(p.percent);
        assert_eq!(p.ambiguous, Some((999_999.0, 999.999)));
        // Not ambiguous: two separators, a zero before, other digit counts.
        for s in [
            "1.644,1",
            "1,5",
            "1.644.000",
            "0.644",
            "0,644",
            "1.6445",
            "1234.567",
            "1.64",
        ] {
            assert_eq!(parse_number(s).unwrap().ambiguous, None, "{s}");
        }
    }

    #[test]
    fn ambiguous_text_is_refused_with_both_readings() {
        let expected = Problem::AmbiguousSeparator {
            text: "1.644".into(),
            as_thousands: 1644.0,
            as_decimal: 1.644,
        };
        assert_eq!(
            text(" 1.644 ", how(ValueKind::Amount)),
            Err(expected.clone())
        );
        assert_eq!(
            expected.to_string(),
            "\"1.644\" is ambiguous: 1644 or 1.644"
        );
        assert!(matches!(
            text("1,644", how(ValueKind::Percent)),
            Err(Problem::AmbiguousSeparator { .. })
        ));
        // Inside a range or a bound, too.
        assert!(matches!(
            text("1.644 - 2.000", how(ValueKind::Amount)),
            Err(Problem::AmbiguousSeparator { .. })
        ));
        assert!(matches!(
            text("trên 1.500", how(ValueKind::Amount)),
            Err(Problem::AmbiguousSeparator { .. })
        ));
        // A text row keeps the text as it is.
        assert_eq!(
            text("1.644", how(ValueKind::Text)),
            Ok((Value::Text("1.644".into()), None))
        );
    }

    #[test]
    fn nasty_inputs() {
        for s in ["", "   ", "\u{a0}", "\u{feff}"] {
            assert_eq!(
                text(s, how(ValueKind::Number)),
                Ok((Value::Blank, None)),
                "{s:?}"
            );
            assert_eq!(parse_number(s), None);
        }
        for s in [
            "%",
            "..",
            "1..2",
            "1,2,3",
            "1.2.3",
            "1,2.3",
            "1.23,4",
            "12 34",
            "1 2345",
            "1e400",
            "1E+15",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "infinity",
            "abc",
            "%%",
            "(",
            "()",
            "+",
            "−",
            "1 000 00",
            "1,234.5.6",
            "1.234,5,6",
            "0.644.000",
            "1_000",
            "١٢",
        ] {
            assert_eq!(parse_number(s), None, "{s:?}");
            not_a_number(s);
        }
        let long = "1".repeat(65);
        assert_eq!(parse_number(&long), None);
        not_a_number(&long);
        let at_limit = "9".repeat(64);
        assert_eq!(parse_number(&at_limit).unwrap().value, 1e64);
    }

    #[test]
    fn not_applicable_only_when_allowed() {
        for s in [
            "x",
            "X",
            "-",
            "–",
            "—",
            "--",
            "k.có",
            "K.CÓ",
            "k/có",
            "không",
            "Không có",
        ] {
            assert_eq!(
                text(s, how(ValueKind::Percent)),
                Ok((Value::NotApplicable, None)),
                "{s}"
            );
            assert_eq!(
                text(s, strict(ValueKind::Percent)),
                Err(Problem::NotANumber(s.to_owned())),
                "{s}"
            );
        }
        assert_eq!(
            text("x", how(ValueKind::Text)),
            Ok((Value::Text("x".into()), None))
        );
        not_a_number("0/0");
        not_a_number("xx");
    }

    fn range(low: f64, high: f64, decimals: u32) -> Value {
        Value::Range {
            low,
            high,
            decimals,
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(value("8 - 9"), range(8.0, 9.0, 0));
        assert_eq!(value("8-9"), range(8.0, 9.0, 0));
        assert_eq!(value("8–9%"), range(8.0, 9.0, 0));
        assert_eq!(value("8-9%"), range(8.0, 9.0, 0));
        assert_eq!(value("8%-9%"), range(8.0, 9.0, 0));
        assert_eq!(value("19 – 20%"), range(19.0, 20.0, 0));
        assert_eq!(value("19 — 20"), range(19.0, 20.0, 0));
        assert_eq!(value("8 đến 9"), range(8.0, 9.0, 0));
        assert_eq!(value("8 ÷ 9"), range(8.0, 9.0, 0));
        assert_eq!(value("8 ~ 9"), range(8.0, 9.0, 0));
        assert_eq!(value("từ 8 đến 9"), range(8.0, 9.0, 0));
        assert_eq!(value("Từ 8 tới 9"), range(8.0, 9.0, 0));
        assert_eq!(value("6,5 - 7"), range(6.5, 7.0, 1));
        assert_eq!(value("19,5 - 20,25%"), range(19.5, 20.25, 2));
        assert_eq!(value("1.200.000 - 1.500.000 đồng"), range(1.2e6, 1.5e6, 0));
        assert_eq!(value("8 - 9 ha"), range(8.0, 9.0, 0));
        assert_eq!(value("8,5–9"), range(8.5, 9.0, 1));
        assert_eq!(value("9 - 9"), range(9.0, 9.0, 0));
    }

    #[test]
    fn negative_numbers_are_not_ranges() {
        assert_eq!(value("-3,2"), num(-3.2, 1));
        assert_eq!(value("- 3,2"), num(-3.2, 1));
        assert_eq!(value("-2 - 3"), range(-2.0, 3.0, 0));
        assert_eq!(value("-5 - -3"), range(-5.0, -3.0, 0));
        assert_eq!(value("-5,5 đến -3"), range(-5.5, -3.0, 1));
        assert_eq!(value("−2 – 3"), range(-2.0, 3.0, 0));
        assert_eq!(value("(3,2)"), num(-3.2, 1));
    }

    #[test]
    fn malformed_ranges() {
        for s in [
            "9 - 8",
            "1-2-3",
            "8 - ",
            "8 -",
            "- 8 -",
            "từ 8",
            "8 đến",
            "đến 9",
            "8 đến 9 đến 10",
            "8 – 9 – 10",
            "a - b",
            "8 ha - 9 ha",
            "3 - -2",
        ] {
            not_a_number(s);
        }
    }

    #[test]
    fn ranges_refused_where_not_allowed() {
        for s in [
            "8 - 9",
            "19 – 20%",
            "từ 8 đến 9",
            "trên 8",
            "≥8",
            "dưới 5",
            "từ 8% trở lên",
        ] {
            assert_eq!(
                text(s, strict(ValueKind::Percent)),
                Err(Problem::RangeNotAllowed(s.to_owned())),
                "{s}"
            );
        }
        // A single number is still fine, a negative one too.
        assert_eq!(
            text("-3,2", strict(ValueKind::Number)),
            Ok((num(-3.2, 1), None))
        );
        // Unreadable bounds are reported as such, not as a refused range.
        assert_eq!(
            text("8 - ", strict(ValueKind::Number)),
            Err(Problem::NotANumber("8 -".into()))
        );
    }

    #[test]
    fn lower_bounds() {
        let at_least = |v: f64, d: u32| Value::AtLeast {
            value: v,
            decimals: d,
        };
        for s in [
            "từ 8% trở lên",
            "Từ 8 trở lên",
            "8% trở lên",
            "trên 8",
            "Trên 8%",
            ">8",
            "> 8",
            "≥8",
            "≥ 8",
            ">= 8",
            "=> 8",
            "tối thiểu 8",
            "ít nhất 8",
            "không dưới 8",
        ] {
            assert_eq!(value(s), at_least(8.0, 0), "{s}");
        }
        assert_eq!(value("trên 8,5%"), at_least(8.5, 1));
        assert_eq!(value("≥ -1"), at_least(-1.0, 0));
    }

    #[test]
    fn upper_bounds() {
        let at_most = |v: f64, d: u32| Value::AtMost {
            value: v,
            decimals: d,
        };
        for s in [
            "dưới 5",
            "Dưới 5%",
            "<5",
            "< 5",
            "≤ 5",
            "<= 5",
            "tối đa 5",
            "Tối đa 5 %",
            "không quá 5",
            "không vượt quá 5",
            "5 trở xuống",
            "từ 5% trở xuống",
        ] {
            assert_eq!(value(s), at_most(5.0, 0), "{s}");
        }
        assert_eq!(value("dưới 1,5"), at_most(1.5, 1));
    }

    #[test]
    fn malformed_bounds() {
        for s in [
            "trên",
            ">",
            "≤",
            "dưới x",
            "< 5 - 6",
            "trênx 5",
            "trở lên",
            "tối đa năm",
        ] {
            not_a_number(s);
        }
    }

    #[test]
    fn numeric_cells_lose_float_noise() {
        let n = |v: f64, kind: ValueKind| interpret(&Raw::Number(v), &how(kind)).unwrap().0;
        assert_eq!(n(7.000_000_000_000_001, ValueKind::Count), num(7.0, 0));
        assert_eq!(n(21.61, ValueKind::Percent), num(21.61, 2));
        assert_eq!(n(0.1 + 0.2, ValueKind::Number), num(0.3, 1));
        assert_eq!(n(1.0 / 3.0, ValueKind::Number), num(1.0 / 3.0, 6));
        // Percent rows take numbers as written.
        assert_eq!(n(7.98, ValueKind::Percent), num(7.98, 2));
        assert_eq!(n(0.0798, ValueKind::Percent), num(0.0798, 4));
        // A fractional count is for a rule to judge, not an interpretation error.
        assert_eq!(n(2.5, ValueKind::Count), num(2.5, 1));
        assert_eq!(n(-1644.1, ValueKind::Amount), num(-1644.1, 1));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(
                interpret(&Raw::Number(bad), &how(ValueKind::Number)),
                Err(Problem::NotANumber(_))
            ));
        }
    }

    #[test]
    fn numbers_in_text_rows_print_cleanly() {
        let t = |v: f64| interpret(&Raw::Number(v), &how(ValueKind::Text)).unwrap().0;
        assert_eq!(t(7.000_000_000_000_001), Value::Text("7".into()));
        assert_eq!(t(12.5), Value::Text("12.5".into()));
        assert_eq!(t(0.1 + 0.2), Value::Text("0.3".into()));
    }

    #[test]
    fn other_raw_cells() {
        let h = how(ValueKind::Number);
        assert_eq!(interpret(&Raw::Empty, &h), Ok((Value::Blank, None)));
        assert_eq!(
            interpret(&Raw::Error("#DIV/0!".into()), &h),
            Err(Problem::ErrorValue("#DIV/0!".into()))
        );
        assert_eq!(
            interpret(
                &Raw::FormulaWithoutValue("SUM(C5:C9)".into()),
                &how(ValueKind::Text)
            ),
            Err(Problem::FormulaWithoutValue("SUM(C5:C9)".into()))
        );
        assert_eq!(
            interpret(&Raw::Bool(true), &h),
            Err(Problem::NotANumber("TRUE".into()))
        );
        assert_eq!(
            interpret(&Raw::Bool(false), &how(ValueKind::Text)),
            Ok((Value::Text("FALSE".into()), None))
        );
    }

    #[test]
    fn text_rows_keep_text() {
        assert_eq!(
            text("  Sở Y tế\u{a0}", how(ValueKind::Text)),
            Ok((Value::Text("Sở Y tế".into()), None))
        );
        // Decomposed input (as macOS sends) comes out composed.
        let nfd: String = "Đình Lập".nfd().collect();
        assert_eq!(
            text(&nfd, how(ValueKind::Text)),
            Ok((Value::Text("Đình Lập".into()), None))
        );
        assert_eq!(text("   ", how(ValueKind::Text)), Ok((Value::Blank, None)));
    }

    #[test]
    fn text_numbers_in_numeric_rows() {
        assert_eq!(value("1.644,1"), num(1644.1, 1));
        assert_eq!(
            text("7,98%", how(ValueKind::Percent)),
            Ok((num(7.98, 2), None))
        );
        assert_eq!(value("1,5"), num(1.5, 1));
        assert_eq!(value("12 345,6"), num(12345.6, 1));
        assert_eq!(value("1,234.5"), num(1234.5, 1));
        assert_eq!(value("+5"), num(5.0, 0));
        assert_eq!(value("−5"), num(-5.0, 0));
        assert_eq!(value(" 12 ha "), num(12.0, 0));
        assert_eq!(value("1.644.000"), num(1_644_000.0, 0));
        assert_eq!(value("100"), num(100.0, 0));
        assert_eq!(value("100,00"), num(100.0, 2));
    }

    #[test]
    fn float_decimals_ignore_noise() {
        assert_eq!(float_decimals(7.000_000_000_000_001), 0);
        assert_eq!(float_decimals(21.61), 2);
        assert_eq!(float_decimals(0.1 + 0.2), 1);
        assert_eq!(float_decimals(19.5), 1);
        assert_eq!(float_decimals(100.0), 0);
        assert_eq!(float_decimals(-2.75), 2);
        assert_eq!(float_decimals(123_456_789.123), 3);
        assert_eq!(float_decimals(1.0 / 3.0), 6);
        assert_eq!(float_decimals(1e-7), 6);
        assert_eq!(float_decimals(0.000_001), 6);
        assert_eq!(float_decimals(1e20), 0);
        assert_eq!(float_decimals(f64::NAN), 0);
        assert_eq!(float_decimals(f64::INFINITY), 0);
        // The dispatch's six-month structure adds to 99.99, whatever the float says.
        let sum = 21.61 + 19.5 + 49.42 + 9.46;
        assert_eq!(float_decimals(sum), 2);
        assert_eq!(clean_float(sum), (99.99, 2));
        let labour = 67.93 + 7.72 + 24.84;
        assert_eq!(clean_float(labour), (100.49, 2));
    }

    #[test]
    fn tolerance_is_half_a_unit_of_each_side() {
        assert!(within_tolerance(99.99, 2, 100.0, 1)); // 0.01 ≤ 0.005 + 0.05
        assert!(within_tolerance(100.0, 1, 99.99, 2)); // symmetric
        assert!(within_tolerance(99.9, 1, 100.0, 1)); // on the edge: 0.1 ≤ 0.05 + 0.05
        assert!(!within_tolerance(99.8, 1, 100.0, 1));
        assert!(within_tolerance(99.99, 2, 100.0, 2)); // on the edge: 0.01 ≤ 0.005 + 0.005
        assert!(!within_tolerance(99.98, 2, 100.0, 2));
        assert!(within_tolerance(0.1 + 0.2, 6, 0.3, 6));
        assert!(within_tolerance(7.000_000_000_000_001, 6, 7.0, 6));
        assert!(!within_tolerance(7.001, 6, 7.0, 6));
        // The dispatch's labour structure target adds to 100.49: off an exact 100.
        assert!(!within_tolerance(67.93 + 7.72 + 24.84, 2, 100.0, 6));
        // Large amounts: the last bits of a sum do not fail it.
        let parts = [123_456_789.12, 987_654_321.98, 555_555_555.55];
        let total: f64 = parts.iter().sum();
        assert!(within_tolerance(total, 2, 1_666_666_666.65, 2));
        assert!(!within_tolerance(total, 2, 1_666_666_666.64, 6));
        assert!(!within_tolerance(f64::NAN, 0, f64::NAN, 0));
        assert!(!within_tolerance(f64::INFINITY, 0, f64::INFINITY, 0));
        // Huge decimals do not overflow.
        assert!(within_tolerance(1.0, u32::MAX, 1.0, u32::MAX));
    }

    #[test]
    fn serde_shapes() {
        let kind: ValueKind = serde_json::from_str("\"percent\"").unwrap();
        assert_eq!(kind, ValueKind::Percent);
        assert_eq!(
            serde_json::to_string(&ValueKind::Amount).unwrap(),
            "\"amount\""
        );
        let v = serde_json::to_value(num(7.98, 2)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"Number": {"value": 7.98, "decimals": 2}})
        );
        let p = serde_json::to_value(Problem::NotANumber("abc".into())).unwrap();
        assert_eq!(p, serde_json::json!({"NotANumber": "abc"}));
    }
}
