//! # Logs for a terminal, a file, the journal or a collector
//!
//! Logs go to stderr, in one of three shapes:
//! - `text`: one line per event with a timestamp; colour only for a person at a terminal,
//!   never in a file or when `NO_COLOR` is set (no-color.org);
//! - `journal`: under systemd (stderr is the journal's stream, `JOURNAL_STREAM` says so), each
//!   line starts with its syslog priority (`<3>` error, `<4>` warning, `<6>` info, `<7>`
//!   debug), which the journal maps to its levels (`journalctl -p warning`); no timestamp,
//!   since the journal stamps each line itself;
//! - `json`: one JSON object per line for log collectors.
//!
//! The default is `journal` when stderr is the journal's stream, `text` otherwise.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for a person (coloured at a terminal).
    Text,
    /// Lines prefixed with their syslog priority, for the systemd journal.
    Journal,
    /// One JSON object per line.
    Json,
}

/// Starts logging to stderr at `default_level` unless `RUST_LOG` says otherwise.
pub fn init(format: Option<LogFormat>, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_level.into());
    let format = format.unwrap_or(if stderr_is_journal() {
        LogFormat::Journal
    } else {
        LogFormat::Text
    });
    // A log line that cannot be written (the journal restarted, the reader of a pipe went
    // away) is dropped. By default the subscriber would report that on stderr with
    // `eprintln!`, which panics when stderr is the closed pipe: the thread that logged would
    // die (a stop signal never reaching the worker, the mail sender gone).
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .with_env_filter(filter);
    match format {
        LogFormat::Text => builder.with_ansi(colour()).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        LogFormat::Journal => builder
            .with_ansi(false)
            .event_format(Journal(
                tracing_subscriber::fmt::format()
                    .without_time()
                    .with_level(false)
                    .with_ansi(false),
            ))
            .init(),
    }
}

/// Colour only for a person at a terminal, and never when `NO_COLOR` is set to anything.
fn colour() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// True when stderr is the journal's stream: systemd sets `JOURNAL_STREAM` to the device and
/// inode of the stream it connected, which a child with redirected stderr no longer matches.
fn stderr_is_journal() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = stream.to_str().and_then(|s| s.split_once(':')) else {
        return false;
    };
    // SAFETY: fstat writes only into the zeroed struct we own; fd 2 may be closed, which
    // fstat reports as an error.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(2, &mut st) } != 0 {
        return false;
    }
    dev.parse::<u64>().ok() == Some(st.st_dev) && ino.parse::<u64>().ok() == Some(st.st_ino)
}

/// The syslog priority of a level, as sd-daemon(3) prefixes read by the journal.
fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// A formatter that puts the journal's `<N>` priority prefix before each line.
struct Journal<F>(F);

impl<S, N, F> FormatEvent<S, N> for Journal<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", priority(event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_the_journal_priorities() {
        assert_eq!(priority(&Level::ERROR), 3);
        assert_eq!(priority(&Level::WARN), 4);
        assert_eq!(priority(&Level::INFO), 6);
        assert_eq!(priority(&Level::DEBUG), 7);
        assert_eq!(priority(&Level::TRACE), 7);
    }
}
