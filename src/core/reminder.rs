//! # Reminder schedules
//!
//! Pure decisions, no IO: when each reminder step of an agency is due, and what to do with
//! the steps at a given instant. A campaign names its steps in days from the last day of
//! submission (`-5` five days before, `0` that day, `1` the day after); a step that falls on a
//! weekend or holiday moves to the working day before it (before the deadline, so it still
//! helps) or after it (once overdue). The schedule follows the agency's own deadline, so an
//! extension shifts the steps not yet decided.
//!
//! At any instant only the latest step that is due may go out: steps missed while intake was
//! down are skipped, not sent as a burst, and the latest goes only while it is still useful
//! (before the next step, or within `stale_after` of the last one, and while the campaign is
//! open). A due step waits for office hours on a working day.

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

use crate::config::schedule::{Office, Reminders};

/// One step of an agency's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Days from the last day of submission.
    pub days: i32,
    /// When it is due.
    pub due_at: DateTime<FixedOffset>,
}

/// What to do with a step now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepDecision {
    /// Send it now.
    Send(Step),
    /// Never send it; the reason is recorded.
    Skip(Step, &'static str),
}

/// The steps of a schedule for an agency whose deadline is `deadline`.
pub fn schedule(
    reminders: &Reminders,
    office: &Office,
    tz: chrono_tz::Tz,
    deadline: DateTime<FixedOffset>,
) -> Vec<Step> {
    let last = crate::core::words::last_day(deadline, tz);
    // Checked against office hours when the configuration is read.
    let at = reminders.at;
    reminders
        .days
        .iter()
        .filter_map(|&days| {
            let mut day = last + chrono::TimeDelta::days(days as i64);
            // At most a few weeks of holidays in a row; beyond that the office is closed.
            for _ in 0..31 {
                if office.is_working_day(day) {
                    break;
                }
                day = if days <= 0 {
                    day.pred_opt()?
                } else {
                    day.succ_opt()?
                };
            }
            let due_at = local(tz, day, at)?;
            Some(Step { days, due_at })
        })
        .collect()
}

fn local(
    tz: chrono_tz::Tz,
    day: NaiveDate,
    at: chrono::NaiveTime,
) -> Option<DateTime<FixedOffset>> {
    // In a zone with daylight saving, a time in the spring gap is taken an hour later.
    let local = day.and_time(at);
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + chrono::TimeDelta::hours(1)))
                .earliest()
        })
        .map(|d| d.fixed_offset())
}

/// True when `now` is within office hours on a working day.
pub fn in_office_hours(office: &Office, tz: chrono_tz::Tz, now: DateTime<FixedOffset>) -> bool {
    let local = now.with_timezone(&tz);
    let t = local.time();
    office.is_working_day(local.date_naive()) && t >= office.opens && t < office.closes
}

/// Decides the steps of one agency at `now`, given the steps already decided.
///
/// Returns the steps to skip (recorded at once, so that they never go later) and at most one
/// to send; a step due outside office hours is left undecided until the office opens.
pub fn decide(
    steps: &[Step],
    decided: &HashSet<i32>,
    reminders: &Reminders,
    office: &Office,
    tz: chrono_tz::Tz,
    closes: Option<DateTime<FixedOffset>>,
    now: DateTime<FixedOffset>,
) -> Vec<StepDecision> {
    let mut due: Vec<Step> = steps
        .iter()
        .copied()
        .filter(|s| s.due_at <= now && !decided.contains(&s.days))
        .collect();
    due.sort_by_key(|s| (s.due_at, s.days));
    let Some(latest) = due.pop() else {
        return Vec::new();
    };
    let mut out: Vec<StepDecision> = due
        .into_iter()
        .map(|s| StepDecision::Skip(s, "superseded"))
        .collect();
    let next = steps
        .iter()
        .filter(|s| s.due_at > latest.due_at)
        .map(|s| s.due_at)
        .min();
    let stale_after =
        chrono::TimeDelta::from_std(reminders.stale_after).unwrap_or(chrono::TimeDelta::MAX);
    let useful = match next {
        Some(next) => now < next,
        None => now - latest.due_at < stale_after,
    } && closes.is_none_or(|c| now < c);
    if !useful {
        out.push(StepDecision::Skip(latest, "stale"));
    } else if in_office_hours(office, tz, now) {
        out.push(StepDecision::Send(latest));
    }
    out
}

