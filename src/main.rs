//! # intake — the command line
//!
//! `intake run` is the daemon; `intake demo` runs it once on the embedded default with the
//! fixture mail; `status`, `log` and `assign` are for staff; `check-config` checks a
//! configuration. Data goes to stdout (Vietnamese tables, or `--json`), logs to stderr.
//! Exit codes: 0 done, 1 the machine failed (disk, database), 2 bad configuration or usage.
//! The command line is defined in `cli.rs`; each command's work is in `cmd/`.

mod cli;
mod cmd;
mod logging;
mod usage;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::InspectWorkbook { format } = &cli.command {
        return cmd::inspect::child(format);
    }
    let verbose = matches!(cli.command, Command::Run { .. });
    // Commands that only print end quietly when their reader goes away (`intake log | head`):
    // the default SIGPIPE ends them as it ends any Unix filter. The daemon keeps ignoring it,
    // so that a peer closing a socket is an error to handle, not the end of the service.
    if matches!(
        cli.command,
        Command::Log { .. }
            | Command::Status { .. }
            | Command::CheckConfig
            | Command::Validate { .. }
    ) {
        // SAFETY: called before any thread starts; restores the default disposition.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    bound_heaps();
    logging::init(cli.log_format, if verbose { "info" } else { "warn" });
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("intake: {e:#}");
            if e.downcast_ref::<intake::config::ConfigError>().is_some()
                || e.downcast_ref::<usage::Usage>().is_some()
            {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The daemon's threads each read, mark and record workbooks of every size. By default the C
/// allocator gives each thread a heap of its own that keeps what its largest workbook needed,
/// so a long backlog crept past 100 MB (104 MiB at 10,000 messages); two heaps shared by all
/// threads hold it near 70 MB. An environment's own `MALLOC_ARENA_MAX` still wins.
fn bound_heaps() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: called before any thread starts; mallopt only sets an allocator parameter.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
