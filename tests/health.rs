//! While the store or a source keeps failing, staff are told what is wrong since when: in
//! `intake status` (table and JSON), on the board's front page and in the digest; the failure
//! clears itself once the part works again. `run --once` exits 1 when a source could not be
//! read, so a timer or a script sees the failure too.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(common::bin())
        .args(args)
        .current_dir(dir)
        .env_remove("INTAKE_CONFIG")
        .env_remove("COLUMNS")
        .output()
        .unwrap()
}

fn problems(dir: &Path, config: &[&str]) -> Vec<serde_json::Value> {
    let out = run(dir, &[config, &["status", "--json"]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["problems"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_source_that_cannot_be_read_is_reported_until_it_can() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["demo", "--once"]);
    assert!(out.status.success());
    // The drop folder is gone and a file stands in its place (a share unmounted badly).
    let drop = dir.path().join("var/drop");
    std::fs::rename(&drop, dir.path().join("drop-away")).unwrap();
    std::fs::write(&drop, b"not a folder").unwrap();

    // The next day's pass, when the digest is due: exit 1, with the cause.
    let out = run(
        dir.path(),
        &["--now", "2018-07-13T08:00:00+07:00", "run", "--once"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the drop could not be read"), "{stderr}");

    let p = problems(dir.path(), &[]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0]["part"], "drop");
    let since = p[0]["since"].as_str().unwrap().to_string();
    let at = chrono::DateTime::parse_from_rfc3339(&since).unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2018-07-13T08:00:00+07:00").unwrap();
    assert!(
        at >= start && at < start + chrono::TimeDelta::minutes(1),
        "{since}"
    );
    let table = run(
        dir.path(),
        &["--now", "2018-07-13T08:05:00+07:00", "status"],
    );
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("CẢNH BÁO: Thư mục nộp tệp KHÔNG ĐỌC ĐƯỢC từ 08:00 ngày 13/07/2018"),
        "{text}"
    );
    // The digest queued in that pass says it to staff.
    let digest = std::fs::read_dir(dir.path().join("var/outbox"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("digest"))
        .map(|p| decoded(&p))
        .find(|t| t.contains("13/07/2018"))
        .expect("a digest for 13/07");
    assert!(digest.contains("CẢNH BÁO"), "{digest}");
    assert!(
        digest.contains("Thư mục nộp tệp KHÔNG ĐỌC ĐƯỢC"),
        "{digest}"
    );

    // A second failing pass keeps "since" and counts.
    let out = run(
        dir.path(),
        &["--now", "2018-07-13T08:10:00+07:00", "run", "--once"],
    );
    assert_eq!(out.status.code(), Some(1));
    let p = problems(dir.path(), &[]);
    assert_eq!(p[0]["since"].as_str(), Some(since.as_str()));
    assert_eq!(p[0]["count"], 2);

    // Mended: the pass succeeds and the warning is gone.
    std::fs::remove_file(&drop).unwrap();
    std::fs::rename(dir.path().join("drop-away"), &drop).unwrap();
    let out = run(
        dir.path(),
        &["--now", "2018-07-13T08:20:00+07:00", "run", "--once"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(problems(dir.path(), &[]).is_empty());
    let table = run(dir.path(), &["status"]);
    assert!(!String::from_utf8_lossy(&table.stdout).contains("CẢNH BÁO"));
}

#[test]
fn a_locked_index_is_shown_on_status_and_the_board_until_it_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["demo", "--once"]);
    assert!(out.status.success());
    let config = common::shipped_config(dir.path(), common::board_on_free_port);
    let cfg = ["--config", config.to_str().unwrap()];
    let mut daemon = Command::new(common::bin())
        .args([&cfg[..], &["--now", "2018-07-12T10:00:00+07:00", "run"]].concat())
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = BufReader::new(daemon.stdout.take().unwrap());
    let board = loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the daemon ended");
        if let Some(at) = line.split("http://").nth(1) {
            break at.split('/').next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));

    // Another program holds the index's write lock; a file arrives and a pass must write.
    let index = rusqlite::Connection::open(dir.path().join("var/store/intake.sqlite")).unwrap();
    index.execute_batch("BEGIN IMMEDIATE").unwrap();
    let agency = dir.path().join("var/drop/so-y-te");
    std::fs::create_dir_all(&agency).unwrap();
    std::fs::copy(
        common::fixtures_dir().join("workbooks/23-PL3_SoYTe.xlsx"),
        agency.join("PL3.xlsx"),
    )
    .unwrap();
    let p = common::eventually("the warning", Duration::from_secs(60), || {
        let p = problems(dir.path(), &cfg);
        (!p.is_empty()).then_some(p)
    });
    assert_eq!(p[0]["part"], "store", "{p:?}");
    assert!(
        p[0]["error"]
            .as_str()
            .unwrap()
            .contains("database is locked"),
        "{p:?}"
    );
    let page = common::http_get(&board, "/");
    assert!(page.contains("Kho lưu KHÔNG GHI ĐƯỢC"), "{page}");
    assert!(
        page.contains("chỉ mục đang bị một chương trình khác khoá"),
        "{page}"
    );
    let table = run(dir.path(), &[&cfg[..], &["status"]].concat());
    assert!(
        String::from_utf8_lossy(&table.stdout).contains("CẢNH BÁO: Kho lưu KHÔNG GHI ĐƯỢC"),
        "{}",
        String::from_utf8_lossy(&table.stdout)
    );

    // Released: the next pass files the workbook and the warning goes.
    index.execute_batch("ROLLBACK").unwrap();
    drop(index);
    common::eventually("the warning cleared", Duration::from_secs(90), || {
        problems(dir.path(), &cfg).is_empty().then_some(())
    });
    assert!(!common::http_get(&board, "/").contains("KHÔNG GHI ĐƯỢC"));
    unsafe {
        libc::kill(daemon.id() as i32, libc::SIGTERM);
    }
    let _ = daemon.wait();
}

/// A mail file's text with its quoted-printable or base64 body decoded.
fn decoded(path: &Path) -> String {
    let raw = std::fs::read(path).unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    m.body_text(0).map(|t| t.into_owned()).unwrap_or_default()
}
