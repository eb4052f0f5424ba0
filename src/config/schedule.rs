//! # When intake writes to people
//!
//! The settings that decide when mail goes out: the department's office hours and working
//! days (reminders and the digest are sent only then), each campaign's reminder steps relative
//! to its deadline, the staff digest, the receipt rate limit and the outbox's retry policy.
//! Parsed from `[office]`, `[digest]`, `[receipts]`, `[outbox]` of `intake.toml` and
//! `[reminders]` of a campaign file.

use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;

/// `[office]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOffice {
    pub working_days: Option<Vec<String>>,
    pub opens: Option<String>,
    pub closes: Option<String>,
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// `[digest]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDigest {
    #[serde(default)]
    pub to: Vec<String>,
    pub at: Option<String>,
}

/// `[receipts]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReceipts {
    pub max_per_address_per_hour: Option<u32>,
}

/// `[reminders]` of a campaign file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReminders {
    pub days: Option<Vec<i32>>,
    pub at: Option<String>,
    pub attach_forms: Option<bool>,
    pub stale_after_hours: Option<u64>,
}

/// The department's working time, in its time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Office {
    /// Days mail may go out on.
    pub working_days: Vec<Weekday>,
    /// The earliest local time of day.
    pub opens: NaiveTime,
    /// The latest local time of day (exclusive).
    pub closes: NaiveTime,
    /// Public holidays: no reminders on these dates.
    pub holidays: Vec<NaiveDate>,
}

impl Default for Office {
    fn default() -> Self {
        Office {
            working_days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            opens: NaiveTime::from_hms_opt(7, 30, 0).expect("valid time"),
            closes: NaiveTime::from_hms_opt(17, 0, 0).expect("valid time"),
            holidays: Vec::new(),
        }
    }
}

impl Office {
    /// True when `day` is a working day that is not a holiday.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        use chrono::Datelike;
        self.working_days.contains(&day.weekday()) && !self.holidays.contains(&day)
    }
}

/// A campaign's reminder schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminders {
    /// Days relative to the last day of submission: negative before, 0 that day, positive
    /// after. Sorted ascending, no repeats.
    pub days: Vec<i32>,
    /// The local time of day a step is due.
    pub at: NaiveTime,
    /// Attach the blank forms of the missing deliverables.
    pub attach_forms: bool,
    /// How long after its time the last step is still worth sending.
    pub stale_after: Duration,
}

impl Default for Reminders {
    fn default() -> Self {
        Reminders {
            days: Vec::new(),
            at: NaiveTime::from_hms_opt(8, 0, 0).expect("valid time"),
            attach_forms: true,
            stale_after: Duration::from_secs(48 * 3600),
        }
    }
}

/// The daily summary for staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// Staff addresses.
    pub to: Vec<String>,
    /// The local time of day it is due, on working days.
    pub at: NaiveTime,
}

/// How the outbox retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Wait after the first failure; doubled after each further one.
    pub first: Duration,
    /// The longest wait between attempts.
    pub max: Duration,
    /// After this long since a mail was queued, a failing mail is given up and shown to staff.
    pub give_up: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            first: Duration::from_secs(30),
            max: Duration::from_secs(30 * 60),
            give_up: Duration::from_secs(72 * 3600),
        }
    }
}

/// `(key, problem, fix)`, the key relative to the table.
pub type Problem = (String, String, String);

fn problem(k: &str, p: &str, f: &str) -> Problem {
    (k.to_string(), p.to_string(), f.to_string())
}

/// Parses `HH:MM`.
pub fn time_of_day(key: &str, s: &str) -> Result<NaiveTime, Problem> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| {
        problem(
            key,
            &format!("\"{s}\" is not a time of day"),
            "write HH:MM, e.g. \"08:00\"",
        )
    })
}

/// Resolves `[office]`.
pub fn office(raw: &RawOffice) -> Result<Office, Problem> {
    let d = Office::default();
    let working_days = match &raw.working_days {
        None => d.working_days,
        Some(days) => {
            let mut out = Vec::new();
            for (i, s) in days.iter().enumerate() {
                let day: Weekday = s.parse().map_err(|_| {
                    problem(
                        &format!("office.working_days[{i}]"),
                        &format!("\"{s}\" is not a day of the week"),
                        "use mon, tue, wed, thu, fri, sat, sun",
                    )
                })?;
                out.push(day);
            }
            if out.is_empty() {
                return Err(problem(
                    "office.working_days",
                    "is empty: no reminder could ever go out",
                    "list the working days, e.g. [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]",
                ));
            }
            out
        }
    };
    let opens = match &raw.opens {
        Some(s) => time_of_day("office.opens", s)?,
        None => d.opens,
    };
    let closes = match &raw.closes {
        Some(s) => time_of_day("office.closes", s)?,
        None => d.closes,
    };
    if opens >= closes {
        return Err(problem(
            "office.closes",
            "is not after office.opens",
            "give the hours of one working day, e.g. opens = \"07:30\", closes = \"17:00\"",
        ));
    }
    let mut holidays = Vec::new();
    for (i, s) in raw.holidays.iter().enumerate() {
        holidays.push(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            problem(
                &format!("office.holidays[{i}]"),
                &format!("\"{s}\" is not a date"),
                "write YYYY-MM-DD",
            )
        })?);
    }
    Ok(Office {
        working_days,
        opens,
        closes,
        holidays,
    })
}

