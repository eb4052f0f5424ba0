//! # Clock
//!
//! `--now TIME` runs the program as of that time, so the 2018 campaign behaves as it would
//! have then. The clock keeps ticking from there: a daemon started with `--now` still sees
//! time pass.

use chrono::{DateTime, FixedOffset, Utc};

/// The program's notion of now.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    offset: chrono::TimeDelta,
}

impl Clock {
    /// The real time.
    pub fn system() -> Clock {
        Clock {
            offset: chrono::TimeDelta::zero(),
        }
    }

    /// A clock that reads `at` now and advances in real time.
    pub fn starting_at(at: DateTime<FixedOffset>) -> Clock {
        Clock {
            offset: at.with_timezone(&Utc) - Utc::now(),
        }
    }

    /// Now, in UTC offset form.
    pub fn now(&self) -> DateTime<FixedOffset> {
        (Utc::now() + self.offset).fixed_offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_set_in_2018_reads_2018() {
        let at = DateTime::parse_from_rfc3339("2018-07-05T09:00:00+07:00").unwrap();
        let c = Clock::starting_at(at);
        let d = c.now() - at;
        assert!(d >= chrono::TimeDelta::zero() && d < chrono::TimeDelta::seconds(5));
    }
}