/// `before`, `due` or `after`, as templates name a step.
pub fn step_kind(days: i32) -> &'static str {
    match days {
        d if d < 0 => "before",
        0 => "due",
        _ => "after",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn setup() -> (Reminders, Office, chrono_tz::Tz) {
        let r = Reminders {
            days: vec![-5, -2, 0, 1, 3],
            ..Reminders::default()
        };
        (r, Office::default(), "Asia/Ho_Chi_Minh".parse().unwrap())
    }

    #[test]
    fn the_example_schedule_keeps_to_working_days() {
        let (r, o, tz) = setup();
        let steps = schedule(&r, &o, tz, at("2018-07-10T00:00:00+07:00"));
        let when: Vec<String> = steps.iter().map(|s| s.due_at.to_rfc3339()).collect();
        // The last day is Monday 9 July; -2 is Saturday 7 July, moved back to Friday 6 July.
        assert_eq!(
            when,
            [
                "2018-07-04T08:00:00+07:00",
                "2018-07-06T08:00:00+07:00",
                "2018-07-09T08:00:00+07:00",
                "2018-07-10T08:00:00+07:00",
                "2018-07-12T08:00:00+07:00",
            ]
        );
        // An extension to the end of Friday 13 July: +1 falls on Saturday, moved to Monday.
        let steps = schedule(&r, &o, tz, at("2018-07-14T00:00:00+07:00"));
        assert_eq!(steps[3].due_at, at("2018-07-16T08:00:00+07:00"));
    }

    #[test]
    fn only_the_latest_due_step_goes_and_only_in_office_hours() {
        let (r, o, tz) = setup();
        let steps = schedule(&r, &o, tz, at("2018-07-10T00:00:00+07:00"));
        let none = HashSet::new();
        let d = |now: &str, done: &HashSet<i32>| decide(&steps, done, &r, &o, tz, None, at(now));
        assert!(d("2018-07-04T07:59:00+07:00", &none).is_empty());
        assert_eq!(
            d("2018-07-04T08:00:00+07:00", &none),
            [StepDecision::Send(steps[0])]
        );
        // Down from 3 to 9 July at noon: -5 and -2 are skipped, 0 goes.
        assert_eq!(
            d("2018-07-09T12:00:00+07:00", &none),
            [
                StepDecision::Skip(steps[0], "superseded"),
                StepDecision::Skip(steps[1], "superseded"),
                StepDecision::Send(steps[2]),
            ]
        );
        // Due in the evening: the earlier ones are skipped at once, the due one waits.
        let done: HashSet<i32> = [-5, -2].into();
        assert!(d("2018-07-09T19:00:00+07:00", &done).is_empty());
        // The last step is stale two days after its time.
        let done: HashSet<i32> = [-5, -2, 0, 1].into();
        assert_eq!(
            d("2018-07-16T09:00:00+07:00", &done),
            [StepDecision::Skip(steps[4], "stale")]
        );
        // The campaign closed: nothing more goes.
        let closes = Some(at("2018-07-12T00:00:00+07:00"));
        let out = decide(
            &steps,
            &done,
            &r,
            &o,
            tz,
            closes,
            at("2018-07-12T09:00:00+07:00"),
        );
        assert_eq!(out, [StepDecision::Skip(steps[4], "stale")]);
        // Everything decided: nothing to do, whatever the clock says.
        let all: HashSet<i32> = [-5, -2, 0, 1, 3].into();
        assert!(d("2018-07-12T09:00:00+07:00", &all).is_empty());
        assert!(d("2018-07-04T09:00:00+07:00", &all).is_empty());
    }
}
