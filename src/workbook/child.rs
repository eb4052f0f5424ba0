//! # Reading in a child process
//!
//! xls and ods are read by the `intake` binary itself, started as `intake inspect-workbook
//! --format F` with the workbook on stdin and limits on its address space and CPU time;
//! it answers `Result<Inspection, InspectError>` — or, in [`Mode::Cells`], `Result<Grid,
//! InspectError>` — as JSON on stdout. The mode and the limits travel in the environment,
//! so the command line stays the same. When calamine asks for more memory than the limit,
//! the allocation fails and the child aborts — and only the child. The parent kills it past
//! the wall-clock limit, always reaps it, and reads its pipes on their own threads so that
//! neither side can block the other; it parses the answer as it arrives, so that a grid is
//! never held twice, as JSON text and as values.

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::grid::{MAX_DEFINED_NAMES, MAX_MERGED, MAX_SHEETS};
use super::{InspectError, Inspector, Limits, WorkbookFormat};

/// Carries the parent's reading limits and the mode to the child, whose command line is
/// fixed.
const LIMITS_ENV: &str = "INTAKE_WORKBOOK_LIMITS";

/// Longest inspection answer read from the child; a real one is a few kilobytes per sheet.
const MAX_ANSWER: u64 = 64 * 1024 * 1024;

/// Most JSON bytes one cell, merged region, sheet or defined name takes in a grid answer
/// besides its text; the longest cell, a 17-digit number at the far corner, takes 85.
const JSON_PER_ITEM: u64 = 128;

/// How many JSON bytes one byte of text may become: a control character is `\u001f`.
const JSON_PER_TEXT_BYTE: u64 = 6;

/// Most of the child's stderr kept, for the log.
const MAX_STDERR: usize = 64 * 1024;

/// What Rust's default allocation-error handler prints before it aborts.
const OUT_OF_MEMORY: &str = "memory allocation of";

/// Exit code of `inspect-workbook` when its answer could not be written to stdout.
const EXIT_NO_ANSWER: i32 = 2;

/// What the child is asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// [`Inspector::inspect`]: sheets, headings, marker.
    #[default]
    Inspect,
    /// [`Inspector::read`]: every cell.
    Cells,
}

impl Mode {
    fn is_inspect(&self) -> bool {
        *self == Mode::Inspect
    }
}

/// The limits that shape the answer, and the mode, passed from parent to child.
#[derive(Debug, Serialize, Deserialize)]
struct Passed {
    max_cells: u64,
    max_bytes: u64,
    heading_rows: u32,
    #[serde(default = "default_max_text_bytes")]
    max_text_bytes: u64,
    #[serde(default, skip_serializing_if = "Mode::is_inspect")]
    mode: Mode,
}

fn default_max_text_bytes() -> u64 {
    Limits::default().max_text_bytes
}

/// Entry point of the hidden `intake inspect-workbook --format F` subcommand: reads the
/// workbook from stdin, writes `Result<Inspection, InspectError>` (or, in cells mode,
/// `Result<Grid, InspectError>`) as JSON to stdout, returns the exit code (0 once an answer
/// is written, whichever it is; 2 if it could not be).
///
/// The parent's cell, text, byte and heading limits and the mode, passed in the
/// environment, take the place of those in `limits`. The child runs with an empty
/// environment: main.rs should call this before it loads configuration or starts a runtime.
pub fn child_main(format: WorkbookFormat, limits: Limits) -> i32 {
    let (limits, mode) = with_passed(limits, std::env::var(LIMITS_ENV).ok().as_deref());
    let input = read_input(limits.max_bytes);
    let inspector = Inspector::new(limits, None);
    let written = match mode {
        Mode::Inspect => answer(&input.and_then(|bytes| inspector.inspect(&bytes, format))),
        Mode::Cells => answer(&input.and_then(|bytes| inspector.read(&bytes, format))),
    };
    match written {
        Ok(()) => 0,
        Err(_) => EXIT_NO_ANSWER,
    }
}

fn answer<T: Serialize>(answer: &Result<T, InspectError>) -> io::Result<()> {
    let mut stdout = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    serde_json::to_writer(&mut stdout, answer)?;
    stdout.flush()
}

