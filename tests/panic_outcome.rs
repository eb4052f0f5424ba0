//! A panic is an outcome: a fault injected (debug builds only, `INTAKE_PANIC_ON`) into
//! examining or recording one of three messages makes that message unreadable with the panic
//! as its reason, while the other two are filed by the same `intake run --once`, which ends as
//! a normal pass does; the message is kept in the store and not examined again. A panic in the
//! daemon's worker outside any item is logged and ends `intake run` with a failure exit code,
//! for the service manager to start it again.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The fixtures delivered: two that are filed, and the one whose subject the fault names.
const FILED: [&str; 2] = [
    "01-so-y-te-pl1-outlook.eml",
    "02-so-tai-chinh-pl2-gmail-rfc2047.eml",
];
const FAULTY: &str = "04-ubnd-huu-lung-pl1-zip.eml";
/// Text of the faulty message's subject.
const MARK: &str = "Huu Lung";

fn deliver(dir: &Path) {
    let config = common::config(dir);
    let maildir =
        intake::source::maildir::Maildir::open(&config.mailbox.path, config.mailbox.on_filed)
            .unwrap();
    for (i, name) in FILED.iter().chain([&FAULTY]).enumerate() {
        let raw = std::fs::read(common::fixtures_dir().join(name)).unwrap();
        maildir
            .deliver(&format!("{}.panic{i}.test", 1_530_000_000 + i), &raw)
            .unwrap();
    }
}

fn run_once(dir: &Path, fault: Option<&str>) -> Output {
    let mut cmd = Command::new(common::bin());
    cmd.args(["--now", "2018-07-12T09:00:00+07:00", "run", "--once"])
        .current_dir(dir)
        .env_remove("INTAKE_CONFIG")
        .env_remove("INTAKE_PANIC_ON")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    if let Some(f) = fault {
        cmd.env("INTAKE_PANIC_ON", f);
    }
    cmd.output().unwrap()
}

fn log(dir: &Path) -> Vec<Value> {
    serde_json::from_str(&common::intake_ok(dir, &["log", "--json"])).unwrap()
}

fn message_id(name: &str) -> String {
    let raw = std::fs::read_to_string(common::fixtures_dir().join(name)).unwrap();
    let line = raw
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
        .unwrap();
    line["message-id:".len()..]
        .trim()
        .trim_matches(['<', '>'])
        .to_string()
}

/// Runs the three messages with `fault` and checks every promise; `stage` is the staff's
/// word for where it failed, `place` the source file the panic is reported in.
fn one_panics(fault: &str, stage: &str, place: &str) {
    let dir = tempfile::tempdir().unwrap();
    deliver(dir.path());
    let out = run_once(dir.path(), Some(fault));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a pass with a panicking item ends as a normal pass: {:?}\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains("panicked; recorded as unreadable")
            && stderr.contains("injected fault")
            && stderr.contains(place),
        "the panic is logged with its message and location:\n{stderr}"
    );
    assert!(
        stderr.contains("Đã xử lý 3 thư/tệp"),
        "all three taken in one pass:\n{stderr}"
    );

    let events = log(dir.path());
    let filed: Vec<&str> = events
        .iter()
        .filter(|e| e["kind"] == "filed")
        .filter_map(|e| e["agency"].as_str())
        .collect();
    assert_eq!(
        filed.len(),
        2,
        "the two other messages are filed: {events:#?}"
    );
    assert!(filed.contains(&"so-y-te") && filed.contains(&"so-tai-chinh"));
    let faulty_id = message_id(FAULTY);
    let unreadable: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "unreadable")
        .collect();
    assert_eq!(unreadable.len(), 1, "{events:#?}");
    let e = unreadable[0];
    assert_eq!(e["message_id"], faulty_id.as_str(), "{e:#}");
    let detail = e["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("lỗi nội bộ khi {stage}"))
            && detail.contains("injected fault")
            && detail.contains(place),
        "staff read the internal error in the log: {detail}"
    );
    let table = common::intake_ok(dir.path(), &["log"]);
    assert!(table.contains("lỗi nội bộ"), "{table}");

    // Not lost: the original message is in the store, and still in the mailbox (whose it is
    // is unknown, so it is not moved).
    let raw = std::fs::read(common::fixtures_dir().join(FAULTY)).unwrap();
    let sha = intake::core::pipeline::sha256_hex(&raw);
    let object = dir
        .path()
        .join("var/store/objects")
        .join(&sha[..2])
        .join(&sha[2..]);
    assert_eq!(
        std::fs::read(&object).ok().as_deref(),
        Some(&raw[..]),
        "the raw message is kept in the store as {}",
        object.display()
    );
    let new = common::tree(&dir.path().join("var/maildir/new"));
    assert_eq!(new.len(), 1, "{new:?}");
    // Nothing half-recorded: no file of the faulty message is filed.
    let filed_tree = common::tree(&dir.path().join("var/store"));
    assert!(
        !filed_tree.iter().any(|p| p.contains("ubnd-huu-lung")),
        "{filed_tree:?}"
    );

    // Not examined again, with or without the fault.
    for fault in [Some(fault), None] {
        let again = run_once(dir.path(), fault);
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert!(again.status.success(), "{stderr}");
        assert!(stderr.contains("Đã xử lý 0 thư/tệp"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert_eq!(log(dir.path()).len(), events.len(), "no new event");
}

#[test]
fn a_panic_examining_one_message_makes_it_unreadable_and_the_pass_goes_on() {
    one_panics(
        &format!("examine:{MARK}"),
        "xem xét",
        "src/core/pipeline/examine.rs",
    );
}

#[test]
fn a_panic_recording_one_message_rolls_it_back_and_records_it_unreadable() {
    one_panics(&format!("record:{MARK}"), "ghi nhận", "src/ingest.rs");
}

#[test]
fn a_panic_in_the_worker_outside_any_item_ends_the_daemon_with_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    deliver(dir.path());
    let mut daemon = Command::new(common::bin())
        .args(["--now", "2018-07-12T09:00:00+07:00", "run"])
        .current_dir(dir.path())
        .env_remove("INTAKE_CONFIG")
        .env("INTAKE_PANIC_ON", "worker:pass")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = daemon.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            daemon.kill().unwrap();
            panic!("the daemon is still running a minute after its worker panicked");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut daemon.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "a failure exit code, for the service manager to restart intake:\n{stderr}"
    );
    assert!(
        stderr.contains("component panicked")
            && stderr.contains("ingest worker")
            && stderr.contains("src/daemon/mod.rs"),
        "the panic is logged with where it happened:\n{stderr}"
    );
    // Nothing was taken, so the next start takes all three.
    let out = run_once(dir.path(), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Đã xử lý 3 thư/tệp"), "{stderr}");
}
