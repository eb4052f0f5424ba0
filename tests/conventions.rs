//! The command line keeps the conventions of well-behaved Unix tools: usage errors exit 2 and
//! say what would have been valid; tables fit the width they are given; logs take the shape
//! their reader needs (text, journal, JSON); passwords are read without echo; a daemon whose
//! output was closed still stops when told.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn demo(dir: &Path) {
    let out = common::intake(dir, &["demo", "--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(common::bin());
    cmd.args(args)
        .current_dir(dir)
        .env_remove("INTAKE_CONFIG")
        .env_remove("INTAKE_LOG_FORMAT")
        .env_remove("JOURNAL_STREAM")
        .env_remove("COLUMNS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn usage_errors_exit_2_and_list_what_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let now = ["--now", "2018-07-12T09:00:00+07:00"];
    let cases: &[(&[&str], &[&str])] = &[
        (&["outbox", "retry"], &["--all"]),
        (
            &["log", "--agency", "so-yte"],
            &["did you mean so-y-te?", "so-tai-chinh"],
        ),
        (
            &["remind", "--dry-run", "--agency", "khong-co"],
            &["no agency \"khong-co\"", "so-y-te"],
        ),
        (
            &["exempt", "--agency", "so-y-te", "--deliverable", "pl9"],
            &["no deliverable \"pl9\"", "pl1, pl2, pl3"],
        ),
        (
            &[
                "exempt",
                "--agency",
                "so-y-te",
                "--deliverable",
                "pl1",
                "--campaign",
                "x",
            ],
            &["no campaign \"x\"", "valid:"],
        ),
        (
            &["validate", "/nonexistent/PL1.xlsx"],
            &["/nonexistent/PL1.xlsx"],
        ),
        (
            &["validate", "/dev/null", "--agency", "nobody"],
            &["no agency \"nobody\""],
        ),
        (&["assign", "BN-00000x", "so-y-te"], &["BN-000012"]),
        (&["assign", "1", "so-yte"], &["did you mean so-y-te?"]),
    ];
    for (args, says) in cases {
        let mut all: Vec<&str> = now.to_vec();
        all.extend_from_slice(args);
        let out = run(dir.path(), &all, &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        for s in *says {
            assert!(err.contains(s), "{args:?} should say {s:?}: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    }
    // A name does as well as a code.
    let out = run(
        dir.path(),
        &["log", "--agency", "Sở Y tế", "--limit", "3"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn tables_and_headings_fit_the_given_width() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let widest = |out: &Output| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    };
    for args in [
        &["--now", "2018-07-12T09:00:00+07:00", "status"][..],
        &["log", "--limit", "40"][..],
        &["--now", "2018-07-04T09:00:00+07:00", "remind", "--dry-run"][..],
    ] {
        let wide = run(dir.path(), args, &[]);
        assert!(wide.status.success(), "{}", stderr(&wide));
        // Unwrapped into a pipe: one row per line, wider than a terminal.
        assert!(widest(&wide) > 100, "{args:?}: {}", widest(&wide));
        for columns in ["100", "72"] {
            let out = run(dir.path(), args, &[("COLUMNS", columns)]);
            assert!(out.status.success(), "{}", stderr(&out));
            let limit: usize = columns.parse().unwrap();
            assert!(
                widest(&out) <= limit,
                "{args:?} at {columns} columns: {}\n{}",
                widest(&out),
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
    // Wrapped at whole words: every agency name is still there, in words.
    let out = run(
        dir.path(),
        &["--now", "2018-07-12T09:00:00+07:00", "status"],
        &[("COLUMNS", "100")],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Sở Y tế"), "{text}");
    assert!(text.contains("Công văn 742/SKHĐT-THQH"), "{text}");
}

#[test]
fn logs_take_the_shape_their_reader_needs() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let args = ["--now", "2018-07-16T09:00:00+07:00", "run", "--once"];
    let json = run(
        dir.path(),
        &[&["--log-format", "json"][..], &args[..]].concat(),
        &[("RUST_LOG", "info")],
    );
    assert!(json.status.success(), "{}", stderr(&json));
    let lines: Vec<&str> = std::str::from_utf8(&json.stderr)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .collect();
    assert!(!lines.is_empty(), "{}", stderr(&json));
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v["level"].is_string() && v["message"].is_string(), "{l}");
    }
    // Under systemd, stderr is the journal's stream: lines carry syslog priorities.
    let journal = run(
        dir.path(),
        &[
            "--log-format",
            "journal",
            "--now",
            "2018-07-17T09:00:00+07:00",
            "run",
            "--once",
        ],
        &[("RUST_LOG", "info")],
    );
    let err = stderr(&journal);
    let logged: Vec<&str> = err.lines().filter(|l| l.starts_with('<')).collect();
    assert!(!logged.is_empty(), "{err}");
    assert!(
        logged
            .iter()
            .all(|l| l.starts_with("<6>") || l.starts_with("<4>") || l.starts_with("<3>")),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "{err}");
}

#[test]
fn a_daemon_whose_output_was_closed_still_stops_when_told() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let config = common::shipped_config(dir.path(), common::board_on_free_port);
    let mut child = Command::new(common::bin())
        .args(["--config", config.to_str().unwrap(), "run"])
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read until it runs, then close both pipes: every later log line fails to be written.
    std::thread::sleep(Duration::from_secs(2));
    drop(child.stdout.take());
    drop(child.stderr.take());
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the daemon died of a closed pipe"
    );
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("the daemon did not stop on SIGTERM with its output closed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn board_passwords_are_asked_twice_without_echo() {
    let dir = tempfile::tempdir().unwrap();
    // `script` gives the command a terminal; what is typed goes through it.
    let typed = |input: &str| {
        let mut child = Command::new("script")
            .args([
                "-qec",
                &format!("{} board-account hoa", common::bin().display()),
                "/dev/null",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script(1) from util-linux is needed: apt-get install util-linux");
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for line in input.lines() {
            std::thread::sleep(Duration::from_millis(700));
            stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        }
        std::thread::sleep(Duration::from_millis(700));
        drop(stdin);
        child.wait_with_output().unwrap()
    };
    let out = typed("mat-khau-dai-1\nmat-khau-dai-1");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Mật khẩu mới"), "{text}");
    assert!(text.contains("Nhập lại mật khẩu"), "{text}");
    assert!(text.contains("hoa:$argon2"), "{text}");
    assert!(
        !text.contains("mat-khau-dai-1"),
        "the password was echoed: {text}"
    );

    let out = typed("mat-khau-dai-1\nmat-khau-khac-2");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("differ"), "{text}");
    assert!(!text.contains("hoa:$argon2"), "{text}");

    // From a pipe (a script), one line is the password.
    let mut child = Command::new(common::bin())
        .args(["board-account", "hoa"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"mat-khau-dai-1\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("hoa:$argon2"));
}