fn with_passed(mut limits: Limits, passed: Option<&str>) -> (Limits, Mode) {
    match passed.and_then(|p| serde_json::from_str::<Passed>(p).ok()) {
        Some(passed) => {
            limits.max_cells = passed.max_cells;
            limits.max_bytes = passed.max_bytes;
            limits.heading_rows = passed.heading_rows;
            limits.max_text_bytes = passed.max_text_bytes;
            (limits, passed.mode)
        }
        None => (limits, Mode::Inspect),
    }
}

/// Longest answer taken from the child in `mode`: for a grid, what the largest one the
/// limits allow can take as JSON.
fn answer_cap(mode: Mode, limits: &Limits) -> u64 {
    match mode {
        Mode::Inspect => MAX_ANSWER,
        Mode::Cells => {
            let items = limits
                .max_cells
                .saturating_add(MAX_MERGED)
                .saturating_add(MAX_SHEETS as u64)
                .saturating_add(MAX_DEFINED_NAMES as u64);
            items
                .saturating_mul(JSON_PER_ITEM)
                .saturating_add(limits.max_text_bytes.saturating_mul(JSON_PER_TEXT_BYTE))
                .saturating_add(MAX_ANSWER)
        }
    }
}

fn read_input(max_bytes: u64) -> Result<Vec<u8>, InspectError> {
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| {
            InspectError::Unreadable(format!("the workbook could not be received ({e})"))
        })?;
    if bytes.len() as u64 > max_bytes {
        return Err(InspectError::TooLarge { limit: max_bytes });
    }
    Ok(bytes)
}

/// Reads `bytes` as `format` in a child process started from `helper`, within `limits`;
/// `T` is what `mode` answers ([`super::Inspection`] or [`super::Grid`]).
pub(crate) fn run<T: DeserializeOwned + Send>(
    helper: &Path,
    bytes: &[u8],
    format: WorkbookFormat,
    limits: &Limits,
    mode: Mode,
) -> Result<T, InspectError> {
    let passed = Passed {
        max_cells: limits.max_cells,
        max_bytes: limits.max_bytes,
        heading_rows: limits.heading_rows,
        max_text_bytes: limits.max_text_bytes,
        mode,
    };
    let mut command = Command::new(helper);
    command
        .args(["inspect-workbook", "--format", format.as_str()])
        // Nothing of the daemon's environment (log filters, credentials) is the child's
        // business.
        .env_clear()
        .env(
            LIMITS_ENV,
            serde_json::to_string(&passed).unwrap_or_default(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let memory = limits.child_memory_bytes;
    let cpu_seconds = cpu_seconds(limits.child_timeout);
    // SAFETY: the closure runs in the forked child before exec, where only async-signal-safe
    // calls are allowed. It makes only setpgid, getrlimit, setrlimit and prctl calls on values
    // copied in beforehand: no allocation, no locks, no unwinding (errors are returned as
    // `io::Error::last_os_error()`, which does not allocate).
    unsafe {
        command.pre_exec(move || restrict(memory, cpu_seconds));
    }

    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| {
        InspectError::Crashed(format!(
            "the workbook reader process could not be started ({e})"
        ))
    })?;
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(InspectError::Crashed(
            "the workbook reader process has no pipes".into(),
        ));
    };

    let (waited, answer, errors) = thread::scope(|scope| {
        let writer = scope.spawn(move || {
            let mut stdin = stdin;
            // A child that dies early closes the pipe: its exit status tells why, not this.
            let _ = stdin.write_all(bytes);
        });
        let cap = answer_cap(mode, limits);
        let answer = scope.spawn(move || read_answer::<T>(stdout, cap));
        let errors = scope.spawn(move || read_capped(stderr, MAX_STDERR));
        let waited = wait_until(&mut child, started + limits.child_timeout);
        // The child is reaped, so its pipe ends are closed and every thread is finishing.
        let _ = writer.join();
        let answer = answer.join().unwrap_or_default();
        let errors = errors.join().unwrap_or_default();
        (waited, answer, errors)
    });
    judge(waited, answer, errors, limits, started.elapsed())
}