/// Resolves a campaign's `[reminders]` (absent: no reminders).
pub fn reminders(raw: Option<&RawReminders>) -> Result<Reminders, Problem> {
    let d = Reminders::default();
    let Some(raw) = raw else {
        return Ok(d);
    };
    let mut days = raw.days.clone().unwrap_or_default();
    if let Some(bad) = days.iter().find(|n| n.abs() > 90) {
        return Err(problem(
            "reminders.days",
            &format!("{bad} days from the deadline is too far"),
            "give steps within 90 days of the deadline, e.g. [-5, -2, 0, 1, 3]",
        ));
    }
    days.sort_unstable();
    days.dedup();
    Ok(Reminders {
        days,
        at: match &raw.at {
            Some(s) => time_of_day("reminders.at", s)?,
            None => d.at,
        },
        attach_forms: raw.attach_forms.unwrap_or(d.attach_forms),
        stale_after: match raw.stale_after_hours {
            Some(0) => {
                return Err(problem(
                    "reminders.stale_after_hours",
                    "must be at least 1 hour",
                    "give how long after its time the last reminder is still worth sending",
                ));
            }
            Some(h) => Duration::from_secs(h * 3600),
            None => d.stale_after,
        },
    })
}

/// Resolves `[receipts]`: the most receipts to one address in an hour (RFC 3834's advice
/// against loops with robots that answer every message).
pub fn receipts_per_hour(raw: &RawReceipts) -> Result<u32, Problem> {
    match raw.max_per_address_per_hour.unwrap_or(10) {
        0 => Err(problem(
            "receipts.max_per_address_per_hour",
            "must be at least 1",
            "a sender should get a receipt for each message; 10 an hour stops loops",
        )),
        n => Ok(n),
    }
}

/// Resolves the retry keys of `[outbox]`.
pub fn retry(
    first: Option<u64>,
    max: Option<u64>,
    give_up_hours: Option<u64>,
) -> Result<Retry, Problem> {
    let d = Retry::default();
    let first = first.map_or(d.first, Duration::from_secs);
    let max = max.map_or(d.max, Duration::from_secs);
    if first.is_zero() || max < first {
        return Err(problem(
            "outbox.retry_first_secs",
            "must be at least 1 and at most outbox.retry_max_secs",
            "e.g. retry_first_secs = 30, retry_max_secs = 1800",
        ));
    }
    let give_up = match give_up_hours {
        Some(0) => {
            return Err(problem(
                "outbox.give_up_hours",
                "must be at least 1",
                "give how long a mail may wait for the server before staff are told",
            ));
        }
        Some(h) => Duration::from_secs(h * 3600),
        None => d.give_up,
    };
    Ok(Retry {
        first,
        max,
        give_up,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn office_defaults_and_errors() {
        let o = office(&RawOffice::default()).unwrap();
        assert_eq!(o.working_days.len(), 5);
        let sat = NaiveDate::from_ymd_opt(2018, 7, 7).unwrap();
        assert!(!o.is_working_day(sat));
        let raw: RawOffice = toml::from_str("working_days = [\"mon\", \"xyz\"]").unwrap();
        assert_eq!(office(&raw).unwrap_err().0, "office.working_days[1]");
        let raw: RawOffice = toml::from_str("opens = \"18:00\"").unwrap();
        assert_eq!(office(&raw).unwrap_err().0, "office.closes");
        let raw: RawOffice = toml::from_str("holidays = [\"2018-09-03\"]").unwrap();
        assert!(
            !office(&raw)
                .unwrap()
                .is_working_day(NaiveDate::from_ymd_opt(2018, 9, 3).unwrap())
        );
    }

    #[test]
    fn reminder_steps_are_sorted_and_bounded() {
        let raw: RawReminders =
            toml::from_str("days = [3, -5, 0, -2, 1, 0]\nat = \"08:30\"").unwrap();
        let r = reminders(Some(&raw)).unwrap();
        assert_eq!(r.days, [-5, -2, 0, 1, 3]);
        assert_eq!(r.at, NaiveTime::from_hms_opt(8, 30, 0).unwrap());
        let raw: RawReminders = toml::from_str("days = [-500]").unwrap();
        assert!(reminders(Some(&raw)).is_err());
        assert!(reminders(None).unwrap().days.is_empty());
    }

    #[test]
    fn retry_bounds() {
        assert_eq!(retry(None, None, None).unwrap(), Retry::default());
        assert!(retry(Some(100), Some(10), None).is_err());
        assert!(retry(Some(0), None, None).is_err());
    }
}
