//! Peak-RSS measurement shared by the benchmark examples.

use std::process::Command;

/// Waits for the child; returns (exit code, its own peak RSS in MiB) from wait4.
///
/// Linux carries the RSS a process had before `exec` into its peak, so the command runs under
/// the small `/usr/bin/time` (which forks it with a tiny footprint) and its report is read.
pub fn wait_with_peak_rss(pid: i32) -> (i32, f64) {
    let mut status = 0;
    // SAFETY: waitpid writes into the status we own; pid is our own unwaited child.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid, "waitpid failed");
    let kib: f64 = std::fs::read_to_string(RSS_FILE.with(|f| f.clone()))
        .ok()
        .and_then(|s| s.trim().lines().last()?.trim().parse().ok())
        .unwrap_or(f64::NAN);
    (libc::WEXITSTATUS(status), kib / 1024.0)
}

thread_local! {
    static RSS_FILE: std::path::PathBuf = std::env::temp_dir().join(format!("intake-bench-rss-{}", std::process::id()));
}

/// The command, run under `/usr/bin/time` writing the peak RSS (KiB) to a file.
pub fn timed(bin: &std::path::Path) -> Command {
    let mut c = Command::new("/usr/bin/time");
    c.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(RSS_FILE.with(|f| f.clone()))
        .arg(bin);
    c
}