/// Limits set in the child between fork and exec.
fn restrict(memory: u64, cpu_seconds: u64) -> io::Result<()> {
    // Its own process group, so that a kill at the deadline reaches anything it started.
    // SAFETY: a plain system call; async-signal-safe.
    if unsafe { libc::setpgid(0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    macro_rules! limit {
        ($resource:expr, $soft:expr, $hard:expr) => {{
            let mut current = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: plain system calls on a stack value; async-signal-safe.
            if unsafe { libc::getrlimit($resource, &mut current) } != 0 {
                return Err(io::Error::last_os_error());
            }
            // An unprivileged process may lower its hard limit but never raise it.
            let hard = ($hard as libc::rlim_t).min(current.rlim_max);
            let wanted = libc::rlimit {
                rlim_cur: ($soft as libc::rlim_t).min(hard),
                rlim_max: hard,
            };
            // SAFETY: as above.
            if unsafe { libc::setrlimit($resource, &wanted) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }};
    }
    limit!(libc::RLIMIT_AS, memory, memory);
    limit!(libc::RLIMIT_CPU, cpu_seconds, cpu_seconds + 1);
    // An aborting child should not leave a gigabyte core file behind.
    limit!(libc::RLIMIT_CORE, 0, 0);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is a system call; if the daemon dies, the child goes with it.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        );
    }
    Ok(())
}

/// The CPU limit: the wall-clock limit rounded up, plus a second, so that the wall clock
/// normally fires first and the CPU limit is the backstop.
fn cpu_seconds(timeout: Duration) -> u64 {
    let whole = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    whole.max(1) + 1
}

/// The child's answer as parsed while it arrived, and whether it went on past its cap.
#[derive(Debug)]
struct Answer<T> {
    /// The outcome the child gave, or why its output is not one.
    parsed: Result<Result<T, InspectError>, String>,
    overflowed: bool,
}

impl<T> Default for Answer<T> {
    fn default() -> Self {
        Answer {
            parsed: Err("no answer was read".into()),
            overflowed: false,
        }
    }
}

/// Parses the answer from the pipe as it arrives, reading at most `cap` bytes for it, then
/// reads the pipe to its end so that the child never blocks on a full pipe.
fn read_answer<T: DeserializeOwned>(mut pipe: impl Read, cap: u64) -> Answer<T> {
    let mut capped = BufReader::with_capacity(64 * 1024, (&mut pipe).take(cap));
    let parsed = serde_json::from_reader(&mut capped).map_err(|e| e.to_string());
    // The rest of what fits under the cap (after a garbled answer), then anything past it.
    let _ = io::copy(&mut capped, &mut io::sink());
    drop(capped);
    let overflowed = io::copy(&mut pipe, &mut io::sink()).is_ok_and(|n| n > 0);
    Answer { parsed, overflowed }
}

/// Output read from a pipe, and whether there was more than was kept.
#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    overflowed: bool,
}

/// Reads a pipe to its end, keeping at most `cap` bytes: reading on past the cap keeps
/// the child from blocking on a full pipe.
fn read_capped(mut pipe: impl Read, cap: usize) -> Captured {
    let mut out = Captured::default();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match pipe.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                let room = cap.saturating_sub(out.bytes.len());
                out.bytes.extend_from_slice(&chunk[..n.min(room)]);
                out.overflowed |= n > room;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    out
}

/// How waiting for the child ended.
#[derive(Debug)]
enum Waited {
    /// It exited (or was killed by a signal) on its own.
    Exited(ExitStatus),
    /// It was still running at the deadline and has been killed and reaped.
    TimedOut,
    /// Waiting failed; it has been killed and reaped as far as possible.
    Failed(io::Error),
}

