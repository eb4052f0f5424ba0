//! Staff act from the command line while the service runs, as they do on the board: assign a
//! waiting message, extend a deadline, exempt an agency. The command writes beside the daemon
//! (SQLite orders the writes) instead of refusing because the daemon holds the store; mail it
//! queues is left to the daemon's mail sender, and the daemon goes on taking in beside it.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[test]
fn staff_commands_work_while_the_daemon_runs_and_it_goes_on_taking_in() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::intake(dir.path(), &["demo", "--once"]);
    assert!(out.status.success());
    let cfg = common::shipped_config(dir.path(), common::board_on_free_port);
    let c = ["--config", cfg.to_str().unwrap()];
    let log: Vec<Value> = serde_json::from_str(&common::intake_ok(
        dir.path(),
        &[&c[..], &["log", "--json", "--limit", "1000"]].concat(),
    ))
    .unwrap();
    let probable = log
        .iter()
        .find(|e| e["kind"] == "probable-agency")
        .expect("a probable message in the fixtures");
    let receipt = format!("BN-{:06}", probable["message"].as_i64().unwrap());
    let guess = probable["detail"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .nth(3)
        .unwrap()
        .to_string();

    let mut daemon = Command::new(common::bin())
        .args([&c[..], &["--now", "2018-07-12T10:00:00+07:00", "run"]].concat())
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(daemon.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "the daemon ended");
        if line.contains("http://") {
            break;
        }
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));

    let now = ["--now", "2018-07-12T10:00:00+07:00"];
    let assigned = common::intake_ok(
        dir.path(),
        &[
            &c[..],
            &now[..],
            &["assign", &receipt, &guess, "--by", "Nguyễn Văn A"],
        ]
        .concat(),
    );
    assert!(assigned.contains("Đã gán thư"), "{assigned}");
    assert!(assigned.contains("dịch vụ intake đang chạy"), "{assigned}");
    let extended = common::intake_ok(
        dir.path(),
        &[
            &c[..],
            &now[..],
            &[
                "extend",
                "--agency",
                "so-tu-phap",
                "--until",
                "2018-07-20T00:00:00+07:00",
            ],
        ]
        .concat(),
    );
    assert!(extended.contains("Đã gia hạn"), "{extended}");
    let exempted = common::intake_ok(
        dir.path(),
        &[
            &c[..],
            &now[..],
            &["exempt", "--agency", "so-noi-vu", "--deliverable", "pl3"],
        ]
        .concat(),
    );
    assert!(exempted.contains("Đã miễn nộp"), "{exempted}");

    // The daemon goes on writing beside them: a file dropped now is filed.
    let agency = dir.path().join("var/drop/so-y-te");
    std::fs::create_dir_all(&agency).unwrap();
    std::fs::copy(
        common::fixtures_dir().join("workbooks/23-PL3_SoYTe.xlsx"),
        agency.join("PL3-moi.xlsx"),
    )
    .unwrap();
    let start = Instant::now();
    loop {
        let log: Vec<Value> = serde_json::from_str(&common::intake_ok(
            dir.path(),
            &[&c[..], &["log", "--json", "--limit", "20"]].concat(),
        ))
        .unwrap();
        if log
            .iter()
            .any(|e| e["source"] == "drop" && e["agency"] == "so-y-te")
        {
            assert!(log.iter().any(|e| e["kind"] == "assigned"), "{log:?}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the daemon did not file the dropped workbook"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let status: Value = serde_json::from_str(&common::intake_ok(
        dir.path(),
        &[&c[..], &now[..], &["status", "--json"]].concat(),
    ))
    .unwrap();
    let row = status["campaigns"][0]["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "so-noi-vu")
        .unwrap()
        .clone();
    assert!(row.to_string().contains("exempt"), "{row}");
    assert!(daemon.try_wait().unwrap().is_none(), "the daemon stopped");
    unsafe {
        libc::kill(daemon.id() as i32, libc::SIGTERM);
    }
    assert!(daemon.wait().unwrap().success());
}