fn wait_until(child: &mut Child, deadline: Instant) -> Waited {
    let mut pause = Duration::from_millis(1);
    loop {
        match has_exited(child) {
            Ok(true) => {
                // Whatever the child left behind in its process group goes too, so that no
                // straggler holds the pipes open; the group id is still ours because the
                // child is not reaped yet.
                kill_group(child);
                return match child.wait() {
                    Ok(status) => Waited::Exited(status),
                    Err(e) => Waited::Failed(e),
                };
            }
            Ok(false) => {}
            Err(e) => {
                kill_group(child);
                let _ = child.kill();
                let _ = child.wait();
                return Waited::Failed(e);
            }
        }
        let now = Instant::now();
        if now >= deadline {
            kill_group(child);
            let _ = child.wait();
            return Waited::TimedOut;
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

/// Whether the child has exited, without reaping it (`waitid` with `WNOWAIT`).
fn has_exited(child: &Child) -> io::Result<bool> {
    loop {
        // SAFETY: siginfo_t is plain old data; all-zero is a valid value for waitid to fill.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid writes only into `info`; the pid is our own unreaped child.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                child.id() as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        if r == 0 {
            // SAFETY: after a successful waitid the pid field is set (0 when nothing exited).
            return Ok(unsafe { info.si_pid() } != 0);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// SIGKILL to the child's process group (it leads its own, see `restrict`).
fn kill_group(child: &Child) {
    // SAFETY: a plain system call; the group is the unreaped child's own.
    unsafe {
        libc::killpg(child.id() as libc::pid_t, libc::SIGKILL);
    }
}

/// Turns how the child ended into the reading's outcome.
fn judge<T>(
    waited: Waited,
    answer: Answer<T>,
    errors: Captured,
    limits: &Limits,
    elapsed: Duration,
) -> Result<T, InspectError> {
    let stderr = String::from_utf8_lossy(&errors.bytes);
    let status = match waited {
        Waited::Exited(status) => status,
        Waited::TimedOut => {
            tracing::warn!(
                elapsed_ms = elapsed.as_millis() as u64,
                "workbook reader process timed out"
            );
            return Err(InspectError::TimedOut);
        }
        Waited::Failed(e) => {
            return Err(InspectError::Crashed(format!(
                "waiting for the workbook reader process failed ({e})"
            )));
        }
    };
    let out_of_memory = stderr.contains(OUT_OF_MEMORY);
    if let Some(signal) = status.signal() {
        if signal == libc::SIGXCPU {
            return Err(InspectError::TimedOut);
        }
        if out_of_memory {
            return Err(InspectError::TooLarge {
                limit: limits.child_memory_bytes,
            });
        }
        tracing::warn!(signal, stderr = %tail(&stderr), "workbook reader process was killed");
        return Err(InspectError::Crashed(format!(
            "the workbook reader process was stopped by signal {signal}{}",
            signal_name(signal)
        )));
    }
    match status.code() {
        Some(0) if answer.overflowed => Err(InspectError::Crashed(
            "the workbook reader's answer was longer than its limits allow".into(),
        )),
        Some(0) => answer.parsed.unwrap_or_else(|e| {
            let stderr = tail(&stderr);
            tracing::warn!(error = %e, %stderr, "workbook reader answer is not valid json");
            Err(InspectError::Crashed(
                "the workbook reader process gave an answer that is not valid".into(),
            ))
        }),
        _ if out_of_memory => Err(InspectError::TooLarge {
            limit: limits.child_memory_bytes,
        }),
        code => {
            let code = code.map_or_else(|| "unknown".to_string(), |c| c.to_string());
            tracing::warn!(%code, stderr = %tail(&stderr), "workbook reader process failed");
            Err(InspectError::Crashed(format!(
                "the workbook reader process exited with code {code}"
            )))
        }
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGABRT => " (abort)",
        libc::SIGKILL => " (kill)",
        libc::SIGSEGV => " (segmentation fault)",
        libc::SIGBUS => " (bus error)",
        libc::SIGTERM => " (terminate)",
        _ => "",
    }
}

/// The last few lines of the child's stderr, for the log.
fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().rev().take(5).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use super::*;
    use crate::workbook::{CellValue, Grid, Inspection};

    /// A stand-in helper: a shell script that runs the first line of its stdin. Written once,
    /// before any test starts a process, so that no fork elsewhere holds it open for writing
    /// when it is run (which would fail with "text file busy").
    fn helper() -> &'static Path {
        static HELPER: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
        let (_, path) = HELPER.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("helper.sh");
            std::fs::write(&path, "#!/bin/sh\nIFS= read -r line\neval \"$line\"\n").unwrap();
            let mut perm = std::fs::metadata(&path).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
            std::fs::set_permissions(&path, perm).unwrap();
            (dir, path)
        });
        path
    }

    fn run_sh(script: &str, payload: &[u8], limits: &Limits) -> Result<Inspection, InspectError> {
        let input = [script.as_bytes(), b"\n", payload].concat();
        run(helper(), &input, WorkbookFormat::Ods, limits, Mode::Inspect)
    }

    fn quick() -> Limits {
        Limits {
            child_timeout: Duration::from_millis(700),
            ..Limits::default()
        }
    }

    #[test]
    fn an_answer_on_stdout_is_the_outcome() {
        let ok = r#"cat >/dev/null; printf '%s' '{"Ok":{"sheets":[],"marker":null,"cells":0}}'"#;
        let got = run_sh(ok, b"abc", &quick());
        let empty = Inspection {
            sheets: vec![],
            marker: None,
            cells: 0,
        };
        assert_eq!(got, Ok(empty));
        let err = r#"cat >/dev/null; printf '%s' '{"Err":"Encrypted"}'"#;
        assert_eq!(run_sh(err, b"abc", &quick()), Err(InspectError::Encrypted));
    }

    #[test]
    fn the_child_gets_the_arguments_the_bytes_and_the_limits_only() {
        let echo = r#"input=$(cat); lim=$(printf '%s' "$INTAKE_WORKBOOK_LIMITS" | tr -d '"{}'); printf '{"Err":{"Unreadable":"%s|%s|%s|%s"}}' "$1 $2 $3" "$input" "$lim" "${HOME:-no home}""#;
        let limits = Limits {
            max_cells: 7,
            max_bytes: 9,
            heading_rows: 3,
            max_text_bytes: 5,
            ..quick()
        };
        let got = run_sh(echo, b"bytes", &limits);
        let want = "inspect-workbook --format ods|bytes|max_cells:7,max_bytes:9,heading_rows:3,max_text_bytes:5|no home";
        assert_eq!(got, Err(InspectError::Unreadable(want.into())));
    }

    #[test]
    fn a_silent_or_garbled_child_has_crashed() {
        let got = run_sh("cat >/dev/null; echo not json", b"x", &quick());
        assert!(matches!(got, Err(InspectError::Crashed(_))), "{got:?}");
        let got = run_sh("exit 3", b"x", &quick());
        let want = "the workbook reader process exited with code 3";
        assert_eq!(got, Err(InspectError::Crashed(want.into())));
        let got = run_sh("kill -SEGV $$", b"x", &quick());
        assert!(
            matches!(&got, Err(InspectError::Crashed(m)) if m.contains("signal 11")),
            "{got:?}"
        );
    }

    #[test]
    fn an_allocation_failure_is_too_large() {
        let oom = "echo 'memory allocation of 2576980378 bytes failed' >&2; kill -ABRT $$";
        let limit = quick().child_memory_bytes;
        assert_eq!(
            run_sh(oom, b"x", &quick()),
            Err(InspectError::TooLarge { limit })
        );
    }

    #[test]
    fn a_hanging_child_is_killed_at_the_deadline() {
        let started = Instant::now();
        // Neither reads the rest of stdin nor exits, so the 4 MiB input cannot all be written.
        let got = run_sh("sleep 30", &vec![0u8; 4 << 20], &quick());
        assert_eq!(got, Err(InspectError::TimedOut));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_cpu_bound_child_is_stopped() {
        let got = run_sh("while :; do :; done", b"x", &quick());
        assert_eq!(got, Err(InspectError::TimedOut));
    }

    #[test]
    fn the_limits_apply_in_the_child() {
        // Reports the address-space (KiB), CPU-time (s) and core-file limits it runs under.
        let report = r#"printf '{"Err":{"Unreadable":"%s %s %s"}}' "$(ulimit -v)" "$(ulimit -t)" "$(ulimit -c)""#;
        let limits = Limits {
            child_memory_bytes: 256 << 20,
            ..quick()
        };
        let want = format!("{} 2 0", 256 * 1024);
        assert_eq!(
            run_sh(report, b"", &limits),
            Err(InspectError::Unreadable(want))
        );
    }

    #[test]
    fn a_missing_helper_is_reported() {
        let got = run::<Inspection>(
            Path::new("/nonexistent/intake"),
            b"x",
            WorkbookFormat::Ods,
            &quick(),
            Mode::Inspect,
        );
        assert!(
            matches!(&got, Err(InspectError::Crashed(m)) if m.contains("could not be started")),
            "{got:?}"
        );
    }

    #[test]
    fn passed_limits_replace_the_childs_own() {
        let base = Limits::default();
        let passed = r#"{"max_cells":5,"max_bytes":6,"heading_rows":2}"#;
        let (got, mode) = with_passed(base.clone(), Some(passed));
        assert_eq!((got.max_cells, got.max_bytes, got.heading_rows), (5, 6, 2));
        assert_eq!(got.max_text_bytes, base.max_text_bytes);
        assert_eq!(got.child_timeout, base.child_timeout);
        assert_eq!(mode, Mode::Inspect);
        let passed =
            r#"{"max_cells":5,"max_bytes":6,"heading_rows":2,"max_text_bytes":7,"mode":"cells"}"#;
        let (got, mode) = with_passed(base.clone(), Some(passed));
        assert_eq!((got.max_text_bytes, mode), (7, Mode::Cells));
        assert_eq!(
            with_passed(base.clone(), Some("junk")),
            (base.clone(), Mode::Inspect)
        );
        assert_eq!(with_passed(base.clone(), None), (base, Mode::Inspect));
    }

    #[test]
    fn cells_mode_is_passed_and_its_answer_is_a_grid() {
        let echo = r#"cat >/dev/null; case "$INTAKE_WORKBOOK_LIMITS" in *'"mode":"cells"'*) printf '%s' '{"Ok":{"sheets":[{"name":"S","visible":false,"cells":[{"row":4,"col":27,"value":{"FormulaWithoutValue":"SUM(A1:A2)"}}],"merged":[[0,0,0,2]]}],"marker":null,"defined_names":[]}}';; *) printf '%s' '{"Err":"TimedOut"}';; esac"#;
        let input = [echo.as_bytes(), b"\n", b"x"].concat();
        let got: Grid = run(helper(), &input, WorkbookFormat::Xls, &quick(), Mode::Cells).unwrap();
        assert_eq!(
            got.value(0, 4, 27),
            Some(&CellValue::FormulaWithoutValue("SUM(A1:A2)".into()))
        );
        assert!(!got.sheets[0].visible);
        assert_eq!(got.sheets[0].merged, [(0, 0, 0, 2)]);
    }

    #[test]
    fn an_answer_past_its_cap_is_refused_and_the_child_is_not_blocked() {
        // 8 MiB of answer against a 1 KiB cap: the pipe is drained, the child exits.
        let big = r#"cat >/dev/null; head -c 8388608 /dev/zero | tr '\0' ' '; printf '%s' '{"Err":"TimedOut"}'"#;
        let input = [big.as_bytes(), b"\n", b"x"].concat();
        let mut child = Command::new(helper())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&input).unwrap();
        drop(stdin);
        let answer = read_answer::<Inspection>(child.stdout.take().unwrap(), 1024);
        assert!(child.wait().unwrap().success());
        assert!(answer.overflowed);
        assert!(answer.parsed.is_err());
        let got = judge(
            Waited::Exited(ExitStatus::from_raw(0)),
            answer,
            Captured::default(),
            &quick(),
            Duration::ZERO,
        );
        assert!(
            matches!(&got, Err(InspectError::Crashed(m)) if m.contains("longer")),
            "{got:?}"
        );
    }

    #[test]
    fn the_grid_answer_cap_covers_the_largest_grid_the_limits_allow() {
        let limits = Limits::default();
        let cap = answer_cap(Mode::Cells, &limits);
        assert!(cap >= limits.max_cells * 85 + limits.max_text_bytes * 6);
        assert_eq!(answer_cap(Mode::Inspect, &limits), MAX_ANSWER);
    }

    #[test]
    fn cpu_limit_rounds_up() {
        assert_eq!(cpu_seconds(Duration::from_secs(20)), 21);
        assert_eq!(cpu_seconds(Duration::from_millis(700)), 2);
        assert_eq!(cpu_seconds(Duration::ZERO), 2);
    }
}
